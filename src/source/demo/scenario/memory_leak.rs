//! `--demo memory-leak` replays the catalog's memory-leak-oom-restarts (doc 000, "Scenario 2:
//! Memory Leak and Out-of-Memory Crashes") at ×30: 30 replay seconds are 15 minutes.
//!
//! Catalog timeline (replay seconds) and what drives each row here:
//! - t=0: `web` (revision 16, deployed ten minutes before) runs 4 tasks near 560 MiB of their
//!   1024 MiB, each climbing ~80 MiB per 15 min — `World::memory`; G1 young pauses in the logs.
//! - t=60: ~720 MiB (70 %), full GCs in the logs; enough samples for the leak trend.
//! - t=120: ~880 MiB (86 %); full GCs every ~30 s (≥5 in 5 min).
//! - t=140: task 1 logs `java.lang.OutOfMemoryError: Java heap space` and is killed at its
//!   limit (exit 137, `OutOfMemoryError: Container killed due to memory usage`,
//!   `EssentialContainerExited`); its replacement starts at 530 MiB (`World::oom_at`).
//!   A one-minute blip of ELB 502s (under 1 %) while its connections reset.
//! - t=150–165: tasks 2 and 3 go the same way.
//! - t=180 (operator): a revision with 2048 MiB (and `-Xmx1600m`) is deployed: tasks restart
//!   low against a limit twice as high, and the leak goes on at the same slope.
//! - t=240: the code fix (bounded cache): memory holds at 600 MiB.
//!
//! The console's [redeploy] restarts every task low (the leak goes on); [stop task] kills one
//! early, and its replacement starts low.

use super::world::{Memory, WEB, World};
use super::{Fixture, STEADY, Script, Shape, WebPlan, step, usual_neighbours};
use crate::source::demo::names::M5_LARGE;

pub fn script() -> Script {
    Script {
        name: "memory-leak",
        catalog: "memory-leak-oom-restarts",
        rehearses: "web's memory climbs until its tasks are OOM-killed (exit 137) and restart low",
        ratio: 30,
        recovered_by: 250.0,
        must_fire: &[
            "memory-leak-trend",
            "log-jvm-memory-pressure",
            "task-oom-killed",
        ],
        fixture: Fixture {
            instances: vec![(M5_LARGE, 0), (M5_LARGE, 0), (M5_LARGE, 1)],
            web: WebPlan {
                desired: 4,
                cpu: 512,
                memory: 1024,
                revision: 16,
                tag: "2.3.7",
                deployed_ago: 10 * 60,
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
                    Memory::Leak {
                        start: 530.0,
                        per_hour: 320.0,
                    },
                ),
                (
                    17,
                    Memory::Leak {
                        start: 560.0,
                        per_hour: 320.0,
                    },
                ),
                (18, Memory::Flat { level: 600.0 }),
            ],
            oom_at: vec![138.0, 150.0, 163.0, 195.0],
            ..World::default()
        },
        shape: Shape {
            requests: &[(0.0, 6000.0)],
            web_cpu: &[(0.0, 0.35)],
            response_time: &[(0.0, 0.15), (110.0, 0.18), (140.0, 0.24), (180.0, 0.15)],
            ..STEADY
        },
        steps: vec![
            step(
                180.0,
                "operator: register web with memory 2048 and -Xmx1600m, then redeploy",
                |ctx| ctx.deploy(WEB, "2.3.8", Some(2048)),
            ),
            step(
                240.0,
                "a code-fix revision (bounded cache) is deployed; memory plateaus at 600 MiB",
                |ctx| ctx.deploy(WEB, "2.3.9", Some(2048)),
            ),
        ],
    }
}
