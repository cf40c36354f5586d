//! `--demo cpu-credits` replays the catalog's burstable-credit-throttle (doc 000, "Case Study
//! 1: CPU Throttling on Burstable Instances") at ×60: one replay second is one minute.
//!
//! Fixture change: `demo-prod` runs on a single `t3.medium` (standard credits, 20 % baseline)
//! in us-east-1a's place (the demo's first AZ); `web` is 2 tasks × 1024 CPU units.
//!
//! Catalog timeline (replay seconds):
//! - t=0: host CPU 35 %, credit balance 60, service CPU 60 %, response 0.3 s; traffic grows.
//! - t=30: host CPU 85 % (bursting), balance 33 and falling ~54/h.
//! - t=60: balance near 0: the host is held at its 20 % baseline (flat ±1) while the service
//!   CPU is pegged at 100 % and responses take 4.2 s.
//! - t=90 (operator): the instance is switched to unlimited credits — host CPU 78 %, responses
//!   back to 0.45 s by t=100.
//! - t=120 (operator): an `m5.large` joins the cluster; at t=125 the t3.medium is drained (unless
//!   the operator already did) and the tasks move to the m5.large.
//!
//! The shape of the load and of the credit balance is scripted (`Shape`); the throttle itself
//! follows from the balance and the credit mode (`World::unlimited_credits`). The console's
//! [drain instance] on the t3.medium before t=120 leaves the tasks with nowhere to go;
//! [scale service] cannot place more tasks on the full host.

use super::world::World;
use super::{Fixture, STEADY, Script, Shape, WebPlan, step};
use crate::source::demo::names::{M5_LARGE, T3_MEDIUM};

pub fn script() -> Script {
    Script {
        name: "cpu-credits",
        catalog: "burstable-credit-throttle",
        rehearses: "a t3 host runs out of CPU credits: host CPU flat at its baseline, service CPU pegged",
        ratio: 60,
        recovered_by: 140.0,
        must_fire: &[
            "cpu-credits-exhausted",
            "cpu-baseline-plateau",
            "service-cpu-saturated",
        ],
        fixture: Fixture {
            instances: vec![(T3_MEDIUM, 0)],
            web: WebPlan {
                desired: 2,
                cpu: 1024,
                memory: 1024,
                revision: 16,
                tag: "2.3.7",
                deployed_ago: 3 * 86_400,
                minimum_healthy_percent: 100,
                maximum_percent: 200,
                circuit_breaker: true,
            },
            neighbours: Vec::new(),
        },
        world: World::default(),
        shape: Shape {
            requests: &[(0.0, 4000.0), (30.0, 6500.0)],
            web_cpu: &[
                (0.0, 0.60),
                (30.0, 0.85),
                (58.0, 0.88),
                (60.0, 1.0),
                (90.0, 1.0),
                (93.0, 0.74),
                (120.0, 0.72),
                (130.0, 0.55),
            ],
            response_time: &[
                (0.0, 0.3),
                (30.0, 0.38),
                (58.0, 0.6),
                (60.0, 4.2),
                (90.0, 4.2),
                (100.0, 0.45),
                (130.0, 0.32),
            ],
            credits: &[
                (0.0, 60.0),
                (30.0, 33.0),
                (58.0, 2.0),
                (60.0, 0.6),
                (130.0, 0.4),
                (200.0, 28.0),
            ],
            burst_cpu: &[(0.0, 35.0), (30.0, 85.0), (60.0, 86.0), (90.0, 78.0)],
            ..STEADY
        },
        steps: vec![
            step(
                90.0,
                "operator: switch the t3.medium to unlimited credits (ModifyInstanceCreditSpecification)",
                |ctx| {
                    let now = ctx.now;
                    ctx.world.unlimited_credits.set(now, true);
                },
            ),
            step(
                120.0,
                "operator: add an m5.large to the Auto Scaling group; it registers in the cluster",
                |ctx| ctx.register_instance(M5_LARGE, 0),
            ),
            step(
                125.0,
                "operator: drain the t3.medium; the tasks move to the m5.large",
                |ctx| ctx.drain("t3."),
            ),
        ],
    }
}
