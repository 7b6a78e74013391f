//! The invariants of DESIGN.md §4 judged as a fold over the events, one event at a
//! time: the one definition of each invariant. [`Invariant::check`] and
//! [`crate::check_all`] feed a whole [`History`] through a [`Judge`]; the simulator
//! feeds its events as they happen and keeps no record.
//!
//! What a judge holds is bounded by what is live, not by the number of events:
//!
//! - the open transaction attempts, each with its record reads and writes (to replay
//!   at its commit);
//! - per block touched, in one table ([`crate::blocks_seen`]): the last transaction
//!   that wrote it (to name a culprit) and the contents written to it, as digests
//!   (no-torn-write, A-isolated); where a block holds one record, in the same slot
//!   as that record in the replay below;
//! - the replay of the committed transactions (B-complete) and, per backup cycle still
//!   open, the replay of its OLD ones and the image declared consistent
//!   (A-consistent), each an [`Image`] of the blocks written;
//! - the NEW attempts of the cycle in progress that have ended, as ranges of ids
//!   (a write through VLUN A logged after its attempt ended is still a NEW one's);
//! - the last image declared consistent (backup-faithful) and the live volume at the
//!   end (B-complete).
//!
//! ## Records the judge assumes
//!
//! A transaction attempt's events lie between its `Begin` and its `Commit` or `Abort`
//! (the simulator and the model checker log them so). Verdicts on other records are
//! still given, never a panic: of an attempt that has ended only whether it was NEW in
//! the cycle in progress is kept (a write through VLUN A it logs later is a NEW one's
//! or not by that), and a write through VLUN A by an attempt not yet seen is held
//! against it once it shows (as a NEW one: it begins after the write).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use engine::Vlun;
use rustc_hash::FxHashMap;

use crate::blocks_seen::{BlocksSeen, Written};
use crate::clock::Tick;
use crate::history::{block_digest, stamp_of, Event, History, Image, Initial, Layout, TxnId};
use crate::image::{held_digest, is_initial};
use crate::judgement::LostBackup;
use crate::oracle::{
    block_sum_change, diff_images, initial_sum, writer, writer_txn, Invariant, Violation,
};
use crate::packed_image::PackedImage;
use crate::record_image::{
    Changes, Matching, Overlaid, RecordImage, RecordView, HINT_AHEAD_BLOCKS,
};

/// A first violation found, before the cycle note is known (it depends on whether the
/// record has more than one backup cycle).
#[derive(Debug, Clone)]
struct Found {
    index: usize,
    /// The backup cycle the violation belongs to: "cycle N: " in a record of several,
    /// counted by splits (mapped to the run's cycles when the record ends).
    cycle: Option<u32>,
    /// The run's cycle ([`crate::history::CycleCount`]: a cycle given up before its
    /// split counts), when known as it was found: a disruption's, found in a cycle
    /// that need not have split. Named instead of `cycle` mapped.
    row: Option<u32>,
    detail: String,
    txns: Vec<TxnId>,
}

/// A record read or write of an open attempt.
#[derive(Debug, Clone, Copy)]
enum Op {
    /// `culprit`: the last attempt that wrote the record's block before the read.
    Read {
        record: u64,
        value: i64,
        at: usize,
        culprit: Option<TxnId>,
    },
    Write {
        record: u64,
        value: i64,
        at: usize,
    },
}

impl Op {
    fn record(&self) -> u64 {
        match *self {
            Op::Read { record, .. } | Op::Write { record, .. } => record,
        }
    }
    fn at(&self) -> usize {
        match *self {
            Op::Read { at, .. } | Op::Write { at, .. } => at,
        }
    }
}

/// An attempt that has not ended.
#[derive(Debug, Default)]
struct Open {
    begin: Option<usize>,
    ops: Vec<Op>,
    writes: bool,
    /// The transaction's label ([`Judge::label`]), when told.
    label: Option<u32>,
}

/// Ended attempts whose labels the judge keeps ([`Judge::label`]): 32 KiB.
const ENDED_LABELS: usize = 4096;

/// Bytes of the judge's entry for one open attempt, its copy of the operations aside
/// ([`crate::footprint::attempt_bytes`]).
pub(crate) const OPEN_BYTES: u64 = std::mem::size_of::<Open>() as u64;

/// Why a replay disagrees: where, what, who.
type ReplayError = (usize, String, Vec<TxnId>);

/// The committed transactions of a set applied in commit order over the initial image;
/// each writing transaction's reads must see what that serial order gives.
#[derive(Debug, Clone)]
struct Replay {
    image: RecordImage,
    /// The first disagreement; the replay stops there.
    error: Option<ReplayError>,
    /// The image's table is the judge's per-block table too
    /// ([`BlocksSeen::sharing`]): kept when the replay fails.
    shared: bool,
}

impl Replay {
    fn new(layout: &Layout, initial: &Initial) -> Self {
        let len = initial.len(layout);
        let error = (len != layout.image_bytes() as u64).then(|| {
            (
                0,
                format!(
                    "malformed record: the initial image is {len} bytes, the layout needs {}",
                    layout.image_bytes()
                ),
                Vec::new(),
            )
        });
        Replay {
            image: RecordImage::default(),
            error,
            shared: false,
        }
    }

    /// [`Replay::new`] with its image's table shared with `blocks`
    /// ([`BlocksSeen::sharing`]).
    fn sharing(layout: &Layout, initial: &Initial) -> Self {
        Replay {
            image: RecordImage::shared(),
            shared: true,
            ..Replay::new(layout, initial)
        }
    }

    /// Applies attempt `id`, committed at event `ci`, with record operations `ops`;
    /// `blocks`: the per-block table sharing this replay's table, if it does.
    #[allow(clippy::too_many_arguments)]
    fn commit(
        &mut self,
        layout: &Layout,
        initial: &Initial,
        id: TxnId,
        ci: usize,
        ops: &[Op],
        own: &mut Vec<(u64, i64)>,
        blocks: Option<&mut BlocksSeen>,
    ) {
        if self.error.is_some() {
            return;
        }
        if let Err(e) = check_commit(&self.image, layout, initial, id, ci, ops, own) {
            return self.fail(e);
        }
        match blocks {
            Some(b) if self.shared => {
                for &(record, value) in own.iter() {
                    b.set_record(&mut self.image, record, value, id);
                }
            }
            _ => {
                for &(record, value) in own.iter() {
                    self.image.set(record, value, id);
                }
            }
        }
    }

    fn fail(&mut self, error: ReplayError) {
        // Nothing more is applied; the image is kept: the per-block table may share
        // it, and the backup cycles open see their replays through it.
        self.error = Some(error);
    }
}

/// The read checks of attempt `id`'s commit (at event `ci`, record operations
/// `ops`) against `image`, in the order of its operations: `Ok` with `own` its
/// writes in order, or the first disagreement.
#[allow(clippy::too_many_arguments)]
fn check_commit(
    image: &impl RecordView,
    layout: &Layout,
    initial: &Initial,
    id: TxnId,
    ci: usize,
    ops: &[Op],
    own: &mut Vec<(u64, i64)>,
) -> Result<(), ReplayError> {
    own.clear();
    // Every record's line asked for at once: the lookups below then overlap their
    // misses instead of waiting for each in turn.
    for op in ops {
        image.prefetch(op.record());
    }
    for op in ops {
        let record = op.record();
        if record >= layout.records() {
            return Err((
                op.at(),
                format!("malformed record: record {record} is past the volume"),
                vec![id],
            ));
        }
        match *op {
            Op::Read {
                record,
                value,
                at,
                culprit,
            } => {
                let expected = match own.iter().rev().find(|(r, _)| *r == record) {
                    Some(&(_, v)) => (v, stamp_of(id)),
                    None => image.record(layout, initial, record),
                };
                if expected.0 != value {
                    let mut who = vec![id];
                    who.extend(writer_txn(expected.1));
                    who.extend(culprit.filter(|c| !who.contains(c)));
                    return Err((
                        ci,
                        format!(
                            "txn {id} (committed at event {ci}) used record {record} = {value} \
                             (read at event {at}), but in commit order it holds {} written by {}",
                            expected.0,
                            writer(expected.1)
                        ),
                        who,
                    ));
                }
            }
            Op::Write { record, value, .. } => own.push((record, value)),
        }
    }
    Ok(())
}

/// A backup cycle's replay of its OLD transactions: the judge's replay of every
/// committed transaction as it was at the cycle's split, then the OLD commits since,
/// held as the records changed since the split over the judge's replay (which goes
/// on with every commit): a record the judge's replay is about to change is noted
/// first with its value at the split ([`CycleReplay::note`]), a record an OLD commit
/// writes with its new value. So a cycle holds the records written while it is
/// open, not a copy of every record.
#[derive(Debug, Default)]
struct CycleReplay {
    changes: Changes,
    /// The first disagreement; the replay stops there.
    error: Option<ReplayError>,
}

impl CycleReplay {
    /// The records of `ops`' writes keep, in this cycle, their value in `image`
    /// (the judge's replay, before it applies them).
    fn note(&mut self, image: &RecordImage, ops: &[Op]) {
        if self.error.is_some() {
            return;
        }
        for op in ops {
            if let Op::Write { record, .. } = *op {
                self.changes
                    .entry(record)
                    .or_insert_with(|| image.get(record));
            }
        }
    }

    /// Applies OLD attempt `id`, committed at event `ci`, with record operations
    /// `ops` (as [`Replay::commit`]), over `image`: the judge's replay.
    #[allow(clippy::too_many_arguments)]
    fn commit(
        &mut self,
        image: &RecordImage,
        layout: &Layout,
        initial: &Initial,
        id: TxnId,
        ci: usize,
        ops: &[Op],
        own: &mut Vec<(u64, i64)>,
    ) {
        if self.error.is_some() {
            return;
        }
        let view = Overlaid {
            base: image,
            changes: &self.changes,
        };
        if let Err(e) = check_commit(&view, layout, initial, id, ci, ops, own) {
            self.error = Some(e);
            self.changes = Changes::default();
            return;
        }
        for &(record, value) in own.iter() {
            self.changes.insert(record, Some((value, id)));
        }
    }
}

/// The image an event carries, the event's index and the blocks of it integrity mode
/// refused (the `Unreadable` events just before it).
#[derive(Debug, Clone)]
struct Carried {
    at: usize,
    image: Arc<Image>,
    unreadable: BTreeSet<u64>,
}

