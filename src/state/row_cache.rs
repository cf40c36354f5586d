//! What `update::rows` keeps between two rebuilds of a table's rows, so a keystroke on 100,000
//! rows costs a scan of ready strings, not a rebuild: every item's cells lowercased once per
//! change of the rows, the sorted order once per change and sort, and the last filter's rows
//! (typing one more letter only narrows them). Rows that change start afresh (an identical
//! answer does not); leaving the view drops it all.

use std::sync::Arc;

use super::view::SortSpec;

/// Every item's cells, lowercased, in one buffer: what the filter matches and what text columns
/// sort by. Cells are separated by a newline, which no typed filter contains, so a match never
/// spans two cells.
#[derive(Debug, Default)]
pub struct RowKeys {
    text: String,
    /// Where each cell ends in `text`, row by row (`columns` to a row).
    ends: Vec<u32>,
    columns: usize,
    /// The numbers the numeric columns (metrics, ages, revisions) sort by, row by row
    /// (`numbers` to a row): a sort on them reads no row again.
    nums: Vec<f64>,
    numbers: usize,
}

impl RowKeys {
    /// `numbers`: how many of the `columns` also sort by a number.
    pub fn with_capacity(columns: usize, numbers: usize, rows: usize) -> Self {
        RowKeys {
            // About a dozen bytes a cell: one allocation for the whole table, mostly.
            text: String::with_capacity(rows * columns * 12),
            ends: Vec::with_capacity(rows * columns),
            columns: columns.max(1),
            nums: Vec::with_capacity(rows * numbers),
            numbers,
        }
    }

    /// The number a row's `slot`th numeric column sorts by.
    pub fn number(&self, row: usize, slot: usize) -> f64 {
        self.nums[row * self.numbers + slot]
    }

    pub fn numbers(&self) -> usize {
        self.numbers
    }

    /// Appends the number the current row's next numeric column sorts by, if it is one.
    pub fn push_number(&mut self, n: Option<f64>) {
        self.nums.extend(n);
    }

    /// Appends the next cell, already lowercased (copied from other cells).
    pub fn push_lowered(&mut self, cell: &str) {
        if !self.ends.is_empty() {
            self.text.push('\n');
        }
        self.text.push_str(cell);
        self.ends.push(self.text.len() as u32);
    }

    /// Appends the next cell (rows are filled in order, `columns` cells each).
    pub fn push_cell(&mut self, cell: &str) {
        if cell.is_ascii() {
            self.push_lowered(cell);
            let from = self.text.len() - cell.len();
            self.text[from..].make_ascii_lowercase();
        } else {
            self.push_lowered(&cell.to_lowercase());
        }
    }

    pub fn rows(&self) -> usize {
        self.ends.len() / self.columns
    }

    fn start(&self, cell: usize) -> usize {
        match cell {
            0 => 0,
            // Past the previous cell's end and its separator.
            n => self.ends[n - 1] as usize + 1,
        }
    }

    /// Appends rows made before (already lowercased, same columns), in one copy: the rows of an
    /// answer where a few of 100,000 changed are mostly runs the previous answer held in the
    /// same order.
    pub fn push_rows_of(&mut self, other: &RowKeys, rows: std::ops::Range<usize>) {
        if rows.is_empty() {
            return;
        }
        self.push_cells_in(other, rows.start * other.columns..rows.end * other.columns);
        self.nums
            .extend_from_slice(&other.nums[rows.start * other.numbers..rows.end * other.numbers]);
    }

    /// Appends cells `columns` of `other`'s `row` (already lowercased, same columns) in one
    /// copy, not the numbers they sort by: a row whose other cells are read again.
    pub fn push_cells_of(&mut self, other: &RowKeys, row: usize, columns: std::ops::Range<usize>) {
        let first = row * other.columns;
        self.push_cells_in(other, first + columns.start..first + columns.end);
    }

