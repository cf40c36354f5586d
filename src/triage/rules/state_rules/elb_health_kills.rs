//! tasks-failing-elb-health-checks: ECS keeps stopping a service's tasks because the load
//! balancer marks them unhealthy.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use chrono::TimeDelta;
use regex::Regex;

use super::stops;
use super::support::{duration, stop_time};
use crate::model::arn::target_group_name;
use crate::model::{Evidence, Observation, Remedy, Service, Severity, Task};
use crate::triage::Input;
use crate::triage::input::service_subject;
use crate::triage::rules::about::{About, CRITICAL, Read, Value, limit};

pub const ID: &str = "tasks-failing-elb-health-checks";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "ECS keeps stopping a service's tasks because the load balancer marks them unhealthy.",
    severities: CRITICAL,
    reads: &[
        Read::Api("ECS DescribeTasks (stopped): stoppedReason \"Task failed ELB health checks\""),
        Read::Api("ECS DescribeServices: events \"unhealthy in target-group\""),
    ],
    limits: &[
        limit("kills ≥", Value::Count(MIN_KILLS)),
        limit("within", Value::Span(WINDOW)),
    ],
};
/// Kills within this window… (our default)
const WINDOW: TimeDelta = TimeDelta::minutes(15);
/// …at least this many.
const MIN_KILLS: usize = 2;

static UNHEALTHY_EVENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"is unhealthy in \(target-group (?<tg>[^)]*)\) due to \(reason (?<reason>.*)\)")
        .unwrap()
});

pub fn check(input: &Input) -> Vec<Observation> {
    input
        .services
        .iter()
        .flat_map(|s| observe(input, s))
        .collect()
}

fn observe(input: &Input, s: &Service) -> Vec<Observation> {
    // Target group ARN → kills, newest first.
    let mut by_tg: BTreeMap<&str, Vec<&Task>> = BTreeMap::new();
    for t in input.stops_of(s, input.now - WINDOW) {
        if let Some(tg) = stops::elb_health_kill(t) {
            by_tg.entry(tg).or_default().push(t);
        }
    }
    by_tg
        .into_iter()
        .filter(|(_, kills)| kills.len() >= MIN_KILLS)
        // Newest first: once the service is steady after the latest kill, it has recovered.
        .filter(|(_, kills)| {
            !stop_time(kills[0]).is_some_and(|at| super::support::recovered_after(s, at))
        })
        .map(|(tg, kills)| {
            let name = target_group_name(tg);
            let latest = latest_reason(input, s, tg);
            let message = format!(
                "{}: {} tasks killed for failing ELB health checks on {name} in {}; latest target reason {}",
                s.name,
                kills.len(),
                duration(WINDOW),
                latest.as_deref().unwrap_or("unknown (no target health poll)")
            );
            let mut obs = Observation::new(ID, Severity::Critical, service_subject(s), message)
                .key(tg)
                .next(next_step(input, s, tg))
                .remedies(&[Remedy::TargetHealth, Remedy::Exec, Remedy::ShowTask, Remedy::Events]);
            if let Some(at) = stop_time(kills[MIN_KILLS - 1]) {
                obs = obs.since(at);
            }
            for t in kills.iter().take(4) {
                if let Some(at) = stop_time(t) {
                    obs = obs.evidence(Evidence::at(
                        at,
                        format!(
                            "task {} ({}) stopped after {} running: {}",
                            t.short_id(),
                            t.task_definition,
                            // Until ECS decided to stop it: the drain after is not life.
                            t.stopping_at
                                .zip(t.started_at)
                                .map_or("?".into(), |(stop, start)| duration(stop - start)),
                            t.stopped_reason
                        ),
                    ));
                }
            }
            obs
        })
        .collect()
}

/// The reason code and description of the newest unhealthy target: from the latest target
/// health poll, else from the latest "is unhealthy" service event.
fn latest_reason(input: &Input, s: &Service, tg: &str) -> Option<String> {
    let from_poll = input.target_polls(tg).last().and_then(|poll| {
        poll.targets
            .iter()
            .find(|t| t.state == "unhealthy")
            .map(|t| format!("{} (\"{}\")", t.reason, t.description))
    });
    from_poll.or_else(|| {
        s.events.iter().find_map(|e| {
            let c = UNHEALTHY_EVENT.captures(&e.message)?;
            let in_tg = c["tg"].contains(target_group_name(tg));
            in_tg.then(|| format!("\"{}\"", &c["reason"]))
        })
    })
}

