//! `owm sweep` and `owm merge`: a grid of scenarios (axes × policies × seeds), one CSV
//! row per grid point, one line plot per metric with a line per policy.
//!
//! Grid order: the axes in file order (the first is the outermost loop), then the
//! policies in file order, then the seeds (innermost). A point's index in that order is
//! the CSV's `index` column. `--shard K/N` runs exactly the points with
//! `index % N == K - 1` (round robin, so slow and fast regions of the grid spread over
//! the shards); `owm merge` sorts the shards' rows by index and writes the same bytes
//! one unsharded run writes, because every output is a function of (the sweep file's
//! bytes, the rows). The rows of every shard come from the same bytes of each trace
//! file the sweep replays: shards record their traces' digests and merge refuses a
//! mix (`traces.rs`). Each shard also keeps its points' verdicts (`points.json`:
//! [`PointVerdicts`]), which the merge replays in grid order, so its verdicts (cases,
//! lines, lost backups, exit status) are the unsharded sweep's too.

mod file;
mod grid;
mod plots;
mod resume;
mod traces;

use engine::shown::ShowName as _;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use reports::tables;
use sim::number_text::counted;

pub use grid::Shard;

use crate::run::default_out;
use crate::sweep_stats;
use crate::verdict::{Exit, Report, VerdictArgs};
use crate::{config, outdir};
use file::load;
use grid::{run_points, Sweep};
use plots::line_plots;

/// `owm sweep`: loads and checks the whole grid and the output directory, runs the
/// points (a failed point is reported, not fatal), writes into a staging directory
/// that replaces `--out` whole, and returns the verdict's exit status.
///
/// An error (exit 2, or 3 for a limit) is recorded in the `--json` and `--junit` files
/// as a failed case `run` of the sweep file ([`VerdictArgs::record_error`]), never
/// over an input (the sweep file, a trace it replays).
pub fn sweep(
    file: &Path,
    out: Option<PathBuf>,
    shard: Option<Shard>,
    jobs: usize,
    quiet: bool,
    resume: bool,
    verdict: &VerdictArgs,
) -> Result<Exit> {
    let dir = out.clone().unwrap_or_else(|| default_out(file));
    let mut traces = Vec::new();
    let mut ran = None;
    let result = verdict
        .preflight(Some(("--out", &dir)), &[("the sweep file", file)])
        .and_then(|()| {
            sweep_checked(
                file,
                out,
                shard,
                jobs,
                quiet,
                resume,
                verdict,
                &mut traces,
                &mut ran,
            )
        });
    let mut inputs: Vec<crate::verdict::Input> = vec![("the sweep file", file)];
    inputs.extend(
        traces
            .iter()
            .map(|t| ("a trace the sweep replays (workload.path)", t.as_path())),
    );
    let suite = file.display().to_string();
    match (result, ran) {
        // Every point ran, its outputs could not be written: the verdict files keep
        // the points' verdicts beside the error, as `owm run`'s keep its finished
        // policies'.
        (Err(e), Some(report)) => {
            let exit = verdict
                .writable_only(Some(("--out", &dir)), &inputs)
                .finish_failed(report, &suite, &e);
            if exit == crate::verdict::exit_of_error(&e) {
                Err(e)
            } else {
                // A violation a point proved outranks the error's status.
                tell!("error: {}", crate::verdict::error_text(&e));
                Ok(exit)
            }
        }
        (result, _) => {
            verdict.record_error(result, "sweep", &suite, Some(("--out", &dir)), &inputs)
        }
    }
}

