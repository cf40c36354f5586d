//! `--demo bad-deploy` replays the catalog's health-check-path-404 (doc 001, "Case 3: Load
//! Balancer Health Check Misconfiguration Causes Outage") at ×5: one replay second is 5 s.
//!
//! Fixture change: `tg-web` checks `/health`, which revision 16 serves through a legacy
//! controller. Revision 17 (the Spring Boot 3 upgrade) dropped it and serves only
//! `/actuator/health`. `web` deploys with minimumHealthyPercent 0 / maximumPercent 100 (every
//! task replaced at once), and its circuit breaker (with rollback) counts 8 failed tasks.
//!
//! Catalog timeline (replay seconds), as it plays out here:
//! - t=0: UpdateService web:16 → web:17; ECS drains the 4 old tasks and starts 4 new ones,
//!   RUNNING by t≈6; `Started WebApplication in 18.4 seconds` at t≈10; targets `initial`.
//! - t=18: all 4 targets `unhealthy`, `Target.ResponseCodeMismatch`, "Health checks failed
//!   with these codes: [404]". Live traffic still succeeds: the ALB fails open.
//! - t=30: past the 60 s grace, ECS stops the 4 tasks (`Task failed ELB health checks in
//!   (target-group …)`); the replacements meet the same fate around t=60. Each wave leaves a
//!   gap with nothing to route to (ELB 503).
//! - t=60: 8 failed tasks trip the circuit breaker: the deployment is FAILED ("ECS deployment
//!   circuit breaker: tasks failed to start.") and a rollback to web:16 becomes PRIMARY.
//! - t=70 (operator): ModifyTargetGroup HealthCheckPath `/actuator/health` (which every
//!   revision serves), and minimumHealthyPercent back to 100.
//! - t≈73: the rolled-back tasks are healthy; 5xx stop.
//! - t=80: the pipeline ships web:17 again; it passes the fixed check and completes by t≈115.
//!
//! The console's [redeploy] before t=70 redeploys whatever is PRIMARY (web:17 fails again,
//! web:16 recovers); after t=70 every revision passes.

use super::world::{Timeline, WEB, World};
use super::{Fixture, STEADY, Script, Shape, WebPlan, step, usual_neighbours};
use crate::source::demo::names::M5_LARGE;

pub fn script() -> Script {
    Script {
        name: "bad-deploy",
        catalog: "health-check-path-404",
        rehearses: "a new revision fails its target group's health check (404); the circuit breaker rolls back",
        ratio: 5,
        recovered_by: 120.0,
        must_fire: &[
            "target-unhealthy-response-code-mismatch",
            "healthy-host-count-flapping",
            "tasks-failing-elb-health-checks",
            "alb-5xx-spike",
            "deployment-failed-rollback",
        ],
        fixture: Fixture {
            instances: vec![(M5_LARGE, 0), (M5_LARGE, 0), (M5_LARGE, 1)],
            web: WebPlan {
                desired: 4,
                cpu: 512,
                memory: 1024,
                revision: 16,
                tag: "2.3.7",
                deployed_ago: 2 * 86_400,
                minimum_healthy_percent: 0,
                maximum_percent: 100,
                circuit_breaker: true,
            },
            neighbours: usual_neighbours(),
        },
        world: World {
            health_check_path: Timeline::new("/health"),
            serves: vec![(16, &["/health", "/actuator/health"])],
            breaker_threshold: Some(8),
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
                "UpdateService web:16 → web:17 (2.4.0: the legacy /health controller is gone)",
                |ctx| ctx.deploy(WEB, "2.4.0", None),
            ),
            step(
                70.0,
                "operator: ModifyTargetGroup tg-web HealthCheckPath /actuator/health; minimumHealthyPercent 100",
                |ctx| {
                    let now = ctx.now;
                    ctx.world.health_check_path.set(now, "/actuator/health");
                    ctx.deployment_config(WEB, 100, 200);
                },
            ),
            step(
                80.0,
                "the pipeline ships web:17 again; it passes /actuator/health",
                |ctx| ctx.update_to(WEB, 17),
            ),
        ],
    }
}
