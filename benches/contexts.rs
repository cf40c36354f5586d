//! Several contexts against moto (behind tests/moto/server.py): time to connect N contexts and
//! have the first one's clusters, and all of them, for 1, 4 and 12 contexts (up to four regions
//! × three accounts, two of them reached through assume-role profiles), with the calls each
//! context cost; then idle calls per minute: the console left alone over 1, 4 and 12 contexts
//! (the fleet view from 2 on, one plain console for 1), on the test kit's clock (simulated
//! minutes: the counts are exact, the wall time is not the point), each context's calls
//! against one context's. Run: `cargo bench --bench contexts --profile dev` (needs moto:
//! `scripts/test` installs it); `-- idle` for the idle calls only.
//!
//! moto answers one request at a time, so the times grow with N here where AWS would answer the
//! contexts in parallel: read them as an upper bound, and the calls as exact.

// set_var is unsafe since edition 2024: the environment is set before any thread exists.
#![allow(unsafe_code)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ecsmon::model::WantedContext;
use ecsmon::source::FleetSource;
use ecsmon::source::aws::connect_contexts;
use ecsmon::testkit::{FleetContext, Harness};
use support::{FleetSpec, Moto, sdk_config_as, sdk_config_in, seed};

const REGIONS: [&str; 4] = ["us-east-1", "eu-west-1", "eu-west-3", "ap-southeast-2"];
/// (profile, account): `home` has keys, the others are roles assumed from it.
const ACCOUNTS: [(&str, &str); 3] = [
    ("home", "123456789012"),
    ("org-b", "222222222222"),
    ("org-c", "333333333333"),
];

fn config_file() -> String {
    let mut out = String::from(
        "[profile home]\nregion = us-east-1\naws_access_key_id = test\naws_secret_access_key = test\n",
    );
    for (profile, account) in &ACCOUNTS[1..] {
        out += &format!(
            "\n[profile {profile}]\nregion = us-east-1\n\
             role_arn = arn:aws:iam::{account}:role/ecsmon-read\nsource_profile = home\n"
        );
    }
    out
}

/// Seeds one cluster in each (account, region), as `account`'s role.
async fn seed_all(endpoint: &str) {
    for (profile, account) in ACCOUNTS {
        for region in REGIONS {
            let home = sdk_config_in(endpoint, region).await;
            let config = if profile == "home" {
                home
            } else {
                sdk_config_as(endpoint, region, account).await
            };
            seed(
                &config,
                &FleetSpec::new(&format!("{profile}-{region}"), 2, 2, 1),
            )
            .await;
        }
    }
}

/// The first `n` contexts: every region of an account before the next account.
fn contexts(n: usize) -> Vec<WantedContext> {
    ACCOUNTS
        .iter()
        .flat_map(|(profile, _)| {
            REGIONS
                .iter()
                .map(|r| WantedContext::new(Some(profile), Some(r)))
        })
        .take(n)
        .collect()
}

/// Connects `n` contexts and lists each one's clusters, all at once: (first answered, all
/// answered, clusters, calls per context).
async fn run(moto: &Moto, n: usize) -> (Duration, Duration, usize, f64) {
    moto.reset_stats().await;
    let started = Instant::now();
    let connected = connect_contexts(&contexts(n), Some(&moto.endpoint)).await;
    let sources: Vec<_> = connected
        .into_iter()
        .map(|c| c.unwrap_or_else(|e| panic!("{}", e.message)))
        .collect();
    let mut pending: futures::stream::FuturesUnordered<_> = sources
        .iter()
        .map(|s| async move {
            let clusters = s.source.clusters().await.expect("clusters");
            (clusters.len(), started.elapsed())
        })
        .collect();
    use futures::StreamExt;
    let mut first = None;
    let mut clusters = 0;
    while let Some((count, at)) = pending.next().await {
        first.get_or_insert(at);
        clusters += count;
    }
    let all = started.elapsed();
    let by_context = moto.stats_by_context().await;
    let calls: u64 = by_context.values().flat_map(|ops| ops.values()).sum();
    (
        first.unwrap_or_default(),
        all,
        clusters,
        calls as f64 / n as f64,
    )
}

/// Simulated minutes the console is left to load everything and settle before counting.
const SETTLE_MINUTES: i64 = 3;
/// Simulated minutes counted.
const IDLE_MINUTES: i64 = 10;