/// [`sweep`] once its verdict files passed their checks; `traces` receives the trace
/// files the sweep replays as soon as they are known, and `unpublished` the report of every
/// point's verdicts when the points ran but their outputs could not be written.
#[allow(clippy::too_many_arguments)]
fn sweep_checked(
    file: &Path,
    out: Option<PathBuf>,
    shard: Option<Shard>,
    jobs: usize,
    quiet: bool,
    resume: bool,
    verdict: &VerdictArgs,
    replayed: &mut Vec<PathBuf>,
    unpublished: &mut Option<Report>,
) -> Result<Exit> {
    let src = config::read(file)?;
    let sw = load(file, &src)?;
    replayed.extend(sw.traces.iter().map(|t| PathBuf::from(&t.file)));
    let traces: Vec<crate::verdict::Input> = sw
        .traces
        .iter()
        .map(|t| {
            (
                "a trace the sweep replays (workload.path)",
                Path::new(&t.file),
            )
        })
        .collect();
    verdict.refuse_inputs(&traces)?;
    let out = out.unwrap_or_else(|| default_out(file));
    let total = sw.points();
    let selected: Vec<usize> = (0..total)
        .filter(|&i| shard.is_none_or(|s| s.holds(i)))
        .collect();
    // What the process keeps of every point, beside one running, within the bound.
    let verdict_files = verdict.json.is_some() || verdict.junit.is_some();
    let plan = grid::MemoryPlan::of(&sw, &selected, shard.is_some(), verdict_files);
    // Judged on the points still to run: those a resume takes as finished run no more.
    let kept_now = resume::kept_indices(&out, &src, &sw.traces, resume);
    let to_run: Vec<usize> = selected
        .iter()
        .copied()
        .filter(|i| kept_now.binary_search(i).is_err())
        .collect();
    grid::refuse_past_memory(file, &src, &sw, &plan, &to_run)?;
    let staging = outdir::prepare(&out, "--out")?;
    say!(
        "sweep {}: {} ({} x {} x {}){}",
        file.shown(),
        counted(total as u64, "grid point", "grid points"),
        counted(
            sw.combos.len() as u64,
            "axis combination",
            "axis combinations"
        ),
        counted(sw.spec.policies.len() as u64, "policy", "policies"),
        counted(sw.spec.seeds.len() as u64, "seed", "seeds"),
        shard
            .map(|s| {
                format!(
                    ", shard {}/{}: {}",
                    s.k,
                    s.n,
                    counted(selected.len() as u64, "point", "points")
                )
            })
            .unwrap_or_default()
    );
    let shard_arg = shard
        .map(|s| format!(" --shard {}/{}", s.k, s.n))
        .unwrap_or_default();
    // As printed, and by absolute paths for the verdict files (read from anywhere).
    let command = |word: fn(&Path) -> String| {
        format!(
            "owm sweep {}{shard_arg} --out {}{}",
            word(file),
            word(&out),
            verdict.reproduce_suffix()
        )
    };
    let reproduce = command(crate::shell_word::shell_word);
    let mut report = Report::new(
        "sweep",
        command(crate::shell_word::absolute_word),
        verdict.allow_violations,
    );
    report.seeds = sw.spec.seeds.clone();
    report.suite_reproduce = grid::point_commands(&sw, file, selected.iter().copied());
    let (kept, mut finished) = resume::Kept::open(&out, &src, &sw.traces, resume)?;
    // A kept point must be one this run selects, with its grid point's row.
    let width = sw.header().len();
    for (&i, p) in &finished {
        // `selected` is in grid order: a search, not a scan, for each kept point.
        let in_run = selected.binary_search(&i).is_ok();
        let fits = in_run && p.row.len() == width && {
            let key = grid::row_key(&sw, i);
            p.row[..key.len()] == key[..]
        };
        let exact = p.fractions.len() == tables::sweep_fraction_metrics().len();
        if !fits || !exact {
            let why = if i >= total {
                format!("grid index {i}, but the grid has {total} points")
            } else if !in_run {
                format!(
                    "grid index {i} is not in this run's shard (kept by a run of another \
                     --shard into the same --out)"
                )
            } else if fits {
                "it lacks the exact values of its fractional cells (kept by an owm that \
                 kept none)"
                    .to_string()
            } else {
                format!(
                    "its row is not that of {} (edited or damaged)",
                    grid::point_name(&sw, i)
                )
            };
            bail!(
                "{}: not a kept grid point of this run: {why}; remove it, or run without \
                 --resume",
                kept.file_of(i).shown()
            );
        }
    }
    // Refused rather than run again: an edit is not an accident a resume should paper
    // over, and `owm merge` refuses an edited shard the same way.
    if let Some((&i, why)) = kept.unpinned.iter().next() {
        bail!(
            "{}: not a kept grid point of this run: {why}; remove it, or run without --resume",
            kept.file_of(i).shown()
        );
    }
    if let Some(&first) = kept.lost.first() {
        let (is, more, its, it) = if kept.lost.len() == 1 {
            (" is", "", "its", "it")
        } else {
            ("s are", ", …", "their", "them")
        };
        say!(
            "--resume: {} kept point{is} empty ({}{more}): kept just before a power loss or \
             a crash of the system, which wrote {its} name and not yet {its} bytes; running \
             {it} again",
            kept.lost.len(),
            kept.file_of(first).shown(),
        );
    }
    if !finished.is_empty() {
        say!(
            "resuming: {} grid points kept from an interrupted run",
            finished.len()
        );
    }
    let todo: Vec<usize> = selected
        .iter()
        .copied()
        .filter(|i| !finished.contains_key(i))
        .collect();
    // The points that run at once share the process's memory bound with what it keeps
    // of every point and the line plots it draws on as many threads.
    let run_jobs = grid::jobs_within_memory(file, &src, &sw, &plan, &todo, jobs);
    let points = run_points(file, &sw, &todo, run_jobs, quiet, &|i, p| kept.keep(i, p))?;
    let run_jobs = run_jobs.0;
    let ran = points.iter().filter(|p| p.is_some()).count();
    for (&i, p) in todo.iter().zip(points) {
        if let Some(p) = p {
            finished.insert(i, p);
        }
    }
    if finished.len() < selected.len() {
        // The verdicts of the points done count in the verdict line and files, as a
        // run's finished policies' do; each point not done is a failed case `run`
        // (JUnit `<error>`), so the interrupt counts as incomplete there too.
        let done = finished.len();
        let not_done: Vec<usize> = selected
            .iter()
            .copied()
            .filter(|i| !finished.contains_key(i))
            .collect();
        for (index, point) in finished {
            PointVerdicts {
                index,
                fractions: Vec::new(),
                row_sha256: None,
                cases: point.cases,
                messages: point.messages,
                backups_lost: point.backups_lost,
                backup_cycles_lost: point.backup_cycles_lost,
                backups_retried: point.backups_retried,
            }
            .hand_over(&mut report);
        }
        let what = format!(
            "{} of {} grid points done and kept ({ran} in this run); {} left as it was; \
             rerun with --resume to finish",
            done,
            selected.len(),
            out.shown()
        );
        say!("interrupted: {what}");
        for i in not_done {
            report.push(
                grid::point_name(&sw, i),
                "run",
                crate::verdict::Outcome::Failed {
                    reason: format!(
                        "not run: interrupted ({}); rerun with --resume to run it",
                        crate::interrupt::signal_name()
                    ),
                },
            );
        }
        report.cut();
        return verdict.finish(&report);
    }
    let mut rows = Vec::with_capacity(selected.len());
    let mut fractions = Vec::with_capacity(if shard.is_some() { 0 } else { selected.len() });
    // A shard keeps each point's verdicts and exact fractions for its `points.json`,
    // beside the report's copy of the verdicts; an unsharded sweep hands them to the
    // report, one copy (`sim::footprint::SWEEP_CASE_BYTES`).
    let mut verdicts = Vec::with_capacity(if shard.is_some() { selected.len() } else { 0 });
    for (index, point) in finished {
        let v = PointVerdicts {
            index,
            fractions: if shard.is_some() {
                point.fractions
            } else {
                fractions.push(point.fractions);
                Vec::new()
            },
            row_sha256: shard.is_some().then(|| row_sha256(&point.row)),
            cases: point.cases,
            messages: point.messages,
            backups_lost: point.backups_lost,
            backup_cycles_lost: point.backup_cycles_lost,
            backups_retried: point.backups_retried,
        };
        if shard.is_some() {
            v.replay(&mut report);
            verdicts.push(v);
        } else {
            v.hand_over(&mut report);
        }
        rows.push(point.row);
    }
    let files = (|| match shard {
        Some(s) => {
            let (mut w, notes) = write_files(staging.path(), &src, &sw, rows, None)?;
            let csv = std::fs::read(staging.path().join(CSV_FILE))
                .with_context(|| format!("{}: cannot read back", CSV_FILE))?;
            let mut points =
                serde_json::to_vec_pretty(&verdicts).context("encoding points.json")?;
            points.push(b'\n');
            reports::write_atomic(&staging.path().join(POINTS_FILE), &points)?;
            w.push(POINTS_FILE.to_string());
            let traces = sw.traces_of(&selected);
            let marker = shard_file(s, total, file, &src, &csv, &points, traces)?;
            reports::write_atomic(&staging.path().join(SHARD_FILE), marker.as_bytes())?;
            w.push(SHARD_FILE.to_string());
            Ok((w, notes))
        }
        None => write_files(staging.path(), &src, &sw, rows, Some((fractions, run_jobs))),
    })();
    // Every point ran and is kept: `--resume` writes the outputs without running one.
    let unwritten = |e: anyhow::Error| {
        e.context(format!(
            "the outputs could not be written, after every grid point ran; nothing written, \
             {} left as it was; rerun with --resume to write them",
            out.shown()
        ))
    };
    let (written, notes) = match files {
        Ok(files) => files,
        Err(e) => {
            *unpublished = Some(report);
            return Err(unwritten(e));
        }
    };
    outdir::pause_point("commit");
    if crate::interrupt::requested() {
        // Every point ran and is kept; the outputs were being written: none is
        // published, and `--resume` writes them without running a point again.
        let what = format!(
            "while writing the outputs: {n} of {n} grid points done and kept; {} left as \
             it was; rerun with --resume to finish",
            out.shown(),
            n = selected.len()
        );
        say!("interrupted {what}");
        report.push(
            "sweep",
            "outputs",
            crate::verdict::Outcome::Failed {
                reason: format!("interrupted ({}) {what}", crate::interrupt::signal_name()),
            },
        );
        report.cut();
        return verdict.finish(&report);
    }
    if let Err(e) = staging.commit() {
        *unpublished = Some(report);
        return Err(unwritten(e));
    }
    kept.finish();
    for w in written {
        say!("wrote {}", out.join(w).shown());
    }
    if crate::interrupt::requested() {
        // Too late to stop: the outputs are published whole, the sweep is complete.
        say!(
            "interrupted after {} was published: the sweep had finished, its outputs are \
             complete; nothing was stopped",
            out.shown()
        );
    }
    for note in notes.into_iter().chain(report.retried_note()) {
        say!("{note}");
    }
    if let Some(s) = shard {
        say!(
            "merge with: owm merge <the {} shard directories> --out DIR",
            s.n
        );
    }
    say!("reproduce: {}", reproduce.shown());
    verdict.finish(&report)
}

