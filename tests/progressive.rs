//! Rows before details, the visible rows first, and refreshing what changed, through the real
//! update path with a source that answers lists and describes separately (as the AWS source
//! does for services). The test plays the runtime: it answers the effects it chooses, when it
//! chooses, so the frames between the list and the last describe can be looked at.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use ecsmon::action::{Action, Effect};
use ecsmon::model::{
    Cluster, Identity, Instance, Query, Service, Snapshot, Task, TaskDefinition, TaskScope, Time,
};
use ecsmon::poll::describe::{IN_FLIGHT, SERVICES_BATCH as BATCH};
use ecsmon::source::{ErrorKind, FleetSource, Rows, SourceError};
use ecsmon::state::{Pane, View};
use ecsmon::testkit::{Harness, parse_keys};

const CLUSTER: &str = "big";

fn arn(i: usize) -> String {
    format!("arn:aws:ecs:eu-west-1:123456789012:service/{CLUSTER}/svc-{i:04}")
}

/// One cluster of `n` services, every one running 2 of 2 but `svc-0007` and `svc-1500`,
/// which run none —
/// or, while `fail`, whose describes all fail (its rows never get their details).
struct BigCluster {
    n: usize,
    fail: AtomicBool,
    /// Every describe asked for, in order.
    describes: Mutex<Vec<Vec<String>>>,
    /// Clusters listed (none at first: the engine then polls no cluster of its own).
    clusters: Mutex<Vec<Cluster>>,
}

impl BigCluster {
    fn new(n: usize, fail: bool) -> Arc<Self> {
        Arc::new(BigCluster {
            n,
            fail: AtomicBool::new(fail),
            describes: Mutex::default(),
            clusters: Mutex::default(),
        })
    }

    fn service(i: usize) -> Service {
        Service {
            arn: arn(i),
            name: format!("svc-{i:04}"),
            cluster_arn: format!("arn:aws:ecs:eu-west-1:123456789012:cluster/{CLUSTER}"),
            status: "ACTIVE".into(),
            desired: 2,
            running: if i == 7 || i == 1_500 { 0 } else { 2 },
            launch_type: "FARGATE".into(),
            ..Service::default()
        }
    }
}

#[async_trait]
impl FleetSource for BigCluster {
    async fn identity(&self) -> Result<Identity, SourceError> {
        Ok(Identity::default())
    }
    async fn clusters(&self) -> Result<Vec<Cluster>, SourceError> {
        Ok(self.clusters.lock().unwrap().clone())
    }
    async fn services(&self, _cluster: &str) -> Result<Vec<Service>, SourceError> {
        Ok((0..self.n).map(BigCluster::service).collect())
    }
    async fn tasks(&self, _: &TaskScope, _: bool) -> Result<Vec<Task>, SourceError> {
        Ok(Vec::new())
    }
    async fn task(&self, _: &str, _: &str) -> Result<Option<Task>, SourceError> {
        Ok(None)
    }
    async fn instances(&self, _: &str) -> Result<Vec<Instance>, SourceError> {
        Ok(Vec::new())
    }
    async fn task_definition(&self, _: &str) -> Result<Arc<TaskDefinition>, SourceError> {
        Ok(Arc::default())
    }
    async fn rows(&self, query: &Query) -> Result<Rows, SourceError> {
        match query {
            Query::Services { .. } => Ok(Rows::Listed((0..self.n).map(arn).collect())),
            _ => Ok(Rows::Whole(self.fetch(query).await?)),
        }
    }
    async fn describe(&self, _query: &Query, arns: &[String]) -> Result<Snapshot, SourceError> {
        assert!(arns.len() <= BATCH, "DescribeServices takes 10 at most");
        self.describes.lock().unwrap().push(arns.to_vec());
        if self.fail.load(Ordering::SeqCst) {
            return Err(SourceError::new(ErrorKind::Network, "connection reset"));
        }
        Ok(Snapshot::Services(
            arns.iter()
                .map(|a| {
                    let i: usize = a.rsplit('-').next().unwrap().parse().unwrap();
                    BigCluster::service(i)
                })
                .collect(),
        ))
    }
}

fn services() -> Query {
    Query::Services {
        cluster: CLUSTER.into(),
    }
}

