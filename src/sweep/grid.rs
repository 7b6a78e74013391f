//! The grid of a sweep: its points in order (axes, then policies, then seeds), shards
//! of it, and running a set of its points on worker threads.

use engine::shown::ShowName as _;
use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use anyhow::{anyhow, bail, Result};
use reports::tables;
use sim::Scenario;

use super::file::{value_text, SweepFile};
use super::traces::TraceDigest;
use crate::progress::Progress;
use crate::run::run_one;
use crate::verdict::{self, Case, Outcome, Report};

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
    pub fn holds(self, index: usize) -> bool {
        index as u64 % self.n == self.k - 1
    }

    /// The shard named by a merge input's marker file (`marker`, in `dir`): its `shard`
    /// text and the owm `version` that wrote it, refused when that is not this owm. With
    /// the shard's label for refusals, `shard K/N (DIR)`.
    pub fn from_marker(
        shard: &str,
        version: &str,
        marker: &Path,
        dir: &Path,
    ) -> Result<(Shard, String)> {
        let shard: Shard = shard
            .parse()
            .map_err(|e| anyhow!("{}: shard: {e}", marker.shown()))?;
        let label = format!("shard {}/{} ({})", shard.k, shard.n, dir.shown());
        if version != env!("CARGO_PKG_VERSION") {
            bail!(
                "{label}: written by owm {version}, this is {}",
                env!("CARGO_PKG_VERSION")
            );
        }
        Ok((shard, label))
    }
}

/// A loaded sweep: the spec, and every grid point's scenario, built and checked before
/// anything runs.
pub struct Sweep {
    pub title: String,
    pub spec: SweepFile,
    /// Per combination of axis values (in grid order): the values and the scenario.
    pub combos: Vec<(Vec<toml::Value>, Scenario)>,
    /// The trace files the combinations replay, each once, in order of first use, with
    /// the digests of the bytes loaded ([`super::traces`]).
    pub traces: Vec<TraceDigest>,
    /// Per combination: the index in `traces` of the trace it replays.
    pub combo_traces: Vec<Option<usize>>,
}

impl Sweep {
    pub fn points(&self) -> usize {
        self.combos.len() * self.spec.policies.len() * self.spec.seeds.len()
    }

    /// (combination, policy, seed) of grid index `i`.
    pub fn point(&self, i: usize) -> (usize, usize, usize) {
        let s = self.spec.seeds.len();
        let p = self.spec.policies.len();
        (i / (s * p), (i / s) % p, i % s)
    }

    /// The index in `traces` of the trace grid point `i` replays, if any.
    pub fn trace_of(&self, i: usize) -> Option<usize> {
        self.combo_traces.get(self.point(i).0).copied().flatten()
    }

    /// The traces the grid points `indices` replay, each once, in order of first use.
    pub fn traces_of(&self, indices: &[usize]) -> Vec<TraceDigest> {
        let mut used = vec![false; self.traces.len()];
        for &i in indices {
            if let Some(t) = self.trace_of(i) {
                used[t] = true;
            }
        }
        self.traces
            .iter()
            .zip(used)
            .filter(|(_, u)| *u)
            .map(|(t, _)| t.clone())
            .collect()
    }

    pub fn header(&self) -> Vec<String> {
        let mut h = vec!["index".to_string()];
        h.extend(self.spec.axis.iter().map(|a| a.key.clone()));
        h.push("policy".into());
        h.push("seed".into());
        h.extend(tables::sweep_metrics().iter().map(|m| m.to_string()));
        h
    }
}

/// What became of one grid point: its CSV row (metric cells empty when it failed), the
/// exact values of its fractional cells, its verdicts (per invariant, or one `failed`
/// case), and the lines to print about it (its violations, its failure). Kept as JSON
/// between an interrupted sweep and its `--resume`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Point {
    pub row: Vec<String>,
    /// The exact values (`NUM/DEN`, empty where the row's cell is) of the row's
    /// fractional cells, `tables::sweep_fraction_metrics` in order: what the
    /// statistics are computed from, where the row holds them rounded to 3 decimals.
    /// Absent (empty) in a point kept by an owm that kept none.
    #[serde(default)]
    pub fractions: Vec<String>,
    pub cases: Vec<Case>,
    pub messages: Vec<String>,
    /// The point's lost backup, if any (`Report::backups_lost`), and how many of its
    /// cycles were lost (`Report::backup_cycles_lost`).
    #[serde(default)]
    pub backups_lost: Vec<String>,
    #[serde(default)]
    pub backup_cycles_lost: u64,
    /// The point's backup taken after missed quiesce deadlines, if any
    /// (`Report::backups_retried`).
    #[serde(default)]
    pub backups_retried: Vec<String>,
}

