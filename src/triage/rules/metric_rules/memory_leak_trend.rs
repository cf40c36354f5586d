//! memory-leak-trend: a task's memory climbs steadily towards its hard limit.
//!
//! Per task, Container Insights `MemoryUtilized` (MiB; clusters with enhanced observability)
//! against the task's hard limit: a least-squares line over the last 60 minutes, once there
//! are 30 minutes of samples, with slope > 0, R² ≥ 0.8 and usage ≥ 60 % of the limit. ETA =
//! (limit − current) / slope: warning within 6 h, critical within 1 h or at ≥ 90 % of the
//! limit for 15 minutes. Services without per-task series fall back to `AWS/ECS`
//! `MemoryUtilization` Maximum (per cent of the reservation, 100 being the limit when the
//! reservation is a hard limit). The "sawtooth" tag counts OOM stops of the service within
//! 24 h (the climbs of stopped tasks are not kept, so each OOM stop counts as one climb).

use chrono::TimeDelta;

use super::util::{hourly, hours, linear_fit, num};
use crate::model::{
    Evidence, MetricId, Observation, Point, Remedy, Service, Severity, Subject, Task,
    metric_catalog as cat,
};
use crate::triage::Input;
use crate::triage::input::{service_subject, task_subject};
use crate::triage::rules::about::{About, Read, Value, WARNING_CRITICAL, limit};

pub const ID: &str = "memory-leak-trend";
/// The tag the message carries when OOM stops confirm the climbs.
pub const SAWTOOTH: &str = "sawtooth";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "A task's memory climbs steadily towards its hard limit (least-squares trend, ETA to the limit).",
    severities: WARNING_CRITICAL,
    reads: &[
        Read::Metric("ECS/ContainerInsights MemoryUtilized, per task (enhanced observability)"),
        Read::Metric("AWS/ECS MemoryUtilization Maximum, per service (fallback)"),
        Read::Api("ECS DescribeTasks (stopped): OOM stops for the sawtooth tag"),
    ],
    limits: &[
        limit("fit over", Value::Minutes(FIT_MINUTES)),
        limit("R² ≥", Value::Number(MIN_R2, "")),
        limit("memory/limit ≥", Value::Share(MIN_SHARE)),
        limit("warning: ETA to the limit ≤", Value::Hours(WARN_ETA_HOURS)),
        limit("critical: ETA ≤", Value::Hours(CRIT_ETA_HOURS)),
        limit("or memory/limit ≥", Value::Share(HIGH_SHARE)),
        limit("for", Value::Minutes(HIGH_MINUTES)),
    ],
};

const FIT_MINUTES: i64 = 60;
/// "30 minutes of samples": the first and last point 29 minutes apart (30 one-minute
/// periods), with a few gaps allowed.
const MIN_SPAN: TimeDelta = TimeDelta::minutes(29);
const MIN_POINTS: usize = 25;
const MIN_R2: f64 = 0.8;
const MIN_SHARE: f64 = 0.6;
const WARN_ETA_HOURS: f64 = 6.0;
const CRIT_ETA_HOURS: f64 = 1.0;
const HIGH_SHARE: f64 = 0.9;
const HIGH_MINUTES: i64 = 15;
const SAWTOOTH_WINDOW: TimeDelta = TimeDelta::hours(24);
const SAWTOOTH_STOPS: usize = 2;

/// The task's hard memory limit (MiB): task-level, or the sum of its containers' hard limits
/// when every container has one.
pub fn hard_limit(input: &Input, t: &Task) -> Option<f64> {
    if let Some(m) = t.memory {
        return Some(f64::from(m));
    }
    let def = input.task_definition(&t.task_definition.arn);
    if let Some(m) = def.and_then(|d| d.memory) {
        return Some(f64::from(m));
    }
    let from_def = def.and_then(|d| {
        (!d.containers.is_empty())
            .then(|| d.containers.iter().map(|c| c.memory.map(f64::from)).sum())
            .flatten()
    });
    from_def.or_else(|| {
        (!t.containers.is_empty())
            .then(|| t.containers.iter().map(|c| c.memory.map(f64::from)).sum())
            .flatten()
    })
}

/// What the window says about one series against a limit.
struct Trend {
    current: f64,
    slope: Option<f64>,
    r2: Option<f64>,
    eta: Option<f64>,
    high: bool,
}

fn trend(input: &Input, metric: &MetricId, limit: f64) -> Option<Trend> {
    let current = input.latest(metric)?;
    if current < MIN_SHARE * limit {
        // Below the share a fit needs, and below the high branch's share (which its latest
        // point is part of): no severity, whatever the window holds. Most tasks of a big
        // fleet are here; their hour of points is not read.
        return Some(Trend {
            current,
            slope: None,
            r2: None,
            eta: None,
            high: false,
        });
    }
    let points: Vec<Point> = input.window(metric, FIT_MINUTES);
    let enough = points.len() >= MIN_POINTS
        && points
            .first()
            .zip(points.last())
            .is_some_and(|(a, b)| b.at - a.at >= MIN_SPAN);
    let fit = enough
        .then(|| linear_fit(&hourly(&points, input.now)))
        .flatten()
        .filter(|f| f.slope > 0.0 && f.r2 >= MIN_R2 && current >= MIN_SHARE * limit);
    let eta = fit.map(|f| ((limit - current) / f.slope).max(0.0));
    let high = input.held(metric, HIGH_MINUTES, |v| v >= HIGH_SHARE * limit);
    Some(Trend {
        current,
        slope: fit.map(|f| f.slope),
        r2: fit.map(|f| f.r2),
        eta,
        high,
    })
}

