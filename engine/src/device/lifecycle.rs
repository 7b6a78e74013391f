//! The life cycle: split (the backup request), backup of VLUN A, retire of VLUN A,
//! detach of VLUN B onto B'. Each phase change is journaled with no call in flight.

use std::io::Write;

use super::{BackupReport, Device};
use crate::block_buffer::block_buffer;
use crate::cost::IoCost;
use crate::error::{Error, Result};
use crate::meta::MetaRecord;
use crate::store::BlockStore;
use crate::sync;
use crate::table::LookupTable;
use crate::{Image, Phase, Variant, Vlun};

/// How many blocks ahead of its read the archive stream hints a block
/// ([`Device::prefetch`]): enough reads to cover a memory access on a table far
/// larger than the cache.
const STREAM_AHEAD_BLOCKS: usize = 16;

impl<S: BlockStore> Device<S> {
    fn transition(&self, op: &'static str, from: &[Phase], to: Phase) -> Result<IoCost> {
        let excluded = self.exclude_calls();
        let phase = self.phase.get();
        if !from.contains(&phase) {
            return Err(Error::IllegalState { op, phase });
        }
        let mut cost = IoCost::default();
        let result = self.change_phase(phase, to, &mut cost);
        self.counters.charge(&cost);
        result?;
        self.phase.set(to, &excluded);
        Ok(cost)
    }

    /// Journals the phase change, with no call in flight (the caller holds every
    /// group-1 lock). A phase change is a barrier: on a power-safe device every
    /// write before it is durable first and the record is synced, so no crash brings
    /// back a write from the other side of the split; the mirror's dirty blocks are
    /// clean then (both images were written).
    fn change_phase(&self, from: Phase, to: Phase, cost: &mut IoCost) -> Result<()> {
        if from == Phase::Retired && self.variant == Variant::WriteMirroring {
            // A new cycle: image A, kept since the retire (VLUN A was released, not
            // its image), mirrors the live volume again before VLUN A reads it (the
            // RAID-1 mirror that exists at a request): only the blocks VLUN B wrote
            // since are copied.
            self.resync_image_a(cost)?;
        }
        self.barrier(Image::A, cost)?;
        self.barrier(Image::B, cost)?;
        let mut m = sync::lock(&self.meta);
        if m.marks_pending() {
            m.log(MetaRecord::FlushMark)?;
            m.log(MetaRecord::Clean)?;
            m.marks_flushing();
            m.marks_clean();
        }
        m.log(MetaRecord::Phase(to))?;
        if to != Phase::Split {
            m.diverged.clear();
        } else {
            m.archive_complete = false;
        }
        if self.power_safe() {
            m.sync(cost)?;
        }
        if to == Phase::Split && self.variant != Variant::WriteMirroring {
            let peak = m.area_peak;
            m.table = Some(LookupTable::new(self.volume_blocks, self.area_slots).with_peak(peak));
            self.entries.reset(m.table.as_ref());
        }
        Ok(())
    }

    /// The backup request: VLUN B is created from VLUN A. From now on old transactions
    /// use VLUN A and new ones VLUN B.
    ///
    /// Also legal once VLUN A of the previous cycle is retired (the retire finished):
    /// a new backup cycle over the live volume, which VLUN A and VLUN B both show at
    /// the split (mirroring first copies image B, the live volume, back to image A
    /// where the two may differ: [`Device::split_counted`]).
    /// So a device can be backed up on a schedule: split, backup, retire, split, …
    pub fn split(&self) -> Result<()> {
        self.split_counted().map(|_| ())
    }

    /// [`Device::split`], returning the physical operations it performed (also in
    /// [`Device::counters`]): its barriers and journal sync on a power-safe device, and
    /// at a later cycle under mirroring the resync of image A from image B: one read
    /// of image B and one write of image A per block where they may differ (each block
    /// VLUN B wrote since the last resync, or since the device was made over images
    /// vouched in sync, [`Device::images_in_sync`]), or per volume block when that is
    /// unknown (the first resync after a reopen or a recovery, a device made over
    /// existing images, a VLUN A write that failed half-way). A resync that stops
    /// (an unreadable block) fails the split, the phase unchanged, and keeps the
    /// blocks it did not copy for the next try.
    pub fn split_counted(&self) -> Result<IoCost> {
        if self.phase() == Phase::Retired && sync::lock(&self.meta).table.is_some() {
            return Err(Error::IllegalState {
                op: "split before the retire finished (call retire_a again)",
                phase: Phase::Retired,
            });
        }
        self.transition("split", &[Phase::Single, Phase::Retired], Phase::Split)
    }

