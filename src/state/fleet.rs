//! The last answer to every query the console has made, with its age and last error.

mod order;
mod progress;

pub use progress::Progress;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::model::{
    Cluster, ErrorKind, Instance, NatGateway, Query, Service, Snapshot, SourceError, Task, Time,
};

use super::dropper::Release;

/// What is known about one query.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Slot {
    /// The last good answer. Kept when a later poll fails, so the pane never empties on an error.
    /// Shared: the triage engine reads a frozen copy of the fleet off the UI loop.
    pub data: Option<Arc<Snapshot>>,
    /// When `data` was fetched.
    pub fetched_at: Option<Time>,
    /// The error of the latest poll, if it failed. Cleared by the next success.
    pub error: Option<SourceError>,
    /// The latest request sequence applied: older answers are ignored.
    pub applied_seq: u64,
    /// When an answer last differed from the one before (the triage engine re-evaluates only
    /// then: a steady fleet costs it nothing).
    pub changed_at: Option<Time>,
    /// Names the current `data`, bumped with `changed_at` (at each answer that differs, each
    /// describe batch that changes rows; unique across slots and resets, so two changes in one
    /// instant still differ). What is derived from the rows (a table's lowercased cells, its
    /// sorted order, the incremental engine's observations) holds while it stays the same,
    /// however many identical answers come meanwhile.
    pub version: u64,
    /// [`Snapshot::fingerprint`] of `data` as answered whole (`None`: too small to need one,
    /// or changed since by describe batches).
    pub fingerprint: Option<crate::model::Fingerprint>,
    /// A listed pane's rows (`Action::Listed`): which have their details, which are asked
    /// for. `None` for whole answers.
    pub progress: Option<Progress>,
    /// Describe answers that came while the triage engine read these rows: taken in once it
    /// is done ([`Fleet::take_held`]), not by copying the whole pane under it.
    pub held: Vec<progress::Held>,
    /// `data`'s rows in ARN order, for `version` (worked out by the first who asks).
    order: order::KeyOrder,
}

impl Slot {
    /// The answer differs from the one before.
    pub(crate) fn changed(&mut self, at: Time) {
        static VERSIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        self.changed_at = Some(at);
        self.version = VERSIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// The object this pane shows was deleted (the last poll said NotFound).
    pub fn gone(&self) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|e| e.kind == ErrorKind::NotFound)
            .map(|e| e.message.as_str())
    }

    /// Data is stale when the latest poll failed.
    pub fn is_stale(&self) -> bool {
        self.error.is_some()
    }
}

/// Cloning is cheap (the answers are shared): the triage engine evaluates over a clone.
#[derive(Debug, Default, Clone)]
pub struct Fleet {
    slots: HashMap<Query, Slot>,
    /// Answers to requests up to this sequence belong to a previous source and are dropped.
    min_seq: u64,
}

impl Fleet {
    /// Forgets everything: the data came from another region, profile or account. Requests
    /// already sent (sequence ≤ `last_seq`) will be ignored when they answer.
    pub fn reset(&mut self, last_seq: u64) {
        self.slots.clear();
        self.min_seq = last_seq;
    }

    /// Every answer held, in no particular order.
    pub fn slots(&self) -> impl Iterator<Item = (&Query, &Slot)> {
        self.slots.iter()
    }

    pub fn slot(&self, query: &Query) -> Option<&Slot> {
        self.slots.get(query)
    }

    /// Applies a poll result unless a newer one was already applied. Returns whether it was.
    pub fn apply(
        &mut self,
        query: Query,
        seq: u64,
        at: Time,
        result: Result<Snapshot, SourceError>,
    ) -> bool {
        self.apply_fingerprinted(query, seq, at, result, None)
    }

    /// As [`Fleet::apply`], with the answer's fingerprint when it has one: two fingerprinted
    /// answers are told apart by it, not compared item by item on the UI loop.
    pub fn apply_fingerprinted(
        &mut self,
        query: Query,
        seq: u64,
        at: Time,
        result: Result<Snapshot, SourceError>,
        fingerprint: Option<crate::model::Fingerprint>,
    ) -> bool {
        let stale = seq <= self.min_seq
            || self
                .slots
                .get(&query)
                .is_some_and(|slot| seq < slot.applied_seq);
        if stale {
            // Freed as a replaced answer is: 60,000 tasks freed here would stall the UI loop.
            if let Ok(data) = result {
                drop_later(Arc::new(data), Release::Keep);
            }
            return false;
        }
        let slot = self.slots.entry(query).or_default();
        slot.applied_seq = seq;
        match result {
            Ok(data) => {
                let changed = match (&fingerprint, &slot.fingerprint) {
                    (Some(new), Some(old)) => new.whole != old.whole,
                    _ => slot.data.as_deref() != Some(&data),
                };
                if changed {
                    slot.changed(at);
                }
                slot.fingerprint = fingerprint;
                if let Some(old) = slot.data.replace(Arc::new(data)) {
                    drop_later(old, Release::Keep);
                }
                slot.fetched_at = Some(at);
                slot.error = None;
                slot.progress = None;
            }
            Err(e) => slot.error = Some(e),
        }
        true
    }

