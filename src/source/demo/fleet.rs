//! The simulated fleet's state and the read-only queries the source answers from it.
//!
//! Counts that ECS derives (service running/pending, instance task counts, cluster totals) are
//! computed from the task lists at query time, so they can never drift from the tasks shown.
//! Only the instance resource usage is kept incrementally, because placement needs it on every
//! start; `tests` recompute it from the tasks.

use std::collections::{HashMap, VecDeque};

use fastrand::Rng;

use super::names::{self, Place, Sidecar};
use crate::model::{
    Cluster, Identity, Insights, Instance, Service, ServiceEvent, Task, TaskDefRef, TaskScope,
    Time, arn_tail,
};
use crate::source::SourceError;

/// How long ECS keeps listing a stopped task.
pub const STOPPED_RETENTION_SECS: i64 = 3600;
/// ECS returns the last 100 events of a service.
pub const MAX_EVENTS: usize = 100;

/// The whole simulated world.
pub struct Fleet {
    pub scenario: String,
    /// The account and region the fleet lives in (what STS says and its ARNs name).
    pub place: Place,
    pub rng: Rng,
    /// Simulation time: the last step boundary that has been applied.
    pub now: Time,
    pub clusters: Vec<ClusterState>,
    pub tuning: Tuning,
    pub next_deployment_at: Time,
    /// Every revision of every family the services have run.
    pub taskdefs: super::taskdefs::Registry,
    /// The replayed incident (`--demo memory-leak`, …) this fleet plays, if any.
    pub incident: Option<Box<super::scenario::Incident>>,
    /// The VPC's NAT gateways, each with every private subnet whose default route goes through
    /// it. A scenario step may add one or move subnets (a route table change).
    pub nat_gateways: Vec<crate::model::NatGateway>,
}

/// Rates of the random things that happen to a fleet, per scenario.
#[derive(Debug, Clone, Copy)]
pub struct Tuning {
    pub stops_per_hour: f64,
    pub health_flaps_per_hour: f64,
    /// A new deployment starts somewhere every `min..max` seconds.
    pub deployment_every_secs: (i64, i64),
    /// Share of scheduler-started tasks that fail to start (image pull, secrets).
    pub start_failure_rate: f64,
}

pub struct ClusterState {
    /// Its fleet's account and region, which its ARNs and AZs name.
    pub place: Place,
    pub name: String,
    pub arn: String,
    pub capacity_providers: Vec<String>,
    pub container_insights: bool,
    pub tags: Vec<(String, String)>,
    /// Fargate clusters have no instances; tasks get no container instance.
    pub fargate: bool,
    pub services: Vec<ServiceState>,
    pub instances: Vec<InstanceState>,
    pub service_index: HashMap<String, usize>,
    /// Container instance id (ARN tail) → index in `instances`.
    pub instance_index: HashMap<String, usize>,
    /// Task id → index of its service, for live and stopped tasks.
    pub task_index: HashMap<String, usize>,
}

pub struct InstanceState {
    /// Static fields; task counts and remaining resources are filled in by the query.
    pub instance: Instance,
    pub az: usize,
    /// Instances of a pool only take services of the same pool (a placement constraint).
    pub pool: Option<&'static str>,
    pub cpu_used: u32,
    pub memory_used: u32,
}

pub struct ServiceState {
    /// Static fields plus deployments and events; counts are filled in by the query.
    pub service: Service,
    pub spec: TaskSpec,
    pub pool: Option<&'static str>,
    pub health_check: bool,
    /// FARGATE_SPOT services can lose tasks to Spot interruptions.
    pub spot: bool,
    /// Tasks not yet STOPPED (they hold resources), in start order.
    pub tasks: Vec<SimTask>,
    /// Stopped tasks, oldest stop first.
    pub stopped: VecDeque<Task>,
    /// Something changed since the last scheduler pass.
    pub dirty: bool,
    /// Waiting to announce "has reached a steady state".
    pub unsteady: bool,
    /// Earliest `next_at` of the tasks (or the next placement retry).
    pub wake_at: Option<Time>,
    pub place_retry_at: Option<Time>,
    pub last_place_event_at: Option<Time>,
    /// Per-step buffers so one scheduler pass yields one event per kind, as ECS words it.
    pub started_now: Vec<String>,
    pub stopped_now: Vec<String>,
    pub draining_now: usize,
    pub registered_now: usize,
}

