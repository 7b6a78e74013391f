//! Differential test: every variant, on both stores, against a plain reference model of
//! what the patent promises: A-view = base + A writes, B-view = base + every write in
//! time order, and extra space = the blocks B has written since the split and A has
//! not overwritten since (one data-area slot each), or a full image for mirroring.

use std::collections::{BTreeMap, BTreeSet};

use engine::file::{self, DevicePaths, Geometry};
use engine::{BlockStore, Device, DeviceConfig, Error, MemStore, Phase, Variant, Vlun};
use proptest::prelude::*;

const BLOCK: usize = 16;
const BLOCKS: u64 = 8;

#[derive(Debug, Clone)]
enum Op {
    Write(Vlun, u64, u8),
    Read(Vlun, u64),
    Split,
    Backup,
    Retire,
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    let vlun = prop_oneof![Just(Vlun::A), Just(Vlun::B)];
    prop_oneof![
        8 => (vlun.clone(), 0..BLOCKS, any::<u8>()).prop_map(|(v, b, x)| Op::Write(v, b, x)),
        6 => (vlun, 0..BLOCKS).prop_map(|(v, b)| Op::Read(v, b)),
        1 => Just(Op::Split),
        1 => Just(Op::Backup),
        1 => Just(Op::Retire),
        1 => Just(Op::Reopen),
    ]
}

/// The reference: two maps and a phase.
struct Reference {
    phase: Phase,
    a: BTreeMap<u64, Vec<u8>>,
    b: BTreeMap<u64, Vec<u8>>,
    entries: BTreeSet<u64>,
    capacity: usize,
}

fn pattern(block: u64, x: u8) -> Vec<u8> {
    (0..BLOCK)
        .map(|i| x ^ (i as u8) ^ (block as u8) << 4)
        .collect()
}

impl Reference {
    fn view(&self, vlun: Vlun, block: u64) -> Vec<u8> {
        let map = if vlun == Vlun::A { &self.a } else { &self.b };
        map.get(&block).cloned().unwrap_or_else(|| vec![0; BLOCK])
    }

    /// `Ok(())` if the write is legal and applied, `Err(())` if the device must refuse.
    fn write(&mut self, variant: Variant, vlun: Vlun, block: u64, data: Vec<u8>) -> Result<(), ()> {
        match (self.phase, vlun) {
            (Phase::Single, Vlun::B) | (Phase::BackedUp | Phase::Retired, Vlun::A) => Err(()),
            (_, Vlun::A) => {
                self.a.insert(block, data.clone());
                self.b.insert(block, data);
                self.entries.remove(&block);
                Ok(())
            }
            (_, Vlun::B) => {
                if self.phase != Phase::Retired && variant != Variant::WriteMirroring {
                    if !self.entries.contains(&block) && self.entries.len() == self.capacity {
                        return Err(());
                    }
                    self.entries.insert(block);
                }
                self.b.insert(block, data);
                Ok(())
            }
        }
    }

    fn extra_space(&self, variant: Variant) -> u64 {
        match (variant, self.phase) {
            (Variant::WriteMirroring, Phase::Retired) => 0,
            (Variant::WriteMirroring, _) => BLOCKS,
            (_, Phase::Retired) => 0,
            _ => self.entries.len() as u64,
        }
    }
}