/// A backup cycle A-consistent has not judged yet.
#[derive(Debug)]
struct CycleJudge {
    number: u32,
    /// Its split, once seen (only the first cycle exists before its split).
    split: Option<usize>,
    /// The next split was seen: no image declared after it belongs to this cycle.
    closed: bool,
    /// The image declared consistent (the first in the cycle's window).
    declared: Option<Carried>,
    /// The committed OLD transactions replayed (once the split is seen).
    replay: Option<CycleReplay>,
    /// OLD attempts (begun before the split) not ended yet.
    old_open: rustc_hash::FxHashSet<TxnId>,
    /// The latest end of an OLD attempt.
    last_old_end: usize,
    /// The OLD attempts not ended when the image was declared.
    open_at_declared: BTreeSet<TxnId>,
    /// Before the split: attempts begun after the image was declared (OLD once the
    /// split comes, and open at the declaration).
    begun_since_declared: Vec<TxnId>,
}

/// A set of attempt ids held as ranges (ids mostly end in order, so few ranges).
#[derive(Debug, Default)]
struct IdRanges {
    /// start → end (exclusive), disjoint and not adjacent.
    ranges: BTreeMap<TxnId, u64>,
}

impl IdRanges {
    fn contains(&self, id: TxnId) -> bool {
        self.ranges
            .range(..=id)
            .next_back()
            .is_some_and(|(_, &end)| u64::from(id) < end)
    }

    fn insert(&mut self, id: TxnId) {
        if self.contains(id) {
            return;
        }
        let (mut start, mut end) = (id, u64::from(id) + 1);
        if let Some((&s, &e)) = self.ranges.range(..id).next_back() {
            if e == u64::from(id) {
                start = s;
                self.ranges.remove(&s);
            }
        }
        if let Ok(next) = TxnId::try_from(end) {
            if let Some(e) = self.ranges.remove(&next) {
                end = e;
            }
        }
        self.ranges.insert(start, end);
    }

    fn clear(&mut self) {
        self.ranges.clear();
    }
}

/// `x` as two 32-bit halves, low first: a hash table key aligned to 4 bytes.
pub(crate) fn halves(x: u64) -> [u32; 2] {
    [x as u32, (x >> 32) as u32]
}

/// The 64-bit number of its two 32-bit halves ([`halves`]'s inverse).
pub(crate) fn whole(h: [u32; 2]) -> u64 {
    u64::from(h[0]) | (u64::from(h[1]) << 32)
}

/// A block-by-block check of the live volume at the end ([`Judge::end_check`]): the
/// sum of its records so far and the replay's comparison, no block kept.
#[derive(Debug, Default)]
pub struct EndCheck {
    sum: i64,
    matching: Matching,
    /// A block differs from the replay (or could not be compared).
    unsure: bool,
    /// Blocks given, their replay's records hinted, compared once
    /// [`HINT_AHEAD_BLOCKS`] more have come (or at the end): a short block's number,
    /// length and bytes.
    pending: VecDeque<(u64, u8, [u8; PENDING_BYTES_MAX])>,
}

/// Longest block content (bytes up to the last non-zero one) whose comparison with
/// the replay waits for its lookups' hint (a record block's is 16 to 23 bytes);
/// a longer one is compared at once.
const PENDING_BYTES_MAX: usize = 32;

/// The invariants judged as a fold over a record's events (see the module doc).
///
/// Feed the events in order with [`Judge::push`] (or [`Judge::push_owned`]), then
/// [`Judge::finish`] gives each violated invariant's first violation, exactly as
/// [`Invariant::check`] defines it.
#[derive(Debug)]
pub struct Judge<'a> {
    layout: Layout,
    initial: Cow<'a, Initial>,
    sum_conserved: bool,
    gate_wait_limit_ticks: Option<Tick>,
    /// Per invariant ([`Invariant::ALL`] order): judged by this judge.
    judged: [bool; Invariant::ALL.len()],
    /// Index of the next event.
    next: usize,
    /// Splits seen, the last one's index, and the backup cycle in progress (1-based).
    splits: u32,
    last_split: Option<usize>,
    cycle: u32,
    /// Backup cycles begun, as `summary.csv` numbers them, and the number of the cycle
    /// of each split (`cycle` counts splits only: a finding's `cycle N:` is this
    /// numbering).
    cycle_count: crate::history::CycleCount,
    split_cycles: Vec<u32>,
    /// Blocks of the `Unreadable` events just before the next event.
    unreadable: Vec<u64>,
    txns: FxHashMap<TxnId, Open>,
    /// The emptied operation lists of attempts that ended, each given to an attempt
    /// that opens (its room kept: no allocation per attempt). As many as attempts
    /// were ever open at once, at most.
    spare_ops: Vec<Vec<Op>>,
    /// The last `ReadBlock`'s block and its last writer, with the index of the event
    /// just after it: a `ReadRecord` there of a record of that block names that
    /// writer as its culprit without looking the block up again.
    read_writer: Option<(usize, u64, Option<TxnId>)>,
    /// Attempts that ended since the last split and were NEW in it (A-isolated).
    ended_new: IdRanges,
    /// The latest end among attempts that began.
    max_end_begun: usize,
    /// Per block: the last attempt that wrote it and every content written to it.
    blocks: BlocksSeen,
    replay: Replay,
    own: Vec<(u64, i64)>,
    cycles: VecDeque<CycleJudge>,
    end: Option<Carried>,
    /// Writes through VLUN A after the split by attempts not seen yet: a violation of
    /// A-isolated once the attempt shows.
    unseen_writers: Vec<(TxnId, Found)>,
    /// The digest of every block whose initial content is the same (a computed
    /// initial image: every block whose records all hold the initial value).
    uniform_digest: Option<(u64, u64)>,
    initial_total: i64,
    /// VLUN A as declared consistent in this cycle (backup-faithful's reference for
    /// the archive), from the declaration until VLUN A is retired or the next split.
    declared: Option<Arc<PackedImage>>,
    archived: bool,
    abandoned: bool,
    /// VLUN A was retired since it was last declared consistent: no archive can be
    /// taken of it any more, so `declared` is dropped (at 10^7 transactions on a 1 TiB
    /// volume, 0.13 GiB held to the run's end otherwise) and an archive claimed now is
    /// a violation.
    retired: bool,
    /// The backup cycles lost while their VLUN A was live (abandoned, or given up on an
    /// archive pass), by number: a finding about such a cycle's copy (an invariant its
    /// loss drops, [`LostBackup::drops`]) is an observation, never what the run's
    /// claim is judged on ([`Violation::lost_cycle`]).
    lost_cycles: BTreeMap<u32, LostBackup>,
    /// The cycle in progress split and has not retired VLUN A: a loss now loses its
    /// copy.
    a_live: bool,
    /// Per invariant: the first finding that counts for the run's claim (not about a
    /// lost cycle's copy, once that cycle is known lost).
    found: [Option<Found>; Invariant::ALL.len()],
    /// Per invariant: the first finding about the copy of a lost cycle.
    found_lost: [Option<Found>; Invariant::ALL.len()],
    /// Non-disruption: whether its finding in `found` is a write the full data area
    /// refused (else a wait).
    refused_first: bool,
    /// Non-disruption: the first finding of the other kind after that one (a wait
    /// after a refused write, a refused write after a wait). Every policy that backs
    /// up claims that no user's write fails, quiesce too, whose waits are not claimed
    /// ([`Violation::write_refused`]), so the search goes on past a first finding
    /// for the first of the other kind: each kind's first is found, whichever came
    /// first.
    disruption_other: Option<Found>,
    /// The labels of the attempts a finding names, as they were when it was found
    /// ([`Judge::label`]; [`crate::RunResult::violation_labels`]).
    found_labels: BTreeMap<TxnId, u32>,
    /// The labels of recently ended attempts, attempt `t` at `t % ENDED_LABELS` (the
    /// attempt id beside it): a finding about an attempt that ended before it (the
    /// writer a replay names) says its label while few attempts ended since.
    ended_labels: Vec<(TxnId, u32)>,
    /// Per invariant: the image blocks it was judged on, and of them those it could
    /// not judge because integrity mode refused them ([`PartJudged`]).
    coverage: [PartJudged; Invariant::ALL.len()],
}

/// How much of the images an invariant speaks of it judged: over every image it was
/// judged on (the VLUN A image declared consistent, an archive, B', the live volume at
/// the end), `blocks` image blocks in all, `judged` of them judged, `unreadable` of
/// them refused by integrity mode when the image was read (`Event::Unreadable`).
/// bank-conserved's balance sum is over a whole image, so an image with a refused
/// block has none of its blocks judged. An invariant with `unreadable > 0` that was
/// not violated held on part of the volume only: never a plain `held`
/// ([`crate::Observed::HeldPartly`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PartJudged {
    /// Image blocks the invariant looked at, summed over its images.
    pub blocks: u64,
    /// Of `blocks`, those judged.
    pub judged: u64,
    /// Of `blocks`, those integrity mode refused (not judged).
    pub unreadable: u64,
}

impl PartJudged {
    /// Whether some block was not judged because it could not be read.
    pub fn is_partial(&self) -> bool {
        self.unreadable > 0
    }
}

fn slot(inv: Invariant) -> usize {
    Invariant::ALL
        .iter()
        .position(|&i| i == inv)
        .expect("every invariant is in ALL")
}

