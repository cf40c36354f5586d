//! A row's metric: which series a sparkline column shows, and its current value as text (what
//! the column filters and sorts by). Drawing the bars is `ui::spark`.

use chrono::TimeDelta;

use crate::model::{SeriesKey, Time, Unit};
use crate::state::Metrics;

/// Rows show the last hour at one-minute resolution.
pub const ROW_PERIOD: u32 = 60;
pub const ROW_WINDOW: TimeDelta = TimeDelta::hours(1);

/// Room the value takes after the bars (`100%`, `12.3k`, `0.25s`).
pub const VALUE_WIDTH: usize = 5;

/// A metric cell: which series, and how to turn its values into what the row means.
#[derive(Debug, Clone, PartialEq)]
pub struct Spark {
    pub key: SeriesKey,
    /// Values are multiplied by this (task CPU units → % of the task's CPU).
    pub scale: f64,
    /// Draw as a percentage (0–100 scale) whatever the metric's own unit.
    pub percent: bool,
}

impl Spark {
    /// A row metric at the row resolution, in its own unit.
    pub fn of(metric: crate::model::MetricId) -> Self {
        let percent = metric.is_percent();
        Spark {
            key: SeriesKey {
                metric,
                period: ROW_PERIOD,
            },
            scale: 1.0,
            percent,
        }
    }

    /// Shown as a share of `capacity` (e.g. CPU units used of the task's CPU units).
    pub fn share_of(metric: crate::model::MetricId, capacity: Option<u32>) -> Self {
        match capacity.filter(|&c| c > 0) {
            Some(c) => Spark {
                scale: 100.0 / f64::from(c),
                percent: true,
                ..Spark::of(metric)
            },
            None => Spark::of(metric),
        }
    }

    pub fn unit(&self) -> Unit {
        if self.percent {
            Unit::Percent
        } else {
            self.key.metric.unit()
        }
    }

    /// The latest value, if it is recent (a value older than five periods is no longer "now").
    pub fn current(&self, metrics: &Metrics, now: Time) -> Option<f64> {
        let latest = metrics.get(&self.key)?.latest()?;
        let fresh = now - latest.at <= TimeDelta::seconds(i64::from(self.key.period) * 5);
        fresh.then_some(latest.value * self.scale * self.key.per_second())
    }

    pub fn value_text(&self, metrics: &Metrics, now: Time) -> String {
        self.current(metrics, now)
            .map_or_else(|| "-".into(), |v| format_value(v, self.unit()))
    }
}

/// `87%`, `12.3k`, `0.25s`, `512M`.
pub fn format_value(v: f64, unit: Unit) -> String {
    match unit {
        Unit::Percent => format!("{v:.0}%"),
        Unit::Seconds if v < 10.0 => format!("{v:.2}s"),
        Unit::Seconds => format!("{v:.0}s"),
        Unit::Megabytes if v >= 1024.0 => format!("{:.1}G", v / 1024.0),
        Unit::Megabytes => format!("{v:.0}M"),
        Unit::Count if v >= 1e6 => format!("{:.1}M", v / 1e6),
        Unit::Count if v >= 1e4 => format!("{:.0}k", v / 1e3),
        Unit::Count if v >= 1e3 => format!("{:.1}k", v / 1e3),
        Unit::Count if v.fract() == 0.0 || v >= 100.0 => format!("{v:.0}"),
        Unit::Count => format!("{v:.1}"),
        Unit::BytesPerSecond if v >= 1e9 => format!("{:.1}GB", v / 1e9),
        Unit::BytesPerSecond if v >= 1e7 => format!("{:.0}MB", v / 1e6),
        Unit::BytesPerSecond if v >= 1e6 => format!("{:.1}MB", v / 1e6),
        Unit::BytesPerSecond if v >= 1e4 => format!("{:.0}kB", v / 1e3),
        Unit::BytesPerSecond if v >= 1e3 => format!("{:.1}kB", v / 1e3),
        Unit::BytesPerSecond => format!("{v:.0}B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_short_and_carry_their_unit() {
        assert_eq!(format_value(87.4, Unit::Percent), "87%");
        assert_eq!(format_value(12_345.0, Unit::Count), "12k");
        assert_eq!(format_value(1_234.0, Unit::Count), "1.2k");
        assert_eq!(format_value(3.0, Unit::Count), "3");
        assert_eq!(format_value(0.25, Unit::Seconds), "0.25s");
        assert_eq!(format_value(2048.0, Unit::Megabytes), "2.0G");
        assert_eq!(format_value(340_000.0, Unit::BytesPerSecond), "340kB");
        assert_eq!(format_value(1_250_000.0, Unit::BytesPerSecond), "1.2MB");
        assert_eq!(format_value(812.0, Unit::BytesPerSecond), "812B");
    }
}
