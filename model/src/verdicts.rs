//! The verdicts a state carries: which of the oracle's invariants the path to it
//! violates, judged incrementally (only what an action's new events can change), and
//! the `sometimes` witnesses that keep each `always` from holding vacuously.

use engine::Vlun;
use sim::history::{read_record, stamp_of, write_record, Event, History};
use sim::oracle::Invariant;

use crate::events::EventLog;
use crate::protocol::OwmModel;
use crate::state::State;

/// The invariants the model checks: DESIGN.md §4 except non-disruption, which is about
/// time (the simulator measures it; the model has no clock).
pub const INVARIANTS: [Invariant; 7] = [
    Invariant::AConsistent,
    Invariant::AIsolated,
    Invariant::BComplete,
    Invariant::NoTornWrite,
    Invariant::BankConserved,
    Invariant::BackupFaithful,
    Invariant::SpaceReclaimed,
];

/// Bit `i` set when the oracle finds `INVARIANTS[i]` violated on `h`.
pub fn verdicts(h: &History) -> u8 {
    violations(h, u8::MAX)
}

/// The bit of `inv` in [`State::violated`].
pub fn bit(inv: Invariant) -> u8 {
    let i = INVARIANTS
        .iter()
        .position(|&x| x == inv)
        .expect("a modelled invariant");
    1 << i
}

/// The invariants (bits of [`State::violated`]) whose verdict appending `event` to a
/// history can change: those whose oracle function finds a violation *at* an event of
/// this kind. Every oracle function the model uses judges a prefix of the record the
/// same way whatever follows it (it reports the first violating event, and a verdict
/// once reached stays), so after an action only the invariants its new events can
/// trip need the oracle again. `verdicts_are_incremental` in the tests checks this
/// against [`verdicts`] on every reachable state.
pub fn judged_at(event: &Event) -> u8 {
    use Invariant::*;
    let set = |invs: &[Invariant]| invs.iter().fold(0, |m, &i| m | bit(i));
    match event {
        Event::ReadBlock { vlun: Vlun::A, .. } => set(&[AIsolated, NoTornWrite]),
        Event::ReadBlock { .. } => set(&[NoTornWrite]),
        Event::WriteBlock { vlun: Vlun::A, .. } => set(&[AIsolated]),
        Event::AConsistent { .. } => set(&[AConsistent, AIsolated, BankConserved, BackupFaithful]),
        Event::Archive { .. } => set(&[BankConserved, BackupFaithful]),
        Event::Retire { .. } => set(&[SpaceReclaimed, BackupFaithful]),
        Event::End { .. } => set(&[BComplete, BankConserved]),
        _ => 0,
    }
}

/// The invariants among `due` (bits of [`State::violated`]) that the oracle finds
/// violated on `h`.
pub fn violations(h: &History, due: u8) -> u8 {
    INVARIANTS
        .iter()
        .enumerate()
        .filter(|&(i, inv)| due & (1 << i) != 0 && inv.check(h).is_err())
        .fold(0, |m, (i, _)| m | (1 << i))
}

impl OwmModel {
    /// The invariants newly violated on `log`, whose events from `first` on are new and
    /// whose earlier prefix had the verdicts `before`: the oracle runs on the rebuilt
    /// record only for the invariants the new events can trip ([`judged_at`]) and not
    /// yet violated. Block reads and writes are not judged here. The checker does not
    /// rebuild the record: `apply` judges every event from the state as it happens
    /// (`OwmModel::judge_block_read`, `OwmModel::judge_block_write`, and at the
    /// milestones `judge_a_consistent`, `judge_archive`, `judge_retire`, `judge_end`),
    /// which this whole-record judgment checks in the tests.
    pub fn judge(&self, log: &EventLog, first: usize, before: u8) -> u8 {
        let mut due = 0;
        log.for_each_since(first, |e| {
            if !matches!(e, Event::ReadBlock { .. } | Event::WriteBlock { .. }) {
                due |= judged_at(e);
            }
        });
        due &= !before;
        if due == 0 {
            return 0;
        }
        log.judge(self.layout, &self.initial, |h| violations(h, due))
    }

    /// The verdicts of a block read about to be recorded on `s`'s path (content
    /// `digest` of `block` through `vlun`), judged from what the state already keeps
    /// instead of the whole record: the oracle's `no_torn_write` fails at a read whose
    /// content is neither the block's initial content nor any content written to it
    /// through either VLUN, and `a_isolated` at a read through VLUN A of content
    /// written through VLUN B and never through A (nor initial). `s.written` holds
    /// exactly the contents written before this read (an action records its read
    /// before its write). `verdicts_are_incremental` checks the result against the
    /// oracle on every reachable state.
    pub(crate) fn judge_block_read(&self, s: &State, vlun: Vlun, block: u64, digest: u64) -> u8 {
        let key = (block, digest);
        let initial = self.initial_digests[block as usize] == digest;
        let (via_a, via_b) = s.written_via(key.0, key.1);
        let via_a = initial || via_a;
        let mut out = 0;
        if !via_a && !via_b {
            out |= bit(Invariant::NoTornWrite);
        }
        if vlun == Vlun::A && via_b && !via_a {
            out |= bit(Invariant::AIsolated);
        }
        out
    }

