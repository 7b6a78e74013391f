//! The one-way mirror device: VLUN A and VLUN B over two storage images.
//!
//! Every call routes by (variant, phase, VLUN) as DESIGN.md §2 tabulates, under the
//! locks of \[0070\]/\[00104\]: group 2 (volume stripe locks, optional) then group 1 (the
//! device's own per-block locks), then, briefly, the metadata lock that guards the
//! lookup table and its journal. Phase changes take the phase lock exclusively, so a
//! split or a retire never cuts through a call in flight. None of these locks lives
//! in an image, so none is ever archived (\[0054\]).
//!
//! Write order (so that a crash never leaves a table entry pointing at data that was
//! not written): data blocks first, then the table entry that makes them visible,
//! then the acknowledgement. For copy-on-write the old block is preserved in A's data
//! area and its entry recorded before the new data overwrites image B. Under
//! [`Durability::PowerSafe`] flush barriers between these steps make the order hold
//! across a power loss too; mirroring marks the blocks it writes through VLUN A dirty
//! so recovery can bring image B back in line. ARCHITECTURE.md lists every step.

use std::collections::BTreeSet;
use std::io::Write;

use crate::cost::{CounterCells, Counters, IoCost};
use crate::error::{Error, Result};
use crate::meta::{Journal, MetaError, MetaRecord};
use crate::store::{BlockStore, MemStore};
use crate::sync::{self, Mutex, MutexGuard, RwLock};
use crate::table::{LookupTable, Reservation, AREA_SLOTS_MAX};
use crate::{Phase, Variant, Vlun};

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
    /// Mutant switch for the loom tests only: skip the group-1 lock, to show that the
    /// loom tests can find the torn reads and diverged mirrors it prevents.
    #[cfg(loom)]
    pub skip_group1_for_mutant_test: bool,
}

impl DeviceConfig {
    /// Default locks for `variant`: 64 group-1 locks, no group-2 locks; power-safe.
    pub fn new(variant: Variant) -> Self {
        DeviceConfig {
            variant,
            durability: Durability::PowerSafe,
            group1_locks: 64,
            group2: None,
            #[cfg(loom)]
            skip_group1_for_mutant_test: false,
        }
    }
}

/// What `backup_a` wrote to the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupReport {
    pub blocks: u64,
    pub bytes: u64,
    pub cost: IoCost,
}

/// The lookup table (if the variant and phase have one) and the journal that records
/// its changes: one lock, so the journal's order is the table's order.
struct Meta {
    table: Option<LookupTable>,
    area_peak: u64,
    journal: Option<Box<dyn Journal>>,
    /// The first journal failure. After it the journal's contents are unknown (an
    /// append may be half-written, an fsync may have dropped pages), so every later
    /// metadata change fails with it: the device stops changing its table rather
    /// than journal records a replay could not follow. Writes that need no table
    /// change still work, and everything acknowledged before stays findable.
    journal_failed: Option<MetaError>,
    /// Records appended since the journal was last written whole: [`Device::flush`]
    /// compacts it past [`JOURNAL_APPENDS_MAX`], so the file stays bounded.
    appended: u64,
    /// Records appended since the journal was last synced (a sync is skipped without).
    unsynced: bool,
    /// Mirroring with a journal: blocks with a `Dirty` record since the last
    /// `FlushMark` (`dirty_new`) and between it and its `Clean` (`dirty_flushing`).
    /// Recovery copies image A to image B for both (ARCHITECTURE.md, "Recovery").
    dirty_new: BTreeSet<u64>,
    dirty_flushing: BTreeSet<u64>,
    /// Mirroring with a journal, split phase: blocks VLUN B has written.
    diverged: BTreeSet<u64>,
}

/// Appends after which [`Device::flush`] rewrites the journal as a snapshot. A snapshot
/// is at most about 16 bytes per table entry, an append about 20 bytes, so this bounds
/// the metadata file to a few MiB beyond the snapshot.
pub const JOURNAL_APPENDS_MAX: u64 = 1 << 17;

impl Meta {
    fn new(table: Option<LookupTable>, area_peak: u64, journal: Option<Box<dyn Journal>>) -> Self {
        Meta {
            table,
            area_peak,
            journal,
            journal_failed: None,
            appended: 0,
            unsynced: false,
            dirty_new: BTreeSet::new(),
            dirty_flushing: BTreeSet::new(),
            diverged: BTreeSet::new(),
        }
    }

    /// Journals `record`; the caller changes the in-memory state only if this succeeds,
    /// so memory never runs ahead of what a reopen would restore.
    fn log(&mut self, record: MetaRecord) -> Result<()> {
        self.journal_op(|j| j.append(&record))?;
        self.appended += 1;
        self.unsynced = true;
        Ok(())
    }

    /// Makes every appended record durable; counts a flush if there was any to sync.
    fn sync(&mut self, cost: &mut IoCost) -> Result<()> {
        if self.journal.is_none() || !self.unsynced {
            return Ok(());
        }
        self.journal_op(|j| j.sync())?;
        self.unsynced = false;
        cost.flushes += 1;
        Ok(())
    }

