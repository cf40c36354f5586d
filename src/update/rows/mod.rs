//! Derives what each table shows (filtered, sorted indices) from the data and the view.
//! Runs when data arrives or the filter or sort changes, never per frame. What it can reuse
//! while the answer stays the same (the lowercased cells, the sorted order, the last filter's
//! rows) is kept in the view's [`RowCache`], so a keystroke on 100,000 rows is a scan.
//!
//! A row's cells are read once per change of that row: a filter or text sort on ages, badges
//! or metric values sees them as of the row's latest change, or of the last minute (an
//! identical answer keeps them; an answer where a few of 100,000 rows changed remakes those
//! few; a minute on, the cells that move with time alone are read again, the rest copied).

use std::hash::Hasher;
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;

use crate::model::{Task, Time};
use crate::screen::layout;
use crate::screen::panes::{self, Items};
use crate::screen::table::{Column, RowCtx, SortKey, held_by};
use crate::state::{Fleet, Narrowed, Reading, RowCache, RowKeys, SortSpec, Stale, State, View};
use crate::with_table;

mod order;

/// `stopped_window`: how far back a stopped-tasks pane looks.
pub fn refresh(view: &mut View, fleet: &Fleet, ctx: &RowCtx, stopped_window: Duration) {
    let now = ctx.now;
    // The cache holds while the pane's rows stay the same (an identical answer keeps it).
    let answer = fleet.slot(&view.pane.query()).map(|s| s.version);
    view.cache.for_answer(answer);
    let items = panes::items(&view.pane, fleet);
    // A task row's badge reads the findings about tasks alone.
    let badges = match items {
        Items::Tasks(..) => ctx.triage.task_badges(),
        _ => ctx.triage.badges(),
    };
    view.cache.expire(now, badges);
    let prints = row_prints(fleet, view);
    if let Items::Tasks(tasks, true, metrics) = items {
        // Older stops are history the operator asked not to see (config `stopped_tasks_window`).
        let since = TimeDelta::from_std(stopped_window)
            .ok()
            .and_then(|window| now.checked_sub_signed(window))
            .unwrap_or(Time::MIN_UTC);
        let recent = |t: &Task| t.stopped_at.is_none_or(|at| at >= since);
        return rebuild(
            view,
            tasks,
            &panes::tasks::columns(true, metrics),
            panes::tasks::key,
            Prepared { ctx, prints },
            recent,
        );
    }
    with_table!(items, |items, cols, key| rebuild(
        view,
        items,
        &cols,
        key,
        Prepared {
            ctx,
            prints: prints.clone()
        },
        |_| true
    ));
}

/// The rows: every item in the sort's order (kept per answer), then the filter over them — over
/// the last filter's rows when the new one only adds letters to it.
fn rebuild<T: Sync>(
    view: &mut View,
    items: &[T],
    cols: &[Column<T>],
    key: fn(&T) -> &str,
    prepared: Prepared<'_, '_>,
    keep: impl Fn(&T) -> bool,
) {
    let (needle, invert) = parse_filter(&view.filter);
    let sort = view.sort;
    let order = ordered(&mut view.cache, items, cols, &prepared, sort);
    let total = items.iter().filter(|item| keep(item)).count();
    let rows: Vec<usize> = match &needle {
        None => order.iter().copied().filter(|&i| keep(&items[i])).collect(),
        Some(needle) => {
            let keys = row_keys(&mut view.cache, items, cols, &prepared);
            let narrowed = view.cache.narrowed.as_ref().filter(|last| {
                !invert && last.sort == sort && needle.contains(last.needle.as_str())
            });
            let from: &[usize] = narrowed.map_or(&order, |last| &last.rows);
            // The same filter over the same cells (an identical answer): the same matches.
            let same = narrowed.is_some_and(|last| last.needle == *needle);
            from.iter()
                .copied()
                .filter(|&i| keep(&items[i]) && (same || matches(keys.row(i), needle) != invert))
                .collect()
        }
    };
    view.cache.narrowed = match needle {
        Some(needle) if !invert => Some(Narrowed {
            needle,
            sort,
            rows: Arc::new(rows.clone()),
        }),
        _ => None,
    };
    view.total = total;
    view.rows = rows;

    // Keep the operator's row under the cursor when a refresh reorders or removes rows.
    let keep = view
        .selected_key
        .as_deref()
        .and_then(|wanted| view.rows.iter().position(|&i| key(&items[i]) == wanted));
    match keep {
        Some(pos) => view.selected = pos,
        None => view.select(view.selected),
    }
    view.selected_key = view.selected_item().map(|i| key(&items[i]).to_string());
}

