//! The effect runner: turns each [`Effect`] that `update` asks for into a tokio task (a source
//! call, a file write, a port forward) whose answer comes back as an [`Action`]. It needs no
//! terminal, so the console and the headless subcommands (`findings`, `watch`, `report`) run
//! the same one; the few effects that need the terminal (suspend, handing it to a shell) stay
//! with the console's loop.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::action::{Action, Effect};
use crate::source::{ErrorKind, FleetSource, SharedSource, SourceError};

pub struct Effects {
    pub source: Arc<dyn FleetSource>,
    /// Live Tail sessions by log pane id, ended when the pane closes.
    pub tails: HashMap<u64, tokio::task::AbortHandle>,
    /// Port forwards running in the background; the launcher stops them all when `run` ends.
    pub forwards: Arc<crate::source::forward::ForwardRunner>,
    /// `audit.jsonl` (`None`: no state directory, nothing can be written).
    pub audit_log: Option<std::path::PathBuf>,
}

impl Effects {
    /// Starts an effect as a tokio task whose result comes back as an action.
    pub fn start(&mut self, effect: Effect, tx: &mpsc::UnboundedSender<Action>) {
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
    F: Future<Output = Result<T, SourceError>> + Send + 'static,
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
pub(super) fn supervised<T: Send + 'static>(
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

pub(super) fn crashed_in(what: &str, why: String) -> Action {
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
