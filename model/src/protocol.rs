//! The stateright model of the one-way mirror protocol, over the real engine.
//!
//! The state holds a real [`Device<MemStore>`]; every action that touches data calls
//! it (`read`, `write`, `split`, `backup_a`, `retire_a`), so the model checks the
//! engine's routing, not a second copy of it (DESIGN.md §3).
//!
//! ## The workload
//!
//! Two blocks, `records_per_block` records of 16 bytes each (value and stamp, the
//! layout of [`sim::record`]), every balance initially [`INITIAL_BALANCE`]. Each
//! transaction is a bank transfer of `1 + id` from one record to another (so the sum
//! of balances is conserved). Transaction `i` of its role uses "slot" `role % rpb` of
//! each block: with one record per block old and new transactions share both
//! records; with two or more, old ones use the first record of each block and new
//! ones the second, so they share *blocks* but not *records* — the case where record
//! locks are not enough on a block device.
//!
//! A transaction's program: begin (dispatch, binding it to its VLUN); under
//! conservative 2PL take every lock in one step (an old transaction together with its
//! begin: it is active at the split only once it holds its locks; a new one after it:
//! the device admits it to VLUN B at once, the application locks may hold it); then,
//! for its two records in ascending order (incremental 2PL: lock first), read the
//! record; then write both records; then commit and release. Reading a record reads
//! its whole block through the transaction's VLUN; writing one is a read-modify-write
//! of the whole block through that VLUN, done as one step (a page latch: the model
//! does not let two transactions tear one block read-modify-write, so every failure
//! found is the one-way mirror's, not the page cache's). An abort (when enabled)
//! writes the before-images back the same way and releases the locks.
//!
//! Old transactions begin before the split and use VLUN A; new ones begin after it
//! and use VLUN B. When every old transaction has ended, VLUN A is declared
//! consistent (its image read through the engine), backed up, and retired; the run
//! ends when every transaction has ended and A is retired, with VLUN B's image.
//!
//! ## State identity
//!
//! Each state carries the history of the path that first reached it (an
//! [`EventLog`] sharing its events with the states before it on that path; as a
//! [`History`] through [`OwmModel::history`]), judged by the oracle as each action
//! adds to it: only the invariants the action's new events can trip are judged again
//! ([`judged_at`]), the others keep their verdict. Two paths that reach the same device, the same
//! transaction states, the same commit order, the same sets of block contents written
//! through each VLUN, the same declared A image and the same verdicts are one state:
//! everything the oracle's functions can still see of the past is in that key (see
//! [`State`]'s `Hash`), so merging them loses no violation while it keeps the state
//! space a DAG instead of a tree of histories.
//!
//! Why the merge is sound, invariant by invariant: the oracle replays committed
//! transactions in commit order from their recorded reads (kept in [`TxnState`]);
//! no-torn-write and A-isolated compare later reads with the block contents written
//! so far through each VLUN (`via_a`, `via_b`); backup-faithful and A-consistent judge
//! the declared image (`declared`); every verdict already reached is kept (`violated`)
//! and none un-happens. The tests check it by walking every path without merging.

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use engine::{Device, DeviceConfig, MemStore, Phase, Vlun};
use sim::history::{
    block_digest, read_record, stamp_of, write_record, Event, History, Layout, RECORD_HEADER_BYTES,
};
use sim::oracle::Invariant;
use stateright::{Model, Property};

use crate::config::{CheckConfig, Discipline, Locks, RECORDS_PER_BLOCK_MAX, TXNS_MAX};
use crate::events::EventLog;

/// Blocks in the modelled volume.
pub const BLOCKS: u64 = 2;
/// Bytes per record: the oracle's value and stamp.
pub const RECORD_BYTES: usize = RECORD_HEADER_BYTES;
/// Every balance before the first transaction.
pub const INITIAL_BALANCE: i64 = 100;

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

/// Which side of the split a transaction is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Active at the split: uses VLUN A.
    Old,
    /// Starts after the split: uses VLUN B.
    New,
}

impl Role {
    /// The VLUN this role reads and writes.
    pub fn vlun(self) -> Vlun {
        match self {
            Role::Old => Vlun::A,
            Role::New => Vlun::B,
        }
    }
    /// "old" or "new".
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Old => "old",
            Role::New => "new",
        }
    }
}

