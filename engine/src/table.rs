//! The lookup table and its data area (\[0075\], \[0093\]).
//!
//! Entries are in the pointer form: volume block offset → slot in the data area of the
//! image that owns the table. Slots come from an allocator; dropping an entry frees its
//! slot at once, so the extra space in use is known at every moment. The allocator is
//! deterministic (last freed, first reused; then never-used slots in order), so a
//! replay of the same operations yields the same slots, which the metadata journal
//! relies on.

use serde::{Deserialize, Serialize};

use crate::block_slots::BlockSlots;
/// Most volume blocks whose table (and entry index) is dense, 4 bytes per volume
/// block; a larger volume's hold only the entries that exist.
pub use crate::block_slots::DENSE_BLOCKS_MAX;

/// Bytes one block → slot map of a volume of `volume_blocks` blocks holds with
/// `entries` entries: the lookup table's slots, or the device's entry index (the same
/// shape, `device/entry_index.rs`). Dense up to [`DENSE_BLOCKS_MAX`] blocks: 4 bytes per
/// volume block, whatever the entries. Above, its parts (`entry_map.rs`, by the
/// block's low bits) each grown twice over until it holds the fullest part's entries
/// ([`crate::store::fullest_part`]) within 7/8 of its 8-byte slots, plus the slots a
/// part had before its last growth: 9-18 bytes an entry at a load of 7/16 to 7/8,
/// where the entries fall on the staircase of the growths.
pub fn map_bytes(volume_blocks: u64, entries: u64) -> u64 {
    if volume_blocks <= DENSE_BLOCKS_MAX {
        return volume_blocks * 4;
    }
    let parts =
        1u64 << crate::entry_map::part_bits(volume_blocks, crate::block_slots::PART_BITS_MIN);
    let fullest = crate::store::fullest_part(entries.min(volume_blocks), parts);
    let (slots, before) = crate::entry_map::slots_for(fullest);
    (parts * slots + before) * crate::entry_map::SLOT_BYTES
}

/// Largest data area a table can address.
pub const AREA_SLOTS_MAX: u64 = (u32::MAX - 1) as u64;

/// Largest volume, in blocks, a device records: the lookup table holds one word per
/// volume block in memory, so a journal declaring more is refused at open, and
/// [`crate::file::create`] refuses to make one.
pub const VOLUME_BLOCKS_MAX: u64 = 1 << 36;

/// Most never-used slots one journaled insert may skip. Entries are journaled when
/// their data is written, so with several calls in flight a later slot can be
/// journaled before an earlier one; the gap is bounded by the calls in flight. A
/// larger gap is corruption, refused before it could allocate a huge free list.
const RESERVATIONS_IN_FLIGHT_MAX: u32 = 1 << 16;

/// A lookup table with its slot allocator.
#[derive(Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LookupTable {
    /// Slot per volume block with an entry (dense for small volumes, sparse above).
    slots: BlockSlots,
    /// Freed slots, reused last-in first-out.
    free: Vec<u32>,
    /// Slots `next_fresh..capacity` have never been used.
    next_fresh: u32,
    capacity: u32,
    in_use: u32,
    peak: u32,
}

impl Clone for LookupTable {
    fn clone(&self) -> Self {
        LookupTable {
            slots: self.slots.clone(),
            free: self.free.clone(),
            next_fresh: self.next_fresh,
            capacity: self.capacity,
            in_use: self.in_use,
            peak: self.peak,
        }
    }

    /// A copy in this table's allocations where they fit ([`crate::Device`]'s
    /// `clone_from`).
    fn clone_from(&mut self, source: &Self) {
        self.slots.clone_from(&source.slots);
        self.free.clone_from(&source.free);
        self.next_fresh = source.next_fresh;
        self.capacity = source.capacity;
        self.in_use = source.in_use;
        self.peak = source.peak;
    }
}

/// A slot taken by [`LookupTable::reserve`] for a block, and whether it came from
/// the never-used range (`fresh`) or the free list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reservation {
    pub(crate) block: u64,
    pub(crate) slot: u32,
    pub(crate) fresh: bool,
}

/// The data area has no free slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AreaFull;

