//! The sparse in-memory store: only the blocks ever written are held in memory; every
//! other block reads as its *initial content*, a pure function of the block number.
//!
//! A volume of 1 TiB of 4 KiB blocks is 268 million blocks; a run that writes 10^5 of
//! them holds 10^5 blocks, not the terabyte. Each written block is held compactly in
//! a 16-byte slot of the store's table (`block_table.rs`): its bytes up to the last
//! non-zero byte, inside the slot when they fit [`INLINE_BYTES`] bytes, so a block the
//! simulator writes (a 16-byte record whose stamp's high bytes are zero, the rest of
//! the block zeros) costs 18-23 bytes, and a longer block its exact bytes besides. The
//! initial content is an [`InitialContent`] function the caller gives (default:
//! zero-filled, as [`MemStore::new`](super::MemStore) and a fresh image file are), so
//! whoever built the store still knows the content of every block it never wrote: the
//! simulator's oracle uses that to judge reads of untouched blocks.
//!
//! Every block read or write takes the store's one lock, so a block never tears
//! (stronger than [`MemStore`](super::MemStore)'s per-word atomicity, which the
//! device's group-1 locks make irrelevant anyway). The lock is held for a table probe
//! and one block copy, so it spins (the engine's brief-section lock: its release is a
//! plain store) rather than parking.

use std::sync::Arc;

#[cfg(any(doc, test))]
use super::block_table::WALK_BLOCKS_MAX;
use super::block_table::{
    BlockTable, Hints, ALLOCATION_OVERHEAD_BYTES, BLOCKS_MAX, INLINE_BYTES, LOAD_MIN, SLOT_BYTES,
};
use super::{check_access, check_prefix, BlockStore, StoreError, PREFIX_READ};
use crate::block_buffer::{room, Refused};
use crate::sync::{brief_get_mut, lock_brief, BriefMutex};

/// What a write of a block whose content is longer than a slot's allocates for
/// ([`StoreError::OutOfMemory`]).
const HOLD: &str = "hold a written block";

/// The content of a block never written: fills `buf` (one block) for block `block`.
/// It must be a pure function of `block` (same block, same bytes, every call), so
/// the store reads the same content each time and a reference can recompute it.
pub type InitialContent = Arc<dyn Fn(u64, &mut [u8]) + Send + Sync>;

/// The content of a block never written, as its leading bytes: appends to `out`
/// (empty when called) block `block`'s bytes up to some length of at most one block,
/// every byte after them being zero. A pure function of `block`, as
/// [`InitialContent`]; cheaper when a block is mostly zeros (a simulator's record
/// block: 16 bytes of 4 KiB), since a read through
/// [`BlockStore::read_block_prefix`] then moves only those bytes.
pub type InitialPrefix = Arc<dyn Fn(u64, &mut Vec<u8>) + Send + Sync>;

/// How a store computes a block never written.
#[derive(Clone)]
enum Initial {
    Zeros,
    Whole(InitialContent),
    Prefix(InitialPrefix),
}

/// Bytes a held block costs whose content fits its slot ([`INLINE_BYTES`]): a 16-byte
/// slot at the table's load, which lies between 0.7 and 0.875 as its parts grow by a
/// quarter (18.3-22.9 bytes), rounded up. An upper-bound-minded estimate for callers
/// sizing a run; a block whose content is longer adds
/// [`SparseStore::held_block_bytes`]'s heap part. [`SparseStore::bytes_held`] measures.
pub const HELD_BLOCK_OVERHEAD_BYTES: u64 = (SLOT_BYTES as f64 / LOAD_MIN) as u64 + 1;

/// Bytes of the heap index per block held on the heap (a boxed slice's pointer and length).
const HEAP_INDEX_BYTES: u64 = 16;

/// A block store that holds only the blocks written to it (see the module doc).
pub struct SparseStore {
    block_size: usize,
    block_count: u64,
    initial: Initial,
    held: BriefMutex<BlockTable>,
    /// Where `held`'s parts are, read without its lock by [`BlockStore::prefetch_block`].
    hints: Hints,
}

impl SparseStore {
    /// A store of `block_count` blocks of `block_size` bytes (a positive multiple of
    /// 8) whose unwritten blocks read as zeros. Holds nothing until written.
    /// Errors: [`StoreError::Geometry`] for a bad block size or more than
    /// [`BLOCKS_MAX`] blocks.
    pub fn new(block_size: usize, block_count: u64) -> Result<Self, StoreError> {
        super::check_block_size("memory", block_size)?;
        if block_count > BLOCKS_MAX {
            return Err(StoreError::Geometry {
                store: "memory".into(),
                reason: format!("{block_count} blocks, more than a sparse store's {BLOCKS_MAX}"),
            });
        }
        let table = BlockTable::new(block_count);
        Ok(SparseStore {
            block_size,
            block_count,
            initial: Initial::Zeros,
            hints: table.hints(),
            held: BriefMutex::new(table),
        })
    }

