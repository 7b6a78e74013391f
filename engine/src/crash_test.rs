//! The crash-point test (issue 8): a scripted workload per variant — writes through A
//! and B before and after the split, flushes, a slot freed and reused, backup, retire
//! — is cut by a power loss at every physical operation in turn (block write, flush,
//! journal append, sync, compaction), the unflushed writes meet a fate (all lost, all
//! kept, images kept and journal lost, the reverse, and seeded mixes with the write in
//! flight torn at sector granularity), the device is recovered, and the checker
//! demands:
//!
//! - **durable**: every write acknowledged before the last durability point (a
//!   successful flush, or a phase change: a power-safe device flushes there) reads
//!   through the VLUN it was written to, unless a later write replaced it; nothing
//!   reads as a value never written to that block through a VLUN that sees it;
//! - **A-isolated**: VLUN A never reads a value written through VLUN B;
//! - **mirror**: a block never written through VLUN B reads the same through A and B;
//! - **entries**: the table's entries point into the data area (contents are covered by
//!   the first point: a stale slot would read as another block's data);
//! - **live**: the device keeps working: new writes read back, the life cycle runs to
//!   retire, the extra space is freed.
//!
//! It runs in memory (`CrashStore<MemStore>`, 8-byte sectors, [`Device::recover`]) and
//! on files (`CrashStore<FileStore>`, 512-byte sectors; the journal's durable bytes
//! become the metadata file, reopened by [`crate::file::open`]). The mutant test turns
//! on a copy-on-write order that overwrites image B before the preserved copy is
//! durable and shows the checker reports it.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::device::mutant::{self, Mutant};
use crate::file::{self, DevicePaths};
use crate::meta::MemJournal;
use crate::store::{CrashStore, CrashSwitch, Fate, FileStore, MemStore, SECTOR_BYTES, WORD_BYTES};
use crate::{BlockStore, Device, DeviceConfig, Durability, Phase, Variant, Vlun};

const N: u64 = 6;

#[derive(Debug, Clone, Copy)]
enum Step {
    W(Vlun, u64, u8),
    Flush,
    Split,
    Backup,
    Retire,
}

use Step::*;
use Vlun::{A, B};

/// Writes before and after the split through A and B; an A write over a block B wrote
/// (frees a slot), a B write that reuses it; flushes in between; backup and retire.
const SCRIPT: &[Step] = &[
    W(A, 0, 1),
    W(A, 1, 2),
    Flush,
    W(A, 2, 3),
    Split,
    W(B, 0, 4),
    W(A, 1, 5),
    W(B, 1, 6),
    W(A, 0, 7),
    W(B, 2, 8),
    Flush,
    W(A, 3, 9),
    W(B, 3, 10),
    W(B, 4, 11),
    Backup,
    W(B, 5, 12),
    W(B, 2, 13),
    Retire,
    W(B, 1, 14),
    Flush,
    W(B, 0, 15),
];

/// Block `block`'s content for write `x`: unique per block and write, so a misrouted
/// or stale block never passes for the right one.
fn value(bs: usize, block: u64, x: u8) -> Vec<u8> {
    (0..bs)
        .map(|i| x ^ (i as u8).wrapping_mul(31) ^ ((block as u8) << 4) ^ 0x5a)
        .collect()
}

/// What each VLUN may read after a crash.
#[derive(Clone)]
struct Model {
    bs: usize,
    phase: Phase,
    /// The phase after the step in flight, if it was a phase change.
    phase_maybe: Option<Phase>,
    /// Per VLUN and block: the value at the last durability point, and every value
    /// written since (acknowledged or in flight).
    durable: [Vec<Vec<u8>>; 2],
    since: [Vec<BTreeSet<Vec<u8>>>; 2],
    current: [Vec<Vec<u8>>; 2],
    written_via_b: Vec<bool>,
    b_values: BTreeSet<Vec<u8>>,
    /// The block of the write in flight (may tear).
    torn_block: Option<u64>,
    /// The write in flight: VLUNs it reaches, block, data.
    in_flight_write: Option<(Vlun, u64, Vec<u8>)>,
    /// A process crash: every acknowledged write must be there, not just the durable
    /// ones.
    strict: bool,
}

