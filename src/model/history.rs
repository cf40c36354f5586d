//! One CloudWatch series as the console holds it: the points, and the range they are known to
//! cover without holes. A domain value: the state keeps many, the rules and the charts read them.

use std::collections::BTreeMap;

use super::{Point, Time};

#[derive(Debug, Default, Clone)]
pub struct History {
    /// Epoch seconds of the period start → value. A period without a point had no data.
    points: BTreeMap<i64, f64>,
    /// The history is complete from here to `loaded_until` (no request left a hole).
    pub covered_from: Option<Time>,
    pub loaded_until: Option<Time>,
}

impl History {
    pub fn points(&self) -> impl DoubleEndedIterator<Item = Point> + '_ {
        self.points.iter().map(|(&at, &value)| Point {
            at: Time::from_timestamp(at, 0).unwrap_or_default(),
            value,
        })
    }

    /// Points from `since` on, oldest first.
    pub fn since(&self, since: Time) -> impl DoubleEndedIterator<Item = Point> + '_ {
        self.points
            .range(since.timestamp()..)
            .map(|(&at, &value)| Point {
                at: Time::from_timestamp(at, 0).unwrap_or_default(),
                value,
            })
    }

    pub fn latest(&self) -> Option<Point> {
        self.points().next_back()
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Whether the history covers `[since, now)` without holes the console knows of.
    pub fn covers(&self, since: Time) -> bool {
        self.covered_from.is_some_and(|from| from <= since) && self.loaded_until.is_some()
    }

    /// Merges an answer for `[start, end)`: the points returned replace what was held in that
    /// range (CloudWatch revises the latest periods), points outside it stay.
    pub fn merge(&mut self, start: Time, end: Time, answer: Vec<Point>) {
        let stale: Vec<i64> = self
            .points
            .range(start.timestamp()..end.timestamp())
            .map(|(&at, _)| at)
            .collect();
        for at in stale {
            self.points.remove(&at);
        }
        for p in answer {
            if p.value.is_finite() {
                self.points.insert(p.at.timestamp(), p.value);
            }
        }
        // Contiguous with what was held: the covered range grows; otherwise it restarts.
        let joined = match (self.covered_from, self.loaded_until) {
            (Some(from), Some(until)) if until >= start && end >= from => Some((from, until)),
            _ => None,
        };
        (self.covered_from, self.loaded_until) = match joined {
            Some((from, until)) => (Some(from.min(start)), Some(until.max(end))),
            None => (Some(start), Some(end)),
        };
    }

    /// Drops points before `keep_from` (whole seconds, as points are keyed); the covered range
    /// starts there at the earliest.
    pub fn forget_before(&mut self, keep_from: Time) {
        let keep_from = keep_from.timestamp();
        self.points = self.points.split_off(&keep_from);
        if let Some(from) = self.covered_from
            && from.timestamp() < keep_from
        {
            self.covered_from = Time::from_timestamp(keep_from, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(min: i64) -> Time {
        Time::from_timestamp(1_800_000_000 + min * 60, 0).unwrap()
    }
    fn p(min: i64, value: f64) -> Point {
        Point { at: t(min), value }
    }

    #[test]
    fn forgetting_moves_the_covered_start_up_to_the_cut() {
        let mut h = History::default();
        h.merge(t(0), t(10), vec![p(1, 1.0), p(5, 2.0), p(9, 3.0)]);
        h.forget_before(t(5));
        assert_eq!(h.points().collect::<Vec<_>>(), vec![p(5, 2.0), p(9, 3.0)]);
        assert_eq!(h.covered_from, Some(t(5)));
        assert!(h.covers(t(5)) && !h.covers(t(4)));
    }

    #[test]
    fn forgetting_before_the_covered_start_changes_nothing() {
        let mut h = History::default();
        h.merge(t(10), t(20), vec![p(12, 1.0)]);
        h.forget_before(t(5));
        assert_eq!(h.len(), 1);
        assert_eq!(h.covered_from, Some(t(10)));
    }
}