/// Every item in the order of `sort` (the source's order without one): kept per answer and sort.
fn ordered<T: Sync>(
    cache: &mut RowCache,
    items: &[T],
    cols: &[Column<T>],
    prepared: &Prepared<'_, '_>,
    sort: SortSpec,
) -> Arc<Vec<usize>> {
    if let Some((spec, order)) = &cache.order
        && *spec == sort
        && order.len() == items.len()
    {
        return Arc::clone(order);
    }
    let mut order: Vec<usize> = (0..items.len()).collect();
    if let Some(c) = sort.column.filter(|&c| c < cols.len()) {
        let col = &cols[c];
        let cells = cache.keys.as_ref().filter(|k| k.rows() == items.len());
        order = match cells {
            // A text column whose lowercased cells a filter already made sorts by them.
            Some(keys) if !col.is_numeric() => {
                order::sorted(items.len(), |i| order::Key::Text(keys.cell(i, c)))
            }
            // A numeric column's numbers were read with the cells.
            Some(keys) => {
                let slot = cols[..c].iter().filter(|c| c.is_numeric()).count();
                order::sorted(items.len(), |i| order::Key::Num(keys.number(i, slot)))
            }
            // Otherwise only this column is read (every cell of 100,000 rows would be a
            // dozen times the work).
            _ => {
                let ctx = prepared.ctx;
                let held = col.held(ctx.metrics);
                let keys: Vec<SortKey> = in_parts(0..items.len(), |rows| {
                    items[rows]
                        .iter()
                        .map(|item| col.sort_key_with(item, ctx, &held))
                        .collect::<Vec<_>>()
                })
                .into_iter()
                .flatten()
                .collect();
                order::sorted(keys.len(), |i| match &keys[i] {
                    SortKey::Num(n) => order::Key::Num(*n),
                    SortKey::Text(t) => order::Key::Text(t),
                })
            }
        };
        if sort.reverse {
            order.reverse();
        }
    }
    let order = Arc::new(order);
    cache.order = Some((sort, Arc::clone(&order)));
    order
}

/// The prints of the rows of the answer a view shows, when it has them (big answers are
/// fingerprinted row by row off the UI loop).
fn row_prints(fleet: &Fleet, view: &View) -> Option<Arc<Vec<u64>>> {
    let slot = fleet.slot(&view.pane.query())?;
    slot.fingerprint.as_ref().map(|f| Arc::clone(&f.rows))
}

/// What a rebuild reads besides the items: the context of their cells, and the answer's row
/// prints when it has them.
struct Prepared<'a, 'c> {
    ctx: &'a RowCtx<'c>,
    prints: Option<Arc<Vec<u64>>>,
}

/// Every item's cells, lowercased: made once per change of the rows, ahead of the operator on
/// big tables ([`read_ahead`]), else on the first filter or text sort — the cells of rows whose
/// print did not change copied from the previous rows'.
fn row_keys<T: Sync>(
    cache: &mut RowCache,
    items: &[T],
    cols: &[Column<T>],
    prepared: &Prepared<'_, '_>,
) -> Arc<RowKeys> {
    read_cells(cache, items, cols, prepared, None).expect("read to the last row")
}

