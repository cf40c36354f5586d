//! The facts of a scenario that are not ECS state — a target group's health check path, a
//! security group rule, the execution role's ECR rights, a host's credit mode, how fast a
//! revision leaks memory — kept as timelines so any past instant can be answered; and
//! [`Ctx`], what a scripted step can do.

use std::collections::HashMap;

use super::super::fleet::{Fleet, TaskSpec};
use super::super::lifecycle::{add_instance, secs};
use super::super::names::{self, InstanceType};
use super::super::simulate::begin_deployment;
use crate::model::Time;

/// A value that changes at known instants. Before the first change it has its initial value.
#[derive(Debug, Clone)]
pub struct Timeline<T: Clone> {
    initial: T,
    changes: Vec<(Time, T)>,
}

impl<T: Clone> Timeline<T> {
    pub fn new(initial: T) -> Self {
        Timeline {
            initial,
            changes: Vec::new(),
        }
    }

    /// From `at` on the value is `value`. Changes are made in time order.
    pub fn set(&mut self, at: Time, value: T) {
        self.changes.push((at, value));
    }

    pub fn at(&self, t: Time) -> &T {
        self.changes
            .iter()
            .rev()
            .find(|(at, _)| *at <= t)
            .map_or(&self.initial, |(_, v)| v)
    }
}

/// How a revision of `web` uses memory over a task's life.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Memory {
    /// Starts at `start` MiB when the task starts and climbs `per_hour` MiB an hour: a leak.
    Leak { start: f64, per_hour: f64 },
    /// Holds near `level` MiB.
    Flat { level: f64 },
    /// Follows the load: `curve` gives MiB at each replay second (a task just started warms up
    /// to it over five minutes).
    Load { curve: super::Curve },
}

