//! AWS calls for one full refresh of each open view against the minimum the batch limits allow,
//! and load times, against moto (behind tests/moto/server.py). Run: `cargo bench --bench aws_refresh`
//! (needs moto: `scripts/test` installs it into .venv); `-- rows` measures only rows before
//! details (first rows, first screen, full load and later refreshes at 200 and 2,000 services,
//! and the tasks pane of that cluster with 10,000 tasks).

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

/// Rows before details on one cluster of `n` services: seeds them, then measures the services
/// pane ([`rows_before_details`]).
async fn progressive(moto: &Moto, n: usize) {
    let cluster = format!("rows{n}");
    let config = sdk_config(&moto.endpoint).await;
    let started = Instant::now();
    seed::seed_services(&config, &cluster, n).await;
    let seeded_in = started.elapsed();
    let query = Query::Services {
        cluster: cluster.clone(),
    };
    let pane = ecsmon::state::Pane::Services { cluster };
    let label = format!("{n} services (seeded in {seeded_in:.1?})");
    rows_before_details(moto, &config, query, pane, n, &label).await;
}

/// The tasks pane of one cluster of 2,000 services (`progressive(moto, 2_000)`'s) with
/// `n` running tasks: seeds the tasks, then measures the pane ([`rows_before_details`]).
async fn progressive_tasks(moto: &Moto, n: usize) {
    let cluster = "rows2000".to_string();
    let config = sdk_config(&moto.endpoint).await;
    let started = Instant::now();
    seed::seed_tasks(&config, moto, &cluster, 2_000, n).await;
    let seeded_in = started.elapsed();
    let scope = TaskScope::Cluster {
        cluster: cluster.clone(),
    };
    let query = Query::Tasks {
        scope: scope.clone(),
        stopped: false,
    };
    let pane = ecsmon::state::Pane::Tasks {
        scope,
        stopped: false,
    };
    let label = format!("{n} tasks of 2,000 services (tasks seeded in {seeded_in:.1?})");
    rows_before_details(moto, &config, query, pane, n, &label).await;
}

/// Rows before details on one listed pane of `n` rows: time to the rows (every list page), to
/// the first screen described, to every row described (`IN_FLIGHT` batches at a time, as the
/// console sends them), and the calls for that against the floor; then what one later refresh
/// of the pane costs through the console's own scheduling (the screen each cycle, the rest on
/// the sweep).
async fn rows_before_details(
    moto: &Moto,
    config: &aws_config::SdkConfig,
    query: Query,
    pane: ecsmon::state::Pane,
    n: usize,
    label: &str,
) {
    use ecsmon::poll::describe::{IN_FLIGHT, batch_size};
    use ecsmon::source::Rows;
    use futures::StreamExt;

    let settings = AwsSettings {
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.endpoint.clone()),
        ..AwsSettings::default()
    };
    let source = AwsSource::from_config(config, settings.clone()).unwrap();
    let batch = batch_size(&query);
    source.identity().await.unwrap();
    moto.reset_stats().await;
    let t = Instant::now();
    let Ok(Rows::Listed(arns)) = source.rows(&query).await else {
        panic!("{} are listed first", query.describe());
    };
    let first_rows = t.elapsed();
    // Every batch, `IN_FLIGHT` at a time; the first holds the first screen (a 40-line
    // terminal shows about 35 rows: 4 batches of 10 services, 1 of 100 tasks).
    let screen_batches = 35usize.div_ceil(batch);
    let batches: Vec<(usize, Vec<String>)> = arns
        .chunks(batch)
        .map(<[String]>::to_vec)
        .enumerate()
        .collect();
    let mut first_screen = None;
    let mut screen_left = screen_batches;
    let mut described = 0;
    let mut answers = futures::stream::iter(batches)
        .map(|(i, arns)| {
            let (source, query) = (&source, &query);
            async move {
                let rows = match source.describe(query, &arns).await.unwrap() {
                    ecsmon::model::Snapshot::Services(v) => v.len(),
                    ecsmon::model::Snapshot::Tasks(v) => v.len(),
                    ecsmon::model::Snapshot::Instances(v) => v.len(),
                    other => panic!("{other:?}"),
                };
                (i, rows)
            }
        })
        .buffer_unordered(IN_FLIGHT);
    while let Some((i, rows)) = answers.next().await {
        described += rows;
        if i < screen_batches {
            screen_left -= 1;
            if screen_left == 0 {
                first_screen = Some(t.elapsed());
            }
        }
    }
    let full = t.elapsed();
    drop(answers);
    let first_screen = first_screen.unwrap_or(full);
    assert_eq!(described, n);
    let calls: u64 = moto.stats().await.values().sum();
    let floor = pages(n, 100) + n.div_ceil(batch) as u64;

    // Later refreshes, through the update path: load the pane, then one pane cycle.
    let source: std::sync::Arc<dyn FleetSource> = std::sync::Arc::new(source);
    let mut h = ecsmon::testkit::Harness::with_source(source, Some(settings), 160, 40);
    h.state.nav.push(ecsmon::state::View::new(pane));
    let cadence = h.state.refresh.focused;
    // An operator at the keys: the pane keeps its focused cadence (it stretches when idle).
    let step = |h: &mut ecsmon::testkit::Harness, secs: u64| {
        h.state.now += chrono::TimeDelta::seconds(secs as i64);
        h.state.last_input = h.state.now;
        let now = h.state.now;
        h.dispatch(ecsmon::action::Action::Tick(now));
    };
    step(&mut h, 0);
    let sweep = ecsmon::poll::describe::sweep(cadence);
    let cycles = (sweep.as_secs() / cadence.as_secs()).max(1);
    let (list_op, describe_op) = match query {
        Query::Tasks { .. } => ("ecs:ListTasks", "ecs:DescribeTasks"),
        Query::Instances { .. } => (
            "ecs:ListContainerInstances",
            "ecs:DescribeContainerInstances",
        ),
        _ => ("ecs:ListServices", "ecs:DescribeServices"),
    };
    moto.reset_stats().await;
    for _ in 0..cycles {
        step(&mut h, cadence.as_secs());
    }
    let lists = moto.calls(list_op).await;
    let refreshes = (lists / pages(n, 100)).max(1);
    let per_sweep: u64 = lists + moto.calls(describe_op).await;
    println!(
        "\nrows before details, {label}:\n  \
         first rows {first_rows:.0?}, first screen described {first_screen:.0?} ({:.0?} after \
         the rows), all {n} described {full:.0?}\n  calls for the full load {calls} (floor {floor})\n  \
         later refreshes every {cadence:?}: {per_sweep} calls for {refreshes} refreshes over \
         one {sweep:?} sweep ({:.1} a refresh; re-describing everything each time: {})",
        first_screen.saturating_sub(first_rows),
        per_sweep as f64 / refreshes as f64,
        floor,
    );
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
        // `-- rows`: only rows before details.
        if std::env::args().any(|a| a == "rows") {
            progressive(&moto, 200).await;
            progressive(&moto, 2_000).await;
            progressive_tasks(&moto, 10_000).await;
            return;
        }
        refresh_costs(&moto, "small", FleetSpec::new("small", 12, 11, 8)).await;
        refresh_costs(&moto, "large", FleetSpec::new("large", 250, 4, 150)).await;
        progressive(&moto, 200).await;
        progressive(&moto, 2_000).await;
        progressive_tasks(&moto, 10_000).await;

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
