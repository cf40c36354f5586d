//! Replayed incidents (`--demo memory-leak`, `--demo bad-deploy`, …): the catalog's demo
//! scenarios (`../shared/design/triage-catalog.md`, "Demo scenarios") on the shared fixture,
//! in compressed time.
//!
//! One file per scenario: a [`Script`] that says what the fixture changes, how fast the replay
//! runs, the shape of its load, and a list of timed [`Step`]s that mirror the catalog's
//! timeline (times in replay seconds). The runner here ([`Incident`]) plays the steps as the
//! simulation reaches them and models what ECS, the load balancer and the JVM do in between:
//! image pulls that are denied ([`ecs`]), target health checks and the tasks ECS stops for
//! failing them ([`elb`]), memory that climbs until the kernel kills the container, and the
//! deployment circuit breaker. Everything it decides is recorded ([`record`]) so metrics, logs
//! and target health can be answered for any past instant.

mod bad_deploy;
mod capacity;
mod cpu_credits;
mod dns;
pub(super) mod ecs;
pub(super) mod elb;
mod high_cpu;
mod image_pull;
mod load_test_oom;
mod memory_leak;
mod nat;
mod nat_latency;
mod post_deploy_leak;
pub(super) mod record;
mod s3_denied;
mod sg_outage;
mod slow_dependency;
mod stuck_deploy;
#[cfg(test)]
mod tests;
pub(super) mod world;

use std::collections::HashMap;

use super::fleet::{Fleet, TaskSpec};
use super::names::InstanceType;
use crate::model::Time;

pub use world::{Ctx, World};

/// A piecewise-linear curve over replay seconds: `(t, value)` points in time order. Before the
/// first point and after the last the value is held; to hold a value between two rows, repeat
/// it (`(30.0, 85.0), (58.0, 85.0), (60.0, 22.0)`).
pub type Curve = &'static [(f64, f64)];

/// The value of `curve` at replay second `t`.
pub fn curve_at(curve: Curve, t: f64) -> f64 {
    let Some(&(t0, v0)) = curve.first() else {
        return 0.0;
    };
    if t <= t0 {
        return v0;
    }
    for w in curve.windows(2) {
        let ((a, va), (b, vb)) = (w[0], w[1]);
        if t <= b {
            if b <= a {
                return vb;
            }
            return va + (vb - va) * (t - a) / (b - a);
        }
    }
    curve.last().map_or(0.0, |&(_, v)| v)
}

/// One row of a scenario's timeline.
pub struct Step {
    /// Replay seconds after the start.
    pub at: f64,
    /// What happens, in the catalog's words (shown in the README and in test failures).
    pub what: &'static str,
    pub run: fn(&mut Ctx),
}

pub fn step(at: f64, what: &'static str, run: fn(&mut Ctx)) -> Step {
    Step { at, what, run }
}

/// The shape of the load on `web` over the replay, and of its hosts' CPU credits. Everything
/// else (healthy hosts, 5xx, reservations, task memory) follows from what the simulation does.
#[derive(Clone, Copy)]
pub struct Shape {
    /// Requests per minute (incident time) arriving at `web`'s load balancer.
    pub requests: Curve,
    /// Share of its reserved CPU a `web` task uses while traffic reaches it (1.0 = 100 %).
    pub web_cpu: Curve,
    /// Average `TargetResponseTime` of `web`, seconds.
    pub response_time: Curve,
    /// `CPUCreditBalance` of burstable hosts that run tasks.
    pub credits: Curve,
    /// `CPUUtilization` of a burstable host that runs tasks while it is not throttled.
    pub burst_cpu: Curve,
    /// The VPC's egress through its NAT gateways (`Fleet::nat_gateways`), shared evenly
    /// between the available ones: what `AWS/NATGateway` reports. A NAT incident raises them.
    pub nat: NatShape,
    /// `CPUUtilization` of a fixed-performance host that runs `web` tasks, where the scenario
    /// gives it (empty: the sum of its tasks' use). Under heavy traffic a host's own work —
    /// Docker, the log driver, the kernel's network stack — adds to what its tasks' cgroups
    /// show, so a saturated service's hosts read busier than its reservations alone suggest.
    pub host_cpu: Curve,
}

