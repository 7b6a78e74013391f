//! The physical operations under every VLUN call, each counted in the call's
//! [`IoCost`]: image reads and writes, and the flush barriers of the write order
//! (ARCHITECTURE.md, "Write order").

use super::{Device, Durability};
use crate::cost::IoCost;
use crate::error::Result;
use crate::latency::BarrierTimes;
use crate::store::{BlockStore, StoreError};
use crate::sync;
use crate::Image;

/// What a block is read into: a whole block (`[u8]`, one block long), or its leading
/// bytes (`Vec<u8>`, the rest of the block zeros: [`BlockStore::read_block_prefix`]).
pub(crate) trait BlockTarget {
    /// Reads block `block` of `store` into this target.
    fn read_from<S: BlockStore>(
        &mut self,
        store: &S,
        block: u64,
    ) -> std::result::Result<(), StoreError>;
    /// [`BlockTarget::read_from`] through an exclusive borrow of the store (its
    /// exclusive call where it has one).
    fn read_from_mut<S: BlockStore>(
        &mut self,
        store: &mut S,
        block: u64,
    ) -> std::result::Result<(), StoreError>;
    /// The bytes read: the whole block, or its leading bytes (the rest zeros), for a
    /// checksum.
    fn bytes_read(&self) -> &[u8];
}

impl BlockTarget for [u8] {
    #[inline(always)]
    fn read_from<S: BlockStore>(
        &mut self,
        store: &S,
        block: u64,
    ) -> std::result::Result<(), StoreError> {
        store.read_block(block, self)
    }
    #[inline(always)]
    fn read_from_mut<S: BlockStore>(
        &mut self,
        store: &mut S,
        block: u64,
    ) -> std::result::Result<(), StoreError> {
        store.read_block(block, self)
    }
    fn bytes_read(&self) -> &[u8] {
        self
    }
}

impl BlockTarget for Vec<u8> {
    #[inline(always)]
    fn read_from<S: BlockStore>(
        &mut self,
        store: &S,
        block: u64,
    ) -> std::result::Result<(), StoreError> {
        store.read_block_prefix(block, self)
    }
    #[inline(always)]
    fn read_from_mut<S: BlockStore>(
        &mut self,
        store: &mut S,
        block: u64,
    ) -> std::result::Result<(), StoreError> {
        store.read_block_prefix_mut(block, self)
    }
    fn bytes_read(&self) -> &[u8] {
        self
    }
}

/// How a routed call reaches the two images: shared (`&Device`: the stores' shared
/// calls, which take a store's own lock where it has one) or exclusive
/// (`&mut Device`, a caller that owns the device: the stores' exclusive calls,
/// [`BlockStore::read_block_prefix_mut`]). The routing is written once over this, so
/// both paths route, count and verify alike.
pub(crate) trait Images<S: BlockStore> {
    /// The device, for everything of a call but its image reads and writes.
    fn dev(&self) -> &Device<S>;
    /// Reads physical block `block` of `image` into `buf`.
    fn read_store<T: BlockTarget + ?Sized>(
        &mut self,
        image: Image,
        block: u64,
        buf: &mut T,
    ) -> std::result::Result<(), StoreError>;
    /// Mirroring: records that image B's `block` is about to be written while image
    /// A's is not; `None` makes the record unknown (a mirrored write failed
    /// half-way). See [`super::resync`].
    fn note_stale(&mut self, block: Option<u64>);
    /// Writes `data` (a block's leading bytes) to physical block `block` of `image`.
    fn write_store(
        &mut self,
        image: Image,
        block: u64,
        data: &[u8],
    ) -> std::result::Result<(), StoreError>;

    /// Reads physical block `block` of `image`, which holds volume block `logical`'s
    /// data (a data-area slot holds its entry's block), verified in integrity mode.
    /// Inlined into every route: it is most of a call's work at small blocks.
    #[inline(always)]
    fn read_at<T: BlockTarget + ?Sized>(
        &mut self,
        image: Image,
        block: u64,
        logical: u64,
        buf: &mut T,
        cost: &mut IoCost,
    ) -> Result<()> {
        match image {
            Image::A => cost.reads_a += 1,
            Image::B => cost.reads_b += 1,
        }
        self.read_store(image, block, buf)?;
        let dev = self.dev();
        if dev.sums.is_none() {
            return Ok(());
        }
        dev.verify(image, block, logical, buf.bytes_read())
    }

    /// Writes physical block `block` of `image` with volume block `logical`'s data
    /// (`data`: the block's leading bytes, the rest zeros; a whole block or less);
    /// in integrity mode its checksum follows. Inlined like [`Images::read_at`].
    #[inline(always)]
    fn write_at(
        &mut self,
        image: Image,
        block: u64,
        logical: u64,
        data: &[u8],
        cost: &mut IoCost,
    ) -> Result<()> {
        match image {
            Image::A => cost.writes_a += 1,
            Image::B => cost.writes_b += 1,
        }
        // Integrity mode: the checksum block's buffer is asked for before the data
        // is written, so a buffer the system refuses leaves the block as it was; the
        // block is marked unsummed first, so a crash between the data and its
        // checksum is re-summed at recovery ([`crate::meta::MetaRecord::Unsummed`]).
        let sum_block = self.dev().sum_block_buffer()?;
        if sum_block.is_some() {
            self.dev().mark_unsummed(image, block, logical)?;
        }
        self.write_store(image, block, data)?;
        match sum_block {
            None => Ok(()),
            Some(out) => self
                .dev()
                .note_written(image, block, logical, data, out, cost),
        }
    }
}