/// A console on the services pane of the big cluster, nothing fetched yet.
fn console(source: Arc<BigCluster>) -> Harness {
    let mut h = Harness::with_source(source, None, 160, 40);
    h.state.nav.push(View::new(Pane::Services {
        cluster: CLUSTER.into(),
    }));
    h
}

/// Sends an action through update, returning what it asks for (unanswered).
fn step(h: &mut Harness, action: Action) -> Vec<Effect> {
    ecsmon::update::update(&mut h.state, action, &h.keymap)
}

/// Answers one effect as the runtime would, at the console's clock.
fn answer(h: &Harness, effect: Effect) -> Action {
    let now = h.state.now;
    let Ok(pending) = ecsmon::app::call(effect, Arc::clone(&h.source), Arc::new(move || now))
    else {
        panic!("not a call");
    };
    futures::executor::block_on(pending.answer)
}

fn describes(effects: &[Effect]) -> Vec<Effect> {
    effects
        .iter()
        .filter(|e| matches!(e, Effect::Describe { .. }))
        .cloned()
        .collect()
}

fn described_arns(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .flat_map(|e| match e {
            Effect::Describe { arns, .. } => arns.clone(),
            _ => Vec::new(),
        })
        .collect()
}

/// The services poll goes out; its list answer is applied. Returns the describes it asked for.
fn list(h: &mut Harness) -> Vec<Effect> {
    let now = h.state.now;
    let effects = step(h, Action::Tick(now));
    // Rows already listed may fall due with the clock, before the list answers.
    let mut asked = describes(&effects);
    let fetch = effects
        .into_iter()
        .find(|e| matches!(e, Effect::Fetch { query, .. } if *query == services()))
        .expect("the services pane is polled");
    let listed = answer(h, fetch);
    assert!(matches!(listed, Action::Listed { .. }), "{listed:?}");
    asked.extend(describes(&step(h, listed)));
    asked
}

/// The rows the focused view shows now (indices into its items), as ARNs.
fn on_screen(h: &Harness) -> Vec<String> {
    let view = h.state.focused();
    let height = ecsmon::screen::layout::list_rows(&h.state);
    let rows = h.state.fleet.services(&services());
    view.rows[view.offset..(view.offset + height).min(view.rows.len())]
        .iter()
        .map(|&i| rows[i].arn.clone())
        .collect()
}

