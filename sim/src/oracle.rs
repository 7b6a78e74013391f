//! The invariants of DESIGN.md §4, each one pure function over a history.
//!
//! The simulator's oracle and the model checker's properties call these same
//! functions. Each returns the first violation it finds, naming the invariant and the
//! index of the last event of the smallest prefix of the record that shows it (for
//! the end-state invariants that is the event carrying the image that is wrong).
//! Each is defined once, as a fold over the events ([`crate::judge::Judge`]): a whole
//! history is judged by feeding it through one, and the simulator judges its run as it
//! goes, with no record kept.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::history::{read_record, History, Image, Initial, Layout, TxnId};
use crate::judge::Judge;

/// The invariants, named once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Invariant {
    AConsistent,
    AIsolated,
    BComplete,
    NoTornWrite,
    BankConserved,
    NonDisruption,
    BackupFaithful,
    SpaceReclaimed,
    BPrimeFaithful,
}

impl Invariant {
    /// Every invariant, in DESIGN.md order.
    pub const ALL: [Invariant; 9] = [
        Invariant::AConsistent,
        Invariant::AIsolated,
        Invariant::BComplete,
        Invariant::NoTornWrite,
        Invariant::BankConserved,
        Invariant::NonDisruption,
        Invariant::BackupFaithful,
        Invariant::SpaceReclaimed,
        Invariant::BPrimeFaithful,
    ];

    /// The name used in code, reports and CI output.
    pub fn as_str(self) -> &'static str {
        match self {
            Invariant::AConsistent => "A-consistent",
            Invariant::AIsolated => "A-isolated",
            Invariant::BComplete => "B-complete",
            Invariant::NoTornWrite => "no-torn-write",
            Invariant::BankConserved => "bank-conserved",
            Invariant::NonDisruption => "non-disruption",
            Invariant::BackupFaithful => "backup-faithful",
            Invariant::SpaceReclaimed => "space-reclaimed",
            Invariant::BPrimeFaithful => "b-prime-faithful",
        }
    }

    /// The check for this invariant: `h` fed through a [`Judge`] of it alone. `Err`
    /// holds its first violation that counts for a claim or, when there is none, the
    /// first about the copy of a lost backup cycle ([`Violation::lost_cycle`]).
    pub fn check(self, h: &History) -> Result<(), Violation> {
        let mut judge = Judge::of(h, Some(self));
        for s in &h.events {
            judge.push(&s.event);
        }
        // The first that counts for a claim, else one about a lost cycle's copy.
        match judge.finish().into_iter().next() {
            Some(v) => Err(v),
            None => Ok(()),
        }
    }
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A broken invariant: which, where, and why.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Violation {
    pub invariant: Invariant,
    /// Index of the last event of the smallest prefix of `History::events` that shows
    /// the violation (prefix length = `event_index + 1`).
    pub event_index: usize,
    /// What is wrong, in words (transactions, records, values).
    pub detail: String,
    /// The transaction attempts involved (for a trace: `History::involving`).
    pub txns: Vec<TxnId>,
    /// Found about the copy of a backup cycle that was lost (abandoned, or given up
    /// while its VLUN A was live) in a way that drops `invariant`
    /// ([`crate::LostBackup::drops`]): an observation of that cycle, never what the
    /// run's claim is judged on (the run's other cycles' copies are;
    /// [`crate::RunResult::claims`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lost_cycle: bool,
    /// The backup cycle (numbered as the run's cycles are, from 1) whose copy it was
    /// found about, in a run of several cycles: the cycle its `detail` names
    /// (`cycle 2: …`). `None` in a run of one cycle, and for a violation about no one
    /// cycle's copy (the live volume at the end). A cycle's row in `summary.csv` shows
    /// a violation of its own cycle or an earlier one's (the search for a violation
    /// stops at the first: the cycles after it were not judged on that invariant),
    /// never a later one's (the search passed this cycle's copy, judging it clean)
    /// ([`crate::RunResult::cycle_judgements`]).
    #[serde(skip)]
    pub cycle: Option<u32>,
    /// A non-disruption violation that is a user's write the backup's full data area
    /// refused (`break-guest-write`: the attempt aborted), not a wait. Every policy
    /// that backs up claims that none happens, quiesce too, whose waits for the
    /// backup are measured, not claimed ([`crate::RunResult::claims`]). The judge
    /// goes on looking for one past a first wait, so a run can hold two
    /// non-disruption violations: its first wait, then its first refused write.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub write_refused: bool,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} violated (smallest prefix: events 0..={}): {}",
            self.invariant, self.event_index, self.detail
        )
    }
}

/// Every invariant that fails, in [`Invariant::ALL`] order (one pass over `h`).
pub fn check_all(h: &History) -> Vec<Violation> {
    let mut judge = Judge::of(h, None);
    for s in &h.events {
        judge.push(&s.event);
    }
    judge.finish()
}

