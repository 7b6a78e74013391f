//! One part of a sparse block → slot map: of the device's entry index
//! (`device/entry_index.rs`) and of the lookup table's sparse form
//! ([`crate::block_slots`]): volume block → slot for the blocks of the part that have
//! an entry, in 8-byte slots.
//!
//! Shape, chosen for a uniform load on a 1 TiB volume (millions of entries, every
//! probe a cache miss): a block is keyed by its bits above the shard's (4 bytes), the
//! slot is its value (4 bytes, `u32::MAX` marking an empty slot: a data area has at
//! most [`crate::table::AREA_SLOTS_MAX`] slots), so eight slots share a cache line
//! (a `u64 → u32` hash map's bucket is 16 bytes and a control byte). Open addressing
//! with linear probing over a power-of-two array, grown ×2 past 7/8 full; a removal
//! shifts the following run back (no tombstones), so a probe ends at the first empty
//! slot. About 9-18 bytes an entry (load 0.44-0.875).

/// Marks an empty slot.
const EMPTY: u32 = u32::MAX;
/// Slots of a map's first allocation.
const SLOTS_MIN: usize = 8;

/// One slot: a block's key and its data-area slot.
#[derive(Clone, Copy)]
#[repr(C)]
struct Slot {
    key: u32,
    value: u32,
}

const VACANT: Slot = Slot {
    key: 0,
    value: EMPTY,
};

/// Bits of a block choosing its part in a sparse map over `volume_blocks` blocks: at
/// least `bits_min`, more when the block's other bits would not fit a 4-byte key.
pub(crate) fn part_bits(volume_blocks: u64, bits_min: u32) -> u32 {
    let bits = u64::BITS - volume_blocks.saturating_sub(1).leading_zeros();
    bits.saturating_sub(KEY_BITS).max(bits_min)
}

/// Most bits of a part's key.
const KEY_BITS: u32 = 32;

/// Slots a part's map has once it holds `entries` (grown twice over from
/// [`SLOTS_MIN`] whenever one more would pass 7/8 of its slots), and the slots it had
/// before its last growth (held beside the new ones while they are filled).
pub(crate) fn slots_for(entries: u64) -> (u64, u64) {
    let (mut n, mut before) = (0u64, 0u64);
    while entries.saturating_mul(8) > n * 7 {
        before = n;
        n = (n * 2).max(SLOTS_MIN as u64);
    }
    (n, before)
}

/// Bytes of a map's slot.
pub(crate) const SLOT_BYTES: u64 = std::mem::size_of::<Slot>() as u64;

/// A part's map (see the module doc).
#[derive(Default, Clone)]
pub(crate) struct EntryMap {
    slots: Vec<Slot>,
    len: usize,
}

impl EntryMap {
    /// The slot `key` hashes to among `n` (a power of two).
    #[inline]
    fn home(key: u32, n: usize) -> usize {
        let h = u64::from(key).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (h >> 32) as usize & (n - 1)
    }

    /// Where `key` is, or the empty slot ending its probe (`Err`); `None` with no slots.
    #[inline]
    fn probe(&self, key: u32) -> Option<Result<usize, usize>> {
        let n = self.slots.len();
        if n == 0 {
            return None;
        }
        let mut i = Self::home(key, n);
        loop {
            let s = self.slots[i];
            if s.value == EMPTY {
                return Some(Err(i));
            }
            if s.key == key {
                return Some(Ok(i));
            }
            i = (i + 1) & (n - 1);
        }
    }

    /// `key`'s value, if present.
    #[inline]
    pub(crate) fn get(&self, key: u32) -> Option<u32> {
        match self.probe(key)? {
            Ok(i) => Some(self.slots[i].value),
            Err(_) => None,
        }
    }

    /// Sets `key`'s value (`value` < `u32::MAX`); returns the value it had.
    pub(crate) fn insert(&mut self, key: u32, value: u32) -> Option<u32> {
        debug_assert_ne!(value, EMPTY);
        if let Some(Ok(i)) = self.probe(key) {
            return Some(std::mem::replace(&mut self.slots[i].value, value));
        }
        if (self.len + 1) * 8 > self.slots.len() * 7 {
            self.grow();
        }
        match self.probe(key) {
            Some(Err(i)) => self.slots[i] = Slot { key, value },
            _ => unreachable!("an absent key has an empty slot after growth"),
        }
        self.len += 1;
        None
    }

