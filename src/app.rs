//! The runtime: reads input, runs pollers and effects as tokio tasks, and draws. It owns no
//! logic of its own: every change goes through `update`.
//!
//! One loop iteration: wait for something (a key, a data arrival, the 1 s tick, a signal),
//! apply it and everything else already queued, then draw once.

use std::collections::HashMap;
use std::sync::Arc;

use color_eyre::Result;
use crossterm::event::{Event, EventStream, KeyEventKind, MouseEventKind};
use futures::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::action::{Action, Effect};
use crate::keymap::KeyMap;
use crate::source::{ErrorKind, FleetSource, SharedSource, SourceError};
use crate::state::State;
use crate::theme::Theme;
use crate::tui::Tui;
use crate::ui;
use crate::update::update;

pub struct App {
    pub state: State,
    pub keymap: KeyMap,
    pub theme: Theme,
    pub source: Arc<dyn FleetSource>,
    /// Live Tail sessions by log pane id, ended when the pane closes.
    pub tails: HashMap<u64, tokio::task::AbortHandle>,
    /// Port forwards running in the background; the launcher stops them all when `run` ends.
    pub forwards: Arc<crate::source::forward::ForwardRunner>,
    /// `audit.jsonl` (`None`: no state directory, nothing can be written).
    pub audit_log: Option<std::path::PathBuf>,
}

impl App {
    /// Runs until the operator quits (and the changes under way are answered, or the wait for
    /// them is over). Returns what to say once the terminal is restored: the changes whose
    /// answer never came, and how to check each.
    pub async fn run(mut self, tui: &mut Tui) -> Result<Vec<String>> {
        let (tx, mut rx) = mpsc::unbounded_channel::<Action>();
        let mut events = EventStream::new();
        let mut tick = tokio::time::interval(self.source.tick());
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut sigterm = signal(SignalKind::terminate())?;
        let mut sighup = signal(SignalKind::hangup())?;
        // In raw mode the keyboard sends Ctrl-C and Ctrl-\ as keys: these come from outside
        // (kill -INT, kill -QUIT). While a shell session runs, ecsmon ignores both
        // (`source::session`): they belong to the remote shell.
        let mut sigint = signal(SignalKind::interrupt())?;
        let mut sigquit = signal(SignalKind::quit())?;

        let size = tui.terminal.size()?;
        let mut queue = vec![
            Action::Resize {
                width: size.width,
                height: size.height,
            },
            Action::Tick(self.source.now()),
        ];
        self.start(Effect::FetchIdentity, &tx);

        loop {
            for action in queue.drain(..) {
                // A region or profile switch: the new source serves every poll from now on.
                if let Action::SourceChanged { source, .. } = &action {
                    self.source = Arc::clone(&source.0);
                }
                for effect in update(&mut self.state, action, &self.keymap) {
                    match effect {
                        Effect::Suspend => {
                            drop(events);
                            tui.suspend()?;
                            events = EventStream::new();
                        }
                        Effect::HandOff { op, handoff } => {
                            // The input reader stops first (dropping the stream ends it), or it
                            // would steal the shell's keys; a new one starts after the session.
                            // Not before: creating it while the old reader still holds the
                            // terminal's event lock would wait for a key that never comes.
                            drop(events);
                            self.hand_off(tui, op, handoff, &tx)?;
                            events = EventStream::new();
                        }
                        other => self.start(other, &tx),
                    }
                }
            }
            if self.state.may_exit() {
                // Lets the end-to-end test prove a panic hands the terminal back first.
                #[cfg(debug_assertions)]
                if std::env::var_os("ECSMON_TEST_PANIC").is_some() {
                    panic!("deliberate test panic");
                }
                return Ok(std::mem::take(&mut self.state.in_flight.unanswered));
            }
            let ctx = ui::Ctx {
                theme: &self.theme,
                keymap: &self.keymap,
            };
            tui.terminal.draw(|f| ui::render(f, &self.state, &ctx))?;
            // Every key handled so far was read before this frame: a confirmation it shows
            // may be answered only by keys read from now on (R then y typed ahead do not).
            crate::update::frame_drawn(&mut self.state);
            // Wait for the next thing to happen…
            let first = tokio::select! {
                Some(event) = events.next() => from_event(event?),
                Some(action) = rx.recv() => Some(action),
                _ = tick.tick() => Some(Action::Tick(self.source.now())),
                _ = sigterm.recv() => Some(Action::Quit),
                _ = sighup.recv() => Some(Action::Quit),
                _ = sigint.recv() => Some(Action::Quit),
                _ = sigquit.recv() => Some(Action::Quit),
            };
            queue.extend(first);
            // …then take everything else already waiting, so a burst costs one frame.
            while let Ok(action) = rx.try_recv() {
                queue.push(action);
            }
            // Polled with this task's waker, not `now_or_never`'s no-op one: crossterm's
            // EventStream wakes only the waker of the first poll that found nothing, so a
            // no-op waker here left every later key waiting for the 1 s tick.
            while let std::task::Poll::Ready(Some(event)) = futures::poll!(events.next()) {
                queue.extend(from_event(event?));
            }
        }
    }

