//! Log reads as the console needs them, over any [`FleetSource`]: finding a subject's streams,
//! the last N lines before a time (reading backwards in growing windows, so a chatty service
//! costs one small read and a quiet one still finds its last lines), and following. The I/O
//! only: when to read is decided in `update::logs` and `poll/`.

use std::collections::BTreeMap;

use chrono::TimeDelta;

use crate::model::LogSubject;
use crate::model::{LogEvent, LogQuery, LogRead, LogStreamRef, TaskScope, Time, log_streams};
use crate::source::{FleetSource, SourceError};

/// Windows read backwards from `before` until enough lines are found: 1 min, then 5 min,
/// 30 min, 3 h, 24 h (cumulative).
const WINDOWS: [i64; 5] = [60, 300, 1800, 3 * 3600, 24 * 3600];
/// At most this many events from one window: a burst cannot exhaust memory.
const WINDOW_LIMIT: usize = 20_000;

/// The streams of a task's containers, or of every running task of a service.
pub async fn resolve(
    source: &dyn FleetSource,
    subject: &LogSubject,
) -> Result<Vec<LogStreamRef>, String> {
    match subject {
        LogSubject::Task(task) => {
            let def = source
                .task_definition(&task.task_definition.arn)
                .await
                .map_err(|e| e.message)?;
            log_streams(task, &def, false)
        }
        LogSubject::Service { cluster, service } => {
            let scope = TaskScope::Service {
                cluster: cluster.clone(),
                service: service.clone(),
            };
            let tasks = source.tasks(&scope, false).await.map_err(|e| e.message)?;
            if tasks.is_empty() {
                return Err(format!(
                    "service {service} has no running tasks: nothing is logging"
                ));
            }
            let mut streams = Vec::new();
            let mut problem = None;
            for task in &tasks {
                let def = source
                    .task_definition(&task.task_definition.arn)
                    .await
                    .map_err(|e| e.message)?;
                match log_streams(task, &def, true) {
                    Ok(found) => streams.extend(found),
                    Err(why) => problem = Some(why),
                }
            }
            match (streams.is_empty(), problem) {
                (true, Some(why)) => Err(why),
                _ => Ok(streams),
            }
        }
    }
}

/// Streams grouped by (log group, region): one query each.
fn by_group(streams: &[LogStreamRef]) -> BTreeMap<(String, Option<String>), Vec<String>> {
    let mut groups: BTreeMap<(String, Option<String>), Vec<String>> = BTreeMap::new();
    for s in streams {
        groups
            .entry((s.group.clone(), s.region.clone()))
            .or_default()
            .push(s.stream.clone());
    }
    groups
}

async fn read_range(
    source: &dyn FleetSource,
    streams: &[LogStreamRef],
    start: Time,
    end: Option<Time>,
) -> Result<Vec<LogEvent>, SourceError> {
    let mut events = Vec::new();
    for ((group, region), names) in by_group(streams) {
        let query = LogQuery {
            group,
            region,
            streams: names,
            start,
            end,
            limit: Some(WINDOW_LIMIT),
        };
        events.extend(source.log_events(&query).await?);
    }
    events.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
    Ok(events)
}

pub async fn read(
    source: &dyn FleetSource,
    streams: &[LogStreamRef],
    read: &LogRead,
    now: Time,
) -> Result<Vec<LogEvent>, SourceError> {
    match read {
        LogRead::Since(start) => read_range(source, streams, *start, None).await,
        LogRead::Last { count, before } => {
            let end = before.unwrap_or(now);
            let mut found: Vec<LogEvent> = Vec::new();
            let mut upper = end;
            for secs in WINDOWS {
                let lower = end - TimeDelta::seconds(secs);
                let mut older = read_range(source, streams, lower, Some(upper)).await?;
                older.append(&mut found);
                found = older;
                upper = lower;
                if found.len() >= *count {
                    break;
                }
            }
            let skip = found.len().saturating_sub(*count);
            Ok(found.split_off(skip))
        }
    }
}

/// A Live Tail session on the streams, which must all be in one log group (a session with
/// stream names covers one group); otherwise why not.
pub async fn open_tail(
    source: &dyn FleetSource,
    streams: &[LogStreamRef],
) -> Result<crate::source::LogTail, String> {
    let groups = by_group(streams);
    let mut groups = groups.into_iter();
    match (groups.next(), groups.next()) {
        (Some(((group, _), names)), None) => source
            .live_tail(&group, &names)
            .await
            .map_err(|e| e.message),
        (Some(_), Some(_)) => Err("the streams are in several log groups".into()),
        (None, _) => Err("no log streams to follow".into()),
    }
}

/// Lines a log scan reads per service: enough for the log rules' 5-minute windows on a
/// service in trouble, little enough to cost one or two calls.
pub const SCAN_LINES: usize = 500;

/// The latest lines of every running task of a service (the triage engine's log rules read
/// them without a log pane open).
pub async fn scan(
    source: &dyn FleetSource,
    cluster: &str,
    service: &str,
    now: Time,
) -> Result<Vec<LogEvent>, String> {
    let subject = LogSubject::Service {
        cluster: cluster.to_string(),
        service: service.to_string(),
    };
    let streams = resolve(source, &subject).await?;
    // The log rules look back 5 minutes: never further than 10, whatever the service logs.
    let mut events = Vec::new();
    for secs in SCAN_WINDOWS {
        events = read_range(source, &streams, now - TimeDelta::seconds(secs), None)
            .await
            .map_err(|e| e.message)?;
        if events.len() >= SCAN_LINES {
            break;
        }
    }
    let drop = events.len().saturating_sub(SCAN_LINES);
    events.drain(..drop);
    Ok(events)
}

/// How far back a scan reads, widening while it has found fewer than [`SCAN_LINES`] lines.
const SCAN_WINDOWS: [i64; 3] = [60, 300, 600];
