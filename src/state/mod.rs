//! Everything the console knows, changed only by `crate::update`.

mod chart;
mod dialogs;
mod dropper;
mod engine;
mod findings;
mod fleet;
mod forwards;
mod in_flight;
mod incremental;
mod input;
mod logs;
mod members;
mod metrics;
mod nav;
mod popup;
mod row_cache;
mod status;
mod taskdefs;
mod timeline;
mod view;
mod wanted_metrics;

pub use chart::{Chart, ChartLine, ChartWindow};
pub use dialogs::{MAX_DESIRED, ScaleDialog, TargetHealthView, parse_desired};
pub use dropper::{Release, drop_elsewhere};
pub use engine::{EngineJob, EngineJobs, Evaluated, JobHandOff};
pub use findings::{CLEAR_AFTER, Triage};
pub use fleet::{Fleet, Progress, Slot};
pub use forwards::{
    Forward, ForwardDialog, ForwardState, Forwards, Remote, container_for, default_local,
    parse_port, parse_remote, target_of,
};
pub use in_flight::{InFlight, Sent};
pub use incremental::{EngineCache, MAX_AGE, Reuse, max_age};
pub use input::{InputMode, LineEditor, PromptHistory};
pub use logs::{BACKFILL, DEFAULT_CAP, LogLine, LogMode, LogPane, contains_ignore_case};
pub use members::{Member, Merged};
pub use metrics::{DimensionValues, Merging, Metrics, answered, retention};
pub use nav::{Pane, PaneKind};
pub use popup::{FindingsView, PickerKind, Popup, TimelineView, TimelineWindow};
pub use row_cache::{CELLS_FRESH_FOR, Narrowed, Reading, RowCache, RowKeys, Stale};
pub use status::{Level, Status};
pub use taskdefs::{TaskDefCache, TaskDefText, TaskDefsView};
pub use timeline::{Timeline, TimelineEntry, TimelineKind};
pub use view::{OnScreen, SortSpec, View};
pub use wanted_metrics::{WantedChange, WantedMetrics};

use crate::config::Refresh;
use crate::model::{Identity, Time};
use crate::poll::PollBook;

pub struct State {
    /// Where the data comes from, for the header. Filled in by `IdentityLoaded`.
    pub identity: Identity,
    pub identity_error: Option<String>,
    pub read_only: bool,
    /// The one cluster the engine polls and judges (the headless commands' `--cluster`);
    /// `None`: every cluster.
    pub only_cluster: Option<String>,
    pub now: Time,
    pub fleet: Fleet,
    /// CloudWatch history and alarms for what the panes and charts show.
    pub metrics: Metrics,
    /// The triage engine's findings, stop history, timeline and what its rules read.
    pub triage: Triage,
    /// Task definition revisions read so far (they never change once registered).
    pub task_defs: TaskDefCache,
    /// Port forwards started from this console (`F`, `:forwards`).
    pub forwards: Forwards,
    /// The log pane (`l`), sharing the screen with the list it was opened from.
    pub logs: Option<LogPane>,
    /// Ids for log panes, so answers meant for a closed pane are recognised.
    pub next_log_id: u64,
    /// Lines a log pane keeps (config `log_lines`).
    pub log_cap: usize,
    /// The task whose container is being picked for ECS Exec.
    pub pending_exec: Option<Box<crate::model::Task>>,
    /// What ECS Exec runs (config `exec_shell`).
    pub exec_shell: String,
    /// A shell (ECS Exec, an instance shell) waits for `y` first (config `confirm_exec`).
    pub confirm_exec: bool,
    /// The container last shelled into, by cluster and service (or task family): the
    /// container picker offers it first next time.
    pub exec_picks: std::collections::HashMap<(String, String), String>,
    /// Confirmed changes awaiting their outcome (for the audit log, and for quitting).
    pub in_flight: InFlight,
    /// The navigation stack; the last view is the focused one. Never empty.
    pub nav: Vec<View>,
    /// A slice of the focused view's cells is asked for (`Effect::ReadCells`), so the next
    /// is not asked for twice.
    pub cells_asked: bool,
    /// Popups drawn over the panes; the top one gets keys first.
    pub popups: Vec<Popup>,
    pub input: InputMode,
    /// Filters (`/`) and commands (`:`) entered this session, for `↑`/`↓` at the prompt.
    pub filter_history: PromptHistory,
    pub command_history: PromptHistory,
    pub status: Option<Status>,
    pub polls: PollBook,
    pub refresh: Refresh,
    /// The last key, mouse click or paste: the focused pane is polled live for a while after
    /// (`crate::poll::cadence`).
    pub last_input: Time,
    /// How far back the stopped-tasks view looks.
    pub stopped_window: std::time::Duration,
    /// When answers nobody wants were last looked for (`update::data::forget_unwanted`).
    pub fleet_pruned_at: Option<Time>,
    pub mouse: bool,
    /// The AWS settings in use; `None` on the demo fleet.
    pub aws: Option<crate::source::aws::AwsSettings>,
    /// Terminal size, for paging and mouse hit-testing.
    pub screen: (u16, u16),
    /// The operator (or a signal) asked to quit; the runtime ends once [`State::may_exit`].
    pub should_quit: bool,
    /// The fleet view: one console per context, this one merging their clusters and findings
    /// (see `state::members`). Empty with one context: this console is that context's.
    pub members: Vec<Member>,
    /// The member whose panes are on screen and get the keys; `None`: the fleet view's own.
    pub active_member: Option<usize>,
    /// The fleet view's `:stats`: each context's report as it arrives, until every context
    /// has answered.
    pub fleet_stats: Option<Vec<(usize, crate::source::CallReport)>>,
    /// This console is one context of a fleet view: the fleet-wide commands (`:findings`,
    /// `:contexts`) are the fleet view's.
    pub fleet_member: bool,
}

