//! The model's state and what identifies it.
//!
//! Each state carries the history of the path that first reached it (an
//! [`EventLog`] sharing its events with the states before it on that path; as a
//! [`sim::history::History`] through [`crate::OwmModel::history`]), judged as each
//! action adds to it: only the invariants the action's new events can trip are judged
//! again ([`crate::verdicts::judged_at`]), from what the state keeps (the oracle's
//! verdict on the whole record, computed without rebuilding it: `verdicts.rs`), the
//! others keep their verdict. Two
//! paths that reach the same device, the same transaction states, the same commit
//! order, the same sets of block contents written through each VLUN, the same declared
//! A image and the same verdicts are one state: everything the oracle's functions can
//! still see of the past is in that key (see [`State`]'s `Hash`), so merging them
//! loses no violation while it keeps the state space a DAG instead of a tree of
//! histories.
//!
//! Why the merge is sound, invariant by invariant: the oracle replays committed
//! transactions in commit order from their recorded reads (kept in [`TxnState`]);
//! no-torn-write and A-isolated compare later reads with the block contents written
//! so far through each VLUN (`written`); backup-faithful and A-consistent judge
//! the declared image (`declared`); every verdict already reached is kept (`violated`)
//! and none un-happens. The tests check it by walking every path without merging.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

mod interned;
pub(crate) mod symmetry;

use engine::{Device, IoCost, MemStore, Phase, Vlun};
use sim::oracle::Invariant;

pub use crate::config::LOCK_ITEMS_MAX;
use crate::config::{RECORDS_PER_BLOCK_MAX, TXNS_MAX};
use crate::events::EventLog;
use crate::program::RECORD_BYTES;
use crate::protocol::Action;
use crate::verdicts::bit;

/// Where a transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    Idle,
    Active,
    Committed,
    Aborted,
}

/// A transaction's progress.
///
/// 24 bytes: the values read and their writers' stamps are kept apart (two `i64`s,
/// two bytes) rather than as two `Option<(i64, u8)>`, which take 24 bytes each; a
/// state holds [`TXNS_MAX`] of these and the breadth-first queue holds every pending
/// state whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TxnState {
    /// Value read for each of its two records (ascending record order); 0 while
    /// `read_stamps` says none was read.
    read_values: [i64; 2],
    /// Stamp of the writer of each value read ([`NOT_READ`]: not read yet). A stamp
    /// names the transaction that wrote the record (`txn + 1`, 0 for the initial
    /// image: [`sim::history::stamp_of`]), so a byte holds it.
    read_stamps: [u8; 2],
    /// Index of the next program op.
    pub pc: u8,
    pub status: Status,
    /// Bit `p` set: the record at position `p` was written.
    pub written: u8,
}

/// [`TxnState`]'s stamp of a record not read yet (no transaction has this stamp:
/// there are at most [`TXNS_MAX`]).
const NOT_READ: u8 = u8::MAX;

impl TxnState {
    /// A transaction that has not begun.
    pub(crate) const IDLE: TxnState = TxnState {
        read_values: [0; 2],
        read_stamps: [NOT_READ; 2],
        pc: 0,
        status: Status::Idle,
        written: 0,
    };

    /// (value, writer's stamp) read for the record at position `pos` (0 or 1, in
    /// ascending record order), if it was read.
    pub fn read(&self, pos: usize) -> Option<(i64, u8)> {
        (self.read_stamps[pos] != NOT_READ)
            .then_some((self.read_values[pos], self.read_stamps[pos]))
    }

    /// Records that the record at position `pos` read `value`, written by `stamp`.
    pub(crate) fn set_read(&mut self, pos: usize, value: i64, stamp: u8) {
        assert_ne!(
            stamp, NOT_READ,
            "a stamp names one of at most {TXNS_MAX} transactions"
        );
        self.read_values[pos] = value;
        self.read_stamps[pos] = stamp;
    }

    pub(crate) fn ended(&self) -> bool {
        matches!(self.status, Status::Committed | Status::Aborted)
    }
}

/// Largest block: [`RECORDS_PER_BLOCK_MAX`] records.
pub(crate) const BLOCK_BYTES_MAX: usize = RECORD_BYTES * RECORDS_PER_BLOCK_MAX as usize;

/// Per transaction, the block buffer of a split read-modify-write ([`State::held`]).
pub type HeldBlocks = [[u8; BLOCK_BYTES_MAX]; TXNS_MAX];

