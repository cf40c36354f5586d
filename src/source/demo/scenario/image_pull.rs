//! `--demo image-pull` replays the catalog's image-pull-access-denied (doc 001, "Case 1: Task
//! Failing to Start Due to Image Pull Error") at ×10.
//!
//! Fixture change: web:17 points to a private ECR repository and the execution role lacks ECR
//! read rights. `web` deploys one extra task at a time (maximumPercent 125), and its circuit
//! breaker (with rollback) counts 6 failed tasks.
//!
//! Catalog timeline (replay seconds), as it plays out here:
//! - t=0: UpdateService web:16 → web:17; the old deployment keeps its 4 tasks serving.
//! - t≈1: the new task is PENDING (pulling).
//! - t≈12: it stops: `stopCode TaskFailedToStart`, `CannotPullContainerError: … 403 Forbidden
//!   (access denied)`; failedTasks 1. Every ~12 s another attempt fails the same way (4 by
//!   t≈50); "unable to consistently start tasks successfully" after the third.
//! - t≈72: the 6th failure trips the circuit breaker: FAILED, and a rollback to web:16 becomes
//!   PRIMARY. Users see no outage: the old tasks stay up.
//! - t=90 (operator): AmazonECSTaskExecutionRolePolicy is attached to the execution role, and
//!   web:17 is deployed again: the pulls succeed, its tasks turn healthy one by one, and the
//!   rollout completes by t≈130.
//!
//! The console's [redeploy] before t=90 starts over with whatever is PRIMARY (web:17 fails
//! again); [stop task] on a healthy old task is replaced by web:16 or web:17, whichever is
//! PRIMARY then.

use super::world::{Timeline, WEB, World};
use super::{Fixture, STEADY, Script, Shape, WebPlan, step, usual_neighbours};
use crate::source::demo::names::M5_LARGE;

pub fn script() -> Script {
    Script {
        name: "image-pull",
        catalog: "image-pull-access-denied",
        rehearses: "after a deploy, new tasks cannot pull their image (CannotPullContainerError, 403)",
        ratio: 10,
        recovered_by: 140.0,
        must_fire: &["image-pull-failed", "deployment-failed-rollback"],
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
                maximum_percent: 125,
                circuit_breaker: true,
            },
            neighbours: usual_neighbours(),
        },
        world: World {
            private_revisions: vec![17],
            ecr_access: Timeline::new(false),
            breaker_threshold: Some(6),
            denied_pull_secs: 110,
            ..World::default()
        },
        shape: Shape {
            requests: &[(0.0, 5500.0)],
            ..STEADY
        },
        steps: vec![
            step(
                0.0,
                "UpdateService web:16 → web:17 (2.4.0, from a private ECR repository)",
                |ctx| ctx.deploy(WEB, "2.4.0", None),
            ),
            step(
                90.0,
                "operator: attach AmazonECSTaskExecutionRolePolicy to the execution role, redeploy web:17",
                |ctx| {
                    let now = ctx.now;
                    ctx.world.ecr_access.set(now, true);
                    ctx.update_to(WEB, 17);
                },
            ),
        ],
    }
}
