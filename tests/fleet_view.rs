//! The fleet view (several contexts at once) through the real update path: `--demo org`'s
//! three accounts × two regions, one of them (prod · eu-west-1) in an incident.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use ecsmon::action::Effect;
use ecsmon::model::{
    Cluster, Context, Identity, Instance, Operation, Service, Task, TaskDefinition, TaskScope,
};
use ecsmon::source::demo::{DemoClock, DemoSource};
use ecsmon::source::{ErrorKind, FleetSource, SourceError};
use ecsmon::state::{PaneKind, Popup};
use ecsmon::testkit::{Harness, fixed_now};
use support::fleet_view::{member_of, row_contexts, select};

fn org() -> Harness {
    Harness::org(170, 45)
}

#[test]
fn one_clusters_pane_lists_every_contexts_clusters_with_where_they_are() {
    let h = org();
    let total: usize = h
        .state
        .members
        .iter()
        .map(|m| m.state.fleet.clusters().len())
        .sum();
    assert_eq!(h.state.fleet.clusters().len(), total);
    let mut places = row_contexts(&h);
    places.dedup();
    assert_eq!(places.len(), 6, "six contexts' rows: {places:?}");
    let screen = h.render();
    for header in ["PROFILE", "ACCOUNT", "REGION"] {
        assert!(screen.contains(header), "{screen}");
    }
    // Each context's account, as STS told it, on its rows.
    assert!(screen.contains("345678901234"), "{screen}");
    assert!(screen.contains("fleet view: 6 contexts"), "{screen}");
    // Two contexts' clusters of one name are two rows, told apart by their context.
    let prods = h
        .state
        .fleet
        .clusters()
        .iter()
        .filter(|c| c.name.starts_with("prod@"))
        .count();
    assert_eq!(prods, 5, "the five calm contexts each have a prod cluster");
}

#[test]
fn a_filter_matches_across_the_context_columns() {
    let mut h = org();
    h.press("/shared us-east<enter>");
    let shown: Vec<(String, String)> = h.state.nav[0]
        .rows
        .iter()
        .map(|&i| {
            let p = h.state.fleet.clusters()[i].context.as_deref().unwrap();
            (p.profile.clone(), p.region.clone())
        })
        .collect();
    assert_eq!(shown.len(), 3, "{shown:?}");
    assert!(
        shown.iter().all(|(p, r)| p == "shared" && r == "us-east-1"),
        "{shown:?}"
    );
}

#[test]
fn drilling_in_works_inside_that_clusters_context_and_back_returns_to_the_fleet() {
    let mut h = org();
    select(&mut h, "staging", "shared", "us-east-1");
    let member = member_of(&h, "shared", "us-east-1");
    let before = h.effects.len();
    h.press("<enter>");
    assert_eq!(h.state.active_member, Some(member));
    let shown = &h.state.members[member].state;
    assert_eq!(shown.focused().pane.kind(), PaneKind::Services);
    assert_eq!(shown.focused().pane.cluster(), Some("staging"));
    // Its polls went to its own source, none to another context's.
    let fetched: Vec<usize> = h.effects[before..]
        .iter()
        .filter_map(|e| match e {
            Effect::In { member, effect } if matches!(**effect, Effect::Fetch { .. }) => {
                Some(*member)
            }
            _ => None,
        })
        .collect();
    assert!(!fetched.is_empty());
    assert!(fetched.iter().all(|m| *m == member), "{fetched:?}");
    assert!(
        !shown
            .fleet
            .services(&shown.focused().pane.query())
            .is_empty()
    );
    let screen = h.render();
    assert!(
        screen.contains("profile shared") || screen.contains("demo: org, profile shared"),
        "the header names the context on screen:\n{screen}"
    );
    assert!(screen.contains("456789012345"), "{screen}");
    assert!(screen.contains("us-east-1"), "{screen}");
    // Deeper, and back out: the fleet view has the screen again, on the same row.
    h.press("<enter>");
    assert_eq!(
        h.state.members[member].state.focused().pane.kind(),
        PaneKind::Tasks
    );
    h.press("<esc><esc>");
    assert_eq!(h.state.active_member, None);
    assert_eq!(
        h.state.nav[0].selected_key.as_deref(),
        Some("staging@shared · us-east-1")
    );
    assert!(h.render().contains("fleet view: 6 contexts"));
}

