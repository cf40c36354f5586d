//! Driving the fleet view (several contexts) in tests: its rows' contexts, selecting a cluster
//! of one context, a context's index.

use ecsmon::model::Context;
use ecsmon::testkit::Harness;

/// The (profile, region) of each row of the fleet view's clusters pane, in order.
pub fn row_contexts(h: &Harness) -> Vec<(String, String)> {
    h.state
        .fleet
        .clusters()
        .iter()
        .map(|c| {
            let place = c
                .context
                .as_deref()
                .expect("every merged row names its context");
            (place.profile.clone(), place.region.clone())
        })
        .collect()
}

/// Selects the fleet view's row of `cluster` in the context `profile · region`.
pub fn select(h: &mut Harness, cluster: &str, profile: &str, region: &str) {
    let name = format!("{cluster}@{profile} · {region}");
    let index = h
        .state
        .fleet
        .clusters()
        .iter()
        .position(|c| c.name == name)
        .unwrap_or_else(|| panic!("no row {name}"));
    let row = h.state.nav[0]
        .rows
        .iter()
        .position(|&i| i == index)
        .expect("the row is listed");
    h.press("g");
    for _ in 0..row {
        h.press("j");
    }
    assert_eq!(h.state.nav[0].selected_key.as_deref(), Some(name.as_str()));
}

pub fn member_of(h: &Harness, profile: &str, region: &str) -> usize {
    h.state
        .members
        .iter()
        .position(|m| m.context == Context::new(Some(profile), region))
        .expect("a member of the org")
}