    /// Forgets the answers nobody wants any more (no pane shows them, the engine does not poll
    /// them) and nobody fetched since `before`: leaving a 60,000-task pane gives its memory back.
    pub fn forget(&mut self, wanted: impl Fn(&Query) -> bool, before: Time) {
        let old: Vec<Query> = self
            .slots
            .iter()
            .filter(|(q, s)| !wanted(q) && s.fetched_at.is_none_or(|at| at < before))
            .map(|(q, _)| q.clone())
            .collect();
        for query in old {
            if let Some(data) = self.slots.remove(&query).and_then(|s| s.data) {
                // Nothing comes to take its place: its pages go back to the system.
                drop_later(data, Release::ToSystem);
            }
        }
    }

    /// Records that the object behind `query` was deleted (learned from its parent's list).
    pub fn mark_gone(&mut self, query: &Query, message: String) {
        let slot = self.slots.entry(query.clone()).or_default();
        slot.error = Some(SourceError::not_found(message));
    }

    pub fn clusters(&self) -> &[Cluster] {
        match self.data(&Query::Clusters) {
            Some(Snapshot::Clusters(v)) => v,
            _ => &[],
        }
    }

    /// A cluster's Container Insights setting, once the clusters list has been loaded.
    pub fn insights(&self, cluster: &str) -> Option<crate::model::Insights> {
        self.clusters()
            .iter()
            .find(|c| c.name == cluster)
            .map(|c| c.container_insights)
    }

    pub fn services(&self, query: &Query) -> &[Service] {
        match self.data(query) {
            Some(Snapshot::Services(v)) => v,
            _ => &[],
        }
    }

    pub fn tasks(&self, query: &Query) -> &[Task] {
        self.data(query).map_or(&[], Snapshot::task_rows)
    }

    pub fn instances(&self, query: &Query) -> &[Instance] {
        match self.data(query) {
            Some(Snapshot::Instances(v)) => v,
            _ => &[],
        }
    }

    /// Every service any answer holds, once each (the freshest answer wins).
    pub fn all_services(&self) -> Vec<&Service> {
        self.services_since(Time::MIN_UTC)
    }

    /// Every task any answer holds, once each: (not stopped, stopped).
    pub fn all_tasks(&self) -> (Vec<&Task>, Vec<&Task>) {
        self.tasks_since(Time::MIN_UTC)
    }

    pub fn all_instances(&self) -> Vec<&Instance> {
        self.instances_since(Time::MIN_UTC)
    }

    /// As [`Fleet::all_services`], from answers fetched at or after `since` only: a pane left
    /// long ago must not keep a deleted service (or a task's old state) alive for the rules.
    pub fn services_since(&self, since: Time) -> Vec<&Service> {
        self.freshest(
            since,
            |q, d| match (q, d) {
                (Query::Services { .. }, Snapshot::Services(v)) => v,
                _ => &[],
            },
            // A row still loading has unknown counts, not zero: the rules never see it.
            |s| !s.loading,
            |s| s.arn.as_str(),
        )
    }

    pub fn tasks_since(&self, since: Time) -> (Vec<&Task>, Vec<&Task>) {
        let all = self.freshest(
            since,
            |_, d| d.task_rows(),
            // A row still loading has no status yet (not stopped, not running).
            |t| !t.loading,
            |t| t.arn.as_str(),
        );
        all.into_iter().partition(|t| !t.is_stopped())
    }

    /// One cluster's tasks not stopped, as [`Fleet::tasks_since`] gives them, from the answers
    /// about that cluster only (by name): the triage engine reads again only the clusters
    /// whose answers changed.
    pub fn cluster_tasks_since(&self, since: Time, cluster: &str) -> Vec<&Task> {
        let mut tasks = self.freshest(
            since,
            |q, d| match d {
                _ if q.cluster().map(crate::model::metric_catalog::cluster_of) != Some(cluster) => {
                    &[]
                }
                _ => d.task_rows(),
            },
            // A row still loading has no status yet (not stopped, not running).
            |t| !t.loading,
            |t| t.arn.as_str(),
        );
        tasks.retain(|t| !t.is_stopped());
        tasks
    }

