//! The sparse store's table of held blocks: block number → the block's bytes up to its
//! last non-zero byte (the rest of the block is zeros), in 16-byte slots.
//!
//! Shape, chosen for a uniform load on a 1 TiB volume (tens of millions of held
//! blocks, every access a cache miss):
//! - **Parts.** The blocks are split over up to 32 parts by their low bits (block
//!   `b` lives in part `b % parts` under key `b / parts`; more, up to 256, when a
//!   store has more than 2^37 blocks, so the key fits 4 bytes up to [`BLOCKS_MAX`]),
//!   and each part grows on its own: a growth copies one part, never the whole table
//!   (no 2× transient).
//! - **Slots.** A slot is 16 bytes: the key (4), a tag (1: empty, the content's length,
//!   or "on the heap") and [`INLINE_BYTES`] bytes of content. A block whose content
//!   fits is held in its slot alone (the simulator's one-record blocks: an 8-byte value
//!   and a stamp of up to 3 non-zero bytes); a longer one is one exact-length
//!   allocation the slot points at (full blocks stay exact).
//! - **Open addressing over cache lines.** Four slots make a 64-byte bucket; a key
//!   hashes to a bucket and probes the following buckets until it finds the key or an
//!   empty slot, so a lookup usually touches one cache line, key and content together.
//!   Blocks are never removed (a store holds every block it was ever given), so no
//!   tombstones: the first empty slot ends a probe.
//! - **Small growth steps.** A part grows by a quarter when it would pass 7/8 full, so
//!   its load stays between 0.7 and 0.875: 18.3-22.9 bytes a held block.
//! - **2 MiB pages for large parts.** A part of at least [`HUGE_PART_BYTES_MIN`] is
//!   its own mapping advised onto huge pages (`huge_pages.rs`), a whole number of
//!   them (its growth rounded down to one, still more than it had), so a probe
//!   misses the TLB far less often on a table of hundreds of MiB.
//! - **Small stores direct.** A store of at most [`DIRECT_BLOCKS_MAX`] blocks has one
//!   slot per block, indexed by the block (no hash, no probe): at most 1 MiB of slots
//!   however few blocks are written.
//! - **Hints without the lock.** Where each part's buckets are is also published in
//!   [`Hints`] (two relaxed words per part, rewritten when the part grows), so a
//!   caller that knows the next block asks its home bucket into the cache without
//!   taking the store's lock (a locked instruction is a full fence). A direct table
//!   (at most 1 MiB, in the cache) is not hinted at all.

use std::sync::Arc;

use super::huge_pages::{HugeArray, Zeroable, HUGE_PAGE_BYTES};
use crate::block_buffer::{copied, room, room_for_one, Refused};
use crate::prefetch::HintWord;

/// Longest content (bytes up to the last non-zero byte) kept inside a slot.
pub const INLINE_BYTES: usize = 11;

/// Bytes the allocator adds to each allocation of a longer block (its header and
/// rounding, on glibc's malloc: an estimate).
pub const ALLOCATION_OVERHEAD_BYTES: u64 = 16;

/// Most blocks a table addresses: 2^32 keys in each of 256 parts.
pub const BLOCKS_MAX: u64 = 1 << 40;

/// Most blocks of a table held as one slot per block (2^16: 1 MiB of slots).
pub const DIRECT_BLOCKS_MAX: u64 = 1 << 16;

/// Most blocks one step of a walk over the held blocks gives
/// (`BlockTable::blocks_walk`): the slots of 1,024 buckets (64 KiB).
pub const WALK_BLOCKS_MAX: usize = 4096;

/// Bytes of a slot.
pub const SLOT_BYTES: u64 = std::mem::size_of::<Slot>() as u64;

/// Lowest load a part has once it holds a few buckets (after a growth): the bound
/// callers sizing a run use ([`super::HELD_BLOCK_OVERHEAD_BYTES`]).
pub const LOAD_MIN: f64 = LOAD_MAX_NUM as f64 / LOAD_MAX_DEN as f64 / 1.25;

/// A part grows when it would hold more than 7/8 of its slots.
const LOAD_MAX_NUM: usize = 7;
const LOAD_MAX_DEN: usize = 8;

/// Slots per bucket: four 16-byte slots fill a 64-byte cache line.
const SLOTS_PER_BUCKET: usize = 4;

/// Most parts of a store of up to 2^37 blocks: 2^5 (a store of 2^28 blocks with
/// 2 × 10^7 held then has parts of about 12 MiB, on 2 MiB pages).
const PART_BITS_USUAL: u32 = 5;
/// Most bits of a key ([`Slot::key`]: 4 bytes).
const KEY_BITS: u32 = 32;

