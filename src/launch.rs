//! From parsed flags to a running console: configuration, logging, the data source, the
//! terminal. Errors in what the user gave us (bad config, unknown scenario) are `Usage` errors
//! and exit with status 2 before the terminal is touched.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::app::App;
use crate::cli::Cli;
use crate::config::{self, Config};
use crate::keymap::KeyMap;
use crate::model::{Context, ErrorKind, Identity, WantedContext};
use crate::source::aws::{self, AwsSettings};
use crate::source::demo::{DemoClock, DemoSource};
use crate::source::{FleetSource, SourceError, Unavailable};
use crate::state::{Member, Pane, State, View};
use crate::theme::Theme;
use crate::tui::{self, Tui};

pub enum LaunchError {
    /// Something the user can fix: printed as is, exit status 2.
    Usage(String),
    Runtime(color_eyre::Report),
}

impl<E: Into<color_eyre::Report>> From<E> for LaunchError {
    fn from(e: E) -> Self {
        LaunchError::Runtime(e.into())
    }
}

/// Everything loaded from files and flags, before the terminal is taken over.
pub struct Settings {
    pub config: Config,
    pub keymap: KeyMap,
    pub theme: Theme,
}

pub fn load_settings(cli: &Cli) -> Result<Settings, LaunchError> {
    let dir = config::config_dir();
    let usage = |e: config::ConfigError| LaunchError::Usage(e.to_string());
    let mut config = Config::load(cli.config.as_deref(), dir.as_deref()).map_err(usage)?;
    if let Some(secs) = cli.refresh {
        config.refresh.focused = Duration::from_secs(secs);
    }
    let keymap =
        KeyMap::load(dir.as_ref().map(|d| d.join("keymap.toml")).as_deref()).map_err(usage)?;
    let theme_name = cli.theme.clone().unwrap_or_else(|| config.theme.clone());
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = Theme::load(&theme_name, dir.as_deref(), no_color).map_err(usage)?;
    Ok(Settings {
        config,
        keymap,
        theme,
    })
}

/// What the console and the headless commands (`findings`, `watch`, `report`) start from: the
/// settings, ecsmon's log, the runtime, the data source and the state before the first poll.
pub struct Prepared {
    pub settings: Settings,
    /// Flushes the log when dropped: keep it until the end.
    pub log_guard: Option<tracing_appender::non_blocking::WorkerGuard>,
    pub runtime: tokio::runtime::Runtime,
    /// With several contexts (the fleet view), a source that asks nothing: each context's is
    /// in `members`.
    pub source: Arc<dyn FleetSource>,
    /// The fleet view's contexts' sources, `state.members` in the same order; empty with one.
    pub members: Vec<Arc<dyn FleetSource>>,
    pub state: State,
}

/// Settings, logging, the runtime, the source and the starting state, from the flags. `size`
/// is the terminal's (the headless commands have none and pass any).
pub fn prepare(cli: &Cli, size: (u16, u16)) -> Result<Prepared, LaunchError> {
    let settings = load_settings(cli)?;
    let log_guard = init_logging(cli.log_file.clone())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let session = audit_session();
    let base = |source: &dyn FleetSource, aws: Option<AwsSettings>| {
        let mut state = State::new(
            Identity::default(),
            source.now(),
            settings.config.refresh,
            size,
        );
        state.read_only = cli.read_only;
        state.in_flight.session = session.clone();
        state.aws = aws;
        state.mouse = settings.config.mouse;
        state.stopped_window = settings.config.stopped_tasks_window;
        state.log_cap = settings.config.log_lines;
        state.exec_shell = settings.config.exec_shell.clone();
        state.confirm_exec = settings.config.confirm_exec;
        state
    };
    let (source, state, members) = match make_sources(cli, &settings.config, &runtime)? {
        Sources::One(source, aws) => {
            let mut state = base(&*source, aws);
            if let Some(cluster) = &cli.cluster {
                state.nav = vec![
                    View::new(Pane::Clusters).with_selected_key(Some(cluster.clone())),
                    View::new(Pane::Services {
                        cluster: cluster.clone(),
                    }),
                ];
            }
            (source, state, Vec::new())
        }
        Sources::Many(_) if cli.cluster.is_some() && cli.command.is_none() => {
            return Err(LaunchError::Usage(
                "--cluster opens one context's cluster: with several contexts, find it in the \
                 fleet view's clusters (/NAME)"
                    .into(),
            ));
        }
        Sources::Many(contexts) => {
            let source: Arc<dyn FleetSource> = Arc::new(Unavailable(SourceError::new(
                ErrorKind::Service,
                "the fleet view asks its contexts, not a source of its own",
            )));
            let mut state = base(&*source, None);
            state.identity.source = format!("fleet view: {} contexts", contexts.len());
            let mut members = Vec::new();
            for c in contexts {
                let mut member = base(&*c.source, c.aws);
                member.fleet_member = true;
                state.members.push(Member::new(c.context, member));
                members.push(c.source);
            }
            (source, state, members)
        }
    };
    Ok(Prepared {
        settings,
        log_guard,
        runtime,
        source,
        members,
        state,
    })
}

