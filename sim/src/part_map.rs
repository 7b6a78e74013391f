//! A map from 64-bit numbers (blocks, records) to small values, in a few bytes more
//! than its entries, where a lookup touches about one cache line, found or not: the
//! judge's per-block and per-record tables.
//!
//! Shape, chosen for a uniform load on a 1 TiB volume (tens of millions of entries,
//! most lookups of keys never inserted: a read of a block never written):
//! - **Parts.** The keys are split over [`PARTS`] parts by their low 4 bits, each
//!   part keyed by the rest plus one as 31 bits (0: an empty slot); a part grows by a
//!   quarter on its own when 7/8 full, so the load stays between 0.7 and 0.875 and a
//!   growth copies a part, never the whole. Keys from 2^35 on (whose high bits do not
//!   fit) go to an ordinary hash map beside.
//! - **Keys on their own lines.** A part is an array of buckets, each 16 keys on one
//!   64-byte line followed by their 16 values, so an entry costs `4 + size_of::<V>()`
//!   bytes (no padding for values of 12 or 16 bytes) and a probe reads 16 keys at once.
//! - **Linear probing over buckets, with a mark.** A key hashes (an odd multiplier:
//!   a bijection, its high bits scaled to the part) to a home bucket and goes to its
//!   first empty slot, or, when it is full, to the next bucket with room (wrapping),
//!   marking each full bucket it passed (the high bit of the bucket's first key).
//!   Nothing is removed, so a bucket's keys fill it from its first slot, a full bucket
//!   stays full and a mark stays true: a lookup reads its home bucket's keys and stops
//!   there, found or not, unless that bucket is marked (for uniform keys, 7 % of the
//!   buckets at a load of 0.7, 19 % at 0.79, 40 % at 0.875: a simulation of 16-key
//!   buckets). So a lookup touches one line of keys (at times two), and a found key
//!   one line of values; an insert the same.
//! - **2 MiB pages for large parts.** A part of at least [`HUGE_PART_BYTES_MIN`] is
//!   its own mapping advised onto huge pages (the engine's
//!   [`engine::store::huge_pages`]), a whole number of them, so a probe of a table of
//!   hundreds of MiB misses the TLB far less often. Such a part grows in the memory
//!   it has (its mapping reserves room), its entries set aside in a buffer the thread
//!   reuses (one part's entries), so the kernel zeroes each of its pages once rather
//!   than once per generation (about five times the final size).
//! - **Hints.** [`PartMap::prefetch`] asks a key's home line into the cache: a caller
//!   that knows a lookup is coming issues it a step ahead. A found key's value is on
//!   another line: [`PartMap::prefetch_value`], given once the keys' line is in the
//!   cache, asks for the line of the key's value (or of the empty slot it would take).

use engine::store::huge_pages::{
    with_scratch, zero, HugeArray, Scratch, Zeroable, HUGE_PAGE_BYTES,
};
use rustc_hash::FxHashMap;

/// Bits of a key choosing its part.
const PART_BITS: u32 = 4;

/// Parts of a [`PartMap`], chosen by a key's low 4 bits.
pub const PARTS: usize = 1 << PART_BITS;

/// Keys from here on are held in the ordinary hash map (a part's key is 31 bits:
/// the high bit is [`PASSED`]).
const SPLIT_KEYS_END: u64 = ((PASSED - 1) as u64) << PART_BITS;

/// Keys (and values) of a bucket: 16 four-byte keys fill a 64-byte line.
const BUCKET_SLOTS: usize = 16;

/// Bytes from which a part is on 2 MiB pages: four huge pages, so a growth by a
/// quarter rounded down to whole huge pages still grows.
pub const HUGE_PART_BYTES_MIN: usize = 4 * HUGE_PAGE_BYTES;

/// A key's high bit, kept in a bucket's first key: a key homed in this bucket or
/// before it was placed after it, so a probe for a key not in the bucket goes on.
const PASSED: u32 = 1 << 31;

/// Bytes an entry costs in a part, before the spare room of its load.
pub const fn slot_bytes<V>() -> usize {
    4 + std::mem::size_of::<V>()
}

/// Sixteen keys on one line, then their values.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Bucket<V> {
    keys: [u32; BUCKET_SLOTS],
    values: [V; BUCKET_SLOTS],
}

