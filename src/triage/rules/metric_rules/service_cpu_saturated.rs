//! service-cpu-saturated: a service uses ≥90 % of its reserved CPU for 5 minutes, classed by
//! the CPU of the instances its tasks run on: host-bound (hosts ≥85 %), task-bound (hosts
//! <60 %: the task's own CPU units are the cap), mixed otherwise.

use super::target_response_time_spike;
use super::util::{duration, hosts_of, mean, num, run_start, values};
use crate::model::{Evidence, Observation, Remedy, Service, Severity, metric_catalog as cat};
use crate::triage::Input;
use crate::triage::input::service_subject;
use crate::triage::rules::about::{About, Read, Value, WARNING_CRITICAL, limit};

pub const ID: &str = "service-cpu-saturated";

pub const HOST_BOUND: &str = "host-bound";
pub const TASK_BOUND: &str = "task-bound";
pub const MIXED: &str = "mixed";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "A service uses nearly all its reserved CPU, classed host-bound, task-bound or mixed by its hosts' CPU.",
    severities: WARNING_CRITICAL,
    reads: &[
        Read::Metric("AWS/ECS CPUUtilization Average, per service"),
        Read::Metric("AWS/EC2 CPUUtilization Average, per instance"),
    ],
    limits: &[
        limit("service CPU ≥", Value::Percent(THRESHOLD)),
        limit("for", Value::Minutes(WINDOW)),
        limit("host-bound when hosts ≥", Value::Percent(HOSTS_BUSY)),
        limit("task-bound when hosts <", Value::Percent(HOSTS_IDLE)),
    ],
};

const THRESHOLD: f64 = 90.0;
const WINDOW: i64 = 5;
const HOSTS_BUSY: f64 = 85.0;
const HOSTS_IDLE: f64 = 60.0;

/// The mean CPU of the instances hosting the service's tasks over the window, and how many
/// of them had data.
fn host_cpu(input: &Input, s: &Service) -> Option<(f64, Vec<String>)> {
    let mut per_host = Vec::new();
    let mut lines = Vec::new();
    for i in hosts_of(input, s) {
        if let Some(m) = mean(&values(&input.window(&cat::instance_cpu(i), WINDOW))) {
            per_host.push(m);
            lines.push(format!("{} {}%", i.ec2_instance_id, num(m)));
        }
    }
    Some((mean(&per_host)?, lines))
}

