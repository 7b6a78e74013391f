//! Recovery: rebuilding a device from its images and the durable part of its journal
//! after a close or a crash, for the file device ([`crate::file::open`]) and for
//! devices whose journal lives in memory ([`Device::recover`]) alike.
//!
//! The routine (ARCHITECTURE.md, "Recovery"): decode the journal, dropping a torn
//! last append; replay it, checking every step; repair the mirror (mirroring: copy
//! image A to image B for every block a crash may have left different); finish a
//! retire that was cut short; compact the journal into one snapshot. The write order
//! of the variants makes the rest unnecessary: no durable entry can point at data that
//! is not durable, so nothing has to be verified or dropped.

use std::collections::{BTreeMap, BTreeSet};

use crate::cost::IoCost;
use crate::device::{Device, DeviceConfig};
use crate::error::Result;
use crate::meta::{self, Journal, MemJournal, MetaError, MetaRecord, MEM_JOURNAL_NAME};
use crate::store::{BlockStore, Fate, PendingWrite, PowerLoss};
use crate::table::LookupTable;
use crate::{Image, Phase, Variant};

impl<S: BlockStore> Device<S> {
    /// A device in the single-volume phase over `image_a` and `image_b` (as
    /// [`Device::new`]) whose metadata goes to `journal`, which receives a first
    /// snapshot now: the in-memory counterpart of [`crate::file::create`], for crash
    /// tests and the simulator. Keep a clone of `journal` to crash it later.
    pub fn with_journal(
        config: DeviceConfig,
        image_a: S,
        image_b: S,
        journal: MemJournal,
    ) -> Result<Self> {
        let device = Device::new(config, image_a, image_b)?;
        let mut j = journal.clone();
        j.compact(&device.snapshot_records())?;
        device.set_journal(Box::new(journal));
        Ok(device)
    }

    /// Rebuilds a device from its images and the durable bytes of `journal` (after
    /// [`MemJournal::crash`], or a metadata file's bytes via [`MemJournal::from_bytes`]),
    /// running the recovery routine; the device goes on journaling into `journal`.
    ///
    /// Errors: a journal that does not decode or replay ([`MetaError`] with the byte
    /// offset), one made for another variant or geometry than the images', and any
    /// store error during the repair. The journal's integrity mode is the device's,
    /// whatever `config` says (its checksums are loaded from the images).
    pub fn recover(
        mut config: DeviceConfig,
        image_a: S,
        image_b: S,
        journal: MemJournal,
    ) -> Result<Self> {
        let decoded = meta::decode(MEM_JOURNAL_NAME, &journal.durable_bytes())?;
        config.integrity = header(MEM_JOURNAL_NAME, &decoded.records)?.integrity;
        let mut device = Device::build(config, image_a, image_b)?;
        device.recover_memory_journal(journal)?;
        Ok(device)
    }

    /// Recovery from a memory journal's durable bytes, in place (see [`Device::recover`]).
    fn recover_memory_journal(&mut self, journal: MemJournal) -> Result<()> {
        let bytes = journal.durable_bytes();
        let decoded = meta::decode(MEM_JOURNAL_NAME, &bytes)?;
        // A torn last append is dropped for good, so later appends follow whole frames.
        journal.truncate_durable(decoded.valid_len as usize);
        let restored = replay(MEM_JOURNAL_NAME, &decoded.records)?;
        made_for(MEM_JOURNAL_NAME, restored.variant, self.variant())?;
        self.recover_from(MEM_JOURNAL_NAME, restored, Box::new(journal))
    }

    /// The recovery routine over a replayed journal (see the module doc), in place:
    /// the journal's geometry is checked against the images', its state installed,
    /// the mirror repaired, a cut-short retire finished, the journal compacted.
    /// `path` names the journal in errors.
    pub(crate) fn recover_from(
        &mut self,
        path: &str,
        restored: Restored,
        journal: Box<dyn Journal>,
    ) -> Result<()> {
        let area = if restored.variant == Variant::WriteMirroring {
            0
        } else {
            restored.area_slots
        };
        if restored.block_size != self.block_size()
            || restored.volume_blocks != self.volume_blocks()
            || area != self.area_slots()
        {
            return Err(MetaError {
                path: path.into(),
                offset: Some(HEADER_OFFSET),
                os_error: None,
                reason: format!(
                    "the journal describes {} blocks of {} bytes and {} slots; the images hold {} blocks of {} bytes and {} slots",
                    restored.volume_blocks, restored.block_size, area, self.volume_blocks(), self.block_size(), self.area_slots()
                ),
            }
            .into());
        }
        self.set_identity(restored.device_id, restored.generation, restored.nonce);
        self.restore(
            restored.phase,
            restored.table,
            restored.area_peak,
            restored.diverged,
            journal,
        );
        self.set_archive_complete(restored.archive_complete);
        let mut cost = IoCost::default();
        let resummed = self
            .load_sums(&mut cost)
            .and_then(|()| self.resum_marked(&restored.unsummed, &mut cost));
        self.charge(&cost);
        self.set_resummed_at_recovery(resummed?);
        if restored.phase <= Phase::Split {
            self.repair_mirror(&restored.dirty)?;
        }
        if restored.phase == Phase::Retired && self.table().is_some() {
            self.finish_retire()?;
        }
        self.compact_metadata()
    }

