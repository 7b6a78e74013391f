//! The simulated world: the real engine device, the event queue, the transactions'
//! state machines and the backup policy's control flow, driven one event at a time.
//!
//! Every engine call happens at one instant of virtual time (the engine's state
//! changes at once, under the device's own locks); the device model only decides when
//! the call *completes*, which is when the transaction may take its next step. A
//! read-modify-write of a record is one instant too (a block latch): re-read the
//! block, patch the record, write the block.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::ops::ControlFlow;

use std::sync::Arc;

use engine::{BlockStore, Device, DeviceConfig, Image, InitialPrefix, IoCost, MemJournal, Vlun};
use rand_chacha::ChaCha8Rng;

use crate::clock::{EventQueue, Tick};
use crate::cost::{Outcome, TxnTimeline, Wait, WaitKind};
use crate::device_model::DeviceModel;
use crate::error::SimError;
use crate::faults::{self, Faults, SimStore};
use crate::history::{
    stamp_of, write_record, zero_extended_digest, Event, History, Layout, TxnId,
    RECORD_HEADER_BYTES,
};
use crate::image::{Image as SparseImage, Initial, UnorderedImage};
use crate::judge::Judge;
use crate::keyed::Keyed;
use crate::locks::{Acquire, Attempt, LockTable};
use crate::policy::Policy;
use crate::rng::{self, Component};
use crate::scenario::{Discipline, Granularity, OnDataAreaFull, Scenario};
use crate::txn::{Op, TxnSpec};
use crate::workload::{InitialValues, Workload};

/// What the queue holds. Transaction events carry the attempt's generation, so an event
/// for a recycled entry is recognised and dropped.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ev {
    Arrive {
        client: Option<u32>,
    },
    Retry {
        att: Attempt,
        gen: u32,
    },
    Resume {
        att: Attempt,
        gen: u32,
    },
    IoDone {
        att: Attempt,
        gen: u32,
    },
    ComputeDone {
        att: Attempt,
        gen: u32,
    },
    /// A scheduled backup request ([`crate::schedule`]).
    Request,
    /// Under `none`, the first request time: Fig 4/5's processes rotate as they do
    /// at the request under the other policies ([`World::rotate_pool`]).
    PoolRotate,
    /// The previous cycle retired: the next queued request starts.
    NextCycle,
    /// The backup events below carry the number of the cycle that scheduled them
    /// ([`cycle::CycleState::number`]): one that fires after its cycle ended is
    /// dropped, and so is an archive event of a cycle abandoned or given up
    /// ([`World::backup_event_live`]).
    ///
    /// VLUN B is ready (the setup window has passed).
    BReady {
        cycle: u32,
    },
    /// The split's own device call has completed (it took longer than an instant:
    /// its barriers, a later mirroring split's resync): VLUN A may be declared
    /// consistent from now on.
    SplitDone {
        cycle: u32,
    },
    /// Quiesce's freeze limit for attempt `attempt` (1-based) passes.
    QuiesceDeadline {
        attempt: u32,
    },
    /// Quiesce tries again after a missed deadline.
    QuiesceRetry {
        cycle: u32,
    },
    /// Read the next extent of VLUN A for the archive.
    ArchiveRead {
        cycle: u32,
    },
    /// The archive's last extent has landed on the target.
    ArchiveDone {
        cycle: u32,
    },
    /// Copy the archive again from its first block (the last pass failed).
    ArchiveRestart {
        cycle: u32,
    },
    /// Issue the next call of retire's merge ([`merge`]): the one before it completed.
    MergeStep {
        cycle: u32,
    },
    /// VLUN A's retire (or drop), whose own I/O (write logging's merge) was still
    /// running on the device, has completed: the cycle and its window end now.
    RetireDone {
        cycle: u32,
    },
    /// Read the next extent of VLUN B for B' (`[detach]`).
    DetachRead {
        cycle: u32,
    },
    /// The copy's last extent has landed on B'.
    DetachDone {
        cycle: u32,
    },
    /// Retry a transaction's failed I/O (an injected error).
    IoRetry {
        att: Attempt,
        gen: u32,
    },
    /// The device crashes and restarts.
    Crash,
    /// Faults stop: errors and spikes are no longer injected.
    Heal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Queued,
    Locking,
    Gate,
    Reading,
    Computing,
    Writing,
    /// Waiting for the flush barrier a commit needs (`workload.flush_at_commit`).
    Committing,
    RollingBack,
    Backoff,
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WaitOn {
    Lock(u32),
    /// A type (b) area (the lock id asked for).
    TypeB(u32),
}

