//! What a transaction asks for ([`TxnSpec`]), as the workloads generate it.
//!
//! Execution (in `world.rs`) is a small state machine over block I/O:
//! locks → reads (one block read per record access, none for a blind write) →
//! compute → writes (one read-modify-write per updated record, a whole-block write per
//! blind write) → (a flush barrier) → commit → release; or, when the attempt
//! aborts, before-images written back, then release.

use crate::clock::Tick;

/// One access of a transaction to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// Read the record.
    Read { record: u64 },
    /// Read the record, add `delta` to its value, write it back.
    Add { record: u64, delta: i64 },
    /// Write `value` into the record without reading it first (a blind write: its
    /// block, which holds only this record, is replaced whole).
    Put { record: u64, value: i64 },
}

impl Op {
    /// The record touched.
    pub fn record(self) -> u64 {
        match self {
            Op::Read { record } | Op::Add { record, .. } | Op::Put { record, .. } => record,
        }
    }
    /// True when the access writes.
    pub fn writes(self) -> bool {
        matches!(self, Op::Add { .. } | Op::Put { .. })
    }
}

/// A transaction as a workload emits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnSpec {
    /// The patent's reference number for fig3 (301-306), otherwise a sequence number.
    pub label: u32,
    /// The closed-loop client that issued it, if any.
    pub client: Option<u32>,
    /// Accesses, in the transaction's own order.
    pub ops: Vec<Op>,
    /// Ticks of computation between the reads and the writes.
    pub compute_ticks: Tick,
}