    /// Mirroring: makes image B equal image A on every dirty block (A is the side
    /// VLUN A reads, and an A write lands on image A first), then flushes image B, so
    /// the compaction that follows may forget the marks. Cost: one read and one write
    /// per block written through VLUN A since the last flush.
    fn repair_mirror(&self, dirty: &std::collections::BTreeSet<u64>) -> Result<()> {
        if dirty.is_empty() {
            return Ok(());
        }
        let mut buf = crate::block_buffer::block_buffer(self.block_size(), "repair the mirror")?;
        let (a, b) = self.images();
        let mut cost = IoCost::default();
        let mut repair = || -> Result<()> {
            for &block in dirty {
                cost.reads_a += 1;
                a.read_block(block, &mut buf)?;
                // Image A is the repair's source: in integrity mode its checksum is
                // made to match what it holds (a crash may have kept one of the two).
                self.resum(Image::A, block, block, &buf, &mut cost)?;
                self.write_image(Image::B, block, &buf, &mut cost)?;
            }
            cost.flushes += 1;
            b.flush()?;
            Ok(())
        };
        let result = repair();
        self.charge(&cost);
        result
    }
}

impl<S: PowerLoss> Device<S> {
    /// A power loss and restart of a device on stores that can lose power (the
    /// engine's [`crate::CrashStore`], or a simulator's disk around one), in place:
    /// each unflushed write to image `i` meets the fate `fate(i, write)` gives it (image
    /// A's writes first, oldest first, then image B's), the journal keeps the first
    /// `keep(unsynced_len)` of its unsynced bytes, then the recovery routine rebuilds
    /// the device from what survived, with fresh counters. `journal` is the handle
    /// given to [`Device::with_journal`] (or to the recovery that made this device).
    ///
    /// Errors: those of [`Device::recover`]. After an error the device did not
    /// recover: it refuses every table or phase change (fail-stop) and should be
    /// dropped.
    ///
    /// ```
    /// use engine::{CrashStore, Device, DeviceConfig, Fate, MemJournal, MemStore, Variant, Vlun};
    ///
    /// let disk = |blocks| CrashStore::new(MemStore::new(512, blocks).unwrap(), 8);
    /// let journal = MemJournal::new();
    /// let mut d = Device::with_journal(DeviceConfig::new(Variant::CopyOnWrite), disk(64), disk(64), journal.clone())?;
    /// d.write(Vlun::A, 0, &[1; 512])?;
    /// d.flush()?; // durable from here on
    /// d.split()?;
    /// d.write(Vlun::B, 0, &[2; 512])?; // acknowledged, not flushed
    /// d.power_cycle(&journal, |_, _| Fate::Lost, |_| 0)?;
    /// let mut buf = [0; 512];
    /// d.read(Vlun::A, 0, &mut buf)?;
    /// assert_eq!(buf, [1; 512]); // VLUN A never sees B's write, flushed or not
    /// # Ok::<(), engine::Error>(())
    /// ```
    pub fn power_cycle(
        &mut self,
        journal: &MemJournal,
        mut fate: impl FnMut(Image, &PendingWrite) -> Fate,
        keep: impl FnOnce(usize) -> usize,
    ) -> Result<()> {
        let result = self
            .lose_power(journal, &mut fate, keep)
            .and_then(|()| self.recover_memory_journal(journal.clone()));
        if let Err(e) = &result {
            self.fail_stop(MetaError {
                path: MEM_JOURNAL_NAME.into(),
                offset: None,
                os_error: None,
                reason: format!("recovery after a power loss failed: {e}"),
            });
        }
        result
    }

    fn lose_power(
        &self,
        journal: &MemJournal,
        fate: &mut impl FnMut(Image, &PendingWrite) -> Fate,
        keep: impl FnOnce(usize) -> usize,
    ) -> Result<()> {
        let (a, b) = self.images();
        a.lose_power(&mut |w| fate(Image::A, w))?;
        b.lose_power(&mut |w| fate(Image::B, w))?;
        journal.crash(keep);
        Ok(())
    }
}

