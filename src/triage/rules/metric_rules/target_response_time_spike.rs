//! target-response-time-spike: a target group answers at least twice as slowly as over the
//! hour before, and at least 1 s, for 5 minutes.
//!
//! Reads `TargetResponseTime` p95 (an extended statistic in the same GetMetricData call), as
//! the catalog asks: the average hides a slow tail behind many fast answers.

use chrono::TimeDelta;

use super::util::{load_balancer_name, mean, median, num, run_start, target_group_name, values};
use crate::model::{Evidence, Observation, Remedy, Service, Severity, metric_catalog as cat};
use crate::triage::Input;
use crate::triage::input::target_group_subject;
use crate::triage::rules::about::{About, Read, Value, WARNING, limit};

pub const ID: &str = "target-response-time-spike";

pub const CPU_BOUND: &str = "cpu-bound";
pub const DEPENDENCY_BOUND: &str = "dependency-bound";
pub const MIXED: &str = "mixed";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "A target group answers far more slowly than over the hour before.",
    severities: WARNING,
    reads: &[Read::Metric(
        "AWS/ApplicationELB TargetResponseTime p95, per target group",
    )],
    limits: &[
        limit("≥ baseline ×", Value::Factor(FACTOR)),
        limit("and ≥", Value::Number(MIN_SECS, "s")),
        limit("for", Value::Minutes(WINDOW)),
        limit("baseline over", Value::Minutes(BASELINE)),
    ],
};

const WINDOW: i64 = 5;
const MIN_SECS: f64 = 1.0;
const FACTOR: f64 = 2.0;
/// The baseline: the 60 minutes before the window, with enough points to mean something.
const BASELINE: i64 = 60;
const MIN_BASELINE_POINTS: usize = 20;

/// What a spiking group shows.
pub struct Spike {
    pub tg: String,
    pub lb: String,
    pub p95: f64,
    pub baseline: f64,
    pub since: Option<crate::model::Time>,
}

/// The service's groups whose response time spikes now.
pub fn spikes(input: &Input, s: &Service) -> Vec<Spike> {
    s.target_group_lbs
        .iter()
        .filter_map(|(tg, lb)| {
            let metric = cat::target_group_response_time_p95(tg, lb)?;
            let history = input.window(&metric, BASELINE + WINDOW);
            let cut = input.now - TimeDelta::minutes(WINDOW);
            let before: Vec<f64> = history
                .iter()
                .filter(|p| p.at < cut)
                .map(|p| p.value)
                .collect();
            if before.len() < MIN_BASELINE_POINTS {
                return None;
            }
            let baseline = median(&before)?;
            let floor = MIN_SECS.max(FACTOR * baseline);
            if !input.held(&metric, WINDOW, |v| v >= floor) {
                return None;
            }
            Some(Spike {
                tg: tg.clone(),
                lb: lb.clone(),
                p95: input.latest(&metric)?,
                baseline,
                since: run_start(&history, input.now, |v| v >= floor),
            })
        })
        .collect()
}

/// Whether any of the service's groups spikes now (other rules escalate on it).
pub fn spiking(input: &Input, s: &Service) -> bool {
    !spikes(input, s).is_empty()
}

/// Mean of the service metric over the window, if polled.
fn recent_mean(input: &Input, metric: &crate::model::MetricId) -> Option<f64> {
    mean(&values(&input.window(metric, WINDOW)))
}

