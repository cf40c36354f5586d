//! post-deploy-leak (×120): web:16 was flat for a week; web:17 leaks from the moment it ships
//! until its tasks are OOM-killed; a bigger limit only buys time; the hotfix ends it.

use super::*;

fn of_revision(tasks: Vec<Task>, revision: u32) -> Vec<Task> {
    tasks
        .into_iter()
        .filter(|t| t.task_definition.revision == revision)
        .collect()
}

fn memory(src: &DemoSource) -> Vec<f64> {
    live(src)
        .iter()
        .filter(|t| t.desired_status == "RUNNING")
        .map(|t| latest(src, &cat::task_memory(t)))
        .collect()
}

#[test]
fn the_old_revision_was_flat_and_the_new_one_climbs_from_its_deployment() {
    let src = demo("post-deploy-leak");
    let old = live(&src);
    assert_eq!(old.len(), 3);
    at(&src, 2.0);
    let svc = web(&src);
    assert_eq!(svc.deployments.len(), 1, "{:?}", svc.deployments);
    assert_eq!(
        (
            svc.task_definition.revision,
            svc.deployments[0].rollout_state.as_str()
        ),
        (17, "COMPLETED")
    );
    // The six hours before the deployment: web:16 near 300 MiB, flat.
    for t in &old {
        let before = values(&window(&src, &cat::task_memory(t), -180.0, 0.0));
        assert!(before.len() >= 300, "{}", before.len());
        assert!(
            before.iter().all(|m| (270.0..330.0).contains(m)),
            "{before:?}"
        );
    }
    at(&src, 30.0);
    let now = memory(&src);
    assert!(now.iter().all(|m| (330.0..370.0).contains(m)), "{now:?}");
    at(&src, 105.0);
    let high = memory(&src);
    assert!(high.iter().all(|m| (450.0..500.0).contains(m)), "{high:?}");
    assert!(
        stopped(&src)
            .iter()
            .all(|t| t.stop_code != "EssentialContainerExited")
    );
}

#[test]
fn the_tasks_are_killed_at_the_limit_without_a_word_in_the_logs() {
    let src = demo("post-deploy-leak");
    at(&src, 140.0);
    let killed: Vec<Task> = of_revision(stopped(&src), 17)
        .into_iter()
        .filter(|t| t.stop_code == "EssentialContainerExited")
        .collect();
    assert_eq!(killed.len(), 3, "{killed:?}");
    for t in &killed {
        assert_eq!(t.containers[0].exit_code, Some(137));
        assert_eq!(
            t.containers[0].reason,
            "OutOfMemoryError: Container killed due to memory usage"
        );
        let at = src.replay_secs_at(t.stopping_at.unwrap()).unwrap();
        assert!((115.0..140.0).contains(&at), "{at}");
        // The leak is outside the heap: no GC pressure, no Java error, no goodbye.
        let lines = log_lines(&src, t, at - 10.0, at + 1.0);
        assert!(!lines.is_empty());
        assert!(
            lines.iter().all(|(_, l)| !l.contains("OutOfMemoryError")
                && !l.contains("Pause Full")
                && !l.contains("Graceful shutdown")),
            "{lines:?}"
        );
    }
    // Replacements start near 300 MiB again.
    at(&src, 142.0);
    assert!(
        memory(&src).iter().all(|m| *m < 340.0),
        "{:?}",
        memory(&src)
    );
}

#[test]
fn a_bigger_limit_buys_time_and_the_hotfix_ends_it() {
    let src = demo("post-deploy-leak");
    at(&src, 160.0);
    let svc = web(&src);
    assert_eq!(svc.task_definition.revision, 18);
    assert!(live(&src).iter().all(|t| t.memory == Some(700)));
    // Still climbing: past 60 % of the new limit about 2.4 hours on.
    at(&src, 230.0);
    let share: Vec<f64> = memory(&src).iter().map(|m| m / 700.0).collect();
    assert!(share.iter().all(|s| *s > 0.6), "{share:?}");
    at(&src, 290.0);
    assert_eq!(web(&src).task_definition.revision, 19);
    assert_recovered(&src);
    for t in live(&src) {
        let points = values(&window(&src, &cat::task_memory(&t), 280.0, 290.0));
        let (lo, hi) = points
            .iter()
            .fold((f64::MAX, 0.0_f64), |(l, h), v| (l.min(*v), h.max(*v)));
        assert!(hi - lo < 20.0 && (250.0..310.0).contains(&hi), "{points:?}");
    }
}

#[test]
fn rolling_back_to_the_old_revision_stops_the_climb() {
    let src = demo("post-deploy-leak");
    at(&src, 60.0);
    let said = apply(
        &src,
        Operation::Rollback {
            cluster: CLUSTER.into(),
            service: "web".into(),
            service_arn: service_arn("web"),
            family: "web".into(),
            from: 17,
            to: 16,
            task_definition_arn: "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:16".into(),
        },
    );
    assert!(said.contains("16"), "{said}");
    at(&src, 140.0);
    assert_eq!(web(&src).task_definition.revision, 16);
    assert!(
        memory(&src).iter().all(|m| *m < 330.0),
        "{:?}",
        memory(&src)
    );
    assert!(
        stopped(&src)
            .iter()
            .all(|t| t.stop_code != "EssentialContainerExited")
    );
}
