//! The stateright model of the one-way mirror protocol, over the real engine, in the
//! shape of stateright's `examples/2pc.rs`: the state ([`State`], in `state.rs`), the
//! actions, `next_state`, and the properties as named functions.
//!
//! The state holds a real [`Device<MemStore>`]; every action that touches data calls
//! it (`read`, `write`, `split`, `backup_a`, `retire_a`), so the model checks the
//! engine's routing, not a second copy of it (DESIGN.md §3). The transactions' programs
//! are in `program.rs`, the verdicts each state carries in `verdicts.rs`, the text of a
//! trace's steps in `narrate.rs`.
//!
//! Reading a record reads its whole block through the transaction's VLUN; writing one
//! is a read-modify-write of the whole block through that VLUN, done as one step (a
//! page latch: the model does not let two transactions tear one block
//! read-modify-write, so every failure found is the one-way mirror's, not the page
//! cache's). An abort (when enabled) writes the before-images back the same way and
//! releases the locks.
//!
//! Old transactions begin before the split and use VLUN A; new ones begin after it
//! and use VLUN B. When every old transaction has ended, VLUN A is declared
//! consistent (its image read through the engine), backed up, and retired; the run
//! ends when every transaction has ended and A is retired, with VLUN B's image.

use std::sync::atomic::{AtomicBool, AtomicU16, AtomicUsize, Ordering};
use std::sync::Arc;

use engine::{Device, DeviceConfig, MemStore, Phase, Vlun};
use sim::history::{block_digest, read_record, stamp_of, write_record, Event, Layout};
use sim::oracle::Invariant;
use stateright::{Model, Property};

use crate::config::{CheckConfig, Locks, TXNS_MAX};
use crate::coverage::CoverageCounters;
use crate::events::EventLog;
use crate::narrate::{bits, short_writer, writer, Notes};
use crate::program::{self, Op, Program, Role, INITIAL_BALANCE};
use crate::state::{release, State, Status, TxnState, BLOCK_BYTES_MAX, LOCK_ITEMS_MAX};
use crate::verdicts::{
    verdicts, A_ARCHIVED, A_CONSISTENT_REACHED, A_RETIRED, NEW_WRITE_A_LIVE, RUN_ENDED,
    SPLIT_BOTH_ACTIVE,
};

/// What the model can do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Transaction `.0` performs its next program step `.1`.
    Txn(u8, Op),
    /// Transaction `.0` aborts: writes its before-images back, releases its locks.
    Abort(u8),
    /// The backup request: the device splits into VLUN A and VLUN B.
    Split,
    /// The last old transaction has ended: VLUN A is declared consistent.
    AConsistent,
    /// VLUN A is archived.
    BackupA,
    /// VLUN A is discarded and its extra space freed.
    RetireA,
    /// The run ends: VLUN B's image is recorded.
    End,
}