impl LookupTable {
    /// An empty table for `volume_blocks` blocks over a data area of `capacity` slots.
    pub fn new(volume_blocks: u64, capacity: u64) -> Self {
        assert!(capacity <= AREA_SLOTS_MAX, "data area too large");
        LookupTable {
            slots: BlockSlots::new(volume_blocks),
            free: Vec::new(),
            next_fresh: 0,
            capacity: capacity as u32,
            in_use: 0,
            peak: 0,
        }
    }

    /// The slot holding `block`'s data, if the table has an entry for it.
    pub fn lookup(&self, block: u64) -> Option<u32> {
        self.slots.get(block)
    }

    /// The slot the next [`LookupTable::insert`] would use.
    pub fn next_slot(&self) -> Option<u32> {
        self.free.last().copied().or({
            if self.next_fresh < self.capacity {
                Some(self.next_fresh)
            } else {
                None
            }
        })
    }

    /// Creates an entry for `block` (which must have none) in a newly allocated slot.
    pub fn insert(&mut self, block: u64) -> Result<u32, AreaFull> {
        let reservation = self.reserve(block)?;
        self.note_peak();
        Ok(reservation.slot)
    }

    /// Like [`LookupTable::insert`] but leaves the peak alone: the device reserves a
    /// slot before writing its data, and counts it in the peak only once the entry is
    /// committed ([`LookupTable::note_peak`]) or takes it back ([`LookupTable::cancel`])
    /// — so a failed write leaves the table exactly as a journal replay rebuilds it.
    pub(crate) fn reserve(&mut self, block: u64) -> Result<Reservation, AreaFull> {
        let (slot, fresh) = match self.free.last() {
            Some(&slot) => (slot, false),
            None if self.next_fresh < self.capacity => (self.next_fresh, true),
            None => {
                assert_eq!(
                    self.slots.get(block),
                    None,
                    "block {block} already has an entry"
                );
                return Err(AreaFull);
            }
        };
        // One probe: the insert itself finds any entry the block already has.
        assert_eq!(
            self.slots.set(block, Some(slot)),
            None,
            "block {block} already has an entry"
        );
        if fresh {
            self.next_fresh += 1;
        } else {
            self.free.pop();
        }
        self.in_use += 1;
        Ok(Reservation { block, slot, fresh })
    }

    /// An empty table whose peak starts at `peak` (a new backup cycle keeps the
    /// device's peak of earlier cycles, as the journal's snapshot does).
    pub(crate) fn with_peak(mut self, peak: u64) -> Self {
        self.peak = peak.min(u64::from(u32::MAX)) as u32;
        self.note_peak();
        self
    }

    /// Raises the peak to the slots in use now.
    pub(crate) fn note_peak(&mut self) {
        self.peak = self.peak.max(self.in_use);
    }

    /// Takes back the entry `r` reserved, returning its slot to where it came from:
    /// the never-used range if it was the last slot taken from there, else the end of
    /// the free list. With no other reservation in between, the allocator is then
    /// exactly as it was before `r`.
    pub(crate) fn cancel(&mut self, r: Reservation) {
        let slot = self.slots.set(r.block, None);
        assert_eq!(
            slot,
            Some(r.slot),
            "cancel of block {}: entry changed",
            r.block
        );
        self.in_use -= 1;
        if r.fresh && r.slot + 1 == self.next_fresh {
            self.next_fresh -= 1;
        } else {
            self.free.push(r.slot);
        }
    }

    /// Drops `block`'s entry, freeing its slot; returns the slot it had.
    pub fn remove(&mut self, block: u64) -> Option<u32> {
        let slot = self.slots.set(block, None)?;
        self.free.push(slot);
        self.in_use -= 1;
        Some(slot)
    }

    /// Drops every entry; the whole data area becomes free (and never-used again).
    pub fn clear(&mut self) {
        self.slots.clear();
        self.free.clear();
        self.next_fresh = 0;
        self.in_use = 0;
    }

