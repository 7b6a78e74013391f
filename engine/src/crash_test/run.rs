//! Running the script under a power loss at one operation: the passes (fates of the
//! unflushed writes), the media (memory, files), one run and its recovery.

use std::sync::Arc;

use super::*;

/// How the unflushed writes fare at the crash.
#[derive(Debug, Clone, Copy)]
pub(super) enum Pass {
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
pub(super) fn passes(seeds: u64) -> Vec<Pass> {
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
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

pub(super) fn crash<S: BlockStore>(
    a: &CrashStore<S>,
    b: &CrashStore<S>,
    j: &MemJournal,
    pass: Pass,
) {
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
pub(super) enum Medium {
    Memory,
    Files,
}

impl Medium {
    pub(super) fn block_size(self) -> usize {
        match self {
            Medium::Memory => 64,
            Medium::Files => 2 * SECTOR_BYTES,
        }
    }
}

/// One run's parameters.
#[derive(Debug, Clone, Copy)]
pub(super) struct Run {
    pub(super) variant: Variant,
    pub(super) medium: Medium,
    pub(super) durability: Durability,
    /// The operation the power fails at (`u64::MAX`: never).
    pub(super) k: u64,
    pub(super) pass: Pass,
    /// In memory: the power fails again at this operation of the first recovery (a
    /// crash during recovery), losing everything unflushed; a second recovery follows.
    pub(super) k_recovery: Option<u64>,
    /// The device runs in integrity mode (every block checksummed).
    pub(super) integrity: bool,
}

impl Run {
    pub(super) fn new(variant: Variant, medium: Medium, k: u64, pass: Pass) -> Self {
        Run {
            variant,
            medium,
            durability: Durability::PowerSafe,
            k,
            pass,
            k_recovery: None,
            integrity: false,
        }
    }
}

/// One run: the workload cut at operation `k`, the crash with `pass`, recovery,
/// checks. Returns the operations counted and the violations found.
pub(super) fn run_once(run: Run) -> (u64, Vec<String>) {
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
        integrity: run.integrity,
        ..DeviceConfig::new(variant)
    };
    let (na, nb) = config.image_blocks(bs, N, N);
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
            // Labelled as the in-memory journal's device (id 0, generation 0), so
            // `file::open` accepts them beside its bytes.
            crate::file::label_for_test(&a, &b, variant, bs, N, run.integrity);
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
            Ok(d) => {
                note_resummed(d.resummed_at_recovery());
                check(&d, &model, &ctx)
            }
            Err(e) => vec![format!("{ctx}: recovery failed: {e}")],
        },
        Medium::Files => {
            drop((a, b));
            std::fs::write(&paths.meta, journal.durable_bytes()).unwrap();
            // A superblock recording no length (as a compaction leaves it): the memory
            // journal keeps no sync lengths, so the torn-tail rule alone applies here;
            // of the in-memory device (id all zero), as the labels and header are.
            crate::superblock::write(
                &paths.meta,
                &crate::superblock::Superblock::current(1, [0; 16], 0, 0, 0),
            )
            .unwrap();
            match file::open(&paths, config) {
                Ok(d) => {
                    note_resummed(d.resummed_at_recovery());
                    check(&d, &model, &ctx)
                }
                Err(e) => vec![format!("{ctx}: reopen failed: {e}")],
            }
        }
    };
    (ops, violations)
}

/// Runs whose recovery re-summed a block (integrity mode): the campaigns' evidence
/// that they reach a crash between a block's data and its checksum.
pub(super) static RESUMMED_RUNS: std::sync::atomic::AtomicU64 =
    std::sync::atomic::AtomicU64::new(0);

fn note_resummed(blocks: u64) {
    if blocks > 0 {
        RESUMMED_RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Recovers; with `k_recovery`, the power fails at that operation of the recovery
/// (losing every unflushed write and unsynced record), and a second recovery follows.
pub(super) fn recover_crashing(
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
        Ok(mut d) => d.power_cycle(journal, |_, _| Fate::Lost, |_| 0).map(|()| d),
        Err(_) => {
            journal.crash(|_| 0);
            Device::recover(config.clone(), disk(&a), disk(&b), journal.clone())
        }
    }
}

/// A store shared with the test, which keeps a handle to it.
pub(super) struct Shared(Arc<MemStore>);

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
    fn read_block_prefix(&self, block: u64, out: &mut Vec<u8>) -> Result<(), crate::StoreError> {
        self.0.read_block_prefix(block, out)
    }
    fn write_block_prefix(&self, block: u64, data: &[u8]) -> Result<(), crate::StoreError> {
        self.0.write_block_prefix(block, data)
    }
    fn flush(&self) -> Result<(), crate::StoreError> {
        self.0.flush()
    }
    fn take_flush_times(&self, samples: bool) -> Option<crate::latency::LatencySummary> {
        self.0.take_flush_times(samples)
    }
    fn calls_are_brief(&self) -> bool {
        self.0.calls_are_brief()
    }
    fn written_blocks(&self) -> Option<Vec<u64>> {
        self.0.written_blocks()
    }
}

pub(super) fn to_mem(s: &dyn BlockStore) -> MemStore {
    let m = MemStore::new(s.block_size(), s.block_count()).unwrap();
    let mut buf = vec![0u8; s.block_size()];
    for b in 0..s.block_count() {
        s.read_block(b, &mut buf).unwrap();
        m.write_block(b, &buf).unwrap();
    }
    m
}

pub(super) fn scratch_dir() -> tempfile::TempDir {
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(dir) = tempfile::tempdir_in(shm) {
            return dir;
        }
    }
    tempfile::tempdir().unwrap()
}
