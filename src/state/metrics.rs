//! CloudWatch history the console holds: points per series, pruned by a retention window,
//! the alarms of the region, and what the metrics poller has under way.

use chrono::TimeDelta;

use crate::model::{
    Alarm, AlarmState, History, MetricId, Point, SeriesData, SeriesKey, SourceError, Time,
};

/// A series nobody has looked at for this long is forgotten.
const FORGET_AFTER: TimeDelta = TimeDelta::minutes(15);

/// How long points of a resolution are kept: the longest chart window drawn with it.
pub fn retention(period: u32) -> TimeDelta {
    match period {
        0..=60 => TimeDelta::hours(3),
        61..=300 => TimeDelta::hours(24),
        _ => TimeDelta::days(7),
    }
}

/// The metrics poller's book-keeping: one request at a time, a cycle, backoff on failure.
#[derive(Debug, Default, Clone)]
pub struct MetricsPoll {
    pub next_seq: u64,
    /// Answers to requests up to this sequence came from a previous source: ignored.
    pub min_seq: u64,
    /// Sequence and send time of the request under way.
    pub in_flight: Option<(u64, Time)>,
    /// When the last full cycle (every wanted series) was sent.
    pub last_cycle: Option<Time>,
    pub failures: u32,
    pub retry_at: Option<Time>,
    pub alarms_in_flight: Option<Time>,
    pub alarms_sent: Option<Time>,
    /// The clock reading at which the triage engine's series were last marked wanted.
    pub triage_marked: Option<Time>,
    /// The engine's list of wanted series (`Triage::metrics_wanted_at`) last looked at.
    pub triage_wanted_seen: Option<Time>,
    /// A cycle went out while some wanted series were still uncovered: ask for them next.
    pub triage_owed: bool,
    /// When old points and unwanted series were last dropped (`Metrics::prune`).
    pub pruned_at: Option<Time>,
}

#[derive(Debug, Default)]
pub struct Metrics {
    /// Shared with the triage engine's frozen copy; written copy-on-write (a write while an
    /// evaluation holds it copies the map once, the evaluation keeps reading the old one).
    series: std::sync::Arc<crate::model::hash::FastMap<SeriesKey, History>>,
    /// When a pane, chart or the engine last wanted each series. Kept apart from the shared
    /// series: marked on every schedule, it must not copy them while the engine reads them.
    wanted: crate::model::hash::FastMap<SeriesKey, Time>,
    pub alarms: Vec<Alarm>,
    pub alarms_error: Option<SourceError>,
    /// The error of the latest metrics request, cleared by the next success.
    pub error: Option<SourceError>,
    pub fetched_at: Option<Time>,
    pub poll: MetricsPoll,
}

impl Metrics {
    pub fn get(&self, key: &SeriesKey) -> Option<&History> {
        self.series.get(key)
    }

    /// Every series held, by key: what the rules read.
    pub fn series(&self) -> &crate::model::hash::FastMap<SeriesKey, History> {
        &self.series
    }

    /// Every series held, shared (no copy): what the engine reads off the UI loop.
    pub fn shared_series(&self) -> std::sync::Arc<crate::model::hash::FastMap<SeriesKey, History>> {
        std::sync::Arc::clone(&self.series)
    }

    /// Every series held (in no particular order).
    pub fn keys(&self) -> impl Iterator<Item = &SeriesKey> {
        self.series.keys()
    }

    pub fn series_count(&self) -> usize {
        self.series.len()
    }

    pub fn point_count(&self) -> usize {
        self.series.values().map(History::len).sum()
    }

    /// Notes that a pane or chart shows this series now (it is kept, and polled).
    pub fn want(&mut self, key: &SeriesKey, now: Time) {
        // A series wanted before is held (only the prune forgets a series, and only one no
        // longer wanted): one look-up of 20,000 a schedule, not two.
        if let Some(at) = self.wanted.get_mut(key) {
            *at = now;
            debug_assert!(self.series.contains_key(key));
            return;
        }
        self.wanted.insert(key.clone(), now);
        if !self.series.contains_key(key) {
            std::sync::Arc::make_mut(&mut self.series).insert(key.clone(), History::default());
        }
    }

