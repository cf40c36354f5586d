//! The log pane's life: `l` opens it for the selected task, container or service; its streams
//! are found, the last lines read, then new lines followed — by Live Tail when the source can,
//! else by polling `FilterLogEvents` every two seconds from the newest line held.

use chrono::TimeDelta;

use crate::action::Effect;
use crate::keymap::Command;
use crate::model::{LogEvent, LogRead, LogStreamRef, LogSubject};
use crate::screen::panes::{self, Items};
use crate::source::{ErrorKind, SourceError};
use crate::state::{BACKFILL, InputMode, Level, LineEditor, LogMode, LogPane, Pane, State};

/// How often a polling pane asks for new lines.
pub const POLL_EVERY: TimeDelta = TimeDelta::seconds(2);
/// A poll re-reads this far before the newest line held: CloudWatch Logs makes events
/// searchable a little after their timestamp; ids keep the overlap from doubling lines.
const OVERLAP: TimeDelta = TimeDelta::seconds(10);

/// What `l` on the focused pane's selection opens, or why nothing.
fn subject(state: &State) -> Result<(String, LogSubject), String> {
    let view = state.focused();
    if let Pane::Containers { .. } = &view.pane {
        let task = state.fleet.tasks(&view.pane.query()).first().cloned();
        return task
            .map(|t| {
                (
                    format!("task {}", t.short_id()),
                    LogSubject::Task(Box::new(t)),
                )
            })
            .ok_or_else(|| "the task is not loaded yet".into());
    }
    let i = view
        .selected_item()
        .ok_or("nothing selected: logs are per task or service")?;
    match panes::items(&view.pane, &state.fleet) {
        Items::Services(v) => {
            let s = &v[i];
            let cluster = crate::model::metric_catalog::cluster_of(&s.cluster_arn).to_string();
            Ok((
                format!("service {}", s.name),
                LogSubject::Service {
                    cluster,
                    service: s.name.clone(),
                },
            ))
        }
        // Its streams are named from its task definition, not known yet.
        Items::Tasks(v, ..) if v[i].loading => Err(format!(
            "the details of task {} are still loading: a moment",
            v[i].short_id()
        )),
        Items::Tasks(v, ..) => Ok((
            format!("task {}", v[i].short_id()),
            LogSubject::Task(Box::new(v[i].clone())),
        )),
        _ => Err("logs are per task, container or service: select one".into()),
    }
}

/// `l`: opens (or replaces) the log pane.
pub fn open(state: &mut State) -> Vec<Effect> {
    let (title, subject) = match subject(state) {
        Ok(found) => found,
        Err(why) => {
            state.set_status(Level::Info, why);
            return vec![];
        }
    };
    let mut effects = close(state);
    state.next_log_id += 1;
    let id = state.next_log_id;
    let mut pane = LogPane::new(id, title, subject.clone(), state.log_cap);
    if let Some(old) = &state.logs {
        // Keep how the operator had the pane laid out.
        (pane.height_pct, pane.zoom, pane.wrap, pane.timestamps) =
            (old.height_pct, old.zoom, old.wrap, old.timestamps);
    }
    state.logs = Some(pane);
    effects.push(Effect::ResolveLogs { id, subject });
    effects
}

/// Closes the pane and ends its background work.
pub fn close(state: &mut State) -> Vec<Effect> {
    match state.logs.take() {
        Some(pane) => vec![Effect::StopLogs { id: pane.id }],
        None => vec![],
    }
}

/// The pane for an answer, if it is still the one that asked.
fn pane(state: &mut State, id: u64) -> Option<&mut LogPane> {
    state.logs.as_mut().filter(|p| p.id == id)
}

