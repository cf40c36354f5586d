//! The incremental engine: every rule judges one cluster's objects, so the rules run cluster by
//! cluster and a cluster whose inputs did not change since its last evaluation keeps that
//! evaluation's observations. The correlations (which combine one service's findings across
//! rules) are kept with them.
//!
//! What a cluster's rules read is summed up in a fingerprint: the versions of the fleet answers
//! about it (and in which order they were fetched: of two answers holding the same task, the
//! later one's copy is read), its stops and their memory, its log samples, the target health of
//! its services' target groups, its scaling bounds, the metric series about its objects; and
//! for every cluster, what is shared (the clusters list, the alarms, the task definitions known,
//! the series that can't be traced to one cluster).
//!
//! Time alone also moves verdicts (windows, ages, "stuck for 10 minutes"): a cluster is
//! evaluated again at least every [`MAX_AGE`] even when nothing changed. The rules' time
//! constants (windows, holds, ages) are all whole minutes, the shortest one minute; the metric
//! series they read get new points once a minute (which changes the fingerprint anyway). 30 s
//! is half the shortest window: a verdict that time alone turns is at most 30 s late (the
//! full engine on a big fleet was up to its 15 s idle cadence plus an evaluation late), and a
//! quiet cluster costs one evaluation every other idle round (every 15 s) instead of each.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use chrono::TimeDelta;

use crate::model::{History, Observation, Query, SeriesKey, Time};
use crate::triage::{self, Input};

use super::EngineJob;

/// What a fingerprint is summed up with.
type Fingerprint = foldhash::quality::FoldHasher<'static>;

type WeakSeries = std::sync::Weak<crate::model::hash::FastMap<SeriesKey, History>>;

/// The latest points of a series hashed into its fingerprint: more than CloudWatch revises.
const REVISED_POINTS: usize = 15;

/// A cluster's observations are re-used for at most this long (see the module's comment).
pub const MAX_AGE: TimeDelta = TimeDelta::seconds(30);

/// What the engine keeps between evaluations; travels with the job to the engine's thread and
/// back.
#[derive(Debug, Clone, Default)]
pub struct EngineCache {
    clusters: HashMap<String, Cached>,
    /// The series map the per-series hashes below were taken from, and those hashes in its
    /// iteration order. Held weakly: a strong hold would make the UI loop's every write to the
    /// series (a metrics answer, 20,000 series on the biggest fleets) copy them all. A weak one
    /// still names that map alone — its address is not reused while the weak hold lasts, and a
    /// write moves the series to a new one.
    series: Option<(WeakSeries, Vec<u64>)>,
    /// What the last evaluation did.
    pub last: Reuse,
    /// The running tasks the last evaluation judged (each cluster's, kept with its
    /// observations: a re-used cluster's tasks are not read again).
    pub tasks: usize,
}

impl EngineCache {
    /// The running tasks the last evaluation judged in these clusters (by name).
    pub fn tasks_in<'a>(&self, clusters: impl Iterator<Item = &'a str>) -> usize {
        clusters
            .filter_map(|name| self.clusters.get(name))
            .map(|c| c.tasks)
            .sum()
    }
}

#[derive(Debug, Clone)]
struct Cached {
    fingerprint: u64,
    /// When these observations were taken (`now` of that evaluation).
    at: Time,
    /// How many running tasks they judged (the same while the fingerprint is: it holds the
    /// versions of the answers about them).
    tasks: usize,
    /// Each rule's observations, in catalog order.
    per_rule: Vec<Vec<Observation>>,
    /// The correlations' parents over them (every correlation is about one service).
    parents: Vec<Observation>,
}

/// Clusters whose observations the last evaluation re-used, and those it evaluated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reuse {
    pub reused: usize,
    pub evaluated: usize,
}