/// What a new task of the service looks like (its current task definition).
#[derive(Debug, Clone)]
pub struct TaskSpec {
    /// Where the family is registered (its ARN's account and region).
    pub place: Place,
    pub family: String,
    pub revision: u32,
    pub cpu: u32,
    pub memory: u32,
    pub app_name: String,
    pub image: String,
    pub sidecars: Vec<&'static Sidecar>,
    /// `JAVA_TOOL_OPTIONS` of the app container, where a replayed incident sets it.
    pub java_options: Option<&'static str>,
}

impl TaskSpec {
    pub fn task_definition(&self) -> TaskDefRef {
        self.place.task_definition(&self.family, self.revision)
    }
}

/// A task plus what the simulation will do to it next.
pub struct SimTask {
    pub task: Task,
    /// The deployment that started it.
    pub deployment: String,
    pub instance: Option<usize>,
    /// Availability zone index (below `names::AZ_COUNT`).
    pub az: usize,
    pub next_at: Option<Time>,
    pub next: Next,
    /// Decided at creation: this task will fail at the end of PENDING.
    pub fail_start: Option<StopKind>,
    /// Set when a stop begins; shapes the exit codes once the task is STOPPED.
    pub stop_kind: Option<StopKind>,
    /// Whether its load balancer target passes health checks, where a replayed incident models
    /// the load balancer (`None` elsewhere: the task serves once it is RUNNING).
    pub target_healthy: Option<bool>,
}

