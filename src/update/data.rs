//! Data arrivals from pollers.

use crate::model::{ErrorKind, Snapshot, SourceError};
use crate::model::{Identity, Query, TaskScope, Time};
use crate::state::{Level, Pane, State};

use super::rows;

pub fn identity_loaded(state: &mut State, result: Result<Identity, SourceError>) {
    match result {
        // An answer from before a region or profile switch must not name the wrong account.
        Ok(identity) if !from_current_source(state, &identity) => {
            tracing::debug!("identity from a previous source ignored");
        }
        Ok(identity) => {
            state.identity = identity;
            state.identity_error = None;
        }
        Err(e) => {
            state.set_status(
                Level::Error,
                format!("cannot tell who you are: {}", e.message),
            );
            state.identity_error = Some(e.message);
        }
    }
}

/// Whether an identity answer belongs to the settings in use (region and profile).
fn from_current_source(state: &State, identity: &Identity) -> bool {
    let Some(aws) = &state.aws else {
        return true;
    };
    let region_ok = aws.region.as_ref().is_none_or(|r| *r == identity.region);
    let profile_ok = match &aws.profile {
        Some(p) => identity.source == format!("profile {p}"),
        None => !identity.source.starts_with("profile "),
    };
    region_ok && profile_ok
}

/// A parent list that no longer has (or has retired) the object a deeper pane shows means that
/// object was deleted — ECS keeps listing a deleted service's draining tasks, so the deeper poll
/// alone would never tell.
fn mark_deleted_children(state: &mut State, parent: &Query) {
    let gone: Vec<(Query, String)> = match parent {
        Query::Clusters => {
            let clusters = state.fleet.clusters();
            state
                .nav
                .iter()
                .filter_map(|v| {
                    let name = v.pane.cluster()?;
                    let alive = clusters
                        .iter()
                        .any(|c| c.name == name && c.status != "INACTIVE");
                    (!alive).then(|| (v.pane.query(), format!("cluster {name} no longer exists")))
                })
                .collect()
        }
        Query::Services { cluster } => {
            let services = state.fleet.services(parent);
            state
                .nav
                .iter()
                .filter_map(|v| match &v.pane {
                    Pane::Tasks {
                        scope:
                            TaskScope::Service {
                                cluster: c,
                                service,
                            },
                        ..
                    } if c == cluster => {
                        let alive = services
                            .iter()
                            .any(|s| &s.name == service && s.status != "INACTIVE");
                        (!alive).then(|| {
                            (
                                v.pane.query(),
                                format!("service {service} in {cluster} no longer exists"),
                            )
                        })
                    }
                    _ => None,
                })
                .collect()
        }
        _ => Vec::new(),
    };
    // Only while the parent's answer is good: an empty list from a failed poll proves nothing.
    if state.fleet.slot(parent).is_some_and(|s| s.error.is_none()) {
        for (query, message) in gone {
            state.fleet.mark_gone(&query, message);
        }
    }
}

/// An answer no pane shows and no rule polls is forgotten this long after it was fetched
/// (going back to a pane within it finds it still there).
const FORGET_AFTER: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// Frees the answers nobody wants any more (looked at once a second of the clock).
pub fn forget_unwanted(state: &mut State, wanted: &[(Query, std::time::Duration)]) {
    if state
        .fleet_pruned_at
        .is_some_and(|at| state.now - at < chrono::TimeDelta::seconds(1))
    {
        return;
    }
    state.fleet_pruned_at = Some(state.now);
    let wanted: std::collections::HashSet<&Query> = wanted.iter().map(|(q, _)| q).collect();
    state
        .fleet
        .forget(|q| wanted.contains(q), state.now - FORGET_AFTER);
}

