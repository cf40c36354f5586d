//! Metrics costs: `GetMetricData` calls and time per cycle for 10, 200 and 2,000 visible series
//! against moto (through the CBOR bridge), and the render cost of 60 rows with sparklines
//! against the same rows without them. Run: `cargo bench --bench metrics` (needs moto:
//! `scripts/test` installs it into .venv).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
use aws_smithy_types::DateTime;
use chrono::{TimeDelta, Utc};
use ecsmon::model::{MetricId, MetricRequest, SeriesKey, Stat, Time};
use ecsmon::source::FleetSource;
use ecsmon::source::aws::{AwsSettings, AwsSource};
use ecsmon::testkit::Harness;
use support::{Moto, sdk_config};

fn key(i: usize) -> SeriesKey {
    SeriesKey {
        metric: MetricId::new(
            "AWS/ECS",
            "CPUUtilization",
            &[
                ("ClusterName", "bench"),
                ("ServiceName", &format!("svc-{i:05}")),
            ],
            Stat::Average,
        ),
        period: 60,
    }
}

fn minute_start(t: Time) -> Time {
    Time::from_timestamp(t.timestamp() - t.timestamp().rem_euclid(60), 0).unwrap()
}

async fn seed(cw: &aws_sdk_cloudwatch::Client, count: usize) {
    let at = DateTime::from_secs(minute_start(Utc::now()).timestamp() - 90);
    let data: Vec<MetricDatum> = (0..count)
        .map(|i| {
            let k = key(i);
            MetricDatum::builder()
                .metric_name(&k.metric.name)
                .set_dimensions(Some(
                    k.metric
                        .dimensions
                        .iter()
                        .map(|(n, v)| Dimension::builder().name(n).value(v).build())
                        .collect(),
                ))
                .timestamp(at)
                .value(i as f64 % 100.0)
                .build()
        })
        .collect();
    for chunk in data.chunks(1000) {
        cw.put_metric_data()
            .namespace("AWS/ECS")
            .set_metric_data(Some(chunk.to_vec()))
            .send()
            .await
            .unwrap();
    }
}

async fn calls_per_cycle(moto: &Moto) {
    let config = sdk_config(&moto.endpoint).await;
    let cw = aws_sdk_cloudwatch::Client::new(&config);
    seed(&cw, 2000).await;
    let settings = AwsSettings {
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.endpoint.clone()),
        ..AwsSettings::default()
    };
    let source = AwsSource::from_config(&config, settings).unwrap();
    println!("\nGetMetricData per metrics cycle (moto behind the CBOR bridge)");
    println!(
        "  {:>7} {:>12} {:>8} {:>12} {:>8}",
        "series", "first: calls", "time", "next: calls", "time"
    );
    for n in [10, 200, 2000] {
        let series: Vec<SeriesKey> = (0..n).map(key).collect();
        let now = Utc::now();
        // The first cycle reads the whole hour; the next only the periods since (plus two).
        let first = MetricRequest {
            series: series.clone(),
            start: minute_start(now) - TimeDelta::hours(1),
            end: now,
        };
        let next = MetricRequest {
            series,
            start: minute_start(now) - TimeDelta::minutes(3),
            end: now + TimeDelta::minutes(1),
        };
        let mut row = Vec::new();
        for request in [first, next] {
            moto.reset_stats().await;
            let t = Instant::now();
            let answer = source.metric_data(&request).await.unwrap();
            let took = t.elapsed();
            assert_eq!(answer.len(), n);
            row.push((moto.calls("monitoring:GetMetricData").await, took));
        }
        println!(
            "  {n:>7} {:>12} {:>8.0?} {:>12} {:>8.0?}",
            row[0].0, row[0].1, row[1].0, row[1].1
        );
    }
}

/// Mean time to draw one frame of `h`.
fn frame_time(h: &Harness, frames: u32) -> Duration {
    h.render(); // warm
    let t = Instant::now();
    for _ in 0..frames {
        std::hint::black_box(h.render());
    }
    t.elapsed() / frames
}

fn render_cost() {
    // 66 lines leave 60 table rows; 200 columns give every sparkline its full width.
    let mut h = Harness::new("large", 200, 66);
    h.press("<enter>");
    assert!(h.state.metrics.point_count() > 0);
    let with = frame_time(&h, 300);
    let held = std::mem::take(&mut h.state.metrics);
    let without = frame_time(&h, 300);
    h.state.metrics = held;
    println!("\nrender of 60 service rows, 200×66 (demo `large`, TestBackend, mean of 300 frames)");
    println!("  with sparklines (CPU, MEM, 5XX) {with:>10.1?}");
    println!("  same rows, no history held     {without:>10.1?}");
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("metrics is a benchmark: run it with `cargo bench --bench metrics`");
        return;
    }
    render_cost();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let moto = Moto::start();
        calls_per_cycle(&moto).await;
    });
}
