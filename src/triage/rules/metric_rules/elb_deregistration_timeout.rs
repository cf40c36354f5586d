//! elb-deregistration-timeout: old targets drain for the whole deregistration delay (they
//! still had requests open when the load balancer cut them off), old tasks hang in
//! DEACTIVATING/STOPPING, or ECS says so in an event.
//!
//! The delay itself (DescribeTargetGroupAttributes `deregistration_delay.timeout_seconds`) is
//! not polled: the AWS default of 300 s is assumed, and the message says so. Draining time is
//! measured across the console's target-health polls, each end taken halfway between the
//! polls that bracket it (so a 30 s poll interval still measures to about ±15 s).

use chrono::TimeDelta;
use std::sync::LazyLock;

use regex::Regex;

use super::util::{duration, fresh_polls, target_group_name, target_groups};
use crate::model::{Evidence, Observation, Remedy, Service, Severity, TargetGroupHealth, Time};
use crate::sanitize::clean;
use crate::triage::Input;
use crate::triage::input::service_subject;
use crate::triage::rules::about::{About, Read, Value, WARNING, limit};

pub const ID: &str = "elb-deregistration-timeout";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "Old targets drain for the whole deregistration delay, or old tasks hang in DEACTIVATING/STOPPING.",
    severities: WARNING,
    reads: &[
        Read::Api("ELBv2 DescribeTargetHealth: draining targets"),
        Read::Api("ECS DescribeTasks: lastStatus, stopTimeout"),
        Read::Api("ECS DescribeServices: events"),
    ],
    limits: &[
        limit(
            "assumed deregistration delay",
            Value::Number(DELAY_SECS as f64, "s"),
        ),
        limit(
            "targets draining for ≥",
            Value::Number(FULL_DRAIN_SECS as f64, "s"),
        ),
        limit("draining targets ≥", Value::Count(MIN_TARGETS)),
        limit("within", Value::Span(RECENT)),
        limit(
            "stuck: past the stop timeout by",
            Value::Number(STUCK_MARGIN_SECS as f64, "s"),
        ),
    ],
};

/// ECS's words for a drain cut off by the delay.
static DEREGISTRATION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)deregistration (timeout|delay)").expect("static regex"));

/// The AWS default deregistration delay, assumed (the attribute is not polled).
pub const DELAY_SECS: i64 = 300;
/// A drain this long used the whole delay (95 %).
const FULL_DRAIN_SECS: i64 = DELAY_SECS * 95 / 100;
const MIN_TARGETS: usize = 2;
/// Drains that ended longer ago than this no longer count.
const RECENT: TimeDelta = TimeDelta::minutes(15);
/// ECS's default `stopTimeout` and our margin on top of delay + stopTimeout.
const DEFAULT_STOP_TIMEOUT: u32 = 30;
const STUCK_MARGIN_SECS: i64 = 60;

/// One target's run of `draining` polls.
struct Drain {
    target: String,
    secs: i64,
    ended: Option<Time>,
}

fn mid(a: Time, b: Time) -> Time {
    a + (b - a) / 2
}

/// Every run of `draining` in the polls, with its estimated length.
fn drains(polls: &[TargetGroupHealth]) -> Vec<Drain> {
    let mut out = Vec::new();
    let draining = |p: &TargetGroupHealth, id: &str, port: Option<i32>| {
        p.targets
            .iter()
            .any(|t| t.id == id && t.port == port && t.state == "draining")
    };
    for (i, poll) in polls.iter().enumerate() {
        let Some(at) = poll.fetched_at else { continue };
        for t in poll.targets.iter().filter(|t| t.state == "draining") {
            // Only where a run starts.
            if i > 0 && draining(&polls[i - 1], &t.id, t.port) {
                continue;
            }
            let start = match i.checked_sub(1).and_then(|j| polls[j].fetched_at) {
                Some(before) => mid(before, at),
                None => at,
            };
            let mut last = at;
            let mut ended = None;
            for next in &polls[i + 1..] {
                let Some(next_at) = next.fetched_at else {
                    continue;
                };
                if draining(next, &t.id, t.port) {
                    last = next_at;
                } else {
                    ended = Some(mid(last, next_at));
                    break;
                }
            }
            let end = ended.unwrap_or(last);
            out.push(Drain {
                target: clean(&t.id).into_owned(),
                secs: (end - start).num_seconds(),
                ended,
            });
        }
    }
    out
}

fn rolling_out(s: &Service) -> Option<&str> {
    s.deployments
        .iter()
        .find(|d| {
            d.status == "PRIMARY" && (d.rollout_state == "IN_PROGRESS" || s.deployments.len() > 1)
        })
        .map(|d| d.id.as_str())
}