impl<V: Copy + Default> Default for Bucket<V> {
    fn default() -> Self {
        Bucket {
            keys: [0; BUCKET_SLOTS],
            values: [V::default(); BUCKET_SLOTS],
        }
    }
}

// SAFETY: integers and `V`s, each valid as all zeros (`V: Zeroable`); zero keys are
// empty slots.
unsafe impl<V: Zeroable> Zeroable for Bucket<V> {}

/// A key's hash: a bijection of the 4-byte keys onto 64 bits whose high bits spread
/// consecutive keys (Fibonacci hashing). Keys stand in a part in this order.
#[inline(always)]
fn hash(key: u32) -> u64 {
    u64::from(key).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// The home bucket of hash `h` among `n` buckets: its high bits scaled.
#[inline(always)]
fn home(h: u64, n: usize) -> usize {
    ((u128::from(h) * n as u128) >> 64) as usize
}

/// A part's buckets: a vector, or from [`HUGE_PART_BYTES_MIN`] on its own mapping
/// advised onto 2 MiB pages, a whole number of them ([`Part::grown_buckets`]). (A
/// smaller part on huge pages would hold much of its last page idle, or grow by far
/// more than a quarter to fill whole pages.)
enum Buckets<V: Zeroable> {
    Small(Vec<Bucket<V>>),
    Huge(HugeArray<Bucket<V>>),
}

impl<V: Zeroable> Buckets<V> {
    /// Whether `n` buckets go on huge pages: they fill [`HUGE_PART_BYTES_MIN`] but
    /// for less than a bucket.
    fn huge(n: usize) -> bool {
        (n + 1) * std::mem::size_of::<Bucket<V>>() > HUGE_PART_BYTES_MIN
    }

    /// `n` empty buckets.
    fn new(n: usize) -> Self {
        if Self::huge(n) {
            Buckets::Huge(HugeArray::zeroed_growable(n))
        } else {
            Buckets::Small(vec![Bucket::default(); n])
        }
    }
}

impl<V: Zeroable> std::ops::Deref for Buckets<V> {
    type Target = [Bucket<V>];
    #[inline(always)]
    fn deref(&self) -> &[Bucket<V>] {
        match self {
            Buckets::Small(v) => v,
            Buckets::Huge(h) => h,
        }
    }
}

impl<V: Zeroable> std::ops::DerefMut for Buckets<V> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut [Bucket<V>] {
        match self {
            Buckets::Small(v) => v,
            Buckets::Huge(h) => h,
        }
    }
}

/// One part: its buckets and the entries held.
struct Part<V: Zeroable> {
    buckets: Buckets<V>,
    len: usize,
}

impl<V: Zeroable> Default for Part<V> {
    fn default() -> Self {
        Part {
            buckets: Buckets::Small(Vec::new()),
            len: 0,
        }
    }
}

impl<V: Zeroable> Clone for Part<V> {
    fn clone(&self) -> Self {
        let mut buckets = Buckets::new(self.buckets.len());
        buckets.copy_from_slice(&self.buckets);
        Part {
            buckets,
            len: self.len,
        }
    }
}

impl<V: Copy> Bucket<V> {
    /// Where `key` (a part's key: non-zero, below [`PASSED`]) is among the bucket's
    /// keys, or the first empty slot (keys fill a bucket from its first slot: they
    /// are never removed), or `None`: the bucket is full without it. The first slot
    /// that holds `key` or is empty decides, as a scan from the first slot would.
    #[inline(always)]
    fn find(&self, key: u32) -> Result<usize, Option<usize>> {
        let (held, empty) = self.matches(key);
        let either = held | empty;
        if either == 0 {
            return Err(None);
        }
        let j = either.trailing_zeros() as usize;
        if held & (1 << j) != 0 {
            Ok(j)
        } else {
            Err(Some(j))
        }
    }

