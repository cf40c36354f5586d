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
//! Inside a cluster whose fingerprint changed, the rules that judge one service at a time
//! ([`Scope::Service`]) run again only over the services whose own part changed (see
//! [`Input::by_service`]): the service, its tasks running and stopped, its log lines, its target
//! groups' health and scaling bounds, and what every part of the cluster shares (its instances,
//! NAT gateways, metric series and the shared data above). On `--demo huge` the 60,000-task
//! cluster changes every few seconds, a handful of its 1,200 services at a time. The rules that
//! judge the cluster as a whole ([`Scope::Cluster`]: instances, NAT gateways, reservations,
//! services compared with each other) and the correlations run over the whole cluster.
//!
//! Time alone also moves verdicts (windows, ages, "stuck for 10 minutes"): a cluster is
//! evaluated again at least every [`MAX_AGE`] even when nothing changed. The rules' time
//! constants (windows, holds, ages) are all whole minutes, the shortest one minute; the metric
//! series they read get new points once a minute (which changes the fingerprint anyway). 30 s
//! is half the shortest window: a verdict that time alone turns is at most 30 s late (the
//! full engine on a big fleet was up to its 15 s idle cadence plus an evaluation late), and a
//! quiet cluster costs one evaluation every other idle round (every 15 s) instead of each. The
//! same bound holds for a service's part. On a fleet so big that its evaluations are spaced by
//! its size, the bound is four evaluations instead ([`max_age`]): up to a minute.
//!
//! [`Scope::Service`]: triage::rules::Scope::Service
//! [`Scope::Cluster`]: triage::rules::Scope::Cluster

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use chrono::TimeDelta;

use crate::model::hash::FastMap;
use crate::model::{Observation, Query, SeriesKey, Snapshot, Time};
use crate::triage::rules::Scope;
use crate::triage::{self, Input};

use super::EngineJob;

/// What a fingerprint is summed up with.
type Fingerprint = foldhash::quality::FoldHasher<'static>;

/// A cluster's observations are re-used for at most this long (see the module's comment)…
pub const MAX_AGE: TimeDelta = TimeDelta::seconds(30);

/// …or for four evaluations, on a fleet so big that its evaluations are spaced `every` apart
/// by its size (`update::triage`): from 40,000 tasks judged, up to 60 s at 75,000 and more.
/// There, re-judging every unchanged service every 30 s was the idle console's biggest cost
/// (every other evaluation judged all 2,000 services of `--demo huge` again), and a verdict
/// time alone turns is at most a minute late — a spacing already traded on such fleets.
pub fn max_age(every: TimeDelta) -> TimeDelta {
    MAX_AGE.max(every * 4)
}

/// What the engine keeps between evaluations; travels with the job to the engine's thread and
/// back.
#[derive(Debug, Clone, Default)]
pub struct EngineCache {
    clusters: HashMap<String, Cached>,
    /// What is worked out once per answer (see `RowPrints`).
    rows: PerAnswer,
    /// What the last evaluation did.
    pub last: Reuse,
    /// The running tasks the last evaluation judged (each cluster's, kept with its
    /// observations: a re-used cluster's tasks are not read again).
    pub tasks: usize,
    /// The tasks' own series last worked out (`EngineJob::run`), with the answers and the
    /// watched tasks they were worked out from: the same again, not another pass over them.
    pub task_series: Option<(
        u64,
        Arc<triage::rules::Watched>,
        Vec<crate::model::MetricId>,
    )>,
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
    /// The service-scoped rules' observations of each of the cluster's services (`None`: the
    /// tasks of no service listed), by [`Input::by_service`].
    services: HashMap<Option<String>, CachedPart>,
}

/// One service's part of a cluster, as last judged by the service-scoped rules.
#[derive(Debug, Clone)]
struct CachedPart {
    fingerprint: u64,
    at: Time,
    /// Each rule's observations in catalog order; the cluster-scoped rules' are empty.
    per_rule: Vec<Vec<Observation>>,
}

