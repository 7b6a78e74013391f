//! The sparse in-memory store: only the blocks ever written are held in memory; every
//! other block reads as its *initial content*, a pure function of the block number.
//!
//! A volume of 1 TiB of 4 KiB blocks is 268 million blocks; a run that writes 10^5 of
//! them holds 10^5 blocks, not the terabyte. Each written block is held compactly
//! ([`CompactBlock`]): its bytes up to the last non-zero byte, inside its hash table
//! entry when they fit [`INLINE_BYTES`] bytes, so a block the simulator writes (a
//! 16-byte record, the rest zeros) costs its table entry (32 bytes, at most twice that
//! at the table's lowest load) and a full block its 4 KiB besides. The initial content is an [`InitialContent`]
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

use super::compact_block::{CompactBlock, INLINE_BYTES};
use super::{check_access, BlockStore, StoreError};
use crate::sync::{lock_brief, BriefMutex};

/// The content of a block never written: fills `buf` (one block) for block `block`.
/// It must be a pure function of `block` (same block, same bytes, every call), so
/// the store reads the same content each time and a reference can recompute it.
pub type InitialContent = Arc<dyn Fn(u64, &mut [u8]) + Send + Sync>;

/// Bytes a held block's hash table entry costs: its key and [`CompactBlock`] (32
/// bytes) and control byte, at the table's load, which lies between 7/16 and 7/8 as it
/// doubles: 38-75 bytes. An upper-bound-minded estimate for callers sizing a run; a
/// block whose content is longer than [`INLINE_BYTES`] adds
/// [`SparseStore::held_block_bytes`]'s heap part. [`SparseStore::bytes_held`] measures.
pub const HELD_BLOCK_OVERHEAD_BYTES: u64 = 64;

/// Bytes of the store's table per bucket: a key, a [`CompactBlock`] and a control byte.
const BUCKET_BYTES: u64 = (std::mem::size_of::<(u64, CompactBlock)>() + 1) as u64;

/// The held blocks and the bytes their longer contents allocate.
#[derive(Default)]
struct Held {
    blocks: FxHashMap<u64, CompactBlock>,
    heap_bytes: u64,
}

/// A block store that holds only the blocks written to it (see the module doc).
pub struct SparseStore {
    block_size: usize,
    block_count: u64,
    initial: Option<InitialContent>,
    held: BriefMutex<Held>,
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
            held: BriefMutex::new(Held::default()),
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
        lock_brief(&self.held).blocks.len() as u64
    }

    /// Bytes held: the hash table's buckets (its capacity, not only the blocks in it)
    /// and the allocations of contents longer than [`INLINE_BYTES`] bytes with the
    /// allocator's estimated header each.
    pub fn bytes_held(&self) -> u64 {
        let held = lock_brief(&self.held);
        let capacity = held.blocks.capacity() as u64;
        // The table keeps a load of at most 7/8, in a power of two of buckets.
        let buckets = if capacity == 0 {
            0
        } else {
            (capacity * 8 / 7).next_power_of_two()
        };
        buckets * BUCKET_BYTES + held.heap_bytes
    }

    /// Estimated bytes a held block costs whose content (up to its last non-zero
    /// byte) is `content_bytes` long: [`HELD_BLOCK_OVERHEAD_BYTES`], plus the content
    /// and an allocation header when longer than [`INLINE_BYTES`].
    pub fn held_block_bytes(content_bytes: u64) -> u64 {
        if content_bytes <= INLINE_BYTES as u64 {
            HELD_BLOCK_OVERHEAD_BYTES
        } else {
            HELD_BLOCK_OVERHEAD_BYTES
                + content_bytes
                + super::compact_block::ALLOCATION_OVERHEAD_BYTES
        }
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
        match held.blocks.get(&block) {
            Some(data) => data.read(buf),
            None => {
                drop(held);
                self.initial_block(block, buf);
            }
        }
        Ok(())
    }
    fn write_block(&self, block: u64, data: &[u8]) -> Result<(), StoreError> {
        check_access(self, block, data.len())?;
        let mut guard = lock_brief(&self.held);
        let held = &mut *guard;
        match held.blocks.get_mut(&block) {
            Some(old) => {
                held.heap_bytes -= old.heap_bytes();
                old.set(data);
                held.heap_bytes += old.heap_bytes();
            }
            None => {
                let new = CompactBlock::new(data);
                held.heap_bytes += new.heap_bytes();
                held.blocks.insert(block, new);
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
        let mut blocks: Vec<u64> = lock_brief(&self.held).blocks.keys().copied().collect();
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