/// Each of the grid points `indices`' memory estimate (bytes) with its index: its own
/// simulation under its policy ([`sim::footprint::estimate_point`]: no timeline, no
/// picture, the estimate each point alone was checked with), once per combination and
/// policy.
fn point_estimates(sw: &Sweep, indices: &[usize]) -> Vec<(u64, usize)> {
    let mut cache: std::collections::HashMap<(usize, usize), u64> = Default::default();
    indices
        .iter()
        .map(|&i| {
            let (c, p, _) = sw.point(i);
            let e = *cache.entry((c, p)).or_insert_with(|| {
                let s = &sw.combos[c].1;
                s.layout().map_or(0, |layout| {
                    sim::footprint::estimate_point(s, &layout, sw.spec.policies[p]).total_bytes()
                })
            });
            (e, i)
        })
        .collect()
}

/// The scenario of `indices` with the smallest `limits.memory_bytes_max`: the bound the
/// whole sweep process is held to.
fn bounding<'a>(sw: &'a Sweep, indices: &[usize]) -> Option<&'a Scenario> {
    indices
        .iter()
        .map(|&i| &sw.combos[sw.point(i).0].1)
        .min_by_key(|s| s.limits.memory_bytes_max)
}

/// What the sweep keeps of each grid point for the whole grid
/// ([`sim::footprint::SweepPoint`]): its row's cells (and the text of its longest axis
/// values and policy beyond what a cell holds), a case per invariant, the longest
/// point's name (each case's suite), and for a shard (`shard`) the second copy of the
/// cases its `points.json` is written from.
pub fn point_shape(sw: &Sweep, shard: bool) -> sim::footprint::SweepPoint {
    use sim::footprint::{heap_block_bytes, SWEEP_CELL_BYTES};
    let over = |text: &str| {
        // A String's header is in the cell's bytes; its text beyond the 32-byte block.
        (24 + heap_block_bytes(text.len() as u64)).saturating_sub(SWEEP_CELL_BYTES)
    };
    let longest =
        |texts: &mut dyn Iterator<Item = String>| texts.map(|t| t.len() as u64).max().unwrap_or(0);
    let axes = sw
        .combos
        .iter()
        .map(|(values, _)| values.iter().map(|v| over(&value_text(v))).sum::<u64>())
        .max()
        .unwrap_or(0);
    let policy = sw
        .spec
        .policies
        .iter()
        .map(|p| over(p.as_str()))
        .max()
        .unwrap_or(0);
    // The longest name: the last point of each combination and policy (the widest
    // index), its largest seed.
    let points = sw.points();
    let per_policy = sw.spec.seeds.len().max(1);
    let name = longest(&mut (0..sw.combos.len() * sw.spec.policies.len()).map(|k| {
        let last = ((k + 1) * per_policy).min(points).saturating_sub(1);
        point_name(sw, last)
    }));
    let seed = sw
        .spec
        .seeds
        .iter()
        .max()
        .map_or(0, |s| s.to_string().len()) as u64;
    sim::footprint::SweepPoint {
        // The row's cells, and two a fractional metric for its exact value.
        cells: (sw.header().len() + 2 * tables::sweep_fraction_metrics().len()) as u64,
        long_text_bytes: axes + policy,
        cases: sim::oracle::Invariant::ALL.len() as u64,
        name_bytes: name + seed,
        copies: if shard { 2 } else { 1 },
    }
}

/// The line plots an unsharded sweep draws, at most: one per metric (and its
/// difference against the baseline) and combination of the axes; and the panels each
/// has at most, one a policy (`reports::lines::panels`).
fn plots_at_most(sw: &Sweep, shard: bool) -> (u64, u64) {
    let panels = sw.spec.policies.len().max(1) as u64;
    if shard {
        return (0, panels);
    }
    let per_metric = if sw.spec.baseline.is_some() { 2 } else { 1 };
    let plots = sw.spec.metrics.len() * per_metric * sw.combos.len().max(1);
    (plots as u64, panels)
}

