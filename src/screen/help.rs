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

/// Every binding of the pane's contexts, grouped, straight from the key map.
pub fn entries(pane: PaneKind, keymap: &KeyMap) -> Vec<HelpLine> {
    let mut contexts = pane.contexts().to_vec();
    contexts.push(Context::Text);
    // The views those panes open, with keys of their own.
    match pane {
        PaneKind::Services => contexts.push(Context::Taskdefs),
        PaneKind::Tasks | PaneKind::Containers | PaneKind::Instances => {
            contexts.push(Context::Forwards)
        }
        _ => {}
    }
    let mut out = Vec::new();
    for context in contexts {
        let heading = match context {
            Context::Global => "Everywhere".to_string(),
            Context::Table => "Every list".to_string(),
            Context::Text => "Help and describe".to_string(),
            Context::Taskdefs => "Task definitions (T)".to_string(),
            Context::Forwards => "Port forwards (:forwards)".to_string(),
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
    out.push(HelpLine::Note(
        "Commands: :clusters :services :tasks :instances :taskdefs :diff :forwards :region :profile :stats :help :quit (tab completes)",
    ));
    out
}

/// Lines of the help screen, for scrolling.
pub fn line_count(pane: PaneKind, keymap: &KeyMap) -> usize {
    entries(pane, keymap).len()
}
