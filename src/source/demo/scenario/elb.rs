//! The load balancer's view of a scenario: each RUNNING task of a load-balanced service is a
//! target (by IP, port 8080) that the ALB checks every 30 s. One pass makes a new target
//! healthy; two failures in a row make it unhealthy, and five passes bring it back. What a
//! check sees comes from the world: a timeout while the security group blocks the ALB, a 404
//! when the revision does not serve the target group's path, a refused connection while the
//! application is still starting.

use std::collections::HashMap;

use super::super::fleet::Fleet;
use super::super::lifecycle::secs;
use super::world::{WEB, World};
use crate::model::{HealthCheck, TargetGroupHealth, TargetHealth, Time};
use crate::source::SourceError;

pub const INTERVAL_SECS: i64 = 30;
pub const HEALTHY_THRESHOLD: u32 = 5;
pub const UNHEALTHY_THRESHOLD: u32 = 2;
const PORT: i32 = 8080;

/// What one health check saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    Pass,
    /// The application answered with this status code.
    Code(u16),
    /// Nothing answered within the timeout (the network path is blocked).
    Timeout,
    /// The connection was refused (nothing listens yet).
    Refused,
}

impl Probe {
    /// The target group's reason code and description for a failing check.
    pub fn reason(self) -> (&'static str, String) {
        match self {
            Probe::Pass => ("", String::new()),
            Probe::Code(code) => (
                "Target.ResponseCodeMismatch",
                format!("Health checks failed with these codes: [{code}]"),
            ),
            Probe::Timeout => ("Target.Timeout", "Request timed out".into()),
            Probe::Refused => ("Target.FailedHealthChecks", "Health checks failed".into()),
        }
    }

