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

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use anyhow::{anyhow, bail, Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use reports::lines::{LinePlot, Series};
use reports::tables;
use serde::Deserialize;
use sim::Scenario;

use crate::config::{self, FileError, RunPolicy};
use crate::run::{default_out, make_out_dir, run_one};
use crate::stats::Summary;
use crate::sweep_stats;

/// Grid points at most: a typo in a sweep file should not start a week-long run.
pub const POINTS_MAX: usize = 1_000_000;

/// A slice of a sweep's grid: the points with `index % n == k - 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub k: u64,
    pub n: u64,
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not K/N with 1 <= K <= N (e.g. 2/4)");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let k: u64 = k.trim().parse().map_err(|_| bad())?;
        let n: u64 = n.trim().parse().map_err(|_| bad())?;
        if k == 0 || n == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard { k, n })
    }
}

impl Shard {
    fn holds(self, index: usize) -> bool {
        index as u64 % self.n == self.k - 1
    }
}

/// One swept parameter: a dotted key of the scenario and the values it takes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AxisSpec {
    key: String,
    values: Vec<toml::Value>,
}

fn default_seeds() -> Vec<u64> {
    vec![crate::run::DEFAULT_SEED]
}

fn default_metrics() -> Vec<String> {
    vec![
        "admission_delay_mean_ticks".into(),
        "admission_delay_p99_ticks".into(),
    ]
}

/// The sweep file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepFile {
    /// Plot titles start with it (default: the file stem).
    #[serde(default)]
    title: Option<String>,
    #[serde(default = "config::default_policies")]
    policies: Vec<RunPolicy>,
    /// A list, `"A..=B"`, or `{ count = N, first = S }`.
    #[serde(
        default = "default_seeds",
        deserialize_with = "crate::seeds::deserialize"
    )]
    seeds: Vec<u64>,
    /// The policy the others are compared with, seed by seed (`stats.csv`'s diff
    /// columns and the `…--vs-<baseline>` plots).
    #[serde(default)]
    baseline: Option<RunPolicy>,
    /// The axis on the plots' x axis (default the first axis).
    #[serde(default)]
    x: Option<String>,
    /// Metric columns to plot (names as in summary.csv).
    #[serde(default = "default_metrics")]
    metrics: Vec<String>,
    #[serde(default)]
    axis: Vec<AxisSpec>,
    /// The base scenario; typed here so its errors carry lines.
    #[serde(default)]
    #[allow(dead_code)]
    scenario: Scenario,
}

/// A loaded sweep: the spec, and every grid point's scenario, built and checked before
/// anything runs.
struct Sweep {
    title: String,
    spec: SweepFile,
    /// Per combination of axis values (in grid order): the values and the scenario.
    combos: Vec<(Vec<toml::Value>, Scenario)>,
}

impl Sweep {
    fn points(&self) -> usize {
        self.combos.len() * self.spec.policies.len() * self.spec.seeds.len()
    }

    /// (combination, policy, seed) of grid index `i`.
    fn point(&self, i: usize) -> (usize, usize, usize) {
        let s = self.spec.seeds.len();
        let p = self.spec.policies.len();
        (i / (s * p), (i / s) % p, i % s)
    }

    fn header(&self) -> Vec<String> {
        let mut h = vec!["index".to_string()];
        h.extend(self.spec.axis.iter().map(|a| a.key.clone()));
        h.push("policy".into());
        h.push("seed".into());
        h.extend(tables::METRICS.iter().map(|(n, _)| n.to_string()));
        h
    }
}

fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// Sets `value` at dotted `key` in `table`, creating tables on the way.
fn set_path(table: &mut toml::Table, key: &str, value: toml::Value) -> Result<(), String> {
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().ok_or("empty key")?;
    let mut t = table;
    for p in parts {
        let entry = t
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        t = entry
            .as_table_mut()
            .ok_or_else(|| format!("`{p}` is not a table"))?;
    }
    t.insert(last.to_string(), value);
    Ok(())
}

