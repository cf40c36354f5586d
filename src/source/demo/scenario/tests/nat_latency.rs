//! nat-latency (×10): a client that opens a connection per call crowds the lone NAT gateway;
//! connect timeouts end in ELB 504s and slow responses while CPU stays low; a pooled
//! keep-alive client ends it.

use super::*;
use crate::source::demo::names::NAT_A;

fn share(src: &DemoSource, name: &str, from: f64, to: f64) -> f64 {
    let errors = values(&window(src, &lb_metric(src, name), from, to));
    let requests = values(&window(src, &lb_metric(src, "RequestCount"), from, to));
    errors.iter().sum::<f64>() / requests.iter().sum::<f64>()
}

fn timeouts(src: &DemoSource, from: f64, to: f64) -> usize {
    live(src)
        .iter()
        .flat_map(|t| log_lines(src, t, from, to))
        .filter(|(_, l)| {
            l.contains("SocketTimeoutException: connect timed out")
                && l.contains("api.partner.example")
        })
        .count()
}

#[test]
fn the_crowded_gateway_times_out_calls_into_504s_at_low_cpu() {
    let src = demo("nat-latency");
    at(&src, 90.0);
    assert_eq!(share(&src, "HTTPCode_ELB_504_Count", 0.0, 55.0), 0.0);
    let e504 = share(&src, "HTTPCode_ELB_504_Count", 66.0, 90.0);
    assert!((0.02..0.03).contains(&e504), "{e504}");
    let active = latest(&src, &cat::nat_active_connections(NAT_A));
    assert!(active >= 45_000.0, "{active}");
    let attempts = latest(&src, &cat::nat_connection_attempts(NAT_A));
    let established = latest(&src, &cat::nat_connections_established(NAT_A));
    let ratio = established / attempts;
    assert!((0.92..0.94).contains(&ratio), "{ratio}");
    let drops = values(&window(&src, &cat::nat_packets_dropped(NAT_A), 66.0, 90.0));
    assert!(drops.iter().all(|d| *d >= 100.0), "{drops:?}");
    let cpu = latest(&src, &cat::service_cpu(&web(&src)));
    assert!(cpu < 50.0, "{cpu}");
    let p95 = latest(&src, &tg_metric(&src, "TargetResponseTime", Stat::P95));
    assert!(p95 > 2.5, "{p95}");
    assert_eq!(timeouts(&src, 0.0, 58.0), 0);
    assert!(timeouts(&src, 60.0, 90.0) > 10);
}

#[test]
fn a_pooled_client_clears_the_gateway_and_the_504s() {
    let src = demo("nat-latency");
    at(&src, 170.0);
    assert_eq!(web(&src).task_definition.revision, 17);
    assert_eq!(share(&src, "HTTPCode_ELB_504_Count", 150.0, 170.0), 0.0);
    let active = latest(&src, &cat::nat_active_connections(NAT_A));
    assert!(active < 10_000.0, "{active}");
    assert_eq!(latest(&src, &cat::nat_packets_dropped(NAT_A)), 0.0);
    let p95 = latest(&src, &tg_metric(&src, "TargetResponseTime", Stat::P95));
    assert!(p95 < 0.5, "{p95}");
    assert_eq!(timeouts(&src, 150.0, 170.0), 0);
    assert_recovered(&src);
}

#[test]
fn a_redeploy_of_the_same_client_changes_nothing() {
    let src = demo("nat-latency");
    at(&src, 70.0);
    apply(
        &src,
        Operation::Redeploy {
            cluster: CLUSTER.into(),
            service: "web".into(),
            service_arn: service_arn("web"),
        },
    );
    at(&src, 115.0);
    assert_eq!(web(&src).task_definition.revision, 16);
    let e504 = share(&src, "HTTPCode_ELB_504_Count", 95.0, 115.0);
    assert!(e504 > 0.02, "{e504}");
    assert!(timeouts(&src, 100.0, 115.0) > 5);
}
