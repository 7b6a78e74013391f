//! Determinism of the allocator and the journal: closing and reopening a file device
//! restores its lookup table (entries, allocator state, peak), phase, extra space and
//! contents exactly — also after injected write faults — and the same history gives
//! byte-identical files. Along the way, over random histories with faults: every
//! block reads as its last acknowledged write (or as a write that failed since).

use engine::file::{self, DevicePaths, Geometry};
use std::collections::BTreeSet;

use engine::{
    Device, DeviceConfig, Error, FaultKind, FaultyStore, FileStore, IoCost, LookupTable, Phase,
    Variant, Vlun,
};
use proptest::prelude::*;

use crate::common::pattern;

const BS: usize = 32;
const N: u64 = 8;
const AREA: u64 = 5;

type Dev = Device<FaultyStore<FileStore>>;

#[derive(Debug, Clone)]
enum Op {
    Write(Vlun, u64, u8),
    /// A write during which image A (`false`) or B (`true`) refuses every write.
    FaultyWrite(bool, Vlun, u64, u8),
    Split,
    Backup,
    Retire,
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    let vlun = prop_oneof![Just(Vlun::A), Just(Vlun::B)];
    prop_oneof![
        10 => (vlun.clone(), 0..N, any::<u8>()).prop_map(|(v, b, x)| Op::Write(v, b, x)),
        2 => (any::<bool>(), vlun, 0..N, any::<u8>()).prop_map(|(s, v, b, x)| Op::FaultyWrite(s, v, b, x)),
        1 => Just(Op::Split),
        1 => Just(Op::Backup),
        1 => Just(Op::Retire),
        2 => Just(Op::Reopen),
    ]
}

/// Everything a reopen must restore.
#[derive(Debug, Clone, PartialEq, Eq)]
struct State {
    phase: Phase,
    table: Option<LookupTable>,
    extra_space: u64,
    area_peak: u64,
    /// Each block of each VLUN, `None` where the phase forbids reading it.
    contents: Vec<Option<Vec<u8>>>,
}

fn state(d: &Dev) -> State {
    let c = d.counters();
    let mut contents = Vec::new();
    for vlun in [Vlun::A, Vlun::B] {
        for b in 0..N {
            let mut buf = vec![0u8; BS];
            contents.push(d.read(vlun, b, &mut buf).ok().map(|_| buf));
        }
    }
    State {
        phase: d.phase(),
        table: d.table(),
        extra_space: c.extra_space_blocks,
        area_peak: c.data_area_peak,
        contents,
    }
}

/// What each block of each VLUN may read as: exactly its last acknowledged write,
/// or, after writes that failed with a store error, also any of those (a failed write
/// may have reached some images). Refused writes (illegal phase, full area) add nothing.
struct Allowed {
    views: [Vec<BTreeSet<Vec<u8>>>; 2],
}

impl Allowed {
    fn new() -> Self {
        let zeros = || (0..N).map(|_| BTreeSet::from([vec![0u8; BS]])).collect();
        Allowed {
            views: [zeros(), zeros()],
        }
    }

    fn record(&mut self, vlun: Vlun, block: u64, data: &[u8], result: &engine::Result<IoCost>) {
        // An A write is also a B write (one-way mirror); a B write never reaches A.
        let views: &[usize] = if vlun == Vlun::A { &[0, 1] } else { &[1] };
        for &v in views {
            let set = &mut self.views[v][block as usize];
            match result {
                Ok(_) => *set = BTreeSet::from([data.to_vec()]),
                Err(Error::Store(_)) => {
                    set.insert(data.to_vec());
                }
                Err(Error::IllegalState { .. } | Error::DataAreaFull { .. }) => {}
                Err(e) => panic!("unexpected error {e}"),
            }
        }
    }

    /// No acknowledged write is lost, and no failed or refused one shows elsewhere.
    fn check(&self, state: &State) -> Result<(), TestCaseError> {
        for (i, got) in state.contents.iter().enumerate() {
            let (view, block) = (i / N as usize, i % N as usize);
            if let Some(got) = got {
                prop_assert!(
                    self.views[view][block].contains(got),
                    "{} block {block} reads neither its acknowledged write nor a failed one",
                    if view == 0 { "VLUN A" } else { "VLUN B" }
                );
            }
        }
        Ok(())
    }
}

fn apply(d: &Dev, op: &Op, allowed: &mut Allowed) {
    // Refusals (illegal phase, full data area, injected faults) are part of the history.
    match op {
        Op::Write(v, b, x) => {
            let data = pattern(BS, *b, *x);
            allowed.record(*v, *b, &data, &d.write(*v, *b, &data));
        }
        Op::FaultyWrite(on_b, v, b, x) => {
            let (a, bb) = d.images();
            let image = if *on_b { bb } else { a };
            image.fail_after(FaultKind::Write, 0);
            let data = pattern(BS, *b, *x);
            allowed.record(*v, *b, &data, &d.write(*v, *b, &data));
            image.heal();
        }
        Op::Split => {
            let new_cycle = d.phase() == Phase::Retired;
            if d.split().is_ok() && new_cycle {
                // A new cycle: VLUN A shows the live volume, as VLUN B does.
                allowed.views[0] = allowed.views[1].clone();
            }
        }
        Op::Backup => {
            let _ = d.backup_a(&mut std::io::sink());
        }
        Op::Retire => {
            let _ = d.retire_a();
        }
        Op::Reopen => unreachable!("handled by the caller"),
    }
}