/// Bytes from which a part's buckets are on 2 MiB pages: four huge pages, so a growth
/// by a quarter rounded down to whole huge pages still grows (load stays 0.7-0.875).
pub const HUGE_PART_BYTES_MIN: usize = 4 * HUGE_PAGE_BYTES;
/// A store of fewer than 2^12 blocks per part has fewer parts (one for a small store).
const BLOCKS_PER_PART_MIN_BITS: u32 = 12;

/// A slot's tag: empty.
const EMPTY: u8 = 0;
/// A slot's tag: the content is on the heap, its index in the slot's first 4 bytes.
const HEAP: u8 = u8::MAX;
// Inline tags are 1 + the content's length: 1..=12.
const _: () = assert!(INLINE_BYTES < HEAP as usize - 1);

/// One slot (see the module doc).
#[derive(Clone, Copy, Default)]
#[repr(C)]
struct Slot {
    key: u32,
    tag: u8,
    bytes: [u8; INLINE_BYTES],
}
const _: () = assert!(std::mem::size_of::<Slot>() == 16);

/// Four slots on one cache line.
#[derive(Clone, Copy, Default)]
#[repr(C, align(64))]
struct Bucket([Slot; SLOTS_PER_BUCKET]);
// SAFETY: integers and byte arrays; all zeros is the empty bucket (`EMPTY` tags).
unsafe impl Zeroable for Bucket {}
const BUCKET_BYTES: usize = std::mem::size_of::<Bucket>();

/// One part: its buckets and the slots in use.
#[derive(Default)]
struct Part {
    buckets: HugeArray<Bucket>,
    len: usize,
}

/// Where a block's slot is: in the direct slots, or a part's bucket and slot.
#[derive(Clone, Copy)]
enum Loc {
    Direct(usize),
    Part(usize, usize, usize),
}

/// Where a probe ended: the key's slot, or the empty slot where it would go.
enum Probe {
    Found(usize, usize),
    Vacant(usize, usize),
}

/// Where one part's buckets are: their address and count (0: none yet).
#[derive(Default)]
struct Span {
    base: HintWord,
    buckets: HintWord,
}

/// Where a table's parts are, read without the table's lock to aim a prefetch
/// ([`Hints::prefetch`]); a clone shares the words the table rewrites when a part
/// grows. The words order nothing: a stale or mixed pair (a part growing meanwhile)
/// only aims the hint at another line, which is harmless (a prefetch reads nothing
/// architecturally and never faults). Empty for a direct table (nothing hinted).
#[derive(Clone)]
pub(crate) struct Hints {
    part_bits: u32,
    spans: Arc<[Span]>,
}

impl Hints {
    /// Hints the processor to load the home bucket a lookup of `block` probes first;
    /// nothing for a direct table, a part with no buckets yet, or a block past the
    /// table's parts. Takes no lock.
    #[inline]
    pub(crate) fn prefetch(&self, block: u64) {
        if let Some(line) = self.line(block) {
            crate::prefetch::line(line as *const u8);
        }
    }

    /// The address of `block`'s home bucket as last published, if its part has one.
    #[inline]
    fn line(&self, block: u64) -> Option<usize> {
        let part = (block & ((1 << self.part_bits) - 1)) as usize;
        let span = self.spans.get(part)?;
        let n = span.buckets.load(std::sync::atomic::Ordering::Relaxed);
        if n == 0 {
            return None;
        }
        let key = (block >> self.part_bits) as u32;
        let base = span.base.load(std::sync::atomic::Ordering::Relaxed);
        Some(base.wrapping_add(Part::home(key, n).wrapping_mul(BUCKET_BYTES)))
    }
}

impl Part {
    /// The bucket `key` hashes to among `n` (> 0): the high half of a multiplicative
    /// hash, scaled to `n` (no power of two needed, so a part can grow by a quarter).
    #[inline]
    fn home(key: u32, n: usize) -> usize {
        let h = u64::from(key).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32;
        ((h * n as u64) >> 32) as usize
    }

    #[inline]
    fn probe(&self, key: u32) -> Option<Probe> {
        let n = self.buckets.len();
        if n == 0 {
            return None;
        }
        let mut b = Self::home(key, n);
        loop {
            for (s, slot) in self.buckets[b].0.iter().enumerate() {
                if slot.tag == EMPTY {
                    return Some(Probe::Vacant(b, s));
                }
                if slot.key == key {
                    return Some(Probe::Found(b, s));
                }
            }
            b += 1;
            if b == n {
                b = 0;
            }
        }
    }

    /// True when one more slot in use would pass the load limit.
    fn full(&self) -> bool {
        (self.len + 1) * LOAD_MAX_DEN > self.buckets.len() * SLOTS_PER_BUCKET * LOAD_MAX_NUM
    }

