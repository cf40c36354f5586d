//! CloudWatch: metric history (`GetMetricData`) and alarms (`DescribeAlarms`).

use std::collections::HashMap;

use aws_sdk_cloudwatch::types::{
    AlarmType, Dimension, Metric, MetricDataQuery, MetricStat, ScanBy, StateValue,
};
use aws_smithy_types::DateTime;

use super::AwsSource;
use super::convert::time;
use crate::model::{Alarm, AlarmState, MetricRequest, Point, SeriesData, SeriesKey};
use crate::source::SourceError;

/// CloudWatch's limit of queries in one `GetMetricData` call.
pub const QUERIES_PER_CALL: usize = 500;

/// The request split into calls of at most [`QUERIES_PER_CALL`] series each.
pub fn calls(request: &MetricRequest) -> impl Iterator<Item = &[SeriesKey]> {
    request.series.chunks(QUERIES_PER_CALL)
}

fn query(id: usize, key: &SeriesKey) -> MetricDataQuery {
    let dimensions = key
        .metric
        .dimensions
        .iter()
        .map(|(name, value)| Dimension::builder().name(name).value(value).build())
        .collect();
    let metric = Metric::builder()
        .namespace(&key.metric.namespace)
        .metric_name(&key.metric.name)
        .set_dimensions(Some(dimensions))
        .build();
    MetricDataQuery::builder()
        // Ids must start with a lower-case letter; the index finds the key again.
        .id(format!("q{id}"))
        .metric_stat(
            MetricStat::builder()
                .metric(metric)
                .period(key.period as i32)
                .stat(key.metric.stat.as_str())
                .build(),
        )
        .return_data(true)
        .build()
}

impl AwsSource {
    pub(super) async fn get_metric_data(
        &self,
        request: &MetricRequest,
    ) -> Result<Vec<SeriesData>, SourceError> {
        let op = "cloudwatch:GetMetricData";
        let what = "CloudWatch metrics";
        let mut out = Vec::with_capacity(request.series.len());
        for keys in calls(request) {
            let queries = keys.iter().enumerate().map(|(i, k)| query(i, k)).collect();
            let mut pages = self
                .cloudwatch
                .get_metric_data()
                .set_metric_data_queries(Some(queries))
                .start_time(DateTime::from_secs(request.start.timestamp()))
                .end_time(DateTime::from_secs(request.end.timestamp()))
                .scan_by(ScanBy::TimestampAscending)
                .into_paginator()
                .send();
            // More than 100,800 points come in several pages; each page holds part of each series.
            let mut points: HashMap<usize, Vec<Point>> = HashMap::new();
            loop {
                self.limiter.acquire(op).await;
                let Some(page) = pages.next().await else {
                    break;
                };
                let page = page.map_err(|e| self.error(op, what, &e))?;
                for result in page.metric_data_results() {
                    let Some(index) = result
                        .id()
                        .and_then(|id| id.strip_prefix('q'))
                        .and_then(|n| n.parse::<usize>().ok())
                        .filter(|&i| i < keys.len())
                    else {
                        continue;
                    };
                    let series = points.entry(index).or_default();
                    for (at, value) in result.timestamps().iter().zip(result.values()) {
                        if let Some(at) = time(Some(at)) {
                            series.push(Point { at, value: *value });
                        }
                    }
                }
            }
            for (index, key) in keys.iter().enumerate() {
                let mut points = points.remove(&index).unwrap_or_default();
                points.sort_by_key(|p| p.at);
                out.push(SeriesData {
                    key: key.clone(),
                    points,
                });
            }
        }
        Ok(out)
    }

    pub(super) async fn describe_alarms(&self) -> Result<Vec<Alarm>, SourceError> {
        let op = "cloudwatch:DescribeAlarms";
        let mut pages = self
            .cloudwatch
            .describe_alarms()
            .alarm_types(AlarmType::MetricAlarm)
            .max_records(100)
            .into_paginator()
            .send();
        let mut alarms = Vec::new();
        loop {
            self.limiter.acquire(op).await;
            let Some(page) = pages.next().await else {
                return Ok(alarms);
            };
            let page = page.map_err(|e| self.error(op, "CloudWatch alarms", &e))?;
            // Alarms on metric math (no single metric) cannot be matched to a row: skipped.
            alarms.extend(page.metric_alarms().iter().filter_map(|a| {
                Some(Alarm {
                    name: crate::sanitize::clean(a.alarm_name()?).into_owned(),
                    state: match a.state_value()? {
                        StateValue::Alarm => AlarmState::Alarm,
                        StateValue::Ok => AlarmState::Ok,
                        _ => AlarmState::InsufficientData,
                    },
                    namespace: a.namespace()?.to_string(),
                    metric: a.metric_name()?.to_string(),
                    dimensions: a
                        .dimensions()
                        .iter()
                        .map(|d| {
                            (
                                d.name().unwrap_or_default().to_string(),
                                d.value().unwrap_or_default().to_string(),
                            )
                        })
                        .collect(),
                    threshold: a.threshold()?,
                    comparison: a
                        .comparison_operator()
                        .map(|c| c.as_str().to_string())
                        .unwrap_or_default(),
                    reason: crate::sanitize::clean(a.state_reason().unwrap_or_default())
                        .into_owned(),
                    updated_at: time(a.state_updated_timestamp()),
                })
            }));
        }
    }
}
