//! # owm-sim: a deterministic discrete-event simulator of the one-way mirror
//!
//! Replays transaction workloads (Fig 3's processes 301-306, Fig 4/5's queue and
//! processes, bank transfers, generated loads) against the real [`engine`] device
//! under a backup policy (quiesce, crash-consistent snapshot, or one of the three
//! one-way-mirror variants), and measures what the backup costs the users.
//!
//! - Virtual time only: 1 tick = 1 µs ([`clock`]); events ordered by (time, seq).
//! - One `u64` seed, one ChaCha stream per component ([`rng`]).
//! - The engine's counted physical operations become time through a device model
//!   ([`device_model`]).
//! - Every run can keep a history ([`history::History`]); the
//!   [`oracle`] judges it against the invariants of DESIGN.md §4, and the model checker
//!   calls the same functions.
//! - Results are typed ([`RunResult`]); plotting and CSV live in the `reports` crate.
//!
//! ```
//! use sim::{run, Policy, Scenario};
//! let result = run(&Scenario::default(), Policy::Owm(engine::Variant::CopyOnWrite), 7)
//!     .unwrap()
//!     .result;
//! assert!(result.violations.is_empty());
//! ```

pub mod archive;
pub mod blocks_seen;
pub mod clock;
pub mod cost;
pub mod delay_samples;
pub mod detach;
pub mod device_model;
pub mod error;
pub mod faults;
pub mod footprint;
pub mod free_slots;
pub mod history;
pub mod image;
pub mod inert;
pub mod judge;
pub mod judgement;
mod keyed;
pub mod locks;
pub mod number_text;
pub mod oracle;
pub mod packed_image;
pub mod part_map;
pub mod policy;
pub mod profiles;
pub mod record_image;
pub mod rng;
pub mod scenario;
pub mod schedule;
pub mod seeds;
pub mod space_series;
pub mod streamed_image;
pub mod text_file;
pub mod txn;
mod validate;
pub use validate::{PrintedNameFault, NAME_BYTES_MAX};
pub mod window;
pub mod workload;
mod world;

pub use archive::ArchiveConfig;
pub use clock::{Tick, TICK_US};
pub use cost::{
    Costs, CrashMark, CycleResult, DelayStats, Marks, Outcome, RunResult, Samples, TimelineSink,
    TxnTimeline, Wait, WaitKind,
};
pub use device_model::DeviceModelConfig;
pub use error::SimError;
pub use faults::{FaultCounts, FaultsConfig};
pub use history::{Cycle, Event, History, Layout, Step, TxnId};
pub use inert::{inert_keys, Inert};
pub use judge::PartJudged;
pub use judgement::{Judgement, LostBackup, Observed, Unreached};
pub use oracle::{check_all, Invariant, Violation};
pub use policy::Policy;
pub use profiles::{ArchiveProfile, DeviceProfile};
pub use scenario::{
    BackupConfig, Discipline, GeometryConfig, Granularity, Limits, LockingConfig, OnDataAreaFull,
    Scenario, SETUP_WINDOW_TICKS_DEFAULT,
};
pub use space_series::SpacePoint;
pub use validate::BLOCK_BYTES_MAX;
pub use window::{BackupWaits, SpanIo, WaitSum, WindowCosts};
pub use workload::{
    Arrivals, BankConfig, Fig3Config, Fig45Config, GeneratedConfig, HotSpot, InitialValues,
    TraceConfig, WorkloadConfig, WriteKind,
};

use world::World;

/// What one run produced: the typed result (costs, marks, timeline, the oracle's
/// violations), the whole history (only from [`run_keeping_history`], when the scenario
/// keeps one) and what its injected faults did ([`faults`]; all zero without
/// `[faults]`).
#[derive(Debug)]
pub struct Run {
    pub result: RunResult,
    pub history: Option<History>,
    pub faults: FaultCounts,
}

