//! Behaviour of navigation, filtering, sorting, commands, polling and the mouse, through the
//! real update path (keys in, state and frames out).

use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ecsmon::action::{Action, Effect};
use ecsmon::model::{Query, TaskScope};
use ecsmon::state::{InputMode, Pane, PaneKind};
use ecsmon::testkit::Harness;

fn console() -> Harness {
    Harness::new("default", 140, 36)
}

fn crumbs(h: &Harness) -> Vec<String> {
    h.state.nav.iter().map(|v| v.crumb()).collect()
}

/// The selected row's identity (a service's name, a task's ARN…).
fn selected_name(h: &Harness) -> String {
    h.state.focused().selected_key.clone().unwrap_or_default()
}

#[test]
fn enter_drills_down_and_esc_comes_back() {
    let mut h = console();
    h.press("/prod<enter><enter>");
    assert_eq!(h.state.focused().pane.kind(), PaneKind::Services);
    h.press("<enter>");
    assert_eq!(h.state.focused().pane.kind(), PaneKind::Tasks);
    h.press("<enter>");
    assert_eq!(h.state.focused().pane.kind(), PaneKind::Containers);
    assert_eq!(crumbs(&h).len(), 4);
    h.press("<esc><esc><esc>");
    assert_eq!(h.state.focused().pane, Pane::Clusters);
    h.press("<esc>");
    assert_eq!(h.state.nav.len(), 1, "esc at the root stays at the root");
}

#[test]
fn filter_then_enter_enter_drills_into_the_first_match() {
    let mut h = console();
    h.press("/prod<enter>");
    assert_eq!(h.state.focused().rows.len(), 1);
    h.press("<enter>");
    assert_eq!(
        h.state.focused().pane,
        Pane::Services {
            cluster: "prod".into()
        }
    );
}

#[test]
fn filter_is_case_insensitive_and_bang_inverts() {
    let mut h = console();
    let total = h.state.focused().total;
    h.press("/PROD");
    assert_eq!(h.state.focused().rows.len(), 1);
    h.press("<esc>/!prod<enter>");
    assert_eq!(h.state.focused().rows.len(), total - 1);
    assert!(
        h.render()
            .contains(&format!("Clusters ({} of {total})", total - 1))
    );
}

#[test]
fn regex_metacharacters_are_plain_text() {
    let mut h = console();
    h.press("/.*[(<enter>");
    assert_eq!(h.state.focused().rows.len(), 0);
    assert!(h.render().contains("Clusters (0 of"));
}

#[test]
fn esc_clears_the_filter_before_going_back() {
    let mut h = console();
    h.press("/prod<enter><enter>/a<enter>");
    assert_eq!(h.state.focused().filter, "a");
    h.press("<esc>");
    assert_eq!(h.state.focused().filter, "");
    assert_eq!(h.state.focused().pane.kind(), PaneKind::Services);
    h.press("<esc>");
    assert_eq!(h.state.focused().pane, Pane::Clusters);
    assert_eq!(
        h.state.focused().filter,
        "prod",
        "the clusters filter was kept"
    );
}

#[test]
fn esc_in_the_filter_prompt_clears_it() {
    let mut h = console();
    h.press("/zzz");
    assert_eq!(h.state.focused().rows.len(), 0);
    h.press("<esc>");
    assert_eq!(h.state.input, InputMode::Normal);
    assert_eq!(h.state.focused().rows.len(), h.state.focused().total);
}

#[test]
fn tasks_command_takes_its_scope_from_the_selection() {
    let mut h = console();
    h.press("/prod<enter>:tasks<enter>");
    assert_eq!(
        h.state.focused().pane,
        Pane::Tasks {
            scope: TaskScope::Cluster {
                cluster: "prod".into()
            },
            stopped: false
        }
    );
    assert!(h.render().contains("clusters › prod › tasks"));
}