/// The model: a configuration and the programs it implies.
#[derive(Debug, Clone)]
pub struct OwmModel {
    pub cfg: CheckConfig,
    pub layout: Layout,
    pub programs: Vec<Program>,
    pub initial: Vec<u8>,
    /// The digest of each block of `initial`.
    pub initial_digests: Vec<u64>,
    /// States whose actions the checker asked for (shared by the clones the checker
    /// makes): with the unique-state count, what a bounded search left unexplored.
    pub expanded: Arc<AtomicUsize>,
    /// Set (by [`crate::check_with_progress`] on an interrupt): every state the
    /// checker pops from then on is judged but given no actions, so the search ends
    /// once its queue is drained, each popped state counted as reached, not explored.
    pub stop: Arc<AtomicBool>,
    /// With `Some`, each `always` property fails on the first violating state the
    /// checker judges and on no later one (bit per [`crate::INVARIANTS`] entry: already
    /// reported), so stateright's discovery is the first violating state of its
    /// search, not the last it met. Breadth first on one thread that is the shortest
    /// path, in action order (see `check`). Likewise each `sometimes` property holds
    /// only on the first witness the checker judges (bits from [`WITNESS_BIT0`] on):
    /// stateright records a discovery, a copy of the path, at every state where a
    /// `sometimes` property holds, and most states witness one. `None`: the
    /// properties are the plain verdicts (traces, the Explorer, tests).
    pub first_violation: Option<Arc<AtomicU16>>,
    /// True (the default): each state keeps the record of the path that first reached
    /// it ([`State::history`], [`OwmModel::history`]). False ([`OwmModel::for_search`]):
    /// it keeps none, and [`OwmModel::history`] gives an empty record; the verdicts
    /// are the same, judged from the state.
    pub records_history: bool,
    /// True: equal devices and written-content maps are made one per thread and the
    /// writes applied to them remembered (`state::interned`), which pays where a
    /// state's parts outlive it in a queue (breadth first); false (the default): each
    /// state copies what it changes, which pays where states drop soon after they are
    /// made (depth first, walks).
    pub shares_parts: bool,
    /// Per action kind, how often it was enabled and taken, counted as the checker
    /// explores (shared by the clones).
    pub coverage: Arc<CoverageCounters>,
}

impl OwmModel {
    /// Appends to `actions` the actions enabled in `s`, in the model's action order,
    /// counting nothing (no coverage, no expanded state): a random walk asks it at the
    /// depth bound whether its last state is terminal.
    pub fn enabled_actions(&self, s: &State, actions: &mut Vec<Action>) {
        for (t, (p, ts)) in self.programs.iter().zip(&s.txns).enumerate() {
            if ts.ended() {
                continue;
            }
            if let Some(&op) = p.ops.get(ts.pc as usize) {
                if self.op_enabled(s, t, op) {
                    actions.push(Action::Txn(t as u8, op));
                }
            }
            if self.cfg.aborts && ts.status == Status::Active && ts.written != 0 {
                actions.push(Action::Abort(t as u8));
            }
        }
        let old_begun = self
            .programs
            .iter()
            .zip(&s.txns)
            .all(|(p, t)| p.role == Role::New || t.status != Status::Idle);
        let old_ended = self
            .programs
            .iter()
            .zip(&s.txns)
            .all(|(p, t)| p.role == Role::New || t.ended());
        match s.phase() {
            Phase::Single if old_begun => actions.push(Action::Split),
            Phase::Split if s.declared.is_none() && old_ended => actions.push(Action::AConsistent),
            Phase::Split if s.declared.is_some() => actions.push(Action::BackupA),
            Phase::BackedUp => actions.push(Action::RetireA),
            Phase::Retired
                if !s.ended && s.txns[..self.programs.len()].iter().all(TxnState::ended) =>
            {
                actions.push(Action::End)
            }
            _ => {}
        }
    }

    /// True when two or more transactions run the same program (same role, records
    /// and amount): then `--symmetry on` reduces the space.
    pub fn has_interchangeable_transactions(&self) -> bool {
        crate::state::symmetry::Symmetry::of(&self.programs).is_some()
    }

    /// The model for `cfg` (which must be valid).
    pub fn new(cfg: &CheckConfig) -> Self {
        let layout = program::layout(cfg);
        let initial = program::initial_image(&layout);
        OwmModel {
            cfg: cfg.clone(),
            programs: program::programs(cfg, &layout),
            initial_digests: initial
                .chunks(layout.block_size)
                .map(block_digest)
                .collect(),
            initial,
            layout,
            expanded: Arc::default(),
            stop: Arc::default(),
            first_violation: None,
            records_history: true,
            shares_parts: false,
            coverage: Arc::default(),
        }
    }

    /// The lock item guarding `record`.
    pub fn item_of(&self, record: u64) -> u8 {
        program::lock_item(self.cfg.locks, &self.layout, record)
    }

