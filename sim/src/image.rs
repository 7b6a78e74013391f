//! Whole-volume images held sparsely: the blocks that differ from the history's
//! initial image, nothing else.
//!
//! A history carries four kinds of whole-volume image (the initial one, VLUN A as
//! declared consistent, the archive, the live volume at the end). Held byte for byte,
//! each costs the volume's size: 1 TiB for a 1 TiB volume. Here the initial image is
//! either given byte for byte ([`Initial::Bytes`], the model checker's small volumes
//! and hand-built records) or computed block by block from the workload's initial
//! values ([`Initial::Pattern`], [`crate::history::initial_block`]), and every other
//! image is an [`Image`]: the blocks where it differs from the initial one. A block
//! absent from an image holds its initial content, so two images are equal exactly
//! when they hold the same blocks (the representation is canonical: a block equal to
//! its initial content is never held). A held block keeps its bytes up to its last
//! non-zero one (the rest of the block is zeros): the simulator's records use the
//! first 16 bytes of a record, so a block of one record costs tens of bytes, not its
//! size. The held blocks are one vector sorted by block, each entry 32 bytes with up
//! to [`HELD_INLINE_BYTES`] of content inside it (a record block of the simulator:
//! its value and the non-zero bytes of its stamp) and longer contents in one exact
//! allocation; the simulator builds its images in ascending block order, so a block
//! is appended, and a lookup is a binary search.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::history::{initial_block, read_record, Layout};
use crate::workload::InitialValues;

/// The whole-volume image before the first event.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Initial {
    /// Every byte, `layout.image_bytes()` long.
    Bytes(Vec<u8>),
    /// Each block as [`initial_block`] computes it from these values.
    Pattern(InitialValues),
}

impl Initial {
    /// The image's length in bytes (`layout.image_bytes()` unless malformed).
    pub fn len(&self, layout: &Layout) -> u64 {
        match self {
            Initial::Bytes(b) => b.len() as u64,
            Initial::Pattern(_) => layout.image_bytes() as u64,
        }
    }

    /// True when the image holds no bytes.
    pub fn is_empty(&self, layout: &Layout) -> bool {
        self.len(layout) == 0
    }

    /// Fills `buf` (one block) with block `block`'s initial content; bytes past a
    /// short [`Initial::Bytes`] read as zeros.
    pub fn block(&self, layout: &Layout, block: u64, buf: &mut [u8]) {
        match self {
            Initial::Pattern(values) => initial_block(layout, *values, block, buf),
            Initial::Bytes(bytes) => {
                buf.fill(0);
                let from = (block as usize).saturating_mul(layout.block_size);
                if from < bytes.len() {
                    let n = buf.len().min(bytes.len() - from);
                    buf[..n].copy_from_slice(&bytes[from..from + n]);
                }
            }
        }
    }

    /// Record `r`'s value and stamp in the initial image.
    pub fn record(&self, layout: &Layout, r: u64) -> (i64, u64) {
        match self {
            Initial::Pattern(values) => (values.of(r), 0),
            Initial::Bytes(bytes) => read_record(&bytes[layout.offset_in_image(r)..]),
        }
    }
}

/// Content bytes an [`Image`] keeps inside a block's entry; longer contents take an
/// allocation of their own.
pub const HELD_INLINE_BYTES: usize = 22;

/// Bytes an [`Image`] holds per block held, content up to [`HELD_INLINE_BYTES`]
/// included (the vector's spare room not counted: it is never touched, so never
/// resident).
pub const IMAGE_BYTES_PER_BLOCK: u64 = std::mem::size_of::<(u64, Held)>() as u64;

/// A held block's bytes up to its last non-zero one: inside the entry when short
/// (the unused inline bytes zero, so equal contents are equal values), else on the
/// heap.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Held {
    Inline {
        len: u8,
        bytes: [u8; HELD_INLINE_BYTES],
    },
    Heap(Box<[u8]>),
}

impl Held {
    /// `data` as held (its trailing zeros are kept: callers trim first).
    fn new(data: &[u8]) -> Self {
        if data.len() <= HELD_INLINE_BYTES {
            let mut bytes = [0u8; HELD_INLINE_BYTES];
            bytes[..data.len()].copy_from_slice(data);
            Held::Inline {
                len: data.len() as u8,
                bytes,
            }
        } else {
            Held::Heap(data.into())
        }
    }

    fn as_slice(&self) -> &[u8] {
        match self {
            Held::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Held::Heap(b) => b,
        }
    }
}

