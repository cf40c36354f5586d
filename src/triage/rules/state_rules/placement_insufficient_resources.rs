//! placement-insufficient-resources: ECS cannot place a service's task because no instance
//! has the CPU, memory, port or ENI it needs. Read from the service events and computed from
//! the instances' remaining resources.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use chrono::TimeDelta;
use regex::Regex;

use super::support::{
    events_since, instance_label, is_fargate, primary_task_definition, short, task_size,
    usable_instances,
};
use crate::model::{
    Evidence, Instance, Observation, Remedy, Service, ServiceEvent, Severity, Time,
};
use crate::triage::Input;
use crate::triage::input::service_subject;
use crate::triage::rules::about::{About, Read, Value, WARNING_CRITICAL, limit};

pub const ID: &str = "placement-insufficient-resources";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "ECS cannot place a service's task: no instance has the CPU, memory, port or ENI it needs.",
    severities: WARNING_CRITICAL,
    reads: &[
        Read::Api("ECS DescribeServices: events \"unable to place a task\""),
        Read::Api("ECS DescribeContainerInstances: remaining resources"),
    ],
    limits: &[
        limit("events within", Value::Span(EVENT_WINDOW)),
        limit("computed shortfall held", Value::Span(COMPUTED_HOLD)),
        limit(
            "critical when under-replicated for >",
            Value::Span(CRITICAL_AFTER),
        ),
    ],
};
/// Events this recent count (our default).
const EVENT_WINDOW: TimeDelta = TimeDelta::minutes(5);
/// Under-replicated for longer than this makes it critical.
const CRITICAL_AFTER: TimeDelta = TimeDelta::minutes(10);
/// A gap computed from polled instances (no event yet) must last this long: the scheduler and
/// capacity providers need a moment to act.
const COMPUTED_HOLD: TimeDelta = TimeDelta::minutes(2);

pub static UNABLE_TO_PLACE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)unable to place a task because no container instance met all of its requirements",
    )
    .unwrap()
});
static RESOURCES: LazyLock<[(&'static str, Regex); 4]> = LazyLock::new(|| {
    [
        (
            "MEMORY",
            Regex::new(r"(?i)insufficient memory available|RESOURCE:MEMORY").unwrap(),
        ),
        (
            "CPU",
            Regex::new(r"(?i)insufficient CPU units available|RESOURCE:CPU").unwrap(),
        ),
        (
            "PORTS",
            Regex::new(r"(?i)already using a port required by your task|RESOURCE:PORTS").unwrap(),
        ),
        (
            "ENI",
            Regex::new(
                r"(?i)RESOURCE:ENI|\bENIs?\b|elastic network interfaces?|network interfaces",
            )
            .unwrap(),
        ),
    ]
});
static STEADY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)has reached a steady state").unwrap());

/// The resources a placement-failure event names.
fn resources(message: &str) -> Vec<&'static str> {
    RESOURCES
        .iter()
        .filter(|(_, re)| re.is_match(message))
        .map(|(name, _)| *name)
        .collect()
}

/// No usable instance fits one more task: which resource is short, and the instance that
/// comes closest.
struct Gap<'a> {
    resource: &'static str,
    cpu: u32,
    memory: u32,
    best: &'a Instance,
}

fn gap<'a>(input: &Input<'a>, s: &Service) -> Option<Gap<'a>> {
    if is_fargate(s) {
        return None;
    }
    let (cpu, memory) = task_size(primary_task_definition(input, s)?);
    let (cpu, memory) = (cpu.unwrap_or(0), memory.unwrap_or(0));
    let instances = usable_instances(input, Input::cluster_name(&s.cluster_arn));
    // No usable instance at all is placement-no-usable-instances.
    if instances.is_empty()
        || instances
            .iter()
            .any(|i| i.cpu_remaining >= cpu && i.memory_remaining >= memory)
    {
        return None;
    }
    let memory_short = instances.iter().all(|i| i.memory_remaining < memory);
    let cpu_short = instances.iter().all(|i| i.cpu_remaining < cpu);
    let resource = match (cpu_short, memory_short) {
        (false, true) => "MEMORY",
        (true, false) => "CPU",
        _ => "CPU+MEMORY",
    };
    // The first instance with the most of the short resource (ties keep the polled order).
    let best = if resource == "CPU" {
        instances
            .iter()
            .min_by_key(|i| std::cmp::Reverse(i.cpu_remaining))
    } else {
        instances
            .iter()
            .min_by_key(|i| std::cmp::Reverse(i.memory_remaining))
    }?;
    Some(Gap {
        resource,
        cpu,
        memory,
        best,
    })
}

/// When the current shortfall began: the first placement failure since the service was last
/// steady.
fn under_replicated_since(s: &Service) -> Option<Time> {
    let steady = s
        .events
        .iter()
        .filter(|e| STEADY.is_match(&e.message))
        .map(|e| e.at)
        .max();
    s.events
        .iter()
        .filter(|e| UNABLE_TO_PLACE.is_match(&e.message) && steady.is_none_or(|at| e.at > at))
        .map(|e| e.at)
        .min()
}

