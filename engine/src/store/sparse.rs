//! The sparse in-memory store: only the blocks ever written are held in memory; every
//! other block reads as its *initial content*, a pure function of the block number.
//!
//! A volume of 1 TiB of 4 KiB blocks is 268 million blocks; a run that writes 10^5 of
//! them holds 10^5 blocks (about 4.2 KiB each: the bytes, their allocation and a hash
//! table entry), not the terabyte. The initial content is an [`InitialContent`]
//! function the caller gives (default: zero-filled, as [`MemStore::new`](super::MemStore)
//! and a fresh image file are), so whoever built the store still knows the content of
//! every block it never wrote: the simulator's oracle uses that to judge reads of
//! untouched blocks.
//!
//! Every block read or write takes the store's one lock, so a block never tears
//! (stronger than [`MemStore`](super::MemStore)'s per-word atomicity, which the
//! device's group-1 locks make irrelevant anyway). The lock is held for a hash probe
//! and one block copy, so it spins (the engine's brief-section lock: its release is a
//! plain store) rather than parking.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::{check_access, BlockStore, StoreError};
use crate::sync::{lock_brief, BriefMutex};

/// The content of a block never written: fills `buf` (one block) for block `block`.
/// It must be a pure function of `block` (same block, same bytes, every call), so
/// the store reads the same content each time and a reference can recompute it.
pub type InitialContent = Arc<dyn Fn(u64, &mut [u8]) + Send + Sync>;

/// Bytes a held block costs beyond its `block_size` bytes: the hash table entry (key,
/// pointer, length, control byte, at a load of 7/8) and the allocator's header. An
/// estimate, for [`SparseStore::bytes_held`] and for callers sizing a run.
pub const HELD_BLOCK_OVERHEAD_BYTES: u64 = 48;

/// A block store that holds only the blocks written to it (see the module doc).
pub struct SparseStore {
    block_size: usize,
    block_count: u64,
    initial: Option<InitialContent>,
    held: BriefMutex<FxHashMap<u64, Box<[u8]>>>,
}

impl SparseStore {
    /// A store of `block_count` blocks of `block_size` bytes (a positive multiple of
    /// 8) whose unwritten blocks read as zeros. Holds nothing until written.
    /// Errors: [`StoreError::Geometry`] for a bad block size.
    pub fn new(block_size: usize, block_count: u64) -> Result<Self, StoreError> {
        super::check_block_size("memory", block_size)?;
        Ok(SparseStore {
            block_size,
            block_count,
            initial: None,
            held: BriefMutex::new(FxHashMap::default()),
        })
    }

    /// As [`SparseStore::new`], with unwritten blocks reading as `initial` gives them.
    pub fn with_initial(
        block_size: usize,
        block_count: u64,
        initial: InitialContent,
    ) -> Result<Self, StoreError> {
        let mut store = SparseStore::new(block_size, block_count)?;
        store.initial = Some(initial);
        Ok(store)
    }

    /// Fills `buf` (one block) with block `block`'s initial content.
    pub fn initial_block(&self, block: u64, buf: &mut [u8]) {
        match &self.initial {
            Some(f) => f(block, buf),
            None => buf.fill(0),
        }
    }

    /// Blocks held in memory (those written at least once).
    pub fn blocks_held(&self) -> u64 {
        lock_brief(&self.held).len() as u64
    }

    /// Estimated bytes held: per held block its bytes plus
    /// [`HELD_BLOCK_OVERHEAD_BYTES`].
    pub fn bytes_held(&self) -> u64 {
        self.blocks_held() * (self.block_size as u64 + HELD_BLOCK_OVERHEAD_BYTES)
    }
}

impl BlockStore for SparseStore {
    fn block_size(&self) -> usize {
        self.block_size
    }
    fn block_count(&self) -> u64 {
        self.block_count
    }
    fn name(&self) -> String {
        "memory".into()
    }
    fn read_block(&self, block: u64, buf: &mut [u8]) -> Result<(), StoreError> {
        check_access(self, block, buf.len())?;
        let held = lock_brief(&self.held);
        match held.get(&block) {
            Some(data) => buf.copy_from_slice(data),
            None => {
                drop(held);
                self.initial_block(block, buf);
            }
        }
        Ok(())
    }
    fn write_block(&self, block: u64, data: &[u8]) -> Result<(), StoreError> {
        check_access(self, block, data.len())?;
        let mut held = lock_brief(&self.held);
        match held.get_mut(&block) {
            Some(old) => old.copy_from_slice(data),
            None => {
                held.insert(block, data.into());
            }
        }
        Ok(())
    }
    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
    fn calls_are_brief(&self) -> bool {
        true
    }
    /// Every block held (written at least once), ascending.
    fn written_blocks(&self) -> Option<Vec<u64>> {
        let mut blocks: Vec<u64> = lock_brief(&self.held).keys().copied().collect();
        blocks.sort_unstable();
        Some(blocks)
    }
}

impl std::fmt::Debug for SparseStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SparseStore({}x{}B, {} held)",
            self.block_count,
            self.block_size,
            self.blocks_held()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwritten_blocks_read_their_initial_content_and_hold_nothing() {
        let s =
            SparseStore::with_initial(16, 1 << 40, Arc::new(|b, buf: &mut [u8]| buf.fill(b as u8)))
                .unwrap();
        let mut buf = [0u8; 16];
        s.read_block((1 << 40) - 1, &mut buf).unwrap();
        assert_eq!(buf, [0xff; 16]);
        assert_eq!(s.blocks_held(), 0);
        s.write_block(3, &[9; 16]).unwrap();
        s.read_block(3, &mut buf).unwrap();
        assert_eq!(buf, [9; 16]);
        assert_eq!(s.blocks_held(), 1);
        assert!(matches!(
            s.read_block(1 << 40, &mut buf),
            Err(StoreError::OutOfRange { .. })
        ));
    }
}
