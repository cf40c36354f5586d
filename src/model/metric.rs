//! CloudWatch metrics as the console thinks of them: which series a row or chart shows, their
//! points, and the alarms watching them. Free of SDK types; the sources translate.

use std::sync::Arc;

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
/// equal keys) and the statistic. Shared, not copied, and hashed once: the metrics schedule,
/// the history store and the engine hold the same 20,000 keys on the biggest fleets and look
/// them up by the thousand on the UI loop. A copy is a counter increment; a look-up reads the
/// hash kept with the fields instead of every string; two copies of one key compare equal
/// without reading their fields, two keys with other hashes too.
#[derive(Clone)]
pub struct MetricId(Arc<Hashed>);

struct Hashed {
    fields: MetricFields,
    hash: u64,
}

/// What a [`MetricId`] names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct MetricFields {
    pub namespace: String,
    pub name: String,
    pub dimensions: Vec<(String, String)>,
    pub stat: Stat,
}

impl std::ops::Deref for MetricId {
    type Target = MetricFields;
    fn deref(&self) -> &MetricFields {
        &self.0.fields
    }
}

impl PartialEq for MetricId {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
            || (self.0.hash == other.0.hash && self.0.fields == other.0.fields)
    }
}

impl Eq for MetricId {}

impl std::hash::Hash for MetricId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.0.hash);
    }
}

impl PartialOrd for MetricId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for MetricId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        if Arc::ptr_eq(&self.0, &other.0) {
            return std::cmp::Ordering::Equal;
        }
        self.0.fields.cmp(&other.0.fields)
    }
}

impl std::fmt::Debug for MetricId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricId")
            .field("namespace", &self.namespace)
            .field("name", &self.name)
            .field("dimensions", &self.dimensions)
            .field("stat", &self.stat)
            .finish()
    }
}

impl serde::Serialize for MetricId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.fields.serialize(serializer)
    }
}

impl From<MetricFields> for MetricId {
    fn from(fields: MetricFields) -> Self {
        let hash = super::hash::of_hash(&fields);
        MetricId(Arc::new(Hashed { fields, hash }))
    }
}

impl MetricId {
    pub fn new(namespace: &str, name: &str, dimensions: &[(&str, &str)], stat: Stat) -> Self {
        let mut dimensions: Vec<(String, String)> = dimensions
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        dimensions.sort();
        MetricFields {
            namespace: namespace.into(),
            name: name.into(),
            dimensions,
            stat,
        }
        .into()
    }

    /// The same metric under another statistic.
    pub fn with_stat(&self, stat: Stat) -> Self {
        self.edited(|fields| fields.stat = stat)
    }

    /// Another metric: this one's fields, changed by `edit`.
    pub fn edited(&self, edit: impl FnOnce(&mut MetricFields)) -> Self {
        let mut fields = MetricFields::clone(self);
        edit(&mut fields);
        fields.into()
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
