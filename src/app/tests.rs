//! A panic inside a poller never takes the console down: the runtime's `guarded` turns it into
//! an error on the poller's pane, shown like any other, and the poll is retried on its backoff.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::*;
use crate::config::Config;
use crate::model::{Cluster, Identity, Instance, Query, Service, Task, TaskDefinition, TaskScope};
use crate::source::demo::{DemoClock, DemoSource};
use crate::testkit::fixed_now;

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
        source,
        tails: HashMap::new(),
        forwards: Default::default(),
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