/// The transition due at `next_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Nothing,
    /// Move one status further along the start or stop path.
    Advance,
    /// A health check verdict: pass turns HEALTHY, fail replaces the task.
    Health {
        pass: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopKind {
    /// Essential container exited with 1.
    Crash,
    OutOfMemory,
    HealthCheck,
    ElbHealth,
    /// Replaced by a rolling deployment.
    Deployment,
    SpotInterruption,
    PullFailure,
    SecretsFailure,
    /// An operator's `StopTask` (the demo's `apply`).
    UserInitiated,
}

impl InstanceState {
    /// Open to new tasks of a service in `pool`: ECS places nothing on instances that are
    /// draining or whose agent is disconnected.
    pub fn accepts(&self, pool: Option<&str>) -> bool {
        self.pool == pool && self.instance.agent_connected && self.instance.status == "ACTIVE"
    }

    pub fn has_room(&self, cpu: u32, memory: u32) -> bool {
        self.cpu_used + cpu <= self.instance.cpu_registered
            && self.memory_used + memory <= self.instance.memory_registered
    }
}

impl SimTask {
    pub fn wants_running(&self) -> bool {
        self.task.desired_status == "RUNNING"
    }

    pub fn is_running(&self) -> bool {
        self.task.last_status == "RUNNING"
    }

    /// Counts toward the service's healthy count (what deployments wait for).
    pub fn is_ready(&self, health_check: bool) -> bool {
        self.wants_running()
            && self.is_running()
            && (!health_check || self.task.health == "HEALTHY")
            && self.target_healthy != Some(false)
    }
}

pub fn is_pending_status(status: &str) -> bool {
    matches!(status, "PROVISIONING" | "PENDING" | "ACTIVATING")
}

/// Running and pending counts as ECS reports them.
fn count(tasks: &[SimTask], mut keep: impl FnMut(&SimTask) -> bool) -> (u32, u32) {
    let mut running = 0;
    let mut pending = 0;
    for t in tasks.iter().filter(|t| keep(t)) {
        if t.is_running() {
            running += 1;
        } else if is_pending_status(&t.task.last_status) {
            pending += 1;
        }
    }
    (running, pending)
}

impl ServiceState {
    pub fn name(&self) -> &str {
        &self.service.name
    }

    pub fn primary_id(&self) -> Option<&str> {
        self.service.primary_deployment().map(|d| d.id.as_str())
    }

    pub fn deploying(&self) -> bool {
        self.service
            .primary_deployment()
            .is_some_and(|d| d.rollout_state == "IN_PROGRESS")
    }

    /// Running and pending counts as ECS reports them (without copying the service).
    pub fn counts(&self) -> (u32, u32) {
        count(&self.tasks, |_| true)
    }

    /// Tasks the scheduler counts toward the desired count.
    pub fn active(&self) -> u32 {
        self.tasks.iter().filter(|t| t.wants_running()).count() as u32
    }

    pub fn snapshot(&self) -> Service {
        let mut service = self.service.clone();
        (service.running, service.pending) = count(&self.tasks, |_| true);
        for d in &mut service.deployments {
            (d.running, d.pending) = count(&self.tasks, |t| t.deployment == d.id);
            if d.status != "PRIMARY" {
                // ECS lowers an old deployment's desired count as the new one takes over.
                d.desired = self
                    .tasks
                    .iter()
                    .filter(|t| t.deployment == d.id && t.wants_running())
                    .count() as u32;
            }
        }
        if let Some(primary) = service.primary_deployment() {
            service.task_definition = primary.task_definition.clone();
        }
        service
    }

    pub fn push_event(&mut self, rng: &mut Rng, at: Time, message: String) {
        self.service.events.insert(
            0,
            ServiceEvent {
                id: names::uuid(rng),
                at,
                message,
            },
        );
        self.service.events.truncate(MAX_EVENTS);
    }

    /// Drops what the per-step buffers collected (the scenario builder writes its own events).
    pub fn clear_buffers(&mut self) {
        self.started_now.clear();
        self.stopped_now.clear();
        self.draining_now = 0;
        self.registered_now = 0;
    }

    pub fn recompute_wake(&mut self) {
        let tasks = self.tasks.iter().filter_map(|t| t.next_at);
        self.wake_at = tasks.chain(self.place_retry_at).min();
    }

    /// Makes sure the service is looked at no later than `at`.
    pub fn wake_by(&mut self, at: Time) {
        self.wake_at = Some(self.wake_at.map_or(at, |w| w.min(at)));
    }
}

impl ClusterState {
    pub fn new(place: Place, name: &str, fargate: bool) -> Self {
        ClusterState {
            place,
            name: name.to_string(),
            arn: place.cluster_arn(name),
            capacity_providers: Vec::new(),
            container_insights: false,
            tags: vec![("env".into(), name.to_string())],
            fargate,
            services: Vec::new(),
            instances: Vec::new(),
            service_index: HashMap::new(),
            instance_index: HashMap::new(),
            task_index: HashMap::new(),
        }
    }

    pub fn service_named(&self, service: &str) -> Result<usize, SourceError> {
        let name = arn_tail(service);
        self.service_index.get(name).copied().ok_or_else(|| {
            SourceError::not_found(format!("service {name} no longer exists in {}", self.name))
        })
    }

    pub fn instance_named(&self, instance: &str) -> Result<usize, SourceError> {
        let id = arn_tail(instance);
        self.instance_index.get(id).copied().ok_or_else(|| {
            SourceError::not_found(format!(
                "container instance {id} is no longer registered in {}",
                self.name
            ))
        })
    }

    pub fn snapshot(&self, fetched_at: Time) -> Cluster {
        let (mut running, mut pending) = (0, 0);
        for s in &self.services {
            let (r, p) = count(&s.tasks, |_| true);
            running += r;
            pending += p;
        }
        let (cpu, memory) = self.reserved_pct();
        Cluster {
            arn: self.arn.clone(),
            name: self.name.clone(),
            status: "ACTIVE".into(),
            active_services: self.services.len() as u32,
            running_tasks: running,
            pending_tasks: pending,
            instances: self.instances.len() as u32,
            cpu_reserved_pct: cpu,
            memory_reserved_pct: memory,
            capacity_providers: self.capacity_providers.clone(),
            container_insights: if self.container_insights {
                Insights::Enhanced
            } else {
                Insights::Off
            },
            tags: self.tags.clone(),
            fetched_at: Some(fetched_at),
            context: None,
        }
    }

    /// CPU and memory reserved by tasks, as shares of what the ACTIVE instances registered
    /// (what ECS's CPUReservation/MemoryReservation say; `None` without instances).
    pub fn reserved_pct(&self) -> (Option<f64>, Option<f64>) {
        let active: Vec<&InstanceState> = self
            .instances
            .iter()
            .filter(|i| i.instance.status == "ACTIVE")
            .collect();
        let pct = |used: u64, registered: u64| {
            (registered > 0).then(|| used as f64 * 100.0 / registered as f64)
        };
        let cpu = pct(
            active.iter().map(|i| i.cpu_used as u64).sum(),
            active
                .iter()
                .map(|i| i.instance.cpu_registered as u64)
                .sum(),
        );
        let memory = pct(
            active.iter().map(|i| i.memory_used as u64).sum(),
            active
                .iter()
                .map(|i| i.instance.memory_registered as u64)
                .sum(),
        );
        (cpu, memory)
    }

    pub fn instance_snapshots(&self) -> Vec<Instance> {
        self.instance_rows(0..self.instances.len())
    }

    /// The instances at these indices as ECS describes them: task counts from one pass over
    /// the cluster's tasks, the rest copied for the asked ones alone.
    pub fn instance_rows(&self, which: impl IntoIterator<Item = usize>) -> Vec<Instance> {
        let mut counts = vec![(0u32, 0u32); self.instances.len()];
        for t in self.services.iter().flat_map(|s| &s.tasks) {
            if let Some(i) = t.instance {
                if t.is_running() {
                    counts[i].0 += 1;
                } else if is_pending_status(&t.task.last_status) {
                    counts[i].1 += 1;
                }
            }
        }
        which
            .into_iter()
            .filter_map(|n| Some((self.instances.get(n)?, counts[n])))
            .map(|(i, (running, pending))| Instance {
                running_tasks: running,
                pending_tasks: pending,
                cpu_remaining: i.instance.cpu_registered.saturating_sub(i.cpu_used),
                memory_remaining: i.instance.memory_registered.saturating_sub(i.memory_used),
                ..i.instance.clone()
            })
            .collect()
    }

    pub fn tasks(&self, scope: &TaskScope, stopped: bool) -> Result<Vec<Task>, SourceError> {
        Ok(self
            .task_refs(scope, stopped)?
            .into_iter()
            .cloned()
            .collect())
    }

    /// The tasks of `scope` in the order the console gets them, by reference: listing a big
    /// pane's ARNs needs no copy of its tasks.
    pub fn task_refs(&self, scope: &TaskScope, stopped: bool) -> Result<Vec<&Task>, SourceError> {
        let (services, instance): (Vec<&ServiceState>, Option<usize>) = match scope {
            TaskScope::Service { service, .. } => {
                (vec![&self.services[self.service_named(service)?]], None)
            }
            TaskScope::Cluster { .. } => (self.services.iter().collect(), None),
            TaskScope::Instance { instance, .. } => (
                self.services.iter().collect(),
                Some(self.instance_named(instance)?),
            ),
        };
        if stopped {
            let arn = instance.map(|i| self.instances[i].instance.arn.as_str());
            let mut out: Vec<&Task> = services
                .iter()
                .flat_map(|s| s.stopped.iter().rev())
                .filter(|t| arn.is_none() || t.container_instance_arn.as_deref() == arn)
                .collect();
            // Newest stop first, like the console shows them.
            out.sort_by_key(|t| std::cmp::Reverse(t.stopped_at));
            Ok(out)
        } else {
            Ok(services
                .iter()
                .flat_map(|s| &s.tasks)
                .filter(|t| instance.is_none() || t.instance == instance)
                .map(|t| &t.task)
                .collect())
        }
    }

    /// A task not yet STOPPED, by id or ARN, by reference.
    pub fn live_task(&self, task: &str) -> Option<&SimTask> {
        let id = arn_tail(task);
        let s = &self.services[*self.task_index.get(id)?];
        s.tasks.iter().find(|t| t.task.id() == id)
    }

    pub fn task(&self, task: &str) -> Option<Task> {
        let id = arn_tail(task);
        let s = &self.services[*self.task_index.get(id)?];
        s.tasks
            .iter()
            .map(|t| &t.task)
            .chain(s.stopped.iter())
            .find(|t| t.id() == id)
            .cloned()
    }

    pub fn add_service(&mut self, state: ServiceState) -> usize {
        let index = self.services.len();
        self.service_index.insert(state.service.name.clone(), index);
        self.services.push(state);
        index
    }

    pub fn add_instance(&mut self, state: InstanceState) -> usize {
        let index = self.instances.len();
        self.instance_index
            .insert(state.instance.id().to_string(), index);
        self.instances.push(state);
        index
    }
}

impl Fleet {
    /// The gateways the default routes of `subnets` go through, each with the asked subnets
    /// it serves (as `DescribeRouteTables` and `DescribeNatGateways` would answer).
    pub fn nat_gateways_for(&self, subnets: &[String]) -> Vec<crate::model::NatGateway> {
        self.nat_gateways
            .iter()
            .filter_map(|g| {
                let serves: Vec<String> = subnets.iter().filter(|s| g.serves(s)).cloned().collect();
                (!serves.is_empty()).then(|| crate::model::NatGateway {
                    serves,
                    ..g.clone()
                })
            })
            .collect()
    }

    pub fn identity(&self) -> Identity {
        Identity {
            source: format!("demo: {}", self.scenario),
            region: self.place.region.into(),
            account: self.place.account.into(),
            principal: names::PRINCIPAL.into(),
        }
    }

    pub fn cluster(&self, cluster: &str) -> Result<&ClusterState, SourceError> {
        let name = arn_tail(cluster);
        self.clusters
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| SourceError::not_found(format!("cluster {name} no longer exists")))
    }

    pub fn cluster_snapshots(&self, fetched_at: Time) -> Vec<Cluster> {
        self.clusters
            .iter()
            .map(|c| c.snapshot(fetched_at))
            .collect()
    }

    pub fn services(&self, cluster: &str) -> Result<Vec<Service>, SourceError> {
        let mut out: Vec<Service> = self
            .cluster(cluster)?
            .services
            .iter()
            .map(ServiceState::snapshot)
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    pub fn tasks(&self, scope: &TaskScope, stopped: bool) -> Result<Vec<Task>, SourceError> {
        self.cluster(scope.cluster())?.tasks(scope, stopped)
    }

    pub fn task(&self, cluster: &str, task: &str) -> Result<Option<Task>, SourceError> {
        Ok(self.cluster(cluster)?.task(task))
    }

    pub fn instances(&self, cluster: &str) -> Result<Vec<Instance>, SourceError> {
        let mut instances = self.cluster(cluster)?.instance_snapshots();
        self.credit_modes(&mut instances);
        Ok(instances)
    }

    /// Instances' credit modes as the replayed incident's world has them now.
    pub fn credit_modes(&self, instances: &mut [Instance]) {
        // A replayed incident's burstable hosts run in the mode its world says (standard until
        // the operator switches them); a host that launched unlimited stays so.
        if let Some(incident) = &self.incident {
            let unlimited = *incident.world.unlimited_credits.at(self.now);
            for i in instances {
                if i.credit_mode == crate::model::CreditMode::Standard && unlimited {
                    i.credit_mode = crate::model::CreditMode::Unlimited;
                }
            }
        }
    }
}
