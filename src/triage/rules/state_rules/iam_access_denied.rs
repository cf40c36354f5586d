//! iam-access-denied: AWS refused a call the service made, seen in a stop reason, a service
//! event, or the service's logs.

use std::sync::LazyLock;

use chrono::TimeDelta;
use regex::Regex;

use super::stops;
use super::support::{RECENT, duration, events_since, short, stop_time};
use crate::model::{Evidence, Observation, Remedy, Service, Severity, Time};
use crate::triage::Input;
use crate::triage::input::service_subject;
use crate::triage::rules::about::{About, Read, Value, WARNING_CRITICAL, limit};

pub const ID: &str = "iam-access-denied";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "AWS refused a call the service made: in a stop reason, a service event or the service's logs.",
    severities: WARNING_CRITICAL,
    reads: &[
        Read::Api("ECS DescribeTasks (stopped): stoppedReason"),
        Read::Api("ECS DescribeServices: events"),
        Read::Log(LOG_DENIED_PATTERN),
    ],
    limits: &[
        limit("log lines ≥", Value::Count(LOG_MIN)),
        limit("within", Value::Span(LOG_WINDOW)),
    ],
};
/// Log matches per service within `LOG_WINDOW` before it fires (our default).
const LOG_MIN: usize = 3;
const LOG_WINDOW: TimeDelta = TimeDelta::minutes(5);

const LOG_DENIED_PATTERN: &str = r"(?i)AccessDenied(Exception)?|Access Denied|is not authorized to perform:? [a-z0-9-]+:[A-Za-z]+|Status Code: 403";
static LOG_DENIED: LazyLock<Regex> = LazyLock::new(|| Regex::new(LOG_DENIED_PATTERN).unwrap());
static ACTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"is not authorized to perform:? (?<action>[A-Za-z0-9-]+:[A-Za-z0-9*]+)").unwrap()
});
static RESOURCE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"on resource:? "?(?<arn>arn:[^\s"',)]+)"#).unwrap());
/// A bucket named the way applications log it (`s3://reports-prod/…`), when no ARN is given.
static BUCKET: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"s3://(?<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])").unwrap());
/// The AWS SDK's `(Service: S3, Status Code: 403, …)`.
static SDK_SERVICE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\(Service: (?<svc>[A-Za-z0-9 ]+?),").unwrap());
static ASSUME_ROLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)unable to assume the role").unwrap());

/// One place the denial was seen.
struct Source {
    name: &'static str,
    count: usize,
    window: TimeDelta,
    /// (time, raw text) of the matches, newest first.
    samples: Vec<(Time, String)>,
}

pub fn check(input: &Input) -> Vec<Observation> {
    input
        .services
        .iter()
        .filter_map(|s| observe(input, s))
        .collect()
}