    /// Two masks of the bucket's slots (bit `j`: slot `j`): those whose key (without
    /// the mark) is `key`, and the empty ones. The 16 keys are compared at once
    /// (SSE2, part of every x86-64: no branch per key); a loop elsewhere.
    #[inline(always)]
    fn matches(&self, key: u32) -> (u32, u32) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: SSE2 is part of every x86_64; the four loads read the bucket's 16
        // keys (64 bytes, `keys` is an array of them), in bounds, unaligned loads.
        unsafe {
            use core::arch::x86_64::{
                __m128i, _mm_and_si128, _mm_cmpeq_epi32, _mm_loadu_si128, _mm_movemask_epi8,
                _mm_packs_epi16, _mm_packs_epi32, _mm_set1_epi32, _mm_setzero_si128,
            };
            let p = self.keys.as_ptr().cast::<__m128i>();
            let unmark = _mm_set1_epi32(!PASSED as i32);
            let keys = [0, 1, 2, 3].map(|q| _mm_and_si128(_mm_loadu_si128(p.add(q)), unmark));
            // Each lane's comparison (all ones or zeros) narrowed to a byte, in slot
            // order, then one bit a slot.
            let mask = |want: __m128i| {
                let c = keys.map(|k| _mm_cmpeq_epi32(k, want));
                let low = _mm_packs_epi32(c[0], c[1]);
                let high = _mm_packs_epi32(c[2], c[3]);
                _mm_movemask_epi8(_mm_packs_epi16(low, high)) as u32
            };
            (mask(_mm_set1_epi32(key as i32)), mask(_mm_setzero_si128()))
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let (mut held, mut empty) = (0, 0);
            for (j, &k) in self.keys.iter().enumerate() {
                let k = k & !PASSED;
                held |= u32::from(k == key) << j;
                empty |= u32::from(k == 0) << j;
            }
            (held, empty)
        }
    }

    /// A key homed in this bucket or before it was placed after it.
    #[inline(always)]
    fn passed(&self) -> bool {
        self.keys[0] & PASSED != 0
    }

    /// The bucket's entries: key (without the mark) and value, in slot order.
    fn entries(&self) -> impl Iterator<Item = (u32, V)> + '_ {
        self.keys
            .iter()
            .zip(&self.values)
            .map(|(&k, &v)| (k & !PASSED, v))
            .filter(|&(k, _)| k != 0)
    }
}

/// Where a probe ended: the key's bucket and slot, or the empty slot where it goes.
enum Probe {
    Found(usize, usize),
    Vacant(usize, usize),
}

impl<V: Zeroable> Part<V> {
    #[inline(always)]
    fn slots(&self) -> usize {
        self.buckets.len() * BUCKET_SLOTS
    }

    /// `key`'s bucket, or the empty slot it would take (marking the full buckets
    /// passed on the way when `mark`): `None` in a part without buckets, or all full.
    #[inline(always)]
    fn probe(&mut self, key: u32, mark: bool) -> Option<Probe> {
        let n = self.buckets.len();
        if n == 0 {
            return None;
        }
        let mut b = home(hash(key), n);
        for _ in 0..n {
            let bucket = &mut self.buckets[b];
            match bucket.find(key) {
                Ok(j) => return Some(Probe::Found(b, j)),
                Err(Some(j)) => return Some(Probe::Vacant(b, j)),
                Err(None) => {
                    if mark {
                        bucket.keys[0] |= PASSED;
                    } else if !bucket.passed() {
                        return None;
                    }
                }
            }
            b = if b + 1 == n { 0 } else { b + 1 };
        }
        None
    }

    #[inline]
    fn get(&self, key: u32) -> Option<&V> {
        let n = self.buckets.len();
        if n == 0 {
            return None;
        }
        let mut b = home(hash(key), n);
        for _ in 0..n {
            let bucket = &self.buckets[b];
            match bucket.find(key) {
                Ok(j) => return Some(&bucket.values[j]),
                Err(Some(_)) => return None,
                Err(None) if !bucket.passed() => return None,
                Err(None) => {}
            }
            b = if b + 1 == n { 0 } else { b + 1 };
        }
        None
    }

    /// The line of `key`'s home bucket's keys, asked into the cache.
    #[inline]
    fn prefetch(&self, key: u32) {
        let n = self.buckets.len();
        if n != 0 {
            prefetch_line(&self.buckets[home(hash(key), n)].keys);
        }
    }

