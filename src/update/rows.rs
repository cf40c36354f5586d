//! Derives what each table shows (filtered, sorted indices) from the data and the view.
//! Runs when data arrives or the filter or sort changes, never per frame.

use crate::model::Time;
use crate::state::{Fleet, View};
use crate::ui::panes;
use crate::ui::table::Column;
use crate::with_table;

pub fn refresh(view: &mut View, fleet: &Fleet, now: Time) {
    with_table!(panes::items(&view.pane, fleet), |items, cols, key| {
        rebuild(view, items, &cols, key, now)
    });
}

fn rebuild<T>(view: &mut View, items: &[T], cols: &[Column<T>], key: fn(&T) -> &str, now: Time) {
    let (needle, invert) = parse_filter(&view.filter);
    let mut rows: Vec<usize> = (0..items.len())
        .filter(|&i| match &needle {
            None => true,
            Some(needle) => matches(&items[i], cols, needle, now) != invert,
        })
        .collect();
    if let Some(col) = view.sort.column.and_then(|c| cols.get(c)) {
        let keys: Vec<_> = items.iter().map(|item| col.sort_key(item, now)).collect();
        rows.sort_by(|&a, &b| keys[a].compare(&keys[b]));
        if view.sort.reverse {
            rows.reverse();
        }
    }
    view.total = items.len();
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

fn matches<T>(item: &T, cols: &[Column<T>], needle: &str, now: Time) -> bool {
    cols.iter()
        .any(|c| (c.text)(item, now).to_lowercase().contains(needle))
}

/// Rebuilds the rows of every view showing this data.
pub fn refresh_all(views: &mut [View], fleet: &Fleet, query: &crate::model::Query, now: Time) {
    for view in views.iter_mut().filter(|v| &v.pane.query() == query) {
        refresh(view, fleet, now);
    }
}

/// After the selection moved: remember which item it is, so refreshes keep it.
pub fn remember_selection(view: &mut View, fleet: &Fleet) {
    let key = with_table!(panes::items(&view.pane, fleet), |items, _cols, key| {
        view.selected_item().map(|i| key(&items[i]).to_string())
    });
    view.selected_key = key;
}
