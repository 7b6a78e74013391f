//! A map from 64-bit numbers (blocks, records) to small values, in a few bytes more
//! than its entries: the judge's per-block and per-record tables.
//!
//! A hash map of the standard library holds a control byte per bucket and doubles
//! its buckets when it fills, so between two doublings its load is 7/16 to 7/8 and
//! while one is under way the old table is alive too. Here the keys are split over
//! [`PARTS`] parts by their low 8 bits, each part an open-addressing table of
//! `(key >> 8) + 1` as 4 bytes (0: an empty slot) and the value, probed linearly;
//! a part grows by a quarter on its own when 7/8 full, so the load stays between 0.7
//! and 0.875 and a growth copies a part, never the whole. Keys from 2^40 on (whose
//! high bits do not fit the 4 bytes) go to an ordinary hash map beside.

use rustc_hash::FxHashMap;

/// Parts of a [`PartMap`], chosen by a key's low 8 bits.
pub const PARTS: usize = 256;

/// Keys from here on are held in the ordinary hash map.
const SPLIT_KEYS_END: u64 = ((u32::MAX as u64) - 1) << 8;

/// One slot: the key's high bits plus one (0: empty) and the value.
#[derive(Debug, Clone, Copy, Default)]
struct Slot<V> {
    key: u32,
    value: V,
}

#[derive(Debug, Clone)]
struct Part<V> {
    slots: Vec<Slot<V>>,
    len: usize,
}

impl<V> Default for Part<V> {
    fn default() -> Self {
        Part {
            slots: Vec::new(),
            len: 0,
        }
    }
}

/// Where `key` (a part's key, non-zero) starts probing in `n` slots.
fn home(key: u32, n: usize) -> usize {
    let h = u64::from(key).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    ((u128::from(h) * n as u128) >> 64) as usize
}

impl<V: Copy + Default> Part<V> {
    /// The slot holding `key`, or the empty slot where it would go.
    fn find(&self, key: u32) -> Result<usize, usize> {
        let n = self.slots.len();
        let mut i = home(key, n);
        loop {
            let k = self.slots[i].key;
            if k == key {
                return Ok(i);
            }
            if k == 0 {
                return Err(i);
            }
            i += 1;
            if i == n {
                i = 0;
            }
        }
    }

    fn get(&self, key: u32) -> Option<&V> {
        if self.slots.is_empty() {
            return None;
        }
        self.find(key).ok().map(|i| &self.slots[i].value)
    }

    fn entry(&mut self, key: u32) -> &mut V {
        if (self.len + 1) * 8 > self.slots.len() * 7 {
            self.grow();
        }
        let i = match self.find(key) {
            Ok(i) => i,
            Err(i) => {
                self.slots[i].key = key;
                self.len += 1;
                i
            }
        };
        &mut self.slots[i].value
    }

    /// A quarter more slots (at least 8), every entry placed again.
    fn grow(&mut self) {
        let n = (self.slots.len() + self.slots.len() / 4).max(8);
        let old = std::mem::replace(&mut self.slots, vec![Slot::default(); n]);
        for s in old.into_iter().filter(|s| s.key != 0) {
            let Err(i) = self.find(s.key) else {
                unreachable!("each key is held once");
            };
            self.slots[i] = s;
        }
    }
}

/// A map from `u64` to `V` (see the module doc). Each entry costs
/// `size_of::<V>() + 4` bytes, rounded up to `V`'s alignment, over a load of 0.7-0.875.
#[derive(Debug, Clone)]
pub struct PartMap<V> {
    parts: Vec<Part<V>>,
    /// Keys from [`SPLIT_KEYS_END`] on.
    big: FxHashMap<u64, V>,
}

impl<V: Copy + Default> Default for PartMap<V> {
    fn default() -> Self {
        PartMap {
            parts: Vec::new(),
            big: FxHashMap::default(),
        }
    }
}

impl<V: Copy + Default> PartMap<V> {
    /// Entries held.
    pub fn len(&self) -> usize {
        self.parts.iter().map(|p| p.len).sum::<usize>() + self.big.len()
    }

    /// True when no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `key`'s value, if held.
    pub fn get(&self, key: u64) -> Option<&V> {
        if key >= SPLIT_KEYS_END {
            return self.big.get(&key);
        }
        self.parts
            .get((key as usize) % PARTS)?
            .get((key >> 8) as u32 + 1)
    }

    /// `key`'s value, inserted as `V::default()` when not held.
    pub fn entry(&mut self, key: u64) -> &mut V {
        if key >= SPLIT_KEYS_END {
            return self.big.entry(key).or_default();
        }
        if self.parts.is_empty() {
            self.parts = vec![Part::default(); PARTS];
        }
        self.parts[(key as usize) % PARTS].entry((key >> 8) as u32 + 1)
    }

    /// Sets `key`'s value.
    pub fn insert(&mut self, key: u64, value: V) {
        *self.entry(key) = value;
    }

    /// Every entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, V)> + '_ {
        self.parts
            .iter()
            .enumerate()
            .flat_map(|(p, part)| {
                part.slots
                    .iter()
                    .filter(|s| s.key != 0)
                    .map(move |s| ((u64::from(s.key - 1) << 8) | p as u64, s.value))
            })
            .chain(self.big.iter().map(|(&k, &v)| (k, v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use std::collections::BTreeMap;

    /// Random inserts, overwrites and lookups, keys small, large and past the split,
    /// agree with an ordered map; the load stays at most 7/8.
    #[test]
    fn it_agrees_with_an_ordered_map() {
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut m = PartMap::<(u64, u32)>::default();
        let mut want = BTreeMap::new();
        assert!(m.is_empty() && m.get(3).is_none());
        for i in 0..60_000u32 {
            let key = match r.random_range(0..4) {
                0 => r.random_range(0..1_000),
                1 => r.random_range(0..1 << 28),
                2 => r.random_range(SPLIT_KEYS_END - 600..SPLIT_KEYS_END + 600),
                _ => r.random(),
            };
            if r.random_bool(0.8) {
                m.insert(key, (key ^ 5, i));
                want.insert(key, (key ^ 5, i));
            } else {
                assert_eq!(m.get(key), want.get(&key));
            }
        }
        assert_eq!(m.len(), want.len());
        let mut got: Vec<(u64, (u64, u32))> = m.iter().collect();
        got.sort_unstable();
        assert_eq!(got, want.into_iter().collect::<Vec<_>>());
        assert!(m.big.len() > 100, "keys past the split reached");
        for p in &m.parts {
            assert!(p.len * 8 <= p.slots.len() * 7);
        }
        *m.entry(1) = (0, 0);
        assert_eq!(m.get(1), Some(&(0, 0)));
    }
}