    /// Mirroring, at a new cycle's split (every call excluded): copies image B to
    /// image A where they may differ (`super::resync`), in ascending block order;
    /// every volume block when that is unknown. Cost: one read and one write per block
    /// copied (the barrier follows). On an error the blocks not copied, the failing
    /// one included, stay recorded (all of them, unknown, after a whole copy).
    fn resync_image_a(&self, cost: &mut IoCost) -> Result<()> {
        let mut buf = block_buffer(self.block_size, "copy image B to image A at the split")?;
        let stale = sync::lock_brief(&self.stale).take();
        let mut copy = |block: u64| -> Result<()> {
            self.read_image(Image::B, block, &mut buf, cost)?;
            self.write_image(Image::A, block, &buf, cost)
        };
        let (result, left) = match stale {
            None => ((0..self.volume_blocks).try_for_each(&mut copy), None),
            Some(blocks) => {
                let mut stopped = None;
                for block in blocks.iter() {
                    if let Err(e) = copy(block) {
                        stopped = Some((block, e));
                        break;
                    }
                }
                match stopped {
                    None => (Ok(()), None),
                    Some((block, e)) => (Err(e), Some(blocks.from(block))),
                }
            }
        };
        if result.is_err() {
            sync::lock_brief(&self.stale).keep(left);
        }
        result
    }

    /// Streams VLUN A, block by block, to `archive` (a tape, a buffer in memory: a
    /// writer that holds the archive once its `flush` returns) and records the archive
    /// as complete: [`Device::copy_a`], then [`Device::backup_a_copied`]. VLUN A becomes
    /// read-only first ([`Phase::BackedUp`]): it was declared consistent, and an archive
    /// must equal A at that moment. Only when every block and the final `flush` of
    /// `archive` succeeded is the archive recorded as complete (journaled;
    /// [`Device::archive_complete`]), which [`Device::retire_a`] requires. Can be
    /// repeated (e.g. after a failed archive write).
    ///
    /// An archive that needs a step after the flush to exist (a temporary file synced
    /// and renamed into place) is written with [`Device::copy_a`], and recorded with
    /// [`Device::backup_a_copied`] only once that step succeeded: the record never
    /// names an archive that is not there.
    ///
    /// Errors: as [`Device::copy_a`]; a journal write of the record
    /// ([`Error::Meta`]).
    pub fn backup_a(&self, archive: &mut impl Write) -> Result<BackupReport> {
        let report = self.copy_a(archive)?;
        self.archived()?;
        Ok(report)
    }

    /// Streams VLUN A, block by block, to `archive`, and flushes it, recording nothing:
    /// the first half of [`Device::backup_a`], for an archive the caller still has to
    /// put in place (sync a temporary file and rename it over the archive's name).
    /// Once it is there the caller records it with [`Device::backup_a_copied`]; until
    /// then [`Device::archive_complete`] stays as it was and [`Device::retire_a`]
    /// refuses ([`Error::NoArchive`]) unless an earlier archive of this cycle was
    /// recorded. VLUN A becomes read-only first ([`Phase::BackedUp`]), as in
    /// [`Device::backup_a`]. Returns the blocks and bytes written (block size times
    /// the volume's blocks) and the cost of reading them.
    ///
    /// Errors: [`Error::IllegalState`] outside [`Phase::Split`] and
    /// [`Phase::BackedUp`]; [`Error::Archive`] when `archive` refuses a write or its
    /// flush, [`Error::BackupRead`] when reading VLUN A fails; both say how many
    /// blocks were done. After an error the stream holds a partial archive: it is the
    /// caller's to discard (write to a temporary file and rename it only after `Ok`).
    pub fn copy_a(&self, archive: &mut impl Write) -> Result<BackupReport> {
        let (blocks, cost) = self.stream_a(0..self.volume_blocks, &mut |_, data| {
            archive.write_all(data)
        })?;
        archive.flush().map_err(|source| Error::Archive {
            blocks_done: self.volume_blocks,
            source,
        })?;
        Ok(BackupReport {
            blocks,
            bytes: blocks * self.block_size as u64,
            cost,
        })
    }