/// Reads the cells of the rows after those read so far: all of them (on the cores, in
/// parts), or as many as `budget` allows ([`READ_COST`], [`COPY_COST`]). The whole table's
/// once the last row's are read.
fn read_cells<T: Sync>(
    cache: &mut RowCache,
    items: &[T],
    cols: &[Column<T>],
    prepared: &Prepared<'_, '_>,
    budget: Option<usize>,
) -> Option<Arc<RowKeys>> {
    if let Some(keys) = cache.keys.as_ref().filter(|k| k.rows() == items.len()) {
        return Some(Arc::clone(keys));
    }
    let prints = prepared.prints.as_ref().filter(|p| p.len() == items.len());
    let columns = cols.len().max(1);
    let numbers = cols.iter().filter(|c| c.is_numeric()).count();
    let previous = cache.previous.as_ref().filter(|(keys, prints)| {
        keys.columns() == columns && keys.numbers() == numbers && keys.rows() == prints.len()
    });
    let mut reading = match cache.reading.take() {
        Some(reading) if reading.keys.rows() <= items.len() => reading,
        _ => Reading {
            keys: RowKeys::with_capacity(cols.len(), numbers, items.len()),
            before: match (previous, prints) {
                (Some((_, old)), Some(_)) => {
                    old.iter().enumerate().map(|(row, &p)| (p, row)).collect()
                }
                _ => Default::default(),
            },
            copies: previous.is_some(),
        },
    };
    // Looked over only when some row is read (a turn that copies rows needs none of it).
    let held = std::sync::OnceLock::new();
    let held = || held.get_or_init(|| held_by(cols, prepared.ctx.metrics));
    // The columns of the previous rows' cells that are out of date (their badges moved, or
    // they are a minute old and ages and values moved): read again, the rest copied.
    let again: Vec<bool> = cols
        .iter()
        .map(|c| cache.stale.rereads(c.findings, c.moves()))
        .collect();
    let stale = again.contains(&true);
    let before = &reading.before;
    // One row's cells read into `keys`.
    let read_row = |keys: &mut RowKeys, i: usize| {
        for (col, held) in cols.iter().zip(held()) {
            let (text, number) = col.cell_with(&items[i], prepared.ctx, held);
            keys.push_cell(&text);
            keys.push_number(number);
        }
    };
    // Rows from `rows.start` into `keys` until `budget` is spent; the row after the last read.
    let read = |keys: &mut RowKeys, rows: std::ops::Range<usize>, mut budget: usize| {
        let mut i = rows.start;
        while i < rows.end {
            if budget == 0 {
                return i;
            }
            let same = prints.zip(previous).and_then(|(p, (old, old_prints))| {
                before.get(&p[i]).map(|&row| (p, old, old_prints, row))
            });
            match same {
                Some((_, old, _, row)) if stale => {
                    // The cells between two read again are copied in one piece.
                    let (mut number, mut copied_from) = (0, 0);
                    for (column, col) in cols.iter().enumerate() {
                        if again[column] {
                            keys.push_cells_of(old, row, copied_from..column);
                            copied_from = column + 1;
                            let (text, n) = col.cell_with(&items[i], prepared.ctx, &held()[column]);
                            keys.push_cell(&text);
                            keys.push_number(n);
                        } else {
                            keys.push_number(col.is_numeric().then(|| old.number(row, number)));
                        }
                        number += usize::from(col.is_numeric());
                    }
                    keys.push_cells_of(old, row, copied_from..cols.len());
                    budget = budget.saturating_sub(REREAD_COST);
                    i += 1;
                }
                Some((p, old, old_prints, row)) => {
                    // With the rows after it that followed it before too: one copy.
                    let most = (rows.end - i).min(budget.div_ceil(COPY_COST));
                    let run = (1..most)
                        .find(|&n| old_prints.get(row + n) != Some(&p[i + n]))
                        .unwrap_or(most);
                    keys.push_rows_of(old, row..row + run);
                    budget = budget.saturating_sub(run * COPY_COST);
                    i += run;
                }
                None => {
                    read_row(keys, i);
                    budget = budget.saturating_sub(READ_COST);
                    i += 1;
                }
            }
        }
        rows.end
    };
    let rest = reading.keys.rows()..items.len();
    match budget {
        Some(budget) => {
            read(&mut reading.keys, rest, budget);
        }
        None => {
            let parts = in_parts(rest, |rows| {
                let mut keys = RowKeys::with_capacity(cols.len(), numbers, rows.len());
                read(&mut keys, rows, usize::MAX);
                keys
            });
            for part in parts {
                reading.keys.append(part);
            }
        }
    }
    if reading.keys.rows() < items.len() {
        cache.reading = Some(reading);
        return None;
    }
    let keys = Arc::new(reading.keys);
    cache.keys = Some(Arc::clone(&keys));
    cache.prints = prints.cloned();
    cache.previous = None;
    cache.stale = Stale::Nothing;
    // Copied cells are as old as the previous rows'.
    if !reading.copies || cache.made_at.is_none() {
        cache.made_at = Some(prepared.ctx.now);
    }
    Some(keys)
}

/// Tables from this many rows have their cells read ahead, a slice a turn, after their rows
/// change: reading 100,000 rows' cells takes longer than a frame, and the operator's first
/// filter letter or sort would wait for it. Below it they are read when first needed.
pub const READ_AHEAD_FROM: usize = 5_000;