#[test]
fn tasks_command_on_a_service_row_lists_that_services_tasks() {
    let mut h = console();
    h.press("/prod<enter><enter>");
    let service = selected_name(&h);
    h.press(":ts<enter>");
    assert_eq!(
        h.state.focused().pane,
        Pane::Tasks {
            scope: TaskScope::Service {
                cluster: "prod".into(),
                service
            },
            stopped: false
        }
    );
}

#[test]
fn services_command_from_a_task_goes_to_its_clusters_services() {
    let mut h = console();
    h.press("/prod<enter><enter>jj<enter>");
    let service_row = h.state.nav[1].selected;
    h.press(":services<enter>");
    assert_eq!(h.state.nav.len(), 2);
    assert_eq!(
        h.state.focused().pane,
        Pane::Services {
            cluster: "prod".into()
        }
    );
    assert_eq!(h.state.focused().selected, service_row, "selection kept");
}

#[test]
fn clusters_command_goes_home_and_tab_completes() {
    let mut h = console();
    h.press("/prod<enter><enter><enter>:cl<tab>");
    assert_eq!(
        h.state.input,
        InputMode::Command(ecsmon::state::LineEditor::with_text("clusters"))
    );
    h.press("<enter>");
    assert_eq!(h.state.nav.len(), 1);
}

#[test]
fn unknown_command_gets_a_message() {
    let mut h = console();
    h.press(":frobnicate<enter>");
    let status = h.state.status.clone().expect("a message");
    assert!(
        status.text.contains("unknown command :frobnicate"),
        "{}",
        status.text
    );
}

#[test]
fn sort_cycles_columns_then_back_to_natural_order() {
    let mut h = console();
    h.press("/prod<enter><enter>");
    let natural = h.state.focused().rows.clone();
    let columns = ecsmon::screen::panes::services::columns().len();
    h.press("o");
    assert_eq!(h.state.focused().sort.column, Some(0));
    for _ in 1..columns {
        h.press("o");
    }
    h.press("o");
    assert_eq!(h.state.focused().sort.column, None);
    assert_eq!(h.state.focused().rows, natural);
}

#[test]
fn reverse_sort_reverses() {
    let mut h = console();
    h.press("/prod<enter><enter>o");
    let up = h.state.focused().rows.clone();
    h.press("O");
    let mut down = h.state.focused().rows.clone();
    down.reverse();
    assert_eq!(up, down);
}

#[test]
fn selection_follows_its_item_when_sorting_reorders_rows() {
    let mut h = console();
    h.press("/prod<enter><enter>jjj");
    let chosen = h.state.focused().selected_key.clone();
    h.press("oO");
    assert_eq!(h.state.focused().selected_key, chosen);
    let view = h.state.focused();
    assert!(view.selected_item().is_some());
}

#[test]
fn movement_keys_clamp_and_page() {
    let mut h = console();
    h.press("/prod<enter><enter><enter>");
    let rows = h.state.focused().rows.len();
    h.press("G");
    assert_eq!(h.state.focused().selected, rows - 1);
    h.press("g");
    assert_eq!(h.state.focused().selected, 0);
    h.press("k");
    assert_eq!(h.state.focused().selected, 0);
    h.press("<pgdn>");
    assert!(h.state.focused().selected > 1);
}

#[test]
fn toggling_stopped_tasks_switches_the_query() {
    let mut h = console();
    h.press("/prod<enter>:tasks<enter>a");
    assert!(matches!(
        h.state.focused().pane,
        Pane::Tasks { stopped: true, .. }
    ));
    assert!(h.render().contains("Stopped tasks ("));
    h.press("a");
    assert!(matches!(
        h.state.focused().pane,
        Pane::Tasks { stopped: false, .. }
    ));
}

