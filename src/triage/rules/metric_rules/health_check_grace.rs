//! health-check-grace-too-short: tasks need longer to start than ECS lets them ignore failing
//! load-balancer health checks.
//!
//! Two branches. **Startup**: each task's time to its first `healthy` poll (the target matched
//! by private IP) after `startedAt`, less the passing checks the load balancer needs to confirm
//! it ((healthyThreshold − 1) × interval: a 20 s boot with 5 × 30 s checks is not a slow
//! start); the p90 over the last 10 tasks above the grace fires. Only transitions the console
//! saw (a poll without it healthy at most 2 min before the healthy one) count. **Killed**: ≥2
//! tasks stopped for "Task failed ELB health checks" in 15 min after a lifetime below grace +
//! interval × unhealthyThreshold + 30 s, unless their log says the app had started within
//! the grace or the load balancer got an HTTP answer from them (ResponseCodeMismatch: the app
//! was up, the check is wrong).

use chrono::TimeDelta;
use std::sync::LazyLock;

use regex::Regex;

use super::util::{duration, percentile, target_groups};
use crate::model::{
    Evidence, HealthCheck, Observation, Remedy, Service, Severity, TargetGroupHealth, Task, Time,
};
use crate::sanitize::clean;
use crate::triage::Input;
use crate::triage::input::service_subject;
use crate::triage::rules::about::{About, Read, Value, WARNING, limit};

pub const ID: &str = "health-check-grace-too-short";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "Tasks need longer to start than the service's health-check grace period lets them.",
    severities: WARNING,
    reads: &[
        Read::Api("ELBv2 DescribeTargetHealth: first healthy poll after startedAt"),
        Read::Api("ECS DescribeServices: healthCheckGracePeriodSeconds"),
        Read::Api("ECS DescribeTasks (stopped): \"Task failed ELB health checks\""),
        Read::Log(STARTED_PATTERN),
    ],
    limits: &[
        limit("p90 over the newest tasks", Value::Count(LAST_TASKS)),
        limit("samples ≥", Value::Count(MIN_SAMPLES)),
        limit("or killed young ≥", Value::Count(MIN_KILLS)),
        limit("within", Value::Span(KILL_WINDOW)),
    ],
};

/// Spring Boot's startup line.
const STARTED_PATTERN: &str = r"Started \S+ in ([\d.]+) seconds";
static STARTED: LazyLock<Regex> = LazyLock::new(|| Regex::new(STARTED_PATTERN).unwrap());

/// Startup samples: the newest tasks, and how many are needed (our defaults).
const LAST_TASKS: usize = 10;
const MIN_SAMPLES: usize = 2;
/// The poll before the first healthy one must be this close, or the startup is not known.
const MAX_POLL_GAP: TimeDelta = TimeDelta::minutes(2);
/// How far back stopped tasks are read for startup samples.
const SAMPLE_SINCE: TimeDelta = TimeDelta::hours(3);
const KILL_WINDOW: TimeDelta = TimeDelta::minutes(15);
const MIN_KILLS: usize = 2;
const KILL_MARGIN_SECS: i64 = 30;
const ELB_KILL: &str = "Task failed ELB health checks";

/// Health-check settings of the service's first polled group; the ALB defaults otherwise.
fn settings<'a>(input: &Input<'a>, s: &Service) -> (Option<&'a TargetGroupHealth>, HealthCheck) {
    let latest = target_groups(s)
        .into_iter()
        .find_map(|tg| input.target_polls(tg).last());
    let mut hc = latest.map(|p| p.health_check.clone()).unwrap_or_default();
    if hc.interval_secs <= 0 {
        hc.interval_secs = 30;
    }
    if hc.unhealthy_threshold <= 0 {
        hc.unhealthy_threshold = 2;
    }
    if hc.healthy_threshold <= 0 {
        hc.healthy_threshold = 5;
    }
    (latest, hc)
}

