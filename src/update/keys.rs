//! The one key path in normal mode (the `/` and `:` prompts are line editors of their own, in
//! `prompt.rs`).
//!
//! A key goes to the top of the screen first: the top popup, else the log pane while it has the
//! keys, else the focused pane, looked up in the key-map sections live there
//! (`screen::keys::live`). The top answers [`Handled::Consumed`] or [`Handled::NotMine`]. What it
//! does not take goes to the global keys, handled here once for every popup and pane: back (esc
//! closes the top popup, else clears the filter, else goes back a pane), quit (q, ctrl+c),
//! suspend (ctrl+z), command mode (`:`, which closes the popups) and help (`?`, which closes the
//! help screen it is pressed on). Then, with no popup open, the pane's own keys ([`run`]). A
//! popup is modal: the pane under it never sees a key.
//!
//! How each popup takes keys (one rule per kind, the same for every popup of that kind):
//! - List popups (help, describe, chart, target health, task definitions and their texts,
//!   forwards, findings, timeline, the pickers) take the keys of their own section and of
//!   `[[text]]` (scrolling). `q`, `:` and `?` fall through as everywhere else: `[[text]]` binds
//!   `q` to close, like esc; `:` and `?` are the global ones. Findings also lend the selected
//!   finding's pane keys (`l` on a service's finding opens its logs).
//! - Popups you type into (the scale and port forward dialogs) take the keys of their own
//!   section, and every other key is text: `q` typed into a field is the letter q. Only the
//!   ctrl keys of `[[global]]` get through (ctrl+c quits, ctrl+z suspends).
//! - The confirmation takes y/enter and n/esc (its section) and nothing else, so no key does
//!   anything by accident while it is up; of the global keys only quit's ctrl key (ctrl+c) gets
//!   through.

use crossterm::event::{KeyEvent, KeyEventKind, KeyModifiers};

use crate::action::Effect;
use crate::keymap::{Command, Context, KeyMap};
use crate::screen::{self, layout};
use crate::state::{Level, Pane, Popup, State};

use super::{actions, chart, describe, gate, logs, nav, prompt, rows};

/// What the top of the screen did with a key.
#[derive(Debug, PartialEq)]
pub enum Handled {
    /// It took the key: these effects, and nothing under it sees the key.
    Consumed(Vec<Effect>),
    /// Not its key: the global keys get it next.
    NotMine,
}

pub fn handle(state: &mut State, key: KeyEvent, keymap: &KeyMap) -> Vec<Effect> {
    if key.kind == KeyEventKind::Release {
        return vec![];
    }
    let live = screen::keys::live(state);
    if live.typing {
        return typing_key(state, key, keymap, &live.contexts);
    }
    let contexts = match state.popups.last() {
        Some(Popup::Findings(_)) => super::findings::key_contexts(state),
        _ => live.contexts,
    };
    let Some(command) = keymap.lookup(&contexts, &key) else {
        return vec![];
    };
    if let Handled::Consumed(effects) = top_command(state, command, key, keymap) {
        return effects;
    }
    if let Handled::Consumed(effects) = global(state, command) {
        return effects;
    }
    if state.popups.is_empty() {
        return run(state, command);
    }
    vec![]
}

/// The top popup's or the log pane's own commands.
fn top_command(state: &mut State, command: Command, key: KeyEvent, keymap: &KeyMap) -> Handled {
    let consumed =
        |effects: Option<Vec<Effect>>| effects.map_or(Handled::NotMine, Handled::Consumed);
    match state.popups.last_mut() {
        None if state.logs.as_ref().is_some_and(|l| l.focused) => {
            let page = log_page(state);
            consumed(logs::key(state, command, page))
        }
        None => Handled::NotMine,
        Some(Popup::Chart(c)) => {
            if chart::key(c, command) {
                Handled::Consumed(vec![])
            } else {
                scroll(state, command, keymap)
            }
        }
        Some(Popup::Picker {
            kind,
            items,
            selected,
        }) if command == Command::Enter => {
            let (kind, choice) = (*kind, items.get(*selected).cloned());
            state.popups.pop();
            Handled::Consumed(match choice {
                Some(choice) => super::context::picked(state, kind, &choice),
                None => vec![],
            })
        }
        Some(Popup::Findings(_)) => super::findings::findings_command(state, command, key, keymap),
        Some(Popup::Timeline(_)) => super::findings::timeline_command(state, command),
        Some(Popup::TaskDefs(_)) => match super::taskdefs::key(state, command) {
            Some(effects) => Handled::Consumed(effects),
            None => scroll(state, command, keymap),
        },
        Some(Popup::Forwards { .. }) => match super::forwards::key(state, command) {
            Some(effects) => Handled::Consumed(effects),
            None => scroll(state, command, keymap),
        },
        Some(_) => scroll(state, command, keymap),
    }
}

