//! `owm check`: the model checker's face. Explores every interleaving of a small
//! configuration (model crate, stateright over the real engine), prints each property
//! held / violated, writes every counterexample as a trace file that `owm check
//! --replay` (or a test) re-executes, and says in its exit status what was established:
//!
//! | exit | meaning |
//! |---|---|
//! | 0 | the whole space was explored: every invariant held, every witness was reached |
//! | 1 | an invariant was violated (or a witness never reached, so its invariants hold vacuously); `--replay`: the violation was reproduced |
//! | 2 | bad input: a flag, a trace file that cannot be read, parsed or replayed |
//! | 3 | incomplete: a depth, state, time or memory bound or an interrupt (Ctrl-C) cut the search, so nothing is claimed beyond it |
//!
//! The verdict is the shared one of `run` and `sweep` ([`crate::verdict`]): one case per
//! property, written as JSON (`--json`) and JUnit XML (`--junit`) on request.

use engine::shown::ShowName as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use model::{CheckConfig, CheckReport, Discipline, Locks, Strategy, Trace};

use crate::verdict::{verdict_line, Exit, Outcome, Report, VerdictArgs, Word};

/// Flags of `owm check`; every model flag defaults to `CheckConfig::default()`.
#[derive(clap::Args)]
pub struct CheckArgs {
    /// Engine variant: mirroring, logging or cow (default cow).
    #[arg(long)]
    variant: Option<engine::Variant>,
    /// Transactions active at the split (default 2).
    #[arg(long, allow_negative_numbers = true)]
    old: Option<usize>,
    /// Transactions starting after the split (default 2).
    #[arg(long, allow_negative_numbers = true)]
    new: Option<usize>,
    /// Records sharing one block: 1 to 4 (default 1; with record locks, blocks x
    /// records per block at most 8).
    #[arg(long, allow_negative_numbers = true)]
    records_per_block: Option<u64>,
    /// Blocks in the volume, 2 to 8 (default 2); with record locks, blocks x records
    /// per block at most 8.
    #[arg(long, allow_negative_numbers = true)]
    blocks: Option<u64>,
    /// The generated transfers' amounts: distinct (transaction i moves 1 + i) or equal
    /// (each moves 1) (default distinct).
    #[arg(long, conflicts_with_all = ["model", "transactions"])]
    amounts: Option<model::config::Amounts>,
    /// The generated transfers' records: rotate (a role's i-th transfer moves from
    /// block i mod blocks to the next) or same (every transfer of a role moves from
    /// block 0 to block 1) (default rotate).
    #[arg(long, conflicts_with_all = ["model", "transactions"])]
    transfers: Option<model::config::Transfers>,
    /// The transactions themselves, as a trace's model line writes them:
    /// ROLE:FROM:TO:AMOUNT,... (e.g. old:0:1:5,new:1:0:3); --old and --new, if
    /// given, must count them.
    #[arg(long, value_name = "LIST", value_delimiter = ',',
          value_parser = |s: &str| s.parse::<model::config::Transfer>(),
          conflicts_with = "model")]
    transactions: Option<Vec<model::config::Transfer>>,
    /// A TOML model file giving the transactions (role, from, to, amount) and
    /// optionally blocks and records_per_block; replaces --old, --new, --blocks and
    /// --records-per-block (see README, "Model files").
    #[arg(long, value_name = "FILE",
          conflicts_with_all = ["old", "new", "blocks", "records_per_block"])]
    model: Option<PathBuf>,
    /// Application lock granularity: record or block (default block).
    #[arg(long)]
    locks: Option<Locks>,
    /// Locking discipline: conservative or incremental (default conservative).
    #[arg(long)]
    discipline: Option<Discipline>,
    /// Type (b) locks held from the split until the old transactions end: on or off
    /// (default off).
    #[arg(long, value_parser = model::config::parse_on_off)]
    type_b: Option<bool>,
    /// Transactions may abort and roll back: on or off (default on).
    #[arg(long, value_parser = model::config::parse_on_off)]
    aborts: Option<bool>,
    /// A record write's block read-modify-write: atomic (one step, a page latch) or
    /// split (the read and the write back are two steps) (default atomic).
    #[arg(long)]
    rmw: Option<model::Rmw>,
    /// Symmetry reduction: on explores once the states that differ only by a renaming
    /// of interchangeable transactions (same role, records, amount); implies --dfs
    /// (stateright reduces only depth-first searches). Off (the default) explores
    /// every state.
    #[arg(long, value_parser = model::config::parse_on_off)]
    symmetry: Option<bool>,
    /// Checker threads (default: every core; at most 1024).
    #[arg(long, allow_negative_numbers = true, value_parser = parse_threads)]
    threads: Option<usize>,
    /// Judge and explore every state at most this deep (the initial state is depth 1,
    /// as random walks count); states one step deeper are reached, not judged: exit 3
    /// when any were.
    #[arg(long, allow_negative_numbers = true, value_parser = parse_depth)]
    depth: Option<usize>,
    /// Stop once more than this many states were generated, repeats counted (not the
    /// unique states kept: the default configuration's 6,789 unique states are 11,667
    /// generated). A soft cap, checked after every 1,500 states a search thread
    /// explores: it may explore more, at least 1,500 on one thread. Exit 3 when the
    /// search generated more than N, even if its threads explored every state before
    /// the check; a search that generates at most N is never cut by it, on any run.
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_states_max)]
    states_max: Option<usize>,
    /// Stop after this many seconds of the whole command (exit 3 if that cut the
    /// search), counted from its start: beyond four transactions the estimate's
    /// searches count (before random walks too: the run then says what they took of
    /// it, the walks having the rest), and the search for the shortest traces after a search on several
    /// threads stops then too (its traces are then said to be not proven shortest).
    /// At most 1e9 s (about 31 years).
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true, value_parser = parse_seconds)]
    timeout: Option<Duration>,
    /// Memory the process may hold, in GiB, finite, above 0 and at most 1048576: the
    /// search stops once the process's resident memory, checked about every 50 ms,
    /// passes it (exit 3, as a state bound that cut the search; it may pass it by what
    /// the search adds in that time). Beyond four transactions a configuration
    /// predicted to need more is refused before the search (exit 2) unless
    /// `--states-max` bounds it within this; the prediction's own searches (depth
    /// first, at most four transactions, 20 bytes a state) are not stopped by it. It also bounds the search for the
    /// shortest traces after a search on several threads (700 bytes a state). Without
    /// it, no search is stopped for memory; the refusal and that search use what the
    /// machine has available. Not with --simulate (random walks hold constant
    /// memory: at most 256 MiB of state fingerprints).
    #[arg(long, value_name = "GIB", allow_negative_numbers = true, value_parser = parse_gib)]
    memory_max: Option<f64>,
    /// Depth first (far less memory; a counterexample is the first the search met,
    /// not proven shortest) instead of breadth first (shortest traces). With --depth
    /// it judges the same states as breadth first: every path to a state of the model
    /// has the same length.
    #[arg(long)]
    dfs: bool,
    #[command(flatten)]
    verdict: VerdictArgs,
    #[command(flatten)]
    walk: crate::check_walk::WalkArgs,
    /// Where counterexample traces are written (default out/check), replaced whole
    /// like `owm run --out`: a directory holding anything but owm's traces and walk
    /// files (an `owm run` output, a verdict file) is refused before the search (exit
    /// 2), naming the first other entry, nothing of it removed. --json and --junit go
    /// beside it, not inside.
    #[arg(long, default_value = DEFAULT_TRACE_DIR)]
    trace_dir: PathBuf,
    /// Replay a trace file instead of checking: re-run its steps against the engine
    /// and confirm the violation it names (exit 1 reproduced, 2 could not replay).
    /// The trace names its own model and search: model and search flags beside it
    /// are refused (exit 2) rather than silently ignored, as are the flags of a search
    /// it does not run (--threads, --memory-max, --trace-dir, and the random walks'
    /// --simulate, --seed, --walks, --shard) and of verdicts it does not write
    /// (--junit, --json, --allow-violations).
    #[arg(long, value_name = "TRACE", conflicts_with_all = [
        "variant", "old", "new", "records_per_block", "blocks", "amounts", "transfers",
        "transactions", "model", "locks", "discipline", "type_b", "aborts", "rmw",
        "symmetry", "depth", "states_max", "timeout", "dfs", "threads", "memory_max",
        "trace_dir", "junit", "json", "allow_violations", "seed", "walks", "shard",
    ])]
    replay: Option<PathBuf>,
    /// Serve stateright's Explorer for this configuration on ADDR (e.g.
    /// 127.0.0.1:3000) instead of checking: browse its states in the patent's terms.
    /// Ctrl-C or SIGTERM stops it (exit 3: no verdict claimed).
    /// The Explorer shows the whole space: `--symmetry` is refused with it, and so are
    /// the flags of what it does not do: write traces (--trace-dir), bound memory
    /// (--memory-max), search depth first (--dfs: its searches are breadth first),
    /// walk at random (--simulate, --seed, --walks, --shard) or give a verdict
    /// (--junit, --json, --allow-violations).
    #[arg(long, value_name = "ADDR", conflicts_with_all = [
        "replay", "symmetry", "trace_dir", "memory_max", "dfs", "junit", "json",
        "allow_violations", "simulate", "seed", "walks", "shard",
    ])]
    serve: Option<std::net::SocketAddr>,
}

