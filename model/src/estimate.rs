//! How large a configuration is before it is checked: beyond four transactions the
//! state count is extrapolated from the same configuration shrunk to at most four
//! transactions (1+1 to 3+1 and 1+3 old+new), per role: each added transaction
//! multiplies the count by a factor that depends on the locking, the variant, the
//! aborts and the symmetry, and that factor itself changes from one transaction to the
//! next at the rate measured on the small configurations. The count is turned into
//! memory and time with the per-state costs measured in BENCHMARKS.md. The tests hold
//! it to a factor of two of every count pinned for five to eight transactions.
//! `owm check` prints the estimate and refuses a configuration whose search would not
//! fit in memory, naming the flags that make it fit (`--dfs`, a small `--states-max`).

use std::fmt;

use crate::config::{CheckConfig, Strategy};
use crate::ModelError;

/// Transactions up to which a configuration is checked without an estimate.
pub const ESTIMATE_ABOVE_TXNS: usize = 4;
/// Peak resident bytes per predicted state of a breadth-first search, the process's
/// own 10 MiB aside: (peak RSS - 10 MiB) / the states the estimate predicts, measured
/// on complete searches of five and six transactions on one and two threads
/// (BENCHMARKS.md, Checker, "Breadth-first memory against the estimate"): 150-370,
/// the most on two threads, where the queue the threads share is wider, and on
/// configurations whose count the estimate puts under the true one; rounded up with a
/// margin of a fifth. A search cut mid-way holds 380-430 bytes per state it holds
/// (explored and queued), but at most as many states as it generated, which
/// `--states-max` counts: 137-188 bytes per state generated. (It was 250, measured per
/// unique state on one thread only: two-thread searches came to 1.02-1.48x over it.)
pub const BFS_BYTES_PER_STATE: f64 = 450.0;
/// Bytes per state of the breadth-first search for the shortest counterexamples (after
/// a search on several threads), which keeps every state's parent: 346-662 measured
/// when the main search kept them too (BENCHMARKS.md, Checker, "Sizes"); rounded up.
pub const SHORTEST_BYTES_PER_STATE: f64 = 700.0;
/// Peak resident bytes per unique state of a depth-first search (stateright keeps a
/// fingerprint per visited state in a table that doubles as it fills, and the states
/// on the current path and their siblings): peak RSS / unique states measured on one
/// thread 13.5-22.3 at 2.9-18 M states (three old and three new transactions,
/// BENCHMARKS.md, "Sizes") and 14.6 at 44.4 M ("Depth-first memory"); rounded up.
pub const DFS_BYTES_PER_STATE: f64 = 20.0;
/// Unique states per second and thread of a breadth-first search with a core of its
/// own: unique states per CPU-second of the whole process, 263,000-415,000 on the
/// 2+2 and 3+3 configurations (BENCHMARKS.md, Checker, "The rates the estimate
/// uses"); rounded down.
pub const BFS_STATES_PER_SEC_PER_THREAD: f64 = 250_000.0;
/// Unique states per second and thread of a depth-first search with a core of its
/// own: 496,000-805,000 per CPU-second at 0.4-67 M states (BENCHMARKS.md, Checker, "The
/// rates the estimate uses" and "Four and four"); rounded down.
pub const DFS_STATES_PER_SEC_PER_THREAD: f64 = 450_000.0;

/// Unique states per second and thread of a search by `strategy`
/// ([`BFS_STATES_PER_SEC_PER_THREAD`] or [`DFS_STATES_PER_SEC_PER_THREAD`]).
pub fn states_per_sec_per_thread(strategy: Strategy) -> f64 {
    match strategy {
        Strategy::Bfs => BFS_STATES_PER_SEC_PER_THREAD,
        Strategy::Dfs => DFS_STATES_PER_SEC_PER_THREAD,
    }
}

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
    /// (old, new, unique states) of the smaller configurations checked to predict.
    pub measured: Vec<(usize, usize, usize)>,
    /// States per added old transaction: the factor of the last one added; `None` when
    /// no old transaction was added to the measured configurations (at most two old).
    pub growth_old: Option<f64>,
    /// States per added new transaction: the factor of the last one added; `None` when
    /// no new transaction was added to the measured configurations (at most two new).
    pub growth_new: Option<f64>,
    /// Predicted unique states of the configuration.
    pub states: f64,
    /// Predicted peak memory of the configured strategy, in bytes, beside the
    /// process's own (printed in GiB rounded up to 0.1). Breadth first on several
    /// threads it also bounds the search for the shortest traces that may follow
    /// (`owm check` gives that search no more).
    pub bytes: f64,
    /// Predicted search time on the threads that run at once: the configured ones, at
    /// most the machine's cores ([`std::thread::available_parallelism`]: threads past
    /// them share the cores and buy nothing).
    pub seconds: f64,
}