fn reopen(
    d: Dev,
    paths: &DevicePaths,
    config: &DeviceConfig,
    allowed: &Allowed,
) -> Result<Dev, TestCaseError> {
    let before = state(&d);
    allowed.check(&before)?;
    drop(d);
    let d = file::open_with(paths, config.clone(), FaultyStore::new).unwrap();
    let after = state(&d);
    allowed.check(&after)?;
    // Exactly as before, except where mirroring repaired a mirror that a failed VLUN A
    // write left diverged: VLUN B then reads as VLUN A there.
    let n = N as usize;
    for (i, (got, was)) in after.contents.iter().zip(&before.contents).enumerate() {
        if got != was {
            prop_assert!(
                config.variant == Variant::WriteMirroring
                    && i >= n
                    && *got == before.contents[i - n],
                "block {} of the {} view changed on reopen",
                i % n,
                if i < n { "A" } else { "B" }
            );
        }
    }
    prop_assert_eq!(
        State {
            contents: before.contents.clone(),
            ..after
        },
        before
    );
    // Reopening a reopened device changes nothing either.
    let again = state(&d);
    drop(d);
    let d = file::open_with(paths, config.clone(), FaultyStore::new).unwrap();
    prop_assert_eq!(state(&d), again);
    Ok(d)
}

/// Runs `ops` on a new device in `dir`; returns the files' bytes at the end.
fn run(dir: &std::path::Path, variant: Variant, ops: &[Op]) -> Result<Vec<Vec<u8>>, TestCaseError> {
    let paths = DevicePaths::in_dir(dir);
    let config = DeviceConfig::new(variant);
    let g = Geometry {
        block_size: BS,
        volume_blocks: N,
        area_slots: AREA,
    };
    let mut d = file::create_with(&paths, config.clone(), g, FaultyStore::new).unwrap();
    let mut allowed = Allowed::new();
    for op in ops {
        match op {
            Op::Reopen => d = reopen(d, &paths, &config, &allowed)?,
            op => apply(&d, op, &mut allowed),
        }
    }
    d = reopen(d, &paths, &config, &allowed)?;
    drop(d);
    // The device id and each open's nonce are drawn at random: compare the metadata's
    // records with them left out, and the images' blocks (their labels carry them).
    let mut records = engine::meta::FileJournal::read(&paths.meta)
        .unwrap()
        .records;
    for (_, r) in &mut records {
        match r {
            engine::meta::MetaRecord::Header {
                device_id, nonce, ..
            } => {
                *device_id = [0; 16];
                *nonce = 0;
            }
            engine::meta::MetaRecord::Opening { nonce, .. } => *nonce = 0,
            _ => {}
        }
    }
    let blocks = |p: &std::path::Path| {
        let mut bytes = std::fs::read(p).unwrap();
        bytes.truncate(bytes.len() - engine::identity::LABEL_BYTES as usize);
        bytes
    };
    Ok(vec![
        format!("{records:?}").into_bytes(),
        blocks(&paths.image_a),
        blocks(&paths.image_b),
    ])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn reopen_restores_state_exactly_and_files_are_deterministic(
        v in 0..3usize,
        ops in prop::collection::vec(op(), 1..50),
    ) {
        let variant = Variant::ALL[v];
        let (one, two) = (crate::common::scratch_dir(), crate::common::scratch_dir());
        let first = run(one.path(), variant, &ops)?;
        let second = run(two.path(), variant, &ops)?;
        prop_assert!(first == second, "the same history gave different files");
    }
}

/// The journal stays bounded: `flush` compacts it once it has grown past
/// `JOURNAL_APPENDS_MAX` records, and the compacted device reopens the same.
#[test]
fn flush_compacts_a_long_journal() {
    let dir = crate::common::scratch_dir();
    let paths = DevicePaths::in_dir(dir.path());
    let config = DeviceConfig::new(Variant::WriteLogging);
    let g = Geometry {
        block_size: BS,
        volume_blocks: N,
        area_slots: N,
    };
    let d = file::create(&paths, config.clone(), g).unwrap();
    d.split().unwrap();
    // Each B-then-A pair over a block appends an insert and a remove.
    let pairs = engine::JOURNAL_APPENDS_MAX / 2 + 1;
    for i in 0..pairs {
        let b = i % N;
        d.write(Vlun::B, b, &pattern(BS, b, i as u8)).unwrap();
        d.write(Vlun::A, b, &pattern(BS, b, !(i as u8))).unwrap();
    }
    d.write(Vlun::B, 3, &pattern(BS, 3, 7)).unwrap();
    let long = std::fs::metadata(&paths.meta).unwrap().len();
    assert!(long > 16 * engine::JOURNAL_APPENDS_MAX, "{long} bytes");
    d.flush().unwrap();
    let short = std::fs::metadata(&paths.meta).unwrap().len();
    assert!(short < 200, "flush left {short} bytes");
    let table = d.table();
    drop(d);
    let d = file::open(&paths, config).unwrap();
    assert_eq!(d.table(), table);
    let mut buf = vec![0u8; BS];
    d.read(Vlun::B, 3, &mut buf).unwrap();
    assert_eq!(buf, pattern(BS, 3, 7));
}
