//! The revisions of a service's task definition family (`T`, `:taskdefs`), the diff between two
//! of them, one in full, and rolling the service to one through the gate.
//!
//! Revisions are read lazily: the list first (`ListTaskDefinitions`), then the definitions the
//! screen needs (the running one, the rows near the selection, the two of a diff), each once.

use std::sync::Arc;

use crate::action::Effect;
use crate::keymap::Command;
use crate::model::{
    Operation, Query, Service, TaskDefRef, TaskDefinition, metric_catalog::cluster_of,
};
use crate::screen::panes::{self, Items};
use crate::screen::taskdefs::{live_deployments, running_of};
use crate::source::SourceError;
use crate::state::{Level, Pane, Popup, State, TaskDefText, TaskDefsView};

use super::{forwards, gate};

/// Definitions asked for at once.
const MAX_IN_FLIGHT: usize = 8;

/// The service `T` or `:taskdefs` is about: the selected service row, or the service whose
/// tasks or containers are shown.
fn service_in_view(state: &State) -> Option<Service> {
    let view = state.focused();
    if let (Items::Services(v), Some(i)) =
        (panes::items(&view.pane, &state.fleet), view.selected_item())
    {
        return v.get(i).cloned();
    }
    let (cluster, name) = match &view.pane {
        Pane::Tasks {
            scope: crate::model::TaskScope::Service { cluster, service },
            ..
        } => (cluster.clone(), service.clone()),
        Pane::Containers { cluster, .. } => {
            let task = state.fleet.tasks(&view.pane.query()).first()?;
            (
                cluster.clone(),
                task.group.strip_prefix("service:")?.to_string(),
            )
        }
        _ => return None,
    };
    state
        .fleet
        .services(&Query::Services { cluster })
        .iter()
        .find(|s| s.name == name)
        .cloned()
}

/// `T` on a service, `:taskdefs`, or `:diff` (`diff_on_load`: straight to the running
/// revision's diff against the previous one).
pub fn open(state: &mut State, diff_on_load: bool) -> Vec<Effect> {
    let Some(service) = service_in_view(state) else {
        state.set_status(
            Level::Info,
            "select a service (or open its tasks) to see its task definitions",
        );
        return vec![];
    };
    if super::actions::still_loading(state, &service, &service.name) {
        return vec![];
    }
    let running = running_of(&service);
    let deployments = service
        .deployments
        .iter()
        .map(|d| (d.task_definition.clone(), d.status.clone()))
        .collect();
    // Reopening asks again for what failed before.
    state.task_defs.errors.clear();
    state.popups.push(Popup::TaskDefs(TaskDefsView {
        cluster: cluster_of(&service.cluster_arn).to_string(),
        service: service.name.clone(),
        service_arn: service.arn.clone(),
        family: running.family.to_string(),
        running,
        deployments,
        revisions: None,
        error: None,
        in_flight: None,
        selected: 0,
        marked: None,
        diff_on_load,
    }));
    vec![]
}

fn top_view(state: &State) -> Option<&TaskDefsView> {
    match state.popups.last() {
        Some(Popup::TaskDefs(view)) => Some(view),
        _ => None,
    }
}

/// Keys of the revision list. `None`: not for it (scrolling, closing).
pub fn key(state: &mut State, command: Command) -> Option<Vec<Effect>> {
    let view = top_view(state)?.clone();
    let selected = view.selected_revision().cloned();
    let (running, _) = live_deployments(state, &view);
    let Some(selected) = selected else {
        if matches!(
            command,
            Command::Enter
                | Command::Mark
                | Command::Compare
                | Command::Describe
                | Command::Rollback
        ) {
            state.set_status(Level::Info, "no revision selected (still loading?)");
            return Some(vec![]);
        }
        return None;
    };
    match command {
        Command::Enter => {
            // The running revision against itself says nothing: show what its deploy changed.
            let text = if selected.revision == running.revision {
                match view.previous(running.revision) {
                    Some(prev) => TaskDefText::Diff {
                        from: prev.clone(),
                        to: running,
                    },
                    None => TaskDefText::Describe(selected),
                }
            } else {
                TaskDefText::Diff {
                    from: running,
                    to: selected,
                }
            };
            push_text(state, text);
        }
        Command::Mark => {
            if let Some(Popup::TaskDefs(v)) = state.popups.last_mut() {
                v.marked = if v.marked == Some(selected.revision) {
                    None
                } else {
                    Some(selected.revision)
                };
            }
        }
        Command::Compare => {
            let from = match view.marked.filter(|m| *m != selected.revision) {
                Some(m) => view.by_revision(m).cloned(),
                None => view.previous(selected.revision).cloned(),
            };
            match from {
                Some(from) => push_text(state, TaskDefText::Diff { from, to: selected }),
                None => state.set_status(
                    Level::Info,
                    format!("{selected} is the oldest revision listed: nothing to compare with"),
                ),
            }
        }
        Command::Describe => push_text(state, TaskDefText::Describe(selected)),
        Command::Rollback => return Some(rollback(state, &view, &running, &selected)),
        _ => return None,
    }
    Some(vec![])
}

