//! What the task definition views show besides drawing: the service's running revision and
//! deployments, and the text of a diff or a describe (whose length bounds its scrolling).

use crate::model::taskdef_diff::{self, DiffLine, Mark};
use crate::model::{Query, Service, TaskDefRef, Time};
use crate::state::{Popup, State, TaskDefCache, TaskDefText, TaskDefsView};

use super::format::age;
use super::text::{TextLine, Tone, one};

/// The service's revision and deployments now: the fleet's latest data, else what the view
/// opened with.
pub fn live_deployments(
    state: &State,
    view: &TaskDefsView,
) -> (TaskDefRef, Vec<(TaskDefRef, String)>) {
    let live = state
        .fleet
        .services(&Query::Services {
            cluster: view.cluster.clone(),
        })
        .iter()
        .find(|s| s.arn == view.service_arn);
    match live {
        Some(s) => (
            running_of(s),
            s.deployments
                .iter()
                .map(|d| (d.task_definition.clone(), d.status.clone()))
                .collect(),
        ),
        None => (view.running.clone(), view.deployments.clone()),
    }
}

/// What the service runs: its task definition (its PRIMARY deployment's on AWS), else the
/// PRIMARY deployment's.
pub fn running_of(service: &Service) -> TaskDefRef {
    match service.primary_deployment() {
        Some(d) if service.task_definition.arn.is_empty() => d.task_definition.clone(),
        _ => service.task_definition.clone(),
    }
}

/// The running revision shown by the revision list under a text view, if any.
pub fn running_below(state: &State) -> Option<TaskDefRef> {
    state.popups.iter().rev().find_map(|p| match p {
        Popup::TaskDefs(view) => Some(live_deployments(state, view).0),
        _ => None,
    })
}

pub fn text_line_count(view: &TaskDefText, cache: &TaskDefCache) -> usize {
    text_lines(view, cache, None, Time::default()).len()
}

fn named(r: &TaskDefRef, running: Option<&TaskDefRef>) -> String {
    if running.is_some_and(|x| x.revision == r.revision && x.family == r.family) {
        format!("{r} (running)")
    } else {
        r.to_string()
    }
}

/// The diff or the describe, or what it is waiting for.
pub fn text_lines(
    view: &TaskDefText,
    cache: &TaskDefCache,
    running: Option<&TaskDefRef>,
    now: Time,
) -> Vec<TextLine> {
    let mut missing = Vec::new();
    let mut defs = Vec::new();
    for r in view.needs() {
        match cache.get(r.arn.as_str()) {
            Some(d) => defs.push(d.clone()),
            None => missing.push(match cache.errors.get(r.arn.as_str()) {
                Some(e) => one(format!("{r}: {e}"), Tone::Error),
                None => one(format!("reading {r}…"), Tone::Dim),
            }),
        }
    }
    if !missing.is_empty() {
        return missing;
    }
    match view {
        TaskDefText::Describe(r) => {
            let mut lines = vec![one(named(r, running), Tone::Title)];
            if let Some(at) = defs[0].registered_at {
                lines.push(one(format!("registered {} ago", age(now, at)), Tone::Dim));
            }
            lines.extend(
                taskdef_diff::describe(&defs[0])
                    .into_iter()
                    .skip(1)
                    .map(|l| one(l, Tone::Base)),
            );
            lines
        }
        TaskDefText::Diff { from, to } => {
            let diff = taskdef_diff::diff(&defs[0], &defs[1]);
            let mut lines = vec![
                one(
                    format!("{} → {}", named(from, running), named(to, running)),
                    Tone::Title,
                ),
                one(
                    "+ added   - removed   ~ changed   (secret values are never shown)",
                    Tone::Dim,
                ),
                TextLine::new(),
            ];
            if diff.is_empty() {
                lines.push(one(
                    "no differences in what ecsmon compares (images, environment, secrets, \
                     sizes, ports, health check, logging, command, ulimits, flags)",
                    Tone::Ok,
                ));
                return lines;
            }
            if !diff.task.is_empty() {
                lines.push(one("task", Tone::Title));
                lines.extend(diff.task.iter().map(diff_line));
            }
            for (name, changes) in diff.containers.iter().filter(|(_, l)| !l.is_empty()) {
                lines.push(one(format!("container {name}"), Tone::Title));
                lines.extend(changes.iter().map(diff_line));
            }
            lines
        }
    }
}

fn diff_line(l: &DiffLine) -> TextLine {
    let tone = match l.mark {
        Mark::Added => Tone::Ok,
        Mark::Removed => Tone::Error,
        Mark::Changed => Tone::Warn,
    };
    vec![
        (format!("  {} {:<22} ", l.mark.sign(), l.field), tone),
        (l.detail.clone(), Tone::Base),
    ]
}