#[derive(Debug, Clone)]
pub struct World {
    /// `tg-web`'s HealthCheckPath.
    pub health_check_path: Timeline<&'static str>,
    /// The paths each `web` revision answers 200 on; revisions not listed serve only
    /// `/actuator/health` (Spring Boot Actuator's default).
    pub serves: Vec<(u32, &'static [&'static str])>,
    /// `sg-web` admits `sg-alb` on tcp 8080.
    pub ingress_open: Timeline<bool>,
    /// `web` revisions whose image sits in a private repository the execution role may read
    /// only while `ecr_access` holds.
    pub private_revisions: Vec<u32>,
    pub ecr_access: Timeline<bool>,
    /// Burstable hosts run in unlimited credit mode.
    pub unlimited_credits: Timeline<bool>,
    /// Memory use per `web` revision; `default_memory` for the others.
    pub memory: Vec<(u32, Memory)>,
    pub default_memory: Memory,
    /// The leak is outside the Java heap (direct buffers, a native cache): the heap never
    /// fills, so the logs show no GC pressure and no `OutOfMemoryError` — the kernel just kills
    /// the container at its limit.
    pub leak_off_heap: bool,
    /// `JAVA_TOOL_OPTIONS` per `web` revision (none: the JVM's defaults, not shown).
    pub java_options: Vec<(u32, &'static str)>,
    /// Share of a minute's requests that fail with ELB 502 for each serving task killed in it
    /// (its in-flight and queued requests, and the connections reset with it).
    pub reset_share: f64,
    /// Share of its limit above which a `web` task's back-to-back full GCs stall its health
    /// endpoint past the check's timeout (`None`: the checks answer whatever the memory).
    pub gc_stall_share: Option<f64>,
    /// Share of `web`'s requests whose call to a third-party API hangs past the load
    /// balancer's idle timeout (30 s): the load balancer answers them 504.
    pub hung_calls: Timeline<f64>,
    /// `web` revisions with a client timeout (and a fallback) on that call: their requests
    /// fail fast instead of hanging.
    pub client_timeout: Vec<u32>,
    /// Shares of `web`'s requests whose call to a partner API (`partner_host`) cannot connect
    /// through an exhausted NAT gateway: (answered 5xx by the app after its connect timeout,
    /// retried until the load balancer's idle timeout answers them 504).
    pub egress_failures: Timeline<(f64, f64)>,
    pub partner_host: &'static str,
    /// `web` revisions with a pooled keep-alive HTTP client: they reuse their connections, so
    /// their calls do not fail at the NAT gateway.
    pub pooled_clients: Vec<u32>,
    /// `web` uploads reports to this bucket and the bucket policy refuses it (S3 403).
    pub uploads_denied: Timeline<Option<&'static str>>,
    /// The VPC's DNS is broken (a custom DHCP option set, DNS support off): `web` tasks that
    /// start while it is keep a resolver that cannot resolve the Cloud Map name they call.
    pub dns_broken: Timeline<bool>,
    /// Share of `web`'s requests that need that name (the `/api/orders` calls).
    pub needs_lookup: f64,
    /// Replay second 0 and the ratio (set when the incident starts), for `Memory::Load`.
    pub clock: Option<(Time, i64)>,
    /// Replay seconds at which each of `web`'s tasks at the start runs out of memory (in start
    /// order); their leak rates are fitted to it. Empty: every task leaks at its revision's rate.
    pub oom_at: Vec<f64>,
    /// Leak rate (MiB/h) per task id, where fitted.
    pub leak_rates: HashMap<String, f64>,
    /// Failed tasks that trip `web`'s deployment circuit breaker (`thresholdConfiguration`
    /// COUNT); `None`: ECS's default, half the desired count within 3…200.
    pub breaker_threshold: Option<u32>,
    /// Seconds a target stays unhealthy (past the grace period) before ECS replaces its task.
    /// A new task failing its first checks goes within a minute; the catalog has long-running
    /// tasks that lose their network path stay for several (sg-rule-removed-outage).
    pub unhealthy_stop_secs: i64,
    /// Seconds from RUNNING until the application answers (`Started WebApplication in 18.4
    /// seconds`).
    pub startup_secs: f64,
    /// Revisions that take longer than `startup_secs` to answer (a cache warm-up), in seconds.
    pub slow_starts: Vec<(u32, f64)>,
    /// Revisions that serve long requests (report exports of this many seconds) and ignore
    /// SIGTERM: their targets drain until the requests end or the deregistration delay cuts
    /// them off, and ECS SIGKILLs them `ecs::STOP_TIMEOUT_SECS` after SIGTERM (exit 137).
    pub long_requests: Vec<(u32, i64)>,
    /// `tg-web`'s `deregistration_delay.timeout_seconds`.
    pub deregistration_delay: Timeline<i64>,
    /// Seconds an image pull takes (PENDING), and a denied one before it gives up.
    pub pull_secs: i64,
    pub denied_pull_secs: i64,
    /// `web`'s scalable target MaxCapacity (MinCapacity is 2).
    pub max_capacity: Timeline<u32>,
    /// `tg-web` and the load balancer in front of it (set when the incident starts).
    pub web_target_group: String,
    pub load_balancer: String,
}

impl Default for World {
    fn default() -> Self {
        World {
            health_check_path: Timeline::new("/actuator/health"),
            serves: Vec::new(),
            ingress_open: Timeline::new(true),
            private_revisions: Vec::new(),
            ecr_access: Timeline::new(true),
            unlimited_credits: Timeline::new(false),
            memory: Vec::new(),
            default_memory: Memory::Flat { level: 560.0 },
            leak_off_heap: false,
            java_options: Vec::new(),
            reset_share: 0.008,
            clock: None,
            gc_stall_share: None,
            hung_calls: Timeline::new(0.0),
            client_timeout: Vec::new(),
            egress_failures: Timeline::new((0.0, 0.0)),
            partner_host: "api.partner.example",
            pooled_clients: Vec::new(),
            uploads_denied: Timeline::new(None),
            dns_broken: Timeline::new(false),
            needs_lookup: 0.12,
            oom_at: Vec::new(),
            leak_rates: HashMap::new(),
            breaker_threshold: None,
            unhealthy_stop_secs: 60,
            startup_secs: 18.4,
            slow_starts: Vec::new(),
            long_requests: Vec::new(),
            deregistration_delay: Timeline::new(300),
            pull_secs: 12,
            denied_pull_secs: 95,
            max_capacity: Timeline::new(6),
            web_target_group: String::new(),
            load_balancer: String::new(),
        }
    }
}

