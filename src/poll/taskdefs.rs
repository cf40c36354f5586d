//! The task definitions the open views need: a revisions view's running revision and the
//! rows around its selection, a definition text's revisions, a forward dialog's task.
//! `update::taskdefs` sends the requests, a few at a time, and keeps the cache.

use crate::model::Time;
use crate::state::{Popup, TaskDefsView};

/// Rows around the selection whose definitions are read ahead.
const LOOK_BEHIND: usize = 5;
const LOOK_AHEAD: usize = 25;

/// Whether a revisions view still needs its revision list: not loaded, not failed, and no
/// request under way (or the one under way presumed lost).
pub fn revisions_due(view: &TaskDefsView, now: Time) -> bool {
    let lost = view
        .in_flight
        .is_some_and(|at| now - at >= super::LOST_AFTER);
    view.revisions.is_none() && view.error.is_none() && (view.in_flight.is_none() || lost)
}

/// Definition ARNs the open popups show or are about to, nearest first (may repeat, and may
/// hold definitions already cached: the cache decides what is asked for).
pub fn wanted(popups: &[Popup]) -> Vec<String> {
    let mut wanted = Vec::new();
    for popup in popups {
        match popup {
            Popup::TaskDefs(view) => {
                if !view.running.arn.is_empty() {
                    wanted.push(view.running.arn.to_string());
                }
                if let Some(revisions) = &view.revisions {
                    let start = view.selected.saturating_sub(LOOK_BEHIND);
                    wanted.extend(
                        revisions
                            .iter()
                            .skip(start)
                            .take(LOOK_BEHIND + LOOK_AHEAD)
                            .map(|r| r.arn.to_string()),
                    );
                }
            }
            Popup::TaskDefText { view, .. } => {
                wanted.extend(view.needs().into_iter().map(|r| r.arn.to_string()));
            }
            Popup::ForwardDialog(dialog) => {
                if let Some(task) = &dialog.task {
                    wanted.push(task.task_definition.arn.to_string());
                }
            }
            _ => {}
        }
    }
    wanted
}