/// Runs `scenario` under `policy` with `seed`. When the scenario keeps the history
/// (`keep_history`), the oracle judges the run as it goes ([`judge`]) and the result
/// lists any violation; the record itself is not kept (`Run::history` is `None`).
pub fn run(scenario: &Scenario, policy: Policy, seed: u64) -> Result<Run, SimError> {
    run_with_progress(scenario, policy, seed, None)
}

/// [`run`], also keeping the whole record in `Run::history` when the scenario keeps
/// the history (memory grows with the events: for tests, traces and small runs).
pub fn run_keeping_history(
    scenario: &Scenario,
    policy: Policy,
    seed: u64,
) -> Result<Run, SimError> {
    run_inner(scenario, policy, seed, None, true, None)
}

/// Events between two calls of a run's progress callback.
pub const PROGRESS_EVENTS: u64 = 4096;

/// A run's progress callback: called with the events fired and the virtual time every
/// [`PROGRESS_EVENTS`] events; it cannot change the run, only stop it
/// (`ControlFlow::Break`: the run ends with [`SimError::Interrupted`], no result).
pub type ProgressFn<'a> = &'a mut dyn FnMut(u64, Tick) -> std::ops::ControlFlow<()>;

/// [`run`], calling `progress(events fired, virtual time)` every [`PROGRESS_EVENTS`]
/// events (for a progress line, and to stop a run asked to stop: [`ProgressFn`]).
pub fn run_with_progress(
    scenario: &Scenario,
    policy: Policy,
    seed: u64,
    progress: Option<ProgressFn<'_>>,
) -> Result<Run, SimError> {
    run_inner(scenario, policy, seed, progress, false, None)
}

/// [`run_with_progress`], handing each attempt's timeline row to `sink` as the attempt
/// ends (when the scenario keeps the timeline) instead of holding them:
/// `RunResult::transactions` is then empty, and the run's memory does not grow with
/// its timeline. Rows reach the sink in the order the attempts end, not by id
/// ([`TimelineSink`]).
pub fn run_with_sink(
    scenario: &Scenario,
    policy: Policy,
    seed: u64,
    progress: Option<ProgressFn<'_>>,
    sink: &mut dyn TimelineSink,
) -> Result<Run, SimError> {
    run_inner(scenario, policy, seed, progress, false, Some(sink))
}

fn run_inner<'a>(
    scenario: &'a Scenario,
    policy: Policy,
    seed: u64,
    progress: Option<ProgressFn<'_>>,
    keep_record: bool,
    sink: Option<&'a mut dyn TimelineSink>,
) -> Result<Run, SimError> {
    let mut w = World::new(scenario, policy, seed, keep_record, sink)?;
    w.run(progress)?;
    let oracle = w.oracle.take();
    let judged = oracle.is_some();
    let (violations, coverage, history, labels) = match oracle {
        Some(o) => {
            let labels = o.judge.found_labels();
            let (violations, coverage) = o.judge.finish_with_coverage();
            (violations, coverage, o.kept, labels)
        }
        None => (Vec::new(), Default::default(), None, Vec::new()),
    };
    let mut result = build_result(&mut w, seed, violations);
    result.invariants_judged = judged;
    result.coverage = coverage;
    result.violation_labels = labels;
    Ok(Run {
        result,
        history,
        faults: w.fault_counts(),
    })
}