fn observe(input: &Input, s: &Service) -> Option<Observation> {
    let mut sources = Vec::new();

    // (a) stop reasons. Pull and resource-initialization failures have rules of their own.
    let stops: Vec<(Time, String)> = input
        .stops_of(s, input.now - RECENT)
        .into_iter()
        .filter(|t| {
            !stops::is_pull_failure(&t.stopped_reason)
                && !stops::is_resource_init_error(&t.stopped_reason)
        })
        .filter_map(|t| {
            let text = std::iter::once(t.stopped_reason.as_str())
                .chain(t.containers.iter().map(|c| c.reason.as_str()))
                .find(|r| r.contains("AccessDenied"))?;
            Some((stop_time(t)?, text.to_string()))
        })
        .collect();
    if !stops.is_empty() {
        sources.push(Source {
            name: "stoppedReason",
            count: stops.len(),
            window: RECENT,
            samples: stops,
        });
    }

    // (b) service events.
    let events: Vec<(Time, String)> =
        events_since(s, input.now - RECENT, |m| ASSUME_ROLE.is_match(m))
            .map(|e| (e.at, e.message.clone()))
            .collect();
    if !events.is_empty() {
        sources.push(Source {
            name: "events",
            count: events.len(),
            window: RECENT,
            samples: events,
        });
    }

    // (c) logs, at a threshold.
    let mut logs: Vec<(Time, String)> = input
        .logs_of(s, input.now - LOG_WINDOW)
        .filter(|l| LOG_DENIED.is_match(&l.message))
        .map(|l| (l.at, l.message.clone()))
        .collect();
    logs.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    if logs.len() >= LOG_MIN {
        sources.push(Source {
            name: "logs",
            count: logs.len(),
            window: LOG_WINDOW,
            samples: logs,
        });
    }

    if sources.is_empty() {
        return None;
    }
    // Stop reasons and events are the platform itself failing: critical on sight.
    let severity = if sources.iter().any(|src| src.name != "logs") {
        Severity::Critical
    } else {
        Severity::Warning
    };
    let texts = || {
        sources
            .iter()
            .flat_map(|src| src.samples.iter().map(|(_, t)| t.as_str()))
    };
    let action = texts()
        .find_map(|t| ACTION.captures(t).map(|c| c["action"].to_string()))
        .or_else(|| {
            texts().find_map(|t| {
                SDK_SERVICE
                    .captures(t)
                    .map(|c| format!("{} call", &c["svc"]))
            })
        })
        .or_else(|| {
            texts()
                .any(|t| ASSUME_ROLE.is_match(t))
                .then(|| "sts:AssumeRole".into())
        })
        .unwrap_or_else(|| "AWS call".into());
    let resource = texts()
        .find_map(|t| RESOURCE.captures(t).map(|c| c["arn"].to_string()))
        .or_else(|| {
            texts().find_map(|t| {
                BUCKET
                    .captures(t)
                    .map(|c| format!("bucket {}", &c["bucket"]))
            })
        })
        .unwrap_or_else(|| "an unnamed resource".into());
    let counts: Vec<String> = sources
        .iter()
        .map(|src| {
            format!(
                "{} in {}, source {}",
                src.count,
                duration(src.window),
                src.name
            )
        })
        .collect();
    let message = format!(
        "{}: AWS call denied — {action} on {resource} ({})",
        s.name,
        counts.join("; ")
    );
    let since = sources
        .iter()
        .filter_map(|src| src.samples.last().map(|(at, _)| *at))
        .min();
    let mut obs = Observation::new(ID, severity, service_subject(s), message)
        .next(next_step(input, s, &sources))
        .remedies(&[
            Remedy::Exec,
            Remedy::OpenLogs,
            Remedy::ShowTask,
            Remedy::Events,
        ]);
    if let Some(at) = since {
        obs = obs.since(at);
    }
    for src in &sources {
        for (at, text) in src.samples.iter().take(2) {
            obs = obs.evidence(Evidence::at(
                *at,
                format!("{}: {}", src.name, short(text, 300)),
            ));
        }
    }
    Some(obs)
}

