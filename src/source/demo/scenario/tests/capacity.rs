//! capacity (×10): a scale-out cannot be placed for want of memory until an instance joins.

use super::*;

fn reservation(name: &str) -> MetricId {
    MetricId::new(cat::ECS, name, &[("ClusterName", CLUSTER)], Stat::Average)
}

const PLACE: &str = "(service web) was unable to place a task because no container instance met all of its requirements. The closest matching (container-instance ";

#[test]
fn the_cluster_starts_80_percent_reserved() {
    let src = demo("capacity");
    at(&src, 6.0);
    let memory = latest(&src, &reservation("MemoryReservation"));
    assert!((79.0..81.0).contains(&memory), "{memory}");
    let cpu = latest(&src, &reservation("CPUReservation"));
    assert!((38.0..43.0).contains(&cpu), "{cpu}");
    let mut free: Vec<u32> = instances(&src).iter().map(|i| i.memory_remaining).collect();
    free.sort();
    assert_eq!(free, [512, 2560]);
}

#[test]
fn the_scale_out_leaves_one_task_unplaced_for_want_of_memory() {
    let src = demo("capacity");
    at(&src, 20.0);
    let svc = web(&src);
    assert_eq!((svc.desired, svc.running, svc.pending), (4, 3, 0));
    let event = events_since(&src, 5.0)
        .into_iter()
        .find(|e| e.starts_with(PLACE))
        .expect("a placement event");
    assert!(
        event.contains(") has insufficient memory available."),
        "{event}"
    );
    // No task object stands for the missing one.
    assert!(live(&src).iter().all(|t| t.last_status == "RUNNING"));
    let remaining: Vec<u32> = instances(&src).iter().map(|i| i.memory_remaining).collect();
    assert!(remaining.iter().all(|r| *r < 2048), "{remaining:?}");
    assert_eq!(remaining.iter().max(), Some(&512));
    at(&src, 30.0);
    let memory = latest(&src, &reservation("MemoryReservation"));
    assert!((92.0..95.0).contains(&memory), "{memory}");

    // Ten minutes later: still short, still ≥ 90 % reserved, the event repeated.
    at(&src, 90.0);
    let held = values(&window(&src, &reservation("MemoryReservation"), 25.0, 90.0));
    assert!(
        held.len() >= 6 && held.iter().all(|v| *v >= 90.0),
        "{held:?}"
    );
    let svc = web(&src);
    assert_eq!((svc.running, svc.pending), (3, 0));
    let repeats = events_since(&src, 5.0)
        .iter()
        .filter(|e| e.starts_with(PLACE))
        .count();
    assert!(repeats >= 2, "{repeats}");
}

#[test]
fn a_new_instance_takes_the_missing_task() {
    let src = demo("capacity");
    at(&src, 139.0);
    assert_eq!(instances(&src).len(), 2);
    assert_eq!(web(&src).running, 3);
    at(&src, 150.0);
    let all = instances(&src);
    assert_eq!(all.len(), 3);
    let joined = all.iter().max_by_key(|i| i.registered_at).unwrap();
    assert!(joined.agent_connected && joined.status == "ACTIVE");
    assert_eq!(joined.running_tasks, 1);
    assert!(
        events_since(&src, 139.0)
            .iter()
            .any(|e| e.starts_with("(service web) has started 1 tasks: (task "))
    );
    at(&src, 175.0);
    assert_recovered(&src);
    assert!(
        events_since(&src, 139.0)
            .iter()
            .any(|e| e == "(service web) has reached a steady state.")
    );
    assert!(
        !events_since(&src, 141.0)
            .iter()
            .any(|e| e.starts_with(PLACE))
    );
}

#[test]
fn scaling_down_to_what_fits_clears_it() {
    let src = demo("capacity");
    at(&src, 30.0);
    apply(
        &src,
        Operation::Scale {
            cluster: CLUSTER.into(),
            service: "web".into(),
            service_arn: service_arn("web"),
            from: 4,
            to: 3,
        },
    );
    at(&src, 40.0);
    let svc = web(&src);
    assert_eq!((svc.desired, svc.running, svc.pending), (3, 3, 0));
    assert!(
        events_since(&src, 30.0)
            .iter()
            .any(|e| e == "(service web) has reached a steady state.")
    );
    at(&src, 135.0);
    assert!(
        !events_since(&src, 30.0)
            .iter()
            .any(|e| e.starts_with(PLACE))
    );
    assert_eq!(web(&src).running, 3);
}
