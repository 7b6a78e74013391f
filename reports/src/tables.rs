//! CSV tables of simulator results: `summary.csv` (one row per policy: the costs of
//! DESIGN.md §6 and every invariant's verdict), `trace.csv` (one row per transaction event or backup milestone: [`crate::trace`]), and
//! the metric columns a sweep writes per grid point.
//!
//! Numbers are written in a fixed format (integers plain, fractions with 3 decimals,
//! absent values empty) so the same run always gives the same bytes.

use std::path::Path;

use sim::{CycleResult, DelayStats, RunResult, SpanIo, WaitSum, WindowCosts};

use crate::{write_atomic, Error};

pub use crate::trace::{write_trace, TRACE_HEADER};

/// A named run: the policy's name as the user wrote it ("none" for no backup) and its
/// result.
#[derive(Debug, Clone)]
pub struct NamedRun {
    pub name: String,
    pub result: RunResult,
}

type Getter = fn(&RunResult) -> Cell;

/// One metric cell before it is written: absent, a count, or a fraction held exactly
/// (`num / den`, `den` ≥ 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Empty,
    Int(u64),
    Frac { num: u128, den: u64 },
}

impl Cell {
    /// The cell as the tables write it: integers plain, fractions with 3 decimals
    /// (`num as f64 / den as f64`), absent values empty.
    pub fn text(self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Int(x) => x.to_string(),
            Cell::Frac { num, den } => format!("{:.3}", num as f64 / den as f64),
        }
    }

    /// The cell's exact value as text: a fraction as `NUM/DEN` (unreduced), else as
    /// [`Cell::text`].
    pub fn exact_text(self) -> String {
        match self {
            Cell::Frac { num, den } => format!("{num}/{den}"),
            c => c.text(),
        }
    }
}

fn int(x: u64) -> Cell {
    Cell::Int(x)
}

fn opt(x: Option<u64>) -> Cell {
    x.map_or(Cell::Empty, Cell::Int)
}

/// `num / den`, exactly; `den` must not be 0.
fn frac(num: u128, den: u64) -> Cell {
    Cell::Frac { num, den }
}

/// Declares [`Metric`]: one variant per column, its name and how to read it.
macro_rules! metrics {
    ($($variant:ident = $name:literal => $get:expr,)*) => {
        /// A metric column of `summary.csv` and of a sweep's CSV. [`Metric::ALL`] is the
        /// column order; [`Metric::name`] the header; [`Metric::value`] the cell.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Metric {
            $($variant,)*
        }

        impl Metric {
            /// Every metric, in column order.
            pub const ALL: &'static [Metric] = &[$(Metric::$variant,)*];

            /// The column name (`admission_delay_ticks_mean`).
            pub fn name(self) -> &'static str {
                match self {
                    $(Metric::$variant => $name,)*
                }
            }

            /// The cell of result `r` (fixed format: integers plain, fractions with 3
            /// decimals, absent values empty).
            pub fn value(self, r: &RunResult) -> String {
                self.cell(r).text()
            }

            /// The cell of result `r` before it is written: fractions exact.
            pub fn cell(self, r: &RunResult) -> Cell {
                let get: Getter = match self {
                    $(Metric::$variant => $get,)*
                };
                get(r)
            }
        }
    };
}