/// Every rule and correlation over `light` (the view of `job` without its tasks: each
/// cluster's are read from the job's fleet only when its rules run), re-using the clusters
/// whose fingerprint did not change within `max_age`.
pub fn evaluate<'a>(
    job: &'a EngineJob,
    light: &Input<'a>,
    cache: &mut EngineCache,
    max_age: TimeDelta,
) -> Vec<Observation> {
    let mut parts = light.by_cluster();
    // A cluster that only answers about tasks name (nothing else about it known yet) is a
    // part of its own when it holds tasks, as in the whole view.
    let task_only: std::collections::BTreeSet<&'a str> = job
        .fleet
        .slots()
        .filter(|(query, slot)| {
            matches!(query, Query::Tasks { .. } | Query::Task { .. })
                && slot.data.is_some()
                && slot.fetched_at.is_some_and(|at| at >= job.fresh_since)
        })
        .filter_map(|(query, _)| query.cluster().map(Input::cluster_name))
        .filter(|name| !parts.contains_key(name))
        .collect();
    for name in task_only {
        let tasks = job.fleet.cluster_tasks_since(job.fresh_since, name);
        if !tasks.is_empty() {
            let mut part = light.empty_part();
            part.tasks = tasks;
            parts.insert(name, part);
        }
    }
    let prints = fingerprints(job, light, &parts, cache);
    let mut reuse = Reuse::default();
    for (&name, part) in &mut parts {
        let print = prints.get(name).copied().unwrap_or_default();
        let fresh = cache
            .clusters
            .get(name)
            .is_some_and(|c| c.fingerprint == print && c.at <= job.now && job.now - c.at < max_age);
        if fresh {
            reuse.reused += 1;
            continue;
        }
        reuse.evaluated += 1;
        if part.tasks.is_empty() {
            part.tasks = job.fleet.cluster_tasks_since(job.fresh_since, name);
        }
        let per_rule = triage::observe(part);
        let parents = triage::rules::correlate(&per_rule.concat(), part);
        cache.clusters.insert(
            name.to_string(),
            Cached {
                fingerprint: print,
                at: job.now,
                tasks: part.tasks.len(),
                per_rule,
                parents,
            },
        );
    }
    cache
        .clusters
        .retain(|name, _| parts.contains_key(name.as_str()));
    cache.last = reuse;
    cache.tasks = parts
        .keys()
        .filter_map(|name| cache.clusters.get(*name))
        .map(|c| c.tasks)
        .sum();
    // Rule by rule, cluster by cluster: each rule's observations in the order the whole gives
    // them (one finding's first observation wins); then the parents, cluster by cluster.
    let kept: Vec<&Cached> = parts
        .keys()
        .filter_map(|name| cache.clusters.get(*name))
        .collect();
    let rules = triage::rules::all().count();
    let mut observations = Vec::new();
    for rule in 0..rules {
        for c in &kept {
            observations.extend(c.per_rule[rule].iter().cloned());
        }
    }
    for c in &kept {
        observations.extend(c.parents.iter().cloned());
    }
    observations
}

/// Feeds `{:?}` of `value` into `h`: for the small things (alarms, stops, scaling bounds)
/// whose every field a rule may read.
fn debug_hash(h: &mut Fingerprint, value: &impl std::fmt::Debug) {
    h.write_u64(crate::model::hash::of_debug(value));
}

