//! The lookup table's slot per volume block: a dense array for a volume of up to
//! [`DENSE_BLOCKS_MAX`] blocks (4 bytes per volume block, a probe is an index), a
//! compact hash table of only the entries that exist above ([`SparseSlots`]: 64 or
//! more parts by the block's low bits, each an [`EntryMap`] of 8-byte slots, about
//! 9-18 bytes an entry, none per volume block), so a 1 TiB volume does not allocate a
//! slot for each of its 268 million blocks, and an insert is one probe of a cache
//! line, not a descent of a tree of millions of entries. The sparse form keeps no
//! order: the first listing of its entries in block order ([`BlockSlots::entries`],
//! [`BlockSlots::entries_from`]: the metadata snapshot, the table's copy, the end
//! check's walk) sorts its blocks once and keeps them (8 bytes an entry) until the
//! next change, so a walk a step at a time sorts once.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::OnceLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::entry_map::{part_bits, EntryMap};

/// Marks a volume block with no entry in the dense form.
const NONE: u32 = u32::MAX;

/// Most volume blocks held densely (4 MiB of slots).
pub const DENSE_BLOCKS_MAX: u64 = 1 << 20;

/// Bits of the block choosing a sparse table's part, at least (64 parts: a part's
/// growth copies a 64th of the table).
pub(crate) const PART_BITS_MIN: u32 = 6;

/// Slot per volume block with an entry (see the module doc).
#[derive(Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) enum BlockSlots {
    /// Slot per volume block, or `NONE`.
    Dense(Vec<u32>),
    /// The entries of a larger volume.
    Sparse(SparseSlots),
}

/// The entries of a volume of `volume_blocks` blocks, in parts by the block's low
/// `part_bits` bits, each keyed by the block's other bits (at most 32).
pub(crate) struct SparseSlots {
    volume_blocks: u64,
    part_bits: u32,
    parts: Vec<EntryMap>,
    /// The blocks with an entry, ascending, once listed; dropped by any change.
    order: OnceLock<Vec<u64>>,
}

/// A copy without the listed order (made again when asked).
impl Clone for SparseSlots {
    fn clone(&self) -> Self {
        SparseSlots {
            volume_blocks: self.volume_blocks,
            part_bits: self.part_bits,
            parts: self.parts.clone(),
            order: OnceLock::new(),
        }
    }
}

impl SparseSlots {
    fn new(volume_blocks: u64) -> Self {
        let part_bits = part_bits(volume_blocks, PART_BITS_MIN);
        SparseSlots {
            volume_blocks,
            part_bits,
            parts: vec![EntryMap::default(); 1 << part_bits],
            order: OnceLock::new(),
        }
    }

    /// `block`'s part and key. Panics on a block past the volume.
    #[inline]
    fn split(&self, block: u64) -> (usize, u32) {
        assert!(block < self.volume_blocks, "block {block} past the volume");
        let part = (block & ((1 << self.part_bits) - 1)) as usize;
        (part, (block >> self.part_bits) as u32)
    }

    #[inline]
    fn get(&self, block: u64) -> Option<u32> {
        let (part, key) = self.split(block);
        self.parts[part].get(key)
    }

    fn set(&mut self, block: u64, slot: Option<u32>) -> Option<u32> {
        let (part, key) = self.split(block);
        if self.order.get().is_some() {
            self.order = OnceLock::new();
        }
        match slot {
            Some(slot) => self.parts[part].insert(key, slot),
            None => self.parts[part].remove(key),
        }
    }

    fn len(&self) -> usize {
        self.parts.iter().map(EntryMap::len).sum()
    }

    /// The blocks with an entry, ascending (sorted on the first call after a change).
    fn order(&self) -> &[u64] {
        self.order.get_or_init(|| {
            let mut out = Vec::with_capacity(self.len());
            for (part, map) in self.parts.iter().enumerate() {
                out.extend(
                    map.iter()
                        .map(|(key, _)| (u64::from(key) << self.part_bits) | part as u64),
                );
            }
            out.sort_unstable();
            out
        })
    }

