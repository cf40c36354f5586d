//! Seeding a fleet into moto, through the AWS-like front with the real SDK clients (so seeding
//! itself keeps to AWS's limits): a cluster, EC2 instances in two availability zones registered as
//! container instances, one task definition, services, and their tasks.
//!
//! moto's `CreateService` starts no tasks, so each service's tasks are started with `RunTask`
//! (`group = "service:<name>"`, `startedBy` = the service's deployment id, at most 10 per call),
//! which is how they look on AWS. moto places tasks by filling the first container instance that
//! has room, then the next; the task size is chosen so that the fleet's tasks fill the instances
//! evenly (see `task_size`).

use std::collections::HashMap;

use aws_sdk_ec2::types::{Filter, InstanceType, ResourceType, Tag, TagSpecification};
use aws_sdk_ecs::types::{
    Compatibility, ContainerDefinition, LaunchType, LogConfiguration, LogDriver, NetworkMode,
    PortMapping, Resource, TransportProtocol,
};
use futures::StreamExt;

/// An image moto knows in every region.
pub const AMI: &str = "ami-12c6146b";
/// The instance type of seeded instances.
pub const INSTANCE_TYPE: &str = "m5.xlarge";
/// What moto registers for every container instance, whatever `totalResources` says: 4096 CPU
/// units and 7482 MiB of memory (`registeredResources`, and `remainingResources` minus the tasks).
pub const MOTO_INSTANCE_CPU: i32 = 4096;
pub const MOTO_INSTANCE_MEMORY: i32 = 7482;

/// Requests in flight at once while seeding services.
const PARALLEL: usize = 8;
/// AWS's most tasks per `RunTask`.
const RUN_TASK_MAX: usize = 10;
/// Instances per `RunInstances` call.
const RUN_INSTANCES_MAX: usize = 50;

/// What to seed: `services` services of `tasks_per_service` running tasks each, on `instances`
/// container instances, in a new cluster.
#[derive(Debug, Clone)]
pub struct FleetSpec {
    pub cluster: String,
    pub services: usize,
    pub tasks_per_service: usize,
    pub instances: usize,
}

impl FleetSpec {
    pub fn new(cluster: &str, services: usize, tasks_per_service: usize, instances: usize) -> Self {
        FleetSpec {
            cluster: cluster.to_owned(),
            services,
            tasks_per_service,
            instances,
        }
    }
}

/// What was seeded. Services are named `service_name(i)` (`svc-000`, `svc-001`...), in order.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub cluster: String,
    pub cluster_arn: String,
    pub services: Vec<String>,
    pub task_arns_by_service: HashMap<String, Vec<String>>,
    /// In registration order, which alternates between the two availability zones.
    pub container_instance_arns: Vec<String>,
    /// `ec2_instance_ids[i]` backs `container_instance_arns[i]`.
    pub ec2_instance_ids: Vec<String>,
    pub task_definition_arn: String,
}

impl Seeded {
    /// Every task of every service.
    pub fn all_task_arns(&self) -> Vec<String> {
        self.services
            .iter()
            .flat_map(|s| self.task_arns_by_service[s].iter().cloned())
            .collect()
    }
}

/// The name of the `i`th seeded service.
pub fn service_name(i: usize) -> String {
    format!("svc-{i:03}")
}

/// The task definition's family for a cluster: `<cluster>-app`; its logs go to `/ecs/<family>`.
pub fn family(cluster: &str) -> String {
    format!("{cluster}-app")
}

/// Seeds `spec` and returns what it made. Panics (with the reason) if anything fails, including
/// moto not placing every task.
pub async fn seed(cfg: &aws_config::SdkConfig, spec: &FleetSpec) -> Seeded {
    let ecs = aws_sdk_ecs::Client::new(cfg);
    let ec2 = aws_sdk_ec2::Client::new(cfg);
    let region = cfg.region().map(|r| r.to_string()).unwrap_or_default();

    let cluster_arn = ecs
        .create_cluster()
        .cluster_name(&spec.cluster)
        .send()
        .await
        .expect("CreateCluster")
        .cluster
        .and_then(|c| c.cluster_arn)
        .expect("cluster ARN");
    let instances = launch_instances(&ec2, spec).await;
    let container_instance_arns = register_instances(&ecs, spec, &region, &instances).await;
    let task_definition_arn = register_task_definition(&ecs, spec, &region).await;

    let started: Vec<(String, Vec<String>)> = futures::stream::iter(0..spec.services)
        .map(|i| start_service(&ecs, spec, &task_definition_arn, service_name(i)))
        .buffered(PARALLEL)
        .collect()
        .await;

    Seeded {
        cluster: spec.cluster.clone(),
        cluster_arn,
        services: started.iter().map(|(name, _)| name.clone()).collect(),
        task_arns_by_service: started.into_iter().collect(),
        container_instance_arns,
        ec2_instance_ids: instances.into_iter().map(|i| i.id).collect(),
        task_definition_arn,
    }
}

