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
//! Costs 4 bytes per volume block.

use crate::sync::{AtomicBool, AtomicU32, Ordering};
use crate::table::LookupTable;

/// Marks a block with no entry.
const NONE: u32 = u32::MAX;

pub(crate) struct EntryIndex {
    /// Whether the variant has a table in this phase.
    present: AtomicBool,
    slots: Box<[AtomicU32]>,
}

impl EntryIndex {
    /// No table, `volume_blocks` blocks (0 for a variant that never has a table).
    pub(crate) fn new(volume_blocks: u64) -> Self {
        EntryIndex {
            present: AtomicBool::new(false),
            slots: (0..volume_blocks).map(|_| AtomicU32::new(NONE)).collect(),
        }
    }

    /// `None` with no table, else `block`'s slot if it has an entry.
    pub(crate) fn get(&self, block: u64) -> Option<Option<u32>> {
        if !self.present.load(Ordering::Relaxed) {
            return None;
        }
        match self.slots[block as usize].load(Ordering::Relaxed) {
            NONE => Some(None),
            slot => Some(Some(slot)),
        }
    }

    /// Sets `block`'s entry (under its group-1 lock and the metadata lock).
    pub(crate) fn set(&self, block: u64, slot: Option<u32>) {
        self.slots[block as usize].store(slot.unwrap_or(NONE), Ordering::Relaxed);
    }

    /// Copies `table` (or its absence) whole, with no call in flight.
    pub(crate) fn reset(&self, table: Option<&LookupTable>) {
        for s in self.slots.iter() {
            s.store(NONE, Ordering::Relaxed);
        }
        if let Some(t) = table {
            for (block, slot) in t.entries() {
                self.set(block, Some(slot));
            }
        }
        self.present.store(table.is_some(), Ordering::Relaxed);
    }

    /// The table is gone (its entries need no clearing: no one looks them up).
    pub(crate) fn drop_table(&self) {
        self.present.store(false, Ordering::Relaxed);
    }
}
