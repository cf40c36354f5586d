//! lb-registration-misconfig: a service's tasks do not get registered in its target group:
//! the service's container name or port does not exist in the task definition, ECS reports it
//! cannot register (service-linked role, missing target group), or tasks run while the
//! target group stays empty.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use chrono::TimeDelta;
use regex::Regex;

use super::support::{RECENT, duration, events_since, primary_task_definition, short};
use crate::model::arn::target_group_name;
use crate::model::{Evidence, Observation, Remedy, Service, Severity, Time};
use crate::triage::Input;
use crate::triage::input::service_subject;
use crate::triage::rules::about::{About, CRITICAL, Read, Value, limit};

pub const ID: &str = "lb-registration-misconfig";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "A service's tasks are not registered in its target group (wrong container name or port, role, missing group).",
    severities: CRITICAL,
    reads: &[
        Read::Api("ECS DescribeServices: loadBalancers, events"),
        Read::Api("ECS DescribeTaskDefinition: container names and ports"),
        Read::Api("ELBv2 DescribeTargetHealth"),
    ],
    limits: &[limit(
        "running tasks with an empty target group for >",
        Value::Span(EMPTY_FOR),
    )],
};
/// Running tasks with an empty target group for longer than this (our default).
const EMPTY_FOR: TimeDelta = TimeDelta::minutes(3);

static EVENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)service-linked role|unable to assume the role|target group .*(not found|does not exist)")
        .unwrap()
});

struct Cause {
    target_group: Option<String>,
    text: String,
    evidence: Evidence,
    since: Option<Time>,
}

pub fn check(input: &Input) -> Vec<Observation> {
    input
        .services
        .iter()
        .filter(|s| s.status == "ACTIVE")
        .filter_map(|s| observe(input, s))
        .collect()
}

fn observe(input: &Input, s: &Service) -> Option<Observation> {
    let mut causes = mismatches(input, s);
    causes.extend(empty_target_groups(input, s));
    for e in events_since(s, input.now - RECENT, |m| EVENT.is_match(m)).take(3) {
        causes.push(Cause {
            target_group: None,
            text: format!("ECS reports: \"{}\"", short(&e.message, 140)),
            evidence: Evidence::at(e.at, e.message.clone()),
            since: Some(e.at),
        });
    }
    if causes.is_empty() {
        return None;
    }
    let groups: BTreeSet<&str> = causes
        .iter()
        .filter_map(|c| c.target_group.as_deref())
        .map(target_group_name)
        .collect();
    let groups = if groups.is_empty() {
        let all: Vec<&str> = s
            .lb_bindings
            .iter()
            .map(|b| target_group_name(&b.target_group_arn))
            .collect();
        if all.is_empty() {
            "its target group".to_string()
        } else {
            all.join(", ")
        }
    } else {
        groups.into_iter().collect::<Vec<_>>().join(", ")
    };
    let texts: Vec<&str> = causes.iter().map(|c| c.text.as_str()).collect();
    let message = format!(
        "{}: tasks are not registered in {groups} — {}",
        s.name,
        texts.join("; ")
    );
    let mut obs = Observation::new(ID, Severity::Critical, service_subject(s), message)
        .next(
            "Make the service's load balancer container name and port match the task \
             definition, or revert the rename in the task definition, then redeploy. Recreate \
             AWSServiceRoleForECS if it is missing; confirm iam:PassRole for a custom service \
             role.",
        )
        .remedies(&[Remedy::TargetHealth, Remedy::Events, Remedy::Redeploy]);
    if let Some(first) = causes.iter().filter_map(|c| c.since).min() {
        obs = obs.since(first);
    }
    for c in causes {
        obs = obs.evidence(c.evidence);
    }
    Some(obs)
}

/// The service's `loadBalancers[]` naming a container or port its task definition lacks.
fn mismatches(input: &Input, s: &Service) -> Vec<Cause> {
    let Some(td) = primary_task_definition(input, s) else {
        return Vec::new();
    };
    s.lb_bindings
        .iter()
        .filter(|b| !b.container_name.is_empty())
        .filter_map(|b| {
            let text = match td.container(&b.container_name) {
                None => {
                    let names: Vec<&str> = td.containers.iter().map(|c| c.name.as_str()).collect();
                    format!(
                        "container {} is not in {} (it has {})",
                        b.container_name,
                        td.reference,
                        names.join(", ")
                    )
                }
                // No port mappings known: nothing to compare.
                Some(c) if c.port_mappings.is_empty() || b.container_port == 0 => return None,
                Some(c)
                    if c.port_mappings
                        .iter()
                        .any(|p| u32::from(p.container_port) == b.container_port) =>
                {
                    return None;
                }
                Some(c) => {
                    let ports: Vec<String> = c
                        .port_mappings
                        .iter()
                        .map(|p| p.container_port.to_string())
                        .collect();
                    format!(
                        "container {} in {} maps port {}, not {}",
                        c.name,
                        td.reference,
                        ports.join(", "),
                        b.container_port
                    )
                }
            };
            Some(Cause {
                target_group: Some(b.target_group_arn.clone()),
                evidence: Evidence::at(
                    input.now,
                    format!(
                        "service loadBalancers: {} → {}:{}; task definition {}",
                        target_group_name(&b.target_group_arn),
                        b.container_name,
                        b.container_port,
                        td.reference
                    ),
                ),
                text,
                since: None,
            })
        })
        .collect()
}