pub const WEB: &str = "web";
pub const CLUSTER: &str = "demo-prod";

impl World {
    /// Fits the leak rates of `web`'s first tasks to `oom_at` and notes the target group.
    pub fn prepare(&mut self, fleet: &mut Fleet, start: Time, ratio: i64) {
        self.clock = Some((start, ratio));
        if let Some(web) = fleet
            .clusters
            .iter_mut()
            .flat_map(|c| &mut c.services)
            .find(|s| s.name() == WEB)
        {
            web.spec.java_options = self.java_options_of(web.spec.revision);
        }
        let Some(web) = fleet
            .clusters
            .iter()
            .flat_map(|c| &c.services)
            .find(|s| s.name() == WEB)
        else {
            return;
        };
        self.web_target_group = web
            .service
            .target_group_arns
            .first()
            .cloned()
            .unwrap_or_default();
        self.load_balancer = web
            .service
            .target_group_lbs
            .first()
            .map(|(_, lb)| lb.clone())
            .unwrap_or_default();
        let Memory::Leak { start: base, .. } = self.memory_of(web.spec.revision) else {
            return;
        };
        for (t, oom) in web.tasks.iter().zip(&self.oom_at) {
            let (Some(started), Some(limit)) = (t.task.started_at, t.task.memory) else {
                continue;
            };
            let dies = start + secs((oom * ratio as f64) as i64);
            let hours = (dies - started).num_seconds() as f64 / 3600.0;
            if hours > 0.0 {
                let rate = (f64::from(limit) - base) / hours;
                self.leak_rates.insert(t.task.id().to_string(), rate);
            }
        }
    }

    /// Seconds from RUNNING until `revision` of `web` answers.
    pub fn startup_of(&self, revision: u32) -> f64 {
        self.slow_starts
            .iter()
            .find(|(r, _)| *r == revision)
            .map_or(self.startup_secs, |(_, s)| *s)
    }

    /// How long a draining target of `revision` stays registered when it starts draining at
    /// `at` (`None`: its requests are short, it drains in seconds).
    pub fn long_drain(&self, revision: u32, at: Time) -> Option<i64> {
        let (_, requests) = self.long_requests.iter().find(|(r, _)| *r == revision)?;
        Some((*requests).min(*self.deregistration_delay.at(at)))
    }

    pub fn java_options_of(&self, revision: u32) -> Option<&'static str> {
        self.java_options
            .iter()
            .find(|(r, _)| *r == revision)
            .map(|(_, o)| *o)
    }

    /// Whether a `web` task that started at `started` cannot resolve names (it took the broken
    /// resolver from the DHCP options of its ENI).
    pub fn cannot_resolve(&self, started: Time) -> bool {
        *self.dns_broken.at(started)
    }

    pub fn memory_of(&self, revision: u32) -> Memory {
        self.memory
            .iter()
            .find(|(r, _)| *r == revision)
            .map_or(self.default_memory, |(_, m)| *m)
    }

    /// MiB a `web` task of `revision` that started at `started` uses at `at`.
    pub fn web_memory(&self, task_id: &str, revision: u32, started: Time, at: Time) -> f64 {
        let hours = (at - started).num_milliseconds().max(0) as f64 / 3_600_000.0;
        match self.memory_of(revision) {
            Memory::Leak { start, per_hour } => {
                let rate = self
                    .leak_rates
                    .get(task_id)
                    .copied()
                    // Tasks leak at slightly different rates: they serve different requests.
                    .unwrap_or_else(|| per_hour * (0.94 + 0.12 * unit(task_id)));
                start + rate * hours
            }
            Memory::Flat { level } => {
                // Warm-up over the first minutes, then a level that differs a little per task.
                let warm = (hours * 12.0).min(1.0);
                level * (0.75 + 0.25 * warm) * (0.96 + 0.08 * unit(task_id))
            }
            Memory::Load { curve } => {
                let t = self.clock.map_or(0.0, |(start, ratio)| {
                    (at - start).num_milliseconds() as f64 / 1000.0 / ratio as f64
                });
                let warm = (hours * 12.0).min(1.0);
                let level = super::curve_at(curve, t);
                level * (0.75 + 0.25 * warm) * (0.96 + 0.08 * unit(task_id))
            }
        }
    }

    /// The egress failures a `web` task of `revision` sees at `at`: none once it reuses its
    /// connections.
    pub fn egress_failures_of(&self, revision: u32, at: Time) -> (f64, f64) {
        if self.pooled_clients.contains(&revision) {
            (0.0, 0.0)
        } else {
            *self.egress_failures.at(at)
        }
    }

    /// Whether revision `revision` of `web` answers 200 on `path`.
    pub fn serves(&self, revision: u32, path: &str) -> bool {
        match self.serves.iter().find(|(r, _)| *r == revision) {
            Some((_, paths)) => paths.contains(&path),
            None => path == "/actuator/health",
        }
    }

    /// Whether pulling `web`'s `revision` at `at` is refused.
    pub fn pull_denied(&self, revision: u32, at: Time) -> bool {
        self.private_revisions.contains(&revision) && !*self.ecr_access.at(at)
    }
}

