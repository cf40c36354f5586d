//! What several metric and target-health rules share: small statistics, trailing runs over
//! a 1-minute history, and matching targets to tasks.

use chrono::TimeDelta;

use crate::model::{
    Instance, MetricId, Point, Service, TargetGroupHealth, TargetHealth, Task, Time,
};
use crate::triage::Input;

/// A target-health answer older than this is not "now" any more.
const POLL_FRESH: TimeDelta = TimeDelta::minutes(5);
/// Two points further apart than this break a run (one missing minute is tolerated).
const RUN_GAP: TimeDelta = TimeDelta::minutes(2);

pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

pub fn median(values: &[f64]) -> Option<f64> {
    percentile(values, 50.0)
}

/// Linear interpolation between the closest ranks.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = p / 100.0 * (v.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    Some(v[lo] + (v[hi] - v[lo]) * (rank - lo as f64))
}

pub fn stddev(values: &[f64]) -> Option<f64> {
    let m = mean(values)?;
    Some((values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / values.len() as f64).sqrt())
}

/// A least-squares line `y = slope · x + intercept` and how well it fits (R², 0–1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    pub slope: f64,
    pub intercept: f64,
    pub r2: f64,
}

pub fn linear_fit(points: &[(f64, f64)]) -> Option<Fit> {
    if points.len() < 2 {
        return None;
    }
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let syy: f64 = points.iter().map(|p| (p.1 - my).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    // A flat line explains a flat series perfectly; say so rather than divide by zero.
    let r2 = if syy == 0.0 {
        1.0
    } else {
        (sxy * sxy) / (sxx * syy)
    };
    Some(Fit {
        slope,
        intercept: my - slope * mx,
        r2,
    })
}

/// Points as (hours since `origin`, value), for fits in units per hour.
pub fn hourly(points: &[Point], origin: Time) -> Vec<(f64, f64)> {
    points
        .iter()
        .map(|p| ((p.at - origin).num_seconds() as f64 / 3600.0, p.value))
        .collect()
}

/// When the run of points satisfying `cond` that reaches the latest minute began: walking
/// back from the newest point while points satisfy `cond` and are at most one missing minute
/// apart. `None` when the newest point is stale or does not satisfy `cond`.
pub fn run_start(points: &[Point], now: Time, cond: impl Fn(f64) -> bool) -> Option<Time> {
    let last = points.last()?;
    if now - last.at > TimeDelta::minutes(3) || !cond(last.value) {
        return None;
    }
    let mut start = last.at;
    for p in points.iter().rev().skip(1) {
        if !cond(p.value) || start - p.at > RUN_GAP {
            break;
        }
        start = p.at;
    }
    Some(start)
}

/// Like [`Input::held`] over a series computed per minute: every value of the last `minutes`
/// minutes satisfies `cond`, with at most one minute missing.
pub fn held_points(points: &[Point], now: Time, minutes: i64, cond: impl Fn(f64) -> bool) -> bool {
    let since = now - TimeDelta::minutes(minutes);
    let recent: Vec<&Point> = points.iter().filter(|p| p.at >= since).collect();
    recent.len() as i64 >= (minutes - 1).max(1) && recent.iter().all(|p| cond(p.value))
}

/// The values of a window, oldest first.
pub fn values(points: &[Point]) -> Vec<f64> {
    points.iter().map(|p| p.value).collect()
}

/// A metric's latest value if the history has one in the last `minutes` (for series that are
/// published less often than every minute, like CPU credits).
pub fn latest_within(input: &Input, metric: &MetricId, minutes: i64) -> Option<Point> {
    input.window(metric, minutes).last().copied()
}

/// `45s`, `12m`, `1h05m`.
pub fn duration(d: TimeDelta) -> String {
    let secs = d.num_seconds().max(0);
    if secs < 60 {
        format!("{secs}s")
    } else if secs < 3600 {
        format!("{}m", secs / 60)
    } else {
        format!("{}h{:02}m", secs / 3600, secs % 3600 / 60)
    }
}

/// Hours as `42m` or `3.2h`.
pub fn hours(h: f64) -> String {
    if h < 1.0 {
        format!("{:.0}m", (h * 60.0).max(0.0))
    } else {
        format!("{h:.1}h")
    }
}

/// One decimal unless the value is whole.
pub fn num(v: f64) -> String {
    if (v - v.round()).abs() < 0.05 {
        format!("{:.0}", v.round())
    } else {
        format!("{v:.1}")
    }
}

/// Every target group the service sends traffic to (registered, bound, or with a known load
/// balancer), once each.
pub fn target_groups(s: &Service) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    let all = s
        .target_group_arns
        .iter()
        .map(String::as_str)
        .chain(s.lb_bindings.iter().map(|b| b.target_group_arn.as_str()))
        .chain(s.target_group_lbs.iter().map(|(tg, _)| tg.as_str()));
    for tg in all {
        if !out.contains(&tg) {
            out.push(tg);
        }
    }
    out
}