    /// Appends `other`'s cells numbered `cells` (row by row, `columns` to a row) in one copy.
    fn push_cells_in(&mut self, other: &RowKeys, cells: std::ops::Range<usize>) {
        if cells.is_empty() {
            return;
        }
        let (first, last) = (cells.start, cells.end - 1);
        let from = other.start(first);
        if !self.ends.is_empty() {
            self.text.push('\n');
        }
        let base = self.text.len();
        self.text
            .push_str(&other.text[from..other.ends[last] as usize]);
        // `other`'s ends are offsets into its text; here they follow `base`.
        self.ends.extend(
            other.ends[first..=last]
                .iter()
                .map(|&end| (end as usize - from + base) as u32),
        );
    }

    /// Appends the rows of `other` (same columns), made apart: a table's cells are read in
    /// parts on several threads.
    pub fn append(&mut self, other: RowKeys) {
        if other.ends.is_empty() {
            return;
        }
        if self.ends.is_empty() && self.text.capacity() < other.text.len() {
            *self = other;
            return;
        }
        self.nums.extend_from_slice(&other.nums);
        // Into the room made for the whole table, when there is: a table read a slice a turn
        // is not copied whole each time its buffer doubles.
        if !self.ends.is_empty() {
            self.text.push('\n');
        }
        let shift = self.text.len() as u32;
        self.text.push_str(&other.text);
        self.ends.extend(other.ends.iter().map(|end| end + shift));
    }

    pub fn columns(&self) -> usize {
        self.columns
    }

    /// One cell, lowercased.
    pub fn cell(&self, row: usize, column: usize) -> &str {
        let n = row * self.columns + column;
        &self.text[self.start(n)..self.ends[n] as usize]
    }

    /// All the cells of a row, lowercased, newline-separated.
    pub fn row(&self, row: usize) -> &str {
        let first = row * self.columns;
        &self.text[self.start(first)..self.ends[first + self.columns - 1] as usize]
    }

    /// Heap bytes held (for the memory benchmark).
    pub fn bytes(&self) -> usize {
        self.text.capacity() + self.ends.capacity() * 4 + self.nums.capacity() * 8
    }
}

/// The last filter's rows: a filter that contains it matches a subset of them.
#[derive(Debug, Clone)]
pub struct Narrowed {
    /// Lowercased; never inverted (an inverted filter that grows matches more, not less).
    pub needle: String,
    pub sort: SortSpec,
    pub rows: Arc<Vec<usize>>,
}

#[derive(Debug, Default)]
pub struct RowCache {
    /// The rows (the slot's data version) everything below was built from.
    pub answer: Option<u64>,
    pub keys: Option<Arc<RowKeys>>,
    /// The rows' prints (the answer's [`crate::model::Fingerprint`]) `keys` was made from.
    pub prints: Option<Arc<Vec<u64>>>,
    /// The previous rows' cells and prints, until this answer's cells are made: a row whose
    /// print is unchanged keeps its cells (100,000 rows of which a few changed cost a copy,
    /// not 100,000 rows of cells made again).
    pub previous: Option<(Arc<RowKeys>, Arc<Vec<u64>>)>,
    /// Which of `previous`'s cells a row copied from it reads again.
    pub stale: Stale,
    /// When the oldest cells in `keys` were read: ages and metric values in them go stale,
    /// so after [`CELLS_FRESH_FOR`] those are read again even if no row changed.
    pub made_at: Option<crate::model::Time>,
    /// The findings' badges (`Triage::badges`) the cells were read with.
    pub badges: u64,
    /// Every item, in the order of this sort.
    pub order: Option<(SortSpec, Arc<Vec<usize>>)>,
    pub narrowed: Option<Narrowed>,
    /// The cells read so far of a big table's rows, ahead of a filter or sort (a slice a
    /// turn): they become `keys` once every row's are read.
    pub reading: Option<Reading>,
}

