//! Helpers shared by the integration tests.

use sim::{
    BankConfig, Fig3Config, Fig45Config, History, Policy, RunResult, Scenario, WorkloadConfig,
};

/// Seeds every property runs over in the default `cargo test`.
pub const SEEDS: u64 = 1000;

pub fn fig3() -> Scenario {
    Scenario::with_workload(WorkloadConfig::Fig3(Fig3Config::default()))
}

pub fn fig45() -> Scenario {
    Scenario::with_workload(WorkloadConfig::Fig45(Fig45Config::default()))
}

/// The bank at a size that keeps 1000 seeds × 3 variants quick: 32 accounts (8
/// blocks of 4), 120 transfers around the request; transfers compute long enough
/// that old ones are still writing A when new ones start on B.
pub fn bank() -> Scenario {
    Scenario::with_workload(WorkloadConfig::Bank(BankConfig {
        accounts: 32,
        transactions: 120,
        compute_ticks_min: 20,
        compute_ticks_max: 250,
        // Busy (the default before it moved to 100): many transfers in flight at once.
        arrival_ticks_mean: 20,
        ..BankConfig::default()
    }))
}

/// Transfers that outlast a slow archive: 256 accounts (64 blocks of 4), 300 transfers
/// every 60 ticks computing 20-800 ticks, an archive target of 1 MB/s (a copy of the
/// volume takes about 4,700 ticks), so transfers run through the split and a backup
/// cycle's copy is still going when the next request or a full data area comes.
pub fn slow_archived_transfers() -> Scenario {
    let mut s = Scenario::with_workload(WorkloadConfig::Bank(BankConfig {
        accounts: 256,
        transactions: 300,
        arrival_ticks_mean: 60,
        compute_ticks_min: 20,
        compute_ticks_max: 800,
        ..BankConfig::default()
    }));
    s.archive.bandwidth_bytes_per_s = 1_000_000;
    s
}

pub fn workloads() -> Vec<Scenario> {
    vec![fig3(), fig45(), bank()]
}

/// Runs and returns the result and the history (scenarios in tests keep it).
pub fn run(s: &Scenario, p: Policy, seed: u64) -> (RunResult, History) {
    let (r, h) = sim::run_keeping_history(s, p, seed)
        .map(|r| (r.result, r.history))
        .unwrap_or_else(|e| panic!("{} {p} seed {seed}: {e}", s.name));
    (r, h.expect("tests keep the history"))
}

/// A report line for a violation: invariant, scenario, policy, seed, prefix, detail.
pub fn describe(s: &Scenario, p: Policy, seed: u64, r: &RunResult) -> String {
    r.violations
        .iter()
        .map(|v| format!("{} / {p} / seed {seed}: {v}", s.name))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The trace of a counterexample: the events of the smallest prefix that involve the
/// violation's transactions, and the backup's milestones.
pub fn trace(h: &History, v: &sim::Violation) -> String {
    h.involving(&v.txns, v.event_index)
        .map(|(i, s)| match &s.event {
            sim::Event::AConsistent { .. } => {
                format!("{i:>5} @{:>6} AConsistent {{ image }}", s.time)
            }
            sim::Event::Archive { .. } => format!("{i:>5} @{:>6} Archive {{ image }}", s.time),
            sim::Event::End { .. } => format!("{i:>5} @{:>6} End {{ live }}", s.time),
            e => format!("{i:>5} @{:>6} {e:?}", s.time),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// How many transactions a scenario's workload emits.
pub fn emitted(s: &Scenario) -> u64 {
    match &s.workload {
        WorkloadConfig::Fig3(_) => 6,
        WorkloadConfig::Fig45(c) => c.transactions,
        WorkloadConfig::Bank(c) => c.transactions,
        WorkloadConfig::Generated(c) => c.transactions,
        WorkloadConfig::Trace(c) => c.loaded.as_ref().map_or(0, |m| m.txns.len() as u64),
    }
}

/// The claimed violations but non-disruption's: what a test of consistency under a
/// configuration asserts empty. Non-disruption is about time: with a zero setup window,
/// latency spikes, a slow archive or a busy channel, a wait the backup causes (a
/// flush, a call queued behind an archive extent, a type (b) lock) may exceed the
/// limit without any consistency being at stake; it is judged by its own tests
/// (`oracle.rs`, `policies.rs`, the CLI's `window.rs`).
pub fn safety_violations(r: &RunResult) -> Vec<&sim::Violation> {
    r.claimed_violations()
        .into_iter()
        .filter(|v| v.invariant != sim::Invariant::NonDisruption)
        .collect()
}
