use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Ctx;
use crate::state::{InputMode, State};

/// The keys that work right now, from the key map, so the footer never lies.
pub fn render(f: &mut Frame, area: Rect, state: &State, ctx: &Ctx) {
    let t = ctx.theme;
    let pairs: Vec<(String, String)> = match &state.input {
        InputMode::Filter(_) => vec![
            ("enter".into(), "apply".into()),
            ("esc".into(), "clear".into()),
            ("!".into(), "invert (as first char)".into()),
        ],
        InputMode::LogSearch(_) => vec![
            ("enter".into(), "search".into()),
            ("esc".into(), "cancel".into()),
        ],
        InputMode::Command(_) => vec![
            ("tab".into(), "complete".into()),
            ("enter".into(), "run".into()),
            ("esc".into(), "cancel".into()),
        ],
        InputMode::Normal => {
            let live = crate::screen::keys::live(state);
            if live.typing {
                ctx.keymap.footer_typing(&live.contexts)
            } else {
                ctx.keymap.footer(&live.contexts)
            }
        }
    };
    let mut spans = vec![Span::raw(" ")];
    for (key, desc) in pairs {
        spans.push(Span::styled(format!("<{key}>"), t.key));
        spans.push(Span::styled(format!(" {desc}  "), t.key_desc));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
