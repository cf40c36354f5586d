//! A task's life in the simulated fleet: placement, the start path
//! (PROVISIONING → PENDING → ACTIVATING → RUNNING), health verdicts, and the stop path
//! (DEACTIVATING → STOPPING → STOPPED). Both the scenario builder and the time stepper go
//! through these functions, so a generated fleet and a simulated one obey the same rules.

use chrono::TimeDelta;
use fastrand::Rng;

use super::fleet::{ClusterState, InstanceState, Next, SimTask, StopKind};
use super::names::{self, AZ_COUNT, InstanceType};
use crate::model::{Container, Instance, SharedStr, Task, Time};

pub fn secs(n: i64) -> TimeDelta {
    TimeDelta::seconds(n)
}

/// A new, empty container instance of `ty` in `az`, registered with the cluster; returns its
/// index. The generated fleets and the replayed incidents' Auto Scaling both add hosts so.
/// `launched` and `registered` may draw from `rng`; they are called in the order that keeps
/// a seed's fleet what it always was.
pub fn add_instance(
    cl: &mut ClusterState,
    rng: &mut Rng,
    ty: InstanceType,
    az: usize,
    pool: Option<&'static str>,
    launched: impl FnOnce(&mut Rng) -> Time,
    registered: impl FnOnce(&mut Rng, Time) -> Time,
) -> usize {
    let id = names::hex(rng, 32);
    let launched_at = launched(rng);
    let ec2_instance_id = names::ec2_instance_id(rng);
    let registered_at = registered(rng, launched_at);
    let instance = Instance {
        arn: cl.place.container_instance_arn(&cl.name, &id),
        loading: false,
        described_at: None,
        cluster_arn: cl.arn.clone(),
        ec2_instance_id,
        instance_type: ty.name.into(),
        availability_zone: cl.place.az(az),
        subnet_id: names::private_subnet(az).into(),
        status: "ACTIVE".into(),
        agent_connected: true,
        agent_version: names::AGENT_VERSION.into(),
        running_tasks: 0,
        pending_tasks: 0,
        cpu_registered: ty.cpu,
        cpu_remaining: ty.cpu,
        memory_registered: ty.memory,
        memory_remaining: ty.memory,
        launched_at: Some(launched_at),
        registered_at: Some(registered_at),
        credit_mode: names::credit_mode(ty.name),
        image_id: String::new(),
        image_created_at: None,
        recommended: None,
    };
    cl.add_instance(InstanceState {
        instance,
        az,
        pool,
        cpu_used: 0,
        memory_used: 0,
    })
}

/// Where a new task goes: its container instance (EC2) and availability zone.
#[derive(Debug, Clone, Copy)]
pub struct Placement {
    pub instance: Option<usize>,
    pub az: usize,
}

impl StopKind {
    pub fn stop_code(self) -> &'static str {
        match self {
            StopKind::Crash | StopKind::OutOfMemory => "EssentialContainerExited",
            StopKind::HealthCheck | StopKind::ElbHealth | StopKind::Deployment => {
                "ServiceSchedulerInitiated"
            }
            StopKind::SpotInterruption => "SpotInterruption",
            StopKind::PullFailure | StopKind::SecretsFailure => "TaskFailedToStart",
            StopKind::UserInitiated => "UserInitiated",
        }
    }

    /// Stops that count as failures of the deployment that started the task.
    pub fn is_failure(self) -> bool {
        !matches!(
            self,
            StopKind::Deployment | StopKind::SpotInterruption | StopKind::UserInitiated
        )
    }

    fn before_start(self) -> bool {
        matches!(self, StopKind::PullFailure | StopKind::SecretsFailure)
    }
}

