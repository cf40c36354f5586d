use super::Time;

/// An ECS container instance joined with its EC2 instance.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Instance {
    pub arn: String,
    pub cluster_arn: String,
    pub ec2_instance_id: String,
    pub instance_type: String,
    pub availability_zone: String,
    /// The EC2 subnet of the instance's primary interface (empty when EC2 did not say).
    pub subnet_id: String,
    /// ACTIVE, DRAINING, REGISTERING, DEREGISTERING, INACTIVE.
    pub status: String,
    pub agent_connected: bool,
    pub agent_version: String,
    pub running_tasks: u32,
    pub pending_tasks: u32,
    pub cpu_registered: u32,
    pub cpu_remaining: u32,
    pub memory_registered: u32,
    pub memory_remaining: u32,
    pub launched_at: Option<Time>,
    pub registered_at: Option<Time>,
}

impl Instance {
    pub fn id(&self) -> &str {
        super::arn_tail(&self.arn)
    }
}
