//! What `:timeline` lists.

use crate::state::{State, TimelineView};

/// The entries a timeline view shows, newest first.
pub fn timeline_entries<'a>(
    state: &'a State,
    view: &'a TimelineView,
) -> Vec<&'a crate::state::TimelineEntry> {
    let since = match view.window.span() {
        Some(span) => state.now - span,
        None => crate::model::Time::MIN_UTC,
    };
    state
        .triage
        .timeline
        .since(since, view.service.as_ref())
        .rev()
        .collect()
}
