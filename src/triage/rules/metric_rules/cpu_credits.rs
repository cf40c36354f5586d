//! The burstable-instance rules. cpu-credits-exhausted: a T-family host running tasks has
//! (almost) no CPU credits left, or will have none within the hour. cpu-baseline-plateau: its
//! CPU sits flat at the family's baseline while the services on it ask for more.
//!
//! The credit mode comes from EC2 (DescribeInstanceCreditSpecifications, read by the source).
//! Only a `standard` host is held at its baseline when the balance is spent: that is the
//! critical finding. An `unlimited` host (T3/T3a/T4g launch so by default) keeps its CPU and
//! pays for the surplus: reported as info, cost only, when `CPUSurplusCreditsCharged` shows
//! credits billed. When EC2 denied the mode the host is treated as standard and the message
//! says "mode unknown"; while the mode is not read yet, nothing is said.

use chrono::TimeDelta;

use super::util::{
    duration, held_points, hourly, hours, latest_within, linear_fit, num, run_start, service_list,
    stddev, tenants, values,
};
use crate::model::{
    CreditMode, Evidence, Instance, Observation, Remedy, Severity, metric_catalog as cat,
};
use crate::triage::Input;
use crate::triage::input::instance_subject;
use crate::triage::rules::about::{About, INFO_CRITICAL, Read, Value, WARNING, limit};

pub const EXHAUSTED: &str = "cpu-credits-exhausted";
pub const PLATEAU: &str = "cpu-baseline-plateau";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT_EXHAUSTED: About = About {
    summary: "A burstable (T-family) host in standard mode running tasks has (almost) no CPU credits left, or will have none within the hour (its CPU will be held at the baseline); in unlimited mode the same balance only costs surplus credits (info).",
    severities: INFO_CRITICAL,
    reads: &[
        Read::Metric("AWS/EC2 CPUCreditBalance Average, per instance"),
        Read::Metric("AWS/EC2 CPUSurplusCreditsCharged Sum, per unlimited instance"),
        Read::Api("EC2 DescribeInstanceCreditSpecifications: the credit mode of burstable hosts"),
    ],
    limits: &[
        limit("balance <", Value::Number(LOW_BALANCE, "credits")),
        limit("or projected to zero within", Value::Hours(HORIZON_HOURS)),
        limit("trend over", Value::Minutes(FIT_MINUTES)),
    ],
};

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT_PLATEAU: About = About {
    summary: "A burstable host's CPU sits flat at its baseline while the services on it ask for more.",
    severities: WARNING,
    reads: &[
        Read::Metric("AWS/EC2 CPUUtilization Average, per instance"),
        Read::Metric("AWS/ECS CPUUtilization Average, per service"),
    ],
    limits: &[
        limit("for", Value::Minutes(PLATEAU_MINUTES)),
        limit(
            "CPU no lower than the baseline −",
            Value::Number(PLATEAU_BELOW, "points"),
        ),
        limit(
            "and no higher than the baseline +",
            Value::Number(PLATEAU_ABOVE, "points"),
        ),
        limit("CPU stddev ≤", Value::Number(PLATEAU_STDDEV, "points")),
        limit("service CPU ≥", Value::Percent(SERVICE_DEMAND)),
    ],
};

/// Credits at or below this are exhausted (our default).
const LOW_BALANCE: f64 = 5.0;
/// A falling balance that reaches zero within this many hours fires now (our default).
const HORIZON_HOURS: f64 = 1.0;
/// The balance is published every 5 minutes: fit over 30 minutes, from 3 points spanning 10.
const FIT_MINUTES: i64 = 30;
const FIT_MIN_POINTS: usize = 3;
const FIT_MIN_SPAN: TimeDelta = TimeDelta::minutes(10);
/// How old the latest balance may be.
const BALANCE_FRESH: i64 = 15;
/// Plateau: 15 min within baseline −5 … +10 points, standard deviation under 2, while a service
/// on the host is at ≥90 % of its CPU (our defaults).
const PLATEAU_MINUTES: i64 = 15;
const PLATEAU_BELOW: f64 = 5.0;
const PLATEAU_ABOVE: f64 = 10.0;
const PLATEAU_STDDEV: f64 = 2.0;
const SERVICE_DEMAND: f64 = 90.0;