/// The estimate of the sweep's process running the `j` largest of `estimates` at
/// once, keeping `kept` points shaped as `point`, drawing `plots` line plots (their
/// count, and the panels each has at most), writing
/// verdict files or not (`verdict_files`).
fn sweep_at(
    estimates: &[(u64, usize)],
    j: usize,
    kept: usize,
    point: sim::footprint::SweepPoint,
    plots: (u64, u64),
    verdict_files: bool,
) -> sim::footprint::SweepFootprint {
    let mut largest: Vec<u64> = estimates.iter().map(|e| e.0).collect();
    largest.sort_unstable_by(|a, b| b.cmp(a));
    largest.truncate(j.max(1));
    let (plots, panels) = plots;
    sim::footprint::sweep_estimate(&largest, kept as u64, point, plots, panels, verdict_files)
}

/// What a sweep run holds in memory, worked out once for its grid points `selected`:
/// each point's estimate under its own policy ([`point_estimates`]), what it keeps of
/// every point for the whole grid ([`point_shape`]), the line plots it draws at most,
/// and whether it writes verdict files (`--json`, `--junit`). [`refuse_past_memory`]
/// judges the whole plan, [`jobs_within_memory`] the points still to run.
#[derive(Debug, Clone)]
pub struct MemoryPlan {
    /// (estimate in bytes, grid index) of each selected point, in grid order.
    estimates: Vec<(u64, usize)>,
    point: sim::footprint::SweepPoint,
    /// The line plots drawn at most, and the panels each has at most.
    plots: (u64, u64),
    verdict_files: bool,
}

impl MemoryPlan {
    /// The plan of the grid points `selected` (in grid order), for a shard or not
    /// (`shard`), writing verdict files or not (`verdict_files`).
    pub fn of(sw: &Sweep, selected: &[usize], shard: bool, verdict_files: bool) -> Self {
        MemoryPlan {
            estimates: point_estimates(sw, selected),
            point: point_shape(sw, shard),
            plots: plots_at_most(sw, shard),
            verdict_files,
        }
    }

    /// The grid points the plan holds.
    fn points(&self) -> usize {
        self.estimates.len()
    }

    /// The estimate of the process running the `j` largest of `estimates` at once.
    fn at(&self, estimates: &[(u64, usize)], j: usize) -> sim::footprint::SweepFootprint {
        sweep_at(
            estimates,
            j,
            self.points(),
            self.point,
            self.plots,
            self.verdict_files,
        )
    }
}

