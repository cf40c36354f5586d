//! Moving the fleet through time in fixed steps.
//!
//! The state after `advance_to(t)` depends only on the seed, the start and the number of whole
//! steps before `t`, so one big jump and many small ones give the same fleet. Each step costs
//! O(services) plus the work of the tasks that actually change, which keeps the 10,000-task
//! scenario cheap.

use fastrand::Rng;

use super::fleet::{
    ClusterState, Fleet, Next, STOPPED_RETENTION_SECS, ServiceState, StopKind, Tuning,
};
use super::lifecycle::{secs, set_health};
use super::names;
use crate::model::{Deployment, Time};

pub const STEP_SECS: i64 = 5;
/// A source left idle for days does not replay every step on its next call: anything beyond this
/// much catching up is skipped (the fleet simply sat still meanwhile).
const MAX_CATCH_UP_SECS: i64 = 86_400;
/// Rolling deployments run with the service's deployment configuration; without one, with
/// maximumPercent 150 and minimumHealthyPercent 100.
const MAXIMUM_PERCENT: u32 = 150;
/// A retried placement failure is announced at most this often.
const PLACE_EVENT_EVERY_SECS: i64 = 600;

impl Fleet {
    pub fn advance_to(&mut self, t: Time) {
        let gap = (t - self.now).num_seconds();
        if gap > MAX_CATCH_UP_SECS {
            let skip = (gap - MAX_CATCH_UP_SECS) / STEP_SECS * STEP_SECS;
            self.now += secs(skip);
        }
        while self.now + secs(STEP_SECS) <= t {
            self.now += secs(STEP_SECS);
            let now = self.now;
            // A replayed incident acts around the scheduler's pass (see `scenario`).
            let mut incident = self.incident.take();
            if let Some(incident) = incident.as_mut() {
                incident.before_step(self, now);
            }
            self.step();
            if let Some(incident) = incident.as_mut() {
                incident.after_step(self, now);
            }
            self.incident = incident;
        }
    }

    fn step(&mut self) {
        let now = self.now;
        let Fleet {
            rng,
            clusters,
            tuning,
            next_deployment_at,
            taskdefs,
            ..
        } = self;
        let per_step = STEP_SECS as f64 / 3600.0;
        if rng.f64() < tuning.stops_per_hour * per_step {
            random_stop(clusters, rng, now);
        }
        if rng.f64() < tuning.health_flaps_per_hour * per_step {
            random_health_flap(clusters, rng, now);
        }
        if now >= *next_deployment_at {
            start_random_deployment(clusters, rng, now, taskdefs);
            let (min, max) = tuning.deployment_every_secs;
            *next_deployment_at = now + secs(rng.i64(min..=max));
        }
        let cutoff = now - secs(STOPPED_RETENTION_SECS);
        for cluster in clusters.iter_mut() {
            for s in 0..cluster.services.len() {
                let svc = &cluster.services[s];
                if svc.dirty || svc.wake_at.is_some_and(|w| w <= now) {
                    process_service(cluster, s, now, rng, tuning);
                }
                prune_stopped(cluster, s, cutoff);
            }
        }
    }
}

/// Picks a task at random, weighted so busy services lose more tasks.
fn pick_task(clusters: &[ClusterState], rng: &mut Rng) -> Option<(usize, usize, usize)> {
    let total: usize = clusters
        .iter()
        .flat_map(|c| &c.services)
        .map(|s| s.tasks.len())
        .sum();
    if total == 0 {
        return None;
    }
    let mut k = rng.usize(0..total);
    for (c, cluster) in clusters.iter().enumerate() {
        for (s, svc) in cluster.services.iter().enumerate() {
            if k < svc.tasks.len() {
                return Some((c, s, k));
            }
            k -= svc.tasks.len();
        }
    }
    None
}

