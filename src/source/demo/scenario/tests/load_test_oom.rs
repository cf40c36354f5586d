//! load-test-oom (×10): a load test fills web's undersized JVM; tasks die with heap errors and
//! exit 137 over and over; a revision with memory and a heap that fit ends it.

use super::*;

fn oom_kills(src: &DemoSource) -> Vec<Task> {
    stopped(src)
        .into_iter()
        .filter(|t| t.stop_code == "EssentialContainerExited")
        .collect()
}

fn java_options(src: &DemoSource, revision: u32) -> Option<String> {
    let arn = format!("arn:aws:ecs:eu-west-1:123456789012:task-definition/web:{revision}");
    let def = block_on(src.task_definition(&arn)).unwrap();
    def.containers[0]
        .environment
        .iter()
        .find(|(k, _)| k == "JAVA_TOOL_OPTIONS")
        .map(|(_, v)| v.clone())
}

#[test]
fn the_jvm_is_left_to_size_its_heap_and_memory_follows_the_load() {
    let src = demo("load-test-oom");
    let options = java_options(&src, 16).unwrap();
    assert!(!options.contains("-Xmx") && !options.contains("MaxRAMPercentage"));
    at(&src, 20.0);
    let share: Vec<f64> = live(&src)
        .iter()
        .map(|t| latest(&src, &cat::task_memory(t)) / 512.0)
        .collect();
    assert!(share.iter().all(|s| (0.65..0.8).contains(s)), "{share:?}");
    at(&src, 40.0);
    assert_eq!(web(&src).desired, 10);
    let requests = latest(&src, &lb_metric(&src, "RequestCount"));
    assert!(requests > 13_000.0, "{requests}");
    // The old tasks: 90 % and more within minutes, no slow climb before.
    let first = live(&src)
        .into_iter()
        .filter(|t| t.created_at < Some(time(&src, 0.0)))
        .collect::<Vec<_>>();
    assert_eq!(first.len(), 2);
    for t in &first {
        let before = values(&window(&src, &cat::task_memory(t), -60.0, 0.0));
        let (lo, hi) = before
            .iter()
            .fold((f64::MAX, 0.0_f64), |(l, h), v| (l.min(*v), h.max(*v)));
        assert!(hi - lo < 15.0, "flat before the load: {before:?}");
    }
    at(&src, 43.0);
    for t in &first {
        let now = latest(&src, &cat::task_memory(t));
        assert!(now / 512.0 > 0.88, "{now}");
    }
}

#[test]
fn tasks_die_of_heap_errors_again_and_again_with_502s() {
    let src = demo("load-test-oom");
    at(&src, 95.0);
    let kills = oom_kills(&src);
    assert!(kills.len() >= 6, "{}", kills.len());
    for t in &kills {
        assert_eq!(t.containers[0].exit_code, Some(137));
        assert_eq!(
            t.containers[0].reason,
            "OutOfMemoryError: Container killed due to memory usage"
        );
        let killed = src.replay_secs_at(t.stopping_at.unwrap()).unwrap();
        let last = log_lines(&src, t, killed - 3.0, killed + 1.0);
        assert!(
            last.iter()
                .any(|(_, l)| l.contains("java.lang.OutOfMemoryError: Java heap space")),
            "{last:?}"
        );
    }
    // Replacements of the same revision fill up and die too.
    assert!(kills.iter().any(|t| t.created_at > Some(time(&src, 40.0))));
    let e502 = values(&window(
        &src,
        &lb_metric(&src, "HTTPCode_ELB_502_Count"),
        55.0,
        95.0,
    ));
    let requests = values(&window(&src, &lb_metric(&src, "RequestCount"), 55.0, 95.0));
    let share = e502.iter().sum::<f64>() / requests.iter().sum::<f64>();
    assert!((0.01..0.08).contains(&share), "{share}");
    let healthy = values(&window(
        &src,
        &tg_metric(&src, "HealthyHostCount", Stat::Average),
        55.0,
        95.0,
    ));
    let (lo, hi) = healthy
        .iter()
        .fold((f64::MAX, 0.0_f64), |(l, h), v| (l.min(*v), h.max(*v)));
    assert!(hi - lo >= 2.0, "{healthy:?}");
}

#[test]
fn memory_and_a_heap_that_fit_end_it() {
    let src = demo("load-test-oom");
    at(&src, 140.0);
    let svc = web(&src);
    assert_eq!(svc.task_definition.revision, 17);
    assert!(java_options(&src, 17).unwrap().contains("-Xmx800m"));
    let killed_before = oom_kills(&src).len();
    for t in live(&src) {
        assert_eq!(t.memory, Some(1024));
        let share = latest(&src, &cat::task_memory(&t)) / 1024.0;
        assert!((0.55..0.75).contains(&share), "{share}");
    }
    at(&src, 200.0);
    assert_eq!(oom_kills(&src).len(), killed_before);
    assert_recovered(&src);
}

#[test]
fn a_redeploy_of_the_same_revision_fills_up_again() {
    let src = demo("load-test-oom");
    at(&src, 60.0);
    apply(
        &src,
        Operation::Redeploy {
            cluster: CLUSTER.into(),
            service: "web".into(),
            service_arn: service_arn("web"),
        },
    );
    let after = oom_kills(&src).len();
    at(&src, 99.0);
    assert!(
        oom_kills(&src).len() > after,
        "the new tasks die the same way"
    );
    assert_eq!(web(&src).task_definition.revision, 16);
}