/// A popup you type into, or the confirmation (see the module comment).
fn typing_key(
    state: &mut State,
    key: KeyEvent,
    keymap: &KeyMap,
    contexts: &[Context],
) -> Vec<Effect> {
    let Some((&own, rest)) = contexts.split_first() else {
        return vec![];
    };
    if let Some(command) = keymap.lookup(&[own], &key) {
        return match state.popups.last() {
            Some(&Popup::Confirm { drawn, .. }) => confirm_command(state, command, drawn),
            Some(Popup::Scale(_)) => actions::scale_command(state, command),
            Some(Popup::ForwardDialog(_)) => super::forwards::dialog_command(state, command),
            _ => vec![],
        };
    }
    if key.modifiers.contains(KeyModifiers::CONTROL)
        && let Some(command) = keymap.lookup(rest, &key)
    {
        let confirming = matches!(state.popups.last(), Some(Popup::Confirm { .. }));
        if (!confirming || command == Command::Quit)
            && let Handled::Consumed(effects) = global(state, command)
        {
            return effects;
        }
        return vec![];
    }
    match state.popups.last() {
        Some(Popup::Scale(_)) => actions::scale_typed(state, key),
        Some(Popup::ForwardDialog(_)) => super::forwards::dialog_typed(state, key),
        _ => vec![],
    }
}

/// The confirmation's keys. A `y` or enter read before it was on the screen (typed ahead, a
/// repeated enter) was not meant for it: only esc and n answer such keys.
fn confirm_command(state: &mut State, command: Command, drawn: bool) -> Vec<Effect> {
    match command {
        Command::Enter if drawn => gate::confirmed(state),
        Command::Back => {
            gate::cancelled(state);
            vec![]
        }
        _ => vec![],
    }
}

/// The global keys, the same over every popup and pane.
fn global(state: &mut State, command: Command) -> Handled {
    let effects = match command {
        Command::Quit => {
            state.should_quit = true;
            vec![Effect::Quit]
        }
        Command::Suspend => vec![Effect::Suspend],
        Command::CommandMode => {
            // `:` works over popups too: close them and take the command.
            state.popups.clear();
            prompt::open_command(state);
            vec![]
        }
        Command::Help => {
            // `?` on the help screen closes it, as in k9s; anywhere else it opens it.
            if matches!(state.popups.last(), Some(Popup::Help { .. })) {
                state.popups.pop();
            } else {
                let pane = state.focused().pane.kind();
                state.popups.push(Popup::Help { pane, scroll: 0 });
            }
            vec![]
        }
        Command::Back => {
            if state.popups.pop().is_none() {
                back(state);
            }
            vec![]
        }
        _ => return Handled::NotMine,
    };
    Handled::Consumed(effects)
}

/// Scrolling keys of a list popup (a picker's "scroll" is its selected row).
fn scroll(state: &mut State, command: Command, keymap: &KeyMap) -> Handled {
    let page = layout::visible_rows(state.screen);
    let Some(popup) = state.popups.last_mut() else {
        return Handled::NotMine;
    };
    let scroll = popup.scroll_mut();
    match command {
        Command::Up => *scroll = scroll.saturating_sub(1),
        Command::Down => *scroll = scroll.saturating_add(1),
        Command::PageUp => *scroll = scroll.saturating_sub(page),
        Command::PageDown => *scroll = scroll.saturating_add(page),
        Command::Top => *scroll = 0,
        Command::Bottom => *scroll = usize::MAX / 2,
        _ => return Handled::NotMine,
    }
    clamp_popup_scroll(state, keymap);
    Handled::Consumed(vec![])
}