const SHARD_FILE: &str = "shard.toml";
const POINTS_FILE: &str = "points.json";
const CSV_FILE: &str = "sweep.csv";
const SPEC_FILE: &str = "sweep.toml";
const STATS_FILE: &str = "stats.csv";
/// The index of a sweep's plots: which metric, difference and values of the other axes
/// each file shows ([`plots::index_header`]).
const PLOTS_FILE: &str = "plots.csv";

/// True when `dir` holds something at a sweep output's `sweep.toml` or a shard's
/// `shard.toml` (whether it reads is [`merge`]'s to say).
pub fn is_sweep_output(dir: &Path) -> bool {
    [SPEC_FILE, SHARD_FILE]
        .iter()
        .any(|f| !crate::config::absent(&dir.join(f)))
}

/// The available cores: the default of `--jobs`.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Writes `sweep.csv`, a copy of the sweep file (`sweep.toml`: what merge re-reads), and
/// with `plots_jobs` (the exact values of each row's fractional cells, `Point::fractions`,
/// and a thread count) the statistics and the line plots (computed from the rows with
/// their fractional cells exact; drawn on that many threads, each written as soon as it
/// is drawn: the bytes do not depend on it), into `out`; returns
/// the file names (the plots' in plot order)
/// and the lines to print after them: when some rows of the statistics have seeds that
/// all gave the same value ([`sweep_stats::no_spread_note`]) or an interval reaching
/// below 0 where no seed did ([`sweep_stats::below_floor_note`]), and when a plot has no
/// value at any point ([`plots::no_value_note`]).
fn write_files(
    out: &Path,
    src: &str,
    sw: &Sweep,
    mut rows: Vec<Vec<String>>,
    plots_jobs: Option<(Vec<Vec<String>>, usize)>,
) -> Result<(Vec<String>, Vec<String>)> {
    let mut written = vec![CSV_FILE.to_string(), SPEC_FILE.to_string()];
    let mut notes = Vec::new();
    tables::write_table(&out.join(CSV_FILE), &sw.header(), &rows)?;
    reports::write_atomic(&out.join(SPEC_FILE), src.as_bytes())?;
    if let Some((fractions, jobs)) = plots_jobs {
        sweep_stats::exact_rows(&sw.header(), &mut rows, fractions);
        let rows = &rows;
        let axes: Vec<String> = sw.spec.axis.iter().map(|a| a.key.clone()).collect();
        let baseline = sw.spec.baseline.map(|b| b.as_str());
        let stats = sweep_stats::rows(&sw.header(), rows, axes.len(), &sw.spec.metrics, baseline);
        tables::write_table(
            &out.join(STATS_FILE),
            &sweep_stats::header(&axes, baseline.is_some()),
            &stats,
        )?;
        written.push(STATS_FILE.to_string());
        let plots = line_plots(sw, rows);
        tables::write_table(
            &out.join(PLOTS_FILE),
            &plots::index_header(sw),
            &plots::index_rows(sw, &plots),
        )?;
        written.push(PLOTS_FILE.to_string());
        notes.extend(sweep_stats::aborted_pairs_note(
            &sw.header(),
            rows,
            axes.len(),
            &sw.spec.metrics,
            baseline,
        ));
        notes.extend(sweep_stats::no_spread_note(&axes, &stats, baseline));
        notes.extend(sweep_stats::below_floor_note(
            &axes,
            &stats,
            baseline,
            &sw.header(),
            rows,
        ));
        notes.extend(plots::no_value_note(&sw.spec.metrics, &plots));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(jobs.max(1))
            .build()
            .context("starting the plot threads")?;
        // Each plot written as soon as it is drawn: a thread holds one plot's picture
        // and files at a time, never every plot's (`sim::footprint::LINE_PLOT_BYTES`).
        let drawn: Vec<[String; 2]> = pool.install(|| {
            use rayon::prelude::*;
            plots
                .par_iter()
                .map(|plots::PlotFile { name, plot, .. }| {
                    let (svg_name, png_name) = (format!("{name}.svg"), format!("{name}.png"));
                    let svg = reports::lines::render_svg(plot)?;
                    reports::write_atomic(&out.join(&svg_name), svg.as_bytes())?;
                    drop(svg);
                    let png = reports::lines::render_png(plot)?;
                    reports::write_atomic(&out.join(&png_name), &png)?;
                    Ok([svg_name, png_name])
                })
                .collect::<Result<Vec<_>>>()
        })?;
        written.extend(drawn.into_iter().flatten());
    }
    Ok((written, notes))
}