/// The line of the `key = "<axis key>"` entry, for errors about an axis.
fn axis_line(src: &str, key: &str) -> Option<usize> {
    src.lines()
        .position(|l| {
            let t = l.split('#').next().unwrap_or("");
            t.contains("key")
                && (t.contains(&format!("\"{key}\"")) || t.contains(&format!("'{key}'")))
        })
        .map(|i| i + 1)
}

fn load(path: &Path, src: &str) -> Result<Sweep, FileError> {
    let spec: SweepFile =
        toml::from_str(src).map_err(|e| config::scenario_error(path, src, "scenario.", &e))?;
    let raw: toml::Table = toml::from_str(src).map_err(|e| FileError::toml(path, src, &e))?;
    let base = match raw.get("scenario") {
        Some(toml::Value::Table(t)) => t.clone(),
        _ => toml::Table::new(),
    };
    if spec.policies.is_empty() {
        return Err(FileError::key(
            path,
            src,
            "policies",
            "is empty; name at least one policy",
        ));
    }
    if spec.seeds.is_empty() {
        return Err(FileError::key(
            path,
            src,
            "seeds",
            "is empty; give at least one seed",
        ));
    }
    if let Some(b) = spec.baseline {
        if !spec.policies.contains(&b) {
            return Err(FileError::key(
                path,
                src,
                "baseline",
                format!("`{}` is not one of the sweep's policies", b.name()),
            ));
        }
    }
    for m in &spec.metrics {
        if tables::metric_index(m).is_none() {
            let names: Vec<&str> = tables::METRICS.iter().map(|(n, _)| *n).collect();
            return Err(FileError::key(
                path,
                src,
                "metrics",
                format!("unknown metric `{m}`; known: {}", names.join(", ")),
            ));
        }
    }
    for a in &spec.axis {
        if a.values.is_empty() {
            let mut e =
                FileError::key(path, src, "axis", format!("axis `{}` has no values", a.key));
            e.line = axis_line(src, &a.key);
            return Err(e);
        }
    }
    if let Some(x) = &spec.x {
        if !spec.axis.iter().any(|a| &a.key == x) {
            return Err(FileError::key(
                path,
                src,
                "x",
                format!("`{x}` is not the key of an [[axis]]"),
            ));
        }
    }
    // The cartesian product of the axes, first axis outermost.
    let mut combos: Vec<Vec<toml::Value>> = vec![Vec::new()];
    for a in &spec.axis {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                a.values.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push(v.clone());
                    c
                })
            })
            .collect();
        if combos.len() * spec.policies.len() * spec.seeds.len() > POINTS_MAX {
            return Err(FileError::key(
                path,
                src,
                "axis",
                format!("the grid has more than {POINTS_MAX} points"),
            ));
        }
    }
    let mut built = Vec::with_capacity(combos.len());
    for values in combos {
        let mut t = base.clone();
        for (a, v) in spec.axis.iter().zip(&values) {
            set_path(&mut t, &a.key, v.clone())
                .map_err(|m| axis_error(path, src, &a.key, v, &m))?;
        }
        let mut s: Scenario = toml::Value::Table(t)
            .try_into()
            .map_err(|e: toml::de::Error| {
                let (a, v) = first_axis(&spec.axis, &values);
                axis_error(path, src, &a, &v, e.message().trim())
            })?;
        config::load_trace(path, src, "scenario.workload.path", &mut s)?;
        if let Err((key, msg)) = config::validate(&s) {
            let at = spec.axis.iter().position(|a| a.key == key);
            return Err(match at {
                Some(i) => axis_error(path, src, &key, &values[i], &msg),
                None => FileError::key(path, src, &format!("scenario.{key}"), msg),
            });
        }
        if let Err(e) = s.validate() {
            let (a, v) = first_axis(&spec.axis, &values);
            return Err(axis_error(path, src, &a, &v, &e.to_string()));
        }
        built.push((values, s));
    }
    let title = spec.title.clone().unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    Ok(Sweep {
        title,
        spec,
        combos: built,
    })
}

fn first_axis(axes: &[AxisSpec], values: &[toml::Value]) -> (String, toml::Value) {
    match (axes.first(), values.first()) {
        (Some(a), Some(v)) => (a.key.clone(), v.clone()),
        _ => ("scenario".into(), toml::Value::Boolean(true)),
    }
}