/// The CPU share (per vCPU, as CloudWatch's CPUUtilization averages it) a burstable type may
/// use without spending credits.
pub fn baseline_pct(instance_type: &str) -> Option<f64> {
    let (family, size) = instance_type.split_once('.')?;
    let t2 = family == "t2";
    if !matches!(family, "t2" | "t3" | "t3a" | "t4g") {
        return None;
    }
    Some(match size {
        "nano" => 5.0,
        "micro" => 10.0,
        "small" | "medium" => 20.0,
        "large" => 30.0,
        "xlarge" if t2 => 22.5,
        "2xlarge" if t2 => 17.0,
        "xlarge" | "2xlarge" => 40.0,
        _ => return None,
    })
}

fn baseline_text(instance_type: &str) -> String {
    baseline_pct(instance_type).map_or("baseline".into(), |b| format!("{}% baseline", num(b)))
}

pub fn check_exhausted(input: &Input) -> Vec<Observation> {
    input
        .instances
        .iter()
        .filter_map(|i| exhausted(input, i))
        .collect()
}

fn exhausted(input: &Input, i: &Instance) -> Option<Observation> {
    let metric = cat::instance_credits(i)?;
    let (tasks, services) = tenants(input, i);
    let n_tasks = tasks.len().max(i.running_tasks as usize);
    if n_tasks == 0 {
        return None;
    }
    let mode = match i.credit_mode {
        CreditMode::Standard => "standard",
        CreditMode::Denied => "mode unknown: DescribeInstanceCreditSpecifications denied",
        CreditMode::Unlimited => return surplus_charged(input, i, n_tasks, &services),
        CreditMode::Unknown => return None,
    };
    let latest = latest_within(input, &metric, BALANCE_FRESH)?;
    let window = input.window(&metric, FIT_MINUTES);
    let falling = match (window.first(), window.last()) {
        (Some(a), Some(b)) if window.len() >= FIT_MIN_POINTS && b.at - a.at >= FIT_MIN_SPAN => {
            linear_fit(&hourly(&window, input.now))
                .map(|f| f.slope)
                .filter(|slope| *slope < 0.0)
        }
        _ => None,
    };
    let eta = falling.map(|slope| latest.value / -slope);
    let low = latest.value <= LOW_BALANCE;
    if !low && !eta.is_some_and(|h| h <= HORIZON_HOURS) {
        return None;
    }
    let trend = match (falling, eta) {
        (Some(slope), Some(eta)) if !low => {
            format!(" (falling {:.0}/h, empty in ~{})", -slope, hours(eta))
        }
        _ => String::new(),
    };
    let mut o = Observation::new(
        EXHAUSTED,
        Severity::Critical,
        instance_subject(i),
        format!(
            "{} ({}, {mode}): CPU credit balance {}{trend} — CPU will be held at the {}; \
             hosts {n_tasks} tasks of {}",
            i.ec2_instance_id,
            i.instance_type,
            num(latest.value),
            baseline_text(&i.instance_type),
            service_list(&services)
        ),
    )
    .evidence(Evidence::at(
        latest.at,
        format!("AWS/EC2 CPUCreditBalance {}", num(latest.value)),
    ))
    .next(
        "Quick fix: switch the instance to unlimited credits (ModifyInstanceCreditSpecification) \
         or add instances so tasks spread out. Lasting fix: run production on M/C families. \
         Open the metrics chart with CPUCreditBalance over CPUUtilization.",
    )
    .remedies(&[Remedy::Chart, Remedy::Drain]);
    if low && let Some(at) = run_start(&input.window(&metric, 180), input.now, |v| v <= LOW_BALANCE)
    {
        o = o.since(at);
    }
    Some(o)
}

