//! Rows before details against moto (through the real SDK, behind the front that pages and
//! enforces the batch limits): a cluster of 2,000 services shows its rows once the
//! `ListServices` pages are in, describes the rows on screen first, and loads them all with
//! the fewest calls AWS's limits allow (20 pages, 200 `DescribeServices` of 10); a cluster of
//! 10,000 tasks does the same in its tasks pane (100 `ListTasks` pages, 100 `DescribeTasks` of
//! 100).

mod support;

use std::sync::Arc;

use ecsmon::action::{Action, Effect};
use ecsmon::model::{Query, TaskScope};
use ecsmon::poll::describe::{IN_FLIGHT, SERVICES_BATCH as BATCH, TASKS_BATCH};
use ecsmon::source::FleetSource;
use ecsmon::source::aws::{AwsSettings, AwsSource};
use ecsmon::state::{Pane, View};
use ecsmon::testkit::Harness;
use support::{Moto, sdk_config, seed};

const SERVICES: usize = 2_000;

fn step(h: &mut Harness, action: Action) -> Vec<Effect> {
    ecsmon::update::update(&mut h.state, action, &h.keymap)
}

/// Answers one effect through the runtime's own `call`, on this test's runtime.
fn answer(h: &Harness, effect: Effect) -> Action {
    let now = h.state.now;
    let Ok(pending) = ecsmon::app::call(effect, Arc::clone(&h.source), Arc::new(move || now))
    else {
        panic!("not a call");
    };
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(pending.answer))
}

/// An AWS source on moto, and the settings it was made with.
fn aws_source(moto: &Moto, config: &aws_config::SdkConfig) -> (Arc<dyn FleetSource>, AwsSettings) {
    let settings = AwsSettings {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.endpoint.clone()),
    };
    let source = AwsSource::from_config(config, settings.clone()).expect("region set");
    (Arc::new(source), settings)
}

/// The focused pane's first poll, answered: `Action::Listed` for a big pane.
fn first_listing(h: &mut Harness, query: &Query, polled: &str) -> Action {
    let now = h.state.now;
    let fetch = step(h, Action::Tick(now))
        .into_iter()
        .find(|e| matches!(e, Effect::Fetch { query: q, .. } if q == query))
        .expect(polled);
    answer(h, fetch)
}

/// The ARNs these describes ask for, in order.
fn asked<'a>(effects: impl IntoIterator<Item = &'a Effect>) -> Vec<String> {
    effects
        .into_iter()
        .flat_map(|e| match e {
            Effect::Describe { arns, .. } => arns.clone(),
            _ => Vec::new(),
        })
        .collect()
}

