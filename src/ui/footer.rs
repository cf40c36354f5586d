use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Ctx;
use crate::keymap::Context;
use crate::state::{InputMode, State};

/// The keys that work right now, from the key map, so the footer never lies.
pub fn render(f: &mut Frame, area: Rect, state: &State, ctx: &Ctx) {
    let t = ctx.theme;
    let pairs: Vec<(String, String)> = match (&state.input, state.popups.last()) {
        (InputMode::Filter(_), _) => vec![
            ("enter".into(), "apply".into()),
            ("esc".into(), "clear".into()),
            ("!".into(), "invert (as first char)".into()),
        ],
        (InputMode::LogSearch(_), _) => vec![
            ("enter".into(), "search".into()),
            ("esc".into(), "cancel".into()),
        ],
        (InputMode::Command(_), _) => vec![
            ("tab".into(), "complete".into()),
            ("enter".into(), "run".into()),
            ("esc".into(), "cancel".into()),
        ],
        (InputMode::Normal, Some(crate::state::Popup::ForwardDialog(_))) => vec![
            ("enter".into(), "accept field".into()),
            ("tab".into(), "other field".into()),
            ("esc".into(), "cancel".into()),
        ],
        (InputMode::Normal, Some(popup)) => ctx.keymap.footer(popup.key_contexts()),
        (InputMode::Normal, None) if state.logs.as_ref().is_some_and(|l| l.focused) => {
            ctx.keymap.footer(Context::Logs.chain())
        }
        (InputMode::Normal, None) => ctx.keymap.footer(&state.focused().pane.kind().contexts()),
    };
    let mut spans = vec![Span::raw(" ")];
    for (key, desc) in pairs {
        spans.push(Span::styled(format!("<{key}>"), t.key));
        spans.push(Span::styled(format!(" {desc}  "), t.key_desc));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
