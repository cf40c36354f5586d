//! deployment-failed-rollback: a rollout failed (circuit breaker or otherwise), and ECS either
//! rolled back to the previous revision or left the service mixed.

use std::sync::LazyLock;

use regex::Regex;

use super::support::{RECENT, events_since, short};
use crate::model::{Deployment, Evidence, Observation, Remedy, Service, Severity};
use crate::triage::Input;
use crate::triage::input::service_subject;
use crate::triage::rules::about::{About, CRITICAL, Read, Value, limit};

pub const ID: &str = "deployment-failed-rollback";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "A rollout failed (circuit breaker or otherwise): ECS rolled back or left the service mixed.",
    severities: CRITICAL,
    reads: &[Read::Api(
        "ECS DescribeServices: deployments rolloutState FAILED, events \"deployment failed\" / \"rolling back\"",
    )],
    limits: &[limit("events within", Value::Span(RECENT))],
};

static FAILED_EVENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)deployment failed|rolling back").unwrap());

pub fn check(input: &Input) -> Vec<Observation> {
    input
        .services
        .iter()
        .filter_map(|s| observe(input, s))
        .collect()
}

fn observe(input: &Input, s: &Service) -> Option<Observation> {
    let events: Vec<_> =
        events_since(s, input.now - RECENT, |m| FAILED_EVENT.is_match(m)).collect();
    let failed = s
        .deployments
        .iter()
        .filter(|d| d.rollout_state == "FAILED")
        .max_by_key(|d| d.updated_at.or(d.created_at));
    let primary = s.primary_deployment();
    // A rollback is a newer PRIMARY on another revision than the failed one.
    let rolled_back_to = match (failed, primary) {
        (Some(f), Some(p)) if p.id != f.id && p.task_definition != f.task_definition => {
            Some(p.task_definition.to_string())
        }
        (None, Some(p)) if !events.is_empty() => Some(p.task_definition.to_string()),
        _ => None,
    };
    if failed.is_none() && events.is_empty() {
        return None;
    }
    // Rolled back (or fixed) and steady since the last sign of failure: recovered.
    let last_sign = failed
        .and_then(|d| d.updated_at.or(d.created_at))
        .into_iter()
        .chain(events.iter().map(|e| e.at))
        .max();
    if last_sign.is_some_and(|at| super::support::recovered_after(s, at)) {
        return None;
    }
    let what = failed.map_or("a deployment".to_string(), |d| {
        format!("deployment of {}", d.task_definition)
    });
    let reason = failed
        .map(|d| d.rollout_reason.as_str())
        .filter(|r| !r.is_empty())
        .map(str::to_string)
        .or_else(|| events.first().map(|e| short(&e.message, 160)))
        .unwrap_or_else(|| "no reason given".into());
    let outcome = match &rolled_back_to {
        Some(prev) => format!("rolled back to {prev}"),
        None => "no automatic rollback — service is mixed/degraded".into(),
    };
    let message = format!("{}: {what} failed ({reason}); {outcome}", s.name);
    let mut obs = Observation::new(ID, Severity::Critical, service_subject(s), message)
        .next(
            "Read the stopped reasons of the failed deployment's tasks (OOM, image pull, \
             secrets, ELB health): they point to the rule that explains the failure. Fix it, \
             then deploy that revision again.",
        )
        .remedies(&[Remedy::ShowTask, Remedy::Events, Remedy::Redeploy]);
    if let Some(d) = failed {
        obs = obs.key(d.id.clone());
        if let Some(at) = d.updated_at.or(d.created_at) {
            obs = obs.since(at).evidence(Evidence::at(at, describe(d)));
        }
    } else if let Some(first) = events.iter().map(|e| e.at).min() {
        obs = obs.since(first);
    }
    for e in events.iter().take(3) {
        obs = obs.evidence(Evidence::at(e.at, e.message.clone()));
    }
    Some(obs)
}

fn describe(d: &Deployment) -> String {
    format!(
        "deployment {} ({}, {}) rolloutState FAILED: {}; failed tasks {}",
        d.id, d.task_definition, d.status, d.rollout_reason, d.failed
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::Facts;
    use crate::triage::rules::state_rules::support::fixtures::*;

    const BREAKER: &str = "ECS deployment circuit breaker: tasks failed to start.";

    fn failed_deploy(rolled_back: bool) -> Facts {
        let mut f = facts();
        let mut s = service("web");
        let failed = Deployment {
            rollout_state: "FAILED".into(),
            rollout_reason: BREAKER.into(),
            failed: 4,
            created_at: Some(mins_ago(12)),
            updated_at: Some(mins_ago(3)),
            ..deployment(
                "ecs-svc/17",
                if rolled_back { "ACTIVE" } else { "PRIMARY" },
                td_ref("web", 17),
            )
        };
        s.deployments = if rolled_back {
            vec![
                Deployment {
                    rollout_state: "IN_PROGRESS".into(),
                    created_at: Some(mins_ago(3)),
                    ..deployment("ecs-svc/18", "PRIMARY", td_ref("web", 16))
                },
                failed,
            ]
        } else {
            vec![failed]
        };
        f.services = vec![s];
        f
    }

    #[test]
    fn a_failed_rollout_with_a_rollback() {
        let f = failed_deploy(true);
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Critical);
        assert_eq!(found[0].key, "ecs-svc/17");
        assert_eq!(found[0].since, Some(mins_ago(3)));
        assert_eq!(
            found[0].message,
            format!("web: deployment of web:17 failed ({BREAKER}); rolled back to web:16")
        );
    }

    #[test]
    fn a_failed_rollout_without_rollback() {
        let found = check(&failed_deploy(false).input());
        assert!(
            found[0]
                .message
                .ends_with("no automatic rollback — service is mixed/degraded")
        );
    }

    #[test]
    fn a_rollback_event_alone() {
        let mut f = facts();
        let mut s = service("web");
        s.events = vec![event(
            mins_ago(2),
            "(service web) (deployment ecs-svc/17) deployment failed: tasks failed to start. Rolling back to deployment ecs-svc/16.",
        )];
        f.services = vec![s];
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .message
                .starts_with("web: a deployment failed ((service web)")
        );
        assert!(found[0].message.ends_with("rolled back to web:17"));
        // Events older than the window are history.
        f.services[0].events[0].at = mins_ago(31);
        assert!(check(&f.input()).is_empty());
    }

    #[test]
    fn quiet_on_healthy_deployments() {
        let mut f = facts();
        f.services = vec![service("web")];
        f.services[0].events = vec![event(
            mins_ago(1),
            "(service web) has reached a steady state.",
        )];
        assert!(check(&f.input()).is_empty());
    }
}