/// [`State::written`]'s mark of a content written through VLUN A.
pub const VIA_A: u8 = 1;
/// [`State::written`]'s mark of a content written through VLUN B.
pub const VIA_B: u8 = 2;

/// Transactions in commit order (a short list kept inline: no allocation per state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Commits {
    len: u8,
    order: [u8; TXNS_MAX],
}

impl Commits {
    pub(crate) const EMPTY: Commits = Commits {
        len: 0,
        order: [u8::MAX; TXNS_MAX],
    };
    pub(crate) fn push(&mut self, t: u8) {
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
    pub device: SharedDevice,
    /// Digest of `device` (its `Hash`: variant, phase, table, images).
    device_key: u64,
    /// The device's phase (part of `device_key`).
    phase: Phase,
    /// Per transaction (the first `txn_count` entries are used).
    pub txns: [TxnState; TXNS_MAX],
    /// Transactions in the model: only their entries of `txns` identify the state.
    txn_count: u8,
    /// Owner of each application lock item (the first `items` entries are used).
    pub locks: [Option<u8>; LOCK_ITEMS_MAX],
    /// Blocks held by type (b) locks (bit per block).
    pub type_b: u8,
    /// VLUN A's image when it was declared consistent.
    pub declared: Option<Arc<Vec<u8>>>,
    pub ended: bool,
    /// Transactions in commit order.
    pub commits: Commits,
    /// (block, digest) of every content written through VLUN A or VLUN B, with which
    /// of them wrote it ([`VIA_A`], [`VIA_B`]): one shared map, so copying or dropping
    /// a state touches one reference count for both, and a read's judgment finds both
    /// answers in one lookup ([`State::written_via`]).
    pub written: Arc<BTreeMap<(u64, u64), u8>>,
    /// Digests of the contents written through VLUN A and through VLUN B (what `Hash`
    /// feeds in place of `written`): the wrapping sum of each member's [`Mix64`]
    /// digest, kept up to date by [`State::wrote`], so hashing a state never walks
    /// the map.
    via_keys: [u64; 2],
    /// `--rmw split`: the block each transaction read for a write it has not yet
    /// written back (its record already changed); bit `t` of `held_mask` set while
    /// transaction `t` holds one. Unused entries stay zero; `None` while no
    /// transaction holds one (always, with `--rmw atomic`), shared with the parent
    /// state otherwise, so a state stays small.
    pub held: Option<Arc<HeldBlocks>>,
    pub held_mask: u8,
    /// Bit per [`crate::verdicts::INVARIANTS`] entry: the oracle finds it violated on `history`.
    pub violated: u8,
    /// The history of the path that first reached this state (shared with
    /// the states before it on that path; [`crate::OwmModel::history`] gives the whole).
    pub history: EventLog,
    /// The action that made this state on the path that first reached it (`None` for
    /// the initial state). Not part of what identifies the state: coverage counts it
    /// as taken when the state is explored (`crate::coverage`).
    pub via: Option<Action>,
    /// With `--symmetry on`, which transactions are interchangeable and the block
    /// contents behind the digests of `written` (shared by every state; not
    /// part of what identifies one): what [`stateright::Representative`] needs.
    pub(crate) symmetry: Option<Arc<symmetry::Symmetry>>,
    /// [`crate::OwmModel::shares_parts`] (not part of what identifies a state).
    pub(crate) shares_parts: bool,
}

/// Everything but the device and the history: what identifies a state (with the device).
type StateKey<'a> = (
    &'a [TxnState],
    &'a [Option<u8>; LOCK_ITEMS_MAX],
    u8,
    Option<&'a [u8]>,
    bool,
    Commits,
    u8,
);