/// A number in [0, 1) fixed per text.
pub fn unit(text: &str) -> f64 {
    let h = crate::model::hash::stable(&[text.as_bytes()]);
    ((h ^ (h >> 31)) >> 11) as f64 / (1u64 << 53) as f64
}

/// What a scripted step can do: the API calls an operator, a pipeline or autoscaling makes,
/// and the changes outside ECS the scenario stands for.
pub struct Ctx<'a> {
    pub fleet: &'a mut Fleet,
    pub world: &'a mut World,
    pub specs: &'a mut HashMap<(String, u32), TaskSpec>,
    pub now: Time,
}

impl Ctx<'_> {
    fn service_mut(&mut self, service: &str) -> Option<(usize, usize)> {
        self.fleet
            .clusters
            .iter()
            .enumerate()
            .find_map(|(c, cl)| cl.service_index.get(service).map(|&s| (c, s)))
    }

    /// `RegisterTaskDefinition` of the service's next revision (new image tag, optionally a
    /// new memory size) and `UpdateService` onto it: a new PRIMARY deployment.
    pub fn deploy(&mut self, service: &str, tag: &str, memory: Option<u32>) {
        let Some((c, s)) = self.service_mut(service) else {
            return;
        };
        let now = self.now;
        let Fleet {
            clusters,
            rng,
            taskdefs,
            ..
        } = &mut *self.fleet;
        let fargate = clusters[c].fargate;
        let svc = &mut clusters[c].services[s];
        svc.spec.revision = taskdefs.next_revision(&svc.spec.family, svc.spec.revision);
        svc.spec.image = svc.spec.place.ecr_image(&svc.spec.app_name, tag);
        svc.spec.java_options = self.world.java_options_of(svc.spec.revision);
        if let Some(memory) = memory {
            svc.spec.memory = memory;
        }
        self.specs
            .insert((service.to_string(), svc.spec.revision), svc.spec.clone());
        let id = names::deployment_id(rng);
        begin_deployment(svc, id.clone(), now);
        taskdefs.record(svc, fargate, now);
        let message = format!(
            "(service {service}) updated to task definition {}; (deployment {id}) deployment started.",
            svc.spec.task_definition()
        );
        svc.push_event(rng, now, message);
    }

    /// `UpdateService taskDefinition` onto a revision the service ran before.
    pub fn update_to(&mut self, service: &str, revision: u32) {
        let Some(spec) = self.specs.get(&(service.to_string(), revision)).cloned() else {
            return;
        };
        let Some((c, s)) = self.service_mut(service) else {
            return;
        };
        let now = self.now;
        let Fleet { clusters, rng, .. } = &mut *self.fleet;
        let svc = &mut clusters[c].services[s];
        svc.spec = spec;
        let id = names::deployment_id(rng);
        begin_deployment(svc, id.clone(), now);
        let message = format!(
            "(service {service}) updated to task definition {}; (deployment {id}) deployment started.",
            svc.spec.task_definition()
        );
        svc.push_event(rng, now, message);
    }

    /// `UpdateService forceNewDeployment`: the same revision, every task replaced.
    pub fn redeploy(&mut self, service: &str) {
        let Some((c, s)) = self.service_mut(service) else {
            return;
        };
        let revision = self.fleet.clusters[c].services[s].spec.revision;
        self.update_to(service, revision);
    }

    /// `UpdateService deploymentConfiguration`.
    pub fn deployment_config(&mut self, service: &str, minimum: u32, maximum: u32) {
        if let Some((c, s)) = self.service_mut(service) {
            let config = &mut self.fleet.clusters[c].services[s].service.deployment_config;
            config.minimum_healthy_percent = Some(minimum);
            config.maximum_percent = Some(maximum);
        }
    }

    /// `UpdateService healthCheckGracePeriodSeconds`.
    pub fn grace(&mut self, service: &str, secs: u32) {
        if let Some((c, s)) = self.service_mut(service) {
            self.fleet.clusters[c].services[s]
                .service
                .health_check_grace_secs = Some(secs);
        }
    }

    /// `UpdateService desiredCount` (autoscaling or a person).
    pub fn scale(&mut self, service: &str, to: u32) {
        if let Some((c, s)) = self.service_mut(service) {
            let svc = &mut self.fleet.clusters[c].services[s];
            svc.service.desired = to;
            if let Some(d) = svc
                .service
                .deployments
                .iter_mut()
                .find(|d| d.status == "PRIMARY")
            {
                d.desired = to;
            }
            svc.dirty = true;
            svc.unsteady = true;
        }
    }

    /// Target tracking's scale-out: `desiredCount` up to `to`, unless it is already higher
    /// (someone scaled by hand).
    pub fn scale_out(&mut self, service: &str, to: u32) {
        let current = self
            .service_mut(service)
            .map(|(c, s)| self.fleet.clusters[c].services[s].service.desired);
        if current.is_some_and(|d| d < to) {
            self.scale(service, to);
        }
    }

    /// The Auto Scaling group launched an instance and its ECS agent registered it.
    pub fn register_instance(&mut self, ty: InstanceType, az: usize) {
        let now = self.now;
        let Fleet { clusters, rng, .. } = &mut *self.fleet;
        let Some(cl) = clusters.iter_mut().find(|c| c.name == CLUSTER) else {
            return;
        };
        let n = add_instance(cl, rng, ty, az, None, |_| now - secs(95), |_, _| now);
        let (peers, new) = cl.instances.split_at_mut(n);
        let peers: Vec<&crate::model::Instance> = peers.iter().map(|p| &p.instance).collect();
        crate::source::demo::amis::run_as_template(&mut new[0].instance, &peers);
        for svc in &mut cl.services {
            // A service waiting to place a task tries again at its next pass.
            if svc.service.desired > svc.active() {
                svc.place_retry_at = None;
                svc.dirty = true;
            }
        }
    }

    /// `CreateNatGateway` in the public subnet of AZ `az`, and the route table of that AZ's
    /// private subnet pointed at it: the subnet's egress leaves the gateways that served it.
    pub fn add_nat_gateway(&mut self, id: &str, az: usize) {
        let private = names::private_subnet(az).to_string();
        for g in &mut self.fleet.nat_gateways {
            g.serves.retain(|s| *s != private);
        }
        self.fleet.nat_gateways.push(crate::model::NatGateway {
            id: id.into(),
            state: "available".into(),
            vpc_id: names::VPC.into(),
            subnet_id: names::public_subnet(az).into(),
            addresses: 1,
            serves: vec![private],
        });
    }

    /// `UpdateContainerInstancesState DRAINING` on the cluster's instances of `family`
    /// (`t3.`) that are still ACTIVE — unless someone already did.
    pub fn drain(&mut self, family: &str) {
        let Some(cl) = self.fleet.clusters.iter_mut().find(|c| c.name == CLUSTER) else {
            return;
        };
        let mut drained = Vec::new();
        for (n, i) in cl.instances.iter_mut().enumerate() {
            if i.instance.instance_type.starts_with(family) && i.instance.status == "ACTIVE" {
                i.instance.status = "DRAINING".into();
                drained.push(n);
            }
        }
        for svc in &mut cl.services {
            if svc
                .tasks
                .iter()
                .any(|t| t.instance.is_some_and(|n| drained.contains(&n)))
            {
                svc.dirty = true;
                svc.unsteady = true;
            }
        }
    }
}
