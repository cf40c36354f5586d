//! Whole-frame snapshots, driven by keys through the real update path on the seeded demo fleet
//! at a fixed clock. A changed frame fails the run (scripts/test sets INSTA_UPDATE=no); review
//! changes with `cargo insta review`.

use ecsmon::action::Action;
use ecsmon::model::{Query, TaskScope};
use ecsmon::source::{ErrorKind, SourceError};
use ecsmon::testkit::{Harness, fixed_now};

fn console() -> Harness {
    Harness::new("default", 140, 36)
}

#[test]
fn clusters_pane() {
    insta::assert_snapshot!(console().render());
}

#[test]
fn services_pane() {
    let mut h = console();
    h.press("/prod<enter><enter>");
    insta::assert_snapshot!(h.render());
}

#[test]
fn tasks_pane_of_a_service() {
    let mut h = console();
    h.press("/prod<enter><enter><enter>");
    insta::assert_snapshot!(h.render());
}

#[test]
fn stopped_tasks_with_codes_reasons_and_exit_codes() {
    let mut h = console();
    // The demo's prod cluster has services with recent stops; look at the whole cluster's.
    h.press("/prod<enter>:tasks<enter>a");
    insta::assert_snapshot!(h.render());
}

#[test]
fn containers_pane() {
    let mut h = console();
    h.press("/prod<enter><enter><enter><enter>");
    insta::assert_snapshot!(h.render());
}

#[test]
fn instances_pane() {
    let mut h = console();
    h.press("/prod<enter>:instances<enter>");
    insta::assert_snapshot!(h.render());
}

#[test]
fn tasks_of_one_instance() {
    let mut h = console();
    h.press("/prod<enter>:instances<enter><enter>");
    insta::assert_snapshot!(h.render());
}

#[test]
fn help_screen() {
    let mut h = console();
    h.press("?");
    insta::assert_snapshot!(h.render());
}

#[test]
fn describe_a_service() {
    let mut h = console();
    h.press("/prod<enter><enter>d");
    insta::assert_snapshot!(h.render());
}

#[test]
fn active_filter_shows_shown_of_total() {
    let mut h = console();
    h.press("/prod<enter><enter>/pay");
    insta::assert_snapshot!(h.render());
}

#[test]
fn inverted_filter() {
    let mut h = console();
    h.press("/!prod<enter>");
    insta::assert_snapshot!(h.render());
}

#[test]
fn sorted_by_a_column_reversed() {
    let mut h = console();
    h.press("/prod<enter><enter>oooO");
    insta::assert_snapshot!(h.render());
}

#[test]
fn command_mode_with_completion_hint() {
    let mut h = console();
    h.press(":ta");
    insta::assert_snapshot!(h.render());
}

#[test]
fn unknown_command_says_so() {
    let mut h = console();
    h.press(":pods<enter>");
    insta::assert_snapshot!(h.render());
}

#[test]
fn tiny_terminal() {
    let mut h = console();
    h.resize(30, 6);
    insta::assert_snapshot!(h.render());
}

#[test]
fn read_only_badge() {
    let mut h = console();
    h.state.read_only = true;
    insta::assert_snapshot!(h.render());
}

#[test]
fn stale_data_after_throttling() {
    let mut h = console();
    h.press("/prod<enter><enter>");
    let query = Query::Services {
        cluster: "prod".into(),
    };
    h.advance(20);
    let mut err = SourceError::new(ErrorKind::Throttled, "throttled by ECS");
    err.retry_after = Some(std::time::Duration::from_secs(8));
    h.dispatch(Action::Loaded {
        fingerprint: None,
        query,
        seq: u64::MAX,
        at: h.state.now,
        result: Err(err),
    });
    insta::assert_snapshot!(h.render());
}

#[test]
fn deleted_service_says_so() {
    let mut h = console();
    h.press("/prod<enter><enter><enter>");
    let ecsmon::state::Pane::Tasks { scope, stopped } = h.state.focused().pane.clone() else {
        panic!("not on a tasks pane");
    };
    let TaskScope::Service { service, .. } = &scope else {
        panic!("not a service's tasks");
    };
    let message = format!("service {service} no longer exists in prod");
    h.dispatch(Action::Loaded {
        fingerprint: None,
        query: Query::Tasks { scope, stopped },
        seq: u64::MAX,
        at: fixed_now(),
        result: Err(SourceError::not_found(message)),
    });
    insta::assert_snapshot!(h.render());
}

#[test]
fn large_fleet_tasks_of_the_cluster() {
    let mut h = Harness::new("large", 140, 36);
    h.press(":tasks<enter>");
    let frame = h.render();
    assert!(frame.contains("Tasks (10,000)"), "{frame}");
    insta::assert_snapshot!(frame);
}

/// Sparklines get the room a wide terminal has; narrow ones keep the values.
#[test]
fn services_with_sparklines_on_a_wide_terminal() {
    let mut h = Harness::new("default", 180, 24);
    h.press("/prod<enter><enter>");
    insta::assert_snapshot!(h.render());
}

#[test]
fn metrics_chart_of_a_service_with_an_alarm_firing() {
    let mut h = Harness::new("default", 140, 44);
    h.press("/prod<enter><enter>/search<enter>m");
    insta::assert_snapshot!(h.render());
}

#[test]
fn metrics_chart_over_a_week() {
    let mut h = Harness::new("default", 140, 30);
    h.press("/prod<enter><enter>/payments<enter>m5");
    insta::assert_snapshot!(h.render());
}

#[test]
fn burstable_instance_with_cpu_credits() {
    let mut h = Harness::new("default", 160, 20);
    h.press("/staging<enter>:instances<enter>");
    insta::assert_snapshot!(h.render());
}

#[test]
fn tasks_without_container_insights_say_so_once() {
    let mut h = Harness::new("default", 140, 20);
    h.press("/batch<enter><enter><enter>");
    insta::assert_snapshot!(h.render());
}

/// An instance's chart: CPU, then bytes in and out a second (NetworkIn/Out summed each minute).
#[test]
fn metrics_chart_of_an_instance_with_its_network() {
    let mut h = Harness::new("default", 140, 36);
    h.press("/prod<enter>:instances<enter>m");
    insta::assert_snapshot!(h.render());
}

/// A task's chart: CPU and memory as shares of its size, then bytes received and sent.
#[test]
fn metrics_chart_of_a_task_with_its_network() {
    let mut h = Harness::new("default", 140, 36);
    h.press("/prod<enter><enter>/api-gateway<enter><enter>m");
    insta::assert_snapshot!(h.render());
}

/// Wide enough for every column: the tasks' sent bytes with their sparkline.
#[test]
fn tasks_with_network_on_a_wide_terminal() {
    let mut h = Harness::new("default", 180, 16);
    h.press("/prod<enter><enter>/api-gateway<enter><enter>");
    insta::assert_snapshot!(h.render());
}