metrics! {
    Committed = "committed" => |r| int(r.costs.committed),
    Aborted = "aborted" => |r| int(r.costs.aborted),
    DeadlockAborts = "deadlock_aborts" => |r| int(r.costs.deadlock_aborts),
    AdmissionDelayCount = "admission_delay_count" => |r| int(r.costs.admission_delay.count),
    AdmissionDelayTicksMean = "admission_delay_ticks_mean" => |r| mean(&r.costs.admission_delay),
    AdmissionDelayTicksP99 = "admission_delay_ticks_p99" => |r| sampled(&r.costs.admission_delay, |d| d.ticks_p99),
    AdmissionDelayTicksMax = "admission_delay_ticks_max" => |r| sampled(&r.costs.admission_delay, |d| d.ticks_max),
    ResponseTicksMean = "response_ticks_mean" => |r| mean(&r.costs.response_time),
    ResponseTicksP99 = "response_ticks_p99" => |r| sampled(&r.costs.response_time, |d| d.ticks_p99),
    ResponseTicksMax = "response_ticks_max" => |r| sampled(&r.costs.response_time, |d| d.ticks_max),
    RequestToAConsistentTicks = "request_to_a_consistent_ticks" => |r| opt(r.costs.request_to_a_consistent_ticks),
    RequestToRetireTicks = "request_to_retire_ticks" => |r| opt(r.costs.request_to_retire_ticks),
    UnavailableTicks = "unavailable_ticks" => |r| int(r.costs.unavailable_ticks),
    LogicalReads = "logical_reads" => |r| int(r.costs.logical_reads),
    LogicalWrites = "logical_writes" => |r| int(r.costs.logical_writes),
    PhysicalReads = "physical_reads" => |r| int(r.costs.physical_reads),
    PhysicalWrites = "physical_writes" => |r| int(r.costs.physical_writes),
    Flushes = "flushes" => |r| int(r.costs.flushes),
    PhysicalReadsPerLogicalWrite = "physical_reads_per_logical_write" => |r| per_write(r, r.costs.physical_reads),
    PhysicalWritesPerLogicalWrite = "physical_writes_per_logical_write" => |r| per_write(r, r.costs.physical_writes),
    ExtraSpaceBlocksPeak = "extra_space_blocks_peak" => |r| int(r.costs.extra_space_blocks_peak),
    ExtraSpaceBlocksEnd = "extra_space_blocks_end" => |r| int(r.costs.extra_space_blocks_end),
    TableLookups = "table_lookups" => |r| int(r.costs.table_lookups),
    TableUpdates = "table_updates" => |r| int(r.costs.table_updates),
    LockWaits = "lock_waits" => |r| int(r.costs.lock_waits),
    LockWaitTicksSum = "lock_wait_ticks_sum" => |r| int(r.costs.lock_wait_ticks_sum),
    LockWaitTicksMax = "lock_wait_ticks_max" => |r| int(r.costs.lock_wait_ticks_max),
    DeviceQueueTicks = "device_queue_ticks" => |r| int(r.costs.device_queue_ticks),
    RequestAtTicks = "request_at_ticks" => |r| opt(r.marks.request),
    VlunBReadyAtTicks = "vlun_b_ready_at_ticks" => |r| opt(r.marks.vlun_b_ready),
    AConsistentAtTicks = "a_consistent_at_ticks" => |r| opt(r.marks.a_consistent),
    ArchiveCopyAtTicks = "archive_copy_at_ticks" => |r| opt(r.marks.archive_copy),
    RetireAtTicks = "retire_at_ticks" => |r| opt(r.marks.retire),
    DataAreaBlocks = "data_area_blocks" => |r| opt(r.costs.data_area_blocks),
    DataAreaFullAborts = "data_area_full_aborts" => |r| int(r.costs.data_area_full_aborts),
    BackupAbandoned = "backup_abandoned" => |r| int(u64::from(r.costs.backup_abandoned)),
    AbandonedAtTicks = "abandoned_at_ticks" => |r| opt(r.marks.abandoned),
    EndTicks = "end_ticks" => |r| int(r.end_ticks),
    Events = "events" => |r| int(r.events),
    MisdirectedWrites = "misdirected_writes" => |r| int(r.costs.misdirected_writes),
    CorruptedBlocks = "corrupted_blocks" => |r| int(r.costs.corrupted_blocks),
    IntegrityDetections = "integrity_detections" => |r| int(r.costs.integrity_detections),
    UnreadableBlocks = "unreadable_blocks" => |r| int(r.costs.unreadable_blocks),
    BackupFailures = "backup_failures" => |r| int(r.costs.backup_failures),
    RetiresRefused = "retires_refused" => |r| int(r.costs.retires_refused),
    Crashes = "crashes" => |r| int(r.costs.crashes),
    CrashAborts = "crash_aborts" => |r| int(r.costs.crash_aborts),
    TornWrites = "torn_writes" => |r| int(r.costs.torn_writes),
    LostWrites = "lost_writes" => |r| int(r.costs.lost_writes),
    ReadErrors = "read_errors" => |r| int(r.costs.read_errors),
    WriteErrors = "write_errors" => |r| int(r.costs.write_errors),
    WriteErrorAborts = "write_error_aborts" => |r| int(r.costs.write_error_aborts),
    LatencySpikes = "latency_spikes" => |r| int(r.costs.latency_spikes),
    QuiesceAttempts = "quiesce_attempts" => |r| int(r.costs.quiesce_attempts),
    QuiesceTimeouts = "quiesce_timeouts" => |r| int(r.costs.quiesce_timeouts),
    BackupGivenUp = "backup_given_up" => |r| int(u64::from(r.costs.backup_given_up)),
    WindowStartAtTicks = "window_start_at_ticks" => |r| win(r, |w| Some(w.start_ticks)),
    WindowEndAtTicks = "window_end_at_ticks" => |r| win(r, |w| w.end_ticks),
    WindowCommitted = "window_committed" => |r| win(r, |w| Some(w.response.count)),
    WindowResponseTicksMean = "window_response_ticks_mean" => |r| win_mean(r, |w| Some(&w.response)),
    WindowResponseTicksP99 = "window_response_ticks_p99" => |r| win_p99(r, |w| Some(&w.response)),
    NoneWindowCommitted = "none_window_committed" => |r| win(r, |w| w.response_none.as_ref().map(|d| d.count)),
    NoneWindowResponseTicksMean = "none_window_response_ticks_mean" => |r| win_mean(r, |w| w.response_none.as_ref()),
    NoneWindowResponseTicksP99 = "none_window_response_ticks_p99" => |r| win_p99(r, |w| w.response_none.as_ref()),
    BeforeCommitted = "before_committed" => |r| win(r, |w| Some(w.response_before.count)),
    BeforeResponseTicksMean = "before_response_ticks_mean" => |r| win_mean(r, |w| Some(&w.response_before)),
    BeforeResponseTicksP99 = "before_response_ticks_p99" => |r| win_p99(r, |w| Some(&w.response_before)),
    WindowLogicalWrites = "window_logical_writes" => |r| win(r, |w| Some(w.io.logical_writes)),
    WindowPhysicalReadsPerLogicalWrite = "window_physical_reads_per_logical_write" => |r| io_per(r, true, |s| s.physical_reads),
    WindowPhysicalWritesPerLogicalWrite = "window_physical_writes_per_logical_write" => |r| io_per(r, true, |s| s.physical_writes),
    WindowTableUpdatesPerLogicalWrite = "window_table_updates_per_logical_write" => |r| io_per(r, true, |s| s.table_updates),
    WindowFlushesPerLogicalWrite = "window_flushes_per_logical_write" => |r| io_per(r, true, |s| s.flushes),
    BeforeLogicalWrites = "before_logical_writes" => |r| win(r, |w| Some(w.io_before.logical_writes)),
    BeforePhysicalReadsPerLogicalWrite = "before_physical_reads_per_logical_write" => |r| io_per(r, false, |s| s.physical_reads),
    BeforePhysicalWritesPerLogicalWrite = "before_physical_writes_per_logical_write" => |r| io_per(r, false, |s| s.physical_writes),
    BeforeTableUpdatesPerLogicalWrite = "before_table_updates_per_logical_write" => |r| io_per(r, false, |s| s.table_updates),
    BeforeFlushesPerLogicalWrite = "before_flushes_per_logical_write" => |r| io_per(r, false, |s| s.flushes),
    WindowCowCopies = "window_cow_copies" => |r| entries(r, engine::Variant::CopyOnWrite),
    WindowLogEntries = "window_log_entries" => |r| entries(r, engine::Variant::WriteLogging),
    WindowBackupWaitTicksSum = "window_backup_wait_ticks_sum" => |r| waits(r, |w| all_waits(w).iter().map(|s| s.ticks_sum).sum()),
    WindowGateWaitTicksSum = "window_gate_wait_ticks_sum" => |r| waits(r, |w| w.waits.gate.ticks_sum),
    WindowGateWaitTicksMax = "window_gate_wait_ticks_max" => |r| waits(r, |w| w.waits.gate.ticks_max),
    WindowTypeBWaitTicksSum = "window_type_b_wait_ticks_sum" => |r| waits(r, |w| w.waits.type_b.ticks_sum),
    WindowTypeBWaitTicksMax = "window_type_b_wait_ticks_max" => |r| waits(r, |w| w.waits.type_b.ticks_max),
    WindowDeviceQueueWaitTicksSum = "window_device_queue_wait_ticks_sum" => |r| waits(r, |w| w.waits.device_queue.ticks_sum),
    WindowDeviceQueueWaitTicksMax = "window_device_queue_wait_ticks_max" => |r| waits(r, |w| w.waits.device_queue.ticks_max),
    WindowFlushWaitTicksSum = "window_flush_wait_ticks_sum" => |r| waits(r, |w| w.waits.flush.ticks_sum),
    WindowFlushWaitTicksMax = "window_flush_wait_ticks_max" => |r| waits(r, |w| w.waits.flush.ticks_max),
    WindowOverflowWaitTicksSum = "window_overflow_wait_ticks_sum" => |r| waits(r, |w| w.waits.overflow.ticks_sum),
    WindowOverflowWaitTicksMax = "window_overflow_wait_ticks_max" => |r| waits(r, |w| w.waits.overflow.ticks_max),
    WindowCopyWaitTicksSum = "window_copy_wait_ticks_sum" => |r| waits(r, |w| w.waits.copy.ticks_sum),
    WindowCopyWaitTicksMax = "window_copy_wait_ticks_max" => |r| waits(r, |w| w.waits.copy.ticks_max),
    WindowLockHolderWaitTicksSum = "window_lock_holder_wait_ticks_sum" => |r| waits(r, |w| w.waits.lock_holder.ticks_sum),
    WindowLockHolderWaitTicksMax = "window_lock_holder_wait_ticks_max" => |r| waits(r, |w| w.waits.lock_holder.ticks_max),
    Violations = "violations" => |r| violations(r, true),
    ViolationsNotClaimed = "violations_not_claimed" => |r| violations(r, false),
}

