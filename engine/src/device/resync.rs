//! Mirroring's record of the blocks where image A may differ from image B (a change
//! bitmap, as Linux MD's write-intent bitmap or an incremental re-establish of a split
//! mirror keeps), so that a later cycle's split resyncs image A by copying those
//! blocks only ([`Device::split_counted`](super::Device::split_counted)).
//!
//! From the split on, VLUN B writes image B alone (phases Split, BackedUp and Retired):
//! each such write records its block before it touches image B, so a write that fails
//! half-way is recorded too. A write through VLUN A lands on both images and records
//! nothing (a VLUN A write that fails between or inside its two image writes makes
//! the record unknown). The record is emptied only by a resync that copied every block
//! in it; one that stops at a block (an unreadable block of image B, a failed write to
//! image A) keeps that block and every later one, so a retried split copies the rest.
//!
//! In memory only, never journaled: after any crash, a reopen or a recovery of a file
//! device ([`crate::file::open`], [`Device::recover`](super::Device::recover),
//! [`Device::power_cycle`](super::Device::power_cycle)) it is unknown, and so is it on a
//! device built over images its maker does not vouch for ([`Device::new`](super::Device::new)
//! until [`Device::images_in_sync`](super::Device::images_in_sync)); an unknown record
//! makes the next resync copy every block of the volume, as a full re-silver does.
//!
//! Held as the volume's size suits, as the table's entry index is: up to
//! [`DENSE_BLOCKS_MAX`] volume blocks a bitmap, a bit per volume block (at most 128 KiB;
//! recording a write is one OR, so VLUN B's writes pay nothing they would notice);
//! above, a `BTreeSet<u64>` of the blocks, as the journaled `diverged` marks are held,
//! whose bytes grow with the distinct blocks VLUN B writes in a cycle, not with the
//! volume (a bitmap of a 2^40-block volume would be 128 GiB before any write). Both
//! are walked in ascending order, so the resync reads image B in address order.
//! [`resync_set_bytes`] bounds their bytes for the simulator's memory estimate.

use std::collections::BTreeSet;

use crate::block_slots::DENSE_BLOCKS_MAX;

/// Upper bound of the bytes mirroring's record of the blocks to resync (see
/// [`crate::Device::split_counted`]) holds per block recorded on a volume of more than
/// [`crate::table::DENSE_BLOCKS_MAX`] blocks: a `BTreeSet<u64>` leaf holds up to 11
/// keys of 8 bytes (112 bytes with its header and the allocator's), every node but the
/// root at least 5; an internal node (208 bytes with its 12 edges) has at least 6
/// children, so there are at most a fifth as many internal nodes as leaves:
/// (112 + 208 / 5) / 5 = 30.7 bytes a key at worst, ≤ 32. Measured (a counting
/// allocator, 10^6 inserts, headers aside): 15.4 bytes a key in random order, 19.6 in
/// descending order.
pub const RESYNC_SET_BYTES_PER_BLOCK: u64 = 32;

/// Bytes the record holds, at most, on a volume of `volume_blocks` blocks with
/// `blocks` distinct blocks recorded: up to [`crate::table::DENSE_BLOCKS_MAX`] volume
/// blocks two bitmaps of a bit per volume block (the record and, while a resync runs,
/// the empty one that replaces it), above [`RESYNC_SET_BYTES_PER_BLOCK`] per block.
pub fn resync_set_bytes(volume_blocks: u64, blocks: u64) -> u64 {
    if volume_blocks <= DENSE_BLOCKS_MAX {
        2 * volume_blocks.div_ceil(64) * 8
    } else {
        blocks.saturating_mul(RESYNC_SET_BYTES_PER_BLOCK)
    }
}

/// A set of volume blocks, dense or sparse by the volume's size (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Blocks {
    /// A bit per volume block: block `b` is bit `b % 64` of word `b / 64`.
    Dense(Vec<u64>),
    Sparse(BTreeSet<u64>),
}

impl Blocks {
    /// No block, for a volume of `volume_blocks` blocks.
    fn empty(volume_blocks: u64) -> Self {
        if volume_blocks <= DENSE_BLOCKS_MAX {
            Blocks::Dense(vec![0; volume_blocks.div_ceil(64) as usize])
        } else {
            Blocks::Sparse(BTreeSet::new())
        }
    }

