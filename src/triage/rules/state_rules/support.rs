//! Helpers the state rules share: windows, durations written the way operators read them,
//! task sizes and the instances a task could be placed on.

use chrono::TimeDelta;

use crate::model::LogSample;
use crate::model::{Instance, Service, Subject, Task, TaskDefinition, Time};
use crate::triage::Input;

/// How long a one-off fact (a stopped task, a service event) keeps its finding active. ECS
/// forgets stopped tasks after about an hour; half of that keeps the finding visible while it
/// is news without leaving it open for the rest of the day.
pub const RECENT: TimeDelta = TimeDelta::minutes(30);

/// When a stopped task stopped (`stoppingAt` when ECS has not filled `stoppedAt` yet).
/// ECS says the service recovered after `at`: every desired task runs and a "has reached a
/// steady state" event came later. Findings about failures before that moment close then
/// (the timeline keeps them).
pub fn recovered_after(s: &Service, at: Time) -> bool {
    s.desired > 0
        && s.running >= s.desired
        && s.events
            .iter()
            .any(|e| e.at > at && e.message.contains("has reached a steady state"))
}

pub fn stop_time(t: &Task) -> Option<Time> {
    t.stopped_at.or(t.stopping_at)
}

/// How long a stopped task lived, when it ever started.
pub fn lifetime(t: &Task) -> Option<TimeDelta> {
    Some(stop_time(t)? - t.started_at?)
}

/// Stopped tasks that stopped at or after `since`, any service.
pub fn stopped_since<'a>(input: &Input<'a>, since: Time) -> impl Iterator<Item = &'a Task> + 'a {
    input
        .stopped
        .clone()
        .into_iter()
        .filter(move |t| stop_time(t).is_some_and(|at| at >= since))
}

/// Stopped tasks of the same service (or, for standalone tasks, the same task definition
/// family) as `t`, stopped at or after `since`.
pub fn siblings_stopped_since<'a>(input: &Input<'a>, t: &Task, since: Time) -> Vec<&'a Task> {
    let (cluster, group, family) = (
        t.cluster_arn.clone(),
        t.group.clone(),
        t.task_definition.family.clone(),
    );
    stopped_since(input, since)
        .filter(|s| s.cluster_arn == cluster)
        .filter(|s| {
            if group.starts_with("service:") {
                s.group == group
            } else {
                s.task_definition.family == family
            }
        })
        .collect()
}

/// `45s`, `12m`, `12m05s`, `3h05m`, `2d04h`.
pub fn duration(d: TimeDelta) -> String {
    let secs = d.num_seconds().max(0);
    let (days, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match secs {
        0..60 => format!("{s}s"),
        60..3600 if s == 0 => format!("{m}m"),
        60..3600 => format!("{m}m{s:02}s"),
        3600..86_400 => format!("{h}h{m:02}m"),
        _ => format!("{days}d{h:02}h"),
    }
}

/// A time of day in UTC, as the console prints event times.
pub fn clock(t: Time) -> String {
    t.format("%H:%M:%S").to_string()
}

pub fn median(mut values: Vec<i64>) -> Option<i64> {
    values.sort_unstable();
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2),
    }
}

/// The first `max` characters of one line of text, with `…` when cut.
pub fn short(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    if line.chars().count() <= max {
        line.to_string()
    } else {
        let cut: String = line.chars().take(max).collect();
        format!("{}…", cut.trim_end())
    }
}

/// `1 task`, `3 tasks`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The service name for messages: `web`, or `standalone` for a task without one.
pub fn service_label(t: &Task) -> &str {
    t.service_name().unwrap_or("standalone")
}

/// The task definition the service is rolling towards (its PRIMARY deployment's), if cached.
pub fn primary_task_definition<'a>(input: &Input<'a>, s: &Service) -> Option<&'a TaskDefinition> {
    let arn = s
        .primary_deployment()
        .map(|d| d.task_definition.arn.as_str())
        .filter(|arn| !arn.is_empty())
        .unwrap_or(&s.task_definition.arn);
    input.task_definition(arn)
}

/// What one task of this definition reserves: CPU units and MiB (task-level size when set,
/// otherwise the containers' sum; a container's soft limit counts when it has no hard one).
pub fn task_size(td: &TaskDefinition) -> (Option<u32>, Option<u32>) {
    let sum = |f: fn(&crate::model::ContainerDefinition) -> Option<u32>| {
        let values: Vec<u32> = td.containers.iter().filter_map(f).collect();
        (!values.is_empty()).then(|| values.iter().sum())
    };
    let cpu = td.cpu.or_else(|| sum(|c| c.cpu));
    let memory = td
        .memory
        .or_else(|| sum(|c| c.memory.or(c.memory_reservation)));
    (cpu, memory)
}

/// Fargate services have no container instances to judge.
pub fn is_fargate(s: &Service) -> bool {
    s.launch_type.starts_with("FARGATE")
}

/// Instances ECS can place tasks on: ACTIVE with the agent connected.
pub fn usable(i: &Instance) -> bool {
    i.status == "ACTIVE" && i.agent_connected
}

