//! task-resource-initialization-error: a task failed before start because ECS could not fetch
//! its secrets, set up its logging or reach what it needed. One finding per (service,
//! variant).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use super::stops;
use super::support::{RECENT, plural, short, stop_time};
use crate::model::{Evidence, Observation, Remedy, Severity, Subject, Task, TaskDefinition};
use crate::triage::Input;
use crate::triage::input::{service_subject, task_subject};
use crate::triage::rules::about::{About, CRITICAL, Read};

pub const ID: &str = "task-resource-initialization-error";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "A task failed before start: ECS could not fetch its secrets, set up its logging or reach what it needed.",
    severities: CRITICAL,
    reads: &[Read::Api(
        "ECS DescribeTasks (stopped): stoppedReason ResourceInitializationError",
    )],
    limits: &[],
};

static SECRETS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)unable to pull secrets or registry auth|unable to retrieve secret|\basm\b|\bssm\b|AccessDeniedException",
    )
    .unwrap()
});
static LOGGING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)failed to validate logger args|CreateLogStream|log group").unwrap()
});
static NETWORK: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)timeout|dial tcp").unwrap());
static PREFIX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*ResourceInitializationError:?\s*").unwrap());

fn variant(text: &str) -> &'static str {
    if SECRETS.is_match(text) {
        "secrets"
    } else if LOGGING.is_match(text) {
        "logging"
    } else if NETWORK.is_match(text) {
        "network"
    } else {
        "other"
    }
}

pub fn check(input: &Input) -> Vec<Observation> {
    let since = input.now - RECENT;
    // (subject, variant) → failures, newest first.
    let mut groups: BTreeMap<(Subject, &str), Vec<&Task>> = BTreeMap::new();
    for t in input.stopped.iter().copied() {
        let recent = stop_time(t).is_some_and(|at| at >= since);
        if !recent
            || !stops::failed_to_start(t)
            || !stops::is_resource_init_error(&t.stopped_reason)
        {
            continue;
        }
        let subject = input
            .service_of(t)
            .map(service_subject)
            .unwrap_or_else(|| task_subject(t));
        groups
            .entry((subject, variant(&t.stopped_reason)))
            .or_default()
            .push(t);
    }
    groups
        .into_iter()
        .map(|((subject, variant), mut tasks)| {
            tasks.sort_by_key(|t| std::cmp::Reverse(stop_time(t)));
            observe(input, subject, variant, &tasks)
        })
        .collect()
}

fn observe(input: &Input, subject: Subject, variant: &str, tasks: &[&Task]) -> Observation {
    let latest = tasks[0];
    let td = input.task_definition(&latest.task_definition.arn);
    let role = td
        .map(|d| d.execution_role_arn.as_str())
        .filter(|r| !r.is_empty())
        .unwrap_or("none set");
    let detail = short(&PREFIX.replace(&latest.stopped_reason, ""), 140);
    let service = subject.service().unwrap_or("standalone").to_string();
    let count = if tasks.len() > 1 {
        format!(" ({} in 30 min)", plural(tasks.len(), "task"))
    } else {
        String::new()
    };
    let message = format!(
        "{service}: task {} failed before start — {variant}: {detail} (execution role {role}){count}",
        latest.short_id()
    );
    let mut obs = Observation::new(ID, Severity::Critical, subject, message)
        .key(variant)
        .next(next_step(variant, role, td))
        .remedies(&[Remedy::ShowTask, Remedy::Events, Remedy::Redeploy]);
    if let Some(first) = tasks.last().and_then(|t| stop_time(t)) {
        obs = obs.since(first);
    }
    for t in tasks.iter().take(3) {
        if let Some(at) = stop_time(t) {
            obs = obs.evidence(Evidence::at(
                at,
                format!("task {}: {}", t.short_id(), t.stopped_reason),
            ));
        }
    }
    obs
}