fn axis_error(path: &Path, src: &str, key: &str, v: &toml::Value, msg: &str) -> FileError {
    FileError {
        path: path.to_path_buf(),
        line: axis_line(src, key).or_else(|| config::locate(src, "axis")),
        key: Some(key.to_string()),
        message: format!("with value {}: {msg}", value_text(v)),
        snippet: None,
    }
}

/// Runs the grid points `selected` on `jobs` threads; rows come back in index order
/// whatever the thread timing.
fn run_points(
    path: &Path,
    sw: &Sweep,
    selected: &[usize],
    jobs: usize,
) -> Result<Vec<Vec<String>>> {
    let bar =
        ProgressBar::with_draw_target(Some(selected.len() as u64), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} points, {elapsed} elapsed, ETA {eta}")
            .map_err(|e| anyhow!("progress bar: {e}"))?,
    );
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Vec<String>>>>> =
        Mutex::new((0..selected.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| loop {
                let slot = next.fetch_add(1, Ordering::Relaxed);
                let Some(&index) = selected.get(slot) else {
                    break;
                };
                let row = run_point(path, sw, index);
                let failed = row.is_err();
                results.lock().unwrap_or_else(|e| e.into_inner())[slot] = Some(row);
                bar.inc(1);
                if failed {
                    // Stop handing out work; the first error is reported below.
                    next.store(selected.len(), Ordering::Relaxed);
                }
            });
        }
    });
    bar.finish_and_clear();
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut rows = Vec::with_capacity(selected.len());
    for r in results {
        match r {
            Some(Ok(row)) => rows.push(row),
            Some(Err(e)) => return Err(e),
            None => bail!("internal: a grid point was not run"),
        }
    }
    Ok(rows)
}

fn run_point(path: &Path, sw: &Sweep, index: usize) -> Result<Vec<String>> {
    let (c, p, s) = sw.point(index);
    let (values, scenario) = &sw.combos[c];
    let policy = sw.spec.policies[p];
    let seed = sw.spec.seeds[s];
    let run =
        run_one(path, scenario, policy, seed).with_context(|| format!("grid point {index}"))?;
    let mut row = vec![index.to_string()];
    row.extend(values.iter().map(value_text));
    row.push(policy.name().to_string());
    row.push(seed.to_string());
    row.extend(tables::METRICS.iter().map(|(_, get)| get(&run.result)));
    Ok(row)
}

pub fn sweep(file: &Path, out: Option<PathBuf>, shard: Option<Shard>, jobs: usize) -> Result<()> {
    let src = config::read(file)?;
    let sw = load(file, &src)?;
    let out = out.unwrap_or_else(|| default_out(file));
    make_out_dir(&out)?;
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
    let rows = run_points(file, &sw, &selected, jobs)?;
    match shard {
        Some(s) => {
            write_files(&out, &src, &sw, &rows, false)?;
            let marker = format!("shard = \"{}/{}\"\npoints = {total}\n", s.k, s.n);
            reports::write_atomic(&out.join(SHARD_FILE), marker.as_bytes())?;
            say!("wrote {}", out.join(SHARD_FILE).display());
            say!(
                "merge with: owm merge <the {} shard directories> --out DIR",
                s.n
            );
        }
        None => write_files(&out, &src, &sw, &rows, true)?,
    }
    let shard_arg = shard
        .map(|s| format!(" --shard {}/{}", s.k, s.n))
        .unwrap_or_default();
    say!(
        "reproduce: owm sweep {}{shard_arg} --out {}",
        file.display(),
        out.display()
    );
    Ok(())
}

const SHARD_FILE: &str = "shard.toml";
const CSV_FILE: &str = "sweep.csv";
const SPEC_FILE: &str = "sweep.toml";
const STATS_FILE: &str = "stats.csv";