    /// The verdict of a block write by transaction `txn` through `vlun`: the oracle's
    /// `a_isolated` fails at a write through VLUN A by a transaction that began after
    /// the split (a new one); no other invariant is judged at a write.
    pub(crate) fn judge_block_write(&self, txn: usize, vlun: Vlun) -> u8 {
        if vlun == Vlun::A && self.programs[txn].role == crate::program::Role::New {
            bit(Invariant::AIsolated)
        } else {
            0
        }
    }

    /// The verdicts of VLUN A declared consistent holding `image` on `s`'s path, judged
    /// from the state instead of the rebuilt record. The oracle judges at that event:
    /// `a_consistent` (the committed old transactions replayed in commit order from
    /// their recorded reads must give `image`, and each writer's reads must agree with
    /// that order), `a_isolated` (no block of `image` holds content written through
    /// VLUN B and never through A or initially), `bank_conserved` (the image's
    /// balances sum to the initial total); `backup_faithful` cannot fail there. The
    /// model has one backup cycle and no unreadable blocks, which the oracle's
    /// per-cycle and per-block exceptions are about. `verdicts_are_incremental` checks
    /// the result against the oracle on every reachable state.
    pub(crate) fn judge_a_consistent(&self, s: &State, image: &[u8]) -> u8 {
        let mut out = 0;
        let old = |t: usize| self.programs[t].role == crate::program::Role::Old;
        if self.replay(s, old).as_deref() != Some(image) {
            out |= bit(Invariant::AConsistent);
        }
        let leaked = image
            .chunks(self.layout.block_size)
            .enumerate()
            .any(|(b, chunk)| {
                let key = (b as u64, sim::history::block_digest(chunk));
                let initial = self.initial_digests[b] == key.1;
                let (via_a, via_b) = s.written_via(key.0, key.1);
                via_b && !initial && !via_a
            });
        if leaked {
            out |= bit(Invariant::AIsolated);
        }
        out | self.judge_sum(image)
    }

    /// The verdicts of VLUN A archived as `tape` on `s`'s path (`s.declared` is the
    /// image declared consistent before it): `backup_faithful` fails when no image was
    /// declared or the archive differs from it, `bank_conserved` when its balances do
    /// not sum to the initial total.
    pub(crate) fn judge_archive(&self, s: &State, tape: &[u8]) -> u8 {
        let mut out = self.judge_sum(tape);
        if s.declared.as_deref().map(Vec::as_slice) != Some(tape) {
            out |= bit(Invariant::BackupFaithful);
        }
        out
    }

    /// The verdicts of VLUN A retired with `extra_space_blocks` still held:
    /// `space_reclaimed` fails unless it is 0. (`backup_faithful` fails at a retire with
    /// no archive in its cycle, which the model never does: `RetireA` is enabled only
    /// once `BackupA` has archived VLUN A.)
    pub(crate) fn judge_retire(&self, extra_space_blocks: u64) -> u8 {
        if extra_space_blocks == 0 {
            0
        } else {
            bit(Invariant::SpaceReclaimed)
        }
    }

    /// The verdicts of the run ending with VLUN B holding `live` on `s`'s path:
    /// `b_complete` (every committed transaction replayed in commit order, each
    /// writer's reads agreeing with that order, gives `live`) and `bank_conserved`.
    pub(crate) fn judge_end(&self, s: &State, live: &[u8]) -> u8 {
        let mut out = self.judge_sum(live);
        if self.replay(s, |_| true).as_deref() != Some(live) {
            out |= bit(Invariant::BComplete);
        }
        out
    }

    /// `bank_conserved`'s verdict on one image claimed consistent.
    fn judge_sum(&self, image: &[u8]) -> u8 {
        let l = self.layout;
        let sum = (0..l.records())
            .map(|r| read_record(&image[l.offset_in_image(r)..]).0)
            .fold(0i64, i64::wrapping_add);
        if sum == self.initial_sum() {
            0
        } else {
            bit(Invariant::BankConserved)
        }
    }

