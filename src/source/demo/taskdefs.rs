//! The demo fleet's task definition registry: every revision of every family, so the revision
//! list, the diff and a rollback work on `--demo` as they do against ECS.
//!
//! A family's history is seeded the first time it is recorded: the revision the service runs
//! and the four before it, which differ the way real deploys do — a newer image tag each time,
//! an environment variable or two, now and then the memory. Revisions that tasks still run
//! (an old deployment's tasks, recently stopped ones) take their image and size from those
//! tasks. Every later deploy registers the next revision number, as `RegisterTaskDefinition`
//! does, even after a rollback to an older one.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::fleet::{ClusterState, ServiceState, TaskSpec};
use super::names;
use crate::model::{
    ContainerDefinition, ContainerHealthCheck, PortMapping, TaskDefRef, TaskDefinition, Time,
    Ulimit,
};

/// Revisions seeded before the one a service runs when its family is first seen.
const HISTORY: u32 = 4;
const DAY: i64 = 86_400;

#[derive(Default)]
pub struct Registry {
    families: HashMap<String, BTreeMap<u32, Arc<TaskDefinition>>>,
}

/// The parts of a revision that vary between deploys.
struct Shape {
    revision: u32,
    image: String,
    cpu: u32,
    memory: u32,
    registered_at: Time,
}

impl Registry {
    /// A revision by ARN (or `family:revision`).
    pub fn get(&self, arn: &str) -> Option<Arc<TaskDefinition>> {
        let r = TaskDefRef::from_arn(arn);
        self.families
            .get(r.family.as_str())?
            .get(&r.revision)
            .cloned()
    }

    /// The family's revisions, newest first.
    pub fn revisions(&self, family: &str) -> Vec<TaskDefRef> {
        self.families
            .get(family)
            .map(|revs| revs.values().rev().map(|d| d.reference.clone()).collect())
            .unwrap_or_default()
    }

    /// The number `RegisterTaskDefinition` would give the family's next revision.
    pub fn next_revision(&self, family: &str, current: u32) -> u32 {
        let latest = self
            .families
            .get(family)
            .and_then(|r| r.keys().next_back().copied())
            .unwrap_or(0);
        latest.max(current) + 1
    }

    /// Registers what every service runs now (seeding new families' histories).
    pub fn record_all(&mut self, clusters: &[ClusterState], now: Time) {
        for cluster in clusters {
            for svc in &cluster.services {
                self.record(svc, cluster.fargate, now);
            }
        }
    }

    /// Registers the service's current spec, if its revision is not registered yet.
    pub fn record(&mut self, svc: &ServiceState, fargate: bool, now: Time) {
        let spec = &svc.spec;
        let known = self.families.contains_key(&spec.family);
        if known && self.families[&spec.family].contains_key(&spec.revision) {
            return;
        }
        let registered_at = svc
            .service
            .primary_deployment()
            .and_then(|d| d.created_at)
            .map_or(now, |t| t - chrono::TimeDelta::minutes(12));
        if !known {
            self.seed_history(svc, fargate, registered_at);
        }
        let shape = Shape {
            revision: spec.revision,
            image: spec.image.clone(),
            cpu: spec.cpu,
            memory: spec.memory,
            registered_at,
        };
        self.insert(definition(svc, fargate, &shape));
    }

    fn insert(&mut self, def: TaskDefinition) {
        self.families
            .entry(def.reference.family.to_string())
            .or_default()
            .insert(def.reference.revision, Arc::new(def));
    }