/// `n` contexts left alone: (calls per minute per context, the busiest context's calls per
/// minute, every operation's calls per minute over all contexts).
async fn idle(moto: &Moto, n: usize) -> (f64, f64, BTreeMap<String, f64>) {
    let connected = connect_contexts(&contexts(n), Some(&moto.endpoint)).await;
    let fleet: Vec<FleetContext> = connected
        .into_iter()
        .map(|c| {
            let c = c.unwrap_or_else(|e| panic!("{}", e.message));
            let source: Arc<dyn FleetSource> = Arc::new(c.source);
            (c.context, source, None)
        })
        .collect();
    let mut h = if n == 1 {
        let (_, source, _) = fleet.into_iter().next().expect("one context");
        Harness::with_source(source, None, 160, 45)
    } else {
        Harness::fleet(fleet, 160, 45)
    };
    h.advance(SETTLE_MINUTES * 60);
    moto.reset_stats().await;
    h.advance(IDLE_MINUTES * 60);
    let by_context = moto.stats_by_context().await;
    let minutes = IDLE_MINUTES as f64;
    let mut by_op: BTreeMap<String, f64> = BTreeMap::new();
    let mut busiest = 0u64;
    let mut total = 0u64;
    for ops in by_context.values() {
        let calls: u64 = ops.values().sum();
        busiest = busiest.max(calls);
        total += calls;
        for (op, count) in ops {
            *by_op.entry(op.clone()).or_default() += *count as f64 / minutes;
        }
    }
    (
        total as f64 / minutes / n as f64,
        busiest as f64 / minutes,
        by_op,
    )
}

async fn idle_table(moto: &Moto) {
    println!(
        "\nidle calls per minute (settled {SETTLE_MINUTES} min, counted over {IDLE_MINUTES} \
         simulated min, no keys pressed)"
    );
    println!(
        "  {:>8} {:>11} {:>19} {:>16} {:>15}",
        "contexts", "all, /min", "per context, /min", "busiest, /min", "vs 1 context"
    );
    let mut one = None;
    for n in [1, 4, 12] {
        let (per_context, busiest, by_op) = idle(moto, n).await;
        let base = *one.get_or_insert(per_context);
        println!(
            "  {n:>8} {:>11.1} {per_context:>19.1} {busiest:>16.1} {:>14.2}x",
            per_context * n as f64,
            per_context / base
        );
        let ops: Vec<String> = by_op
            .iter()
            .map(|(op, per_minute)| format!("{op} {:.1}", per_minute / n as f64))
            .collect();
        println!("  {:>8} per context: {}", "", ops.join(", "));
    }
}

fn main() {
    // `cargo test --all-targets` builds and starts every bench; measuring is for `cargo bench`,
    // which passes --bench.
    if !std::env::args().any(|a| a == "--bench") {
        println!("contexts is a benchmark: run it with `cargo bench --bench contexts`");
        return;
    }
    let only_idle = std::env::args().any(|a| a == "idle");
    let moto = Moto::start();
    let dir = std::env::temp_dir().join(format!("ecsmon-bench-contexts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config"), config_file()).unwrap();
    // SAFETY: no other thread exists yet (the runtime is built below).
    unsafe {
        for var in support::AWS_ENV_VARS {
            std::env::remove_var(var);
        }
        std::env::set_var("AWS_CONFIG_FILE", dir.join("config"));
        std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", dir.join("credentials"));
        // The profile chain's AssumeRole goes to moto too (see source::aws::connect_context).
        std::env::set_var("AWS_ENDPOINT_URL", &moto.endpoint);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let t = Instant::now();
        seed_all(&moto.endpoint).await;
        println!(
            "seeded {} contexts in {:.1?}",
            ACCOUNTS.len() * REGIONS.len(),
            t.elapsed()
        );
        // Once untimed: moto's first calls in each account and region warm its backends.
        run(&moto, 12).await;
        if only_idle {
            idle_table(&moto).await;
            return;
        }
        println!(
            "\n  {:>8} {:>12} {:>12} {:>9} {:>17}",
            "contexts", "first rows", "all", "clusters", "calls per context"
        );
        for n in [1, 4, 12] {
            let (first, all, clusters, calls) = run(&moto, n).await;
            println!(
                "  {n:>8} {:>12} {:>12} {clusters:>9} {calls:>17.1}",
                format!("{:.0?}", first),
                format!("{:.0?}", all)
            );
        }
        idle_table(&moto).await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}
