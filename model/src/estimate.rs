//! How large a configuration is before it is checked: beyond four transactions the
//! state count is extrapolated from the same configuration with three and four
//! transactions (each added transaction multiplies it by a factor that depends on the
//! locking, the variant and the aborts, 7-14 in the configurations measured), and
//! turned into memory and time with the per-state costs measured in BENCHMARKS.md.
//! The tests hold it to a factor of two of the counts of five and six transactions.
//! `owm check` prints the estimate and refuses a configuration whose search would not
//! fit in memory, naming the flags that make it fit (`--dfs`, a budget).

use std::fmt;

use crate::config::{CheckConfig, Strategy};
use crate::ModelError;

/// Transactions up to which a configuration is checked without an estimate.
pub const ESTIMATE_ABOVE_TXNS: usize = 4;
/// Peak resident bytes per unique state of a breadth-first search: peak RSS / unique
/// states measured on one thread (BENCHMARKS.md, Checker, "Sizes"): 346-460 with
/// three old and three new transactions, 551-662 on the largest 2+2 configuration
/// (195-234 MiB for 370,632 states); rounded up.
pub const BFS_BYTES_PER_STATE: f64 = 700.0;
/// Peak resident bytes per unique state of a depth-first search (stateright keeps a
/// fingerprint per visited state in a table that doubles as it fills, and the states
/// on the current path and their siblings): peak RSS / unique states measured on one
/// thread 13.5-22.3 at 2.9-18 M states (three old and three new transactions,
/// BENCHMARKS.md, "Sizes") and 14.6 at 44.4 M ("Depth-first memory"); rounded up.
pub const DFS_BYTES_PER_STATE: f64 = 20.0;
/// Unique states per second and thread of the larger configurations (BENCHMARKS.md:
/// 134,000-158,000 on a loaded machine; rounded down).
pub const STATES_PER_SEC_PER_THREAD: f64 = 130_000.0;

/// Peak resident bytes per unique state of a search by `strategy`
/// ([`BFS_BYTES_PER_STATE`] or [`DFS_BYTES_PER_STATE`]).
pub fn bytes_per_state(strategy: Strategy) -> f64 {
    match strategy {
        Strategy::Bfs => BFS_BYTES_PER_STATE,
        Strategy::Dfs => DFS_BYTES_PER_STATE,
    }
}

/// A prediction of a check's size.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// (transactions, unique states) of the smaller configurations checked to predict.
    pub measured: Vec<(usize, usize)>,
    /// States per added transaction (ratio of the last two measured).
    pub growth: f64,
    /// Predicted unique states of the configuration.
    pub states: f64,
    /// Predicted peak memory of the configured strategy.
    pub bytes: f64,
    /// Predicted search time on the configured threads.
    pub seconds: f64,
}

impl fmt::Display for Estimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let measured: Vec<String> = self
            .measured
            .iter()
            .map(|(t, s)| format!("{t} transactions: {s} states"))
            .collect();
        write!(
            f,
            "about {:.2e} states ({}; x{:.1} per transaction), {:.1} GiB, {:.0} s",
            self.states,
            measured.join(", "),
            self.growth,
            self.bytes / f64::from(1u32 << 30),
            self.seconds
        )
    }
}

/// `cfg` with the larger of its two roles shrunk until it has `txns` transactions.
fn shrunk(cfg: &CheckConfig, txns: usize) -> CheckConfig {
    let mut c = cfg.clone();
    while c.old + c.new > txns {
        let role = if c.old >= c.new {
            c.old -= 1;
            crate::program::Role::Old
        } else {
            c.new -= 1;
            crate::program::Role::New
        };
        // A model file's transactions: the last of that role goes.
        if let Some(ts) = &mut c.transactions {
            let last = ts.iter().rposition(|t| t.role == role);
            ts.remove(last.expect("a role with transactions"));
        }
    }
    c.depth = None;
    c.states_max = None;
    c.timeout = None;
    c.strategy = Strategy::Dfs;
    c
}

/// The estimate for `cfg`, or `None` when it has at most [`ESTIMATE_ABOVE_TXNS`]
/// transactions. Checks the configuration shrunk to 2, 3 and 4 transactions (a few
/// seconds at most) and extrapolates by the larger factor per transaction.
pub fn estimate(cfg: &CheckConfig) -> Result<Option<Estimate>, ModelError> {
    cfg.validate()?;
    let txns = cfg.old + cfg.new;
    if txns <= ESTIMATE_ABOVE_TXNS {
        return Ok(None);
    }
    let mut measured = Vec::new();
    for t in ESTIMATE_ABOVE_TXNS - 2..=ESTIMATE_ABOVE_TXNS {
        let r = crate::check(&shrunk(cfg, t))?;
        measured.push((t, r.unique_states));
    }
    let [s2, s3, s4] = [0, 1, 2].map(|i| measured[i].1.max(1) as f64);
    // Adding an old transaction and adding a new one multiply the count by different
    // factors (the shrinking alternates roles); the larger of the last two, applied
    // to each further transaction, stays within a factor of two of the counts
    // measured (tests).
    let growth = (s4 / s3).max(s3 / s2);
    let states = s4 * growth.powi((txns - ESTIMATE_ABOVE_TXNS) as i32);
    let per_state = bytes_per_state(cfg.strategy);
    Ok(Some(Estimate {
        measured,
        growth,
        states,
        bytes: states * per_state,
        seconds: states / (STATES_PER_SEC_PER_THREAD * cfg.threads as f64),
    }))
}

/// Bytes of memory available to a new process (Linux `MemAvailable`), if known.
pub fn available_bytes() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrinking_keeps_both_roles() {
        let c = CheckConfig {
            old: 4,
            new: 2,
            ..CheckConfig::default()
        };
        let s = shrunk(&c, 3);
        assert_eq!((s.old, s.new), (1, 2));
        let s = shrunk(&c, 4);
        assert_eq!((s.old, s.new), (2, 2));
    }

    /// The prediction for five transactions, made from two, three and four, against the
    /// count a full check finds: within a factor of two.
    #[test]
    fn the_estimate_of_five_transactions_is_near_the_count() {
        let c = CheckConfig::from_model_flags("--variant cow --old 3 --new 2 --aborts off")
            .expect("flags");
        let e = estimate(&c).expect("estimate").expect("five transactions");
        let actual = crate::check(&c).expect("check").unique_states as f64;
        assert!(
            e.states / actual < 2.0 && actual / e.states < 2.0,
            "{e} vs {actual}"
        );
        assert!(estimate(&CheckConfig::default()).unwrap().is_none());
    }
}
