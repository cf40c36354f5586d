//! Names, ids and catalogues that make the demo fleet read like a real AWS account.
//! Every generator takes the fleet's RNG so a seed always yields the same names.

use fastrand::Rng;

use crate::model::{TaskDefRef, Time};

pub const PRINCIPAL: &str = "assumed-role/Operator/demo";
/// Availability zones of the demo's VPC (`<region>a`, `b`, `c`): what AZ indexes count.
pub const AZ_COUNT: usize = 3;
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

/// Where a demo fleet lives: the account and region that every ARN, image URI and availability
/// zone it generates names, so a context's identity and its resources agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub account: &'static str,
    pub region: &'static str,
}

impl Place {
    /// The single demo's account and region (`--demo`, the tests' and snapshots' fleet).
    pub const DEMO: Place = Place {
        account: "123456789012",
        region: "eu-west-1",
    };

    /// `arn:aws:<service>:<region>:<account>:<resource>`.
    fn arn(&self, service: &str, resource: &str) -> String {
        let Place { account, region } = self;
        format!("arn:aws:{service}:{region}:{account}:{resource}")
    }

    pub fn cluster_arn(&self, cluster: &str) -> String {
        self.arn("ecs", &format!("cluster/{cluster}"))
    }

    pub fn service_arn(&self, cluster: &str, service: &str) -> String {
        self.arn("ecs", &format!("service/{cluster}/{service}"))
    }

    pub fn task_arn(&self, cluster: &str, id: &str) -> String {
        self.arn("ecs", &format!("task/{cluster}/{id}"))
    }

    pub fn container_instance_arn(&self, cluster: &str, id: &str) -> String {
        self.arn("ecs", &format!("container-instance/{cluster}/{id}"))
    }

    pub fn task_definition(&self, family: &str, revision: u32) -> TaskDefRef {
        TaskDefRef {
            arn: self
                .arn("ecs", &format!("task-definition/{family}:{revision}"))
                .into(),
            family: family.into(),
            revision,
        }
    }

    pub fn target_group_arn(&self, rng: &mut Rng, name: &str) -> String {
        let id = hex(rng, 16);
        self.arn("elasticloadbalancing", &format!("targetgroup/{name}/{id}"))
    }

    /// An application load balancer's ARN; `id` is its 16 hex digits.
    pub fn load_balancer_arn(&self, name: &str, id: &str) -> String {
        self.arn(
            "elasticloadbalancing",
            &format!("loadbalancer/app/{name}/{id}"),
        )
    }

    /// One application load balancer per cluster, named after it. Derived from the name, not
    /// the RNG, so adding it left every other generated value as it was.
    pub fn cluster_load_balancer_arn(&self, cluster: &str) -> String {
        let hash = crate::model::hash::stable(&[cluster.as_bytes()]);
        self.load_balancer_arn(&format!("{cluster}-edge"), &format!("{hash:016x}"))
    }

    pub fn secret_arn(&self, name: &str) -> String {
        self.arn("secretsmanager", &format!("secret:{name}"))
    }

    pub fn parameter_arn(&self, name: &str) -> String {
        self.arn("ssm", &format!("parameter/{name}"))
    }

    /// IAM is global: its ARNs name the account but no region.
    pub fn role_arn(&self, role: &str) -> String {
        format!("arn:aws:iam::{}:role/{role}", self.account)
    }

    /// An image in the account's own ECR registry of the region.
    pub fn ecr_image(&self, repo: &str, tag: &str) -> String {
        ecr_registry_image(self.account, self.region, &format!("{repo}:{tag}"))
    }

    /// The sidecar's image as a task in this region pulls it.
    pub fn sidecar_image(&self, sidecar: &Sidecar) -> String {
        match sidecar.ecr_account {
            Some(account) => ecr_registry_image(account, self.region, sidecar.image),
            None => sidecar.image.to_string(),
        }
    }

    /// Availability zone `n` (an index below [`AZ_COUNT`]): `<region>a`, `b`, `c`.
    pub fn az(&self, n: usize) -> String {
        format!("{}{}", self.region, ['a', 'b', 'c'][n % AZ_COUNT])
    }
}

fn ecr_registry_image(account: &str, region: &str, image: &str) -> String {
    format!("{account}.dkr.ecr.{region}.amazonaws.com/{image}")
}

pub fn ec2_instance_id(rng: &mut Rng) -> String {
    format!("i-0{}", hex(rng, 16))
}

