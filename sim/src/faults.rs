//! Fault injection (issue 8): the simulated disk's durability model, and the faults a
//! run's seed draws — device crashes and restarts, torn and lost unflushed writes,
//! transient read and write errors, latency spikes.
//!
//! ## Durability model of the simulated disk ([`SimStore`])
//!
//! The engine's (ARCHITECTURE.md §2), made executable by its [`CrashStore`] and
//! [`engine::MemJournal`]: a block write lands in the disk's volatile cache (reads see it at
//! once); a flush makes the cache durable; at a **crash** each unflushed write (oldest
//! first) is, independently, *kept*, *lost* or *torn* (each 8-byte sector old or new)
//! with `torn_write_probability` / `lost_write_probability`, and the journal keeps a
//! random prefix of its unsynced bytes (a cut inside a frame is a torn append). The
//! device is then rebuilt by the engine's own recovery, [`engine::Device::recover`],
//! from the surviving images and journal — so the engine's flush barriers (write order
//! per variant) are what keeps the invariants after a crash.
//!
//! ## What "acknowledged" means in the simulator
//!
//! A block write returning `Ok` is acknowledged to the transaction but may still be
//! volatile. With faults on, **commit implies flush**: a transaction's `Commit` is
//! recorded only after a device flush, so every committed write survives any later
//! crash; an abort is recorded after its rollback is flushed. The applications keep a
//! write-ahead undo log (their before-images, outside the device, never lost): at a
//! crash every begun, unfinished transaction aborts and its before-images are written
//! back through its VLUN (newest transaction first) before anything else runs, then
//! flushed. Without faults nothing is ever lost, so no flush is issued and no journal
//! kept (runs stay bit-identical to the fault-free simulator).
//!
//! ## Transient errors and latency spikes
//!
//! Each physical block read or write fails with `read_error_probability` /
//! `write_error_probability` (an [`engine::StoreError::Injected`]). A transaction
//! whose **read** fails retries it after `io_retry_ticks`; one whose **write** fails
//! (the write may have reached some images) rolls back its before-images and aborts —
//! its rollback is retried after `io_retry_ticks` until it succeeds. Each priced device
//! call is delayed by a uniform `1..=latency_spike_ticks_max` with
//! `latency_spike_probability` (the device stalls answering it; the channel is not
//! held). The backup's archive pass (the engine's `backup_a`) fails a read with
//! `backup_read_error_probability` and its target refuses a block with
//! `archive_write_error_probability`: the pass then fails, the engine must refuse to
//! retire VLUN A (asked, and counted), and the archive is copied again from its first
//! block after `io_retry_ticks`. The split (mirroring's resync of image A at a later
//! cycle), retire's own I/O and the oracle's image reads are not subject to faults.
//!
//! ## Misdirected writes and rotted blocks
//!
//! A physical block write lands on the next or the previous block of the same image
//! instead with `misdirected_write_probability` (acknowledged all the same: the block
//! meant keeps its old bytes, its neighbour is overwritten); a physical read finds
//! its block rotted at rest with `corrupt_block_probability` (one byte flipped on the
//! platter before the read, kept until the block is written again). Without the
//! engine's integrity mode (`[device] integrity`) both are served as they read back,
//! and the oracle sees the consequences; with it, the engine refuses the block
//! ([`engine::Error::Integrity`]), counted in `integrity_detections`, and:
//!
//! - a transaction whose read or write meets it **aborts**: it rolls back its
//!   before-images and ends `Aborted`, not retried (`integrity_aborts`); no value it
//!   read from that block is used. A before-image whose block itself fails its
//!   checksum cannot be written back and is skipped: the block stays refused.
//! - an archive pass that meets it **fails** (the engine is asked to retire VLUN A and
//!   must refuse, as after an injected backup fault) and is **not retried**: the block
//!   of VLUN A is lost, so no faithful archive can be made; the backup is given up
//!   (`backup_given_up`) and VLUN A is kept.
//! - the oracle's reads of a whole VLUN image (A declared consistent, the live volume
//!   at the end) record each refused block ([`crate::Event::Unreadable`],
//!   `unreadable_blocks`); the invariants judge the image's other blocks.
//!
//! Errors and spikes stop at `heal_at_ticks` (crashes must come before it): the run
//! then continues without faults and must converge — end, and hold every invariant.
//! All draws come from the run's seed, stream [`crate::rng::Component::Faults`], so
//! turning faults on or off never shifts another component's numbers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use engine::{BlockStore, CrashStore, Fate, InitialPrefix, PendingWrite, SparseStore, StoreError};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::clock::Tick;
use crate::rng;

