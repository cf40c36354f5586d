//! What the rules read: one consistent view of everything the console knows, borrowed from the
//! state (or from [`Facts`] in tests). Rules are pure functions `&Input -> Vec<Observation>`.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::TimeDelta;

use crate::model::{
    Alarm, AlarmState, Cluster, History, Instance, LogSample, MetricId, NatGateway, Point,
    ScalingBounds, SeriesKey, Service, Subject, TargetGroupHealth, Task, TaskDefinition, Time,
    metric_catalog,
};

/// The resolution the rules read metrics at.
pub const PERIOD: u32 = 60;

pub struct Input<'a> {
    pub now: Time,
    pub clusters: Vec<&'a Cluster>,
    pub services: Vec<&'a Service>,
    /// Tasks that are not stopped (RUNNING, PENDING, PROVISIONING, DEACTIVATING…).
    pub tasks: Vec<&'a Task>,
    /// Stopped tasks the console has seen (its own history: ECS forgets them after an hour).
    pub stopped: Vec<&'a Task>,
    /// The memory history kept with each stop, by task ARN (the metrics store forgets a
    /// stopped task's series); read through [`Input::task_memory`].
    pub stop_memory: &'a HashMap<String, History>,
    /// Shared, not copied, by the parts of a cluster cut by service (see [`Input::by_service`]).
    pub instances: Arc<[&'a Instance]>,
    /// The CloudWatch series the console holds, by key.
    pub series: &'a crate::model::hash::FastMap<SeriesKey, History>,
    /// The region's CloudWatch alarms.
    pub alarms: &'a [Alarm],
    /// Recent DescribeTargetHealth answers per target group ARN, oldest first.
    pub target_health: &'a HashMap<String, Vec<TargetGroupHealth>>,
    pub task_definitions: &'a HashMap<String, Arc<TaskDefinition>>,
    /// Auto scaling bounds per (cluster, service), where known.
    pub scaling: &'a HashMap<(String, String), ScalingBounds>,
    pub logs: Vec<&'a LogSample>,
    /// Built on first use: which log samples belong to which service.
    pub log_index: LogIndex,
    /// Built on first use: which tasks belong to which service (10,000 tasks × 200 services
    /// would otherwise be scanned by every rule that asks).
    pub task_index: TaskIndex<'a>,
    /// The NAT gateways each cluster's subnets route their outbound traffic through:
    /// (cluster name, gateway).
    pub nat_gateways: Vec<(&'a str, &'a NatGateway)>,
    /// Built on first use: services by (cluster, name) and instances by ARN (a rule asking for
    /// the service or host of each of 100,000 tasks would otherwise scan 2,000 services or
    /// 5,000 instances each time).
    pub lookup: Lookup<'a>,
    /// Built on first use and shared by the parts of a view cut by cluster (the series stay
    /// whole): which tasks have a memory series of their own.
    pub series_index: SeriesIndex<'a>,
}

/// Task ids with a per-task Container Insights memory series: a rule asking for each of a
/// cluster's tasks would otherwise look over every series held (20,000 on the biggest
/// fleets) once per cluster, or build a metric id for each of 100,000 tasks.
#[derive(Default, Clone)]
pub struct SeriesIndex<'a>(Arc<std::sync::OnceLock<std::collections::HashSet<&'a str>>>);

/// The part of `parts` for cluster `name`, empty at first.
fn part<'p, 'a>(
    parts: &'p mut std::collections::BTreeMap<&'a str, Input<'a>>,
    whole: &Input<'a>,
    name: &'a str,
) -> &'p mut Input<'a> {
    parts.entry(name).or_insert_with(|| whole.empty_part())
}

#[derive(Default)]
pub struct Lookup<'a> {
    services: std::cell::OnceCell<HashMap<&'a str, HashMap<&'a str, usize>>>,
    /// Shared by the parts of a cluster cut by service, which hold the cluster's instances
    /// whole and in the same order (1,200 services would each build it again).
    instances: Arc<std::sync::OnceLock<HashMap<String, usize>>>,
}

/// Tasks by (cluster ARN, group), for [`Input::tasks_of`].
#[derive(Default)]
pub struct TaskIndex<'a>(std::cell::OnceCell<HashMap<&'a str, HashMap<&'a str, Vec<usize>>>>);

/// Log samples by (cluster, service), so the log rules don't scan every line per service.
#[derive(Default)]
pub struct LogIndex(std::cell::OnceCell<HashMap<(String, String), Vec<usize>>>);