impl Model {
    fn new(bs: usize) -> Self {
        let zeros = vec![vec![0u8; bs]; N as usize];
        Model {
            bs,
            phase: Phase::Single,
            phase_maybe: None,
            durable: [zeros.clone(), zeros.clone()],
            since: [
                vec![BTreeSet::new(); N as usize],
                vec![BTreeSet::new(); N as usize],
            ],
            current: [zeros.clone(), zeros],
            written_via_b: vec![false; N as usize],
            b_values: BTreeSet::new(),
            torn_block: None,
            in_flight_write: None,
            strict: false,
        }
    }

    /// VLUNs a write through `vlun` reaches: an A write is also a B write (before the
    /// split B is A); a B write never reaches A.
    fn reach(vlun: Vlun) -> &'static [usize] {
        match vlun {
            A => &[0, 1],
            B => &[1],
        }
    }

    fn durability_point(&mut self) {
        self.durable = self.current.clone();
        for v in &mut self.since {
            v.iter_mut().for_each(BTreeSet::clear);
        }
    }

    fn done(&mut self, step: Step) {
        match step {
            W(vlun, b, x) => {
                let data = value(self.bs, b, x);
                for &v in Self::reach(vlun) {
                    self.current[v][b as usize] = data.clone();
                    self.since[v][b as usize].insert(data.clone());
                }
                if vlun == B {
                    self.written_via_b[b as usize] = true;
                    self.b_values.insert(data);
                }
            }
            Flush => self.durability_point(),
            Split | Backup | Retire => {
                self.phase = to_phase(step);
                self.durability_point();
            }
        }
    }

    fn in_flight(&mut self, step: Step) {
        match step {
            W(vlun, b, x) => {
                let data = value(self.bs, b, x);
                for &v in Self::reach(vlun) {
                    self.since[v][b as usize].insert(data.clone());
                }
                if vlun == B {
                    self.written_via_b[b as usize] = true;
                    self.b_values.insert(data);
                }
                self.torn_block = Some(b);
                self.in_flight_write = Some((vlun, b, value(self.bs, b, x)));
            }
            Flush => {}
            Split | Backup | Retire => self.phase_maybe = Some(to_phase(step)),
        }
    }

    fn allowed(&self, v: usize, b: u64) -> BTreeSet<Vec<u8>> {
        if self.strict {
            let mut s = BTreeSet::from([self.current[v][b as usize].clone()]);
            if let Some((vlun, wb, data)) = &self.in_flight_write {
                if *wb == b && Self::reach(*vlun).contains(&v) {
                    s.insert(data.clone());
                }
            }
            return s;
        }
        let mut s = self.since[v][b as usize].clone();
        s.insert(self.durable[v][b as usize].clone());
        s
    }
}

fn to_phase(step: Step) -> Phase {
    match step {
        Split => Phase::Split,
        Backup => Phase::BackedUp,
        Retire => Phase::Retired,
        _ => unreachable!("not a phase change"),
    }
}

fn readable(phase: Phase, vlun: Vlun) -> bool {
    match vlun {
        A => phase != Phase::Retired,
        B => phase != Phase::Single,
    }
}

/// Runs `step`; `Err` is the crash (or a bug, which the checker then exposes).
fn run_step<S: BlockStore>(d: &Device<S>, step: Step, bs: usize) -> crate::Result<()> {
    match step {
        W(vlun, b, x) => d.write(vlun, b, &value(bs, b, x)).map(drop),
        Flush => d.flush(),
        Split => d.split(),
        Backup => d.backup_a(&mut std::io::sink()).map(drop),
        Retire => d.retire_a().map(drop),
    }
}

/// How the unflushed writes fare at the crash.
#[derive(Debug, Clone, Copy)]
enum Pass {
    LoseAll,
    KeepAll,
    ImagesKeptJournalLost,
    JournalKeptImagesLost,
    /// The process ends, the machine does not: every completed write and appended
    /// record survives; the write in flight did not happen.
    ProcessCrash,
    /// Each pending write kept or lost by a seeded draw, the write in flight torn, a
    /// random prefix of the journal's unsynced bytes kept.
    Seeded(u64),
}

/// The passes each crash point runs.
fn passes(seeds: u64) -> Vec<Pass> {
    let mut p = vec![
        Pass::LoseAll,
        Pass::KeepAll,
        Pass::ImagesKeptJournalLost,
        Pass::JournalKeptImagesLost,
    ];
    p.extend((0..seeds).map(Pass::Seeded));
    p
}

