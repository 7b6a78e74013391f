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
//!
//! **One slot with the replay.** Where a block holds one record and the initial
//! image is computed (`BlocksSeen::sharing`), the block's entry is its record's slot
//! in the replay of the committed transactions (`RecordImage::shared`: the record's
//! value and writer, and a tag in the value's unused high bits), so a block costs one
//! 16-byte slot, not two, and the
//! events of a block probe one table. Once the block's last write is committed (the
//! usual state) its last writer is the record's writer and its latest content is
//! the block holding just that record, whose digest is computed from it
//! (`record_block_digest`): the tag says so (`WRITER_IS_RECORDS`,
//! `CONTENT_IS_RECORDS`). Otherwise (a write not yet committed, or committed out of
//! the writes' order) the writer or the digest not so derived is held beside, in a
//! small map of the blocks in that state (`Side`). Either way each answer is the
//! one the separate entry gives: a tag bit is set only when the value derived equals
//! the one it stands for. The latest content's marks are in the tag too (`VIA_A`, and
//! the last cycle through VLUN B below `B_CYCLE_END`; a later one is held beside:
//! `B_BESIDE`).
//!
//! A slot holds a value of 48 bits (`SLOT_VALUE_BITS`): a record written a value past
//! them turns the shared form into the separate one (`BlocksSeen::unshare`: every
//! answer kept) before it is held.

use engine::store::huge_pages::Zeroable;
use rustc_hash::FxHashMap;

use crate::history::{zero_extended_digest, Layout, TxnId, RECORD_HEADER_BYTES};
use crate::judge::{halves, whole};
use crate::part_map::PartMap;
use crate::record_image::{RecordImage, RecordView, Slot, HELD, SLOT_VALUE_BITS};

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

/// Bytes the per-block table holds with `blocks` blocks written, each its entry in a
/// 20-byte slot ([`PartMap::bytes_for`]; in the shared form the entries are the
/// replay's slots instead: [`crate::record_image::bytes_for`]).
pub(crate) fn latest_bytes_for(blocks: u64) -> u64 {
    PartMap::<Entry>::bytes_for(blocks)
}

/// Bytes of a content key of the older contents' map: a 64-bit key of (block,
/// digest) and 4 bytes of flags.
pub(crate) const OLDER_ENTRY_BYTES: u64 = std::mem::size_of::<([u32; 2], u32)>() as u64;

/// The judge's per-block table (see the module doc).
#[derive(Debug, Default)]
pub(crate) struct BlocksSeen {
    /// Each block's entry (unless [`BlocksSeen::shared`]).
    latest: PartMap<Entry>,
    /// (block, digest) of each content overwritten by another ([`content_key`]) →
    /// [`Written::pack`].
    older: FxHashMap<[u32; 2], u32>,
    /// Each block's entry is its record's slot in the replay instead (see the module
    /// doc): the methods are then given that replay's image.
    shared: Option<Shared>,
}

/// A shared slot's tag bit: the block's last writer is the record's writer.
pub(crate) const WRITER_IS_RECORDS: u32 = HELD << 1;
/// A shared slot's tag bit: the block's latest content is the block holding just
/// its record ([`record_block_digest`]).
pub(crate) const CONTENT_IS_RECORDS: u32 = HELD << 2;
/// A shared slot's tag bit: the block has a [`Side`] entry.
const HAS_SIDE: u32 = HELD << 3;
/// A shared slot's tag bit: the latest content's [`Written::via_a`].
const VIA_A: u32 = HELD << 4;
/// A shared slot's tag bit: the latest content's [`Written::b_cycle`] is held in the
/// block's [`Side`] entry (it is [`B_CYCLE_END`] or more).
const B_BESIDE: u32 = HELD << 5;
/// Where a shared slot's tag holds the latest content's [`Written::b_cycle`] when it
/// is below [`B_CYCLE_END`] (the tag's top 10 bits).
const B_CYCLE_SHIFT: u32 = SLOT_VALUE_BITS - 32 + 6;
/// Cycles a shared slot's tag holds: those below this.
const B_CYCLE_END: u32 = 1 << (32 - B_CYCLE_SHIFT);

/// What a block's shared slot cannot derive from its record or hold in its tag: its
/// last writer, its latest content's digest (each when held and not derived), the
/// latest content's last cycle through VLUN B (0: none).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Side {
    writer: Option<TxnId>,
    digest: Option<u64>,
    b_cycle: u32,
}