/// Refuses, before any point runs, a sweep whose process would pass the smallest
/// `limits.memory_bytes_max` of the grid points of `plan` (or the memory the machine
/// has available) even one point at a time: the largest estimate of the points still
/// to run (`todo`: a resume's finished points run no more), beside what the sweep keeps of every point for the
/// whole grid (its row and verdicts, [`point_shape`]), then the line plots it draws and
/// the verdict files it writes when asked (`verdict_files`: `--json`, `--junit`)
/// ([`sim::footprint::sweep_estimate`]). The error (exit 2) gives the estimate and its
/// parts, and names the keys that make the grid large, with their lines: `seeds` and
/// each `[[axis]]`'s `values`, and `limits.memory_bytes_max`. It is placed at that key
/// when the file (or an axis) sets it, else at `seeds`, else at the axis with the most
/// values.
pub fn refuse_past_memory(
    path: &Path,
    src: &str,
    sw: &Sweep,
    plan: &MemoryPlan,
    todo: &[usize],
) -> Result<(), crate::config::FileError> {
    let selected: Vec<usize> = plan.estimates.iter().map(|e| e.1).collect();
    let Some(bounding) = bounding(sw, &selected) else {
        return Ok(());
    };
    // The largest of the points still to run (`todo`, in grid order); every point's
    // row and verdicts are kept whatever ran it.
    let running: Vec<(u64, usize)> = plan
        .estimates
        .iter()
        .filter(|e| todo.binary_search(&e.1).is_ok())
        .copied()
        .collect();
    if running.is_empty() {
        return Ok(());
    }
    let bound = bounding.limits.memory_bytes_max;
    let f = plan.at(&running, 1);
    let machine = crate::machine_memory::available_bytes();
    let past_machine = machine.filter(|&(available, _)| f.total_bytes() > available);
    if f.total_bytes() <= bound && past_machine.is_none() {
        return Ok(());
    }
    let h = sim::footprint::human_bytes;
    let keys = crate::locate::Keys::of(src);
    let at = |key: &str| {
        keys.line(key)
            .map(|l| format!(" at line {l}"))
            .unwrap_or_default()
    };
    // The keys that make the grid large, most values first.
    let mut drivers: Vec<(usize, String, String)> = Vec::new();
    if sw.spec.seeds.len() > 1 {
        drivers.push((
            sw.spec.seeds.len(),
            "seeds".to_string(),
            format!(
                "fewer seeds (`seeds`{}: {})",
                at("seeds"),
                sw.spec.seeds.len()
            ),
        ));
    }
    for (i, a) in sw.spec.axis.iter().enumerate() {
        if a.values.len() > 1 {
            let key = format!("axis.{i}.values");
            drivers.push((
                a.values.len(),
                key.clone(),
                format!(
                    "fewer values of `axis.{i}` `{}` (its `values`{}: {})",
                    a.key,
                    at(&key),
                    a.values.len()
                ),
            ));
        }
    }
    drivers.sort_by_key(|d| std::cmp::Reverse(d.0));
    let shrink: Vec<String> = drivers.iter().map(|d| d.2.clone()).collect();
    let advice = match shrink.len() {
        0 => String::new(),
        _ => format!("; give {}", shrink.join(", or ")),
    };
    let (bound_text, estimate_text) = if h(bound) == h(f.total_bytes()) {
        (
            format!("{} ({bound} bytes)", h(bound)),
            format!("{} ({} bytes)", h(f.total_bytes()), f.total_bytes()),
        )
    } else {
        (h(bound), h(f.total_bytes()))
    };
    let each = f.kept_bytes() / (selected.len().max(1) as u64);
    // What it holds whatever the grid's size: the program, one point's run and a line
    // plot. When that alone passes the bound, fewer seeds or values cannot help.
    let fixed = f.total_bytes().saturating_sub(f.kept_bytes());
    let n = selected.len();
    // Why fewer seeds or values cannot help: what it holds without the points' rows.
    let fixed_words = format!(
        "without the rows and verdicts of its {n} grid points it would still hold {}, so \
         fewer seeds or values cannot bring it under",
        h(fixed)
    );
    // Why they can: what it keeps of every point.
    let kept_words = format!(
        "it keeps each of its {n} grid points' row and verdicts (about {} a point) for the \
         whole grid{advice}",
        h(each)
    );
    let head = format!(
        "the sweep would hold about {estimate_text} even one grid point at a time ({})",
        f.describe()
    );
    let message = if f.total_bytes() <= bound {
        // Within the bound, past what the machine has: raising the bound is no advice.
        let (available, source) = past_machine.expect("past the machine");
        let (part, point_advice) = largest_point_advice(sw, &running);
        let shrink = if fixed > available {
            match point_advice.is_empty() {
                // The program itself: nothing of the scenario shrinks it.
                true => fixed_words,
                false => format!(
                    "{fixed_words}: its largest point's largest part is {part}: {point_advice}"
                ),
            }
        } else {
            match point_advice.is_empty() {
                true => kept_words,
                false => format!(
                    "{kept_words}; or make its largest point smaller (its largest part is \
                     {part}: {point_advice})"
                ),
            }
        };
        format!(
            "{head}, {}; {shrink}, or free memory",
            crate::machine_memory::past_the_machine(available, source, &bound_text),
        )
    } else if fixed > bound {
        format!(
            "{head}, more than limits.memory_bytes_max = {bound_text}: {fixed_words}; raise \
             limits.memory_bytes_max"
        )
    } else {
        format!(
            "{head}, more than limits.memory_bytes_max = {bound_text}: {kept_words}, or raise \
             limits.memory_bytes_max"
        )
    };
    let axes: Vec<String> = sw
        .spec
        .axis
        .iter()
        .map(|a| format!("scenario.{}", a.key))
        .collect();
    // Where the bound is left at its default, at the key that makes the grid largest.
    let order: Vec<&str> = drivers.iter().map(|d| d.1.as_str()).collect();
    Err(crate::config::refusal_driven_by(
        path,
        src,
        "",
        &order,
        "scenario.limits.memory_bytes_max",
        message,
        &axes,
    ))
}