    /// The oracle's replay on the state: the initial image with the committed
    /// transactions that `include` selects applied in commit order, or `None` when a
    /// writing transaction's recorded read disagrees with that order. A program reads
    /// both its records before it writes either, so each read is compared with the
    /// replayed image, and each written record gets the value the write computed from
    /// that read.
    fn replay(&self, s: &State, include: impl Fn(usize) -> bool) -> Option<Vec<u8>> {
        let l = self.layout;
        let mut image = self.initial.clone();
        for &t in s.commits.as_slice() {
            let t = usize::from(t);
            let ts = &s.txns[t];
            if !include(t) || ts.written == 0 {
                continue;
            }
            let p = &self.programs[t];
            let records = p.records();
            for (pos, &record) in records.iter().enumerate() {
                if let Some((value, _)) = ts.read(pos) {
                    let off = l.offset_in_image(record);
                    if read_record(&image[off..]).0 != value {
                        return None;
                    }
                }
            }
            for (pos, &record) in records.iter().enumerate() {
                if ts.written & (1 << pos) == 0 {
                    continue;
                }
                let (old, _) = ts.read(pos)?;
                let value = if record == p.from {
                    old - p.amount
                } else {
                    old + p.amount
                };
                let off = l.offset_in_image(record);
                write_record(&mut image[off..], value, stamp_of(t as u32));
            }
        }
        Some(image)
    }

    /// The whole history of the path that first reached `s`.
    pub fn history(&self, s: &State) -> History {
        s.history.to_history(self.layout, &self.initial)
    }
}

/// `sometimes`: the split happened while an old and a new transaction were both active.
pub const SPLIT_BOTH_ACTIVE: &str = "split with old and new both active";
/// `sometimes`: a NEW transaction's write was applied (through VLUN B) while VLUN A
/// was still live (split or backed up, not retired): what A-isolated judges. Only
/// beginning is not enough: under block locks a NEW transaction may wait for the OLD
/// ones' locks until after the retire.
pub const NEW_WRITE_A_LIVE: &str = "a NEW write while VLUN A was live";
/// `sometimes`: VLUN A was declared consistent.
pub const A_CONSISTENT_REACHED: &str = "A became consistent";
/// `sometimes`: VLUN A was archived.
pub const A_ARCHIVED: &str = "A archived";
/// `sometimes`: VLUN A was retired.
pub const A_RETIRED: &str = "A retired";
/// `sometimes`: the run ended with every transaction ended.
pub const RUN_ENDED: &str = "run ended";

/// Each `always` property and the `sometimes` property that shows its subject is
/// reached (so it cannot hold vacuously).
pub const PARTNERS: [(&str, &str); 7] = [
    ("A-consistent", A_CONSISTENT_REACHED),
    ("A-isolated", NEW_WRITE_A_LIVE),
    ("B-complete", RUN_ENDED),
    ("no-torn-write", SPLIT_BOTH_ACTIVE),
    ("bank-conserved", RUN_ENDED),
    ("backup-faithful", A_ARCHIVED),
    ("space-reclaimed", A_RETIRED),
];

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sim::history::{block_digest, write_record};
    use stateright::Model;

    use super::*;
    use crate::CheckConfig;

    /// The milestone judgments fail where the oracle does: on images that are not the
    /// replayed one, that sum wrong, that leak VLUN B content, on an archive unlike the
    /// declared image and on a retire that keeps space (reachable states of the model
    /// never break A-consistent, backup-faithful or space-reclaimed, so
    /// `verdicts_are_incremental` sees them hold only).
    #[test]
    fn milestone_judgments_can_fail() {
        let m = OwmModel::new(&CheckConfig::default());
        let s = m.init_states().pop().expect("one initial state");
        assert_eq!(m.judge_a_consistent(&s, &m.initial), 0);
        assert_eq!(m.judge_end(&s, &m.initial), 0);
        assert_eq!(m.judge_retire(0), 0);

        // Record 0 changed as if by a transaction that never committed.
        let mut changed = m.initial.clone();
        write_record(&mut changed, 99, 1);
        let both = bit(Invariant::AConsistent) | bit(Invariant::BankConserved);
        assert_eq!(m.judge_a_consistent(&s, &changed), both);
        assert_eq!(
            m.judge_end(&s, &changed),
            bit(Invariant::BComplete) | bit(Invariant::BankConserved)
        );

        // A block content written only through VLUN B, in the image declared for A.
        let mut leaky = s.clone();
        let block0 = &changed[..m.layout.block_size];
        leaky.wrote(Vlun::B, 0, block_digest(block0));
        assert_eq!(
            m.judge_a_consistent(&leaky, &changed),
            both | bit(Invariant::AIsolated)
        );
        leaky.wrote(Vlun::A, 0, block_digest(block0));
        assert_eq!(m.judge_a_consistent(&leaky, &changed), both);

        // The archive against the declared image.
        let mut declared = s.clone();
        assert_eq!(
            m.judge_archive(&declared, &m.initial),
            bit(Invariant::BackupFaithful)
        );
        declared.declared = Some(Arc::new(m.initial.clone()));
        assert_eq!(m.judge_archive(&declared, &m.initial), 0);
        let mut other = m.initial.clone();
        other.swap(0, 1);
        assert_ne!(
            m.judge_archive(&declared, &other) & bit(Invariant::BackupFaithful),
            0
        );
        assert_eq!(m.judge_retire(1), bit(Invariant::SpaceReclaimed));
    }
}
