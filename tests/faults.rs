//! AWS having a bad day: the console against moto behind the front's fault layer
//! (`tests/moto/server.py`, `Faults`), through the real AWS source and the real update path.
//!
//! Each fault lasts a while and then is gone: throttling (the protocol's own error, and a bare
//! HTTP 429), 5xx, answers slowed past the attempt timeout, connections reset, connections never
//! answered, malformed bodies. Each test asserts that nothing crashes, that the pane is marked
//! stale and says why in plain words, that polling backs off while the fault lasts (fewer polls
//! and fewer requests at the front), that everything recovers once it is gone, and that nothing
//! the operator had is lost: the navigation stack, filter, selection, the open popup and the
//! log pane's lines.
//!
//! Throttling is different: the console answers it with its per-service request budgets, which
//! pace requests on the real clock, so those tests run in real time (`support::live`) and count
//! requests per 30 s at the front — healthy, throttled, recovered. So does the steady-view
//! test, on the simulated clock: a quiet view is polled less.
//!
//! Each test has its own moto (faults and call counts are global to a server). Time in the
//! console is the harness's clock, moved a second at a time; the SDK's retries and timeouts run
//! on the real clock, with the production retry policy (3 attempts) but shorter waits (see
//! `console_config`), so a fault window costs seconds, not minutes.

mod support;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use ecsmon::action::Effect;
use ecsmon::model::Query;
use ecsmon::source::aws::{AwsSettings, AwsSource};
use ecsmon::state::{Pane, Popup, SortSpec};
use ecsmon::testkit::Harness;
use serde_json::{Value, json};
use support::live::{self, Operator::AtTheKeys};
use support::{FleetSpec, Moto, Waits, console_config, seed};

/// Per attempt and per operation (all attempts): production uses 10 s and 30 s.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(3);
/// One window of console time; the focused pane polls every 5 s, so a healthy window is 12 polls.
const WINDOW: i64 = 60;
/// Enough console time after a fault for the longest backoff (120 s, plus jitter) to run out.
const RECOVERY: i64 = 160;

/// A console on a moto fleet, opened the way an operator would have it when trouble starts.
struct Rig {
    moto: Moto,
    h: Harness,
    /// The focused pane's query: the tasks of `svc-001`.
    tasks: Query,
}

/// What the operator had: must survive any fault.
#[derive(Debug, PartialEq)]
struct Kept {
    nav: Vec<(Pane, String, Option<String>, SortSpec)>,
    popup_titles: Vec<String>,
    log_pane: Option<u64>,
    log_lines: Vec<String>,
}

fn kept(h: &Harness) -> Kept {
    Kept {
        nav: h
            .state
            .nav
            .iter()
            .map(|v| {
                (
                    v.pane.clone(),
                    v.filter.clone(),
                    v.selected_key.clone(),
                    v.sort,
                )
            })
            .collect(),
        popup_titles: h
            .state
            .popups
            .iter()
            .map(|p| match p {
                Popup::Describe { title, .. } => title.clone(),
                other => format!("{other:?}"),
            })
            .collect(),
        log_pane: h.state.logs.as_ref().map(|p| p.id),
        log_lines: h
            .state
            .logs
            .as_ref()
            .map(|p| p.lines.iter().map(|l| l.text.clone()).collect())
            .unwrap_or_default(),
    }
}

async fn rig(cluster: &str) -> Rig {
    let moto = Moto::start();
    let plain = support::sdk_config(&moto.endpoint).await;
    let fleet = seed(&plain, &FleetSpec::new(cluster, 3, 4, 2)).await;

    // Log lines for every task of svc-001, a little in the past, for the log pane to hold.
    let logs = aws_sdk_cloudwatchlogs::Client::new(&plain);
    let group = format!("/ecs/{}", seed::family(cluster));
    logs.create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    for arn in &fleet.task_arns_by_service["svc-001"] {
        let stream = format!("ecs/app/{}", arn.rsplit('/').next().unwrap());
        logs.create_log_stream()
            .log_group_name(&group)
            .log_stream_name(&stream)
            .send()
            .await
            .unwrap();
        let events = (0..5)
            .map(|i| {
                InputLogEvent::builder()
                    .timestamp(now - 30_000 + i * 1000)
                    .message(format!("line {i} of {stream}"))
                    .build()
                    .unwrap()
            })
            .collect();
        logs.put_log_events()
            .log_group_name(&group)
            .log_stream_name(&stream)
            .set_log_events(Some(events))
            .send()
            .await
            .unwrap();
    }

    let settings = AwsSettings {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.endpoint.clone()),
    };
    let config = console_config(
        &moto.endpoint,
        Waits {
            connect: Duration::from_secs(1),
            attempt: ATTEMPT_TIMEOUT,
            operation: OPERATION_TIMEOUT,
            first_backoff: Duration::from_millis(50),
        },
    )
    .await;
    let source = AwsSource::from_config(&config, settings.clone()).unwrap();
    let mut h = Harness::with_source(Arc::new(source), Some(settings), 140, 40);
    // Drill to svc-001's tasks, filter, select the second row, open its logs, hand the keys back
    // to the list, and open the describe popup.
    h.press(&format!("/{cluster}<enter><enter>/svc-001<enter><enter>"));
    h.press("/RUN<enter>j");
    h.press("l");
    h.advance(2);
    h.press("<tab>d");
    let tasks = h.state.focused().pane.query();
    assert!(
        matches!(tasks, Query::Tasks { .. }),
        "not on the tasks pane: {}",
        h.render()
    );
    assert_eq!(h.state.focused().rows.len(), 4, "{}", h.render());
    assert!(h.state.focused().selected_key.is_some());
    assert!(
        h.state.logs.as_ref().is_some_and(|p| p.lines.len() == 5),
        "the log pane holds the task's lines: {:?}",
        h.state.logs.as_ref().map(|p| (&p.mode, &p.lines))
    );
    assert!(matches!(
        h.state.popups.last(),
        Some(Popup::Describe { .. })
    ));
    Rig { moto, h, tasks }
}