/// One transaction attempt in flight. Entries are recycled; vectors keep their capacity.
#[derive(Debug)]
struct Txn {
    id: TxnId,
    gen: u32,
    label: u32,
    client: Option<u32>,
    process: Option<u32>,
    pool_seat: Option<(u32, usize)>,
    ops: Vec<Op>,
    compute_ticks: Tick,
    arrived: Tick,
    /// Arrival of the first attempt (retries keep it): age for deadlock victims.
    origin: Tick,
    /// Attempts before this one (deadlock victims retry).
    retries: u32,
    admitted: Option<Tick>,
    vlun: Vlun,
    old: bool,
    begun: bool,
    stage: Stage,
    /// Conservative: every lock, sorted; incremental: filled as taken.
    locks: Vec<u32>,
    next_lock: usize,
    held: Keyed<()>,
    op: usize,
    values: Vec<i64>,
    /// Block granularity: the blocks read, as last seen/written (the txn holds them).
    cache: Keyed<Vec<u8>>,
    /// Rollback data: (record or block id, bytes before the first write).
    before: Keyed<Vec<u8>>,
    waiting: Option<(WaitKind, Tick)>,
    waiting_on: Option<WaitOn>,
    gate_wait: Tick,
    /// The longest single wait the backup caused this attempt so far (of the causes of
    /// [`crate::window::BackupWaits`] but overflow), in ticks: non-disruption judges it.
    backup_wait_max: Tick,
    /// The backup-caused waits of this attempt that have ended inside a backup window
    /// (its device calls' at their completion, its lock waits' blamed through their
    /// holders included), in ticks: what a wait for a lock it holds is blamed through
    /// it ([`crate::window::BackupWaits::lock_holder`]).
    backup_delay_ticks: Tick,
    /// Of its device call in flight, the backup-caused ticks, added to
    /// `backup_delay_ticks` when the call completes.
    backup_delay_pending_ticks: Tick,
    /// While it waits for an application lock: the holder's `backup_delay_ticks` when
    /// this wait (or that holder's hold) began, and the holders' backup-caused waits
    /// ended since, accumulated.
    lock_blame_base_ticks: Tick,
    lock_blame_ticks: Tick,
    abort_planned: bool,
    waits: Vec<Wait>,
    /// Device calls this attempt has issued (names each call's jitter).
    calls: u32,
}

/// Bytes of one attempt's entry in the world's table of attempts ([`Txn`]), its lists'
/// contents aside ([`crate::footprint::attempt_bytes`]).
pub(crate) const TXN_BYTES: u64 = std::mem::size_of::<Txn>() as u64;

impl Txn {
    fn empty() -> Self {
        Txn {
            id: 0,
            gen: 0,
            label: 0,
            client: None,
            process: None,
            pool_seat: None,
            ops: Vec::new(),
            compute_ticks: 0,
            arrived: 0,
            origin: 0,
            retries: 0,
            admitted: None,
            vlun: Vlun::A,
            old: false,
            begun: false,
            stage: Stage::Done,
            locks: Vec::new(),
            next_lock: 0,
            held: Keyed::default(),
            op: 0,
            values: Vec::new(),
            cache: Keyed::default(),
            before: Keyed::default(),
            waiting: None,
            waiting_on: None,
            gate_wait: 0,
            backup_wait_max: 0,
            backup_delay_ticks: 0,
            backup_delay_pending_ticks: 0,
            lock_blame_base_ticks: 0,
            lock_blame_ticks: 0,
            abort_planned: false,
            waits: Vec::new(),
            calls: 0,
        }
    }
}

/// Fig 4/5's processes: the seats that take transactions from queue 502.
#[derive(Debug)]
struct Pool {
    after: Vec<u32>,
    labels: Vec<u32>,
    busy: Vec<bool>,
    generation: u32,
}

/// Running sums of the costs.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub committed: u64,
    pub aborted: u64,
    pub deadlock_aborts: u64,
    pub logical_reads: u64,
    pub logical_writes: u64,
    /// Of `logical_writes`, those through VLUN A (every write before a split).
    pub vlun_a_writes: u64,
    pub io: IoCostSum,
    pub lock_waits: u64,
    pub lock_wait_total: Tick,
    pub lock_wait_max: Tick,
    pub admission: crate::cost::Samples,
    pub response: crate::cost::Samples,
    /// Under policy `none` only: (first arrival, response) of every committed
    /// transaction, in commit order ([`crate::RunResult::committed_by_arrival`]).
    pub by_arrival: Vec<(Tick, Tick)>,
    pub unavailable: Tick,
    /// The backup's own engine calls: archive reads, retire's merge.
    pub backup_io: IoCostSum,
    /// Bytes of the archive copy's extents read from VLUN A to send, every pass's.
    pub archive_bytes: u64,
    /// Bytes of the passes that completed an archive: what the target received and
    /// kept.
    pub archive_sent_bytes: u64,
    /// Blocks copied from VLUN B to B', and users' writes mirrored to B' (`[detach]`).
    pub detach_blocks_copied: u64,
    pub detach_mirrored_writes: u64,
    /// The backup's own device calls so far (names each call's jitter).
    pub backup_calls: u64,
    /// Writes through VLUN B while VLUN A was live (split → retire), and those while
    /// OLD transactions were still running on A.
    pub vlun_b_writes_a_live: u64,
    pub vlun_b_writes_old_active: u64,
    /// Quiesce attempts whose deadline passed, and whether the backup was given up.
    pub quiesce_timeouts: u64,
    pub backup_given_up: bool,
    /// Attempts aborted by a full data area (`break-guest-write`), and whether the
    /// backup was abandoned because it filled (`break-snapshot`).
    pub data_area_full_aborts: u64,
    pub backup_abandoned: bool,
}

