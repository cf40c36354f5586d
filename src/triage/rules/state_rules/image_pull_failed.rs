//! image-pull-failed: a task stopped before start because its image could not be pulled.
//! Once per stopped task, keyed by its ARN.

use std::sync::LazyLock;

use chrono::TimeDelta;
use regex::Regex;

use super::stops;
use super::support::{RECENT, plural, service_label, short, siblings_stopped_since, stop_time};
use crate::model::{Evidence, Observation, Remedy, Severity, Task, Time};
use crate::triage::Input;
use crate::triage::input::task_subject;
use crate::triage::rules::about::{About, Read, Value, WARNING_CRITICAL, limit};

pub const ID: &str = "image-pull-failed";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "A task stopped before start because its image could not be pulled (access denied, not found, network).",
    severities: WARNING_CRITICAL,
    reads: &[Read::Api(
        "ECS DescribeTasks (stopped): stoppedReason CannotPullContainerError, stopCode TaskFailedToStart",
    )],
    limits: &[
        limit(
            "critical at once for the PRIMARY deployment; otherwise failures ≥",
            Value::Count(ESCALATE_AT),
        ),
        limit("within", Value::Span(WINDOW)),
    ],
};
/// Outside the PRIMARY deployment, this many failures in `WINDOW` make it critical (our
/// default).
const ESCALATE_AT: usize = 2;
const WINDOW: TimeDelta = TimeDelta::minutes(10);

static ACCESS_DENIED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)access denied|accessdenied|not authorized|\b403\b").unwrap());
static NOT_FOUND: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)not found|manifest unknown").unwrap());
static NETWORK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)i/o timeout|dial tcp|context deadline exceeded|request canceled").unwrap()
});

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    AccessDenied,
    NotFound,
    Network,
    Other,
}

impl Variant {
    fn of(text: &str) -> Self {
        if ACCESS_DENIED.is_match(text) {
            Variant::AccessDenied
        } else if NOT_FOUND.is_match(text) {
            Variant::NotFound
        } else if NETWORK.is_match(text) {
            Variant::Network
        } else {
            Variant::Other
        }
    }

    fn label(self) -> &'static str {
        match self {
            Variant::AccessDenied => "access-denied",
            Variant::NotFound => "not-found",
            Variant::Network => "network",
            Variant::Other => "other",
        }
    }
}

/// A failed pull: the reason text and the image it names.
fn pull_failure(input: &Input, t: &Task) -> Option<(String, String)> {
    if !stops::failed_to_start(t) {
        return None;
    }
    let (text, container) = stops::pull_failure(t)?;
    let image = container
        .map(|c| c.image.to_string())
        .filter(|i| !i.is_empty())
        .or_else(|| {
            input
                .task_definition(&t.task_definition.arn)
                .and_then(|d| d.containers.first())
                .map(|c| c.image.clone())
        })
        .or_else(|| t.containers.first().map(|c| c.image.to_string()))
        .filter(|i| !i.is_empty())
        .unwrap_or_else(|| "its image".into());
    Some((text.to_string(), image.to_string()))
}

pub fn check(input: &Input) -> Vec<Observation> {
    let since = input.now - RECENT;
    input
        .stopped
        .iter()
        .copied()
        .filter_map(|t| {
            let at = stop_time(t).filter(|&at| at >= since)?;
            if input
                .service_of(t)
                .is_some_and(|s| super::support::recovered_after(s, at))
            {
                return None;
            }
            let (reason, image) = pull_failure(input, t)?;
            Some(observe(input, t, at, &reason, &image))
        })
        .collect()
}

