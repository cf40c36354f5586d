//! The engine without a terminal: `ecsmon findings`, `ecsmon watch` and `ecsmon report` run the
//! console's sources, pollers, `update` and rules, and the runtime's effect runner
//! ([`crate::app::Effects`]), with no terminal, no keys and no drawing. One file per command;
//! [`gather`] is the "one complete picture" that `findings` and `report` wait for. `ecsmon
//! rules` prints the triage catalog and starts nothing.
//!
//! Several contexts (`--profile a,b --region x,y`, `--contexts NAME`, `--demo org`) run an
//! engine each, side by side on the runtime, each with its context's own console state and
//! source (as the fleet view's); the commands merge what they say, labelled with each
//! context's title ([`crate::model::Context::title`]). One context's output is today's.

mod findings;
pub mod gather;
mod print;
mod report;
mod rules;
mod watch;

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::action::{Action, Effect};
use crate::app::Effects;
use crate::cli::{Cli, Command};
use crate::keymap::KeyMap;
use crate::launch::{self, LaunchError, Prepared};
use crate::model::Context;
use crate::source::FleetSource;
use crate::state::State;
use crate::update::update;

pub use gather::{Answer, Request};

/// Exit status of a command that ran to its end: 0, or 1 for `findings` that found enough.
pub type Status = u8;

/// Runs a subcommand. `Usage` errors (bad flags, config) and `Runtime` errors (what never
/// answered, a source failing) both mean exit status 2.
pub fn run(cli: Cli, command: Command) -> Result<Status, LaunchError> {
    let at = match &command {
        Command::Findings { at, .. } | Command::Report { at, .. } => at.at,
        Command::Watch { .. } => None,
        // The catalog needs no source, no fleet and no runtime.
        &Command::Rules { json, markdown } => return rules::run(json, markdown),
    };
    let replay = cli
        .demo
        .as_deref()
        .is_some_and(|s| crate::source::demo::DemoSource::replay_ratio(s).is_some());
    if at.is_some() && !replay {
        return Err(LaunchError::Usage(
            "--at needs a replayed incident (--demo memory-leak, bad-deploy, …)".into(),
        ));
    }
    let at = at.map(|secs| chrono::TimeDelta::seconds(secs as i64));
    // Only the size of the console's panes depends on it; nothing is drawn.
    let Prepared {
        settings,
        log_guard: _log_guard,
        runtime,
        source,
        members,
        mut state,
    } = launch::prepare(&cli, (120, 40))?;
    // Only that cluster is polled and judged, not only printed; nothing is drawn, so no pane
    // opens on it (the console's `--cluster` opens its services).
    let only = |state: &mut State| {
        state.only_cluster = cli.cluster.clone();
        state.nav = vec![crate::state::View::new(crate::state::Pane::Clusters)];
    };
    tracing::info!(demo = ?cli.demo, command = ?command, contexts = members.len(), "starting without a terminal");
    let cluster = cli.cluster.clone();
    let result = runtime.block_on(async move {
        // Several contexts: an engine each, with its own console state and source.
        let engines: Vec<Engine> = if members.is_empty() {
            only(&mut state);
            vec![Engine::new(state, settings.keymap, source)]
        } else {
            state
                .members
                .into_iter()
                .zip(members)
                .map(|(mut member, source)| {
                    only(&mut member.state);
                    Engine::new(member.state, settings.keymap.clone(), source)
                        .in_context(member.context)
                })
                .collect()
        };
        match command {
            Command::Findings { json, fail_on, .. } => {
                findings::run(engines, cluster.as_deref(), json, fail_on, at).await
            }
            Command::Watch { json } => watch::run(engines, cluster.as_deref(), json).await,
            Command::Report { output, .. } => {
                report::run(engines, cluster.as_deref(), output, at).await
            }
            Command::Rules { .. } => unreachable!("answered before the engine starts"),
        }
    });
    // Pollers may be waiting on slow networks; don't let them hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    tracing::info!(status = ?result.as_ref().ok(), "stopped");
    result
}

/// What a command hears of each step of the loop: the answers applied (after `update` took
/// them) and the requests sent.
pub trait Observer {
    fn answered(&mut self, _state: &State, _answer: &Answer) {}
    fn asked(&mut self, _requests: Vec<Request>) {}
    /// Whether it wants the requests sent (naming them costs a string per metric series).
    fn wants_requests(&self) -> bool {
        true
    }
}

