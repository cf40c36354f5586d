//! The scenarios' starting fleets: what an operator would find when opening the console at
//! `start`, including the recent past (stopped tasks, service events) that led there.

use std::collections::{HashSet, VecDeque};

use fastrand::Rng;

use super::fleet::{
    ClusterState, Fleet, InstanceState, Next, ServiceState, StopKind, TaskSpec, Tuning,
};
use super::lifecycle::{Placement, secs, set_health};
use super::names::{
    self, AZS, C6I_4XLARGE, DATADOG, ENVOY, InstanceType, LOG_ROUTER, M5_2XLARGE, M5_4XLARGE,
    M5_XLARGE, R6I_2XLARGE, Sidecar,
};
use super::simulate::begin_deployment;
use crate::model::{Deployment, Instance, Service, Time};

pub const SCENARIOS: &[&str] = &["default", "large"];

pub fn build(scenario: &str, seed: u64, start: Time) -> Result<Fleet, String> {
    let mut generator = Generator {
        rng: Rng::with_seed(seed),
        start,
        redated: HashSet::new(),
        round_robin: scenario == "large",
        cursor: 0,
    };
    let (clusters, tuning) = match scenario {
        "default" => (generator.default_fleet(), DEFAULT_TUNING),
        "large" => (vec![generator.large_cluster()], LARGE_TUNING),
        other => {
            return Err(format!(
                "unknown demo scenario '{other}'; known scenarios: {}",
                SCENARIOS.join(", ")
            ));
        }
    };
    let mut rng = generator.rng;
    let (min, max) = tuning.deployment_every_secs;
    Ok(Fleet {
        scenario: scenario.to_string(),
        next_deployment_at: start + secs(rng.i64(min..=max)),
        rng,
        now: start,
        clusters,
        tuning,
    })
}

const DEFAULT_TUNING: Tuning = Tuning {
    stops_per_hour: 20.0,
    health_flaps_per_hour: 6.0,
    deployment_every_secs: (240, 600),
    start_failure_rate: 0.05,
};

const LARGE_TUNING: Tuning = Tuning {
    stops_per_hour: 120.0,
    health_flaps_per_hour: 30.0,
    deployment_every_secs: (120, 300),
    start_failure_rate: 0.03,
};

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

/// One service as the scenario describes it.
struct Plan {
    name: String,
    desired: u32,
    cpu: u32,
    memory: u32,
    sidecars: &'static [&'static Sidecar],
    exec: bool,
    web: bool,
    health_check: bool,
    spot: bool,
    pool: Option<&'static str>,
}

#[allow(clippy::too_many_arguments)]
fn plan(
    name: &str,
    desired: u32,
    cpu: u32,
    memory: u32,
    sidecars: &'static [&'static Sidecar],
    exec: bool,
    web: bool,
    health_check: bool,
) -> Plan {
    Plan {
        name: name.to_string(),
        desired,
        cpu,
        memory,
        sidecars,
        exec,
        web,
        health_check,
        spot: false,
        pool: None,
    }
}

struct Generator {
    rng: Rng,
    start: Time,
    /// Tasks whose times were rewritten to make them a recent replacement.
    redated: HashSet<String>,
    /// Place tasks round-robin instead of through `place` (the large scenario).
    round_robin: bool,
    /// Next instance for round-robin placement.
    cursor: usize,
}

impl Generator {
    fn ago(&self, secs_ago: i64) -> Time {
        self.start - secs(secs_ago)
    }

    fn default_fleet(&mut self) -> Vec<ClusterState> {
        vec![self.prod(), self.staging(), self.batch()]
    }

