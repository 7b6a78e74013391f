//! The one-way mirror device: VLUN A and VLUN B over two storage images.
//!
//! Every call routes by (variant, phase, VLUN) as DESIGN.md §2 tabulates, under the
//! locks of \[0070\]/\[00104\]: group 2 (volume stripe locks, optional) then group 1 (the
//! device's own per-block locks), then, briefly, the metadata lock that guards the
//! lookup table and its journal. Phase changes take every group-1 lock (`phase`), so
//! a split or a retire never cuts through a call in flight. None of these locks lives
//! in an image, so none is ever archived (\[0054\]).
//!
//! Write order (so that a crash never leaves a table entry pointing at data that was
//! not written): data blocks first, then the table entry that makes them visible,
//! then the acknowledgement. For copy-on-write the old block is preserved in A's data
//! area and its entry recorded before the new data overwrites image B. Under
//! [`Durability::PowerSafe`] flush barriers between these steps make the order hold
//! across a power loss too; mirroring marks the blocks it writes through VLUN A dirty
//! so recovery can bring image B back in line. ARCHITECTURE.md lists every step.

//!
//! One concept per file: the metadata state ([`metadata`]), the physical operations
//! and barriers (`io`), the table-entry protocol (`entry`), the VLUN routing
//! (`route`), the phase and its exclusion of calls (`phase`), the life cycle
//! (`lifecycle`), flush and compaction (`flush`).

use std::collections::BTreeSet;

use crate::cost::{CounterCells, Counters, IoCost, SpaceInUse};
use crate::error::{Error, Result};
use crate::meta::Journal;
use crate::store::{BlockStore, MemStore};
use crate::sync::{self, Mutex, MutexGuard};
use crate::table::{LookupTable, AREA_SLOTS_MAX};
use crate::{Geometry, Identity, Phase, Variant, Vlun};

mod entry;
mod entry_index;
mod flush;
mod integrity;
mod io;
mod lifecycle;
pub(crate) mod metadata;
#[cfg(test)]
pub(crate) mod mutant;
mod phase;
mod prefetch;
mod resync;
mod rewrite;
mod route;
#[cfg(all(test, not(loom)))]
mod tests;

pub use entry::EntryContents;
pub use integrity::sum_blocks;
use metadata::Metadata;
pub use metadata::JOURNAL_APPENDS_MAX;
use phase::PhaseWord;
use resync::StaleBlocks;
pub use resync::{resync_set_bytes, RESYNC_SET_BYTES_PER_BLOCK};

/// Group-2 locks: volume-level stripe locks (RAID-5 style), one per stripe of
/// `stripe_blocks` consecutive blocks, folded onto `locks` mutexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StripeLocks {
    pub stripe_blocks: u64,
    pub locks: usize,
}

/// Which crash the device's write order is made to survive (ARCHITECTURE.md, "Write
/// order"). Either way an acknowledged write is durable only after [`Device::flush`];
/// the difference is what a crash can do to writes *not yet flushed*.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Durability {
    /// Survives a power loss: flush barriers order data before the metadata that
    /// points at it (copy-on-write: the preserved copy and its entry are durable
    /// before image B is overwritten; write logging: a log slot is durable before
    /// its entry, an image-A block before the entry that stops hiding it). Costs
    /// image flushes and journal syncs on first writes ([`IoCost::flushes`]).
    #[default]
    PowerSafe,
    /// Survives the process ending, not a power loss: no barriers (every completed
    /// write is already in the operating system's hands). The order of writes is the
    /// same, so only a power loss can break what PowerSafe guarantees.
    ProcessCrashSafe,
}