/// IoCost summed in u64.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IoCostSum {
    pub reads: u64,
    pub writes: u64,
    pub lookups: u64,
    pub updates: u64,
    pub flushes: u64,
    /// Table entries created (of `updates`).
    pub inserts: u64,
    /// Block reads and writes of image A (of `reads`, `writes`).
    pub image_a_reads: u64,
    pub image_a_writes: u64,
}

impl IoCostSum {
    fn add(&mut self, c: &IoCost) {
        self.reads += u64::from(c.total_reads());
        self.writes += u64::from(c.total_writes());
        self.lookups += u64::from(c.table_lookups);
        self.updates += u64::from(c.table_updates());
        self.flushes += u64::from(c.flushes);
        self.inserts += u64::from(c.table_inserts);
        self.image_a_reads += u64::from(c.reads_a);
        self.image_a_writes += u64::from(c.writes_a);
    }
}

pub(crate) struct World<'a> {
    pub(crate) scenario: &'a Scenario,
    pub(crate) policy: Policy,
    pub(crate) layout: Layout,
    /// The layout's record → block and offset, without divisions.
    place: place::RecordPlace,
    pub(crate) dev: Device<SimStore>,
    pub(crate) q: EventQueue<Ev>,
    pub(crate) device_model: DeviceModel,
    workload: Box<dyn Workload>,
    locks: LockTable,
    txns: Vec<Txn>,
    free_attempts: Vec<Attempt>,
    /// The waiters of a lock being released ([`World::release_lock`]), kept for reuse.
    lock_waiters_scratch: Vec<Attempt>,
    /// Each crash so far ([`crate::CrashMark`]).
    pub(crate) crash_log: Vec<crate::CrashMark>,
    /// The most attempts in flight at once, the bytes each and the room they have
    /// ([`crate::footprint::in_flight_max`]).
    in_flight_max: (u64, u64, u64),
    next_id: TxnId,
    /// The oracle judging the run as it goes, when the scenario keeps a history.
    pub(crate) oracle: Option<Oracle>,
    /// Where each ended attempt's timeline row goes (when the scenario keeps the
    /// timeline): kept here, or handed to the caller's sink.
    pub(crate) timeline: Vec<TxnTimeline>,
    sink: Option<&'a mut dyn crate::cost::TimelineSink>,
    pub(crate) tally: Tally,
    pub(crate) marks: crate::cost::Marks,
    /// Names each attempt's voluntary-abort draw ([`rng::keyed_chance`]).
    aborts_key: u64,
    backoff_rng: ChaCha8Rng,
    /// The fault injector, when the scenario has faults (`None`: nothing is injected,
    /// nothing is flushed, the run is the fault-free one).
    faults: Option<Faults>,
    /// The device's metadata journal, with faults (the engine recovers from it).
    journal: Option<MemJournal>,
    /// The scratch block, as its leading bytes (the rest of the block zeros: what
    /// [`Device::read_prefix`] gives and [`Device::write_prefix`] takes).
    buf: Vec<u8>,
    /// Byte buffers of finished attempts' block cache and before-images, reused so a
    /// transaction's copies cost no allocation (at most as many as the attempts in
    /// flight ever held at once).
    spare_bufs: Vec<Vec<u8>>,
    /// Whether each I/O's completion hints the attempt's next block to the engine:
    /// on volumes of at least [`io::PREFETCH_MIN_BLOCKS`] blocks.
    prefetch: bool,
    // Policy state.
    split_done: bool,
    /// When the cycle's split call completes on the device's channels (its barriers;
    /// at a later mirroring split, the resync of image A): VLUN A is declared
    /// consistent (then copied and retired) no earlier.
    split_call_end: Tick,
    gate_open: bool,
    gate_closed_since: Tick,
    gate_waiters: Vec<Attempt>,
    quiesce_pending: bool,
    quiesce_attempts: u32,
    a_consistent_done: bool,
    active: u32,
    old_active: u32,
    /// When the last attempt ended ([`crate::RunResult::last_txn_ticks`]).
    last_txn_ticks: Tick,
    /// What decides at each tick's end which spans of the cycle ran beside a
    /// transaction ([`beside::Beside`]).
    beside: beside::Beside,
    pool: Option<Pool>,
    queue_502: VecDeque<Attempt>,
    archive_copy: Option<archive::ArchiveCopy>,
    /// The copy of VLUN B to B' in progress (`[detach]`).
    detach_copy: Option<detach::DetachCopy>,
    a_retired: bool,
    /// Data-area blocks VLUN A's retire (or an abandoned backup's drop) still holds
    /// while its own I/O (write logging's merge) runs: the engine frees them at the
    /// call, the device when the last of that I/O completes ([`Ev::RetireDone`]); the
    /// extra-space series counts them until then.
    retiring_blocks: u64,
    /// VLUN A's retire (or drop) was asked and its own I/O has not all completed: the
    /// image A the engine keeps from the call (mirroring) is moved into
    /// `kept_image_blocks` when it has, at the `retire` row, as the data area is freed.
    retiring: bool,
    /// This cycle's backup was abandoned (a full data area under `break-snapshot`).
    a_abandoned: bool,
    /// Blocks the archive passes begun again after a failed pass read, every cycle
    /// together (a whole volume each: a copy under faults is dense); past
    /// `limits.archive_blocks_max` the run stops ([`SimError::Limit`]).
    archive_blocks_again: u64,
    /// The backup cycle in progress, those finished, and the requests queued behind
    /// the one in progress (when each was asked for).
    cycle: Option<cycle::CycleState>,
    done_cycles: Vec<crate::cost::CycleResult>,
    deferred_requests: VecDeque<Tick>,
    /// When the last cycle's retire completed: no split before it.
    cycle_free_at: Tick,
    /// When the backup's last own device call completes (the split's barriers, an
    /// archive extent's reads, a retire's or a drop's merge): priced, not always an
    /// event, so the run's work may end after its last event fired.
    pub(crate) backup_calls_end: Tick,
    /// Retire's merge calls still to issue, while it runs ([`merge`]).
    merge: Option<merge::MergeCalls>,
    /// Each cycle's window figures, and the extra space over time.
    windows: window::Windows,
}