/// Watching nothing.
impl Observer for () {
    fn wants_requests(&self) -> bool {
        false
    }
}

/// The console's loop without its terminal: actions in, `update`, effects out to the runner.
pub struct Engine {
    pub state: State,
    /// The context it looks at when it is one of several (`--profile a,b`, `--demo org`): what
    /// it says is labelled with it. `None` alone: today's output, unlabelled.
    pub context: Option<Context>,
    keymap: KeyMap,
    effects: Effects,
    tx: mpsc::UnboundedSender<Action>,
    rx: mpsc::UnboundedReceiver<Action>,
    tick: tokio::time::Interval,
}

impl Engine {
    /// Must be called inside the runtime (the tick is a tokio timer).
    pub fn new(state: State, keymap: KeyMap, source: Arc<dyn FleetSource>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut tick = tokio::time::interval(source.tick());
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        Engine {
            state,
            context: None,
            keymap,
            effects: Effects {
                source,
                tails: Default::default(),
                forwards: Default::default(),
                // Nothing here changes the fleet: there is nothing to audit.
                audit_log: None,
            },
            tx,
            rx,
            tick,
        }
    }

    /// One of several contexts' engines: what it says is labelled with `context`.
    pub fn in_context(mut self, context: Context) -> Self {
        self.context = Some(context);
        self
    }

    /// Its context's title (`prod · 123456789012 · eu-west-1` once STS has answered), when it
    /// is one of several.
    pub fn title(&self) -> Option<String> {
        let account = &self.state.identity.account;
        self.context.as_ref().map(|c| c.title(Some(account)))
    }

    /// The first step, as the console's: who we are, and the clock (which schedules the polls).
    pub fn begin(&mut self, observer: &mut impl Observer) {
        self.start(Effect::FetchIdentity, observer);
        let now = self.effects.source.now();
        self.apply(Action::Tick(now), observer);
    }

    /// Waits for the next answer or tick, then applies it and everything else already queued.
    /// Cancel-safe: nothing is lost when another branch of a `select!` wins.
    pub async fn step(&mut self, observer: &mut impl Observer) {
        let first = tokio::select! {
            Some(action) = self.rx.recv() => action,
            _ = self.tick.tick() => Action::Tick(self.effects.source.now()),
        };
        self.apply(first, observer);
        while let Ok(action) = self.rx.try_recv() {
            self.apply(action, observer);
        }
    }

    fn apply(&mut self, action: Action, observer: &mut impl Observer) {
        if let Action::SourceChanged { source, .. } = &action {
            self.effects.source = Arc::clone(&source.0);
        }
        let answer = gather::answer(&action);
        let effects = update(&mut self.state, action, &self.keymap);
        if let Some(answer) = answer {
            observer.answered(&self.state, &answer);
        }
        for effect in effects {
            self.start(effect, observer);
        }
    }

    fn start(&mut self, effect: Effect, observer: &mut impl Observer) {
        if observer.wants_requests() {
            observer.asked(gather::requests(&effect));
        }
        // Suspending and handing the terminal to a shell come only from keys: never here.
        self.effects.start(effect, &self.tx);
    }

    /// One complete picture (see [`gather`]), at `at` of a replayed incident's time when
    /// given, then one more evaluation of every rule over it.
    pub async fn look(&mut self, at: Option<chrono::TimeDelta>) -> Result<(), LaunchError> {
        let started = self.state.now;
        gather::gather(self).await?;
        self.cluster_exists()?;
        self.settle(started, at).await;
        Ok(())
    }

    /// After a complete picture gathered from `started`: on to `at` of a replayed incident's
    /// time when given, then one more evaluation of every rule.
    pub async fn settle(&mut self, started: crate::model::Time, at: Option<chrono::TimeDelta>) {
        if let Some(at) = at {
            gather::run_until(self, started, at).await;
        }
        crate::update::triage::evaluate(&mut self.state);
    }
}

impl Engine {
    /// `--cluster NAME` names a cluster the account has, once the clusters list has answered
    /// (else a usage error listing those it has: a typo must not read as "no findings").
    pub fn cluster_exists(&self) -> Result<(), LaunchError> {
        let Some(wanted) = &self.state.only_cluster else {
            return Ok(());
        };
        match self.clusters_listed() {
            Some(names) if !names.contains(&wanted.as_str()) => Err(LaunchError::Usage(format!(
                "no cluster named {wanted:?} here (clusters: {})",
                names_or_none(&names)
            ))),
            _ => Ok(()),
        }
    }

