//! taskdef-memory-limit-risk: the PRIMARY task definition sets memory so that the kernel or
//! the JVM will fail first: no hard limit on EC2, a heap at the limit, or a JVM left to guess.

use std::sync::LazyLock;

use regex::Regex;

use super::support::{is_fargate, primary_task_definition};
use crate::model::{
    ContainerDefinition, Evidence, Observation, Remedy, Service, Severity, TaskDefinition,
};
use crate::triage::Input;
use crate::triage::input::service_subject;
use crate::triage::rules::about::{About, INFO_WARNING, Read, Value, limit};

pub const ID: &str = "taskdef-memory-limit-risk";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "The PRIMARY task definition sets memory so the kernel or the JVM fails first: no hard limit, heap at the limit, JVM left to guess.",
    severities: INFO_WARNING,
    reads: &[Read::Api(
        "ECS DescribeTaskDefinition: memory, memoryReservation, image, JAVA_TOOL_OPTIONS/JAVA_OPTS, command (-Xmx, MaxRAMPercentage)",
    )],
    limits: &[limit("heap/hard limit ≥", Value::Share(HEAP_SHARE))],
};
/// Heap at or above this share of the hard limit leaves no room off-heap (our default).
const HEAP_SHARE: f64 = 0.9;

static XMX: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"-Xmx(?<n>\d+)(?<u>[kKmMgG])").unwrap());
static MAX_RAM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"MaxRAMPercentage=(?<p>[\d.]+)").unwrap());
static JVM_IMAGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)openjdk|jdk|jre|java|corretto|temurin|zulu|graalvm|spring|jvm").unwrap()
});
const JAVA_ENV: [&str; 3] = ["JAVA_TOOL_OPTIONS", "JAVA_OPTS", "JDK_JAVA_OPTIONS"];

/// The container's JVM heap settings: -Xmx in MiB and MaxRAMPercentage, from the Java
/// option variables and the command line.
fn heap_settings(c: &ContainerDefinition) -> (Option<u64>, Option<f64>) {
    let text: Vec<&str> = c
        .environment
        .iter()
        .filter(|(k, _)| JAVA_ENV.contains(&k.as_str()))
        .map(|(_, v)| v.as_str())
        .chain(c.entry_point.iter().map(String::as_str))
        .chain(c.command.iter().map(String::as_str))
        .collect();
    let text = text.join(" ");
    let xmx = XMX.captures(&text).and_then(|m| {
        let n: u64 = m["n"].parse().ok()?;
        Some(match &m["u"] {
            "k" | "K" => n / 1024,
            "g" | "G" => n * 1024,
            _ => n,
        })
    });
    let pct = MAX_RAM.captures(&text).and_then(|m| m["p"].parse().ok());
    (xmx, pct)
}

fn is_jvm(c: &ContainerDefinition) -> bool {
    JVM_IMAGE.is_match(&c.image)
        || c.environment
            .iter()
            .any(|(k, _)| JAVA_ENV.contains(&k.as_str()))
        || c.entry_point
            .iter()
            .chain(&c.command)
            .any(|a| a == "java" || a.ends_with("/java") || a == "-jar")
}

/// Clusters tagged as something other than production get info, not warning.
fn non_production(input: &Input, s: &Service) -> bool {
    let name = Input::cluster_name(&s.cluster_arn);
    input
        .clusters
        .iter()
        .filter(|c| c.name == name)
        .flat_map(|c| &c.tags)
        .any(|(k, v)| {
            matches!(
                k.to_ascii_lowercase().as_str(),
                "env" | "environment" | "stage"
            ) && !v.to_ascii_lowercase().starts_with("prod")
        })
}

pub fn check(input: &Input) -> Vec<Observation> {
    input
        .services
        .iter()
        .filter(|s| s.status == "ACTIVE")
        .flat_map(|s| {
            let Some(td) = primary_task_definition(input, s) else {
                return Vec::new();
            };
            td.containers
                .iter()
                .filter_map(|c| observe(input, s, td, c))
                .collect()
        })
        .collect()
}