    /// Buckets after a growth from `n`: a quarter more (at least one); from
    /// [`HUGE_PART_BYTES_MIN`] on, rounded down to whole huge pages, which is still
    /// more than `n` (a quarter of four huge pages or more spans a page boundary).
    fn grown_len(n: usize) -> usize {
        let grown = (n + n / 4).max(n + 1);
        if grown * BUCKET_BYTES < HUGE_PART_BYTES_MIN {
            return grown;
        }
        let page = HUGE_PAGE_BYTES / BUCKET_BYTES;
        let rounded = grown / page * page;
        debug_assert!(rounded > n);
        rounded.max(n + 1)
    }

    /// Grows ([`Part::grown_len`]) and places every slot again; [`Refused`] (the
    /// grown buckets' bytes) when the system refuses them, the part as it was.
    #[cold]
    fn grow(&mut self) -> Result<(), Refused> {
        let n = self.buckets.len();
        let grown = Self::grown_len(n);
        let old = std::mem::replace(&mut self.buckets, HugeArray::try_zeroed(grown)?);
        for slot in old.iter().flat_map(|b| b.0.iter()) {
            if slot.tag == EMPTY {
                continue;
            }
            match self.probe(slot.key) {
                Some(Probe::Vacant(b, s)) => self.buckets[b].0[s] = *slot,
                _ => unreachable!("keys are unique and the grown part has room"),
            }
        }
        Ok(())
    }
}

/// Bits of a block choosing its part in a table of `blocks` blocks (more than
/// [`DIRECT_BLOCKS_MAX`]): see the module doc.
fn part_bits(blocks: u64) -> u32 {
    let bits = u64::BITS - blocks.saturating_sub(1).leading_zeros();
    bits.saturating_sub(BLOCKS_PER_PART_MIN_BITS)
        .min(PART_BITS_USUAL)
        .max(bits.saturating_sub(KEY_BITS))
}

/// Bytes the slots of a table of `blocks` blocks occupy once `held` of them are held,
/// spread over its parts as a uniform load spreads them (each part about its share;
/// [`super::fullest_part`] bounds the fullest): a direct table its one slot per block;
/// else every part grown as [`Part::grown_len`] grows it until it holds the fullest
/// part's blocks within 7/8 of its slots, plus the buckets a part had before its last
/// growth (held beside the new ones while they are filled). What [`BlockTable::bytes`]
/// measures of a table so filled, without the heap contents; an upper bound for a
/// load spread evenly, and as exact as the parts' even share is (a table's growths
/// come in steps of a quarter: its bytes are a staircase in `held`, not a line).
pub(crate) fn bytes_for(blocks: u64, held: u64) -> u64 {
    if blocks <= DIRECT_BLOCKS_MAX {
        return blocks * SLOT_BYTES;
    }
    let parts = 1u64 << part_bits(blocks);
    let fullest = super::fullest_part(held.min(blocks), parts);
    let (mut n, mut before) = (0usize, 0usize);
    while fullest.saturating_mul(LOAD_MAX_DEN as u64) > (n * SLOTS_PER_BUCKET * LOAD_MAX_NUM) as u64
    {
        before = n;
        n = Part::grown_len(n);
    }
    (parts * n as u64 + before as u64) * BUCKET_BYTES as u64
}

/// Bytes of `data` up to and including its last non-zero byte (0 if all are zero),
/// looking at 64 bytes at a time from the end (a record block is mostly zeros), then
/// at 8-byte words inside the last 64 bytes holding data. Data of at most 64 bytes (a
/// block's leading bytes, as the stores are handed them) goes to the words at once.
#[inline]
pub fn content_len(data: &[u8]) -> usize {
    if data.len() <= 64 {
        return content_len_words(data);
    }
    let mut end = data.len();
    while end > 0 {
        let start = end.saturating_sub(64);
        let chunk = &data[start..end];
        if chunk.iter().fold(0u8, |a, &b| a | b) != 0 {
            return start + content_len_words(chunk);
        }
        end = start;
    }
    0
}

/// [`content_len`] eight bytes at a time from the end: the first non-zero word read
/// as a little-endian `u64` has as many zero bytes after its last non-zero byte as
/// its leading zero bits / 8; the bytes before the first whole word one at a time.
#[inline]
fn content_len_words(data: &[u8]) -> usize {
    let mut end = data.len();
    let mut words = data.rchunks_exact(8);
    for w in &mut words {
        let x = <[u8; 8]>::try_from(w).map_or(0, u64::from_le_bytes);
        if x != 0 {
            return end - (x.leading_zeros() / 8) as usize;
        }
        end -= 8;
    }
    words
        .remainder()
        .iter()
        .rposition(|&b| b != 0)
        .map_or(0, |i| i + 1)
}

