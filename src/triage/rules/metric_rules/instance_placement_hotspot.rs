//! instance-placement-hotspot: in a cluster of ≥3 active instances, one is ≥85 % CPU and ≥40
//! points above the median of the rest for 10 minutes, or holds ≥2× the median task count.

use std::collections::BTreeMap;

use chrono::TimeDelta;

use super::util::{mean, num, tenants, values};
use crate::model::{Evidence, Instance, Observation, Remedy, Severity, metric_catalog as cat};
use crate::triage::Input;
use crate::triage::input::instance_subject;
use crate::triage::rules::about::{About, Read, Value, WARNING, limit};

pub const ID: &str = "instance-placement-hotspot";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "One instance of a cluster is far busier than the rest, or holds far more tasks.",
    severities: WARNING,
    reads: &[
        Read::Metric("AWS/EC2 CPUUtilization Average, per instance"),
        Read::Api("ECS DescribeContainerInstances: runningTasksCount"),
    ],
    limits: &[
        limit("active instances ≥", Value::Count(MIN_INSTANCES)),
        limit("CPU ≥", Value::Percent(HOT)),
        limit(
            "and above the median of the rest by ≥",
            Value::Number(ABOVE_MEDIAN, "points"),
        ),
        limit("for", Value::Minutes(WINDOW)),
        limit("or tasks ≥ median ×", Value::Factor(TASK_FACTOR)),
        limit("held", Value::Span(HOLD)),
    ],
};

const MIN_INSTANCES: usize = 3;
const WINDOW: i64 = 10;
const HOT: f64 = 85.0;
const ABOVE_MEDIAN: f64 = 40.0;
/// Task counts: twice the median of the others, and at least this many more (so 2 against 1
/// is not a hotspot).
const TASK_FACTOR: f64 = 2.0;
const MIN_EXTRA_TASKS: f64 = 2.0;
/// The task-count branch reads polled counts: it must hold this long.
const HOLD: TimeDelta = TimeDelta::minutes(10);

pub fn check(input: &Input) -> Vec<Observation> {
    let mut clusters: BTreeMap<&str, Vec<&Instance>> = BTreeMap::new();
    for &i in input.instances.iter() {
        if i.status == "ACTIVE" {
            clusters
                .entry(Input::cluster_name(&i.cluster_arn))
                .or_default()
                .push(i);
        }
    }
    clusters
        .into_values()
        .filter(|c| c.len() >= MIN_INSTANCES)
        .flat_map(|c| check_cluster(input, &c))
        .collect()
}

fn check_cluster(input: &Input, instances: &[&Instance]) -> Vec<Observation> {
    // Mean CPU over the window, for instances with enough data.
    let cpu: Vec<Option<f64>> = instances
        .iter()
        .map(|i| {
            let metric = cat::instance_cpu(i);
            input
                .held(&metric, WINDOW, |_| true)
                .then(|| mean(&values(&input.window(&metric, WINDOW))))
                .flatten()
        })
        .collect();
    // Sorted once: the median of "every other instance" is then O(1) per instance, which keeps
    // a 500-instance cluster cheap.
    let sorted_cpu = Sorted::new(cpu.iter().flatten().copied());
    let sorted_tasks = Sorted::new(instances.iter().map(|i| f64::from(i.running_tasks)));
    let mut out = Vec::new();
    for (k, i) in instances.iter().enumerate() {
        let cpu_rest = match cpu[k] {
            Some(own) => sorted_cpu.median_without(own),
            None => sorted_cpu.median_without(f64::NAN),
        };
        let tasks_rest = sorted_tasks
            .median_without(f64::from(i.running_tasks))
            .unwrap_or(0.0);
        let tasks = f64::from(i.running_tasks);
        let hot_cpu = match (cpu[k], cpu_rest) {
            (Some(c), Some(rest)) => {
                input.held(&cat::instance_cpu(i), WINDOW, |v| v >= HOT) && c - rest >= ABOVE_MEDIAN
            }
            _ => false,
        };
        let crowded = tasks_rest >= 1.0
            && tasks >= TASK_FACTOR * tasks_rest
            && tasks - tasks_rest >= MIN_EXTRA_TASKS;
        if !hot_cpu && !crowded {
            continue;
        }
        let (_, services) = tenants(input, i);
        let mut strategies: Vec<String> = services
            .iter()
            .filter_map(|name| input.service(Input::cluster_name(&i.cluster_arn), name))
            .flat_map(|s| s.placement_strategy.iter().cloned())
            .collect();
        strategies.sort();
        strategies.dedup();
        let strategy = if strategies.is_empty() {
            "none set".to_string()
        } else {
            strategies.join(", ")
        };
        let pct = |v: Option<f64>| v.map_or("?".to_string(), num);
        let mut o = Observation::new(
            ID,
            Severity::Warning,
            instance_subject(i),
            format!(
                "{}: CPU {}% with {} tasks while cluster median is {}% / {} tasks — uneven \
                 placement (strategy {strategy})",
                i.ec2_instance_id,
                pct(cpu[k]),
                i.running_tasks,
                pct(cpu_rest),
                num(tasks_rest)
            ),
        )
        .evidence(Evidence::at(
            input.now,
            if hot_cpu {
                format!("CPU ≥ {HOT}% for {WINDOW} min, ≥ {ABOVE_MEDIAN} points above the others' median")
            } else {
                format!("{} running tasks, ≥ {TASK_FACTOR}× the others' median", i.running_tasks)
            },
        ))
        .next(
            "binpack piles load onto few hosts: prefer spread over attribute:ecs.availability-zone \
             then instanceId. To rebalance now, drain the hot instance or redeploy so tasks are \
             placed again.",
        )
        .remedies(&[Remedy::Drain, Remedy::Redeploy, Remedy::Chart]);
        if !hot_cpu {
            o = o.hold(HOLD);
        }
        out.push(o);
    }
    out
}