    /// The line of `key`'s value, or of the empty slot it would take, asked into the
    /// cache: its home bucket's keys are read (a caller hints after a lookup of the
    /// key, with that line in the cache), nothing past a full bucket.
    #[inline]
    fn prefetch_value(&self, key: u32) {
        let n = self.buckets.len();
        if n == 0 {
            return;
        }
        let bucket = &self.buckets[home(hash(key), n)];
        if let Ok(j) | Err(Some(j)) = bucket.find(key) {
            prefetch_line(&bucket.values[j]);
        }
    }

    fn entry(&mut self, key: u32) -> &mut V {
        if (self.len + 1) * 8 > self.slots() * 7 {
            self.grow();
        }
        // Looked for first without marking: the key is usually held, or its home has
        // room.
        let (b, j) = match self.probe(key, false) {
            Some(Probe::Found(b, j)) => return &mut self.buckets[b].values[j],
            Some(Probe::Vacant(b, j)) => (b, j),
            None => match self.probe(key, true) {
                Some(Probe::Vacant(b, j)) => (b, j),
                _ => unreachable!("a part below 7/8 full has an empty slot"),
            },
        };
        self.len += 1;
        let bucket = &mut self.buckets[b];
        bucket.keys[j] |= key;
        bucket.values[j] = V::default();
        &mut bucket.values[j]
    }

    /// Buckets after a growth from `b`: a quarter more (at least one more), rounded
    /// down to a whole number of huge pages once the part is on them (from four pages
    /// on, so it still grows: the load stays between 0.7 and 0.875 but for the
    /// rounding).
    fn grown_buckets(b: usize) -> usize {
        let bucket_bytes = std::mem::size_of::<Bucket<V>>();
        let want = (b + b / 4).max(b + 1);
        if !Buckets::<V>::huge(want) {
            return want;
        }
        // Whole pages of whole buckets: a page count's buckets fall short of it by
        // less than a bucket, hence the two buckets' margin.
        let pages = (want * bucket_bytes + 2 * bucket_bytes) / HUGE_PAGE_BYTES;
        (pages * HUGE_PAGE_BYTES / bucket_bytes).max(b + 1)
    }

    /// More buckets ([`Part::grown_buckets`]), every entry placed again. A part on
    /// huge pages grows in the memory it has while its mapping has room
    /// (`HugeArray::lengthen_in_place`): its entries set aside first in the thread's
    /// scratch buffer (`with_scratch`: one part's entries long), its buckets zeroed
    /// by a write, so the kernel zeroes each page of it once rather than once per
    /// growth. Else the entries go to a new array. Either way the entries are walked
    /// in bucket order, and a key's new home is about 5/4 of its old one, so the
    /// buckets are written nearly in order (the same order either way: the same
    /// layout).
    fn grow(&mut self) {
        let old_n = self.buckets.len();
        let n = Self::grown_buckets(old_n);
        if let Buckets::Huge(huge) = &mut self.buckets {
            if huge.lengthen_in_place(n) {
                with_scratch(|scratch: &mut Scratch<(u32, V)>| {
                    scratch.reserve_exact(self.len);
                    for bucket in &self.buckets[..old_n] {
                        bucket.entries().for_each(|e| scratch.push(e));
                    }
                    zero(&mut self.buckets[..old_n]);
                    self.place(scratch.as_slice().iter().copied());
                });
                return;
            }
        }
        let old = std::mem::replace(&mut self.buckets, Buckets::new(n));
        self.place(old.iter().flat_map(Bucket::entries));
    }

    /// Places `entries` (keys held once each, none in the part) in a part with room.
    fn place(&mut self, entries: impl Iterator<Item = (u32, V)>) {
        for (k, v) in entries {
            match self.probe(k, true) {
                Some(Probe::Vacant(b, j)) => {
                    self.buckets[b].keys[j] |= k;
                    self.buckets[b].values[j] = v;
                }
                _ => unreachable!("each key is held once, and the part has room"),
            }
        }
    }
}