pub fn run(cli: Cli) -> Result<(), LaunchError> {
    let size = crossterm::terminal::size().unwrap_or((80, 24));
    let Prepared {
        settings,
        log_guard: _log_guard,
        runtime,
        source,
        members,
        state,
    } = prepare(&cli, size)?;
    color_eyre::install()?;
    tui::install_panic_hook();
    tracing::info!(demo = ?cli.demo, read_only = cli.read_only, "starting");

    let forwards = crate::source::forward::ForwardRunner::new();
    let app = App {
        state,
        keymap: settings.keymap,
        theme: settings.theme,
        effects: crate::app::Effects {
            source,
            tails: Default::default(),
            forwards: Arc::clone(&forwards),
            audit_log: crate::source::audit::default_path(),
        },
        members: members
            .into_iter()
            .map(|source| crate::app::Effects {
                source,
                tails: Default::default(),
                forwards: Arc::clone(&forwards),
                audit_log: crate::source::audit::default_path(),
            })
            .collect(),
    };
    let mut tui = Tui::new(settings.config.mouse)?;
    tui.enter()?;
    let result = runtime.block_on(app.run(&mut tui));
    let exited = tui.exit();
    // Whatever ended the loop (quit, a signal, an error), no port forward outlives ecsmon: each
    // plugin is ended and its SSM session terminated.
    tracing::info!(live = forwards.live(), "stopping the port forwards");
    let stopped = runtime.block_on(forwards.shutdown());
    tracing::info!(stopped, "port forwards stopped");
    if stopped > 0 {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "ecsmon: stopped {stopped} port forward{}",
            if stopped == 1 { "" } else { "s" }
        );
    }
    // Changes sent whose answer never came (the wait on quitting ran out): said once the
    // terminal is the shell's again, with how to check each.
    if let Ok(unanswered) = &result {
        use std::io::Write;
        for line in unanswered {
            tracing::warn!("{line}");
            let _ = writeln!(std::io::stderr(), "{line}");
        }
    }
    exited?;
    // Pollers may be waiting on slow networks; don't let them hold the exit.
    runtime.shutdown_timeout(Duration::from_millis(200));
    tracing::info!("stopped");
    result.map(drop).map_err(LaunchError::Runtime)
}

/// This console's part of its audit ids (`<start time>.<pid>` in hex), so two consoles writing
/// the same audit log never pair each other's lines.
fn audit_session() -> String {
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    format!("{started:x}.{:x}", std::process::id())
}

/// One context's source (today's console), or several: the fleet view.
enum Sources {
    One(Arc<dyn FleetSource>, Option<AwsSettings>),
    Many(Vec<ContextSource>),
}

/// One context of the fleet view: where, its source, and its AWS settings (none on the demo).
struct ContextSource {
    context: Context,
    source: Arc<dyn FleetSource>,
    aws: Option<AwsSettings>,
}

fn make_sources(
    cli: &Cli,
    config: &Config,
    runtime: &tokio::runtime::Runtime,
) -> Result<Sources, LaunchError> {
    if let Some(scenario) = &cli.demo {
        return demo_sources(cli, scenario);
    }
    let wanted = wanted_contexts(cli, config)?;
    let endpoint = cli.endpoint_url.as_deref();
    if let [one] = &wanted[..] {
        let settings = AwsSettings::for_context(one, endpoint);
        let source = runtime.block_on(aws_source(settings.clone()));
        return Ok(Sources::One(source, Some(settings)));
    }
    let connected = runtime.block_on(aws::connect_contexts(&wanted, endpoint));
    let contexts = wanted
        .iter()
        .zip(connected)
        .map(|(w, connected)| {
            let aws = Some(AwsSettings::for_context(w, endpoint));
            match connected {
                Ok(c) => ContextSource {
                    context: c.context,
                    source: Arc::new(c.source),
                    aws,
                },
                // It stays on screen, failing with the reason, while the others answer.
                Err(e) => ContextSource {
                    context: Context::new(
                        w.profile.as_deref(),
                        w.region.as_deref().unwrap_or("its region"),
                    ),
                    source: Arc::new(Unavailable(e)),
                    aws,
                },
            }
        })
        .collect();
    Ok(Sources::Many(contexts))
}

