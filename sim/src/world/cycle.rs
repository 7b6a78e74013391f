//! Backup cycles on a schedule ([`crate::schedule`]): a request starts a cycle unless
//! the previous one has not retired VLUN A yet (then it is queued); a retired (or given
//! up) cycle starts the next queued request; each cycle's counts are kept apart.

use super::*;
use crate::cost::{CycleResult, Marks};

/// Running totals a cycle's counts are the difference of.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct CycleBase {
    vlun_b_writes_a_live: u64,
    vlun_b_writes_old_active: u64,
    table_updates: u64,
    backup: IoCostSum,
    archive_bytes: u64,
    archive_sent_bytes: u64,
    quiesce_timeouts: u64,
    detach_blocks_copied: u64,
    detach_mirrored_writes: u64,
}

impl CycleBase {
    fn of(t: &Tally) -> Self {
        Self {
            vlun_b_writes_a_live: t.vlun_b_writes_a_live,
            vlun_b_writes_old_active: t.vlun_b_writes_old_active,
            table_updates: t.io.updates + t.backup_io.updates,
            backup: t.backup_io,
            archive_bytes: t.archive_bytes,
            archive_sent_bytes: t.archive_sent_bytes,
            quiesce_timeouts: t.quiesce_timeouts,
            detach_blocks_copied: t.detach_blocks_copied,
            detach_mirrored_writes: t.detach_mirrored_writes,
        }
    }
}

/// The cycle in progress.
#[derive(Debug)]
pub(crate) struct CycleState {
    /// 1-based.
    pub number: u32,
    /// When the schedule asked for it, and when it started (later when it was queued).
    pub asked: Tick,
    pub started: Tick,
    base: CycleBase,
    /// The most extra space the device held from the cycle's start (what a standing
    /// mirror of quiesce or crash-consistent holds already, so also in a cycle given
    /// up before any split) to its end, as [`World::note_extra_space`] takes it.
    pub extra_space_peak: u64,
    /// Quiesce attempts made before this cycle (its retries count from there).
    pub quiesce_attempts_before: u32,
    pub given_up: bool,
    /// Retired before VLUN B was ready (the setup window outlasted the archive): the
    /// cycle ends at VLUN B ready, the retire's completion kept here.
    retired_at: Option<Tick>,
}