/// xorshift64*: the test's own generator, seeded per run.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn crash<S: BlockStore>(a: &CrashStore<S>, b: &CrashStore<S>, j: &MemJournal, pass: Pass) {
    let mut rng = Rng::new(match pass {
        Pass::Seeded(s) => s,
        _ => 0,
    });
    let sectors = a.sectors_per_block();
    let mut fate = |w: &crate::store::PendingWrite| match pass {
        Pass::LoseAll | Pass::JournalKeptImagesLost => Fate::Lost,
        Pass::KeepAll | Pass::ImagesKeptJournalLost => Fate::Kept,
        Pass::ProcessCrash if w.in_flight => Fate::Lost,
        Pass::ProcessCrash => Fate::Kept,
        Pass::Seeded(_) if w.in_flight => {
            Fate::Torn((0..sectors).map(|_| rng.next() & 1 == 1).collect())
        }
        Pass::Seeded(_) => {
            if rng.next() & 1 == 1 {
                Fate::Kept
            } else {
                Fate::Lost
            }
        }
    };
    a.crash(&mut fate)
        .expect("the durable image accepts the survivors");
    b.crash(&mut fate)
        .expect("the durable image accepts the survivors");
    let cut = rng.next();
    j.crash(|len| match pass {
        Pass::LoseAll | Pass::ImagesKeptJournalLost => 0,
        Pass::KeepAll | Pass::JournalKeptImagesLost | Pass::ProcessCrash => len,
        Pass::Seeded(_) => (cut % (len as u64 + 1)) as usize,
    });
}

/// Where a campaign's devices live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Medium {
    Memory,
    Files,
}

impl Medium {
    fn block_size(self) -> usize {
        match self {
            Medium::Memory => 64,
            Medium::Files => 2 * SECTOR_BYTES,
        }
    }
}

/// One run's parameters.
#[derive(Debug, Clone, Copy)]
struct Run {
    variant: Variant,
    medium: Medium,
    durability: Durability,
    /// The operation the power fails at (`u64::MAX`: never).
    k: u64,
    pass: Pass,
    /// In memory: the power fails again at this operation of the first recovery (a
    /// crash during recovery), losing everything unflushed; a second recovery follows.
    k_recovery: Option<u64>,
}

impl Run {
    fn new(variant: Variant, medium: Medium, k: u64, pass: Pass) -> Self {
        Run {
            variant,
            medium,
            durability: Durability::PowerSafe,
            k,
            pass,
            k_recovery: None,
        }
    }
}

/// One run: the workload cut at operation `k`, the crash with `pass`, recovery,
/// checks. Returns the operations counted and the violations found.
fn run_once(run: Run) -> (u64, Vec<String>) {
    let Run {
        variant,
        medium,
        k,
        pass,
        ..
    } = run;
    let bs = medium.block_size();
    let config = DeviceConfig {
        durability: run.durability,
        ..DeviceConfig::new(variant)
    };
    let (na, nb) = variant.image_blocks(N, N);
    let dir = scratch_dir();
    let paths = DevicePaths::in_dir(dir.path());
    let switch = if k == u64::MAX {
        CrashSwitch::never()
    } else {
        CrashSwitch::after(k)
    };
    let journal = MemJournal::new();
    let device = match medium {
        Medium::Memory => {
            let a = CrashStore::new(
                Box::new(MemStore::new(bs, na).unwrap()) as Box<dyn BlockStore>,
                WORD_BYTES,
            );
            let b = CrashStore::new(
                Box::new(MemStore::new(bs, nb).unwrap()) as Box<dyn BlockStore>,
                WORD_BYTES,
            );
            Device::with_journal(config.clone(), a, b, journal.clone()).unwrap()
        }
        Medium::Files => {
            let a = FileStore::create(&paths.image_a, bs, na).unwrap();
            let b = FileStore::create(&paths.image_b, bs, nb).unwrap();
            let a = CrashStore::new(Box::new(a) as Box<dyn BlockStore>, SECTOR_BYTES);
            let b = CrashStore::new(Box::new(b) as Box<dyn BlockStore>, SECTOR_BYTES);
            Device::with_journal(config.clone(), a, b, journal.clone()).unwrap()
        }
    };
    let (ia, ib) = device.images();
    ia.set_switch(Some(switch.clone()));
    ib.set_switch(Some(switch.clone()));
    journal.set_switch(Some(switch.clone()));

    let mut model = Model::new(bs);
    for &step in SCRIPT {
        match run_step(&device, step, bs) {
            Ok(()) => model.done(step),
            Err(_) => {
                model.in_flight(step);
                break;
            }
        }
    }
    let ops = switch.ops();
    let (ia, ib) = device.images();
    crash(ia, ib, &journal, pass);
    let (a, b) = device.into_images();
    let (a, b) = (a.into_durable(), b.into_durable());
    let ctx = format!("{run:?}");
    model.strict = matches!(pass, Pass::ProcessCrash);
    let violations = match medium {
        Medium::Memory => match recover_crashing(&config, a, b, &journal, run.k_recovery) {
            Ok(d) => check(&d, &model, &ctx),
            Err(e) => vec![format!("{ctx}: recovery failed: {e}")],
        },
        Medium::Files => {
            drop((a, b));
            std::fs::write(&paths.meta, journal.durable_bytes()).unwrap();
            match file::open(&paths, config) {
                Ok(d) => check(&d, &model, &ctx),
                Err(e) => vec![format!("{ctx}: reopen failed: {e}")],
            }
        }
    };
    (ops, violations)
}