/// Asks the processor to bring the cache line holding `p` into its caches: only a
/// hint (nothing is read architecturally, no address faults); nothing off x86-64.
#[inline(always)]
fn prefetch_line<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetcht0` (SSE, part of every x86_64) reads nothing architecturally
    // and never faults, whatever the address.
    unsafe {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// A map from `u64` to `V` (see the module doc). Each entry costs
/// [`slot_bytes::<V>()`](slot_bytes) bytes (4 + the value's) over a load of
/// 0.7-0.875.
#[derive(Clone)]
pub struct PartMap<V: Zeroable> {
    parts: Vec<Part<V>>,
    /// Keys from [`SPLIT_KEYS_END`] on.
    big: FxHashMap<u64, V>,
}

impl<V: Zeroable> std::fmt::Debug for PartMap<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartMap")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl<V: Zeroable> Default for PartMap<V> {
    fn default() -> Self {
        PartMap {
            parts: Vec::new(),
            big: FxHashMap::default(),
        }
    }
}

/// `key`'s part and its key there (non-zero), for a key below [`SPLIT_KEYS_END`].
#[inline(always)]
fn split(key: u64) -> (usize, u32) {
    ((key as usize) % PARTS, (key >> PART_BITS) as u32 + 1)
}

impl<V: Zeroable> PartMap<V> {
    /// Bytes a map holds once it has `entries` keys (below 2^35), spread over its
    /// parts as uniform keys spread them: every part grown a quarter at a time
    /// (`Part::grown_buckets`) until it holds the fullest part's entries
    /// ([`engine::store::fullest_part`]) within 7/8 of its slots, each bucket
    /// `4 + size_of::<V>()` bytes a slot; plus,
    /// for the parts' last growth, the thread's scratch buffer a part on huge pages
    /// sets its entries aside in (kept for the next growth) or, below huge pages, the
    /// buckets a part had, held beside the new ones while they are filled. An upper
    /// bound for keys spread evenly; the bytes are a staircase in `entries` (growths
    /// of a quarter), not a line.
    pub fn bytes_for(entries: u64) -> u64 {
        let bucket = std::mem::size_of::<Bucket<V>>() as u64;
        let fullest = engine::store::fullest_part(entries, PARTS as u64);
        let (mut n, mut before) = (0usize, 0usize);
        while fullest.saturating_mul(8) > (n * BUCKET_SLOTS * 7) as u64 {
            before = n;
            n = Part::<V>::grown_buckets(n);
        }
        let scratch = if Buckets::<V>::huge(n) {
            fullest * std::mem::size_of::<(u32, V)>() as u64
        } else {
            0
        };
        let copied = if Buckets::<V>::huge(before) {
            0
        } else {
            before as u64 * bucket
        };
        PARTS as u64 * n as u64 * bucket + scratch + copied
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.parts.iter().map(|p| p.len).sum::<usize>() + self.big.len()
    }

    /// True when no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `key`'s value, if held.
    #[inline]
    pub fn get(&self, key: u64) -> Option<&V> {
        if key >= SPLIT_KEYS_END {
            return self.big.get(&key);
        }
        let (p, k) = split(key);
        self.parts.get(p)?.get(k)
    }

    /// Asks the cache line where a lookup of `key` starts into the processor's caches
    /// (a hint: nothing changes; a key of the ordinary hash map is not hinted).
    #[inline]
    pub fn prefetch(&self, key: u64) {
        if key < SPLIT_KEYS_END {
            let (p, k) = split(key);
            if let Some(part) = self.parts.get(p) {
                part.prefetch(k);
            }
        }
    }

    /// Asks the line holding `key`'s value, or the slot its insertion would take,
    /// into the processor's caches when that slot is in the key's home bucket (a
    /// hint: nothing changes; a key of the ordinary hash map is not hinted). It reads
    /// the home bucket's keys: meant just after a lookup of `key`, ahead of an
    /// [`PartMap::entry`] of it some steps later, whose value line then hits.
    #[inline]
    pub fn prefetch_value(&self, key: u64) {
        if key < SPLIT_KEYS_END {
            let (p, k) = split(key);
            if let Some(part) = self.parts.get(p) {
                part.prefetch_value(k);
            }
        }
    }

    /// `key`'s value, inserted as `V::default()` when not held.
    pub fn entry(&mut self, key: u64) -> &mut V {
        if key >= SPLIT_KEYS_END {
            return self.big.entry(key).or_default();
        }
        if self.parts.is_empty() {
            self.parts = (0..PARTS).map(|_| Part::default()).collect();
        }
        let (p, k) = split(key);
        self.parts[p].entry(k)
    }

    /// Sets `key`'s value.
    pub fn insert(&mut self, key: u64, value: V) {
        *self.entry(key) = value;
    }

    /// Every entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, V)> + '_ {
        self.parts
            .iter()
            .enumerate()
            .flat_map(|(p, part)| {
                part.buckets.iter().flat_map(move |b| {
                    b.entries()
                        .map(move |(k, v)| ((u64::from(k - 1) << PART_BITS) | p as u64, v))
                })
            })
            .chain(self.big.iter().map(|(&k, &v)| (k, v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use std::collections::BTreeMap;

    #[derive(Clone, Copy, Default, Debug, PartialEq, Eq, PartialOrd, Ord)]
    #[repr(C)]
    struct Pair(u64, u32);
    // SAFETY: integers (its padding is never read as a value).
    unsafe impl Zeroable for Pair {}

    /// A map given uniformly spread keys holds what [`PartMap::bytes_for`] sizes for
    /// that many: never more, and, for large maps, at most a part and the growth's
    /// scratch more.
    #[test]
    fn bytes_for_is_what_a_uniformly_filled_map_holds() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut m = PartMap::<Pair>::default();
        let bucket = std::mem::size_of::<Bucket<Pair>>() as u64;
        for target in [100usize, 5_000, 60_000, 300_000] {
            while m.len() < target {
                let k = rng.random_range(0..1u64 << 34);
                m.insert(k, Pair(k, 1));
            }
            let held: u64 = m.parts.iter().map(|p| p.buckets.len() as u64).sum::<u64>() * bucket;
            let sized = PartMap::<Pair>::bytes_for(target as u64);
            let part = held / PARTS as u64 + bucket;
            let scratch = target as u64 * slot_bytes::<Pair>() as u64 / PARTS as u64 * 2;
            assert!(held <= sized, "{target}: {held} > {sized}");
            // The fullest part's margin (four standard deviations) is a few per cent
            // of a large part's share.
            if target >= 60_000 {
                assert!(
                    sized <= held * 5 / 4 + 2 * part + scratch,
                    "{target}: {sized} vs {held}"
                );
            }
        }
    }

    /// What a part keeps: keys fill each bucket from its first slot; a key outside its
    /// home bucket has every bucket from its home to it full and marked passed; the
    /// load stays at most 7/8.
    fn check_part<V: Zeroable>(p: &Part<V>) {
        let n = p.buckets.len();
        let mut len = 0;
        for (b, bucket) in p.buckets.iter().enumerate() {
            let keys: Vec<u32> = bucket.keys.iter().map(|&k| k & !PASSED).collect();
            let held = keys.iter().take_while(|&&k| k != 0).count();
            assert!(
                keys[held..].iter().all(|&k| k == 0),
                "keys fill from the first slot"
            );
            assert!(
                !bucket.passed() || held == BUCKET_SLOTS,
                "only a full bucket is passed"
            );
            assert!(bucket.keys[1..].iter().all(|&k| k & PASSED == 0));
            len += held;
            for &k in &keys[..held] {
                let mut h = home(hash(k), n);
                while h != b {
                    assert!(p.buckets[h].passed(), "every bucket on the way is marked");
                    h = (h + 1) % n;
                }
            }
        }
        assert_eq!(len, p.len);
        assert!(p.len * 8 <= p.slots() * 7);
    }

    /// A bucket's keys compared at once (`Bucket::find`) answer as a scan from its
    /// first slot: every fill, the key at each place or absent, marked or not, keys
    /// with the high bit's neighbours set (a key's bits beside the mark).
    #[test]
    fn a_bucket_answers_as_a_scan() {
        fn scan(b: &Bucket<u32>, key: u32) -> Result<usize, Option<usize>> {
            for (j, &k) in b.keys.iter().enumerate() {
                let k = k & !PASSED;
                if k == key {
                    return Ok(j);
                }
                if k == 0 {
                    return Err(Some(j));
                }
            }
            Err(None)
        }
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut checked = [0usize; 3];
        for _ in 0..20_000 {
            let mut b = Bucket::<u32>::default();
            let fill = r.random_range(0..=BUCKET_SLOTS);
            for j in 0..fill {
                b.keys[j] = match r.random_range(0..3) {
                    0 => r.random_range(1..40),
                    1 => PASSED - 1 - r.random_range(0..3),
                    _ => r.random_range(1..PASSED),
                };
            }
            if r.random_bool(0.3) {
                b.keys[0] |= PASSED;
            }
            // Now and then a zero inside (never so in a part): still the first slot
            // that decides.
            if fill > 2 && r.random_bool(0.1) {
                b.keys[r.random_range(1..fill)] = 0;
            }
            let key = match r.random_range(0..3) {
                0 if fill > 0 => b.keys[r.random_range(0..fill)] & !PASSED,
                1 => PASSED - 1,
                _ => r.random_range(1..40),
            };
            if key == 0 {
                continue;
            }
            let want = scan(&b, key);
            assert_eq!(b.find(key), want, "{:?} {key}", b.keys);
            checked[match want {
                Ok(_) => 0,
                Err(Some(_)) => 1,
                Err(None) => 2,
            }] += 1;
        }
        assert!(checked.iter().all(|&n| n > 200), "{checked:?}");
    }

    /// Random inserts, overwrites and lookups, keys small, large and past the split,
    /// agree with an ordered map, with both hints given before each (they change
    /// nothing); every part keeps its order and its load.
    #[test]
    fn it_agrees_with_an_ordered_map() {
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut m = PartMap::<Pair>::default();
        let mut want = BTreeMap::new();
        assert!(m.is_empty() && m.get(3).is_none());
        m.prefetch(3);
        m.prefetch_value(3);
        for i in 0..60_000u32 {
            let key = match r.random_range(0..4) {
                0 => r.random_range(0..1_000),
                1 => r.random_range(0..1 << 28),
                2 => r.random_range(SPLIT_KEYS_END - 600..SPLIT_KEYS_END + 600),
                _ => r.random(),
            };
            m.prefetch(key);
            m.prefetch_value(key);
            if r.random_bool(0.8) {
                m.insert(key, Pair(key ^ 5, i));
                want.insert(key, Pair(key ^ 5, i));
            } else {
                assert_eq!(m.get(key), want.get(&key));
            }
        }
        assert_eq!(m.len(), want.len());
        let mut got: Vec<(u64, Pair)> = m.iter().collect();
        got.sort_unstable();
        assert_eq!(got, want.clone().into_iter().collect::<Vec<_>>());
        assert!(m.big.len() > 100, "keys past the split reached");
        m.parts.iter().for_each(check_part);
        let copy = m.clone();
        *m.entry(1) = Pair(0, 0);
        assert_eq!(m.get(1), Some(&Pair(0, 0)));
        assert_eq!(copy.get(1), want.get(&1), "a clone is its own");
        assert_eq!(copy.len(), want.len());
    }

    /// The layout's edge cases: keys homed in a part's last bucket (they overflow
    /// it and wrap to the first, marking it passed), consecutive keys (one part),
    /// keys just below the split and the largest 4-byte part keys, a large part on
    /// 2 MiB pages; lookups of keys never inserted find nothing.
    #[test]
    fn the_layout_keeps_its_rules_at_the_edges() {
        // Keys of part 0 whose hashes are the largest: homed in the last bucket.
        let mut m = PartMap::<Pair>::default();
        let tail: Vec<u64> = (1..400_000u64)
            .filter(|&k| hash(k as u32) > u64::MAX - (u64::MAX >> 9))
            .map(|k| (k - 1) << PART_BITS)
            .take(200)
            .collect();
        assert_eq!(tail.len(), 200, "enough keys homed at the end");
        let mut wrapped = false;
        for (i, &k) in tail.iter().enumerate() {
            m.insert(k, Pair(k, i as u32));
            let p = &m.parts[0];
            check_part(p);
            let last = p.buckets.len() - 1;
            wrapped |= p.buckets[last].passed() && p.buckets[0].keys[0] != 0;
        }
        assert!(wrapped, "the last bucket overflowed into the first");
        for (i, &k) in tail.iter().enumerate() {
            assert_eq!(m.get(k), Some(&Pair(k, i as u32)));
        }
        // Keys never inserted, homed in marked buckets or not, are not found.
        for k in 400_000..401_000u64 {
            assert_eq!(m.get(k << PART_BITS), None);
        }

        // Consecutive keys, the largest part keys and keys on both sides of the split.
        let mut m = PartMap::<Pair>::default();
        let mut want = BTreeMap::new();
        let keys = (0..50_000u64)
            .chain(SPLIT_KEYS_END - 5_000..SPLIT_KEYS_END + 5_000)
            .chain([u64::MAX, u64::MAX - 1]);
        for k in keys {
            m.insert(k, Pair(k, 3));
            want.insert(k, Pair(k, 3));
        }
        for k in want.keys() {
            assert_eq!(m.get(*k), Some(&Pair(*k, 3)));
        }
        for k in 50_000..60_000u64 {
            assert_eq!(m.get(k), None);
        }
        m.parts.iter().for_each(check_part);
        let mut got: Vec<(u64, Pair)> = m.iter().collect();
        got.sort_unstable();
        assert_eq!(got, want.into_iter().collect::<Vec<_>>());

        // Growth steps: always more buckets, a quarter more or a little less (whole
        // huge pages, no page partly idle, once on them).
        let bucket_bytes = std::mem::size_of::<Bucket<Pair>>();
        let mut b = 0;
        while b * bucket_bytes < 64 * HUGE_PAGE_BYTES {
            let n = Part::<Pair>::grown_buckets(b);
            assert!(n > b && n * 4 <= (b * 5).max(4 * b + 4) + 8, "{b} -> {n}");
            if Buckets::<Pair>::huge(n) {
                let idle = (n * bucket_bytes).div_ceil(HUGE_PAGE_BYTES) * HUGE_PAGE_BYTES
                    - n * bucket_bytes;
                assert!(idle < bucket_bytes, "whole huge pages: {b} -> {n}, {idle}");
            }
            if Buckets::<Pair>::huge(b) {
                assert!(n * 8 >= b * 9, "at least an eighth more");
            }
            b = n;
        }

        // A part past the huge page bound: whole huge pages, still in order, grown
        // in the memory it has once on them.
        let mut m = PartMap::<Pair>::default();
        let n = (HUGE_PART_BYTES_MIN / slot_bytes::<Pair>() * 2) as u64;
        let (mut in_place, mut moved) = (0, 0);
        for k in 0..n {
            let before = m.parts.first().map(|p| match &p.buckets {
                Buckets::Huge(h) => (h.as_ptr() as usize, h.len()),
                Buckets::Small(_) => (0, 0),
            });
            m.insert(k * PARTS as u64, Pair(k, 1));
            if let (Some((at, len)), Buckets::Huge(h)) = (before, &m.parts[0].buckets) {
                if at != 0 && h.len() != len {
                    if h.as_ptr() as usize == at {
                        in_place += 1;
                    } else {
                        moved += 1;
                    }
                }
            }
        }
        #[cfg(target_os = "linux")]
        assert!(
            in_place >= 2 && moved == 0,
            "{in_place} in place, {moved} moved"
        );
        #[cfg(target_os = "linux")]
        {
            let kept = engine::store::huge_pages::scratch_bytes();
            let entry = std::mem::size_of::<(u32, Pair)>();
            assert!(
                kept > 0 && kept <= m.parts[0].len * entry + 8,
                "one part's: {kept}"
            );
        }
        let p = &m.parts[0];
        let bytes = p.buckets.len() * bucket_bytes;
        assert!(bytes + bucket_bytes > HUGE_PART_BYTES_MIN);
        assert!(bytes.div_ceil(HUGE_PAGE_BYTES) * HUGE_PAGE_BYTES - bytes < bucket_bytes);
        let Buckets::Huge(huge) = &p.buckets else {
            panic!("a large part is on huge pages");
        };
        #[cfg(target_os = "linux")]
        assert!(huge.is_mapped());
        check_part(p);
        for k in (0..n).step_by(97) {
            assert_eq!(m.get(k * PARTS as u64), Some(&Pair(k, 1)));
            assert_eq!(m.get(k * PARTS as u64 + 1), None);
        }
    }
}
