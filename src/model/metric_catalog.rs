//! Which CloudWatch metrics describe which object: the one list the rows, the charts, the
//! sources and (later) the triage rules agree on.

use super::metric::{MetricId, Stat};
use super::{Cluster, Instance, Service, Task};

pub const ECS: &str = "AWS/ECS";
pub const INSIGHTS: &str = "ECS/ContainerInsights";
pub const EC2: &str = "AWS/EC2";
pub const ALB: &str = "AWS/ApplicationELB";
pub const NLB: &str = "AWS/NetworkELB";
pub const NAT: &str = "AWS/NATGateway";

/// Instance families that run on CPU credits: when the balance reaches zero the host is held
/// to its baseline (a fraction of a core) without any other sign.
const BURSTABLE: [&str; 4] = ["t2.", "t3.", "t3a.", "t4g."];

fn ecs_cluster(cluster: &str, name: &str) -> MetricId {
    MetricId::new(ECS, name, &[("ClusterName", cluster)], Stat::Average)
}

pub fn cluster_cpu(c: &Cluster) -> MetricId {
    ecs_cluster(&c.name, "CPUUtilization")
}
pub fn cluster_memory(c: &Cluster) -> MetricId {
    ecs_cluster(&c.name, "MemoryUtilization")
}
pub fn cluster_cpu_reserved(c: &Cluster) -> MetricId {
    ecs_cluster(&c.name, "CPUReservation")
}
pub fn cluster_memory_reserved(c: &Cluster) -> MetricId {
    ecs_cluster(&c.name, "MemoryReservation")
}

pub fn cluster_row(c: &Cluster) -> Vec<MetricId> {
    vec![
        cluster_cpu(c),
        cluster_memory(c),
        cluster_cpu_reserved(c),
        cluster_memory_reserved(c),
    ]
}

/// The cluster name of a service, task or instance, from its cluster ARN.
pub fn cluster_of(cluster_arn: &str) -> &str {
    super::arn_tail(cluster_arn)
}

fn ecs_service(s: &Service, name: &str) -> MetricId {
    MetricId::new(
        ECS,
        name,
        &[
            ("ClusterName", cluster_of(&s.cluster_arn)),
            ("ServiceName", &s.name),
        ],
        Stat::Average,
    )
}

pub fn service_cpu(s: &Service) -> MetricId {
    ecs_service(s, "CPUUtilization")
}
pub fn service_memory(s: &Service) -> MetricId {
    ecs_service(s, "MemoryUtilization")
}

/// A load balancer's metric for one of the service's target groups. Needs the load balancer
/// (CloudWatch keys target-group metrics on both), so target groups not attached yet have none.
fn target_group_metric(tg_arn: &str, lb_arn: &str, name: &str, stat: Stat) -> Option<MetricId> {
    // Dimension values are the ARNs' resource parts: `targetgroup/web/0123…`, `app/edge/4567…`.
    let tg = super::arn::target_group_dimension(tg_arn)?;
    let lb = super::arn::load_balancer_dimension(lb_arn)?;
    let namespace = if lb.starts_with("net/") { NLB } else { ALB };
    if namespace == NLB && !matches!(name, "HealthyHostCount" | "UnHealthyHostCount") {
        return None;
    }
    Some(MetricId::new(
        namespace,
        name,
        &[("TargetGroup", tg), ("LoadBalancer", lb)],
        stat,
    ))
}

fn load_balancer_metrics(s: &Service, names: &[(&str, Stat)]) -> Vec<MetricId> {
    s.target_group_lbs
        .iter()
        .flat_map(|(tg, lb)| {
            names
                .iter()
                .filter_map(move |(name, stat)| target_group_metric(tg, lb, name, *stat))
        })
        .collect()
}

/// What a service row shows: CPU and memory, and its targets' health and errors.
pub fn service_row(s: &Service) -> Vec<MetricId> {
    let mut ids = vec![service_cpu(s), service_memory(s)];
    ids.extend(service_targets(s));
    ids
}

