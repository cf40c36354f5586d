//! alb-5xx-spike: (target 5xx + load-balancer 5xx) / RequestCount ≥ 2 % with ≥ 10 errors a
//! minute, for 3 consecutive minutes; critical at ≥ 10 %.
//!
//! Target 5xx and RequestCount are per target group; the load balancer's own 5xx (and its
//! 502/503/504 breakdown) are published per load balancer only. When the load balancer fronts
//! several of the console's target groups, its errors are shared out by each group's share of
//! the load balancer's requests. A minute with no 5xx datapoint had no errors (ELB publishes
//! counts only when non-zero); a minute without requests or errors has no data.

use std::collections::BTreeMap;

use super::util::{duration, held_points, load_balancer_name, num, run_start, target_group_name};
use crate::model::{
    Evidence, MetricId, Observation, Point, Remedy, Service, Severity, Time, metric_catalog as cat,
};
use crate::triage::Input;
use crate::triage::input::target_group_subject;
use crate::triage::rules::about::{About, Read, Value, WARNING_CRITICAL, limit};

pub const ID: &str = "alb-5xx-spike";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "The share of 5xx answers (targets' and the load balancer's own) spikes.",
    severities: WARNING_CRITICAL,
    reads: &[
        Read::Metric(
            "AWS/ApplicationELB HTTPCode_Target_5XX_Count and RequestCount Sum, per target group",
        ),
        Read::Metric(
            "AWS/ApplicationELB HTTPCode_ELB_5XX_Count (and 502/503/504) Sum, per load balancer",
        ),
    ],
    limits: &[
        limit("5xx rate ≥", Value::Share(MIN_RATE)),
        limit("errors a minute ≥", Value::Number(MIN_ERRORS, "")),
        limit("for", Value::Minutes(WINDOW)),
        limit("critical at ≥", Value::Share(CRITICAL_RATE)),
    ],
};

const MIN_RATE: f64 = 0.02;
const CRITICAL_RATE: f64 = 0.10;
const MIN_ERRORS: f64 = 10.0;
const WINDOW: i64 = 3;
/// How far back the run (and the breakdown) is read.
const LOOKBACK: i64 = 60;

/// Per-minute counts of one target group.
#[derive(Default, Clone, Copy)]
struct Minute {
    requests: Option<f64>,
    target: f64,
    elb: f64,
    e502: f64,
    e503: f64,
    e504: f64,
    conn: f64,
    any: bool,
}

impl Minute {
    fn errors(&self) -> f64 {
        self.target + self.elb
    }

    /// The error rate, counting only minutes with enough errors to matter.
    fn rate(&self) -> f64 {
        let errors = self.errors();
        if errors < MIN_ERRORS {
            return 0.0;
        }
        errors / self.requests.unwrap_or(0.0).max(errors)
    }
}

/// A spiking target group.
struct Spike {
    tg: String,
    lb: String,
    rate: f64,
    since: Option<Time>,
    totals: Minute,
    shared: bool,
}

fn series(input: &Input, metric: Option<MetricId>) -> Vec<Point> {
    metric.map_or(Vec::new(), |m| input.window(&m, LOOKBACK))
}

/// How many of the console's target groups sit behind each load balancer.
fn groups_per_lb<'a>(input: &Input<'a>) -> BTreeMap<&'a str, usize> {
    let mut out: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in &input.services {
        for (tg, lb) in &s.target_group_lbs {
            let tgs = out.entry(lb.as_str()).or_default();
            if !tgs.contains(&tg.as_str()) {
                tgs.push(tg);
            }
        }
    }
    out.into_iter().map(|(lb, tgs)| (lb, tgs.len())).collect()
}