    /// As [`Device::backup_a`], copying only the blocks `data` lists (ascending, each
    /// below the volume's size): the blocks that hold data, as a sparse-aware copy
    /// (`cp --sparse`, `qemu-img convert`, which find them with `SEEK_DATA` and
    /// `SEEK_HOLE`) reads them; every other block is a hole, whose content the archive's
    /// reader knows (the volume's initial content) and which is not read. `archive`
    /// gets each block's number and bytes. The caller vouches that the holes of A hold
    /// their initial content (e.g. [`crate::store::BlockStore::written_blocks`] of both
    /// images and [`Device::table_blocks`]); with every block listed this is
    /// `backup_a`. Errors: as [`Device::backup_a`]; `blocks_done` counts listed blocks.
    pub fn backup_a_sparse(
        &self,
        data: impl IntoIterator<Item = u64>,
        archive: &mut impl FnMut(u64, &[u8]) -> std::io::Result<()>,
    ) -> Result<BackupReport> {
        let (blocks, cost) = self.stream_a(data.into_iter(), archive)?;
        self.archived()?;
        Ok(BackupReport {
            blocks,
            bytes: blocks * self.block_size as u64,
            cost,
        })
    }

    /// Records the archive of VLUN A as complete once the caller has it in place:
    /// after [`Device::copy_a`] wrote it and the caller's last step (a temporary file
    /// synced and renamed over the archive's name) succeeded, or when the caller copied
    /// it itself, reading VLUN A ([`Device::read`], [`Device::read_prefix`]) after it
    /// was declared consistent. VLUN A turns read-only ([`Phase::BackedUp`]) and the
    /// archive is journaled as complete ([`Device::archive_complete`]), as after
    /// [`Device::backup_a_sparse`], with nothing read again. The caller vouches that
    /// nothing wrote VLUN A since its reads and that every block holding data reached
    /// its archive (a simulated copy that reads A extent by extent over time, priced
    /// as it goes). Errors: [`Error::IllegalState`] outside [`Phase::Split`] and
    /// [`Phase::BackedUp`]; a journal write ([`Error::Meta`]).
    pub fn backup_a_copied(&self) -> Result<()> {
        self.transition(
            "back up VLUN A",
            &[Phase::Split, Phase::BackedUp],
            Phase::BackedUp,
        )?;
        self.archived()
    }

    /// Turns A read-only ([`Phase::BackedUp`]) and streams `blocks` of it to `sink`:
    /// the blocks streamed and the cost of reading them.
    fn stream_a(
        &self,
        blocks: impl Iterator<Item = u64>,
        sink: &mut impl FnMut(u64, &[u8]) -> std::io::Result<()>,
    ) -> Result<(u64, IoCost)> {
        // Asked for first: a buffer the system refuses leaves the phase as it was.
        let mut buf = block_buffer(self.block_size, "back up VLUN A")?;
        self.transition(
            "back up VLUN A",
            &[Phase::Split, Phase::BackedUp],
            Phase::BackedUp,
        )?;
        let mut cost = IoCost::default();
        let mut done = 0u64;
        // The blocks are hinted STREAM_AHEAD_BLOCKS before they are read, so their
        // tables' cache lines load while earlier blocks are read.
        let mut blocks = blocks;
        let mut ahead = std::collections::VecDeque::with_capacity(STREAM_AHEAD_BLOCKS);
        ahead.extend(blocks.by_ref().take(STREAM_AHEAD_BLOCKS).inspect(|&b| {
            self.prefetch(Vlun::A, b);
        }));
        while let Some(block) = ahead.pop_front() {
            if let Some(next) = blocks.next() {
                self.prefetch(Vlun::A, next);
                ahead.push_back(next);
            }
            let c = self
                .read(Vlun::A, block, &mut buf)
                .map_err(|source| Error::BackupRead {
                    blocks_done: done,
                    block,
                    source: Box::new(source),
                })?;
            cost.add(c);
            sink(block, &buf).map_err(|source| Error::Archive {
                blocks_done: done,
                source,
            })?;
            done += 1;
        }
        Ok((done, cost))
    }

