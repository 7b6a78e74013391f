//! What a run costs its users (DESIGN.md §6), as typed results. The simulator knows
//! nothing of plots or CSV: the `reports` crate turns these into files.
//! All times are in ticks (1 tick = 1 µs).

use engine::{Variant, Vlun};
use serde::Serialize;

use crate::clock::Tick;
use crate::history::TxnId;
use crate::oracle::Violation;
use crate::policy::Policy;
use crate::space_series::SpacePoint;
use crate::window::WindowCosts;

/// Everything one run produced, but the history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunResult {
    /// Scenario name.
    pub scenario: String,
    /// Workload kind: fig3, fig4-5, bank, generated.
    pub workload: String,
    pub policy: Policy,
    /// The engine variant under the policy (the baselines use
    /// `backup.baseline_variant`); `None` for a plain single volume (policy `none`).
    pub engine_variant: Option<Variant>,
    pub seed: u64,
    /// Microseconds per tick.
    pub tick_us: u64,
    /// Virtual time when the run's work ended: the last event fired, or the backup's
    /// last own device call completed (a retire's or a drop's merge, priced on the
    /// device's channels without an event of its own), whichever is later. No
    /// milestone of any cycle ([`Marks`], `window_end_at_ticks`) is later.
    pub end_ticks: Tick,
    /// Events the queue processed.
    pub events: u64,
    /// The backup's milestones (of the first cycle; every cycle's are in `cycles`).
    pub marks: Marks,
    /// One entry per backup cycle requested ([`crate::schedule`]), in order; empty
    /// under policy `none`.
    pub cycles: Vec<CycleResult>,
    pub costs: Costs,
    /// One row per transaction attempt, in id order (empty when the scenario turns the
    /// timeline off, and when the run handed its timeline to a [`TimelineSink`]
    /// instead: [`crate::run_with_sink`]).
    pub transactions: Vec<TxnTimeline>,
    /// Extra space over time, a point per change from tick 0 (empty when the scenario
    /// turns the timeline off).
    pub extra_space: Vec<SpacePoint>,
    /// True when the oracle judged the run (the scenario kept its history); false:
    /// every invariant is unchecked, and `violations` is empty for that reason.
    pub invariants_judged: bool,
    /// What the oracle found, claimed by the policy or not (empty when the history was
    /// not recorded, or all hold); [`RunResult::judgements`] sorts them by claim.
    pub violations: Vec<Violation>,
    /// The labels of the attempts `violations` name (attempt id, label; by id): what
    /// `trace.csv`'s `label` column and the timing diagram call each (301-306 in Fig
    /// 3, else the transaction's sequence number, which its retries keep), where it
    /// was open when found, or among the last ended. [`RunResult::said`] says them.
    #[serde(skip)]
    pub violation_labels: Vec<(TxnId, u32)>,
    /// Per invariant ([`crate::Invariant::ALL`] order): how much of the images it
    /// speaks of it judged (all zero when the history was not recorded); an invariant
    /// with blocks integrity mode refused is reported held on part of the volume
    /// only ([`crate::Observed::HeldPartly`]).
    #[serde(skip)]
    pub coverage: [crate::PartJudged; crate::Invariant::ALL.len()],
    /// When the last transaction attempt ended, in ticks (0 when none ran; every
    /// attempt ends by the run's end, at or after its arrival): a backup requested at
    /// or after it ran beside no transaction for a positive time, the one ending in
    /// the request's own tick included ([`crate::Unreached::RequestAfterTransactions`],
    /// the tick rule of [`crate::Marks::beside_txn`]).
    #[serde(skip)]
    pub last_txn_ticks: Tick,
    /// Whether every transaction of the workload keeps the sum of the record values
    /// (bank transfers), the state bank-conserved speaks of: a workload that does not
    /// ([`crate::Unreached::NoSum`]) leaves it unjudged.
    #[serde(skip)]
    pub sum_conserved: bool,
    /// Under policy `none` only (empty under every other): the first arrival and the
    /// response, in ticks, of each committed transaction, in commit order; what
    /// [`crate::window::pair_with_none`] reads to give another policy's backup window
    /// the response `none` had over the same span. 16 bytes a committed transaction.
    #[serde(skip)]
    pub committed_by_arrival: Vec<(Tick, Tick)>,
}

