//! AWS calls for one full refresh of each open view against the minimum the batch limits allow,
//! and load times, against moto (behind tests/moto/server.py). Run: `cargo bench --bench aws_refresh`
//! (needs moto: `scripts/test` installs it into .venv).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use ecsmon::model::{Query, TaskScope};
use ecsmon::source::FleetSource;
use ecsmon::source::aws::{AwsSettings, AwsSource};
use support::{FleetSpec, Moto, sdk_config, seed};

fn pages(n: usize, size: usize) -> u64 {
    n.div_ceil(size).max(1) as u64
}

/// The fewest calls AWS's limits allow for one refresh of `query` (caches warm: the container
/// instances behind tasks are already known).
fn minimum(query: &Query, clusters: usize, services: usize, tasks: usize, instances: usize) -> u64 {
    match query {
        Query::Clusters => pages(clusters, 100) + clusters.div_ceil(100) as u64,
        Query::Services { .. } => pages(services, 100) + services.div_ceil(10) as u64,
        Query::Tasks { .. } => pages(tasks, 100) + tasks.div_ceil(100) as u64,
        Query::Instances { .. } => {
            pages(instances, 100) + instances.div_ceil(100) as u64 + instances.div_ceil(1000) as u64
        }
        Query::Task { .. } => 1,
        // Route tables of the subnets (+ the main tables' VPCs), then the NAT gateways.
        Query::Egress { .. } => 2,
    }
}

async fn refresh_costs(moto: &Moto, label: &str, spec: FleetSpec) {
    let config = sdk_config(&moto.endpoint).await;
    let started = Instant::now();
    seed(&config, &spec).await;
    let seeded_in = started.elapsed();
    let settings = AwsSettings {
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.endpoint.clone()),
        ..AwsSettings::default()
    };
    let source = AwsSource::from_config(&config, settings).unwrap();
    let clusters = source.clusters().await.unwrap().len();
    let cluster = spec.cluster.clone();
    let tasks = spec.services * spec.tasks_per_service;
    let views = [
        Query::Clusters,
        Query::Services {
            cluster: cluster.clone(),
        },
        Query::Tasks {
            scope: TaskScope::Cluster {
                cluster: cluster.clone(),
            },
            stopped: false,
        },
        Query::Instances {
            cluster: cluster.clone(),
        },
    ];
    println!(
        "\n{label}: {} services, {tasks} tasks, {} instances (seeded in {seeded_in:.1?})",
        spec.services, spec.instances
    );
    println!(
        "  {:<34} {:>6} {:>8} {:>9}",
        "view", "calls", "minimum", "time"
    );
    for query in &views {
        source.fetch(query).await.unwrap(); // warm the caches, as a running console has
        moto.reset_stats().await;
        let t = Instant::now();
        source.fetch(query).await.unwrap();
        let took = t.elapsed();
        let calls: u64 = moto.stats().await.values().sum();
        let min = minimum(query, clusters, spec.services, tasks, spec.instances);
        println!(
            "  {:<34} {calls:>6} {min:>8} {took:>9.1?}",
            query.describe()
        );
    }
}

fn main() {
    // `cargo test --all-targets` builds and starts every bench; measuring is for `cargo bench`,
    // which passes --bench.
    if !std::env::args().any(|a| a == "--bench") {
        println!("aws_refresh is a benchmark: run it with `cargo bench --bench aws_refresh`");
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let moto = Moto::start();
        refresh_costs(&moto, "small", FleetSpec::new("small", 12, 11, 8)).await;
        refresh_costs(&moto, "large", FleetSpec::new("large", 250, 4, 150)).await;

        // Time to the first clusters answer from a cold start (config, clients, identity, clusters).
        let t = Instant::now();
        let settings = AwsSettings {
            region: Some("us-east-1".into()),
            endpoint_url: Some(moto.endpoint.clone()),
            ..AwsSettings::default()
        };
        let config = sdk_config(&moto.endpoint).await;
        let source = AwsSource::from_config(&config, settings).unwrap();
        let (identity, clusters) = tokio::join!(source.identity(), source.clusters());
        identity.unwrap();
        println!(
            "\ncold start to the clusters list: {:.0?} ({} clusters)",
            t.elapsed(),
            clusters.unwrap().len()
        );

        let fleet = seed(&config, &FleetSpec::new("thousand", 1, 1000, 20)).await;
        let scope = TaskScope::Service {
            cluster: "thousand".into(),
            service: fleet.services[0].clone(),
        };
        let t = Instant::now();
        let tasks = source.tasks(&scope, false).await.unwrap();
        println!(
            "a fully loaded 1,000-task service (cold caches): {:.0?} ({} tasks)",
            t.elapsed(),
            tasks.len()
        );
        let t = Instant::now();
        source.tasks(&scope, false).await.unwrap();
        println!(
            "the same service refreshed (warm caches): {:.0?}",
            t.elapsed()
        );
    });
}
