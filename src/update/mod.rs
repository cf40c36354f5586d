//! The one way state changes: `update(state, action) -> effects`.
//!
//! Pollers, the input reader and effect runners only send [`Action`]s; this module applies
//! them and asks for I/O by returning [`Effect`]s, which keeps every behaviour testable without
//! a terminal or a network.

pub mod actions;
mod chart;
pub mod command;
pub mod context;
mod data;
mod describe;
pub mod findings;
pub mod fleet_view;
pub mod forwards;
pub mod gate;
mod keys;
pub mod logs;
pub mod metrics;
mod mouse;
mod nav;
mod prompt;
pub mod rows;
pub mod taskdefs;
pub mod triage;

pub use keys::frame_drawn;

use crate::action::{Action, Effect};
use crate::keymap::KeyMap;
use crate::screen::layout;
use crate::state::{InputMode, Level, State};

/// Info messages fade after this long; warnings and errors stay until replaced.
const INFO_TTL_SECS: i64 = 6;

pub fn update(state: &mut State, action: Action, keymap: &KeyMap) -> Vec<Effect> {
    if state.is_fleet_view() {
        return fleet_view::update(state, action, keymap);
    }
    update_one(state, action, keymap)
}

/// One console's update: the only one with one context; each member's and the fleet view's own
/// with several (`fleet_view`).
fn update_one(state: &mut State, action: Action, keymap: &KeyMap) -> Vec<Effect> {
    if matches!(action, Action::Key(_) | Action::Mouse(_) | Action::Paste(_)) {
        // The operator is at the keys: the focused pane goes live again.
        state.last_input = state.now;
    }
    let unseen = unseen_answer(state, &action);
    let answer = matches!(
        action,
        Action::Loaded { .. } | Action::Listed { .. } | Action::Described { .. }
    );
    // A slice of cells read ahead changes nothing any poll is decided on (the data, the
    // clock, the screen are as the last action left them, and its schedule ran): only the
    // next slice is asked for. A change of 60,000 rows takes a dozen such turns.
    let cells_read = matches!(action, Action::CellsRead);
    let mut effects = match action {
        Action::Key(key) => match state.input {
            InputMode::Normal => keys::handle(state, key, keymap),
            _ => prompt::handle(state, key),
        },
        Action::Paste(text) => prompt::paste(state, &text),
        Action::Mouse(ev) => mouse::handle(state, ev),
        Action::Resize { width, height } => {
            state.screen = (width, height);
            let height = layout::list_rows(state);
            for view in &mut state.nav {
                view.scroll_into_view(height);
            }
            vec![]
        }
        Action::Tick(now) => {
            state.now = now;
            let expired = state.status.as_ref().is_some_and(|s| {
                s.level == Level::Info && (now - s.at).num_seconds() >= INFO_TTL_SECS
            });
            if expired {
                state.status = None;
            }
            vec![]
        }
        Action::IdentityLoaded(result) => {
            data::identity_loaded(state, result);
            vec![]
        }
        Action::Loaded {
            query,
            seq,
            at,
            result,
            fingerprint,
        } => {
            data::loaded(state, query.clone(), seq, at, result, fingerprint);
            triage::fleet_loaded(state, &query);
            vec![]
        }
        Action::Listed {
            query,
            seq,
            at,
            arns,
        } => {
            data::listed(state, query.clone(), seq, at, arns);
            triage::fleet_loaded(state, &query);
            vec![]
        }
        Action::Described {
            query,
            seq,
            arns,
            at,
            result,
        } => {
            if data::described(state, query.clone(), seq, arns, at, result) {
                triage::fleet_loaded(state, &query);
                state.triage.dirty = true;
            }
            vec![]
        }
        Action::MetricsLoaded {
            request,
            seq,
            at,
            result,
        } => {
            state.triage.dirty = true;
            metrics::metrics_loaded(state, request, seq, at, result)
        }
        Action::MetricsMerge { seq } => metrics::merge_more(state, seq),
        Action::CellsRead => {
            rows::read_ahead(state);
            vec![]
        }
        Action::AlarmsLoaded { at: _, result } => {
            metrics::alarms_loaded(state, result);
            let now = state.now;
            let alarms = std::mem::take(&mut state.metrics.alarms);
            state.triage.timeline.alarms(now, &alarms);
            state.metrics.alarms = alarms;
            state.triage.dirty = true;
            vec![]
        }
        Action::LogsResolved { id, result } => logs::resolved(state, id, result),
        Action::LogsRead { id, read, result } => logs::read(state, id, read, result),
        Action::LiveTailStarted { id } => {
            logs::live_tail_started(state, id);
            vec![]
        }
        Action::LiveTailEvents { id, events } => {
            logs::live_tail_events(state, id, events);
            vec![]
        }
        Action::LiveTailEnded { id, error } => {
            logs::live_tail_ended(state, id, error);
            vec![]
        }
        Action::FileSaved { path, result } => {
            match result {
                Ok(written) => state.set_status(
                    Level::Info,
                    format!("saved the log to {}", written_to(&path, &written)),
                ),
                Err(e) => state.set_status(
                    Level::Error,
                    format!("could not save {}: {e}", path.display()),
                ),
            }
            vec![]
        }
        Action::Performed { op, result } => gate::performed(state, op, result),
        Action::SessionReady { op, result } => match result {
            // On the way out the terminal is not handed over any more.
            Ok(_) if state.should_quit => gate::session_result(
                state,
                op,
                Err("the shell was not opened: ecsmon was quitting".into()),
            ),
            Ok(handoff) => vec![Effect::HandOff { op, handoff }],
            Err(why) => gate::session_result(state, op, Err(why)),
        },
        Action::SessionEnded { op, result } => gate::session_result(state, op, result),
        Action::ScalingLoaded {
            service_arn,
            result,
        } => {
            triage::scaling_loaded(state, &service_arn, &result);
            actions::scaling_loaded(state, &service_arn, result);
            vec![]
        }
        Action::TargetHealthLoaded {
            service_arn,
            at,
            result,
        } => {
            if let Ok(groups) = &result {
                state.triage.remember_target_health(groups, at);
            }
            actions::target_health_loaded(state, &service_arn, at, result);
            vec![]
        }
        Action::LogsScanned {
            cluster,
            service,
            result,
        } => {
            triage::logs_scanned(state, &cluster, &service, result);
            vec![]
        }
        Action::Evaluated { id, result } => {
            triage::evaluated(state, id, result);
            // The engine let go of the rows: the describes held meanwhile go in.
            data::take_held(state, true);
            rows::note_focused_on_screen(state);
            vec![]
        }
        Action::TaskDefinitionLoaded { arn, result } => {
            taskdefs::definition_loaded(state, &arn, result.clone());
            triage::task_definition_loaded(state, arn, result);
            vec![]
        }
        Action::RevisionsLoaded { family, result } => {
            taskdefs::revisions_loaded(state, &family, result);
            vec![]
        }
        Action::ForwardStarted { id, result } => forwards::started(state, id, result),
        Action::ForwardEnded { id, reason } => {
            forwards::ended(state, id, reason);
            vec![]
        }
        Action::ExportWritten { path, result } => {
            match result {
                Ok(written) => state.set_status(
                    Level::Info,
                    format!(
                        "incident snapshot written to {}",
                        written_to(&path, &written)
                    ),
                ),
                Err(e) => state.set_status(
                    Level::Error,
                    format!("could not write {}: {e}", path.display()),
                ),
            }
            vec![]
        }
        Action::StatsLoaded(stats) => {
            state.popups.push(command::stats_popup(
                &stats,
                state.polls.coalesced(),
                &state.triage,
            ));
            vec![]
        }
        Action::ProfilesLoaded(names) => {
            context::profiles_loaded(state, names);
            vec![]
        }
        Action::SourceChanged { source, settings } => {
            context::source_changed(state, &source, settings)
        }
        Action::Quit => {
            state.should_quit = true;
            vec![Effect::Quit]
        }
        Action::QuitWaitOver => gate::quit_wait_over(state),
        Action::Crashed { what, message } => {
            state.set_status(
                Level::Error,
                format!("internal error in {what} ({message}); ecsmon keeps running"),
            );
            vec![]
        }
        // Routed before: a console outside the fleet view has no members.
        Action::From { .. } => vec![],
        Action::ContextConnected {
            context,
            source,
            settings,
        } => fleet_view::connected(state, context, source, settings, keymap),
    };
    if state.should_quit {
        effects.extend(gate::quitting(state));
    } else if state.is_fleet_view() {
        // Each context schedules its own (`fleet_view`).
    } else if cells_read {
        effects.extend(rows::read_ahead_schedule(state));
    } else {
        effects.extend(schedule(state, unseen, answer));
    }
    effects
}