/// Milestones of the backup, in ticks; `None` when it did not happen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Marks {
    /// The backup request (350 in Fig 3, 521 in Fig 4).
    pub request: Option<Tick>,
    /// The volume was split into VLUN A and VLUN B.
    pub split: Option<Tick>,
    /// The split's own device call completed (its barriers; at a later mirroring
    /// split, the resync of image A), when it took time: VLUN A is declared
    /// consistent no earlier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split_done: Option<Tick>,
    /// VLUN B set up: new transactions may begin (450 in Fig 3C).
    pub vlun_b_ready: Option<Tick>,
    /// VLUN A declared consistent (451 in Fig 3C, 522 in Fig 4).
    pub a_consistent: Option<Tick>,
    /// The archive copy of A finished.
    pub archive_copy: Option<Tick>,
    /// VLUN A retired, its extra space freed.
    pub retire: Option<Tick>,
    /// The backup was abandoned (a full data area under `break-snapshot`, or a
    /// rollback's write that needed a slot of it): VLUN A dropped with no archive and
    /// no retire (`a_dropped` follows).
    pub abandoned: Option<Tick>,
    /// The abandon was a rollback's: its write of a before-image needed a slot of the
    /// full data area under `on_data_area_full = "break-guest-write"`, which refuses
    /// the users' writes but cannot refuse a rollback's.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub abandoned_for_rollback: bool,
    /// An abandoned backup's VLUN A is gone and its extra space freed (the drop's own
    /// I/O, write logging's merge, completed): in place of `retire`, which needs an
    /// archive.
    pub a_dropped: Option<Tick>,
    /// Quiesce attempts that missed `backup.quiesce_deadline_ticks`: when each
    /// timed out (the gate reopened), in order.
    pub quiesce_timeouts: Vec<Tick>,
    /// When each retry after a timeout closed the gate again, in order.
    pub quiesce_retries: Vec<Tick>,
    /// The backup was given up (quiesce past `quiesce_retries_max`, or an archive
    /// pass meeting a block of VLUN A failing its checksum): no archive is claimed.
    /// For a request that never began ([`Marks::not_begun`]), the run's end.
    pub given_up: Option<Tick>,
    /// The request never began a cycle: it was queued behind a cycle whose backup was
    /// given up at an archive pass, whose VLUN A is kept (the device cannot split
    /// again), and the run ended with it still queued. Its only other milestones are
    /// `request` (when the schedule asked) and `given_up` (the run's end).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub not_begun: bool,
    /// The copy of VLUN B to B' (`[detach]`, \[0048\]) started (when the retire, or an
    /// abandoned backup's drop of VLUN A, completed) and ended (the last extent and every mirrored write landed on B').
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detach_start: Option<Tick>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detach_end: Option<Tick>,
    /// Some transaction attempt ran beside the copy of VLUN A for a positive time:
    /// it arrived at a tick before the copy was over (VLUN A retired, an abandoned
    /// VLUN A dropped, the backup given up; the copy to B' after it is
    /// [`Marks::beside_txn_b_prime`]'s) and ended at a tick after the copy was asked
    /// for (the request, or the quiesce retry that took it: a missed attempt copied
    /// nothing). Ticks decide, not the order of the events within a tick: an attempt
    /// that arrives in the very tick the copy ends, or ends in the very tick it is
    /// asked for, ran beside none of it (an attempt that arrives and ends in one tick
    /// strictly inside the span did; a span of one tick has beside it the attempts
    /// that arrived before it and ended after it). Such a copy ran beside a
    /// transaction, so what it promises about transactions (A-consistent,
    /// backup-faithful, space-reclaimed; A-isolated with [`Marks::beside_txn_new`])
    /// was put to the test in this cycle. A cycle whose copy ran beside none
    /// (requested before the first arrival, in a lull between transactions, or after
    /// the last one) is judged but claims nothing of them
    /// ([`crate::Unreached::NoTransactionBeside`]).
    #[serde(skip)]
    pub beside_txn: bool,
    /// A NEW transaction of this cycle wrote a block while its VLUN A was live: an
    /// attempt admitted on VLUN B after the split wrote through it before VLUN A was
    /// gone (retired or dropped). Only then was A-isolated put to the test: VLUN A
    /// holds no write of a NEW transaction; a cycle with only OLD ones beside it, or
    /// NEW ones that read only or waited for locks until VLUN A was gone, had no write
    /// that could have leaked there ([`crate::Unreached::NoNewTransaction`]). Backup-faithful and non-disruption
    /// need no NEW one: an OLD transaction running through the split or the copy
    /// writes the image the archive must carry and can wait for the backup.
    #[serde(skip)]
    pub beside_txn_new: bool,
    /// Some transaction attempt ran beside the copy of VLUN B to B' (`[detach]`) for
    /// a positive time (the rule of [`Marks::beside_txn`], from the copy's start to its
    /// end): B-prime-faithful was put to the test (a write it could have missed).
    #[serde(skip)]
    pub beside_txn_b_prime: bool,
    /// Some attempt ran beside the cycle for a positive time (the rule of
    /// [`Marks::beside_txn`], from the cycle's start to its end: VLUN B ready, the
    /// split's own call or the copy to B' coming last; a missed quiesce attempt's gate
    /// included): a transaction could wait for this cycle, so non-disruption was put
    /// to the test, though the copy may not have been.
    #[serde(skip)]
    pub beside_txn_waits: bool,
}

