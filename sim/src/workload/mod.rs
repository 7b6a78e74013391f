//! Workloads: who arrives when, and what each transaction does.
//!
//! Each workload draws arrival times from the `Arrivals` stream and transaction shapes
//! from the `Shapes` stream, lazily (a million transactions cost no memory up front).

mod bank;
mod fig3;
mod fig45;
mod generated;
pub mod trace;
mod zipf;

pub use bank::BankConfig;
pub use fig3::Fig3Config;
pub use fig45::{Fig45Config, PROCESSES_MAX};
pub use generated::{Arrivals, GeneratedConfig, HotSpot, WriteKind};
pub use trace::TraceConfig;

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::clock::Tick;
use crate::rng;
use crate::txn::{Op, TxnSpec};

/// What a workload table must be.
const EXPECTING: &str =
    "a table with `kind` = \"fig3\", \"fig4-5\", \"bank\", \"generated\" or \"trace\"";

/// Which workload, with its parameters. In TOML: `[workload] kind = "bank" ...`; a
/// table without `kind` is a `fig3` workload (the default one).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum WorkloadConfig {
    /// Fig 3A: processes 301-306, request at 350, setup window to 450.
    Fig3(Fig3Config),
    /// Fig 4/5: sources → queue 502 → processes 503/504, then 507/508 after the split.
    #[serde(rename = "fig4-5", alias = "fig45")]
    Fig45(Fig45Config),
    /// Bank transfers between accounts; the sum of balances is conserved.
    Bank(BankConfig),
    /// Generated load: open or closed arrivals, length and mix, uniform or Zipf.
    Generated(GeneratedConfig),
    /// A recorded block trace replayed as transactions ([`trace`]).
    Trace(TraceConfig),
}

/// [`WorkloadConfig`] as read once its table has a `kind`.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
enum Tagged {
    Fig3(Fig3Config),
    #[serde(rename = "fig4-5", alias = "fig45")]
    Fig45(Fig45Config),
    Bank(BankConfig),
    Generated(GeneratedConfig),
    Trace(TraceConfig),
}

impl<'de> Deserialize<'de> for WorkloadConfig {
    /// A table, its `kind` `"fig3"` when it names none; anything else is refused as
    /// not a workload table. An error inside the table is serde's message for it.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{Error, Unexpected};
        let mut table = match toml::Value::deserialize(d)? {
            toml::Value::Table(t) => t,
            other => {
                let unexpected = match &other {
                    toml::Value::String(s) => Unexpected::Str(s),
                    toml::Value::Integer(i) => Unexpected::Signed(*i),
                    toml::Value::Float(f) => Unexpected::Float(*f),
                    toml::Value::Boolean(b) => Unexpected::Bool(*b),
                    toml::Value::Array(_) => Unexpected::Seq,
                    _ => Unexpected::Other("a date or time"),
                };
                return Err(D::Error::invalid_type(unexpected, &EXPECTING));
            }
        };
        table
            .entry("kind")
            .or_insert_with(|| toml::Value::String(Self::default().kind().to_string()));
        let tagged = Tagged::deserialize(toml::Value::Table(table))
            .map_err(|e| D::Error::custom(e.message()))?;
        Ok(match tagged {
            Tagged::Fig3(c) => WorkloadConfig::Fig3(c),
            Tagged::Fig45(c) => WorkloadConfig::Fig45(c),
            Tagged::Bank(c) => WorkloadConfig::Bank(c),
            Tagged::Generated(c) => WorkloadConfig::Generated(c),
            Tagged::Trace(c) => WorkloadConfig::Trace(c),
        })
    }
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        WorkloadConfig::Fig3(Fig3Config::default())
    }
}

