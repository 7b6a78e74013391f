//! An injected I/O error from a store is `Error::Store` naming the image file and the
//! block; it loses no acknowledged write, leaves no table entry pointing at data that
//! was not written, never lets a failed B write reach VLUN A, and the state it leaves
//! is exactly the state a reopen finds.

use std::collections::BTreeMap;

use engine::file;
use engine::{
    BlockStore, Device, DeviceConfig, Error, FaultKind, FaultyStore, FileStore, IoCost, StoreError,
    Variant, Vlun,
};

use crate::common::{pattern, read};

const BS: usize = 512;
const N: u64 = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    WriteA,
    WriteBFirst,
    WriteBAgain,
    ReadA,
    ReadB,
}

impl Op {
    const ALL: [Op; 5] = [
        Op::WriteA,
        Op::WriteBFirst,
        Op::WriteBAgain,
        Op::ReadA,
        Op::ReadB,
    ];

    /// The VLUN and block the operation addresses after [`history`]: block 2 has a
    /// B entry, block 3 too, block 6 none.
    fn target(self) -> (Vlun, u64) {
        match self {
            Op::WriteA => (Vlun::A, 2),
            Op::WriteBFirst => (Vlun::B, 6),
            Op::WriteBAgain => (Vlun::B, 3),
            Op::ReadA => (Vlun::A, 3),
            Op::ReadB => (Vlun::B, 3),
        }
    }

    fn is_write(self) -> bool {
        matches!(self, Op::WriteA | Op::WriteBFirst | Op::WriteBAgain)
    }
}

/// What hosts were told: the acknowledged content of each VLUN (absent = zeros).
#[derive(Debug, Default, Clone)]
struct Acked {
    a: BTreeMap<u64, Vec<u8>>,
    b: BTreeMap<u64, Vec<u8>>,
}

impl Acked {
    fn get(&self, vlun: Vlun, block: u64) -> Vec<u8> {
        let m = if vlun == Vlun::A { &self.a } else { &self.b };
        m.get(&block).cloned().unwrap_or_else(|| vec![0; BS])
    }
    fn write(&mut self, vlun: Vlun, block: u64, data: &[u8]) {
        if vlun == Vlun::A {
            self.a.insert(block, data.to_vec());
        }
        self.b.insert(block, data.to_vec());
    }
}

/// Base writes, split, then A and B writes, all acknowledged.
fn history<S: BlockStore>(d: &Device<S>, acked: &mut Acked) {
    let mut w = |vlun, block, x| {
        let data = pattern(BS, block, x);
        d.write(vlun, block, &data).unwrap();
        acked.write(vlun, block, &data);
    };
    for b in 0..8 {
        w(Vlun::A, b, 1);
    }
    d.split().unwrap();
    for b in 0..2 {
        w(Vlun::A, b, 2);
    }
    for b in 2..5 {
        w(Vlun::B, b, 3);
    }
}

fn run(d: &Device<impl BlockStore>, op: Op, data: &[u8]) -> engine::Result<IoCost> {
    let (vlun, block) = op.target();
    if op.is_write() {
        d.write(vlun, block, data)
    } else {
        let mut buf = vec![0u8; BS];
        d.read(vlun, block, &mut buf)
    }
}

/// Whether `cost` touched image `side` with an operation of `kind`.
fn touches(cost: IoCost, side: Vlun, kind: FaultKind) -> bool {
    let n = match (side, kind) {
        (Vlun::A, FaultKind::Read) => cost.reads_a,
        (Vlun::A, _) => cost.writes_a,
        (Vlun::B, FaultKind::Read) => cost.reads_b,
        (Vlun::B, _) => cost.writes_b,
    };
    n > 0
}

/// Every table entry points at the data it stands for: the B-view in write logging's
/// log, the preserved A-view in copy-on-write's area. `loose` is the block whose
/// failed write may have left either its old or its new content.
fn entries_point_at_written_data<S: BlockStore>(
    d: &Device<S>,
    acked: &Acked,
    loose: Option<(u64, &[u8])>,
) {
    for e in d.table_contents().unwrap() {
        let ok = e.data == acked.get(e.vlun, e.block)
            || matches!(loose, Some((b, new)) if b == e.block && e.data == new);
        assert!(
            ok,
            "{}: entry {} -> slot {} holds other data",
            d.variant(),
            e.block,
            e.slot
        );
    }
}

