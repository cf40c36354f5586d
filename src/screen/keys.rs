//! Which key-map sections answer a key right now: the top popup's, the log pane's while it has
//! the keys, or the focused pane's. The key path (`update/keys.rs`) and the footer both read it
//! here, so what the footer offers is what the keys do.

use crate::keymap::Context;
use crate::state::{Popup, State};

/// The sections a key is looked up in, most specific first, and how the top takes keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Live {
    pub contexts: Vec<Context>,
    /// A popup you type into (a dialog) or the confirmation: every key its own section does
    /// not bind is its own, except the ctrl keys of the sections after it.
    pub typing: bool,
}

/// The section of a popup's own keys.
pub fn popup_context(popup: &Popup) -> Context {
    match popup {
        Popup::Help { .. }
        | Popup::Describe { .. }
        | Popup::TaskDefText { .. }
        | Popup::TargetHealth(_) => Context::Text,
        Popup::Chart(_) => Context::Chart,
        Popup::TaskDefs(_) => Context::Taskdefs,
        Popup::Forwards { .. } => Context::Forwards,
        Popup::Findings(_) => Context::Findings,
        Popup::Timeline(_) => Context::Timeline,
        Popup::Picker { .. } => Context::Picker,
        Popup::Confirm { .. } => Context::Confirm,
        Popup::Scale(_) => Context::ScaleDialog,
        Popup::ForwardDialog(_) => Context::ForwardDialog,
    }
}

/// Whether a popup takes typed keys (see [`Live::typing`]).
pub fn takes_typing(popup: &Popup) -> bool {
    matches!(
        popup,
        Popup::Confirm { .. } | Popup::Scale(_) | Popup::ForwardDialog(_)
    )
}

/// The sections live in normal mode (the prompts are line editors of their own).
pub fn live(state: &State) -> Live {
    if let Some(popup) = state.popups.last() {
        return Live {
            contexts: popup_context(popup).chain().to_vec(),
            typing: takes_typing(popup),
        };
    }
    let contexts = if state.logs.as_ref().is_some_and(|l| l.focused) {
        Context::Logs.chain().to_vec()
    } else {
        state.focused().pane.kind().contexts().to_vec()
    };
    Live {
        contexts,
        typing: false,
    }
}
