//! Log pane costs: ingest throughput (lines per second through the real update path into a
//! pane with a search active, one frame drawn per batch), memory at the line cap, and follow
//! latency against moto (how long one polling read takes; a new line shows within the 2 s
//! poll interval plus that). Run: `cargo bench --bench logs` (moto: `scripts/test` installs it).

#[path = "../tests/support/mod.rs"]
mod support;

use std::alloc::System;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use ecsmon::action::Action;
use ecsmon::memory::{Counting, live_bytes};
use ecsmon::model::LogSubject;
use ecsmon::model::{LogEvent, LogQuery, Time};
use ecsmon::source::FleetSource;
use ecsmon::source::aws::{AwsSettings, AwsSource};
use ecsmon::state::LogPane;
use ecsmon::testkit::{Harness, fixed_now};
use support::{Moto, sdk_config};

/// Counts live heap bytes, for memory per line.
#[global_allocator]
static ALLOCATOR: Counting<System> = Counting(System);

/// A realistic line: ~120 characters, one in twenty with ANSI colours, one in fifty an error.
fn event(n: usize, at: Time) -> LogEvent {
    let message = match n % 50 {
        0 => format!(
            "ERROR request req={n:06} failed: connect to db.internal:5432 timed out after 5000ms (attempt 2) upstream=payments"
        ),
        1 | 2 => format!(
            "\x1b[33mWARN\x1b[0m slow query took 2413ms (threshold 1000ms) req={n:06} table=orders shard=3 rows=1204 plan=seq"
        ),
        _ => format!(
            "INFO GET /api/v2/orders/{n:06}/items?expand=true 200 143ms req={n:06} user=u-48213 bytes=18234 cache=miss"
        ),
    };
    LogEvent {
        id: format!("{n:020}"),
        at: at + TimeDelta::milliseconds(n as i64),
        group: "/ecs/payments".into(),
        stream: "ecs/payments/0123456789abcdef".into(),
        message,
    }
}

fn ingest() {
    let mut h = Harness::new("default", 160, 50);
    h.press("/prod<enter><enter>/payments<enter>l/timed out<enter>f");
    let id = h.state.logs.as_ref().unwrap().id;
    let batch = 500;
    let batches = 200;
    let start = fixed_now() + TimeDelta::minutes(1);
    let t = Instant::now();
    for b in 0..batches {
        let events = (0..batch).map(|i| event(b * batch + i, start)).collect();
        h.dispatch(Action::LiveTailEvents { id, events });
        std::hint::black_box(h.render());
    }
    let took = t.elapsed();
    let lines = batch * batches;
    println!(
        "\ningest through update + one frame per {batch}-line batch, search active (TestBackend 160×50)"
    );
    println!(
        "  {lines} lines in {took:.2?}: {:.0} lines/s; pane holds {} (cap), dropped {}",
        lines as f64 / took.as_secs_f64(),
        h.state.logs.as_ref().unwrap().lines.len(),
        h.state.logs.as_ref().unwrap().dropped
    );
}

fn memory_at_cap() {
    let before = live_bytes();
    let mut pane = LogPane::new(
        1,
        "logs".into(),
        LogSubject::Service {
            cluster: "prod".into(),
            service: "payments".into(),
        },
        20_000,
    );
    let start = fixed_now();
    for chunk in 0..40 {
        pane.append((0..1000).map(|i| event(chunk * 1000 + i, start)).collect());
    }
    let used = live_bytes() - before;
    println!("\nmemory of a pane at its 20,000-line cap (after 40,000 lines of ~120 chars)");
    println!(
        "  {:.1} MiB live, {} bytes per line (text, colours kept for 1 in 25, ids for de-duplication)",
        used as f64 / 1024.0 / 1024.0,
        used / pane.lines.len()
    );
    std::hint::black_box(pane);
}

async fn follow_latency(moto: &Moto) {
    let config = sdk_config(&moto.endpoint).await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let group = "/ecs/bench";
    let stream = "ecs/app/0123456789abcdef";
    logs.create_log_group()
        .log_group_name(group)
        .send()
        .await
        .unwrap();
    logs.create_log_stream()
        .log_group_name(group)
        .log_stream_name(stream)
        .send()
        .await
        .unwrap();
    let settings = AwsSettings {
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.endpoint.clone()),
        ..AwsSettings::default()
    };
    let source = AwsSource::from_config(&config, settings).unwrap();
    let mut samples = Vec::new();
    for n in 0..20 {
        let now = Utc::now();
        logs.put_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .log_events(
                aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                    .timestamp(now.timestamp_millis())
                    .message(format!("line {n}"))
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        let query = LogQuery {
            group: group.into(),
            region: None,
            streams: vec![stream.into()],
            start: now - TimeDelta::seconds(10),
            end: None,
            limit: None,
        };
        let t = Instant::now();
        let events = source.log_events(&query).await.unwrap();
        samples.push(t.elapsed());
        assert!(events.iter().any(|e| e.message == format!("line {n}")));
    }
    samples.sort();
    let median = samples[samples.len() / 2];
    let worst = samples[samples.len() - 1];
    println!("\nfollow latency by polling against moto (FilterLogEvents through the SDK)");
    println!(
        "  one poll: median {median:.0?}, worst {worst:.0?} of 20; a new line shows at most {:.1?} after it is written (2 s interval + poll)",
        Duration::from_secs(2) + worst
    );
    println!("  Live Tail pushes about once a second (AWS); moto has none to measure");
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("logs is a benchmark: run it with `cargo bench --bench logs`");
        return;
    }
    ingest();
    memory_at_cap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let moto = Moto::start();
        follow_latency(&moto).await;
    });
}
