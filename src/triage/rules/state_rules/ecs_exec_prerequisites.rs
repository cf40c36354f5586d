//! ecs-exec-prerequisites-missing (background branch): a service marked for ECS Exec has a
//! running task that exec cannot reach. The on-demand branch (the operator asks for exec and
//! the local Session Manager plugin is checked) lives with the exec action, not here.

use chrono::TimeDelta;

use super::support::primary_task_definition;
use crate::model::{Evidence, Observation, Remedy, Service, Severity, Task};
use crate::triage::Input;
use crate::triage::input::task_subject;
use crate::triage::rules::about::{About, INFO, Read, Value, limit};

pub const ID: &str = "ecs-exec-prerequisites-missing";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "A service marked for ECS Exec has a running task that exec cannot reach (agent not running, exec disabled).",
    severities: INFO,
    reads: &[Read::Api(
        "ECS DescribeTasks: enableExecuteCommand, containers' managedAgents",
    )],
    limits: &[limit(
        "the agent's grace after RUNNING",
        Value::Span(AGENT_GRACE),
    )],
};
/// The agent gets this long after the task reached RUNNING to report RUNNING itself.
const AGENT_GRACE: TimeDelta = TimeDelta::minutes(2);

pub fn check(input: &Input) -> Vec<Observation> {
    input
        .services
        .iter()
        .filter(|s| s.status == "ACTIVE" && s.enable_execute_command)
        .flat_map(|s| {
            input
                .tasks_of(s)
                .filter(|t| t.last_status == "RUNNING")
                .filter_map(|t| observe(input, s, t))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn observe(input: &Input, s: &Service, t: &Task) -> Option<Observation> {
    let started = t.started_at?;
    let mut missing = Vec::new();
    let mut container = None;
    if !t.enable_execute_command {
        missing
            .push("exec was off when the task started (only new tasks get the agent)".to_string());
    } else if input.now - started > AGENT_GRACE {
        for c in &t.containers {
            if let Some(status) = c.exec_agent.as_deref().filter(|s| *s != "RUNNING") {
                container.get_or_insert(c.name.as_str());
                missing.push(format!("ExecuteCommandAgent {status} in {}", c.name));
            }
        }
    }
    // The task's own definition first; the service's PRIMARY one if it is not cached.
    let td = input
        .task_definition(&t.task_definition.arn)
        .or_else(|| primary_task_definition(input, s));
    if td.is_some_and(|d| d.task_role_arn.is_empty()) {
        missing.push("no task role (it needs ssmmessages:* permissions)".into());
    }
    if missing.is_empty() {
        return None;
    }
    let container = container
        .or_else(|| t.containers.first().map(|c| c.name.as_str()))
        .unwrap_or("-");
    let message = format!(
        "Exec unavailable for {}/{container}: {}",
        t.short_id(),
        missing.join("; ")
    );
    Some(
        Observation::new(ID, Severity::Info, task_subject(t), message)
            .since(started)
            .evidence(Evidence::at(
                input.now,
                format!(
                    "service enableExecuteCommand true; task enableExecuteCommand {}; agents [{}]",
                    t.enable_execute_command,
                    t.containers
                        .iter()
                        .map(|c| format!("{}: {}", c.name, c.exec_agent.as_deref().unwrap_or("-")))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ))
            .next(
                "Enable it on the service (UpdateService --enable-execute-command), then redeploy: \
                 only new tasks get the agent. The task role needs \
                 ssmmessages:CreateControlChannel/CreateDataChannel/OpenControlChannel/\
                 OpenDataChannel (AWS checks the task role, not the execution role).",
            )
            .remedies(&[Remedy::Redeploy, Remedy::ShowTask]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ContainerDefinition;
    use crate::triage::Facts;
    use crate::triage::rules::state_rules::support::fixtures::*;

    fn exec_service(agent: Option<&str>, started_secs_ago: i64) -> Facts {
        let mut f = facts();
        let mut s = service("web");
        s.enable_execute_command = true;
        f.services = vec![s];
        let mut t = running("web", "abcdef0123");
        t.enable_execute_command = true;
        t.started_at = Some(secs_ago(started_secs_ago));
        t.containers[0].exec_agent = agent.map(Into::into);
        f.tasks = vec![t];
        add_task_definition(
            &mut f,
            task_definition("web", 17, ContainerDefinition::default()),
        );
        f
    }

    #[test]
    fn an_agent_not_running_two_minutes_after_start() {
        let f = exec_service(Some("PENDING"), 121);
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Info);
        assert_eq!(
            found[0].message,
            "Exec unavailable for abcdef01/app: ExecuteCommandAgent PENDING in app"
        );
        assert!(check(&exec_service(Some("PENDING"), 120).input()).is_empty());
        assert!(check(&exec_service(Some("RUNNING"), 600).input()).is_empty());
    }

    #[test]
    fn a_task_started_before_exec_was_enabled_or_without_a_task_role() {
        let mut f = exec_service(None, 600);
        f.tasks[0].enable_execute_command = false;
        assert!(
            check(&f.input())[0]
                .message
                .ends_with("exec was off when the task started (only new tasks get the agent)")
        );

        let mut f = exec_service(Some("RUNNING"), 600);
        let mut td = task_definition("web", 17, ContainerDefinition::default());
        td.task_role_arn.clear();
        add_task_definition(&mut f, td);
        assert!(
            check(&f.input())[0]
                .message
                .ends_with("no task role (it needs ssmmessages:* permissions)")
        );
    }

    #[test]
    fn quiet_for_services_without_exec() {
        let mut f = exec_service(Some("STOPPED"), 600);
        f.services[0].enable_execute_command = false;
        assert!(check(&f.input()).is_empty());
    }
}
