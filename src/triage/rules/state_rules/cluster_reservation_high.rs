//! cluster-reservation-high: a cluster's CPU or memory is (nearly) all reserved by tasks, or
//! so fragmented that the largest task fits on no instance, so the next scale-out will sit
//! PENDING.

use std::collections::BTreeSet;

use chrono::TimeDelta;

use super::support::{
    cluster_named, instance_label, is_fargate, primary_task_definition, task_size, usable,
};
use crate::model::{Evidence, Instance, Observation, Remedy, Severity, Time, metric_catalog};
use crate::triage::Input;
use crate::triage::rules::about::{About, Read, Value, WARNING_CRITICAL, limit};

pub const ID: &str = "cluster-reservation-high";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "A cluster's CPU or memory is (nearly) all reserved, or too fragmented for its largest task: the next scale-out will sit PENDING.",
    severities: WARNING_CRITICAL,
    reads: &[
        Read::Metric("AWS/ECS CPUReservation and MemoryReservation Average, per cluster"),
        Read::Api("ECS DescribeContainerInstances: remaining resources"),
    ],
    limits: &[
        limit("reservation ≥", Value::Percent(HIGH)),
        limit("for", Value::Minutes(WINDOW_MINUTES)),
        limit("critical at ≥ (tasks pending)", Value::Percent(CRITICAL)),
    ],
};
/// Reservation at or above this (our default)…
const HIGH: f64 = 90.0;
/// …for this long.
const WINDOW_MINUTES: i64 = 10;
/// Critical at this level while some service has tasks pending.
const CRITICAL: f64 = 98.0;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Resource {
    Cpu,
    Memory,
}

impl Resource {
    fn label(self) -> &'static str {
        match self {
            Resource::Cpu => "CPU",
            Resource::Memory => "MEMORY",
        }
    }

    fn remaining(self, i: &Instance) -> u32 {
        match self {
            Resource::Cpu => i.cpu_remaining,
            Resource::Memory => i.memory_remaining,
        }
    }

    fn registered(self, i: &Instance) -> u32 {
        match self {
            Resource::Cpu => i.cpu_registered,
            Resource::Memory => i.memory_registered,
        }
    }

    fn amount(self, v: u32) -> String {
        match self {
            Resource::Cpu => format!("{v} CPU units"),
            Resource::Memory => format!("{v} MiB"),
        }
    }
}

pub fn check(input: &Input) -> Vec<Observation> {
    let clusters: BTreeSet<&str> = input
        .clusters
        .iter()
        .map(|c| c.name.as_str())
        .chain(
            input
                .instances
                .iter()
                .map(|i| Input::cluster_name(&i.cluster_arn)),
        )
        .collect();
    clusters
        .into_iter()
        .flat_map(|c| [Resource::Cpu, Resource::Memory].map(|r| observe(input, c, r)))
        .flatten()
        .collect()
}

/// The biggest task (by memory, then CPU) among the PRIMARY task definitions of the
/// cluster's EC2 services.
fn largest_task(input: &Input, cluster: &str) -> Option<(u32, u32)> {
    input
        .services
        .iter()
        .filter(|s| Input::cluster_name(&s.cluster_arn) == cluster)
        .filter(|s| s.status == "ACTIVE" && !is_fargate(s) && s.desired > 0)
        .filter_map(|s| primary_task_definition(input, s).map(task_size))
        .map(|(cpu, memory)| (cpu.unwrap_or(0), memory.unwrap_or(0)))
        .max_by_key(|&(cpu, memory)| (memory, cpu))
}

