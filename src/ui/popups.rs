//! Popups over the panes: help and describe. Both are scrollable text.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::Ctx;
use crate::screen::help::{self, HelpLine};
use crate::screen::layout::centered;
use crate::screen::target_health;
use crate::screen::text::TextLine;
use crate::state::{PaneKind, Popup, State};

pub fn render(f: &mut Frame, area: Rect, state: &State, ctx: &Ctx) {
    for popup in &state.popups {
        match popup {
            Popup::Help { pane, scroll } => {
                let lines = help_lines(*pane, ctx);
                draw_text(f, area, "Help", lines, *scroll, ctx);
            }
            Popup::Picker {
                kind,
                items,
                selected,
            } => draw_picker(f, area, kind.title(), items, *selected, ctx),
            Popup::Chart(chart) => super::chart::render(f, area, state, chart, ctx),
            Popup::Findings(view) => super::findings::render(f, area, state, view, ctx),
            Popup::Timeline(view) => super::timeline::render(f, area, state, view, ctx),
            Popup::Confirm { lines, .. } => draw_confirm(f, area, lines, ctx),
            Popup::Scale(dialog) => draw_scale(f, area, dialog, ctx),
            Popup::TaskDefs(view) => super::taskdefs::render_list(f, area, state, view, ctx),
            Popup::TaskDefText { view, scroll } => {
                super::taskdefs::render_text(f, area, state, view, *scroll, ctx);
            }
            Popup::ForwardDialog(dialog) => super::forwards::render_dialog(f, area, dialog, ctx),
            Popup::Forwards { selected } => {
                super::forwards::render_list(f, area, state, *selected, ctx);
            }
            Popup::TargetHealth(view) => {
                let tasks = target_health::service_tasks(state, view);
                let lines = styled(target_health::lines(view, tasks, state.now), ctx.theme);
                let title = format!("Target health · {}", view.service);
                draw_text(f, area, &title, lines, view.scroll, ctx);
            }
            Popup::Describe {
                title,
                lines,
                scroll,
            } => {
                let lines = lines
                    .iter()
                    .map(|l| Line::from(Span::styled(l.as_str(), ctx.theme.base)))
                    .collect();
                draw_text(f, area, title, lines, *scroll, ctx);
            }
        }
    }
}

fn help_lines<'a>(pane: PaneKind, ctx: &Ctx<'a>) -> Vec<Line<'a>> {
    let t = ctx.theme;
    help::entries(pane, ctx.keymap)
        .into_iter()
        .map(|entry| match entry {
            HelpLine::Blank => Line::default(),
            HelpLine::Heading(h) => Line::from(Span::styled(h, t.title)),
            HelpLine::Binding(keys, desc) => Line::from(vec![
                Span::styled(format!("  {keys:<22}"), t.key),
                Span::styled(desc, t.key_desc),
            ]),
            HelpLine::Note(n) => Line::from(Span::styled(n, t.dim)),
        })
        .collect()
}

/// A popup's text in the theme's colours.
pub(super) fn styled(text: Vec<TextLine>, t: &crate::theme::Theme) -> Vec<Line<'static>> {
    text.into_iter()
        .map(|pieces| {
            Line::from(
                pieces
                    .into_iter()
                    .map(|(text, tone)| Span::styled(text, tone.style(t)))
                    .collect::<Vec<_>>(),
            )
        })
        .collect()
}

pub(super) fn draw_text(
    f: &mut Frame,
    area: Rect,
    title: &str,
    lines: Vec<Line>,
    scroll: usize,
    ctx: &Ctx,
) {
    let t = ctx.theme;
    let popup = centered(area, 90, 90);
    let total = lines.len();
    let inner_height = popup.height.saturating_sub(2) as usize;
    let scroll = scroll.min(total.saturating_sub(inner_height));
    let position = if total > inner_height {
        format!(
            " {}-{} of {total} ",
            scroll + 1,
            (scroll + inner_height).min(total)
        )
    } else {
        String::new()
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focused)
        .style(t.base)
        .title(Span::styled(format!(" {title} "), t.title))
        .title_bottom(Line::from(Span::styled(position, t.dim)).right_aligned());
    f.render_widget(Clear, popup);
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((scroll.min(u16::MAX as usize) as u16, 0)),
        popup,
    );
}