    fn prod(&mut self) -> ClusterState {
        let mut cl = ClusterState::new("prod", false);
        cl.capacity_providers = vec!["prod-asg".into()];
        cl.container_insights = true;
        let general = [
            (M5_4XLARGE, 0),
            (M5_4XLARGE, 1),
            (M5_4XLARGE, 2),
            (C6I_4XLARGE, 0),
            (C6I_4XLARGE, 1),
            (M5_2XLARGE, 2),
            (M5_2XLARGE, 0),
        ];
        for (ty, az) in general {
            self.instance(&mut cl, ty, az, None);
        }
        // Memory-heavy model serving gets its own instance through a placement constraint.
        self.instance(&mut cl, R6I_2XLARGE, 1, Some("ml"));

        const E: &[&Sidecar] = &[&ENVOY];
        const D: &[&Sidecar] = &[&DATADOG];
        const L: &[&Sidecar] = &[&LOG_ROUTER];
        const ED: &[&Sidecar] = &[&ENVOY, &DATADOG];
        const EL: &[&Sidecar] = &[&ENVOY, &LOG_ROUTER];
        const NONE: &[&Sidecar] = &[];
        let plans = [
            plan("web", 12, 512, 1024, L, false, true, true),
            plan("api-gateway", 12, 512, 1024, ED, false, true, true),
            plan("cart", 8, 512, 1024, E, true, true, true),
            plan("checkout", 8, 512, 1024, ED, true, true, true),
            plan("payments", 6, 1024, 2048, D, true, true, true),
            plan("ledger", 3, 1024, 3072, D, true, false, true),
            plan("search", 12, 512, 2048, NONE, false, true, true),
            plan("auth", 6, 256, 512, E, false, true, true),
            plan("inventory", 8, 512, 1024, D, false, false, true),
            plan("orders", 10, 512, 1024, EL, false, true, true),
            Plan {
                pool: Some("ml"),
                ..plan("recommendations", 4, 2048, 20480, D, false, true, true)
            },
            plan("notifications", 4, 256, 512, L, false, false, false),
            plan("catalog", 10, 512, 1024, NONE, true, true, true),
        ];
        for p in &plans {
            let deployed_ago = match p.name.as_str() {
                "auth" => 45 * 60,
                _ => self.rng.i64(3 * HOUR..=9 * DAY),
            };
            let s = self.service(&mut cl, p, deployed_ago);
            match p.name.as_str() {
                "search" => self.search_pending(&mut cl, s),
                "recommendations" => self.recommendations_short(&mut cl, s),
                _ => {
                    let _ = self.fill(&mut cl, s, p.desired);
                }
            }
        }
        let find = |cl: &ClusterState, name: &str| cl.service_index[name];
        let s = find(&cl, "cart");
        self.cart_rollout(&mut cl, s);
        let s = find(&cl, "auth");
        self.old_revision_stopped(&mut cl, s);
        let s = find(&cl, "payments");
        self.seed_stop(&mut cl, s, StopKind::OutOfMemory, self.ago(42 * 60), true);
        self.seed_stop(
            &mut cl,
            s,
            StopKind::OutOfMemory,
            self.ago(11 * 60 + 20),
            true,
        );
        let s = find(&cl, "orders");
        self.seed_stop(&mut cl, s, StopKind::ElbHealth, self.ago(25 * 60), true);
        let s = find(&cl, "checkout");
        self.unhealthy(&mut cl, s, 1, false, self.start + secs(50));
        let s = find(&cl, "inventory");
        self.unhealthy(&mut cl, s, 2, true, self.start + secs(120));

        // An instance whose agent lost its connection keeps its tasks but takes no new ones.
        let lost = &mut cl.instances[5].instance;
        lost.agent_connected = false;
        lost.agent_version = names::OLD_AGENT_VERSION.into();
        cl.instances[3].instance.agent_version = names::OLD_AGENT_VERSION.into();
        self.finish(&mut cl);
        cl
    }

    fn staging(&mut self) -> ClusterState {
        let mut cl = ClusterState::new("staging", false);
        cl.capacity_providers = vec!["staging-asg".into()];
        self.instance(&mut cl, M5_XLARGE, 0, None);
        let draining = self.instance(&mut cl, M5_XLARGE, 1, None);
        cl.instances[draining].instance.status = "DRAINING".into();
        const L: &[&Sidecar] = &[&LOG_ROUTER];
        const NONE: &[&Sidecar] = &[];
        let plans = [
            plan("web", 2, 256, 512, L, true, true, true),
            plan("api-gateway", 2, 256, 512, NONE, true, true, true),
            plan("cart", 2, 256, 512, NONE, true, true, true),
            plan("checkout", 1, 256, 512, NONE, true, true, true),
            plan("payments", 1, 256, 512, NONE, true, false, true),
        ];
        for p in &plans {
            let deployed_ago = match p.name.as_str() {
                "checkout" => 22 * 60,
                _ => self.rng.i64(HOUR..=4 * DAY),
            };
            let s = self.service(&mut cl, p, deployed_ago);
            let _ = self.fill(&mut cl, s, p.desired);
        }
        // The first task of checkout's latest deployment could not pull its image.
        let s = cl.service_index["checkout"];
        let deployed_at = self.ago(22 * 60);
        if let Some(failed) = self.seed_stop(
            &mut cl,
            s,
            StopKind::PullFailure,
            deployed_at + secs(50),
            true,
        ) {
            let svc = &mut cl.services[s];
            if let Some(d) = svc.service.deployments.first_mut() {
                d.failed = 1;
            }
            let message = format!("(service checkout) has started 1 tasks: (task {failed}).");
            svc.push_event(&mut self.rng, deployed_at + secs(8), message);
        }
        let s = cl.service_index["web"];
        self.unhealthy(&mut cl, s, 0, true, self.start + secs(360));
        self.finish(&mut cl);
        cl
    }

