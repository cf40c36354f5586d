//! Giving freed memory back to the system. glibc's allocator keeps the pages of freed blocks
//! for later allocations, so a console that let go of a 60,000-task answer would keep its
//! resident size; after such a drop (never on the UI loop: trimming walks the heap) it is asked
//! to return what it can. Other allocators and platforms: nothing to do — the binary runs on
//! mimalloc (src/main.rs), which returns freed pages by itself; this serves the library's
//! other users (tests, benchmarks) on the system allocator.

// malloc_trim is a C function.
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