    fn journal_op(
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

    fn note_peak(&mut self) {
        if let Some(t) = self.table.as_mut() {
            t.note_peak();
            self.area_peak = self.area_peak.max(t.in_use());
        }
    }
}

/// The one-way mirror device over two images of type `S`.
pub struct Device<S: BlockStore> {
    variant: Variant,
    block_size: usize,
    volume_blocks: u64,
    area_slots: u64,
    image_a: S,
    image_b: S,
    phase: RwLock<Phase>,
    meta: Mutex<Meta>,
    group1: Box<[Mutex<()>]>,
    group2: Option<(u64, Box<[Mutex<()>]>)>,
    /// Serialises [`Device::flush`]es, so one flush's `Clean` never covers blocks
    /// another flush's mark moved.
    flush_lock: Mutex<()>,
    counters: CounterCells,
    config: DeviceConfig,
    /// Whether a journal is attached: set once, before the device is shared (by
    /// [`Device::restore`] or [`Device::set_journal`], which every caller runs on a
    /// device it has just built). It lets the calls that only journal (mirroring's
    /// dirty and diverged marks, the journal barriers) skip the metadata lock on a
    /// device with no journal, where that lock would guard nothing. A plain `std`
    /// atomic like [`crate::sync::StatCounter`]: it orders nothing, since it never
    /// changes while calls run.
    journaled: std::sync::atomic::AtomicBool,
}

/// The locks one block access holds (group 2, then group 1), released on drop.
struct BlockGuard<'a> {
    _group1: Option<MutexGuard<'a, ()>>,
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
        let (a, b) = config.variant.image_blocks(volume_blocks, area_slots);
        let image_a = MemStore::new(block_size, a)?;
        let image_b = MemStore::new(block_size, b)?;
        Device::new(config, image_a, image_b)
    }
}