/// The load balancer in front of one of the service's target groups, if known.
pub fn load_balancer<'a>(s: &'a Service, tg: &str) -> Option<&'a str> {
    s.target_group_lbs
        .iter()
        .find(|(t, _)| t == tg)
        .map(|(_, lb)| lb.as_str())
}

/// `…:targetgroup/web/0123` → `web` (or the name DescribeTargetGroups gave).
pub fn target_group_name(tg_arn: &str, polls: &[TargetGroupHealth]) -> String {
    if let Some(p) = polls.last()
        && !p.name.is_empty()
    {
        return crate::sanitize::clean(&p.name).into_owned();
    }
    crate::model::arn::target_group_name(tg_arn).to_string()
}

/// `…:loadbalancer/app/edge/0123` → `edge`.
pub fn load_balancer_name(lb_arn: &str) -> String {
    crate::model::arn::load_balancer_name(lb_arn).to_string()
}

/// The target-health polls of a group, provided the latest one is recent.
pub fn fresh_polls<'a>(input: &Input<'a>, tg: &str) -> &'a [TargetGroupHealth] {
    let polls = input.target_polls(tg);
    match polls.last() {
        Some(p) if p.fetched_at.is_none_or(|at| input.now - at <= POLL_FRESH) => polls,
        _ => &[],
    }
}

/// The same target (id and port) in another poll.
pub fn same_target<'a>(poll: &'a TargetGroupHealth, t: &TargetHealth) -> Option<&'a TargetHealth> {
    poll.targets
        .iter()
        .find(|o| o.id == t.id && o.port == t.port)
}

/// The service's running task behind a target (awsvpc targets are the task's private IP).
pub fn task_of_target<'a>(input: &Input<'a>, s: &Service, t: &TargetHealth) -> Option<&'a Task> {
    input
        .tasks_of(s)
        .find(|task| !task.private_ip.is_empty() && task.private_ip == t.id)
}

/// Whether ECS still ignores this task's ELB health (it started less than the service's
/// grace period ago). No grace set means none.
pub fn in_grace(input: &Input, s: &Service, task: &Task) -> bool {
    let grace = TimeDelta::seconds(i64::from(s.health_check_grace_secs.unwrap_or(0)));
    task.started_at.is_some_and(|at| input.now - at < grace)
}

/// Targets of the latest poll that satisfy `cond` in it and in the poll before (two
/// consecutive polls), leaving out those whose task is still within the grace period.
pub fn persistent<'a>(
    input: &Input<'a>,
    s: &Service,
    polls: &'a [TargetGroupHealth],
    cond: impl Fn(&TargetHealth) -> bool,
) -> Vec<&'a TargetHealth> {
    let [.., before, latest] = polls else {
        return Vec::new();
    };
    latest
        .targets
        .iter()
        .filter(|t| cond(t))
        .filter(|t| same_target(before, t).is_some_and(&cond))
        .filter(|t| task_of_target(input, s, t).is_none_or(|task| !in_grace(input, s, task)))
        .collect()
}

/// Targets that take traffic or are checked: everything registered but draining ones.
pub fn registered(poll: &TargetGroupHealth) -> usize {
    poll.targets
        .iter()
        .filter(|t| t.state != "draining")
        .count()
}

/// The instances hosting the service's running tasks, once each.
pub fn hosts_of<'a>(input: &Input<'a>, s: &Service) -> Vec<&'a Instance> {
    let mut out: Vec<&Instance> = Vec::new();
    for t in input.tasks_of(s).filter(|t| t.last_status == "RUNNING") {
        if let Some(i) = input.instance_of(t)
            && !out.iter().any(|o| o.arn == i.arn)
        {
            out.push(i);
        }
    }
    out
}

