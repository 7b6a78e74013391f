//! The reference the streaming judge (`sim::judge`) is compared against: the
//! invariants as they were first written, each a pass over a whole history with its
//! whole index in memory. Test code only; the product's one definition is the judge.

use engine::Vlun;
use std::collections::{BTreeMap, BTreeSet};

use sim::history::{
    block_digest, stamp_of, write_record, Cycle, Event, History, Image, Initial, TxnId,
};
use sim::oracle::{writer, writer_txn};
use sim::{Invariant, Violation};

/// The reference check of `inv`: its first violation that counts for a claim, else
/// the first about a lost cycle's copy.
pub fn check(inv: Invariant, h: &History) -> Result<(), Violation> {
    match findings(inv, h).into_iter().next() {
        Some(v) => Err(v),
        None => Ok(()),
    }
}

/// The violations of `inv`: the first that counts for a claim and, before it, the
/// first about the copy of a lost backup cycle ([`Violation::lost_cycle`]; A-consistent
/// and backup-faithful are judged per cycle), in that order.
fn findings(inv: Invariant, h: &History) -> Vec<Violation> {
    let one = match inv {
        Invariant::AConsistent => return per_cycle(h, a_consistent_cycles(h)),
        Invariant::BackupFaithful => return per_cycle(h, backup_faithful_cycles(h)),
        Invariant::AIsolated => a_isolated(h),
        Invariant::BComplete => b_complete(h),
        Invariant::NoTornWrite => no_torn_write(h),
        Invariant::BankConserved => bank_conserved(h),
        Invariant::NonDisruption => return non_disruption(h),
        Invariant::SpaceReclaimed => space_reclaimed(h),
        Invariant::BPrimeFaithful => b_prime_faithful(h),
    };
    one.err().into_iter().collect()
}

/// Every invariant that fails, in [`Invariant::ALL`] order.
pub fn check_all(h: &History) -> Vec<Violation> {
    Invariant::ALL
        .iter()
        .flat_map(|&i| findings(i, h))
        .collect()
}

/// The cycles ([`History::cycles`] numbers) whose backup was lost while their VLUN A
/// was live: an `Abandon` or `GiveUp` after the cycle's split and before a `Retire`
/// in it. A backup given up before its split took no copy.
fn lost_cycles(h: &History) -> BTreeSet<u32> {
    let has_split = h.events.iter().any(|s| matches!(s.event, Event::Split));
    if !has_split {
        return BTreeSet::new();
    }
    h.cycles()
        .iter()
        .filter(|c| {
            h.events[c.split..c.until]
                .iter()
                .take_while(|s| !matches!(s.event, Event::Retire { .. }))
                .any(|s| matches!(s.event, Event::Abandon | Event::GiveUp))
        })
        .map(|c| c.number)
        .collect()
}

/// From each cycle's first violation, in cycle order: the first in a cycle not lost
/// (it counts; the search stops there) after the first in a lost one (marked
/// `lost_cycle`), if any.
fn per_cycle(h: &History, found: Vec<(u32, Violation)>) -> Vec<Violation> {
    let lost = lost_cycles(h);
    let mut about_lost: Option<Violation> = None;
    for (cycle, v) in found {
        if lost.contains(&cycle) {
            about_lost.get_or_insert(Violation {
                lost_cycle: true,
                ..v
            });
        } else {
            return [v].into_iter().chain(about_lost).collect();
        }
    }
    about_lost.into_iter().collect()
}

fn violation(
    invariant: Invariant,
    event_index: usize,
    detail: String,
    txns: Vec<TxnId>,
) -> Violation {
    // The cycle the detail names (`cycle 2: …`), as the judge sets it.
    let cycle = detail
        .strip_prefix("cycle ")
        .and_then(|rest| rest.split_once(": "))
        .and_then(|(n, _)| n.parse().ok());
    Violation {
        invariant,
        event_index,
        detail,
        txns,
        lost_cycle: false,
        cycle,
        write_refused: false,
    }
}

/// Why a replay disagrees: where, what, who.
type ReplayError = (usize, String, Vec<TxnId>);