pub fn check(input: &Input) -> Vec<Observation> {
    let mut out = Vec::new();
    for &s in &input.services {
        for spike in spikes(input, s) {
            let cpu = recent_mean(input, &cat::service_cpu(s));
            let mem = recent_mean(input, &cat::service_memory(s));
            let tag = match cpu {
                Some(c) if c >= 85.0 => CPU_BOUND,
                Some(c) if c < 75.0 => DEPENDENCY_BOUND,
                Some(_) => MIXED,
                None => "cause unknown (no service CPU)",
            };
            let rpm = cat::target_group_requests(&spike.tg, &spike.lb)
                .and_then(|m| input.latest(&m))
                .map_or("? ".to_string(), |v| format!("{v:.0} "));
            let pct = |v: Option<f64>| v.map_or("?".into(), |v| format!("{v:.0}%"));
            let name = target_group_name(&spike.tg, input.target_polls(&spike.tg));
            let message = format!(
                "{name}: p95 {}s (baseline {}s) at {rpm}req/min; service CPU {}, memory {} → {tag}",
                num2(spike.p95),
                num2(spike.baseline),
                pct(cpu),
                pct(mem),
            );
            let next = match tag {
                CPU_BOUND => {
                    "CPU-bound: see service-cpu-saturated and the scaling rules; scale the \
                     service now if it is at its limit."
                }
                DEPENDENCY_BOUND => {
                    "Dependency-bound: look at the database, external APIs and NAT \
                     (log-db-connectivity-failure). [exec] jstack a few times to see where \
                     threads wait; X-Ray traces, if enabled, show the slow segment."
                }
                _ => {
                    "Check service-cpu-saturated first, then the dependencies (database, \
                     external APIs); [exec] jstack a few times to see where threads wait."
                }
            };
            let mut o = Observation::new(
                ID,
                Severity::Warning,
                target_group_subject(s, &spike.tg),
                message,
            )
            .evidence(Evidence::at(
                input.now,
                format!(
                    "TargetResponseTime p95 ≥ {}s (2 × the 60-min median, at least 1 s) for \
                     {WINDOW} min on {}",
                    num2(MIN_SECS.max(FACTOR * spike.baseline)),
                    load_balancer_name(&spike.lb)
                ),
            ))
            .next(next)
            .remedies(&[Remedy::Chart, Remedy::Exec, Remedy::Scale]);
            if let Some(at) = spike.since {
                o = o.since(at);
            }
            out.push(o);
        }
    }
    out
}

/// Seconds with two decimals below 10, like the console's charts.
fn num2(v: f64) -> String {
    if v < 10.0 { format!("{v:.2}") } else { num(v) }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::triage::Facts;

    fn rt() -> crate::model::MetricId {
        cat::target_group_response_time_p95(TG, LB).unwrap()
    }

    /// 60 min at `base` s then `spike` for the last `minutes`; service CPU `cpu`.
    fn fleet(base: f64, spike: f64, minutes: usize, cpu: f64) -> Facts {
        let mut f = facts();
        let s = service("web", 4);
        let mut v = flat(base, 60);
        v.extend(flat(spike, minutes));
        f.series(rt(), &v);
        f.series(cat::service_cpu(&s), &flat(cpu, 10));
        f.series(cat::service_memory(&s), &flat(55.0, 10));
        f.series(
            cat::target_group_requests(TG, LB).unwrap(),
            &flat(6000.0, 10),
        );
        f.services = vec![s];
        f
    }

    #[test]
    fn fires_with_the_cpu_tag() {
        let found = check(&fleet(0.25, 1.4, 5, 96.0).input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(
            found[0].message,
            "tg-web: p95 1.40s (baseline 0.25s) at 6000 req/min; service CPU 96%, memory 55% \
             → cpu-bound"
        );
        assert!(found[0].since.is_some());
    }

    #[test]
    fn tags_follow_service_cpu() {
        let tag = |cpu| check(&fleet(0.3, 3.0, 5, cpu).input())[0].message.clone();
        assert!(tag(85.0).ends_with(CPU_BOUND));
        assert!(tag(84.9).ends_with(MIXED));
        assert!(tag(75.0).ends_with(MIXED));
        assert!(tag(74.9).ends_with(DEPENDENCY_BOUND));
    }

    #[test]
    fn needs_twice_the_baseline_and_one_second() {
        // 0.4 s baseline: 0.9 s is over 2× but under 1 s.
        assert!(check(&fleet(0.4, 0.9, 5, 50.0).input()).is_empty());
        // 0.8 s baseline: 1.5 s is over 1 s but under 2×; 1.6 s is exactly 2×.
        assert!(check(&fleet(0.8, 1.5, 5, 50.0).input()).is_empty());
        assert_eq!(check(&fleet(0.8, 1.6, 5, 50.0).input()).len(), 1);
    }

    #[test]
    fn needs_five_minutes_with_one_gap_tolerated() {
        assert!(check(&fleet(0.25, 2.0, 3, 50.0).input()).is_empty());
        let mut f = fleet(0.25, 2.0, 5, 50.0);
        let mut v = flat(0.25, 60);
        v.extend([2.0, f64::NAN, 2.0, 2.0, 2.0]);
        f.series(rt(), &v);
        assert_eq!(check(&f.input()).len(), 1, "one missing minute");
        v[62] = f64::NAN;
        f.series(rt(), &v);
        assert!(check(&f.input()).is_empty(), "two missing minutes");
    }

    #[test]
    fn no_baseline_no_finding() {
        let mut f = fleet(0.25, 2.0, 5, 50.0);
        let mut v = flat(f64::NAN, 50);
        v.extend(flat(0.25, 10));
        v.extend(flat(2.0, 5));
        f.series(rt(), &v);
        assert!(check(&f.input()).is_empty());
    }
}
