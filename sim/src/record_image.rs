//! A whole-volume image as the records committed transactions wrote: the judge's
//! replays (B-complete's of every committed transaction, A-consistent's of a backup
//! cycle's OLD ones).
//!
//! A replay only ever sets a record's value and stamp over the initial image
//! ([`crate::history::write_record`]), so it is held as a map record → (value,
//! writer) ([`PartMap`]: a 16-byte slot an entry at a load of 0.7-0.875, one probe a
//! lookup, nothing copied or allocated per block (an [`Image`] is a vector sorted by block, built in ascending order: a
//! replay's writes come in any order). Its
//! comparison with an image read from the stores (`RecordView::diff`) walks the
//! image's blocks and the map's records once; only when they differ is the replay
//! turned into an [`Image`] (`RecordView::to_image`) so that the violation named
//! is exactly [`diff_images`]'s (the first differing record in block order).
//!
//! Where a block holds one record, the judge's replay of every committed transaction
//! shares its table with the judge's per-block entries (`RecordImage::shared`,
//! [`crate::blocks_seen`]): one 16-byte slot a block for both, tagged when its
//! record is held. A backup cycle's replay of its OLD transactions is seen through
//! the records changed since its split over the judge's replay (`Overlaid`), not
//! held as a copy.

use std::collections::BTreeSet;

use engine::store::huge_pages::Zeroable;
use rustc_hash::FxHashMap;

use crate::history::{stamp_of, write_record, Image, Initial, Layout, TxnId, RECORD_HEADER_BYTES};
use crate::image::record_in;
use crate::judge::{halves, whole};
use crate::oracle::diff_images;
use crate::part_map::PartMap;

/// The records written over the initial image (see the module doc); every other
/// record holds its initial value and stamp. The image is `layout.image_bytes()` long.
#[derive(Debug, Clone, Default)]
pub struct RecordImage {
    records: Records,
}

/// A [`RecordImage`]'s table: its own, or one whose slots the judge's per-block
/// entries share ([`crate::blocks_seen`], one record per block).
#[derive(Debug, Clone)]
enum Records {
    /// record → (value, the attempt that wrote it: its stamp is [`stamp_of`] it),
    /// the value as 32-bit halves ([`halves`]): 16-byte slots, not 24.
    Own(PartMap<Written>),
    /// record → [`Slot`]: a record is held when its slot is tagged [`HELD`] (16-byte
    /// slots).
    Shared(PartMap<Slot>),
}

impl Default for Records {
    fn default() -> Self {
        Records::Own(PartMap::default())
    }
}

/// A record's value (as 32-bit halves, [`halves`]) and the attempt that wrote it.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C)]
struct Written {
    value: [u32; 2],
    txn: TxnId,
}

// SAFETY: integers; all zeros is a valid (default) entry.
unsafe impl Zeroable for Written {}

/// A slot of a shared table: a record's value and writer, held when its tag has
/// [`HELD`]; the tag's other bits belong to the table's other user
/// ([`crate::blocks_seen`]), which may hold a slot before its record is written.
/// The value is held in its low [`SLOT_VALUE_BITS`] bits (values of generated and
/// traced loads are far smaller), the tag in the 16 bits above them: 12 bytes, a
/// 16-byte table slot with its key.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C)]
pub(crate) struct Slot {
    /// The value's low 32 bits.
    low: u32,
    /// The value's next 16 bits, then the tag.
    high: u32,
    txn: TxnId,
}

// SAFETY: integers; all zeros is a valid (default) slot: no record held.
unsafe impl Zeroable for Slot {}

// A 16-byte table slot with its key (`crate::part_map::slot_bytes`).
const _: () = assert!(crate::part_map::slot_bytes::<Slot>() == 16);

/// Bits of a value a [`Slot`] holds (two's complement): values from -2^47 to
/// 2^47 - 1 ([`Slot::fits`]). A shared table is given up for a table of its own
/// when a record is written a value past them ([`RecordImage::unshare`]).
pub(crate) const SLOT_VALUE_BITS: u32 = 48;

/// A [`Slot`]'s tag: the bits of its `high` word above the value's.
const TAG_MASK: u32 = !0 << (SLOT_VALUE_BITS - 32);

/// A [`Slot`]'s tag bit: its record is held (written at least once).
pub(crate) const HELD: u32 = 1 << (SLOT_VALUE_BITS - 32);