/// One step of a transaction's program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    /// Start: the transaction is dispatched and bound to its role's VLUN.
    Begin,
    /// Take every lock the transaction needs at once, before its first access
    /// (conservative 2PL, new transactions: admitted to VLUN B at once, they may wait
    /// here for their locks).
    LockAll,
    /// Begin holding every lock (conservative 2PL, old transactions: under conservative
    /// 2PL a transaction is active only once it holds its locks, and the old
    /// transactions are by definition those active at the split).
    BeginLocked,
    /// Take the application lock on a record or block (its index).
    Lock(u8),
    /// Read a record (its whole block) through the transaction's VLUN.
    Read(u8),
    /// Read-modify-write a record's block through the transaction's VLUN.
    Write(u8),
    /// Commit and release every lock.
    Commit,
}

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

/// A transaction's fixed plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    pub role: Role,
    /// Debited record.
    pub from: u64,
    /// Credited record.
    pub to: u64,
    pub amount: i64,
    /// Lock items (record or block indices), ascending, deduplicated.
    pub items: Vec<u8>,
    pub ops: Vec<Op>,
}

impl Program {
    /// The two records, ascending (the order of access).
    pub fn records(&self) -> [u64; 2] {
        [self.from.min(self.to), self.from.max(self.to)]
    }
    fn position(&self, record: u64) -> usize {
        usize::from(record != self.records()[0])
    }
}

/// Where a transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    Idle,
    Active,
    Committed,
    Aborted,
}

/// A transaction's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TxnState {
    /// Index of the next program op.
    pub pc: u8,
    pub status: Status,
    /// (value, stamp) read for each of its two records (ascending record order).
    pub reads: [Option<(i64, u64)>; 2],
    /// Bit `p` set: the record at position `p` was written.
    pub written: u8,
}

impl TxnState {
    fn ended(&self) -> bool {
        matches!(self.status, Status::Committed | Status::Aborted)
    }
}

/// Most application lock items: one per record.
pub const LOCK_ITEMS_MAX: usize = BLOCKS as usize * RECORDS_PER_BLOCK_MAX as usize;
/// Largest block: [`RECORDS_PER_BLOCK_MAX`] records.
const BLOCK_BYTES_MAX: usize = RECORD_BYTES * RECORDS_PER_BLOCK_MAX as usize;

/// Transactions in commit order (a short list kept inline: no allocation per state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Commits {
    len: u8,
    order: [u8; TXNS_MAX],
}

impl Commits {
    const EMPTY: Commits = Commits {
        len: 0,
        order: [u8::MAX; TXNS_MAX],
    };
    fn push(&mut self, t: u8) {
        self.order[usize::from(self.len)] = t;
        self.len += 1;
    }
    /// The committed transactions, first committed first.
    pub fn as_slice(&self) -> &[u8] {
        &self.order[..usize::from(self.len)]
    }
}

/// One model state. Equality and hashing cover everything except `history` (see the
/// module doc for why that is sound).
///
/// Kept compact, since the checker makes one per generated successor: fixed-size
/// arrays instead of vectors (unused entries stay at their initial value, so they
/// never tell two states apart), and what an action rarely changes — the device, the
/// sets of written contents, the declared image — is shared with the parent state
/// (`Arc`) and copied only by the action that changes it. The device is hashed
/// through `device_key`, its digest taken when it last changed.
#[derive(Clone, Debug)]
pub struct State {
    pub device: Arc<Device<MemStore>>,
    /// Digest of `device` (its `Hash`: variant, phase, table, images).
    device_key: u64,
    /// The device's phase (part of `device_key`).
    phase: Phase,
    /// Per transaction (the first `programs.len()` entries are used).
    pub txns: [TxnState; TXNS_MAX],
    /// Owner of each application lock item (the first `items` entries are used).
    pub locks: [Option<u8>; LOCK_ITEMS_MAX],
    /// Blocks held by type (b) locks (bit per block).
    pub type_b: u8,
    /// VLUN A's image when it was declared consistent.
    pub declared: Option<Arc<Vec<u8>>>,
    pub ended: bool,
    /// Transactions in commit order.
    pub commits: Commits,
    /// (block, digest) of every content written through VLUN A / VLUN B.
    pub via_a: Arc<BTreeSet<(u64, u64)>>,
    pub via_b: Arc<BTreeSet<(u64, u64)>>,
    /// Bit per [`INVARIANTS`] entry: the oracle finds it violated on `history`.
    pub violated: u8,
    /// The history of the path that first reached this state (shared with
    /// the states before it on that path; [`OwmModel::history`] gives the whole).
    pub history: EventLog,
}

