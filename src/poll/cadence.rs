//! How often the focused pane is polled. Live is right while things change or the operator is
//! at the keys; a steady view nobody touches does not need 5-second polls. So the focused
//! pane's cadence stretches toward the background cadence the longer the view stays quiet —
//! no key, no changed answer, no new finding about its cluster (in a pane of thousands of
//! rows: nothing moved on screen) — and snaps back to the focused cadence on any of them, so
//! the first key after a quiet spell brings a fresh answer at once.

use std::time::Duration;

use crate::model::Time;
use crate::state::State;

/// The cadence after `quiet` of nothing happening: half the quiet time (polls thin out
/// geometrically: 5 s, 10 s, 20 s…), never faster than `focused` nor slower than `background`.
pub fn stretched(focused: Duration, background: Duration, quiet: Duration) -> Duration {
    let half = Duration::from_secs(quiet.as_secs() / 2);
    half.clamp(focused, background.max(focused))
}

/// The last time something happened that the operator would want to see live: a key (or
/// mouse, or paste), the focused pane's answer changing, a finding opening about its cluster
/// (about anything, for a pane of no one cluster). A big answer (printed row by row) counts
/// only by what moved on screen, rows or badges: a steady screen over 60,000 tasks, of which
/// some start or stop every few seconds and some have findings, is quiet.
pub fn quiet_since(state: &State) -> Time {
    let view = state.focused();
    let slot = state.fleet.slot(&view.pane.query());
    let (changed, finding) = match (slot, view.on_screen) {
        // A big answer: what moved on screen, its rows or their findings' badges.
        (Some(slot), Some(seen)) if slot.fingerprint.is_some() && seen.version == slot.version => {
            (Some(seen.changed_at), None)
        }
        // A finding about another cluster changes nothing this pane shows (the header's
        // counts come from the engine, whose polls keep their own cadence).
        (slot, _) => (
            slot.and_then(|s| s.changed_at),
            state.triage.last_opened(view.pane.cluster()),
        ),
    };
    [Some(state.last_input), changed, finding]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(state.now)
}

/// The focused pane's cadence now.
pub fn focused(state: &State) -> Duration {
    let quiet = (state.now - quiet_since(state))
        .to_std()
        .unwrap_or_default();
    stretched(state.refresh.focused, state.refresh.background, quiet)
}

/// The polls behind the focused pane — the panes behind it, the triage engine's fleet-wide
/// polls — at twice their cadence once the focused pane has stretched all the way: nobody at
/// the keys, nothing changing for a minute. A new finding still shows within two cycles, and
/// any key brings the usual cadences back.
pub fn behind(state: &State, every: Duration) -> Duration {
    if focused(state) >= state.refresh.background.max(state.refresh.focused) {
        every.saturating_mul(2)
    } else {
        every
    }
}

/// The cadence to show in the header: `Some` only while it is stretched.
pub fn shown(state: &State) -> Option<Duration> {
    // The fleet view polls nothing itself: each context keeps its own cadence.
    if state.is_fleet_view() {
        return None;
    }
    let cadence = focused(state);
    (cadence > state.refresh.focused).then_some(cadence)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIVE: Duration = Duration::from_secs(5);
    const THIRTY: Duration = Duration::from_secs(30);

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn stays_at_the_focused_cadence_while_things_move_then_stretches_to_the_background_one() {
        assert_eq!(stretched(FIVE, THIRTY, secs(0)), FIVE);
        assert_eq!(stretched(FIVE, THIRTY, secs(11)), FIVE);
        assert_eq!(stretched(FIVE, THIRTY, secs(40)), secs(20));
        assert_eq!(stretched(FIVE, THIRTY, secs(60)), THIRTY);
        assert_eq!(stretched(FIVE, THIRTY, secs(3600)), THIRTY);
    }

    #[test]
    fn a_background_cadence_faster_than_the_focused_one_never_speeds_it_up() {
        assert_eq!(stretched(secs(10), FIVE, secs(600)), secs(10));
    }

    #[test]
    fn a_key_or_a_changed_answer_snaps_back() {
        let start = crate::testkit::fixed_now();
        let refresh = crate::config::Config::defaults().refresh;
        let mut state = State::new(Default::default(), start, refresh, (120, 40));
        let later = |s: i64| start + chrono::TimeDelta::seconds(s);
        state.now = later(120);
        assert_eq!(focused(&state), THIRTY, "two quiet minutes");
        assert_eq!(shown(&state), Some(THIRTY));
        assert_eq!(behind(&state, THIRTY), secs(60));

        state.last_input = state.now;
        assert_eq!(focused(&state), FIVE, "a key");
        assert_eq!(shown(&state), None);
        assert_eq!(behind(&state, THIRTY), THIRTY);

        state.now = later(240);
        assert_eq!(focused(&state), THIRTY);
        let answer = Ok(crate::model::Snapshot::Clusters(Vec::new()));
        state
            .fleet
            .apply(state.focused().pane.query(), 1, later(238), answer);
        assert_eq!(focused(&state), FIVE, "a changed answer");

        state.now = later(360);
        assert_eq!(focused(&state), THIRTY);
        let answer = Ok(crate::model::Snapshot::Clusters(Vec::new()));
        state
            .fleet
            .apply(state.focused().pane.query(), 2, later(359), answer);
        assert_eq!(
            focused(&state),
            THIRTY,
            "the same answer again changes nothing"
        );
    }
}
