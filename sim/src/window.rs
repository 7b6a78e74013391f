//! What one backup cycle costs inside its window, against the time before it.
//!
//! A cycle's **window** runs from the tick the cycle started (its request, or the
//! previous cycle's retire when the request was queued behind it) to the tick its
//! retire completed (or it was given up; the run's end for a cycle still open). The
//! time **before** it runs from the previous cycle's window end (tick 0 for the first
//! cycle) to this window's start. All times are in ticks (1 tick = 1 µs).
//!
//! Response times are attributed by arrival: a committed transaction whose first
//! attempt arrived inside the window counts for the window, one that arrived before it
//! for "before". Device I/O counts the users' engine calls issued in each span (the
//! backup's own I/O is [`crate::CycleResult::backup_physical_reads`] and the like).
//! Waits the backup caused are counted by cause, each wait once, in the window open
//! when the wait ended (or, for a device call, when it was issued).

use serde::Serialize;

use crate::clock::Tick;
use crate::cost::{DelayStats, RunResult, Samples};
use crate::policy::Policy;

/// The users' device I/O in one span of time: logical writes and what they cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SpanIo {
    /// Block writes the transactions issued (rollbacks included).
    pub logical_writes: u64,
    /// Image block reads and writes, lookup-table entries created or dropped, and flush
    /// barriers (engine barriers and the application's commit flushes) of the users'
    /// calls.
    pub physical_reads: u64,
    pub physical_writes: u64,
    pub table_updates: u64,
    pub flushes: u64,
    /// Lookup-table entries the users' calls created: under copy-on-write each is a
    /// preserved copy of an old block, under write logging a new log entry.
    pub table_inserts: u64,
    /// Of `logical_writes`, those through VLUN A (the old transactions' in a window).
    pub vlun_a_writes: u64,
    /// Of `physical_reads` and `physical_writes`, those of image A: where copy-on-write
    /// keeps its table and preserved copies, and where write logging's VLUN A writes
    /// land (its table and log are on image B).
    pub image_a_reads: u64,
    pub image_a_writes: u64,
}

impl SpanIo {
    /// `x / logical_writes`; 0 with no logical write.
    pub fn per_logical_write(&self, x: u64) -> f64 {
        if self.logical_writes == 0 {
            0.0
        } else {
            x as f64 / self.logical_writes as f64
        }
    }

    /// `self - earlier`, counter by counter (both are running totals).
    pub fn since(&self, earlier: &SpanIo) -> SpanIo {
        SpanIo {
            logical_writes: self.logical_writes - earlier.logical_writes,
            physical_reads: self.physical_reads - earlier.physical_reads,
            physical_writes: self.physical_writes - earlier.physical_writes,
            table_updates: self.table_updates - earlier.table_updates,
            flushes: self.flushes - earlier.flushes,
            table_inserts: self.table_inserts - earlier.table_inserts,
            vlun_a_writes: self.vlun_a_writes - earlier.vlun_a_writes,
            image_a_reads: self.image_a_reads - earlier.image_a_reads,
            image_a_writes: self.image_a_writes - earlier.image_a_writes,
        }
    }
}

/// Waits of one cause: how many, their sum and the longest, in ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WaitSum {
    pub count: u64,
    pub ticks_sum: Tick,
    pub ticks_max: Tick,
}

impl WaitSum {
    /// Adds one wait of `ticks` (a zero wait is not counted).
    pub fn add(&mut self, ticks: Tick) {
        if ticks == 0 {
            return;
        }
        self.count += 1;
        self.ticks_sum = self.ticks_sum.saturating_add(ticks);
        self.ticks_max = self.ticks_max.max(ticks);
    }
}