/// The largest part of the grid point of `estimates` (estimate, grid index) with the
/// largest estimate, in words, and the ways to shrink it
/// ([`sim::footprint::part_advice`], without pictures: a sweep draws no timing
/// diagram).
fn largest_point_advice(sw: &Sweep, estimates: &[(u64, usize)]) -> (&'static str, String) {
    let largest = estimates
        .iter()
        .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
        .map(|e| e.1);
    let Some(i) = largest else {
        return ("none", String::new());
    };
    let (c, p, _) = sw.point(i);
    let s = &sw.combos[c].1;
    let Ok(layout) = s.layout() else {
        return ("none", String::new());
    };
    let (part, _) = sim::footprint::estimate_point(s, &layout, sw.spec.policies[p]).largest_part();
    let (words, advice, _) = sim::footprint::part_advice(s, part, false);
    (words, advice)
}

/// The threads to run the grid points `todo` on: `jobs`, lowered while the points that
/// may run at once, beside what the sweep keeps of every grid point of `plan` (each
/// shaped as [`point_shape`]) and the line plots it then draws on as many threads (and
/// its verdict files' text), could hold more than the process may. Each point of
/// `todo` (in grid order, among the plan's) is estimated under its own policy
/// ([`point_estimates`], worked out once in the [`MemoryPlan`]); any `j` of them may
/// run together, so the `j` largest estimates, added to what is kept, must be within
/// the smallest `limits.memory_bytes_max` of the points
/// ([`sim::footprint::sweep_estimate`]). A lowered count is said on stderr with the
/// estimates, the bound and its file:line:key (`path`, its text `src`); the outputs do
/// not depend on it. Never 0: one at a time fits ([`refuse_past_memory`], checked
/// before). Also returns the room each running point has for attempts in flight past
/// its estimate's (`sim::Limits::in_flight_room_bytes`): its share of what the bound
/// leaves beside the points at once and what is kept (`None`: no bound applies).
pub fn jobs_within_memory(
    path: &Path,
    src: &str,
    sw: &Sweep,
    plan: &MemoryPlan,
    todo: &[usize],
    jobs: usize,
) -> (usize, Option<u64>) {
    // `todo` is in grid order, a part of the plan's points.
    let mut estimates: Vec<(u64, usize)> = plan
        .estimates
        .iter()
        .filter(|e| todo.binary_search(&e.1).is_ok())
        .copied()
        .collect();
    // The smallest bound, and the scenario that sets it.
    let Some(bounding) = bounding(sw, todo) else {
        return (jobs, None);
    };
    // The machine's available memory bounds the points at once as the key does.
    let machine = crate::machine_memory::available_bytes()
        .filter(|&(available, _)| available < bounding.limits.memory_bytes_max);
    let bound = machine.map_or(bounding.limits.memory_bytes_max, |m| m.0);
    let at = |j: usize| plan.at(&estimates, j);
    let want = jobs.clamp(1, todo.len().max(1));
    let mut j = want;
    while j > 1 && at(j).total_bytes() > bound {
        j -= 1;
    }
    let room = bound.saturating_sub(at(j).total_bytes()) / j as u64;
    if j < want {
        let (over, fits) = (at(want), at(j));
        estimates.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let h = sim::footprint::human_bytes;
        let named: Vec<String> = estimates[..want]
            .iter()
            .map(|&(e, i)| format!("{} {}", point_name(sw, i), h(e)))
            .collect();
        let (what, advice) = match machine {
            Some((_, source)) => (
                format!("the memory this machine has available ({source})"),
                "Free memory to run more at once",
            ),
            None => (
                "limits.memory_bytes_max".to_string(),
                "Raise that key to run more at once",
            ),
        };
        let message = format!(
            "--jobs {want} lowered to {j}: {want} grid points at once could hold about {} \
             (the {want} largest estimates: {}; {}), more than {what} = {}; {j} at once \
             hold at most {}. {advice}",
            h(over.total_bytes()),
            sim::oracle::list_text_max(&named, 4),
            over.describe(),
            h(bound),
            h(fits.total_bytes()),
        );
        if machine.is_some() {
            // No key of the file sets this bound.
            tell!("note: {}: {message}", path.shown());
            return (j, Some(room));
        }
        let axes: Vec<String> = sw.spec.axis.iter().map(|a| a.key.clone()).collect();
        let at = crate::config::refusal_at(
            path,
            src,
            "scenario.",
            bounding,
            "limits.memory_bytes_max",
            message,
            &axes,
        );
        tell!("note: {at}");
    }
    (j, Some(room))
}

