//! The embedded simulated ECS fleet behind `--demo [SCENARIO]`, and the fixture of the UI tests.
//!
//! Deterministic for a given scenario, seed, start and time: the fleet moves in fixed steps
//! driven by a seeded RNG, and every query first brings it up to the clock's now.

mod amis;
mod fleet;
mod generate;
mod lifecycle;
mod logs;
mod metrics;
mod names;
mod ops;
mod org;
mod replay;
mod scenario;
mod simulate;
mod taskdefs;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use self::fleet::Fleet;
pub use self::org::OrgMember;
use super::{FleetSource, SourceError};
use crate::model::{
    Alarm, Cluster, ContainerDefinition, Identity, Instance, LogEvent, LogQuery, MetricRequest,
    Operation, ScalingBounds, SeriesData, Service, TargetGroupHealth, Task, TaskDefinition,
    TaskScope, Time,
};

/// Where the demo's "now" comes from.
#[derive(Debug, Clone)]
pub enum DemoClock {
    /// Wall-clock time: the fleet moves while you watch.
    System,
    /// A frozen instant (tests and snapshots); move the fleet with [`DemoSource::advance_to`].
    Fixed(Time),
    /// A replayed incident's time: from `origin` on, `ratio` seconds pass per wall second, so
    /// an incident of an hour unfolds in minutes (`--demo bad-deploy`).
    Scaled { origin: Time, ratio: i64 },
}

impl DemoClock {
    pub fn now(&self) -> Time {
        match self {
            DemoClock::System => chrono::Utc::now(),
            DemoClock::Fixed(t) => *t,
            DemoClock::Scaled { origin, ratio } => {
                let wall = (chrono::Utc::now() - *origin).num_milliseconds();
                *origin + chrono::TimeDelta::milliseconds(wall.saturating_mul(*ratio))
            }
        }
    }
}

pub struct DemoSource {
    fleet: Mutex<Fleet>,
    clock: DemoClock,
    /// The latest instant the fleet was moved to (epoch ms): a fixed clock's "now" moves with it.
    advanced: AtomicI64,
    /// Who STS would say the caller is, when not the demo's one account (`org`'s contexts).
    identity: Option<Identity>,
}

impl DemoSource {
    /// Builds `scenario` as it looks at `start`. Unknown scenario → Err(message listing the
    /// known ones).
    pub fn new(scenario: &str, seed: u64, start: Time, clock: DemoClock) -> Result<Self, String> {
        Self::placed(names::Place::DEMO, scenario, seed, start, clock)
    }

    /// [`DemoSource::new`] living in `place`: its ARNs, image URIs and AZs name that account
    /// and region (the demo organisation's contexts).
    fn placed(
        place: names::Place,
        scenario: &str,
        seed: u64,
        start: Time,
        clock: DemoClock,
    ) -> Result<Self, String> {
        let mut fleet = generate::build(scenario, seed, start, place)?;
        fleet.taskdefs.record_all(&fleet.clusters, start);
        Ok(DemoSource {
            fleet: Mutex::new(fleet),
            clock,
            advanced: AtomicI64::new(start.timestamp_millis()),
            identity: None,
        })
    }

    /// Names accepted by [`DemoSource::new`].
    pub fn scenarios() -> &'static [&'static str] {
        generate::SCENARIOS
    }

    /// Moves the simulation to `t` (no-op if `t` is not later than the simulation time).
    /// Advancing in one call or in many smaller ones gives the same fleet.
    pub fn advance_to(&self, t: Time) {
        self.advanced
            .fetch_max(t.timestamp_millis(), Ordering::SeqCst);
        self.lock().advance_to(t);
    }

    /// The clock's now, or the instant the fleet was last moved to if that is later.
    pub fn now(&self) -> Time {
        let advanced = Time::from_timestamp_millis(self.advanced.load(Ordering::SeqCst));
        self.clock.now().max(advanced.unwrap_or_default())
    }

    fn lock(&self) -> MutexGuard<'_, Fleet> {
        // A panic elsewhere while holding the lock leaves the fleet usable: steps are small.
        self.fleet.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Brings the fleet up to the clock, then answers from it.
    fn query<R>(&self, f: impl FnOnce(&Fleet, Time) -> R) -> R {
        let now = self.now();
        let mut fleet = self.lock();
        fleet.advance_to(now);
        f(&fleet, now)
    }
}

#[async_trait]
impl FleetSource for DemoSource {
    async fn identity(&self) -> Result<Identity, SourceError> {
        if let Some(identity) = &self.identity {
            return Ok(identity.clone());
        }
        Ok(self.query(|f, _| f.identity()))
    }

