use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::Ctx;
use super::table::{self, TableFrame};
use crate::model::Insights;
use crate::screen::format::{age, grouped};
use crate::screen::panes;
use crate::screen::table::RowCtx;
use crate::state::{Pane, State, View};
use crate::with_table;

/// The focused pane: its table, or why there is no table.
pub fn render(f: &mut Frame, area: Rect, state: &State, ctx: &Ctx) {
    let t = ctx.theme;
    let view = state.focused();
    let query = view.pane.query();
    let slot = state.fleet.slot(&query);

    if let Some(gone) = slot.and_then(|s| s.gone()) {
        let lines = vec![
            Line::from(Span::styled(gone.to_string(), t.warn)),
            Line::from(Span::styled("esc goes back", t.dim)),
        ];
        return message(f, area, view.pane.title(), lines, ctx);
    }
    let Some(slot) = slot.filter(|s| s.data.is_some()) else {
        let text = match slot.and_then(|s| s.error.as_ref()) {
            Some(e) => Line::from(Span::styled(e.message.clone(), t.error)),
            None => Line::from(Span::styled(
                format!("loading {}…", query.describe()),
                t.dim,
            )),
        };
        return message(f, area, view.pane.title(), vec![text], ctx);
    };

    let note = slot.error.as_ref().map(|e| {
        let since = slot
            .fetched_at
            .map(|at| age(state.now, at))
            .unwrap_or_default();
        (format!("stale {since}: {}", e.message), t.stale)
    });
    let frame = TableFrame {
        title: title(view, slot.loading()),
        note,
        hint: metrics_hint(state),
        focused: !state.logs.as_ref().is_some_and(|l| l.focused),
        theme: t,
        ctx: RowCtx {
            now: state.now,
            metrics: &state.metrics,
            triage: &state.triage,
        },
    };
    with_table!(
        panes::items(&view.pane, &state.fleet),
        |items, cols, _key| table::draw(f, area, items, &cols, view, frame)
    );
}

/// One line about the pane's metrics as a whole: why a column is empty in every row, or
/// that CloudWatch cannot be read.
fn metrics_hint(state: &State) -> Option<String> {
    if let Some(e) = &state.metrics.error {
        return Some(format!("metrics: {}", e.message));
    }
    let Pane::Tasks {
        scope,
        stopped: false,
    } = &state.focused().pane
    else {
        return None;
    };
    let cluster = scope.cluster();
    match state.fleet.insights(cluster)? {
        Insights::Enhanced => None,
        Insights::On => Some(format!(
            "per-task CPU and memory need Container Insights with enhanced observability; \
             {cluster} has it on without"
        )),
        Insights::Off => Some(format!(
            "per-task CPU and memory need Container Insights (enhanced); it is off for {cluster}"
        )),
    }
}

/// `Tasks (130)`, or `Tasks (3 of 130)` while a filter is active; `Services (2,000 · 340
/// loaded)` while a listed pane's rows still wait for their details.
pub fn title(view: &View, loading: Option<(usize, usize)>) -> String {
    let name = view.pane.title();
    let total = grouped(view.total);
    let loaded = loading
        .map(|(_, loaded)| format!(" · {} loaded", grouped(loaded)))
        .unwrap_or_default();
    if view.filter.is_empty() {
        format!("{name} ({total}{loaded})")
    } else {
        format!("{name} ({} of {total}{loaded})", grouped(view.rows.len()))
    }
}

fn message(f: &mut Frame, area: Rect, title: &str, lines: Vec<Line>, ctx: &Ctx) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(ctx.theme.border_focused)
        .title(Span::styled(format!(" {title} "), ctx.theme.title));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let top = inner.height.saturating_sub(lines.len() as u16) / 2;
    let text_area = Rect::new(inner.x, inner.y + top, inner.width, inner.height - top);
    let p = Paragraph::new(lines)
        .alignment(Alignment::Center)
        .wrap(Wrap { trim: true })
        .style(Style::default());
    f.render_widget(p, text_area);
}