/// Clusters whose observations the last evaluation re-used, and those it evaluated; within
/// those, the services (parts, see [`Input::by_service`]) whose service-scoped rules it ran
/// again and those whose observations it re-used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reuse {
    pub reused: usize,
    pub evaluated: usize,
    pub services_reused: usize,
    pub services_evaluated: usize,
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
    let (prints, contexts, mut series) = fingerprints(job, light, &parts);
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
        let before = cache
            .clusters
            .remove(name)
            .map(|c| c.services)
            .unwrap_or_default();
        let context = contexts.get(name).copied().unwrap_or_default();
        series.hosts_of_cluster(&part.instances);
        let (per_rule, services) = evaluate_cluster(
            job,
            name,
            part,
            (context, &series),
            before,
            max_age,
            (&mut reuse, &mut cache.rows),
        );
        let parents = triage::rules::correlate(&per_rule.concat(), part);
        cache.clusters.insert(
            name.to_string(),
            Cached {
                fingerprint: print,
                at: job.now,
                tasks: part.tasks.len(),
                per_rule,
                parents,
                services,
            },
        );
    }
    cache
        .clusters
        .retain(|name, _| parts.contains_key(name.as_str()));
    // What was worked out of answers the fleet no longer holds, or of their older versions,
    // goes.
    cache.rows.retain(&job.fleet);
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

/// One changed cluster's rules, rule by rule in catalog order: the cluster-scoped ones over the
/// whole `part`, the service-scoped ones over each service's part, re-using `before`'s
/// observations of a part whose fingerprint (on top of the cluster's `context`) is unchanged
/// and younger than `max_age`. Returns them with what to keep for the next evaluation.
fn evaluate_cluster<'a>(
    job: &'a EngineJob,
    cluster: &str,
    part: &Input<'a>,
    context: (u64, &SeriesOfParts),
    mut before: HashMap<Option<String>, CachedPart>,
    max_age: TimeDelta,
    (reuse, made): (&mut Reuse, &mut PerAnswer),
) -> (Vec<Vec<Observation>>, HashMap<Option<String>, CachedPart>) {
    let rules: Vec<&triage::rules::Rule> = triage::rules::all().collect();
    let prints = RowPrints::of(job, cluster, made);
    let mut kept = HashMap::new();
    let mut services: Vec<Vec<Vec<Observation>>> = Vec::new();
    for (key, sub) in part.by_service() {
        let print = part_fingerprint(context, key, &sub, part, &prints);
        let key = key.map(str::to_string);
        let cached = before
            .remove(&key)
            .filter(|c| c.fingerprint == print && c.at <= job.now && job.now - c.at < max_age);
        let cached = match cached {
            Some(c) => {
                reuse.services_reused += 1;
                c
            }
            None => {
                reuse.services_evaluated += 1;
                let per_rule = rules
                    .iter()
                    .map(|r| match r.scope {
                        Scope::Service => (r.check)(&sub),
                        Scope::Cluster => Vec::new(),
                    })
                    .collect();
                CachedPart {
                    fingerprint: print,
                    at: job.now,
                    per_rule,
                }
            }
        };
        services.push(cached.per_rule.clone());
        kept.insert(key, cached);
    }
    let per_rule = rules
        .iter()
        .enumerate()
        .map(|(n, r)| match r.scope {
            Scope::Cluster => (r.check)(part),
            Scope::Service => services.iter().flat_map(|s| s[n].iter().cloned()).collect(),
        })
        .collect();
    (per_rule, kept)
}

/// Each row's print of a cluster's answers, by the row's address: the pollers' (see
/// [`Snapshot::fingerprint`]) where they made them, else made here once per answer (`rows`
/// keeps them while the answer's version holds). Hashing 60,000 tasks, or formatting 1,200
/// services with their events, at every evaluation would cost more than the rules of the few
/// services that changed.
#[derive(Default)]
struct RowPrints {
    /// With each task's [`TaskIdent`].
    tasks: FastMap<usize, (u64, TaskIdent)>,
    services: FastMap<usize, u64>,
}

/// What the engine works out once per answer, by answer: (its version, what it worked out).
#[derive(Debug, Clone, Default)]
struct PerAnswer {
    /// The row prints of answers that came without them.
    prints: HashMap<Query, (u64, Arc<Vec<u64>>)>,
    /// Each task's [`TaskIdent`], of every tasks answer.
    idents: HashMap<Query, (u64, Arc<Vec<TaskIdent>>)>,
}