    /// Hands the terminal to session-manager-plugin until the session ends. Live Tail
    /// sessions are ended first (their lines would pile up unread); those panes poll after.
    fn hand_off(
        &mut self,
        tui: &mut Tui,
        op: crate::model::Operation,
        handoff: crate::model::SessionHandoff,
        tx: &mpsc::UnboundedSender<Action>,
    ) -> Result<()> {
        for (id, task) in self.tails.drain() {
            task.abort();
            let _ = tx.send(Action::LiveTailEnded {
                id,
                error: Some("paused during the shell session".into()),
            });
        }
        tui.exit()?;
        let result = tokio::task::block_in_place(|| crate::source::session::run_plugin(&handoff));
        // `enter` redraws everything (no cursor-position round trip).
        tui.enter()?;
        let _ = tx.send(Action::SessionEnded { op, result });
        Ok(())
    }

    /// Starts an effect as a tokio task whose result comes back as an action.
    fn start(&mut self, effect: Effect, tx: &mpsc::UnboundedSender<Action>) {
        let source = Arc::clone(&self.source);
        // Answers are stamped with the source's time (a replayed incident runs faster).
        let clock = Arc::clone(&self.source);
        let tx = tx.clone();
        match effect {
            Effect::Fetch { query, seq } => {
                let q = query.clone();
                // Lets the end-to-end test prove a background panic leaves the terminal alone.
                #[cfg(debug_assertions)]
                let test_panic = test_poller_panic();
                let call = async move {
                    #[cfg(debug_assertions)]
                    if test_panic {
                        panic!("deliberate test panic in a poller");
                    }
                    source.fetch(&q).await
                };
                guarded(tx, call, move |result| {
                    tracing::debug!(query = ?query, ok = result.is_ok(), "poll finished");
                    Action::Loaded {
                        query,
                        seq,
                        at: clock.now(),
                        result,
                    }
                });
            }
            Effect::FetchIdentity => {
                guarded(
                    tx,
                    async move { source.identity().await },
                    Action::IdentityLoaded,
                );
            }
            Effect::FetchMetrics { request, seq } => {
                let r = request.clone();
                guarded(
                    tx,
                    async move { source.metric_data(&r).await },
                    move |result| Action::MetricsLoaded {
                        request,
                        seq,
                        at: clock.now(),
                        result,
                    },
                );
            }
            Effect::FetchAlarms => {
                guarded(tx, async move { source.alarms().await }, move |result| {
                    Action::AlarmsLoaded {
                        at: clock.now(),
                        result,
                    }
                });
            }
            Effect::ResolveLogs { id, subject } => {
                guarded(
                    tx,
                    async move { Ok(crate::source::logs::resolve(&*source, &subject).await) },
                    move |result| Action::LogsResolved {
                        id,
                        result: result.unwrap_or_else(|e| Err(e.message)),
                    },
                );
            }
            Effect::ReadLogs { id, streams, read } => {
                let r = read.clone();
                guarded(
                    tx,
                    async move {
                        let now = source.now();
                        crate::source::logs::read(&*source, &streams, &r, now).await
                    },
                    move |result| Action::LogsRead { id, read, result },
                );
            }
            Effect::StartLiveTail { id, streams } => {
                let follow = crate::source::logs::follow(source, id, streams, tx.clone());
                let task = supervised(tx, tokio::spawn(follow), move |why| Action::LiveTailEnded {
                    id,
                    error: Some(format!("Live Tail stopped by an internal error ({why})")),
                });
                if let Some(old) = self.tails.insert(id, task) {
                    old.abort();
                }
            }
            Effect::StopLogs { id } => {
                if let Some(task) = self.tails.remove(&id) {
                    task.abort();
                }
            }
            Effect::Perform(op) => {
                let o = op.clone();
                guarded(tx, async move { source.apply(&o).await }, move |result| {
                    Action::Performed { op, result }
                });
            }
            Effect::OpenSession(op) => {
                let o = op.clone();
                guarded(
                    tx,
                    async move { Ok(crate::source::session::prepare(&*source, &o).await) },
                    move |result| Action::SessionReady {
                        op,
                        result: result.unwrap_or_else(|e| Err(e.message)),
                    },
                );
            }
            Effect::HandOff { .. } | Effect::Quit | Effect::Suspend => {}
            Effect::WaitToQuit(grace) => {
                tokio::spawn(async move {
                    tokio::time::sleep(grace).await;
                    let _ = tx.send(Action::QuitWaitOver);
                });
            }
            // Written here and now, not in a task: the `requested` line must be on disk before
            // the request that follows it starts, and the last outcome before ecsmon exits. One
            // small append.
            Effect::Audit(record) => match &self.audit_log {
                Some(path) => {
                    if let Err(e) = crate::source::audit::append(path, &record) {
                        tracing::error!(path = %path.display(), "audit log not written: {e}");
                    }
                }
                None => tracing::error!("no state directory for the audit log"),
            },
            Effect::FetchScalingBounds {
                cluster,
                service,
                service_arn,
            } => {
                guarded(
                    tx,
                    async move { source.scaling_bounds(&cluster, &service).await },
                    move |result| Action::ScalingLoaded {
                        service_arn,
                        result,
                    },
                );
            }
            Effect::FetchTargetHealth {
                service_arn,
                target_groups,
            }
            | Effect::TriageTargetHealth {
                service_arn,
                target_groups,
            } => {
                guarded(
                    tx,
                    async move { source.target_health(&target_groups).await },
                    move |result| Action::TargetHealthLoaded {
                        service_arn,
                        at: clock.now(),
                        result,
                    },
                );
            }
            Effect::ScanLogs { cluster, service } => {
                let now = source.now();
                let (c, s) = (cluster.clone(), service.clone());
                guarded(
                    tx,
                    async move {
                        Ok::<_, SourceError>(crate::source::logs::scan(&*source, &c, &s, now).await)
                    },
                    move |result| Action::LogsScanned {
                        cluster,
                        service,
                        result: result.map_err(|e| e.message).and_then(|r| r),
                    },
                );
            }
            Effect::FetchTaskDefinition { arn } => {
                let key = arn.clone();
                guarded(
                    tx,
                    async move { source.task_definition(&key).await },
                    move |result| Action::TaskDefinitionLoaded { arn, result },
                );
            }
            Effect::WriteExport { path, contents } => {
                let (answer, p) = (tx.clone(), path.clone());
                let write = tokio::task::spawn_blocking(move || {
                    let result = crate::files::write_new(&path, contents.as_bytes())
                        .map_err(|e| e.to_string());
                    let _ = answer.send(Action::ExportWritten { path, result });
                });
                supervised(tx, write, move |why| Action::ExportWritten {
                    path: p,
                    result: Err(format!("internal error ({why})")),
                });
            }
            Effect::LoadRevisions { family } => {
                let f = family.clone();
                guarded(
                    tx,
                    async move { source.task_definition_revisions(&f).await },
                    move |result| Action::RevisionsLoaded { family, result },
                );
            }
            Effect::StartForward { id, op } => {
                let runner = Arc::clone(&self.forwards);
                let (ended, answer) = (tx.clone(), tx.clone());
                let notify: crate::source::forward::Notify = Arc::new(move |id, reason| {
                    let _ = ended.send(Action::ForwardEnded { id, reason });
                });
                let start = tokio::spawn(async move {
                    let result = runner.start(id, &op, source, notify).await;
                    let _ = answer.send(Action::ForwardStarted { id, result });
                });
                supervised(tx, start, move |why| Action::ForwardStarted {
                    id,
                    result: Err(format!("internal error while starting it ({why})")),
                });
            }
            Effect::StopForward { id } => {
                let runner = Arc::clone(&self.forwards);
                let stop = tokio::spawn(async move { runner.stop(id).await });
                supervised(tx, stop, |why| crashed_in("stopping a port forward", why));
            }
            Effect::Copy(text) => crate::tui::copy_to_clipboard(&text),
            Effect::SaveFile { path, contents } => {
                let (answer, p) = (tx.clone(), path.clone());
                let save = tokio::task::spawn_blocking(move || {
                    let result = crate::files::write_new(&path, contents.as_bytes())
                        .map_err(|e| e.to_string());
                    let _ = answer.send(Action::FileSaved { path, result });
                });
                supervised(tx, save, move |why| Action::FileSaved {
                    path: p,
                    result: Err(format!("internal error ({why})")),
                });
            }
            Effect::ShowStats => {
                let _ = tx.send(Action::StatsLoaded(source.stats()));
            }
            Effect::LoadProfiles => {
                let answer = tx.clone();
                let load = tokio::spawn(async move {
                    let names = crate::source::aws::profile_names().await;
                    let _ = answer.send(Action::ProfilesLoaded(names));
                });
                supervised(tx, load, |why| crashed_in("reading the AWS profiles", why));
            }
            Effect::Connect(settings) => {
                let answer = tx.clone();
                let connect = tokio::spawn(async move {
                    let source = crate::launch::aws_source(settings.clone()).await;
                    let _ = answer.send(Action::SourceChanged {
                        source: SharedSource(source),
                        settings,
                    });
                });
                supervised(tx, connect, |why| {
                    crashed_in("switching the region or profile", why)
                });
            }
        }
    }
}