/// The held blocks (see the module doc).
pub(crate) struct BlockTable {
    part_bits: u32,
    parts: Vec<Part>,
    /// A small table's slots, one per block (then `parts` is empty).
    direct: Option<Box<[Slot]>>,
    /// Contents longer than [`INLINE_BYTES`], by the index their slot holds; a freed
    /// index is empty and listed in `heap_free`.
    heap: Vec<Box<[u8]>>,
    heap_free: Vec<u32>,
    /// Bytes of the heap contents, with [`ALLOCATION_OVERHEAD_BYTES`] each.
    heap_bytes: u64,
    len: u64,
    /// Where the parts' buckets are, for hints without the lock ([`BlockTable::hints`]).
    hints: Hints,
}

impl BlockTable {
    /// An empty table for blocks `0..blocks` (`blocks` ≤ [`BLOCKS_MAX`]).
    pub(crate) fn new(blocks: u64) -> Self {
        debug_assert!(blocks <= BLOCKS_MAX);
        if blocks <= DIRECT_BLOCKS_MAX {
            return BlockTable {
                part_bits: 0,
                parts: Vec::new(),
                direct: Some(vec![Slot::default(); blocks as usize].into_boxed_slice()),
                heap: Vec::new(),
                heap_free: Vec::new(),
                heap_bytes: 0,
                len: 0,
                hints: Hints {
                    part_bits: 0,
                    spans: Arc::new([]),
                },
            };
        }
        let part_bits = part_bits(blocks);
        BlockTable {
            part_bits,
            parts: (0..1usize << part_bits).map(|_| Part::default()).collect(),
            direct: None,
            heap: Vec::new(),
            heap_free: Vec::new(),
            heap_bytes: 0,
            len: 0,
            hints: Hints {
                part_bits,
                spans: (0..1usize << part_bits).map(|_| Span::default()).collect(),
            },
        }
    }

    /// Blocks held.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    #[inline]
    fn split(&self, block: u64) -> (usize, u32) {
        let part = (block & ((1 << self.part_bits) - 1)) as usize;
        (part, (block >> self.part_bits) as u32)
    }

    /// Block `block`'s content up to its last non-zero byte, if held.
    #[inline]
    pub(crate) fn get(&self, block: u64) -> Option<&[u8]> {
        self.slot(block).map(|slot| self.content(slot))
    }

    /// Block `block`'s content up to its last non-zero byte copied into `out` (cleared
    /// first), if held; false (`out` untouched) if not. A content held in its slot is
    /// moved as the slot's [`INLINE_BYTES`] bytes, then cut to its length, without a
    /// call to the library's copy.
    /// [`Refused`] (`out` cleared, its capacity kept) when `out` has no room for the
    /// content and the system refuses it.
    #[inline(always)]
    pub(crate) fn read_into(&self, block: u64, out: &mut Vec<u8>) -> Result<bool, Refused> {
        let Some(slot) = self.slot(block) else {
            return Ok(false);
        };
        out.clear();
        match slot.tag {
            HEAP => {
                let content = &self.heap[heap_index(slot)];
                room(out, content.len())?;
                out.extend_from_slice(content);
            }
            tag => {
                room(out, INLINE_BYTES)?;
                out.extend_from_slice(&slot.bytes);
                out.truncate(usize::from(tag - 1));
            }
        }
        Ok(true)
    }

    /// Block `block`'s slot, if held.
    #[inline]
    fn slot(&self, block: u64) -> Option<&Slot> {
        if let Some(direct) = &self.direct {
            let slot = &direct[block as usize];
            return (slot.tag != EMPTY).then_some(slot);
        }
        let (p, key) = self.split(block);
        let part = &self.parts[p];
        match part.probe(key)? {
            Probe::Found(b, s) => Some(&part.buckets[b].0[s]),
            Probe::Vacant(..) => None,
        }
    }

    /// A handle to hint lookups of this table without its lock ([`Hints::prefetch`]),
    /// valid as the table grows.
    pub(crate) fn hints(&self) -> Hints {
        self.hints.clone()
    }

    fn content<'a>(&'a self, slot: &'a Slot) -> &'a [u8] {
        match slot.tag {
            HEAP => &self.heap[heap_index(slot)],
            tag => &slot.bytes[..usize::from(tag - 1)],
        }
    }

    #[inline]
    fn slot_mut(&mut self, loc: Loc) -> &mut Slot {
        match loc {
            Loc::Direct(i) => &mut self.direct.as_mut().expect("a direct table")[i],
            Loc::Part(p, b, s) => &mut self.parts[p].buckets[b].0[s],
        }
    }

