//! When to ask CloudWatch for the history the console needs (which series: `poll::metrics`), and
//! what to do with answers.
//!
//! Only series on screen are polled: the visible rows of the focused pane and an open chart.
//! A cycle (default 60 s) asks for all of them in as few `GetMetricData` rounds as possible —
//! after the first load only the newest periods, so a steady view is one request a cycle.
//! Series that come into view between cycles (scrolling, a chart) are fetched at once.

use chrono::TimeDelta;

use crate::action::Effect;
use crate::model::{MetricRequest, SeriesData, SeriesKey, Time};
use crate::poll;
use crate::source::SourceError;
use crate::state::{Level, State};

/// Periods re-read on each increment: CloudWatch completes and revises the latest ones.
const OVERLAP_PERIODS: i32 = 2;
/// How the status line names this poller's problems (and recognises them once over).
const METRICS_WARNING: &str = "CloudWatch metrics: ";

/// Metric and alarm requests due now.
pub fn schedule(state: &mut State) -> Vec<Effect> {
    let now = state.now;
    let cadence = state.refresh.metrics;
    // The engine's series (20,000 on the biggest fleets) are looked at when a cycle is due,
    // when the engine asked for other series, or when some were left uncovered by the last
    // look (a cycle went first) — not on every action: between those moments nothing of
    // theirs can be due, and marking them wanted once a cycle keeps them from the prune.
    let poll = &state.metrics.poll;
    let cycle_near = poll.retry_at.is_some()
        || poll
            .last_cycle
            .is_none_or(|at| now - at >= poll::chrono_duration(cadence));
    let engine_moved = poll.triage_wanted_seen != state.triage.metrics_wanted_at;
    let with_triage =
        poll.triage_owed || (poll.triage_marked != Some(now) && (cycle_near || engine_moved));
    if with_triage {
        state.metrics.poll.triage_marked = Some(now);
        state.metrics.poll.triage_wanted_seen = state.triage.metrics_wanted_at;
    }
    let wanted = poll::metrics::wanted(state, with_triage);
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
    if wanted.is_empty() || busy || backing_off {
        // The engine's series were left out of this look: the next one must include them.
        if with_triage {
            state.metrics.poll.triage_owed = true;
        }
        return effects;
    }
    let cycle_due = poll.retry_at.is_some()
        || poll
            .last_cycle
            .is_none_or(|at| now - at >= poll::chrono_duration(cadence));
    let metrics = &state.metrics;
    let uncovered = |(key, window): &&(SeriesKey, TimeDelta)| {
        metrics.get(key).is_none_or(|h| !h.covers(now - *window))
    };
    // A cycle asks only for the newest periods of what is held; series that need a longer
    // reach go in a request of their own, so one new chart never drags every row back a week.
    let (missing, held): (Vec<_>, Vec<_>) = wanted.iter().partition(uncovered);
    let owed = cycle_due && !held.is_empty() && !missing.is_empty();
    if with_triage {
        state.metrics.poll.triage_owed = owed;
    }
    let (chosen, cycle) = if cycle_due && !held.is_empty() {
        (held, true)
    } else {
        (missing, cycle_due && held.is_empty())
    };
    if chosen.is_empty() {
        return effects;
    }
    let Some(request) = plan(&chosen, state, now) else {
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

/// One request for the chosen series: from the oldest point any of them lacks to now.
/// Series already held only need their newest periods; the source splits the request into
/// `GetMetricData` calls of at most 500 series.
fn plan(chosen: &[&(SeriesKey, TimeDelta)], state: &State, now: Time) -> Option<MetricRequest> {
    let mut series = Vec::with_capacity(chosen.len());
    let mut start = now;
    for (key, window) in chosen {
        let from = match state.metrics.get(key) {
            Some(h) if h.covers(now - *window) => h
                .loaded_until
                .map(|until| {
                    until - TimeDelta::seconds(i64::from(key.period) * OVERLAP_PERIODS as i64)
                })
                .unwrap_or(now - *window),
            _ => now - *window,
        };
        start = start.min(from);
        series.push(key);
    }
    // In key order, each once: sorted as borrowed keys, then copied (a tree of 20,000 copied
    // keys cost far more). A stable sort: the engine's keys come sorted (a run), after the
    // few of the screen.
    series.sort();
    series.dedup();
    // Whole minutes: CloudWatch aligns periods to them anyway.
    let start = Time::from_timestamp(start.timestamp() - start.timestamp().rem_euclid(60), 0)?;
    Some(MetricRequest {
        series: series.into_iter().cloned().collect(),
        start,
        end: now,
    })
}

pub fn metrics_loaded(
    state: &mut State,
    request: MetricRequest,
    seq: u64,
    at: Time,
    result: Result<Vec<SeriesData>, SourceError>,
) {
    let poll = &mut state.metrics.poll;
    if seq <= poll.min_seq {
        return; // asked of a previous source
    }
    if poll.in_flight.is_some_and(|(s, _)| s == seq) {
        poll.in_flight = None;
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
            state
                .metrics
                .merge(request.start, request.end, data, &request.series);
            // Before the prune can forget a stopped task's series.
            state.triage.keep_stop_memory(state.metrics.series());
            state.metrics.error = None;
            state.metrics.fetched_at = Some(at);
            // Once a minute: on a big fleet a prune walks 25,000 series.
            let now = state.now;
            if (state.metrics.poll.pruned_at).is_none_or(|p| now - p >= TimeDelta::minutes(1)) {
                state.metrics.prune(now);
                state.metrics.poll.pruned_at = Some(now);
            }
        }
        Err(e) => {
            poll.failures += 1;
            let wait = e.retry_after.unwrap_or_else(|| {
                poll::retry_wait(outcome, state.refresh.metrics, poll.failures, seq)
            });
            poll.retry_at = Some(state.now + poll::chrono_duration(wait));
            if state.metrics.error.is_none() {
                state.set_status(Level::Warn, format!("{METRICS_WARNING}{}", e.message));
            }
            state.metrics.error = Some(e);
        }
    }
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
}
