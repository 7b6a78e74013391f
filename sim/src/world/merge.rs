//! Retire's own I/O on the device, call by call: write logging's merge of its log into
//! image A (at a retire, or at an abandoned backup's drop of VLUN A) reads a logged
//! block and writes it to image A, block by block, as the engine issues it
//! (scenarios/README.md, "the engine's other multi-block calls"). Each block is its own
//! device call, issued when the one before it completes, so the users' calls interleave
//! with the merge as they do with a background merge of a real snapshot (dm-snapshot's
//! merge copies chunk by chunk through kcopyd); priced as one call holding a channel
//! and the write slot for the whole log, it stalled every user write behind it. The
//! barriers (flushes, the journal's record of the dropped table) complete the last call.

use super::*;

/// The merge's calls still to issue.
#[derive(Debug, Clone, Copy)]
pub(super) struct MergeCalls {
    left: IoCost,
}

impl MergeCalls {
    pub(super) fn of(cost: &IoCost) -> Self {
        MergeCalls { left: *cost }
    }

    /// The next call: one block read and one block write of what is left (image A's
    /// first), one table lookup; the last call takes everything else (the barriers,
    /// the table's entries dropped). `None` once the last call was taken.
    fn next(&mut self) -> Option<IoCost> {
        let l = &mut self.left;
        if *l == IoCost::default() {
            return None;
        }
        if l.total_reads() <= 1 && l.total_writes() <= 1 {
            return Some(std::mem::take(l));
        }
        let mut call = IoCost::default();
        let take = |from: &mut u32, to: &mut u32| {
            if *from > 0 {
                *from -= 1;
                *to += 1;
                true
            } else {
                false
            }
        };
        let _ = take(&mut l.reads_a, &mut call.reads_a) || take(&mut l.reads_b, &mut call.reads_b);
        let _ =
            take(&mut l.writes_a, &mut call.writes_a) || take(&mut l.writes_b, &mut call.writes_b);
        take(&mut l.table_lookups, &mut call.table_lookups);
        Some(call)
    }
}

impl World<'_> {
    /// Issues the merge's next call at `now`; once the last has completed, VLUN A's
    /// retire (or drop) is marked then and the cycle ends ([`Ev::RetireDone`]).
    pub(super) fn merge_step(&mut self, now: Tick) {
        let Some(mut calls) = self.merge.take() else {
            return;
        };
        let call = calls.next().unwrap_or_default();
        let done = self.backup_call(now, &call);
        if calls.left != IoCost::default() {
            self.merge = Some(calls);
            let cycle = self.cycle_number();
            self.q.schedule_at(done, Ev::MergeStep { cycle });
            return;
        }
        if self.a_abandoned {
            // Dropped with no archive: not a retire.
            self.marks.a_dropped = Some(done);
        } else {
            self.marks.retire = Some(done);
        }
        if done > now {
            let cycle = self.cycle_number();
            self.q.schedule_at(done, Ev::RetireDone { cycle });
        } else {
            self.retired_then_detach(done);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The calls add up to the merge's whole cost, each moves at most one block each
    /// way, and the barriers and dropped entries come with the last.
    #[test]
    fn the_calls_add_up_to_the_merge() {
        for (reads_a, reads_b, writes_a, writes_b) in [
            (0, 0, 0, 0),
            (0, 5, 5, 0),
            (3, 7, 9, 1),
            (1, 0, 0, 1),
            (0, 1, 1, 0),
        ] {
            let whole = IoCost {
                table_lookups: 4,
                reads_a,
                writes_a,
                reads_b,
                writes_b,
                table_inserts: 0,
                table_removes: 6,
                flushes: 2,
                journal_syncs: 1,
            };
            let mut calls = MergeCalls::of(&whole);
            let mut sum = IoCost::default();
            let mut n = 0;
            while let Some(c) = calls.next() {
                n += 1;
                let last = calls.left == IoCost::default();
                assert!(c.total_reads() <= 1 && c.total_writes() <= 1, "{c:?}");
                assert!(last || (c.flushes == 0 && c.table_removes == 0), "{c:?}");
                sum.add(c);
            }
            assert_eq!(sum, whole);
            let blocks = (reads_a + reads_b).max(writes_a + writes_b).max(1);
            assert_eq!(n, blocks, "{whole:?}");
        }
    }
}