impl Side {
    fn is_empty(&self) -> bool {
        self.writer.is_none() && self.digest.is_none() && self.b_cycle == 0
    }
}

/// The state of the shared form (see the module doc).
#[derive(Debug)]
struct Shared {
    /// Blocks whose last writer or latest content is not derived from their record.
    side: FxHashMap<u64, Side>,
    /// The layout's block size: a block holding just its record has the digest of
    /// the header's 16 bytes zero-extended to it.
    block_size: usize,
}

/// The digest ([`crate::history::block_digest`]) of a block of the shared form
/// (`block_size` bytes) holding record value `value` stamped by `txn` and zeros after
/// them: only the 16 bytes of the header are read.
#[inline]
fn record_block_digest(value: i64, txn: TxnId, block_size: usize) -> u64 {
    let mut header = [0u8; RECORD_HEADER_BYTES];
    crate::history::write_record(&mut header, value, crate::history::stamp_of(txn));
    zero_extended_digest(&header, block_size)
}

impl Shared {
    /// The digest of the block holding just slot `s`'s record.
    #[inline]
    fn derived(&self, s: &Slot) -> u64 {
        record_block_digest(s.value(), s.txn(), self.block_size)
    }

    /// Block `block`'s latest content's digest, if any.
    #[inline]
    fn latest(&self, block: u64, s: &Slot) -> Option<u64> {
        if s.has(CONTENT_IS_RECORDS) {
            Some(self.derived(s))
        } else if s.has(HAS_SIDE) {
            self.side.get(&block).and_then(|x| x.digest)
        } else {
            None
        }
    }

    /// Block `block`'s last writer, if any.
    #[inline]
    fn writer(&self, block: u64, s: &Slot) -> Option<TxnId> {
        if s.has(WRITER_IS_RECORDS) {
            Some(s.txn())
        } else if s.has(HAS_SIDE) {
            self.side.get(&block).and_then(|x| x.writer)
        } else {
            None
        }
    }

    /// Block `block`'s latest content's marks.
    #[inline]
    fn marks(&self, block: u64, s: &Slot) -> Written {
        Written {
            via_a: s.has(VIA_A),
            b_cycle: if s.has(B_BESIDE) {
                self.side.get(&block).map_or(0, |x| x.b_cycle)
            } else {
                s.tag() >> B_CYCLE_SHIFT
            },
        }
    }

    /// Block `block`'s side entry (slot `s`'s), taken out to change: a copy, empty
    /// when there is none; [`Shared::put_side`] puts it back.
    #[inline]
    fn take_side(&self, block: u64, s: &Slot) -> Side {
        if s.has(HAS_SIDE) {
            self.side.get(&block).copied().unwrap_or_default()
        } else {
            Side::default()
        }
    }

    /// Puts back block `block`'s side entry `x`, taken out as `before`
    /// ([`Shared::take_side`]): dropped when it holds nothing, the slot's
    /// [`HAS_SIDE`] kept true; untouched when unchanged.
    #[inline]
    fn put_side(&mut self, block: u64, s: &mut Slot, before: Side, x: Side) {
        if x == before {
            return;
        }
        if x.is_empty() {
            self.side.remove(&block);
            s.clear(HAS_SIDE);
        } else {
            self.side.insert(block, x);
            s.set(HAS_SIDE);
        }
    }

    /// Slot `s`'s latest content's digest, if any, its side entry taken out as `x`
    /// and the digest of the block holding just its record `derived` (when held).
    #[inline]
    fn latest_of(s: &Slot, x: &Side, derived: Option<u64>) -> Option<u64> {
        if s.has(CONTENT_IS_RECORDS) {
            derived
        } else {
            x.digest
        }
    }

    /// Slot `s`'s latest content's marks, its side entry taken out as `x`.
    #[inline]
    fn marks_of(s: &Slot, x: &Side) -> Written {
        Written {
            via_a: s.has(VIA_A),
            b_cycle: if s.has(B_BESIDE) {
                x.b_cycle
            } else {
                s.tag() >> B_CYCLE_SHIFT
            },
        }
    }

    /// Slot `s`'s latest content's marks are now `w` (its side entry taken out as `x`).
    #[inline]
    fn set_marks(s: &mut Slot, x: &mut Side, w: Written) {
        if w.via_a {
            s.set(VIA_A);
        } else {
            s.clear(VIA_A);
        }
        s.clear((B_CYCLE_END - 1) << B_CYCLE_SHIFT);
        if w.b_cycle >= B_CYCLE_END {
            s.set(B_BESIDE);
            x.b_cycle = w.b_cycle;
            return;
        }
        s.set(w.b_cycle << B_CYCLE_SHIFT);
        if s.has(B_BESIDE) {
            s.clear(B_BESIDE);
            x.b_cycle = 0;
        }
    }

