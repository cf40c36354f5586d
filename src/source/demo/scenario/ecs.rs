//! What ECS (and the kernel under it) does on its own during a scenario, beyond the generic
//! scheduler in `simulate.rs`: how long starts take, pulls the execution role may not make,
//! tasks stopped for failing their load balancer's health checks, containers killed at their
//! memory limit, and the deployment circuit breaker with its rollback.

use std::collections::{HashMap, HashSet};

use super::super::fleet::{Fleet, StopKind, TaskSpec};
use super::super::lifecycle::secs;
use super::super::names;
use super::super::simulate::begin_deployment;
use super::elb::{Probe, TargetState, Targets};
use super::world::{WEB, World};
use crate::model::Time;

/// Seconds a start phase takes in a scenario (the generic fleet draws them at random).
const PROVISIONING_SECS: i64 = 5;
const ACTIVATING_SECS: i64 = 5;
const DEACTIVATING_SECS: i64 = 20;
const STOPPING_SECS: i64 = 6;
/// ECS's default `stopTimeout`: SIGKILL this long after SIGTERM.
pub const STOP_TIMEOUT_SECS: i64 = 30;
/// ECS stops at most a batch of unhealthy tasks per service this often.
const STOP_BATCH_EVERY_SECS: i64 = 60;

#[derive(Default)]
pub struct Ecs {
    /// (task id, status) whose duration has been set.
    paced: HashSet<(String, String)>,
    /// When ECS last stopped unhealthy tasks of a service, and how many.
    stopped_unhealthy: HashMap<String, Vec<Time>>,
    /// Deployments that already announced they cannot start tasks consistently.
    throttled: HashSet<String>,
    /// Target groups whose serving task died abruptly this step (connections reset: ELB 502).
    pub resets: Vec<String>,
}

impl Ecs {
    /// ECS's scheduler acts continuously: a service that is short of tasks or in the middle of
    /// a deployment is looked at every step, not only when one of its tasks changes.
    pub fn keep_scheduling(&mut self, fleet: &mut Fleet, now: Time) {
        for cl in &mut fleet.clusters {
            for svc in &mut cl.services {
                if svc.deploying() || svc.active() < svc.service.desired {
                    svc.wake_by(now);
                }
            }
        }
    }

    /// Gives every new start or stop phase the scenario's duration: a cached image pulls in
    /// seconds, a denied one retries for almost two minutes before ECS gives up.
    pub fn pace_starts(&mut self, fleet: &mut Fleet, world: &World, now: Time) {
        for cl in &mut fleet.clusters {
            for svc in &mut cl.services {
                let web = svc.name() == WEB;
                let mut changed = false;
                for t in &mut svc.tasks {
                    let status = t.task.last_status.clone();
                    let revision = t.task.task_definition.revision;
                    let long = if web {
                        world.long_drain(revision, now)
                    } else {
                        None
                    };
                    let duration = match status.as_str() {
                        "PROVISIONING" => PROVISIONING_SECS,
                        // Open exports hold the target until they end or the delay cuts them.
                        "DEACTIVATING" if long.is_some() => long.unwrap_or(DEACTIVATING_SECS),
                        // The process ignores SIGTERM: ECS waits stopTimeout, then SIGKILL.
                        "STOPPING" if long.is_some() => STOP_TIMEOUT_SECS,
                        // Requests are short: a target drains in seconds, Spring stops in a few.
                        "DEACTIVATING" => DEACTIVATING_SECS,
                        "STOPPING" => STOPPING_SECS,
                        "PENDING"
                            if web && world.pull_denied(t.task.task_definition.revision, now) =>
                        {
                            world.denied_pull_secs
                        }
                        "PENDING" => world.pull_secs,
                        "ACTIVATING" => ACTIVATING_SECS,
                        _ => continue,
                    };
                    if t.next_at.is_none()
                        || !self
                            .paced
                            .insert((t.task.id().to_string(), status.to_string()))
                    {
                        continue;
                    }
                    // The phase began at the previous step.
                    t.next_at = Some(now - secs(5) + secs(duration).max(secs(5)));
                    changed = true;
                }
                if changed {
                    svc.recompute_wake();
                }
            }
        }
    }

