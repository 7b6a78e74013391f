//! The integrity mode (opt-in, [`DeviceConfig::integrity`](super::DeviceConfig)):
//! every block of both images carries a CRC-32 of its content and its address, so a
//! block the disk rotted, or wrote somewhere else (a misdirected write), reads as
//! [`Error::Integrity`] instead of wrong data — as dm-integrity and ZFS do.
//!
//! Where the checksums live: after each image's data blocks, a checksum area of
//! `ceil(4 × data blocks / block size)` blocks, one little-endian `u32` per data block
//! in order (dm-integrity's separate tag area; [`sum_blocks`]). The device keeps them
//! in memory too; each data write updates its checksum and writes the checksum block
//! that holds it (one more counted image write), each read is verified against the
//! memory copy (no extra I/O). Opening and recovery load the checksum areas.
//!
//! What a checksum covers: the image, the physical block, the *logical* block (the
//! volume block whose data the physical block holds: itself for a volume block, the
//! entry's block for a data-area slot) and the bytes. A preserved copy written one
//! slot off leaves its slot with the old bytes under the new checksum; a slot read for
//! another block than it was written for mismatches too.
//!
//! A crash between the two: a data write and its checksum block are two writes, so a
//! crash can keep the one and not the other. On a device with a journal, every block
//! is marked [`MetaRecord::Unsummed`](crate::meta::MetaRecord::Unsummed) before its
//! first write since the last flush (dm-integrity's bitmap mode), and recovery re-sums
//! every marked block whose checksum does not match what it holds, before anything
//! is served; a flush cleans the marks. So a block is never left unreadable by a
//! process that ended (killed, crashed) between its data and its checksum, and a block
//! no mark covers that mismatches is still reported: rot, or a misdirected write.
//!
//! Known limit: the mark is appended, not synced, before the data write (a sync there
//! would make every first write since a flush wait for the disk). A power loss can
//! keep a write that was not flushed and lose its mark and its checksum; that block
//! then reads as [`Error::Integrity`] after recovery (a detection, never wrong data).
//! Flushed blocks always match.

use super::Device;
use crate::block_buffer::block_buffer;
use crate::cost::IoCost;
use crate::error::{Error, Result};
use crate::store::BlockStore;
use crate::sync::{self, AtomicU64, Mutex, Ordering};
use crate::Image;

/// Bytes per checksum.
const SUM_BYTES: u64 = 4;
/// Locks over the checksum blocks: a checksum block is rewritten whole, under its lock.
const SUM_LOCKS: usize = 64;

/// Checksum blocks after `data_blocks` blocks of `block_size` bytes.
pub fn sum_blocks(data_blocks: u64, block_size: usize) -> u64 {
    (data_blocks * SUM_BYTES).div_ceil(block_size as u64)
}

/// The data blocks of a store of `store_blocks` blocks laid out as data then
/// checksums, if it is one.
pub(super) fn data_blocks(store_blocks: u64, block_size: usize) -> Option<u64> {
    let per = block_size as u64 / SUM_BYTES;
    let guess = store_blocks.checked_mul(per)? / (per + 1);
    (guess.saturating_sub(1)..=guess + 1).find(|&n| n + sum_blocks(n, block_size) == store_blocks)
}

/// The checksum of `data` at physical block `block` of `image`, holding `logical`.
fn checksum(image: Image, block: u64, logical: u64, data: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&[image as u8]);
    h.update(&block.to_le_bytes());
    h.update(&logical.to_le_bytes());
    h.update(data);
    h.finalize()
}

/// [`checksum`] of `data` followed by zeros up to `block_size` bytes (a block read
/// or written as its leading bytes is summed whole), with no block-sized buffer.
fn checksum_padded(image: Image, block: u64, logical: u64, data: &[u8], block_size: usize) -> u32 {
    if data.len() >= block_size {
        return checksum(image, block, logical, data);
    }
    const ZEROS: [u8; 4096] = [0; 4096];
    let mut h = crc32fast::Hasher::new();
    h.update(&[image as u8]);
    h.update(&block.to_le_bytes());
    h.update(&logical.to_le_bytes());
    h.update(data);
    let mut left = block_size - data.len();
    while left > 0 {
        let n = left.min(ZEROS.len());
        h.update(&ZEROS[..n]);
        left -= n;
    }
    h.finalize()
}

/// Both images' checksums in memory, and the locks of their checksum blocks.
pub(crate) struct Sums {
    block_size: usize,
    /// Data blocks per image (the checksum area starts there).
    data_blocks: [u64; 2],
    cache: [Box<[AtomicU64]>; 2],
    locks: Box<[Mutex<()>]>,
}