/// The mean of `d`; empty with no sample (nothing to average, not 0).
fn mean(d: &DelayStats) -> Cell {
    if d.count == 0 {
        Cell::Empty
    } else {
        frac(d.ticks_sum, d.count)
    }
}

/// A tick figure of `d` (p99, max); empty with no sample.
fn sampled(d: &DelayStats, f: impl Fn(&DelayStats) -> u64) -> Cell {
    if d.count == 0 {
        Cell::Empty
    } else {
        int(f(d))
    }
}

/// A whole-run count `x` per logical write; empty with no logical write.
fn per_write(r: &RunResult, x: u64) -> Cell {
    if r.costs.logical_writes == 0 {
        Cell::Empty
    } else {
        frac(u128::from(x), r.costs.logical_writes)
    }
}

/// The window of the run's first cycle (in a cycle's row, that cycle's:
/// [`cycle_view`]); `None` without a backup.
fn window(r: &RunResult) -> Option<&WindowCosts> {
    // A request that never began a cycle opened no window.
    r.cycles
        .first()
        .filter(|c| !c.marks.not_begun)
        .map(|c| &c.window)
}

/// A window figure; empty without a backup.
fn win(r: &RunResult, f: impl Fn(&WindowCosts) -> Option<u64>) -> Cell {
    opt(window(r).and_then(f))
}