    /// Merges an answer for `[start, end)`: the points returned replace what was held in that
    /// range (CloudWatch revises the latest periods), points outside it stay.
    pub fn merge(&mut self, start: Time, end: Time, answer: Vec<SeriesData>, keys: &[SeriesKey]) {
        let series = std::sync::Arc::make_mut(&mut self.series);
        let mut merge = |key: &SeriesKey, points: Vec<Point>| match series.get_mut(key) {
            Some(history) => history.merge(start, end, points),
            None => {
                let mut history = History::default();
                history.merge(start, end, points);
                series.insert(key.clone(), history);
            }
        };
        // The source answers the series in the order asked, one each: taken side by side, no
        // key of 20,000 is hashed into a map of the answer first.
        let in_order =
            answer.len() == keys.len() && answer.iter().zip(keys).all(|(a, k)| a.key == *k);
        if in_order {
            for (data, key) in answer.into_iter().zip(keys) {
                merge(key, data.points);
            }
            return;
        }
        let mut answer: crate::model::hash::FastMap<SeriesKey, Vec<Point>> =
            answer.into_iter().map(|s| (s.key, s.points)).collect();
        for key in keys {
            merge(key, answer.remove(key).unwrap_or_default());
        }
    }

    /// Holds `history` as the series `key`, as another console holds it (the fleet view takes
    /// its contexts' cluster series so).
    pub fn put(&mut self, key: SeriesKey, history: History) {
        std::sync::Arc::make_mut(&mut self.series).insert(key, history);
    }

    /// Drops points older than their retention window and series nobody wanted lately.
    pub fn prune(&mut self, now: Time) {
        self.wanted.retain(|_, at| now - *at < FORGET_AFTER);
        let wanted = &self.wanted;
        std::sync::Arc::make_mut(&mut self.series).retain(|key, history| {
            history.forget_before(now - retention(key.period));
            wanted.contains_key(key)
        });
    }