    /// The revisions before the current one, each a few days older.
    fn seed_history(&mut self, svc: &ServiceState, fargate: bool, current_at: Time) {
        let spec = &svc.spec;
        let first = spec.revision.saturating_sub(HISTORY).max(1);
        for revision in first..spec.revision {
            let back = i64::from(spec.revision - revision);
            let registered_at = current_at - chrono::TimeDelta::seconds(back * 3 * DAY + 4_000);
            // What tasks of that revision still show wins over made-up history.
            let task = svc
                .tasks
                .iter()
                .map(|t| &t.task)
                .chain(svc.stopped.iter())
                .find(|t| t.task_definition.revision == revision);
            let shape = match task {
                Some(t) => Shape {
                    revision,
                    image: t
                        .containers
                        .iter()
                        .find(|c| c.name == spec.app_name)
                        .map_or(spec.image.clone(), |c| c.image.to_string()),
                    cpu: t.cpu.unwrap_or(spec.cpu),
                    memory: t.memory.unwrap_or(spec.memory),
                    registered_at,
                },
                None => Shape {
                    revision,
                    image: spec.place.ecr_image(
                        &spec.app_name,
                        &names::release_tag(registered_at, 1 + revision % 4),
                    ),
                    cpu: spec.cpu,
                    memory: older_memory(spec, back),
                    registered_at,
                },
            };
            self.insert(definition(svc, fargate, &shape));
        }
    }
}

/// Some families grew their memory in the last deploy, others two deploys ago: a diff of the
/// running revision against an older one shows it.
fn older_memory(spec: &TaskSpec, back: i64) -> u32 {
    let grew_at: i64 = if spec
        .family
        .bytes()
        .map(u32::from)
        .sum::<u32>()
        .is_multiple_of(2)
    {
        1
    } else {
        2
    };
    if back >= grew_at && spec.memory > 512 {
        (spec.memory * 3 / 4).max(512) / 128 * 128
    } else {
        spec.memory
    }
}

/// The app's plain environment at a revision: stable names, values that move between deploys.
fn environment(spec: &TaskSpec, revision: u32) -> Vec<(String, String)> {
    let mut env = vec![
        ("SERVICE_NAME".to_string(), spec.app_name.clone()),
        (
            "LOG_LEVEL".to_string(),
            if revision.is_multiple_of(3) {
                "debug"
            } else {
                "info"
            }
            .to_string(),
        ),
        (
            "DB_POOL_SIZE".to_string(),
            (10 + (revision / 2 % 3) * 5).to_string(),
        ),
        ("AWS_REGION".to_string(), spec.place.region.to_string()),
    ];
    if revision.is_multiple_of(2) {
        env.push(("FEATURE_FAST_CHECKOUT".to_string(), "on".to_string()));
    }
    if let Some(options) = spec.java_options {
        env.push(("JAVA_TOOL_OPTIONS".to_string(), options.to_string()));
    }
    env.sort();
    env
}

/// Secret references: the database password's secret is rotated to a new one now and then.
fn secrets(spec: &TaskSpec, revision: u32) -> Vec<(String, String)> {
    let place = spec.place;
    vec![
        (
            "API_TOKEN".to_string(),
            place.parameter_arn(&format!("{}/api-token", spec.app_name)),
        ),
        (
            "DB_PASSWORD".to_string(),
            place.secret_arn(&format!("{}/db-v{}", spec.app_name, revision / 3)),
        ),
    ]
}

