//! A panic inside a poller never takes the console down: the runtime's `guarded` turns it into
//! an error on the poller's pane, shown like any other, and the poll is retried on its backoff.
//! Other background tasks (Live Tail, port forwards, saving) are `supervised` the same way. An
//! audit line is written before the effect after it starts; quitting waits for changes under
//! way on a real timer.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use std::collections::HashMap;

use super::*;
use crate::config::Config;
use crate::model::{Cluster, Identity, Instance, Query, Service, Task, TaskDefinition, TaskScope};
use crate::source::demo::{DemoClock, DemoSource};
use crate::source::{FleetSource, SourceError};
use crate::testkit::fixed_now;
use effects::{crashed_in, supervised};

/// The demo fleet, except that listing clusters panics the first `panics` times.
struct Panicky {
    inner: DemoSource,
    panics: AtomicUsize,
}

#[async_trait::async_trait]
impl FleetSource for Panicky {
    async fn identity(&self) -> Result<Identity, SourceError> {
        self.inner.identity().await
    }
    async fn clusters(&self) -> Result<Vec<Cluster>, SourceError> {
        let left = self
            .panics
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if left.is_ok() {
            panic!("a bug in the poller");
        }
        self.inner.clusters().await
    }
    async fn services(&self, cluster: &str) -> Result<Vec<Service>, SourceError> {
        self.inner.services(cluster).await
    }
    async fn tasks(&self, scope: &TaskScope, stopped: bool) -> Result<Vec<Task>, SourceError> {
        self.inner.tasks(scope, stopped).await
    }
    async fn task(&self, cluster: &str, arn: &str) -> Result<Option<Task>, SourceError> {
        self.inner.task(cluster, arn).await
    }
    async fn instances(&self, cluster: &str) -> Result<Vec<Instance>, SourceError> {
        self.inner.instances(cluster).await
    }
    async fn task_definition(&self, arn: &str) -> Result<Arc<TaskDefinition>, SourceError> {
        self.inner.task_definition(arn).await
    }
    async fn live_tail(
        &self,
        _group: &str,
        _streams: &[String],
    ) -> Result<crate::source::LogTail, SourceError> {
        panic!("a bug in Live Tail")
    }
}

fn app_on(source: Arc<dyn FleetSource>) -> App {
    let config = Config::defaults();
    App {
        state: State::new(
            Identity::default(),
            chrono::Utc::now(),
            config.refresh,
            (120, 30),
        ),
        keymap: KeyMap::defaults(),
        theme: Theme::builtin("dark").unwrap(),
        effects: Effects {
            source,
            tails: HashMap::new(),
            forwards: Default::default(),
            audit_log: None,
        },
        members: Vec::new(),
    }
}

fn panicky() -> Arc<Panicky> {
    let demo = DemoSource::new("default", 42, fixed_now(), DemoClock::Fixed(fixed_now())).unwrap();
    Arc::new(Panicky {
        inner: demo,
        panics: AtomicUsize::new(0),
    })
}

/// Applies an action as the run loop does, starting its effects as tasks.
fn dispatch(app: &mut App, action: Action, tx: &mpsc::UnboundedSender<Action>) {
    for effect in update(&mut app.state, action, &app.keymap) {
        app.start(effect, tx);
    }
}

/// Applies every answer that arrives within a moment.
async fn settle(
    app: &mut App,
    tx: &mpsc::UnboundedSender<Action>,
    rx: &mut mpsc::UnboundedReceiver<Action>,
) {
    while let Ok(Some(action)) = tokio::time::timeout(Duration::from_millis(300), rx.recv()).await {
        dispatch(app, action, tx);
    }
}

