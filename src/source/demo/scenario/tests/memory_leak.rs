//! memory-leak (×30): memory climbs, full GCs, OOM kills with exit 137, restarts low.

use super::*;

const LIMIT: f64 = 1024.0;

/// The web tasks running at the start, in start order.
fn first_tasks(src: &DemoSource) -> Vec<Task> {
    live(src)
}

#[test]
fn memory_climbs_on_every_task_before_the_first_kill() {
    let src = demo("memory-leak");
    let tasks = first_tasks(&src);
    assert_eq!(tasks.len(), 4);
    at(&src, 60.0);
    for t in &tasks {
        // The last 30 minutes (60 replay seconds): a steady climb, no dip.
        let points = values(&window(&src, &cat::task_memory(t), 0.0, 60.0));
        assert!(points.len() >= 28, "{}", points.len());
        let (first, last) = (points[0], points[points.len() - 1]);
        assert!(last - first > 120.0, "{first} → {last}");
        let rising = points.windows(5).filter(|w| w[4] > w[0]).count();
        assert_eq!(rising, points.len() - 4, "{points:?}");
        assert!((0.6..0.8).contains(&(last / LIMIT)), "{last}");
    }
    let svc = web(&src);
    assert!(latest(&src, &cat::service_memory(&svc)) > 65.0);
    at(&src, 120.0);
    let highest = tasks
        .iter()
        .map(|t| latest(&src, &cat::task_memory(t)))
        .fold(0.0, f64::max);
    assert!(highest / LIMIT > 0.85, "{highest}");
    assert!(stopped(&src).is_empty(), "nothing killed before t=140");
}

#[test]
fn the_first_task_is_oom_killed_at_140_and_restarts_low() {
    let src = demo("memory-leak");
    let first = first_tasks(&src)[0].clone();
    at(&src, 140.0);
    let gone = stopped(&src);
    assert_eq!(gone.len(), 1, "{gone:?}");
    let t = &gone[0];
    assert_eq!(t.arn, first.arn);
    assert_eq!(t.stop_code, "EssentialContainerExited");
    assert_eq!(t.stopped_reason, "Essential container in task exited");
    assert_eq!(t.containers[0].exit_code, Some(137));
    assert_eq!(
        t.containers[0].reason,
        "OutOfMemoryError: Container killed due to memory usage"
    );
    // Its memory climbed to the limit first.
    let before = values(&window(&src, &cat::task_memory(t), 100.0, 140.0));
    assert!(before.windows(2).all(|w| w[1] >= w[0] - 8.0), "{before:?}");
    assert!(before.last().unwrap() / LIMIT > 0.95, "{before:?}");
    // ECS starts a replacement that begins low.
    let events = events_since(&src, 130.0);
    assert!(
        events
            .iter()
            .any(|e| e.starts_with("(service web) has started 1 tasks: (task ")),
        "{events:?}"
    );
    at(&src, 145.0);
    let newest = live(&src).into_iter().max_by_key(|t| t.created_at).unwrap();
    assert!(newest.created_at.unwrap() >= t.stopping_at.unwrap());
    let memory = latest(&src, &cat::task_memory(&newest));
    assert!((480.0..600.0).contains(&memory), "{memory}");
    // A one-minute blip of ELB 502s, under the 2 % an alarm would need.
    let e502 = values(&window(
        &src,
        &lb_metric(&src, "HTTPCode_ELB_502_Count"),
        130.0,
        145.0,
    ));
    let requests = values(&window(
        &src,
        &lb_metric(&src, "RequestCount"),
        130.0,
        145.0,
    ));
    let worst = e502
        .iter()
        .zip(&requests)
        .map(|(e, r)| e / r)
        .fold(0.0, f64::max);
    assert!(worst > 0.004 && worst < 0.01, "{e502:?} of {requests:?}");
}

