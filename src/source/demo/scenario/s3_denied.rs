//! `--demo s3-denied` replays the catalog's s3-bucket-policy-403 (doc 001, "Debugging SSL/TLS
//! and IAM Permission Failures"; "IAM Permission and Security Misconfigurations") at ×10.
//!
//! Fixture change: `web` uploads reports to the bucket `reports-prod`. Its task role allows
//! `s3:*`, but the bucket policy admits only an old EC2 role.
//!
//! Catalog timeline (replay seconds):
//! - t=0: a feature flag turns the uploads on.
//! - t=10: every upload is refused: `S3Exception: Access Denied (Service: S3, Status Code: 403,
//!   Request ID: …)` in `web`'s logs, about 20 a minute across the tasks
//!   (`World::uploads_denied`). Nothing else changes: requests, health checks and metrics are
//!   fine, so only the logs tell (the console reads a quiet service's logs every few minutes).
//! - t=60 (operator): `aws sts get-caller-identity` in a task shows the task role; the bucket
//!   policy gets a statement for it.
//! - t=80: the policy has propagated; uploads succeed.
//!
//! Nothing the console does from inside ECS fixes a bucket policy: [redeploy] brings up tasks
//! that are refused the same way.

use super::world::{Timeline, World};
use super::{Fixture, STEADY, Script, Shape, WebPlan, step, usual_neighbours};
use crate::source::demo::names::M5_LARGE;

pub fn script() -> Script {
    Script {
        name: "s3-denied",
        must_fire: &["iam-access-denied"],
        catalog: "s3-bucket-policy-403",
        rehearses: "the bucket policy refuses web's uploads: S3 Access Denied (403) in the logs",
        ratio: 10,
        recovered_by: 90.0,
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
                maximum_percent: 200,
                circuit_breaker: true,
            },
            neighbours: usual_neighbours(),
        },
        world: World {
            uploads_denied: Timeline::new(None),
            ..World::default()
        },
        shape: Shape {
            requests: &[(0.0, 5000.0)],
            web_cpu: &[(0.0, 0.3)],
            ..STEADY
        },
        steps: vec![
            step(
                10.0,
                "a feature flag turns report uploads on; the bucket policy of reports-prod refuses them",
                |ctx| {
                    let now = ctx.now;
                    ctx.world.uploads_denied.set(now, Some("reports-prod"));
                },
            ),
            step(
                60.0,
                "operator: the bucket policy gets a statement for web's task role",
                |_| {},
            ),
            step(80.0, "the policy has propagated: uploads succeed", |ctx| {
                let now = ctx.now;
                ctx.world.uploads_denied.set(now, None);
            }),
        ],
    }
}