pub fn usable_instances<'a>(input: &Input<'a>, cluster: &str) -> Vec<&'a Instance> {
    input.instances_of(cluster).filter(|i| usable(i)).collect()
}

/// Container instances ECS still counts in its cluster (ACTIVE or DRAINING).
pub fn in_cluster(i: &Instance) -> bool {
    matches!(i.status.as_str(), "ACTIVE" | "DRAINING")
}

/// The cluster's instances on an ECS-optimized AMI whose recommendation was read, grouped by
/// (cluster, the recommendation's SSM parameter), with the cluster's instance count: what the
/// AMI and agent rules compare. Hosts on other AMIs have no recommendation and are left out.
pub fn by_recommendation<'a>(
    input: &Input<'a>,
) -> std::collections::BTreeMap<(String, String), (Vec<&'a Instance>, usize)> {
    let mut totals: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for i in input.instances.iter().filter(|i| in_cluster(i)) {
        *totals
            .entry(Input::cluster_name(&i.cluster_arn))
            .or_default() += 1;
    }
    let mut groups: std::collections::BTreeMap<(String, String), (Vec<&Instance>, usize)> =
        Default::default();
    for &i in input.instances.iter().filter(|i| in_cluster(i)) {
        let Some(r) = &i.recommended else { continue };
        let cluster = Input::cluster_name(&i.cluster_arn);
        groups
            .entry((cluster.to_string(), r.parameter.clone()))
            .or_insert_with(|| (Vec::new(), totals[cluster]))
            .0
            .push(i);
    }
    groups
}

/// The EC2 id when known, otherwise the container instance id.
pub fn instance_label(i: &Instance) -> &str {
    if i.ec2_instance_id.is_empty() {
        i.id()
    } else {
        &i.ec2_instance_id
    }
}

pub fn cluster_named(name: &str) -> Subject {
    Subject::Cluster {
        cluster: name.to_string(),
    }
}

/// The container a log line came from.
pub fn log_subject(l: &LogSample) -> Subject {
    Subject::Container {
        cluster: l.cluster.clone(),
        service: l.service.clone(),
        task_arn: l.task_arn.clone(),
        container: l.container.clone(),
    }
}

/// Service events newer than `since` whose text matches.
pub fn events_since<'a>(
    s: &'a Service,
    since: Time,
    matches: impl Fn(&str) -> bool + 'a,
) -> impl Iterator<Item = &'a crate::model::ServiceEvent> + 'a {
    s.events
        .iter()
        .filter(move |e| e.at >= since && matches(&e.message))
}

#[cfg(test)]
pub mod fixtures {
    //! Small builders for rule tests: one cluster `prod`, times relative to a fixed now.

    use chrono::{TimeDelta, TimeZone, Utc};

    use crate::model::LogSample;
    use crate::model::{
        ContainerDefinition, Deployment, Instance, Service, ServiceEvent, Task, TaskDefRef,
        TaskDefinition, Time,
    };
    use crate::triage::Facts;

    pub const CLUSTER: &str = "arn:aws:ecs:eu-west-1:123456789012:cluster/prod";

    pub fn now() -> Time {
        Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap()
    }

    pub fn mins_ago(m: i64) -> Time {
        now() - TimeDelta::minutes(m)
    }

    pub fn secs_ago(s: i64) -> Time {
        now() - TimeDelta::seconds(s)
    }

    pub fn facts() -> Facts {
        Facts::at(now())
    }

    pub fn td_ref(family: &str, revision: u32) -> TaskDefRef {
        TaskDefRef::from_arn(&format!(
            "arn:aws:ecs:eu-west-1:123456789012:task-definition/{family}:{revision}"
        ))
    }

    pub fn deployment(id: &str, status: &str, td: TaskDefRef) -> Deployment {
        Deployment {
            id: id.into(),
            status: status.into(),
            task_definition: td,
            ..Deployment::default()
        }
    }

    /// `web` on EC2, 2/2 running, PRIMARY deployment of `web:17`.
    pub fn service(name: &str) -> Service {
        let td = td_ref(name, 17);
        Service {
            arn: format!("arn:aws:ecs:eu-west-1:123456789012:service/prod/{name}"),
            name: name.into(),
            cluster_arn: CLUSTER.into(),
            status: "ACTIVE".into(),
            desired: 2,
            running: 2,
            launch_type: "EC2".into(),
            task_definition: td.clone(),
            deployments: vec![Deployment {
                desired: 2,
                running: 2,
                rollout_state: "COMPLETED".into(),
                created_at: Some(mins_ago(600)),
                ..deployment("ecs-svc/1", "PRIMARY", td)
            }],
            ..Service::default()
        }
    }

    pub fn event(at: Time, message: &str) -> ServiceEvent {
        ServiceEvent {
            id: format!("ev-{}", at.timestamp()),
            at,
            message: message.into(),
        }
    }

    pub fn task_arn(id: &str) -> String {
        format!("arn:aws:ecs:eu-west-1:123456789012:task/prod/{id}")
    }