/// One crash of a run (`[faults] crash_at_ticks`): when, the attempts it aborted, and
/// where the backup stood when it struck (the cycle in progress, 0 for none, and its
/// milestones then), which orders it among the milestones of its own tick.
#[derive(Debug, Clone, PartialEq)]
pub struct CrashMark {
    pub at: Tick,
    pub aborted: u64,
    pub cycle: u32,
    pub marks: Marks,
}

/// One backup cycle (request → split → A consistent → archive → retire) of a run with
/// a schedule ([`crate::schedule`]). Counts are what happened from this cycle's
/// request until its retire completed (or, for the last cycle, until the run ended).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CycleResult {
    /// 1-based.
    pub cycle: u32,
    /// The cycle's milestones; `request` is when the schedule asked for it.
    pub marks: Marks,
    /// Ticks the request waited for the previous cycle's retire (0: none).
    pub request_deferred_ticks: Tick,
    /// Logical writes through VLUN B while this cycle's VLUN A was live, and of those
    /// the ones issued while its OLD transactions still ran.
    pub vlun_b_writes_a_live: u64,
    pub vlun_b_writes_old_active: u64,
    /// Lookup-table entries created or dropped (users' calls and the backup's).
    pub table_updates: u64,
    /// The most extra space held at once from this cycle's start to its end, blocks:
    /// the highest `extra_space_blocks` of the series ([`crate::SpacePoint`]) over that
    /// span, taken at every change of the device's extra space.
    pub extra_space_blocks_peak: u64,
    /// The backup's own physical I/O in this cycle: the split (mirroring's resync of
    /// image A at a later cycle, the barriers), the archive reads, retire's merge, the
    /// reads of the copy of VLUN B to B' (`[detach]`).
    pub backup_physical_reads: u64,
    pub backup_physical_writes: u64,
    pub backup_flushes: u64,
    /// Bytes the archive copy read from VLUN A to send to the target in this cycle:
    /// every pass's extents (a failed pass's, and those of a copy abandoned before they
    /// were sent, included), so the copy's traffic, not the archive's size.
    pub archive_bytes: u64,
    /// Bytes the archive target received in the pass that completed this cycle's
    /// archive: the archive's size on the target (the blocks copied, holes left out
    /// under `[archive] sparse`, times the block size). 0 when no pass completed (a
    /// backup abandoned or given up); a failed pass's bytes are not counted.
    pub archive_sent_bytes: u64,
    /// Quiesce attempts of this cycle (the first and every retry; 0 under the other
    /// policies), those abandoned at the deadline, and whether the cycle was given up
    /// or stopped (no split, no archive; or VLUN A kept after a block failing its
    /// checksum: `marks.given_up` says which was a give-up).
    pub quiesce_attempts: u64,
    pub quiesce_timeouts: u64,
    pub given_up: bool,
    /// The copy of VLUN B to B' (`[detach]`): blocks copied, and users' writes to
    /// blocks already copied that were also written to B' (the one-way mirror, B → B').
    /// Zero without `[detach]`.
    pub detach_blocks_copied: u64,
    pub detach_mirrored_writes: u64,
    /// The cycle's window (start → retire; with `[detach]`, start → B' complete) against the time before it: response
    /// times, the users' I/O, and every wait the backup caused, by cause.
    pub window: WindowCosts,
}