/// The digest of one row of `sweep.csv`, its cells as read back (the JSON list of
/// them: no two rows share it), that a shard's `points.json` keeps per point
/// ([`PointVerdicts::row_sha256`]).
fn row_sha256(row: &[String]) -> String {
    // A list of strings always encodes.
    sha256(&serde_json::to_vec(row).unwrap_or_default())
}

/// The hex SHA-256 of `bytes` ([`to_hex`]).
pub(crate) fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    to_hex(&sha2::Sha256::digest(bytes))
}

/// `bytes` in lowercase hex, two digits a byte: the digests `shard.toml` and the trace
/// pins of a sweep file hold.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(2 * bytes.len()), |mut hex, b| {
            // Writing to a String cannot fail.
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

/// `shard.toml`: which slice, of how many points, and digests of the sweep file, of
/// the shard's own CSV, of its `points.json` and of the traces its points replayed, so
/// `merge` can refuse edited or foreign shards and rows of two versions of a trace.
/// `points_sha256` is absent in a shard written by an owm that wrote no `points.json`:
/// merge refuses it (its verdicts cannot be those of the sweep).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ShardFile {
    shard: String,
    points: usize,
    version: String,
    sweep_sha256: String,
    rows_sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    points_sha256: Option<String>,
    /// The sweep file's path when the shard ran, made absolute (not through symbolic
    /// links): `merge` loads the shard's copy `sweep.toml` as the file at this path, so
    /// the default title (the file stem) and relative paths in it (a trace's `path`)
    /// are the unsharded sweep's. Absent when the path is not UTF-8, and in shards of
    /// an owm that recorded none: merge then loads the copy as itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sweep_file: Option<String>,
    /// The trace files the shard's grid points replay, with the digests of the bytes
    /// they replayed (`[[traces]]`: `path` as the sweep file writes it, `file` opened,
    /// `sha256`; `traces = []` when they replay none). Absent in a shard of an owm that
    /// pinned no traces: merge refuses it when the sweep replays a trace, since it
    /// cannot say which version of the trace its rows come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    traces: Option<Vec<traces::TraceDigest>>,
}

