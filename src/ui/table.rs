//! The table every pane is, drawn: the visible rows only, so a pane of 10,000 rows costs what a
//! pane of 40 does. Its columns (also used to filter and sort) are `screen::table`.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Table, TableState};
use unicode_width::UnicodeWidthStr;

use crate::screen::spark::VALUE_WIDTH;
use crate::screen::table::{Column, RowCtx};
use crate::state::View;
use crate::theme::Theme;

use super::spark;

const COLUMN_SPACING: u16 = 2;

/// Everything `draw` needs besides the items.
pub struct TableFrame<'a> {
    pub title: String,
    /// Shown at the bottom right of the border: staleness, loading, hints.
    pub note: Option<(String, Style)>,
    /// Shown at the bottom left of the border: a fact about the whole pane (Container
    /// Insights off) rather than an empty cell in every row.
    pub hint: Option<String>,
    pub focused: bool,
    pub theme: &'a Theme,
    pub ctx: RowCtx<'a>,
}

/// Splits `spare` columns between `count` sparkline columns. When there is not room for bars
/// in all of them, the first ones (CPU before memory before the rest) get bars and the others
/// show their value only — a few readable sparklines beat many unreadable ones.
fn share_spark_width(spare: u16, count: u16) -> Vec<u16> {
    let value = VALUE_WIDTH as u16;
    let useful = value + 1 + spark::MIN_BARS as u16;
    let mut with_bars = count;
    while with_bars > 0 && with_bars * useful + (count - with_bars) * value > spare {
        with_bars -= 1;
    }
    let each = spare
        .saturating_sub((count - with_bars) * value)
        .checked_div(with_bars)
        .unwrap_or(0);
    (0..count)
        .map(|i| if i < with_bars { each } else { value })
        .collect()
}

/// Draws the rows of `view` that fit in `area`; only those rows are built.
pub fn draw<T>(
    f: &mut Frame,
    area: Rect,
    items: &[T],
    columns: &[Column<T>],
    view: &View,
    frame: TableFrame,
) {
    let theme = frame.theme;
    let border = if frame.focused {
        theme.border_focused
    } else {
        theme.border
    };
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(border)
        .title(Span::styled(format!(" {} ", frame.title), theme.title));
    if let Some((note, style)) = frame.note {
        block = block
            .title_bottom(Line::from(Span::styled(format!(" {note} "), style)).right_aligned());
    }
    if let Some(hint) = frame.hint {
        block = block.title_bottom(Line::from(Span::styled(format!(" {hint} "), theme.dim)));
    }

    let header = Row::new(columns.iter().enumerate().map(|(i, c)| {
        let mark = match view.sort.column {
            Some(col) if col == i && view.sort.reverse => "↓",
            Some(col) if col == i => "↑",
            _ => "",
        };
        Cell::from(format!("{}{mark}", c.title))
    }))
    .style(theme.column_header);

    let height = area.height.saturating_sub(3) as usize;
    let offset = view
        .offset
        .min(view.rows.len().saturating_sub(height.max(1)));
    let visible: Vec<&T> = view
        .rows
        .iter()
        .skip(offset)
        .take(height)
        .map(|&i| &items[i])
        .collect();
    let ctx = &frame.ctx;
    let texts: Vec<Vec<String>> = visible
        .iter()
        .map(|item| {
            columns
                .iter()
                .map(|c| match c.spark {
                    // Drawn below, once the column's width is known.
                    Some(_) => String::new(),
                    None => c.text.of(item, ctx),
                })
                .collect()
        })
        .collect();
    let last = columns.len().saturating_sub(1);
    let wants: Vec<u16> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let widest = texts.iter().map(|row| row[i].width()).max().unwrap_or(0);
            // Room for the sort arrow on the sorted column only: spacing separates the rest.
            let arrow = usize::from(view.sort.column == Some(i));
            let want = widest.max(c.title.width() + arrow) as u16;
            want.clamp(c.min, c.max.max(c.min))
        })
        .collect();
    // Sparkline columns share what the text columns leave (the last column keeps at least
    // its minimum): wide terminals get long sparklines, narrow ones just the values.
    let inner = block.inner(area);
    let sparks = columns.iter().filter(|c| c.spark.is_some()).count() as u16;
    let text_width: u16 = columns
        .iter()
        .zip(&wants)
        .enumerate()
        .filter(|(_, (c, _))| c.spark.is_none())
        .map(|(i, (c, want))| if i == last { c.min } else { *want })
        .sum();
    let spacing = COLUMN_SPACING * columns.len().saturating_sub(1) as u16;
    let spare = inner.width.saturating_sub(text_width + spacing);
    let spark_widths = share_spark_width(spare, sparks);
    let mut spark_index = 0;
    let widths: Vec<Constraint> = columns
        .iter()
        .zip(&wants)
        .enumerate()
        .map(|(i, (c, want))| {
            if i == last {
                // The last column takes what is left, so long text there (reasons) never
                // squeezes the columns before it; it is cut at the border instead.
                Constraint::Fill(1)
            } else if c.spark.is_some() {
                spark_index += 1;
                Constraint::Length(spark_widths[spark_index - 1].clamp(c.min, c.max))
            } else {
                Constraint::Length(*want)
            }
        })
        .collect();
    // The widths the table will really get (as ratatui lays them out), for sparkline cells.
    let real: Vec<u16> = Layout::horizontal(widths.clone())
        .flex(Flex::Start)
        .spacing(COLUMN_SPACING)
        .split(inner)
        .iter()
        .map(|r| r.width)
        .collect();
    let rows = visible.iter().zip(texts).map(|(item, texts)| {
        Row::new(columns.iter().zip(texts).enumerate().map(|(i, (c, text))| {
            let style = match c.text_style {
                Some(by_text) => by_text(&text, theme),
                None => c.style.map_or(theme.base, |style| style(item, theme)),
            };
            match c.spark.and_then(|s| s(item)) {
                Some(s) => Cell::from(spark::cell(
                    &s,
                    ctx.metrics,
                    ctx.now,
                    real.get(i).copied().unwrap_or(0) as usize,
                    theme,
                    style,
                )),
                None if c.spark.is_some() => Cell::from(format!(
                    "{:>w$}",
                    "-",
                    w = real.get(i).copied().unwrap_or(0) as usize
                )),
                None if c.style.is_some() || c.text_style.is_some() => {
                    Cell::from(text).style(style)
                }
                None => Cell::from(text),
            }
        }))
    });

    let table = Table::new(rows, widths)
        .header(header)
        .block(block)
        .column_spacing(COLUMN_SPACING)
        .row_highlight_style(theme.selected);
    let mut state = TableState::default();
    if !view.rows.is_empty() && frame.focused {
        state.select(Some(view.selected.saturating_sub(offset)));
    }
    f.render_stateful_widget(table, area, &mut state);
}

#[cfg(test)]
mod tests {
    use super::share_spark_width;

    #[test]
    fn spark_columns_share_the_spare_room_and_the_first_ones_keep_their_bars() {
        assert_eq!(share_spark_width(60, 3), vec![20, 20, 20]);
        // Not enough for bars in all three: CPU and memory keep theirs, the third its value.
        assert_eq!(share_spark_width(27, 3), vec![11, 11, 5]);
        assert_eq!(
            share_spark_width(12, 3),
            vec![5, 5, 5],
            "no room for bars: values only"
        );
        assert_eq!(
            share_spark_width(0, 2),
            vec![5, 5],
            "never below the value's width"
        );
    }
}