fn next_step(variant: &str, role: &str, td: Option<&TaskDefinition>) -> String {
    let then = " Then redeploy.";
    match variant {
        "secrets" => {
            let refs: Vec<&str> = td
                .into_iter()
                .flat_map(|d| &d.containers)
                .flat_map(|c| c.secrets.iter().chain(&c.log_secret_options))
                .map(|(_, from)| from.as_str())
                .take(3)
                .collect();
            let on = if refs.is_empty() {
                "the referenced secrets".to_string()
            } else {
                refs.join(", ")
            };
            format!(
                "Give the execution role {role} secretsmanager:GetSecretValue / \
                 ssm:GetParameters (and kms:Decrypt for a customer key) on {on}.{then}"
            )
        }
        "logging" => {
            let group = td
                .into_iter()
                .flat_map(|d| &d.containers)
                .flat_map(|c| &c.log_options)
                .find(|(k, _)| k == "awslogs-group")
                .map(|(_, v)| format!(" {v}"))
                .unwrap_or_default();
            format!(
                "Give the execution role {role} logs:CreateLogStream / logs:PutLogEvents and \
                 check that the log group{group} exists in the configured region.{then}"
            )
        }
        "network" => format!(
            "The task's subnets cannot reach the service it needs at start (Secrets Manager, SSM, \
             CloudWatch Logs, ECR): add a NAT route or VPC endpoints and allow egress on 443.{then}"
        ),
        _ => format!("Show the task for the full reason.{then}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ContainerDefinition;
    use crate::triage::rules::state_rules::stops::FAILED_TO_START;
    use crate::triage::rules::state_rules::support::fixtures::*;

    const SECRET: &str = "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: AccessDeniedException: User is not authorized to perform secretsmanager:GetSecretValue";
    const LOGS: &str = "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist.";

    fn init(id: &str, mins: i64, reason: &str) -> Task {
        let mut t = stopped("web", id, mins_ago(mins), 0, FAILED_TO_START, None);
        t.stopped_reason = reason.into();
        t
    }

    #[test]
    fn one_finding_per_service_and_variant() {
        let mut f = facts();
        f.services = vec![service("web")];
        add_task_definition(
            &mut f,
            task_definition(
                "web",
                17,
                ContainerDefinition {
                    secrets: vec![(
                        "DB_PASSWORD".into(),
                        "arn:aws:secretsmanager:eu-west-1:1:secret:db".into(),
                    )],
                    ..Default::default()
                },
            ),
        );
        f.stopped = vec![
            init("t1", 5, SECRET),
            init("t2", 2, SECRET),
            init("t3", 1, LOGS),
            stopped(
                "web",
                "t4",
                mins_ago(1),
                60,
                "EssentialContainerExited",
                Some(1),
            ),
        ];
        let found = check(&f.input());
        assert_eq!(found.len(), 2);
        let secrets = found.iter().find(|o| o.key == "secrets").unwrap();
        assert_eq!(secrets.severity, Severity::Critical);
        assert_eq!(secrets.since, Some(mins_ago(5)));
        assert!(
            secrets.message.starts_with(
                "web: task t2 failed before start — secrets: unable to pull secrets or registry auth"
            ),
            "{}",
            secrets.message
        );
        assert!(secrets.message.contains(
            "(execution role arn:aws:iam::123456789012:role/web-exec) (2 tasks in 30 min)"
        ));
        assert!(
            secrets
                .next
                .contains("arn:aws:secretsmanager:eu-west-1:1:secret:db")
        );
        let logging = found.iter().find(|o| o.key == "logging").unwrap();
        assert!(
            logging
                .message
                .contains("— logging: failed to validate logger args")
        );
    }

    #[test]
    fn variants() {
        assert_eq!(variant(SECRET), "secrets");
        assert_eq!(variant(LOGS), "logging");
        assert_eq!(
            variant(
                "ResourceInitializationError: failed to get registry auth: dial tcp 1.2.3.4:443: i/o timeout"
            ),
            "network"
        );
        assert_eq!(variant("ResourceInitializationError: something"), "other");
    }

    #[test]
    fn quiet_when_old_or_not_an_init_error() {
        let mut f = facts();
        f.stopped = vec![
            init("t1", 31, SECRET),
            init("t2", 1, "CannotPullContainerError: manifest unknown"),
        ];
        assert!(check(&f.input()).is_empty());
        f.stopped = vec![init("t1", 30, SECRET)];
        assert_eq!(check(&f.input()).len(), 1);
    }
}