    /// The tasks not stopped of the clusters `of_cluster` picks (by name) that are named in
    /// `arns` or that `of_service` picks, as [`Fleet::cluster_tasks_since`] gives each
    /// cluster's: the latest copy of each, in ARN order. A few watched tasks out of 80,000
    /// are found without sorting them all, nor reading every task's ARN: the named ones are
    /// looked up in each answer's ARN order. `of_service` must judge a task by what all its
    /// copies share (its service): a copy it leaves out must not hide another.
    pub fn picked_tasks_since(
        &self,
        since: Time,
        of_cluster: impl Fn(&str) -> bool,
        arns: &[&str],
        of_service: impl Fn(&Task) -> bool,
    ) -> Vec<&Task> {
        let mut picked = Vec::new();
        for (query, slot) in &self.slots {
            let Some(data) = slot.data.as_deref() else {
                continue;
            };
            let of = query
                .cluster()
                .map(crate::model::metric_catalog::cluster_of);
            if slot.fetched_at.is_none_or(|at| at < since) || !of.is_some_and(&of_cluster) {
                continue;
            }
            let rows = data.task_rows();
            // A row still loading has no status yet (not stopped, not running).
            let by_service = |t: &&Task| !t.loading && of_service(t);
            // The rows in the answer's own order: a pass over memory in order.
            let mut found: Vec<&Task> = rows.iter().filter(by_service).collect();
            if !arns.is_empty() {
                let order = slot.order.of(slot.version, rows, |t| t.arn.as_str());
                for &arn in arns {
                    let first = order.partition_point(|&i| rows[i as usize].arn.as_str() < arn);
                    found.extend(
                        order[first..]
                            .iter()
                            .map(|&i| &rows[i as usize])
                            .take_while(|t| t.arn.as_str() == arn)
                            // Those of a service picked are in already.
                            .filter(|t| !t.loading && !by_service(t)),
                    );
                }
            }
            picked.extend(
                found
                    .into_iter()
                    .map(|t| (t.arn.as_str(), slot.fetched_at, t)),
            );
        }
        let mut tasks = latest_copies(picked);
        tasks.retain(|t| !t.is_stopped());
        tasks
    }

