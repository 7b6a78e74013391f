//! `owm check --simulate`: random walks over a configuration too large to exhaust
//! (model crate, [`mod@model::walk`]), sharded like a sweep (`--shard K/N`), and `owm merge`
//! of the shards' outputs.
//!
//! A run writes into its trace directory the trace of the first violation of each
//! invariant (`<invariant>.trace`, replayable with `owm check --replay`) and
//! `walks.toml`: the plan (model, seed, walks, depth, shard), the counts, each
//! violation's walk, depth, trace file and its SHA-256, and each `sometimes` reached;
//! its second line pins the SHA-256 of the rest ([`pin`]).
//! `owm merge` reads the `walks.toml` of the `N` shards, refuses one that is cut short,
//! edited or whose counts do not add up, and a shard directory holding anything it does
//! not list ([`read_shard`]), replays every trace, and writes what the unsharded run
//! writes (the distinct-state count aside: summed over the shards, an upper bound).
//!
//! Exit: 1 when an invariant was violated (the trace replays), otherwise 3 — a random
//! walk proves nothing, so "no violation found in N walks of depth ≤ D" is never
//! "held"; 2 for bad input (flags, a shard directory that does not fit).

use engine::shown::ShowName as _;
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
    /// (exit 3 when nothing is violated). Walks hold constant memory (at most 256 MiB of
    /// state fingerprints): --memory-max is refused with them.
    #[arg(long, conflicts_with_all = ["serve", "replay", "dfs", "memory_max"])]
    simulate: bool,
    /// The seed of the walks (default 1): walk i's choices come from ChaCha8 keyed by the
    /// seed, stream i, so any walk can be rerun alone (walk 25 of 1000: `--walks 1000
    /// --shard 26/1000`).
    #[arg(long, requires = "simulate", allow_negative_numbers = true, value_parser = clap::value_parser!(u64).range(..=RECORDABLE_MAX))]
    seed: Option<u64>,
    /// Walks in the whole run (default 1000), 1 to 2^63 - 1.
    #[arg(long, requires = "simulate", allow_negative_numbers = true, value_parser = clap::value_parser!(u64).range(1..=RECORDABLE_MAX))]
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
/// `walks.toml` into `trace_dir`, and returns the exit status (module doc). The
/// timeout counts from `since`, the start of the command (the estimate's searches
/// included).
pub fn run(
    cfg: &CheckConfig,
    args: &WalkArgs,
    trace_dir: &Path,
    verdict: &VerdictArgs,
    since: std::time::Instant,
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
    let staging = crate::outdir::prepare(trace_dir, crate::outdir::TRACE_DIR_FLAG)?;
    crate::interrupt::install();
    let limits = model::Limits {
        stop: &crate::interrupt::requested,
        since,
        memory: None,
    };
    // The estimate refuses nothing for walks (they hold constant memory): it is made
    // only when no `--timeout` is set, so that it never spends the walks' time.
    if cfg.timeout.is_some() {
        if cfg.old + cfg.new > model::estimate::ESTIMATE_ABOVE_TXNS {
            say!(
                "estimate of the whole space: not made: --timeout is left whole to the walks \
                 (without --timeout the estimate is made)"
            );
        }
    } else {
        match model::estimate_within(cfg, &limits)? {
            model::Sizing::Small => {}
            model::Sizing::Estimated(e) => say!("estimate of the whole space: {e}"),
            model::Sizing::Cut(why) => {
                say!("estimate of the whole space: not made: its searches of the smaller configurations were cut by {why}");
            }
        }
    }
    let report = model::walk_since(cfg, &plan, &crate::interrupt::requested, since)?;
    finish(
        "check",
        &report,
        staging,
        trace_dir,
        verdict,
        &[
            reproduce(
                cfg,
                &plan,
                trace_dir,
                verdict,
                crate::shell_word::shell_word,
            ),
            reproduce(
                cfg,
                &plan,
                trace_dir,
                verdict,
                crate::shell_word::absolute_word,
            ),
        ],
    )
}

