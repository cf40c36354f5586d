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
    fn parts_hash_like_their_concatenation() {
        assert_eq!(stable(&[b"foo", b"bar"]), stable(&[b"foobar"]));
        assert_ne!(stable(&[b"foo"]), stable(&[b"bar"]));
    }
}