/// Each cluster's fingerprint (see the module's comment).
fn fingerprints<'a>(
    job: &EngineJob,
    input: &Input<'a>,
    parts: &BTreeMap<&'a str, Input<'a>>,
    cache: &mut EngineCache,
) -> HashMap<String, u64> {
    let mut per: HashMap<&'a str, Fingerprint> = parts
        .keys()
        .map(|&name| {
            let mut h = crate::model::hash::hasher();
            name.hash(&mut h);
            (name, h)
        })
        .collect();
    let mut shared = crate::model::hash::hasher();

    // The fleet's answers: each cluster's, in the order they were fetched.
    let mut slots: Vec<(&str, Option<Time>, &Query, u64, bool)> = Vec::new();
    for (query, slot) in job.fleet.slots() {
        let since = match query {
            Query::Egress { .. } => job.egress_since,
            _ => job.fresh_since,
        };
        let fresh = slot.fetched_at.is_some_and(|at| at >= since);
        let Some(cluster) = query.cluster().map(Input::cluster_name) else {
            (slot.version, slot.data.is_some()).hash(&mut shared);
            continue;
        };
        if slot.data.is_some() {
            slots.push((cluster, slot.fetched_at, query, slot.version, fresh));
        }
    }
    slots.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    for (cluster, _, query, version, fresh) in slots {
        if let Some(h) = per.get_mut(cluster) {
            (query, version, fresh).hash(h);
        }
    }

    // Shared: the alarms, the task definitions known (they never change once fetched).
    debug_hash(&mut shared, &input.alarms);
    input.task_definitions.len().hash(&mut shared);

    for (&name, part) in parts {
        let Some(h) = per.get_mut(name) else { continue };
        for t in &part.stopped {
            debug_hash(h, t);
            if let Some(memory) = input.stop_memory.get(t.arn.as_str()) {
                debug_hash(h, &memory.points().collect::<Vec<_>>());
            }
        }
        for l in &part.logs {
            (&l.service, &l.task_arn, &l.container, l.at, &l.message).hash(h);
        }
        for s in &part.services {
            let groups = s
                .lb_bindings
                .iter()
                .map(|b| &b.target_group_arn)
                .chain(&s.target_group_arns);
            for tg in groups {
                tg.hash(h);
                // Polls are appended, never changed: how many, the first's time and the last.
                let polls = input.target_polls(tg);
                (polls.len(), polls.first().map(|p| p.fetched_at)).hash(h);
                debug_hash(h, &polls.last());
            }
            debug_hash(
                h,
                &input
                    .scaling
                    .get(&(name.to_string(), s.name.clone()))
                    .map(|b| format!("{b:?}")),
            );
        }
    }

    // The series: each traced to the clusters whose objects it is about, else shared.
    let owners = SeriesOwners::new(parts);
    let series = &job.series;
    let hashes = match &cache.series {
        Some((held, hashes)) if std::ptr::eq(held.as_ptr(), Arc::as_ptr(series)) => hashes.clone(),
        _ => series
            .iter()
            .map(|(key, history)| {
                // Every merge moves `loaded_until` and replaces only the latest periods
                // (CloudWatch revises those); a prune moves the first point.
                let mut h = crate::model::hash::hasher();
                key.hash(&mut h);
                (history.covered_from, history.loaded_until, history.len()).hash(&mut h);
                let first = history.points().next();
                let latest = history.points().rev().take(REVISED_POINTS);
                for p in first.into_iter().chain(latest) {
                    (p.at, p.value.to_bits()).hash(&mut h);
                }
                h.finish()
            })
            .collect(),
    };
    // Order-free sums: the map's order is its own.
    let mut sums: HashMap<&'a str, u64> = HashMap::new();
    let mut unowned = 0u64;
    for ((key, _), hash) in series.iter().zip(&hashes) {
        let clusters = owners.of(key);
        if clusters.is_empty() {
            unowned = unowned.wrapping_add(*hash);
        }
        for c in clusters {
            let sum = sums.entry(c).or_default();
            *sum = sum.wrapping_add(*hash);
        }
    }
    cache.series = Some((Arc::downgrade(series), hashes));
    unowned.hash(&mut shared);

    let shared = shared.finish();
    per.into_iter()
        .map(|(name, mut h)| {
            shared.hash(&mut h);
            sums.get(name).copied().unwrap_or_default().hash(&mut h);
            (name.to_string(), h.finish())
        })
        .collect()
}

/// Which clusters a metric series is about, by its dimensions: the cluster it names, the
/// cluster of the instance, target group or NAT gateway it names. A series traced to none is
/// shared by every cluster's fingerprint.
struct SeriesOwners<'a> {
    instances: HashMap<&'a str, &'a str>,
    target_groups: HashMap<&'a str, Vec<&'a str>>,
    nats: HashMap<&'a str, Vec<&'a str>>,
    clusters: std::collections::HashSet<&'a str>,
}

impl<'a> SeriesOwners<'a> {
    fn new(parts: &BTreeMap<&'a str, Input<'a>>) -> Self {
        let mut owners = SeriesOwners {
            instances: HashMap::new(),
            target_groups: HashMap::new(),
            nats: HashMap::new(),
            clusters: parts.keys().copied().collect(),
        };
        for (&name, part) in parts {
            for &i in &part.instances {
                owners.instances.insert(i.ec2_instance_id.as_str(), name);
            }
            for &s in &part.services {
                let groups = s
                    .lb_bindings
                    .iter()
                    .map(|b| b.target_group_arn.as_str())
                    .chain(s.target_group_arns.iter().map(String::as_str));
                for tg in groups {
                    // The metric's dimension is the ARN's tail: `targetgroup/name/id`.
                    let tail = tg.rsplit(':').next().unwrap_or(tg);
                    owners.target_groups.entry(tail).or_default().push(name);
                }
            }
            for &(_, g) in &part.nat_gateways {
                owners.nats.entry(g.id.as_str()).or_default().push(name);
            }
        }
        owners
    }