/// How to build a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceConfig {
    pub variant: Variant,
    /// Which crash the write order survives; [`Durability::PowerSafe`] by default.
    pub durability: Durability,
    /// Group-1 lock count: block `b` is guarded by lock `b % group1_locks`. One lock
    /// is the patent's literal per-volume lock (\[0071\]); more let calls on different
    /// blocks run in parallel.
    pub group1_locks: usize,
    /// Optional group-2 stripe locks, taken before group 1.
    pub group2: Option<StripeLocks>,
    /// Integrity mode (off by default): every block of both images carries a CRC-32
    /// of its content and address in a checksum area after the image's data blocks,
    /// reads and `backup_a` verify it, and a mismatch is [`Error::Integrity`]
    /// naming image and block. Costs one more image write per block write (its
    /// checksum block) and a CRC per call; the images are larger
    /// ([`DeviceConfig::image_blocks`]). Without it, blocks are not checked: a block
    /// a disk rots or misdirects is served as it reads back. Chosen at creation and
    /// recorded in the metadata: reopening and recovery follow the recorded mode.
    pub integrity: bool,
    /// Mutant switch for the loom tests only: skip the group-1 lock, to show that the
    /// loom tests can find the torn reads and diverged mirrors it prevents.
    #[cfg(loom)]
    pub skip_group1_for_mutant_test: bool,
    /// Mutant switch for the loom tests only: let phase changes run without taking
    /// the group-1 locks, to show that the loom tests can find a call cut through by
    /// a phase change.
    #[cfg(loom)]
    pub skip_phase_exclusion_for_mutant_test: bool,
}

impl DeviceConfig {
    /// Default locks for `variant`: 64 group-1 locks, no group-2 locks; power-safe.
    pub fn new(variant: Variant) -> Self {
        DeviceConfig {
            variant,
            durability: Durability::PowerSafe,
            group1_locks: 64,
            group2: None,
            integrity: false,
            #[cfg(loom)]
            skip_group1_for_mutant_test: false,
            #[cfg(loom)]
            skip_phase_exclusion_for_mutant_test: false,
        }
    }

    /// Blocks each image store must hold for a volume of `volume_blocks` and a data
    /// area of `area_slots` slots of `block_size` bytes: [`Variant::image_blocks`],
    /// plus in integrity mode each image's checksum area (`sum_blocks`).
    pub fn image_blocks(
        &self,
        block_size: usize,
        volume_blocks: u64,
        area_slots: u64,
    ) -> (u64, u64) {
        let (a, b) = self.variant.image_blocks(volume_blocks, area_slots);
        if !self.integrity || block_size < 4 {
            return (a, b);
        }
        (a + sum_blocks(a, block_size), b + sum_blocks(b, block_size))
    }
}

/// What `backup_a` wrote to the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupReport {
    pub blocks: u64,
    pub bytes: u64,
    pub cost: IoCost,
}

/// The one-way mirror device over two images of type `S`.
pub struct Device<S: BlockStore> {
    variant: Variant,
    block_size: usize,
    volume_blocks: u64,
    area_slots: u64,
    image_a: S,
    image_b: S,
    /// Read by a call under its group-1 lock, changed under all of them ([`phase`]).
    phase: PhaseWord,
    meta: Mutex<Metadata>,
    /// Mirroring: the blocks where image A may differ from image B ([`resync`]),
    /// recorded by VLUN B's writes under their block's group-1 lock and taken by the
    /// resync with every call excluded. Never journaled.
    stale: sync::BriefMutex<StaleBlocks>,
    /// The table's block → slot map, read without the metadata lock ([`entry_index`]).
    entries: entry_index::EntryIndex,
    group1: Box<[sync::BlockLock]>,
    /// `group1.len() - 1` when that is a power of two (a block's lock is then a mask
    /// of its number, no division on the hot path), else `u64::MAX`.
    group1_mask: u64,
    group2: Option<(u64, Box<[Mutex<()>]>)>,
    /// Serialises [`Device::flush`]es, so one flush's `Clean` never covers blocks
    /// another flush's mark moved.
    flush_lock: Mutex<()>,
    counters: CounterCells,
    config: DeviceConfig,
    /// Who the device is (with variant and geometry, [`Device::identity`]): set before
    /// the device is shared, by the file device or by recovery.
    device_id: [u8; 16],
    generation: u64,
    nonce: u64,
    /// Integrity mode's checksums ([`integrity`]), `None` when it is off.
    sums: Option<integrity::Sums>,
    /// Whether a journal is attached: set once, before the device is shared (by
    /// [`Device::restore`] or [`Device::set_journal`], which every caller runs on a
    /// device it has just built). It lets the calls that only journal (mirroring's
    /// dirty and diverged marks, the journal barriers) skip the metadata lock on a
    /// device with no journal, where that lock would guard nothing. A plain `std`
    /// atomic like [`crate::sync::StatCounter`]: it orders nothing, since it never
    /// changes while calls run.
    journaled: std::sync::atomic::AtomicBool,
}

