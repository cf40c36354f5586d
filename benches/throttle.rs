//! Requests per 30 s that the console's real pollers send on a 130-task view against moto
//! (behind tests/moto/server.py), in real time: with the operator at the keys (healthy), left
//! alone for a minute (the cadence stretched), with every call throttled (after 20 s of it),
//! and once the throttling is over (recovered), plus how long the pane took to be fresh again.
//! Run: `cargo bench --bench throttle` (needs moto: `scripts/test` installs it into .venv).
//! About four minutes.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use serde_json::json;
use support::Moto;
use support::live::{self, Operator};

fn main() {
    // `cargo test --all-targets` builds and starts every bench; measuring is for `cargo bench`,
    // which passes --bench.
    if !std::env::args().any(|a| a == "--bench") {
        println!("throttle is a benchmark: run it with `cargo bench --bench throttle`");
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let moto = Moto::start();
        let (mut h, tasks) = live::tasks_view(&moto, "bench").await;
        let row = |label: &str, n: u64| println!("  {label:<44} {n:>5}");
        println!("\nrequests per 30 s, 130-task view (all AWS operations):");

        live::run_live(&mut h, 10, Operator::AtTheKeys, |_| false);
        let healthy = live::window(&moto, &mut h, 30, Operator::AtTheKeys).await;
        row("healthy, operator at the keys", healthy);

        live::run_live(&mut h, 60, Operator::Away, |_| false);
        let untouched = live::window(&moto, &mut h, 30, Operator::Away).await;
        row("healthy, untouched for a minute", untouched);

        h.press("j");
        moto.inject(json!({"op": "*", "kind": "throttle"})).await;
        live::run_live(&mut h, 20, Operator::AtTheKeys, |_| false);
        let throttled = live::window(&moto, &mut h, 30, Operator::AtTheKeys).await;
        row("every call throttled (after 20 s of it)", throttled);

        moto.clear_faults().await;
        let started = Instant::now();
        let fresh = live::run_live(&mut h, 60, Operator::AtTheKeys, |h| {
            !h.state.fleet.slot(&tasks).unwrap().is_stale() && !h.render().contains("STALE")
        });
        let took = started.elapsed();
        let recovered = live::window(&moto, &mut h, 30, Operator::AtTheKeys).await;
        row("recovered (after the pane was fresh again)", recovered);
        if fresh {
            println!("  fresh again {:.0?} after the throttling ended", took);
        } else {
            println!("  NOT fresh again within 60 s of the throttling's end");
        }
    });
}