#[test]
fn a_change_goes_to_the_context_it_was_made_in() {
    let mut h = org();
    select(&mut h, "prod", "staging", "eu-west-1");
    let member = member_of(&h, "staging", "eu-west-1");
    h.press("<enter>");
    h.press("s");
    assert!(matches!(
        h.state.members[member].state.popups.last(),
        Some(Popup::Scale(_))
    ));
    h.press("9<enter>y");
    let performed: Vec<(usize, &Operation)> = h
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::In { member, effect } => match &**effect {
                Effect::Perform(op) => Some((*member, op)),
                _ => None,
            },
            Effect::Perform(_) => panic!("a change outside any context"),
            _ => None,
        })
        .collect();
    assert_eq!(performed.len(), 1, "{performed:?}");
    assert_eq!(performed[0].0, member);
    assert!(
        matches!(performed[0].1, Operation::Scale { cluster, to: 9, .. } if cluster == "prod"),
        "{:?}",
        performed[0].1
    );
}

#[test]
fn findings_cover_every_context_each_labelled_and_enter_jumps_into_its_context() {
    let mut h = org();
    h.advance(30);
    let own: usize = h
        .state
        .members
        .iter()
        .map(|m| m.state.triage.active().len())
        .sum();
    assert!(own > 0);
    assert_eq!(h.state.triage.active().len(), own);
    let labels: Vec<String> = h
        .state
        .triage
        .active()
        .iter()
        .map(|f| f.current.subject.label())
        .collect();
    assert!(
        labels.iter().all(|l| l.contains('@')),
        "each finding names its context: {labels:?}"
    );
    // From inside a context, :findings is the fleet's.
    select(&mut h, "prod", "shared", "us-east-1");
    h.press("<enter>");
    h.press(":findings<enter>");
    assert!(matches!(h.state.popups.last(), Some(Popup::Findings(_))));
    let screen = h.render();
    // Each finding's context in a column of its own, its subject after it.
    assert!(screen.contains("staging · eu-west-1"), "{screen}");
    assert!(!screen.contains("@staging"), "{screen}");
    // Enter on the first finding: the screen goes to that finding's context.
    let first = h.state.triage.active()[0]
        .current
        .subject
        .cluster()
        .to_string();
    h.press("<enter>");
    let label = first.split_once('@').unwrap().1.to_string();
    let active = h.state.active_member.expect("a context on screen");
    assert_eq!(h.state.members[active].context.to_string(), label);
    assert!(h.state.popups.is_empty());
}

/// A demo context whose every call fails once `down` is set, as expired credentials do.
struct Expiring {
    inner: DemoSource,
    down: Arc<AtomicBool>,
}

