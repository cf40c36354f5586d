//! image-pull (×10): web:17's image cannot be pulled (403); the circuit breaker rolls back;
//! the execution role is fixed and web:17 ships.

use super::*;

fn pull_failures(src: &DemoSource) -> Vec<Task> {
    stopped(src)
        .into_iter()
        .filter(|t| t.stop_code == "TaskFailedToStart")
        .collect()
}

#[test]
fn new_tasks_stop_before_they_start_with_a_403_from_ecr() {
    let src = demo("image-pull");
    at(&src, 5.0);
    let svc = web(&src);
    assert_eq!(svc.deployments[0].task_definition.revision, 17);
    assert!(
        live(&src)
            .iter()
            .any(|t| t.task_definition.revision == 17 && t.last_status == "PENDING")
    );
    at(&src, 20.0);
    let failed = pull_failures(&src);
    assert_eq!(failed.len(), 1);
    let t = &failed[0];
    assert!(
        t.stopped_reason.starts_with("CannotPullContainerError: "),
        "{}",
        t.stopped_reason
    );
    assert!(t.stopped_reason.contains("403 Forbidden (access denied)"));
    assert!(
        t.stopped_reason
            .contains("dkr.ecr.eu-west-1.amazonaws.com/web:2.4.0")
    );
    assert_eq!(t.containers[0].reason, t.stopped_reason);
    assert!(t.containers.iter().all(|c| c.exit_code.is_none()));
    assert!(t.started_at.is_none());
    assert_eq!(web(&src).deployments[0].failed, 1);
    // The old deployment's tasks keep serving.
    let old: Vec<Task> = live(&src)
        .into_iter()
        .filter(|t| t.task_definition.revision == 16)
        .collect();
    assert_eq!(old.len(), 4);
    assert!(
        states(&src).iter().all(|s| s == "healthy/"),
        "{:?}",
        states(&src)
    );
    assert_eq!(
        latest(&src, &lb_metric(&src, "HTTPCode_ELB_5XX_Count")),
        0.0
    );
    // A task that never started logged nothing.
    assert!(log_lines(&src, t, 0.0, 20.0).is_empty());
}

#[test]
fn attempts_keep_failing_until_the_breaker_rolls_back() {
    let src = demo("image-pull");
    at(&src, 60.0);
    assert!(web(&src).deployments[0].failed >= 4);
    assert!(pull_failures(&src).len() >= 4);
    assert!(
        messages(&src)
            .iter()
            .any(|m| m.contains("is unable to consistently start tasks successfully"))
    );
    at(&src, 75.0);
    let svc = web(&src);
    assert_eq!(svc.deployments[0].task_definition.revision, 16);
    let broken = svc
        .deployments
        .iter()
        .find(|d| d.rollout_state == "FAILED")
        .unwrap();
    assert_eq!(broken.task_definition.revision, 17);
    assert!(broken.rollout_reason.contains("circuit breaker"));
    let events = messages(&src);
    assert!(events.iter().any(|e| e.contains("deployment failed")));
    assert!(events.iter().any(|e| e.contains("rolling back")));
    // Users saw no outage.
    let errors = values(&window(
        &src,
        &lb_metric(&src, "HTTPCode_ELB_5XX_Count"),
        0.0,
        75.0,
    ));
    assert!(errors.iter().all(|e| *e == 0.0), "{errors:?}");
}

#[test]
fn with_ecr_rights_web_17_ships() {
    let src = demo("image-pull");
    at(&src, 140.0);
    assert_recovered(&src);
    let svc = web(&src);
    assert_eq!(svc.task_definition.revision, 17);
    assert!(
        live(&src)
            .iter()
            .all(|t| t.task_definition.revision == 17 && t.started_at.is_some())
    );
    assert!(
        pull_failures(&src)
            .iter()
            .all(|t| t.stopped_at < Some(time(&src, 90.0)))
    );
}

#[test]
fn a_redeploy_before_the_fix_starts_over_and_fails_the_same_way() {
    let src = demo("image-pull");
    at(&src, 30.0);
    apply(
        &src,
        Operation::Redeploy {
            cluster: CLUSTER.into(),
            service: "web".into(),
            service_arn: service_arn("web"),
        },
    );
    let again = web(&src).deployments[0].clone();
    assert_eq!((again.task_definition.revision, again.failed), (17, 0));
    at(&src, 50.0);
    let svc = web(&src);
    let mine = svc.deployments.iter().find(|d| d.id == again.id).unwrap();
    assert!(mine.failed >= 1, "{:?}", svc.deployments);
    assert_recovered(at(&src, 140.0));
}