/// Runs one fault scenario; returns whether the fault surfaced as an error.
fn scenario(variant: Variant, side: Vlun, kind: FaultKind, op: Op) -> bool {
    let ctx = format!("{variant}, {kind:?} fault on image {side:?}, {op:?}");
    let (_dir, paths, g) = crate::common::file_device_parts(BS, N);
    let config = DeviceConfig::new(variant);
    let d = file::create_with(&paths, config.clone(), g, FaultyStore::new).unwrap();
    let mut acked = Acked::default();
    history(&d, &mut acked);

    // A fault-free twin says which images the operation touches, so we know whether
    // the fault must surface.
    let twin = Device::in_memory(variant, BS, N).unwrap();
    history(&twin, &mut Acked::default());
    let data = pattern(BS, op.target().1, 9);
    let must_fail = touches(run(&twin, op, &data).unwrap(), side, kind);

    let (vlun, block) = op.target();
    let image = if side == Vlun::A {
        &paths.image_a
    } else {
        &paths.image_b
    };
    let faulty = if side == Vlun::A {
        d.images().0
    } else {
        d.images().1
    };
    let before = acked.clone();
    faulty.fail_after(kind, 0);
    let result = run(&d, op, &data);
    faulty.heal();
    let failed = match result {
        Ok(_) => {
            assert!(!must_fail, "{ctx}: the fault did not surface");
            if op.is_write() {
                acked.write(vlun, block, &data);
            }
            false
        }
        Err(Error::Store(e @ StoreError::Injected { .. })) => {
            assert!(must_fail, "{ctx}: failed without touching image {side:?}");
            let shown = e.to_string();
            assert!(
                shown.contains(&image.display().to_string()),
                "{ctx}: {shown}"
            );
            let phys = e.block().expect("a block");
            assert!(shown.contains(&format!("block {phys}")), "{ctx}: {shown}");
            true
        }
        Err(e) => panic!("{ctx}: unexpected error {e}"),
    };

    // A failed write leaves its block old or new, per VLUN; a failed B write never
    // reaches VLUN A; every other block is exactly as acknowledged.
    let loose = (failed && op.is_write()).then_some((block, data.as_slice()));
    entries_point_at_written_data(&d, &acked, loose);
    let mut seen = BTreeMap::new();
    for b in 0..N {
        for v in [Vlun::A, Vlun::B] {
            let got = read(&d, v, b);
            if failed && b == block {
                let may_be_new = op.is_write() && (vlun == Vlun::A || v == Vlun::B);
                assert!(
                    got == before.get(v, b) || (may_be_new && got == data),
                    "{ctx}: {v} block {b} is neither acknowledged nor the failed write"
                );
            } else {
                assert!(
                    got == acked.get(v, b),
                    "{ctx}: acknowledged {v} block {b} lost"
                );
            }
            seen.insert((v, b), got);
        }
    }

    // Reopen (no faults now): the same table, phase, space and contents.
    let table = d.table();
    let phase = d.phase();
    let extra = d.extra_space_blocks();
    drop(d);
    let d = file::open(&paths, config).unwrap();
    assert_eq!(d.table(), table, "{ctx}: table changed across reopen");
    assert_eq!(d.phase(), phase, "{ctx}");
    assert_eq!(d.extra_space_blocks(), extra, "{ctx}");
    for ((v, b), want) in &seen {
        // Mirroring repairs a mirror a failed VLUN A write left diverged: VLUN B may
        // then read as VLUN A there.
        let got = read(&d, *v, *b);
        let repaired = variant == Variant::WriteMirroring
            && failed
            && vlun == Vlun::A
            && *b == block
            && *v == Vlun::B
            && got == seen[&(Vlun::A, *b)];
        assert!(
            &got == want || repaired,
            "{ctx}: {v} block {b} changed on reopen"
        );
    }

    // The device goes on: the block can be rewritten, A archived, B kept.
    let again = pattern(BS, block, 10);
    d.write(Vlun::B, block, &again).unwrap();
    assert_eq!(read(&d, Vlun::B, block), again, "{ctx}");
    let mut archive = Vec::new();
    d.backup_a(&mut archive).unwrap();
    let a_view: Vec<u8> = (0..N).flat_map(|b| seen[&(Vlun::A, b)].clone()).collect();
    assert!(archive == a_view, "{ctx}: archive is not VLUN A");
    d.retire_a().unwrap();
    assert_eq!(d.extra_space_blocks(), 0, "{ctx}");
    for b in 0..N {
        let want = if b == block {
            again.clone()
        } else {
            seen[&(Vlun::B, b)].clone()
        };
        assert!(
            read(&d, Vlun::B, b) == want,
            "{ctx}: B block {b} after retire"
        );
    }
    failed
}