/// The largest `--timeout`, in seconds (about 31 years): a deadline that far ahead
/// still fits the clock's instants, which a larger one (past about 9.2e18 s) may not.
const TIMEOUT_SECONDS_MAX: f64 = 1e9;

/// `--timeout SECONDS`: a number of seconds above 0 and at most
/// [`TIMEOUT_SECONDS_MAX`]; 0, a negative value and nan are refused with that range,
/// a value above 0 that the timer's resolution (1 ns) rounds to 0 as below it, not
/// called 0; anything else is an error
/// clap reports naming the flag (exit 2).
fn parse_seconds(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|e| format!("`{s}`: expected seconds ({e})"))?;
    if secs > TIMEOUT_SECONDS_MAX {
        return Err(format!(
            "`{s}`: at most {TIMEOUT_SECONDS_MAX:e} s (about 31 years)"
        ));
    }
    // Zero, negative and not a number: the range said, not the timer's words.
    if secs.is_nan() || secs <= 0.0 {
        return Err(format!(
            "`{s}`: expected more than 0 s (up to {TIMEOUT_SECONDS_MAX:e} s)"
        ));
    }
    let timeout = Duration::try_from_secs_f64(secs).map_err(|e| format!("`{s}`: {e}"))?;
    if secs > 0.0 && timeout.is_zero() {
        return Err(format!(
            "`{s}`: below 1 ns, the smallest timeout (the timer counts whole nanoseconds)"
        ));
    }
    Ok(timeout)
}