/// Every wait the backup caused the users in one window, by cause.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BackupWaits {
    /// New transactions held at the admission gate (quiesce's gate, the setup window).
    pub gate: WaitSum,
    /// Waits for a type (b) lock held from the split until the old transactions end.
    pub type_b: WaitSum,
    /// Users' device calls queued behind a call of the backup (the split's barriers
    /// and resync, the archive's reads, retire's merge) on a channel, a write slot or
    /// the journal lane (the split's phase-record sync, a merge's syncs): the part of
    /// the call's queueing spent while that backup call held it.
    pub device_queue: WaitSum,
    /// Flush barriers of the engine in the users' calls (a copy-on-write first write's
    /// durable copy, a journal sync of the table), priced at the device's flush and
    /// journal-sync latencies; the application's commit flushes are not counted.
    pub flush: WaitSum,
    /// The backup's share of the users' own calls (beyond the one read or write a
    /// plain volume would do: a copy-on-write first write's copy read and write, a
    /// write-logging slot's write, a mirror's second write, table updates), the call's
    /// own past its flush barriers, and its queueing behind that share of other users'
    /// calls (their flush barriers included): the variant's cost to the users, which
    /// non-disruption does not judge ([`BackupWaits::judged_ticks_max`]).
    pub copy: WaitSum,
    /// The share of the users' waits for an application lock blamed on the backup
    /// through the lock's holders: while the waiter waited, each holder's own
    /// backup-caused waits that ended (every cause here, its device calls' at their
    /// completion, and its own lock waits blamed so, so a chain of waiters passes the
    /// blame on), at most the lock wait's length, a sample per lock wait. A holder slowed
    /// by the backup's copies, flushes or queue holds its locks longer; this is what
    /// that costs the transactions queued behind it. Not judged by non-disruption one
    /// by one: the holder's own waits are ([`BackupWaits::judged_ticks_max`]).
    pub lock_holder: WaitSum,
    /// Attempts refused by a full data area (`backup.on_data_area_full =
    /// "break-guest-write"`): the time from the attempt's arrival to the refusal, lost
    /// (the attempt rolls back and ends aborted; it is not retried).
    pub overflow: WaitSum,
}

impl BackupWaits {
    /// The longest single wait of the causes non-disruption judges one by one (gate,
    /// type (b) lock, device queue, flush barriers), in ticks; the overflow cause is
    /// no wait it judges (scenarios/README.md, "What `non-disruption` judges").
    pub fn judged_ticks_max(&self) -> Tick {
        [self.gate, self.type_b, self.device_queue, self.flush]
            .iter()
            .map(|w| w.ticks_max)
            .max()
            .unwrap_or(0)
    }
}

/// One backup cycle's window figures, beside the whole run's ([`crate::Costs`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WindowCosts {
    /// The window: its first tick and the tick it ended (`None`: open at the run's end).
    pub start_ticks: Tick,
    pub end_ticks: Option<Tick>,
    /// Response time (first arrival → commit) of the transactions that arrived inside
    /// the window, and of those that arrived before it.
    pub response: DelayStats,
    pub response_before: DelayStats,
    /// The response time policy `none` gave, on the same load and seed, to the
    /// committed transactions whose first attempt arrived in this window's span
    /// (`start_ticks` to `end_ticks`, or to the end of `none`'s run when the window
    /// was still open): on an open load the same arrivals with no backup, so
    /// `response` against it is what the backup cost inside its window, free of the
    /// load's own changes over time (which `response_before` is not). On a closed
    /// loop (a trace replayed closed too) arrivals follow responses, so `none`'s span
    /// holds other transactions and the difference is not the backup's cost alone.
    /// `None` when the run had no `none` ([`pair_with_none`] fills it).
    pub response_none: Option<DelayStats>,
    /// The users' I/O inside the window and before it.
    pub io: SpanIo,
    pub io_before: SpanIo,
    /// The waits the backup caused inside the window.
    pub waits: BackupWaits,
}

/// Gives every backup window of `runs` the response `none` had over the same span
/// ([`WindowCosts::response_none`]), from the run of policy `none` among them (its
/// [`RunResult::committed_by_arrival`], which it takes: empty afterwards, its memory
/// freed); changes nothing without one. The runs must
/// share their load and seed (one `owm run`, one sweep point and seed). A transaction
/// counts when its first arrival is at or after the window's start and before its end
/// (the attribution of [`WindowCosts::response`]).
pub fn pair_with_none(runs: &mut [&mut RunResult]) {
    let Some(none) = runs.iter_mut().find(|r| r.policy == Policy::None) else {
        return;
    };
    // Taken, not copied (the memory estimate counts it once); arrival order, for a
    // binary search per window.
    let mut by_arrival = std::mem::take(&mut none.committed_by_arrival);
    by_arrival.sort_unstable();
    for r in runs.iter_mut().filter(|r| r.policy != Policy::None) {
        for c in &mut r.cycles {
            let w = &mut c.window;
            let from = by_arrival.partition_point(|&(a, _)| a < w.start_ticks);
            let to = w.end_ticks.map_or(by_arrival.len(), |end| {
                by_arrival.partition_point(|&(a, _)| a < end)
            });
            let mut s = Samples::default();
            for &(_, response) in &by_arrival[from..to.max(from)] {
                s.push(response);
            }
            w.response_none = Some(s.stats());
        }
    }
}
