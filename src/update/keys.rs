//! Keys in normal mode, looked up in the key map for the focused pane or the top popup.

use crossterm::event::{KeyEvent, KeyEventKind};

use crate::action::Effect;
use crate::keymap::{Command, Context, KeyMap};
use crate::screen::layout;
use crate::state::{Level, Pane, Popup, State};

use super::{actions, chart, describe, gate, logs, nav, prompt, rows};

pub fn handle(state: &mut State, key: KeyEvent, keymap: &KeyMap) -> Vec<Effect> {
    if key.kind == KeyEventKind::Release {
        return vec![];
    }
    if !state.popups.is_empty() {
        return popup_key(state, key, keymap);
    }
    if state.logs.as_ref().is_some_and(|l| l.focused) {
        let Some(command) = keymap.lookup(Context::Logs.chain(), &key) else {
            return vec![];
        };
        let page = log_page(state);
        if let Some(effects) = logs::key(state, command, page) {
            return effects;
        }
        return run(state, command);
    }
    let contexts = state.focused().pane.kind().contexts();
    let Some(command) = keymap.lookup(&contexts, &key) else {
        return vec![];
    };
    run(state, command)
}

/// Carries out a key-map command on the focused pane.
pub fn run(state: &mut State, command: Command) -> Vec<Effect> {
    let page = layout::list_rows(state) as isize;
    match command {
        Command::Quit => {
            state.should_quit = true;
            return vec![Effect::Quit];
        }
        Command::Suspend => return vec![Effect::Suspend],
        Command::Up => move_selection(state, -1),
        Command::Down => move_selection(state, 1),
        Command::PageUp => move_selection(state, -page),
        Command::PageDown => move_selection(state, page),
        Command::Top => move_selection(state, isize::MIN / 2),
        Command::Bottom => move_selection(state, isize::MAX / 2),
        Command::Enter => nav::drill_down(state),
        Command::Back => back(state),
        Command::Filter => prompt::open_filter(state),
        Command::CommandMode => prompt::open_command(state),
        Command::Help => state.popups.push(Popup::Help {
            pane: state.focused().pane.kind(),
            scroll: 0,
        }),
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
        // Keys of the revision list and the forwards view.
        Command::Mark | Command::Compare | Command::Rollback | Command::StopForward => {}
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
}

fn popup_key(state: &mut State, key: KeyEvent, keymap: &KeyMap) -> Vec<Effect> {
    use crossterm::event::{KeyCode, KeyModifiers};
    let ctrl_c = key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
    match state.popups.last() {
        // The confirmation takes y/enter or n/esc and nothing else: no key does anything by
        // accident while it is up. A `y` or enter read before it was on the screen (typed
        // ahead, a repeated enter) was not meant for it: only esc and n answer such keys.
        Some(Popup::Confirm { drawn, .. }) if !ctrl_c => {
            return match key.code {
                KeyCode::Char('y' | 'Y') | KeyCode::Enter if !drawn => vec![],
                KeyCode::Char('y' | 'Y') | KeyCode::Enter => gate::confirmed(state),
                KeyCode::Char('n' | 'N') | KeyCode::Esc => {
                    gate::cancelled(state);
                    vec![]
                }
                _ => vec![],
            };
        }
        Some(Popup::Scale(_)) if !ctrl_c => return actions::scale_key(state, key),
        Some(Popup::ForwardDialog(_)) if !ctrl_c => {
            return super::forwards::dialog_key(state, key);
        }
        Some(Popup::Findings(_)) if !ctrl_c => {
            return super::findings::findings_key(state, key, keymap);
        }
        Some(Popup::Timeline(_)) if !ctrl_c => {
            return super::findings::timeline_key(state, key, keymap);
        }
        _ => {}
    }
    if let Some(Popup::Picker {
        kind,
        items,
        selected,
    }) = state.popups.last()
        && key.code == crossterm::event::KeyCode::Enter
    {
        let (kind, choice) = (*kind, items.get(*selected).cloned());
        state.popups.pop();
        return match choice {
            Some(choice) => super::context::picked(state, kind, &choice),
            None => vec![],
        };
    }
    let contexts = match state.popups.last() {
        Some(Popup::Chart(_)) => Context::Chart.chain(),
        Some(Popup::TaskDefs(_)) => Context::Taskdefs.chain(),
        Some(Popup::Forwards { .. }) => Context::Forwards.chain(),
        _ => Context::Text.chain(),
    };
    let Some(command) = keymap.lookup(contexts, &key) else {
        return vec![];
    };
    if let Some(Popup::Chart(c)) = state.popups.last_mut()
        && chart::key(c, command)
    {
        return vec![];
    }
    if let Some(effects) = super::taskdefs::key(state, command) {
        return effects;
    }
    if let Some(effects) = super::forwards::key(state, command) {
        return effects;
    }
    let page = layout::visible_rows(state.screen);
    let Some(popup) = state.popups.last_mut() else {
        return vec![];
    };
    let scroll = popup.scroll_mut();
    match command {
        Command::Back => {
            state.popups.pop();
        }
        Command::Up => *scroll = scroll.saturating_sub(1),
        Command::Down => *scroll = scroll.saturating_add(1),
        Command::PageUp => *scroll = scroll.saturating_sub(page),
        Command::PageDown => *scroll = scroll.saturating_add(page),
        Command::Top => *scroll = 0,
        Command::Bottom => *scroll = usize::MAX / 2,
        Command::Quit => {
            state.should_quit = true;
            return vec![Effect::Quit];
        }
        Command::Suspend => return vec![Effect::Suspend],
        Command::CommandMode => {
            // `:` works over popups too: close them and take the command.
            state.popups.clear();
            prompt::open_command(state);
            return vec![];
        }
        Command::Help => {
            // `?` on the help screen closes it, as in k9s; over a describe it opens help.
            if matches!(popup, Popup::Help { .. }) {
                state.popups.pop();
            } else {
                let pane = state.focused().pane.kind();
                state.popups.push(Popup::Help { pane, scroll: 0 });
            }
        }
        _ => {}
    }
    clamp_popup_scroll(state, keymap);
    vec![]
}

/// Keeps popup scrolling inside its text, so scrolling back up answers at once.
fn clamp_popup_scroll(state: &mut State, keymap: &KeyMap) {
    let height = layout::visible_rows(state.screen) + 1;
    if let Some(popup) = state.popups.last_mut() {
        let max = match popup {
            Popup::Help { pane, .. } => crate::screen::help::line_count(*pane, keymap)
                .saturating_sub(height.saturating_sub(2)),
            Popup::Describe { lines, .. } => lines.len().saturating_sub(height.saturating_sub(2)),
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
                crate::screen::taskdefs::text_line_count(view, &state.task_defs)
                    .saturating_sub(layout::text_rows(state.screen))
            }
            // Both keep their own selection in range.
            Popup::Findings(_) | Popup::Timeline(_) => return,
            Popup::TargetHealth(view) => crate::screen::target_health::line_count(view)
                .saturating_sub(height.saturating_sub(2)),
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
