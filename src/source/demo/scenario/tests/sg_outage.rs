//! sg-outage (×10): the ALB can no longer reach the tasks; every target times out, the ALB
//! answers 504, the tasks idle; restoring the rule recovers.

use super::*;

#[test]
fn every_target_times_out_after_the_rule_is_revoked() {
    let src = demo("sg-outage");
    at(&src, 19.0);
    assert!(states(&src).iter().all(|s| s == "healthy/"));
    at(&src, 29.0);
    let h = health(&src);
    assert_eq!(h.targets.len(), 4);
    for t in &h.targets {
        assert_eq!(
            (t.state.as_str(), t.reason.as_str()),
            ("unhealthy", "Target.Timeout")
        );
        assert_eq!(t.description, "Request timed out");
    }
    assert_eq!(h.health_check.path, "/actuator/health");
}

#[test]
fn the_alb_answers_504_while_the_tasks_idle_without_errors() {
    let src = demo("sg-outage");
    at(&src, 45.0);
    let requests = latest(&src, &lb_metric(&src, "RequestCount"));
    let e504 = latest(&src, &lb_metric(&src, "HTTPCode_ELB_504_Count"));
    let e5xx = latest(&src, &lb_metric(&src, "HTTPCode_ELB_5XX_Count"));
    let connect = latest(
        &src,
        &tg_metric(&src, "TargetConnectionErrorCount", Stat::Sum),
    );
    assert!(e504 / requests > 0.95, "{e504}/{requests}");
    assert!(e5xx >= e504);
    assert!(connect > 0.9 * e504, "{connect}");
    assert_eq!(
        latest(&src, &tg_metric(&src, "HealthyHostCount", Stat::Average)),
        0.0
    );
    let healthy = values(&window(
        &src,
        &tg_metric(&src, "HealthyHostCount", Stat::Average),
        30.0,
        45.0,
    ));
    assert!(healthy.iter().all(|h| *h == 0.0), "{healthy:?}");
    // Three minutes of 504s before t=60 (alb-5xx-spike).
    at(&src, 60.0);
    let rates: Vec<f64> = values(&window(
        &src,
        &lb_metric(&src, "HTTPCode_ELB_5XX_Count"),
        28.0,
        60.0,
    ))
    .iter()
    .zip(values(&window(
        &src,
        &lb_metric(&src, "RequestCount"),
        28.0,
        60.0,
    )))
    .map(|(e, r)| e / r)
    .collect();
    assert!(
        rates.len() >= 3 && rates.iter().all(|r| *r > 0.9),
        "{rates:?}"
    );
    // The tasks get no traffic: ~3 % CPU, no application errors.
    let svc = web(&src);
    let cpu = values(&window(&src, &cat::service_cpu(&svc), 40.0, 60.0));
    assert!(cpu.iter().all(|c| *c < 6.0), "{cpu:?}");
    for t in live(&src).iter().filter(|t| t.last_status == "RUNNING") {
        let task_cpu = latest(&src, &cat::task_cpu(t));
        assert!(task_cpu / 512.0 < 0.06, "{task_cpu}");
        let lines = log_lines(&src, t, 20.0, 60.0);
        assert!(
            lines
                .iter()
                .all(|(_, l)| !l.contains("ERROR") && !l.contains("Exception")),
            "{lines:?}"
        );
        assert!(lines.iter().all(|(_, l)| !l.contains("c.e.web.RequestLog")));
    }
}

#[test]
fn ecs_stops_the_tasks_for_failing_elb_health_checks_and_the_replacements_time_out_too() {
    let src = demo("sg-outage");
    // Until then the tasks that lost their path stay: every target times out at once.
    at(&src, 70.0);
    assert!(ended(&src).is_empty(), "{:?}", ended(&src));
    assert_eq!(states(&src), vec!["unhealthy/Target.Timeout"; 4]);
    at(&src, 85.0);
    let tg = web(&src).target_group_arns[0].clone();
    let failed: Vec<Task> = ended(&src)
        .into_iter()
        .filter(|t| {
            t.stopped_reason == format!("Task failed ELB health checks in (target-group {tg})")
        })
        .collect();
    assert!(failed.len() >= 4, "{}", failed.len());
    // Two at a time: ECS keeps half the service while it replaces the rest.
    let mut stops: Vec<Time> = failed.iter().filter_map(|t| t.stopping_at).collect();
    stops.sort();
    assert_ne!(stops[0], stops[3]);
    assert!(
        messages(&src)
            .iter()
            .any(|m| m.ends_with("due to (reason Request timed out)."))
    );
    // The replacements never become healthy while the rule is missing.
    let healthy = values(&window(
        &src,
        &tg_metric(&src, "HealthyHostCount", Stat::Maximum),
        30.0,
        85.0,
    ));
    assert!(healthy.iter().all(|h| *h == 0.0), "{healthy:?}");
    // Replacements log a normal start-up: their start-up is not the problem.
    let newest = live(&src)
        .into_iter()
        .filter(|t| t.started_at.is_some())
        .max_by_key(|t| t.started_at)
        .unwrap();
    let boot = log_lines(&src, &newest, 60.0, 85.0);
    assert!(
        boot.iter()
            .any(|(_, l)| l.contains("Started WebApplication in 18.4 seconds"))
    );
}

#[test]
fn restoring_the_rule_recovers() {
    let src = demo("sg-outage");
    // The 504s stop with the rule; the targets pass five checks in a row to be healthy.
    at(&src, 110.0);
    assert_eq!(
        latest(&src, &lb_metric(&src, "HTTPCode_ELB_504_Count")),
        0.0
    );
    assert!(
        states(&src).iter().all(|s| s != "healthy/"),
        "{:?}",
        states(&src)
    );
    at(&src, 125.0);
    assert!(
        states(&src).iter().filter(|s| *s == "healthy/").count() >= 4,
        "{:?}",
        states(&src)
    );
    at(&src, 130.0);
    assert_recovered(&src);
    let svc = web(&src);
    assert!(latest(&src, &cat::service_cpu(&svc)) > 20.0);
}
