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
    /// The engine's series to ask for at the next look that is not a cycle: those it just
    /// added, and those a cycle found uncovered (a cycle asks only for what is held).
    pub engine_owed: Vec<MetricId>,
    /// When old points and unwanted series were last dropped (`Metrics::prune`).
    pub pruned_at: Option<Time>,
    /// An answer being merged a slice at a time.
    pub merging: Option<Merging>,
}

/// A big metrics answer, merged over several turns of the UI loop.
#[derive(Debug, Clone)]
pub struct Merging {
    pub seq: u64,
    pub start: Time,
    pub end: Time,
    /// When it was answered.
    pub at: Time,
    /// What is left to merge.
    pub rest: std::vec::IntoIter<(SeriesKey, Vec<Point>)>,
}

#[derive(Debug, Default)]
pub struct Metrics {
    /// Shared with the triage engine's frozen copy; written copy-on-write (a write while an
    /// evaluation holds it copies the map once, the evaluation keeps reading the old one).
    series: std::sync::Arc<crate::model::hash::FastMap<SeriesKey, History>>,
    /// Each dimension's values among the series' keys, as asked for (`Metrics::values_of`)
    /// until the series next change: a table of 60,000 tasks asks at every slice of its cells
    /// read and every rebuild of its rows, and looking over 20,000 keys each time was most of
    /// that.
    values: std::sync::Mutex<crate::model::hash::FastMap<&'static str, DimensionValues>>,
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

/// The values of one dimension among the series held ([`Metrics::values_of`]).
pub type DimensionValues = std::sync::Arc<crate::model::hash::FastSet<Box<str>>>;

impl Metrics {
    /// The series to change: what was worked out of their keys goes.
    fn series_mut(&mut self) -> &mut crate::model::hash::FastMap<SeriesKey, History> {
        self.values
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
        std::sync::Arc::make_mut(&mut self.series)
    }

    /// The values `dimension` takes among the series held (a task id of each task with series
    /// of its own): a row whose value is not among them has no series in that dimension.
    pub fn values_of(&self, dimension: &'static str) -> DimensionValues {
        let mut values = self
            .values
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let made = values.entry(dimension).or_insert_with(|| {
            std::sync::Arc::new(
                self.series
                    .keys()
                    .filter_map(|k| k.metric.dimension(dimension))
                    .map(Box::from)
                    .collect(),
            )
        });
        std::sync::Arc::clone(made)
    }

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
        match self.wanted.get_mut(key) {
            Some(at) => *at = now,
            None => {
                self.wanted.insert(key.clone(), now);
            }
        }
        self.hold(key);
    }

    /// Merges an answer for `[start, end)`: the points returned replace what was held in that
    /// range (CloudWatch revises the latest periods), points outside it stay.
    pub fn merge(&mut self, start: Time, end: Time, answer: Vec<SeriesData>, keys: &[SeriesKey]) {
        self.merge_answered(start, end, answered(answer, keys.to_vec()));
    }

    /// Merges series answered for `[start, end)` (see [`answered`]), points older than their
    /// retention dropped on the way. Called with a slice of a big answer at a time.
    pub fn merge_answered(
        &mut self,
        start: Time,
        end: Time,
        answered: impl IntoIterator<Item = (SeriesKey, Vec<Point>)>,
    ) {
        let series = self.series_mut();
        for (key, points) in answered {
            let forget = end - retention(key.period);
            match series.get_mut(&key) {
                Some(history) => {
                    history.merge(start, end, points);
                    history.forget_before(forget);
                }
                None => {
                    let mut history = History::default();
                    history.merge(start, end, points);
                    history.forget_before(forget);
                    series.insert(key, history);
                }
            }
        }
    }

    /// Holds `history` as the series `key`, as another console holds it (the fleet view takes
    /// its contexts' cluster series so).
    pub fn put(&mut self, key: SeriesKey, history: History, now: Time) {
        self.wanted.insert(key.clone(), now);
        self.series_mut().insert(key, history);
    }

    /// Holds an empty history for `key` until its first answer (the engine's new series: the
    /// rules read "asked, nothing yet" apart from "not asked").
    pub fn hold(&mut self, key: &SeriesKey) {
        if !self.series.contains_key(key) {
            self.series_mut().insert(key.clone(), History::default());
        }
    }

    /// Keeps a series for a while after its last user let it go (the engine no longer reads
    /// it): wanted again soon, it need not be fetched again. Also when it is not held yet (an
    /// answer under way brings it).
    pub fn keep_a_while(&mut self, key: &SeriesKey, now: Time) {
        self.wanted.insert(key.clone(), now);
    }

    /// Forgets the series nobody wanted lately that are not `in_use` (the engine's, which it
    /// lets go of through [`Metrics::keep_a_while`]). Every series held is either marked
    /// wanted or in use, so only the marks that ran out are looked at, not every series
    /// (25,000 on the biggest fleets); old points go as answers merge.
    pub fn prune(&mut self, now: Time, in_use: impl Fn(&SeriesKey) -> bool) {
        let series = &self.series;
        let expired: Vec<SeriesKey> = self
            .wanted
            .extract_if(|_, at| now - *at >= FORGET_AFTER)
            .map(|(key, _)| key)
            .filter(|key| !in_use(key) && series.contains_key(key))
            .collect();
        if !expired.is_empty() {
            let series = self.series_mut();
            for key in expired {
                series.remove(&key);
            }
        }
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

/// An answer's series beside the keys asked for, one each (a key without points has none).
/// The source answers in the order asked: taken side by side, no key of 20,000 is hashed into
/// a map of the answer first.
pub fn answered(answer: Vec<SeriesData>, keys: Vec<SeriesKey>) -> Vec<(SeriesKey, Vec<Point>)> {
    let in_order = answer.len() == keys.len() && answer.iter().zip(&keys).all(|(a, k)| a.key == *k);
    if in_order {
        return answer
            .into_iter()
            .zip(keys)
            .map(|(data, key)| (key, data.points))
            .collect();
    }
    let mut answer: crate::model::hash::FastMap<SeriesKey, Vec<Point>> =
        answer.into_iter().map(|s| (s.key, s.points)).collect();
    keys.into_iter()
        .map(|key| {
            let points = answer.remove(&key).unwrap_or_default();
            (key, points)
        })
        .collect()
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
        assert_eq!(
            (h.covered_from(), h.loaded_until()),
            (Some(t(0)), Some(t(12)))
        );
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
        assert_eq!(h.covered_from(), Some(t(30)));
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
    fn old_points_go_as_answers_merge_and_unwanted_series_after_a_grace() {
        let mut m = Metrics::default();
        m.want(&key(), t(0));
        m.merge(t(0), t(300), data(&[(0, 1.0), (200, 2.0)]), &[key()]);
        assert_eq!(values(&m), vec![(200, 2.0)], "older than 3 h dropped");
        m.prune(t(10), |_| false);
        assert!(m.get(&key()).is_some(), "wanted lately");
        m.prune(t(240), |_| true);
        assert!(m.get(&key()).is_some(), "in use");
        m.prune(t(240), |_| false);
        assert!(m.get(&key()).is_some(), "in use until now: its mark went");
        m.keep_a_while(&key(), t(240));
        m.prune(t(250), |_| false);
        assert!(m.get(&key()).is_some(), "let go of 10 minutes ago");
        m.prune(t(256), |_| false);
        assert!(m.get(&key()).is_none(), "let go of 16 minutes ago");
    }
}