fn shard_file(
    s: Shard,
    total: usize,
    file: &Path,
    src: &str,
    csv: &[u8],
    points: &[u8],
    traces: Vec<traces::TraceDigest>,
) -> Result<String> {
    let f = ShardFile {
        shard: format!("{}/{}", s.k, s.n),
        points: total,
        version: env!("CARGO_PKG_VERSION").to_string(),
        sweep_sha256: sha256(src.as_bytes()),
        rows_sha256: sha256(csv),
        points_sha256: Some(sha256(points)),
        sweep_file: std::path::absolute(file)
            .ok()
            .and_then(|p| p.to_str().map(str::to_string)),
        traces: Some(traces),
    };
    toml::to_string(&f).context("encoding shard.toml")
}

/// The verdicts of one finished grid point as a shard keeps them in `points.json` (a
/// JSON array of these, in grid order): its grid `index`, the exact values of its
/// fractional cells (which `sweep.csv` holds rounded), its cases (per invariant, or
/// one `failed` case), the lines printed about it (its violations, its failure), and
/// its lost backup and lost backup cycles ([`Report::backups_lost`],
/// [`Report::backup_cycles_lost`]). `owm merge` replays them in grid order, so the
/// merged verdicts are the unsharded sweep's.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PointVerdicts {
    index: usize,
    /// The exact values of the point's fractional cells (`Point::fractions`): what
    /// the merged statistics are computed from (absent in a shard of an owm that kept
    /// none: merge refuses it).
    #[serde(default)]
    fractions: Vec<String>,
    /// The digest of the point's row as the shard's `sweep.csv` holds it
    /// ([`row_sha256`]): merge refuses a row that is not the one its point ran to, even
    /// with the CSV's own digest in `shard.toml` recomputed (absent in a shard of an
    /// owm that kept none: merge refuses it; never kept by an unsharded sweep).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    row_sha256: Option<String>,
    cases: Vec<crate::verdict::Case>,
    messages: Vec<String>,
    backups_lost: Vec<String>,
    backup_cycles_lost: u64,
    /// Absent in a shard of an owm that kept none: none.
    #[serde(default)]
    backups_retried: Vec<String>,
}

impl PointVerdicts {
    /// Prints the point's lines ([`Self::say`]) and adds its cases and lost backups to
    /// `report`.
    fn replay(&self, report: &mut Report) {
        self.say(report);
        for c in &self.cases {
            report.push(c.suite.clone(), c.name.clone(), c.outcome.clone());
        }
        report
            .backups_lost
            .extend(self.backups_lost.iter().cloned());
        report.backup_cycles_lost += self.backup_cycles_lost;
        report
            .backups_retried
            .extend(self.backups_retried.iter().cloned());
    }