/// The load on the NAT gateways, per minute of incident time, all gateways together.
#[derive(Clone, Copy)]
pub struct NatShape {
    /// `ActiveConnectionCount` (the minute's maximum).
    pub active: Curve,
    /// New connections tried a minute (`ConnectionAttemptCount`)…
    pub attempts: Curve,
    /// …and the share of them established (`ConnectionEstablishedCount` / attempts, 0–1).
    pub established: Curve,
    /// `ErrorPortAllocation` a minute.
    pub port_errors: Curve,
    /// `PacketsDropCount` a minute.
    pub drops: Curve,
    /// `PacketsInFromSource` a minute.
    pub packets: Curve,
}

/// A VPC whose outbound traffic is light: a few thousand connections, all established, nothing
/// dropped.
pub const QUIET_NAT: NatShape = NatShape {
    active: &[(0.0, 3_200.0)],
    attempts: &[(0.0, 900.0)],
    established: &[(0.0, 1.0)],
    port_errors: &[(0.0, 0.0)],
    drops: &[(0.0, 0.0)],
    packets: &[(0.0, 180_000.0)],
};

pub const STEADY: Shape = Shape {
    requests: &[(0.0, 5000.0)],
    web_cpu: &[(0.0, 0.32)],
    response_time: &[(0.0, 0.12)],
    credits: &[(0.0, 144.0)],
    burst_cpu: &[(0.0, 30.0)],
    nat: QUIET_NAT,
    host_cpu: &[],
};

/// How `web` looks at the start.
pub struct WebPlan {
    pub desired: u32,
    pub cpu: u32,
    pub memory: u32,
    pub revision: u32,
    /// The image tag of that revision (`2.3.7`).
    pub tag: &'static str,
    /// Seconds before the start that the running revision was deployed.
    pub deployed_ago: i64,
    pub minimum_healthy_percent: u32,
    pub maximum_percent: u32,
    /// The deployment circuit breaker (with rollback) is on.
    pub circuit_breaker: bool,
}

/// What a scenario starts from: the shared fixture, with the scenario's changes.
pub struct Fixture {
    /// Instance type and availability zone (an index below `names::AZ_COUNT`) of each container
    /// instance of `demo-prod`.
    pub instances: Vec<(InstanceType, usize)>,
    pub web: WebPlan,
    /// The quiet services of `demo-prod`, with the instance (index) of each task where the
    /// scenario needs them at exact places; empty placements go through ECS's own spread.
    pub neighbours: Vec<Neighbour>,
}

/// A quiet, healthy service sharing the cluster with `web`.
pub struct Neighbour {
    pub name: &'static str,
    pub cpu: u32,
    pub memory: u32,
    pub load_balanced: bool,
    /// One entry per task: `Some(instance index)` pins it there.
    pub tasks: Vec<Option<usize>>,
}

/// The usual neighbours on the usual three instances (two in the first AZ, one in the
/// second): one task each, on the first AZ's instances, because `web`'s spread puts two of its
/// tasks on the second AZ's lone instance. Every instance runs two tasks: no hotspot, and a
/// single-task service is no single point of failure to flag.
pub fn usual_neighbours() -> Vec<Neighbour> {
    vec![
        Neighbour {
            name: "admin",
            cpu: 256,
            memory: 512,
            load_balanced: true,
            tasks: vec![Some(0)],
        },
        Neighbour {
            name: "orders-worker",
            cpu: 256,
            memory: 1024,
            load_balanced: false,
            tasks: vec![Some(1)],
        },
    ]
}

/// A whole scenario.
pub struct Script {
    /// The `--demo` name.
    pub name: &'static str,
    /// The catalog scenario it replays.
    pub catalog: &'static str,
    /// What an operator rehearses with it, in one line.
    pub rehearses: &'static str,
    /// Incident seconds per replay second.
    pub ratio: i64,
    /// Replay second by which the scenario has recovered on its own.
    pub recovered_by: f64,
    /// The rules (and correlations) whose findings must open during the replay and close
    /// after recovery: tests/triage_scenarios.rs checks them, and `ecsmon rules` lists the
    /// scenario as the demo of each.
    pub must_fire: &'static [&'static str],
    pub fixture: Fixture,
    pub world: World,
    pub shape: Shape,
    pub steps: Vec<Step>,
}