fn title_line(h: &Harness) -> String {
    h.render()
        .lines()
        .find(|l| l.contains("Services ("))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn rows_show_as_soon_as_the_list_answers_and_fill_in_batch_by_batch() {
    let source = BigCluster::new(2_000, false);
    let mut h = console(Arc::clone(&source));
    let first = list(&mut h);

    // Every row is there before any describe has answered, marked as loading.
    assert_eq!(h.state.fleet.services(&services()).len(), 2_000);
    assert!(
        title_line(&h).contains("Services (2,000 · 0 loaded)"),
        "{}",
        h.render()
    );
    let frame = h.render();
    assert!(
        frame.contains("svc-0000") && frame.contains("loading"),
        "{frame}"
    );
    // A few batches at a time, ten services each, never all 200 at once.
    assert_eq!(first.len(), IN_FLIGHT);
    assert!(
        first
            .iter()
            .all(|e| matches!(e, Effect::Describe { arns, .. } if arns.len() == BATCH))
    );

    // Answering one batch fills its rows and asks for one more.
    let mut more = Vec::new();
    for effect in first {
        let described = answer(&h, effect);
        more.extend(describes(&step(&mut h, described)));
    }
    assert!(
        title_line(&h).contains("Services (2,000 · 40 loaded)"),
        "{}",
        title_line(&h)
    );
    assert_eq!(more.len(), IN_FLIGHT, "the next batches go as these answer");
    let frame = h.render();
    let row = frame.lines().find(|l| l.contains("svc-0000")).unwrap();
    assert!(row.contains("ACTIVE") && !row.contains("loading"), "{row}");

    // Everything loads, with the floor of calls: 2,000 / 10 describes.
    let mut queue = more;
    while let Some(effect) = queue.pop() {
        let described = answer(&h, effect);
        queue.extend(describes(&step(&mut h, described)));
    }
    assert_eq!(source.describes.lock().unwrap().len(), 2_000 / BATCH);
    assert_eq!(
        h.state.fleet.slot(&services()).unwrap().loading(),
        None,
        "all loaded"
    );
    assert!(
        title_line(&h).contains("Services (2,000)"),
        "{}",
        title_line(&h)
    );
}

#[test]
fn the_rows_on_screen_are_described_first_and_scrolling_brings_the_new_ones_forward() {
    let source = BigCluster::new(2_000, false);
    let mut h = console(Arc::clone(&source));
    let first = list(&mut h);
    let visible = on_screen(&h);
    let asked = described_arns(&first);
    assert!(visible.len() >= 20, "a screenful: {}", visible.len());
    assert_eq!(
        &asked[..visible.len().min(asked.len())],
        &visible[..visible.len().min(asked.len())],
        "the first describes are the rows on screen, in order"
    );

    // Jump to the end while the first batches are under way: the next describes are the
    // rows now on screen, not the next ones of the list.
    let mut effects = Vec::new();
    for key in parse_keys("G") {
        effects.extend(step(&mut h, Action::Key(key)));
    }
    let now_visible = on_screen(&h);
    assert!(now_visible.contains(&arn(1_999)), "at the end");
    for effect in first {
        let described = answer(&h, effect);
        effects.extend(describes(&step(&mut h, described)));
    }
    let next = described_arns(&effects);
    assert!(next.len() >= now_visible.len());
    assert!(
        next[..now_visible.len()]
            .iter()
            .all(|a| now_visible.contains(a)),
        "after scrolling, the rows on screen go first: {next:?}"
    );
}

#[test]
fn later_refreshes_of_a_large_pane_redescribe_the_screen_and_sweep_the_rest_slowly() {
    let source = BigCluster::new(2_000, false);
    let mut h = console(Arc::clone(&source));
    let mut queue = list(&mut h);
    while let Some(effect) = queue.pop() {
        let described = answer(&h, effect);
        queue.extend(describes(&step(&mut h, described)));
    }
    let loaded = source.describes.lock().unwrap().len();
    assert_eq!(loaded, 200);

    // One pane cycle later: the list again, and only the rows on screen (and a page below)
    // described again — not all 200 batches.
    let cadence = h.state.refresh.focused;
    h.state.now += chrono::TimeDelta::from_std(cadence).unwrap();
    let mut queue = list(&mut h);
    while let Some(effect) = queue.pop() {
        let described = answer(&h, effect);
        queue.extend(describes(&step(&mut h, described)));
    }
    let again: Vec<String> = source.describes.lock().unwrap()[loaded..].concat();
    let height = ecsmon::screen::layout::list_rows(&h.state);
    assert!(!again.is_empty(), "the screen is described again");
    assert!(
        again.len() <= (2 * height).div_ceil(BATCH) * BATCH,
        "{} rows described again for a screen of {height}",
        again.len()
    );
    assert!(again.contains(&arn(0)));
    assert!(
        again.contains(&arn(1_500)),
        "off screen but not steady: watched"
    );
    assert!(!again.contains(&arn(1_999)), "off screen: swept later");

    // After the sweep's period every row has been described again.
    let sweep = ecsmon::poll::describe::sweep(cadence);
    h.state.now += chrono::TimeDelta::from_std(sweep).unwrap();
    let before = source.describes.lock().unwrap().len();
    let mut queue = list(&mut h);
    while let Some(effect) = queue.pop() {
        let described = answer(&h, effect);
        queue.extend(describes(&step(&mut h, described)));
    }
    let swept: Vec<String> = source.describes.lock().unwrap()[before..].concat();
    assert_eq!(swept.len(), 2_000, "the sweep covers every row once");
}

#[test]
fn rows_still_loading_never_reach_the_rules() {
    // Describes fail: every row stays loading — counts unknown, not zero running.
    let source = BigCluster::new(300, true);
    // Listed, so the cluster is not taken for deleted, and the engine polls it too.
    source.clusters.lock().unwrap().push(Cluster {
        arn: format!("arn:aws:ecs:eu-west-1:123456789012:cluster/{CLUSTER}"),
        name: CLUSTER.into(),
        status: "ACTIVE".into(),
        active_services: 300,
        ..Cluster::default()
    });
    let mut h = console(Arc::clone(&source));
    let first = list(&mut h);
    for effect in first {
        let failed = answer(&h, effect);
        step(&mut h, failed);
    }
    let slot = h.state.fleet.slot(&services()).unwrap();
    assert_eq!(slot.loading(), Some((300, 0)));
    assert!(slot.is_stale(), "the failure shows on the pane");
    let retry = slot.progress.as_ref().unwrap().retry_at.unwrap();
    assert!(retry > h.state.now, "failed describes back off");

    // The rules see none of the loading rows, and nothing fires on them however long they
    // stay loading.
    assert!(h.state.fleet.all_services().is_empty());
    for _ in 0..5 {
        h.advance(30);
    }
    assert!(h.state.triage.evaluations > 0, "the engine ran");
    let findings: Vec<String> = h
        .state
        .triage
        .all()
        .map(|f| format!("{} {}", f.current.rule, f.current.subject.label()))
        .collect();
    assert!(findings.is_empty(), "{findings:?}");
    let frame = h.render();
    assert!(frame.contains("Services (300 · 0 loaded)"), "{frame}");

    // The other way: once the details come, the service that really runs none is found.
    source.fail.store(false, Ordering::SeqCst);
    for _ in 0..14 {
        h.advance(30);
    }
    assert_eq!(h.state.fleet.slot(&services()).unwrap().loading(), None);
    let findings: Vec<String> = h
        .state
        .triage
        .active()
        .iter()
        .map(|f| format!("{} {}", f.current.rule, f.current.subject.label()))
        .collect();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert!(
        findings[0].starts_with("service-under-replicated"),
        "{findings:?}"
    );
    assert!(findings[0].contains("svc-0007"), "{findings:?}");
}

#[test]
fn a_whole_answer_source_keeps_whole_answers() {
    // The demo answers whole: no describes, no loading rows.
    let mut h = Harness::new("default", 140, 36);
    h.press("/prod<enter><enter>");
    assert!(
        !h.effects
            .iter()
            .any(|e| matches!(e, Effect::Describe { .. }))
    );
    let query = h.state.focused().pane.query();
    let slot = h.state.fleet.slot(&query).unwrap();
    assert!(slot.progress.is_none() && slot.loading().is_none());
    let _: Option<Time> = slot.fetched_at;
}

#[test]
fn a_row_older_than_its_cadence_says_how_old_until_it_is_described_again() {
    let source = BigCluster::new(2_000, false);
    let mut h = console(Arc::clone(&source));
    let mut queue = list(&mut h);
    while let Some(effect) = queue.pop() {
        let described = answer(&h, effect);
        queue.extend(describes(&step(&mut h, described)));
    }
    // A minute and a half later the operator jumps to the end: those rows were last described
    // by the first load, and say so until their describe (asked for at once) answers.
    h.state.now += chrono::TimeDelta::seconds(90);
    let mut asked = Vec::new();
    for key in parse_keys("G") {
        asked.extend(describes(&step(&mut h, Action::Key(key))));
    }
    let frame = h.render();
    let last = frame.lines().find(|l| l.contains("svc-1999")).unwrap();
    assert!(last.contains("ACTIVE · 1m30s"), "{last}");
    assert!(
        described_arns(&asked).contains(&arn(1_999)),
        "the rows now on screen are asked for"
    );
    for effect in asked {
        let described = answer(&h, effect);
        step(&mut h, described);
    }
    let frame = h.render();
    let last = frame.lines().find(|l| l.contains("svc-1999")).unwrap();
    assert!(
        last.contains("ACTIVE") && !last.contains("ACTIVE ·"),
        "{last}"
    );
}

#[test]
fn r_describes_the_rows_on_screen_again_at_once() {
    let source = BigCluster::new(2_000, false);
    let mut h = console(Arc::clone(&source));
    let mut queue = list(&mut h);
    while let Some(effect) = queue.pop() {
        let described = answer(&h, effect);
        queue.extend(describes(&step(&mut h, described)));
    }
    // A second later, well inside the pane's cadence, the operator asks for fresh data.
    h.state.now += chrono::TimeDelta::seconds(1);
    let mut effects = Vec::new();
    for key in parse_keys("r") {
        effects.extend(step(&mut h, Action::Key(key)));
    }
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Fetch { query, .. } if *query == services()))
    );
    let asked = described_arns(&effects);
    let visible = on_screen(&h);
    assert!(!asked.is_empty(), "the screen is described again at once");
    assert_eq!(
        asked[..visible.len()],
        visible[..],
        "the rows on screen first"
    );
    assert!(!asked.contains(&arn(1_999)), "not the rows off screen");
}