/// The transaction that wrote a stamp (none for the initial content).
pub fn writer_txn(stamp: u64) -> Option<TxnId> {
    stamp.checked_sub(1).map(|t| t as TxnId)
}

/// Items a message lists at most ([`list_text`]); the rest are counted.
pub const LISTED_MAX: usize = 10;

/// A list of ids (or times) in a message, comma-separated: every item when there are
/// at most [`LISTED_MAX`], else the first [`LISTED_MAX`] then `… and N more`, so a
/// message about thousands of transactions stays one short line that still gives the
/// count (`1056, 1107, …, 1520, … and 1990 more`).
pub fn list_text<T: fmt::Display>(items: &[T]) -> String {
    list_text_max(items, LISTED_MAX)
}

/// [`list_text`] with `max` items listed at most: the first `max`, then `… and N more`.
pub fn list_text_max<T: fmt::Display>(items: &[T], max: usize) -> String {
    let mut out: Vec<String> = items.iter().take(max).map(|i| i.to_string()).collect();
    if items.len() > max {
        out.push(format!("… and {} more", items.len() - max));
    }
    out.join(", ")
}

/// Who wrote a stamp, in words.
pub fn writer(stamp: u64) -> String {
    if stamp == 0 {
        "the initial image".to_string()
    } else {
        format!("txn {}", stamp - 1)
    }
}

/// The first record where two images differ, in words, and the writers involved;
/// records of the blocks in `unreadable` are not compared.
pub fn diff_images(
    l: &Layout,
    initial: &Initial,
    expected: &Image,
    actual: &Image,
    unreadable: &BTreeSet<u64>,
) -> Option<(String, Vec<TxnId>)> {
    if expected.len_bytes() != actual.len_bytes() {
        return Some((
            format!(
                "image is {} bytes, expected {}",
                actual.len_bytes(),
                expected.len_bytes()
            ),
            Vec::new(),
        ));
    }
    if expected == actual {
        return None;
    }
    // Outside the blocks either image holds, both hold the initial content.
    let (mut eb, mut ab) = (vec![0u8; l.block_size], vec![0u8; l.block_size]);
    let mut differs = false;
    for b in expected.touched_with(actual) {
        if unreadable.contains(&b) || b >= l.volume_blocks {
            continue;
        }
        expected.block_into(l, initial, b, &mut eb);
        actual.block_into(l, initial, b, &mut ab);
        differs |= eb != ab;
        for i in 0..l.records_per_block() {
            let r = b * l.records_per_block() + i;
            let off = l.offset_in_block(r);
            let e = &eb[off..off + l.record_size];
            let a = &ab[off..off + l.record_size];
            if e != a {
                let (ev, es) = read_record(e);
                let (av, as_) = read_record(a);
                let who = writer_txn(es).into_iter().chain(writer_txn(as_)).collect();
                return Some((
                    format!(
                        "record {r} (block {b}): holds {}, expected {ev} written by {}",
                        held_value(l, initial, r, (av, as_)),
                        writer(es)
                    ),
                    who,
                ));
            }
        }
    }
    differs.then(|| ("images differ outside the records".to_string(), Vec::new()))
}

/// A record's actual `(value, stamp)`, which differs from the expected one, in words.
/// The stamp is data read back from the image, so it names a writer only as what the
/// record carries (`under the stamp of txn N`), never as who wrote it: a rotted or
/// stray write can carry any stamp, that of a transaction that never wrote this record
/// or never ran. A value under the initial stamp that is not the initial value was
/// written by no transaction and is not the initial image's either; the initial value
/// under the initial stamp is the initial image's.
fn held_value(l: &Layout, initial: &Initial, r: u64, (value, stamp): (i64, u64)) -> String {
    if stamp != 0 {
        return format!("{value} under the stamp of {}", writer(stamp));
    }
    let (first, _) = initial.record(l, r);
    if value == first {
        format!("{value} written by {}", writer(stamp))
    } else {
        format!("{value}, which no transaction wrote (not the initial value {first} either)")
    }
}

/// Sum of all record values in the initial image (wrapping).
pub fn initial_sum(l: &Layout, initial: &Initial) -> i64 {
    match initial {
        Initial::Pattern(v) => v.value.wrapping_mul(v.records.min(l.records()) as i64),
        Initial::Bytes(_) => (0..l.records())
            .map(|r| initial.record(l, r).0)
            .fold(0i64, |a, v| a.wrapping_add(v)),
    }
}

/// Sum of all record values in an image: the initial sum corrected by the blocks the
/// image holds. Each value is exact (the scenario's validation keeps every record's
/// value within `i64` all run); their sum may pass it, so it wraps, and transfers are
/// judged to conserve it modulo 2^64. `total` is
/// [`initial_sum`]`(l, initial)`.
pub fn image_sum(l: &Layout, initial: &Initial, total: i64, image: &Image) -> i64 {
    image.held().fold(total, |sum, (b, data)| {
        sum.wrapping_add(block_sum_change(l, initial, b, data))
    })
}