fn next_step(input: &Input, s: &Service, tg: &str) -> String {
    let mut next = String::from(
        "Show target health, then follow the reason-code rule that is active. Compare the \
         tasks' lifetime with the health check grace period (health-check-grace-too-short).",
    );
    let port = s
        .lb_bindings
        .iter()
        .find(|b| b.target_group_arn == tg)
        .map(|b| b.container_port.to_string());
    let path = input
        .target_polls(tg)
        .last()
        .map(|p| p.health_check.path.clone())
        .filter(|p| !p.is_empty());
    next.push_str(&format!(
        " Inside a task, exec `curl -i localhost:{}{}`.",
        port.as_deref().unwrap_or("{port}"),
        path.as_deref().unwrap_or("{path}")
    ));
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{HealthCheck, TargetGroupHealth, TargetHealth};
    use crate::triage::Facts;
    use crate::triage::rules::state_rules::support::fixtures::*;

    const TG: &str =
        "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/tg-web/73e2d6bc24d8a067";

    fn kill(id: &str, mins: i64) -> Task {
        let mut t = stopped(
            "web",
            id,
            mins_ago(mins),
            150,
            "ServiceSchedulerInitiated",
            Some(143),
        );
        t.stopped_reason = format!("Task failed ELB health checks in (target-group {TG})").into();
        t
    }

    fn with_kills(kills: Vec<Task>) -> Facts {
        let mut f = facts();
        f.services = vec![service("web")];
        f.services[0].lb_bindings = vec![crate::model::LbBinding {
            target_group_arn: TG.into(),
            container_name: "app".into(),
            container_port: 8080,
        }];
        f.stopped = kills;
        f
    }

    #[test]
    fn two_kills_in_fifteen_minutes_fire_with_the_latest_target_reason() {
        let mut f = with_kills(vec![kill("t1", 2), kill("t2", 14)]);
        f.target_health.insert(
            TG.into(),
            vec![TargetGroupHealth {
                arn: TG.into(),
                name: "tg-web".into(),
                health_check: HealthCheck {
                    path: "/health".into(),
                    ..Default::default()
                },
                targets: vec![TargetHealth {
                    id: "10.0.1.5".into(),
                    port: Some(8080),
                    availability_zone: "eu-west-1a".into(),
                    state: "unhealthy".into(),
                    reason: "Target.ResponseCodeMismatch".into(),
                    description: "Health checks failed with these codes: [404]".into(),
                }],
                fetched_at: Some(mins_ago(1)),
            }],
        );
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        let o = &found[0];
        assert_eq!(o.severity, Severity::Critical);
        assert_eq!(o.since, Some(mins_ago(14)));
        assert_eq!(
            o.message,
            "web: 2 tasks killed for failing ELB health checks on tg-web in 15m; latest target \
             reason Target.ResponseCodeMismatch (\"Health checks failed with these codes: [404]\")"
        );
        assert!(
            o.next.contains("curl -i localhost:8080/health"),
            "{}",
            o.next
        );
    }

    #[test]
    fn one_kill_or_kills_spread_wider_than_the_window_are_quiet() {
        assert!(check(&with_kills(vec![kill("t1", 2)]).input()).is_empty());
        assert!(check(&with_kills(vec![kill("t1", 2), kill("t2", 16)]).input()).is_empty());
        let other = stopped(
            "web",
            "t3",
            mins_ago(3),
            100,
            "EssentialContainerExited",
            Some(1),
        );
        assert!(check(&with_kills(vec![kill("t1", 2), other]).input()).is_empty());
    }

    #[test]
    fn the_reason_falls_back_to_the_service_event() {
        let mut f = with_kills(vec![kill("t1", 2), kill("t2", 3)]);
        f.services[0].events = vec![event(
            mins_ago(3),
            "(service web) (port 8080) is unhealthy in (target-group arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/tg-web/73e2d6bc24d8a067) due to (reason Request timed out).",
        )];
        assert!(
            check(&f.input())[0]
                .message
                .ends_with("latest target reason \"Request timed out\"")
        );
    }
}