/// Carries out a key-map command on the focused pane.
pub fn run(state: &mut State, command: Command) -> Vec<Effect> {
    let page = layout::list_rows(state) as isize;
    match command {
        // The global keys: `global` answered them before the pane is asked.
        Command::Quit | Command::Suspend | Command::Back | Command::CommandMode | Command::Help => {
        }
        Command::Up => move_selection(state, -1),
        Command::Down => move_selection(state, 1),
        Command::PageUp => move_selection(state, -page),
        Command::PageDown => move_selection(state, page),
        Command::Top => move_selection(state, isize::MIN / 2),
        Command::Bottom => move_selection(state, isize::MAX / 2),
        Command::Enter => nav::drill_down(state),
        Command::Filter => prompt::open_filter(state),
        Command::Describe => match describe::open(state) {
            Some(popup) => state.popups.push(popup),
            None => state.set_status(Level::Info, "nothing selected to describe"),
        },
        Command::SortNext => cycle_sort(state),
        Command::SortReverse => {
            let view = state.focused_mut();
            view.sort.reverse = !view.sort.reverse;
            if view.sort.column.is_none() {
                view.sort.column = Some(0);
            }
            rows::refresh_focused(state);
        }
        Command::Refresh => {
            let query = state.focused().pane.query();
            state.set_status(Level::Info, format!("refreshing {}…", query.describe()));
            state.fleet.want_fresh(&query, state.now);
            let mut effects = vec![state.polls.force(query, state.now)];
            // After fixing credentials (aws sso login…), `r` also asks again who we are.
            if state.identity_error.is_some() || state.identity.account.is_empty() {
                effects.push(Effect::FetchIdentity);
            }
            return effects;
        }
        Command::ToggleStopped => toggle_stopped(state),
        Command::Metrics => chart::open(state),
        Command::Logs => return logs::open(state),
        Command::Scale | Command::Shell => return actions::shell_or_scale(state),
        Command::Redeploy => return actions::redeploy(state),
        Command::StopTask => return actions::stop_task(state),
        Command::Drain => return actions::drain(state),
        Command::TargetHealth => return actions::target_health(state),
        Command::TaskDefs => return super::taskdefs::open(state, false),
        Command::PortForward => return super::forwards::open(state),
        // Keys of the revision list, the forwards view, findings and timeline.
        Command::Mark
        | Command::Compare
        | Command::Rollback
        | Command::StopForward
        | Command::ToggleResolved
        | Command::AllServices => {}
        Command::FocusNext => match state.logs.as_mut() {
            Some(pane) => pane.focused = true,
            None => state.set_status(Level::Info, "no log pane open: l opens one"),
        },
        // Chart and log keys do nothing on a list.
        Command::LogFollow
        | Command::LogSearch
        | Command::LogNext
        | Command::LogPrevious
        | Command::LogOnlyMatching
        | Command::LogWrap
        | Command::LogTimestamps
        | Command::LogZoom
        | Command::LogGrow
        | Command::LogShrink
        | Command::LogOlder
        | Command::LogCopy
        | Command::LogSave
        | Command::WindowNext
        | Command::WindowPrevious
        | Command::Window1
        | Command::Window2
        | Command::Window3
        | Command::Window4
        | Command::Window5 => {}
    }
    vec![]
}

/// The runtime drew a frame: a confirmation on top of it has now been seen, and keys read
/// from here on may answer it.
pub fn frame_drawn(state: &mut State) {
    if let Some(Popup::Confirm { drawn, .. }) = state.popups.last_mut() {
        *drawn = true;
    }
    // The fleet view draws the context on screen: its confirmation was drawn too.
    if let Some(member) = state.active_member.and_then(|i| state.members.get_mut(i)) {
        frame_drawn(&mut member.state);
    }
}