    fn batch(&mut self) -> ClusterState {
        let mut cl = ClusterState::new("batch", true);
        cl.capacity_providers = vec!["FARGATE".into(), "FARGATE_SPOT".into()];
        const L: &[&Sidecar] = &[&LOG_ROUTER];
        const D: &[&Sidecar] = &[&DATADOG];
        const NONE: &[&Sidecar] = &[];
        let plans = [
            Plan {
                spot: true,
                ..plan("email-worker", 12, 512, 1024, L, false, false, false)
            },
            Plan {
                spot: true,
                ..plan("image-resizer", 16, 1024, 2048, NONE, false, false, false)
            },
            plan("pdf-renderer", 6, 1024, 3072, D, false, false, false),
            plan("reporting", 2, 2048, 4096, NONE, true, false, false),
        ];
        for p in &plans {
            let deployed_ago = self.rng.i64(2 * HOUR..=12 * DAY);
            let s = self.service(&mut cl, p, deployed_ago);
            let _ = self.fill(&mut cl, s, p.desired);
        }
        let s = cl.service_index["image-resizer"];
        self.seed_stop(
            &mut cl,
            s,
            StopKind::SpotInterruption,
            self.ago(30 * 60),
            true,
        );
        self.seed_stop(
            &mut cl,
            s,
            StopKind::SpotInterruption,
            self.ago(30 * 60 - 4),
            true,
        );
        let s = cl.service_index["pdf-renderer"];
        self.seed_stop(&mut cl, s, StopKind::OutOfMemory, self.ago(50 * 60), true);
        self.finish(&mut cl);
        cl
    }

    /// 200 services × 50 tasks on 500 instances: the scale test for every pane.
    fn large_cluster(&mut self) -> ClusterState {
        let mut cl = ClusterState::new("large", false);
        cl.capacity_providers = vec!["large-asg".into()];
        cl.container_insights = true;
        for n in 0..500 {
            let i = self.instance(&mut cl, M5_2XLARGE, n % AZS.len(), None);
            if n % 37 == 5 {
                cl.instances[i].instance.agent_version = names::OLD_AGENT_VERSION.into();
            }
        }
        const SIDECARS: [&[&Sidecar]; 4] = [&[], &[&LOG_ROUTER], &[&DATADOG], &[&ENVOY]];
        let mut n = 0;
        for domain in names::LARGE_DOMAINS {
            for role in names::LARGE_ROLES {
                let background = matches!(role, "worker" | "consumer" | "cron" | "scheduler");
                let p = Plan {
                    name: format!("{domain}-{role}"),
                    desired: 50,
                    cpu: 256,
                    memory: if n % 2 == 0 { 512 } else { 1024 },
                    sidecars: SIDECARS[n % 4],
                    exec: n % 4 == 0,
                    web: matches!(role, "api" | "gateway" | "web"),
                    health_check: !background,
                    spot: false,
                    pool: None,
                };
                let deployed_ago = self.rng.i64(2 * HOUR..=20 * DAY);
                let s = self.service(&mut cl, &p, deployed_ago);
                let _ = self.fill(&mut cl, s, p.desired);
                n += 1;
            }
        }
        let s = cl.service_index["payments-worker"];
        self.seed_stop(&mut cl, s, StopKind::OutOfMemory, self.ago(20 * 60), true);
        self.seed_stop(&mut cl, s, StopKind::OutOfMemory, self.ago(8 * 60), true);
        let s = cl.service_index["search-indexer"];
        self.seed_stop(&mut cl, s, StopKind::Crash, self.ago(15 * 60), true);
        for (name, nth) in [("checkout-api", 3), ("billing-web", 17), ("fraud-grpc", 41)] {
            let s = cl.service_index[name];
            let at = self.start + secs(self.rng.i64(60..=300));
            self.unhealthy(&mut cl, s, nth, true, at);
        }
        let lost = &mut cl.instances[123].instance;
        lost.agent_connected = false;
        lost.agent_version = names::OLD_AGENT_VERSION.into();
        self.finish(&mut cl);
        cl
    }