/// The oracle of a run that keeps a history: the invariants judged as the events
/// happen, and the whole record only when asked for ([`crate::run_keeping_history`]).
pub(crate) struct Oracle {
    pub(crate) judge: Judge<'static>,
    pub(crate) kept: Option<History>,
}

/// The initial content of the volume's blocks, as their leading bytes, with the
/// layout's figures worked out once: the store asks for it at every read of a block
/// never written, so no division per call.
#[derive(Debug, Clone, Copy)]
struct InitialBlocks {
    values: InitialValues,
    volume_blocks: u64,
    records_per_block: u64,
    record_bytes: usize,
    /// Bytes of a block's prefix: up to the end of its last record's header.
    prefix_bytes: usize,
}

impl InitialBlocks {
    fn of(layout: &Layout, values: InitialValues) -> Self {
        let per = layout.records_per_block();
        let rs = layout.record_size;
        Self {
            values,
            volume_blocks: layout.volume_blocks,
            records_per_block: per,
            record_bytes: rs,
            prefix_bytes: (per as usize - 1) * rs + RECORD_HEADER_BYTES,
        }
    }

    /// Block `block`'s initial content (as [`crate::history::initial_block`] gives
    /// it) as its leading bytes: each record's header (value, stamp 0), up to the last
    /// record's; nothing for a block past the volume (a data area's, all zeros). `out`
    /// arrives empty.
    #[inline]
    fn prefix(&self, block: u64, out: &mut Vec<u8>) {
        if block >= self.volume_blocks {
            return;
        }
        out.resize(self.prefix_bytes, 0);
        let per = self.records_per_block;
        for i in 0..per {
            let at = i as usize * self.record_bytes;
            write_record(&mut out[at..], self.values.of(block * per + i), 0);
        }
    }
}

/// A copy of `src` in a recycled buffer from `spare` (a new one only when it is empty).
fn recycled_copy(spare: &mut Vec<Vec<u8>>, src: &[u8]) -> Vec<u8> {
    let mut v = spare.pop().unwrap_or_default();
    v.clear();
    v.extend_from_slice(src);
    v
}

fn engine_err(at: Tick) -> impl Fn(engine::Error) -> SimError {
    move |source| SimError::Engine { at, source }
}

mod admission;
mod archive;
mod backup;
mod beside;
mod cycle;
mod detach;
mod extent_copy;
mod fault;
mod final_check;
mod io;
mod locking;
mod merge;
mod place;
mod touched;
mod window;

use touched::walk_touched;