    pub fn description(self) -> String {
        self.reason().1
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetState {
    Initial,
    Healthy,
    Unhealthy,
    Draining,
}

#[derive(Debug, Clone)]
pub struct Track {
    pub target_group: String,
    pub ip: String,
    pub az: String,
    pub state: TargetState,
    /// What the last failing check saw (the reason an unhealthy target shows).
    pub cause: Probe,
    pub passes: u32,
    pub fails: u32,
    pub next_check: Time,
    pub unhealthy_since: Option<Time>,
}

/// Every registered target, by task id.
#[derive(Default)]
pub struct Targets {
    tracks: HashMap<String, Track>,
}

/// The answer a health check of a task at `at` gets.
fn probe(
    world: &World,
    service: &str,
    task: &crate::model::Task,
    started: Time,
    at: Time,
) -> Probe {
    let revision = task.task_definition.revision;
    let web = service == WEB;
    if web && !*world.ingress_open.at(at) {
        return Probe::Timeout;
    }
    let startup = if web {
        world.startup_of(revision)
    } else {
        11.0
    };
    if ((at - started).num_milliseconds() as f64) < startup * 1000.0 {
        return Probe::Refused;
    }
    if web && !world.serves(revision, world.health_check_path.at(at)) {
        return Probe::Code(404);
    }
    if let (true, Some(share), Some(limit)) = (web, world.gc_stall_share, task.memory) {
        let used = world.web_memory(task.id(), revision, started, at);
        if used >= share * f64::from(limit) {
            return Probe::Timeout; // stop-the-world collections, one after another
        }
    }
    Probe::Pass
}

impl Targets {
    pub fn get(&self, task_id: &str) -> Option<&Track> {
        self.tracks.get(task_id)
    }

    pub fn tracks(&self) -> impl Iterator<Item = &Track> {
        self.tracks.values()
    }

    /// The fleet as generated: every running load-balanced task has long been healthy.
    pub fn settle(&mut self, fleet: &mut Fleet, start: Time) {
        for cl in &mut fleet.clusters {
            for svc in &mut cl.services {
                let Some(tg) = svc.service.target_group_arns.first().cloned() else {
                    continue;
                };
                for t in &mut svc.tasks {
                    if !(t.is_running() && t.wants_running()) {
                        continue;
                    }
                    let phase = (super::world::unit(t.task.id()) * INTERVAL_SECS as f64) as i64;
                    self.tracks.insert(
                        t.task.id().to_string(),
                        Track {
                            target_group: tg.clone(),
                            ip: t.task.private_ip.to_string(),
                            az: t.task.availability_zone.to_string(),
                            state: TargetState::Healthy,
                            cause: Probe::Pass,
                            passes: HEALTHY_THRESHOLD,
                            fails: 0,
                            next_check: start + secs(phase),
                            unhealthy_since: None,
                        },
                    );
                    t.target_healthy = Some(true);
                }
            }
        }
    }

    /// Before the scheduler's pass: registers tasks that reached RUNNING and runs the checks
    /// that are due. The scheduler then sees which tasks serve (`SimTask::target_healthy`).
    pub fn check(&mut self, fleet: &mut Fleet, world: &World, now: Time) {
        for cl in &mut fleet.clusters {
            for svc in &mut cl.services {
                let Some(tg) = svc.service.target_group_arns.first().cloned() else {
                    continue;
                };
                let name = svc.service.name.clone();
                let mut changed = false;
                for t in &mut svc.tasks {
                    let id = t.task.id().to_string();
                    let Some(started) = t.task.started_at else {
                        continue;
                    };
                    if t.is_running() && t.wants_running() && !self.tracks.contains_key(&id) {
                        self.tracks.insert(
                            id.clone(),
                            Track {
                                target_group: tg.clone(),
                                ip: t.task.private_ip.to_string(),
                                az: t.task.availability_zone.to_string(),
                                state: TargetState::Initial,
                                cause: Probe::Refused,
                                passes: 0,
                                fails: 0,
                                next_check: started + secs(INTERVAL_SECS),
                                unhealthy_since: None,
                            },
                        );
                    }
                    let Some(track) = self.tracks.get_mut(&id) else {
                        continue;
                    };
                    while track.state != TargetState::Draining && track.next_check <= now {
                        let at = track.next_check;
                        let seen = probe(world, &name, &t.task, started, at);
                        track.record(seen, at);
                        track.next_check = at + secs(INTERVAL_SECS);
                    }
                    let healthy = Some(track.state == TargetState::Healthy);
                    // The scheduler looks again when a target starts or stops serving.
                    changed |= t.target_healthy != healthy;
                    t.target_healthy = healthy;
                }
                if changed {
                    svc.wake_by(now);
                }
            }
        }
    }

    /// After the scheduler's pass: tasks on their way out are deregistered (draining), stopped
    /// ones are gone, and tasks started in this pass do not serve until their target is healthy.
    pub fn follow(&mut self, fleet: &mut Fleet, _now: Time) {
        let mut live = std::collections::HashSet::new();
        for cl in &mut fleet.clusters {
            for svc in &mut cl.services {
                if svc.service.target_group_arns.is_empty() {
                    continue;
                }
                for t in &mut svc.tasks {
                    let id = t.task.id().to_string();
                    if let Some(track) = self.tracks.get_mut(&id) {
                        if !t.wants_running() {
                            track.state = TargetState::Draining;
                            t.target_healthy = Some(false);
                        }
                    } else {
                        t.target_healthy = Some(false);
                    }
                    live.insert(id);
                }
            }
        }
        self.tracks.retain(|id, _| live.contains(id));
    }

    /// `DescribeTargetHealth` for `target_groups`, as the tracks say now.
    pub fn describe(
        &self,
        fleet: &Fleet,
        world: &World,
        now: Time,
        target_groups: &[String],
    ) -> Result<Vec<TargetGroupHealth>, SourceError> {
        target_groups
            .iter()
            .map(|arn| {
                let name = crate::model::arn::target_group_name(arn).to_string();
                let svc = fleet
                    .clusters
                    .iter()
                    .flat_map(|c| &c.services)
                    .find(|s| s.service.target_group_arns.contains(arn))
                    .ok_or_else(|| {
                        SourceError::not_found(format!("target group {name} not found"))
                    })?;
                let path = if svc.name() == WEB {
                    *world.health_check_path.at(now)
                } else {
                    "/actuator/health"
                };
                let targets = svc
                    .tasks
                    .iter()
                    .filter_map(|t| match self.tracks.get(t.task.id()) {
                        Some(track) => Some(track.health()),
                        // awsvpc tasks register their IP while ACTIVATING.
                        None if t.task.last_status == "ACTIVATING" => Some(TargetHealth {
                            id: t.task.private_ip.to_string(),
                            port: Some(PORT),
                            availability_zone: t.task.availability_zone.to_string(),
                            state: "initial".into(),
                            reason: "Elb.RegistrationInProgress".into(),
                            description: "Target registration is in progress".into(),
                        }),
                        None => None,
                    })
                    .collect();
                Ok(TargetGroupHealth {
                    arn: arn.clone(),
                    name,
                    health_check: HealthCheck {
                        protocol: "HTTP".into(),
                        path: path.into(),
                        port: "traffic-port".into(),
                        interval_secs: INTERVAL_SECS as i32,
                        timeout_secs: 5,
                        healthy_threshold: HEALTHY_THRESHOLD as i32,
                        unhealthy_threshold: UNHEALTHY_THRESHOLD as i32,
                        matcher: "200".into(),
                    },
                    targets,
                    fetched_at: Some(now),
                })
            })
            .collect()
    }
}

impl Track {
    fn record(&mut self, seen: Probe, at: Time) {
        if seen == Probe::Pass {
            self.passes += 1;
            self.fails = 0;
            let healthy = match self.state {
                TargetState::Initial => true,
                TargetState::Unhealthy => self.passes >= HEALTHY_THRESHOLD,
                _ => false,
            };
            if healthy {
                self.state = TargetState::Healthy;
                self.unhealthy_since = None;
            }
        } else {
            self.cause = seen;
            self.fails += 1;
            self.passes = 0;
            let failing = matches!(self.state, TargetState::Initial | TargetState::Healthy);
            if failing && self.fails >= UNHEALTHY_THRESHOLD {
                self.state = TargetState::Unhealthy;
                self.unhealthy_since = Some(at);
            }
        }
    }

    fn health(&self) -> TargetHealth {
        let (state, reason, description) = match self.state {
            TargetState::Healthy => ("healthy", "", String::new()),
            TargetState::Initial => (
                "initial",
                "Elb.InitialHealthChecking",
                "Initial health checks in progress".to_string(),
            ),
            TargetState::Unhealthy => {
                let (reason, description) = self.cause.reason();
                ("unhealthy", reason, description)
            }
            TargetState::Draining => (
                "draining",
                "Target.DeregistrationInProgress",
                "Target deregistration is in progress".to_string(),
            ),
        };
        TargetHealth {
            id: self.ip.clone(),
            port: Some(PORT),
            availability_zone: self.az.clone(),
            state: state.into(),
            reason: reason.into(),
            description,
        }
    }
}