/// The largest `--memory-max`, in GiB (1 PiB): beyond it the flag is a typo, not a limit.
const MEMORY_MAX_GIB_MAX: f64 = 1_048_576.0;

/// `--memory-max GIB`: a finite number of GiB of at least one byte (2^-30 GiB) and at
/// most [`MEMORY_MAX_GIB_MAX`]; anything else (nan, inf, 0, negative, 1e-300, 1e300)
/// is an error clap reports naming the flag (exit 2).
fn parse_gib(s: &str) -> Result<f64, String> {
    let gib = s.parse::<f64>().unwrap_or(f64::NAN);
    if gib.is_finite() && gib * GIB >= 1.0 && gib <= MEMORY_MAX_GIB_MAX {
        Ok(gib)
    } else {
        Err(format!(
            "`{s}`: expected GiB, a finite number of at least one byte ({:.1e} GiB) and at \
             most {MEMORY_MAX_GIB_MAX}",
            1.0 / GIB
        ))
    }
}

/// Bytes the `owm check` process holds before its search holds any state (the
/// program, its libraries and threads): 10 MiB, the program's own memory the
/// simulator's estimate counts in a release build ([`sim::footprint::PROGRAM_BYTES`]).
/// The smallest check (`--old 1 --new 1`, 187 states) peaks at 8.0-8.5 MiB on 1-8
/// threads and 8.6-8.9 MiB on 64 (BENCHMARKS.md, Checker, "The check process's own
/// memory"), a debug build's at 7.8 MiB on one thread: the margin keeps
/// a suggested `--states-max` within a limit of a few tens of MiB, and costs under 1 %
/// of the states suggested from 0.2 GiB up. `--memory-max` bounds the process's
/// resident memory, this included.
pub const PROCESS_BYTES: u64 = 10 << 20;

const GIB: f64 = (1u64 << 30) as f64;
const MIB: f64 = (1u64 << 20) as f64;

/// Refuses (an error, exit 2) a search predicted by `e` to need more than `avail`
/// bytes, unless `--states-max` bounds it within them: a search stops once it has
/// generated `states_max` states, repeats counted (a soft cap checked every 1,500
/// states a thread explores), so it keeps about that many at most, each costing the
/// strategy's bytes per state. `--timeout`
/// bounds time, not memory, so it never lifts the refusal. `by_flag` says the limit is
/// the user's `--memory-max`, not the machine's available memory; `machine` is what
/// the machine has available, if known.
///
/// The process's own memory beside the states ([`PROCESS_BYTES`]) counts in the need
/// and in what the advice fits: `--memory-max` bounds the whole process's resident
/// memory, so a suggestion that filled the limit with states alone would be cut by it.
///
/// The advice is safe on a machine others share: the `--states-max` it suggests fits
/// (beside the process's own memory) the user's `--memory-max`, or without one half
/// of what the machine has available (the rest left to its other work), and it says
/// which; a larger `--memory-max` is
/// suggested only when the search would fit in what the machine has available (a limit
/// above that lifts the refusal only to meet the out-of-memory killer).
/// A memory size in the refusal's words, one unit for one quantity wherever the
/// refusal says it: GiB to 0.1 from 1 GiB, else MiB to 0.1 (`21.1 GiB`, `10.1 MiB`).
fn memory_words(bytes: f64) -> String {
    if bytes >= GIB {
        format!("{:.1} GiB", bytes / GIB)
    } else {
        format!("{:.1} MiB", bytes / MIB)
    }
}

