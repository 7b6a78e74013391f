//! The workload: what each transaction of a configuration does.
//!
//! `--blocks` blocks (2 by default), `records_per_block` records of 16 bytes each
//! (value and stamp, the layout of [`sim::history`]), every balance initially
//! [`INITIAL_BALANCE`]. Each transaction is a bank transfer from one record to another
//! (so the sum of balances is conserved): those of a model file as it gives them
//! ([`crate::config::Transfer`]), otherwise generated ([`transfers`]): transaction
//! `id` moves `1 + id` (`--amounts distinct`) or 1 (`--amounts equal`); a role's
//! `i`-th transaction moves from block `i mod blocks` to block `(i + 1) mod blocks`
//! (`--transfers rotate`) or from block 0 to block 1 (`--transfers same`). Every
//! transaction of a role uses the same record position within each block
//! (`role % rpb`): with one record per block old and new transactions share records;
//! with two or more, old ones use the first record of each block and new ones the
//! second, so they share *blocks* but not *records* — the case where record locks are
//! not enough on a block device.
//!
//! A transaction's [`Program`]: begin (dispatch, binding it to its VLUN); under
//! conservative 2PL take every lock in one step (an old transaction together with its
//! begin: it is active at the split only once it holds its locks; a new one after it:
//! the device admits it to VLUN B at once, the application locks may hold it); then,
//! for its two records in ascending order (incremental 2PL: lock first), read the
//! record; then write both records (`--rmw split`: each as a block read, then a
//! later write back); then commit and release.

use engine::Vlun;
use sim::history::{write_record, Layout, RECORD_HEADER_BYTES};

use serde::{Deserialize, Serialize};

use crate::config::{Amounts, CheckConfig, Discipline, Locks, Rmw, Transfer, Transfers};
/// Bytes per record: the oracle's value and stamp.
pub const RECORD_BYTES: usize = RECORD_HEADER_BYTES;
/// Every balance before the first transaction.
pub const INITIAL_BALANCE: i64 = 100;

/// Which side of the split a transaction is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
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
    /// Read-modify-write a record's block through the transaction's VLUN, in one step.
    Write(u8),
    /// `--rmw split`, first step of a record write: read the record's block through the
    /// transaction's VLUN and change the record in the transaction's buffer.
    ReadForWrite(u8),
    /// `--rmw split`, second step: write the buffered block back.
    WriteBack(u8),
    /// Commit and release every lock.
    Commit,
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
    /// 0 for the lower of the two records, 1 for the higher (an index into
    /// [`crate::state::TxnState::read`]).
    pub fn position(&self, record: u64) -> usize {
        usize::from(record != self.records()[0])
    }
}

pub fn lock_item(locks: Locks, layout: &Layout, record: u64) -> u8 {
    match locks {
        Locks::Record => record as u8,
        Locks::Block => layout.block_of(record) as u8,
    }
}

pub fn program(
    cfg: &CheckConfig,
    role: Role,
    from: u64,
    to: u64,
    amount: i64,
    l: &Layout,
) -> Program {
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
    for r in [lo as u8, hi as u8] {
        match cfg.rmw {
            Rmw::Atomic => ops.push(Op::Write(r)),
            Rmw::Split => ops.extend([Op::ReadForWrite(r), Op::WriteBack(r)]),
        }
    }
    ops.push(Op::Commit);
    Program {
        role,
        from,
        to,
        amount,
        items,
        ops,
    }
}

/// The model's volume: `cfg.blocks` blocks of `records_per_block` records.
pub fn layout(cfg: &CheckConfig) -> Layout {
    Layout {
        block_size: RECORD_BYTES * cfg.records_per_block as usize,
        volume_blocks: cfg.blocks,
        record_size: RECORD_BYTES,
    }
}

/// Every transaction's transfer, old ones first (transaction `i` is the `i`-th): a
/// model file's, or generated from the flags (module doc).
pub fn transfers(cfg: &CheckConfig) -> Vec<Transfer> {
    if let Some(ts) = &cfg.transactions {
        return ts.clone();
    }
    let (rpb, blocks) = (cfg.records_per_block, cfg.blocks);
    let roles =
        std::iter::repeat_n(Role::Old, cfg.old).chain(std::iter::repeat_n(Role::New, cfg.new));
    let (mut n_old, mut n_new) = (0u64, 0u64);
    let mut out = Vec::new();
    for (id, role) in roles.enumerate() {
        let (record_in_block, i) = match role {
            Role::Old => (0, &mut n_old),
            Role::New => (1 % rpb, &mut n_new),
        };
        let (from_block, to_block) = match cfg.transfers {
            Transfers::Rotate => (*i % blocks, (*i + 1) % blocks),
            Transfers::Same => (0, 1),
        };
        *i += 1;
        out.push(Transfer {
            role,
            from: from_block * rpb + record_in_block,
            to: to_block * rpb + record_in_block,
            amount: match cfg.amounts {
                Amounts::Distinct => 1 + id as i64,
                Amounts::Equal => 1,
            },
        });
    }
    out
}

/// Every transaction's program, old ones first (transaction `i` is `programs[i]`).
pub fn programs(cfg: &CheckConfig, layout: &Layout) -> Vec<Program> {
    transfers(cfg)
        .iter()
        .map(|t| program(cfg, t.role, t.from, t.to, t.amount, layout))
        .collect()
}

/// The image before the first transaction: every record [`INITIAL_BALANCE`], stamp 0.
pub fn initial_image(layout: &Layout) -> Vec<u8> {
    let mut initial = vec![0u8; layout.image_bytes()];
    for r in 0..layout.records() {
        write_record(
            &mut initial[layout.offset_in_image(r)..],
            INITIAL_BALANCE,
            0,
        );
    }
    initial
}
