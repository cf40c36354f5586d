//! Popups over the panes: help and describe. Both are scrollable text.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::Ctx;
use crate::keymap::{Context, KeyMap};
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

/// One line of the help screen, before styling.
enum HelpLine {
    Blank,
    Heading(String),
    Binding(String, String),
    Note(&'static str),
}

/// Every binding of the pane's contexts, grouped, straight from the key map.
fn help_entries(pane: PaneKind, keymap: &KeyMap) -> Vec<HelpLine> {
    let mut contexts = pane.contexts().to_vec();
    contexts.push(Context::Text);
    let mut out = Vec::new();
    for context in contexts {
        let heading = match context {
            Context::Global => "Everywhere".to_string(),
            Context::Table => "Every list".to_string(),
            Context::Text => "Help and describe".to_string(),
            other => format!("{other:?} pane"),
        };
        let bindings: Vec<_> = keymap.bindings(context).collect();
        if bindings.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(HelpLine::Blank);
        }
        out.push(HelpLine::Heading(heading));
        for b in bindings {
            let keys = b
                .keys
                .iter()
                .map(|k| k.to_string())
                .collect::<Vec<_>>()
                .join(" ");
            out.push(HelpLine::Binding(keys, b.desc.clone()));
        }
    }
    out.push(HelpLine::Blank);
    out.push(HelpLine::Note(
        "Commands: :clusters :services :tasks :instances :region :profile :stats :help :quit (tab completes)",
    ));
    out
}

pub fn help_line_count(pane: PaneKind, keymap: &KeyMap) -> usize {
    help_entries(pane, keymap).len()
}

fn help_lines<'a>(pane: PaneKind, ctx: &Ctx<'a>) -> Vec<Line<'a>> {
    let t = ctx.theme;
    help_entries(pane, ctx.keymap)
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

fn draw_text(f: &mut Frame, area: Rect, title: &str, lines: Vec<Line>, scroll: usize, ctx: &Ctx) {
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

fn centered(area: Rect, pct_w: u16, pct_h: u16) -> Rect {
    let w = area.width * pct_w / 100;
    let h = area.height * pct_h / 100;
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}
