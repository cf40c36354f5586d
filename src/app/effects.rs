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

/// The effects [`call`] answers, as a pattern: the runtime and the test kit skip them in their
/// own (exhaustive) matches, so a new effect is still one either handles.
#[macro_export]
macro_rules! answered_by_call {
    () => {
        $crate::action::Effect::Fetch { .. }
            | $crate::action::Effect::Describe { .. }
            | $crate::action::Effect::FetchIdentity
            | $crate::action::Effect::FetchMetrics { .. }
            | $crate::action::Effect::MergeMetrics { .. }
            | $crate::action::Effect::ReadCells
            | $crate::action::Effect::FetchAlarms
            | $crate::action::Effect::ResolveLogs { .. }
            | $crate::action::Effect::ReadLogs { .. }
            | $crate::action::Effect::Perform(_)
            | $crate::action::Effect::OpenSession(_)
            | $crate::action::Effect::FetchScalingBounds { .. }
            | $crate::action::Effect::FetchTargetHealth { .. }
            | $crate::action::Effect::TriageTargetHealth { .. }
            | $crate::action::Effect::ScanLogs { .. }
            | $crate::action::Effect::FetchTaskDefinition { .. }
            | $crate::action::Effect::LoadRevisions { .. }
            | $crate::action::Effect::Evaluate(_)
            | $crate::action::Effect::ShowStats
            | $crate::action::Effect::LoadProfiles
    };
}

/// The console's clock as an answer should be stamped with: the source's (a replayed incident
/// runs faster than the wall), or a test's fixed one.
pub type Clock = Arc<dyn Fn() -> crate::model::Time + Send + Sync>;

/// A call under way: the future that answers it, and the answer to give if it panics.
pub struct Pending {
    pub answer: futures::future::BoxFuture<'static, Action>,
    pub on_crash: Box<dyn FnOnce(SourceError) -> Action + Send>,
}

