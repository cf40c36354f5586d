//! Operator actions on the demo fleet ([`crate::source::FleetSource::apply`]) and the facts the
//! action dialogs show: Application Auto Scaling bounds and target health.
//!
//! An action changes only what the API call would change (a desired count, a deployment, a
//! task's desired status, an instance's status) at the instant it is applied. The service
//! scheduler in `simulate.rs` then carries it out step by step, the way ECS would: new tasks
//! go through the whole start path, stopped ones through the stop path, and the service events
//! tell what it did. The hooks it calls live here: which tasks sit on a draining instance, when a
//! service needs more than "start what is missing", and which tasks a scale-in stops.

use fastrand::Rng;

use super::fleet::{ClusterState, Fleet, ServiceState, SimTask, StopKind};
use super::names::{self, AZ_COUNT};
use super::simulate::begin_deployment;
use crate::model::arn::target_group_name;
use crate::model::{
    HealthCheck, Operation, ScalingBounds, TargetGroupHealth, TargetHealth, Time, arn_tail,
};
use crate::source::{ErrorKind, SourceError};

/// ECS's quota of tasks per service: a desired count above it is refused.
const MAX_DESIRED: u32 = 5000;
/// The container port every load-balanced demo service listens on.
const TARGET_PORT: i32 = 8080;
/// Without a container health check, a new target passes the load balancer's checks this long
/// after its task started.
const INITIAL_CHECKS_SECS: i64 = 60;

/// Carries out `op` on the fleet (already brought up to `now`) and says what happened.
pub fn apply(fleet: &mut Fleet, now: Time, op: &Operation) -> Result<String, SourceError> {
    match op {
        Operation::Scale {
            cluster,
            service,
            to,
            ..
        } => scale(fleet, cluster, service, *to),
        Operation::Redeploy {
            cluster, service, ..
        } => redeploy(fleet, now, cluster, service),
        Operation::StopTask {
            cluster,
            task_arn,
            reason,
        } => stop_task(fleet, now, cluster, task_arn, reason),
        Operation::SetInstanceState {
            cluster,
            instance_arn,
            draining,
            ..
        } => set_instance_state(fleet, cluster, instance_arn, *draining),
        Operation::Exec { .. } | Operation::InstanceShell { .. } => Err(SourceError::new(
            ErrorKind::Service,
            "interactive sessions are not something the demo fleet can apply",
        )),
        Operation::PortForward { .. } => Err(SourceError::new(
            ErrorKind::Service,
            "a port forward is opened as a session, not applied",
        )),
        // The source looks the revision up in its registry first (`rollback`).
        Operation::Rollback { family, to, .. } => Err(SourceError::not_found(format!(
            "task definition {family}:{to} is not registered"
        ))),
    }
}

/// `UpdateService taskDefinition=family:M forceNewDeployment`: the service runs revision `def`
/// from a new PRIMARY deployment, which the scheduler rolls every task onto.
pub fn rollback(
    fleet: &mut Fleet,
    now: Time,
    cluster: &str,
    service: &str,
    def: &crate::model::TaskDefinition,
) -> Result<String, SourceError> {
    let (cl, rng) = cluster_mut(fleet, cluster)?;
    let s = cl.service_named(service)?;
    let svc = &mut cl.services[s];
    let spec = &mut svc.spec;
    if def.reference.family != spec.family {
        return Err(SourceError::new(
            ErrorKind::Service,
            format!(
                "{} is not a revision of {}: a service keeps its family",
                def.reference, spec.family
            ),
        ));
    }
    let from = spec.revision;
    spec.revision = def.reference.revision;
    if let Some(app) = def.container(&spec.app_name) {
        spec.image = app.image.clone();
    }
    spec.cpu = def.cpu.unwrap_or(spec.cpu);
    spec.memory = def.memory.unwrap_or(spec.memory);
    let id = names::deployment_id(rng);
    begin_deployment(svc, id.clone(), now);
    let name = svc.name().to_string();
    let message = format!(
        "(service {name}) updated to task definition {}; (deployment {id}) deployment started.",
        def.reference
    );
    svc.push_event(rng, now, message);
    Ok(format!(
        "{name}: {}:{from} → {}; deployment {id} started",
        def.reference.family, def.reference
    ))
}

/// The cluster to change, and the fleet's RNG for the ids and events the change makes.
fn cluster_mut<'a>(
    fleet: &'a mut Fleet,
    cluster: &str,
) -> Result<(&'a mut ClusterState, &'a mut Rng), SourceError> {
    let name = arn_tail(cluster);
    let Fleet { clusters, rng, .. } = fleet;
    match clusters.iter_mut().find(|c| c.name == name) {
        Some(c) => Ok((c, rng)),
        None => Err(SourceError::not_found(format!(
            "cluster {name} no longer exists"
        ))),
    }
}

/// `UpdateService desiredCount`: the scheduler starts or stops tasks from the next step on.
fn scale(fleet: &mut Fleet, cluster: &str, service: &str, to: u32) -> Result<String, SourceError> {
    let (cl, _) = cluster_mut(fleet, cluster)?;
    let s = cl.service_named(service)?;
    if to > MAX_DESIRED {
        return Err(SourceError::new(
            ErrorKind::Service,
            format!("a service can run at most {MAX_DESIRED} tasks; {to} is too many"),
        ));
    }
    let svc = &mut cl.services[s];
    if svc.service.desired != to {
        svc.unsteady = true;
    }
    svc.service.desired = to;
    // The old deployments' desired counts follow their tasks (see `ServiceState::snapshot`).
    if let Some(d) = svc
        .service
        .deployments
        .iter_mut()
        .find(|d| d.status == "PRIMARY")
    {
        d.desired = to;
    }
    svc.dirty = true;
    Ok(format!("{}: desired count set to {to}", svc.name()))
}