pub fn resolved(
    state: &mut State,
    id: u64,
    result: Result<Vec<LogStreamRef>, String>,
) -> Vec<Effect> {
    let Some(pane) = pane(state, id) else {
        return vec![];
    };
    match result {
        Ok(streams) => {
            pane.streams = streams.clone();
            pane.mode = LogMode::Backfilling;
            vec![Effect::ReadLogs {
                id,
                streams,
                read: LogRead::Last {
                    count: BACKFILL,
                    before: None,
                },
            }]
        }
        Err(why) => {
            pane.mode = LogMode::Failed(why);
            vec![]
        }
    }
}

/// A missing stream or group before anything was read means the task has not logged yet.
fn explain(e: &SourceError) -> String {
    match e.kind {
        ErrorKind::NotFound => format!("{} (nothing logged yet?)", e.message),
        _ => e.message.clone(),
    }
}

pub fn read(
    state: &mut State,
    id: u64,
    read: LogRead,
    result: Result<Vec<LogEvent>, SourceError>,
) -> Vec<Effect> {
    let now = state.now;
    if let Ok(events) = &result {
        super::triage::log_lines(state, id, events);
    }
    let Some(pane) = pane(state, id) else {
        return vec![];
    };
    match (&read, result) {
        (LogRead::Last { before: None, .. }, result) => {
            // The backfill: then follow.
            match result {
                Ok(events) => {
                    pane.prepend(events);
                    pane.error = None;
                }
                Err(e) => pane.error = Some(explain(&e)),
            }
            pane.last_poll = Some(now);
            vec![Effect::StartLiveTail {
                id,
                streams: pane.streams.clone(),
            }]
        }
        (LogRead::Last { .. }, result) => {
            pane.older_in_flight = false;
            match result {
                Ok(events) if events.is_empty() => {
                    pane.error = Some("no older lines in the last 24 hours before these".into());
                }
                Ok(events) => {
                    pane.prepend(events);
                    pane.error = None;
                }
                Err(e) => pane.error = Some(explain(&e)),
            }
            vec![]
        }
        (LogRead::Since(_), result) => {
            pane.in_flight = None;
            match result {
                Ok(events) => {
                    pane.append(events);
                    pane.error = None;
                }
                Err(e) => pane.error = Some(explain(&e)),
            }
            vec![]
        }
    }
}

pub fn live_tail_started(state: &mut State, id: u64) {
    if let Some(pane) = pane(state, id) {
        pane.mode = LogMode::LiveTail;
        pane.error = None;
    }
}

pub fn live_tail_events(state: &mut State, id: u64, events: Vec<LogEvent>) {
    super::triage::log_lines(state, id, &events);
    if let Some(pane) = pane(state, id) {
        pane.append(events);
    }
}

pub fn live_tail_ended(state: &mut State, id: u64, error: Option<String>) {
    if let Some(pane) = pane(state, id) {
        let why = error.unwrap_or_else(|| "the Live Tail session ended".into());
        // Live Tail's lines carry no event ids: re-reading their last seconds by polling would
        // show them twice, so the first poll starts just after the newest one.
        if pane.mode == LogMode::LiveTail {
            pane.no_overlap = true;
        }
        pane.mode = LogMode::Polling { why };
    }
}

/// A poll for a pane that follows by polling, when one is due.
pub fn schedule(state: &mut State) -> Vec<Effect> {
    let now = state.now;
    let Some(pane) = state.logs.as_mut() else {
        return vec![];
    };
    if !matches!(pane.mode, LogMode::Polling { .. }) {
        return vec![];
    }
    if !crate::poll::repeat_due(pane.in_flight, pane.last_poll, POLL_EVERY, now) {
        return vec![];
    }
    pane.in_flight = Some(now);
    pane.last_poll = Some(now);
    let overlap = if std::mem::take(&mut pane.no_overlap) {
        -TimeDelta::milliseconds(1)
    } else {
        OVERLAP
    };
    let since = pane
        .newest
        .map_or(now - TimeDelta::minutes(1), |n| n - overlap);
    vec![Effect::ReadLogs {
        id: pane.id,
        streams: pane.streams.clone(),
        read: LogRead::Since(since),
    }]
}