    /// Block `block`'s slot (empty when not held), made room for. A block held
    /// changes nothing; [`Refused`] when its part must grow and the system refuses the
    /// grown buckets (nothing changed).
    #[inline]
    fn locate(&mut self, block: u64, key: u32, p: usize) -> Result<Loc, Refused> {
        if let Some(direct) = &self.direct {
            if direct[block as usize].tag == EMPTY {
                self.len += 1;
            }
            return Ok(Loc::Direct(block as usize));
        }
        if let Some(Probe::Found(b, s)) = self.parts[p].probe(key) {
            return Ok(Loc::Part(p, b, s));
        }
        let part = &mut self.parts[p];
        if part.full() {
            part.grow()?;
            let span = &self.hints.spans[p];
            let relaxed = std::sync::atomic::Ordering::Relaxed;
            span.base.store(part.buckets.as_ptr() as usize, relaxed);
            span.buckets.store(part.buckets.len(), relaxed);
        }
        part.len += 1;
        self.len += 1;
        match part.probe(key) {
            Some(Probe::Vacant(b, s)) => Ok(Loc::Part(p, b, s)),
            _ => unreachable!("an absent key has a vacant slot"),
        }
    }

    /// Holds `data` (a block's leading bytes, the rest zeros: one block or less) as
    /// block `block`'s content. Every allocation this asks for is asked for before
    /// anything changes, and [`Refused`] when the system refuses it leaves the table as
    /// it was (the block's old content held): a content longer than [`INLINE_BYTES`]'s
    /// own allocation and its place in the heap index, a part's growth to hold a new
    /// block, and the free list's room for a heap content given up.
    pub(crate) fn set(&mut self, block: u64, data: &[u8]) -> Result<(), Refused> {
        let (p, key) = self.split(block);
        let len = content_len(data);
        let mut held = None;
        if len > INLINE_BYTES {
            // Same length (a full block rewritten whole): in place, no allocation.
            if let Some(i) = self
                .slot(block)
                .filter(|s| s.tag == HEAP)
                .map(heap_index)
                .filter(|&i| self.heap[i].len() == len)
            {
                self.heap[i].copy_from_slice(&data[..len]);
                return Ok(());
            }
            held = Some(copied(&data[..len])?.into_boxed_slice());
            if self.heap_free.is_empty() {
                room_for_one(&mut self.heap)?;
            }
        }
        if len <= INLINE_BYTES {
            // A short content in a direct table's slot that holds no heap content (the
            // simulator's record blocks): written in place, no location to work out.
            if let Some(slot) = self.direct.as_mut().and_then(|d| d.get_mut(block as usize)) {
                if slot.tag != HEAP {
                    self.len += u64::from(slot.tag == EMPTY);
                    slot.key = key;
                    slot.tag = len as u8 + 1;
                    slot.bytes = inline_bytes(data, len);
                    return Ok(());
                }
            }
        }
        let loc = self.locate(block, key, p)?;
        let old = *self.slot_mut(loc);
        if old.tag == HEAP {
            // A block held: `locate` changed nothing, nor has anything since.
            room_for_one(&mut self.heap_free)?;
            let i = heap_index(&old);
            self.heap_bytes -= self.heap[i].len() as u64 + ALLOCATION_OVERHEAD_BYTES;
            self.heap[i] = Box::default();
            self.heap_free.push(i as u32);
        }
        if len <= INLINE_BYTES {
            // Built in place: a slot assembled on the stack and copied stalled on
            // reading back its bytes as words.
            let slot = self.slot_mut(loc);
            slot.key = key;
            slot.tag = len as u8 + 1;
            slot.bytes = inline_bytes(data, len);
            return Ok(());
        }
        let slot = {
            let held = held.expect("asked for above: a content longer than a slot's");
            self.heap_bytes += len as u64 + ALLOCATION_OVERHEAD_BYTES;
            let i = match self.heap_free.pop() {
                Some(i) => {
                    self.heap[i as usize] = held;
                    i
                }
                None => {
                    self.heap.push(held);
                    u32::try_from(self.heap.len() - 1).expect("fewer than 2^32 long blocks")
                }
            };
            let mut bytes = [0u8; INLINE_BYTES];
            bytes[..4].copy_from_slice(&i.to_le_bytes());
            Slot {
                key,
                tag: HEAP,
                bytes,
            }
        };
        *self.slot_mut(loc) = slot;
        Ok(())
    }

    /// Bytes allocated: every part's buckets (their capacity, not only the slots in
    /// use), the heap contents with their allocation overhead, and the heap's index.
    pub(crate) fn bytes(&self) -> u64 {
        let buckets: usize = self.parts.iter().map(|p| p.buckets.len()).sum();
        let direct = self
            .direct
            .as_ref()
            .map_or(0, |d| d.len() as u64 * SLOT_BYTES);
        direct
            + buckets as u64 * std::mem::size_of::<Bucket>() as u64
            + self.heap_bytes
            + (self.heap.capacity() * std::mem::size_of::<Box<[u8]>>()) as u64
            + (self.heap_free.capacity() * 4) as u64
            + (self.parts.capacity() * std::mem::size_of::<Part>()) as u64
    }