    async fn clusters(&self) -> Result<Vec<Cluster>, SourceError> {
        Ok(self.query(|f, now| f.cluster_snapshots(now)))
    }

    async fn services(&self, cluster: &str) -> Result<Vec<Service>, SourceError> {
        self.query(|f, _| f.services(cluster))
    }

    async fn tasks(&self, scope: &TaskScope, stopped: bool) -> Result<Vec<Task>, SourceError> {
        self.query(|f, _| f.tasks(scope, stopped))
    }

    async fn task(&self, cluster: &str, task_arn: &str) -> Result<Option<Task>, SourceError> {
        self.query(|f, _| f.task(cluster, task_arn))
    }

    async fn instances(&self, cluster: &str) -> Result<Vec<Instance>, SourceError> {
        self.query(|f, _| f.instances(cluster))
    }

    async fn metric_data(&self, request: &MetricRequest) -> Result<Vec<SeriesData>, SourceError> {
        Ok(self.query(|f, now| metrics::metric_data(f, now, request)))
    }

    async fn alarms(&self) -> Result<Vec<Alarm>, SourceError> {
        Ok(self.query(metrics::alarms))
    }

    async fn nat_gateways(
        &self,
        subnets: &[String],
    ) -> Result<Vec<crate::model::NatGateway>, SourceError> {
        Ok(self.query(|f, _| f.nat_gateways_for(subnets)))
    }

    /// The demo follows by polling: it has no Live Tail (the default `live_tail` says so).
    async fn log_events(&self, query: &LogQuery) -> Result<Vec<LogEvent>, SourceError> {
        Ok(self.query(|f, now| logs::fleet_log_events(f, query, now)))
    }

    /// Incident time for a replayed scenario, so the console's clock and windows follow it.
    fn now(&self) -> Time {
        DemoSource::now(self)
    }

    /// About ten seconds of incident time a tick, at most ten ticks a wall second.
    fn tick(&self) -> std::time::Duration {
        match self.clock {
            DemoClock::Scaled { ratio, .. } if ratio > 1 => {
                std::time::Duration::from_millis((10_000 / ratio as u64).clamp(100, 1_000))
            }
            _ => std::time::Duration::from_secs(1),
        }
    }

    /// Changes the fleet at the clock's now; the simulation carries the change out from there.
    /// Interactive sessions (`open_session`) stay unsupported: the demo has no shells.
    async fn apply(&self, op: &Operation) -> Result<String, SourceError> {
        let now = self.now();
        let mut fleet = self.lock();
        fleet.advance_to(now);
        if let Operation::Rollback {
            cluster,
            service,
            task_definition_arn,
            ..
        } = op
        {
            let def = fleet.taskdefs.get(task_definition_arn).ok_or_else(|| {
                SourceError::not_found(format!(
                    "task definition {} is not registered",
                    crate::model::arn_tail(task_definition_arn)
                ))
            })?;
            return ops::rollback(&mut fleet, now, cluster, service, &def);
        }
        ops::apply(&mut fleet, now, op)
    }

    async fn task_definition_revisions(
        &self,
        family: &str,
    ) -> Result<Vec<crate::model::TaskDefRef>, SourceError> {
        let revisions = self.query(|f, _| f.taskdefs.revisions(family));
        if revisions.is_empty() {
            return Err(SourceError::not_found(format!(
                "no task definition family {family}"
            )));
        }
        Ok(revisions)
    }

    fn forwards_need_plugin(&self) -> bool {
        false
    }

    /// The demo has no SSM: a forward is a local listener that says what it stands for.
    async fn open_forward(
        &self,
        op: &Operation,
    ) -> Result<crate::model::ForwardOpening, SourceError> {
        Ok(crate::model::ForwardOpening::Simulated {
            banner: format!("ecsmon demo: {}\n", op.summary()),
        })
    }

    async fn scaling_bounds(
        &self,
        cluster: &str,
        service: &str,
    ) -> Result<Option<ScalingBounds>, SourceError> {
        self.query(|f, _| ops::scaling_bounds(f, cluster, service))
    }

    async fn target_health(
        &self,
        target_groups: &[String],
    ) -> Result<Vec<TargetGroupHealth>, SourceError> {
        self.query(|f, now| ops::target_health(f, now, target_groups))
    }

