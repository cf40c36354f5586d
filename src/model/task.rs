use super::{SharedStr, TaskDefRef, Time, arn_tail};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct Task {
    pub arn: SharedStr,
    pub cluster_arn: SharedStr,
    pub task_definition: TaskDefRef,
    /// PROVISIONING, PENDING, ACTIVATING, RUNNING, DEACTIVATING, STOPPING, DEPROVISIONING, STOPPED.
    pub last_status: SharedStr,
    pub desired_status: SharedStr,
    /// HEALTHY, UNHEALTHY, UNKNOWN.
    pub health: SharedStr,
    /// `service:<name>` for service tasks.
    pub group: SharedStr,
    pub launch_type: SharedStr,
    pub availability_zone: SharedStr,
    pub private_ip: SharedStr,
    pub container_instance_arn: Option<SharedStr>,
    /// The EC2 instance behind `container_instance_arn`, once joined.
    pub ec2_instance_id: Option<SharedStr>,
    pub cpu: Option<u32>,
    pub memory: Option<u32>,
    pub created_at: Option<Time>,
    pub started_at: Option<Time>,
    pub stopping_at: Option<Time>,
    pub stopped_at: Option<Time>,
    pub stop_code: SharedStr,
    pub stopped_reason: SharedStr,
    pub enable_execute_command: bool,
    pub containers: Vec<Container>,
    pub tags: Vec<(SharedStr, SharedStr)>,
    /// Listed but not described yet (a big pane's rows come before their details): only `arn`
    /// and `cluster_arn` are known — its status is unknown, not empty.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub loading: bool,
    /// When its details came, for a row of a listed pane; `None` for a row of a whole answer.
    #[serde(skip)]
    pub described_at: Option<Time>,
}

impl Task {
    /// The id operators recognise (the ARN's last segment).
    pub fn id(&self) -> &str {
        arn_tail(&self.arn)
    }

    /// The first 8 characters of the id, as the console shows it in tables.
    pub fn short_id(&self) -> &str {
        super::arn::short_task_id(&self.arn)
    }

    /// `cart` for a task whose group is `service:cart`.
    pub fn service_name(&self) -> Option<&str> {
        self.group.strip_prefix("service:")
    }

    pub fn is_stopped(&self) -> bool {
        self.last_status == "STOPPED"
    }

    /// Non-zero exit codes as `name=code` pairs (the containers that failed), or `0` when
    /// every container that exited did so cleanly; empty when none exited.
    pub fn exit_codes(&self) -> String {
        let failed: Vec<String> = self
            .containers
            .iter()
            .filter_map(|c| match c.exit_code {
                Some(code) if code != 0 => Some(format!("{}={code}", c.name)),
                _ => None,
            })
            .collect();
        if failed.is_empty() && self.containers.iter().any(|c| c.exit_code.is_some()) {
            "0".into()
        } else {
            failed.join(" ")
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct Container {
    pub name: SharedStr,
    pub image: SharedStr,
    /// Docker runtime id; ECS Exec targets `ecs:<cluster>_<task-id>_<runtime-id>`.
    pub runtime_id: SharedStr,
    pub last_status: SharedStr,
    pub health: SharedStr,
    pub exit_code: Option<i32>,
    pub reason: SharedStr,
    pub cpu: Option<u32>,
    /// Hard limit (MiB).
    pub memory: Option<u32>,
    /// Soft limit (MiB).
    pub memory_reservation: Option<u32>,
    /// Status of the `ExecuteCommandAgent` managed agent, when ECS Exec is on.
    pub exec_agent: Option<SharedStr>,
}
