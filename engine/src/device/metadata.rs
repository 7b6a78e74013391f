//! The device's metadata state: the lookup table (if the variant and phase have one),
//! the journal that records its changes, and mirroring's dirty and diverged marks.
//! One lock guards it all (the device's metadata lock), so the journal's order is the
//! table's order. It knows the journal and the table, not the device, so it can be
//! tested alone.

use std::collections::{BTreeMap, BTreeSet};

use crate::cost::IoCost;
use crate::error::Result;
use crate::meta::{Journal, MetaError, MetaRecord};
use crate::table::LookupTable;
use crate::{Identity, Image, Phase, Variant};

/// The lookup table and the journal that records its changes: one lock, so the
/// journal's order is the table's order.
pub(crate) struct Metadata {
    pub(super) table: Option<LookupTable>,
    pub(super) area_peak: u64,
    pub(super) journal: Option<Box<dyn Journal>>,
    /// The first journal failure. After it the journal's contents are unknown (an
    /// append may be half-written, an fsync may have dropped pages), so every later
    /// metadata change fails with it: the device stops changing its table rather
    /// than journal records a replay could not follow. Writes that need no table
    /// change still work, and everything acknowledged before stays findable.
    pub(super) journal_failed: Option<MetaError>,
    /// Records appended since the journal was last written whole: [`Device::flush`](super::Device::flush)
    /// compacts it past [`JOURNAL_APPENDS_MAX`], so the file stays bounded.
    pub(super) appended: u64,
    /// Records appended since the journal was last synced (a sync is skipped without).
    pub(super) unsynced: bool,
    /// Records other than integrity marks ([`MetaRecord::Unsummed`]) appended since the
    /// journal was last synced: what a slot's reuse waits for.
    pub(super) unsynced_beyond_marks: bool,
    /// Mirroring with a journal: blocks with a `Dirty` record since the last
    /// `FlushMark` (`dirty_new`) and between it and its `Clean` (`dirty_flushing`).
    /// Recovery copies image A to image B for both (ARCHITECTURE.md, "Recovery").
    pub(super) dirty_new: BTreeSet<u64>,
    pub(super) dirty_flushing: BTreeSet<u64>,
    /// Integrity mode with a journal: the physical blocks (image, block → the
    /// logical block they hold) with an `Unsummed` record since the last
    /// `FlushMark` (`unsummed_new`) and between it and its `Clean`
    /// (`unsummed_flushing`). Recovery re-sums them.
    pub(super) unsummed_new: BTreeMap<(Image, u64), u64>,
    pub(super) unsummed_flushing: BTreeMap<(Image, u64), u64>,
    /// Mirroring with a journal, split phase: blocks VLUN B has written.
    pub(super) diverged: BTreeSet<u64>,
    /// Backed-up phase: an archive of VLUN A completed (journaled `ArchiveComplete`).
    pub(super) archive_complete: bool,
    /// What the open that made this device mended ([`crate::Repairs`]).
    pub(super) repairs: crate::Repairs,
}

/// Appends after which [`Device::flush`](super::Device::flush) rewrites the journal as a snapshot. A snapshot
/// is at most about 16 bytes per table entry, an append about 20 bytes, so this bounds
/// the metadata file to a few MiB beyond the snapshot.
pub const JOURNAL_APPENDS_MAX: u64 = 1 << 17;

impl Metadata {
    pub(super) fn new(
        table: Option<LookupTable>,
        area_peak: u64,
        journal: Option<Box<dyn Journal>>,
    ) -> Self {
        Metadata {
            table,
            area_peak,
            journal,
            journal_failed: None,
            appended: 0,
            unsynced: false,
            unsynced_beyond_marks: false,
            dirty_new: BTreeSet::new(),
            dirty_flushing: BTreeSet::new(),
            unsummed_new: BTreeMap::new(),
            unsummed_flushing: BTreeMap::new(),
            diverged: BTreeSet::new(),
            archive_complete: false,
            repairs: crate::Repairs::default(),
        }
    }

    /// Journals `record`; the caller changes the in-memory state only if this succeeds,
    /// so memory never runs ahead of what a reopen would restore.
    pub(super) fn log(&mut self, record: MetaRecord) -> Result<()> {
        self.journal_op(|j| j.append(&record))?;
        self.appended += 1;
        self.unsynced = true;
        self.unsynced_beyond_marks |= !matches!(record, MetaRecord::Unsummed { .. });
        Ok(())
    }