pub fn loaded(
    state: &mut State,
    query: Query,
    seq: u64,
    at: Time,
    result: Result<Snapshot, SourceError>,
    fingerprint: Option<crate::model::Fingerprint>,
) {
    let error = result.as_ref().err().cloned();
    let cadence = cadence_of(state, &query);
    let retry_hint = error.as_ref().and_then(|e| e.retry_after);
    let outcome = crate::poll::Outcome::of(&result);
    state
        .polls
        .finished(&query, seq, outcome, retry_hint, cadence, at);
    if !state
        .fleet
        .apply_fingerprinted(query.clone(), seq, at, result, fingerprint)
    {
        return; // a newer answer is already shown
    }
    mark_deleted_children(state, &query);
    rows::refresh_all(state, &query);

    match error {
        // A deleted object is shown in the pane itself, not as a transient error.
        Some(e) if e.kind == ErrorKind::NotFound => {}
        Some(e) => {
            let retry = state
                .polls
                .retry_at(&query)
                .map(|at| format!(" — retrying in {}s", (at - state.now).num_seconds().max(1)))
                .unwrap_or_default();
            let level = match e.kind {
                ErrorKind::Throttled | ErrorKind::Network => Level::Warn,
                _ => Level::Error,
            };
            state.set_status(level, format!("{}: {}{retry}", query.describe(), e.message));
        }
        None => clear_error_of(state, &query),
    }
}

/// A poll answered with only its rows (a big cluster's services, tasks or instances, listed):
/// they show at once, marked as loading; `describe_schedule` asks for their details, the rows
/// on screen first.
pub fn listed(state: &mut State, query: Query, seq: u64, at: Time, arns: Vec<String>) {
    let cadence = cadence_of(state, &query);
    state
        .polls
        .finished(&query, seq, crate::poll::Outcome::Ok, None, cadence, at);
    if !state.fleet.apply_listing(query.clone(), seq, at, arns) {
        return;
    }
    mark_deleted_children(state, &query);
    rows::refresh_all(state, &query);
    clear_error_of(state, &query);
}

/// Describe answers held while the triage engine read their panes (`Fleet::take_held`) go in
/// now: once nobody else reads the rows, or at once when `engine_done`.
pub fn take_held(state: &mut State, engine_done: bool) {
    for query in state.fleet.take_held(engine_done) {
        mark_deleted_children(state, &query);
        rows::refresh_all(state, &query);
        super::triage::fleet_loaded(state, &query);
        state.triage.dirty = true;
    }
}

/// Details of some listed rows came (or failed: the rows keep what they showed, and are asked
/// for again after a backoff). Returns whether any row changed.
pub fn described(
    state: &mut State,
    query: Query,
    seq: u64,
    arns: Vec<String>,
    at: Time,
    result: Result<Snapshot, SourceError>,
) -> bool {
    // Held answers first: they were asked before this one.
    take_held(state, false);
    match result {
        Ok(rows) => {
            let changed = state
                .fleet
                .apply_described(&query, seq, at, &arns, rows)
                .unwrap_or(false);
            if changed {
                mark_deleted_children(state, &query);
                rows::refresh_all(state, &query);
            }
            changed
        }
        Err(e) => {
            let cadence = cadence_of(state, &query);
            let outcome = crate::poll::Outcome::of::<()>(&Err(e.clone()));
            let hint = e.retry_after;
            let retry =
                |failures| {
                    at + crate::poll::chrono_duration(hint.unwrap_or_else(|| {
                        crate::poll::retry_wait(outcome, cadence, failures, seq)
                    }))
                };
            let message = e.message.clone();
            let kind = e.kind;
            if state.fleet.describe_failed(&query, seq, &arns, e, retry) {
                let level = match kind {
                    ErrorKind::Throttled | ErrorKind::Network => Level::Warn,
                    _ => Level::Error,
                };
                state.set_status(level, format!("{}: {message}", query.describe()));
            }
            false
        }
    }
}

/// Sends the describes due now for the listed panes among `polled` (`poll::describe`).
pub fn describe_schedule(
    state: &mut State,
    polled: &[(Query, std::time::Duration)],
) -> Vec<crate::action::Effect> {
    let batches = crate::poll::describe::due(state, polled);
    let now = state.now;
    batches
        .into_iter()
        .map(|b| {
            state.fleet.describe_sent(&b.query, &b.arns, now);
            crate::action::Effect::Describe {
                query: b.query,
                seq: b.seq,
                arns: b.arns,
            }
        })
        .collect()
}

/// The cadence a query's failures back off from: the focused pane's, or the background one.
fn cadence_of(state: &State, query: &Query) -> std::time::Duration {
    if state.focused().pane.query() == *query {
        state.refresh.focused
    } else {
        state.refresh.background
    }
}

