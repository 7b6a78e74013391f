//! Fig 4/5: transaction sources (501) put transactions into the request queue (502);
//! processes 503 and 504 take them from it before the split, 507 and 508 after
//! (time 521); when 503/504 finish what they hold (time 522), VLUN A is consistent.
//!
//! The rotation from 503/504 to 507/508 is the application's, not the storage's: it
//! happens at the first backup request time under every policy (at the split under
//! crash-consistent and the one-way mirror, at the request under quiesce, at the time
//! the request would come under `none`). The pool is bounded: `processes` seats serve
//! the queue before, during and after the rotation, and 507 takes the seat of 503 when
//! 503's old transaction ends. So a backup never serves the queue with more processes
//! than no backup does (`sim/tests/it/fairness.rs`, `scenarios/README.md`).

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{small_updates, PoissonArrivals, Workload};
use crate::clock::Tick;
use crate::rng;
use crate::txn::{Op, TxnSpec};

/// The most processes (seats) the Fig 4/5 pool may have: 65,536. The pool keeps 9
/// bytes per seat, every one of them allocated when the run starts, while at most
/// `transactions` seats are ever busy at once; a larger count only costs memory (a
/// billion seats would be 9 GB), never concurrency a load of this size can use.
pub const PROCESSES_MAX: u32 = 1 << 16;

/// Parameters of the Fig 4/5 workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Fig45Config {
    /// Records the transactions share (default 32).
    pub records: u64,
    /// Transactions the sources emit (default 40).
    pub transactions: u64,
    /// Mean ticks between arrivals into queue 502, Poisson (default 30).
    pub arrival_ticks_mean: u64,
    /// Processes serving the queue before the split, and again after it (default 2:
    /// 503/504, then 507/508, each taking the seat of an old one as it ends;
    /// 1..=[`PROCESSES_MAX`]).
    pub processes: u32,
    /// Records each transaction updates, at least / at most (default 1 / 3).
    pub updates_min: u32,
    pub updates_max: u32,
    /// Compute ticks per transaction, uniform in this range (default 20..=80).
    pub compute_ticks_min: Tick,
    pub compute_ticks_max: Tick,
    /// Initial value of every record (default 100).
    pub initial_value: i64,
}

impl Default for Fig45Config {
    fn default() -> Self {
        Self {
            records: 32,
            transactions: 40,
            arrival_ticks_mean: 30,
            processes: 2,
            updates_min: 1,
            updates_max: 3,
            compute_ticks_min: 20,
            compute_ticks_max: 80,
            initial_value: 100,
        }
    }
}

pub(crate) struct Fig45 {
    c: Fig45Config,
    arrivals: PoissonArrivals,
    shapes: ChaCha8Rng,
    emitted: u64,
}

impl Fig45 {
    pub(crate) fn new(c: Fig45Config, arrivals: ChaCha8Rng, shapes: ChaCha8Rng) -> Self {
        let arrivals = PoissonArrivals::new(arrivals, c.arrival_ticks_mean, c.transactions);
        Self {
            c,
            arrivals,
            shapes,
            emitted: 0,
        }
    }
}

impl Workload for Fig45 {
    fn start(&mut self) -> Vec<(Tick, Option<u32>)> {
        self.arrivals.start()
    }
    fn next_arrival(&mut self, now: Tick) -> Option<Tick> {
        self.arrivals.next(now)
    }
    fn client_done(&mut self, _client: u32, _now: Tick) -> Option<Tick> {
        None
    }
    fn shape(&mut self, _client: Option<u32>, mut ops: Vec<Op>) -> TxnSpec {
        self.emitted += 1;
        small_updates(
            &mut self.shapes,
            self.c.updates_min,
            self.c.updates_max,
            self.c.records,
            &mut ops,
        );
        TxnSpec {
            label: self.emitted as u32,
            client: None,
            ops,
            compute_ticks: rng::uniform(
                &mut self.shapes,
                self.c.compute_ticks_min,
                self.c.compute_ticks_max,
            ),
        }
    }
}