impl Trend {
    fn severity(&self) -> Option<Severity> {
        if self.high || self.eta.is_some_and(|h| h <= CRIT_ETA_HOURS) {
            Some(Severity::Critical)
        } else if self.eta.is_some_and(|h| h <= WARN_ETA_HOURS) {
            Some(Severity::Warning)
        } else {
            None
        }
    }

    /// `rising 320 MiB/h — projected to hit the limit in 57m`, or the high branch.
    fn outlook(&self, unit: &str) -> String {
        match (self.slope, self.eta) {
            (Some(slope), Some(eta)) => format!(
                "rising {} {unit}/h — projected to hit the limit in {}",
                num(slope),
                hours(eta)
            ),
            _ => format!(
                "at ≥{:.0}% of the limit for {HIGH_MINUTES}m",
                HIGH_SHARE * 100.0
            ),
        }
    }
}

/// OOM stops of the service in the last day.
fn oom_stops(input: &Input, s: &Service) -> usize {
    input
        .stops_of(s, input.now - SAWTOOTH_WINDOW)
        .iter()
        .filter(|t| {
            t.containers.iter().any(|c| {
                c.reason.contains("OutOfMemory")
                    || (c.exit_code == Some(137) && t.stop_code == "EssentialContainerExited")
            })
        })
        .count()
}

fn observation(
    input: &Input,
    subject: Subject,
    severity: Severity,
    message: String,
    trend: &Trend,
) -> Observation {
    let mut o = Observation::new(ID, severity, subject, message)
        .next(
            "Open the metrics chart for per-task memory and compare with the previous task \
             definition revision (did the climb start at the last deploy?). Buy time by raising \
             the limit, or by rolling tasks before the ETA with a redeploy. Find the cause with \
             [exec] (jmap -histo, a heap dump, a Node heap snapshot).",
        )
        .remedies(&[Remedy::Chart, Remedy::Redeploy, Remedy::Exec]);
    if let (Some(slope), Some(r2)) = (trend.slope, trend.r2) {
        o = o.evidence(Evidence::at(
            input.now,
            format!(
                "least-squares over {FIT_MINUTES} min: slope {}/h, R² {r2:.2}",
                num(slope)
            ),
        ));
    }
    if trend.high {
        o = o.evidence(Evidence::at(
            input.now,
            format!(
                "≥{:.0}% of the limit for {HIGH_MINUTES} min",
                HIGH_SHARE * 100.0
            ),
        ));
    }
    o
}