fn build_result(w: &mut World<'_>, seed: u64, violations: Vec<Violation>) -> RunResult {
    let device_queue_ticks = w.device_queue_ticks();
    let cycles = w.cycle_results();
    // The run-wide marks and windows are the first cycle's.
    let first = cycles.first().map(|c| c.marks.clone()).unwrap_or_default();
    let faults = w.fault_counts();
    let quiesce_attempts = w.quiesce_attempts();
    let extra_space = w.take_space_series();
    let t = &mut w.tally;
    let counters = w.dev.counters();
    let per = |x: u64| {
        if t.logical_writes == 0 {
            0.0
        } else {
            x as f64 / t.logical_writes as f64
        }
    };
    let costs = Costs {
        committed: t.committed,
        aborted: t.aborted,
        deadlock_aborts: t.deadlock_aborts,
        admission_delay: t.admission.stats(),
        response_time: t.response.stats(),
        request_to_a_consistent_ticks: match (first.request, first.a_consistent) {
            (Some(r), Some(a)) => Some(a.saturating_sub(r)),
            _ => None,
        },
        unavailable_ticks: t.unavailable,
        logical_writes: t.logical_writes,
        logical_reads: t.logical_reads,
        physical_reads: t.io.reads,
        physical_writes: t.io.writes,
        physical_reads_per_logical_write: per(t.io.reads),
        physical_writes_per_logical_write: per(t.io.writes),
        extra_space_blocks_peak: counters.extra_space_peak,
        extra_space_blocks_end: {
            let s = w.dev.space_in_use();
            s.extra_space_blocks + s.kept_image_blocks
        },
        table_lookups: t.io.lookups,
        table_updates: t.io.updates,
        lock_waits: t.lock_waits,
        lock_wait_ticks_sum: t.lock_wait_total,
        lock_wait_ticks_max: t.lock_wait_max,
        device_queue_ticks,
        flushes: t.io.flushes,
        request_to_retire_ticks: match (first.request, first.retire) {
            (Some(r), Some(a)) => Some(a.saturating_sub(r)),
            _ => None,
        },
        backup_physical_reads: t.backup_io.reads,
        backup_physical_writes: t.backup_io.writes,
        backup_flushes: t.backup_io.flushes,
        archive_bytes: t.archive_bytes,
        archive_sent_bytes: t.archive_sent_bytes,
        vlun_b_writes_a_live: t.vlun_b_writes_a_live,
        vlun_b_writes_old_active: t.vlun_b_writes_old_active,
        quiesce_timeouts: t.quiesce_timeouts,
        quiesce_attempts,
        backup_given_up: t.backup_given_up,
        misdirected_writes: faults.misdirected_writes,
        corrupted_blocks: faults.corrupted_blocks,
        integrity_detections: faults.integrity_detections,
        resyncs_lost: faults.resyncs_lost,
        unreadable_blocks: faults.unreadable_blocks,
        backup_failures: faults.backup_failures,
        retires_refused: faults.retires_refused,
        crashes: faults.crashes,
        crash_aborts: faults.crash_aborts,
        crash_ticks: std::mem::take(&mut w.crash_log),
        torn_writes: faults.torn_writes,
        lost_writes: faults.lost_writes,
        read_errors: faults.read_errors,
        write_errors: faults.write_errors,
        write_error_aborts: faults.write_error_aborts,
        latency_spikes: faults.latency_spikes,
        data_area_blocks: (w.policy != Policy::None
            && w.dev.variant() != engine::Variant::WriteMirroring)
            .then(|| w.dev.area_slots()),
        data_area_full_aborts: t.data_area_full_aborts,
        backup_abandoned: t.backup_abandoned,
    };
    RunResult {
        scenario: w.scenario.name.clone(),
        workload: w.scenario.workload.kind().to_string(),
        policy: w.policy,
        engine_variant: (w.policy != Policy::None).then(|| w.dev.variant()),
        seed,
        tick_us: TICK_US,
        end_ticks: w.q.now().max(w.backup_calls_end),
        events: w.q.fired(),
        marks: first,
        cycles,
        costs,
        transactions: std::mem::take(&mut w.timeline),
        extra_space,
        invariants_judged: false,
        violations,
        violation_labels: Vec::new(),
        coverage: Default::default(),
        last_txn_ticks: w.last_txn_ticks(),
        sum_conserved: w.scenario.workload.conserves_sum(),
        committed_by_arrival: std::mem::take(&mut w.tally.by_arrival),
    }
}
