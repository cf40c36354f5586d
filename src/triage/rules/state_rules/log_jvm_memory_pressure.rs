//! log-jvm-memory-pressure: a container's log shows the JVM (or Node) running out of memory,
//! or spending its time in garbage collection.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use chrono::TimeDelta;
use regex::Regex;

use super::support::{clock, duration, log_subject, short, stop_time};
use crate::model::LogSample;
use crate::model::arn::short_task_id;
use crate::model::{Evidence, Observation, Remedy, Severity, Time, metric_catalog};
use crate::triage::Input;
use crate::triage::rules::about::{About, Read, Value, WARNING_CRITICAL, limit};

pub const ID: &str = "log-jvm-memory-pressure";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "A container's log shows the JVM (or Node) running out of memory, or spending its time in garbage collection.",
    severities: WARNING_CRITICAL,
    reads: &[Read::Log(OOM_PATTERN), Read::Log(GC_PAUSE_PATTERN)],
    limits: &[
        limit("full GCs ≥", Value::Count(FULL_GCS)),
        limit("or GC pause time ≥", Value::Share(PAUSE_SHARE)),
        limit("within", Value::Span(WINDOW)),
        limit(
            "critical when the task stops within",
            Value::Span(STOP_AFTER),
        ),
    ],
};
/// Lines this recent count (our default).
const WINDOW: TimeDelta = TimeDelta::minutes(5);
/// Full GCs in the window that fire (our default).
const FULL_GCS: usize = 5;
/// Share of wall-clock time spent in GC pauses that fires (our default).
const PAUSE_SHARE: f64 = 0.2;
/// A stop this soon after the match makes it critical.
const STOP_AFTER: TimeDelta = TimeDelta::minutes(5);

const OOM_PATTERN: &str = r"java\.lang\.OutOfMemoryError(?::\s*(?<kind>Java heap space|GC overhead limit exceeded|Metaspace|unable to create new native thread|Direct buffer memory))?|(?<gc>GC overhead limit exceeded)|(?m:^\s*(?<killed>Killed)\s*$)|(?<node>JavaScript heap out of memory)";
static OOM: LazyLock<Regex> = LazyLock::new(|| Regex::new(OOM_PATTERN).unwrap());
const GC_PAUSE_PATTERN: &str = r"Pause (?<kind>Full|Young).* (?<ms>[\d.]+)ms";
static GC_PAUSE: LazyLock<Regex> = LazyLock::new(|| Regex::new(GC_PAUSE_PATTERN).unwrap());

/// What an out-of-memory line says: `OutOfMemoryError: Java heap space`, `Killed`.
fn oom_kind(line: &str) -> Option<String> {
    let c = OOM.captures(line)?;
    Some(if let Some(k) = c.name("kind") {
        format!("OutOfMemoryError: {}", k.as_str())
    } else if c.name("gc").is_some() {
        "GC overhead limit exceeded".into()
    } else if c.name("killed").is_some() {
        "Killed".into()
    } else if c.name("node").is_some() {
        "JavaScript heap out of memory".into()
    } else {
        "OutOfMemoryError".into()
    })
}

pub fn check(input: &Input) -> Vec<Observation> {
    let since = input.now - WINDOW;
    let mut by_container: BTreeMap<(&str, &str), Vec<&LogSample>> = BTreeMap::new();
    for l in input.logs.iter().filter(|l| l.at >= since) {
        by_container
            .entry((l.task_arn.as_str(), l.container.as_str()))
            .or_default()
            .push(l);
    }
    by_container
        .into_values()
        .filter_map(|mut lines| {
            lines.sort_by_key(|l| l.at);
            observe(input, &lines)
        })
        .collect()
}

fn observe(input: &Input, lines: &[&LogSample]) -> Option<Observation> {
    let ooms: Vec<(&LogSample, String)> = lines
        .iter()
        .filter_map(|l| oom_kind(&l.message).map(|k| (*l, k)))
        .collect();
    let pauses: Vec<(&LogSample, bool, f64)> = lines
        .iter()
        .filter_map(|l| {
            let c = GC_PAUSE.captures(&l.message)?;
            Some((*l, &c["kind"] == "Full", c["ms"].parse::<f64>().ok()?))
        })
        .collect();
    let full = pauses.iter().filter(|(_, full, _)| *full).count();
    let paused_ms: f64 = pauses.iter().map(|(_, _, ms)| ms).sum();
    let share = paused_ms / WINDOW.num_milliseconds() as f64;
    let gc_bound = full >= FULL_GCS || share > PAUSE_SHARE;

    let first = lines[0];
    let (kind, at, count, matches): (String, Time, usize, Vec<&LogSample>) =
        if let Some((last, kind)) = ooms.last() {
            (
                kind.clone(),
                last.at,
                ooms.len(),
                ooms.iter().map(|(l, _)| *l).collect(),
            )
        } else if gc_bound {
            let kind = if full >= FULL_GCS {
                format!("{full} full GCs")
            } else {
                format!("GC pauses {:.0}% of wall-clock time", share * 100.0)
            };
            let matched: Vec<&LogSample> = pauses.iter().map(|(l, _, _)| *l).collect();
            let last = matched.last()?.at;
            (kind, last, matched.len(), matched)
        } else {
            return None;
        };
    // Critical when the task stopped within 5 minutes of a match.
    let stopped_after = input
        .stopped
        .iter()
        .find(|t| t.arn == first.task_arn)
        .and_then(|t| stop_time(t))
        .filter(|&stop| {
            matches
                .iter()
                .any(|l| stop >= l.at && stop - l.at <= STOP_AFTER)
        });
    let severity = if stopped_after.is_some() {
        Severity::Critical
    } else {
        Severity::Warning
    };
    let memory = memory_pct(input, first);
    let message = format!(
        "{}/{}: {kind} at {} ({count} in {}){}",
        first.container,
        short_task_id(&first.task_arn),
        clock(at),
        duration(WINDOW),
        memory.map_or(String::new(), |p| format!(
            "; container memory {p:.0}% of limit"
        ))
    );
    let mut obs = Observation::new(ID, severity, log_subject(first), message)
        .since(matches[0].at)
        .next(
            "A JVM OOM while the container is well under its limit means the heap is sized too \
             small for the container: raise -Xmx or MaxRAMPercentage. At the container limit, \
             the limit must rise or a leak must be found (memory-leak-trend). Take a heap dump \
             with -XX:+HeapDumpOnOutOfMemoryError or exec `jmap`; open logs for the context.",
        )
        .remedies(&[Remedy::OpenLogs, Remedy::Exec, Remedy::Chart]);
    for l in matches.iter().rev().take(3) {
        obs = obs.evidence(Evidence::at(l.at, short(&l.message, 300)));
    }
    if let Some(stop) = stopped_after {
        obs = obs.evidence(Evidence::at(
            stop,
            "the task stopped within 5 min of the match",
        ));
    }
    Some(obs)
}

