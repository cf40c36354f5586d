//! Rows before details: a listed pane (the services of a big cluster, its tasks, its container
//! instances) holds its rows from the list calls at once, marked as loading, and takes each
//! describe batch into them by ARN as it arrives. Which rows to describe, and when, is
//! `poll::describe`'s to decide.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::{Fleet, Slot};
use crate::model::{Instance, Listed, Query, Service, Snapshot, Task, Time};

/// A describe answer waiting for the engine to be done with the rows it goes into.
#[derive(Debug, Clone, PartialEq)]
pub struct Held {
    seq: u64,
    at: Time,
    asked: Vec<String>,
    answer: Snapshot,
}

/// What is known of a listed pane's rows beyond the rows themselves.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Progress {
    /// ARN → when its details last came. A row missing here is still loading.
    pub described: HashMap<String, Time>,
    /// ARN → when a describe of it was sent, until it answers.
    pub asked: HashMap<String, Time>,
    /// The operator asked for fresh data (`r`, or after a change they made): rows on screen and
    /// watched rows described before this are described again now, whatever their cadence.
    pub fresh_after: Option<Time>,
    /// Consecutive describes that failed, and no describe before `retry_at` (backoff).
    pub failures: u32,
    pub retry_at: Option<Time>,
    /// Each ARN's position in the slot's rows.
    index: HashMap<String, usize>,
}

impl Progress {
    /// `arns` (a listing) are exactly the rows held, each once.
    fn lists_the_same(&self, arns: &[String]) -> bool {
        if arns.len() != self.index.len() {
            return false;
        }
        let mut seen = vec![false; arns.len()];
        arns.iter().all(|arn| match self.index.get(arn) {
            Some(&row) if row < seen.len() && !seen[row] => {
                seen[row] = true;
                true
            }
            _ => false,
        })
    }

    fn reindex<R: Listed>(&mut self, rows: &[R]) {
        self.index = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.arn().to_string(), i))
            .collect();
        let listed = &self.index;
        self.described.retain(|arn, _| listed.contains_key(arn));
        self.asked.retain(|arn, _| listed.contains_key(arn));
    }
}

impl Slot {
    /// `(rows, rows with their details)` while some rows of a listed pane are still loading.
    pub fn loading(&self) -> Option<(usize, usize)> {
        // A whole answer came described, every row of it: no count of its 60,000 rows at every
        // frame (the title asks).
        self.progress.as_ref()?;
        fn count<R: Listed>(rows: &[R]) -> Option<(usize, usize)> {
            let loaded = rows.iter().filter(|r| !r.loading()).count();
            (loaded < rows.len()).then_some((rows.len(), loaded))
        }
        match self.data.as_deref()? {
            Snapshot::Services(rows) => count(rows),
            Snapshot::Tasks(rows) => count(rows),
            Snapshot::Instances(rows) => count(rows),
            _ => None,
        }
    }
}

impl Fleet {
    /// Applies a list answer (the ARNs of a pane's rows) unless a newer answer was applied:
    /// rows already described keep their details until their next describe, new ones come in
    /// loading. Returns whether it was applied.
    pub fn apply_listing(&mut self, query: Query, seq: u64, at: Time, arns: Vec<String>) -> bool {
        match query {
            Query::Services { .. } => self.apply_listing_of::<Service>(query, seq, at, arns),
            Query::Tasks { .. } => self.apply_listing_of::<Task>(query, seq, at, arns),
            Query::Instances { .. } => self.apply_listing_of::<Instance>(query, seq, at, arns),
            _ => false,
        }
    }