/// Everything but the device and the history: what identifies a state (with the device).
type StateKey<'a> = (
    &'a [TxnState; TXNS_MAX],
    &'a [Option<u8>; LOCK_ITEMS_MAX],
    u8,
    Option<&'a [u8]>,
    bool,
    Commits,
    (&'a BTreeSet<(u64, u64)>, &'a BTreeSet<(u64, u64)>),
    u8,
);

impl State {
    fn key(&self) -> StateKey<'_> {
        (
            &self.txns,
            &self.locks,
            self.type_b,
            self.declared.as_deref().map(Vec::as_slice),
            self.ended,
            self.commits,
            (&self.via_a, &self.via_b),
            self.violated,
        )
    }

    /// The device, to change: copied first if the parent state still shares it.
    fn device_mut(&mut self) -> &Device<MemStore> {
        Arc::make_mut(&mut self.device)
    }

    /// Takes the device's digest after an action changed it.
    fn rekey_device(&mut self) {
        self.device_key = device_key(&self.device);
        self.phase = self.device.phase();
    }

    /// Notes that `(block, digest)` was written through `vlun`.
    fn wrote(&mut self, vlun: Vlun, block: u64, digest: u64) {
        let set = match vlun {
            Vlun::A => &mut self.via_a,
            Vlun::B => &mut self.via_b,
        };
        if !set.contains(&(block, digest)) {
            Arc::make_mut(set).insert((block, digest));
        }
    }
    /// False when the oracle finds `inv` violated on this state's history.
    pub fn holds(&self, inv: Invariant) -> bool {
        self.violated & bit(inv) == 0
    }
    /// The device phase (read from the device when it last changed).
    pub fn phase(&self) -> Phase {
        self.phase
    }
}

fn device_key(d: &Device<MemStore>) -> u64 {
    let mut h = Mix64::default();
    d.hash(&mut h);
    h.finish()
}

/// The hasher for the device digest: each 8-byte word is folded in through the
/// splitmix64 finaliser (a bijection with full avalanche), a few instructions a word
/// where SipHash takes tens; it feeds stateright's own fingerprint of the state.
#[derive(Default)]
struct Mix64(u64);

impl Mix64 {
    fn word(&mut self, w: u64) {
        let mut z = (self.0 ^ w).wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        self.0 = z ^ (z >> 31);
    }
}

impl Hasher for Mix64 {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.word(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            // The length keeps "ab" and "ab\0" apart.
            self.word(u64::from_le_bytes(b) ^ ((rest.len() as u64) << 56));
        }
    }
    fn write_u8(&mut self, x: u8) {
        self.word(u64::from(x));
    }
    fn write_u32(&mut self, x: u32) {
        self.word(u64::from(x));
    }
    fn write_u64(&mut self, x: u64) {
        self.word(x);
    }
    fn write_usize(&mut self, x: usize) {
        self.word(x as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

impl PartialEq for State {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key() && self.device == other.device
    }
}
impl Eq for State {}
impl Hash for State {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state);
        self.device_key.hash(state);
    }
}

/// The model: a configuration and the programs it implies.
#[derive(Debug, Clone)]
pub struct OwmModel {
    pub cfg: CheckConfig,
    pub layout: Layout,
    pub programs: Vec<Program>,
    pub initial: Vec<u8>,
}

impl OwmModel {
    /// The model for `cfg` (which must be valid).
    pub fn new(cfg: &CheckConfig) -> Self {
        let rpb = cfg.records_per_block;
        let layout = Layout {
            block_size: RECORD_BYTES * rpb as usize,
            volume_blocks: BLOCKS,
            record_size: RECORD_BYTES,
        };
        let roles =
            std::iter::repeat_n(Role::Old, cfg.old).chain(std::iter::repeat_n(Role::New, cfg.new));
        let mut programs = Vec::new();
        let (mut n_old, mut n_new) = (0u64, 0u64);
        for (id, role) in roles.enumerate() {
            let (slot, i) = match role {
                Role::Old => (0, &mut n_old),
                Role::New => (1 % rpb, &mut n_new),
            };
            let from = (*i % 2) * rpb + slot;
            let to = ((*i + 1) % 2) * rpb + slot;
            *i += 1;
            programs.push(program(cfg, role, from, to, 1 + id as i64, &layout));
        }
        let mut initial = vec![0u8; layout.image_bytes()];
        for r in 0..layout.records() {
            write_record(
                &mut initial[layout.offset_in_image(r)..],
                INITIAL_BALANCE,
                0,
            );
        }
        OwmModel {
            cfg: cfg.clone(),
            layout,
            programs,
            initial,
        }
    }

