//! The triage engine in the console: findings on the default demo fleet's scripted incidents,
//! the `:findings` pane (jump, act), row badges, header counts, `:timeline` and `:export`.

use ecsmon::action::Effect;
use ecsmon::model::{Severity, Subject, TaskScope};
use ecsmon::state::{Pane, Popup};
use ecsmon::testkit::Harness;

fn console() -> Harness {
    let mut h = Harness::new("default", 160, 45);
    // A few evaluations' worth of time: polls answer, the engine runs.
    h.advance(10);
    h
}

fn position(h: &Harness, pred: impl Fn(&ecsmon::model::Finding) -> bool) -> usize {
    let view = ecsmon::state::FindingsView::default();
    ecsmon::screen::findings::listed(&h.state, &view)
        .iter()
        .position(|f| pred(f))
        .expect("such a finding is listed")
}

fn select(h: &mut Harness, index: usize) {
    h.press("g");
    for _ in 0..index {
        h.press("j");
    }
}

#[test]
fn the_default_fleets_oom_kill_is_found_and_counted_in_the_header() {
    let h = console();
    let active = h.state.triage.active();
    let oom = active
        .iter()
        .find(|f| f.current.rule == "task-oom-killed")
        .expect("payments' OOM kill is a finding");
    assert_eq!(oom.severity(), Severity::Critical);
    assert_eq!(oom.current.subject.service(), Some("payments"));
    assert!(
        oom.current.message.contains("exit 137"),
        "{}",
        oom.current.message
    );
    let (crit, warn, info) = h.state.triage.counts();
    let frame = h.render();
    let header = frame.lines().next().unwrap();
    assert!(
        header.contains(&format!("{crit} crit")) && header.contains(&format!("{warn} warn")),
        "{header}"
    );
    assert!(header.contains(&format!("{info} info")), "{header}");
}

#[test]
fn the_findings_pane_lists_by_severity_and_shows_the_evidence() {
    let mut h = console();
    h.press(":findings<enter>");
    assert!(matches!(h.state.popups.last(), Some(Popup::Findings(_))));
    let frame = h.render();
    let n = h.state.triage.active().len();
    assert!(frame.contains(&format!("Findings ({n})")), "{frame}");
    assert!(frame.contains("evidence"), "{frame}");
    assert!(frame.contains("next:"), "{frame}");
    let severities: Vec<Severity> = h
        .state
        .triage
        .active()
        .iter()
        .map(|f| f.severity())
        .collect();
    let mut sorted = severities.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(severities, sorted, "most severe first");
}

#[test]
fn enter_on_a_task_finding_opens_the_stopped_task_in_its_service() {
    let mut h = console();
    h.press(":findings<enter>");
    let i = position(&h, |f| f.current.rule == "task-oom-killed");
    let task_arn = match &h.state.triage.active()[i].current.subject {
        Subject::Container { task_arn, .. } | Subject::Task { task_arn, .. } => task_arn.clone(),
        other => panic!("unexpected subject {other:?}"),
    };
    select(&mut h, i);
    h.press("<enter>");
    assert!(h.state.popups.is_empty(), "the findings pane closed");
    let tasks = h
        .state
        .nav
        .iter()
        .find(|v| matches!(v.pane, Pane::Tasks { .. }))
        .expect("a tasks pane on the way");
    assert_eq!(
        tasks.pane,
        Pane::Tasks {
            scope: TaskScope::Service {
                cluster: "prod".into(),
                service: "payments".into()
            },
            stopped: true
        }
    );
    assert_eq!(tasks.selected_key.as_deref(), Some(task_arn.as_str()));
}

