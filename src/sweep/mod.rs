//! `owm sweep` and `owm merge`: a grid of scenarios (axes × policies × seeds), one CSV
//! row per grid point, one line plot per metric with a line per policy.
//!
//! Grid order: the axes in file order (the first is the outermost loop), then the
//! policies in file order, then the seeds (innermost). A point's index in that order is
//! the CSV's `index` column. `--shard K/N` runs exactly the points with
//! `index % N == K - 1` (round robin, so slow and fast regions of the grid spread over
//! the shards); `owm merge` sorts the shards' rows by index and writes the same bytes
//! one unsharded run writes, because every output is a function of (the sweep file's
//! bytes, the rows).

mod file;
mod grid;
mod plots;
mod resume;

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use reports::tables;

pub use grid::Shard;

use crate::run::default_out;
use crate::sweep_stats;
use crate::verdict::{Exit, Outcome, Report, VerdictArgs};
use crate::{config, outdir};
use file::load;
use grid::{run_points, Sweep};
use plots::line_plots;

/// `owm sweep`: loads and checks the whole grid and the output directory, runs the
/// points (a failed point is reported, not fatal), writes into a staging directory
/// that replaces `--out` whole, and returns the verdict's exit status.
pub fn sweep(
    file: &Path,
    out: Option<PathBuf>,
    shard: Option<Shard>,
    jobs: usize,
    quiet: bool,
    resume: bool,
    verdict: &VerdictArgs,
) -> Result<Exit> {
    let src = config::read(file)?;
    let sw = load(file, &src)?;
    let out = out.unwrap_or_else(|| default_out(file));
    let staging = outdir::prepare(&out, "--out")?;
    let total = sw.points();
    let selected: Vec<usize> = (0..total)
        .filter(|&i| shard.is_none_or(|s| s.holds(i)))
        .collect();
    say!(
        "sweep {}: {total} grid points ({} axis combinations x {} policies x {} seeds){}",
        file.display(),
        sw.combos.len(),
        sw.spec.policies.len(),
        sw.spec.seeds.len(),
        shard
            .map(|s| format!(", shard {}/{}: {} points", s.k, s.n, selected.len()))
            .unwrap_or_default()
    );
    let shard_arg = shard
        .map(|s| format!(" --shard {}/{}", s.k, s.n))
        .unwrap_or_default();
    let reproduce = format!(
        "owm sweep {}{shard_arg} --out {}{}",
        file.display(),
        out.display(),
        verdict.reproduce_suffix()
    );
    let mut report = Report::new("sweep", reproduce.clone(), verdict.allow_violations);
    report.seeds = sw.spec.seeds.clone();
    let (kept, mut finished) = resume::Kept::open(&out, &src, resume)?;
    // A kept point must be one this run selects, with its grid point's row.
    let width = sw.header().len();
    for (&i, p) in &finished {
        let fits = selected.contains(&i) && p.row.len() == width && {
            let key = grid::row_key(&sw, i);
            p.row[..key.len()] == key[..]
        };
        if !fits {
            let why = if i >= total {
                format!("grid index {i}, but the grid has {total} points")
            } else if !selected.contains(&i) {
                format!(
                    "grid index {i} is not in this run's shard (kept by a run of another \
                     --shard into the same --out)"
                )
            } else {
                format!(
                    "its row is not that of {} (edited or damaged)",
                    grid::point_name(&sw, i)
                )
            };
            bail!(
                "{}: not a kept grid point of this run: {why}; remove it, or run without \
                 --resume",
                kept.file_of(i).display()
            );
        }
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
    let points = run_points(file, &sw, &todo, jobs, quiet, &|i, p| kept.keep(i, p))?;
    let ran = points.iter().filter(|p| p.is_some()).count();
    for (&i, p) in todo.iter().zip(points) {
        if let Some(p) = p {
            finished.insert(i, p);
        }
    }
    if finished.len() < selected.len() {
        say!(
            "interrupted: {} of {} grid points done and kept ({ran} in this run); \
             {} left as it was; rerun with --resume to finish",
            finished.len(),
            selected.len(),
            out.display()
        );
        report.cut();
        return verdict.finish(&report);
    }
    let mut rows = Vec::with_capacity(selected.len());
    for point in finished.into_values() {
        for m in &point.messages {
            say!("{m}");
        }
        for c in point.cases {
            report.push(c.suite, c.name, c.outcome);
        }
        report.backups_lost.extend(point.backups_lost);
        report.backup_cycles_lost += point.backup_cycles_lost;
        rows.push(point.row);
    }
    let written = match shard {
        Some(s) => {
            let mut w = write_files(staging.path(), &src, &sw, &rows, None)?;
            let csv = std::fs::read(staging.path().join(CSV_FILE))
                .with_context(|| format!("{}: cannot read back", CSV_FILE))?;
            let marker = shard_file(s, total, &src, &csv)?;
            reports::write_atomic(&staging.path().join(SHARD_FILE), marker.as_bytes())?;
            w.push(SHARD_FILE.to_string());
            w
        }
        None => write_files(staging.path(), &src, &sw, &rows, Some(jobs))?,
    };
    staging.commit()?;
    kept.finish();
    for w in written {
        say!("wrote {}", out.join(w).display());
    }
    if let Some(s) = shard {
        say!(
            "merge with: owm merge <the {} shard directories> --out DIR",
            s.n
        );
    }
    say!("reproduce: {reproduce}");
    verdict.finish(&report)
}

const SHARD_FILE: &str = "shard.toml";
const CSV_FILE: &str = "sweep.csv";
const SPEC_FILE: &str = "sweep.toml";
const STATS_FILE: &str = "stats.csv";

/// The available cores: the default of `--jobs`.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Writes `sweep.csv`, a copy of the sweep file (`sweep.toml`: what merge re-reads), and
/// with `plots_jobs` the statistics and the line plots (drawn on that many threads,
/// written in order: the bytes do not depend on it), into `out`; returns the file names.
fn write_files(
    out: &Path,
    src: &str,
    sw: &Sweep,
    rows: &[Vec<String>],
    plots_jobs: Option<usize>,
) -> Result<Vec<String>> {
    let mut written = vec![CSV_FILE.to_string(), SPEC_FILE.to_string()];
    tables::write_table(&out.join(CSV_FILE), &sw.header(), rows)?;
    reports::write_atomic(&out.join(SPEC_FILE), src.as_bytes())?;
    if let Some(jobs) = plots_jobs {
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
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(jobs.max(1))
            .build()
            .context("starting the plot threads")?;
        let drawn: Vec<(String, String, Vec<u8>)> = pool.install(|| {
            use rayon::prelude::*;
            plots
                .par_iter()
                .map(|(name, plot)| {
                    let svg = reports::lines::render_svg(plot)?;
                    let png = reports::lines::render_png(plot)?;
                    Ok((name.clone(), svg, png))
                })
                .collect::<Result<Vec<_>>>()
        })?;
        for (name, svg, png) in drawn {
            let (svg_name, png_name) = (format!("{name}.svg"), format!("{name}.png"));
            reports::write_atomic(&out.join(&svg_name), svg.as_bytes())?;
            reports::write_atomic(&out.join(&png_name), &png)?;
            written.push(svg_name);
            written.push(png_name);
        }
    }
    Ok(written)
}

/// The hex SHA-256 of `bytes`.
pub(crate) fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `shard.toml`: which slice, of how many points, and digests of the sweep file and of
/// the shard's own CSV, so `merge` can refuse edited or foreign shards.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ShardFile {
    shard: String,
    points: usize,
    version: String,
    sweep_sha256: String,
    rows_sha256: String,
}

