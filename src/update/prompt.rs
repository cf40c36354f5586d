//! Keys while the filter (`/`) or command (`:`) prompt is open, and the line editing keys
//! every text field shares (the prompts, the scale and port forward dialogs).

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::action::Effect;
use crate::screen::commands;
use crate::state::{InputMode, LineEditor, State};

use super::{command, rows};

/// `/`: opens on the active filter, selected, so typing starts a new one.
pub fn open_filter(state: &mut State) {
    let current = state.focused().filter.clone();
    state.filter_history.restart();
    state.input = InputMode::Filter(LineEditor::prefilled(&current));
}

/// `:`: opens on the last command, selected: Enter runs it again, typing starts another.
pub fn open_command(state: &mut State) {
    state.command_history.restart();
    let last = state.command_history.last().unwrap_or_default().to_string();
    state.input = InputMode::Command(LineEditor::prefilled(&last));
}

pub fn handle(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    if key.kind == KeyEventKind::Release {
        return vec![];
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match (&mut state.input, key.code) {
        (_, KeyCode::Char('c')) if ctrl => {
            state.should_quit = true;
            return vec![Effect::Quit];
        }
        (InputMode::Filter(_), KeyCode::Esc) => {
            state.input = InputMode::Normal;
            set_filter(state, String::new());
        }
        (InputMode::Filter(editor), KeyCode::Enter) => {
            // The filter stays; the first match is selected so Enter again drills into it.
            state.filter_history.remember(&editor.text);
            state.input = InputMode::Normal;
            let view = state.focused_mut();
            view.select(0);
            view.offset = 0;
            view.selected_key = None;
            rows::refresh_focused(state);
        }
        (InputMode::Command(_) | InputMode::LogSearch(_), KeyCode::Esc) => {
            state.input = InputMode::Normal
        }
        (InputMode::LogSearch(editor), KeyCode::Enter) => {
            let text = editor.text.clone();
            state.input = InputMode::Normal;
            super::logs::search(state, text);
        }
        (InputMode::Command(editor), KeyCode::Enter) => {
            let line = editor.text.clone();
            state.command_history.remember(&line);
            state.input = InputMode::Normal;
            return command::run(state, &line);
        }
        (InputMode::Command(editor), KeyCode::Tab) => {
            if let Some(done) = commands::complete(&editor.text) {
                *editor = LineEditor::with_text(&done);
            }
        }
        (InputMode::Filter(editor), KeyCode::Up | KeyCode::Down) => {
            if recall(&mut state.filter_history, editor, key.code) {
                live_filter(state);
            }
        }
        (InputMode::Command(editor), KeyCode::Up | KeyCode::Down) => {
            recall(&mut state.command_history, editor, key.code);
        }
        (
            InputMode::Filter(editor) | InputMode::Command(editor) | InputMode::LogSearch(editor),
            code,
        ) => {
            if edit(editor, code, ctrl) && matches!(state.input, InputMode::Filter(_)) {
                live_filter(state);
            }
        }
        (InputMode::Normal, _) => {}
    }
    vec![]
}

/// Bracketed paste goes into the open prompt, as typed text; elsewhere it is ignored.
pub fn paste(state: &mut State, text: &str) -> Vec<Effect> {
    if super::actions::scale_paste(state, text) || super::forwards::dialog_paste(state, text) {
        return vec![];
    }
    let first_line = text.lines().next().unwrap_or_default();
    match &mut state.input {
        InputMode::Filter(editor) => {
            editor.insert_str(first_line);
            live_filter(state);
        }
        InputMode::Command(editor) | InputMode::LogSearch(editor) => editor.insert_str(first_line),
        InputMode::Normal => {}
    }
    vec![]
}

/// `↑`/`↓`: an older or newer entry into the prompt, ready to edit. Returns whether it did.
fn recall(
    history: &mut crate::state::PromptHistory,
    editor: &mut LineEditor,
    code: KeyCode,
) -> bool {
    let entry = if code == KeyCode::Up {
        history.older(&editor.text)
    } else {
        history.newer()
    };
    match entry {
        Some(text) => {
            *editor = LineEditor::with_text(&text);
            true
        }
        None => false,
    }
}

/// Applies a line editing key (shell-like: ctrl-w, ctrl-u, ctrl-a, ctrl-e). Returns whether
/// the text changed.
pub(super) fn edit(editor: &mut LineEditor, code: KeyCode, ctrl: bool) -> bool {
    let before = editor.text.clone();
    match code {
        KeyCode::Char('w') if ctrl => editor.delete_word(),
        KeyCode::Char('u') if ctrl => editor.clear(),
        KeyCode::Char('a') if ctrl => editor.home(),
        KeyCode::Char('e') if ctrl => editor.end(),
        KeyCode::Char(_) if ctrl => {}
        KeyCode::Char(c) => editor.insert(c),
        KeyCode::Backspace => editor.backspace(),
        KeyCode::Delete => editor.delete(),
        KeyCode::Left => editor.left(),
        KeyCode::Right => editor.right(),
        KeyCode::Home => editor.home(),
        KeyCode::End => editor.end(),
        _ => {}
    }
    editor.text != before
}

fn live_filter(state: &mut State) {
    if let InputMode::Filter(editor) = &state.input {
        let text = editor.text.clone();
        set_filter(state, text);
    }
}

fn set_filter(state: &mut State, text: String) {
    let view = state.focused_mut();
    if view.filter == text {
        return;
    }
    view.filter = text;
    view.selected = 0;
    view.offset = 0;
    view.selected_key = None;
    rows::refresh_focused(state);
}