impl<'a> Judge<'a> {
    /// A judge of every invariant (or of `only` that one) over a record with this
    /// geometry, initial image, conservation flag and gate wait limit (as
    /// [`History`]'s fields of the same names).
    pub fn new(
        layout: Layout,
        initial: Cow<'a, Initial>,
        sum_conserved: bool,
        gate_wait_limit_ticks: Option<Tick>,
        only: Option<Invariant>,
    ) -> Self {
        let mut judged = [true; Invariant::ALL.len()];
        if let Some(inv) = only {
            judged = [false; Invariant::ALL.len()];
            judged[slot(inv)] = true;
        }
        let uniform_digest = match initial.as_ref() {
            Initial::Pattern(values) if layout.is_valid() => {
                let per = layout.records_per_block();
                // Blocks 0..n hold records that all have the initial value.
                let n = (values.records / per).min(layout.volume_blocks);
                (n > 0).then(|| {
                    let mut buf = vec![0u8; layout.block_size];
                    initial.block(&layout, 0, &mut buf);
                    (n, block_digest(&buf))
                })
            }
            _ => None,
        };
        let follows_contents =
            judged[slot(Invariant::NoTornWrite)] || judged[slot(Invariant::AIsolated)];
        let replays = judged[slot(Invariant::AConsistent)] || judged[slot(Invariant::BComplete)];
        let share = follows_contents
            && replays
            && BlocksSeen::can_share(&layout, matches!(initial.as_ref(), Initial::Pattern(_)));
        let (replay, blocks) = if share {
            (
                Replay::sharing(&layout, &initial),
                BlocksSeen::sharing(&layout),
            )
        } else {
            (Replay::new(&layout, &initial), BlocksSeen::default())
        };
        let mut judge = Judge {
            layout,
            initial,
            sum_conserved,
            gate_wait_limit_ticks,
            judged,
            next: 0,
            splits: 0,
            last_split: None,
            cycle: 1,
            cycle_count: Default::default(),
            split_cycles: Vec::new(),
            unreadable: Vec::new(),
            txns: FxHashMap::default(),
            spare_ops: Vec::new(),
            read_writer: None,
            ended_new: IdRanges::default(),
            max_end_begun: 0,
            blocks,
            replay,
            own: Vec::new(),
            cycles: VecDeque::new(),
            end: None,
            unseen_writers: Vec::new(),
            uniform_digest,
            initial_total: 0,
            declared: None,
            archived: false,
            abandoned: false,
            retired: false,
            lost_cycles: BTreeMap::new(),
            a_live: false,
            found: Default::default(),
            found_lost: Default::default(),
            refused_first: false,
            disruption_other: None,
            found_labels: BTreeMap::new(),
            ended_labels: vec![(TxnId::MAX, 0); ENDED_LABELS],
            coverage: Default::default(),
        };
        if judge.is(Invariant::AConsistent) {
            judge.cycles.push_back(judge.new_cycle(None));
        }
        if judge.bank_judged() {
            judge.initial_total = initial_sum(&judge.layout, &judge.initial);
        }
        judge
    }

    /// A judge over `h`'s geometry, initial image and limits (borrowed).
    pub fn of(h: &'a History, only: Option<Invariant>) -> Self {
        Judge::new(
            h.layout,
            Cow::Borrowed(&h.initial),
            h.sum_conserved,
            h.gate_wait_limit_ticks,
            only,
        )
    }

    /// Asks the cache line of `block`'s entry in the per-block table into the
    /// processor's caches: the simulator calls it for each block of an attempt when
    /// the attempt starts, before its reads and writes (a hint: nothing changes).
    #[inline]
    pub(crate) fn prefetch_block(&self, block: u64) {
        self.blocks.prefetch(&self.replay.image, block);
    }

    /// Asks the cache line of `block`'s entry itself (its value, or the slot a first
    /// write takes) into the processor's caches: the simulator calls it when an
    /// attempt reads a block it will write, right after the read's event, when the
    /// line [`Judge::prefetch_block`] hinted is in the cache (a hint: nothing changes).
    #[inline]
    pub(crate) fn prefetch_entry(&self, block: u64) {
        self.blocks.prefetch_entry(&self.replay.image, block);
    }

    /// The initial image the judge compares against.
    pub fn initial(&self) -> &Initial {
        &self.initial
    }

    /// Events judged so far.
    pub fn events(&self) -> usize {
        self.next
    }

    fn is(&self, inv: Invariant) -> bool {
        self.judged[slot(inv)]
    }

    fn bank_judged(&self) -> bool {
        self.is(Invariant::BankConserved)
            && self.sum_conserved
            && self.initial.len(&self.layout) == self.layout.image_bytes() as u64
    }

    /// Attempts and their record operations are followed.
    fn follows_txns(&self) -> bool {
        self.is(Invariant::AConsistent) || self.is(Invariant::AIsolated) || self.replays()
    }

    fn replays(&self) -> bool {
        self.is(Invariant::AConsistent) || self.is(Invariant::BComplete)
    }

    fn follows_contents(&self) -> bool {
        self.is(Invariant::NoTornWrite) || self.is(Invariant::AIsolated)
    }

    fn open(&self, inv: Invariant) -> bool {
        self.is(inv) && self.open_in(inv, self.cycle)
    }

    /// Whether a finding of `inv` in cycle `number` would count: none counts yet, or
    /// the one held is about the copy of another cycle, since lost (a later cycle's
    /// copy is then judged on its own).
    fn open_in(&self, inv: Invariant, number: u32) -> bool {
        match &self.found[slot(inv)] {
            None => true,
            Some(f) => f.cycle != Some(number) && self.lost_copy(inv, f.cycle),
        }
    }

    /// Whether a finding of `inv` in cycle `cycle` is about the copy of a cycle lost
    /// in a way that drops `inv` ([`LostBackup::drops`]).
    fn lost_copy(&self, inv: Invariant, cycle: Option<u32>) -> bool {
        cycle
            .and_then(|c| self.lost_cycles.get(&c))
            .is_some_and(|l| l.drops(inv))
    }

    /// Keeps `found` as `inv`'s first finding, unless one that counts is held; one
    /// held about a lost cycle's copy moves to `found_lost` (the first kept there).
    fn note_found(&mut self, inv: Invariant, found: Found) {
        self.remember_labels(&found.txns);
        let s = slot(inv);
        match &self.found[s] {
            None => self.found[s] = Some(found),
            Some(f) if f.cycle != found.cycle && self.lost_copy(inv, f.cycle) => {
                let lost = self.found[s].replace(found);
                if self.found_lost[s].is_none() {
                    self.found_lost[s] = lost;
                }
            }
            Some(_) => {}
        }
    }

    /// The current cycle's backup was lost `how` (`Abandon`, `GiveUp`): when its VLUN
    /// A is live (split, not retired), that cycle's copy is lost; a backup given up
    /// before its split (a quiesce past its deadline, a resync that failed) took no
    /// copy for a finding to be about.
    fn lose_cycle(&mut self, how: LostBackup) {
        if self.a_live {
            self.lost_cycles.entry(self.cycle).or_insert(how);
        }
    }

    fn found_here(&mut self, inv: Invariant, cycle: bool, detail: String, txns: Vec<TxnId>) {
        let found = Found {
            index: self.next,
            cycle: cycle.then_some(self.cycle),
            row: None,
            detail,
            txns,
        };
        self.note_found(inv, found);
    }

    fn new_cycle(&self, split: Option<usize>) -> CycleJudge {
        let mut c = CycleJudge {
            number: self.cycle,
            split: None,
            closed: false,
            declared: None,
            replay: None,
            old_open: Default::default(),
            last_old_end: 0,
            open_at_declared: BTreeSet::new(),
            begun_since_declared: Vec::new(),
        };
        if let Some(s) = split {
            self.split_cycle(&mut c, s);
        }
        c
    }

    /// Cycle `c`'s split is at `split` (the current event): its OLD attempts are the
    /// open ones that began, and the commits so far are all OLD ones.
    fn split_cycle(&self, c: &mut CycleJudge, split: usize) {
        c.number = self.cycle;
        c.split = Some(split);
        c.replay = Some(CycleReplay {
            changes: Changes::default(),
            error: self.replay.error.clone(),
        });
        c.old_open = self
            .txns
            .iter()
            .filter(|(_, t)| t.begin.is_some())
            .map(|(&id, _)| id)
            .collect();
        c.last_old_end = self.max_end_begun;
        if c.declared.is_some() {
            c.open_at_declared.extend(c.begun_since_declared.drain(..));
        }
    }

    /// The digest of block `block`'s initial content.
    fn initial_digest(&self, block: u64) -> u64 {
        if let Some((n, d)) = self.uniform_digest {
            if block < n {
                return d;
            }
        }
        let mut buf = vec![0u8; self.layout.block_size];
        self.initial.block(&self.layout, block, &mut buf);
        block_digest(&buf)
    }

    fn via_a(&self, w: Written) -> bool {
        w.via_a || (w.b_cycle != 0 && w.b_cycle < self.cycle)
    }

    /// A-isolated's leak: content written through VLUN B in this cycle, never through
    /// VLUN A (nor before the cycle's split), and not the block's initial content.
    fn leaked(&self, block: u64, digest: u64) -> bool {
        self.leaked_as(
            block,
            digest,
            self.blocks.content(&self.replay.image, block, digest),
        )
    }

    /// [`Judge::leaked`] of a content written as `written` (`None`: never written).
    fn leaked_as(&self, block: u64, digest: u64, written: Option<Written>) -> bool {
        match written {
            Some(w) if w.b_cycle == self.cycle && !self.via_a(w) => {
                self.initial_digest(block) != digest
            }
            _ => false,
        }
    }

    /// Attempt `txn` is transaction `label` (what `trace.csv`'s `label` column and the
    /// timing diagram show; 301-306 in Fig 3, else its sequence number, which its
    /// retries keep): told before its [`Event::Begin`], so a finding that names the
    /// attempt can say its label too ([`crate::RunResult::violation_labels`]). Kept
    /// while it is open, and among the last 4096 attempts ended.
    pub fn label(&mut self, txn: TxnId, label: u32) {
        if self.follows_txns() {
            self.open_attempt(txn).label = Some(label);
        }
    }

    /// The labels of the attempts among `txns` that are open or among the last
    /// [`ENDED_LABELS`] ended, kept for the findings that name them.
    #[cold]
    fn remember_labels(&mut self, txns: &[TxnId]) {
        for &t in txns {
            let ended = self.ended_labels[t as usize % ENDED_LABELS];
            let label = match self.txns.get(&t).and_then(|o| o.label) {
                Some(label) => Some(label),
                None => (ended.0 == t).then_some(ended.1),
            };
            if let Some(label) = label {
                self.found_labels.insert(t, label);
            }
        }
    }

    /// Attempt `txn` showed (an event the index of attempts counts): a write through
    /// A it made unseen after the split was a NEW attempt's.
    #[inline]
    fn seen(&mut self, txn: TxnId) {
        if !self.unseen_writers.is_empty() {
            self.seen_unseen(txn);
        }
    }

    /// [`Judge::seen`] with writes through A by attempts not seen yet held.
    #[cold]
    fn seen_unseen(&mut self, txn: TxnId) {
        let mut k = 0;
        while k < self.unseen_writers.len() {
            if self.unseen_writers[k].0 == txn {
                let (_, f) = self.unseen_writers.swap_remove(k);
                self.remember_labels(&f.txns);
                let s = slot(Invariant::AIsolated);
                if self.found[s].as_ref().is_none_or(|g| g.index > f.index) {
                    self.found[s] = Some(f);
                }
            } else {
                k += 1;
            }
        }
    }