fn random_stop(clusters: &mut [ClusterState], rng: &mut Rng, now: Time) {
    let Some((c, s, i)) = pick_task(clusters, rng) else {
        return;
    };
    let cluster = &mut clusters[c];
    let svc = &cluster.services[s];
    let t = &svc.tasks[i];
    if !(t.is_running() && t.wants_running()) {
        return;
    }
    let mut kinds = vec![(StopKind::Crash, 4), (StopKind::OutOfMemory, 3)];
    if svc.health_check {
        kinds.push((StopKind::HealthCheck, 2));
    }
    if !svc.service.target_group_arns.is_empty() {
        kinds.push((StopKind::ElbHealth, 2));
    }
    if svc.spot {
        kinds.push((StopKind::SpotInterruption, 5));
    }
    let total: u32 = kinds.iter().map(|(_, w)| w).sum();
    let mut k = rng.u32(0..total);
    let kind = kinds
        .iter()
        .find(|(_, w)| {
            let hit = k < *w;
            k = k.saturating_sub(*w);
            hit
        })
        .map_or(StopKind::Crash, |(kind, _)| *kind);
    cluster.begin_stop(s, i, kind, now, rng);
}

/// A health check fails for a while; most tasks recover, the others get replaced.
fn random_health_flap(clusters: &mut [ClusterState], rng: &mut Rng, now: Time) {
    let Some((c, s, i)) = pick_task(clusters, rng) else {
        return;
    };
    let svc = &mut clusters[c].services[s];
    let pass = rng.f64() < 0.6;
    let at = now + secs(rng.i64(30..=180));
    let health_check = svc.health_check;
    let t = &mut svc.tasks[i];
    if !health_check || !t.is_ready(true) {
        return;
    }
    set_health(&mut t.task, "UNHEALTHY");
    t.next = Next::Health { pass };
    t.next_at = Some(at);
    svc.wake_by(at);
}

/// Someone ships a new revision of a service that is currently steady.
fn start_random_deployment(
    clusters: &mut [ClusterState],
    rng: &mut Rng,
    now: Time,
    taskdefs: &mut super::taskdefs::Registry,
) {
    let candidates: Vec<(usize, usize)> = clusters
        .iter()
        .enumerate()
        .flat_map(|(c, cluster)| {
            cluster
                .services
                .iter()
                .enumerate()
                .filter(|(_, s)| is_quiet(s))
                .map(move |(s, _)| (c, s))
        })
        .collect();
    if candidates.is_empty() {
        return;
    }
    let (c, s) = candidates[rng.usize(0..candidates.len())];
    let fargate = clusters[c].fargate;
    let svc = &mut clusters[c].services[s];
    let build = rng.u32(1..6);
    // The next number of the family, even after a rollback to an older revision.
    svc.spec.revision = taskdefs.next_revision(&svc.spec.family, svc.spec.revision);
    let repo = svc
        .spec
        .image
        .rsplit_once(':')
        .map_or(svc.spec.image.clone(), |(repo, _)| repo.to_string());
    svc.spec.image = format!("{repo}:{}", names::release_tag(now, build));
    let id = names::deployment_id(rng);
    begin_deployment(svc, id, now);
    taskdefs.record(svc, fargate, now);
}

/// Makes a new PRIMARY deployment of the service's current spec; the old one turns ACTIVE.
pub fn begin_deployment(svc: &mut ServiceState, id: String, now: Time) {
    for d in &mut svc.service.deployments {
        if d.status == "PRIMARY" {
            d.status = "ACTIVE".into();
        }
    }
    let task_definition = svc.spec.task_definition();
    svc.service.task_definition = task_definition.clone();
    svc.service.deployments.insert(
        0,
        Deployment {
            rollout_reason: format!("ECS deployment {id} in progress."),
            id,
            status: "PRIMARY".into(),
            task_definition,
            desired: svc.service.desired,
            running: 0,
            pending: 0,
            failed: 0,
            rollout_state: "IN_PROGRESS".into(),
            created_at: Some(now),
            updated_at: Some(now),
        },
    );
    svc.dirty = true;
    svc.unsteady = true;
}

fn is_quiet(s: &ServiceState) -> bool {
    !s.deploying()
        && !s.unsteady
        && !s.dirty
        && s.place_retry_at.is_none()
        && s.service.desired > 0
        && s.tasks.iter().all(|t| t.wants_running() && t.is_running())
}