    /// A pull the execution role may not make fails at the end of PENDING with ECR's 403.
    pub fn fail_denied_pulls(&mut self, fleet: &mut Fleet, world: &World, now: Time) {
        let Fleet { clusters, rng, .. } = fleet;
        for cl in clusters.iter_mut() {
            let Some(&s) = cl.service_index.get(WEB) else {
                continue;
            };
            loop {
                let svc = &cl.services[s];
                let due = svc.tasks.iter().position(|t| {
                    t.task.last_status == "PENDING"
                        && t.wants_running()
                        && t.next_at.is_some_and(|at| at <= now)
                        && world.pull_denied(t.task.task_definition.revision, now)
                });
                let Some(i) = due else { break };
                let image = svc.tasks[i].task.containers[0].image.clone();
                let deployment = svc.tasks[i].deployment.clone();
                cl.begin_stop(s, i, StopKind::PullFailure, now, rng);
                let reason = denied_pull_reason(&image);
                let svc = &mut cl.services[s];
                if let Some(t) = svc.stopped.back_mut() {
                    t.stopped_reason = reason.as_str().into();
                    t.containers[0].reason = reason.into();
                }
                let failed = svc
                    .service
                    .deployments
                    .iter()
                    .find(|d| d.id == deployment)
                    .map_or(0, |d| d.failed);
                if failed >= 3 && self.throttled.insert(deployment) {
                    let message = format!(
                        "(service {WEB}) is unable to consistently start tasks successfully. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide."
                    );
                    svc.push_event(rng, now, message);
                }
            }
        }
    }

    /// ECS stops tasks whose target stays unhealthy past the grace period, a batch at a time:
    /// as many as `minimumHealthyPercent` allows, at least half the service.
    pub fn stop_unhealthy_targets(
        &mut self,
        fleet: &mut Fleet,
        world: &World,
        targets: &mut Targets,
        now: Time,
    ) {
        let Fleet { clusters, rng, .. } = fleet;
        for cl in clusters.iter_mut() {
            for s in 0..cl.services.len() {
                let svc = &cl.services[s];
                let grace = i64::from(svc.service.health_check_grace_secs.unwrap_or(0));
                let desired = svc.service.desired;
                let minimum = svc
                    .service
                    .deployment_config
                    .minimum_healthy_percent
                    .unwrap_or(100);
                let keep = (desired * minimum).div_ceil(100);
                let batch = desired.saturating_sub(keep).max(desired / 2).max(1) as usize;
                let recent = self
                    .stopped_unhealthy
                    .entry(svc.name().to_string())
                    .or_default();
                recent.retain(|at| (now - *at).num_seconds() < STOP_BATCH_EVERY_SECS);
                let mut due: Vec<(String, Probe)> = svc
                    .tasks
                    .iter()
                    .filter(|t| t.wants_running() && t.is_running())
                    .filter(|t| {
                        t.task
                            .started_at
                            .is_some_and(|at| (now - at).num_seconds() >= grace)
                    })
                    .filter_map(|t| {
                        let track = targets.get(t.task.id())?;
                        let since = track.unhealthy_since?;
                        (track.state == TargetState::Unhealthy
                            && (now - since).num_seconds() >= world.unhealthy_stop_secs)
                            .then(|| (t.task.id().to_string(), track.cause))
                    })
                    .collect();
                due.truncate(batch.saturating_sub(recent.len()));
                let tg = svc
                    .service
                    .target_group_arns
                    .first()
                    .cloned()
                    .unwrap_or_default();
                let name = svc.name().to_string();
                for (id, probe) in due {
                    let Some(i) = cl.services[s].tasks.iter().position(|t| t.task.id() == id)
                    else {
                        continue;
                    };
                    cl.begin_stop(s, i, StopKind::ElbHealth, now, rng);
                    self.stopped_unhealthy
                        .entry(name.clone())
                        .or_default()
                        .push(now);
                    // `begin_stop` words the event for a 502; say what the checks really saw.
                    let svc = &mut cl.services[s];
                    let message = format!(
                        "(service {name}) (task {id}) (port 8080) is unhealthy in (target-group {tg}) due to (reason {}).",
                        probe.description()
                    );
                    if let Some(e) = svc
                        .service
                        .events
                        .iter_mut()
                        .find(|e| e.message.contains(&format!("(task {id})")))
                    {
                        e.message = message;
                    }
                }
            }
        }
    }

    /// Tasks of a revision that ignores SIGTERM and was stopped by the scheduler end with
    /// SIGKILL after stopTimeout: exit 137 under `ServiceSchedulerInitiated` (not an OOM).
    pub fn sigkill_after_stop_timeout(&mut self, fleet: &mut Fleet, world: &World) {
        for cl in &mut fleet.clusters {
            let Some(&s) = cl.service_index.get(WEB) else {
                continue;
            };
            for t in &mut cl.services[s].stopped {
                let revision = t.task_definition.revision;
                let ignores = world.long_requests.iter().any(|(r, _)| *r == revision);
                if ignores
                    && t.stop_code == "ServiceSchedulerInitiated"
                    && t.started_at.is_some()
                    && let Some(c) = t.containers.first_mut()
                {
                    c.exit_code = Some(137);
                }
            }
        }
    }