    fn block_of_item(&self, item: u8) -> u64 {
        match self.cfg.locks {
            Locks::Record => self.layout.block_of(u64::from(item)),
            Locks::Block => u64::from(item),
        }
    }

    /// A fresh device holding the initial image, before the split.
    fn initial_device(&self) -> Device<MemStore> {
        let mut dc = DeviceConfig::new(self.cfg.variant);
        let blocks = self.layout.volume_blocks;
        dc.group1_locks = blocks as usize;
        let dev = Device::in_memory_with(dc, self.layout.block_size, blocks, blocks)
            .expect("the model's geometry is valid");
        for (b, chunk) in self.initial.chunks(self.layout.block_size).enumerate() {
            dev.write(Vlun::A, b as u64, chunk)
                .expect("writing the initial image before the split");
        }
        dev
    }

    fn may_lock(&self, s: &State, txn: usize, item: u8) -> bool {
        let p = &self.programs[txn];
        let owner_ok = s.locks[item as usize].is_none_or(|o| o as usize == txn);
        let type_b_ok = p.role == Role::Old || s.type_b & (1 << self.block_of_item(item)) == 0;
        owner_ok && type_b_ok
    }

    fn op_enabled(&self, s: &State, txn: usize, op: Op) -> bool {
        let role = self.programs[txn].role;
        let split = s.phase() != Phase::Single;
        match op {
            Op::Begin => match role {
                Role::Old => !split,
                Role::New => split,
            },
            Op::BeginLocked => {
                !split
                    && self.programs[txn]
                        .items
                        .iter()
                        .all(|&it| self.may_lock(s, txn, it))
            }
            Op::LockAll => self.programs[txn]
                .items
                .iter()
                .all(|&it| self.may_lock(s, txn, it)),
            Op::Lock(item) => self.may_lock(s, txn, item),
            Op::Read(_) | Op::Write(_) | Op::ReadForWrite(_) | Op::WriteBack(_) | Op::Commit => {
                true
            }
        }
    }