/// Surplus credits billed over the last hour (our window): the cost an unlimited host's
/// burst has, reported so the operator can decide on a bigger fixed-performance type.
const SURPLUS_MINUTES: i64 = 60;

fn surplus_charged(
    input: &Input,
    i: &Instance,
    n_tasks: usize,
    services: &[String],
) -> Option<Observation> {
    let window = input.window(&cat::instance_surplus_charged(i)?, SURPLUS_MINUTES);
    let charged: f64 = values(&window).iter().sum();
    if charged <= 0.0 {
        return None;
    }
    let balance = latest_within(input, &cat::instance_credits(i)?, BALANCE_FRESH)
        .map_or("unknown".to_string(), |p| num(p.value));
    let last = window.last()?;
    Some(
        Observation::new(
            EXHAUSTED,
            Severity::Info,
            instance_subject(i),
            format!(
                "{} ({}, unlimited): CPU credit balance {balance}; {} surplus credits charged \
                 in the last hour — CPU is not held, the burst is billed; hosts {n_tasks} tasks \
                 of {}",
                i.ec2_instance_id,
                i.instance_type,
                num(charged),
                service_list(services)
            ),
        )
        .evidence(Evidence::at(
            last.at,
            format!(
                "AWS/EC2 CPUSurplusCreditsCharged {} over 60 min",
                num(charged)
            ),
        ))
        .next(
            "Cost only: the instance runs in unlimited mode, so it keeps bursting and pays \
             for it. If it bursts most of the day, a fixed-performance (M/C) type of the same \
             size is cheaper. Open the metrics chart with CPUCreditBalance over CPUUtilization.",
        )
        .remedies(&[Remedy::Chart]),
    )
}

pub fn check_plateau(input: &Input) -> Vec<Observation> {
    input
        .instances
        .iter()
        .filter_map(|i| plateau(input, i))
        .collect()
}

