//! The VLUN interface: every read and write routed by (variant, phase, VLUN) to the
//! storage images, as DESIGN.md §2's routing table has it (VLUN in, image out), with
//! the write order of ARCHITECTURE.md ("Write order") per variant.

use super::io::{BlockTarget, Images};
use super::Device;
use crate::cost::IoCost;
use crate::error::{Error, Result};
use crate::meta::MetaRecord;
use crate::store::BlockStore;
use crate::sync;
use crate::{Image, Phase, Variant, Vlun};

/// How many fresh slots ahead copy-on-write's preserve hints image A's line: the
/// slots are taken in order, so the line a preserve writes was hinted that many
/// preserves before (several events, long enough for the line to arrive, short
/// enough for it to stay cached).
const PRESERVE_HINT_AHEAD: u64 = 8;

impl<S: BlockStore> Device<S> {
    /// Reads `block` of `vlun` into `buf` (one block long).
    pub fn read(&self, vlun: Vlun, block: u64, buf: &mut [u8]) -> Result<IoCost> {
        self.check(vlun, block, buf.len())?;
        let locks = self.lock_block(block);
        // Stable while the block's group-1 lock is held (`phase`).
        Self::charged(self, locks.stripe, vlun, false, |dev, phase, cost| {
            Self::route_read(dev, phase, vlun, block, buf, cost)
        })
    }

    /// Reads `block` of `vlun` as its leading bytes: `out` is cleared (its capacity
    /// kept) and filled so that the block is `out` followed by zeros up to the block
    /// size. The same block, routing, cost and errors as [`Device::read`], moving only
    /// the bytes the image holds (a sparse store's block up to its last non-zero
    /// byte, not a whole block zero-filled). `out.len()` is at most the block size; it
    /// may be longer than the block's last non-zero byte (a file image gives the whole
    /// block).
    pub fn read_prefix(&self, vlun: Vlun, block: u64, out: &mut Vec<u8>) -> Result<IoCost> {
        self.check(vlun, block, self.block_size)?;
        let locks = self.lock_block(block);
        Self::charged(self, locks.stripe, vlun, false, |dev, phase, cost| {
            Self::route_read(dev, phase, vlun, block, out, cost)
        })
    }

    /// [`Device::read_prefix`] through an exclusive borrow (a single-threaded caller
    /// that owns the device): no other call can be under way, so the block's group
    /// locks are not taken, and the images are read through their exclusive calls
    /// ([`BlockStore::read_block_prefix_mut`]: no store lock either). The same block,
    /// routing, cost, counters and errors.
    pub fn read_prefix_mut(&mut self, vlun: Vlun, block: u64, out: &mut Vec<u8>) -> Result<IoCost> {
        self.check(vlun, block, self.block_size)?;
        let stripe = self.stripe(block);
        Self::charged(self, stripe, vlun, false, |dev, phase, cost| {
            Self::route_read(dev, phase, vlun, block, out, cost)
        })
    }

    /// One routed call: `route` given the device's images (shared or exclusive), the
    /// phase and a cost to fill, its cost charged to the counters of `stripe` (a read
    /// or a write of `vlun`, failed or not).
    #[inline(always)]
    fn charged<I: Images<S>>(
        mut images: I,
        stripe: usize,
        vlun: Vlun,
        write: bool,
        route: impl FnOnce(&mut I, Phase, &mut IoCost) -> Result<()>,
    ) -> Result<IoCost> {
        let phase = images.dev().phase.get();
        let mut cost = IoCost::default();
        let result = route(&mut images, phase, &mut cost);
        images
            .dev()
            .counters
            .charge_call(stripe, &cost, vlun, write, result.is_ok());
        result.map(|()| cost)
    }

    /// The checks of a write of a block's leading bytes `data`: [`Error::BufferSize`]
    /// when longer than a block, else those of a whole block.
    fn check_prefix(&self, vlun: Vlun, block: u64, data: &[u8]) -> Result<()> {
        let len = if data.len() > self.block_size {
            data.len()
        } else {
            self.block_size
        };
        self.check(vlun, block, len)
    }