pub fn check(input: &Input) -> Vec<Observation> {
    input
        .services
        .iter()
        .filter_map(|s| check_service(input, s))
        .collect()
}

fn check_service(input: &Input, s: &Service) -> Option<Observation> {
    let mut evidence = Vec::new();
    let mut parts = Vec::new();

    let mut full = 0;
    // A drain still under way (or an old task still stopping) is what a rollout waits on.
    let mut holding = false;
    for tg in target_groups(s) {
        let polls = fresh_polls(input, tg);
        for d in drains(polls) {
            let recent = d.ended.is_none_or(|at| input.now - at <= RECENT);
            if recent && d.secs >= FULL_DRAIN_SECS {
                full += 1;
                holding |= d.ended.is_none();
                let how = match d.ended {
                    Some(at) => format!("ended {} ago", duration(input.now - at)),
                    None => "still draining".into(),
                };
                evidence.push(Evidence::at(
                    input.now,
                    format!(
                        "{}: target {} draining ~{}s (Target.DeregistrationInProgress), {how}",
                        target_group_name(tg, polls),
                        d.target,
                        d.secs
                    ),
                ));
            }
        }
    }
    if full >= MIN_TARGETS {
        parts.push(format!(
            "{full} targets drained for the full {DELAY_SECS}s delay (assumed default; requests \
             still open when cut off)"
        ));
    } else {
        evidence.clear();
    }

    // Old tasks that outlive delay + stopTimeout + margin while stopping.
    let mut stuck: Vec<(String, TimeDelta)> = Vec::new();
    for t in input.tasks_of(s) {
        if !matches!(t.last_status.as_str(), "DEACTIVATING" | "STOPPING") {
            continue;
        }
        let Some(since) = t.stopping_at else { continue };
        let stop_timeout = input
            .task_definition(&t.task_definition.arn)
            .and_then(|d| d.containers.iter().filter_map(|c| c.stop_timeout).max())
            .unwrap_or(DEFAULT_STOP_TIMEOUT);
        let limit = DELAY_SECS + i64::from(stop_timeout) + STUCK_MARGIN_SECS;
        let age = input.now - since;
        if age.num_seconds() > limit {
            evidence.push(Evidence::at(
                since,
                format!(
                    "task {} {} for {} (limit {limit}s = delay {DELAY_SECS}s + stopTimeout \
                     {stop_timeout}s + {STUCK_MARGIN_SECS}s)",
                    t.short_id(),
                    t.last_status,
                    duration(age)
                ),
            ));
            stuck.push((t.last_status.to_string(), age));
        }
    }
    holding |= !stuck.is_empty();
    if let Some((state, age)) = stuck.iter().max_by_key(|(_, age)| *age) {
        parts.push(format!(
            "{} old task(s) {state} for {}",
            stuck.len(),
            duration(*age)
        ));
    }

    // ECS saying it in an event or a stop reason.
    let since = input.now - RECENT;
    let said: Vec<Evidence> = s
        .events
        .iter()
        .filter(|e| e.at >= since && DEREGISTRATION.is_match(&e.message))
        .map(|e| Evidence::at(e.at, clean(&e.message).into_owned()))
        .chain(
            input
                .stops_of(s, since)
                .into_iter()
                .filter(|t| DEREGISTRATION.is_match(&t.stopped_reason))
                .map(|t| {
                    Evidence::at(
                        t.stopped_at.or(t.stopping_at).unwrap_or(input.now),
                        format!("task {}: {}", t.short_id(), clean(&t.stopped_reason)),
                    )
                }),
        )
        .collect();
    if !said.is_empty() {
        parts.push("ECS reports a deregistration timeout".into());
        evidence.extend(said);
    }

    if parts.is_empty() {
        return None;
    }
    let waits = match rolling_out(s) {
        Some(id) if holding => format!("; deployment {} waits on them", clean(id)),
        Some(id) => format!("; deployment {} is still rolling out", clean(id)),
        None => String::new(),
    };
    let mut o = Observation::new(
        ID,
        Severity::Warning,
        service_subject(s),
        format!("{}: {}{waits}", s.name, parts.join("; ")),
    )
    .next(
        "Find out why requests or connections outlive the delay (long-running requests, \
         keep-alive, no graceful shutdown on SIGTERM). Raise the delay (e.g. 300→600 s) and add \
         graceful shutdown (Spring Boot server.shutdown=graceful, with a stopTimeout long enough \
         for it). Size the delay just above the longest legitimate request: it adds to every \
         deploy.",
    )
    .remedies(&[Remedy::TargetHealth, Remedy::Events, Remedy::ShowTask]);
    for e in evidence {
        o = o.evidence(e);
    }
    Some(o)
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::model::{
        ContainerDefinition, Deployment, ServiceEvent, TargetHealth, TaskDefinition,
    };
    use crate::triage::Facts;
    use std::sync::Arc;

    fn draining(n: u32) -> TargetHealth {
        target(
            n,
            "draining",
            "Target.DeregistrationInProgress",
            "Target deregistration is in progress",
        )
    }

    /// Targets 1 and 2 drain for `drain` seconds from `began` seconds ago, polled every 30 s
    /// (polls at 15 s past each half minute, so the drain edges fall between polls).
    fn fleet(began: i64, drain: i64) -> Facts {
        let mut f = facts();
        f.services = vec![service("web", 2)];
        let polls = (0..=began / 30 + 2)
            .rev()
            .map(|k| {
                let secs_ago = k * 30 + 15;
                let elapsed = began - secs_ago;
                let mut targets = vec![healthy(3), healthy(4)];
                if elapsed < 0 {
                    targets.extend([healthy(1), healthy(2)]);
                } else if elapsed < drain {
                    targets.extend([draining(1), draining(2)]);
                }
                poll(secs_ago, targets)
            })
            .collect();
        f.target_health.insert(TG.into(), polls);
        f
    }

    #[test]
    fn two_targets_drained_for_the_full_delay_fire() {
        let found = check(&fleet(600, 300).input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(
            found[0].message,
            "web: 2 targets drained for the full 300s delay (assumed default; requests still \
             open when cut off)"
        );
        assert_eq!(found[0].evidence.len(), 2);
    }

    #[test]
    fn drains_that_ended_early_are_quiet() {
        // 270 s is 90 % of the delay: deregistration finished by itself.
        assert!(check(&fleet(600, 270).input()).is_empty());
        assert_eq!(check(&fleet(600, 300).input()).len(), 1);
    }

    #[test]
    fn a_drain_still_running_counts_once_it_reaches_95_percent() {
        // Began 330 s ago and still draining (the delay is longer than we assume).
        assert_eq!(check(&fleet(330, 10_000).input()).len(), 1);
        assert!(check(&fleet(240, 10_000).input()).is_empty());
    }

    #[test]
    fn one_target_or_an_old_drain_is_quiet() {
        let mut f = fleet(600, 300);
        for p in f.target_health.get_mut(TG).unwrap() {
            p.targets.retain(|t| t.id != ip(2));
        }
        assert!(check(&f.input()).is_empty(), "one target");
        // Ended 20 min ago.
        assert!(check(&fleet(1500, 300).input()).is_empty());
    }

    #[test]
    fn old_tasks_stuck_stopping_past_delay_and_stop_timeout_fire() {
        let mut f = facts();
        let mut s = service("web", 2);
        s.deployments = vec![
            Deployment {
                id: "ecs-svc/9".into(),
                status: "PRIMARY".into(),
                rollout_state: "IN_PROGRESS".into(),
                ..Deployment::default()
            },
            Deployment {
                id: "ecs-svc/8".into(),
                status: "ACTIVE".into(),
                ..Deployment::default()
            },
        ];
        f.services = vec![s];
        let mut t = task("web", 1, 3600);
        t.last_status = "DEACTIVATING".into();
        t.desired_status = "STOPPED".into();
        // Limit: 300 + stopTimeout 90 + 60 = 450 s.
        t.stopping_at = Some(ago(450));
        f.task_definitions.insert(
            t.task_definition.arn.to_string(),
            Arc::new(TaskDefinition {
                containers: vec![ContainerDefinition {
                    name: "app".into(),
                    stop_timeout: Some(90),
                    ..ContainerDefinition::default()
                }],
                ..TaskDefinition::default()
            }),
        );
        f.tasks = vec![t];
        assert!(check(&f.input()).is_empty(), "at the limit");
        f.tasks[0].stopping_at = Some(ago(451));
        let found = check(&f.input());
        assert_eq!(
            found[0].message,
            "web: 1 old task(s) DEACTIVATING for 7m; deployment ecs-svc/9 waits on them"
        );
    }

    #[test]
    fn an_ecs_event_about_the_timeout_fires() {
        let mut f = facts();
        let mut s = service("web", 2);
        s.events = vec![ServiceEvent {
            id: "e1".into(),
            at: ago(60),
            message: "(service web) deregistration delay expired for 2 targets".into(),
        }];
        f.services = vec![s.clone()];
        let found = check(&f.input());
        assert!(
            found[0]
                .message
                .contains("ECS reports a deregistration timeout")
        );
        s.events[0].at = ago(16 * 60);
        f.services = vec![s];
        assert!(check(&f.input()).is_empty(), "too old");
    }
}
