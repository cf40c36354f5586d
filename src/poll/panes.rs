//! The fleet queries the screen needs now, with cadences: the focused pane often (less often
//! while nothing happens), the panes behind it rarely, the tasks an open target-health view
//! names, and what the triage engine asks for beyond them.

use std::time::Duration;

use super::cadence;
use crate::model::{Query, TaskScope};
use crate::state::{Popup, State};

/// What the current view needs polled, with cadences: the focused pane often (less often while
/// nothing happens), the panes behind it rarely, nothing else.
pub fn wanted(state: &State) -> Vec<(Query, Duration)> {
    let mut wanted = Vec::with_capacity(state.nav.len());
    wanted.push((state.focused().pane.query(), cadence::focused(state)));
    let behind = cadence::behind(state, state.refresh.background);
    for view in state.nav.iter().rev().skip(1) {
        wanted.push((view.pane.query(), behind));
    }
    // Target health names each target's task: the service's tasks are needed while it is open.
    if let Some(Popup::TargetHealth(view)) = state.popups.last() {
        let scope = TaskScope::Service {
            cluster: view.cluster.clone(),
            service: view.service.clone(),
        };
        wanted.push((
            Query::Tasks {
                scope,
                stopped: false,
            },
            state.refresh.focused,
        ));
    }
    wanted.extend(super::triage::wanted(state));
    wanted
}
