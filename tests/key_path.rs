//! The one key path through the real update path: the top popup gets a key first, the global
//! keys (back, quit, command, help) answer the same everywhere, dialogs take typed keys as text
//! and the confirmation takes nothing but its own (see `update/keys.rs`).

use ecsmon::action::Effect;
use ecsmon::state::{InputMode, PaneKind, Popup};
use ecsmon::testkit::Harness;

fn console() -> Harness {
    Harness::new("default", 160, 45)
}

/// The services of `prod`, with `payments` selected.
fn payments() -> Harness {
    let mut h = console();
    h.press("/prod<enter><enter>/payments<enter>");
    assert_eq!(h.state.focused().pane.kind(), PaneKind::Services);
    h
}

fn quit_asked(h: &Harness) -> bool {
    h.state.should_quit || h.effects.contains(&Effect::Quit)
}

fn scale_text(h: &Harness) -> String {
    match h.state.popups.last() {
        Some(Popup::Scale(d)) => d.editor.text.clone(),
        other => panic!("no scale dialog on top: {other:?}"),
    }
}

#[test]
fn q_question_mark_and_colon_typed_into_the_scale_dialog_are_text() {
    let mut h = payments();
    h.press("s<c-u>q?:");
    assert_eq!(scale_text(&h), "q?:");
    assert!(!quit_asked(&h));
    assert_eq!(h.state.popups.len(), 1, "no help opened over it");
    assert_eq!(h.state.input, InputMode::Normal, "no command prompt");
    // Its own keys still work: esc cancels.
    h.press("<esc>");
    assert!(h.state.popups.is_empty());
    assert!(h.status().contains("scale cancelled"), "{}", h.status());
}

#[test]
fn q_typed_into_the_port_forward_dialog_is_text() {
    let mut h = console();
    h.press("/prod<enter><enter>/cart<enter><enter>F");
    h.press("<tab><c-u>q.internal:5432");
    let Some(Popup::ForwardDialog(dialog)) = h.state.popups.last() else {
        panic!("{:?}", h.state.popups.last());
    };
    assert_eq!(dialog.remote.text, "q.internal:5432");
    assert!(!quit_asked(&h));
}

#[test]
fn the_ctrl_keys_of_global_get_through_a_dialog() {
    let mut h = payments();
    h.press("s<c-z>");
    assert!(h.effects.contains(&Effect::Suspend), "ctrl+z suspends");
    assert!(matches!(h.state.popups.last(), Some(Popup::Scale(_))));
    h.press("<c-c>");
    assert!(quit_asked(&h), "ctrl+c quits");
}

#[test]
fn the_confirmation_takes_nothing_but_its_own_keys_and_ctrl_c() {
    let mut h = payments();
    h.press("R");
    assert!(matches!(h.state.popups.last(), Some(Popup::Confirm { .. })));
    h.press("q?:jx<c-z><esc>");
    // esc cancelled it; everything before did nothing.
    assert!(h.state.popups.is_empty());
    assert!(!quit_asked(&h));
    assert!(!h.effects.contains(&Effect::Suspend));
    assert_eq!(h.state.input, InputMode::Normal);
    h.press("R<c-c>");
    assert!(quit_asked(&h));
}

#[test]
fn q_closes_a_list_popup_and_does_not_quit() {
    let mut h = payments();
    for open in ["d", "m", "t", "T"] {
        h.press(open);
        assert!(!h.state.popups.is_empty(), "{open} opened a popup");
        h.press("q");
        assert!(h.state.popups.is_empty(), "q closed what {open} opened");
        assert!(!quit_asked(&h));
    }
    h.press(":findings<enter>q:timeline<enter>q");
    assert!(h.state.popups.is_empty());
    assert!(!quit_asked(&h));
    h.press("q");
    assert!(quit_asked(&h), "with no popup, q quits");
}

#[test]
fn colon_from_the_findings_pane_closes_it_and_takes_a_command() {
    let mut h = console();
    h.advance(10);
    h.press(":findings<enter>");
    assert!(matches!(h.state.popups.last(), Some(Popup::Findings(_))));
    h.press(":");
    assert!(h.state.popups.is_empty());
    assert!(matches!(h.state.input, InputMode::Command(_)));
    h.press("<c-u>services<enter>");
    assert_eq!(h.state.focused().pane.kind(), PaneKind::Services);
}

#[test]
fn esc_closes_the_top_popup_only() {
    let mut h = console();
    h.advance(10);
    h.press(":findings<enter>?");
    assert!(matches!(h.state.popups.last(), Some(Popup::Help { .. })));
    assert_eq!(h.state.popups.len(), 2, "help opens over the findings");
    h.press("<esc>");
    assert_eq!(h.state.popups.len(), 1);
    assert!(matches!(h.state.popups.last(), Some(Popup::Findings(_))));
    let crumbs = h.state.nav.len();
    h.press("<esc>");
    assert!(h.state.popups.is_empty());
    assert_eq!(
        h.state.nav.len(),
        crumbs,
        "the pane under it did not go back"
    );
}

#[test]
fn a_pane_key_over_the_findings_does_not_reach_the_pane_under_it() {
    let mut h = console();
    h.advance(10);
    assert!(!h.state.triage.active().is_empty());
    h.press(":findings<enter>");
    let sort = h.state.focused().sort;
    // `o` sorts a list, `/` filters one: neither is the findings pane's.
    h.press("o/");
    assert_eq!(h.state.focused().sort, sort);
    assert_eq!(h.state.input, InputMode::Normal);
    assert!(matches!(h.state.popups.last(), Some(Popup::Findings(_))));
}

#[test]
fn the_findings_and_timeline_keys_come_from_the_key_map() {
    let mut h = console();
    h.advance(10);
    h.press(":findings<enter>a");
    let Some(Popup::Findings(view)) = h.state.popups.last() else {
        panic!();
    };
    assert!(view.show_resolved);
    h.press("<esc>:timeline prod/payments<enter>");
    let Some(Popup::Timeline(view)) = h.state.popups.last() else {
        panic!("{}", h.status());
    };
    assert!(view.service.is_some());
    let window = view.window;
    h.press("wa");
    let Some(Popup::Timeline(view)) = h.state.popups.last() else {
        panic!();
    };
    assert_eq!(view.window, window.next());
    assert_eq!(view.service, None);
}

#[test]
fn help_lists_every_popup_and_the_field_keys() {
    let mut h = payments();
    h.press("?");
    let entries = ecsmon::screen::help::entries(PaneKind::Services, &h.keymap);
    let text: Vec<String> = entries
        .iter()
        .filter_map(|line| match line {
            ecsmon::screen::help::HelpLine::Heading(s) => Some(s.clone()),
            ecsmon::screen::help::HelpLine::Binding(k, d) => Some(format!("{k} {d}")),
            _ => None,
        })
        .collect();
    for want in [
        "Scale dialog (s)",
        "Findings (:findings)",
        "Timeline (:timeline)",
        "Are you sure?",
        "Metrics chart (m)",
        "a show / hide resolved",
        "y Y enter yes, do it",
        "ctrl+w delete a word",
        "Typing in a field",
    ] {
        assert!(
            text.iter().any(|t| t == want),
            "{want} missing from {text:#?}"
        );
    }
}