#[test]
fn a_row_still_loading_is_not_scaled_from_unknown_counts() {
    let source = BigCluster::new(2_000, false);
    let mut h = console(Arc::clone(&source));
    list(&mut h);
    assert!(h.state.fleet.services(&services())[0].loading);
    for key in parse_keys("s") {
        step(&mut h, Action::Key(key));
    }
    assert!(
        h.state.popups.is_empty(),
        "no scale dialog offering 0 as the count"
    );
    assert!(h.status().contains("still loading"), "{}", h.status());
}

// ---- Tasks and container instances: the same path, batches of 100.

use ecsmon::poll::describe::{INSTANCES_BATCH, TASKS_BATCH};

const TASKS: usize = 10_000;

fn task_arn(i: usize) -> String {
    // The id's first 8 characters (the short id tables show) are the task's number.
    format!(
        "arn:aws:ecs:eu-west-1:123456789012:task/{CLUSTER}/{i:08}{}",
        "a".repeat(24)
    )
}

fn instance_arn(i: usize) -> String {
    format!("arn:aws:ecs:eu-west-1:123456789012:container-instance/{CLUSTER}/ci{i:04}")
}

/// One cluster of `tasks` running tasks of one service and `instances` container instances,
/// listed first and described by ARN (batches of 100 at most) — or, while `fail`, whose
/// describes all fail.
struct BigTasks {
    tasks: usize,
    instances: usize,
    fail: AtomicBool,
    describes: Mutex<Vec<(Query, Vec<String>)>>,
}