impl<S: BlockStore> Device<S> {
    /// A device in the single-volume phase over `image_a` and `image_b`, laid out as
    /// [`Variant::image_blocks`] says: mirroring, two equal images (already in sync:
    /// the RAID-1 mirror that exists before the request, \[0062\]); write logging, the
    /// volume on image A and the log area on image B; copy-on-write, the volume on
    /// image B and the preserved-block area on image A.
    pub fn new(config: DeviceConfig, image_a: S, image_b: S) -> Result<Self> {
        let variant = config.variant;
        let geometry = |reason: String| Error::Geometry { variant, reason };
        if image_a.block_size() != image_b.block_size() {
            return Err(geometry(format!(
                "image A has {}-byte blocks, image B {}-byte blocks",
                image_a.block_size(),
                image_b.block_size()
            )));
        }
        let (volume_blocks, area_slots) = match variant {
            Variant::WriteMirroring => {
                if image_a.block_count() != image_b.block_count() {
                    return Err(geometry(format!(
                        "mirrored images differ in size: {} and {} blocks",
                        image_a.block_count(),
                        image_b.block_count()
                    )));
                }
                (image_a.block_count(), 0)
            }
            Variant::WriteLogging => (image_a.block_count(), image_b.block_count()),
            Variant::CopyOnWrite => (image_b.block_count(), image_a.block_count()),
        };
        if volume_blocks == 0 || image_a.block_size() == 0 {
            return Err(geometry(
                "the volume has no blocks, or blocks of 0 bytes".into(),
            ));
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
        Ok(Device {
            variant,
            block_size: image_a.block_size(),
            volume_blocks,
            area_slots,
            image_a,
            image_b,
            phase: RwLock::new(Phase::Single),
            meta: Mutex::new(Meta::new(None, 0, None)),
            group1: (0..config.group1_locks).map(|_| Mutex::new(())).collect(),
            group2,
            flush_lock: Mutex::new(()),
            counters: CounterCells::default(),
            config,
            journaled: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Installs restored metadata (phase, table, journal): used when reopening a
    /// file-backed device.
    pub(crate) fn restore(
        mut self,
        phase: Phase,
        table: Option<LookupTable>,
        area_peak: u64,
        journal: Box<dyn Journal>,
    ) -> Self {
        self.phase = RwLock::new(phase);
        self.meta = Mutex::new(Meta::new(table, area_peak, Some(journal)));
        *self.journaled.get_mut() = true;
        self
    }

    /// Installs the mirror's diverged blocks found by a replay.
    pub(crate) fn restore_diverged(&self, diverged: BTreeSet<u64>) {
        sync::lock(&self.meta).diverged = diverged;
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
    /// The lock configuration.
    pub fn config(&self) -> &DeviceConfig {
        &self.config
    }
    /// The current phase.
    pub fn phase(&self) -> Phase {
        *sync::read(&self.phase)
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

    /// Blocks of extra space held now: data-area slots in use, plus for mirroring the
    /// second full image while VLUN A exists.
    pub fn extra_space_blocks(&self) -> u64 {
        self.counters().extra_space_blocks
    }

    /// Running totals of logical and physical operations, and the space figures.
    pub fn counters(&self) -> Counters {
        let phase = self.phase();
        let mut c = self.counters.snapshot();
        let (area_now, area_peak) = {
            let m = sync::lock(&self.meta);
            (m.table.as_ref().map_or(0, |t| t.in_use()), m.area_peak)
        };
        let mirror = match self.variant {
            Variant::WriteMirroring if phase != Phase::Retired => self.volume_blocks,
            _ => 0,
        };
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

    fn lock_block(&self, block: u64) -> BlockGuard<'_> {
        let group2 = self.group2.as_ref().map(|(width, locks)| {
            sync::lock(&locks[((block / width) % locks.len() as u64) as usize])
        });
        #[cfg(loom)]
        let skip = self.config.skip_group1_for_mutant_test;
        #[cfg(not(loom))]
        let skip = false;
        let group1 =
            (!skip).then(|| sync::lock(&self.group1[(block % self.group1.len() as u64) as usize]));
        BlockGuard {
            _group1: group1,
            _group2: group2,
        }
    }

    // ---- physical operations, each counted ----

    fn read_image(&self, vlun: Vlun, block: u64, buf: &mut [u8], cost: &mut IoCost) -> Result<()> {
        match vlun {
            Vlun::A => {
                cost.reads_a += 1;
                self.image_a.read_block(block, buf)?
            }
            Vlun::B => {
                cost.reads_b += 1;
                self.image_b.read_block(block, buf)?
            }
        }
        Ok(())
    }

    fn write_image(&self, vlun: Vlun, block: u64, data: &[u8], cost: &mut IoCost) -> Result<()> {
        match vlun {
            Vlun::A => {
                cost.writes_a += 1;
                self.image_a.write_block(block, data)?
            }
            Vlun::B => {
                cost.writes_b += 1;
                self.image_b.write_block(block, data)?
            }
        }
        Ok(())
    }

    fn lookup(&self, block: u64, cost: &mut IoCost) -> Option<u32> {
        let m = sync::lock(&self.meta);
        let table = m.table.as_ref()?;
        cost.table_lookups += 1;
        table.lookup(block)
    }

    fn power_safe(&self) -> bool {
        self.config.durability == Durability::PowerSafe
    }

    /// A flush barrier on image `vlun` (power-safe devices only): its completed writes
    /// are durable before anything that follows.
    fn barrier(&self, vlun: Vlun, cost: &mut IoCost) -> Result<()> {
        if !self.power_safe() {
            return Ok(());
        }
        cost.flushes += 1;
        match vlun {
            Vlun::A => self.image_a.flush()?,
            Vlun::B => self.image_b.flush()?,
        }
        Ok(())
    }

    /// A journal barrier (power-safe devices only): every record appended so far is
    /// durable before anything that follows.
    fn journal_barrier(&self, cost: &mut IoCost) -> Result<()> {
        if !self.power_safe() || !self.journaled() {
            return Ok(());
        }
        sync::lock(&self.meta).sync(cost)
    }

    /// Before data goes into a newly reserved slot: the removal that freed it (if it
    /// was freed) must be durable, else a crash could restore the old entry pointing
    /// at the new data. Syncs whatever is unsynced (removals are the only records a
    /// power-safe device leaves unsynced in the table variants).
    fn reuse_barrier(&self, cost: &mut IoCost) -> Result<()> {
        #[cfg(test)]
        if mutant::on(mutant::Mutant::SlotReusedBeforeRemoveDurable) {
            return Ok(());
        }
        self.journal_barrier(cost)
    }

    /// Drops `block`'s entry, if it has one, once the data that replaces what it
    /// pointed at is durable on image `written` (a barrier, so a crash never keeps the
    /// removal without that data): journaled, then dropped in memory. The caller
    /// holds `block`'s group-1 lock, so the entry cannot change in between.
    fn drop_entry(&self, block: u64, written: Vlun, cost: &mut IoCost) -> Result<()> {
        {
            let m = sync::lock(&self.meta);
            let Some(table) = m.table.as_ref() else {
                return Ok(());
            };
            cost.table_lookups += 1;
            if table.lookup(block).is_none() {
                return Ok(());
            }
        }
        self.barrier(written, cost)?;
        self.remove_entry(block, cost)
    }

    /// Journals and drops `block`'s entry, if it still has one.
    fn remove_entry(&self, block: u64, cost: &mut IoCost) -> Result<()> {
        let mut m = sync::lock(&self.meta);
        let Some(table) = m.table.as_ref() else {
            return Ok(());
        };
        if table.lookup(block).is_some() {
            m.log(MetaRecord::Remove { block })?;
            let table = m.table.as_mut().expect("checked above");
            table.remove(block);
            cost.table_removes += 1;
        }
        Ok(())
    }

    /// Reserves a slot for `block` and publishes the entry in memory (invisible to
    /// other calls, which cannot touch `block` while we hold its group-1 lock). It is
    /// journaled by [`Device::commit_entry`] once its data is written, or taken back
    /// by [`Device::abandon_entry`] if the data cannot be written.
    fn allocate_entry(&self, vlun: Vlun, block: u64, cost: &mut IoCost) -> Result<Reservation> {
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
        Ok(reservation)
    }

    /// Journals the entry whose data is now written (and, with `durable`, syncs it);
    /// if the journal refuses, the entry is taken back, so the table never shows what
    /// a reopen would not.
    fn commit_entry(&self, r: Reservation, durable: bool, cost: &mut IoCost) -> Result<()> {
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
                }
                Err(e)
            }
        }
    }

    /// Takes back a reserved entry whose data could not be written.
    fn abandon_entry(&self, r: Reservation) {
        if let Some(t) = sync::lock(&self.meta).table.as_mut() {
            t.cancel(r);
        }
    }

    // ---- the VLUN interface ----

    /// Reads `block` of `vlun` into `buf` (one block long).
    pub fn read(&self, vlun: Vlun, block: u64, buf: &mut [u8]) -> Result<IoCost> {
        self.check(vlun, block, buf.len())?;
        let phase = sync::read(&self.phase);
        let _locks = self.lock_block(block);
        let mut cost = IoCost::default();
        let result = self.route_read(*phase, vlun, block, buf, &mut cost);
        self.counters.charge(&cost);
        if result.is_ok() {
            self.counters.logical(vlun, false);
        }
        result.map(|()| cost)
    }

    fn route_read(
        &self,
        phase: Phase,
        vlun: Vlun,
        block: u64,
        buf: &mut [u8],
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
        match (self.variant, vlun) {
            (WriteMirroring, v) => self.read_image(v, block, buf, cost),
            (WriteLogging, Vlun::A) => self.read_image(Vlun::A, block, buf, cost),
            // Fig 18: a B write lands in B's log; its first one to a block creates the
            // entry (reserved now, journaled once the data is in its slot).
            (WriteLogging, Vlun::B) => match self.lookup(block, cost) {
                Some(slot) => self.read_image(Vlun::B, u64::from(slot), buf, cost),
                None => self.read_image(Vlun::A, block, buf, cost),
            },
            (CopyOnWrite, Vlun::A) => match self.lookup(block, cost) {
                Some(slot) => self.read_image(Vlun::A, u64::from(slot), buf, cost),
                None => self.read_image(Vlun::B, block, buf, cost),
            },
            (CopyOnWrite, Vlun::B) => self.read_image(Vlun::B, block, buf, cost),
        }
    }

    /// Writes `data` (one block) to `block` of `vlun`. When this returns `Ok`, the write
    /// is acknowledged: every image the variant routes it to holds it.
    pub fn write(&self, vlun: Vlun, block: u64, data: &[u8]) -> Result<IoCost> {
        self.check(vlun, block, data.len())?;
        let phase = sync::read(&self.phase);
        let _locks = self.lock_block(block);
        let mut cost = IoCost::default();
        let result = self.route_write(*phase, vlun, block, data, &mut cost);
        self.counters.charge(&cost);
        if result.is_ok() {
            self.counters.logical(vlun, true);
        }
        result.map(|()| cost)
    }

    fn route_write(
        &self,
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
        match (self.variant, vlun) {
            // Fig 13: A writes land on both images; B writes on image B only. The
            // block is marked dirty first, so a crash between the two writes is
            // repaired at recovery (image A copied to image B).
            (WriteMirroring, Vlun::A) => {
                self.mark_dirty(block, cost)?;
                self.write_image(Vlun::A, block, data, cost)?;
                self.write_image(Vlun::B, block, data, cost)
            }
            (WriteMirroring, Vlun::B) => {
                self.write_image(Vlun::B, block, data, cost)?;
                self.mark_diverged(phase, block)
            }
            // Fig 16: an A write supersedes B's logged copy, which is dropped. The patent
            // drops the entry first; we write image A first (and make it durable), so a
            // crash in between leaves B reading its own logged copy, not A's older block.
            (WriteLogging, Vlun::A) => {
                self.write_image(Vlun::A, block, data, cost)?;
                self.drop_entry(block, Vlun::A, cost)
            }
            (WriteLogging, Vlun::B) if phase == Phase::Retired => {
                // VLUN B now lives on image A; a leftover entry is merged by this write.
                self.write_image(Vlun::A, block, data, cost)?;
                self.drop_entry(block, Vlun::A, cost)
            }
            // Fig 18: a B write lands in B's log; its first one to a block creates the
            // entry (reserved now, journaled once the data is durable in its slot).
            (WriteLogging, Vlun::B) => match self.lookup(block, cost) {
                Some(slot) => self.write_image(Vlun::B, u64::from(slot), data, cost),
                None => {
                    let r = self.allocate_entry(vlun, block, cost)?;
                    let written = self
                        .reuse_barrier(cost)
                        .and_then(|()| self.write_image(Vlun::B, u64::from(r.slot), data, cost))
                        .and_then(|()| {
                            #[cfg(test)]
                            if mutant::on(mutant::Mutant::LogSlotNotDurable) {
                                return Ok(());
                            }
                            self.barrier(Vlun::B, cost)
                        });
                    if let Err(e) = written {
                        self.abandon_entry(r);
                        return Err(e);
                    }
                    // Not synced: losing the entry loses only this unflushed write.
                    self.commit_entry(r, false, cost)
                }
            },
            // Fig 23: an A write goes to image B and drops A's preserved copy. The patent
            // drops the entry first; we write image B first (and make it durable), so a
            // crash in between leaves A reading its preserved copy, never B's newer
            // block (A-isolated).
            (CopyOnWrite, Vlun::A) => {
                self.write_image(Vlun::B, block, data, cost)?;
                self.drop_entry(block, Vlun::B, cost)
            }
            (CopyOnWrite, Vlun::B) if phase == Phase::Single || phase == Phase::Retired => {
                self.write_image(Vlun::B, block, data, cost)
            }
            // Fig 25: B's first write to a block preserves the old block for VLUN A: the
            // copy and its entry are durable before image B is overwritten.
            (CopyOnWrite, Vlun::B) => {
                if self.lookup(block, cost).is_none() {
                    self.preserve_for_a(vlun, block, cost)?;
                }
                self.write_image(Vlun::B, block, data, cost)
            }
        }
    }

    /// Copy-on-write: copies image B's `block` into a new slot of A's data area and
    /// journals the entry, durably (power-safe): the removals that freed slots are
    /// synced first (so the slot's old owner cannot come back pointing at it), then
    /// the copy is written and flushed, then the entry appended and synced.
    fn preserve_for_a(&self, vlun: Vlun, block: u64, cost: &mut IoCost) -> Result<()> {
        let r = self.allocate_entry(vlun, block, cost)?;
        let mut old = vec![0u8; self.block_size];
        let copied = self
            .reuse_barrier(cost)
            .and_then(|()| self.read_image(Vlun::B, block, &mut old, cost))
            .and_then(|()| self.write_image(Vlun::A, u64::from(r.slot), &old, cost))
            .and_then(|()| {
                #[cfg(test)]
                if mutant::on(mutant::Mutant::CowCopyNotDurable) {
                    return Ok(());
                }
                self.barrier(Vlun::A, cost)
            });
        if let Err(e) = copied {
            self.abandon_entry(r);
            return Err(e);
        }
        #[cfg(test)]
        let durable = self.power_safe() && !mutant::on(mutant::Mutant::CowCopyNotDurable);
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
        if mutant::on(mutant::Mutant::MirrorWithoutIntent) {
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

    // ---- life cycle ----

    fn transition(&self, op: &'static str, from: &[Phase], to: Phase) -> Result<()> {
        let mut phase = sync::write(&self.phase);
        if !from.contains(&phase) {
            return Err(Error::IllegalState { op, phase: *phase });
        }
        let mut cost = IoCost::default();
        let result = self.change_phase(to, &mut cost);
        self.counters.charge(&cost);
        result?;
        *phase = to;
        Ok(())
    }

    /// Journals the phase change, with no call in flight (the caller holds the phase
    /// lock exclusively). A phase change is a barrier: on a power-safe device every
    /// write before it is durable first and the record is synced, so no crash brings
    /// back a write from the other side of the split; the mirror's dirty blocks are
    /// clean then (both images were written).
    fn change_phase(&self, to: Phase, cost: &mut IoCost) -> Result<()> {
        self.barrier(Vlun::A, cost)?;
        self.barrier(Vlun::B, cost)?;
        let mut m = sync::lock(&self.meta);
        if !m.dirty_new.is_empty() || !m.dirty_flushing.is_empty() {
            m.log(MetaRecord::FlushMark)?;
            m.log(MetaRecord::Clean)?;
            m.dirty_new.clear();
            m.dirty_flushing.clear();
        }
        m.log(MetaRecord::Phase(to))?;
        if to != Phase::Split {
            m.diverged.clear();
        }
        if self.power_safe() {
            m.sync(cost)?;
        }
        if to == Phase::Split && self.variant != Variant::WriteMirroring {
            m.table = Some(LookupTable::new(self.volume_blocks, self.area_slots));
        }
        Ok(())
    }

    /// The backup request: VLUN B is created from VLUN A. From now on old transactions
    /// use VLUN A and new ones VLUN B.
    pub fn split(&self) -> Result<()> {
        self.transition("split", &[Phase::Single], Phase::Split)
    }

    /// Streams VLUN A, block by block, to `archive` (e.g. a raw image file or a tape).
    /// VLUN A becomes read-only first: it was declared consistent, and an archive must
    /// equal A at that moment. Can be repeated (e.g. after a failed archive write).
    pub fn backup_a(&self, archive: &mut impl Write) -> Result<BackupReport> {
        self.transition(
            "back up VLUN A",
            &[Phase::Split, Phase::BackedUp],
            Phase::BackedUp,
        )?;
        let mut buf = vec![0u8; self.block_size];
        let mut cost = IoCost::default();
        for block in 0..self.volume_blocks {
            let c = self.read(Vlun::A, block, &mut buf)?;
            cost.add(c);
            archive.write_all(&buf).map_err(|source| Error::Archive {
                blocks_done: block,
                source,
            })?;
        }
        archive.flush().map_err(|source| Error::Archive {
            blocks_done: self.volume_blocks,
            source,
        })?;
        Ok(BackupReport {
            blocks: self.volume_blocks,
            bytes: self.volume_blocks * self.block_size as u64,
            cost,
        })
    }

    /// Discards VLUN A and frees the variant's extra space: mirroring releases image A;
    /// copy-on-write drops A's preserved blocks; write logging merges B's logged blocks
    /// into image A, where VLUN B lives from now on. VLUN B stays live throughout.
    ///
    /// The phase changes first (journaled), then the space is freed; if that is cut
    /// short (an I/O error, a crash), calling `retire_a` again, or reopening the file
    /// device, finishes it. Once it has finished, another call is illegal.
    pub fn retire_a(&self) -> Result<IoCost> {
        let unfinished = self.phase() == Phase::Retired && sync::lock(&self.meta).table.is_some();
        if !unfinished {
            self.transition("retire VLUN A", &[Phase::BackedUp], Phase::Retired)?;
        }
        self.finish_retire()
    }

    /// Frees what VLUN A held, in the retired phase: merges write logging's logged
    /// blocks into image A, then drops the table. Safe to repeat after a failure.
    pub(crate) fn finish_retire(&self) -> Result<IoCost> {
        assert_eq!(self.phase(), Phase::Retired);
        let mut cost = IoCost::default();
        let result = self.merge_and_clear(&mut cost);
        self.counters.charge(&cost);
        result.map(|()| cost)
    }

    /// Write logging merges in two passes: every logged block copied to image A, one
    /// barrier, then every entry dropped, so the removals never outrun the copies. No
    /// slot is reused meanwhile (the retired device creates no entries).
    fn merge_and_clear(&self, cost: &mut IoCost) -> Result<()> {
        if self.variant == Variant::WriteLogging {
            let entries: Vec<(u64, u32)> = self
                .table()
                .map(|t| t.entries().collect())
                .unwrap_or_default();
            let mut buf = vec![0u8; self.block_size];
            for &(block, _) in &entries {
                let _locks = self.lock_block(block);
                // A B write may have merged this block meanwhile: look again under its lock.
                if let Some(slot) = self.lookup(block, cost) {
                    self.read_image(Vlun::B, u64::from(slot), &mut buf, cost)?;
                    self.write_image(Vlun::A, block, &buf, cost)?;
                }
            }
            if !entries.is_empty() {
                self.barrier(Vlun::A, cost)?;
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
        let mut buf = vec![0u8; self.block_size];
        for block in 0..self.volume_blocks {
            self.read(Vlun::B, block, &mut buf)?;
            b_prime.write_block(block, &buf)?;
        }
        b_prime.flush()?;
        Ok(b_prime)
    }

    /// Makes every acknowledged write durable: both images, then the metadata.
    ///
    /// Acknowledged writes survive the process ending (their data and journal records
    /// are in the operating system's hands when `write` returns); they survive a power
    /// loss once `flush` returns.
    ///
    /// Past [`JOURNAL_APPENDS_MAX`] appended records, the journal is also compacted
    /// (which waits, like a phase change, for the calls in flight).
    ///
    /// Mirroring marks the blocks it writes through VLUN A dirty; a flush cleans them:
    /// a `FlushMark` (taken with no call in flight, so every write it covers has
    /// completed), the image flushes, then `Clean`.
    pub fn flush(&self) -> Result<()> {
        let _one_at_a_time = sync::lock(&self.flush_lock);
        let mut cost = IoCost::default();
        let result = self.flush_all(&mut cost);
        self.counters.charge(&cost);
        let long = result?;
        if long {
            self.compact_metadata()?;
        }
        Ok(())
    }

    fn flush_all(&self, cost: &mut IoCost) -> Result<bool> {
        let marked = self.variant == Variant::WriteMirroring && {
            let _no_call_in_flight = sync::write(&self.phase);
            let mut m = sync::lock(&self.meta);
            if m.dirty_new.is_empty() {
                false
            } else {
                m.log(MetaRecord::FlushMark)?;
                let new = std::mem::take(&mut m.dirty_new);
                m.dirty_flushing.extend(new);
                true
            }
        };
        cost.flushes += 2;
        self.image_a.flush()?;
        self.image_b.flush()?;
        let mut m = sync::lock(&self.meta);
        if marked || !m.dirty_flushing.is_empty() {
            m.log(MetaRecord::Clean)?;
            m.dirty_flushing.clear();
        }
        m.unsynced = true; // sync even with nothing appended: the contract is a sync
        m.sync(cost)?;
        Ok(m.appended > JOURNAL_APPENDS_MAX)
    }

    /// The metadata as a compact record list: header, phase, table.
    pub(crate) fn snapshot_records(&self) -> Vec<MetaRecord> {
        let phase = self.phase();
        let m = sync::lock(&self.meta);
        self.snapshot_of(phase, &m)
    }

    fn snapshot_of(&self, phase: Phase, m: &Meta) -> Vec<MetaRecord> {
        let mut out = vec![MetaRecord::Header {
            variant: self.variant,
            block_size: self.block_size as u32,
            volume_blocks: self.volume_blocks,
            area_slots: self.area_slots,
        }];
        for p in [Phase::Split, Phase::BackedUp, Phase::Retired] {
            if p <= phase {
                out.push(MetaRecord::Phase(p));
            }
        }
        if let Some(t) = &m.table {
            let (next_fresh, free) = t.allocator();
            out.push(MetaRecord::Table {
                next_fresh,
                peak: m.area_peak.min(u64::from(u32::MAX)) as u32,
                free: free.to_vec(),
                entries: t.entries().collect(),
            });
        } else if phase == Phase::Retired && self.variant != Variant::WriteMirroring {
            // The table is gone, but its peak is a figure the device reports: keep it
            // in an empty snapshot before the drop, so a reopen restores it too.
            out.push(MetaRecord::Table {
                next_fresh: 0,
                peak: m.area_peak.min(u64::from(u32::MAX)) as u32,
                free: Vec::new(),
                entries: Vec::new(),
            });
            out.push(MetaRecord::Clear);
        }
        // Mirroring's marks: diverged blocks, and dirty ones whether or not a flush
        // has begun on them.
        for &block in &m.diverged {
            out.push(MetaRecord::Diverged { block });
        }
        for &block in m.dirty_new.union(&m.dirty_flushing) {
            out.push(MetaRecord::Dirty { block });
        }
        out
    }

    /// Rewrites the journal as a snapshot (a no-op without a journal).
    ///
    /// Takes the phase lock exclusively, so no call is in flight: a reserved entry
    /// whose data is not yet written never reaches the snapshot, and no record
    /// appended between the snapshot and the rewrite is lost.
    pub fn compact_metadata(&self) -> Result<()> {
        let phase = sync::write(&self.phase);
        let mut m = sync::lock(&self.meta);
        let records = self.snapshot_of(*phase, &m);
        m.journal_op(|j| j.compact(&records))?;
        m.appended = 0;
        Ok(())
    }
}

impl<S: BlockStore + Clone> Clone for Device<S> {
    /// A copy with the same images, phase and table, fresh locks and counters, and no
    /// journal (the copy is not the file-backed device).
    fn clone(&self) -> Self {
        let phase = self.phase();
        let m = sync::lock(&self.meta);
        let mut d = Device::new(
            self.config.clone(),
            self.image_a.clone(),
            self.image_b.clone(),
        )
        .expect("a valid device's geometry is valid");
        d.phase = RwLock::new(phase);
        d.meta = Mutex::new(Meta::new(m.table.clone(), m.area_peak, None));
        d
    }
}

impl<S: BlockStore + PartialEq> PartialEq for Device<S> {
    /// Equal when what the hosts and the metadata can observe is equal: variant, phase,
    /// table and image contents (not counters or locks).
    fn eq(&self, other: &Self) -> bool {
        self.variant == other.variant
            && self.phase() == other.phase()
            && self.table() == other.table()
            && self.image_a == other.image_a
            && self.image_b == other.image_b
    }
}

impl<S: BlockStore + Eq> Eq for Device<S> {}

impl<S: BlockStore + std::hash::Hash> std::hash::Hash for Device<S> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.variant.hash(state);
        self.phase().hash(state);
        self.table().hash(state);
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

#[cfg(all(test, not(loom)))]
mod tests {
    //! The journal's fail-stop rule, with a journal that refuses on command (the file
    //! journal cannot be made to fail from a test without root-proof tricks).

    use std::sync::{Arc, Mutex as StdMutex};

    use super::*;

    /// Accepts `budget` appends, then fails every one.
    struct Refusing {
        budget: usize,
        kept: Arc<StdMutex<Vec<MetaRecord>>>,
    }

    impl Journal for Refusing {
        fn append(&mut self, record: &MetaRecord) -> std::result::Result<(), MetaError> {
            if self.budget == 0 {
                return Err(MetaError {
                    path: "test.owm".into(),
                    offset: None,
                    reason: "no space left".into(),
                });
            }
            self.budget -= 1;
            self.kept.lock().unwrap().push(record.clone());
            Ok(())
        }
        fn sync(&mut self) -> std::result::Result<(), MetaError> {
            Ok(())
        }
        fn compact(&mut self, _: &[MetaRecord]) -> std::result::Result<(), MetaError> {
            Ok(())
        }
    }

    const BS: usize = 16;

    fn block(x: u8) -> Vec<u8> {
        vec![x; BS]
    }

    fn read(d: &Device<MemStore>, vlun: Vlun, b: u64) -> Vec<u8> {
        let mut buf = vec![0u8; BS];
        d.read(vlun, b, &mut buf).unwrap();
        buf
    }

    fn is_journal_error(r: Result<IoCost>) -> bool {
        matches!(r, Err(Error::Meta(e)) if e.path == "test.owm")
    }

    /// After the first refused append the device changes no table entry again, keeps
    /// memory equal to what the journal holds, and still serves every write that needs
    /// no table change.
    #[test]
    fn journal_failure_stops_table_changes_and_keeps_memory_equal_to_journal() {
        for variant in [Variant::WriteLogging, Variant::CopyOnWrite] {
            let d = Device::in_memory(variant, BS, 8).unwrap();
            let kept = Arc::new(StdMutex::new(Vec::new()));
            d.set_journal(Box::new(Refusing {
                budget: 2,
                kept: kept.clone(),
            }));
            d.split().unwrap();
            d.write(Vlun::B, 1, &block(1)).unwrap(); // the second and last append
            let table = d.table();

            // A first B write needs an Insert: refused, and the table is as before.
            assert!(
                is_journal_error(d.write(Vlun::B, 2, &block(2))),
                "{variant}"
            );
            assert_eq!(d.table(), table, "{variant}");
            assert_eq!(read(&d, Vlun::B, 2), block(0), "{variant}");
            assert_eq!(read(&d, Vlun::A, 2), block(0), "{variant}");
            // Refused before any data is written now that the journal is known bad.
            let before = d.counters();
            assert!(
                is_journal_error(d.write(Vlun::B, 3, &block(3))),
                "{variant}"
            );
            let after = d.counters();
            assert_eq!(
                after.image_a_writes + after.image_b_writes,
                before.image_a_writes + before.image_b_writes
            );

            // An A write over B's entry needs a Remove: refused, the entry stays. The
            // unacknowledged data reached the image written first (logging: image A,
            // hidden from B by B's entry; copy-on-write: image B, hidden from A by A's
            // preserved copy), exactly as a reopen would find it.
            assert!(
                is_journal_error(d.write(Vlun::A, 1, &block(4))),
                "{variant}"
            );
            assert_eq!(d.table(), table, "{variant}");
            let (a_sees, b_sees) = match variant {
                Variant::WriteLogging => (block(4), block(1)),
                _ => (block(0), block(4)),
            };
            assert_eq!(read(&d, Vlun::A, 1), a_sees, "{variant}");
            assert_eq!(read(&d, Vlun::B, 1), b_sees, "{variant}");

            // Writes needing no table change go on.
            d.write(Vlun::B, 1, &block(5)).unwrap();
            d.write(Vlun::A, 6, &block(6)).unwrap();
            assert_eq!(read(&d, Vlun::B, 1), block(5), "{variant}");
            assert_eq!(read(&d, Vlun::B, 6), block(6), "{variant}");
            assert_eq!(read(&d, Vlun::A, 6), block(6), "{variant}");

            // Phase changes are refused too: the journal is fail-stop for every change.
            assert!(matches!(
                d.backup_a(&mut std::io::sink()),
                Err(Error::Meta(_))
            ));
            assert_eq!(d.phase(), Phase::Split);
            assert_eq!(
                *kept.lock().unwrap(),
                vec![
                    MetaRecord::Phase(Phase::Split),
                    MetaRecord::Insert { block: 1, slot: 0 }
                ],
                "{variant}"
            );
        }
    }

    /// A cancelled reservation leaves the allocator exactly as before, whether its slot
    /// came from the free list or from the never-used range.
    #[test]
    fn cancel_restores_the_allocator() {
        let mut t = LookupTable::new(8, 4);
        t.insert(0).unwrap();
        t.insert(1).unwrap();
        t.remove(0);
        for _ in 0..2 {
            let before = t.clone();
            let r = t.reserve(5).unwrap(); // from the free list
            t.cancel(r);
            assert_eq!(t, before);
            let r1 = t.reserve(5).unwrap();
            let r2 = t.reserve(6).unwrap(); // fresh
            t.cancel(r2);
            t.cancel(r1);
            assert_eq!(t, before);
        }
    }
}

/// The test-only mutants of the crash-point test: each drops one barrier of the
/// write order (ARCHITECTURE.md, "Write order"); the crash test must catch every one.
/// Per thread, so parallel tests do not see them.
#[cfg(test)]
pub(crate) mod mutant {
    use std::cell::Cell;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) enum Mutant {
        None,
        /// Copy-on-write overwrites image B before the preserved copy and its entry are
        /// durable (no image-A flush, no journal sync).
        CowCopyNotDurable,
        /// Write logging journals a new entry before its slot is durable.
        LogSlotNotDurable,
        /// A freed slot is reused before the removal that freed it is durable.
        SlotReusedBeforeRemoveDurable,
        /// Mirroring writes through VLUN A with no dirty mark.
        MirrorWithoutIntent,
    }

    thread_local! {
        static ON: Cell<Mutant> = const { Cell::new(Mutant::None) };
    }

    /// Whether mutant `m` is on.
    pub(crate) fn on(m: Mutant) -> bool {
        ON.with(|c| c.get() == m)
    }

    pub(crate) fn set(m: Mutant) {
        ON.with(|c| c.set(m));
    }
}
