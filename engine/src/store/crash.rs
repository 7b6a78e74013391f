//! A simulated disk that can lose power: a durable image plus a volatile cache of the
//! writes not yet flushed, for crash tests and the simulator's fault injection.
//!
//! The durability model (ARCHITECTURE.md, "Durability model"):
//! - a write that completed before the last successful [`BlockStore::flush`] survives;
//! - a write not yet flushed may survive or be lost, each one independently (a disk
//!   cache writes back in any order), as the caller decides at [`CrashStore::crash`];
//! - the write in flight when the power failed (the operation a [`CrashSwitch`] stopped)
//!   may also be *torn*: some of its sectors new, the others old. A sector is
//!   [`SECTOR_BYTES`] for a file image; an in-memory image may use
//!   [`super::WORD_BYTES`] (the memory store's unit of atomicity).
//!
//! Nothing here draws a random number: which writes survive is the caller's choice (a
//! closure, usually fed by the caller's seeded generator), so a run is reproducible.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::{check_access, check_prefix, BlockStore, StoreError, PREFIX_READ};
use crate::block_buffer::{copied, room, room_for_one};

/// What a write's copy in the cache allocates for ([`StoreError::OutOfMemory`]).
const CACHE: &str = "hold an unflushed write";
/// What a torn write's merged block allocates for.
const TEAR: &str = "tear a write at the power loss";

/// A disk sector: the unit a file image's block write can tear at (the only meaning of
/// "sector" in the engine; an in-memory image tears at [`super::WORD_BYTES`]).
pub const SECTOR_BYTES: usize = 512;

/// Unflushed writes a [`CrashStore`] holds before it writes the oldest back by itself,
/// as a disk cache does when it fills (the written-back write becomes durable).
pub const PENDING_WRITES_MAX: usize = 1 << 12;

/// A countdown of physical operations shared by the stores and the journal of one
/// simulated machine: the first `ops_ok` operations succeed, the next one is *in
/// flight* when the power fails (it fails, and a block write may land torn), and every
/// later one fails, as on a dead machine. Counts writes, flushes, journal appends,
/// syncs and compactions, not reads (a read changes nothing a crash could expose).
#[derive(Debug, Clone)]
pub struct CrashSwitch {
    done: Arc<AtomicU64>,
    ops_ok: u64,
}

/// The power as one operation finds it: what a [`CrashSwitch`] lets it do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Power {
    /// Performed normally.
    On,
    /// The operation the power failed during: not completed, may be partly done.
    Failing,
    /// The machine is down: nothing is done.
    Off,
}

impl CrashSwitch {
    /// A switch that never trips, only counts (to learn a workload's operation count).
    pub fn never() -> Self {
        Self::after(u64::MAX)
    }

    /// Trips at operation number `ops_ok` (0-based): that one is in flight.
    pub fn after(ops_ok: u64) -> Self {
        CrashSwitch {
            done: Arc::new(AtomicU64::new(0)),
            ops_ok,
        }
    }

    /// Operations counted so far (including the in-flight and refused ones).
    pub fn ops(&self) -> u64 {
        self.done.load(Ordering::SeqCst)
    }

    /// Whether the switch has tripped.
    pub fn tripped(&self) -> bool {
        self.ops() > self.ops_ok
    }

    /// Counts one operation and says what the power lets it do.
    pub fn next_op(&self) -> Power {
        let n = self.done.fetch_add(1, Ordering::SeqCst);
        match n.cmp(&self.ops_ok) {
            std::cmp::Ordering::Less => Power::On,
            std::cmp::Ordering::Equal => Power::Failing,
            std::cmp::Ordering::Greater => Power::Off,
        }
    }
}

/// One unflushed write, as [`CrashStore::crash`] shows it to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingWrite {
    pub block: u64,
    pub data: Vec<u8>,
    /// The write the power failed during (it was never completed).
    pub in_flight: bool,
}

/// What becomes of one unflushed write at a crash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// Never reached the medium.
    Lost,
    /// Reached the medium whole.
    Kept,
    /// Torn: sector `i` is new where `sectors[i]` is true, old elsewhere (the vector
    /// has one flag per sector of the block).
    Torn(Vec<bool>),
}

/// A store that can lose power: what [`crate::Device::power_cycle`] needs of each
/// image. [`CrashStore`] implements it; a simulated disk wrapping a `CrashStore` (with
/// its own injected errors) implements it by delegating, so there is one power cycle.
pub trait PowerLoss: BlockStore {
    /// The power fails: each unflushed write, oldest first, meets the fate `fate`
    /// gives it ([`CrashStore::crash`]); the store then holds only what survived.
    fn lose_power(&self, fate: &mut dyn FnMut(&PendingWrite) -> Fate) -> Result<(), StoreError>;
}