fn process_service(
    cluster: &mut ClusterState,
    s: usize,
    now: Time,
    rng: &mut Rng,
    tuning: &Tuning,
) {
    let mut i = 0;
    while i < cluster.services[s].tasks.len() {
        let due = cluster.services[s].tasks[i]
            .next_at
            .is_some_and(|at| at <= now);
        if due && cluster.advance_task(s, i, now, rng) {
            continue;
        }
        i += 1;
    }
    if cluster.services[s].deploying() {
        roll(cluster, s, now, rng, tuning);
    } else if cluster.needs_rescheduling(s) {
        // Tasks on a draining instance, or more tasks than desired after a scale-in.
        let primary = cluster.services[s]
            .primary_id()
            .unwrap_or_default()
            .to_string();
        replace(cluster, s, &primary, now, rng, tuning);
    } else {
        let svc = &cluster.services[s];
        let missing = svc.service.desired.saturating_sub(svc.active());
        if missing > 0 {
            let deployment = svc.primary_id().unwrap_or_default().to_string();
            start_tasks(cluster, s, &deployment, missing, now, rng, tuning);
        }
    }
    let svc = &mut cluster.services[s];
    flush_events(svc, rng, now);
    let desired = svc.service.desired;
    let ready = svc
        .tasks
        .iter()
        .filter(|t| t.is_ready(svc.health_check))
        .count() as u32;
    if svc.unsteady && !svc.deploying() && ready == desired && svc.tasks.len() as u32 == desired {
        let message = format!("(service {}) has reached a steady state.", svc.service.name);
        svc.push_event(rng, now, message);
        svc.unsteady = false;
    }
    svc.dirty = false;
    svc.recompute_wake();
}

/// The scheduler starts `n` tasks, stopping at the first that cannot be placed.
pub fn start_tasks(
    cluster: &mut ClusterState,
    s: usize,
    deployment: &str,
    n: u32,
    now: Time,
    rng: &mut Rng,
    tuning: &Tuning,
) {
    if cluster.services[s]
        .place_retry_at
        .is_some_and(|at| at > now)
    {
        return;
    }
    cluster.services[s].place_retry_at = None;
    for _ in 0..n {
        let fail = (rng.f64() < tuning.start_failure_rate).then(|| {
            if rng.u32(0..4) == 0 {
                StopKind::SecretsFailure
            } else {
                StopKind::PullFailure
            }
        });
        if let Err(message) = cluster.start_task(s, deployment, now, rng, fail) {
            let svc = &mut cluster.services[s];
            svc.place_retry_at = Some(now + secs(60));
            let quiet = svc
                .last_place_event_at
                .is_none_or(|at| (now - at).num_seconds() >= PLACE_EVENT_EVERY_SECS);
            if quiet {
                svc.push_event(rng, now, message);
                svc.last_place_event_at = Some(now);
            }
            return;
        }
    }
}

/// One pass of a rolling deployment: start new tasks within maximumPercent, stop old ones
/// while keeping minimumHealthyPercent, and finish when only new, healthy tasks remain.
fn roll(cluster: &mut ClusterState, s: usize, now: Time, rng: &mut Rng, tuning: &Tuning) {
    let primary = cluster.services[s]
        .primary_id()
        .unwrap_or_default()
        .to_string();
    replace(cluster, s, &primary, now, rng, tuning);

    let svc = &cluster.services[s];
    let health_check = svc.health_check;
    let desired = svc.service.desired;
    let old_left = svc
        .tasks
        .iter()
        .any(|t| t.deployment != primary || cluster.is_displaced(t));
    let svc = &mut cluster.services[s];
    let new_ready = svc
        .tasks
        .iter()
        .filter(|t| t.deployment == primary && t.is_ready(health_check))
        .count() as u32;
    if !old_left && new_ready == desired && svc.active() == desired {
        svc.service.deployments.retain(|d| d.id == primary);
        if let Some(d) = svc.service.deployments.first_mut() {
            d.rollout_state = "COMPLETED".into();
            d.rollout_reason = format!("ECS deployment {primary} completed.");
            d.updated_at = Some(now);
        }
        let message = format!(
            "(service {}) (deployment {primary}) deployment completed.",
            svc.service.name
        );
        svc.push_event(rng, now, message);
    }
}