impl Slot {
    /// Whether a slot holds `value` ([`SLOT_VALUE_BITS`]).
    #[inline(always)]
    pub(crate) fn fits(value: i64) -> bool {
        let unused = 64 - SLOT_VALUE_BITS;
        (value << unused) >> unused == value
    }

    /// A slot holding `value` (it [`Slot::fits`]) written by `txn`, and tag bits `tag`.
    #[cfg(test)]
    pub(crate) fn new(value: i64, txn: TxnId, tag: u32) -> Self {
        let mut s = Slot::default();
        s.hold(value, txn);
        s.high = (s.high & !TAG_MASK) | (tag & TAG_MASK);
        s
    }

    /// The value held (0 when the record is not).
    #[inline(always)]
    pub(crate) fn value(&self) -> i64 {
        let unused = 64 - SLOT_VALUE_BITS;
        let bits = (u64::from(self.high) << 32) | u64::from(self.low);
        ((bits << unused) as i64) >> unused
    }

    /// The writer held (0 when the record is not).
    #[inline(always)]
    pub(crate) fn txn(&self) -> TxnId {
        self.txn
    }

    /// The tag bits (the `high` word's bits above the value's).
    #[inline(always)]
    pub(crate) fn tag(&self) -> u32 {
        self.high & TAG_MASK
    }

    /// Sets tag bits `bits`.
    #[inline(always)]
    pub(crate) fn set(&mut self, bits: u32) {
        self.high |= bits & TAG_MASK;
    }

    /// Clears tag bits `bits`.
    #[inline(always)]
    pub(crate) fn clear(&mut self, bits: u32) {
        self.high &= !(bits & TAG_MASK);
    }

    /// Whether any of tag bits `bits` is set.
    #[inline(always)]
    pub(crate) fn has(&self, bits: u32) -> bool {
        self.high & bits & TAG_MASK != 0
    }

    /// The record is now `value` (it [`Slot::fits`]), written by `txn`, and held;
    /// the tag's other bits are kept.
    #[inline(always)]
    pub(crate) fn hold(&mut self, value: i64, txn: TxnId) {
        debug_assert!(Slot::fits(value));
        let bits = value as u64;
        self.low = bits as u32;
        self.high = (self.high & TAG_MASK) | ((bits >> 32) as u32 & !TAG_MASK) | HELD;
        self.txn = txn;
    }

    /// The record held, as (value, writer).
    #[inline(always)]
    pub(crate) fn record(&self) -> Option<(i64, TxnId)> {
        self.has(HELD).then(|| (self.value(), self.txn))
    }
}

/// Bytes a [`RecordImage`]'s table holds with `records` records written
/// ([`PartMap::bytes_for`], 16-byte slots either way): its own, or, `shared`, the one
/// whose slots are also the judge's per-block entries (one record per block).
pub(crate) fn bytes_for(records: u64, shared: bool) -> u64 {
    if shared {
        PartMap::<Slot>::bytes_for(records)
    } else {
        PartMap::<Written>::bytes_for(records)
    }
}

/// Blocks an image's comparison hints ahead of the one it compares: enough lookups
/// in flight to overlap their cache misses.
pub(crate) const HINT_AHEAD_BLOCKS: usize = 16;

/// Records of a block hinted at most (its first ones).
const HINT_RECORDS_PER_BLOCK: u64 = 4;

impl Records {
    #[inline]
    fn get(&self, r: u64) -> Option<(i64, TxnId)> {
        match self {
            Records::Own(m) => m.get(r).map(|w| (whole(w.value) as i64, w.txn)),
            Records::Shared(m) => m.get(r).and_then(Slot::record),
        }
    }

    #[inline]
    fn prefetch(&self, r: u64) {
        match self {
            Records::Own(m) => m.prefetch(r),
            Records::Shared(m) => m.prefetch(r),
        }
    }

    #[inline]
    fn prefetch_value(&self, r: u64) {
        match self {
            Records::Own(m) => m.prefetch_value(r),
            Records::Shared(m) => m.prefetch_value(r),
        }
    }

    /// Every record held, as (record, value, writer), in no particular order.
    fn for_each(&self, mut f: impl FnMut(u64, i64, TxnId)) {
        match self {
            Records::Own(m) => m
                .iter()
                .for_each(|(r, w)| f(r, whole(w.value) as i64, w.txn)),
            Records::Shared(m) => m.iter().for_each(|(r, s)| {
                if let Some((value, txn)) = s.record() {
                    f(r, value, txn)
                }
            }),
        }
    }
}

