//! What to poll, and when. Only what the current view needs is polled: the focused pane often,
//! the panes behind it in the navigation stack rarely, nothing else. Failures back off
//! exponentially (with jitter) instead of retrying in a tight loop.

pub mod logs;

use std::collections::HashMap;
use std::time::Duration;

use crate::action::Effect;
use crate::model::{Query, Time};

/// A request unanswered for this long is presumed lost, so a new one may go out.
pub const LOST_AFTER: chrono::TimeDelta = chrono::TimeDelta::seconds(60);
/// Backoff never waits longer than this between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(120);

#[derive(Debug, Default)]
pub struct PollBook {
    entries: HashMap<Query, Entry>,
    next_seq: u64,
}

#[derive(Debug, Default, Clone)]
struct Entry {
    last_sent: Option<Time>,
    /// Sequence and send time of the request under way.
    in_flight: Option<(u64, Time)>,
    /// Consecutive failures.
    failures: u32,
    /// No new attempt before this (backoff after a failure).
    retry_at: Option<Time>,
}

impl PollBook {
    /// Fetch effects for every wanted query that is due at `now`, marked as sent.
    /// `wanted` pairs a query with its cadence; the first mention of a query wins.
    pub fn due(&mut self, wanted: &[(Query, Duration)], now: Time) -> Vec<Effect> {
        let mut effects = Vec::new();
        for (query, every) in wanted {
            if effects
                .iter()
                .any(|e| matches!(e, Effect::Fetch { query: q, .. } if q == query))
            {
                continue;
            }
            let entry = self.entries.entry(query.clone()).or_default();
            if is_due(entry, *every, now) {
                effects.push(self.send(query.clone(), now));
            }
        }
        effects
    }

    /// `r`: poll now, whatever the schedule says (a newer answer wins over one under way).
    pub fn force(&mut self, query: Query, now: Time) -> Effect {
        self.send(query, now)
    }

    /// Records an answer. `retry_after` overrides the computed backoff (throttling hints).
    pub fn finished(
        &mut self,
        query: &Query,
        seq: u64,
        ok: bool,
        retry_after: Option<Duration>,
        cadence: Duration,
        now: Time,
    ) {
        let Some(entry) = self.entries.get_mut(query) else {
            return;
        };
        if entry.in_flight.is_some_and(|(s, _)| s == seq) {
            entry.in_flight = None;
        }
        if ok {
            entry.failures = 0;
            entry.retry_at = None;
        } else {
            entry.failures += 1;
            let wait = retry_after.unwrap_or_else(|| backoff(cadence, entry.failures, seq));
            entry.retry_at = Some(now + wait);
        }
    }

    /// Forgets schedules (a new source), keeping sequences increasing. Returns the last
    /// sequence handed out, so answers to older requests can be recognised.
    pub fn reset(&mut self) -> u64 {
        self.entries.clear();
        self.next_seq
    }

    /// When the next attempt for a failing query will be made, for "retrying in 8 s".
    pub fn retry_at(&self, query: &Query) -> Option<Time> {
        self.entries.get(query)?.retry_at
    }

    fn send(&mut self, query: Query, now: Time) -> Effect {
        self.next_seq += 1;
        let seq = self.next_seq;
        let entry = self.entries.entry(query.clone()).or_default();
        entry.last_sent = Some(now);
        entry.in_flight = Some((seq, now));
        Effect::Fetch { query, seq }
    }
}

fn is_due(entry: &Entry, every: Duration, now: Time) -> bool {
    if let Some((_, sent)) = entry.in_flight
        && now - sent < LOST_AFTER
    {
        return false;
    }
    if entry.retry_at.is_some_and(|at| now < at) {
        return false;
    }
    if entry.retry_at.is_some() {
        return true;
    }
    match entry.last_sent {
        None => true,
        Some(sent) => now - sent >= chrono_duration(every),
    }
}

