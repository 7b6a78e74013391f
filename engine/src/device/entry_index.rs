//! The lookup table's block → slot map, readable without the metadata lock: the hot
//! path's table probe (every read and write of the table variants) is two relaxed
//! atomic loads instead of a mutex lock and release.
//!
//! Why that is safe: an entry of block `b` changes only while its writer holds `b`'s
//! group-1 lock (reserve, cancel and remove run inside the VLUN call on `b`, the retire
//! merge takes the lock per block), and a VLUN call on `b` reads it under the same
//! lock, so the lock orders every write before every later read. The table appears
//! (split) and is replaced (recovery) with no call in flight (every group-1 lock
//! held, or `&mut self`); it disappears at the retire, when write logging's
//! merge has already removed every entry under its block's lock and copy-on-write no
//! longer looks up (VLUN A is gone). The metadata lock still guards the table itself
//! (allocator, journal order); this copy is written under it, beside the table.
//!
//! Up to [`DENSE_BLOCKS_MAX`] volume blocks it costs 4 bytes per volume block (one
//! atomic slot each). A larger volume (1 TiB of 4 KiB blocks is 268 million blocks:
//! 1 GiB dense) holds only the entries that exist, in [`SHARDS`] hash maps each under
//! a brief spin lock: a probe is a lock, a hash lookup and a release, about 16 bytes
//! per entry.

use rustc_hash::FxHashMap;

use crate::block_slots::DENSE_BLOCKS_MAX;
use crate::sync::{lock_brief, AtomicBool, AtomicU32, BriefMutex, Ordering};
use crate::table::LookupTable;

/// Marks a block with no entry.
const NONE: u32 = u32::MAX;

/// Hash maps of a sparse index (a power of two), so two calls on different blocks
/// rarely spin on the same lock.
const SHARDS: usize = 64;

/// The block → slot map, dense or sparse by the volume's size.
enum Slots {
    Dense(Box<[AtomicU32]>),
    Sparse(Box<[BriefMutex<FxHashMap<u64, u32>>]>),
}

pub(crate) struct EntryIndex {
    /// Whether the variant has a table in this phase.
    present: AtomicBool,
    slots: Slots,
}

/// The shard of `block`: its bits mixed (Fibonacci hashing), so neighbouring and
/// strided blocks spread over the shards.
fn shard_of(block: u64) -> usize {
    (block.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - SHARDS.trailing_zeros())) as usize
}

impl EntryIndex {
    /// No table, `volume_blocks` blocks (0 for a variant that never has a table):
    /// dense up to [`DENSE_BLOCKS_MAX`] blocks, sparse above.
    pub(crate) fn new(volume_blocks: u64) -> Self {
        let slots = if volume_blocks <= DENSE_BLOCKS_MAX {
            Slots::Dense((0..volume_blocks).map(|_| AtomicU32::new(NONE)).collect())
        } else {
            Slots::Sparse(
                (0..SHARDS)
                    .map(|_| BriefMutex::new(FxHashMap::default()))
                    .collect(),
            )
        };
        EntryIndex {
            present: AtomicBool::new(false),
            slots,
        }
    }

    /// `None` with no table, else `block`'s slot if it has an entry.
    #[inline]
    pub(crate) fn get(&self, block: u64) -> Option<Option<u32>> {
        if !self.present.load(Ordering::Relaxed) {
            return None;
        }
        match &self.slots {
            Slots::Dense(slots) => match slots[block as usize].load(Ordering::Relaxed) {
                NONE => Some(None),
                slot => Some(Some(slot)),
            },
            Slots::Sparse(shards) => {
                Some(lock_brief(&shards[shard_of(block)]).get(&block).copied())
            }
        }
    }

    /// Hints the processor to load `block`'s slot (a dense index; a sparse one's
    /// buckets are the hash map's own, so nothing).
    #[inline]
    pub(crate) fn prefetch(&self, block: u64) {
        if !self.present.load(Ordering::Relaxed) {
            return;
        }
        if let Slots::Dense(slots) = &self.slots {
            if let Some(slot) = slots.get(block as usize) {
                crate::prefetch::line(slot);
            }
        }
    }

    /// Sets `block`'s entry (under its group-1 lock and the metadata lock).
    pub(crate) fn set(&self, block: u64, slot: Option<u32>) {
        match &self.slots {
            Slots::Dense(slots) => {
                slots[block as usize].store(slot.unwrap_or(NONE), Ordering::Relaxed)
            }
            Slots::Sparse(shards) => {
                let mut shard = lock_brief(&shards[shard_of(block)]);
                match slot {
                    Some(slot) => {
                        shard.insert(block, slot);
                    }
                    None => {
                        shard.remove(&block);
                    }
                }
            }
        }
    }

    /// Copies `table` (or its absence) whole, with no call in flight.
    pub(crate) fn reset(&self, table: Option<&LookupTable>) {
        self.clear();
        if let Some(t) = table {
            for (block, slot) in t.entries() {
                self.set(block, Some(slot));
            }
        }
        self.present.store(table.is_some(), Ordering::Relaxed);
    }

    /// The table is gone (a dense index's entries need no clearing: no one looks them
    /// up; a sparse one gives their memory back).
    pub(crate) fn drop_table(&self) {
        self.present.store(false, Ordering::Relaxed);
        if let Slots::Sparse(_) = self.slots {
            self.clear();
        }
    }

    /// Every entry dropped.
    fn clear(&self) {
        match &self.slots {
            Slots::Dense(slots) => slots.iter().for_each(|s| s.store(NONE, Ordering::Relaxed)),
            Slots::Sparse(shards) => shards.iter().for_each(|s| {
                *lock_brief(s) = FxHashMap::default();
            }),
        }
    }

    /// Entries held (counted: for tests and sizing).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        match &self.slots {
            Slots::Dense(slots) => slots
                .iter()
                .filter(|s| s.load(Ordering::Relaxed) != NONE)
                .count(),
            Slots::Sparse(shards) => shards.iter().map(|s| lock_brief(s).len()).sum(),
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn dense_and_sparse_indexes_agree() {
        let big = DENSE_BLOCKS_MAX * 256;
        let (dense, sparse) = (EntryIndex::new(DENSE_BLOCKS_MAX), EntryIndex::new(big));
        assert!(matches!(dense.slots, Slots::Dense(_)));
        assert!(matches!(sparse.slots, Slots::Sparse(_)));
        let mut table = LookupTable::new(big, 1 << 16);
        for i in 0..1000u64 {
            table.insert(i * 7919 % DENSE_BLOCKS_MAX).unwrap();
        }
        for index in [&dense, &sparse] {
            assert_eq!(index.get(3), None, "no table yet");
            index.reset(Some(&table));
            assert_eq!(index.len(), 1000);
            for (block, slot) in table.entries() {
                assert_eq!(index.get(block), Some(Some(slot)));
            }
            index.set(0, None);
            assert_eq!(index.get(0), Some(None));
            assert_eq!(index.get(DENSE_BLOCKS_MAX - 1), Some(None));
            index.set(5, Some(9));
            assert_eq!(index.get(5), Some(Some(9)));
            index.drop_table();
            assert_eq!(index.get(5), None);
        }
        sparse.set(big - 1, Some(1));
        assert_eq!(
            sparse.len(),
            1,
            "the sparse index dropped the table's entries"
        );
    }
}
