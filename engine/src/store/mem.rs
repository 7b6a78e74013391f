//! The in-memory store: blocks as arrays of 8-byte words.
//!
//! Words are atomics (through the sync facade) so that concurrent commands to one
//! block behave like a real disk's: each word lands whole, a block may tear between
//! words. Single-threaded users pay only relaxed loads and stores (plain moves).

use std::hash::{Hash, Hasher};

use super::{check_access, BlockStore, StoreError};
use crate::sync::{AtomicU64, Ordering};

/// Bytes per word: the store's unit of atomicity, and the granularity of block sizes.
pub const WORD_BYTES: usize = 8;

/// A block store held in memory.
pub struct MemStore {
    block_size: usize,
    block_count: u64,
    words: Box<[AtomicU64]>,
}

impl MemStore {
    /// A zero-filled store of `block_count` blocks of `block_size` bytes (a positive
    /// multiple of 8).
    pub fn new(block_size: usize, block_count: u64) -> Result<Self, StoreError> {
        super::check_block_size("memory", block_size)?;
        let words_per_block = (block_size / WORD_BYTES) as u64;
        let total = block_count
            .checked_mul(words_per_block)
            .and_then(|w| usize::try_from(w).ok())
            .ok_or_else(|| StoreError::Geometry {
                store: "memory".into(),
                reason: format!("{block_count} blocks of {block_size} bytes do not fit in memory"),
            })?;
        let words = (0..total).map(|_| AtomicU64::new(0)).collect();
        Ok(MemStore {
            block_size,
            block_count,
            words,
        })
    }

    /// A store holding `bytes` (a whole number of blocks).
    pub fn from_bytes(block_size: usize, bytes: &[u8]) -> Result<Self, StoreError> {
        if block_size == 0 || !bytes.len().is_multiple_of(block_size) {
            return Err(StoreError::Misaligned {
                store: "memory".into(),
                len: bytes.len() as u64,
                block_size,
            });
        }
        let store = MemStore::new(block_size, (bytes.len() / block_size) as u64)?;
        for (word, chunk) in store.words.iter().zip(bytes.chunks_exact(WORD_BYTES)) {
            word.store(word_of(chunk), Ordering::Relaxed);
        }
        Ok(store)
    }

    /// The whole store as bytes (a raw image).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.words.len() * WORD_BYTES);
        for word in self.words.iter() {
            out.extend_from_slice(&word.load(Ordering::Relaxed).to_le_bytes());
        }
        out
    }

    fn block_words(&self, block: u64) -> &[AtomicU64] {
        let per = self.block_size / WORD_BYTES;
        let start = block as usize * per;
        &self.words[start..start + per]
    }
}

fn word_of(chunk: &[u8]) -> u64 {
    let mut b = [0u8; WORD_BYTES];
    b.copy_from_slice(chunk);
    u64::from_le_bytes(b)
}

impl BlockStore for MemStore {
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
        for (chunk, word) in buf
            .chunks_exact_mut(WORD_BYTES)
            .zip(self.block_words(block))
        {
            chunk.copy_from_slice(&word.load(Ordering::Relaxed).to_le_bytes());
        }
        Ok(())
    }
    fn write_block(&self, block: u64, data: &[u8]) -> Result<(), StoreError> {
        check_access(self, block, data.len())?;
        for (chunk, word) in data.chunks_exact(WORD_BYTES).zip(self.block_words(block)) {
            word.store(word_of(chunk), Ordering::Relaxed);
        }
        Ok(())
    }
    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
    fn calls_are_brief(&self) -> bool {
        true
    }
}

impl Clone for MemStore {
    fn clone(&self) -> Self {
        let words = self
            .words
            .iter()
            .map(|w| AtomicU64::new(w.load(Ordering::Relaxed)))
            .collect();
        MemStore {
            block_size: self.block_size,
            block_count: self.block_count,
            words,
        }
    }

    /// Copies `source`'s words into this store's when both have the same geometry
    /// (no allocation), else a fresh copy.
    fn clone_from(&mut self, source: &Self) {
        if self.block_size != source.block_size || self.block_count != source.block_count {
            *self = source.clone();
            return;
        }
        for (to, from) in self.words.iter().zip(source.words.iter()) {
            to.store(from.load(Ordering::Relaxed), Ordering::Relaxed);
        }
    }
}

impl PartialEq for MemStore {
    fn eq(&self, other: &Self) -> bool {
        self.block_size == other.block_size
            && self.block_count == other.block_count
            && self
                .words
                .iter()
                .zip(other.words.iter())
                .all(|(a, b)| a.load(Ordering::Relaxed) == b.load(Ordering::Relaxed))
    }
}

impl Eq for MemStore {}

impl Hash for MemStore {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.block_size.hash(state);
        self.block_count.hash(state);
        for w in self.words.iter() {
            w.load(Ordering::Relaxed).hash(state);
        }
    }
}

impl std::fmt::Debug for MemStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MemStore({}x{}B", self.block_count, self.block_size)?;
        if self.words.len() <= 16 {
            for w in self.words.iter() {
                write!(f, " {:x}", w.load(Ordering::Relaxed))?;
            }
        }
        write!(f, ")")
    }
}
