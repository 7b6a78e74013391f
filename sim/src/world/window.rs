//! The backup window's figures ([`crate::window`]) and the extra-space series
//! ([`crate::space_series`]), gathered as the run goes.

use super::*;
use crate::cost::Samples;
use crate::space_series::SpacePoint;
use crate::window::{BackupWaits, SpanIo, WindowCosts};

/// One cycle's window as it is gathered.
#[derive(Debug, Default)]
pub(crate) struct WindowAcc {
    start: Tick,
    end: Option<Tick>,
    /// Responses of the transactions that arrived inside the window / before it.
    inside: Samples,
    before: Samples,
    io_at_start: SpanIo,
    io_at_end: Option<SpanIo>,
    io_before: SpanIo,
    waits: BackupWaits,
}

/// The windows of the run and what is not yet assigned to one.
#[derive(Debug, Default)]
pub(crate) struct Windows {
    all: Vec<WindowAcc>,
    /// Responses of transactions that arrived after the last window ended: the "before"
    /// of the next cycle, if one starts.
    pending_before: Samples,
    /// The users' I/O totals when the last window ended.
    io_at_last_end: SpanIo,
    /// Extra space over time (when the timeline is kept), and the last value recorded.
    pub(crate) space: crate::space_series::SpaceSeries,
    last_space: Option<(u64, u64, u64)>,
}

