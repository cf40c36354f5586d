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
    /// version is another than the last one's, starting from the last order (an answer
    /// mostly lists the rows the one before did, in the same order, so it is nearly sorted).
    pub fn of<'a, T>(
        &self,
        version: u64,
        rows: &'a [T],
        key: impl Fn(&'a T) -> &'a str,
    ) -> Arc<[u32]> {
        let previous = {
            let held = self.0.lock().unwrap_or_else(|e| e.into_inner());
            match held.as_ref() {
                Some(s) if s.version == version && s.positions.len() == rows.len() => {
                    return Arc::clone(&s.positions);
                }
                Some(s) if s.positions.len() == rows.len() => Some(Arc::clone(&s.positions)),
                _ => None,
            }
        };
        // Sorted without the lock held: the UI loop may ask for another version meanwhile.
        let mut positions: Vec<u32> = match previous {
            Some(p) => p.to_vec(),
            None => (0..rows.len() as u32).collect(),
        };
        // Stable, and quick on a nearly sorted start (it finds the runs already in order).
        positions.sort_by(|&a, &b| key(&rows[a as usize]).cmp(key(&rows[b as usize])));
        let positions: Arc<[u32]> = positions.into();
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
    fn the_same_version_is_not_sorted_again() {
        let order = KeyOrder::default();
        let first = order.of(7, &["b", "a"], |r| r);
        let again = order.of(7, &["b", "a"], |r| r);
        assert!(Arc::ptr_eq(&first, &again));
    }
}