    /// Slot `s`'s last writer is now `txn` (its side entry taken out as `x`).
    #[inline]
    fn set_writer(s: &mut Slot, x: &mut Side, txn: TxnId) {
        if s.record().is_some_and(|(_, t)| t == txn) {
            s.set(WRITER_IS_RECORDS);
            x.writer = None;
        } else {
            s.clear(WRITER_IS_RECORDS);
            x.writer = Some(txn);
        }
    }

    /// Slot `s`'s latest content is now `digest`, its marks unchanged (its side
    /// entry taken out as `x`, `derived` as for [`Shared::latest_of`]).
    #[inline]
    fn set_latest(s: &mut Slot, x: &mut Side, digest: u64, derived: Option<u64>) {
        if s.has(HELD) && derived == Some(digest) {
            s.set(CONTENT_IS_RECORDS);
            x.digest = None;
        } else {
            s.clear(CONTENT_IS_RECORDS);
            x.digest = Some(digest);
        }
    }
}

/// Where a block's entry was found: its record's slot in the shared form, or its
/// own entry.
#[derive(Debug, Clone, Copy)]
enum At<'s> {
    Shared(&'s Shared, &'s Slot),
    Own(&'s Entry),
}

/// A block's entry, found once ([`BlocksSeen::block`]), read as often as needed:
/// its last writer and how a content was written to it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BlockSeen<'s> {
    block: u64,
    at: At<'s>,
    older: &'s FxHashMap<[u32; 2], u32>,
}

impl BlockSeen<'_> {
    /// The last attempt that wrote the block, if noted.
    #[inline]
    pub(crate) fn writer(&self) -> Option<TxnId> {
        match self.at {
            At::Shared(sh, s) => sh.writer(self.block, s),
            At::Own(e) => (e.bits & HAS_WRITER != 0).then_some(e.writer),
        }
    }

    /// How content `digest` was written to the block, if it was.
    #[inline]
    pub(crate) fn content(&self, digest: u64) -> Option<Written> {
        let latest = match self.at {
            At::Shared(sh, s) => {
                let latest = sh.latest(self.block, s)?;
                if latest == digest {
                    return Some(sh.marks(self.block, s));
                }
                latest
            }
            At::Own(e) => {
                if e.bits & HAS_CONTENT == 0 {
                    return None;
                }
                let latest = whole(e.digest);
                if latest == digest {
                    return Some(Written::unpack(e.bits >> ENTRY_BITS));
                }
                latest
            }
        };
        debug_assert_ne!(latest, digest);
        self.older
            .get(&content_key(self.block, digest))
            .map(|&w| Written::unpack(w))
    }
}

impl BlocksSeen {
    /// Whether a judge of this layout and initial image, following both the replay
    /// and the contents, keeps each block's entry in its record's slot
    /// ([`BlocksSeen::sharing`]): one record per block, a computed initial image.
    pub(crate) fn can_share(layout: &Layout, computed_initial: bool) -> bool {
        computed_initial
            && layout.is_valid()
            && layout.records_per_block() == 1
            && layout.block_size >= RECORD_HEADER_BYTES
    }

    /// A table whose entries are the slots of the replay's image
    /// ([`RecordImage::shared`]) of a layout [`BlocksSeen::can_share`] accepts;
    /// every method is then given that image.
    pub(crate) fn sharing(layout: &Layout) -> Self {
        BlocksSeen {
            shared: Some(Shared {
                side: FxHashMap::default(),
                block_size: layout.block_size,
            }),
            ..BlocksSeen::default()
        }
    }

    /// Gives up the shared form for the separate one (see the module doc): each
    /// block's entry of its own and the replay's records in a table of their own
    /// ([`RecordImage::unshare`]), every answer kept. For a record written by a
    /// value a slot cannot hold ([`SLOT_VALUE_BITS`]); nothing when not shared.
    pub(crate) fn unshare(&mut self, image: &mut RecordImage) {
        let Some(sh) = self.shared.take() else {
            return;
        };
        if let Some(slots) = image.slots() {
            for (block, s) in slots.iter() {
                let writer = sh.writer(block, &s);
                let latest = sh.latest(block, &s);
                if writer.is_none() && latest.is_none() {
                    continue;
                }
                let e = self.latest.entry(block);
                if let Some(txn) = writer {
                    e.writer = txn;
                    e.bits |= HAS_WRITER;
                }
                if let Some(d) = latest {
                    e.digest = halves(d);
                    e.bits |= HAS_CONTENT | (sh.marks(block, &s).pack() << ENTRY_BITS);
                }
            }
        }
        image.unshare();
    }

