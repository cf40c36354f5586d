//! The metric series the triage rules read, as the engine last worked them out — on its own
//! thread, with what changed since the time before. On the biggest fleets they are 20,000
//! series: the UI loop never goes through them all after an evaluation, only through what
//! the engine says is new (to fetch now) or no longer wanted (to forget after a grace). The
//! metrics poller goes through all of them once a cycle, and the prune consults the set.

use std::sync::Arc;

use crate::model::MetricId;
use crate::model::hash::FastSet;

use super::engine::Basis;

/// The engine's series: in key order (requests ask in that order) and as a set.
#[derive(Debug, Default)]
pub struct WantedMetrics {
    sorted: Vec<MetricId>,
    set: FastSet<MetricId>,
}

/// A new list of series from an evaluation, with its difference from the one before.
#[derive(Debug, Clone)]
pub struct WantedChange {
    pub all: Arc<WantedMetrics>,
    /// Wanted now and not before, in key order.
    pub added: Vec<MetricId>,
    /// Wanted before and not now, in key order.
    pub dropped: Vec<MetricId>,
    /// What the fleet held when they were worked out.
    pub basis: Basis,
}

impl WantedMetrics {
    /// The series `metrics` names (each once, in key order) after `before`, and what changed.
    /// Only the added ones are sorted: the kept ones are in key order already, and an
    /// evaluation changes a few of 20,000 (a sort of them all compared their names some
    /// 300,000 times each evaluation).
    pub fn after(before: &WantedMetrics, metrics: Vec<MetricId>, basis: Basis) -> WantedChange {
        let set: FastSet<MetricId> = metrics.into_iter().collect();
        let mut added: Vec<MetricId> = set
            .iter()
            .filter(|m| !before.contains(m))
            .cloned()
            .collect();
        added.sort_unstable();
        let (kept, dropped): (Vec<&MetricId>, Vec<&MetricId>) =
            before.sorted.iter().partition(|m| set.contains(*m));
        let mut sorted = Vec::with_capacity(set.len());
        let mut new = added.iter().peekable();
        for old in kept {
            while let Some(m) = new.next_if(|m| *m < old) {
                sorted.push(m.clone());
            }
            sorted.push(old.clone());
        }
        sorted.extend(new.cloned());
        WantedChange {
            all: Arc::new(WantedMetrics { sorted, set }),
            added,
            dropped: dropped.into_iter().cloned().collect(),
            basis,
        }
    }

    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    pub fn contains(&self, metric: &MetricId) -> bool {
        self.set.contains(metric)
    }

    /// In key order.
    pub fn iter(&self) -> std::slice::Iter<'_, MetricId> {
        self.sorted.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Stat;

    fn metric(name: &str) -> MetricId {
        MetricId::new("AWS/ECS", name, &[("ClusterName", "prod")], Stat::Average)
    }

    #[test]
    fn a_change_names_what_came_and_what_went_in_key_order() {
        let first = vec![metric("b"), metric("a"), metric("c")];
        let before = WantedMetrics::after(&WantedMetrics::default(), first, Basis::default());
        let listed: Vec<&MetricId> = before.all.iter().collect();
        assert_eq!(listed, vec![&metric("a"), &metric("b"), &metric("c")]);
        let now = vec![
            metric("d"),
            metric("b"),
            metric("e"),
            metric("b"),
            metric("0"),
        ];
        let change = WantedMetrics::after(&before.all, now, Basis::default());
        assert_eq!(change.added, vec![metric("0"), metric("d"), metric("e")]);
        assert_eq!(change.dropped, vec![metric("a"), metric("c")]);
        assert_eq!(change.all.len(), 4, "each once");
        let listed: Vec<&MetricId> = change.all.iter().collect();
        let wanted = [metric("0"), metric("b"), metric("d"), metric("e")];
        assert_eq!(listed, wanted.iter().collect::<Vec<_>>(), "in key order");
        assert!(change.all.contains(&metric("e")) && !change.all.contains(&metric("a")));
    }

    #[test]
    fn the_first_list_adds_everything_and_drops_nothing() {
        let change = WantedMetrics::after(
            &WantedMetrics::default(),
            vec![metric("a")],
            (0, 0, 0, 0, 0),
        );
        assert_eq!(change.added, vec![metric("a")]);
        assert!(change.dropped.is_empty());
    }

    #[test]
    fn a_list_after_another_is_the_list_sorted_each_once() {
        let names = |from: usize, step: usize| -> Vec<MetricId> {
            (0..60)
                .map(|k| metric(&format!("m{}", (from + k * step) % 97)))
                .collect()
        };
        let mut before = WantedMetrics::default();
        for (from, step) in [(0, 1), (5, 3), (50, 7), (1, 2), (0, 1)] {
            let list = names(from, step);
            let mut expected = list.clone();
            expected.sort_unstable();
            expected.dedup();
            let change = WantedMetrics::after(&before, list, Basis::default());
            assert_eq!(change.all.iter().cloned().collect::<Vec<_>>(), expected);
            before = Arc::try_unwrap(change.all).expect("held once");
        }
    }
}
