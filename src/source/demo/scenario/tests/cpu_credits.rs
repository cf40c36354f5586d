//! cpu-credits (×60): a t3 host spends its credits, sits at its baseline while the service is
//! pegged, then unlimited credits and an m5.large fix it.

use super::*;

fn host(src: &DemoSource, family: &str) -> Instance {
    instances(src)
        .into_iter()
        .find(|i| i.instance_type.starts_with(family))
        .unwrap()
}

fn credits(src: &DemoSource) -> MetricId {
    cat::instance_credits(&host(src, "t3.")).unwrap()
}

#[test]
fn the_balance_falls_while_the_host_bursts() {
    let src = demo("cpu-credits");
    assert!(latest(at(&src, 2.0), &credits(&src)) > 55.0);
    at(&src, 30.0);
    let balance = values(&window(&src, &credits(&src), 20.0, 30.0));
    assert!(balance.windows(2).all(|w| w[1] < w[0]), "{balance:?}");
    let now = *balance.last().unwrap();
    assert!((28.0..40.0).contains(&now), "{now}");
    // Falling ~54 an hour: empty within the hour.
    let per_minute = (balance[0] - now) / (balance.len() - 1) as f64;
    assert!(now / per_minute < 60.0, "{per_minute}/min");
    let cpu = latest(&src, &cat::instance_cpu(&host(&src, "t3.")));
    assert!(cpu > 75.0, "{cpu}");
}

#[test]
fn without_credits_the_host_is_flat_at_its_baseline_while_the_service_is_pegged() {
    let src = demo("cpu-credits");
    at(&src, 80.0);
    let t3 = host(&src, "t3.");
    // 15 minutes (15 replay seconds) flat near the 20 % baseline, balance under 5.
    let cpu = values(&window(&src, &cat::instance_cpu(&t3), 62.0, 80.0));
    assert!(cpu.len() >= 15, "{cpu:?}");
    assert!(cpu.iter().all(|v| (17.0..24.0).contains(v)), "{cpu:?}");
    let mean = cpu.iter().sum::<f64>() / cpu.len() as f64;
    let sd = (cpu.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / cpu.len() as f64).sqrt();
    assert!(sd < 2.0, "{sd}");
    let balance = values(&window(&src, &credits(&src), 62.0, 80.0));
    assert!(balance.iter().all(|b| *b < 5.0), "{balance:?}");
    let svc = web(&src);
    let service_cpu = values(&window(&src, &cat::service_cpu(&svc), 70.0, 80.0));
    assert!(service_cpu.iter().all(|v| *v >= 95.0), "{service_cpu:?}");
    let slow = latest(&src, &tg_metric(&src, "TargetResponseTime", Stat::P95));
    assert!(slow > 3.0, "{slow}");
    // Both tasks sit on the one t3 host, in one AZ.
    let tasks = live(&src);
    assert!(
        tasks
            .iter()
            .all(|t| t.container_instance_arn.as_deref() == Some(t3.arn.as_str()))
    );
    // Throttled is not broken: no stops, no errors.
    assert!(stopped(&src).is_empty());
    assert_eq!(
        latest(&src, &lb_metric(&src, "HTTPCode_ELB_5XX_Count")),
        0.0
    );
}

#[test]
fn unlimited_credits_then_an_m5_large_recover() {
    let src = demo("cpu-credits");
    at(&src, 100.0);
    let cpu = latest(&src, &cat::instance_cpu(&host(&src, "t3.")));
    assert!(cpu > 70.0, "{cpu}");
    let fast = latest(&src, &tg_metric(&src, "TargetResponseTime", Stat::P95));
    assert!(fast < 1.0, "{fast}");
    at(&src, 140.0);
    let m5 = host(&src, "m5.");
    assert_eq!(m5.status, "ACTIVE");
    assert_eq!(host(&src, "t3.").status, "DRAINING");
    assert_eq!(host(&src, "t3.").running_tasks, 0);
    let tasks = live(&src);
    assert_eq!(tasks.len(), 2);
    assert!(
        tasks
            .iter()
            .all(|t| t.container_instance_arn.as_deref() == Some(m5.arn.as_str()))
    );
    assert!(latest(&src, &cat::service_cpu(&web(&src))) < 70.0);
    assert_recovered(&src);
}

#[test]
fn draining_the_only_host_early_leaves_the_tasks_nowhere_to_go_until_the_m5_arrives() {
    let src = demo("cpu-credits");
    at(&src, 70.0);
    let t3 = host(&src, "t3.");
    apply(
        &src,
        Operation::SetInstanceState {
            cluster: CLUSTER.into(),
            instance_arn: t3.arn.clone(),
            ec2_instance_id: t3.ec2_instance_id.clone(),
            draining: true,
        },
    );
    at(&src, 80.0);
    // The old tasks keep serving (nothing could replace them) and ECS says why.
    let svc = web(&src);
    assert_eq!(svc.running, 2);
    assert!(
        events_since(&src, 70.0)
            .iter()
            .any(|e| e.contains("was unable to place a task")),
        "{:?}",
        events_since(&src, 70.0)
    );
    // The scripted m5.large takes them; the drain the script would do is already done.
    at(&src, 135.0);
    let m5 = host(&src, "m5.");
    assert!(
        live(&src)
            .iter()
            .all(|t| t.container_instance_arn.as_deref() == Some(m5.arn.as_str()))
    );
    assert_recovered(at(&src, 140.0));
}

#[test]
fn scaling_out_onto_the_full_host_cannot_place_the_task() {
    let src = demo("cpu-credits");
    at(&src, 70.0);
    apply(
        &src,
        Operation::Scale {
            cluster: CLUSTER.into(),
            service: "web".into(),
            service_arn: service_arn("web"),
            from: 2,
            to: 3,
        },
    );
    at(&src, 72.0);
    let svc = web(&src);
    assert_eq!((svc.running, svc.desired), (2, 3));
    assert!(
        events_since(&src, 70.0)
            .iter()
            .any(|e| e.contains("has insufficient CPU units available")),
        "{:?}",
        events_since(&src, 70.0)
    );
}