/// What one turn of reading ahead may spend (a few milliseconds): 2,500 rows read, or ten
/// times as many copied from the previous rows' cells (an answer where a few rows changed is
/// read in a turn or two).
const READ_BUDGET: usize = 2_500 * READ_COST;
/// A row's cells read: its metrics looked up, its ages and names formatted.
const READ_COST: usize = 10;
/// A row's cells copied from the previous rows', in runs of rows that follow each other in
/// both (a tenth of reading them or less, measured).
const COPY_COST: usize = 1;
/// A row's cells copied one by one but for those read again (the badges moved, or the cells
/// are a minute old: its ages, badges and metric values, most of them "no series"): a few
/// lookups and a copy of each other cell.
const REREAD_COST: usize = 4;

/// Whether the focused view's cells are to be read ahead.
fn reads_ahead(view: &View) -> bool {
    view.total >= READ_AHEAD_FROM && view.cache.answer.is_some() && view.cache.keys.is_none()
}

/// Asks to read the next slice of the focused view's cells, once at a time.
pub fn read_ahead_schedule(state: &mut State) -> Vec<crate::action::Effect> {
    if state.cells_asked || !reads_ahead(state.focused()) {
        return Vec::new();
    }
    state.cells_asked = true;
    vec![crate::action::Effect::ReadCells]
}

/// Reads the next slice of the focused view's cells.
pub fn read_ahead(state: &mut State) {
    state.cells_asked = false;
    let (nav, fleet, ctx) = views_and_ctx(state);
    let view = nav.last_mut().expect("never empty");
    if !reads_ahead(view) {
        return;
    }
    let prepared = Prepared {
        ctx: &ctx,
        prints: row_prints(fleet, view),
    };
    let cache = &mut view.cache;
    // The same columns as `refresh` reads (a stopped tasks pane's too: its filter on recent
    // stops keeps rows, not cells).
    with_table!(panes::items(&view.pane, fleet), |items, cols, _key| {
        read_cells(cache, items, &cols, &prepared, Some(READ_BUDGET));
    });
}

/// Rows at which reading every row's cells is split over the cores: on 100,000 rows the first
/// filter letter or a sort reads them all, and the UI loop waits for that.
const PARALLEL_FROM: usize = 20_000;

/// `f` over `rows` cut into consecutive parts, one a core (up to 4) from [`PARALLEL_FROM`]
/// rows, one part below it; the parts' results in order.
fn in_parts<R: Send>(
    rows: std::ops::Range<usize>,
    f: impl Fn(std::ops::Range<usize>) -> R + Sync,
) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let (start, len) = (rows.start, rows.len());
    if len < PARALLEL_FROM || cores < 2 {
        return vec![f(rows)];
    }
    let size = len.div_ceil(cores);
    let part = |n: usize| start + n * size..start + ((n + 1) * size).min(len);
    let f = &f;
    std::thread::scope(|scope| {
        let others: Vec<_> = (1..cores)
            .map(|n| scope.spawn(move || f(part(n))))
            .collect();
        let mut results = vec![f(part(0))];
        // A part's panic is the caller's, as it would be without the split.
        results.extend(
            others
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))),
        );
        results
    })
}

/// A row matches when it holds every word of the filter, each anywhere in its cells: `prod
/// eu-west` finds prod's rows in eu-west-1 across the columns. (A filter that only adds letters
/// to the last one still matches a subset of its rows: each old word is inside a new one.)
fn matches(row: &str, needle: &str) -> bool {
    needle.split_whitespace().all(|word| row.contains(word))
}

/// `""` → no filter; `"!x"` → rows not matching `x`. Case-insensitive, literal text.
fn parse_filter(filter: &str) -> (Option<String>, bool) {
    let (text, invert) = match filter.strip_prefix('!') {
        Some(rest) => (rest, true),
        None => (filter, false),
    };
    if text.trim().is_empty() {
        (None, false)
    } else {
        (Some(text.to_lowercase()), invert)
    }
}

/// Rebuilds the rows of every view showing this data.
pub fn refresh_all(state: &mut State, query: &crate::model::Query) {
    let (height, window) = (layout::list_rows(state), state.stopped_window);
    let (nav, fleet, ctx) = views_and_ctx(state);
    for view in nav.iter_mut().filter(|v| &v.pane.query() == query) {
        refresh(view, fleet, &ctx, window);
        note_on_screen(view, fleet, &ctx, height);
    }
}

