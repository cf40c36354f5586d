//! single-point-of-failure-placement: every running task of a service sits in one
//! availability zone, or on one instance, while the cluster offers more.

use std::collections::BTreeSet;

use chrono::TimeDelta;

use super::support::usable;
use crate::model::{Evidence, Observation, Remedy, Service, Severity, Task};
use crate::triage::Input;
use crate::triage::input::service_subject;
use crate::triage::rules::about::{About, Read, Value, WARNING, limit};

pub const ID: &str = "single-point-of-failure-placement";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "Every running task of a service sits in one availability zone, or on one instance, while the cluster offers more.",
    severities: WARNING,
    reads: &[
        Read::Api("ECS DescribeTasks: availabilityZone, containerInstanceArn"),
        Read::Api("ECS DescribeContainerInstances: availability zones"),
    ],
    limits: &[limit("held", Value::Span(HOLD))],
};
/// Placement is read from polled tasks; a rollout can bunch tasks for a moment.
const HOLD: TimeDelta = TimeDelta::minutes(5);

pub fn check(input: &Input) -> Vec<Observation> {
    input
        .services
        .iter()
        .filter(|s| s.status == "ACTIVE")
        .filter_map(|s| observe(input, s))
        .collect()
}

fn observe(input: &Input, s: &Service) -> Option<Observation> {
    let tasks: Vec<&Task> = input
        .tasks_of(s)
        .filter(|t| t.last_status == "RUNNING")
        .collect();
    // Spread over zones and hosts: nothing to check against the cluster (the common case; it
    // spares a scan of the cluster's instances per service).
    if tasks.len() < 2 || spread(&tasks) {
        return None;
    }
    let task_azs: BTreeSet<&str> = tasks.iter().map(|t| t.availability_zone.as_str()).collect();
    let hosts: BTreeSet<Option<&str>> = tasks
        .iter()
        .map(|t| t.container_instance_arn.as_deref())
        .collect();
    let cluster = Input::cluster_name(&s.cluster_arn);
    let instances: Vec<_> = input.instances_of(cluster).filter(|i| usable(i)).collect();
    let cluster_azs: BTreeSet<&str> = instances
        .iter()
        .map(|i| i.availability_zone.as_str())
        .filter(|az| !az.is_empty())
        .collect();

    let one_az = task_azs.len() == 1 && !task_azs.contains("") && cluster_azs.len() >= 2;
    let one_host = hosts.len() == 1 && !hosts.contains(&None) && instances.len() >= 2;
    if !one_az && !one_host {
        return None;
    }
    let az = task_azs.iter().next().copied().unwrap_or_default();
    let host = one_host
        .then(|| {
            let arn = hosts.iter().next().copied().flatten()?;
            let i = input.instances.iter().find(|i| i.arn == arn)?;
            Some(super::support::instance_label(i).to_string())
        })
        .flatten();
    let mut message = format!("{}: all {} tasks are in {az}", s.name, tasks.len());
    if let Some(h) = &host {
        message.push_str(&format!(" and on {h}"));
    }
    message.push_str(" — a single AZ/host failure takes the service down");
    let mut evidence = format!(
        "task AZs [{}]; ACTIVE instances in [{}]",
        task_azs.into_iter().collect::<Vec<_>>().join(", "),
        cluster_azs.into_iter().collect::<Vec<_>>().join(", ")
    );
    if !s.placement_strategy.is_empty() {
        evidence.push_str(&format!("; strategy {}", s.placement_strategy.join(", ")));
    }
    Some(
        Observation::new(ID, Severity::Warning, service_subject(s), message)
            .hold(HOLD)
            .evidence(Evidence::at(input.now, evidence))
            .next(
                "Use the placement strategy spread(attribute:ecs.availability-zone), then \
                 spread(instanceId), or add distinctInstance. Add subnets in other AZs, then \
                 redeploy to re-place the tasks.",
            )
            .remedies(&[Remedy::Redeploy, Remedy::ShowTask]),
    )
}

/// Whether the tasks sit in more than one zone and on more than one host: told by comparing
/// each with the first, without the sets below (a service of thousands of tasks, at every
/// evaluation, mostly spread).
fn spread(tasks: &[&Task]) -> bool {
    let Some(first) = tasks.first() else {
        return false;
    };
    let zones = tasks
        .iter()
        .any(|t| t.availability_zone != first.availability_zone);
    zones
        && tasks
            .iter()
            .any(|t| t.container_instance_arn != first.container_instance_arn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::Facts;
    use crate::triage::rules::state_rules::support::fixtures::*;

    /// Two instances in two AZs; web's tasks both on i-1 in eu-west-1a.
    fn bunched() -> Facts {
        let mut f = facts();
        f.services = vec![service("web")];
        f.instances = vec![instance("i-1", "eu-west-1a"), instance("i-2", "eu-west-1b")];
        f.tasks = vec![running("web", "t1"), running("web", "t2")];
        f
    }

    #[test]
    fn fires_when_every_task_is_in_one_az_on_one_host() {
        let found = check(&bunched().input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(found[0].hold, Some(HOLD));
        assert_eq!(
            found[0].message,
            "web: all 2 tasks are in eu-west-1a and on i-1 — a single AZ/host failure takes the service down"
        );
    }

    #[test]
    fn one_az_across_two_hosts_still_fires_without_the_host() {
        let mut f = bunched();
        f.instances.push(instance("i-3", "eu-west-1a"));
        f.tasks[1].container_instance_arn = Some(instance_arn("i-3").into());
        assert_eq!(
            check(&f.input())[0].message,
            "web: all 2 tasks are in eu-west-1a — a single AZ/host failure takes the service down"
        );
    }

    #[test]
    fn one_host_fires_even_when_its_tasks_name_two_zones() {
        // Spread over zones but not over hosts (a host's tasks reported in two zones): the one
        // host still takes the service down.
        let mut f = bunched();
        f.tasks[1].availability_zone = "eu-west-1b".into();
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("and on i-1"),
            "{}",
            found[0].message
        );
        // Spread over both: quiet (the check that spares the cluster's instances).
        f.tasks[1].container_instance_arn = Some(instance_arn("i-2").into());
        assert!(check(&f.input()).is_empty());
    }

    #[test]
    fn quiet_when_spread_single_task_or_single_az_cluster() {
        let mut f = bunched();
        f.tasks[1].availability_zone = "eu-west-1b".into();
        f.tasks[1].container_instance_arn = Some(instance_arn("i-2").into());
        assert!(check(&f.input()).is_empty());

        let mut f = bunched();
        f.tasks.pop();
        assert!(check(&f.input()).is_empty());

        // One instance only: nowhere else to go (the subnets' AZs are not known).
        let mut f = bunched();
        f.instances.pop();
        assert!(check(&f.input()).is_empty());
    }
}