impl Sums {
    pub(super) fn new(block_size: usize, data_blocks: [u64; 2]) -> Self {
        let cache = data_blocks.map(|n| (0..n).map(|_| AtomicU64::new(0)).collect());
        Sums {
            block_size,
            data_blocks,
            cache,
            locks: (0..SUM_LOCKS).map(|_| Mutex::new(())).collect(),
        }
    }

    fn get(&self, image: Image, block: u64) -> u32 {
        self.cache[image as usize][block as usize].load(Ordering::Relaxed) as u32
    }

    fn set(&self, image: Image, block: u64, sum: u32) {
        self.cache[image as usize][block as usize].store(u64::from(sum), Ordering::Relaxed);
    }

    /// Checksum block `index` of `image`, from memory, into `out` (one block).
    fn encode(&self, image: Image, index: u64, out: &mut [u8]) {
        let per = self.block_size as u64 / SUM_BYTES;
        let first = index * per;
        let last = (first + per).min(self.data_blocks[image as usize]);
        out.fill(0);
        for (chunk, block) in out.chunks_exact_mut(SUM_BYTES as usize).zip(first..last) {
            chunk.copy_from_slice(&self.get(image, block).to_le_bytes());
        }
    }
}

impl Clone for Sums {
    fn clone(&self) -> Self {
        let s = Sums::new(self.block_size, self.data_blocks);
        for image in [Image::A, Image::B] {
            for b in 0..self.data_blocks[image as usize] {
                s.set(image, b, self.get(image, b));
            }
        }
        s
    }
}

impl<S: BlockStore> Device<S> {
    fn store(&self, image: Image) -> &S {
        match image {
            Image::A => &self.image_a,
            Image::B => &self.image_b,
        }
    }

    /// Verifies a block just read from `image` (integrity mode only; out of line, so
    /// the plain read path stays small).
    #[inline(never)]
    pub(super) fn verify(&self, image: Image, block: u64, logical: u64, data: &[u8]) -> Result<()> {
        let Some(sums) = &self.sums else {
            return Ok(());
        };
        if checksum_padded(image, block, logical, data, self.block_size) == sums.get(image, block) {
            return Ok(());
        }
        Err(Error::Integrity {
            image,
            store: self.store(image).name(),
            block,
            logical,
        })
    }

    /// Records the checksum of a block just written to `image` and writes its
    /// checksum block (integrity mode only; one more counted write; out of line, so
    /// the plain write path stays small).
    /// `out` is the checksum block's buffer ([`Device::sum_block_buffer`]).
    #[inline(never)]
    pub(super) fn note_written(
        &self,
        image: Image,
        block: u64,
        logical: u64,
        data: &[u8],
        mut out: Vec<u8>,
        cost: &mut IoCost,
    ) -> Result<()> {
        let Some(sums) = &self.sums else {
            return Ok(());
        };
        let per = (self.block_size as u64 / SUM_BYTES).max(1);
        let index = block / per;
        let _lock = sync::lock(&sums.locks[(index % SUM_LOCKS as u64) as usize]);
        // A block written as its leading bytes is summed whole.
        let sum = checksum_padded(image, block, logical, data, self.block_size);
        sums.set(image, block, sum);
        let at = sums.data_blocks[image as usize] + index;
        match image {
            Image::A => cost.writes_a += 1,
            Image::B => cost.writes_b += 1,
        }
        sums.encode(image, index, &mut out);
        self.store(image).write_block(at, &out)?;
        Ok(())
    }

    /// Integrity mode with a journal: journals that physical block `block` of `image`
    /// is about to be written with volume block `logical`'s data, unless a mark since
    /// the last flush says so ([`MetaRecord::Unsummed`](crate::meta::MetaRecord::Unsummed)).
    #[inline(never)]
    pub(super) fn mark_unsummed(&self, image: Image, block: u64, logical: u64) -> Result<()> {
        #[cfg(test)]
        if super::mutant::on(super::mutant::Mutant::IntegrityWithoutMark) {
            return Ok(());
        }
        if !self.journaled() {
            return Ok(());
        }
        sync::lock(&self.meta).mark_unsummed(image, block, logical)
    }