fn push_text(state: &mut State, view: TaskDefText) {
    state.popups.push(Popup::TaskDefText { view, scroll: 0 });
}

/// `R`: update the service to the selected revision, through the gate.
fn rollback(
    state: &mut State,
    view: &TaskDefsView,
    running: &TaskDefRef,
    to: &TaskDefRef,
) -> Vec<Effect> {
    if to.revision == running.revision {
        state.set_status(
            Level::Info,
            format!(
                "{} already runs {to}: pick another revision to roll to",
                view.service
            ),
        );
        return vec![];
    }
    let op = Operation::Rollback {
        cluster: view.cluster.clone(),
        service: view.service.clone(),
        service_arn: view.service_arn.clone(),
        family: view.family.clone(),
        from: running.revision,
        to: to.revision,
        task_definition_arn: to.arn.to_string(),
    };
    gate::request(state, op)
}

/// Asks for the revision list and the definitions the open views need.
pub fn schedule(state: &mut State) -> Vec<Effect> {
    let now = state.now;
    let mut effects = Vec::new();
    for popup in &mut state.popups {
        if let Popup::TaskDefs(view) = popup
            && crate::poll::taskdefs::revisions_due(view, now)
        {
            view.in_flight = Some(now);
            effects.push(Effect::LoadRevisions {
                family: view.family.clone(),
            });
        }
    }
    let wanted = crate::poll::taskdefs::wanted(&state.popups);
    let cache = &mut state.task_defs;
    cache
        .in_flight
        .retain(|_, at| now - *at < crate::poll::LOST_AFTER);
    for arn in wanted {
        if cache.in_flight.len() >= MAX_IN_FLIGHT {
            break;
        }
        if arn.is_empty()
            || cache.defs.contains_key(&arn)
            || cache.errors.contains_key(&arn)
            || cache.in_flight.contains_key(&arn)
        {
            continue;
        }
        cache.in_flight.insert(arn.clone(), now);
        effects.push(Effect::FetchTaskDefinition { arn });
    }
    effects
}

/// The family's revisions arrived: the selection starts on the running revision.
pub fn revisions_loaded(
    state: &mut State,
    family: &str,
    result: Result<Vec<TaskDefRef>, SourceError>,
) {
    let mut diff = None;
    for popup in &mut state.popups {
        let Popup::TaskDefs(view) = popup else {
            continue;
        };
        if view.family != family || view.revisions.is_some() {
            continue;
        }
        view.in_flight = None;
        match &result {
            Ok(revisions) => {
                view.selected = revisions
                    .iter()
                    .position(|r| r.revision == view.running.revision)
                    .unwrap_or(0);
                view.revisions = Some(revisions.clone());
                if view.diff_on_load {
                    view.diff_on_load = false;
                    diff = Some(match view.previous(view.running.revision) {
                        Some(prev) => TaskDefText::Diff {
                            from: prev.clone(),
                            to: view.running.clone(),
                        },
                        None => TaskDefText::Describe(view.running.clone()),
                    });
                }
            }
            Err(e) => view.error = Some(e.message.clone()),
        }
    }
    if let Some(text) = diff
        && matches!(state.popups.last(), Some(Popup::TaskDefs(v)) if v.family == family)
    {
        push_text(state, text);
    }
}

pub fn definition_loaded(
    state: &mut State,
    arn: &str,
    result: Result<Arc<TaskDefinition>, SourceError>,
) {
    state.task_defs.in_flight.remove(arn);
    match result {
        Ok(def) => {
            state.task_defs.errors.remove(arn);
            state.task_defs.defs.insert(arn.to_string(), def);
            forwards::definition_arrived(state, arn);
        }
        Err(e) => {
            state.task_defs.errors.insert(arn.to_string(), e.message);
        }
    }
}