/// Seconds from `startedAt` to the first poll that saw the task's target healthy, if the
/// console saw the transition.
fn time_to_healthy(input: &Input, s: &Service, task: &Task) -> Option<i64> {
    let started = task.started_at?;
    if task.private_ip.is_empty() {
        return None;
    }
    target_groups(s).into_iter().find_map(|tg| {
        let polls = input.target_polls(tg);
        let first = polls.iter().position(|p| {
            p.fetched_at.is_some_and(|at| at >= started)
                && p.targets
                    .iter()
                    .any(|t| t.id == task.private_ip && t.state == "healthy")
        })?;
        let healthy_at = polls[first].fetched_at?;
        let before = polls.get(first.checked_sub(1)?)?;
        let seen_before = before.fetched_at?;
        let was_healthy = before
            .targets
            .iter()
            .any(|t| t.id == task.private_ip && t.state == "healthy");
        (!was_healthy && healthy_at - seen_before <= MAX_POLL_GAP)
            .then(|| (healthy_at - started).num_seconds())
    })
}

/// The log says the app started, and how long it took (Spring Boot's line).
fn logged_startup(input: &Input, s: &Service, task: &Task, since: Time) -> Option<f64> {
    input
        .logs_of(s, since)
        .filter(|l| l.task_arn == task.arn)
        .find_map(|l| STARTED.captures(&l.message)?[1].parse().ok())
}

/// The load balancer got an HTTP answer from this task at some point: the app was up.
fn answered(input: &Input, s: &Service, task: &Task) -> bool {
    !task.private_ip.is_empty()
        && target_groups(s).into_iter().any(|tg| {
            input.target_polls(tg).iter().any(|p| {
                p.targets
                    .iter()
                    .any(|t| t.id == task.private_ip && t.reason == "Target.ResponseCodeMismatch")
            })
        })
}

pub fn check(input: &Input) -> Vec<Observation> {
    input
        .services
        .iter()
        .filter(|s| !target_groups(s).is_empty())
        .filter_map(|s| check_service(input, s))
        .collect()
}