    /// A RUNNING task of `service` (revision 17), started 20 min ago, one container `app`.
    pub fn running(service: &str, id: &str) -> Task {
        Task {
            arn: task_arn(id).into(),
            cluster_arn: CLUSTER.into(),
            task_definition: td_ref(service, 17),
            last_status: "RUNNING".into(),
            desired_status: "RUNNING".into(),
            group: format!("service:{service}").into(),
            launch_type: "EC2".into(),
            availability_zone: "eu-west-1a".into(),
            container_instance_arn: Some(instance_arn("i-1").into()),
            created_at: Some(mins_ago(21)),
            started_at: Some(mins_ago(20)),
            containers: vec![crate::model::Container {
                name: "app".into(),
                image: format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/{service}:1.0").into(),
                last_status: "RUNNING".into(),
                memory: Some(1024),
                ..Default::default()
            }],
            ..Task::default()
        }
    }

    /// A task of `service` that started `lived` seconds before it stopped at `at`, with the
    /// `app` container's exit code set.
    pub fn stopped(
        service: &str,
        id: &str,
        at: Time,
        lived: i64,
        stop_code: &str,
        exit: Option<i32>,
    ) -> Task {
        let mut t = running(service, id);
        t.last_status = "STOPPED".into();
        t.desired_status = "STOPPED".into();
        t.started_at = Some(at - TimeDelta::seconds(lived));
        t.created_at = Some(at - TimeDelta::seconds(lived + 10));
        t.stopping_at = Some(at - TimeDelta::seconds(1));
        t.stopped_at = Some(at);
        t.stop_code = stop_code.into();
        t.stopped_reason = match stop_code {
            "EssentialContainerExited" => "Essential container in task exited".into(),
            "ServiceSchedulerInitiated" => {
                "Scaling activity initiated by (deployment ecs-svc/1)".into()
            }
            _ => String::new().into(),
        };
        t.containers[0].last_status = "STOPPED".into();
        t.containers[0].exit_code = exit;
        t
    }

    pub fn instance_arn(id: &str) -> String {
        format!("arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/{id}-arn")
    }

    /// An ACTIVE, connected m5.large (2048 CPU units, 7680 MiB), half reserved.
    pub fn instance(id: &str, az: &str) -> Instance {
        Instance {
            arn: instance_arn(id),
            loading: false,
            described_at: None,
            cluster_arn: CLUSTER.into(),
            ec2_instance_id: id.into(),
            instance_type: "m5.large".into(),
            availability_zone: az.into(),
            subnet_id: format!("subnet-{az}"),
            status: "ACTIVE".into(),
            agent_connected: true,
            agent_version: "1.89.0".into(),
            running_tasks: 2,
            pending_tasks: 0,
            cpu_registered: 2048,
            cpu_remaining: 1024,
            memory_registered: 7680,
            memory_remaining: 3840,
            launched_at: Some(mins_ago(6000)),
            registered_at: Some(mins_ago(5990)),
            credit_mode: Default::default(),
            image_id: String::new(),
            image_created_at: None,
            recommended: None,
        }
    }

    /// `id` on the ECS-optimized AL2023 AMI `image` (created `age_days` ago), with agent
    /// `agent`; AWS recommends `ami-0current` with agent 1.89.0.
    pub fn on_ami(id: &str, image: &str, age_days: i64, agent: &str) -> Instance {
        Instance {
            agent_version: agent.into(),
            image_id: image.into(),
            image_created_at: Some(now() - TimeDelta::days(age_days)),
            recommended: Some(crate::model::RecommendedAmi {
                parameter: AL2023.into(),
                image_id: "ami-0current".into(),
                image_name: "al2023-ami-ecs-hvm-2023.0.20250210-kernel-6.1-x86_64".into(),
                agent_version: "1.89.0".into(),
            }),
            ..instance(id, "eu-west-1a")
        }
    }

    pub const AL2023: &str = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended";

    /// A task definition with one container `app`.
    pub fn task_definition(
        family: &str,
        revision: u32,
        app: ContainerDefinition,
    ) -> TaskDefinition {
        TaskDefinition {
            reference: td_ref(family, revision),
            status: "ACTIVE".into(),
            network_mode: "awsvpc".into(),
            requires_compatibilities: vec!["EC2".into()],
            execution_role_arn: "arn:aws:iam::123456789012:role/web-exec".into(),
            task_role_arn: "arn:aws:iam::123456789012:role/web-task".into(),
            containers: vec![ContainerDefinition {
                name: "app".into(),
                essential: true,
                ..app
            }],
            ..TaskDefinition::default()
        }
    }

    pub fn add_task_definition(facts: &mut Facts, td: TaskDefinition) {
        facts
            .task_definitions
            .insert(td.reference.arn.to_string(), std::sync::Arc::new(td));
    }

    pub fn log(service: &str, task: &str, at: Time, message: &str) -> LogSample {
        LogSample {
            cluster: "prod".into(),
            service: Some(service.into()),
            task_arn: task_arn(task),
            container: "app".into(),
            at,
            message: message.into(),
        }
    }
}