/// A revision as the demo's tasks run it: the app container (the task's size less its
/// sidecars') and the sidecars, awslogs to `/ecs/<family>`.
fn definition(svc: &ServiceState, fargate: bool, shape: &Shape) -> TaskDefinition {
    let spec = &svc.spec;
    let family = &spec.family;
    let log_options = vec![
        ("awslogs-group".to_string(), format!("/ecs/{family}")),
        ("awslogs-region".to_string(), spec.place.region.to_string()),
        ("awslogs-stream-prefix".to_string(), "ecs".to_string()),
    ];
    let sidecar_cpu: u32 = spec.sidecars.iter().map(|c| c.cpu).sum();
    let sidecar_memory: u32 = spec.sidecars.iter().map(|c| c.memory_reservation).sum();
    let web = !svc.service.target_group_arns.is_empty();
    let app = ContainerDefinition {
        name: spec.app_name.clone(),
        image: shape.image.clone(),
        cpu: Some(shape.cpu.saturating_sub(sidecar_cpu)),
        memory: Some(shape.memory.saturating_sub(sidecar_memory)),
        essential: true,
        log_driver: "awslogs".into(),
        log_options: log_options.clone(),
        environment: environment(spec, shape.revision),
        secrets: secrets(spec, shape.revision),
        command: vec!["serve".into(), "--port".into(), "8080".into()],
        port_mappings: if web {
            vec![PortMapping {
                container_port: 8080,
                host_port: fargate.then_some(8080),
                protocol: "tcp".into(),
                ..Default::default()
            }]
        } else {
            Vec::new()
        },
        health_check: svc.health_check.then(|| ContainerHealthCheck {
            command: vec![
                "CMD-SHELL".into(),
                "curl -fs http://localhost:8080/health || exit 1".into(),
            ],
            interval_secs: Some(if shape.revision.is_multiple_of(4) {
                15
            } else {
                30
            }),
            timeout_secs: Some(5),
            retries: Some(3),
            start_period_secs: Some(60),
        }),
        ulimits: vec![Ulimit {
            name: "nofile".into(),
            soft: 65_536,
            hard: 65_536,
        }],
        init_process_enabled: Some(true),
        stop_timeout: Some(if shape.revision.is_multiple_of(5) {
            60
        } else {
            30
        }),
        ..Default::default()
    };
    let mut containers = vec![app];
    containers.extend(spec.sidecars.iter().map(|c| ContainerDefinition {
        name: c.name.into(),
        image: spec.place.sidecar_image(c),
        cpu: Some(c.cpu),
        memory_reservation: Some(c.memory_reservation),
        essential: false,
        log_driver: "awslogs".into(),
        log_options: log_options.clone(),
        ..Default::default()
    }));
    TaskDefinition {
        reference: spec.place.task_definition(family, shape.revision),
        status: "ACTIVE".into(),
        registered_at: Some(shape.registered_at),
        cpu: Some(shape.cpu),
        memory: Some(shape.memory),
        network_mode: if fargate { "awsvpc" } else { "bridge" }.into(),
        requires_compatibilities: vec![if fargate { "FARGATE" } else { "EC2" }.into()],
        execution_role_arn: spec.place.role_arn(&format!("{family}-execution")),
        task_role_arn: spec.place.role_arn(&format!("{family}-task")),
        containers,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use futures::executor::block_on;

    use crate::model::{Operation, TaskScope, taskdef_diff};
    use crate::source::FleetSource;
    use crate::source::demo::{DemoClock, DemoSource};

    fn start() -> crate::model::Time {
        chrono::Utc
            .with_ymd_and_hms(2026, 11, 21, 9, 30, 0)
            .unwrap()
    }

    fn demo() -> DemoSource {
        DemoSource::new("default", 42, start(), DemoClock::Fixed(start())).unwrap()
    }

    fn cart(src: &DemoSource) -> crate::model::Service {
        block_on(src.services("prod"))
            .unwrap()
            .into_iter()
            .find(|s| s.name == "cart")
            .expect("prod has cart")
    }

    #[test]
    fn every_service_runs_a_registered_revision_with_history_newest_first() {
        let src = demo();
        for cluster in block_on(src.clusters()).unwrap() {
            for s in block_on(src.services(&cluster.name)).unwrap() {
                let revisions =
                    block_on(src.task_definition_revisions(&s.task_definition.family)).unwrap();
                assert_eq!(revisions[0], s.task_definition, "{}: newest first", s.name);
                assert!(revisions.len() >= 3, "{}: {revisions:?}", s.name);
                assert!(revisions.windows(2).all(|w| w[0].revision > w[1].revision));
                for r in &revisions {
                    let def = block_on(src.task_definition(&r.arn)).unwrap();
                    assert_eq!(&def.reference, r);
                }
            }
        }
        let err = block_on(src.task_definition_revisions("no-such-family")).unwrap_err();
        assert_eq!(err.kind, crate::source::ErrorKind::NotFound);
    }

    #[test]
    fn revisions_differ_in_image_tag_environment_and_memory() {
        let src = demo();
        let s = cart(&src);
        let revisions = block_on(src.task_definition_revisions(&s.task_definition.family)).unwrap();
        let newest = block_on(src.task_definition(&revisions[0].arn)).unwrap();
        let oldest = block_on(src.task_definition(&revisions.last().unwrap().arn)).unwrap();
        let lines = taskdef_diff::diff(&oldest, &newest).all_lines().join("\n");
        assert!(lines.contains("~ image tag"), "{lines}");
        assert!(lines.contains(" env "), "{lines}");
        assert!(lines.contains("memory"), "{lines}");
        // The tasks of the running revision run what it says.
        let app = &newest.containers[0];
        let tasks = block_on(src.tasks(
            &TaskScope::Service {
                cluster: "prod".into(),
                service: "cart".into(),
            },
            false,
        ))
        .unwrap();
        let running: Vec<_> = tasks
            .iter()
            .filter(|t| t.task_definition == newest.reference)
            .collect();
        assert!(!running.is_empty());
        for t in running {
            let c = t.containers.iter().find(|c| c.name == app.name).unwrap();
            assert_eq!(c.image, app.image);
            assert_eq!(c.memory, app.memory);
            assert_eq!(t.memory, newest.memory);
        }
    }

    #[test]
    fn a_rollback_rolls_every_task_onto_the_chosen_revision() {
        let src = demo();
        let s = cart(&src);
        let revisions = block_on(src.task_definition_revisions(&s.task_definition.family)).unwrap();
        let target = revisions.last().unwrap().clone();
        let def = block_on(src.task_definition(&target.arn)).unwrap();
        let op = Operation::Rollback {
            cluster: "prod".into(),
            service: "cart".into(),
            service_arn: s.arn.clone(),
            family: target.family.to_string(),
            from: s.task_definition.revision,
            to: target.revision,
            task_definition_arn: target.arn.to_string(),
        };
        let said = block_on(src.apply(&op)).unwrap();
        assert!(said.contains(&format!("→ {target}")), "{said}");
        let after = cart(&src);
        assert_eq!(after.task_definition, target);
        let primary = after.primary_deployment().unwrap();
        assert_eq!(primary.task_definition, target);
        assert!(after.events[0].message.contains(&target.to_string()));
        // No revision is registered by a rollback.
        assert_eq!(
            block_on(src.task_definition_revisions(&target.family)).unwrap(),
            revisions
        );
        // Half an hour later every running task of cart runs the chosen revision and its image.
        src.advance_to(start() + chrono::TimeDelta::minutes(30));
        let tasks = block_on(src.tasks(
            &TaskScope::Service {
                cluster: "prod".into(),
                service: "cart".into(),
            },
            false,
        ))
        .unwrap();
        assert!(!tasks.is_empty());
        for t in &tasks {
            assert_eq!(t.task_definition, target, "{}", t.id());
            assert_eq!(t.containers[0].image, def.containers[0].image);
        }
        // A revision of another family is refused.
        let mut wrong = op.clone();
        if let Operation::Rollback {
            task_definition_arn,
            ..
        } = &mut wrong
        {
            *task_definition_arn = "arn:aws:ecs:eu-west-1:1:task-definition/nope:1".into();
        }
        assert!(block_on(src.apply(&wrong)).is_err());
    }

    #[test]
    fn the_next_revision_follows_the_newest_registered_not_the_running_one() {
        let src = demo();
        let s = cart(&src);
        let fleet = src.lock();
        let latest = s.task_definition.revision;
        assert_eq!(
            fleet
                .taskdefs
                .next_revision(&s.task_definition.family, latest - 3),
            latest + 1
        );
        assert_eq!(fleet.taskdefs.next_revision("new-family", 0), 1);
    }
}
