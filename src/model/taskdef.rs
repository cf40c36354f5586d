use std::fmt;

use super::{SharedStr, Time};

/// A task definition named the way operators say it: `family:revision`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct TaskDefRef {
    pub arn: SharedStr,
    pub family: SharedStr,
    pub revision: u32,
}

impl TaskDefRef {
    /// Parses `arn:aws:ecs:region:acct:task-definition/family:7` (or a bare `family:7`).
    pub fn from_arn(arn: &str) -> Self {
        let tail = arn.rsplit('/').next().unwrap_or(arn);
        let (family, revision) = match tail.rsplit_once(':') {
            Some((family, rev)) => (family, rev.parse().unwrap_or(0)),
            None => (tail, 0),
        };
        TaskDefRef {
            arn: arn.into(),
            family: family.into(),
            revision,
        }
    }
}

impl fmt::Display for TaskDefRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.family, self.revision)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_family_and_revision_from_an_arn() {
        let t = TaskDefRef::from_arn("arn:aws:ecs:eu-west-1:123:task-definition/cart-api:42");
        assert_eq!((t.family.as_str(), t.revision), ("cart-api", 42));
        assert_eq!(t.to_string(), "cart-api:42");
    }

    #[test]
    fn tolerates_a_missing_revision() {
        assert_eq!(TaskDefRef::from_arn("web").to_string(), "web:0");
    }
}

/// What ecsmon needs from a task definition (immutable once registered, so cached forever).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct TaskDefinition {
    pub reference: TaskDefRef,
    /// ACTIVE, or INACTIVE once deregistered.
    pub status: String,
    pub registered_at: Option<Time>,
    /// Task-level size, when set (`"1024"` CPU units, MiB).
    pub cpu: Option<u32>,
    pub memory: Option<u32>,
    pub network_mode: String,
    /// `EC2`, `FARGATE`, `EXTERNAL`.
    pub requires_compatibilities: Vec<String>,
    pub execution_role_arn: String,
    pub task_role_arn: String,
    pub containers: Vec<ContainerDefinition>,
}

impl TaskDefinition {
    pub fn container(&self, name: &str) -> Option<&ContainerDefinition> {
        self.containers.iter().find(|c| c.name == name)
    }

    /// What a task of this definition reserves on its host (MiB): every container's soft
    /// `memoryReservation`, or its hard `memory` when it has none, else the task-level size.
    /// The denominator of ECS's MemoryUtilization.
    pub fn reserved_memory(&self) -> Option<u32> {
        self.containers
            .iter()
            .map(|c| c.memory_reservation.or(c.memory))
            .sum::<Option<u32>>()
            .filter(|r| *r > 0)
            .or(self.memory)
    }
}

#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct ContainerDefinition {
    pub name: String,
    pub image: String,
    pub cpu: Option<u32>,
    /// Hard limit (MiB).
    pub memory: Option<u32>,
    /// Soft limit (MiB).
    pub memory_reservation: Option<u32>,
    pub essential: bool,
    pub readonly_root_filesystem: bool,
    /// `awslogs`, `awsfirelens`, `splunk`… (empty when none).
    pub log_driver: String,
    pub log_options: Vec<(String, String)>,
    /// The log driver's secrets: (option name, `valueFrom`). References only.
    pub log_secret_options: Vec<(String, String)>,
    /// Plain environment variables (name, value), sorted by name.
    pub environment: Vec<(String, String)>,
    /// Secrets injected as variables: (name, `valueFrom` — a Secrets Manager or Parameter
    /// Store reference, never the value), sorted by name.
    pub secrets: Vec<(String, String)>,
    pub entry_point: Vec<String>,
    pub command: Vec<String>,
    pub port_mappings: Vec<PortMapping>,
    pub health_check: Option<ContainerHealthCheck>,
    pub ulimits: Vec<Ulimit>,
    /// `linuxParameters.initProcessEnabled` (`None`: not set).
    pub init_process_enabled: Option<bool>,
    /// Seconds between SIGTERM and SIGKILL (`None`: the default, 30 s).
    pub stop_timeout: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct PortMapping {
    pub container_port: u16,
    /// `None` or 0: dynamic (bridge) or the same as the container port (awsvpc).
    pub host_port: Option<u16>,
    /// `tcp` or `udp`.
    pub protocol: String,
    /// Service Connect name (empty when none).
    pub name: String,
    /// `http`, `http2`, `grpc` (empty when none).
    pub app_protocol: String,
}

impl fmt::Display for PortMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let protocol = if self.protocol.is_empty() {
            "tcp"
        } else {
            &self.protocol
        };
        write!(f, "{}/{protocol}", self.container_port)?;
        match self.host_port {
            Some(h) if h != 0 && h != self.container_port => write!(f, " (host {h})")?,
            _ => {}
        }
        if !self.name.is_empty() {
            write!(f, " name {}", self.name)?;
        }
        if !self.app_protocol.is_empty() {
            write!(f, " {}", self.app_protocol)?;
        }
        Ok(())
    }
}

/// A container health check as Docker runs it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct ContainerHealthCheck {
    /// `["CMD-SHELL", "curl -f http://localhost/ || exit 1"]`.
    pub command: Vec<String>,
    pub interval_secs: Option<u32>,
    pub timeout_secs: Option<u32>,
    pub retries: Option<u32>,
    pub start_period_secs: Option<u32>,
}

impl fmt::Display for ContainerHealthCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // ECS's defaults when a field is left out: 30 s, 5 s, 3 retries, no start period.
        write!(
            f,
            "{} · every {}s, timeout {}s, {} retries, start period {}s",
            self.command.join(" "),
            self.interval_secs.unwrap_or(30),
            self.timeout_secs.unwrap_or(5),
            self.retries.unwrap_or(3),
            self.start_period_secs.unwrap_or(0)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Ulimit {
    /// `nofile`, `nproc`, …
    pub name: String,
    pub soft: i64,
    pub hard: i64,
}
