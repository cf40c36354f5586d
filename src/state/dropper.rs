//! Freeing big values off the UI loop: freeing 100,000 tasks or 20,000 metric ids (millions of
//! small allocations) takes longer than a frame.

/// What becomes of the memory of a big value once it is freed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Release {
    /// Kept by the allocator: the next answer to the same query fills it again.
    Keep,
    /// Given back to the system (the allocator keeps freed pages otherwise, so leaving a
    /// 60,000-task pane would not lower the resident memory).
    ToSystem,
}

/// Drops `value` on a thread of its own (here, if that thread could not be started).
pub fn drop_elsewhere(value: Box<dyn Send>, release: Release) {
    type Dropped = (Box<dyn Send>, Release);
    static DROPPER: std::sync::LazyLock<Option<std::sync::mpsc::Sender<Dropped>>> =
        std::sync::LazyLock::new(|| {
            let (tx, rx) = std::sync::mpsc::channel::<Dropped>();
            std::thread::Builder::new()
                .name("drop-answers".into())
                .spawn(move || {
                    for (value, release) in rx {
                        drop(value);
                        if release == Release::ToSystem {
                            crate::memory::release_to_system();
                        }
                    }
                })
                .ok()
                .map(|_| tx)
        });
    if let Some(tx) = DROPPER.as_ref() {
        // A send fails only if the thread is gone: the value is then dropped here.
        let _ = tx.send((value, release));
    }
}