/// What block `b` holding `data` (its bytes up to its last non-zero one) adds to an
/// image's sum of record values against its initial content (wrapping; 0 past the
/// volume).
pub fn block_sum_change(l: &Layout, initial: &Initial, b: u64, data: &[u8]) -> i64 {
    if b >= l.volume_blocks {
        return 0;
    }
    let per = l.records_per_block();
    (b * per..(b + 1) * per).fold(0i64, |sum, r| {
        let now = crate::image::record_in(data, l.offset_in_block(r)).0;
        let was = initial.record(l, r).0;
        sum.wrapping_add(now).wrapping_sub(was)
    })
}

/// **A-consistent**: once every OLD transaction has ended, VLUN A equals the initial
/// image with exactly the committed OLD transactions applied in commit order. Judged
/// on the image the policy declared consistent (`AConsistent`), in every backup cycle
/// ([`History::cycles`]) with that cycle's OLD transactions (begun before its split).
pub fn a_consistent(h: &History) -> Result<(), Violation> {
    Invariant::AConsistent.check(h)
}

/// **A-isolated**: no write of a NEW transaction is ever visible through VLUN A.
/// NEW transactions must not write through A, and no read through A (nor the image
/// declared consistent) may return a block content that only a write through VLUN B
/// produced. Judged per backup cycle: at each split, whatever the live volume held
/// (written through either VLUN before it) is VLUN A's own content, and the NEW
/// transactions are those begun after that split.
pub fn a_isolated(h: &History) -> Result<(), Violation> {
    Invariant::AIsolated.check(h)
}

/// **B-complete**: at the end, the live volume (VLUN B after a split) equals the
/// initial image with all committed transactions applied in commit order, and no
/// writing transaction's reads disagree with that order (no lost update, no stale read
/// made durable). Commit order is a serial order of the execution under strict 2PL.
pub fn b_complete(h: &History) -> Result<(), Violation> {
    Invariant::BComplete.check(h)
}

/// **no-torn-write**: every block read returns the content of exactly one write to
/// that block (through either VLUN: A writes reach B) or its initial content.
pub fn no_torn_write(h: &History) -> Result<(), Violation> {
    Invariant::NoTornWrite.check(h)
}

/// **bank-conserved**: when the workload conserves the sum of balances, every image
/// claimed consistent (the A image, the archive, the live volume at the end) sums to
/// the initial total.
pub fn bank_conserved(h: &History) -> Result<(), Violation> {
    Invariant::BankConserved.check(h)
}

/// **non-disruption**: no NEW transaction waits at the admission gate, and no
/// transaction attempt waits once for the backup (at the gate, for a type (b) lock, a
/// device call queued behind the backup's I/O, the engine's flushes in one call:
/// `Commit`/`Abort`'s `backup_wait_ticks_max`), longer than the history's limit; the
/// waits are judged one by one, not summed (the setup window under every
/// policy that takes a backup; claimed by the one-way mirror and the crash-consistent
/// snapshot, not by quiesce); and no attempt's write is refused by the backup's full
/// data area (`Event::WriteRefused`, `break-guest-write`: the attempt aborts), a
/// violation of the cycle it happened in.
pub fn non_disruption(h: &History) -> Result<(), Violation> {
    Invariant::NonDisruption.check(h)
}

/// **backup-faithful**: every archive is byte-identical to the VLUN A image declared
/// consistent before it in the same backup cycle (a split starts a new cycle), and
/// VLUN A is retired only once it is archived — unless the cycle's backup was reported
/// abandoned (`Abandon`: a full data area under `break-snapshot`), after which no
/// archive may be claimed. A VLUN A dropped silently, with no archive and no report,
/// is a lost backup passed off as a completed one.
pub fn backup_faithful(h: &History) -> Result<(), Violation> {
    Invariant::BackupFaithful.check(h)
}

/// **space-reclaimed**: after VLUN A is retired, the variant's extra space is freed:
/// the space VLUN A held (the data area of logging and copy-on-write). Mirroring's
/// image A is not VLUN A's once it is retired: it is kept as the base of the next
/// split's incremental resync, counted in `extra_space.csv` as `kept_image_blocks`, and
/// is not the retire's to free.
pub fn space_reclaimed(h: &History) -> Result<(), Violation> {
    Invariant::SpaceReclaimed.check(h)
}

/// **b-prime-faithful**: when the copy of VLUN B to a new volume B' (`[detach]`,
/// \[0048\]) is complete, B' is byte-identical to VLUN B at that instant
/// ([`crate::history::Event::BPrime`]): every block copied, every user write to a
/// block already copied mirrored to B'. Blocks integrity mode refused while VLUN B was
/// read (the `Unreadable` events just before) are not compared.
pub fn b_prime_faithful(h: &History) -> Result<(), Violation> {
    Invariant::BPrimeFaithful.check(h)
}
