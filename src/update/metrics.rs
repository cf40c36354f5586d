//! When to ask CloudWatch for the history the console needs (which series: `poll::metrics`), and
//! what to do with answers.
//!
//! Only series on screen are polled: the visible rows of the focused pane and an open chart.
//! A cycle (default 60 s) asks for all of them in as few `GetMetricData` rounds as possible —
//! after the first load only the newest periods, so a steady view is one request a cycle.
//! Series that come into view between cycles (scrolling, a chart) are fetched at once.

use chrono::TimeDelta;

use crate::action::Effect;
use crate::model::hash::FastSet;
use crate::model::{MetricId, MetricRequest, SeriesData, SeriesKey, Time};
use crate::poll;
use crate::screen::spark::{ROW_PERIOD, ROW_WINDOW};
use crate::source::SourceError;
use crate::state::{Level, Merging, State, WantedChange, WantedMetrics, answered};

/// Periods re-read on each increment: CloudWatch completes and revises the latest ones.
const OVERLAP_PERIODS: i64 = 2;
/// How the status line names this poller's problems (and recognises them once over).
const METRICS_WARNING: &str = "CloudWatch metrics: ";

/// Metric and alarm requests due now.
pub fn schedule(state: &mut State) -> Vec<Effect> {
    let now = state.now;
    let cadence = state.refresh.metrics;
    let wanted = poll::metrics::wanted(state);
    for (key, _) in &wanted {
        state.metrics.want(key, now);
    }
    let mut effects = Vec::new();

    let poll = &mut state.metrics.poll;
    let lost = poll::LOST_AFTER;
    if poll::repeat_due(
        poll.alarms_in_flight,
        poll.alarms_sent,
        poll::chrono_duration(cadence),
        now,
    ) {
        poll.alarms_in_flight = Some(now);
        poll.alarms_sent = Some(now);
        effects.push(Effect::FetchAlarms);
    }

    let busy = poll.in_flight.is_some_and(|(_, sent)| now - sent < lost);
    let backing_off = poll.retry_at.is_some_and(|at| now < at);
    let engine = std::sync::Arc::clone(&state.triage.metrics_wanted);
    if (wanted.is_empty() && engine.is_empty()) || busy || backing_off {
        return effects;
    }
    let cycle_due = poll.retry_at.is_some()
        || poll
            .last_cycle
            .is_none_or(|at| now - at >= poll::chrono_duration(cadence));
    let owed = std::mem::take(&mut state.metrics.poll.engine_owed);
    let metrics = &state.metrics;
    // Where each series' request must start, or `None` when it is not held far enough back.
    let held_from = |key: &SeriesKey, window: TimeDelta| -> Option<Time> {
        let history = metrics.get(key).filter(|h| h.covers(now - window))?;
        let overlap = TimeDelta::seconds(i64::from(key.period) * OVERLAP_PERIODS);
        Some(
            history
                .loaded_until()
                .map_or(now - window, |until| until - overlap),
        )
    };
    // The screen's series, each once (the few the engine reads too go with the engine's).
    let mut screen: Vec<(SeriesKey, TimeDelta)> = wanted
        .into_iter()
        .filter(|(key, window)| !(*window <= ROW_WINDOW && engine_reads(&engine, key)))
        .collect();
    screen.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    screen.dedup_by(|a, b| a.0 == b.0);
    let mut missing = Request::default();
    let mut held = Request::default();
    for (key, window) in screen {
        match held_from(&key, window) {
            Some(from) => held.add(key, from),
            None => missing.add(key, now - window),
        }
    }
    // The engine's: all of them (20,000 on the biggest fleets) only when a cycle is due;
    // between cycles only those it added lately or a cycle left out. In key order already.
    let on_screen: FastSet<SeriesKey> = held.keys.iter().chain(&missing.keys).cloned().collect();
    let listed = |key: &SeriesKey| !on_screen.is_empty() && on_screen.contains(key);
    let mut engine_missing: Vec<MetricId> = Vec::new();
    if cycle_due {
        for metric in engine.iter() {
            let key = engine_key(metric);
            if listed(&key) {
                continue;
            }
            match held_from(&key, ROW_WINDOW) {
                Some(from) => held.add(key, from),
                None => engine_missing.push(key.metric),
            }
        }
    } else {
        for metric in owed {
            let key = engine_key(&metric);
            if engine.contains(&metric) && !listed(&key) && held_from(&key, ROW_WINDOW).is_none() {
                engine_missing.push(metric);
            }
        }
        engine_missing.sort_unstable();
        engine_missing.dedup();
    }
    // A cycle asks only for the newest periods of what is held; series that need a longer
    // reach go in a request of their own, so one new chart never drags every row back a week.
    let (chosen, cycle) = if cycle_due && !held.keys.is_empty() {
        state.metrics.poll.engine_owed = engine_missing;
        (held, true)
    } else {
        for metric in engine_missing {
            missing.add(engine_key(&metric), now - ROW_WINDOW);
        }
        (missing, cycle_due && held.keys.is_empty())
    };
    if chosen.keys.is_empty() {
        return effects;
    }
    let Some(request) = chosen.into_request(now) else {
        return effects;
    };
    let poll = &mut state.metrics.poll;
    if cycle {
        poll.last_cycle = Some(now);
    }
    poll.next_seq += 1;
    poll.in_flight = Some((poll.next_seq, now));
    effects.push(Effect::FetchMetrics {
        request,
        seq: poll.next_seq,
    });
    effects
}

