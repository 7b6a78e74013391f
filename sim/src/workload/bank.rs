//! Bank: `accounts` records, each holding a balance; every transaction transfers an
//! amount from one account to another (two read-modify-writes), so the sum of all
//! balances never changes. Several accounts share a block (geometry).

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{distinct, PoissonArrivals, Workload};
use crate::clock::Tick;
use crate::rng;
use crate::txn::{Op, TxnSpec};

/// Parameters of the bank workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BankConfig {
    /// Accounts, one record each (default 64).
    pub accounts: u64,
    /// Opening balance of every account (default 1000).
    pub initial_balance: i64,
    /// Transfers (default 300).
    pub transactions: u64,
    /// Mean ticks between arrivals, Poisson (default 100: mean response about 90 ticks
    /// against 82 with no contention (seed 1), below the saturation of the application
    /// locks; at 20 the queue grows all run and the comparison of policies misleads:
    /// `scenarios/README.md`).
    pub arrival_ticks_mean: u64,
    /// Largest amount moved by one transfer (default 100).
    pub amount_max: i64,
    /// Compute ticks per transfer, uniform in this range (default 5..=30).
    pub compute_ticks_min: Tick,
    pub compute_ticks_max: Tick,
}

impl Default for BankConfig {
    fn default() -> Self {
        Self {
            accounts: 64,
            initial_balance: 1000,
            transactions: 300,
            arrival_ticks_mean: 100,
            amount_max: 100,
            compute_ticks_min: 5,
            compute_ticks_max: 30,
        }
    }
}

pub(crate) struct Bank {
    c: BankConfig,
    arrivals: PoissonArrivals,
    shapes: ChaCha8Rng,
    emitted: u64,
}

impl Bank {
    pub(crate) fn new(c: BankConfig, arrivals: ChaCha8Rng, shapes: ChaCha8Rng) -> Self {
        let arrivals = PoissonArrivals::new(arrivals, c.arrival_ticks_mean, c.transactions);
        Self {
            c,
            arrivals,
            shapes,
            emitted: 0,
        }
    }
}

impl Workload for Bank {
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
        let n = self.c.accounts.max(2);
        distinct(
            &mut self.shapes,
            2,
            n,
            |r| rng::uniform(r, 0, n - 1),
            &mut ops,
        );
        let amount = rng::uniform(&mut self.shapes, 1, self.c.amount_max.max(1) as u64) as i64;
        let (from, to) = (ops[0].record(), ops[1].record());
        ops[0] = Op::Add {
            record: from,
            delta: -amount,
        };
        ops[1] = Op::Add {
            record: to,
            delta: amount,
        };
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