impl ClusterState {
    /// ECS's default service placement: spread over AZs, then over instances, among the
    /// instances with room. `Err` carries the "unable to place" event text.
    pub fn place(&self, s: usize) -> Result<Placement, String> {
        let svc = &self.services[s];
        let mut per_az = [0u32; AZ_COUNT];
        let mut per_instance = vec![0u16; self.instances.len()];
        for t in svc.tasks.iter().filter(|t| t.wants_running()) {
            per_az[t.az] += 1;
            if let Some(i) = t.instance {
                per_instance[i] += 1;
            }
        }
        if self.fargate {
            let az = (0..AZ_COUNT).min_by_key(|&az| per_az[az]).unwrap_or(0);
            return Ok(Placement { instance: None, az });
        }
        let (cpu, memory) = (svc.spec.cpu, svc.spec.memory);
        // Spread over AZs, then instances, then the emptiest instance; a plain loop over a packed
        // key because this runs 10,000 times when the large scenario is built.
        let mut best: Option<(u64, usize)> = None;
        for (n, i) in self.instances.iter().enumerate() {
            if !i.accepts(svc.pool) || !i.has_room(cpu, memory) {
                continue;
            }
            let fill =
                u64::from(i.memory_used) * 1000 / u64::from(i.instance.memory_registered.max(1));
            let key = (u64::from(per_az[i.az]) << 48)
                | (u64::from(per_instance[n]) << 32)
                | (fill << 16)
                | (n as u64 & 0xffff);
            if best.is_none_or(|(k, _)| key < k) {
                best = Some((key, n));
            }
        }
        if let Some((_, n)) = best {
            return Ok(Placement {
                instance: Some(n),
                az: self.instances[n].az,
            });
        }
        let prefix = format!(
            "(service {}) was unable to place a task because no container instance met all of its requirements.",
            svc.name()
        );
        let closest = self
            .instances
            .iter()
            .filter(|i| i.accepts(svc.pool))
            .max_by_key(|i| {
                i.instance.memory_registered.saturating_sub(i.memory_used) as u64
                    + i.instance.cpu_registered.saturating_sub(i.cpu_used) as u64
            });
        Err(match closest {
            None => format!("{prefix} Reason: No Container Instances were found in your cluster."),
            Some(i) => {
                let short_of_cpu = i.cpu_used + cpu > i.instance.cpu_registered;
                let what = if short_of_cpu { "CPU units" } else { "memory" };
                format!(
                    "{prefix} The closest matching (container-instance {}) has insufficient {what} available. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.",
                    i.instance.id()
                )
            }
        })
    }

    /// Creates a PROVISIONING task of service `s` for deployment `deployment` and reserves its
    /// resources. Returns the task's index in the service's task list.
    pub fn start_task(
        &mut self,
        s: usize,
        deployment: &str,
        now: Time,
        rng: &mut Rng,
        fail_start: Option<StopKind>,
    ) -> Result<usize, String> {
        let placement = self.place(s)?;
        Ok(self.start_task_at(s, deployment, now, rng, fail_start, placement))
    }

    /// Whether a task of service `s` fits on instance `n` under the placement rules.
    pub fn fits(&self, s: usize, n: usize) -> bool {
        let (svc, i) = (&self.services[s], &self.instances[n]);
        i.accepts(svc.pool) && i.has_room(svc.spec.cpu, svc.spec.memory)
    }