/// Runs the grid points `selected` on `jobs` threads, handing each finished point to
/// `done` (which keeps it); outcomes come back in index order whatever the thread
/// timing. After SIGINT no new point starts: the points not run are `None`.
pub fn run_points(
    path: &Path,
    sw: &Sweep,
    selected: &[usize],
    (jobs, room): (usize, Option<u64>),
    quiet: bool,
    done: &(dyn Fn(usize, &Point) -> Result<()> + Sync),
) -> Result<Vec<Option<Point>>> {
    let progress = Progress::new("points", selected.len() as u64, quiet);
    let finished = AtomicUsize::new(0);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Point>>> =
        Mutex::new((0..selected.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        // No more threads than points.
        for _ in 0..jobs.clamp(1, selected.len().max(1)) {
            scope.spawn(|| loop {
                let slot = next.fetch_add(1, Ordering::Relaxed);
                let Some(&index) = selected.get(slot) else {
                    break;
                };
                crate::outdir::pause_point(&format!("point {index}"));
                if crate::interrupt::requested() {
                    break;
                }
                // Ctrl-C inside the point stops it at its next progress point: it is
                // not kept, as if it had not started.
                let Some(point) = run_point(path, sw, index, room) else {
                    break;
                };
                if let Err(e) = done(index, &point) {
                    tell!(
                        "warning: grid point {index} not kept for --resume: {}",
                        crate::verdict::error_text(&e)
                    );
                }
                results.lock().unwrap_or_else(|e| e.into_inner())[slot] = Some(point);
                let n = finished.fetch_add(1, Ordering::Relaxed) + 1;
                progress.update(n as u64, "");
            });
        }
    });
    progress.finish();
    Ok(results.into_inner().unwrap_or_else(|e| e.into_inner()))
}

/// The first cells of grid point `index`'s row: index, axis values, policy, seed.
pub fn row_key(sw: &Sweep, index: usize) -> Vec<String> {
    let (c, p, s) = sw.point(index);
    let mut row = vec![index.to_string()];
    row.extend(sw.combos[c].0.iter().map(value_text));
    row.push(sw.spec.policies[p].as_str().to_string());
    row.push(sw.spec.seeds[s].to_string());
    row
}

/// The name of grid point `index` in verdicts: `point 3 (workload.records=10, cow,
/// seed 1)`.
pub fn point_name(sw: &Sweep, index: usize) -> String {
    let (c, p, s) = sw.point(index);
    let mut parts: Vec<String> = sw
        .spec
        .axis
        .iter()
        .zip(&sw.combos[c].0)
        .map(|(a, v)| format!("{}={}", a.key, value_text(v)))
        .collect();
    parts.push(sw.spec.policies[p].as_str().to_string());
    parts.push(format!("seed {}", sw.spec.seeds[s]));
    format!("point {index} ({})", parts.join(", "))
}

/// The command that runs each grid point of `indices` alone, keyed by its suite's
/// name, its outputs in `point-INDEX`: the sweep file `file` (by its absolute path, so
/// it runs from any directory; quoted once for all of them) with `--shard
/// INDEX+1/POINTS`, the one slice of as many as the grid has points that holds it only
/// (`Report::suite_reproduce`).
pub fn point_commands(
    sw: &Sweep,
    file: &Path,
    indices: impl Iterator<Item = usize>,
) -> std::collections::BTreeMap<String, String> {
    let file = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    let file = crate::shell_word::shell_word(&file);
    let points = sw.points();
    indices
        .map(|i| {
            let command = format!(
                "owm sweep {file} --shard {}/{points} --out point-{i}",
                i + 1
            );
            (point_name(sw, i), command)
        })
        .collect()
}