impl PerAnswer {
    /// Keeps what was worked out of the answers `fleet` holds, in the versions it holds.
    fn retain(&mut self, fleet: &super::Fleet) {
        let held =
            |query: &Query, version: u64| fleet.slot(query).is_some_and(|s| s.version == version);
        self.prints
            .retain(|query, (version, _)| held(query, *version));
        self.idents
            .retain(|query, (version, _)| held(query, *version));
    }
}

/// What a task's part fingerprint looks its series up by, hashed once per answer: its id
/// (its own series) and its host's ARN (the host's). A 60,000-task cluster's tasks are not
/// read again by name, nor their names hashed, at each evaluation.
#[derive(Debug, Clone, Copy)]
struct TaskIdent {
    id: u64,
    host: Option<u64>,
}

impl TaskIdent {
    fn of(t: &crate::model::Task) -> Self {
        TaskIdent {
            id: ident(t.id()),
            host: t.container_instance_arn.as_deref().map(ident),
        }
    }
}

/// A name's hash, standing for it in [`SeriesOfParts`]' lookups by task id and host ARN (two
/// names share one with a chance of 2⁻⁶⁴, as two fingerprints do).
fn ident(name: &str) -> u64 {
    crate::model::hash::of_hash(&name)
}

impl RowPrints {
    fn of(job: &EngineJob, cluster: &str, made: &mut PerAnswer) -> Self {
        let mut prints = RowPrints::default();
        fn address<T>(row: &T) -> usize {
            row as *const T as usize
        }
        for (query, slot) in job.fleet.slots() {
            if query.cluster().map(Input::cluster_name) != Some(cluster) {
                continue;
            }
            let Some(data) = slot.data.as_deref() else {
                continue;
            };
            let len = match data {
                Snapshot::Tasks(v) => v.len(),
                Snapshot::Services(v) => v.len(),
                _ => continue,
            };
            let rows = match &slot.fingerprint {
                Some(print) if print.rows.len() == len => Arc::clone(&print.rows),
                _ => match made.prints.get(query) {
                    Some((version, rows)) if *version == slot.version => Arc::clone(rows),
                    _ => {
                        let Some(rows) = data.row_prints() else {
                            continue;
                        };
                        let rows = Arc::new(rows);
                        made.prints
                            .insert(query.clone(), (slot.version, Arc::clone(&rows)));
                        rows
                    }
                },
            };
            match data {
                Snapshot::Tasks(v) => {
                    let idents = match made.idents.get(query) {
                        Some((version, idents)) if *version == slot.version => Arc::clone(idents),
                        _ => {
                            let idents = Arc::new(v.iter().map(TaskIdent::of).collect::<Vec<_>>());
                            made.idents
                                .insert(query.clone(), (slot.version, Arc::clone(&idents)));
                            idents
                        }
                    };
                    let rows = rows.iter().copied().zip(idents.iter().copied());
                    prints.tasks.extend(v.iter().map(address).zip(rows));
                }
                Snapshot::Services(v) => prints
                    .services
                    .extend(v.iter().map(address).zip(rows.iter().copied())),
                _ => {}
            }
        }
        prints
    }

    /// A task's print and [`TaskIdent`].
    fn task(&self, t: &crate::model::Task) -> (u64, TaskIdent) {
        let address = t as *const _ as usize;
        self.tasks
            .get(&address)
            .copied()
            .unwrap_or_else(|| (crate::model::hash::of_hash(t), TaskIdent::of(t)))
    }

    fn service(&self, s: &crate::model::Service) -> u64 {
        let address = s as *const _ as usize;
        self.services
            .get(&address)
            .copied()
            .unwrap_or_else(|| crate::model::hash::of_debug(s))
    }
}

/// A service's part's fingerprint: the cluster's `context` (everything every part shares) and
/// the part's own objects, as its rules read them, with the metric series about them.
fn part_fingerprint(
    (context, series): (u64, &SeriesOfParts),
    key: Option<&str>,
    sub: &Input,
    whole: &Input,
    prints: &RowPrints,
) -> u64 {
    let mut h = crate::model::hash::hasher();
    (context, key).hash(&mut h);
    for &s in &sub.services {
        (prints.service(s), series.service(s)).hash(&mut h);
        service_extras(&mut h, whole, s);
    }
    for &t in &sub.tasks {
        let (print, ident) = prints.task(t);
        (print, series.task(ident)).hash(&mut h);
    }
    for &t in &sub.stopped {
        series.task(TaskIdent::of(t)).hash(&mut h);
    }
    stops_and_logs(&mut h, whole, sub);
    h.finish()
}