/// The running tasks on an instance and the names of their services (sorted, once each).
pub fn tenants<'a>(input: &Input<'a>, i: &Instance) -> (Vec<&'a Task>, Vec<String>) {
    let tasks: Vec<&Task> = input
        .tasks
        .iter()
        .copied()
        .filter(|t| t.container_instance_arn.as_deref() == Some(i.arn.as_str()))
        .filter(|t| t.last_status == "RUNNING")
        .collect();
    let mut services: Vec<String> = tasks
        .iter()
        .filter_map(|t| t.service_name().map(str::to_string))
        .collect();
    services.sort();
    services.dedup();
    (tasks, services)
}

/// `web, cart` or `no service tasks`.
pub fn service_list(services: &[String]) -> String {
    if services.is_empty() {
        "no service tasks".into()
    } else {
        services.join(", ")
    }
}

/// The services whose outbound traffic leaves through `nat`, for a NAT finding's message.
pub fn nat_services(input: &Input, cluster: &str, nat: &crate::model::NatGateway) -> String {
    let mut names: Vec<String> = input
        .served_by(cluster, nat)
        .iter()
        .map(|s| s.name.clone())
        .collect();
    names.sort();
    if names.is_empty() {
        "the cluster's subnets".into()
    } else {
        names.join(", ")
    }
}

/// A count with thousands separators: `54,210`.
pub fn grouped(v: f64) -> String {
    let digits = format!("{:.0}", v.max(0.0).round());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::fixed_now;

    #[test]
    fn fit_finds_slope_and_goodness() {
        let line: Vec<(f64, f64)> = (0..10).map(|x| (x as f64, 2.0 * x as f64 + 1.0)).collect();
        let fit = linear_fit(&line).unwrap();
        assert!((fit.slope - 2.0).abs() < 1e-9);
        assert!((fit.intercept - 1.0).abs() < 1e-9);
        assert!((fit.r2 - 1.0).abs() < 1e-9);
        let zigzag: Vec<(f64, f64)> = (0..10)
            .map(|x| (x as f64, if x % 2 == 0 { 0.0 } else { 10.0 }))
            .collect();
        assert!(linear_fit(&zigzag).unwrap().r2 < 0.1);
        assert!(linear_fit(&[(1.0, 1.0)]).is_none());
    }

    #[test]
    fn percentiles_interpolate() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[1.0, 2.0, 3.0, 4.0]), Some(2.5));
        assert_eq!(percentile(&[10.0, 20.0], 90.0), Some(19.0));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn runs_tolerate_one_missing_minute_but_not_two() {
        let now = fixed_now();
        let at = |ago: i64| now - TimeDelta::minutes(ago);
        let p = |ago, value| Point { at: at(ago), value };
        // 10, gap, 8, 7 … 1: one gap of one minute.
        let one_gap = vec![p(10, 5.0), p(8, 5.0), p(7, 5.0), p(1, 1.0)];
        assert_eq!(run_start(&one_gap, now, |v| v > 2.0), None);
        let one_gap = vec![p(10, 5.0), p(8, 5.0), p(7, 5.0)];
        assert_eq!(run_start(&one_gap, now, |v| v > 2.0), None, "stale");
        let one_gap = vec![p(4, 5.0), p(2, 5.0), p(1, 5.0)];
        assert_eq!(run_start(&one_gap, now, |v| v > 2.0), Some(at(4)));
        let two_gap = vec![p(5, 5.0), p(2, 5.0), p(1, 5.0)];
        assert_eq!(run_start(&two_gap, now, |v| v > 2.0), Some(at(2)));
    }

    #[test]
    fn durations_read_like_an_operator_writes_them() {
        assert_eq!(duration(TimeDelta::seconds(45)), "45s");
        assert_eq!(duration(TimeDelta::minutes(12)), "12m");
        assert_eq!(duration(TimeDelta::minutes(65)), "1h05m");
        assert_eq!(hours(0.7), "42m");
        assert_eq!(hours(3.21), "3.2h");
    }
}