    /// The held blocks found walking the table on from position `*at` (0 to start)
    /// in its own order (not ascending: part by part, bucket by bucket), appended to
    /// `out` after clearing it: at most [`WALK_BLOCKS_MAX`] at a time, at least one
    /// unless the walk is over (`out` left empty). `*at` advances past the buckets
    /// walked. Over a walk with no block set meanwhile, every held block is given
    /// exactly once; a caller looking each one up right after finds its slot in a
    /// line just walked (in the cache).
    pub(crate) fn blocks_walk(&self, at: &mut u64, out: &mut Vec<u64>) {
        out.clear();
        if let Some(direct) = &self.direct {
            let mut from = usize::try_from(*at).unwrap_or(usize::MAX).min(direct.len());
            while out.is_empty() && from < direct.len() {
                let to = (from + WALK_BLOCKS_MAX).min(direct.len());
                out.extend(
                    (from..to)
                        .filter(|&i| direct[i].tag != EMPTY)
                        .map(|i| i as u64),
                );
                from = to;
            }
            *at = from as u64;
            return;
        }
        const WALK_BUCKETS: usize = WALK_BLOCKS_MAX / SLOTS_PER_BUCKET;
        loop {
            let (p, b) = ((*at >> 32) as usize, (*at & u64::from(u32::MAX)) as usize);
            let Some(part) = self.parts.get(p) else {
                return;
            };
            if b >= part.buckets.len() {
                *at = (p as u64 + 1) << 32;
                continue;
            }
            let to = (b + WALK_BUCKETS).min(part.buckets.len());
            for slot in part.buckets[b..to].iter().flat_map(|b| b.0.iter()) {
                if slot.tag != EMPTY {
                    out.push((u64::from(slot.key) << self.part_bits) | p as u64);
                }
            }
            *at = ((p as u64) << 32) | to as u64;
            if !out.is_empty() {
                return;
            }
        }
    }

    /// Every block held, ascending.
    pub(crate) fn blocks(&self) -> Vec<u64> {
        let mut out = Vec::with_capacity(self.len as usize);
        if let Some(direct) = &self.direct {
            out.extend(
                (0u64..)
                    .zip(direct.iter())
                    .filter(|(_, s)| s.tag != EMPTY)
                    .map(|(b, _)| b),
            );
            return out;
        }
        for (p, part) in self.parts.iter().enumerate() {
            for slot in part.buckets.iter().flat_map(|b| b.0.iter()) {
                if slot.tag != EMPTY {
                    out.push((u64::from(slot.key) << self.part_bits) | p as u64);
                }
            }
        }
        out.sort_unstable();
        out
    }
}

/// A slot's content bytes for `data` whose content is its first `len` (at most
/// [`INLINE_BYTES`]) bytes: when `data` has [`INLINE_BYTES`] bytes, they are moved whole
/// (those past `len` are zeros), without a call to the library's copy.
#[inline]
fn inline_bytes(data: &[u8], len: usize) -> [u8; INLINE_BYTES] {
    if let Some(head) = data.first_chunk::<INLINE_BYTES>() {
        return *head;
    }
    let mut bytes = [0u8; INLINE_BYTES];
    bytes[..len].copy_from_slice(&data[..len]);
    bytes
}