    /// What is held for `block` (`image`: the replay's, read when shared), found by
    /// one lookup of its entry: its last writer and its contents are read from it
    /// ([`BlockSeen`]); `None` when nothing is.
    #[inline]
    pub(crate) fn block<'s>(&'s self, image: &'s RecordImage, block: u64) -> Option<BlockSeen<'s>> {
        let at = match &self.shared {
            Some(sh) => At::Shared(sh, image.slots()?.get(block)?),
            None => At::Own(self.latest.get(block)?),
        };
        Some(BlockSeen {
            block,
            at,
            older: &self.older,
        })
    }

    /// The last attempt that wrote `block`, if noted (`image`: the replay's, read
    /// when shared).
    pub(crate) fn writer(&self, image: &RecordImage, block: u64) -> Option<TxnId> {
        self.block(image, block)?.writer()
    }

    /// Asks the cache line where `block`'s entry is looked up into the processor's
    /// caches (a hint, one step before its event: nothing changes).
    #[inline]
    pub(crate) fn prefetch(&self, image: &RecordImage, block: u64) {
        if self.shared.is_some() {
            image.prefetch(block);
        } else {
            self.latest.prefetch(block);
        }
    }

    /// Asks the line of `block`'s entry (its value, or the empty slot a first write
    /// takes) into the processor's caches, when it is in the block's home bucket (a
    /// hint: nothing changes). Reads the line [`BlocksSeen::prefetch`] hints: meant
    /// after a lookup of `block`, some steps before a write of it.
    #[inline]
    pub(crate) fn prefetch_entry(&self, image: &RecordImage, block: u64) {
        if self.shared.is_some() {
            image.prefetch_value(block);
        } else {
            self.latest.prefetch_value(block);
        }
    }

    /// How content `digest` was written to `block`, if it was.
    pub(crate) fn content(&self, image: &RecordImage, block: u64, digest: u64) -> Option<Written> {
        self.block(image, block)?.content(digest)
    }

    /// Record `r` (block `r`: one record per block) of the shared replay's `image`
    /// now holds `value`, written by `txn` ([`RecordImage::set`]), the block's last
    /// writer and latest content kept as they were. Only when shared; else
    /// [`RecordImage::set`] itself.
    pub(crate) fn set_record(&mut self, image: &mut RecordImage, r: u64, value: i64, txn: TxnId) {
        if !Slot::fits(value) {
            self.unshare(image);
        }
        let (Some(sh), Some(slots)) = (self.shared.as_mut(), image.slots_mut()) else {
            image.set(r, value, txn);
            return;
        };
        let s = slots.entry(r);
        if s.has(HELD) && s.value() == value && s.txn() == txn {
            return;
        }
        let before = sh.take_side(r, s);
        let mut x = before;
        // What the old record stood for goes beside it, then back where the new one
        // stands for it.
        if s.has(CONTENT_IS_RECORDS) {
            x.digest = Some(sh.derived(s));
            s.clear(CONTENT_IS_RECORDS);
        }
        if s.has(WRITER_IS_RECORDS) {
            x.writer = Some(s.txn());
            s.clear(WRITER_IS_RECORDS);
        }
        s.hold(value, txn);
        if !x.is_empty() {
            if x.writer == Some(txn) {
                s.set(WRITER_IS_RECORDS);
                x.writer = None;
            }
            if x.digest.is_some() && x.digest == Some(sh.derived(s)) {
                s.set(CONTENT_IS_RECORDS);
                x.digest = None;
            }
        }
        sh.put_side(r, s, before, x);
    }