    /// Applies `action` to a copy of `s`. With `notes`, also says what happened in
    /// patent terms (for traces); the checker passes `None`.
    pub fn apply(&self, s: &State, action: Action, notes: Option<&mut Vec<String>>) -> State {
        let mut n = s.clone();
        n.via = Some(action);
        let mut note = Notes(notes);
        match action {
            Action::Txn(t, op) => self.apply_op(&mut n, t as usize, op, &mut note),
            Action::Abort(t) => self.apply_abort(&mut n, t as usize, &mut note),
            Action::Split => {
                n.device_mut().split().expect("split from the single phase");
                self.log(&mut n.history, Event::Split);
                self.log(&mut n.history, Event::BReady);
                if self.cfg.type_b {
                    for (i, p) in self.programs.iter().enumerate() {
                        if p.role == Role::Old && !n.txns[i].ended() {
                            for r in p.records() {
                                n.type_b |= 1 << self.layout.block_of(r);
                            }
                        }
                    }
                }
                note.add(|| {
                    format!(
                        "backup request: the device splits the volume into VLUN A and VLUN B{}",
                        if self.cfg.type_b {
                            let blocks = bits(n.type_b);
                            if blocks.is_empty() {
                                "; type (b) locks taken on no block".to_string()
                            } else {
                                let list: Vec<String> = blocks.iter().map(u8::to_string).collect();
                                format!(
                                    "; type (b) locks taken on blocks {} for the old \
                                     transactions",
                                    list.join(", ")
                                )
                            }
                        } else {
                            String::new()
                        }
                    )
                });
            }
            Action::AConsistent => {
                let image = self.image(&n.device, Vlun::A);
                note.add(|| {
                    format!(
                        "every old transaction has ended: VLUN A declared consistent, holding {}{}",
                        self.describe_image(&image),
                        if n.type_b != 0 {
                            "; type (b) locks released"
                        } else {
                            ""
                        }
                    )
                });
                n.type_b = 0;
                n.violated |= self.judge_a_consistent(&n, &image);
                n.declared = Some(Arc::new(image.clone()));
                self.log(
                    &mut n.history,
                    Event::AConsistent {
                        image: self.sparse(&image),
                    },
                );
            }
            Action::BackupA => {
                let mut tape = Vec::new();
                n.device_mut()
                    .backup_a(&mut tape)
                    .expect("backing up VLUN A");
                note.add(|| {
                    format!(
                        "VLUN A copied to the archive: {}",
                        self.describe_image(&tape)
                    )
                });
                n.violated |= self.judge_archive(&n, &tape);
                self.log(
                    &mut n.history,
                    Event::Archive {
                        image: self.sparse(&tape),
                    },
                );
            }
            Action::RetireA => {
                n.device_mut()
                    .retire_a()
                    .expect("retiring VLUN A after its backup");
                let extra = n.device.extra_space_blocks();
                note.add(|| format!("VLUN A retired: {extra} blocks of extra space still held"));
                n.violated |= self.judge_retire(extra);
                self.log(
                    &mut n.history,
                    Event::Retire {
                        extra_space_blocks: extra,
                    },
                );
            }
            Action::End => {
                let live = self.image(&n.device, Vlun::B);
                note.add(|| {
                    format!(
                        "end of the run: VLUN B holds {}",
                        self.describe_image(&live)
                    )
                });
                n.ended = true;
                n.violated |= self.judge_end(&n, &live);
                self.log(
                    &mut n.history,
                    Event::End {
                        live: self.sparse(&live),
                    },
                );
            }
        }
        if matches!(action, Action::Split | Action::BackupA | Action::RetireA) {
            n.rekey_device();
        }
        // Every path to a state is as long as any other (`State::steps`): what makes a
        // depth-first search cut at a depth judge every state within it.
        debug_assert_eq!(
            n.steps(),
            s.steps() + 1,
            "{action:?} took other than one step"
        );
        n
    }