    fn of(&self, key: &SeriesKey) -> Vec<&'a str> {
        let m = &key.metric;
        if let Some(c) = m.dimension("ClusterName") {
            return self.clusters.get(c).map(|&c| vec![c]).unwrap_or_default();
        }
        // A load balancer's own series (no target group) is about every service behind it.
        if m.dimension("LoadBalancer").is_some() && m.dimension("TargetGroup").is_none() {
            return Vec::new();
        }
        if let Some(tg) = m.dimension("TargetGroup") {
            return self.target_groups.get(tg).cloned().unwrap_or_default();
        }
        if let Some(id) = m.dimension("InstanceId") {
            return self.instances.get(id).map(|&c| vec![c]).unwrap_or_default();
        }
        if let Some(id) = m.dimension("NatGatewayId") {
            return self.nats.get(id).cloned().unwrap_or_default();
        }
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Harness;

    /// Steps a demo fleet and, at every step, holds the incremental engine to the full one:
    /// (1) with nothing re-used, cutting by cluster gives exactly the full evaluation; (2) every
    /// cluster the engine re-used holds exactly what a full evaluation of that cluster's
    /// current data gives at the time its observations were taken (none older than
    /// [`MAX_AGE`]). Returns (re-used, evaluated) cluster evaluations over the run.
    fn same_as_full(scenario: &str, keys: &str, steps: usize, every: i64) -> (usize, usize) {
        let mut h = Harness::new(scenario, 160, 45);
        h.press(keys);
        let mut cache = EngineCache::default();
        let (mut reused, mut evaluated) = (0, 0);
        for step in 0..steps {
            h.advance(every);
            let job = h.engine_job();
            h.state.triage.jobs.running = None;
            job.with_input(|input| {
                let full = triage::evaluate(input);
                let mut nothing_kept = EngineCache::default();
                let light = job.input_without_tasks();
                let cut = evaluate(&job, &light, &mut nothing_kept, TimeDelta::zero());
                assert_eq!(nothing_kept.last.reused, 0);
                assert_eq!(cut, full, "{scenario} step {step}: cut by cluster");

                // The job as the engine's thread runs it: the same findings, and the series
                // the rules want worked out over every task as from the whole view.
                let mut due = job.clone();
                due.wanted_due = true;
                due.cache = Box::default();
                let ran = due.run();
                assert_eq!(ran.observations, full, "{scenario} step {step}: run");
                let change = ran.wanted.expect("due");
                let (wanted, basis) =
                    (change.all.iter().cloned().collect::<Vec<_>>(), change.basis);
                let mut expected = triage::rules::wanted_metrics(
                    &input.clusters,
                    &input.services,
                    &input.instances,
                    &input.tasks,
                    &input.nat_gateways,
                    &job.watched,
                );
                expected.sort_unstable();
                expected.dedup();
                assert_eq!(wanted, expected, "{scenario} step {step}: wanted series");
                let enhanced = |t: &crate::model::Task| {
                    input.clusters.iter().any(|c| {
                        c.container_insights == crate::model::Insights::Enhanced
                            && c.name == Input::cluster_name(&t.cluster_arn)
                    })
                };
                let with_series = input.tasks.iter().filter(|t| enhanced(t)).count();
                assert_eq!(basis.2, with_series, "{scenario} step {step}");

                let _ = evaluate(&job, &light, &mut cache, MAX_AGE);
                assert_eq!(cache.tasks, input.tasks.len(), "{scenario} step {step}");
                reused += cache.last.reused;
                evaluated += cache.last.evaluated;
                for (name, mut part) in input.by_cluster() {
                    let kept = &cache.clusters[name];
                    assert!(job.now - kept.at < MAX_AGE, "{scenario}: {name} too old");
                    part.now = kept.at;
                    let per_rule = triage::observe(&part);
                    assert_eq!(
                        per_rule, kept.per_rule,
                        "{scenario} step {step}: {name} re-used over changed data"
                    );
                    let parents = triage::rules::correlate(&per_rule.concat(), &part);
                    assert_eq!(parents, kept.parents, "{scenario} step {step}: {name}");
                }
            });
        }
        (reused, evaluated)
    }