    fn route_read<I: Images<S>, T: BlockTarget + ?Sized>(
        images: &mut I,
        phase: Phase,
        vlun: Vlun,
        block: u64,
        buf: &mut T,
        cost: &mut IoCost,
    ) -> Result<()> {
        use Variant::*;
        match (phase, vlun) {
            (Phase::Single, Vlun::B) => {
                return Err(Error::IllegalState {
                    op: "read VLUN B",
                    phase,
                })
            }
            (Phase::Retired, Vlun::A) => {
                return Err(Error::IllegalState {
                    op: "read VLUN A",
                    phase,
                })
            }
            _ => {}
        }
        match (images.dev().variant, vlun) {
            (WriteMirroring, Vlun::A) => images.read_at(Image::A, block, block, buf, cost),
            (WriteMirroring, Vlun::B) => images.read_at(Image::B, block, block, buf, cost),
            (WriteLogging, Vlun::A) => images.read_at(Image::A, block, block, buf, cost),
            // Fig 18: a B write lands in B's log; its first one to a block creates the
            // entry (reserved now, journaled once the data is in its slot).
            (WriteLogging, Vlun::B) => match images.dev().lookup(block, cost) {
                Some(slot) => images.read_at(Image::B, u64::from(slot), block, buf, cost),
                None => images.read_at(Image::A, block, block, buf, cost),
            },
            (CopyOnWrite, Vlun::A) => match images.dev().lookup(block, cost) {
                Some(slot) => images.read_at(Image::A, u64::from(slot), block, buf, cost),
                None => images.read_at(Image::B, block, block, buf, cost),
            },
            (CopyOnWrite, Vlun::B) => images.read_at(Image::B, block, block, buf, cost),
        }
    }

    /// Writes `data` (one block) to `block` of `vlun`. When this returns `Ok`, the write
    /// is acknowledged: every image the variant routes it to holds it.
    pub fn write(&self, vlun: Vlun, block: u64, data: &[u8]) -> Result<IoCost> {
        self.check(vlun, block, data.len())?;
        let locks = self.lock_block(block);
        // Stable while the block's group-1 lock is held (`phase`).
        Self::charged(self, locks.stripe, vlun, true, |dev, phase, cost| {
            Self::route_write(dev, phase, vlun, block, data, cost)
        })
    }

    /// Writes `block` of `vlun` as `data` followed by zeros up to the block size
    /// (`data`: 0 to one block of bytes): the same as [`Device::write`] of that whole
    /// block (routing, cost, errors), without building it: a sparse store looks for
    /// the last non-zero byte in `data` only. Errors: as [`Device::write`];
    /// [`Error::BufferSize`] when `data` is longer than a block.
    pub fn write_prefix(&self, vlun: Vlun, block: u64, data: &[u8]) -> Result<IoCost> {
        self.check_prefix(vlun, block, data)?;
        let locks = self.lock_block(block);
        Self::charged(self, locks.stripe, vlun, true, |dev, phase, cost| {
            Self::route_write(dev, phase, vlun, block, data, cost)
        })
    }

    /// [`Device::write_prefix`] through an exclusive borrow (a single-threaded caller
    /// that owns the device): no other call can be under way, so the block's group
    /// locks are not taken, and the images are written through their exclusive calls
    /// ([`BlockStore::write_block_prefix_mut`]) where a call writes a block it was
    /// given. The same block, routing, cost, counters and errors.
    pub fn write_prefix_mut(&mut self, vlun: Vlun, block: u64, data: &[u8]) -> Result<IoCost> {
        self.check_prefix(vlun, block, data)?;
        let stripe = self.stripe(block);
        Self::charged(self, stripe, vlun, true, |dev, phase, cost| {
            Self::route_write(dev, phase, vlun, block, data, cost)
        })
    }