fn describes(effects: Vec<Effect>) -> Vec<Effect> {
    effects
        .into_iter()
        .filter(|e| matches!(e, Effect::Describe { .. }))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_thousand_services_show_after_the_list_pages_and_load_at_the_floor() {
    let moto = Moto::shared();
    let config = sdk_config(&moto.endpoint).await;
    seed::seed_services(&config, "huge", SERVICES).await;

    let (source, settings) = aws_source(moto, &config);
    let mut h = Harness::with_source(source, Some(settings), 160, 40);
    h.state.nav.push(View::new(Pane::Services {
        cluster: "huge".into(),
    }));
    let query = Query::Services {
        cluster: "huge".into(),
    };
    moto.reset_stats().await;

    // The poll goes out and answers with the rows alone: every ListServices page, no describe.
    let listed = first_listing(&mut h, &query, "the services pane is polled");
    let Action::Listed { ref arns, .. } = listed else {
        panic!("{listed:?}");
    };
    assert_eq!(arns.len(), SERVICES);
    assert_eq!(moto.calls("ecs:ListServices").await, 20, "pages of 100");
    assert_eq!(moto.calls("ecs:DescribeServices").await, 0);

    // Answered in the order asked, as the runtime's tasks roughly are.
    let mut queue: std::collections::VecDeque<Effect> = describes(step(&mut h, listed)).into();
    assert_eq!(
        h.state.fleet.slot(&query).unwrap().loading(),
        Some((SERVICES, 0))
    );
    let frame = h.render();
    assert!(frame.contains("Services (2,000 · 0 loaded)"), "{frame}");
    assert!(frame.contains("loading"), "{frame}");

    // The first describes are the rows on screen, top first.
    assert_eq!(queue.len(), IN_FLIGHT);
    let view = h.state.focused();
    let height = ecsmon::screen::layout::list_rows(&h.state);
    let rows = h.state.fleet.services(&query);
    let visible: Vec<String> = view.rows[..height]
        .iter()
        .map(|&i| rows[i].arn.clone())
        .collect();
    let first = asked(&queue);
    let n = first.len().min(visible.len());
    assert_eq!(first[..n], visible[..n]);

    // The first screen is filled by the first batches, long before the last.
    let mut answered = 0;
    while let Some(effect) = queue.pop_front() {
        let described = answer(&h, effect);
        queue.extend(describes(step(&mut h, described)));
        answered += 1;
        if answered == visible.len().div_ceil(BATCH) {
            let frame = h.render();
            let shown: Vec<&str> = frame.lines().filter(|l| l.contains("svc-")).collect();
            assert!(
                shown.iter().all(|l| !l.contains("loading")),
                "the screen is described: {frame}"
            );
        }
    }

    // All loaded, at the floor: 2,000 / 10 describes, each within the batch limit (the front
    // refuses more than 10).
    assert_eq!(h.state.fleet.slot(&query).unwrap().loading(), None);
    assert_eq!(
        moto.calls("ecs:DescribeServices").await,
        (SERVICES / BATCH) as u64
    );
    assert_eq!(moto.calls("ecs:ListServices").await, 20);
    let services = h.state.fleet.services(&query);
    assert!(services.iter().all(|s| s.status == "ACTIVE" && !s.loading));
    assert!(h.render().contains("Services (2,000)"));
}

/// The headless commands take the same path: their picture is complete only once every listed
/// row has its details (the rules never read a row still loading).
#[tokio::test(flavor = "multi_thread")]
async fn the_headless_picture_waits_for_every_row_s_details() {
    let moto = Moto::start();
    let config = sdk_config(&moto.endpoint).await;
    seed::seed_services(&config, "wide", 230).await;
    let (source, settings) = aws_source(&moto, &config);
    let config = ecsmon::config::Config::defaults();
    let mut state =
        ecsmon::state::State::new(Default::default(), source.now(), config.refresh, (160, 40));
    state.aws = Some(settings);
    let mut engine =
        ecsmon::headless::Engine::new(state, ecsmon::keymap::KeyMap::defaults(), source);
    match ecsmon::headless::gather::gather(&mut engine).await {
        Ok(()) => {}
        Err(ecsmon::launch::LaunchError::Usage(why)) => panic!("no complete picture: {why}"),
        Err(ecsmon::launch::LaunchError::Runtime(why)) => panic!("no complete picture: {why}"),
    }
    let query = Query::Services {
        cluster: "wide".into(),
    };
    let slot = engine.state.fleet.slot(&query).expect("services polled");
    assert_eq!(slot.loading(), None, "every row described");
    assert_eq!(engine.state.fleet.services(&query).len(), 230);
    assert_eq!(engine.state.fleet.all_services().len(), 230);
    assert_eq!(
        moto.calls("ecs:DescribeServices").await,
        23,
        "each row once"
    );
}

const TASKS: usize = 10_000;

/// The tasks pane of a cluster of 10,000 tasks (of 2,000 services' groups): its rows once the
/// `ListTasks` pages are in, the rows on screen described first, every row at the floor.
#[tokio::test(flavor = "multi_thread")]
async fn ten_thousand_tasks_show_after_the_list_pages_and_load_at_the_floor() {
    // A server of its own: the call counts are this test's alone.
    let moto = Moto::start();
    let config = sdk_config(&moto.endpoint).await;
    seed::seed_tasks(&config, &moto, "huge", SERVICES, TASKS).await;

    let (source, settings) = aws_source(&moto, &config);
    let mut h = Harness::with_source(source, Some(settings), 160, 40);
    let scope = TaskScope::Cluster {
        cluster: "huge".into(),
    };
    h.state.nav.push(View::new(Pane::Tasks {
        scope: scope.clone(),
        stopped: false,
    }));
    let query = Query::Tasks {
        scope,
        stopped: false,
    };
    moto.reset_stats().await;

    // The poll answers with the rows alone: every ListTasks page, no describe.
    let listed = first_listing(&mut h, &query, "the tasks pane is polled");
    let Action::Listed { ref arns, .. } = listed else {
        panic!("{listed:?}");
    };
    assert_eq!(arns.len(), TASKS);
    assert_eq!(moto.calls("ecs:ListTasks").await, 100, "pages of 100");
    assert_eq!(moto.calls("ecs:DescribeTasks").await, 0);

    let mut queue: std::collections::VecDeque<Effect> = describes(step(&mut h, listed)).into();
    assert_eq!(
        h.state.fleet.slot(&query).unwrap().loading(),
        Some((TASKS, 0))
    );
    let frame = h.render();
    assert!(frame.contains("Tasks (10,000 · 0 loaded)"), "{frame}");
    assert!(frame.contains("loading"), "{frame}");

    // The first describes are the rows on screen, top first.
    assert_eq!(queue.len(), IN_FLIGHT);
    let view = h.state.focused();
    let height = ecsmon::screen::layout::list_rows(&h.state);
    let rows = h.state.fleet.tasks(&query);
    let visible: Vec<String> = view.rows[..height]
        .iter()
        .map(|&i| rows[i].arn.to_string())
        .collect();
    let first = asked(&queue);
    assert_eq!(first[..visible.len()], visible[..]);

    // The first batch fills the screen, long before the last.
    let mut answered = 0;
    while let Some(effect) = queue.pop_front() {
        let described = answer(&h, effect);
        queue.extend(describes(step(&mut h, described)));
        answered += 1;
        if answered == visible.len().div_ceil(TASKS_BATCH) {
            let frame = h.render();
            let body: Vec<&str> = frame
                .lines()
                .skip_while(|l| !l.contains("Tasks ("))
                .collect();
            assert!(
                body.iter()
                    .skip(2)
                    .take(height)
                    .all(|l| !l.contains("loading")),
                "the screen is described: {frame}"
            );
            assert!(frame.contains("Tasks (10,000 · 100 loaded)"), "{frame}");
        }
    }

    // All loaded, at the floor: 10,000 / 100 describes, each within the batch limit (the front
    // refuses more than 100), and nothing else.
    assert_eq!(h.state.fleet.slot(&query).unwrap().loading(), None);
    assert_eq!(
        moto.calls("ecs:DescribeTasks").await,
        (TASKS / TASKS_BATCH) as u64
    );
    assert_eq!(moto.calls("ecs:ListTasks").await, 100);
    let tasks = h.state.fleet.tasks(&query);
    assert!(
        tasks
            .iter()
            .all(|t| t.last_status == "RUNNING" && !t.loading)
    );
    assert_eq!(h.state.fleet.all_tasks().0.len(), TASKS);
    assert!(h.render().contains("Tasks (10,000)"));
}

/// A container instance pane past a page (150 hosts) shows its rows once the
/// `ListContainerInstances` pages are in and fills them by `DescribeContainerInstances` of 100
/// (EC2's facts joined per batch); a task pane of one page (60 tasks) is answered whole, in the
/// two calls it always took.
#[tokio::test(flavor = "multi_thread")]
async fn a_big_instance_pane_lists_first_and_a_small_task_pane_is_answered_whole() {
    use ecsmon::model::Snapshot;
    use ecsmon::poll::describe::INSTANCES_BATCH;
    use ecsmon::source::Rows;

    let moto = Moto::start();
    let config = sdk_config(&moto.endpoint).await;
    seed(&config, &support::FleetSpec::new("hosts", 3, 20, 150)).await;
    let (source, settings) = aws_source(&moto, &config);

    // Small: one page, one describe, answered whole as before.
    let tasks = Query::Tasks {
        scope: TaskScope::Cluster {
            cluster: "hosts".into(),
        },
        stopped: false,
    };
    source.fetch(&tasks).await.unwrap(); // the hosts behind the tasks, known as a console knows them
    moto.reset_stats().await;
    match source.rows(&tasks).await.unwrap() {
        Rows::Whole(Snapshot::Tasks(v)) => assert_eq!(v.len(), 60),
        other => panic!("a small pane is answered whole: {other:?}"),
    }
    assert_eq!(moto.calls("ecs:ListTasks").await, 1);
    assert_eq!(moto.calls("ecs:DescribeTasks").await, 1);

    // Big: the rows first, then their details, the screen first.
    let mut h = Harness::with_source(source, Some(settings), 160, 40);
    h.state.nav.push(View::new(Pane::Instances {
        cluster: "hosts".into(),
    }));
    let query = Query::Instances {
        cluster: "hosts".into(),
    };
    moto.reset_stats().await;
    let listed = first_listing(&mut h, &query, "the instances pane is polled");
    let Action::Listed { ref arns, .. } = listed else {
        panic!("{listed:?}");
    };
    assert_eq!(arns.len(), 150);
    assert_eq!(moto.calls("ecs:ListContainerInstances").await, 2);
    assert_eq!(moto.calls("ecs:DescribeContainerInstances").await, 0);
    let mut queue: std::collections::VecDeque<Effect> = describes(step(&mut h, listed)).into();
    let frame = h.render();
    assert!(frame.contains("Instances (150 · 0 loaded)"), "{frame}");
    assert!(
        queue
            .iter()
            .all(|e| matches!(e, Effect::Describe { arns, .. } if arns.len() <= INSTANCES_BATCH))
    );
    while let Some(effect) = queue.pop_front() {
        let described = answer(&h, effect);
        queue.extend(describes(step(&mut h, described)));
    }
    assert_eq!(h.state.fleet.slot(&query).unwrap().loading(), None);
    assert_eq!(moto.calls("ecs:DescribeContainerInstances").await, 2);
    let instances = h.state.fleet.instances(&query);
    assert_eq!(instances.len(), 150);
    assert!(
        instances
            .iter()
            .all(|i| i.ec2_instance_id.starts_with("i-") && i.status == "ACTIVE")
    );
    assert_eq!(h.state.fleet.all_instances().len(), 150);
    assert!(h.render().contains("Instances (150)"));
}