impl BigTasks {
    fn new(tasks: usize, instances: usize) -> Arc<Self> {
        Arc::new(BigTasks {
            tasks,
            instances,
            fail: AtomicBool::new(false),
            describes: Mutex::default(),
        })
    }

    /// The number of an instance (`…/ci0042` → 42).
    fn number(arn: &str) -> usize {
        let id = arn.rsplit('/').next().unwrap();
        id.trim_start_matches("ci").parse().unwrap()
    }

    fn task(arn: &str, stopped: bool) -> Task {
        Task {
            arn: arn.into(),
            cluster_arn: format!("arn:aws:ecs:eu-west-1:123456789012:cluster/{CLUSTER}").into(),
            last_status: if stopped { "STOPPED" } else { "RUNNING" }.into(),
            desired_status: if stopped { "STOPPED" } else { "RUNNING" }.into(),
            health: "HEALTHY".into(),
            group: "service:web".into(),
            launch_type: "FARGATE".into(),
            ..Task::default()
        }
    }

    fn instance(arn: &str) -> Instance {
        Instance {
            arn: arn.to_string(),
            cluster_arn: format!("arn:aws:ecs:eu-west-1:123456789012:cluster/{CLUSTER}"),
            ec2_instance_id: format!("i-{:017}", BigTasks::number(arn)),
            status: "ACTIVE".into(),
            agent_connected: true,
            running_tasks: 3,
            ..Instance::default()
        }
    }
}

#[async_trait]
impl FleetSource for BigTasks {
    async fn identity(&self) -> Result<Identity, SourceError> {
        Ok(Identity::default())
    }
    async fn clusters(&self) -> Result<Vec<Cluster>, SourceError> {
        Ok(Vec::new())
    }
    async fn services(&self, _cluster: &str) -> Result<Vec<Service>, SourceError> {
        Ok(Vec::new())
    }
    async fn tasks(&self, _: &TaskScope, stopped: bool) -> Result<Vec<Task>, SourceError> {
        Ok((0..self.tasks)
            .map(|i| BigTasks::task(&task_arn(i), stopped))
            .collect())
    }
    async fn task(&self, _: &str, _: &str) -> Result<Option<Task>, SourceError> {
        Ok(None)
    }
    async fn instances(&self, _: &str) -> Result<Vec<Instance>, SourceError> {
        Ok((0..self.instances)
            .map(|i| BigTasks::instance(&instance_arn(i)))
            .collect())
    }
    async fn task_definition(&self, _: &str) -> Result<Arc<TaskDefinition>, SourceError> {
        Ok(Arc::default())
    }
    async fn rows(&self, query: &Query) -> Result<Rows, SourceError> {
        match query {
            Query::Tasks { .. } => Ok(Rows::Listed((0..self.tasks).map(task_arn).collect())),
            Query::Instances { .. } => Ok(Rows::Listed(
                (0..self.instances).map(instance_arn).collect(),
            )),
            _ => Ok(Rows::Whole(self.fetch(query).await?)),
        }
    }
    async fn describe(&self, query: &Query, arns: &[String]) -> Result<Snapshot, SourceError> {
        assert!(arns.len() <= 100, "DescribeTasks takes 100 at most");
        self.describes
            .lock()
            .unwrap()
            .push((query.clone(), arns.to_vec()));
        if self.fail.load(Ordering::SeqCst) {
            return Err(SourceError::new(ErrorKind::Network, "connection reset"));
        }
        Ok(match query {
            Query::Tasks { stopped, .. } => {
                Snapshot::Tasks(arns.iter().map(|a| BigTasks::task(a, *stopped)).collect())
            }
            _ => Snapshot::Instances(arns.iter().map(|a| BigTasks::instance(a)).collect()),
        })
    }
}

