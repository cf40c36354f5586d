//! What a scenario has done so far, kept so that metrics and logs can be answered for any past
//! instant the same way every time: the life of every task (ECS forgets stopped ones after an
//! hour; CloudWatch does not), when each instance joined, and every step's target states.

use std::collections::{BTreeMap, HashMap};

use super::super::fleet::Fleet;
use super::elb::{TargetState, Targets};
use super::world::World;
use crate::model::Time;

/// Samples older than this are dropped (charts look back a few hours at most).
const KEEP_SECS: i64 = 12 * 3600;

/// One task from creation to stop.
#[derive(Debug, Clone)]
pub struct TaskLife {
    pub id: String,
    pub cluster: String,
    pub service: String,
    pub revision: u32,
    /// EC2 instance it runs on (EC2 launch type).
    pub ec2_instance_id: Option<String>,
    pub cpu: u32,
    pub memory: u32,
    pub created: Time,
    pub started: Option<Time>,
    /// The stop began (the process is gone or being stopped).
    pub stopping: Option<Time>,
    /// STOPPED: its resources are free again.
    pub stopped: Option<Time>,
    pub stop_code: String,
    /// The container was killed at its memory limit.
    pub out_of_memory: bool,
}

impl TaskLife {
    /// The application ran at `at`.
    pub fn running_at(&self, at: Time) -> bool {
        self.started.is_some_and(|s| s <= at) && self.stopping.is_none_or(|s| at < s)
    }

    /// The task held its instance's CPU and memory at `at`.
    pub fn reserved_at(&self, at: Time) -> bool {
        self.created <= at && self.stopped.is_none_or(|s| at < s)
    }
}

/// A container instance and when it joined.
#[derive(Debug, Clone)]
pub struct InstanceLife {
    pub cluster: String,
    pub ec2_instance_id: String,
    pub instance_type: String,
    pub cpu: u32,
    pub memory: u32,
    pub registered: Time,
}

/// The targets of one group at one step.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupSample {
    pub healthy: u16,
    pub unhealthy: u16,
    pub initial: u16,
    pub draining: u16,
    /// The network path is blocked: nothing the ALB sends reaches a target.
    pub blocked: bool,
    /// Serving tasks that died abruptly in this step.
    pub resets: u16,
}

impl GroupSample {
    /// Share of requests the ALB answers itself with 503 (nothing to route to), 504 (fails
    /// open to targets it cannot reach) and 502 (connections reset).
    pub fn errors(&self) -> (f64, f64, f64) {
        if self.blocked {
            // Whatever it routes to (healthy, or failing open to unhealthy targets) times out.
            return (0.0, 0.985, 0.0);
        }
        if self.healthy > 0 || self.unhealthy > 0 {
            // Every target unhealthy: the ALB fails open and sends traffic to all of them.
            return (0.0, 0.0, 0.0);
        }
        if self.draining > 0 {
            (0.9, 0.0, 0.1)
        } else {
            (1.0, 0.0, 0.0)
        }
    }
}

#[derive(Debug, Clone)]
pub struct Sample {
    pub at: Time,
    /// Target group ARN → its targets.
    pub groups: HashMap<String, GroupSample>,
}

#[derive(Default)]
pub struct Record {
    /// By task id (ordered, so sums over tasks come out the same every time).
    pub lives: BTreeMap<String, TaskLife>,
    pub instances: Vec<InstanceLife>,
    pub samples: Vec<Sample>,
}