/// Keeps popup scrolling inside its text, so scrolling back up answers at once.
fn clamp_popup_scroll(state: &mut State, keymap: &KeyMap) {
    let height = layout::visible_rows(state.screen) + 1;
    if let Some(popup) = state.popups.last_mut() {
        let max = match popup {
            // As many lines as the text popup shows (`draw_text`'s box), so the last is reachable.
            Popup::Help { pane, .. } => screen::help::line_count(*pane, keymap)
                .saturating_sub(layout::text_rows(state.screen)),
            Popup::Describe { lines, .. } => {
                lines.len().saturating_sub(layout::text_rows(state.screen))
            }
            // A picker's "scroll" is its selected row.
            Popup::Picker { items, .. } => items.len().saturating_sub(1),
            // A chart's "scroll" is its first group shown.
            Popup::Chart(chart) => chart.groups.len().saturating_sub(1),
            Popup::Confirm { .. } | Popup::Scale(_) | Popup::ForwardDialog(_) => 0,
            // A list's "scroll" is its selected row.
            Popup::TaskDefs(view) => view
                .revisions
                .as_ref()
                .map_or(0, |r| r.len().saturating_sub(1)),
            Popup::Forwards { .. } => state.forwards.list.len().saturating_sub(1),
            Popup::TaskDefText { view, .. } => {
                screen::taskdefs::text_line_count(view, &state.task_defs)
                    .saturating_sub(layout::text_rows(state.screen))
            }
            // Both keep their own selection in range.
            Popup::Findings(_) | Popup::Timeline(_) => return,
            Popup::TargetHealth(view) => {
                screen::target_health::line_count(view).saturating_sub(height.saturating_sub(2))
            }
        };
        let scroll = popup.scroll_mut();
        *scroll = (*scroll).min(max);
    }
}

fn move_selection(state: &mut State, delta: isize) {
    let height = layout::list_rows(state);
    let view = state.focused_mut();
    view.move_by(delta);
    view.scroll_into_view(height);
    let fleet = &state.fleet;
    let view = state.nav.last_mut().expect("never empty");
    rows::remember_selection(view, fleet);
}

/// `esc`: clear the filter first, then go back one pane.
fn back(state: &mut State) {
    if !state.focused().filter.is_empty() {
        state.focused_mut().filter.clear();
        rows::refresh_focused(state);
        return;
    }
    nav::back(state);
}

fn cycle_sort(state: &mut State) {
    let columns = column_count(state);
    let view = state.focused_mut();
    view.sort.column = match view.sort.column {
        None => Some(0),
        Some(c) if c + 1 < columns => Some(c + 1),
        Some(_) => None,
    };
    rows::refresh_focused(state);
}

fn column_count(state: &State) -> usize {
    use crate::screen::panes;
    crate::with_table!(
        panes::items(&state.focused().pane, &state.fleet),
        |_items, cols, _k| cols.len()
    )
}

fn toggle_stopped(state: &mut State) {
    let Pane::Tasks { scope, stopped } = state.focused().pane.clone() else {
        return;
    };
    let label = state.focused().label.clone();
    let pane = Pane::Tasks {
        scope,
        stopped: !stopped,
    };
    let view = crate::state::View::new(pane).with_label(label);
    *state.focused_mut() = view;
    rows::refresh_focused(state);
    let what = if stopped {
        "running"
    } else {
        "recently stopped"
    };
    state.set_status(Level::Info, format!("showing {what} tasks"));
}

