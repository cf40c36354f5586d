//! s3-denied (×10): the bucket policy refuses web's uploads; only the logs tell, until the
//! policy admits the task role.

use super::*;

fn denials(src: &DemoSource, task: &Task, from: f64, to: f64) -> usize {
    log_lines(src, task, from, to)
        .iter()
        .filter(|(_, l)| {
            l.contains("s3://reports-prod")
                && l.contains("S3Exception: Access Denied (Service: S3, Status Code: 403")
        })
        .count()
}

#[test]
fn uploads_are_refused_about_twenty_times_a_minute_and_nothing_else_shows() {
    let src = demo("s3-denied");
    at(&src, 50.0);
    let tasks = live(&src);
    assert!(tasks.iter().all(|t| denials(&src, t, 0.0, 9.0) == 0));
    // 30 replay seconds are five minutes.
    let per_minute = tasks
        .iter()
        .map(|t| denials(&src, t, 20.0, 50.0))
        .sum::<usize>() as f64
        / 5.0;
    assert!((12.0..30.0).contains(&per_minute), "{per_minute}");
    // Requests, targets and tasks are fine.
    assert!(stopped(&src).is_empty());
    assert!(states(&src).iter().all(|s| s == "healthy/"));
    assert_eq!(
        latest(&src, &lb_metric(&src, "HTTPCode_ELB_5XX_Count")),
        0.0
    );
}

#[test]
fn once_the_policy_admits_the_task_role_uploads_succeed() {
    let src = demo("s3-denied");
    at(&src, 90.0);
    assert!(live(&src).iter().all(|t| denials(&src, t, 81.0, 90.0) == 0));
    assert!(live(&src).iter().any(|t| denials(&src, t, 60.0, 79.0) > 0));
    assert_recovered(&src);
}

#[test]
fn a_redeploy_is_refused_the_same_way() {
    let src = demo("s3-denied");
    at(&src, 20.0);
    apply(
        &src,
        Operation::Redeploy {
            cluster: CLUSTER.into(),
            service: "web".into(),
            service_arn: service_arn("web"),
        },
    );
    at(&src, 60.0);
    let fresh: Vec<Task> = live(&src)
        .into_iter()
        .filter(|t| t.created_at > Some(time(&src, 20.0)))
        .collect();
    assert!(!fresh.is_empty());
    assert!(fresh.iter().any(|t| denials(&src, t, 40.0, 60.0) > 0));
}
