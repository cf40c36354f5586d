use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use super::Ctx;
use super::editor::editor_text;
use crate::screen::commands;
use crate::state::{InputMode, Level, State};

/// The prompt while typing a filter or a command; otherwise the last message, or the active
/// filter as a reminder.
pub fn render(f: &mut Frame, area: Rect, state: &State, ctx: &Ctx) {
    let t = ctx.theme;
    let (prompt, editor, hint) = match &state.input {
        InputMode::Filter(e) => ("/", e, String::new()),
        InputMode::LogSearch(e) => ("search log: ", e, String::new()),
        // No completion offered for a selection: typing replaces it.
        InputMode::Command(e) if e.selected => ("", e, String::new()),
        InputMode::Command(e) => ("", e, commands::completion_hint(&e.text)),
        InputMode::Normal => {
            f.render_widget(Paragraph::new(message(state, ctx)), area);
            return;
        }
    };
    let lead = if prompt.is_empty() { ":" } else { prompt };
    let line = Line::from(vec![
        Span::styled(format!(" {lead}"), t.prompt),
        editor_text(editor, true, t.base, t),
        Span::styled(hint, t.dim),
    ]);
    f.render_widget(Paragraph::new(line), area);
    let before: String = editor.text.chars().take(editor.cursor).collect();
    let x = area.x + 1 + lead.width() as u16 + before.width() as u16;
    f.set_cursor_position(Position::new(x.min(area.right().saturating_sub(1)), area.y));
}

fn message<'a>(state: &'a State, ctx: &Ctx) -> Line<'a> {
    let t = ctx.theme;
    if let Some(status) = &state.status {
        let style = match status.level {
            Level::Info => t.info,
            Level::Warn => t.warn,
            Level::Error => t.error,
        };
        return Line::from(Span::styled(format!(" {}", status.text), style));
    }
    let filter = &state.focused().filter;
    if filter.is_empty() {
        Line::default()
    } else {
        Line::from(vec![
            Span::styled(" filter ", t.dim),
            Span::styled(filter.as_str(), t.highlight),
            Span::styled("  (esc clears)", t.dim),
        ])
    }
}