/// A console on `pane`, nothing fetched yet.
fn console_on(source: Arc<BigTasks>, pane: Pane) -> Harness {
    let mut h = Harness::with_source(source, None, 160, 40);
    h.state.nav.push(View::new(pane));
    h
}

fn cluster_tasks(stopped: bool) -> Pane {
    Pane::Tasks {
        scope: TaskScope::Cluster {
            cluster: CLUSTER.into(),
        },
        stopped,
    }
}

/// The focused pane's poll goes out; its list answer is applied. Returns the describes asked.
fn list_focused(h: &mut Harness) -> Vec<Effect> {
    let query = h.state.focused().pane.query();
    let now = h.state.now;
    let effects = step(h, Action::Tick(now));
    let mut asked = describes(&effects);
    let fetch = effects
        .into_iter()
        .find(|e| matches!(e, Effect::Fetch { query: q, .. } if *q == query))
        .expect("the focused pane is polled");
    let listed = answer(h, fetch);
    assert!(matches!(listed, Action::Listed { .. }), "{listed:?}");
    asked.extend(describes(&step(h, listed)));
    asked
}

/// The rows the focused view shows now, as ARNs (any listed kind).
fn arns_on_screen(h: &Harness) -> Vec<String> {
    let view = h.state.focused();
    let height = ecsmon::screen::layout::list_rows(&h.state);
    let query = view.pane.query();
    let arns: Vec<String> = match &view.pane {
        Pane::Instances { .. } => h
            .state
            .fleet
            .instances(&query)
            .iter()
            .map(|i| i.arn.clone())
            .collect(),
        _ => h
            .state
            .fleet
            .tasks(&query)
            .iter()
            .map(|t| t.arn.to_string())
            .collect(),
    };
    view.rows[view.offset..(view.offset + height).min(view.rows.len())]
        .iter()
        .map(|&i| arns[i].clone())
        .collect()
}

fn title_with(h: &Harness, name: &str) -> String {
    h.render()
        .lines()
        .find(|l| l.contains(&format!("{name} (")))
        .unwrap_or_default()
        .to_string()
}

/// Answers every describe asked, and the ones they lead to, in the order asked.
fn describe_all(h: &mut Harness, first: Vec<Effect>) {
    let mut queue: std::collections::VecDeque<Effect> = first.into();
    while let Some(effect) = queue.pop_front() {
        let described = answer(h, effect);
        queue.extend(describes(&step(h, described)));
    }
}

