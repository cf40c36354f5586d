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
                let tasks = service_tasks(state, view);
                let lines = target_health_lines(view, tasks, state.now, ctx.theme);
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
    // The views those panes open, with keys of their own.
    match pane {
        PaneKind::Services => contexts.push(Context::Taskdefs),
        PaneKind::Tasks | PaneKind::Containers | PaneKind::Instances => {
            contexts.push(Context::Forwards)
        }
        _ => {}
    }
    let mut out = Vec::new();
    for context in contexts {
        let heading = match context {
            Context::Global => "Everywhere".to_string(),
            Context::Table => "Every list".to_string(),
            Context::Text => "Help and describe".to_string(),
            Context::Taskdefs => "Task definitions (T)".to_string(),
            Context::Forwards => "Port forwards (:forwards)".to_string(),
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
        "Commands: :clusters :services :tasks :instances :taskdefs :diff :forwards :region :profile :stats :help :quit (tab completes)",
    ));
    out
}

/// Lines of text a scrollable popup shows at once on this screen (inside its border).
pub fn text_rows(screen: (u16, u16)) -> usize {
    let body = crate::screen::layout::areas(Rect::new(0, 0, screen.0, screen.1)).body;
    centered(body, 90, 90).height.saturating_sub(2) as usize
}

/// Lines of a revision diff or describe, for scrolling.
pub fn taskdef_text_line_count(
    view: &crate::state::TaskDefText,
    cache: &crate::state::TaskDefCache,
) -> usize {
    super::taskdefs::text_line_count(view, cache)
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

pub(super) fn centered(area: Rect, pct_w: u16, pct_h: u16) -> Rect {
    let w = area.width * pct_w / 100;
    let h = area.height * pct_h / 100;
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
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

/// The service's tasks, from whichever list of them the console holds, to name targets.
fn service_tasks<'a>(
    state: &'a State,
    view: &crate::state::TargetHealthView,
) -> &'a [crate::model::Task] {
    use crate::model::{Query, TaskScope};
    let by_service = Query::Tasks {
        scope: TaskScope::Service {
            cluster: view.cluster.clone(),
            service: view.service.clone(),
        },
        stopped: false,
    };
    let tasks = state.fleet.tasks(&by_service);
    if !tasks.is_empty() {
        return tasks;
    }
    state.fleet.tasks(&Query::Tasks {
        scope: TaskScope::Cluster {
            cluster: view.cluster.clone(),
        },
        stopped: false,
    })
}

pub fn target_health_line_count(view: &crate::state::TargetHealthView) -> usize {
    let theme = crate::theme::Theme::no_color();
    target_health_lines(view, &[], crate::model::Time::default(), &theme).len()
}

/// Per target group: its health check, then a row per target (matched to its task by IP).
fn target_health_lines<'a>(
    view: &crate::state::TargetHealthView,
    tasks: &[crate::model::Task],
    now: crate::model::Time,
    t: &crate::theme::Theme,
) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    if let Some(e) = &view.error {
        lines.push(Line::from(Span::styled(format!("stale: {e}"), t.stale)));
    }
    let Some(groups) = &view.groups else {
        lines.push(Line::from(Span::styled("asking the load balancer…", t.dim)));
        return lines;
    };
    if let Some(at) = view.fetched_at {
        lines.push(Line::from(Span::styled(
            format!(
                "updated {} ago, every 5 s",
                crate::screen::format::age(now, at)
            ),
            t.dim,
        )));
    }
    for g in groups {
        let hc = &g.health_check;
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(g.name.clone(), t.title)));
        lines.push(Line::from(Span::styled(
            format!(
                "health check {} {} on port {} · every {}s, timeout {}s · healthy after {}, unhealthy after {} · expects {}",
                hc.protocol,
                if hc.path.is_empty() { "-" } else { &hc.path },
                hc.port,
                hc.interval_secs,
                hc.timeout_secs,
                hc.healthy_threshold,
                hc.unhealthy_threshold,
                if hc.matcher.is_empty() { "-" } else { &hc.matcher }
            ),
            t.dim,
        )));
        lines.push(Line::from(Span::styled(
            format!(
                "{:<22} {:<6} {:<12} {:<10} {:<9} {:<32} {}",
                "TARGET", "PORT", "AZ", "STATE", "TASK", "REASON", "DESCRIPTION"
            ),
            t.column_header,
        )));
        if g.targets.is_empty() {
            lines.push(Line::from(Span::styled("no targets registered", t.warn)));
        }
        for target in &g.targets {
            let task = tasks
                .iter()
                .find(|task| {
                    task.private_ip == target.id
                        || task.ec2_instance_id.as_deref() == Some(target.id.as_str())
                })
                .map_or("-", |task| task.short_id());
            let style = crate::screen::panes::state_style(&target.state.to_uppercase(), t);
            lines.push(Line::from(vec![
                Span::styled(
                    format!(
                        "{:<22} {:<6} {:<12} ",
                        target.id,
                        target.port.map_or("-".into(), |p| p.to_string()),
                        target.availability_zone
                    ),
                    t.base,
                ),
                Span::styled(format!("{:<10} ", target.state), style),
                Span::styled(
                    format!(
                        "{:<9} {:<32} {}",
                        task,
                        if target.reason.is_empty() {
                            "-"
                        } else {
                            &target.reason
                        },
                        target.description
                    ),
                    t.base,
                ),
            ]));
        }
    }
    lines
}