/// Recovers; with `k_recovery`, the power fails at that operation of the recovery
/// (losing every unflushed write and unsynced record), and a second recovery follows.
fn recover_crashing(
    config: &DeviceConfig,
    a: Box<dyn BlockStore>,
    b: Box<dyn BlockStore>,
    journal: &MemJournal,
    k_recovery: Option<u64>,
) -> crate::Result<Device<CrashStore<Box<dyn BlockStore>>>> {
    // The durable images outlive a failed recovery (which drops its stores, and with
    // them their unflushed writes: a power loss that loses them all).
    let (a, b) = (Arc::new(to_mem(&*a)), Arc::new(to_mem(&*b)));
    let disk = |s: &Arc<MemStore>| {
        CrashStore::new(
            Box::new(Shared(s.clone())) as Box<dyn BlockStore>,
            WORD_BYTES,
        )
    };
    let Some(k) = k_recovery else {
        return Device::recover(config.clone(), disk(&a), disk(&b), journal.clone());
    };
    let switch = CrashSwitch::after(k);
    let (ca, cb) = (disk(&a), disk(&b));
    ca.set_switch(Some(switch.clone()));
    cb.set_switch(Some(switch.clone()));
    journal.set_switch(Some(switch.clone()));
    match Device::recover(config.clone(), ca, cb, journal.clone()) {
        Ok(d) if !switch.tripped() => {
            let (ca, cb) = d.images();
            ca.set_switch(None);
            cb.set_switch(None);
            journal.set_switch(None);
            Ok(d)
        }
        Ok(d) => d.power_cycle(journal, |_, _| Fate::Lost, |_| 0),
        Err(_) => {
            journal.crash(|_| 0);
            Device::recover(config.clone(), disk(&a), disk(&b), journal.clone())
        }
    }
}

/// A store shared with the test, which keeps a handle to it.
struct Shared(Arc<MemStore>);

impl BlockStore for Shared {
    fn block_size(&self) -> usize {
        self.0.block_size()
    }
    fn block_count(&self) -> u64 {
        self.0.block_count()
    }
    fn name(&self) -> String {
        self.0.name()
    }
    fn read_block(&self, block: u64, buf: &mut [u8]) -> Result<(), crate::StoreError> {
        self.0.read_block(block, buf)
    }
    fn write_block(&self, block: u64, data: &[u8]) -> Result<(), crate::StoreError> {
        self.0.write_block(block, data)
    }
    fn flush(&self) -> Result<(), crate::StoreError> {
        self.0.flush()
    }
}

fn to_mem(s: &dyn BlockStore) -> MemStore {
    let m = MemStore::new(s.block_size(), s.block_count()).unwrap();
    let mut buf = vec![0u8; s.block_size()];
    for b in 0..s.block_count() {
        s.read_block(b, &mut buf).unwrap();
        m.write_block(b, &buf).unwrap();
    }
    m
}

fn scratch_dir() -> tempfile::TempDir {
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(dir) = tempfile::tempdir_in(shm) {
            return dir;
        }
    }
    tempfile::tempdir().unwrap()
}