/// Which of the previous rows' cells are out of date: a row copied from them reads those
/// columns again and copies the rest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stale {
    /// None: they are as a read now makes them.
    #[default]
    Nothing,
    /// The findings' badges moved: the badges' columns (`Column::findings`).
    Findings,
    /// They are [`CELLS_FRESH_FOR`] old: every column whose text moves with time alone (ages,
    /// metric values, alarms, badges: `Column::moves`).
    Moving,
}

impl Stale {
    /// Whether a column of the badges (`findings`) or one that moves with time (`moves`) is
    /// read again.
    pub fn rereads(self, findings: bool, moves: bool) -> bool {
        match self {
            Stale::Nothing => false,
            Stale::Findings => findings,
            Stale::Moving => findings || moves,
        }
    }
}

/// Cells being read, in row order: the first rows of what becomes [`RowCache::keys`].
#[derive(Debug)]
pub struct Reading {
    pub keys: RowKeys,
    /// Each previous row's print and row: a row whose print is among them copies its cells.
    pub before: crate::model::hash::FastMap<u64, usize>,
    /// Whether `previous` is read from (its cells are as old as they were).
    pub copies: bool,
}

/// A copy of a view reads its cells again if it needs them: a reading under way is not
/// copied (megabytes of cells half made).
impl Clone for RowCache {
    fn clone(&self) -> Self {
        RowCache {
            answer: self.answer,
            keys: self.keys.clone(),
            prints: self.prints.clone(),
            previous: self.previous.clone(),
            stale: self.stale,
            made_at: self.made_at,
            badges: self.badges,
            order: self.order.clone(),
            narrowed: self.narrowed.clone(),
            reading: None,
        }
    }
}

/// How long a row's cells are used for filtering and sorting without being read again
/// (ages and metric values are shown to the minute).
pub const CELLS_FRESH_FOR: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

impl RowCache {
    /// Makes the cells again once they are older than [`CELLS_FRESH_FOR`], with the columns
    /// that move with time alone read again and the rest copied (a row's name or state is what
    /// it was while its print is). When the findings' badges moved (a row's TRIAGE cell would
    /// filter and sort by a finding no longer there), the same with the badges read again.
    pub fn expire(&mut self, now: crate::model::Time, badges: u64) {
        let stale = if self.made_at.is_some_and(|at| now - at >= CELLS_FRESH_FOR) {
            Stale::Moving
        } else if self.badges != badges {
            Stale::Findings
        } else {
            return;
        };
        self.hand_on(self.answer);
        self.badges = badges;
        self.stale = self.stale.max(stale);
        if stale == Stale::Moving {
            // What moves is read now; what is copied does not age.
            self.made_at = None;
        }
    }

    /// Starts afresh unless it was built from this answer.
    pub fn for_answer(&mut self, answer: Option<u64>) {
        if answer.is_none() || self.answer != answer {
            self.hand_on(answer);
        }
    }

    /// Starts afresh for `answer`, the cells made (or those they were to be made from) kept as
    /// the previous rows'.
    fn hand_on(&mut self, answer: Option<u64>) {
        let (previous, stale) = match (self.keys.take(), self.prints.take()) {
            // Made whole, with the badges of now.
            (Some(keys), Some(prints)) => (Some((keys, prints)), Stale::Nothing),
            _ => (self.previous.take(), self.stale),
        };
        // The kept cells stay as old as they were.
        let made_at = previous.as_ref().and(self.made_at);
        *self = RowCache {
            answer,
            previous,
            stale,
            made_at,
            badges: self.badges,
            ..RowCache::default()
        };
    }
}