pub fn check(input: &Input) -> Vec<Observation> {
    input
        .services
        .iter()
        .filter(|s| s.status == "ACTIVE")
        .flat_map(|s| observe(input, s))
        .collect()
}

fn observe(input: &Input, s: &Service) -> Vec<Observation> {
    let mut by_resource: BTreeMap<&'static str, Vec<&ServiceEvent>> = BTreeMap::new();
    for e in events_since(s, input.now - EVENT_WINDOW, |m| UNABLE_TO_PLACE.is_match(m)) {
        for r in resources(&e.message) {
            by_resource.entry(r).or_default().push(e);
        }
    }
    let missing = s.desired.saturating_sub(s.running + s.pending);
    let computed = (missing > 0).then(|| gap(input, s)).flatten();
    if let Some(g) = &computed {
        by_resource.entry(g.resource).or_default();
    }
    let critical = s.running < s.desired
        && under_replicated_since(s).is_some_and(|at| input.now - at > CRITICAL_AFTER);
    by_resource
        .into_iter()
        .map(|(resource, events)| {
            let g = computed.as_ref().filter(|g| g.resource == resource);
            let detail = detail(input, s, resource, g);
            let count = if missing > 0 {
                format!("{missing} task(s)")
            } else {
                "tasks".into()
            };
            let message = format!(
                "{} cannot place {count}: {resource} exhausted — {detail}",
                s.name
            );
            let severity = if critical {
                Severity::Critical
            } else {
                Severity::Warning
            };
            let mut obs = Observation::new(ID, severity, service_subject(s), message)
                .key(resource)
                .next(next_step(resource))
                .remedies(&[Remedy::Chart, Remedy::Events, Remedy::Scale]);
            for e in events.iter().take(3) {
                obs = obs.evidence(Evidence::at(e.at, e.message.clone()));
            }
            match events.iter().map(|e| e.at).min() {
                Some(first) => obs = obs.since(first),
                // Computed from polled state only: must hold.
                None => obs = obs.hold(COMPUTED_HOLD),
            }
            if let Some(g) = g {
                obs = obs.evidence(Evidence::at(
                    input.now,
                    format!(
                        "no ACTIVE connected instance has {} CPU units and {} MiB free; best {} has {} / {}",
                        g.cpu,
                        g.memory,
                        instance_label(g.best),
                        g.best.cpu_remaining,
                        g.best.memory_remaining
                    ),
                ));
            }
            obs
        })
        .collect()
}

fn detail(input: &Input, s: &Service, resource: &str, g: Option<&Gap>) -> String {
    let td = primary_task_definition(input, s);
    match resource {
        "PORTS" => {
            let ports: Vec<String> = td
                .into_iter()
                .flat_map(|d| &d.containers)
                .flat_map(|c| &c.port_mappings)
                .filter_map(|p| p.host_port.filter(|&h| h != 0))
                .map(|h| h.to_string())
                .collect();
            if ports.is_empty() {
                "a host port the task needs is taken on every instance".into()
            } else {
                format!(
                    "task needs host port(s) {}, taken on every instance",
                    ports.join(", ")
                )
            }
        }
        "ENI" => {
            "awsvpc tasks need a free ENI on the instance (instance ENI limits are not polled)"
                .into()
        }
        _ => match (g, td.map(task_size)) {
            (Some(g), _) => format!(
                "task needs {} CPU units / {} MiB, best instance {} has {} / {}",
                g.cpu,
                g.memory,
                instance_label(g.best),
                g.best.cpu_remaining,
                g.best.memory_remaining
            ),
            (None, Some((cpu, memory))) => {
                let best = usable_instances(input, Input::cluster_name(&s.cluster_arn))
                    .into_iter()
                    .min_by_key(|i| {
                        std::cmp::Reverse(if resource == "CPU" {
                            i.cpu_remaining
                        } else {
                            i.memory_remaining
                        })
                    });
                let need = format!(
                    "task needs {} CPU units / {} MiB",
                    cpu.map_or("?".into(), |c| c.to_string()),
                    memory.map_or("?".into(), |m| m.to_string())
                );
                match best {
                    Some(i) => format!(
                        "{need}, best instance {} has {} / {}",
                        instance_label(i),
                        i.cpu_remaining,
                        i.memory_remaining
                    ),
                    None => format!("{need}, no usable instance"),
                }
            }
            (None, None) => format!(
                "per the service event: \"{}\"",
                short(
                    s.events
                        .iter()
                        .find(|e| UNABLE_TO_PLACE.is_match(&e.message))
                        .map_or("", |e| e.message.as_str()),
                    160
                )
            ),
        },
    }
}

