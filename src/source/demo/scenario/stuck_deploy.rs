//! `--demo stuck-deploy` replays the catalog's stuck-deploy-draining (doc 001, "Case 4: Stuck
//! Deployments due to Draining Issues") at ×10. The catalog's web:8 / web:9 / web:10 are the
//! fixture's web:16 / web:17 / web:18.
//!
//! Fixture change: `web` deploys with minimumHealthyPercent 50 / maximumPercent 100 and no
//! circuit breaker. web:16 serves report exports of about 8 minutes and ignores SIGTERM
//! (`World::long_requests`); `tg-web` keeps the default 300 s deregistration delay and the
//! tasks ECS's default 30 s stopTimeout. web:17 warms a cache for ~140 s before it answers,
//! against a 60 s grace period (`World::slow_starts`).
//!
//! Catalog timeline (replay seconds):
//! - t=0: UpdateService web:16 → web:17. ECS drains 2 old tasks ("has begun draining
//!   connections on 2 tasks"; targets `draining`) and starts 2 web:17 tasks.
//! - t≈12: the first web:17 task is stopped at ~120 s of life for failing its ELB health checks
//!   (connection refused: still warming up, no "Started" line yet); its replacement goes the
//!   same way two minutes later, and so on: `failedTasks` keeps rising.
//! - t≈31: the old targets reach the full 300 s delay with exports still open and are cut off;
//!   SIGTERM is ignored and ECS SIGKILLs them 30 s later (exit 137, `ServiceSchedulerInitiated`).
//! - t≈60: ten minutes of failing tasks with no circuit breaker: the rollout is stuck.
//! - t=190 (operator): grace 300 s, delay 600 s, and web:18 (graceful shutdown) deployed. (The
//!   catalog's 180 s is too short here: a target that failed its first checks needs 5 passes,
//!   2½ minutes, to turn healthy again, so a 140 s start is healthy at ~290 s.)
//! - from t≈220: web:18 tasks turn healthy inside the new grace; the last
//!   two web:16 targets drain until their exports end (480 s, under the 600 s delay); the rollout
//!   completes.
//!
//! The console's [redeploy] before t=190 starts the same revision over and fails the same way;
//! [rollback] to web:16 brings the service back (its tasks start in 18 s).

use super::world::{Timeline, WEB, World};
use super::{Fixture, STEADY, Script, Shape, WebPlan, step, usual_neighbours};
use crate::source::demo::names::M5_LARGE;

pub fn script() -> Script {
    Script {
        name: "stuck-deploy",
        must_fire: &[
            "elb-deregistration-timeout",
            "tasks-failing-elb-health-checks",
            "health-check-grace-too-short",
            "deployment-stuck-in-progress",
        ],
        catalog: "stuck-deploy-draining",
        rehearses: "a rollout stalls: slow-starting tasks are killed by ELB checks, old ones drain for the full delay",
        ratio: 10,
        recovered_by: 280.0,
        fixture: Fixture {
            instances: vec![(M5_LARGE, 0), (M5_LARGE, 0), (M5_LARGE, 1)],
            web: WebPlan {
                desired: 4,
                cpu: 512,
                memory: 1024,
                revision: 16,
                tag: "2.3.7",
                deployed_ago: 6 * 86_400,
                minimum_healthy_percent: 50,
                maximum_percent: 100,
                circuit_breaker: false,
            },
            neighbours: usual_neighbours(),
        },
        world: World {
            slow_starts: vec![(17, 140.0), (18, 140.0)],
            long_requests: vec![(16, 480)],
            deregistration_delay: Timeline::new(300),
            ..World::default()
        },
        shape: Shape {
            requests: &[(0.0, 5000.0)],
            web_cpu: &[(0.0, 0.3)],
            ..STEADY
        },
        steps: vec![
            step(
                0.0,
                "UpdateService web:16 → web:17 (2.5.0: warms its cache for ~140 s before it answers)",
                |ctx| ctx.deploy(WEB, "2.5.0", None),
            ),
            step(
                190.0,
                "operator: grace 300 s, tg-web deregistration delay 600 s, then web:18 (graceful shutdown)",
                |ctx| {
                    let now = ctx.now;
                    ctx.grace(WEB, 300);
                    ctx.world.deregistration_delay.set(now, 600);
                    ctx.deploy(WEB, "2.5.1", None);
                },
            ),
        ],
    }
}
