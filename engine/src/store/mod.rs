//! Block stores: the physical storage images under the one-way mirror (on files,
//! [`FileStore`]; in memory, dense [`MemStore`] or [`SparseStore`], which holds only
//! the blocks written), and [`CrashStore`], a simulated disk that can lose its
//! unflushed writes.
//!
//! A store is a fixed array of equal-sized blocks, addressed by index, like a disk.
//! Its methods take `&self` because a disk accepts concurrent commands: ordering
//! between them is the business of the device's locks (group 1 and group 2), not
//! of the store. A store guarantees atomicity only per 8-byte word (the memory
//! store) or per the operating system's write (the file store); a block write racing
//! another write or read of the same block can tear, which is exactly what the
//! device's group-1 locks exist to prevent.

mod block_table;
mod crash;
mod faulty;
mod file;
pub mod huge_pages;
mod mem;
#[cfg(test)]
mod out_of_memory;
mod sparse;

/// Most blocks a [`SparseStore`] can have (2^40: 4 PiB of 4 KiB blocks).
pub use block_table::BLOCKS_MAX as SPARSE_BLOCKS_MAX;

/// Entries the fullest of `parts` parts holds when `entries` are spread over them by
/// their low bits as a uniform load spreads them: the mean share plus four of its
/// standard deviations (a part's count is binomial, about Poisson: its square root),
/// rounded up, at most `entries`. A sparse table sized for it (each part growing on its
/// own) holds every part's entries bar a chance of about 3 in 10^5 a part.
pub fn fullest_part(entries: u64, parts: u64) -> u64 {
    let mean = entries as f64 / parts.max(1) as f64;
    ((mean + 4.0 * mean.sqrt()).ceil() as u64).min(entries)
}
pub use block_table::{content_len, INLINE_BYTES, WALK_BLOCKS_MAX};
pub use crash::{
    CrashStore, CrashSwitch, Fate, PendingWrite, Power, PowerLoss, PENDING_WRITES_MAX, SECTOR_BYTES,
};
pub use faulty::{FaultKind, FaultyStore};
pub use file::FileStore;
pub use mem::{MemStore, WORD_BYTES};
pub use sparse::{InitialContent, InitialPrefix, SparseStore, HELD_BLOCK_OVERHEAD_BYTES};

/// What a store's read of a block's leading bytes allocates for
/// ([`StoreError::OutOfMemory`]).
pub(crate) const PREFIX_READ: &str = "read a block";
/// What a store's write of a block's leading bytes allocates for.
pub(crate) const PREFIX_WRITE: &str = "write a block";

/// An error from a block store: always names the store and, where one is involved,
/// the block.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The operating system refused a read, write, flush or open.
    #[error("{store}: {op}{}: {source}", block_suffix(*.block))]
    Io {
        store: String,
        op: &'static str,
        block: Option<u64>,
        #[source]
        source: std::io::Error,
    },
    /// An image file whose length is not a whole number of blocks.
    #[error("{store}: length {len} bytes is not a whole number of {block_size}-byte blocks")]
    Misaligned {
        store: String,
        len: u64,
        block_size: usize,
    },
    /// An image file shorter than the geometry it was opened with.
    #[error("{store}: holds {found} blocks of {block_size} bytes, {expected} expected")]
    Short {
        store: String,
        found: u64,
        expected: u64,
        block_size: usize,
    },
    /// A block index past the end of the store.
    #[error("{store}: block {block} is out of range (the store has {blocks} blocks)")]
    OutOfRange {
        store: String,
        block: u64,
        blocks: u64,
    },
    /// A buffer whose length is not the block size.
    #[error("{store}: block {block}: buffer of {len} bytes, the block size is {block_size}")]
    BufferSize {
        store: String,
        block: u64,
        len: usize,
        block_size: usize,
    },
    /// A geometry no store can have (zero or unaligned block size).
    #[error("{store}: invalid geometry: {reason}")]
    Geometry { store: String, reason: String },
    /// The image file is held by another open device: its exclusive advisory lock
    /// (taken for the life of every [`FileStore`]) is held elsewhere.
    #[error("{store}: in use by another open device (its exclusive lock is held)")]
    Locked { store: String },
    /// The system refused the memory for a buffer of `bytes` bytes (a block, or its
    /// leading bytes: a large block size under memory pressure) that the call on
    /// `block` needs to `purpose`. The buffer is asked for before the call changes
    /// anything: the store is as it was, and the call can be repeated once memory is
    /// free. A device's call turns it into [`crate::Error::OutOfMemory`].
    #[error(
        "{store}: block {block}: out of memory: cannot allocate {bytes} bytes to {purpose}; \
         nothing was changed (try again once memory is free)"
    )]
    OutOfMemory {
        store: String,
        block: u64,
        bytes: usize,
        purpose: &'static str,
    },
    /// A fault injected by a [`FaultyStore`].
    #[error("{store}: block {block}: injected {op} fault")]
    Injected {
        store: String,
        op: &'static str,
        block: u64,
    },
}