fn observe(
    input: &Input,
    s: &Service,
    td: &TaskDefinition,
    c: &ContainerDefinition,
) -> Option<Observation> {
    let fargate_only = !td.requires_compatibilities.is_empty()
        && td.requires_compatibilities.iter().all(|r| r == "FARGATE");
    let ec2 = !is_fargate(s) && !fargate_only;
    // A single container's ceiling is the task size when it has no limit of its own.
    let hard = c.memory.or(if td.containers.len() == 1 {
        td.memory
    } else {
        None
    });
    let (xmx, pct) = heap_settings(c);
    let (kind, issue, severity) =
        if ec2 && td.memory.is_none() && c.memory.is_none() && c.memory_reservation.is_some() {
            (
                "no-hard-limit",
                "no hard memory limit (soft limit only, no task-level memory)".to_string(),
                Severity::Warning,
            )
        } else if let (Some(x), Some(h)) = (xmx, hard)
            && x as f64 >= HEAP_SHARE * f64::from(h)
        {
            (
                "heap-near-limit",
                format!(
                    "-Xmx{x}m is {:.0}% of the hard limit",
                    100.0 * x as f64 / f64::from(h)
                ),
                Severity::Warning,
            )
        } else if let Some(p) = pct.filter(|&p| p >= HEAP_SHARE * 100.0) {
            (
                "heap-near-limit",
                format!("MaxRAMPercentage={p} leaves no room off-heap"),
                Severity::Warning,
            )
        } else if xmx.is_none() && pct.is_none() && is_jvm(c) {
            (
                "heap-unset",
                "JVM without an explicit heap setting".to_string(),
                Severity::Info,
            )
        } else {
            return None;
        };
    let severity = if severity == Severity::Warning && non_production(input, s) {
        Severity::Info
    } else {
        severity
    };
    let mib = |v: Option<u32>| v.map_or("none".into(), |m| format!("{m} MiB"));
    let heap = match (xmx, pct) {
        (Some(x), _) => format!("-Xmx{x}m"),
        (None, Some(p)) => format!("MaxRAMPercentage={p}"),
        _ => "unset".into(),
    };
    let message = format!(
        "{} container {}: {issue} (hard {}, soft {}, heap {heap})",
        td.reference,
        c.name,
        mib(hard),
        mib(c.memory_reservation)
    );
    Some(
        Observation::new(ID, severity, service_subject(s), message)
            .key(format!("{}:{kind}", c.name))
            .evidence(Evidence::at(
                input.now,
                format!(
                    "{} is PRIMARY for {}; task memory {}, container memory {}, reservation {}",
                    td.reference,
                    s.name,
                    mib(td.memory),
                    mib(c.memory),
                    mib(c.memory_reservation)
                ),
            ))
            .next(
                "Set a hard limit, and keep the heap at about 80–85% of it so off-heap memory, \
                 metaspace and threads fit (a 1 GiB container with -Xmx850m). Register the \
                 revision and redeploy.",
            )
            .remedies(&[Remedy::Redeploy, Remedy::Chart]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::Facts;
    use crate::triage::rules::state_rules::support::fixtures::*;

    fn with_container(c: ContainerDefinition, task_memory: Option<u32>) -> Facts {
        let mut f = facts();
        f.services = vec![service("web")];
        add_task_definition(
            &mut f,
            TaskDefinition {
                memory: task_memory,
                ..task_definition("web", 17, c)
            },
        );
        f
    }

    fn java(opts: &str, memory: Option<u32>) -> ContainerDefinition {
        ContainerDefinition {
            image: "eclipse-temurin:21-jre".into(),
            memory,
            environment: vec![("JAVA_TOOL_OPTIONS".into(), opts.into())],
            ..Default::default()
        }
    }

    #[test]
    fn soft_limit_only_on_ec2() {
        let c = ContainerDefinition {
            memory_reservation: Some(512),
            ..Default::default()
        };
        let found = check(&with_container(c.clone(), None).input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(found[0].key, "app:no-hard-limit");
        assert_eq!(
            found[0].message,
            "web:17 container app: no hard memory limit (soft limit only, no task-level memory) (hard none, soft 512 MiB, heap unset)"
        );
        // A task-level size is a hard ceiling.
        assert!(check(&with_container(c.clone(), Some(1024)).input()).is_empty());
        // Fargate always has one.
        let mut f = with_container(c, None);
        f.services[0].launch_type = "FARGATE".into();
        assert!(check(&f.input()).is_empty());
    }

    #[test]
    fn heap_at_ninety_percent_of_the_limit() {
        // 921m of 1024 is 89.9%: quiet; 922m is 90.0%: fires.
        assert!(check(&with_container(java("-Xmx921m", Some(1024)), None).input()).is_empty());
        let found = check(&with_container(java("-XX:+UseG1GC -Xmx922m", Some(1024)), None).input());
        assert_eq!(found[0].key, "app:heap-near-limit");
        assert_eq!(
            found[0].message,
            "web:17 container app: -Xmx922m is 90% of the hard limit (hard 1024 MiB, soft none, heap -Xmx922m)"
        );
        let found = check(&with_container(java("-Xmx1g", None), Some(1024)).input());
        assert!(
            found[0].message.contains("-Xmx1024m is 100%"),
            "{}",
            found[0].message
        );
        let found =
            check(&with_container(java("-XX:MaxRAMPercentage=90.0", Some(1024)), None).input());
        assert!(
            found[0]
                .message
                .contains("MaxRAMPercentage=90 leaves no room")
        );
        assert!(
            check(&with_container(java("-XX:MaxRAMPercentage=75", Some(1024)), None).input())
                .is_empty()
        );
    }

    #[test]
    fn a_jvm_without_heap_settings_is_info() {
        let found = check(&with_container(java("-XX:+UseG1GC", Some(512)), None).input());
        assert_eq!(found[0].severity, Severity::Info);
        assert_eq!(found[0].key, "app:heap-unset");
        let plain = ContainerDefinition {
            image: "nginx:1.27".into(),
            memory: Some(512),
            ..Default::default()
        };
        assert!(check(&with_container(plain, None).input()).is_empty());
    }

    #[test]
    fn non_production_clusters_get_info() {
        let mut f = with_container(java("-Xmx1000m", Some(1024)), None);
        f.clusters = vec![crate::model::Cluster {
            arn: CLUSTER.into(),
            name: "prod".into(),
            status: "ACTIVE".into(),
            active_services: 1,
            running_tasks: 2,
            pending_tasks: 0,
            instances: 2,
            cpu_reserved_pct: None,
            memory_reserved_pct: None,
            capacity_providers: vec![],
            container_insights: crate::model::Insights::Off,
            tags: vec![("Environment".into(), "staging".into())],
            fetched_at: None,
            context: None,
        }];
        assert_eq!(check(&f.input())[0].severity, Severity::Info);
        f.clusters[0].tags = vec![("env".into(), "production".into())];
        assert_eq!(check(&f.input())[0].severity, Severity::Warning);
    }
}
