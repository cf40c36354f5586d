//! SDK shapes → ecsmon's model. The only place that knows both.

use aws_sdk_ecs::types as ecs;
use chrono::{DateTime, Utc};

use crate::model::{
    Cluster, Container, ContainerDefinition, ContainerHealthCheck, Deployment, Insights, Instance,
    PortMapping, Service, ServiceEvent, Task, TaskDefRef, TaskDefinition, Time, Ulimit,
};

pub fn time(t: Option<&aws_smithy_types::DateTime>) -> Option<Time> {
    let t = t?;
    DateTime::<Utc>::from_timestamp(t.secs(), t.subsec_nanos())
}

/// Every string AWS sends is untrusted (event messages, reasons, tags, names, and enum values,
/// which the SDK passes on as sent when it does not know them): stripped of control characters
/// and escape sequences here, once, before anything can draw it.
fn text(s: Option<&str>) -> String {
    crate::sanitize::clean(s.unwrap_or_default()).into_owned()
}

/// A task definition named by its ARN, cleaned like any text.
fn taskdef(arn: Option<&str>) -> TaskDefRef {
    TaskDefRef::from_arn(&text(arn))
}

fn tags(tags: &[ecs::Tag]) -> Vec<(String, String)> {
    tags.iter()
        .map(|t| (text(t.key()), text(t.value())))
        .collect()
}

fn number(s: Option<&str>) -> Option<u32> {
    s?.trim().parse().ok()
}

pub fn cluster(c: &ecs::Cluster) -> Cluster {
    let insights = c
        .settings()
        .iter()
        .find(|s| s.name().is_some_and(|n| n.as_str() == "containerInsights"))
        .and_then(|s| s.value())
        .map_or(Insights::Off, Insights::from_setting);
    Cluster {
        arn: text(c.cluster_arn()),
        name: text(c.cluster_name()),
        status: text(c.status()),
        active_services: c.active_services_count().max(0) as u32,
        running_tasks: c.running_tasks_count().max(0) as u32,
        pending_tasks: c.pending_tasks_count().max(0) as u32,
        instances: c.registered_container_instances_count().max(0) as u32,
        // ECS does not report reservation; it comes from CloudWatch (CPUReservation).
        cpu_reserved_pct: None,
        memory_reserved_pct: None,
        capacity_providers: c
            .capacity_providers()
            .iter()
            .map(|p| text(Some(p)))
            .collect(),
        container_insights: insights,
        tags: tags(c.tags()),
        fetched_at: None,
        context: None,
    }
}

pub fn service(s: &ecs::Service) -> Service {
    let launch_type = match s.launch_type() {
        Some(lt) => text(Some(lt.as_str())),
        None => s
            .capacity_provider_strategy()
            .first()
            .map(|p| text(Some(p.capacity_provider())))
            .unwrap_or_default(),
    };
    Service {
        arn: text(s.service_arn()),
        name: text(s.service_name()),
        cluster_arn: text(s.cluster_arn()),
        status: text(s.status()),
        desired: s.desired_count().max(0) as u32,
        running: s.running_count().max(0) as u32,
        pending: s.pending_count().max(0) as u32,
        launch_type,
        task_definition: taskdef(s.task_definition()),
        deployments: s.deployments().iter().map(deployment).collect(),
        events: s
            .events()
            .iter()
            .filter_map(|e| {
                Some(ServiceEvent {
                    id: text(e.id()),
                    at: time(e.created_at())?,
                    message: text(e.message()),
                })
            })
            .collect(),
        created_at: time(s.created_at()),
        enable_execute_command: s.enable_execute_command(),
        target_group_arns: s
            .load_balancers()
            .iter()
            .filter_map(|lb| lb.target_group_arn().map(|arn| text(Some(arn))))
            .collect(),
        // Filled in by the source from ELBv2 (DescribeTargetGroups), which ECS does not report.
        target_group_lbs: Vec::new(),
        lb_bindings: s
            .load_balancers()
            .iter()
            .filter_map(|lb| {
                Some(crate::model::LbBinding {
                    target_group_arn: text(Some(lb.target_group_arn()?)),
                    container_name: text(lb.container_name()),
                    container_port: lb.container_port().unwrap_or(0).max(0) as u32,
                })
            })
            .collect(),
        health_check_grace_secs: s
            .health_check_grace_period_seconds()
            .map(|g| g.max(0) as u32),
        deployment_config: s
            .deployment_configuration()
            .map(|c| {
                let breaker = c.deployment_circuit_breaker();
                crate::model::DeploymentConfig {
                    minimum_healthy_percent: c.minimum_healthy_percent().map(|p| p.max(0) as u32),
                    maximum_percent: c.maximum_percent().map(|p| p.max(0) as u32),
                    circuit_breaker: breaker.is_some_and(|b| b.enable()),
                    rollback: breaker.is_some_and(|b| b.rollback()),
                }
            })
            .unwrap_or_default(),
        placement_constraints: s
            .placement_constraints()
            .iter()
            .map(|c| {
                let kind = c.r#type().map(|t| t.as_str()).unwrap_or_default();
                match c.expression() {
                    Some(e) => text(Some(&format!("{kind}({e})"))),
                    None => text(Some(kind)),
                }
            })
            .collect(),
        placement_strategy: s
            .placement_strategy()
            .iter()
            .map(|p| {
                let kind = p.r#type().map(|t| t.as_str()).unwrap_or_default();
                text(Some(&format!("{kind}({})", p.field().unwrap_or_default())))
            })
            .collect(),
        subnets: s
            .network_configuration()
            .and_then(|n| n.awsvpc_configuration())
            .map(|a| texts(a.subnets()))
            .unwrap_or_default(),
        tags: tags(s.tags()),
        loading: false,
        described_at: None,
    }
}

