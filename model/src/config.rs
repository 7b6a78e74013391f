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
/// is the machine's memory and time, which [`crate::estimate()`] predicts before a large
/// check: this one is far above what any machine can exhaust.
pub const TXNS_MAX: usize = 8;
/// Most records sharing one block (block size = 16 bytes per record).
pub const RECORDS_PER_BLOCK_MAX: u64 = 4;
/// Most blocks in the modelled volume (a state keeps a bit per block for type (b)
/// locks, and at most [`LOCK_ITEMS_MAX`] lock items).
pub const BLOCKS_MAX: u64 = 8;
/// Largest amount one transfer may move: balances start at
/// [`crate::program::INITIAL_BALANCE`] and at most [`TXNS_MAX`] transfers apply, so
/// no balance can overflow its 64-bit value.
pub const AMOUNT_MAX: i64 = 1_000_000_000;
/// Most application lock items a configuration may have (records with record locks,
/// blocks with block locks): the size of a state's lock table.
pub const LOCK_ITEMS_MAX: usize = 8;
/// The volume's blocks by default.
pub const BLOCKS_DEFAULT: u64 = 2;

/// What an application lock covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Locks {
    /// One lock per record (a bank account): the patent's type (a) locks (\[0053\]).
    Record,
    /// One lock per block: what the VLUN actually writes.
    Block,
}

/// When a transaction takes its application locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Discipline {
    /// All locks before the transaction starts (\[0053\]: "acquired before the transaction
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

/// The amount each generated transfer moves (`--amounts`; a model file gives its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Amounts {
    /// Transaction `i` moves `1 + i`: no two transactions are interchangeable.
    Distinct,
    /// Every transaction moves 1: transactions of one role with the same records are
    /// interchangeable (see `--symmetry`).
    Equal,
}

/// Which records each generated transfer touches (`--transfers`; a model file gives
/// its own). Every transaction of a role uses the same record position within each
/// block: the first with old transactions, the second (when a block has two records
/// or more) with new ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transfers {
    /// A role's `i`-th transaction moves from block `i mod blocks` to block
    /// `(i + 1) mod blocks`: consecutive ones go opposite ways round the volume.
    Rotate,
    /// Every transaction of a role moves from block 0 to block 1.
    Same,
}

/// One transaction of a model file (`--model`, or `--transactions` on the command
/// line): a transfer of `amount` from record `from` to record `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    pub role: crate::program::Role,
    /// Debited record (0-based over the whole volume).
    pub from: u64,
    /// Credited record.
    pub to: u64,
    /// Units moved: 1..=[`AMOUNT_MAX`].
    pub amount: i64,
}

impl fmt::Display for Transfer {
    /// `old:0:1:5` (role, from record, to record, amount): a word of `--transactions`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}:{}",
            self.role.as_str(),
            self.from,
            self.to,
            self.amount
        )
    }
}

