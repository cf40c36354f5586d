//! `:findings`: the triage engine's findings, most severe first, and the selected one's
//! evidence, next step and the keys that act on it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::Ctx;
use crate::keymap::{Command, Context};
use crate::model::{Finding, Remedy, Severity, Subject};
use crate::screen::findings::listed_with_depth;
use crate::screen::format::{age, truncate};
use crate::state::{FindingsView, State};
use crate::theme::Theme;

pub fn severity_style(severity: Severity, t: &Theme) -> Style {
    match severity {
        Severity::Critical => t.error,
        Severity::Warning => t.warn,
        Severity::Info => t.dim,
    }
}

pub fn render(f: &mut Frame, body: Rect, state: &State, view: &FindingsView, ctx: &Ctx) {
    let t = ctx.theme;
    let listed = listed_with_depth(state, view);
    let findings: Vec<&Finding> = listed.iter().map(|(f, _)| *f).collect();
    let (crit, warn, info) = state.triage.counts();
    let title = format!(" Findings ({}) ", crit + warn + info);
    let scope = if view.show_resolved {
        "active and resolved"
    } else {
        "active"
    };
    let hint = super::key_hints(
        ctx,
        Context::Findings,
        &[
            (Command::Enter, "go to"),
            (Command::ToggleResolved, "resolved too"),
            (Command::Back, "close"),
        ],
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focused)
        .style(t.base)
        .title(Span::styled(title, t.title))
        .title(Span::styled(format!(" {scope} "), t.dim))
        .title_bottom(Line::from(Span::styled(hint, t.dim)));
    f.render_widget(Clear, body);
    let inner = block.inner(body);
    f.render_widget(block, body);
    if findings.is_empty() {
        let text = if state.triage.last_evaluated.is_none() {
            "Waiting for the first data…"
        } else {
            "No findings: nothing in the triage catalog matches what the console sees."
        };
        f.render_widget(Paragraph::new(Span::styled(text, t.dim)), inner);
        return;
    }
    let detail_height = (inner.height / 2).clamp(3, 16);
    let [list_area, detail_area] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(detail_height)]).areas(inner);
    let selected = crate::screen::findings::selected_index(&findings, view);
    let rows = list_area.height as usize;
    let offset = selected.saturating_sub(rows.saturating_sub(1));
    let lines: Vec<Line> = findings
        .iter()
        .enumerate()
        .skip(offset)
        .take(rows)
        .map(|(i, finding)| {
            let depth = listed[i].1;
            list_line(state, finding, depth, i == selected, list_area.width, t)
        })
        .collect();
    f.render_widget(Paragraph::new(lines), list_area);
    let detail = detail_lines(state, findings[selected], ctx);
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(t.border)
        .title(Span::styled(" evidence ", t.dim));
    f.render_widget(
        Paragraph::new(detail)
            .block(block)
            .wrap(Wrap { trim: false }),
        detail_area,
    );
}

fn list_line<'a>(
    state: &State,
    finding: &'a Finding,
    depth: u8,
    selected: bool,
    width: u16,
    t: &Theme,
) -> Line<'a> {
    let obs = &finding.current;
    let when = match finding.resolved_at {
        Some(at) => format!("resolved {} ago", age(state.now, at)),
        None => format!("{} ago", age(state.now, finding.opened_at)),
    };
    let sev_style = if finding.is_active() {
        severity_style(obs.severity, t)
    } else {
        t.dim
    };
    // Members of a combined diagnosis are folded under it.
    let rule = if depth > 0 {
        format!("└ {}", truncate(obs.rule, 32))
    } else {
        truncate(obs.rule, 34)
    };
    // The fleet view's findings name their context first, in a column of its own.
    let label = obs.subject.label();
    let head = match crate::model::unqualify(obs.subject.cluster()).1 {
        Some(context) => format!(
            " {:<4}  {:<34}  {:<22}  {:<28}  ",
            obs.severity.badge(),
            rule,
            truncate(context, 22),
            truncate(&label.replacen(&format!("@{context}"), "", 1), 28)
        ),
        None => format!(
            " {:<4}  {:<34}  {:<28}  ",
            obs.severity.badge(),
            rule,
            truncate(&label, 28)
        ),
    };
    let room = (width as usize).saturating_sub(head.chars().count() + when.chars().count() + 2);
    let message = truncate(&obs.message, room);
    let pad = room.saturating_sub(message.chars().count());
    let line = Line::from(vec![
        Span::styled(head, sev_style),
        Span::styled(message, if finding.is_active() { t.base } else { t.dim }),
        Span::raw(" ".repeat(pad + 1)),
        Span::styled(when, t.dim),
    ]);
    if selected {
        line.style(t.selected)
    } else {
        line
    }
}

fn detail_lines<'a>(state: &State, finding: &'a Finding, ctx: &Ctx) -> Vec<Line<'a>> {
    let t = ctx.theme;
    let obs = &finding.current;
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!("{} ", obs.severity.badge()),
            severity_style(obs.severity, t),
        ),
        Span::styled(obs.message.as_str(), t.header_value),
    ])];
    let mut status = format!(
        "{} · {} · opened {} ago",
        obs.rule,
        obs.subject.label(),
        age(state.now, finding.opened_at)
    );
    if let Some(since) = obs.since.filter(|s| *s < finding.opened_at) {
        status.push_str(&format!(" · condition since {}", since.format("%H:%M:%S")));
    }
    if let Some(at) = finding.resolved_at {
        status.push_str(&format!(" · resolved {} ago", age(state.now, at)));
    }
    if finding.peak > obs.severity {
        status.push_str(&format!(" · peaked {}", finding.peak.label()));
    }
    lines.push(Line::from(Span::styled(status, t.dim)));
    for e in &obs.evidence {
        let when =
            e.at.map(|at| format!("{} ", at.format("%H:%M:%S")))
                .unwrap_or_default();
        lines.push(Line::from(vec![
            Span::styled(format!("  {when}"), t.dim),
            Span::styled(e.text.as_str(), t.base),
        ]));
    }
    if !obs.next.is_empty() {
        lines.push(Line::from(vec![
            Span::styled("next: ", t.title),
            Span::styled(obs.next.as_str(), t.base),
        ]));
    }
    let keys = remedy_keys(&obs.subject, &obs.remedies, ctx);
    if !keys.is_empty() {
        lines.push(Line::from(Span::styled(format!("keys: {keys}"), t.dim)));
    }
    lines
}

/// The keys of the remedies that work on this subject, as the key map binds them.
fn remedy_keys(subject: &Subject, remedies: &[Remedy], ctx: &Ctx) -> String {
    let chain = crate::screen::findings::contexts(subject);
    let own = chain[0];
    let mut out: Vec<String> = Vec::new();
    let mut push = |command: Command, label: &str| {
        if let Some(key) = ctx.keymap.key_for(&chain, command) {
            let entry = format!("{key} {label}");
            if !out.contains(&entry) {
                out.push(entry);
            }
        }
    };
    push(Command::Enter, "go to");
    for remedy in remedies {
        let command = match (remedy, own) {
            (Remedy::OpenLogs, _) => Command::Logs,
            (Remedy::Chart, _) => Command::Metrics,
            (Remedy::Scale, Context::Services) => Command::Scale,
            (Remedy::Exec, Context::Tasks | Context::Containers) => Command::Shell,
            (Remedy::Redeploy, Context::Services) => Command::Redeploy,
            (Remedy::Drain, Context::Instances) => Command::Drain,
            (Remedy::TargetHealth, Context::Services) => Command::TargetHealth,
            _ => continue,
        };
        push(command, remedy.label());
    }
    out.join(" · ")
}
