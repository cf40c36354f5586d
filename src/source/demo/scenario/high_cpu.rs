//! `--demo high-cpu` replays the catalog's high-cpu-slow-responses (doc 000, "Scenario 1" and
//! "Example: Reading a CPU Spike in Metrics") at ×10: one replay second is 10 s.
//!
//! Fixture: the shared one, unchanged (`web` 4 × 512 CPU units on three `m5.large`,
//! autoscaling 2–6 on CPU 60 %).
//!
//! Catalog timeline (replay seconds):
//! - t=0: `web` 4/4, 6k requests a minute, service CPU 50 %, hosts 45 %, responses 0.25 s.
//! - t=30: traffic ramps to 12k a minute; service CPU 72 %, responses 0.5 s.
//! - t=60: service CPU 96 %, every host 90–93 %, responses 1.4 s; the scale-out alarm fires
//!   and autoscaling adds a task (4 → 5).
//! - t=90: CPU still pegged; autoscaling reaches its maximum (5 → 6).
//! - t=150: six tasks, the maximum, for ten minutes with the alarm still in ALARM.
//! - t=160 (operator): the saturation is host-bound, so more tasks on the same hosts would not
//!   help: MaxCapacity 6 → 10 and the Auto Scaling group 3 → 5 instances (they register at
//!   t=172), then `web` to 8 tasks at t=175; the new targets are healthy by t≈195.
//! - t=210: service CPU 55 %, hosts 52 %, responses 0.3 s.
//!
//! The load, service CPU, host CPU and response time are scripted (`Shape`): they follow the
//! traffic and the capacity the script adds, not the task count. So the console's [scale
//! service] before t=160 puts more tasks on the same busy hosts and changes nothing — what the
//! host-bound finding says.

use super::world::{WEB, World};
use super::{Fixture, STEADY, Script, Shape, WebPlan, step, usual_neighbours};
use crate::source::demo::names::M5_LARGE;

pub fn script() -> Script {
    Script {
        name: "high-cpu",
        must_fire: &[
            "service-cpu-saturated",
            "target-response-time-spike",
            "autoscaling-at-max-capacity",
        ],
        catalog: "high-cpu-slow-responses",
        rehearses: "a traffic surge pegs web's CPU and its hosts; autoscaling hits its maximum",
        ratio: 10,
        recovered_by: 220.0,
        fixture: Fixture {
            instances: vec![(M5_LARGE, 0), (M5_LARGE, 0), (M5_LARGE, 1)],
            web: WebPlan {
                desired: 4,
                cpu: 512,
                memory: 1024,
                revision: 16,
                tag: "2.3.7",
                deployed_ago: 4 * 86_400,
                minimum_healthy_percent: 100,
                maximum_percent: 200,
                circuit_breaker: true,
            },
            neighbours: usual_neighbours(),
        },
        world: World::default(),
        shape: Shape {
            requests: &[(0.0, 6000.0), (30.0, 12000.0), (175.0, 12000.0)],
            web_cpu: &[
                (0.0, 0.50),
                (30.0, 0.72),
                (60.0, 0.96),
                (90.0, 0.97),
                (175.0, 0.96),
                (200.0, 0.55),
            ],
            response_time: &[
                (0.0, 0.25),
                (30.0, 0.5),
                (55.0, 1.4),
                (175.0, 1.45),
                (205.0, 0.3),
            ],
            host_cpu: &[
                (0.0, 45.0),
                (30.0, 66.0),
                (60.0, 91.0),
                (175.0, 92.0),
                (200.0, 52.0),
            ],
            ..STEADY
        },
        steps: vec![
            step(
                60.0,
                "the scale-out alarm (AlarmHigh) fires: autoscaling sets desiredCount 4 → 5",
                |ctx| ctx.scale_out(WEB, 5),
            ),
            step(
                90.0,
                "CPU still pegged: autoscaling sets desiredCount 5 → 6 = MaxCapacity",
                |ctx| ctx.scale_out(WEB, 6),
            ),
            step(
                160.0,
                "operator: RegisterScalableTarget MaxCapacity 10; the Auto Scaling group 3 → 5",
                |ctx| {
                    let now = ctx.now;
                    ctx.world.max_capacity.set(now, 10);
                },
            ),
            step(
                172.0,
                "the two new m5.large instances register in the cluster",
                |ctx| {
                    ctx.register_instance(M5_LARGE, 0);
                    ctx.register_instance(M5_LARGE, 1);
                },
            ),
            step(175.0, "operator: scale web to 8 tasks", |ctx| {
                ctx.scale_out(WEB, 8)
            }),
        ],
    }
}