/// Healthy and unhealthy target counts and 5xx count, per target group.
pub fn service_targets(s: &Service) -> Vec<MetricId> {
    load_balancer_metrics(
        s,
        &[
            ("HealthyHostCount", Stat::Average),
            ("UnHealthyHostCount", Stat::Average),
            ("HTTPCode_Target_5XX_Count", Stat::Sum),
        ],
    )
}

/// Unhealthy target counts, per target group (of [`service_targets`]).
pub fn service_unhealthy_targets(s: &Service) -> Vec<MetricId> {
    load_balancer_metrics(s, &[("UnHealthyHostCount", Stat::Average)])
}

/// Everything the service chart draws.
pub fn service_chart(s: &Service) -> Vec<MetricId> {
    let mut ids = vec![service_cpu(s), service_memory(s)];
    ids.extend(load_balancer_metrics(
        s,
        &[
            ("RequestCount", Stat::Sum),
            ("HTTPCode_Target_5XX_Count", Stat::Sum),
            ("TargetResponseTime", Stat::Average),
            ("HealthyHostCount", Stat::Average),
            ("UnHealthyHostCount", Stat::Average),
        ],
    ));
    ids
}

/// The service's highest task memory share of its reservation (above 100 when usage runs past
/// a soft limit): what the memory rules read, where the row shows the average.
pub fn service_memory_max(s: &Service) -> MetricId {
    ecs_service(s, "MemoryUtilization").with_stat(Stat::Maximum)
}

/// One target group's load balancer metric, for the triage rules (`None` when the ARNs do not
/// parse, or for metrics a network load balancer does not publish).
pub fn target_group_requests(tg_arn: &str, lb_arn: &str) -> Option<MetricId> {
    target_group_metric(tg_arn, lb_arn, "RequestCount", Stat::Sum)
}
pub fn target_group_5xx(tg_arn: &str, lb_arn: &str) -> Option<MetricId> {
    target_group_metric(tg_arn, lb_arn, "HTTPCode_Target_5XX_Count", Stat::Sum)
}
pub fn target_group_response_time(tg_arn: &str, lb_arn: &str) -> Option<MetricId> {
    target_group_metric(tg_arn, lb_arn, "TargetResponseTime", Stat::Average)
}
/// The slow tail the latency rule reads: `TargetResponseTime` p95.
pub fn target_group_response_time_p95(tg_arn: &str, lb_arn: &str) -> Option<MetricId> {
    target_group_metric(tg_arn, lb_arn, "TargetResponseTime", Stat::P95)
}
pub fn target_group_connection_errors(tg_arn: &str, lb_arn: &str) -> Option<MetricId> {
    target_group_metric(tg_arn, lb_arn, "TargetConnectionErrorCount", Stat::Sum)
}
pub fn target_group_healthy(tg_arn: &str, lb_arn: &str) -> Option<MetricId> {
    target_group_metric(tg_arn, lb_arn, "HealthyHostCount", Stat::Average)
}
pub fn target_group_unhealthy(tg_arn: &str, lb_arn: &str) -> Option<MetricId> {
    target_group_metric(tg_arn, lb_arn, "UnHealthyHostCount", Stat::Average)
}

/// An application load balancer's own metric (errors the load balancer answers itself are
/// published per load balancer, not per target group). `None` for network load balancers.
fn load_balancer_metric(lb_arn: &str, name: &str) -> Option<MetricId> {
    let lb = lb_arn.split_once(":loadbalancer/").map(|(_, r)| r)?;
    lb.starts_with("app/")
        .then(|| MetricId::new(ALB, name, &[("LoadBalancer", lb)], Stat::Sum))
}
pub fn load_balancer_requests(lb_arn: &str) -> Option<MetricId> {
    load_balancer_metric(lb_arn, "RequestCount")
}
/// `HTTPCode_ELB_5XX_Count`, or one code of it (`502`, `503`, `504`).
pub fn load_balancer_5xx(lb_arn: &str, code: Option<u16>) -> Option<MetricId> {
    match code {
        Some(code) => load_balancer_metric(lb_arn, &format!("HTTPCode_ELB_{code}_Count")),
        None => load_balancer_metric(lb_arn, "HTTPCode_ELB_5XX_Count"),
    }
}