impl<'a> World<'a> {
    /// `keep_record`: besides judging the run (when the scenario keeps a history), keep
    /// its whole record ([`Oracle::kept`]). `sink`: where the timeline goes (`None`:
    /// kept in [`World::timeline`]).
    pub(crate) fn new(
        scenario: &'a Scenario,
        policy: Policy,
        seed: u64,
        keep_record: bool,
        sink: Option<&'a mut dyn crate::cost::TimelineSink>,
    ) -> Result<Self, SimError> {
        // Streamed to a sink, the timeline is not held here: the run holds what a
        // sweep's grid point does.
        let layout = if sink.is_some() {
            scenario.validate_points(&[policy])?
        } else {
            scenario.validate_for(&[policy])?
        };
        let variant = policy.engine_variant(scenario.backup.baseline_variant);
        // The images on the simulated disk. The image(s) holding the volume start with
        // the initial content (computed per block, never stored); a data-area image
        // with zeros.
        let faults = scenario
            .faults
            .active()
            .then(|| faults::injector(&scenario.faults, rng::stream(seed, Component::Faults)));
        // No backup runs a plain single volume: the copy-on-write layout before any
        // split is one image holding the volume, no table, one physical write per
        // logical write; its data area is empty (never used: nothing is ever split).
        let area_slots = match policy {
            Policy::None => 0,
            _ => scenario.backup.data_area_slots(layout.volume_blocks),
        };
        let mut config = DeviceConfig::new(variant);
        config.integrity = scenario.device.integrity;
        if !scenario.faults.power_safe {
            config.durability = engine::Durability::ProcessCrashSafe;
        }
        // In integrity mode each image also holds its checksum area.
        let (a_blocks, b_blocks) =
            config.image_blocks(layout.block_size, layout.volume_blocks, area_slots);
        let values = scenario.workload.initial_values();
        let initial = InitialBlocks::of(&layout, values);
        let content: InitialPrefix = Arc::new(move |b, out: &mut Vec<u8>| initial.prefix(b, out));
        let store = |name, image, blocks| {
            let holds_volume = variant.table_image() != Some(image);
            let initial = holds_volume.then(|| content.clone());
            SimStore::new(name, layout.block_size, blocks, initial, faults.clone())
                .map_err(|e| engine_err(0)(e.into()))
        };
        let image_a = store("image A", Image::A, a_blocks)?;
        let image_b = store("image B", Image::B, b_blocks)?;
        // With faults the metadata is journaled, so that a crash can be recovered; a
        // `device.journaled` device keeps it too, to pay its syncs as a file device does.
        let journal = (faults.is_some() || scenario.device.journaled).then(MemJournal::new);
        let dev = match &journal {
            Some(j) => Device::with_journal(config, image_a, image_b, j.clone()),
            None => Device::new(config, image_a, image_b),
        }
        .map_err(engine_err(0))?;
        // A mirror's two images start with the same initial content: in sync, so a
        // later cycle's resync of image A copies only what VLUN B wrote since the split.
        dev.images_in_sync().map_err(engine_err(0))?;
        let workload = scenario.workload.generator(
            rng::stream(seed, Component::Arrivals),
            rng::stream(seed, Component::Shapes),
        );
        if journal.is_some() {
            // The initial image is durable before the first transaction (it is the
            // stores' initial content, so there is nothing to flush; the barrier is
            // kept so that the journal starts synced).
            dev.flush().map_err(engine_err(0))?;
        }
        let lock_count = match scenario.locking.granularity {
            Granularity::Record => layout.records(),
            Granularity::Block => layout.volume_blocks,
        } as usize;
        let mut type_b = Vec::new();
        for &b in &scenario.locking.type_b_blocks {
            match scenario.locking.granularity {
                Granularity::Block => type_b.push(b as u32),
                Granularity::Record => {
                    let rpb = layout.records_per_block();
                    type_b.extend((b * rpb..(b + 1) * rpb).map(|r| r as u32));
                }
            }
        }
        let oracle = scenario.keep_history.then(|| {
            let sum_conserved = scenario.workload.conserves_sum();
            // Judged under every policy that takes a backup; only the one-way mirror
            // and the crash-consistent snapshot claim it (Policy::claims), so under
            // quiesce the waits are observed and reported, not held against it.
            let gate_wait_limit_ticks =
                (policy != Policy::None).then_some(scenario.backup.setup_window_ticks);
            let initial = Initial::Pattern(values);
            let kept = keep_record.then(|| {
                let mut h = History::over(layout, initial.clone());
                h.sum_conserved = sum_conserved;
                h.gate_wait_limit_ticks = gate_wait_limit_ticks;
                h.seed = Some(seed);
                h
            });
            Oracle {
                judge: Judge::new(
                    layout,
                    Cow::Owned(initial),
                    sum_conserved,
                    gate_wait_limit_ticks,
                    None,
                ),
                kept,
            }
        });
        let pool = scenario
            .workload
            .process_pool()
            .map(|(before, after)| Pool {
                busy: vec![false; before.len()],
                labels: before,
                after,
                generation: 0,
            });
        Ok(World {
            scenario,
            policy,
            layout,
            place: place::RecordPlace::of(&layout),
            dev,
            q: EventQueue::new(),
            device_model: DeviceModel::new(
                scenario.device.clone(),
                layout.block_size as u64,
                rng::stream(seed, Component::Device),
            ),
            workload,
            locks: LockTable::new(lock_count, &type_b),
            txns: Vec::new(),
            free_attempts: Vec::new(),
            lock_waiters_scratch: Vec::new(),
            crash_log: Vec::new(),
            in_flight_max: crate::footprint::in_flight_max(
                scenario,
                &layout,
                policy,
                scenario.limits.in_flight_room_bytes,
            ),
            next_id: 0,
            oracle,
            timeline: Vec::new(),
            sink,
            tally: Tally::default(),
            marks: crate::cost::Marks::default(),
            aborts_key: rand::RngCore::next_u64(&mut rng::stream(seed, Component::Aborts)),
            backoff_rng: rng::stream(seed, Component::Backoff),
            faults,
            journal,
            buf: Vec::with_capacity(layout.block_size),
            spare_bufs: Vec::new(),
            prefetch: layout.volume_blocks >= io::PREFETCH_MIN_BLOCKS,
            split_done: false,
            split_call_end: 0,
            gate_open: true,
            gate_closed_since: 0,
            gate_waiters: Vec::new(),
            quiesce_pending: false,
            quiesce_attempts: 0,
            a_consistent_done: false,
            active: 0,
            old_active: 0,
            last_txn_ticks: 0,
            beside: beside::Beside::default(),
            pool,
            queue_502: VecDeque::new(),
            archive_copy: None,
            detach_copy: None,
            a_retired: false,
            retiring_blocks: 0,
            retiring: false,
            a_abandoned: false,
            archive_blocks_again: 0,
            cycle: None,
            done_cycles: Vec::new(),
            deferred_requests: VecDeque::new(),
            cycle_free_at: 0,
            backup_calls_end: 0,
            merge: None,
            windows: window::Windows::default(),
        })
    }

