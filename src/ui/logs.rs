//! The log pane: the newest lines at the bottom (or the cursor's neighbourhood when paused),
//! each prefixed by its time and its container or task in a stable colour, with levels,
//! incident signatures and search matches highlighted. Text was sanitized on arrival; lines
//! that carried SGR colours are drawn with them as styles, never as raw escapes.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::Ctx;
use crate::sanitize;
use crate::state::{LogLine, LogMode, LogPane};
use crate::theme::Theme;

/// Words that mark a line's level, and the signatures of the incidents operators look for.
const ERRORS: [&str; 4] = ["ERROR", "FATAL", "CRITICAL", "panic"];
const WARNINGS: [&str; 2] = ["WARN", "WARNING"];
const SIGNATURES: [&str; 8] = [
    "OutOfMemoryError",
    "Killed",
    "exit code 137",
    "OOMKilled",
    "UnknownHostException",
    "Connection timed out",
    "connection timeout",
    "timed out",
];

pub fn render(f: &mut Frame, area: Rect, pane: &LogPane, ctx: &Ctx) {
    let t = ctx.theme;
    let border = if pane.focused {
        t.border_focused
    } else {
        t.border
    };
    let (mode_text, mode_style) = match &pane.mode {
        LogMode::LiveTail => ("live tail".to_string(), t.ok),
        LogMode::Polling { why } => (format!("polling every 2s ({why})"), t.warn),
        LogMode::Failed(why) => (why.clone(), t.error),
        other => (other.label(), t.dim),
    };
    let mut top_right = vec![Span::styled(format!(" {mode_text} "), mode_style)];
    if pane.paused {
        top_right.insert(
            0,
            Span::styled(
                format!(" PAUSED · {} new lines ", pane.unseen),
                t.warn.add_modifier(Modifier::BOLD),
            ),
        );
    }
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(border)
        .title(Span::styled(format!(" Logs · {} ", pane.title), t.title))
        .title(Line::from(top_right).right_aligned());
    let mut bottom = Vec::new();
    if let Some(search) = pane.search() {
        bottom.push(format!("/{search}: {} lines", pane.matching));
    }
    if pane.only_matching {
        bottom.push("only matching".into());
    }
    if pane.wrap {
        bottom.push("wrap".into());
    }
    bottom.push(format!("{} lines", pane.lines.len()));
    if pane.dropped > 0 {
        bottom.push(format!(
            "{} oldest dropped (cap {})",
            pane.dropped, pane.cap
        ));
    }
    block = block.title_bottom(Line::from(Span::styled(
        format!(" {} ", bottom.join(" · ")),
        t.dim,
    )));
    if let Some(error) = &pane.error {
        block = block
            .title_bottom(Line::from(Span::styled(format!(" {error} "), t.stale)).right_aligned());
    }
    let inner = block.inner(area);
    f.render_widget(block, area);
    if inner.height == 0 || inner.width == 0 {
        return;
    }

    let shown = pane.shown();
    if shown.is_empty() {
        let text = match &pane.mode {
            LogMode::Failed(why) => Span::styled(why.clone(), t.error),
            LogMode::Resolving | LogMode::Backfilling => Span::styled(pane.mode.label(), t.dim),
            _ if pane.only_matching => Span::styled("no line matches the search", t.dim),
            _ => Span::styled(
                "no lines in the last 24 hours; waiting for new ones (has the task logged yet?)",
                t.dim,
            ),
        };
        f.render_widget(
            Paragraph::new(Line::from(text)).wrap(Wrap { trim: true }),
            inner,
        );
        return;
    }

    let height = inner.height as usize;
    let width = inner.width as usize;
    // Which lines: the last ones when following; when paused or moving, the cursor's line
    // is the bottom one, so pausing leaves the view exactly as it was.
    let end = match pane.cursor {
        None => shown.len(),
        Some(c) => (c + 1).clamp(height.min(shown.len()), shown.len()),
    };
    let mut lines: Vec<Line> = Vec::with_capacity(height);
    let mut used = 0;
    for pos in (0..end).rev() {
        let line = &pane.lines[shown[pos]];
        let drawn = draw_line(line, pane, t);
        let rows = if pane.wrap {
            drawn.width().div_ceil(width.max(1)).max(1)
        } else {
            1
        };
        if used + rows > height && !lines.is_empty() {
            break;
        }
        used += rows;
        let selected = pane.cursor == Some(pos);
        lines.push(if selected {
            drawn.patch_style(t.selected)
        } else {
            drawn
        });
    }
    lines.reverse();
    let mut paragraph = Paragraph::new(lines);
    if pane.wrap {
        paragraph = paragraph.wrap(Wrap { trim: false });
    }
    f.render_widget(paragraph, inner);
}

