//! What one big answer holds in memory, counted by the allocator: the 60,000 tasks of
//! `--demo huge`'s core cluster. A task copied into an answer shares its text with the
//! simulation's (and every other copy's), so an answer costs its rows, not their strings
//! again. Alone in its own test binary: the count is process-wide.

// A counting global allocator.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use ecsmon::model::TaskScope;
use ecsmon::source::FleetSource;
use ecsmon::source::demo::{DemoClock, DemoSource};

/// Bytes allocated and not freed.
static HELD: AtomicUsize = AtomicUsize::new(0);

struct Counting;

// SAFETY: every call goes to the system allocator unchanged; only a counter is kept beside.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        HELD.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's layout is passed on as it came.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HELD.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

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
    let before = HELD.load(Ordering::Relaxed);
    let tasks = runtime.block_on(src.tasks(&scope, false)).unwrap();
    let held = HELD.load(Ordering::Relaxed) - before;
    assert_eq!(tasks.len(), 60_000);
    let per_task = held / tasks.len();
    // The row itself (256 bytes), its containers (88 bytes each) and its tags' list: nothing
    // of its ARNs, statuses, image or runtime ids. Their own copies made it 2,271 bytes.
    assert!(per_task < 700, "{per_task} bytes a task");
    let task = &tasks[0];
    let again = runtime.block_on(src.tasks(&scope, false)).unwrap();
    assert!(again[0].arn.shares(&task.arn), "one ARN, shared");
    assert!(
        again[0].containers[0]
            .image
            .shares(&task.containers[0].image)
    );
}