fn spikes(input: &Input, s: &Service, per_lb: &BTreeMap<&str, usize>) -> Vec<Spike> {
    let mut out = Vec::new();
    for (tg, lb) in &s.target_group_lbs {
        let Some(requests) = cat::target_group_requests(tg, lb) else {
            continue; // network load balancers have no HTTP codes
        };
        // A minute without a RequestCount point had no requests — but only where the series
        // has been read: errors that arrived before it would read as 100 % failing.
        let read = input
            .series(&requests)
            .is_some_and(|h| h.covers(input.now - chrono::TimeDelta::minutes(WINDOW)));
        if !read {
            continue;
        }
        let shared = per_lb.get(lb.as_str()).copied().unwrap_or(1) > 1;
        let mut minutes: BTreeMap<Time, Minute> = BTreeMap::new();
        let mut put = |points: Vec<Point>, f: &dyn Fn(&mut Minute, f64)| {
            for p in points {
                let m = minutes.entry(p.at).or_default();
                m.any = true;
                f(m, p.value);
            }
        };
        put(input.window(&requests, LOOKBACK), &|m, v| {
            m.requests = Some(v)
        });
        put(series(input, cat::target_group_5xx(tg, lb)), &|m, v| {
            m.target = v
        });
        put(
            series(input, cat::target_group_connection_errors(tg, lb)),
            &|m, v| m.conn = v,
        );
        put(series(input, cat::load_balancer_5xx(lb, None)), &|m, v| {
            m.elb = v
        });
        put(
            series(input, cat::load_balancer_5xx(lb, Some(502))),
            &|m, v| m.e502 = v,
        );
        put(
            series(input, cat::load_balancer_5xx(lb, Some(503))),
            &|m, v| m.e503 = v,
        );
        put(
            series(input, cat::load_balancer_5xx(lb, Some(504))),
            &|m, v| m.e504 = v,
        );
        if shared {
            // The group's share of the load balancer's requests takes that share of its errors.
            let lb_requests: BTreeMap<Time, f64> = series(input, cat::load_balancer_requests(lb))
                .into_iter()
                .map(|p| (p.at, p.value))
                .collect();
            for (at, m) in &mut minutes {
                let share = match (m.requests, lb_requests.get(at)) {
                    (Some(r), Some(&all)) if all > 0.0 => (r / all).min(1.0),
                    _ => 0.0,
                };
                m.elb *= share;
                m.e502 *= share;
                m.e503 *= share;
                m.e504 *= share;
            }
        }
        let rates: Vec<Point> = minutes
            .iter()
            .filter(|(_, m)| m.any)
            .map(|(&at, m)| Point {
                at,
                value: m.rate(),
            })
            .collect();
        if !held_points(&rates, input.now, WINDOW, |r| r >= MIN_RATE) {
            continue;
        }
        let since = run_start(&rates, input.now, |r| r >= MIN_RATE);
        let from = since.unwrap_or(input.now);
        let mut totals = Minute::default();
        for m in minutes.range(from..).map(|(_, m)| m) {
            totals.requests = Some(totals.requests.unwrap_or(0.0) + m.requests.unwrap_or(0.0));
            totals.target += m.target;
            totals.elb += m.elb;
            totals.e502 += m.e502;
            totals.e503 += m.e503;
            totals.e504 += m.e504;
            totals.conn += m.conn;
        }
        let recent = input.now - chrono::TimeDelta::minutes(WINDOW);
        let (errors, requests) = minutes.range(recent..).fold((0.0, 0.0), |(e, r), (_, m)| {
            (e + m.errors(), r + m.requests.unwrap_or(0.0))
        });
        out.push(Spike {
            tg: tg.clone(),
            lb: lb.clone(),
            rate: errors / requests.max(errors).max(1.0),
            since,
            totals,
            shared,
        });
    }
    out
}

/// Whether any of the service's target groups spikes now (other rules escalate on it).
pub fn spiking(input: &Input, s: &Service) -> bool {
    !spikes(input, s, &groups_per_lb(input)).is_empty()
}

pub fn check(input: &Input) -> Vec<Observation> {
    let per_lb = groups_per_lb(input);
    let mut out = Vec::new();
    for &s in &input.services {
        for spike in spikes(input, s, &per_lb) {
            let severity = if spike.rate >= CRITICAL_RATE {
                Severity::Critical
            } else {
                Severity::Warning
            };
            let t = &spike.totals;
            let window = spike
                .since
                .map_or(format!("{WINDOW}m"), |at| duration(input.now - at));
            let conn = if t.conn > 0.0 {
                format!(", target connection errors {}", num(t.conn))
            } else {
                String::new()
            };
            let message = format!(
                "{}/{}: {:.1}% 5xx over {window} — target {}, ELB 502 {} / 503 {} / 504 {}{conn}",
                load_balancer_name(&spike.lb),
                target_group_name(&spike.tg, input.target_polls(&spike.tg)),
                spike.rate * 100.0,
                num(t.target),
                num(t.e502),
                num(t.e503),
                num(t.e504),
            );
            let mut o = Observation::new(ID, severity, target_group_subject(s, &spike.tg), message)
                .evidence(Evidence::at(
                    input.now,
                    format!(
                        "{} requests, {} target 5xx, {} ELB 5xx since the run began",
                        num(t.requests.unwrap_or(0.0)),
                        num(t.target),
                        num(t.elb)
                    ),
                ))
                .next(next(t))
                .remedies(&[Remedy::OpenLogs, Remedy::TargetHealth, Remedy::Chart]);
            if spike.shared {
                o = o.evidence(Evidence::text(
                    "the load balancer fronts other target groups too: its own 5xx are shared \
                     out by request share",
                ));
            }
            if let Some(at) = spike.since {
                o = o.since(at);
            }
            out.push(o);
        }
    }
    out
}

