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

use crate::cost::IoCost;
use crate::device::{Device, DeviceConfig};
use crate::error::Result;
use crate::file::{replay, Restored};
use crate::meta::{self, Journal, MemJournal, MetaError, MEM_JOURNAL_NAME};
use crate::store::{BlockStore, CrashStore, Fate, PendingWrite};
use crate::{Phase, Variant, Vlun};

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
    /// store error during the repair.
    pub fn recover(
        config: DeviceConfig,
        image_a: S,
        image_b: S,
        journal: MemJournal,
    ) -> Result<Self> {
        let bytes = journal.durable_bytes();
        let decoded = meta::decode(MEM_JOURNAL_NAME, &bytes)?;
        // A torn last append is dropped for good, so later appends follow whole frames.
        journal.truncate_durable(decoded.valid_len as usize);
        let restored = replay(MEM_JOURNAL_NAME, &decoded.records)?;
        if restored.variant != config.variant {
            return Err(MetaError::at(
                MEM_JOURNAL_NAME,
                meta::MAGIC.len() as u64,
                format!(
                    "the device was made for {}, not {}",
                    restored.variant, config.variant
                ),
            )
            .into());
        }
        Device::new(config, image_a, image_b)?.recover_from(restored, Box::new(journal))
    }

    /// The recovery routine over a replayed journal (see the module doc).
    pub(crate) fn recover_from(
        self,
        restored: Restored,
        journal: Box<dyn Journal>,
    ) -> Result<Self> {
        let geometry = (
            restored.block_size,
            restored.volume_blocks,
            restored.area_slots,
        );
        let area = if restored.variant == Variant::WriteMirroring {
            0
        } else {
            restored.area_slots
        };
        if geometry.0 != self.block_size()
            || geometry.1 != self.volume_blocks()
            || area != self.area_slots()
        {
            return Err(MetaError {
                path: "journal".into(),
                offset: Some(meta::MAGIC.len() as u64),
                reason: format!(
                    "the journal describes {} blocks of {} bytes and {} slots; the images hold {} blocks of {} bytes and {} slots",
                    geometry.1, geometry.0, area, self.volume_blocks(), self.block_size(), self.area_slots()
                ),
            }
            .into());
        }
        let device = self.restore(restored.phase, restored.table, restored.area_peak, journal);
        device.restore_diverged(restored.diverged);
        if restored.phase <= Phase::Split {
            device.repair_mirror(&restored.dirty)?;
        }
        if restored.phase == Phase::Retired && device.table().is_some() {
            device.finish_retire()?;
        }
        device.compact_metadata()?;
        Ok(device)
    }

    /// Mirroring: makes image B equal image A on every dirty block (A is the side
    /// VLUN A reads, and an A write lands on image A first), then flushes image B, so
    /// the compaction that follows may forget the marks. Cost: one read and one write
    /// per block written through VLUN A since the last flush.
    fn repair_mirror(&self, dirty: &std::collections::BTreeSet<u64>) -> Result<()> {
        if dirty.is_empty() {
            return Ok(());
        }
        let (a, b) = self.images();
        let mut cost = IoCost::default();
        let mut buf = vec![0u8; self.block_size()];
        let mut repair = || -> Result<()> {
            for &block in dirty {
                cost.reads_a += 1;
                a.read_block(block, &mut buf)?;
                cost.writes_b += 1;
                b.write_block(block, &buf)?;
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

impl<S: BlockStore> Device<CrashStore<S>> {
    /// A power loss and restart of a device on simulated disks: each unflushed image
    /// write meets the fate `fate(image, write)` gives it, the journal keeps the first
    /// `keep(unsynced_len)` of its unsynced bytes, then the device is recovered on the
    /// same (now disarmed) stores and journal. `journal` is the handle given to
    /// [`Device::with_journal`] (or to the recovery that made this device).
    ///
    /// ```
    /// use engine::{CrashStore, Device, DeviceConfig, Fate, MemJournal, MemStore, Variant, Vlun};
    ///
    /// let disk = |blocks| CrashStore::new(MemStore::new(512, blocks).unwrap(), 8);
    /// let journal = MemJournal::new();
    /// let d = Device::with_journal(DeviceConfig::new(Variant::CopyOnWrite), disk(64), disk(64), journal.clone())?;
    /// d.write(Vlun::A, 0, &[1; 512])?;
    /// d.flush()?; // durable from here on
    /// d.split()?;
    /// d.write(Vlun::B, 0, &[2; 512])?; // acknowledged, not flushed
    /// let d = d.power_cycle(&journal, |_, _| Fate::Lost, |_| 0)?;
    /// let mut buf = [0; 512];
    /// d.read(Vlun::A, 0, &mut buf)?;
    /// assert_eq!(buf, [1; 512]); // VLUN A never sees B's write, flushed or not
    /// # Ok::<(), engine::Error>(())
    /// ```
    pub fn power_cycle(
        self,
        journal: &MemJournal,
        mut fate: impl FnMut(Vlun, &PendingWrite) -> Fate,
        keep: impl FnOnce(usize) -> usize,
    ) -> Result<Self> {
        let config = self.config().clone();
        {
            let (a, b) = self.images();
            a.crash(|w| fate(Vlun::A, w))?;
            b.crash(|w| fate(Vlun::B, w))?;
        }
        journal.crash(keep);
        let (a, b) = self.into_images();
        Device::recover(config, a, b, journal.clone())
    }
}
