//! Generated load: open-loop Poisson arrivals or a closed loop of clients with think
//! times; transaction length uniform in a range; each access a write with a given
//! probability; records chosen uniformly or from a Zipf hot spot.

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::zipf::Zipf;
use super::{distinct, Workload};
use crate::clock::Tick;
use crate::rng;
use crate::txn::{Op, TxnSpec};

/// How transactions arrive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "mode",
    rename_all = "kebab-case",
    deny_unknown_fields,
    expecting = "a table with `mode` = \"open\" (and `interarrival_ticks_mean`) or \"closed\" (and `clients`, `think_ticks_mean`)"
)]
pub enum Arrivals {
    /// Poisson arrivals, independent of the system's speed.
    Open { interarrival_ticks_mean: u64 },
    /// `clients` users, each issuing its next transaction an exponential think time
    /// after its previous one ends.
    Closed { clients: u32, think_ticks_mean: u64 },
}

/// Which records transactions touch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "shape",
    rename_all = "kebab-case",
    deny_unknown_fields,
    expecting = "a table with `shape` = \"uniform\" or \"zipf\" (and `exponent`)"
)]
pub enum HotSpot {
    /// Every record equally likely.
    Uniform,
    /// Record `k` (0-based) with probability ∝ 1 / (k+1)^exponent.
    Zipf { exponent: f64 },
}

/// How a write access writes its record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WriteKind {
    /// Read the block, change the record, write the block back (a database page
    /// update; the read is the transaction's own, priced like any read).
    #[default]
    ReadModifyWrite,
    /// Write the whole block without reading it (sysbench fileio's `rndwr`, fio's
    /// random writes): needs one record per block (`geometry.records_per_block = 1`),
    /// no aborts (`abort_probability = 0`, no `[faults]`: a blind write keeps no
    /// before-image) and conservative locking.
    Blind,
}

impl WriteKind {
    pub(crate) fn is_default(&self) -> bool {
        *self == WriteKind::default()
    }
}

/// Parameters of the generated workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GeneratedConfig {
    /// Records (default 256).
    pub records: u64,
    /// Transactions in all (default 1000).
    pub transactions: u64,
    /// Default open, mean 200 ticks: mean response about 145 ticks against 125 with no
    /// contention (seed 1), below the saturation of the application locks; at 20 the
    /// queue grows all run and the comparison of policies misleads:
    /// `scenarios/README.md`.
    pub arrivals: Arrivals,
    /// Accesses per transaction, uniform in this range (default 1..=8).
    pub length_min: u32,
    pub length_max: u32,
    /// Probability an access writes (default 0.5).
    pub write_fraction: f64,
    /// Default uniform.
    pub hot_spot: HotSpot,
    /// Compute ticks per transaction, uniform in this range (default 5..=50).
    pub compute_ticks_min: Tick,
    pub compute_ticks_max: Tick,
    /// How a write access writes (default `read-modify-write`; `blind`: no read).
    #[serde(skip_serializing_if = "WriteKind::is_default")]
    pub write_kind: WriteKind,
    /// Each transaction waits for one flush barrier (`device.flush_latency_ticks`)
    /// after its writes and before it commits: the application's fsync, as a database
    /// commit or sysbench's `--file-fsync-freq=1` does (default false).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub flush_at_commit: bool,
}

impl Default for GeneratedConfig {
    fn default() -> Self {
        Self {
            records: 256,
            transactions: 1000,
            arrivals: Arrivals::Open {
                interarrival_ticks_mean: 200,
            },
            length_min: 1,
            length_max: 8,
            write_fraction: 0.5,
            hot_spot: HotSpot::Uniform,
            compute_ticks_min: 5,
            compute_ticks_max: 50,
            write_kind: WriteKind::ReadModifyWrite,
            flush_at_commit: false,
        }
    }
}

pub(crate) struct Generated {
    c: GeneratedConfig,
    arrivals: ChaCha8Rng,
    shapes: ChaCha8Rng,
    emitted: u64,
    scheduled: u64,
    /// The Zipf hot spot's sampler (`None` for uniform).
    zipf: Option<Zipf>,
}

impl Generated {
    pub(crate) fn new(c: GeneratedConfig, arrivals: ChaCha8Rng, shapes: ChaCha8Rng) -> Self {
        let zipf = match c.hot_spot {
            HotSpot::Uniform => None,
            HotSpot::Zipf { exponent } => Some(Zipf::new(c.records.max(1), exponent)),
        };
        Self {
            c,
            arrivals,
            shapes,
            emitted: 0,
            scheduled: 0,
            zipf,
        }
    }

    fn think(&mut self, mean: u64) -> Tick {
        rng::exponential(&mut self.arrivals, mean as f64)
    }
}

/// A record of `0..records`: rank `r` of the Zipf hot spot is record `r - 1`.
fn pick(zipf: Option<&Zipf>, records: u64, r: &mut ChaCha8Rng) -> u64 {
    match zipf {
        None => rng::uniform(r, 0, records - 1),
        Some(z) => (z.sample(r) - 1).min(records - 1),
    }
}

impl Workload for Generated {
    fn start(&mut self) -> Vec<(Tick, Option<u32>)> {
        match self.c.arrivals.clone() {
            Arrivals::Open {
                interarrival_ticks_mean,
            } => {
                if self.c.transactions == 0 {
                    return Vec::new();
                }
                self.scheduled = 1;
                vec![(self.think(interarrival_ticks_mean), None)]
            }
            Arrivals::Closed {
                clients,
                think_ticks_mean,
            } => {
                let n = u64::from(clients).min(self.c.transactions);
                self.scheduled = n;
                (0..n as u32)
                    .map(|i| (self.think(think_ticks_mean), Some(i)))
                    .collect()
            }
        }
    }
    fn next_arrival(&mut self, now: Tick) -> Option<Tick> {
        match self.c.arrivals {
            Arrivals::Open {
                interarrival_ticks_mean,
            } if self.scheduled < self.c.transactions => {
                self.scheduled += 1;
                Some(now + self.think(interarrival_ticks_mean))
            }
            _ => None,
        }
    }
    fn client_done(&mut self, _client: u32, now: Tick) -> Option<Tick> {
        match self.c.arrivals {
            Arrivals::Closed {
                think_ticks_mean, ..
            } if self.scheduled < self.c.transactions => {
                self.scheduled += 1;
                Some(now + self.think(think_ticks_mean))
            }
            _ => None,
        }
    }
    fn shape(&mut self, client: Option<u32>, mut ops: Vec<Op>) -> TxnSpec {
        self.emitted += 1;
        let lo = u64::from(self.c.length_min.max(1));
        let n = rng::uniform(&mut self.shapes, lo, u64::from(self.c.length_max).max(lo)) as usize;
        let records = self.c.records.max(1);
        let zipf = self.zipf.as_ref();
        distinct(
            &mut self.shapes,
            n,
            records,
            |r| pick(zipf, records, r),
            &mut ops,
        );
        for op in &mut ops {
            let record = op.record();
            *op = if rng::chance(&mut self.shapes, self.c.write_fraction) {
                let x = rng::uniform(&mut self.shapes, 1, 9) as i64;
                match self.c.write_kind {
                    WriteKind::ReadModifyWrite => Op::Add { record, delta: x },
                    WriteKind::Blind => Op::Put { record, value: x },
                }
            } else {
                Op::Read { record }
            };
        }
        TxnSpec {
            label: self.emitted as u32,
            client,
            ops,
            compute_ticks: rng::uniform(
                &mut self.shapes,
                self.c.compute_ticks_min,
                self.c.compute_ticks_max,
            ),
        }
    }
}