/// The locks one block access holds (group 2, then group 1), released on drop, and
/// the index of its group-1 lock (its counter stripe).
struct BlockGuard<'a> {
    stripe: usize,
    _group1: Option<sync::BlockLockGuard<'a>>,
    _group2: Option<MutexGuard<'a, ()>>,
}

impl Device<MemStore> {
    /// A device on two zero-filled in-memory images, with a data area as large as the
    /// volume (so it never fills).
    pub fn in_memory(variant: Variant, block_size: usize, volume_blocks: u64) -> Result<Self> {
        Self::in_memory_with(
            DeviceConfig::new(variant),
            block_size,
            volume_blocks,
            volume_blocks,
        )
    }

    /// A device on zero-filled in-memory images with the given locks and data area.
    pub fn in_memory_with(
        config: DeviceConfig,
        block_size: usize,
        volume_blocks: u64,
        area_slots: u64,
    ) -> Result<Self> {
        let (a, b) = config.image_blocks(block_size, volume_blocks, area_slots);
        let image_a = MemStore::new(block_size, a)?;
        let image_b = MemStore::new(block_size, b)?;
        let device = Device::new(config, image_a, image_b)?;
        // Both images zero-filled: in sync.
        device.images_in_sync()?;
        Ok(device)
    }
}

impl<S: BlockStore> Device<S> {
    /// A device in the single-volume phase over `image_a` and `image_b`, laid out as
    /// [`Variant::image_blocks`] says: mirroring, two equal images (already in sync:
    /// the RAID-1 mirror that exists before the request, \[0062\]); write logging, the
    /// volume on image A and the log area on image B; copy-on-write, the volume on
    /// image B and the preserved-block area on image A.
    ///
    /// In integrity mode ([`DeviceConfig::integrity`]) each store holds its data blocks
    /// then its checksum area ([`DeviceConfig::image_blocks`]); every data block is
    /// read and summed as it is now, and the checksum areas written.
    ///
    /// Errors: [`Error::Geometry`] for images that do not fit the variant's layout,
    /// a block size that is not a positive multiple of 8 bytes ([`StoreError`]), a
    /// store error while summing.
    ///
    /// [`StoreError`]: crate::StoreError
    pub fn new(config: DeviceConfig, image_a: S, image_b: S) -> Result<Self> {
        let device = Self::build(config, image_a, image_b)?;
        device.sum_every_block()?;
        Ok(device)
    }

    /// The caller vouches, on a device just made ([`Phase::Single`]), that image A
    /// equals image B block for block (both zero-filled, both the same initial
    /// content), so that mirroring's resync at a later cycle's split copies only the
    /// blocks VLUN B wrote since the last split; without it ([`Device::new`] over
    /// existing images) the first such resync copies every block of the volume.
    /// [`Device::in_memory_with`] and [`crate::file::create`] vouch for their fresh
    /// images. Errors: [`Error::IllegalState`] outside [`Phase::Single`].
    pub fn images_in_sync(&self) -> Result<()> {
        let phase = self.phase();
        if phase != Phase::Single {
            return Err(Error::IllegalState {
                op: "vouch that the images are in sync",
                phase,
            });
        }
        *sync::lock_brief(&self.stale) = StaleBlocks::in_sync(self.volume_blocks);
        Ok(())
    }

