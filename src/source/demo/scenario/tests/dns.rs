//! dns (×10): tasks started after the VPC's DNS broke cannot resolve the Cloud Map name they
//! call; the others can. Restoring DNS and redeploying fixes it.

use super::*;

fn lookups_failed(src: &DemoSource, task: &Task, from: f64, to: f64) -> usize {
    log_lines(src, task, from, to)
        .iter()
        .filter(|(_, l)| l.contains("java.net.UnknownHostException: b.service.local"))
        .count()
}

fn target_5xx_share(src: &DemoSource, from: f64, to: f64) -> f64 {
    let errors = values(&window(
        src,
        &tg_metric(src, "HTTPCode_Target_5XX_Count", Stat::Sum),
        from,
        to,
    ));
    let requests = values(&window(src, &lb_metric(src, "RequestCount"), from, to));
    errors.iter().sum::<f64>() / requests.iter().sum::<f64>()
}

#[test]
fn only_the_tasks_started_after_the_change_fail_their_lookups() {
    let src = demo("dns");
    at(&src, 70.0);
    let tasks = live(&src);
    assert_eq!(tasks.len(), 6);
    let (new, old): (Vec<Task>, Vec<Task>) = tasks
        .into_iter()
        .partition(|t| t.started_at > Some(time(&src, 10.0)));
    assert_eq!((new.len(), old.len()), (2, 4));
    assert!(
        new.iter()
            .all(|t| lookups_failed(&src, t, 40.0, 70.0) >= 20)
    );
    assert!(old.iter().all(|t| lookups_failed(&src, t, 0.0, 70.0) == 0));
    let share = target_5xx_share(&src, 40.0, 70.0);
    assert!((0.03..0.05).contains(&share), "{share}");
    // The health endpoint needs no lookup: every target healthy, no ELB errors.
    assert!(states(&src).iter().all(|s| s == "healthy/"));
    assert_eq!(
        latest(&src, &lb_metric(&src, "HTTPCode_ELB_5XX_Count")),
        0.0
    );
}

#[test]
fn restoring_dns_and_redeploying_fixes_every_task() {
    let src = demo("dns");
    at(&src, 140.0);
    assert_recovered(&src);
    assert!(
        live(&src)
            .iter()
            .all(|t| lookups_failed(&src, t, 120.0, 140.0) == 0)
    );
    assert!(target_5xx_share(&src, 125.0, 140.0) < 0.005);
}

#[test]
fn a_redeploy_before_the_fix_breaks_every_task() {
    let src = demo("dns");
    at(&src, 30.0);
    apply(
        &src,
        Operation::Redeploy {
            cluster: CLUSTER.into(),
            service: "web".into(),
            service_arn: service_arn("web"),
        },
    );
    at(&src, 75.0);
    let share = target_5xx_share(&src, 65.0, 75.0);
    assert!(share > 0.09, "{share}");
}