impl World<'_> {
    /// The users' I/O so far (running totals).
    fn span_io(&self) -> SpanIo {
        let t = &self.tally;
        SpanIo {
            logical_writes: t.logical_writes,
            physical_reads: t.io.reads,
            physical_writes: t.io.writes,
            table_updates: t.io.updates,
            flushes: t.io.flushes,
            table_inserts: t.io.inserts,
            vlun_a_writes: t.vlun_a_writes,
            image_a_reads: t.io.image_a_reads,
            image_a_writes: t.io.image_a_writes,
        }
    }

    /// A cycle starts now: its window opens.
    pub(super) fn open_window(&mut self) {
        let io = self.span_io();
        let w = &mut self.windows;
        let before = std::mem::take(&mut w.pending_before);
        w.all.push(WindowAcc {
            start: self.q.now(),
            io_at_start: io,
            io_before: io.since(&w.io_at_last_end),
            before,
            ..WindowAcc::default()
        });
    }

    /// The cycle in progress ends at `at` (its retire's completion, or now).
    pub(super) fn close_window(&mut self, at: Tick) {
        let io = self.span_io();
        let w = &mut self.windows;
        if let Some(acc) = w.all.last_mut().filter(|a| a.end.is_none()) {
            acc.end = Some(at);
            acc.io_at_end = Some(io);
            w.io_at_last_end = io;
        }
    }

    /// The waits of the window open now (none when no cycle is in progress).
    pub(super) fn window_waits(&mut self) -> Option<&mut BackupWaits> {
        self.windows
            .all
            .last_mut()
            .filter(|a| a.end.is_none())
            .map(|a| &mut a.waits)
    }

    /// The waits of the window that was open at `since`: where a wait the cycle itself
    /// imposed (its admission gate, its type (b) locks) that began then is counted,
    /// even when it ends after the window closed (a gate reopened at VLUN B ready,
    /// after a retire that came sooner). None when no window was open at `since`.
    pub(super) fn window_waits_at(&mut self, since: Tick) -> Option<&mut BackupWaits> {
        let all = &mut self.windows.all;
        let k = all.partition_point(|a| a.start <= since);
        let a = all.get_mut(k.checked_sub(1)?)?;
        a.end.is_none_or(|end| since < end).then_some(&mut a.waits)
    }

    /// A committed transaction whose first attempt arrived at `arrived` took
    /// `response` ticks: counted in the window it arrived in, or before the next one.
    pub(super) fn note_response(&mut self, arrived: Tick, response: Tick) {
        let w = &mut self.windows;
        // The last window that started at or before the arrival.
        let k = w.all.partition_point(|a| a.start <= arrived);
        if k == 0 {
            match w.all.first_mut() {
                Some(first) => first.before.push(response),
                None => w.pending_before.push(response),
            }
            return;
        }
        let inside = w.all[k - 1].end.is_none_or(|end| arrived < end);
        if inside {
            w.all[k - 1].inside.push(response);
        } else if let Some(next) = w.all.get_mut(k) {
            next.before.push(response);
        } else {
            w.pending_before.push(response);
        }
    }

    /// Attempt `att`'s device call of `cost`, queued `behind_backup` ticks behind a
    /// backup call and spending `copy` ticks on the backup's share of users' calls
    /// (queued behind other users' and in its own): its backup-caused waits, in the
    /// window open now and, but for `copy` (a cost of the variant, which
    /// non-disruption does not judge), in the attempt's longest one.
    /// `commit_barrier`: the call is the application's commit flush (not the backup's
    /// doing).
    pub(super) fn note_user_call(
        &mut self,
        att: Attempt,
        cost: &IoCost,
        behind_backup: Tick,
        copy: Tick,
        commit_barrier: bool,
    ) {
        let flush = if commit_barrier {
            0
        } else {
            self.device_model.flush_ticks(cost)
        };
        let pending = match self.window_waits() {
            Some(w) => {
                w.device_queue.add(behind_backup);
                w.flush.add(flush);
                w.copy.add(copy);
                let t = &mut self.txns[att as usize];
                t.backup_wait_max = t.backup_wait_max.max(behind_backup).max(flush);
                behind_backup.saturating_add(flush).saturating_add(copy)
            }
            None => 0,
        };
        // Ended when the call completes: a wait for a lock this attempt holds is blamed
        // for it from then ([`World::io_done`]).
        self.txns[att as usize].backup_delay_pending_ticks = pending;
        if cost.table_updates() > 0 {
            self.note_extra_space();
        }
    }

    /// Takes the device's extra space now, after a call that may have changed it: the
    /// one path every change goes through, feeding both the cycle in progress's peak
    /// (`cycle_extra_space_blocks_peak`) and, when the timeline is kept, the series
    /// (`extra_space.csv`, a point when the value changed), so the cycle's peak is the
    /// series' highest value over the cycle's span.
    pub(super) fn note_extra_space(&mut self) {
        let s = self.dev.space_in_use();
        // Image A kept after a retire under mirroring is space held as well: the next
        // split's resync copies only the blocks VLUN B wrote since; and so is the data
        // area a retire's merge still holds. Image A is kept once the retire's own
        // I/O has completed (VLUN A's until then).
        let kept = if self.retiring {
            0
        } else {
            s.kept_image_blocks
        };
        let now = (
            s.extra_space_blocks + s.kept_image_blocks + self.retiring_blocks,
            s.data_area_blocks + self.retiring_blocks,
            kept,
        );
        if let Some(c) = self.cycle.as_mut() {
            c.extra_space_peak = c.extra_space_peak.max(now.0);
        }
        if !self.scenario.keep_timeline || self.windows.last_space == Some(now) {
            return;
        }
        self.windows.last_space = Some(now);
        self.windows.space.push(SpacePoint {
            time_ticks: self.q.now(),
            extra_space_blocks: now.0,
            data_area_used_blocks: now.1,
            kept_image_blocks: now.2,
        });
    }

    /// Cycle `i`'s (0-based) window figures as they stand.
    pub(super) fn window_costs(&self, i: usize) -> WindowCosts {
        let Some(a) = self.windows.all.get(i) else {
            return WindowCosts::default();
        };
        let now_io = a.io_at_end.unwrap_or_else(|| self.span_io());
        let stats = |xs: &Samples| xs.clone().stats();
        WindowCosts {
            start_ticks: a.start,
            end_ticks: a.end,
            response: stats(&a.inside),
            response_before: stats(&a.before),
            response_none: None,
            io: now_io.since(&a.io_at_start),
            io_before: a.io_before,
            waits: a.waits,
        }
    }
}
