//! nat (×10): a 5× surge exhausts the lone NAT gateway's source ports; the payment calls that
//! cannot connect end in 5xx; a second gateway for AZ b and a pooled keep-alive client fix it.

use super::*;
use crate::source::demo::names::{self, NAT_A, NAT_B};

fn share(src: &DemoSource, metric: &MetricId, from: f64, to: f64) -> f64 {
    let errors = values(&window(src, metric, from, to));
    let requests = values(&window(src, &lb_metric(src, "RequestCount"), from, to));
    errors.iter().sum::<f64>() / requests.iter().sum::<f64>()
}

fn subnets() -> Vec<String> {
    names::PRIVATE_SUBNETS
        .iter()
        .map(|s| s.to_string())
        .collect()
}

#[test]
fn the_surge_exhausts_the_gateways_ports_and_payments_fail() {
    let src = demo("nat");
    at(&src, 100.0);
    let svc = web(&src);
    assert_eq!((svc.desired, svc.running), (18, 18));
    assert!(
        !messages(&src).iter().any(|m| m.contains("unable to place")),
        "{:?}",
        messages(&src)
    );
    assert!(latest(&src, &cat::nat_active_connections(NAT_A)) >= 45_000.0);
    let attempts = latest(&src, &cat::nat_connection_attempts(NAT_A));
    let established = latest(&src, &cat::nat_connections_established(NAT_A));
    assert!((0.76..0.80).contains(&(established / attempts)));
    assert!(latest(&src, &cat::nat_port_allocation_errors(NAT_A)) >= 300.0);
    let target = share(
        &src,
        &tg_metric(&src, "HTTPCode_Target_5XX_Count", Stat::Sum),
        80.0,
        100.0,
    );
    assert!((0.035..0.045).contains(&target), "{target}");
    let e504 = share(
        &src,
        &lb_metric(&src, "HTTPCode_ELB_504_Count"),
        80.0,
        100.0,
    );
    assert!((0.015..0.025).contains(&e504), "{e504}");
    let cpu = latest(&src, &cat::service_cpu(&svc));
    assert!((55.0..75.0).contains(&cpu), "{cpu}");
    let task = live(&src)[0].clone();
    let lines = log_lines(&src, &task, 70.0, 100.0);
    assert!(
        lines
            .iter()
            .any(|(_, l)| l.contains("connect timed out")
                && l.contains("api.payments-provider.example")),
        "{lines:?}"
    );
}

#[test]
fn a_second_gateway_and_connection_reuse_end_it() {
    let src = demo("nat");
    at(&src, 119.0);
    assert_eq!(block_on(src.nat_gateways(&subnets())).unwrap().len(), 1);
    at(&src, 200.0);
    let nats = block_on(src.nat_gateways(&subnets())).unwrap();
    assert_eq!(nats.len(), 2);
    assert_eq!(nats[1].id, NAT_B);
    assert_eq!(nats[1].serves, vec![names::PRIVATE_SUBNETS[1].to_string()]);
    assert!(
        !nats[0]
            .serves
            .contains(&names::PRIVATE_SUBNETS[1].to_string())
    );
    for id in [NAT_A, NAT_B] {
        let active = latest(&src, &cat::nat_active_connections(id));
        assert!((18_000.0..26_000.0).contains(&active), "{id} {active}");
        assert_eq!(latest(&src, &cat::nat_port_allocation_errors(id)), 0.0);
        assert_eq!(latest(&src, &cat::nat_packets_dropped(id)), 0.0);
    }
    assert_eq!(web(&src).task_definition.revision, 17);
    let target = share(
        &src,
        &tg_metric(&src, "HTTPCode_Target_5XX_Count", Stat::Sum),
        185.0,
        200.0,
    );
    assert!(target < 0.001, "{target}");
    assert_recovered(&src);
}

#[test]
fn more_tasks_do_not_help() {
    let src = demo("nat");
    at(&src, 80.0);
    apply(
        &src,
        Operation::Scale {
            cluster: CLUSTER.into(),
            service: "web".into(),
            service_arn: service_arn("web"),
            from: 18,
            to: 24,
        },
    );
    at(&src, 115.0);
    assert_eq!(web(&src).running, 24);
    let target = share(
        &src,
        &tg_metric(&src, "HTTPCode_Target_5XX_Count", Stat::Sum),
        100.0,
        115.0,
    );
    assert!(target > 0.03, "{target}");
    assert!(latest(&src, &cat::nat_port_allocation_errors(NAT_A)) > 0.0);
}
