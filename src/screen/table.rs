//! The columns of the table every pane is: a cell's text, what filters match, what sorts, and
//! how a cell is coloured by its meaning. Drawing the table is `ui::table`.

use std::cmp::Ordering;

use ratatui::style::Style;

use crate::model::Time;
use crate::state::Metrics;
use crate::theme::Theme;

use super::spark::{Spark, VALUE_WIDTH};

/// What a cell may look at besides its item: the clock and the metrics history.
#[derive(Clone, Copy)]
pub struct RowCtx<'a> {
    pub now: Time,
    pub metrics: &'a Metrics,
    /// Active findings, for the rows' triage badges.
    pub triage: &'a crate::state::Triage,
}

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
    pub text: fn(&T, &RowCtx) -> String,
    /// Numeric or time columns sort by value, not by their text.
    pub sort: Option<fn(&T) -> f64>,
    /// Colour a cell by its meaning (UNHEALTHY red, DRAINING yellow…).
    pub style: Option<fn(&T, &Theme) -> Style>,
    /// A metric column: a sparkline of the series and its current value (which is also what
    /// the column filters and sorts by). `None` from the function: the row has no such metric.
    pub spark: Option<fn(&T) -> Option<Spark>>,
    /// Colour a cell by its own text (badges whose meaning is computed from the context).
    pub text_style: Option<fn(&str, &Theme) -> Style>,
}

impl<T> Column<T> {
    pub fn new(title: &'static str, width: u16, text: fn(&T, &RowCtx) -> String) -> Self {
        Column {
            title,
            min: width,
            max: width.max(NARROW_MAX),
            text,
            sort: None,
            style: None,
            spark: None,
            text_style: None,
        }
    }

    /// A sparkline and current value of a metric; as wide as the screen allows, up to `max`.
    pub fn spark(title: &'static str, max: u16, spark: fn(&T) -> Option<Spark>) -> Self {
        Column {
            min: VALUE_WIDTH as u16,
            max,
            spark: Some(spark),
            ..Column::new(title, 0, |_, _| String::new())
        }
    }

    /// The cell's text: what filters match and text columns sort by.
    pub fn text_of(&self, item: &T, ctx: &RowCtx) -> String {
        match self.spark {
            Some(spark) => {
                spark(item).map_or_else(|| "-".into(), |s| s.value_text(ctx.metrics, ctx.now))
            }
            None => (self.text)(item, ctx),
        }
    }

    /// A column of variable text (names, images, reasons): as wide as its content, up to a cap.
    pub fn fill(title: &'static str, min: u16, text: fn(&T, &RowCtx) -> String) -> Self {
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

    pub fn styled_by_text(mut self, style: fn(&str, &Theme) -> Style) -> Self {
        self.text_style = Some(style);
        self
    }

    pub fn styled(mut self, style: fn(&T, &Theme) -> Style) -> Self {
        self.style = Some(style);
        self
    }

    pub fn sort_key(&self, item: &T, ctx: &RowCtx) -> SortKey {
        if let Some(spark) = self.spark {
            // Rows without data sort below every value.
            let value = spark(item).and_then(|s| s.current(ctx.metrics, ctx.now));
            return SortKey::Num(value.unwrap_or(f64::MIN));
        }
        match self.sort {
            Some(key) => SortKey::Num(key(item)),
            None => SortKey::Text(self.text_of(item, ctx).to_lowercase()),
        }
    }
}
