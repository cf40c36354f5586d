use super::Time;

/// An ECS container instance joined with its EC2 instance.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
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
    /// CPU credit mode of a burstable instance (EC2 DescribeInstanceCreditSpecifications).
    pub credit_mode: CreditMode,
    /// The AMI the instance runs (EC2 `ImageId`, or the agent's `ecs.ami-id`); empty if unknown.
    pub image_id: String,
    /// When that AMI was created (EC2 DescribeImages), if known.
    pub image_created_at: Option<Time>,
    /// The ECS-optimized AMI AWS recommends for this host's AMI family and architecture (the
    /// public SSM parameter), when the host runs an ECS-optimized AMI and the parameter was read.
    pub recommended: Option<RecommendedAmi>,
    /// Listed but not described yet (a big pane's rows come before their details): only `arn`
    /// and `cluster_arn` are known — its counts are unknown, not zero.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub loading: bool,
    /// When its details came, for a row of a listed pane; `None` for a row of a whole answer.
    #[serde(skip)]
    pub described_at: Option<Time>,
}

/// EC2's CPU credit mode of a burstable (T-family) instance. T3, T3a and T4g launch in
/// `unlimited` mode unless told otherwise; T2 in `standard`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum CreditMode {
    /// Not read: not a burstable type, or EC2 has not answered (yet).
    #[default]
    Unknown,
    /// A spent balance holds the CPU at the baseline.
    Standard,
    /// A spent balance is paid for (surplus credits), the CPU is not held.
    Unlimited,
    /// DescribeInstanceCreditSpecifications was denied: the mode cannot be known.
    Denied,
}

impl CreditMode {
    pub fn from_aws(text: &str) -> CreditMode {
        match text {
            "standard" => CreditMode::Standard,
            "unlimited" => CreditMode::Unlimited,
            _ => CreditMode::Unknown,
        }
    }
}

/// One public SSM parameter `/aws/service/ecs/optimized-ami/<family>/recommended`: the
/// current ECS-optimized AMI of a family and the agent it ships.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecommendedAmi {
    /// The parameter's name.
    pub parameter: String,
    pub image_id: String,
    pub image_name: String,
    pub agent_version: String,
}

impl Instance {
    pub fn id(&self) -> &str {
        super::arn_tail(&self.arn)
    }
}