/// Writes `sweep.csv`, a copy of the sweep file (`sweep.toml`: what merge re-reads), and
/// with `plots` the line plots.
fn write_files(out: &Path, src: &str, sw: &Sweep, rows: &[Vec<String>], plots: bool) -> Result<()> {
    let mut written = vec![out.join(CSV_FILE), out.join(SPEC_FILE)];
    tables::write_table(&written[0], &sw.header(), rows)?;
    reports::write_atomic(&written[1], src.as_bytes())?;
    if plots {
        let axes: Vec<String> = sw.spec.axis.iter().map(|a| a.key.clone()).collect();
        let baseline = sw.spec.baseline.map(|b| b.name());
        let stats = sweep_stats::rows(&sw.header(), rows, axes.len(), &sw.spec.metrics, baseline);
        let path = out.join(STATS_FILE);
        tables::write_table(
            &path,
            &sweep_stats::header(&axes, baseline.is_some()),
            &stats,
        )?;
        written.push(path);
        for (name, plot) in line_plots(sw, rows) {
            let svg = out.join(format!("{name}.svg"));
            reports::write_atomic(&svg, reports::lines::render_svg(&plot)?.as_bytes())?;
            let png = out.join(format!("{name}.png"));
            reports::write_atomic(&png, &reports::lines::render_png(&plot)?)?;
            written.push(svg);
            written.push(png);
        }
    }
    for w in written {
        say!("wrote {}", w.display());
    }
    Ok(())
}

/// One plot per metric (and per combination of the axes other than x): x the swept
/// value, one line per policy, y the mean over the seeds.
fn line_plots(sw: &Sweep, rows: &[Vec<String>]) -> Vec<(String, LinePlot)> {
    let header = sw.header();
    let axes = &sw.spec.axis;
    let x_axis = sw
        .spec
        .x
        .clone()
        .or_else(|| axes.first().map(|a| a.key.clone()));
    let x_pos = x_axis
        .as_ref()
        .and_then(|x| axes.iter().position(|a| &a.key == x));
    let col = |name: &str| header.iter().position(|h| h == name);
    // Groups: the values of the other axes, in grid order.
    let mut groups: Vec<Vec<String>> = Vec::new();
    for (values, _) in &sw.combos {
        let g: Vec<String> = values
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != x_pos)
            .map(|(_, v)| value_text(v))
            .collect();
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    let others: Vec<&AxisSpec> = axes
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != x_pos)
        .map(|(_, a)| a)
        .collect();
    let seed_col = col("seed").unwrap_or(0);
    let policy_col = col("policy").unwrap_or(0);
    // (seed, value) of metric column `m` for `policy` at x value `x` in group `g`.
    let values = |m: usize, policy: &str, x: &str, g: &[String]| -> Vec<(String, f64)> {
        rows.iter()
            .filter(|r| r[policy_col] == policy)
            .filter(|r| x_pos.is_none_or(|i| r[1 + i] == x))
            .filter(|r| {
                others
                    .iter()
                    .zip(g)
                    .all(|(a, v)| col(&a.key).is_some_and(|c| &r[c] == v))
            })
            .filter_map(|r| Some((r[seed_col].clone(), r[m].parse::<f64>().ok()?)))
            .collect()
    };
    let xs: Vec<String> = match x_pos {
        Some(i) => axes[i].values.iter().map(value_text).collect(),
        None => vec![String::new()],
    };
    let n = sw.spec.seeds.len();
    let baseline = sw.spec.baseline.map(|b| b.name());
    let mut out = Vec::new();
    for metric in &sw.spec.metrics {
        let Some(m) = col(metric) else { continue };
        // The metric itself, then (with a baseline) its paired differences.
        for against in [None, baseline]
            .into_iter()
            .enumerate()
            .filter_map(|(k, b)| (k == 0 || b.is_some()).then_some(b))
        {
            for (gi, g) in groups.iter().enumerate() {
                let mut series = Vec::new();
                for policy in &sw.spec.policies {
                    if against == Some(policy.name()) {
                        continue;
                    }
                    let mut points = Vec::new();
                    let mut intervals = Vec::new();
                    for (xi, x) in xs.iter().enumerate() {
                        let ys = values(m, policy.name(), x, g);
                        let summary = match against {
                            None => Summary::of(&ys.iter().map(|y| y.1).collect::<Vec<_>>()),
                            Some(b) => {
                                let bs = values(m, b, x, g);
                                let (p, q): (Vec<f64>, Vec<f64>) = ys
                                    .iter()
                                    .filter_map(|(seed, y)| {
                                        let (_, z) = bs.iter().find(|(s2, _)| s2 == seed)?;
                                        Some((*y, *z))
                                    })
                                    .unzip();
                                crate::stats::paired(&p, &q).difference
                            }
                        };
                        if summary.n > 0 {
                            let xv = x.parse::<f64>().unwrap_or(xi as f64);
                            points.push((xv, summary.mean));
                            if let Some((lo, hi)) = summary.interval() {
                                intervals.push((xv, lo, hi));
                            }
                        }
                    }
                    series.push(Series {
                        name: policy.name().to_string(),
                        points,
                        intervals,
                    });
                }
                let suffix: Vec<String> = others
                    .iter()
                    .zip(g)
                    .map(|(a, v)| format!("{}={v}", a.key))
                    .collect();
                let what = match against {
                    None => metric.clone(),
                    Some(b) => format!("{metric} minus {b}'s, seed by seed"),
                };
                let mut name = match against {
                    None => metric.clone(),
                    Some(b) => format!("{metric}--vs-{b}"),
                };
                if groups.len() > 1 {
                    name = format!("{name}--{}", gi + 1);
                }
                let title = if suffix.is_empty() {
                    format!("{}: {what}", sw.title)
                } else {
                    format!("{}: {what} ({})", sw.title, suffix.join(", "))
                };
                let y_label = match against {
                    None => format!("{metric}: mean of {n} seeds, 95 % CI"),
                    Some(b) => {
                        format!("{metric} − {b}: mean paired difference of {n} seeds, 95 % CI")
                    }
                };
                let plot = LinePlot {
                    title,
                    x_label: x_axis.clone().unwrap_or_else(|| "(no axis)".into()),
                    y_label,
                    series,
                };
                out.push((name, plot));
            }
        }
    }
    out
}