/// `UpdateService forceNewDeployment`: a new PRIMARY deployment of the same task definition
/// that the rolling-deployment scheduler moves every task onto.
fn redeploy(
    fleet: &mut Fleet,
    now: Time,
    cluster: &str,
    service: &str,
) -> Result<String, SourceError> {
    let (cl, rng) = cluster_mut(fleet, cluster)?;
    let s = cl.service_named(service)?;
    let svc = &mut cl.services[s];
    let id = names::deployment_id(rng);
    begin_deployment(svc, id.clone(), now);
    let name = svc.name().to_string();
    let message = format!("(service {name}) (deployment {id}) deployment started.");
    svc.push_event(rng, now, message);
    let td = &svc.service.task_definition;
    Ok(format!(
        "{name}: deployment {id} of {}:{} started; every task will be replaced",
        td.family, td.revision
    ))
}

/// `StopTask`: the task stops with stop code `UserInitiated` and the reason given, and the
/// service scheduler starts a replacement at its next pass.
fn stop_task(
    fleet: &mut Fleet,
    now: Time,
    cluster: &str,
    task: &str,
    reason: &str,
) -> Result<String, SourceError> {
    let (cl, rng) = cluster_mut(fleet, cluster)?;
    let id = arn_tail(task);
    let short = crate::model::arn::short_task_id(id);
    let Some(&s) = cl.task_index.get(id) else {
        return Err(SourceError::not_found(format!(
            "task {short} is not in {}",
            cl.name
        )));
    };
    let Some(i) = cl.services[s].tasks.iter().position(|t| t.task.id() == id) else {
        return Err(SourceError::new(
            ErrorKind::Service,
            format!("task {short} is already stopped"),
        ));
    };
    let t = &cl.services[s].tasks[i];
    if !t.wants_running() {
        return Err(SourceError::new(
            ErrorKind::Service,
            format!("task {short} is already stopping ({})", t.task.last_status),
        ));
    }
    let was = t.task.last_status.clone();
    // User stops never end the task at once, so `i` stays valid.
    cl.begin_stop(s, i, StopKind::UserInitiated, now, rng);
    let svc = &mut cl.services[s];
    if !reason.trim().is_empty() {
        svc.tasks[i].task.stopped_reason = reason.into();
    }
    Ok(format!(
        "task {short} of {}: stopping (was {was}); the service will start a replacement",
        svc.name()
    ))
}

/// `UpdateContainerInstancesState`: a DRAINING instance takes no new tasks and its service
/// tasks are replaced elsewhere; ACTIVE takes tasks again.
fn set_instance_state(
    fleet: &mut Fleet,
    cluster: &str,
    instance: &str,
    draining: bool,
) -> Result<String, SourceError> {
    let (cl, _) = cluster_mut(fleet, cluster)?;
    let n = cl.instance_named(instance)?;
    let status = if draining { "DRAINING" } else { "ACTIVE" };
    let ec2 = cl.instances[n].instance.ec2_instance_id.clone();
    if cl.instances[n].instance.status == status {
        return Ok(format!("{ec2}: already {status}; nothing changed"));
    }
    cl.instances[n].instance.status = status.into();
    let mut moving = 0;
    for svc in &mut cl.services {
        let here = svc
            .tasks
            .iter()
            .filter(|t| t.instance == Some(n) && t.wants_running())
            .count();
        if here > 0 {
            moving += here;
            // Its scheduler looks again at the next step: replace them, or trim the surplus.
            svc.dirty = true;
            svc.unsteady = true;
        }
    }
    Ok(if draining {
        format!("{ec2}: DRAINING; its {moving} service tasks will be replaced on other instances")
    } else {
        format!("{ec2}: ACTIVE; it takes new tasks again")
    })
}

impl ClusterState {
    /// The task sits on a draining instance: the scheduler replaces it elsewhere.
    pub fn is_displaced(&self, t: &SimTask) -> bool {
        t.instance
            .is_some_and(|n| self.instances[n].instance.status == "DRAINING")
    }

    /// Outside a deployment, service `s` needs more than "start what is missing": some of its
    /// tasks sit on a draining instance, or it runs more tasks than desired.
    pub fn needs_rescheduling(&self, s: usize) -> bool {
        let svc = &self.services[s];
        let mut active = 0;
        for t in svc.tasks.iter().filter(|t| t.wants_running()) {
            if self.is_displaced(t) {
                return true;
            }
            active += 1;
        }
        active > svc.service.desired
    }

    /// Scale-in: stops the tasks of deployment `primary` beyond the desired count, those that
    /// serve nothing first, then from the AZ with the most, newest first (ECS keeps the spread).
    pub fn trim_surplus(&mut self, s: usize, primary: &str, now: Time, rng: &mut Rng) {
        let svc = &self.services[s];
        let mut left: Vec<usize> = svc
            .tasks
            .iter()
            .enumerate()
            .filter(|(_, t)| t.deployment == primary && t.wants_running() && !self.is_displaced(t))
            .map(|(i, _)| i)
            .collect();
        let desired = svc.service.desired as usize;
        if left.len() <= desired {
            return;
        }
        let mut per_az = [0u32; AZ_COUNT];
        for &i in &left {
            per_az[svc.tasks[i].az] += 1;
        }
        let mut stop = Vec::new();
        while left.len() > desired {
            let Some((k, _)) = left.iter().enumerate().max_by_key(|&(_, &i)| {
                let t = &svc.tasks[i];
                (!t.is_ready(svc.health_check), per_az[t.az], i)
            }) else {
                break;
            };
            let i = left.swap_remove(k);
            per_az[svc.tasks[i].az] -= 1;
            stop.push(i);
        }
        for i in stop {
            // Scheduler stops never end a task at once, so the indices stay valid.
            self.begin_stop(s, i, StopKind::Deployment, now, rng);
        }
    }
}