impl State {
    fn key(&self) -> StateKey<'_> {
        (
            &self.txns[..usize::from(self.txn_count)],
            &self.locks,
            self.type_b,
            self.declared.as_deref().map(Vec::as_slice),
            self.ended,
            self.commits,
            self.violated,
        )
    }

    /// The state before anything happened: `device` holds the initial image, no
    /// transaction of the `txn_count` has begun, `history` is empty and judged `violated`.
    pub(crate) fn initial(
        device: Device<MemStore>,
        txn_count: usize,
        history: EventLog,
        violated: u8,
    ) -> State {
        assert!(txn_count <= TXNS_MAX, "at most {TXNS_MAX} transactions");
        State {
            txn_count: txn_count as u8,
            device_key: device_key(&device),
            phase: device.phase(),
            device: SharedDevice(Some(Arc::new(device))),
            txns: [TxnState::IDLE; TXNS_MAX],
            locks: [None; LOCK_ITEMS_MAX],
            type_b: 0,
            declared: None,
            ended: false,
            commits: Commits::EMPTY,
            written: Arc::default(),
            via_keys: [0; 2],
            held: None,
            held_mask: 0,
            violated,
            history,
            via: None,
            symmetry: None,
            shares_parts: false,
        }
    }

    /// The device, to change: copied first if the parent state still shares it.
    pub(crate) fn device_mut(&mut self) -> &Device<MemStore> {
        self.device.make_mut()
    }

    /// Takes the device's digest after an action changed it, and shares the device
    /// this thread already made equal to it, if any (`interned`).
    pub(crate) fn rekey_device(&mut self) {
        self.device_key = device_key(&self.device);
        self.phase = self.device.phase();
        if !self.shares_parts {
            return;
        }
        if let Some(kept) = interned::intern_device(self.device.arc(), self.device_key) {
            self.device = SharedDevice(Some(kept));
        }
    }

    /// Writes `data` to `block` through `vlun` on this state's device (a copy of it if
    /// shared) and takes the digest; a write this thread already applied to the same
    /// kept device takes the device it made instead (`interned`).
    ///
    /// # Errors
    /// The engine's, for a write the device refuses.
    pub(crate) fn write_device(
        &mut self,
        vlun: Vlun,
        block: u64,
        data: &[u8],
    ) -> engine::Result<IoCost> {
        if !self.shares_parts {
            let cost = self.device_mut().write(vlun, block, data)?;
            self.rekey_device();
            return Ok(cost);
        }
        if let Some(w) = interned::written(self.device.arc(), vlun, block, data) {
            self.device = SharedDevice(Some(w.device));
            self.device_key = w.key;
            self.phase = w.phase;
            return Ok(w.cost);
        }
        // A device made on another thread (the initial one) or before the maps were
        // emptied: kept first, so that the write is remembered.
        if let Some(kept) = interned::intern_device(self.device.arc(), self.device_key) {
            self.device = SharedDevice(Some(kept));
            if let Some(w) = interned::written(self.device.arc(), vlun, block, data) {
                self.device = SharedDevice(Some(w.device));
                self.device_key = w.key;
                self.phase = w.phase;
                return Ok(w.cost);
            }
        }
        let from = Arc::clone(self.device.arc());
        let from_key = self.device_key;
        let cost = self.device_mut().write(vlun, block, data)?;
        self.rekey_device();
        interned::remember_write(
            &from,
            from_key,
            vlun,
            block,
            data,
            interned::Written {
                device: Arc::clone(self.device.arc()),
                key: self.device_key,
                phase: self.phase,
                cost,
            },
        );
        Ok(cost)
    }

    /// Transaction `t` holds `buf` for a later write-back (`--rmw split`).
    pub(crate) fn hold(&mut self, t: usize, buf: [u8; BLOCK_BYTES_MAX]) {
        let held = self
            .held
            .get_or_insert_with(|| Arc::new([[0; BLOCK_BYTES_MAX]; TXNS_MAX]));
        Arc::make_mut(held)[t] = buf;
        self.held_mask |= 1 << t;
    }

    /// The buffer transaction `t` held, now released (zeros when it held none).
    pub(crate) fn unhold(&mut self, t: usize) -> [u8; BLOCK_BYTES_MAX] {
        let mut out = [0; BLOCK_BYTES_MAX];
        if self.held_mask & (1 << t) != 0 {
            let held = self.held.as_mut().expect("a held mask bit has its buffer");
            out = std::mem::replace(&mut Arc::make_mut(held)[t], [0; BLOCK_BYTES_MAX]);
            self.held_mask &= !(1 << t);
        }
        if self.held_mask == 0 {
            self.held = None;
        }
        out
    }

    /// Notes that `(block, digest)` was written through `vlun`: into a copy of the
    /// shared map, or the map this thread already made by the same note (`interned`).
    pub(crate) fn wrote(&mut self, vlun: Vlun, block: u64, digest: u64) {
        let (via, slot) = match vlun {
            Vlun::A => (VIA_A, 0),
            Vlun::B => (VIA_B, 1),
        };
        let seen = self.written.get(&(block, digest)).copied().unwrap_or(0);
        if seen & via != 0 {
            return;
        }
        let from_key = map_key(self.via_keys);
        let mut h = Mix64::default();
        h.word(block);
        h.word(digest);
        self.via_keys[slot] = self.via_keys[slot].wrapping_add(h.finish());
        if !self.shares_parts {
            *Arc::make_mut(&mut self.written)
                .entry((block, digest))
                .or_insert(0) |= via;
            return;
        }
        if let Some(made) = interned::noted(&self.written, block, digest, via) {
            self.written = made;
            return;
        }
        // A map made on another thread (the initial one) or before the kept maps were
        // emptied: kept first, so that the note is remembered.
        if let Some(kept) = interned::intern_map(&self.written, from_key) {
            self.written = kept;
            if let Some(made) = interned::noted(&self.written, block, digest, via) {
                self.written = made;
                return;
            }
        }
        let from = Arc::clone(&self.written);
        *Arc::make_mut(&mut self.written)
            .entry((block, digest))
            .or_insert(0) |= via;
        if let Some(kept) = interned::intern_map(&self.written, map_key(self.via_keys)) {
            self.written = kept;
        }
        interned::remember_note(
            &from,
            from_key,
            block,
            digest,
            via,
            Arc::clone(&self.written),
        );
    }

    /// Whether content `digest` was written to `block` through VLUN A, and through
    /// VLUN B, on this state's path.
    pub fn written_via(&self, block: u64, digest: u64) -> (bool, bool) {
        let via = self.written.get(&(block, digest)).copied().unwrap_or(0);
        (via & VIA_A != 0, via & VIA_B != 0)
    }

    /// The contents written through `vlun` on this state's path, as (block, digest)
    /// in ascending order.
    pub fn written_through(&self, vlun: Vlun) -> impl Iterator<Item = (u64, u64)> + '_ {
        let via = match vlun {
            Vlun::A => VIA_A,
            Vlun::B => VIA_B,
        };
        self.written
            .iter()
            .filter(move |(_, &v)| v & via != 0)
            .map(|(&key, _)| key)
    }
    /// False when the oracle finds `inv` violated on this state's history.
    pub fn holds(&self, inv: Invariant) -> bool {
        self.violated & bit(inv) == 0
    }
    /// The device phase (read from the device when it last changed).
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The steps of every path from the initial state to this one. Each action takes
    /// one: it advances one transaction's program by one operation (its `pc`), aborts
    /// one transaction, or moves the backup on (the split, VLUN A declared consistent,
    /// archived, retired; the end of the run), and none is ever undone. So all paths to
    /// a state are equally long, its depth (the initial state's is 1) is `steps() + 1`
    /// however a search reached it, and a depth-first search cut at a depth judges the
    /// same states as a breadth-first one ([`crate::OwmModel::apply`] checks it in
    /// debug builds).
    pub fn steps(&self) -> usize {
        let txns = &self.txns[..usize::from(self.txn_count)];
        let phase = match self.phase {
            Phase::Single => 0,
            Phase::Split => 1,
            Phase::BackedUp => 2,
            Phase::Retired => 3,
        };
        txns.iter()
            .map(|t| usize::from(t.pc) + usize::from(t.status == Status::Aborted))
            .sum::<usize>()
            + phase
            + usize::from(self.declared.is_some())
            + usize::from(self.ended)
    }
}