fn run<S: BlockStore>(
    variant: Variant,
    area: u64,
    ops: &[Op],
    mut device: Device<S>,
    reopen: impl Fn(Device<S>) -> Device<S>,
) -> Result<u32, TestCaseError> {
    let mut r = Reference {
        phase: Phase::Single,
        a: BTreeMap::new(),
        b: BTreeMap::new(),
        entries: BTreeSet::new(),
        capacity: area as usize,
    };
    let mut buf = vec![0u8; BLOCK];
    let mut cycles = 0u32;
    for (i, op) in ops.iter().enumerate() {
        let ctx = format!("step {i} {op:?} ({variant}, phase {})", r.phase);
        match op {
            Op::Write(vlun, block, x) => {
                let data = pattern(*block, *x);
                let want = r.write(variant, *vlun, *block, data.clone());
                let got = device.write(*vlun, *block, &data);
                match (&want, &got) {
                    (Ok(()), Ok(_)) => {}
                    (Err(()), Err(Error::IllegalState { .. } | Error::DataAreaFull { .. })) => {}
                    _ => prop_assert!(false, "{ctx}: reference {want:?}, device {got:?}"),
                }
            }
            Op::Read(vlun, block) => {
                let legal = !matches!(
                    (r.phase, vlun),
                    (Phase::Single, Vlun::B) | (Phase::Retired, Vlun::A)
                );
                let got = device.read(*vlun, *block, &mut buf);
                if legal {
                    prop_assert!(got.is_ok(), "{ctx}: {got:?}");
                    prop_assert_eq!(&buf, &r.view(*vlun, *block), "{}", ctx);
                } else {
                    prop_assert!(
                        matches!(got, Err(Error::IllegalState { .. })),
                        "{ctx}: {got:?}"
                    );
                }
            }
            Op::Split => {
                let got = device.split();
                let legal = matches!(r.phase, Phase::Single | Phase::Retired);
                prop_assert_eq!(got.is_ok(), legal, "{}", ctx);
                if legal && r.phase == Phase::Retired {
                    // A new cycle: VLUN A and VLUN B both show the live volume.
                    r.a = r.b.clone();
                    r.entries.clear();
                    cycles += 1;
                }
                if legal {
                    r.phase = Phase::Split;
                }
            }
            Op::Backup => {
                let mut archive = Vec::new();
                let got = device.backup_a(&mut archive);
                let legal = matches!(r.phase, Phase::Split | Phase::BackedUp);
                prop_assert_eq!(got.is_ok(), legal, "{}", ctx);
                if legal {
                    r.phase = Phase::BackedUp;
                    let want: Vec<u8> = (0..BLOCKS).flat_map(|b| r.view(Vlun::A, b)).collect();
                    prop_assert_eq!(archive, want, "{}: archive differs from VLUN A", ctx);
                }
            }
            Op::Retire => {
                let got = device.retire_a();
                prop_assert_eq!(got.is_ok(), r.phase == Phase::BackedUp, "{}", ctx);
                if got.is_ok() {
                    r.phase = Phase::Retired;
                    prop_assert_eq!(device.extra_space_blocks(), 0, "{}", ctx);
                }
            }
            Op::Reopen => device = reopen(device),
        }
        prop_assert_eq!(device.phase(), r.phase, "{}", ctx);
        prop_assert_eq!(
            device.extra_space_blocks(),
            r.extra_space(variant),
            "{}: extra space",
            ctx
        );
    }
    // Every block of every live VLUN, at the end.
    for b in 0..BLOCKS {
        for vlun in [Vlun::A, Vlun::B] {
            if device.read(vlun, b, &mut buf).is_ok() {
                prop_assert_eq!(&buf, &r.view(vlun, b));
            }
        }
    }
    // Finish the life cycle and copy B to B': it must equal the B-view.
    if r.phase == Phase::Single {
        device.split().unwrap();
    }
    if r.phase != Phase::Retired {
        device.backup_a(&mut std::io::sink()).unwrap();
        device.retire_a().unwrap();
    }
    prop_assert_eq!(device.extra_space_blocks(), 0);
    let b_prime = MemStore::new(BLOCK, BLOCKS).unwrap();
    let b_prime = device.detach_b_to(b_prime).unwrap();
    for b in 0..BLOCKS {
        b_prime.read_block(b, &mut buf).unwrap();
        prop_assert_eq!(&buf, &r.view(Vlun::B, b), "B' block {}", b);
    }
    Ok(cycles)
}

/// Runs `ops` against the reference; returns how many new cycles (a split after a
/// retire) ran.
fn check(variant: Variant, area: u64, on_file: bool, ops: &[Op]) -> Result<u32, TestCaseError> {
    let config = DeviceConfig::new(variant);
    if on_file {
        // In /dev/shm where it exists: every reopen compacts the journal with fsyncs,
        // which on a disk shared with other builds would dominate the test time.
        let shm = std::path::Path::new("/dev/shm");
        let dir = if shm.is_dir() {
            tempfile::tempdir_in(shm).or_else(|_| tempfile::tempdir())
        } else {
            tempfile::tempdir()
        }
        .unwrap();
        let paths = DevicePaths::in_dir(dir.path());
        let g = Geometry {
            block_size: BLOCK,
            volume_blocks: BLOCKS,
            area_slots: area,
        };
        let device = file::create(&paths, config.clone(), g).unwrap();
        run(variant, area, ops, device, |d| {
            drop(d);
            file::open(&paths, config.clone()).unwrap()
        })
    } else {
        let device = Device::in_memory_with(config, BLOCK, BLOCKS, area).unwrap();
        run(variant, area, ops, device, |d| d)
    }
}

/// Three backup cycles (split, backup, retire, split, …) with writes through both
/// VLUNs and a reopen inside each, on both stores: the device agrees with the
/// reference throughout, and the new cycles really ran (the proptests draw such
/// sequences too, this pins that they are reachable).
#[test]
fn repeated_backup_cycles_agree_with_reference() {
    use Op::*;
    let mut ops = vec![Write(Vlun::A, 0, 1), Write(Vlun::A, 5, 2)];
    for cycle in 0..3u8 {
        ops.extend([
            Split,
            Write(Vlun::A, 1, 10 + cycle),
            Write(Vlun::B, 0, 20 + cycle),
            Write(Vlun::B, 2, 30 + cycle),
            Reopen,
            Read(Vlun::A, 0),
            Read(Vlun::B, 0),
            Backup,
            Write(Vlun::B, 5, 40 + cycle),
            Retire,
            Write(Vlun::B, 3, 50 + cycle),
            Reopen,
        ]);
    }
    for variant in Variant::ALL {
        for on_file in [false, true] {
            let cycles = check(variant, 3, on_file, &ops).unwrap();
            assert_eq!(cycles, 2, "{variant}, on file {on_file}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn memory_store_agrees_with_reference(
        v in 0..3usize, small_area in any::<bool>(), ops in prop::collection::vec(op(), 1..60)
    ) {
        let area = if small_area { 3 } else { BLOCKS };
        check(Variant::ALL[v], area, false, &ops)?;
    }

    #[test]
    fn file_store_agrees_with_reference_across_reopens(
        v in 0..3usize, small_area in any::<bool>(), ops in prop::collection::vec(op(), 1..60)
    ) {
        let area = if small_area { 3 } else { BLOCKS };
        check(Variant::ALL[v], area, true, &ops)?;
    }
}