    #[inline]
    fn insert(&mut self, block: u64) {
        match self {
            Blocks::Dense(words) => words[(block / 64) as usize] |= 1 << (block % 64),
            Blocks::Sparse(set) => {
                set.insert(block);
            }
        }
    }

    /// The blocks, ascending.
    pub(crate) fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        let (dense, sparse) = match self {
            Blocks::Dense(words) => (Some(words), None),
            Blocks::Sparse(set) => (None, Some(set)),
        };
        let bits = |(i, &word): (usize, &u64)| {
            let mut word = word;
            std::iter::from_fn(move || {
                if word == 0 {
                    return None;
                }
                let bit = u64::from(word.trailing_zeros());
                word &= word - 1;
                Some(i as u64 * 64 + bit)
            })
        };
        dense
            .into_iter()
            .flat_map(move |w| w.iter().enumerate().flat_map(bits))
            .chain(sparse.into_iter().flat_map(|s| s.iter().copied()))
    }

    /// Only the blocks from `block` on.
    pub(crate) fn from(mut self, block: u64) -> Self {
        match &mut self {
            Blocks::Dense(words) => {
                let i = ((block / 64) as usize).min(words.len());
                words[..i].fill(0);
                if let Some(w) = words.get_mut(i) {
                    *w &= !0u64 << (block % 64);
                }
            }
            Blocks::Sparse(set) => *set = set.split_off(&block),
        }
        self
    }

    /// Adds the blocks of `other`.
    fn join(&mut self, other: Self) {
        match (self, other) {
            (Blocks::Dense(a), Blocks::Dense(b)) => {
                a.iter_mut().zip(b).for_each(|(x, y)| *x |= y);
            }
            (Blocks::Sparse(a), Blocks::Sparse(mut b)) => a.append(&mut b),
            (a, b) => b.iter().for_each(|block| a.insert(block)),
        }
    }
}

/// The blocks where image A may differ from image B since they were last known equal
/// (see the module doc), on a volume of `volume_blocks` blocks: `blocks` `None`
/// unknown (every block may differ), else only those blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StaleBlocks {
    volume_blocks: u64,
    blocks: Option<Blocks>,
}

impl StaleBlocks {
    /// Unknown: the next resync copies every block.
    pub(crate) fn unknown(volume_blocks: u64) -> Self {
        StaleBlocks {
            volume_blocks,
            blocks: None,
        }
    }

    /// Image A equals image B on every block.
    pub(crate) fn in_sync(volume_blocks: u64) -> Self {
        StaleBlocks {
            volume_blocks,
            blocks: Some(Blocks::empty(volume_blocks)),
        }
    }

    /// Records that `block` of image B is written while image A is not (a no-op when
    /// unknown: every block is copied anyway).
    #[inline]
    pub(crate) fn insert(&mut self, block: u64) {
        if let Some(blocks) = &mut self.blocks {
            blocks.insert(block);
        }
    }

    /// Makes the record unknown (a mirrored write failed half-way).
    pub(crate) fn forget(&mut self) {
        self.blocks = None;
    }

    /// The recorded blocks, ascending, or `None` when unknown.
    #[cfg(all(test, not(loom)))]
    pub(crate) fn blocks(&self) -> Option<Vec<u64>> {
        self.blocks.as_ref().map(|b| b.iter().collect())
    }

    /// Takes the record out for a resync, leaving it empty (in sync): the blocks to
    /// copy, or `None` for every block.
    pub(crate) fn take(&mut self) -> Option<Blocks> {
        std::mem::replace(self, Self::in_sync(self.volume_blocks)).blocks
    }

