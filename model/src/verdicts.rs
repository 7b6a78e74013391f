//! The verdicts a state carries: which of the oracle's invariants the path to it
//! violates, judged incrementally (only what an action's new events can change), and
//! the `sometimes` witnesses that keep each `always` from holding vacuously.

use engine::Vlun;
use sim::history::{Event, History};
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
    /// whose earlier prefix had the verdicts `before`: the oracle runs only for the
    /// invariants the new events can trip ([`judged_at`]) and not yet violated. Block
    /// reads and writes are not judged here: [`OwmModel::judge_block_read`] and
    /// [`OwmModel::judge_block_write`] judged them as they happened.
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
    /// written through VLUN B and never through A (nor initial). `s.via_a`/`s.via_b`
    /// hold exactly the contents written before this read (an action records its read
    /// before its write). `verdicts_are_incremental` checks the result against the
    /// oracle on every reachable state.
    pub(crate) fn judge_block_read(&self, s: &State, vlun: Vlun, block: u64, digest: u64) -> u8 {
        let key = (block, digest);
        let initial = self.initial_digests[block as usize] == digest;
        let via_a = initial || s.via_a.contains(&key);
        let via_b = s.via_b.contains(&key);
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

    /// The whole history of the path that first reached `s`.
    pub fn history(&self, s: &State) -> History {
        s.history.to_history(self.layout, &self.initial)
    }
}

/// `sometimes`: the split happened while an old and a new transaction were both active.
pub const SPLIT_BOTH_ACTIVE: &str = "split with old and new both active";
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
    ("A-isolated", SPLIT_BOTH_ACTIVE),
    ("B-complete", RUN_ENDED),
    ("no-torn-write", SPLIT_BOTH_ACTIVE),
    ("bank-conserved", RUN_ENDED),
    ("backup-faithful", A_ARCHIVED),
    ("space-reclaimed", A_RETIRED),
];