impl fmt::Display for Estimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let measured: Vec<String> = self
            .measured
            .iter()
            .map(|(o, n, s)| format!("{o}+{n}: {s}"))
            .collect();
        // Only the factors the extrapolation used: a role not extended past the
        // measured configurations has none.
        let factors: Vec<String> = [(self.growth_old, "old"), (self.growth_new, "new")]
            .into_iter()
            .filter_map(|(g, role)| g.map(|g| format!("x{g:.1} per {role}")))
            .collect();
        let factors = if factors.is_empty() {
            String::new()
        } else {
            format!("; {} transaction", factors.join(", "))
        };
        write!(
            f,
            "about {:.2e} states (old+new transactions: states {}{factors}), {:.1} GiB, {}",
            self.states,
            measured.join(", "),
            // Rounded up: the figure printed is never under the one the refusal uses.
            (self.bytes / f64::from(1u32 << 30) * 10.0).ceil() / 10.0,
            seconds_up(self.seconds)
        )
    }
}

/// A predicted time rounded up, as the memory is: to 0.1 s below 10 s (`0.5 s`, never
/// `0 s` for a search that takes some), to whole seconds from there (`596 s`).
fn seconds_up(s: f64) -> String {
    // The scaled value is rounded to 1e-6 first, so that 0.3 (2.9999999999999996
    // tenths) stays 0.3.
    let up = |scale: f64| ((s * scale * 1e6).round() / 1e6).ceil() / scale;
    let tenths = up(10.0);
    if tenths < 10.0 {
        format!("{tenths:.1} s")
    } else {
        format!("{:.0} s", up(1.0))
    }
}