/// Summary of a set of delays.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DelayStats {
    pub count: u64,
    /// The delays' sum (ticks): the mean exactly, `ticks_sum / count`.
    pub ticks_sum: u128,
    /// `ticks_sum / count` in `f64` (0 with no delay).
    pub ticks_mean: f64,
    /// 99th percentile (nearest rank).
    pub ticks_p99: Tick,
    pub ticks_max: Tick,
}

impl DelayStats {
    /// Statistics of `xs` (reordered in place: the 99th percentile is selected, not
    /// sorted for, in time linear in `xs.len()`).
    pub fn of(xs: &mut [Tick]) -> Self {
        if xs.is_empty() {
            return Self::default();
        }
        let n = xs.len();
        let sum: u128 = xs.iter().map(|&x| u128::from(x)).sum();
        let rank = (n * 99).div_ceil(100).max(1) - 1;
        let (_, &mut p99, above) = xs.select_nth_unstable(rank);
        Self {
            count: n as u64,
            ticks_sum: sum,
            ticks_mean: sum as f64 / n as f64,
            ticks_p99: p99,
            ticks_max: above.iter().copied().max().unwrap_or(p99),
        }
    }
}

pub use crate::delay_samples::Samples;

/// The costs of DESIGN.md §6.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Costs {
    /// Transaction attempts committed / aborted (voluntary or deadlock victims).
    pub committed: u64,
    pub aborted: u64,
    pub deadlock_aborts: u64,
    /// The ticks the admission gate held each transaction attempt admitted at or after
    /// the run's first split (0 for one not held), deadlock retries and later cycles'
    /// attempts included, and before that split each attempt the gate held (at a
    /// quiesce attempt that missed its deadline): `count` is every such attempt.
    pub admission_delay: DelayStats,
    /// Arrival → end of every committed attempt (the users' response time).
    pub response_time: DelayStats,
    /// Backup request → VLUN A consistent.
    pub request_to_a_consistent_ticks: Option<Tick>,
    /// Ticks the admission gate was closed (no transaction could begin).
    pub unavailable_ticks: Tick,
    /// Block writes the transactions issued (logical writes, rollbacks included).
    pub logical_writes: u64,
    pub logical_reads: u64,
    /// Image block reads / writes the transactions' engine calls caused (reads for
    /// the logical reads included; the oracle's and the archive's reads excluded).
    pub physical_reads: u64,
    pub physical_writes: u64,
    /// `physical_reads / logical_writes`, `physical_writes / logical_writes` (write
    /// amplification: 1 for a plain write, 2 for a mirrored A write, a COW first
    /// write to B adds a read and a write); 0 with no writes.
    pub physical_reads_per_logical_write: f64,
    pub physical_writes_per_logical_write: f64,
    /// Extra space (mirror copy, log area or COW area), peak and at the end. Under
    /// the mirroring engine variant the end counts image A kept after the last retire
    /// for a next split's incremental resync (engine `SpaceInUse::kept_image_blocks`):
    /// the volume's blocks, as the peak.
    pub extra_space_blocks_peak: u64,
    pub extra_space_blocks_end: u64,
    pub table_lookups: u64,
    pub table_updates: u64,
    /// Application lock waits (type (b) waits included): how many, total, longest. A
    /// lock granted in the tick it was asked for is no wait.
    pub lock_waits: u64,
    pub lock_wait_ticks_sum: Tick,
    pub lock_wait_ticks_max: Tick,
    /// Ticks calls spent queued for a device channel (the backup's calls included).
    pub device_queue_ticks: Tick,
    /// Flush barriers the transactions' calls waited for over the whole run (the
    /// engine's and, with `workload.flush_at_commit`, the application's commit
    /// flushes; each costs `device.flush_latency_ticks`): `summary.csv`'s `flushes`.
    pub flushes: u64,
    /// Backup request → VLUN A retired (its archive landed, its extra space freed):
    /// the backup window.
    pub request_to_retire_ticks: Option<Tick>,
    /// The backup's own physical I/O on the device: the split's (its barriers, a later
    /// mirroring split's resync of image A), the archive's reads of VLUN A, retire's
    /// merge (write logging) and the reads of the copy of VLUN B to B' (`[detach]`),
    /// priced on the same channels as the users'.
    pub backup_physical_reads: u64,
    pub backup_physical_writes: u64,
    pub backup_flushes: u64,
    /// Bytes the archive copy read from VLUN A to send to the target: every pass's
    /// extents, as [`CycleResult::archive_bytes`].
    pub archive_bytes: u64,
    /// Bytes of the completed archives on the target, summed over the cycles
    /// ([`CycleResult::archive_sent_bytes`]).
    pub archive_sent_bytes: u64,
    /// Logical writes through VLUN B while VLUN A was live (split → retire): what the
    /// one-way mirror's variants pay for (\[0049\]-\[0052\]).
    pub vlun_b_writes_a_live: u64,
    /// Of those, the ones issued while OLD transactions were still running on VLUN A
    /// (Fig 4: 507/508 on B while 503/504 finish on A).
    pub vlun_b_writes_old_active: u64,
    /// Quiesce attempts abandoned at `backup.quiesce_deadline_ticks` (the gate reopened
    /// with transactions still active).
    pub quiesce_timeouts: u64,
    /// Quiesce attempts made, retries after a missed deadline included (0 under the
    /// other policies).
    pub quiesce_attempts: u64,
    /// The backup was given up: after `backup.quiesce_retries_max` retries (no split,
    /// no archive), or when an archive pass met a block of VLUN A failing its
    /// checksum (no faithful archive can be made; VLUN A kept), or when mirroring's
    /// resync of image A at a later cycle's split met a block of image B failing its
    /// checksum (no split; the cycle ends, a later one resyncs again).
    pub backup_given_up: bool,
    /// Backup cycles given up at the split because the resync of image A met a block
    /// failing its checksum ([`crate::FaultCounts::resyncs_lost`]).
    pub resyncs_lost: u64,
    /// Physical block writes that landed on a neighbouring block (`[faults]
    /// misdirected_write_probability`).
    pub misdirected_writes: u64,
    /// Stored blocks that rotted before a read (`[faults] corrupt_block_probability`).
    pub corrupted_blocks: u64,
    /// Checksum mismatches integrity mode (`[device] integrity`) reported to the run's
    /// own calls: damaged blocks refused, never served ([`crate::FaultCounts`]).
    pub integrity_detections: u64,
    /// Blocks of the oracle's whole-image reads (A declared consistent, the live volume
    /// at the end) that integrity mode refused: known lost, not judged.
    pub unreadable_blocks: u64,
    /// Archive passes that failed under `[faults]` (a backup read error or a block the
    /// target refused), each copied again from its first extent
    /// ([`crate::FaultCounts::backup_failures`]).
    pub backup_failures: u64,
    /// Times the engine refused to retire VLUN A after a failed archive pass (asked
    /// after every failure, and after a pass given up at a block failing its
    /// checksum; [`crate::FaultCounts::retires_refused`]).
    pub retires_refused: u64,
    /// Device crashes `[faults]` injected (`crash_at_ticks`), each followed by a
    /// restart ([`crate::FaultCounts::crashes`]).
    pub crashes: u64,
    /// Transactions aborted by a crash, their before-images written back.
    pub crash_aborts: u64,
    /// Each crash, in order ([`CrashMark`]: `trace.csv`'s `crash` rows).
    #[serde(skip)]
    pub crash_ticks: Vec<CrashMark>,
    /// Unflushed block writes torn at a crash (each 8-byte word old or new,
    /// `torn_write_probability`).
    pub torn_writes: u64,
    /// Unflushed block writes lost at a crash (`lost_write_probability`).
    pub lost_writes: u64,
    /// Injected physical read errors of the run's transactions
    /// (`read_error_probability`), each retried.
    pub read_errors: u64,
    /// Injected physical write errors (`write_error_probability`).
    pub write_errors: u64,
    /// Transactions rolled back and aborted because a write failed.
    pub write_error_aborts: u64,
    /// Device calls delayed by a latency spike (`latency_spike_probability`).
    pub latency_spikes: u64,
    /// Slots of the data area of write logging and copy-on-write
    /// (`backup.data_area_blocks` / `data_area_fraction`); `None` under mirroring and
    /// on the plain volume of `none`, which have no data area.
    pub data_area_blocks: Option<u64>,
    /// Transaction attempts aborted because a write needed a slot of the full data
    /// area (`backup.on_data_area_full = "break-guest-write"`).
    pub data_area_full_aborts: u64,
    /// A backup (of any cycle) was abandoned because the data area filled
    /// (`on_data_area_full = "break-snapshot"`, or a rollback's write needed a slot
    /// under either policy): no archive, VLUN A dropped; the run
    /// claims neither A-consistent nor backup-faithful ([`RunResult::claims`]).
    pub backup_abandoned: bool,
}

