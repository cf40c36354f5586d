//! Everything that can happen to the console, and everything it can ask the runtime to do.
//!
//! `Action`s flow in (keys, data arrivals, ticks); `update` turns them into state changes and
//! `Effect`s, which the runtime (or a test harness) carries out and answers with more actions.

use crossterm::event::{KeyEvent, MouseEvent};

use crate::model::{
    Alarm, Identity, LogEvent, LogStreamRef, MetricRequest, Operation, Query, ScalingBounds,
    SeriesData, SessionHandoff, TargetGroupHealth, Time,
};
use crate::model::{LogRead, LogSubject, Snapshot};
use crate::source::audit::AuditRecord;
use crate::source::aws::AwsSettings;
use crate::source::{CallReport, SharedSource, SourceError};

#[derive(Debug, Clone)]
pub enum Action {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Paste(String),
    Resize {
        width: u16,
        height: u16,
    },
    /// The clock moved: ages change, polls fall due.
    Tick(Time),
    IdentityLoaded(Result<Identity, SourceError>),
    /// A poller finished. `seq` orders requests for the same query: older answers lose.
    Loaded {
        query: Query,
        seq: u64,
        at: Time,
        result: Result<Snapshot, SourceError>,
        /// [`Snapshot::fingerprint`] of a big answer, made by the poller off the UI loop.
        fingerprint: Option<crate::model::Fingerprint>,
    },
    /// A poll answered with only its rows' ARNs (a big cluster's services, tasks or container
    /// instances, listed): the rows show at once, marked as loading, and `Effect::Describe`s
    /// fill them in.
    Listed {
        query: Query,
        seq: u64,
        at: Time,
        arns: Vec<String>,
    },
    /// Details of some rows of a listed pane (`seq`: the listing they belong to), as rows of
    /// the pane's kind (`Snapshot::Services`, `Tasks` or `Instances`).
    Described {
        query: Query,
        seq: u64,
        arns: Vec<String>,
        at: Time,
        result: Result<Snapshot, SourceError>,
    },
    /// A metrics request answered (`seq` as in `Effect::FetchMetrics`).
    MetricsLoaded {
        request: MetricRequest,
        seq: u64,
        at: Time,
        result: Result<Vec<SeriesData>, SourceError>,
    },
    /// The next slice of a big metrics answer is to be merged (`Effect::MergeMetrics`).
    MetricsMerge {
        seq: u64,
    },
    /// The next slice of the focused view's cells is to be read (`Effect::ReadCells`).
    CellsRead,
    AlarmsLoaded {
        at: Time,
        result: Result<Vec<Alarm>, SourceError>,
    },
    /// The streams of a log pane's subject, or why there are none.
    LogsResolved {
        id: u64,
        result: Result<Vec<LogStreamRef>, String>,
    },
    /// A read for a log pane answered.
    LogsRead {
        id: u64,
        read: LogRead,
        result: Result<Vec<LogEvent>, SourceError>,
    },
    /// Live Tail is streaming for this pane.
    LiveTailStarted {
        id: u64,
    },
    LiveTailEvents {
        id: u64,
        events: Vec<LogEvent>,
    },
    /// The Live Tail session ended (`error`: it failed or never started): poll instead.
    LiveTailEnded {
        id: u64,
        error: Option<String>,
    },
    /// `S` wrote (or failed to write) the log buffer: `result` is where it went, another name
    /// when `path` was taken.
    FileSaved {
        path: std::path::PathBuf,
        result: Result<std::path::PathBuf, String>,
    },
    /// A confirmed operation was carried out (or failed).
    Performed {
        op: Operation,
        result: Result<String, SourceError>,
    },
    /// The session for ECS Exec or an instance shell is open (or why not): hand over next.
    SessionReady {
        op: Operation,
        result: Result<SessionHandoff, String>,
    },
    /// session-manager-plugin returned the terminal.
    SessionEnded {
        op: Operation,
        result: Result<String, String>,
    },
    ScalingLoaded {
        service_arn: String,
        result: Result<Option<ScalingBounds>, SourceError>,
    },
    TargetHealthLoaded {
        service_arn: String,
        at: Time,
        result: Result<Vec<TargetGroupHealth>, SourceError>,
    },
    /// The triage engine's look at a service's latest log lines (for the log rules).
    LogsScanned {
        cluster: String,
        service: String,
        result: Result<Vec<LogEvent>, String>,
    },
    /// An evaluation of every rule came back from its thread (`Err`: it crashed, and why).
    Evaluated {
        id: u64,
        result: Result<Box<crate::state::Evaluated>, String>,
    },
    /// A task definition the triage engine asked for.
    TaskDefinitionLoaded {
        arn: String,
        result: Result<std::sync::Arc<crate::model::TaskDefinition>, SourceError>,
    },
    /// `:export` wrote (or failed to write) the incident snapshot: `result` is where it went,
    /// another name when `path` was taken.
    ExportWritten {
        path: std::path::PathBuf,
        result: Result<std::path::PathBuf, String>,
    },
    /// A task definition family's revisions, newest first.
    RevisionsLoaded {
        family: String,
        result: Result<Vec<crate::model::TaskDefRef>, SourceError>,
    },
    /// A port forward started (what it does), or why it did not.
    ForwardStarted {
        id: u64,
        result: Result<String, String>,
    },
    /// A port forward's plugin (or the demo's listener) ended, and why.
    ForwardEnded {
        id: u64,
        reason: String,
    },
    /// The `:stats` numbers, read from the source.
    StatsLoaded(CallReport),
    /// Profile names from the AWS config files, for the `:profile` picker.
    ProfilesLoaded(Vec<String>),
    /// A new source (another region or profile) is ready; the runtime swaps it in first.
    SourceChanged {
        source: SharedSource,
        settings: AwsSettings,
    },
    /// SIGTERM, SIGHUP, SIGINT, SIGQUIT or an explicit request from outside the key handling.
    Quit,
    /// The wait for answers before quitting (`Effect::WaitToQuit`) is over.
    QuitWaitOver,
    /// A background task (`what`: Live Tail, a port forward, the audit log…) panicked. The
    /// console keeps running and says so.
    Crashed {
        what: String,
        message: String,
    },
    /// The fleet view: a context added at run time is connected (or could not be: its source
    /// then answers every call with the reason). The runtime adds its effects runner first.
    ContextConnected {
        context: crate::model::Context,
        source: SharedSource,
        settings: Option<AwsSettings>,
    },
    /// The fleet view: an action for one context's console (`State::members[member]`), from
    /// that context's source or clock.
    From {
        member: usize,
        action: Box<Action>,
    },
}