fn check_service(input: &Input, s: &Service) -> Option<Observation> {
    let grace = i64::from(s.health_check_grace_secs.unwrap_or(0));
    let (latest, hc) = settings(input, s);
    let interval = i64::from(hc.interval_secs);
    let threshold = i64::from(hc.unhealthy_threshold);
    let budget = grace + interval * threshold;
    let confirm = i64::from(hc.healthy_threshold - 1) * interval;

    // Startup samples from the newest tasks, running or stopped.
    let mut tasks: Vec<&Task> = input.tasks_of(s).collect();
    tasks.extend(input.stops_of(s, input.now - SAMPLE_SINCE));
    tasks.sort_by_key(|t| std::cmp::Reverse(t.started_at));
    let samples: Vec<(String, i64)> = tasks
        .iter()
        // The app's own log saying it was up within the grace means the wait for `healthy`
        // was something else (a blocked network path, a failing dependency), not its boot.
        .filter(|t| {
            let since = t.started_at.unwrap_or(input.now - SAMPLE_SINCE);
            !logged_startup(input, s, t, since).is_some_and(|secs| secs <= grace as f64)
        })
        .filter_map(|t| Some((t.short_id().to_string(), time_to_healthy(input, s, t)?)))
        .take(LAST_TASKS)
        .collect();
    let ready: Vec<f64> = samples
        .iter()
        .map(|(_, secs)| (secs - confirm).max(0) as f64)
        .collect();
    let slow_start = (samples.len() >= MIN_SAMPLES)
        .then(|| percentile(&ready, 90.0))
        .flatten()
        .filter(|p90| *p90 > grace as f64);

    // Tasks killed for failing health checks before they could have been up.
    let since = input.now - KILL_WINDOW;
    let killed: Vec<(&Task, i64)> = input
        .stops_of(s, since)
        .into_iter()
        .filter(|t| t.stopped_reason.starts_with(ELB_KILL))
        .filter_map(|t| {
            let end = t.stopping_at.or(t.stopped_at)?;
            let life = (end - t.started_at?).num_seconds();
            (life < budget + KILL_MARGIN_SECS).then_some((t, life))
        })
        .filter(|(t, _)| {
            let log_since = t.started_at.unwrap_or(since);
            let started_in_time =
                logged_startup(input, s, t, log_since).is_some_and(|secs| secs <= grace as f64);
            !started_in_time && !answered(input, s, t)
        })
        .collect();
    let killed_early = killed.len() >= MIN_KILLS;

    if slow_start.is_none() && !killed_early {
        return None;
    }
    let budget_text = format!("grace is {grace}s (+{interval}s × {threshold} checks = {budget}s)");
    let message = match slow_start {
        Some(p90) if !killed_early => format!(
            "{}: tasks need ~{p90:.0}s to become healthy, {budget_text} — tasks risk being \
             killed while still booting",
            s.name
        ),
        _ => {
            let mut lives: Vec<String> = killed.iter().map(|(_, l)| format!("{l}s")).collect();
            lives.truncate(5);
            format!(
                "{}: {} tasks killed by ELB health checks after {} of life, {budget_text} — \
                 tasks are killed while still booting",
                s.name,
                killed.len(),
                lives.join(", ")
            )
        }
    };
    let at = latest.and_then(|p| p.fetched_at).unwrap_or(input.now);
    let mut o = Observation::new(ID, Severity::Warning, service_subject(s), message)
        .next(format!(
            "Raise healthCheckGracePeriodSeconds above the p90 startup time plus a margin \
             (UpdateService, then redeploy). With no grace the budget is only interval × \
             threshold ({interval}s × {threshold} = {}s). Or cut startup time (lazy \
             initialisation, unused starters); the log's \"Started … in N seconds\" line shows it.",
            interval * threshold
        ))
        .remedies(&[
            Remedy::TargetHealth,
            Remedy::OpenLogs,
            Remedy::Redeploy,
            Remedy::Events,
        ]);
    if !samples.is_empty() {
        let list: Vec<String> = samples
            .iter()
            .map(|(id, secs)| format!("{id} {secs}s"))
            .collect();
        o = o.evidence(Evidence::at(
            at,
            format!(
                "time to first healthy poll: {} (less {confirm}s of confirming checks: {}/{})",
                list.join(", "),
                hc.healthy_threshold,
                interval
            ),
        ));
    }
    for (t, life) in &killed {
        let end = t.stopping_at.or(t.stopped_at).unwrap_or(input.now);
        let log = match logged_startup(input, s, t, t.started_at.unwrap_or(since)) {
            Some(secs) => format!("log: started in {secs}s"),
            None => "no \"Started … in N seconds\" line seen".into(),
        };
        o = o.evidence(Evidence::at(
            end,
            format!(
                "task {} lived {} — {}; {log}",
                t.short_id(),
                duration(TimeDelta::seconds(*life)),
                clean(&t.stopped_reason)
            ),
        ));
    }
    Some(o)
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::model::LogSample;
    use crate::model::TargetHealth;
    use crate::triage::Facts;

    /// `web` (grace 60 s, checks 30 s × 2, healthy threshold 2) with tasks 1..=n that became
    /// healthy `startup` seconds after starting, polled every 30 s.
    fn fleet(startups: &[i64]) -> Facts {
        let mut f = facts();
        f.services = vec![service("web", startups.len() as u32)];
        // Each task started 20 min ago; polls every 30 s from 21 min ago.
        let start = 1200;
        f.tasks = (1..=startups.len() as u32)
            .map(|n| task("web", n, start))
            .collect();
        let polls = (0..=42)
            .rev()
            .map(|k| {
                let secs_ago = k * 30;
                let targets = startups
                    .iter()
                    .enumerate()
                    .filter(|_| secs_ago <= start)
                    .map(|(i, &up)| {
                        let n = i as u32 + 1;
                        if start - secs_ago >= up {
                            healthy(n)
                        } else {
                            target(n, "initial", "Elb.InitialHealthChecking", "")
                        }
                    })
                    .collect();
                poll(secs_ago, targets)
            })
            .collect();
        f.target_health.insert(TG.into(), polls);
        f
    }

    #[test]
    fn fires_when_p90_startup_exceeds_the_grace() {
        // Confirming takes (2 − 1) × 30 = 30 s: 150 s to healthy is a 120 s boot.
        let found = check(&fleet(&[150, 150, 150]).input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(
            found[0].message,
            "web: tasks need ~120s to become healthy, grace is 60s (+30s × 2 checks = 120s) — \
             tasks risk being killed while still booting"
        );
        assert!(found[0].evidence[0].text.contains("150s"));
    }

    #[test]
    fn a_logged_start_inside_the_grace_is_not_a_slow_boot() {
        // Slow to turn healthy, but each app logged it was up after 12 s: the wait was
        // something else (the sg-outage replay: a blocked network path).
        let mut f = fleet(&[150, 150, 150]);
        let started = f.tasks[0].started_at.unwrap();
        f.logs = f
            .tasks
            .iter()
            .map(|t| LogSample {
                cluster: "prod".into(),
                service: Some("web".into()),
                task_arn: t.arn.to_string(),
                container: "web".into(),
                at: started + TimeDelta::seconds(12),
                message: "Started WebApplication in 12.0 seconds (process running for 12.6)".into(),
            })
            .collect();
        assert!(check(&f.input()).is_empty());
        // One app that never logged its start still counts, but one sample is not enough.
        f.logs.pop();
        assert!(check(&f.input()).is_empty());
    }

    #[test]
    fn quiet_when_startup_fits_the_grace_and_at_its_edge() {
        // 90 s to healthy − 30 s confirming = 60 s: exactly the grace.
        assert!(check(&fleet(&[90, 90, 90]).input()).is_empty());
        assert_eq!(check(&fleet(&[120, 120, 120]).input()).len(), 1);
    }

    #[test]
    fn one_sample_is_not_enough() {
        assert!(check(&fleet(&[300]).input()).is_empty());
        assert_eq!(check(&fleet(&[300, 300]).input()).len(), 1);
    }

    #[test]
    fn tasks_already_healthy_when_polling_began_are_not_samples() {
        let mut f = fleet(&[300, 300]);
        // Drop every poll before the tasks turned healthy: the transition was not seen.
        let polls = f.target_health.get_mut(TG).unwrap();
        polls.retain(|p| p.fetched_at.unwrap() >= ago(1200 - 300));
        assert!(check(&f.input()).is_empty());
    }

    fn killed(n: u32, life: i64, stopped_secs_ago: i64) -> Task {
        let mut t = task("web", n, stopped_secs_ago + life);
        t.last_status = "STOPPED".into();
        t.stopping_at = Some(ago(stopped_secs_ago));
        t.stopped_at = Some(ago(stopped_secs_ago - 5));
        t.stopped_reason = format!("{ELB_KILL} in (target-group {TG})").into();
        t
    }

    fn kills(lives: &[i64]) -> Facts {
        let mut f = facts();
        f.services = vec![service("web", 4)];
        f.target_health.insert(TG.into(), vec![poll(0, vec![])]);
        f.stopped = lives
            .iter()
            .enumerate()
            .map(|(i, &life)| killed(10 + i as u32, life, 120))
            .collect();
        f
    }

    #[test]
    fn two_early_elb_kills_fire() {
        // Budget 60 + 30 × 2 = 120 s, + 30 s margin: below 150 s of life counts.
        let found = check(&kills(&[120, 149]).input());
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .message
                .starts_with("web: 2 tasks killed by ELB health checks after 120s, 149s of life"),
            "{}",
            found[0].message
        );
        assert!(
            check(&kills(&[120, 150]).input()).is_empty(),
            "150 s is not early"
        );
        assert!(check(&kills(&[120]).input()).is_empty(), "one kill");
    }

    #[test]
    fn kills_outside_the_window_or_of_long_lived_tasks_are_quiet() {
        let mut f = kills(&[120, 120]);
        for t in &mut f.stopped {
            t.stopping_at = Some(ago(16 * 60));
            t.stopped_at = Some(ago(16 * 60));
        }
        assert!(check(&f.input()).is_empty());
        // Healthy for hours, then killed (the network broke): not a slow start.
        assert!(check(&kills(&[7200, 7200]).input()).is_empty());
    }

    #[test]
    fn kills_of_apps_that_had_started_or_answered_are_quiet() {
        let mut f = kills(&[120, 120]);
        f.logs = f
            .stopped
            .iter()
            .map(|t| LogSample {
                cluster: "prod".into(),
                service: Some("web".into()),
                task_arn: t.arn.to_string(),
                container: "app".into(),
                at: ago(200),
                message: "Started WebApplication in 18.4 seconds (process running for 19.1)".into(),
            })
            .collect();
        assert!(
            check(&f.input()).is_empty(),
            "the log says it started in time"
        );

        let mut f = kills(&[120, 120]);
        let targets: Vec<TargetHealth> = f
            .stopped
            .iter()
            .map(|t| TargetHealth {
                id: t.private_ip.to_string(),
                ..target(0, "unhealthy", "Target.ResponseCodeMismatch", "[404]")
            })
            .collect();
        f.target_health.insert(TG.into(), vec![poll(200, targets)]);
        assert!(check(&f.input()).is_empty(), "the app answered 404");
    }
}