    /// Entries as `(block, slot)` in block order, from block `from` on.
    pub fn entries_from(&self, from: u64) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.slots.entries_from(from)
    }

    /// Entries as `(block, slot)` in block order.
    pub fn entries(&self) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.slots.entries()
    }

    /// Slots in use now.
    pub fn in_use(&self) -> u64 {
        u64::from(self.in_use)
    }

    /// Most slots ever in use at once.
    pub fn peak(&self) -> u64 {
        u64::from(self.peak)
    }

    /// Data-area capacity in slots.
    pub fn capacity(&self) -> u64 {
        u64::from(self.capacity)
    }

    /// Volume blocks the table covers.
    pub fn volume_blocks(&self) -> u64 {
        self.slots.volume_blocks()
    }

    /// The allocator's state, for the metadata snapshot: `(next_fresh, free list)`.
    pub(crate) fn allocator(&self) -> (u32, &[u32]) {
        (self.next_fresh, &self.free)
    }

    /// Rebuilds a table from a snapshot, checking that it is self-consistent: every slot
    /// below `next_fresh` is either free or held by exactly one entry, and none is both.
    pub(crate) fn from_parts(
        volume_blocks: u64,
        capacity: u64,
        next_fresh: u32,
        free: Vec<u32>,
        entries: &[(u64, u32)],
        peak: u32,
    ) -> Result<Self, String> {
        if u64::from(next_fresh) > capacity {
            return Err(format!(
                "allocator mark {next_fresh} is past the data area ({capacity} slots)"
            ));
        }
        // Every slot below the mark is free or in use: check the count before
        // allocating anything sized by the (untrusted) mark.
        if next_fresh as usize != free.len() + entries.len() {
            return Err(format!(
                "allocator mark {next_fresh} but {} free and {} used slots",
                free.len(),
                entries.len()
            ));
        }
        let mut t = LookupTable::new(volume_blocks, capacity);
        let mut owner = vec![false; next_fresh as usize];
        for &slot in &free {
            let cell = owner
                .get_mut(slot as usize)
                .ok_or_else(|| format!("free slot {slot} was never allocated"))?;
            if std::mem::replace(cell, true) {
                return Err(format!("slot {slot} is listed twice"));
            }
        }
        for &(block, slot) in entries {
            if block >= volume_blocks {
                return Err(format!(
                    "entry for block {block} past the volume ({volume_blocks} blocks)"
                ));
            }
            let cell = owner
                .get_mut(slot as usize)
                .ok_or_else(|| format!("block {block} points at slot {slot}, never allocated"))?;
            if std::mem::replace(cell, true) {
                return Err(format!(
                    "block {block} points at slot {slot}, already used or free"
                ));
            }
            if t.slots.set(block, Some(slot)).is_some() {
                return Err(format!("block {block} has two entries"));
            }
        }
        if let Some(lost) = owner.iter().position(|o| !o) {
            return Err(format!("slot {lost} is neither free nor in use"));
        }
        t.free = free;
        t.next_fresh = next_fresh;
        t.in_use = entries.len() as u32;
        t.peak = peak.max(t.in_use);
        Ok(t)
    }
}

impl LookupTable {
    /// Creates the entry `block → slot` with a slot chosen elsewhere (journal replay):
    /// the slot is taken from the free list, or from the never-used range (whose
    /// skipped slots become free).
    pub(crate) fn insert_at(&mut self, block: u64, slot: u32) -> Result<(), String> {
        if slot >= self.capacity {
            return Err(format!("slot {slot} is past the data area"));
        }
        if block >= self.volume_blocks() || self.slots.get(block).is_some() {
            return Err(format!("block {block} is out of range or has an entry"));
        }
        if slot >= self.next_fresh && slot - self.next_fresh > RESERVATIONS_IN_FLIGHT_MAX {
            return Err(format!(
                "slot {slot} skips {} never-used slots",
                slot - self.next_fresh
            ));
        }
        if slot >= self.next_fresh {
            self.free.extend((self.next_fresh..slot).rev());
            self.next_fresh = slot + 1;
        } else if let Some(i) = self.free.iter().position(|s| *s == slot) {
            self.free.remove(i);
        } else {
            return Err(format!("slot {slot} is already in use"));
        }
        self.slots.set(block, Some(slot));
        self.in_use += 1;
        self.peak = self.peak.max(self.in_use);
        Ok(())
    }
}