    /// As [`SparseStore::new`], with unwritten blocks reading as `initial` gives them.
    pub fn with_initial(
        block_size: usize,
        block_count: u64,
        initial: InitialContent,
    ) -> Result<Self, StoreError> {
        let mut store = SparseStore::new(block_size, block_count)?;
        store.initial = Initial::Whole(initial);
        Ok(store)
    }

    /// As [`SparseStore::new`], with unwritten blocks reading as `initial` gives their
    /// leading bytes (the rest zeros).
    pub fn with_initial_prefix(
        block_size: usize,
        block_count: u64,
        initial: InitialPrefix,
    ) -> Result<Self, StoreError> {
        let mut store = SparseStore::new(block_size, block_count)?;
        store.initial = Initial::Prefix(initial);
        Ok(store)
    }

    /// Fills `buf` (one block) with block `block`'s initial content.
    pub fn initial_block(&self, block: u64, buf: &mut [u8]) {
        match &self.initial {
            Initial::Whole(f) => f(block, buf),
            Initial::Zeros => buf.fill(0),
            Initial::Prefix(f) => {
                let mut out = Vec::new();
                f(block, &mut out);
                let n = out.len().min(buf.len());
                buf[..n].copy_from_slice(&out[..n]);
                buf[n..].fill(0);
            }
        }
    }

    /// Block `block`'s initial content as leading bytes (`out` cleared first; the
    /// rest of the block zeros). A whole block's buffer is asked for fallibly
    /// ([`StoreError::OutOfMemory`], `out` left empty); an [`InitialPrefix`] fills
    /// `out` itself.
    #[inline]
    fn initial_prefix(&self, block: u64, out: &mut Vec<u8>) -> Result<(), StoreError> {
        out.clear();
        match &self.initial {
            Initial::Zeros => {}
            Initial::Prefix(f) => {
                f(block, out);
                out.truncate(self.block_size);
            }
            Initial::Whole(f) => {
                room(out, self.block_size).map_err(|r| self.refused(r, block, PREFIX_READ))?;
                out.resize(self.block_size, 0);
                f(block, out);
            }
        }
        Ok(())
    }

    /// [`StoreError::OutOfMemory`] of this store at `block`.
    #[cold]
    fn refused(&self, r: Refused, block: u64, purpose: &'static str) -> StoreError {
        r.in_store(self.name(), block, purpose)
    }

    /// Blocks held in memory (those written at least once).
    pub fn blocks_held(&self) -> u64 {
        lock_brief(&self.held).len()
    }

    /// Whether block `block` is held (written at least once); false past the store.
    pub fn holds(&self, block: u64) -> bool {
        block < self.block_count && lock_brief(&self.held).get(block).is_some()
    }

    /// The blocks held (those [`BlockStore::written_blocks`] lists), walked a part of
    /// the table at a time in the table's own order, not ascending, so that a caller
    /// visits them all without a list of them all: clears `out` and appends the held
    /// blocks found walking on from position `*at` (0 to start), at most
    /// [`WALK_BLOCKS_MAX`], at least one unless the walk is over (then `out` is left
    /// empty), and advances `*at`. Over a walk with no block written meanwhile each
    /// held block is given exactly once, and reading it right after finds its slot in
    /// the cache. The store's lock is held for one step only.
    pub fn written_blocks_walk(&self, at: &mut u64, out: &mut Vec<u64>) {
        lock_brief(&self.held).blocks_walk(at, out);
    }

    /// Bytes held: the table's slots (its capacity, not only the slots in use) and the
    /// allocations of contents longer than [`INLINE_BYTES`] bytes with the allocator's
    /// estimated header each.
    pub fn bytes_held(&self) -> u64 {
        lock_brief(&self.held).bytes()
    }

    /// Bytes a store of `block_count` blocks holds once `held` of them are written,
    /// spread over its table's parts as a uniform load spreads them, each
    /// `content_bytes` long (up to its last non-zero byte): its table's slots as its
    /// growth rule sizes them for that many (a direct table for a small store: one slot
    /// per block), plus, for contents longer than [`INLINE_BYTES`], each one's
    /// allocation, header and place in the heap index. What [`SparseStore::bytes_held`]
    /// measures of a store so written (`block_table.rs`'s tests).
    pub fn bytes_for(block_count: u64, held: u64, content_bytes: u64) -> u64 {
        let heap = if content_bytes <= INLINE_BYTES as u64 {
            0
        } else {
            content_bytes + ALLOCATION_OVERHEAD_BYTES + HEAP_INDEX_BYTES
        };
        super::block_table::bytes_for(block_count, held)
            .saturating_add(held.min(block_count).saturating_mul(heap))
    }

