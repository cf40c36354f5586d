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
    let runs: Vec<Duration> = (0..20)
        .map(|_| {
            let t = Instant::now();
            ecsmon::update::triage::evaluate(&mut h.state);
            t.elapsed()
        })
        .collect();
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
        "{name:8} evaluate: median {:>9.2?} over 20 runs — {} services, {} instances, {} tasks \
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
        let tasks = block_on(h.source.tasks(&scope, false)).unwrap();
        let now = h.state.now;
        h.dispatch(Action::Loaded {
            fingerprint: None,
            query: Query::Tasks {
                scope,
                stopped: false,
            },
            seq: (1 << 40) + n as u64,
            at: now,
            result: Ok(Snapshot::Tasks(tasks)),
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