impl FromStr for Transfer {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}`: expected ROLE:FROM:TO:AMOUNT, e.g. old:0:1:5");
        let mut parts = s.split(':');
        let (Some(role), Some(from), Some(to), Some(amount), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(bad());
        };
        let role = match role {
            "old" => crate::program::Role::Old,
            "new" => crate::program::Role::New,
            other => return Err(format!("`{s}`: role `{other}` is neither old nor new")),
        };
        let num = |v: &str| v.parse::<u64>().map_err(|e| format!("`{s}`: `{v}`: {e}"));
        Ok(Transfer {
            role,
            from: num(from)?,
            to: num(to)?,
            amount: amount
                .parse()
                .map_err(|e| format!("`{s}`: amount `{amount}`: {e}"))?,
        })
    }
}

/// Parses a `--transactions` list: [`Transfer`] words separated by commas.
pub fn parse_transactions(s: &str) -> Result<Vec<Transfer>, String> {
    s.split(',').map(str::parse).collect()
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
    /// Blocks in the volume (`--blocks`, at least 2).
    pub blocks: u64,
    /// The amounts of the generated transfers (ignored with `transactions`).
    pub amounts: Amounts,
    /// The records of the generated transfers (ignored with `transactions`).
    pub transfers: Transfers,
    /// The transactions of a model file, old ones first (`old` and `new` count them);
    /// `None`: generated from `old`, `new`, `amounts` and `transfers`.
    pub transactions: Option<Vec<Transfer>>,
    pub locks: Locks,
    pub discipline: Discipline,
    /// Type (b) locks (\[0053\]): taken at the split on the blocks the old transactions
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
    /// Symmetry reduction (`--symmetry on`): states that differ only by a renaming of
    /// interchangeable transactions are explored once (depth first only).
    pub symmetry: bool,
}

impl Default for CheckConfig {
    /// The default `owm check`: two old and two new transactions that may abort, block
    /// locks taken up front (\[0053\]), copy-on-write, on every core. It holds, and
    /// checks in well under a second (about 7,000 states).
    fn default() -> Self {
        CheckConfig {
            variant: Variant::CopyOnWrite,
            old: 2,
            new: 2,
            records_per_block: 1,
            blocks: BLOCKS_DEFAULT,
            amounts: Amounts::Distinct,
            transfers: Transfers::Rotate,
            transactions: None,
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
            symmetry: false,
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
        // Summed in u128: two usize counts cannot overflow it, so a huge --old cannot wrap
        // the sum back under the bound.
        let txns = self.old as u128 + self.new as u128;
        if txns > TXNS_MAX as u128 {
            return bad(format!(
                "old + new = {txns} exceeds {TXNS_MAX} transactions"
            ));
        }
        if self.records_per_block == 0 || self.records_per_block > RECORDS_PER_BLOCK_MAX {
            return bad(format!(
                "records per block must be 1..={RECORDS_PER_BLOCK_MAX}, got {}",
                self.records_per_block
            ));
        }
        if self.blocks < 2 || self.blocks > BLOCKS_MAX {
            return bad(format!(
                "blocks must be 2..={BLOCKS_MAX} (a transfer needs two blocks), got {}",
                self.blocks
            ));
        }
        let records = self.blocks * self.records_per_block;
        let items = match self.locks {
            Locks::Record => records,
            Locks::Block => self.blocks,
        };
        if items > LOCK_ITEMS_MAX as u64 {
            return bad(format!(
                "{items} {} locks exceed the model's {LOCK_ITEMS_MAX} lock items \
                 (blocks x records per block with --locks record: fewer blocks or \
                 records per block, or --locks block)",
                self.locks
            ));
        }
        if let Some(ts) = &self.transactions {
            validate_transactions(ts, records, self.old, self.new)?;
        }
        if self.symmetry && self.strategy == Strategy::Bfs {
            return bad(
                "symmetry reduction needs a depth-first search (--dfs): stateright reduces \
                 only depth-first searches and random walks"
                    .into(),
            );
        }
        if self.threads == 0 {
            return bad("--threads must be at least 1".into());
        }
        if self.depth == Some(0) {
            return bad("--depth must be at least 1".into());
        }
        if self.states_max == Some(0) {
            return bad("--states-max must be at least 1".into());
        }
        if self.timeout == Some(Duration::ZERO) {
            return bad("--timeout must be more than 0 s".into());
        }
        Ok(())
    }

    /// The parameters that define the model (not how it is explored), as `owm check`
    /// flags: the line a trace file starts with. Each flag added after the first
    /// release (`--rmw`, `--blocks`, `--amounts`, `--transfers`, `--transactions`)
    /// appears only when it differs from its default, so files written before it
    /// existed keep their bytes. A model file's transactions are written out in full
    /// (`--transactions`), so a trace replays without the file.
    pub fn model_flags(&self) -> String {
        let mut out = format!(
            "--variant {} --old {} --new {} --records-per-block {} --locks {} --discipline {} --type-b {} --aborts {}",
            self.variant,
            self.old,
            self.new,
            self.records_per_block,
            self.locks,
            self.discipline,
            on_off(self.type_b),
            on_off(self.aborts)
        );
        if self.rmw == Rmw::Split {
            out += " --rmw split";
        }
        if self.blocks != BLOCKS_DEFAULT {
            out += &format!(" --blocks {}", self.blocks);
        }
        match &self.transactions {
            Some(ts) => {
                let words: Vec<String> = ts.iter().map(Transfer::to_string).collect();
                out += &format!(" --transactions {}", words.join(","));
            }
            None => {
                if self.amounts != Amounts::Distinct {
                    out += &format!(" --amounts {}", self.amounts);
                }
                if self.transfers != Transfers::Rotate {
                    out += &format!(" --transfers {}", self.transfers);
                }
            }
        }
        out
    }

    /// How the space is explored, as `owm check` flags: every flag besides the model's
    /// that can change a result (a bound cuts the space; threads and strategy change
    /// which counterexample a cut search meets first).
    pub fn search_flags(&self) -> String {
        let mut out = format!("--threads {}", self.threads);
        if self.strategy == Strategy::Dfs {
            out += " --dfs";
        }
        if self.symmetry {
            out += " --symmetry on";
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
            parts.push(sim::number_text::counted(n as u64, "state", "states"));
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
        for (i, pair) in words.chunks(2).enumerate() {
            let (flag, value) = (pair[0], pair[1]);
            // A flag given twice would have its last value silently win.
            if words.chunks(2).take(i).any(|p| p[0] == flag) {
                return Err(ModelError::Parse(format!("{flag} given twice")));
            }
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
                "--blocks" => cfg.blocks = num(value)? as u64,
                "--amounts" => cfg.amounts = value.parse().map_err(perr)?,
                "--transfers" => cfg.transfers = value.parse().map_err(perr)?,
                "--transactions" => cfg.set_transactions(parse_transactions(value).map_err(perr)?),
                other => return Err(ModelError::Parse(format!("unknown flag `{other}`"))),
            }
        }
        Ok(cfg)
    }
}

impl CheckConfig {
    /// Sets the transactions of a model file: old ones first (each role in the order
    /// given), and `old` and `new` to their counts.
    pub fn set_transactions(&mut self, mut ts: Vec<Transfer>) {
        ts.sort_by_key(|t| t.role != crate::program::Role::Old);
        self.old = ts
            .iter()
            .filter(|t| t.role == crate::program::Role::Old)
            .count();
        self.new = ts.len() - self.old;
        self.transactions = Some(ts);
    }
}

/// The checks on a model file's transactions that need no geometry but `records`.
fn validate_transactions(
    ts: &[Transfer],
    records: u64,
    old: usize,
    new: usize,
) -> Result<(), ModelError> {
    let bad = |reason: String| Err(ModelError::Config(reason));
    let olds = ts
        .iter()
        .filter(|t| t.role == crate::program::Role::Old)
        .count();
    if (olds, ts.len() - olds) != (old, new)
        || ts[..olds]
            .iter()
            .any(|t| t.role != crate::program::Role::Old)
    {
        return bad(
            "the transactions must list the old ones first, and old and new count them".into(),
        );
    }
    for (i, t) in ts.iter().enumerate() {
        if let Some(msg) = t.problem(records) {
            return bad(format!("transaction {i} ({t}): {msg}"));
        }
    }
    Ok(())
}

impl Transfer {
    /// What is wrong with this transfer on a volume of `records` records, if anything.
    pub fn problem(&self, records: u64) -> Option<String> {
        if self.from >= records || self.to >= records {
            // Only the records out of range are quoted.
            let out: Vec<String> = [self.from, self.to]
                .into_iter()
                .filter(|&r| r >= records)
                .map(|r| r.to_string())
                .collect();
            Some(format!(
                "records are 0..={} (blocks x records per block), got {}",
                records.saturating_sub(1),
                out.join(" and ")
            ))
        } else if self.from == self.to {
            Some(format!("from and to are the same record ({})", self.from))
        } else if !(1..=AMOUNT_MAX).contains(&self.amount) {
            Some(format!(
                "the amount must be 1..={AMOUNT_MAX}, got {}",
                self.amount
            ))
        } else {
            None
        }
    }
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

/// `on` or `off`, the words `--help`, the model line of a trace and the reproduce
/// lines write; anything else (`true`, `yes`, `1`) is an error naming the value.
pub fn parse_on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" => Ok(true),
        "off" => Ok(false),
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
names!(Amounts, "amounts", Distinct => "distinct", Equal => "equal");
names!(Transfers, "transfers", Rotate => "rotate", Same => "same");

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
            blocks: 3,
            amounts: Amounts::Equal,
            transfers: Transfers::Same,
            ..CheckConfig::default()
        };
        let back = CheckConfig::from_model_flags(&cfg.model_flags()).unwrap();
        assert_eq!(back, cfg);
        let mut file = CheckConfig::default();
        file.set_transactions(parse_transactions("new:1:0:3,old:0:1:5,old:0:1:5").unwrap());
        assert_eq!((file.old, file.new), (2, 1));
        assert!(file
            .model_flags()
            .ends_with(" --transactions old:0:1:5,old:0:1:5,new:1:0:3"));
        assert_eq!(
            CheckConfig::from_model_flags(&file.model_flags()).unwrap(),
            file
        );
        // The defaults add nothing to the line trace files have always started with.
        assert_eq!(
            CheckConfig::default().model_flags(),
            "--variant cow --old 2 --new 2 --records-per-block 1 --locks block \
             --discipline conservative --type-b off --aborts on"
        );
        assert!(CheckConfig::from_model_flags("--locks page").is_err());
        assert!(CheckConfig::from_model_flags("--old").is_err());
        let e = CheckConfig::from_model_flags("--variant cow --old 2 --variant logging");
        assert_eq!(
            e.unwrap_err().to_string(),
            ModelError::Parse("--variant given twice".into()).to_string()
        );
    }

    #[test]
    fn validate_rejects_what_the_model_cannot_hold() {
        assert!(CheckConfig::default().validate().is_ok());
        assert!(CheckConfig {
            blocks: 8,
            records_per_block: 4,
            ..CheckConfig::default()
        }
        .validate()
        .is_ok());
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
            CheckConfig {
                blocks: 1,
                ..CheckConfig::default()
            },
            CheckConfig {
                blocks: 9,
                ..CheckConfig::default()
            },
            CheckConfig {
                blocks: 3,
                records_per_block: 3,
                locks: Locks::Record,
                ..CheckConfig::default()
            },
            CheckConfig {
                symmetry: true,
                ..CheckConfig::default()
            },
            CheckConfig {
                transactions: Some(parse_transactions("old:0:1:1,new:1:1:1").unwrap()),
                old: 1,
                new: 1,
                ..CheckConfig::default()
            },
            CheckConfig {
                transactions: Some(parse_transactions("old:0:2:1,new:1:0:1").unwrap()),
                old: 1,
                new: 1,
                ..CheckConfig::default()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }
}
