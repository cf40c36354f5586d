//! Names, ids and catalogues that make the demo fleet read like a real AWS account.
//! Every generator takes the fleet's RNG so a seed always yields the same names.

use fastrand::Rng;

use crate::model::{TaskDefRef, Time};

pub const REGION: &str = "eu-west-1";
pub const ACCOUNT: &str = "123456789012";
pub const PRINCIPAL: &str = "assumed-role/Operator/demo";
pub const AZS: [&str; 3] = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];
pub const AGENT_VERSION: &str = "1.87.0";
/// Instances nobody has refreshed for a while run an older agent, as in real fleets.
pub const OLD_AGENT_VERSION: &str = "1.86.3";

pub fn hex(rng: &mut Rng, len: usize) -> String {
    let mut s = String::with_capacity(len + 16);
    while s.len() < len {
        s.push_str(&format!("{:016x}", rng.u64(..)));
    }
    s.truncate(len);
    s
}

/// Decimal digits without a leading zero (deployment ids are 19-digit numbers).
pub fn digits(rng: &mut Rng, len: usize) -> String {
    let mut s = String::with_capacity(len);
    s.push(char::from_digit(rng.u32(1..10), 10).unwrap_or('1'));
    for _ in 1..len {
        s.push(char::from_digit(rng.u32(0..10), 10).unwrap_or('0'));
    }
    s
}

/// A version-4 UUID, the shape of ECS service event ids.
pub fn uuid(rng: &mut Rng) -> String {
    let variant = ['8', '9', 'a', 'b'][rng.usize(0..4)];
    format!(
        "{}-{}-4{}-{}{}-{}",
        hex(rng, 8),
        hex(rng, 4),
        hex(rng, 3),
        variant,
        hex(rng, 3),
        hex(rng, 12)
    )
}

pub fn cluster_arn(cluster: &str) -> String {
    format!("arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{cluster}")
}

pub fn service_arn(cluster: &str, service: &str) -> String {
    format!("arn:aws:ecs:{REGION}:{ACCOUNT}:service/{cluster}/{service}")
}

pub fn task_arn(cluster: &str, id: &str) -> String {
    format!("arn:aws:ecs:{REGION}:{ACCOUNT}:task/{cluster}/{id}")
}

pub fn container_instance_arn(cluster: &str, id: &str) -> String {
    format!("arn:aws:ecs:{REGION}:{ACCOUNT}:container-instance/{cluster}/{id}")
}

pub fn task_definition(family: &str, revision: u32) -> TaskDefRef {
    TaskDefRef {
        arn: format!("arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:{revision}"),
        family: family.to_string(),
        revision,
    }
}

pub fn target_group_arn(rng: &mut Rng, name: &str) -> String {
    format!(
        "arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{name}/{}",
        hex(rng, 16)
    )
}

/// One application load balancer per cluster, named after it. Derived from the name, not the
/// RNG, so adding it left every other generated value as it was.
pub fn load_balancer_arn(cluster: &str) -> String {
    let hash = crate::model::hash::stable(&[cluster.as_bytes()]);
    format!(
        "arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/{cluster}-edge/{hash:016x}"
    )
}

pub fn ec2_instance_id(rng: &mut Rng) -> String {
    format!("i-0{}", hex(rng, 16))
}

pub fn deployment_id(rng: &mut Rng) -> String {
    format!("ecs-svc/{}", digits(rng, 19))
}

pub fn ecr_image(repo: &str, tag: &str) -> String {
    format!("{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{repo}:{tag}")
}

/// Release tags the way many CI pipelines stamp them: build date plus the day's build number.
pub fn release_tag(at: Time, build: u32) -> String {
    format!("{}-{build}", at.format("%Y.%m.%d"))
}

/// The private subnet of each availability zone (`AZS`): where instances and awsvpc tasks live.
pub const PRIVATE_SUBNETS: [&str; 3] = [
    "subnet-0a41c9e27d3b58f10",
    "subnet-0b7e25d1c4a96f382",
    "subnet-0c93f7a2e15b84d06",
];

/// The public subnet (AZ a) the demo VPC's NAT gateway lives in.
pub const PUBLIC_SUBNET_A: &str = "subnet-0f5e2d8c7a1b39e46";
/// The demo VPC's one NAT gateway (one EIP, in AZ a): the default route of every private
/// subnet.
pub const NAT_A: &str = "nat-0a1f3c5e7b9d24680";
pub const VPC: &str = "vpc-0c4f1a7e93b5d2860";

pub fn nat_gateways() -> Vec<crate::model::NatGateway> {
    vec![crate::model::NatGateway {
        id: NAT_A.into(),
        state: "available".into(),
        vpc_id: VPC.into(),
        subnet_id: PUBLIC_SUBNET_A.into(),
        addresses: 1,
        serves: PRIVATE_SUBNETS.iter().map(|s| s.to_string()).collect(),
    }]
}

pub fn private_subnet(az: usize) -> &'static str {
    PRIVATE_SUBNETS[az % PRIVATE_SUBNETS.len()]
}

/// Tasks get addresses from one /19 subnet per AZ, as in a typical three-AZ VPC.
pub fn private_ip(rng: &mut Rng, az: usize) -> String {
    format!(
        "10.0.{}.{}",
        az as u32 * 32 + rng.u32(0..32),
        rng.u32(4..255)
    )
}

