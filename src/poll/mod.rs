//! What to poll, and when. Only what the current view needs is polled: the focused pane often
//! (less often while nothing happens: `cadence`), the panes behind it in the navigation stack
//! rarely, nothing else. Failures back off exponentially (with jitter) instead of retrying in a
//! tight loop — except throttling, which the source's per-service budget already answers by
//! slowing down: a throttled poll comes again soon, and waits there for the budget's pace.
//! A poll that falls due while the same one is still under way (waiting for its budget, say)
//! is not sent twice: it is coalesced, and counted for `:stats`.

pub mod cadence;
pub mod describe;
pub mod metrics;
pub mod panes;
pub mod taskdefs;
pub mod triage;

use std::collections::HashMap;
use std::time::Duration;

use crate::action::Effect;
use crate::model::{Query, Time};

/// A request unanswered for this long is presumed lost, so a new one may go out.
pub const LOST_AFTER: chrono::TimeDelta = chrono::TimeDelta::seconds(60);
/// Backoff never waits longer than this between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(120);
/// A throttled poll comes again after at most this long: it then waits for a token of the
/// service's budget, whose rate throttling has cut, so it probes at that rate and the pane is
/// fresh again within seconds of the throttling's end instead of after a long backoff.
pub const THROTTLED_RETRY: Duration = Duration::from_secs(5);

#[derive(Debug, Default)]
pub struct PollBook {
    entries: HashMap<Query, Entry>,
    next_seq: u64,
    /// Polls that fell due while the same poll was still under way, and were not sent.
    coalesced: u64,
}

/// How a poll ended, as far as its schedule cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// AWS throttled it: retried soon, at the pace of the service's budget.
    Throttled,
    /// Anything else: retried after an exponential backoff.
    Failed,
}