    /// A write to `block`: by `writer` (its last writer from now, when given), of
    /// content `digest` whose marks `update` changes (when given; a content written
    /// for the first time starts unmarked).
    pub(crate) fn write(
        &mut self,
        image: &mut RecordImage,
        block: u64,
        writer: Option<TxnId>,
        content: Option<(u64, impl FnOnce(&mut Written))>,
    ) {
        if let (Some(sh), Some(slots)) = (self.shared.as_mut(), image.slots_mut()) {
            // The block's side entry taken out once, changed, and put back once.
            let s = slots.entry(block);
            let before = sh.take_side(block, s);
            let mut x = before;
            if let Some(txn) = writer {
                Shared::set_writer(s, &mut x, txn);
            }
            if let Some((digest, update)) = content {
                // The slot's record is not changed here: its block's digest is
                // computed once.
                let derived = s.has(HELD).then(|| sh.derived(s));
                let marks = match Shared::latest_of(s, &x, derived) {
                    None => {
                        Shared::set_latest(s, &mut x, digest, derived);
                        Written::default()
                    }
                    Some(d) if d == digest => Shared::marks_of(s, &x),
                    Some(d) => {
                        if let Some(p) = self.older.get_mut(&content_key(block, digest)) {
                            let mut w = Written::unpack(*p);
                            update(&mut w);
                            *p = w.pack();
                            sh.put_side(block, s, before, x);
                            return;
                        }
                        // The latest content is overwritten by a new one: it becomes
                        // an older one.
                        self.older
                            .insert(content_key(block, d), Shared::marks_of(s, &x).pack());
                        Shared::set_latest(s, &mut x, digest, derived);
                        Written::default()
                    }
                };
                let mut w = marks;
                update(&mut w);
                Shared::set_marks(s, &mut x, w);
            }
            sh.put_side(block, s, before, x);
            return;
        }
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
    use crate::history::block_digest;
    use rand::{Rng, SeedableRng};
    use std::collections::HashMap;

    /// One record of 64 bytes a block.
    const L: Layout = Layout {
        block_size: 64,
        volume_blocks: 1 << 20,
        record_size: 64,
    };

    /// Random writes (writers, contents new and repeated, marks), commits of records
    /// and lookups agree with a map of every (block, digest) written, a map of last
    /// writers and a map of records, in both forms (an entry of its own, a slot
    /// shared with the replay); contents overwritten and written again were reached,
    /// and in the shared form both a derived and a held-beside writer and content and
    /// every tag bit. Once more in the shared form with the largest writers and
    /// values a slot holds and cycles through VLUN B on both sides of the tag's
    /// bound, then values past them: the form is given up for the separate one, every
    /// answer kept.
    #[test]
    fn it_agrees_with_a_map_of_every_content() {
        for (shared, wide) in [(false, false), (true, false), (true, true)] {
            let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(3);
            let (mut seen, mut image) = if shared {
                (BlocksSeen::sharing(&L), RecordImage::shared())
            } else {
                (BlocksSeen::default(), RecordImage::default())
            };
            let mut contents: HashMap<(u64, u64), Written> = HashMap::new();
            let mut writers: HashMap<u64, TxnId> = HashMap::new();
            let mut records: HashMap<u64, (i64, TxnId)> = HashMap::new();
            let (mut rewritten, mut derived, mut beside) = (0, 0, 0);
            let (mut tags, mut unshared_at) = (0u32, None);
            // The digest of a block holding just record (value, writer).
            let digest_of = |value: i64, txn: TxnId| {
                let mut b = vec![0u8; L.block_size];
                crate::history::write_record(&mut b, value, crate::history::stamp_of(txn));
                block_digest(&b)
            };
            for i in 0..40_000u32 {
                let block = r.random_range(0..300u64);
                // Contents of records (some committed, some not) and others.
                // The largest values a slot holds (both signs), then from the 30,000th
                // step also the first ones past them.
                let edge = 1i64 << (SLOT_VALUE_BITS - 1);
                let value = match (wide, i < 30_000, r.random_range(0..4)) {
                    (false, _, _) | (true, _, 0) => r.random_range(0..3i64),
                    (true, _, 1) => -edge,
                    (true, true, _) | (true, false, 2) => edge - 1,
                    (true, false, _) => edge,
                };
                let txn = if wide {
                    u32::MAX - r.random_range(0..4u32)
                } else {
                    r.random_range(0..4u32).min(i)
                };
                let digest = if r.random_bool(0.7) {
                    digest_of(value, txn)
                } else {
                    r.random_range(0..6u64) * 0x1_0000_0001
                };
                match r.random_range(0..5) {
                    0 => {
                        assert_eq!(seen.writer(&image, block), writers.get(&block).copied());
                        assert_eq!(
                            seen.content(&image, block, digest),
                            contents.get(&(block, digest)).copied()
                        );
                        let want = records
                            .get(&block)
                            .map(|&(v, t)| (v, crate::history::stamp_of(t)));
                        let initial = crate::history::Initial::Bytes(Vec::new());
                        if want.is_some() {
                            assert_eq!(Some(image.record(&L, &initial, block)), want);
                        }
                        if shared {
                            if let Some(s) = image.slots().and_then(|m| m.get(block)) {
                                if s.has(WRITER_IS_RECORDS | CONTENT_IS_RECORDS) {
                                    derived += 1;
                                }
                                if s.has(HAS_SIDE) {
                                    beside += 1;
                                }
                                tags |= s.tag() & ((1 << B_CYCLE_SHIFT) - 1);
                            }
                        }
                    }
                    4 => {
                        records.insert(block, (value, txn));
                        seen.set_record(&mut image, block, value, txn);
                        if shared && unshared_at.is_none() && seen.shared.is_none() {
                            unshared_at = Some((i, value));
                        }
                    }
                    k => {
                        let writer = (k != 1).then_some(txn);
                        let cycle =
                            r.random_range(1..4u32) + if wide { B_CYCLE_END - 3 } else { 0 };
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
                                && seen.content(&image, block, digest).is_some()
                                && seen.older.contains_key(&content_key(block, digest))
                            {
                                rewritten += 1;
                            }
                            update(w);
                        }
                        seen.write(
                            &mut image,
                            block,
                            writer,
                            follow.then_some((digest, update)),
                        );
                    }
                }
            }
            for (&(block, digest), &w) in &contents {
                assert_eq!(seen.content(&image, block, digest), Some(w));
            }
            for (&block, &t) in &writers {
                assert_eq!(seen.writer(&image, block), Some(t));
            }
            assert_eq!(image.records_held(), records.len());
            assert!(seen.content(&image, 1000, 0).is_none() && seen.writer(&image, 1000).is_none());
            assert!(
                !seen.older.is_empty() && rewritten > 0,
                "older contents reached"
            );
            if shared {
                assert!(
                    derived > 0 && beside > 0,
                    "derived {derived}, beside {beside}"
                );
                let every = HELD | WRITER_IS_RECORDS | CONTENT_IS_RECORDS | HAS_SIDE | VIA_A;
                assert_eq!(tags & every, every, "every tag bit reached");
                assert_eq!(tags & B_BESIDE != 0, wide, "cycles held beside when past");
            }
            match (shared, wide) {
                (true, false) => {
                    assert!(seen.latest.is_empty(), "no entry of its own");
                    assert!(seen.shared.is_some() && unshared_at.is_none());
                }
                (true, true) => {
                    // Given up at the first record of a value a slot cannot hold.
                    let (at, value) = unshared_at.expect("the shared form given up");
                    assert!(at >= 30_000 && !Slot::fits(value), "{at} {value}");
                    assert!(seen.shared.is_none() && image.slots().is_none());
                    assert!(!seen.latest.is_empty());
                }
                _ => assert!(seen.shared.is_none()),
            }
        }
    }

