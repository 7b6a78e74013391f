//! `owm check --simulate`: random walks over a configuration too large to exhaust
//! (model crate, [`mod@model::walk`]), sharded like a sweep (`--shard K/N`), and `owm merge`
//! of the shards' outputs.
//!
//! A run writes into its trace directory the trace of the first violation of each
//! invariant (`<invariant>.trace`, replayable with `owm check --replay`) and
//! `walks.toml`: the plan (model, seed, walks, depth, shard), the counts, each
//! violation's walk, depth, trace file and its SHA-256, and each `sometimes` reached.
//! `owm merge` reads the `walks.toml` of the `N` shards, replays every trace, and writes
//! what the unsharded run writes (the distinct-state count aside: summed over the
//! shards, an upper bound).
//!
//! Exit: 1 when an invariant was violated (the trace replays), otherwise 3 — a random
//! walk proves nothing, so "no violation found in N walks of depth ≤ D" is never
//! "held"; 2 for bad input (flags, a shard directory that does not fit).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use model::walk::{Found, Reached};
use model::{CheckConfig, Strategy, Trace, WalkPlan, WalkReport};

use crate::check::{file_stem, write_traces};
use crate::sweep::Shard;
use crate::verdict::{Exit, Outcome, Report, VerdictArgs};

/// The summary file a random-walk run writes beside its traces.
pub const WALK_FILE: &str = "walks.toml";

/// The largest seed or walk count `walks.toml` can record (TOML integers are 64-bit
/// signed): a larger one is refused as a flag, not after the walks.
const RECORDABLE_MAX: u64 = i64::MAX as u64;

/// The random-walk flags of `owm check`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct WalkArgs {
    /// Random walks instead of an exhaustive search: `--walks` walks from the initial
    /// state, each choosing uniformly among the enabled actions, to a terminal state or
    /// `--depth`. Finds violations in spaces too large to exhaust; proves nothing held
    /// (exit 3 when nothing is violated).
    #[arg(long, conflicts_with_all = ["serve", "replay", "dfs"])]
    simulate: bool,
    /// The seed of the walks (default 1): walk i's choices come from ChaCha8 keyed by the
    /// seed, stream i, so any walk can be rerun alone (walk 25 of 1000: `--walks 1000
    /// --shard 26/1000`).
    #[arg(long, requires = "simulate", value_parser = clap::value_parser!(u64).range(..=RECORDABLE_MAX))]
    seed: Option<u64>,
    /// Walks in the whole run (default 1000).
    #[arg(long, requires = "simulate", value_parser = clap::value_parser!(u64).range(..=RECORDABLE_MAX))]
    walks: Option<u64>,
    /// Run only walks i with i % N == K - 1 (1 <= K <= N); `owm merge` joins the N
    /// outputs into what the unsharded run writes (job arrays).
    #[arg(long, value_name = "K/N", requires = "simulate")]
    shard: Option<Shard>,
}

impl WalkArgs {
    /// True with `--simulate`.
    pub fn on(&self) -> bool {
        self.simulate
    }

    fn plan(&self) -> WalkPlan {
        let s = self.shard.unwrap_or(Shard { k: 1, n: 1 });
        WalkPlan {
            seed: self.seed.unwrap_or(1),
            walks: self.walks.unwrap_or(1000),
            shard_k: s.k,
            shard_n: s.n,
        }
    }
}

/// Runs the walks of `args` over `cfg`, prints the report, writes the traces and
/// `walks.toml` into `trace_dir`, and returns the exit status (module doc).
pub fn run(
    cfg: &CheckConfig,
    args: &WalkArgs,
    trace_dir: &Path,
    verdict: &VerdictArgs,
) -> Result<Exit> {
    if cfg.symmetry {
        bail!(
            "--symmetry reduces an exhaustive search; random walks (--simulate) take no --symmetry"
        );
    }
    if cfg.strategy == Strategy::Dfs {
        bail!("--dfs chooses how an exhaustive search explores; random walks (--simulate) take neither --dfs nor a strategy");
    }
    let plan = args.plan();
    plan.validate()?;
    cfg.validate()?;
    if let Some(e) = model::estimate(cfg)? {
        say!("estimate of the whole space: {e}");
    }
    let staging = crate::outdir::prepare(trace_dir, "--trace-dir")?;
    crate::interrupt::install();
    let report = model::walk(cfg, &plan, &crate::interrupt::requested)?;
    finish(
        &report,
        staging,
        trace_dir,
        verdict,
        &reproduce(cfg, &plan, verdict),
    )
}