#[test]
fn injected_faults_lose_no_acknowledged_write_across_reopen() {
    for variant in Variant::ALL {
        let mut surfaced = 0;
        let mut scenarios = 0;
        for side in [Vlun::A, Vlun::B] {
            for kind in [FaultKind::Write, FaultKind::Read] {
                for op in Op::ALL {
                    surfaced += u32::from(scenario(variant, side, kind, op));
                    scenarios += 1;
                }
            }
        }
        // Not vacuous: many faults hit, and some operations rightly missed them.
        assert!(
            surfaced >= 4 && surfaced < scenarios,
            "{variant}: {surfaced}/{scenarios}"
        );
    }
}

/// A flush fault names the image; the device stays usable and nothing is lost.
#[test]
fn flush_fault_is_typed_and_harmless() {
    let (_dir, paths, g) = crate::common::file_device_parts(BS, N);
    let config = DeviceConfig::new(Variant::WriteLogging);
    let d: Device<FaultyStore<FileStore>> =
        file::create_with(&paths, config.clone(), g, FaultyStore::new).unwrap();
    let mut acked = Acked::default();
    history(&d, &mut acked);
    d.images().1.fail_after(FaultKind::Flush, 0);
    let e = d.flush().unwrap_err();
    assert!(
        e.to_string().contains(&paths.image_b.display().to_string()),
        "{e}"
    );
    d.images().1.heal();
    d.flush().unwrap();
    drop(d);
    let d = file::open(&paths, config).unwrap();
    for b in 0..N {
        assert_eq!(read(&d, Vlun::B, b), acked.get(Vlun::B, b));
        assert_eq!(read(&d, Vlun::A, b), acked.get(Vlun::A, b));
    }
}

/// A retire cut short by an I/O error (write logging merges its log into image A)
/// leaves VLUN B whole; calling `retire_a` again, or reopening, finishes it.
#[test]
fn interrupted_retire_is_finished_by_a_retry_or_a_reopen() {
    for retry in [true, false] {
        let (_dir, paths, g) = crate::common::file_device_parts(BS, N);
        let config = DeviceConfig::new(Variant::WriteLogging);
        let d = file::create_with(&paths, config.clone(), g, FaultyStore::new).unwrap();
        let mut acked = Acked::default();
        history(&d, &mut acked);
        for b in 5..9 {
            let data = pattern(BS, b, 4);
            d.write(Vlun::B, b, &data).unwrap();
            acked.write(Vlun::B, b, &data);
        }
        d.backup_a(&mut std::io::sink()).unwrap();
        d.images().0.fail_after(FaultKind::Write, 2);
        match d.retire_a() {
            Err(Error::Store(e)) => {
                assert!(
                    e.to_string().contains(&paths.image_a.display().to_string()),
                    "{e}"
                )
            }
            other => panic!("expected a store error, got {other:?}"),
        }
        d.images().0.heal();
        assert_eq!(d.phase(), engine::Phase::Retired);
        assert!(
            d.extra_space_blocks() > 0,
            "nothing left to merge: the test is vacuous"
        );
        for b in 0..N {
            assert_eq!(
                read(&d, Vlun::B, b),
                acked.get(Vlun::B, b),
                "mid-retire B block {b}"
            );
        }
        let d = if retry {
            d.retire_a().unwrap();
            d
        } else {
            drop(d);
            file::open_with(&paths, config, FaultyStore::new).unwrap()
        };
        assert_eq!(d.extra_space_blocks(), 0, "retry {retry}");
        assert_eq!(d.table(), None);
        assert!(matches!(d.retire_a(), Err(Error::IllegalState { .. })));
        for b in 0..N {
            assert_eq!(
                read(&d, Vlun::B, b),
                acked.get(Vlun::B, b),
                "retired B block {b}"
            );
        }
    }
}