    fn instance(
        &mut self,
        cl: &mut ClusterState,
        ty: InstanceType,
        az: usize,
        pool: Option<&'static str>,
    ) -> usize {
        let rng = &mut self.rng;
        let id = names::hex(rng, 32);
        let launched = self.start - secs(rng.i64(2 * DAY..=25 * DAY));
        let instance = Instance {
            arn: names::container_instance_arn(&cl.name, &id),
            cluster_arn: cl.arn.clone(),
            ec2_instance_id: names::ec2_instance_id(rng),
            instance_type: ty.name.into(),
            availability_zone: AZS[az].into(),
            status: "ACTIVE".into(),
            agent_connected: true,
            agent_version: names::AGENT_VERSION.into(),
            running_tasks: 0,
            pending_tasks: 0,
            cpu_registered: ty.cpu,
            cpu_remaining: ty.cpu,
            memory_registered: ty.memory,
            memory_remaining: ty.memory,
            launched_at: Some(launched),
            registered_at: Some(launched + secs(rng.i64(60..=180))),
        };
        cl.add_instance(InstanceState {
            instance,
            az,
            pool,
            cpu_used: 0,
            memory_used: 0,
        })
    }

    /// A service whose current deployment finished `deployed_ago` seconds before start.
    fn service(&mut self, cl: &mut ClusterState, p: &Plan, deployed_ago: i64) -> usize {
        let rng = &mut self.rng;
        let deployed_at = self.start - secs(deployed_ago);
        let family = if cl.name == "prod" || cl.name == "large" {
            p.name.clone()
        } else {
            format!("{}-{}", p.name, cl.name)
        };
        let built_at = deployed_at - secs(rng.i64(600..=4 * HOUR));
        let spec = TaskSpec {
            family,
            revision: rng.u32(3..160),
            cpu: p.cpu,
            memory: p.memory,
            app_name: p.name.clone(),
            image: names::ecr_image(&p.name, &names::release_tag(built_at, rng.u32(1..5))),
            sidecars: p.sidecars.to_vec(),
        };
        let id = names::deployment_id(rng);
        let deployment = Deployment {
            rollout_reason: format!("ECS deployment {id} completed."),
            id,
            status: "PRIMARY".into(),
            task_definition: spec.task_definition(),
            desired: p.desired,
            running: 0,
            pending: 0,
            failed: 0,
            rollout_state: "COMPLETED".into(),
            created_at: Some(deployed_at),
            updated_at: Some(deployed_at + secs(rng.i64(240..=600))),
        };
        let launch_type = match (cl.fargate, p.spot) {
            (true, true) => "FARGATE_SPOT",
            (true, false) => "FARGATE",
            _ => "EC2",
        };
        let target_group_arns = if p.web {
            let tg = format!("{}-{}", cl.name, p.name);
            vec![names::target_group_arn(rng, &tg[..tg.len().min(32)])]
        } else {
            Vec::new()
        };
        let service = Service {
            arn: names::service_arn(&cl.name, &p.name),
            name: p.name.clone(),
            cluster_arn: cl.arn.clone(),
            status: "ACTIVE".into(),
            desired: p.desired,
            running: 0,
            pending: 0,
            launch_type: launch_type.into(),
            task_definition: spec.task_definition(),
            deployments: vec![deployment],
            events: Vec::new(),
            created_at: Some(deployed_at - secs(rng.i64(20 * DAY..=400 * DAY))),
            enable_execute_command: p.exec,
            target_group_arns,
            tags: vec![
                ("team".into(), names::team_for(&p.name).into()),
                ("env".into(), cl.name.clone()),
            ],
        };
        cl.add_service(ServiceState {
            service,
            spec,
            pool: p.pool,
            health_check: p.health_check,
            spot: p.spot,
            tasks: Vec::new(),
            stopped: VecDeque::new(),
            dirty: false,
            unsteady: false,
            wake_at: None,
            place_retry_at: None,
            last_place_event_at: None,
            started_now: Vec::new(),
            stopped_now: Vec::new(),
            draining_now: 0,
            registered_now: 0,
        })
    }

