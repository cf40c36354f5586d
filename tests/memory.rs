//! What one big answer holds in memory, counted by the allocator: the 60,000 tasks of
//! `--demo huge`'s core cluster. A task copied into an answer shares its text with the
//! simulation's (and every other copy's), so an answer costs its rows, not their strings
//! again. Alone in its own test binary: the count is process-wide.

use std::alloc::System;

use ecsmon::memory::{Counting, live_bytes};
use ecsmon::model::TaskScope;
use ecsmon::source::FleetSource;
use ecsmon::source::demo::{DemoClock, DemoSource};

/// Bytes allocated and not freed.
#[global_allocator]
static ALLOCATOR: Counting<System> = Counting(System);

#[test]
fn a_huge_answer_shares_its_tasks_text_with_the_simulation() {
    let start = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .to_utc();
    let src = DemoSource::new("huge", 1, start, DemoClock::Fixed(start)).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let scope = TaskScope::Cluster {
        cluster: "core".into(),
    };
    let before = live_bytes();
    let tasks = runtime.block_on(src.tasks(&scope, false)).unwrap();
    let held = live_bytes() - before;
    assert_eq!(tasks.len(), 60_000);
    let per_task = held / tasks.len();
    // The row itself (256 bytes), its containers (88 bytes each) and its tags' list: nothing
    // of its ARNs, statuses, image or runtime ids. Their own copies made it 2,271 bytes.
    assert!(per_task < 700, "{per_task} bytes a task");
    // And at least the row: the count sees the answer at all.
    let row = size_of::<ecsmon::model::Task>();
    assert!(
        per_task >= row,
        "{per_task} bytes a task, under a row's {row}"
    );
    let task = &tasks[0];
    let again = runtime.block_on(src.tasks(&scope, false)).unwrap();
    assert!(again[0].arn.shares(&task.arn), "one ARN, shared");
    assert!(
        again[0].containers[0]
            .image
            .shares(&task.containers[0].image)
    );
}
