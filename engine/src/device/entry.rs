//! The table-entry protocol: an entry is reserved under its block's group-1 lock,
//! its data written, then it is journaled (committed) or taken back (abandoned); an
//! entry is dropped only once the data that replaces it is durable. So the table
//! never shows, and no replay restores, an entry pointing at data not written.

use super::io::Images;
use super::Device;
use crate::cost::IoCost;
use crate::error::{Error, Result};
use crate::meta::MetaRecord;
use crate::store::BlockStore;
use crate::sync;
use crate::table::Reservation;
use crate::{Image, Vlun};

/// One lookup-table entry and what its slot holds ([`Device::table_contents`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryContents {
    /// The volume block the entry stands for.
    pub block: u64,
    /// Its data-area slot (a block of the variant's table image).
    pub slot: u32,
    /// The VLUN that reads the slot: VLUN B for write logging (B's logged copy),
    /// VLUN A for copy-on-write (A's preserved copy).
    pub vlun: Vlun,
    /// The slot's bytes, one block.
    pub data: Vec<u8>,
}

impl<S: BlockStore> Device<S> {
    /// Every lookup-table entry with what its slot holds, by block (empty without a
    /// table): for tests and tools that check that entries point at what their VLUN
    /// reads. Asserts the table's own bookkeeping (every entry in range, the slots in
    /// use equal to the entries). Reads the table image directly, outside the VLUN
    /// locks: call it with no write in flight. Errors: a store read error.
    pub fn table_contents(&self) -> Result<Vec<EntryContents>> {
        let Some(table) = self.table() else {
            return Ok(Vec::new());
        };
        let (image, vlun) = match self.variant {
            crate::Variant::WriteLogging => (Image::B, Vlun::B),
            _ => (Image::A, Vlun::A),
        };
        let entries: Vec<(u64, u32)> = table.entries().collect();
        assert_eq!(
            table.in_use(),
            entries.len() as u64,
            "slots in use vs entries"
        );
        let (a, b) = self.images();
        let store = if image == Image::A { a } else { b };
        entries
            .into_iter()
            .map(|(block, slot)| {
                assert!(
                    block < self.volume_blocks && u64::from(slot) < self.area_slots,
                    "entry {block} -> {slot} out of range"
                );
                let mut data = crate::block_buffer::block_buffer(
                    self.block_size,
                    "read a table entry's block",
                )?;
                store.read_block(u64::from(slot), &mut data)?;
                Ok(EntryContents {
                    block,
                    slot,
                    vlun,
                    data,
                })
            })
            .collect()
    }

    /// The slot of `block`'s entry, if the table has one (counted as a lookup).
    #[inline]
    pub(super) fn lookup(&self, block: u64, cost: &mut IoCost) -> Option<u32> {
        let entry = self.entries.get(block)?;
        cost.table_lookups += 1;
        entry
    }

    /// Writes `data` to volume block `block` of `image`, superseding `block`'s entry
    /// (if it has one), which is then dropped once the write is durable on `image` (a
    /// barrier, so a crash never keeps the removal without that data): journaled, then
    /// dropped in memory. The probe comes before the write: the caller holds `block`'s
    /// group-1 lock, so the entry cannot change in between, and the steady write (no
    /// entry) does no table work after its data.
    /// The images are reached through `images` (shared or exclusive, [`Images`]).
    #[inline(always)]
    pub(super) fn write_superseding_entry<I: Images<S>>(
        images: &mut I,
        image: Image,
        block: u64,
        data: &[u8],
        cost: &mut IoCost,
    ) -> Result<()> {
        let found = images.dev().lookup(block, cost).is_some();
        images.write_at(image, block, block, data, cost)?;
        if !found {
            return Ok(());
        }
        images.dev().drop_found_entry(block, image, cost)
    }

    #[inline(never)]
    fn drop_found_entry(&self, block: u64, written: Image, cost: &mut IoCost) -> Result<()> {
        self.barrier(written, cost)?;
        self.remove_entry(block, cost)
    }

    /// Journals and drops `block`'s entry, if it still has one.
    pub(super) fn remove_entry(&self, block: u64, cost: &mut IoCost) -> Result<()> {
        let mut m = sync::lock(&self.meta);
        let Some(table) = m.table.as_ref() else {
            return Ok(());
        };
        if table.lookup(block).is_some() {
            m.log(MetaRecord::Remove { block })?;
            let table = m.table.as_mut().expect("checked above");
            table.remove(block);
            self.entries.set(block, None);
            cost.table_removes += 1;
        }
        Ok(())
    }

    /// Reserves a slot for `block` and publishes the entry in memory (invisible to
    /// other calls, which cannot touch `block` while we hold its group-1 lock). It is
    /// journaled by [`Device::commit_entry`] once its data is written, or taken back
    /// by [`Device::abandon_entry`] if the data cannot be written.
    pub(super) fn allocate_entry(
        &self,
        vlun: Vlun,
        block: u64,
        cost: &mut IoCost,
    ) -> Result<Reservation> {
        let mut m = sync::lock(&self.meta);
        if let Some(e) = &m.journal_failed {
            // The entry could never be committed: refuse before writing any data.
            return Err(e.clone().into());
        }
        let table = m.table.as_mut().expect("a table exists while allocating");
        let reservation = table.reserve(block).map_err(|_| Error::DataAreaFull {
            variant: self.variant,
            vlun,
            block,
            slots: self.area_slots,
        })?;
        cost.table_inserts += 1;
        self.entries.set(block, Some(reservation.slot));
        Ok(reservation)
    }

    /// Journals the entry whose data is now written (and, with `durable`, syncs it);
    /// if the journal refuses, the entry is taken back, so the table never shows what
    /// a reopen would not.
    pub(super) fn commit_entry(
        &self,
        r: Reservation,
        durable: bool,
        cost: &mut IoCost,
    ) -> Result<()> {
        let mut m = sync::lock(&self.meta);
        let (block, slot) = (r.block, r.slot);
        let logged = m.log(MetaRecord::Insert { block, slot }).and_then(|()| {
            if durable {
                m.sync(cost)
            } else {
                Ok(())
            }
        });
        match logged {
            Ok(()) => {
                m.note_peak();
                Ok(())
            }
            Err(e) => {
                if let Some(t) = m.table.as_mut() {
                    t.cancel(r);
                    self.entries.set(r.block, None);
                }
                Err(e)
            }
        }
    }

    /// Takes back a reserved entry whose data could not be written.
    pub(super) fn abandon_entry(&self, r: Reservation) {
        if let Some(t) = sync::lock(&self.meta).table.as_mut() {
            t.cancel(r);
            self.entries.set(r.block, None);
        }
    }
}