/// Target groups that have had no registered target for more than `EMPTY_FOR` while the
/// service had tasks running for longer than that.
fn empty_target_groups(input: &Input, s: &Service) -> Vec<Cause> {
    let settled = input
        .tasks_of(s)
        .filter(|t| t.last_status == "RUNNING")
        .filter(|t| t.started_at.is_some_and(|at| input.now - at > EMPTY_FOR))
        .count();
    if settled == 0 {
        return Vec::new();
    }
    let groups: BTreeSet<&str> = s
        .lb_bindings
        .iter()
        .map(|b| b.target_group_arn.as_str())
        .chain(s.target_group_arns.iter().map(String::as_str))
        .collect();
    groups
        .into_iter()
        .filter_map(|tg| {
            let polls = input.target_polls(tg);
            let newest = polls.last()?.fetched_at?;
            if input.now - newest > EMPTY_FOR {
                return None; // stale: says nothing about now
            }
            // The oldest poll of the current run of empty answers.
            let registered = |p: &crate::model::TargetGroupHealth| {
                p.targets.iter().filter(|t| t.state != "draining").count()
            };
            let empty_since = polls
                .iter()
                .rev()
                .take_while(|p| registered(p) == 0)
                .filter_map(|p| p.fetched_at)
                .min()?;
            if input.now - empty_since <= EMPTY_FOR {
                return None;
            }
            Some(Cause {
                target_group: Some(tg.to_string()),
                text: format!(
                    "{settled} task(s) running but 0 targets registered for {}",
                    duration(input.now - empty_since)
                ),
                evidence: Evidence::at(
                    newest,
                    format!("DescribeTargetHealth {}: no targets", target_group_name(tg)),
                ),
                since: Some(empty_since + EMPTY_FOR),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        ContainerDefinition, HealthCheck, LbBinding, PortMapping, TargetGroupHealth, TargetHealth,
    };
    use crate::triage::Facts;
    use crate::triage::rules::state_rules::support::fixtures::*;

    const TG: &str =
        "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/tg-web/73e2d6bc24d8a067";

    fn bound(container: &str, port: u32) -> Facts {
        let mut f = facts();
        let mut s = service("web");
        s.lb_bindings = vec![LbBinding {
            target_group_arn: TG.into(),
            container_name: container.into(),
            container_port: port,
        }];
        f.services = vec![s];
        add_task_definition(
            &mut f,
            task_definition(
                "web",
                17,
                ContainerDefinition {
                    port_mappings: vec![PortMapping {
                        container_port: 8080,
                        ..Default::default()
                    }],
                    ..Default::default()
                },
            ),
        );
        f
    }

    fn poll(mins: i64, targets: usize) -> TargetGroupHealth {
        TargetGroupHealth {
            arn: TG.into(),
            name: "tg-web".into(),
            health_check: HealthCheck::default(),
            targets: (0..targets)
                .map(|n| TargetHealth {
                    id: format!("10.0.0.{n}"),
                    port: Some(8080),
                    availability_zone: "eu-west-1a".into(),
                    state: "healthy".into(),
                    reason: String::new(),
                    description: String::new(),
                })
                .collect(),
            fetched_at: Some(mins_ago(mins)),
        }
    }

    #[test]
    fn a_renamed_container_or_a_wrong_port() {
        let found = check(&bound("web", 8080).input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Critical);
        assert_eq!(
            found[0].message,
            "web: tasks are not registered in tg-web — container web is not in web:17 (it has app)"
        );
        let found = check(&bound("app", 80).input());
        assert_eq!(
            found[0].message,
            "web: tasks are not registered in tg-web — container app in web:17 maps port 8080, not 80"
        );
        assert!(check(&bound("app", 8080).input()).is_empty());
    }

    #[test]
    fn running_tasks_and_an_empty_target_group_for_more_than_three_minutes() {
        let mut f = bound("app", 8080);
        f.tasks = vec![running("web", "t1")];
        f.target_health.insert(
            TG.into(),
            vec![poll(6, 1), poll(4, 0), poll(2, 0), poll(0, 0)],
        );
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .message
                .ends_with("1 task(s) running but 0 targets registered for 4m"),
            "{}",
            found[0].message
        );
        assert_eq!(found[0].since, Some(mins_ago(1)));
        // Empty for only 3 minutes: quiet.
        f.target_health
            .insert(TG.into(), vec![poll(4, 1), poll(3, 0), poll(0, 0)]);
        assert!(check(&f.input()).is_empty());
        // Tasks that only just started are still registering.
        f.target_health
            .insert(TG.into(), vec![poll(10, 0), poll(0, 0)]);
        f.tasks[0].started_at = Some(mins_ago(2));
        assert!(check(&f.input()).is_empty());
    }

    #[test]
    fn a_stale_poll_says_nothing() {
        let mut f = bound("app", 8080);
        f.tasks = vec![running("web", "t1")];
        f.target_health
            .insert(TG.into(), vec![poll(10, 0), poll(4, 0)]);
        assert!(check(&f.input()).is_empty());
    }

    #[test]
    fn a_matching_event() {
        let mut f = bound("app", 8080);
        f.services[0].events = vec![event(
            mins_ago(2),
            "(service web) failed to describe target group: target group arn:x does not exist.",
        )];
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        assert!(found[0].message.starts_with(
            "web: tasks are not registered in tg-web — ECS reports: \"(service web) failed"
        ));
        f.services[0].events[0].at = mins_ago(31);
        assert!(check(&f.input()).is_empty());
    }
}