/// Crashes a scenario may ask for at most.
pub const CRASHES_MAX: usize = 64;

/// The `[faults]` section of a scenario. Every fault is off by default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaultsConfig {
    /// Virtual times at which the device crashes and restarts (default none; at most
    /// [`CRASHES_MAX`], each before `heal_at_ticks`).
    pub crash_at_ticks: Vec<Tick>,
    /// From this time on no error or spike is injected (default none: faults last the
    /// whole run).
    pub heal_at_ticks: Option<Tick>,
    /// Probability a physical block read fails (default 0; below 1).
    pub read_error_probability: f64,
    /// Probability a physical block write fails (default 0; below 1).
    pub write_error_probability: f64,
    /// At a crash, probability an unflushed block write is torn (default 0.25).
    pub torn_write_probability: f64,
    /// At a crash, probability an unflushed block write is lost (default 0.25; torn +
    /// lost at most 1; the rest are kept).
    pub lost_write_probability: f64,
    /// Probability a device call's completion is delayed by a spike (default 0).
    pub latency_spike_probability: f64,
    /// A spike delays the call by a uniform 1..=this many ticks (default 1000).
    pub latency_spike_ticks_max: Tick,
    /// Ticks a transaction waits before retrying a failed I/O (default 20).
    pub io_retry_ticks: Tick,
    /// Probability a block read of the backup's archive pass (the engine's
    /// `backup_a` reading VLUN A) fails (default 0; below 1). The backup then fails
    /// with `BackupRead`, VLUN A is not retired, and the archive is copied again from
    /// its first block after `io_retry_ticks`.
    pub backup_read_error_probability: f64,
    /// Probability the archive target refuses a block (default 0; below 1): the
    /// backup fails with `Archive` and is retried as for a read error.
    pub archive_write_error_probability: f64,
    /// Probability a physical block write lands on a neighbouring block of the same
    /// image instead (the next or the previous one, even odds; default 0; below 1):
    /// the disk acknowledges it, the block meant keeps its old bytes and its
    /// neighbour is overwritten — the firmware fault dm-integrity and ZFS guard
    /// against.
    pub misdirected_write_probability: f64,
    /// Probability a stored block has rotted at rest by the time a physical read
    /// reaches it (default 0; below 1): one of its bytes is flipped on the platter
    /// before the read, and stays flipped until the block is written again.
    pub corrupt_block_probability: f64,
    /// The engine's power-safe write order, with its flush barriers (default true).
    /// `false` runs the engine's `Durability::ProcessCrashSafe` order (no barriers):
    /// a crash can then break the device — to see what the barriers buy.
    pub power_safe: bool,
}

impl Default for FaultsConfig {
    fn default() -> Self {
        Self {
            crash_at_ticks: Vec::new(),
            heal_at_ticks: None,
            read_error_probability: 0.0,
            write_error_probability: 0.0,
            torn_write_probability: 0.25,
            lost_write_probability: 0.25,
            latency_spike_probability: 0.0,
            latency_spike_ticks_max: 1000,
            io_retry_ticks: 20,
            backup_read_error_probability: 0.0,
            archive_write_error_probability: 0.0,
            misdirected_write_probability: 0.0,
            corrupt_block_probability: 0.0,
            power_safe: true,
        }
    }
}

impl FaultsConfig {
    /// True when any fault can happen: the run then uses the crash-capable store and
    /// flushes at commit. False for the default section.
    pub fn active(&self) -> bool {
        !self.crash_at_ticks.is_empty()
            || self.read_error_probability > 0.0
            || self.write_error_probability > 0.0
            || self.latency_spike_probability > 0.0
            || self.backup_read_error_probability > 0.0
            || self.archive_write_error_probability > 0.0
            || self.misdirected_write_probability > 0.0
            || self.corrupt_block_probability > 0.0
    }
}

