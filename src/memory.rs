//! Memory: giving freed memory back to the system, and counting what is held (the memory
//! tests and benchmarks). Giving back: glibc's allocator keeps the pages of freed blocks
//! for later allocations, so a console that let go of a 60,000-task answer would keep its
//! resident size; after such a drop (never on the UI loop: trimming walks the heap) it is asked
//! to return what it can. Other allocators and platforms: nothing to do — the binary runs on
//! mimalloc (src/main.rs), which returns freed pages by itself; this serves the library's
//! other users (tests, benchmarks) on the system allocator.

// malloc_trim is a C function; a global allocator is an unsafe trait.
#![allow(unsafe_code)]

/// Returns the allocator's free pages to the system, where the allocator supports it.
pub fn release_to_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory the allocator holds; it takes the
    // allocator's own locks and touches no block in use.
    unsafe {
        libc::malloc_trim(0);
    }
}

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Heap bytes live under [`Counting`].
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// A global allocator that counts the heap bytes live and forwards every call to `A`
/// unchanged: the memory tests and benchmarks install it (`#[global_allocator]`) over the
/// allocator they measure and read [`live_bytes`].
pub struct Counting<A>(pub A);

/// Heap bytes allocated and not yet freed, when [`Counting`] is the global allocator.
pub fn live_bytes() -> usize {
    LIVE.load(Ordering::Relaxed)
}

// SAFETY: every call is forwarded unchanged to `A`; only a counter is kept beside.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on unchanged.
        unsafe { self.0.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on unchanged.
        unsafe { self.0.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on unchanged.
        unsafe { self.0.realloc(ptr, layout, new_size) }
    }
}
