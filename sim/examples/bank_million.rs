//! One million bank transfers through the real engine, to time the simulator.
//! `cargo run --release -p owm-sim --example bank_million -- [transactions] [policy]`
//!
//! The history and the timeline are off (they would hold every event);
//! the costs are still computed. Prints wall time and events per second (the only
//! place the simulator looks at a wall clock, and it is outside the library).

use std::time::Instant;

use sim::{run, BankConfig, Policy, Scenario, WorkloadConfig};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let transactions: u64 = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let policy: Policy = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(Policy::Owm(engine::Variant::CopyOnWrite));
    let mut s = Scenario::with_workload(WorkloadConfig::Bank(BankConfig {
        accounts: 10_000,
        transactions,
        arrival_ticks_mean: 20,
        ..BankConfig::default()
    }));
    s.keep_history = false;
    s.keep_timeline = false;
    let started = Instant::now();
    let r = run(&s, policy, 1).expect("run").result;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "bank {transactions} transfers, {policy}: {} events in {secs:.2} s = {:.2} M events/s, {:.0} transactions/s; \
         committed {}, virtual end {} ticks, admission max {} ticks, request→A consistent {:?} ticks",
        r.events,
        r.events as f64 / secs / 1e6,
        transactions as f64 / secs,
        r.costs.committed,
        r.end_ticks,
        r.costs.admission_delay.ticks_max,
        r.costs.request_to_a_consistent_ticks,
    );
}
