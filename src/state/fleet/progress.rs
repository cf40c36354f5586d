//! Rows before details: a listed pane (the services of a big cluster) holds its rows from the
//! list calls at once, marked as loading, and takes each describe batch into them by ARN as it
//! arrives. Which rows to describe, and when, is `poll::describe`'s to decide.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::{Fleet, Slot};
use crate::model::{Query, Service, Snapshot, Time};

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
    fn reindex(&mut self, rows: &[Service]) {
        self.index = rows
            .iter()
            .enumerate()
            .map(|(i, s)| (s.arn.clone(), i))
            .collect();
        let listed = &self.index;
        self.described.retain(|arn, _| listed.contains_key(arn));
        self.asked.retain(|arn, _| listed.contains_key(arn));
    }
}

impl Slot {
    /// `(rows, rows with their details)` while some rows of a listed pane are still loading.
    pub fn loading(&self) -> Option<(usize, usize)> {
        let Some(Snapshot::Services(rows)) = self.data.as_deref() else {
            return None;
        };
        let loaded = rows.iter().filter(|s| !s.loading).count();
        (loaded < rows.len()).then_some((rows.len(), loaded))
    }
}

impl Fleet {
    /// Applies a list answer (the ARNs of a cluster's services) unless a newer answer was
    /// applied: rows already described keep their details until their next describe, new
    /// ones come in loading. Returns whether it was applied.
    pub fn apply_listing(&mut self, query: Query, seq: u64, at: Time, arns: Vec<String>) -> bool {
        if seq <= self.min_seq {
            return false;
        }
        let Query::Services { cluster } = &query else {
            return false;
        };
        let cluster = cluster.clone();
        let slot = self.slots.entry(query).or_default();
        if seq < slot.applied_seq {
            return false;
        }
        slot.applied_seq = seq;
        let old: HashMap<&str, &Service> = match slot.data.as_deref() {
            Some(Snapshot::Services(rows)) => rows.iter().map(|s| (s.arn.as_str(), s)).collect(),
            _ => HashMap::new(),
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
        let mut rows: Vec<Service> = arns
            .iter()
            .filter(|arn| seen.insert(arn.as_str()))
            .map(|arn| match old.get(arn.as_str()) {
                Some(known) => (*known).clone(),
                None => Service::listed(arn, &cluster),
            })
            .collect();
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        progress.reindex(&rows);
        let data = Snapshot::Services(rows);
        if slot.data.as_deref() != Some(&data) {
            slot.changed(at);
        }
        slot.fingerprint = None;
        slot.data = Some(Arc::new(data));
        slot.fetched_at = Some(at);
        slot.error = None;
        slot.progress = Some(progress);
        true
    }

    /// Takes a describe answer into the rows it was asked for (by ARN). A row asked for but
    /// not answered was deleted since the listing, and goes. Returns whether any row changed;
    /// `None` when the answer belongs to no current listing (another source, an older list
    /// answered whole since).
    pub fn apply_described(
        &mut self,
        query: &Query,
        seq: u64,
        at: Time,
        asked: &[String],
        services: Vec<Service>,
    ) -> Option<bool> {
        let slot = self.listed_slot(query, seq)?;
        let progress = slot.progress.as_mut()?;
        for arn in asked {
            progress.asked.remove(arn);
        }
        progress.failures = 0;
        progress.retry_at = None;
        let Some(Snapshot::Services(rows)) = slot.data.as_mut().map(Arc::make_mut) else {
            return None;
        };
        let mut changed = false;
        let answered: HashSet<String> = services.iter().map(|s| s.arn.clone()).collect();
        for mut service in services {
            let Some(&i) = progress.index.get(&service.arn) else {
                continue; // not listed any more
            };
            progress.described.insert(service.arn.clone(), at);
            // Its age alone is no change.
            service.described_at = rows[i].described_at;
            changed |= rows[i] != service;
            service.described_at = Some(at);
            rows[i] = service;
        }
        let before = rows.len();
        rows.retain(|s| !asked.contains(&s.arn) || answered.contains(&s.arn));
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

        let changed =
            fleet.apply_described(&q(), 1, t(11), &[arn("web")], vec![described("web", 2)]);
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
    fn a_row_asked_for_but_not_answered_was_deleted() {
        let mut fleet = Fleet::default();
        fleet.apply_listing(q(), 1, t(10), vec![arn("web"), arn("api")]);
        let asked = [arn("web"), arn("api")];
        fleet.apply_described(&q(), 1, t(11), &asked, vec![described("web", 2)]);
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
            fleet.apply_described(&q(), 1, t(11), &[arn("web")], vec![described("web", 2)]),
            None
        );
    }
}