/// Prints `report`, writes its files into `staging` and swaps them into `dir` whole,
/// and returns the verdict's exit status.
fn finish(
    report: &WalkReport,
    staging: crate::outdir::Staging,
    dir: &Path,
    verdict: &VerdictArgs,
    reproduce: &str,
) -> Result<Exit> {
    say!("{}", report.render().trim_end());
    let traces: Vec<&Trace> = report.violations.values().map(|f| &f.trace).collect();
    let written = write_traces(staging.path(), dir, &traces)?;
    reports::write_atomic(
        &staging.path().join(WALK_FILE),
        walk_file(report)?.as_bytes(),
    )?;
    staging.commit()?;
    for w in written {
        say!(
            "counterexample written to {} (replay: owm check --replay {})",
            w.display(),
            w.display()
        );
    }
    say!("wrote {}", dir.join(WALK_FILE).display());
    if report.plan.shard_n > 1 {
        say!(
            "merge with: owm merge <the {} shard directories> --out DIR",
            report.plan.shard_n
        );
    }
    say!("reproduce: {reproduce}");
    say!("{}", in_words(report));
    let mut r = verdicts(report, reproduce.to_string(), verdict.allow_violations);
    if !report.complete() {
        r.cut();
    }
    verdict.finish(&r)
}

/// The command line that gives the same walks.
fn reproduce(cfg: &CheckConfig, plan: &WalkPlan, verdict: &VerdictArgs) -> String {
    let shard = if plan.shard_n > 1 {
        format!(" --shard {}/{}", plan.shard_k, plan.shard_n)
    } else {
        String::new()
    };
    format!(
        "owm check {} --simulate --seed {} --walks {}{shard} {}{}",
        cfg.model_flags(),
        plan.seed,
        plan.walks,
        cfg.search_flags(),
        verdict.reproduce_suffix()
    )
}

/// One case per property (suite `check <model flags> --simulate`): a violation is
/// violated; an invariant not violated, or a witness not reached, is unchecked (a
/// random walk proves nothing); a witness reached is held.
fn verdicts(wr: &WalkReport, reproduce: String, allow_violations: bool) -> Report {
    let mut r = Report::new("check", reproduce, allow_violations);
    r.seed = Some(wr.plan.seed);
    r.coverage = Some(wr.coverage());
    let suite = format!("check {} --simulate", wr.config.model_flags());
    for (name, always) in wr.properties() {
        let outcome = if always {
            match wr.violations.get(name) {
                Some(f) => Outcome::Violated {
                    count: 1,
                    detail: f.detail.clone(),
                    trace: None,
                },
                None => Outcome::Unchecked {
                    reason: format!(
                        "no violation found in {} (random walks prove nothing)",
                        wr.covered()
                    ),
                },
            }
        } else if wr.reached.contains_key(name) {
            Outcome::Held
        } else {
            Outcome::Unchecked {
                reason: format!("not reached in {}", wr.covered()),
            }
        };
        r.push(&suite, name, outcome);
    }
    r
}

fn in_words(wr: &WalkReport) -> String {
    let violated: Vec<&str> = wr.violations.keys().map(String::as_str).collect();
    if !violated.is_empty() {
        format!("result: violated: {}", violated.join(", "))
    } else if let Some(why) = &wr.stopped {
        format!(
            "result: incomplete: {why} stopped the run after {} of {} walks; no violation found in them",
            wr.walks_done, wr.walks_planned
        )
    } else {
        format!(
            "result: no violation found in {}: a random walk proves nothing (exit 3)",
            wr.covered()
        )
    }
}