/// An answer for the triage engine alone: a fleet poll no pane shows, or a log scan. It
/// changes no series a pane or the engine wants (the engine's come with its evaluations), so
/// the metrics schedule — a look over every wanted series, the longest part of an update on
/// `--demo huge`, where such answers come several times a second — waits for the next action
/// that can change it (the clock's tick at the latest).
fn unseen_answer(state: &State, action: &Action) -> bool {
    match action {
        Action::Loaded { query, .. }
        | Action::Listed { query, .. }
        | Action::Described { query, .. } => !state.nav.iter().any(|v| v.pane.query() == *query),
        Action::LogsScanned { .. } => true,
        _ => false,
    }
}

/// Where a file went, saying so when its name was taken and it went to another.
fn written_to(asked: &std::path::Path, written: &std::path::Path) -> String {
    if asked == written {
        written.display().to_string()
    } else {
        format!(
            "{} ({} exists: ecsmon never overwrites a file)",
            written.display(),
            asked.display()
        )
    }
}

/// `unseen`: after an answer only the engine reads (see [`unseen_answer`]); `answer`: after a
/// fleet answer.
fn schedule(state: &mut State, unseen: bool, answer: bool) -> Vec<Effect> {
    let wanted = crate::poll::panes::wanted(state);
    data::forget_unwanted(state, &wanted);
    let mut effects = state.polls.due(&wanted, state.now);
    effects.extend(data::describe_schedule(state, &wanted));
    let cycles = state.metrics.poll.last_cycle;
    if !unseen {
        effects.extend(metrics::schedule(state));
    }
    effects.extend(logs::schedule(state));
    effects.extend(actions::schedule(state));
    effects.extend(taskdefs::schedule(state));
    effects.extend(rows::read_ahead_schedule(state));
    // The engine's look over every service (milliseconds on the biggest fleets) waits for
    // the next action when this one took in a fleet answer (a big cluster's 1,200 services)
    // or sent a metrics cycle — one heavy thing a turn — but never for two.
    let heavy = answer || state.metrics.poll.last_cycle != cycles;
    let look = !heavy || state.triage.look_waited;
    state.triage.look_waited = heavy && !look;
    effects.extend(triage::schedule(state, look));
    effects
}
