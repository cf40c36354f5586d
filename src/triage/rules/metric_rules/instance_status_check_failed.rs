//! instance-status-check-failed: a container instance fails its EC2 status checks for 3
//! minutes. Only the combined `StatusCheckFailed` is polled (one series per instance), so the
//! message does not say whether the system or the instance check fails.

use super::util::{duration, run_start, service_list, tenants};
use crate::model::{Evidence, Observation, Remedy, Severity, metric_catalog as cat};
use crate::triage::Input;
use crate::triage::input::instance_subject;
use crate::triage::rules::about::{About, CRITICAL, Read, Value, limit};

pub const ID: &str = "instance-status-check-failed";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "A container instance fails its EC2 status checks.",
    severities: CRITICAL,
    reads: &[Read::Metric(
        "AWS/EC2 StatusCheckFailed Maximum, per instance",
    )],
    limits: &[limit("for", Value::Minutes(WINDOW))],
};

const WINDOW: i64 = 3;

pub fn check(input: &Input) -> Vec<Observation> {
    let mut out = Vec::new();
    for &i in input.instances.iter() {
        let metric = cat::instance_status_check(i);
        if !input.held(&metric, WINDOW, |v| v >= 1.0) {
            continue;
        }
        let since = run_start(&input.window(&metric, 180), input.now, |v| v >= 1.0);
        let lasted = since.map_or(format!("{WINDOW}m"), |at| duration(input.now - at));
        let (tasks, services) = tenants(input, i);
        let n = tasks.len().max(i.running_tasks as usize);
        let mut o = Observation::new(
            ID,
            Severity::Critical,
            instance_subject(i),
            format!(
                "{}: failing EC2 status checks (system or instance) for {lasted}; hosts {n} tasks \
                 of {}",
                i.ec2_instance_id,
                service_list(&services)
            ),
        )
        .evidence(Evidence::at(
            input.now,
            format!("AWS/EC2 StatusCheckFailed ≥ 1 for {WINDOW} min"),
        ))
        .next(
            "Drain the instance so service tasks move, then reboot or replace the host. If the \
             instance check fails while CPU is pinned at 100%, suspect overload (soft lockup) \
             and add capacity.",
        )
        .remedies(&[Remedy::Drain, Remedy::Chart]);
        if let Some(at) = since {
            o = o.since(at);
        }
        out.push(o);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::triage::Facts;

    fn fleet(values: &[f64]) -> Facts {
        let mut f = facts();
        let i = instance(1, "m5.large");
        f.services = vec![service("web", 1)];
        f.tasks = vec![on(task("web", 1, 3600), &i)];
        f.series(cat::instance_status_check(&i), values);
        f.instances = vec![i];
        f
    }

    #[test]
    fn three_failing_minutes_fire_critical() {
        let found = check(&fleet(&[0.0, 0.0, 1.0, 1.0, 1.0, 1.0]).input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Critical);
        assert_eq!(
            found[0].message,
            "i-00000000000000001: failing EC2 status checks (system or instance) for 4m; hosts 1 \
             tasks of web"
        );
    }

    #[test]
    fn shorter_runs_gaps_and_passing_checks_are_quiet() {
        assert!(check(&fleet(&[0.0, 0.0, 0.0, 1.0, 1.0]).input()).is_empty());
        assert!(check(&fleet(&[0.0, 0.0, 0.0, 0.0]).input()).is_empty());
        assert!(check(&fleet(&[1.0, f64::NAN, f64::NAN]).input()).is_empty());
        assert_eq!(
            check(&fleet(&[1.0, f64::NAN, 1.0]).input()).len(),
            1,
            "one gap"
        );
    }
}