/// Runs a source call as its own task and sends its answer as an action. A panicking call
/// becomes an error on its pane (and is retried), never a dead console.
fn guarded<T, F>(
    tx: mpsc::UnboundedSender<Action>,
    call: F,
    answer: impl FnOnce(Result<T, SourceError>) -> Action + Send + 'static,
) where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T, SourceError>> + Send + 'static,
{
    tokio::spawn(async move {
        let result = tokio::spawn(call).await.unwrap_or_else(|e| Err(crashed(e)));
        let _ = tx.send(answer(result));
    });
}

fn crashed(e: tokio::task::JoinError) -> SourceError {
    let why = join_error_message(e);
    tracing::error!("poller crashed: {why}");
    SourceError::new(
        ErrorKind::Service,
        format!("internal error while polling ({why}); will retry"),
    )
}

/// Watches a background task: if it panics, `on_panic` (given the panic's message) says so
/// as an action — on the task's own pane where it has one — and the console keeps running.
/// Returns the task's abort handle (an aborted task is not a crash: nothing is said).
fn supervised<T: Send + 'static>(
    tx: mpsc::UnboundedSender<Action>,
    task: tokio::task::JoinHandle<T>,
    on_panic: impl FnOnce(String) -> Action + Send + 'static,
) -> tokio::task::AbortHandle {
    let abort = task.abort_handle();
    tokio::spawn(async move {
        if let Err(e) = task.await
            && e.is_panic()
        {
            let why = join_error_message(e);
            tracing::error!("background task crashed: {why}");
            let _ = tx.send(on_panic(why));
        }
    });
    abort
}