/// `cfg` shrunk to `old` old and `new` new transactions (a model file's last
/// transactions of a role go first), searched whole.
fn shrunk(cfg: &CheckConfig, old: usize, new: usize) -> CheckConfig {
    let mut c = cfg.clone();
    while c.old > old || c.new > new {
        let role = if c.old > old {
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

/// How large a configuration is, as far as [`estimate_within`] could tell.
#[derive(Debug, Clone, PartialEq)]
pub enum Sizing {
    /// At most [`ESTIMATE_ABOVE_TXNS`] transactions: checked without an estimate.
    Small,
    /// The prediction.
    Estimated(Estimate),
    /// The limits stopped a search of the shrunk configurations: no prediction. Says
    /// what stopped it (`0.2 s`, the timeout; `an interrupt`).
    Cut(String),
}

/// The estimate for `cfg`, or `None` when it has at most [`ESTIMATE_ABOVE_TXNS`]
/// transactions ([`estimate_within`] without limits).
pub fn estimate(cfg: &CheckConfig) -> Result<Option<Estimate>, ModelError> {
    match estimate_within(cfg, &crate::Limits::none())? {
        Sizing::Small => Ok(None),
        Sizing::Estimated(e) => Ok(Some(e)),
        Sizing::Cut(why) => Err(ModelError::Checker(format!(
            "the estimate was cut by {why}"
        ))),
    }
}

/// The estimate for `cfg` within `limits`: its searches count in `cfg.timeout` from
/// `limits.since` and stop at the interrupt. A memory limit does not stop them (depth
/// first over at most four transactions, 20 bytes a state): the limit judges their
/// prediction instead. [`Sizing::Small`] when `cfg` has at most
/// [`ESTIMATE_ABOVE_TXNS`] transactions. Checks the configuration shrunk to at most four transactions (1+1,
/// 2+1, 3+1, 1+2, 2+2, 1+3 old+new, those within the configuration; a few seconds
/// at most) and extrapolates per role from 2+2 (or 1+n, m+1): each added old
/// transaction multiplies the count by the factor of the one before times the
/// factor's own growth measured from 1+1 to 3+1 (new: 1+1 to 1+3). The factor per
/// transaction is not constant (it rises with incremental 2PL, falls with record locks
/// on shared blocks and with symmetry): this follows its trend, within 0.79-1.07x of
/// every count the README and the tests pin for five to eight transactions (tests).
pub fn estimate_within(
    cfg: &CheckConfig,
    limits: &crate::Limits<'_>,
) -> Result<Sizing, ModelError> {
    cfg.validate()?;
    if cfg.old + cfg.new <= ESTIMATE_ABOVE_TXNS {
        return Ok(Sizing::Small);
    }
    let mut measured: Vec<(usize, usize, usize)> = Vec::new();
    let mut cut: Option<String> = None;
    let mut states_of = |o: usize, n: usize| -> Result<f64, ModelError> {
        if let Some(&(_, _, s)) = measured.iter().find(|m| (m.0, m.1) == (o, n)) {
            return Ok(s.max(1) as f64);
        }
        if cut.is_some() {
            return Ok(1.0);
        }
        let mut small = shrunk(cfg, o, n);
        // The command's timeout, counted from its start, bounds these searches too.
        small.timeout = cfg.timeout;
        let within = crate::Limits {
            memory: None,
            ..*limits
        };
        let r = crate::check_with_progress(&small, None, &within)?;
        if !r.complete() {
            cut = Some(r.cut_by());
            return Ok(1.0);
        }
        let s = r.unique_states;
        measured.push((o, n, s));
        Ok(s.max(1) as f64)
    };
    // The base: both roles at most 2 (a role of one stays one).
    let (o0, n0) = (cfg.old.min(2), cfg.new.min(2));
    let mut states = states_of(o0, n0)?;
    // Per role: the factor of adding the second transaction beside the base's other
    // role, and how much the factor grows from the second to the third (1+1, 2+1, 3+1).
    let mut growth_old = None;
    if cfg.old > o0 {
        let mut growth = states / states_of(1, n0)?;
        let (s1, s2, s3) = (states_of(1, 1)?, states_of(2, 1)?, states_of(3, 1)?);
        let trend = (s3 / s2) / (s2 / s1);
        for _ in o0..cfg.old {
            growth *= trend;
            states *= growth;
        }
        growth_old = Some(growth);
    }
    let mut growth_new = None;
    if cfg.new > n0 {
        let mut growth = states_of(o0, n0)? / states_of(o0, 1)?;
        let (s1, s2, s3) = (states_of(1, 1)?, states_of(1, 2)?, states_of(1, 3)?);
        let trend = (s3 / s2) / (s2 / s1);
        for _ in n0..cfg.new {
            growth *= trend;
            states *= growth;
        }
        growth_new = Some(growth);
    }
    if let Some(why) = cut {
        return Ok(Sizing::Cut(why));
    }
    measured.sort_unstable();
    let per_state = bytes_per_state(cfg.strategy);
    Ok(Sizing::Estimated(Estimate {
        measured,
        growth_old,
        growth_new,
        states,
        bytes: states * per_state,
        seconds: states / (states_per_sec_per_thread(cfg.strategy) * running_threads(cfg) as f64),
    }))
}

/// The checker threads that run at once: `cfg.threads`, at most the cores this
/// process may use (1 when the system does not say).
fn running_threads(cfg: &CheckConfig) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cfg.threads.clamp(1, cores)
}

/// The resident memory of this process (Linux `VmRSS`), in bytes, if known.
pub fn resident_bytes() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = text.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
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

    /// The predicted time is printed rounded up, never under the prediction (a search
    /// of 0.43 s is not "0 s"), to 0.1 s below 10 s and whole seconds above; a figure
    /// already round stays as it is.
    #[test]
    fn the_time_is_rounded_up_like_the_memory() {
        for (s, shown) in [
            (0.0, "0.0 s"),
            (0.001, "0.1 s"),
            (0.43, "0.5 s"),
            (0.3, "0.3 s"),
            (1.0, "1.0 s"),
            (9.95, "10 s"),
            (9.91, "10 s"),
            (10.0, "10 s"),
            (595.2, "596 s"),
        ] {
            assert_eq!(seconds_up(s), shown, "{s}");
        }
        for i in 0..2000 {
            let s = f64::from(i) * 0.0137;
            let shown: f64 = seconds_up(s).trim_end_matches(" s").parse().unwrap();
            assert!(shown >= s - 1e-6 && shown - s < 1.0 + 1e-6, "{s}: {shown}");
        }
    }

    #[test]
    fn shrinking_keeps_both_roles() {
        let c = CheckConfig {
            old: 4,
            new: 2,
            ..CheckConfig::default()
        };
        let s = shrunk(&c, 1, 2);
        assert_eq!((s.old, s.new), (1, 2));
        let s = shrunk(&c, 3, 1);
        assert_eq!((s.old, s.new), (3, 1));
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

    /// The predicted time divides by the threads that run at once: as many threads as
    /// cores, or 1,024, predict the same time; one thread takes cores times as long.
    #[test]
    fn threads_past_the_cores_do_not_shorten_the_predicted_time() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let seconds = |threads: usize| {
            let mut c =
                CheckConfig::from_model_flags("--variant cow --old 4 --new 4").expect("flags");
            c.threads = threads;
            estimate(&c)
                .expect("estimate")
                .expect("eight transactions")
                .seconds
        };
        assert_eq!(seconds(cores), seconds(1024));
        assert_eq!(seconds(cores + 1), seconds(cores));
        let one = seconds(1);
        assert!((one / seconds(cores) - cores as f64).abs() < 1e-9, "{one}");
    }

    /// The memory printed is never under the bytes the estimate holds (and a refusal
    /// uses): 0.245 GiB prints as 0.3, not 0.2.
    #[test]
    fn the_printed_memory_is_rounded_up() {
        let gib = f64::from(1u32 << 30);
        for bytes in [0.245 * gib, 0.2 * gib, 0.01 * gib, 8.64 * gib, 1.0] {
            let e = Estimate {
                measured: vec![(1, 1, 187)],
                growth_old: None,
                growth_new: None,
                states: 1.0,
                bytes,
                seconds: 1.0,
            };
            let line = e.to_string();
            let printed: f64 = line
                .rsplit_once(" GiB")
                .and_then(|(head, _)| head.rsplit(' ').next()?.parse().ok())
                .unwrap_or_else(|| panic!("{line}"));
            assert!(printed * gib >= bytes * (1.0 - 1e-12), "{line}: {bytes}");
            assert!(printed * gib < bytes + 0.1 * gib + 1.0, "{line}: {bytes}");
        }
    }

    /// The estimate line names the factor per transaction of a role only when that
    /// role was extended past the measured configurations: three old and two new
    /// extend the old only, and the line says nothing per new transaction (it once
    /// said "x1.0", a factor never measured nor used).
    #[test]
    fn the_estimate_names_only_the_factors_it_used() {
        let c = CheckConfig::from_model_flags("--variant cow --old 3 --new 2 --aborts off")
            .expect("flags");
        let e = estimate(&c).expect("estimate").expect("five transactions");
        assert!(e.growth_old.is_some_and(|g| g > 1.0), "{e:?}");
        assert_eq!(e.growth_new, None, "{e:?}");
        let line = e.to_string();
        assert!(line.contains(" per old transaction)"), "{line}");
        assert!(!line.contains("per new"), "{line}");
        let c = CheckConfig::from_model_flags("--variant cow --old 2 --new 3 --aborts off")
            .expect("flags");
        let e = estimate(&c).expect("estimate").expect("five transactions");
        assert_eq!(e.growth_old, None, "{e:?}");
        let line = e.to_string();
        assert!(line.contains(" per new transaction)"), "{line}");
        assert!(!line.contains("per old"), "{line}");
        // Both roles extended: both factors, each as measured.
        let c = CheckConfig::from_model_flags("--variant cow --old 3 --new 3 --aborts off")
            .expect("flags");
        let e = estimate(&c).expect("estimate").expect("six transactions");
        let (o, n) = (e.growth_old.expect("old"), e.growth_new.expect("new"));
        assert!(
            e.to_string()
                .contains(&format!("x{o:.1} per old, x{n:.1} per new transaction)")),
            "{e}"
        );
    }
}