/// What the record says about one transaction attempt.
#[derive(Debug, Default, Clone)]
struct TxnInfo {
    begin: Option<usize>,
    vlun: Option<Vlun>,
    /// Began before the split.
    old: bool,
    /// Index of its Commit, if it committed.
    commit: Option<usize>,
    /// Index of its Commit or Abort.
    end: Option<usize>,
    /// Indices of its ReadRecord / WriteRecord events, in order.
    ops: Vec<usize>,
    writes: bool,
}

struct Index {
    split: Option<usize>,
    txns: BTreeMap<TxnId, TxnInfo>,
}

fn index(h: &History) -> Index {
    let split = h.split_index();
    let mut txns: BTreeMap<TxnId, TxnInfo> = BTreeMap::new();
    for (i, s) in h.events.iter().enumerate() {
        match s.event {
            Event::Begin { txn, vlun, .. } => {
                let t = txns.entry(txn).or_default();
                t.begin = Some(i);
                t.vlun = Some(vlun);
                t.old = split.is_some_and(|sp| i < sp);
            }
            Event::ReadRecord { txn, .. } => txns.entry(txn).or_default().ops.push(i),
            Event::WriteRecord { txn, .. } => {
                let t = txns.entry(txn).or_default();
                t.ops.push(i);
                t.writes = true;
            }
            Event::Commit { txn, .. } => {
                let t = txns.entry(txn).or_default();
                t.commit = Some(i);
                t.end = Some(i);
            }
            Event::Abort { txn, .. } => txns.entry(txn).or_default().end = Some(i),
            _ => {}
        }
    }
    Index { split, txns }
}

/// Replays the committed transactions `include` selects, in commit order, over the
/// initial image. Each writing transaction's reads must see what the serial order
/// gives (else: a stale read made durable). Returns the image, or the commit index of
/// the first transaction whose reads disagree and why.
fn replay(
    h: &History,
    ix: &Index,
    include: impl Fn(&TxnInfo) -> bool,
) -> Result<Image, ReplayError> {
    let layout = h.layout;
    let mut commits: Vec<(usize, TxnId)> = ix
        .txns
        .iter()
        .filter(|(_, t)| include(t))
        .filter_map(|(&id, t)| t.commit.map(|c| (c, id)))
        .collect();
    commits.sort_unstable();
    if h.initial.len(&layout) != layout.image_bytes() as u64 {
        return Err((
            0,
            format!(
                "malformed record: the initial image is {} bytes, the layout needs {}",
                h.initial.len(&layout),
                layout.image_bytes()
            ),
            Vec::new(),
        ));
    }
    // Only the blocks the replay writes are held; over a computed initial image a
    // written record's stamp (at least 1) differs from its initial one (0), so such a
    // block always differs from its initial content.
    let mut image = Image::unchanged(layout.image_bytes() as u64);
    let stamps_differ = matches!(h.initial, Initial::Pattern(_));
    let mut own: Vec<(u64, i64)> = Vec::new();
    for (ci, id) in commits {
        let t = &ix.txns[&id];
        if !t.writes {
            continue;
        }
        own.clear();
        for &oi in &t.ops {
            if let Some(record) = match h.events[oi].event {
                Event::ReadRecord { record, .. } | Event::WriteRecord { record, .. } => {
                    Some(record)
                }
                _ => None,
            } {
                if record >= layout.records() {
                    return Err((
                        oi,
                        format!("malformed record: record {record} is past the volume"),
                        vec![id],
                    ));
                }
            }
            match h.events[oi].event {
                Event::ReadRecord { record, value, .. } => {
                    let expected = match own.iter().rev().find(|(r, _)| *r == record) {
                        Some(&(_, v)) => (v, stamp_of(id)),
                        None => image.record(&layout, &h.initial, record),
                    };
                    if expected.0 != value {
                        let mut who = vec![id];
                        who.extend(writer_txn(expected.1));
                        // The last block write the reader saw: who put the value there.
                        let block = layout.block_of(record);
                        let culprit = h.events[..oi].iter().rev().find_map(|s| match s.event {
                            Event::WriteBlock { txn, block: b, .. } if b == block => Some(txn),
                            _ => None,
                        });
                        who.extend(culprit.filter(|c| !who.contains(c)));
                        return Err((
                            ci,
                            format!(
                                "txn {id} (committed at event {ci}) used record {record} = {value} \
                                 (read at event {oi}), but in commit order it holds {} written by {}",
                                expected.0,
                                writer(expected.1)
                            ),
                            who,
                        ));
                    }
                }
                Event::WriteRecord { record, value, .. } => own.push((record, value)),
                _ => {}
            }
        }
        for &(record, value) in &own {
            let off = layout.offset_in_block(record);
            let write = |d: &mut [u8]| write_record(&mut d[off..], value, stamp_of(id));
            let block = layout.block_of(record);
            if stamps_differ {
                image.update_block_differing(&layout, &h.initial, block, write);
            } else {
                image.update_block(&layout, &h.initial, block, write);
            }
        }
    }
    Ok(image)
}