/// The checker: see the module doc.
fn check<S: BlockStore>(d: &Device<S>, m: &Model, ctx: &str) -> Vec<String> {
    let mut out = Vec::new();
    let phase = d.phase();
    if phase != m.phase && Some(phase) != m.phase_maybe {
        out.push(format!(
            "{ctx}: phase: recovered {phase}, expected {}",
            m.phase
        ));
        return out;
    }
    let mut views: [Vec<Option<Vec<u8>>>; 2] = [Vec::new(), Vec::new()];
    for (vi, vlun) in [A, B].into_iter().enumerate() {
        for b in 0..N {
            if !readable(phase, vlun) {
                views[vi].push(None);
                continue;
            }
            let mut buf = vec![0u8; m.bs];
            if let Err(e) = d.read(vlun, b, &mut buf) {
                out.push(format!("{ctx}: live: reading {vlun} block {b}: {e}"));
                views[vi].push(None);
                continue;
            }
            let allowed = m.allowed(vi, b);
            if vlun == A && m.b_values.contains(&buf) {
                out.push(format!(
                    "{ctx}: A-isolated: VLUN A block {b} reads a VLUN B write"
                ));
            } else {
                let torn = m.torn_block == Some(b) && sector_mix(&buf, &allowed, d);
                if !allowed.contains(&buf) && !torn {
                    out.push(format!(
                        "{ctx}: durable: {vlun} block {b} reads neither its durable value nor a write since"
                    ));
                }
            }
            views[vi].push(Some(buf));
        }
    }
    for (b, (x, y)) in views[0].iter().zip(&views[1]).enumerate() {
        if let (Some(x), Some(y)) = (x, y) {
            if !m.written_via_b[b] && x != y {
                out.push(format!(
                    "{ctx}: mirror: block {b} reads differently through A and B"
                ));
            }
        }
    }
    if let Some(t) = d.table() {
        for (block, slot) in t.entries() {
            if u64::from(slot) >= d.area_slots() || block >= N {
                out.push(format!("{ctx}: entries: {block} → {slot} out of range"));
            }
        }
    }
    out.extend(keeps_working(d, ctx));
    out
}

/// Whether every sector of `got` is the same sector of some allowed value: a torn
/// write in flight.
fn sector_mix<S: BlockStore>(got: &[u8], allowed: &BTreeSet<Vec<u8>>, d: &Device<S>) -> bool {
    let sector = if d.block_size() >= SECTOR_BYTES {
        SECTOR_BYTES
    } else {
        WORD_BYTES
    };
    got.chunks(sector).enumerate().all(|(i, s)| {
        allowed
            .iter()
            .any(|v| &v[i * sector..(i * sector + s.len())] == s)
    })
}

/// New writes read back; the life cycle runs to retire and frees the extra space.
fn keeps_working<S: BlockStore>(d: &Device<S>, ctx: &str) -> Vec<String> {
    let bs = d.block_size();
    let go = || -> crate::Result<Option<String>> {
        if d.phase() == Phase::Single {
            d.split()?;
        }
        if d.phase() == Phase::Split {
            d.write(A, 0, &value(bs, 0, 101))?;
        }
        for b in 0..N {
            d.write(B, b, &value(bs, b, 100))?;
        }
        if d.phase() == Phase::Split {
            d.backup_a(&mut std::io::sink())?;
        }
        if d.phase() == Phase::BackedUp {
            d.retire_a()?;
        }
        d.flush()?;
        for b in 0..N {
            let mut buf = vec![0u8; bs];
            d.read(B, b, &mut buf)?;
            if buf != value(bs, b, 100) {
                return Ok(Some(format!("block {b} does not read back")));
            }
        }
        if d.extra_space_blocks() != 0 {
            return Ok(Some("extra space not freed".into()));
        }
        Ok(None)
    };
    match go() {
        Ok(None) => Vec::new(),
        Ok(Some(e)) => vec![format!("{ctx}: live: {e}")],
        Err(e) => vec![format!("{ctx}: live: {e}")],
    }
}

/// Every crash point of `base`'s script under every pass of `passes` (and, with
/// `recovery_points`, a second crash at each of the first operations of recovery):
/// `(points, runs, violations)`.
fn campaign_of(base: Run, passes: &[Pass], recovery_points: u64) -> (u64, u64, Vec<String>) {
    let (ops, clean) = run_once(Run {
        k: u64::MAX,
        pass: Pass::LoseAll,
        ..base
    });
    assert!(clean.is_empty(), "uncrashed run: {clean:?}");
    let mut runs = 0;
    let mut violations = Vec::new();
    let k_recovery: Vec<Option<u64>> = if recovery_points == 0 {
        vec![None]
    } else {
        (0..recovery_points).map(Some).collect()
    };
    // Point `ops` is "after the last operation": a crash at the end of the workload.
    for k in 0..=ops {
        for &pass in passes {
            for &k_recovery in &k_recovery {
                let run = Run {
                    k,
                    pass,
                    k_recovery,
                    ..base
                };
                violations.extend(run_once(run).1);
                runs += 1;
            }
        }
    }
    (ops + 1, runs, violations)
}