    /// Makes every appended record durable; counts a flush if there was any to sync.
    pub(super) fn sync(&mut self, cost: &mut IoCost) -> Result<()> {
        if self.journal.is_none() || !self.unsynced {
            return Ok(());
        }
        self.journal_op(|j| j.sync())?;
        self.unsynced = false;
        self.unsynced_beyond_marks = false;
        cost.flushes += 1;
        cost.journal_syncs += 1;
        Ok(())
    }

    pub(super) fn journal_op(
        &mut self,
        op: impl FnOnce(&mut dyn Journal) -> std::result::Result<(), MetaError>,
    ) -> Result<()> {
        if let Some(e) = &self.journal_failed {
            return Err(e.clone().into());
        }
        let Some(j) = self.journal.as_mut() else {
            return Ok(());
        };
        op(j.as_mut()).map_err(|e| {
            self.journal_failed = Some(e.clone());
            e.into()
        })
    }

    /// Integrity mode: journals that physical block `block` of `image` is about to be
    /// written with volume block `logical`'s data, unless a mark since the last
    /// `FlushMark` says so already. Not synced: see [`MetaRecord::Unsummed`].
    pub(super) fn mark_unsummed(&mut self, image: Image, block: u64, logical: u64) -> Result<()> {
        if self.journal.is_none() || self.unsummed_new.get(&(image, block)) == Some(&logical) {
            return Ok(());
        }
        self.log(MetaRecord::Unsummed {
            image,
            block,
            logical,
        })?;
        self.unsummed_new.insert((image, block), logical);
        Ok(())
    }

    /// Whether any dirty or unsummed mark waits for a flush to clean it.
    pub(super) fn marks_pending(&self) -> bool {
        !(self.dirty_new.is_empty()
            && self.dirty_flushing.is_empty()
            && self.unsummed_new.is_empty()
            && self.unsummed_flushing.is_empty())
    }

    /// A flush begins: the marks made so far are covered by it (after a `FlushMark`).
    pub(super) fn marks_flushing(&mut self) {
        let new = std::mem::take(&mut self.dirty_new);
        self.dirty_flushing.extend(new);
        let new = std::mem::take(&mut self.unsummed_new);
        self.unsummed_flushing.extend(new);
    }

    /// A flush completed: the marks it covered are clean (after a `Clean`).
    pub(super) fn marks_clean(&mut self) {
        self.dirty_flushing.clear();
        self.unsummed_flushing.clear();
    }

    pub(super) fn note_peak(&mut self) {
        if let Some(t) = self.table.as_mut() {
            t.note_peak();
            self.area_peak = self.area_peak.max(t.in_use());
        }
    }

    /// The metadata as a compact record list (header, phase, table, marks): what a
    /// compaction writes and a replay of it restores.
    pub(super) fn snapshot(&self, id: &Identity, phase: Phase) -> Vec<MetaRecord> {
        let (variant, g) = (id.variant, id.geometry);
        let mut out = vec![MetaRecord::Header {
            variant,
            block_size: g.block_size as u32,
            volume_blocks: g.volume_blocks,
            area_slots: g.area_slots,
            device_id: id.device_id,
            generation: id.generation,
            integrity: id.integrity,
            nonce: id.nonce,
        }];
        for p in [Phase::Split, Phase::BackedUp, Phase::Retired] {
            if p <= phase {
                out.push(MetaRecord::Phase(p));
            }
        }
        if phase == Phase::BackedUp && self.archive_complete {
            out.push(MetaRecord::ArchiveComplete);
        }
        let peak = self.area_peak.min(u64::from(u32::MAX)) as u32;
        if let Some(t) = &self.table {
            let (next_fresh, free) = t.allocator();
            out.push(MetaRecord::Table {
                next_fresh,
                peak,
                free: free.to_vec(),
                entries: t.entries().collect(),
            });
        } else if phase == Phase::Retired && variant != Variant::WriteMirroring {
            // The table is gone, but its peak is a figure the device reports: keep it
            // in an empty snapshot before the drop, so a reopen restores it too.
            out.push(MetaRecord::Table {
                next_fresh: 0,
                peak,
                free: Vec::new(),
                entries: Vec::new(),
            });
            out.push(MetaRecord::Clear);
        }
        // Mirroring's marks: diverged blocks, and dirty ones whether or not a flush
        // has begun on them.
        for &block in &self.diverged {
            out.push(MetaRecord::Diverged { block });
        }
        for &block in self.dirty_new.union(&self.dirty_flushing) {
            out.push(MetaRecord::Dirty { block });
        }
        // Integrity marks no flush has cleaned (a newer mark of a block after an older).
        for (&(image, block), &logical) in self.unsummed_flushing.iter().chain(&self.unsummed_new) {
            out.push(MetaRecord::Unsummed {
                image,
                block,
                logical,
            });
        }
        out
    }
}
