//! agent-disconnected: ECS has lost contact with the agent on a container instance.

use chrono::TimeDelta;

use super::support::{instance_label, plural};
use crate::model::{Evidence, Observation, Remedy, Severity};
use crate::triage::Input;
use crate::triage::input::instance_subject;
use crate::triage::rules::about::{About, Read, Value, WARNING_CRITICAL, limit};

pub const ID: &str = "agent-disconnected";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "ECS has lost contact with the agent on a container instance; critical when it runs tasks.",
    severities: WARNING_CRITICAL,
    reads: &[Read::Api(
        "ECS DescribeContainerInstances: agentConnected, status, runningTasksCount",
    )],
    limits: &[limit("held", Value::Span(HOLD))],
};
/// Seen disconnected continuously this long (two polls, our default).
const HOLD: TimeDelta = TimeDelta::seconds(60);

pub fn check(input: &Input) -> Vec<Observation> {
    input
        .instances
        .iter()
        .copied()
        .filter(|i| !i.agent_connected && matches!(i.status.as_str(), "ACTIVE" | "DRAINING"))
        .map(|i| {
            let severity = if i.running_tasks > 0 {
                Severity::Critical
            } else {
                Severity::Warning
            };
            let az = if i.availability_zone.is_empty() {
                String::new()
            } else {
                format!(" ({})", i.availability_zone)
            };
            let message = format!(
                "{}{az}: ECS agent disconnected; {} on it {} unmanaged and nothing new will be placed there",
                instance_label(i),
                plural(i.running_tasks as usize, "task"),
                if i.running_tasks == 1 { "is" } else { "are" }
            );
            Observation::new(ID, severity, instance_subject(i), message)
                .hold(HOLD)
                .evidence(Evidence::at(
                    input.now,
                    format!(
                        "agentConnected false, status {}, agent {}, {} running / {} pending tasks",
                        i.status, i.agent_version, i.running_tasks, i.pending_tasks
                    ),
                ))
                .next(
                    "Read /var/log/ecs/ecs-agent.log on the host (SSM session or the ECS logs \
                     collector) and restart the agent (`systemctl restart ecs`). If it stays \
                     down, drain the instance and replace the host.",
                )
                .remedies(&[Remedy::Drain])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::rules::state_rules::support::fixtures::*;

    #[test]
    fn critical_with_a_hold_when_tasks_run_on_it() {
        let mut f = facts();
        let mut i = instance("i-0abc", "eu-west-1a");
        i.agent_connected = false;
        f.instances = vec![i];
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Critical);
        assert_eq!(found[0].hold, Some(HOLD));
        assert_eq!(
            found[0].message,
            "i-0abc (eu-west-1a): ECS agent disconnected; 2 tasks on it are unmanaged and nothing new will be placed there"
        );
    }

    #[test]
    fn warning_when_idle_and_quiet_when_connected_or_not_active() {
        let mut f = facts();
        let mut idle = instance("i-1", "eu-west-1a");
        idle.agent_connected = false;
        idle.running_tasks = 0;
        let mut gone = instance("i-2", "eu-west-1a");
        gone.agent_connected = false;
        gone.status = "INACTIVE".into();
        let mut draining = instance("i-3", "eu-west-1b");
        draining.agent_connected = false;
        draining.status = "DRAINING".into();
        f.instances = vec![idle, gone, draining, instance("i-4", "eu-west-1b")];
        let found = check(&f.input());
        let labels: Vec<(String, Severity)> = found
            .iter()
            .map(|o| (o.subject.label(), o.severity))
            .collect();
        assert_eq!(
            labels,
            [
                ("prod/i-1".to_string(), Severity::Warning),
                ("prod/i-3".to_string(), Severity::Critical)
            ]
        );
    }
}
