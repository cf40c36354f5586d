//! One CloudWatch series as the console holds it: the points, and the range they are known to
//! cover without holes. A domain value: the state keeps many, the rules and the charts read them.

use super::{Point, Time};

/// Points as (epoch seconds of the period start, value), sorted by time, one per period: a
/// flat list, not a tree — answers come in time order and replace the latest periods, so a
/// merge is a splice at the end, a copy is one `memcpy`, and 20,000 series of three hours
/// take a sixth of a tree's memory.
#[derive(Clone)]
pub struct History {
    /// A period without a point had no data.
    points: Vec<(i64, f64)>,
    /// The history is complete from here to `loaded_until` (no request left a hole).
    covered_from: Option<Time>,
    loaded_until: Option<Time>,
    /// This state of the history, told apart from every other of any series in this run (see
    /// [`History::revision`]).
    revision: u64,
}

/// A fresh [`History::revision`]: process-wide, so that no two states of any series share one.
fn next_revision() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Default for History {
    fn default() -> Self {
        History {
            points: Vec::new(),
            covered_from: None,
            loaded_until: None,
            revision: next_revision(),
        }
    }
}

fn point(&(at, value): &(i64, f64)) -> Point {
    Point {
        at: Time::from_timestamp(at, 0).unwrap_or_default(),
        value,
    }
}

impl History {
    /// Names this state of the history: a copy keeps it, every change (a merge, points
    /// forgotten) takes a new one no other history ever had. What changed among 20,000 series
    /// is told by comparing these, not by hashing each series' name and points.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// The history is complete from here to [`History::loaded_until`] (no request left a hole).
    pub fn covered_from(&self) -> Option<Time> {
        self.covered_from
    }

    /// The end of the latest range merged.
    pub fn loaded_until(&self) -> Option<Time> {
        self.loaded_until
    }

    pub fn points(&self) -> impl DoubleEndedIterator<Item = Point> + '_ {
        self.points.iter().map(point)
    }

    /// Points from `since` on, oldest first.
    pub fn since(&self, since: Time) -> impl DoubleEndedIterator<Item = Point> + '_ {
        self.points[self.first_at(since.timestamp())..]
            .iter()
            .map(point)
    }

    /// Points from `since` (epoch seconds) on, oldest first, as held: (epoch seconds, value).
    /// For loops over every point of many series (a frame's sparklines), which need no
    /// calendar time per point.
    pub fn seconds_since(&self, since: i64) -> &[(i64, f64)] {
        &self.points[self.first_at(since)..]
    }

    /// Where the first point at or after `at` is (or would be).
    fn first_at(&self, at: i64) -> usize {
        self.points.partition_point(|&(t, _)| t < at)
    }

    pub fn latest(&self) -> Option<Point> {
        self.points.last().map(point)
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
        // The answer's finite points by time, one per period (of two at one time, the later).
        let mut new: Vec<(i64, f64)> = answer
            .into_iter()
            .filter(|p| p.value.is_finite())
            .map(|p| (p.at.timestamp(), p.value))
            .collect();
        if !new.is_sorted_by(|a, b| a.0 < b.0) {
            new.sort_by_key(|&(at, _)| at);
            let mut one_each: Vec<(i64, f64)> = Vec::with_capacity(new.len());
            for p in new {
                match one_each.last_mut() {
                    Some(last) if last.0 == p.0 => *last = p,
                    _ => one_each.push(p),
                }
            }
            new = one_each;
        }
        let (from, to) = (start.timestamp(), end.timestamp());
        let lo = self.first_at(from);
        let hi = self.first_at(to).max(lo);
        let inside = new
            .first()
            .zip(new.last())
            .is_none_or(|(first, last)| first.0 >= from && last.0 < to);
        if inside {
            // The usual answer: the range's points replaced in place.
            self.points.splice(lo..hi, new);
        } else {
            // Points outside the range asked for: the range goes, then the two sorted lists
            // are merged, the answer's point winning at a time both hold.
            self.points.drain(lo..hi);
            let old = std::mem::take(&mut self.points);
            let mut merged = Vec::with_capacity(old.len() + new.len());
            let (mut old, mut new) = (old.into_iter().peekable(), new.into_iter().peekable());
            loop {
                let take_old = match (old.peek(), new.peek()) {
                    (Some(o), Some(n)) if o.0 == n.0 => {
                        old.next();
                        false
                    }
                    (Some(o), Some(n)) => o.0 < n.0,
                    (Some(_), None) => true,
                    (None, Some(_)) => false,
                    (None, None) => break,
                };
                merged.extend(if take_old { old.next() } else { new.next() });
            }
            self.points = merged;
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
        self.revision = next_revision();
    }

    /// Drops points before `keep_from` (whole seconds, as points are keyed); the covered range
    /// starts there at the earliest.
    pub fn forget_before(&mut self, keep_from: Time) {
        let keep_from = keep_from.timestamp();
        let cut = self.first_at(keep_from);
        let mut changed = cut > 0;
        self.points.drain(..cut);
        if let Some(from) = self.covered_from
            && from.timestamp() < keep_from
        {
            self.covered_from = Time::from_timestamp(keep_from, 0);
            changed = true;
        }
        if changed {
            self.revision = next_revision();
        }
    }
}