impl<'a> Input<'a> {
    /// The same view cut by cluster (by name): every rule judges one cluster's objects, so
    /// evaluating each part gives, rule by rule, what the whole gives for that cluster (the
    /// incremental engine re-evaluates only the parts whose data changed). Shared data
    /// (series, target health, task definitions…) is looked up by key and stays whole.
    pub fn by_cluster(&self) -> std::collections::BTreeMap<&'a str, Input<'a>> {
        use std::collections::BTreeMap;
        let mut parts: BTreeMap<&'a str, Input<'a>> = BTreeMap::new();
        for &c in &self.clusters {
            part(&mut parts, self, c.name.as_str()).clusters.push(c);
        }
        // In runs of one cluster (the lists are sorted by ARN, which starts with the
        // cluster's name): one lookup per run, not per task.
        for run in self
            .services
            .chunk_by(|a, b| a.cluster_arn == b.cluster_arn)
        {
            let name = Self::cluster_name(&run[0].cluster_arn);
            part(&mut parts, self, name).services.extend_from_slice(run);
        }
        for run in self.tasks.chunk_by(|a, b| a.cluster_arn == b.cluster_arn) {
            let name = Self::cluster_name(&run[0].cluster_arn);
            part(&mut parts, self, name).tasks.extend_from_slice(run);
        }
        for run in self.stopped.chunk_by(|a, b| a.cluster_arn == b.cluster_arn) {
            let name = Self::cluster_name(&run[0].cluster_arn);
            part(&mut parts, self, name).stopped.extend_from_slice(run);
        }
        let mut instances: BTreeMap<&'a str, Vec<&'a Instance>> = BTreeMap::new();
        for run in self
            .instances
            .chunk_by(|a, b| a.cluster_arn == b.cluster_arn)
        {
            let name = Self::cluster_name(&run[0].cluster_arn);
            instances.entry(name).or_default().extend_from_slice(run);
        }
        for (name, instances) in instances {
            part(&mut parts, self, name).instances = instances.into();
        }
        for &l in &self.logs {
            part(&mut parts, self, l.cluster.as_str()).logs.push(l);
        }
        for &(c, g) in &self.nat_gateways {
            part(&mut parts, self, c).nat_gateways.push((c, g));
        }
        parts
    }

    /// One cluster's part (see [`Input::by_cluster`]) cut again by service: for each service
    /// listed, by name, the part holding it, its tasks running and stopped and its log lines;
    /// under `None`, the tasks and log lines of no service listed. Every part holds the
    /// cluster, its instances and its NAT gateways whole. A rule of [`Scope::Service`] finds in
    /// each part exactly what it finds about that part's objects in the whole cluster.
    ///
    /// [`Scope::Service`]: super::rules::Scope::Service
    pub fn by_service(&self) -> std::collections::BTreeMap<Option<&'a str>, Input<'a>> {
        let new_part = || {
            let mut part = self.empty_part();
            part.clusters.clone_from(&self.clusters);
            part.instances = Arc::clone(&self.instances);
            part.nat_gateways.clone_from(&self.nat_gateways);
            part.lookup.instances = Arc::clone(&self.lookup.instances);
            part
        };
        // Part 0 holds what belongs to no service listed.
        let mut parts: Vec<(Option<&'a str>, Input<'a>)> = vec![(None, new_part())];
        let mut by_name: crate::model::hash::FastMap<&'a str, usize> = Default::default();
        for &s in &self.services {
            let n = *by_name.entry(s.name.as_str()).or_insert_with(|| {
                parts.push((Some(s.name.as_str()), new_part()));
                parts.len() - 1
            });
            parts[n].1.services.push(s);
        }
        let part_of = |t: &Task| {
            let name = t.service_name();
            name.and_then(|name| by_name.get(name).copied())
                .unwrap_or(0)
        };
        for &t in &self.tasks {
            parts[part_of(t)].1.tasks.push(t);
        }
        for &t in &self.stopped {
            parts[part_of(t)].1.stopped.push(t);
        }
        // A log line goes with its service, else with the task it names (the rules that read
        // it find its task in the same part), else with the tasks of no service.
        let mut task_parts: HashMap<&str, usize> = HashMap::new();
        if self.logs.iter().any(|l| l.service.is_none()) {
            for &t in self.tasks.iter().chain(&self.stopped) {
                task_parts.insert(t.arn.as_str(), part_of(t));
            }
        }
        for &l in &self.logs {
            let n = match l.service.as_deref() {
                Some(name) => by_name.get(name).copied(),
                None => task_parts.get(l.task_arn.as_str()).copied(),
            };
            parts[n.unwrap_or(0)].1.logs.push(l);
        }
        parts.into_iter().collect()
    }