/// `walks.toml`: the plan, the counts, the violations (with their traces' digests) and
/// the witnesses reached. Holds nothing that depends on the machine or the threads.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct WalkFile {
    version: String,
    model: String,
    seed: u64,
    walks: u64,
    depth: Option<usize>,
    shard: String,
    walks_planned: u64,
    walks_done: u64,
    states_visited: u64,
    deepest: usize,
    walks_terminal: u64,
    distinct_states: u64,
    distinct_capped: bool,
    distinct_shards: u64,
    stopped: Option<String>,
    #[serde(default)]
    violations: Vec<ViolationEntry>,
    #[serde(default)]
    reached: Vec<ReachedEntry>,
    /// Per action kind: enabled and taken, summed over the walks.
    #[serde(default)]
    actions: Vec<model::KindCount>,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ViolationEntry {
    invariant: String,
    walk: u64,
    depth: usize,
    trace: String,
    trace_sha256: String,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ReachedEntry {
    property: String,
    depth: usize,
    walk: u64,
}

fn trace_name(invariant: &str) -> String {
    format!("{}.trace", file_stem(invariant))
}

fn walk_file(wr: &WalkReport) -> Result<String> {
    let f = WalkFile {
        version: env!("CARGO_PKG_VERSION").to_string(),
        model: wr.config.model_flags(),
        seed: wr.plan.seed,
        walks: wr.plan.walks,
        depth: wr.config.depth,
        shard: format!("{}/{}", wr.plan.shard_k, wr.plan.shard_n),
        walks_planned: wr.walks_planned,
        walks_done: wr.walks_done,
        states_visited: wr.states_visited,
        deepest: wr.deepest,
        walks_terminal: wr.walks_terminal,
        distinct_states: wr.distinct_states,
        distinct_capped: wr.distinct_capped,
        distinct_shards: wr.distinct_shards,
        stopped: wr.stopped.clone(),
        violations: wr
            .violations
            .iter()
            .map(|(name, f)| ViolationEntry {
                invariant: name.clone(),
                walk: f.walk,
                depth: f.depth,
                trace: trace_name(name),
                trace_sha256: crate::sweep::sha256(f.trace.to_text().as_bytes()),
            })
            .collect(),
        reached: wr
            .reached
            .iter()
            .map(|(name, r)| ReachedEntry {
                property: name.clone(),
                depth: r.depth,
                walk: r.walk,
            })
            .collect(),
        actions: wr.actions.clone(),
    };
    toml::to_string(&f).context("encoding walks.toml")
}

/// True when `dir` holds the output of a random-walk run (its `walks.toml`).
pub fn is_walk_output(dir: &Path) -> bool {
    dir.join(WALK_FILE).is_file()
}

/// Reads a shard's output back into its report: `walks.toml`, and each trace it names,
/// checked against its digest and replayed.
fn read_shard(dir: &Path) -> Result<WalkReport> {
    let path = dir.join(WALK_FILE);
    let src = crate::config::read(&path).context("not a random-walk output (no walks.toml)")?;
    let f: WalkFile =
        toml::from_str(&src).map_err(|e| crate::config::FileError::toml(&path, &src, &e))?;
    let (shard, k_n) = Shard::from_marker(&f.shard, &f.version, &path, dir)?;
    let mut config = CheckConfig::from_model_flags(&f.model)
        .with_context(|| format!("{}: model", path.display()))?;
    config.depth = f.depth;
    config.threads = 1;
    let mut violations = std::collections::BTreeMap::new();
    for v in &f.violations {
        let tpath = dir.join(&v.trace);
        let text = std::fs::read_to_string(&tpath)
            .with_context(|| format!("{k_n}: cannot read {}", tpath.display()))?;
        if crate::sweep::sha256(text.as_bytes()) != v.trace_sha256 {
            bail!(
                "{k_n}: {} does not match the digest in walks.toml (edited?)",
                v.trace
            );
        }
        let trace = Trace::from_text(&text).with_context(|| format!("{k_n}: {}", v.trace))?;
        if trace.violates != v.invariant || trace.config.model_flags() != f.model {
            bail!(
                "{k_n}: {} is not a trace of {} under the shard's model",
                v.trace,
                v.invariant
            );
        }
        let found: Found = model::walk::found(v.walk, v.depth, trace)
            .with_context(|| format!("{k_n}: {} does not replay", v.trace))?;
        violations.insert(v.invariant.clone(), found);
    }
    let reached = f
        .reached
        .iter()
        .map(|r| {
            (
                r.property.clone(),
                Reached {
                    depth: r.depth,
                    walk: r.walk,
                },
            )
        })
        .collect();
    Ok(WalkReport {
        config,
        plan: WalkPlan {
            seed: f.seed,
            walks: f.walks,
            shard_k: shard.k,
            shard_n: shard.n,
        },
        walks_planned: f.walks_planned,
        walks_done: f.walks_done,
        states_visited: f.states_visited,
        deepest: f.deepest,
        walks_terminal: f.walks_terminal,
        distinct_states: f.distinct_states,
        distinct_capped: f.distinct_capped,
        distinct_shards: f.distinct_shards,
        violations,
        reached,
        stopped: f.stopped,
        actions: f.actions,
        elapsed: std::time::Duration::ZERO,
    })
}

/// `owm merge` of random-walk shards: refuses an `--out` that is an input, shards of
/// different runs, a shard given twice or missing, an edited trace; writes the traces
/// and `walks.toml` of the whole run into `out`, prints the merged report and returns
/// its verdict's exit status.
pub fn merge(dirs: &[PathBuf], out: &Path, verdict: &VerdictArgs) -> Result<Exit> {
    crate::outdir::refuse_input_as_out(dirs, out)?;
    let parts = dirs
        .iter()
        .map(|d| read_shard(d))
        .collect::<Result<Vec<_>>>()?;
    for (i, p) in parts.iter().enumerate() {
        if let Some(j) = parts[..i]
            .iter()
            .position(|q| q.plan.shard_k == p.plan.shard_k)
        {
            bail!(
                "shard {}/{} ({}): given twice (also {}); each of the {} shards once",
                p.plan.shard_k,
                p.plan.shard_n,
                dirs[i].display(),
                dirs[j].display(),
                p.plan.shard_n
            );
        }
    }
    let merged = WalkReport::merge(parts).map_err(|e| match e {
        model::ModelError::Config(m) => anyhow::anyhow!("cannot merge the walk shards: {m}"),
        e => e.into(),
    })?;
    let staging = crate::outdir::prepare(out, "--out")?;
    let reproduce = crate::shell_word::merge_command(dirs, out);
    finish(&merged, staging, out, verdict, &reproduce)
}