fn deployment(d: &ecs::Deployment) -> Deployment {
    Deployment {
        id: text(d.id()),
        status: text(d.status()),
        task_definition: taskdef(d.task_definition()),
        desired: d.desired_count().max(0) as u32,
        running: d.running_count().max(0) as u32,
        pending: d.pending_count().max(0) as u32,
        failed: d.failed_tasks().max(0) as u32,
        rollout_state: d
            .rollout_state()
            .map(|r| text(Some(r.as_str())))
            .unwrap_or_default(),
        rollout_reason: text(d.rollout_state_reason()),
        created_at: time(d.created_at()),
        updated_at: time(d.updated_at()),
    }
}

pub fn task(t: &ecs::Task) -> Task {
    // awsvpc tasks carry their address on the ENI attachment; bridge-mode ones on the
    // containers' network bindings have none of their own.
    let eni_ip = t
        .attachments()
        .iter()
        .flat_map(|a| a.details())
        .find(|kv| kv.name() == Some("privateIPv4Address"))
        .and_then(|kv| kv.value());
    let container_ip = t
        .containers()
        .iter()
        .flat_map(|c| c.network_interfaces())
        .find_map(|n| n.private_ipv4_address());
    Task {
        arn: text(t.task_arn()).into(),
        loading: false,
        described_at: None,
        cluster_arn: text(t.cluster_arn()).into(),
        task_definition: taskdef(t.task_definition_arn()),
        last_status: text(t.last_status()).into(),
        desired_status: text(t.desired_status()).into(),
        health: t
            .health_status()
            .map(|h| text(Some(h.as_str())))
            .unwrap_or_default()
            .into(),
        group: text(t.group()).into(),
        launch_type: t
            .launch_type()
            .map(|l| text(Some(l.as_str())))
            .unwrap_or_default()
            .into(),
        availability_zone: text(t.availability_zone()).into(),
        private_ip: text(eni_ip.or(container_ip)).into(),
        container_instance_arn: t.container_instance_arn().map(|arn| text(Some(arn)).into()),
        ec2_instance_id: None,
        cpu: number(t.cpu()),
        memory: number(t.memory()),
        created_at: time(t.created_at()),
        started_at: time(t.started_at()),
        stopping_at: time(t.stopping_at()),
        stopped_at: time(t.stopped_at()),
        stop_code: t
            .stop_code()
            .map(|c| text(Some(c.as_str())))
            .unwrap_or_default()
            .into(),
        stopped_reason: text(t.stopped_reason()).into(),
        enable_execute_command: t.enable_execute_command(),
        containers: t.containers().iter().map(container).collect(),
        tags: t
            .tags()
            .iter()
            .map(|t| (text(t.key()).into(), text(t.value()).into()))
            .collect(),
    }
}

fn container(c: &ecs::Container) -> Container {
    Container {
        name: text(c.name()).into(),
        image: text(c.image()).into(),
        runtime_id: text(c.runtime_id()).into(),
        last_status: text(c.last_status()).into(),
        health: c
            .health_status()
            .map(|h| text(Some(h.as_str())))
            .unwrap_or_default()
            .into(),
        exit_code: c.exit_code(),
        reason: text(c.reason()).into(),
        cpu: number(c.cpu()),
        memory: number(c.memory()),
        memory_reservation: number(c.memory_reservation()),
        exec_agent: c
            .managed_agents()
            .iter()
            .find(|a| {
                a.name()
                    .is_some_and(|n| text(Some(n.as_str())) == "ExecuteCommandAgent")
            })
            .and_then(|a| a.last_status().map(|s| text(Some(s)).into())),
    }
}