/// The catalog's reading of each kind of 5xx, worst first.
fn next(t: &Minute) -> String {
    let mut kinds = [
        (
            t.target,
            "Target 5xx: unhandled application exceptions; open the logs filtered on ERROR|Exception.",
        ),
        (
            t.e502,
            "ELB 502: the target reset or closed the connection, often a crash or an OOM kill (see task-oom-killed).",
        ),
        (
            t.e503,
            "ELB 503: no registered targets (e.g. every task being replaced); show target health. When every target is unhealthy the ALB fails open, so that shows as 502/504, not 503.",
        ),
        (
            t.e504,
            "ELB 504: the target answered after the idle timeout (a hung dependency call; see target-response-time-spike and tighten client timeouts) or the LB could not connect at all (security group or NACL; TargetConnectionErrorCount rises).",
        ),
    ];
    kinds.sort_by(|a, b| b.0.total_cmp(&a.0));
    kinds
        .iter()
        .filter(|(n, _)| *n > 0.0)
        .map(|(_, text)| *text)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::triage::Facts;

    /// `web` serving `rpm` requests a minute, with `t5xx` target and `e504` ELB 504 errors a
    /// minute for the last `minutes` minutes (none before).
    fn fleet(rpm: f64, t5xx: f64, e504: f64, minutes: usize) -> Facts {
        let mut f = facts();
        f.services = vec![service("web", 4)];
        let spike = |v: f64| {
            let mut s = flat(f64::NAN, 20);
            s.extend(flat(v, minutes));
            s.iter()
                .map(|x| if *x == 0.0 { f64::NAN } else { *x })
                .collect::<Vec<_>>()
        };
        f.series(
            cat::target_group_requests(TG, LB).unwrap(),
            &flat(rpm, 20 + minutes),
        );
        f.series(cat::target_group_5xx(TG, LB).unwrap(), &spike(t5xx));
        f.series(cat::load_balancer_5xx(LB, None).unwrap(), &spike(e504));
        f.series(cat::load_balancer_5xx(LB, Some(504)).unwrap(), &spike(e504));
        f
    }

    #[test]
    fn fires_after_three_minutes_with_the_breakdown() {
        let found = check(&fleet(1000.0, 20.0, 10.0, 3).input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(
            found[0].message,
            "edge/tg-web: 3.0% 5xx over 3m — target 60, ELB 502 0 / 503 0 / 504 30"
        );
        assert!(found[0].next.starts_with("Target 5xx"), "{}", found[0].next);
    }

    #[test]
    fn rate_and_count_edges() {
        // 2 % of 1000 = 20 errors: fires; 19: quiet.
        assert_eq!(check(&fleet(1000.0, 20.0, 0.0, 3).input()).len(), 1);
        assert!(check(&fleet(1000.0, 19.0, 0.0, 3).input()).is_empty());
        // 50 % but only 9 errors a minute.
        assert!(check(&fleet(18.0, 9.0, 0.0, 3).input()).is_empty());
        assert_eq!(check(&fleet(20.0, 10.0, 0.0, 3).input()).len(), 1);
    }

    #[test]
    fn needs_three_minutes() {
        assert!(check(&fleet(1000.0, 50.0, 0.0, 1).input()).is_empty());
    }

    #[test]
    fn critical_at_ten_percent() {
        assert_eq!(
            check(&fleet(1000.0, 0.0, 100.0, 4).input())[0].severity,
            Severity::Critical
        );
        assert_eq!(
            check(&fleet(1000.0, 0.0, 99.0, 4).input())[0].severity,
            Severity::Warning
        );
    }

    #[test]
    fn errors_before_the_request_count_was_read_say_nothing() {
        let mut f = fleet(1000.0, 0.0, 50.0, 3);
        f.series = Default::default();
        f.series(cat::load_balancer_5xx(LB, None).unwrap(), &flat(50.0, 5));
        f.series(cat::target_group_5xx(TG, LB).unwrap(), &flat(50.0, 5));
        assert!(check(&f.input()).is_empty());
    }

    #[test]
    fn errors_with_no_requests_count_as_all_failing() {
        let mut f = fleet(1000.0, 0.0, 50.0, 3);
        f.series = Default::default();
        // Read, and no request in the window (ELB publishes only non-zero counts).
        f.series(
            cat::target_group_requests(TG, LB).unwrap(),
            &flat(f64::NAN, 5),
        );
        f.series(cat::load_balancer_5xx(LB, None).unwrap(), &flat(50.0, 5));
        f.series(
            cat::load_balancer_5xx(LB, Some(503)).unwrap(),
            &flat(50.0, 5),
        );
        let found = check(&f.input());
        assert_eq!(found[0].severity, Severity::Critical);
        assert!(
            found[0].message.contains("100.0% 5xx"),
            "{}",
            found[0].message
        );
        assert!(found[0].next.starts_with("ELB 503"));
    }

    #[test]
    fn load_balancer_errors_are_shared_between_its_groups() {
        let other_tg = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/tg-api/1";
        let mut f = fleet(1000.0, 0.0, 100.0, 4);
        let mut api = service("api", 2);
        api.target_group_arns = vec![other_tg.into()];
        api.target_group_lbs = vec![(other_tg.into(), LB.into())];
        f.services.push(api);
        // web takes a tenth of the load balancer's 10 000 requests: 10 of its 100 504s.
        f.series(
            cat::load_balancer_requests(LB).unwrap(),
            &flat(10_000.0, 24),
        );
        let found = check(&f.input());
        assert!(found.is_empty(), "1 % for web: {found:?}");
    }

    #[test]
    fn no_data_is_quiet() {
        let mut f = facts();
        f.services = vec![service("web", 4)];
        assert!(check(&f.input()).is_empty());
    }
}