    /// The entries `(block, slot)` from block `from` on, ascending.
    fn entries_from(&self, from: u64) -> SparseEntries<'_> {
        let order = self.order();
        let at = order.partition_point(|&b| b < from);
        SparseEntries {
            slots: self,
            blocks: order[at..].iter(),
        }
    }

    /// Every entry `(block, slot)`, ascending.
    fn sorted(&self) -> SparseEntries<'_> {
        self.entries_from(0)
    }
}

/// [`SparseSlots::entries_from`]'s iterator.
pub(crate) struct SparseEntries<'a> {
    slots: &'a SparseSlots,
    blocks: std::slice::Iter<'a, u64>,
}

impl Iterator for SparseEntries<'_> {
    type Item = (u64, u32);
    #[inline]
    fn next(&mut self) -> Option<(u64, u32)> {
        let block = *self.blocks.next()?;
        Some((
            block,
            self.slots.get(block).expect("a listed block has an entry"),
        ))
    }
}

/// Equal when they cover the same volume and hold the same entries (whatever the
/// order in which they were inserted).
impl PartialEq for SparseSlots {
    fn eq(&self, other: &Self) -> bool {
        self.volume_blocks == other.volume_blocks
            && self.len() == other.len()
            && self
                .parts
                .iter()
                .zip(&other.parts)
                .all(|(a, b)| a.iter().all(|(key, slot)| b.get(key) == Some(slot)))
    }
}

impl Eq for SparseSlots {}

/// Hashes the volume and the entries in block order (consistent with `Eq`).
impl Hash for SparseSlots {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.volume_blocks.hash(state);
        self.len().hash(state);
        for entry in self.sorted() {
            entry.hash(state);
        }
    }
}

impl std::fmt::Debug for SparseSlots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sparse")
            .field("volume_blocks", &self.volume_blocks)
            .field("entries", &Sorted(self))
            .finish()
    }
}

/// A sparse table's entries as a map in block order (its `Debug` and wire form).
struct Sorted<'a>(&'a SparseSlots);

impl std::fmt::Debug for Sorted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.0.sorted()).finish()
    }
}

impl Serialize for Sorted<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.sorted())
    }
}

/// Serialised as `{ volume_blocks, entries: { block: slot, ... } }` in block order.
impl Serialize for SparseSlots {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Sparse", 2)?;
        s.serialize_field("volume_blocks", &self.volume_blocks)?;
        s.serialize_field("entries", &Sorted(self))?;
        s.end()
    }
}

/// The wire form of [`SparseSlots`].
#[derive(Deserialize)]
#[serde(rename = "Sparse")]
struct SparseWire {
    volume_blocks: u64,
    entries: BTreeMap<u64, u32>,
}

/// Errors: an entry past the volume, or a slot of `u32::MAX`.
impl<'de> Deserialize<'de> for SparseSlots {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let wire = SparseWire::deserialize(deserializer)?;
        let mut s = SparseSlots::new(wire.volume_blocks);
        for (block, slot) in wire.entries {
            if block >= wire.volume_blocks || slot == NONE {
                return Err(D::Error::custom(format!(
                    "entry {block} -> {slot} past the volume ({} blocks) or the data area",
                    wire.volume_blocks
                )));
            }
            s.set(block, Some(slot));
        }
        Ok(s)
    }
}

impl BlockSlots {
    /// No entries, `volume_blocks` blocks: dense up to [`DENSE_BLOCKS_MAX`] blocks.
    pub(crate) fn new(volume_blocks: u64) -> Self {
        if volume_blocks <= DENSE_BLOCKS_MAX {
            BlockSlots::Dense(vec![NONE; volume_blocks as usize])
        } else {
            BlockSlots::Sparse(SparseSlots::new(volume_blocks))
        }
    }

    /// Volume blocks covered.
    pub(crate) fn volume_blocks(&self) -> u64 {
        match self {
            BlockSlots::Dense(slots) => slots.len() as u64,
            BlockSlots::Sparse(sparse) => sparse.volume_blocks,
        }
    }

    /// `block`'s slot, if it has an entry. Panics on a block past the volume.
    pub(crate) fn get(&self, block: u64) -> Option<u32> {
        match self {
            BlockSlots::Dense(slots) => match slots[block as usize] {
                NONE => None,
                slot => Some(slot),
            },
            BlockSlots::Sparse(sparse) => sparse.get(block),
        }
    }