/// Refuses a journal made for another variant than the one the caller opens it as.
pub(crate) fn made_for(path: &str, made: Variant, opened: Variant) -> Result<(), MetaError> {
    if made == opened {
        return Ok(());
    }
    Err(MetaError::at(
        path,
        HEADER_OFFSET,
        format!("the device was made for {made}, not {opened}"),
    ))
}

/// Byte offset of the header record in a metadata file (right after the magic).
pub(crate) const HEADER_OFFSET: u64 = meta::MAGIC.len() as u64;

/// The geometry the journal's first record declares, checked for sanity.
pub(crate) fn header(path: &str, records: &[(u64, MetaRecord)]) -> Result<Restored, MetaError> {
    let Some((
        _,
        MetaRecord::Header {
            variant,
            block_size,
            volume_blocks,
            area_slots,
            device_id,
            generation,
            integrity,
            nonce,
        },
    )) = records.first()
    else {
        return Err(MetaError::at(
            path,
            HEADER_OFFSET,
            "the first record is not the device header",
        ));
    };
    let block_size_ok = crate::store::check_block_size(path, *block_size as usize).is_ok();
    if !block_size_ok || *volume_blocks == 0 || *area_slots > crate::table::AREA_SLOTS_MAX {
        return Err(MetaError::at(
            path,
            HEADER_OFFSET,
            "impossible geometry in the header",
        ));
    }
    // An absurd size is refused before anything is allocated.
    if *volume_blocks > crate::table::VOLUME_BLOCKS_MAX {
        return Err(MetaError::at(
            path,
            HEADER_OFFSET,
            "volume too large for a lookup table",
        ));
    }
    Ok(Restored {
        variant: *variant,
        block_size: *block_size as usize,
        volume_blocks: *volume_blocks,
        area_slots: *area_slots,
        device_id: *device_id,
        generation: *generation,
        nonce: *nonce,
        integrity: *integrity,
        phase: Phase::Single,
        table: None,
        area_peak: 0,
        dirty: BTreeSet::new(),
        unsummed: BTreeMap::new(),
        diverged: BTreeSet::new(),
        archive_complete: false,
        opening: None,
    })
}

/// The device state a journal describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub variant: Variant,
    pub block_size: usize,
    pub volume_blocks: u64,
    pub area_slots: u64,
    /// The device's id, generation and nonce ([`crate::identity`]).
    pub device_id: [u8; 16],
    pub generation: u64,
    pub nonce: u64,
    /// Whether the device runs in integrity mode.
    pub integrity: bool,
    pub phase: Phase,
    pub table: Option<LookupTable>,
    pub area_peak: u64,
    /// Mirroring: blocks written through VLUN A that no completed flush covers; a
    /// crash may have left images A and B different there.
    pub dirty: BTreeSet<u64>,
    /// Integrity mode: the physical blocks (image, block → the volume block whose
    /// data they hold) marked [`MetaRecord::Unsummed`] that no completed flush
    /// covers; a crash may have kept a block's data and not its checksum there.
    pub unsummed: BTreeMap<(Image, u64), u64>,
    /// Mirroring, split phase: blocks VLUN B has written (recovery leaves them alone).
    pub diverged: BTreeSet<u64>,
    /// Backed-up phase: an archive of VLUN A was completed, so it may be retired.
    pub archive_complete: bool,
    /// A file device's open to this generation (`generation + 1`), with the nonce it
    /// drew, began and was cut short ([`MetaRecord::Opening`]): the images' labels and
    /// the superblock may carry them.
    pub opening: Option<(u64, u64)>,
}

