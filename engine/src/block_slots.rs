//! The lookup table's slot per volume block: a dense array for a volume of up to
//! [`DENSE_BLOCKS_MAX`] blocks (4 bytes per volume block, a probe is an index), an
//! ordered map of only the entries that exist above (about 20 bytes per entry, none
//! per volume block), so a 1 TiB volume does not allocate a slot for each of its 268
//! million blocks.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Marks a volume block with no entry in the dense form.
const NONE: u32 = u32::MAX;

/// Most volume blocks held densely (4 MiB of slots).
pub const DENSE_BLOCKS_MAX: u64 = 1 << 20;

/// Slot per volume block with an entry (see the module doc).
#[derive(Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) enum BlockSlots {
    /// Slot per volume block, or `NONE`.
    Dense(Vec<u32>),
    /// The entries, by block, of a volume of `volume_blocks` blocks.
    Sparse {
        volume_blocks: u64,
        entries: BTreeMap<u64, u32>,
    },
}

impl BlockSlots {
    /// No entries, `volume_blocks` blocks: dense up to [`DENSE_BLOCKS_MAX`] blocks.
    pub(crate) fn new(volume_blocks: u64) -> Self {
        if volume_blocks <= DENSE_BLOCKS_MAX {
            BlockSlots::Dense(vec![NONE; volume_blocks as usize])
        } else {
            BlockSlots::Sparse {
                volume_blocks,
                entries: BTreeMap::new(),
            }
        }
    }

    /// Volume blocks covered.
    pub(crate) fn volume_blocks(&self) -> u64 {
        match self {
            BlockSlots::Dense(slots) => slots.len() as u64,
            BlockSlots::Sparse { volume_blocks, .. } => *volume_blocks,
        }
    }

    /// `block`'s slot, if it has an entry. Panics on a block past the volume.
    pub(crate) fn get(&self, block: u64) -> Option<u32> {
        match self {
            BlockSlots::Dense(slots) => match slots[block as usize] {
                NONE => None,
                slot => Some(slot),
            },
            BlockSlots::Sparse {
                volume_blocks,
                entries,
            } => {
                assert!(block < *volume_blocks, "block {block} past the volume");
                entries.get(&block).copied()
            }
        }
    }

    /// Sets (or with `None` drops) `block`'s entry; returns the slot it had.
    pub(crate) fn set(&mut self, block: u64, slot: Option<u32>) -> Option<u32> {
        match self {
            BlockSlots::Dense(slots) => {
                match std::mem::replace(&mut slots[block as usize], slot.unwrap_or(NONE)) {
                    NONE => None,
                    old => Some(old),
                }
            }
            BlockSlots::Sparse {
                volume_blocks,
                entries,
            } => {
                assert!(block < *volume_blocks, "block {block} past the volume");
                match slot {
                    Some(slot) => entries.insert(block, slot),
                    None => entries.remove(&block),
                }
            }
        }
    }

    /// Drops every entry.
    pub(crate) fn clear(&mut self) {
        match self {
            BlockSlots::Dense(slots) => slots.iter_mut().for_each(|s| *s = NONE),
            BlockSlots::Sparse { entries, .. } => entries.clear(),
        }
    }

    /// Entries as `(block, slot)` in block order, from block `from` on.
    pub(crate) fn entries_from(&self, from: u64) -> Entries<'_> {
        match self {
            BlockSlots::Dense(slots) => {
                let from = usize::try_from(from).unwrap_or(usize::MAX).min(slots.len());
                Entries::DenseFrom(from, slots[from..].iter().enumerate())
            }
            BlockSlots::Sparse { entries, .. } => Entries::Sparse(entries.range(from..)),
        }
    }

    /// Entries as `(block, slot)` in block order.
    pub(crate) fn entries(&self) -> Entries<'_> {
        match self {
            BlockSlots::Dense(slots) => Entries::Dense(slots.iter().enumerate()),
            BlockSlots::Sparse { entries, .. } => Entries::Sparse(entries.range(..)),
        }
    }
}

impl Clone for BlockSlots {
    fn clone(&self) -> Self {
        match self {
            BlockSlots::Dense(slots) => BlockSlots::Dense(slots.clone()),
            BlockSlots::Sparse {
                volume_blocks,
                entries,
            } => BlockSlots::Sparse {
                volume_blocks: *volume_blocks,
                entries: entries.clone(),
            },
        }
    }

    /// A dense copy into a dense array reuses its allocation (a model checker copies
    /// tables at every step).
    fn clone_from(&mut self, source: &Self) {
        match (self, source) {
            (BlockSlots::Dense(to), BlockSlots::Dense(from)) => to.clone_from(from),
            (to, from) => *to = from.clone(),
        }
    }
}

/// [`BlockSlots::entries`]: an iterator of either form, with no allocation.
pub(crate) enum Entries<'a> {
    Dense(std::iter::Enumerate<std::slice::Iter<'a, u32>>),
    /// The slots from a block on (the block, their iterator).
    DenseFrom(usize, std::iter::Enumerate<std::slice::Iter<'a, u32>>),
    Sparse(std::collections::btree_map::Range<'a, u64, u32>),
}

impl Iterator for Entries<'_> {
    type Item = (u64, u32);
    fn next(&mut self) -> Option<(u64, u32)> {
        match self {
            Entries::Dense(slots) => slots
                .find(|(_, s)| **s != NONE)
                .map(|(b, s)| (b as u64, *s)),
            Entries::DenseFrom(from, slots) => slots
                .find(|(_, s)| **s != NONE)
                .map(|(b, s)| ((*from + b) as u64, *s)),
            Entries::Sparse(entries) => entries.next().map(|(b, s)| (*b, *s)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_and_sparse_forms_agree() {
        let mut dense = BlockSlots::new(DENSE_BLOCKS_MAX);
        let mut sparse = BlockSlots::new(DENSE_BLOCKS_MAX + 1);
        assert!(matches!(dense, BlockSlots::Dense(_)));
        assert!(matches!(sparse, BlockSlots::Sparse { .. }));
        for s in [&mut dense, &mut sparse] {
            for i in 0..500u64 {
                assert_eq!(s.set(i * 2003 % DENSE_BLOCKS_MAX, Some(i as u32)), None);
            }
            assert_eq!(s.set(0, None), Some(0));
            assert_eq!(s.set(2003, Some(7)), Some(1));
            assert_eq!(s.get(2003), Some(7));
            assert_eq!(s.get(1), None);
        }
        assert_eq!(dense.entries().count(), 499);
        assert!(dense.entries().eq(sparse.entries()));
        for from in [
            0,
            1,
            2003,
            2004,
            DENSE_BLOCKS_MAX - 1,
            DENSE_BLOCKS_MAX,
            u64::MAX,
        ] {
            let want: Vec<_> = dense.entries().filter(|&(b, _)| b >= from).collect();
            assert!(dense.entries_from(from).eq(want.iter().copied()));
            assert!(sparse.entries_from(from).eq(want.iter().copied()));
        }
        assert_eq!(
            dense.entries_from(2004).next(),
            sparse.entries_from(2004).next()
        );
        assert!(dense.entries_from(2004).next().is_some());
        sparse.clear();
        assert_eq!(sparse.entries().count(), 0);
        assert_eq!(sparse.volume_blocks(), DENSE_BLOCKS_MAX + 1);
    }
}