    /// [`ClusterState::start_task`] with the placement already chosen.
    pub fn start_task_at(
        &mut self,
        s: usize,
        deployment: &str,
        now: Time,
        rng: &mut Rng,
        fail_start: Option<StopKind>,
        placement: Placement,
    ) -> usize {
        let fargate = self.fargate;
        let id = names::hex(rng, 32);
        let arn = self.place.task_arn(&self.name, &id);
        let (instance_arn, ec2_id) = match placement.instance {
            Some(i) => {
                let inst = &mut self.instances[i];
                inst.cpu_used += self.services[s].spec.cpu;
                inst.memory_used += self.services[s].spec.memory;
                (
                    Some(inst.instance.arn.as_str().into()),
                    Some(inst.instance.ec2_instance_id.as_str().into()),
                )
            }
            None => (None, None),
        };
        let svc = &mut self.services[s];
        let spec = &svc.spec;
        let exec = svc.service.enable_execute_command;
        let sidecar_cpu: u32 = spec.sidecars.iter().map(|c| c.cpu).sum();
        let sidecar_memory: u32 = spec.sidecars.iter().map(|c| c.memory_reservation).sum();
        let container = |name: &str, image: &str| Container {
            name: name.into(),
            image: image.into(),
            runtime_id: SharedStr::default(),
            last_status: "PENDING".into(),
            health: "UNKNOWN".into(),
            exit_code: None,
            reason: SharedStr::default(),
            cpu: None,
            memory: None,
            memory_reservation: None,
            exec_agent: exec.then(|| "PENDING".into()),
        };
        let mut containers = vec![Container {
            cpu: Some(spec.cpu.saturating_sub(sidecar_cpu)),
            memory: Some(spec.memory.saturating_sub(sidecar_memory)),
            ..container(&spec.app_name, &spec.image)
        }];
        containers.extend(spec.sidecars.iter().map(|c| Container {
            cpu: Some(c.cpu),
            memory_reservation: Some(c.memory_reservation),
            ..container(c.name, &spec.place.sidecar_image(c))
        }));
        let mut task = Task {
            arn: arn.into(),
            loading: false,
            described_at: None,
            cluster_arn: self.arn.as_str().into(),
            task_definition: spec.task_definition(),
            last_status: "PROVISIONING".into(),
            desired_status: "RUNNING".into(),
            health: "UNKNOWN".into(),
            group: format!("service:{}", svc.service.name).into(),
            launch_type: if fargate { "FARGATE" } else { "EC2" }.into(),
            availability_zone: self.place.az(placement.az).into(),
            private_ip: names::private_ip(rng, placement.az).into(),
            container_instance_arn: instance_arn,
            ec2_instance_id: ec2_id,
            cpu: Some(spec.cpu),
            memory: Some(spec.memory),
            created_at: Some(now),
            started_at: None,
            stopping_at: None,
            stopped_at: None,
            stop_code: SharedStr::default(),
            stopped_reason: SharedStr::default(),
            enable_execute_command: exec,
            containers,
            tags: svc
                .service
                .tags
                .iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        };
        // The service's tasks share their common text (100,000 tasks, a few hundred values).
        if let Some(sibling) = svc.tasks.last() {
            task.share_text_with(&sibling.task);
        }
        svc.tasks.push(SimTask {
            task,
            deployment: deployment.to_string(),
            instance: placement.instance,
            az: placement.az,
            next_at: Some(now + secs(rng.i64(4..=10))),
            next: Next::Advance,
            fail_start,
            stop_kind: None,
            target_healthy: None,
        });
        svc.started_now.push(id.clone());
        svc.unsteady = true;
        self.task_index.insert(id, s);
        self.services[s].tasks.len() - 1
    }

    /// Applies the transition due on task `i` of service `s`. Returns true when the task
    /// stopped and left the task list (indices after `i` shift down).
    pub fn advance_task(&mut self, s: usize, i: usize, now: Time, rng: &mut Rng) -> bool {
        let svc = &mut self.services[s];
        let web = !svc.service.target_group_arns.is_empty();
        let t = &mut svc.tasks[i];
        t.next_at = None;
        match t.next {
            Next::Nothing => false,
            Next::Health { pass: true } => {
                set_health(&mut t.task, "HEALTHY");
                t.next = Next::Nothing;
                false
            }
            Next::Health { pass: false } => self.begin_stop(s, i, StopKind::HealthCheck, now, rng),
            Next::Advance => match t.task.last_status.clone().as_str() {
                "PROVISIONING" => {
                    t.task.last_status = "PENDING".into();
                    t.next_at = Some(now + secs(rng.i64(15..=60)));
                    false
                }
                "PENDING" => {
                    if let Some(kind) = t.fail_start {
                        return self.begin_stop(s, i, kind, now, rng);
                    }
                    if web {
                        t.task.last_status = "ACTIVATING".into();
                        t.next_at = Some(now + secs(rng.i64(5..=15)));
                    } else {
                        self.mark_running(s, i, now, rng);
                    }
                    false
                }
                "ACTIVATING" => {
                    self.mark_running(s, i, now, rng);
                    false
                }
                "DEACTIVATING" => {
                    t.task.last_status = "STOPPING".into();
                    t.next_at = Some(now + secs(rng.i64(5..=20)));
                    false
                }
                "STOPPING" => {
                    self.finish_stop(s, i, now);
                    true
                }
                _ => false,
            },
        }
    }

