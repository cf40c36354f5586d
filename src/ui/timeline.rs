//! `:timeline`: service events, deployments and rollbacks, task stops, findings opening and
//! closing, alarm changes and the operator's own actions, newest first.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::Ctx;
use crate::keymap::{Command, Context};
use crate::screen::format::truncate;
use crate::screen::timeline::timeline_entries;
use crate::state::{State, TimelineKind, TimelineView};

pub fn render(f: &mut Frame, body: Rect, state: &State, view: &TimelineView, ctx: &Ctx) {
    let t = ctx.theme;
    let entries = timeline_entries(state, view);
    let scope = match &view.service {
        Some((c, s)) => format!(" {c}/{s} · {} ", view.window.label()),
        None => format!(" all services · {} ", view.window.label()),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focused)
        .style(t.base)
        .title(Span::styled(" Timeline ", t.title))
        .title(Span::styled(scope, t.dim))
        .title_bottom(Line::from(Span::styled(
            format!(
                " {} entries ·{}",
                entries.len(),
                super::key_hints(
                    ctx,
                    Context::Timeline,
                    &[
                        (Command::WindowNext, "window"),
                        (Command::AllServices, "all services"),
                        (Command::Back, "close"),
                    ],
                )
            ),
            t.dim,
        )));
    f.render_widget(Clear, body);
    let inner = block.inner(body);
    f.render_widget(block, body);
    if entries.is_empty() {
        f.render_widget(
            Paragraph::new(Span::styled("Nothing happened in this window.", t.dim)),
            inner,
        );
        return;
    }
    let scroll = view.scroll.min(entries.len().saturating_sub(1));
    let lines: Vec<Line> = entries
        .iter()
        .skip(scroll)
        .take(inner.height as usize)
        .map(|e| {
            let kind_style = match (e.kind, e.severity) {
                (TimelineKind::FindingResolved, _) => t.ok,
                (_, Some(sev)) => super::findings::severity_style(sev, t),
                (TimelineKind::Rollback | TimelineKind::TaskStopped, _) => t.warn,
                (TimelineKind::Alarm, _) if e.text.contains("→ ALARM") => t.error,
                (TimelineKind::Operator, _) => t.title,
                _ => t.dim,
            };
            Line::from(vec![
                Span::styled(format!(" {} ", e.at.format("%H:%M:%S")), t.dim),
                Span::styled(format!("{:<8} ", e.kind.label()), kind_style),
                Span::styled(format!("{:<24} ", truncate(&e.subject, 24)), t.header_value),
                Span::styled(e.text.as_str(), t.base),
            ])
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}
