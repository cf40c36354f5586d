//! Big tables stay right when they are made fast: on `--demo large`'s 10,000-task pane (the
//! same code path as `--demo huge`'s 100,000, at a tenth of the test's time), filtering letter
//! by letter (which narrows the last filter's rows) gives exactly the rows of a fresh filter,
//! sorting is stable, the title's counts are the data's, and a new answer starts afresh.

use ecsmon::screen::table::RowCtx;
use ecsmon::state::View;
use ecsmon::testkit::Harness;
use ecsmon::update::rows;

fn tasks_pane() -> Harness {
    let mut h = Harness::new("large", 160, 45);
    h.press(":tasks<enter>");
    assert_eq!(h.state.focused().rows.len(), 10_000);
    h
}

/// The focused view's rows, as a view built from nothing (no cache) with the same filter and
/// sort would list them.
fn fresh_rows(h: &Harness) -> Vec<usize> {
    let focused = h.state.focused();
    let mut fresh = View::new(focused.pane.clone());
    fresh.filter = focused.filter.clone();
    fresh.sort = focused.sort;
    let ctx = RowCtx {
        now: h.state.now,
        metrics: &h.state.metrics,
        triage: &h.state.triage,
    };
    rows::refresh(&mut fresh, &h.state.fleet, &ctx, h.state.stopped_window);
    fresh.rows
}

#[test]
fn filtering_letter_by_letter_gives_the_rows_of_a_fresh_filter() {
    let mut h = tasks_pane();
    // Each letter narrows the last rows; each must equal the filter typed at once.
    for typed in ["c", "ca", "car", "cart", "cart-", "cart-a", "cart-api"] {
        h.press(&format!("/<c-u>{typed}<enter>"));
        assert_eq!(h.state.focused().filter, typed);
        assert_eq!(h.state.focused().rows, fresh_rows(&h), "after '{typed}'");
    }
    assert_eq!(h.state.focused().rows.len(), 50, "cart-api's 50 tasks");
    // Backspace widens again, an inverted filter and a letter in the middle don't narrow.
    for typed in [
        "cart",
        "!cart",
        "!cart-api",
        "art-api",
        "RUNNING",
        "running",
        "zzz",
    ] {
        h.press(&format!("/<c-u>{typed}<enter>"));
        assert_eq!(h.state.focused().rows, fresh_rows(&h), "after '{typed}'");
    }
    assert!(h.state.focused().rows.is_empty(), "nothing matches zzz");
    h.press("/<c-u>!cart-api<enter>");
    assert_eq!(h.state.focused().rows.len(), 9_950);
}

#[test]
fn filtering_under_a_sort_keeps_the_sorted_order() {
    let mut h = tasks_pane();
    // SERVICE (a text column), reversed.
    h.press("ooo");
    h.press("O");
    assert_eq!(h.state.focused().sort.column, Some(2));
    assert!(h.state.focused().sort.reverse);
    for typed in ["p", "pa", "pay", "payments"] {
        h.press(&format!("/<c-u>{typed}<enter>"));
        assert_eq!(h.state.focused().rows, fresh_rows(&h), "after '{typed}'");
    }
    let shown: Vec<String> = (0..h.state.focused().rows.len())
        .map(|row| {
            let query = h.state.focused().pane.query();
            let task = &h.state.fleet.tasks(&query)[h.state.focused().rows[row]];
            task.service_name().unwrap_or_default().to_string()
        })
        .collect();
    let mut sorted = shown.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(shown, sorted, "reverse order by service");
}