    /// Hands `event` to the oracle, when the run keeps a history. Without an oracle
    /// the event is still dropped, out of line (an [`Event`] may hold images): a
    /// transaction's begin, commit and abort go through [`World::log_with`].
    #[inline(always)]
    pub(super) fn log(&mut self, event: Event) {
        if self.oracle.is_some() {
            self.log_kept(event);
        }
    }

    /// [`World::log`] of the event `event` builds, built only when the run keeps a
    /// history: without an oracle nothing is built or dropped.
    #[inline(always)]
    pub(super) fn log_with(&mut self, event: impl FnOnce() -> Event) {
        if self.oracle.is_some() {
            self.log_kept(event());
        }
    }

    /// [`World::log`] with an oracle.
    #[inline(never)]
    fn log_kept(&mut self, event: Event) {
        if let Some(o) = self.oracle.as_mut() {
            match o.kept.as_mut() {
                Some(h) => {
                    o.judge.push(&event);
                    h.push(self.q.now(), event);
                }
                None => o.judge.push_owned(event),
            }
        }
    }

    /// Runs to the end: every arrival served, the backup done, the queue empty, then
    /// the end judged ([`World::finish_run`]). `progress` (when given) is called every
    /// [`crate::PROGRESS_EVENTS`] events with the events fired and the virtual time,
    /// between two events (a safe point: no event half-fired); when it breaks, the run
    /// stops there with [`SimError::Interrupted`].
    pub(crate) fn run(&mut self, progress: Option<crate::ProgressFn<'_>>) -> Result<(), SimError> {
        self.fire_all(progress)?;
        self.finish_run()
    }

