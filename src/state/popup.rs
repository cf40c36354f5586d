use crate::keymap::Context;

/// Something drawn over the panes. Popups stack; `Esc` closes the top one.
#[derive(Debug, Clone, PartialEq)]
pub enum Popup {
    /// The key help, generated from the key map for the pane it was opened on.
    Help {
        pane: super::PaneKind,
        scroll: usize,
    },
    /// The full selected object as readable text (also used for `:stats`).
    Describe {
        title: String,
        lines: Vec<String>,
        scroll: usize,
    },
    /// CloudWatch charts of one service, task or instance (`m`).
    Chart(super::Chart),
    /// "Are you sure?" for an operation, showing exactly what changes and where.
    Confirm {
        op: crate::model::Operation,
        lines: Vec<String>,
        scroll: usize,
        /// It has been on the screen: only keys read after that may confirm it.
        drawn: bool,
    },
    /// The scale dialog (`s` on a service).
    Scale(super::ScaleDialog),
    /// Target health of a service's target groups (`t`), refreshed while open.
    TargetHealth(super::TargetHealthView),
    /// The revisions of a service's task definition family (`T`, `:taskdefs`).
    TaskDefs(super::TaskDefsView),
    /// A diff of two revisions, or one in full.
    TaskDefText {
        view: super::TaskDefText,
        scroll: usize,
    },
    /// The port forward dialog (`F` on a task, container or instance).
    ForwardDialog(super::ForwardDialog),
    /// The port forwards of this console (`:forwards`); `selected` is the row.
    Forwards { selected: usize },
    /// `:findings`: the triage engine's findings, with the selected one's evidence.
    Findings(FindingsView),
    /// `:timeline`: what happened, newest first.
    Timeline(TimelineView),
    /// Choose one of a list (a region, a profile).
    Picker {
        kind: PickerKind,
        items: Vec<String>,
        selected: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickerKind {
    Region,
    Profile,
    /// The container of a task to open ECS Exec in.
    Container,
}

impl PickerKind {
    pub fn title(self) -> &'static str {
        match self {
            PickerKind::Region => "Switch region",
            PickerKind::Profile => "Switch profile",
            PickerKind::Container => "Shell in which container?",
        }
    }
}

impl Popup {
    /// The key-map sections a popup's keys are looked up in, innermost first (the footer and
    /// the key handling read the same list).
    pub fn key_contexts(&self) -> &'static [Context] {
        match self {
            Popup::Chart(_) => Context::Chart.chain(),
            Popup::TaskDefs(_) => Context::Taskdefs.chain(),
            Popup::Forwards { .. } => Context::Forwards.chain(),
            _ => Context::Text.chain(),
        }
    }

    pub fn scroll_mut(&mut self) -> &mut usize {
        match self {
            Popup::Help { scroll, .. } | Popup::Describe { scroll, .. } => scroll,
            Popup::Picker { selected, .. } => selected,
            Popup::Chart(chart) => &mut chart.scroll,
            Popup::TargetHealth(view) => &mut view.scroll,
            Popup::Confirm { scroll, .. } => scroll,
            Popup::Scale(dialog) => &mut dialog.scroll,
            Popup::TaskDefs(view) => &mut view.selected,
            Popup::TaskDefText { scroll, .. } => scroll,
            Popup::ForwardDialog(dialog) => &mut dialog.scroll,
            Popup::Forwards { selected } => selected,
            Popup::Findings(view) => &mut view.selected,
            Popup::Timeline(view) => &mut view.scroll,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct FindingsView {
    /// Index into the listed findings (re-found from `selected_id` whenever the list moves).
    pub selected: usize,
    /// The finding under the cursor: the list re-sorts as findings open and close, the
    /// cursor stays on the same finding.
    pub selected_id: Option<crate::model::FindingId>,
    /// Resolved findings are listed too (after the active ones).
    pub show_resolved: bool,
}

/// How far back the timeline looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimelineWindow {
    #[default]
    Minutes30,
    Hour1,
    Hours6,
    All,
}

impl TimelineWindow {
    pub fn label(self) -> &'static str {
        match self {
            TimelineWindow::Minutes30 => "last 30 min",
            TimelineWindow::Hour1 => "last hour",
            TimelineWindow::Hours6 => "last 6 h",
            TimelineWindow::All => "everything",
        }
    }

    pub fn span(self) -> Option<chrono::TimeDelta> {
        match self {
            TimelineWindow::Minutes30 => Some(chrono::TimeDelta::minutes(30)),
            TimelineWindow::Hour1 => Some(chrono::TimeDelta::hours(1)),
            TimelineWindow::Hours6 => Some(chrono::TimeDelta::hours(6)),
            TimelineWindow::All => None,
        }
    }

    pub fn next(self) -> Self {
        match self {
            TimelineWindow::Minutes30 => TimelineWindow::Hour1,
            TimelineWindow::Hour1 => TimelineWindow::Hours6,
            TimelineWindow::Hours6 => TimelineWindow::All,
            TimelineWindow::All => TimelineWindow::Minutes30,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct TimelineView {
    /// First entry drawn (0 = newest).
    pub scroll: usize,
    /// Only this service's entries (cluster, service); `None`: everything.
    pub service: Option<(String, String)>,
    pub window: TimelineWindow,
}
