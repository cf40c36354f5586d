//! instance-draining-stuck: an instance set to DRAINING still holds tasks long after.

use std::collections::BTreeSet;

use chrono::TimeDelta;

use super::support::{instance_label, is_fargate, primary_task_definition, task_size, usable};
use crate::model::{Evidence, Instance, Observation, Remedy, Severity, Task};
use crate::triage::Input;
use crate::triage::input::instance_subject;
use crate::triage::rules::about::{About, Read, Value, WARNING, limit};

pub const ID: &str = "instance-draining-stuck";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "An instance set to DRAINING still holds tasks long after.",
    severities: WARNING,
    reads: &[Read::Api(
        "ECS DescribeContainerInstances: status DRAINING, runningTasksCount",
    )],
    limits: &[limit("held", Value::Span(HOLD))],
};
/// DRAINING with tasks for longer than this (our default). The console does not know when
/// draining began, so the lifecycle holds the observation that long.
const HOLD: TimeDelta = TimeDelta::minutes(15);

pub fn check(input: &Input) -> Vec<Observation> {
    input
        .instances
        .iter()
        .copied()
        .filter(|i| i.status == "DRAINING" && i.running_tasks > 0)
        .map(|i| {
            let tasks: Vec<&Task> = input
                .tasks
                .iter()
                .copied()
                .filter(|t| t.container_instance_arn.as_deref() == Some(i.arn.as_str()))
                .collect();
            let services: BTreeSet<&str> = tasks
                .iter()
                .map(|t| t.service_name().unwrap_or("standalone"))
                .collect();
            let services = if services.is_empty() {
                "tasks not loaded".to_string()
            } else {
                services.into_iter().collect::<Vec<_>>().join(", ")
            };
            let reason = blocker(input, i, &tasks);
            let message = format!(
                "{} DRAINING for more than {} min but still holds {} tasks ({services}); {reason}",
                instance_label(i),
                HOLD.num_minutes(),
                i.running_tasks
            );
            Observation::new(ID, Severity::Warning, instance_subject(i), message)
                .hold(HOLD)
                .evidence(Evidence::at(
                    input.now,
                    format!(
                        "status DRAINING, {} running / {} pending tasks",
                        i.running_tasks, i.pending_tasks
                    ),
                ))
                .next(
                    "The usual blockers: replacements cannot be placed elsewhere (see the \
                     placement rules and cluster-reservation-high), minimumHealthyPercent holds \
                     the old tasks, or the tasks are standalone (not service-managed), which \
                     draining never stops: stop them yourself. Show events for the services.",
                )
                .remedies(&[Remedy::Events, Remedy::ShowTask])
        })
        .collect()
}

/// The most likely reason the tasks stay, from what the console knows.
fn blocker(input: &Input, i: &Instance, tasks: &[&Task]) -> String {
    let standalone = tasks.iter().filter(|t| t.service_name().is_none()).count();
    if standalone > 0 {
        return format!("{standalone} standalone task(s) are never stopped by draining");
    }
    let cluster = Input::cluster_name(&i.cluster_arn);
    let others: Vec<&Instance> = input
        .instances_of(cluster)
        .filter(|o| o.arn != i.arn && usable(o))
        .collect();
    for t in tasks {
        let Some(s) = input.service_of(t).filter(|s| !is_fargate(s)) else {
            continue;
        };
        if s.deployment_config.minimum_healthy_percent == Some(100) {
            return format!(
                "{} has minimumHealthyPercent 100, which holds its old tasks",
                s.name
            );
        }
        if let Some((cpu, memory)) = primary_task_definition(input, s).map(task_size) {
            let (cpu, memory) = (cpu.unwrap_or(0), memory.unwrap_or(0));
            if !others
                .iter()
                .any(|o| o.cpu_remaining >= cpu && o.memory_remaining >= memory)
            {
                return format!(
                    "no other instance has room for a {} task ({cpu} CPU units / {memory} MiB)",
                    s.name
                );
            }
        }
    }
    "replacements may be pending elsewhere".into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ContainerDefinition;
    use crate::triage::Facts;
    use crate::triage::rules::state_rules::support::fixtures::*;

    fn draining() -> Facts {
        let mut f = facts();
        let mut i = instance("i-1", "eu-west-1a");
        i.status = "DRAINING".into();
        f.instances = vec![i, instance("i-2", "eu-west-1b")];
        f.services = vec![service("web")];
        f.tasks = vec![running("web", "t1"), running("web", "t2")];
        f
    }

    #[test]
    fn fires_with_a_fifteen_minute_hold() {
        let f = draining();
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(found[0].hold, Some(HOLD));
        assert_eq!(
            found[0].message,
            "i-1 DRAINING for more than 15 min but still holds 2 tasks (web); replacements may be pending elsewhere"
        );
    }

    #[test]
    fn names_the_blocker() {
        let mut f = draining();
        f.tasks[1].group = "family:batch".into();
        assert!(
            check(&f.input())[0]
                .message
                .ends_with("1 standalone task(s) are never stopped by draining")
        );

        let mut f = draining();
        f.services[0].deployment_config.minimum_healthy_percent = Some(100);
        assert!(
            check(&f.input())[0]
                .message
                .ends_with("web has minimumHealthyPercent 100, which holds its old tasks")
        );

        let mut f = draining();
        add_task_definition(
            &mut f,
            crate::model::TaskDefinition {
                cpu: Some(512),
                memory: Some(4096),
                ..task_definition("web", 17, ContainerDefinition::default())
            },
        );
        assert!(
            check(&f.input())[0]
                .message
                .ends_with("no other instance has room for a web task (512 CPU units / 4096 MiB)")
        );
    }

    #[test]
    fn quiet_when_empty_or_active() {
        let mut f = draining();
        f.instances[0].running_tasks = 0;
        assert!(check(&f.input()).is_empty());
        let mut f = draining();
        f.instances[0].status = "ACTIVE".into();
        assert!(check(&f.input()).is_empty());
    }
}