    /// Drops `key`, returning its value; the run after it shifts back so no probe
    /// crosses a hole.
    pub(crate) fn remove(&mut self, key: u32) -> Option<u32> {
        let Some(Ok(mut hole)) = self.probe(key) else {
            return None;
        };
        let value = self.slots[hole].value;
        let n = self.slots.len();
        let mut j = hole;
        loop {
            j = (j + 1) & (n - 1);
            let s = self.slots[j];
            if s.value == EMPTY {
                break;
            }
            // `s` may fill the hole unless its home lies cyclically in (hole, j].
            let home = Self::home(s.key, n);
            let stays = if hole <= j {
                hole < home && home <= j
            } else {
                hole < home || home <= j
            };
            if !stays {
                self.slots[hole] = s;
                hole = j;
            }
        }
        self.slots[hole] = VACANT;
        self.len -= 1;
        Some(value)
    }

    /// Entries held.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The entries `(key, value)`, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.slots
            .iter()
            .filter(|s| s.value != EMPTY)
            .map(|s| (s.key, s.value))
    }

    /// Where the slots are and how many (a prefetch hint's aim).
    pub(crate) fn span(&self) -> (usize, usize) {
        (self.slots.as_ptr() as usize, self.slots.len())
    }

    /// The address of the slot a probe of `key` starts at, in slots at `base` of `n`
    /// (a span, possibly stale: only a hint's aim, never read through).
    #[inline]
    pub(crate) fn home_address(base: usize, n: usize, key: u32) -> usize {
        base.wrapping_add(Self::home(key, n).wrapping_mul(std::mem::size_of::<Slot>()))
    }

    /// Twice the slots (at least [`SLOTS_MIN`]), every entry placed again.
    fn grow(&mut self) {
        let n = (self.slots.len() * 2).max(SLOTS_MIN);
        let old = std::mem::replace(&mut self.slots, vec![VACANT; n]);
        for s in old.into_iter().filter(|s| s.value != EMPTY) {
            match self.probe(s.key) {
                Some(Err(i)) => self.slots[i] = s,
                _ => unreachable!("keys are unique and the grown map has room"),
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// [`slots_for`] replays the map's growth: a map given `n` keys has its slots.
    #[test]
    fn slots_for_is_the_slots_a_map_grows_to() {
        let mut m = EntryMap::default();
        for n in 1..5_000u32 {
            m.insert(n.wrapping_mul(2_654_435_761), n);
            let (slots, before) = slots_for(u64::from(n));
            assert_eq!(m.slots.len() as u64, slots, "{n} keys");
            assert!(before < slots && (before == 0 || before * 2 == slots));
        }
    }

    /// Inserts, overwrites and removals of keys that collide (one home among few
    /// slots) and spread, against a map: the same values, every probe run intact.
    #[test]
    fn the_map_agrees_with_a_hash_map_through_removals_and_growth() {
        let mut m = EntryMap::default();
        let mut reference = HashMap::new();
        let mut x = 7u64;
        let mut removed = 0;
        let mut wrapped = 0;
        for step in 0..200_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let key = (x % 5_000) as u32 * 977;
            if x.is_multiple_of(3) {
                if reference.remove(&key).is_some() {
                    removed += 1;
                }
                m.remove(key);
            } else {
                reference.insert(key, step);
                m.insert(key, step);
            }
            assert_eq!(m.len(), reference.len());
            if step % 997 == 0 {
                let n = m.slots.len();
                // A key held before its home: its probe run wrapped past the end.
                wrapped += (0..n)
                    .filter(|&i| m.slots[i].value != EMPTY && EntryMap::home(m.slots[i].key, n) > i)
                    .count();
                for k in (0..5_000u32).map(|k| k * 977) {
                    assert_eq!(m.get(k), reference.get(&k).copied(), "key {k}");
                }
            }
        }
        assert!(removed > 10_000, "removals reached: {removed}");
        assert!(m.slots.len() >= 4096, "the map grew: {}", m.slots.len());
        assert!(wrapped > 0, "probe runs wrapped past the end");
        assert_eq!(EntryMap::default().get(3), None);
    }
}
