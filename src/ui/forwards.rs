//! The port forward dialog (`F`) and the forwards view (`:forwards`).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::Ctx;
use super::editor::editor_text;
use crate::screen::format::age;
use crate::state::{ForwardDialog, ForwardState, LineEditor, State};

pub fn render_dialog(f: &mut Frame, area: Rect, d: &ForwardDialog, ctx: &Ctx) {
    let t = ctx.theme;
    let mut lines = Vec::new();
    match (&d.task, &d.ports) {
        (Some(_), None) => lines.push(Line::from(Span::styled(
            "reading the task definition's port mappings…",
            t.dim,
        ))),
        (Some(_), Some(ports)) if !ports.is_empty() => {
            let listed: Vec<String> = ports
                .iter()
                .map(|(name, p)| format!("{name} {p}"))
                .collect();
            lines.push(Line::from(vec![
                Span::styled("ports in the task definition: ", t.dim),
                Span::styled(listed.join(" · "), t.base),
            ]));
        }
        (Some(_), Some(_)) => {}
        (None, _) => lines.push(Line::from(Span::styled(
            "through the instance's SSM agent: a port on the instance, or host:port reachable \
             from it (a private database…)",
            t.dim,
        ))),
    }
    if let Some(name) = &d.container {
        lines.push(Line::from(Span::styled(
            format!("through container {name}"),
            t.dim,
        )));
    }
    lines.push(Line::default());
    let field = |label: &str, editor: &LineEditor, active: bool| {
        let style = if active { t.prompt } else { t.dim };
        let cursor = if active { "█" } else { "" };
        Line::from(vec![
            Span::styled(format!("{label:<30} "), style),
            editor_text(editor, active, t.header_value, t),
            Span::styled(cursor, t.header_value),
        ])
    };
    lines.push(field("local port", &d.local, d.field == 0));
    let remote_label = if d.task.is_some() {
        "container port, or host:port"
    } else {
        "port, or host:port"
    };
    lines.push(field(remote_label, &d.remote, d.field == 1));
    lines.push(Line::default());
    if let Some(message) = &d.message {
        lines.push(Line::from(Span::styled(message.clone(), t.warn)));
    }
    lines.push(Line::from(Span::styled(
        "enter: accept the field    tab: the other field    esc: cancel (nothing starts before \
         you confirm)",
        t.dim,
    )));
    let popup = super::popups::boxed(area, 84, lines.len() as u16 + 4);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focused)
        .style(t.base)
        .title(Span::styled(format!(" {} ", d.title()), t.title));
    f.render_widget(Clear, popup);
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        popup,
    );
}

pub fn render_list(f: &mut Frame, area: Rect, state: &State, selected: usize, ctx: &Ctx) {
    let t = ctx.theme;
    let popup = crate::screen::layout::centered(area, 90, 60);
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "{:<7} {:<26} {:<24} {:<18} {:<9} {}",
            "LOCAL", "TARGET", "REMOTE", "STARTED", "STATE", "DETAIL"
        ),
        t.column_header,
    ))];
    let list = &state.forwards.list;
    if list.is_empty() {
        lines.push(Line::from(Span::styled(
            "No port forwards. F on a task, a container or a container instance starts one.",
            t.dim,
        )));
    }
    let body = popup.height.saturating_sub(3) as usize;
    let offset = selected.saturating_sub(body.saturating_sub(1));
    for (i, fw) in list.iter().enumerate().skip(offset).take(body) {
        let started = format!(
            "{} ({} ago)",
            fw.started_at.format("%H:%M:%S"),
            age(state.now, fw.started_at)
        );
        let state_style = match &fw.state {
            ForwardState::Active => t.ok,
            ForwardState::Starting | ForwardState::Stopping => t.warn,
            ForwardState::Ended(_) => t.dim,
            ForwardState::Failed(_) => t.error,
        };
        let detail = match &fw.state {
            ForwardState::Active => format!("localhost:{} is open", fw.local_port()),
            other => other.reason().to_string(),
        };
        let row_style = if i == selected { t.selected } else { t.base };
        lines.push(Line::from(vec![
            Span::styled(
                format!(
                    "{:<7} {:<26} {:<24} {:<18} ",
                    fw.local_port(),
                    fw.target(),
                    fw.remote(),
                    started
                ),
                row_style,
            ),
            Span::styled(
                format!("{:<9} ", fw.state.word()),
                if i == selected {
                    t.selected
                } else {
                    state_style
                },
            ),
            Span::styled(detail, row_style),
        ]));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focused)
        .style(t.base)
        .title(Span::styled(
            format!(" Port forwards ({} running) ", state.forwards.live()),
            t.title,
        ))
        .title_bottom(
            Line::from(Span::styled(
                " all are stopped (SSM TerminateSession) when ecsmon exits ",
                t.dim,
            ))
            .right_aligned(),
        );
    f.render_widget(Clear, popup);
    f.render_widget(Paragraph::new(lines).block(block), popup);
}
