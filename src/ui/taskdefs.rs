//! The revision list of a task definition family, a diff of two revisions, one in full.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::Ctx;
use crate::model::taskdef_diff::{self, DiffLine, Mark};
use crate::model::{TaskDefRef, TaskDefinition, Time};
use crate::screen::format::age;
use crate::state::{Popup, State, TaskDefCache, TaskDefText, TaskDefsView};
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
    let popup = super::popups::centered(area, 90, 90);
    let (running, deployments) = crate::update::taskdefs::live_deployments(state, view);
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
        None if state.task_defs.errors.contains_key(&r.arn) => {
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

/// The running revision shown by the revision list under a text view, if any.
fn running_below(state: &State) -> Option<TaskDefRef> {
    state.popups.iter().rev().find_map(|p| match p {
        Popup::TaskDefs(view) => Some(crate::update::taskdefs::live_deployments(state, view).0),
        _ => None,
    })
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
    let lines = text_lines(
        view,
        &state.task_defs,
        running.as_ref(),
        state.now,
        ctx.theme,
    );
    super::popups::draw_text(f, area, &view.title(), lines, scroll, ctx);
}

pub fn text_line_count(view: &TaskDefText, cache: &TaskDefCache) -> usize {
    let theme = Theme::no_color();
    text_lines(view, cache, None, Time::default(), &theme).len()
}

fn named(r: &TaskDefRef, running: Option<&TaskDefRef>) -> String {
    if running.is_some_and(|x| x.revision == r.revision && x.family == r.family) {
        format!("{r} (running)")
    } else {
        r.to_string()
    }
}

/// The diff or the describe, or what it is waiting for.
fn text_lines(
    view: &TaskDefText,
    cache: &TaskDefCache,
    running: Option<&TaskDefRef>,
    now: Time,
    t: &Theme,
) -> Vec<Line<'static>> {
    let mut missing = Vec::new();
    let mut defs = Vec::new();
    for r in view.needs() {
        match cache.get(&r.arn) {
            Some(d) => defs.push(d.clone()),
            None => missing.push(match cache.errors.get(&r.arn) {
                Some(e) => Line::from(Span::styled(format!("{r}: {e}"), t.error)),
                None => Line::from(Span::styled(format!("reading {r}…"), t.dim)),
            }),
        }
    }
    if !missing.is_empty() {
        return missing;
    }
    match view {
        TaskDefText::Describe(r) => {
            let mut lines = vec![Line::from(Span::styled(named(r, running), t.title))];
            if let Some(at) = defs[0].registered_at {
                lines.push(Line::from(Span::styled(
                    format!("registered {} ago", age(now, at)),
                    t.dim,
                )));
            }
            lines.extend(
                taskdef_diff::describe(&defs[0])
                    .into_iter()
                    .skip(1)
                    .map(|l| Line::from(Span::styled(l, t.base))),
            );
            lines
        }
        TaskDefText::Diff { from, to } => {
            let diff = taskdef_diff::diff(&defs[0], &defs[1]);
            let mut lines = vec![
                Line::from(Span::styled(
                    format!("{} → {}", named(from, running), named(to, running)),
                    t.title,
                )),
                Line::from(Span::styled(
                    "+ added   - removed   ~ changed   (secret values are never shown)",
                    t.dim,
                )),
                Line::default(),
            ];
            if diff.is_empty() {
                lines.push(Line::from(Span::styled(
                    "no differences in what ecsmon compares (images, environment, secrets, \
                     sizes, ports, health check, logging, command, ulimits, flags)",
                    t.ok,
                )));
                return lines;
            }
            if !diff.task.is_empty() {
                lines.push(Line::from(Span::styled("task", t.title)));
                lines.extend(diff.task.iter().map(|l| diff_line(l, t)));
            }
            for (name, changes) in diff.containers.iter().filter(|(_, l)| !l.is_empty()) {
                lines.push(Line::from(Span::styled(
                    format!("container {name}"),
                    t.title,
                )));
                lines.extend(changes.iter().map(|l| diff_line(l, t)));
            }
            lines
        }
    }
}

fn diff_line(l: &DiffLine, t: &Theme) -> Line<'static> {
    let style: Style = match l.mark {
        Mark::Added => t.ok,
        Mark::Removed => t.error,
        Mark::Changed => t.warn,
    };
    Line::from(vec![
        Span::styled(format!("  {} {:<22} ", l.mark.sign(), l.field), style),
        Span::styled(l.detail.clone(), t.base),
    ])
}
