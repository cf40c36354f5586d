//! placement-no-usable-instances: a cluster has tasks to start but no instance that can take
//! them (none ACTIVE with its agent connected).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use chrono::TimeDelta;
use regex::Regex;

use super::support::{cluster_named, events_since, is_fargate, plural};
use crate::model::{Evidence, Observation, Remedy, Service, ServiceEvent, Severity};
use crate::triage::Input;
use crate::triage::rules::about::{About, CRITICAL, Read, Value, limit};

pub const ID: &str = "placement-no-usable-instances";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "A cluster has tasks to start but no ACTIVE instance with its agent connected.",
    severities: CRITICAL,
    reads: &[
        Read::Api(
            "ECS DescribeServices: desired/running counts, events \"No Container Instances were found\"",
        ),
        Read::Api("ECS DescribeContainerInstances: status, agentConnected"),
    ],
    limits: &[
        limit("events within", Value::Span(EVENT_WINDOW)),
        limit("held", Value::Span(HOLD)),
    ],
};
const EVENT_WINDOW: TimeDelta = TimeDelta::minutes(5);
/// Counts from polled state: a rolling instance refresh can empty a cluster for a moment.
const HOLD: TimeDelta = TimeDelta::minutes(1);

static NO_INSTANCES: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)No Container Instances were found").unwrap());

pub fn check(input: &Input) -> Vec<Observation> {
    // Cluster → EC2 services short of tasks, and recent "no instances" events.
    let mut short: BTreeMap<&str, Vec<&Service>> = BTreeMap::new();
    let mut events: BTreeMap<&str, Vec<&ServiceEvent>> = BTreeMap::new();
    for s in input
        .services
        .iter()
        .copied()
        .filter(|s| s.status == "ACTIVE")
    {
        let cluster = Input::cluster_name(&s.cluster_arn);
        if !is_fargate(s) && s.desired > s.running {
            short.entry(cluster).or_default().push(s);
        }
        let seen: Vec<_> =
            events_since(s, input.now - EVENT_WINDOW, |m| NO_INSTANCES.is_match(m)).collect();
        if !seen.is_empty() {
            events.entry(cluster).or_default().extend(seen);
        }
    }
    let clusters: std::collections::BTreeSet<&str> =
        short.keys().chain(events.keys()).copied().collect();
    clusters
        .into_iter()
        .filter_map(|cluster| {
            observe(
                input,
                cluster,
                short.get(cluster).map(Vec::as_slice).unwrap_or_default(),
                events.get(cluster).map(Vec::as_slice).unwrap_or_default(),
            )
        })
        .collect()
}

