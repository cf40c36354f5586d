//! The metrics chart popup (`m`): one ratatui `Chart` per group of metrics, a time axis over
//! the chosen window, and the thresholds of the alarms watching each metric.

use chrono::TimeDelta;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Borders, Chart, Clear, Dataset, GraphType, Paragraph};

use super::Ctx;
use crate::model::{AlarmState, SeriesKey, Time, Unit};
use crate::screen::spark::format_value;
use crate::state::{Chart as ChartState, ChartLine, State};

/// Consecutive points of a line: (seconds into the window, value).
type Run = Vec<(f64, f64)>;

/// A chart shorter than this is unreadable: fewer are shown, the rest scroll.
const MIN_CHART_HEIGHT: u16 = 8;

/// Popup area: most of the body.
fn area_of(body: Rect) -> Rect {
    let w = body.width.saturating_sub(4).max(10).min(body.width);
    let h = body.height.saturating_sub(2).max(5).min(body.height);
    Rect::new(
        body.x + (body.width - w) / 2,
        body.y + (body.height - h) / 2,
        w,
        h,
    )
}

pub fn render(f: &mut Frame, body: Rect, state: &State, chart: &ChartState, ctx: &Ctx) {
    let t = ctx.theme;
    let area = area_of(body);
    let windows: Vec<Span> = crate::state::ChartWindow::ALL
        .iter()
        .enumerate()
        .flat_map(|(i, w)| {
            let style = if *w == chart.window {
                t.selected
            } else {
                t.dim
            };
            [
                Span::styled(format!("{} {}", i + 1, w.label()), style),
                Span::raw(" "),
            ]
        })
        .collect();
    let age = match (&state.metrics.error, state.metrics.fetched_at) {
        (Some(e), _) => Span::styled(format!(" stale: {} ", e.message), t.stale),
        (None, Some(at)) => Span::styled(
            format!(" updated {} ", crate::screen::format::age(state.now, at)),
            t.dim,
        ),
        (None, None) => Span::styled(" loading… ", t.dim),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focused)
        .style(t.base)
        .title(Span::styled(
            format!(
                " Metrics · {} · {} (1 point = {}) ",
                chart.title,
                chart.window.label(),
                period_label(chart.window.period())
            ),
            t.title,
        ))
        .title_bottom(Line::from(windows))
        .title_bottom(Line::from(age).right_aligned());
    f.render_widget(Clear, area);
    let inner = block.inner(area);
    f.render_widget(block, area);

    let mut rows = inner;
    if let Some(note) = &chart.note {
        f.render_widget(
            Paragraph::new(Span::styled(note.as_str(), t.warn)),
            Rect::new(rows.x, rows.y, rows.width, 1),
        );
        rows = Rect::new(
            rows.x,
            rows.y + 1,
            rows.width,
            rows.height.saturating_sub(1),
        );
    }
    if chart.groups.is_empty() || rows.height < 3 {
        return;
    }
    let fit = (rows.height / MIN_CHART_HEIGHT).max(1) as usize;
    let shown = fit.min(chart.groups.len());
    let first = chart.scroll.min(chart.groups.len() - shown);
    if shown < chart.groups.len() {
        let more = format!(
            " charts {}-{} of {} · j/k scroll ",
            first + 1,
            first + shown,
            chart.groups.len()
        );
        let width = more.chars().count() as u16;
        f.render_widget(
            Paragraph::new(Span::styled(more, t.dim)),
            Rect::new(
                area.x + area.width.saturating_sub(width + 2),
                area.y,
                width.min(area.width),
                1,
            ),
        );
    }
    let areas = Layout::vertical(vec![Constraint::Fill(1); shown]).split(rows);
    for (group, area) in chart.groups[first..first + shown].iter().zip(areas.iter()) {
        draw_group(f, *area, state, chart, &group.0, &group.1, ctx);
    }
}

fn period_label(period: u32) -> String {
    match period {
        p if p % 3600 == 0 => format!("{} h", p / 3600),
        p if p % 60 == 0 => format!("{} min", p / 60),
        p => format!("{p} s"),
    }
}