/// A stable colour per container or task, so one task's lines are told apart at a glance.
fn label_style(label: &str, t: &Theme) -> Style {
    let palette = [t.spark, t.ok, t.info, t.header, t.title, t.key, t.prompt];
    let hash = label
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    palette[hash as usize % palette.len()]
}

fn draw_line<'a>(line: &'a LogLine, pane: &LogPane, t: &Theme) -> Line<'a> {
    let mut spans = Vec::with_capacity(6);
    if pane.timestamps {
        spans.push(Span::styled(
            line.at.format("%H:%M:%S%.3f ").to_string(),
            t.dim,
        ));
    }
    spans.push(Span::styled(
        format!("{} ", line.label),
        label_style(&line.label, t),
    ));
    match &line.colored {
        // The line's own colours, as styles; a search match marks the label instead.
        Some(raw) => {
            if pane.matches(line)
                && let Some(label) = spans.last_mut()
            {
                label.style = t.highlight;
            }
            spans.extend(sanitize::styled(raw).spans);
        }
        None => spans.extend(highlighted(&line.text, pane.search(), t)),
    }
    Line::from(spans)
}

/// The text split into runs: search matches, incident signatures, level words, the rest.
fn highlighted<'a>(text: &'a str, search: Option<&str>, t: &Theme) -> Vec<Span<'a>> {
    let mut marks: Vec<(usize, usize, Style)> = Vec::new();
    let mut mark = |needle: &str, style: Style, case: bool| {
        if needle.is_empty() {
            return;
        }
        for (start, _) in match_indices(text, needle, case) {
            marks.push((start, start + needle.len(), style));
        }
    };
    if let Some(search) = search {
        mark(search, t.highlight, false);
    }
    for s in SIGNATURES {
        mark(s, t.error.add_modifier(Modifier::BOLD), true);
    }
    for w in ERRORS {
        mark(w, t.error, true);
    }
    for w in WARNINGS {
        mark(w, t.warn, true);
    }
    // Earlier marks win where they overlap (search over signature over level).
    let mut runs: Vec<(usize, usize, Style)> = Vec::new();
    for (s, e, style) in marks {
        if runs.iter().all(|&(rs, re, _)| e <= rs || s >= re) {
            runs.push((s, e, style));
        }
    }
    runs.sort_by_key(|r| r.0);
    let mut spans = Vec::with_capacity(runs.len() * 2 + 1);
    let mut at = 0;
    for (s, e, style) in runs {
        if s > at {
            spans.push(Span::styled(&text[at..s], t.base));
        }
        spans.push(Span::styled(&text[s..e], style));
        at = e;
    }
    if at < text.len() {
        spans.push(Span::styled(&text[at..], t.base));
    }
    spans
}

/// Byte offsets of `needle` in `text`; case-insensitive for ASCII when `case` is false.
fn match_indices(text: &str, needle: &str, case: bool) -> Vec<(usize, usize)> {
    if case || !needle.is_ascii() {
        return text
            .match_indices(needle)
            .map(|(i, m)| (i, i + m.len()))
            .collect();
    }
    let (hay, pat) = (text.as_bytes(), needle.as_bytes());
    let mut out = Vec::new();
    let mut i = 0;
    while i + pat.len() <= hay.len() {
        if hay[i..i + pat.len()].eq_ignore_ascii_case(pat) && text.is_char_boundary(i) {
            out.push((i, i + pat.len()));
            i += pat.len();
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_width::UnicodeWidthStr;

    #[test]
    fn search_matches_win_over_levels_and_case_is_ignored() {
        let t = Theme::default();
        let spans = highlighted("ERROR: Connection timed out to db", Some("error"), &t);
        assert_eq!(spans[0].content, "ERROR");
        assert_eq!(spans[0].style, t.highlight);
        let timed_out = spans
            .iter()
            .find(|s| s.content == "Connection timed out")
            .unwrap();
        assert_eq!(timed_out.style, t.error.add_modifier(Modifier::BOLD));
    }

    #[test]
    fn plain_text_is_one_run() {
        let t = Theme::default();
        let spans = highlighted("GET /cart 200 12ms", None, &t);
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0].content.width(), 18);
    }
}