/// The task's latest memory use (Container Insights, enhanced) against its limit.
fn memory_pct(input: &Input, l: &LogSample) -> Option<f64> {
    let task = input
        .tasks
        .iter()
        .chain(input.stopped.iter())
        .find(|t| t.arn == l.task_arn)?;
    let limit = task
        .containers
        .iter()
        .find(|c| c.name == l.container)
        .and_then(|c| c.memory)
        .or(task.memory)?;
    let used = input.series(&metric_catalog::task_memory(task))?.latest()?;
    (input.now - used.at <= TimeDelta::minutes(5)).then(|| 100.0 * used.value / f64::from(limit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::Facts;
    use crate::triage::rules::state_rules::support::fixtures::*;

    fn with_lines(lines: &[(i64, &str)]) -> Facts {
        let mut f = facts();
        f.logs = lines
            .iter()
            .map(|(secs, m)| log("web", "abcdef0123", secs_ago(*secs), m))
            .collect();
        f
    }

    #[test]
    fn an_out_of_memory_line_fires_at_once() {
        let f = with_lines(&[(30, "ERROR java.lang.OutOfMemoryError: Java heap space")]);
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(
            found[0].message,
            "app/abcdef01: OutOfMemoryError: Java heap space at 11:59:30 (1 in 5m)"
        );
    }

    #[test]
    fn kinds() {
        assert_eq!(
            oom_kind("java.lang.OutOfMemoryError: Metaspace").as_deref(),
            Some("OutOfMemoryError: Metaspace")
        );
        assert_eq!(
            oom_kind("Exception java.lang.OutOfMemoryError").as_deref(),
            Some("OutOfMemoryError")
        );
        assert_eq!(oom_kind("Killed").as_deref(), Some("Killed"));
        assert_eq!(oom_kind("Process Killed by user"), None);
        assert_eq!(
            oom_kind(
                "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory"
            )
            .as_deref(),
            Some("JavaScript heap out of memory")
        );
        assert_eq!(oom_kind("GET /memory 200"), None);
    }

    #[test]
    fn critical_when_the_task_stops_within_five_minutes_and_adds_memory_use() {
        let mut f = with_lines(&[(240, "java.lang.OutOfMemoryError: Java heap space")]);
        let mut t = stopped(
            "web",
            "abcdef0123",
            secs_ago(60),
            600,
            "EssentialContainerExited",
            Some(137),
        );
        t.containers[0].memory = Some(1000);
        f.stopped = vec![t.clone()];
        f.series(metric_catalog::task_memory(&t), &[950.0]);
        let found = check(&f.input());
        assert_eq!(found[0].severity, Severity::Critical);
        assert!(
            found[0]
                .message
                .ends_with("; container memory 95% of limit"),
            "{}",
            found[0].message
        );
        // A stop before the match does not count.
        f.stopped[0].stopped_at = Some(secs_ago(250));
        assert_eq!(check(&f.input())[0].severity, Severity::Warning);
    }

    #[test]
    fn five_full_gcs_in_five_minutes() {
        let full = "[gc] GC(12) Pause Full (G1 Compaction Pause) 900M->850M(1024M) 820.512ms";
        let lines: Vec<(i64, &str)> = (0..5).map(|n| (10 + n * 50, full)).collect();
        let found = check(&with_lines(&lines).input());
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .message
                .starts_with("app/abcdef01: 5 full GCs at 11:59:50 (5 in 5m)"),
            "{}",
            found[0].message
        );
        assert!(check(&with_lines(&lines[..4]).input()).is_empty());
        // The fifth is older than the window.
        let mut old = lines.clone();
        old[4].0 = 301;
        assert!(check(&with_lines(&old).input()).is_empty());
    }

    #[test]
    fn pauses_over_a_fifth_of_the_time() {
        let young =
            "[gc] GC(3) Pause Young (Normal) (G1 Evacuation Pause) 500M->300M(1024M) 15000.0ms";
        // 4 × 15 s = 60 s of 300 s: exactly 20%, quiet; a fifth pause tips it.
        let lines: Vec<(i64, &str)> = (0..4).map(|n| (10 + n * 30, young)).collect();
        assert!(check(&with_lines(&lines).input()).is_empty());
        let mut more = lines.clone();
        more.push((
            200,
            "[gc] GC(4) Pause Young (Normal) 500M->300M(1024M) 1.0ms",
        ));
        assert!(
            check(&with_lines(&more).input())[0]
                .message
                .contains("GC pauses 20% of wall-clock time")
        );
    }
}