impl<S: BlockStore> PowerLoss for CrashStore<S> {
    fn lose_power(&self, fate: &mut dyn FnMut(&PendingWrite) -> Fate) -> Result<(), StoreError> {
        self.crash(fate)
    }
}

#[derive(Debug, Default)]
struct Volatile {
    pending: Vec<PendingWrite>,
    switch: Option<CrashSwitch>,
}

/// A store whose writes stay volatile until flushed; see the module doc.
#[derive(Debug)]
pub struct CrashStore<S> {
    durable: S,
    sector_bytes: usize,
    volatile: Mutex<Volatile>,
}

fn crashed(store: String, op: &'static str, block: u64) -> StoreError {
    StoreError::Injected { store, op, block }
}

impl<S: BlockStore> CrashStore<S> {
    /// Wraps `durable`, whose contents are what survives; writes tear at
    /// `sector_bytes` (which must divide the block size).
    pub fn new(durable: S, sector_bytes: usize) -> Self {
        assert!(
            sector_bytes > 0 && durable.block_size().is_multiple_of(sector_bytes),
            "sector size must divide the block size"
        );
        CrashStore {
            durable,
            sector_bytes,
            volatile: Mutex::new(Volatile::default()),
        }
    }

    /// Arms (or, with `None`, disarms) a crash switch shared with other stores.
    pub fn set_switch(&self, switch: Option<CrashSwitch>) {
        self.lock().switch = switch;
    }

    /// Sectors per block: the length of a [`Fate::Torn`] vector.
    pub fn sectors_per_block(&self) -> usize {
        self.durable.block_size() / self.sector_bytes
    }

    /// The writes not yet durable, oldest first.
    pub fn pending(&self) -> Vec<PendingWrite> {
        self.lock().pending.clone()
    }

    /// The power fails: each unflushed write (oldest first) meets the fate `fate`
    /// gives it; the survivors reach the durable image, the rest vanish. The store
    /// then works again, disarmed, holding only durable data (a restarted machine).
    pub fn crash(&self, mut fate: impl FnMut(&PendingWrite) -> Fate) -> Result<(), StoreError> {
        let pending = {
            let mut v = self.lock();
            v.switch = None;
            std::mem::take(&mut v.pending)
        };
        for w in &pending {
            match fate(w) {
                Fate::Lost => {}
                Fate::Kept => self.durable.write_block(w.block, &w.data)?,
                Fate::Torn(sectors) => {
                    assert_eq!(
                        sectors.len(),
                        self.sectors_per_block(),
                        "one flag per sector"
                    );
                    let mut merged = crate::block_buffer::zeroed(w.data.len())
                        .map_err(|r| r.in_store(self.name(), w.block, TEAR))?;
                    self.durable.read_block(w.block, &mut merged)?;
                    let chunks = merged.chunks_exact_mut(self.sector_bytes);
                    for ((old, new), keep) in chunks
                        .zip(w.data.chunks_exact(self.sector_bytes))
                        .zip(&sectors)
                    {
                        if *keep {
                            old.copy_from_slice(new);
                        }
                    }
                    self.durable.write_block(w.block, &merged)?;
                }
            }
        }
        self.durable.flush()
    }

    /// A crash that loses every unflushed write.
    pub fn crash_losing_all(&self) -> Result<(), StoreError> {
        self.crash(|_| Fate::Lost)
    }

    /// The durable image (what a crash now would leave, pending writes aside).
    pub fn durable(&self) -> &S {
        &self.durable
    }

    /// Unwraps the durable image, dropping pending writes (call [`CrashStore::crash`]
    /// or [`BlockStore::flush`] first to decide their fate).
    pub fn into_durable(self) -> S {
        self.durable
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Volatile> {
        self.volatile.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The newest completed unflushed write of `block`, if any; an error after the
    /// power failed (a dead machine reads nothing).
    fn cached<'v>(
        &self,
        v: &'v Volatile,
        block: u64,
    ) -> Result<Option<&'v PendingWrite>, StoreError> {
        if v.switch.as_ref().is_some_and(CrashSwitch::tripped) {
            return Err(crashed(self.name(), "read after power loss", block));
        }
        Ok(v.pending
            .iter()
            .rev()
            .find(|w| w.block == block && !w.in_flight))
    }

    fn power(v: &Volatile) -> Power {
        v.switch.as_ref().map_or(Power::On, CrashSwitch::next_op)
    }
}