/// Replays decoded records into a device state, checking that every step is one the
/// device could have taken; an impossible step is corruption at that record.
pub fn replay(path: &str, records: &[(u64, MetaRecord)]) -> Result<Restored, MetaError> {
    let mut s = header(path, records)?;
    let iter = records.iter().skip(1);
    let has_table = s.variant != Variant::WriteMirroring;
    // Dirty blocks before the last flush mark (cleaned by its `Clean`), and after it.
    let mut dirty_flushing = BTreeSet::new();
    let mut unsummed_flushing = BTreeMap::new();
    for (at, rec) in iter {
        let bad = |r: String| MetaError::at(path, *at, r);
        match rec {
            MetaRecord::Header { .. } => return Err(bad("a second header".into())),
            MetaRecord::Phase(p) => {
                let legal = matches!(
                    (s.phase, p),
                    (Phase::Single, Phase::Split)
                        | (Phase::Split, Phase::BackedUp)
                        | (Phase::BackedUp, Phase::BackedUp)
                        | (Phase::BackedUp, Phase::Retired)
                        | (Phase::Split, Phase::Retired)
                        | (Phase::Retired, Phase::Split)
                );
                if !legal {
                    return Err(bad(format!("phase {} cannot follow {}", p, s.phase)));
                }
                if *p == Phase::Split && s.phase == Phase::Retired && s.table.is_some() {
                    return Err(bad("split before the retire finished".into()));
                }
                if *p == Phase::Split && has_table {
                    s.table = Some(
                        LookupTable::new(s.volume_blocks, s.area_slots).with_peak(s.area_peak),
                    );
                }
                if *p == Phase::Split {
                    s.archive_complete = false;
                }
                s.phase = *p;
            }
            MetaRecord::Insert { block, slot } => {
                let t = s
                    .table
                    .as_mut()
                    .ok_or_else(|| bad("entry with no table".into()))?;
                if *block >= s.volume_blocks || u64::from(*slot) >= s.area_slots {
                    return Err(bad(format!("entry {block} → {slot} out of range")));
                }
                if t.lookup(*block).is_some() {
                    return Err(bad(format!("block {block} already has an entry")));
                }
                t.insert_at(*block, *slot).map_err(bad)?;
                s.area_peak = s.area_peak.max(t.in_use());
            }
            MetaRecord::Remove { block } => {
                let t = s
                    .table
                    .as_mut()
                    .ok_or_else(|| bad("removal with no table".into()))?;
                if *block >= s.volume_blocks || t.remove(*block).is_none() {
                    return Err(bad(format!("removal of block {block}, which has no entry")));
                }
            }
            MetaRecord::Clear => {
                if s.phase != Phase::Retired {
                    return Err(bad("table dropped before VLUN A was retired".into()));
                }
                s.table = None;
            }
            MetaRecord::Table {
                next_fresh,
                peak,
                free,
                entries,
            } => {
                if !has_table || s.phase == Phase::Single {
                    return Err(bad("table snapshot where there is no table".into()));
                }
                let t = LookupTable::from_parts(
                    s.volume_blocks,
                    s.area_slots,
                    *next_fresh,
                    free.clone(),
                    entries,
                    *peak,
                )
                .map_err(bad)?;
                s.area_peak = t.peak();
                s.table = Some(t);
            }
            MetaRecord::Dirty { block } => {
                if has_table || *block >= s.volume_blocks {
                    return Err(bad(format!("dirty mark of block {block} out of place")));
                }
                s.dirty.insert(*block);
            }
            MetaRecord::Diverged { block } => {
                if has_table || *block >= s.volume_blocks {
                    return Err(bad(format!(
                        "divergence mark of block {block} out of place"
                    )));
                }
                s.diverged.insert(*block);
            }
            MetaRecord::ArchiveComplete => {
                if s.phase != Phase::BackedUp {
                    return Err(bad(format!("archive completed while {}", s.phase)));
                }
                s.archive_complete = true;
            }
            MetaRecord::Opening { generation, nonce } => {
                if *generation != s.generation.wrapping_add(1) {
                    return Err(bad(format!(
                        "an open to generation {generation} beside the header's generation {}",
                        s.generation
                    )));
                }
                s.opening = Some((*generation, *nonce));
            }
            MetaRecord::Unsummed {
                image,
                block,
                logical,
            } => {
                let (blocks_a, blocks_b) = s.variant.image_blocks(s.volume_blocks, s.area_slots);
                let image_blocks = match image {
                    Image::A => blocks_a,
                    Image::B => blocks_b,
                };
                // A volume image's block holds itself; a slot any volume block.
                let own = s.variant.area_image(*image) || logical == block;
                if !s.integrity || *block >= image_blocks || *logical >= s.volume_blocks || !own {
                    return Err(bad(format!(
                        "unsummed mark of image {image:?}'s block {block} (volume block {logical}) out of place"
                    )));
                }
                s.unsummed.insert((*image, *block), *logical);
            }
            MetaRecord::FlushMark => {
                dirty_flushing.append(&mut s.dirty);
                unsummed_flushing.append(&mut s.unsummed);
            }
            MetaRecord::Clean => {
                dirty_flushing.clear();
                unsummed_flushing.clear();
            }
        }
    }
    // A block marked before the last flush mark and again after it: the later mark.
    unsummed_flushing.append(&mut s.unsummed);
    s.unsummed = unsummed_flushing;
    s.dirty.append(&mut dirty_flushing);
    s.dirty.retain(|b| !s.diverged.contains(b));
    if s.phase != Phase::Split {
        // Only the split phase writes through VLUN A and VLUN B both.
        s.diverged.clear();
    }
    Ok(s)
}
