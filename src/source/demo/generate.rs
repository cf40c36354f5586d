//! The scenarios' starting fleets: what an operator would find when opening the console at
//! `start`, including the recent past (stopped tasks, service events) that led there.
//! This file has the building blocks; `scenarios.rs` puts them together.

mod huge;
mod incidents;
mod scenarios;

use std::collections::{HashSet, VecDeque};

use fastrand::Rng;

use super::fleet::{ClusterState, Fleet, Next, ServiceState, StopKind, TaskSpec, Tuning};
use super::lifecycle::{Placement, add_instance, secs, set_health};
use super::names::{self, InstanceType, Place, Sidecar};
use crate::model::{Deployment, Service, Time};

pub const SCENARIOS: &[&str] = &[
    "default",
    "large",
    "huge",
    "memory-leak",
    "cpu-credits",
    "bad-deploy",
    "capacity",
    "image-pull",
    "sg-outage",
    "high-cpu",
    "stuck-deploy",
    "post-deploy-leak",
    "load-test-oom",
    "slow-dependency",
    "s3-denied",
    "dns",
    "nat",
    "nat-latency",
];

pub fn build(scenario: &str, seed: u64, start: Time, place: Place) -> Result<Fleet, String> {
    let mut generator = Generator {
        place,
        rng: Rng::with_seed(seed),
        start,
        redated: HashSet::new(),
        round_robin: matches!(scenario, "large" | "huge"),
        cursor: 0,
    };
    let mut script = None;
    let (clusters, tuning) = match scenario {
        "default" => (generator.default_fleet(), DEFAULT_TUNING),
        "large" => (vec![generator.large_cluster()], LARGE_TUNING),
        "huge" => (generator.huge_fleet(), HUGE_TUNING),
        other => {
            let Some(found) = super::scenario::find(other) else {
                return Err(format!(
                    "unknown demo scenario '{other}'; known scenarios: {}",
                    SCENARIOS.join(", ")
                ));
            };
            let clusters = generator.incident_fleet(&found.fixture);
            script = Some(found);
            (clusters, INCIDENT_TUNING)
        }
    };
    let mut rng = generator.rng;
    let (min, max) = tuning.deployment_every_secs;
    let mut fleet = Fleet {
        scenario: scenario.to_string(),
        place,
        next_deployment_at: start + secs(rng.i64(min..=max)),
        rng,
        now: start,
        clusters,
        tuning,
        taskdefs: Default::default(),
        incident: None,
        nat_gateways: names::nat_gateways(),
    };
    if let Some(script) = script {
        let incident = super::scenario::Incident::new(script, start, &mut fleet);
        fleet.incident = Some(Box::new(incident));
    }
    Ok(fleet)
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

/// Ten times `large`'s fleet, about ten times its churn (a stop or a flap is at most one a step).
const HUGE_TUNING: Tuning = Tuning {
    stops_per_hour: 600.0,
    health_flaps_per_hour: 240.0,
    deployment_every_secs: (15, 40),
    start_failure_rate: 0.03,
};

/// A replayed incident changes only what its script says: nothing random happens besides.
const INCIDENT_TUNING: Tuning = Tuning {
    stops_per_hour: 0.0,
    health_flaps_per_hour: 0.0,
    deployment_every_secs: (100 * 365 * DAY, 100 * 365 * DAY),
    start_failure_rate: 0.0,
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
    /// The account and region the fleet's ARNs, images and AZs name.
    place: Place,
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

    fn instance(
        &mut self,
        cl: &mut ClusterState,
        ty: InstanceType,
        az: usize,
        pool: Option<&'static str>,
    ) -> usize {
        let start = self.start;
        let n = add_instance(
            cl,
            &mut self.rng,
            ty,
            az,
            pool,
            |rng| start - secs(rng.i64(2 * DAY..=25 * DAY)),
            |rng, launched| launched + secs(rng.i64(60..=180)),
        );
        super::amis::run_current(&mut cl.instances[n].instance, start);
        n
    }

    /// Instance `n` of `cl` was not refreshed since the last AMI release: it runs the image
    /// before the current one, and that image's (older) agent.
    fn not_refreshed(&self, cl: &mut ClusterState, n: usize) {
        super::amis::run_previous(&mut cl.instances[n].instance, self.start);
    }

    /// A service whose current deployment finished `deployed_ago` seconds before start.
    fn service(&mut self, cl: &mut ClusterState, p: &Plan, deployed_ago: i64) -> usize {
        let rng = &mut self.rng;
        let deployed_at = self.start - secs(deployed_ago);
        let family = if matches!(cl.name.as_str(), "prod" | "large" | huge::CORE) {
            p.name.clone()
        } else {
            format!("{}-{}", p.name, cl.name)
        };
        let built_at = deployed_at - secs(rng.i64(600..=4 * HOUR));
        let spec = TaskSpec {
            place: self.place,
            family,
            revision: rng.u32(3..160),
            cpu: p.cpu,
            memory: p.memory,
            app_name: p.name.clone(),
            image: self
                .place
                .ecr_image(&p.name, &names::release_tag(built_at, rng.u32(1..5))),
            sidecars: p.sidecars.to_vec(),
            java_options: None,
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
            vec![self.place.target_group_arn(rng, &tg[..tg.len().min(32)])]
        } else {
            Vec::new()
        };
        let target_group_arns_bindings = target_group_arns
            .iter()
            .map(|tg| crate::model::LbBinding {
                target_group_arn: tg.clone(),
                container_name: p.name.clone(),
                container_port: 8080,
            })
            .collect();
        let service = Service {
            arn: self.place.service_arn(&cl.name, &p.name),
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
            target_group_lbs: target_group_arns
                .iter()
                .map(|tg| (tg.clone(), self.place.cluster_load_balancer_arn(&cl.name)))
                .collect(),
            target_group_arns,
            tags: vec![
                ("team".into(), names::team_for(&p.name).into()),
                ("env".into(), cl.name.clone()),
            ],
            lb_bindings: target_group_arns_bindings,
            health_check_grace_secs: p.web.then_some(60),
            // Fargate tasks are awsvpc: in the private subnets.
            subnets: if cl.fargate {
                names::PRIVATE_SUBNETS
                    .iter()
                    .map(|s| s.to_string())
                    .collect()
            } else {
                Vec::new()
            },
            deployment_config: crate::model::DeploymentConfig {
                minimum_healthy_percent: Some(100),
                maximum_percent: Some(150),
                circuit_breaker: true,
                rollback: true,
            },
            ..Service::default()
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