    /// A part of this view holding no object yet (the shared data, looked up by key, whole).
    pub fn empty_part(&self) -> Input<'a> {
        Input {
            now: self.now,
            clusters: Vec::new(),
            services: Vec::new(),
            tasks: Vec::new(),
            stopped: Vec::new(),
            stop_memory: self.stop_memory,
            instances: Arc::new([]),
            series: self.series,
            alarms: self.alarms,
            target_health: self.target_health,
            task_definitions: self.task_definitions,
            scaling: self.scaling,
            logs: Vec::new(),
            log_index: LogIndex::default(),
            task_index: TaskIndex::default(),
            nat_gateways: Vec::new(),
            lookup: Lookup::default(),
            series_index: self.series_index.clone(),
        }
    }

    /// Whether task `id` has a Container Insights memory series of its own (see
    /// [`SeriesIndex`]).
    pub fn has_task_memory_series(&self, id: &str) -> bool {
        let series = self.series;
        self.series_index
            .0
            .get_or_init(|| {
                series
                    .keys()
                    .filter(|k| {
                        k.period == PERIOD
                            && k.metric.name == "MemoryUtilized"
                            && k.metric.namespace == metric_catalog::INSIGHTS
                    })
                    .filter_map(|k| k.metric.dimension("TaskId"))
                    .collect()
            })
            .contains(id)
    }

    pub fn cluster_name(arn: &str) -> &str {
        metric_catalog::cluster_of(arn)
    }

    pub fn service(&self, cluster: &str, name: &str) -> Option<&'a Service> {
        let index = self.lookup.services.get_or_init(|| {
            let mut index = HashMap::new();
            // The first of duplicates wins, as a scan would find it.
            for (i, &s) in self.services.iter().enumerate().rev() {
                index
                    .entry(Self::cluster_name(&s.cluster_arn))
                    .or_insert_with(HashMap::new)
                    .insert(s.name.as_str(), i);
            }
            index
        });
        index
            .get(cluster)
            .and_then(|c| c.get(name))
            .map(|&i| self.services[i])
    }

    /// The service a task belongs to (by its `service:` group), if known.
    pub fn service_of(&self, task: &Task) -> Option<&'a Service> {
        let name = task.service_name()?;
        self.service(Self::cluster_name(&task.cluster_arn), name)
    }

    /// Tasks of a service that are not stopped.
    pub fn tasks_of(&self, service: &Service) -> impl Iterator<Item = &'a Task> + '_ {
        let index = self.task_index.0.get_or_init(|| {
            let mut index: HashMap<&'a str, HashMap<&'a str, Vec<usize>>> = HashMap::new();
            for (i, &t) in self.tasks.iter().enumerate() {
                index
                    .entry(t.cluster_arn.as_str())
                    .or_default()
                    .entry(t.group.as_str())
                    .or_default()
                    .push(i);
            }
            index
        });
        let group = format!("service:{}", service.name);
        let tasks = &self.tasks;
        index
            .get(service.cluster_arn.as_str())
            .and_then(|c| c.get(group.as_str()))
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .map(move |&i| tasks[i])
    }

    /// Stopped tasks of a service that stopped at or after `since`, newest first.
    pub fn stops_of(&self, service: &Service, since: Time) -> Vec<&'a Task> {
        let group = format!("service:{}", service.name);
        let mut out: Vec<&Task> = self
            .stopped
            .iter()
            .copied()
            .filter(|t| t.group == group && t.cluster_arn == service.cluster_arn)
            .filter(|t| t.stopped_at.or(t.stopping_at).is_some_and(|at| at >= since))
            .collect();
        out.sort_by_key(|t| std::cmp::Reverse(t.stopped_at.or(t.stopping_at)));
        out
    }

    pub fn instances_of(&self, cluster: &str) -> impl Iterator<Item = &'a Instance> + '_ {
        let cluster = cluster.to_string();
        self.instances
            .iter()
            .copied()
            .filter(move |i| Self::cluster_name(&i.cluster_arn) == cluster)
    }

    /// The container instance a task runs on.
    pub fn instance_of(&self, task: &Task) -> Option<&'a Instance> {
        let arn = task.container_instance_arn.as_deref()?;
        let index = self.lookup.instances.get_or_init(|| {
            let mut index = HashMap::new();
            for (n, i) in self.instances.iter().enumerate().rev() {
                index.insert(i.arn.clone(), n);
            }
            index
        });
        index.get(arn).map(|&n| self.instances[n])
    }

    pub fn task_definition(&self, arn: &str) -> Option<&'a TaskDefinition> {
        self.task_definitions.get(arn).map(|d| d.as_ref())
    }

    /// The 1-minute history of a metric, if polled.
    pub fn series(&self, metric: &MetricId) -> Option<&'a History> {
        self.series.get(&SeriesKey {
            metric: metric.clone(),
            period: PERIOD,
        })
    }

    /// A task's Container Insights memory (MiB, 1-minute): the series while it is held, else
    /// the history kept with its stop.
    pub fn task_memory(&self, task: &Task) -> Option<&'a History> {
        self.series(&metric_catalog::task_memory(task))
            .filter(|h| !h.is_empty())
            .or_else(|| self.stop_memory.get(task.arn.as_str()))
    }

    /// Points of the last `minutes` minutes, oldest first (empty when not polled).
    pub fn window(&self, metric: &MetricId, minutes: i64) -> Vec<Point> {
        let since = self.now - TimeDelta::minutes(minutes);
        self.series(metric)
            .map(|h| h.since(since).collect())
            .unwrap_or_default()
    }

    /// The latest value, if it is recent (within 5 periods).
    pub fn latest(&self, metric: &MetricId) -> Option<f64> {
        let p = self.series(metric)?.latest()?;
        (self.now - p.at <= TimeDelta::minutes(5)).then_some(p.value)
    }

    /// Whether every point of the last `minutes` minutes satisfies `cond`, with at least
    /// `minutes - 1` points present (one missing minute is tolerated: CloudWatch is late).
    pub fn held(&self, metric: &MetricId, minutes: i64, cond: impl Fn(f64) -> bool) -> bool {
        let points = self.window(metric, minutes);
        points.len() as i64 >= (minutes - 1).max(1) && points.iter().all(|p| cond(p.value))
    }

    /// Alarms watching `metric` that are firing.
    pub fn alarms_firing(&self, metric: &MetricId) -> Vec<&'a Alarm> {
        self.alarms
            .iter()
            .filter(|a| a.state == AlarmState::Alarm && a.watches(metric))
            .collect()
    }

    /// DescribeTargetHealth answers for a target group, oldest first.
    pub fn target_polls(&self, target_group_arn: &str) -> &'a [TargetGroupHealth] {
        self.target_health
            .get(target_group_arn)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub fn scaling_bounds(&self, service: &Service) -> Option<&'a ScalingBounds> {
        self.scaling.get(&(
            Self::cluster_name(&service.cluster_arn).to_string(),
            service.name.clone(),
        ))
    }

    /// The services of `cluster` whose traffic leaves through `nat`: awsvpc services by their
    /// subnets, the others by the subnets of the instances their tasks run on.
    pub fn served_by(&self, cluster: &str, nat: &NatGateway) -> Vec<&'a Service> {
        self.services
            .iter()
            .copied()
            .filter(|s| Self::cluster_name(&s.cluster_arn) == cluster)
            .filter(|s| self.leaves_through(s, nat))
            .collect()
    }

    /// The NAT gateways a service's outbound traffic leaves through.
    pub fn nats_of(&self, service: &Service) -> Vec<&'a NatGateway> {
        let cluster = Self::cluster_name(&service.cluster_arn);
        self.nat_gateways
            .iter()
            .filter(|(c, g)| *c == cluster && self.leaves_through(service, g))
            .map(|(_, g)| *g)
            .collect()
    }

    fn leaves_through(&self, s: &Service, nat: &NatGateway) -> bool {
        if !s.subnets.is_empty() {
            return s.subnets.iter().any(|n| nat.serves(n));
        }
        // Bridge and host networking leave through the host's subnet.
        let hosts: std::collections::HashSet<&str> = self
            .tasks_of(s)
            .filter_map(|t| t.container_instance_arn.as_deref())
            .collect();
        self.instances
            .iter()
            .any(|i| hosts.contains(i.arn.as_str()) && nat.serves(&i.subnet_id))
    }

    /// Log lines of a service since `since`, oldest first.
    pub fn logs_of(&self, service: &Service, since: Time) -> impl Iterator<Item = &'a LogSample> {
        let index = self.log_index.0.get_or_init(|| {
            let mut index: HashMap<(String, String), Vec<usize>> = HashMap::new();
            for (i, l) in self.logs.iter().enumerate() {
                if let Some(s) = &l.service {
                    index
                        .entry((l.cluster.clone(), s.clone()))
                        .or_default()
                        .push(i);
                }
            }
            index
        });
        let key = (
            Self::cluster_name(&service.cluster_arn).to_string(),
            service.name.clone(),
        );
        let logs = &self.logs;
        index
            .get(&key)
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .map(move |&i| logs[i])
            .filter(move |l| l.at >= since)
    }
}

