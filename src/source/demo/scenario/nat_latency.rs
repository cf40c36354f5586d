//! `--demo nat-latency` replays the catalog's nat-egress-latency (doc 000, "Scenario 3") at
//! ×10.
//!
//! Fixture: the shared one; `web` calls an external API (`api.partner.example`) through the
//! VPC's one NAT gateway (one IP), opening a new connection for every call (web:16).
//!
//! Catalog timeline (replay seconds):
//! - t=0: NAT ActiveConnectionCount 12k, 3k connections a minute, all established; service
//!   CPU 40 %, memory 55 %, p95 0.3 s.
//! - t=30: peak traffic: 38k active, 9k attempts a minute, 8.9k established.
//! - t=60: 47k active (≥ 45k for one IP): the gateway is crowded. 93 % of new connections
//!   established, 120 packets dropped a minute. The calls that cannot connect log
//!   `SocketTimeoutException: connect timed out` to `api.partner.example`, and retried until
//!   the load balancer's idle timeout gives up they end in ELB 504s on 2.5 % of requests
//!   (`World::egress_failures`). p95 3.1 s while CPU stays at 42 %.
//! - t≈80: the drops have held for 3 minutes; t≈90: the p95 has held for 5 and the 504s for
//!   3: NAT findings, a dependency-bound response-time spike, the 5xx spike, and
//!   egress-bottleneck over them.
//! - t=120 (operator): web:17 with a pooled keep-alive HTTP client, deployed
//!   (`World::pooled_clients`), and an S3 gateway endpoint takes the S3 traffic off the NAT.
//! - t=150: 9k active, every connection established, no drops, p95 0.35 s.
//!
//! The NAT's load is scripted (`Shape::nat`), so the console's [scale service] before t=120
//! changes nothing (more tasks would open more connections, not fewer), and [redeploy] of
//! web:16 ships the same client: its calls keep timing out.

use super::world::{WEB, World};
use super::{Fixture, NatShape, STEADY, Script, Shape, WebPlan, step, usual_neighbours};
use crate::source::demo::names::M5_LARGE;

pub fn script() -> Script {
    Script {
        name: "nat-latency",
        must_fire: &[
            "nat-connection-saturation",
            "nat-drops-and-port-errors",
            "target-response-time-spike",
            "alb-5xx-spike",
            "egress-bottleneck",
        ],
        catalog: "nat-egress-latency",
        rehearses: "a client without connection reuse crowds the NAT gateway: connect timeouts, 504s, slow responses at low CPU",
        ratio: 10,
        recovered_by: 160.0,
        fixture: Fixture {
            instances: vec![(M5_LARGE, 0), (M5_LARGE, 0), (M5_LARGE, 1)],
            web: WebPlan {
                desired: 4,
                cpu: 512,
                memory: 1024,
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
            partner_host: "api.partner.example",
            pooled_clients: vec![17],
            ..World::default()
        },
        shape: Shape {
            requests: &[(0.0, 5000.0), (30.0, 7000.0), (150.0, 7000.0)],
            web_cpu: &[(0.0, 0.40), (60.0, 0.42)],
            response_time: &[
                (0.0, 0.3),
                (55.0, 0.35),
                (60.0, 3.1),
                (125.0, 3.1),
                (145.0, 0.35),
            ],
            nat: NatShape {
                active: &[
                    (0.0, 12_000.0),
                    (30.0, 38_000.0),
                    (58.0, 47_000.0),
                    (125.0, 47_000.0),
                    (150.0, 9_000.0),
                ],
                attempts: &[
                    (0.0, 3_000.0),
                    (30.0, 9_000.0),
                    (125.0, 9_000.0),
                    (150.0, 2_500.0),
                ],
                established: &[
                    (0.0, 1.0),
                    (30.0, 0.99),
                    (55.0, 0.99),
                    (60.0, 0.93),
                    (125.0, 0.93),
                    (140.0, 1.0),
                ],
                port_errors: &[(0.0, 0.0)],
                drops: &[
                    (0.0, 0.0),
                    (57.0, 0.0),
                    (60.0, 120.0),
                    (125.0, 120.0),
                    (135.0, 0.0),
                ],
                packets: &[
                    (0.0, 300_000.0),
                    (30.0, 900_000.0),
                    (125.0, 900_000.0),
                    (150.0, 250_000.0),
                ],
            },
            ..STEADY
        },
        steps: vec![
            step(
                60.0,
                "calls to api.partner.example start timing out at the crowded NAT gateway (ELB 504 on 2.5 %)",
                |ctx| {
                    let now = ctx.now;
                    ctx.world.egress_failures.set(now, (0.0, 0.025));
                },
            ),
            step(
                120.0,
                "operator: web:17 (a pooled keep-alive HTTP client) deployed; an S3 gateway endpoint added",
                |ctx| ctx.deploy(WEB, "2.3.8", None),
            ),
        ],
    }
}