/// How many faults a run saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FaultCounts {
    /// Device crashes (each followed by a restart).
    pub crashes: u64,
    /// Transactions aborted by a crash (their before-images written back).
    pub crash_aborts: u64,
    /// Unflushed block writes torn at a crash (content neither old nor new).
    pub torn_writes: u64,
    /// Unflushed block writes lost at a crash.
    pub lost_writes: u64,
    /// Unflushed block writes kept at a crash.
    pub kept_writes: u64,
    /// Injected physical read errors.
    pub read_errors: u64,
    /// Injected physical write errors.
    pub write_errors: u64,
    /// Transactions aborted (rolled back) because a write failed.
    pub write_error_aborts: u64,
    /// Device calls delayed by a latency spike.
    pub latency_spikes: u64,
    /// Device flushes issued (commit, abort, table-entry barrier, retire, recovery).
    pub flushes: u64,
    /// Injected read errors of the backup's archive pass.
    pub backup_read_errors: u64,
    /// Blocks the archive target refused.
    pub archive_write_errors: u64,
    /// Archive passes that failed under injected faults (each copied again from its
    /// first block). A pass that met a block failing its checksum is not one: it is
    /// not copied again, the backup is given up.
    pub backup_failures: u64,
    /// Times the engine refused to retire VLUN A after a failed archive pass (the
    /// simulator asks after every failure, the pass given up at a block failing its
    /// checksum included; a retire granted there is an error).
    pub retires_refused: u64,
    /// Physical block writes that landed on a neighbouring block.
    pub misdirected_writes: u64,
    /// Stored blocks that rotted (a byte flipped at rest) before a read.
    pub corrupted_blocks: u64,
    /// Checksum mismatches the integrity mode reported to the run's own calls (a
    /// transaction's read or write, a rollback, the archive pass): wrong data refused.
    pub integrity_detections: u64,
    /// Transactions aborted because a call met a checksum mismatch.
    pub integrity_aborts: u64,
    /// Backup cycles given up at the split because mirroring's resync of image A met
    /// a block of image B failing its checksum.
    pub resyncs_lost: u64,
    /// Blocks the oracle's reads of a whole VLUN image (A declared consistent, the
    /// live volume at the end) found failing their checksum: lost, and known lost.
    pub unreadable_blocks: u64,
}

/// The fault source shared by both images and the world: one random stream, so the
/// draws follow the (deterministic) order of the physical operations.
#[derive(Debug)]
pub(crate) struct Injector {
    rng: ChaCha8Rng,
    config: FaultsConfig,
    /// Errors and spikes are injected only while armed (not during the initial image,
    /// recovery, the backup's own I/O, the oracle's reads, nor after healing).
    armed: bool,
    /// The backup's archive pass is reading: reads fail with
    /// `backup_read_error_probability` instead.
    backup: bool,
    pub(crate) counts: FaultCounts,
}

/// A handle on the shared injector.
pub(crate) type Faults = Arc<Mutex<Injector>>;

pub(crate) fn injector(config: &FaultsConfig, rng: ChaCha8Rng) -> Faults {
    Arc::new(Mutex::new(Injector {
        rng,
        config: config.clone(),
        armed: false,
        backup: false,
        counts: FaultCounts::default(),
    }))
}

pub(crate) fn lock(f: &Faults) -> MutexGuard<'_, Injector> {
    // The simulator is single-threaded; a poisoned lock only follows a panic already
    // on its way.
    f.lock().unwrap_or_else(|e| e.into_inner())
}

impl Injector {
    /// Arms or disarms error and spike injection; returns the previous state.
    pub(crate) fn set_armed(&mut self, armed: bool) -> bool {
        std::mem::replace(&mut self.armed, armed)
    }

    /// Switches the backup's archive pass on or off (its reads draw
    /// `backup_read_error_probability`; it writes nothing to the images).
    pub(crate) fn set_backup(&mut self, backup: bool) {
        self.backup = backup;
    }

    /// Whether the archive target refuses the block being sent.
    pub(crate) fn archive_write_fails(&mut self) -> bool {
        let fail =
            self.armed && rng::chance(&mut self.rng, self.config.archive_write_error_probability);
        self.counts.archive_write_errors += u64::from(fail);
        fail
    }

    /// Ticks of latency spike for one device call (0 for none).
    pub(crate) fn spike(&mut self) -> Tick {
        if !self.armed || !rng::chance(&mut self.rng, self.config.latency_spike_probability) {
            return 0;
        }
        self.counts.latency_spikes += 1;
        rng::uniform(&mut self.rng, 1, self.config.latency_spike_ticks_max.max(1))
    }

