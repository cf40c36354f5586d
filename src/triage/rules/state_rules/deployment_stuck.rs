//! deployment-stuck-in-progress: a rollout that has not finished in a long time.

use chrono::TimeDelta;

use super::support::{duration, stop_time};
use crate::model::{Deployment, Evidence, Observation, Remedy, Service, Severity};
use crate::triage::Input;
use crate::triage::input::service_subject;
use crate::triage::rules::about::{About, Read, Value, WARNING, limit};

pub const ID: &str = "deployment-stuck-in-progress";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "A rollout has not finished in a long time.",
    severities: WARNING,
    reads: &[Read::Api(
        "ECS DescribeServices: deployments (rolloutState, createdAt, failedTasks), circuit breaker",
    )],
    limits: &[
        limit("IN_PROGRESS >", Value::Span(STUCK)),
        limit(
            "with failing tasks and no circuit breaker >",
            Value::Span(STUCK_FAILING),
        ),
    ],
};
/// IN_PROGRESS for longer than this (our default).
const STUCK: TimeDelta = TimeDelta::minutes(30);
/// Earlier when tasks keep failing and no circuit breaker will stop it.
const STUCK_FAILING: TimeDelta = TimeDelta::minutes(10);

pub fn check(input: &Input) -> Vec<Observation> {
    input
        .services
        .iter()
        .filter_map(|s| {
            let d = s
                .primary_deployment()
                .filter(|d| d.rollout_state == "IN_PROGRESS")?;
            observe(input, s, d)
        })
        .collect()
}

fn observe(input: &Input, s: &Service, d: &Deployment) -> Option<Observation> {
    let created = d.created_at?;
    let age = input.now - created;
    // "failedTasks keeps rising": some failed, and a task of this revision stopped within the
    // last 10 minutes.
    let still_failing = d.failed > 0
        && input
            .stops_of(s, input.now - STUCK_FAILING)
            .iter()
            .any(|t| t.task_definition == d.task_definition);
    let early = still_failing && !s.deployment_config.circuit_breaker;
    let threshold = if early { STUCK_FAILING } else { STUCK };
    if age <= threshold {
        return None;
    }
    let old_running: u32 = s
        .deployments
        .iter()
        .filter(|o| o.status != "PRIMARY")
        .map(|o| o.running)
        .sum();
    let breaker = match (
        s.deployment_config.circuit_breaker,
        s.deployment_config.rollback,
    ) {
        (false, _) => "off",
        (true, false) => "on (no rollback)",
        (true, true) => "on with rollback",
    };
    let message = format!(
        "{}: deployment {} ({}) running {}; new {}/{}, failed {}, old tasks still up {}, circuit breaker {breaker}",
        s.name,
        d.id,
        d.task_definition,
        duration(age),
        d.running,
        d.desired,
        d.failed,
        old_running
    );
    let mut next = String::from(
        "Find the blocker. New tasks failing: their stopped reasons and the target health say \
         why. Old tasks not leaving: see elb-deregistration-timeout.",
    );
    if let Some(prev) = s.deployments.iter().find(|o| o.status == "ACTIVE") {
        next.push_str(&format!(
            " Or roll back to the previous revision {} (the service's task definitions, \
             rollback).",
            prev.task_definition
        ));
    }
    if !s.deployment_config.circuit_breaker || !s.deployment_config.rollback {
        next.push_str(" Turn on the deployment circuit breaker with rollback.");
    }
    let mut obs = Observation::new(ID, Severity::Warning, service_subject(s), message)
        .key(d.id.clone())
        .since(created + threshold)
        .evidence(Evidence::at(
            created,
            format!(
                "deployment {} rolloutState {} \"{}\"",
                d.id, d.rollout_state, d.rollout_reason
            ),
        ))
        .next(next)
        .remedies(&[
            Remedy::ShowTask,
            Remedy::TargetHealth,
            Remedy::Redeploy,
            Remedy::Events,
        ]);
    if early {
        let last = input
            .stops_of(s, input.now - STUCK_FAILING)
            .into_iter()
            .find(|t| t.task_definition == d.task_definition);
        if let Some(t) = last
            && let Some(at) = stop_time(t)
        {
            obs = obs.evidence(Evidence::at(
                at,
                format!(
                    "task {} of {} stopped: {}",
                    t.short_id(),
                    d.task_definition,
                    t.stopped_reason
                ),
            ));
        }
    }
    Some(obs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::Facts;
    use crate::triage::rules::state_rules::support::fixtures::*;

    fn rolling(age_mins: i64, failed: u32, breaker: bool) -> Facts {
        let mut f = facts();
        let mut s = service("web");
        s.desired = 4;
        s.deployment_config.circuit_breaker = breaker;
        s.deployment_config.rollback = breaker;
        s.deployments = vec![
            Deployment {
                desired: 4,
                running: 2,
                failed,
                rollout_state: "IN_PROGRESS".into(),
                created_at: Some(mins_ago(age_mins)),
                ..deployment("ecs-svc/9", "PRIMARY", td_ref("web", 9))
            },
            Deployment {
                desired: 2,
                running: 2,
                rollout_state: "COMPLETED".into(),
                ..deployment("ecs-svc/8", "ACTIVE", td_ref("web", 8))
            },
        ];
        f.services = vec![s];
        f
    }

    fn failing_task(f: &mut Facts, mins: i64) {
        let mut t = stopped(
            "web",
            "t1",
            mins_ago(mins),
            120,
            "ServiceSchedulerInitiated",
            Some(143),
        );
        t.task_definition = td_ref("web", 9);
        t.stopped_reason = "Task failed ELB health checks in (target-group arn:x)".into();
        f.stopped = vec![t];
    }

    #[test]
    fn fires_after_thirty_minutes_in_progress() {
        let f = rolling(31, 0, true);
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(found[0].key, "ecs-svc/9");
        assert_eq!(found[0].since, Some(mins_ago(1)));
        assert_eq!(
            found[0].message,
            "web: deployment ecs-svc/9 (web:9) running 31m; new 2/4, failed 0, old tasks still up 2, circuit breaker on with rollback"
        );
        assert!(found[0].next.contains("previous revision web:8"));
        assert!(check(&rolling(30, 0, true).input()).is_empty());
    }

    #[test]
    fn fires_after_ten_minutes_when_tasks_keep_failing_without_a_breaker() {
        let mut f = rolling(11, 3, false);
        failing_task(&mut f, 2);
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        assert!(found[0].message.ends_with("circuit breaker off"));
        assert!(found[0].next.contains("circuit breaker with rollback"));
        assert_eq!(found[0].evidence.len(), 2);

        let mut f = rolling(10, 3, false);
        failing_task(&mut f, 2);
        assert!(check(&f.input()).is_empty(), "not past 10 minutes");
        // With a breaker on, ECS will stop it itself: wait the full 30.
        let mut f = rolling(11, 3, true);
        failing_task(&mut f, 2);
        assert!(check(&f.input()).is_empty());
        // No recent failure: the count is not rising.
        let mut f = rolling(11, 3, false);
        failing_task(&mut f, 11);
        assert!(check(&f.input()).is_empty());
    }

    #[test]
    fn quiet_when_completed() {
        let mut f = rolling(120, 0, true);
        f.services[0].deployments[0].rollout_state = "COMPLETED".into();
        assert!(check(&f.input()).is_empty());
    }
}