    fn apply_op(&self, n: &mut State, t: usize, op: Op, note: &mut Notes<'_>) {
        let p = &self.programs[t];
        let vlun = p.role.vlun();
        let txn = t as u32;
        let who = || format!("{} txn T{t} ({vlun})", p.role.as_str());
        n.txns[t].pc += 1;
        match op {
            Op::Begin | Op::BeginLocked => {
                n.txns[t].status = Status::Active;
                self.log(
                    &mut n.history,
                    Event::Begin {
                        txn,
                        vlun,
                        gate_wait_ticks: 0,
                    },
                );
                if op == Op::BeginLocked {
                    for &it in &p.items {
                        n.locks[it as usize] = Some(t as u8);
                    }
                }
                note.add(|| {
                    let mut what = format!(
                        "{} begins: transfer {} from record {} to record {}",
                        who(),
                        p.amount,
                        p.from,
                        p.to
                    );
                    if op == Op::BeginLocked {
                        what += &format!(", holding its locks on {}", self.items_str(&p.items));
                    }
                    what
                });
            }
            Op::LockAll => {
                for &it in &p.items {
                    n.locks[it as usize] = Some(t as u8);
                }
                note.add(|| format!("{} locks {}", who(), self.items_str(&p.items)));
            }
            Op::Lock(item) => {
                n.locks[item as usize] = Some(t as u8);
                note.add(|| format!("{} locks {}", who(), self.items_str(&[item])));
            }
            Op::Read(record) => {
                let record = u64::from(record);
                let block = self.layout.block_of(record);
                let buf = self.read_block(n, txn, vlun, block);
                let (value, stamp) = read_record(&buf[self.layout.offset_in_block(record)..]);
                n.txns[t].set_read(p.position(record), value, stamp_byte(stamp));
                self.log(&mut n.history, Event::ReadRecord { txn, record, value });
                note.add(|| {
                    format!(
                        "{} reads block {block}: record {record} = {value} ({})",
                        who(),
                        writer(stamp)
                    )
                });
            }
            Op::Write(record) => {
                let record = u64::from(record);
                let (old, value) = self.new_value(n, t, record);
                let cost = self.rmw(n, txn, vlun, record, value, stamp_of(txn));
                self.wrote_record(n, t, record, value);
                let block = self.layout.block_of(record);
                note.add(|| {
                    format!(
                        "{} writes record {record} = {value} (was {old}): read-modify-write of \
                         block {block} [physical block writes: image A {}, image B {}]{}",
                        who(),
                        cost.0,
                        cost.1,
                        self.block_now(n, block)
                    )
                });
            }
            Op::ReadForWrite(record) => {
                let record = u64::from(record);
                let (old, value) = self.new_value(n, t, record);
                let block = self.layout.block_of(record);
                let mut buf = self.read_block(n, txn, vlun, block);
                let off = self.layout.offset_in_block(record);
                write_record(&mut buf[off..], value, stamp_of(txn));
                n.hold(t, buf);
                note.add(|| {
                    format!(
                        "{} reads block {block} to write record {record} = {value} (was {old}); \
                         its buffer now holds {}",
                        who(),
                        self.describe_bytes(block, &buf[..self.layout.block_size])
                    )
                });
            }
            Op::WriteBack(record) => {
                let record = u64::from(record);
                let block = self.layout.block_of(record);
                let buf = n.unhold(t);
                let cost = self.write_block(n, txn, vlun, block, &buf[..self.layout.block_size]);
                let (value, _) = read_record(&buf[self.layout.offset_in_block(record)..]);
                self.wrote_record(n, t, record, value);
                note.add(|| {
                    format!(
                        "{} writes block {block} back from its buffer ({}) \
                         [physical block writes: image A {}, image B {}]{}",
                        who(),
                        self.describe_bytes(block, &buf[..self.layout.block_size]),
                        cost.0,
                        cost.1,
                        self.block_now(n, block)
                    )
                });
            }
            Op::Commit => {
                n.txns[t].status = Status::Committed;
                n.commits.push(t as u8);
                release(&mut n.locks, t);
                self.log(
                    &mut n.history,
                    Event::Commit {
                        txn,
                        backup_wait_ticks_max: 0,
                    },
                );
                note.add(|| format!("{} commits and releases its locks", who()));
            }
        }
    }

    fn apply_abort(&self, n: &mut State, t: usize, note: &mut Notes<'_>) {
        let p = &self.programs[t];
        let vlun = p.role.vlun();
        let txn = t as u32;
        let mut undone = Vec::new();
        // The blocks written back, each once, in the order written.
        let mut blocks: Vec<u64> = Vec::new();
        for pos in [1usize, 0] {
            if n.txns[t].written & (1 << pos) != 0 {
                let record = p.records()[pos];
                let block = self.layout.block_of(record);
                if !blocks.contains(&block) {
                    blocks.push(block);
                }
                let (value, stamp) = n.txns[t].read(pos).expect("a written record was read");
                let cost = self.rmw(n, txn, vlun, record, value, u64::from(stamp));
                if note.on() {
                    undone.push(format!(
                        "record {record} = {value} ({}) [physical block writes: image A {}, image B {}]",
                        short_writer(u64::from(stamp)),
                        cost.0,
                        cost.1
                    ));
                }
            }
        }
        n.txns[t].status = Status::Aborted;
        n.unhold(t);
        release(&mut n.locks, t);
        self.log(
            &mut n.history,
            Event::Abort {
                txn,
                backup_wait_ticks_max: 0,
            },
        );
        // What each block written back now reads through either VLUN (after a split):
        // the write-back of an old transaction reaches VLUN B too, over what a new
        // transaction may have committed there.
        note.add(|| {
            let now: String = blocks.iter().map(|&b| self.block_now(n, b)).collect();
            format!(
                "{} txn T{t} ({vlun}) aborts: writes back its before-images {} and releases its locks{now}",
                p.role.as_str(),
                undone.join(", ")
            )
        });
    }

