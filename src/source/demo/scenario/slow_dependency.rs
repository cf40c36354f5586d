//! `--demo slow-dependency` replays the catalog's alb-504-slow-dependency (doc 001, "Debugging
//! API Failures and Latency Issues") at ×10.
//!
//! Fixture change: the ALB's idle timeout is 30 s; `web`'s `/api/quote` calls a third-party API
//! with no client timeout (web:16).
//!
//! Catalog timeline (replay seconds):
//! - t=0: normal; responses ~0.3 s.
//! - t=20: the third party starts hanging ~50 s on about 1 call in 20: those requests outlive
//!   the ALB's idle timeout, so ~3 % of requests end in ELB 504s (`World::hung_calls`), and the
//!   average response time climbs past a second. Service CPU stays ~30 %; the logs show quote
//!   calls of 48–52 s.
//! - t≈50: both the 5xx and the response-time findings are open (dependency-bound).
//! - t=70 (operator): web:17 with a 25 s client timeout and a fallback answer, deployed
//!   (`World::client_timeout`): slow calls now fail fast with a handled response.
//! - t≈90: the 504s stop; responses back under a second.
//!
//! The console's [redeploy] or [rollback] before t=70 changes nothing: every revision until
//! web:17 waits on the third party for as long as it takes.

use super::world::{Timeline, WEB, World};
use super::{Fixture, STEADY, Script, Shape, WebPlan, step, usual_neighbours};
use crate::source::demo::names::M5_LARGE;

pub fn script() -> Script {
    Script {
        name: "slow-dependency",
        must_fire: &["alb-5xx-spike", "target-response-time-spike"],
        catalog: "alb-504-slow-dependency",
        rehearses: "a third-party API hangs: requests outlive the ALB's idle timeout (504s) at low CPU",
        ratio: 10,
        recovered_by: 130.0,
        fixture: Fixture {
            instances: vec![(M5_LARGE, 0), (M5_LARGE, 0), (M5_LARGE, 1)],
            web: WebPlan {
                desired: 4,
                cpu: 512,
                memory: 1024,
                revision: 16,
                tag: "2.3.7",
                deployed_ago: 3 * 86_400,
                minimum_healthy_percent: 100,
                maximum_percent: 200,
                circuit_breaker: true,
            },
            neighbours: usual_neighbours(),
        },
        world: World {
            hung_calls: Timeline::new(0.0),
            client_timeout: vec![17],
            ..World::default()
        },
        shape: Shape {
            requests: &[(0.0, 5000.0)],
            web_cpu: &[(0.0, 0.3)],
            response_time: &[(0.0, 0.3)],
            ..STEADY
        },
        steps: vec![
            step(
                20.0,
                "the third party starts hanging ~50 s on 1 call in 20 (the ALB gives up at 30 s)",
                |ctx| {
                    let now = ctx.now;
                    ctx.world.hung_calls.set(now, 0.03);
                },
            ),
            step(
                70.0,
                "operator: web:17 (a 25 s client timeout and a fallback answer), deployed",
                |ctx| ctx.deploy(WEB, "2.3.8", None),
            ),
        ],
    }
}