    /// The ARNs of the tasks of `cluster` with these ids, from any answer, without
    /// deduplicating the cluster's tasks first (a log batch names a handful of tasks, a cluster
    /// may have 60,000). The tasks of `service` are looked at first, and only they when they
    /// are all there: a task's id is read from its ARN, a service from its group.
    pub fn task_arns_by_id<'a>(
        &'a self,
        ids: &HashSet<&str>,
        cluster: &str,
        service: Option<&str>,
    ) -> HashMap<&'a str, &'a str> {
        let mut out = HashMap::new();
        let tasks = || {
            self.slots
                .iter()
                .filter(|(query, _)| query.cluster() == Some(cluster))
                .flat_map(|(_, slot)| slot.data.as_deref().map_or(&[][..], Snapshot::task_rows))
        };
        let mut find = |of_service: bool| {
            for t in tasks() {
                if out.len() == ids.len() {
                    return;
                }
                if of_service && t.service_name() != service {
                    continue;
                }
                let id = t.id();
                if ids.contains(id) {
                    out.insert(id, t.arn.as_str());
                }
            }
        };
        if service.is_some() {
            find(true);
        }
        find(false);
        out
    }

    /// The distinct task definitions of the tasks not stopped in answers fetched at or after
    /// `since`, without deduplicating 100,000 tasks by ARN first (tasks of one service come
    /// together, so most are skipped as the one before's).
    pub fn running_task_definitions_since(&self, since: Time) -> Vec<&str> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for slot in self.slots.values() {
            if slot.fetched_at.is_none_or(|at| at < since) {
                continue;
            }
            let tasks = slot.data.as_deref().map_or(&[][..], Snapshot::task_rows);
            let mut last: Option<&str> = None;
            for t in tasks.iter().filter(|t| !t.is_stopped() && !t.loading) {
                let arn = t.task_definition.arn.as_str();
                if last != Some(arn) && seen.insert(arn) {
                    out.push(arn);
                }
                last = Some(arn);
            }
        }
        out.sort_unstable();
        out
    }

    pub fn instances_since(&self, since: Time) -> Vec<&Instance> {
        self.freshest(
            since,
            |q, d| match (q, d) {
                (Query::Instances { .. }, Snapshot::Instances(v)) => v,
                _ => &[],
            },
            |i| !i.loading,
            |i| i.arn.as_str(),
        )
    }

    /// Every cluster's NAT gateways, from the latest answer fetched at or after `since` for
    /// each cluster: (cluster, gateway).
    pub fn nat_gateways_since(&self, since: Time) -> Vec<(&str, &NatGateway)> {
        let mut latest: std::collections::BTreeMap<&str, (&[NatGateway], Time)> =
            std::collections::BTreeMap::new();
        for (query, slot) in &self.slots {
            let (Query::Egress { cluster, .. }, Some(Snapshot::Egress(v)), Some(at)) =
                (query, slot.data.as_deref(), slot.fetched_at)
            else {
                continue;
            };
            if at >= since && latest.get(cluster.as_str()).is_none_or(|(_, t)| at > *t) {
                latest.insert(cluster, (v, at));
            }
        }
        latest
            .into_iter()
            .flat_map(|(c, (v, _))| v.iter().map(move |g| (c, g)))
            .collect()
    }

    /// Items of every slot (those `keep` lets through), deduplicated by `key`, the copy from
    /// the latest answer kept; in a stable order (by key).
    fn freshest<'a, T>(
        &'a self,
        since: Time,
        items: impl Fn(&'a Query, &'a Snapshot) -> &'a [T],
        keep: impl Fn(&'a T) -> bool,
        key: impl Fn(&'a T) -> &'a str + Copy,
    ) -> Vec<&'a T> {
        // Each slot's rows in key order (worked out once per version of its data), the slots
        // one after the other, those starting lower first: then one sort that finds the runs
        // already in order merges them, instead of sorting 100,000 tasks from scratch. The
        // sort below decides the order alone; a slot's order only makes it quick.
        let mut runs: Vec<Run<'a, T>> = Vec::new();
        for (query, slot) in &self.slots {
            let Some(data) = slot.data.as_deref() else {
                continue;
            };
            if slot.fetched_at.is_none_or(|at| at < since) {
                continue;
            }
            let rows = items(query, data);
            if rows.is_empty() {
                continue;
            }
            let order = slot.order.of(slot.version, rows, key);
            runs.push((slot.fetched_at, rows, order));
        }
        if let [(_, rows, order)] = &runs[..] {
            // One answer holds them all (a cluster's tasks, mostly): in its key order, each
            // once — 60,000 tasks are not sorted again by their ARNs.
            let mut one: Vec<&'a T> = order
                .iter()
                .map(|&i| &rows[i as usize])
                .filter(|item| keep(item))
                .collect();
            one.dedup_by(|later, first| key(later) == key(first));
            return one;
        }
        runs.sort_by(|a, b| key(&a.1[a.2[0] as usize]).cmp(key(&b.1[b.2[0] as usize])));
        let mut all: Vec<(&'a str, Option<Time>, &'a T)> =
            Vec::with_capacity(runs.iter().map(|r| r.1.len()).sum());
        for (fetched_at, rows, order) in &runs {
            all.extend(
                order
                    .iter()
                    .map(|&i| &rows[i as usize])
                    .filter(|item| keep(item))
                    .map(|item| (key(item), *fetched_at, item)),
            );
        }
        latest_copies(all)
    }

    fn data(&self, query: &Query) -> Option<&Snapshot> {
        self.slots.get(query)?.data.as_deref()
    }
}

/// One slot's rows for [`Fleet::freshest`]: when fetched, the rows, their order by key.
type Run<'a, T> = (Option<Time>, &'a [T], Arc<[u32]>);

/// Answers with more items than this are freed on a thread of their own: freeing 100,000 tasks
/// (millions of small allocations) would stall the UI loop for longer than a frame.
const DROP_LATER_FROM: usize = 5_000;

/// Each key's latest copy of (key, fetched at, item), in key order: of copies fetched in the
/// same instant, any (the slots are in no particular order anyway); of copies in one answer,
/// the first.
fn latest_copies<'a, T>(mut all: Vec<(&'a str, Option<Time>, &'a T)>) -> Vec<&'a T> {
    all.sort_by(|a, b| a.0.cmp(b.0).then_with(|| b.1.cmp(&a.1)));
    all.dedup_by(|later, first| later.0 == first.0);
    all.into_iter().map(|(_, _, item)| item).collect()
}