/// A wait figure of the window: 0 without a backup (nothing waited for one).
fn waits(r: &RunResult, f: impl Fn(&WindowCosts) -> u64) -> Cell {
    int(window(r).map_or(0, f))
}

/// A mean response of a window; empty without a backup or a committed transaction
/// (or, for `none`'s over the window, without a `none` run).
fn win_mean(r: &RunResult, f: impl Fn(&WindowCosts) -> Option<&DelayStats>) -> Cell {
    window(r)
        .and_then(f)
        .filter(|d| d.count > 0)
        .map_or(Cell::Empty, |d| frac(d.ticks_sum, d.count))
}

/// A p99 response of a window; empty as [`win_mean`].
fn win_p99(r: &RunResult, f: impl Fn(&WindowCosts) -> Option<&DelayStats>) -> Cell {
    window(r)
        .and_then(f)
        .filter(|d| d.count > 0)
        .map_or(Cell::Empty, |d| int(d.ticks_p99))
}

/// An I/O count per logical write inside the window (`inside`) or before it; empty
/// without a backup or with no logical write in the span.
fn io_per(r: &RunResult, inside: bool, f: impl Fn(&SpanIo) -> u64) -> Cell {
    window(r)
        .map(|w| if inside { &w.io } else { &w.io_before })
        .filter(|s| s.logical_writes > 0)
        .map_or(Cell::Empty, |s| frac(u128::from(f(s)), s.logical_writes))
}

/// Table entries the users' calls created inside the window when the engine runs
/// `variant` (copies preserved by copy-on-write, write logging's log entries), else 0
/// (no backup, or another variant).
fn entries(r: &RunResult, variant: engine::Variant) -> Cell {
    match window(r) {
        Some(w) if r.engine_variant == Some(variant) => int(w.io.table_inserts),
        _ => int(0),
    }
}

/// Every cause of a backup-caused wait.
fn all_waits(w: &WindowCosts) -> [WaitSum; 7] {
    let b = &w.waits;
    [
        b.gate,
        b.type_b,
        b.device_queue,
        b.flush,
        b.overflow,
        b.copy,
        b.lock_holder,
    ]
}

impl Metric {
    /// The cell of this metric in the row of one backup cycle of run `r`, `view` being
    /// [`cycle_view`]`(r, c)`: the verdict counts (`violations`,
    /// `violations_not_claimed`) are the run's in every row (a lost backup in any cycle
    /// changes what the whole run claims; the verdict columns beside them are the
    /// cycle's reading of the run's, [`summary_csv`]); every other metric is the
    /// view's.
    pub fn cycle_value(self, r: &RunResult, view: &RunResult) -> String {
        match self {
            Metric::Violations | Metric::ViolationsNotClaimed => self.value(r),
            _ => self.value(view),
        }
    }

    /// True for the metrics whose cell is a fraction ([`Cell::Frac`] when defined): the
    /// means and the counts per logical write.
    pub fn is_fraction(self) -> bool {
        matches!(
            self,
            Metric::AdmissionDelayTicksMean
                | Metric::ResponseTicksMean
                | Metric::PhysicalReadsPerLogicalWrite
                | Metric::PhysicalWritesPerLogicalWrite
                | Metric::WindowResponseTicksMean
                | Metric::NoneWindowResponseTicksMean
                | Metric::BeforeResponseTicksMean
                | Metric::WindowPhysicalReadsPerLogicalWrite
                | Metric::WindowPhysicalWritesPerLogicalWrite
                | Metric::WindowTableUpdatesPerLogicalWrite
                | Metric::WindowFlushesPerLogicalWrite
                | Metric::BeforePhysicalReadsPerLogicalWrite
                | Metric::BeforePhysicalWritesPerLogicalWrite
                | Metric::BeforeTableUpdatesPerLogicalWrite
                | Metric::BeforeFlushesPerLogicalWrite
        )
    }

    /// True for `none`'s figures over another policy's backup window
    /// ([`sim::WindowCosts::response_none`]): `summary.csv` has them when the run
    /// listed `none`; a sweep's CSV does not.
    pub fn paired_with_none(self) -> bool {
        matches!(
            self,
            Metric::NoneWindowCommitted
                | Metric::NoneWindowResponseTicksMean
                | Metric::NoneWindowResponseTicksP99
        )
    }
}

/// Violations of the invariants the policy claims (`claimed`) or does not claim;
/// empty when the run was not judged (no history: unchecked is not zero).
fn violations(r: &RunResult, claimed: bool) -> Cell {
    if !r.invariants_judged {
        return Cell::Empty;
    }
    let n = if claimed {
        r.claimed_violations().len()
    } else {
        r.unclaimed_violations().len()
    };
    int(n as u64)
}