    /// [`World::run`] up to its end: every event fired, until the queue is empty.
    fn fire_all(&mut self, mut progress: Option<crate::ProgressFn<'_>>) -> Result<(), SimError> {
        let default = self
            .scenario
            .workload
            .default_request_ticks(&self.scenario.device);
        let requests = self.scenario.backup.request_times(default);
        if self.policy != Policy::None {
            for &at in &requests {
                self.q.schedule_at(at, Ev::Request);
            }
        } else if let (Some(_), Some(&at)) = (&self.pool, requests.iter().min()) {
            self.q.schedule_at(at, Ev::PoolRotate);
        }
        // After the requests: events of one tick fire in the order they were scheduled,
        // and every later arrival is scheduled after them, so an arrival in a request's
        // tick, the first included, comes after the request (a new transaction).
        for (t, client) in self.workload.start() {
            self.q.schedule_at(t, Ev::Arrive { client });
        }
        self.schedule_faults();
        self.note_extra_space();
        let limits = &self.scenario.limits;
        // The next multiple of PROGRESS_EVENTS to report at (never, without a callback):
        // one comparison per event instead of two divisions.
        let mut progress_at = match progress {
            Some(_) => (self.q.fired() / crate::PROGRESS_EVENTS + 1) * crate::PROGRESS_EVENTS,
            None => u64::MAX,
        };
        while let Some((at, ev)) = self.q.pop_pending() {
            if self.q.fired() > limits.events_max {
                return Err(SimError::Limit {
                    key: "limits.events_max",
                    what: format!("more than {} events", limits.events_max),
                });
            }
            if self.takes_time(ev) {
                if at > self.q.now() {
                    self.tick_over();
                }
                self.q.advance_to(at);
                // A time at Tick::MAX saturated: the true one is past every limit.
                if at > limits.time_ticks_max || at == Tick::MAX {
                    return Err(SimError::Limit {
                        key: "limits.time_ticks_max",
                        what: format!(
                            "virtual time past {} ticks{}",
                            limits.time_ticks_max,
                            self.archive_under_way()
                        ),
                    });
                }
            }
            self.fire(ev)?;
            let now = self.q.now();
            // An event may fire another by a direct call: a multiple may be passed.
            let fired = self.q.fired();
            if fired >= progress_at {
                progress_at = (fired / crate::PROGRESS_EVENTS + 1) * crate::PROGRESS_EVENTS;
                if let Some(p) = progress.as_mut() {
                    if p(fired, now).is_break() {
                        return Err(SimError::Interrupted { at: now });
                    }
                }
            }
        }
        // The last tick is over too: what was open then stays open to the run's end.
        self.tick_over();
        Ok(())
    }

    /// Whether `ev` moves the clock to its time when it fires. It does not when its
    /// purpose has passed: a stale attempt's event (`Retry`, `Resume`, `IoDone`,
    /// `ComputeDone`, `IoRetry` of an attempt that ended or was restarted), a quiesce
    /// deadline whose attempt already succeeded or was superseded, a backup event of a
    /// cycle that ended ([`World::backup_event_live`]); nor does `Heal`, which only
    /// disarms the faults for the events after it. Such an event fires where the
    /// clock stands (a no-op, or the disarming): a timer left far ahead (a 60 s freeze
    /// limit met in 5 ms, a fault window longer than the load) neither lengthens the
    /// run (`end_ticks`, the diagram's axis) nor trips `limits.time_ticks_max`, as if it
    /// had been cancelled. Every event that does something at its time moves the clock
    /// as before, so no other figure changes.
    fn takes_time(&self, ev: Ev) -> bool {
        let live = |att: Attempt, gen: u32| self.txns[att as usize].gen == gen;
        match ev {
            Ev::Retry { att, gen }
            | Ev::Resume { att, gen }
            | Ev::IoDone { att, gen }
            | Ev::ComputeDone { att, gen }
            | Ev::IoRetry { att, gen } => live(att, gen),
            Ev::QuiesceDeadline { attempt } => {
                self.quiesce_pending && attempt == self.quiesce_attempts
            }
            Ev::Heal => false,
            ev => self.backup_event_live(ev),
        }
    }