    /// Non-disruption: attempt `txn` ended; its longest single wait for the backup was `ticks`.
    fn backup_wait(&mut self, txn: TxnId, ticks: Tick) {
        if let Some(limit) = self.gate_wait_limit_ticks {
            if ticks > limit {
                self.disruption(
                    false,
                    true,
                    || format!("txn {txn} waited {ticks} ticks at once for the backup (at the gate, for a type (b) lock, queued behind backup I/O or in flushes), limit {limit}"),
                    txn,
                );
            }
        }
    }

    /// Non-disruption: the backup's full data area refused attempt `txn`'s write
    /// (`break-guest-write`), which aborts the attempt: a disruption worse than any
    /// wait, found in the cycle in progress.
    fn write_refused(
        &mut self,
        txn: TxnId,
        vlun: Vlun,
        block: u64,
        data_area_blocks: u64,
        at_ticks: Tick,
    ) {
        let area = crate::number_text::counted(data_area_blocks, "block", "blocks");
        self.disruption(
            true,
            true,
            || format!("txn {txn}'s write of block {block} through {vlun} failed at tick {at_ticks}: the data area ({area}) was full (break-guest-write); the attempt was aborted, not retried"),
            txn,
        );
    }

    /// Non-disruption found at the current event, `refused` a refused write (else a
    /// wait; `cycle`: of the cycle in progress, as each is: a wait is the cycle's in
    /// progress when the attempt that waited began or ended, so a run of several
    /// cycles names it and a `summary.csv` row of an earlier cycle does not carry it): kept as the invariant's finding when
    /// it is the first, or as [`Judge::disruption_other`] when it is the first of the
    /// other kind after that one (non-disruption is never dropped by a lost cycle:
    /// every finding counts).
    fn disruption(
        &mut self,
        refused: bool,
        cycle: bool,
        detail: impl FnOnce() -> String,
        txn: TxnId,
    ) {
        let inv = Invariant::NonDisruption;
        if !self.is(inv) {
            return;
        }
        let first = self.found[slot(inv)].is_none();
        if !first && (self.refused_first == refused || self.disruption_other.is_some()) {
            return;
        }
        self.remember_labels(&[txn]);
        let found = Found {
            index: self.next,
            cycle: cycle.then_some(self.cycle),
            // The cycle in progress as the run counts it: a wait in an attempt that
            // missed its quiesce deadline is its cycle's, which may never split.
            row: cycle.then_some(self.cycle_count.begun().max(1)),
            detail: detail(),
            txns: vec![txn],
        };
        if first {
            self.found[slot(inv)] = Some(found);
            self.refused_first = refused;
        } else {
            self.disruption_other = Some(found);
        }
    }

    /// Judges the next event (its image, if any, cloned when needed).
    pub fn push(&mut self, event: &Event) {
        let image = match event {
            Event::AConsistent { image } | Event::Archive { image } => Some(image),
            Event::End { live } => Some(live),
            _ => None,
        };
        let image = image
            .filter(|_| self.holds_images())
            .map(|i| Arc::new(i.clone()));
        self.step(event, image);
    }

    /// Judges the next event, taking its image instead of a copy.
    pub fn push_owned(&mut self, event: Event) {
        match event {
            Event::AConsistent { mut image } => {
                // Held until the archive is compared (or the next cycle): no spare room.
                image.shrink_to_fit();
                let image = Arc::new(image);
                let shell = Event::AConsistent {
                    image: Image::unchanged(image.len_bytes()),
                };
                self.step_with(&shell, Some(image));
            }
            Event::Archive { image } => {
                let image = Arc::new(image);
                let shell = Event::Archive {
                    image: Image::unchanged(image.len_bytes()),
                };
                self.step_with(&shell, Some(image));
            }
            Event::End { live } => {
                let image = Arc::new(live);
                let shell = Event::End {
                    live: Image::unchanged(image.len_bytes()),
                };
                self.step_with(&shell, Some(image));
            }
            // The events of plain data: judged in place (not moved out first), then
            // forgotten rather than dropped, as they hold nothing to free (no call per
            // event to a drop that would look at the variant again; the test
            // `the_events_forgotten_hold_nothing_to_free` keeps their fields `Copy`).
            Event::Begin { .. }
            | Event::ReadBlock { .. }
            | Event::WriteBlock { .. }
            | Event::ReadRecord { .. }
            | Event::WriteRecord { .. }
            | Event::Commit { .. }
            | Event::Abort { .. }
            | Event::WriteRefused { .. } => {
                self.step(&event, None);
                std::mem::forget(event);
            }
            _ => self.step(&event, None),
        }
    }

    /// VLUN A's image as declared consistent in the cycle in progress, once declared,
    /// packed (what its archive must equal: [`crate::streamed_image::StreamedImage`]).
    pub fn declared(&self) -> Option<Arc<PackedImage>> {
        self.declared.clone()
    }

    /// Judges an [`Event::Archive`] carrying VLUN A's image as declared
    /// ([`Judge::declared`]: an archive received equal to it), exactly as that event
    /// with the image unpacked would be judged.
    pub fn push_archive_declared(&mut self) {
        let len_bytes = self.declared.as_ref().map_or(0, |d| d.len_bytes());
        self.archive(None);
        self.advance(&Event::Archive {
            image: Image::unchanged(len_bytes),
        });
    }

    fn holds_images(&self) -> bool {
        self.is(Invariant::AConsistent)
            || self.is(Invariant::AIsolated)
            || self.is(Invariant::BComplete)
            || self.bank_judged()
            || self.is(Invariant::BackupFaithful)
    }

    fn step(&mut self, event: &Event, image: Option<Arc<Image>>) {
        self.step_with(event, image);
    }

