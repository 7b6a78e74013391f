//! A volume above the dense threshold (2^20 blocks) keeps its lookup table and entry
//! index by entries: the same calls on a device of 2^20 blocks (dense tables) and of
//! 2^28 blocks (1 TiB of 4 KiB blocks: sparse tables) read the same bytes, cost the
//! same I/O and leave the same entries, through split, backup and retire.

use engine::{Device, DeviceConfig, SparseStore, Variant, Vlun};
use proptest::prelude::*;

use crate::common::pattern;

const BS: usize = 64;
/// Blocks the calls touch (all below the small volume's end).
const TOUCHED: u64 = 1 << 20;
/// The blocks the calls use: a few, so blocks are rewritten and entries superseded.
const BLOCKS: [u64; 6] = [0, 1, 7, 4095, 65_536, TOUCHED - 1];

fn device(variant: Variant, volume_blocks: u64) -> Device<SparseStore> {
    let (a, b) = variant.image_blocks(volume_blocks, 4096);
    Device::new(
        DeviceConfig::new(variant),
        SparseStore::new(BS, a).unwrap(),
        SparseStore::new(BS, b).unwrap(),
    )
    .unwrap()
}

#[derive(Debug, Clone)]
enum Call {
    Write(Vlun, u64, u8),
    Read(Vlun, u64),
}

fn call() -> impl Strategy<Value = Call> {
    let block = prop::sample::select(BLOCKS.to_vec());
    prop_oneof![
        (any::<bool>(), block.clone(), any::<u8>()).prop_map(|(b, k, x)| Call::Write(
            if b { Vlun::B } else { Vlun::A },
            k,
            x
        )),
        (any::<bool>(), block).prop_map(|(b, k)| Call::Read(if b { Vlun::B } else { Vlun::A }, k)),
    ]
}

/// Runs `calls` on `d` (VLUN A before the split, both after), then backup and retire;
/// returns everything observable.
fn run(d: &Device<SparseStore>, before: &[Call], after: &[Call]) -> Vec<String> {
    let mut seen = Vec::new();
    let mut apply = |d: &Device<SparseStore>, c: &Call, split: bool| {
        let vlun = |v: Vlun| if split { v } else { Vlun::A };
        match *c {
            Call::Write(v, k, x) => {
                let r = d.write(vlun(v), k, &pattern(BS, k, x));
                seen.push(format!("{r:?}"));
            }
            Call::Read(v, k) => {
                let mut buf = vec![0u8; BS];
                let r = d.read(vlun(v), k, &mut buf);
                seen.push(format!("{r:?} {buf:?}"));
            }
        }
    };
    for c in before {
        apply(d, c, false);
    }
    d.split().unwrap();
    for c in after {
        apply(d, c, true);
    }
    let entries: Vec<(u64, u32)> = d.table().map_or_else(Vec::new, |t| t.entries().collect());
    seen.push(format!("entries {entries:?} blocks {:?}", d.table_blocks()));
    // Every other block is a hole of A on both devices.
    let mut archive = Vec::new();
    d.backup_a_sparse(
        BLOCKS
            .iter()
            .copied()
            .collect::<std::collections::BTreeSet<_>>(),
        &mut |b, data| {
            archive.push((b, data.to_vec()));
            Ok(())
        },
    )
    .unwrap();
    seen.push(format!("archive {archive:?}"));
    d.retire_a().unwrap();
    seen.push(format!("{:?} {:?}", d.phase(), d.counters()));
    seen
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn sparse_tables_behave_as_dense_ones(
        before in prop::collection::vec(call(), 0..12),
        after in prop::collection::vec(call(), 1..24),
    ) {
        for variant in [Variant::WriteLogging, Variant::CopyOnWrite] {
            let small = device(variant, TOUCHED);
            let tib = device(variant, (1u64 << 40) / 4096);
            prop_assert_eq!(run(&small, &before, &after), run(&tib, &before, &after), "{}", variant);
        }
    }
}

/// Non-vacuity: on the 1 TiB volume the table gets entries and drops them, and what A
/// and B read is what each should.
#[test]
fn a_terabyte_volume_s_tables_take_and_drop_entries() {
    for variant in [Variant::WriteLogging, Variant::CopyOnWrite] {
        let d = device(variant, (1u64 << 40) / 4096);
        let last = (1u64 << 40) / 4096 - 1;
        d.write(Vlun::A, last, &pattern(BS, last, 1)).unwrap();
        d.split().unwrap();
        d.write(Vlun::B, last, &pattern(BS, last, 2)).unwrap();
        d.write(Vlun::B, 3, &pattern(BS, 3, 2)).unwrap();
        assert_eq!(d.table().unwrap().in_use(), 2, "{variant}");
        assert_eq!(crate::common::read(&d, Vlun::A, last), pattern(BS, last, 1));
        assert_eq!(crate::common::read(&d, Vlun::B, last), pattern(BS, last, 2));
        assert_eq!(crate::common::read(&d, Vlun::A, 3), vec![0u8; BS]);
        d.backup_a_sparse([3, last], &mut |_, _| Ok(())).unwrap();
        d.retire_a().unwrap();
        assert_eq!(crate::common::read(&d, Vlun::B, last), pattern(BS, last, 2));
    }
}
