//! The double-buffered extent pipeline shared by the backup's copies: the archive copy
//! of VLUN A ([`super::archive`]) and the copy of VLUN B to B' ([`super::detach`]).
//!
//! A copy reads one extent through the engine (on the device's channels), then sends
//! it to its target, which accepts extents one after the other at its own bandwidth.
//! The next extent's read may overlap this extent's send, but starts only once the
//! extent before this one has landed: at most two extents are in flight (one being
//! read, one being sent), as a copy with two buffers keeps them.

use super::*;

/// Where a copy's extents stand: the next entry to read and when the target is free.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ExtentCopy {
    /// The first entry not yet read: a block number (a dense copy) or an index into
    /// the list of blocks copied (a hole-aware one).
    pub next: u64,
    /// The entries to copy in all (blocks, or the list's length).
    pub total: u64,
    /// When the target has accepted every extent (and mirrored write) sent so far,
    /// in ticks.
    pub target_free_at: Tick,
}

/// What a copy does after an extent: read the next one, or finish, at a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Read the next extent at this tick (this extent is read and the one before it
    /// has landed).
    Read(Tick),
    /// Every extent was read; the last lands at this tick.
    Done(Tick),
}

impl ExtentCopy {
    /// A copy of `total` entries whose target is free from `from` on.
    pub fn new(total: u64, from: Tick) -> Self {
        ExtentCopy {
            next: 0,
            total,
            target_free_at: from,
        }
    }

    /// The extent of entries `next..until` was read by `read_done`; its send takes
    /// `send_ticks` once both it is read and the target is free. Returns when the next
    /// read starts (once the extent before this one has landed) or, after the last
    /// extent, when that lands.
    pub fn advance(&mut self, until: u64, read_done: Tick, send_ticks: Tick) -> Step {
        let previous_landed = self.target_free_at;
        self.target_free_at = read_done.max(previous_landed) + send_ticks;
        self.next = until;
        if until < self.total {
            Step::Read(read_done.max(previous_landed))
        } else {
            Step::Done(self.target_free_at)
        }
    }

    /// Queues `send_ticks` of other traffic (a mirrored write) on the target at `now`,
    /// behind what it is accepting.
    pub fn queue(&mut self, now: Tick, send_ticks: Tick) {
        self.target_free_at = self.target_free_at.max(now) + send_ticks;
    }
}

impl World<'_> {
    /// Prices one extent's reads (`cost`, issued at `now`) as the backup's own I/O on
    /// the device's channels: when they complete.
    pub(super) fn extent_read(&mut self, now: Tick, cost: &IoCost) -> Tick {
        self.tally.backup_io.add(cost);
        self.backup_call(now, cost)
    }

    /// Schedules what a copy does next: `read` at a [`Step::Read`], `done` at a
    /// [`Step::Done`].
    pub(super) fn schedule_step(&mut self, step: Step, read: Ev, done: Ev) {
        match step {
            Step::Read(at) => self.q.schedule_at(at, read),
            Step::Done(at) => self.q.schedule_at(at, done),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ExtentCopy, Step};

    /// Reads slower than sends: each read starts as soon as the previous one is done
    /// and the extent before it has landed; the last extent lands one send after its
    /// read.
    #[test]
    fn a_read_overlaps_the_previous_send_and_waits_for_the_one_before() {
        let mut c = ExtentCopy::new(3, 0);
        // Extent 0 read by 10, sent 10..15: read extent 1 at 10.
        assert_eq!(c.advance(1, 10, 5), Step::Read(10));
        assert_eq!(c.target_free_at, 15);
        // Extent 1 read by 12 (faster): sent 15..35; the next read waits for extent 0
        // to land (15), not for extent 1 (35).
        assert_eq!(c.advance(2, 12, 20), Step::Read(15));
        assert_eq!(c.target_free_at, 35);
        // Mirrored traffic queues behind the sends in flight.
        c.queue(20, 3);
        assert_eq!(c.target_free_at, 38);
        // The last extent: done when it lands.
        assert_eq!(c.advance(3, 16, 4), Step::Done(42));
        assert_eq!(c.next, 3);
        // An idle target takes mirrored traffic from now.
        c.queue(100, 3);
        assert_eq!(c.target_free_at, 103);
    }
}
