//! Physical I/O per logical call, per variant, read off the `IoCost` each call returns
//! and the device's running `Counters`; and the space each variant keeps (mirroring:
//! two full copies; logging and copy-on-write: one copy of common data plus one slot
//! per diverged block).

use std::collections::BTreeSet;

use engine::{BlockStore, Counters, Device, DeviceConfig, Durability, IoCost, Variant, Vlun};
use proptest::prelude::*;

use crate::common::{pattern, read};

const BS: usize = 512;
const N: u64 = 16;

/// An `IoCost` from the fields a test names; the rest are zero.
fn cost(
    reads_a: u32,
    writes_a: u32,
    reads_b: u32,
    writes_b: u32,
    lookups: u32,
    inserts: u32,
    removes: u32,
) -> IoCost {
    IoCost {
        reads_a,
        writes_a,
        reads_b,
        writes_b,
        table_lookups: lookups,
        table_inserts: inserts,
        table_removes: removes,
        flushes: 0,
        journal_syncs: 0,
    }
}

/// An in-memory device without flush barriers: these tests count the routing's reads
/// and writes; `power_safe_barriers_are_counted` counts the barriers.
fn device(variant: Variant) -> Device<engine::MemStore> {
    let config = DeviceConfig {
        durability: Durability::ProcessCrashSafe,
        ..DeviceConfig::new(variant)
    };
    Device::in_memory_with(config, BS, N, N).unwrap()
}

fn w(d: &Device<engine::MemStore>, vlun: Vlun, block: u64, x: u8) -> IoCost {
    d.write(vlun, block, &pattern(BS, block, x))
        .unwrap_or_else(|e| panic!("write {vlun} block {block}: {e}"))
}

fn r(d: &Device<engine::MemStore>, vlun: Vlun, block: u64) -> IoCost {
    let mut buf = vec![0u8; BS];
    d.read(vlun, block, &mut buf).unwrap()
}

#[test]
fn write_mirroring_writes_both_images_for_a_and_image_b_only_for_b() {
    let d = device(Variant::WriteMirroring);
    // Before the split the RAID-1 pair is kept in sync: 2 writes, reads from A.
    assert_eq!(w(&d, Vlun::A, 0, 1), cost(0, 1, 0, 1, 0, 0, 0));
    assert_eq!(r(&d, Vlun::A, 0), cost(1, 0, 0, 0, 0, 0, 0));
    d.split().unwrap();
    // Fig 13: an A write lands on both images; a B write on image B only, every time.
    assert_eq!(w(&d, Vlun::A, 1, 2), cost(0, 1, 0, 1, 0, 0, 0));
    assert_eq!(w(&d, Vlun::B, 2, 3), cost(0, 0, 0, 1, 0, 0, 0));
    assert_eq!(w(&d, Vlun::B, 2, 4), cost(0, 0, 0, 1, 0, 0, 0));
    assert_eq!(r(&d, Vlun::A, 2), cost(1, 0, 0, 0, 0, 0, 0));
    assert_eq!(r(&d, Vlun::B, 2), cost(0, 0, 1, 0, 0, 0, 0));
    let c = d.counters();
    assert_eq!((c.image_a_writes, c.image_b_writes), (2, 4));
    assert_eq!((c.vlun_a_writes, c.vlun_b_writes), (2, 2));
    assert_eq!(c.writes_per_logical_write(), 1.5);
    assert_eq!(c.table_lookups + c.table_inserts + c.table_removes, 0);
    // Retiring A frees image A at no I/O cost; B writes stay 1 write.
    d.backup_a(&mut std::io::sink()).unwrap();
    assert_eq!(d.retire_a().unwrap(), IoCost::default());
    assert_eq!(w(&d, Vlun::B, 3, 5), cost(0, 0, 0, 1, 0, 0, 0));
}