pub fn check(input: &Input) -> Vec<Observation> {
    let mut out = Vec::new();
    for &s in &input.services {
        let metric = cat::service_cpu(s);
        if !input.held(&metric, WINDOW, |v| v >= THRESHOLD) {
            continue;
        }
        let Some(cpu) = input.latest(&metric) else {
            continue;
        };
        let since = run_start(&input.window(&metric, 180), input.now, |v| v >= THRESHOLD);
        let fargate =
            s.launch_type == "FARGATE" || input.tasks_of(s).any(|t| t.launch_type == "FARGATE");
        let hosts = host_cpu(input, s);
        let (host_text, class) = match &hosts {
            Some((h, _)) if *h >= HOSTS_BUSY => (format!("{}%", num(*h)), HOST_BOUND),
            Some((h, _)) if *h < HOSTS_IDLE => (format!("{}%", num(*h)), TASK_BOUND),
            Some((h, _)) => (format!("{}%", num(*h)), MIXED),
            None if fargate => ("n/a (Fargate)".to_string(), TASK_BOUND),
            None => ("unknown".to_string(), "host CPU unknown"),
        };
        let spiking = target_response_time_spike::spiking(input, s);
        let severity = if spiking {
            Severity::Critical
        } else {
            Severity::Warning
        };
        let lasted = since.map_or(format!("{WINDOW}m"), |at| duration(input.now - at));
        let next = match class {
            HOST_BOUND => {
                "Host-bound: scale the service and add instances (more tasks on the same busy \
                 hosts will not help). Review the autoscaling thresholds: scale out earlier or \
                 in larger steps."
            }
            TASK_BOUND => {
                "Task-bound: raise the task's CPU units or add tasks. Review the autoscaling \
                 thresholds: scale out earlier or in larger steps. For a runaway thread, [exec] \
                 top -H or jstack."
            }
            _ => {
                "Add tasks (and instances if the hosts fill up); review the autoscaling \
                 thresholds. For a runaway thread, [exec] top -H or jstack."
            }
        };
        let mut o = Observation::new(
            ID,
            severity,
            service_subject(s),
            format!(
                "{}: CPU {}% of reserved for {lasted}; hosts avg {host_text} → {class}",
                s.name,
                num(cpu)
            ),
        )
        .evidence(Evidence::at(
            input.now,
            format!(
                "AWS/ECS CPUUtilization ≥ {THRESHOLD}% for {WINDOW} min (latest {}%)",
                num(cpu)
            ),
        ))
        .next(next)
        .remedies(&[Remedy::Scale, Remedy::Chart, Remedy::Exec]);
        if let Some((_, lines)) = hosts {
            o = o.evidence(Evidence::at(
                input.now,
                format!("host CPU over {WINDOW} min: {}", lines.join(", ")),
            ));
        }
        if spiking {
            o = o.evidence(Evidence::at(
                input.now,
                "target-response-time-spike is active for this service",
            ));
        }
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

    /// `web` with two tasks on two instances at `host` % CPU, service CPU `svc` for `minutes`.
    fn fleet(svc: f64, minutes: usize, host: f64) -> Facts {
        let mut f = facts();
        let s = service("web", 2);
        let i1 = instance(1, "m5.large");
        let i2 = instance(2, "m5.large");
        f.tasks = vec![on(task("web", 1, 3600), &i1), on(task("web", 2, 3600), &i2)];
        let mut v = flat(50.0, 20);
        v.extend(flat(svc, minutes));
        f.series(cat::service_cpu(&s), &v);
        f.series(cat::instance_cpu(&i1), &flat(host - 2.0, 10));
        f.series(cat::instance_cpu(&i2), &flat(host + 2.0, 10));
        f.instances = vec![i1, i2];
        f.services = vec![s];
        f
    }

    #[test]
    fn fires_after_five_minutes_at_ninety_percent() {
        let found = check(&fleet(96.0, 7, 91.0).input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(
            found[0].message,
            "web: CPU 96% of reserved for 7m; hosts avg 91% → host-bound"
        );
    }

    #[test]
    fn threshold_and_window_edges() {
        assert!(check(&fleet(89.9, 7, 91.0).input()).is_empty());
        assert_eq!(check(&fleet(90.0, 5, 91.0).input()).len(), 1);
        assert!(check(&fleet(95.0, 3, 91.0).input()).is_empty(), "3 minutes");
    }

    #[test]
    fn classification_follows_host_cpu() {
        let class = |host| check(&fleet(97.0, 6, host).input())[0].message.clone();
        assert!(class(85.0).ends_with(HOST_BOUND));
        assert!(class(84.0).ends_with(MIXED));
        assert!(class(60.0).ends_with(MIXED));
        assert!(class(59.0).ends_with(TASK_BOUND));
    }

    #[test]
    fn critical_with_a_response_time_spike() {
        let mut f = fleet(97.0, 6, 91.0);
        let mut rt = flat(0.25, 60);
        rt.extend(flat(1.4, 6));
        f.series(cat::target_group_response_time_p95(TG, LB).unwrap(), &rt);
        let found = check(&f.input());
        assert_eq!(found[0].severity, Severity::Critical);
    }

    #[test]
    fn no_data_is_quiet() {
        let mut f = fleet(97.0, 6, 91.0);
        f.series = Default::default();
        assert!(check(&f.input()).is_empty());
    }
}
