//! Fixtures the metric rules' tests share: one cluster `prod`, a service `web` behind one
//! target group of an application load balancer, its tasks, instances and target polls.

use chrono::TimeDelta;

use crate::model::{
    Cluster, HealthCheck, Insights, Instance, LbBinding, NatGateway, Service, TargetGroupHealth,
    TargetHealth, Task, TaskDefRef, Time,
};
use crate::testkit::fixed_now;
use crate::triage::Facts;

pub const CLUSTER_ARN: &str = "arn:aws:ecs:us-east-1:1:cluster/prod";
pub const TG: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/tg-web/73e2d6bc24d8a067";
pub const LB: &str =
    "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/edge/50dc6c495c0c9188";
/// The private subnet of `web`'s tasks and of the instances.
pub const SUBNET_A: &str = "subnet-0a41c9e27d3b58f10";
pub const NAT_A: &str = "nat-0a1b2c3d4e5f60718";

pub fn now() -> Time {
    fixed_now()
}

pub fn ago(secs: i64) -> Time {
    now() - TimeDelta::seconds(secs)
}

pub fn facts() -> Facts {
    Facts::at(now())
}

pub fn cluster(insights: Insights) -> Cluster {
    Cluster {
        arn: CLUSTER_ARN.into(),
        name: "prod".into(),
        status: "ACTIVE".into(),
        active_services: 1,
        running_tasks: 0,
        pending_tasks: 0,
        instances: 0,
        cpu_reserved_pct: None,
        memory_reserved_pct: None,
        capacity_providers: Vec::new(),
        container_insights: insights,
        tags: Vec::new(),
        fetched_at: Some(now()),
        context: None,
    }
}

/// Service `name` of `prod` with `desired` tasks, behind [`TG`] on [`LB`] (port 8080), grace 60 s.
pub fn service(name: &str, desired: u32) -> Service {
    Service {
        arn: format!("arn:aws:ecs:us-east-1:1:service/prod/{name}"),
        name: name.into(),
        cluster_arn: CLUSTER_ARN.into(),
        status: "ACTIVE".into(),
        desired,
        running: desired,
        launch_type: "EC2".into(),
        task_definition: TaskDefRef::from_arn(&format!(
            "arn:aws:ecs:us-east-1:1:task-definition/{name}:7"
        )),
        target_group_arns: vec![TG.into()],
        target_group_lbs: vec![(TG.into(), LB.into())],
        lb_bindings: vec![LbBinding {
            target_group_arn: TG.into(),
            container_name: "app".into(),
            container_port: 8080,
        }],
        health_check_grace_secs: Some(60),
        subnets: vec![SUBNET_A.into()],
        ..Service::default()
    }
}

/// A running task of `service` with private IP `10.0.0.{n}`, started `age` seconds ago.
pub fn task(service: &str, n: u32, age: i64) -> Task {
    Task {
        arn: format!("arn:aws:ecs:us-east-1:1:task/prod/{n:08}aaaabbbbccccdddd").into(),
        cluster_arn: CLUSTER_ARN.into(),
        task_definition: TaskDefRef::from_arn(&format!(
            "arn:aws:ecs:us-east-1:1:task-definition/{service}:7"
        )),
        last_status: "RUNNING".into(),
        desired_status: "RUNNING".into(),
        group: format!("service:{service}").into(),
        launch_type: "EC2".into(),
        availability_zone: "us-east-1a".into(),
        private_ip: ip(n).into(),
        created_at: Some(ago(age + 10)),
        started_at: Some(ago(age)),
        memory: Some(1024),
        ..Task::default()
    }
}

pub fn ip(n: u32) -> String {
    format!("10.0.0.{n}")
}

/// A container instance `i-{n}` of `prod`.
pub fn instance(n: u32, instance_type: &str) -> Instance {
    Instance {
        arn: format!("arn:aws:ecs:us-east-1:1:container-instance/prod/{n:032}"),
        loading: false,
        described_at: None,
        cluster_arn: CLUSTER_ARN.into(),
        ec2_instance_id: format!("i-{n:017}"),
        instance_type: instance_type.into(),
        availability_zone: "us-east-1a".into(),
        subnet_id: SUBNET_A.into(),
        status: "ACTIVE".into(),
        agent_connected: true,
        agent_version: "1.80.0".into(),
        running_tasks: 0,
        pending_tasks: 0,
        cpu_registered: 2048,
        cpu_remaining: 1024,
        memory_registered: 7680,
        memory_remaining: 4096,
        launched_at: Some(ago(86_400)),
        registered_at: Some(ago(86_400)),
        credit_mode: Default::default(),
        image_id: String::new(),
        image_created_at: None,
        recommended: None,
    }
}

/// Places a task on an instance.
pub fn on(mut t: Task, i: &Instance) -> Task {
    t.container_instance_arn = Some(i.arn.as_str().into());
    t.ec2_instance_id = Some(i.ec2_instance_id.clone().into());
    t
}

pub fn target(n: u32, state: &str, reason: &str, description: &str) -> TargetHealth {
    TargetHealth {
        id: ip(n),
        port: Some(8080),
        availability_zone: "us-east-1a".into(),
        state: state.into(),
        reason: reason.into(),
        description: description.into(),
    }
}

pub fn healthy(n: u32) -> TargetHealth {
    target(n, "healthy", "", "")
}

/// A DescribeTargetHealth answer for [`TG`] fetched `secs_ago` seconds ago.
pub fn poll(secs_ago: i64, targets: Vec<TargetHealth>) -> TargetGroupHealth {
    TargetGroupHealth {
        arn: TG.into(),
        name: "tg-web".into(),
        health_check: HealthCheck {
            protocol: "HTTP".into(),
            path: "/health".into(),
            port: "traffic-port".into(),
            interval_secs: 30,
            timeout_secs: 5,
            healthy_threshold: 2,
            unhealthy_threshold: 2,
            matcher: "200".into(),
        },
        targets,
        fetched_at: Some(ago(secs_ago)),
    }
}

/// `n` copies of `value`.
pub fn flat(value: f64, n: usize) -> Vec<f64> {
    vec![value; n]
}

/// NAT gateway [`NAT_A`] with `addresses` public IPs, the default route of [`SUBNET_A`].
pub fn nat(addresses: u32) -> NatGateway {
    NatGateway {
        id: NAT_A.into(),
        state: "available".into(),
        vpc_id: "vpc-0123".into(),
        subnet_id: "subnet-public-a".into(),
        addresses,
        serves: vec![SUBNET_A.into()],
    }
}
