//! service-under-replicated: fewer tasks running than desired, for a while.

use chrono::TimeDelta;

use crate::model::{Evidence, Observation, Remedy, Severity};
use crate::triage::Input;
use crate::triage::input::service_subject;
use crate::triage::rules::about::{About, Read, Value, WARNING_CRITICAL, limit};

pub const ID: &str = "service-under-replicated";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "Fewer tasks running than desired, for a while; critical when none run.",
    severities: WARNING_CRITICAL,
    reads: &[Read::Api(
        "ECS DescribeServices: desiredCount, runningCount",
    )],
    limits: &[limit("held", Value::Span(HOLD))],
};
/// How long the gap must last (our default).
const HOLD: TimeDelta = TimeDelta::minutes(5);

pub fn check(input: &Input) -> Vec<Observation> {
    input
        .services
        .iter()
        .filter(|s| s.status == "ACTIVE" && s.running < s.desired)
        .map(|s| {
            let critical = s.running == 0 || s.running * 2 < s.desired;
            let severity = if critical {
                Severity::Critical
            } else {
                Severity::Warning
            };
            Observation::new(
                ID,
                severity,
                service_subject(s),
                format!(
                    "{}: {}/{} running, {} pending",
                    s.name, s.running, s.desired, s.pending
                ),
            )
            .evidence(Evidence::at(
                input.now,
                format!(
                    "desired {}, running {}, pending {}",
                    s.desired, s.running, s.pending
                ),
            ))
            .next(
                "Open the service's events and the latest stopped tasks; if nothing explains \
                 the gap, check the deployment state.",
            )
            .remedies(&[Remedy::Events, Remedy::ShowTask, Remedy::Scale])
            .hold(HOLD)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Service;
    use crate::triage::Facts;

    fn service(desired: u32, running: u32) -> Service {
        Service {
            name: "web".into(),
            cluster_arn: "arn:aws:ecs:eu-west-1:1:cluster/prod".into(),
            status: "ACTIVE".into(),
            desired,
            running,
            ..Service::default()
        }
    }

    #[test]
    fn fires_with_a_hold_while_running_is_below_desired() {
        let facts = Facts {
            services: vec![service(4, 3)],
            ..Facts::default()
        };
        let found = check(&facts.input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(found[0].hold, Some(HOLD));
        assert!(
            found[0].message.contains("3/4 running"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn critical_below_half_and_quiet_when_full() {
        let facts = Facts {
            services: vec![service(4, 1), service(4, 4), service(4, 5)],
            ..Facts::default()
        };
        let found = check(&facts.input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Critical);
    }
}
