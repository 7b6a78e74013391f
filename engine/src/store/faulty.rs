//! A store wrapper that fails on command, for tests of the device's error paths and
//! for the simulator's fault injection.

use std::sync::atomic::{AtomicU64, Ordering};

use super::{BlockStore, StoreError};

/// Which operation an injected fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    Read,
    Write,
    Flush,
}

/// Wraps a store; after a programmed number of successful operations of a kind, the
/// next ones of that kind fail with [`StoreError::Injected`] (until [`FaultyStore::heal`]).
/// A leading-bytes read or write is one operation of its kind, like a whole-block one;
/// every other method answers as the inner store's.
///
/// The countdowns are plain atomics, not the sync facade's: they are test plumbing,
/// not part of the protocol under check.
#[derive(Debug)]
pub struct FaultyStore<S> {
    inner: S,
    reads_left: AtomicU64,
    writes_left: AtomicU64,
    flushes_left: AtomicU64,
}

const NEVER: u64 = u64::MAX;

impl<S: BlockStore> FaultyStore<S> {
    /// A wrapper that injects nothing until told to.
    pub fn new(inner: S) -> Self {
        FaultyStore {
            inner,
            reads_left: AtomicU64::new(NEVER),
            writes_left: AtomicU64::new(NEVER),
            flushes_left: AtomicU64::new(NEVER),
        }
    }

    /// Lets `ok` more operations of `kind` succeed, then fails every later one.
    pub fn fail_after(&self, kind: FaultKind, ok: u64) {
        self.counter(kind).store(ok, Ordering::SeqCst);
    }

    /// Stops injecting faults.
    pub fn heal(&self) {
        for kind in [FaultKind::Read, FaultKind::Write, FaultKind::Flush] {
            self.counter(kind).store(NEVER, Ordering::SeqCst);
        }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Unwraps the store.
    pub fn into_inner(self) -> S {
        self.inner
    }

    fn counter(&self, kind: FaultKind) -> &AtomicU64 {
        match kind {
            FaultKind::Read => &self.reads_left,
            FaultKind::Write => &self.writes_left,
            FaultKind::Flush => &self.flushes_left,
        }
    }

    /// Consumes one permit of `kind`; `false` means this operation must fail.
    fn permit(&self, kind: FaultKind) -> bool {
        let c = self.counter(kind);
        let mut left = c.load(Ordering::SeqCst);
        loop {
            if left == NEVER {
                return true;
            }
            if left == 0 {
                return false;
            }
            match c.compare_exchange(left, left - 1, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => return true,
                Err(now) => left = now,
            }
        }
    }

    fn injected(&self, op: &'static str, block: u64) -> StoreError {
        StoreError::Injected {
            store: self.inner.name(),
            op,
            block,
        }
    }
}

impl<S: BlockStore> BlockStore for FaultyStore<S> {
    fn block_size(&self) -> usize {
        self.inner.block_size()
    }
    fn block_count(&self) -> u64 {
        self.inner.block_count()
    }
    fn name(&self) -> String {
        self.inner.name()
    }
    fn read_block(&self, block: u64, buf: &mut [u8]) -> Result<(), StoreError> {
        if !self.permit(FaultKind::Read) {
            return Err(self.injected("read", block));
        }
        self.inner.read_block(block, buf)
    }
    fn write_block(&self, block: u64, data: &[u8]) -> Result<(), StoreError> {
        if !self.permit(FaultKind::Write) {
            return Err(self.injected("write", block));
        }
        self.inner.write_block(block, data)
    }
    fn read_block_prefix(&self, block: u64, out: &mut Vec<u8>) -> Result<(), StoreError> {
        if !self.permit(FaultKind::Read) {
            return Err(self.injected("read", block));
        }
        self.inner.read_block_prefix(block, out)
    }
    fn write_block_prefix(&self, block: u64, data: &[u8]) -> Result<(), StoreError> {
        if !self.permit(FaultKind::Write) {
            return Err(self.injected("write", block));
        }
        self.inner.write_block_prefix(block, data)
    }
    fn read_block_prefix_mut(&mut self, block: u64, out: &mut Vec<u8>) -> Result<(), StoreError> {
        if !self.permit(FaultKind::Read) {
            return Err(self.injected("read", block));
        }
        self.inner.read_block_prefix_mut(block, out)
    }
    fn write_block_prefix_mut(&mut self, block: u64, data: &[u8]) -> Result<(), StoreError> {
        if !self.permit(FaultKind::Write) {
            return Err(self.injected("write", block));
        }
        self.inner.write_block_prefix_mut(block, data)
    }
    /// A hint, no operation: passed on, never failed.
    fn prefetch_block(&self, block: u64) {
        self.inner.prefetch_block(block)
    }
    fn flush(&self) -> Result<(), StoreError> {
        if !self.permit(FaultKind::Flush) {
            return Err(self.injected("flush", 0));
        }
        self.inner.flush()
    }
    fn take_flush_times(&self, samples: bool) -> Option<crate::latency::LatencySummary> {
        self.inner.take_flush_times(samples)
    }
    fn calls_are_brief(&self) -> bool {
        self.inner.calls_are_brief()
    }
    /// The inner store's: an injected fault writes nothing.
    fn written_blocks(&self) -> Option<Vec<u64>> {
        self.inner.written_blocks()
    }
}
