//! Which spans of a backup cycle ran beside a transaction ([`crate::Marks::beside_txn`],
//! [`crate::Marks::beside_txn_b_prime`], [`crate::Marks::beside_txn_waits`]), decided
//! by ticks alone. ([`crate::Marks::beside_txn_new`] is set by a NEW attempt's write
//! itself, `World::write_step`.)
//!
//! The rule: an attempt runs beside a span `[start, end]` when it overlaps it for a
//! positive time: it arrived at a tick before `end` and ended at a tick after
//! `start`. The events of one tick fire in some order, but the rule does not read it:
//! it is applied once each tick is over ([`World::tick_over`]), when the attempts in
//! flight are those that arrived at or before the tick and end after it. Such an
//! attempt is beside every span open then, each of which opened at or before the tick
//! and ends after it. Two cases are left, both decided at the tick's end too: an
//! attempt that arrived and ended within the tick is beside the spans open then that
//! opened before it; a span that opened and closed within the tick has beside it the
//! attempts that arrived before the tick and are still in flight after it.

use super::*;

/// A span of a cycle that the marks say whether a transaction ran beside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Span {
    /// The cycle, from its start to its end ([`crate::Marks::beside_txn_waits`]).
    Cycle,
    /// The copy of VLUN A, from when it was asked for (the cycle's start, a quiesce
    /// retry) until it is over ([`crate::Marks::beside_txn`]).
    CopyOfA,
    /// The copy of VLUN B to B' ([`crate::Marks::beside_txn_b_prime`]).
    CopyToBPrime,
}

/// What [`World::tick_over`] needs of the tick in progress and the cycle's spans.
#[derive(Debug, Default)]
pub(super) struct Beside {
    /// When the cycle in progress started, and when its copy of VLUN A was last asked
    /// for, in ticks.
    cycle_from: Tick,
    copy_from: Tick,
    /// The spans opened in the tick in progress, with their cycle's number.
    opened: Vec<(Span, u32)>,
    /// The tick in which an attempt last arrived and ended.
    point_at: Option<Tick>,
}

impl World<'_> {
    /// `span` of the cycle in progress opens now: what ran beside it is decided from
    /// here, the marks of any earlier span of its kind in this cycle dropped (a quiesce
    /// retry asks for a copy the missed attempt never made).
    pub(super) fn open_span(&mut self, span: Span) {
        let now = self.q.now();
        match span {
            Span::Cycle => {
                self.beside.cycle_from = now;
                self.marks.beside_txn_waits = false;
            }
            Span::CopyOfA => {
                self.beside.copy_from = now;
                self.marks.beside_txn = false;
                self.marks.beside_txn_new = false;
            }
            Span::CopyToBPrime => self.marks.beside_txn_b_prime = false,
        }
        let number = self.cycle_number();
        self.beside.opened.push((span, number));
    }

    /// Attempt `att` ends now: noted when it arrived in this very tick, for
    /// [`World::tick_over`].
    pub(super) fn attempt_ends_beside(&mut self, att: Attempt) {
        let now = self.q.now();
        if self.txns[att as usize].arrived == now {
            self.beside.point_at = Some(now);
        }
    }

    /// Whether `span` of cycle `number` is still open.
    fn span_open(&self, span: Span, number: u32) -> bool {
        self.cycle_number() == number
            && match span {
                Span::Cycle => true,
                Span::CopyOfA => !self.cycle_copy_of_a_over(),
                Span::CopyToBPrime => self.detach_copy.is_some(),
            }
    }

    /// The tick now current is over (the next event is at a later tick, or none is
    /// left): the spans open now, and those that opened and closed within it, are
    /// marked with the attempts beside them by the rule of the module's docs.
    pub(super) fn tick_over(&mut self) {
        let now = self.q.now();
        let opened = std::mem::take(&mut self.beside.opened);
        let point = self.beside.point_at.take() == Some(now);
        if self.cycle.is_some() {
            let busy = self.attempts_in_flight();
            let copy_open = !self.cycle_copy_of_a_over();
            let b_prime_open = self.detach_copy.is_some();
            let (cycle_from, copy_from) = (self.beside.cycle_from, self.beside.copy_from);
            let m = &mut self.marks;
            m.beside_txn_waits |= busy || point && cycle_from < now;
            m.beside_txn |= copy_open && (busy || point && copy_from < now);
            m.beside_txn_b_prime |=
                b_prime_open && (busy || point && m.detach_start.is_some_and(|s| s < now));
        }
        // A span one tick long: beside it, the attempts that straddle the tick.
        let mut straddle = None;
        for (span, number) in opened {
            if self.span_open(span, number) {
                continue;
            }
            let beside = *straddle.get_or_insert_with(|| {
                self.txns
                    .iter()
                    .any(|t| t.stage != Stage::Done && t.arrived < now)
            });
            if !beside {
                return;
            }
            let marks = if self.cycle_number() == number {
                Some(&mut self.marks)
            } else {
                self.done_cycles
                    .iter_mut()
                    .find(|c| c.cycle == number)
                    .map(|c| &mut c.marks)
            };
            if let Some(m) = marks {
                match span {
                    Span::Cycle => m.beside_txn_waits = true,
                    Span::CopyOfA => m.beside_txn = true,
                    Span::CopyToBPrime => m.beside_txn_b_prime = true,
                }
            }
        }
    }
}
