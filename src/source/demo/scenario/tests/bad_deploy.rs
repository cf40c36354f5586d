//! bad-deploy (×5): web:17 answers 404 on the target group's path; ECS stops its tasks for
//! failing ELB health checks and the circuit breaker rolls back to web:16.

use super::*;

/// Shares of ELB 5xx per complete minute between replay seconds `from` and `to`.
fn error_rates(src: &DemoSource, from: f64, to: f64) -> Vec<f64> {
    let errors = values(&window(
        src,
        &lb_metric(src, "HTTPCode_ELB_5XX_Count"),
        from,
        to,
    ));
    let requests = values(&window(src, &lb_metric(src, "RequestCount"), from, to));
    errors.iter().zip(&requests).map(|(e, r)| e / r).collect()
}

#[test]
fn the_new_revision_starts_then_every_target_fails_with_404() {
    let src = demo("bad-deploy");
    at(&src, 12.0);
    let svc = web(&src);
    assert_eq!(svc.task_definition.revision, 17);
    assert_eq!(svc.deployments[0].rollout_state, "IN_PROGRESS");
    let tasks: Vec<Task> = live(&src)
        .into_iter()
        .filter(|t| t.task_definition.revision == 17)
        .collect();
    assert_eq!(tasks.len(), 4);
    assert!(tasks.iter().all(|t| t.last_status == "RUNNING"));
    for t in &tasks {
        let lines = log_lines(&src, t, 0.0, 12.0);
        assert!(
            lines
                .iter()
                .any(|(_, l)| l.contains("Started WebApplication in 18.4 seconds")),
            "{lines:?}"
        );
    }
    let registering: Vec<String> = states(&src)
        .into_iter()
        .filter(|s| !s.starts_with("draining/"))
        .collect();
    assert_eq!(registering.len(), 4);
    assert!(
        registering.iter().all(|s| s.starts_with("initial/")),
        "{registering:?}"
    );

    // Two polls of DescribeTargetHealth (t=18, t=24): all four fail with 404.
    for t in [20.0, 24.0] {
        let h = health(at(&src, t));
        assert_eq!(h.health_check.path, "/health");
        assert_eq!(h.targets.len(), 4, "{:?}", h.targets);
        for target in &h.targets {
            assert_eq!(target.state, "unhealthy");
            assert_eq!(target.reason, "Target.ResponseCodeMismatch");
            assert_eq!(
                target.description,
                "Health checks failed with these codes: [404]"
            );
        }
    }
    // No target has been healthy for a whole minute.
    let healthy = values(&window(
        &src,
        &tg_metric(&src, "HealthyHostCount", Stat::Average),
        12.0,
        24.0,
    ));
    assert!(
        !healthy.is_empty() && healthy.iter().all(|v| *v == 0.0),
        "{healthy:?}"
    );
    // The app serves its real paths; Spring logs the load balancer's checks.
    let lines = log_lines(&src, &tasks[0], 10.0, 24.0);
    assert!(
        lines
            .iter()
            .any(|(_, l)| l.contains("PageNotFound") && l.contains("No mapping for GET /health"))
    );
    assert!(lines.iter().any(|(_, l)| l.contains(" 200 ")));
}

