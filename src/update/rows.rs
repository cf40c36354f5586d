//! Derives what each table shows (filtered, sorted indices) from the data and the view.
//! Runs when data arrives or the filter or sort changes, never per frame.

use std::time::Duration;

use chrono::TimeDelta;

use crate::model::{Task, Time};
use crate::screen::layout;
use crate::screen::panes::{self, Items};
use crate::screen::table::{Column, RowCtx};
use crate::state::{Fleet, State, View};
use crate::with_table;

/// `stopped_window`: how far back a stopped-tasks pane looks.
pub fn refresh(view: &mut View, fleet: &Fleet, ctx: &RowCtx, stopped_window: Duration) {
    let now = ctx.now;
    let items = panes::items(&view.pane, fleet);
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
            ctx,
            recent,
        );
    }
    with_table!(items, |items, cols, key| rebuild(
        view,
        items,
        &cols,
        key,
        ctx,
        |_| true
    ));
}

fn rebuild<T>(
    view: &mut View,
    items: &[T],
    cols: &[Column<T>],
    key: fn(&T) -> &str,
    ctx: &RowCtx,
    keep: impl Fn(&T) -> bool,
) {
    let (needle, invert) = parse_filter(&view.filter);
    let kept: Vec<usize> = (0..items.len()).filter(|&i| keep(&items[i])).collect();
    let total = kept.len();
    let mut rows: Vec<usize> = kept
        .into_iter()
        .filter(|&i| match &needle {
            None => true,
            Some(needle) => matches(&items[i], cols, needle, ctx) != invert,
        })
        .collect();
    if let Some(col) = view.sort.column.and_then(|c| cols.get(c)) {
        let keys: Vec<_> = items.iter().map(|item| col.sort_key(item, ctx)).collect();
        rows.sort_by(|&a, &b| keys[a].compare(&keys[b]));
        if view.sort.reverse {
            rows.reverse();
        }
    }
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

/// `""` → no filter; `"!x"` → rows not matching `x`. Case-insensitive, literal text.
fn parse_filter(filter: &str) -> (Option<String>, bool) {
    let (text, invert) = match filter.strip_prefix('!') {
        Some(rest) => (rest, true),
        None => (filter, false),
    };
    if text.is_empty() {
        (None, false)
    } else {
        (Some(text.to_lowercase()), invert)
    }
}

fn matches<T>(item: &T, cols: &[Column<T>], needle: &str, ctx: &RowCtx) -> bool {
    cols.iter()
        .any(|c| c.text_of(item, ctx).to_lowercase().contains(needle))
}

/// Rebuilds the rows of every view showing this data.
pub fn refresh_all(state: &mut State, query: &crate::model::Query) {
    let ctx = RowCtx {
        now: state.now,
        metrics: &state.metrics,
        triage: &state.triage,
    };
    for view in state.nav.iter_mut().filter(|v| &v.pane.query() == query) {
        refresh(view, &state.fleet, &ctx, state.stopped_window);
    }
}

/// Rebuilds the focused view's rows from the cache and keeps its selection on screen.
pub fn refresh_focused(state: &mut State) {
    let height = layout::list_rows(state);
    let ctx = RowCtx {
        now: state.now,
        metrics: &state.metrics,
        triage: &state.triage,
    };
    let view = state.nav.last_mut().expect("never empty");
    refresh(view, &state.fleet, &ctx, state.stopped_window);
    view.scroll_into_view(height);
}

/// After the selection moved: remember which item it is, so refreshes keep it.
pub fn remember_selection(view: &mut View, fleet: &Fleet) {
    let key = with_table!(panes::items(&view.pane, fleet), |items, _cols, key| {
        view.selected_item().map(|i| key(&items[i]).to_string())
    });
    view.selected_key = key;
}