#[test]
fn write_logging_logs_first_b_write_and_drops_it_on_a_write() {
    let d = device(Variant::WriteLogging);
    // Before the split there is no table: one write to image A.
    assert_eq!(w(&d, Vlun::A, 0, 1), cost(0, 1, 0, 0, 0, 0, 0));
    d.split().unwrap();
    // First B write to a block: 1 lookup, 1 insert, 1 write into B's log area.
    assert_eq!(w(&d, Vlun::B, 1, 2), cost(0, 0, 0, 1, 1, 1, 0));
    // Later B writes to it: 1 lookup, 1 write in place in the log.
    assert_eq!(w(&d, Vlun::B, 1, 3), cost(0, 0, 0, 1, 1, 0, 0));
    // B reads: the log if the block has an entry, else image A (one shared copy).
    assert_eq!(r(&d, Vlun::B, 1), cost(0, 0, 1, 0, 1, 0, 0));
    assert_eq!(r(&d, Vlun::B, 0), cost(1, 0, 0, 0, 1, 0, 0));
    // A reads never consult the table.
    assert_eq!(r(&d, Vlun::A, 1), cost(1, 0, 0, 0, 0, 0, 0));
    // An A write over a logged block: 1 write to image A, 1 remove (slot freed).
    assert_eq!(w(&d, Vlun::A, 1, 4), cost(0, 1, 0, 0, 1, 0, 1));
    // An A write over an unlogged block: 1 write, 1 probe.
    assert_eq!(w(&d, Vlun::A, 2, 5), cost(0, 1, 0, 0, 1, 0, 0));
    assert_eq!(d.extra_space_blocks(), 0);
    // Retire merges each logged block into image A: per block 2 probes, 1 read of the
    // log, 1 write to A, 1 remove.
    w(&d, Vlun::B, 3, 6);
    w(&d, Vlun::B, 4, 7);
    d.backup_a(&mut std::io::sink()).unwrap();
    assert_eq!(d.retire_a().unwrap(), cost(0, 2, 2, 0, 4, 0, 2));
    // VLUN B now lives on image A.
    assert_eq!(w(&d, Vlun::B, 3, 8), cost(0, 1, 0, 0, 0, 0, 0));
    assert_eq!(r(&d, Vlun::B, 3), cost(1, 0, 0, 0, 0, 0, 0));
}

#[test]
fn copy_on_write_preserves_the_old_block_on_first_b_write_only() {
    let d = device(Variant::CopyOnWrite);
    // Before the split the volume is image B.
    assert_eq!(w(&d, Vlun::A, 0, 1), cost(0, 0, 0, 1, 0, 0, 0));
    d.split().unwrap();
    // First B write: 1 insert + copy of the block into A's area (1 read B, 1 write A)
    // + 1 write to image B.
    assert_eq!(w(&d, Vlun::B, 0, 2), cost(0, 1, 1, 1, 1, 1, 0));
    // Later B writes to it: 1 write.
    assert_eq!(w(&d, Vlun::B, 0, 3), cost(0, 0, 0, 1, 1, 0, 0));
    // A reads: the preserved copy if there is one, else the shared block on image B.
    assert_eq!(r(&d, Vlun::A, 0), cost(1, 0, 0, 0, 1, 0, 0));
    assert_eq!(r(&d, Vlun::A, 5), cost(0, 0, 1, 0, 1, 0, 0));
    assert_eq!(r(&d, Vlun::B, 0), cost(0, 0, 1, 0, 0, 0, 0));
    // An A write over a preserved block: 1 write to image B, its preserved copy dropped.
    assert_eq!(w(&d, Vlun::A, 0, 4), cost(0, 0, 0, 1, 1, 0, 1));
    assert_eq!(w(&d, Vlun::A, 6, 5), cost(0, 0, 0, 1, 1, 0, 0));
    assert_eq!(d.extra_space_blocks(), 0);
    // Retire drops the preserved blocks without I/O.
    w(&d, Vlun::B, 7, 6);
    w(&d, Vlun::B, 8, 7);
    d.backup_a(&mut std::io::sink()).unwrap();
    assert_eq!(d.retire_a().unwrap(), cost(0, 0, 0, 0, 0, 0, 2));
    assert_eq!(w(&d, Vlun::B, 7, 8), cost(0, 0, 0, 1, 0, 0, 0));
}

fn sum_of(costs: &[IoCost]) -> IoCost {
    let mut total = IoCost::default();
    costs.iter().for_each(|c| total.add(*c));
    total
}