/// Exponential backoff from the cadence, capped, with up to 20 % jitter derived from the
/// request sequence (deterministic, yet different for different requests).
pub fn backoff(cadence: Duration, failures: u32, seq: u64) -> Duration {
    let base = cadence.max(Duration::from_secs(1));
    let exp = base.saturating_mul(1 << failures.saturating_sub(1).min(8));
    let capped = exp.min(MAX_BACKOFF);
    let jitter = (seq.wrapping_mul(2_654_435_761) % 1000) as f64 / 1000.0 * 0.2;
    capped.mul_f64(1.0 + jitter).min(MAX_BACKOFF.mul_f64(1.2))
}

/// A std duration as chrono's, saturating (config durations are far below the limit).
pub fn chrono_duration(d: Duration) -> chrono::TimeDelta {
    chrono::TimeDelta::from_std(d).unwrap_or(chrono::TimeDelta::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: i64) -> Time {
        chrono::Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
    }
    const FIVE: Duration = Duration::from_secs(5);

    fn fetched(effects: &[Effect]) -> Vec<(Query, u64)> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Fetch { query, seq } => Some((query.clone(), *seq)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn polls_at_the_cadence_and_never_twice_while_in_flight() {
        let mut book = PollBook::default();
        let wanted = [(Query::Clusters, FIVE)];
        let first = fetched(&book.due(&wanted, t(0)));
        assert_eq!(first.len(), 1);
        assert!(book.due(&wanted, t(6)).is_empty(), "still in flight");
        book.finished(&Query::Clusters, first[0].1, true, None, FIVE, t(1));
        assert!(book.due(&wanted, t(4)).is_empty(), "not due yet");
        assert_eq!(fetched(&book.due(&wanted, t(6))).len(), 1);
    }

    #[test]
    fn a_lost_request_is_replaced_after_a_minute() {
        let mut book = PollBook::default();
        let wanted = [(Query::Clusters, FIVE)];
        book.due(&wanted, t(0));
        assert!(book.due(&wanted, t(59)).is_empty());
        assert_eq!(book.due(&wanted, t(61)).len(), 1);
    }

    #[test]
    fn failures_back_off_exponentially_and_recover() {
        let mut book = PollBook::default();
        let wanted = [(Query::Clusters, FIVE)];
        let mut now = 0;
        let mut waits = Vec::new();
        for _ in 0..4 {
            let sent = fetched(&book.due(&wanted, t(now)));
            assert_eq!(sent.len(), 1, "due at {now}");
            book.finished(&Query::Clusters, sent[0].1, false, None, FIVE, t(now));
            let retry = book.retry_at(&Query::Clusters).unwrap();
            let wait = (retry - t(now)).num_seconds();
            waits.push(wait);
            assert!(
                book.due(&wanted, retry - chrono::TimeDelta::seconds(1))
                    .is_empty()
            );
            now += wait + 1;
        }
        assert!(
            waits.windows(2).all(|w| w[1] > w[0]),
            "waits grow: {waits:?}"
        );
        let sent = fetched(&book.due(&wanted, t(now)));
        book.finished(&Query::Clusters, sent[0].1, true, None, FIVE, t(now));
        assert_eq!(book.retry_at(&Query::Clusters), None);
    }

    #[test]
    fn a_server_retry_hint_wins_over_the_computed_backoff() {
        let mut book = PollBook::default();
        let sent = fetched(&book.due(&[(Query::Clusters, FIVE)], t(0)));
        let hint = Some(Duration::from_secs(42));
        book.finished(&Query::Clusters, sent[0].1, false, hint, FIVE, t(0));
        assert_eq!(book.retry_at(&Query::Clusters), Some(t(42)));
    }

    #[test]
    fn backoff_is_capped() {
        let wait = backoff(Duration::from_secs(30), 20, 7);
        assert!(wait <= MAX_BACKOFF.mul_f64(1.2));
    }
}