/// Runs grid point `index`; `None` when Ctrl-C stopped it (within
/// [`sim::PROGRESS_EVENTS`] events of the signal).
fn run_point(path: &Path, sw: &Sweep, index: usize, room: Option<u64>) -> Option<Point> {
    let (c, p, s) = sw.point(index);
    let mut scenario = sw.combos[c].1.clone();
    scenario.limits.in_flight_room_bytes = room;
    let scenario = &scenario;
    let policy = sw.spec.policies[p];
    let seed = sw.spec.seeds[s];
    let name = point_name(sw, index);
    let mut row = row_key(sw, index);
    let mut fractions = vec![String::new(); tables::sweep_fraction_metrics().len()];
    let mut report = Report::new("sweep", String::new(), false);
    let mut messages = Vec::new();
    let mut paused = false;
    let mut stop = |_events: u64, _now: sim::Tick| {
        if !paused {
            paused = true;
            crate::outdir::pause_point(&format!("inside point {index}"));
        }
        if crate::interrupt::requested() {
            std::ops::ControlFlow::Break(())
        } else {
            std::ops::ControlFlow::Continue(())
        }
    };
    let ran = run_one(path, scenario, policy, seed, Some(&mut stop));
    if let Err(e) = &ran {
        if matches!(
            e.downcast_ref::<sim::SimError>(),
            Some(sim::SimError::Interrupted { .. })
        ) {
            return None;
        }
    }
    // The point's name heads every message about it: the error is said as it is.
    match ran {
        Ok(run) => {
            row.extend(tables::sweep_cells(&run.result));
            fractions = tables::sweep_fractions(&run.result);
            verdict::of_run(&mut report, &name, &run.result);
            for v in run.result.claimed_violations() {
                messages.push(format!("violation at {name}: {}", run.result.said(v)));
            }
        }
        Err(e) => {
            // The row names the point; its metric cells stay empty.
            row.resize(sw.header().len(), String::new());
            let reason = axis_limit_text(path, sw, c, &e, policy, seed)
                .unwrap_or_else(|| crate::verdict::error_text(&e));
            messages.push(format!("failed: {name}: {reason}"));
            report.push(&name, "run", Outcome::Failed { reason });
        }
    }
    // Kept for the whole grid: no spare capacity (the cases' vector grows past them).
    let mut cases = report.cases;
    cases.shrink_to_fit();
    Some(Point {
        row,
        fractions,
        cases,
        messages,
        backups_lost: report.backups_lost,
        backup_cycles_lost: report.backup_cycles_lost,
        backups_retried: report.backups_retried,
    })
}