    /// `image`: the event's image (when it carries one), shared.
    fn step_with(&mut self, event: &Event, image: Option<Arc<Image>>) {
        let i = self.next;
        match *event {
            Event::Begin {
                txn,
                gate_wait_ticks,
                ..
            } => {
                if let Some(limit) = self.gate_wait_limit_ticks {
                    if gate_wait_ticks > limit {
                        self.disruption(
                            false,
                            true,
                            || format!("txn {txn} waited {gate_wait_ticks} ticks for the backup, limit {limit}"),
                            txn,
                        );
                    }
                }
                if self.follows_txns() {
                    self.seen(txn);
                    self.open_attempt(txn).begin = Some(i);
                    if let Some(c) = self.cycles.back_mut() {
                        if c.split.is_none() && c.declared.is_some() {
                            c.begun_since_declared.push(txn);
                        }
                    }
                }
            }
            Event::ReadBlock {
                txn,
                vlun,
                block,
                digest,
            } => {
                if self.follows_contents() {
                    // One lookup of the block's entry: its content read now, its last
                    // writer kept for the `ReadRecord` that follows (the culprit).
                    let entry = self.blocks.block(&self.replay.image, block);
                    let seen = entry.and_then(|e| e.content(digest));
                    if self.replays() {
                        self.read_writer = Some((i + 1, block, entry.and_then(|e| e.writer())));
                    }
                    if seen.is_none()
                        && self.open(Invariant::NoTornWrite)
                        && self.initial_digest(block) != digest
                    {
                        self.found_here(
                            Invariant::NoTornWrite,
                            false,
                            format!("txn {txn} read block {block} through {vlun}: content {digest:#018x} was never written"),
                            vec![txn],
                        );
                    }
                    if vlun == Vlun::A
                        && seen.is_some()
                        && self.open(Invariant::AIsolated)
                        && self.leaked_as(block, digest, seen)
                    {
                        self.found_here(
                            Invariant::AIsolated,
                            true,
                            format!("txn {txn} read block {block} through VLUN A and got content written through VLUN B"),
                            vec![txn],
                        );
                    }
                }
            }
            Event::WriteBlock {
                txn,
                vlun,
                block,
                digest,
            } => {
                let writer = self.replays().then_some(txn);
                if !self.follows_contents() {
                    if writer.is_some() {
                        self.blocks.write(
                            &mut self.replay.image,
                            block,
                            writer,
                            None::<(u64, fn(&mut Written))>,
                        );
                    }
                } else {
                    let mut record = true;
                    if vlun == Vlun::A && self.open(Invariant::AIsolated) {
                        if let Some(split) = self.last_split.filter(|&s| i > s) {
                            let found = Found {
                                index: i,
                                cycle: Some(self.cycle),
                                row: None,
                                detail: format!("NEW txn {txn} wrote block {block} through VLUN A"),
                                txns: vec![txn],
                            };
                            match self.txns.get(&txn) {
                                Some(t) if t.begin.is_none_or(|b| b >= split) => {
                                    self.note_found(Invariant::AIsolated, found);
                                    record = false;
                                }
                                Some(_) => {}
                                None if self.ended_new.contains(txn) => {
                                    self.note_found(Invariant::AIsolated, found);
                                    record = false;
                                }
                                None => self.unseen_writers.push((txn, found)),
                            }
                        }
                    }
                    let cycle = self.cycle;
                    let mark = record || !self.is(Invariant::AIsolated);
                    let update = |w: &mut Written| {
                        if mark {
                            match vlun {
                                Vlun::A => w.via_a = true,
                                Vlun::B => {
                                    if w.b_cycle != 0 && w.b_cycle < cycle {
                                        w.via_a = true;
                                    }
                                    w.b_cycle = cycle;
                                }
                            }
                        }
                    };
                    self.blocks.write(
                        &mut self.replay.image,
                        block,
                        writer,
                        Some((digest, update)),
                    );
                }
            }
            Event::ReadRecord { txn, record, value } => {
                if self.follows_txns() {
                    self.seen(txn);
                    let culprit = if self.replays() && self.layout.is_valid() {
                        let block = self.layout.block_of(record);
                        match self.read_writer {
                            // Just read by the `ReadBlock` of this block before: no
                            // event between, nothing changed.
                            Some((at, b, writer)) if at == i && b == block => writer,
                            _ => self.blocks.writer(&self.replay.image, block),
                        }
                    } else {
                        None
                    };
                    let replays = self.replays();
                    let t = self.open_attempt(txn);
                    if replays {
                        t.ops.push(Op::Read {
                            record,
                            value,
                            at: i,
                            culprit,
                        });
                    }
                }
            }
            Event::WriteRecord { txn, record, value } => {
                if self.follows_txns() {
                    self.seen(txn);
                    let replays = self.replays();
                    let t = self.open_attempt(txn);
                    t.writes = true;
                    if replays {
                        t.ops.push(Op::Write {
                            record,
                            value,
                            at: i,
                        });
                    }
                }
            }
            Event::Commit {
                txn,
                backup_wait_ticks_max,
            } => {
                self.backup_wait(txn, backup_wait_ticks_max);
                self.end_txn(txn, true)
            }
            Event::Abort {
                txn,
                backup_wait_ticks_max,
            } => {
                self.backup_wait(txn, backup_wait_ticks_max);
                self.end_txn(txn, false)
            }
            Event::WriteRefused {
                txn,
                vlun,
                block,
                data_area_blocks,
                at_ticks,
            } => self.write_refused(txn, vlun, block, data_area_blocks, at_ticks),
            Event::Split => {
                if self.splits > 0 {
                    self.cycle += 1;
                }
                self.splits += 1;
                self.cycle_count.see(event);
                self.split_cycles.push(self.cycle_count.begun());
                self.a_live = true;
                self.last_split = Some(i);
                // Every attempt ended so far began before this split.
                self.ended_new.clear();
                // backup-faithful: a new cycle declares its own image.
                if self.splits > 1 {
                    self.declared = None;
                }
                (self.archived, self.abandoned, self.retired) = (false, false, false);
                if self.is(Invariant::AConsistent) {
                    if self.splits == 1 {
                        if let Some(mut c) = self.cycles.pop_back() {
                            self.split_cycle(&mut c, i);
                            self.cycles.push_back(c);
                        }
                    } else {
                        if let Some(c) = self.cycles.back_mut() {
                            c.closed = true;
                        }
                        let c = self.new_cycle(Some(i));
                        self.cycles.push_back(c);
                    }
                    self.judge_cycles(false);
                }
            }
            Event::BReady => {}
            Event::AConsistent { .. } => {
                let Some(image) = image else {
                    return self.advance(event);
                };
                if self.open(Invariant::AConsistent) {
                    let carried = self.carried(i, image.clone());
                    let open_now: Vec<TxnId> = self
                        .txns
                        .iter()
                        .filter(|(_, t)| t.begin.is_some())
                        .map(|(&id, _)| id)
                        .collect();
                    if let Some(c) = self.cycles.back_mut() {
                        if !c.closed && c.declared.is_none() {
                            c.declared = Some(carried);
                            c.open_at_declared = match c.split {
                                Some(_) => c.old_open.iter().copied().collect(),
                                None => open_now.into_iter().collect(),
                            };
                        }
                    }
                    self.judge_cycles(false);
                }
                if self.open(Invariant::AIsolated) {
                    let unreadable = self.unreadable_set();
                    self.note_image(Invariant::AIsolated, &unreadable, false);
                    // Each block's entry hinted in two steps ahead of its lookup: the
                    // line of its bucket's keys 2 × HINT_AHEAD_BLOCKS blocks before,
                    // then (that line in the cache) the line of its value
                    // HINT_AHEAD_BLOCKS before.
                    let ahead = |n: usize| image.held().map(|(b, _)| b).skip(n);
                    let (mut keys_ahead, mut values_ahead) =
                        (ahead(2 * HINT_AHEAD_BLOCKS), ahead(HINT_AHEAD_BLOCKS));
                    for (b, _) in image.held().take(2 * HINT_AHEAD_BLOCKS) {
                        self.prefetch_block(b);
                    }
                    let leak = image
                        .held()
                        .inspect(|_| {
                            if let Some(b) = keys_ahead.next() {
                                self.prefetch_block(b);
                            }
                            if let Some(b) = values_ahead.next() {
                                self.prefetch_entry(b);
                            }
                        })
                        .filter(|(b, _)| !unreadable.contains(b))
                        .find(|(b, held)| {
                            self.leaked(*b, held_digest(held, self.layout.block_size))
                        });
                    if let Some((b, _)) = leak {
                        self.found_here(
                            Invariant::AIsolated,
                            true,
                            format!("VLUN A image block {b} holds content written through VLUN B"),
                            Vec::new(),
                        );
                    }
                }
                self.judge_sum("the VLUN A image", image.len_bytes(), image.held());
                // The image itself is not held whole beside its packed form when this
                // is its one holder.
                let packed = match Arc::try_unwrap(image) {
                    Ok(image) => PackedImage::pack_owned(image),
                    Err(image) => PackedImage::pack(&image),
                };
                self.declared = Some(Arc::new(packed));
                self.retired = false;
            }
            Event::Archive { .. } => {
                let Some(image) = image else {
                    return self.advance(event);
                };
                self.archive(Some(&image));
            }
            // A backup given up claims no archive, as an abandoned one.
            Event::Abandon => {
                self.lose_cycle(LostBackup::Abandoned);
                self.abandoned = true;
                self.cycle_count.see(event);
            }
            Event::GiveUp => {
                self.lose_cycle(LostBackup::GivenUp);
                self.abandoned = true;
                self.cycle_count.see(event);
            }

            Event::QuiesceTimeout { .. } => self.cycle_count.see(event),
            Event::QuiesceRetry { .. } => {}
            Event::Retire { extra_space_blocks } => {
                self.cycle_count.see(event);
                self.retired = true;
                self.a_live = false;
                self.declared = None;
                if !self.archived && !self.abandoned && self.open(Invariant::BackupFaithful) {
                    self.found_here(
                        Invariant::BackupFaithful,
                        true,
                        "VLUN A retired with no archive of it, and the backup not reported abandoned"
                            .to_string(),
                        Vec::new(),
                    );
                }
                if extra_space_blocks != 0 && self.open(Invariant::SpaceReclaimed) {
                    self.found_here(
                        Invariant::SpaceReclaimed,
                        false,
                        format!(
                            "{} of extra space still held after retiring VLUN A",
                            crate::number_text::counted(extra_space_blocks, "block", "blocks")
                        ),
                        Vec::new(),
                    );
                }
            }
            Event::End { .. } => {
                let Some(image) = image else {
                    return self.advance(event);
                };
                self.judge_sum(
                    "the live volume at the end",
                    image.len_bytes(),
                    image.held(),
                );
                if self.is(Invariant::BComplete) {
                    self.end = Some(self.carried(i, image));
                }
            }
            Event::BPrime {
                ref b_prime,
                ref live,
            } => {
                if self.open(Invariant::BPrimeFaithful) {
                    let unreadable = self.unreadable_set();
                    self.note_image(Invariant::BPrimeFaithful, &unreadable, false);
                }
                if self.open(Invariant::BPrimeFaithful) && b_prime != live {
                    let unreadable = self.unreadable_set();
                    if let Some((detail, who)) =
                        diff_images(&self.layout, &self.initial, live, b_prime, &unreadable)
                    {
                        self.found_here(
                            Invariant::BPrimeFaithful,
                            true,
                            format!("B' differs from VLUN B when the copy ended: {detail}"),
                            who,
                        );
                    }
                }
            }
            Event::Unreadable { block, .. } => {
                self.unreadable.push(block);
            }
        }
        self.advance(event);
    }

    /// Past `event`: the run of `Unreadable` events ends at any other event.
    fn advance(&mut self, event: &Event) {
        if !matches!(event, Event::Unreadable { .. }) {
            self.unreadable.clear();
        }
        self.next += 1;
    }

    fn unreadable_set(&self) -> BTreeSet<u64> {
        self.unreadable.iter().copied().collect()
    }

    /// `inv` judged on an image of the volume's size of which the blocks in
    /// `unreadable` could not be read; `whole`: the judgement needs every block (a
    /// balance sum), so an image with one refused block is not judged at all.
    fn note_image(&mut self, inv: Invariant, unreadable: &BTreeSet<u64>, whole: bool) {
        let blocks = self.layout.volume_blocks;
        let refused = unreadable.range(..blocks).count() as u64;
        let judged = match (whole, refused) {
            (_, 0) => blocks,
            (true, _) => 0,
            (false, _) => blocks - refused,
        };
        let c = &mut self.coverage[slot(inv)];
        c.blocks = c.blocks.saturating_add(blocks);
        c.judged = c.judged.saturating_add(judged);
        c.unreadable = c.unreadable.saturating_add(refused);
    }

    fn carried(&self, at: usize, image: Arc<Image>) -> Carried {
        Carried {
            at,
            image,
            unreadable: self.unreadable_set(),
        }
    }

    /// An archive claimed (bank-conserved, backup-faithful): `image`, or `None` for
    /// an archive received equal to VLUN A as declared ([`Judge::declared`]).
    fn archive(&mut self, image: Option<&Image>) {
        match (image, self.declared.clone()) {
            (Some(image), _) => self.judge_sum("the archive", image.len_bytes(), image.held()),
            (None, Some(d)) => self.judge_sum("the archive", d.len_bytes(), d.held()),
            (None, None) => {}
        }
        if !self.open(Invariant::BackupFaithful) {
            return;
        }
        if self.abandoned {
            self.found_here(
                Invariant::BackupFaithful,
                true,
                "an archive claimed after the backup was abandoned".to_string(),
                Vec::new(),
            );
            return;
        }
        if self.retired {
            self.found_here(
                Invariant::BackupFaithful,
                true,
                "an archive claimed after VLUN A was retired".to_string(),
                Vec::new(),
            );
            return;
        }
        match (&self.declared, image) {
            (None, _) => self.found_here(
                Invariant::BackupFaithful,
                true,
                "archive written before VLUN A was declared consistent".to_string(),
                Vec::new(),
            ),
            (Some(d), Some(image)) if !d.equals(image) => {
                let (detail, who) = diff_images(
                    &self.layout,
                    &self.initial,
                    &d.unpack(),
                    image,
                    &BTreeSet::new(),
                )
                .unwrap_or_default();
                self.found_here(
                    Invariant::BackupFaithful,
                    true,
                    format!("archive differs from VLUN A as declared consistent: {detail}"),
                    who,
                );
            }
            (Some(_), _) => self.archived = true,
        }
    }

    /// bank-conserved on an image claimed consistent.
    /// The image is `len_bytes` long and holds `held` (as [`Image::held`]).
    fn judge_sum<'h>(
        &mut self,
        what: &str,
        len_bytes: u64,
        held: impl Iterator<Item = (u64, &'h [u8])>,
    ) {
        if !self.bank_judged() || !self.open(Invariant::BankConserved) {
            return;
        }
        if len_bytes != self.initial.len(&self.layout) {
            return; // backup-faithful reports a wrong-sized image
        }
        let unreadable = self.unreadable_set();
        self.note_image(Invariant::BankConserved, &unreadable, true);
        if !unreadable.is_empty() {
            // A sum over an image with a lost block says nothing: not judged, and
            // the verdict says so (`PartJudged`).
            return;
        }
        let (layout, initial) = (&self.layout, self.initial.as_ref());
        let sum = held.fold(self.initial_total, |sum, (b, data)| {
            sum.wrapping_add(block_sum_change(layout, initial, b, data))
        });
        if sum != self.initial_total {
            let initial = self.initial_total;
            self.found_here(
                Invariant::BankConserved,
                false,
                format!("balances in {what} sum to {sum}, initially {initial}"),
                Vec::new(),
            );
        }
    }