#[test]
fn a_sort_with_ties_keeps_the_natural_order_among_them() {
    let mut h = tasks_pane();
    let natural = h.state.focused().rows.clone();
    // SERVICE: within one service, the natural order of its tasks.
    h.press("ooo");
    assert_eq!(h.state.focused().sort.column, Some(2));
    let rows = h.state.focused().rows.clone();
    let query = h.state.focused().pane.query();
    let tasks = h.state.fleet.tasks(&query);
    for pair in rows.windows(2) {
        let (a, b) = (&tasks[pair[0]], &tasks[pair[1]]);
        assert!(a.service_name() <= b.service_name());
        if a.service_name() == b.service_name() {
            assert!(pair[0] < pair[1], "ties keep the natural order");
        }
    }
    // LAST: every task is RUNNING, so all tie and the natural order stays.
    h.press("o");
    assert_eq!(h.state.focused().sort.column, Some(3));
    assert_eq!(h.state.focused().rows, natural);
}

#[test]
fn the_title_counts_are_the_datas() {
    let mut h = tasks_pane();
    h.press("/cart<enter>");
    let query = h.state.focused().pane.query();
    let tasks = h.state.fleet.tasks(&query);
    let carts = tasks
        .iter()
        .filter(|t| t.service_name().is_some_and(|s| s.contains("cart")))
        .count();
    assert_eq!(h.state.focused().total, 10_000);
    assert_eq!(h.state.focused().rows.len(), carts);
    let frame = h.render();
    assert!(
        frame.contains(&format!(
            "({} of 10,000)",
            ecsmon::screen::format::grouped(carts)
        )),
        "the title says how many of how many"
    );
}

#[test]
fn a_new_answer_is_filtered_afresh() {
    let mut h = tasks_pane();
    h.press("/cart-api<enter>");
    // Time passes: the fleet moves and the pane is answered again.
    for _ in 0..12 {
        h.advance(10);
    }
    assert_eq!(h.state.focused().rows, fresh_rows(&h));
    assert!(!h.state.focused().rows.is_empty());
}

/// The pane answered again with the same rows: what was derived from them (the lowercased
/// cells, the sorted order) is kept, not rebuilt; when a row changes, the rows are filtered
/// afresh (the changed row's cells made again, the others' kept) and match a fresh filter.
#[test]
fn an_identical_answer_keeps_the_rows_cache_and_a_changed_one_rebuilds_it() {
    use ecsmon::action::Action;
    use ecsmon::model::Snapshot;
    use std::sync::Arc;

    let mut h = tasks_pane();
    h.press("o/zz-<enter>");
    assert!(h.state.focused().rows.is_empty(), "no zone is called zz-");
    let query = h.state.focused().pane.query();
    let keys = Arc::clone(
        h.state
            .focused()
            .cache
            .keys
            .as_ref()
            .expect("built by the filter"),
    );
    let mut tasks = h.state.fleet.tasks(&query).to_vec();
    // As the poller answers: fingerprinted (10,000 tasks are big enough).
    let answer = |h: &mut Harness, tasks: Vec<ecsmon::model::Task>| {
        let seq = h.state.fleet.slot(&query).unwrap().applied_seq + 1;
        let at = h.state.now;
        let snapshot = Snapshot::Tasks(tasks);
        let fingerprint = snapshot.fingerprint();
        assert!(fingerprint.is_some());
        h.dispatch(Action::Loaded {
            fingerprint,
            query: query.clone(),
            seq,
            at,
            result: Ok(snapshot),
        });
    };

    answer(&mut h, tasks.clone());
    let cache = &h.state.focused().cache;
    assert!(Arc::ptr_eq(cache.keys.as_ref().unwrap(), &keys), "kept");
    assert_eq!(h.state.focused().rows, fresh_rows(&h));

    tasks[4_321].availability_zone = "zz-1".into();
    answer(&mut h, tasks);
    let cache = &h.state.focused().cache;
    assert!(!Arc::ptr_eq(cache.keys.as_ref().unwrap(), &keys), "rebuilt");
    assert_eq!(h.state.focused().rows, fresh_rows(&h));
    assert_eq!(
        h.state.focused().rows.len(),
        1,
        "the changed task now matches"
    );
}