    /// Mirroring: the blocks the next resync of image A would copy, ascending, or
    /// `None` for every block (see [`resync`]).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn stale_blocks(&self) -> Option<Vec<u64>> {
        sync::lock_brief(&self.stale).blocks()
    }

    /// [`Device::new`] without summing: recovery loads the checksums instead.
    pub(crate) fn build(config: DeviceConfig, image_a: S, image_b: S) -> Result<Self> {
        let variant = config.variant;
        let geometry = |reason: String| Error::Geometry { variant, reason };
        if image_a.block_size() != image_b.block_size() {
            return Err(geometry(format!(
                "image A has {}-byte blocks, image B {}-byte blocks",
                image_a.block_size(),
                image_b.block_size()
            )));
        }
        crate::store::check_block_size(&image_a.name(), image_a.block_size())?;
        let bs = image_a.block_size();
        let data = |store: &S| {
            if !config.integrity {
                return Ok(store.block_count());
            }
            integrity::data_blocks(store.block_count(), bs).ok_or_else(|| {
                geometry(format!(
                    "{}: {} blocks are not data blocks followed by their checksum area",
                    store.name(),
                    store.block_count()
                ))
            })
        };
        let (data_a, data_b) = (data(&image_a)?, data(&image_b)?);
        let (volume_blocks, area_slots) = match variant {
            Variant::WriteMirroring => {
                if data_a != data_b {
                    return Err(geometry(format!(
                        "mirrored images differ in size: {data_a} and {data_b} blocks"
                    )));
                }
                (data_a, 0)
            }
            Variant::WriteLogging => (data_a, data_b),
            Variant::CopyOnWrite => (data_b, data_a),
        };
        let sums = config
            .integrity
            .then(|| integrity::Sums::new(bs, [data_a, data_b]));
        if volume_blocks == 0 {
            return Err(geometry("the volume has no blocks".into()));
        }
        if area_slots > AREA_SLOTS_MAX {
            return Err(geometry(format!(
                "data area of {area_slots} slots exceeds {AREA_SLOTS_MAX}"
            )));
        }
        if config.group1_locks == 0 {
            return Err(geometry("at least one group-1 lock is needed".into()));
        }
        let group2 = match config.group2 {
            None => None,
            Some(StripeLocks {
                stripe_blocks,
                locks,
            }) => {
                if stripe_blocks == 0 || locks == 0 {
                    return Err(geometry(
                        "group-2 stripe locks need a width and a count".into(),
                    ));
                }
                Some((stripe_blocks, (0..locks).map(|_| Mutex::new(())).collect()))
            }
        };
        // Spinning group-1 locks only where no call can wait on I/O under one.
        let brief = image_a.calls_are_brief() && image_b.calls_are_brief();
        Ok(Device {
            variant,
            block_size: image_a.block_size(),
            volume_blocks,
            area_slots,
            image_a,
            image_b,
            phase: PhaseWord::new(Phase::Single),
            meta: Mutex::new(Metadata::new(None, 0, None)),
            stale: sync::BriefMutex::new(StaleBlocks::unknown(volume_blocks)),
            // Mirroring has no table: no index.
            entries: entry_index::EntryIndex::new(if variant.table_image().is_some() {
                volume_blocks
            } else {
                0
            }),
            group1: (0..config.group1_locks)
                .map(|_| sync::BlockLock::new(brief))
                .collect(),
            group1_mask: if config.group1_locks.is_power_of_two() {
                config.group1_locks as u64 - 1
            } else {
                u64::MAX
            },
            group2,
            flush_lock: Mutex::new(()),
            counters: CounterCells::new(config.group1_locks),
            config,
            device_id: [0; 16],
            generation: 0,
            nonce: 0,
            sums,
            journaled: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Installs restored metadata (phase, table, mirror marks, journal) in place of
    /// whatever the device held, with fresh counters: used by recovery, on open and
    /// after a power cycle.
    pub(crate) fn restore(
        &mut self,
        phase: Phase,
        table: Option<LookupTable>,
        area_peak: u64,
        diverged: BTreeSet<u64>,
        journal: Box<dyn Journal>,
    ) {
        self.entries.reset(table.as_ref());
        let mut metadata = Metadata::new(table, area_peak, Some(journal));
        metadata.diverged = diverged;
        self.phase = PhaseWord::new(phase);
        self.meta = Mutex::new(metadata);
        // Not journaled: whatever the images were, the next resync copies them whole.
        *sync::brief_get_mut(&mut self.stale) = StaleBlocks::unknown(self.volume_blocks);
        self.counters = CounterCells::new(self.group1.len());
        *self.journaled.get_mut() = true;
    }

    /// Records how many blocks the recovery re-summed.
    pub(crate) fn set_resummed_at_recovery(&self, blocks: u64) {
        sync::lock(&self.meta).repairs.resummed_blocks = blocks;
    }

    /// Records what the open of the device's files cut off or rewrote before the
    /// recovery: the metadata file's torn tail (bytes) and a damaged superblock copy.
    pub(crate) fn set_file_repairs(&self, torn_tail_bytes: u64, superblock_copy_damaged: bool) {
        let repairs = &mut sync::lock(&self.meta).repairs;
        repairs.torn_tail_bytes = torn_tail_bytes;
        repairs.superblock_copy_damaged = superblock_copy_damaged;
    }

    /// What the open that made this device mended without refusing its files
    /// ([`crate::Repairs`], [`crate::Repairs::notes`]); all zero for a created device.
    pub fn repairs(&self) -> crate::Repairs {
        sync::lock(&self.meta).repairs
    }

    /// Integrity mode: the blocks the recovery that made this device re-summed, 0
    /// otherwise (or without a recovery). A block is re-summed when the journal marks
    /// it written since the last flush and it holds other bytes than its checksum
    /// covers: a crash between its data and its checksum (ARCHITECTURE.md, "Integrity
    /// mode"). Damage the disk did to such a block before the recovery goes undetected.
    pub fn resummed_at_recovery(&self) -> u64 {
        self.repairs().resummed_blocks
    }

    /// Installs the restored "archive complete" fact.
    pub(crate) fn set_archive_complete(&self, done: bool) {
        sync::lock(&self.meta).archive_complete = done;
    }

    /// Whether a complete archive of VLUN A was written by [`Device::backup_a`] (and
    /// journaled) since the split: what [`Device::retire_a`] requires. The phase says
    /// VLUN A is frozen ([`Phase::BackedUp`]); this says the archive is whole.
    pub fn archive_complete(&self) -> bool {
        sync::lock(&self.meta).archive_complete
    }

    /// Stops every later table or phase change with `reason` (fail-stop, as after a
    /// journal failure): a device whose recovery did not complete must not journal.
    pub(crate) fn fail_stop(&self, reason: crate::meta::MetaError) {
        sync::lock(&self.meta).journal_failed = Some(reason);
    }

    /// Attaches a journal that will receive every later metadata change.
    pub(crate) fn set_journal(&self, journal: Box<dyn Journal>) {
        sync::lock(&self.meta).journal = Some(journal);
        self.journaled
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether a journal is attached (see the `journaled` field).
    fn journaled(&self) -> bool {
        self.journaled.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Adds physical operations done outside a VLUN call (recovery) to the counters.
    pub(crate) fn charge(&self, cost: &IoCost) {
        self.counters.charge(cost);
    }

    /// The variant.
    pub fn variant(&self) -> Variant {
        self.variant
    }
    /// Who the device is: its id (drawn at [`crate::file::create`]; all zero for a
    /// device made in memory), its generation (advanced by every
    /// [`crate::file::open`]), variant, geometry and integrity mode. The metadata
    /// header records it, and each image file's label ([`crate::identity`]).
    pub fn identity(&self) -> Identity {
        Identity {
            device_id: self.device_id,
            generation: self.generation,
            nonce: self.nonce,
            variant: self.variant,
            geometry: self.geometry(),
            integrity: self.sums.is_some(),
        }
    }

    /// Sets the id, generation and nonce (before the device is shared).
    pub(crate) fn set_identity(&mut self, device_id: [u8; 16], generation: u64, nonce: u64) {
        self.device_id = device_id;
        self.generation = generation;
        self.nonce = nonce;
    }

    /// Bytes per block.
    pub fn block_size(&self) -> usize {
        self.block_size
    }
    /// Blocks in each VLUN.
    pub fn volume_blocks(&self) -> u64 {
        self.volume_blocks
    }
    /// Slots in the variant's data area (0 for mirroring).
    pub fn area_slots(&self) -> u64 {
        self.area_slots
    }
    /// Block size, volume size and data-area size together.
    pub fn geometry(&self) -> Geometry {
        Geometry {
            block_size: self.block_size,
            volume_blocks: self.volume_blocks,
            area_slots: self.area_slots,
        }
    }
    /// The lock configuration.
    pub fn config(&self) -> &DeviceConfig {
        &self.config
    }
    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.phase.get()
    }
    /// The images `(A, B)`, for inspection.
    pub fn images(&self) -> (&S, &S) {
        (&self.image_a, &self.image_b)
    }
    /// Consumes the device, returning its images `(A, B)`.
    pub fn into_images(self) -> (S, S) {
        (self.image_a, self.image_b)
    }

    /// A copy of the lookup table, if the variant and phase have one.
    pub fn table(&self) -> Option<LookupTable> {
        sync::lock(&self.meta).table.clone()
    }

    /// The volume blocks the lookup table has an entry for, ascending (empty without
    /// a table): with the images' written blocks ([`BlockStore::written_blocks`]),
    /// every block a VLUN may read as something other than its initial content.
    pub fn table_blocks(&self) -> Vec<u64> {
        sync::lock(&self.meta)
            .table
            .as_ref()
            .map_or_else(Vec::new, |t| t.entries().map(|(b, _)| b).collect())
    }

    /// The volume blocks the lookup table has an entry for from block `from` on,
    /// ascending, a step at a time: clears `out` and appends up to `max` of them
    /// (none when the table has none from `from` on, or there is no table), so that a
    /// caller walks them all with no list of them all (continue from the last one
    /// given, plus one). The table's lock is held for one step only.
    pub fn table_blocks_walk(&self, from: u64, max: usize, out: &mut Vec<u64>) {
        out.clear();
        if let Some(t) = sync::lock(&self.meta).table.as_ref() {
            out.extend(t.entries_from(from).take(max).map(|(b, _)| b));
        }
    }

    /// Blocks of extra space held now: data-area slots in use, plus for mirroring the
    /// second full image while VLUN A exists.
    /// The same figure as [`Device::counters`]' `extra_space_blocks`, without summing
    /// the operation counters (a caller may ask at every table insert).
    pub fn extra_space_blocks(&self) -> u64 {
        self.space_in_use().extra_space_blocks
    }

    /// Blocks of data area and of extra space in use now: the same figures as
    /// [`Device::counters`]' `data_area_blocks` and `extra_space_blocks`, and under
    /// mirroring image A kept after the retire for the next resync, read under
    /// one lock of the metadata without summing the operation counters (a caller may
    /// ask at every table change).
    pub fn space_in_use(&self) -> SpaceInUse {
        let phase = self.phase();
        let area_now = sync::lock(&self.meta)
            .table
            .as_ref()
            .map_or(0, |t| t.in_use());
        SpaceInUse {
            data_area_blocks: area_now,
            extra_space_blocks: area_now + self.mirror_blocks(phase),
            kept_image_blocks: self.kept_image_blocks(phase),
        }
    }

    /// Blocks of image A mirroring keeps once VLUN A is retired (`phase`
    /// [`Phase::Retired`]): the whole image, the base of the next split's incremental
    /// resync ([`SpaceInUse::kept_image_blocks`]); 0 otherwise.
    fn kept_image_blocks(&self, phase: Phase) -> u64 {
        match self.variant {
            Variant::WriteMirroring if phase == Phase::Retired => self.volume_blocks,
            _ => 0,
        }
    }

    /// Blocks the second full image holds for write mirroring while VLUN A exists
    /// (`phase` not yet [`Phase::Retired`]); 0 for the other variants.
    fn mirror_blocks(&self, phase: Phase) -> u64 {
        match self.variant {
            Variant::WriteMirroring if phase != Phase::Retired => self.volume_blocks,
            _ => 0,
        }
    }

    /// Running totals of logical and physical operations, and the space figures.
    pub fn counters(&self) -> Counters {
        let phase = self.phase();
        let mut c = self.counters.snapshot();
        let (area_now, area_peak) = {
            let m = sync::lock(&self.meta);
            (m.table.as_ref().map_or(0, |t| t.in_use()), m.area_peak)
        };
        let mirror = self.mirror_blocks(phase);
        let mirror_peak = match self.variant {
            Variant::WriteMirroring => self.volume_blocks,
            _ => 0,
        };
        c.data_area_blocks = area_now;
        c.data_area_peak = area_peak;
        c.extra_space_blocks = area_now + mirror;
        c.extra_space_peak = area_peak + mirror_peak;
        c
    }

    fn check(&self, vlun: Vlun, block: u64, len: usize) -> Result<()> {
        if block >= self.volume_blocks {
            return Err(Error::OutOfRange {
                vlun,
                block,
                blocks: self.volume_blocks,
            });
        }
        if len != self.block_size {
            return Err(Error::BufferSize {
                vlun,
                block,
                len,
                block_size: self.block_size,
            });
        }
        Ok(())
    }

    /// The group-1 lock (and counter stripe) of `block`.
    #[inline]
    fn stripe(&self, block: u64) -> usize {
        if self.group1_mask != u64::MAX {
            return (block & self.group1_mask) as usize;
        }
        (block % self.group1.len() as u64) as usize
    }

    /// Takes `block`'s group-2 lock (if configured), then its group-1 lock.
    #[inline(always)]
    fn lock_block(&self, block: u64) -> BlockGuard<'_> {
        let group2 = self.group2.as_ref().map(|(width, locks)| {
            sync::lock(&locks[((block / width) % locks.len() as u64) as usize])
        });
        #[cfg(loom)]
        let skip = self.config.skip_group1_for_mutant_test;
        #[cfg(not(loom))]
        let skip = false;
        let stripe = self.stripe(block);
        let group1 = (!skip).then(|| self.group1[stripe].lock());
        BlockGuard {
            stripe,
            _group1: group1,
            _group2: group2,
        }
    }
}

impl<S: BlockStore + Clone> Clone for Device<S> {
    /// A copy with the same images, phase and table, fresh locks and counters, and no
    /// journal (the copy is not the file-backed device).
    fn clone(&self) -> Self {
        let phase = self.phase();
        let m = sync::lock(&self.meta);
        let mut d = Device::build(
            self.config.clone(),
            self.image_a.clone(),
            self.image_b.clone(),
        )
        .expect("a valid device's geometry is valid");
        d.sums = self.sums.clone();
        d.phase = PhaseWord::new(phase);
        d.set_identity(self.device_id, self.generation, self.nonce);
        d.entries.reset(m.table.as_ref());
        let mut metadata = Metadata::new(m.table.clone(), m.area_peak, None);
        metadata.archive_complete = m.archive_complete;
        d.meta = Mutex::new(metadata);
        d.stale = sync::BriefMutex::new(sync::lock_brief(&self.stale).clone());
        d
    }

    /// The same copy as [`Clone::clone`], made in this device's allocations (images,
    /// locks, counters, table, entry index) when it has `source`'s configuration and
    /// geometry and neither is in integrity mode, so a model checker that copies a
    /// device at every step and recycles the copies it drops allocates nothing.
    /// Otherwise a fresh [`Clone::clone`]. Any journal this device had is detached.
    fn clone_from(&mut self, source: &Self) {
        let same_shape = self.config == source.config
            && self.geometry() == source.geometry()
            && self.image_a.block_count() == source.image_a.block_count()
            && self.image_b.block_count() == source.image_b.block_count()
            && self.sums.is_none()
            && source.sums.is_none();
        if !same_shape {
            *self = source.clone();
            return;
        }
        let m = sync::lock(&source.meta);
        self.image_a.clone_from(&source.image_a);
        self.image_b.clone_from(&source.image_b);
        self.phase = PhaseWord::new(source.phase());
        self.set_identity(source.device_id, source.generation, source.nonce);
        self.entries.reset(m.table.as_ref());
        let mut meta = sync::lock(&self.meta);
        let mut table = meta.table.take();
        table.clone_from(&m.table);
        *meta = Metadata::new(table, m.area_peak, None);
        meta.archive_complete = m.archive_complete;
        drop(meta);
        sync::brief_get_mut(&mut self.stale).clone_from(&*sync::lock_brief(&source.stale));
        self.counters.reset();
        *self.journaled.get_mut() = false;
    }
}

impl<S: BlockStore + PartialEq> PartialEq for Device<S> {
    /// Equal when what the hosts and the metadata can observe is equal: variant, phase,
    /// archive state, table and image contents (not counters or locks).
    fn eq(&self, other: &Self) -> bool {
        let metadata = |d: &Self| {
            let m = sync::lock(&d.meta);
            (m.archive_complete, m.table.clone())
        };
        self.variant == other.variant
            && self.phase() == other.phase()
            && self.image_a == other.image_a
            && self.image_b == other.image_b
            && metadata(self) == metadata(other)
    }
}

impl<S: BlockStore + Eq> Eq for Device<S> {}

impl<S: BlockStore + std::hash::Hash> std::hash::Hash for Device<S> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.variant.hash(state);
        self.phase().hash(state);
        {
            // Under one metadata lock, and no copy of the table.
            let m = sync::lock(&self.meta);
            m.archive_complete.hash(state);
            m.table.hash(state);
        }
        self.image_a.hash(state);
        self.image_b.hash(state);
    }
}

impl<S: BlockStore + std::fmt::Debug> std::fmt::Debug for Device<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("variant", &self.variant)
            .field("phase", &self.phase())
            .field(
                "table",
                &self.table().map(|t| t.entries().collect::<Vec<_>>()),
            )
            .field("image_a", &self.image_a)
            .field("image_b", &self.image_b)
            .finish()
    }
}