fn campaign(variant: Variant, medium: Medium, seeds: u64) -> (u64, u64, Vec<String>) {
    let base = Run::new(variant, medium, 0, Pass::LoseAll);
    campaign_of(base, &passes(seeds), 0)
}

fn report(what: &str, variant: Variant, (points, runs, violations): (u64, u64, Vec<String>)) {
    assert!(points > 20, "{variant}: only {points} crash points");
    assert!(
        violations.is_empty(),
        "{what}, {variant}: {} violations in {runs} runs over {points} crash points, first: {}",
        violations.len(),
        violations[0]
    );
    eprintln!("{what}, {variant}: {points} crash points, {runs} runs, no violation");
}

fn assert_clean(medium: Medium, seeds: u64) {
    for variant in Variant::ALL {
        report("power loss", variant, campaign(variant, medium, seeds));
    }
}

/// A process crash (both durabilities): every acknowledged write survives, flushed or
/// not.
#[test]
fn process_crash_keeps_every_acknowledged_write() {
    for durability in [Durability::PowerSafe, Durability::ProcessCrashSafe] {
        for variant in Variant::ALL {
            let base = Run {
                durability,
                ..Run::new(variant, Medium::Memory, 0, Pass::ProcessCrash)
            };
            report(
                &format!("process crash, {durability:?}"),
                variant,
                campaign_of(base, &[Pass::ProcessCrash], 0),
            );
        }
    }
}

/// A second power loss during recovery (at each of its first operations: repair,
/// finishing a retire, compaction), then a recovery that must still hold everything.
#[test]
fn crash_during_recovery_recovers() {
    for variant in Variant::ALL {
        let base = Run::new(variant, Medium::Memory, 0, Pass::LoseAll);
        let passes = [Pass::LoseAll, Pass::KeepAll, Pass::ImagesKeptJournalLost];
        report("crash in recovery", variant, campaign_of(base, &passes, 4));
    }
}

#[test]
fn every_crash_point_recovers_in_memory() {
    assert_clean(Medium::Memory, 8);
}

#[test]
fn every_crash_point_recovers_on_files() {
    assert_clean(Medium::Files, 2);
}

/// Runs `variant`'s campaign in memory with mutant `m` on; returns the violations.
fn with_mutant(m: Mutant, variant: Variant) -> Vec<String> {
    mutant::set(m);
    let (_, _, violations) = campaign(variant, Medium::Memory, 8);
    mutant::set(Mutant::None);
    violations
}

/// The mutant the issue asks for: copy-on-write overwrites image B before the
/// preserved copy and its entry are durable. A crash that keeps image B's write and
/// loses the others leaves VLUN A reading VLUN B's data: the checker must say so.
#[test]
fn unsafe_copy_on_write_order_is_caught() {
    let violations = with_mutant(Mutant::CowCopyNotDurable, Variant::CopyOnWrite);
    assert!(
        violations.iter().any(|v| v.contains("A-isolated")),
        "the mutant survived: {violations:?}"
    );
}

/// Every other barrier of the write order is needed too: dropping any one of them
/// makes the same test fail.
#[test]
fn every_dropped_barrier_is_caught() {
    for (m, variant, invariant) in [
        (Mutant::LogSlotNotDurable, Variant::WriteLogging, "durable"),
        (
            Mutant::SlotReusedBeforeRemoveDurable,
            Variant::WriteLogging,
            "durable",
        ),
        (
            Mutant::SlotReusedBeforeRemoveDurable,
            Variant::CopyOnWrite,
            "",
        ),
        (
            Mutant::MirrorWithoutIntent,
            Variant::WriteMirroring,
            "mirror",
        ),
    ] {
        let violations = with_mutant(m, variant);
        assert!(
            violations.iter().any(|v| v.contains(invariant)),
            "{m:?} on {variant} survived: {violations:?}"
        );
        eprintln!(
            "mutant {m:?} on {variant}: {} violations, first: {}",
            violations.len(),
            violations[0]
        );
    }
}
