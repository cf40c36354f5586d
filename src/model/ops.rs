//! What an operator can do to the fleet, as data: the action gate confirms it, audits it and
//! hands it to the source. Also the facts the action dialogs and panes need (auto scaling
//! bounds, target health).

use super::Time;

/// A mutating request. Every one goes through the action gate (`crate::update::gate`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Operation {
    /// `UpdateService desiredCount`.
    Scale {
        cluster: String,
        service: String,
        service_arn: String,
        from: u32,
        to: u32,
    },
    /// `UpdateService forceNewDeployment`.
    Redeploy {
        cluster: String,
        service: String,
        service_arn: String,
    },
    /// `StopTask` with a reason naming ecsmon and the principal.
    StopTask {
        cluster: String,
        task_arn: String,
        reason: String,
    },
    /// `UpdateContainerInstancesState` to DRAINING (or back to ACTIVE).
    SetInstanceState {
        cluster: String,
        instance_arn: String,
        ec2_instance_id: String,
        draining: bool,
    },
    /// ECS Exec: an interactive shell in a container.
    Exec {
        cluster: String,
        task_arn: String,
        container: String,
        runtime_id: String,
        command: String,
    },
    /// SSM Session Manager shell on a container instance's EC2 host.
    InstanceShell {
        cluster: String,
        ec2_instance_id: String,
    },
    /// `UpdateService taskDefinition=family:to forceNewDeployment`: run another revision.
    Rollback {
        cluster: String,
        service: String,
        service_arn: String,
        family: String,
        from: u32,
        to: u32,
        /// The revision's ARN (what is sent).
        task_definition_arn: String,
    },
    /// A local port forwarded through SSM Session Manager (`AWS-StartPortForwardingSession`,
    /// or `…ToRemoteHost` with `remote_host`) to a port of a task or instance, or to a host
    /// reachable from it. Runs in the background until stopped.
    PortForward {
        cluster: String,
        target: super::ForwardTarget,
        local_port: u16,
        remote_host: Option<String>,
        remote_port: u16,
    },
}

