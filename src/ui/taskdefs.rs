//! The revision list of a task definition family, a diff of two revisions, one in full (their
//! text is `screen::taskdefs`).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::Ctx;
use crate::model::{TaskDefRef, TaskDefinition};
use crate::screen::format::age;
use crate::screen::taskdefs::{live_deployments, running_below, text_lines};
use crate::state::{State, TaskDefText, TaskDefsView};
use crate::theme::Theme;

/// `1.4.3` from `…/cart:1.4.3`; a digest shortened.
fn tag(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    if let Some((_, digest)) = last.split_once('@') {
        return format!("@{}", digest.get(..19).unwrap_or(digest));
    }
    last.rsplit_once(':')
        .map_or("latest".into(), |(_, t)| t.to_string())
}

/// The essential containers' image tags: what a deploy usually changes.
fn tags(def: &TaskDefinition) -> String {
    let essential: Vec<String> = def
        .containers
        .iter()
        .filter(|c| c.essential)
        .map(|c| tag(&c.image))
        .collect();
    essential.join(", ")
}

fn size(def: &TaskDefinition) -> String {
    match (def.cpu, def.memory) {
        (Some(c), Some(m)) => format!("{c}/{m}"),
        (None, Some(m)) => format!("-/{m}"),
        (Some(c), None) => format!("{c}/-"),
        (None, None) => "-".into(),
    }
}

pub fn render_list(f: &mut Frame, area: Rect, state: &State, view: &TaskDefsView, ctx: &Ctx) {
    let t = ctx.theme;
    let popup = crate::screen::layout::centered(area, 90, 90);
    let (running, deployments) = live_deployments(state, view);
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "{}  {:<22} {:<18} {:<11} {:<11} {}",
            " ", "REVISION", "DEPLOYMENT", "REGISTERED", "CPU/MEM", "IMAGE TAGS"
        ),
        t.column_header,
    ))];
    let body = popup.height.saturating_sub(3) as usize;
    match (&view.revisions, &view.error) {
        (_, Some(e)) => lines.push(Line::from(Span::styled(
            format!("could not list the revisions of {}: {e}", view.family),
            t.error,
        ))),
        (None, None) => lines.push(Line::from(Span::styled(
            format!("listing the revisions of {}…", view.family),
            t.dim,
        ))),
        (Some(revisions), None) if revisions.is_empty() => lines.push(Line::from(Span::styled(
            format!("{} has no ACTIVE revisions", view.family),
            t.warn,
        ))),
        (Some(revisions), None) => {
            let offset = view.selected.saturating_sub(body.saturating_sub(1));
            for (i, r) in revisions.iter().enumerate().skip(offset).take(body) {
                lines.push(row(
                    state,
                    r,
                    &running,
                    &deployments,
                    view.marked == Some(r.revision),
                    i == view.selected,
                    t,
                ));
            }
        }
    }
    let count = view.revisions.as_ref().map_or(0, Vec::len);
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focused)
        .style(t.base)
        .title(Span::styled(
            format!(
                " Task definitions · {} ({count} revisions of {}) ",
                view.service, view.family
            ),
            t.title,
        ));
    if let Some(m) = view.marked {
        block = block.title_bottom(
            Line::from(Span::styled(
                format!(" marked {}:{m} · c diffs against it ", view.family),
                t.dim,
            ))
            .right_aligned(),
        );
    }
    f.render_widget(Clear, popup);
    f.render_widget(Paragraph::new(lines).block(block), popup);
}

fn row<'a>(
    state: &State,
    r: &TaskDefRef,
    running: &TaskDefRef,
    deployments: &[(TaskDefRef, String)],
    marked: bool,
    selected: bool,
    t: &Theme,
) -> Line<'a> {
    let deployment: Vec<&str> = deployments
        .iter()
        .filter(|(d, _)| d.revision == r.revision && d.family == r.family)
        .map(|(_, status)| status.as_str())
        .collect();
    let runs = if deployment.is_empty() && r.revision == running.revision {
        "running".to_string()
    } else {
        deployment.join(", ")
    };
    let def = state.task_defs.get(&r.arn);
    let (registered, size, tags) = match def {
        Some(d) => (
            d.registered_at
                .map_or("-".into(), |at| format!("{} ago", age(state.now, at))),
            size(d),
            tags(d),
        ),
        None if state.task_defs.errors.contains_key(r.arn.as_str()) => {
            ("-".into(), "-".into(), "(could not be read)".into())
        }
        None => ("…".into(), "…".into(), "…".into()),
    };
    let text = format!(
        "{}  {:<22} {:<18} {:<11} {:<11} {}",
        if marked { "*" } else { " " },
        r.to_string(),
        runs,
        registered,
        size,
        tags
    );
    let style = if selected {
        t.selected
    } else if runs.contains("PRIMARY") || runs == "running" {
        t.ok
    } else if runs.contains("ACTIVE") {
        t.warn
    } else {
        t.base
    };
    Line::from(Span::styled(text, style))
}

pub fn render_text(
    f: &mut Frame,
    area: Rect,
    state: &State,
    view: &TaskDefText,
    scroll: usize,
    ctx: &Ctx,
) {
    let running = running_below(state);
    let text = text_lines(view, &state.task_defs, running.as_ref(), state.now);
    let lines = super::popups::styled(text, ctx.theme);
    super::popups::draw_text(f, area, &view.title(), lines, scroll, ctx);
}