impl RecordImage {
    /// An image whose table the judge's per-block entries share
    /// ([`crate::blocks_seen::BlocksSeen::sharing`]): the same records, in one slot
    /// with the block's entry.
    pub(crate) fn shared() -> Self {
        RecordImage {
            records: Records::Shared(PartMap::default()),
        }
    }

    /// The shared table ([`RecordImage::shared`]), if this image has one.
    #[inline]
    pub(crate) fn slots(&self) -> Option<&PartMap<Slot>> {
        match &self.records {
            Records::Shared(m) => Some(m),
            Records::Own(_) => None,
        }
    }

    /// The shared table ([`RecordImage::shared`]), if this image has one, to change.
    #[inline]
    pub(crate) fn slots_mut(&mut self) -> Option<&mut PartMap<Slot>> {
        match &mut self.records {
            Records::Shared(m) => Some(m),
            Records::Own(_) => None,
        }
    }

    /// The same records in a table of its own (its slots' other bits dropped): for
    /// a value a shared slot cannot hold ([`SLOT_VALUE_BITS`]).
    pub(crate) fn unshare(&mut self) {
        if let Records::Shared(m) = &self.records {
            let mut own = PartMap::default();
            m.iter().for_each(|(r, s)| {
                if let Some((value, txn)) = s.record() {
                    own.insert(
                        r,
                        Written {
                            value: halves(value as u64),
                            txn,
                        },
                    );
                }
            });
            self.records = Records::Own(own);
        }
    }

    /// Records held (written at least once).
    pub fn records_held(&self) -> usize {
        let mut n = 0;
        self.records.for_each(|_, _, _| n += 1);
        n
    }

    /// Record `r` now holds `value`, written by attempt `txn`. A shared table keeps
    /// its slots' other bits; a value it cannot hold (48 bits: `SLOT_VALUE_BITS`) turns
    /// it into a table of its own first (`RecordImage::unshare`: its other user gives
    /// up its slots before, as `BlocksSeen::set_record` does).
    pub fn set(&mut self, r: u64, value: i64, txn: TxnId) {
        let value = halves(value as u64);
        match &mut self.records {
            Records::Own(m) => m.insert(r, Written { value, txn }),
            Records::Shared(m) if Slot::fits(whole(value) as i64) => {
                m.entry(r).hold(whole(value) as i64, txn)
            }
            Records::Shared(_) => {
                self.unshare();
                self.set(r, whole(value) as i64, txn);
            }
        }
    }
}

/// An image of records over the initial one, as a replay holds it: a
/// [`RecordImage`], or one seen through the records changed since
/// ([`Overlaid`]). Its comparison with an image is defined here once.
pub(crate) trait RecordView {
    /// Record `r`'s value and writer, if written.
    fn get(&self, r: u64) -> Option<(i64, TxnId)>;

    /// Calls `f` with every record held, as (record, value, writer), in no
    /// particular order.
    fn for_each_record(&self, f: impl FnMut(u64, i64, TxnId));

    /// Asks the cache line where record `r` is looked up into the processor's caches
    /// (a hint: nothing changes).
    fn prefetch(&self, r: u64);

    /// Asks the cache line of record `r`'s value into the processor's caches (a hint:
    /// nothing changes). It reads the line [`RecordView::prefetch`] hints: meant a few
    /// lookups after that hint, a few before `r` is looked up.
    fn prefetch_value(&self, r: u64);

    /// Record `r`'s value and stamp in this image.
    fn record(&self, layout: &Layout, initial: &Initial, r: u64) -> (i64, u64) {
        match self.get(r) {
            Some((value, txn)) => (value, stamp_of(txn)),
            None => initial.record(layout, r),
        }
    }

    /// Asks the cache lines where block `b`'s records (its first
    /// [`HINT_RECORDS_PER_BLOCK`]) are looked up into the processor's caches: a hint,
    /// a few blocks before [`RecordView::match_block`] of `b`.
    #[inline]
    fn prefetch_block(&self, layout: &Layout, b: u64) {
        let per = layout.records_per_block();
        let first = b.saturating_mul(per);
        for r in first..first.saturating_add(per.min(HINT_RECORDS_PER_BLOCK)) {
            self.prefetch(r);
        }
    }