/// A whole-volume image as the blocks where it differs from the initial image
/// (see the module doc). `len_bytes` is the image's length; a block is held only
/// when its content differs from the initial one.
///
/// Serialised as `{ len_bytes, blocks: { block: [byte, …] } }` (the blocks ascending,
/// each its bytes up to its last non-zero one).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Image {
    len_bytes: u64,
    /// Each held block and its bytes up to its last non-zero one, ascending by block,
    /// each block once.
    blocks: Vec<(u64, Held)>,
}

/// [`Image`]'s serialised form.
#[derive(Serialize, Deserialize)]
#[serde(rename = "Image")]
struct ImageForm<B> {
    len_bytes: u64,
    blocks: B,
}

/// The held blocks serialised as a map, ascending.
struct HeldBlocks<'a>(&'a [(u64, Held)]);

impl Serialize for HeldBlocks<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(b, d)| (b, d.as_slice())))
    }
}

impl Serialize for Image {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ImageForm {
            len_bytes: self.len_bytes,
            blocks: HeldBlocks(&self.blocks),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Image {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let form = ImageForm::<BTreeMap<u64, Vec<u8>>>::deserialize(d)?;
        Ok(Image {
            len_bytes: form.len_bytes,
            blocks: form
                .blocks
                .into_iter()
                .map(|(b, d)| (b, trimmed(&d)))
                .collect(),
        })
    }
}

/// `data` without its trailing zeros.
fn trimmed(data: &[u8]) -> Held {
    Held::new(held_of(data))
}

thread_local! {
    /// One block's worth of scratch for [`Image`]'s changes, reused from call to call
    /// (a changed block is read into it, changed and trimmed: no allocation of a whole
    /// block per change).
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` on a scratch buffer of `len` bytes (its content unspecified).
fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            buf.resize(len, 0);
            f(&mut buf[..len])
        }
        // Re-entered (a change made inside a change): a buffer of its own.
        Err(_) => f(&mut vec![0u8; len]),
    })
}

/// The value and stamp of the record at byte `off` of held bytes `d` (zeros past them).
pub fn record_in(d: &[u8], off: usize) -> (i64, u64) {
    let mut r = [0u8; crate::history::RECORD_HEADER_BYTES];
    let from = d.get(off..).unwrap_or(&[]);
    let n = from.len().min(r.len());
    r[..n].copy_from_slice(&from[..n]);
    read_record(&r)
}

/// The digest ([`crate::history::block_digest`]) of a block of `block_size` bytes
/// whose held bytes are `d` (zeros after them).
pub fn held_digest(d: &[u8], block_size: usize) -> u64 {
    crate::history::zero_extended_digest(d, block_size)
}

/// The bytes of a block read as `prefix` (its leading bytes, zeros after them up to
/// the block size) up to its last non-zero one: what an image holds of it.
pub fn held_of(prefix: &[u8]) -> &[u8] {
    &prefix[..engine::store::content_len(prefix)]
}

/// True when `held` (a block's bytes up to its last non-zero one, the rest zeros) is
/// block `block`'s initial content. A computed initial image is compared record by
/// record, without building the block.
pub fn is_initial(layout: &Layout, initial: &Initial, block: u64, held: &[u8]) -> bool {
    match initial {
        Initial::Pattern(values) if layout.is_valid() => {
            if block >= layout.volume_blocks {
                return held.is_empty();
            }
            let per = layout.records_per_block();
            if held.len() > per as usize * layout.record_size {
                return false;
            }
            (0..per).all(|i| {
                let off = i as usize * layout.record_size;
                let header = off + crate::history::RECORD_HEADER_BYTES;
                record_in(held, off) == (values.of(block * per + i), 0)
                    && held
                        .get(header..(off + layout.record_size).min(held.len()))
                        .unwrap_or(&[])
                        .iter()
                        .all(|&x| x == 0)
            })
        }
        _ => with_scratch(layout.block_size, |base| {
            initial.block(layout, block, base);
            held.len() <= base.len()
                && base[..held.len()] == *held
                && base[held.len()..].iter().all(|&x| x == 0)
        }),
    }
}

/// Copies held bytes `d` into `buf` (a whole block or a short last one), zeros after.
fn expand_into(d: &[u8], buf: &mut [u8]) {
    let n = d.len().min(buf.len());
    buf[..n].copy_from_slice(&d[..n]);
    buf[n..].fill(0);
}

impl Image {
    /// An image equal to the initial one, `len_bytes` long.
    pub fn unchanged(len_bytes: u64) -> Self {
        Image {
            len_bytes,
            blocks: Vec::new(),
        }
    }

    /// Where block `block` is, or would be inserted, in `blocks`.
    fn find(&self, block: u64) -> Result<usize, usize> {
        // Appending in ascending order is the common case: no search.
        match self.blocks.last() {
            None => Err(0),
            Some(&(last, _)) if last < block => Err(self.blocks.len()),
            _ => self.blocks.binary_search_by_key(&block, |&(b, _)| b),
        }
    }

    fn insert(&mut self, block: u64, held: Held) {
        match self.find(block) {
            Ok(i) => self.blocks[i].1 = held,
            Err(i) => self.blocks.insert(i, (block, held)),
        }
    }

    fn remove(&mut self, block: u64) {
        if let Ok(i) = self.find(block) {
            self.blocks.remove(i);
        }
    }

    fn held_at(&self, block: u64) -> Option<&Held> {
        self.find(block).ok().map(|i| &self.blocks[i].1)
    }

    /// The sparse form of `bytes` (a whole image) over `initial`.
    pub fn from_bytes(layout: &Layout, initial: &Initial, bytes: &[u8]) -> Self {
        let mut image = Image::unchanged(bytes.len() as u64);
        for (b, chunk) in bytes.chunks(layout.block_size).enumerate() {
            image.set_block(layout, initial, b as u64, chunk);
        }
        image
    }

    /// The sparse form of `bytes` (a whole image) over an initial image given byte
    /// for byte (`initial`, as [`Initial::Bytes`] holds it): no copy of `initial`.
    pub fn diff(layout: &Layout, initial: &[u8], bytes: &[u8]) -> Self {
        let bs = layout.block_size;
        let mut image = Image::unchanged(bytes.len() as u64);
        for (b, chunk) in bytes.chunks(bs).enumerate() {
            let from = b * bs;
            let base = initial.get(from..(from + chunk.len()).min(initial.len()));
            if base != Some(chunk) {
                image.insert(b as u64, trimmed(chunk));
            }
        }
        image
    }

    /// The whole image, byte for byte (small volumes: tests and the model checker).
    pub fn to_bytes(&self, layout: &Layout, initial: &Initial) -> Vec<u8> {
        let mut out = vec![0u8; self.len_bytes as usize];
        for (b, chunk) in out.chunks_mut(layout.block_size).enumerate() {
            self.block_into(layout, initial, b as u64, chunk);
        }
        out
    }

    /// The image of `len_bytes` bytes holding `held`: blocks ascending, each once,
    /// each with its content up to its last non-zero byte, differing from its initial
    /// content (as [`Image::held`] gives them).
    pub(crate) fn from_held<'a>(
        len_bytes: u64,
        held: impl Iterator<Item = (u64, &'a [u8])>,
    ) -> Image {
        Image {
            len_bytes,
            blocks: held.map(|(b, d)| (b, Held::new(d))).collect(),
        }
    }

    /// The image of the same length holding only the first `k` held blocks of this one.
    #[cfg(test)]
    pub(crate) fn prefix(&self, k: usize) -> Image {
        Image {
            len_bytes: self.len_bytes,
            blocks: self.blocks[..k.min(self.blocks.len())].to_vec(),
        }
    }

    /// True when `data` (one block, or a short last block) is block `block`'s
    /// initial content as [`Image::set_block`] judges it (such a block is not held).
    pub(crate) fn is_unchanged(
        layout: &Layout,
        initial: &Initial,
        block: u64,
        data: &[u8],
    ) -> bool {
        with_scratch(layout.block_size, |base| {
            initial.block(layout, block, base);
            base[..data.len()] == *data
        })
    }

    /// The image's length in bytes.
    pub fn len_bytes(&self) -> u64 {
        self.len_bytes
    }

    /// Sets the image's length in bytes (an image built block by block).
    pub fn set_len_bytes(&mut self, len_bytes: u64) {
        self.len_bytes = len_bytes;
    }

    /// Frees the spare room of the held blocks' vector (an image kept long after it
    /// is built).
    pub fn shrink_to_fit(&mut self) {
        self.blocks.shrink_to_fit();
    }

    /// Blocks held (those differing from the initial image).
    pub fn held_blocks(&self) -> usize {
        self.blocks.len()
    }

    /// The blocks differing from the initial image, ascending, with their content up
    /// to its last non-zero byte (the rest of the block is zeros).
    pub fn held(&self) -> impl Iterator<Item = (u64, &[u8])> + '_ {
        self.blocks.iter().map(|(b, d)| (*b, d.as_slice()))
    }

    /// Takes the image apart from its last held block down to its first: `f` is
    /// called with each held block, its bytes (up to its last non-zero one) and the
    /// held block before it (`None` for the first), descending. The memory of every
    /// `batch` blocks (at least one) is given back before the next are taken, so the
    /// image shrinks as the caller's result grows.
    pub(crate) fn consume_rev(mut self, batch: usize, mut f: impl FnMut(u64, &[u8], Option<u64>)) {
        let batch = batch.max(1);
        while !self.blocks.is_empty() {
            let keep = self.blocks.len().saturating_sub(batch);
            for j in (keep..self.blocks.len()).rev() {
                let prev = j.checked_sub(1).map(|i| self.blocks[i].0);
                let (b, d) = &self.blocks[j];
                f(*b, d.as_slice(), prev);
            }
            self.blocks.truncate(keep);
            self.blocks.shrink_to_fit();
        }
    }

    /// Block `block`'s held bytes (up to its last non-zero one) if it differs from
    /// the initial one.
    pub fn get(&self, block: u64) -> Option<&[u8]> {
        self.held_at(block).map(Held::as_slice)
    }

    /// Fills `buf` (one block, or the image's short last block) with block `block`.
    pub fn block_into(&self, layout: &Layout, initial: &Initial, block: u64, buf: &mut [u8]) {
        match self.held_at(block) {
            Some(d) => expand_into(d.as_slice(), buf),
            None if buf.len() == layout.block_size => initial.block(layout, block, buf),
            None => {
                let mut whole = vec![0u8; layout.block_size];
                initial.block(layout, block, &mut whole);
                buf.copy_from_slice(&whole[..buf.len()]);
            }
        }
    }

    /// Record `r`'s value and stamp in this image.
    pub fn record(&self, layout: &Layout, initial: &Initial, r: u64) -> (i64, u64) {
        match self.held_at(layout.block_of(r)) {
            Some(d) => record_in(d.as_slice(), layout.offset_in_block(r)),
            None => initial.record(layout, r),
        }
    }

    /// Sets block `block` to `data` (one block, or a short last block), keeping the
    /// form canonical: a block equal to its initial content is dropped.
    pub fn set_block(&mut self, layout: &Layout, initial: &Initial, block: u64, data: &[u8]) {
        if Image::is_unchanged(layout, initial, block, data) {
            self.remove(block);
        } else {
            self.insert(block, trimmed(data));
        }
    }

    /// Sets block `block` to `prefix`: its leading bytes, zeros after them up to the
    /// block size (at most a block; as the engine's prefix reads give it), keeping the
    /// form canonical. Neither fills nor scans a whole block.
    pub fn set_block_prefix(
        &mut self,
        layout: &Layout,
        initial: &Initial,
        block: u64,
        prefix: &[u8],
    ) {
        self.set_block_held(layout, initial, block, held_of(prefix));
    }

    /// Sets block `block` to `held`, its bytes up to the last non-zero one (zeros
    /// after them up to the block size: [`held_of`] a prefix), keeping the form
    /// canonical.
    pub(crate) fn set_block_held(
        &mut self,
        layout: &Layout,
        initial: &Initial,
        block: u64,
        held: &[u8],
    ) {
        match Image::held_form(layout, initial, block, held) {
            Some(h) => self.insert(block, h),
            None => self.remove(block),
        }
    }

    /// What a canonical image holds of block `block` whose bytes up to the last
    /// non-zero one are `held`: nothing when that is its initial content.
    fn held_form(layout: &Layout, initial: &Initial, block: u64, held: &[u8]) -> Option<Held> {
        (!is_initial(layout, initial, block, held)).then(|| Held::new(held))
    }

    /// Changes block `block` with `f` (given the block's whole current content),
    /// keeping the form canonical.
    pub fn update_block(
        &mut self,
        layout: &Layout,
        initial: &Initial,
        block: u64,
        f: impl FnOnce(&mut [u8]),
    ) {
        let bs = layout.block_size;
        let changed = with_scratch(2 * bs, |buf| {
            let (data, base) = buf.split_at_mut(bs);
            self.block_into(layout, initial, block, data);
            f(data);
            initial.block(layout, block, base);
            (data != base).then(|| trimmed(data))
        });
        match changed {
            Some(held) => self.insert(block, held),
            None => self.remove(block),
        }
    }

    /// As [`Image::update_block`], for a caller that knows the changed block differs
    /// from its initial content (no comparison made).
    pub fn update_block_differing(
        &mut self,
        layout: &Layout,
        initial: &Initial,
        block: u64,
        f: impl FnOnce(&mut [u8]),
    ) {
        let held = with_scratch(layout.block_size, |data| {
            self.block_into(layout, initial, block, data);
            f(data);
            trimmed(data)
        });
        self.insert(block, held);
    }

    /// The blocks held by `self` or `other`, ascending, each once: outside them both
    /// images hold the initial content, so they are equal there by construction.
    pub fn touched_with<'a>(&'a self, other: &'a Image) -> impl Iterator<Item = u64> + 'a {
        let mut a = self.blocks.iter().map(|&(b, _)| b).peekable();
        let mut b = other.blocks.iter().map(|&(b, _)| b).peekable();
        std::iter::from_fn(move || match (a.peek().copied(), b.peek().copied()) {
            (Some(x), Some(y)) => {
                if x <= y {
                    a.next();
                }
                if y <= x {
                    b.next();
                }
                Some(x.min(y))
            }
            (Some(_), None) => a.next(),
            (None, Some(_)) => b.next(),
            (None, None) => None,
        })
    }
}

/// An [`Image`] received block by block in any order, each block once (a walk of the
/// stores' tables, which is not ascending): the blocks that differ from their initial
/// content are gathered, and sorted once at the end ([`UnorderedImage::finish`]), not
/// inserted one by one into the sorted vector.
#[derive(Debug)]
pub(crate) struct UnorderedImage {
    len_bytes: u64,
    /// The held blocks received so far, in the order received.
    blocks: Vec<(u64, Held)>,
}

impl UnorderedImage {
    /// An image of `len_bytes` bytes, equal to the initial one until blocks are set.
    pub(crate) fn new(len_bytes: u64) -> Self {
        UnorderedImage {
            len_bytes,
            blocks: Vec::new(),
        }
    }

    /// Sets block `block`, not set before, to `prefix` (as [`Image::set_block_prefix`]
    /// takes it).
    pub(crate) fn set_block_prefix(
        &mut self,
        layout: &Layout,
        initial: &Initial,
        block: u64,
        prefix: &[u8],
    ) {
        if let Some(h) = Image::held_form(layout, initial, block, held_of(prefix)) {
            self.blocks.push((block, h));
        }
    }

    /// The image: the blocks set, ascending. A block set twice (not allowed) is held
    /// once, with one of its contents.
    pub(crate) fn finish(mut self) -> Image {
        self.blocks.sort_unstable_by_key(|&(b, _)| b);
        self.blocks.dedup_by_key(|&mut (b, _)| b);
        Image {
            len_bytes: self.len_bytes,
            blocks: self.blocks,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::write_record;

    const L: Layout = Layout {
        block_size: 32,
        volume_blocks: 4,
        record_size: 16,
    };

    #[test]
    fn a_held_block_entry_is_32_bytes_and_short_contents_live_in_it() {
        assert_eq!(IMAGE_BYTES_PER_BLOCK, 32);
        let short = Held::new(&[1; HELD_INLINE_BYTES]);
        assert!(matches!(short, Held::Inline { .. }));
        assert_eq!(short.as_slice(), &[1; HELD_INLINE_BYTES]);
        let long = Held::new(&[2; HELD_INLINE_BYTES + 1]);
        assert!(matches!(long, Held::Heap(_)));
        assert_eq!(long.as_slice(), &[2; HELD_INLINE_BYTES + 1]);
    }

    /// Blocks changed out of order, overwritten and dropped: the image stays sorted,
    /// each block once, and serialises as the map it did before (blocks ascending).
    #[test]
    fn changes_in_any_order_keep_one_sorted_entry_per_block() {
        let initial = Initial::Pattern(InitialValues {
            value: 7,
            records: 8,
        });
        let mut img = Image::unchanged(L.image_bytes() as u64);
        for (block, value) in [(3u64, 1i64), (0, 2), (2, 3), (0, 4), (1, 5)] {
            img.update_block(&L, &initial, block, |d| write_record(d, value, 1));
        }
        img.update_block(&L, &initial, 2, |d| write_record(d, 7, 0));
        let blocks: Vec<u64> = img.held().map(|(b, _)| b).collect();
        assert_eq!(blocks, vec![0, 1, 3]);
        assert_eq!(img.record(&L, &initial, 0), (4, 1));
        let json = serde_json::to_string(&img).unwrap();
        assert!(
            json.starts_with(r#"{"len_bytes":128,"blocks":{"0":[4,"#),
            "{json}"
        );
        let back: Image = serde_json::from_str(&json).unwrap();
        assert_eq!(back, img);
    }

    #[test]
    fn sparse_form_round_trips_and_is_canonical() {
        let initial = Initial::Pattern(InitialValues {
            value: 7,
            records: 8,
        });
        let dense = Image::unchanged(L.image_bytes() as u64).to_bytes(&L, &initial);
        assert_eq!(dense.len(), L.image_bytes());
        let mut changed = dense.clone();
        write_record(&mut changed[L.offset_in_image(5)..], 9, 3);
        let img = Image::from_bytes(&L, &initial, &changed);
        assert_eq!(img.held_blocks(), 1);
        // Held up to the last non-zero byte; digests and records as of the whole block.
        let held = img.held().next().unwrap().1;
        assert!(held.len() < L.block_size && held.len() >= 16 + 9);
        assert_eq!(
            held_digest(held, L.block_size),
            crate::history::block_digest(&changed[64..96])
        );
        assert_eq!(record_in(held, 16), (9, 3));
        assert_eq!(record_in(held, 40), (0, 0));
        assert_eq!(img.get(2), Some(&changed[64..64 + 25]));
        assert_eq!(img.to_bytes(&L, &initial), changed);
        assert_eq!(img.record(&L, &initial, 5), (9, 3));
        assert_eq!(img.record(&L, &initial, 4), (7, 0));
        // Writing the initial content back drops the block: equal to unchanged.
        let mut back = img.clone();
        back.update_block(&L, &initial, 2, |d| write_record(&mut d[16..], 7, 0));
        assert_eq!(back, Image::unchanged(L.image_bytes() as u64));
        let other = Image::from_bytes(&L, &initial, &{
            let mut d = dense.clone();
            d[0] = 1;
            d
        });
        assert_eq!(img.touched_with(&other).collect::<Vec<_>>(), vec![0, 2]);
        assert_eq!(img.touched_with(&img).collect::<Vec<_>>(), vec![2]);
    }

    /// A block given as its leading bytes (trailing zeros or not, empty, the initial
    /// content itself) is set as the whole block zero-filled is, over a pattern and
    /// over bytes; and an image received in any order is the one set in order.
    #[test]
    fn prefixes_set_what_whole_blocks_set_in_any_order() {
        let pattern = Initial::Pattern(InitialValues {
            value: 7,
            records: 8,
        });
        let dense = Image::unchanged(L.image_bytes() as u64).to_bytes(&L, &pattern);
        let bytes = Initial::Bytes(dense.iter().map(|&x| x ^ 0x5a).collect());
        for initial in [pattern, bytes] {
            let prefix_of = |block: u64, i: u64| -> Vec<u8> {
                let mut base = vec![0u8; L.block_size];
                initial.block(&L, block, &mut base);
                match i % 5 {
                    0 => Vec::new(),
                    1 => base[..engine::store::content_len(&base)].to_vec(),
                    2 => base,
                    3 => vec![block as u8 + 1, 0, 0],
                    _ => {
                        let mut p = vec![0u8; 20];
                        write_record(&mut p, i as i64, block + 1);
                        p
                    }
                }
            };
            for round in 0..10u64 {
                let order: Vec<u64> = (0..L.volume_blocks)
                    .map(|b| (b + round) % L.volume_blocks)
                    .collect();
                let mut whole = Image::unchanged(L.image_bytes() as u64);
                let mut by_prefix = Image::unchanged(L.image_bytes() as u64);
                let mut unordered = UnorderedImage::new(L.image_bytes() as u64);
                for &b in &order {
                    let p = prefix_of(b, b + round);
                    let mut block = vec![0u8; L.block_size];
                    block[..p.len()].copy_from_slice(&p);
                    whole.set_block(&L, &initial, b, &block);
                    by_prefix.set_block_prefix(&L, &initial, b, &p);
                    unordered.set_block_prefix(&L, &initial, b, &p);
                }
                assert_eq!(by_prefix, whole, "round {round}");
                assert_eq!(unordered.finish(), whole, "round {round}");
            }
        }
    }
}