/// Values sorted once, for medians that leave one value out.
struct Sorted(Vec<f64>);

impl Sorted {
    fn new(values: impl Iterator<Item = f64>) -> Self {
        let mut v: Vec<f64> = values.collect();
        v.sort_by(f64::total_cmp);
        Sorted(v)
    }

    /// The median (as `util::median` computes it) of the values without one occurrence of
    /// `own`; NaN leaves every value in.
    fn median_without(&self, own: f64) -> Option<f64> {
        let skip = if own.is_nan() {
            None
        } else {
            self.0.iter().position(|v| v.total_cmp(&own).is_eq())
        };
        let n = self.0.len() - usize::from(skip.is_some());
        if n == 0 {
            return None;
        }
        let get = |i: usize| match skip {
            Some(s) if i >= s => self.0[i + 1],
            _ => self.0[i],
        };
        let rank = 0.5 * (n - 1) as f64;
        let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
        Some(get(lo) + (get(hi) - get(lo)) * (rank - lo as f64))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::triage::Facts;

    /// Instances at the given CPU for `minutes`, with the given task counts.
    fn fleet(cpu: &[f64], tasks: &[u32], minutes: usize) -> Facts {
        let mut f = facts();
        let mut s = service("web", 4);
        s.placement_strategy = vec!["binpack(cpu)".into()];
        f.services = vec![s];
        for (n, (&c, &t)) in cpu.iter().zip(tasks).enumerate() {
            let mut i = instance(n as u32 + 1, "m5.large");
            i.running_tasks = t;
            let mut v = flat(20.0, 20);
            v.extend(flat(c, minutes));
            f.series(cat::instance_cpu(&i), &v);
            if n == 0 {
                f.tasks = vec![on(task("web", 1, 3600), &i)];
            }
            f.instances.push(i);
        }
        f
    }

    #[test]
    fn a_hot_instance_fires_without_a_hold() {
        let found = check(&fleet(&[92.0, 40.0, 45.0, 50.0], &[4, 4, 4, 4], 10).input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(found[0].hold, None);
        assert_eq!(
            found[0].message,
            "i-00000000000000001: CPU 92% with 4 tasks while cluster median is 45% / 4 tasks — \
             uneven placement (strategy binpack(cpu))"
        );
    }

    #[test]
    fn cpu_edges_and_window() {
        // 40 points above the median, at 85 %: fires; 39.9 above: quiet.
        assert_eq!(
            check(&fleet(&[85.0, 45.0, 45.0], &[2, 2, 2], 10).input()).len(),
            1
        );
        assert!(check(&fleet(&[85.0, 45.1, 45.1], &[2, 2, 2], 10).input()).is_empty());
        assert!(check(&fleet(&[84.9, 10.0, 10.0], &[2, 2, 2], 10).input()).is_empty());
        assert!(
            check(&fleet(&[95.0, 10.0, 10.0], &[2, 2, 2], 8).input()).is_empty(),
            "8 min"
        );
    }

    #[test]
    fn twice_the_median_task_count_fires_with_a_hold() {
        let found = check(&fleet(&[30.0, 30.0, 30.0], &[8, 4, 4], 10).input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].hold, Some(HOLD));
        assert!(check(&fleet(&[30.0, 30.0, 30.0], &[7, 4, 4], 10).input()).is_empty());
        assert!(check(&fleet(&[30.0, 30.0, 30.0], &[2, 1, 1], 10).input()).is_empty());
    }

    #[test]
    fn two_instances_are_not_a_cluster_to_compare() {
        assert!(check(&fleet(&[95.0, 10.0], &[8, 1], 10).input()).is_empty());
    }

    #[test]
    fn the_median_without_one_value_matches_the_direct_one() {
        use super::super::util::median;
        let values = [3.0, 9.0, 1.0, 9.0, 4.0, 7.0, 2.0];
        let sorted = Sorted::new(values.iter().copied());
        for k in 0..values.len() {
            let others: Vec<f64> = (0..values.len())
                .filter(|&j| j != k)
                .map(|j| values[j])
                .collect();
            assert_eq!(
                sorted.median_without(values[k]),
                median(&others),
                "without #{k}"
            );
        }
        assert_eq!(sorted.median_without(f64::NAN), median(&values));
        assert_eq!(Sorted::new([5.0].into_iter()).median_without(5.0), None);
    }
}