impl WorkloadConfig {
    /// The name used in files.
    pub fn kind(&self) -> &'static str {
        match self {
            WorkloadConfig::Fig3(_) => "fig3",
            WorkloadConfig::Fig45(_) => "fig4-5",
            WorkloadConfig::Bank(_) => "bank",
            WorkloadConfig::Generated(_) => "generated",
            WorkloadConfig::Trace(_) => "trace",
        }
    }

    /// Records the workload addresses (the volume is sized to hold them).
    pub fn records(&self) -> u64 {
        match self {
            WorkloadConfig::Fig3(c) => c.records,
            WorkloadConfig::Fig45(c) => c.records,
            WorkloadConfig::Bank(c) => c.accounts,
            WorkloadConfig::Generated(c) => c.records,
            // Each block's first record is the one a block access reads and writes.
            WorkloadConfig::Trace(c) => c.records(),
        }
        .max(1)
    }

    /// Every record's value before the first transaction (a pure function of the
    /// record: the volume's initial content is computed from it, never stored).
    pub fn initial_values(&self) -> InitialValues {
        let all = |value| InitialValues {
            value,
            records: u64::MAX,
        };
        match self {
            WorkloadConfig::Fig3(c) => all(c.initial_value),
            WorkloadConfig::Fig45(c) => all(c.initial_value),
            WorkloadConfig::Bank(c) => InitialValues {
                value: c.initial_balance,
                records: c.accounts,
            },
            WorkloadConfig::Generated(_) | WorkloadConfig::Trace(_) => all(0),
        }
    }

    /// The key that sizes the volume: `workload.records` (`workload.accounts` for bank
    /// transfers, `workload.path` for a trace).
    pub fn records_key(&self) -> &'static str {
        match self {
            WorkloadConfig::Bank(_) => "workload.accounts",
            WorkloadConfig::Trace(_) => "workload.path",
            _ => "workload.records",
        }
    }

    /// The keys that give the workload's amount of work ([`WorkloadConfig::size`]): how
    /// many transactions, and how many records each accesses, the one furthest above its
    /// default first (the one to blame for a run too large: 10 transactions of 10^8
    /// updates are refused at `workload.updates_max`, not at `workload.transactions`).
    /// Fig 3 runs its six processes 301-306 whatever the file says, so only its
    /// `workload.updates_max` sizes it; a trace is sized by its file.
    pub fn work_keys(&self) -> Vec<&'static str> {
        // (count, its default), (length, its default): the larger ratio first.
        let pair = |count: (&'static str, u64, u64), length: (&'static str, u64, u64)| {
            let ratio = |(_, v, d): (&str, u64, u64)| v as f64 / d.max(1) as f64;
            if ratio(length) > ratio(count) {
                vec![length.0, count.0]
            } else {
                vec![count.0, length.0]
            }
        };
        match self {
            WorkloadConfig::Fig3(_) => vec!["workload.updates_max"],
            WorkloadConfig::Fig45(c) => {
                let d = Fig45Config::default();
                pair(
                    ("workload.transactions", c.transactions, d.transactions),
                    (
                        "workload.updates_max",
                        c.updates_max.into(),
                        d.updates_max.into(),
                    ),
                )
            }
            WorkloadConfig::Bank(_) => vec!["workload.transactions"],
            WorkloadConfig::Generated(c) => {
                let d = GeneratedConfig::default();
                pair(
                    ("workload.transactions", c.transactions, d.transactions),
                    (
                        "workload.length_max",
                        c.length_max.into(),
                        d.length_max.into(),
                    ),
                )
            }
            WorkloadConfig::Trace(_) => vec!["workload.path"],
        }
    }

    /// Less work in words, for a refusal's advice (`give fewer transactions`), naming
    /// the keys of [`WorkloadConfig::work_keys`] where the words alone do not.
    pub fn less_work(&self) -> &'static str {
        match self {
            WorkloadConfig::Fig3(_) => "give fewer updates per process (workload.updates_max)",
            WorkloadConfig::Fig45(_) => {
                "give fewer transactions, or fewer updates each (workload.updates_max)"
            }
            WorkloadConfig::Bank(_) => "give fewer transactions",
            WorkloadConfig::Generated(_) => {
                "give fewer transactions, or shorter ones (workload.length_max)"
            }
            WorkloadConfig::Trace(_) => "replay a shorter trace",
        }
    }

    /// The most transactions the workload issues and the most records one of them
    /// accesses (retries aside): what sizes a run's memory ([`crate::footprint`]).
    pub fn size(&self) -> (u64, u64) {
        match self {
            WorkloadConfig::Fig3(c) => (6, u64::from(c.updates_max)),
            WorkloadConfig::Fig45(c) => (c.transactions, u64::from(c.updates_max)),
            WorkloadConfig::Bank(c) => (c.transactions, 2),
            WorkloadConfig::Generated(c) => (c.transactions, u64::from(c.length_max)),
            WorkloadConfig::Trace(c) => c.loaded.as_ref().map_or((0, 0), |m| {
                let longest = m.txns.iter().map(|t| t.blocks.len()).max().unwrap_or(0);
                (m.txns.len() as u64, longest as u64)
            }),
        }
    }

    /// How the workload's writes write a block: `workload.write_kind` of a generated
    /// or trace workload; read-modify-write for the others.
    pub fn write_kind(&self) -> WriteKind {
        match self {
            WorkloadConfig::Generated(c) => c.write_kind,
            WorkloadConfig::Trace(c) => c.write_kind,
            _ => WriteKind::ReadModifyWrite,
        }
    }

    /// True when each transaction waits for a flush barrier before it commits
    /// (`flush_at_commit`, generated loads).
    pub fn flush_at_commit(&self) -> bool {
        matches!(self, WorkloadConfig::Generated(c) if c.flush_at_commit)
    }

    /// True when arrivals follow responses: a closed loop (`arrivals = { mode =
    /// "closed", … }`) or a trace replayed with `timing = "closed"`, where each
    /// client's next transaction arrives after its last one ends. Two policies' runs of
    /// one seed then see other transactions in the same span once their responses
    /// differ (not the same arrivals, as on an open load).
    pub fn closed_loop(&self) -> bool {
        match self {
            WorkloadConfig::Generated(c) => matches!(c.arrivals, Arrivals::Closed { .. }),
            WorkloadConfig::Trace(c) => c.timing == trace::Timing::Closed,
            WorkloadConfig::Fig3(_) | WorkloadConfig::Fig45(_) | WorkloadConfig::Bank(_) => false,
        }
    }

    /// True when every transaction keeps the sum of record values (bank).
    pub fn conserves_sum(&self) -> bool {
        matches!(self, WorkloadConfig::Bank(_))
    }

    /// The backup request time when the scenario does not give one, in ticks (a
    /// trace replayed closed loop estimates its replay's span on `device`:
    /// [`TraceConfig::default_request_ticks`]).
    /// At most `u64::MAX`: a scenario's checks refuse a default request past the latest
    /// tick a request can be ([`WorkloadConfig::default_request_ticks_exact`]).
    pub fn default_request_ticks(&self, device: &crate::DeviceModelConfig) -> Tick {
        Tick::try_from(self.default_request_ticks_exact(device)).unwrap_or(Tick::MAX)
    }

    /// The mean time between arrivals, in ticks, of a load that draws them (a bank, an
    /// open generated load); `None` for the others.
    pub fn arrival_ticks_mean(&self) -> Option<Tick> {
        match self {
            WorkloadConfig::Bank(c) => Some(c.arrival_ticks_mean),
            WorkloadConfig::Generated(c) => match c.arrivals {
                Arrivals::Open {
                    interarrival_ticks_mean,
                } => Some(interarrival_ticks_mean),
                Arrivals::Closed { .. } => None,
            },
            _ => None,
        }
    }

    /// [`WorkloadConfig::default_request_ticks`] without a bound: half the arrivals'
    /// mean span (transactions × the mean time between arrivals / 2) for a bank or an
    /// open generated load, whatever its size, so a check can say where it falls.
    pub fn default_request_ticks_exact(&self, device: &crate::DeviceModelConfig) -> u128 {
        match (self, self.arrival_ticks_mean()) {
            (WorkloadConfig::Fig3(_), _) => 350,
            (WorkloadConfig::Fig45(_), _) => 521,
            (WorkloadConfig::Trace(c), _) => u128::from(c.default_request_ticks(device)),
            (_, Some(mean)) => u128::from(self.size().0) * u128::from(mean) / 2,
            // A closed generated load.
            (_, None) => 10_000,
        }
    }

    /// The process pool of Fig 4/5, if the workload has one: (labels before the
    /// split, labels after). The patent's 503, 504, … before and 507, 508, … after;
    /// past 4 processes the new ones are numbered on from the last old one (503 + n,
    /// …), so no label names two processes.
    pub fn process_pool(&self) -> Option<(Vec<u32>, Vec<u32>)> {
        match self {
            WorkloadConfig::Fig45(c) => {
                let n = c.processes.max(1);
                let first_new = (503 + n).max(507);
                let before = (0..n).map(|i| 503 + i).collect();
                let after = (0..n).map(|i| first_new + i).collect();
                Some((before, after))
            }
            _ => None,
        }
    }

    /// A fresh generator for this configuration.
    pub(crate) fn generator(&self, arrivals: ChaCha8Rng, shapes: ChaCha8Rng) -> Box<dyn Workload> {
        match self {
            WorkloadConfig::Fig3(c) => Box::new(fig3::Fig3::new(c.clone(), shapes)),
            WorkloadConfig::Fig45(c) => Box::new(fig45::Fig45::new(c.clone(), arrivals, shapes)),
            WorkloadConfig::Bank(c) => Box::new(bank::Bank::new(c.clone(), arrivals, shapes)),
            WorkloadConfig::Generated(c) => {
                Box::new(generated::Generated::new(c.clone(), arrivals, shapes))
            }
            WorkloadConfig::Trace(c) => Box::new(trace::Replay::new(c, shapes)),
        }
    }
}

