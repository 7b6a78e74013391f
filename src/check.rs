//! `owm check`: the model checker's face. Explores every interleaving of a small
//! configuration (model crate, stateright over the real engine), prints each property
//! held / violated, writes every counterexample as a trace file that `owm check
//! --replay` (or a test) re-executes, and exits non-zero on any violation so a CI
//! pipeline fails.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use model::{CheckConfig, Discipline, Locks, Outcome, Strategy, Trace};

/// Flags of `owm check`; every model flag defaults to `CheckConfig::default()`.
#[derive(clap::Args)]
pub struct CheckArgs {
    /// Engine variant: mirroring, logging or cow (default cow).
    #[arg(long)]
    variant: Option<engine::Variant>,
    /// Transactions active at the split (default 2).
    #[arg(long)]
    old: Option<usize>,
    /// Transactions starting after the split (default 2).
    #[arg(long)]
    new: Option<usize>,
    /// Records sharing one block (default 1).
    #[arg(long)]
    records_per_block: Option<u64>,
    /// Application lock granularity: record or block (default block).
    #[arg(long)]
    locks: Option<Locks>,
    /// Locking discipline: conservative or incremental (default conservative).
    #[arg(long)]
    discipline: Option<Discipline>,
    /// Type (b) locks held from the split until the old transactions end: on or off.
    #[arg(long, value_parser = model::config::parse_on_off)]
    type_b: Option<bool>,
    /// Transactions may abort and roll back: on or off (default on).
    #[arg(long, value_parser = model::config::parse_on_off)]
    aborts: Option<bool>,
    /// Checker threads (default: every core).
    #[arg(long)]
    threads: Option<usize>,
    /// Explore at most this many steps deep (default: the whole space).
    #[arg(long)]
    depth: Option<usize>,
    /// Depth first (far less memory) instead of breadth first (shortest traces).
    #[arg(long)]
    dfs: bool,
    /// Where counterexample traces are written (default out/check).
    #[arg(long, default_value = "out/check")]
    trace_dir: PathBuf,
    /// Replay a trace file instead of checking: re-run its steps against the engine
    /// and confirm the violation it names.
    #[arg(long, value_name = "TRACE")]
    replay: Option<PathBuf>,
}

impl CheckArgs {
    fn config(&self) -> CheckConfig {
        let mut c = CheckConfig::default();
        if let Some(v) = self.variant {
            c.variant = v;
        }
        c.old = self.old.unwrap_or(c.old);
        c.new = self.new.unwrap_or(c.new);
        c.records_per_block = self.records_per_block.unwrap_or(c.records_per_block);
        c.locks = self.locks.unwrap_or(c.locks);
        c.discipline = self.discipline.unwrap_or(c.discipline);
        c.type_b = self.type_b.unwrap_or(c.type_b);
        c.aborts = self.aborts.unwrap_or(c.aborts);
        c.threads = self.threads.unwrap_or(c.threads);
        c.depth = self.depth.or(c.depth);
        if self.dfs {
            c.strategy = Strategy::Dfs;
        }
        c
    }
}

pub fn check(args: &CheckArgs) -> Result<()> {
    if let Some(path) = &args.replay {
        return replay(path);
    }
    let cfg = args.config();
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let mut on_progress = |p: model::Progress| {
        bar.set_message(format!(
            "{} unique states, {:.0} states/s",
            p.unique_states,
            p.states_per_sec()
        ));
    };
    let report = model::check_with_progress(&cfg, Some(&mut on_progress));
    bar.finish_and_clear();
    let report = report?;
    say!("{}", report.render().trim_end());
    let mut written = Vec::new();
    for p in &report.properties {
        if let Outcome::Violated { trace, .. } = &p.outcome {
            written.push(write_trace(&args.trace_dir, trace)?);
        }
    }
    for w in &written {
        say!(
            "counterexample written to {} (replay: owm check --replay {})",
            w.display(),
            w.display()
        );
    }
    say!("reproduce: owm check {}", cfg.model_flags());
    if !report.ok() {
        let violated = report.violated();
        if violated.is_empty() {
            bail!("a `sometimes` property was never reached: its invariants hold vacuously");
        }
        bail!("violated: {}", violated.join(", "));
    }
    Ok(())
}

fn write_trace(dir: &Path, trace: &Trace) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("{}: cannot create the trace directory", dir.display()))?;
    let name: String = trace
        .violates
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let path = dir.join(format!("{name}.trace"));
    reports::write_atomic(&path, trace.to_text().as_bytes())?;
    Ok(path)
}

fn replay(path: &Path) -> Result<()> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let trace = Trace::from_text(&text).with_context(|| format!("{}", path.display()))?;
    let shown = model::render(&trace).with_context(|| format!("{}", path.display()))?;
    say!("{}", shown.trim_end());
    // The exit status says what `owm check` would: an invariant is violated.
    bail!(
        "violated: {} (reproduced from {})",
        trace.violates,
        path.display()
    )
}