/// Joins shard outputs: checks they come from the same sweep file and together hold
/// every grid point exactly once, then writes what one unsharded run writes.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<()> {
    let mut src: Option<(PathBuf, String)> = None;
    let mut header: Option<Vec<String>> = None;
    let mut rows: Vec<(usize, Vec<String>)> = Vec::new();
    for d in dirs {
        let spec_path = d.join(SPEC_FILE);
        let s = config::read(&spec_path).context("not a sweep output directory")?;
        config::read(&d.join(SHARD_FILE)).context("not a shard output (no shard.toml)")?;
        match &src {
            Some((first, text)) if *text != s => {
                bail!(
                    "{}: differs from {}: the shards come from different sweeps",
                    spec_path.display(),
                    first.display()
                )
            }
            Some(_) => {}
            None => src = Some((spec_path.clone(), s)),
        }
        let csv_path = d.join(CSV_FILE);
        let (h, rs) = tables::read_table(&csv_path)?;
        match &header {
            Some(h0) if *h0 != h => bail!(
                "{}: header differs from the other shards'",
                csv_path.display()
            ),
            Some(_) => {}
            None => header = Some(h),
        }
        for r in rs {
            let i: usize = r
                .first()
                .and_then(|x| x.parse().ok())
                .ok_or_else(|| anyhow!("{}: a row without an index", csv_path.display()))?;
            rows.push((i, r));
        }
    }
    let (spec_path, src) = src.ok_or_else(|| anyhow!("no shard directories given"))?;
    let sw = load(&spec_path, &src)?;
    if header.as_ref() != Some(&sw.header()) {
        bail!(
            "{}: the CSV header does not match the sweep file",
            spec_path.display()
        );
    }
    rows.sort_by_key(|(i, _)| *i);
    let total = sw.points();
    for (expect, (i, _)) in rows.iter().enumerate() {
        if *i != expect {
            bail!("the shards do not hold grid point {expect} exactly once (found {i}); {total} points expected");
        }
    }
    if rows.len() != total {
        bail!("the shards hold {} of {total} grid points", rows.len());
    }
    make_out_dir(out)?;
    let rows: Vec<Vec<String>> = rows.into_iter().map(|(_, r)| r).collect();
    write_files(out, &src, &sw, &rows, true)
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