    /// Estimated bytes a held block costs whose content (up to its last non-zero
    /// byte) is `content_bytes` long: [`HELD_BLOCK_OVERHEAD_BYTES`], plus the content,
    /// an allocation header and its place in the heap index when longer than
    /// [`INLINE_BYTES`].
    pub fn held_block_bytes(content_bytes: u64) -> u64 {
        if content_bytes <= INLINE_BYTES as u64 {
            HELD_BLOCK_OVERHEAD_BYTES
        } else {
            HELD_BLOCK_OVERHEAD_BYTES + content_bytes + ALLOCATION_OVERHEAD_BYTES + HEAP_INDEX_BYTES
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
        match held.get(block) {
            Some(content) => {
                buf[..content.len()].copy_from_slice(content);
                buf[content.len()..].fill(0);
            }
            None => {
                drop(held);
                self.initial_block(block, buf);
            }
        }
        Ok(())
    }
    /// A content longer than a slot's is held in an allocation of its own, asked for
    /// before anything changes ([`StoreError::OutOfMemory`]: the block as it was).
    fn write_block(&self, block: u64, data: &[u8]) -> Result<(), StoreError> {
        check_access(self, block, data.len())?;
        lock_brief(&self.held)
            .set(block, data)
            .map_err(|r| self.refused(r, block, HOLD))
    }
    /// Copies only the bytes held (up to the block's last non-zero byte), or the
    /// initial content's leading bytes.
    fn read_block_prefix(&self, block: u64, out: &mut Vec<u8>) -> Result<(), StoreError> {
        check_prefix(self, block, 0)?;
        let held = lock_brief(&self.held);
        let found = held.read_into(block, out);
        drop(held);
        match found {
            Ok(true) => Ok(()),
            Ok(false) => self.initial_prefix(block, out),
            Err(r) => Err(self.refused(r, block, PREFIX_READ)),
        }
    }
    /// Looks for the last non-zero byte in `data` only.
    fn write_block_prefix(&self, block: u64, data: &[u8]) -> Result<(), StoreError> {
        check_prefix(self, block, data.len())?;
        lock_brief(&self.held)
            .set(block, data)
            .map_err(|r| self.refused(r, block, HOLD))
    }
    /// As [`SparseStore::read_block_prefix`](BlockStore::read_block_prefix), the
    /// table reached without taking its lock.
    fn read_block_prefix_mut(&mut self, block: u64, out: &mut Vec<u8>) -> Result<(), StoreError> {
        check_prefix(self, block, 0)?;
        match brief_get_mut(&mut self.held).read_into(block, out) {
            Ok(true) => Ok(()),
            Ok(false) => self.initial_prefix(block, out),
            Err(r) => Err(self.refused(r, block, PREFIX_READ)),
        }
    }
    /// As [`SparseStore::write_block_prefix`](BlockStore::write_block_prefix), the
    /// table reached without taking its lock.
    fn write_block_prefix_mut(&mut self, block: u64, data: &[u8]) -> Result<(), StoreError> {
        check_prefix(self, block, data.len())?;
        let r = brief_get_mut(&mut self.held).set(block, data);
        r.map_err(|r| self.refused(r, block, HOLD))
    }
    /// Loads the cache line of the table a lookup of `block` probes first, without
    /// taking the store's lock; nothing for a small store (a direct table, at most
    /// 1 MiB: in the cache already).
    #[inline]
    fn prefetch_block(&self, block: u64) {
        self.hints.prefetch(block);
    }
    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
    fn calls_are_brief(&self) -> bool {
        true
    }
    /// Every block held (written at least once), ascending.
    fn written_blocks(&self) -> Option<Vec<u64>> {
        Some(lock_brief(&self.held).blocks())
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

    /// A walk gives every held block once, in steps of at most `WALK_BLOCKS_MAX`
    /// (several steps reached), on a direct table and on a parted one, and the same
    /// blocks as `written_blocks`; `holds` agrees.
    #[test]
    fn a_walk_gives_every_held_block_once() {
        for (blocks, count, stride) in [(1u64 << 16, 9_000u64, 7u64), (1 << 40, 20_000, 48_271)] {
            let s = SparseStore::new(16, blocks).unwrap();
            let mut at = 0;
            let mut out = vec![1];
            s.written_blocks_walk(&mut at, &mut out);
            assert!(out.is_empty(), "nothing held: the walk is over at once");
            for i in 0..count {
                s.write_block(i * stride % blocks, &[1; 16]).unwrap();
            }
            let (mut at, mut out, mut got, mut steps) = (0, Vec::new(), Vec::new(), 0);
            loop {
                s.written_blocks_walk(&mut at, &mut out);
                if out.is_empty() {
                    break;
                }
                assert!(out.len() <= WALK_BLOCKS_MAX);
                got.extend_from_slice(&out);
                steps += 1;
            }
            assert!(steps > 2, "{steps} steps");
            assert_eq!(got.len() as u64, count);
            assert!(got.iter().all(|&b| s.holds(b)));
            let written: std::collections::HashSet<u64> = got.iter().copied().collect();
            let absent = (0..).find(|b| !written.contains(b)).unwrap();
            assert!(!s.holds(absent) && !s.holds(blocks) && !s.holds(u64::MAX));
            got.sort_unstable();
            assert_eq!(Some(got), s.written_blocks());
        }
    }
}