/// As the tree of points it once was prints (a map of time to value).
impl std::fmt::Debug for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        struct Points<'a>(&'a [(i64, f64)]);
        impl std::fmt::Debug for Points<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_map()
                    .entries(self.0.iter().map(|(at, value)| (at, value)))
                    .finish()
            }
        }
        f.debug_struct("History")
            .field("points", &Points(&self.points))
            .field("covered_from", &self.covered_from)
            .field("loaded_until", &self.loaded_until)
            .finish()
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
    fn a_copy_keeps_its_revision_and_every_change_takes_a_new_one() {
        let (a, b) = (History::default(), History::default());
        assert_ne!(a.revision(), b.revision(), "two series never share one");
        let mut h = History::default();
        h.merge(t(0), t(3), vec![p(0, 1.0), p(1, 2.0), p(2, 3.0)]);
        let merged = h.revision();
        assert_ne!(merged, b.revision());
        assert_eq!(h.clone().revision(), merged, "a copy is the same state");
        h.forget_before(t(0));
        assert_eq!(h.revision(), merged, "nothing forgotten, nothing changed");
        h.forget_before(t(1));
        let forgotten = h.revision();
        assert_ne!(forgotten, merged);
        h.merge(t(2), t(3), vec![p(2, 3.0)]);
        assert_ne!(
            h.revision(),
            forgotten,
            "a merge is a change, even of the same points"
        );
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

    #[test]
    fn a_merge_replaces_its_range_keeps_the_rest_and_orders_what_came_out_of_order() {
        let mut h = History::default();
        h.merge(t(0), t(10), vec![p(1, 1.0), p(5, 2.0), p(9, 3.0)]);
        // Points outside the range asked for, out of order, one twice: the later one wins.
        h.merge(
            t(4),
            t(6),
            vec![p(12, 7.0), p(4, 4.0), p(0, 0.5), p(12, 8.0), p(5, f64::NAN)],
        );
        assert_eq!(
            h.points().collect::<Vec<_>>(),
            vec![p(0, 0.5), p(1, 1.0), p(4, 4.0), p(9, 3.0), p(12, 8.0)]
        );
        assert_eq!(h.since(t(4)).count(), 3);
        assert_eq!(h.latest(), Some(p(12, 8.0)));
        // The usual increment: the latest periods again, and one new.
        h.merge(t(9), t(14), vec![p(9, 3.5), p(13, 9.0)]);
        assert_eq!(
            h.since(t(9)).collect::<Vec<_>>(),
            vec![p(9, 3.5), p(13, 9.0)]
        );
        assert_eq!(
            format!("{h:?}").split(", covered").next(),
            Some(
                "History { points: {1800000000: 0.5, 1800000060: 1.0, 1800000240: 4.0, \
                 1800000540: 3.5, 1800000780: 9.0}"
            )
        );
    }
}
