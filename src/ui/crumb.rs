use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Ctx;
use crate::state::State;

/// `clusters › prod › cart › 1a2b3c4d`: where the operator is, built from the navigation stack.
pub fn render(f: &mut Frame, area: Rect, state: &State, ctx: &Ctx) {
    let t = ctx.theme;
    let mut spans = vec![Span::raw(" ")];
    let last = state.nav.len() - 1;
    for (i, view) in state.nav.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" › ", t.dim));
        }
        let style = if i == last { t.title } else { t.base };
        spans.push(Span::styled(view.crumb(), style));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