/// The error this query raised is over: take its message down.
fn clear_error_of(state: &mut State, query: &Query) {
    let prefix = format!("{}: ", query.describe());
    if state
        .status
        .as_ref()
        .is_some_and(|s| s.level != Level::Info && s.text.starts_with(&prefix))
    {
        state.status = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Task, TaskScope};
    use crate::state::{Pane, View};
    use std::time::Duration;

    /// A cluster's answer of `n` running tasks, the tasks at `stopped` stopped instead.
    fn tasks(n: usize, stopped: &[usize]) -> Snapshot {
        Snapshot::Tasks(
            (0..n)
                .map(|i| Task {
                    arn: format!("arn:aws:ecs:eu-west-1:123456789012:task/core/{i:032x}").into(),
                    last_status: if stopped.contains(&i) {
                        "STOPPED"
                    } else {
                        "RUNNING"
                    }
                    .into(),
                    ..Task::default()
                })
                .collect(),
        )
    }

    #[test]
    fn a_big_pane_whose_rows_on_screen_stay_the_same_stretches_its_cadence() {
        let start = crate::testkit::fixed_now();
        let refresh = crate::config::Config::defaults().refresh;
        let mut state = State::new(Default::default(), start, refresh, (120, 40));
        let pane = Pane::Tasks {
            scope: TaskScope::Cluster {
                cluster: "core".into(),
            },
            stopped: false,
        };
        let query = pane.query();
        state.nav.push(View::new(pane));
        const N: usize = 3_000;
        // Answers come every 5 s, the `seq`th at 5 × `seq` seconds.
        let answer = |state: &mut State, seq: u64, stopped: &[usize]| {
            state.now = start + chrono::TimeDelta::seconds(5 * seq as i64);
            let data = tasks(N, stopped);
            let fingerprint = data.fingerprint();
            assert!(fingerprint.is_some(), "a big answer is printed row by row");
            loaded(state, query.clone(), seq, state.now, Ok(data), fingerprint);
        };
        let focused = |state: &State| crate::poll::cadence::focused(state);
        answer(&mut state, 1, &[]);
        // Two quiet minutes in which every answer differs from the one before, but only in a
        // row far below the screen.
        for seq in 2..=25 {
            answer(&mut state, seq, &[N - 1 - seq as usize]);
            assert_ne!(
                state.fleet.slot(&query).unwrap().changed_at,
                None,
                "the answer changed"
            );
        }
        assert_eq!(focused(&state), Duration::from_secs(30));
        assert_eq!(
            crate::poll::cadence::shown(&state),
            Some(Duration::from_secs(30)),
            "the header says so"
        );

        // A finding about a task below the screen: nothing moved on screen.
        let finding_on = |state: &mut State, item: usize| {
            let task_arn = match &**state.fleet.slot(&query).unwrap().data.as_ref().unwrap() {
                Snapshot::Tasks(tasks) => tasks[item].arn.to_string(),
                _ => unreachable!(),
            };
            let subject = crate::model::Subject::Task {
                cluster: "core".into(),
                service: None,
                task_arn,
            };
            let obs = crate::model::Observation::new(
                "task-oom-killed",
                crate::model::Severity::Critical,
                subject,
                "OOM-killed",
            );
            state.triage.apply(state.now, vec![obs], false);
            rows::note_focused_on_screen(state);
        };
        finding_on(&mut state, N - 100);
        assert_eq!(focused(&state), Duration::from_secs(30));
        // One about a task on screen (its badge shows): live again.
        finding_on(&mut state, 3);
        assert_eq!(focused(&state), Duration::from_secs(5));
        answer(&mut state, 26, &[]);
        answer(&mut state, 50, &[]);
        assert_eq!(focused(&state), Duration::from_secs(30));

        // A row on screen moves: live again.
        answer(&mut state, 51, &[0]);
        assert_eq!(focused(&state), Duration::from_secs(5));
        // As it does for a row below once the operator scrolled down to it.
        for seq in 52..=75 {
            answer(&mut state, seq, &[0]);
        }
        assert_eq!(focused(&state), Duration::from_secs(30));
        state.focused_mut().offset = N - 50;
        answer(&mut state, 76, &[0]);
        answer(&mut state, 100, &[0]);
        assert_eq!(
            focused(&state),
            Duration::from_secs(30),
            "scrolled, nothing moved"
        );
        answer(&mut state, 101, &[0, N - 45]);
        assert_eq!(focused(&state), Duration::from_secs(5));
    }
}
