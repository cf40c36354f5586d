//! `--demo nat` replays the catalog's nat-black-friday (doc 000, "Case Study 2: NAT Gateway
//! Connectivity and Scaling Out") at ×10. The catalog's `payments` is the fixture's `web`,
//! calling one external payment endpoint (`api.payments-provider.example`).
//!
//! Fixture change: four `m5.large`, two per AZ; `web` is light on CPU (256 units), desired 6
//! and autoscaling up to 40 — a third of the catalog's task counts, the same shape. The private
//! subnets of both AZs route `0.0.0.0/0` to the single `nat-a` (one IP).
//!
//! Catalog timeline (replay seconds):
//! - t=0: 20k requests a minute; NAT 11k active, 6k connections a minute, all established;
//!   CPU 45 %, memory 55 %.
//! - t=30: traffic ramps to 5×; autoscaling 6 → 12 (no placement failures).
//! - t=60: autoscaling 12 → 18; CPU 68 %. NAT 54k active (≥ 45k for one IP), 40k attempts a
//!   minute against 31k established (0.78), 350 port-allocation errors and 900 drops a minute:
//!   both NAT rules fire at once; the established share under 90 % for 3 minutes makes the
//!   saturation critical by t≈80.
//! - t=70: `web`'s calls to the provider that cannot connect log `connect timed out`: 4 % of
//!   requests answer 5xx from the app, 2 % end in ELB 504s (`World::egress_failures`); p95 6 s
//!   at 68 % CPU. By t≈90 the 5xx and (dependency-bound) response-time findings are open, with
//!   egress-bottleneck over them.
//! - t=120 (operator): a second NAT gateway `nat-b` in AZ b takes that AZ's private subnet
//!   (half the tasks), and web:17 with a pooled keep-alive HTTP client is deployed
//!   (`World::pooled_clients`).
//! - t=180: nat-a and nat-b ~22k active each, 0.99 established, no port errors or drops; 5xx
//!   gone.
//!
//! The NAT's load is scripted (`Shape::nat`): the console's [scale service] opens more
//! connections, not fewer, and changes nothing; [redeploy] of web:16 ships the same client.

use super::world::{Timeline, WEB, World};
use super::{Fixture, NatShape, STEADY, Script, Shape, WebPlan, step, usual_neighbours};
use crate::source::demo::names::{M5_LARGE, NAT_B};

pub fn script() -> Script {
    Script {
        name: "nat",
        must_fire: &[
            "nat-drops-and-port-errors",
            "nat-connection-saturation",
            "alb-5xx-spike",
            "target-response-time-spike",
            "egress-bottleneck",
        ],
        catalog: "nat-black-friday",
        rehearses: "a 5× surge exhausts the lone NAT gateway's ports: connect timeouts, 5xx, slow responses below 70 % CPU",
        ratio: 10,
        recovered_by: 180.0,
        fixture: Fixture {
            instances: vec![(M5_LARGE, 0), (M5_LARGE, 0), (M5_LARGE, 1), (M5_LARGE, 1)],
            web: WebPlan {
                desired: 6,
                cpu: 256,
                memory: 1024,
                revision: 16,
                tag: "2.3.7",
                deployed_ago: 6 * 86_400,
                minimum_healthy_percent: 100,
                // Eighteen tasks replaced a few at a time fit on the four hosts.
                maximum_percent: 125,
                circuit_breaker: true,
            },
            neighbours: usual_neighbours(),
        },
        world: World {
            partner_host: "api.payments-provider.example",
            pooled_clients: vec![17],
            max_capacity: Timeline::new(40),
            ..World::default()
        },
        shape: Shape {
            requests: &[(0.0, 20_000.0), (10.0, 20_000.0), (40.0, 100_000.0)],
            web_cpu: &[(0.0, 0.45), (40.0, 0.66), (60.0, 0.68)],
            response_time: &[
                (0.0, 0.3),
                (55.0, 0.45),
                (62.0, 3.0),
                (70.0, 6.0),
                (125.0, 6.0),
                (150.0, 0.4),
            ],
            nat: NatShape {
                active: &[
                    (0.0, 11_000.0),
                    (30.0, 24_000.0),
                    (58.0, 54_000.0),
                    (125.0, 54_000.0),
                    (170.0, 44_000.0),
                ],
                attempts: &[
                    (0.0, 6_000.0),
                    (30.0, 18_000.0),
                    (58.0, 40_000.0),
                    (125.0, 40_000.0),
                    (170.0, 30_000.0),
                ],
                established: &[
                    (0.0, 1.0),
                    (57.0, 1.0),
                    (60.0, 0.78),
                    (125.0, 0.78),
                    (140.0, 0.99),
                ],
                port_errors: &[
                    (0.0, 0.0),
                    (57.0, 0.0),
                    (60.0, 350.0),
                    (125.0, 350.0),
                    (132.0, 0.0),
                ],
                drops: &[
                    (0.0, 0.0),
                    (57.0, 0.0),
                    (60.0, 900.0),
                    (125.0, 900.0),
                    (132.0, 0.0),
                ],
                packets: &[(0.0, 600_000.0), (40.0, 3_000_000.0)],
            },
            ..STEADY
        },
        steps: vec![
            step(
                30.0,
                "traffic ramps to 5×: autoscaling sets web 6 → 12",
                |ctx| ctx.scale_out(WEB, 12),
            ),
            step(60.0, "autoscaling sets web 12 → 18", |ctx| {
                ctx.scale_out(WEB, 18)
            }),
            step(
                70.0,
                "calls to the payment provider time out at the exhausted NAT gateway: target 5xx 4 %, ELB 504 2 %",
                |ctx| {
                    let now = ctx.now;
                    ctx.world.egress_failures.set(now, (0.04, 0.02));
                },
            ),
            step(
                120.0,
                "operator: nat-b in AZ b takes that AZ's private subnet; web:17 (a pooled keep-alive HTTP client) deployed",
                |ctx| {
                    ctx.add_nat_gateway(NAT_B, 1);
                    ctx.deploy(WEB, "2.3.8", None);
                },
            ),
        ],
    }
}