    fn apply_listing_of<R: Listed>(
        &mut self,
        query: Query,
        seq: u64,
        at: Time,
        arns: Vec<String>,
    ) -> bool {
        if seq <= self.min_seq {
            return false;
        }
        let Some(cluster) = crate::model::listed_cluster(&query).map(str::to_string) else {
            return false;
        };
        let slot = self.slots.entry(query).or_default();
        if seq < slot.applied_seq {
            return false;
        }
        slot.applied_seq = seq;
        if let Some(progress) = &slot.progress
            && slot.data.is_some()
            && progress.lists_the_same(&arns)
        {
            // The same rows as listed before (a big pane's every refresh, mostly): nothing to
            // copy, sort or compare — 60,000 rows rebuilt each cycle would stall the UI loop.
            slot.fetched_at = Some(at);
            slot.error = None;
            return true;
        }
        let old: HashMap<&str, &R> = match slot.data.as_deref().and_then(R::rows) {
            Some(rows) => rows.iter().map(|r| (r.arn(), r)).collect(),
            None => HashMap::new(),
        };
        let mut progress = slot.progress.take().unwrap_or_else(|| {
            // Until now answered whole: every row is as old as that answer.
            let described = slot
                .fetched_at
                .map(|at| old.keys().map(|arn| (arn.to_string(), at)).collect())
                .unwrap_or_default();
            Progress {
                described,
                ..Progress::default()
            }
        });
        let mut seen = HashSet::new();
        let mut rows: Vec<R> = arns
            .iter()
            .filter(|arn| seen.insert(arn.as_str()))
            .map(|arn| match old.get(arn.as_str()) {
                Some(known) => (*known).clone(),
                None => R::listed(arn, &cluster),
            })
            .collect();
        R::sort(&mut rows);
        progress.reindex(&rows);
        let data = R::answer(rows);
        if slot.data.as_deref() != Some(&data) {
            slot.changed(at);
        }
        slot.fingerprint = None;
        // 10,000 task rows freed here would stall the UI loop: off it, as whole answers are.
        if let Some(old) = slot.data.replace(Arc::new(data)) {
            super::drop_later(old, super::Release::Keep);
        }
        slot.fetched_at = Some(at);
        slot.error = None;
        slot.progress = Some(progress);
        true
    }

    /// Takes a describe answer (rows of the pane's kind) into the rows it was asked for (by
    /// ARN). A row asked for but not answered was deleted since the listing, and goes. Returns
    /// whether any row changed; `None` when the answer belongs to no current listing (another
    /// source, an older list answered whole since).
    pub fn apply_described(
        &mut self,
        query: &Query,
        seq: u64,
        at: Time,
        asked: &[String],
        answer: Snapshot,
    ) -> Option<bool> {
        match answer {
            Snapshot::Services(rows) => self.apply_described_of(query, seq, at, asked, rows),
            Snapshot::Tasks(rows) => self.apply_described_of(query, seq, at, asked, rows),
            Snapshot::Instances(rows) => self.apply_described_of(query, seq, at, asked, rows),
            _ => None,
        }
    }

    fn apply_described_of<R: Listed>(
        &mut self,
        query: &Query,
        seq: u64,
        at: Time,
        asked: &[String],
        described: Vec<R>,
    ) -> Option<bool> {
        let slot = self.listed_slot(query, seq)?;
        slot.progress.as_ref()?;
        if slot.data.as_ref().is_some_and(|d| Arc::strong_count(d) > 1) {
            // The engine reads these rows now: writing them would copy the whole pane (60,000
            // tasks) on the UI loop. Taken in once it is done.
            slot.held.push(Held {
                seq,
                at,
                asked: asked.to_vec(),
                answer: R::answer(described),
            });
            return Some(false);
        }
        let progress = slot.progress.as_mut()?;
        for arn in asked {
            progress.asked.remove(arn);
        }
        progress.failures = 0;
        progress.retry_at = None;
        let rows = slot
            .data
            .as_mut()
            .map(Arc::make_mut)
            .and_then(R::rows_mut)?;
        let mut changed = false;
        let answered: HashSet<String> = described.iter().map(|r| r.arn().to_string()).collect();
        for mut row in described {
            let Some(&i) = progress.index.get(row.arn()) else {
                continue; // not listed any more
            };
            progress.described.insert(row.arn().to_string(), at);
            // Its age alone is no change.
            row.set_described_at(rows[i].described_at());
            changed |= rows[i] != row;
            row.set_described_at(Some(at));
            rows[i] = row;
        }
        let before = rows.len();
        let asked_set: HashSet<&str> = asked.iter().map(String::as_str).collect();
        rows.retain(|r| !asked_set.contains(r.arn()) || answered.contains(r.arn()));
        if rows.len() != before {
            progress.reindex(rows);
            changed = true;
        }
        slot.error = None;
        if changed {
            slot.changed(at);
            slot.fingerprint = None;
        }
        Some(changed)
    }