/// Docker ids on EC2; on Fargate the runtime id is the task id plus a numeric suffix.
pub fn runtime_id(rng: &mut Rng, task_id: &str, fargate: bool) -> String {
    if fargate {
        format!("{task_id}-{}", digits(rng, 10))
    } else {
        hex(rng, 64)
    }
}

/// A sidecar container shipped next to the application container.
#[derive(Debug)]
pub struct Sidecar {
    pub name: &'static str,
    pub image: &'static str,
    pub cpu: u32,
    pub memory_reservation: u32,
}

pub const ENVOY: Sidecar = Sidecar {
    name: "envoy",
    image: "840364872350.dkr.ecr.eu-west-1.amazonaws.com/aws-appmesh-envoy:v1.29.9.0-prod",
    cpu: 64,
    memory_reservation: 128,
};

pub const DATADOG: Sidecar = Sidecar {
    name: "datadog-agent",
    image: "public.ecr.aws/datadog/agent:7.59.0",
    cpu: 64,
    memory_reservation: 256,
};

pub const LOG_ROUTER: Sidecar = Sidecar {
    name: "log-router",
    image: "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.4",
    cpu: 32,
    memory_reservation: 64,
};

/// Registered resources as the ECS agent reports them (memory is a little under the EC2 figure
/// because the agent keeps some for the OS and itself).
#[derive(Debug, Clone, Copy)]
pub struct InstanceType {
    pub name: &'static str,
    pub cpu: u32,
    pub memory: u32,
}

/// EC2's default credit mode of a type: T2 launches `standard`, T3/T3a/T4g `unlimited`.
pub fn credit_mode(instance_type: &str) -> crate::model::CreditMode {
    use crate::model::CreditMode;
    if instance_type.starts_with("t2.") {
        CreditMode::Standard
    } else if crate::model::metric_catalog::is_burstable(instance_type) {
        CreditMode::Unlimited
    } else {
        CreditMode::Unknown
    }
}

/// The replayed incidents' fixture: two vCPUs, 8 GiB.
pub const M5_LARGE: InstanceType = InstanceType {
    name: "m5.large",
    cpu: 2048,
    memory: 7680,
};
/// Burstable, two vCPUs, 4 GiB: a 20 % baseline once its CPU credits run out.
pub const T3_MEDIUM: InstanceType = InstanceType {
    name: "t3.medium",
    cpu: 2048,
    memory: 3891,
};
pub const M5_XLARGE: InstanceType = InstanceType {
    name: "m5.xlarge",
    cpu: 4096,
    memory: 15455,
};
/// Burstable, same size as m5.xlarge: runs on CPU credits.
pub const T3_XLARGE: InstanceType = InstanceType {
    name: "t3.xlarge",
    cpu: 4096,
    memory: 15455,
};
pub const M5_2XLARGE: InstanceType = InstanceType {
    name: "m5.2xlarge",
    cpu: 8192,
    memory: 31374,
};
pub const M5_4XLARGE: InstanceType = InstanceType {
    name: "m5.4xlarge",
    cpu: 16384,
    memory: 63376,
};
pub const C6I_4XLARGE: InstanceType = InstanceType {
    name: "c6i.4xlarge",
    cpu: 16384,
    memory: 31374,
};
pub const R6I_2XLARGE: InstanceType = InstanceType {
    name: "r6i.2xlarge",
    cpu: 8192,
    memory: 63376,
};

/// Business domains and roles that combine into the large scenario's 200 service names.
pub const LARGE_DOMAINS: [&str; 20] = [
    "accounts",
    "billing",
    "cart",
    "catalog",
    "checkout",
    "content",
    "fraud",
    "fulfilment",
    "identity",
    "inventory",
    "ledger",
    "loyalty",
    "media",
    "orders",
    "payments",
    "pricing",
    "profile",
    "search",
    "shipping",
    "tax",
];
pub const LARGE_ROLES: [&str; 10] = [
    "api",
    "worker",
    "consumer",
    "gateway",
    "sync",
    "scheduler",
    "indexer",
    "web",
    "grpc",
    "cron",
];

pub fn team_for(service: &str) -> &'static str {
    match service.split('-').next().unwrap_or(service) {
        "cart" | "checkout" | "orders" | "payments" | "ledger" | "billing" | "tax" => "commerce",
        "search" | "catalog" | "recommendations" | "pricing" | "inventory" => "discovery",
        "web" | "api" | "auth" | "identity" | "accounts" | "profile" => "platform",
        _ => "operations",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_aws_shapes() {
        let mut rng = Rng::with_seed(1);
        let id = ec2_instance_id(&mut rng);
        assert_eq!(id.len(), 19);
        assert!(id.starts_with("i-0"));
        let dep = deployment_id(&mut rng);
        assert_eq!(dep.len(), "ecs-svc/".len() + 19);
        let u = uuid(&mut rng);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(hex(&mut rng, 32).chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn task_definitions_parse_back() {
        let td = task_definition("cart", 42);
        assert_eq!(TaskDefRef::from_arn(&td.arn), td);
    }

    #[test]
    fn large_names_are_unique() {
        let mut all: Vec<String> = LARGE_DOMAINS
            .iter()
            .flat_map(|d| LARGE_ROLES.iter().map(move |r| format!("{d}-{r}")))
            .collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 200);
    }
}