/// The effects that are one call and one answer — the source's calls, the engine's evaluation,
/// the statistics — as a [`Pending`]; any other effect is handed back. The runtime and the test
/// kit both answer these through here, so a test takes the path the binary takes.
pub fn call(
    effect: Effect,
    source: Arc<dyn FleetSource>,
    clock: Clock,
) -> Result<Pending, Box<Effect>> {
    Ok(match effect {
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
                source.rows(&q).await
            };
            pending(call, move |result| {
                tracing::debug!(query = ?query, ok = result.is_ok(), "poll finished");
                let at = clock();
                match result {
                    Ok(crate::source::Rows::Listed(arns)) => Action::Listed {
                        query,
                        seq,
                        at,
                        arns,
                    },
                    Ok(crate::source::Rows::Whole(snapshot)) => Action::Loaded {
                        query,
                        seq,
                        at,
                        fingerprint: snapshot.fingerprint(),
                        result: Ok(snapshot),
                    },
                    Err(e) => Action::Loaded {
                        query,
                        seq,
                        at,
                        result: Err(e),
                        fingerprint: None,
                    },
                }
            })
        }
        Effect::Describe { query, seq, arns } => {
            let (q, a) = (query.clone(), arns.clone());
            let call = async move { source.describe(&q, &a).await };
            pending(call, move |result| Action::Described {
                query,
                seq,
                arns,
                at: clock(),
                result,
            })
        }
        Effect::FetchIdentity => pending(
            async move { source.identity().await },
            Action::IdentityLoaded,
        ),
        Effect::FetchMetrics { request, seq } => {
            let r = request.clone();
            pending(async move { source.metric_data(&r).await }, move |result| {
                Action::MetricsLoaded {
                    request,
                    seq,
                    at: clock(),
                    result,
                }
            })
        }
        // Answered at once: the loop takes the keys that came meanwhile first.
        Effect::MergeMetrics { seq } => {
            pending(async { Ok(()) }, move |_: Result<(), SourceError>| {
                Action::MetricsMerge { seq }
            })
        }
        // Answered at once too.
        Effect::ReadCells => pending(async { Ok(()) }, |_: Result<(), SourceError>| {
            Action::CellsRead
        }),
        Effect::FetchAlarms => pending(async move { source.alarms().await }, move |result| {
            Action::AlarmsLoaded {
                at: clock(),
                result,
            }
        }),
        Effect::ResolveLogs { id, subject } => pending(
            async move { Ok(crate::source::logs::resolve(&*source, &subject).await) },
            move |result| Action::LogsResolved {
                id,
                result: result.unwrap_or_else(|e| Err(e.message)),
            },
        ),
        Effect::ReadLogs { id, streams, read } => {
            let (r, now) = (read.clone(), clock());
            pending(
                async move { crate::source::logs::read(&*source, &streams, &r, now).await },
                move |result| Action::LogsRead { id, read, result },
            )
        }
        Effect::Perform(op) => {
            let o = op.clone();
            pending(async move { source.apply(&o).await }, move |result| {
                Action::Performed { op, result }
            })
        }
        Effect::OpenSession(op) => {
            let o = op.clone();
            pending(
                async move { Ok(crate::source::session::prepare(&*source, &o).await) },
                move |result| Action::SessionReady {
                    op,
                    result: result.unwrap_or_else(|e| Err(e.message)),
                },
            )
        }
        Effect::FetchScalingBounds {
            cluster,
            service,
            service_arn,
        } => pending(
            async move { source.scaling_bounds(&cluster, &service).await },
            move |result| Action::ScalingLoaded {
                service_arn,
                result,
            },
        ),
        Effect::FetchTargetHealth {
            service_arn,
            target_groups,
        }
        | Effect::TriageTargetHealth {
            service_arn,
            target_groups,
        } => pending(
            async move { source.target_health(&target_groups).await },
            move |result| Action::TargetHealthLoaded {
                service_arn,
                at: clock(),
                result,
            },
        ),
        Effect::ScanLogs { cluster, service } => {
            let (c, s, now) = (cluster.clone(), service.clone(), clock());
            pending(
                async move {
                    Ok::<_, SourceError>(crate::source::logs::scan(&*source, &c, &s, now).await)
                },
                move |result| Action::LogsScanned {
                    cluster,
                    service,
                    result: result.map_err(|e| e.message).and_then(|r| r),
                },
            )
        }
        Effect::FetchTaskDefinition { arn } => {
            let key = arn.clone();
            pending(
                async move { source.task_definition(&key).await },
                move |result| Action::TaskDefinitionLoaded { arn, result },
            )
        }
        Effect::LoadRevisions { family } => {
            let f = family.clone();
            pending(
                async move { source.task_definition_revisions(&f).await },
                move |result| Action::RevisionsLoaded { family, result },
            )
        }
        Effect::Evaluate(handed) => {
            let id = handed.id;
            let run = move || handed.take().map(crate::state::EngineJob::run);
            pending(blocking(run), move |result| Action::Evaluated {
                id,
                result: match result {
                    Ok(Some(evaluated)) => Ok(Box::new(evaluated)),
                    // A copy of the effect run again: its job went with the first.
                    Ok(None) => Err("the job was already evaluated".into()),
                    Err(e) => Err(e.message),
                },
            })
        }
        Effect::ShowStats => pending(async move { Ok(source.stats()) }, |result| {
            Action::StatsLoaded(result.unwrap_or_default())
        }),
        Effect::LoadProfiles => pending(
            async move { Ok(crate::source::aws::profile_names().await) },
            |result| Action::ProfilesLoaded(result.unwrap_or_default()),
        ),
        other => return Err(Box::new(other)),
    })
}

/// A call and how its result (or its panic, as an error) becomes an action.
fn pending<T, F>(
    call: F,
    answer: impl FnOnce(Result<T, SourceError>) -> Action + Clone + Send + 'static,
) -> Pending
where
    T: Send + 'static,
    F: Future<Output = Result<T, SourceError>> + Send + 'static,
{
    let on_crash = answer.clone();
    Pending {
        answer: Box::pin(async move { answer(call.await) }),
        on_crash: Box::new(move |e| on_crash(Err(e))),
    }
}

/// CPU-bound work on tokio's blocking threads (never on the loop that answers keys); in
/// place when there is no runtime (a test's tiny executor).
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, SourceError> {
    match tokio::runtime::Handle::try_current() {
        Ok(_) => tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| SourceError::new(ErrorKind::Service, join_error_message(e))),
        Err(_) => Ok(work()),
    }
}

