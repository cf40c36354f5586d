//! Triage engine costs: one evaluation of every rule over what the console holds (the default
//! demo fleet, and `--demo large`: 200 services, 500 instances) on the engine's thread, the
//! frozen copy of the state it evaluates (what the UI loop pays), the key path with the engine
//! on, and a replayed incident end to end. Run: `cargo bench --bench triage --profile dev`.
//! With `-- huge`: `--demo huge` with every one of its 100,000 tasks held (each cluster's tasks
//! answered as a pane's would be), instead of the rest.

use std::time::{Duration, Instant};

use ecsmon::testkit::Harness;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn evaluation(name: &str, keys_first: &str) {
    let mut h = Harness::new(name, 160, 45);
    // `:tasks` on the large cluster holds all 10,000 tasks (the engine reads what is held).
    h.press(keys_first);
    // Let every fleet-wide poll answer and the metrics arrive.
    h.advance(10);
    h.advance(30);
    if name == "huge" {
        hold_every_task(&mut h);
    }
    if std::env::args().any(|a| a == "rules") {
        rule_costs(&mut h);
    }
    let n = if name == "huge" { 5 } else { 20 };
    // The full evaluation: nothing kept from the one before.
    let runs: Vec<Duration> = (0..n)
        .map(|_| {
            h.state.triage.engine_cache = None;
            let t = Instant::now();
            ecsmon::update::triage::evaluate(&mut h.state);
            t.elapsed()
        })
        .collect();
    // The incremental engine's steady state: one service of one cluster changed between two
    // evaluations (the other clusters' observations are re-used).
    let changed: Vec<Duration> = (0..n)
        .map(|i| {
            change_one_service(&mut h, i);
            let t = Instant::now();
            ecsmon::update::triage::evaluate(&mut h.state);
            t.elapsed()
        })
        .collect();
    let reuse = h.state.triage.last_reuse;
    // Nothing changed at all: what the incremental engine's own bookkeeping costs (the view,
    // the fingerprints, the merge).
    let quiet: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            ecsmon::update::triage::evaluate(&mut h.state);
            t.elapsed()
        })
        .collect();
    println!(
        "{name:8} incremental evaluate, nothing changed: median {:>9.2?}",
        median(quiet)
    );
    println!(
        "{name:8} incremental evaluate, one service changed: median {:>9.2?} ({} clusters \
         re-used, {} evaluated; in it {} services re-used, {} judged again)",
        median(changed),
        reuse.reused,
        reuse.evaluated,
        reuse.services_reused,
        reuse.services_evaluated
    );
    // What the UI loop pays: the frozen copy the engine's thread evaluates.
    let freezes: Vec<Duration> = (0..20)
        .map(|_| {
            let t = Instant::now();
            let job = ecsmon::update::triage::job(&mut h.state);
            let took = t.elapsed();
            drop(job);
            h.state.triage.jobs.running = None;
            took
        })
        .collect();
    println!(
        "{name:8} on the UI loop, the engine's frozen copy: median {:>9.2?}",
        median(freezes)
    );
    let (running, stopped) = h.state.fleet.all_tasks();
    println!(
        "{name:8} full evaluate: median {:>9.2?} over {n} runs — {} services, {} instances, {} tasks \
         ({} stopped held), {} metric series, {} log lines, {} active findings",
        median(runs),
        h.state.fleet.all_services().len(),
        h.state.fleet.all_instances().len(),
        running.len(),
        stopped.len() + h.state.triage.stops.len(),
        h.state.triage.metrics_wanted.len(),
        h.state.triage.logs.len(),
        h.state.triage.active().len(),
    );
    let keys: Vec<Duration> = (0..50)
        .map(|i| {
            let t = Instant::now();
            h.press(if i % 2 == 0 { "j" } else { "k" });
            let _ = h.render();
            t.elapsed()
        })
        .collect();
    println!(
        "{name:8} key + frame with the engine on: median {:>9.2?}, max {:>9.2?}",
        median(keys.clone()),
        keys.iter().max().copied().unwrap_or_default()
    );
}

