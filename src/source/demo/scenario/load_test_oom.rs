//! `--demo load-test-oom` replays the catalog's load-test-oom-crashes (doc 001, "Case 2: Spring
//! Boot Service Crashes Under Load (OutOfMemory)") at ×10.
//!
//! Fixture change: `web` runs 2 tasks with a 512 MiB hard limit and a JVM left to size its own
//! heap (`JAVA_TOOL_OPTIONS` without `-Xmx` or `MaxRAMPercentage`); autoscaling may go to 10.
//! Its tasks reserve 256 CPU units (not the fixture's 512), so that ten of them and a rolling
//! replacement fit on the three `m5.large`.
//!
//! Catalog timeline (replay seconds):
//! - t=0: 2 tasks, memory ~70 %. A load test starts: requests ramp 2k → 15k a minute.
//! - t=30: autoscaling raises `web` 2 → 10. Memory climbs to 90–99 % on most tasks with the
//!   load, not slowly over hours (`Memory::Load`).
//! - t≈45–60: tasks log `java.lang.OutOfMemoryError: Java heap space` and are killed at the
//!   limit (exit 137, OOM reason); their replacements fill up within minutes and go the same
//!   way. Each kill resets the requests it was serving: ELB 502s of a few per cent, and the
//!   healthy target count swings.
//! - t=100 (operator): a revision with 1024 MiB and `-Xmx800m`, deployed.
//! - t≈130: every task on it at ~65 % under the same load; no kills, no 5xx.
//! - t=160: the load test ends.
//!
//! The console's [redeploy] before t=100 restarts the same 512 MiB tasks, which fill up again
//! under the load; [scale service] adds tasks that split the load without changing its
//! per-task memory (the curve is the load's, per task).

use super::world::{Memory, Timeline, WEB, World};
use super::{Fixture, STEADY, Script, Shape, WebPlan, step, usual_neighbours};
use crate::source::demo::names::M5_LARGE;

pub fn script() -> Script {
    Script {
        name: "load-test-oom",
        must_fire: &[
            "taskdef-memory-limit-risk",
            "log-jvm-memory-pressure",
            "task-oom-killed",
            "alb-5xx-spike",
            "healthy-host-count-flapping",
        ],
        catalog: "load-test-oom-crashes",
        rehearses: "a load test fills web's undersized JVM: OutOfMemoryError, OOM kills, 502s",
        ratio: 10,
        recovered_by: 200.0,
        fixture: Fixture {
            instances: vec![(M5_LARGE, 0), (M5_LARGE, 0), (M5_LARGE, 1)],
            web: WebPlan {
                desired: 2,
                cpu: 256,
                memory: 512,
                revision: 16,
                tag: "2.3.7",
                deployed_ago: 5 * 86_400,
                minimum_healthy_percent: 100,
                maximum_percent: 200,
                circuit_breaker: true,
            },
            neighbours: usual_neighbours(),
        },
        world: World {
            memory: vec![
                (
                    16,
                    Memory::Load {
                        curve: &[
                            (0.0, 360.0),
                            (25.0, 380.0),
                            (35.0, 470.0),
                            (45.0, 505.0),
                            (50.0, 525.0),
                        ],
                    },
                ),
                (17, Memory::Flat { level: 665.0 }),
            ],
            java_options: vec![
                (16, "-XX:+ExitOnOutOfMemoryError"),
                (17, "-Xmx800m -XX:+ExitOnOutOfMemoryError"),
            ],
            reset_share: 0.02,
            gc_stall_share: Some(0.97),
            max_capacity: Timeline::new(10),
            ..World::default()
        },
        shape: Shape {
            requests: &[
                (0.0, 2000.0),
                (30.0, 15000.0),
                (160.0, 15000.0),
                (170.0, 2000.0),
            ],
            web_cpu: &[(0.0, 0.3), (30.0, 0.55), (160.0, 0.55), (170.0, 0.3)],
            response_time: &[(0.0, 0.12), (30.0, 0.2), (160.0, 0.2), (170.0, 0.12)],
            ..STEADY
        },
        steps: vec![
            step(
                30.0,
                "the load test's surge: autoscaling sets desiredCount 2 → 10",
                |ctx| ctx.scale_out(WEB, 10),
            ),
            step(
                100.0,
                "operator: register web with memory 1024 and -Xmx800m, then redeploy",
                |ctx| ctx.deploy(WEB, "2.3.8", Some(1024)),
            ),
        ],
    }
}