/// What a part's stopped tasks and log lines feed its fingerprint (the cluster's and a
/// service's alike).
fn stops_and_logs(h: &mut Fingerprint, whole: &Input, part: &Input) {
    for t in &part.stopped {
        debug_hash(h, t);
        if let Some(memory) = whole.stop_memory.get(t.arn.as_str()) {
            debug_hash(h, &memory.points().collect::<Vec<_>>());
        }
    }
    for l in &part.logs {
        (&l.service, &l.task_arn, &l.container, l.at, &l.message).hash(h);
    }
}

/// What a service's target groups' health and its scaling bounds feed a fingerprint.
fn service_extras(h: &mut Fingerprint, whole: &Input, s: &crate::model::Service) {
    let groups = s
        .lb_bindings
        .iter()
        .map(|b| &b.target_group_arn)
        .chain(&s.target_group_arns);
    for tg in groups {
        tg.hash(h);
        // Polls are appended, never changed: how many, the first's time and the last.
        let polls = whole.target_polls(tg);
        (polls.len(), polls.first().map(|p| p.fetched_at)).hash(h);
        debug_hash(h, &polls.last());
    }
    let cluster = Input::cluster_name(&s.cluster_arn);
    debug_hash(
        h,
        &whole
            .scaling
            .get(&(cluster.to_string(), s.name.clone()))
            .map(|b| format!("{b:?}")),
    );
}

/// Feeds `{:?}` of `value` into `h`: for the small things (alarms, stops, scaling bounds)
/// whose every field a rule may read.
fn debug_hash(h: &mut Fingerprint, value: &impl std::fmt::Debug) {
    h.write_u64(crate::model::hash::of_debug(value));
}

/// Each cluster's fingerprint (see the module's comment).
fn fingerprints<'a>(
    job: &'a EngineJob,
    input: &Input<'a>,
    parts: &BTreeMap<&'a str, Input<'a>>,
) -> (
    HashMap<String, u64>,
    HashMap<&'a str, u64>,
    SeriesOfParts<'a>,
) {
    let mut per: HashMap<&'a str, Fingerprint> = parts
        .keys()
        .map(|&name| {
            let mut h = crate::model::hash::hasher();
            name.hash(&mut h);
            (name, h)
        })
        .collect();
    let mut shared = crate::model::hash::hasher();
    // The answers about no cluster (the clusters list: its counts move with every task).
    let mut listed = crate::model::hash::hasher();

    // The fleet's answers: each cluster's, in the order they were fetched.
    let mut slots: Vec<(&str, Option<Time>, &Query, u64, bool)> = Vec::new();
    for (query, slot) in job.fleet.slots() {
        let since = match query {
            Query::Egress { .. } => job.egress_since,
            _ => job.fresh_since,
        };
        let fresh = slot.fetched_at.is_some_and(|at| at >= since);
        let Some(cluster) = query.cluster().map(Input::cluster_name) else {
            (slot.version, slot.data.is_some()).hash(&mut listed);
            continue;
        };
        if slot.data.is_some() {
            slots.push((cluster, slot.fetched_at, query, slot.version, fresh));
        }
    }
    slots.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    // What every service's part of a cluster shares, as the service-scoped rules read it (see
    // `Scope::Service`): the cluster's tags, its NAT gateways, its instances' identity, place
    // and status. Not their counts and free resources, which move with every task placed.
    let mut context: HashMap<&'a str, Fingerprint> = per.clone();
    for (cluster, _, query, version, fresh) in slots {
        if let Some(h) = per.get_mut(cluster) {
            (query, version, fresh).hash(h);
        }
        if let Some(h) = context.get_mut(cluster)
            && matches!(query, Query::Egress { .. })
        {
            (query, version, fresh).hash(h);
        }
    }
    for (&name, part) in parts {
        let Some(h) = context.get_mut(name) else {
            continue;
        };
        for c in &part.clusters {
            (&c.name, &c.tags).hash(h);
        }
        for i in part.instances.iter() {
            let place = (
                &i.arn,
                &i.ec2_instance_id,
                &i.availability_zone,
                &i.subnet_id,
            );
            (place, &i.status, i.agent_connected, i.loading).hash(h);
        }
    }

    // Shared: the alarms, the task definitions known (they never change once fetched).
    debug_hash(&mut shared, &input.alarms);
    input.task_definitions.len().hash(&mut shared);

    for (&name, part) in parts {
        let Some(h) = per.get_mut(name) else { continue };
        stops_and_logs(h, input, part);
        for s in &part.services {
            service_extras(h, input, s);
        }
    }

    // The series: each traced to the clusters whose objects it is about, else shared.
    let owners = SeriesOwners::new(parts);
    let series = &job.series;
    // Order-free sums: the map's order is its own.
    let mut sums: HashMap<&'a str, u64> = HashMap::new();
    // The same, for what every service's part of a cluster shares: the series about no one
    // service, task, target group or host.
    let mut context_sums: HashMap<&'a str, u64> = HashMap::new();
    let mut of_parts = SeriesOfParts::default();
    let mut unowned = 0u64;
    for (key, history) in series.iter() {
        // A series by its revision, which every change to it renews: no hash of 20,000 names
        // and their points at every evaluation.
        let hash = crate::model::hash::of_hash(&history.revision());
        let clusters = owners.of(key);
        if clusters.is_empty() {
            unowned = unowned.wrapping_add(hash);
        }
        let of_part = of_parts.add(key, hash);
        for c in clusters {
            let sum = sums.entry(c).or_default();
            *sum = sum.wrapping_add(hash);
            if !of_part {
                let sum = context_sums.entry(c).or_default();
                *sum = sum.wrapping_add(hash);
            }
        }
    }
    unowned.hash(&mut shared);

    let shared = shared.finish();
    let finish = |sums: &HashMap<&'a str, u64>, name: &str, mut h: Fingerprint| {
        shared.hash(&mut h);
        sums.get(name).copied().unwrap_or_default().hash(&mut h);
        h.finish()
    };
    let contexts = context
        .into_iter()
        .map(|(name, h)| (name, finish(&context_sums, name, h)))
        .collect();
    let listed = listed.finish();
    let prints = per
        .into_iter()
        .map(|(name, mut h)| {
            listed.hash(&mut h);
            (name.to_string(), finish(&sums, name, h))
        })
        .collect();
    (prints, contexts, of_parts)
}