    /// Prints the point's lines (its violations, its failure) and, when there are any,
    /// the command that runs the point alone, as `report`'s verdict files carry it
    /// ([`Report::suite_reproduce`]): `  reproduce point I: owm sweep …`.
    fn say(&self, report: &Report) {
        for m in &self.messages {
            say!("{m}");
        }
        let command = self
            .cases
            .first()
            .and_then(|c| report.suite_reproduce.get(&c.suite));
        if let (false, Some(command)) = (self.messages.is_empty(), command) {
            say!("  reproduce point {}: {}", self.index, command.shown());
        }
    }

    /// [`Self::replay`], the cases and lost backups moved into `report`, not copied.
    fn hand_over(self, report: &mut Report) {
        self.say(report);
        for c in self.cases {
            report.push(c.suite, c.name, c.outcome);
        }
        report.backups_lost.extend(self.backups_lost);
        report.backup_cycles_lost += self.backup_cycles_lost;
        report.backups_retried.extend(self.backups_retried);
    }
}

/// Joins shard outputs into the unsharded sweep's files and verdicts, refusing anything
/// that does not add up: `--out` one of the inputs, a shard whose sweep file, rows or
/// verdicts do not match the digests it recorded (or that recorded none for its
/// verdicts), shards of different sweeps or owm versions, a shard whose `points`
/// is not the grid's size, a shard given twice or missing, a row or a point's
/// verdicts that are not its grid point's, a row that is not the one its point's
/// verdicts recorded ([`PointVerdicts::row_sha256`]), shards that
/// replayed two versions of a trace or a trace that changed since they ran
/// ([`traces::check_merge`]). Every refusal names the shard K/N (and the grid index, or
/// the trace file, where there is one).
pub fn merge(dirs: &[PathBuf], out: &Path, verdict: &VerdictArgs) -> Result<Exit> {
    crate::outdir::refuse_input_as_out(dirs, out)?;
    // `--out` is checked before any work (and its staging directory made).
    let staging = outdir::prepare(out, "--out")?;
    struct Part {
        dir: PathBuf,
        shard: Shard,
        rows: Vec<Vec<String>>,
        verdicts: Vec<PointVerdicts>,
        label: String,
        marker: PathBuf,
        traces: Option<Vec<traces::TraceDigest>>,
        /// `points` in its `shard.toml`: the grid's size when it ran.
        points: usize,
    }
    // The first shard's sweep file: its copy's path, the text, the path it was run
    // from (`ShardFile::sweep_file`).
    let mut src: Option<(PathBuf, String, PathBuf)> = None;
    let mut parts: Vec<Part> = Vec::new();
    for d in dirs {
        let spec_path = d.join(SPEC_FILE);
        let s = config::read_marker(&spec_path, "not a sweep output directory")?;
        let marker_path = d.join(SHARD_FILE);
        let marker = config::read_marker(&marker_path, "not a shard output (no shard.toml)")?;
        let marker: ShardFile = toml::from_str(&marker)
            .map_err(|e| config::FileError::toml(&marker_path, &marker, &e))?;
        let (shard, k_n) = Shard::from_marker(&marker.shard, &marker.version, &marker_path, d)?;
        if sha256(s.as_bytes()) != marker.sweep_sha256 {
            bail!("{k_n}: sweep.toml does not match the digest in shard.toml (edited?)");
        }
        let csv_path = d.join(CSV_FILE);
        let csv = std::fs::read(&csv_path)
            .with_context(|| format!("{}: cannot read", csv_path.shown()))?;
        if sha256(&csv) != marker.rows_sha256 {
            bail!("{k_n}: sweep.csv does not match the digest in shard.toml (edited?)");
        }
        let origin_of = |m: &ShardFile| {
            m.sweep_file
                .as_ref()
                .map_or_else(|| spec_path.clone(), PathBuf::from)
        };
        match &src {
            Some((first, text, _)) if *text != s => bail!(
                "{k_n}: {} differs from {}: the shards come from different sweeps",
                spec_path.shown(),
                first.shown()
            ),
            // The file's name is the plots' default title: two files of one text but
            // two names are two sweeps, and a merge would take the title of whichever
            // shard came first. (One name in two directories is one file, copied to
            // another machine: its traces are checked by their digests below.)
            Some((first, _, origin)) if origin.file_stem() != origin_of(&marker).file_stem() => {
                bail!(
                    "{k_n}: ran from {}, but {} ran from {}: the shards come from \
                     different sweep files (the name is the plots' default title); merge \
                     the shards of one file",
                    origin_of(&marker).shown(),
                    first.parent().unwrap_or(first).shown(),
                    origin.shown()
                )
            }
            Some(_) => {}
            None => src = Some((spec_path.clone(), s, origin_of(&marker))),
        }
        // Shards of another count first: they share a K without being the same shard.
        if let Some(p) = parts.iter().find(|p| p.shard.n != shard.n) {
            bail!(
                "{k_n}: of {}, but {} is of {}",
                counted(shard.n, "shard", "shards"),
                p.dir.shown(),
                p.shard.n
            );
        }
        if let Some(p) = parts.iter().find(|p| p.shard.k == shard.k) {
            bail!(
                "{k_n}: given twice (also {}); {} once",
                p.dir.shown(),
                each_shard(shard.n)
            );
        }
        let (_, rows) = tables::read_table(&csv_path)?;
        let verdicts = read_points(d, &marker, &marker_path, &k_n)?;
        parts.push(Part {
            dir: d.clone(),
            shard,
            rows,
            verdicts,
            label: k_n,
            marker: marker_path,
            traces: marker.traces,
            points: marker.points,
        });
    }
    let (_, src, origin) = src.ok_or_else(|| anyhow!("no shard directories given"))?;
    let sw = load(&origin, &src)?;
    let total = sw.points();
    // The grid each shard says it ran: the sweep file's, or the shard is not its.
    if let Some(p) = parts.iter().find(|p| p.points != total) {
        bail!(
            "{}: {}: points = {}, but the grid of its sweep.toml has {} (edited?)",
            p.label,
            p.marker.shown(),
            p.points,
            counted(total as u64, "point", "points")
        );
    }
    let n = parts[0].shard.n;
    if let Some(k) = (1..=n).find(|&k| !parts.iter().any(|p| p.shard.k == k)) {
        let first = (0..total).find(|&i| Shard { k, n }.holds(i));
        bail!(
            "shard {k}/{n} is missing (it holds grid index {}{}): give all {n} shard directories",
            first.map_or("none".into(), |i| i.to_string()),
            if total > n as usize { " and more" } else { "" }
        );
    }
    // Every shard's rows come from the traces the merge reads now.
    let shard_traces: Vec<traces::ShardTraces<'_>> = parts
        .iter()
        .map(|p| traces::ShardTraces {
            label: &p.label,
            marker: &p.marker,
            recorded: p.traces.as_deref(),
            shard: p.shard,
        })
        .collect();
    traces::check_merge(&shard_traces, &sw.traces, total, &|i| sw.trace_of(i))?;
    let width = sw.header().len();
    let mut merged: Vec<Option<Vec<String>>> = vec![None; total];
    let mut verdicts: Vec<Option<&PointVerdicts>> = vec![None; total];
    for p in &parts {
        let k_n = format!("shard {}/{} ({})", p.shard.k, p.shard.n, p.dir.shown());
        for r in &p.rows {
            let i: usize = r
                .first()
                .and_then(|x| x.parse().ok())
                .filter(|&i| i < total)
                .ok_or_else(|| anyhow!("{k_n}: a row without a grid index below {total}"))?;
            if !p.shard.holds(i) {
                bail!("{k_n}: holds grid index {i}, which belongs to another shard");
            }
            let key = grid::row_key(&sw, i);
            if r.len() != width || r[..key.len()] != key[..] {
                bail!(
                    "{k_n}: the row for grid index {i} is not that grid point's ({})",
                    grid::point_name(&sw, i)
                );
            }
            if merged[i].replace(r.clone()).is_some() {
                bail!("{k_n}: holds grid index {i} twice");
            }
        }
        if let Some(i) = (0..total).find(|&i| p.shard.holds(i) && merged[i].is_none()) {
            bail!("{k_n}: lacks grid index {i} ({})", grid::point_name(&sw, i));
        }
        let points = p.dir.join(POINTS_FILE);
        for v in &p.verdicts {
            let i = v.index;
            if i >= total {
                bail!(
                    "{k_n}: {}: grid index {i}, but the grid has {total} points",
                    points.shown()
                );
            }
            if !p.shard.holds(i) {
                bail!(
                    "{k_n}: {}: holds grid index {i}, which belongs to another shard",
                    points.shown()
                );
            }
            let name = grid::point_name(&sw, i);
            if let Some(c) = v.cases.iter().find(|c| c.suite != name) {
                bail!(
                    "{k_n}: {}: grid index {i} has a verdict of `{}`, not of {name}",
                    points.shown(),
                    c.suite
                );
            }
            if verdicts[i].replace(v).is_some() {
                bail!("{k_n}: {}: holds grid index {i} twice", points.shown());
            }
            // The row sweep.csv holds is the one the point ran to.
            let csv = p.dir.join(CSV_FILE);
            match (&v.row_sha256, &merged[i]) {
                (None, _) => bail!(
                    "{k_n}: {}: grid index {i} has no digest of its sweep.csv row (written \
                     by an owm that kept none, or edited): run this shard again with this owm",
                    points.shown()
                ),
                (Some(d), Some(row)) if *d != row_sha256(row) => bail!(
                    "{k_n}: {}: the row of grid index {i} ({name}) is not the one {} \
                     recorded for it (edited?)",
                    csv.shown(),
                    points.shown()
                ),
                _ => {}
            }
        }
        if let Some(i) = (0..total).find(|&i| p.shard.holds(i) && verdicts[i].is_none()) {
            bail!(
                "{k_n}: {}: lacks the verdicts of grid index {i} ({})",
                points.shown(),
                grid::point_name(&sw, i)
            );
        }
    }
    let rows: Vec<Vec<String>> = merged.into_iter().flatten().collect();
    let fraction_count = tables::sweep_fraction_metrics().len();
    let mut fractions = Vec::with_capacity(total);
    for (i, v) in verdicts.iter().enumerate() {
        // Every index has its verdicts: checked above.
        let Some(v) = v else { continue };
        if v.fractions.len() != fraction_count {
            let p = parts.iter().find(|p| p.shard.holds(i));
            bail!(
                "{}: {}: grid index {i} has {} exact fractional values, not {fraction_count} \
                 (written by an owm that kept none, or edited): run this shard again with \
                 this owm",
                p.map_or(String::new(), |p| p.label.clone()),
                p.map_or(PathBuf::new(), |p| p.dir.join(POINTS_FILE))
                    .shown(),
                v.fractions.len()
            );
        }
        fractions.push(v.fractions.clone());
    }
    // As printed, and by absolute paths for the verdict files (read from anywhere).
    let command = |word: fn(&Path) -> String| {
        format!(
            "{}{}",
            crate::shell_word::merge_command(dirs, out, word),
            verdict.reproduce_suffix()
        )
    };
    let reproduce = command(crate::shell_word::shell_word);
    let mut report = Report::new(
        "merge",
        command(crate::shell_word::absolute_word),
        verdict.allow_violations,
    );
    report.merged = Some("sweep");
    report.seeds = sw.spec.seeds.clone();
    report.suite_reproduce = grid::point_commands(&sw, &origin, 0..total);
    // Each point's verdicts as its shard judged them, in grid order: the unsharded
    // sweep's cases, lines and lost backups.
    for v in verdicts.into_iter().flatten() {
        v.replay(&mut report);
    }
    let (written, notes) =
        write_files(staging.path(), &src, &sw, rows, Some((fractions, cores())))?;
    staging.commit()?;
    for w in written {
        say!("wrote {}", out.join(w).shown());
    }
    for note in notes.into_iter().chain(report.retried_note()) {
        say!("{note}");
    }
    say!("reproduce: {}", reproduce.shown());
    verdict.finish(&report)
}