    /// The shared form as it was written before a block's side entry was taken out
    /// once per write or commit: each change applied to the side map at once
    /// (`change_side`). The reference of [`each_change_at_once_gives_the_same_slots`].
    mod stepwise {
        use super::super::*;

        fn change_side(sh: &mut Shared, block: u64, s: &mut Slot, f: impl FnOnce(&mut Side)) {
            let side = sh.side.entry(block).or_default();
            f(side);
            if side.is_empty() {
                sh.side.remove(&block);
                s.clear(HAS_SIDE);
            } else {
                s.set(HAS_SIDE);
            }
        }

        fn set_marks(sh: &mut Shared, block: u64, s: &mut Slot, w: Written) {
            if w.via_a {
                s.set(VIA_A);
            } else {
                s.clear(VIA_A);
            }
            s.clear((B_CYCLE_END - 1) << B_CYCLE_SHIFT);
            if w.b_cycle >= B_CYCLE_END {
                s.set(B_BESIDE);
                change_side(sh, block, s, |x| x.b_cycle = w.b_cycle);
                return;
            }
            s.set(w.b_cycle << B_CYCLE_SHIFT);
            if s.has(B_BESIDE) {
                s.clear(B_BESIDE);
                change_side(sh, block, s, |x| x.b_cycle = 0);
            }
        }