/// A state's engine device, shared with the states before it until an action changes
/// it (as an `Arc`), with the copies recycled: a device no state holds any more goes
/// to a small per-thread pool instead of being freed, and the next copy is made into
/// one from there ([`Device`]'s `clone_from`, which reuses its images, locks, counters
/// and table). A breadth-first search copies a device at every write and drops as
/// many, so without the pool each copy is about nine allocations and as many frees.
#[derive(Clone, Debug)]
pub struct SharedDevice(Option<Arc<Device<MemStore>>>);

/// Devices kept for reuse per thread: enough for the copies a few states' successors
/// make before the checker drops their parents, few enough to hold no memory to speak of.
const POOL_DEVICES_MAX: usize = 1024;

thread_local! {
    static POOL: std::cell::RefCell<Vec<Arc<Device<MemStore>>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

impl SharedDevice {
    fn arc(&self) -> &Arc<Device<MemStore>> {
        self.0
            .as_ref()
            .expect("a state's device is present until it drops")
    }

    /// The device to change: this state's own, or a copy of the shared one made into a
    /// recycled device.
    fn make_mut(&mut self) -> &Device<MemStore> {
        let shared = self
            .0
            .as_mut()
            .expect("a state's device is present until it drops");
        if Arc::get_mut(shared).is_none() {
            let recycled = POOL.with(|p| p.borrow_mut().pop());
            let copy = match recycled {
                Some(mut own) => {
                    Arc::get_mut(&mut own)
                        .expect("a pooled device is held by the pool alone")
                        .clone_from(shared);
                    own
                }
                None => Arc::new(Device::clone(shared)),
            };
            *shared = copy;
        }
        shared
    }
}

impl std::ops::Deref for SharedDevice {
    type Target = Device<MemStore>;
    fn deref(&self) -> &Device<MemStore> {
        self.arc()
    }
}

impl PartialEq for SharedDevice {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(self.arc(), other.arc()) || **self == **other
    }
}