fn next_step(input: &Input, s: &Service, sources: &[Source]) -> String {
    let td = super::support::primary_task_definition(input, s);
    let role = |arn: Option<&str>| arn.filter(|a| !a.is_empty()).map(|a| format!(" ({a})"));
    let task_role = role(td.map(|d| d.task_role_arn.as_str())).unwrap_or_default();
    let exec_role = role(td.map(|d| d.execution_role_arn.as_str())).unwrap_or_default();
    let mut next = format!(
        "Identify the role that was used: application SDK calls use the task role{task_role}, \
         image/log/secret calls at start-up use the execution role{exec_role}, and load balancer \
         or Cloud Map registration uses the service-linked role."
    );
    if sources.iter().any(|src| src.name == "events") {
        next.push_str(" An \"unable to assume the role\" event points at the service role or AWSServiceRoleForECS.");
    }
    next.push_str(
        " Check resource policies too (S3 bucket, KMS key, secret policy). With exec, run `aws sts \
         get-caller-identity` to catch a stale static AWS_ACCESS_KEY_ID override.",
    );
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::rules::state_rules::support::fixtures::*;

    const S3: &str = "ERROR c.e.ReportUploader - upload failed: software.amazon.awssdk.services.s3.model.S3Exception: Access Denied (Service: S3, Status Code: 403, Request ID: ABC)";
    const IAM: &str = "User: arn:aws:sts::1:assumed-role/web-task/abc is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:eu-west-1:1:table/orders because no identity-based policy allows it";

    fn with_logs(lines: &[(i64, &str)]) -> crate::triage::Facts {
        let mut f = facts();
        f.services = vec![service("web")];
        f.logs = lines
            .iter()
            .map(|(secs, m)| log("web", "t1", secs_ago(*secs), m))
            .collect();
        f
    }

    #[test]
    fn three_log_matches_in_five_minutes_fire_a_warning() {
        let f = with_logs(&[(10, S3), (70, S3), (290, S3)]);
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(
            found[0].message,
            "web: AWS call denied — S3 call on an unnamed resource (3 in 5m, source logs)"
        );
        assert_eq!(found[0].since, Some(secs_ago(290)));
    }

    #[test]
    fn two_log_matches_or_old_ones_are_quiet() {
        assert!(check(&with_logs(&[(10, S3), (70, S3)]).input()).is_empty());
        assert!(check(&with_logs(&[(10, S3), (70, S3), (301, S3)]).input()).is_empty());
        assert!(
            check(&with_logs(&[(10, "GET /health 200"), (20, "ok"), (30, "fine")]).input())
                .is_empty()
        );
    }

    #[test]
    fn names_the_bucket_an_application_logs() {
        const UPLOAD: &str = "Upload of reports/daily/1.csv to s3://reports-prod failed: \
            S3Exception: Access Denied (Service: S3, Status Code: 403, Request ID: 1A2B)";
        let found = check(&with_logs(&[(10, UPLOAD), (20, UPLOAD), (30, UPLOAD)]).input());
        assert!(
            found[0].message.contains("S3 call on bucket reports-prod"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn names_the_action_and_resource_when_the_text_does() {
        let found = check(&with_logs(&[(10, IAM), (20, IAM), (30, IAM)]).input());
        assert!(
            found[0]
                .message
                .contains("dynamodb:PutItem on arn:aws:dynamodb:eu-west-1:1:table/orders"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn a_stop_reason_or_an_event_is_critical_on_sight() {
        let mut f = facts();
        f.services = vec![service("web")];
        let mut t = stopped(
            "web",
            "t1",
            mins_ago(2),
            30,
            "EssentialContainerExited",
            Some(1),
        );
        t.containers[0].reason = "AccessDeniedException: not allowed".into();
        f.stopped = vec![t];
        let found = check(&f.input());
        assert_eq!(found[0].severity, Severity::Critical);
        assert!(
            found[0]
                .message
                .ends_with("(1 in 30m, source stoppedReason)"),
            "{}",
            found[0].message
        );

        let mut f = facts();
        f.services = vec![service("web")];
        f.services[0].events = vec![event(
            mins_ago(3),
            "(service web) failed to register targets: unable to assume the role arn:aws:iam::1:role/ecsServiceRole",
        )];
        let found = check(&f.input());
        assert_eq!(found[0].severity, Severity::Critical);
        assert!(
            found[0].message.contains("sts:AssumeRole"),
            "{}",
            found[0].message
        );
        assert!(found[0].next.contains("AWSServiceRoleForECS"));
    }

    #[test]
    fn pull_and_init_failures_are_left_to_their_rules() {
        let mut f = facts();
        f.services = vec![service("web")];
        let mut t = stopped("web", "t1", mins_ago(2), 0, "TaskFailedToStart", None);
        t.stopped_reason = "ResourceInitializationError: unable to retrieve secret from asm: AccessDeniedException".into();
        let mut p = t.clone();
        p.arn = task_arn("t2").into();
        p.stopped_reason = "CannotPullContainerError: AccessDenied".into();
        f.stopped = vec![t, p];
        assert!(check(&f.input()).is_empty());
    }
}