#[test]
fn ten_thousand_task_rows_show_at_once_and_fill_in_by_batches_of_100_screen_first() {
    let source = BigTasks::new(TASKS, 0);
    let mut h = console_on(Arc::clone(&source), cluster_tasks(false));
    let first = list_focused(&mut h);
    let query = h.state.focused().pane.query();

    // Every row is there before any describe answered: its short id, `loading`, `…`.
    assert_eq!(h.state.fleet.tasks(&query).len(), TASKS);
    assert_eq!(
        h.state.fleet.slot(&query).unwrap().loading(),
        Some((TASKS, 0))
    );
    let title = title_with(&h, "Tasks");
    assert!(title.contains("Tasks (10,000 · 0 loaded)"), "{title}");
    let frame = h.render();
    let row = frame.lines().find(|l| l.contains("00000000")).unwrap();
    assert!(row.contains("loading") && row.contains('…'), "{row}");

    // A few batches of 100 at a time, the rows on screen first, in order.
    assert_eq!(first.len(), IN_FLIGHT);
    assert!(
        first
            .iter()
            .all(|e| matches!(e, Effect::Describe { arns, .. } if arns.len() == TASKS_BATCH))
    );
    let visible = arns_on_screen(&h);
    let asked = described_arns(&first);
    assert!(visible.len() >= 20, "a screenful: {}", visible.len());
    assert_eq!(asked[..visible.len()], visible[..]);

    // The first answer fills the screen.
    let mut effects = first.into_iter();
    let described = answer(&h, effects.next().unwrap());
    let mut rest: Vec<Effect> = describes(&step(&mut h, described));
    rest.extend(effects);
    let title = title_with(&h, "Tasks");
    assert!(title.contains("Tasks (10,000 · 100 loaded)"), "{title}");
    let frame = h.render();
    let row = frame.lines().find(|l| l.contains("00000000")).unwrap();
    assert!(row.contains("RUNNING") && !row.contains("loading"), "{row}");

    // Everything loads at the floor: 10,000 / 100 describes, no row asked twice.
    describe_all(&mut h, rest);
    let asked: Vec<String> = source
        .describes
        .lock()
        .unwrap()
        .iter()
        .flat_map(|(_, a)| a.clone())
        .collect();
    assert_eq!(source.describes.lock().unwrap().len(), TASKS / TASKS_BATCH);
    let distinct: std::collections::HashSet<&String> = asked.iter().collect();
    assert_eq!(distinct.len(), TASKS);
    assert_eq!(h.state.fleet.slot(&query).unwrap().loading(), None);
    let title = title_with(&h, "Tasks");
    assert!(title.contains("Tasks (10,000)"), "{title}");
    assert_eq!(h.state.fleet.all_tasks().0.len(), TASKS);
}

#[test]
fn scrolling_a_loading_task_pane_brings_the_new_screen_forward() {
    let source = BigTasks::new(TASKS, 0);
    let mut h = console_on(Arc::clone(&source), cluster_tasks(false));
    let first = list_focused(&mut h);
    let mut effects = Vec::new();
    for key in parse_keys("G") {
        effects.extend(step(&mut h, Action::Key(key)));
    }
    let now_visible = arns_on_screen(&h);
    assert!(now_visible.contains(&task_arn(TASKS - 1)), "at the end");
    for effect in first {
        let described = answer(&h, effect);
        effects.extend(describes(&step(&mut h, described)));
    }
    let next = described_arns(&effects);
    assert!(
        next[..now_visible.len()]
            .iter()
            .all(|a| now_visible.contains(a)),
        "after scrolling, the rows on screen go first"
    );
}

#[test]
fn every_task_scope_and_the_stopped_list_load_rows_first() {
    let scopes = [
        TaskScope::Service {
            cluster: CLUSTER.into(),
            service: "web".into(),
        },
        TaskScope::Cluster {
            cluster: CLUSTER.into(),
        },
        TaskScope::Instance {
            cluster: CLUSTER.into(),
            instance: instance_arn(1),
        },
    ];
    for scope in scopes {
        for stopped in [false, true] {
            let source = BigTasks::new(1_000, 0);
            let pane = Pane::Tasks {
                scope: scope.clone(),
                stopped,
            };
            let mut h = console_on(Arc::clone(&source), pane);
            let first = list_focused(&mut h);
            let query = h.state.focused().pane.query();
            assert_eq!(
                h.state.fleet.slot(&query).unwrap().loading(),
                Some((1_000, 0)),
                "{query:?}"
            );
            let name = if stopped { "Stopped tasks" } else { "Tasks" };
            let title = title_with(&h, name);
            assert!(title.contains("(1,000 · 0 loaded)"), "{query:?}: {title}");
            describe_all(&mut h, first);
            assert_eq!(source.describes.lock().unwrap().len(), 10, "{query:?}");
            assert_eq!(h.state.fleet.slot(&query).unwrap().loading(), None);
            let frame = h.render();
            let row = frame.lines().find(|l| l.contains("00000000")).unwrap();
            // A stopped task's row shows how it stopped, not its status.
            assert!(stopped || row.contains("RUNNING"), "{query:?}: {row}");
            assert!(!frame.contains("loading"), "{query:?}: {frame}");
        }
    }
}