fn refuse_unless_it_fits(
    cfg: &CheckConfig,
    e: &model::Estimate,
    avail: f64,
    by_flag: bool,
    machine: Option<f64>,
) -> Result<()> {
    let per_state = model::estimate::bytes_per_state(cfg.strategy);
    let process = PROCESS_BYTES as f64;
    let bound = process
        + match cfg.states_max {
            Some(n) => e.bytes.min(n as f64 * per_state),
            None => e.bytes,
        };
    // A --memory-max above what the machine has available lifts nothing: a search
    // past the machine's memory meets the out-of-memory killer before the limit, with
    // no verdict written. It is judged against the machine's memory, and said so.
    // `flag_above`: the --memory-max so lifted.
    let (avail, by_flag, flag_above) = match machine {
        Some(m) if by_flag && m < avail => (m, false, Some(avail)),
        _ => (avail, by_flag, None),
    };
    if bound <= avail {
        return Ok(());
    }
    let limit = match flag_above {
        Some(flag) => format!(
            "--memory-max allows {}, more than the {} of memory available (the search \
             would meet the out-of-memory killer before that limit)",
            memory_words(flag),
            memory_words(avail)
        ),
        None if by_flag => format!("--memory-max allows {} of memory", memory_words(avail)),
        None => format!("{} of memory is available", memory_words(avail)),
    };
    let strategy = match cfg.strategy {
        Strategy::Bfs => "breadth first",
        Strategy::Dfs => "depth first",
    };
    // What a suggested --states-max must fit in, and those words.
    let (room, in_what) = if by_flag {
        (avail, String::new())
    } else {
        (
            avail / 2.0,
            format!(
                " in half the {} available, the rest left to the machine's other work",
                memory_words(avail)
            ),
        )
    };
    let fits = ((room - process).max(0.0) / per_state).floor();
    let mut why = String::new();
    if let Some(n) = cfg.states_max {
        why.push_str(&format!(
            "; --states-max {n} would hold up to {:.1} GiB ({per_state:.0} bytes per state {strategy})",
            n as f64 * per_state / GIB
        ));
    }
    if cfg.timeout.is_some() {
        why.push_str("; --timeout bounds the time, not the memory");
    }
    // Only what the user has not done already and what would fit: --dfs beside a
    // breadth-first search when depth first fits, a
    // smaller --states-max than the one given (none when not one state fits), a larger
    // --memory-max than the one given when the machine holds what the search needs,
    // symmetry when it is off and would reduce.
    let mut ways = Vec::new();
    if cfg.strategy == Strategy::Bfs {
        // Depth first keeps fewer bytes a state: suggested only when that is enough.
        let dfs_per_state = model::estimate::bytes_per_state(Strategy::Dfs);
        let dfs_bytes = match cfg.states_max {
            Some(n) => e.states.min(n as f64) * dfs_per_state,
            None => e.states * dfs_per_state,
        };
        if process + dfs_bytes <= room {
            let size = sim::footprint::human_bytes(dfs_bytes.ceil() as u64);
            ways.push(format!(
                "search depth first (--dfs: about {size} at {dfs_per_state:.0} bytes a state)"
            ));
        }
    }
    if fits >= 1.0 {
        let lower = if cfg.states_max.is_some() {
            "lower the bound"
        } else {
            "bound the states"
        };
        ways.push(format!(
            "{lower} (--states-max {fits:.0} or fewer fit {strategy}{in_what}, beside the \
             process's own {})",
            sim::footprint::human_bytes(PROCESS_BYTES)
        ));
    }
    if by_flag && machine.is_none_or(|m| bound <= m) {
        ways.push("allow more (a larger --memory-max)".to_string());
    }
    if !cfg.symmetry && model::OwmModel::new(cfg).has_interchangeable_transactions() {
        ways.push(
            "reduce by symmetry (--symmetry on: some transactions are interchangeable)".into(),
        );
    }
    let ways = if ways.is_empty() {
        String::new()
    } else {
        format!("; {}", ways.join(", or "))
    };
    bail!(
        "refused: {} need {e}, and {limit}{why}{ways}",
        sim::number_text::counted((cfg.old + cfg.new) as u64, "transaction", "transactions"),
    );
}

impl CheckArgs {
    /// The configuration the flags (and the model file) ask for; a bad model file is
    /// an error naming its line and key.
    fn config(&self) -> Result<CheckConfig> {
        let mut c = CheckConfig::default();
        if let Some(v) = self.variant {
            c.variant = v;
        }
        c.old = self.old.unwrap_or(c.old);
        c.new = self.new.unwrap_or(c.new);
        c.records_per_block = self.records_per_block.unwrap_or(c.records_per_block);
        c.blocks = self.blocks.unwrap_or(c.blocks);
        c.amounts = self.amounts.unwrap_or(c.amounts);
        c.transfers = self.transfers.unwrap_or(c.transfers);
        if let Some(ts) = &self.transactions {
            c.set_transactions(ts.clone());
            if self.old.is_some_and(|n| n != c.old) || self.new.is_some_and(|n| n != c.new) {
                // Only the flags given are quoted: a count left out is not the user's.
                let given: Vec<String> = [("--old", self.old), ("--new", self.new)]
                    .into_iter()
                    .filter_map(|(flag, n)| n.map(|n| format!("{flag} {n}")))
                    .collect();
                bail!(
                    "--transactions lists {} old and {} new transactions, not {}",
                    c.old,
                    c.new,
                    given.join(" ")
                );
            }
        }
        // The locks first: record locks bound the volume a model file may give.
        c.locks = self.locks.unwrap_or(c.locks);
        if let Some(path) = &self.model {
            crate::check_model_file::apply(path, &mut c)?;
        }
        c.discipline = self.discipline.unwrap_or(c.discipline);
        c.type_b = self.type_b.unwrap_or(c.type_b);
        c.aborts = self.aborts.unwrap_or(c.aborts);
        c.rmw = self.rmw.unwrap_or(c.rmw);
        c.threads = self.threads.unwrap_or(c.threads);
        c.depth = self.depth.or(c.depth);
        c.states_max = self.states_max.or(c.states_max);
        c.timeout = self.timeout.or(c.timeout);
        c.symmetry = self.symmetry.unwrap_or(c.symmetry);
        if self.dfs || c.symmetry {
            // stateright reduces by symmetry only depth first.
            c.strategy = Strategy::Dfs;
        }
        Ok(c)
    }
}

/// The most checker threads `--threads` takes: more than a machine runs usefully,
/// fewer than an operating system refuses to start (a refused thread aborted the
/// search).
pub const THREADS_MAX: usize = 1024;

fn parse_threads(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=THREADS_MAX).contains(&n) => Ok(n),
        _ => Err(format!("`{s}`: expected 1..={THREADS_MAX} threads")),
    }
}

