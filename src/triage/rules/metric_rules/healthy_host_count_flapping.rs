//! healthy-host-count-flapping: targets swing between healthy and unhealthy (≥3 transitions
//! across targets in 15 minutes of target-health polls), or `UnHealthyHostCount` stays ≥1
//! for 5 minutes. Critical when no target is healthy (HealthyHostCount 0 in the latest
//! minute while some target is unhealthy).
//!
//! Host counts are polled as 1-minute Averages (the row's series), not Minimum/Maximum: an
//! Average of 0 means no healthy target for the whole minute. The Container Insights
//! `RunningTaskCount` oscillation signal is not polled.

use chrono::TimeDelta;

use super::util::{
    fresh_polls, held_points, load_balancer, num, target_group_name, target_groups, values,
};
use crate::model::{
    Evidence, Observation, Remedy, Service, Severity, TargetGroupHealth, metric_catalog as cat,
};
use crate::triage::Input;
use crate::triage::input::target_group_subject;
use crate::triage::rules::about::{About, Read, Value, WARNING_CRITICAL, limit};

pub const ID: &str = "healthy-host-count-flapping";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "Targets swing between healthy and unhealthy, or some stay unhealthy; critical when none is healthy.",
    severities: WARNING_CRITICAL,
    reads: &[
        Read::Api("ELBv2 DescribeTargetHealth: transitions between polls"),
        Read::Metric(
            "AWS/ApplicationELB HealthyHostCount and UnHealthyHostCount Average, per target group",
        ),
    ],
    limits: &[
        limit("transitions ≥", Value::Count(MIN_TRANSITIONS)),
        limit("within", Value::Span(WINDOW)),
        limit("or unhealthy ≥ 1 for", Value::Minutes(UNHEALTHY_MINUTES)),
    ],
};

const WINDOW: TimeDelta = TimeDelta::minutes(15);
const MIN_TRANSITIONS: usize = 3;
const UNHEALTHY_MINUTES: i64 = 5;

/// healthy↔unhealthy changes per target between consecutive polls.
fn transitions(polls: &[&TargetGroupHealth]) -> usize {
    polls
        .windows(2)
        .map(|w| {
            w[1].targets
                .iter()
                .filter(|t| {
                    w[0].targets.iter().any(|b| {
                        b.id == t.id
                            && b.port == t.port
                            && matches!(
                                (b.state.as_str(), t.state.as_str()),
                                ("healthy", "unhealthy") | ("unhealthy", "healthy")
                            )
                    })
                })
                .count()
        })
        .sum()
}

pub fn check(input: &Input) -> Vec<Observation> {
    let mut out = Vec::new();
    for &s in &input.services {
        for tg in target_groups(s) {
            if let Some(o) = check_group(input, s, tg) {
                out.push(o);
            }
        }
    }
    out
}