    /// Attempt `txn`'s entry among the open ones, made (with a spare operation list)
    /// when absent.
    #[inline]
    fn open_attempt(&mut self, txn: TxnId) -> &mut Open {
        let spare = &mut self.spare_ops;
        self.txns.entry(txn).or_insert_with(|| Open {
            ops: spare.pop().unwrap_or_default(),
            ..Open::default()
        })
    }

    /// Attempt `txn` committed (`commit`) or aborted at the current event.
    fn end_txn(&mut self, txn: TxnId, commit: bool) {
        if !self.follows_txns() {
            return;
        }
        self.seen(txn);
        let t = self.txns.remove(&txn).unwrap_or_default();
        if let Some(label) = t.label {
            self.ended_labels[txn as usize % ENDED_LABELS] = (txn, label);
        }
        self.end_open(txn, commit, &t);
        let mut ops = t.ops;
        if ops.capacity() != 0 {
            ops.clear();
            self.spare_ops.push(ops);
        }
    }

    /// [`Judge::end_txn`] of attempt `txn`, whose entry among the open ones was `t`.
    fn end_open(&mut self, txn: TxnId, commit: bool, t: &Open) {
        let i = self.next;
        if t.begin.is_some() {
            self.max_end_begun = self.max_end_begun.max(i);
        }
        if self.is(Invariant::AIsolated)
            && self.last_split.is_some()
            && t.begin.is_none_or(|b| b >= self.last_split.unwrap_or(0))
        {
            self.ended_new.insert(txn);
        }
        let (layout, initial) = (self.layout, self.initial.as_ref());
        if commit && t.writes && self.replays() {
            for c in self.cycles.iter_mut() {
                if let Some(r) = c.replay.as_mut() {
                    r.note(&self.replay.image, &t.ops);
                }
            }
            self.replay.commit(
                &layout,
                initial,
                txn,
                i,
                &t.ops,
                &mut self.own,
                Some(&mut self.blocks),
            );
        }
        if !self.is(Invariant::AConsistent) {
            return;
        }
        let mut any = false;
        for c in self.cycles.iter_mut() {
            let old = match (t.begin, c.split) {
                (Some(b), Some(s)) => b < s,
                _ => false,
            };
            if !old {
                continue;
            }
            any = true;
            c.old_open.remove(&txn);
            c.last_old_end = c.last_old_end.max(i);
            if commit && t.writes {
                if let Some(r) = c.replay.as_mut() {
                    r.commit(
                        &self.replay.image,
                        &layout,
                        initial,
                        txn,
                        i,
                        &t.ops,
                        &mut self.own,
                    );
                }
            }
        }
        if any {
            self.judge_cycles(false);
        }
    }

    /// Judges the cycles whose verdict can no longer change, first to last (all of
    /// them at the end of the record).
    fn judge_cycles(&mut self, at_end: bool) {
        while let Some(c) = self.cycles.front() {
            let ready = at_end
                || (c.split.is_some()
                    && match c.declared {
                        None => c.closed,
                        Some(_) => c.old_open.is_empty(),
                    });
            if !ready {
                return;
            }
            let c = self.cycles.pop_front().expect("front exists");
            if !self.open_in(Invariant::AConsistent, c.number) {
                continue;
            }
            if let Some(d) = &c.declared {
                let unreadable = d.unreadable.clone();
                self.note_image(Invariant::AConsistent, &unreadable, false);
            }
            if let Some(f) = self.judge_cycle(c) {
                self.note_found(Invariant::AConsistent, f);
            }
        }
    }