        fn set_writer(sh: &mut Shared, block: u64, s: &mut Slot, txn: TxnId) {
            if s.record().is_some_and(|(_, t)| t == txn) {
                s.set(WRITER_IS_RECORDS);
                if s.has(HAS_SIDE) {
                    change_side(sh, block, s, |x| x.writer = None);
                }
            } else {
                s.clear(WRITER_IS_RECORDS);
                change_side(sh, block, s, |x| x.writer = Some(txn));
            }
        }

        fn set_latest(sh: &mut Shared, block: u64, s: &mut Slot, digest: u64) {
            if s.has(HELD) && sh.derived(s) == digest {
                s.set(CONTENT_IS_RECORDS);
                if s.has(HAS_SIDE) {
                    change_side(sh, block, s, |x| x.digest = None);
                }
            } else {
                s.clear(CONTENT_IS_RECORDS);
                change_side(sh, block, s, |x| x.digest = Some(digest));
            }
        }

        /// `BlocksSeen::set_record` of the shared form, each change at once.
        pub(super) fn set_record(
            seen: &mut BlocksSeen,
            s: &mut Slot,
            r: u64,
            value: i64,
            txn: TxnId,
        ) {
            let Some(sh) = seen.shared.as_mut() else {
                unreachable!("shared")
            };
            if s.has(HELD) && s.value() == value && s.txn() == txn {
                return;
            }
            if s.has(CONTENT_IS_RECORDS) {
                let d = sh.derived(s);
                s.clear(CONTENT_IS_RECORDS);
                change_side(sh, r, s, |x| x.digest = Some(d));
            }
            if s.has(WRITER_IS_RECORDS) {
                let w = s.txn();
                s.clear(WRITER_IS_RECORDS);
                change_side(sh, r, s, |x| x.writer = Some(w));
            }
            s.hold(value, txn);
            if s.has(HAS_SIDE) {
                let x = sh.side.get(&r).copied().unwrap_or_default();
                if x.writer == Some(txn) {
                    s.set(WRITER_IS_RECORDS);
                }
                let derived = sh.derived(s);
                if x.digest == Some(derived) {
                    s.set(CONTENT_IS_RECORDS);
                }
                let (w, c) = (s.has(WRITER_IS_RECORDS), s.has(CONTENT_IS_RECORDS));
                change_side(sh, r, s, |x| {
                    if w {
                        x.writer = None;
                    }
                    if c {
                        x.digest = None;
                    }
                });
            }
        }

        /// `BlocksSeen::write` of the shared form, each change at once.
        pub(super) fn write(
            seen: &mut BlocksSeen,
            s: &mut Slot,
            block: u64,
            writer: Option<TxnId>,
            content: Option<(u64, impl FnOnce(&mut Written))>,
        ) {
            let Some(sh) = seen.shared.as_mut() else {
                unreachable!("shared")
            };
            if let Some(txn) = writer {
                set_writer(sh, block, s, txn);
            }
            let Some((digest, update)) = content else {
                return;
            };
            let marks = match sh.latest(block, s) {
                None => {
                    set_latest(sh, block, s, digest);
                    Written::default()
                }
                Some(d) if d == digest => sh.marks(block, s),
                Some(d) => {
                    if let Some(p) = seen.older.get_mut(&content_key(block, digest)) {
                        let mut w = Written::unpack(*p);
                        update(&mut w);
                        *p = w.pack();
                        return;
                    }
                    seen.older
                        .insert(content_key(block, d), sh.marks(block, s).pack());
                    set_latest(sh, block, s, digest);
                    Written::default()
                }
            };
            let mut w = marks;
            update(&mut w);
            set_marks(sh, block, s, w);
        }
    }