pub fn check(input: &Input) -> Vec<Observation> {
    let mut out = Vec::new();
    for &s in &input.services {
        let stops = oom_stops(input, s);
        let sawtooth = if stops >= SAWTOOTH_STOPS {
            format!("; {SAWTOOTH}: {stops} restarts")
        } else {
            String::new()
        };
        let mut per_task = false;
        for t in input
            .tasks_of(s)
            .filter(|t| t.last_status == "RUNNING" && input.has_task_memory_series(t.id()))
        {
            let metric = cat::task_memory(t);
            if input.series(&metric).is_none_or(|h| h.is_empty()) {
                continue;
            }
            per_task = true;
            let Some(limit) = hard_limit(input, t) else {
                continue;
            };
            let Some(trend) = trend(input, &metric, limit) else {
                continue;
            };
            let Some(severity) = trend.severity() else {
                continue;
            };
            let message = format!(
                "{}/{}: memory {} MiB ({:.0}% of {} MiB), {}{sawtooth}",
                s.name,
                t.short_id(),
                num(trend.current),
                trend.current / limit * 100.0,
                num(limit),
                trend.outlook("MiB"),
            );
            out.push(observation(
                input,
                task_subject(t),
                severity,
                message,
                &trend,
            ));
        }
        if per_task {
            continue;
        }
        // No per-task series: the service's highest task, in per cent of its reservation.
        let metric = cat::service_memory_max(s);
        let Some(trend) = trend(input, &metric, 100.0) else {
            continue;
        };
        let Some(severity) = trend.severity() else {
            continue;
        };
        let message = format!(
            "{}: memory {}% of its reservation (highest task), {}{sawtooth}",
            s.name,
            num(trend.current),
            trend.outlook("points"),
        );
        out.push(
            observation(input, service_subject(s), severity, message, &trend).evidence(
                Evidence::at(
                    input.now,
                    "no per-task series (Container Insights enhanced observability is off): \
                     read from AWS/ECS MemoryUtilization Maximum",
                ),
            ),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::model::Container;
    use crate::triage::Facts;

    /// `web` with one 1024 MiB task whose memory goes linearly from `from` to `to` MiB over
    /// `minutes` minutes.
    fn fleet(from: f64, to: f64, minutes: usize) -> Facts {
        let mut f = facts();
        f.services = vec![service("web", 1)];
        let t = task("web", 1, 7200);
        let v: Vec<f64> = (0..minutes)
            .map(|k| from + (to - from) * k as f64 / (minutes - 1).max(1) as f64)
            .collect();
        f.series(cat::task_memory(&t), &v);
        f.tasks = vec![t];
        f
    }

    #[test]
    fn a_steady_climb_near_the_limit_fires_with_an_eta() {
        // 560 → 720 MiB in 30 min: 331 MiB/h; 304 MiB left → ~55 min: critical.
        let found = check(&fleet(560.0, 720.0, 30).input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Critical);
        assert_eq!(
            found[0].message,
            "web/00000001: memory 720 MiB (70% of 1024 MiB), rising 331 MiB/h — projected to \
             hit the limit in 55m"
        );
        assert!(matches!(found[0].subject, Subject::Task { .. }));
    }

    #[test]
    fn severity_follows_the_eta() {
        // 50 MiB/h at 700 MiB: 324 MiB left → 6.5 h: quiet; at 750: 5.5 h: warning.
        let per_min = 50.0 / 60.0;
        let at = |end: f64| fleet(end - 59.0 * per_min, end, 60);
        assert!(check(&at(700.0).input()).is_empty());
        assert_eq!(check(&at(750.0).input())[0].severity, Severity::Warning);
        assert_eq!(check(&at(980.0).input())[0].severity, Severity::Critical);
    }

    #[test]
    fn needs_thirty_minutes_a_good_fit_and_sixty_percent() {
        assert!(check(&fleet(560.0, 720.0, 29).input()).is_empty(), "29 min");
        assert!(
            check(&fleet(400.0, 600.0, 40).input()).is_empty(),
            "59 % of the limit"
        );
        assert_eq!(check(&fleet(400.0, 620.0, 40).input()).len(), 1);
        assert!(
            check(&fleet(720.0, 560.0, 40).input()).is_empty(),
            "falling"
        );
        let mut f = fleet(600.0, 700.0, 40);
        let t = f.tasks[0].clone();
        let zigzag: Vec<f64> = (0..40)
            .map(|k| 650.0 + if k % 2 == 0 { 60.0 } else { -60.0 } + k as f64)
            .collect();
        f.series(cat::task_memory(&t), &zigzag);
        assert!(check(&f.input()).is_empty(), "poor fit");
    }

    #[test]
    fn ninety_percent_for_fifteen_minutes_is_critical_without_a_trend() {
        let mut f = fleet(930.0, 930.0, 15);
        assert_eq!(check(&f.input())[0].severity, Severity::Critical);
        assert!(
            check(&f.input())[0]
                .message
                .contains("at ≥90% of the limit for 15m")
        );
        f = fleet(930.0, 930.0, 13);
        assert!(check(&f.input()).is_empty(), "13 minutes");
    }

    #[test]
    fn the_limit_comes_from_the_containers_when_the_task_has_none() {
        let mut f = fleet(560.0, 720.0, 30);
        f.tasks[0].memory = None;
        f.tasks[0].containers = vec![
            Container {
                name: "app".into(),
                memory: Some(768),
                ..Container::default()
            },
            Container {
                name: "sidecar".into(),
                memory: Some(256),
                ..Container::default()
            },
        ];
        assert!(check(&f.input())[0].message.contains("of 1024 MiB"));
        f.tasks[0].containers[1].memory = None;
        assert!(check(&f.input()).is_empty(), "no hard limit known");
    }

    #[test]
    fn oom_stops_add_the_sawtooth_tag() {
        let mut f = fleet(560.0, 720.0, 30);
        for n in 2..=3 {
            let mut t = task("web", n, 7200);
            t.last_status = "STOPPED".into();
            t.stop_code = "EssentialContainerExited".into();
            t.stopped_at = Some(ago(1800 * i64::from(n)));
            t.containers = vec![Container {
                name: "app".into(),
                exit_code: Some(137),
                reason: "OutOfMemoryError: Container killed due to memory usage".into(),
                ..Container::default()
            }];
            f.stopped.push(t);
        }
        assert!(
            check(&f.input())[0]
                .message
                .ends_with("; sawtooth: 2 restarts")
        );
    }

    #[test]
    fn falls_back_to_the_service_maximum_without_per_task_series() {
        let mut f = facts();
        let s = service("web", 2);
        // 15 points an hour, ending at 70: 2 h to 100.
        let v: Vec<f64> = (0..40).map(|k| 60.25 + k as f64 * 0.25).collect();
        f.series(cat::service_memory_max(&s), &v);
        f.tasks = vec![task("web", 1, 7200)];
        f.services = vec![s];
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        assert!(matches!(found[0].subject, Subject::Service { .. }));
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(
            found[0].message,
            "web: memory 70% of its reservation (highest task), rising 15 points/h — \
             projected to hit the limit in 2.0h"
        );
    }
}
