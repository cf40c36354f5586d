//! The Application Auto Scaling rules. autoscaling-at-max-capacity: desired count at the
//! scalable target's maximum for 10 minutes while the scale-out alarm fires or service CPU is
//! ≥ 80 %. scale-in-suspended: a suspended flag for 15 minutes, or the scale-in alarm in ALARM
//! for 15 minutes while a deployment is in progress (Application Auto Scaling does not scale in
//! during an ECS deployment).
//!
//! Scaling policies (DescribeScalingPolicies) are not polled: the scale-out and scale-in
//! alarms are recognised by target tracking's naming (`TargetTracking-service/{cluster}/
//! {service}-AlarmHigh-…` / `-AlarmLow-…`) or, for scale-out, as any alarm on the service's
//! CPU or memory. The desiredCount history is not kept: the holds stand in for it.

use chrono::TimeDelta;

use super::util::{duration, num};
use super::{alb_5xx_spike, target_response_time_spike};
use crate::model::{
    Alarm, AlarmState, Evidence, Observation, Remedy, Service, Severity, metric_catalog as cat,
};
use crate::sanitize::clean;
use crate::triage::Input;
use crate::triage::input::service_subject;
use crate::triage::rules::about::{About, INFO, Read, Value, WARNING_CRITICAL, limit};

pub const AT_MAX: &str = "autoscaling-at-max-capacity";
pub const SCALE_IN_SUSPENDED: &str = "scale-in-suspended";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT_AT_MAX: About = About {
    summary: "A service's desired count sits at its scalable target's maximum while it still needs more.",
    severities: WARNING_CRITICAL,
    reads: &[
        Read::Api("Application Auto Scaling DescribeScalableTargets: MaxCapacity"),
        Read::Api("CloudWatch DescribeAlarms: the scale-out alarm"),
        Read::Metric("AWS/ECS CPUUtilization Average, per service"),
    ],
    limits: &[
        limit("service CPU ≥", Value::Percent(CPU_HIGH)),
        limit("held", Value::Span(AT_MAX_HOLD)),
    ],
};

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT_SCALE_IN_SUSPENDED: About = About {
    summary: "Scale-in is suspended, or blocked by a deployment in progress while the scale-in alarm fires.",
    severities: INFO,
    reads: &[
        Read::Api("Application Auto Scaling DescribeScalableTargets: SuspendedState"),
        Read::Api("CloudWatch DescribeAlarms: the scale-in alarm"),
        Read::Api("ECS DescribeServices: deployments"),
    ],
    limits: &[limit("held", Value::Span(SUSPENDED_HOLD))],
};

const CPU_HIGH: f64 = 80.0;
const AT_MAX_HOLD: TimeDelta = TimeDelta::minutes(10);
const SUSPENDED_HOLD: TimeDelta = TimeDelta::minutes(15);

/// Firing alarms of the service whose name marks them as target tracking's `kind` alarm
/// (`AlarmHigh`, `AlarmLow`).
fn named_alarms<'a>(input: &Input<'a>, s: &Service, kind: &str) -> Vec<&'a Alarm> {
    let resource = format!(
        "service/{}/{}-",
        Input::cluster_name(&s.cluster_arn),
        s.name
    );
    input
        .alarms
        .iter()
        .filter(|a| {
            a.state == AlarmState::Alarm && a.name.contains(&resource) && a.name.contains(kind)
        })
        .collect()
}

/// The firing scale-out alarms: target tracking's AlarmHigh, or other alarms on service CPU or
/// memory that fire from above.
fn scale_out_alarms<'a>(input: &Input<'a>, s: &Service) -> Vec<&'a Alarm> {
    let mut out = named_alarms(input, s, "AlarmHigh");
    for a in input
        .alarms_firing(&cat::service_cpu(s))
        .into_iter()
        .chain(input.alarms_firing(&cat::service_memory(s)))
    {
        // Target tracking's scale-in alarm watches the same metric, from below.
        let scale_in = a.name.contains("AlarmLow") || a.comparison.starts_with("LessThan");
        if !scale_in && !out.iter().any(|o| o.name == a.name) {
            out.push(a);
        }
    }
    out
}

