use super::{TaskDefRef, Time};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct Service {
    pub arn: String,
    pub name: String,
    pub cluster_arn: String,
    /// ACTIVE, DRAINING, INACTIVE.
    pub status: String,
    pub desired: u32,
    pub running: u32,
    pub pending: u32,
    /// EC2, FARGATE, EXTERNAL, or the capacity provider strategy's first provider.
    pub launch_type: String,
    pub task_definition: TaskDefRef,
    pub deployments: Vec<Deployment>,
    /// Newest first, as ECS returns them.
    pub events: Vec<ServiceEvent>,
    pub created_at: Option<Time>,
    pub enable_execute_command: bool,
    pub target_group_arns: Vec<String>,
    /// (target group ARN, load balancer ARN) for the target groups whose load balancer is
    /// known: CloudWatch keys target-group metrics on both.
    pub target_group_lbs: Vec<(String, String)>,
    /// Which container and port each target group sends traffic to.
    pub lb_bindings: Vec<LbBinding>,
    /// Seconds ECS ignores failing ELB health checks after a task starts (None: not set).
    pub health_check_grace_secs: Option<u32>,
    pub deployment_config: DeploymentConfig,
    /// `memberOf(attribute:ecs.instance-type == m5.large)`, `distinctInstance`.
    pub placement_constraints: Vec<String>,
    /// `spread(attribute:ecs.availability-zone)`, `binpack(memory)`.
    pub placement_strategy: Vec<String>,
    /// awsvpc subnets (empty for bridge/host networking).
    pub subnets: Vec<String>,
    pub tags: Vec<(String, String)>,
    /// Listed but not described yet (a big cluster's rows come before their details): only
    /// `arn`, `name` and `cluster_arn` are known — its counts are unknown, not zero.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub loading: bool,
    /// When its details came, for a row of a listed pane (whose rows are described on their own
    /// cadences); `None` for a row of a whole answer, which is as old as the answer.
    #[serde(skip)]
    pub described_at: Option<Time>,
}

impl Service {
    /// A row known only from `ListServices` of `cluster`: its identity, from the ARN, marked
    /// as loading. (An old-format ARN, `…:service/web`, names no cluster: `cluster` does.)
    pub fn listed(arn: &str, cluster: &str) -> Service {
        Service {
            arn: arn.to_string(),
            name: super::arn::tail(arn).to_string(),
            cluster_arn: super::arn::cluster_arn_or(arn, cluster),
            loading: true,
            ..Service::default()
        }
    }

    /// The deployment ECS is rolling towards (status `PRIMARY`).
    pub fn primary_deployment(&self) -> Option<&Deployment> {
        self.deployments.iter().find(|d| d.status == "PRIMARY")
    }

    /// When the newest deployment started: "age of the last deployment" in the services pane.
    pub fn last_deployment_at(&self) -> Option<Time> {
        self.deployments.iter().filter_map(|d| d.created_at).max()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct LbBinding {
    pub target_group_arn: String,
    pub container_name: String,
    pub container_port: u32,
}

/// How ECS replaces tasks in a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct DeploymentConfig {
    pub minimum_healthy_percent: Option<u32>,
    pub maximum_percent: Option<u32>,
    pub circuit_breaker: bool,
    pub rollback: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct Deployment {
    pub id: String,
    /// PRIMARY, ACTIVE, INACTIVE.
    pub status: String,
    pub task_definition: TaskDefRef,
    pub desired: u32,
    pub running: u32,
    pub pending: u32,
    pub failed: u32,
    /// IN_PROGRESS, COMPLETED, FAILED (empty for services without rollout tracking).
    pub rollout_state: String,
    pub rollout_reason: String,
    pub created_at: Option<Time>,
    pub updated_at: Option<Time>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct ServiceEvent {
    pub id: String,
    pub at: Time,
    pub message: String,
}