fn next_step(resource: &str) -> String {
    let chart = " Open the metrics chart for cluster reservation.";
    let step = match resource {
        "PORTS" => {
            "A static hostPort in bridge/host mode allows one task per host: switch to dynamic \
             ports (hostPort 0) or awsvpc."
        }
        "ENI" => {
            "Use larger or Nitro instance types, enable ENI trunking (awsvpcTrunking), or add \
             instances."
        }
        _ => {
            "Add instances (raise the ASG or the capacity provider's capacity) or shrink the task \
             size; scaling the service will not help."
        }
    };
    format!("{step}{chart}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ContainerDefinition, PortMapping};
    use crate::triage::Facts;
    use crate::triage::rules::state_rules::support::fixtures::*;

    const MEMORY_EVENT: &str = "(service web) was unable to place a task because no container instance met all of its requirements. The closest matching (container-instance 5e1f0123) has insufficient memory available. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.";

    /// The capacity scenario: web needs 512/2048, i-1 has 512 MiB free, i-2 256.
    fn capacity() -> Facts {
        let mut f = facts();
        let mut s = service("web");
        s.desired = 4;
        s.running = 3;
        f.services = vec![s];
        add_task_definition(
            &mut f,
            crate::model::TaskDefinition {
                cpu: Some(512),
                memory: Some(2048),
                ..task_definition("web", 17, ContainerDefinition::default())
            },
        );
        let mut i1 = instance("i-1", "eu-west-1a");
        i1.memory_remaining = 512;
        let mut i2 = instance("i-2", "eu-west-1b");
        i2.memory_remaining = 256;
        f.instances = vec![i1, i2];
        f
    }

    #[test]
    fn a_recent_event_fires_with_the_computed_gap() {
        let mut f = capacity();
        f.services[0].events = vec![event(mins_ago(1), MEMORY_EVENT)];
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        let o = &found[0];
        assert_eq!(o.key, "MEMORY");
        assert_eq!(o.severity, Severity::Warning);
        assert_eq!(o.hold, None);
        assert_eq!(o.since, Some(mins_ago(1)));
        assert_eq!(
            o.message,
            "web cannot place 1 task(s): MEMORY exhausted \
             — task needs 512 CPU units / 2048 MiB, best instance i-1 has 1024 / 512"
        );
        assert_eq!(o.evidence[0].text, MEMORY_EVENT);
    }

    #[test]
    fn the_gap_alone_fires_with_a_hold_and_events_older_than_five_minutes_do_not_count() {
        let mut f = capacity();
        f.services[0].events = vec![event(mins_ago(6), MEMORY_EVENT)];
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].hold, Some(COMPUTED_HOLD));
        assert!(
            found[0].evidence[0]
                .text
                .starts_with("no ACTIVE connected instance")
        );
    }

    #[test]
    fn quiet_when_an_instance_fits_or_nothing_is_missing() {
        let mut f = capacity();
        f.instances[0].memory_remaining = 2048;
        assert!(check(&f.input()).is_empty());
        let mut f = capacity();
        f.services[0].pending = 1;
        assert!(check(&f.input()).is_empty());
    }

    #[test]
    fn critical_once_under_replicated_for_more_than_ten_minutes() {
        let mut f = capacity();
        f.services[0].events = vec![
            event(mins_ago(1), MEMORY_EVENT),
            event(mins_ago(10), MEMORY_EVENT),
            event(mins_ago(30), "(service web) has reached a steady state."),
        ];
        assert_eq!(check(&f.input())[0].severity, Severity::Warning);
        f.services[0]
            .events
            .insert(2, event(mins_ago(11), MEMORY_EVENT));
        assert_eq!(check(&f.input())[0].severity, Severity::Critical);
        // A steady state after the first failure restarts the clock.
        f.services[0].events.insert(
            2,
            event(
                mins_ago(10) - TimeDelta::seconds(30),
                "(service web) has reached a steady state.",
            ),
        );
        assert_eq!(check(&f.input())[0].severity, Severity::Warning);
    }

    #[test]
    fn ports_and_eni_are_read_from_the_text() {
        let mut f = capacity();
        f.instances[0].memory_remaining = 4096;
        let td = crate::model::TaskDefinition {
            cpu: Some(512),
            memory: Some(2048),
            ..task_definition(
                "web",
                17,
                ContainerDefinition {
                    port_mappings: vec![PortMapping {
                        container_port: 8080,
                        host_port: Some(8080),
                        ..Default::default()
                    }],
                    ..Default::default()
                },
            )
        };
        add_task_definition(&mut f, td);
        f.services[0].events = vec![
            event(
                mins_ago(1),
                "(service web) was unable to place a task because no container instance met all of its requirements. The closest matching (container-instance 1) is already using a port required by your task.",
            ),
            event(
                mins_ago(2),
                "(service web) was unable to place a task because no container instance met all of its requirements. Reason: RESOURCE:ENI.",
            ),
        ];
        let found = check(&f.input());
        let keys: Vec<&str> = found.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(keys, ["ENI", "PORTS"]);
        assert!(
            found[1]
                .message
                .ends_with("task needs host port(s) 8080, taken on every instance")
        );
        assert!(found[1].next.contains("hostPort 0"));
    }

    #[test]
    fn fargate_services_have_no_computed_gap() {
        let mut f = capacity();
        f.services[0].launch_type = "FARGATE".into();
        assert!(check(&f.input()).is_empty());
    }
}