impl World<'_> {
    /// A scheduled request fires: start a cycle now, or queue it behind the cycle in
    /// progress.
    pub(super) fn scheduled_request(&mut self) -> Result<(), SimError> {
        let now = self.q.now();
        if self.cycle.is_some() || now < self.cycle_free_at {
            // Queued behind the cycle in progress, or behind the retire whose I/O is
            // still completing.
            self.deferred_requests.push_back(now);
            if self.cycle.is_none() {
                self.q.schedule_at(self.cycle_free_at, Ev::NextCycle);
            }
            return Ok(());
        }
        self.start_cycle(now)
    }

    fn start_cycle(&mut self, asked: Tick) -> Result<(), SimError> {
        let number = self.done_cycles.len() as u32 + 1;
        self.cycle = Some(CycleState {
            number,
            asked,
            started: self.q.now(),
            base: CycleBase::of(&self.tally),
            extra_space_peak: 0,
            quiesce_attempts_before: self.quiesce_attempts,
            given_up: false,
            retired_at: None,
        });
        self.note_extra_space();
        self.open_window();
        self.marks = Marks::default();
        self.open_span(beside::Span::Cycle);
        self.open_span(beside::Span::CopyOfA);
        self.a_consistent_done = false;
        self.a_retired = false;
        self.a_abandoned = false;
        self.request(asked)
    }

    /// Whether the cycle in progress is over but for its end (its backup retired,
    /// dropped or given up before VLUN B was ready or the split's own call completed).
    pub(super) fn cycle_backup_over(&self) -> bool {
        self.cycle.as_ref().is_some_and(|c| c.retired_at.is_some())
    }

    /// Whether the cycle in progress is done with VLUN A: its backup is over
    /// ([`World::cycle_backup_over`]) or the copy to B' that follows its retire or drop
    /// has begun.
    pub(super) fn cycle_copy_of_a_over(&self) -> bool {
        self.cycle_backup_over() || self.marks.detach_start.is_some()
    }

    /// Whether some transaction attempt is in flight (arrived, not yet ended: queued,
    /// running, or backing off to retry).
    pub(super) fn attempts_in_flight(&self) -> bool {
        self.txns.len() > self.free_attempts.len()
    }

    /// The number of the cycle in progress (1-based), 0 when none is: what the backup
    /// events a cycle schedules carry ([`Ev::ArchiveRead`] and the others).
    pub(super) fn cycle_number(&self) -> u32 {
        self.cycle.as_ref().map_or(0, |c| c.number)
    }

    /// Whether `ev` still acts. A backup event acts only in the cycle that scheduled
    /// it: once that cycle has ended, a later cycle's copy, retire or gate is not its
    /// own. The archive's events act only while the cycle's backup stands: once it
    /// is abandoned (VLUN A dropped) or given up, the copy in flight is over, and a
    /// read or a landing of it would copy or retire a VLUN A that is gone or, after
    /// the next split, another cycle's. VLUN B ready and the copy to B' still act
    /// then: the cycle ends when they are done. Any other event acts.
    pub(super) fn backup_event_live(&self, ev: Ev) -> bool {
        let current = self.cycle.as_ref();
        let ours = |cycle: u32| current.is_some_and(|c| c.number == cycle);
        match ev {
            Ev::ArchiveRead { cycle }
            | Ev::ArchiveDone { cycle }
            | Ev::ArchiveRestart { cycle } => {
                ours(cycle) && !self.a_abandoned && !current.is_some_and(|c| c.given_up)
            }
            Ev::BReady { cycle }
            | Ev::SplitDone { cycle }
            | Ev::QuiesceRetry { cycle }
            | Ev::MergeStep { cycle }
            | Ev::RetireDone { cycle }
            | Ev::DetachRead { cycle }
            | Ev::DetachDone { cycle } => ours(cycle),
            _ => true,
        }
    }

    /// The cycle ends (its retire completed at `at`, or it was given up now): its
    /// counts are kept, and the next queued request starts at `at`. Not before VLUN B
    /// is ready nor before the split's own device call completes (a backup abandoned
    /// while it runs: its window holds the waits behind it): until then the end is
    /// kept ([`World::end_cycle_if_retired`]).
    pub(super) fn end_cycle(&mut self, at: Tick) {
        let split = self.marks.split.is_some();
        let b_pending = split && self.marks.vlun_b_ready.is_none();
        let split_pending = split && self.split_call_end > at;
        if let Some(c) = self.cycle.as_mut().filter(|_| b_pending || split_pending) {
            c.retired_at = Some(at);
            return;
        }
        let Some(c) = self.cycle.take() else {
            return;
        };
        self.close_window(at);
        self.done_cycles.push(self.cycle_result(&c));
        self.cycle_free_at = at;
        if !self.deferred_requests.is_empty() {
            self.q.schedule_at(at, Ev::NextCycle);
        }
    }

    /// VLUN B became ready, or the split's own call completed: a cycle that had
    /// already retired (or been abandoned) ends now.
    pub(super) fn end_cycle_if_retired(&mut self) {
        let now = self.q.now();
        if let Some(at) = self.cycle.as_ref().and_then(|c| c.retired_at) {
            self.end_cycle(at.max(now));
        }
    }

    /// The next queued request starts (the previous cycle's retire has completed).
    pub(super) fn next_cycle(&mut self) -> Result<(), SimError> {
        if self.cycle.is_some() {
            return Ok(());
        }
        match self.deferred_requests.pop_front() {
            Some(asked) => self.start_cycle(asked),
            None => Ok(()),
        }
    }

    fn cycle_result(&self, c: &CycleState) -> CycleResult {
        let now = CycleBase::of(&self.tally);
        let b = c.base;
        CycleResult {
            cycle: c.number,
            marks: self.marks.clone(),
            request_deferred_ticks: c.started - c.asked,
            vlun_b_writes_a_live: now.vlun_b_writes_a_live - b.vlun_b_writes_a_live,
            vlun_b_writes_old_active: now.vlun_b_writes_old_active - b.vlun_b_writes_old_active,
            table_updates: now.table_updates - b.table_updates,
            extra_space_blocks_peak: c.extra_space_peak,
            backup_physical_reads: now.backup.reads - b.backup.reads,
            backup_physical_writes: now.backup.writes - b.backup.writes,
            backup_flushes: now.backup.flushes - b.backup.flushes,
            archive_bytes: now.archive_bytes - b.archive_bytes,
            archive_sent_bytes: now.archive_sent_bytes - b.archive_sent_bytes,
            quiesce_attempts: u64::from(self.quiesce_attempts - c.quiesce_attempts_before),
            quiesce_timeouts: now.quiesce_timeouts - b.quiesce_timeouts,
            given_up: c.given_up,
            detach_blocks_copied: now.detach_blocks_copied - b.detach_blocks_copied,
            detach_mirrored_writes: now.detach_mirrored_writes - b.detach_mirrored_writes,
            // Filled at the run's end (responses arrive after the cycle ends).
            window: Default::default(),
        }
    }

    /// Every cycle's result, the one in progress (if any) after the ended ones, and
    /// last a result for each request still queued at the run's end
    /// ([`Marks::not_begun`]: queued behind a backup given up with its VLUN A kept,
    /// which never ends): lost, given up at the run's end, nothing else happened.
    pub(crate) fn cycle_results(&self) -> Vec<CycleResult> {
        let mut all = self.done_cycles.clone();
        if let Some(c) = &self.cycle {
            all.push(self.cycle_result(c));
        }
        let end = self.q.now();
        for &asked in &self.deferred_requests {
            all.push(CycleResult {
                cycle: all.len() as u32 + 1,
                marks: Marks {
                    request: Some(asked),
                    given_up: Some(end),
                    not_begun: true,
                    ..Marks::default()
                },
                request_deferred_ticks: end - asked,
                given_up: true,
                ..CycleResult::default()
            });
        }
        for (i, c) in all.iter_mut().enumerate() {
            c.window = self.window_costs(i);
        }
        all
    }
}
