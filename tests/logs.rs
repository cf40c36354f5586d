//! The log pane through the real update path on the demo fleet (which follows by polling),
//! and with a source that has Live Tail. Frames are snapshotted; behaviour is asserted.

use std::sync::Arc;

use async_trait::async_trait;
use ecsmon::action::Effect;
use ecsmon::model::LogRead;
use ecsmon::model::{
    Cluster, Identity, Instance, LogEvent, LogQuery, Service, Task, TaskDefinition, TaskScope,
};
use ecsmon::source::demo::{DemoClock, DemoSource};
use ecsmon::source::{FleetSource, LogTail, SourceError};
use ecsmon::state::LogMode;
use ecsmon::testkit::{Harness, fixed_now};

fn console() -> Harness {
    Harness::new("default", 140, 40)
}

/// prod › payments, then `l`.
fn payments_logs() -> Harness {
    let mut h = console();
    h.press("/prod<enter><enter>/payments<enter>l");
    h
}

fn reads(h: &Harness) -> Vec<LogRead> {
    h.effects
        .iter()
        .filter_map(|e| match e {
            Effect::ReadLogs { read, .. } => Some(read.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_service_merges_its_tasks_streams_backfills_then_polls() {
    let mut h = payments_logs();
    let pane = h.state.logs.as_ref().expect("a log pane");
    assert_eq!(pane.title, "service payments");
    // Six tasks, one app container and a datadog sidecar each.
    assert_eq!(pane.streams.len(), 12, "{:?}", pane.streams);
    assert!(
        pane.streams.iter().all(|s| s.label.len() == 8),
        "labelled by short task id"
    );
    assert_eq!(pane.lines.len(), 200, "the last 200 lines before following");
    match &pane.mode {
        LogMode::Polling { why } => assert!(why.contains("Live Tail"), "{why}"),
        other => panic!("the demo has no Live Tail: {other:?}"),
    }
    let newest = pane.newest.unwrap();
    assert!(newest <= fixed_now());

    let before = reads(&h).len();
    h.advance(1);
    assert_eq!(reads(&h).len(), before, "not before two seconds");
    h.advance(1);
    assert_eq!(reads(&h).len(), before + 1, "a poll every two seconds");
    assert!(matches!(reads(&h).last(), Some(LogRead::Since(_))));
    h.advance(10);
    let pane = h.state.logs.as_ref().unwrap();
    assert!(pane.lines.len() > 200, "new lines arrived");
    assert!(pane.newest.unwrap() > newest);
    let mut ats: Vec<_> = pane.lines.iter().map(|l| l.at).collect();
    let sorted = {
        let mut s = ats.clone();
        s.sort();
        s
    };
    assert_eq!(ats, sorted, "in time order");
    ats.dedup();
    assert!(ats.len() > 150);
}

#[test]
fn overlapping_polls_never_duplicate_a_line() {
    let mut h = payments_logs();
    h.advance(30);
    let pane = h.state.logs.as_ref().unwrap();
    let mut keys: Vec<(i64, &str, &str)> = pane
        .lines
        .iter()
        .map(|l| (l.at.timestamp_millis(), l.label.as_str(), l.text.as_str()))
        .collect();
    let all = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), all);
}

#[test]
fn paused_the_view_stays_and_counts_new_lines() {
    let mut h = payments_logs();
    h.press("f");
    let held = h.state.logs.as_ref().unwrap().lines.len();
    h.advance(10);
    let pane = h.state.logs.as_ref().unwrap();
    assert!(pane.paused);
    assert_eq!(pane.unseen, pane.lines.len() - held);
    assert!(pane.unseen > 0);
    insta::assert_snapshot!("logs_paused_with_new_lines", h.render());
    h.press("f");
    assert_eq!(h.state.logs.as_ref().unwrap().unseen, 0);
}

#[test]
fn search_moves_between_matches_and_can_filter() {
    let mut h = payments_logs();
    h.press("/HEAP<enter>");
    let pane = h.state.logs.as_ref().unwrap();
    let line = pane.current_line().expect("a match under the cursor");
    assert!(
        line.text.contains("heap"),
        "case-insensitive: {}",
        line.text
    );
    assert!(pane.paused, "searching stops the view from moving");
    let first = pane.cursor;
    h.press("N");
    assert_ne!(h.state.logs.as_ref().unwrap().cursor, first);
    insta::assert_snapshot!("logs_search_highlight", h.render());
    h.press("&");
    let pane = h.state.logs.as_ref().unwrap();
    let shown = pane.shown();
    assert!(shown.len() >= 2);
    assert!(shown.iter().all(|&i| pane.lines[i].text.contains("heap")));
    insta::assert_snapshot!("logs_only_matching", h.render());
}

#[test]
fn the_pane_shares_the_screen_and_zooms() {
    let mut h = payments_logs();
    insta::assert_snapshot!("logs_following_split", h.render());
    h.press("z");
    assert!(h.state.logs.as_ref().unwrap().zoom);
    h.press("w");
    insta::assert_snapshot!("logs_zoomed_wrapped", h.render());
    // Tab gives the keys back to the list; j moves the list, not the log.
    h.press("z<tab>j");
    assert_eq!(h.state.focused().selected, 0, "filtered to one service");
    assert!(!h.state.logs.as_ref().unwrap().focused);
    h.press("<tab><esc>");
    assert!(h.state.logs.is_none());
    assert!(
        h.effects
            .iter()
            .any(|e| matches!(e, Effect::StopLogs { .. })),
        "closing ends the pane's background work"
    );
}

#[test]
fn memory_is_bounded_by_the_line_cap() {
    let mut h = console();
    h.state.log_cap = 300;
    h.press("/prod<enter><enter>/payments<enter>l");
    h.advance(60);
    let pane = h.state.logs.as_ref().unwrap();
    assert_eq!(pane.lines.len(), 300);
    assert!(pane.dropped > 0);
    assert!(h.render().contains("oldest dropped (cap 300)"));
}

#[test]
fn older_lines_are_read_on_demand() {
    let mut h = payments_logs();
    let oldest = h.state.logs.as_ref().unwrap().oldest.unwrap();
    h.press("o");
    let pane = h.state.logs.as_ref().unwrap();
    assert_eq!(pane.lines.len(), 400);
    assert!(pane.oldest.unwrap() < oldest);
}

#[test]
fn copy_and_save_act_on_what_is_shown() {
    let mut h = payments_logs();
    let last = h
        .state
        .logs
        .as_ref()
        .unwrap()
        .lines
        .back()
        .unwrap()
        .text
        .clone();
    h.press("y");
    assert!(h.effects.contains(&Effect::Copy(last)));
    h.press("S");
    let saved = h.effects.iter().find_map(|e| match e {
        Effect::SaveFile { path, contents } => Some((path.clone(), contents.clone())),
        _ => None,
    });
    let (path, contents) = saved.expect("a file written");
    assert!(
        path.to_string_lossy()
            .starts_with("ecsmon-service-payments-")
    );
    assert_eq!(contents.lines().count(), 200);
    assert!(
        h.state
            .status
            .as_ref()
            .unwrap()
            .text
            .contains("saved the log to")
    );
}

#[test]
fn a_task_shows_its_containers_by_name() {
    let mut h = console();
    h.press("/prod<enter><enter>/payments<enter><enter>l");
    let pane = h.state.logs.as_ref().unwrap();
    assert!(pane.title.starts_with("task "));
    let labels: std::collections::BTreeSet<&str> =
        pane.lines.iter().map(|l| l.label.as_str()).collect();
    assert_eq!(labels, ["datadog-agent", "payments"].into_iter().collect());
}

#[test]
fn logs_are_per_task_or_service() {
    let mut h = console();
    h.press("l");
    assert!(h.state.logs.is_none());
    assert!(h.state.status.as_ref().unwrap().text.contains("per task"));
}

/// The demo fleet with Live Tail (a few batches, then the session ends), or with task
/// definitions that log through another driver.
struct WithLiveTail(Arc<DemoSource>, Option<&'static str>);

#[async_trait]
impl FleetSource for WithLiveTail {
    async fn identity(&self) -> Result<Identity, SourceError> {
        self.0.identity().await
    }
    async fn clusters(&self) -> Result<Vec<Cluster>, SourceError> {
        self.0.clusters().await
    }
    async fn services(&self, cluster: &str) -> Result<Vec<Service>, SourceError> {
        self.0.services(cluster).await
    }
    async fn tasks(&self, scope: &TaskScope, stopped: bool) -> Result<Vec<Task>, SourceError> {
        self.0.tasks(scope, stopped).await
    }
    async fn task(&self, cluster: &str, arn: &str) -> Result<Option<Task>, SourceError> {
        self.0.task(cluster, arn).await
    }
    async fn instances(&self, cluster: &str) -> Result<Vec<Instance>, SourceError> {
        self.0.instances(cluster).await
    }
    async fn task_definition(&self, arn: &str) -> Result<Arc<TaskDefinition>, SourceError> {
        let mut def = (*self.0.task_definition(arn).await?).clone();
        if let Some(driver) = self.1 {
            for c in &mut def.containers {
                c.log_driver = driver.into();
            }
        }
        Ok(Arc::new(def))
    }
    async fn log_events(&self, query: &LogQuery) -> Result<Vec<LogEvent>, SourceError> {
        self.0.log_events(query).await
    }
    async fn live_tail(&self, group: &str, streams: &[String]) -> Result<LogTail, SourceError> {
        let batch = |n: i64| {
            Ok(vec![LogEvent {
                id: format!("live-{n}"),
                at: fixed_now() + chrono::TimeDelta::seconds(n),
                group: group.to_string(),
                stream: streams[0].clone(),
                message: format!("live line {n} \x1b]0;title\x07"),
            }])
        };
        Ok(Box::pin(futures::stream::iter([batch(1), batch(2)])))
    }
}

#[test]
fn live_tail_is_used_when_available_then_polling_takes_over() {
    let demo = Arc::new(
        DemoSource::new("default", 42, fixed_now(), DemoClock::Fixed(fixed_now())).unwrap(),
    );
    let mut h = Harness::with_source(Arc::new(WithLiveTail(demo, None)), None, 140, 40);
    h.press("/prod<enter><enter>/payments<enter>l");
    assert_eq!(h.state.logs.as_ref().unwrap().mode, LogMode::LiveTail);
    assert!(h.render().contains("live tail"));
    h.advance(1);
    let pane = h.state.logs.as_ref().unwrap();
    let live: Vec<&str> = pane
        .lines
        .iter()
        .filter(|l| l.text.starts_with("live line"))
        .map(|l| l.text.as_str())
        .collect();
    assert_eq!(
        live,
        ["live line 1 ", "live line 2 "],
        "sanitized on arrival"
    );
    match &pane.mode {
        LogMode::Polling { why } => assert!(why.contains("ended"), "{why}"),
        other => panic!("after the session ends the pane polls: {other:?}"),
    }
}

#[test]
fn another_log_driver_is_named_with_where_its_lines_go() {
    let demo = Arc::new(
        DemoSource::new("default", 42, fixed_now(), DemoClock::Fixed(fixed_now())).unwrap(),
    );
    let source = WithLiveTail(demo, Some("awsfirelens"));
    let mut h = Harness::with_source(Arc::new(source), None, 140, 40);
    h.press("/prod<enter><enter>/payments<enter><enter>l");
    match &h.state.logs.as_ref().unwrap().mode {
        LogMode::Failed(why) => {
            assert!(why.contains("log driver awsfirelens"), "{why}");
            assert!(why.contains("FireLens"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    assert!(h.render().contains("log driver awsfirelens"));
}