/// Notes whether the rows on screen moved with the answer just taken in or the findings just
/// judged ([`View::on_screen`]), for answers printed row by row; the others' cadence follows
/// the whole answer. A row moves when its print or its findings' badge does. The count of rows
/// is left out on purpose: in a pane of 60,000 tasks it moves with every task started or
/// stopped anywhere, and the header says when the cadence is stretched.
fn note_on_screen(view: &mut View, fleet: &Fleet, ctx: &RowCtx, height: usize) {
    let Some(slot) = fleet.slot(&view.pane.query()) else {
        return;
    };
    let Some(prints) = slot.fingerprint.as_ref().map(|f| &f.rows) else {
        view.on_screen = None;
        return;
    };
    let on_screen: Vec<usize> = view
        .rows
        .iter()
        .skip(view.offset)
        .take(height)
        .copied()
        .collect();
    let mut hasher = crate::model::hash::hasher();
    for &item in &on_screen {
        hasher.write_u64(prints.get(item).copied().unwrap_or_default());
    }
    with_table!(panes::items(&view.pane, fleet), |items, cols, _key| {
        for column in cols.iter().filter(|c| c.findings) {
            for row in on_screen.iter().filter_map(|&item| items.get(item)) {
                hasher.write(column.text.of(row, ctx).as_bytes());
            }
        }
    });
    let print = hasher.finish();
    let changed_at = match view.on_screen {
        Some(seen) if seen.print == print => seen.changed_at,
        // A row or a badge moved (or the operator scrolled: a key, quiet ends anyway).
        Some(_) => ctx.now,
        None => slot.changed_at.unwrap_or(ctx.now),
    };
    view.on_screen = Some(crate::state::OnScreen {
        version: slot.version,
        print,
        changed_at,
    });
}

/// After the findings were judged again: whether a badge on screen moved.
pub fn note_focused_on_screen(state: &mut State) {
    let height = layout::list_rows(state);
    let (nav, fleet, ctx) = views_and_ctx(state);
    let view = nav.last_mut().expect("never empty");
    note_on_screen(view, fleet, &ctx, height);
}

/// Rebuilds every view's rows after the navigation was replaced at once (a finding's jump, a
/// cluster handed to its context): each keeps the row it was opened on, selected as soon as
/// its data has it, and on screen. Data already held shows now, without waiting for an answer.
pub fn refresh_nav(state: &mut State) {
    let (height, window) = (layout::list_rows(state), state.stopped_window);
    let (nav, fleet, ctx) = views_and_ctx(state);
    for view in nav {
        let wanted = view.selected_key.clone();
        refresh(view, fleet, &ctx, window);
        view.selected_key = wanted.or(view.selected_key.take());
        view.scroll_into_view(height);
    }
}

/// Rebuilds the focused view's rows from the cache and keeps its selection on screen.
pub fn refresh_focused(state: &mut State) {
    let (height, window) = (layout::list_rows(state), state.stopped_window);
    let (nav, fleet, ctx) = views_and_ctx(state);
    let view = nav.last_mut().expect("never empty");
    refresh(view, fleet, &ctx, window);
    view.scroll_into_view(height);
}

/// The views, and what their cells are read from, borrowed apart: the views to change, the
/// fleet and the context of their cells to read.
fn views_and_ctx(state: &mut State) -> (&mut Vec<View>, &Fleet, RowCtx<'_>) {
    let ctx = RowCtx {
        now: state.now,
        metrics: &state.metrics,
        triage: &state.triage,
    };
    (&mut state.nav, &state.fleet, ctx)
}

