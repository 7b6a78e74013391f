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
//! 1 GiB dense) holds only the entries that exist, in at least [`SHARD_BITS_MIN`]²
//! shards by the block's low bits, each a compact map ([`EntryMap`]: 8-byte slots,
//! about 9-18 bytes an entry) under a brief spin lock: a probe is a lock, one cache
//! line and a release. Where each shard's slots are is published for
//! [`EntryIndex::prefetch`], which aims at a probe's first line without the lock.

use crate::block_slots::DENSE_BLOCKS_MAX;
use crate::entry_map::{part_bits, EntryMap};
use crate::prefetch::HintWord;
use crate::sync::{lock_brief, AtomicBool, AtomicU32, BriefMutex, Ordering};
use crate::table::LookupTable;

/// Marks a block with no entry.
const NONE: u32 = u32::MAX;

/// Bits of the block choosing a sparse index's shard, at least: 64 shards, so two
/// calls on different blocks rarely spin on the same lock (more when a volume has
/// over 2^38 blocks, so a key fits 4 bytes).
const SHARD_BITS_MIN: u32 = 6;

/// The block → slot map, dense or sparse by the volume's size.
enum Slots {
    Dense(Box<[AtomicU32]>),
    Sparse(Sparse),
}

/// A sparse index: shards by the block's low `shard_bits` bits, keyed by the rest.
struct Sparse {
    shard_bits: u32,
    shards: Box<[BriefMutex<EntryMap>]>,
    /// Each shard's slots (address, count) as last published: a hint's aim, read
    /// without the shard's lock (a stale pair aims elsewhere, harmlessly).
    spans: Box<[(HintWord, HintWord)]>,
}

impl Sparse {
    fn new(volume_blocks: u64) -> Self {
        let shard_bits = part_bits(volume_blocks, SHARD_BITS_MIN);
        let shards = 1usize << shard_bits;
        Sparse {
            shard_bits,
            shards: (0..shards)
                .map(|_| BriefMutex::new(EntryMap::default()))
                .collect(),
            spans: (0..shards).map(|_| Default::default()).collect(),
        }
    }

    /// `block`'s shard and key.
    #[inline]
    fn split(&self, block: u64) -> (usize, u32) {
        let shard = (block & ((1 << self.shard_bits) - 1)) as usize;
        (shard, (block >> self.shard_bits) as u32)
    }

    #[inline]
    fn get(&self, block: u64) -> Option<u32> {
        let (shard, key) = self.split(block);
        lock_brief(&self.shards[shard]).get(key)
    }

    fn set(&self, block: u64, slot: Option<u32>) {
        let (shard, key) = self.split(block);
        let mut map = lock_brief(&self.shards[shard]);
        match slot {
            Some(slot) => map.insert(key, slot),
            None => map.remove(key),
        };
        let (base, n) = map.span();
        let span = &self.spans[shard];
        let relaxed = std::sync::atomic::Ordering::Relaxed;
        if span.0.load(relaxed) != base || span.1.load(relaxed) != n {
            span.0.store(base, relaxed);
            span.1.store(n, relaxed);
        }
    }

    #[inline]
    fn prefetch(&self, block: u64) {
        let (shard, key) = self.split(block);
        let Some((base, n)) = self.spans.get(shard) else {
            return;
        };
        let relaxed = std::sync::atomic::Ordering::Relaxed;
        let n = n.load(relaxed);
        if n == 0 {
            return;
        }
        let line = EntryMap::home_address(base.load(relaxed), n, key);
        crate::prefetch::line(line as *const u8);
    }

    fn clear(&self) {
        let relaxed = std::sync::atomic::Ordering::Relaxed;
        for (shard, span) in self.shards.iter().zip(self.spans.iter()) {
            *lock_brief(shard) = EntryMap::default();
            span.1.store(0, relaxed);
        }
    }
}

pub(crate) struct EntryIndex {
    /// Whether the variant has a table in this phase.
    present: AtomicBool,
    slots: Slots,
}

impl EntryIndex {
    /// No table, `volume_blocks` blocks (0 for a variant that never has a table):
    /// dense up to [`DENSE_BLOCKS_MAX`] blocks, sparse above.
    pub(crate) fn new(volume_blocks: u64) -> Self {
        let slots = if volume_blocks <= DENSE_BLOCKS_MAX {
            Slots::Dense((0..volume_blocks).map(|_| AtomicU32::new(NONE)).collect())
        } else {
            Slots::Sparse(Sparse::new(volume_blocks))
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
            Slots::Sparse(sparse) => Some(sparse.get(block)),
        }
    }

    /// Hints the processor to load `block`'s slot (a dense index) or the first line
    /// its probe reads (a sparse one's, without the shard's lock).
    #[inline]
    pub(crate) fn prefetch(&self, block: u64) {
        if !self.present.load(Ordering::Relaxed) {
            return;
        }
        match &self.slots {
            Slots::Dense(slots) => {
                if let Some(slot) = slots.get(block as usize) {
                    crate::prefetch::line(slot);
                }
            }
            Slots::Sparse(sparse) => sparse.prefetch(block),
        }
    }

    /// Sets `block`'s entry (under its group-1 lock and the metadata lock).
    pub(crate) fn set(&self, block: u64, slot: Option<u32>) {
        match &self.slots {
            Slots::Dense(slots) => {
                slots[block as usize].store(slot.unwrap_or(NONE), Ordering::Relaxed)
            }
            Slots::Sparse(sparse) => sparse.set(block, slot),
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
            Slots::Sparse(sparse) => sparse.clear(),
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
            Slots::Sparse(sparse) => sparse.shards.iter().map(|s| lock_brief(s).len()).sum(),
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
        // The published spans are the shards' own (a hint aims at a probe's line).
        let Slots::Sparse(s) = &sparse.slots else {
            unreachable!()
        };
        sparse.set(big - 1, Some(1));
        let relaxed = std::sync::atomic::Ordering::Relaxed;
        let mut published = 0;
        for (shard, (base, n)) in s.shards.iter().zip(s.spans.iter()) {
            let span = lock_brief(shard).span();
            if span.1 > 0 {
                assert_eq!((base.load(relaxed), n.load(relaxed)), span);
                published += 1;
            }
        }
        assert_eq!(published, 1, "one shard holds an entry");
        assert_eq!(
            sparse.len(),
            1,
            "the sparse index dropped the table's entries"
        );
    }
}
