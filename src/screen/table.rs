//! The columns of the table every pane is: a cell's text, what filters match, what sorts, and
//! how a cell is coloured by its meaning. Drawing the table is `ui::table`.

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

/// How a column sorts when the operator picks it with `o` (numbers below texts; the order
/// itself is `update::rows`').
#[derive(Debug, PartialEq)]
pub enum SortKey {
    Text(String),
    Num(f64),
}

/// `text` lowercased, in place when it is ASCII (most cells: ids, states, names), so a sort of
/// 100,000 rows does not allocate each key twice.
fn lowercased(mut text: String) -> String {
    if text.is_ascii() {
        text.make_ascii_lowercase();
        text
    } else {
        text.to_lowercase()
    }
}

/// What a cell's text is made of.
pub enum Text<T> {
    /// The row alone: the same text for as long as the row is the same.
    Row(fn(&T) -> String),
    /// The row and the moment ([`RowCtx`]): the clock (ages), the metrics (values, alarms), the
    /// findings (badges). Such a cell moves with time alone.
    Moment(fn(&T, &RowCtx) -> String),
}

impl<T> Text<T> {
    pub fn of(&self, item: &T, ctx: &RowCtx) -> String {
        match self {
            Text::Row(text) => text(item),
            Text::Moment(text) => text(item, ctx),
        }
    }
}

pub struct Column<T> {
    pub title: &'static str,
    /// Width bounds; within them the column is as wide as its widest visible cell.
    pub min: u16,
    pub max: u16,
    pub text: Text<T>,
    /// Numeric or time columns sort by value, not by their text.
    pub sort: Option<fn(&T) -> f64>,
    /// Colour a cell by its meaning (UNHEALTHY red, DRAINING yellow…).
    pub style: Option<fn(&T, &Theme) -> Style>,
    /// A metric column: a sparkline of the series and its current value (which is also what
    /// the column filters and sorts by). `None` from the function: the row has no such metric.
    pub spark: Option<fn(&T) -> Option<Spark>>,
    /// Colour a cell by its own text (badges whose meaning is computed from the context).
    pub text_style: Option<fn(&str, &Theme) -> Style>,
    /// A metric column whose series name the row in one dimension (a task's `TaskId`): the
    /// dimension and the row's value of it. See [`Column::held`].
    pub spark_dimension: Option<(&'static str, RowValue<T>)>,
    /// The cell shows the findings' badges: when they move, a table's cells kept for filtering
    /// and sorting read this column again and copy the rest.
    pub findings: bool,
}

/// A row's value of a dimension.
pub type RowValue<T> = fn(&T) -> &str;

/// The values of a metric column's dimension among the series held ([`Column::held`]).
#[derive(Clone)]
pub struct Held(Option<crate::state::DimensionValues>);

impl Held {
    /// For a column that is not a metric's (nothing to look over).
    pub const NONE: Held = Held(None);
}

/// [`Column::held`] for each of `cols` (a tasks table's CPU, memory and network columns all
/// name their rows by task id: the metrics look that dimension over once).
pub fn held_by<T>(cols: &[Column<T>], metrics: &Metrics) -> Vec<Held> {
    cols.iter().map(|col| col.held(metrics)).collect()
}

impl<T> Column<T> {
    /// A cell of its row alone (names, states, counts).
    pub fn new(title: &'static str, width: u16, text: fn(&T) -> String) -> Self {
        Column::made_of(title, width, Text::Row(text))
    }

    /// A cell that reads the moment as well as its row ([`Text::Moment`]): ages, values of
    /// metrics, alarms, findings' badges.
    pub fn live(title: &'static str, width: u16, text: fn(&T, &RowCtx) -> String) -> Self {
        Column::made_of(title, width, Text::Moment(text))
    }

    fn made_of(title: &'static str, width: u16, text: Text<T>) -> Self {
        Column {
            title,
            min: width,
            max: width.max(NARROW_MAX),
            text,
            sort: None,
            style: None,
            spark: None,
            text_style: None,
            spark_dimension: None,
            findings: false,
        }
    }

    /// A sparkline and current value of a metric; as wide as the screen allows, up to `max`.
    pub fn spark(title: &'static str, max: u16, spark: fn(&T) -> Option<Spark>) -> Self {
        Column {
            min: VALUE_WIDTH as u16,
            max,
            spark: Some(spark),
            ..Column::new(title, 0, |_| String::new())
        }
    }

    /// The cell's text: what filters match and text columns sort by.
    pub fn text_of(&self, item: &T, ctx: &RowCtx) -> String {
        match self.spark {
            Some(spark) => {
                spark(item).map_or_else(|| "-".into(), |s| s.value_text(ctx.metrics, ctx.now))
            }
            None => self.text.of(item, ctx),
        }
    }

    /// The cell's text moves with time alone (an age, a metric's value, a badge): cells kept
    /// for filtering and sorting read it again once they are a minute old
    /// (`state::CELLS_FRESH_FOR`), and copy the rest.
    pub fn moves(&self) -> bool {
        self.spark.is_some() || matches!(self.text, Text::Moment(_))
    }

    /// As [`Column::text_of`], for every row of a table at once (see [`Column::held`]).
    pub fn text_with(&self, item: &T, ctx: &RowCtx, held: &Held) -> String {
        if self.lacks_data(item, held) {
            return "-".into();
        }
        self.text_of(item, ctx)
    }

    /// The values of this metric column's dimension among the series held
    /// ([`Metrics::values_of`], kept until the series change): a row whose value is not among
    /// them has no series (most of 100,000 tasks: only the watched ones have series of their
    /// own), so its metric is not built to be looked up, for each row, in vain.
    pub fn held(&self, metrics: &Metrics) -> Held {
        Held(
            self.spark_dimension
                .map(|(dimension, _)| metrics.values_of(dimension)),
        )
    }

