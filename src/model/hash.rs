//! The one stable hash: the same value on every run, platform and release, for whatever is
//! derived from a name and must not change between runs (the demo's ids, noise and choices).
//! std's hashers are randomly seeded or unspecified, so they can't serve here.

use std::hash::Hasher;

/// FNV-1a (64-bit) over the parts, as if they were one byte string.
pub fn stable(parts: &[&[u8]]) -> u64 {
    let mut h = fnv::FnvHasher::default();
    for part in parts {
        h.write(part);
    }
    h.finish()
}

/// A value's fingerprint, from its `Hash` (faster than [`of_debug`]; stable within a run —
/// enough to tell two answers apart — but not across releases). foldhash's quality hasher
/// with a fixed seed, not FNV: FNV takes a byte at a time, and the 60,000 tasks of a big
/// pane's every answer were an eighth of the console's idle CPU.
pub fn of_hash(value: &impl std::hash::Hash) -> u64 {
    use std::hash::BuildHasher;
    foldhash::quality::FixedState::with_seed(0).hash_one(value)
}

/// A hasher for fingerprints fed piece by piece (as [`of_hash`]: stable within a run, fixed
/// seed): std's default SipHash is several times slower over the triage engine's inputs.
pub fn hasher() -> foldhash::quality::FoldHasher<'static> {
    use std::hash::BuildHasher;
    foldhash::quality::FixedState::with_seed(0).build_hasher()
}

/// The maps and sets keyed by what the console looks up by the ten thousand on the UI loop
/// (metric series keys: a namespace, a name and a few dimensions of text): foldhash, seeded
/// per run, several times faster than std's SipHash over such keys. The keys are AWS's
/// names and ids, not input crafted against the hasher.
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// A [`FastMap`]'s set.
pub type FastSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

/// A value's fingerprint: the stable hash of its `Debug` text, streamed (never built whole).
/// Equal values have equal fingerprints; two that differ share one with a chance of 2⁻⁶⁴.
pub fn of_debug(value: &impl std::fmt::Debug) -> u64 {
    struct Feed(fnv::FnvHasher);
    impl std::fmt::Write for Feed {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0.write(s.as_bytes());
            Ok(())
        }
    }
    let mut feed = Feed(fnv::FnvHasher::default());
    // Writing into a hasher cannot fail.
    let _ = std::fmt::write(&mut feed, format_args!("{value:?}"));
    feed.0.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_published_fnv1a_vectors() {
        // From the FNV reference test suite (64-bit FNV-1a).
        assert_eq!(stable(&[]), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable(&[b"a"]), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(stable(&[b"foobar"]), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn equal_values_share_a_fingerprint_and_different_ones_do_not() {
        let a = vec![("web", 2, Some(1.5)), ("api", 3, None)];
        assert_eq!(of_debug(&a), of_debug(&a.clone()));
        let mut b = a.clone();
        b[1].1 = 4;
        assert_ne!(of_debug(&a), of_debug(&b));
    }

    #[test]
    fn hashed_fingerprints_tell_values_apart_too() {
        let a = vec![("web", 2), ("api", 3)];
        assert_eq!(of_hash(&a), of_hash(&a.clone()));
        assert_ne!(of_hash(&a), of_hash(&vec![("web", 2), ("api", 4)]));
    }

    #[test]
    fn parts_hash_like_their_concatenation() {
        assert_eq!(stable(&[b"foo", b"bar"]), stable(&[b"foobar"]));
        assert_ne!(stable(&[b"foo"]), stable(&[b"bar"]));
    }
}