/// Drops an answer, off the UI loop when it is big and this was its last reference.
fn drop_later(data: Arc<Snapshot>, release: Release) {
    let big = match &*data {
        Snapshot::Tasks(v) => v.len() >= DROP_LATER_FROM,
        Snapshot::Services(v) => v.len() >= DROP_LATER_FROM / 10,
        Snapshot::Instances(v) => v.len() >= DROP_LATER_FROM,
        _ => false,
    };
    if !big || Arc::strong_count(&data) > 1 {
        return;
    }
    super::dropper::drop_elsewhere(Box::new(data), release);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: i64) -> Time {
        chrono::Utc.timestamp_opt(s, 0).unwrap()
    }

    #[test]
    fn a_slow_old_answer_never_overwrites_a_newer_one() {
        let mut fleet = Fleet::default();
        assert!(fleet.apply(Query::Clusters, 2, t(20), Ok(Snapshot::Clusters(vec![]))));
        let late = Err(SourceError::new(ErrorKind::Network, "late"));
        assert!(!fleet.apply(Query::Clusters, 1, t(30), late));
        let slot = fleet.slot(&Query::Clusters).unwrap();
        assert_eq!(slot.fetched_at, Some(t(20)));
        assert!(slot.error.is_none());
    }

    #[test]
    fn an_error_keeps_the_last_data_and_marks_it_stale() {
        let mut fleet = Fleet::default();
        fleet.apply(Query::Clusters, 1, t(10), Ok(Snapshot::Clusters(vec![])));
        let throttled = Err(SourceError::new(ErrorKind::Throttled, "throttled"));
        fleet.apply(Query::Clusters, 2, t(20), throttled);
        let slot = fleet.slot(&Query::Clusters).unwrap();
        assert!(slot.data.is_some() && slot.is_stale());
        assert_eq!(slot.fetched_at, Some(t(10)));
        fleet.apply(Query::Clusters, 3, t(30), Ok(Snapshot::Clusters(vec![])));
        assert!(!fleet.slot(&Query::Clusters).unwrap().is_stale());
    }

    #[test]
    fn answers_nobody_wants_are_forgotten_once_old() {
        let mut fleet = Fleet::default();
        let tasks = |cluster: &str| Query::Tasks {
            scope: crate::model::TaskScope::Cluster {
                cluster: cluster.into(),
            },
            stopped: false,
        };
        fleet.apply(Query::Clusters, 1, t(10), Ok(Snapshot::Clusters(vec![])));
        fleet.apply(tasks("big"), 2, t(10), Ok(Snapshot::Tasks(vec![])));
        fleet.apply(tasks("recent"), 3, t(50), Ok(Snapshot::Tasks(vec![])));
        fleet.forget(|q| *q == Query::Clusters, t(40));
        assert!(fleet.slot(&Query::Clusters).is_some(), "wanted: kept");
        assert!(
            fleet.slot(&tasks("big")).is_none(),
            "unwanted and old: gone"
        );
        assert!(
            fleet.slot(&tasks("recent")).is_some(),
            "fetched lately: kept"
        );
    }

    #[test]
    fn the_version_moves_only_when_the_data_changes() {
        let mut fleet = Fleet::default();
        let clusters = |n: &str| {
            Ok(Snapshot::Clusters(vec![Cluster {
                name: n.into(),
                ..Cluster::default()
            }]))
        };
        fleet.apply(Query::Clusters, 1, t(10), clusters("a"));
        let first = fleet.slot(&Query::Clusters).unwrap().version;
        fleet.apply(Query::Clusters, 2, t(20), clusters("a"));
        assert_eq!(fleet.slot(&Query::Clusters).unwrap().version, first);
        fleet.apply(Query::Clusters, 3, t(30), clusters("b"));
        let changed = fleet.slot(&Query::Clusters).unwrap().version;
        assert_ne!(changed, first);
        // After a reset, the same data is still another version (views' caches start afresh).
        fleet.reset(3);
        fleet.apply(Query::Clusters, 4, t(40), clusters("b"));
        let again = fleet.slot(&Query::Clusters).unwrap().version;
        assert!(again != changed && again != first);
    }

    #[test]
    fn big_answers_are_told_apart_by_their_fingerprints() {
        let mut fleet = Fleet::default();
        let q = Query::Tasks {
            scope: crate::model::TaskScope::Cluster {
                cluster: "big".into(),
            },
            stopped: false,
        };
        let answer = |health: &str| {
            let tasks = (0..2_000)
                .map(|i| Task {
                    arn: format!("arn:aws:ecs:us-east-1:1:task/big/{i}").into(),
                    health: health.into(),
                    ..Task::default()
                })
                .collect();
            let snapshot = Snapshot::Tasks(tasks);
            let fingerprint = snapshot.fingerprint();
            assert!(fingerprint.is_some(), "2,000 tasks are fingerprinted");
            (Ok(snapshot), fingerprint)
        };
        let version = |fleet: &Fleet| fleet.slot(&q).unwrap().version;
        let (data, fp) = answer("HEALTHY");
        fleet.apply_fingerprinted(q.clone(), 1, t(10), data, fp);
        let first = version(&fleet);
        let (data, fp) = answer("HEALTHY");
        fleet.apply_fingerprinted(q.clone(), 2, t(20), data, fp);
        assert_eq!(version(&fleet), first, "the same rows");
        let (data, fp) = answer("UNHEALTHY");
        fleet.apply_fingerprinted(q.clone(), 3, t(30), data, fp);
        assert_ne!(version(&fleet), first, "rows that differ");
        assert_eq!(fleet.slot(&q).unwrap().changed_at, Some(t(30)));
        // Without a fingerprint (a small answer, a test's) the rows are compared.
        let (data, _) = answer("UNHEALTHY");
        let changed = version(&fleet);
        fleet.apply(q.clone(), 4, t(40), data);
        assert_eq!(version(&fleet), changed);
    }

    #[test]
    fn a_clusters_tasks_come_in_arn_order_each_once_the_latest_copy_of_each() {
        let mut fleet = Fleet::default();
        let task = |id: &str, health: &str| Task {
            arn: format!("arn:aws:ecs:us-east-1:1:task/c/{id}").into(),
            cluster_arn: "arn:aws:ecs:us-east-1:1:cluster/c".into(),
            last_status: "RUNNING".into(),
            health: health.into(),
            ..Task::default()
        };
        let scope = |scope| Query::Tasks {
            scope,
            stopped: false,
        };
        let cluster = scope(crate::model::TaskScope::Cluster {
            cluster: "c".into(),
        });
        let answer = vec![
            task("b", "OK"),
            task("a", "OK"),
            task("c", "OK"),
            task("a", "OK"),
        ];
        fleet.apply(cluster, 1, t(10), Ok(Snapshot::Tasks(answer)));
        let read = |fleet: &Fleet| -> Vec<(String, String)> {
            let tasks = fleet.cluster_tasks_since(t(0), "c");
            let id = |t: &Task| t.arn.rsplit('/').next().unwrap_or_default().to_string();
            tasks
                .iter()
                .map(|t| (id(t), t.health.to_string()))
                .collect()
        };
        let ids = |v: &[(String, String)]| v.iter().map(|(i, _)| i.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&read(&fleet)), ["a", "b", "c"], "one answer");
        // A later answer about one service holds a newer copy of b.
        let service = scope(crate::model::TaskScope::Service {
            cluster: "c".into(),
            service: "web".into(),
        });
        let newer = vec![task("b", "UNHEALTHY"), task("d", "OK")];
        fleet.apply(service, 2, t(20), Ok(Snapshot::Tasks(newer)));
        let both = read(&fleet);
        assert_eq!(ids(&both), ["a", "b", "c", "d"], "two answers");
        assert_eq!(both[1].1, "UNHEALTHY", "the latest copy");
    }

    #[test]
    fn picked_tasks_are_the_clusters_tasks_the_pick_keeps_latest_copies_in_arn_order() {
        let mut fleet = Fleet::default();
        let task = |cluster: &str, id: &str, status: &str| Task {
            arn: format!("arn:aws:ecs:us-east-1:1:task/{cluster}/{id}").into(),
            cluster_arn: format!("arn:aws:ecs:us-east-1:1:cluster/{cluster}").into(),
            last_status: status.into(),
            ..Task::default()
        };
        let scope = |cluster: &str| Query::Tasks {
            scope: crate::model::TaskScope::Cluster {
                cluster: cluster.into(),
            },
            stopped: false,
        };
        let one = |id| Query::Task {
            cluster: "c".into(),
            task: id,
        };
        fleet.apply(
            scope("c"),
            1,
            t(10),
            Ok(Snapshot::Tasks(vec![
                task("c", "d", "RUNNING"),
                task("c", "b", "RUNNING"),
                task("c", "a", "RUNNING"),
                task("c", "e", "RUNNING"),
            ])),
        );
        fleet.apply(
            scope("other"),
            2,
            t(10),
            Ok(Snapshot::Tasks(vec![task("other", "a", "RUNNING")])),
        );
        // A newer copy of b says it stopped; a newer copy of d is still loading (no status).
        let stopped = task("c", "b", "STOPPED");
        fleet.apply(
            one("b".into()),
            3,
            t(20),
            Ok(Snapshot::Task(Some(Box::new(stopped)))),
        );
        let loading = Task {
            loading: true,
            ..task("c", "d", "")
        };
        fleet.apply(
            one("d".into()),
            4,
            t(20),
            Ok(Snapshot::Task(Some(Box::new(loading)))),
        );
        let id = |t: &&Task| t.arn.rsplit('/').next().unwrap_or_default().to_string();
        let all: Vec<String> = fleet
            .cluster_tasks_since(t(0), "c")
            .iter()
            .map(id)
            .collect();
        assert_eq!(
            all,
            ["a", "d", "e"],
            "b stopped, d's loading copy hides nothing"
        );
        // d by its ARN, a by its service (e's is another).
        let d = "arn:aws:ecs:us-east-1:1:task/c/d";
        let of_service = |t: &Task| t.arn.ends_with("/a") || t.arn.ends_with("/b");
        let pick = |t: &Task| t.arn.as_str() == d || of_service(t);
        let picked: Vec<String> = fleet
            .picked_tasks_since(t(0), |c| c == "c", &[d], of_service)
            .iter()
            .map(id)
            .collect();
        let expected: Vec<String> = fleet
            .cluster_tasks_since(t(0), "c")
            .into_iter()
            .filter(|t| pick(t))
            .map(|t| id(&t))
            .collect();
        assert_eq!(picked, expected);
        assert_eq!(picked, ["a", "d"]);
        // Of several clusters, in ARN order.
        let both: Vec<String> = fleet
            .picked_tasks_since(t(0), |_| true, &[], |t| t.arn.ends_with("/a"))
            .iter()
            .map(|t| t.arn.to_string())
            .collect();
        assert_eq!(
            both,
            [
                "arn:aws:ecs:us-east-1:1:task/c/a",
                "arn:aws:ecs:us-east-1:1:task/other/a"
            ]
        );
        // Answers fetched before `since` are not read.
        assert!(
            fleet
                .picked_tasks_since(t(15), |_| true, &[d], |_| true)
                .is_empty()
        );
        // Named ones are found in every answer of the cluster, only once when also picked
        // by their service.
        let named = |arns: &[&str], of_service: fn(&Task) -> bool| -> Vec<String> {
            fleet
                .picked_tasks_since(t(0), |c| c == "c", arns, of_service)
                .iter()
                .map(id)
                .collect()
        };
        let a = "arn:aws:ecs:us-east-1:1:task/c/a";
        let b = "arn:aws:ecs:us-east-1:1:task/c/b";
        let e = "arn:aws:ecs:us-east-1:1:task/c/e";
        assert_eq!(named(&[e, a], |_| false), ["a", "e"]);
        assert_eq!(named(&[a, a], |t| t.arn.ends_with("/a")), ["a"]);
        assert!(named(&[b], |_| false).is_empty(), "b's latest copy stopped");
        assert!(named(&["arn:aws:ecs:us-east-1:1:task/c/zz"], |_| false).is_empty());
    }

    #[test]
    fn task_arns_are_found_by_id_in_any_answer() {
        let mut fleet = Fleet::default();
        let task = |arn: &str| Task {
            arn: arn.into(),
            ..Task::default()
        };
        let scope = |c: &str| Query::Tasks {
            scope: crate::model::TaskScope::Cluster { cluster: c.into() },
            stopped: false,
        };
        let a = "arn:aws:ecs:us-east-1:1:task/prod/aaa";
        let b = "arn:aws:ecs:us-east-1:1:task/dev/bbb";
        fleet.apply(scope("prod"), 1, t(10), Ok(Snapshot::Tasks(vec![task(a)])));
        fleet.apply(scope("dev"), 2, t(10), Ok(Snapshot::Tasks(vec![task(b)])));
        let ids: HashSet<&str> = ["aaa", "bbb", "ccc"].into();
        let found = fleet.task_arns_by_id(&ids, "prod", None);
        assert_eq!(found.len(), 1);
        assert_eq!(found["aaa"], a);
        assert_eq!(fleet.task_arns_by_id(&ids, "dev", None)["bbb"], b);
        assert!(
            fleet
                .task_arns_by_id(&HashSet::new(), "prod", None)
                .is_empty()
        );
        // A task of another service in the cluster is found too (log groups are shared).
        let web = Task {
            group: "service:web".into(),
            ..task("arn:aws:ecs:us-east-1:1:task/prod/www")
        };
        fleet.apply(
            scope("prod"),
            3,
            t(20),
            Ok(Snapshot::Tasks(vec![task(a), web])),
        );
        let ids: HashSet<&str> = ["aaa", "www"].into();
        let found = fleet.task_arns_by_id(&ids, "prod", Some("web"));
        assert_eq!(found.len(), 2);
        assert_eq!(found["www"], "arn:aws:ecs:us-east-1:1:task/prod/www");
    }

    #[test]
    fn the_fleet_wide_lists_follow_every_changed_answer() {
        let mut fleet = Fleet::default();
        let q = |scope| Query::Tasks {
            scope,
            stopped: false,
        };
        let cluster = |c: &str| crate::model::TaskScope::Cluster { cluster: c.into() };
        let task = |arn: &str, status: &str| Task {
            arn: arn.into(),
            last_status: status.into(),
            ..Task::default()
        };
        let tasks = |v: Vec<Task>| Ok(Snapshot::Tasks(v));
        let arns = |v: Vec<&Task>| v.iter().map(|t| t.arn.clone()).collect::<Vec<_>>();
        let running = |fleet: &Fleet| arns(fleet.all_tasks().0);
        let a = vec![task("t/a/3", "RUNNING"), task("t/a/1", "RUNNING")];
        fleet.apply(q(cluster("a")), 1, t(10), tasks(a));
        fleet.apply(
            q(cluster("b")),
            2,
            t(10),
            tasks(vec![task("t/b/2", "RUNNING")]),
        );
        assert_eq!(running(&fleet), ["t/a/1", "t/a/3", "t/b/2"]);
        // Other rows in another order, as many: the slot's order is worked out again.
        let a = vec![task("t/a/9", "RUNNING"), task("t/a/0", "RUNNING")];
        fleet.apply(q(cluster("a")), 3, t(20), tasks(a));
        assert_eq!(running(&fleet), ["t/a/0", "t/a/9", "t/b/2"]);
        // A frozen copy (the engine's) reads the rows it holds, whatever came since.
        let frozen = fleet.clone();
        let a = vec![task("t/a/5", "RUNNING"), task("t/a/4", "RUNNING")];
        fleet.apply(q(cluster("a")), 4, t(25), tasks(a));
        assert_eq!(running(&frozen), ["t/a/0", "t/a/9", "t/b/2"]);
        assert_eq!(running(&fleet), ["t/a/4", "t/a/5", "t/b/2"]);
        assert_eq!(running(&frozen), ["t/a/0", "t/a/9", "t/b/2"]);
        // A task in two answers: the latest copy wins, also when an answer is the same as
        // the one before (its rows' order is not worked out again).
        let service = crate::model::TaskScope::Service {
            cluster: "b".into(),
            service: "web".into(),
        };
        fleet.apply(q(service), 5, t(30), tasks(vec![task("t/b/2", "STOPPED")]));
        assert_eq!(running(&fleet), ["t/a/4", "t/a/5"]);
        assert_eq!(arns(fleet.all_tasks().1), ["t/b/2"]);
        fleet.apply(
            q(cluster("b")),
            6,
            t(40),
            tasks(vec![task("t/b/2", "RUNNING")]),
        );
        assert_eq!(running(&fleet), ["t/a/4", "t/a/5", "t/b/2"]);
        assert!(fleet.all_tasks().1.is_empty());
        // Only answers fetched since: the older copy is not kept alive.
        assert_eq!(arns(fleet.tasks_since(t(35)).0), ["t/b/2"]);
    }

    #[test]
    fn an_unchanged_answer_is_not_a_change() {
        let mut fleet = Fleet::default();
        let services = |desired| {
            Snapshot::Services(vec![Service {
                name: "web".into(),
                desired,
                ..Service::default()
            }])
        };
        let q = Query::Services {
            cluster: "prod".into(),
        };
        fleet.apply(q.clone(), 1, t(10), Ok(services(2)));
        fleet.apply(q.clone(), 2, t(20), Ok(services(2)));
        let slot = fleet.slot(&q).unwrap();
        assert_eq!(
            (slot.changed_at, slot.fetched_at),
            (Some(t(10)), Some(t(20)))
        );
        fleet.apply(q.clone(), 3, t(30), Ok(services(3)));
        assert_eq!(fleet.slot(&q).unwrap().changed_at, Some(t(30)));
    }
}