#[test]
fn container_instance_rows_show_at_once_and_fill_in_by_batches_of_100() {
    let source = BigTasks::new(0, 350);
    let pane = Pane::Instances {
        cluster: CLUSTER.into(),
    };
    let mut h = console_on(Arc::clone(&source), pane);
    let first = list_focused(&mut h);
    let query = h.state.focused().pane.query();
    let title = title_with(&h, "Instances");
    assert!(title.contains("Instances (350 · 0 loaded)"), "{title}");
    // Known by its container instance id until EC2's id comes with its details.
    let frame = h.render();
    let row = frame.lines().find(|l| l.contains("ci0000")).unwrap();
    assert!(row.contains("loading"), "{row}");
    assert!(
        first
            .iter()
            .all(|e| matches!(e, Effect::Describe { arns, .. } if arns.len() <= INSTANCES_BATCH))
    );
    let visible = arns_on_screen(&h);
    let asked = described_arns(&first);
    assert_eq!(asked[..visible.len()], visible[..], "the screen first");
    // The rules see none of them yet.
    assert!(h.state.fleet.all_instances().is_empty());

    describe_all(&mut h, first);
    assert_eq!(
        source.describes.lock().unwrap().len(),
        4,
        "350 / 100 rounded up"
    );
    assert_eq!(h.state.fleet.slot(&query).unwrap().loading(), None);
    let title = title_with(&h, "Instances");
    assert!(title.contains("Instances (350)"), "{title}");
    let frame = h.render();
    assert!(frame.contains("i-00000000000000000"), "{frame}");
    assert_eq!(h.state.fleet.all_instances().len(), 350);
}

#[test]
fn a_failed_task_describe_keeps_the_rows_and_backs_off() {
    let source = BigTasks::new(TASKS, 0);
    source.fail.store(true, Ordering::SeqCst);
    let mut h = console_on(Arc::clone(&source), cluster_tasks(false));
    let first = list_focused(&mut h);
    let query = h.state.focused().pane.query();
    let mut again = Vec::new();
    for effect in first {
        let failed = answer(&h, effect);
        again.extend(describes(&step(&mut h, failed)));
    }
    assert!(again.is_empty(), "no describe straight after a failure");
    let slot = h.state.fleet.slot(&query).unwrap();
    assert_eq!(slot.loading(), Some((TASKS, 0)), "the rows stay");
    assert!(slot.is_stale(), "the failure shows on the pane");
    let retry = slot.progress.as_ref().unwrap().retry_at.unwrap();
    assert!(retry > h.state.now, "failed describes back off");
    // Loading rows are no running tasks for the rules, however long they stay loading.
    assert!(h.state.fleet.all_tasks().0.is_empty());
    assert!(h.render().contains("Tasks (10,000 · 0 loaded)"));

    // Not before the backoff; after it, the screen is asked again.
    let now = h.state.now;
    assert!(describes(&step(&mut h, Action::Tick(now))).is_empty());
    source.fail.store(false, Ordering::SeqCst);
    h.state.now = retry;
    let asked = describes(&step(&mut h, Action::Tick(retry)));
    assert!(!asked.is_empty(), "asked again after the backoff");
    let visible = arns_on_screen(&h);
    assert_eq!(described_arns(&asked)[..visible.len()], visible[..]);
}

#[test]
fn a_task_still_loading_is_not_stopped_nor_shelled_into() {
    let source = BigTasks::new(TASKS, 0);
    let mut h = console_on(Arc::clone(&source), cluster_tasks(false));
    list_focused(&mut h);
    for keys in ["x", "s", "l"] {
        let mut effects = Vec::new();
        for key in parse_keys(keys) {
            effects.extend(step(&mut h, Action::Key(key)));
        }
        assert!(h.state.popups.is_empty(), "{keys}: no dialog");
        assert!(
            !effects.iter().any(|e| matches!(
                e,
                Effect::Perform(_) | Effect::OpenSession(_) | Effect::ResolveLogs { .. }
            )),
            "{keys}: {effects:?}"
        );
        assert!(
            h.status().contains("still loading"),
            "{keys}: {}",
            h.status()
        );
    }
}

#[test]
fn an_instance_still_loading_is_not_drained() {
    let source = BigTasks::new(0, 350);
    let pane = Pane::Instances {
        cluster: CLUSTER.into(),
    };
    let mut h = console_on(Arc::clone(&source), pane);
    list_focused(&mut h);
    for key in parse_keys("D") {
        step(&mut h, Action::Key(key));
    }
    assert!(
        h.state.popups.is_empty(),
        "no confirmation for a host not known yet"
    );
    assert!(h.status().contains("still loading"), "{}", h.status());
}
