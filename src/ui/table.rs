//! The table every pane is: column definitions (also used to filter and sort) and drawing of
//! the visible rows only, so a pane of 10,000 rows costs what a pane of 40 does.

use std::cmp::Ordering;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Table, TableState};
use unicode_width::UnicodeWidthStr;

use crate::model::Time;
use crate::state::View;
use crate::theme::Theme;

/// The widest a variable column grows, so one long value cannot push the rest off screen.
const FILL_MAX: u16 = 64;
/// The widest a short-value column (statuses, codes, ids) grows.
const NARROW_MAX: u16 = 28;

/// How a column sorts when the operator picks it with `o`.
pub enum SortKey {
    Text(String),
    Num(f64),
}

impl SortKey {
    pub fn compare(&self, other: &SortKey) -> Ordering {
        match (self, other) {
            (SortKey::Num(a), SortKey::Num(b)) => a.total_cmp(b),
            (SortKey::Text(a), SortKey::Text(b)) => a.cmp(b),
            (SortKey::Num(_), SortKey::Text(_)) => Ordering::Less,
            (SortKey::Text(_), SortKey::Num(_)) => Ordering::Greater,
        }
    }
}

pub struct Column<T> {
    pub title: &'static str,
    /// Width bounds; within them the column is as wide as its widest visible cell.
    pub min: u16,
    pub max: u16,
    pub text: fn(&T, Time) -> String,
    /// Numeric or time columns sort by value, not by their text.
    pub sort: Option<fn(&T) -> f64>,
    /// Colour a cell by its meaning (UNHEALTHY red, DRAINING yellow…).
    pub style: Option<fn(&T, &Theme) -> Style>,
}

impl<T> Column<T> {
    pub fn new(title: &'static str, width: u16, text: fn(&T, Time) -> String) -> Self {
        Column {
            title,
            min: width,
            max: width.max(NARROW_MAX),
            text,
            sort: None,
            style: None,
        }
    }

    /// A column of variable text (names, images, reasons): as wide as its content, up to a cap.
    pub fn fill(title: &'static str, min: u16, text: fn(&T, Time) -> String) -> Self {
        Column {
            max: FILL_MAX,
            ..Column::new(title, min, text)
        }
    }

    /// Raises the width cap: for a last column of long text (reasons), which may run to the edge.
    pub fn up_to(mut self, max: u16) -> Self {
        self.max = max;
        self
    }

    pub fn by(mut self, key: fn(&T) -> f64) -> Self {
        self.sort = Some(key);
        self
    }

    pub fn styled(mut self, style: fn(&T, &Theme) -> Style) -> Self {
        self.style = Some(style);
        self
    }

    pub fn sort_key(&self, item: &T, now: Time) -> SortKey {
        match self.sort {
            Some(key) => SortKey::Num(key(item)),
            None => SortKey::Text((self.text)(item, now).to_lowercase()),
        }
    }
}

/// Everything `draw` needs besides the items.
pub struct TableFrame<'a> {
    pub title: String,
    /// Shown at the bottom right of the border: staleness, loading, hints.
    pub note: Option<(String, Style)>,
    pub focused: bool,
    pub theme: &'a Theme,
    pub now: Time,
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
    let texts: Vec<Vec<String>> = visible
        .iter()
        .map(|item| columns.iter().map(|c| (c.text)(item, frame.now)).collect())
        .collect();
    let widths: Vec<Constraint> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i + 1 == columns.len() {
                // The last column takes what is left, so long text there (reasons) never
                // squeezes the columns before it; it is cut at the border instead.
                return Constraint::Fill(1);
            }
            let widest = texts.iter().map(|row| row[i].width()).max().unwrap_or(0);
            let want = widest.max(c.title.width() + 1) as u16;
            Constraint::Length(want.clamp(c.min, c.max.max(c.min)))
        })
        .collect();
    let rows = visible.iter().zip(texts).map(|(item, texts)| {
        Row::new(columns.iter().zip(texts).map(|(c, text)| match c.style {
            Some(style) => Cell::from(text).style(style(item, theme)),
            None => Cell::from(text),
        }))
    });

    let table = Table::new(rows, widths)
        .header(header)
        .block(block)
        .column_spacing(2)
        .row_highlight_style(theme.selected);
    let mut state = TableState::default();
    if !view.rows.is_empty() && frame.focused {
        state.select(Some(view.selected.saturating_sub(offset)));
    }
    f.render_stateful_widget(table, area, &mut state);
}