/// Per-task CPU (CPU units) and memory (MiB) from Container Insights with enhanced
/// observability; only clusters with it turned on publish them.
pub fn task_cpu(t: &Task) -> MetricId {
    task_metric(t, "CpuUtilized")
}
pub fn task_memory(t: &Task) -> MetricId {
    task_metric(t, "MemoryUtilized")
}

/// The dimension a task's own series name it by (its value: [`Task::id`]).
pub const TASK_ID: &str = "TaskId";

fn task_metric(t: &Task, name: &str) -> MetricId {
    MetricId::new(
        INSIGHTS,
        name,
        &[
            ("ClusterName", cluster_of(&t.cluster_arn)),
            ("TaskDefinitionFamily", &t.task_definition.family),
            (TASK_ID, t.id()),
        ],
        Stat::Average,
    )
}

/// Bytes a second received and sent by the task (Container Insights, enhanced observability).
pub fn task_network_rx(t: &Task) -> MetricId {
    task_metric(t, "NetworkRxBytes")
}
pub fn task_network_tx(t: &Task) -> MetricId {
    task_metric(t, "NetworkTxBytes")
}

pub fn task_row(t: &Task) -> Vec<MetricId> {
    vec![
        task_cpu(t),
        task_memory(t),
        task_network_rx(t),
        task_network_tx(t),
    ]
}

pub fn instance_cpu(i: &Instance) -> MetricId {
    MetricId::new(
        EC2,
        "CPUUtilization",
        &[("InstanceId", &i.ec2_instance_id)],
        Stat::Average,
    )
}

/// `None` for instance types that do not run on credits.
pub fn instance_credits(i: &Instance) -> Option<MetricId> {
    is_burstable(&i.instance_type).then(|| {
        MetricId::new(
            EC2,
            "CPUCreditBalance",
            &[("InstanceId", &i.ec2_instance_id)],
            Stat::Average,
        )
    })
}

/// Surplus credits an unlimited-mode instance spent beyond what it earned, now billed
/// (`None` for instance types that do not run on credits).
pub fn instance_surplus_charged(i: &Instance) -> Option<MetricId> {
    is_burstable(&i.instance_type).then(|| {
        MetricId::new(
            EC2,
            "CPUSurplusCreditsCharged",
            &[("InstanceId", &i.ec2_instance_id)],
            Stat::Sum,
        )
    })
}

pub fn is_burstable(instance_type: &str) -> bool {
    BURSTABLE.iter().any(|f| instance_type.starts_with(f))
}

/// 1 while the instance fails an EC2 status check (system or instance), else 0.
pub fn instance_status_check(i: &Instance) -> MetricId {
    MetricId::new(
        EC2,
        "StatusCheckFailed",
        &[("InstanceId", &i.ec2_instance_id)],
        Stat::Maximum,
    )
}

/// Bytes received and sent by the instance over each period, all interfaces (`Sum`; basic
/// monitoring publishes every 5 minutes, detailed every minute).
pub fn instance_network_in(i: &Instance) -> MetricId {
    instance_bytes(i, "NetworkIn")
}
pub fn instance_network_out(i: &Instance) -> MetricId {
    instance_bytes(i, "NetworkOut")
}

fn instance_bytes(i: &Instance, name: &str) -> MetricId {
    MetricId::new(EC2, name, &[("InstanceId", &i.ec2_instance_id)], Stat::Sum)
}

pub fn instance_row(i: &Instance) -> Vec<MetricId> {
    let mut ids = vec![instance_cpu(i)];
    ids.extend(instance_credits(i));
    ids.push(instance_network_in(i));
    ids.push(instance_network_out(i));
    ids
}