/// The metric series about one service, task, target group or host, summed by that object:
/// what a service's part reads of them goes into its own fingerprint, so a metrics answer
/// arriving in batches re-runs the rules of the services it brought points for, not all.
#[derive(Default)]
struct SeriesOfParts<'a> {
    /// By (cluster, service).
    services: FastMap<(&'a str, &'a str), u64>,
    /// By task id (Container Insights' per-task series), as its [`ident`].
    tasks: FastMap<u64, u64>,
    /// By the target group's dimension (`targetgroup/name/id`).
    target_groups: FastMap<&'a str, u64>,
    /// By EC2 instance id.
    hosts: FastMap<&'a str, u64>,
    /// The same, by the [`ident`] of the instance's ARN, for the cluster being judged.
    host_arns: FastMap<u64, u64>,
}

impl<'a> SeriesOfParts<'a> {
    /// Adds a series to the object it is about; false when it is about no one such object.
    fn add(&mut self, key: &'a SeriesKey, hash: u64) -> bool {
        let m = &key.metric;
        let sum = if let Some(id) = m.dimension(crate::model::metric_catalog::TASK_ID) {
            self.tasks.entry(ident(id)).or_default()
        } else if let (Some(c), Some(s)) = (m.dimension("ClusterName"), m.dimension("ServiceName"))
        {
            self.services.entry((c, s)).or_default()
        } else if let Some(tg) = m.dimension("TargetGroup") {
            self.target_groups.entry(tg).or_default()
        } else if let Some(id) = m.dimension("InstanceId") {
            self.hosts.entry(id).or_default()
        } else {
            return false;
        };
        *sum = sum.wrapping_add(hash);
        true
    }

    fn service(&self, s: &crate::model::Service) -> u64 {
        let cluster = Input::cluster_name(&s.cluster_arn);
        let own = self.services.get(&(cluster, s.name.as_str()));
        let groups = s
            .lb_bindings
            .iter()
            .map(|b| b.target_group_arn.as_str())
            .chain(s.target_group_arns.iter().map(String::as_str))
            .map(|tg| {
                crate::model::arn::target_group_dimension(tg)
                    .and_then(|tg| self.target_groups.get(tg))
            });
        std::iter::once(own).chain(groups).fold(0u64, |h, sum| {
            h.rotate_left(5) ^ sum.copied().unwrap_or_default()
        })
    }