/// Why a transaction was waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WaitKind {
    /// In queue 502 for a free process (Fig 4/5).
    Queue,
    /// For an application lock another transaction holds.
    Lock,
    /// For a type (b) lock held from the split until the old transactions end.
    TypeB,
    /// At the admission gate, for the backup (quiesce, setup window).
    Gate,
    /// Backing off before a retry after a deadlock abort.
    Backoff,
}

/// A waiting interval of one transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Wait {
    pub kind: WaitKind,
    pub from_ticks: Tick,
    pub until_ticks: Tick,
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Committed,
    Aborted,
    /// Still running when the run stopped.
    Unfinished,
}

/// One transaction attempt on the timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TxnTimeline {
    pub txn: TxnId,
    /// 301-306 for fig3, otherwise a sequence number (retries keep it).
    pub label: u32,
    /// The process that ran it (503/504/507/508 in Fig 4/5).
    pub process: Option<u32>,
    /// Began before the run's first split, or was in flight at a later one (an OLD
    /// transaction of some cycle).
    pub old: bool,
    /// The VLUN it was bound to as it ended (`None`: it never began): the one it
    /// began on (VLUN A before the first split, VLUN B after), but VLUN A when it was
    /// in flight at a later split of the one-way mirror (it finishes on VLUN A), and
    /// VLUN B when it was in flight at `crash-consistent`'s split or its VLUN A was
    /// dropped (an abandoned backup).
    pub vlun: Option<Vlun>,
    pub arrived_ticks: Tick,
    /// When it began (was admitted).
    pub admitted_ticks: Option<Tick>,
    pub ended_ticks: Option<Tick>,
    pub outcome: Outcome,
    pub waits: Vec<Wait>,
}