/// The words of a point that a limit stopped (`e`, a [`sim::SimError::Limit`]) when an
/// axis sets that limit: at the line of the axis's value in force (combination
/// `combo`), which the base scenario's key, if any, does not set for this point, with
/// the advice to raise that value. `None` for any other error, or a limit no axis
/// sets (the run's own words then name the base scenario's key).
fn axis_limit_text(
    path: &Path,
    sw: &Sweep,
    combo: usize,
    e: &anyhow::Error,
    policy: sim::Policy,
    seed: u64,
) -> Option<String> {
    let sim_error = e.chain().find_map(|c| c.downcast_ref::<sim::SimError>())?;
    let sim::SimError::Limit { key, .. } = sim_error else {
        return None;
    };
    let at = sw.spec.axis.iter().position(|a| a.key == *key)?;
    let value = sw.combos.get(combo)?.0.get(at)?;
    let src = crate::config::read(path).ok()?;
    let message = format!(
        "policy {policy} with seed {seed} stopped: {sim_error}; this value of the axis is \
         the limit in force: raise it, or shrink the run"
    );
    Some(super::file::axis_error(path, &src, &sw.spec.axis, key, value, &message).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fairness sweep of BENCHMARKS.md's "A sweep's own memory": SATA SSD,
    /// break-snapshot, six policies, two data-area sizes, `seeds = "1..=N"`.
    fn fair(seeds: usize) -> Sweep {
        let src = format!(
            "policies = [\"none\", \"quiesce\", \"crash-consistent\", \"mirroring\", \"logging\", \"cow\"]\n\
             seeds = \"1..={seeds}\"\nbaseline = \"none\"\nx = \"backup.data_area_fraction\"\n\
             metrics = [\"response_ticks_mean\", \"response_ticks_p99\"]\n\
             [[axis]]\nkey = \"backup.data_area_fraction\"\nvalues = [0.005, 1.0]\n\
             [scenario.workload]\nkind = \"generated\"\nrecords = 8192\ntransactions = 1500\n\
             length_min = 1\nlength_max = 1\nwrite_fraction = 0.8\nwrite_kind = \"blind\"\n\
             compute_ticks_min = 10\ncompute_ticks_max = 100\n\
             arrivals = {{ mode = \"open\", interarrival_ticks_mean = 400 }}\n\
             [scenario.geometry]\nblock_size_bytes = 4096\nrecords_per_block = 1\n\
             [scenario.locking]\ngranularity = \"block\"\n\
             [scenario.device]\nprofile = \"sata-ssd\"\njournaled = true\n\
             [scenario.archive]\nprofile = \"lto-8\"\n\
             [scenario.backup]\nrequest_at_ticks = 100000\non_data_area_full = \"break-snapshot\"\n"
        );
        super::super::file::load(Path::new("fair-ssd-bsnap.toml"), &src).unwrap()
    }

    /// The sweep's estimate is above the peak resident size `owm sweep` reached on the
    /// fairness sweep from 240 to 19,200 grid points (BENCHMARKS.md, "A sweep's own
    /// memory": `/usr/bin/time -f %M owm sweep FILE --jobs J --quiet`, with verdict
    /// files, one shard of two), and within 2x of it (besides the panels past a plot's
    /// first, which those runs' plots did not draw): the rows and verdicts kept grow it
    /// by their count.
    #[test]
    fn the_sweeps_estimate_is_above_its_measured_peaks() {
        // (seeds, --jobs, shard, verdict files, peak KiB)
        let peaks: [(usize, usize, bool, bool, u64); 8] = [
            (20, 2, false, false, 15_980),
            (200, 2, false, false, 35_736),
            (800, 2, false, false, 98_828),
            (1_600, 2, false, false, 186_200),
            (800, 1, false, false, 96_948),
            (800, 2, false, true, 112_604),
            (1_600, 2, false, true, 215_276),
            (1_600, 2, true, false, 132_732),
        ];
        for (seeds, jobs, shard, files, peak_kib) in peaks {
            let sw = fair(seeds);
            let selected: Vec<usize> = (0..sw.points())
                .filter(|&i| !shard || Shard { k: 1, n: 2 }.holds(i))
                .collect();
            let estimates = point_estimates(&sw, &selected);
            let f = sweep_at(
                &estimates,
                jobs,
                selected.len(),
                point_shape(&sw, shard),
                plots_at_most(&sw, shard),
                files,
            );
            let peak = peak_kib << 10;
            let what = format!("{seeds} seeds, --jobs {jobs}: {}", f.describe());
            assert!(f.total_bytes() >= peak, "{what}");
            // The peaks were measured on plots of one panel each; the estimate also
            // counts the further panels a plot of these policies may take (one a
            // policy), pictures those runs did not draw.
            let (plots, panels) = plots_at_most(&sw, shard);
            let further = (jobs as u64).min(plots)
                * (sim::footprint::line_plot_bytes(panels) - sim::footprint::LINE_PLOT_BYTES);
            assert!(f.total_bytes() <= 2 * peak + further, "{what}");
        }
    }

    /// The per-case and per-point figures hold the structures they count: a case
    /// twice (the report's list grows by doubling) within its share, a point's record
    /// within its own.
    #[test]
    fn the_kept_structures_fit_their_figures() {
        use sim::footprint::{SWEEP_CASE_BYTES, SWEEP_POINT_BYTES};
        let case = std::mem::size_of::<crate::verdict::Case>() as u64;
        assert!(2 * case + 32 + 80 + 96 + 272 <= SWEEP_CASE_BYTES, "{case}");
        let outcome = std::mem::size_of::<crate::verdict::Outcome>() as u64;
        assert!(sim::footprint::heap_block_bytes(outcome) <= 96, "{outcome}");
        let point = std::mem::size_of::<Point>() as u64;
        assert!(
            2 * (point + 8) + 8 + 24 + 128 <= SWEEP_POINT_BYTES,
            "{point}"
        );
        let sw = fair(2);
        let shape = point_shape(&sw, false);
        assert_eq!(
            shape.cells,
            (sw.header().len() + 2 * tables::sweep_fraction_metrics().len()) as u64
        );
        let longest = (0..sw.points()).map(|i| point_name(&sw, i).len()).max();
        assert!(shape.name_bytes >= longest.unwrap() as u64, "{shape:?}");
    }
}