impl State {
    pub fn new(identity: Identity, now: Time, refresh: Refresh, screen: (u16, u16)) -> Self {
        State {
            identity,
            identity_error: None,
            read_only: false,
            only_cluster: None,
            now,
            fleet: Fleet::default(),
            metrics: Metrics::default(),
            triage: Triage::default(),
            task_defs: TaskDefCache::default(),
            forwards: Forwards::default(),
            logs: None,
            next_log_id: 0,
            log_cap: DEFAULT_CAP,
            pending_exec: None,
            exec_shell: "/bin/sh".into(),
            confirm_exec: false,
            exec_picks: Default::default(),
            in_flight: InFlight::default(),
            nav: vec![View::new(Pane::Clusters)],
            popups: Vec::new(),
            input: InputMode::Normal,
            filter_history: PromptHistory::default(),
            command_history: PromptHistory::default(),
            status: None,
            polls: PollBook::default(),
            refresh,
            last_input: now,
            stopped_window: std::time::Duration::from_secs(3600),
            cells_asked: false,
            fleet_pruned_at: None,
            mouse: true,
            aws: None,
            screen,
            should_quit: false,
            members: Vec::new(),
            active_member: None,
            fleet_member: false,
            fleet_stats: None,
        }
    }

    pub fn focused(&self) -> &View {
        self.nav.last().expect("navigation stack is never empty")
    }

    pub fn focused_mut(&mut self) -> &mut View {
        self.nav
            .last_mut()
            .expect("navigation stack is never empty")
    }

    /// The operator asked to quit and no change is waiting for its answer any more (in any
    /// context of the fleet view).
    pub fn may_exit(&self) -> bool {
        self.should_quit
            && self.in_flight.sent.is_empty()
            && self.members.iter().all(|m| m.dropped || m.state.may_exit())
    }

    /// This console merges several contexts' (the fleet view) and polls nothing itself.
    pub fn is_fleet_view(&self) -> bool {
        !self.members.is_empty()
    }

    /// The console whose panes are on screen: the active member's, or this one.
    pub fn on_screen(&self) -> &State {
        match self.active_member.and_then(|i| self.members.get(i)) {
            Some(m) => &m.state,
            None => self,
        }
    }

    pub fn set_status(&mut self, level: Level, text: impl Into<String>) {
        self.status = Some(Status {
            level,
            text: text.into(),
            at: self.now,
        });
    }
}