    #[test]
    fn the_incremental_engine_finds_what_the_full_one_finds() {
        for scenario in [
            "default",
            "memory-leak",
            "bad-deploy",
            "sg-outage",
            "nat",
            "capacity",
        ] {
            let (reused, evaluated) = same_as_full(scenario, "", 24, 4);
            assert!(evaluated > 0, "{scenario}");
            eprintln!("{scenario}: {reused} cluster evaluations re-used, {evaluated} run");
        }
        // Tasks on screen: their own memory series are wanted (the tasks the engine reads
        // cluster by cluster must give the same ones).
        let (_, evaluated) = same_as_full("default", ":tasks<enter>", 8, 4);
        assert!(evaluated > 0);
    }

    #[test]
    fn stats_tell_what_the_last_evaluation_reused() {
        let mut h = Harness::new("default", 160, 45);
        h.advance(60);
        let reuse = h.state.triage.last_reuse;
        assert!(reuse.evaluated + reuse.reused >= 2, "{reuse:?}");
        h.press(":stats<enter>");
        let Some(crate::state::Popup::Describe { lines, .. }) = h.state.popups.last() else {
            panic!("no :stats popup: {}", h.render());
        };
        let expected = format!(
            "re-evaluated {} cluster(s) and re-used {}",
            reuse.evaluated, reuse.reused
        );
        assert!(lines.iter().any(|l| l.contains(&expected)), "{lines:#?}");
    }

    #[test]
    fn a_quiet_cluster_is_reused_and_time_alone_runs_it_again() {
        let mut h = Harness::new("default", 160, 45);
        h.advance(40);
        let job = h.engine_job();
        h.state.triage.jobs.running = None;
        let mut cache = EngineCache::default();
        {
            let input = job.input_without_tasks();
            let first = evaluate(&job, &input, &mut cache, MAX_AGE);
            let clusters = cache.last.evaluated;
            assert!(clusters > 1);
            assert_eq!(evaluate(&job, &input, &mut cache, MAX_AGE), first);
            assert_eq!(
                cache.last,
                Reuse {
                    reused: clusters,
                    evaluated: 0
                },
                "nothing changed: every cluster re-used"
            );
        }
        let mut later = job.clone();
        later.now = job.now + MAX_AGE;
        let _ = evaluate(&later, &later.input_without_tasks(), &mut cache, MAX_AGE);
        assert_eq!(
            cache.last.reused, 0,
            "too old: every cluster evaluated again"
        );
    }

    #[test]
    fn the_cache_leaves_the_series_unshared_and_tells_a_merged_map_apart() {
        let mut h = Harness::new("default", 160, 45);
        h.advance(70);
        let job = h.engine_job();
        h.state.triage.jobs.running = None;
        let mut cache = EngineCache::default();
        let series = Arc::clone(&job.series);
        assert!(!series.is_empty(), "the demo has series by now");
        evaluate(&job, &job.input_without_tasks(), &mut cache, MAX_AGE);
        let unchanged = cache.series.as_ref().map(|(_, hashes)| hashes.clone());
        drop(job);
        drop(series);
        // Nothing but the state holds the map: a metrics answer merges into it in place.
        assert_eq!(Arc::strong_count(&h.state.metrics.shared_series()), 2);
        let key = h.state.metrics.keys().next().unwrap().clone();
        let at = h.state.now;
        let point = crate::model::Point { at, value: 12.5 };
        let answer = vec![crate::model::SeriesData {
            key: key.clone(),
            points: vec![point],
        }];
        h.state.metrics.merge(
            at,
            at + TimeDelta::minutes(1),
            answer,
            std::slice::from_ref(&key),
        );
        // The next job's map is another one: its hashes are taken again, with the new point.
        let job = h.engine_job();
        h.state.triage.jobs.running = None;
        let (held, _) = cache.series.as_ref().unwrap();
        assert!(!std::ptr::eq(held.as_ptr(), Arc::as_ptr(&job.series)));
        evaluate(&job, &job.input_without_tasks(), &mut cache, MAX_AGE);
        let merged = cache.series.as_ref().map(|(_, hashes)| hashes.clone());
        assert_ne!(merged, unchanged);
    }
}
