//! slow-dependency (×10): a third party hangs, requests outlive the ALB's idle timeout (504s)
//! while CPU stays low; a client timeout with a fallback ends it.

use super::*;

fn share_504(src: &DemoSource, from: f64, to: f64) -> f64 {
    let e504 = values(&window(
        src,
        &lb_metric(src, "HTTPCode_ELB_504_Count"),
        from,
        to,
    ));
    let requests = values(&window(src, &lb_metric(src, "RequestCount"), from, to));
    e504.iter().sum::<f64>() / requests.iter().sum::<f64>()
}

#[test]
fn hung_calls_end_in_504s_at_low_cpu() {
    let src = demo("slow-dependency");
    at(&src, 60.0);
    assert_eq!(share_504(&src, 0.0, 18.0), 0.0);
    let share = share_504(&src, 30.0, 60.0);
    assert!((0.02..0.04).contains(&share), "{share}");
    // The targets answered: no connection errors, every target healthy.
    let conn = values(&window(
        &src,
        &tg_metric(&src, "TargetConnectionErrorCount", Stat::Sum),
        30.0,
        60.0,
    ));
    assert!(conn.iter().all(|c| *c == 0.0), "{conn:?}");
    assert!(states(&src).iter().all(|s| s == "healthy/"));
    let rt = values(&window(
        &src,
        &tg_metric(&src, "TargetResponseTime", Stat::P95),
        30.0,
        60.0,
    ));
    assert!(rt.iter().all(|v| *v > 1.0), "{rt:?}");
    let cpu = latest(&src, &cat::service_cpu(&web(&src)));
    assert!(cpu < 40.0, "{cpu}");
    let task = live(&src)[0].clone();
    let lines = log_lines(&src, &task, 20.0, 60.0);
    assert!(
        lines
            .iter()
            .any(|(_, l)| l.contains("GET /api/quote 200") && l.contains("(slow: over 2000ms)")),
        "{lines:?}"
    );
}

#[test]
fn a_client_timeout_with_a_fallback_ends_the_504s() {
    let src = demo("slow-dependency");
    at(&src, 130.0);
    assert_eq!(web(&src).task_definition.revision, 17);
    assert_eq!(share_504(&src, 100.0, 130.0), 0.0);
    let rt = latest(&src, &tg_metric(&src, "TargetResponseTime", Stat::P95));
    assert!(rt < 1.0, "{rt}");
    assert_recovered(&src);
    let task = live(&src)[0].clone();
    let lines = log_lines(&src, &task, 100.0, 130.0);
    assert!(
        lines
            .iter()
            .any(|(_, l)| l.contains("(fallback: quote provider")),
        "{lines:?}"
    );
}

#[test]
fn a_redeploy_of_the_same_code_changes_nothing() {
    let src = demo("slow-dependency");
    at(&src, 30.0);
    apply(
        &src,
        Operation::Redeploy {
            cluster: CLUSTER.into(),
            service: "web".into(),
            service_arn: service_arn("web"),
        },
    );
    at(&src, 68.0);
    let share = share_504(&src, 50.0, 68.0);
    assert!(share > 0.02, "{share}");
}