fn plateau(input: &Input, i: &Instance) -> Option<Observation> {
    let baseline = baseline_pct(&i.instance_type)?;
    if i.credit_mode == CreditMode::Unlimited {
        return None; // an unlimited host is not held at its baseline
    }
    let credits = latest_within(input, &cat::instance_credits(i)?, BALANCE_FRESH)?;
    if credits.value >= LOW_BALANCE {
        return None;
    }
    let cpu_metric = cat::instance_cpu(i);
    let band = |v: f64| v >= baseline - PLATEAU_BELOW && v <= baseline + PLATEAU_ABOVE;
    let window = input.window(&cpu_metric, PLATEAU_MINUTES);
    if !held_points(&window, input.now, PLATEAU_MINUTES, band)
        || stddev(&values(&window))? >= PLATEAU_STDDEV
    {
        return None;
    }
    let cpu = window.last()?.value;
    // The busiest service with tasks on this host.
    let (_, services) = tenants(input, i);
    let (service, demand) = services
        .iter()
        .filter_map(|name| {
            let s = input.service(Input::cluster_name(&i.cluster_arn), name)?;
            Some((name.clone(), input.latest(&cat::service_cpu(s))?))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    if demand < SERVICE_DEMAND {
        return None;
    }
    let since = run_start(&input.window(&cpu_metric, 180), input.now, band);
    let lasted = since.map_or(format!("{PLATEAU_MINUTES}m"), |at| duration(input.now - at));
    let mut o = Observation::new(
        PLATEAU,
        Severity::Warning,
        instance_subject(i),
        format!(
            "{}: CPU flat at {}% (≈{}% baseline) for {lasted} while {service} demands {}% — \
             credit throttling, not app load",
            i.ec2_instance_id,
            num(cpu),
            num(baseline),
            num(demand)
        ),
    )
    .evidence(Evidence::at(
        input.now,
        format!(
            "CPUUtilization within {}–{}% for {PLATEAU_MINUTES} min (σ {:.1}); CPUCreditBalance {}",
            num(baseline - PLATEAU_BELOW),
            num(baseline + PLATEAU_ABOVE),
            stddev(&values(&window)).unwrap_or_default(),
            num(credits.value)
        ),
    ))
    .next(
        "As for cpu-credits-exhausted: switch to unlimited credits or move to M/C families. \
         Don't scale the service onto the same throttled hosts; add capacity on non-burstable \
         instances and drain this one.",
    )
    .remedies(&[Remedy::Chart, Remedy::Drain]);
    if let Some(at) = since {
        o = o.since(at);
    }
    Some(o)
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::triage::Facts;

    #[test]
    fn baselines_by_type() {
        assert_eq!(baseline_pct("t3.micro"), Some(10.0));
        assert_eq!(baseline_pct("t3.medium"), Some(20.0));
        assert_eq!(baseline_pct("t3a.large"), Some(30.0));
        assert_eq!(baseline_pct("t4g.2xlarge"), Some(40.0));
        assert_eq!(baseline_pct("t2.xlarge"), Some(22.5));
        assert_eq!(baseline_pct("m5.large"), None);
    }

    /// A t3.medium hosting one `web` task, with a credit balance published every 5 minutes
    /// (`credits` oldest first, the last one 2 minutes ago).
    fn fleet(credits: &[f64]) -> Facts {
        let mut f = facts();
        let mut i = instance(1, "t3.medium");
        i.credit_mode = CreditMode::Standard;
        let s = service("web", 1);
        f.tasks = vec![on(task("web", 1, 3600), &i)];
        let mut v = Vec::new();
        for c in credits {
            v.extend(flat(f64::NAN, 4));
            v.push(*c);
        }
        v.push(f64::NAN);
        f.series(cat::instance_credits(&i).unwrap(), &v);
        f.instances = vec![i];
        f.services = vec![s];
        f
    }

    #[test]
    fn an_empty_balance_fires_critical() {
        let found = check_exhausted(&fleet(&[8.0, 6.0, 5.0]).input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Critical);
        assert_eq!(
            found[0].message,
            "i-00000000000000001 (t3.medium, standard): CPU credit balance 5 — CPU will be \
             held at the 20% baseline; hosts 1 tasks of web"
        );
        assert!(check_exhausted(&fleet(&[5.1, 5.1, 5.1]).input()).is_empty());
    }

    #[test]
    fn a_balance_falling_to_zero_within_the_hour_fires() {
        // 54 credits an hour: 9 every 10 min; 45 left → 50 min.
        let found = check_exhausted(&fleet(&[63.0, 58.5, 54.0, 49.5, 45.0]).input());
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .message
                .contains("balance 45 (falling 54/h, empty in ~50m)"),
            "{}",
            found[0].message
        );
        // 60 left at 54/h: 67 minutes.
        assert!(check_exhausted(&fleet(&[78.0, 73.5, 69.0, 64.5, 60.0]).input()).is_empty());
        // Two points do not make a trend.
        assert!(check_exhausted(&fleet(&[54.0, 45.0]).input()).is_empty());
    }

    #[test]
    fn idle_hosts_fixed_families_and_stale_balances_are_quiet() {
        let mut f = fleet(&[3.0, 2.0, 1.0]);
        f.tasks.clear();
        assert!(check_exhausted(&f.input()).is_empty(), "no tasks");
        let mut f = fleet(&[3.0, 2.0, 1.0]);
        f.instances[0].instance_type = "m5.large".into();
        assert!(check_exhausted(&f.input()).is_empty());
        let mut f = fleet(&[1.0]);
        let key = cat::instance_credits(&f.instances[0]).unwrap();
        let mut v = vec![1.0];
        v.extend(flat(f64::NAN, 16));
        f.series(key, &v);
        assert!(check_exhausted(&f.input()).is_empty(), "16 minutes old");
    }

    #[test]
    fn a_denied_mode_is_treated_as_standard_and_said_so() {
        let mut f = fleet(&[3.0, 2.0, 1.0]);
        f.instances[0].credit_mode = CreditMode::Denied;
        let found = check_exhausted(&f.input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Critical);
        assert!(
            found[0]
                .message
                .contains("(t3.medium, mode unknown: DescribeInstanceCreditSpecifications denied)"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn a_mode_not_read_yet_says_nothing() {
        let mut f = fleet(&[3.0, 2.0, 1.0]);
        f.instances[0].credit_mode = CreditMode::Unknown;
        assert!(check_exhausted(&f.input()).is_empty());
    }

    /// An unlimited t3.medium at zero balance, with `charged` surplus credits billed each
    /// 5 minutes.
    fn unlimited(charged: f64) -> Facts {
        let mut f = fleet(&[0.0, 0.0, 0.0]);
        f.instances[0].credit_mode = CreditMode::Unlimited;
        let i = f.instances[0].clone();
        let mut v = Vec::new();
        for _ in 0..6 {
            v.extend(flat(f64::NAN, 4));
            v.push(charged);
        }
        f.series(cat::instance_surplus_charged(&i).unwrap(), &v);
        f
    }

    #[test]
    fn an_unlimited_host_at_zero_is_a_cost_not_a_throttle() {
        let found = check_exhausted(&unlimited(1.5).input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Info);
        assert_eq!(
            found[0].message,
            "i-00000000000000001 (t3.medium, unlimited): CPU credit balance 0; 9 surplus credits \
             charged in the last hour — CPU is not held, the burst is billed; hosts 1 tasks of web"
        );
        // Nothing billed: nothing to say.
        assert!(check_exhausted(&unlimited(0.0).input()).is_empty());
        let mut f = unlimited(0.0);
        f.series
            .retain(|k, _| k.metric.name != "CPUSurplusCreditsCharged");
        assert!(check_exhausted(&f.input()).is_empty(), "not polled");
    }

    #[test]
    fn an_unlimited_host_has_no_plateau() {
        let mut f = plateau_fleet(22.0, 1.0, 16, 100.0);
        f.instances[0].credit_mode = CreditMode::Unlimited;
        assert!(check_plateau(&f.input()).is_empty());
    }

    /// A t3.medium at `cpu` (with a ±`wobble` zigzag) for `minutes`, 2 credits, `web` at `svc`.
    fn plateau_fleet(cpu: f64, wobble: f64, minutes: usize, svc: f64) -> Facts {
        let mut f = fleet(&[2.0]);
        let i = f.instances[0].clone();
        let mut v = flat(85.0, 30);
        v.extend((0..minutes).map(|k| {
            if k % 2 == 0 {
                cpu + wobble
            } else {
                cpu - wobble
            }
        }));
        f.series(cat::instance_cpu(&i), &v);
        let s = f.services[0].clone();
        f.series(cat::service_cpu(&s), &flat(svc, 20));
        f
    }

    #[test]
    fn a_flat_cpu_at_baseline_with_no_credits_and_busy_service_fires() {
        let found = check_plateau(&plateau_fleet(22.0, 1.0, 16, 100.0).input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(
            found[0].message,
            "i-00000000000000001: CPU flat at 21% (≈20% baseline) for 16m while web demands \
             100% — credit throttling, not app load"
        );
    }

    #[test]
    fn plateau_edges() {
        assert!(
            check_plateau(&plateau_fleet(22.0, 1.0, 13, 100.0).input()).is_empty(),
            "13 min"
        );
        assert!(
            check_plateau(&plateau_fleet(22.0, 2.5, 16, 100.0).input()).is_empty(),
            "σ 2.5"
        );
        assert!(
            check_plateau(&plateau_fleet(31.0, 0.5, 16, 100.0).input()).is_empty(),
            "above band"
        );
        assert!(
            check_plateau(&plateau_fleet(22.0, 1.0, 16, 89.0).input()).is_empty(),
            "service idle"
        );
        let mut f = plateau_fleet(22.0, 1.0, 16, 100.0);
        let key = cat::instance_credits(&f.instances[0]).unwrap();
        f.series(key, &[5.0, f64::NAN]);
        assert!(check_plateau(&f.input()).is_empty(), "credits left");
    }
}