/// Lines a page of the log pane moves.
fn log_page(state: &State) -> usize {
    layout::log_area(state).map_or(10, |a| a.height.saturating_sub(3) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::model::Identity;
    use crate::state::{FindingsView, InputMode, PickerKind, TimelineView};
    use crossterm::event::KeyCode;

    fn state_with(popups: Vec<Popup>) -> State {
        let now = chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("valid");
        let mut state = State::new(
            Identity::default(),
            now,
            Config::defaults().refresh,
            (120, 40),
        );
        state.popups = popups;
        state
    }

    fn describe(lines: usize) -> Popup {
        Popup::Describe {
            title: "a service".into(),
            lines: (0..lines).map(|i| format!("line {i}")).collect(),
            scroll: 0,
        }
    }

    fn press(state: &mut State, code: KeyCode, mods: KeyModifiers) -> Vec<Effect> {
        handle(state, KeyEvent::new(code, mods), &KeyMap::defaults())
    }

    fn ch(state: &mut State, c: char) -> Vec<Effect> {
        press(state, KeyCode::Char(c), KeyModifiers::NONE)
    }

    /// Every list popup, as the key path meets them.
    fn list_popups() -> Vec<Popup> {
        vec![
            describe(100),
            Popup::Help {
                pane: crate::state::PaneKind::Clusters,
                scroll: 0,
            },
            Popup::Forwards { selected: 0 },
            Popup::Findings(FindingsView::default()),
            Popup::Timeline(TimelineView::default()),
            Popup::Picker {
                kind: PickerKind::Region,
                items: vec!["eu-west-1".into(), "eu-west-3".into()],
                selected: 0,
            },
        ]
    }

    #[test]
    fn no_popup_handles_a_global_key_itself() {
        let keymap = KeyMap::defaults();
        let key = KeyEvent::new(KeyCode::Null, KeyModifiers::NONE);
        for popup in list_popups() {
            for command in [
                Command::Back,
                Command::Quit,
                Command::Suspend,
                Command::CommandMode,
                Command::Help,
            ] {
                let mut state = state_with(vec![popup.clone()]);
                assert_eq!(
                    top_command(&mut state, command, key, &keymap),
                    Handled::NotMine,
                    "{command} on {popup:?}"
                );
                assert_eq!(state.popups, vec![popup.clone()], "untouched by {command}");
            }
        }
    }

    #[test]
    fn a_list_popup_consumes_its_scrolling_and_the_pane_never_sees_it() {
        let keymap = KeyMap::defaults();
        let key = KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE);
        for popup in list_popups() {
            let mut state = state_with(vec![popup.clone()]);
            let before = state.focused().selected;
            let answer = top_command(&mut state, Command::Down, key, &keymap);
            assert_eq!(answer, Handled::Consumed(vec![]), "{popup:?}");
            assert_eq!(state.focused().selected, before);
        }
        let mut state = state_with(vec![describe(100)]);
        ch(&mut state, 'j');
        ch(&mut state, 'j');
        assert_eq!(*state.popups[0].scroll_mut(), 2);
        // A pane-only key over a popup does nothing at all (the popup is modal).
        ch(&mut state, 'o');
        assert_eq!(state.focused().sort.column, None);
        assert_eq!(state.popups.len(), 1);
    }

    #[test]
    fn global_keys_answer_the_same_over_every_list_popup() {
        for popup in list_popups() {
            // q closes the top popup, as esc does.
            for close in [KeyCode::Char('q'), KeyCode::Esc] {
                let mut state = state_with(vec![describe(3), popup.clone()]);
                assert!(press(&mut state, close, KeyModifiers::NONE).is_empty());
                assert_eq!(state.popups, vec![describe(3)], "{close:?} on {popup:?}");
                assert!(!state.should_quit);
            }
            let mut state = state_with(vec![popup.clone()]);
            let effects = press(&mut state, KeyCode::Char('c'), KeyModifiers::CONTROL);
            assert_eq!(effects, vec![Effect::Quit], "ctrl+c on {popup:?}");
            assert!(state.should_quit);

            let mut state = state_with(vec![describe(3), popup.clone()]);
            ch(&mut state, ':');
            assert!(state.popups.is_empty(), ": closes the popups");
            assert!(matches!(state.input, InputMode::Command(_)));

            let mut state = state_with(vec![popup.clone()]);
            ch(&mut state, '?');
            let top = state.popups.last().cloned();
            if matches!(popup, Popup::Help { .. }) {
                assert!(state.popups.is_empty(), "? closes the help screen");
            } else {
                assert!(matches!(top, Some(Popup::Help { .. })), "? over {popup:?}");
                assert_eq!(state.popups.len(), 2);
                ch(&mut state, '?');
                assert_eq!(state.popups, vec![popup.clone()], "and ? closes it again");
            }
        }
    }

    #[test]
    fn without_a_popup_the_global_keys_then_the_pane_answer() {
        let mut state = state_with(vec![]);
        ch(&mut state, '?');
        assert!(matches!(state.popups.last(), Some(Popup::Help { .. })));
        state.popups.clear();
        assert_eq!(ch(&mut state, 'q'), vec![Effect::Quit]);
        let mut state = state_with(vec![]);
        ch(&mut state, 'o');
        assert_eq!(state.focused().sort.column, Some(0), "the pane's own key");
        let mut state = state_with(vec![]);
        state.focused_mut().filter = "prod".into();
        press(&mut state, KeyCode::Esc, KeyModifiers::NONE);
        assert!(
            state.focused().filter.is_empty(),
            "esc clears the filter first"
        );
    }

    #[test]
    fn a_released_key_does_nothing() {
        let mut state = state_with(vec![describe(3)]);
        let mut key = KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
        key.kind = KeyEventKind::Release;
        assert!(handle(&mut state, key, &KeyMap::defaults()).is_empty());
        assert_eq!(state.popups.len(), 1);
    }
}
