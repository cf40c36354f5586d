//! The console on a moto fleet's 130-task service, run in real time: the throttling tests
//! (`tests/faults.rs`) and benchmark (`benches/throttle.rs`) measure what the request budgets
//! do, and those pace requests on the real clock, so the console's clock must be the real one
//! too (the other fault tests move a simulated clock, where waiting costs nothing).

use std::sync::Arc;
use std::time::{Duration, Instant};

use ecsmon::action::Action;
use ecsmon::model::Query;
use ecsmon::source::aws::{AwsSettings, AwsSource};
use ecsmon::testkit::Harness;

use super::{FleetSpec, Moto, seed};

/// Tasks in the service the console looks at.
pub const TASKS: usize = 130;

/// A console on `cluster` (two services of 130 tasks, four instances), drilled down to the
/// tasks of `svc-001`, on the real clock. Returns it with the focused pane's query.
pub async fn tasks_view(moto: &Moto, cluster: &str) -> (Harness, Query) {
    let plain = super::sdk_config(&moto.endpoint).await;
    seed(&plain, &FleetSpec::new(cluster, 2, TASKS, 4)).await;
    let settings = AwsSettings {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.endpoint.clone()),
    };
    let config = super::console_config(&moto.endpoint, super::Waits::CONSOLE).await;
    let source = AwsSource::from_config(&config, settings.clone()).unwrap();
    let mut h = Harness::with_source(Arc::new(source), Some(settings), 160, 40);
    h.press(&format!("/{cluster}<enter><enter>/svc-001<enter><enter>"));
    let tasks = h.state.focused().pane.query();
    assert!(
        matches!(tasks, Query::Tasks { .. }) && h.state.focused().rows.len() == TASKS,
        "not on the 130 tasks: {}",
        h.render()
    );
    (h, tasks)
}

/// Whether the operator presses a key now and then (`j`, every 5 s) or leaves the console be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    AtTheKeys,
    Away,
}

/// Runs the console for `secs` of real time, a tick a second stamped with the wall clock as
/// the runtime does. Fetches run in place: one that waits for its budget holds the clock
/// back, which is what the runtime's pollers see too (the poll is under way meanwhile).
/// Stops early when `done` holds after a tick, and says whether it did.
pub fn run_live(
    h: &mut Harness,
    secs: u64,
    operator: Operator,
    done: impl Fn(&Harness) -> bool,
) -> bool {
    let start = Instant::now();
    let mut next_key = 5;
    let mut ticks = 0;
    while start.elapsed() < Duration::from_secs(secs) {
        ticks += 1;
        let due = start + Duration::from_secs(ticks);
        tokio::task::block_in_place(|| {
            std::thread::sleep(due.saturating_duration_since(Instant::now()))
        });
        h.dispatch(Action::Tick(chrono::Utc::now()));
        if operator == Operator::AtTheKeys && start.elapsed() >= Duration::from_secs(next_key) {
            h.press("j");
            next_key += 5;
        }
        h.render();
        if done(h) {
            return true;
        }
    }
    false
}

/// Requests the front received since its counts were last reset, all operations together.
pub async fn requests(moto: &Moto) -> u64 {
    moto.stats().await.values().sum()
}

/// Requests during `secs` of real time.
pub async fn window(moto: &Moto, h: &mut Harness, secs: u64, operator: Operator) -> u64 {
    moto.reset_stats().await;
    run_live(h, secs, operator, |_| false);
    requests(moto).await
}
