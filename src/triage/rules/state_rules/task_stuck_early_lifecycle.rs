//! task-stuck-early-lifecycle: a task that should be running has sat in PROVISIONING,
//! PENDING or ACTIVATING for too long. Only tasks that exist: a copy ECS could not place at
//! all has no task object and is the placement rules' business.

use chrono::TimeDelta;

use super::support::{duration, service_label};
use crate::model::{Evidence, Observation, Remedy, Severity};
use crate::triage::Input;
use crate::triage::input::task_subject;
use crate::triage::rules::about::{About, Read, Value, WARNING, limit};

pub const ID: &str = "task-stuck-early-lifecycle";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "A task that should be running sits in PROVISIONING, PENDING or ACTIVATING for too long.",
    severities: WARNING,
    reads: &[Read::Api(
        "ECS DescribeTasks: lastStatus, desiredStatus, createdAt",
    )],
    limits: &[
        limit("PROVISIONING >", Value::Span(PROVISIONING)),
        limit("PENDING >", Value::Span(PENDING)),
        limit("ACTIVATING >", Value::Span(ACTIVATING)),
    ],
};

const PROVISIONING: TimeDelta = TimeDelta::minutes(3);
const PENDING: TimeDelta = TimeDelta::minutes(5);
const ACTIVATING: TimeDelta = TimeDelta::minutes(5);

/// How long each state may last (our defaults), and what usually holds a task there.
fn state_limit(status: &str) -> Option<(TimeDelta, &'static str)> {
    match status {
        "PROVISIONING" => Some((
            PROVISIONING,
            "ENI attachment or free IP addresses in the subnets",
        )),
        "PENDING" => Some((
            PENDING,
            "capacity or constraints (see the placement rules) or a slow or large image pull",
        )),
        "ACTIVATING" => Some((
            ACTIVATING,
            "load balancer target registration or service discovery setup",
        )),
        _ => None,
    }
}

pub fn check(input: &Input) -> Vec<Observation> {
    input
        .tasks
        .iter()
        .copied()
        .filter(|t| t.desired_status == "RUNNING")
        .filter_map(|t| {
            let (max, hint) = state_limit(&t.last_status)?;
            let created = t.created_at?;
            let age = input.now - created;
            if age <= max {
                return None;
            }
            let message = format!(
                "Task {} ({}) stuck in {} for {} — {hint}",
                t.short_id(),
                service_label(t),
                t.last_status,
                duration(age)
            );
            Some(
                Observation::new(ID, Severity::Warning, task_subject(t), message)
                    .since(created + max)
                    .evidence(Evidence::at(
                        created,
                        format!(
                            "created {}, lastStatus {}, desiredStatus {}",
                            created.format("%H:%M:%S"),
                            t.last_status,
                            t.desired_status
                        ),
                    ))
                    .next(format!(
                        "{} usually waits on {hint}. Open the service's events (show events) \
                         and the task (show task).",
                        t.last_status
                    ))
                    .remedies(&[Remedy::Events, Remedy::ShowTask]),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Task;
    use crate::triage::rules::state_rules::support::fixtures::*;

    fn young(status: &str, created_secs_ago: i64) -> Task {
        let mut t = running("web", "abcdef0123");
        t.last_status = status.into();
        t.started_at = None;
        t.created_at = Some(secs_ago(created_secs_ago));
        t
    }

    #[test]
    fn fires_past_each_state_limit() {
        let mut f = facts();
        f.tasks = vec![young("PENDING", 6 * 60 + 5)];
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(
            found[0].message,
            "Task abcdef01 (web) stuck in PENDING for 6m05s — capacity or constraints (see the \
             placement rules) or a slow or large image pull"
        );
        assert_eq!(found[0].since, Some(secs_ago(65)));
    }

    #[test]
    fn limits_are_three_minutes_provisioning_and_five_otherwise() {
        for (status, limit) in [("PROVISIONING", 180), ("PENDING", 300), ("ACTIVATING", 300)] {
            let mut f = facts();
            f.tasks = vec![young(status, limit)];
            assert!(check(&f.input()).is_empty(), "{status} at the limit");
            f.tasks = vec![young(status, limit + 1)];
            assert_eq!(check(&f.input()).len(), 1, "{status} past the limit");
        }
    }

    #[test]
    fn quiet_for_running_or_stopping_tasks_and_without_a_task_object() {
        let mut f = facts();
        let mut stopping = young("PENDING", 3600);
        stopping.desired_status = "STOPPED".into();
        f.tasks = vec![young("RUNNING", 3600), stopping];
        assert!(check(&f.input()).is_empty());
        // The capacity scenario: the service wants a task ECS never created.
        let mut s = service("web");
        s.desired = 4;
        s.running = 3;
        f.tasks.clear();
        f.services = vec![s];
        assert!(check(&f.input()).is_empty());
    }
}