/// `--depth`: from 1 (the initial state) to `i64::MAX`, which the trace and walk files
/// can record; anything else (0, negative, not a number) is an error clap reports
/// naming the flag (exit 2).
fn parse_depth(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 && n as u64 <= i64::MAX as u64 => Ok(n),
        _ => Err(format!("`{s}`: expected a depth of 1..={}", i64::MAX)),
    }
}

/// Where `owm check` writes its traces unless `--trace-dir` says otherwise.
pub(crate) const DEFAULT_TRACE_DIR: &str = "out/check";

/// `--states-max N`: at least 1 state; anything else (0, negative, not a number) is an
/// error clap reports naming the flag (exit 2).
fn parse_states_max(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "`{s}`: expected a number of states of 1..={}",
            usize::MAX
        )),
    }
}

/// Runs `owm check` (or `--replay`) and returns its exit status (module doc); an
/// error is bad input (exit 2). An error of a check (not of `--replay`, which writes
/// no verdict files) is recorded in the `--json` and `--junit` files as a failed case
/// `run` of suite `check` ([`VerdictArgs::record_error`]), never over the `--model`
/// file or inside `--trace-dir`.
pub fn run(args: &CheckArgs) -> Result<Exit> {
    // `--timeout` counts from here: the estimate's searches are part of the command.
    let since = std::time::Instant::now();
    if let Some(path) = &args.replay {
        return replay(path);
    }
    let model: Vec<crate::verdict::Input> = args
        .model
        .iter()
        .map(|m| ("the --model file", &**m))
        .collect();
    let result = check(args, since);
    args.verdict.record_error(
        result,
        "check",
        "check",
        Some(("--trace-dir", &args.trace_dir)),
        &model,
    )
}