/// The records' values before the first transaction: `value` for the records below
/// `records`, 0 for the others (the padding of the last block included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct InitialValues {
    pub value: i64,
    pub records: u64,
}

impl InitialValues {
    /// The initial value of record `r`.
    pub fn of(&self, r: u64) -> i64 {
        if r < self.records {
            self.value
        } else {
            0
        }
    }
}

/// A generator of transactions.
pub(crate) trait Workload {
    /// Arrivals known at time 0: `(time, client)`. Open-loop workloads give their first
    /// arrival; closed-loop ones one per client.
    fn start(&mut self) -> Vec<(Tick, Option<u32>)>;
    /// After an open-loop arrival at `now`, the next arrival time, if any.
    fn next_arrival(&mut self, now: Tick) -> Option<Tick>;
    /// After a closed-loop client's transaction ends at `now`, its next arrival.
    fn client_done(&mut self, client: u32, now: Tick) -> Option<Tick>;
    /// The shape of the transaction arriving now; its accesses go into `ops`, an
    /// empty vector recycled from an earlier attempt (so a transaction's shape costs
    /// no allocation).
    fn shape(&mut self, client: Option<u32>, ops: Vec<Op>) -> TxnSpec;
}

/// An open-loop Poisson source of `total` arrivals, `interarrival_ticks_mean` apart on
/// average: the arrival process of the fig4-5 and bank workloads (its own random stream,
/// so the transactions' shapes never shift the arrival times).
pub(crate) struct PoissonArrivals {
    rng: ChaCha8Rng,
    interarrival_ticks_mean: f64,
    total: u64,
    /// Arrivals scheduled so far.
    scheduled: u64,
}