#[test]
fn ecs_stops_the_tasks_for_failing_elb_health_checks_and_the_breaker_rolls_back() {
    let src = demo("bad-deploy");
    at(&src, 40.0);
    let tg = web(&src).target_group_arns[0].clone();
    let failed: Vec<Task> = ended(&src)
        .into_iter()
        .filter(|t| {
            t.stopped_reason
                .starts_with("Task failed ELB health checks")
        })
        .collect();
    assert_eq!(failed.len(), 4, "{:?}", ended(&src));
    for t in &failed {
        assert_eq!(
            t.stopped_reason,
            format!("Task failed ELB health checks in (target-group {tg})")
        );
        assert_eq!(t.stop_code, "ServiceSchedulerInitiated");
        assert_eq!(t.task_definition.revision, 17);
        let lifetime = t.stopping_at.unwrap() - t.started_at.unwrap();
        assert!(lifetime <= chrono::TimeDelta::seconds(150), "{lifetime}");
    }
    assert!(messages(&src).iter().any(|m| {
        m.ends_with("due to (reason Health checks failed with these codes: [404]).")
            && m.contains("is unhealthy in (target-group")
    }));
    assert_eq!(web(&src).deployments[0].failed, 4);

    // The replacements fail the same way; eight failures trip the circuit breaker.
    at(&src, 64.0);
    let svc = web(&src);
    let primary = &svc.deployments[0];
    assert_eq!(primary.status, "PRIMARY");
    assert_eq!(
        primary.task_definition.revision, 16,
        "{:?}",
        svc.deployments
    );
    assert_eq!(primary.rollout_state, "IN_PROGRESS");
    let broken = svc
        .deployments
        .iter()
        .find(|d| d.rollout_state == "FAILED")
        .expect("a failed deployment");
    assert_eq!(broken.task_definition.revision, 17);
    assert!(broken.failed >= 8);
    assert!(
        broken.rollout_reason.contains("circuit breaker"),
        "{}",
        broken.rollout_reason
    );
    let events = events_since(&src, 0.0);
    assert!(
        events.iter().any(|e| e.contains("deployment failed")),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e.contains("rolling back to deployment")),
        "{events:?}"
    );
    assert_eq!(
        ended(&src)
            .iter()
            .filter(|t| t
                .stopped_reason
                .starts_with("Task failed ELB health checks"))
            .count(),
        8
    );
}

#[test]
fn the_outage_shows_as_5xx_bursts_for_more_than_three_minutes() {
    let src = demo("bad-deploy");
    at(&src, 72.0);
    let rates = error_rates(&src, 0.0, 72.0);
    // alb-5xx-spike needs ≥ 2 % in 3 consecutive minutes.
    let longest = rates
        .iter()
        .fold((0, 0), |(run, best), r| {
            let run = if *r >= 0.02 { run + 1 } else { 0 };
            (run, best.max(run))
        })
        .1;
    assert!(longest >= 3, "{rates:?}");
    let e503 = values(&window(
        &src,
        &lb_metric(&src, "HTTPCode_ELB_503_Count"),
        0.0,
        72.0,
    ));
    let e502 = values(&window(
        &src,
        &lb_metric(&src, "HTTPCode_ELB_502_Count"),
        0.0,
        72.0,
    ));
    assert!(e503.iter().sum::<f64>() > 0.0 && e502.iter().sum::<f64>() > 0.0);
}

#[test]
fn the_rollback_then_the_fixed_check_recover() {
    let src = demo("bad-deploy");
    at(&src, 78.0);
    assert!(
        states(&src)
            .iter()
            .filter(|s| s.starts_with("healthy/"))
            .count()
            >= 4
    );
    at(&src, 120.0);
    assert_recovered(&src);
    let svc = web(&src);
    assert_eq!(svc.task_definition.revision, 17);
    assert_eq!(health(&src).health_check.path, "/actuator/health");
    assert_eq!(svc.deployment_config.minimum_healthy_percent, Some(100));
    let rates = error_rates(&src, 85.0, 120.0);
    assert!(rates.iter().all(|r| *r == 0.0), "{rates:?}");
}

#[test]
fn a_redeploy_before_the_fix_fails_the_same_way() {
    let src = demo("bad-deploy");
    at(&src, 40.0);
    apply(
        &src,
        Operation::Redeploy {
            cluster: CLUSTER.into(),
            service: "web".into(),
            service_arn: service_arn("web"),
        },
    );
    let redeployed = web(&src).deployments[0].clone();
    assert_eq!(redeployed.task_definition.revision, 17);
    at(&src, 66.0);
    let serving: Vec<String> = states(&src)
        .into_iter()
        .filter(|s| !s.starts_with("draining/"))
        .collect();
    assert!(
        !serving.iter().any(|s| s.starts_with("healthy/")),
        "{serving:?}"
    );
    assert!(
        serving
            .iter()
            .any(|s| s == "unhealthy/Target.ResponseCodeMismatch"),
        "{serving:?}"
    );
    assert_eq!(web(&src).deployments[0].id, redeployed.id);
    // Once the health check is fixed (t=70) everything recovers anyway.
    assert_recovered(at(&src, 130.0));
}