    /// Alarms watching `metric`, worst state first.
    pub fn alarms_on<'a>(&'a self, metric: &'a MetricId) -> impl Iterator<Item = &'a Alarm> + 'a {
        self.alarms.iter().filter(move |a| a.watches(metric))
    }

    /// Whether any alarm on any of these metrics is firing.
    pub fn in_alarm(&self, metrics: &[MetricId]) -> bool {
        metrics
            .iter()
            .any(|m| self.alarms_on(m).any(|a| a.state == AlarmState::Alarm))
    }

    /// Forgets everything (another region, profile or account).
    pub fn reset(&mut self) {
        let next_seq = self.poll.next_seq;
        *self = Metrics::default();
        self.poll.next_seq = next_seq;
        self.poll.min_seq = next_seq;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Stat;

    fn t(min: i64) -> Time {
        Time::from_timestamp(1_800_000_000 + min * 60, 0).unwrap()
    }
    fn key() -> SeriesKey {
        SeriesKey {
            metric: MetricId::new(
                "AWS/ECS",
                "CPUUtilization",
                &[("ClusterName", "p")],
                Stat::Average,
            ),
            period: 60,
        }
    }
    fn data(points: &[(i64, f64)]) -> Vec<SeriesData> {
        vec![SeriesData {
            key: key(),
            points: points
                .iter()
                .map(|&(m, v)| Point { at: t(m), value: v })
                .collect(),
        }]
    }
    fn values(m: &Metrics) -> Vec<(i64, f64)> {
        m.get(&key())
            .unwrap()
            .points()
            .map(|p| ((p.at - t(0)).num_minutes(), p.value))
            .collect()
    }

    #[test]
    fn a_later_answer_replaces_its_range_and_keeps_older_points() {
        let mut m = Metrics::default();
        m.merge(t(0), t(10), data(&[(0, 1.0), (5, 2.0), (9, 3.0)]), &[key()]);
        // The increment re-reads the last two periods: 9 is revised, 10 and 11 are new.
        m.merge(t(8), t(12), data(&[(9, 3.5), (11, 4.0)]), &[key()]);
        assert_eq!(values(&m), vec![(0, 1.0), (5, 2.0), (9, 3.5), (11, 4.0)]);
        let h = m.get(&key()).unwrap();
        assert_eq!((h.covered_from, h.loaded_until), (Some(t(0)), Some(t(12))));
    }

    #[test]
    fn missing_periods_stay_missing_and_nan_is_not_a_point() {
        let mut m = Metrics::default();
        m.merge(t(0), t(5), data(&[(0, 0.0), (3, f64::NAN)]), &[key()]);
        assert_eq!(
            values(&m),
            vec![(0, 0.0)],
            "zero kept, NaN dropped, gaps not filled"
        );
    }

    #[test]
    fn an_answer_in_another_order_or_short_of_a_series_merges_the_same() {
        let other = SeriesKey {
            period: 300,
            ..key()
        };
        let series = |key: &SeriesKey, m: i64| SeriesData {
            key: key.clone(),
            points: vec![Point {
                at: t(m),
                value: 1.0,
            }],
        };
        let keys = [key(), other.clone()];
        let mut in_order = Metrics::default();
        in_order.merge(
            t(0),
            t(10),
            vec![series(&key(), 1), series(&other, 5)],
            &keys,
        );
        let mut reversed = Metrics::default();
        reversed.merge(
            t(0),
            t(10),
            vec![series(&other, 5), series(&key(), 1)],
            &keys,
        );
        for m in [&in_order, &reversed] {
            assert_eq!(values(m), vec![(1, 1.0)]);
            assert_eq!(m.get(&other).unwrap().len(), 1);
        }
        // A series asked for but not answered had no data in the range: it is covered, empty.
        let mut short = Metrics::default();
        short.merge(t(0), t(10), vec![series(&other, 5)], &keys);
        assert!(short.get(&key()).unwrap().is_empty() && short.get(&key()).unwrap().covers(t(0)));
    }

    #[test]
    fn an_empty_answer_clears_the_range() {
        let mut m = Metrics::default();
        m.merge(t(0), t(5), data(&[(1, 1.0), (4, 1.0)]), &[key()]);
        m.merge(t(3), t(6), Vec::new(), &[key()]);
        assert_eq!(values(&m), vec![(1, 1.0)]);
    }

    #[test]
    fn a_gap_between_requests_restarts_coverage() {
        let mut m = Metrics::default();
        m.merge(t(0), t(5), data(&[(1, 1.0)]), &[key()]);
        m.merge(t(30), t(40), data(&[(31, 1.0)]), &[key()]);
        let h = m.get(&key()).unwrap();
        assert_eq!(h.covered_from, Some(t(30)));
        assert!(h.covers(t(30)) && !h.covers(t(0)));
    }

    #[test]
    fn marking_a_held_series_wanted_leaves_the_engines_copy_shared() {
        let mut m = Metrics::default();
        m.want(&key(), t(0));
        m.merge(t(0), t(300), data(&[(0, 1.0)]), &[key()]);
        let engine = m.shared_series();
        m.want(&key(), t(60));
        assert!(
            std::sync::Arc::ptr_eq(&engine, &m.shared_series()),
            "a mark on every schedule must not copy every series"
        );
    }

    #[test]
    fn prune_drops_old_points_and_unwanted_series() {
        let mut m = Metrics::default();
        m.want(&key(), t(0));
        m.merge(t(0), t(300), data(&[(0, 1.0), (200, 2.0)]), &[key()]);
        m.prune(t(10));
        assert_eq!(
            values(&m).len(),
            2,
            "within 3 h retention and wanted lately"
        );
        m.prune(t(240));
        assert!(m.get(&key()).is_none(), "not wanted for 4 hours");
        m.want(&key(), t(240));
        m.merge(t(0), t(300), data(&[(0, 1.0), (200, 2.0)]), &[key()]);
        m.prune(t(240));
        assert_eq!(values(&m), vec![(200, 2.0)], "older than 3 h dropped");
    }
}
