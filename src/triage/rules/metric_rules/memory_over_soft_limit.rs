//! memory-over-soft-limit: a service uses more memory than it reserved (`AWS/ECS`
//! `MemoryUtilization` Maximum > 100 % for 10 minutes), which only a soft `memoryReservation`
//! allows. Warning when a container has no hard limit (the kernel may then kill any container
//! on the host); info when every container has one and usage is below 90 % of it.
//!
//! Host memory (CloudWatch agent `mem_used_percent` or Container Insights instance metrics)
//! is not polled, so the critical branch (host memory ≥ 90 %) is left out and the message says
//! host memory is not collected.

use super::util::{hosts_of, num, run_start};
use crate::model::{
    Evidence, Observation, Remedy, Severity, TaskDefinition, metric_catalog as cat,
};
use crate::triage::Input;
use crate::triage::input::service_subject;
use crate::triage::rules::about::{About, INFO_WARNING, Read, Value, limit};

pub const ID: &str = "memory-over-soft-limit";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "A service uses more memory than it reserved, which only a soft memoryReservation allows.",
    severities: INFO_WARNING,
    reads: &[
        Read::Metric("AWS/ECS MemoryUtilization Maximum, per service"),
        Read::Api("ECS DescribeTaskDefinition: memory, memoryReservation"),
    ],
    limits: &[
        limit("utilization >", Value::Percent(THRESHOLD)),
        limit("for", Value::Minutes(WINDOW)),
        limit("info: usage/hard limit <", Value::Share(NEAR_HARD)),
    ],
};

const THRESHOLD: f64 = 100.0;
const WINDOW: i64 = 10;
const NEAR_HARD: f64 = 0.9;

/// The task's hard ceiling (MiB): task-level memory, or every container's hard limit.
fn hard_limit(def: &TaskDefinition) -> Option<u32> {
    def.memory.or_else(|| {
        (!def.containers.is_empty())
            .then(|| def.containers.iter().map(|c| c.memory).sum())
            .flatten()
    })
}

pub fn check(input: &Input) -> Vec<Observation> {
    let mut out = Vec::new();
    for &s in &input.services {
        let metric = cat::service_memory_max(s);
        if !input.held(&metric, WINDOW, |v| v > THRESHOLD) {
            continue;
        }
        let Some(util) = input.latest(&metric) else {
            continue;
        };
        let def = input.task_definition(&s.task_definition.arn);
        let hard = def.and_then(hard_limit);
        let used = def
            .and_then(TaskDefinition::reserved_memory)
            .map(|r| f64::from(r) * util / 100.0);
        let (severity, hard_text, warn) = match (def, hard) {
            (Some(_), Some(h)) => {
                let near = used.is_none_or(|u| u >= NEAR_HARD * f64::from(h));
                let severity = if near {
                    Severity::Warning
                } else {
                    Severity::Info
                };
                (severity, format!("{h} MiB"), "")
            }
            (Some(_), None) => (
                Severity::Warning,
                "none".to_string(),
                " — with no hard limit the kernel may OOM-kill any container on that host, not \
                 necessarily this one",
            ),
            (None, _) => (Severity::Warning, "unknown".to_string(), ""),
        };
        let mut hosts: Vec<String> = hosts_of(input, s)
            .iter()
            .map(|i| i.ec2_instance_id.clone())
            .collect();
        hosts.sort();
        let on = if hosts.is_empty() {
            "its hosts".to_string()
        } else {
            hosts.join(", ")
        };
        let mut o = Observation::new(
            ID,
            severity,
            service_subject(s),
            format!(
                "{}: using {}% of its memory reservation on {on} (hard limit: {hard_text}); host \
                 memory not collected{warn}",
                s.name,
                num(util)
            ),
        )
        .evidence(Evidence::at(
            input.now,
            format!("AWS/ECS MemoryUtilization Maximum > {THRESHOLD}% for {WINDOW} min"),
        ))
        .next(
            "Give the container a hard memory limit of its peak plus headroom, or lower the \
             density on those hosts. If a host is close to exhaustion, drain it.",
        )
        .remedies(&[Remedy::Chart, Remedy::Drain, Remedy::Redeploy]);
        if let Some(u) = used {
            o = o.evidence(Evidence::at(
                input.now,
                format!("≈{} MiB in use per task", num(u)),
            ));
        }
        if let Some(at) = run_start(&input.window(&metric, 180), input.now, |v| v > THRESHOLD) {
            o = o.since(at);
        }
        out.push(o);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::model::ContainerDefinition;
    use crate::triage::Facts;
    use std::sync::Arc;

    /// `web` whose one container reserves 512 MiB (hard limit `hard`), at `util` % for `minutes`.
    fn fleet(hard: Option<u32>, util: f64, minutes: usize) -> Facts {
        let mut f = facts();
        let s = service("web", 1);
        let i = instance(1, "m5.large");
        f.tasks = vec![on(task("web", 1, 3600), &i)];
        f.instances = vec![i];
        f.task_definitions.insert(
            s.task_definition.arn.to_string(),
            Arc::new(TaskDefinition {
                containers: vec![ContainerDefinition {
                    name: "app".into(),
                    memory_reservation: Some(512),
                    memory: hard,
                    ..ContainerDefinition::default()
                }],
                ..TaskDefinition::default()
            }),
        );
        let mut v = flat(80.0, 10);
        v.extend(flat(util, minutes));
        f.series(cat::service_memory_max(&s), &v);
        f.services = vec![s];
        f
    }

    #[test]
    fn fires_as_warning_without_a_hard_limit() {
        let found = check(&fleet(None, 130.0, 10).input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(
            found[0].message,
            "web: using 130% of its memory reservation on i-00000000000000001 (hard limit: \
             none); host memory not collected — with no hard limit the kernel may OOM-kill any \
             container on that host, not necessarily this one"
        );
    }

    #[test]
    fn a_hard_limit_far_away_is_only_info() {
        // 130 % of 512 = 666 MiB: below 90 % of 1024, at or above 90 % of 700.
        assert_eq!(
            check(&fleet(Some(1024), 130.0, 10).input())[0].severity,
            Severity::Info
        );
        assert_eq!(
            check(&fleet(Some(700), 130.0, 10).input())[0].severity,
            Severity::Warning
        );
    }

    #[test]
    fn threshold_and_window_edges() {
        assert!(
            check(&fleet(None, 100.0, 10).input()).is_empty(),
            "100 % is not over"
        );
        assert_eq!(check(&fleet(None, 100.1, 10).input()).len(), 1);
        assert!(
            check(&fleet(None, 130.0, 8).input()).is_empty(),
            "8 minutes"
        );
    }
}