    /// The lock item guarding `record`.
    pub fn item_of(&self, record: u64) -> u8 {
        lock_item(self.cfg.locks, &self.layout, record)
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
        dc.group1_locks = BLOCKS as usize;
        let dev = Device::in_memory_with(dc, self.layout.block_size, BLOCKS, BLOCKS)
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
            Op::Read(_) | Op::Write(_) | Op::Commit => true,
        }
    }

    /// Applies `action` to a copy of `s`. With `notes`, also says what happened in
    /// patent terms (for traces); the checker passes `None`.
    pub fn apply(&self, s: &State, action: Action, notes: Option<&mut Vec<String>>) -> State {
        let mut n = s.clone();
        let first = n.history.len();
        let mut note = Notes(notes);
        match action {
            Action::Txn(t, op) => self.apply_op(&mut n, t as usize, op, &mut note),
            Action::Abort(t) => self.apply_abort(&mut n, t as usize, &mut note),
            Action::Split => {
                n.device_mut().split().expect("split from the single phase");
                push(&mut n.history, Event::Split);
                push(&mut n.history, Event::BReady);
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
                            format!(
                                "; type (b) locks taken on blocks {:?} for the old transactions",
                                bits(n.type_b)
                            )
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
                n.declared = Some(Arc::new(image.clone()));
                push(&mut n.history, Event::AConsistent { image });
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
                push(&mut n.history, Event::Archive { image: tape });
            }
            Action::RetireA => {
                n.device_mut()
                    .retire_a()
                    .expect("retiring VLUN A after its backup");
                let extra = n.device.extra_space_blocks();
                note.add(|| format!("VLUN A retired: {extra} blocks of extra space still held"));
                push(
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
                push(&mut n.history, Event::End { live });
            }
        }
        if matches!(action, Action::Split | Action::BackupA | Action::RetireA) {
            n.rekey_device();
        }
        n.violated |= self.judge(&n.history, first, n.violated);
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
                push(
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
                n.txns[t].reads[p.position(record)] = Some((value, stamp));
                push(&mut n.history, Event::ReadRecord { txn, record, value });
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
                let pos = p.position(record);
                let (old, _) = n.txns[t].reads[pos].expect("a record is read before it is written");
                let value = if record == p.from {
                    old - p.amount
                } else {
                    old + p.amount
                };
                let cost = self.rmw(n, txn, vlun, record, value, stamp_of(txn));
                n.txns[t].written |= 1 << pos;
                push(&mut n.history, Event::WriteRecord { txn, record, value });
                let block = self.layout.block_of(record);
                note.add(|| {
                    let mut what = format!(
                        "{} writes record {record} = {value} (was {old}): read-modify-write of \
                         block {block} [physical block writes: image A {}, image B {}]",
                        who(),
                        cost.0,
                        cost.1
                    );
                    if matches!(n.phase(), Phase::Split | Phase::BackedUp) {
                        what += &format!(
                            "; block {block} now reads {} through VLUN A, {} through VLUN B",
                            self.describe_block(&n.device, Vlun::A, block),
                            self.describe_block(&n.device, Vlun::B, block)
                        );
                    }
                    what
                });
            }
            Op::Commit => {
                n.txns[t].status = Status::Committed;
                n.commits.push(t as u8);
                release(&mut n.locks, t);
                push(&mut n.history, Event::Commit { txn });
                note.add(|| format!("{} commits and releases its locks", who()));
            }
        }
    }

    fn apply_abort(&self, n: &mut State, t: usize, note: &mut Notes<'_>) {
        let p = &self.programs[t];
        let vlun = p.role.vlun();
        let txn = t as u32;
        let mut undone = Vec::new();
        for pos in [1usize, 0] {
            if n.txns[t].written & (1 << pos) != 0 {
                let record = p.records()[pos];
                let (value, stamp) = n.txns[t].reads[pos].expect("a written record was read");
                let cost = self.rmw(n, txn, vlun, record, value, stamp);
                if note.on() {
                    undone.push(format!(
                        "record {record} = {value} ({}) [physical block writes: image A {}, image B {}]",
                        short_writer(stamp),
                        cost.0,
                        cost.1
                    ));
                }
            }
        }
        n.txns[t].status = Status::Aborted;
        release(&mut n.locks, t);
        push(&mut n.history, Event::Abort { txn });
        note.add(|| {
            format!(
            "{} txn T{t} ({vlun}) aborts: writes back its before-images {} and releases its locks",
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
        push(
            &mut n.history,
            Event::ReadBlock {
                txn,
                vlun,
                block,
                digest: block_digest(bytes),
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
        let cost = n
            .device_mut()
            .write(vlun, block, bytes)
            .expect("a block write the model issues is legal");
        n.rekey_device();
        let digest = block_digest(bytes);
        n.wrote(vlun, block, digest);
        push(
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

    /// The whole image of `vlun`, read block by block through the engine.
    pub fn image(&self, dev: &Device<MemStore>, vlun: Vlun) -> Vec<u8> {
        let bs = self.layout.block_size;
        let mut out = vec![0u8; self.layout.image_bytes()];
        for b in 0..BLOCKS {
            dev.read(vlun, b, &mut out[b as usize * bs..(b as usize + 1) * bs])
                .expect("reading a whole VLUN");
        }
        out
    }

    /// The records of one block as `vlun` shows it (for traces only: it reads the device).
    fn describe_block(&self, dev: &Device<MemStore>, vlun: Vlun, block: u64) -> String {
        let mut buf = vec![0u8; self.layout.block_size];
        dev.read(vlun, block, &mut buf)
            .expect("reading a block to describe it");
        let rpb = self.layout.records_per_block();
        (0..rpb)
            .map(|i| {
                let (v, s) = read_record(&buf[i as usize * RECORD_BYTES..]);
                format!("r{}={v} ({})", block * rpb + i, short_writer(s))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// "r0=99 (T0), r1=100 (initial), …": the records of an image.
    pub fn describe_image(&self, image: &[u8]) -> String {
        (0..self.layout.records())
            .map(|r| {
                let (v, s) = read_record(&image[self.layout.offset_in_image(r)..]);
                format!("r{r}={v} ({})", short_writer(s))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn items_str(&self, items: &[u8]) -> String {
        let kind = match self.cfg.locks {
            Locks::Record => "record",
            Locks::Block => "block",
        };
        items
            .iter()
            .map(|i| format!("{kind} {i}"))
            .collect::<Vec<_>>()
            .join(" and ")
    }

    /// The sum of all balances in the initial image.
    pub fn initial_sum(&self) -> i64 {
        INITIAL_BALANCE * self.layout.records() as i64
    }
}

fn lock_item(locks: Locks, layout: &Layout, record: u64) -> u8 {
    match locks {
        Locks::Record => record as u8,
        Locks::Block => layout.block_of(record) as u8,
    }
}

fn program(cfg: &CheckConfig, role: Role, from: u64, to: u64, amount: i64, l: &Layout) -> Program {
    let [lo, hi] = [from.min(to), from.max(to)];
    let (ilo, ihi) = (lock_item(cfg.locks, l, lo), lock_item(cfg.locks, l, hi));
    let mut items = vec![ilo, ihi];
    items.dedup();
    let mut ops = Vec::new();
    match cfg.discipline {
        Discipline::Conservative => {
            match role {
                Role::Old => ops.push(Op::BeginLocked),
                Role::New => ops.extend([Op::Begin, Op::LockAll]),
            }
            ops.extend([Op::Read(lo as u8), Op::Read(hi as u8)]);
        }
        Discipline::Incremental => {
            ops.extend([Op::Begin, Op::Lock(ilo), Op::Read(lo as u8)]);
            if ihi != ilo {
                ops.push(Op::Lock(ihi));
            }
            ops.push(Op::Read(hi as u8));
        }
    }
    ops.extend([Op::Write(lo as u8), Op::Write(hi as u8), Op::Commit]);
    Program {
        role,
        from,
        to,
        amount,
        items,
        ops,
    }
}

/// Where [`OwmModel::apply`] tells what happened, in patent terms, when a trace asks
/// for it. The checker asks for nothing, and then nothing is formatted: each note is a
/// closure, called only when there is somewhere to put its text.
struct Notes<'a>(Option<&'a mut Vec<String>>);

impl Notes<'_> {
    fn on(&self) -> bool {
        self.0.is_some()
    }
    fn add(&mut self, text: impl FnOnce() -> String) {
        if let Some(v) = self.0.as_deref_mut() {
            v.push(text());
        }
    }
}

fn push(h: &mut EventLog, event: Event) {
    h.push(event);
}

fn release(locks: &mut [Option<u8>], t: usize) {
    for l in locks.iter_mut() {
        if *l == Some(t as u8) {
            *l = None;
        }
    }
}

fn bits(mask: u8) -> Vec<u8> {
    (0..8).filter(|b| mask & (1 << b) != 0).collect()
}

fn writer(stamp: u64) -> String {
    if stamp == 0 {
        "initial".into()
    } else {
        format!("written by T{}", stamp - 1)
    }
}

fn short_writer(stamp: u64) -> String {
    if stamp == 0 {
        "initial".into()
    } else {
        format!("T{}", stamp - 1)
    }
}

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
        Event::Retire { .. } => set(&[SpaceReclaimed]),
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
    /// invariants the new events can trip ([`judged_at`]) and not yet violated.
    pub fn judge(&self, log: &EventLog, first: usize, before: u8) -> u8 {
        let mut due = 0;
        log.for_each_since(first, |e| due |= judged_at(e));
        due &= !before;
        if due == 0 {
            return 0;
        }
        log.judge(self.layout, &self.initial, |h| violations(h, due))
    }

    /// The whole history of the path that first reached `s`.
    pub fn history(&self, s: &State) -> History {
        s.history.to_history(self.layout, &self.initial)
    }
}

impl Model for OwmModel {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        let history = EventLog::default();
        let items = match self.cfg.locks {
            Locks::Record => self.layout.records() as usize,
            Locks::Block => BLOCKS as usize,
        };
        assert!(items <= LOCK_ITEMS_MAX && self.programs.len() <= TXNS_MAX);
        let violated = verdicts(&history.to_history(self.layout, &self.initial));
        let device = self.initial_device();
        vec![State {
            device_key: device_key(&device),
            phase: device.phase(),
            device: Arc::new(device),
            txns: [TxnState {
                pc: 0,
                status: Status::Idle,
                reads: [None; 2],
                written: 0,
            }; TXNS_MAX],
            locks: [None; LOCK_ITEMS_MAX],
            type_b: 0,
            declared: None,
            ended: false,
            commits: Commits::EMPTY,
            via_a: Arc::default(),
            via_b: Arc::default(),
            violated,
            history,
        }]
    }

    fn actions(&self, s: &State, actions: &mut Vec<Action>) {
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

    fn next_state(&self, s: &State, action: Action) -> Option<State> {
        Some(self.apply(s, action, None))
    }

    fn properties(&self) -> Vec<Property<Self>> {
        // Each `always` reads the verdict of the oracle function of the same name on the
        // path's record, found when the state was made (`apply`, `judge`).
        vec![
            Property::<Self>::always(Invariant::AConsistent.as_str(), |_, s| {
                s.holds(Invariant::AConsistent)
            }),
            Property::<Self>::always(Invariant::AIsolated.as_str(), |_, s| {
                s.holds(Invariant::AIsolated)
            }),
            Property::<Self>::always(Invariant::BComplete.as_str(), |_, s| {
                s.holds(Invariant::BComplete)
            }),
            Property::<Self>::always(Invariant::NoTornWrite.as_str(), |_, s| {
                s.holds(Invariant::NoTornWrite)
            }),
            Property::<Self>::always(Invariant::BankConserved.as_str(), |_, s| {
                s.holds(Invariant::BankConserved)
            }),
            Property::<Self>::always(Invariant::BackupFaithful.as_str(), |_, s| {
                s.holds(Invariant::BackupFaithful)
            }),
            Property::<Self>::always(Invariant::SpaceReclaimed.as_str(), |_, s| {
                s.holds(Invariant::SpaceReclaimed)
            }),
            Property::<Self>::sometimes(SPLIT_BOTH_ACTIVE, |m, s| m.split_with_both_active(s)),
            Property::<Self>::sometimes(A_CONSISTENT_REACHED, |_, s| s.declared.is_some()),
            Property::<Self>::sometimes(A_ARCHIVED, |_, s| {
                matches!(s.phase(), Phase::BackedUp | Phase::Retired)
            }),
            Property::<Self>::sometimes(A_RETIRED, |_, s| s.phase() == Phase::Retired),
            Property::<Self>::sometimes(RUN_ENDED, |_, s| s.ended),
        ]
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

impl OwmModel {
    fn split_with_both_active(&self, s: &State) -> bool {
        let active = |role| {
            self.programs
                .iter()
                .zip(&s.txns)
                .any(|(p, t)| p.role == role && t.status == Status::Active)
        };
        s.phase() != Phase::Single && active(Role::Old) && active(Role::New)
    }
}