    /// Recovery: re-sums every block `marks` names (image, physical block → the
    /// logical block it holds) whose checksum does not match what it holds, each read
    /// and each checksum block written counted in `cost`, then flushes the images
    /// (so the compaction that follows may forget the marks). Returns the number of
    /// blocks re-summed.
    pub(crate) fn resum_marked(
        &self,
        marks: &std::collections::BTreeMap<(Image, u64), u64>,
        cost: &mut IoCost,
    ) -> Result<u64> {
        let Some(sums) = &self.sums else {
            return Ok(0);
        };
        if marks.is_empty() {
            return Ok(0);
        }
        let mut buf = block_buffer(self.block_size, "re-sum the marked blocks")?;
        // A slot the lookup table gives an entry holds that entry's block, whatever a
        // mark says (in an honest journal the two agree: a slot is written for its
        // entry only); a free slot is read by no one until it is written again.
        let slot_owners: std::collections::HashMap<u64, u64> = match &sync::lock(&self.meta).table {
            Some(t) if marks.keys().any(|&(i, _)| self.variant.area_image(i)) => {
                t.entries().map(|(b, s)| (u64::from(s), b)).collect()
            }
            _ => std::collections::HashMap::new(),
        };
        let mut resummed = 0;
        for (&(image, block), &marked) in marks {
            let logical = if self.variant.area_image(image) {
                slot_owners.get(&block).copied().unwrap_or(marked)
            } else {
                block
            };
            if block >= sums.data_blocks[image as usize] {
                continue; // the replay refused a mark past its image's data blocks
            }
            match image {
                Image::A => cost.reads_a += 1,
                Image::B => cost.reads_b += 1,
            }
            self.store(image).read_block(block, &mut buf)?;
            if self.resum(image, block, logical, &buf, cost)? {
                resummed += 1;
            }
        }
        // Even with none re-summed: the marked blocks and their checksums are made
        // durable before the compaction forgets the marks.
        cost.flushes += 2;
        self.image_a.flush()?;
        self.image_b.flush()?;
        Ok(resummed)
    }

    /// Integrity mode: a buffer for one checksum block ([`Error::OutOfMemory`] when
    /// the system refuses it); `None` otherwise.
    pub(super) fn sum_block_buffer(&self) -> Result<Option<Vec<u8>>> {
        if self.sums.is_none() {
            return Ok(None);
        }
        block_buffer(self.block_size, "write a block's checksum").map(Some)
    }

    /// A new device's checksums: every data block of both images read and summed as
    /// its own volume block, and every checksum block written (not counted: the device
    /// is being made).
    pub(super) fn sum_every_block(&self) -> Result<()> {
        let Some(sums) = &self.sums else {
            return Ok(());
        };
        let mut buf = block_buffer(self.block_size, "sum the new device's blocks")?;
        for image in [Image::A, Image::B] {
            let store = self.store(image);
            for b in 0..sums.data_blocks[image as usize] {
                store.read_block(b, &mut buf)?;
                sums.set(image, b, checksum(image, b, b, &buf));
            }
            let n = sums.data_blocks[image as usize];
            for index in 0..sum_blocks(n, self.block_size) {
                sums.encode(image, index, &mut buf);
                store.write_block(n + index, &buf)?;
            }
        }
        Ok(())
    }

    /// Loads both checksum areas into memory (on open and after a power loss), each
    /// block read counted in `cost`.
    pub(crate) fn load_sums(&self, cost: &mut IoCost) -> Result<()> {
        let Some(sums) = &self.sums else {
            return Ok(());
        };
        let per = self.block_size as u64 / SUM_BYTES;
        let mut buf = block_buffer(self.block_size, "load the checksums")?;
        for image in [Image::A, Image::B] {
            let n = sums.data_blocks[image as usize];
            for index in 0..sum_blocks(n, self.block_size) {
                match image {
                    Image::A => cost.reads_a += 1,
                    Image::B => cost.reads_b += 1,
                }
                self.store(image).read_block(n + index, &mut buf)?;
                let first = index * per;
                for (chunk, b) in buf.chunks_exact(SUM_BYTES as usize).zip(first..n) {
                    let sum = u32::from_le_bytes(chunk.try_into().expect("4 bytes"));
                    sums.set(image, b, sum);
                }
            }
        }
        Ok(())
    }

    /// Integrity mode: makes the checksum of physical block `block` of `image` cover
    /// `held` (what the block holds, read by the caller) as volume block `logical`'s
    /// data; the checksum block is written (and counted in `cost`) only when it did
    /// not already. Returns whether it was written. Recovery's repair: a marked block
    /// ([`Device::resum_marked`]) and mirroring's repair source.
    pub(crate) fn resum(
        &self,
        image: Image,
        block: u64,
        logical: u64,
        held: &[u8],
        cost: &mut IoCost,
    ) -> Result<bool> {
        let Some(sums) = &self.sums else {
            return Ok(false);
        };
        if checksum(image, block, logical, held) == sums.get(image, block) {
            return Ok(false);
        }
        let out = block_buffer(self.block_size, "write a block's checksum")?;
        self.note_written(image, block, logical, held, out, cost)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_and_checksum_areas_split_every_store_size_back() {
        for bs in [8usize, 16, 512, 4096] {
            for n in 0..3000u64 {
                let total = n + sum_blocks(n, bs);
                assert_eq!(data_blocks(total, bs), Some(n), "bs {bs}, n {n}");
            }
        }
    }
}