    /// Where a write meant for `block` of a store of `blocks` blocks lands: `None` for
    /// `block` itself, else its next or previous neighbour (drawn), with
    /// `misdirected_write_probability` while armed.
    fn misdirect(&mut self, block: u64, blocks: u64) -> Option<u64> {
        if !self.armed
            || blocks < 2
            || !rng::chance(&mut self.rng, self.config.misdirected_write_probability)
        {
            return None;
        }
        let up = self.rng.random_bool(0.5);
        let target = match (up, block) {
            (true, b) if b + 1 < blocks => b + 1,
            (false, 0) => 1,
            (_, b) => b - 1,
        };
        self.counts.misdirected_writes += 1;
        Some(target)
    }

    /// Whether the block about to be read has rotted, with `corrupt_block_probability`
    /// while armed: the byte offset (below `block_size`) to flip and the bits to flip
    /// (never zero).
    fn rot(&mut self, block_size: usize) -> Option<(usize, u8)> {
        if !self.armed || !rng::chance(&mut self.rng, self.config.corrupt_block_probability) {
            return None;
        }
        let offset = rng::uniform(&mut self.rng, 0, block_size as u64 - 1) as usize;
        let mask = rng::uniform(&mut self.rng, 1, 255) as u8;
        Some((offset, mask))
    }

    fn fails(&mut self, write: bool) -> bool {
        if !self.armed {
            return false;
        }
        let p = match (self.backup, write) {
            (true, false) => self.config.backup_read_error_probability,
            (true, true) => 0.0,
            (false, true) => self.config.write_error_probability,
            (false, false) => self.config.read_error_probability,
        };
        let fail = rng::chance(&mut self.rng, p);
        if fail {
            if self.backup {
                self.counts.backup_read_errors += 1;
            } else if write {
                self.counts.write_errors += 1;
            } else {
                self.counts.read_errors += 1;
            }
        }
        fail
    }
}

/// True when an engine error is one the injector caused (a transient fault the
/// transaction handles), not a bug or a refused call.
pub(crate) fn injected(e: &engine::Error) -> bool {
    matches!(e, engine::Error::Store(StoreError::Injected { .. }))
}

/// True when an engine error is integrity mode's checksum mismatch.
pub(crate) fn integrity(e: &engine::Error) -> bool {
    matches!(e, engine::Error::Integrity { .. })
}

/// The simulated disk under one engine image: a [`SparseStore`], holding only the
/// blocks written (a 1 TiB volume costs the memory of the blocks the run touches),
/// every other block reading as its initial content. Without faults, the plain store
/// (the fault-free simulator, unchanged). With faults, the engine's crash-capable
/// [`CrashStore`] (a durable [`SparseStore`] plus a volatile cache of unflushed
/// writes, tearing at 8-byte sectors) and injected read and write errors.
pub struct SimStore {
    name: &'static str,
    disk: Disk,
    faults: Option<Faults>,
    /// The block the last read asked for (where the disk's head went): the copies
    /// tell from it whether an extent's reads are contiguous on the device.
    last_read: AtomicU64,
}

enum Disk {
    Plain(SparseStore),
    Crash(CrashStore<SparseStore>),
}

/// Bytes of the simulated disk's unit of atomicity, at which an unflushed write can
/// tear: the memory store's word.
pub const TEAR_BYTES: usize = engine::store::WORD_BYTES;

impl SimStore {
    /// `blocks` blocks of `block_size` bytes; a block never written reads as `initial`
    /// gives its leading bytes, the rest zeros (all zeros when `None`).
    pub(crate) fn new(
        name: &'static str,
        block_size: usize,
        blocks: u64,
        initial: Option<InitialPrefix>,
        faults: Option<Faults>,
    ) -> Result<Self, StoreError> {
        let platter = match initial {
            Some(f) => SparseStore::with_initial_prefix(block_size, blocks, f)?,
            None => SparseStore::new(block_size, blocks)?,
        };
        let disk = match faults {
            Some(_) => Disk::Crash(CrashStore::new(platter, TEAR_BYTES)),
            None => Disk::Plain(platter),
        };
        Ok(SimStore {
            name,
            disk,
            faults,
            last_read: AtomicU64::new(0),
        })
    }

    /// The physical block the last read of this image asked for (0 before any).
    pub(crate) fn last_read(&self) -> u64 {
        self.last_read.load(Ordering::Relaxed)
    }

