//! Driving a replayed incident from a test: build it on a frozen clock at replay second 0,
//! then move it to any replay second and read the source as the console would.
//!
//! ```ignore
//! let src = DemoSource::scenario("bad-deploy", 42)?;
//! src.advance_replay(24.0);                       // 24 replay seconds = 120 s at ×5
//! let health = block_on(src.target_health(&tgs))?; // what DescribeTargetHealth says then
//! ```

use chrono::TimeZone;

use super::{DemoClock, DemoSource, scenario};
use crate::model::Time;

impl DemoSource {
    /// Replay second 0 of every scenario built by [`DemoSource::scenario`].
    pub fn replay_origin() -> Time {
        chrono::Utc
            .with_ymd_and_hms(2026, 11, 21, 9, 30, 0)
            .single()
            .unwrap_or_default()
    }

    /// Scenario `name` (`bad-deploy`, …) at replay second 0 on a frozen clock, so a test
    /// decides when time passes ([`DemoSource::advance_replay`]).
    pub fn scenario(name: &str, seed: u64) -> Result<DemoSource, String> {
        let origin = Self::replay_origin();
        DemoSource::new(name, seed, origin, DemoClock::Fixed(origin))
    }

    /// The compression of a replayed scenario (incident seconds per replay second); `None`
    /// for the generated fleets (`default`, `large`, `huge`) and unknown names.
    pub fn replay_ratio(name: &str) -> Option<i64> {
        scenario::find(name).map(|s| s.ratio)
    }

    /// The `--demo` names of the replayed scenarios, with the catalog scenario each replays
    /// and what it rehearses.
    pub fn replays() -> Vec<(&'static str, &'static str, &'static str)> {
        scenario::all()
            .into_iter()
            .map(|s| (s.name, s.catalog, s.rehearses))
            .collect()
    }

    /// What each replayed scenario must fire (its `--demo` name and the rule ids), in the
    /// order the help lists them.
    pub fn must_fire() -> Vec<(&'static str, &'static [&'static str])> {
        scenario::all()
            .into_iter()
            .map(|s| (s.name, s.must_fire))
            .collect()
    }

    /// The incident time of replay second `secs` (`None` for fleets that replay nothing).
    pub fn replay_time(&self, secs: f64) -> Option<Time> {
        self.lock().incident.as_ref().map(|i| i.at(secs))
    }

    /// Moves the fleet to replay second `secs` (no-op if it is already later).
    pub fn advance_replay(&self, secs: f64) {
        if let Some(at) = self.replay_time(secs) {
            self.advance_to(at);
        }
    }

    /// The replay second the source's clock is at.
    pub fn replay_secs(&self) -> Option<f64> {
        let now = self.now();
        self.lock().incident.as_ref().map(|i| i.replay_secs(now))
    }

    /// The replay second of incident time `at`.
    pub fn replay_secs_at(&self, at: Time) -> Option<f64> {
        self.lock().incident.as_ref().map(|i| i.replay_secs(at))
    }

    /// Replay second by which the scenario has recovered on its own.
    pub fn recovered_by(&self) -> Option<f64> {
        self.lock().incident.as_ref().map(|i| i.script.recovered_by)
    }
}