    /// The task's containers are up. With a health check the task stays UNKNOWN until the
    /// first checks pass.
    pub fn mark_running(&mut self, s: usize, i: usize, now: Time, rng: &mut Rng) {
        let fargate = self.fargate;
        let svc = &mut self.services[s];
        let health_check = svc.health_check;
        if !svc.service.target_group_arns.is_empty() {
            svc.registered_now += 1;
        }
        let t = &mut svc.tasks[i];
        let id = t.task.id().to_string();
        t.task.last_status = "RUNNING".into();
        t.task.started_at = Some(now);
        t.task.health = "UNKNOWN".into();
        for c in &mut t.task.containers {
            c.last_status = "RUNNING".into();
            c.runtime_id = names::runtime_id(rng, &id, fargate).into();
            if c.exec_agent.is_some() {
                c.exec_agent = Some("RUNNING".into());
            }
        }
        if health_check {
            t.next = Next::Health { pass: true };
            t.next_at = Some(now + secs(rng.i64(20..=45)));
        } else {
            t.next = Next::Nothing;
        }
    }

    /// Starts stopping task `i` of service `s` for `kind`. Returns true when the task went
    /// straight to STOPPED (failures before start) and left the task list.
    pub fn begin_stop(
        &mut self,
        s: usize,
        i: usize,
        kind: StopKind,
        now: Time,
        rng: &mut Rng,
    ) -> bool {
        let place = self.place;
        let svc = &mut self.services[s];
        svc.dirty = true;
        svc.unsteady = true;
        let web = !svc.service.target_group_arns.is_empty();
        let target_group = svc.service.target_group_arns.first().cloned();
        let deploying_primary = svc
            .service
            .primary_deployment()
            .filter(|d| d.rollout_state == "IN_PROGRESS")
            .map(|d| d.id.clone());
        let t = &mut svc.tasks[i];
        let id = t.task.id().to_string();
        if kind.is_failure() && deploying_primary.as_deref() == Some(t.deployment.as_str()) {
            let dep = t.deployment.clone();
            if let Some(d) = svc.service.deployments.iter_mut().find(|d| d.id == dep) {
                d.failed += 1;
                d.updated_at = Some(now);
            }
        }
        let t = &mut svc.tasks[i];
        t.stop_kind = Some(kind);
        t.next = Next::Advance;
        t.task.desired_status = "STOPPED".into();
        t.task.stopping_at = Some(now);
        t.task.stop_code = kind.stop_code().into();
        let image = t.task.containers[0].image.clone();
        t.task.stopped_reason = match kind {
            StopKind::Crash | StopKind::OutOfMemory => "Essential container in task exited".into(),
            StopKind::HealthCheck => "Task failed container health checks".into(),
            StopKind::ElbHealth => format!(
                "Task failed ELB health checks in (target-group {})",
                target_group.unwrap_or_default()
            ).into(),
            StopKind::Deployment => {
                format!(
                    "Scaling activity initiated by (deployment {})",
                    t.deployment
                ).into()
            }
            StopKind::SpotInterruption => "Your Spot Task was interrupted.".into(),
            StopKind::PullFailure => format!(
                "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref {image}: dial tcp 52.95.150.{}:443: i/o timeout",
                rng.u32(2..250)
            ).into(),
            StopKind::SecretsFailure => format!(
                "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret {} from secrets manager: AccessDeniedException",
                place.secret_arn(&format!(
                    "{}/db-{}",
                    t.task.task_definition.family,
                    names::hex(rng, 6)
                )),
            ).into(),
            // `StopTask` without a reason; the operation's reason replaces it.
            StopKind::UserInitiated => "Task stopped by user".into(),
        };
        match kind {
            StopKind::HealthCheck => {
                set_health(&mut t.task, "UNHEALTHY");
                let message = format!(
                    "(service {}) (task {id}) failed container health checks.",
                    svc.service.name
                );
                svc.push_event(rng, now, message);
            }
            StopKind::ElbHealth => {
                let message = format!(
                    "(service {}) (task {id}) (port 8080) is unhealthy in (target-group {}) due to (reason Health checks failed with these codes: [502]).",
                    svc.service.name,
                    svc.service
                        .target_group_arns
                        .first()
                        .map_or("", String::as_str)
                );
                svc.push_event(rng, now, message);
            }
            _ => {}
        }
        if kind.before_start() {
            self.finish_stop(s, i, now);
            return true;
        }
        let svc = &mut self.services[s];
        let t = &mut svc.tasks[i];
        let scheduler_stop = kind.stop_code() == "ServiceSchedulerInitiated";
        let user_stop = kind == StopKind::UserInitiated;
        if scheduler_stop {
            svc.stopped_now.push(id);
        }
        if web && (scheduler_stop || user_stop || kind == StopKind::SpotInterruption) {
            // Load-balanced tasks drain their connections before they stop.
            if scheduler_stop || user_stop {
                svc.draining_now += 1;
            }
            t.task.last_status = "DEACTIVATING".into();
            t.next_at = Some(now + secs(rng.i64(30..=90)));
        } else {
            t.task.last_status = "STOPPING".into();
            t.next_at = Some(now + secs(rng.i64(5..=20)));
        }
        false
    }

