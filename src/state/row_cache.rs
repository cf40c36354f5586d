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
}

impl RowKeys {
    pub fn with_capacity(columns: usize, rows: usize) -> Self {
        RowKeys {
            // About a dozen bytes a cell: one allocation for the whole table, mostly.
            text: String::with_capacity(rows * columns * 12),
            ends: Vec::with_capacity(rows * columns),
            columns: columns.max(1),
        }
    }

    /// Appends the next cell (rows are filled in order, `columns` cells each).
    pub fn push_cell(&mut self, cell: &str) {
        if !self.ends.is_empty() {
            self.text.push('\n');
        }
        if cell.is_ascii() {
            let from = self.text.len();
            self.text.push_str(cell);
            self.text[from..].make_ascii_lowercase();
        } else {
            self.text.push_str(&cell.to_lowercase());
        }
        self.ends.push(self.text.len() as u32);
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
        self.text.capacity() + self.ends.capacity() * 4
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

#[derive(Debug, Clone, Default)]
pub struct RowCache {
    /// The rows (the slot's data version) everything below was built from.
    pub answer: Option<u64>,
    pub keys: Option<Arc<RowKeys>>,
    /// Every item, in the order of this sort.
    pub order: Option<(SortSpec, Arc<Vec<usize>>)>,
    pub narrowed: Option<Narrowed>,
}

impl RowCache {
    /// Starts afresh unless it was built from this answer.
    pub fn for_answer(&mut self, answer: Option<u64>) {
        if answer.is_none() || self.answer != answer {
            *self = RowCache {
                answer,
                ..RowCache::default()
            };
        }
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
    fn cells_and_rows_read_back_lowercased() {
        let mut keys = RowKeys::with_capacity(2, 2);
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