fn block_suffix(block: Option<u64>) -> String {
    block.map(|b| format!(" block {b}")).unwrap_or_default()
}

impl StoreError {
    /// The block this error concerns, if any.
    pub fn block(&self) -> Option<u64> {
        match self {
            StoreError::Io { block, .. } => *block,
            StoreError::OutOfRange { block, .. }
            | StoreError::BufferSize { block, .. }
            | StoreError::OutOfMemory { block, .. }
            | StoreError::Injected { block, .. } => Some(*block),
            _ => None,
        }
    }
}

/// A fixed-geometry array of blocks: the storage image the device reads and writes.
pub trait BlockStore: Send + Sync {
    /// Bytes per block.
    fn block_size(&self) -> usize;
    /// Number of blocks.
    fn block_count(&self) -> u64;
    /// A name for error messages (a file path, or `memory`).
    fn name(&self) -> String;
    /// Reads block `block` into `buf` (exactly one block long).
    fn read_block(&self, block: u64, buf: &mut [u8]) -> Result<(), StoreError>;
    /// Writes `data` (exactly one block long) to block `block`.
    fn write_block(&self, block: u64, data: &[u8]) -> Result<(), StoreError>;
    /// Reads block `block`'s leading bytes into `out` (cleared first, its capacity
    /// kept): afterwards the block is `out` followed by zeros up to the block size
    /// (`out.len()` ≤ [`BlockStore::block_size`]; a store may return more bytes than
    /// the last non-zero one, up to the whole block). The same block content as
    /// [`BlockStore::read_block`] gives, in as few bytes as the store knows how to
    /// move: a store holding a block as its bytes up to the last non-zero one copies
    /// just those. Default: the whole block. Errors: as [`BlockStore::read_block`]
    /// (`OutOfRange`, or the store's own), and `OutOfMemory` when `out` has no room
    /// for what is read and the system refuses it (`out` then empty, its capacity
    /// kept).
    fn read_block_prefix(&self, block: u64, out: &mut Vec<u8>) -> Result<(), StoreError> {
        out.clear();
        crate::block_buffer::room(out, self.block_size())
            .map_err(|r| r.in_store(self.name(), block, PREFIX_READ))?;
        out.resize(self.block_size(), 0);
        self.read_block(block, out)
    }
    /// Writes block `block` as `data` followed by zeros up to the block size: the same
    /// as [`BlockStore::write_block`] of that whole block, with `data` of 0 to
    /// [`BlockStore::block_size`] bytes. Default: the whole block built and written.
    /// Errors: `BufferSize` when `data` is longer than a block, `OutOfRange`,
    /// `OutOfMemory` when the system refuses the whole block's buffer (nothing
    /// written), or the store's own.
    fn write_block_prefix(&self, block: u64, data: &[u8]) -> Result<(), StoreError> {
        if data.len() == self.block_size() {
            return self.write_block(block, data);
        }
        check_prefix(self, block, data.len())?;
        let mut whole = crate::block_buffer::zeroed(self.block_size())
            .map_err(|r| r.in_store(self.name(), block, PREFIX_WRITE))?;
        whole[..data.len()].copy_from_slice(data);
        self.write_block(block, &whole)
    }
    /// [`BlockStore::read_block_prefix`] through an exclusive borrow (a caller that
    /// owns the store, so no other call can be under way): the same block content and
    /// errors, without the store's own lock where it has one ([`SparseStore`]).
    /// Default: the shared call.
    fn read_block_prefix_mut(&mut self, block: u64, out: &mut Vec<u8>) -> Result<(), StoreError> {
        self.read_block_prefix(block, out)
    }
    /// [`BlockStore::write_block_prefix`] through an exclusive borrow, as
    /// [`BlockStore::read_block_prefix_mut`]: the same content written, the same
    /// errors. Default: the shared call.
    fn write_block_prefix_mut(&mut self, block: u64, data: &[u8]) -> Result<(), StoreError> {
        self.write_block_prefix(block, data)
    }
    /// A hint that block `block` will be read or written soon: a store may start
    /// bringing what that call will touch into the processor's caches (the sparse
    /// store: the cache line of its table the lookup probes first). No effect on
    /// content, never an error. Default: nothing.
    fn prefetch_block(&self, _block: u64) {}
    /// Makes every completed write durable (`fsync` for a file).
    fn flush(&self) -> Result<(), StoreError>;
    /// The wall time of the flushes since the last call ([`crate::latency`]), for a
    /// store that times them (a file); `None` otherwise.
    fn take_flush_times(&self, _samples: bool) -> Option<crate::latency::LatencySummary> {
        None
    }
    /// Whether every call returns within a short, bounded time without waiting on I/O
    /// (an in-memory store). A device over two such stores takes spinning group-1
    /// locks, whose release is a plain store; otherwise parking ones
    /// (`crate::device`'s locks; BENCHMARKS.md, "one locked operation per call").
    /// `false` unless a store says otherwise.
    fn calls_are_brief(&self) -> bool {
        false
    }
    /// The blocks that may differ from the store's initial content (those ever
    /// written), ascending; `None` when the store does not know, so that every block
    /// may (a file, a dense memory store: the default). A caller copying or comparing
    /// a whole image may skip every other block, as `cp --sparse` and `qemu-img
    /// convert` skip a file's holes.
    fn written_blocks(&self) -> Option<Vec<u64>> {
        None
    }
}