fn observe(
    input: &Input,
    cluster: &str,
    short: &[&Service],
    events: &[&ServiceEvent],
) -> Option<Observation> {
    let instances: Vec<_> = input.instances_of(cluster).collect();
    let described = input.clusters.iter().find(|c| c.name == cluster);
    // Instances not polled (yet) for a cluster that has some: nothing to judge.
    if instances.is_empty() && described.is_none_or(|c| c.instances > 0) && events.is_empty() {
        return None;
    }
    let registered = instances
        .len()
        .max(described.map_or(0, |c| c.instances as usize));
    let connected = instances.iter().filter(|i| i.agent_connected).count();
    let active = instances.iter().filter(|i| i.status == "ACTIVE").count();
    let usable = instances
        .iter()
        .filter(|i| i.agent_connected && i.status == "ACTIVE")
        .count();
    // An event from before an instance joined is news no longer.
    if usable > 0 {
        return None;
    }
    let missing: u32 = short.iter().map(|s| s.desired - s.running).sum();
    let message = format!(
        "{cluster}: no usable container instances ({registered} registered, {connected} \
         agent-connected, {active} ACTIVE) — {} cannot start",
        plural(missing as usize, "task")
    );
    let mut obs = Observation::new(ID, Severity::Critical, cluster_named(cluster), message)
        .next(
            "Check that the Auto Scaling group and capacity provider are not at 0 or at their \
             maximum, and that new instances join this cluster (ECS_CLUSTER in the user data, \
             the instance profile). For disconnected hosts see agent-disconnected: restart the \
             agent, or drain the instance and replace it.",
        )
        .remedies(&[Remedy::Drain, Remedy::Events]);
    for s in short {
        obs = obs.evidence(Evidence::at(
            input.now,
            format!("{}: desired {}, running {}", s.name, s.desired, s.running),
        ));
    }
    for e in events.iter().take(3) {
        obs = obs.evidence(Evidence::at(e.at, e.message.clone()));
    }
    Some(match events.iter().map(|e| e.at).min() {
        Some(first) => obs.since(first),
        None => obs.hold(HOLD),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Cluster, Insights};
    use crate::triage::Facts;
    use crate::triage::rules::state_rules::support::fixtures::*;

    fn cluster(instances: u32) -> Cluster {
        Cluster {
            arn: CLUSTER.into(),
            name: "prod".into(),
            status: "ACTIVE".into(),
            active_services: 1,
            running_tasks: 0,
            pending_tasks: 0,
            instances,
            cpu_reserved_pct: None,
            memory_reserved_pct: None,
            capacity_providers: vec![],
            container_insights: Insights::Off,
            tags: vec![],
            fetched_at: None,
            context: None,
        }
    }

    fn short_of_tasks() -> Facts {
        let mut f = facts();
        let mut s = service("web");
        s.desired = 3;
        s.running = 0;
        f.services = vec![s];
        f
    }

    #[test]
    fn fires_when_every_instance_is_disconnected_or_not_active() {
        let mut f = short_of_tasks();
        let mut i1 = instance("i-1", "eu-west-1a");
        i1.agent_connected = false;
        let mut i2 = instance("i-2", "eu-west-1b");
        i2.status = "DRAINING".into();
        f.instances = vec![i1, i2];
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        let o = &found[0];
        assert_eq!(o.severity, Severity::Critical);
        assert_eq!(o.hold, Some(HOLD));
        assert_eq!(
            o.message,
            "prod: no usable container instances (2 registered, 1 agent-connected, 1 ACTIVE) — 3 tasks cannot start"
        );
    }

    #[test]
    fn fires_on_an_empty_cluster() {
        let mut f = short_of_tasks();
        f.clusters = vec![cluster(0)];
        assert!(
            check(&f.input())[0]
                .message
                .contains("(0 registered, 0 agent-connected, 0 ACTIVE)")
        );
    }

    #[test]
    fn quiet_with_one_usable_instance_or_nothing_missing_or_no_instance_data() {
        let mut f = short_of_tasks();
        let mut i1 = instance("i-1", "eu-west-1a");
        i1.agent_connected = false;
        f.instances = vec![i1, instance("i-2", "eu-west-1b")];
        assert!(check(&f.input()).is_empty());

        let mut f = facts();
        f.services = vec![service("web")];
        f.clusters = vec![cluster(0)];
        assert!(check(&f.input()).is_empty());

        // The cluster has 2 instances but they have not been polled.
        let mut f = short_of_tasks();
        f.clusters = vec![cluster(2)];
        assert!(check(&f.input()).is_empty());

        let mut f = short_of_tasks();
        f.services[0].launch_type = "FARGATE".into();
        f.clusters = vec![cluster(0)];
        assert!(check(&f.input()).is_empty());
    }

    #[test]
    fn an_event_fires_without_a_hold() {
        let mut f = short_of_tasks();
        f.services[0].events = vec![event(
            mins_ago(1),
            "(service web) was unable to place a task. Reason: No Container Instances were found in your cluster.",
        )];
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].hold, None);
        assert_eq!(found[0].since, Some(mins_ago(1)));
        // An instance has joined since: the event is news no longer.
        f.instances = vec![instance("i-1", "eu-west-1a")];
        assert!(check(&f.input()).is_empty());
        f.instances.clear();
        f.services[0].events[0].at = mins_ago(6);
        assert!(check(&f.input()).is_empty());
    }
}