/// Work for the runtime. Kept as data so tests can run it synchronously and assert on it.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Fetch {
        query: Query,
        seq: u64,
    },
    /// Details of some listed rows (at most one describe batch: `DescribeServices`,
    /// `DescribeTasks`, `DescribeContainerInstances`), chosen by `poll::describe`: the rows on
    /// screen first. `seq` is the listing's.
    Describe {
        query: Query,
        seq: u64,
        arns: Vec<String>,
    },
    FetchIdentity,
    FetchMetrics {
        request: MetricRequest,
        seq: u64,
    },
    /// Come back to merge the next slice of metrics answer `seq` (keys in between).
    MergeMetrics {
        seq: u64,
    },
    /// Come back to read the next slice of the focused view's cells (keys in between).
    ReadCells,
    FetchAlarms,
    /// Find the log streams of a subject (task definitions, a service's tasks).
    ResolveLogs {
        id: u64,
        subject: LogSubject,
    },
    ReadLogs {
        id: u64,
        streams: Vec<LogStreamRef>,
        read: LogRead,
    },
    /// Follow with Live Tail until `StopLogs`; its end comes back as `LiveTailEnded`.
    StartLiveTail {
        id: u64,
        streams: Vec<LogStreamRef>,
    },
    /// The pane closed: end its Live Tail session.
    StopLogs {
        id: u64,
    },
    /// Carry out a confirmed operation (never sent under read-only: the gate refuses first).
    Perform(Operation),
    /// Check the session-manager-plugin and the task, then open the session.
    OpenSession(Operation),
    /// Hand the terminal to session-manager-plugin until the session ends.
    HandOff {
        op: Operation,
        handoff: SessionHandoff,
    },
    /// Append a line to the audit log. Written before any effect that follows it starts: a
    /// `requested` line is on disk before its request leaves.
    Audit(Box<AuditRecord>),
    FetchScalingBounds {
        cluster: String,
        service: String,
        service_arn: String,
    },
    FetchTargetHealth {
        service_arn: String,
        target_groups: Vec<String>,
    },
    /// Target health for the triage engine (answered as `TargetHealthLoaded`, like the view's).
    TriageTargetHealth {
        service_arn: String,
        target_groups: Vec<String>,
    },
    /// Read a service's latest log lines for the triage engine's log rules.
    ScanLogs {
        cluster: String,
        service: String,
    },
    /// Evaluate every rule over this frozen copy, on a blocking thread (answered `Evaluated`).
    Evaluate(crate::state::JobHandOff),
    /// Read a task definition for the triage engine.
    FetchTaskDefinition {
        arn: String,
    },
    /// Write the `:export` incident snapshot to a new private file (creating its directory),
    /// under another name when `path` is taken.
    WriteExport {
        path: std::path::PathBuf,
        contents: String,
    },
    /// List a task definition family's revisions (`ListTaskDefinitions`).
    LoadRevisions {
        family: String,
    },
    /// Start a confirmed port forward in the background (never sent under read-only).
    StartForward {
        id: u64,
        op: Operation,
    },
    /// Stop a port forward: end its plugin, terminate its session.
    StopForward {
        id: u64,
    },
    /// Put text on the terminal's clipboard (OSC 52: works over SSH).
    Copy(String),
    /// Write a new private file (the log buffer), under another name when `path` is taken.
    SaveFile {
        path: std::path::PathBuf,
        contents: String,
    },
    /// Read the source's call statistics (cheap, synchronous) and send `StatsLoaded`.
    ShowStats,
    LoadProfiles,
    /// Build a source for these settings (region or profile switch) and send `SourceChanged`.
    Connect(AwsSettings),
    /// Hand the terminal back to the shell (Ctrl-z) and resume on `fg`.
    Suspend,
    Quit,
    /// Changes are under way while quitting: send `QuitWaitOver` after this long.
    WaitToQuit(std::time::Duration),
    /// The fleet view: connect one more context (`:contexts add`) and send `ContextConnected`.
    ConnectContext {
        wanted: crate::model::WantedContext,
        endpoint_url: Option<String>,
    },
    /// A member of the fleet view ran a command that is the fleet view's (`:findings`,
    /// `:contexts`): the fleet view runs it over every context.
    FleetCommand(String),
    /// The fleet view: an effect of one context's console, run with that context's source;
    /// what it answers comes back as `Action::From` the same member.
    In {
        member: usize,
        effect: Box<Effect>,
    },
}
