//! What the judge keeps per block touched, in one table probed once per event: the
//! last attempt that wrote the block (to name a culprit) and every content written to
//! it (no-torn-write and A-isolated accept a read of any content ever written to a
//! block), with how each was written.
//!
//! A block's latest content lives in its entry beside its last writer (the block's
//! [`PartMap`] slot: 4 bytes of key, the writer, the content's 64-bit digest and its
//! marks, 20 bytes at a load of 0.7-0.875); only a content overwritten by another goes
//! to a second table of older contents, keyed by `content_key`. A load that writes
//! most blocks once (a large volume) keeps almost nothing there; one that overwrites
//! (a small hot volume) keeps there what a table of every content would.

use engine::store::huge_pages::Zeroable;
use rustc_hash::FxHashMap;

use crate::history::TxnId;
use crate::judge::{halves, whole};
use crate::part_map::PartMap;

/// A content written to a block: through VLUN A (or before this cycle's split, when
/// it is VLUN A's own content), and the last cycle it was written through VLUN B in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Written {
    pub(crate) via_a: bool,
    /// 0: never through B.
    pub(crate) b_cycle: u32,
}

impl Written {
    /// Packed in 4 bytes: the cycle above the flag (cycles stay far below 2^29: an
    /// entry keeps two more bits below).
    fn pack(self) -> u32 {
        (self.b_cycle << 1) | u32::from(self.via_a)
    }

    fn unpack(x: u32) -> Self {
        Written {
            via_a: x & 1 == 1,
            b_cycle: x >> 1,
        }
    }
}

/// The key of a (block, content digest) pair among the older contents: the 64-bit
/// digest XOR a bijective mix (splitmix64's finaliser) of the block number, as two
/// 32-bit halves (so a table entry is 12 bytes, not 24). Two contents of one block
/// never share a key; a pair of another block shares it with probability 2^-64, so a
/// read of an older content never written is wrongly accepted (no-torn-write,
/// A-isolated) with probability at most N · 2^-64 for N older contents (a block's
/// latest content is compared whole).
fn content_key(block: u64, digest: u64) -> [u32; 2] {
    let mut z = block.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    halves(digest ^ z)
}

/// An entry's bit: a last writer is held.
const HAS_WRITER: u32 = 1;
/// An entry's bit: a latest content is held.
const HAS_CONTENT: u32 = 2;
/// Bits below an entry's packed [`Written`].
const ENTRY_BITS: u32 = 2;

/// One block's entry: its last writer and its latest content (16 bytes).
#[derive(Debug, Clone, Copy, Default)]
#[repr(C)]
struct Entry {
    writer: TxnId,
    digest: [u32; 2],
    /// [`HAS_WRITER`], [`HAS_CONTENT`], and the latest content's [`Written::pack`]
    /// above [`ENTRY_BITS`].
    bits: u32,
}

// SAFETY: integers; all zeros is the default entry (nothing held).
unsafe impl Zeroable for Entry {}

/// Bytes a block's entry costs with its table's spare room (a 20-byte slot at a load
/// of 0.7 to 0.875).
pub const BLOCK_BYTES_PER_BLOCK: u64 = 26;

/// The judge's per-block table (see the module doc).
#[derive(Debug, Default)]
pub(crate) struct BlocksSeen {
    latest: PartMap<Entry>,
    /// (block, digest) of each content overwritten by another ([`content_key`]) →
    /// [`Written::pack`].
    older: FxHashMap<[u32; 2], u32>,
}

impl BlocksSeen {
    /// The last attempt that wrote `block`, if noted.
    pub(crate) fn writer(&self, block: u64) -> Option<TxnId> {
        self.latest
            .get(block)
            .filter(|e| e.bits & HAS_WRITER != 0)
            .map(|e| e.writer)
    }

    /// Asks the cache line where `block`'s entry is looked up into the processor's
    /// caches (a hint, one step before its event: nothing changes).
    #[inline]
    pub(crate) fn prefetch(&self, block: u64) {
        self.latest.prefetch(block);
    }