/// Receives a run's timeline as the run goes, so that it need not be held whole
/// ([`crate::run_with_sink`]): `trace.csv` written as the attempts end, a bounded
/// selection kept for a diagram.
///
/// Contract: attempts have ids 0, 1, 2, … in order of arrival (an attempt arrives at
/// the virtual time it is created, so `arrived_ticks` never decreases with the id);
/// each ends exactly once, at `ended_ticks`, and every time in its row lies between
/// its arrival and its end. Attempts end in any order.
pub trait TimelineSink {
    /// Attempt `t` ended (committed or aborted) at virtual time `t.ended_ticks`.
    fn attempt(&mut self, t: &TxnTimeline);
}

/// Keeps every row (what [`RunResult::transactions`] holds without a sink).
impl TimelineSink for Vec<TxnTimeline> {
    fn attempt(&mut self, t: &TxnTimeline) {
        self.push(t.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_stats_nearest_rank() {
        let mut xs: Vec<Tick> = (1..=200).rev().collect();
        let d = DelayStats::of(&mut xs);
        assert_eq!((d.count, d.ticks_p99, d.ticks_max), (200, 198, 200));
        assert!((d.ticks_mean - 100.5).abs() < 1e-9);
        assert_eq!(DelayStats::of(&mut []), DelayStats::default());
        assert_eq!(DelayStats::of(&mut [7]).ticks_p99, 7);
    }

    /// The selected percentile and maximum are the sorted list's, at every length up
    /// to 300, repeats included.
    #[test]
    fn delay_stats_select_as_a_sort_would() {
        let mut x: u64 = 99;
        for n in 1..300usize {
            let xs: Vec<Tick> = (0..n)
                .map(|_| {
                    x = x
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    (x >> 40) % 97
                })
                .collect();
            let mut sorted = xs.clone();
            sorted.sort_unstable();
            let rank = (n * 99).div_ceil(100).max(1) - 1;
            let d = DelayStats::of(&mut xs.clone());
            assert_eq!(
                (d.ticks_p99, d.ticks_max),
                (sorted[rank], sorted[n - 1]),
                "n {n}"
            );
        }
    }
}