fn observe(input: &Input, cluster: &str, r: Resource) -> Option<Observation> {
    let registered: Vec<&Instance> = input
        .instances_of(cluster)
        .filter(|i| matches!(i.status.as_str(), "ACTIVE" | "DRAINING"))
        .collect();
    let total: u64 = registered.iter().map(|i| u64::from(r.registered(i))).sum();
    let free: u64 = registered.iter().map(|i| u64::from(r.remaining(i))).sum();
    let computed = (total > 0).then(|| 100.0 * (total.saturating_sub(free)) as f64 / total as f64);

    // CloudWatch's own CPUReservation/MemoryReservation, when the metrics are polled.
    let metric = input
        .clusters
        .iter()
        .find(|c| c.name == cluster)
        .map(|c| match r {
            Resource::Cpu => metric_catalog::cluster_cpu_reserved(c),
            Resource::Memory => metric_catalog::cluster_memory_reserved(c),
        });
    let metric_held = metric
        .as_ref()
        .filter(|m| input.held(m, WINDOW_MINUTES, |v| v >= HIGH));
    let metric_since: Option<Time> = metric_held
        .map(|m| input.window(m, WINDOW_MINUTES))
        .and_then(|points| points.first().map(|p| p.at));

    let usable: Vec<&Instance> = registered.iter().copied().filter(|i| usable(i)).collect();
    // The first instance with the most room (ties keep the polled order).
    let best = usable
        .iter()
        .copied()
        .min_by_key(|i| std::cmp::Reverse(r.remaining(i)));
    let largest = largest_task(input, cluster);
    let fragmented = match (largest, usable.is_empty()) {
        (Some((cpu, memory)), false) => {
            let fits_nowhere = !usable
                .iter()
                .any(|i| i.cpu_remaining >= cpu && i.memory_remaining >= memory);
            let need = match r {
                Resource::Cpu => cpu,
                Resource::Memory => memory,
            };
            let short_here = usable.iter().all(|i| r.remaining(i) < need);
            // Neither resource short on its own but no instance has both: report it as memory.
            let short_other = match r {
                Resource::Cpu => usable.iter().all(|i| i.memory_remaining < memory),
                Resource::Memory => usable.iter().all(|i| i.cpu_remaining < cpu),
            };
            fits_nowhere && (short_here || (!short_other && r == Resource::Memory))
        }
        _ => false,
    };

    let pct = match (metric_held, computed) {
        (Some(m), _) => input.latest(m).or(computed)?,
        (None, Some(p)) => p,
        (None, None) => return None,
    };
    if metric_held.is_none() && pct < HIGH && !fragmented {
        return None;
    }
    let pending = input
        .services
        .iter()
        .any(|s| Input::cluster_name(&s.cluster_arn) == cluster && s.pending > 0);
    let severity = if pct >= CRITICAL && pending {
        Severity::Critical
    } else {
        Severity::Warning
    };
    let block = match best {
        Some(i) => format!(
            "largest free block {} on {}",
            r.amount(r.remaining(i)),
            instance_label(i)
        ),
        None => "no usable instance".into(),
    };
    let need = match largest {
        Some((cpu, memory)) => format!(
            "largest task needs {}",
            r.amount(if r == Resource::Cpu { cpu } else { memory })
        ),
        None => "largest task size unknown".into(),
    };
    let message = format!(
        "{cluster}: {} reservation {pct:.0}% — {block}, {need}; next scale-out will likely stay PENDING",
        r.label()
    );
    let mut obs = Observation::new(ID, severity, cluster_named(cluster), message)
        .key(r.label())
        .next(
            "Add instances (the Auto Scaling group's desired/max, or the capacity provider's \
             target capacity) or right-size tasks. In the metrics chart, put reservation next \
             to utilization: reservation far above utilization means the tasks are \
             over-allocated.",
        )
        .remedies(&[Remedy::Chart]);
    if let Some(p) = computed {
        obs = obs.evidence(Evidence::at(
            input.now,
            format!(
                "{} of {} reserved across {} instance(s) ({p:.0}%)",
                r.amount(total.saturating_sub(free) as u32),
                r.amount(total as u32),
                registered.len()
            ),
        ));
    }
    if fragmented {
        obs = obs.evidence(Evidence::at(
            input.now,
            format!("fragmented: no usable instance fits the largest task ({need})"),
        ));
    }
    Some(match metric_since {
        Some(at) => obs.since(at).evidence(Evidence::at(
            at,
            format!(
                "AWS/ECS {}Reservation ≥{HIGH:.0}% for {WINDOW_MINUTES} min",
                if r == Resource::Cpu { "CPU" } else { "Memory" }
            ),
        )),
        // Read from polled instances, which have no history: the lifecycle holds it.
        None => obs.hold(TimeDelta::minutes(WINDOW_MINUTES)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Cluster, ContainerDefinition, Insights, TaskDefinition};
    use crate::triage::Facts;
    use crate::triage::rules::state_rules::support::fixtures::*;

    fn cluster() -> Cluster {
        Cluster {
            arn: CLUSTER.into(),
            name: "prod".into(),
            status: "ACTIVE".into(),
            active_services: 1,
            running_tasks: 4,
            pending_tasks: 0,
            instances: 2,
            cpu_reserved_pct: None,
            memory_reserved_pct: None,
            capacity_providers: vec![],
            container_insights: Insights::Off,
            tags: vec![],
            fetched_at: None,
            context: None,
        }
    }

    /// Two instances with 7680 MiB each and `free` MiB left on each; web needs 512/2048.
    fn fleet(free: [u32; 2]) -> Facts {
        let mut f = facts();
        f.clusters = vec![cluster()];
        f.services = vec![service("web")];
        add_task_definition(
            &mut f,
            TaskDefinition {
                cpu: Some(512),
                memory: Some(2048),
                ..task_definition("web", 17, ContainerDefinition::default())
            },
        );
        let mut i1 = instance("i-1", "eu-west-1a");
        i1.memory_remaining = free[0];
        let mut i2 = instance("i-2", "eu-west-1b");
        i2.memory_remaining = free[1];
        f.instances = vec![i1, i2];
        f
    }

    #[test]
    fn computed_reservation_at_ninety_percent_fires_with_a_hold() {
        // 15360 MiB registered, 1536 free: 90.0% reserved.
        let f = fleet([768, 768]);
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        let o = &found[0];
        assert_eq!(o.key, "MEMORY");
        assert_eq!(o.severity, Severity::Warning);
        assert_eq!(o.hold, Some(TimeDelta::minutes(10)));
        assert_eq!(
            o.message,
            "prod: MEMORY reservation 90% — largest free block 768 MiB on i-1, largest task needs 2048 MiB; next scale-out will likely stay PENDING"
        );
    }

    #[test]
    fn below_ninety_percent_with_room_for_the_largest_task_is_quiet() {
        // 89.9% reserved, but 2048 free on i-1: the task fits.
        let f = fleet([2048, 0]);
        assert!(check(&f.input()).is_empty());
    }

    #[test]
    fn fragmentation_fires_below_ninety_percent() {
        // 2 × 2000 MiB free = 74% reserved, but no instance has 2048.
        let found = check(&fleet([2000, 2000]).input());
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .message
                .starts_with("prod: MEMORY reservation 74% — largest free block 2000 MiB")
        );
        assert!(
            found[0]
                .evidence
                .iter()
                .any(|e| e.text.starts_with("fragmented"))
        );
    }

    #[test]
    fn critical_at_ninety_eight_percent_with_pending_tasks() {
        let mut f = fleet([150, 150]); // 98.05%
        assert_eq!(check(&f.input())[0].severity, Severity::Warning);
        f.services[0].pending = 1;
        assert_eq!(check(&f.input())[0].severity, Severity::Critical);
    }

    #[test]
    fn the_cloudwatch_metric_held_for_ten_minutes_fires_without_a_hold() {
        let mut f = fleet([4000, 4000]);
        let m = metric_catalog::cluster_cpu_reserved(&f.clusters[0]);
        f.series(m.clone(), &[91.0; 10]);
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].key, "CPU");
        assert_eq!(found[0].hold, None);
        assert!(found[0].since.is_some());
        assert!(found[0].message.starts_with("prod: CPU reservation 91% — largest free block 1024 CPU units on i-1, largest task needs 512 CPU units"));
        // One minute below the threshold breaks the window.
        let mut values = [91.0; 10];
        values[4] = 89.0;
        f.series(m.clone(), &values);
        assert!(check(&f.input()).is_empty());
        // Too short a history.
        let mut f = fleet([4000, 4000]);
        f.series(m, &[95.0; 5]);
        assert!(check(&f.input()).is_empty());
    }
}