fn frame(app: &App) -> String {
    let (w, h) = app.state.screen;
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    let ctx = ui::Ctx {
        theme: &app.theme,
        keymap: &app.keymap,
    };
    terminal.draw(|f| ui::render(f, &app.state, &ctx)).unwrap();
    let buffer = terminal.backend().buffer();
    (0..h)
        .map(|y| (0..w).map(|x| buffer[(x, y)].symbol()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panicking_poller_is_an_error_on_screen_and_polling_goes_on() {
    let demo = DemoSource::new("default", 42, fixed_now(), DemoClock::Fixed(fixed_now())).unwrap();
    let source = Arc::new(Panicky {
        inner: demo,
        panics: AtomicUsize::new(2),
    });
    let config = Config::defaults();
    let mut app = App {
        state: State::new(
            Identity::default(),
            chrono::Utc::now(),
            config.refresh,
            (120, 30),
        ),
        keymap: KeyMap::defaults(),
        theme: Theme::builtin("dark").unwrap(),
        effects: Effects {
            source,
            tails: HashMap::new(),
            forwards: Default::default(),
            audit_log: None,
        },
        members: Vec::new(),
    };
    let (tx, mut rx) = mpsc::unbounded_channel();

    // The runtime stamps answers with the wall clock: the ticks must start from it too.
    let mut now = chrono::Utc::now();
    dispatch(&mut app, Action::Tick(now), &tx);
    settle(&mut app, &tx, &mut rx).await;
    let slot = app.state.fleet.slot(&Query::Clusters).expect("an answer");
    let error = slot.error.as_ref().expect("the panic is an error");
    assert!(
        error.message.starts_with("internal error while polling")
            && error.message.ends_with("will retry"),
        "{}",
        error.message
    );
    let shown = frame(&app);
    assert!(shown.contains("internal error while polling"), "{shown}");

    // The poll is retried on its backoff: it panics once more, then answers.
    let mut fetches = 0;
    for _ in 0..30 {
        now += chrono::TimeDelta::seconds(1);
        let effects = update(&mut app.state, Action::Tick(now), &app.keymap);
        fetches += effects
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    Effect::Fetch {
                        query: Query::Clusters,
                        ..
                    }
                )
            })
            .count();
        if !effects.is_empty() {
            for effect in effects {
                app.start(effect, &tx);
            }
            settle(&mut app, &tx, &mut rx).await;
        }
    }
    // 0 s (panic), ~6 s (panic), ~18 s, then every 5 s: retried, never given up.
    assert!(fetches >= 3, "retried after the panics: {fetches} fetches");
    let slot = app.state.fleet.slot(&Query::Clusters).unwrap();
    assert!(slot.error.is_none(), "{:?}", slot.error);
    assert!(!app.state.fleet.clusters().is_empty());
    let shown = frame(&app);
    assert!(shown.contains("prod"), "{shown}");
    assert!(!shown.contains("internal error"), "{shown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panic_in_live_tail_ends_it_on_its_pane_and_the_console_goes_on() {
    let mut app = app_on(panicky());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let streams = vec![crate::model::LogStreamRef {
        group: "/ecs/cart".into(),
        region: None,
        stream: "ecs/app/0123".into(),
        label: "app".into(),
    }];
    app.start(Effect::StartLiveTail { id: 7, streams }, &tx);
    drop(tx);
    match rx.recv().await {
        Some(Action::LiveTailEnded {
            id: 7,
            error: Some(why),
        }) => assert_eq!(
            why,
            "Live Tail stopped by an internal error (a bug in Live Tail)"
        ),
        other => panic!("{other:?}"),
    }
    // Nothing else: every sender is gone once the supervisor has spoken.
    assert!(rx.recv().await.is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panicking_background_task_is_said_and_an_aborted_one_is_not() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    supervised(
        tx.clone(),
        tokio::spawn(async { panic!("boom while stopping") }),
        |why| crashed_in("stopping a port forward", why),
    );
    let aborted = supervised(
        tx.clone(),
        tokio::spawn(std::future::pending::<()>()),
        |why| crashed_in("nothing", why),
    );
    aborted.abort();
    drop(tx);
    match rx.recv().await {
        Some(Action::Crashed { what, message }) => {
            assert_eq!(what, "stopping a port forward");
            assert_eq!(message, "boom while stopping");
        }
        other => panic!("{other:?}"),
    }
    assert!(rx.recv().await.is_none(), "an aborted task is not a crash");

    // On screen: the status line says it, and the console runs on.
    let mut app = app_on(panicky());
    let (tx, _rx) = mpsc::unbounded_channel();
    dispatch(
        &mut app,
        Action::Crashed {
            what: "stopping a port forward".into(),
            message: "boom while stopping".into(),
        },
        &tx,
    );
    let shown = frame(&app);
    assert!(
        shown.contains("internal error in stopping a port forward (boom while stopping)"),
        "{shown}"
    );
    assert!(!app.state.should_quit);
}

/// The `requested` line is in the audit log before the request is started: the source sees
/// it there when `apply` is called.
#[tokio::test(flavor = "multi_thread")]
async fn the_requested_line_is_written_before_the_request_starts() {
    struct Checking {
        inner: DemoSource,
        log: std::path::PathBuf,
        seen: std::sync::Mutex<Option<String>>,
    }
    #[async_trait::async_trait]
    impl FleetSource for Checking {
        async fn identity(&self) -> Result<Identity, SourceError> {
            self.inner.identity().await
        }
        async fn clusters(&self) -> Result<Vec<Cluster>, SourceError> {
            self.inner.clusters().await
        }
        async fn services(&self, cluster: &str) -> Result<Vec<Service>, SourceError> {
            self.inner.services(cluster).await
        }
        async fn tasks(&self, scope: &TaskScope, stopped: bool) -> Result<Vec<Task>, SourceError> {
            self.inner.tasks(scope, stopped).await
        }
        async fn task(&self, cluster: &str, arn: &str) -> Result<Option<Task>, SourceError> {
            self.inner.task(cluster, arn).await
        }
        async fn instances(&self, cluster: &str) -> Result<Vec<Instance>, SourceError> {
            self.inner.instances(cluster).await
        }
        async fn task_definition(&self, arn: &str) -> Result<Arc<TaskDefinition>, SourceError> {
            self.inner.task_definition(arn).await
        }
        async fn apply(&self, op: &crate::model::Operation) -> Result<String, SourceError> {
            *self.seen.lock().unwrap() = std::fs::read_to_string(&self.log).ok();
            self.inner.apply(op).await
        }
    }
    let home = std::env::temp_dir().join(format!("ecsmon-audit-order-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let log = home.join("audit.jsonl");
    let source = Arc::new(Checking {
        inner: DemoSource::new("default", 42, fixed_now(), DemoClock::Fixed(fixed_now())).unwrap(),
        log: log.clone(),
        seen: Default::default(),
    });
    let mut app = app_on(source.clone());
    app.effects.audit_log = Some(log.clone());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let op = crate::model::Operation::Redeploy {
        cluster: "prod".into(),
        service: "payments".into(),
        service_arn: "arn:aws:ecs:eu-west-1:123456789012:service/prod/payments".into(),
    };
    for effect in crate::update::gate::send(&mut app.state, op) {
        app.start(effect, &tx);
    }
    match rx.recv().await {
        Some(action @ Action::Performed { .. }) => dispatch(&mut app, action, &tx),
        other => panic!("{other:?}"),
    }
    let seen = source
        .seen
        .lock()
        .unwrap()
        .clone()
        .expect("the log existed");
    let lines: Vec<serde_json::Value> = seen
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{seen}");
    assert_eq!(lines[0]["stage"], "requested");
    let after = std::fs::read_to_string(&log).unwrap();
    let stages: Vec<(String, String)> = after
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["id"].to_string(), v["stage"].to_string())
        })
        .collect();
    assert_eq!(stages.len(), 2, "{after}");
    assert_eq!(stages[0].0, stages[1].0, "one id for the pair");
    assert_eq!(stages[1].1, "\"done\"");
    let _ = std::fs::remove_dir_all(&home);
}

/// Quitting with a change whose answer never comes: the runtime's timer ends the wait, the
/// change is audited `unknown`, and `run` hands back what to say on the way out.
#[tokio::test(flavor = "multi_thread")]
async fn the_quit_wait_ends_on_its_timer() {
    let mut app = app_on(panicky());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let op = crate::model::Operation::StopTask {
        cluster: "prod".into(),
        task_arn: "arn:aws:ecs:eu-west-1:123456789012:task/prod/0123456789abcdef".into(),
        reason: "Stopped by ecsmon".into(),
    };
    // Sent, but its answer is never delivered.
    let _held = crate::update::gate::send(&mut app.state, op);
    let effects = update(&mut app.state, Action::Quit, &app.keymap);
    assert!(
        effects.contains(&Effect::WaitToQuit(crate::update::gate::QUIT_GRACE)),
        "{effects:?}"
    );
    assert!(!app.state.may_exit());
    // The runtime's timer, shortened: the wait is data (`WaitToQuit`), its length the gate's.
    app.start(Effect::WaitToQuit(Duration::from_millis(10)), &tx);
    match rx.recv().await {
        Some(action @ Action::QuitWaitOver) => dispatch(&mut app, action, &tx),
        other => panic!("{other:?}"),
    }
    assert!(app.state.may_exit());
    let said = &app.state.in_flight.unanswered;
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].contains("aws ecs describe-tasks --cluster prod --tasks arn:aws:ecs:"),
        "{said:?}"
    );
}