    /// Sets (or with `None` drops) `block`'s entry; returns the slot it had.
    pub(crate) fn set(&mut self, block: u64, slot: Option<u32>) -> Option<u32> {
        match self {
            BlockSlots::Dense(slots) => {
                match std::mem::replace(&mut slots[block as usize], slot.unwrap_or(NONE)) {
                    NONE => None,
                    old => Some(old),
                }
            }
            BlockSlots::Sparse(sparse) => sparse.set(block, slot),
        }
    }

    /// Drops every entry.
    pub(crate) fn clear(&mut self) {
        match self {
            BlockSlots::Dense(slots) => slots.iter_mut().for_each(|s| *s = NONE),
            BlockSlots::Sparse(sparse) => *sparse = SparseSlots::new(sparse.volume_blocks),
        }
    }

    /// Entries as `(block, slot)` in block order, from block `from` on (the sparse
    /// form's blocks sorted on the first listing after a change: O(n log n) then).
    pub(crate) fn entries_from(&self, from: u64) -> Entries<'_> {
        match self {
            BlockSlots::Dense(slots) => {
                let from = usize::try_from(from).unwrap_or(usize::MAX).min(slots.len());
                Entries::DenseFrom(from, slots[from..].iter().enumerate())
            }
            BlockSlots::Sparse(sparse) => Entries::Sparse(sparse.entries_from(from)),
        }
    }

    /// Entries as `(block, slot)` in block order (as [`BlockSlots::entries_from`]).
    pub(crate) fn entries(&self) -> Entries<'_> {
        match self {
            BlockSlots::Dense(slots) => Entries::Dense(slots.iter().enumerate()),
            BlockSlots::Sparse(sparse) => Entries::Sparse(sparse.sorted()),
        }
    }
}

impl Clone for BlockSlots {
    fn clone(&self) -> Self {
        match self {
            BlockSlots::Dense(slots) => BlockSlots::Dense(slots.clone()),
            BlockSlots::Sparse(sparse) => BlockSlots::Sparse(sparse.clone()),
        }
    }

    /// A dense copy into a dense array reuses its allocation (a model checker copies
    /// tables at every step).
    fn clone_from(&mut self, source: &Self) {
        match (self, source) {
            (BlockSlots::Dense(to), BlockSlots::Dense(from)) => to.clone_from(from),
            (to, from) => *to = from.clone(),
        }
    }
}

