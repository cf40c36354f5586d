//! `--demo dns` replays the catalog's dns-service-discovery-intermittent (doc 001, "Case 5:
//! Inconsistent DNS causing Service Discovery Failures") at ×10. The catalog's `svc-a` is the
//! fixture's `web`; the `svc-b` it calls is registered in Cloud Map as `b.service.local`.
//!
//! Catalog timeline (replay seconds):
//! - t=0: all healthy.
//! - t=10: the VPC is switched to a custom DHCP option set with DNS support off
//!   (`World::dns_broken`). Running tasks keep the resolver they started with, so nothing
//!   shows yet.
//! - t=20: `web` scales 4 → 6. The two new tasks take the broken resolver: every call needing
//!   `b.service.local` fails with `java.net.UnknownHostException: b.service.local` and their
//!   `/api/orders` requests answer 500 — intermittent from a client's view (2 tasks of 6);
//!   target 5xx about 4 %. The health endpoint does not need B: every target stays healthy.
//! - t=80 (operator): AmazonProvidedDNS and DNS support restored, then `web` redeployed.
//! - t≈130: the rollout has replaced every task (one or two at a time); 5xx back to 0.
//!
//! The console's [redeploy] before t=80 is no fix: every new task takes the broken resolver
//! (and all of them fail); [stop task] on a broken task replaces it with another broken one.

use super::world::{WEB, World};
use super::{Fixture, STEADY, Script, Shape, WebPlan, step, usual_neighbours};
use crate::source::demo::names::M5_LARGE;

pub fn script() -> Script {
    Script {
        name: "dns",
        must_fire: &["service-discovery-dns-failure", "alb-5xx-spike"],
        catalog: "dns-service-discovery-intermittent",
        rehearses: "new tasks cannot resolve a Cloud Map name (UnknownHostException): intermittent 500s",
        ratio: 10,
        recovered_by: 140.0,
        fixture: Fixture {
            instances: vec![(M5_LARGE, 0), (M5_LARGE, 0), (M5_LARGE, 1)],
            web: WebPlan {
                desired: 4,
                cpu: 512,
                memory: 1024,
                revision: 16,
                tag: "2.3.7",
                deployed_ago: 2 * 86_400,
                minimum_healthy_percent: 100,
                // Six tasks replaced one or two at a time fit on the three hosts.
                maximum_percent: 125,
                circuit_breaker: true,
            },
            neighbours: usual_neighbours(),
        },
        world: World::default(),
        shape: Shape {
            requests: &[(0.0, 5000.0)],
            web_cpu: &[(0.0, 0.3)],
            ..STEADY
        },
        steps: vec![
            step(
                10.0,
                "the VPC gets a custom DHCP option set and enableDnsSupport false",
                |ctx| {
                    let now = ctx.now;
                    ctx.world.dns_broken.set(now, true);
                },
            ),
            step(20.0, "autoscaling: web 4 → 6", |ctx| {
                ctx.scale_out(WEB, 6)
            }),
            step(
                80.0,
                "operator: AmazonProvidedDNS and DNS support restored, then web redeployed",
                |ctx| {
                    let now = ctx.now;
                    ctx.world.dns_broken.set(now, false);
                    ctx.redeploy(WEB);
                },
            ),
        ],
    }
}
