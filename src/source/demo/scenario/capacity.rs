//! `--demo capacity` replays the catalog's insufficient-capacity-pending (doc 000, "Scenario 4:
//! ECS Service Not Scaling as Expected"; doc 001, "Task Failures, Scheduling Issues, and
//! Cluster Resource Constraints") at ×10.
//!
//! Fixture change: two `m5.large` (7,680 MiB each), the Auto Scaling group at its max of 2;
//! `web` tasks need 2,048 MiB, desired 2. The neighbours fill the rest so that 2,560 MiB are
//! free on the first instance and 512 MiB on the second (memory reservation 80 %, CPU 40 %).
//!
//! Catalog timeline (replay seconds):
//! - t=10: autoscaling raises `web` 2 → 4.
//! - t=20: one task fits (3/4); the other cannot be placed: "(service web) was unable to place
//!   a task because no container instance met all of its requirements. The closest matching
//!   (container-instance …) has insufficient memory available." Memory reservation 93 %, the
//!   best instance has 512 MiB free. No task exists for the missing one (pending 0).
//! - t=40, t=80: still short (the placement event repeats every 10 minutes).
//! - t=100 (operator): the Auto Scaling group goes to max 3 / desired 3.
//! - t=140: the new instance registers (ACTIVE, agent connected); ECS places the task
//!   ("has started 1 tasks"), its target is healthy a few seconds later, steady state.
//!
//! The console's [scale service] down to 3 (what fits) clears it at once: nothing is missing,
//! no more placement events.

use super::world::{WEB, World};
use super::{Fixture, Neighbour, STEADY, Script, Shape, WebPlan, step};
use crate::source::demo::names::M5_LARGE;

pub fn script() -> Script {
    Script {
        name: "capacity",
        catalog: "insufficient-capacity-pending",
        rehearses: "a scale-out cannot be placed: no container instance has enough memory",
        ratio: 10,
        recovered_by: 175.0,
        must_fire: &[
            "placement-insufficient-resources",
            "service-under-replicated",
            "cluster-reservation-high",
        ],
        fixture: Fixture {
            instances: vec![(M5_LARGE, 0), (M5_LARGE, 1)],
            web: WebPlan {
                desired: 2,
                cpu: 512,
                memory: 2048,
                revision: 16,
                tag: "2.3.7",
                deployed_ago: 4 * 86_400,
                minimum_healthy_percent: 100,
                maximum_percent: 200,
                circuit_breaker: true,
            },
            neighbours: vec![
                Neighbour {
                    name: "auth",
                    cpu: 128,
                    memory: 512,
                    load_balanced: true,
                    tasks: vec![Some(0), Some(1)],
                },
                Neighbour {
                    name: "orders-worker",
                    cpu: 128,
                    memory: 1024,
                    load_balanced: false,
                    tasks: vec![Some(0), Some(1)],
                },
                Neighbour {
                    name: "session-cache",
                    cpu: 64,
                    memory: 1536,
                    load_balanced: false,
                    tasks: vec![Some(0)],
                },
                Neighbour {
                    name: "reporting",
                    cpu: 64,
                    memory: 3584,
                    load_balanced: false,
                    tasks: vec![Some(1)],
                },
            ],
        },
        world: World::default(),
        shape: Shape {
            requests: &[(0.0, 5000.0), (10.0, 9000.0)],
            web_cpu: &[(0.0, 0.45), (10.0, 0.7), (25.0, 0.62), (150.0, 0.48)],
            response_time: &[(0.0, 0.14), (10.0, 0.22), (150.0, 0.15)],
            ..STEADY
        },
        steps: vec![
            step(
                10.0,
                "autoscaling: AlarmHigh, web desiredCount 2 → 4",
                |ctx| ctx.scale(WEB, 4),
            ),
            step(
                140.0,
                "operator raised the Auto Scaling group to 3 at t=100; the new m5.large registers",
                |ctx| ctx.register_instance(M5_LARGE, 0),
            ),
        ],
    }
}
