//! The chart popup (`m`): which metrics of which object, over which window.

use chrono::TimeDelta;

use crate::model::{MetricId, SeriesKey};

/// The windows a chart can show; the period grows with the window so a chart is always a
/// few hundred points at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChartWindow {
    #[default]
    Hour,
    ThreeHours,
    TwelveHours,
    Day,
    Week,
}

impl ChartWindow {
    pub const ALL: [ChartWindow; 5] = [
        ChartWindow::Hour,
        ChartWindow::ThreeHours,
        ChartWindow::TwelveHours,
        ChartWindow::Day,
        ChartWindow::Week,
    ];

    pub fn span(self) -> TimeDelta {
        match self {
            ChartWindow::Hour => TimeDelta::hours(1),
            ChartWindow::ThreeHours => TimeDelta::hours(3),
            ChartWindow::TwelveHours => TimeDelta::hours(12),
            ChartWindow::Day => TimeDelta::hours(24),
            ChartWindow::Week => TimeDelta::days(7),
        }
    }

    /// Seconds per point: 60, 180, 144, 288 and 168 points per window.
    pub fn period(self) -> u32 {
        match self {
            ChartWindow::Hour | ChartWindow::ThreeHours => 60,
            ChartWindow::TwelveHours | ChartWindow::Day => 300,
            ChartWindow::Week => 3600,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ChartWindow::Hour => "1h",
            ChartWindow::ThreeHours => "3h",
            ChartWindow::TwelveHours => "12h",
            ChartWindow::Day => "24h",
            ChartWindow::Week => "7d",
        }
    }

    pub fn next(self) -> Self {
        let i = Self::ALL.iter().position(|w| *w == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }

    pub fn previous(self) -> Self {
        let i = Self::ALL.iter().position(|w| *w == self).unwrap_or(0);
        Self::ALL[(i + Self::ALL.len() - 1) % Self::ALL.len()]
    }
}

/// One line of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartLine {
    pub label: String,
    pub metric: MetricId,
    /// Multiply values by this before drawing (task CPU units → % of the task's CPU).
    pub scale: f64,
    /// The values are percentages (0–100 axis).
    pub percent: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// `service cart`, `task 3f2a…`, `instance i-0…`.
    pub title: String,
    /// Charts are drawn in groups: each inner list shares one set of axes.
    pub groups: Vec<(String, Vec<ChartLine>)>,
    pub window: ChartWindow,
    /// First group shown (when they do not all fit).
    pub scroll: usize,
    /// Why some charts are empty whatever the window (Container Insights off, no load
    /// balancer), said once above them.
    pub note: Option<String>,
}

impl Chart {
    pub fn series(&self) -> impl Iterator<Item = SeriesKey> + '_ {
        let period = self.window.period();
        self.groups
            .iter()
            .flat_map(|(_, lines)| lines)
            .map(move |l| SeriesKey {
                metric: l.metric.clone(),
                period,
            })
    }
}