/// A launched EC2 instance, as the container instance registration needs it.
struct Instance {
    id: String,
    zone: String,
    private_ip: String,
}

/// Launches the instances, half in each of two availability zones, and returns them alternating
/// between the zones.
async fn launch_instances(ec2: &aws_sdk_ec2::Client, spec: &FleetSpec) -> Vec<Instance> {
    if spec.instances == 0 {
        return Vec::new();
    }
    let subnets = two_subnets(ec2).await;
    let mut by_zone: Vec<Vec<Instance>> = Vec::new();
    for (z, subnet) in subnets.iter().enumerate() {
        // Zone z gets instances z, z + zones, z + 2 * zones...
        let count = (spec.instances + subnets.len() - 1 - z) / subnets.len();
        let mut launched = Vec::with_capacity(count);
        while launched.len() < count {
            let n = (count - launched.len()).min(RUN_INSTANCES_MAX);
            launched.extend(run_instances(ec2, spec, subnet, n, launched.len()).await);
        }
        by_zone.push(launched);
    }
    let mut iters: Vec<_> = by_zone.into_iter().map(Vec::into_iter).collect();
    let mut out = Vec::with_capacity(spec.instances);
    while out.len() < spec.instances {
        for it in &mut iters {
            out.extend(it.next());
        }
    }
    out
}

/// The default subnets of the first two availability zones, in zone order.
async fn two_subnets(ec2: &aws_sdk_ec2::Client) -> Vec<String> {
    let out = ec2
        .describe_subnets()
        .filters(
            Filter::builder()
                .name("default-for-az")
                .values("true")
                .build(),
        )
        .send()
        .await
        .expect("DescribeSubnets");
    let mut subnets: Vec<(String, String)> = out
        .subnets()
        .iter()
        .filter_map(|s| Some((s.availability_zone()?.to_owned(), s.subnet_id()?.to_owned())))
        .collect();
    subnets.sort();
    assert!(!subnets.is_empty(), "moto has no default subnets");
    subnets.into_iter().take(2).map(|(_, id)| id).collect()
}

async fn run_instances(
    ec2: &aws_sdk_ec2::Client,
    spec: &FleetSpec,
    subnet: &str,
    count: usize,
    first: usize,
) -> Vec<Instance> {
    let name = format!("{}-ecs", spec.cluster);
    let out = ec2
        .run_instances()
        .image_id(AMI)
        .instance_type(InstanceType::from(INSTANCE_TYPE))
        .subnet_id(subnet)
        .min_count(count as i32)
        .max_count(count as i32)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Instance)
                .tags(Tag::builder().key("Name").value(&name).build())
                .tags(
                    Tag::builder()
                        .key("ecsmon:cluster")
                        .value(&spec.cluster)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("RunInstances");
    let instances: Vec<Instance> = out
        .instances()
        .iter()
        .map(|i| Instance {
            id: i.instance_id().expect("instance id").to_owned(),
            zone: i
                .placement()
                .and_then(|p| p.availability_zone())
                .unwrap_or_default()
                .to_owned(),
            private_ip: i.private_ip_address().unwrap_or_default().to_owned(),
        })
        .collect();
    assert_eq!(
        instances.len(),
        count,
        "RunInstances started {} of {count} instances (from #{first})",
        instances.len()
    );
    instances
}

