//! Fig 4/5 at scale: `cargo run --release -p owm-sim --example fig45_scale -- [transactions] [policy]`.
//! Arrivals every 60 ticks on average, 2 processes, so queue 502 stays bounded.

use std::time::Instant;

use sim::{run, Fig45Config, Policy, Scenario, WorkloadConfig};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let transactions: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let policy: Policy = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(Policy::Owm(engine::Variant::WriteLogging));
    let mut s = Scenario::with_workload(WorkloadConfig::Fig45(Fig45Config {
        records: 4096,
        transactions,
        arrival_ticks_mean: 60,
        ..Fig45Config::default()
    }));
    s.backup.request_at_ticks = Some(transactions * 30);
    s.keep_history = false;
    s.keep_timeline = false;
    let started = Instant::now();
    let r = run(&s, policy, 1).expect("run").result;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "fig4-5 {transactions} transactions, {policy}: {} events in {secs:.2} s = {:.2} M events/s; \
         committed {}, response mean {:.0} ticks, admission max {} ticks",
        r.events,
        r.events as f64 / secs / 1e6,
        r.costs.committed,
        r.costs.response_time.ticks_mean,
        r.costs.admission_delay.ticks_max,
    );
}
