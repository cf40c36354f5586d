//! `--demo sg-outage` replays the catalog's sg-rule-removed-outage (doc 000, "Scenario 5: VPC
//! Misconfiguration Causing Connectivity Issues") at ×10.
//!
//! Catalog timeline (replay seconds), as it plays out here:
//! - t=0: `web` 4/4, `tg-web` 4 healthy, 5k requests/min, no 5xx.
//! - t=20: the inbound rule of `sg-web` (tcp 8080 from `sg-alb`) is revoked.
//! - t≈26: two timed-out checks in a row: every target `unhealthy` / `Target.Timeout`,
//!   HealthyHostCount 0. The ALB fails open and its connections time out too: ELB 504 on
//!   ~100 % of requests, TargetConnectionErrorCount climbing. The tasks idle at ~3 % CPU and log
//!   no errors: nothing reaches them.
//! - t≈75: ECS stops two tasks for failing ELB health checks (`Task failed ELB health checks
//!   in (target-group …)`), two more at t≈81; their replacements time out as well.
//! - t=100 (operator): the rule is restored. The replacements pass five checks in a row and
//!   are healthy by t≈120; the 504s stop at once.

use super::world::World;
use super::{Fixture, STEADY, Script, Shape, WebPlan, step, usual_neighbours};
use crate::source::demo::names::M5_LARGE;

pub fn script() -> Script {
    Script {
        name: "sg-outage",
        catalog: "sg-rule-removed-outage",
        rehearses: "a security group change makes every target time out: ELB 504s, tasks idle",
        ratio: 10,
        recovered_by: 130.0,
        must_fire: &[
            "target-unhealthy-timeout",
            "healthy-host-count-flapping",
            "alb-5xx-spike",
            "tasks-failing-elb-health-checks",
        ],
        fixture: Fixture {
            instances: vec![(M5_LARGE, 0), (M5_LARGE, 0), (M5_LARGE, 1)],
            web: WebPlan {
                desired: 4,
                cpu: 512,
                memory: 1024,
                revision: 16,
                tag: "2.3.7",
                deployed_ago: 6 * 86_400,
                minimum_healthy_percent: 100,
                maximum_percent: 200,
                circuit_breaker: true,
            },
            neighbours: usual_neighbours(),
        },
        world: World {
            // ECS gives the long-running tasks several minutes before replacing them.
            unhealthy_stop_secs: 480,
            ..World::default()
        },
        shape: Shape {
            requests: &[(0.0, 5000.0)],
            ..STEADY
        },
        steps: vec![
            step(
                20.0,
                "RevokeSecurityGroupIngress on sg-web: tcp 8080 from sg-alb",
                |ctx| {
                    let now = ctx.now;
                    ctx.world.ingress_open.set(now, false);
                },
            ),
            step(
                100.0,
                "operator: restore the rule (AuthorizeSecurityGroupIngress tcp 8080 from sg-alb)",
                |ctx| {
                    let now = ctx.now;
                    ctx.world.ingress_open.set(now, true);
                },
            ),
        ],
    }
}
