//! task-oom-killed: a container of a stopped task was killed for using too much memory.
//! Once per stopped task, keyed by its ARN, opened at its stop time.

use chrono::TimeDelta;

use super::stops::{self, OomKill};
use super::support::{RECENT, clock, plural, siblings_stopped_since, stop_time};
use crate::model::{Evidence, Observation, Remedy, Severity, Task, Time};
use crate::triage::Input;
use crate::triage::input::container_subject;
use crate::triage::rules::about::{About, Read, Value, WARNING_CRITICAL, limit};

pub const ID: &str = "task-oom-killed";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "A container of a stopped task was killed for using too much memory (exit 137, OutOfMemoryError).",
    severities: WARNING_CRITICAL,
    reads: &[
        Read::Api("ECS DescribeTasks (stopped): containers' exitCode and reason, stopCode"),
        Read::Metric(
            "ECS/ContainerInsights MemoryUtilized, per task (the last sample before the stop)",
        ),
    ],
    limits: &[
        limit(
            "repeating: ≥ 2 kills of one service within",
            Value::Span(REPEAT_WINDOW),
        ),
        limit(
            "a bare exit 137 is an OOM at memory/limit ≥",
            Value::Share(NEAR_LIMIT),
        ),
    ],
};
/// Kills of one service within this window make the finding "repeating" (our default).
const REPEAT_WINDOW: TimeDelta = TimeDelta::minutes(30);
/// A bare 137 counts as a confirmed OOM when the task's last memory sample was this close to
/// the limit.
const NEAR_LIMIT: f64 = 0.9;

pub fn check(input: &Input) -> Vec<Observation> {
    let since = input.now - RECENT;
    let mut out = Vec::new();
    for task in input.stopped.iter().copied() {
        let Some(stopped_at) = stop_time(task).filter(|&at| at >= since) else {
            continue;
        };
        for kill in stops::oom_kills(task) {
            out.push(observe(input, task, stopped_at, kill));
        }
    }
    out
}

fn observe(input: &Input, task: &Task, stopped_at: Time, kill: OomKill) -> Observation {
    let container = kill.container;
    let limit = hard_limit(input, task, &container.name);
    let last = last_memory(input, task, stopped_at);
    let near_limit = matches!((last, limit), (Some(l), Some(lim)) if l >= NEAR_LIMIT * lim as f64);
    let confirmed = kill.confirmed || near_limit;
    let kills = kills_in_window(input, task);
    let exit = container
        .exit_code
        .map(|c| format!(" (exit {c})"))
        .unwrap_or_default();
    let what = if confirmed {
        format!("was OOM-killed{exit}")
    } else {
        format!("was killed by SIGKILL{exit}, possible OOM")
    };
    let mut facts = Vec::new();
    facts.push(match limit {
        Some(l) => format!("limit {l} MiB"),
        None => "limit unknown".into(),
    });
    if let Some(l) = last {
        facts.push(format!("last seen {l:.0} MiB"));
    }
    let repeating = if kills >= 2 { " (repeating)" } else { "" };
    facts.push(format!(
        "{} in 30 min{repeating}",
        plural(kills, "OOM kill")
    ));
    let message = format!(
        "{} in task {} ({}) {what} at {}; {}",
        container.name,
        task.short_id(),
        // The revision, not the service again: a kill that began with a deploy shows it.
        task.task_definition,
        clock(stopped_at),
        facts.join("; ")
    );
    let severity = if confirmed {
        Severity::Critical
    } else {
        Severity::Warning
    };
    let mut obs = Observation::new(
        ID,
        severity,
        container_subject(task, &container.name),
        message,
    )
    .key(task.arn.clone())
    .since(stopped_at)
    .evidence(Evidence::at(
        stopped_at,
        format!(
            "stopCode {}, stoppedReason \"{}\", {} exit {}, reason \"{}\"",
            task.stop_code,
            task.stopped_reason,
            container.name,
            container.exit_code.map_or("-".into(), |c| c.to_string()),
            container.reason
        ),
    ))
    .next(
        "Open the metrics chart for task memory to tell a steady climb (a leak, see \
             memory-leak-trend) from a load spike; open logs for the last lines before the \
             kill. Mitigate by raising the container memory limit (keep -Xmx below it) in a \
             new revision, then redeploy.",
    )
    .remedies(&[
        Remedy::Chart,
        Remedy::OpenLogs,
        Remedy::ShowTask,
        Remedy::Redeploy,
    ]);
    if let (Some(l), Some(lim)) = (last, limit) {
        obs = obs.evidence(Evidence::at(
            stopped_at,
            format!("MemoryUtilized {l:.0} MiB of a {lim} MiB limit before the stop"),
        ));
    }
    obs
}

/// The container's hard limit: from the task, its definition, or the task-level size.
fn hard_limit(input: &Input, task: &Task, container: &str) -> Option<u32> {
    let from_task = task
        .containers
        .iter()
        .find(|c| c.name == container)
        .and_then(|c| c.memory);
    let td = input.task_definition(&task.task_definition.arn);
    from_task
        .or_else(|| {
            td.and_then(|d| d.container(container))
                .and_then(|c| c.memory)
        })
        .or(task.memory)
        .or_else(|| td.and_then(|d| d.memory))
}