    fn store(&self) -> &dyn BlockStore {
        match &self.disk {
            Disk::Plain(s) => s,
            Disk::Crash(s) => s,
        }
    }

    /// The plain store's written blocks walked a step at a time
    /// ([`SparseStore::written_blocks_walk`]: not ascending, each once, at most
    /// [`engine::store::WALK_BLOCKS_MAX`] a step, `out` empty when the walk is over);
    /// `None` with faults, as [`BlockStore::written_blocks`].
    pub(crate) fn written_blocks_walk(&self, at: &mut u64, out: &mut Vec<u64>) -> Option<()> {
        match &self.disk {
            Disk::Plain(s) => {
                s.written_blocks_walk(at, out);
                Some(())
            }
            Disk::Crash(_) => None,
        }
    }

    /// Whether the store can tell its written blocks (no faults: the plain store), as
    /// [`BlockStore::written_blocks`] and the walk above can.
    pub(crate) fn knows_written(&self) -> bool {
        matches!(self.disk, Disk::Plain(_))
    }

    /// Whether the plain store holds block `block` (it was written); `None` with
    /// faults, as [`BlockStore::written_blocks`].
    pub(crate) fn holds(&self, block: u64) -> Option<bool> {
        match &self.disk {
            Disk::Plain(s) => Some(s.holds(block)),
            Disk::Crash(_) => None,
        }
    }

    /// Flips `mask` into byte `offset` of `block` as it lies on the platter (the
    /// durable copy; a block with a write still in the disk's cache reads the cached
    /// bytes, so it is left alone). Returns whether the block rotted.
    fn rot(&self, block: u64, offset: usize, mask: u8) -> Result<bool, StoreError> {
        let platter: &dyn BlockStore = match &self.disk {
            Disk::Plain(s) => s,
            Disk::Crash(s) => {
                if s.pending().iter().any(|w| w.block == block) {
                    return Ok(false);
                }
                s.durable()
            }
        };
        let mut bytes = vec![0u8; platter.block_size()];
        platter.read_block(block, &mut bytes)?;
        bytes[offset] ^= mask;
        platter.write_block(block, &bytes)?;
        Ok(true)
    }
}

impl engine::PowerLoss for SimStore {
    /// Power loss: without faults nothing is volatile, so nothing is lost.
    fn lose_power(&self, fate: &mut dyn FnMut(&PendingWrite) -> Fate) -> Result<(), StoreError> {
        match &self.disk {
            Disk::Crash(disk) => disk.crash(fate),
            Disk::Plain(_) => Ok(()),
        }
    }
}

/// The fate of one unflushed write at a power loss: kept, lost or torn (each sector
/// of `sectors` old or new), drawn from the fault stream.
pub(crate) fn draw_fate(faults: &Faults, sectors: usize) -> Fate {
    let mut inj = lock(faults);
    let inj = &mut *inj;
    let (torn_p, lost_p) = (
        inj.config.torn_write_probability,
        inj.config.lost_write_probability,
    );
    let u: f64 = inj.rng.random();
    if u < lost_p {
        inj.counts.lost_writes += 1;
        Fate::Lost
    } else if u < lost_p + torn_p {
        let flags: Vec<bool> = (0..sectors).map(|_| inj.rng.random_bool(0.5)).collect();
        let mixed = flags.iter().any(|&f| f) && flags.iter().any(|&f| !f);
        inj.counts.torn_writes += u64::from(mixed);
        Fate::Torn(flags)
    } else {
        inj.counts.kept_writes += 1;
        Fate::Kept
    }
}

/// Power loss of the metadata journal: of its `len` unsynced bytes, a random prefix
/// survives (a cut inside a frame is a torn append).
pub(crate) fn draw_journal_keep(faults: &Faults, len: usize) -> usize {
    rng::uniform(&mut lock(faults).rng, 0, len as u64) as usize
}