    /// The second step of [`RecordView::prefetch_block`]: the lines of those records'
    /// values ([`RecordView::prefetch_value`]), a few blocks after the first step.
    #[inline]
    fn prefetch_block_values(&self, layout: &Layout, b: u64) {
        let per = layout.records_per_block();
        let first = b.saturating_mul(per);
        for r in first..first.saturating_add(per.min(HINT_RECORDS_PER_BLOCK)) {
            self.prefetch_value(r);
        }
    }

    /// The same image as an [`Image`] (the blocks that differ from the initial one).
    fn to_image(&self, layout: &Layout, initial: &Initial) -> Image {
        let mut image = Image::unchanged(layout.image_bytes() as u64);
        let mut sorted: Vec<(u64, (i64, TxnId))> = Vec::new();
        self.for_each_record(|r, v, txn| sorted.push((r, (v, txn))));
        sorted.sort_unstable_by_key(|&(r, _)| r);
        let mut k = 0;
        while k < sorted.len() {
            let block = layout.block_of(sorted[k].0);
            let mut end = k;
            while end < sorted.len() && layout.block_of(sorted[end].0) == block {
                end += 1;
            }
            let records = &sorted[k..end];
            image.update_block(layout, initial, block, |d| {
                for &(r, (value, txn)) in records {
                    write_record(&mut d[layout.offset_in_block(r)..], value, stamp_of(txn));
                }
            });
            k = end;
        }
        image
    }

    /// The first record where this image (expected) and `actual` differ, as
    /// [`diff_images`] names it, or `None` when they are equal outside the blocks in
    /// `unreadable`.
    fn diff(
        &self,
        layout: &Layout,
        initial: &Initial,
        actual: &Image,
        unreadable: &BTreeSet<u64>,
    ) -> Option<(String, Vec<TxnId>)> {
        if self.matches(layout, initial, actual, unreadable) {
            return None;
        }
        diff_images(
            layout,
            initial,
            &self.to_image(layout, initial),
            actual,
            unreadable,
        )
    }

    /// True when [`diff_images`] of this image and `actual` finds nothing: every volume
    /// block outside `unreadable` has the same content in both. False whenever unsure
    /// (the caller then compares exactly).
    fn matches(
        &self,
        layout: &Layout,
        initial: &Initial,
        actual: &Image,
        unreadable: &BTreeSet<u64>,
    ) -> bool {
        if !layout.is_valid() || actual.len_bytes() != layout.image_bytes() as u64 {
            return false;
        }
        let mut check = Matching::default();
        // The blocks the actual image holds (they differ from the initial content),
        // each block's records hinted in two steps: where they are looked up
        // 2 × [`HINT_AHEAD_BLOCKS`] blocks ahead, their values [`HINT_AHEAD_BLOCKS`]
        // blocks ahead.
        let ahead = |n: usize| actual.held().map(|(b, _)| b).skip(n);
        let (mut keys_ahead, mut values_ahead) =
            (ahead(2 * HINT_AHEAD_BLOCKS), ahead(HINT_AHEAD_BLOCKS));
        for (b, _) in actual.held().take(2 * HINT_AHEAD_BLOCKS) {
            self.prefetch_block(layout, b);
        }
        for (b, held) in actual.held() {
            if let Some(next) = keys_ahead.next() {
                self.prefetch_block(layout, next);
            }
            if let Some(next) = values_ahead.next() {
                self.prefetch_block_values(layout, next);
            }
            if b >= layout.volume_blocks || unreadable.contains(&b) {
                continue;
            }
            if !self.match_block(layout, initial, &mut check, b, held) {
                return false;
            }
        }
        self.matched(layout, initial, &check, unreadable)
    }