fn shard_file(s: Shard, total: usize, src: &str, csv: &[u8]) -> Result<String> {
    let f = ShardFile {
        shard: format!("{}/{}", s.k, s.n),
        points: total,
        version: env!("CARGO_PKG_VERSION").to_string(),
        sweep_sha256: sha256(src.as_bytes()),
        rows_sha256: sha256(csv),
    };
    toml::to_string(&f).context("encoding shard.toml")
}

/// Joins shard outputs, refusing anything that does not add up: `--out` one of the
/// inputs, a shard whose sweep file or rows do not match the digests it recorded, shards
/// of different sweeps or owm versions, a shard given twice or missing, a row that is
/// not its grid point's. Every refusal names the shard K/N and the grid index.
pub fn merge(dirs: &[PathBuf], out: &Path, verdict: &VerdictArgs) -> Result<Exit> {
    crate::outdir::refuse_input_as_out(dirs, out)?;
    struct Part {
        dir: PathBuf,
        shard: Shard,
        rows: Vec<Vec<String>>,
    }
    let mut src: Option<(PathBuf, String)> = None;
    let mut parts: Vec<Part> = Vec::new();
    for d in dirs {
        let spec_path = d.join(SPEC_FILE);
        let s = config::read(&spec_path).context("not a sweep output directory")?;
        let marker_path = d.join(SHARD_FILE);
        let marker = config::read(&marker_path).context("not a shard output (no shard.toml)")?;
        let marker: ShardFile = toml::from_str(&marker)
            .map_err(|e| config::FileError::toml(&marker_path, &marker, &e))?;
        let (shard, k_n) = Shard::from_marker(&marker.shard, &marker.version, &marker_path, d)?;
        if sha256(s.as_bytes()) != marker.sweep_sha256 {
            bail!("{k_n}: sweep.toml does not match the digest in shard.toml (edited?)");
        }
        let csv_path = d.join(CSV_FILE);
        let csv = std::fs::read(&csv_path)
            .with_context(|| format!("{}: cannot read", csv_path.display()))?;
        if sha256(&csv) != marker.rows_sha256 {
            bail!("{k_n}: sweep.csv does not match the digest in shard.toml (edited?)");
        }
        match &src {
            Some((first, text)) if *text != s => bail!(
                "{k_n}: {} differs from {}: the shards come from different sweeps",
                spec_path.display(),
                first.display()
            ),
            Some(_) => {}
            None => src = Some((spec_path.clone(), s)),
        }
        if let Some(p) = parts.iter().find(|p| p.shard.k == shard.k) {
            bail!(
                "{k_n}: given twice (also {}); each of the {} shards once",
                p.dir.display(),
                shard.n
            );
        }
        if let Some(p) = parts.iter().find(|p| p.shard.n != shard.n) {
            bail!(
                "{k_n}: of {} shards, but {} is of {}",
                shard.n,
                p.dir.display(),
                p.shard.n
            );
        }
        let (_, rows) = tables::read_table(&csv_path)?;
        parts.push(Part {
            dir: d.clone(),
            shard,
            rows,
        });
    }
    let (spec_path, src) = src.ok_or_else(|| anyhow!("no shard directories given"))?;
    let sw = load(&spec_path, &src)?;
    let total = sw.points();
    let n = parts[0].shard.n;
    if let Some(k) = (1..=n).find(|&k| !parts.iter().any(|p| p.shard.k == k)) {
        let first = (0..total).find(|&i| Shard { k, n }.holds(i));
        bail!(
            "shard {k}/{n} is missing (it holds grid index {}{}): give all {n} shard directories",
            first.map_or("none".into(), |i| i.to_string()),
            if total > n as usize { " and more" } else { "" }
        );
    }
    let width = sw.header().len();
    let mut merged: Vec<Option<Vec<String>>> = vec![None; total];
    for p in &parts {
        let k_n = format!("shard {}/{} ({})", p.shard.k, p.shard.n, p.dir.display());
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
    }
    let rows: Vec<Vec<String>> = merged.into_iter().flatten().collect();
    let staging = outdir::prepare(out, "--out")?;
    let written = write_files(staging.path(), &src, &sw, &rows, Some(cores()))?;
    staging.commit()?;
    for w in written {
        say!("wrote {}", out.join(w).display());
    }
    let mut report = Report::new(
        "merge",
        format!(
            "owm merge {} --out {}",
            dirs.iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(" "),
            out.display()
        ),
        verdict.allow_violations,
    );
    report.seeds = sw.spec.seeds.clone();
    // Per point, from its CSV row: a point whose metrics are empty failed in its
    // shard; an empty violation count is a run that was not judged (no history).
    let header = sw.header();
    let col = |m: tables::Metric| header.iter().position(|h| h == m.name());
    let committed = col(tables::Metric::Committed);
    let claimed = col(tables::Metric::Violations);
    let unclaimed = col(tables::Metric::ViolationsNotClaimed);
    let cell = |r: &Vec<String>, c: Option<usize>| c.map_or("", |c| r[c].as_str()).to_string();
    for (i, r) in rows.iter().enumerate() {
        let name = grid::point_name(&sw, i);
        let count = |v: &str| v.parse::<u64>().unwrap_or(1);
        let outcome = match (cell(r, committed).as_str(), cell(r, claimed).as_str()) {
            ("", _) => Outcome::Failed {
                reason: "the point failed in its shard".into(),
            },
            (_, "") => Outcome::Unchecked {
                reason: "keep_history = false: the run kept no history to judge".into(),
            },
            (_, "0") => Outcome::Held,
            (_, v) => Outcome::Violated {
                count: count(v),
                detail: format!("{v} violations (see the shard's output)"),
            },
        };
        report.push(&name, "invariants", outcome);
        match cell(r, unclaimed).as_str() {
            "" | "0" => {}
            v => report.push(
                &name,
                "invariants not claimed",
                Outcome::NotClaimed {
                    policy: r[header.len() - tables::Metric::ALL.len() - 2].clone(),
                    observed: Box::new(Outcome::Violated {
                        count: count(v),
                        detail: format!("{v} violations (see the shard's output)"),
                    }),
                },
            ),
        }
    }
    verdict.finish(&report)
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
}
