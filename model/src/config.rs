//! What to check: the parameters of one model-checking run.
//!
//! Every field is a knob a researcher turns to ask "does the one-way mirror still give a
//! transaction-consistent backup when the applications lock like *this*?". The names
//! match the `owm check` flags.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use engine::Variant;
use serde::{Deserialize, Serialize};

use crate::ModelError;

/// Most transactions (old + new) the model's state can hold. Each adds a dimension to
/// the interleavings and multiplies the state count by about 7-14, so the binding limit
/// is the machine's memory and time, which [`crate::estimate`] predicts before a large
/// check: this one is far above what any machine can exhaust.
pub const TXNS_MAX: usize = 8;
/// Most records sharing one block (block size = 16 bytes per record).
pub const RECORDS_PER_BLOCK_MAX: u64 = 4;

/// What an application lock covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Locks {
    /// One lock per record (a bank account): the patent's type (a) locks ([0053]).
    Record,
    /// One lock per block: what the VLUN actually writes.
    Block,
}

/// When a transaction takes its application locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Discipline {
    /// All locks before the transaction starts ([0053]: "acquired before the transaction
    /// starts and released when the transaction completes").
    Conservative,
    /// Each lock just before the first access it guards, all released at the end
    /// (ordinary strict two-phase locking).
    Incremental,
}

/// How a transaction writes a record into its block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rmw {
    /// Read the block, change the record and write the block back in one step (a page
    /// latch: no other transaction's step comes between).
    Atomic,
    /// Read the block in one step and write it back in a later one (a host with no
    /// page latch): another transaction's steps may come between.
    Split,
}

/// How the state space is explored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Breadth first: more memory, finds short counterexamples first.
    Bfs,
    /// Depth first: far less memory.
    Dfs,
}

/// One model-checking run.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CheckConfig {
    pub variant: Variant,
    /// Transactions active at the split (they use VLUN A).
    pub old: usize,
    /// Transactions starting after the split (they use VLUN B).
    pub new: usize,
    pub records_per_block: u64,
    pub locks: Locks,
    pub discipline: Discipline,
    /// Type (b) locks ([0053]): taken at the split on the blocks the old transactions
    /// update, released when the last old transaction ends.
    pub type_b: bool,
    /// Any transaction that has written may abort, writing its before-images back.
    pub aborts: bool,
    /// How a record write reads and writes its block (an abort's undo stays atomic).
    pub rmw: Rmw,
    /// Checker threads.
    pub threads: usize,
    /// Explore no deeper than this many steps (`None`: the whole space).
    pub depth: Option<usize>,
    pub strategy: Strategy,
    /// Stop the search after this long (`None`: no limit).
    pub timeout: Option<Duration>,
    /// Stop the search once about this many states were generated (`None`: no limit).
    pub states_max: Option<usize>,
}

impl Default for CheckConfig {
    /// The default `owm check`: two old and two new transactions that may abort, block
    /// locks taken up front ([0053]), copy-on-write, on every core. It holds, and
    /// checks in well under a second (about 7,000 states).
    fn default() -> Self {
        CheckConfig {
            variant: Variant::CopyOnWrite,
            old: 2,
            new: 2,
            records_per_block: 1,
            locks: Locks::Block,
            discipline: Discipline::Conservative,
            type_b: false,
            aborts: true,
            rmw: Rmw::Atomic,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            depth: None,
            strategy: Strategy::Bfs,
            timeout: None,
            states_max: None,
        }
    }
}