/// After the selection moved: remember which item it is, so refreshes keep it.
pub fn remember_selection(view: &mut View, fleet: &Fleet) {
    let key = with_table!(panes::items(&view.pane, fleet), |items, _cols, key| {
        view.selected_item().map(|i| key(&items[i]).to_string())
    });
    view.selected_key = key;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parts_cover_every_row_once_in_order() {
        for len in [
            0,
            5,
            PARALLEL_FROM - 1,
            PARALLEL_FROM,
            PARALLEL_FROM + 1,
            100_003,
        ] {
            let parts = in_parts(0..len, |rows| rows.collect::<Vec<_>>());
            let joined: Vec<usize> = parts.iter().flatten().copied().collect();
            assert_eq!(joined, (0..len).collect::<Vec<_>>(), "{len} rows");
            if len < PARALLEL_FROM {
                assert_eq!(parts.len(), 1, "{len} rows are read in one part");
            }
            // The rest of a table read in part already.
            let rest: Vec<usize> = in_parts(7..7 + len, |rows| rows.collect::<Vec<_>>())
                .into_iter()
                .flatten()
                .collect();
            assert_eq!(
                rest,
                (7..7 + len).collect::<Vec<_>>(),
                "{len} rows from row 7"
            );
        }
    }

    use crate::action::{Action, Effect};
    use crate::testkit::{Harness, parse_keys};

    /// Every row's cells of the focused view, as text.
    fn cells(keys: &RowKeys) -> Vec<String> {
        (0..keys.rows()).map(|r| keys.row(r).to_string()).collect()
    }

    /// A copy of `read` with "kept" in its `columns`: a cell no read gives, to tell a copied
    /// cell from one read again.
    fn marked(read: &RowKeys, columns: &[usize]) -> RowKeys {
        let mut kept = RowKeys::with_capacity(read.columns(), read.numbers(), read.rows());
        for row in 0..read.rows() {
            for column in 0..read.columns() {
                kept.push_lowered(if columns.contains(&column) {
                    "kept"
                } else {
                    read.cell(row, column)
                });
            }
            for n in 0..read.numbers() {
                kept.push_number(Some(read.number(row, n)));
            }
        }
        kept
    }

    /// The focused view's cells read afresh, in one go, as a filter on a new view reads them.
    fn read_on_demand(h: &Harness) -> Vec<String> {
        let mut view = h.state.focused().clone();
        view.cache = RowCache::default();
        view.filter = "a".into();
        let ctx = RowCtx {
            now: h.state.now,
            metrics: &h.state.metrics,
            triage: &h.state.triage,
        };
        refresh(&mut view, &h.state.fleet, &ctx, h.state.stopped_window);
        cells(view.cache.keys.as_ref().expect("a filter reads every cell"))
    }

    #[test]
    fn a_big_tables_cells_are_read_ahead_a_slice_a_turn_as_a_filter_would_read_them() {
        let mut h = Harness::new("large", 160, 45);
        h.effects.clear();
        h.press(":tasks<enter>");
        let view = h.state.focused();
        let slice = READ_BUDGET / READ_COST;
        assert!(view.total >= 2 * slice, "{} rows", view.total);
        let slices = h
            .effects
            .iter()
            .filter(|e| matches!(e, Effect::ReadCells))
            .count();
        assert_eq!(
            slices,
            view.total.div_ceil(slice),
            "a slice a turn, none copied"
        );
        let keys = view
            .cache
            .keys
            .clone()
            .expect("read ahead, no filter typed");
        assert_eq!(keys.rows(), view.total);
        assert!(!h.state.cells_asked);
        assert_eq!(cells(&keys), read_on_demand(&h));
        // A filter then uses them as they are.
        h.press("/a");
        let after = h.state.focused().cache.keys.as_ref().expect("kept");
        assert!(Arc::ptr_eq(&keys, after), "the filter read no cell again");
    }

    #[test]
    fn cells_read_ahead_after_rows_and_badges_changed_copy_the_rest_and_read_as_a_fresh_read() {
        let mut h = Harness::new("large", 160, 45);
        h.press(":tasks<enter>");
        let read = h.state.focused().cache.keys.clone().expect("read ahead");
        // Kept cells whose TRIAGE cell no fresh read gives: a copy of it shows.
        let first = Arc::new(marked(&read, &[1]));
        h.state.nav.last_mut().unwrap().cache.keys = Some(Arc::clone(&first));
        let cache = &h.state.focused().cache;
        let (answer, made_at, badges) = (cache.answer, cache.made_at, cache.badges);
        // Tasks stop and start meanwhile: rows change, go and come in the answer's order.
        let mut moved = 0;
        while moved < 40 && h.state.focused().cache.answer == answer {
            h.advance(5);
            moved += 1;
        }
        let view = h.state.focused();
        assert_ne!(view.cache.answer, answer, "the tasks changed");
        // The first evaluation's findings came meanwhile: the TRIAGE cells were read again.
        assert_ne!(view.cache.badges, badges, "the badges moved");
        let keys = view.cache.keys.as_ref().expect("read ahead again");
        assert!(!Arc::ptr_eq(&first, keys));
        let fresh = read_on_demand(&h);
        // A row copied is as it was read first (its age as of then), but for its findings'
        // badge, read again; a row read again is as a fresh read makes it.
        let old: std::collections::HashMap<String, Vec<String>> = cells(&first)
            .iter()
            .map(|row| {
                let cells: Vec<String> = row.split('\n').map(str::to_string).collect();
                (cells[0].clone(), cells)
            })
            .collect();
        let (mut copied, mut badges_read) = (0, 0);
        for (row, fresh) in cells(keys).iter().zip(&fresh) {
            let (row, fresh): (Vec<&str>, Vec<&str>) =
                (row.split('\n').collect(), fresh.split('\n').collect());
            assert_eq!(row[1], fresh[1], "the TRIAGE cell is read again");
            let Some(before) = old.get(row[0]) else {
                continue;
            };
            badges_read += usize::from(before[1] != fresh[1]);
            if row != fresh {
                let mut expected: Vec<&str> = before.iter().map(String::as_str).collect();
                expected[1] = fresh[1];
                assert_eq!(row, expected, "copied but for the badge");
                copied += 1;
            }
        }
        assert!(
            copied > 0 && badges_read > 0,
            "{copied} copied, {badges_read} badges changed"
        );
        assert_eq!(
            view.cache.made_at, made_at,
            "rows copied: as old as the first read"
        );
    }

    #[test]
    fn cells_a_minute_old_read_what_moves_with_time_again_and_copy_the_rest() {
        let mut h = Harness::new("large", 160, 45);
        h.press(":tasks<enter>");
        let read = h.state.focused().cache.keys.clone().expect("read ahead");
        let Items::Tasks(_, stopped, metrics) =
            panes::items(&h.state.focused().pane, &h.state.fleet)
        else {
            panic!("a tasks pane");
        };
        let cols = panes::tasks::columns(stopped, metrics);
        // Kept cells marked in a column of the row alone and in one that moves with time.
        let (name, age) = (
            cols.iter().position(|c| c.title == "SERVICE").unwrap(),
            cols.iter().position(|c| c.title == "AGE").unwrap(),
        );
        assert!(!cols[name].moves() && cols[age].moves());
        let first = Arc::new(marked(&read, &[name, age]));
        h.state.nav.last_mut().unwrap().cache.keys = Some(Arc::clone(&first));
        let made_at = h.state.focused().cache.made_at.expect("read");
        // Until they are read again (then compared with a read at that same moment).
        let mut waited = 0;
        while h.state.focused().cache.made_at == Some(made_at) {
            h.advance(1);
            waited += 1;
            assert!(waited <= 2 * crate::state::CELLS_FRESH_FOR.num_seconds());
        }
        assert!(
            waited >= crate::state::CELLS_FRESH_FOR.num_seconds(),
            "{waited} s"
        );
        let view = h.state.focused();
        let keys = view.cache.keys.as_ref().expect("read ahead again");
        assert_eq!(view.cache.made_at, Some(h.state.now), "read now");
        let fresh = read_on_demand(&h);
        let (mut copied, mut read_again) = (0, 0);
        for (row, fresh) in cells(keys).iter().zip(&fresh) {
            let (row, fresh): (Vec<&str>, Vec<&str>) =
                (row.split('\n').collect(), fresh.split('\n').collect());
            assert_ne!(row[age], "kept", "an age is read again");
            if row[name] == "kept" {
                // Copied: all but the row's own cells as a fresh read makes them.
                let mut expected = fresh.clone();
                expected[name] = "kept";
                assert_eq!(row, expected);
                copied += 1;
            } else {
                assert_eq!(row, fresh, "a changed row is read whole");
                read_again += 1;
            }
        }
        assert!(copied > 0, "{copied} copied, {read_again} read again");
    }

    /// `--demo large`'s tasks pane, its cells to be read again from the start.
    fn tasks_to_read_again() -> Harness {
        let mut h = Harness::new("large", 160, 45);
        h.press(":tasks<enter>");
        let view = h.state.nav.last_mut().unwrap();
        view.cache = RowCache {
            answer: view.cache.answer,
            badges: view.cache.badges,
            ..RowCache::default()
        };
        h
    }

    #[test]
    fn a_slice_of_cells_read_asks_for_the_next_slice_and_nothing_else() {
        let mut h = tasks_to_read_again();
        // A minute on without a tick: polls are due, as the next action other than a slice
        // of cells finds.
        h.state.now += TimeDelta::minutes(1);
        let effects = crate::update::update(&mut h.state, Action::CellsRead, &h.keymap);
        assert!(
            matches!(effects.as_slice(), [Effect::ReadCells]),
            "{effects:?}"
        );
        let now = h.state.now;
        let effects = crate::update::update(&mut h.state, Action::Tick(now), &h.keymap);
        assert!(
            effects.iter().any(|e| !matches!(e, Effect::ReadCells)),
            "the tick schedules the polls due"
        );
    }

    #[test]
    fn a_filter_typed_while_the_cells_are_read_ahead_reads_the_rest_and_matches_the_same_rows() {
        // The same answer's cells, read again from the start: a slice, then the operator.
        let mut h = tasks_to_read_again();
        crate::update::update(&mut h.state, Action::CellsRead, &h.keymap);
        let partial = h
            .state
            .focused()
            .cache
            .reading
            .as_ref()
            .map(|r| r.keys.rows());
        assert_eq!(partial, Some(READ_BUDGET / READ_COST));
        for key in parse_keys("/1b") {
            crate::update::update(&mut h.state, Action::Key(key), &h.keymap);
        }
        let view = h.state.focused();
        assert!(view.cache.reading.is_none());
        let keys = view.cache.keys.as_ref().expect("the filter read the rest");
        assert_eq!(cells(keys), read_on_demand(&h));
        let wanted: Vec<usize> = (0..keys.rows())
            .filter(|&r| keys.row(r).contains("1b"))
            .collect();
        let mut shown = view.rows.clone();
        shown.sort_unstable();
        assert_eq!(shown, wanted);
        assert!(!wanted.is_empty() && wanted.len() < keys.rows());
    }

    #[test]
    fn a_sort_on_cells_read_ahead_orders_the_rows_as_a_sort_reading_each_row_does() {
        let mut h = Harness::new("large", 160, 45);
        h.press(":tasks<enter>");
        let ctx = RowCtx {
            now: h.state.now,
            metrics: &h.state.metrics,
            triage: &h.state.triage,
        };
        let view = h.state.focused();
        let columns = crate::with_table!(
            panes::items(&view.pane, &h.state.fleet),
            |_items, cols, _key| cols.len()
        );
        assert!(view.cache.keys.is_some(), "read ahead");
        for column in 0..columns {
            for reverse in [false, true] {
                let sort = SortSpec {
                    column: Some(column),
                    reverse,
                };
                let (mut ahead, mut fresh) = (view.clone(), view.clone());
                ahead.cache = view.cache.clone();
                fresh.cache = RowCache::default();
                for v in [&mut ahead, &mut fresh] {
                    v.sort = sort;
                    refresh(v, &h.state.fleet, &ctx, h.state.stopped_window);
                }
                assert!(ahead.cache.keys.is_some() && fresh.cache.keys.is_none());
                assert_eq!(ahead.rows, fresh.rows, "column {column}, reverse {reverse}");
            }
        }
    }

    #[test]
    fn rows_whose_print_did_not_change_are_copied_in_runs_at_a_tenth_of_a_read_row() {
        let mut h = Harness::new("large", 160, 45);
        h.press(":tasks<enter>");
        let first = h.state.focused().cache.keys.clone().expect("read ahead");
        // The same rows under another answer's number: every row's print is as before.
        let view = h.state.nav.last_mut().unwrap();
        let answer = view.cache.answer.map(|a| a + 1);
        view.cache.for_answer(answer);
        let mut turns = 0;
        while h.state.focused().cache.keys.is_none() {
            crate::update::update(&mut h.state, Action::CellsRead, &h.keymap);
            turns += 1;
        }
        let view = h.state.focused();
        let keys = view.cache.keys.as_ref().unwrap();
        assert!(!Arc::ptr_eq(&first, keys), "read again");
        assert_eq!(cells(keys), cells(&first), "copied");
        assert_eq!(turns, view.total.div_ceil(READ_BUDGET / COPY_COST));
        assert!(turns < view.total.div_ceil(READ_BUDGET / READ_COST));
    }
}