/// Subjects named the way findings name them.
pub fn service_subject(s: &Service) -> Subject {
    Subject::Service {
        cluster: Input::cluster_name(&s.cluster_arn).to_string(),
        service: s.name.clone(),
    }
}

pub fn task_subject(t: &Task) -> Subject {
    Subject::Task {
        cluster: Input::cluster_name(&t.cluster_arn).to_string(),
        service: t.service_name().map(str::to_string),
        task_arn: t.arn.to_string(),
    }
}

pub fn container_subject(t: &Task, container: &str) -> Subject {
    Subject::Container {
        cluster: Input::cluster_name(&t.cluster_arn).to_string(),
        service: t.service_name().map(str::to_string),
        task_arn: t.arn.to_string(),
        container: container.to_string(),
    }
}

pub fn instance_subject(i: &Instance) -> Subject {
    Subject::Instance {
        cluster: Input::cluster_name(&i.cluster_arn).to_string(),
        instance_arn: i.arn.clone(),
        ec2_instance_id: i.ec2_instance_id.clone(),
    }
}

pub fn cluster_subject(c: &Cluster) -> Subject {
    Subject::Cluster {
        cluster: c.name.clone(),
    }
}

pub fn target_group_subject(s: &Service, target_group_arn: &str) -> Subject {
    Subject::TargetGroup {
        cluster: Input::cluster_name(&s.cluster_arn).to_string(),
        service: s.name.clone(),
        target_group_arn: target_group_arn.to_string(),
    }
}