/// Registers each instance as a container instance of the cluster, in order; returns the ARNs.
async fn register_instances(
    ecs: &aws_sdk_ecs::Client,
    spec: &FleetSpec,
    region: &str,
    instances: &[Instance],
) -> Vec<String> {
    let mut arns = Vec::with_capacity(instances.len());
    for instance in instances {
        let document = serde_json::json!({
            "instanceId": instance.id,
            "availabilityZone": instance.zone,
            "region": region,
            "instanceType": INSTANCE_TYPE,
            "imageId": AMI,
            "privateIp": instance.private_ip,
            "accountId": "123456789012",
        });
        let out = ecs
            .register_container_instance()
            .cluster(&spec.cluster)
            .instance_identity_document(document.to_string())
            .total_resources(integer_resource("CPU", MOTO_INSTANCE_CPU))
            .total_resources(integer_resource("MEMORY", MOTO_INSTANCE_MEMORY))
            .send()
            .await
            .expect("RegisterContainerInstance");
        arns.push(
            out.container_instance
                .and_then(|c| c.container_instance_arn)
                .expect("container instance ARN"),
        );
    }
    arns
}

fn integer_resource(name: &str, value: i32) -> Resource {
    Resource::builder()
        .name(name)
        .r#type("INTEGER")
        .integer_value(value)
        .build()
}

/// CPU units and MiB for each task, so that moto's fill-the-first-instance placement spreads the
/// fleet evenly: an instance holds exactly as many tasks as each must take (rounded up), capped at
/// 1 vCPU / 2 GiB a task (then some instances stay empty, as with few tasks on AWS's binpack).
pub fn task_size(spec: &FleetSpec) -> (i32, i32) {
    let tasks = spec.services * spec.tasks_per_service;
    if tasks == 0 {
        return (256, 512);
    }
    assert!(
        spec.instances > 0,
        "{tasks} tasks need container instances (FleetSpec::instances is 0)"
    );
    let per_instance = tasks.div_ceil(spec.instances) as i32;
    let cpu = (MOTO_INSTANCE_CPU / per_instance).min(1024);
    let memory = (MOTO_INSTANCE_MEMORY / per_instance).min(2048);
    assert!(
        cpu >= 2 && memory >= 6,
        "{per_instance} tasks per instance cannot fit: add instances"
    );
    (cpu, memory)
}

async fn register_task_definition(
    ecs: &aws_sdk_ecs::Client,
    spec: &FleetSpec,
    region: &str,
) -> String {
    let family = family(&spec.cluster);
    let (cpu, memory) = task_size(spec);
    let logs = LogConfiguration::builder()
        .log_driver(LogDriver::Awslogs)
        .options("awslogs-group", format!("/ecs/{family}"))
        .options("awslogs-region", region)
        .options("awslogs-stream-prefix", "ecs")
        .build()
        .expect("log configuration");
    let container = ContainerDefinition::builder()
        .name("app")
        .image("public.ecr.aws/nginx/nginx:1.27")
        .essential(true)
        .cpu(cpu)
        .memory(memory)
        // No hostPort: moto reserves host ports per instance, which would cap tasks at one each.
        .port_mappings(
            PortMapping::builder()
                .container_port(80)
                .protocol(TransportProtocol::Tcp)
                .build(),
        )
        .log_configuration(logs)
        .build();
    ecs.register_task_definition()
        .family(&family)
        .network_mode(NetworkMode::Bridge)
        .requires_compatibilities(Compatibility::Ec2)
        .cpu(cpu.to_string())
        .memory(memory.to_string())
        .container_definitions(container)
        .send()
        .await
        .expect("RegisterTaskDefinition")
        .task_definition
        .and_then(|t| t.task_definition_arn)
        .expect("task definition ARN")
}

/// Creates the service and runs its tasks; returns its name and task ARNs.
async fn start_service(
    ecs: &aws_sdk_ecs::Client,
    spec: &FleetSpec,
    task_definition: &str,
    name: String,
) -> (String, Vec<String>) {
    let service = ecs
        .create_service()
        .cluster(&spec.cluster)
        .service_name(&name)
        .task_definition(task_definition)
        .desired_count(spec.tasks_per_service as i32)
        .launch_type(LaunchType::Ec2)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateService {name}: {e:?}"))
        .service
        .expect("service");
    // On AWS the service scheduler starts tasks with startedBy = the deployment's id.
    let started_by = service
        .deployments()
        .first()
        .and_then(|d| d.id())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("ecs-svc/{name}"));
    let group = format!("service:{name}");
    let mut arns = Vec::with_capacity(spec.tasks_per_service);
    while arns.len() < spec.tasks_per_service {
        let count = (spec.tasks_per_service - arns.len()).min(RUN_TASK_MAX);
        let out = ecs
            .run_task()
            .cluster(&spec.cluster)
            .task_definition(task_definition)
            .launch_type(LaunchType::Ec2)
            .count(count as i32)
            .group(&group)
            .started_by(&started_by)
            .send()
            .await
            .unwrap_or_else(|e| panic!("RunTask for {name}: {e:?}"));
        assert!(
            out.failures().is_empty() && out.tasks().len() == count,
            "moto placed {} of {count} tasks of {name} ({:?}): the instances are full",
            out.tasks().len(),
            out.failures()
        );
        arns.extend(
            out.tasks()
                .iter()
                .filter_map(|t| t.task_arn().map(str::to_owned)),
        );
    }
    (name, arns)
}