    /// Routes a write of `data`: the block's leading bytes (a whole block through
    /// [`Device::write`]), the rest zeros.
    fn route_write<I: Images<S>>(
        images: &mut I,
        phase: Phase,
        vlun: Vlun,
        block: u64,
        data: &[u8],
        cost: &mut IoCost,
    ) -> Result<()> {
        use Variant::*;
        match (phase, vlun) {
            (Phase::Single, Vlun::B) => {
                return Err(Error::IllegalState {
                    op: "write VLUN B",
                    phase,
                })
            }
            (Phase::BackedUp | Phase::Retired, Vlun::A) => {
                return Err(Error::IllegalState {
                    op: "write VLUN A",
                    phase,
                })
            }
            _ => {}
        }
        match (images.dev().variant, vlun) {
            // Fig 13: A writes land on both images; B writes on image B only. The
            // block is marked dirty first, so a crash between the two writes is
            // repaired at recovery (image A copied to image B).
            // A write that fails at either image may leave the two different: the
            // next resync of image A copies every block (super::resync).
            (WriteMirroring, Vlun::A) => {
                images.dev().mark_dirty(block, cost)?;
                let written = images
                    .write_at(Image::A, block, block, data, cost)
                    .and_then(|()| images.write_at(Image::B, block, block, data, cost));
                if written.is_err() {
                    images.note_stale(None);
                }
                written
            }
            // Image B alone (split, backed up, retired): the block is recorded for the
            // next resync of image A before it is written, so a failed write is too.
            (WriteMirroring, Vlun::B) => {
                images.note_stale(Some(block));
                images.write_at(Image::B, block, block, data, cost)?;
                images.dev().mark_diverged(phase, block)
            }
            // Fig 16: an A write supersedes B's logged copy, which is dropped. The patent
            // drops the entry first; we write image A first (and make it durable), so a
            // crash in between leaves B reading its own logged copy, not A's older block.
            (WriteLogging, Vlun::A) => {
                Self::write_superseding_entry(images, Image::A, block, data, cost)
            }
            (WriteLogging, Vlun::B) if phase == Phase::Retired => {
                // VLUN B now lives on image A; a leftover entry is merged by this write.
                Self::write_superseding_entry(images, Image::A, block, data, cost)
            }
            // Fig 18: a B write lands in B's log; its first one to a block creates the
            // entry (reserved now, journaled once the data is durable in its slot).
            (WriteLogging, Vlun::B) => match images.dev().lookup(block, cost) {
                Some(slot) => images.write_at(Image::B, u64::from(slot), block, data, cost),
                None => images.dev().log_first_write(vlun, block, data, cost),
            },
            // Fig 23: an A write goes to image B and drops A's preserved copy. The patent
            // drops the entry first; we write image B first (and make it durable), so a
            // crash in between leaves A reading its preserved copy, never B's newer
            // block (A-isolated).
            (CopyOnWrite, Vlun::A) => {
                Self::write_superseding_entry(images, Image::B, block, data, cost)
            }
            (CopyOnWrite, Vlun::B) if phase == Phase::Single || phase == Phase::Retired => {
                images.write_at(Image::B, block, block, data, cost)
            }
            // Fig 25: B's first write to a block preserves the old block for VLUN A: the
            // copy and its entry are durable before image B is overwritten.
            (CopyOnWrite, Vlun::B) => {
                if images.dev().lookup(block, cost).is_none() {
                    images.dev().preserve_for_a(vlun, block, cost)?;
                }
                images.write_at(Image::B, block, block, data, cost)
            }
        }
    }

    /// Write logging, split phase: VLUN B's first write to `block` reserves a slot in
    /// B's log, writes the data there durably, then journals the entry (Fig 18). Out
    /// of line: the steady write (an entry exists) stays small.
    #[inline(never)]
    fn log_first_write(
        &self,
        vlun: Vlun,
        block: u64,
        data: &[u8],
        cost: &mut IoCost,
    ) -> Result<()> {
        let r = self.allocate_entry(vlun, block, cost)?;
        let written = self
            .reuse_barrier(cost)
            .and_then(|()| self.write_image_at(Image::B, u64::from(r.slot), block, data, cost))
            .and_then(|()| {
                #[cfg(test)]
                if super::mutant::on(super::mutant::Mutant::LogSlotNotDurable) {
                    return Ok(());
                }
                self.barrier(Image::B, cost)
            });
        if let Err(e) = written {
            self.abandon_entry(r);
            return Err(e);
        }
        // Not synced: losing the entry loses only this unflushed write.
        self.commit_entry(r, false, cost)
    }

