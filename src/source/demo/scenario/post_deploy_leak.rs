//! `--demo post-deploy-leak` replays the catalog's post-deploy-memory-leak (doc 000, "Case
//! Study 3: Memory Leak Post-Deployment") at ×120: 30 replay seconds are an hour.
//!
//! Fixture change: `web` runs 3 tasks with a 512 MiB hard limit. The catalog's Node.js service
//! `catalog` and its revisions :41…:44 are the fixture's `web` and web:16…web:19; the leak is a
//! growing cache outside the heap (`World::leak_off_heap`), so like the catalog's Node process
//! it leaves no trace in the logs — the kernel simply kills the container. web:16 has run for a
//! week flat near 300 MiB, and its tasks' history is there to compare with.
//!
//! Catalog timeline (replay seconds):
//! - t=0: the pipeline deploys web:17; the rollout completes within a minute. Memory ~300 MiB.
//! - t=30 (+1 h): ~350 MiB (68 %), climbing ~50 MiB/h on every web:17 task; web:16 was flat.
//! - t=60 (+2 h): ~400 MiB (78 %).
//! - t=105 (+3.5 h): ~475 MiB (93 %).
//! - t≈120–135 (+4¼ h): the tasks reach 512 MiB and are killed one after another: exit 137,
//!   `OutOfMemoryError: Container killed due to memory usage`; no application log lines
//!   about it. Replacements start at 300 MiB and climb again.
//! - t=150 (operator): web:18 with 700 MiB as a stop-gap (redeployed): tasks restart low and
//!   the climb goes on.
//! - t≈222: the climb passes 60 % of 700 MiB: the trend is back, which shows the leak is still
//!   there.
//! - t=270 (operator): hotfix web:19 (bounded cache): memory flat at 280 MiB (40 %).
//!
//! The console's [redeploy] restarts every task low (the leak goes on); [rollback] to web:16
//! ends it (flat at 300 MiB).

use super::world::{Memory, WEB, World};
use super::{Fixture, STEADY, Script, Shape, WebPlan, step, usual_neighbours};
use crate::source::demo::names::M5_LARGE;

pub fn script() -> Script {
    Script {
        name: "post-deploy-leak",
        must_fire: &["memory-leak-trend", "task-oom-killed"],
        catalog: "post-deploy-memory-leak",
        rehearses: "memory climbs from the moment a new revision ships until its tasks are OOM-killed",
        ratio: 120,
        recovered_by: 290.0,
        fixture: Fixture {
            instances: vec![(M5_LARGE, 0), (M5_LARGE, 0), (M5_LARGE, 1)],
            web: WebPlan {
                desired: 3,
                cpu: 512,
                memory: 512,
                revision: 16,
                tag: "2.3.7",
                deployed_ago: 7 * 86_400,
                minimum_healthy_percent: 100,
                maximum_percent: 200,
                circuit_breaker: true,
            },
            neighbours: usual_neighbours(),
        },
        world: World {
            memory: vec![
                (16, Memory::Flat { level: 300.0 }),
                (
                    17,
                    Memory::Leak {
                        start: 300.0,
                        per_hour: 50.0,
                    },
                ),
                (
                    18,
                    Memory::Leak {
                        start: 300.0,
                        per_hour: 50.0,
                    },
                ),
                (19, Memory::Flat { level: 280.0 }),
            ],
            leak_off_heap: true,
            ..World::default()
        },
        shape: Shape {
            requests: &[(0.0, 4000.0)],
            web_cpu: &[(0.0, 0.25)],
            response_time: &[(0.0, 0.09)],
            ..STEADY
        },
        steps: vec![
            step(
                0.0,
                "the pipeline deploys web:17 (2.4.0: a response cache with no bound)",
                |ctx| ctx.deploy(WEB, "2.4.0", None),
            ),
            step(
                150.0,
                "operator: register web:18 with 700 MiB as a stop-gap, then redeploy",
                |ctx| ctx.deploy(WEB, "2.4.1", Some(700)),
            ),
            step(
                270.0,
                "operator: deploy the hotfix web:19 (bounded cache); memory flat at 280 MiB",
                |ctx| ctx.deploy(WEB, "2.4.2", Some(700)),
            ),
        ],
    }
}
