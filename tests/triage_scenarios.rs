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

/// The console at replay second `t` of `scenario`, with the findings pane open, and every
/// active finding written out whole — message, evidence and next step with their values filled
/// in — so a snapshot shows how each reads for the object it names.
fn peak(scenario: &str, t: f64) -> (String, String) {
    let mut h = Harness::new(scenario, 160, 45);
    let mut at = 0.0;
    while at < t {
        at = (at + 1.0_f64).min(t);
        h.advance_replay(at);
    }
    let mut text = String::new();
    for f in h.state.triage.active() {
        let o = &f.current;
        text += &format!(
            "{} {} [{}]\n  {}\n",
            o.severity.label(),
            o.rule,
            o.subject.label(),
            o.message
        );
        for e in &o.evidence {
            text += &format!("  · {}\n", e.text);
        }
        text += &format!("  next: {}\n\n", o.next);
    }
    h.press(":findings<enter>");
    (h.render(), text)
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

#[test]
fn high_cpu() {
    check(
        "high-cpu",
        &["cpu-credits-exhausted", "placement-insufficient-resources"],
        160.0,
    );
}

#[test]
fn high_cpu_at_its_peak() {
    let (pane, findings) = peak("high-cpu", 158.0);
    insta::assert_snapshot!("high_cpu_pane", pane);
    insta::assert_snapshot!("high_cpu_findings", findings);
}

#[test]
fn stuck_deploy() {
    check(
        "stuck-deploy",
        &["task-oom-killed", "essential-container-crash-loop"],
        90.0,
    );
}

#[test]
fn stuck_deploy_at_its_peak() {
    let (pane, findings) = peak("stuck-deploy", 70.0);
    insta::assert_snapshot!("stuck_deploy_pane", pane);
    insta::assert_snapshot!("stuck_deploy_findings", findings);
}

#[test]
fn post_deploy_leak() {
    check(
        "post-deploy-leak",
        &[
            "log-jvm-memory-pressure",
            "essential-container-crash-loop",
            "service-cpu-saturated",
            // The kills come at a steady load after a climb, not under one.
            "oom-under-load",
        ],
        140.0,
    );
}

#[test]
fn post_deploy_leak_points_at_the_new_revision() {
    let mut h = Harness::new("post-deploy-leak", 160, 45);
    let mut t = 0.0;
    while t < 60.0 {
        t += 1.0;
        h.advance_replay(t);
    }
    let active = h.state.triage.active();
    let lifecycle = active
        .iter()
        .find(|f| f.current.rule == "memory-leak-lifecycle")
        .expect("the leak's lifecycle diagnosis");
    assert!(
        lifecycle
            .current
            .message
            .ends_with("; regression in web:17"),
        "{}",
        lifecycle.current.message
    );
    assert!(
        lifecycle.current.next.contains("web:17"),
        "{}",
        lifecycle.current.next
    );
}

#[test]
fn post_deploy_leak_at_its_peak() {
    let (pane, findings) = peak("post-deploy-leak", 126.0);
    insta::assert_snapshot!("post_deploy_leak_pane", pane);
    insta::assert_snapshot!("post_deploy_leak_findings", findings);
}

#[test]
fn load_test_oom() {
    check(
        "load-test-oom",
        &["memory-leak-trend", "essential-container-crash-loop"],
        100.0,
    );
}

#[test]
fn load_test_oom_at_its_peak() {
    let (pane, findings) = peak("load-test-oom", 90.0);
    insta::assert_snapshot!("load_test_oom_pane", pane);
    insta::assert_snapshot!("load_test_oom_findings", findings);
}

#[test]
fn slow_dependency() {
    check("slow-dependency", &["service-cpu-saturated"], 70.0);
}

#[test]
fn slow_dependency_at_its_peak() {
    let (pane, findings) = peak("slow-dependency", 68.0);
    insta::assert_snapshot!("slow_dependency_pane", pane);
    insta::assert_snapshot!("slow_dependency_findings", findings);
}

#[test]
fn s3_denied() {
    check(
        "s3-denied",
        &["task-resource-initialization-error", "image-pull-failed"],
        60.0,
    );
}

#[test]
fn s3_denied_at_its_peak() {
    let (pane, findings) = peak("s3-denied", 55.0);
    insta::assert_snapshot!("s3_denied_pane", pane);
    insta::assert_snapshot!("s3_denied_findings", findings);
}

#[test]
fn dns() {
    check(
        "dns",
        &[
            "iam-access-denied",
            "log-db-connectivity-failure",
            "target-unhealthy-timeout",
            "placement-insufficient-resources",
        ],
        80.0,
    );
}

#[test]
fn dns_at_its_peak() {
    let (pane, findings) = peak("dns", 75.0);
    insta::assert_snapshot!("dns_pane", pane);
    insta::assert_snapshot!("dns_findings", findings);
}

#[test]
fn nat() {
    check(
        "nat",
        &[
            "service-cpu-saturated",
            "memory-leak-trend",
            "autoscaling-at-max-capacity",
            "placement-insufficient-resources",
            "cpu-starved-latency",
            // The timeouts are calls to an HTTP API, not the database.
            "log-db-connectivity-failure",
        ],
        100.0,
    );
}

#[test]
fn nat_at_its_peak() {
    let (pane, findings) = peak("nat", 110.0);
    insta::assert_snapshot!("nat_pane", pane);
    insta::assert_snapshot!("nat_findings", findings);
}

#[test]
fn nat_latency() {
    check(
        "nat-latency",
        &[
            "service-cpu-saturated",
            "memory-leak-trend",
            "cpu-starved-latency",
            "log-db-connectivity-failure",
        ],
        100.0,
    );
}

#[test]
fn nat_latency_at_its_peak() {
    let (pane, findings) = peak("nat-latency", 110.0);
    insta::assert_snapshot!("nat_latency_pane", pane);
    insta::assert_snapshot!("nat_latency_findings", findings);
}

/// The six first incidents read at their peaks too, as the newer ones are: every finding's
/// message and next step with its values filled in.
#[test]
fn the_first_incidents_at_their_peaks() {
    for (scenario, t) in [
        ("memory-leak", 175.0),
        ("cpu-credits", 85.0),
        ("bad-deploy", 85.0),
        ("capacity", 105.0),
        ("image-pull", 95.0),
        ("sg-outage", 95.0),
    ] {
        let (pane, findings) = peak(scenario, t);
        let name = scenario.replace('-', "_");
        insta::assert_snapshot!(format!("{name}_pane"), pane);
        insta::assert_snapshot!(format!("{name}_findings"), findings);
    }
}