/// Application Auto Scaling's bounds on a service's desired count. Fixed per scenario: a few
/// prod services of the default fleet, and the large and huge fleets' APIs (picked by a hash of the name,
/// not the fleet's RNG, so the generated fleet is the same with or without them).
pub fn scaling_bounds(
    fleet: &Fleet,
    cluster: &str,
    service: &str,
) -> Result<Option<ScalingBounds>, SourceError> {
    let cl = fleet.cluster(cluster)?;
    let name = cl.services[cl.service_named(service)?].name();
    let bounds = |min, max, suspended| {
        Some(ScalingBounds {
            min,
            max,
            suspended,
        })
    };
    Ok(match (fleet.scenario.as_str(), cl.name.as_str(), name) {
        ("default", "prod", "web" | "cart") => bounds(2, 20, false),
        // Someone paused scaling during an incident and never resumed it.
        ("default", "prod", "api-gateway") => bounds(2, 20, true),
        // The replayed incidents' fixture: `web` scales on CPU between 2 and 6 tasks.
        (_, "demo-prod", "web") if fleet.incident.is_some() => {
            let max = fleet
                .incident
                .as_ref()
                .map_or(6, |i| *i.world.max_capacity.at(fleet.now));
            bounds(2, max, false)
        }
        ("large", "large", api) | ("huge", _, api) if api.ends_with("-api") => {
            bounds(20, 100, hash(api).is_multiple_of(10))
        }
        _ => None,
    })
}

fn hash(text: &str) -> u64 {
    crate::model::hash::stable(&[text.as_bytes()])
}

/// `DescribeTargetHealth` of each group, in the order asked: one target per task of the
/// service behind the group that is registered, registering or deregistering.
pub fn target_health(
    fleet: &Fleet,
    now: Time,
    target_groups: &[String],
) -> Result<Vec<TargetGroupHealth>, SourceError> {
    // A replayed incident models the load balancer's health checks itself.
    if let Some(incident) = &fleet.incident {
        return incident
            .targets
            .describe(fleet, &incident.world, now, target_groups);
    }
    target_groups
        .iter()
        .map(|arn| {
            let name = target_group_name(arn);
            let svc = fleet
                .clusters
                .iter()
                .flat_map(|c| &c.services)
                .find(|s| s.service.target_group_arns.contains(arn))
                .ok_or_else(|| SourceError::not_found(format!("target group {name} not found")))?;
            Ok(TargetGroupHealth {
                arn: arn.clone(),
                name: name.to_string(),
                health_check: health_check(svc),
                targets: svc.tasks.iter().map(|t| target(svc, t, now)).collect(),
                fetched_at: Some(now),
            })
        })
        .collect()
}

fn health_check(svc: &ServiceState) -> HealthCheck {
    let path = match svc.name() {
        "web" => "/",
        "api-gateway" => "/ping",
        "payments" | "ledger" | "catalog" => "/actuator/health",
        _ => "/health",
    };
    HealthCheck {
        protocol: "HTTP".into(),
        path: path.into(),
        port: "traffic-port".into(),
        interval_secs: 30,
        timeout_secs: 5,
        healthy_threshold: 5,
        unhealthy_threshold: 2,
        matcher: "200".into(),
    }
}