    /// Reads `block` through `vlun` into a buffer (its first `block_size` bytes),
    /// recording the read.
    fn read_block(&self, n: &mut State, txn: u32, vlun: Vlun, block: u64) -> [u8; BLOCK_BYTES_MAX] {
        let mut buf = [0u8; BLOCK_BYTES_MAX];
        let bytes = &mut buf[..self.layout.block_size];
        n.device
            .read(vlun, block, bytes)
            .expect("a block read the model issues is legal");
        let digest = block_digest(bytes);
        n.violated |= self.judge_block_read(n, vlun, block, digest);
        self.log(
            &mut n.history,
            Event::ReadBlock {
                txn,
                vlun,
                block,
                digest,
            },
        );
        buf
    }

    /// Read-modify-write of `record`'s block through `vlun`; returns the physical block
    /// writes to images A and B.
    fn rmw(
        &self,
        n: &mut State,
        txn: u32,
        vlun: Vlun,
        record: u64,
        value: i64,
        stamp: u64,
    ) -> (u32, u32) {
        let block = self.layout.block_of(record);
        let mut buf = self.read_block(n, txn, vlun, block);
        let bytes = &mut buf[..self.layout.block_size];
        write_record(
            &mut bytes[self.layout.offset_in_block(record)..],
            value,
            stamp,
        );
        self.write_block(n, txn, vlun, block, bytes)
    }

    /// Writes `bytes` to `block` through `vlun`, recording the write; returns the
    /// physical block writes to images A and B.
    fn write_block(
        &self,
        n: &mut State,
        txn: u32,
        vlun: Vlun,
        block: u64,
        bytes: &[u8],
    ) -> (u32, u32) {
        let cost = n
            .write_device(vlun, block, bytes)
            .expect("a block write the model issues is legal");
        let digest = block_digest(bytes);
        if let Some(sym) = &n.symmetry {
            sym.remember(digest, bytes);
        }
        n.violated |= self.judge_block_write(txn as usize, vlun);
        n.wrote(vlun, block, digest);
        self.log(
            &mut n.history,
            Event::WriteBlock {
                txn,
                vlun,
                block,
                digest,
            },
        );
        (cost.writes_a, cost.writes_b)
    }

    /// Transaction `t`'s record `record`: the value it read and the value it writes.
    fn new_value(&self, n: &State, t: usize, record: u64) -> (i64, i64) {
        let p = &self.programs[t];
        let (old, _) = n.txns[t]
            .read(p.position(record))
            .expect("a record is read before it is written");
        let value = if record == p.from {
            old - p.amount
        } else {
            old + p.amount
        };
        (old, value)
    }

    /// Notes that transaction `t` wrote `value` to `record`.
    fn wrote_record(&self, n: &mut State, t: usize, record: u64, value: i64) {
        n.txns[t].written |= 1 << self.programs[t].position(record);
        self.log(
            &mut n.history,
            Event::WriteRecord {
                txn: t as u32,
                record,
                value,
            },
        );
    }

    /// After a split, "; block B now reads … through VLUN A, … through VLUN B" (for
    /// traces).
    fn block_now(&self, n: &State, block: u64) -> String {
        if matches!(n.phase(), Phase::Split | Phase::BackedUp) {
            format!(
                "; block {block} now reads {} through VLUN A, {} through VLUN B",
                self.describe_block(&n.device, Vlun::A, block),
                self.describe_block(&n.device, Vlun::B, block)
            )
        } else {
            String::new()
        }
    }

    /// `bytes` (a whole image) as the history holds it: its difference from the
    /// initial image.
    fn sparse(&self, bytes: &[u8]) -> sim::image::Image {
        sim::image::Image::diff(&self.layout, &self.initial, bytes)
    }