    /// The shared form's writes and commits, the block's side entry taken out and put
    /// back once, leave every slot (value, writer, tag), side entry and older content
    /// exactly as the same steps applying each change at once ([`stepwise`]), over
    /// random writes (writers, contents new, repeated and derived from the record,
    /// cycles through VLUN B on both sides of the tag's bound) and commits; the
    /// entries read back (`BlocksSeen::block`) agree with each way's.
    #[test]
    fn each_change_at_once_gives_the_same_slots() {
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let (mut seen, mut image) = (BlocksSeen::sharing(&L), RecordImage::shared());
        let mut reference = BlocksSeen::sharing(&L);
        let mut slots: HashMap<u64, Slot> = HashMap::new();
        let digest_of = |value: i64, txn: TxnId| {
            let mut b = vec![0u8; L.block_size];
            crate::history::write_record(&mut b, value, crate::history::stamp_of(txn));
            block_digest(&b)
        };
        let key = |s: &Slot| (s.value(), s.txn(), s.tag());
        let (mut sides, mut removed, mut older_hits) = (0, 0, 0);
        for i in 0..60_000u32 {
            let block = r.random_range(0..200u64);
            let value = r.random_range(0..3i64);
            let txn = r.random_range(0..5u32);
            let digest = match r.random_range(0..3) {
                0 => digest_of(value, txn),
                1 => digest_of(r.random_range(0..3i64), r.random_range(0..5u32)),
                _ => r.random_range(0..6u64) * 0x1_0000_0001,
            };
            let sides_before = reference.shared.as_ref().map_or(0, |sh| sh.side.len());
            let s = slots.entry(block).or_default();
            if r.random_range(0..3) == 0 {
                seen.set_record(&mut image, block, value, txn);
                stepwise::set_record(&mut reference, s, block, value, txn);
            } else {
                let writer = r.random_bool(0.8).then_some(txn);
                let wide = r.random_bool(0.1);
                let cycle = r.random_range(1..4u32) + if wide { B_CYCLE_END - 2 } else { 0 };
                let via_a = r.random_bool(0.4);
                let update = move |w: &mut Written| {
                    if via_a {
                        w.via_a = true;
                    } else {
                        w.b_cycle = cycle;
                    }
                };
                let content = r.random_bool(0.9).then_some((digest, update));
                if content.is_some() && reference.older.contains_key(&content_key(block, digest)) {
                    older_hits += 1;
                }
                seen.write(&mut image, block, writer, content);
                stepwise::write(&mut reference, s, block, writer, content);
            }
            let (Some(a), Some(b)) = (seen.shared.as_ref(), reference.shared.as_ref()) else {
                unreachable!("shared")
            };
            sides += usize::from(b.side.contains_key(&block));
            removed += usize::from(b.side.len() < sides_before);
            let got = image
                .slots()
                .and_then(|m| m.get(block))
                .copied()
                .unwrap_or_default();
            assert_eq!(key(&got), key(s), "step {i}, block {block}");
            assert_eq!(
                a.side.get(&block),
                b.side.get(&block),
                "step {i}, block {block}"
            );
            if i % 1_000 == 0 {
                assert_eq!(a.side, b.side);
                assert_eq!(seen.older, reference.older);
            }
            let e = seen
                .block(&image, block)
                .expect("a block written or committed");
            assert_eq!(e.writer(), b.writer(block, s));
            assert_eq!(e.content(digest), {
                match b.latest(block, s) {
                    Some(d) if d == digest => Some(b.marks(block, s)),
                    Some(_) => reference
                        .older
                        .get(&content_key(block, digest))
                        .map(|&w| Written::unpack(w)),
                    None => None,
                }
            });
        }
        assert_eq!(seen.older, reference.older);
        assert!(
            sides > 1_000 && removed > 200 && older_hits > 100,
            "{sides} {removed} {older_hits}"
        );
    }

    /// A block holding just its record has the digest the shared form derives.
    #[test]
    fn the_derived_digest_is_the_blocks() {
        let sh = match BlocksSeen::sharing(&L).shared {
            Some(sh) => sh,
            None => unreachable!("sharing"),
        };
        let edge = 1i64 << (SLOT_VALUE_BITS - 1);
        for (value, txn) in [
            (0i64, 0u32),
            (-1, 7),
            (1 << 40, u32::MAX - 1),
            (5, 255),
            (edge - 1, u32::MAX),
            (-edge, 1),
        ] {
            let mut b = vec![0u8; L.block_size];
            crate::history::write_record(&mut b, value, crate::history::stamp_of(txn));
            let cycles = (B_CYCLE_END - 1) << B_CYCLE_SHIFT;
            for tag in [
                HELD,
                HELD | WRITER_IS_RECORDS | VIA_A | B_BESIDE,
                HELD | CONTENT_IS_RECORDS | HAS_SIDE | cycles,
            ] {
                let s = Slot::new(value, txn, tag);
                assert_eq!((s.value(), s.txn(), s.tag()), (value, txn, tag));
                assert_eq!(s.record(), Some((value, txn)));
                assert_eq!(sh.derived(&s), block_digest(&b));
            }
        }
        assert!(!Slot::fits(edge) && !Slot::fits(-edge - 1) && !Slot::fits(i64::MIN));
    }
}
