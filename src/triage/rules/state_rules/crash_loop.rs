//! essential-container-crash-loop: tasks of one service keep dying on their own.

use std::collections::BTreeSet;

use chrono::TimeDelta;

use super::stops;
use super::support::{duration, lifetime, median, stop_time};
use crate::model::{Evidence, Observation, Remedy, Service, Severity, Task};
use crate::triage::Input;
use crate::triage::input::service_subject;
use crate::triage::rules::about::{About, CRITICAL, Read, Value, limit};

pub const ID: &str = "essential-container-crash-loop";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "Tasks of one service keep exiting with a crash code (not OOM-only, not failures to start).",
    severities: CRITICAL,
    reads: &[Read::Api(
        "ECS DescribeTasks (stopped): stopCode, exitCode, startedAt/stoppedAt, revision",
    )],
    limits: &[
        limit("crashes ≥", Value::Count(MIN_CRASHES)),
        limit("within", Value::Span(WINDOW)),
        limit(
            "\"crash on startup\" when the median lifetime is <",
            Value::Span(STARTUP),
        ),
    ],
};
/// Crashes within this window… (our default)
const WINDOW: TimeDelta = TimeDelta::minutes(10);
/// …at least this many (our default).
const MIN_CRASHES: usize = 3;
/// Median lifetime below this tags the finding "crash on startup" (our default).
const STARTUP: TimeDelta = TimeDelta::seconds(120);

pub fn check(input: &Input) -> Vec<Observation> {
    input
        .services
        .iter()
        .filter_map(|s| observe(input, s))
        .collect()
}

/// Stopped because an essential container exited with a crash code. Failures to start have
/// rules of their own; scheduler and user stops (ELB health kills, deployments, the SIGKILL
/// after `stopTimeout`) are not crashes.
fn crashed(t: &Task) -> bool {
    stops::essential_exited(t) && !stops::crash_codes(t).is_empty()
}

fn observe(input: &Input, s: &Service) -> Option<Observation> {
    // Newest first.
    let crashes: Vec<&Task> = input
        .stops_of(s, input.now - WINDOW)
        .into_iter()
        .filter(|t| crashed(t))
        .collect();
    if crashes.len() < MIN_CRASHES {
        return None;
    }
    // task-oom-killed already reports each of these.
    if crashes.iter().all(|t| !stops::oom_kills(t).is_empty()) {
        return None;
    }
    let codes: BTreeSet<i32> = crashes.iter().flat_map(|t| stops::crash_codes(t)).collect();
    let codes: Vec<String> = codes.into_iter().map(stops::describe).collect();
    let lifetimes: Vec<i64> = crashes
        .iter()
        .filter_map(|t| lifetime(t))
        .map(|d| d.num_seconds())
        .collect();
    let median_life = median(lifetimes);
    let revisions: BTreeSet<String> = crashes
        .iter()
        .map(|t| t.task_definition.to_string())
        .collect();
    let revisions: Vec<String> = revisions.into_iter().collect();
    let lifetime_text = median_life.map_or("unknown".into(), |m| format!("{m}s"));
    let on_startup = median_life.is_some_and(|m| m < STARTUP.num_seconds());
    let mut message = format!(
        "{}: {} tasks crashed in {} (exit codes {}, median lifetime {}, revision {})",
        s.name,
        crashes.len(),
        duration(WINDOW),
        codes.join(", "),
        lifetime_text,
        revisions.join(", ")
    );
    if on_startup {
        message.push_str(" — crash on startup");
    }
    // The stop that made the count reach the threshold.
    let since = stop_time(crashes[MIN_CRASHES - 1]);
    let mut obs = Observation::new(ID, Severity::Critical, service_subject(s), message)
        .next(next_step(s, &crashes))
        .remedies(&[Remedy::OpenLogs, Remedy::ShowTask, Remedy::Redeploy]);
    if let Some(at) = since {
        obs = obs.since(at);
    }
    for t in crashes.iter().take(5) {
        if let Some(at) = stop_time(t) {
            obs = obs.evidence(Evidence::at(
                at,
                format!(
                    "task {} ({}) exited {} after {}: {}",
                    t.short_id(),
                    t.task_definition,
                    t.exit_codes(),
                    lifetime(t).map_or("?".into(), duration),
                    t.stopped_reason
                ),
            ));
        }
    }
    let restarts = s
        .events
        .iter()
        .filter(|e| e.at >= input.now - WINDOW && e.message.contains("has started 1 tasks"))
        .count();
    if restarts > 0 {
        obs = obs.evidence(Evidence::at(
            input.now,
            format!(
                "{restarts} \"has started 1 tasks\" events in {}",
                duration(WINDOW)
            ),
        ));
    }
    Some(obs)
}