impl std::str::FromStr for Metric {
    type Err = String;
    /// A metric by its column name; the error lists the known names.
    fn from_str(s: &str) -> Result<Self, String> {
        Metric::ALL
            .iter()
            .copied()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
                format!("unknown metric `{s}`; known: {}", names.join(", "))
            })
    }
}

/// Serialises rows to CSV bytes.
pub(crate) fn csv_bytes(
    path: &Path,
    header: &[&str],
    rows: &[Vec<String>],
) -> Result<Vec<u8>, Error> {
    let csv_err = |source| Error::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).map_err(csv_err)?;
    for row in rows {
        debug_assert_eq!(row.len(), header.len());
        w.write_record(row).map_err(csv_err)?;
    }
    w.into_inner().map_err(|e| Error::io(path, e.into_error()))
}

/// The result as cycle `c` sees it: the run's, with that cycle's milestones, its
/// request → A consistent / retire windows, what became of its own backup
/// (`backup_abandoned`, `backup_given_up`, its quiesce attempts and timeouts: what the
/// marks columns, those columns and the headline table show per cycle), and that
/// cycle alone as its cycles (its window figures). No timeline, no extra-space series.
/// The verdicts stay the run's: [`RunResult::judgements`] of `r`, not of the view.
pub fn cycle_view(r: &RunResult, c: &CycleResult) -> RunResult {
    let window = |to: Option<u64>| match (c.marks.request, to) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    let mut costs = r.costs.clone();
    costs.request_to_a_consistent_ticks = window(c.marks.a_consistent);
    costs.request_to_retire_ticks = window(c.marks.retire);
    costs.backup_abandoned = c.marks.abandoned.is_some();
    costs.backup_given_up = c.marks.given_up.is_some();
    costs.quiesce_attempts = c.quiesce_attempts;
    costs.quiesce_timeouts = c.quiesce_timeouts;
    RunResult {
        scenario: r.scenario.clone(),
        workload: r.workload.clone(),
        policy: r.policy,
        engine_variant: r.engine_variant,
        seed: r.seed,
        tick_us: r.tick_us,
        end_ticks: r.end_ticks,
        events: r.events,
        marks: c.marks.clone(),
        cycles: vec![c.clone()],
        costs,
        transactions: Vec::new(),
        extra_space: Vec::new(),
        invariants_judged: r.invariants_judged,
        violations: r.violations.clone(),
        violation_labels: r.violation_labels.clone(),
        coverage: r.coverage,
        last_txn_ticks: r.last_txn_ticks,
        sum_conserved: r.sum_conserved,
        committed_by_arrival: Vec::new(),
    }
}

/// The columns of one backup cycle's own counts, after the metrics of `summary.csv`.
pub const CYCLE_COLUMNS: [&str; 9] = [
    "request_deferred_ticks",
    "cycle_vlun_b_writes_a_live",
    "cycle_table_updates",
    "cycle_extra_space_blocks_peak",
    "cycle_backup_physical_reads",
    "cycle_backup_physical_writes",
    "cycle_backup_flushes",
    "cycle_archive_bytes",
    "cycle_archive_sent_bytes",
];

fn cycle_cells(c: &CycleResult) -> [String; 9] {
    [
        c.request_deferred_ticks,
        c.vlun_b_writes_a_live,
        c.table_updates,
        c.extra_space_blocks_peak,
        c.backup_physical_reads,
        c.backup_physical_writes,
        c.backup_flushes,
        c.archive_bytes,
        c.archive_sent_bytes,
    ]
    .map(|x| x.to_string())
}

/// The columns of the copy of VLUN B to B' (`[detach]`), last in `summary.csv`, only
/// when some run copied: the cycle's start and end of the copy, the blocks copied, and
/// the users' writes mirrored to B' meanwhile. Whether B' equalled VLUN B when the
/// copy ended is the verdict column `b-prime-faithful` (`sim::Invariant`).
pub const DETACH_COLUMNS: [&str; 4] = [
    "detach_start_at_ticks",
    "detach_end_at_ticks",
    "detach_blocks_copied",
    "detach_mirrored_writes",
];

/// True when a run of `runs` copied VLUN B to B' in some cycle.
pub fn detached(runs: &[NamedRun]) -> bool {
    runs.iter()
        .flat_map(|r| &r.result.cycles)
        .any(|c| c.marks.detach_start.is_some())
}

fn detach_cells(c: Option<&CycleResult>) -> [String; 4] {
    let Some(c) = c.filter(|c| c.marks.detach_start.is_some()) else {
        return Default::default();
    };
    [
        opt(c.marks.detach_start),
        opt(c.marks.detach_end),
        int(c.detach_blocks_copied),
        int(c.detach_mirrored_writes),
    ]
    .map(Cell::text)
}

/// The metric columns of a sweep's CSV, in order: every numeric column of `summary.csv`
/// but the run's key (`seed`, `cycle`) and `none`'s over another policy's window
/// ([`Metric::paired_with_none`]): [`Metric::ALL`], [`CYCLE_COLUMNS`], then
/// [`DETACH_COLUMNS`] (always, empty in a row that made no copy). These are the names a
/// sweep's `metrics` may give.
pub fn sweep_metrics() -> Vec<&'static str> {
    let mut h: Vec<&'static str> = sweep_metric_columns().map(|m| m.name()).collect();
    h.extend(CYCLE_COLUMNS);
    h.extend(DETACH_COLUMNS);
    h
}