/// A new list of the engine's series: those it added are asked for at the next look, those
/// it dropped are kept a while (it may want them again).
pub fn engine_wants(state: &mut State, change: &WantedChange) {
    let now = state.now;
    for metric in &change.added {
        state.metrics.hold(&engine_key(metric));
    }
    let owed = &mut state.metrics.poll.engine_owed;
    owed.extend(change.added.iter().cloned());
    for metric in &change.dropped {
        state.metrics.keep_a_while(&engine_key(metric), now);
    }
}

/// The series of one of the engine's metrics: the rows' resolution, which the rules read.
fn engine_key(metric: &MetricId) -> SeriesKey {
    SeriesKey {
        metric: metric.clone(),
        period: ROW_PERIOD,
    }
}

/// Whether `key` is one of the engine's series.
fn engine_reads(engine: &WantedMetrics, key: &SeriesKey) -> bool {
    key.period == ROW_PERIOD && engine.contains(&key.metric)
}

/// The series chosen for one request (each once: the screen's, then the engine's, each in
/// key order), from the oldest point any of them lacks. The source splits it into
/// `GetMetricData` calls of at most 500 series.
#[derive(Default)]
struct Request {
    keys: Vec<SeriesKey>,
    start: Option<Time>,
}

impl Request {
    fn add(&mut self, key: SeriesKey, from: Time) {
        self.keys.push(key);
        self.start = Some(self.start.map_or(from, |start| start.min(from)));
    }

    fn into_request(self, now: Time) -> Option<MetricRequest> {
        let start = self.start?;
        // Whole minutes: CloudWatch aligns periods to them anyway.
        let start = Time::from_timestamp(start.timestamp() - start.timestamp().rem_euclid(60), 0)?;
        Some(MetricRequest {
            series: self.keys,
            start,
            end: now,
        })
    }
}