impl<S: BlockStore> BlockStore for CrashStore<S> {
    fn block_size(&self) -> usize {
        self.durable.block_size()
    }
    fn block_count(&self) -> u64 {
        self.durable.block_count()
    }
    fn name(&self) -> String {
        self.durable.name()
    }
    fn read_block(&self, block: u64, buf: &mut [u8]) -> Result<(), StoreError> {
        check_access(self, block, buf.len())?;
        let v = self.lock();
        match self.cached(&v, block)? {
            Some(w) => buf.copy_from_slice(&w.data),
            None => self.durable.read_block(block, buf)?,
        }
        Ok(())
    }
    /// A block in the cache is copied whole; any other is the durable store's
    /// leading bytes.
    fn read_block_prefix(&self, block: u64, out: &mut Vec<u8>) -> Result<(), StoreError> {
        check_prefix(self, block, 0)?;
        let v = self.lock();
        match self.cached(&v, block)? {
            Some(w) => {
                out.clear();
                room(out, w.data.len()).map_err(|r| r.in_store(self.name(), block, PREFIX_READ))?;
                out.extend_from_slice(&w.data);
            }
            None => self.durable.read_block_prefix(block, out)?,
        }
        Ok(())
    }
    /// The write is held in the cache as a copy of its own, in the list of unflushed
    /// writes, both asked for before anything changes ([`StoreError::OutOfMemory`]:
    /// nothing cached, nothing written back, the operation not counted by a crash
    /// switch). A full cache writes its oldest back and reuses its place.
    fn write_block(&self, block: u64, data: &[u8]) -> Result<(), StoreError> {
        check_access(self, block, data.len())?;
        let data = copied(data).map_err(|r| r.in_store(self.name(), block, CACHE))?;
        let mut v = self.lock();
        if v.pending.len() < PENDING_WRITES_MAX {
            room_for_one(&mut v.pending).map_err(|r| r.in_store(self.name(), block, CACHE))?;
        }
        let in_flight = match Self::power(&v) {
            Power::On => false,
            Power::Failing => true,
            Power::Off => return Err(crashed(self.name(), "write after power loss", block)),
        };
        if v.pending.len() >= PENDING_WRITES_MAX {
            let oldest = v.pending.remove(0);
            self.durable.write_block(oldest.block, &oldest.data)?;
        }
        v.pending.push(PendingWrite {
            block,
            data,
            in_flight,
        });
        if in_flight {
            return Err(crashed(self.name(), "write cut by power loss", block));
        }
        Ok(())
    }
    fn flush(&self) -> Result<(), StoreError> {
        let mut v = self.lock();
        if Self::power(&v) != Power::On {
            return Err(crashed(self.name(), "flush cut by power loss", 0));
        }
        for w in std::mem::take(&mut v.pending) {
            self.durable.write_block(w.block, &w.data)?;
        }
        self.durable.flush()
    }
    /// As the shared call, the durable store's exclusive call for an uncached block.
    /// (A write goes to the cache: the shared call, the default.)
    fn read_block_prefix_mut(&mut self, block: u64, out: &mut Vec<u8>) -> Result<(), StoreError> {
        check_prefix(self, block, 0)?;
        let v = self.volatile.get_mut().unwrap_or_else(|e| e.into_inner());
        if v.switch.as_ref().is_some_and(CrashSwitch::tripped) {
            return Err(crashed(self.durable.name(), "read after power loss", block));
        }
        match v
            .pending
            .iter()
            .rev()
            .find(|w| w.block == block && !w.in_flight)
        {
            Some(w) => {
                out.clear();
                room(out, w.data.len())
                    .map_err(|r| r.in_store(self.durable.name(), block, PREFIX_READ))?;
                out.extend_from_slice(&w.data);
                Ok(())
            }
            None => self.durable.read_block_prefix_mut(block, out),
        }
    }
    /// The durable store's hint (a cached block is read from the cache, but the hint
    /// costs nothing either way).
    fn prefetch_block(&self, block: u64) {
        self.durable.prefetch_block(block)
    }
    /// The durable store's flushes (every flush here ends in one).
    fn take_flush_times(&self, samples: bool) -> Option<crate::latency::LatencySummary> {
        self.durable.take_flush_times(samples)
    }
    fn calls_are_brief(&self) -> bool {
        self.durable.calls_are_brief()
    }
    /// The durable store's written blocks and those of every unflushed write (the
    /// in-flight one included: a crash may keep it), ascending; `None` when the durable
    /// store does not know its own.
    fn written_blocks(&self) -> Option<Vec<u64>> {
        let v = self.lock();
        let mut blocks = self.durable.written_blocks()?;
        blocks.extend(v.pending.iter().map(|w| w.block));
        blocks.sort_unstable();
        blocks.dedup();
        Some(blocks)
    }
}