/// Metric columns renamed so that, as in every other name, the unit comes before the
/// statistic (`response_ticks_mean`): (old name, new name). A sweep file that names an
/// old one is refused with its new name ([`sweep_metric`]).
pub const RENAMED_METRICS: [(&str, &str); 11] = [
    ("admission_delay_mean_ticks", "admission_delay_ticks_mean"),
    ("admission_delay_p99_ticks", "admission_delay_ticks_p99"),
    ("admission_delay_max_ticks", "admission_delay_ticks_max"),
    ("response_mean_ticks", "response_ticks_mean"),
    ("response_p99_ticks", "response_ticks_p99"),
    ("response_max_ticks", "response_ticks_max"),
    ("lock_wait_total_ticks", "lock_wait_ticks_sum"),
    ("lock_wait_max_ticks", "lock_wait_ticks_max"),
    ("extra_space_peak_blocks", "extra_space_blocks_peak"),
    ("extra_space_end_blocks", "extra_space_blocks_end"),
    (
        "cycle_extra_space_peak_blocks",
        "cycle_extra_space_blocks_peak",
    ),
];

/// A sweep metric by its column name ([`sweep_metrics`]); the error lists the known
/// names, or for a name of [`RENAMED_METRICS`] gives its new one.
pub fn sweep_metric(name: &str) -> Result<&'static str, String> {
    if let Some((old, new)) = RENAMED_METRICS.iter().find(|(old, _)| *old == name) {
        return Err(format!(
            "`{old}` is now `{new}` (the metric columns give the unit before the \
             statistic); name it `{new}`"
        ));
    }
    if let Some(m) = Metric::ALL
        .iter()
        .find(|m| m.name() == name && m.paired_with_none())
    {
        return Err(format!(
            "metric `{}` is `none`'s response over another policy's backup window, paired \
             within one `owm run` (summary.csv); a sweep runs each policy at its own grid \
             point: set `baseline = \"none\"` to compare each metric with `none`'s at the \
             same point and seed",
            m.name()
        ));
    }
    let all = sweep_metrics();
    all.iter().copied().find(|m| *m == name).ok_or_else(|| {
        format!(
            "unknown metric `{name}`; known (the numeric columns of summary.csv): {}",
            all.join(", ")
        )
    })
}

/// The [`Metric`]s of a sweep's CSV: all but those paired with `none` within one
/// `owm run` ([`Metric::paired_with_none`]), which a grid point of one policy cannot
/// give.
fn sweep_metric_columns() -> impl Iterator<Item = Metric> {
    Metric::ALL
        .iter()
        .copied()
        .filter(|m| !m.paired_with_none())
}

/// The cells of [`sweep_metrics`] for run `r` (one grid point): every [`Metric`] of the
/// run as [`Metric::value`] gives it (milestones and window figures: the first
/// cycle's), the [`CYCLE_COLUMNS`] and [`DETACH_COLUMNS`] of its first backup cycle,
/// as that cycle's row of `summary.csv` holds them (empty without a backup; the detach
/// columns empty when that cycle made no copy).
pub fn sweep_cells(r: &RunResult) -> Vec<String> {
    let first = r.cycles.first();
    let mut row: Vec<String> = sweep_metric_columns().map(|m| m.value(r)).collect();
    match first {
        Some(c) => row.extend(cycle_cells(c)),
        None => row.extend(CYCLE_COLUMNS.iter().map(|_| String::new())),
    }
    row.extend(detach_cells(first));
    row
}

/// The names of the fractional columns of a sweep's CSV ([`Metric::is_fraction`]), in
/// column order: the columns [`sweep_fractions`] gives exactly.
pub fn sweep_fraction_metrics() -> Vec<&'static str> {
    sweep_metric_columns()
        .filter(|m| m.is_fraction())
        .map(Metric::name)
        .collect()
}

/// The exact values of run `r`'s fractional sweep cells ([`sweep_fraction_metrics`],
/// in that order): `NUM/DEN` ([`Cell::exact_text`]), empty where the cell is. The
/// 3-decimal cells of `sweep.csv` are these rounded; a sweep's statistics are computed
/// from these, so two runs whose means differ by exactly 1340/116 differ by exactly
/// that on every seed.
pub fn sweep_fractions(r: &RunResult) -> Vec<String> {
    sweep_metric_columns()
        .filter(|m| m.is_fraction())
        .map(|m| m.cell(r).exact_text())
        .collect()
}

/// `summary.csv`: one row per run and backup cycle (one row, cycle empty, for a run
/// without a backup). In a cycle's row the marks columns and
/// `request_to_a_consistent_ticks`, `request_to_retire_ticks` are the cycle's, the `cycle_*` columns its own
/// counts; every other metric is the run's. The verdicts are the run's as the cycle bears
/// on them (`sim::RunResult::cycle_judgements`): a cycle given up or abandoned reads `not
/// claimed (given up)` / `not claimed (abandoned)` for the invariants about its copy, and a
/// cycle that did not put an invariant about a backup to the test beside a transaction
/// reads its own `not claimed (no transaction during the backup)` (or `request after the
/// last transaction`, `no copy to B'`; A-isolated `no NEW write while VLUN A was
/// live` when no NEW transaction wrote beside its split), so no one row is the run's
/// verdict.
pub fn summary_csv(runs: &[NamedRun]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    summary_rows(runs, |row| {
        rows.push(row);
        Ok::<(), std::convert::Infallible>(())
    })
    .unwrap_or_else(|e| match e {});
    rows
}

