//! The scenarios the simulator is timed on, shared by `benches/simulator.rs` and
//! `examples/scale.rs` (included there with `#[path]`), so the criterion figures and
//! the one-shot scale runs measure the same load.
//!
//! Both run with the history and the timeline off (they would hold every
//! event and every transaction); the costs are still computed.

use sim::{BankConfig, Fig45Config, Scenario, WorkloadConfig};

/// The timed workloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Load {
    /// Fig 4/5: 4096 records, 1-3 updates per transaction, arrivals every 60 ticks
    /// on average, 2 processes (503/504, then 507/508), backup request mid-run.
    Fig45,
    /// Bank: 10,000 accounts, one transfer (two read-modify-writes) per transaction,
    /// arrivals every 20 ticks on average, backup request mid-run.
    Bank,
}

impl Load {
    pub const ALL: [Load; 2] = [Load::Fig45, Load::Bank];

    pub fn name(self) -> &'static str {
        match self {
            Load::Fig45 => "fig4-5",
            Load::Bank => "bank",
        }
    }

    #[allow(dead_code)] // Used by the scale example only.
    pub fn parse(s: &str) -> Option<Load> {
        Load::ALL.into_iter().find(|l| l.name() == s)
    }

    /// The scenario for `transactions` transactions.
    pub fn scenario(self, transactions: u64) -> Scenario {
        let mut s = match self {
            Load::Fig45 => {
                let mut s = Scenario::with_workload(WorkloadConfig::Fig45(Fig45Config {
                    records: 4096,
                    transactions,
                    arrival_ticks_mean: 60,
                    ..Fig45Config::default()
                }));
                s.backup.request_at_ticks = Some(transactions * 30);
                s
            }
            Load::Bank => Scenario::with_workload(WorkloadConfig::Bank(BankConfig {
                accounts: 10_000,
                transactions,
                arrival_ticks_mean: 20,
                ..BankConfig::default()
            })),
        };
        s.keep_history = false;
        s.keep_timeline = false;
        s
    }
}
