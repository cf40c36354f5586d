//! CloudWatch Logs for the demo fleet: every stream is a pure function of its name and the
//! time, so backfill, polls and "older lines" agree, and snapshots are stable. Lines are what
//! the services would print — requests, slow queries, retries — with the demo's incidents in
//! them: payments runs out of heap before it is OOM-killed, checkout times out on its
//! database, and now and then a line arrives with ANSI colours (drawn as styles, never raw).

mod incident;

use super::fleet::Fleet;
use crate::model::{LogEvent, LogQuery, Time, bounded_message};

/// Events of the query's streams in `[start, end)`: a replayed incident's tasks log what
/// happens to them (`incident.rs`); the generated fleets' streams are made up from their names.
pub fn fleet_log_events(fleet: &Fleet, query: &LogQuery, now: Time) -> Vec<LogEvent> {
    match &fleet.incident {
        Some(replay) => incident::log_events(replay, query, now),
        None => log_events(query, now),
    }
}

/// One hash for everything random here.
fn hash(text: &str, n: i64) -> u64 {
    let h = crate::model::hash::stable(&[text.as_bytes(), &n.to_le_bytes()]);
    h ^ (h >> 29)
}

/// Seconds between lines of a stream (1–6 s): sidecars are quieter than apps.
fn interval(stream: &str) -> i64 {
    let container = stream.split('/').nth(1).unwrap_or_default();
    let quiet = ["envoy", "datadog", "log-router"]
        .iter()
        .any(|s| container.starts_with(s));
    if quiet {
        5 + (hash(stream, 0) % 4) as i64
    } else {
        1 + (hash(stream, 0) % 3) as i64
    }
}

/// The service a stream belongs to: `/ecs/<family>` groups are named after it.
fn service_of(group: &str) -> &str {
    group.rsplit('/').next().unwrap_or(group)
}

fn message(service: &str, stream: &str, n: i64, at: Time) -> String {
    let h = hash(stream, n);
    // Sidecars speak their own dialects.
    let container = stream.split('/').nth(1).unwrap_or_default();
    match container {
        "datadog-agent" => {
            return format!(
                "{} UTC | CORE | INFO | (pkg/forwarder/transaction.go:{}) | Successfully posted payload to \"https://7-59-0-app.agent.datadoghq.com/api/v2/series\"",
                at.format("%Y-%m-%d %H:%M:%S"),
                340 + h % 9
            );
        }
        "envoy" => {
            return format!(
                "[{}] \"GET /healthz HTTP/1.1\" 200 - 0 {} {} - \"10.0.{}.{}\"",
                at.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
                h % 900,
                h % 7,
                h % 255,
                h % 250
            );
        }
        "log-router" => {
            return format!(
                "[{}] [ info] [output:cloudwatch_logs:cloudwatch_logs.0] sent {} events",
                at.format("%Y/%m/%d %H:%M:%S"),
                1 + h % 40
            );
        }
        _ => {}
    }
    let id = h % 100_000;
    let ms = 3 + h % 240;
    let path = [
        "/",
        "/cart",
        "/items/42",
        "/health",
        "/api/v2/orders",
        "/search?q=boots",
    ][(h % 6) as usize];
    match (service, h % 100) {
        ("payments", 0..=5) => {
            let used = 60 + (at.timestamp().rem_euclid(1800) * 40 / 1800);
            format!("WARN GC overhead high: heap {used}% of 1536m after full GC")
        }
        ("payments", 6) => "ERROR java.lang.OutOfMemoryError: Java heap space".into(),
        ("checkout", 0..=7) => format!(
            "ERROR payment call failed: connect to db.internal:5432 timed out after 5000ms (attempt {})",
            1 + h % 3
        ),
        ("search", 0..=4) => "WARN query took 2413ms (threshold 1000ms): index shard 3 busy".into(),
        (_, 0..=2) => format!("WARN retrying upstream call req={id:05} after 503 ({ms}ms)"),
        (_, 3) => format!(
            "ERROR request req={id:05} failed: java.net.UnknownHostException: inventory.internal"
        ),
        (_, 4) => format!(
            "\x1b[32mINFO\x1b[0m cache warmed: {} keys in {ms}ms",
            h % 5000
        ),
        _ => format!(
            "INFO {} {path} 200 {ms}ms req={id:05}",
            ["GET", "GET", "POST", "GET"][(h % 4) as usize]
        ),
    }
}

/// Events of the query's streams in `[start, end)` (end: `now`), oldest first.
pub fn log_events(query: &LogQuery, now: Time) -> Vec<LogEvent> {
    let end = query.end.unwrap_or(now).min(now);
    let service = service_of(&query.group);
    let mut out = Vec::new();
    for stream in &query.streams {
        let every = interval(stream);
        // Line n is at n * every seconds (+ a fixed offset per stream, to interleave).
        let offset = (hash(stream, 1) % 1000) as i64;
        let first = (query.start.timestamp_millis() - offset).div_euclid(every * 1000) + 1;
        let mut n = first.max(0);
        loop {
            let millis = n * every * 1000 + offset;
            let Some(at) = Time::from_timestamp_millis(millis) else {
                break;
            };
            if at >= end {
                break;
            }
            if at >= query.start {
                out.push(LogEvent {
                    id: format!("{:020}{:06}", millis, hash(stream, n) % 1_000_000),
                    at,
                    group: query.group.clone(),
                    stream: stream.clone(),
                    message: bounded_message(message(service, stream, n, at)),
                });
            }
            n += 1;
        }
    }
    out.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
    if let Some(limit) = query.limit {
        out.truncate(limit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(start: i64, end: i64) -> LogQuery {
        LogQuery {
            group: "/ecs/payments".into(),
            region: None,
            streams: vec!["ecs/payments/abc".into(), "ecs/envoy/abc".into()],
            start: Time::from_timestamp(1_800_000_000 + start, 0).unwrap(),
            end: Some(Time::from_timestamp(1_800_000_000 + end, 0).unwrap()),
            limit: None,
        }
    }

    #[test]
    fn reads_of_adjacent_ranges_add_up_to_the_whole() {
        let now = Time::from_timestamp(1_900_000_000, 0).unwrap();
        let whole = log_events(&query(0, 600), now);
        let mut parts = log_events(&query(0, 200), now);
        parts.extend(log_events(&query(200, 600), now));
        assert_eq!(whole, parts);
        assert!(whole.len() > 100);
        assert!(whole.windows(2).all(|w| w[0].at <= w[1].at));
    }

    #[test]
    fn nothing_from_the_future() {
        let now = Time::from_timestamp(1_800_000_100, 0).unwrap();
        assert!(log_events(&query(0, 600), now).iter().all(|e| e.at < now));
    }
}