    /// The whole image of `vlun`, read block by block through the engine.
    pub fn image(&self, dev: &Device<MemStore>, vlun: Vlun) -> Vec<u8> {
        let bs = self.layout.block_size;
        let mut out = vec![0u8; self.layout.image_bytes()];
        for b in 0..self.layout.volume_blocks {
            dev.read(vlun, b, &mut out[b as usize * bs..(b as usize + 1) * bs])
                .expect("reading a whole VLUN");
        }
        out
    }

    /// The sum of all balances in the initial image.
    pub fn initial_sum(&self) -> i64 {
        INITIAL_BALANCE * self.layout.records() as i64
    }
}

/// A record's stamp as [`TxnState::reads`] keeps it: `txn + 1` of at most
/// [`TXNS_MAX`] transactions, or 0.
fn stamp_byte(stamp: u64) -> u8 {
    u8::try_from(stamp).expect("a stamp names one of at most TXNS_MAX transactions")
}

impl OwmModel {
    /// Appends `event` to a state's record, unless this model keeps none
    /// ([`OwmModel::records_history`]).
    fn log(&self, h: &mut EventLog, event: Event) {
        if self.records_history {
            h.push(event);
        }
    }

    /// This model for the checker's search: its states keep no record of their path
    /// (every verdict is judged from the state as it is made), so a queued state holds
    /// no events and its successors allocate none. Traces replay the actions of a
    /// discovery on a model that keeps the record ([`crate::replay`]).
    pub fn for_search(&self) -> OwmModel {
        OwmModel {
            records_history: false,
            ..self.clone()
        }
    }
}

impl Model for OwmModel {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        let history = EventLog::default();
        let items = match self.cfg.locks {
            Locks::Record => self.layout.records() as usize,
            Locks::Block => self.layout.volume_blocks as usize,
        };
        assert!(items <= LOCK_ITEMS_MAX && self.programs.len() <= TXNS_MAX);
        let violated = verdicts(&history.to_history(self.layout, &self.initial));
        let mut s = State::initial(
            self.initial_device(),
            self.programs.len(),
            history,
            violated,
        );
        if self.cfg.symmetry {
            s.symmetry = crate::state::symmetry::Symmetry::of(&self.programs).map(Arc::new);
        }
        s.shares_parts = self.shares_parts;
        vec![s]
    }

    fn actions(&self, s: &State, actions: &mut Vec<Action>) {
        if self.stop.load(Ordering::Relaxed) {
            return;
        }
        self.expanded.fetch_add(1, Ordering::Relaxed);
        let before = actions.len();
        self.enabled_actions(s, actions);
        self.coverage.explored(s, &actions[before..]);
    }

    fn next_state(&self, s: &State, action: Action) -> Option<State> {
        Some(self.apply(s, action, None))
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::<Self>::always(Invariant::AConsistent.as_str(), a_consistent),
            Property::<Self>::always(Invariant::AIsolated.as_str(), a_isolated),
            Property::<Self>::always(Invariant::BComplete.as_str(), b_complete),
            Property::<Self>::always(Invariant::NoTornWrite.as_str(), no_torn_write),
            Property::<Self>::always(Invariant::BankConserved.as_str(), bank_conserved),
            Property::<Self>::always(Invariant::BackupFaithful.as_str(), backup_faithful),
            Property::<Self>::always(Invariant::SpaceReclaimed.as_str(), space_reclaimed),
            Property::<Self>::sometimes(SPLIT_BOTH_ACTIVE, split_with_both_active),
            Property::<Self>::sometimes(A_CONSISTENT_REACHED, a_became_consistent),
            Property::<Self>::sometimes(A_ARCHIVED, a_archived),
            Property::<Self>::sometimes(A_RETIRED, a_retired),
            Property::<Self>::sometimes(RUN_ENDED, run_ended),
            Property::<Self>::sometimes(NEW_WRITE_A_LIVE, new_write_a_live),
        ]
    }
}