fn next_step(s: &Service, crashes: &[&Task]) -> String {
    let mut next = String::from(
        "Open logs for the most recent stopped task: the stack trace before the exit normally \
         names the cause.",
    );
    let primary = s.primary_deployment().map(|d| &d.task_definition);
    let previous = s
        .deployments
        .iter()
        .find(|d| d.status == "ACTIVE")
        .map(|d| &d.task_definition);
    if let (Some(new), Some(old)) = (primary, previous)
        && new != old
        && crashes.iter().all(|t| &t.task_definition == new)
    {
        next.push_str(&format!(
            " Every failing task runs the new revision {new}: roll back with redeploy on {old}."
        ));
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::Facts;
    use crate::triage::rules::state_rules::stops::{ESSENTIAL_EXITED, FAILED_TO_START};
    use crate::triage::rules::state_rules::support::fixtures::*;

    fn with_stops(stops: Vec<Task>) -> Facts {
        let mut f = facts();
        f.services = vec![service("web")];
        f.stopped = stops;
        f
    }

    fn crash(id: &str, mins: i64, lived: i64, code: i32) -> Task {
        stopped(
            "web",
            id,
            mins_ago(mins),
            lived,
            ESSENTIAL_EXITED,
            Some(code),
        )
    }

    #[test]
    fn fires_on_three_crashes_in_ten_minutes() {
        let f = with_stops(vec![
            crash("t1", 1, 300, 1),
            crash("t2", 4, 200, 1),
            crash("t3", 9, 400, 139),
        ]);
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        let o = &found[0];
        assert_eq!(o.severity, Severity::Critical);
        assert_eq!(
            o.message,
            "web: 3 tasks crashed in 10m (exit codes 1 (app error), 139 (segfault), median \
             lifetime 300s, revision web:17)"
        );
        assert_eq!(o.since, Some(mins_ago(9)));
        assert_eq!(o.evidence.len(), 3);
    }

    #[test]
    fn two_crashes_or_crashes_outside_the_window_are_quiet() {
        let f = with_stops(vec![crash("t1", 1, 300, 1), crash("t2", 4, 300, 1)]);
        assert!(check(&f.input()).is_empty());
        let f = with_stops(vec![
            crash("t1", 1, 300, 1),
            crash("t2", 4, 300, 1),
            crash("t3", 11, 300, 1),
        ]);
        assert!(check(&f.input()).is_empty());
    }

    #[test]
    fn sigterm_scheduler_and_failed_to_start_stops_do_not_count() {
        let mut sched = stopped(
            "web",
            "t4",
            mins_ago(2),
            300,
            "ServiceSchedulerInitiated",
            Some(137),
        );
        sched.stopped_reason = "Task failed ELB health checks in (target-group arn:x)".into();
        let pull = stopped("web", "t5", mins_ago(2), 0, FAILED_TO_START, None);
        let f = with_stops(vec![
            crash("t1", 1, 300, 1),
            crash("t2", 2, 300, 143),
            crash("t3", 3, 300, 0),
            sched,
            pull,
        ]);
        assert!(check(&f.input()).is_empty());
    }

    #[test]
    fn suppressed_when_every_crash_is_an_oom_but_counted_when_mixed() {
        let f = with_stops(vec![
            crash("t1", 1, 300, 137),
            crash("t2", 2, 300, 137),
            crash("t3", 3, 300, 137),
        ]);
        assert!(check(&f.input()).is_empty());
        let f = with_stops(vec![
            crash("t1", 1, 300, 137),
            crash("t2", 2, 300, 137),
            crash("t3", 3, 300, 1),
        ]);
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("137 (SIGKILL/OOM)"));
    }

    #[test]
    fn tagged_crash_on_startup_below_a_median_of_120s() {
        let f = with_stops(vec![
            crash("t1", 1, 30, 1),
            crash("t2", 2, 119, 1),
            crash("t3", 3, 500, 1),
        ]);
        assert!(check(&f.input())[0].message.ends_with("— crash on startup"));
        let f = with_stops(vec![
            crash("t1", 1, 30, 1),
            crash("t2", 2, 120, 1),
            crash("t3", 3, 500, 1),
        ]);
        assert!(!check(&f.input())[0].message.contains("crash on startup"));
    }

    #[test]
    fn suggests_rolling_back_when_only_the_new_revision_crashes() {
        let mut f = with_stops(vec![
            crash("t1", 1, 30, 1),
            crash("t2", 2, 30, 1),
            crash("t3", 3, 30, 1),
        ]);
        f.services[0]
            .deployments
            .push(deployment("ecs-svc/0", "ACTIVE", td_ref("web", 16)));
        let found = check(&f.input());
        assert!(
            found[0].next.contains("roll back with redeploy on web:16"),
            "{}",
            found[0].next
        );
    }
}