/// A cluster holding one service (scaled to zero) whose task definition gives the JVM a heap of
/// nearly the container's hard limit (`-Xmx500m` in 512 MiB): what `taskdef-memory-limit-risk`
/// reports, found by the engine from the service and its task definition alone.
pub async fn seed_heap_near_limit(cfg: &aws_config::SdkConfig, cluster: &str, service: &str) {
    use aws_sdk_ecs::types::KeyValuePair;
    let ecs = aws_sdk_ecs::Client::new(cfg);
    ecs.create_cluster()
        .cluster_name(cluster)
        .send()
        .await
        .expect("cluster");
    let def = ecs
        .register_task_definition()
        .family(service)
        .requires_compatibilities(Compatibility::Ec2)
        .container_definitions(
            ContainerDefinition::builder()
                .name("app")
                .image(format!(
                    "123456789012.dkr.ecr.us-east-1.amazonaws.com/{service}:1"
                ))
                .memory(512)
                .environment(
                    KeyValuePair::builder()
                        .name("JAVA_OPTS")
                        .value("-Xmx500m")
                        .build(),
                )
                .essential(true)
                .build(),
        )
        .send()
        .await
        .expect("task definition");
    let def_arn = def
        .task_definition()
        .and_then(|d| d.task_definition_arn())
        .expect("arn")
        .to_string();
    ecs.create_service()
        .cluster(cluster)
        .service_name(service)
        .task_definition(&def_arn)
        .desired_count(0)
        .launch_type(LaunchType::Ec2)
        .send()
        .await
        .expect("service");
}

/// `cluster` (created, or found if it exists) and the task definition a big cluster's services
/// and tasks run.
async fn big_cluster(
    cfg: &aws_config::SdkConfig,
    cluster: &str,
    services: usize,
) -> (aws_sdk_ecs::Client, String) {
    let spec = FleetSpec::new(cluster, services, 0, 0);
    let ecs = aws_sdk_ecs::Client::new(cfg);
    let region = cfg.region().map(|r| r.to_string()).unwrap_or_default();
    ecs.create_cluster()
        .cluster_name(cluster)
        .send()
        .await
        .expect("CreateCluster");
    let task_definition = register_task_definition(&ecs, &spec, &region).await;
    (ecs, task_definition)
}

/// A cluster of `services` services with no tasks and no instances (the rows of a very big
/// cluster), created `PARALLEL` at a time. Returns their names.
pub async fn seed_services(
    cfg: &aws_config::SdkConfig,
    cluster: &str,
    services: usize,
) -> Vec<String> {
    let (ecs, task_definition) = big_cluster(cfg, cluster, services).await;
    futures::stream::iter(0..services)
        .map(|i| {
            let (ecs, task_definition) = (&ecs, &task_definition);
            async move {
                let name = service_name(i);
                ecs.create_service()
                    .cluster(cluster)
                    .service_name(&name)
                    .task_definition(task_definition)
                    .desired_count(0)
                    .launch_type(LaunchType::Fargate)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("CreateService {name}: {e:?}"));
                name
            }
        })
        .buffered(PARALLEL)
        .collect()
        .await
}

/// `tasks` running tasks in `cluster` (created if new), spread evenly over the groups of
/// `services` services (`service:svc-000`…; the services themselves are `seed_services`'), started
/// inside moto at once. Returns their ARNs.
pub async fn seed_tasks(
    cfg: &aws_config::SdkConfig,
    moto: &super::Moto,
    cluster: &str,
    services: usize,
    tasks: usize,
) -> Vec<String> {
    let (_, task_definition) = big_cluster(cfg, cluster, services).await;
    let groups: Vec<String> = (0..services.max(1))
        .map(|i| format!("service:{}", service_name(i)))
        .collect();
    let arns = moto
        .run_tasks(cluster, &task_definition, tasks, &groups)
        .await;
    assert_eq!(arns.len(), tasks, "every task started");
    arns
}