/// Moves service `s` towards `desired` tasks of deployment `primary` on instances that take
/// tasks: starts them within maximumPercent, then stops the others (older deployments, tasks on
/// draining instances) while keeping minimumHealthyPercent, and any surplus.
pub fn replace(
    cluster: &mut ClusterState,
    s: usize,
    primary: &str,
    now: Time,
    rng: &mut Rng,
    tuning: &Tuning,
) {
    let svc = &cluster.services[s];
    let desired = svc.service.desired;
    let health_check = svc.health_check;
    let config = &svc.service.deployment_config;
    let maximum = config.maximum_percent.unwrap_or(MAXIMUM_PERCENT);
    let minimum = config.minimum_healthy_percent.unwrap_or(100);
    // Below 100 % healthy, old tasks may go first; at 100 % one extra task must fit.
    let floor = if minimum < 100 { desired } else { desired + 1 };
    let max_total = (desired * maximum / 100).max(floor);
    let is_new = |t: &&super::fleet::SimTask| t.deployment == primary && !cluster.is_displaced(t);
    let new_active = svc
        .tasks
        .iter()
        .filter(is_new)
        .filter(|t| t.wants_running())
        .count() as u32;
    let active = svc.active();
    let want = desired
        .saturating_sub(new_active)
        .min(max_total.saturating_sub(active));
    if want > 0 {
        start_tasks(cluster, s, primary, want, now, rng, tuning);
    }

    let svc = &cluster.services[s];
    let ready = svc
        .tasks
        .iter()
        .filter(|t| t.is_ready(health_check))
        .count() as u32;
    let mut can_stop = ready.saturating_sub((desired * minimum).div_ceil(100));
    let mut old: Vec<(bool, usize)> = svc
        .tasks
        .iter()
        .enumerate()
        .filter(|(_, t)| (t.deployment != primary || cluster.is_displaced(t)) && t.wants_running())
        .map(|(i, t)| (t.is_ready(health_check), i))
        .collect();
    // Old tasks that serve nothing go first; they don't count toward the healthy minimum.
    old.sort();
    for (was_ready, i) in old {
        if was_ready {
            if can_stop == 0 {
                break;
            }
            can_stop -= 1;
        }
        // Deployment stops never remove a task at once, so the indices stay valid.
        cluster.begin_stop(s, i, StopKind::Deployment, now, rng);
    }
    cluster.trim_surplus(s, primary, now, rng);
}

fn task_list(ids: &[String]) -> String {
    ids.iter()
        .map(|id| format!("(task {id})"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Turns what one scheduler pass did into events, worded the way ECS words them.
pub fn flush_events(svc: &mut ServiceState, rng: &mut Rng, now: Time) {
    let name = svc.service.name.clone();
    let target_group = svc
        .service
        .target_group_arns
        .first()
        .cloned()
        .unwrap_or_default();
    let started = std::mem::take(&mut svc.started_now);
    let stopped = std::mem::take(&mut svc.stopped_now);
    let draining = std::mem::take(&mut svc.draining_now);
    let registered = std::mem::take(&mut svc.registered_now);
    if !started.is_empty() {
        let message = format!(
            "(service {name}) has started {} tasks: {}.",
            started.len(),
            task_list(&started)
        );
        svc.push_event(rng, now, message);
    }
    if registered > 0 {
        let message = format!(
            "(service {name}) registered {registered} targets in (target-group {target_group})"
        );
        svc.push_event(rng, now, message);
    }
    if draining > 0 {
        let message =
            format!("(service {name}) has begun draining connections on {draining} tasks.");
        svc.push_event(rng, now, message);
        let message = format!(
            "(service {name}) deregistered {draining} targets in (target-group {target_group})"
        );
        svc.push_event(rng, now, message);
    }
    if !stopped.is_empty() {
        let message = format!(
            "(service {name}) has stopped {} running tasks: {}.",
            stopped.len(),
            task_list(&stopped)
        );
        svc.push_event(rng, now, message);
    }
}

/// ECS forgets stopped tasks about an hour after they stop.
fn prune_stopped(cluster: &mut ClusterState, s: usize, cutoff: Time) {
    let ClusterState {
        services,
        task_index,
        ..
    } = cluster;
    let svc = &mut services[s];
    while svc
        .stopped
        .front()
        .is_some_and(|t| t.stopped_at.is_some_and(|at| at < cutoff))
    {
        if let Some(t) = svc.stopped.pop_front() {
            task_index.remove(t.id());
        }
    }
}