/// Points of one line as (seconds since the window start, value) runs: a new run starts
/// where a period has no data, so a gap is drawn as a gap, not a slope.
fn runs(state: &State, key: &SeriesKey, line: &ChartLine, start: Time) -> Vec<Run> {
    let Some(history) = state.metrics.get(key) else {
        return Vec::new();
    };
    let gap = f64::from(key.period) * 1.5;
    let scale = line.scale * key.per_second();
    let mut runs: Vec<Run> = Vec::new();
    let mut last: Option<f64> = None;
    for p in history.since(start) {
        let x = (p.at - start).num_seconds() as f64;
        if last.is_none_or(|l| x - l > gap) {
            runs.push(Vec::new());
        }
        if let Some(run) = runs.last_mut() {
            run.push((x, p.value * scale));
        }
        last = Some(x);
    }
    runs
}

#[allow(clippy::too_many_arguments)]
fn draw_group(
    f: &mut Frame,
    area: Rect,
    state: &State,
    chart: &ChartState,
    title: &str,
    lines: &[ChartLine],
    ctx: &Ctx,
) {
    let t = ctx.theme;
    let span = chart.window.span();
    let start = state.now - span;
    let palette = [t.spark, t.warn, t.ok, t.info, t.header];
    let percent = lines.iter().all(|l| l.percent);

    // Owned point runs first: datasets borrow them.
    let mut drawn: Vec<(Style, Run)> = Vec::new();
    let mut top: f64 = 0.0;
    let mut legend: Vec<Span> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let key = SeriesKey {
            metric: line.metric.clone(),
            period: chart.window.period(),
        };
        let style = palette[i % palette.len()];
        let runs = runs(state, &key, line, start);
        let latest = runs.last().and_then(|r| r.last()).map(|p| p.1);
        let unit = if line.percent {
            Unit::Percent
        } else {
            line.metric.unit()
        };
        legend.push(Span::styled(
            format!(
                "{} {} ",
                line.label,
                latest.map_or_else(|| "no data".into(), |v| format_value(v, unit))
            ),
            style,
        ));
        for run in runs {
            top = run.iter().map(|p| p.1).fold(top, f64::max);
            drawn.push((style, run));
        }
        // The thresholds of the alarms on this metric, as flat lines across the window.
        for alarm in state.metrics.alarms_on(&line.metric) {
            let y = alarm.threshold * line.scale;
            top = top.max(y);
            let firing = alarm.state == AlarmState::Alarm;
            let style = if firing { t.error } else { t.warn };
            legend.push(Span::styled(
                format!(
                    "⚑ {} {}{} ",
                    alarm.name,
                    if firing { "ALARM at " } else { "at " },
                    format_value(y, unit)
                ),
                style,
            ));
            drawn.push((style, vec![(0.0, y), (span.num_seconds() as f64, y)]));
        }
    }
    let y_max = if percent {
        100.0_f64.max(top)
    } else if top <= 0.0 {
        1.0
    } else {
        top * 1.1
    };
    let datasets: Vec<Dataset> = drawn
        .iter()
        .map(|(style, points)| {
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(*style)
                .data(points)
        })
        .collect();
    let unit = if percent {
        Unit::Percent
    } else {
        lines.first().map_or(Unit::Count, |l| l.metric.unit())
    };
    let y_labels = [0.0, y_max / 2.0, y_max]
        .iter()
        .map(|v| Span::styled(format_value(*v, unit), t.dim))
        .collect::<Vec<_>>();
    let x_labels = [start, start + span / 2, state.now]
        .iter()
        .map(|at| Span::styled(time_label(*at, span), t.dim))
        .collect::<Vec<_>>();
    let mut title_spans = vec![Span::styled(format!(" {title}  "), t.title)];
    title_spans.extend(legend);
    let widget = Chart::new(datasets)
        .block(
            Block::default()
                .borders(Borders::TOP)
                .border_style(t.border)
                .title(Line::from(title_spans)),
        )
        .x_axis(
            Axis::default()
                .bounds([0.0, span.num_seconds() as f64])
                .labels(x_labels)
                .style(t.dim),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, y_max])
                .labels(y_labels)
                .style(t.dim),
        )
        // The legend is in the title: the built-in one would cover the lines.
        .hidden_legend_constraints((Constraint::Length(0), Constraint::Length(0)));
    f.render_widget(widget, area);
}

/// `14:05` within a day, `Mon 14:05` beyond.
fn time_label(at: Time, span: TimeDelta) -> String {
    if span > TimeDelta::days(1) {
        at.format("%a %H:%M").to_string()
    } else {
        at.format("%H:%M").to_string()
    }
}
