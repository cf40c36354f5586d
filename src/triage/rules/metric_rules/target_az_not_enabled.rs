//! target-az-not-enabled: running tasks in an Availability Zone the load balancer is not
//! enabled in get neither traffic nor health checks (`unused` / `Target.NotInUse`).
//!
//! The load balancer's AZ list (DescribeLoadBalancers) and the subnets' AZs are not polled:
//! the enabled zones are read from the group's targets that are in use, and the info-level
//! branch (service subnets in such a zone before any task lands there) is left out.

use std::collections::BTreeMap;

use super::util::{
    fresh_polls, load_balancer, load_balancer_name, same_target, target_group_name, target_groups,
    task_of_target,
};
use crate::model::{Evidence, Observation, Remedy, Severity, TargetGroupHealth, TargetHealth};
use crate::sanitize::clean;
use crate::triage::Input;
use crate::triage::input::service_subject;
use crate::triage::rules::about::{About, Read, WARNING_CRITICAL};

pub const ID: &str = "target-az-not-enabled";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "Running tasks in an availability zone the load balancer is not enabled in get no traffic (Target.NotInUse).",
    severities: WARNING_CRITICAL,
    reads: &[
        Read::Api("ELBv2 DescribeTargetHealth: unused / Target.NotInUse"),
        Read::Api("ECS DescribeTasks: availabilityZone"),
    ],
    limits: &[],
};

/// `Target.NotInUse` also means "the group is not used by any listener"; the zone case says
/// so in its description, or shows as the only zone without traffic.
fn zone_not_enabled(poll: &TargetGroupHealth, t: &TargetHealth) -> bool {
    if t.state != "unused" || t.reason != "Target.NotInUse" {
        return false;
    }
    let description = t.description.to_ascii_lowercase();
    if description.contains("availability zone") {
        return true;
    }
    description.is_empty()
        && poll
            .targets
            .iter()
            .any(|o| o.state != "unused" && o.availability_zone != t.availability_zone)
}

pub fn check(input: &Input) -> Vec<Observation> {
    let mut out = Vec::new();
    for &s in &input.services {
        let running = input
            .tasks_of(s)
            .filter(|t| t.last_status == "RUNNING")
            .count();
        for tg in target_groups(s) {
            let polls = fresh_polls(input, tg);
            let [.., before, latest] = polls else {
                continue;
            };
            let mut enabled: Vec<String> = latest
                .targets
                .iter()
                .filter(|t| t.state != "unused" && !t.availability_zone.is_empty())
                .map(|t| clean(&t.availability_zone).into_owned())
                .collect();
            enabled.sort();
            enabled.dedup();
            // Zone → (task ids, evidence).
            let mut zones: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for t in &latest.targets {
                if !zone_not_enabled(latest, t)
                    || !same_target(before, t).is_some_and(|b| zone_not_enabled(before, b))
                {
                    continue;
                }
                let Some(task) =
                    task_of_target(input, s, t).filter(|task| task.last_status == "RUNNING")
                else {
                    continue;
                };
                let az = if t.availability_zone.is_empty() {
                    &task.availability_zone
                } else {
                    t.availability_zone.as_str()
                };
                zones
                    .entry(clean(az).into_owned())
                    .or_default()
                    .push(format!(
                        "task {} ({}) unused {} \"{}\"",
                        task.short_id(),
                        clean(&t.id),
                        clean(&t.reason),
                        clean(&t.description)
                    ));
            }
            let lb = load_balancer(s, tg)
                .map(load_balancer_name)
                .unwrap_or_else(|| {
                    format!("the load balancer of {}", target_group_name(tg, polls))
                });
            let lb_azs = if enabled.is_empty() {
                "other zones".to_string()
            } else {
                enabled.join(", ")
            };
            for (az, tasks) in zones {
                let n = tasks.len();
                let severity = if n * 2 > running {
                    Severity::Critical
                } else {
                    Severity::Warning
                };
                let at = latest.fetched_at.unwrap_or(input.now);
                let mut o = Observation::new(
                    ID,
                    severity,
                    service_subject(s),
                    format!(
                        "{}: {n} task(s) in {az} get no traffic or health checks — {lb} is \
                         enabled only in {lb_azs}",
                        s.name
                    ),
                )
                .key(az.clone())
                .next(format!(
                    "Add a subnet in {az} to the load balancer, or remove the {az} subnets from \
                     the service (or constrain placement), then redeploy."
                ))
                .remedies(&[Remedy::TargetHealth, Remedy::Redeploy]);
                for e in tasks {
                    o = o.evidence(Evidence::at(at, e));
                }
                out.push(o);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    const NOT_ENABLED: &str =
        "Target is in an Availability Zone that is not enabled for the load balancer";

    fn unused(n: u32, description: &str) -> TargetHealth {
        TargetHealth {
            availability_zone: "us-east-1c".into(),
            ..target(n, "unused", "Target.NotInUse", description)
        }
    }

    fn fleet(latest: Vec<TargetHealth>, before: Vec<TargetHealth>) -> crate::triage::Facts {
        let mut f = facts();
        f.services = vec![service("web", 4)];
        f.tasks = (1..=4).map(|n| task("web", n, 3600)).collect();
        f.target_health
            .insert(TG.into(), vec![poll(30, before), poll(0, latest)]);
        f
    }

    #[test]
    fn fires_for_running_tasks_in_a_zone_without_the_load_balancer() {
        let t = vec![unused(1, NOT_ENABLED), healthy(2), healthy(3), healthy(4)];
        let found = check(&fleet(t.clone(), t).input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(found[0].key, "us-east-1c");
        assert_eq!(
            found[0].message,
            "web: 1 task(s) in us-east-1c get no traffic or health checks — edge is enabled \
             only in us-east-1a"
        );
    }

    #[test]
    fn critical_when_more_than_half_the_tasks_are_cut_off() {
        let two = vec![unused(1, ""), unused(2, ""), healthy(3), healthy(4)];
        let found = check(&fleet(two.clone(), two).input());
        assert_eq!(found[0].severity, Severity::Warning, "2 of 4 is half");
        let three = vec![unused(1, ""), unused(2, ""), unused(3, ""), healthy(4)];
        let found = check(&fleet(three.clone(), three).input());
        assert_eq!(found[0].severity, Severity::Critical);
    }

    #[test]
    fn needs_two_polls_and_a_running_task() {
        let bad = vec![unused(1, NOT_ENABLED), healthy(2)];
        let good = vec![healthy(1), healthy(2)];
        assert!(check(&fleet(bad.clone(), good).input()).is_empty());
        let mut f = fleet(bad.clone(), bad);
        f.tasks[0].last_status = "DEACTIVATING".into();
        assert!(check(&f.input()).is_empty());
    }

    #[test]
    fn a_group_no_listener_uses_is_not_a_zone_problem() {
        let t: Vec<_> = (1..=4)
            .map(|n| {
                target(
                    n,
                    "unused",
                    "Target.NotInUse",
                    "Target group is not configured to receive traffic from the load balancer",
                )
            })
            .collect();
        assert!(check(&fleet(t.clone(), t).input()).is_empty());
    }
}
