//! Registry of the rules over CloudWatch metrics, alarms and target health, and the metrics
//! those rules need polled.

use super::Rule;
use crate::model::{Cluster, Instance, MetricId, Service, Task};

pub static RULES: &[Rule] = &[];

/// The 1-minute series the metric rules read, for every object the console knows of (the
/// metrics poller fetches them whether or not a pane shows them).
pub fn wanted_metrics(
    _clusters: &[&Cluster],
    _services: &[&Service],
    _instances: &[&Instance],
    _tasks: &[&Task],
) -> Vec<MetricId> {
    Vec::new()
}