    /// Records the archive as complete (journaled), once.
    fn archived(&self) -> Result<()> {
        let mut m = sync::lock(&self.meta);
        if !m.archive_complete {
            m.log(MetaRecord::ArchiveComplete)?;
            m.archive_complete = true;
        }
        Ok(())
    }

    /// Discards VLUN A and frees the variant's extra space: mirroring releases VLUN A
    /// but keeps image A as the base of the next split's incremental resync
    /// ([`crate::SpaceInUse::kept_image_blocks`]);
    /// copy-on-write drops A's preserved blocks; write logging merges B's logged blocks
    /// into image A, where VLUN B lives from now on. VLUN B stays live throughout.
    ///
    /// The phase changes first (journaled), then the space is freed; if that is cut
    /// short (an I/O error, a crash), calling `retire_a` again, or reopening the file
    /// device, finishes it. Once it has finished, another call is illegal.
    ///
    /// Errors: [`Error::NoArchive`] unless a [`Device::backup_a`] completed (VLUN A
    /// would be lost with no whole archive of it; [`Device::retire_a_without_archive`]
    /// is the explicit way to do that); [`Error::IllegalState`] out of phase.
    pub fn retire_a(&self) -> Result<IoCost> {
        let phase = self.phase();
        if phase == Phase::BackedUp && !self.archive_complete() {
            return Err(Error::NoArchive);
        }
        self.retire_a_without_archive()
    }

    /// [`Device::retire_a`] without the complete-archive check: discards VLUN A even
    /// if no archive of it was completed (the caller has another copy, or gives it up).
    pub fn retire_a_without_archive(&self) -> Result<IoCost> {
        let buf = self.merge_buffer()?;
        let unfinished = self.phase() == Phase::Retired && sync::lock(&self.meta).table.is_some();
        if !unfinished {
            self.transition("retire VLUN A", &[Phase::BackedUp], Phase::Retired)?;
        }
        self.finish_retire_with(buf)
    }

    /// Abandons the backup: discards VLUN A from the split (or after a backup that did
    /// not complete) with no archive, and frees the extra space as [`Device::retire_a`]
    /// does; VLUN B stays live and unchanged. What a snapshot whose copy-on-write area
    /// filled comes to (dm-snapshot invalidates it; QEMU's `on-cbw-error =
    /// break-snapshot`): the users go on, the backup is lost. Transactions still
    /// running on VLUN A must carry on through VLUN B (every write they made through A
    /// reached B too); VLUN A calls are refused from now on.
    ///
    /// Errors: [`Error::IllegalState`] outside the split and backed-up phases.
    pub fn abandon_a(&self) -> Result<IoCost> {
        let buf = self.merge_buffer()?;
        self.transition(
            "abandon VLUN A",
            &[Phase::Split, Phase::BackedUp],
            Phase::Retired,
        )?;
        self.finish_retire_with(buf)
    }

    /// Write logging's buffer for merging logged blocks at the retire (none for the
    /// other variants), asked for before the phase changes: a buffer the system
    /// refuses ([`Error::OutOfMemory`]) leaves the device as it was.
    fn merge_buffer(&self) -> Result<Option<Vec<u8>>> {
        if self.variant != Variant::WriteLogging {
            return Ok(None);
        }
        block_buffer(
            self.block_size,
            "merge VLUN B's logged blocks at the retire",
        )
        .map(Some)
    }

    /// Frees what VLUN A held, in the retired phase: merges write logging's logged
    /// blocks into image A, then drops the table. Safe to repeat after a failure.
    pub(crate) fn finish_retire(&self) -> Result<IoCost> {
        let buf = self.merge_buffer()?;
        self.finish_retire_with(buf)
    }