    /// Starts `n` settled tasks of the current deployment: most came up with the deployment,
    /// some later as replacements.
    fn fill(&mut self, cl: &mut ClusterState, s: usize, n: u32) -> Result<(), String> {
        let svc = &cl.services[s];
        let deployment = svc.primary_id().unwrap_or_default().to_string();
        let deployed_at = svc
            .service
            .primary_deployment()
            .and_then(|d| d.created_at)
            .unwrap_or(self.start);
        // Replacements are dated over an hour back: a newer one would need a stopped task to show.
        let span = (self.start - deployed_at).num_seconds() - HOUR;
        for _ in 0..n {
            let created = if span < 60 || self.rng.f64() < 0.8 {
                deployed_at + secs(self.rng.i64(5..=40))
            } else {
                deployed_at + secs(self.rng.i64(60..=span))
            };
            let i = match self.next_round_robin(cl, s) {
                Some(placement) => {
                    cl.start_task_at(s, &deployment, created, &mut self.rng, None, placement)
                }
                None => cl.start_task(s, &deployment, created, &mut self.rng, None)?,
            };
            self.settle_running(cl, s, i, created);
        }
        let svc = &mut cl.services[s];
        svc.clear_buffers();
        svc.unsteady = false;
        Ok(())
    }

    /// The large fleet is uniform, so its tasks go round the instances in turn, which spreads
    /// them over AZs and instances like ECS would at a fraction of the cost of `place`.
    fn next_round_robin(&mut self, cl: &ClusterState, s: usize) -> Option<Placement> {
        if !self.round_robin {
            return None;
        }
        for _ in 0..cl.instances.len() {
            let n = self.cursor % cl.instances.len();
            self.cursor += 1;
            if cl.fits(s, n) {
                return Some(Placement {
                    instance: Some(n),
                    az: cl.instances[n].az,
                });
            }
        }
        None
    }

    /// Puts task `i` in the steady RUNNING state it would have reached since `created`.
    fn settle_running(&mut self, cl: &mut ClusterState, s: usize, i: usize, created: Time) {
        let registered = cl.services[s].tasks[i]
            .instance
            .and_then(|n| cl.instances[n].instance.registered_at);
        // A task cannot be older than the instance it runs on.
        let created = match registered {
            Some(r) if created < r => r + secs(self.rng.i64(120..=900)),
            _ => created,
        };
        let started = created + secs(self.rng.i64(20..=90));
        cl.services[s].tasks[i].task.created_at = Some(created);
        cl.mark_running(s, i, started, &mut self.rng);
        let svc = &mut cl.services[s];
        let health_check = svc.health_check;
        let t = &mut svc.tasks[i];
        if health_check {
            set_health(&mut t.task, "HEALTHY");
        }
        t.next = Next::Nothing;
        t.next_at = None;
    }

    /// Leaves a task in PENDING (an image pull in progress) that finishes at `ready_at`.
    fn pending(
        &mut self,
        cl: &mut ClusterState,
        s: usize,
        deployment: &str,
        at: Time,
        ready_at: Time,
    ) -> Option<String> {
        let i = cl.start_task(s, deployment, at, &mut self.rng, None).ok()?;
        let t = &mut cl.services[s].tasks[i];
        t.task.last_status = "PENDING".into();
        t.next = Next::Advance;
        t.next_at = Some(ready_at);
        Some(t.task.id().to_string())
    }

    /// A task of service `s` that stopped at `at` for `kind`; with `replace`, one of the live
    /// tasks becomes the replacement the scheduler started right after. Returns the stopped id.
    fn seed_stop(
        &mut self,
        cl: &mut ClusterState,
        s: usize,
        kind: StopKind,
        at: Time,
        replace: bool,
    ) -> Option<String> {
        let deployment = cl.services[s].primary_id()?.to_string();
        let before_start = matches!(kind, StopKind::PullFailure | StopKind::SecretsFailure);
        let lifetime = if before_start {
            self.rng.i64(30..=45)
        } else {
            self.rng.i64(20 * 60..=36 * HOUR)
        };
        let created = at - secs(lifetime);
        let i = cl
            .start_task(s, &deployment, created, &mut self.rng, None)
            .ok()?;
        let id = cl.services[s].tasks[i].task.id().to_string();
        if before_start {
            cl.services[s].tasks[i].task.last_status = "PENDING".into();
        } else {
            self.settle_running(cl, s, i, created);
        }
        if !cl.begin_stop(s, i, kind, at, &mut self.rng) {
            let delay = match kind {
                StopKind::Deployment | StopKind::HealthCheck | StopKind::ElbHealth => {
                    self.rng.i64(40..=90)
                }
                _ => self.rng.i64(5..=20),
            };
            cl.finish_stop(s, i, at + secs(delay));
        }
        cl.services[s].clear_buffers();
        if replace {
            let replaced_at = at + secs(self.rng.i64(5..=15));
            self.replacement(cl, s, replaced_at);
        }
        Some(id)
    }