pub fn metrics_loaded(
    state: &mut State,
    request: MetricRequest,
    seq: u64,
    at: Time,
    result: Result<Vec<SeriesData>, SourceError>,
) -> Vec<Effect> {
    let poll = &mut state.metrics.poll;
    if seq <= poll.min_seq {
        return Vec::new(); // asked of a previous source
    }
    let outcome = poll::Outcome::of(&result);
    match result {
        Ok(data) => {
            poll.failures = 0;
            poll.retry_at = None;
            // The warning this poller raised is over: take it down.
            if state.metrics.error.is_some()
                && state
                    .status
                    .as_ref()
                    .is_some_and(|s| s.level != Level::Info && s.text.starts_with(METRICS_WARNING))
            {
                state.status = None;
            }
            state.metrics.error = None;
            // Still in flight until merged: the next request must not ask again for what
            // this one brings.
            state.metrics.poll.merging = Some(Merging {
                seq,
                start: request.start,
                end: request.end,
                at,
                rest: answered(data, request.series).into_iter(),
            });
            merge_more(state, seq)
        }
        Err(e) => {
            if poll.in_flight.is_some_and(|(s, _)| s == seq) {
                poll.in_flight = None;
            }
            poll.failures += 1;
            let wait = e.retry_after.unwrap_or_else(|| {
                poll::retry_wait(outcome, state.refresh.metrics, poll.failures, seq)
            });
            poll.retry_at = Some(state.now + poll::chrono_duration(wait));
            if state.metrics.error.is_none() {
                state.set_status(Level::Warn, format!("{METRICS_WARNING}{}", e.message));
            }
            state.metrics.error = Some(e);
            Vec::new()
        }
    }
}

/// Series of an answer merged in one turn of the UI loop: the engine's 20,000 on the biggest
/// fleets are merged over several, the keys pressed meanwhile answered in between.
const MERGE_SLICE: usize = 4_000;

/// Merges the next slice of answer `seq`; the last slice finishes the request.
pub fn merge_more(state: &mut State, seq: u64) -> Vec<Effect> {
    let Some(merging) = state.metrics.poll.merging.as_mut().filter(|m| m.seq == seq) else {
        return Vec::new();
    };
    let (start, end, at) = (merging.start, merging.end, merging.at);
    let slice: Vec<_> = merging.rest.by_ref().take(MERGE_SLICE).collect();
    let done = merging.rest.len() == 0;
    state.metrics.merge_answered(start, end, slice);
    state.triage.dirty = true;
    if !done {
        return vec![Effect::MergeMetrics { seq }];
    }
    state.metrics.poll.merging = None;
    if state.metrics.poll.in_flight.is_some_and(|(s, _)| s == seq) {
        state.metrics.poll.in_flight = None;
    }
    // Before the prune can forget a stopped task's series.
    state.triage.keep_stop_memory(state.metrics.series());
    state.metrics.fetched_at = Some(at);
    let now = state.now;
    if (state.metrics.poll.pruned_at).is_none_or(|p| now - p >= TimeDelta::minutes(1)) {
        let engine = std::sync::Arc::clone(&state.triage.metrics_wanted);
        state.metrics.prune(now, |key| engine_reads(&engine, key));
        state.metrics.poll.pruned_at = Some(now);
    }
    Vec::new()
}

