/// Something drawn over the panes. Popups stack; `Esc` closes the top one.
#[derive(Debug, Clone, PartialEq)]
pub enum Popup {
    /// The key help, generated from the key map for the pane it was opened on.
    Help {
        pane: super::PaneKind,
        scroll: usize,
    },
    /// The full selected object as readable text.
    Describe {
        title: String,
        lines: Vec<String>,
        scroll: usize,
    },
}

impl Popup {
    pub fn scroll_mut(&mut self) -> &mut usize {
        match self {
            Popup::Help { scroll, .. } | Popup::Describe { scroll, .. } => scroll,
        }
    }
}