    /// Takes in the describe answers held while the engine read their rows (see
    /// [`Slot::held`]), now that nobody else does — or at once when `now` (the engine is done;
    /// a copy is then the one way). Returns the panes whose rows changed.
    pub fn take_held(&mut self, now: bool) -> Vec<Query> {
        let waiting: Vec<Query> = self
            .slots
            .iter()
            .filter(|(_, s)| !s.held.is_empty())
            .filter(|(_, s)| now || s.data.as_ref().is_none_or(|d| Arc::strong_count(d) == 1))
            .map(|(q, _)| q.clone())
            .collect();
        let mut changed = Vec::new();
        for query in waiting {
            let Some(slot) = self.slots.get_mut(&query) else {
                continue;
            };
            let held = std::mem::take(&mut slot.held);
            if let Some(data) = slot.data.as_mut() {
                // Nobody else reads it now (or, the engine done, someone still does and it is
                // copied this once): written in place, so none of these is held again.
                Arc::make_mut(data);
            }
            let mut any = false;
            for h in held {
                any |= self
                    .apply_described(&query, h.seq, h.at, &h.asked, h.answer)
                    .unwrap_or(false);
            }
            if any {
                changed.push(query);
            }
        }
        changed
    }

    /// A describe failed: its rows may be asked for again, not before `retry_at`.
    pub fn describe_failed(
        &mut self,
        query: &Query,
        seq: u64,
        asked: &[String],
        error: crate::model::SourceError,
        retry_at: impl FnOnce(u32) -> Time,
    ) -> bool {
        let Some(slot) = self.listed_slot(query, seq) else {
            return false;
        };
        let Some(progress) = slot.progress.as_mut() else {
            return false;
        };
        for arn in asked {
            progress.asked.remove(arn);
        }
        progress.failures += 1;
        progress.retry_at = Some(retry_at(progress.failures));
        slot.error = Some(error);
        true
    }

    /// Rows on screen and watched rows are to be described again now (`r`, a change made).
    pub fn want_fresh(&mut self, query: &Query, now: Time) {
        if let Some(progress) = self.slots.get_mut(query).and_then(|s| s.progress.as_mut()) {
            progress.fresh_after = Some(now);
            progress.retry_at = None;
        }
    }

    /// Records that these rows' describe was sent at `at`.
    pub fn describe_sent(&mut self, query: &Query, arns: &[String], at: Time) {
        if let Some(progress) = self.slots.get_mut(query).and_then(|s| s.progress.as_mut()) {
            for arn in arns {
                progress.asked.insert(arn.clone(), at);
            }
        }
    }

    /// The slot of a listed pane, if `seq` is its current listing's source (not an older one).
    fn listed_slot(&mut self, query: &Query, seq: u64) -> Option<&mut Slot> {
        if seq <= self.min_seq {
            return None;
        }
        self.slots.get_mut(query).filter(|s| s.progress.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: i64) -> Time {
        chrono::Utc.timestamp_opt(s, 0).unwrap()
    }
    fn q() -> Query {
        Query::Services {
            cluster: "prod".into(),
        }
    }
    fn arn(name: &str) -> String {
        format!("arn:aws:ecs:eu-west-1:1:service/prod/{name}")
    }
    fn described(name: &str, running: u32) -> Service {
        Service {
            arn: arn(name),
            name: name.into(),
            status: "ACTIVE".into(),
            desired: 2,
            running,
            ..Service::default()
        }
    }

    #[test]
    fn listed_rows_show_loading_then_fill_in_by_arn() {
        let mut fleet = Fleet::default();
        assert!(fleet.apply_listing(q(), 1, t(10), vec![arn("web"), arn("api")]));
        let rows = fleet.services(&q());
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|s| s.loading));
        assert_eq!(rows[0].name, "api");
        assert!(rows[0].cluster_arn.ends_with(":cluster/prod"));
        assert_eq!(fleet.slot(&q()).unwrap().loading(), Some((2, 0)));