/// The blocks of the image carried by event `at` that integrity mode refused: the
/// `Unreadable` events just before it. The invariants do not judge them (they are
/// known lost, not silently wrong).
fn unreadable_before(h: &History, at: usize) -> BTreeSet<u64> {
    h.events[..at]
        .iter()
        .rev()
        .map_while(|s| match s.event {
            Event::Unreadable { block, .. } => Some(block),
            _ => None,
        })
        .collect()
}

/// The first record where two images differ, in the words the simulator's oracle
/// uses (the reference shares the wording, not the judgement).
fn diff_images(
    h: &History,
    expected: &Image,
    actual: &Image,
    unreadable: &BTreeSet<u64>,
) -> Option<(String, Vec<TxnId>)> {
    sim::oracle::diff_images(&h.layout, &h.initial, expected, actual, unreadable)
}

/// The digest of block `block`'s initial content.
fn initial_digest(h: &History, block: u64) -> u64 {
    let mut buf = vec![0u8; h.layout.block_size];
    h.initial.block(&h.layout, block, &mut buf);
    block_digest(&buf)
}

/// **A-consistent**: once every OLD transaction has ended, VLUN A equals the initial
/// image with exactly the committed OLD transactions applied in commit order. Judged
/// on the image the policy declared consistent (`AConsistent`), in every backup cycle
/// ([`History::cycles`]) with that cycle's OLD transactions (begun before its split).
fn a_consistent_cycles(h: &History) -> Vec<(u32, Violation)> {
    let ix = index(h);
    let cycles = h.cycles();
    cycles
        .iter()
        .filter_map(|c| {
            a_consistent_in(h, &ix, c, h.cycles_begun() > 1)
                .err()
                .map(|v| (c.number, v))
        })
        .collect()
}

/// "cycle 2: " in a history of several cycles, nothing in one of a single cycle.
fn cycle_note(c: &Cycle, several: bool) -> String {
    if several {
        format!("cycle {}: ", c.number)
    } else {
        String::new()
    }
}

fn a_consistent_in(h: &History, ix: &Index, c: &Cycle, several: bool) -> Result<(), Violation> {
    let Some((ci, image)) =
        h.events[c.from..c.until]
            .iter()
            .enumerate()
            .find_map(|(i, s)| match &s.event {
                Event::AConsistent { image } => Some((c.from + i, image)),
                _ => None,
            })
    else {
        return Ok(());
    };
    let old = |t: &TxnInfo| t.begin.is_some_and(|b| b < c.split);
    let last_old_end = ix
        .txns
        .values()
        .filter(|t| old(t))
        .filter_map(|t| t.end)
        .max()
        .unwrap_or(0);
    let at = ci.max(last_old_end);
    let note = cycle_note(c, several);
    let expected = replay(h, ix, old).map_err(|(i, d, who)| {
        violation(Invariant::AConsistent, i.max(ci), format!("{note}{d}"), who)
    })?;
    match diff_images(h, &expected, image, &unreadable_before(h, ci)) {
        None => Ok(()),
        Some((d, mut who)) => {
            let open: Vec<TxnId> = ix
                .txns
                .iter()
                .filter(|(_, t)| old(t) && t.end.is_none_or(|e| e > ci))
                .map(|(&id, _)| id)
                .collect();
            for &t in &open {
                if !who.contains(&t) {
                    who.push(t);
                }
            }
            let open_note = if open.is_empty() {
                String::new()
            } else {
                format!(
                    "; OLD txns still active when A was declared consistent: [{}]",
                    sim::oracle::list_text(&open)
                )
            };
            Err(violation(
                Invariant::AConsistent,
                at,
                format!("{note}VLUN A image at event {ci}: {d}{open_note}"),
                who,
            ))
        }
    }
}

