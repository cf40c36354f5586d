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
    },
    /// The scale dialog (`s` on a service).
    Scale(super::ScaleDialog),
    /// Target health of a service's target groups (`t`), refreshed while open.
    TargetHealth(super::TargetHealthView),
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
    pub fn scroll_mut(&mut self) -> &mut usize {
        match self {
            Popup::Help { scroll, .. } | Popup::Describe { scroll, .. } => scroll,
            Popup::Picker { selected, .. } => selected,
            Popup::Chart(chart) => &mut chart.scroll,
            Popup::TargetHealth(view) => &mut view.scroll,
            Popup::Confirm { scroll, .. } => scroll,
            Popup::Scale(dialog) => &mut dialog.scroll,
        }
    }
}