#[test]
fn the_current_view_is_polled_often_and_the_rest_rarely() {
    let mut h = console();
    h.press("/prod<enter><enter><enter>");
    let before = h.effects.len();
    // The operator at the keys (a quiet view is polled less often: tests/faults.rs).
    for _ in 0..6 {
        h.advance(5);
        h.press("j");
    }
    let polled: Vec<Query> = h.effects[before..]
        .iter()
        .filter_map(|e| match e {
            Effect::Fetch { query, .. } => Some(query.clone()),
            _ => None,
        })
        .collect();
    let focused = h.state.focused().pane.query();
    let count = |q: &Query| polled.iter().filter(|p| *p == q).count();
    assert_eq!(count(&focused), 6, "focused pane every 5 s: {polled:?}");
    assert_eq!(
        count(&Query::Clusters),
        1,
        "background every 30 s: {polled:?}"
    );
    // Beyond the view, only the triage engine's fleet-wide polls, each at most once in 30 s.
    for q in polled
        .iter()
        .filter(|q| !h.state.nav.iter().any(|v| &v.pane.query() == *q))
    {
        assert!(
            matches!(
                q,
                Query::Services { .. }
                    | Query::Instances { .. }
                    | Query::Tasks { .. }
                    | Query::Egress { .. }
            ),
            "unexpected poll {q:?}"
        );
        assert!(count(q) <= 1, "{q:?} polled {} times in 30 s", count(q));
    }
}

#[test]
fn refresh_key_polls_now() {
    let mut h = console();
    let before = h.fetch_count();
    h.press("r");
    assert_eq!(h.fetch_count(), before + 1);
}

#[test]
fn the_clock_moves_the_demo_fleet_and_the_pane_follows() {
    let mut h = console();
    h.press("/prod<enter>:tasks<enter>a");
    let before = h.state.focused().total;
    h.advance(600);
    assert_ne!(
        h.state.focused().total,
        before,
        "ten minutes bring new stopped tasks"
    );
}

#[test]
fn mouse_click_selects_and_wheel_scrolls() {
    let mut h = console();
    h.press("/prod<enter><enter><enter>");
    // Rows start below the breadcrumb, the border and the column header.
    let click = MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: 10,
        row: 6,
        modifiers: KeyModifiers::NONE,
    };
    h.dispatch(Action::Mouse(click));
    assert_eq!(h.state.focused().selected, 2);
    let wheel = MouseEvent {
        kind: MouseEventKind::ScrollDown,
        ..click
    };
    h.dispatch(Action::Mouse(wheel));
    assert_eq!(h.state.focused().selected, 5);
}

#[test]
fn a_huge_paste_into_the_filter_is_capped_and_harmless() {
    let mut h = console();
    h.press("/");
    h.dispatch(Action::Paste("x".repeat(10_000)));
    let InputMode::Filter(editor) = &h.state.input else {
        panic!("filter prompt closed");
    };
    assert!(editor.text.chars().count() <= 256);
    assert!(h.render().contains("Clusters (0 of"));
}

#[test]
fn popups_stack_and_esc_closes_the_top_one() {
    let mut h = console();
    h.press("d?");
    assert_eq!(h.state.popups.len(), 2);
    h.press("<esc>");
    assert_eq!(h.state.popups.len(), 1);
    h.press("jjjG");
    h.press("<esc>");
    assert!(h.state.popups.is_empty());
    assert_eq!(h.state.nav.len(), 1);
}

#[test]
fn q_and_ctrl_c_quit() {
    for keys in ["q", "<c-c>", ":quit<enter>", "/abc<c-c>"] {
        let mut h = console();
        h.press(keys);
        assert!(h.state.should_quit, "{keys} should quit");
        assert!(h.effects.contains(&Effect::Quit));
    }
}