#[test]
fn three_tasks_are_killed_by_170_then_the_bigger_revision_restarts_them_low() {
    let src = demo("memory-leak");
    at(&src, 170.0);
    let ooms: Vec<Task> = stopped(&src)
        .into_iter()
        .filter(|t| t.containers[0].exit_code == Some(137))
        .collect();
    assert_eq!(ooms.len(), 3);
    let first = ooms.iter().filter_map(|t| t.stopped_at).min().unwrap();
    let last = ooms.iter().filter_map(|t| t.stopped_at).max().unwrap();
    assert!(
        last - first <= chrono::TimeDelta::minutes(30),
        "{first} … {last}"
    );
    assert!(
        ooms.iter()
            .all(|t| t.stop_code == "EssentialContainerExited"
                && t.containers[0].reason.starts_with("OutOfMemoryError"))
    );

    // t=180: the operator's revision with twice the memory.
    at(&src, 195.0);
    let svc = web(&src);
    assert_eq!(svc.task_definition.revision, 17);
    assert_eq!(svc.deployments[0].rollout_state, "COMPLETED");
    for t in live(&src) {
        assert_eq!(t.memory, Some(2048));
        let share = latest(&src, &cat::task_memory(&t)) / 2048.0;
        assert!(share < 0.35, "{share}");
    }
    // It leaks on: the climb continues at the same slope.
    let task = live(&src)[0].clone();
    let early = latest(&src, &cat::task_memory(&task));
    at(&src, 235.0);
    assert!(latest(&src, &cat::task_memory(&task)) > early + 80.0);
    // t=240: the code fix holds memory flat.
    at(&src, 275.0);
    assert_eq!(web(&src).task_definition.revision, 18);
    for t in live(&src) {
        let points = values(&window(&src, &cat::task_memory(&t), 255.0, 275.0));
        let (lo, hi) = points
            .iter()
            .fold((f64::MAX, 0.0_f64), |(l, h), v| (l.min(*v), h.max(*v)));
        assert!(hi - lo < 25.0, "{points:?}");
        assert!((540.0..660.0).contains(&hi), "{hi}");
    }
    // (A 137 under ServiceSchedulerInitiated is the SIGKILL after stopTimeout, not an OOM.)
    let kills_after_fix = stopped(&src)
        .iter()
        .filter(|t| {
            t.stop_code == "EssentialContainerExited" && t.stopped_at > Some(time(&src, 180.0))
        })
        .count();
    assert_eq!(kills_after_fix, 0);
    assert_recovered(&src);
}

#[test]
fn logs_show_full_gcs_closing_in_then_the_heap_running_out() {
    let src = demo("memory-leak");
    let first = first_tasks(&src)[0].clone();
    at(&src, 150.0);
    let t = stopped(&src)
        .into_iter()
        .find(|t| t.arn == first.arn)
        .unwrap();
    let killed = src.replay_secs_at(t.stopping_at.unwrap()).unwrap();
    // Early on: young pauses only.
    let early = log_lines(&src, &t, 0.0, 20.0);
    assert!(early.iter().any(|(_, l)| l.contains("Pause Young")));
    assert!(!early.iter().any(|(_, l)| l.contains("Pause Full")));
    // The five minutes before the kill: at least five full GCs (log-jvm-memory-pressure).
    let last_five = log_lines(&src, &t, killed - minutes(&src, 5.0), killed);
    let full = last_five
        .iter()
        .filter(|(_, l)| l.contains("Pause Full (G1 Compaction Pause)"))
        .count();
    assert!(full >= 5, "{full} full GCs");
    // The last seconds: the heap is gone; nothing after the kill.
    let end = log_lines(&src, &t, killed - minutes(&src, 0.25), killed + 5.0);
    assert!(
        end.iter()
            .any(|(_, l)| l.contains("java.lang.OutOfMemoryError: Java heap space")),
        "{end:?}"
    );
    assert!(end.iter().all(|(at, _)| *at < t.stopping_at.unwrap()));
    assert!(!end.iter().any(|(_, l)| l.contains("Graceful shutdown")));
    // Its replacement starts like any Spring Boot app.
    let replacement = live(&src)
        .into_iter()
        .filter(|r| r.created_at >= t.stopping_at)
        .min_by_key(|r| r.created_at)
        .unwrap();
    let boot = log_lines(&src, &replacement, killed, 150.0);
    assert!(
        boot.iter()
            .any(|(_, l)| l.contains("Started WebApplication in 18.4 seconds")),
        "{boot:?}"
    );
}

#[test]
fn a_redeploy_restarts_every_task_low_and_the_leak_goes_on() {
    let src = demo("memory-leak");
    at(&src, 100.0);
    let said = apply(
        &src,
        Operation::Redeploy {
            cluster: CLUSTER.into(),
            service: "web".into(),
            service_arn: service_arn("web"),
        },
    );
    assert!(said.contains("deployment"), "{said}");
    at(&src, 112.0);
    let fresh = live(&src);
    assert!(
        fresh.iter().all(|t| t.created_at > Some(time(&src, 100.0))),
        "{fresh:?}"
    );
    assert_eq!(web(&src).deployments[0].rollout_state, "COMPLETED");
    let low: Vec<f64> = fresh
        .iter()
        .map(|t| latest(&src, &cat::task_memory(t)))
        .collect();
    assert!(low.iter().all(|m| *m < 620.0), "{low:?}");
    at(&src, 140.0);
    for (t, before) in fresh.iter().zip(&low) {
        assert!(latest(&src, &cat::task_memory(t)) > before + 50.0);
    }
    // Restarted at t=100, nobody reaches the limit by the old kill times.
    assert!(
        stopped(&src)
            .iter()
            .all(|t| t.containers[0].exit_code != Some(137))
    );
}