fn physical(c: &Counters) -> IoCost {
    let routing = cost(
        c.image_a_reads as u32,
        c.image_a_writes as u32,
        c.image_b_reads as u32,
        c.image_b_writes as u32,
        c.table_lookups as u32,
        c.table_inserts as u32,
        c.table_removes as u32,
    );
    IoCost {
        flushes: c.flushes as u32,
        ..routing
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// After any split history: the counters are the sum of the calls' costs; mirroring
    /// holds two full copies (extra space = the volume), logging and copy-on-write one
    /// copy of common data plus one slot per block B changed and A did not overwrite
    /// since; and a common block is read from the one image that holds it.
    #[test]
    fn space_and_counters_match_the_variant(
        v in 0..3usize,
        ops in prop::collection::vec((any::<bool>(), 0..N, any::<u8>()), 0..80),
    ) {
        let variant = Variant::ALL[v];
        let d = device(variant);
        d.split().unwrap();
        let mut costs = Vec::new();
        let mut diverged = BTreeSet::new();
        for (on_b, block, x) in &ops {
            let vlun = if *on_b { Vlun::B } else { Vlun::A };
            costs.push(w(&d, vlun, *block, *x));
            if *on_b { diverged.insert(*block); } else { diverged.remove(block); }
        }
        let c = d.counters();
        prop_assert_eq!(physical(&c), sum_of(&costs));
        prop_assert_eq!(c.vlun_a_writes + c.vlun_b_writes, ops.len() as u64);
        let (image_a, image_b) = d.images();
        match variant {
            Variant::WriteMirroring => {
                prop_assert_eq!(c.extra_space_blocks, N);
                prop_assert_eq!(c.data_area_blocks, 0);
                // Two full copies: each image is a whole volume and holds its VLUN.
                prop_assert_eq!(image_a.block_count(), N);
                prop_assert_eq!(image_b.block_count(), N);
                for b in 0..N {
                    let mut buf = vec![0u8; BS];
                    image_a.read_block(b, &mut buf).unwrap();
                    prop_assert_eq!(&buf, &read(&d, Vlun::A, b));
                    image_b.read_block(b, &mut buf).unwrap();
                    prop_assert_eq!(&buf, &read(&d, Vlun::B, b));
                }
            }
            _ => {
                prop_assert_eq!(c.extra_space_blocks, diverged.len() as u64);
                prop_assert_eq!(c.data_area_blocks, diverged.len() as u64);
                let entries: BTreeSet<u64> =
                    d.table().unwrap().entries().map(|(b, _)| b).collect();
                prop_assert_eq!(&entries, &diverged);
                for b in 0..N {
                    if diverged.contains(&b) {
                        continue;
                    }
                    // Common data: one copy, on the volume's image; both VLUNs read it.
                    let (via_a, via_b) = (r(&d, Vlun::A, b), r(&d, Vlun::B, b));
                    let reads = |c: IoCost| (c.reads_a, c.reads_b);
                    prop_assert_eq!(reads(via_a), reads(via_b));
                    prop_assert_eq!(read(&d, Vlun::A, b), read(&d, Vlun::B, b));
                }
            }
        }
        // The backup reads each block once, from where VLUN A keeps it: copy-on-write
        // reads the preserved copies from image A and the shared rest from image B.
        let report = d.backup_a(&mut std::io::sink()).unwrap();
        let k = diverged.len() as u32;
        let n = N as u32;
        let want = match variant {
            Variant::WriteMirroring => cost(n, 0, 0, 0, 0, 0, 0),
            Variant::WriteLogging => cost(n, 0, 0, 0, 0, 0, 0),
            Variant::CopyOnWrite => cost(k, 0, n - k, 0, n, 0, 0),
        };
        prop_assert_eq!(report.cost, want);
        d.retire_a().unwrap();
        prop_assert_eq!(d.counters().extra_space_blocks, 0);
        if variant != Variant::WriteMirroring {
            prop_assert!(d.counters().data_area_peak >= diverged.len() as u64);
        }
    }
}

/// The flush barriers a power-safe device pays (ARCHITECTURE.md, "Write order"), per
/// first write, with a journal (the barriers order data before journal records), as
/// (flushes, of which journal syncs): copy-on-write's first B write flushes image A and
/// syncs the journal; write logging's flushes image B; a mirroring A write syncs its
/// dirty mark once per block between flushes; writes that change no metadata pay
/// nothing; a write reusing a freed slot first syncs the removal that freed it.
#[test]
fn power_safe_barriers_are_counted() {
    use engine::{CrashStore, MemJournal, MemStore};
    let flushes = |variant: Variant, steps: &[(Vlun, u64)]| -> Vec<(u32, u32)> {
        let (na, nb) = variant.image_blocks(N, N);
        let disk = |n| CrashStore::new(MemStore::new(BS, n).unwrap(), 8);
        let d = Device::with_journal(
            DeviceConfig::new(variant),
            disk(na),
            disk(nb),
            MemJournal::new(),
        )
        .unwrap();
        d.split().unwrap();
        steps
            .iter()
            .map(|&(v, b)| {
                let c = d.write(v, b, &pattern(BS, b, 1)).unwrap();
                (c.flushes, c.journal_syncs)
            })
            .collect()
    };
    use Vlun::{A, B};
    // First B write, second B write, A write over B's entry, B write reusing the slot.
    assert_eq!(
        flushes(Variant::CopyOnWrite, &[(B, 0), (B, 0), (A, 0), (B, 1)]),
        [(2, 1), (0, 0), (1, 0), (3, 2)]
    );
    assert_eq!(
        flushes(Variant::WriteLogging, &[(B, 0), (B, 0), (A, 0), (B, 1)]),
        [(1, 0), (0, 0), (1, 0), (2, 1)]
    );
    // A write (marks the block), again (already marked), B write, A write elsewhere.
    assert_eq!(
        flushes(Variant::WriteMirroring, &[(A, 0), (A, 0), (B, 0), (A, 1)]),
        [(1, 1), (0, 0), (0, 0), (1, 1)]
    );
}
