//! stuck-deploy (×10): web:17 starts too slowly for its grace period and is killed by ELB
//! checks over and over; old web:16 targets drain for the full delay and are SIGKILLed.

use super::*;

fn of_revision(tasks: Vec<Task>, revision: u32) -> Vec<Task> {
    tasks
        .into_iter()
        .filter(|t| t.task_definition.revision == revision)
        .collect()
}

#[test]
fn the_rollout_drains_two_old_tasks_and_starts_two_slow_ones() {
    let src = demo("stuck-deploy");
    at(&src, 6.0);
    let events = events_since(&src, 0.0);
    assert!(
        events
            .iter()
            .any(|e| e == "(service web) has begun draining connections on 2 tasks."),
        "{events:?}"
    );
    let draining = states(&src)
        .into_iter()
        .filter(|s| s == "draining/Target.DeregistrationInProgress")
        .count();
    assert_eq!(draining, 2, "{:?}", states(&src));
    at(&src, 10.0);
    let new = of_revision(live(&src), 17);
    assert_eq!(new.len(), 2, "{new:?}");
    assert!(new.iter().all(|t| t.last_status == "RUNNING"));
    // Two old tasks keep serving: no errors from the load balancer.
    assert_eq!(
        latest(&src, &lb_metric(&src, "HTTPCode_ELB_5XX_Count")),
        0.0
    );
}

#[test]
fn slow_starting_tasks_are_killed_by_elb_checks_before_they_start() {
    let src = demo("stuck-deploy");
    at(&src, 30.0);
    let killed: Vec<Task> = of_revision(stopped(&src), 17)
        .into_iter()
        .filter(|t| {
            t.stopped_reason
                .starts_with("Task failed ELB health checks in (target-group")
        })
        .collect();
    assert!(killed.len() >= 2, "{killed:?}");
    for t in &killed {
        let life = (t.stopping_at.unwrap() - t.started_at.unwrap()).num_seconds();
        assert!((100..=150).contains(&life), "{life}");
        assert_eq!(t.stop_code, "ServiceSchedulerInitiated");
        assert_ne!(t.containers[0].exit_code, Some(137));
        // Still warming up: no "Started" line, no requests served.
        let lines = log_lines(&src, t, 0.0, 30.0);
        assert!(
            lines
                .iter()
                .any(|(_, l)| l.contains("Starting WebApplication"))
        );
        assert!(
            !lines
                .iter()
                .any(|(_, l)| l.contains("Started WebApplication"))
        );
    }
    // No circuit breaker: the deployment stays IN_PROGRESS while failures pile up.
    at(&src, 70.0);
    let svc = web(&src);
    assert!(!svc.deployment_config.circuit_breaker);
    let primary = &svc.deployments[0];
    assert_eq!(
        (
            primary.task_definition.revision,
            primary.rollout_state.as_str()
        ),
        (17, "IN_PROGRESS")
    );
    assert!(primary.failed >= 4, "{}", primary.failed);
}

#[test]
fn old_targets_drain_the_full_delay_then_are_sigkilled() {
    let src = demo("stuck-deploy");
    at(&src, 40.0);
    let old = of_revision(stopped(&src), 16);
    assert_eq!(old.len(), 2, "{old:?}");
    for t in &old {
        assert_eq!(t.stop_code, "ServiceSchedulerInitiated");
        // The whole 300 s delay draining, then 30 s ignoring SIGTERM: exit 137, not an OOM.
        let took = (t.stopped_at.unwrap() - t.stopping_at.unwrap()).num_seconds();
        assert!((320..=345).contains(&took), "{took}");
        assert_eq!(t.containers[0].exit_code, Some(137));
        assert!(t.containers[0].reason.is_empty(), "{:?}", t.containers[0]);
    }
    // The other two old tasks still serve (minimumHealthyPercent 50).
    assert_eq!(of_revision(live(&src), 16).len(), 2);
}

#[test]
fn a_longer_grace_and_delay_with_web_18_complete_the_rollout() {
    let src = demo("stuck-deploy");
    at(&src, 195.0);
    assert_eq!(web(&src).health_check_grace_secs, Some(300));
    at(&src, 280.0);
    let svc = web(&src);
    assert_eq!(svc.task_definition.revision, 18);
    assert_recovered(&src);
    // The last old targets left as soon as their exports ended, inside the 600 s delay.
    let last_old: Vec<Task> = of_revision(stopped(&src), 16)
        .into_iter()
        .filter(|t| t.stopping_at > Some(time(&src, 190.0)))
        .collect();
    assert_eq!(last_old.len(), 2);
    for t in &last_old {
        let took = (t.stopped_at.unwrap() - t.stopping_at.unwrap()).num_seconds();
        assert!((480..=520).contains(&took), "{took}");
    }
}

#[test]
fn a_rollback_to_web_16_brings_the_service_back() {
    let src = demo("stuck-deploy");
    at(&src, 80.0);
    let arn = |r: u32| format!("arn:aws:ecs:eu-west-1:123456789012:task-definition/web:{r}");
    let said = apply(
        &src,
        Operation::Rollback {
            cluster: CLUSTER.into(),
            service: "web".into(),
            service_arn: service_arn("web"),
            family: "web".into(),
            from: 17,
            to: 16,
            task_definition_arn: arn(16),
        },
    );
    assert!(said.contains("16"), "{said}");
    at(&src, 150.0);
    let svc = web(&src);
    assert_eq!(svc.task_definition.revision, 16);
    assert_recovered(&src);
}