/// [`run`] of a check (not `--replay`).
fn check(args: &CheckArgs, since: std::time::Instant) -> Result<Exit> {
    let model: Vec<crate::verdict::Input> = args
        .model
        .iter()
        .map(|m| ("the --model file", &**m))
        .collect();
    args.verdict
        .preflight(Some(("--trace-dir", &args.trace_dir)), &model)?;
    if args.trace_dir.exists() && !args.trace_dir.is_dir() {
        bail!(
            "--trace-dir {}: exists and is not a directory",
            args.trace_dir.shown()
        );
    }
    if args.walk.on() {
        return crate::check_walk::run(
            &args.config()?,
            &args.walk,
            &args.trace_dir,
            &args.verdict,
            since,
        );
    }
    let cfg = args.config()?;
    if let Some(addr) = args.serve {
        return crate::check_serve::serve(&cfg, addr);
    }
    if cfg.symmetry && !model::OwmModel::new(&cfg).has_interchangeable_transactions() {
        eprintln!(
            "note: --symmetry on: no two transactions of this configuration are \
             interchangeable, so it reduces nothing; it still searches depth first, so no \
             trace is proven shortest and witness depths are not the shallowest: leave it off"
        );
    }
    // The trace directory is checked before the search and replaced whole after it.
    let staging = crate::outdir::prepare(&args.trace_dir, crate::outdir::TRACE_DIR_FLAG)?;
    let limit = match args.memory_max {
        Some(gib) => Some((gib * GIB, true)),
        None => model::estimate::available_bytes().map(|b| (b, false)),
    };
    // The user's limit stops every search once the process holds more; the machine's
    // bounds only the search for the shortest traces (breadth first on several
    // threads), which may fill it once the search has freed its states.
    let memory = limit.map(|(bytes, by_flag)| model::MemoryBudget {
        bytes,
        what: match args.memory_max {
            Some(gib) if by_flag => format!("--memory-max {gib} GiB"),
            _ => format!("the {:.1} GiB available", bytes / GIB),
        },
        bounds_search: by_flag,
    });
    if args.memory_max.is_some() && model::estimate::resident_bytes().is_none() {
        tell!(
            "note: this system does not report resident memory: --memory-max is applied to \
             the states the search holds, at {:.0} bytes a state",
            model::estimate::bytes_per_state(cfg.strategy)
        );
    }
    // One Ctrl-C stops the search (or the estimate's): it reports what it covered
    // (exit 3), as a bound that cut it does; a second ends the process (130).
    crate::interrupt::install();
    let limits = model::Limits {
        stop: &crate::interrupt::requested,
        since,
        memory: memory.as_ref(),
    };
    // The search for the shortest traces (breadth first on several threads) keeps
    // within the estimate printed, when one is made: the machine's memory alone would
    // let it hold far more than the search it follows.
    let mut shortest_memory = None;
    match model::estimate_within(&cfg, &limits)? {
        model::Sizing::Small => {}
        model::Sizing::Estimated(e) => {
            say!("estimate: {e}");
            if let Some(m) = memory.as_ref().filter(|m| !m.bounds_search) {
                let bytes = e.bytes.max(model::estimate::SHORTEST_BYTES_PER_STATE);
                if bytes < m.bytes {
                    shortest_memory = Some(model::MemoryBudget {
                        bytes,
                        what: format!("the estimate's {:.1} MiB", bytes / MIB),
                        bounds_search: false,
                    });
                }
            }
            if let Some((avail, by_flag)) = limit {
                refuse_unless_it_fits(
                    &cfg,
                    &e,
                    avail,
                    by_flag,
                    model::estimate::available_bytes(),
                )?;
            }
        }
        model::Sizing::Cut(why) => {
            say!(
                "estimate: not made: its searches of the smaller configurations were cut by {why}"
            );
        }
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let mut on_progress = |p: model::Progress| {
        let what = if p.shortest {
            "searching for the shortest traces: "
        } else {
            ""
        };
        bar.set_message(format!(
            "{what}{} unique states, {:.0} states/s",
            p.unique_states,
            p.states_per_sec()
        ));
    };
    crate::outdir::pause_point("check search");
    let limits = model::Limits {
        memory: shortest_memory.as_ref().or(limits.memory),
        ..limits
    };
    let report = model::check_with_progress(&cfg, Some(&mut on_progress), &limits);
    bar.finish_and_clear();
    let report = report?;
    say!("{}", report.render().trim_end());
    let traces: Vec<&Trace> = report
        .counterexamples()
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    let written = write_traces(staging.path(), &args.trace_dir, &traces)?;
    staging.commit()?;
    for w in written {
        say!(
            "counterexample written to {} (replay: owm check --replay {})",
            w.shown(),
            crate::shell_word::shell_word(&w).shown()
        );
    }
    let command = |word| reproduce(&cfg, args.memory_max, &args.trace_dir, &args.verdict, word);
    say!(
        "reproduce: {}",
        command(crate::shell_word::shell_word).shown()
    );
    say!("{}", in_words(&report));
    args.verdict.finish(&verdicts(
        &report,
        command(crate::shell_word::absolute_word),
        args.verdict.allow_violations,
        &args.trace_dir,
    ))
}

/// The command line that gives the same verdict: the model, the search and its bounds
/// (`--memory-max` among them: it stops a search), and `--trace-dir` when it is not
/// the default `out/check` (pasted, it writes the traces where this run did), written
/// by `word` ([`crate::shell_word::shell_word`] as printed,
/// [`crate::shell_word::absolute_word`] for the verdict files).
fn reproduce(
    cfg: &CheckConfig,
    memory_max: Option<f64>,
    trace_dir: &Path,
    verdict: &VerdictArgs,
    word: fn(&Path) -> String,
) -> String {
    let memory = memory_max.map_or(String::new(), |gib| format!(" --memory-max {gib}"));
    let dir = if trace_dir == Path::new(DEFAULT_TRACE_DIR) {
        String::new()
    } else {
        format!(" --trace-dir {}", word(trace_dir))
    };
    format!(
        "owm check {} {}{dir}{memory}{}",
        cfg.model_flags(),
        cfg.search_flags(),
        verdict.reproduce_suffix()
    )
}

/// The verdicts of a check, one case per property (suite `check <model flags>`): an
/// `always` property held over the whole space is held, over a cut space held within
/// the bounds when its witness was reached there, not reached (JSON `not-reached`,
/// JUnit skipped) when it was not; a `sometimes` witness reached is held, never
/// reached in the whole space a violation (its invariants would hold vacuously), not
/// reached in a cut space unchecked. A cut search exits 3 whatever its cases.
/// A violation's trace is named with its file under `trace_dir` and the command that
/// replays it.
fn verdicts(
    cr: &CheckReport,
    reproduce: String,
    allow_violations: bool,
    trace_dir: &Path,
) -> Report {
    let mut r = Report::new("check", reproduce, allow_violations);
    r.coverage = Some(cr.coverage.clone());
    r.states = Some(crate::verdict::SearchStates {
        explored: cr.explored_states as u64,
        reached_not_explored: cr.cut_states as u64,
        generated: cr.generated_states as u64,
        depth: cr.max_depth as u64,
    });
    let suite = format!("check {}", cr.config.model_flags());
    let bound = cr.scope();
    let cut = cr.cut_states as u64;
    for p in &cr.properties {
        let outcome = match &p.outcome {
            model::Outcome::Held | model::Outcome::Reached if cr.complete() => Outcome::Held,
            model::Outcome::Held => Outcome::HeldWithin {
                bound: bound.clone(),
                cut,
            },
            model::Outcome::NotWitnessed { witness } => Outcome::NotReached {
                reason: format!(
                    "its witness \"{witness}\" was never reached within {bound} ({})",
                    cr.cut_words()
                ),
            },
            model::Outcome::Reached => Outcome::Held,
            model::Outcome::Violated {
                detail,
                steps,
                not_shortest,
                trace,
                ..
            } => {
                let file = trace_dir.join(format!("{}.trace", file_stem(&trace.violates)));
                Outcome::Violated {
                    count: 1,
                    detail: detail.clone(),
                    trace: Some(Box::new(crate::verdict::TraceLength {
                        steps: steps.len() as u64,
                        shortest: not_shortest.is_none(),
                        not_shortest: not_shortest.clone(),
                        replay: Some(format!(
                            "owm check --replay {}",
                            crate::shell_word::absolute_word(&file)
                        )),
                        file: Some(crate::shell_word::json_path(&file)),
                    })),
                }
            }
            model::Outcome::NotReached if cr.complete() => Outcome::Violated {
                count: 1,
                detail: {
                    let theirs: Vec<&str> = cr
                        .properties
                        .iter()
                        .filter(|q| {
                            q.outcome == model::Outcome::Held
                                && cr.unreached_witness(q.name) == Some(p.name)
                        })
                        .map(|q| q.name)
                        .collect();
                    if theirs.is_empty() {
                        "never reached".into()
                    } else {
                        format!(
                            "never reached: the invariants it witnesses hold vacuously: {}",
                            theirs.join(", ")
                        )
                    }
                },
                trace: None,
            },
            model::Outcome::NotReached => Outcome::Unchecked {
                reason: format!("not reached within {bound} ({})", cr.cut_words()),
            },
        };
        r.push(&suite, p.name, outcome);
    }
    if !cr.complete() {
        r.cut();
    }
    r
}

/// The check's result in words: which invariants were violated, or what a bound cut.
fn in_words(report: &CheckReport) -> String {
    let violated = report.violated();
    if !violated.is_empty() {
        format!("result: violated: {}", violated.join(", "))
    } else if !report.complete() {
        let names = |unwitnessed: bool| -> Vec<&str> {
            report
                .properties
                .iter()
                .filter(|p| match p.outcome {
                    model::Outcome::Held => !unwitnessed,
                    model::Outcome::NotWitnessed { .. } => unwitnessed,
                    _ => false,
                })
                .map(|p| p.name)
                .collect()
        };
        let (held, unwitnessed) = (names(false), names(true));
        let cut = report.cut_words();
        let scope = report.scope();
        if unwitnessed.is_empty() {
            format!("result: incomplete: held within {scope}, {cut}")
        } else if held.is_empty() {
            format!(
                "result: incomplete: no invariant's witness was reached within {scope}, \
                 {cut}: nothing is said to hold"
            )
        } else {
            format!(
                "result: incomplete: held within {scope}: {}; not reached (their witnesses \
                 were never reached): {}; {cut}",
                held.join(", "),
                unwitnessed.join(", ")
            )
        }
    } else if !report.ok() {
        let vacuous: Vec<String> = report
            .properties
            .iter()
            .filter_map(|p| {
                let w = report.unreached_witness(p.name)?;
                Some(format!("{} (witness \"{w}\")", p.name))
            })
            .collect();
        if vacuous.is_empty() {
            "result: a `sometimes` witness was never reached".into()
        } else {
            format!(
                "result: a `sometimes` witness was never reached: these invariants hold \
                 vacuously: {}",
                vacuous.join(", ")
            )
        }
    } else {
        format!(
            "result: held: every invariant the model judges ({} of DESIGN.md's: non-disruption \
             and b-prime-faithful are the simulator's), every witness reached",
            model::INVARIANTS.len()
        )
    }
}

/// Writes each trace as `<invariant>.trace` into `staging` (the staging directory of
/// the trace directory `dir`, [`crate::outdir::prepare`]) and returns the paths the
/// traces have in `dir` once the staging directory is committed: the directory then
/// holds this check's traces only, and nothing else of an earlier check's (a directory
/// holding files owm did not write was refused before the search).
pub(crate) fn write_traces(staging: &Path, dir: &Path, traces: &[&Trace]) -> Result<Vec<PathBuf>> {
    let mut written = Vec::with_capacity(traces.len());
    for t in traces {
        let name = format!("{}.trace", file_stem(&t.violates));
        reports::write_atomic(&staging.join(&name), t.to_text().as_bytes())?;
        written.push(dir.join(name));
    }
    Ok(written)
}

pub(crate) fn file_stem(invariant: &str) -> String {
    invariant
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// Replays a trace: exit 1 when the violation it names is reproduced, an error (exit
/// 2) when the file cannot be read or parsed or its steps do not reproduce it; a parse
/// or replay error names the file and the line at fault (`FILE:LINE: ...`).
fn replay(path: &Path) -> Result<Exit> {
    let text = crate::config::read_bounded(path)
        .map_err(|m| anyhow::anyhow!("could not replay {}: {m}", path.shown()))?;
    let located = |e: model::ModelError| match e {
        model::ModelError::Line { line, source } => {
            anyhow::anyhow!("could not replay {}:{line}: {source}", path.shown())
        }
        other => anyhow::anyhow!("could not replay {}: {other}", path.shown()),
    };
    let (trace, lines) = Trace::parse(&text).map_err(located)?;
    let replayed = model::replay_file(&trace, &lines).map_err(located)?;
    let shown = model::render_replayed(&trace, &replayed);
    say!("{}", shown.trim_end());
    let detail = format!("{} reproduced from {}", trace.violates, path.shown());
    say!("{}", verdict_line(Word::Violated, &detail, Exit::Violated));
    Ok(Exit::Violated)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An estimate of `states` states at the bytes per state of `cfg`'s strategy.
    fn estimate(cfg: &CheckConfig, states: f64) -> model::Estimate {
        model::Estimate {
            measured: vec![(1, 1, 187)],
            growth_old: Some(2.0),
            growth_new: Some(2.0),
            states,
            bytes: states * model::estimate::bytes_per_state(cfg.strategy),
            seconds: 1.0,
        }
    }

    fn refusal(cfg: &CheckConfig, states: f64, avail: f64, by_flag: bool, machine: f64) -> String {
        refuse_unless_it_fits(cfg, &estimate(cfg, states), avail, by_flag, Some(machine))
            .unwrap_err()
            .to_string()
    }

    /// The `--states-max` a refusal suggests, parsed back.
    fn suggested(msg: &str) -> f64 {
        msg.split_once("--states-max ")
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no --states-max in: {msg}"))
    }

    /// A --memory-max above the machine's available memory does not lift the refusal of
    /// a search the machine cannot hold: it is refused as without the flag, saying the
    /// limit is above what is available; a search the machine holds still runs.
    #[test]
    fn a_memory_max_above_the_machine_does_not_lift_the_refusal() {
        let bfs = CheckConfig::from_model_flags("--old 4 --new 3").unwrap();
        let machine = 8.0 * GIB;
        // 10^8 states: 23 GiB breadth first, under --memory-max 100 GiB on 8 GiB.
        let msg = refusal(&bfs, 1e8, 100.0 * GIB, true, machine);
        assert!(
            msg.contains(
                "--memory-max allows 100.0 GiB, more than the 8.0 GiB of memory available"
            ),
            "{msg}"
        );
        assert!(!msg.contains("a larger --memory-max"), "{msg}");
        let n = suggested(&msg);
        let per_state = model::estimate::BFS_BYTES_PER_STATE;
        assert!(
            PROCESS_BYTES as f64 + n * per_state <= machine / 2.0,
            "{msg}"
        );
        // 10^6 states (0.4 GiB) fit the machine: the flag does not refuse them.
        let e = estimate(&bfs, 1e6);
        assert!(refuse_unless_it_fits(&bfs, &e, 100.0 * GIB, true, Some(machine)).is_ok());
    }

    /// A breadth-first refusal suggests --dfs only when the search fits depth first in
    /// the room the advice allows (half the machine, or --memory-max), with its size.
    #[test]
    fn depth_first_is_suggested_only_when_it_fits() {
        let bfs = CheckConfig::from_model_flags("--old 4 --new 3").unwrap();
        let machine = 8.0 * GIB;
        // 10^8 states: 23 GiB breadth first, 1.9 GiB depth first (fits in 4 GiB).
        let msg = refusal(&bfs, 1e8, machine, false, machine);
        assert!(
            msg.contains("search depth first (--dfs: about 1.86 GiB at 20 bytes a state)"),
            "{msg}"
        );
        // 10^9 states: 18.6 GiB depth first, past half the machine: not suggested.
        let msg = refusal(&bfs, 1e9, machine, false, machine);
        assert!(!msg.contains("--dfs"), "{msg}");
        // Under --memory-max 1 GiB, 10^8 states depth first (1.9 GiB) do not fit either.
        let msg = refusal(&bfs, 1e8, GIB, true, machine);
        assert!(!msg.contains("--dfs"), "{msg}");
    }

    /// Without --memory-max the suggested --states-max fits half of what the machine
    /// has available (said so), and no --memory-max is suggested: the search needs more
    /// than the machine has. Under --memory-max it fits that limit, and a larger limit
    /// is suggested only when the machine holds what the search needs.
    #[test]
    fn the_refusal_advice_fits_the_bound_it_names() {
        let bfs = CheckConfig::from_model_flags("--old 4 --new 3").unwrap();
        let per_state = model::estimate::BFS_BYTES_PER_STATE;
        let machine = 8.0 * GIB;
        let msg = refusal(&bfs, 1e9, machine, false, machine);
        let n = suggested(&msg);
        let process = PROCESS_BYTES as f64;
        assert!(process + n * per_state <= machine / 2.0, "{msg}");
        assert!(process + (n + 1.0) * per_state > machine / 2.0, "{msg}");
        assert!(
            msg.contains(
                "fit breadth first in half the 8.0 GiB available, the rest left to the \
                 machine's other work, beside the process's own 10.00 MiB)"
            ),
            "{msg}"
        );
        assert!(!msg.contains("--memory-max"), "{msg}");

        // The user's limit: the suggestion fills it; the search (233 GiB) does not fit
        // the machine, so no larger limit is suggested.
        let limit = 0.5 * GIB;
        let msg = refusal(&bfs, 1e9, limit, true, machine);
        let n = suggested(&msg);
        assert!(
            process + n * per_state <= limit && process + (n + 1.0) * per_state > limit,
            "{msg}"
        );
        assert!(msg.contains("beside the process's own 10.00 MiB)"), "{msg}");
        assert!(!msg.contains("half the"), "{msg}");
        assert!(!msg.contains("a larger --memory-max"), "{msg}");
        // 3e6 states (0.70 GiB) fit the machine: a larger limit is suggested.
        let msg = refusal(&bfs, 3e6, limit, true, machine);
        assert!(
            msg.contains("or allow more (a larger --memory-max)"),
            "{msg}"
        );
        // A limit that the process's own memory fills: no --states-max fits it.
        let msg = refusal(&bfs, 3e6, 0.5 * process, true, machine);
        assert!(!msg.contains("--states-max"), "{msg}");
        assert!(
            msg.ends_with("; allow more (a larger --memory-max)"),
            "{msg}"
        );

        // Depth first, at 20 bytes a state.
        let dfs = CheckConfig {
            strategy: Strategy::Dfs,
            ..bfs.clone()
        };
        let msg = refusal(&dfs, 1e12, machine, false, machine);
        let n = suggested(&msg);
        let per_state = model::estimate::DFS_BYTES_PER_STATE;
        assert!(n * per_state <= machine / 2.0, "{msg}");
        assert!(msg.contains("fit depth first in half the 8.0 GiB"), "{msg}");
        assert!(!msg.contains("--dfs"), "{msg}");
    }
}
