//! The way out of the VPC for a cluster's tasks and instances: the NAT gateways their subnets'
//! default routes go through (EC2 `DescribeRouteTables` and `DescribeNatGateways`).

/// A NAT gateway that carries the outbound traffic of some of the subnets asked about.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct NatGateway {
    /// `nat-0123456789abcdef0`.
    pub id: String,
    /// `available`, `pending`, `failed`, `deleting`, `deleted`.
    pub state: String,
    pub vpc_id: String,
    /// The subnet the gateway itself lives in.
    pub subnet_id: String,
    /// Public IP addresses: each carries its own ~55,000 simultaneous connections to one
    /// destination.
    pub addresses: u32,
    /// The subnets asked about whose `0.0.0.0/0` route goes through this gateway.
    pub serves: Vec<String>,
}

impl NatGateway {
    /// Whether the gateway carries the outbound traffic of `subnet`.
    pub fn serves(&self, subnet: &str) -> bool {
        self.serves.iter().any(|s| s == subnet)
    }
}