fn check_group(input: &Input, s: &Service, tg: &str) -> Option<Observation> {
    let since = input.now - WINDOW;
    let polls: Vec<&TargetGroupHealth> = fresh_polls(input, tg)
        .iter()
        .filter(|p| p.fetched_at.is_some_and(|at| at >= since))
        .collect();
    let swings = transitions(&polls);
    let latest = polls.last();
    let count = |state: &str| latest.map(|p| p.targets.iter().filter(|t| t.state == state).count());

    let lb = load_balancer(s, tg);
    let healthy_metric = lb.and_then(|lb| cat::target_group_healthy(tg, lb));
    let unhealthy_metric = lb.and_then(|lb| cat::target_group_unhealthy(tg, lb));
    let healthy_now = healthy_metric.as_ref().and_then(|m| input.latest(m));
    let unhealthy_now = unhealthy_metric.as_ref().and_then(|m| input.latest(m));
    let unhealthy_held = unhealthy_metric.as_ref().is_some_and(|m| {
        held_points(
            &input.window(m, UNHEALTHY_MINUTES),
            input.now,
            UNHEALTHY_MINUTES,
            |v| v >= 1.0,
        )
    });
    let some_unhealthy =
        unhealthy_now.is_some_and(|v| v >= 1.0) || count("unhealthy").is_some_and(|n| n > 0);
    let none_healthy = healthy_now == Some(0.0) && some_unhealthy;

    if swings < MIN_TRANSITIONS && !unhealthy_held && !none_healthy {
        return None;
    }
    let range = healthy_metric
        .as_ref()
        .map(|m| values(&input.window(m, 15)))
        .filter(|v| !v.is_empty());
    let (min, max) = match &range {
        Some(v) => (
            v.iter().copied().fold(f64::MAX, f64::min),
            v.iter().copied().fold(f64::MIN, f64::max),
        ),
        None => {
            let per_poll: Vec<f64> = polls
                .iter()
                .map(|p| p.targets.iter().filter(|t| t.state == "healthy").count() as f64)
                .collect();
            (
                per_poll.iter().copied().fold(f64::MAX, f64::min),
                per_poll.iter().copied().fold(f64::MIN, f64::max),
            )
        }
    };
    // Targets are counted whole: the latest poll's counts, or else the minute's averages said
    // as averages ("0.3 unhealthy" is no count of targets).
    let now_healthy = count("healthy")
        .map(|n| n.to_string())
        .or_else(|| healthy_now.map(|v| format!("avg {}", num(v))))
        .unwrap_or_else(|| "?".into());
    let now_unhealthy = count("unhealthy")
        .map(|n| n.to_string())
        .or_else(|| unhealthy_now.map(|v| format!("avg {}", num(v))))
        .unwrap_or_else(|| "?".into());
    let swing = if min <= max {
        format!("{}–{}", num(min), num(max))
    } else {
        "?".to_string()
    };
    let severity = if none_healthy {
        Severity::Critical
    } else {
        Severity::Warning
    };
    let mut o = Observation::new(ID, severity, target_group_subject(s, tg), {
        let name = target_group_name(tg, input.target_polls(tg));
        // Without transitions there is no swing to speak of: say what holds instead.
        let what = match (swings, none_healthy) {
            (0, true) => "no healthy target for over a minute".to_string(),
            (0, false) => "unhealthy targets for 5 minutes".to_string(),
            _ => format!("healthy targets swinging {swing} ({swings} transitions in 15m)"),
        };
        format!("{name}: {what}; now {now_healthy} healthy / {now_unhealthy} unhealthy")
    })
    .next(
        "Flapping under load usually means starved tasks (CPU, GC pauses) missing health \
         checks: check service-cpu-saturated and log-jvm-memory-pressure before loosening the \
         health check thresholds.",
    )
    .remedies(&[Remedy::TargetHealth, Remedy::Chart, Remedy::Events]);
    if unhealthy_held {
        o = o.evidence(Evidence::at(
            input.now,
            format!("UnHealthyHostCount ≥ 1 for {UNHEALTHY_MINUTES} min"),
        ));
    }
    if none_healthy {
        o = o.evidence(Evidence::at(
            input.now,
            "HealthyHostCount 0 in the latest minute",
        ));
    }
    if swings > 0 {
        o = o.evidence(Evidence::at(
            input.now,
            format!(
                "{swings} healthy↔unhealthy transitions over {} polls",
                polls.len()
            ),
        ));
    }
    Some(o)
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::model::TargetHealth;
    use crate::triage::Facts;

    fn sick(n: u32) -> TargetHealth {
        target(n, "unhealthy", "Target.Timeout", "Request timed out")
    }

    fn fleet(polls: Vec<Vec<TargetHealth>>) -> Facts {
        let mut f = facts();
        f.services = vec![service("web", 4)];
        let n = polls.len() as i64;
        f.target_health.insert(
            TG.into(),
            polls
                .into_iter()
                .enumerate()
                .map(|(k, t)| poll((n - 1 - k as i64) * 60, t))
                .collect(),
        );
        f
    }

    #[test]
    fn three_transitions_in_fifteen_minutes_fire() {
        let f = fleet(vec![
            vec![healthy(1), healthy(2)],
            vec![sick(1), healthy(2)],
            vec![healthy(1), sick(2)],
        ]);
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(
            found[0].message,
            "tg-web: healthy targets swinging 1–2 (3 transitions in 15m); now 1 healthy / 1 \
             unhealthy"
        );
    }

    #[test]
    fn two_transitions_or_old_ones_are_quiet() {
        let f = fleet(vec![
            vec![healthy(1), healthy(2)],
            vec![sick(1), healthy(2)],
            vec![healthy(1), healthy(2)],
        ]);
        assert!(check(&f.input()).is_empty());
        // Three transitions, the first 16 minutes ago (polls a minute apart: 17 polls).
        let mut polls = vec![
            vec![healthy(1)],
            vec![sick(1)],
            vec![healthy(1)],
            vec![sick(1)],
        ];
        polls.extend((0..14).map(|_| vec![sick(1)]));
        assert!(check(&fleet(polls).input()).is_empty());
    }

    #[test]
    fn unhealthy_hosts_for_five_minutes_fire() {
        let mut f = fleet(vec![vec![healthy(1), sick(2)]]);
        let unhealthy = cat::target_group_unhealthy(TG, LB).unwrap();
        f.series(unhealthy.clone(), &[0.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
        f.series(cat::target_group_healthy(TG, LB).unwrap(), &flat(3.0, 6));
        let found = check(&f.input());
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(
            found[0]
                .message
                .starts_with("tg-web: unhealthy targets for 5 minutes; now"),
            "{}",
            found[0].message
        );
        f.series(unhealthy, &[0.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
        assert!(check(&f.input()).is_empty(), "3 minutes");
    }

    #[test]
    fn no_healthy_target_is_critical() {
        let mut f = fleet(vec![(1..=4).map(sick).collect()]);
        f.series(cat::target_group_healthy(TG, LB).unwrap(), &[4.0, 0.0]);
        f.series(cat::target_group_unhealthy(TG, LB).unwrap(), &[0.0, 4.0]);
        let found = check(&f.input());
        assert_eq!(found[0].severity, Severity::Critical);
        assert!(found[0].message.ends_with("now 0 healthy / 4 unhealthy"));
        assert!(
            found[0]
                .message
                .contains("no healthy target for over a minute"),
            "{}",
            found[0].message
        );
        // No targets at all (scaled to zero, or still initial): not this rule's business.
        let mut f = fleet(vec![vec![]]);
        f.series(cat::target_group_healthy(TG, LB).unwrap(), &[0.0, 0.0]);
        assert!(check(&f.input()).is_empty());
    }
}