/// Every scenario, in the order the help lists them.
pub fn all() -> Vec<Script> {
    vec![
        memory_leak::script(),
        cpu_credits::script(),
        bad_deploy::script(),
        capacity::script(),
        image_pull::script(),
        sg_outage::script(),
        high_cpu::script(),
        stuck_deploy::script(),
        post_deploy_leak::script(),
        load_test_oom::script(),
        slow_dependency::script(),
        s3_denied::script(),
        dns::script(),
        nat::script(),
        nat_latency::script(),
    ]
}

pub fn find(name: &str) -> Option<Script> {
    all().into_iter().find(|s| s.name == name)
}

/// A scenario being replayed on a fleet.
pub struct Incident {
    pub script: Script,
    /// Replay second 0.
    pub start: Time,
    next_step: usize,
    pub world: World,
    /// Every revision of every service seen so far, for rollbacks.
    pub specs: HashMap<(String, u32), TaskSpec>,
    pub targets: elb::Targets,
    pub ecs: ecs::Ecs,
    pub record: record::Record,
}

impl Incident {
    pub fn new(script: Script, start: Time, fleet: &mut Fleet) -> Self {
        let world = script.world.clone();
        let mut incident = Incident {
            script,
            start,
            next_step: 0,
            world,
            specs: HashMap::new(),
            targets: elb::Targets::default(),
            ecs: ecs::Ecs::default(),
            record: record::Record::default(),
        };
        incident.remember_specs(fleet);
        let ratio = incident.script.ratio;
        incident.world.prepare(fleet, start, ratio);
        // What `prepare` set on `web`'s spec (its JVM options) is part of the revision.
        incident.specs.clear();
        incident.remember_specs(fleet);
        incident.targets.settle(fleet, start);
        incident
            .record
            .observe(fleet, &incident.targets, &incident.world, start, &[]);
        incident
    }

    /// Incident time of replay second `t`.
    pub fn at(&self, t: f64) -> Time {
        self.start + chrono::TimeDelta::milliseconds((t * self.script.ratio as f64 * 1000.0) as i64)
    }

    /// Replay seconds of incident time `at`.
    pub fn replay_secs(&self, at: Time) -> f64 {
        (at - self.start).num_milliseconds() as f64 / 1000.0 / self.script.ratio as f64
    }

    /// Before the scheduler's pass of a step: the script's due rows, then what ECS, the load
    /// balancer and the kernel do on their own.
    pub fn before_step(&mut self, fleet: &mut Fleet, now: Time) {
        while let Some(step) = self.script.steps.get(self.next_step) {
            if self.at(step.at) > now {
                break;
            }
            let run = step.run;
            tracing::info!(
                scenario = self.script.name,
                at = step.at,
                "demo step: {}",
                step.what
            );
            self.next_step += 1;
            let mut ctx = Ctx {
                fleet: &mut *fleet,
                world: &mut self.world,
                specs: &mut self.specs,
                now,
            };
            run(&mut ctx);
        }
        self.remember_specs(fleet);
        self.ecs.keep_scheduling(fleet, now);
        self.ecs.pace_starts(fleet, &self.world, now);
        self.ecs.fail_denied_pulls(fleet, &self.world, now);
        self.targets.check(fleet, &self.world, now);
        self.ecs
            .stop_unhealthy_targets(fleet, &self.world, &mut self.targets, now);
        self.ecs
            .kill_out_of_memory(fleet, &self.world, &mut self.targets, now);
        self.ecs
            .circuit_breaker(fleet, &self.world, &self.specs, now);
    }

    /// After the scheduler's pass: what the step left behind, for metrics, logs and health.
    pub fn after_step(&mut self, fleet: &mut Fleet, now: Time) {
        self.ecs.sigkill_after_stop_timeout(fleet, &self.world);
        self.targets.follow(fleet, now);
        let resets = std::mem::take(&mut self.ecs.resets);
        self.record
            .observe(fleet, &self.targets, &self.world, now, &resets);
    }

    fn remember_specs(&mut self, fleet: &Fleet) {
        for c in &fleet.clusters {
            for s in &c.services {
                self.specs
                    .entry((s.name().to_string(), s.spec.revision))
                    .or_insert_with(|| s.spec.clone());
            }
        }
    }

    /// Steps of the script not played yet (for tests: a scenario whose last row never ran is
    /// not finished).
    #[cfg(test)]
    pub fn steps_left(&self) -> usize {
        self.script.steps.len() - self.next_step
    }
}