    /// After a resync that stopped: `left` (the blocks it did not copy, or `None`
    /// for unknown) joined with whatever was recorded meanwhile.
    pub(crate) fn keep(&mut self, left: Option<Blocks>) {
        match (&mut self.blocks, left) {
            (Some(now), Some(left)) => now.join(left),
            _ => self.blocks = None,
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::file::{self, DevicePaths};
    use crate::store::{BlockStore, FaultKind, FaultyStore, MemStore};
    use crate::sync;
    use crate::{Device, DeviceConfig, Geometry, IoCost, Phase, Variant, Vlun};

    #[test]
    fn an_unknown_record_stays_unknown_and_a_known_one_joins() {
        // A bitmap (a small volume) and a set (a volume past DENSE_BLOCKS_MAX).
        for volume in [200, DENSE_BLOCKS_MAX + 1] {
            let mut s = StaleBlocks::unknown(volume);
            s.insert(3);
            assert_eq!(s.blocks(), None);
            let mut s = StaleBlocks::in_sync(volume);
            for b in [130, 3, 1, 3, 64, 63] {
                s.insert(b);
            }
            assert_eq!(s.blocks(), Some(vec![1, 3, 63, 64, 130]));
            let taken = s.take().unwrap();
            assert_eq!(s.blocks(), Some(vec![]));
            assert_eq!(
                taken.clone().from(63).iter().collect::<Vec<_>>(),
                vec![63, 64, 130]
            );
            assert_eq!(taken.clone().from(131).iter().count(), 0);
            assert_eq!(taken.clone().from(0).iter().count(), 5);
            s.insert(9);
            s.keep(Some(taken.from(4)));
            assert_eq!(s.blocks(), Some(vec![9, 63, 64, 130]));
            s.keep(None);
            assert_eq!(s.blocks(), None);
            s.forget();
            assert_eq!(s.blocks(), None);
        }
    }

    const BS: usize = 16;

    /// splitmix64: the tests' seeded stream.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Every block of both images of `d`, as (A, B).
    fn images<S: BlockStore>(d: &Device<S>) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let (a, b) = d.images();
        let all = |s: &S| {
            (0..d.volume_blocks())
                .map(|block| {
                    let mut buf = vec![0u8; d.block_size()];
                    s.read_block(block, &mut buf).unwrap();
                    buf
                })
                .collect::<Vec<_>>()
        };
        (all(a), all(b))
    }

    /// Up to `n` random writes of `vlun` (each a block of one random byte), on both
    /// devices; the blocks written.
    fn writes(rng: &mut Rng, devs: [&Device<MemStore>; 2], vlun: Vlun, n: u64) -> BTreeSet<u64> {
        let blocks = devs[0].volume_blocks();
        let mut written = BTreeSet::new();
        for _ in 0..rng.below(n + 1) {
            // Half the writes on a hot eighth of the volume, so blocks are rewritten.
            let block = if rng.below(2) == 0 {
                rng.below(blocks / 8)
            } else {
                rng.below(blocks)
            };
            let data = vec![rng.below(256) as u8; BS];
            for d in devs {
                d.write(vlun, block, &data).unwrap();
            }
            written.insert(block);
        }
        written
    }

    fn copied(c: &IoCost) -> u32 {
        c.total_reads() + c.total_writes()
    }

    /// Random writes through VLUN A and VLUN B over four split → backup → retire
    /// cycles, on a device that records what VLUN B wrote and on the reference, whose
    /// record is made unknown before every split (a whole re-copy, as before): after
    /// each later split image A equals image B block for block and the reference's
    /// image A; the split read and wrote 2 × the distinct blocks VLUN B wrote since
    /// the split before (the reference: 2 × the volume).
    #[test]
    fn a_later_split_copies_only_what_vlun_b_wrote_and_leaves_the_images_equal() {
        let volume = 256;
        let (mut partial, mut empty) = (0, 0);
        for seed in 0..64 {
            let mut rng = Rng(seed);
            let d = Device::in_memory(Variant::WriteMirroring, BS, volume).unwrap();
            let reference = Device::in_memory(Variant::WriteMirroring, BS, volume).unwrap();
            let both = [&d, &reference];
            writes(&mut rng, both, Vlun::A, 64);
            let mut b_wrote = BTreeSet::new();
            for cycle in 0..4 {
                *sync::lock_brief(&reference.stale) = StaleBlocks::unknown(volume);
                assert_eq!(
                    d.stale_blocks(),
                    Some(b_wrote.iter().copied().collect::<Vec<_>>()),
                    "seed {seed} cycle {cycle}: the record is what VLUN B wrote"
                );
                let cost = d.split_counted().unwrap();
                let full = reference.split_counted().unwrap();
                let n = if cycle == 0 { 0 } else { b_wrote.len() as u32 };
                assert_eq!(copied(&cost), 2 * n, "seed {seed} cycle {cycle}");
                assert_eq!((cost.reads_b, cost.writes_a), (n, n));
                let want_full = if cycle == 0 { 0 } else { 2 * volume as u32 };
                assert_eq!(copied(&full), want_full, "seed {seed} cycle {cycle}");
                let (a, b) = images(&d);
                assert_eq!(a, b, "seed {seed} cycle {cycle}: image A is image B");
                assert_eq!(a, images(&reference).0, "seed {seed} cycle {cycle}");
                if cycle > 0 {
                    if n == 0 {
                        empty += 1;
                    } else if (n as u64) < volume {
                        partial += 1;
                    }
                }
                assert_eq!(d.stale_blocks(), Some(vec![]));
                // Split: both VLUNs written; then A frozen, B alone.
                b_wrote = writes(&mut rng, both, Vlun::B, 48);
                writes(&mut rng, both, Vlun::A, 16);
                b_wrote.extend(writes(&mut rng, both, Vlun::B, 16));
                for dev in both {
                    dev.backup_a(&mut std::io::sink()).unwrap();
                }
                b_wrote.extend(writes(&mut rng, both, Vlun::B, 32));
                for dev in both {
                    dev.retire_a().unwrap();
                }
                b_wrote.extend(writes(&mut rng, both, Vlun::B, 32));
            }
        }
        // Not vacuous: most later splits copied some blocks but not the volume.
        assert!(
            partial > 150 && empty < 20,
            "{partial} partial, {empty} empty"
        );
    }

    /// Image A is kept from the retire to the next split, and counted so: under
    /// mirroring the retire gives back VLUN A (no extra space left to reclaim) but image
    /// A stays on the device as `kept_image_blocks`, the whole volume, and the next
    /// split resyncs it by copying fewer blocks than the volume (image A's other blocks
    /// were kept). The split makes it VLUN A's image again (extra space); the table
    /// variants keep nothing after their retire.
    #[test]
    fn image_a_is_kept_between_the_retire_and_the_next_split() {
        let volume = 64u64;
        for variant in Variant::ALL {
            let d = Device::in_memory(variant, 512, volume).unwrap();
            d.split().unwrap();
            for b in [3u64, 9, 40] {
                d.write(Vlun::B, b, &[b as u8 + 1; 512]).unwrap();
            }
            d.backup_a(&mut std::io::sink()).unwrap();
            d.retire_a().unwrap();
            d.write(Vlun::B, 5, &[7; 512]).unwrap();
            let s = d.space_in_use();
            assert_eq!(
                s.extra_space_blocks, 0,
                "{variant}: nothing left to reclaim"
            );
            let mirror = variant == Variant::WriteMirroring;
            let kept = if mirror { volume } else { 0 };
            assert_eq!(s.kept_image_blocks, kept, "{variant} retired");
            let cost = d.split_counted().unwrap();
            if mirror {
                // Non-vacuous: the resync copies the 4 blocks VLUN B wrote, not 64.
                assert_eq!((cost.reads_b, cost.writes_a), (4, 4));
                assert!(u64::from(cost.writes_a) < volume);
            }
            let s = d.space_in_use();
            assert_eq!(s.kept_image_blocks, 0, "{variant} split again");
            assert_eq!(s.extra_space_blocks, kept, "{variant} split again");
        }
    }

    /// A file device reopened (or recovered) does not know what differs: its next
    /// split copies the whole volume, and the split after that only what VLUN B wrote.
    #[test]
    fn after_a_reopen_the_next_split_copies_the_whole_volume() {
        let dir = tempfile::tempdir().unwrap();
        let paths = DevicePaths::in_dir(dir.path());
        let config = DeviceConfig::new(Variant::WriteMirroring);
        let g = Geometry {
            block_size: 512,
            volume_blocks: 64,
            area_slots: 0,
        };
        let cycle = |d: &Device<crate::FileStore>, blocks: &[u64]| {
            for &b in blocks {
                d.write(Vlun::B, b, &[b as u8 + 1; 512]).unwrap();
            }
            d.backup_a(&mut std::io::sink()).unwrap();
            d.retire_a().unwrap();
        };
        let d = file::create(&paths, config.clone(), g).unwrap();
        d.split().unwrap();
        cycle(&d, &[3, 9, 9, 40]);
        assert_eq!(d.stale_blocks(), Some(vec![3, 9, 40]));
        drop(d);
        let d = file::open(&paths, config.clone()).unwrap();
        assert_eq!(d.phase(), Phase::Retired);
        assert_eq!(d.stale_blocks(), None);
        let cost = d.split_counted().unwrap();
        assert_eq!((cost.reads_b, cost.writes_a), (64, 64));
        cycle(&d, &[5, 6]);
        let cost = d.split_counted().unwrap();
        assert_eq!((cost.reads_b, cost.writes_a), (2, 2));
        let (a, b) = images(&d);
        assert_eq!(a, b, "image A is image B after the split");
    }

    /// A resync that stops at an unreadable block of image B fails the split and
    /// keeps the blocks it did not copy; the retried split copies exactly those.
    #[test]
    fn a_resync_that_stops_part_way_is_finished_by_the_retry() {
        for stop_after in 0..6u64 {
            let store = || FaultyStore::new(MemStore::new(BS, 32).unwrap());
            let d =
                Device::new(DeviceConfig::new(Variant::WriteMirroring), store(), store()).unwrap();
            d.images_in_sync().unwrap();
            d.split().unwrap();
            let wrote = [2u64, 7, 8, 20, 31];
            for &b in &wrote {
                d.write(Vlun::B, b, &[b as u8; BS]).unwrap();
            }
            d.backup_a(&mut std::io::sink()).unwrap();
            d.retire_a().unwrap();
            d.images().1.fail_after(FaultKind::Read, stop_after);
            let before = d.counters();
            let failed = d.split_counted();
            let done = stop_after.min(wrote.len() as u64) as usize;
            if done == wrote.len() {
                // Every block copied before the fault could bite.
                assert!(failed.is_ok());
                continue;
            }
            assert!(failed.is_err(), "stop after {stop_after}");
            assert_eq!(d.phase(), Phase::Retired);
            let spent = d.counters();
            assert_eq!(spent.image_a_writes - before.image_a_writes, done as u64);
            assert_eq!(d.stale_blocks(), Some(wrote[done..].to_vec()));
            d.images().1.heal();
            // A write meanwhile joins what is left.
            d.write(Vlun::B, 0, &[9; BS]).unwrap();
            let cost = d.split_counted().unwrap();
            let left = (wrote.len() - done + 1) as u32;
            assert_eq!(
                (cost.reads_b, cost.writes_a),
                (left, left),
                "stop after {stop_after}"
            );
            let (a, b) = images(&d);
            assert_eq!(a, b);
        }
    }

    /// A VLUN A write that fails at image B leaves the images different where the
    /// record cannot say: it becomes unknown and the next resync copies every block.
    #[test]
    fn a_mirrored_write_that_fails_half_way_makes_the_next_resync_whole() {
        let store = || FaultyStore::new(MemStore::new(BS, 16).unwrap());
        let d = Device::new(DeviceConfig::new(Variant::WriteMirroring), store(), store()).unwrap();
        // Over images not vouched for: unknown from the start.
        assert_eq!(d.stale_blocks(), None);
        d.images_in_sync().unwrap();
        d.split().unwrap();
        d.write(Vlun::B, 1, &[1; BS]).unwrap();
        d.images().1.fail_after(FaultKind::Write, 0);
        assert!(d.write(Vlun::A, 4, &[4; BS]).is_err());
        d.images().1.heal();
        assert_eq!(d.stale_blocks(), None);
        d.backup_a(&mut std::io::sink()).unwrap();
        d.retire_a().unwrap();
        let cost = d.split_counted().unwrap();
        assert_eq!((cost.reads_b, cost.writes_a), (16, 16));
        let (a, b) = images(&d);
        assert_eq!(a, b);
        assert!(
            d.images_in_sync().is_err(),
            "only a device just made is vouched for"
        );
    }
}