impl Drop for SharedDevice {
    fn drop(&mut self) {
        let Some(mut device) = self.0.take() else {
            return;
        };
        if Arc::get_mut(&mut device).is_some() {
            // The last holder: keep it for the next copy (a thread being torn down
            // frees it instead).
            let _ = POOL.try_with(|p| {
                if let Ok(mut pool) = p.try_borrow_mut() {
                    if pool.len() < POOL_DEVICES_MAX {
                        pool.push(device);
                    }
                }
            });
        }
    }
}

/// Digest of a map of written contents, from its running digests (`State::via_keys`).
fn map_key(via_keys: [u64; 2]) -> u64 {
    let mut h = Mix64::default();
    h.word(via_keys[0]);
    h.word(via_keys[1]);
    h.finish()
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
        self.key() == other.key()
            && self.written == other.written
            && self.held_mask == other.held_mask
            && self.held == other.held
            && self.device == other.device
    }
}
impl Eq for State {}
// `Hash` packs the lock table and the commit order into a word each.
const _: () = assert!(LOCK_ITEMS_MAX <= 8 && TXNS_MAX == 8);

impl Hash for State {
    /// What [`PartialEq`] compares, packed into whole words (a transaction in three,
    /// the lock table, the commit order and the small fields in one each) and fed to
    /// `state` a word at a time: the checker hashes every generated state, and a
    /// field-by-field hash (each byte, each enum discriminant and each array's length
    /// a call of its own) took several times the calls.
    fn hash<H: Hasher>(&self, state: &mut H) {
        for t in &self.txns[..usize::from(self.txn_count)] {
            let [v0, v1] = t.read_values;
            state.write_u64(v0 as u64);
            state.write_u64(v1 as u64);
            state.write_u64(
                u64::from(t.read_stamps[0])
                    | u64::from(t.read_stamps[1]) << 8
                    | u64::from(t.pc) << 16
                    | (t.status as u64) << 24
                    | u64::from(t.written) << 32,
            );
        }
        let mut locks = 0u64;
        for (i, l) in self.locks.iter().enumerate() {
            // A transaction index is below TXNS_MAX, so u8::MAX is free for "none".
            locks |= u64::from(l.unwrap_or(u8::MAX)) << (8 * i);
        }
        state.write_u64(locks);
        state.write_u64(u64::from_le_bytes(self.commits.order));
        state.write_u64(
            u64::from(self.txn_count)
                | u64::from(self.type_b) << 8
                | u64::from(self.ended) << 16
                | u64::from(self.commits.len) << 24
                | u64::from(self.violated) << 32
                | u64::from(self.held_mask) << 40
                | u64::from(self.declared.is_some()) << 48,
        );
        if let Some(image) = &self.declared {
            state.write(image);
        }
        state.write_u64(self.via_keys[0]);
        state.write_u64(self.via_keys[1]);
        state.write_u64(self.device_key);
        if let Some(held) = &self.held {
            for (t, block) in held.iter().enumerate() {
                if self.held_mask & (1 << t) != 0 {
                    state.write(block);
                }
            }
        }
    }
}

pub(crate) fn release(locks: &mut [Option<u8>], t: usize) {
    for l in locks.iter_mut() {
        if *l == Some(t as u8) {
            *l = None;
        }
    }
}