/// The one block-size rule of every store and device constructor: a positive
/// multiple of [`WORD_BYTES`] (the memory store's unit of atomicity; a file image's
/// 512-byte sectors are multiples of it). Errors: [`StoreError::Geometry`] naming
/// `store`.
pub fn check_block_size(store: &str, block_size: usize) -> Result<(), StoreError> {
    if block_size == 0 || !block_size.is_multiple_of(WORD_BYTES) {
        return Err(StoreError::Geometry {
            store: store.to_string(),
            reason: format!("block size {block_size} is not a positive multiple of {WORD_BYTES}"),
        });
    }
    Ok(())
}

/// Checks a block index and buffer length against a store's geometry.
pub(crate) fn check_access(
    store: &impl BlockStore,
    block: u64,
    len: usize,
) -> Result<(), StoreError> {
    check_geometry(store, block, len, len != store.block_size())
}

/// Checks a block index and the length of a block's leading bytes (at most one
/// block) against a store's geometry.
pub(crate) fn check_prefix<T: BlockStore + ?Sized>(
    store: &T,
    block: u64,
    len: usize,
) -> Result<(), StoreError> {
    check_geometry(store, block, len, len > store.block_size())
}

/// [`StoreError::OutOfRange`] past the store's last block, else
/// [`StoreError::BufferSize`] when `bad_len`.
fn check_geometry<T: BlockStore + ?Sized>(
    store: &T,
    block: u64,
    len: usize,
    bad_len: bool,
) -> Result<(), StoreError> {
    if block >= store.block_count() {
        return Err(StoreError::OutOfRange {
            store: store.name(),
            block,
            blocks: store.block_count(),
        });
    }
    if bad_len {
        return Err(StoreError::BufferSize {
            store: store.name(),
            block,
            len,
            block_size: store.block_size(),
        });
    }
    Ok(())
}

/// A boxed store is the store: every method, provided ones included, answers as the
/// inner store's (engine/tests/engine/wrappers.rs checks each wrapper).
impl<T: BlockStore + ?Sized> BlockStore for Box<T> {
    fn block_size(&self) -> usize {
        (**self).block_size()
    }
    fn block_count(&self) -> u64 {
        (**self).block_count()
    }
    fn name(&self) -> String {
        (**self).name()
    }
    fn read_block(&self, block: u64, buf: &mut [u8]) -> Result<(), StoreError> {
        (**self).read_block(block, buf)
    }
    fn calls_are_brief(&self) -> bool {
        (**self).calls_are_brief()
    }
    fn write_block(&self, block: u64, data: &[u8]) -> Result<(), StoreError> {
        (**self).write_block(block, data)
    }
    fn read_block_prefix(&self, block: u64, out: &mut Vec<u8>) -> Result<(), StoreError> {
        (**self).read_block_prefix(block, out)
    }
    fn write_block_prefix(&self, block: u64, data: &[u8]) -> Result<(), StoreError> {
        (**self).write_block_prefix(block, data)
    }
    fn read_block_prefix_mut(&mut self, block: u64, out: &mut Vec<u8>) -> Result<(), StoreError> {
        (**self).read_block_prefix_mut(block, out)
    }
    fn write_block_prefix_mut(&mut self, block: u64, data: &[u8]) -> Result<(), StoreError> {
        (**self).write_block_prefix_mut(block, data)
    }
    fn prefetch_block(&self, block: u64) {
        (**self).prefetch_block(block)
    }
    fn flush(&self) -> Result<(), StoreError> {
        (**self).flush()
    }
    fn take_flush_times(&self, samples: bool) -> Option<crate::latency::LatencySummary> {
        (**self).take_flush_times(samples)
    }
    fn written_blocks(&self) -> Option<Vec<u64>> {
        (**self).written_blocks()
    }
}