/// Owned data an [`Input`] can borrow: what tests build rule inputs from.
#[derive(Default)]
pub struct Facts {
    pub now: Time,
    pub clusters: Vec<Cluster>,
    pub services: Vec<Service>,
    pub tasks: Vec<Task>,
    pub stopped: Vec<Task>,
    pub stop_memory: HashMap<String, History>,
    pub instances: Vec<Instance>,
    pub series: crate::model::hash::FastMap<SeriesKey, History>,
    pub alarms: Vec<Alarm>,
    pub target_health: HashMap<String, Vec<TargetGroupHealth>>,
    pub task_definitions: HashMap<String, Arc<TaskDefinition>>,
    pub scaling: HashMap<(String, String), ScalingBounds>,
    pub logs: Vec<LogSample>,
    /// (cluster name, gateway).
    pub nat_gateways: Vec<(String, NatGateway)>,
}

impl Facts {
    pub fn at(now: Time) -> Self {
        Facts {
            now,
            ..Facts::default()
        }
    }

    pub fn input(&self) -> Input<'_> {
        Input {
            now: self.now,
            clusters: self.clusters.iter().collect(),
            services: self.services.iter().collect(),
            tasks: self.tasks.iter().collect(),
            stopped: self.stopped.iter().collect(),
            stop_memory: &self.stop_memory,
            instances: self.instances.iter().collect(),
            series: &self.series,
            alarms: &self.alarms,
            target_health: &self.target_health,
            task_definitions: &self.task_definitions,
            scaling: &self.scaling,
            logs: self.logs.iter().collect(),
            log_index: LogIndex::default(),
            task_index: TaskIndex::default(),
            nat_gateways: self
                .nat_gateways
                .iter()
                .map(|(c, g)| (c.as_str(), g))
                .collect(),
            lookup: Lookup::default(),
            series_index: SeriesIndex::default(),
        }
    }

    /// Sets a metric's 1-minute history: `values[i]` is the minute `values.len() - i` minutes
    /// before now (the last value is the latest complete minute); NaN leaves a gap.
    pub fn series(&mut self, metric: MetricId, values: &[f64]) {
        let key = SeriesKey {
            metric,
            period: PERIOD,
        };
        let minute = |i: usize| {
            let ago = (values.len() - i) as i64;
            let t = self.now - TimeDelta::minutes(ago);
            Time::from_timestamp(t.timestamp() / 60 * 60, 0).unwrap_or(t)
        };
        let points = values
            .iter()
            .enumerate()
            .filter(|(_, v)| !v.is_nan())
            .map(|(i, &value)| Point {
                at: minute(i),
                value,
            })
            .collect();
        let start = minute(0);
        self.series
            .entry(key)
            .or_default()
            .merge(start, self.now, points);
    }
}