/// [`BlockSlots::entries`]: an iterator of either form (the sparse one over its listed
/// order).
pub(crate) enum Entries<'a> {
    Dense(std::iter::Enumerate<std::slice::Iter<'a, u32>>),
    /// The slots from a block on (the block, their iterator).
    DenseFrom(usize, std::iter::Enumerate<std::slice::Iter<'a, u32>>),
    Sparse(SparseEntries<'a>),
}

impl Iterator for Entries<'_> {
    type Item = (u64, u32);
    fn next(&mut self) -> Option<(u64, u32)> {
        match self {
            Entries::Dense(slots) => slots
                .find(|(_, s)| **s != NONE)
                .map(|(b, s)| (b as u64, *s)),
            Entries::DenseFrom(from, slots) => slots
                .find(|(_, s)| **s != NONE)
                .map(|(b, s)| ((*from + b) as u64, *s)),
            Entries::Sparse(entries) => entries.next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::DefaultHasher;

    #[test]
    fn dense_and_sparse_forms_agree() {
        let mut dense = BlockSlots::new(DENSE_BLOCKS_MAX);
        let mut sparse = BlockSlots::new(DENSE_BLOCKS_MAX + 1);
        assert!(matches!(dense, BlockSlots::Dense(_)));
        assert!(matches!(sparse, BlockSlots::Sparse(_)));
        for s in [&mut dense, &mut sparse] {
            for i in 0..500u64 {
                assert_eq!(s.set(i * 2003 % DENSE_BLOCKS_MAX, Some(i as u32)), None);
            }
            assert_eq!(s.set(0, None), Some(0));
            assert_eq!(s.set(2003, Some(7)), Some(1));
            assert_eq!(s.get(2003), Some(7));
            assert_eq!(s.get(1), None);
        }
        assert_eq!(dense.entries().count(), 499);
        assert!(dense.entries().eq(sparse.entries()));
        for from in [
            0,
            1,
            2003,
            2004,
            DENSE_BLOCKS_MAX - 1,
            DENSE_BLOCKS_MAX,
            u64::MAX,
        ] {
            let want: Vec<_> = dense.entries().filter(|&(b, _)| b >= from).collect();
            assert!(dense.entries_from(from).eq(want.iter().copied()));
            assert!(sparse.entries_from(from).eq(want.iter().copied()));
        }
        assert_eq!(
            dense.entries_from(2004).next(),
            sparse.entries_from(2004).next()
        );
        assert!(dense.entries_from(2004).next().is_some());
        // A change after a listing is listed next time.
        sparse.set(2005, Some(11));
        assert_eq!(sparse.entries_from(2004).next(), Some((2005, 11)));
        sparse.set(2005, None);
        assert!(dense.entries().eq(sparse.entries()));
        sparse.clear();
        assert_eq!(sparse.entries().count(), 0);
        assert_eq!(sparse.volume_blocks(), DENSE_BLOCKS_MAX + 1);
    }

    fn hash_of(s: &BlockSlots) -> u64 {
        let mut h = DefaultHasher::new();
        s.hash(&mut h);
        h.finish()
    }

    /// Inserts, overwrites and removals of blocks spread over a 1 TiB volume of 4 KiB
    /// blocks (2^28, 64 parts) and over 2^40 blocks (keys wider than 32 bits: 256
    /// parts), against an ordered map: the same lookups, the same entries in block
    /// order; and two tables holding the same entries inserted in another order are
    /// equal and hash alike, one entry apart they differ.
    #[test]
    fn the_sparse_form_agrees_with_an_ordered_map() {
        for volume_blocks in [1u64 << 28, 1 << 40] {
            let mut s = BlockSlots::new(volume_blocks);
            let BlockSlots::Sparse(sparse) = &s else {
                panic!("a large volume is sparse")
            };
            assert_eq!(
                sparse.parts.len(),
                if volume_blocks == 1 << 28 { 64 } else { 256 }
            );
            let mut reference = BTreeMap::new();
            let mut x = 0x2545_f491_4f6c_dd1du64;
            let mut removed = 0;
            for step in 0..100_000u32 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Few distinct blocks (so overwrites and removals hit), the top one too.
                let block = (x % 20_000).wrapping_mul(0x9e37_79b9) % volume_blocks;
                let block = if step % 1000 == 0 {
                    volume_blocks - 1
                } else {
                    block
                };
                if x.is_multiple_of(3) {
                    let had = reference.remove(&block);
                    removed += usize::from(had.is_some());
                    assert_eq!(s.set(block, None), had, "remove {block}");
                } else {
                    assert_eq!(s.set(block, Some(step)), reference.insert(block, step));
                }
                assert_eq!(s.get(block), reference.get(&block).copied());
            }
            assert!(removed > 5_000, "removals reached: {removed}");
            assert!(reference.len() > 5_000);
            assert!(s.entries().eq(reference.iter().map(|(b, v)| (*b, *v))));
            assert!(reference.contains_key(&(volume_blocks - 1)) || removed > 0);

            let mut other = BlockSlots::new(volume_blocks);
            for (&block, &slot) in reference.iter().rev() {
                other.set(block, Some(slot));
            }
            assert_eq!(s, other);
            assert_eq!(hash_of(&s), hash_of(&other));
            assert_eq!(format!("{s:?}"), format!("{other:?}"));
            let (&first, &slot) = reference.iter().next().unwrap();
            other.set(first, Some(slot + 1));
            assert_ne!(s, other, "another slot");
            other.set(first, None);
            assert_ne!(s, other, "one entry fewer");
            assert_ne!(s, BlockSlots::new(volume_blocks + 1), "another volume");
            assert_eq!(s.clone(), s);
        }
    }

    #[test]
    #[should_panic(expected = "past the volume")]
    fn a_block_past_a_sparse_volume_panics() {
        BlockSlots::new(DENSE_BLOCKS_MAX + 1).get(DENSE_BLOCKS_MAX + 1);
    }
}