impl Expiring {
    fn check(&self) -> Result<(), SourceError> {
        if self.down.load(Ordering::SeqCst) {
            Err(SourceError::new(
                ErrorKind::Credentials,
                "the SSO session has expired: run aws sso login --profile staging",
            ))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl FleetSource for Expiring {
    async fn identity(&self) -> Result<Identity, SourceError> {
        self.check()?;
        self.inner.identity().await
    }
    async fn clusters(&self) -> Result<Vec<Cluster>, SourceError> {
        self.check()?;
        self.inner.clusters().await
    }
    async fn services(&self, cluster: &str) -> Result<Vec<Service>, SourceError> {
        self.check()?;
        self.inner.services(cluster).await
    }
    async fn tasks(&self, scope: &TaskScope, stopped: bool) -> Result<Vec<Task>, SourceError> {
        self.check()?;
        self.inner.tasks(scope, stopped).await
    }
    async fn task(&self, cluster: &str, task_arn: &str) -> Result<Option<Task>, SourceError> {
        self.check()?;
        self.inner.task(cluster, task_arn).await
    }
    async fn instances(&self, cluster: &str) -> Result<Vec<Instance>, SourceError> {
        self.check()?;
        self.inner.instances(cluster).await
    }
    async fn task_definition(&self, arn: &str) -> Result<Arc<TaskDefinition>, SourceError> {
        self.check()?;
        self.inner.task_definition(arn).await
    }
}

#[test]
fn a_failing_context_marks_only_its_own_rows_stale_and_says_how_to_fix_it() {
    let demo = |seed| DemoSource::new("default", seed, fixed_now(), DemoClock::Fixed(fixed_now()));
    let down = Arc::new(AtomicBool::new(false));
    let staging: Arc<dyn FleetSource> = Arc::new(Expiring {
        inner: demo(7).unwrap(),
        down: Arc::clone(&down),
    });
    let prod = Arc::new(demo(8).unwrap());
    let prod_source: Arc<dyn FleetSource> = prod.clone();
    let mut h = Harness::fleet(
        vec![
            (
                Context::new(Some("prod"), "eu-west-1"),
                prod_source,
                Some(prod),
            ),
            (Context::new(Some("staging"), "eu-west-1"), staging, None),
        ],
        170,
        45,
    );
    let rows = h.state.fleet.clusters().len();
    assert!(rows > 0);
    down.store(true, Ordering::SeqCst);
    h.advance(120);
    // Every row is still listed; only staging's are stale, with the reason.
    assert_eq!(h.state.fleet.clusters().len(), rows);
    for c in h.state.fleet.clusters() {
        let place = c.context.as_deref().unwrap();
        assert_eq!(
            place.stale.is_some(),
            place.profile == "staging",
            "{}",
            c.name
        );
    }
    let screen = h.render();
    assert!(screen.contains("staging (stale)"), "{screen}");
    assert!(
        screen.contains("aws sso login --profile staging"),
        "{screen}"
    );
    assert!(screen.contains("1 failing"), "{screen}");
    // The healthy context kept answering.
    let prod_fetched = h.state.members[0].fetched_at().unwrap();
    assert!(h.state.now - prod_fetched < chrono::TimeDelta::seconds(60));
    // Back up: the rows are fresh again and the status says so.
    down.store(false, Ordering::SeqCst);
    h.advance(300);
    assert!(
        h.state
            .fleet
            .clusters()
            .iter()
            .all(|c| c.context.as_deref().unwrap().stale.is_none())
    );
    assert!(!h.render().contains("failing"));
}

fn popup_text(h: &Harness) -> String {
    match h.state.popups.last() {
        Some(Popup::Describe { title, lines, .. }) => format!("{title}\n{}", lines.join("\n")),
        other => panic!("expected a text popup, got {other:?}"),
    }
}

#[test]
fn contexts_lists_each_context_with_its_state_from_anywhere() {
    let mut h = org();
    h.press(":contexts<enter>");
    let text = popup_text(&h);
    for title in [
        "prod · 210987654321 · eu-west-1",
        "staging · 345678901234 · us-east-1",
        "shared · 456789012345 · us-east-1",
    ] {
        assert!(text.contains(title), "{text}");
    }
    assert_eq!(text.matches(" ok ").count(), 6, "{text}");
    h.press("<esc>");
    // From inside a context it is the fleet view's list too.
    select(&mut h, "batch", "staging", "eu-west-1");
    h.press("<enter>:contexts<enter>");
    assert!(popup_text(&h).contains("shared · 456789012345 · eu-west-1"));
}

#[test]
fn a_dropped_context_leaves_the_pane_and_the_findings_and_its_answers_are_ignored() {
    let mut h = org();
    h.advance(30);
    let member = member_of(&h, "prod", "eu-west-1");
    let rows = h.state.fleet.clusters().len();
    let theirs = h.state.members[member].state.fleet.clusters().len();
    h.press(&format!(":contexts drop {}<enter>", member + 1));
    assert_eq!(h.state.fleet.clusters().len(), rows - theirs);
    assert!(
        h.state
            .triage
            .all()
            .all(|f| !f.current.subject.cluster().ends_with("@prod · eu-west-1"))
    );
    assert!(h.status().contains("no longer watched"), "{}", h.status());
    let polls = h.effects.len();
    h.advance(30);
    assert_eq!(h.state.fleet.clusters().len(), rows - theirs);
    let theirs_after: usize = h
        .effects
        .iter()
        .skip(polls)
        .filter(|e| matches!(e, Effect::In { member: m, .. } if *m == member))
        .count();
    assert_eq!(theirs_after, 0, "a dropped context is not polled");
    // By profile and region, and never the last one.
    h.press(":contexts drop staging us-east-1<enter>");
    assert!(h.status().contains("no longer watched"), "{}", h.status());
    for profile in ["staging eu-west-1", "shared eu-west-1", "shared us-east-1"] {
        h.press(&format!(":contexts drop {profile}<enter>"));
    }
    h.press(":contexts drop prod us-east-1<enter>");
    assert!(h.status().contains("last context"), "{}", h.status());
}

#[test]
fn a_context_added_at_run_time_joins_the_pane() {
    let mut h = org();
    for m in &mut h.state.members {
        m.state.aws = Some(Default::default());
    }
    h.connect = Some(Box::new(|wanted| {
        let demo = Arc::new(
            DemoSource::new("default", 99, fixed_now(), DemoClock::Fixed(fixed_now())).unwrap(),
        );
        let source: Arc<dyn FleetSource> = demo.clone();
        let region = wanted.region.clone().unwrap_or_default();
        (
            Context::new(wanted.profile.as_deref(), &region),
            source,
            Some(demo),
        )
    }));
    let rows = h.state.fleet.clusters().len();
    h.press(":contexts add audit ap-south-1<enter>");
    assert_eq!(h.state.members.len(), 7);
    assert!(h.state.fleet.clusters().len() > rows);
    assert!(row_contexts(&h).contains(&("audit".to_string(), "ap-south-1".to_string())));
    // The same one again, or a bad region: said, nothing connected.
    h.press(":contexts add audit ap-south-1<enter>");
    assert!(h.status().contains("watched already"), "{}", h.status());
    h.press(":contexts add audit mars-1<enter>");
    assert!(h.status().contains("not a region"), "{}", h.status());
    assert_eq!(h.state.members.len(), 7);
}

#[test]
fn stats_has_a_section_per_context() {
    let mut h = org();
    h.press(":stats<enter>");
    let text = popup_text(&h);
    assert!(text.starts_with("AWS calls by context"), "{text}");
    assert_eq!(text.matches("── ").count(), 6, "{text}");
}

#[test]
fn the_fleet_views_cluster_rows_draw_their_contexts_metrics() {
    let mut h = org();
    h.advance(90);
    let screen = h.render();
    let row = screen
        .lines()
        .find(|l| l.contains("prod") && l.contains("staging") && l.contains("us-east-1"))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(row.contains('%'), "a CPU or memory value on the row: {row}");
}

#[test]
fn q_quits_every_context_from_the_fleet_view_or_from_inside_one() {
    let mut h = org();
    h.press("q");
    assert!(h.state.may_exit(), "q in the fleet view quits");
    assert!(h.state.members.iter().all(|m| m.state.should_quit));
    let mut h = org();
    select(&mut h, "prod", "prod", "us-east-1");
    h.press("<enter>q");
    assert!(h.state.may_exit(), "q inside a context quits ecsmon");
}

#[test]
fn drilling_into_a_cluster_again_shows_its_rows_at_once() {
    let mut h = org();
    select(&mut h, "staging", "shared", "us-east-1");
    let member = member_of(&h, "shared", "us-east-1");
    h.press("<enter>");
    let first = h.state.members[member].state.focused().rows.len();
    assert!(first > 0);
    h.press("<esc>");
    assert_eq!(h.state.active_member, None);
    // Back in with nothing new to fetch (its services are fresh): the rows it holds, shown.
    h.press("<enter>");
    assert_eq!(h.state.active_member, Some(member));
    assert_eq!(h.state.members[member].state.focused().rows.len(), first);
    assert!(
        h.render().contains(&format!("Services ({first})")),
        "{}",
        h.render()
    );
}

#[test]
fn timeline_and_export_of_the_fleet_view_cover_every_context_and_inside_one_only_it() {
    let mut h = org();
    h.advance(60);
    h.press(":timeline<enter>");
    assert!(matches!(h.state.popups.last(), Some(Popup::Timeline(_))));
    let subjects: std::collections::BTreeSet<String> = h
        .state
        .triage
        .timeline
        .entries()
        .filter_map(|e| e.subject.split_once(" › ").map(|(c, _)| c.to_string()))
        .collect();
    assert!(
        subjects.len() >= 2,
        "entries of several contexts: {subjects:?}"
    );
    assert!(h.render().contains(" › "), "{}", h.render());
    h.press("<esc>:export /tmp/ecsmon-fleet-export-test.md<enter>");
    let written = h
        .effects
        .iter()
        .rev()
        .find_map(|e| match e {
            Effect::WriteExport { contents, .. } => Some(contents.clone()),
            _ => None,
        })
        .expect("an export");
    assert_eq!(written.matches("## Context ").count(), 6, "{written}");
    assert!(written.contains("## Context staging · 345678901234 · us-east-1"));
    // Inside a context: that context's own export, in its own effects.
    select(&mut h, "prod", "shared", "eu-west-1");
    let member = member_of(&h, "shared", "eu-west-1");
    h.press("<enter>:export /tmp/ecsmon-one-export-test.md<enter>");
    let own = h
        .effects
        .iter()
        .rev()
        .find_map(|e| match e {
            Effect::In { member: m, effect } if *m == member => match &**effect {
                Effect::WriteExport { contents, .. } => Some(contents.clone()),
                _ => None,
            },
            _ => None,
        })
        .expect("the context's own export");
    assert!(!own.contains("## Context "), "one context's snapshot");
    assert!(own.contains("456789012345"), "{own}");
    // `:clusters` inside it: the fleet view's clusters again.
    h.press(":clusters<enter>");
    assert_eq!(h.state.active_member, None);
}

#[test]
fn region_and_profile_switches_point_to_contexts_in_the_fleet_view() {
    let mut h = org();
    h.press(":region us-west-2<enter>");
    assert!(h.status().contains(":contexts add"), "{}", h.status());
    select(&mut h, "prod", "prod", "us-east-1");
    h.press("<enter>:profile staging<enter>");
    assert!(h.render().contains(":contexts add"), "{}", h.render());
    assert!(
        !h.effects.iter().any(
            |e| matches!(e, Effect::In { effect, .. } if matches!(**effect, Effect::Connect(_)))
        ),
        "no context switched its source"
    );
}