impl PoissonArrivals {
    pub(crate) fn new(rng: ChaCha8Rng, interarrival_ticks_mean: u64, total: u64) -> Self {
        Self {
            rng,
            interarrival_ticks_mean: interarrival_ticks_mean as f64,
            total,
            scheduled: 0,
        }
    }

    /// The first arrival (none when the source has no transactions), as
    /// [`Workload::start`] returns it.
    pub(crate) fn start(&mut self) -> Vec<(Tick, Option<u32>)> {
        if self.total == 0 {
            return Vec::new();
        }
        self.scheduled = 1;
        vec![(
            rng::exponential(&mut self.rng, self.interarrival_ticks_mean),
            None,
        )]
    }

    /// The arrival after the one at `now`, until `total` have been scheduled.
    pub(crate) fn next(&mut self, now: Tick) -> Option<Tick> {
        (self.scheduled < self.total).then(|| {
            self.scheduled += 1;
            now + rng::exponential(&mut self.rng, self.interarrival_ticks_mean)
        })
    }
}

/// Fills `ops` (empty on entry) with the shape fig3 and fig4-5 share: between
/// `updates_min` (at least 1) and `updates_max` distinct records out of `0..records`,
/// each updated by adding 1..=9.
pub(crate) fn small_updates(
    rng: &mut ChaCha8Rng,
    updates_min: u32,
    updates_max: u32,
    records: u64,
    ops: &mut Vec<Op>,
) {
    let lo = u64::from(updates_min.max(1));
    let n = rng::uniform(rng, lo, u64::from(updates_max).max(lo)) as usize;
    distinct(rng, n, records, |r| rng::uniform(r, 0, records - 1), ops);
    for op in ops.iter_mut() {
        *op = Op::Add {
            record: op.record(),
            delta: rng::uniform(rng, 1, 9) as i64,
        };
    }
}