impl BlockStore for SimStore {
    fn block_size(&self) -> usize {
        self.store().block_size()
    }
    fn block_count(&self) -> u64 {
        self.store().block_count()
    }
    fn name(&self) -> String {
        self.name.to_string()
    }
    fn read_block(&self, block: u64, buf: &mut [u8]) -> Result<(), StoreError> {
        self.before_read(block)?;
        self.store().read_block(block, buf)
    }
    fn read_block_prefix(&self, block: u64, out: &mut Vec<u8>) -> Result<(), StoreError> {
        self.before_read(block)?;
        self.store().read_block_prefix(block, out)
    }
    fn prefetch_block(&self, block: u64) {
        self.store().prefetch_block(block)
    }
    fn write_block(&self, block: u64, data: &[u8]) -> Result<(), StoreError> {
        let target = self.write_target(block)?;
        // A misdirected write is acknowledged like any other.
        self.store().write_block(target, data)
    }
    fn write_block_prefix(&self, block: u64, data: &[u8]) -> Result<(), StoreError> {
        let target = self.write_target(block)?;
        self.store().write_block_prefix(target, data)
    }
    /// The disk's own exclusive call (the plain store's takes no lock), after the same
    /// injected faults as the shared call.
    #[inline]
    fn read_block_prefix_mut(&mut self, block: u64, out: &mut Vec<u8>) -> Result<(), StoreError> {
        self.before_read(block)?;
        match &mut self.disk {
            Disk::Plain(s) => s.read_block_prefix_mut(block, out),
            Disk::Crash(s) => s.read_block_prefix_mut(block, out),
        }
    }
    /// As [`SimStore::read_block_prefix_mut`](BlockStore::read_block_prefix_mut).
    #[inline]
    fn write_block_prefix_mut(&mut self, block: u64, data: &[u8]) -> Result<(), StoreError> {
        let target = self.write_target(block)?;
        match &mut self.disk {
            Disk::Plain(s) => s.write_block_prefix_mut(target, data),
            Disk::Crash(s) => s.write_block_prefix_mut(target, data),
        }
    }
    fn flush(&self) -> Result<(), StoreError> {
        self.store().flush()
    }
    fn take_flush_times(&self, samples: bool) -> Option<engine::latency::LatencySummary> {
        self.store().take_flush_times(samples)
    }
    fn calls_are_brief(&self) -> bool {
        self.store().calls_are_brief()
    }
    /// The plain store's written blocks; `None` with faults (a crash-capable disk's
    /// cache and its rotted blocks are not tracked: every block may differ).
    fn written_blocks(&self) -> Option<Vec<u64>> {
        match &self.disk {
            Disk::Plain(s) => s.written_blocks(),
            Disk::Crash(_) => None,
        }
    }
}

impl SimStore {
    /// Before a read of `block`: noted as the last read, then an injected read error,
    /// or a block rotting. Without faults (the fault-free run) nothing more: one test
    /// of `faults`, inlined into the calls, the injector's work kept apart.
    #[inline(always)]
    fn before_read(&self, block: u64) -> Result<(), StoreError> {
        self.last_read.store(block, Ordering::Relaxed);
        match &self.faults {
            None => Ok(()),
            Some(f) => self.before_read_injected(f, block),
        }
    }

    /// [`SimStore::before_read`] with an injector.
    #[cold]
    #[inline(never)]
    fn before_read_injected(&self, f: &Faults, block: u64) -> Result<(), StoreError> {
        let mut inj = lock(f);
        if inj.fails(false) {
            return Err(StoreError::Injected {
                store: self.name(),
                op: "read",
                block,
            });
        }
        if block < self.block_count() {
            if let Some((offset, mask)) = inj.rot(self.block_size()) {
                if self.rot(block, offset, mask)? {
                    inj.counts.corrupted_blocks += 1;
                }
            }
        }
        Ok(())
    }

    /// Before a write of `block`: an injected write error, or the block the write
    /// lands on (another one when misdirected). Without faults `block` itself, as
    /// [`SimStore::before_read`] decides.
    #[inline(always)]
    fn write_target(&self, block: u64) -> Result<u64, StoreError> {
        match &self.faults {
            None => Ok(block),
            Some(f) => self.write_target_injected(f, block),
        }
    }

    /// [`SimStore::write_target`] with an injector.
    #[cold]
    #[inline(never)]
    fn write_target_injected(&self, f: &Faults, block: u64) -> Result<u64, StoreError> {
        let mut inj = lock(f);
        if inj.fails(true) {
            return Err(StoreError::Injected {
                store: self.name(),
                op: "write",
                block,
            });
        }
        if block < self.block_count() {
            return Ok(inj.misdirect(block, self.block_count()).unwrap_or(block));
        }
        Ok(block)
    }
}

impl std::fmt::Debug for SimStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimStore")
            .field("name", &self.name)
            .field("faults", &self.faults.is_some())
            .finish()
    }
}