pub fn task_definition(td: &ecs::TaskDefinition) -> TaskDefinition {
    TaskDefinition {
        reference: taskdef(td.task_definition_arn()),
        status: td
            .status()
            .map(|s| text(Some(s.as_str())))
            .unwrap_or_default(),
        registered_at: time(td.registered_at()),
        cpu: number(td.cpu()),
        memory: number(td.memory()),
        network_mode: td
            .network_mode()
            .map(|m| text(Some(m.as_str())))
            .unwrap_or_default(),
        requires_compatibilities: td
            .requires_compatibilities()
            .iter()
            .map(|c| text(Some(c.as_str())))
            .collect(),
        execution_role_arn: text(td.execution_role_arn()),
        task_role_arn: text(td.task_role_arn()),
        containers: td
            .container_definitions()
            .iter()
            .map(container_definition)
            .collect(),
    }
}

/// `(name, valueFrom)` of secrets: references, cleaned like any text.
fn secret_refs(secrets: &[ecs::Secret]) -> Vec<(String, String)> {
    let mut v: Vec<_> = secrets
        .iter()
        .map(|s| (text(Some(s.name())), text(Some(s.value_from()))))
        .collect();
    v.sort();
    v
}

fn texts(v: &[String]) -> Vec<String> {
    v.iter().map(|s| text(Some(s))).collect()
}

fn seconds(v: Option<i32>) -> Option<u32> {
    v.map(|n| n.max(0) as u32)
}

fn container_definition(c: &ecs::ContainerDefinition) -> ContainerDefinition {
    let log = c.log_configuration();
    let mut environment: Vec<(String, String)> = c
        .environment()
        .iter()
        .map(|kv| (text(kv.name()), text(kv.value())))
        .collect();
    environment.sort();
    ContainerDefinition {
        name: text(c.name()),
        image: text(c.image()),
        cpu: (c.cpu() > 0).then_some(c.cpu() as u32),
        memory: c.memory().map(|m| m.max(0) as u32),
        memory_reservation: c.memory_reservation().map(|m| m.max(0) as u32),
        essential: c.essential().unwrap_or(true),
        readonly_root_filesystem: c.readonly_root_filesystem().unwrap_or(false),
        log_driver: log
            .map(|l| text(Some(l.log_driver().as_str())))
            .unwrap_or_default(),
        log_options: log
            .and_then(|l| l.options())
            .map(|o| {
                let mut v: Vec<_> = o
                    .iter()
                    .map(|(k, v)| (text(Some(k)), text(Some(v))))
                    .collect();
                v.sort();
                v
            })
            .unwrap_or_default(),
        log_secret_options: log
            .map(|l| secret_refs(l.secret_options()))
            .unwrap_or_default(),
        environment,
        secrets: secret_refs(c.secrets()),
        entry_point: texts(c.entry_point()),
        command: texts(c.command()),
        port_mappings: c
            .port_mappings()
            .iter()
            .map(|p| PortMapping {
                container_port: p.container_port().unwrap_or(0).clamp(0, 65535) as u16,
                host_port: p.host_port().map(|h| h.clamp(0, 65535) as u16),
                protocol: p
                    .protocol()
                    .map(|p| text(Some(p.as_str())))
                    .unwrap_or_default(),
                name: text(p.name()),
                app_protocol: p
                    .app_protocol()
                    .map(|a| text(Some(a.as_str())))
                    .unwrap_or_default(),
            })
            .collect(),
        health_check: c.health_check().map(|h| ContainerHealthCheck {
            command: texts(h.command()),
            interval_secs: seconds(h.interval()),
            timeout_secs: seconds(h.timeout()),
            retries: seconds(h.retries()),
            start_period_secs: seconds(h.start_period()),
        }),
        ulimits: c
            .ulimits()
            .iter()
            .map(|u| Ulimit {
                name: text(Some(u.name().as_str())),
                soft: u.soft_limit().into(),
                hard: u.hard_limit().into(),
            })
            .collect(),
        init_process_enabled: c.linux_parameters().and_then(|l| l.init_process_enabled()),
        stop_timeout: seconds(c.stop_timeout()),
    }
}