impl Record {
    /// Takes down what the fleet looks like at `now` (after a step).
    pub fn observe(
        &mut self,
        fleet: &Fleet,
        targets: &Targets,
        world: &World,
        now: Time,
        resets: &[String],
    ) {
        for cl in &fleet.clusters {
            for i in &cl.instances {
                if !self
                    .instances
                    .iter()
                    .any(|l| l.ec2_instance_id == i.instance.ec2_instance_id)
                {
                    self.instances.push(InstanceLife {
                        cluster: cl.name.clone(),
                        ec2_instance_id: i.instance.ec2_instance_id.clone(),
                        instance_type: i.instance.instance_type.clone(),
                        cpu: i.instance.cpu_registered,
                        memory: i.instance.memory_registered,
                        registered: i.instance.registered_at.unwrap_or(now),
                    });
                }
            }
            for svc in &cl.services {
                let live = svc.tasks.iter().map(|t| &t.task);
                for t in live.chain(svc.stopped.iter()) {
                    let id = t.id();
                    if self.lives.get(id).is_some_and(|l| l.stopped.is_some()) {
                        continue;
                    }
                    self.lives.insert(
                        id.to_string(),
                        TaskLife {
                            id: id.to_string(),
                            cluster: cl.name.clone(),
                            service: svc.name().to_string(),
                            revision: t.task_definition.revision,
                            ec2_instance_id: t.ec2_instance_id.as_deref().map(str::to_string),
                            cpu: t.cpu.unwrap_or(0),
                            memory: t.memory.unwrap_or(0),
                            created: t.created_at.unwrap_or(now),
                            started: t.started_at,
                            stopping: t.stopping_at,
                            stopped: t.stopped_at,
                            stop_code: t.stop_code.to_string(),
                            out_of_memory: t
                                .containers
                                .first()
                                .is_some_and(|c| c.reason.starts_with("OutOfMemoryError")),
                        },
                    );
                }
            }
        }
        let mut groups: HashMap<String, GroupSample> = HashMap::new();
        for cl in &fleet.clusters {
            for svc in &cl.services {
                for tg in &svc.service.target_group_arns {
                    groups.entry(tg.clone()).or_default();
                }
            }
        }
        for track in targets.tracks() {
            let g = groups.entry(track.target_group.clone()).or_default();
            match track.state {
                TargetState::Healthy => g.healthy += 1,
                TargetState::Unhealthy => g.unhealthy += 1,
                TargetState::Initial => g.initial += 1,
                TargetState::Draining => g.draining += 1,
            }
        }
        if !*world.ingress_open.at(now)
            && let Some(g) = groups.get_mut(&world.web_target_group)
        {
            g.blocked = true;
        }
        for tg in resets {
            groups.entry(tg.clone()).or_default().resets += 1;
        }
        self.samples.push(Sample { at: now, groups });
        let cutoff = now - chrono::TimeDelta::seconds(KEEP_SECS);
        let old = self.samples.partition_point(|s| s.at < cutoff);
        if old > 0 && old < self.samples.len() {
            self.samples.drain(..old);
        }
    }

    /// Samples in `[from, to)`, or the first one when the range is before the record begins
    /// (the fleet was steady before the scenario started).
    pub fn samples(&self, from: Time, to: Time) -> &[Sample] {
        let a = self.samples.partition_point(|s| s.at < from);
        let b = self.samples.partition_point(|s| s.at < to);
        if a < b {
            &self.samples[a..b]
        } else if self.samples.first().is_some_and(|s| s.at >= to) {
            &self.samples[..1]
        } else {
            &[]
        }
    }

    pub fn lives_of<'a>(
        &'a self,
        cluster: &'a str,
        service: &'a str,
    ) -> impl Iterator<Item = &'a TaskLife> + 'a {
        self.lives
            .values()
            .filter(move |l| l.cluster == cluster && l.service == service)
    }
}

#[cfg(test)]
mod tests {
    use super::GroupSample;

    fn group(healthy: u16, unhealthy: u16, initial: u16, draining: u16) -> GroupSample {
        GroupSample {
            healthy,
            unhealthy,
            initial,
            draining,
            ..GroupSample::default()
        }
    }

    #[test]
    fn the_alb_answers_what_its_targets_allow() {
        // A healthy target serves everything, even next to failing ones.
        assert_eq!(group(1, 3, 1, 1).errors(), (0.0, 0.0, 0.0));
        // All unhealthy: it fails open, and the application still answers.
        assert_eq!(group(0, 4, 0, 0).errors(), (0.0, 0.0, 0.0));
        // Nothing registered that it may route to: 503, and resets from the leaving ones.
        assert_eq!(group(0, 0, 4, 0).errors(), (1.0, 0.0, 0.0));
        assert_eq!(group(0, 0, 0, 2).errors(), (0.9, 0.0, 0.1));
        // A blocked network path: whatever it routes to times out.
        let blocked = GroupSample {
            blocked: true,
            ..group(4, 0, 0, 0)
        };
        assert_eq!(blocked.errors(), (0.0, 0.985, 0.0));
    }
}