impl Operation {
    /// The audit log's action name.
    pub fn verb(&self) -> &'static str {
        match self {
            Operation::Scale { .. } => "scale",
            Operation::Redeploy { .. } => "redeploy",
            Operation::StopTask { .. } => "stop-task",
            Operation::SetInstanceState { draining: true, .. } => "drain",
            Operation::SetInstanceState {
                draining: false, ..
            } => "activate",
            Operation::Exec { .. } => "exec",
            Operation::InstanceShell { .. } => "instance-shell",
            Operation::Rollback { .. } => "rollback",
            Operation::PortForward { .. } => "port-forward",
        }
    }

    /// The ARN (or id) of what the action changes.
    pub fn target(&self) -> &str {
        match self {
            Operation::Scale { service_arn, .. }
            | Operation::Redeploy { service_arn, .. }
            | Operation::Rollback { service_arn, .. } => service_arn,
            Operation::StopTask { task_arn, .. } | Operation::Exec { task_arn, .. } => task_arn,
            Operation::SetInstanceState { instance_arn, .. } => instance_arn,
            Operation::InstanceShell {
                ec2_instance_id, ..
            } => ec2_instance_id,
            Operation::PortForward { target, .. } => match target {
                super::ForwardTarget::Task { task_arn, .. } => task_arn,
                super::ForwardTarget::Instance { ec2_instance_id } => ec2_instance_id,
            },
        }
    }

    /// Exactly what will change, in one line: `cart: desired 4 → 7`.
    pub fn summary(&self) -> String {
        match self {
            Operation::Scale {
                service, from, to, ..
            } => format!("{service}: desired {from} → {to}"),
            Operation::Redeploy { service, .. } => {
                format!("{service}: force a new deployment (every task replaced)")
            }
            Operation::StopTask { task_arn, .. } => {
                format!("stop task {}", super::arn_tail(task_arn))
            }
            Operation::SetInstanceState {
                ec2_instance_id,
                draining: true,
                ..
            } => format!("{ec2_instance_id}: ACTIVE → DRAINING (its tasks move elsewhere)"),
            Operation::SetInstanceState {
                ec2_instance_id,
                draining: false,
                ..
            } => format!("{ec2_instance_id}: DRAINING → ACTIVE"),
            Operation::Exec {
                task_arn,
                container,
                command,
                ..
            } => format!(
                "run {command} in {container} of task {}",
                super::arn_tail(task_arn)
            ),
            Operation::InstanceShell {
                ec2_instance_id, ..
            } => format!("open a shell on {ec2_instance_id} (SSM Session Manager)"),
            Operation::Rollback {
                service,
                family,
                from,
                to,
                ..
            } => format!(
                "{service}: {family}:{from} → {family}:{to} (a new deployment replaces every task)"
            ),
            Operation::PortForward {
                target,
                local_port,
                remote_host,
                remote_port,
                ..
            } => match remote_host {
                Some(host) => format!(
                    "forward localhost:{local_port} → {host}:{remote_port} through {}",
                    target.label()
                ),
                None => format!(
                    "forward localhost:{local_port} → port {remote_port} of {}",
                    target.label()
                ),
            },
        }
    }

    /// The AWS CLI command that shows whether the operation took effect, for when its answer
    /// never came (a timeout, a dropped connection, quitting before it arrived).
    pub fn how_to_check(&self, region: &str, profile: Option<&str>) -> String {
        let ssm_sessions = |target: &str| {
            format!("aws ssm describe-sessions --state Active --filters key=Target,value={target}")
        };
        let command = match self {
            Operation::Scale {
                cluster, service, ..
            }
            | Operation::Redeploy {
                cluster, service, ..
            }
            | Operation::Rollback {
                cluster, service, ..
            } => format!("aws ecs describe-services --cluster {cluster} --services {service}"),
            Operation::StopTask {
                cluster, task_arn, ..
            } => format!("aws ecs describe-tasks --cluster {cluster} --tasks {task_arn}"),
            Operation::SetInstanceState {
                cluster,
                instance_arn,
                ..
            } => format!(
                "aws ecs describe-container-instances --cluster {cluster} \
                 --container-instances {instance_arn}"
            ),
            Operation::Exec { .. } => "aws ssm describe-sessions --state Active".to_string(),
            Operation::InstanceShell {
                ec2_instance_id, ..
            } => ssm_sessions(ec2_instance_id),
            Operation::PortForward {
                cluster, target, ..
            } => ssm_sessions(&target.ssm_target(cluster)),
        };
        let mut command = command;
        if !region.is_empty() {
            command.push_str(&format!(" --region {region}"));
        }
        if let Some(profile) = profile {
            command.push_str(&format!(" --profile {profile}"));
        }
        command
    }

    /// Interactive sessions hand the terminal to session-manager-plugin.
    pub fn is_session(&self) -> bool {
        matches!(
            self,
            Operation::Exec { .. } | Operation::InstanceShell { .. }
        )
    }

    /// A port forward runs in the background (session-manager-plugin as a child process).
    pub fn is_forward(&self) -> bool {
        matches!(self, Operation::PortForward { .. })
    }
}

/// What `session-manager-plugin` needs to take over: the session (as the JSON the plugin
/// reads), the region, the target, and the endpoint it was opened against.
#[derive(Clone, PartialEq)]
pub struct SessionHandoff {
    /// `{"SessionId": …, "StreamUrl": …, "TokenValue": …}`. Secret: never logged.
    pub session_json: String,
    pub region: String,
    /// `{"Target":"ecs:<cluster>_<task-id>_<runtime-id>"}` or `{"Target":"i-…"}`.
    pub target_json: String,
    /// The API endpoint (`https://ecs.<region>.amazonaws.com`, or the override).
    pub endpoint: String,
    pub profile: Option<String>,
}

/// The session token never reaches a log through `{:?}`.
impl std::fmt::Debug for SessionHandoff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionHandoff")
            .field("session_json", &"<redacted>")
            .field("region", &self.region)
            .field("target_json", &self.target_json)
            .field("endpoint", &self.endpoint)
            .field("profile", &self.profile)
            .finish()
    }
}

/// Application Auto Scaling's hold on a service's desired count.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ScalingBounds {
    pub min: u32,
    pub max: u32,
    /// Scaling activities suspended (in, out or scheduled).
    pub suspended: bool,
}

/// One target of a target group, and the task it belongs to when it can be told.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TargetHealth {
    /// IP address or EC2 instance id.
    pub id: String,
    pub port: Option<i32>,
    pub availability_zone: String,
    /// healthy, unhealthy, initial, draining, unused, unavailable.
    pub state: String,
    pub reason: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct HealthCheck {
    pub protocol: String,
    pub path: String,
    pub port: String,
    pub interval_secs: i32,
    pub timeout_secs: i32,
    pub healthy_threshold: i32,
    pub unhealthy_threshold: i32,
    pub matcher: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TargetGroupHealth {
    pub arn: String,
    pub name: String,
    pub health_check: HealthCheck,
    pub targets: Vec<TargetHealth>,
    pub fetched_at: Option<Time>,
}
