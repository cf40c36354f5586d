//! Sparkline cells: the last hour of a metric in a few characters, then its current value
//! (which series and its value are `screen::spark`).
//!
//! Percentages are drawn on a fixed 0–100 scale (so 40 % looks like 40 % on every row); counts
//! and times scale to their own maximum. A period without data is a dim `·`, never a zero bar:
//! a service that stopped reporting must not look idle.

use chrono::TimeDelta;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::model::History;
use crate::model::Time;
use crate::screen::spark::{ROW_WINDOW, Spark, VALUE_WIDTH};
use crate::state::Metrics;
use crate::theme::Theme;

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
pub const MISSING: char = '·';
/// Fewer bars than this say nothing: the cell shows the value alone.
pub const MIN_BARS: usize = 4;

/// `width` buckets covering `[now - window, now)`, each the largest value in it (a spike
/// must not be averaged away), `None` where the bucket has no point.
pub fn buckets(
    history: Option<&History>,
    now: Time,
    window: TimeDelta,
    width: usize,
    scale: f64,
) -> Vec<Option<f64>> {
    let mut out = vec![None; width];
    let Some(history) = history else {
        return out;
    };
    if width == 0 {
        return out;
    }
    let start = now - window;
    let span = window.num_seconds().max(1) as f64;
    // Whole seconds from `start` (a point is keyed by its second; `start` may fall within
    // one), as a point's distance from it rounds toward zero: no calendar time per point, a
    // frame draws a hundred of these.
    let (from, within) = (start.timestamp(), start.timestamp_subsec_nanos() > 0);
    for &(at, value) in history.seconds_since(from) {
        let offset = ((at - from) - i64::from(within)).max(0) as f64;
        let i = ((offset / span) * width as f64) as usize;
        if let Some(slot) = out.get_mut(i) {
            let v = value * scale;
            *slot = Some(slot.map_or(v, |old: f64| old.max(v)));
        }
    }
    out
}

/// Bar characters for bucket values: 0–100 for percentages, else 0 to the largest value.
pub fn bars(values: &[Option<f64>], percent: bool) -> String {
    let top = if percent {
        100.0
    } else {
        values.iter().flatten().copied().fold(0.0, f64::max)
    };
    values
        .iter()
        .map(|v| match v {
            None => MISSING,
            Some(_) if top <= 0.0 => BARS[0],
            Some(v) => {
                let level = ((v / top).clamp(0.0, 1.0) * (BARS.len() - 1) as f64).round();
                BARS[level as usize]
            }
        })
        .collect()
}

