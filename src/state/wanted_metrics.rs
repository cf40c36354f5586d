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
    pub fn new(mut metrics: Vec<MetricId>) -> Self {
        metrics.sort_unstable();
        metrics.dedup();
        let set = metrics.iter().cloned().collect();
        WantedMetrics {
            sorted: metrics,
            set,
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

    /// The series of `self` that `other` lacks, in key order.
    fn not_in(&self, other: &WantedMetrics) -> Vec<MetricId> {
        self.sorted
            .iter()
            .filter(|m| !other.contains(m))
            .cloned()
            .collect()
    }

    /// `self` against `before`: the series added and the series dropped.
    pub fn change_from(self, before: &WantedMetrics, basis: Basis) -> WantedChange {
        let added = self.not_in(before);
        let dropped = before.not_in(&self);
        WantedChange {
            all: Arc::new(self),
            added,
            dropped,
            basis,
        }
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
        let before = WantedMetrics::new(vec![metric("b"), metric("a"), metric("c")]);
        let now = WantedMetrics::new(vec![metric("d"), metric("b"), metric("e"), metric("b")]);
        let change = now.change_from(&before, Basis::default());
        assert_eq!(change.added, vec![metric("d"), metric("e")]);
        assert_eq!(change.dropped, vec![metric("a"), metric("c")]);
        assert_eq!(change.all.len(), 3, "each once");
        let listed: Vec<&MetricId> = change.all.iter().collect();
        assert_eq!(listed, vec![&metric("b"), &metric("d"), &metric("e")]);
        assert!(change.all.contains(&metric("e")) && !change.all.contains(&metric("a")));
    }

    #[test]
    fn the_first_list_adds_everything_and_drops_nothing() {
        let change = WantedMetrics::new(vec![metric("a")])
            .change_from(&WantedMetrics::default(), (0, 0, 0, 0, 0));
        assert_eq!(change.added, vec![metric("a")]);
        assert!(change.dropped.is_empty());
    }
}
