//! CloudWatch metrics as the console thinks of them: which series a row or chart shows, their
//! points, and the alarms watching them. Free of SDK types; the sources translate.

use super::Time;

/// The statistic CloudWatch aggregates each period with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Stat {
    Average,
    Sum,
    Maximum,
    /// The 95th percentile (an extended statistic): what latency rules read, where the
    /// average hides the slow tail.
    P95,
}

impl Stat {
    pub fn as_str(self) -> &'static str {
        match self {
            Stat::Average => "Average",
            Stat::Sum => "Sum",
            Stat::Maximum => "Maximum",
            Stat::P95 => "p95",
        }
    }
}

/// One CloudWatch metric: namespace, name, dimensions (sorted by name, so equal metrics are
/// equal keys) and the statistic.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct MetricId {
    pub namespace: String,
    pub name: String,
    pub dimensions: Vec<(String, String)>,
    pub stat: Stat,
}

impl MetricId {
    pub fn new(namespace: &str, name: &str, dimensions: &[(&str, &str)], stat: Stat) -> Self {
        let mut dimensions: Vec<(String, String)> = dimensions
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        dimensions.sort();
        MetricId {
            namespace: namespace.into(),
            name: name.into(),
            dimensions,
            stat,
        }
    }

    pub fn dimension(&self, name: &str) -> Option<&str> {
        self.dimensions
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Percentages draw on a fixed 0–100 scale; counts and times scale to their own range.
    pub fn is_percent(&self) -> bool {
        self.name.ends_with("Utilization") || self.name.ends_with("Reservation")
    }

    /// The unit to print after a value.
    pub fn unit(&self) -> Unit {
        if self.is_percent() {
            Unit::Percent
        } else if self.name == "TargetResponseTime" {
            Unit::Seconds
        } else if self.name.ends_with("Utilized") && self.name.starts_with("Memory") {
            Unit::Megabytes
        } else if matches!(
            self.name.as_str(),
            "NetworkIn" | "NetworkOut" | "NetworkRxBytes" | "NetworkTxBytes"
        ) {
            Unit::BytesPerSecond
        } else {
            Unit::Count
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Percent,
    Seconds,
    Megabytes,
    Count,
    BytesPerSecond,
}

/// A metric at one resolution: what the history store keys on and what a query asks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct SeriesKey {
    pub metric: MetricId,
    /// Seconds per point (60, 300, 3600…).
    pub period: u32,
}

impl SeriesKey {
    /// What a point's value is multiplied by to read in its unit: a `Sum` of bytes over the
    /// period (EC2 `NetworkIn`) becomes bytes a second, alike at every resolution.
    pub fn per_second(&self) -> f64 {
        if self.metric.stat == Stat::Sum && self.metric.unit() == Unit::BytesPerSecond {
            1.0 / f64::from(self.period.max(1))
        } else {
            1.0
        }
    }
}

/// One value of a series: the aggregate of the period starting at `at`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub at: Time,
    pub value: f64,
}

/// One `GetMetricData` round: every series shares the time range, each has its own period.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRequest {
    pub series: Vec<SeriesKey>,
    pub start: Time,
    pub end: Time,
}

/// The points CloudWatch returned for one series, oldest first. No point for a period means
/// no data for it (not zero).
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesData {
    pub key: SeriesKey,
    pub points: Vec<Point>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum AlarmState {
    Ok,
    Alarm,
    InsufficientData,
}

/// A CloudWatch metric alarm, matched to rows by its metric.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Alarm {
    pub name: String,
    pub state: AlarmState,
    /// Namespace, metric name and dimensions (the statistic is ignored when matching).
    pub namespace: String,
    pub metric: String,
    pub dimensions: Vec<(String, String)>,
    pub threshold: f64,
    /// `GreaterThanThreshold`, `LessThanOrEqualToThreshold`…
    pub comparison: String,
    pub reason: String,
    pub updated_at: Option<Time>,
}

impl Alarm {
    /// Whether this alarm watches `metric` (same namespace, name and dimensions).
    pub fn watches(&self, metric: &MetricId) -> bool {
        if self.namespace != metric.namespace || self.metric != metric.name {
            return false;
        }
        let mut dims = self.dimensions.clone();
        dims.sort();
        dims == metric.dimensions
    }
}