    /// Copy-on-write: copies image B's `block` into a new slot of A's data area and
    /// journals the entry, durably (power-safe): the removals that freed slots are
    /// synced first (so the slot's old owner cannot come back pointing at it), then
    /// the copy is written and flushed, then the entry appended and synced.
    #[inline(never)]
    fn preserve_for_a(&self, vlun: Vlun, block: u64, cost: &mut IoCost) -> Result<()> {
        let r = self.allocate_entry(vlun, block, cost)?;
        // A fresh slot is the never-used range's next: the preserve
        // `PRESERVE_HINT_AHEAD` first writes from now most likely takes this slot plus
        // that many, so its line in image A is asked for now (a hint: no effect on
        // content or costs; a slot taken otherwise only wastes it).
        if r.fresh {
            let ahead = u64::from(r.slot) + PRESERVE_HINT_AHEAD;
            if ahead < self.area_slots {
                self.image_a.prefetch_block(ahead);
            }
        }
        // Only the bytes image B holds are moved (the rest of the block is zeros).
        let mut old: Vec<u8> = Vec::new();
        let copied = self
            .reuse_barrier(cost)
            .and_then(|()| self.read_image(Image::B, block, &mut old, cost))
            .and_then(|()| self.write_image_at(Image::A, u64::from(r.slot), block, &old, cost))
            .and_then(|()| {
                #[cfg(test)]
                if super::mutant::on(super::mutant::Mutant::CowCopyNotDurable) {
                    return Ok(());
                }
                self.barrier(Image::A, cost)
            });
        if let Err(e) = copied {
            self.abandon_entry(r);
            return Err(e);
        }
        #[cfg(test)]
        let durable =
            self.power_safe() && !super::mutant::on(super::mutant::Mutant::CowCopyNotDurable);
        #[cfg(not(test))]
        let durable = self.power_safe();
        self.commit_entry(r, durable, cost)
    }

    /// Mirroring, split phase: journals (once per block, not synced) that VLUN B wrote
    /// `block`, after the write. Recovery then never copies image A over it: image B
    /// holds B's own data there. The record needs no sync: if it is lost, so is every
    /// record after it, including any later dirty mark that could trigger a copy
    /// (and a power-safe dirty mark is synced, taking this record with it).
    fn mark_diverged(&self, phase: Phase, block: u64) -> Result<()> {
        if phase != Phase::Split || !self.journaled() {
            return Ok(());
        }
        let mut m = sync::lock(&self.meta);
        if phase != Phase::Split || m.journal.is_none() || m.diverged.contains(&block) {
            return Ok(());
        }
        m.log(MetaRecord::Diverged { block })?;
        m.diverged.insert(block);
        Ok(())
    }

    /// Mirroring: journals that `block` is about to be written to both images (once
    /// per block between flushes; synced on a power-safe device), so recovery knows
    /// which blocks a crash may have left different. Without a journal there is no
    /// recovery, so nothing is recorded.
    fn mark_dirty(&self, block: u64, cost: &mut IoCost) -> Result<()> {
        #[cfg(test)]
        if super::mutant::on(super::mutant::Mutant::MirrorWithoutIntent) {
            return Ok(());
        }
        if !self.journaled() {
            return Ok(());
        }
        let mut m = sync::lock(&self.meta);
        if m.journal.is_none() || m.dirty_new.contains(&block) || m.diverged.contains(&block) {
            // A diverged block is never repaired: no mark needed.
            return Ok(());
        }
        m.log(MetaRecord::Dirty { block })?;
        m.dirty_new.insert(block);
        if self.power_safe() {
            m.sync(cost)?;
        }
        Ok(())
    }
}