    /// The row has certainly no data in this metric column.
    fn lacks_data(&self, item: &T, held: &Held) -> bool {
        match (&held.0, self.spark_dimension) {
            (Some(values), Some((_, value))) => !values.contains(value(item)),
            _ => false,
        }
    }

    /// Marks a column of the findings' badges (see [`Column::findings`]).
    pub fn reads_findings(mut self) -> Self {
        self.findings = true;
        self
    }

    /// Names the dimension a metric column's series name the row in ([`Column::held`]).
    pub fn named_by(mut self, dimension: &'static str, value: RowValue<T>) -> Self {
        self.spark_dimension = Some((dimension, value));
        self
    }

    /// A column of variable text (names, images, reasons): as wide as its content, up to a cap.
    pub fn fill(title: &'static str, min: u16, text: fn(&T) -> String) -> Self {
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

    /// Whether the column sorts by a number (a metric, an age) rather than by its text.
    pub fn is_numeric(&self) -> bool {
        self.spark.is_some() || self.sort.is_some()
    }

    /// The cell's text and, for a numeric column, the number it sorts by (as
    /// [`Column::text_with`] and [`Column::sort_key_with`], a metric looked up once for both).
    pub fn cell_with(&self, item: &T, ctx: &RowCtx, held: &Held) -> (String, Option<f64>) {
        if self.lacks_data(item, held) {
            return ("-".into(), self.is_numeric().then_some(f64::MIN));
        }
        if let Some(spark) = self.spark {
            let spark = spark(item);
            let value = spark.as_ref().and_then(|s| s.current(ctx.metrics, ctx.now));
            let text = match (value, &spark) {
                (Some(v), Some(s)) => crate::screen::spark::format_value(v, s.unit()),
                _ => "-".into(),
            };
            return (text, Some(value.unwrap_or(f64::MIN)));
        }
        (self.text.of(item, ctx), self.sort.map(|key| key(item)))
    }

    /// As [`Column::sort_key`], for every row of a table at once (see [`Column::held`]).
    pub fn sort_key_with(&self, item: &T, ctx: &RowCtx, held: &Held) -> SortKey {
        if self.lacks_data(item, held) {
            return SortKey::Num(f64::MIN);
        }
        self.sort_key(item, ctx)
    }

    pub fn sort_key(&self, item: &T, ctx: &RowCtx) -> SortKey {
        if let Some(spark) = self.spark {
            // Rows without data sort below every value.
            let value = spark(item).and_then(|s| s.current(ctx.metrics, ctx.now));
            return SortKey::Num(value.unwrap_or(f64::MIN));
        }
        match self.sort {
            Some(key) => SortKey::Num(key(item)),
            None => SortKey::Text(lowercased(self.text_of(item, ctx))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Point, SeriesData, SeriesKey, Task, metric_catalog as cat};
    use crate::screen::panes::tasks;

    #[test]
    fn a_metric_column_reads_the_same_with_or_without_the_held_values() {
        let now = Time::from_timestamp(1_800_000_000, 0).unwrap();
        let task = |id: &str| Task {
            arn: format!("arn:aws:ecs:eu-west-1:1:task/prod/{id}").into(),
            cluster_arn: "arn:aws:ecs:eu-west-1:1:cluster/prod".into(),
            cpu: Some(1024),
            last_status: "RUNNING".into(),
            ..Task::default()
        };
        let (with, without) = (task("aaa"), task("bbb"));
        let mut metrics = Metrics::default();
        let key = SeriesKey {
            metric: cat::task_cpu(&with),
            period: crate::screen::spark::ROW_PERIOD,
        };
        let points = vec![Point {
            at: now - chrono::TimeDelta::minutes(1),
            value: 512.0,
        }];
        let answer = vec![SeriesData {
            key: key.clone(),
            points,
        }];
        metrics.merge(now - chrono::TimeDelta::minutes(5), now, answer, &[key]);
        let triage = crate::state::Triage::default();
        let ctx = RowCtx {
            now,
            metrics: &metrics,
            triage: &triage,
        };
        let cols = tasks::columns(false, true);
        let cpu = cols.iter().find(|c| c.title == "CPU").unwrap();
        let held = cpu.held(&metrics);
        assert!(
            held.0
                .as_ref()
                .is_some_and(|v| v.contains("aaa") && !v.contains("bbb"))
        );
        for t in [&with, &without] {
            assert_eq!(cpu.text_with(t, &ctx, &held), cpu.text_of(t, &ctx));
            let (a, b) = (cpu.sort_key_with(t, &ctx, &held), cpu.sort_key(t, &ctx));
            assert_eq!(a, b);
            // A cell and its number read at once, as a table's are: the same, every column.
            for col in &cols {
                let held = col.held(&metrics);
                let number = match col.sort_key_with(t, &ctx, &held) {
                    SortKey::Num(n) => Some(n),
                    SortKey::Text(_) => None,
                };
                let cell = (col.text_with(t, &ctx, &held), number);
                assert_eq!(col.cell_with(t, &ctx, &held), cell, "{}", col.title);
            }
        }
        assert_eq!(cpu.text_of(&with, &ctx), "50%");
        assert_eq!(cpu.text_with(&without, &ctx, &held), "-");
        // A column without a dimension named holds nothing and reads every row.
        let id = cols.iter().find(|c| c.title == "ID").unwrap();
        assert!(id.held(&metrics).0.is_none());
    }
}