/// Appends `n` accesses to distinct records out of `0..records`, drawn with `pick`,
/// to `out` (empty on entry) as [`Op::Read`]; the caller then turns each into the
/// access it wants, in order. Filling the caller's vector, not a new one, keeps a
/// transaction's shape free of allocation.
pub(crate) fn distinct(
    rng: &mut ChaCha8Rng,
    n: usize,
    records: u64,
    mut pick: impl FnMut(&mut ChaCha8Rng) -> u64,
    out: &mut Vec<Op>,
) {
    debug_assert!(out.is_empty());
    let n = n.min(records as usize);
    let taken = |out: &[Op], r: u64| out.iter().any(|o| o.record() == r);
    let mut tries = 0;
    while out.len() < n {
        let r = pick(rng);
        tries += 1;
        if !taken(out, r) {
            out.push(Op::Read { record: r });
        } else if tries > 64 * n {
            // A very skewed distribution: fill with the next free records instead.
            let mut x = r;
            while taken(out, x) {
                x = (x + 1) % records;
            }
            out.push(Op::Read { record: x });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The process pool's labels: the patent's 503/504 and 507/508 for 2 processes,
    /// 503.. and 507.. up to 4, and from 5 on the new ones numbered after the last old
    /// one; never one label for two processes.
    #[test]
    fn process_labels_never_name_two_processes() {
        for n in (1..=70).chain([4096, 65_536]) {
            let w = WorkloadConfig::Fig45(fig45::Fig45Config {
                processes: n,
                ..Default::default()
            });
            let (before, after) = w.process_pool().expect("fig4-5 has a pool");
            assert_eq!(before.len(), n as usize);
            assert_eq!(after.len(), n as usize);
            assert_eq!(before[0], 503, "{n}");
            assert_eq!(after[0], if n <= 4 { 507 } else { 503 + n }, "{n}");
            let all: std::collections::BTreeSet<u32> =
                before.iter().chain(&after).copied().collect();
            assert_eq!(
                all.len(),
                2 * n as usize,
                "{n}: a label names two processes"
            );
        }
    }
}
