//! Every replayed demo incident, run through the whole console (update path, pollers, triage
//! engine) in simulated time: the findings the catalog says must fire open, the ones it says
//! must not stay quiet, and the findings close again once the scenario has recovered.

use std::collections::{BTreeMap, BTreeSet};

use ecsmon::source::demo::DemoSource;
use ecsmon::testkit::Harness;

struct Run {
    /// Rule → replay second it first opened.
    opened: BTreeMap<String, f64>,
    /// Rules active at the end.
    active_at_end: BTreeSet<String>,
}

/// Plays `scenario` to replay second `until`, noting when each rule's first finding opened.
fn run(scenario: &str, until: f64) -> Run {
    let mut h = Harness::new(scenario, 160, 45);
    let mut opened = BTreeMap::new();
    let mut t = 0.0;
    while t < until {
        t += 1.0;
        h.advance_replay(t);
        for f in h.state.triage.active() {
            opened.entry(f.current.rule.to_string()).or_insert(t);
        }
    }
    let active_at_end = h
        .state
        .triage
        .active()
        .iter()
        .map(|f| f.current.rule.to_string())
        .collect();
    Run {
        opened,
        active_at_end,
    }
}

/// What the scenario's script says must fire (`ecsmon rules` lists the same).
fn must_fire(scenario: &str) -> &'static [&'static str] {
    DemoSource::must_fire()
        .into_iter()
        .find(|(name, _)| *name == scenario)
        .map(|(_, must)| must)
        .expect("a replayed scenario")
}

/// The scenario's own must-fire list must open by replay second `by` and close after
/// recovery; `must_not` must stay quiet.
fn check(scenario: &str, must_not: &[&str], by: f64) {
    let must = must_fire(scenario);
    // Recovered, then one rule window (the longest, 15 min of incident time) for the evidence
    // of the trouble to age out.
    let ratio = DemoSource::replay_ratio(scenario).expect("a replayed scenario") as f64;
    let end = DemoSource::scenario(scenario, 42)
        .expect("known scenario")
        .recovered_by()
        .expect("a replayed scenario")
        + (900.0 / ratio).max(30.0)
        + 10.0;
    let run = run(scenario, end);
    eprintln!("{scenario}: opened at (replay s) {:?}", run.opened);
    for rule in must {
        let at = run.opened.get(*rule).copied();
        assert!(
            at.is_some_and(|at| at <= by),
            "{scenario}: {rule} should open by replay second {by}, opened at {at:?}; opened: {:?}",
            run.opened
        );
    }
    for rule in must_not {
        assert!(
            !run.opened.contains_key(*rule),
            "{scenario}: {rule} must not fire; opened: {:?}",
            run.opened
        );
    }
    for rule in must {
        assert!(
            !run.active_at_end.contains(*rule),
            "{scenario}: {rule} still active at replay second {end} after recovery; active: {:?}",
            run.active_at_end
        );
    }
}

#[test]
fn memory_leak() {
    check(
        "memory-leak",
        &["service-cpu-saturated", "essential-container-crash-loop"],
        180.0,
    );
}

#[test]
fn cpu_credits() {
    check("cpu-credits", &["instance-placement-hotspot"], 180.0);
}

#[test]
fn bad_deploy() {
    check(
        "bad-deploy",
        &["health-check-grace-too-short", "target-unhealthy-timeout"],
        90.0,
    );
}

#[test]
fn capacity() {
    check(
        "capacity",
        &["task-stuck-early-lifecycle", "agent-disconnected"],
        110.0,
    );
}

#[test]
fn image_pull() {
    check(
        "image-pull",
        &[
            "essential-container-crash-loop",
            "task-oom-killed",
            "task-resource-initialization-error",
        ],
        100.0,
    );
}

#[test]
fn sg_outage() {
    check(
        "sg-outage",
        &[
            "health-check-grace-too-short",
            "target-unhealthy-response-code-mismatch",
        ],
        100.0,
    );
}