pub fn alarms_loaded(state: &mut State, result: Result<Vec<crate::model::Alarm>, SourceError>) {
    state.metrics.poll.alarms_in_flight = None;
    match result {
        Ok(alarms) => {
            state.metrics.alarms = alarms;
            state.metrics.alarms_error = None;
        }
        Err(e) => state.metrics.alarms_error = Some(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Action;
    use crate::screen::spark::ROW_WINDOW;
    use crate::source::ErrorKind;
    use crate::testkit::Harness;

    fn requests(h: &Harness) -> Vec<MetricRequest> {
        h.effects
            .iter()
            .filter_map(|e| match e {
                Effect::FetchMetrics { request, .. } => Some(request.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_steady_view_costs_one_request_a_cycle_and_asks_only_for_new_points() {
        let mut h = Harness::new("default", 160, 45);
        let first = requests(&h);
        assert_eq!(first.len(), 1, "the clusters pane's series in one request");
        assert_eq!(
            first[0].series.len(),
            3 * 4,
            "four metrics for each of three clusters"
        );
        assert_eq!(first[0].end - first[0].start, ROW_WINDOW);
        // The triage engine's fleet-wide series join once it has looked at the fleet: fetched
        // at once, in a request of their own, the last hour.
        h.advance(10);
        let settled = requests(&h);
        assert!(settled.len() >= 2, "{}", settled.len());
        let triage = &settled[1];
        assert!(triage.series.iter().all(|k| !first[0].series.contains(k)));
        let reach = triage.end - triage.start;
        assert!(
            reach >= ROW_WINDOW && reach <= ROW_WINDOW + TimeDelta::minutes(1),
            "{reach:?}"
        );
        // Once every fleet-wide poll has answered (30 s), a minute costs one request for
        // everything held; other requests only bring series that just came into being (a new
        // task's memory), never a held one again.
        h.advance(40);
        let before = requests(&h).len();
        h.advance(60);
        let all = requests(&h);
        let new = &all[before..];
        let cycles: Vec<&MetricRequest> = new
            .iter()
            .filter(|r| first[0].series.iter().all(|k| r.series.contains(k)))
            .collect();
        assert_eq!(cycles.len(), 1, "one request a cycle");
        for other in new.iter().filter(|r| !cycles.contains(r)) {
            assert!(
                other.series.iter().all(|k| !cycles[0].series.contains(k)),
                "a held series asked for twice"
            );
        }
        let increment = cycles[0];
        assert!(first[0].series.iter().all(|k| increment.series.contains(k)));
        assert!(triage.series.iter().all(|k| increment.series.contains(k)));
        // Only the periods since the last answer, plus two re-read (CloudWatch revises them).
        assert!(
            increment.end - increment.start <= TimeDelta::minutes(4),
            "{:?}",
            increment.end - increment.start
        );
    }

    #[test]
    fn rows_that_come_into_view_are_fetched_at_once_and_alone() {
        let mut h = Harness::new("large", 160, 45);
        h.press("<enter>");
        let before = requests(&h).len();
        let shown = requests(&h).last().unwrap().series.clone();
        assert!(
            shown
                .iter()
                .any(|k| k.metric.dimension("ServiceName").is_some())
        );
        assert!(
            shown
                .iter()
                .any(|k| k.metric.dimension("TargetGroup").is_some())
        );
        h.press("<pgdn>");
        let after = requests(&h);
        assert_eq!(
            after.len(),
            before + 1,
            "the next page is asked for at once"
        );
        let new = &after.last().unwrap().series;
        assert!(
            new.iter().all(|k| !shown.contains(k)),
            "series already held are not asked for again"
        );
        assert_eq!(
            after.last().unwrap().end - after.last().unwrap().start,
            ROW_WINDOW
        );
    }

    #[test]
    fn a_longer_chart_window_fetches_its_own_resolution() {
        let mut h = Harness::new("default", 160, 45);
        h.press("<enter>"); // prod's services
        let rows = requests(&h).last().unwrap().series.clone();
        h.press("m");
        let chart = requests(&h).last().unwrap().clone();
        // The 1 h chart shares the rows' series; only what rows do not show is asked for.
        assert!(
            chart
                .series
                .iter()
                .all(|k| !rows.contains(k) && k.period == 60)
        );
        let names: Vec<&str> = chart
            .series
            .iter()
            .map(|k| k.metric.name.as_str())
            .collect();
        assert!(names.contains(&"RequestCount") && names.contains(&"TargetResponseTime"));
        let before = requests(&h).len();
        h.press("4");
        let last = requests(&h).last().unwrap().clone();
        assert_eq!(requests(&h).len(), before + 1);
        assert!(last.series.iter().all(|k| k.period == 300));
        assert_eq!(last.end - last.start, TimeDelta::hours(24));
    }

    #[test]
    fn failures_back_off_keep_history_and_say_so() {
        let mut h = Harness::new("default", 160, 45);
        let held = h.state.metrics.point_count();
        assert!(held > 0);
        let request = requests(&h)[0].clone();
        let first = request.clone();
        h.state.metrics.poll.in_flight = Some((99, h.state.now));
        h.state.metrics.poll.next_seq = 99;
        h.dispatch(Action::MetricsLoaded {
            request,
            seq: 99,
            at: h.state.now,
            result: Err(SourceError::new(
                ErrorKind::Throttled,
                "CloudWatch is throttling",
            )),
        });
        assert_eq!(h.state.metrics.point_count(), held, "nothing lost");
        let retry = h.state.metrics.poll.retry_at.expect("backing off");
        assert!(retry > h.state.now);
        assert!(h.render().contains("metrics: CloudWatch is throttling"));
        let sent = requests(&h).len();
        h.advance((retry - h.state.now).num_seconds() - 1);
        assert_eq!(requests(&h).len(), sent, "no retry before the backoff ends");
        h.advance(2);
        let after = requests(&h);
        assert!(after.len() > sent, "retried after it");
        // The retry is a whole cycle (everything held); series the engine wanted meanwhile
        // may follow in a request of their own.
        let retry = &after[sent];
        assert!(first.series.iter().all(|k| retry.series.contains(k)));
    }

    #[test]
    fn a_big_answer_is_merged_a_slice_at_a_time_with_keys_in_between() {
        use crate::model::{MetricId, Point, Stat};
        let mut h = Harness::new("default", 160, 45);
        let now = h.state.now;
        let keys: Vec<SeriesKey> = (0..MERGE_SLICE * 2 + 10)
            .map(|n| SeriesKey {
                metric: MetricId::new(
                    "AWS/ECS",
                    "CPUUtilization",
                    &[("ServiceName", &format!("s{n}"))],
                    Stat::Average,
                ),
                period: 60,
            })
            .collect();
        let answer = keys
            .iter()
            .map(|key| SeriesData {
                key: key.clone(),
                points: vec![Point {
                    at: now - TimeDelta::minutes(2),
                    value: 1.0,
                }],
            })
            .collect();
        let seq = h.state.metrics.poll.next_seq + 1;
        h.state.metrics.poll.next_seq = seq;
        h.state.metrics.poll.in_flight = Some((seq, now));
        let request = MetricRequest {
            series: keys.clone(),
            start: now - TimeDelta::minutes(5),
            end: now,
        };
        let mut effects = crate::update::update(
            &mut h.state,
            Action::MetricsLoaded {
                request,
                seq,
                at: now,
                result: Ok(answer),
            },
            &h.keymap,
        );
        let merged = |h: &Harness| {
            keys.iter()
                .filter(|k| h.state.metrics.get(k).is_some())
                .count()
        };
        assert_eq!(merged(&h), MERGE_SLICE, "one slice in this turn");
        let mut turns = 1;
        while effects.contains(&Effect::MergeMetrics { seq }) {
            assert!(
                h.state.metrics.poll.in_flight.is_some(),
                "in flight until merged: nothing is asked twice meanwhile"
            );
            assert!(!requests_in(&effects), "no request while merging");
            // A key between two slices is answered at once.
            crate::update::update(
                &mut h.state,
                Action::Key(crate::testkit::parse_keys("j")[0]),
                &h.keymap,
            );
            effects = crate::update::update(&mut h.state, Action::MetricsMerge { seq }, &h.keymap);
            turns += 1;
        }
        assert_eq!(turns, 3);
        assert_eq!(merged(&h), keys.len(), "every series merged");
        assert!(h.state.metrics.poll.in_flight.is_none());
        assert_eq!(h.state.metrics.fetched_at, Some(now));
    }

    fn requests_in(effects: &[Effect]) -> bool {
        effects
            .iter()
            .any(|e| matches!(e, Effect::FetchMetrics { .. }))
    }
}