    /// A task's own series, and its host's (by the host's ARN: see
    /// [`SeriesOfParts::hosts_of_cluster`]). Skips the lookups when there is nothing to find:
    /// they are made for each of 60,000 tasks.
    fn task(&self, t: TaskIdent) -> (u64, u64) {
        let own = (!self.tasks.is_empty())
            .then(|| self.tasks.get(&t.id).copied())
            .flatten();
        let host = (!self.host_arns.is_empty())
            .then(|| self.host_arns.get(&t.host?).copied())
            .flatten();
        (own.unwrap_or_default(), host.unwrap_or_default())
    }

    /// The host series of `instances` (one cluster's), by the instance's ARN, as a task names
    /// its host (the first of duplicates wins, as `Input::instance_of` finds it).
    fn hosts_of_cluster(&mut self, instances: &[&'a crate::model::Instance]) {
        self.host_arns.clear();
        for i in instances {
            if let Some(&sum) = self.hosts.get(i.ec2_instance_id.as_str()) {
                self.host_arns.entry(ident(&i.arn)).or_insert(sum);
            }
        }
    }
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
            for &i in part.instances.iter() {
                owners.instances.insert(i.ec2_instance_id.as_str(), name);
            }
            for &s in &part.services {
                let groups = s
                    .lb_bindings
                    .iter()
                    .map(|b| b.target_group_arn.as_str())
                    .chain(s.target_group_arns.iter().map(String::as_str));
                for tg in groups {
                    if let Some(tail) = crate::model::arn::target_group_dimension(tg) {
                        owners.target_groups.entry(tail).or_default().push(name);
                    }
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
        let (mut reused, mut evaluated, mut reused_services) = (0, 0, 0);
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
                assert_eq!(nothing_kept.last.services_reused, 0);
                assert_eq!(
                    in_order(&cut),
                    in_order(&full),
                    "{scenario} step {step}: cut by cluster and service"
                );

                // The job as the engine's thread runs it: the same findings, and the series
                // the rules want worked out over every task as from the whole view.
                let mut due = job.clone();
                due.wanted_due = true;
                due.cache = Box::default();
                let ran = due.run();
                assert_eq!(
                    in_order(&ran.observations),
                    in_order(&full),
                    "{scenario} step {step}: run"
                );
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
                let task_series = wanted
                    .iter()
                    .filter(|m| m.dimension(crate::model::metric_catalog::TASK_ID).is_some())
                    .count();
                assert_eq!(basis.2, task_series, "{scenario} step {step}");

                let _ = evaluate(&job, &light, &mut cache, MAX_AGE);
                assert_eq!(cache.tasks, input.tasks.len(), "{scenario} step {step}");
                reused += cache.last.reused;
                evaluated += cache.last.evaluated;
                reused_services += cache.last.services_reused;
                for (name, mut part) in input.by_cluster() {
                    let kept = &cache.clusters[name];
                    assert!(job.now - kept.at < MAX_AGE, "{scenario}: {name} too old");
                    // Each service's part: what its rules find over its current data at the
                    // time its observations were taken.
                    let services = part.by_service();
                    assert_eq!(services.len(), kept.services.len(), "{scenario}: {name}");
                    for (key, mut sub) in services {
                        let held = &kept.services[&key.map(str::to_string)];
                        assert!(job.now - held.at < MAX_AGE, "{scenario}: {name} {key:?}");
                        sub.now = held.at;
                        for (n, rule) in triage::rules::all().enumerate() {
                            let expected = match rule.scope {
                                Scope::Service => (rule.check)(&sub),
                                Scope::Cluster => Vec::new(),
                            };
                            assert_eq!(
                                held.per_rule[n], expected,
                                "{scenario} step {step}: {name} {key:?} {} re-used over \
                                 changed data",
                                rule.id
                            );
                        }
                    }
                    part.now = kept.at;
                    for (n, rule) in triage::rules::all().enumerate() {
                        if rule.scope == Scope::Cluster {
                            assert_eq!(
                                kept.per_rule[n],
                                (rule.check)(&part),
                                "{scenario} step {step}: {name} {}",
                                rule.id
                            );
                        }
                    }
                    let parents = triage::rules::correlate(&kept.per_rule.concat(), &part);
                    assert_eq!(parents, kept.parents, "{scenario} step {step}: {name}");
                }
            });
        }
        eprintln!("{scenario}: {reused_services} service parts re-used");
        (reused, evaluated)
    }

    /// The observations in an order of their own: cut by service, a rule's observations of one
    /// cluster come service by service, not in the order the rule meets them in the whole.
    fn in_order(observations: &[Observation]) -> Vec<String> {
        let mut all: Vec<String> = observations.iter().map(|o| format!("{o:?}")).collect();
        all.sort_unstable();
        all
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
            "load-test-oom",
            "slow-dependency",
            "stuck-deploy",
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
        let expected = [
            format!(
                "re-evaluated {} cluster(s) and re-used {}",
                reuse.evaluated, reuse.reused
            ),
            format!(
                "it judged {} service(s) again and re-used {}",
                reuse.services_evaluated, reuse.services_reused
            ),
        ];
        for expected in expected {
            assert!(lines.iter().any(|l| l.contains(&expected)), "{lines:#?}");
        }
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
                    evaluated: 0,
                    ..Reuse::default()
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
    fn in_a_changed_cluster_only_the_changed_service_is_judged_again() {
        use crate::model::Snapshot;
        let mut h = Harness::new("default", 160, 45);
        h.advance(40);
        let job = h.engine_job();
        h.state.triage.jobs.running = None;
        let mut cache = EngineCache::default();
        let long = TimeDelta::hours(1);
        let first = evaluate(&job, &job.input_without_tasks(), &mut cache, long);
        drop(job);
        // One service of one cluster answered with another desired count.
        let (query, mut services) = h
            .state
            .fleet
            .slots()
            .find_map(|(query, slot)| match slot.data.as_deref() {
                Some(Snapshot::Services(v)) if v.len() > 1 => Some((query.clone(), v.clone())),
                _ => None,
            })
            .expect("a cluster with services");
        let cluster = query.cluster().unwrap().to_string();
        services[0].desired += 3;
        let changed = services[0].name.clone();
        let now = h.state.now;
        h.state.fleet.apply(
            query,
            1 << 40,
            now,
            Ok(Snapshot::Services(services.clone())),
        );
        let job = h.engine_job();
        h.state.triage.jobs.running = None;
        let second = evaluate(&job, &job.input_without_tasks(), &mut cache, long);
        assert_eq!(cache.last.evaluated, 1, "{:?}", cache.last);
        assert_eq!(cache.last.services_evaluated, 1, "{:?}", cache.last);
        assert!(
            cache.last.services_reused >= services.len() - 1,
            "{:?}",
            cache.last
        );
        // The service judged again is the one that changed: its under-replication is seen.
        let about = |obs: &[Observation]| {
            obs.iter()
                .filter(|o| {
                    o.rule == "service-under-replicated"
                        && matches!(&o.subject, crate::model::Subject::Service { cluster: c, service }
                            if *c == cluster && *service == changed)
                })
                .count()
        };
        assert_eq!(about(&first), 0);
        assert_eq!(about(&second), 1, "{second:#?}");
    }

    #[test]
    fn a_point_merged_into_one_series_changes_the_prints() {
        let mut h = Harness::new("default", 160, 45);
        h.advance(70);
        let prints = |h: &mut Harness| {
            let job = h.engine_job();
            h.state.triage.jobs.running = None;
            let light = job.input_without_tasks();
            let parts = light.by_cluster();
            let (prints, _, _) = fingerprints(&job, &light, &parts);
            prints
        };
        let before = prints(&mut h);
        assert_eq!(before, prints(&mut h), "nothing changed");
        let key = h.state.metrics.keys().next().unwrap().clone();
        let at = h.state.now;
        let answer = vec![crate::model::SeriesData {
            key: key.clone(),
            points: vec![crate::model::Point { at, value: 12.5 }],
        }];
        h.state.metrics.merge(
            at,
            at + TimeDelta::minutes(1),
            answer,
            std::slice::from_ref(&key),
        );
        assert_ne!(before, prints(&mut h), "{key:?}");
    }
}