    /// [`Device::finish_retire`] with the buffer of [`Device::merge_buffer`].
    fn finish_retire_with(&self, buf: Option<Vec<u8>>) -> Result<IoCost> {
        assert_eq!(self.phase(), Phase::Retired);
        let mut cost = IoCost::default();
        let result = self.merge_and_clear(buf, &mut cost);
        self.counters.charge(&cost);
        result.map(|()| cost)
    }

    /// Write logging merges in two passes: every logged block copied to image A, one
    /// barrier, then every entry dropped, so the removals never outrun the copies. No
    /// slot is reused meanwhile (the retired device creates no entries).
    fn merge_and_clear(&self, buf: Option<Vec<u8>>, cost: &mut IoCost) -> Result<()> {
        if let Some(mut buf) = buf {
            let entries: Vec<(u64, u32)> = self
                .table()
                .map(|t| t.entries().collect())
                .unwrap_or_default();
            for &(block, _) in &entries {
                let _locks = self.lock_block(block);
                // A B write may have merged this block meanwhile: look again under its lock.
                if let Some(slot) = self.lookup(block, cost) {
                    self.read_image_at(Image::B, u64::from(slot), block, &mut buf, cost)?;
                    self.write_image(Image::A, block, &buf, cost)?;
                }
            }
            if !entries.is_empty() {
                self.barrier(Image::A, cost)?;
            }
            for &(block, _) in &entries {
                let _locks = self.lock_block(block);
                cost.table_lookups += 1;
                self.remove_entry(block, cost)?;
            }
        }
        let mut m = sync::lock(&self.meta);
        if m.table.is_some() {
            m.log(MetaRecord::Clear)?;
            let t = m.table.take().expect("checked above");
            self.entries.drop_table();
            cost.table_removes += t.in_use() as u32;
        }
        Ok(())
    }

    /// Copies VLUN B to `b_prime` so that it no longer shares physical storage with
    /// image A (\[0048\]), and ends this device: `b_prime` is returned, holding the live
    /// volume, ready to become the base of a new device.
    pub fn detach_b(self, b_prime: S) -> Result<S> {
        self.detach_b_to(b_prime)
    }

    /// Like [`Device::detach_b`], onto a store of any type (e.g. a file for a device
    /// that lived in memory).
    pub fn detach_b_to<T: BlockStore>(self, b_prime: T) -> Result<T> {
        self.copy_b_to(&b_prime)?;
        Ok(b_prime)
    }

    /// The copy of [`Device::detach_b_to`] without ending the device: every block of
    /// VLUN B written to `b_prime` and `b_prime` flushed. A caller that writes B' to a
    /// temporary file first (`owm device detach`) keeps the device when the copy fails
    /// (a full file system, a read error) and ends it only once B' is in place. The
    /// caller keeps VLUN B from changing during the copy.
    ///
    /// # Errors
    /// [`Error::IllegalState`] before VLUN A is retired; [`Error::Geometry`] for a
    /// `b_prime` of another block size or fewer blocks than the volume; the first
    /// read or write error (naming the store and block).
    pub fn copy_b_to<T: BlockStore>(&self, b_prime: &T) -> Result<()> {
        let phase = self.phase();
        if phase != Phase::Retired {
            return Err(Error::IllegalState {
                op: "copy VLUN B to B'",
                phase,
            });
        }
        if b_prime.block_size() != self.block_size || b_prime.block_count() < self.volume_blocks {
            return Err(Error::Geometry {
                variant: self.variant,
                reason: format!(
                    "B' ({}) holds {} blocks of {} bytes; VLUN B needs {} of {}",
                    b_prime.name(),
                    b_prime.block_count(),
                    b_prime.block_size(),
                    self.volume_blocks,
                    self.block_size
                ),
            });
        }
        let mut buf = block_buffer(self.block_size, "copy VLUN B to B'")?;
        for block in 0..self.volume_blocks {
            self.read(Vlun::B, block, &mut buf)?;
            b_prime.write_block(block, &buf)?;
        }
        b_prime.flush()?;
        Ok(())
    }
}