/// [`summary_csv`]'s rows, handed to `each` one at a time (a run of many cycles has a
/// row per cycle: `summary.csv` is written as they come, not held as cells), stopping
/// at its first error.
fn summary_rows<E>(
    runs: &[NamedRun],
    mut each: impl FnMut(Vec<String>) -> Result<(), E>,
) -> Result<(), E> {
    let detach = detached(runs);
    for run in runs {
        let r = &run.result;
        let head = |cycle: String| {
            vec![
                r.scenario.clone(),
                r.workload.clone(),
                run.name.clone(),
                r.engine_variant.map(|v| v.to_string()).unwrap_or_default(),
                r.seed.to_string(),
                cycle,
            ]
        };
        // The run's judgements, made once: each cycle's row starts from them.
        let run_judgements = r.judgements();
        let tail = |row: &mut Vec<String>, c: Option<&CycleResult>| {
            let judgements = match c {
                Some(c) => r.cycle_judgements_of(&run_judgements, c),
                None => run_judgements.clone(),
            };
            row.extend(judgements.iter().map(|j| j.to_string()));
            if detach {
                row.extend(detach_cells(c));
            }
        };
        if r.cycles.is_empty() {
            let mut row = head(String::new());
            row.extend(Metric::ALL.iter().map(|m| m.value(r)));
            row.extend(CYCLE_COLUMNS.iter().map(|_| String::new()));
            tail(&mut row, None);
            each(row)?;
        }
        for c in &r.cycles {
            let view = cycle_view(r, c);
            let mut row = head(c.cycle.to_string());
            row.extend(Metric::ALL.iter().map(|m| m.cycle_value(r, &view)));
            row.extend(cycle_cells(c));
            tail(&mut row, Some(c));
            each(row)?;
        }
    }
    Ok(())
}

/// The header of `summary.csv` for `runs`: [`summary_header`], then
/// [`DETACH_COLUMNS`] when some run copied VLUN B to B'.
pub fn summary_header_of(runs: &[NamedRun]) -> Vec<&'static str> {
    let mut h = summary_header();
    if detached(runs) {
        h.extend(DETACH_COLUMNS);
    }
    h
}

/// The header of `summary.csv`: the run and its cycle, every metric, the cycle's own
/// counts, then one column per invariant (`held`, `violated 2`, `unchecked`, or for
/// one the policy does not claim `not claimed (violated 2)`, or with why the run does
/// not, `not claimed (no backup)`: `sim::Judgement`).
pub fn summary_header() -> Vec<&'static str> {
    let mut h = vec![
        "scenario",
        "workload",
        "policy",
        "engine_variant",
        "seed",
        "cycle",
    ];
    h.extend(Metric::ALL.iter().map(|m| m.name()));
    h.extend(CYCLE_COLUMNS);
    h.extend(sim::Invariant::ALL.iter().map(|i| i.as_str()));
    h
}

/// Writes `summary.csv` atomically.
pub fn write_summary(path: &Path, runs: &[NamedRun]) -> Result<(), Error> {
    let csv_err = |source| Error::Csv {
        path: path.to_path_buf(),
        source,
    };
    let header = summary_header_of(runs);
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&header).map_err(csv_err)?;
    summary_rows(runs, |row| {
        debug_assert_eq!(row.len(), header.len());
        w.write_record(&row).map_err(csv_err)
    })?;
    let bytes = w
        .into_inner()
        .map_err(|e| Error::io(path, e.into_error()))?;
    write_atomic(path, &bytes)
}

/// Writes any table (a sweep's CSV) atomically.
pub fn write_table(path: &Path, header: &[String], rows: &[Vec<String>]) -> Result<(), Error> {
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let bytes = csv_bytes(path, &header, rows)?;
    write_atomic(path, &bytes)
}