    /// How content `digest` was written to `block`, if it was.
    pub(crate) fn content(&self, block: u64, digest: u64) -> Option<Written> {
        let e = self
            .latest
            .get(block)
            .filter(|e| e.bits & HAS_CONTENT != 0)?;
        if whole(e.digest) == digest {
            return Some(Written::unpack(e.bits >> ENTRY_BITS));
        }
        self.older
            .get(&content_key(block, digest))
            .map(|&w| Written::unpack(w))
    }

    /// A write to `block`: by `writer` (its last writer from now, when given), of
    /// content `digest` whose marks `update` changes (when given; a content written
    /// for the first time starts unmarked).
    pub(crate) fn write(
        &mut self,
        block: u64,
        writer: Option<TxnId>,
        content: Option<(u64, impl FnOnce(&mut Written))>,
    ) {
        let e = self.latest.entry(block);
        if let Some(txn) = writer {
            e.writer = txn;
            e.bits |= HAS_WRITER;
        }
        let Some((digest, update)) = content else {
            return;
        };
        if e.bits & HAS_CONTENT == 0 {
            e.digest = halves(digest);
            e.bits = (e.bits & HAS_WRITER) | HAS_CONTENT;
        } else if whole(e.digest) != digest {
            if let Some(p) = self.older.get_mut(&content_key(block, digest)) {
                let mut w = Written::unpack(*p);
                update(&mut w);
                *p = w.pack();
                return;
            }
            // The latest content is overwritten by a new one: it becomes an older one.
            self.older
                .insert(content_key(block, whole(e.digest)), e.bits >> ENTRY_BITS);
            e.digest = halves(digest);
            e.bits &= HAS_WRITER | HAS_CONTENT;
        }
        let mut w = Written::unpack(e.bits >> ENTRY_BITS);
        update(&mut w);
        e.bits = (e.bits & (HAS_WRITER | HAS_CONTENT)) | (w.pack() << ENTRY_BITS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use std::collections::HashMap;

    /// Random writes (writers, contents new and repeated, marks) and lookups agree
    /// with a map of every (block, digest) written and a map of last writers; contents
    /// overwritten and written again were reached.
    #[test]
    fn it_agrees_with_a_map_of_every_content() {
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut seen = BlocksSeen::default();
        let mut contents: HashMap<(u64, u64), Written> = HashMap::new();
        let mut writers: HashMap<u64, TxnId> = HashMap::new();
        let mut rewritten = 0;
        for i in 0..40_000u32 {
            let block = r.random_range(0..300u64);
            let digest = r.random_range(0..6u64) * 0x1_0000_0001;
            match r.random_range(0..4) {
                0 => {
                    assert_eq!(seen.writer(block), writers.get(&block).copied());
                    assert_eq!(
                        seen.content(block, digest),
                        contents.get(&(block, digest)).copied()
                    );
                }
                k => {
                    let writer = (k != 1).then_some(i);
                    let cycle = r.random_range(1..4u32);
                    let via_a = r.random_bool(0.5);
                    let update = move |w: &mut Written| {
                        if via_a {
                            w.via_a = true;
                        } else {
                            w.b_cycle = cycle;
                        }
                    };
                    let follow = k != 3;
                    if let Some(t) = writer {
                        writers.insert(block, t);
                    }
                    if follow {
                        let w = contents.entry((block, digest)).or_default();
                        if *w != Written::default()
                            && seen
                                .latest
                                .get(block)
                                .is_some_and(|e| whole(e.digest) != digest)
                        {
                            rewritten += 1;
                        }
                        update(w);
                    }
                    seen.write(block, writer, follow.then_some((digest, update)));
                }
            }
        }
        for (&(block, digest), &w) in &contents {
            assert_eq!(seen.content(block, digest), Some(w));
        }
        assert!(seen.content(1000, 0).is_none() && seen.writer(1000).is_none());
        assert!(
            !seen.older.is_empty() && rewritten > 0,
            "older contents reached"
        );
    }
}