/// The whole cell for a column `width` wide: bars, a space, the value right-aligned. Narrow
/// columns drop the bars first; the value is what an operator reads.
pub fn cell(
    spark: &Spark,
    metrics: &Metrics,
    now: Time,
    width: usize,
    theme: &Theme,
    value_style: Style,
) -> Line<'static> {
    let value = spark.value_text(metrics, now);
    let bars_width = width.saturating_sub(VALUE_WIDTH + 1);
    // Never more bars than periods in the window: a bucket narrower than a period would be
    // empty, and would look like missing data.
    let periods = (ROW_WINDOW.num_seconds() / i64::from(spark.key.period.max(1))) as usize;
    let bars_width = bars_width.min(periods);
    let mut spans = Vec::with_capacity(4);
    if bars_width >= MIN_BARS {
        let values = buckets(
            metrics.get(&spark.key),
            now,
            ROW_WINDOW,
            bars_width,
            spark.scale * spark.key.per_second(),
        );
        let text = bars(&values, spark.percent);
        // Missing points dim, bars in the spark colour.
        let mut run = String::new();
        let mut run_missing = None;
        for c in text.chars() {
            let missing = c == MISSING;
            if run_missing.is_some_and(|m| m != missing) {
                let style = if run_missing == Some(true) {
                    theme.dim
                } else {
                    theme.spark
                };
                spans.push(Span::styled(std::mem::take(&mut run), style));
            }
            run_missing = Some(missing);
            run.push(c);
        }
        if !run.is_empty() {
            let style = if run_missing == Some(true) {
                theme.dim
            } else {
                theme.spark
            };
            spans.push(Span::styled(run, style));
        }
        spans.push(Span::raw(" "));
    }
    spans.push(Span::styled(
        format!("{value:>w$}", w = VALUE_WIDTH),
        value_style,
    ));
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MetricId, Point, SeriesData, Stat};

    fn t(min: i64) -> Time {
        Time::from_timestamp(1_800_000_000 + min * 60, 0).unwrap()
    }

    fn metrics_with(metric: &MetricId, points: &[(i64, f64)]) -> (Metrics, Spark) {
        let spark = Spark::of(metric.clone());
        let mut m = Metrics::default();
        let data = vec![SeriesData {
            key: spark.key.clone(),
            points: points
                .iter()
                .map(|&(min, value)| Point { at: t(min), value })
                .collect(),
        }];
        m.merge(t(0), t(60), data, std::slice::from_ref(&spark.key));
        (m, spark)
    }

    fn cpu() -> MetricId {
        MetricId::new(
            "AWS/ECS",
            "CPUUtilization",
            &[("ClusterName", "p")],
            Stat::Average,
        )
    }

    #[test]
    fn percentages_use_a_fixed_scale_and_counts_their_own() {
        let values = [Some(0.0), Some(50.0), Some(100.0)];
        assert_eq!(bars(&values, true), "▁▅█");
        let small = [Some(0.0), Some(5.0), Some(10.0)];
        assert_eq!(bars(&small, true), "▁▁▂", "10 % is a low bar");
        assert_eq!(bars(&small, false), "▁▅█", "counts scale to their maximum");
    }

    #[test]
    fn missing_points_are_not_zero() {
        let values = [Some(0.0), None, Some(0.0)];
        assert_eq!(bars(&values, true), "▁·▁");
        assert_eq!(bars(&[None, None], false), "··");
        assert_eq!(
            bars(&[Some(0.0), Some(0.0)], false),
            "▁▁",
            "all zero is flat, not missing"
        );
    }

    #[test]
    fn buckets_keep_the_peak_and_leave_holes() {
        let (m, spark) = metrics_with(&cpu(), &[(0, 10.0), (1, 90.0), (2, 20.0), (40, 5.0)]);
        let b = buckets(m.get(&spark.key), t(60), TimeDelta::hours(1), 6, 1.0);
        assert_eq!(b, vec![Some(90.0), None, None, None, Some(5.0), None]);
    }

    #[test]
    fn a_point_falls_in_the_bucket_of_its_distance_from_the_start_rounded_toward_zero() {
        // Points every minute, and the window's start within a second as well as on one.
        let points: Vec<(i64, f64)> = (0..60).map(|m| (m, m as f64)).collect();
        let (m, spark) = metrics_with(&cpu(), &points);
        let history = m.get(&spark.key);
        for nanos in [0, 1, 500_000_000, 999_999_999] {
            for shift in [0, 1, 59, 60, 61, 90] {
                let now = t(59) + TimeDelta::seconds(shift) + TimeDelta::nanoseconds(nanos);
                let window = TimeDelta::minutes(30);
                let start = now - window;
                // What a point's calendar time says.
                let mut want = vec![None; 7];
                for p in history.unwrap().since(start) {
                    let offset = (p.at - start).num_seconds() as f64;
                    let i = ((offset / window.num_seconds() as f64) * 7.0) as usize;
                    if let Some(slot) = want.get_mut(i) {
                        *slot = Some(slot.map_or(p.value, |old: f64| old.max(p.value)));
                    }
                }
                assert_eq!(buckets(history, now, window, 7, 1.0), want, "{now}");
            }
        }
    }

    #[test]
    fn the_cell_adapts_to_its_width() {
        let points: Vec<(i64, f64)> = (0..60).map(|m| (m, m as f64)).collect();
        let (m, spark) = metrics_with(&cpu(), &points);
        let theme = Theme::default();
        let text = |w| cell(&spark, &m, t(60), w, &theme, theme.base).to_string();
        assert_eq!(text(5), "  59%", "too narrow for bars: the value only");
        let wide = text(16);
        assert_eq!(wide.chars().count(), 16, "{wide}");
        assert!(wide.starts_with('▁') && wide.ends_with(" 59%"), "{wide}");
        assert_eq!(
            text(200).chars().count(),
            60 + 1 + 5,
            "no more bars than periods"
        );
    }

    #[test]
    fn an_old_value_is_not_current() {
        let (m, spark) = metrics_with(&cpu(), &[(10, 42.0)]);
        assert_eq!(spark.current(&m, t(12)), Some(42.0));
        assert_eq!(spark.value_text(&m, t(30)), "-");
    }
}