/// What each rule, the correlations and the rules' view itself cost (`-- huge rules`).
fn rule_costs(h: &mut Harness) {
    let job = ecsmon::update::triage::job(&mut h.state);
    h.state.triage.jobs.running = None;
    let t = Instant::now();
    job.with_input(|_| ());
    println!("  the rules' view (Input): {:>9.2?}", t.elapsed());
    job.with_input(|input| {
        let t = Instant::now();
        let parts = input.by_cluster();
        println!(
            "  the view cut by cluster ({} parts): {:>9.2?}",
            parts.len(),
            t.elapsed()
        );
    });
    job.with_input(|input| {
        let mut costs: Vec<(Duration, &str, usize)> = Vec::new();
        let mut all = Vec::new();
        for rule in ecsmon::triage::rules::all() {
            let t = Instant::now();
            let found = (rule.check)(input);
            costs.push((t.elapsed(), rule.id, found.len()));
            all.extend(found);
        }
        let t = Instant::now();
        let parents = ecsmon::triage::rules::correlate(&all, input);
        costs.push((t.elapsed(), "(correlations)", parents.len()));
        costs.sort_by_key(|c| std::cmp::Reverse(c.0));
        for (took, id, n) in costs.iter().take(20) {
            println!("  {took:>9.2?}  {id} ({n} observations)");
        }
    });
}

/// One service of the cluster with the most services (the first by name of those) answered
/// with another desired count: news for that cluster, and in it for that service, only.
fn change_one_service(h: &mut Harness, i: usize) {
    use ecsmon::model::{Query, Snapshot};
    let mut clusters: Vec<(std::cmp::Reverse<usize>, String)> = h
        .state
        .fleet
        .clusters()
        .iter()
        .map(|c| {
            let query = Query::Services {
                cluster: c.name.clone(),
            };
            let services = h.state.fleet.services(&query).len();
            (std::cmp::Reverse(services), c.name.clone())
        })
        .collect();
    clusters.sort();
    let Some((_, cluster)) = clusters.first().cloned() else {
        return;
    };
    let query = Query::Services { cluster };
    let mut services = h.state.fleet.services(&query).to_vec();
    let Some(first) = services.first_mut() else {
        return;
    };
    first.desired = if i.is_multiple_of(2) {
        first.desired + 1
    } else {
        first.desired.saturating_sub(1)
    };
    let now = h.state.now;
    // As the poller sends it: a big answer with its rows' prints.
    let services = Snapshot::Services(services);
    let print = services.fingerprint();
    h.state
        .fleet
        .apply_fingerprinted(query, (1 << 41) + i as u64, now, Ok(services), print);
}

/// Every cluster's running tasks answered, as if a pane showed each cluster.
fn hold_every_task(h: &mut Harness) {
    use ecsmon::action::Action;
    use ecsmon::model::{Query, Snapshot, TaskScope};
    use futures::executor::block_on;
    let clusters = block_on(h.source.clusters()).unwrap();
    for (n, c) in clusters.iter().enumerate() {
        let scope = TaskScope::Cluster {
            cluster: c.name.clone(),
        };
        let tasks = Snapshot::Tasks(block_on(h.source.tasks(&scope, false)).unwrap());
        let now = h.state.now;
        h.dispatch(Action::Loaded {
            // As the poller sends it: a big answer with its rows' prints.
            fingerprint: tasks.fingerprint(),
            query: Query::Tasks {
                scope,
                stopped: false,
            },
            seq: (1 << 40) + n as u64,
            at: now,
            result: Ok(tasks),
        });
    }
}

fn replay(name: &str, secs: f64) {
    let t = Instant::now();
    let mut h = Harness::new(name, 160, 45);
    h.advance_replay(secs);
    println!(
        "{name:12} replayed {secs} s (ticks, polls, rules) in {:>9.2?}; {} findings opened",
        t.elapsed(),
        h.state
            .triage
            .timeline
            .entries()
            .filter(|e| e.kind == ecsmon::state::TimelineKind::FindingOpened)
            .count()
    );
}

fn main() {
    println!(
        "triage (build profile: {})",
        if cfg!(debug_assertions) {
            "dev"
        } else {
            "release"
        }
    );
    if std::env::args().any(|a| a == "huge") {
        evaluation("huge", ":tasks<enter>");
        return;
    }
    evaluation("default", "");
    evaluation("large", "");
    evaluation("large", ":tasks<enter>");
    replay("memory-leak", 200.0);
    replay("sg-outage", 200.0);
}