/// **A-isolated**: no write of a NEW transaction is ever visible through VLUN A.
/// NEW transactions must not write through A, and no read through A (nor the image
/// declared consistent) may return a block content that only a write through VLUN B
/// produced. Judged per backup cycle: at each split, whatever the live volume held
/// (written through either VLUN before it) is VLUN A's own content, and the NEW
/// transactions are those begun after that split.
pub fn a_isolated(h: &History) -> Result<(), Violation> {
    let ix = index(h);
    if ix.split.is_none() {
        return Ok(());
    }
    let cycles = h.cycles();
    let several = h.cycles_begun() > 1;
    let mut via_a: BTreeSet<(u64, u64)> = BTreeSet::new();
    let mut via_b: BTreeSet<(u64, u64)> = BTreeSet::new();
    // A block's initial content counts as written through VLUN A (computed when
    // needed, not held for every block of the volume).
    let leaked = |via_a: &BTreeSet<(u64, u64)>, via_b: &BTreeSet<(u64, u64)>, key: (u64, u64)| {
        via_b.contains(&key) && !via_a.contains(&key) && initial_digest(h, key.0) != key.1
    };
    for c in &cycles {
        let new_txn = |txn: &TxnId| {
            ix.txns
                .get(txn)
                .is_some_and(|t| t.begin.is_none_or(|b| b >= c.split))
        };
        let note = cycle_note(c, several);
        // The live volume at this split is VLUN A's content.
        via_a.append(&mut via_b);
        for (i, s) in h.events.iter().enumerate().take(c.until).skip(c.from) {
            match &s.event {
                Event::WriteBlock {
                    txn,
                    vlun: Vlun::A,
                    block,
                    digest,
                } => {
                    if i > c.split && new_txn(txn) {
                        return Err(violation(
                            Invariant::AIsolated,
                            i,
                            format!("{note}NEW txn {txn} wrote block {block} through VLUN A"),
                            vec![*txn],
                        ));
                    }
                    via_a.insert((*block, *digest));
                }
                Event::WriteBlock {
                    vlun: Vlun::B,
                    block,
                    digest,
                    ..
                } => {
                    via_b.insert((*block, *digest));
                }
                Event::ReadBlock {
                    txn,
                    vlun: Vlun::A,
                    block,
                    digest,
                } if leaked(&via_a, &via_b, (*block, *digest)) => {
                    return Err(violation(
                        Invariant::AIsolated,
                        i,
                        format!("{note}txn {txn} read block {block} through VLUN A and got content written through VLUN B"),
                        vec![*txn],
                    ));
                }
                Event::AConsistent { image } => {
                    // A block the image does not hold has its initial content.
                    let unreadable = unreadable_before(h, i);
                    for (b, chunk) in image.held() {
                        if unreadable.contains(&b) {
                            continue;
                        }
                        if leaked(
                            &via_a,
                            &via_b,
                            (b, sim::image::held_digest(chunk, h.layout.block_size)),
                        ) {
                            return Err(violation(
                                Invariant::AIsolated,
                                i,
                                format!("{note}VLUN A image block {b} holds content written through VLUN B"),
                                Vec::new(),
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// **B-complete**: at the end, the live volume (VLUN B after a split) equals the
/// initial image with all committed transactions applied in commit order, and no
/// writing transaction's reads disagree with that order (no lost update, no stale read
/// made durable). Commit order is a serial order of the execution under strict 2PL.
pub fn b_complete(h: &History) -> Result<(), Violation> {
    let Some((ei, live)) = h
        .events
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, s)| match &s.event {
            Event::End { live } => Some((i, live)),
            _ => None,
        })
    else {
        return Ok(());
    };
    let ix = index(h);
    let expected = replay(h, &ix, |_| true)
        .map_err(|(i, d, who)| violation(Invariant::BComplete, i, d, who))?;
    match diff_images(h, &expected, live, &unreadable_before(h, ei)) {
        None => Ok(()),
        Some((d, who)) => Err(violation(
            Invariant::BComplete,
            ei,
            format!("live volume at the end: {d}"),
            who,
        )),
    }
}

/// **no-torn-write**: every block read returns the content of exactly one write to
/// that block (through either VLUN: A writes reach B) or its initial content.
pub fn no_torn_write(h: &History) -> Result<(), Violation> {
    // Initial contents are added as reads meet them (not for every block up front).
    let mut seen: BTreeSet<(u64, u64)> = BTreeSet::new();
    for (i, s) in h.events.iter().enumerate() {
        match s.event {
            Event::WriteBlock { block, digest, .. } => {
                seen.insert((block, digest));
            }
            Event::ReadBlock { block, digest, .. }
                if !seen.contains(&(block, digest)) && initial_digest(h, block) == digest =>
            {
                seen.insert((block, digest));
            }
            Event::ReadBlock {
                txn,
                vlun,
                block,
                digest,
            } if !seen.contains(&(block, digest)) => {
                return Err(violation(
                    Invariant::NoTornWrite,
                    i,
                    format!("txn {txn} read block {block} through {vlun}: content {digest:#018x} was never written"),
                    vec![txn],
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Sum of all record values in the initial image (wrapping).
pub fn initial_sum(h: &History) -> i64 {
    let l = h.layout;
    match &h.initial {
        Initial::Pattern(v) => v.value.wrapping_mul(v.records.min(l.records()) as i64),
        Initial::Bytes(_) => (0..l.records())
            .map(|r| h.initial.record(&l, r).0)
            .fold(0i64, |a, v| a.wrapping_add(v)),
    }
}

/// Sum of all record values in an image (wrapping: transfers conserve it modulo
/// 2^64): the initial sum corrected by the blocks the image holds. `initial` is
/// [`initial_sum`]`(h)`.
pub fn image_sum(h: &History, initial: i64, image: &Image) -> i64 {
    let l = h.layout;
    let per = l.records_per_block();
    let mut sum = initial;
    for (b, data) in image.held() {
        if b >= l.volume_blocks {
            continue;
        }
        for r in b * per..(b + 1) * per {
            let now = sim::image::record_in(data, l.offset_in_block(r)).0;
            let was = h.initial.record(&l, r).0;
            sum = sum.wrapping_add(now).wrapping_sub(was);
        }
    }
    sum
}

/// **bank-conserved**: when the workload conserves the sum of balances, every image
/// claimed consistent (the A image, the archive, the live volume at the end) sums to
/// the initial total.
pub fn bank_conserved(h: &History) -> Result<(), Violation> {
    let len = h.initial.len(&h.layout);
    if !h.sum_conserved || len != h.layout.image_bytes() as u64 {
        return Ok(()); // a malformed record is reported by the replays
    }
    let initial = initial_sum(h);
    for (i, s) in h.events.iter().enumerate() {
        let (what, image) = match &s.event {
            Event::AConsistent { image } => ("the VLUN A image", image),
            Event::Archive { image } => ("the archive", image),
            Event::End { live } => ("the live volume at the end", live),
            _ => continue,
        };
        if image.len_bytes() != len {
            continue; // backup-faithful reports a wrong-sized image
        }
        if !unreadable_before(h, i).is_empty() {
            continue; // an image with a lost block: judged record by record elsewhere
        }
        let sum = image_sum(h, initial, image);
        if sum != initial {
            return Err(violation(
                Invariant::BankConserved,
                i,
                format!("balances in {what} sum to {sum}, initially {initial}"),
                Vec::new(),
            ));
        }
    }
    Ok(())
}

/// **non-disruption**: no NEW transaction waits at the admission gate, and no
/// transaction attempt waits once for the backup (`Commit`/`Abort`'s
/// `backup_wait_ticks_max`), longer than the history's limit (the setup window under every
/// policy that takes a backup; claimed by the one-way mirror and the crash-consistent
/// snapshot, not by quiesce); and no attempt's write is refused by the backup's full
/// data area (`WriteRefused`: the attempt aborts), a violation of the cycle it happened
/// in. The first of either, then the first of the other kind after it (a refused
/// write is claimed by every policy that backs up, a wait not by quiesce:
/// [`Violation::write_refused`]).
pub fn non_disruption(h: &History) -> Vec<Violation> {
    let Some(first) = first_disruption(h, 0, None) else {
        return Vec::new();
    };
    let other = first_disruption(h, first.event_index + 1, Some(!first.write_refused));
    [first].into_iter().chain(other).collect()
}

/// The first violation of non-disruption at or after event `from`: of either kind
/// (`refused` `None`), a refused write only (`Some(true)`) or a wait only
/// (`Some(false)`).
fn first_disruption(h: &History, from: usize, refused: Option<bool>) -> Option<Violation> {
    let several = h.cycles_begun() > 1;
    // A disruption is its cycle's as the run counts cycles (`summary.csv`'s rows, a
    // cycle given up before its split among them): the cycle begun by then.
    let mut count = sim::history::CycleCount::default();
    for s in &h.events[..from] {
        count.see(&s.event);
    }
    for (i, s) in h.events.iter().enumerate().skip(from) {
        count.see(&s.event);
        let note = if several {
            format!("cycle {}: ", count.begun().max(1))
        } else {
            String::new()
        };
        if let Event::WriteRefused {
            txn,
            vlun,
            block,
            data_area_blocks,
            at_ticks,
        } = s.event
        {
            if refused == Some(false) {
                continue;
            }
            let area = if data_area_blocks == 1 {
                "1 block".to_string()
            } else {
                format!("{data_area_blocks} blocks")
            };
            return Some(Violation {
                write_refused: true,
                ..violation(
                    Invariant::NonDisruption,
                    i,
                    format!(
                        "{note}txn {txn}'s write of block {block} through {vlun} failed at tick {at_ticks}: the data area ({area}) was full (break-guest-write); the attempt was aborted, not retried"
                    ),
                    vec![txn],
                )
            });
        }
        let Some(limit) = h.gate_wait_limit_ticks.filter(|_| refused != Some(true)) else {
            continue;
        };
        if let Event::Commit {
            txn,
            backup_wait_ticks_max,
        }
        | Event::Abort {
            txn,
            backup_wait_ticks_max,
        } = s.event
        {
            if backup_wait_ticks_max > limit {
                return Some(violation(
                    Invariant::NonDisruption,
                    i,
                    format!("{note}txn {txn} waited {backup_wait_ticks_max} ticks at once for the backup (at the gate, for a type (b) lock, queued behind backup I/O or in flushes), limit {limit}"),
                    vec![txn],
                ));
            }
        }
        if let Event::Begin {
            txn,
            gate_wait_ticks,
            ..
        } = s.event
        {
            if gate_wait_ticks > limit {
                return Some(violation(
                    Invariant::NonDisruption,
                    i,
                    format!(
                        "{note}txn {txn} waited {gate_wait_ticks} ticks for the backup, limit {limit}"
                    ),
                    vec![txn],
                ));
            }
        }
    }
    None
}

/// **backup-faithful**: every archive is byte-identical to the VLUN A image declared
/// consistent before it in the same backup cycle (a split starts a new cycle), and
/// VLUN A is retired only once it is archived — unless the cycle's backup was reported
/// abandoned (`Abandon`: a full data area under `break-snapshot`), after which no
/// archive may be claimed. A VLUN A dropped silently, with no archive and no report,
/// is a lost backup passed off as a completed one. Each cycle's first violation, with
/// the cycle's number.
fn backup_faithful_cycles(h: &History) -> Vec<(u32, Violation)> {
    let mut found = Vec::new();
    let mut declared: Option<&Image> = None;
    let several = h.cycles_begun() > 1;
    // Each split's cycle as summary.csv numbers it.
    let numbers: Vec<u32> = h.cycles().iter().map(|c| c.number).collect();
    let (mut k, mut split_seen) = (0, false);
    let mut cycle = numbers[0];
    // In this cycle: an archive was written, the backup was abandoned; VLUN A was
    // retired since it was last declared consistent.
    let (mut archived, mut abandoned, mut retired) = (false, false, false);
    // A violation found in this cycle: the rest of it is not judged.
    let mut done = false;
    for (i, s) in h.events.iter().enumerate() {
        if done && !matches!(s.event, Event::Split) {
            continue;
        }
        let note = if several {
            format!("cycle {cycle}: ")
        } else {
            String::new()
        };
        let mut broken = |detail: String, who: Vec<TxnId>| {
            found.push((
                cycle,
                violation(Invariant::BackupFaithful, i, format!("{note}{detail}"), who),
            ));
            done = true;
        };
        match &s.event {
            Event::Split => {
                done = false;
                if split_seen {
                    k += 1;
                    cycle = numbers[k];
                    declared = None;
                }
                split_seen = true;
                (archived, abandoned, retired) = (false, false, false);
            }
            Event::Abandon | Event::GiveUp => abandoned = true,
            Event::Retire { .. } if !archived && !abandoned => broken(
                "VLUN A retired with no archive of it, and the backup not reported abandoned"
                    .to_string(),
                Vec::new(),
            ),
            Event::Retire { .. } => retired = true,
            Event::Archive { .. } if abandoned => broken(
                "an archive claimed after the backup was abandoned".to_string(),
                Vec::new(),
            ),
            Event::Archive { .. } if retired => broken(
                "an archive claimed after VLUN A was retired".to_string(),
                Vec::new(),
            ),
            Event::AConsistent { image } => {
                declared = Some(image);
                retired = false;
            }
            Event::Archive { image } => match declared {
                None => broken(
                    "archive written before VLUN A was declared consistent".to_string(),
                    Vec::new(),
                ),
                Some(d) if d != image => {
                    let (detail, who) =
                        diff_images(h, d, image, &BTreeSet::new()).unwrap_or_default();
                    broken(
                        format!("archive differs from VLUN A as declared consistent: {detail}"),
                        who,
                    );
                }
                Some(_) => archived = true,
            },
            _ => {}
        }
    }
    found
}

/// **space-reclaimed**: after VLUN A is retired, the variant's extra space is freed.
pub fn space_reclaimed(h: &History) -> Result<(), Violation> {
    for (i, s) in h.events.iter().enumerate() {
        if let Event::Retire { extra_space_blocks } = s.event {
            if extra_space_blocks != 0 {
                return Err(violation(
                    Invariant::SpaceReclaimed,
                    i,
                    format!(
                        "{} of extra space still held after retiring VLUN A",
                        sim::number_text::counted(extra_space_blocks, "block", "blocks")
                    ),
                    Vec::new(),
                ));
            }
        }
    }
    Ok(())
}

/// **b-prime-faithful**: every completed copy of VLUN B to B' equals VLUN B at that
/// instant, blocks refused by integrity mode aside.
pub fn b_prime_faithful(h: &History) -> Result<(), Violation> {
    let mut unreadable = BTreeSet::new();
    for (i, s) in h.events.iter().enumerate() {
        match &s.event {
            Event::Unreadable { block, .. } => {
                unreadable.insert(*block);
                continue;
            }
            Event::BPrime { b_prime, live } if b_prime != live => {
                if let Some((detail, who)) =
                    sim::oracle::diff_images(&h.layout, &h.initial, live, b_prime, &unreadable)
                {
                    return Err(violation(
                        Invariant::BPrimeFaithful,
                        i,
                        format!("B' differs from VLUN B when the copy ended: {detail}"),
                        who,
                    ));
                }
            }
            _ => {}
        }
        unreadable.clear();
    }
    Ok(())
}
