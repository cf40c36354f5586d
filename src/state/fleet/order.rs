//! A slot's rows in ARN order, worked out once per version of its data: the fleet-wide lists
//! the rules read ([`super::Fleet::tasks_since`] and the like) merge the slots' orders instead
//! of sorting 100,000 tasks again at every evaluation.

use std::sync::{Arc, Mutex};

/// The positions of a slot's rows sorted by their key, for the data version it was worked out
/// for. Shared by the slot's clones (the engine's frozen copy of the fleet fills it for the UI
/// loop's too). A stale order can only cost time, never a wrong answer: the caller sorts the
/// rows it reads in this order again (a pass over rows already in order), and an order of
/// another length is not used at all.
#[derive(Debug, Default, Clone)]
pub struct KeyOrder(Arc<Mutex<Option<Sorted>>>);

#[derive(Debug)]
struct Sorted {
    version: u64,
    positions: Arc<[u32]>,
}

/// A cache is no part of the slot's value.
impl PartialEq for KeyOrder {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl KeyOrder {
    /// The positions of `rows` in the order of `key`, for data `version`: sorted here when the
    /// version is another than the last one's.
    pub fn of<'a, T>(
        &self,
        version: u64,
        rows: &'a [T],
        key: impl Fn(&'a T) -> &'a str,
    ) -> Arc<[u32]> {
        {
            let held = self.0.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(s) = held.as_ref()
                && s.version == version
                && s.positions.len() == rows.len()
            {
                return Arc::clone(&s.positions);
            }
        }
        // Sorted without the lock held: the UI loop may ask for another version meanwhile.
        let positions: Arc<[u32]> = sorted_by_key(rows, key).into();
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(Sorted {
            version,
            positions: Arc::clone(&positions),
        });
        positions
    }

    /// The version the held order was worked out for (tests).
    #[cfg(test)]
    pub fn version(&self) -> Option<u64> {
        self.0.lock().unwrap().as_ref().map(|s| s.version)
    }
}

/// The positions of `rows` in the order of their keys (ties in their own order). Each key is
/// read once into the 16 bytes that follow the prefix all keys share: 60,000 task ARNs
/// compared whole, each in its own allocation, took 100 ms a sort; their heads compare as
/// numbers in one array, and only rows whose heads are equal compare their keys.
fn sorted_by_key<'a, T>(rows: &'a [T], key: impl Fn(&'a T) -> &'a str) -> Vec<u32> {
    let Some(first) = rows.first().map(&key) else {
        return Vec::new();
    };
    let mut shared = first.len();
    for row in rows {
        let k = key(row).as_bytes();
        shared = first.as_bytes()[..shared]
            .iter()
            .zip(k)
            .take_while(|(a, b)| a == b)
            .count();
    }
    let head = |k: &str| {
        let mut bytes = [0u8; 16];
        let tail = &k.as_bytes()[shared..];
        let n = tail.len().min(16);
        bytes[..n].copy_from_slice(&tail[..n]);
        u128::from_be_bytes(bytes)
    };
    let mut keyed: Vec<(u128, u32)> = rows
        .iter()
        .enumerate()
        .map(|(i, row)| (head(key(row)), i as u32))
        .collect();
    // A shorter key's head is padded with zeros: heads order as their keys do, or are equal.
    keyed.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| key(&rows[a.1 as usize]).cmp(key(&rows[b.1 as usize])))
            .then(a.1.cmp(&b.1))
    });
    keyed.into_iter().map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted<'a>(order: &KeyOrder, version: u64, rows: &'a [&'a str]) -> Vec<&'a str> {
        order
            .of(version, rows, |r| r)
            .iter()
            .map(|&i| rows[i as usize])
            .collect()
    }

    #[test]
    fn the_order_is_worked_out_again_for_another_version() {
        let order = KeyOrder::default();
        assert_eq!(sorted(&order, 1, &["b", "c", "a"]), ["a", "b", "c"]);
        assert_eq!(order.version(), Some(1));
        // Another version of the same length: not the old order.
        assert_eq!(sorted(&order, 2, &["c", "a", "b"]), ["a", "b", "c"]);
        assert_eq!(order.version(), Some(2));
        // Another length.
        assert_eq!(sorted(&order, 3, &["d", "a"]), ["a", "d"]);
        // A clone shares what was worked out.
        let clone = order.clone();
        assert_eq!(clone.version(), Some(3));
        assert_eq!(sorted(&clone, 3, &["d", "a"]), ["a", "d"]);
    }

    #[test]
    fn rows_sort_as_their_keys_compared_whole_ties_in_their_own_order() {
        let keys = [
            "arn:aws:ecs:r:1:task/core/ffff",
            "arn:aws:ecs:r:1:task/core/0123456789abcdef0123",
            "arn:aws:ecs:r:1:task/core/0123456789abcdef0122",
            "arn:aws:ecs:r:1:task/core/0",
            "arn:aws:ecs:r:1:task/core/0\u{0}",
            "arn:aws:ecs:r:1:task/core/0",
            "arn:aws:ecs:r:1:task/core/",
            "arn:aws:ecs:r:1:task/core/ffff",
            "arn:aws:ecs:r:1:task/a",
        ];
        let mut expected: Vec<u32> = (0..keys.len() as u32).collect();
        expected.sort_by(|&a, &b| keys[a as usize].cmp(keys[b as usize]));
        assert_eq!(sorted_by_key(&keys, |k| k), expected);
        assert!(sorted_by_key(&[] as &[&str], |k| k).is_empty());
        assert_eq!(sorted_by_key(&["only"], |k| k), [0]);
    }

    #[test]
    fn the_same_version_is_not_sorted_again() {
        let order = KeyOrder::default();
        let first = order.of(7, &["b", "a"], |r| r);
        let again = order.of(7, &["b", "a"], |r| r);
        assert!(Arc::ptr_eq(&first, &again));
    }
}