/// Keys while the log pane has the focus. Returns `None` for keys it does not handle.
pub fn key(state: &mut State, command: Command, page: usize) -> Option<Vec<Effect>> {
    let pane = state.logs.as_mut()?;
    let shown = pane.shown().len();
    let last = shown.saturating_sub(1);
    let cursor = pane.cursor.unwrap_or(last);
    // Moving the cursor off the bottom pauses following, so the view stays where it is put.
    let move_to = |pane: &mut LogPane, to: usize| {
        let to = to.min(last);
        if to >= last && !pane.paused {
            pane.cursor = None;
        } else {
            pane.cursor = Some(to);
            if !pane.paused {
                pane.toggle_follow();
            }
        }
    };
    match command {
        Command::Back => return Some(close(state)),
        Command::FocusNext => pane.focused = false,
        Command::LogFollow => pane.toggle_follow(),
        Command::Up => move_to(pane, cursor.saturating_sub(1)),
        Command::Down => move_to(pane, cursor + 1),
        Command::PageUp => move_to(pane, cursor.saturating_sub(page)),
        Command::PageDown => move_to(pane, cursor + page),
        Command::Top => move_to(pane, 0),
        Command::Bottom => {
            pane.cursor = None;
            if pane.paused {
                pane.toggle_follow();
            }
        }
        Command::Filter | Command::LogSearch => {
            let current = pane.search().unwrap_or_default().to_string();
            state.input = InputMode::LogSearch(LineEditor::prefilled(&current));
        }
        Command::LogNext | Command::LogPrevious => {
            if pane.search().is_none() {
                state.set_status(Level::Info, "no search: / searches the log");
            } else if let Some(i) = pane.find(command == Command::LogNext) {
                move_to(pane, i);
            } else {
                state.set_status(Level::Info, "no line matches");
            }
        }
        Command::LogOnlyMatching => {
            pane.only_matching = !pane.only_matching;
            pane.cursor = None;
        }
        Command::LogWrap => pane.wrap = !pane.wrap,
        Command::LogTimestamps => pane.timestamps = !pane.timestamps,
        Command::LogZoom => pane.zoom = !pane.zoom,
        Command::LogGrow => pane.height_pct = (pane.height_pct + 10).min(90),
        Command::LogShrink => pane.height_pct = pane.height_pct.saturating_sub(10).max(20),
        Command::LogOlder => {
            if pane.older_in_flight || pane.streams.is_empty() {
                return Some(vec![]);
            }
            pane.older_in_flight = true;
            let before = pane.oldest;
            return Some(vec![Effect::ReadLogs {
                id: pane.id,
                streams: pane.streams.clone(),
                read: LogRead::Last {
                    count: BACKFILL,
                    before: before.or(Some(state.now)),
                },
            }]);
        }
        Command::LogCopy => {
            let Some(line) = pane.current_line() else {
                return Some(vec![]);
            };
            let text = line.text.clone();
            state.set_status(Level::Info, "line copied to the clipboard (OSC 52)");
            return Some(vec![Effect::Copy(text)]);
        }
        Command::LogSave => {
            let contents = pane.export();
            let name = pane
                .title
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect::<String>();
            let path = std::path::PathBuf::from(format!(
                "ecsmon-{name}-{}.log",
                state.now.format("%Y%m%dT%H%M%SZ")
            ));
            return Some(vec![Effect::SaveFile { path, contents }]);
        }
        _ => return None,
    }
    Some(vec![])
}

/// `Enter` in the log search prompt.
pub fn search(state: &mut State, text: String) {
    let Some(pane) = state.logs.as_mut() else {
        return;
    };
    pane.set_search(Some(text));
    if pane.search().is_none() {
        return;
    }
    match pane.find(false).or_else(|| pane.find(true)) {
        Some(i) => {
            if !pane.paused {
                pane.toggle_follow();
            }
            pane.cursor = Some(i);
        }
        None => state.set_status(Level::Info, "no line matches"),
    }
}