fn alarm_names(alarms: &[&Alarm]) -> String {
    alarms
        .iter()
        .map(|a| clean(&a.name).into_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn check_at_max(input: &Input) -> Vec<Observation> {
    let mut out = Vec::new();
    for &s in &input.services {
        let Some(bounds) = input.scaling_bounds(s) else {
            continue;
        };
        if bounds.max == 0 || s.desired < bounds.max {
            continue;
        }
        let cpu = input.latest(&cat::service_cpu(s));
        let alarms = scale_out_alarms(input, s);
        if alarms.is_empty() && !cpu.is_some_and(|c| c >= CPU_HIGH) {
            continue;
        }
        let slow = target_response_time_spike::spiking(input, s);
        let failing = alb_5xx_spike::spiking(input, s);
        let severity = if slow || failing {
            Severity::Critical
        } else {
            Severity::Warning
        };
        let alarm_state = if alarms.is_empty() {
            "not in ALARM".to_string()
        } else {
            format!("ALARM ({})", alarm_names(&alarms))
        };
        let mut o = Observation::new(
            AT_MAX,
            severity,
            service_subject(s),
            format!(
                "{}: at max capacity {} tasks, CPU {}, scale-out alarm {alarm_state} — autoscaling \
                 cannot add more",
                s.name,
                bounds.max,
                cpu.map_or("?".into(), |c| format!("{}%", num(c)))
            ),
        )
        .evidence(Evidence::at(
            input.now,
            format!(
                "desired {} = MaxCapacity {} (MinCapacity {})",
                s.desired, bounds.max, bounds.min
            ),
        ))
        .next(
            "Raise MaxCapacity (RegisterScalableTarget) or scale the service by hand. Check the \
             cluster's headroom first (cluster-reservation-high), otherwise new tasks just sit \
             PENDING.",
        )
        .remedies(&[Remedy::Scale, Remedy::Chart, Remedy::Events])
        .hold(AT_MAX_HOLD);
        for a in &alarms {
            o = o.evidence(Evidence {
                at: a.updated_at,
                text: format!("{}: {}", clean(&a.name), clean(&a.reason)),
            });
        }
        if slow {
            o = o.evidence(Evidence::at(
                input.now,
                "target-response-time-spike is active",
            ));
        }
        if failing {
            o = o.evidence(Evidence::at(input.now, "alb-5xx-spike is active"));
        }
        out.push(o);
    }
    out
}

pub fn check_scale_in_suspended(input: &Input) -> Vec<Observation> {
    let mut out = Vec::new();
    for &s in &input.services {
        let flag = input.scaling_bounds(s).is_some_and(|b| b.suspended);
        // The scale-in alarm firing for 15 minutes while a deployment runs.
        let low: Vec<&Alarm> = named_alarms(input, s, "AlarmLow")
            .into_iter()
            .filter(|a| {
                a.updated_at
                    .is_some_and(|at| input.now - at >= SUSPENDED_HOLD)
            })
            .collect();
        let deploying = s
            .deployments
            .iter()
            .find(|d| d.status == "PRIMARY" && d.rollout_state == "IN_PROGRESS");
        let cause = if flag {
            "suspended by flag".to_string()
        } else if let (false, Some(d)) = (low.is_empty(), deploying) {
            format!("paused by deployment {}", clean(&d.id))
        } else {
            continue;
        };
        let low_for = low
            .iter()
            .filter_map(|a| a.updated_at)
            .min()
            .map(|at| {
                format!(
                    " though the low alarm has been ALARM for {}",
                    duration(input.now - at)
                )
            })
            .unwrap_or_default();
        let mut o = Observation::new(
            SCALE_IN_SUSPENDED,
            Severity::Info,
            service_subject(s),
            format!(
                "{}: scale-in {cause}; desired stays {}{low_for}",
                s.name, s.desired
            ),
        )
        .next(
            "If the flag was set by hand, resume scaling (RegisterScalableTarget with \
             SuspendedState false). If a deployment is stuck, clear deployment-stuck-in-progress \
             first. Scale the service by hand if cost or capacity needs it now.",
        )
        .remedies(&[Remedy::Scale, Remedy::Events]);
        if flag {
            o = o.evidence(Evidence::at(
                input.now,
                "SuspendedState: a scaling activity is suspended",
            ));
            o = o.hold(SUSPENDED_HOLD);
        }
        for a in &low {
            o = o.evidence(Evidence {
                at: a.updated_at,
                text: format!("{}: {}", clean(&a.name), clean(&a.reason)),
            });
        }
        out.push(o);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::model::{Deployment, ScalingBounds};
    use crate::triage::Facts;

    fn fleet(desired: u32, max: u32, cpu: f64) -> Facts {
        let mut f = facts();
        let s = service("web", desired);
        f.series(cat::service_cpu(&s), &flat(cpu, 5));
        f.scaling.insert(
            ("prod".into(), "web".into()),
            ScalingBounds {
                min: 2,
                max,
                suspended: false,
            },
        );
        f.services = vec![s];
        f
    }

    fn alarm(name: &str, at: i64) -> Alarm {
        Alarm {
            name: name.into(),
            state: AlarmState::Alarm,
            namespace: cat::ECS.into(),
            metric: "CPUUtilization".into(),
            dimensions: vec![
                ("ClusterName".into(), "prod".into()),
                ("ServiceName".into(), "web".into()),
            ],
            threshold: 60.0,
            comparison: "GreaterThanThreshold".into(),
            reason: "Threshold Crossed".into(),
            updated_at: Some(ago(at)),
        }
    }

    #[test]
    fn at_max_with_high_cpu_fires_with_a_hold() {
        let found = check_at_max(&fleet(6, 6, 91.0).input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(found[0].hold, Some(AT_MAX_HOLD));
        assert_eq!(
            found[0].message,
            "web: at max capacity 6 tasks, CPU 91%, scale-out alarm not in ALARM — autoscaling \
             cannot add more"
        );
    }

    #[test]
    fn at_max_needs_high_cpu_or_a_firing_alarm() {
        assert!(check_at_max(&fleet(6, 6, 79.9).input()).is_empty());
        assert_eq!(check_at_max(&fleet(6, 6, 80.0).input()).len(), 1);
        assert!(
            check_at_max(&fleet(5, 6, 95.0).input()).is_empty(),
            "below max"
        );
        let mut f = fleet(6, 6, 50.0);
        f.alarms = vec![alarm("TargetTracking-service/prod/web-AlarmHigh-1a2b", 60)];
        let found = check_at_max(&f.input());
        assert!(
            found[0]
                .message
                .contains("ALARM (TargetTracking-service/prod/web-AlarmHigh-1a2b)")
        );
        let mut f = fleet(6, 6, 50.0);
        f.alarms = vec![alarm("TargetTracking-service/prod/web-AlarmLow-1a2b", 60)];
        assert!(
            check_at_max(&f.input()).is_empty(),
            "the low alarm is not scale-out"
        );
    }

    #[test]
    fn at_max_is_critical_with_a_latency_spike() {
        let mut f = fleet(6, 6, 91.0);
        let mut rt = flat(0.3, 60);
        rt.extend(flat(2.0, 5));
        f.series(cat::target_group_response_time_p95(TG, LB).unwrap(), &rt);
        assert_eq!(check_at_max(&f.input())[0].severity, Severity::Critical);
    }

    #[test]
    fn a_suspended_flag_is_info_with_a_hold() {
        let mut f = fleet(4, 6, 30.0);
        assert!(check_scale_in_suspended(&f.input()).is_empty());
        f.scaling.values_mut().for_each(|b| b.suspended = true);
        let found = check_scale_in_suspended(&f.input());
        assert_eq!(found[0].severity, Severity::Info);
        assert_eq!(found[0].hold, Some(SUSPENDED_HOLD));
        assert_eq!(
            found[0].message,
            "web: scale-in suspended by flag; desired stays 4"
        );
    }

    #[test]
    fn a_low_alarm_during_a_deployment_pauses_scale_in() {
        let mut f = fleet(4, 6, 30.0);
        f.services[0].deployments = vec![Deployment {
            id: "ecs-svc/9".into(),
            status: "PRIMARY".into(),
            rollout_state: "IN_PROGRESS".into(),
            ..Deployment::default()
        }];
        f.alarms = vec![alarm(
            "TargetTracking-service/prod/web-AlarmLow-1a2b",
            14 * 60,
        )];
        assert!(
            check_scale_in_suspended(&f.input()).is_empty(),
            "14 minutes"
        );
        f.alarms[0].updated_at = Some(ago(15 * 60));
        let found = check_scale_in_suspended(&f.input());
        assert_eq!(
            found[0].message,
            "web: scale-in paused by deployment ecs-svc/9; desired stays 4 though the low alarm \
             has been ALARM for 15m"
        );
        f.services[0].deployments[0].rollout_state = "COMPLETED".into();
        assert!(
            check_scale_in_suspended(&f.input()).is_empty(),
            "no deployment"
        );
    }
}
