//! Sorting 100,000 rows within a frame: each row's key is packed into one integer that orders
//! as the key does (a number's bits, a text's first bytes and length), so the sort compares
//! integers held side by side in one array. Only texts that agree on their first 14 bytes
//! and are longer than that are read again in full, to tell them apart.

/// A row's sort key: numbers sort before texts (a metric column's rows without data are
/// numbers below every value).
#[derive(Debug, Clone, Copy)]
pub enum Key<'a> {
    Num(f64),
    Text(&'a str),
}

/// Bytes of a text held in its packed key (one more is its length, one the kind).
const PREFIX: usize = 14;

/// `key` packed: the kind in the top byte, then a number's bits ordered as
/// [`f64::total_cmp`] orders them, or a text's [`PREFIX`] bytes from `from` and the length
/// of the rest (up to [`PREFIX`] + 1, which means "longer: read on where it ties").
fn pack(key: Key, from: usize) -> u128 {
    match key {
        Key::Num(n) => {
            let bits = n.to_bits();
            // Negative numbers have their order reversed by flipping every bit; positive
            // ones go above them by their sign bit.
            let ordered = if bits >> 63 == 1 {
                !bits
            } else {
                bits | 1 << 63
            };
            u128::from(ordered) << 56
        }
        Key::Text(text) => {
            let rest = text.as_bytes().get(from..).unwrap_or_default();
            let mut packed = 1u128 << 120;
            for (i, &b) in rest.iter().take(PREFIX).enumerate() {
                packed |= u128::from(b) << (112 - 8 * i);
            }
            packed | rest.len().min(PREFIX + 1) as u128
        }
    }
}

/// A packed text whose length byte says it was cut: two such with the same packing may differ
/// further on.
fn cut(packed: u128) -> bool {
    packed >> 120 == 1 && packed & 0xff == (PREFIX + 1) as u128
}

/// The rows `0..len` in the order of their keys, ties in row order. `key` is read once a row,
/// and once more a row for each further [`PREFIX`] bytes of texts that tie so far.
pub fn sorted<'a>(len: usize, key: impl Fn(usize) -> Key<'a>) -> Vec<usize> {
    let from = shared_start(len, &key);
    let mut packed: Vec<(u128, u32)> = (0..len).map(|i| (pack(key(i), from), i as u32)).collect();
    sort_from(&mut packed, &key, from);
    packed.into_iter().map(|(_, i)| i as usize).collect()
}

/// How many first bytes every text key shares (ids and ARNs share long beginnings): the
/// packing starts after them, so they take no room in it.
fn shared_start<'a>(len: usize, key: &impl Fn(usize) -> Key<'a>) -> usize {
    let mut first: Option<&[u8]> = None;
    for i in 0..len {
        let Key::Text(text) = key(i) else {
            // Numbers beside texts: the texts' bytes are packed whole.
            return 0;
        };
        let text = text.as_bytes();
        match first {
            None => first = Some(text),
            Some(shared) => {
                let same = shared.iter().zip(text).take_while(|(a, b)| a == b).count();
                first = Some(&shared[..same]);
            }
        }
        if first.is_some_and(<[u8]>::is_empty) {
            return 0;
        }
    }
    first.map_or(0, <[u8]>::len)
}

/// Sorts `rows` by their keys packed from byte `from`, then each run of texts that still tie
/// and go on by the bytes after these (a radix sort by the most significant bytes first).
fn sort_from<'a>(rows: &mut [(u128, u32)], key: &impl Fn(usize) -> Key<'a>, from: usize) {
    // The row number breaks ties: the order is the same whatever the sort's own order.
    rows.sort_unstable();
    let mut start = 0;
    while start < rows.len() {
        let packed = rows[start].0;
        let end = start + rows[start..].iter().take_while(|r| r.0 == packed).count();
        if end - start > 1 && cut(packed) {
            let run = &mut rows[start..end];
            let next = from + PREFIX;
            for row in run.iter_mut() {
                row.0 = pack(key(row.1 as usize), next);
            }
            sort_from(run, key, next);
        }
        start = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    /// What the packing must agree with: the keys compared as they are.
    fn plain(keys: &[Key]) -> Vec<usize> {
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_by(|&a, &b| {
            match (keys[a], keys[b]) {
                (Key::Num(x), Key::Num(y)) => x.total_cmp(&y),
                (Key::Text(x), Key::Text(y)) => x.cmp(y),
                (Key::Num(_), Key::Text(_)) => Ordering::Less,
                (Key::Text(_), Key::Num(_)) => Ordering::Greater,
            }
            .then(a.cmp(&b))
        });
        order
    }

    #[test]
    fn texts_sort_as_their_bytes_do_whatever_their_length() {
        let texts = [
            "running",
            "",
            "run",
            "running",
            "10.0.12.3",
            "10.0.1.23",
            "abcdefghijklmn",
            "abcdefghijklmno",
            "abcdefghijklmnZ",
            "abcdefghijklmnAB",
            "abcdefghijklmnoa",
            "abcdefghijklmn\0",
            "abcdefghijklmn",
            "é-service",
            "e-service",
            "pending",
        ];
        let keys: Vec<Key> = texts.iter().map(|t| Key::Text(t)).collect();
        assert_eq!(sorted(keys.len(), |i| keys[i]), plain(&keys));
    }

    #[test]
    fn numbers_sort_as_total_cmp_does_below_every_text() {
        let values = [
            3.5,
            -1.0,
            0.0,
            -0.0,
            f64::MIN,
            f64::MAX,
            -1e-300,
            1e-300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            3.5,
            42.0,
        ];
        let mut keys: Vec<Key> = values.iter().map(|&v| Key::Num(v)).collect();
        keys.insert(4, Key::Text("a"));
        keys.push(Key::Text(""));
        assert_eq!(sorted(keys.len(), |i| keys[i]), plain(&keys));
    }

    #[test]
    fn many_texts_of_few_letters_sort_as_their_bytes_do() {
        // Texts of 0 to 20 letters from "ab": long shared beginnings, every length near the cut.
        let mut seed = 7u64;
        let texts: Vec<String> = (0..2_000)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let len = (seed >> 33) as usize % 21;
                (0..len)
                    .map(|k| if seed >> (k + 3) & 1 == 1 { 'b' } else { 'a' })
                    .collect()
            })
            .collect();
        let keys: Vec<Key> = texts.iter().map(|t| Key::Text(t)).collect();
        assert_eq!(sorted(keys.len(), |i| keys[i]), plain(&keys));
    }

    #[test]
    fn texts_that_share_their_beginning_sort_by_the_rest() {
        let texts = [
            "i-0000000000000000012",
            "i-0000000000000000002",
            "i-00000000000000000",
            "i-0000000000000000001a",
            "i-0000000000000000001",
            "i-00000000000000000",
        ];
        let keys: Vec<Key> = texts.iter().map(|t| Key::Text(t)).collect();
        assert_eq!(shared_start(keys.len(), &|i| keys[i]), 19);
        assert_eq!(sorted(keys.len(), |i| keys[i]), plain(&keys));
    }

    #[test]
    fn equal_keys_keep_the_rows_order() {
        let keys = vec![Key::Text("same text that is long enough to be cut"); 50];
        assert_eq!(sorted(keys.len(), |i| keys[i]), (0..50).collect::<Vec<_>>());
    }
}
