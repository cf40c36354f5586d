//! high-cpu (×10): traffic doubles, web's CPU and its hosts saturate, autoscaling stops at its
//! maximum; more instances and tasks fix it.

use super::*;

fn host_cpus(src: &DemoSource) -> Vec<f64> {
    instances(src)
        .iter()
        .map(|i| latest(src, &cat::instance_cpu(i)))
        .collect()
}

fn bounds(src: &DemoSource) -> (u32, u32) {
    block_on(src.scaling_bounds(CLUSTER, "web"))
        .unwrap()
        .map(|b| (b.min, b.max))
        .unwrap()
}

#[test]
fn the_surge_pegs_the_service_and_every_host() {
    let src = demo("high-cpu");
    at(&src, 10.0);
    let svc = web(&src);
    let cpu = latest(&src, &cat::service_cpu(&svc));
    assert!((45.0..56.0).contains(&cpu), "{cpu}");
    assert!(host_cpus(&src).iter().all(|c| (40.0..52.0).contains(c)));
    let rt = latest(&src, &tg_metric(&src, "TargetResponseTime", Stat::P95));
    assert!(rt < 0.35, "{rt}");

    at(&src, 90.0);
    let svc = web(&src);
    let cpu = values(&window(&src, &cat::service_cpu(&svc), 62.0, 90.0));
    assert!(cpu.iter().all(|v| *v >= 93.0), "{cpu:?}");
    let hosts = host_cpus(&src);
    assert!(hosts.iter().all(|c| (88.0..96.0).contains(c)), "{hosts:?}");
    let rt = values(&window(
        &src,
        &tg_metric(&src, "TargetResponseTime", Stat::P95),
        62.0,
        90.0,
    ));
    assert!(rt.iter().all(|v| *v > 1.1), "{rt:?}");
    let requests = latest(&src, &lb_metric(&src, "RequestCount"));
    assert!((11_000.0..13_000.0).contains(&requests), "{requests}");
    // Saturated, not broken: nothing stops, nothing fails.
    assert!(stopped(&src).is_empty());
    assert_eq!(
        latest(&src, &lb_metric(&src, "HTTPCode_ELB_5XX_Count")),
        0.0
    );
}

#[test]
fn autoscaling_climbs_to_its_maximum_and_stays_there() {
    let src = demo("high-cpu");
    at(&src, 59.0);
    assert_eq!(web(&src).desired, 4);
    at(&src, 70.0);
    assert_eq!(web(&src).desired, 5);
    at(&src, 150.0);
    let svc = web(&src);
    assert_eq!((svc.desired, svc.running), (6, 6));
    assert_eq!(bounds(&src), (2, 6));
    let alarms = block_on(src.alarms()).unwrap();
    let high = alarms
        .iter()
        .find(|a| a.name.contains("web-AlarmHigh"))
        .unwrap();
    assert_eq!(high.state, crate::model::AlarmState::Alarm);
    // Six tasks on the same three hosts: none could be placed short of room.
    assert_eq!(instances(&src).len(), 3);
    assert!(
        !messages(&src)
            .iter()
            .any(|m| m.contains("was unable to place"))
    );
}

#[test]
fn more_instances_and_tasks_bring_it_back() {
    let src = demo("high-cpu");
    at(&src, 165.0);
    assert_eq!(bounds(&src), (2, 10));
    at(&src, 220.0);
    assert_eq!(instances(&src).len(), 5);
    let svc = web(&src);
    assert_eq!((svc.desired, svc.running), (8, 8));
    let cpu = latest(&src, &cat::service_cpu(&svc));
    assert!((50.0..62.0).contains(&cpu), "{cpu}");
    let busy = host_cpus(&src);
    assert!(busy.iter().all(|c| *c < 60.0), "{busy:?}");
    let rt = latest(&src, &tg_metric(&src, "TargetResponseTime", Stat::P95));
    assert!(rt < 0.4, "{rt}");
    assert_recovered(&src);
}

#[test]
fn scaling_by_hand_on_the_same_hosts_does_not_help() {
    let src = demo("high-cpu");
    at(&src, 100.0);
    let said = apply(
        &src,
        Operation::Scale {
            cluster: CLUSTER.into(),
            service: "web".into(),
            service_arn: service_arn("web"),
            from: 6,
            to: 8,
        },
    );
    assert!(said.contains('8'), "{said}");
    at(&src, 140.0);
    let svc = web(&src);
    assert_eq!((svc.desired, svc.running), (8, 8));
    // Eight tasks on three busy hosts: still saturated (host-bound).
    let cpu = values(&window(&src, &cat::service_cpu(&svc), 125.0, 140.0));
    assert!(cpu.iter().all(|v| *v >= 90.0), "{cpu:?}");
    assert!(host_cpus(&src).iter().all(|c| *c >= 85.0));
    // Autoscaling does not undo a person's larger count.
    at(&src, 150.0);
    assert_eq!(web(&src).desired, 8);
}