fn observe(input: &Input, t: &Task, at: Time, reason: &str, image: &str) -> Observation {
    let variant = Variant::of(reason);
    let in_primary = input
        .service_of(t)
        .and_then(|s| s.primary_deployment())
        .is_some_and(|d| d.task_definition.arn == t.task_definition.arn);
    let recent = siblings_stopped_since(input, t, input.now - WINDOW)
        .iter()
        .filter(|s| pull_failure(input, s).is_some())
        .count();
    let severity = if in_primary || recent >= ESCALATE_AT {
        Severity::Critical
    } else {
        Severity::Warning
    };
    let message = format!(
        "{}: task {} cannot pull {image} ({}) — {}",
        service_label(t),
        t.short_id(),
        variant.label(),
        short(reason, 120)
    );
    let execution_role = input
        .task_definition(&t.task_definition.arn)
        .map(|d| d.execution_role_arn.as_str())
        .filter(|r| !r.is_empty())
        .unwrap_or("(none set)");
    let next = match variant {
        Variant::AccessDenied => format!(
            "The execution role {execution_role} needs ECR pull rights \
             (AmazonECSTaskExecutionRolePolicy); fix it, then redeploy."
        ),
        Variant::NotFound => {
            format!("Check that the tag of {image} exists in the repository, then redeploy.")
        }
        Variant::Network => "The task's subnets need a route to ECR: a NAT gateway, or the ECR \
             api/dkr and S3 VPC endpoints; security group egress on 443 must be allowed. Then \
             redeploy."
            .to_string(),
        Variant::Other => {
            "Show the task for the full reason; fix the image reference or access, then redeploy."
                .to_string()
        }
    };
    let mut obs = Observation::new(ID, severity, task_subject(t), message)
        .key(t.arn.clone())
        .since(at)
        .evidence(Evidence::at(at, reason.to_string()))
        .next(next)
        .remedies(&[Remedy::ShowTask, Remedy::Events, Remedy::Redeploy]);
    if recent >= ESCALATE_AT {
        obs = obs.evidence(Evidence::at(
            input.now,
            format!("{} in 10 min", plural(recent, "pull failure")),
        ));
    }
    obs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::rules::state_rules::stops::FAILED_TO_START;
    use crate::triage::rules::state_rules::support::fixtures::*;

    const DENIED: &str = "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:2.4.0: 403 Forbidden (access denied)";

    fn pull(id: &str, mins: i64, revision: u32, reason: &str) -> Task {
        let mut t = stopped("web", id, mins_ago(mins), 0, FAILED_TO_START, None);
        t.started_at = None;
        t.task_definition = td_ref("web", revision);
        t.stopped_reason = reason.into();
        t
    }

    #[test]
    fn critical_at_once_for_the_primary_deployment() {
        let mut f = facts();
        f.services = vec![service("web")];
        f.stopped = vec![pull("abcdef0123", 1, 17, DENIED)];
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        let o = &found[0];
        assert_eq!(o.severity, Severity::Critical);
        assert_eq!(o.key, task_arn("abcdef0123"));
        assert_eq!(o.since, Some(mins_ago(1)));
        assert!(
            o.message.starts_with(
                "web: task abcdef01 cannot pull 123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.0 (access-denied) — CannotPullContainerError"
            ),
            "{}",
            o.message
        );
        assert_eq!(o.evidence[0].text, DENIED);
    }

    #[test]
    fn closes_once_the_service_is_steady_after_the_failure() {
        let mut f = facts();
        let mut web = service("web");
        web.desired = 2;
        web.running = 2;
        web.events = vec![event(
            mins_ago(5),
            "(service web) has reached a steady state.",
        )];
        f.services = vec![web.clone()];
        f.stopped = vec![pull("t1", 2, 17, DENIED)];
        assert_eq!(
            check(&f.input()).len(),
            1,
            "steady before the failure: still open"
        );
        web.events.insert(
            0,
            event(mins_ago(1), "(service web) has reached a steady state."),
        );
        f.services = vec![web.clone()];
        assert!(check(&f.input()).is_empty(), "steady after it: recovered");
        web.running = 1;
        f.services = vec![web];
        assert_eq!(
            check(&f.input()).len(),
            1,
            "not every task runs: not recovered"
        );
    }

    #[test]
    fn warning_outside_primary_until_two_in_ten_minutes() {
        let mut f = facts();
        f.services = vec![service("web")];
        f.stopped = vec![pull("t1", 1, 16, DENIED)];
        assert_eq!(check(&f.input())[0].severity, Severity::Warning);
        f.stopped.push(pull("t2", 11, 16, DENIED));
        assert!(
            check(&f.input())
                .iter()
                .all(|o| o.severity == Severity::Warning)
        );
        f.stopped.push(pull("t3", 9, 16, DENIED));
        let found = check(&f.input());
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].severity, Severity::Critical);
    }

    #[test]
    fn variants_come_from_the_text() {
        for (text, variant) in [
            (
                "CannotPullContainerError: ... not authorized to perform ecr:BatchGetImage",
                "access-denied",
            ),
            (
                "CannotPullContainerError: ref web:9.9: not found",
                "not-found",
            ),
            ("CannotPullContainerError: manifest unknown", "not-found"),
            (
                "CannotPullContainerError: failed to resolve ref x: dial tcp 52.95.150.1:443: i/o timeout",
                "network",
            ),
            (
                "CannotPullContainerError: context deadline exceeded",
                "network",
            ),
            ("CannotPullContainerError: something else", "other"),
        ] {
            assert_eq!(Variant::of(text).label(), variant, "{text}");
        }
    }

    #[test]
    fn quiet_on_other_stops_and_old_ones() {
        let mut f = facts();
        f.services = vec![service("web")];
        f.stopped = vec![
            pull("t1", 31, 17, DENIED),
            pull(
                "t2",
                1,
                17,
                "ResourceInitializationError: unable to pull secrets",
            ),
            stopped(
                "web",
                "t3",
                mins_ago(1),
                60,
                "EssentialContainerExited",
                Some(1),
            ),
        ];
        assert!(check(&f.input()).is_empty());
    }

    #[test]
    fn a_container_reason_is_enough() {
        let mut f = facts();
        let mut t = pull("t1", 1, 16, "");
        t.containers[0].reason = "CannotPullContainerError: manifest unknown".into();
        f.stopped = vec![t];
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("(not-found)"));
    }
}