    async fn task_definition(&self, arn: &str) -> Result<Arc<TaskDefinition>, SourceError> {
        if let Some(def) = self.query(|f, _| f.taskdefs.get(arn)) {
            return Ok(def);
        }
        // Not registered (older than the seeded history): read one back from a task that runs it.
        self.query(|f, now| {
            let task = f
                .cluster_snapshots(now)
                .iter()
                .flat_map(|c| {
                    let scope = TaskScope::Cluster {
                        cluster: c.name.clone(),
                    };
                    let mut tasks = f.tasks(&scope, false).unwrap_or_default();
                    tasks.extend(f.tasks(&scope, true).unwrap_or_default());
                    tasks
                })
                .find(|t| t.task_definition.arn == arn)
                .ok_or_else(|| {
                    SourceError::not_found(format!("task definition {arn} not found"))
                })?;
            Ok(Arc::new(definition_of(&task, f.place)))
        })
    }
}

/// A task definition as the demo's tasks imply it: awslogs to `/ecs/<family>`.
fn definition_of(task: &Task, place: names::Place) -> TaskDefinition {
    let family = &task.task_definition.family;
    TaskDefinition {
        reference: task.task_definition.clone(),
        status: "ACTIVE".into(),
        cpu: task.cpu,
        memory: task.memory,
        network_mode: if task.launch_type == "FARGATE" {
            "awsvpc"
        } else {
            "bridge"
        }
        .into(),
        execution_role_arn: place.role_arn(&format!("{family}-execution")),
        task_role_arn: place.role_arn(&format!("{family}-task")),
        requires_compatibilities: vec![task.launch_type.to_string()],
        registered_at: None,
        containers: task
            .containers
            .iter()
            .map(|c| ContainerDefinition {
                name: c.name.to_string(),
                image: c.image.to_string(),
                cpu: c.cpu,
                memory: c.memory,
                memory_reservation: c.memory_reservation,
                essential: c.name == *family || task.containers.len() == 1,
                readonly_root_filesystem: false,
                log_driver: "awslogs".into(),
                log_options: vec![
                    ("awslogs-group".into(), format!("/ecs/{family}")),
                    ("awslogs-region".into(), place.region.into()),
                    ("awslogs-stream-prefix".into(), "ecs".into()),
                ],
                ..Default::default()
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use chrono::{TimeZone, Utc};
    use futures::executor::block_on;

    use super::*;
    use crate::source::ErrorKind;

    pub(super) fn start() -> Time {
        Utc.with_ymd_and_hms(2026, 11, 21, 9, 30, 0).unwrap()
    }

    fn minutes(m: i64) -> chrono::TimeDelta {
        chrono::TimeDelta::minutes(m)
    }

    fn demo(scenario: &str, seed: u64) -> DemoSource {
        DemoSource::new(scenario, seed, start(), DemoClock::Fixed(start())).unwrap()
    }

    fn cluster_scope(cluster: &str) -> TaskScope {
        TaskScope::Cluster {
            cluster: cluster.into(),
        }
    }

    fn running_tasks(src: &DemoSource, cluster: &str) -> Vec<Task> {
        block_on(src.tasks(&cluster_scope(cluster), false)).unwrap()
    }

    fn stopped_tasks(src: &DemoSource, cluster: &str) -> Vec<Task> {
        block_on(src.tasks(&cluster_scope(cluster), true)).unwrap()
    }

    fn services(src: &DemoSource, cluster: &str) -> Vec<Service> {
        block_on(src.services(cluster)).unwrap()
    }

    fn all_services(src: &DemoSource) -> Vec<Service> {
        let clusters = block_on(src.clusters()).unwrap();
        clusters
            .iter()
            .flat_map(|c| services(src, &c.name))
            .collect()
    }

    /// Everything the source can tell, as text, to compare two fleets.
    pub(super) fn dump(src: &DemoSource) -> String {
        let mut out = format!("{:?}\n", block_on(src.identity()).unwrap());
        for c in block_on(src.clusters()).unwrap() {
            out += &format!("{c:?}\n{:?}\n", services(src, &c.name));
            out += &format!("{:?}\n", running_tasks(src, &c.name));
            out += &format!("{:?}\n", stopped_tasks(src, &c.name));
            out += &format!("{:?}\n", block_on(src.instances(&c.name)).unwrap());
        }
        out
    }

    fn is_pending(status: &str) -> bool {
        matches!(status, "PROVISIONING" | "PENDING" | "ACTIVATING")
    }

    /// Every count the source reports agrees with the tasks it lists.
    pub(super) fn assert_consistent(src: &DemoSource) {
        let mut seen = HashSet::new();
        for c in block_on(src.clusters()).unwrap() {
            let svcs = services(src, &c.name);
            let tasks = running_tasks(src, &c.name);
            let instances = block_on(src.instances(&c.name)).unwrap();
            for t in tasks.iter().chain(&stopped_tasks(src, &c.name)) {
                assert!(seen.insert(t.arn.clone()), "duplicate task {}", t.arn);
                assert_eq!(t.cluster_arn, c.arn);
            }
            assert_eq!(c.active_services as usize, svcs.len());
            assert_eq!(c.instances as usize, instances.len());
            let running = tasks.iter().filter(|t| t.last_status == "RUNNING").count();
            let pending = tasks.iter().filter(|t| is_pending(&t.last_status)).count();
            assert_eq!(c.running_tasks as usize, running, "{}", c.name);
            assert_eq!(c.pending_tasks as usize, pending, "{}", c.name);
            assert_eq!(
                c.running_tasks,
                svcs.iter().map(|s| s.running).sum::<u32>(),
                "{}",
                c.name
            );
            assert_eq!(c.pending_tasks, svcs.iter().map(|s| s.pending).sum::<u32>());
            for s in &svcs {
                let mine: Vec<&Task> = tasks
                    .iter()
                    .filter(|t| t.service_name() == Some(s.name.as_str()))
                    .collect();
                let scoped = block_on(src.tasks(
                    &TaskScope::Service {
                        cluster: c.name.clone(),
                        service: s.name.clone(),
                    },
                    false,
                ))
                .unwrap();
                assert_eq!(scoped.len(), mine.len());
                let r = mine.iter().filter(|t| t.last_status == "RUNNING").count();
                let p = mine.iter().filter(|t| is_pending(&t.last_status)).count();
                assert_eq!(
                    (s.running as usize, s.pending as usize),
                    (r, p),
                    "{}",
                    s.name
                );
                let primary = s.primary_deployment().expect("a primary deployment");
                assert_eq!(s.task_definition, primary.task_definition);
                assert_eq!(
                    s.deployments.iter().map(|d| d.running).sum::<u32>(),
                    s.running,
                    "{}",
                    s.name
                );
                assert!(
                    s.events.windows(2).all(|w| w[0].at >= w[1].at),
                    "{}",
                    s.name
                );
                assert!(s.events.len() <= 100);
            }
            let mut used: HashMap<&str, (u32, u32, u32, u32)> = HashMap::new();
            for t in &tasks {
                match &t.container_instance_arn {
                    Some(arn) => {
                        let e = used.entry(arn.as_str()).or_default();
                        e.0 += t.cpu.unwrap_or(0);
                        e.1 += t.memory.unwrap_or(0);
                        e.2 += (t.last_status == "RUNNING") as u32;
                        e.3 += is_pending(&t.last_status) as u32;
                    }
                    None => assert_eq!(t.launch_type, "FARGATE", "{}", t.arn),
                }
            }
            let known: HashSet<&str> = instances.iter().map(|i| i.arn.as_str()).collect();
            assert!(used.keys().all(|arn| known.contains(arn)));
            for i in &instances {
                let (cpu, memory, running, pending) =
                    used.get(i.arn.as_str()).copied().unwrap_or_default();
                assert_eq!(i.cpu_remaining, i.cpu_registered - cpu, "{}", i.arn);
                assert_eq!(
                    i.memory_remaining,
                    i.memory_registered - memory,
                    "{}",
                    i.arn
                );
                assert_eq!(
                    (i.running_tasks, i.pending_tasks),
                    (running, pending),
                    "{}",
                    i.arn
                );
            }
            let active: Vec<&Instance> =
                instances.iter().filter(|i| i.status == "ACTIVE").collect();
            let pct = |reg: fn(&Instance) -> u32, rem: fn(&Instance) -> u32| {
                let registered: u32 = active.iter().map(|i| reg(i)).sum();
                let remaining: u32 = active.iter().map(|i| rem(i)).sum();
                (registered > 0)
                    .then(|| (registered - remaining) as f64 * 100.0 / registered as f64)
            };
            let cpu = pct(|i| i.cpu_registered, |i| i.cpu_remaining);
            let memory = pct(|i| i.memory_registered, |i| i.memory_remaining);
            let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
                (Some(a), Some(b)) => (a - b).abs() < 1e-9,
                (a, b) => a.is_none() && b.is_none(),
            };
            assert!(close(c.cpu_reserved_pct, cpu), "{}", c.name);
            assert!(close(c.memory_reserved_pct, memory), "{}", c.name);
        }
    }

    #[test]
    fn same_seed_and_time_give_the_same_fleet() {
        let (a, b) = (demo("default", 7), demo("default", 7));
        assert_eq!(dump(&a), dump(&b));
        a.advance_to(start() + minutes(30));
        b.advance_to(start() + minutes(30));
        assert_eq!(dump(&a), dump(&b));
        let c = demo("default", 8);
        c.advance_to(start() + minutes(30));
        assert_ne!(dump(&a), dump(&c));
    }

    #[test]
    fn one_jump_equals_many_small_steps() {
        let (a, b) = (demo("default", 3), demo("default", 3));
        let end = start() + minutes(45);
        a.advance_to(end);
        let mut t = start();
        while t < end {
            t += chrono::TimeDelta::seconds(7);
            b.advance_to(t.min(end));
            // Queries in between must not disturb the simulation.
            let _ = running_tasks(&b, "prod");
        }
        b.advance_to(start());
        assert_eq!(dump(&a), dump(&b));
    }

    #[test]
    fn default_scenario_has_the_promised_size_and_variety() {
        let src = demo("default", 1);
        let clusters = block_on(src.clusters()).unwrap();
        assert!(clusters.len() >= 3);
        let svcs = all_services(&src);
        assert!((18..=24).contains(&svcs.len()), "{} services", svcs.len());
        let running: u32 = clusters.iter().map(|c| c.running_tasks).sum();
        assert!((130..=170).contains(&running), "{running} running");
        let instances: u32 = clusters.iter().map(|c| c.instances).sum();
        assert!((8..=12).contains(&instances), "{instances} instances");

        let identity = block_on(src.identity()).unwrap();
        assert_eq!(identity.source, "demo: default");
        assert_eq!(identity.account, "123456789012");
        let prod = clusters.iter().find(|c| c.name == "prod").unwrap();
        assert_eq!(prod.container_insights, crate::model::Insights::Enhanced);
        let batch = clusters.iter().find(|c| c.name == "batch").unwrap();
        assert_eq!((batch.instances, batch.cpu_reserved_pct), (0, None));
        assert_eq!(batch.capacity_providers, ["FARGATE", "FARGATE_SPOT"]);
        let staging = block_on(src.instances("staging")).unwrap();
        assert!(staging.iter().any(|i| i.status == "DRAINING"));
        let prod_instances = block_on(src.instances("prod")).unwrap();
        assert_eq!(
            prod_instances.iter().filter(|i| !i.agent_connected).count(),
            1
        );
        let azs: HashSet<&str> = prod_instances
            .iter()
            .map(|i| i.availability_zone.as_str())
            .collect();
        assert_eq!(azs.len(), 3);

        // One rolling deployment with tasks of both revisions.
        let rolling: Vec<&Service> = svcs.iter().filter(|s| s.deployments.len() == 2).collect();
        assert_eq!(rolling.len(), 1);
        let cart = rolling[0];
        assert_eq!(
            cart.primary_deployment().unwrap().rollout_state,
            "IN_PROGRESS"
        );
        let revisions: HashSet<u32> = running_tasks(&src, "prod")
            .iter()
            .filter(|t| t.service_name() == Some(cart.name.as_str()))
            .map(|t| t.task_definition.revision)
            .collect();
        assert_eq!(revisions.len(), 2);
        assert!(svcs.iter().any(|s| s.pending > 0));
        assert!(svcs.iter().any(|s| s.running + s.pending < s.desired));
        assert!(svcs.iter().any(|s| s.enable_execute_command));
        assert!(svcs.iter().any(|s| !s.target_group_arns.is_empty()));
        let desired: HashSet<u32> = svcs.iter().map(|s| s.desired).collect();
        assert!(desired.contains(&1) && desired.contains(&12));

        let tasks: Vec<Task> = clusters
            .iter()
            .flat_map(|c| running_tasks(&src, &c.name))
            .collect();
        assert!(tasks.iter().filter(|t| t.health == "UNHEALTHY").count() >= 2);
        let sizes: HashSet<usize> = tasks.iter().map(|t| t.containers.len()).collect();
        assert!(sizes.contains(&1) && sizes.contains(&3), "{sizes:?}");
        for t in &tasks {
            assert!(
                t.arn
                    .starts_with("arn:aws:ecs:eu-west-1:123456789012:task/")
            );
            assert_eq!(t.id().len(), 32);
            assert!(t.private_ip.starts_with("10.0."));
            assert_eq!(t.launch_type == "EC2", t.ec2_instance_id.is_some());
            if let Some(id) = &t.ec2_instance_id {
                assert!(id.starts_with("i-0") && id.len() == 19);
            }
            assert!(t.created_at.unwrap() <= start());
            if t.last_status == "RUNNING" && t.enable_execute_command {
                assert!(
                    t.containers
                        .iter()
                        .all(|c| c.exec_agent.as_deref() == Some("RUNNING"))
                );
            }
        }
        assert!(tasks.iter().any(|t| t.containers[0].image
            == format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/cart:{}", {
                let image = &t.containers[0].image;
                image.rsplit_once(':').unwrap().1.to_string()
            })));

        let stopped: Vec<Task> = clusters
            .iter()
            .flat_map(|c| stopped_tasks(&src, &c.name))
            .collect();
        let oom = stopped
            .iter()
            .find(|t| {
                t.stop_code == "EssentialContainerExited" && t.containers[0].exit_code == Some(137)
            })
            .expect("an OOM kill");
        assert!(oom.containers[0].reason.starts_with("OutOfMemoryError"));
        assert_eq!(oom.stopped_reason, "Essential container in task exited");
        let pull = stopped
            .iter()
            .find(|t| t.stop_code == "TaskFailedToStart")
            .expect("a pull failure");
        assert!(pull.stopped_reason.starts_with("CannotPullContainerError"));
        assert!(pull.containers.iter().all(|c| c.exit_code.is_none()));
        let scaled = stopped
            .iter()
            .find(|t| {
                t.stop_code == "ServiceSchedulerInitiated"
                    && t.stopped_reason
                        .starts_with("Scaling activity initiated by (deployment ecs-svc/")
            })
            .expect("a deployment stop");
        assert!(matches!(scaled.containers[0].exit_code, Some(143 | 137)));
        assert!(
            stopped
                .iter()
                .all(|t| t.stopped_at.unwrap() > start() - minutes(60))
        );
        for c in &clusters {
            let stopped = stopped_tasks(&src, &c.name);
            assert!(
                stopped
                    .windows(2)
                    .all(|w| w[0].stopped_at >= w[1].stopped_at)
            );
        }
        assert_consistent(&src);
    }

    #[test]
    fn large_scenario_is_exactly_its_size() {
        let began = std::time::Instant::now();
        let src = demo("large", 1);
        eprintln!("large scenario built in {:?}", began.elapsed());
        let clusters = block_on(src.clusters()).unwrap();
        assert_eq!(clusters.len(), 1);
        let c = &clusters[0];
        assert_eq!(
            (c.active_services, c.running_tasks, c.instances),
            (200, 10_000, 500)
        );
        assert_eq!(c.pending_tasks, 0);
        let cart = block_on(src.tasks(
            &TaskScope::Service {
                cluster: "large".into(),
                service: "cart-api".into(),
            },
            false,
        ))
        .unwrap();
        assert_eq!(cart.len(), 50);
        assert_consistent(&src);
        let began = std::time::Instant::now();
        src.advance_to(start() + minutes(10));
        eprintln!(
            "large scenario advanced 10 minutes in {:?}",
            began.elapsed()
        );
        assert_consistent(&src);
        let c = &block_on(src.clusters()).unwrap()[0];
        assert!(c.running_tasks + c.pending_tasks >= 9_900, "{c:?}");
        let began = std::time::Instant::now();
        src.advance_to(start() + minutes(70));
        eprintln!("large scenario advanced 1 hour in {:?}", began.elapsed());
        assert_consistent(&src);
        let svcs = services(&src, "large");
        let redeployed = svcs
            .iter()
            .filter(|s| s.last_deployment_at() > Some(start()))
            .count();
        assert!(redeployed >= 5, "{redeployed} deployments in an hour");
        assert!(svcs.iter().all(|s| s.running + s.pending + 10 >= s.desired));
        let stopped = stopped_tasks(&src, "large");
        assert!(stopped.len() > 50, "{} stopped", stopped.len());
    }

    #[test]
    fn huge_scenario_is_exactly_its_size() {
        let began = std::time::Instant::now();
        let src = demo("huge", 1);
        eprintln!("huge scenario built in {:?}", began.elapsed());
        let clusters = block_on(src.clusters()).unwrap();
        assert_eq!(clusters.len(), 40);
        let sum = |f: fn(&Cluster) -> u32| clusters.iter().map(f).sum::<u32>();
        assert_eq!(sum(|c| c.active_services), 2_000);
        assert_eq!(sum(|c| c.running_tasks), 100_000);
        assert_eq!(sum(|c| c.instances), 5_000);
        assert_eq!(sum(|c| c.pending_tasks), 0);
        let core = clusters.iter().find(|c| c.name == "core").unwrap();
        assert_eq!(core.active_services, 1_200);
        let mut names: Vec<String> = clusters.iter().map(|c| c.name.clone()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 40, "cluster names are unique");
        assert_consistent(&src);
        let began = std::time::Instant::now();
        src.advance_to(start() + minutes(10));
        eprintln!("huge scenario advanced 10 minutes in {:?}", began.elapsed());
        assert_consistent(&src);
        let clusters = block_on(src.clusters()).unwrap();
        let live: u32 = clusters
            .iter()
            .map(|c| c.running_tasks + c.pending_tasks)
            .sum();
        assert!(live >= 99_000, "{live} tasks live");
        let stopped: usize = clusters
            .iter()
            .map(|c| stopped_tasks(&src, &c.name).len())
            .sum();
        assert!(stopped > 20, "{stopped} stopped: the fleet moves");
    }

    #[test]
    fn counts_stay_consistent_as_time_moves() {
        for seed in [1, 2, 3] {
            let src = demo("default", seed);
            assert_consistent(&src);
            src.advance_to(start() + minutes(10));
            assert_consistent(&src);
            src.advance_to(start() + minutes(95));
            assert_consistent(&src);
        }
    }

    #[test]
    fn tasks_stop_get_replaced_and_deployments_finish() {
        let src = demo("default", 5);
        let before: HashMap<String, u32> = all_services(&src)
            .into_iter()
            .map(|s| (s.name.clone() + &s.cluster_arn, s.task_definition.revision))
            .collect();
        let rolling = services(&src, "prod")
            .into_iter()
            .find(|s| s.name == "cart")
            .and_then(|s| s.primary_deployment().map(|d| d.id.clone()))
            .unwrap();
        src.advance_to(start() + minutes(20));
        let clusters = ["prod", "staging", "batch"];
        let stopped: Vec<Task> = clusters
            .iter()
            .flat_map(|c| stopped_tasks(&src, c))
            .collect();
        let running: Vec<Task> = clusters
            .iter()
            .flat_map(|c| running_tasks(&src, c))
            .collect();
        let mut random_stops = 0;
        for t in stopped.iter().filter(|t| {
            t.stopped_at.unwrap() > start() && t.stop_code != "ServiceSchedulerInitiated"
        }) {
            random_stops += 1;
            let same_service = |r: &&Task| r.group == t.group && r.cluster_arn == t.cluster_arn;
            // A rolling deployment replaces old tasks with new ones instead.
            let deploying = running
                .iter()
                .chain(&stopped)
                .filter(same_service)
                .any(|r| {
                    r.task_definition.revision > t.task_definition.revision
                        && r.created_at <= t.stopping_at
                });
            let replaced = running
                .iter()
                .chain(&stopped)
                .filter(same_service)
                .any(|r| r.created_at >= t.stopping_at);
            assert!(deploying || replaced, "no replacement for {}", t.arn);
        }
        assert!(random_stops >= 2, "{random_stops} random stops");
        let svcs = all_services(&src);
        let cart = svcs
            .iter()
            .find(|s| s.name == "cart" && s.cluster_arn.ends_with("/prod"))
            .unwrap();
        // The rollout under way at start finished (a newer one may have begun since).
        assert!(
            cart.deployments
                .iter()
                .all(|d| d.id != rolling || d.rollout_state == "COMPLETED")
        );
        let completed = format!("(service cart) (deployment {rolling}) deployment completed.");
        assert!(
            cart.events
                .iter()
                .any(|e| e.message == completed && e.at > start())
        );
        let redeployed = svcs
            .iter()
            .filter(|s| before[&(s.name.clone() + &s.cluster_arn)] != s.task_definition.revision)
            .count();
        assert!(redeployed >= 1, "{redeployed} services got a new revision");
        let search = svcs.iter().find(|s| s.name == "search").unwrap();
        assert_eq!(search.pending, 0);
        assert!(search.events.iter().any(|e| e.message
            == "(service search) has reached a steady state."
            && e.at > start()));
        let recommendations = svcs.iter().find(|s| s.name == "recommendations").unwrap();
        // Its instance has room for three tasks only, whatever else happened meanwhile.
        assert!(recommendations.running + recommendations.pending <= 3);
        assert!(
            recommendations
                .events
                .iter()
                .any(|e| e.at > start() && e.message.contains("was unable to place a task"))
        );
    }

    #[test]
    fn stopped_tasks_are_forgotten_after_an_hour() {
        let src = demo("default", 9);
        let initial: Vec<String> = stopped_tasks(&src, "prod")
            .into_iter()
            .map(|t| t.arn.into())
            .collect();
        assert!(!initial.is_empty());
        let end = start() + minutes(70);
        src.advance_to(end);
        let stopped = stopped_tasks(&src, "prod");
        assert!(!stopped.is_empty());
        assert!(
            stopped
                .iter()
                .all(|t| t.stopped_at.unwrap() >= end - minutes(60))
        );
        for arn in &initial {
            assert!(stopped.iter().all(|t| &t.arn != arn));
            assert_eq!(block_on(src.task("prod", arn)).unwrap(), None);
        }
        let recent = &stopped[0];
        assert_eq!(
            block_on(src.task("prod", &recent.arn)).unwrap().as_ref(),
            Some(recent)
        );
    }

    #[test]
    fn unknown_things_are_not_found() {
        let src = demo("default", 1);
        let err = block_on(src.services("nope")).unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound);
        assert!(err.message.contains("nope"), "{}", err.message);
        let scope = TaskScope::Service {
            cluster: "prod".into(),
            service: "gone".into(),
        };
        let err = block_on(src.tasks(&scope, false)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound);
        assert_eq!(err.message, "service gone no longer exists in prod");
        let scope = TaskScope::Instance {
            cluster: "prod".into(),
            instance: "bogus".into(),
        };
        assert_eq!(
            block_on(src.tasks(&scope, false)).unwrap_err().kind,
            ErrorKind::NotFound
        );
        assert_eq!(
            block_on(src.instances("nope")).unwrap_err().kind,
            ErrorKind::NotFound
        );
        let arn = "arn:aws:ecs:eu-west-1:123456789012:task/prod/0123456789abcdef0123456789abcdef";
        assert_eq!(block_on(src.task("prod", arn)).unwrap(), None);
        assert_eq!(
            block_on(src.task("nope", arn)).unwrap_err().kind,
            ErrorKind::NotFound
        );
    }

    #[test]
    fn scopes_select_the_right_tasks() {
        let src = demo("default", 1);
        let instances = block_on(src.instances("prod")).unwrap();
        let busy = instances.iter().find(|i| i.running_tasks > 0).unwrap();
        let scope = TaskScope::Instance {
            cluster: "prod".into(),
            instance: busy.arn.clone(),
        };
        let on = block_on(src.tasks(&scope, false)).unwrap();
        assert!(!on.is_empty());
        assert!(
            on.iter()
                .all(|t| t.container_instance_arn.as_deref() == Some(busy.arn.as_str()))
        );
        let all = running_tasks(&src, "prod");
        let expected = all
            .iter()
            .filter(|t| t.container_instance_arn.as_deref() == Some(busy.arn.as_str()))
            .count();
        assert_eq!(on.len(), expected);
        assert!(
            block_on(src.tasks(&scope, true))
                .unwrap()
                .iter()
                .all(|t| t.container_instance_arn.as_deref() == Some(busy.arn.as_str()))
        );
        let scope = TaskScope::Service {
            cluster: "prod".into(),
            service: "payments".into(),
        };
        let stopped = block_on(src.tasks(&scope, true)).unwrap();
        assert_eq!(stopped.len(), 2);
        assert!(
            stopped
                .iter()
                .all(|t| t.is_stopped() && t.group == "service:payments")
        );
        let one = &all[17];
        assert_eq!(
            block_on(src.task("prod", &one.arn)).unwrap().as_ref(),
            Some(one)
        );
        assert_eq!(
            block_on(src.task("prod", one.id())).unwrap().as_ref(),
            Some(one)
        );
    }

    #[test]
    fn unknown_scenario_names_the_known_ones() {
        let err = DemoSource::new("chaos", 1, start(), DemoClock::System)
            .err()
            .unwrap();
        for name in DemoSource::scenarios() {
            assert!(err.contains(name), "{err}");
        }
        assert!(DemoSource::scenarios().contains(&"default"));
        assert!(DemoSource::scenarios().contains(&"large"));
    }

    #[test]
    fn the_system_clock_moves_the_fleet() {
        let began = Utc::now() - minutes(3);
        let src = DemoSource::new("default", 1, began, DemoClock::System).unwrap();
        let clusters = block_on(src.clusters()).unwrap();
        assert!(clusters[0].fetched_at.unwrap() >= began + minutes(3));
        assert!(src.now() >= began + minutes(3));
    }

    #[test]
    fn a_long_run_stays_plausible() {
        let src = demo("default", 11);
        for hour in 1..=6 {
            src.advance_to(start() + minutes(60 * hour));
            assert_consistent(&src);
            for s in all_services(&src) {
                if let Some(d) = s
                    .primary_deployment()
                    .filter(|d| d.rollout_state == "IN_PROGRESS")
                {
                    let age = start() + minutes(60 * hour) - d.created_at.unwrap();
                    assert!(age < minutes(30), "{} stuck deploying for {age}", s.name);
                }
                if s.name != "recommendations" {
                    assert!(
                        s.running + s.pending + 2 >= s.desired,
                        "{} {}/{}",
                        s.name,
                        s.running,
                        s.desired
                    );
                }
            }
        }
    }
}