impl CheckConfig {
    /// Rejects configurations the model cannot represent.
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |reason: String| Err(ModelError::Config(reason));
        if self.old == 0 || self.new == 0 {
            return bad(format!(
                "need at least one old and one new transaction (got old={}, new={}): \
                 with none, the split has nothing to separate",
                self.old, self.new
            ));
        }
        if self.old + self.new > TXNS_MAX {
            return bad(format!(
                "old + new = {} exceeds {TXNS_MAX} transactions",
                self.old + self.new
            ));
        }
        if self.records_per_block == 0 || self.records_per_block > RECORDS_PER_BLOCK_MAX {
            return bad(format!(
                "records per block must be 1..={RECORDS_PER_BLOCK_MAX}, got {}",
                self.records_per_block
            ));
        }
        if self.threads == 0 {
            return bad("threads must be at least 1".into());
        }
        if self.depth == Some(0) {
            return bad("depth must be at least 1".into());
        }
        if self.states_max == Some(0) {
            return bad("states-max must be at least 1".into());
        }
        if self.timeout == Some(Duration::ZERO) {
            return bad("timeout must be more than 0 s".into());
        }
        Ok(())
    }

    /// The parameters that define the model (not how it is explored), as `owm check`
    /// flags: the line a trace file starts with (`--rmw` only when split, so files
    /// written before the flag existed keep their bytes).
    pub fn model_flags(&self) -> String {
        let rmw = match self.rmw {
            Rmw::Atomic => "",
            Rmw::Split => " --rmw split",
        };
        format!(
            "--variant {} --old {} --new {} --records-per-block {} --locks {} --discipline {} --type-b {} --aborts {}{rmw}",
            self.variant,
            self.old,
            self.new,
            self.records_per_block,
            self.locks,
            self.discipline,
            on_off(self.type_b),
            on_off(self.aborts)
        )
    }

    /// How the space is explored, as `owm check` flags: every flag besides the model's
    /// that can change a result (a bound cuts the space; threads and strategy change
    /// which counterexample a cut search meets first).
    pub fn search_flags(&self) -> String {
        let mut out = format!("--threads {}", self.threads);
        if self.strategy == Strategy::Dfs {
            out += " --dfs";
        }
        if let Some(d) = self.depth {
            out += &format!(" --depth {d}");
        }
        if let Some(n) = self.states_max {
            out += &format!(" --states-max {n}");
        }
        if let Some(t) = self.timeout {
            out += &format!(" --timeout {}", t.as_secs_f64());
        }
        out
    }

    /// The bounds set on the search, in words ("depth 21, 5 s"); `None` when unbounded.
    pub fn bounds(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(d) = self.depth {
            parts.push(format!("depth {d}"));
        }
        if let Some(n) = self.states_max {
            parts.push(format!("{n} states"));
        }
        if let Some(t) = self.timeout {
            parts.push(format!("{} s", t.as_secs_f64()));
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    /// Parses the output of [`CheckConfig::model_flags`] (any subset; the rest default).
    pub fn from_model_flags(s: &str) -> Result<Self, ModelError> {
        let mut cfg = CheckConfig::default();
        let words: Vec<&str> = s.split_whitespace().collect();
        if !words.len().is_multiple_of(2) {
            return Err(ModelError::Parse(format!("flags come in pairs: `{s}`")));
        }
        for pair in words.chunks(2) {
            let (flag, value) = (pair[0], pair[1]);
            let perr = |e: String| ModelError::Parse(format!("{flag} {value}: {e}"));
            let num = |v: &str| v.parse::<usize>().map_err(|e| perr(e.to_string()));
            match flag {
                "--variant" => cfg.variant = value.parse().map_err(perr)?,
                "--old" => cfg.old = num(value)?,
                "--new" => cfg.new = num(value)?,
                "--records-per-block" => cfg.records_per_block = num(value)? as u64,
                "--locks" => cfg.locks = value.parse().map_err(perr)?,
                "--discipline" => cfg.discipline = value.parse().map_err(perr)?,
                "--type-b" => cfg.type_b = parse_on_off(value).map_err(perr)?,
                "--aborts" => cfg.aborts = parse_on_off(value).map_err(perr)?,
                "--rmw" => cfg.rmw = value.parse().map_err(perr)?,
                other => return Err(ModelError::Parse(format!("unknown flag `{other}`"))),
            }
        }
        Ok(cfg)
    }
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

/// `on`/`off` (also `true`/`false`, `yes`/`no`).
pub fn parse_on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        other => Err(format!("expected on or off, got `{other}`")),
    }
}

macro_rules! names {
    ($t:ty, $what:literal, $($v:ident => $s:literal),+) => {
        impl $t {
            /// The name used on the command line and in trace files.
            pub fn as_str(self) -> &'static str {
                match self { $(<$t>::$v => $s),+ }
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($s => Ok(<$t>::$v),)+
                    other => Err(format!(concat!("unknown ", $what, " `{}` (expected {})"), other,
                        [$($s),+].join(" or "))),
                }
            }
        }
    };
}

names!(Locks, "lock granularity", Record => "record", Block => "block");
names!(Discipline, "locking discipline", Conservative => "conservative", Incremental => "incremental");
names!(Rmw, "read-modify-write", Atomic => "atomic", Split => "split");
names!(Strategy, "strategy", Bfs => "bfs", Dfs => "dfs");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_flags_round_trip() {
        let cfg = CheckConfig {
            variant: Variant::WriteLogging,
            old: 1,
            new: 2,
            records_per_block: 2,
            locks: Locks::Record,
            discipline: Discipline::Incremental,
            type_b: true,
            aborts: true,
            rmw: Rmw::Split,
            ..CheckConfig::default()
        };
        let back = CheckConfig::from_model_flags(&cfg.model_flags()).unwrap();
        assert_eq!(back, cfg);
        assert!(CheckConfig::from_model_flags("--locks page").is_err());
        assert!(CheckConfig::from_model_flags("--old").is_err());
    }

    #[test]
    fn validate_rejects_what_the_model_cannot_hold() {
        assert!(CheckConfig::default().validate().is_ok());
        for bad in [
            CheckConfig {
                new: 0,
                ..CheckConfig::default()
            },
            CheckConfig {
                old: 5,
                new: 4,
                ..CheckConfig::default()
            },
            CheckConfig {
                records_per_block: 0,
                ..CheckConfig::default()
            },
            CheckConfig {
                threads: 0,
                ..CheckConfig::default()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }
}