    /// The task is STOPPED: exit codes are known, resources are released, and it moves to the
    /// stopped list.
    pub fn finish_stop(&mut self, s: usize, i: usize, now: Time) {
        let svc = &mut self.services[s];
        svc.dirty = true;
        let sim = svc.tasks.remove(i);
        let mut task = sim.task;
        let kind = sim.stop_kind.unwrap_or(StopKind::Deployment);
        task.last_status = "STOPPED".into();
        task.desired_status = "STOPPED".into();
        task.stopping_at.get_or_insert(now);
        task.stopped_at = Some(now);
        // An operator may stop a task that never got as far as RUNNING.
        let never_started =
            kind.before_start() || (kind == StopKind::UserInitiated && task.started_at.is_none());
        // Java services under a rolling deploy sometimes outlive stopTimeout and get SIGKILL.
        let killed_after_timeout = kind == StopKind::Deployment && task.id().ends_with('7');
        for (n, c) in task.containers.iter_mut().enumerate() {
            c.last_status = "STOPPED".into();
            if c.exec_agent.is_some() {
                c.exec_agent = Some("STOPPED".into());
            }
            if never_started {
                continue;
            }
            c.exit_code = Some(match (n, kind) {
                (0, StopKind::Crash) => 1,
                (0, StopKind::OutOfMemory) => 137,
                (0, _) if killed_after_timeout => 137,
                (0, _) => 143,
                _ => 0,
            });
            if n == 0 && kind == StopKind::OutOfMemory {
                c.reason = "OutOfMemoryError: Container killed due to memory usage".into();
            }
        }
        if kind == StopKind::PullFailure {
            task.containers[0].reason = task.stopped_reason.clone();
        }
        if let Some(n) = sim.instance {
            let inst = &mut self.instances[n];
            inst.cpu_used = inst.cpu_used.saturating_sub(task.cpu.unwrap_or(0));
            inst.memory_used = inst.memory_used.saturating_sub(task.memory.unwrap_or(0));
        }
        svc.stopped.push_back(task);
    }
}

/// Sets the task's health and that of its containers that have health checks: the application
/// container (always first) and envoy.
pub fn set_health(task: &mut Task, health: &str) {
    task.health = health.into();
    for (n, c) in task.containers.iter_mut().enumerate() {
        if n == 0 || c.name == "envoy" {
            c.health = health.into();
        }
    }
}
