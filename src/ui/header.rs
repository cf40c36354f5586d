use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Ctx;
use crate::screen::format::age;
use crate::state::State;

/// Context first, so nobody acts in the wrong account: source, region, account, principal.
/// On the right, how old the focused pane's data is, and how often it is polled while a quiet
/// view has stretched that (`every 20s`).
///
/// `findings_of` is the console whose findings are counted: the fleet view's (every context's)
/// when a context's panes are on screen.
pub fn render(f: &mut Frame, area: Rect, state: &State, findings_of: &State, ctx: &Ctx) {
    let t = ctx.theme;
    let id = &state.identity;
    let sep = || Span::styled(" │ ", t.dim);
    let value = |s: &str| {
        Span::styled(
            if s.is_empty() {
                "…".to_string()
            } else {
                s.to_string()
            },
            t.header_value,
        )
    };
    let mut left = vec![Span::styled(" ecsmon ", t.header), Span::raw(" ")];
    left.push(value(&id.source));
    left.extend([sep(), Span::styled("region ", t.dim), value(&id.region)]);
    left.extend([sep(), Span::styled("account ", t.dim), value(&id.account)]);
    left.extend([sep(), value(&id.principal)]);
    if state.read_only {
        left.extend([
            Span::raw("  "),
            Span::styled(" READ-ONLY ", t.badge_read_only),
        ]);
    }
    let left = Line::from(left);
    let left_width = left.width();
    f.render_widget(Paragraph::new(left).style(t.base), area);

    let slot = state.fleet.slot(&state.focused().pane.query());
    let (crit, warn, info) = findings_of.triage.counts();
    let count = |n: usize, word: &str, style| {
        Span::styled(format!(" {n} {word} "), if n > 0 { style } else { t.dim })
    };
    // The findings counts in words when there is room, in letters when the context (which
    // always wins) leaves little.
    let long = vec![
        Span::styled("findings", t.dim),
        count(crit, "crit", t.error),
        count(warn, "warn", t.warn),
        count(info, "info", t.dim),
        Span::styled("│", t.dim),
    ];
    let short = vec![
        count(crit, "C", t.error),
        count(warn, "W", t.warn),
        count(info, "I", t.dim),
        Span::styled("│", t.dim),
    ];
    let age_span = match slot.and_then(|s| s.fetched_at.map(|at| (at, s.is_stale()))) {
        Some((at, true)) => Span::styled(
            format!(" STALE · data {} old ", age(state.now, at)),
            t.stale,
        ),
        Some((at, false)) => {
            let every = crate::poll::cadence::shown(state)
                .map(|c| format!("· every {}s ", c.as_secs()))
                .unwrap_or_default();
            Span::styled(format!(" data {} old {every}", age(state.now, at)), t.dim)
        }
        None => Span::styled(" loading… ", t.dim),
    };
    let room = (area.width as usize).saturating_sub(left_width + 1);
    let fits = |spans: &[Span]| spans.iter().map(Span::width).sum::<usize>() <= room;
    let mut right: Vec<Span> = Vec::new();
    if findings_of.triage.last_evaluated.is_some() {
        let with_age = |counts: Vec<Span<'static>>| {
            let mut all = counts;
            all.push(age_span.clone());
            fits(&all).then_some(all)
        };
        right = with_age(long)
            .or_else(|| with_age(short))
            .unwrap_or_default();
    }
    if right.is_empty() && fits(std::slice::from_ref(&age_span)) {
        right.push(age_span);
    }
    if !right.is_empty() {
        f.render_widget(Paragraph::new(Line::from(right).right_aligned()), area);
    }
}
