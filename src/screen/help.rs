//! The help screen's entries: every binding of a pane's contexts, grouped, straight from the key
//! map (so help is complete by construction), before styling.

use crate::keymap::{Context, KeyMap};
use crate::state::PaneKind;

/// One line of the help screen, before styling.
pub enum HelpLine {
    Blank,
    Heading(String),
    Binding(String, String),
    Note(&'static str),
}

/// The line editor's own keys in every field (the `/` and `:` prompts, the log search, the
/// scale and port forward dialogs): fixed, not in the key map, so typing always types.
pub const FIELD_KEYS: &[(&str, &str)] = &[
    ("left right", "move the cursor"),
    ("home ctrl+a", "start of the line"),
    ("end ctrl+e", "end of the line"),
    ("backspace delete", "delete a character"),
    ("ctrl+w", "delete a word"),
    ("ctrl+u", "clear the line"),
    ("up down", "older / newer entry (/ and : prompts)"),
    ("tab", "complete a command (: prompt)"),
    ("enter", "apply, run, accept"),
    ("esc", "cancel"),
];

/// Every binding of the pane's contexts and of the popups it can open, grouped, straight from
/// the key map; then the keys of a text field.
pub fn entries(pane: PaneKind, keymap: &KeyMap) -> Vec<HelpLine> {
    let mut contexts = pane.contexts().to_vec();
    contexts.extend([Context::Text, Context::Chart]);
    // The views those panes open, with keys of their own.
    match pane {
        PaneKind::Services => contexts.extend([Context::ScaleDialog, Context::Taskdefs]),
        PaneKind::Tasks | PaneKind::Containers | PaneKind::Instances => {
            contexts.extend([Context::ForwardDialog, Context::Forwards])
        }
        _ => {}
    }
    contexts.extend([
        Context::Findings,
        Context::Timeline,
        Context::Picker,
        Context::Confirm,
    ]);
    let mut out = Vec::new();
    for context in contexts {
        let heading = match context {
            Context::Global => "Everywhere".to_string(),
            Context::Table => "Every list".to_string(),
            Context::Text => "Help and describe".to_string(),
            Context::Chart => "Metrics chart (m)".to_string(),
            Context::Taskdefs => "Task definitions (T)".to_string(),
            Context::Forwards => "Port forwards (:forwards)".to_string(),
            Context::ScaleDialog => "Scale dialog (s)".to_string(),
            Context::ForwardDialog => "Port forward dialog (F)".to_string(),
            Context::Findings => "Findings (:findings)".to_string(),
            Context::Timeline => "Timeline (:timeline)".to_string(),
            Context::Picker => "Choosing from a list".to_string(),
            Context::Confirm => "Are you sure?".to_string(),
            other => format!("{other:?} pane"),
        };
        let bindings: Vec<_> = keymap.bindings(context).collect();
        if bindings.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(HelpLine::Blank);
        }
        out.push(HelpLine::Heading(heading));
        for b in bindings {
            let keys = b
                .keys
                .iter()
                .map(|k| k.to_string())
                .collect::<Vec<_>>()
                .join(" ");
            out.push(HelpLine::Binding(keys, b.desc.clone()));
        }
    }
    out.push(HelpLine::Blank);
    out.push(HelpLine::Heading("Typing in a field".to_string()));
    for (keys, desc) in FIELD_KEYS {
        out.push(HelpLine::Binding(keys.to_string(), desc.to_string()));
    }
    out.push(HelpLine::Blank);
    out.push(HelpLine::Note(
        "Commands: :clusters :services :tasks :instances :taskdefs :diff :forwards :region :profile :findings :rules :timeline :export :stats :help :quit (tab completes)",
    ));
    out
}

/// Lines of the help screen, for scrolling.
pub fn line_count(pane: PaneKind, keymap: &KeyMap) -> usize {
    entries(pane, keymap).len()
}