    /// One block of an image compared as [`RecordView::matches`] compares it: block
    /// `b` (below the volume's size, readable) holds `held` (its bytes up to its last
    /// non-zero one), which differs from its initial content. False when a record
    /// differs (or whenever unsure); `check` counts what [`RecordView::matched`]
    /// needs. Each such block of the image is given once, in any order.
    fn match_block(
        &self,
        layout: &Layout,
        initial: &Initial,
        check: &mut Matching,
        b: u64,
        held: &[u8],
    ) -> bool {
        let per = layout.records_per_block();
        if matches!(initial, Initial::Bytes(_)) {
            // Block by block (the small volumes of hand-built records).
            let expected = &mut check.expected;
            expected.resize(layout.block_size, 0);
            initial.block(layout, b, expected);
            for r in b * per..(b + 1) * per {
                if let Some((value, txn)) = self.get(r) {
                    let off = layout.offset_in_block(r);
                    write_record(&mut expected[off..], value, stamp_of(txn));
                    if initial.record(layout, r) != (value, stamp_of(txn)) {
                        check.differing_in_held += 1;
                    }
                }
            }
            let n = held.len().min(expected.len());
            return expected[..n] == held[..n] && expected[n..].iter().all(|&x| x == 0);
        }
        // A computed initial image: each record's first 16 bytes, zeros elsewhere.
        for r in b * per..(b + 1) * per {
            let off = layout.offset_in_block(r);
            let was = initial.record(layout, r);
            let now = match self.get(r) {
                Some((value, txn)) => (value, stamp_of(txn)),
                None => was,
            };
            if record_in(held, off) != now {
                return false;
            }
            check.differing_in_held += usize::from(now != was);
            let rest = held
                .get(off + RECORD_HEADER_BYTES..(off + layout.record_size).min(held.len()))
                .unwrap_or(&[]);
            if rest.iter().any(|&x| x != 0) {
                return false;
            }
        }
        true
    }

    /// After every block of an image that differs from its initial content passed
    /// [`RecordView::match_block`]: true when the image equals this one outside the
    /// blocks in `unreadable` (those given to `match_block` exclude them).
    fn matched(
        &self,
        layout: &Layout,
        initial: &Initial,
        check: &Matching,
        unreadable: &BTreeSet<u64>,
    ) -> bool {
        // Every record of the replay that differs from its initial content must lie
        // in a block compared (elsewhere the actual image holds the initial
        // content): those counted there are among these, so equal counts say so
        // without a lookup in the actual image per record.
        let mut differing = 0;
        self.for_each_record(|r, value, txn| {
            let b = layout.block_of(r);
            if b < layout.volume_blocks
                && (unreadable.is_empty() || !unreadable.contains(&b))
                && initial.record(layout, r) != (value, stamp_of(txn))
            {
                differing += 1;
            }
        });
        differing == check.differing_in_held
    }
}

impl RecordView for RecordImage {
    #[inline]
    fn get(&self, r: u64) -> Option<(i64, TxnId)> {
        self.records.get(r)
    }

    fn for_each_record(&self, f: impl FnMut(u64, i64, TxnId)) {
        self.records.for_each(f);
    }

    #[inline]
    fn prefetch(&self, r: u64) {
        self.records.prefetch(r);
    }

    #[inline]
    fn prefetch_value(&self, r: u64) {
        self.records.prefetch_value(r);
    }
}

/// Records changed over an image: record → its value and writer, or `None` for
/// its initial value and stamp.
pub(crate) type Changes = FxHashMap<u64, Option<(i64, TxnId)>>;

/// A [`RecordImage`] seen through [`Changes`] over it: a record changed is as the
/// changes say, any other as the image holds it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Overlaid<'a> {
    pub(crate) base: &'a RecordImage,
    pub(crate) changes: &'a Changes,
}

impl RecordView for Overlaid<'_> {
    #[inline]
    fn get(&self, r: u64) -> Option<(i64, TxnId)> {
        match self.changes.get(&r) {
            Some(&x) => x,
            None => self.base.get(r),
        }
    }

    fn for_each_record(&self, mut f: impl FnMut(u64, i64, TxnId)) {
        if self.changes.is_empty() {
            return self.base.for_each_record(f);
        }
        self.base.for_each_record(|r, value, txn| {
            if !self.changes.contains_key(&r) {
                f(r, value, txn)
            }
        });
        for (&r, &x) in self.changes {
            if let Some((value, txn)) = x {
                f(r, value, txn);
            }
        }
    }

    #[inline]
    fn prefetch(&self, r: u64) {
        self.base.prefetch(r);
    }

    #[inline]
    fn prefetch_value(&self, r: u64) {
        self.base.prefetch_value(r);
    }
}

/// What [`RecordImage::match_block`] has counted over an image's blocks so far.
#[derive(Debug, Default)]
pub(crate) struct Matching {
    /// Records of the replay, in the blocks compared, that differ from their initial
    /// value and stamp.
    differing_in_held: usize,
    /// One block's scratch (an initial image given byte for byte).
    expected: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::InitialValues;

    /// Four records of 32 bytes a block: 16 bytes of each are outside its header.
    const L: Layout = Layout {
        block_size: 128,
        volume_blocks: 4,
        record_size: 32,
    };