/// The load balancer's view of a task: its state follows the task's status and health.
fn target(svc: &ServiceState, t: &SimTask, now: Time) -> TargetHealth {
    let (state, reason, description) = if !t.wants_running() {
        (
            "draining",
            "Target.DeregistrationInProgress",
            "Target deregistration is in progress",
        )
    } else if t.is_running() {
        let started_long_ago = t
            .task
            .started_at
            .is_some_and(|at| (now - at).num_seconds() >= INITIAL_CHECKS_SECS);
        match t.task.health.as_str() {
            "HEALTHY" => ("healthy", "", ""),
            "UNHEALTHY" => (
                "unhealthy",
                "Target.ResponseCodeMismatch",
                "Health checks failed with these codes: [503]",
            ),
            // Without a container health check only the load balancer's checks tell.
            _ if !svc.health_check && started_long_ago => ("healthy", "", ""),
            _ => (
                "initial",
                "Elb.InitialHealthChecking",
                "Initial health checks in progress",
            ),
        }
    } else {
        (
            "initial",
            "Elb.RegistrationInProgress",
            "Target registration is in progress",
        )
    };
    TargetHealth {
        id: t.task.private_ip.to_string(),
        port: Some(TARGET_PORT),
        availability_zone: t.task.availability_zone.to_string(),
        state: state.into(),
        reason: reason.into(),
        description: description.into(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use chrono::TimeDelta;
    use futures::executor::block_on;

    use super::super::tests::{assert_consistent, dump, start};
    use super::super::{DemoClock, DemoSource};
    use crate::model::{
        HealthCheck, Instance, Operation, ScalingBounds, Service, Task, TaskScope, Time,
    };
    use crate::source::{ErrorKind, FleetSource, SourceError};

    fn demo() -> DemoSource {
        DemoSource::new("default", 42, start(), DemoClock::Fixed(start())).unwrap()
    }

    fn at(secs: i64) -> Time {
        start() + TimeDelta::seconds(secs)
    }

    fn apply(src: &DemoSource, op: Operation) -> Result<String, SourceError> {
        block_on(src.apply(&op))
    }

    fn service(src: &DemoSource, cluster: &str, name: &str) -> Service {
        block_on(src.services(cluster))
            .unwrap()
            .into_iter()
            .find(|s| s.name == name)
            .unwrap()
    }

    fn scope(cluster: &str, service: &str) -> TaskScope {
        TaskScope::Service {
            cluster: cluster.into(),
            service: service.into(),
        }
    }

    /// Tasks not yet STOPPED, in start order.
    fn live(src: &DemoSource, cluster: &str, service: &str) -> Vec<Task> {
        block_on(src.tasks(&scope(cluster, service), false)).unwrap()
    }

    fn stopped(src: &DemoSource, cluster: &str, service: &str) -> Vec<Task> {
        block_on(src.tasks(&scope(cluster, service), true)).unwrap()
    }

    fn task(src: &DemoSource, cluster: &str, arn: &str) -> Task {
        block_on(src.task(cluster, arn)).unwrap().unwrap()
    }

    fn instance(src: &DemoSource, cluster: &str, ec2: &str) -> Instance {
        block_on(src.instances(cluster))
            .unwrap()
            .into_iter()
            .find(|i| i.ec2_instance_id == ec2)
            .unwrap()
    }

    fn on_instance(src: &DemoSource, cluster: &str, arn: &str) -> Vec<Task> {
        let scope = TaskScope::Instance {
            cluster: cluster.into(),
            instance: arn.into(),
        };
        block_on(src.tasks(&scope, false)).unwrap()
    }

    fn scale(cluster: &str, service: &str, from: u32, to: u32) -> Operation {
        Operation::Scale {
            cluster: cluster.into(),
            service: service.into(),
            service_arn: format!("arn:aws:ecs:eu-west-1:123456789012:service/{cluster}/{service}"),
            from,
            to,
        }
    }

    fn redeploy(cluster: &str, service: &str) -> Operation {
        Operation::Redeploy {
            cluster: cluster.into(),
            service: service.into(),
            service_arn: format!("arn:aws:ecs:eu-west-1:123456789012:service/{cluster}/{service}"),
        }
    }

    fn stop(cluster: &str, task_arn: &str, reason: &str) -> Operation {
        Operation::StopTask {
            cluster: cluster.into(),
            task_arn: task_arn.into(),
            reason: reason.into(),
        }
    }

    fn set_state(cluster: &str, i: &Instance, draining: bool) -> Operation {
        Operation::SetInstanceState {
            cluster: cluster.into(),
            instance_arn: i.arn.clone(),
            ec2_instance_id: i.ec2_instance_id.clone(),
            draining,
        }
    }

    fn wants_running(tasks: &[Task]) -> usize {
        tasks
            .iter()
            .filter(|t| t.desired_status == "RUNNING")
            .count()
    }

    /// The first 5 s step boundary (from `from`) at which `done` holds, within `limit` seconds.
    fn first_step_where(
        src: &DemoSource,
        from: i64,
        limit: i64,
        mut done: impl FnMut(&DemoSource) -> bool,
    ) -> Option<i64> {
        let mut t = from;
        while t <= from + limit {
            src.advance_to(at(t));
            if done(src) {
                return Some(t);
            }
            t += 5;
        }
        None
    }

    #[test]
    fn scaling_up_starts_tasks_until_running_reaches_the_new_count() {
        let src = demo();
        let said = apply(&src, scale("prod", "auth", 6, 9)).unwrap();
        assert_eq!(said, "auth: desired count set to 9");
        let auth = service(&src, "prod", "auth");
        assert_eq!((auth.desired, auth.running, auth.pending), (9, 6, 0));
        assert_eq!(auth.deployments[0].desired, 9);

        // The scheduler's next pass (one 5 s step) starts the missing three.
        src.advance_to(at(5));
        let auth = service(&src, "prod", "auth");
        assert_eq!((auth.running, auth.pending), (6, 3));
        assert!(
            auth.events[0]
                .message
                .starts_with("(service auth) has started 3 tasks: (task ")
        );
        assert_eq!(auth.events[0].at, at(5));

        let running_at =
            first_step_where(&src, 5, 600, |s| service(s, "prod", "auth").running == 9);
        assert_eq!(running_at, Some(70));
        let auth = service(&src, "prod", "auth");
        assert_eq!((auth.desired, auth.running, auth.pending), (9, 9, 0));
        src.advance_to(at(180));
        let auth = service(&src, "prod", "auth");
        assert_eq!((auth.running, auth.pending), (9, 0));
        assert_eq!(
            auth.events[0].message,
            "(service auth) has reached a steady state."
        );
        assert_consistent(&src);
    }

    #[test]
    fn scaling_to_zero_stops_every_task() {
        let src = demo();
        let primary = service(&src, "prod", "inventory").deployments[0].id.clone();
        let before: HashSet<String> = live(&src, "prod", "inventory")
            .into_iter()
            .map(|t| t.arn.into())
            .collect();
        assert_eq!(before.len(), 8);
        let said = apply(&src, scale("prod", "inventory", 8, 0)).unwrap();
        assert_eq!(said, "inventory: desired count set to 0");

        src.advance_to(at(5));
        let tasks = live(&src, "prod", "inventory");
        assert_eq!(tasks.len(), 8);
        assert_eq!(wants_running(&tasks), 0);
        for t in &tasks {
            assert_eq!(t.last_status, "STOPPING");
            assert_eq!(t.stop_code, "ServiceSchedulerInitiated");
            assert_eq!(
                t.stopped_reason,
                format!("Scaling activity initiated by (deployment {primary})")
            );
        }
        let inventory = service(&src, "prod", "inventory");
        assert_eq!((inventory.running, inventory.pending), (0, 0));
        assert!(
            inventory.events[0]
                .message
                .starts_with("(service inventory) has stopped 8 running tasks: (task ")
        );

        src.advance_to(at(60));
        assert!(live(&src, "prod", "inventory").is_empty());
        let gone: HashSet<String> = stopped(&src, "prod", "inventory")
            .into_iter()
            .filter(|t| t.stopped_at > Some(start()))
            .map(|t| t.arn.into())
            .collect();
        assert_eq!(gone, before);
        let inventory = service(&src, "prod", "inventory");
        assert_eq!(
            inventory.events[0].message,
            "(service inventory) has reached a steady state."
        );
        // Nothing comes back.
        src.advance_to(at(1800));
        assert!(live(&src, "prod", "inventory").is_empty());
        assert_consistent(&src);
    }

    #[test]
    fn scaling_in_drains_load_balanced_tasks_and_keeps_the_spread() {
        let src = demo();
        apply(&src, scale("prod", "orders", 10, 4)).unwrap();
        src.advance_to(at(5));
        let tasks = live(&src, "prod", "orders");
        let leaving: Vec<&Task> = tasks
            .iter()
            .filter(|t| t.desired_status == "STOPPED")
            .collect();
        assert_eq!(leaving.len(), 6);
        assert!(leaving.iter().all(|t| t.last_status == "DEACTIVATING"));
        let orders = service(&src, "prod", "orders");
        let tg = &orders.target_group_arns[0];
        let messages: Vec<&str> = orders.events[..3]
            .iter()
            .map(|e| e.message.as_str())
            .collect();
        assert!(messages[0].starts_with("(service orders) has stopped 6 running tasks: (task "));
        assert_eq!(
            messages[1..],
            [
                format!("(service orders) deregistered 6 targets in (target-group {tg})"),
                "(service orders) has begun draining connections on 6 tasks.".to_string(),
            ]
        );

        src.advance_to(at(180));
        let tasks = live(&src, "prod", "orders");
        assert_eq!(tasks.len(), 4);
        assert!(tasks.iter().all(|t| t.last_status == "RUNNING"));
        let mut per_az = std::collections::BTreeMap::new();
        for t in &tasks {
            *per_az.entry(t.availability_zone.as_str()).or_insert(0) += 1;
        }
        assert_eq!(per_az.values().copied().collect::<Vec<_>>(), [2, 1, 1]);
        assert_eq!(service(&src, "prod", "orders").running, 4);
        assert_consistent(&src);
    }

    #[test]
    fn redeploy_rolls_every_task_onto_a_new_deployment_of_the_same_revision() {
        let src = demo();
        let before = service(&src, "prod", "payments");
        let old_id = before.deployments[0].id.clone();
        let old_tasks: HashSet<String> = live(&src, "prod", "payments")
            .into_iter()
            .map(|t| t.arn.into())
            .collect();
        let said = apply(&src, redeploy("prod", "payments")).unwrap();

        let payments = service(&src, "prod", "payments");
        assert_eq!(payments.deployments.len(), 2);
        let (new, old) = (&payments.deployments[0], &payments.deployments[1]);
        assert_ne!(new.id, old_id);
        assert!(new.id.starts_with("ecs-svc/") && new.id.len() == 27);
        assert_eq!(
            said,
            format!(
                "payments: deployment {} of payments:125 started; every task will be replaced",
                new.id
            )
        );
        assert_eq!(
            (new.status.as_str(), new.rollout_state.as_str()),
            ("PRIMARY", "IN_PROGRESS")
        );
        assert_eq!(
            new.rollout_reason,
            format!("ECS deployment {} in progress.", new.id)
        );
        assert_eq!(
            (new.desired, new.running, new.created_at),
            (6, 0, Some(start()))
        );
        assert_eq!(new.task_definition, before.task_definition);
        assert_eq!(payments.task_definition, before.task_definition);
        assert_eq!(
            (old.id.as_str(), old.status.as_str()),
            (old_id.as_str(), "ACTIVE")
        );
        assert_eq!(old.running, 6);
        assert_eq!(
            payments.events[0].message,
            format!(
                "(service payments) (deployment {}) deployment started.",
                new.id
            )
        );
        assert_eq!(payments.events[0].at, start());
        let new_id = new.id.clone();

        // Within maximumPercent 150: three new tasks first.
        src.advance_to(at(5));
        let payments = service(&src, "prod", "payments");
        assert_eq!((payments.running, payments.pending), (6, 3));
        assert_eq!(payments.deployments[0].pending, 3);

        let completed_at = first_step_where(&src, 5, 1800, |s| {
            service(s, "prod", "payments").deployments[0].rollout_state == "COMPLETED"
        });
        assert_eq!(completed_at, Some(305));
        let payments = service(&src, "prod", "payments");
        assert_eq!(payments.deployments.len(), 1);
        assert_eq!(payments.deployments[0].id, new_id);
        assert_eq!(payments.task_definition, before.task_definition);
        let messages: Vec<&str> = payments.events[..2]
            .iter()
            .map(|e| e.message.as_str())
            .collect();
        assert_eq!(
            messages,
            [
                "(service payments) has reached a steady state.".to_string(),
                format!("(service payments) (deployment {new_id}) deployment completed."),
            ]
        );
        let tasks = live(&src, "prod", "payments");
        assert_eq!(tasks.len(), 6);
        for t in &tasks {
            assert!(!old_tasks.contains(t.arn.as_str()));
            assert!(t.created_at > Some(start()));
            assert_eq!(t.task_definition, before.task_definition);
            assert_eq!(
                (t.last_status.as_str(), t.health.as_str()),
                ("RUNNING", "HEALTHY")
            );
        }
        let replaced: Vec<Task> = stopped(&src, "prod", "payments")
            .into_iter()
            .filter(|t| old_tasks.contains(t.arn.as_str()))
            .collect();
        assert_eq!(replaced.len(), 6);
        for t in &replaced {
            assert_eq!(t.stop_code, "ServiceSchedulerInitiated");
            assert_eq!(
                t.stopped_reason,
                format!("Scaling activity initiated by (deployment {old_id})")
            );
        }
        assert_consistent(&src);
    }

    #[test]
    fn stopping_a_task_records_the_reason_and_the_service_replaces_it() {
        let src = demo();
        let victim = live(&src, "prod", "ledger").remove(0);
        assert_eq!(victim.last_status, "RUNNING");
        let reason = "Stopped with ecsmon by assumed-role/Operator/demo";
        let said = apply(&src, stop("prod", &victim.arn, reason)).unwrap();
        assert_eq!(
            said,
            format!(
                "task {} of ledger: stopping (was RUNNING); the service will start a replacement",
                victim.short_id()
            )
        );
        let t = task(&src, "prod", &victim.arn);
        assert_eq!(
            (t.last_status.as_str(), t.desired_status.as_str()),
            ("STOPPING", "STOPPED")
        );
        assert_eq!(
            (t.stop_code.as_str(), t.stopped_reason.as_str()),
            ("UserInitiated", reason)
        );
        assert_eq!(t.stopping_at, Some(start()));

        // The scheduler's next pass starts the replacement.
        src.advance_to(at(5));
        let tasks = live(&src, "prod", "ledger");
        assert_eq!(wants_running(&tasks), 3);
        let replacement = tasks
            .iter()
            .find(|t| t.created_at == Some(at(5)))
            .expect("a replacement");
        assert_eq!(replacement.last_status, "PROVISIONING");
        assert!(
            service(&src, "prod", "ledger").events[0]
                .message
                .starts_with("(service ledger) has started 1 tasks: (task ")
        );

        src.advance_to(at(120));
        let t = task(&src, "prod", &victim.arn);
        assert_eq!(t.last_status, "STOPPED");
        assert!(t.stopped_at.is_some_and(|at| at > start()));
        assert_eq!(
            (t.stop_code.as_str(), t.stopped_reason.as_str()),
            ("UserInitiated", reason)
        );
        assert_eq!(t.containers[0].exit_code, Some(143));
        assert!(
            stopped(&src, "prod", "ledger")
                .iter()
                .any(|s| s.arn == victim.arn)
        );
        let ledger = service(&src, "prod", "ledger");
        assert_eq!((ledger.running, ledger.pending), (3, 0));

        let err = apply(&src, stop("prod", &victim.arn, reason)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Service);
        assert_eq!(
            err.message,
            format!("task {} is already stopped", victim.short_id())
        );
        assert_consistent(&src);
    }

    #[test]
    fn a_stopped_load_balanced_task_drains_first() {
        let src = demo();
        let victim = live(&src, "prod", "catalog").remove(3);
        apply(&src, stop("prod", victim.id(), "")).unwrap();
        let t = task(&src, "prod", &victim.arn);
        assert_eq!(t.last_status, "DEACTIVATING");
        assert_eq!(
            (t.stop_code.as_str(), t.stopped_reason.as_str()),
            ("UserInitiated", "Task stopped by user")
        );
        let err = apply(&src, stop("prod", &victim.arn, "again")).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Service);
        assert_eq!(
            err.message,
            format!(
                "task {} is already stopping (DEACTIVATING)",
                victim.short_id()
            )
        );
        src.advance_to(at(5));
        let catalog = service(&src, "prod", "catalog");
        let tg = &catalog.target_group_arns[0];
        let messages: Vec<&str> = catalog.events[..3]
            .iter()
            .map(|e| e.message.as_str())
            .collect();
        assert_eq!(
            messages[..2],
            [
                format!("(service catalog) deregistered 1 targets in (target-group {tg})"),
                "(service catalog) has begun draining connections on 1 tasks.".to_string(),
            ]
        );
        assert!(messages[2].starts_with("(service catalog) has started 1 tasks: (task "));
        assert!(catalog.events[..3].iter().all(|e| e.at == at(5)));
        src.advance_to(at(300));
        let catalog = service(&src, "prod", "catalog");
        assert_eq!((catalog.running, catalog.pending), (10, 0));
        assert_eq!(task(&src, "prod", &victim.arn).last_status, "STOPPED");
    }

    #[test]
    fn draining_an_instance_moves_its_service_tasks_elsewhere() {
        let src = demo();
        let drained = instance(&src, "prod", "i-0a6151d9952ccf4c6");
        assert_eq!(
            (drained.status.as_str(), drained.running_tasks),
            ("ACTIVE", 10)
        );
        let there: HashSet<String> = on_instance(&src, "prod", &drained.arn)
            .into_iter()
            .map(|t| t.arn.into())
            .collect();
        let said = apply(&src, set_state("prod", &drained, true)).unwrap();
        assert_eq!(
            said,
            "i-0a6151d9952ccf4c6: DRAINING; its 10 service tasks will be replaced on other instances"
        );
        assert_eq!(
            instance(&src, "prod", "i-0a6151d9952ccf4c6").status,
            "DRAINING"
        );

        // minimumHealthyPercent 100: replacements start elsewhere while the tasks keep running.
        src.advance_to(at(5));
        let here = on_instance(&src, "prod", &drained.arn);
        assert_eq!(here.len(), 10);
        assert!(
            here.iter()
                .all(|t| t.last_status == "RUNNING" && t.desired_status == "RUNNING")
        );
        let web = service(&src, "prod", "web");
        assert_eq!((web.desired, web.running, web.pending), (12, 12, 1));

        let cleared = first_step_where(&src, 5, 1800, |s| {
            let here = on_instance(s, "prod", &drained.arn);
            // Nothing new is ever placed on it.
            assert!(here.iter().all(|t| there.contains(t.arn.as_str())));
            here.is_empty()
        });
        assert_eq!(cleared, Some(245));
        let i = instance(&src, "prod", "i-0a6151d9952ccf4c6");
        assert_eq!(
            (i.status.as_str(), i.running_tasks, i.pending_tasks),
            ("DRAINING", 0, 0)
        );
        assert_eq!(
            (i.cpu_remaining, i.memory_remaining),
            (i.cpu_registered, i.memory_registered)
        );
        let moved: Vec<Task> = block_on(src.tasks(
            &TaskScope::Instance {
                cluster: "prod".into(),
                instance: drained.arn.clone(),
            },
            true,
        ))
        .unwrap()
        .into_iter()
        .filter(|t| there.contains(t.arn.as_str()))
        .collect();
        assert_eq!(moved.len(), 10);
        assert!(
            moved
                .iter()
                .all(|t| t.stop_code == "ServiceSchedulerInitiated")
        );
        for name in [
            "web",
            "api-gateway",
            "catalog",
            "checkout",
            "inventory",
            "orders",
        ] {
            let s = service(&src, "prod", name);
            assert_eq!((s.running, s.pending), (s.desired, 0), "{name}");
        }
        assert_consistent(&src);

        let said = apply(&src, set_state("prod", &drained, false)).unwrap();
        assert_eq!(
            said,
            "i-0a6151d9952ccf4c6: ACTIVE; it takes new tasks again"
        );
        assert_eq!(
            instance(&src, "prod", "i-0a6151d9952ccf4c6").status,
            "ACTIVE"
        );
        // ECS does not move tasks back; new ones may land there again.
        apply(&src, scale("prod", "web", 12, 16)).unwrap();
        src.advance_to(at(400));
        let back = on_instance(&src, "prod", &drained.arn);
        assert!(!back.is_empty() && back.iter().all(|t| t.group == "service:web"));
        assert_consistent(&src);
    }

    #[test]
    fn activating_during_a_drain_trims_the_extra_tasks() {
        let src = demo();
        let drained = instance(&src, "prod", "i-0a6151d9952ccf4c6");
        apply(&src, set_state("prod", &drained, true)).unwrap();
        src.advance_to(at(30));
        let extra: u32 = block_on(src.services("prod"))
            .unwrap()
            .iter()
            .map(|s| s.running + s.pending)
            .sum();
        apply(&src, set_state("prod", &drained, false)).unwrap();
        assert!(extra > 100, "{extra}");
        src.advance_to(at(300));
        for s in block_on(src.services("prod")).unwrap() {
            let tasks = live(&src, "prod", &s.name);
            if s.name == "recommendations" {
                continue;
            }
            assert_eq!(wants_running(&tasks) as u32, s.desired, "{}", s.name);
        }
        assert_consistent(&src);
    }

    #[test]
    fn a_drain_without_room_elsewhere_keeps_the_tasks_running() {
        let src = demo();
        // The ml pool has one instance: recommendations cannot go anywhere else.
        let ml = instance(&src, "prod", "i-0e3b671790a74eee5");
        apply(&src, set_state("prod", &ml, true)).unwrap();
        src.advance_to(at(600));
        let here = on_instance(&src, "prod", &ml.arn);
        assert_eq!(here.len(), 3);
        assert!(here.iter().all(|t| t.last_status == "RUNNING"));
        let recommendations = service(&src, "prod", "recommendations");
        assert!(recommendations.events.iter().any(|e| e.at > start()
            && e.message
                == "(service recommendations) was unable to place a task because no container instance met all of its requirements. Reason: No Container Instances were found in your cluster."));
        assert_consistent(&src);
    }

    #[test]
    fn scaling_bounds_cover_a_few_prod_services() {
        let src = demo();
        let bounds = |cluster: &str, service: &str| block_on(src.scaling_bounds(cluster, service));
        let b = |min, max, suspended| {
            Some(ScalingBounds {
                min,
                max,
                suspended,
            })
        };
        assert_eq!(bounds("prod", "web").unwrap(), b(2, 20, false));
        assert_eq!(bounds("prod", "cart").unwrap(), b(2, 20, false));
        assert_eq!(bounds("prod", "api-gateway").unwrap(), b(2, 20, true));
        let arn = "arn:aws:ecs:eu-west-1:123456789012:service/prod/cart";
        assert_eq!(bounds("prod", arn).unwrap(), b(2, 20, false));
        assert_eq!(bounds("prod", "ledger").unwrap(), None);
        assert_eq!(bounds("staging", "web").unwrap(), None);
        let err = bounds("prod", "nope").unwrap_err();
        assert_eq!(
            (err.kind, err.message.as_str()),
            (ErrorKind::NotFound, "service nope no longer exists in prod")
        );
        assert_eq!(bounds("nope", "web").unwrap_err().kind, ErrorKind::NotFound);

        let large = DemoSource::new("large", 1, start(), DemoClock::Fixed(start())).unwrap();
        let apis: Vec<ScalingBounds> = block_on(large.services("large"))
            .unwrap()
            .iter()
            .filter_map(|s| block_on(large.scaling_bounds("large", &s.name)).unwrap())
            .collect();
        assert_eq!(apis.len(), 20);
        assert!(apis.iter().all(|b| (b.min, b.max) == (20, 100)));
        assert_eq!(apis.iter().filter(|b| b.suspended).count(), 2);
    }

    #[test]
    fn target_health_follows_the_tasks() {
        let src = demo();
        let cart = service(&src, "prod", "cart");
        let checkout = service(&src, "prod", "checkout");
        let groups = vec![
            checkout.target_group_arns[0].clone(),
            cart.target_group_arns[0].clone(),
        ];
        let health = block_on(src.target_health(&groups)).unwrap();
        assert_eq!(health.len(), 2);
        assert_eq!(health[0].arn, groups[0]);
        assert_eq!(health[0].name, "prod-checkout");
        assert_eq!(health[1].name, "prod-cart");
        assert_eq!(health[1].fetched_at, Some(start()));
        assert_eq!(
            health[1].health_check,
            HealthCheck {
                protocol: "HTTP".into(),
                path: "/health".into(),
                port: "traffic-port".into(),
                interval_secs: 30,
                timeout_secs: 5,
                healthy_threshold: 5,
                unhealthy_threshold: 2,
                matcher: "200".into(),
            }
        );
        assert_eq!(health[0].health_check.path, "/health");

        // cart is mid-rollout: four new tasks still pulling their image.
        let tasks = live(&src, "prod", "cart");
        assert_eq!(health[1].targets.len(), tasks.len());
        let states: Vec<&str> = health[1].targets.iter().map(|t| t.state.as_str()).collect();
        assert_eq!(states.iter().filter(|s| **s == "healthy").count(), 8);
        assert_eq!(states.iter().filter(|s| **s == "initial").count(), 4);
        for (target, t) in health[1].targets.iter().zip(&tasks) {
            assert_eq!(target.id, t.private_ip);
            assert_eq!(target.port, Some(8080));
            assert_eq!(target.availability_zone, t.availability_zone);
            if t.last_status == "PENDING" {
                assert_eq!(
                    (
                        target.state.as_str(),
                        target.reason.as_str(),
                        target.description.as_str()
                    ),
                    (
                        "initial",
                        "Elb.RegistrationInProgress",
                        "Target registration is in progress"
                    )
                );
            } else {
                assert_eq!(
                    (t.last_status.as_str(), t.health.as_str()),
                    ("RUNNING", "HEALTHY")
                );
                assert_eq!(
                    (
                        target.state.as_str(),
                        target.reason.as_str(),
                        target.description.as_str()
                    ),
                    ("healthy", "", "")
                );
            }
        }

        // checkout's second task fails its health checks now and is replaced at +50 s.
        let tasks = live(&src, "prod", "checkout");
        let sick = &tasks[1];
        assert_eq!(sick.health, "UNHEALTHY");
        let target = &health[0].targets[1];
        assert_eq!(target.id, sick.private_ip);
        assert_eq!(
            (
                target.state.as_str(),
                target.reason.as_str(),
                target.description.as_str()
            ),
            (
                "unhealthy",
                "Target.ResponseCodeMismatch",
                "Health checks failed with these codes: [503]"
            )
        );
        let others: Vec<&str> = health[0]
            .targets
            .iter()
            .enumerate()
            .filter(|(n, _)| *n != 1)
            .map(|(_, t)| t.state.as_str())
            .collect();
        assert_eq!(others, ["healthy"; 7]);

        src.advance_to(at(60));
        let health = block_on(src.target_health(&groups[..1])).unwrap();
        let target = health[0]
            .targets
            .iter()
            .find(|t| t.id == sick.private_ip)
            .unwrap();
        assert_eq!(
            (
                target.state.as_str(),
                target.reason.as_str(),
                target.description.as_str()
            ),
            (
                "draining",
                "Target.DeregistrationInProgress",
                "Target deregistration is in progress"
            )
        );
        // Its replacement registers, then passes its first checks.
        let tasks = live(&src, "prod", "checkout");
        let new = tasks.iter().find(|t| t.created_at > Some(start())).unwrap();
        let target = |src: &DemoSource| {
            let health = block_on(src.target_health(&groups[..1])).unwrap();
            let t = health[0]
                .targets
                .iter()
                .find(|t| t.id == new.private_ip)
                .cloned();
            t.unwrap()
        };
        assert_eq!(target(&src).reason, "Elb.RegistrationInProgress");
        let running = first_step_where(&src, 60, 300, |s| {
            task(s, "prod", &new.arn).last_status == "RUNNING"
        })
        .unwrap();
        assert_eq!(
            (target(&src).state.as_str(), target(&src).reason.as_str()),
            ("initial", "Elb.InitialHealthChecking")
        );
        first_step_where(&src, running, 300, |s| {
            task(s, "prod", &new.arn).health == "HEALTHY"
        })
        .unwrap();
        assert_eq!(target(&src).state, "healthy");

        let tg = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/prod-nope/0123456789abcdef";
        let err = block_on(src.target_health(&[tg.to_string()])).unwrap_err();
        assert_eq!(
            (err.kind, err.message.as_str()),
            (ErrorKind::NotFound, "target group prod-nope not found")
        );
        assert!(block_on(src.target_health(&[])).unwrap().is_empty());
    }

    #[test]
    fn unknown_things_are_plain_errors() {
        let src = demo();
        let err = apply(&src, scale("prod", "nope", 1, 2)).unwrap_err();
        assert_eq!(
            (err.kind, err.message.as_str()),
            (ErrorKind::NotFound, "service nope no longer exists in prod")
        );
        let err = apply(&src, redeploy("nope", "web")).unwrap_err();
        assert_eq!(
            (err.kind, err.message.as_str()),
            (ErrorKind::NotFound, "cluster nope no longer exists")
        );
        let arn = "arn:aws:ecs:eu-west-1:123456789012:task/prod/0123456789abcdef0123456789abcdef";
        let err = apply(&src, stop("prod", arn, "why")).unwrap_err();
        assert_eq!(
            (err.kind, err.message.as_str()),
            (ErrorKind::NotFound, "task 01234567 is not in prod")
        );
        let mut ghost = instance(&src, "prod", "i-0a6151d9952ccf4c6");
        ghost.arn = "arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/ffff".into();
        let err = apply(&src, set_state("prod", &ghost, true)).unwrap_err();
        assert_eq!(
            (err.kind, err.message.as_str()),
            (
                ErrorKind::NotFound,
                "container instance ffff is no longer registered in prod"
            )
        );
        let err = apply(&src, scale("batch", "reporting", 2, 5001)).unwrap_err();
        assert_eq!(
            (err.kind, err.message.as_str()),
            (
                ErrorKind::Service,
                "a service can run at most 5000 tasks; 5001 is too many"
            )
        );
        let exec = Operation::Exec {
            cluster: "prod".into(),
            task_arn: arn.into(),
            container: "cart".into(),
            runtime_id: "x".into(),
            command: "/bin/sh".into(),
        };
        assert_eq!(apply(&src, exec).unwrap_err().kind, ErrorKind::Service);
        // A refused operation changes nothing.
        assert_eq!(dump(&src), dump(&demo()));
        // Draining an instance that already drains changes nothing either.
        let staging = block_on(src.instances("staging")).unwrap();
        let draining = staging.iter().find(|i| i.status == "DRAINING").unwrap();
        let said = apply(&src, set_state("staging", draining, true)).unwrap();
        assert_eq!(
            said,
            format!(
                "{}: already DRAINING; nothing changed",
                draining.ec2_instance_id
            )
        );
        assert_eq!(dump(&src), dump(&demo()));
    }

    #[test]
    fn operations_replay_the_same_whatever_the_stepping() {
        let run = |small_steps: bool| {
            let src = demo();
            let goto = |t: i64| {
                if small_steps {
                    let mut now = src.now();
                    while now < at(t) {
                        now = (now + TimeDelta::seconds(3)).min(at(t));
                        src.advance_to(now);
                    }
                } else {
                    src.advance_to(at(t));
                }
            };
            goto(40);
            apply(&src, scale("prod", "cart", 8, 11)).unwrap();
            goto(100);
            apply(&src, redeploy("prod", "web")).unwrap();
            let victim = live(&src, "staging", "cart").remove(0);
            apply(&src, stop("staging", &victim.arn, "rehearsal")).unwrap();
            goto(170);
            let i = block_on(src.instances("prod")).unwrap().remove(0);
            apply(&src, set_state("prod", &i, true)).unwrap();
            goto(600);
            assert_consistent(&src);
            apply(&src, set_state("prod", &i, false)).unwrap();
            apply(&src, scale("batch", "image-resizer", 16, 4)).unwrap();
            goto(1800);
            assert_consistent(&src);
            dump(&src)
        };
        let (a, b) = (run(false), run(true));
        assert!(a == b, "the stepping changed the outcome");
    }
}