// The properties. Each `always` reads the verdict of the oracle function of the same
// name on the path's record, found when the state was made (`apply`, `verdicts.rs`).

fn a_consistent(m: &OwmModel, s: &State) -> bool {
    m.holds(s, Invariant::AConsistent)
}
fn a_isolated(m: &OwmModel, s: &State) -> bool {
    m.holds(s, Invariant::AIsolated)
}
fn b_complete(m: &OwmModel, s: &State) -> bool {
    m.holds(s, Invariant::BComplete)
}
fn no_torn_write(m: &OwmModel, s: &State) -> bool {
    m.holds(s, Invariant::NoTornWrite)
}
fn bank_conserved(m: &OwmModel, s: &State) -> bool {
    m.holds(s, Invariant::BankConserved)
}
fn backup_faithful(m: &OwmModel, s: &State) -> bool {
    m.holds(s, Invariant::BackupFaithful)
}
fn space_reclaimed(m: &OwmModel, s: &State) -> bool {
    m.holds(s, Invariant::SpaceReclaimed)
}

/// The first bit of [`OwmModel::first_violation`] that marks a `sometimes` property
/// as witnessed (after the [`crate::INVARIANTS`] bits).
pub const WITNESS_BIT0: u32 = 8;

impl OwmModel {
    /// The `sometimes` property numbered `k` (0 = the first in [`Model::properties`]),
    /// which holds on `s` when `holds`: with [`OwmModel::first_violation`] set, it
    /// holds only on the first witness the checker judges.
    fn witness(&self, k: u32, holds: bool) -> bool {
        if !holds {
            return false;
        }
        match &self.first_violation {
            None => true,
            Some(reported) => {
                let b = 1u16 << (WITNESS_BIT0 + k);
                reported.load(Ordering::Relaxed) & b == 0
                    && reported.fetch_or(b, Ordering::Relaxed) & b == 0
            }
        }
    }

    /// The `always` property of `inv` on `s`: its verdict, except that with
    /// [`OwmModel::first_violation`] set only the first violating state fails.
    fn holds(&self, s: &State, inv: Invariant) -> bool {
        if s.holds(inv) {
            return true;
        }
        match &self.first_violation {
            None => false,
            Some(reported) => {
                let b = u16::from(crate::verdicts::bit(inv));
                reported.load(Ordering::Relaxed) & b != 0
                    || reported.fetch_or(b, Ordering::Relaxed) & b != 0
            }
        }
    }
}

/// The split happened while an old and a new transaction were both active.
fn split_with_both_active(m: &OwmModel, s: &State) -> bool {
    let active = |role| {
        m.programs
            .iter()
            .zip(&s.txns)
            .any(|(p, t)| p.role == role && t.status == Status::Active)
    };
    m.witness(
        0,
        s.phase() != Phase::Single && active(Role::Old) && active(Role::New),
    )
}
fn a_became_consistent(m: &OwmModel, s: &State) -> bool {
    m.witness(1, s.declared.is_some())
}
fn a_archived(m: &OwmModel, s: &State) -> bool {
    m.witness(2, matches!(s.phase(), Phase::BackedUp | Phase::Retired))
}
fn a_retired(m: &OwmModel, s: &State) -> bool {
    m.witness(3, s.phase() == Phase::Retired)
}
fn run_ended(m: &OwmModel, s: &State) -> bool {
    m.witness(4, s.ended)
}
fn new_write_a_live(m: &OwmModel, s: &State) -> bool {
    // The phase only moves on, so a NEW write seen while A is live was made while it was.
    let live = matches!(s.phase(), Phase::Split | Phase::BackedUp);
    let new_wrote = m
        .programs
        .iter()
        .zip(&s.txns)
        .any(|(p, t)| p.role == Role::New && t.written != 0);
    m.witness(5, live && new_wrote)
}