#[test]
fn an_action_key_acts_on_the_findings_object_and_the_pane_stays_underneath() {
    let mut h = console();
    h.press(":findings<enter>");
    let i = position(&h, |f| {
        matches!(
            f.current.subject,
            Subject::Service { .. } | Subject::TargetGroup { .. }
        )
    });
    let service = h.state.triage.active()[i]
        .current
        .subject
        .service()
        .unwrap()
        .to_string();
    select(&mut h, i);
    h.press("R");
    let kinds: Vec<&str> = h
        .state
        .popups
        .iter()
        .map(|p| match p {
            Popup::Findings(_) => "findings",
            Popup::Confirm { .. } => "confirm",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, vec!["findings", "confirm"]);
    let Some(Popup::Confirm { op, .. }) = h.state.popups.last() else {
        unreachable!()
    };
    assert!(op.summary().starts_with(&service), "{}", op.summary());
    // Confirmed: the action is on the timeline as the operator's.
    h.press("y");
    assert!(matches!(h.state.popups.last(), Some(Popup::Findings(_))));
    let mine = h
        .state
        .triage
        .timeline
        .entries()
        .find(|e| e.kind == ecsmon::state::TimelineKind::Operator)
        .expect("the operator's action is on the timeline");
    assert!(
        mine.text.contains("force a new deployment"),
        "{}",
        mine.text
    );
    assert_eq!(mine.service.as_deref(), Some(service.as_str()));
}

#[test]
fn rows_carry_badges_coloured_by_severity() {
    let mut h = console();
    h.press("/prod<enter><enter>");
    let frame = h.render();
    let payments = frame
        .lines()
        .find(|l| l.contains("payments"))
        .expect("payments row");
    assert!(payments.contains("CRIT"), "{payments}");
    let quiet = frame
        .lines()
        .filter(|l| l.contains("│") && !l.contains("CRIT") && !l.contains("WARN"))
        .count();
    assert!(
        quiet > 0,
        "services without findings have no badge:\n{frame}"
    );
}

#[test]
fn the_timeline_merges_stops_events_and_findings_newest_first() {
    let mut h = console();
    h.press(":timeline<enter>");
    let frame = h.render();
    assert!(frame.contains("Timeline"), "{frame}");
    let Some(Popup::Timeline(view)) = h.state.popups.last() else {
        panic!("timeline open")
    };
    let entries = ecsmon::screen::timeline::timeline_entries(&h.state, view);
    assert!(
        entries
            .iter()
            .any(|e| e.kind == ecsmon::state::TimelineKind::TaskStopped)
    );
    assert!(
        entries
            .iter()
            .any(|e| e.kind == ecsmon::state::TimelineKind::FindingOpened)
    );
    assert!(
        entries.windows(2).all(|w| w[0].at >= w[1].at),
        "newest first"
    );
    // One service only.
    h.press("<esc>:timeline prod/payments<enter>");
    let Some(Popup::Timeline(view)) = h.state.popups.last() else {
        panic!("timeline open")
    };
    let entries = ecsmon::screen::timeline::timeline_entries(&h.state, view);
    assert!(!entries.is_empty());
    assert!(
        entries
            .iter()
            .all(|e| e.service.as_deref() == Some("payments"))
    );
    let frame = h.render();
    assert!(frame.contains("prod/payments"), "{frame}");
}

#[test]
fn export_writes_markdown_with_findings_timeline_and_services() {
    let mut h = console();
    h.press(":export /tmp/ecsmon-test-export.md<enter>");
    let Some(Effect::WriteExport { path, contents }) = h
        .effects
        .iter()
        .rev()
        .find(|e| matches!(e, Effect::WriteExport { .. }))
    else {
        panic!("no export written")
    };
    assert_eq!(path.to_str(), Some("/tmp/ecsmon-test-export.md"));
    for part in [
        "# ecsmon incident snapshot",
        "| Account | 123456789012 |",
        "## Active findings",
        "task-oom-killed",
        "**Next:**",
        "## Timeline (last 60 min)",
        "## Services",
        "| prod | payments |",
    ] {
        assert!(contents.contains(part), "missing {part:?} in:\n{contents}");
    }
    assert!(
        h.render()
            .contains("incident snapshot written to /tmp/ecsmon-test-export.md")
    );
}

#[test]
fn snapshot_findings_pane() {
    let mut h = console();
    h.press(":findings<enter>");
    insta::assert_snapshot!(h.render());
}

#[test]
fn snapshot_services_with_triage_badges() {
    let mut h = console();
    h.press("/prod<enter><enter>");
    insta::assert_snapshot!(h.render());
}

#[test]
fn snapshot_timeline_pane() {
    let mut h = console();
    h.press(":timeline<enter>");
    insta::assert_snapshot!(h.render());
}

#[test]
fn snapshot_export_markdown() {
    let mut h = console();
    h.press(":export /tmp/ecsmon-snapshot-export.md<enter>");
    let contents = h
        .effects
        .iter()
        .rev()
        .find_map(|e| match e {
            Effect::WriteExport { contents, .. } => Some(contents.clone()),
            _ => None,
        })
        .expect("an export");
    insta::assert_snapshot!(contents);
}

#[test]
fn a_combined_diagnosis_lists_its_members_folded_under_it() {
    let mut h = Harness::new("memory-leak", 160, 45);
    h.advance_replay(150.0);
    let view = ecsmon::state::FindingsView::default();
    let listed = ecsmon::screen::findings::listed_with_depth(&h.state, &view);
    let parent = listed
        .iter()
        .position(|(f, _)| f.current.rule == "memory-leak-lifecycle")
        .expect("the memory-leak lifecycle diagnosis");
    assert_eq!(listed[parent].1, 0);
    let members: Vec<&str> = listed[parent + 1..]
        .iter()
        .take_while(|(_, depth)| *depth == 1)
        .map(|(f, _)| f.current.rule)
        .collect();
    assert!(members.contains(&"memory-leak-trend"), "{members:?}");
    assert!(members.contains(&"task-oom-killed"), "{members:?}");
    // Every finding is listed exactly once.
    assert_eq!(listed.len(), h.state.triage.active().len());
    h.press(":findings<enter>");
    let frame = h.render();
    assert!(frame.contains("└ memory-leak-trend"), "{frame}");
}

#[test]
fn a_service_name_in_several_clusters_asks_which() {
    let mut h = console();
    // The demo has a `web` in prod and one in staging.
    h.press(":timeline web<enter>");
    assert!(!matches!(h.state.popups.last(), Some(Popup::Timeline(_))));
    let frame = h.render();
    assert!(frame.contains("web is in several clusters"), "{frame}");
    h.press(":timeline staging/web<enter>");
    let Some(Popup::Timeline(view)) = h.state.popups.last() else {
        panic!("timeline open")
    };
    assert_eq!(
        view.service,
        Some(("staging".to_string(), "web".to_string()))
    );
}

#[test]
fn the_cursor_stays_on_its_finding_when_the_list_moves() {
    let mut h = console();
    h.press(":findings<enter>");
    let n = h.state.triage.active().len();
    assert!(n >= 3, "{n}");
    h.press("jj");
    let Some(Popup::Findings(view)) = h.state.popups.last() else {
        panic!("findings open")
    };
    let chosen = view
        .selected_id
        .clone()
        .expect("a finding under the cursor");
    // A new critical finding sorts above it.
    let now = h.state.now;
    let mut list: Vec<ecsmon::model::Observation> = h
        .state
        .triage
        .active()
        .iter()
        .map(|f| f.current.clone())
        .collect();
    list.push(ecsmon::model::Observation::new(
        "test-rule",
        Severity::Critical,
        Subject::Cluster {
            cluster: "prod".into(),
        },
        "new",
    ));
    h.state.triage.apply(now, list, false);
    let Some(Popup::Findings(view)) = h.state.popups.last() else {
        panic!("findings open")
    };
    let listed = ecsmon::screen::findings::listed(&h.state, view);
    let at = ecsmon::screen::findings::selected_index(&listed, view);
    assert_eq!(listed[at].current.id(), chosen);
}

#[test]
fn rules_lists_the_catalog_scrolls_and_closes_on_esc() {
    let mut h = console();
    h.press(":rules<enter>");
    let Some(Popup::Describe { title, lines, .. }) = h.state.popups.last() else {
        panic!("no rules popup: {:?}", h.state.popups.last());
    };
    assert!(title.starts_with("Triage rules · "), "{title}");
    assert_eq!(
        lines,
        &ecsmon::catalog::text_lines(),
        "the list of `ecsmon rules`"
    );
    let frame = h.render();
    assert!(
        frame.contains("task-oom-killed  [warning, critical]"),
        "{frame}"
    );
    insta::assert_snapshot!("rules_popup_top", frame);
    h.press("G");
    let frame = h.render();
    assert!(
        frame.contains("egress-bottleneck"),
        "the last correlation: {frame}"
    );
    insta::assert_snapshot!("rules_popup_end", frame);
    h.press("<esc>");
    assert!(h.state.popups.is_empty(), "esc closes it");
}

#[test]
fn the_demo_vpcs_nat_gateway_is_polled_and_its_light_egress_stays_quiet() {
    let mut h = Harness::new("default", 160, 45);
    // Half an hour: the NAT gateways are asked for, their metrics polled, the rules run on them.
    h.advance(1800);
    let since = h.state.now - chrono::TimeDelta::minutes(20);
    let nats = h.state.fleet.nat_gateways_since(since);
    assert!(!nats.is_empty(), "the engine knows the demo's NAT gateway");
    let (_, nat) = nats[0];
    let active = ecsmon::model::metric_catalog::nat_active_connections(&nat.id);
    assert!(
        h.state.triage.metrics_wanted.contains(&active),
        "NAT metrics are polled for the rules"
    );
    let polled = h
        .state
        .metrics
        .get(&ecsmon::model::SeriesKey {
            metric: active,
            period: 60,
        })
        .and_then(|s| s.latest())
        .expect("ActiveConnectionCount polled");
    assert!(polled.value > 0.0 && polled.value < 10_000.0, "{polled:?}");
    let nat_findings: Vec<String> = h
        .state
        .triage
        .all()
        .filter(|f| f.current.rule.starts_with("nat-") || f.current.rule == "egress-bottleneck")
        .map(|f| f.current.message.clone())
        .collect();
    assert!(nat_findings.is_empty(), "{nat_findings:?}");
}