pub fn deployment_id(rng: &mut Rng) -> String {
    format!("ecs-svc/{}", digits(rng, 19))
}

/// Release tags the way many CI pipelines stamp them: build date plus the day's build number.
pub fn release_tag(at: Time, build: u32) -> String {
    format!("{}-{build}", at.format("%Y.%m.%d"))
}

/// The private subnet of each availability zone (index below `AZ_COUNT`): where instances and awsvpc tasks live.
pub const PRIVATE_SUBNETS: [&str; AZ_COUNT] = [
    "subnet-0a41c9e27d3b58f10",
    "subnet-0b7e25d1c4a96f382",
    "subnet-0c93f7a2e15b84d06",
];

/// The public subnet (AZ a) the demo VPC's NAT gateway lives in.
pub const PUBLIC_SUBNET_A: &str = "subnet-0f5e2d8c7a1b39e46";
/// The public subnet of each availability zone (index below `AZ_COUNT`), where its NAT gateway would go.
pub fn public_subnet(az: usize) -> &'static str {
    [
        PUBLIC_SUBNET_A,
        "subnet-0e6a3b9d1f4c72a58",
        "subnet-0d2b7f4a9c6e13b85",
    ][az % PRIVATE_SUBNETS.len()]
}
/// A second NAT gateway (AZ b) that a replayed incident adds.
pub const NAT_B: &str = "nat-0b2e4d6f8a1c35790";
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
    /// `repo:tag`; in the regional ECR registry of `ecr_account` when there is one
    /// ([`Place::sidecar_image`]), else a public image as it stands.
    pub image: &'static str,
    pub ecr_account: Option<&'static str>,
    pub cpu: u32,
    pub memory_reservation: u32,
}

pub const ENVOY: Sidecar = Sidecar {
    name: "envoy",
    image: "aws-appmesh-envoy:v1.29.9.0-prod",
    // AWS's App Mesh account: each region has its copy of the image.
    ecr_account: Some("840364872350"),
    cpu: 64,
    memory_reservation: 128,
};

pub const DATADOG: Sidecar = Sidecar {
    name: "datadog-agent",
    image: "public.ecr.aws/datadog/agent:7.59.0",
    ecr_account: None,
    cpu: 64,
    memory_reservation: 256,
};

pub const LOG_ROUTER: Sidecar = Sidecar {
    name: "log-router",
    image: "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.4",
    ecr_account: None,
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
    fn the_demo_place_names_what_the_single_demo_always_named() {
        let p = Place::DEMO;
        let ecs = "arn:aws:ecs:eu-west-1:123456789012";
        assert_eq!(p.cluster_arn("prod"), format!("{ecs}:cluster/prod"));
        assert_eq!(
            p.service_arn("prod", "cart"),
            format!("{ecs}:service/prod/cart")
        );
        assert_eq!(p.task_arn("prod", "ab12"), format!("{ecs}:task/prod/ab12"));
        assert_eq!(
            p.container_instance_arn("prod", "cd34"),
            format!("{ecs}:container-instance/prod/cd34")
        );
        assert_eq!(
            p.task_definition("cart", 7).arn,
            format!("{ecs}:task-definition/cart:7")
        );
        let elb = "arn:aws:elasticloadbalancing:eu-west-1:123456789012";
        let tg = p.target_group_arn(&mut Rng::with_seed(1), "tg-web");
        assert!(
            tg.starts_with(&format!("{elb}:targetgroup/tg-web/")),
            "{tg}"
        );
        assert_eq!(
            p.cluster_load_balancer_arn("prod"),
            format!(
                "{elb}:loadbalancer/app/prod-edge/{:016x}",
                crate::model::hash::stable(&[b"prod"])
            )
        );
        assert_eq!(
            p.ecr_image("cart", "1.2"),
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cart:1.2"
        );
        assert_eq!(
            p.sidecar_image(&ENVOY),
            "840364872350.dkr.ecr.eu-west-1.amazonaws.com/aws-appmesh-envoy:v1.29.9.0-prod"
        );
        assert_eq!(p.sidecar_image(&DATADOG), DATADOG.image);
        let azs: Vec<String> = (0..AZ_COUNT).map(|n| p.az(n)).collect();
        assert_eq!(azs, ["eu-west-1a", "eu-west-1b", "eu-west-1c"]);
        assert_eq!(p.role_arn("x"), "arn:aws:iam::123456789012:role/x");
    }

    #[test]
    fn task_definitions_parse_back() {
        let td = Place::DEMO.task_definition("cart", 42);
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