fn heap_index(slot: &Slot) -> usize {
    u32::from_le_bytes(slot.bytes[..4].try_into().expect("4 bytes")) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A table filled with uniformly spread blocks holds what [`bytes_for`] sizes for
    /// that many: never more, and, for a large table, at most a growth step and the
    /// last growth's part more (the staircase replayed, not a bound at the worst load).
    #[test]
    fn bytes_for_is_what_a_uniformly_filled_table_holds() {
        let blocks = 1u64 << 28;
        let mut t = BlockTable::new(blocks);
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut held = 0u64;
        for target in [1_000u64, 20_000, 150_000, 400_000, 1_000_000] {
            while held < target {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let block = x % blocks;
                if t.get(block).is_none() {
                    t.set(block, &[0xa5; 11]).unwrap();
                    held += 1;
                }
            }
            let slots: u64 =
                t.parts.iter().map(|p| p.buckets.len() as u64).sum::<u64>() * BUCKET_BYTES as u64;
            let sized = bytes_for(blocks, held);
            let part = sized / t.parts.len() as u64;
            assert!(slots <= sized, "{held}: {slots} > {sized}");
            // The fullest part's margin (four standard deviations) is a few per cent
            // of a large part's share: at most one growth step (a quarter) over.
            if held >= 150_000 {
                assert!(
                    sized <= slots * 5 / 4 + 2 * part,
                    "{held}: {sized} vs {slots}"
                );
            }
        }
        assert_eq!(bytes_for(1 << 10, 5), (1 << 10) * SLOT_BYTES);
    }

    #[test]
    fn content_len_finds_the_last_non_zero_byte() {
        assert_eq!(content_len(&[0; 64]), 0);
        assert_eq!(content_len(&[]), 0);
        let mut b = [0u8; 200];
        b[0] = 1;
        assert_eq!(content_len(&b), 1);
        b[15] = 1;
        assert_eq!(content_len(&b), 16);
        b[63] = 1;
        assert_eq!(content_len(&b), 64);
        b[64] = 1;
        assert_eq!(content_len(&b), 65);
        b[199] = 1;
        assert_eq!(content_len(&b), 200);
        assert_eq!(content_len(&[0, 0, 3, 0, 0]), 3);
    }

    /// Every length up to 200 bytes and every position of the last non-zero byte
    /// (with a non-zero byte before it, and without), against a byte-by-byte scan:
    /// the word and chunk steps agree with it at every alignment.
    #[test]
    fn content_len_agrees_with_a_byte_scan() {
        let scan = |d: &[u8]| d.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        for n in 0..=200usize {
            let mut d = vec![0u8; n];
            assert_eq!(content_len(&d), 0, "zeros of {n}");
            for last in 0..n {
                d.fill(0);
                d[last] = 0x80;
                assert_eq!(content_len(&d), last + 1, "{n} bytes, one at {last}");
                d[last / 2] = 1;
                assert_eq!(content_len(&d), scan(&d), "{n} bytes, two up to {last}");
            }
        }
    }

    /// Many blocks of every content length, rewritten longer, shorter and in place,
    /// against a map: the table gives the same contents, grows part by part, and
    /// lists the same blocks.
    #[test]
    fn the_table_agrees_with_a_map_through_growth() {
        let t = agrees_with_a_map(1 << 28, 200_000);
        assert_eq!(t.parts.len(), 32);
        assert!(t.heap_free.len() < t.heap.len());
        // Every part grew on its own and stays between the load bounds.
        for part in &t.parts {
            let slots = part.buckets.len() * SLOTS_PER_BUCKET;
            assert!(part.len * 8 <= slots * 7);
            assert!(
                part.len as f64 >= slots as f64 * LOAD_MIN * 0.95,
                "{}",
                part.len
            );
        }
    }

    /// A growth is a quarter or less and keeps the load bounds; from
    /// [`HUGE_PART_BYTES_MIN`] on, whole huge pages.
    #[test]
    fn growth_steps_are_at_most_a_quarter_and_whole_huge_pages_when_large() {
        let page = HUGE_PAGE_BYTES / BUCKET_BYTES;
        let mut huge = 0;
        for n in (0..4096).chain((100_000..2_000_000).step_by(997)) {
            let g = Part::grown_len(n);
            assert!(g > n && g <= (n + n / 4).max(n + 1), "{n} -> {g}");
            if g * BUCKET_BYTES >= HUGE_PART_BYTES_MIN {
                assert_eq!(g % page, 0, "{n} -> {g}");
                // Load just after the growth: 7/8 of n's slots in g's.
                assert!(n as f64 * 0.875 / g as f64 >= LOAD_MIN - 1e-9, "{n} -> {g}");
                huge += 1;
            }
        }
        assert!(huge > 1000);
    }

    /// One part filled past [`HUGE_PART_BYTES_MIN`]: it is mapped onto huge pages,
    /// aligned, keeps its load bounds and its contents.
    #[test]
    fn a_large_part_is_on_huge_pages_and_keeps_its_contents() {
        let mut t = BlockTable::new(1 << 33);
        assert_eq!(t.parts.len(), 32);
        let n = 600_000u64;
        // Four non-zero bytes naming the key.
        let content = |k: u64| (k as u32 | 0x8080_8080).to_le_bytes();
        // Every block in part 0.
        for k in 0..n {
            t.set(k * 32, &content(k)).unwrap();
        }
        let part = &t.parts[0];
        assert!(part.buckets.len() * BUCKET_BYTES >= HUGE_PART_BYTES_MIN);
        #[cfg(target_os = "linux")]
        {
            assert!(part.buckets.is_mapped());
            assert_eq!(part.buckets.as_ptr() as usize % HUGE_PAGE_BYTES, 0);
        }
        let slots = part.buckets.len() * SLOTS_PER_BUCKET;
        assert!(part.len * 8 <= slots * 7 && part.len as f64 >= slots as f64 * LOAD_MIN);
        for k in (0..n).step_by(7) {
            assert_eq!(t.get(k * 32), Some(&content(k)[..]));
        }
        assert_eq!(t.get(n * 32), None);
        assert!(t.parts[1..].iter().all(|p| p.buckets.is_empty()));
    }

    /// A small store's direct slots: the same contents and blocks as a map.
    #[test]
    fn a_direct_table_agrees_with_a_map() {
        for blocks in [1, 1000, DIRECT_BLOCKS_MAX] {
            let t = agrees_with_a_map(blocks, 20_000);
            assert!(t.parts.is_empty());
            assert_eq!(t.direct.as_ref().map(|d| d.len() as u64), Some(blocks));
            assert!(t.bytes() >= blocks * SLOT_BYTES + t.heap_bytes);
            assert!(t.len() > 0 && t.len() <= blocks);
        }
    }

    /// `writes` writes of every content length to a table of `blocks` blocks, against
    /// a map; the table afterwards.
    fn agrees_with_a_map(blocks: u64, writes: u64) -> BlockTable {
        let mut t = BlockTable::new(blocks);
        let mut reference: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
        let mut x = 0x1234_5678_9abc_def0u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for i in 0..writes {
            let r = next();
            // Half the writes rewrite a block already held.
            let block = if i % 2 == 1 && !reference.is_empty() {
                reference
                    .range(r % blocks..)
                    .next()
                    .map_or(r % blocks, |(b, _)| *b)
            } else {
                r % blocks
            };
            let len = [0, 1, 11, 12, 16, 64, 4096][(r >> 40) as usize % 7];
            let mut data = vec![0u8; 4096];
            for (j, d) in data[..len].iter_mut().enumerate() {
                *d = (r >> (j % 8)) as u8 | 1;
            }
            t.set(block, &data).unwrap();
            reference.insert(block, data[..len].to_vec());
        }
        assert_eq!(t.len(), reference.len() as u64);
        for (b, content) in &reference {
            assert_eq!(t.get(*b), Some(&content[..]), "block {b}");
        }
        assert_eq!(
            t.get(blocks - 1).is_some(),
            reference.contains_key(&(blocks - 1))
        );
        assert_eq!(t.blocks(), reference.keys().copied().collect::<Vec<_>>());
        let long: u64 = reference
            .values()
            .filter(|c| c.len() > INLINE_BYTES)
            .map(|c| c.len() as u64 + ALLOCATION_OVERHEAD_BYTES)
            .sum();
        assert_eq!(t.heap_bytes, long);
        t
    }

    /// The hints, read without the table, aim at the bucket a lookup probes first,
    /// through every part's growth; a direct table is never hinted.
    #[test]
    fn hints_aim_at_the_home_bucket_as_parts_grow() {
        let mut t = BlockTable::new(1 << 28);
        let hints = t.hints();
        assert_eq!(hints.line(5), None, "no buckets yet");
        let mut grown = 0;
        for i in 0..50_000u64 {
            let block = i.wrapping_mul(0x2545_f491) % (1 << 28);
            let before = t.parts[(block % 32) as usize].buckets.len();
            t.set(block, &[1, 2, 3]).unwrap();
            let (p, key) = t.split(block);
            let part = &t.parts[p];
            if part.buckets.len() != before {
                grown += 1;
            }
            let home = &part.buckets[Part::home(key, part.buckets.len())];
            assert_eq!(hints.line(block), Some(home as *const Bucket as usize));
        }
        assert!(grown > 32 * 10, "every part grew many times: {grown}");
        let mut direct = BlockTable::new(1024);
        direct.set(3, &[1]).unwrap();
        assert_eq!(direct.hints().line(3), None);
    }

    #[test]
    fn a_small_store_is_direct_and_the_largest_has_256_parts() {
        assert!(BlockTable::new(1024).direct.is_some());
        assert!(BlockTable::new(DIRECT_BLOCKS_MAX).direct.is_some());
        assert_eq!(BlockTable::new(DIRECT_BLOCKS_MAX + 1).parts.len(), 32);
        assert_eq!(BlockTable::new(1 << 37).parts.len(), 32);
        assert_eq!(BlockTable::new((1 << 37) + 1).parts.len(), 64);
        let mut t = BlockTable::new(BLOCKS_MAX);
        assert_eq!(t.parts.len(), 256);
        t.set(BLOCKS_MAX - 1, &[1; 8]).unwrap();
        t.set(0, &[0; 8]).unwrap();
        assert_eq!(t.get(BLOCKS_MAX - 1), Some(&[1u8; 8][..]));
        assert_eq!(t.get(0), Some(&[][..]));
        assert_eq!(t.get(1), None);
        assert_eq!(t.blocks(), vec![0, BLOCKS_MAX - 1]);
    }
}