fn nat_metric(nat_id: &str, name: &str, stat: Stat) -> MetricId {
    MetricId::new(NAT, name, &[("NatGatewayId", nat_id)], stat)
}

/// Connections open through the gateway (the highest count in the period).
pub fn nat_active_connections(nat_id: &str) -> MetricId {
    nat_metric(nat_id, "ActiveConnectionCount", Stat::Maximum)
}
/// New connections tried through the gateway.
pub fn nat_connection_attempts(nat_id: &str) -> MetricId {
    nat_metric(nat_id, "ConnectionAttemptCount", Stat::Sum)
}
/// New connections that the destination answered.
pub fn nat_connections_established(nat_id: &str) -> MetricId {
    nat_metric(nat_id, "ConnectionEstablishedCount", Stat::Sum)
}
/// Connections the gateway could not give a source port: too many to one destination.
pub fn nat_port_allocation_errors(nat_id: &str) -> MetricId {
    nat_metric(nat_id, "ErrorPortAllocation", Stat::Sum)
}
pub fn nat_packets_dropped(nat_id: &str) -> MetricId {
    nat_metric(nat_id, "PacketsDropCount", Stat::Sum)
}
/// Packets the gateway received from the VPC: the scale drops are read against.
pub fn nat_packets_in(nat_id: &str) -> MetricId {
    nat_metric(nat_id, "PacketsInFromSource", Stat::Sum)
}

/// Everything the NAT rules read about one gateway.
pub fn nat_gateway(nat_id: &str) -> Vec<MetricId> {
    vec![
        nat_active_connections(nat_id),
        nat_connection_attempts(nat_id),
        nat_connections_established(nat_id),
        nat_port_allocation_errors(nat_id),
        nat_packets_dropped(nat_id),
        nat_packets_in(nat_id),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_group_dimensions_are_the_arn_resource_parts() {
        let id = target_group_metric(
            "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/web/73e2d6bc24d8a067",
            "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/edge/50dc6c495c0c9188",
            "HealthyHostCount",
            Stat::Average,
        )
        .unwrap();
        assert_eq!(id.namespace, ALB);
        assert_eq!(
            id.dimension("TargetGroup"),
            Some("targetgroup/web/73e2d6bc24d8a067")
        );
        assert_eq!(
            id.dimension("LoadBalancer"),
            Some("app/edge/50dc6c495c0c9188")
        );
    }

    #[test]
    fn network_load_balancers_have_only_host_counts() {
        let tg = "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/db/1";
        let lb = "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/net/inner/2";
        assert_eq!(
            target_group_metric(tg, lb, "HealthyHostCount", Stat::Average)
                .unwrap()
                .namespace,
            NLB
        );
        assert!(target_group_metric(tg, lb, "RequestCount", Stat::Sum).is_none());
    }

    #[test]
    fn load_balancer_errors_are_keyed_on_the_load_balancer_alone() {
        let alb = "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/edge/50dc6c495c0c9188";
        let nlb = "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/net/inner/2";
        let e504 = load_balancer_5xx(alb, Some(504)).unwrap();
        assert_eq!(e504.name, "HTTPCode_ELB_504_Count");
        assert_eq!(e504.stat, Stat::Sum);
        assert_eq!(
            e504.dimensions,
            vec![(
                "LoadBalancer".to_string(),
                "app/edge/50dc6c495c0c9188".to_string()
            )]
        );
        assert_eq!(
            load_balancer_5xx(alb, None).unwrap().name,
            "HTTPCode_ELB_5XX_Count"
        );
        assert!(load_balancer_requests(nlb).is_none());
        assert!(target_group_response_time("arn:…:targetgroup/db/1", nlb).is_none());
    }

    #[test]
    fn burstable_families_are_recognised() {
        assert!(is_burstable("t3.micro"));
        assert!(is_burstable("t4g.large"));
        assert!(!is_burstable("m5.large"));
        assert!(!is_burstable("t3"));
    }
}