/// The verdicts of the shard in `dir` (`points.json`), checked against the digest its
/// `shard.toml` (`marker`, read from `marker_path`) pins. `k_n` labels the shard in
/// refusals.
///
/// Errors (exit 2, naming the shard and the file): a `shard.toml` that pins no
/// `points.json` (written by an owm that kept no per-point verdicts: merging its CSV
/// alone could not give the sweep's verdicts), a missing or unreadable file, bytes
/// that do not match the digest, JSON that is not a list of grid point verdicts.
fn read_points(
    dir: &Path,
    marker: &ShardFile,
    marker_path: &Path,
    k_n: &str,
) -> Result<Vec<PointVerdicts>> {
    let path = dir.join(POINTS_FILE);
    let Some(pinned) = &marker.points_sha256 else {
        bail!(
            "{k_n}: {} pins no {POINTS_FILE} (written by an owm that kept no per-point \
             verdicts, so merging would lose them): run this shard again with this owm",
            marker_path.shown()
        );
    };
    let bytes = std::fs::read(&path)
        .with_context(|| format!("{k_n}: {}: cannot read the shard's verdicts", path.shown()))?;
    if sha256(&bytes) != *pinned {
        bail!(
            "{k_n}: {} does not match the digest in shard.toml (edited?)",
            path.shown()
        );
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        anyhow!(
            "{k_n}: {}: not a list of grid point verdicts: {e}",
            path.shown()
        )
    })
}

/// How a message asks for every one of `n` shards: "each of the 3 shards", "the one
/// shard".
pub(crate) fn each_shard(n: u64) -> String {
    if n == 1 {
        "the one shard".to_string()
    } else {
        format!("each of the {n} shards")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_grid() {
        let shards: Vec<Shard> = (1..=3).map(|k| Shard { k, n: 3 }).collect();
        for i in 0..100 {
            assert_eq!(shards.iter().filter(|s| s.holds(i)).count(), 1);
        }
        assert!("0/3".parse::<Shard>().is_err());
        assert!("4/3".parse::<Shard>().is_err());
        assert!("a/b".parse::<Shard>().is_err());
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { k: 2, n: 3 }));
    }

    /// Two lowercase digits a byte, leading zeros kept; a file's digest read in pieces
    /// is that of its bytes whole (FIPS 180-2's `abc` vector, and a file larger than
    /// one piece).
    #[test]
    fn digests_are_lowercase_hex_of_every_byte() {
        assert_eq!(to_hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(to_hex(&[]), "");
        assert_eq!(
            sha256(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let dir = tempfile::tempdir().unwrap();
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let path = dir.path().join("t.bin");
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(traces::sha256_file(&path).unwrap(), sha256(&bytes));
    }
}