impl<S: BlockStore> Images<S> for &Device<S> {
    #[inline(always)]
    fn dev(&self) -> &Device<S> {
        self
    }
    #[inline]
    fn note_stale(&mut self, block: Option<u64>) {
        let mut stale = sync::lock_brief(&self.stale);
        match block {
            Some(block) => stale.insert(block),
            None => stale.forget(),
        }
    }
    #[inline(always)]
    fn read_store<T: BlockTarget + ?Sized>(
        &mut self,
        image: Image,
        block: u64,
        buf: &mut T,
    ) -> std::result::Result<(), StoreError> {
        match image {
            Image::A => buf.read_from(&self.image_a, block),
            Image::B => buf.read_from(&self.image_b, block),
        }
    }
    #[inline(always)]
    fn write_store(
        &mut self,
        image: Image,
        block: u64,
        data: &[u8],
    ) -> std::result::Result<(), StoreError> {
        match image {
            Image::A => self.image_a.write_block_prefix(block, data),
            Image::B => self.image_b.write_block_prefix(block, data),
        }
    }
}

impl<S: BlockStore> Images<S> for &mut Device<S> {
    #[inline(always)]
    fn dev(&self) -> &Device<S> {
        self
    }
    #[inline]
    fn note_stale(&mut self, block: Option<u64>) {
        let stale = sync::brief_get_mut(&mut self.stale);
        match block {
            Some(block) => stale.insert(block),
            None => stale.forget(),
        }
    }
    #[inline(always)]
    fn read_store<T: BlockTarget + ?Sized>(
        &mut self,
        image: Image,
        block: u64,
        buf: &mut T,
    ) -> std::result::Result<(), StoreError> {
        match image {
            Image::A => buf.read_from_mut(&mut self.image_a, block),
            Image::B => buf.read_from_mut(&mut self.image_b, block),
        }
    }
    #[inline(always)]
    fn write_store(
        &mut self,
        image: Image,
        block: u64,
        data: &[u8],
    ) -> std::result::Result<(), StoreError> {
        match image {
            Image::A => self.image_a.write_block_prefix_mut(block, data),
            Image::B => self.image_b.write_block_prefix_mut(block, data),
        }
    }
}

impl<S: BlockStore> Device<S> {
    /// Reads volume block `block` of `image` (its own logical block).
    #[inline(always)]
    pub(crate) fn read_image<T: BlockTarget + ?Sized>(
        &self,
        image: Image,
        block: u64,
        buf: &mut T,
        cost: &mut IoCost,
    ) -> Result<()> {
        self.read_image_at(image, block, block, buf, cost)
    }

    /// [`Images::read_at`] through the shared calls.
    #[inline(always)]
    pub(crate) fn read_image_at<T: BlockTarget + ?Sized>(
        &self,
        image: Image,
        block: u64,
        logical: u64,
        buf: &mut T,
        cost: &mut IoCost,
    ) -> Result<()> {
        let mut images = self;
        images.read_at(image, block, logical, buf, cost)
    }

    /// Writes volume block `block` of `image` (its own logical block).
    #[inline(always)]
    pub(crate) fn write_image(
        &self,
        image: Image,
        block: u64,
        data: &[u8],
        cost: &mut IoCost,
    ) -> Result<()> {
        self.write_image_at(image, block, block, data, cost)
    }

    /// [`Images::write_at`] through the shared calls.
    #[inline(always)]
    pub(crate) fn write_image_at(
        &self,
        image: Image,
        block: u64,
        logical: u64,
        data: &[u8],
        cost: &mut IoCost,
    ) -> Result<()> {
        let mut images = self;
        images.write_at(image, block, logical, data, cost)
    }

    pub(super) fn power_safe(&self) -> bool {
        self.config.durability == Durability::PowerSafe
    }

    /// A flush barrier on `image` (power-safe devices only): its completed writes
    /// are durable before anything that follows.
    pub(super) fn barrier(&self, image: Image, cost: &mut IoCost) -> Result<()> {
        if !self.power_safe() {
            return Ok(());
        }
        cost.flushes += 1;
        match image {
            Image::A => self.image_a.flush()?,
            Image::B => self.image_b.flush()?,
        }
        Ok(())
    }

    /// Before data goes into a newly reserved slot: the removal that freed it (if it
    /// was freed) must be durable, else a crash could restore the old entry pointing
    /// at the new data (power-safe devices only). Syncs the journal when a record
    /// other than an integrity mark is unsynced (removals are the only such records a
    /// power-safe device leaves unsynced in the table variants); marks alone need no
    /// sync ([`crate::meta::MetaRecord::Unsummed`]), so a block's first write does not
    /// pay one for the marks of the write before it.
    pub(super) fn reuse_barrier(&self, cost: &mut IoCost) -> Result<()> {
        #[cfg(test)]
        if super::mutant::on(super::mutant::Mutant::SlotReusedBeforeRemoveDurable) {
            return Ok(());
        }
        if !self.power_safe() || !self.journaled() {
            return Ok(());
        }
        let mut m = sync::lock(&self.meta);
        if !m.unsynced_beyond_marks {
            return Ok(());
        }
        m.sync(cost)
    }

    /// The wall time of the barriers since the last call ([`crate::latency`]): each
    /// image's flushes and the journal syncs' two halves, for the stores and journal
    /// that time them (a file-backed device's); `samples` adds every sample in order.
    pub fn take_barrier_times(&self, samples: bool) -> BarrierTimes {
        let (journal_fdatasync, superblock_write) = sync::lock(&self.meta)
            .journal
            .as_ref()
            .and_then(|j| j.take_sync_times(samples))
            .unzip();
        BarrierTimes {
            image_a_flush: self.image_a.take_flush_times(samples),
            image_b_flush: self.image_b.take_flush_times(samples),
            journal_fdatasync,
            superblock_write,
        }
    }
}
