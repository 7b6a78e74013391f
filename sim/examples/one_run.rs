//! Runs one scenario under every policy and prints the costs and any violation.
//! `cargo run -p owm-sim --example one_run -- [fig3|fig45|bank|generated] [seed]`

use sim::{run, BankConfig, Fig45Config, GeneratedConfig, Policy, Scenario, WorkloadConfig};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let kind = args.get(1).map(String::as_str).unwrap_or("fig3");
    let seed: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let workload = match kind {
        "fig45" => WorkloadConfig::Fig45(Fig45Config::default()),
        "bank" => WorkloadConfig::Bank(BankConfig::default()),
        "generated" => WorkloadConfig::Generated(GeneratedConfig::default()),
        _ => WorkloadConfig::default(),
    };
    let scenario = Scenario::with_workload(workload);
    for policy in Policy::ALL {
        match run(&scenario, policy, seed) {
            Ok(sim::Run { result: r, .. }) => {
                println!(
                    "{policy:>16}: marks {:?}\n  admission {:?} unavailable {} committed {} lock waits {} w/lw {:.2} extra peak {}",
                    r.marks,
                    r.costs.admission_delay,
                    r.costs.unavailable_ticks,
                    r.costs.committed,
                    r.costs.lock_waits,
                    r.costs.physical_writes_per_logical_write,
                    r.costs.extra_space_blocks_peak
                );
                if kind == "fig3" {
                    for t in &r.transactions {
                        println!(
                            "    {} old={} {:?} arr {} adm {:?} end {:?}",
                            t.label,
                            t.old,
                            t.vlun,
                            t.arrived_ticks,
                            t.admitted_ticks,
                            t.ended_ticks
                        );
                    }
                }
                for v in &r.violations {
                    println!("  VIOLATION {v}");
                }
            }
            Err(e) => println!("{policy}: error {e}"),
        }
    }
}