/// Fetches of `query` the console has issued so far.
fn polls(h: &Harness, query: &Query) -> usize {
    h.effects
        .iter()
        .filter(|e| matches!(e, Effect::Fetch { query: q, .. } if q == query))
        .count()
}

/// Polls of the focused pane and requests of `op` at the front during `secs` of console time.
async fn window(rig: &mut Rig, op: &str, secs: i64) -> (usize, u64) {
    rig.moto.reset_stats().await;
    let before = polls(&rig.h, &rig.tasks);
    for _ in 0..secs {
        // The operator is at the console (without moving anything `kept` compares): the
        // focused pane keeps its 5 s cadence, as it does for someone watching an incident.
        rig.h.state.last_input = rig.h.state.now;
        rig.h.advance(1);
        rig.h.render(); // every second drawn, as the runtime would: never a panic
    }
    let calls = rig.moto.calls(op).await;
    (polls(&rig.h, &rig.tasks) - before, calls)
}

/// The whole story of one fault: healthy, faulty for two windows, gone, recovered.
/// `words`: what the operator must read about it.
async fn fault_for_a_while_then_gone(cluster: &str, fault: Value, words: &str) {
    let mut rig = rig(cluster).await;
    let op = "ecs:ListTasks";
    let before = kept(&rig.h);
    let (healthy_polls, healthy_calls) = window(&mut rig, op, WINDOW).await;
    assert!(healthy_polls >= 11, "polled every 5 s: {healthy_polls}");
    assert!(healthy_calls >= 11, "{healthy_calls}");
    assert!(!rig.h.render().contains("STALE"));

    rig.moto.inject(fault.clone()).await;
    let (first_polls, first_calls) = window(&mut rig, op, WINDOW).await;
    let frame = rig.h.render();
    let slot = rig.h.state.fleet.slot(&rig.tasks).unwrap();
    assert!(slot.is_stale(), "{fault}: not stale\n{frame}");
    assert!(slot.data.is_some(), "the last good answer is kept");
    let error = slot.error.as_ref().unwrap().message.clone();
    assert!(error.contains(words), "{fault}: {error:?} lacks {words:?}");
    assert!(frame.contains("STALE · data"), "{fault}: header\n{frame}");
    let said = rig.h.status();
    assert!(
        said.contains(words) && said.contains("retrying in"),
        "{fault}: status {said:?}"
    );
    assert!(frame.contains(words), "{fault}: the status line\n{frame}");
    // Under the popup, the table keeps its rows and says why they are stale.
    let popup = rig.h.state.popups.pop();
    let table = rig.h.render();
    rig.h.state.popups.extend(popup);
    assert!(
        table.contains(&format!(": {words}")) && table.contains(" stale "),
        "{fault}: the pane's note\n{table}"
    );
    assert!(table.contains("RUNNING"), "rows still shown\n{table}");

    let (second_polls, second_calls) = window(&mut rig, op, WINDOW).await;
    assert!(rig.h.state.fleet.slot(&rig.tasks).unwrap().is_stale());
    // Backoff: the polls thin out window after window, and so do the requests AWS sees (each
    // poll is up to 3 attempts by the SDK, so the first faulty window may cost as many).
    assert!(
        first_polls < healthy_polls && second_polls < first_polls,
        "{fault}: polls per {WINDOW} s healthy {healthy_polls}, then {first_polls}, {second_polls}"
    );
    assert!(
        second_polls * 4 <= healthy_polls,
        "{fault}: {second_polls} polls against {healthy_polls}"
    );
    assert!(
        second_calls * 2 <= healthy_calls,
        "{fault}: {op} requests per {WINDOW} s healthy {healthy_calls}, then {first_calls}, {second_calls}"
    );
    eprintln!(
        "{fault}: per {WINDOW} s, polls {healthy_polls} → {first_polls} → {second_polls}, \
         {op} requests {healthy_calls} → {first_calls} → {second_calls}; said {error:?}"
    );
    let faulted = rig.moto.faults().await;
    assert!(
        faulted[0]["hits"].as_u64().unwrap() > 0,
        "the fault was hit: {faulted}"
    );

    rig.moto.clear_faults().await;
    window(&mut rig, op, RECOVERY).await;
    let frame = rig.h.render();
    let slot = rig.h.state.fleet.slot(&rig.tasks).unwrap();
    assert!(
        !slot.is_stale(),
        "{fault}: still stale after it ended\n{frame}"
    );
    let age = rig.h.state.now - slot.fetched_at.unwrap();
    assert!(age.num_seconds() <= 6, "fresh data: {age}");
    assert!(!frame.contains("STALE"), "{frame}");
    assert!(!rig.h.status().contains(words), "{}", rig.h.status());
    let (recovered_polls, _) = window(&mut rig, op, WINDOW).await;
    assert!(
        recovered_polls >= healthy_polls - 1,
        "back to the cadence: {recovered_polls} polls"
    );
    assert_eq!(
        kept(&rig.h),
        before,
        "{fault}: nothing the operator had is lost"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn server_errors_back_off_and_recover() {
    let fault = json!({"op": "*", "kind": "5xx", "status": 500});
    fault_for_a_while_then_gone("fivexx", fault, "ECS had an internal error").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_answers_are_named_not_shown() {
    let fault = json!({"op": "*", "kind": "malformed"});
    let words = "ECS sent an answer ecsmon could not read";
    fault_for_a_while_then_gone("malformed", fault, words).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_connections_back_off_and_recover() {
    let fault = json!({"op": "ecs:ListTasks", "kind": "reset"});
    fault_for_a_while_then_gone("reset", fault, "cannot reach 127.0.0.1:").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unanswered_requests_time_out_and_recover() {
    let fault = json!({"op": "ecs:ListTasks", "kind": "hang"});
    fault_for_a_while_then_gone("hang", fault, "no answer from 127.0.0.1:").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn answers_slower_than_the_timeout_time_out_and_recover() {
    let fault = json!({"op": "ecs:ListTasks", "kind": "slow", "delay": 2.5});
    fault_for_a_while_then_gone("slowest", fault, "no answer from 127.0.0.1:").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_answers_within_the_timeout_are_only_slow() {
    let mut rig = rig("slow").await;
    let before = kept(&rig.h);
    let (healthy_polls, _) = window(&mut rig, "ecs:ListTasks", 20).await;
    rig.moto
        .inject(json!({"op": "*", "kind": "slow", "delay": 0.3, "seconds": 30}))
        .await;
    let (slow_polls, _) = window(&mut rig, "ecs:ListTasks", 20).await;
    let slot = rig.h.state.fleet.slot(&rig.tasks).unwrap();
    assert!(!slot.is_stale(), "{:?}", slot.error);
    assert!(!rig.h.render().contains("STALE"));
    assert_eq!(slow_polls, healthy_polls, "no backoff for a slow success");
    assert_eq!(kept(&rig.h), before);
}

/// Throttling, in real time (the budgets pace requests on the real clock): the console at the
/// keys on a 130-task view, healthy, then every call throttled, then the fault gone.
async fn throttled_then_recovered(cluster: &str, fault: Value) {
    let moto = Moto::start();
    let (mut h, tasks) = live::tasks_view(&moto, cluster).await;
    let before = polls(&h, &tasks);
    let healthy = live::window(&moto, &mut h, 30, AtTheKeys).await;
    let healthy_pane = PaneRate::of(&moto, polls(&h, &tasks) - before).await;

    moto.inject(fault.clone()).await;
    live::run_live(&mut h, 20, AtTheKeys, |_| false);
    let throttled = live::window(&moto, &mut h, 30, AtTheKeys).await;
    eprintln!("{fault}: requests per 30 s healthy {healthy}, throttled (after 20 s) {throttled}");
    assert!(
        throttled * 2 < healthy,
        "{fault}: {throttled} requests per 30 s throttled against {healthy} healthy"
    );
    let slot = h.state.fleet.slot(&tasks).unwrap();
    assert!(slot.is_stale() && slot.data.is_some(), "stale, rows kept");
    let error = &slot.error.as_ref().unwrap().message;
    assert!(error.contains("throttled by ECS"), "{error}");
    assert!(h.status().contains("throttled by"), "{}", h.status());

    // The budget says what it did.
    let ecs = h
        .source
        .stats()
        .budgets
        .into_iter()
        .find(|b| b.service == "ecs")
        .expect("an ECS budget");
    assert!(ecs.allowed <= 1.0 && ecs.throttled > 0, "{ecs:?}");
    h.press(":stats<enter>");
    let Some(Popup::Describe { lines, .. }) = h.state.popups.last() else {
        panic!("no :stats popup: {}", h.render());
    };
    assert!(lines[0].contains("ALLOWED") && lines[0].contains("THROTTLED (LAST MIN)"));
    assert!(
        lines.iter().any(|l| l.starts_with("ecs ")
            && l.contains(&format!("{} of {}", ecs.throttled, ecs.answers))),
        "{lines:#?}"
    );
    h.press("<esc>");

    moto.clear_faults().await;
    let fresh = |h: &Harness| {
        let slot = h.state.fleet.slot(&tasks).unwrap();
        !slot.is_stale()
            && !h.status().contains("retrying")
            && !h.status().contains("throttled")
            && !h.render().contains("STALE")
    };
    let started = std::time::Instant::now();
    assert!(
        live::run_live(&mut h, 30, AtTheKeys, fresh),
        "{fault}: still stale 30 s after the fault ended: {}\n{}",
        h.status(),
        h.render()
    );
    eprintln!(
        "{fault}: fresh again {:?} after the fault ended",
        started.elapsed()
    );
    let before = polls(&h, &tasks);
    live::window(&moto, &mut h, 30, AtTheKeys).await;
    let recovered = PaneRate::of(&moto, polls(&h, &tasks) - before).await;
    eprintln!(
        "{fault}: the pane's polls and requests per 30 s: healthy {healthy_pane:?}, recovered {recovered:?}"
    );
    // Back to the healthy rate. Only the focused pane's polls are compared: the healthy window
    // also holds one-off requests of the first minute (task definitions, AMIs, subnets...).
    // A 30 s window holds 5 or 6 polls of a 5 s cadence, by phase alone: one poll is allowed.
    assert!(
        recovered.polls + 1 >= healthy_pane.polls
            && recovered.requests + healthy_pane.one_poll() >= healthy_pane.requests,
        "{fault}: back to the healthy rate: {recovered:?} against {healthy_pane:?}"
    );
}

/// The focused task pane's polls in a window, and the requests they cost at the front.
#[derive(Debug)]
struct PaneRate {
    polls: usize,
    requests: u64,
}

impl PaneRate {
    async fn of(moto: &Moto, polls: usize) -> PaneRate {
        let requests = moto.calls("ecs:ListTasks").await + moto.calls("ecs:DescribeTasks").await;
        PaneRate { polls, requests }
    }

    fn one_poll(&self) -> u64 {
        self.requests / self.polls.max(1) as u64
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_slows_every_poller_below_half_and_recovers_within_30_s() {
    let fault = json!({"op": "*", "kind": "throttle"});
    throttled_then_recovered("throttled", fault).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bare_429_is_throttling_too() {
    let fault = json!({"op": "*", "kind": "http429"});
    throttled_then_recovered("http429", fault).await;
}

/// A steady 130-task view nobody touches: after a minute its polls have stretched toward the
/// background cadence, and the header says so; a key brings a fresh answer at once and the
/// 5-second cadence back. On the console's (simulated) clock: nothing here waits for a budget.
#[tokio::test(flavor = "multi_thread")]
async fn a_steady_untouched_view_is_polled_less_and_a_key_makes_it_live_again() {
    let moto = Moto::start();
    let (mut h, tasks) = live::tasks_view(&moto, "steady").await;
    h.advance(60);
    // A minute, measured: the fleet-wide polls come once a minute then, all at once.
    moto.reset_stats().await;
    let before = polls(&h, &tasks);
    for _ in 0..60 {
        h.advance(1);
        h.render();
    }
    let steady = live::requests(&moto).await;
    let by_op = moto.stats().await;
    eprintln!(
        "steady untouched view: {steady} requests per 60 s ({} polls of the tasks): {by_op:?}",
        polls(&h, &tasks) - before
    );
    assert!(steady <= 30, "{steady} requests per 60 s: {by_op:?}");
    assert!(h.render().contains("every 30s"), "{}", h.render());

    let before = polls(&h, &tasks);
    h.press("j");
    assert_eq!(
        polls(&h, &tasks),
        before + 1,
        "a key: a fresh answer at once"
    );
    assert!(!h.render().contains("every "), "{}", h.render());
    let before = polls(&h, &tasks);
    for _ in 0..6 {
        h.advance(5);
        h.press("j");
    }
    assert_eq!(polls(&h, &tasks) - before, 6, "every 5 s at the keys");
}