/// Prints `report`, writes its files into `staging` and swaps them into `dir` whole,
/// and returns the verdict's exit status; `command` (`check`, `merge`) is the one the
/// verdict files name, `reproduce` its command line as printed and as the verdict
/// files record it (by absolute paths).
fn finish(
    command: &str,
    report: &WalkReport,
    staging: crate::outdir::Staging,
    dir: &Path,
    verdict: &VerdictArgs,
    reproduce: &[String; 2],
) -> Result<Exit> {
    let [printed, recorded] = reproduce;
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
            w.shown(),
            crate::shell_word::shell_word(&w).shown()
        );
    }
    say!("wrote {}", dir.join(WALK_FILE).shown());
    if report.plan.shard_n > 1 {
        say!(
            "merge with: owm merge <the {} shard directories> --out DIR",
            report.plan.shard_n
        );
    }
    say!("reproduce: {}", printed.shown());
    say!("{}", in_words(report));
    let mut r = verdicts(
        command,
        report,
        recorded.clone(),
        verdict.allow_violations,
        dir,
    );
    if !report.complete() {
        r.cut();
    }
    verdict.finish(&r)
}

/// The command line that gives the same walks (and writes them where this run did),
/// its paths written by `word` (as for an exhaustive check).
fn reproduce(
    cfg: &CheckConfig,
    plan: &WalkPlan,
    trace_dir: &Path,
    verdict: &VerdictArgs,
    word: fn(&Path) -> String,
) -> String {
    let mut shard = if plan.shard_n > 1 {
        format!(" --shard {}/{}", plan.shard_k, plan.shard_n)
    } else {
        String::new()
    };
    if trace_dir != Path::new(crate::check::DEFAULT_TRACE_DIR) {
        shard.push_str(&format!(" --trace-dir {}", word(trace_dir)));
    }
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
/// violated, named with its trace file under `trace_dir` and the command that replays
/// it, as an exhaustive check names them; an invariant not violated, or a witness not
/// reached, is unchecked (a random walk proves nothing); a witness reached is held.
fn verdicts(
    command: &str,
    wr: &WalkReport,
    reproduce: String,
    allow_violations: bool,
    trace_dir: &Path,
) -> Report {
    let mut r = Report::new(command, reproduce, allow_violations);
    r.merged = Some("check");
    r.seed = Some(wr.plan.seed);
    r.coverage = Some(wr.coverage());
    r.walks = Some(crate::verdict::WalkSample {
        walks_planned: wr.walks_planned,
        walks_done: wr.walks_done,
        walks_terminal: wr.walks_terminal,
        depth_max: wr.config.depth.map(|d| d as u64),
        deepest: wr.deepest as u64,
        states_visited: wr.states_visited,
        distinct_states: wr.distinct_states,
        distinct: match (wr.distinct_capped, wr.distinct_shards) {
            (true, _) => "at least",
            (false, 1) => "exact",
            (false, _) => "at most",
        }
        .to_string(),
        stopped: wr.stopped.clone(),
    });
    // Said in every unchecked case's reason (JUnit's `skipped` message too): what cut
    // the sample short.
    let cut = wr.stopped.as_ref().map_or(String::new(), |why| {
        format!(
            "; {why} stopped the run after {} of {} walks",
            wr.walks_done, wr.walks_planned
        )
    });
    let suite = format!("check {} --simulate", wr.config.model_flags());
    for (name, always) in wr.properties() {
        let outcome = if always {
            match wr.violations.get(name) {
                Some(f) => {
                    let file = trace_dir.join(trace_name(name));
                    Outcome::Violated {
                        count: 1,
                        detail: f.detail.clone(),
                        trace: Some(Box::new(crate::verdict::TraceLength {
                            steps: f.steps.len() as u64,
                            shortest: false,
                            not_shortest: Some(format!(
                                "found by random walk {} (random walks do not search for the shortest)",
                                f.walk
                            )),
                            replay: Some(format!(
                                "owm check --replay {}",
                                crate::shell_word::absolute_word(&file)
                            )),
                            file: Some(crate::shell_word::json_path(&file)),
                        })),
                    }
                }
                None => Outcome::Unchecked {
                    reason: format!(
                        "no violation found in {} (random walks prove nothing){}{cut}",
                        wr.covered(),
                        wr.unwitnessed(name).map_or(String::new(), |w| format!(
                            "; its witness \"{w}\" was never reached"
                        ))
                    ),
                },
            }
        } else if wr.reached.contains_key(name) {
            Outcome::Held
        } else {
            Outcome::Unchecked {
                reason: format!("not reached in {}{cut}", wr.covered()),
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
    /// The second line: the SHA-256 of the file without it ([`pin`]). Absent only
    /// while serialising (and in a file of an owm that pinned none: refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
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
        sha256: None,
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
    let body = toml::to_string(&f).context("encoding walks.toml")?;
    Ok(pin(&body))
}

/// The key of `walks.toml`'s second line: the SHA-256 (lowercase hex) of the file
/// without that line, so that `owm merge` refuses a copy cut short or edited.
const DIGEST_KEY: &str = "sha256";

/// `body` (a `walks.toml` as serialised, `version` first: the line that marks the file
/// as owm's) with the line `sha256 = "<SHA-256 of body>"` after its first.
fn pin(body: &str) -> String {
    let (first, rest) = body.split_once('\n').unwrap_or((body, ""));
    format!(
        "{first}\n{DIGEST_KEY} = \"{}\"\n{rest}",
        crate::sweep::sha256(body.as_bytes())
    )
}

/// Checks that `src`, the `walks.toml` at `path`, is the file owm wrote ([`pin`]): its
/// second line is the digest, and the other lines match it.
///
/// Errors (naming the file and line 2): no digest on line 2 (a file cut short, edited,
/// or written by an owm that pinned none), a digest the other lines do not match.
fn check_pin(path: &Path, src: &str) -> Result<()> {
    let mut lines = src.splitn(3, '\n');
    let first = lines.next().unwrap_or_default();
    let second = lines.next();
    let rest = lines.next().unwrap_or_default();
    let at_line_2 = |message: &str| -> anyhow::Error {
        match second {
            Some(_) => crate::config::FileError::at(path, src, first.len() + 1, message).into(),
            None => crate::config::FileError::whole(path, message).into(),
        }
    };
    let pinned = second
        .and_then(|l| l.strip_prefix(&format!("{DIGEST_KEY} = \"")))
        .and_then(|l| l.strip_suffix('"'));
    let Some(pinned) = pinned else {
        return Err(at_line_2(&format!(
            "line 2 is not the digest `{DIGEST_KEY} = \"…\"` owm writes there: the file was \
             cut short or edited, or an owm that pinned none wrote it (run the shard again)"
        )));
    };
    if crate::sweep::sha256(format!("{first}\n{rest}").as_bytes()) != pinned {
        return Err(at_line_2(
            "the file does not match the digest on line 2: cut short or edited since owm \
             wrote it (run the shard again)",
        ));
    }
    Ok(())
}

/// True when `dir` holds the output of a random-walk run: something at its
/// `walks.toml`, even a directory or a file that cannot be read ([`read_shard`] then
/// refuses it, named). Nothing is there only when the system says so.
pub fn is_walk_output(dir: &Path) -> bool {
    !crate::config::absent(&dir.join(WALK_FILE))
}

/// Reads a shard's output back into its report, and the label that names it in
/// refusals (`shard K/N (DIR)`): `walks.toml`, checked against its digest ([`pin`]) and
/// for counts that add up ([`check_counts`]); each trace it names, checked against its
/// digest and replayed; and the directory, which holds nothing else ([`check_listing`]).
fn read_shard(dir: &Path) -> Result<(WalkReport, String)> {
    let path = dir.join(WALK_FILE);
    if path.is_dir() {
        return Err(crate::config::FileError::whole(
            &path,
            "is a directory, not the file owm check --simulate writes (run the shard again)",
        )
        .into());
    }
    let src = crate::config::read_marker(&path, "not a random-walk output (no walks.toml)")?;
    if src.is_empty() {
        return Err(crate::config::FileError::whole(
            &path,
            "empty: cut to nothing since owm check --simulate wrote it (run the shard again)",
        )
        .into());
    }
    check_pin(&path, &src)?;
    let f: WalkFile =
        toml::from_str(&src).map_err(|e| crate::config::FileError::toml(&path, &src, &e))?;
    let (shard, k_n) = Shard::from_marker(&f.shard, &f.version, &path, dir)?;
    let mut config = CheckConfig::from_model_flags(&f.model)
        .with_context(|| format!("{}: model", path.shown()))?;
    config.depth = f.depth;
    config.threads = 1;
    let plan = WalkPlan {
        seed: f.seed,
        walks: f.walks,
        shard_k: shard.k,
        shard_n: shard.n,
    };
    let keys = crate::locate::Keys::of(&src);
    // A key the file lacks (an array of tables cut away) is named without a line.
    let file = |key: &str, message: String| -> anyhow::Error {
        let line = keys.line(key).or_else(|| keys.line(&format!("{key}.0")));
        anyhow::Error::from(crate::config::FileError {
            path: path.clone(),
            line,
            key: Some(key.to_string()),
            message,
            snippet: line.and_then(|l| keys.line_text(l)),
        })
        .context(k_n.clone())
    };
    check_listing(dir, &f).with_context(|| k_n.clone())?;
    check_counts(&f, &config, &plan, &file)?;
    let mut violations = std::collections::BTreeMap::new();
    for (i, v) in f.violations.iter().enumerate() {
        let tpath = dir.join(&v.trace);
        let text = std::fs::read_to_string(&tpath)
            .with_context(|| format!("{k_n}: cannot read {}", tpath.shown()))?;
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
        if trace.actions.len() + 1 != v.depth {
            return Err(file(
                &format!("violations.{i}.depth"),
                format!(
                    "depth = {}, but {} reaches the violation at depth {}",
                    v.depth,
                    v.trace,
                    trace.actions.len() + 1
                ),
            ));
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
    let report = WalkReport {
        config,
        plan,
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
        elapsed: None,
    };
    Ok((report, k_n))
}

/// Checks that the counts of a `walks.toml` (`f`, of the run `cfg`, `plan`) agree with
/// the plan and with each other, as every run's do: the walks planned are the shard's
/// share; the walks done are at most those, and fewer only with the reason the run
/// stopped; every walk ends in a terminal state or at the depth bound (so without one
/// every walk is terminal, and the deepest walk is at the bound when one is not); the
/// states visited lie between what the walks' count and the deepest allow; the distinct
/// states are at most the states visited; the actions taken are one per state reached
/// by a step on which the walk went on; each violation and witness is a property of
/// the model of the right kind, listed once, at a depth the walks reached, in a walk of
/// this shard that the run finished (in a single run: a merged one keeps its shards'
/// walk numbers), its trace named after the invariant. `file(key, message)` makes the
/// refusal, naming the file, the key and its line.
fn check_counts(
    f: &WalkFile,
    cfg: &CheckConfig,
    plan: &WalkPlan,
    file: &dyn Fn(&str, String) -> anyhow::Error,
) -> Result<()> {
    let share = plan.walks_in_shard();
    if f.walks_planned != share {
        return Err(file(
            "walks_planned",
            format!(
                "walks_planned = {}, but shard {}/{} of {} walks holds {share}",
                f.walks_planned, plan.shard_k, plan.shard_n, plan.walks
            ),
        ));
    }
    if f.walks_done > f.walks_planned {
        return Err(file(
            "walks_done",
            format!(
                "walks_done = {}, more than walks_planned = {}",
                f.walks_done, f.walks_planned
            ),
        ));
    }
    match (&f.stopped, f.walks_done < f.walks_planned) {
        (None, true) => {
            return Err(file(
                "walks_done",
                format!(
                    "walks_done = {} of walks_planned = {}, but no `stopped` says why the \
                     run ended early",
                    f.walks_done, f.walks_planned
                ),
            ))
        }
        (Some(why), false) => {
            return Err(file(
                "stopped",
                format!(
                    "stopped = \"{why}\", but all walks_planned = {} were done",
                    f.walks_planned
                ),
            ))
        }
        _ => {}
    }
    if f.walks_terminal > f.walks_done {
        return Err(file(
            "walks_terminal",
            format!(
                "walks_terminal = {}, more than walks_done = {}",
                f.walks_terminal, f.walks_done
            ),
        ));
    }
    // Walks that stopped at the depth bound, each with exactly that many states.
    let bounded = f.walks_done - f.walks_terminal;
    match cfg.depth {
        None if bounded > 0 => {
            return Err(file(
                "walks_terminal",
                format!(
                    "walks_terminal = {} of walks_done = {}, but with no depth bound every \
                     walk ends in a terminal state",
                    f.walks_terminal, f.walks_done
                ),
            ))
        }
        Some(d) if f.deepest > d || (bounded > 0 && f.deepest != d) => {
            return Err(file(
                "deepest",
                format!(
                    "deepest = {}, but {bounded} walks stopped at the depth bound {d}, \
                     and none goes deeper",
                    f.deepest
                ),
            ))
        }
        _ => {}
    }
    let (done, visited, deepest) = (
        u128::from(f.walks_done),
        u128::from(f.states_visited),
        f.deepest as u128,
    );
    // A walk has one state at least and `deepest` at most, the deepest one `deepest`,
    // and a walk cut by the bound as many states as the bound.
    let bound = cfg.depth.map_or(0, |d| d as u128);
    let least = if done == 0 {
        0
    } else {
        (deepest + done - 1).max(u128::from(bounded) * bound + u128::from(f.walks_terminal))
    };
    if (done == 0) != (deepest == 0) {
        return Err(file(
            "deepest",
            format!("deepest = {}, but walks_done = {}", f.deepest, f.walks_done),
        ));
    }
    if visited < least || visited > done * deepest {
        return Err(file(
            "states_visited",
            format!(
                "states_visited = {}, but {} walks whose deepest has {} states visit from \
                 {least} to {}",
                f.states_visited,
                f.walks_done,
                f.deepest,
                done * deepest
            ),
        ));
    }
    if f.distinct_states > f.states_visited || (f.distinct_states == 0) != (f.states_visited == 0) {
        return Err(file(
            "distinct_states",
            format!(
                "distinct_states = {}, but states_visited = {}",
                f.distinct_states, f.states_visited
            ),
        ));
    }
    if f.distinct_shards == 0 {
        return Err(file(
            "distinct_shards",
            "distinct_shards = 0: the distinct states are counted in one shard at least".into(),
        ));
    }
    let kinds: Vec<model::ActionKind> = f.actions.iter().map(|a| a.kind).collect();
    if kinds != model::ActionKind::ALL {
        return Err(file(
            "actions",
            format!(
                "[[actions]] lists {}, not every action kind once in the order {}",
                if kinds.is_empty() {
                    "no action kind".to_string()
                } else {
                    kinds
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                model::ActionKind::ALL
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    if let Some((i, a)) = f
        .actions
        .iter()
        .enumerate()
        .find(|(_, a)| a.taken > a.enabled)
    {
        return Err(file(
            &format!("actions.{i}.taken"),
            format!(
                "{} taken {} times, but enabled only {}",
                a.kind.as_str(),
                a.taken,
                a.enabled
            ),
        ));
    }
    // A step is counted as taken when the walk goes on from the state it reached: every
    // state but the first of a walk that ends in a terminal state, every state but the
    // first and the last of a walk cut by the depth bound.
    let taken: u128 = f.actions.iter().map(|a| u128::from(a.taken)).sum();
    let cut_states = u128::from(bounded) * bound;
    let steps = visited
        .saturating_sub(cut_states)
        .saturating_sub(u128::from(f.walks_terminal))
        + u128::from(bounded) * bound.saturating_sub(2);
    if taken != steps {
        return Err(file(
            "actions",
            format!(
                "[[actions]] takes {taken} steps in all, but states_visited = {}, \
                 walks_done = {} and walks_terminal = {} make {steps}",
                f.states_visited, f.walks_done, f.walks_terminal
            ),
        ));
    }
    let props = model::walk::properties(cfg);
    let kind_of = |name: &str| props.iter().find(|p| p.0 == name).map(|p| p.1);
    // The walk numbers a shard's run may name: its own, among those it finished (a
    // merged run's are its shards', each within its own shard's share).
    let finished = |walk: u64| {
        walk < plan.walks
            && walk % plan.shard_n == plan.shard_k - 1
            && (f.distinct_shards > 1 || walk / plan.shard_n < f.walks_done)
    };
    let not_finished = |walk: u64| {
        format!(
            "walk {walk} is not a walk this run finished (shard {}/{} of {} walks runs the \
             walks i with i % {} = {}; walks_done = {})",
            plan.shard_k,
            plan.shard_n,
            plan.walks,
            plan.shard_n,
            plan.shard_k - 1,
            f.walks_done
        )
    };
    // Each violation and witness: a property of its kind (an invariant, `always`, or a
    // `sometimes`), listed once in name order, in a walk this run finished, no deeper
    // than the deepest walk. (table, name key, property, walk, depth, kind.)
    let listed = f
        .violations
        .iter()
        .map(|v| {
            (
                "violations",
                "invariant",
                &v.invariant,
                v.walk,
                v.depth,
                true,
            )
        })
        .chain(
            f.reached
                .iter()
                .map(|r| ("reached", "property", &r.property, r.walk, r.depth, false)),
        );
    let mut last: Option<(&str, &str)> = None;
    let mut index = 0;
    for (table, name_key, name, walk, depth, always) in listed {
        if last.is_some_and(|(t, _)| t != table) {
            index = 0;
        }
        let key = |k: &str| format!("{table}.{index}.{k}");
        if kind_of(name) != Some(always) {
            let kind = if always {
                "an invariant"
            } else {
                "a `sometimes` property"
            };
            return Err(file(
                &key(name_key),
                format!("`{name}` is not {kind} of the model"),
            ));
        }
        if last.is_some_and(|(t, l)| t == table && l >= name.as_str()) {
            return Err(file(
                &key(name_key),
                format!(
                    "`{name}` listed out of order or twice: owm lists each {name_key} once, \
                     in name order"
                ),
            ));
        }
        last = Some((table, name));
        if !finished(walk) {
            return Err(file(&key("walk"), not_finished(walk)));
        }
        if depth == 0 || depth > f.deepest {
            return Err(file(
                &key("depth"),
                format!("depth = {depth}, but deepest = {}", f.deepest),
            ));
        }
        index += 1;
    }
    // A violation's trace is named after its invariant.
    for (i, v) in f.violations.iter().enumerate() {
        if v.trace != trace_name(&v.invariant) {
            return Err(file(
                &format!("violations.{i}.trace"),
                format!(
                    "trace = \"{}\", but the trace of {} is {}",
                    v.trace,
                    v.invariant,
                    trace_name(&v.invariant)
                ),
            ));
        }
    }
    Ok(())
}

/// Checks that the shard directory `dir` holds `walks.toml` (`f`) and the traces it
/// lists, and nothing else: a trace it does not list (its `[[violations]]` cut or
/// edited) or any other file (not of this run) is refused, named.
fn check_listing(dir: &Path, f: &WalkFile) -> Result<()> {
    let ctx = || format!("{}: cannot read the shard directory", dir.shown());
    let mut names: Vec<std::ffi::OsString> = Vec::new();
    for e in std::fs::read_dir(dir).with_context(ctx)? {
        names.push(e.with_context(ctx)?.file_name());
    }
    names.sort();
    for n in names {
        let listed = n == WALK_FILE || f.violations.iter().any(|v| n == v.trace.as_str());
        if listed {
            continue;
        }
        let path = dir.join(&n);
        if n.to_string_lossy().ends_with(".trace") {
            bail!(
                "{}: a trace walks.toml does not list (its [[violations]] cut short or \
                 edited, or the trace is of another run): a shard directory holds walks.toml \
                 and the traces it lists, nothing else",
                path.shown()
            );
        }
        bail!(
            "{}: not written by this run (a shard directory holds walks.toml and the \
             traces it lists, nothing else): remove it, or run the shard again",
            path.shown()
        );
    }
    Ok(())
}

/// Words for a depth bound: `depth ≤ 20`, `no depth bound`.
fn depth_words(depth: Option<usize>) -> String {
    depth.map_or_else(|| "no depth bound".to_string(), |d| format!("depth ≤ {d}"))
}

/// `owm merge` of random-walk shards: refuses an `--out` that is an input, a shard
/// that does not read back whole ([`read_shard`]), shards of different runs (shard
/// count, model, depth bound, seed or walks: each named with both values and both
/// shards), a shard given twice or missing; writes the traces and `walks.toml` of the
/// whole run into `out`, prints the merged report and returns its verdict's exit
/// status.
pub fn merge(dirs: &[PathBuf], out: &Path, verdict: &VerdictArgs) -> Result<Exit> {
    crate::outdir::refuse_input_as_out(dirs, out)?;
    // `--out` is checked before any work (and its staging directory made).
    let staging = crate::outdir::prepare(out, "--out")?;
    let parts = dirs
        .iter()
        .map(|d| read_shard(d))
        .collect::<Result<Vec<_>>>()?;
    let Some((first, first_label)) = parts.first() else {
        bail!("no shard directories given");
    };
    for (i, (p, label)) in parts.iter().enumerate() {
        let differ = |what: String, theirs: String| -> Result<()> {
            bail!(
                "{label}: {what}, but {first_label} {theirs}: the shards come from different runs"
            )
        };
        if p.plan.shard_n != first.plan.shard_n {
            bail!(
                "{label}: of {}, but {} is of {}: the shards come from different runs",
                sim::number_text::counted(p.plan.shard_n, "shard", "shards"),
                dirs[0].shown(),
                first.plan.shard_n
            );
        }
        if let Some(j) = parts[..i]
            .iter()
            .position(|(q, _)| q.plan.shard_k == p.plan.shard_k)
        {
            bail!(
                "{label}: given twice (also {}); {} once",
                dirs[j].shown(),
                crate::sweep::each_shard(p.plan.shard_n)
            );
        }
        if p.config.model_flags() != first.config.model_flags() {
            differ(
                format!("model `{}`", p.config.model_flags()),
                format!("has `{}`", first.config.model_flags()),
            )?;
        }
        if p.config.depth != first.config.depth {
            differ(
                depth_words(p.config.depth),
                format!("has {}", depth_words(first.config.depth)),
            )?;
        }
        if p.plan.seed != first.plan.seed {
            differ(
                format!("seed {}", p.plan.seed),
                format!("has seed {}", first.plan.seed),
            )?;
        }
        if p.plan.walks != first.plan.walks {
            differ(
                format!("{} walks in all", p.plan.walks),
                format!("is of {}", first.plan.walks),
            )?;
        }
    }
    let merged =
        WalkReport::merge(parts.into_iter().map(|(p, _)| p).collect()).map_err(|e| match e {
            model::ModelError::Config(m) => anyhow::anyhow!("cannot merge the walk shards: {m}"),
            e => e.into(),
        })?;
    let reproduce = [
        crate::shell_word::merge_command(dirs, out, crate::shell_word::shell_word),
        crate::shell_word::merge_command(dirs, out, crate::shell_word::absolute_word),
    ];
    finish("merge", &merged, staging, out, verdict, &reproduce)
}