fn draw_picker(
    f: &mut Frame,
    area: Rect,
    title: &str,
    items: &[String],
    selected: usize,
    ctx: &Ctx,
) {
    let t = ctx.theme;
    let width = items
        .iter()
        .map(|i| i.len())
        .max()
        .unwrap_or(10)
        .max(title.len()) as u16
        + 6;
    let height = (items.len() as u16 + 2).min(area.height);
    let popup = Rect::new(
        area.x + area.width.saturating_sub(width) / 2,
        area.y + area.height.saturating_sub(height) / 2,
        width.min(area.width),
        height,
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focused)
        .style(t.base)
        .title(Span::styled(format!(" {title} "), t.title))
        .title_bottom(
            Line::from(Span::styled(" enter picks · esc cancels ", t.dim)).right_aligned(),
        );
    let list = ratatui::widgets::List::new(items.iter().map(|i| format!(" {i}")))
        .block(block)
        .highlight_style(t.selected);
    let mut state = ratatui::widgets::ListState::default().with_selected(Some(selected));
    f.render_widget(Clear, popup);
    f.render_stateful_widget(list, popup, &mut state);
}

pub(super) fn boxed(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// The gate's question: what changes, where, and how to answer.
fn draw_confirm(f: &mut Frame, area: Rect, lines: &[String], ctx: &Ctx) {
    let t = ctx.theme;
    let width = lines.iter().map(|l| l.chars().count()).max().unwrap_or(20) as u16 + 6;
    let popup = boxed(area, width.max(40), lines.len() as u16 + 2);
    let text: Vec<Line> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| match i {
            0 => Line::from(Span::styled(l.as_str(), t.title)),
            _ if l.starts_with("y or enter") => Line::from(Span::styled(l.as_str(), t.key)),
            _ => Line::from(Span::styled(l.as_str(), t.base)),
        })
        .collect();
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.warn)
        .style(t.base)
        .title(Span::styled(" Confirm ", t.warn));
    f.render_widget(Clear, popup);
    f.render_widget(Paragraph::new(text).block(block), popup);
}

fn draw_scale(f: &mut Frame, area: Rect, d: &crate::state::ScaleDialog, ctx: &Ctx) {
    let t = ctx.theme;
    let bounds = match &d.bounds {
        None => Span::styled("auto scaling: looking…", t.dim),
        Some(Ok(None)) => Span::styled("auto scaling: none", t.dim),
        Some(Ok(Some(b))) => Span::styled(
            format!(
                "auto scaling: min {} · max {}{}",
                b.min,
                b.max,
                if b.suspended { " · suspended" } else { "" }
            ),
            t.base,
        ),
        Some(Err(e)) => Span::styled(format!("auto scaling: unknown ({})", e.message), t.stale),
    };
    let mut lines = vec![
        Line::from(Span::styled(
            format!(
                "desired {} · running {} · pending {}",
                d.desired, d.running, d.pending
            ),
            t.base,
        )),
        Line::from(bounds),
        Line::default(),
        Line::from(vec![
            Span::styled("new desired count: ", t.prompt),
            super::editor::editor_text(&d.editor, d.zero_check.is_none(), t.header_value, t),
        ]),
    ];
    if let Some(check) = &d.zero_check {
        lines.push(Line::from(vec![
            Span::styled(format!("type {} to confirm: ", d.service), t.warn),
            Span::styled(check.text.clone(), t.header_value),
        ]));
    }
    lines.push(Line::default());
    if let Some(message) = &d.message {
        lines.push(Line::from(Span::styled(message.clone(), t.warn)));
    }
    lines.push(Line::from(Span::styled(
        "enter: next    esc: cancel (nothing is sent before you confirm)",
        t.dim,
    )));
    // Room for a long typed value wrapping onto a second row.
    let popup = boxed(area, 76, lines.len() as u16 + 3);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focused)
        .style(t.base)
        .title(Span::styled(format!(" Scale {} ", d.service), t.title));
    f.render_widget(Clear, popup);
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(ratatui::widgets::Wrap { trim: false }),
        popup,
    );
}