/// The contexts the flags (or `--contexts NAME`) ask for. A set overrides `AWS_PROFILE` and
/// `AWS_REGION`, which clap reads as the flags: values that are only the environment's are
/// left out when a set is named.
fn wanted_contexts(cli: &Cli, config: &Config) -> Result<Vec<WantedContext>, LaunchError> {
    let from_env = |values: &[String], var: &str| {
        cli.contexts.is_some()
            && values.len() == 1
            && std::env::var(var).ok().as_deref() == Some(values[0].as_str())
    };
    let profiles: &[String] = if from_env(&cli.profile, "AWS_PROFILE") {
        &[]
    } else {
        &cli.profile
    };
    let regions: &[String] = if from_env(&cli.region, "AWS_REGION") {
        &[]
    } else {
        &cli.region
    };
    let asked = crate::contexts::Asked {
        profiles,
        regions,
        set: cli.contexts.as_deref(),
    };
    crate::contexts::resolve(asked, &config.contexts).map_err(LaunchError::Usage)
}

fn demo_sources(cli: &Cli, scenario: &str) -> Result<Sources, LaunchError> {
    let now = chrono::Utc::now();
    if scenario == "org" {
        let contexts = DemoSource::org(cli.seed, now, DemoClock::System)
            .into_iter()
            .map(|m| ContextSource {
                context: m.context,
                source: Arc::new(m.source),
                aws: None,
            })
            .collect();
        return Ok(Sources::Many(contexts));
    }
    // A replayed incident runs on compressed time from the moment it opens.
    let clock = match DemoSource::replay_ratio(scenario) {
        Some(ratio) => DemoClock::Scaled { origin: now, ratio },
        None => DemoClock::System,
    };
    let source = DemoSource::new(scenario, cli.seed, now, clock).map_err(|e| {
        // `ecsmon --demo findings`: the command was taken for the scenario.
        let command = <Cli as clap::CommandFactory>::command();
        match command.find_subcommand(scenario) {
            Some(_) => LaunchError::Usage(format!(
                "{e} (for the command, put it first: ecsmon {scenario} --demo)"
            )),
            None => LaunchError::Usage(e),
        }
    })?;
    Ok(Sources::One(Arc::new(source), None))
}

/// The AWS source for these settings; when even that cannot be built (no region), a source
/// that answers every call with the reason, so the console opens and says what is wrong.
pub async fn aws_source(settings: AwsSettings) -> Arc<dyn FleetSource> {
    match aws::connect(settings).await {
        Ok(source) => Arc::new(source),
        Err(e) => Arc::new(Unavailable(e)),
    }
}

/// Logs go to a file (the terminal belongs to the UI): `--log-file`, or `ecsmon.log` in the
/// state directory; private, size-capped and rotated ([`crate::files::rotating_log`]). Level from `ECSMON_LOG` (error, warn, info, debug, trace; default info).
fn init_logging(
    path: Option<PathBuf>,
) -> Result<Option<tracing_appender::non_blocking::WorkerGuard>, LaunchError> {
    let path = match path.or_else(|| config::state_dir().map(|d| d.join("ecsmon.log"))) {
        Some(p) => p,
        None => return Ok(None),
    };
    let file = crate::files::rotating_log(&path)
        .map_err(|e| LaunchError::Usage(format!("cannot open log file {}: {e}", path.display())))?;
    let level = std::env::var("ECSMON_LOG")
        .ok()
        .and_then(|l| l.parse::<tracing::Level>().ok())
        .unwrap_or(tracing::Level::INFO);
    let (writer, guard) = tracing_appender::non_blocking(file);
    // ecsmon at the chosen level; the SDK and HTTP stack never below info: at debug/trace they
    // log request and response bodies, and SSM StartSession's carries the session token.
    let quiet = level.min(tracing::Level::INFO);
    let filter = tracing_subscriber::filter::Targets::new()
        .with_default(level)
        .with_target("aws_smithy_runtime", quiet)
        .with_target("aws_smithy_runtime_api", quiet)
        .with_target("aws_smithy_http_client", quiet)
        .with_target("aws_sdk_ssm", quiet)
        .with_target("aws_sdk_ecs", quiet)
        .with_target("aws_config", quiet)
        .with_target("hyper", quiet)
        .with_target("hyper_util", quiet)
        .with_target("rustls", quiet);
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(false),
        )
        .init();
    Ok(Some(guard))
}