impl Outcome {
    pub fn of<T>(result: &Result<T, crate::source::SourceError>) -> Outcome {
        match result {
            Ok(_) => Outcome::Ok,
            Err(e) if e.kind == crate::source::ErrorKind::Throttled => Outcome::Throttled,
            Err(_) => Outcome::Failed,
        }
    }
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
    /// When a poll falling due was last coalesced into the one under way.
    coalesced_at: Option<Time>,
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
            match is_due(entry, *every, now) {
                Due::Yes => effects.push(self.send(query.clone(), now)),
                Due::UnderWay => {
                    entry.coalesced_at = Some(now);
                    self.coalesced += 1;
                }
                Due::No => {}
            }
        }
        effects
    }

    /// Polls not sent because the same one was still under way when they fell due.
    pub fn coalesced(&self) -> u64 {
        self.coalesced
    }

    /// `r`: poll now, whatever the schedule says (a newer answer wins over one under way).
    pub fn force(&mut self, query: Query, now: Time) -> Effect {
        self.send(query, now)
    }

    /// Records an answer. `retry_after` overrides the computed wait (a server's hint).
    pub fn finished(
        &mut self,
        query: &Query,
        seq: u64,
        outcome: Outcome,
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
        if outcome == Outcome::Ok {
            entry.failures = 0;
            entry.retry_at = None;
        } else {
            entry.failures += 1;
            let wait =
                retry_after.unwrap_or_else(|| retry_wait(outcome, cadence, entry.failures, seq));
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

enum Due {
    Yes,
    No,
    /// Due, but the same poll is still under way: the answer on its way serves both.
    UnderWay,
}

/// Whether a request repeated every `every` (a popup's own poll, the alarms) is due: none under
/// way, or the one under way presumed lost, and the last one sent at least `every` ago.
pub fn repeat_due(
    in_flight: Option<Time>,
    last_sent: Option<Time>,
    every: chrono::TimeDelta,
    now: Time,
) -> bool {
    in_flight.is_none_or(|sent| now - sent >= LOST_AFTER)
        && last_sent.is_none_or(|sent| now - sent >= every)
}

fn is_due(entry: &Entry, every: Duration, now: Time) -> Due {
    let due = if entry.retry_at.is_some_and(|at| now < at) {
        false
    } else if entry.retry_at.is_some() {
        true
    } else {
        match entry.last_sent {
            None => true,
            Some(sent) => now - sent >= chrono_duration(every),
        }
    };
    if !due {
        return Due::No;
    }
    match entry.in_flight {
        Some((_, sent)) if now - sent < LOST_AFTER => {
            // Counted once a cadence, not on every update while it waits.
            let counted = entry
                .coalesced_at
                .is_some_and(|at| at >= sent && now - at < chrono_duration(every));
            if counted { Due::No } else { Due::UnderWay }
        }
        _ => Due::Yes,
    }
}

/// How long a failed poll waits before it is sent again: throttling soon (the budget sets the
/// pace), anything else after an exponential backoff.
pub fn retry_wait(outcome: Outcome, cadence: Duration, failures: u32, seq: u64) -> Duration {
    match outcome {
        Outcome::Throttled => cadence.min(THROTTLED_RETRY),
        _ => backoff(cadence, failures, seq),
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

    #[test]
    fn a_repeated_request_waits_for_its_cadence_and_for_the_one_under_way() {
        let every = chrono::TimeDelta::seconds(5);
        assert!(repeat_due(None, None, every, t(0)), "never sent");
        assert!(!repeat_due(None, Some(t(0)), every, t(4)), "sent 4 s ago");
        assert!(repeat_due(None, Some(t(0)), every, t(5)), "sent 5 s ago");
        assert!(
            !repeat_due(Some(t(0)), Some(t(0)), every, t(30)),
            "under way"
        );
        assert!(
            repeat_due(Some(t(0)), Some(t(0)), every, t(60)),
            "under way, presumed lost"
        );
    }

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
        book.finished(&Query::Clusters, first[0].1, Outcome::Ok, None, FIVE, t(1));
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
            book.finished(
                &Query::Clusters,
                sent[0].1,
                Outcome::Failed,
                None,
                FIVE,
                t(now),
            );
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
        book.finished(&Query::Clusters, sent[0].1, Outcome::Ok, None, FIVE, t(now));
        assert_eq!(book.retry_at(&Query::Clusters), None);
    }

    #[test]
    fn a_server_retry_hint_wins_over_the_computed_backoff() {
        let mut book = PollBook::default();
        let sent = fetched(&book.due(&[(Query::Clusters, FIVE)], t(0)));
        let hint = Some(Duration::from_secs(42));
        book.finished(
            &Query::Clusters,
            sent[0].1,
            Outcome::Failed,
            hint,
            FIVE,
            t(0),
        );
        assert_eq!(book.retry_at(&Query::Clusters), Some(t(42)));
    }

    #[test]
    fn throttled_polls_come_again_soon_however_often_they_were_throttled() {
        let mut book = PollBook::default();
        let thirty = Duration::from_secs(30);
        let wanted = [(Query::Clusters, thirty)];
        let mut now = 0;
        for _ in 0..10 {
            let sent = fetched(&book.due(&wanted, t(now)));
            assert_eq!(sent.len(), 1, "due at {now}");
            book.finished(
                &Query::Clusters,
                sent[0].1,
                Outcome::Throttled,
                None,
                thirty,
                t(now),
            );
            let wait = (book.retry_at(&Query::Clusters).unwrap() - t(now)).num_seconds();
            assert_eq!(wait, THROTTLED_RETRY.as_secs() as i64);
            now += wait;
        }
    }

    #[test]
    fn a_poll_due_while_the_same_one_waits_is_coalesced_and_counted_once_a_cadence() {
        let mut book = PollBook::default();
        let wanted = [(Query::Clusters, FIVE)];
        let first = fetched(&book.due(&wanted, t(0)));
        // Still waiting (for its budget, say) when the next two fall due: nothing is sent,
        // two polls are saved, however many updates look in between.
        for s in 1..=12 {
            assert!(book.due(&wanted, t(s)).is_empty(), "sent again at {s}");
        }
        assert_eq!(book.coalesced(), 2);
        book.finished(&Query::Clusters, first[0].1, Outcome::Ok, None, FIVE, t(12));
        // The answer is that of a request sent at 0: the next one goes out at once.
        assert_eq!(fetched(&book.due(&wanted, t(13))).len(), 1);
        assert_eq!(book.coalesced(), 2);
    }

    #[test]
    fn backoff_is_capped() {
        let wait = backoff(Duration::from_secs(30), 20, 7);
        assert!(wait <= MAX_BACKOFF.mul_f64(1.2));
    }
}