    /// The names of its clusters, once the clusters list has answered.
    pub fn clusters_listed(&self) -> Option<Vec<&str>> {
        let loaded = self
            .state
            .fleet
            .slot(&crate::model::Query::Clusters)
            .is_some_and(|s| s.data.is_some());
        let clusters = self.state.fleet.clusters();
        loaded.then(|| clusters.iter().map(|c| c.name.as_str()).collect())
    }

    /// Whether `--cluster NAME` leaves anything of it to say: no cluster asked, its clusters
    /// not listed yet, or the cluster among them.
    pub fn may_have(&self, cluster: Option<&str>) -> bool {
        cluster.is_none_or(|c| {
            self.clusters_listed()
                .is_none_or(|names| names.contains(&c))
        })
    }
}

/// Cluster names for a message: `a, b`, or `none`.
fn names_or_none(names: &[&str]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

/// `--cluster NAME` over several contexts is that cluster in whichever contexts have it: an
/// error (a typo must not read as "no findings") only once every context has listed its
/// clusters and none has it. With one context, as [`Engine::cluster_exists`].
pub fn cluster_somewhere<'a>(
    engines: impl IntoIterator<Item = &'a Engine>,
) -> Result<(), LaunchError> {
    let engines: Vec<&Engine> = engines.into_iter().collect();
    let [first, ..] = engines[..] else {
        return Ok(());
    };
    if first.context.is_none() {
        return first.cluster_exists();
    }
    let Some(wanted) = &first.state.only_cluster else {
        return Ok(());
    };
    let mut have = Vec::new();
    for engine in engines {
        let Some(names) = engine.clusters_listed() else {
            return Ok(());
        };
        if names.contains(&wanted.as_str()) {
            return Ok(());
        }
        let title = engine.title().unwrap_or_default();
        have.push(format!("{title}: {}", names_or_none(&names)));
    }
    Err(LaunchError::Usage(format!(
        "no cluster named {wanted:?} in any context (clusters: {})",
        have.join("; ")
    )))
}

/// Each engine's complete picture (see [`Engine::look`]), side by side. One engine alone fails
/// the command as ever; of several, a context that cannot look (expired credentials, denied,
/// unreachable) is `Err` with its reason in words at its place, and the others still answer.
pub async fn look_all(
    engines: &mut [Engine],
    at: Option<chrono::TimeDelta>,
) -> Result<Vec<Result<(), String>>, LaunchError> {
    if let [one] = engines
        && one.context.is_none()
    {
        one.look(at).await?;
        return Ok(vec![Ok(())]);
    }
    let gathered = futures::future::join_all(engines.iter_mut().map(|engine| async move {
        let started = engine.state.now;
        gather::gather(engine).await.map_err(|e| words(&e))?;
        Ok::<_, String>(started)
    }))
    .await;
    cluster_somewhere(engines.iter())?;
    let settled = engines
        .iter_mut()
        .zip(gathered)
        .map(|(engine, gathered)| async move {
            engine.settle(gathered?, at).await;
            Ok(())
        });
    Ok(futures::future::join_all(settled).await)
}

/// An error in the words `main` would print it with.
fn words(e: &LaunchError) -> String {
    match e {
        LaunchError::Usage(message) => message.clone(),
        LaunchError::Runtime(report) => format!("{report:#}"),
    }
}

/// The command's error when some contexts could not look (exit status 2, after what the
/// others said): which, and why. With `--cluster NAME`, only those that may have it count.
fn not_read(
    engines: &[Engine],
    looked: &[Result<(), String>],
    cluster: Option<&str>,
) -> Result<(), LaunchError> {
    let failed: Vec<String> = engines
        .iter()
        .zip(looked)
        .filter(|(engine, _)| engine.may_have(cluster))
        .filter_map(|(engine, looked)| {
            let why = looked.as_ref().err()?;
            Some(format!("{}: {why}", engine.title().unwrap_or_default()))
        })
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(LaunchError::Runtime(color_eyre::eyre::eyre!(
        "could not look at {} of {} contexts: {}",
        failed.len(),
        engines.len(),
        failed.join("; ")
    )))
}

#[cfg(test)]
mod tests;