        let changed = fleet.apply_described(
            &q(),
            1,
            t(11),
            &[arn("web")],
            Snapshot::Services(vec![described("web", 2)]),
        );
        assert_eq!(changed, Some(true));
        assert_eq!(fleet.slot(&q()).unwrap().loading(), Some((2, 1)));
        assert!(!fleet.services(&q())[1].loading);

        // The next listing keeps the details already known.
        fleet.apply_listing(q(), 2, t(40), vec![arn("web"), arn("api")]);
        assert_eq!(fleet.services(&q())[1].running, 2);
        let progress = fleet.slot(&q()).unwrap().progress.as_ref().unwrap();
        assert_eq!(progress.described.get(&arn("web")), Some(&t(11)));
    }

    #[test]
    fn the_same_listing_again_keeps_the_rows_as_they_are() {
        let mut fleet = Fleet::default();
        fleet.apply_listing(q(), 1, t(10), vec![arn("web"), arn("api")]);
        fleet.apply_described(
            &q(),
            1,
            t(11),
            &[arn("web")],
            Snapshot::Services(vec![described("web", 2)]),
        );
        let before = fleet.slot(&q()).unwrap().clone();
        // Listed again, in another order: the same rows, untouched and not a change.
        assert!(fleet.apply_listing(q(), 2, t(40), vec![arn("api"), arn("web")]));
        let after = fleet.slot(&q()).unwrap();
        assert!(Arc::ptr_eq(
            before.data.as_ref().unwrap(),
            after.data.as_ref().unwrap()
        ));
        assert_eq!(after.version, before.version);
        assert_eq!((after.fetched_at, after.applied_seq), (Some(t(40)), 2));
        // A repeat standing in for a row that went is not the same listing.
        fleet.apply_listing(q(), 3, t(50), vec![arn("web"), arn("web")]);
        assert_eq!(fleet.services(&q()).len(), 1);
        assert_ne!(fleet.slot(&q()).unwrap().version, before.version);
        // Nor is a new row.
        fleet.apply_listing(q(), 4, t(60), vec![arn("web"), arn("db")]);
        let rows = fleet.services(&q());
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().any(|s| s.name == "db" && s.loading));
        assert_eq!(fleet.services(&q())[1].running, 2, "web keeps its details");
    }

    #[test]
    fn a_describe_into_rows_the_engine_reads_waits_for_it_instead_of_copying_them() {
        let mut fleet = Fleet::default();
        fleet.apply_listing(q(), 1, t(10), vec![arn("web"), arn("api")]);
        let engine = fleet.clone();
        let answer = Snapshot::Services(vec![described("web", 2)]);
        assert_eq!(
            fleet.apply_described(&q(), 1, t(11), &[arn("web")], answer),
            Some(false)
        );
        let slot = fleet.slot(&q()).unwrap();
        assert!(Arc::ptr_eq(
            slot.data.as_ref().unwrap(),
            engine.slot(&q()).unwrap().data.as_ref().unwrap()
        ));
        assert!(fleet.services(&q()).iter().all(|s| s.loading), "held");
        assert!(
            fleet.take_held(false).is_empty(),
            "the engine still reads them"
        );
        drop(engine);
        assert_eq!(fleet.take_held(false), vec![q()]);
        let slot = fleet.slot(&q()).unwrap();
        assert!(slot.held.is_empty());
        assert_eq!(slot.loading(), Some((2, 1)));
        assert!(!fleet.services(&q())[1].loading);
        // Once the engine is done, a pane still shared is copied once rather than wait.
        let other = fleet.clone();
        let answer = Snapshot::Services(vec![described("api", 1)]);
        fleet.apply_described(&q(), 1, t(12), &[arn("api")], answer);
        assert_eq!(fleet.take_held(true), vec![q()]);
        assert_eq!(fleet.slot(&q()).unwrap().loading(), None);
        assert!(
            other.services(&q())[0].loading,
            "the other copy is untouched"
        );
    }

    #[test]
    fn a_row_asked_for_but_not_answered_was_deleted() {
        let mut fleet = Fleet::default();
        fleet.apply_listing(q(), 1, t(10), vec![arn("web"), arn("api")]);
        let asked = [arn("web"), arn("api")];
        fleet.apply_described(
            &q(),
            1,
            t(11),
            &asked,
            Snapshot::Services(vec![described("web", 2)]),
        );
        let rows = fleet.services(&q());
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].name, "web");
    }

    #[test]
    fn rows_still_loading_are_not_the_rules_to_read() {
        let mut fleet = Fleet::default();
        // Whatever a loading row holds, its counts are unknown: the rules never see it.
        let unknown = Service {
            status: "ACTIVE".into(),
            desired: 2,
            ..Service::listed(&arn("web"), "prod")
        };
        fleet.apply(q(), 1, t(10), Ok(Snapshot::Services(vec![unknown.clone()])));
        assert!(fleet.all_services().is_empty());
        let known = Service {
            loading: false,
            ..unknown
        };
        fleet.apply(q(), 2, t(20), Ok(Snapshot::Services(vec![known])));
        assert_eq!(fleet.all_services().len(), 1);
    }

    #[test]
    fn describes_of_a_previous_source_are_dropped() {
        let mut fleet = Fleet::default();
        fleet.apply_listing(q(), 1, t(10), vec![arn("web")]);
        fleet.reset(1);
        assert_eq!(
            fleet.apply_described(
                &q(),
                1,
                t(11),
                &[arn("web")],
                Snapshot::Services(vec![described("web", 2)])
            ),
            None
        );
    }

    #[test]
    fn task_and_instance_rows_load_the_same_way_and_are_not_the_rules_to_read() {
        use crate::model::{Instance, Task, TaskScope};
        let mut fleet = Fleet::default();
        let tasks = Query::Tasks {
            scope: TaskScope::Cluster {
                cluster: "prod".into(),
            },
            stopped: false,
        };
        let task_arn = |i: u32| format!("arn:aws:ecs:eu-west-1:1:task/prod/{i:032}");
        assert!(fleet.apply_listing(tasks.clone(), 1, t(10), vec![task_arn(1), task_arn(2)]));
        assert_eq!(fleet.slot(&tasks).unwrap().loading(), Some((2, 0)));
        let listed = &fleet.tasks(&tasks)[0];
        assert!(listed.loading);
        assert_eq!(listed.cluster_arn, "arn:aws:ecs:eu-west-1:1:cluster/prod");
        // No status yet: neither running nor stopped for the rules, no task definition.
        assert_eq!(fleet.all_tasks(), (vec![], vec![]));
        assert!(fleet.running_task_definitions_since(t(0)).is_empty());

        let running = Task {
            arn: task_arn(1).into(),
            last_status: "RUNNING".into(),
            desired_status: "RUNNING".into(),
            task_definition: crate::model::TaskDefRef {
                arn: "arn:aws:ecs:eu-west-1:1:task-definition/web:3".into(),
                ..Default::default()
            },
            ..Task::default()
        };
        let asked = [task_arn(1)];
        let answer = Snapshot::Tasks(vec![running]);
        assert_eq!(
            fleet.apply_described(&tasks, 1, t(11), &asked, answer),
            Some(true)
        );
        assert_eq!(fleet.slot(&tasks).unwrap().loading(), Some((2, 1)));
        assert_eq!(fleet.all_tasks().0.len(), 1);
        assert_eq!(fleet.running_task_definitions_since(t(0)).len(), 1);
        // An answer of another kind is no answer for this pane.
        let wrong = Snapshot::Services(vec![described("web", 2)]);
        assert_eq!(fleet.apply_described(&tasks, 1, t(12), &[], wrong), None);

        let hosts = Query::Instances {
            cluster: "prod".into(),
        };
        let host = "arn:aws:ecs:eu-west-1:1:container-instance/prod/abc".to_string();
        fleet.apply_listing(hosts.clone(), 2, t(10), vec![host.clone()]);
        assert!(
            fleet.all_instances().is_empty(),
            "a loading host is no host"
        );
        let known = Instance {
            arn: host.clone(),
            status: "ACTIVE".into(),
            ..Instance::default()
        };
        fleet.apply_described(&hosts, 2, t(11), &[host], Snapshot::Instances(vec![known]));
        assert_eq!(fleet.all_instances().len(), 1);
        assert_eq!(fleet.slot(&hosts).unwrap().loading(), None);
    }
}