fn crashed_in(what: &str, why: String) -> Action {
    Action::Crashed {
        what: what.to_string(),
        message: why,
    }
}

/// A panicked task's message (`index out of bounds…`), or what else ended it.
fn join_error_message(e: tokio::task::JoinError) -> String {
    if !e.is_panic() {
        return e.to_string();
    }
    let payload = e.into_panic();
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into());
    crate::sanitize::clean(&text).into_owned()
}

/// `ECSMON_TEST_PANIC_POLLER`: the first poll panics inside its task (debug builds only).
#[cfg(debug_assertions)]
fn test_poller_panic() -> bool {
    static DONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    std::env::var_os("ECSMON_TEST_PANIC_POLLER").is_some()
        && !DONE.swap(true, std::sync::atomic::Ordering::SeqCst)
}

/// Terminal events worth an update. Mouse motion is dropped here so it never costs a frame.
fn from_event(event: Event) -> Option<Action> {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => Some(Action::Key(key)),
        Event::Mouse(m) if !matches!(m.kind, MouseEventKind::Moved | MouseEventKind::Drag(_)) => {
            Some(Action::Mouse(m))
        }
        Event::Paste(text) => Some(Action::Paste(text)),
        Event::Resize(width, height) => Some(Action::Resize { width, height }),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