    pub(super) fn fire(&mut self, ev: Ev) -> Result<(), SimError> {
        let live = |w: &Self, att: Attempt, gen: u32| w.txns[att as usize].gen == gen;
        match ev {
            Ev::Arrive { client } => self.arrive(client),
            Ev::Retry { att, gen } if live(self, att, gen) => self.start(att),
            Ev::Resume { att, gen } if live(self, att, gen) => self.resume(att),
            Ev::IoDone { att, gen } if live(self, att, gen) => self.io_done(att),
            Ev::ComputeDone { att, gen } if live(self, att, gen) => self.compute_done(att),
            Ev::Request => self.scheduled_request(),
            Ev::PoolRotate => {
                self.rotate_pool();
                self.dispatch()
            }
            Ev::NextCycle => self.next_cycle(),
            Ev::QuiesceDeadline { attempt } => self.quiesce_deadline(attempt),
            ev if !self.backup_event_live(ev) => Ok(()),
            Ev::BReady { .. } => self.b_ready(),
            Ev::SplitDone { .. } => self.split_call_done(),
            Ev::QuiesceRetry { .. } => self.quiesce_retry(),
            Ev::ArchiveRead { .. } => self.archive_read(),
            Ev::ArchiveDone { .. } => self.archive_done(),
            Ev::ArchiveRestart { .. } => {
                self.start_archive();
                Ok(())
            }
            Ev::MergeStep { .. } => {
                self.merge_step(self.q.now());
                Ok(())
            }
            Ev::RetireDone { .. } => {
                self.retired_then_detach(self.q.now());
                Ok(())
            }
            Ev::DetachRead { .. } => self.detach_read(),
            Ev::DetachDone { .. } => self.detach_done(),
            Ev::IoRetry { att, gen } if live(self, att, gen) => self.step(att),
            Ev::Crash => self.crash(),
            Ev::Heal => {
                self.heal();
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// An attempt's compute is over: its writes start.
    pub(super) fn compute_done(&mut self, att: Attempt) -> Result<(), SimError> {
        self.txns[att as usize].stage = Stage::Writing;
        self.txns[att as usize].op = 0;
        self.step(att)
    }

    /// The whole image of a VLUN, read outside the cost accounting (for the oracle),
    /// as its difference from the initial image: only the blocks that may differ
    /// ([`World::touched_blocks`]) are read, each as its leading bytes
    /// ([`engine::Device::read_prefix`]: no block filled or scanned whole), walked in
    /// the stores' own order when they can tell them ([`walk_touched`]: no list of
    /// them built), else every block ascending. A block integrity mode refuses reads
    /// as zeros and is logged ([`Event::Unreadable`], ascending, just before the
    /// caller logs the image).
    pub(super) fn read_image(&mut self, vlun: Vlun) -> Result<SparseImage, SimError> {
        let now = self.q.now();
        let layout = self.layout;
        let Some(o) = self.oracle.as_ref() else {
            return Ok(SparseImage::unchanged(layout.image_bytes() as u64));
        };
        let (dev, initial) = (&self.dev, o.judge.initial());
        let mut image = UnorderedImage::new(layout.image_bytes() as u64);
        let mut unreadable = Vec::new();
        let armed = self.set_faults_armed(false);
        let mut buf = Vec::with_capacity(layout.block_size);
        let mut read_one = |b: u64| {
            match dev.read_prefix(vlun, b, &mut buf) {
                Ok(_) => {}
                Err(e) if faults::integrity(&e) => {
                    buf.clear();
                    unreadable.push(b);
                }
                Err(e) => return ControlFlow::Break(e),
            }
            image.set_block_prefix(&layout, initial, b, &buf);
            ControlFlow::Continue(())
        };
        let read = walk_touched(dev, layout.volume_blocks, &mut read_one)
            .unwrap_or_else(|| (0..layout.volume_blocks).try_for_each(&mut read_one));
        self.set_faults_armed(armed);
        if let ControlFlow::Break(e) = read {
            return Err(engine_err(now)(e));
        }
        let image = image.finish();
        // Already ascending: only integrity mode refuses a read, and under it
        // `walk_touched` walks nothing, so every block was read ascending.
        debug_assert!(unreadable.is_sorted());
        self.count(|c| c.unreadable_blocks += unreadable.len() as u64);
        for block in unreadable {
            self.log(Event::Unreadable { vlun, block });
        }
        Ok(image)
    }

    pub(super) fn finish_run(&mut self) -> Result<(), SimError> {
        // The queue is empty: every attempt must have ended.
        let stuck: Vec<&Txn> = self
            .txns
            .iter()
            .filter(|t| t.stage != Stage::Done)
            .collect();
        if !stuck.is_empty() {
            let detail = stuck
                .iter()
                .take(5)
                .map(|t| {
                    format!(
                        "txn {} ({:?}, waiting on {:?})",
                        t.id, t.stage, t.waiting_on
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            return Err(SimError::Stuck {
                at: self.q.now(),
                unfinished: stuck.len() as u64,
                detail,
            });
        }
        if !self.gate_open {
            self.tally.unavailable = self
                .tally
                .unavailable
                .saturating_add(self.q.now() - self.gate_closed_since);
        }
        if self.oracle.is_some() {
            let live = if self.split_done { Vlun::B } else { Vlun::A };
            if !self.end_streamed(live) {
                let image = self.read_image(live)?;
                self.log(Event::End { live: image });
            }
        }
        self.timeline.sort_by_key(|r| r.txn);
        Ok(())
    }

    /// When the last attempt ended ([`crate::RunResult::last_txn_ticks`]).
    pub(crate) fn last_txn_ticks(&self) -> Tick {
        self.last_txn_ticks
    }

    pub(crate) fn device_queue_ticks(&self) -> Tick {
        self.device_model.queued_ticks
    }

    /// The extra space over time (empty when the timeline is not kept).
    pub(crate) fn take_space_series(&mut self) -> Vec<crate::space_series::SpacePoint> {
        std::mem::take(&mut self.windows.space).into_points()
    }

    /// Quiesce attempts made (retries included).
    pub(crate) fn quiesce_attempts(&self) -> u64 {
        u64::from(self.quiesce_attempts)
    }
}