/// A cache is no part of what a view shows: two views are equal whatever their caches hold.
impl PartialEq for RowCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_older_than_a_minute_are_made_again_reading_what_moves() {
        use chrono::TimeZone;
        let at = chrono::Utc.timestamp_opt(1_000, 0).unwrap();
        let mut cache = RowCache {
            answer: Some(7),
            keys: Some(Arc::new(RowKeys::with_capacity(1, 0, 0))),
            prints: Some(Arc::new(Vec::new())),
            made_at: Some(at),
            ..RowCache::default()
        };
        cache.expire(at + chrono::TimeDelta::seconds(59), 0);
        assert!(cache.keys.is_some(), "still fresh");
        cache.expire(at + CELLS_FRESH_FOR, 0);
        assert!(cache.keys.is_none() && cache.made_at.is_none());
        assert!(cache.previous.is_some(), "copied from");
        assert_eq!(cache.stale, Stale::Moving);
        assert!(Stale::Moving.rereads(false, true) && Stale::Moving.rereads(true, true));
        assert!(!Stale::Moving.rereads(false, false), "a name is copied");
        assert!(Stale::Findings.rereads(true, true) && !Stale::Findings.rereads(false, true));
        assert!(!Stale::Nothing.rereads(true, true));
    }

    #[test]
    fn cells_are_handed_on_with_stale_badges_when_the_badges_move_and_dropped_when_old() {
        use chrono::TimeZone;
        let at = chrono::Utc.timestamp_opt(1_000, 0).unwrap();
        let mut cache = RowCache {
            answer: Some(7),
            keys: Some(Arc::new(RowKeys::with_capacity(1, 0, 0))),
            prints: Some(Arc::new(Vec::new())),
            made_at: Some(at),
            badges: 1,
            ..RowCache::default()
        };
        cache.expire(at, 1);
        assert!(cache.keys.is_some(), "the same badges");
        cache.expire(at, 2);
        assert!(cache.keys.is_none() && cache.previous.is_some());
        assert_eq!(cache.stale, Stale::Findings, "copies read the badges again");
        assert_eq!(
            (cache.answer, cache.badges, cache.made_at),
            (Some(7), 2, Some(at))
        );
        // Cells read whole since carry the badges of then.
        cache.keys = Some(Arc::new(RowKeys::with_capacity(1, 0, 0)));
        cache.prints = Some(Arc::new(Vec::new()));
        cache.for_answer(Some(8));
        assert!(cache.previous.is_some() && cache.stale == Stale::Nothing);
        // A minute on, what moves with time is read again too; still copied from the same.
        cache.expire(at + CELLS_FRESH_FOR, 2);
        assert!(cache.previous.is_some() && cache.made_at.is_none());
        assert_eq!(cache.stale, Stale::Moving);
        assert_eq!((cache.answer, cache.badges), (Some(8), 2));
    }

    #[test]
    fn cells_copied_in_pieces_read_as_cells_copied_one_by_one() {
        let mut from = RowKeys::with_capacity(3, 0, 2);
        for cell in ["a", "bb", "", "d", "éé", "f"] {
            from.push_cell(cell);
        }
        let mut pieces = RowKeys::with_capacity(3, 0, 2);
        pieces.push_cells_of(&from, 1, 0..0);
        pieces.push_cells_of(&from, 1, 0..2);
        pieces.push_lowered("new");
        pieces.push_cells_of(&from, 0, 1..3);
        pieces.push_cells_of(&from, 0, 3..3);
        let mut one_by_one = RowKeys::with_capacity(3, 0, 2);
        for cell in ["d", "éé", "new", "bb", ""] {
            one_by_one.push_lowered(cell);
        }
        one_by_one.push_lowered("x");
        pieces.push_lowered("x");
        assert_eq!(pieces.row(0), one_by_one.row(0));
        assert_eq!(pieces.row(1), one_by_one.row(1));
        assert_eq!((pieces.cell(1, 0), pieces.cell(0, 2)), ("bb", "new"));
    }

    #[test]
    fn cells_made_in_parts_read_as_cells_made_in_one() {
        let cells = [["a", "Web"], ["b", ""], ["c", "Ünï"], ["d", "x"]];
        // The second column sorts by a number too: its length.
        let made = |rows: &[[&str; 2]]| {
            let mut keys = RowKeys::with_capacity(2, 1, rows.len());
            for [a, b] in rows {
                keys.push_cell(a);
                keys.push_cell(b);
                keys.push_number(Some(b.len() as f64));
            }
            keys
        };
        let whole = made(&cells);
        for cut in 0..=cells.len() {
            let mut parts = made(&cells[..cut]);
            parts.append(made(&cells[cut..]));
            assert_eq!(
                (parts.text.as_str(), &parts.ends),
                (whole.text.as_str(), &whole.ends),
                "cut at {cut}"
            );
            assert_eq!(parts.rows(), 4);
            assert_eq!((parts.cell(1, 1), parts.row(2)), ("", "c\nünï"));
            assert_eq!(parts.nums, [3.0, 0.0, 5.0, 1.0], "cut at {cut}");
            assert_eq!(parts.number(2, 0), 5.0);
        }
    }

    #[test]
    fn a_changed_answer_hands_the_cells_on_for_rows_that_did_not_change() {
        let mut keys = RowKeys::with_capacity(2, 1, 1);
        keys.push_cell("Web");
        keys.push_cell("RUNNING");
        keys.push_number(Some(7.0));
        let mut cache = RowCache {
            answer: Some(1),
            keys: Some(Arc::new(keys)),
            prints: Some(Arc::new(vec![42])),
            ..RowCache::default()
        };
        cache.for_answer(Some(2));
        let (old, prints) = cache.previous.as_ref().expect("handed on");
        assert_eq!((old.row(0), prints.as_slice()), ("web\nrunning", &[42][..]));
        let mut copied = RowKeys::with_capacity(2, 1, 1);
        copied.push_rows_of(old, 0..1);
        assert_eq!(copied.row(0), "web\nrunning");
        assert_eq!(copied.number(0, 0), 7.0);
        assert!(
            cache.keys.is_none(),
            "this answer's cells are still to be made"
        );
    }

    #[test]
    fn a_run_of_rows_copied_at_once_reads_as_the_rows_read_one_by_one() {
        let mut old = RowKeys::with_capacity(2, 1, 3);
        for (name, n) in [("a", 1.0), ("Bb", 2.0), ("ccc", 3.0)] {
            old.push_cell(name);
            old.push_cell("RUNNING");
            old.push_number(Some(n));
        }
        let mut keys = RowKeys::with_capacity(2, 1, 4);
        keys.push_cell("new");
        keys.push_cell("");
        keys.push_number(Some(0.0));
        keys.push_rows_of(&old, 1..3);
        keys.push_rows_of(&old, 0..0);
        keys.push_rows_of(&old, 0..1);
        let rows: Vec<&str> = (0..keys.rows()).map(|r| keys.row(r)).collect();
        assert_eq!(rows, ["new\n", "bb\nrunning", "ccc\nrunning", "a\nrunning"]);
        assert_eq!((keys.cell(2, 0), keys.cell(0, 1)), ("ccc", ""));
        let numbers: Vec<f64> = (0..4).map(|r| keys.number(r, 0)).collect();
        assert_eq!(numbers, [0.0, 2.0, 3.0, 1.0]);
    }

    #[test]
    fn cells_and_rows_read_back_lowercased() {
        let mut keys = RowKeys::with_capacity(2, 0, 2);
        for cell in ["Cart-API", "RUNNING", "", "Ärger"] {
            keys.push_cell(cell);
        }
        assert_eq!(keys.rows(), 2);
        assert_eq!(keys.cell(0, 0), "cart-api");
        assert_eq!(keys.cell(0, 1), "running");
        assert_eq!(keys.cell(1, 0), "");
        assert_eq!(keys.cell(1, 1), "ärger");
        assert_eq!(keys.row(0), "cart-api\nrunning");
        assert_eq!(keys.row(1), "\närger");
    }
}