    /// Re-dates one live task as a replacement started at `at`, with the events ECS wrote.
    fn replacement(&mut self, cl: &mut ClusterState, s: usize, at: Time) {
        let rng = &mut self.rng;
        let start = self.start;
        let svc = &mut cl.services[s];
        let Some(deployment) = svc.primary_id().map(str::to_string) else {
            return;
        };
        let Some(i) = svc.tasks.iter().rposition(|t| {
            t.deployment == deployment
                && t.is_running()
                && t.task.created_at.is_some_and(|c| c < at)
                && !self.redated.contains(t.task.id())
        }) else {
            return;
        };
        let started = at + secs(rng.i64(30..=60));
        let t = &mut svc.tasks[i].task;
        t.created_at = Some(at);
        t.started_at = Some(started);
        let id = t.id().to_string();
        self.redated.insert(id.clone());
        let name = svc.service.name.clone();
        svc.push_event(
            rng,
            at,
            format!("(service {name}) has started 1 tasks: (task {id})."),
        );
        if let Some(tg) = svc.service.target_group_arns.first().cloned() {
            let message = format!("(service {name}) registered 1 targets in (target-group {tg})");
            svc.push_event(rng, started + secs(10), message);
        }
        let steady_at = started + secs(rng.i64(60..=120));
        if steady_at < start {
            let message = format!("(service {name}) has reached a steady state.");
            svc.push_event(rng, steady_at, message);
        }
    }

    fn unhealthy(&mut self, cl: &mut ClusterState, s: usize, nth: usize, pass: bool, at: Time) {
        if let Some(t) = cl.services[s].tasks.get_mut(nth) {
            set_health(&mut t.task, "UNHEALTHY");
            t.next = Next::Health { pass };
            t.next_at = Some(at);
        }
    }