/// Reads a table written by [`write_table`]: header and rows.
pub fn read_table(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>), Error> {
    let csv_err = |source| Error::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut r = csv::Reader::from_path(path).map_err(csv_err)?;
    let header = r
        .headers()
        .map_err(csv_err)?
        .iter()
        .map(String::from)
        .collect();
    let mut rows = Vec::new();
    for rec in r.records() {
        rows.push(rec.map_err(csv_err)?.iter().map(String::from).collect());
    }
    Ok((header, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_are_unique_and_found() {
        for &m in Metric::ALL {
            assert_eq!(m.name().parse::<Metric>(), Ok(m), "{m:?} is listed twice");
        }
        assert_eq!(Metric::ALL.len(), 96);
        assert!("speed".parse::<Metric>().is_err());
    }

    /// Exactly the metrics [`Metric::is_fraction`] names give fractions, and a
    /// fraction's cell is its exact value rounded to 3 decimals.
    #[test]
    fn fraction_metrics_are_the_fractional_cells() {
        let scenario = sim::Scenario::default();
        for policy in [
            sim::Policy::None,
            sim::Policy::Owm(engine::Variant::CopyOnWrite),
            sim::Policy::Owm(engine::Variant::WriteLogging),
        ] {
            let r = sim::run(&scenario, policy, 5).unwrap().result;
            let mut fractions = sweep_fractions(&r).into_iter();
            for m in Metric::ALL {
                let c = m.cell(&r);
                match c {
                    Cell::Frac { num, den } => {
                        assert!(m.is_fraction(), "{}", m.name());
                        assert!(den > 0);
                        assert_eq!(c.text(), format!("{:.3}", num as f64 / den as f64));
                    }
                    _ => assert!(!m.is_fraction() || c == Cell::Empty, "{}", m.name()),
                }
                if m.is_fraction() && !m.paired_with_none() {
                    assert_eq!(fractions.next(), Some(c.exact_text()), "{}", m.name());
                }
            }
            assert_eq!(fractions.next(), None);
        }
    }

    #[test]
    fn sweep_cells_match_the_sweep_metrics() {
        let scenario = sim::Scenario::default();
        for policy in [
            sim::Policy::None,
            sim::Policy::Owm(engine::Variant::CopyOnWrite),
        ] {
            let result = sim::run(&scenario, policy, 3).unwrap().result;
            assert_eq!(sweep_cells(&result).len(), sweep_metrics().len());
        }
        for m in sweep_metrics() {
            assert_eq!(sweep_metric(m), Ok(m));
        }
        assert!(sweep_metric("speed").is_err());
    }

    /// No column of `summary.csv`, of a sweep, of `trace.csv` or of `extra_space.csv`
    /// names a statistic before its unit (`…_mean_ticks`): the unit comes first, then
    /// the statistic (`response_ticks_mean`). Each renamed column is its old name with
    /// the two swapped (a `total` a `sum`), no column any longer, and a sweep naming it is
    /// told the new one.
    #[test]
    fn units_come_before_statistics_and_old_names_point_to_new_ones() {
        const UNITS: [&str; 4] = ["ticks", "blocks", "bytes", "us"];
        const STATS: [&str; 10] = [
            "mean", "max", "min", "p50", "p90", "p99", "sum", "total", "peak", "end",
        ];
        // A quantity, then a statistic, then a unit (`end_ticks` is the time of the
        // run's end: no statistic of a quantity).
        let statistic_before_unit = |name: &str| {
            let words: Vec<&str> = name.split('_').collect();
            words.len() >= 3
                && UNITS.contains(&words[words.len() - 1])
                && STATS.contains(&words[words.len() - 2])
        };
        assert!(statistic_before_unit("response_mean_ticks"));
        assert!(!statistic_before_unit("response_ticks_mean"));
        let mut columns: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
        columns.extend(sweep_metrics());
        columns.extend(TRACE_HEADER);
        columns.extend(crate::space::SPACE_HEADER);
        for c in &columns {
            assert!(!statistic_before_unit(c), "{c}: statistic before its unit");
        }
        for (old, new) in RENAMED_METRICS {
            assert!(statistic_before_unit(old), "{old}");
            let words: Vec<&str> = old.split('_').collect();
            let n = words.len();
            // A total is a `sum`, as the window's `…_wait_ticks_sum` columns say.
            let stat = if words[n - 2] == "total" {
                "sum"
            } else {
                words[n - 2]
            };
            let swapped = [&words[..n - 2], &[words[n - 1], stat]].concat();
            assert_eq!(swapped.join("_"), new, "{old}");
            assert!(columns.contains(&new), "{new} is no column");
            assert!(!columns.contains(&old), "{old} is still a column");
            let e = sweep_metric(old).unwrap_err();
            assert!(e.contains(&format!("`{old}` is now `{new}`")), "{e}");
        }
    }

    #[test]
    fn rows_match_the_header_and_trace_is_in_time_order() {
        let scenario = sim::Scenario::default();
        let result = sim::run(&scenario, sim::Policy::Owm(engine::Variant::CopyOnWrite), 3)
            .unwrap()
            .result;
        let runs = vec![NamedRun {
            name: "cow".into(),
            result,
        }];
        let rows = summary_csv(&runs);
        assert_eq!(rows[0].len(), summary_header().len());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trace.csv");
        write_trace(&path, &runs).unwrap();
        let (header, trace) = read_table(&path).unwrap();
        assert_eq!(header, TRACE_HEADER);
        assert!(trace.iter().all(|r| r.len() == TRACE_HEADER.len()));
        let times: Vec<u64> = trace.iter().map(|r| r[1].parse().unwrap()).collect();
        assert!(
            times.windows(2).all(|w| w[0] <= w[1]),
            "trace not in time order"
        );
        let events: Vec<&str> = trace.iter().map(|r| r[2].as_str()).collect();
        for e in [
            "backup-request",
            "split",
            "a-consistent",
            "retire",
            "arrive",
            "admit",
            "end",
        ] {
            assert!(events.contains(&e), "no {e} event");
        }
    }
}