/// Fills what DescribeTasks leaves out of a container (limits set only in the definition).
pub fn enrich(task: &mut Task, def: &TaskDefinition) {
    for container in &mut task.containers {
        if let Some(d) = def.containers.iter().find(|d| d.name == container.name) {
            container.cpu = container.cpu.or(d.cpu);
            container.memory = container.memory.or(d.memory);
            container.memory_reservation = container.memory_reservation.or(d.memory_reservation);
            if container.image.is_empty() {
                container.image = d.image.as_str().into();
            }
        }
    }
}

/// What EC2 adds to a container instance.
#[derive(Debug, Clone, Default)]
pub struct Ec2Facts {
    pub instance_type: String,
    pub availability_zone: String,
    pub launched_at: Option<Time>,
    pub image_id: String,
    pub subnet_id: String,
}

fn resource(resources: &[ecs::Resource], name: &str) -> u32 {
    resources
        .iter()
        .find(|r| r.name() == Some(name))
        .map_or(0, |r| r.integer_value().max(0) as u32)
}

fn attribute<'a>(ci: &'a ecs::ContainerInstance, name: &str) -> Option<&'a str> {
    ci.attributes()
        .iter()
        .find(|a| a.name() == name)
        .and_then(|a| a.value())
}

pub fn instance(
    ci: &ecs::ContainerInstance,
    cluster_arn: &str,
    ec2: Option<&Ec2Facts>,
) -> Instance {
    // EC2 knows best; the agent's own attributes stand in when EC2 did not answer.
    let instance_type = ec2
        .map(|e| e.instance_type.clone())
        .filter(|s| !s.is_empty())
        .or_else(|| attribute(ci, "ecs.instance-type").map(str::to_string))
        .unwrap_or_default();
    let availability_zone = ec2
        .map(|e| e.availability_zone.clone())
        .filter(|s| !s.is_empty())
        .or_else(|| attribute(ci, "ecs.availability-zone").map(str::to_string))
        .unwrap_or_default();
    let image_id = ec2
        .map(|e| e.image_id.clone())
        .filter(|s| !s.is_empty())
        .or_else(|| attribute(ci, "ecs.ami-id").map(str::to_string))
        .unwrap_or_default();
    Instance {
        arn: text(ci.container_instance_arn()),
        loading: false,
        described_at: None,
        cluster_arn: cluster_arn.to_string(),
        ec2_instance_id: text(ci.ec2_instance_id()),
        // From EC2 or the agent's attributes: AWS's text all the same.
        instance_type: text(Some(&instance_type)),
        availability_zone: text(Some(&availability_zone)),
        subnet_id: text(ec2.map(|e| e.subnet_id.as_str())),
        status: text(ci.status()),
        agent_connected: ci.agent_connected(),
        agent_version: text(ci.version_info().and_then(|v| v.agent_version())),
        running_tasks: ci.running_tasks_count().max(0) as u32,
        pending_tasks: ci.pending_tasks_count().max(0) as u32,
        cpu_registered: resource(ci.registered_resources(), "CPU"),
        cpu_remaining: resource(ci.remaining_resources(), "CPU"),
        memory_registered: resource(ci.registered_resources(), "MEMORY"),
        memory_remaining: resource(ci.remaining_resources(), "MEMORY"),
        launched_at: ec2.and_then(|e| e.launched_at),
        registered_at: time(ci.registered_at()),
        // The source fills the credit mode, the AMI's age and the recommended AMI.
        credit_mode: Default::default(),
        image_id: text(Some(&image_id)),
        image_created_at: None,
        recommended: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_aws_cannot_drive_the_terminal() {
        let hostile = "(service cart) \x1b]0;pwned\x07has \x1b[2Jreached\x1b]52;c;ZXZpbA==\x07 a \
                       steady state.\r\n\u{9b}6n";
        let svc = ecs::Service::builder()
            .service_name("cart\x1b[31m")
            .events(
                ecs::ServiceEvent::builder()
                    .id("1")
                    .created_at(aws_smithy_types::DateTime::from_secs(0))
                    .message(hostile)
                    .build(),
            )
            .tags(
                ecs::Tag::builder()
                    .key("team\x07")
                    .value("\u{202e}yrtne")
                    .build(),
            )
            .build();
        let s = service(&svc);
        let message = &s.events[0].message;
        assert_eq!(message, "(service cart) has reached a steady state. ");
        assert_eq!(s.name, "cart");
        assert_eq!(s.tags, vec![("team^G".to_string(), "yrtne".to_string())]);
        for text in [message, &s.name, &s.tags[0].0, &s.tags[0].1] {
            assert!(!text.chars().any(|c| c.is_control()), "{text:?}");
        }
    }
}