impl Effects {
    /// Starts an effect as a tokio task whose result comes back as an action.
    pub fn start(&mut self, effect: Effect, tx: &mpsc::UnboundedSender<Action>) {
        let source = Arc::clone(&self.source);
        // Answers are stamped with the source's time (a replayed incident runs faster).
        let clock = Arc::clone(&self.source);
        let effect = match call(effect, Arc::clone(&source), Arc::new(move || clock.now())) {
            Ok(pending) => return guarded(tx.clone(), pending),
            Err(effect) => *effect,
        };
        let tx = tx.clone();
        match effect {
            Effect::StartLiveTail { id, streams } => {
                let follow = follow(source, id, streams, tx.clone());
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
            Effect::HandOff { .. } | Effect::Quit | Effect::Suspend => {}
            Effect::ConnectContext {
                wanted,
                endpoint_url,
            } => {
                tokio::spawn(async move {
                    let endpoint = endpoint_url.as_deref();
                    let connected = crate::source::aws::connect_context(&wanted, endpoint).await;
                    let (context, source): (crate::model::Context, Arc<dyn FleetSource>) =
                        match connected {
                            Ok(c) => (c.context, Arc::new(c.source)),
                            // It joins all the same, answering every call with the reason.
                            Err(e) => (
                                crate::model::Context::new(
                                    wanted.profile.as_deref(),
                                    wanted.region.as_deref().unwrap_or("its region"),
                                ),
                                Arc::new(crate::source::Unavailable(e)),
                            ),
                        };
                    let settings = crate::source::aws::AwsSettings::for_context(&wanted, endpoint);
                    let _ = tx.send(Action::ContextConnected {
                        context,
                        source: SharedSource(source),
                        settings: Some(settings),
                    });
                });
            }
            // The runtime routes these to a context's effects before they get here.
            Effect::In { .. } | Effect::FleetCommand(_) => {
                tracing::warn!("a fleet view effect reached the effects runner: dropped");
            }
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
            // Answered through `call`.
            answered_by_call!() => {}
        }
    }
}

/// Runs a call as its own task and sends its answer as an action. A panicking call becomes
/// an error on its pane (and is retried), never a dead console.
fn guarded(tx: mpsc::UnboundedSender<Action>, pending: Pending) {
    let Pending { answer, on_crash } = pending;
    tokio::spawn(async move {
        let action = match tokio::spawn(answer).await {
            Ok(action) => action,
            Err(e) => on_crash(crashed(e)),
        };
        let _ = tx.send(action);
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

/// Follows a pane's streams with Live Tail, sending batches as actions, until the session
/// ends or the pane closes (the runtime aborts this task). Any failure sends `LiveTailEnded`
/// with the reason, and the pane falls back to polling.
async fn follow(
    source: Arc<dyn FleetSource>,
    id: u64,
    streams: Vec<crate::model::LogStreamRef>,
    tx: mpsc::UnboundedSender<Action>,
) {
    use futures::StreamExt;

    let mut tail = match crate::source::logs::open_tail(&*source, &streams).await {
        Ok(tail) => tail,
        Err(why) => {
            let _ = tx.send(Action::LiveTailEnded {
                id,
                error: Some(why),
            });
            return;
        }
    };
    let _ = tx.send(Action::LiveTailStarted { id });
    loop {
        let item = tail.next().await;
        let ended = !matches!(item, Some(Ok(_)));
        if let Some(action) = tail_item(id, item)
            && tx.send(action).is_err()
        {
            return;
        }
        if ended {
            return;
        }
    }
}

/// What one item of a Live Tail session means to the console: a batch of lines (none for an
/// empty batch), or its end — with the reason when it failed. The runtime and the test kit
/// both hand a session over through here.
pub fn tail_item(
    id: u64,
    item: Option<Result<Vec<crate::model::LogEvent>, SourceError>>,
) -> Option<Action> {
    match item {
        Some(Ok(events)) if events.is_empty() => None,
        Some(Ok(events)) => Some(Action::LiveTailEvents { id, events }),
        Some(Err(e)) => Some(Action::LiveTailEnded {
            id,
            error: Some(e.message),
        }),
        None => Some(Action::LiveTailEnded { id, error: None }),
    }
}