/// The task's last Container Insights memory sample before it stopped (enhanced
/// observability only), within 5 minutes of the stop.
fn last_memory(input: &Input, task: &Task, stopped_at: Time) -> Option<f64> {
    let history = input.task_memory(task)?;
    history
        .points()
        .rev()
        .find(|p| p.at <= stopped_at && stopped_at - p.at <= TimeDelta::minutes(5))
        .map(|p| p.value)
}

/// OOM kills of the task's service in the 30 minutes before now.
fn kills_in_window(input: &Input, task: &Task) -> usize {
    siblings_stopped_since(input, task, input.now - REPEAT_WINDOW)
        .iter()
        .filter(|t| !stops::oom_kills(t).is_empty())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::rules::state_rules::stops::ESSENTIAL_EXITED;
    use crate::triage::rules::state_rules::support::fixtures::*;

    const OOM: &str = "OutOfMemoryError: Container killed due to memory usage";

    fn oom(id: &str, at: Time) -> Task {
        let mut t = stopped("web", id, at, 600, ESSENTIAL_EXITED, Some(137));
        t.containers[0].reason = OOM.into();
        t
    }

    #[test]
    fn fires_once_per_oom_killed_task_keyed_by_arn_since_the_stop() {
        let mut f = facts();
        f.stopped = vec![oom("aaaaaaaa1111", mins_ago(2))];
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        let o = &found[0];
        assert_eq!(o.severity, Severity::Critical);
        assert_eq!(o.key, task_arn("aaaaaaaa1111"));
        assert_eq!(o.since, Some(mins_ago(2)));
        assert_eq!(
            o.message,
            "app in task aaaaaaaa (web:17) was OOM-killed (exit 137) at 11:58:00; limit 1024 MiB; \
             1 OOM kill in 30 min"
        );
        assert!(o.evidence[0].text.contains(OOM));
    }

    #[test]
    fn quiet_on_crashes_clean_stops_and_scheduler_sigkills() {
        let mut f = facts();
        f.stopped = vec![
            stopped("web", "t1", mins_ago(1), 60, ESSENTIAL_EXITED, Some(1)),
            stopped(
                "web",
                "t2",
                mins_ago(1),
                60,
                "ServiceSchedulerInitiated",
                Some(137),
            ),
            stopped("web", "t3", mins_ago(1), 60, "UserInitiated", Some(137)),
            stopped(
                "web",
                "t4",
                mins_ago(1),
                60,
                "ServiceSchedulerInitiated",
                Some(143),
            ),
        ];
        assert!(check(&f.input()).is_empty());
    }

    #[test]
    fn a_bare_137_under_essential_exit_is_a_warning_unless_memory_was_at_the_limit() {
        let mut f = facts();
        f.stopped = vec![stopped(
            "web",
            "t1",
            mins_ago(1),
            60,
            ESSENTIAL_EXITED,
            Some(137),
        )];
        let found = check(&f.input());
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(
            found[0]
                .message
                .contains("SIGKILL (exit 137), possible OOM"),
            "{}",
            found[0].message
        );

        // Container Insights saw 1000 MiB of 1024 in the minute before the stop.
        let task = f.stopped[0].clone();
        f.series(
            crate::model::metric_catalog::task_memory(&task),
            &[990.0, 1000.0, f64::NAN],
        );
        let found = check(&f.input());
        assert_eq!(found[0].severity, Severity::Critical);
        assert!(
            found[0].message.contains("last seen 1000 MiB"),
            "{}",
            found[0].message
        );

        // 800 of 1024 (78%) is not memory evidence.
        let mut f2 = facts();
        f2.stopped = vec![task.clone()];
        f2.series(
            crate::model::metric_catalog::task_memory(&task),
            &[800.0, 800.0, f64::NAN],
        );
        assert_eq!(check(&f2.input())[0].severity, Severity::Warning);
    }

    #[test]
    fn repeating_at_two_kills_in_thirty_minutes() {
        let mut f = facts();
        f.stopped = vec![oom("t1", mins_ago(5)), oom("t2", mins_ago(31))];
        // t2 is older than the finding window and than the repeat window: one kill counts.
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.ends_with("1 OOM kill in 30 min"),
            "{}",
            found[0].message
        );

        f.stopped.push(oom("t3", mins_ago(29)));
        let found = check(&f.input());
        assert_eq!(found.len(), 2);
        assert!(
            found
                .iter()
                .all(|o| o.message.ends_with("2 OOM kills in 30 min (repeating)")),
            "{found:?}"
        );
    }

    #[test]
    fn stops_older_than_the_window_are_no_longer_reported() {
        let mut f = facts();
        f.stopped = vec![oom("t1", mins_ago(31))];
        assert!(check(&f.input()).is_empty());
        f.stopped = vec![oom("t1", mins_ago(30))];
        assert_eq!(check(&f.input()).len(), 1);
    }

    #[test]
    fn the_limit_comes_from_the_task_definition_when_the_task_lacks_it() {
        let mut f = facts();
        let mut t = oom("t1", mins_ago(1));
        t.containers[0].memory = None;
        f.stopped = vec![t];
        add_task_definition(
            &mut f,
            task_definition(
                "web",
                17,
                crate::model::ContainerDefinition {
                    memory: Some(2048),
                    ..Default::default()
                },
            ),
        );
        assert!(check(&f.input())[0].message.contains("limit 2048 MiB"));
    }
}