    /// prod/cart is half-way through a rolling deployment of a new revision.
    fn cart_rollout(&mut self, cl: &mut ClusterState, s: usize) {
        let old = cl.services[s].primary_id().unwrap_or_default().to_string();
        let created = self.ago(350);
        let svc = &mut cl.services[s];
        svc.spec.revision += 1;
        let tag = names::release_tag(self.ago(40 * 60), self.rng.u32(2..6));
        svc.spec.image = names::ecr_image(&svc.spec.app_name, &tag);
        let new = names::deployment_id(&mut self.rng);
        begin_deployment(svc, new.clone(), created);

        let mut first = Vec::new();
        for _ in 0..4 {
            let at = created + secs(5);
            if let Ok(i) = cl.start_task(s, &new, at, &mut self.rng, None) {
                self.settle_running(cl, s, i, at);
                first.push(cl.services[s].tasks[i].task.id().to_string());
            }
        }
        let stop_at = self.ago(270);
        let old_ids: Vec<String> = cl.services[s]
            .tasks
            .iter()
            .filter(|t| t.deployment == old)
            .take(4)
            .map(|t| t.task.id().to_string())
            .collect();
        for id in &old_ids {
            if let Some(i) = cl.services[s].tasks.iter().position(|t| t.task.id() == id) {
                cl.begin_stop(s, i, StopKind::Deployment, stop_at, &mut self.rng);
            }
        }
        for id in &old_ids {
            if let Some(i) = cl.services[s].tasks.iter().position(|t| t.task.id() == id) {
                let at = stop_at + secs(self.rng.i64(40..=80));
                cl.finish_stop(s, i, at);
            }
        }
        let mut second = Vec::new();
        for _ in 0..4 {
            let ready_at = self.start + secs(self.rng.i64(10..=50));
            if let Some(id) = self.pending(cl, s, &new, self.ago(70), ready_at) {
                second.push(id);
            }
        }
        let rng = &mut self.rng;
        let svc = &mut cl.services[s];
        svc.clear_buffers();
        let tg = svc.service.target_group_arns[0].clone();
        let list = |ids: &[String]| {
            ids.iter()
                .map(|id| format!("(task {id})"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let events = [
            (
                created + secs(5),
                format!(
                    "(service cart) has started {} tasks: {}.",
                    first.len(),
                    list(&first)
                ),
            ),
            (
                created + secs(80),
                format!(
                    "(service cart) registered {} targets in (target-group {tg})",
                    first.len()
                ),
            ),
            (
                stop_at,
                format!(
                    "(service cart) has begun draining connections on {} tasks.",
                    old_ids.len()
                ),
            ),
            (
                stop_at,
                format!(
                    "(service cart) deregistered {} targets in (target-group {tg})",
                    old_ids.len()
                ),
            ),
            (
                stop_at,
                format!(
                    "(service cart) has stopped {} running tasks: {}.",
                    old_ids.len(),
                    list(&old_ids)
                ),
            ),
            (
                self.start - secs(70),
                format!(
                    "(service cart) has started {} tasks: {}.",
                    second.len(),
                    list(&second)
                ),
            ),
        ];
        for (at, message) in events {
            svc.push_event(rng, at, message);
        }
        if let Some(d) = svc.service.deployments.first_mut() {
            d.updated_at = Some(self.start - secs(70));
        }
        svc.unsteady = true;
    }

    /// prod/auth finished a deployment 45 minutes ago; the old revision's tasks are still listed
    /// as stopped.
    fn old_revision_stopped(&mut self, cl: &mut ClusterState, s: usize) {
        let svc = &mut cl.services[s];
        let Some(deployed_at) = svc.service.deployments[0].created_at else {
            return;
        };
        let current = svc.spec.clone();
        svc.spec.revision -= 1;
        let tag = names::release_tag(deployed_at - secs(5 * DAY), self.rng.u32(1..4));
        svc.spec.image = names::ecr_image(&svc.spec.app_name, &tag);
        let old = names::deployment_id(&mut self.rng);
        let stop_at = deployed_at + secs(150);
        let mut ids = Vec::new();
        for _ in 0..cl.services[s].service.desired {
            let created = deployed_at - secs(self.rng.i64(DAY..=5 * DAY));
            let Ok(i) = cl.start_task(s, &old, created, &mut self.rng, None) else {
                break;
            };
            self.settle_running(cl, s, i, created);
            ids.push(cl.services[s].tasks[i].task.id().to_string());
            cl.begin_stop(s, i, StopKind::Deployment, stop_at, &mut self.rng);
            let at = stop_at + secs(self.rng.i64(40..=80));
            cl.finish_stop(s, i, at);
        }
        let rng = &mut self.rng;
        let svc = &mut cl.services[s];
        svc.spec = current;
        svc.clear_buffers();
        let tg = svc
            .service
            .target_group_arns
            .first()
            .cloned()
            .unwrap_or_default();
        let n = ids.len();
        let list = ids
            .iter()
            .map(|id| format!("(task {id})"))
            .collect::<Vec<_>>()
            .join(" ");
        svc.push_event(
            rng,
            stop_at,
            format!("(service auth) has begun draining connections on {n} tasks."),
        );
        svc.push_event(
            rng,
            stop_at,
            format!("(service auth) deregistered {n} targets in (target-group {tg})"),
        );
        svc.push_event(
            rng,
            stop_at,
            format!("(service auth) has stopped {n} running tasks: {list}."),
        );
    }

    /// prod/search lost two tasks a few minutes ago; their replacements are still pulling.
    fn search_pending(&mut self, cl: &mut ClusterState, s: usize) {
        let desired = cl.services[s].service.desired;
        let _ = self.fill(cl, s, desired - 2);
        let crashed_at = self.ago(215);
        for _ in 0..2 {
            self.seed_stop(cl, s, StopKind::Crash, crashed_at, false);
        }
        let deployment = cl.services[s].primary_id().unwrap_or_default().to_string();
        let mut ids = Vec::new();
        for _ in 0..2 {
            let ready_at = self.start + secs(self.rng.i64(60..=100));
            if let Some(id) = self.pending(cl, s, &deployment, crashed_at + secs(5), ready_at) {
                ids.push(format!("(task {id})"));
            }
        }
        let svc = &mut cl.services[s];
        svc.clear_buffers();
        let message = format!("(service search) has started 2 tasks: {}.", ids.join(" "));
        svc.push_event(&mut self.rng, crashed_at + secs(5), message);
        svc.unsteady = true;
    }

    /// prod/recommendations was scaled to 4 but its instance only has room for 3.
    fn recommendations_short(&mut self, cl: &mut ClusterState, s: usize) {
        let desired = cl.services[s].service.desired;
        let Err(message) = self.fill(cl, s, desired) else {
            return;
        };
        let svc = &mut cl.services[s];
        for minutes in [35, 25, 15, 5] {
            svc.push_event(
                &mut self.rng,
                self.start - secs(minutes * 60),
                message.clone(),
            );
        }
        svc.last_place_event_at = Some(self.ago(5 * 60));
        svc.place_retry_at = Some(self.start + secs(20));
        svc.unsteady = true;
    }

    /// The events ECS wrote for the service's current deployment and the quiet time since.
    fn history(&mut self, cl: &mut ClusterState, s: usize) {
        let rng = &mut self.rng;
        let start = self.start;
        let svc = &mut cl.services[s];
        let Some(d) = svc
            .service
            .deployments
            .iter()
            .min_by_key(|d| d.created_at)
            .cloned()
        else {
            return;
        };
        let (Some(created), Some(completed)) = (d.created_at, d.updated_at) else {
            return;
        };
        let name = svc.service.name.clone();
        let tg = svc.service.target_group_arns.first().cloned();
        let mut events: Vec<(Time, String)> = Vec::new();
        let mut with_deploy = Vec::new();
        let mut later = Vec::new();
        for t in svc.tasks.iter().filter(|t| t.deployment == d.id) {
            let id = t.task.id().to_string();
            if self.redated.contains(&id) {
                continue;
            }
            match t.task.created_at {
                Some(c) if c <= created + secs(60) => with_deploy.push(id),
                // Recent starts belong to the scenario's scripted incidents, which tell their own.
                Some(c) if c < start - secs(HOUR) => later.push((c, id)),
                _ => {}
            }
        }
        let started_with_deploy = |t: &crate::model::Task| {
            t.task_definition == d.task_definition
                && t.created_at.is_some_and(|c| c <= created + secs(60))
        };
        with_deploy.extend(
            svc.stopped
                .iter()
                .filter(|t| started_with_deploy(t))
                .map(|t| t.id().to_string()),
        );
        // The deployment started its full count; the ones missing here were replaced since.
        while with_deploy.len() < svc.service.desired as usize {
            with_deploy.push(names::hex(rng, 32));
        }
        let list = |ids: &[String]| {
            ids.iter()
                .map(|id| format!("(task {id})"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        {
            let n = with_deploy.len();
            events.push((
                created + secs(5),
                format!(
                    "(service {name}) has started {n} tasks: {}.",
                    list(&with_deploy)
                ),
            ));
            if let Some(tg) = &tg {
                events.push((
                    created + secs(75),
                    format!("(service {name}) registered {n} targets in (target-group {tg})"),
                ));
            }
        }
        // Older stops have left the stopped-task list; only the events remember them.
        if (start - created).num_seconds() > HOUR {
            let n = svc.service.desired as usize;
            let gone: Vec<String> = (0..n).map(|_| names::hex(rng, 32)).collect();
            let at = created + secs(150);
            if let Some(tg) = &tg {
                events.push((
                    at,
                    format!("(service {name}) has begun draining connections on {n} tasks."),
                ));
                events.push((
                    at,
                    format!("(service {name}) deregistered {n} targets in (target-group {tg})"),
                ));
            }
            events.push((
                at,
                format!(
                    "(service {name}) has stopped {n} running tasks: {}.",
                    list(&gone)
                ),
            ));
        }
        events.push((
            completed,
            format!(
                "(service {name}) (deployment {}) deployment completed.",
                d.id
            ),
        ));
        events.push((
            completed + secs(10),
            format!("(service {name}) has reached a steady state."),
        ));
        for (c, id) in later {
            events.push((
                c,
                format!("(service {name}) has started 1 tasks: (task {id})."),
            ));
            events.push((
                c + secs(rng.i64(60..=150)),
                format!("(service {name}) has reached a steady state."),
            ));
        }
        // ECS repeats the steady-state message about every six hours while nothing happens.
        let mut at = completed + secs(6 * HOUR + rng.i64(-300..=300));
        while at < start {
            if at > start - secs(2 * DAY) {
                events.push((at, format!("(service {name}) has reached a steady state.")));
            }
            at += secs(6 * HOUR + rng.i64(-300..=300));
        }
        for (at, message) in events {
            svc.push_event(rng, at, message);
        }
    }

    /// Writes the event history, orders it, and arms the simulation.
    fn finish(&mut self, cl: &mut ClusterState) {
        for s in 0..cl.services.len() {
            self.history(cl, s);
            let svc = &mut cl.services[s];
            svc.clear_buffers();
            svc.service.events.sort_by_key(|e| std::cmp::Reverse(e.at));
            svc.service.events.truncate(super::fleet::MAX_EVENTS);
            svc.stopped.make_contiguous().sort_by_key(|t| t.stopped_at);
            svc.dirty = false;
            svc.recompute_wake();
        }
    }
}