    fn judge_cycle(&self, c: CycleJudge) -> Option<Found> {
        let d = c.declared?;
        let ci = d.at;
        let at = ci.max(c.split.map_or(0, |_| c.last_old_end));
        let cycle = Some(c.number);
        // Without a split: no OLD commit, the initial image.
        let (error, changes, base) = match c.replay {
            Some(r) => (r.error, r.changes, &self.replay.image),
            None => (
                Replay::new(&self.layout, &self.initial).error,
                Changes::default(),
                &RecordImage::default(),
            ),
        };
        if let Some((i, detail, who)) = error {
            return Some(Found {
                index: i.max(ci),
                cycle,
                row: None,
                detail,
                txns: who,
            });
        }
        let replay = Overlaid {
            base,
            changes: &changes,
        };
        let (detail, mut who) =
            replay.diff(&self.layout, &self.initial, &d.image, &d.unreadable)?;
        // Without a split there are no OLD attempts.
        let open: Vec<TxnId> = match c.split {
            Some(_) => c.open_at_declared.into_iter().collect(),
            None => Vec::new(),
        };
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
                crate::oracle::list_text(&open)
            )
        };
        Some(Found {
            index: at,
            cycle,
            row: None,
            detail: format!("VLUN A image at event {ci}: {detail}{open_note}"),
            txns: who,
        })
    }

    /// A check of the live volume at the end made block by block
    /// ([`Judge::end_block`], [`Judge::end_streamed`]), in place of an
    /// [`Event::End`] that carries the whole image.
    pub fn end_check(&self) -> EndCheck {
        EndCheck {
            sum: self.initial_total,
            ..EndCheck::default()
        }
    }

    /// Block `block` of the live volume at the end holds `data` (the whole block, or
    /// its leading bytes with zeros after them). Every block that may differ from its
    /// initial content is given once, in any order; blocks past the volume are
    /// ignored.
    pub fn end_block(&self, check: &mut EndCheck, block: u64, data: &[u8]) {
        let (layout, initial) = (&self.layout, self.initial.as_ref());
        let held = &data[..engine::store::content_len(data)];
        if check.unsure || block >= layout.volume_blocks || is_initial(layout, initial, block, held)
        {
            return;
        }
        if self.bank_judged() {
            check.sum = check
                .sum
                .wrapping_add(block_sum_change(layout, initial, block, held));
        }
        if !self.is(Invariant::BComplete) {
            return;
        }
        if held.len() > PENDING_BYTES_MAX {
            self.end_match(check, block, held);
            return;
        }
        self.replay.image.prefetch_block(layout, block);
        let mut bytes = [0u8; PENDING_BYTES_MAX];
        bytes[..held.len()].copy_from_slice(held);
        check.pending.push_back((block, held.len() as u8, bytes));
        if check.pending.len() > HINT_AHEAD_BLOCKS {
            self.end_pending(check, 1);
        }
    }

    /// Compares the `n` oldest blocks waiting in `check` (all when fewer).
    fn end_pending(&self, check: &mut EndCheck, n: usize) {
        for _ in 0..n {
            let Some((block, len, bytes)) = check.pending.pop_front() else {
                return;
            };
            self.end_match(check, block, &bytes[..usize::from(len)]);
        }
    }

    /// Block `block` of the live volume at the end, holding `held`, compared with
    /// the replay.
    fn end_match(&self, check: &mut EndCheck, block: u64, held: &[u8]) {
        if !check.unsure
            && !self.replay.image.match_block(
                &self.layout,
                &self.initial,
                &mut check.matching,
                block,
                held,
            )
        {
            check.unsure = true;
        }
    }

    /// Ends a block-by-block check of the live volume at the end: true when the
    /// volume as given gives exactly the verdicts an [`Event::End`] carrying its image
    /// would (no violation of bank-conserved or B-complete), and the judge is past
    /// that event. False, the judge unchanged, when it may not (a difference found, a
    /// replay that failed, a block integrity mode refused just before): the caller
    /// then pushes the [`Event::End`] with the whole image, which names the first
    /// difference exactly.
    pub fn end_streamed(&mut self, mut check: EndCheck) -> bool {
        self.end_pending(&mut check, usize::MAX);
        if check.unsure || !self.unreadable.is_empty() || !self.layout.is_valid() {
            return false;
        }
        if self.bank_judged()
            && self.open(Invariant::BankConserved)
            && check.sum != self.initial_total
        {
            return false;
        }
        if self.is(Invariant::BComplete)
            && (self.replay.error.is_some()
                || !self.replay.image.matched(
                    &self.layout,
                    &self.initial,
                    &check.matching,
                    &BTreeSet::new(),
                ))
        {
            return false;
        }
        let none = BTreeSet::new();
        if self.bank_judged() && self.open(Invariant::BankConserved) {
            self.note_image(Invariant::BankConserved, &none, true);
        }
        if self.is(Invariant::BComplete) {
            self.note_image(Invariant::BComplete, &none, false);
        }
        self.next += 1;
        true
    }

    /// The labels of the attempts the findings so far name, where the judge was told
    /// them ([`Judge::label`]) while the attempt was open: attempt id and label, by id.
    pub fn found_labels(&self) -> Vec<(TxnId, u32)> {
        self.found_labels.iter().map(|(&t, &l)| (t, l)).collect()
    }

    /// Every violated invariant's first violation, in [`Invariant::ALL`] order.
    pub fn finish(self) -> Vec<Violation> {
        self.finish_with_coverage().0
    }

    /// As [`Judge::finish`], with how much of its images each invariant judged
    /// ([`PartJudged`], in [`Invariant::ALL`] order).
    pub fn finish_with_coverage(mut self) -> (Vec<Violation>, [PartJudged; Invariant::ALL.len()]) {
        if self.is(Invariant::AConsistent) {
            self.judge_cycles(true);
        }
        if self.is(Invariant::BComplete) {
            if let Some(end) = self.end.take() {
                self.note_image(Invariant::BComplete, &end.unreadable, false);
                let found = match self.replay.error.take() {
                    Some((i, detail, who)) => Some(Found {
                        index: i,
                        cycle: None,
                        row: None,
                        detail,
                        txns: who,
                    }),
                    None => self
                        .replay
                        .image
                        .diff(&self.layout, &self.initial, &end.image, &end.unreadable)
                        .map(|(d, who)| Found {
                            index: end.at,
                            cycle: None,
                            row: None,
                            detail: format!("live volume at the end: {d}"),
                            txns: who,
                        }),
                };
                if let Some(f) = found {
                    self.note_found(Invariant::BComplete, f);
                }
            }
        }
        if self.splits == 0 {
            // A record without a split has no VLUN A to isolate.
            self.found[slot(Invariant::AIsolated)] = None;
        }
        // A finding about a cycle's copy, that cycle lost since: an observation.
        for (k, &inv) in Invariant::ALL.iter().enumerate() {
            let cycle = self.found[k].as_ref().and_then(|f| f.cycle);
            if self.lost_copy(inv, cycle) {
                let lost = self.found[k].take();
                if self.found_lost[k].is_none() {
                    self.found_lost[k] = lost;
                }
            }
        }
        let several = self.cycle_count.begun() > 1;
        let split_cycles = std::mem::take(&mut self.split_cycles);
        let split_cycles = &split_cycles;
        let coverage = self.coverage;
        let refused_first = self.refused_first;
        let mut disruption_other = self.disruption_other.take();
        let violations = Invariant::ALL
            .iter()
            .zip(self.found.into_iter().zip(self.found_lost))
            .flat_map(|(&invariant, (f, lost))| {
                // Non-disruption's first finding, then the first of the other kind
                // after it (in the order of the record).
                let nd = invariant == Invariant::NonDisruption;
                let other = if nd { disruption_other.take() } else { None };
                [
                    (f, false, nd && refused_first),
                    (other, false, nd && !refused_first),
                    (lost, true, false),
                ]
                .into_iter()
                .filter_map(move |(f, lost_cycle, write_refused)| {
                    let f = f?;
                    let cycle = f
                        .row
                        .or(f
                            .cycle
                            .map(|n| split_cycles.get(n as usize - 1).copied().unwrap_or(n)))
                        .filter(|_| several);
                    let detail = match cycle {
                        Some(n) => format!("cycle {n}: {}", f.detail),
                        None => f.detail,
                    };
                    Some(Violation {
                        invariant,
                        event_index: f.index,
                        detail,
                        txns: f.txns,
                        lost_cycle,
                        cycle,
                        write_refused,
                    })
                })
            })
            .collect();
        (violations, coverage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::history::write_record;
    use crate::workload::InitialValues;

    /// `Judge::push_owned` forgets the events of plain data rather than dropping them:
    /// each of their fields is named here (a field added to one of them stops this
    /// compiling) and must be `Copy`, so none of them ever holds anything to free.
    #[test]
    fn the_events_forgotten_hold_nothing_to_free() {
        fn copy<T: Copy>(_: &T) {}
        let events = [
            Event::Begin {
                txn: 1,
                vlun: Vlun::A,
                gate_wait_ticks: 2,
            },
            Event::ReadBlock {
                txn: 1,
                vlun: Vlun::B,
                block: 3,
                digest: 4,
            },
            Event::WriteBlock {
                txn: 1,
                vlun: Vlun::B,
                block: 3,
                digest: 5,
            },
            Event::ReadRecord {
                txn: 1,
                record: 6,
                value: -7,
            },
            Event::WriteRecord {
                txn: 1,
                record: 6,
                value: 8,
            },
            Event::Commit {
                txn: 1,
                backup_wait_ticks_max: 9,
            },
            Event::Abort {
                txn: 1,
                backup_wait_ticks_max: 10,
            },
            Event::WriteRefused {
                txn: 1,
                vlun: Vlun::B,
                block: 11,
                data_area_blocks: 12,
                at_ticks: 13,
            },
        ];
        let mut named = 0;
        for e in &events {
            match e {
                Event::Begin {
                    txn,
                    vlun,
                    gate_wait_ticks,
                } => {
                    copy(txn);
                    copy(vlun);
                    copy(gate_wait_ticks);
                }
                Event::ReadBlock {
                    txn,
                    vlun,
                    block,
                    digest,
                }
                | Event::WriteBlock {
                    txn,
                    vlun,
                    block,
                    digest,
                } => {
                    copy(txn);
                    copy(vlun);
                    copy(block);
                    copy(digest);
                }
                Event::ReadRecord { txn, record, value }
                | Event::WriteRecord { txn, record, value } => {
                    copy(txn);
                    copy(record);
                    copy(value);
                }
                Event::Commit {
                    txn,
                    backup_wait_ticks_max,
                }
                | Event::Abort {
                    txn,
                    backup_wait_ticks_max,
                } => {
                    copy(txn);
                    copy(backup_wait_ticks_max);
                }
                Event::WriteRefused {
                    txn,
                    vlun,
                    block,
                    data_area_blocks,
                    at_ticks,
                } => {
                    copy(txn);
                    copy(vlun);
                    copy(block);
                    copy(data_area_blocks);
                    copy(at_ticks);
                }
                _ => continue,
            }
            named += 1;
        }
        assert_eq!(named, events.len());
    }

    /// Two records of 16 bytes a block.
    const L: Layout = Layout {
        block_size: 32,
        volume_blocks: 4,
        record_size: 16,
    };

    /// A judge past one committed transfer (record 3: 7 → 5, record 4: 7 → 9).
    fn judged_transfer(initial: &Initial) -> Judge<'_> {
        let mut j = Judge::new(L, Cow::Borrowed(initial), true, None, None);
        for e in [
            Event::Begin {
                txn: 0,
                vlun: Vlun::A,
                gate_wait_ticks: 0,
            },
            Event::ReadRecord {
                txn: 0,
                record: 3,
                value: 7,
            },
            Event::WriteRecord {
                txn: 0,
                record: 3,
                value: 5,
            },
            Event::WriteRecord {
                txn: 0,
                record: 4,
                value: 9,
            },
            Event::Commit {
                txn: 0,
                backup_wait_ticks_max: 0,
            },
        ] {
            j.push(&e);
        }
        j
    }

    /// The live volume given block by block gives the verdicts of the `End` event that
    /// carries it, or declines (the judge unchanged) so that the event names the
    /// difference: a correct volume, a record changed (the sum broken or kept), a
    /// written block missing.
    #[test]
    fn the_end_checked_block_by_block_agrees_with_the_end_event() {
        let initial = Initial::Pattern(InitialValues {
            value: 7,
            records: 8,
        });
        let with = |changes: &[(u64, i64, u64)]| {
            let mut image = Image::unchanged(L.image_bytes() as u64);
            for &(r, value, stamp) in changes {
                image.update_block(&L, &initial, L.block_of(r), |d| {
                    write_record(&mut d[L.offset_in_block(r)..], value, stamp)
                });
            }
            image
        };
        let right = with(&[(3, 5, 1), (4, 9, 1)]);
        let cases = [
            (right.clone(), true),
            (with(&[(3, 5, 1), (4, 8, 1)]), false),
            (with(&[(3, 6, 1), (4, 8, 1)]), false),
            (with(&[(3, 5, 1)]), false),
        ];
        let mut verdicts = Vec::new();
        for (live, agrees) in cases {
            let mut streamed = judged_transfer(&initial);
            let mut check = streamed.end_check();
            let mut buf = vec![0u8; L.block_size];
            // Every block, untouched ones too, whole (trailing zeros included).
            for b in 0..L.volume_blocks {
                live.block_into(&L, &initial, b, &mut buf);
                streamed.end_block(&mut check, b, &buf);
            }
            assert_eq!(streamed.end_streamed(check), agrees);
            let mut whole = judged_transfer(&initial);
            whole.push(&Event::End { live: live.clone() });
            let want = whole.finish();
            if !agrees {
                assert_eq!(streamed.events(), 5, "declined: the judge is unchanged");
                streamed.push(&Event::End { live });
            }
            assert_eq!(streamed.events(), 6);
            assert_eq!(streamed.finish(), want);
            verdicts.push(want);
        }
        // Both verdicts reached: held, B-complete and bank-conserved violated.
        assert!(verdicts[0].is_empty());
        let kinds = |v: &[Violation]| v.iter().map(|x| x.invariant).collect::<Vec<_>>();
        assert_eq!(
            kinds(&verdicts[1]),
            vec![Invariant::BComplete, Invariant::BankConserved]
        );
        assert_eq!(kinds(&verdicts[2]), vec![Invariant::BComplete]);
        assert_eq!(
            kinds(&verdicts[3]),
            vec![Invariant::BComplete, Invariant::BankConserved]
        );
    }

    /// VLUN A as declared is held until VLUN A is retired, then dropped; an archive
    /// claimed after the retire (with no new declaration) breaks backup-faithful, and
    /// one after a new declaration is judged against that one.
    #[test]
    fn the_declared_image_is_dropped_at_retire() {
        let initial = Initial::Pattern(InitialValues {
            value: 7,
            records: 8,
        });
        let a = {
            let mut image = Image::unchanged(L.image_bytes() as u64);
            image.update_block(&L, &initial, L.block_of(3), |d| {
                write_record(&mut d[L.offset_in_block(3)..], 5, 1)
            });
            image
        };
        let backup = |j: &mut Judge<'_>, archives_after_retire: usize, redeclare: bool| {
            j.push(&Event::Split);
            j.push(&Event::AConsistent { image: a.clone() });
            assert!(j.declared().is_some(), "held from the declaration");
            j.push(&Event::Archive { image: a.clone() });
            assert!(j.declared().is_some(), "held until the retire");
            j.push(&Event::Retire {
                extra_space_blocks: 0,
            });
            assert!(j.declared().is_none(), "dropped at the retire");
            if redeclare {
                j.push(&Event::AConsistent { image: a.clone() });
            }
            for _ in 0..archives_after_retire {
                j.push(&Event::Archive { image: a.clone() });
            }
        };
        let faithful = |v: &[Violation]| {
            v.iter()
                .filter(|x| x.invariant == Invariant::BackupFaithful)
                .map(|x| x.detail.clone())
                .collect::<Vec<_>>()
        };
        let mut clean = Judge::new(L, Cow::Borrowed(&initial), true, None, None);
        backup(&mut clean, 0, false);
        assert!(faithful(&clean.finish()).is_empty());
        let mut late = Judge::new(L, Cow::Borrowed(&initial), true, None, None);
        backup(&mut late, 1, false);
        assert_eq!(
            faithful(&late.finish()),
            vec!["an archive claimed after VLUN A was retired".to_string()]
        );
        let mut redeclared = Judge::new(L, Cow::Borrowed(&initial), true, None, None);
        backup(&mut redeclared, 1, true);
        assert!(faithful(&redeclared.finish()).is_empty());
    }

    /// In a record of several backup cycles, a cycle lost while its VLUN A was live
    /// (abandoned, or given up on an archive pass) drops only its own copy: a wrong
    /// archive there is a violation about a lost cycle (observed, `lost_cycle`), one
    /// in a cycle that completed counts for the claim, whichever comes first; a
    /// backup given up before its split (no VLUN A) loses no copy.
    #[test]
    fn a_lost_cycle_drops_only_its_own_copy() {
        let initial = Initial::Pattern(InitialValues {
            value: 7,
            records: 8,
        });
        let image = |value: i64| {
            let mut image = Image::unchanged(L.image_bytes() as u64);
            image.update_block(&L, &initial, L.block_of(3), |d| {
                write_record(&mut d[L.offset_in_block(3)..], value, 1)
            });
            image
        };
        let (a, wrong) = (image(5), image(6));
        let mut seen = [false; 2];
        for loss in [Event::Abandon, Event::GiveUp] {
            for lost in [None, Some(0), Some(1), Some(2)] {
                for bad in [None, Some(0), Some(1), Some(2)] {
                    let mut j = Judge::new(L, Cow::Borrowed(&initial), true, None, None);
                    for c in 0..3 {
                        j.push(&Event::Split);
                        j.push(&Event::AConsistent { image: a.clone() });
                        if lost == Some(c) {
                            j.push(&loss);
                        }
                        let archived = if bad == Some(c) { &wrong } else { &a };
                        if lost != Some(c) || bad == Some(c) {
                            j.push(&Event::Archive {
                                image: archived.clone(),
                            });
                        }
                        j.push(&Event::Retire {
                            extra_space_blocks: 0,
                        });
                    }
                    let faithful: Vec<Violation> = j
                        .finish()
                        .into_iter()
                        .filter(|v| v.invariant == Invariant::BackupFaithful)
                        .collect();
                    let case = format!("{loss:?}, lost {lost:?}, wrong archive {bad:?}");
                    match bad {
                        None => assert!(faithful.is_empty(), "{case}: {faithful:?}"),
                        Some(b) => {
                            assert_eq!(faithful.len(), 1, "{case}: {faithful:?}");
                            let v = &faithful[0];
                            assert_eq!(v.lost_cycle, lost == Some(b), "{case}: {v:?}");
                            assert!(
                                v.detail.starts_with(&format!("cycle {}: ", b + 1)),
                                "{case}: {v:?}"
                            );
                            seen[usize::from(v.lost_cycle)] = true;
                        }
                    }
                }
            }
        }
        assert_eq!(seen, [true, true], "both kinds of finding reached");
        // A quiesce given up before any split, and one after cycle 2 retired: neither
        // loses a copy, so cycle 4's wrong archive counts, named as summary.csv
        // numbers it (a request a cycle).
        let mut j = Judge::new(L, Cow::Borrowed(&initial), true, None, None);
        j.push(&Event::QuiesceTimeout { attempt: 1 });
        j.push(&Event::GiveUp);
        j.push(&Event::Split);
        j.push(&Event::AConsistent { image: a.clone() });
        j.push(&Event::Archive { image: a.clone() });
        j.push(&Event::Retire {
            extra_space_blocks: 0,
        });
        j.push(&Event::GiveUp);
        j.push(&Event::Split);
        j.push(&Event::AConsistent { image: a.clone() });
        j.push(&Event::Archive { image: wrong });
        let v: Vec<Violation> = j
            .finish()
            .into_iter()
            .filter(|v| v.invariant == Invariant::BackupFaithful)
            .collect();
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(
            !v[0].lost_cycle && v[0].detail.starts_with("cycle 4: "),
            "{v:?}"
        );
    }

    /// One record of 32 bytes a block, the initial image computed: the judge keeps
    /// each block's entry in its record's slot of the replay (the shared form).
    const ONE: Layout = Layout {
        block_size: 32,
        volume_blocks: 4,
        record_size: 32,
    };

    /// The digest of a block of [`ONE`] holding just record `value` written by `txn`.
    fn record_block(value: i64, txn: TxnId) -> u64 {
        let mut b = vec![0u8; ONE.block_size];
        write_record(&mut b, value, stamp_of(txn));
        block_digest(&b)
    }

    fn txn(id: TxnId, body: &[Event]) -> Vec<Event> {
        let mut events = vec![Event::Begin {
            txn: id,
            vlun: Vlun::A,
            gate_wait_ticks: 0,
        }];
        events.extend_from_slice(body);
        events.push(Event::Commit {
            txn: id,
            backup_wait_ticks_max: 0,
        });
        events
    }

    /// In the shared form a commit that changes a record whose block's latest content
    /// was the block holding just that record keeps that content as the latest one (it
    /// was written; the new record's block was not): txn 0 commits record 0 = 5 with
    /// no block write, txn 1 then writes the block holding just that record (its
    /// latest content is now derived from the record), txn 2 commits record 0 = 6
    /// and its block write is lost. A read of the block holding record 0 = 6 returns
    /// content nobody wrote (no-torn-write violated); a read of what txn 1 wrote is
    /// one of a content written.
    #[test]
    fn a_commit_keeps_the_latest_content_written_not_its_records_block() {
        assert!(
            BlocksSeen::can_share(&ONE, true),
            "the shared form is the one judged"
        );
        let initial = Initial::Pattern(InitialValues {
            value: 7,
            records: 4,
        });
        let mut torn = Vec::new();
        for (read, never_written) in [(record_block(5, 0), false), (record_block(6, 2), true)] {
            let mut j = Judge::new(ONE, Cow::Borrowed(&initial), false, None, None);
            let events = [
                txn(
                    0,
                    &[Event::WriteRecord {
                        txn: 0,
                        record: 0,
                        value: 5,
                    }],
                ),
                txn(
                    1,
                    &[Event::WriteBlock {
                        txn: 1,
                        vlun: Vlun::A,
                        block: 0,
                        digest: record_block(5, 0),
                    }],
                ),
                txn(
                    2,
                    &[Event::WriteRecord {
                        txn: 2,
                        record: 0,
                        value: 6,
                    }],
                ),
                txn(
                    3,
                    &[Event::ReadBlock {
                        txn: 3,
                        vlun: Vlun::A,
                        block: 0,
                        digest: read,
                    }],
                ),
            ];
            for e in events.iter().flatten() {
                j.push(e);
            }
            let found: Vec<Violation> = j
                .finish()
                .into_iter()
                .filter(|v| v.invariant == Invariant::NoTornWrite)
                .collect();
            assert_eq!(
                found.len(),
                usize::from(never_written),
                "{read:#x}: {found:?}"
            );
            torn.extend(found);
        }
        assert_eq!(torn.len(), 1, "both verdicts reached");
        assert!(torn[0].detail.contains("was never written"), "{torn:?}");
    }

    /// A write refused by the full data area violates non-disruption at the refusal,
    /// in the cycle it happened in (`cycle 2: ` in a record of two), naming the
    /// attempt, block, tick and area; the same record without the refusal, or with
    /// only a wait within the limit, holds it. The first finding counts: a later
    /// refusal does not replace an earlier long wait.
    #[test]
    fn a_write_refused_by_the_full_data_area_violates_non_disruption() {
        let refused = Event::WriteRefused {
            txn: 4,
            vlun: Vlun::B,
            block: 2,
            data_area_blocks: 1,
            at_ticks: 900,
        };
        let record = |with: Option<Event>, wait: Tick| {
            let mut events = vec![Event::Split, Event::BReady];
            events.extend(txn(3, &[]));
            events.push(Event::Retire {
                extra_space_blocks: 0,
            });
            events.push(Event::Split);
            events.push(Event::BReady);
            events.push(Event::Begin {
                txn: 4,
                vlun: Vlun::B,
                gate_wait_ticks: 0,
            });
            events.extend(with);
            events.push(Event::Abort {
                txn: 4,
                backup_wait_ticks_max: wait,
            });
            events
        };
        let judged = |events: Vec<Event>| {
            let initial = Initial::Pattern(InitialValues {
                value: 7,
                records: L.records(),
            });
            let mut j = Judge::new(L, Cow::Borrowed(&initial), false, Some(100), None);
            for e in &events {
                j.push(e);
            }
            j.finish()
                .into_iter()
                .filter(|v| v.invariant == Invariant::NonDisruption)
                .collect::<Vec<_>>()
        };
        let found = judged(record(Some(refused.clone()), 0));
        assert_eq!(found.len(), 1, "{found:?}");
        let v = &found[0];
        assert_eq!(
            v.detail,
            "cycle 2: txn 4's write of block 2 through VLUN B failed at tick 900: the data area (1 block) was full (break-guest-write); the attempt was aborted, not retried"
        );
        assert_eq!((v.cycle, v.event_index, &v.txns), (Some(2), 8, &vec![4]));
        assert!(judged(record(None, 100)).is_empty());
        assert!(v.write_refused);
        // A wait past the limit found first stays the first finding, and the search
        // goes on to the refused write after it (claimed by every policy).
        let mut waited_first = record(None, 0);
        waited_first[2] = Event::Begin {
            txn: 3,
            vlun: Vlun::A,
            gate_wait_ticks: 101,
        };
        waited_first.insert(8, refused.clone());
        let found = judged(waited_first.clone());
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0]
                .detail
                .starts_with("cycle 1: txn 3 waited 101 ticks")
                && !found[0].write_refused,
            "{found:?}"
        );
        assert!(
            found[1].detail.contains("txn 4's write of block 2") && found[1].write_refused,
            "{found:?}"
        );
        // Only the first refused write is kept.
        waited_first.insert(9, refused.clone());
        assert_eq!(judged(waited_first).len(), 2);
        // A wait past the limit after a refused write is found too (the waits are
        // claimed by the policies that claim non-disruption whole), and only the
        // first such wait.
        let found = judged(record(Some(refused), 101));
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].write_refused && !found[1].write_refused,
            "{found:?}"
        );
        assert!(
            found[1]
                .detail
                .starts_with("cycle 2: txn 4 waited 101 ticks at once"),
            "{found:?}"
        );
        assert!(found[0].event_index < found[1].event_index);
        // Each names its cycle: a row of cycle 1 does not carry cycle 2's.
        assert_eq!((found[0].cycle, found[1].cycle), (Some(2), Some(2)));
    }

    #[test]
    fn id_ranges_merge_and_answer() {
        let mut r = IdRanges::default();
        for id in [5, 7, 6, 1, 2, 9] {
            r.insert(id);
        }
        assert_eq!(r.ranges.len(), 3); // 1..3, 5..8, 9..10
        assert!(r.contains(6) && r.contains(1) && r.contains(9));
        assert!(!r.contains(3) && !r.contains(8) && !r.contains(0));
        r.insert(TxnId::MAX);
        assert!(r.contains(TxnId::MAX));
        r.clear();
        assert!(!r.contains(6));
    }
}