    /// The kernel kills a `web` container whose memory reaches its hard limit.
    pub fn kill_out_of_memory(
        &mut self,
        fleet: &mut Fleet,
        world: &World,
        targets: &mut Targets,
        now: Time,
    ) {
        let Fleet { clusters, rng, .. } = fleet;
        for cl in clusters.iter_mut() {
            let Some(&s) = cl.service_index.get(WEB) else {
                continue;
            };
            loop {
                let svc = &cl.services[s];
                let full = svc.tasks.iter().position(|t| {
                    let (Some(started), Some(limit)) = (t.task.started_at, t.task.memory) else {
                        return false;
                    };
                    t.wants_running()
                        && t.is_running()
                        && world.web_memory(
                            t.task.id(),
                            t.task.task_definition.revision,
                            started,
                            now,
                        ) >= f64::from(limit)
                });
                let Some(i) = full else { break };
                let id = svc.tasks[i].task.id().to_string();
                if targets
                    .get(&id)
                    .is_some_and(|t| t.state == TargetState::Healthy)
                {
                    self.resets
                        .extend(svc.service.target_group_arns.first().cloned());
                }
                cl.begin_stop(s, i, StopKind::OutOfMemory, now, rng);
            }
        }
    }

    /// A rolling deployment whose tasks keep failing trips the circuit breaker: the deployment
    /// is FAILED and, with rollback on, the last completed revision is deployed again.
    pub fn circuit_breaker(
        &mut self,
        fleet: &mut Fleet,
        world: &World,
        specs: &HashMap<(String, u32), TaskSpec>,
        now: Time,
    ) {
        let Fleet {
            clusters,
            rng,
            taskdefs,
            ..
        } = fleet;
        for cl in clusters.iter_mut() {
            let fargate = cl.fargate;
            for svc in &mut cl.services {
                let config = svc.service.deployment_config.clone();
                if !config.circuit_breaker {
                    continue;
                }
                let Some(primary) = svc
                    .service
                    .primary_deployment()
                    .filter(|d| d.rollout_state == "IN_PROGRESS")
                    .cloned()
                else {
                    continue;
                };
                let threshold = if svc.name() == WEB {
                    world.breaker_threshold
                } else {
                    None
                }
                .unwrap_or_else(|| primary.desired.div_ceil(2).clamp(3, 200));
                if primary.failed < threshold {
                    continue;
                }
                let name = svc.name().to_string();
                let previous = svc
                    .service
                    .deployments
                    .iter()
                    .find(|d| d.id != primary.id && d.rollout_state == "COMPLETED")
                    .cloned();
                for d in &mut svc.service.deployments {
                    if d.id == primary.id {
                        d.rollout_state = "FAILED".into();
                        d.rollout_reason =
                            "ECS deployment circuit breaker: tasks failed to start.".into();
                        d.updated_at = Some(now);
                    }
                }
                let message = format!(
                    "(service {name}) (deployment {}) deployment failed: tasks failed to start.",
                    primary.id
                );
                svc.push_event(rng, now, message);
                let rollback = previous.filter(|_| config.rollback).and_then(|d| {
                    let spec = specs.get(&(name.clone(), d.task_definition.revision))?;
                    Some((d, spec.clone()))
                });
                if let Some((to, spec)) = rollback {
                    let message = format!("(service {name}) rolling back to deployment {}.", to.id);
                    svc.push_event(rng, now, message);
                    svc.spec = spec;
                    let id = names::deployment_id(rng);
                    begin_deployment(svc, id, now);
                    taskdefs.record(svc, fargate, now);
                } else {
                    // Without rollback the failed deployment stays as it is.
                    svc.dirty = true;
                }
            }
        }
    }
}

/// ECR's refusal as ECS reports it in `stoppedReason`.
fn denied_pull_reason(image: &str) -> String {
    let (registry, tag) = match image.split_once('/') {
        Some((registry, rest)) => (registry, rest.rsplit_once(':').map_or("latest", |(_, t)| t)),
        None => (image, "latest"),
    };
    format!(
        "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref {image}: pulling from host {registry} failed with status code [manifests {tag}]: 403 Forbidden (access denied)"
    )
}