    /// The replay's comparison agrees with [`diff_images`] on the same images: equal,
    /// a record differing, a record written back to its initial content, bytes
    /// outside the records, an unreadable block, a wrong length.
    #[test]
    fn the_comparison_agrees_with_the_image_diff() {
        let initials = [
            Initial::Pattern(InitialValues {
                value: 7,
                records: 16,
            }),
            Initial::Bytes((0..L.image_bytes()).map(|i| (i % 5) as u8).collect()),
        ];
        for initial in &initials {
            let mut replay = RecordImage::default();
            replay.set(5, 9, 3);
            replay.set(6, -1, 4);
            replay.set(12, 2, 0);
            let same = replay.to_image(&L, initial);
            assert_eq!(same.held_blocks(), 2);
            let none = BTreeSet::new();
            assert_eq!(replay.diff(&L, initial, &same, &none), None);
            assert!(replay.matches(&L, initial, &same, &none));
            let mut cases: Vec<(Image, BTreeSet<u64>)> = Vec::new();
            // A record of a held block differs.
            let mut other = same.clone();
            other.update_block(&L, initial, 1, |d| write_record(&mut d[16..], 8, 4));
            cases.push((other, none.clone()));
            // The actual image lacks a block the replay wrote.
            let mut other = same.clone();
            other.set_block(&L, initial, 3, &{
                let mut b = vec![0u8; L.block_size];
                initial.block(&L, 3, &mut b);
                b
            });
            cases.push((other.clone(), none.clone()));
            // ... which an unreadable block excuses.
            cases.push((other, BTreeSet::from([3])));
            // A byte outside the records' headers.
            let mut other = same.clone();
            other.update_block(&L, initial, 0, |d| d[20] = 1);
            cases.push((other, none.clone()));
            // A wrong length.
            let mut other = same.clone();
            other.set_len_bytes(L.block_size as u64);
            cases.push((other, none.clone()));
            for (actual, unreadable) in &cases {
                let exact = diff_images(&L, initial, &same, actual, unreadable);
                assert_eq!(replay.diff(&L, initial, actual, unreadable), exact);
                assert_eq!(
                    replay.matches(&L, initial, actual, unreadable),
                    exact.is_none()
                );
            }
            // The cases reached both verdicts.
            assert!(cases
                .iter()
                .any(|(a, u)| diff_images(&L, initial, &same, a, u).is_none()));
            assert!(cases
                .iter()
                .any(|(a, u)| diff_images(&L, initial, &same, a, u).is_some()));
            assert_eq!(replay.record(&L, initial, 5), (9, 4));
            assert_eq!(replay.record(&L, initial, 4), initial.record(&L, 4));
        }
    }

    /// An image seen through changes over it is the image with the changes applied:
    /// each record, the records held, and the comparison with an image (equal and
    /// differing), in both table forms; a change back to the initial content and a
    /// change of a record the image does not hold were reached.
    #[test]
    fn an_overlaid_image_is_the_image_changed() {
        let initial = Initial::Pattern(InitialValues {
            value: 7,
            records: 16,
        });
        for mut base in [RecordImage::default(), RecordImage::shared()] {
            base.set(5, 9, 3);
            base.set(6, -1, 4);
            base.set(12, 2, 0);
            let mut changes = Changes::default();
            changes.insert(5, None);
            changes.insert(6, Some((8, 9)));
            changes.insert(2, Some((1, 10)));
            let view = Overlaid {
                base: &base,
                changes: &changes,
            };
            let mut applied = RecordImage::default();
            applied.set(6, 8, 9);
            applied.set(12, 2, 0);
            applied.set(2, 1, 10);
            for r in 0..L.records() {
                assert_eq!(view.get(r), applied.get(r), "record {r}");
            }
            let mut held = Vec::new();
            view.for_each_record(|r, v, t| held.push((r, v, t)));
            held.sort_unstable();
            assert_eq!(held, vec![(2, 1, 10), (6, 8, 9), (12, 2, 0)]);
            let same = applied.to_image(&L, &initial);
            let none = BTreeSet::new();
            assert_eq!(view.diff(&L, &initial, &same, &none), None);
            let old = base.to_image(&L, &initial);
            assert_eq!(
                view.diff(&L, &initial, &old, &none),
                applied.diff(&L, &initial, &old, &none)
            );
            assert!(view.diff(&L, &initial, &old, &none).is_some());
        }
    }
}