#[test]
fn a_service_deleted_while_its_tasks_are_viewed_says_so() {
    use ecsmon::model::Snapshot;
    let mut h = console();
    h.press("/prod<enter><enter><enter>");
    let Pane::Tasks {
        scope: TaskScope::Service { service, .. },
        ..
    } = h.state.focused().pane.clone()
    else {
        panic!("not on a service's tasks");
    };
    // The background poll of the services list comes back without it.
    let query = Query::Services {
        cluster: "prod".into(),
    };
    let remaining: Vec<_> = h
        .state
        .fleet
        .services(&query)
        .iter()
        .filter(|s| s.name != service)
        .cloned()
        .collect();
    let at = h.state.now;
    h.dispatch(Action::Loaded {
        fingerprint: None,
        query,
        seq: u64::MAX,
        at,
        result: Ok(Snapshot::Services(remaining)),
    });
    let frame = h.render();
    assert!(
        frame.contains(&format!("service {service} in prod no longer exists")),
        "{frame}"
    );
}

fn prompt_text(h: &Harness) -> (String, bool) {
    match &h.state.input {
        InputMode::Filter(e) | InputMode::Command(e) => (e.text.clone(), e.selected),
        other => panic!("expected a prompt, got {other:?}"),
    }
}

/// Issue 14: `/` then `ledger` over the filter `cart` gave `cartledger`.
#[test]
fn slash_over_an_active_filter_shows_it_selected_and_typing_starts_a_new_one() {
    let mut h = console();
    h.press("/prod<enter><enter>/cart<enter>");
    h.press("/");
    assert_eq!(prompt_text(&h), ("cart".into(), true));
    assert!(
        h.shown_selected_after(" /"),
        "the old filter is shown selected"
    );
    h.press("l");
    assert!(!h.shown_selected_after(" /"));
    h.press("edger");
    assert_eq!(h.state.focused().filter, "ledger");
    assert_eq!(h.state.focused().rows.len(), 1);
    h.press("<enter>");
    assert_eq!(selected_name(&h), "ledger");
    // An arrow keeps the old filter and edits it.
    h.press("/<end>s");
    assert_eq!(h.state.focused().filter, "ledgers");
}

#[test]
fn up_and_down_recall_earlier_filters() {
    let mut h = console();
    h.press("/prod<enter><enter>/cart<enter><esc>/ledger<enter><esc>");
    assert_eq!(h.state.focused().filter, "");
    h.press("/<up>");
    assert_eq!(prompt_text(&h), ("ledger".into(), false));
    assert_eq!(
        h.state.focused().filter,
        "ledger",
        "applied as it is recalled"
    );
    h.press("<up><up>");
    assert_eq!(prompt_text(&h).0, "prod", "the oldest");
    h.press("<up>");
    assert_eq!(prompt_text(&h).0, "prod", "nothing older");
    h.press("<down>");
    assert_eq!(prompt_text(&h).0, "cart");
    h.press("<down><down>");
    assert_eq!(prompt_text(&h).0, "", "back to what was typed");
    h.press("<up><enter>");
    assert_eq!(h.state.focused().filter, "ledger");
}

#[test]
fn colon_offers_the_last_command_selected_and_up_recalls_older_ones() {
    let mut h = console();
    h.press(":");
    assert_eq!(prompt_text(&h), (String::new(), false), "no command yet");
    h.press("<esc>/prod<enter>:tasks<enter>");
    h.press(":");
    assert_eq!(prompt_text(&h), ("tasks".into(), true));
    assert!(h.shown_selected_after(" :"), "shown selected");
    // Typing replaces it.
    h.press("instances<enter>");
    assert_eq!(h.state.focused().pane.kind(), PaneKind::Instances);
    h.press(":cl<up>");
    assert_eq!(prompt_text(&h), ("instances".into(), false));
    h.press("<up>");
    assert_eq!(prompt_text(&h).0, "tasks");
    h.press("<enter>");
    assert_eq!(h.state.focused().pane.kind(), PaneKind::Tasks);
    // Enter on the offered command runs it again.
    h.press(":<enter>");
    assert_eq!(h.state.focused().pane.kind(), PaneKind::Tasks);
}
