//! The grid of a sweep: its points in order (axes, then policies, then seeds), shards
//! of it, and running a set of its points on worker threads.

use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use anyhow::{anyhow, bail, Context, Result};
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
            .map_err(|e| anyhow!("{}: shard: {e}", marker.display()))?;
        let label = format!("shard {}/{} ({})", shard.k, shard.n, dir.display());
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

/// What became of one grid point: its CSV row (metric cells empty when it failed), its
/// verdicts (per invariant, or one `failed` case), and the lines to print about it (its
/// violations, its failure). Kept as JSON between an interrupted sweep and its
/// `--resume`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Point {
    pub row: Vec<String>,
    pub cases: Vec<Case>,
    pub messages: Vec<String>,
    /// The point's lost backup, if any (`Report::backups_lost`), and how many of its
    /// cycles were lost (`Report::backup_cycles_lost`).
    #[serde(default)]
    pub backups_lost: Vec<String>,
    #[serde(default)]
    pub backup_cycles_lost: u64,
}

/// The points that may run together under `jobs` threads, at most: the largest count
/// `j` (1 to `jobs`) such that the `j` largest of `estimates` (bytes, one per point to
/// run) add up to at most `bound_bytes`. Never 0: a point alone is within its own
/// bound (checked when the sweep file was loaded).
pub fn concurrency(estimates: &[u64], bound_bytes: u64, jobs: usize) -> usize {
    let mut largest = estimates.to_vec();
    largest.sort_unstable_by(|a, b| b.cmp(a));
    let mut j = jobs.clamp(1, largest.len().max(1));
    while j > 1 && largest[..j].iter().fold(0u64, |a, &b| a.saturating_add(b)) > bound_bytes {
        j -= 1;
    }
    j
}

/// The threads to run the grid points `todo` on: `jobs`, lowered while the points that
/// may run at once could hold more than the process may. Each point is estimated
/// under its own policy ([`sim::footprint::estimate_point`]: no timeline, no picture,
/// the estimate each point alone was checked with); any `j` of them may run
/// together, so the `j` largest estimates, added, must be within the smallest
/// `limits.memory_bytes_max` of the points ([`concurrency`]). A lowered count is said
/// on stderr with the estimates, the bound and its file:line:key (`path`, its text
/// `src`); the outputs do not depend on it.
pub fn jobs_within_memory(
    path: &Path,
    src: &str,
    sw: &Sweep,
    todo: &[usize],
    jobs: usize,
) -> usize {
    let mut cache: std::collections::HashMap<(usize, usize), u64> = Default::default();
    let mut estimates: Vec<(u64, usize)> = Vec::with_capacity(todo.len());
    for &i in todo {
        let (c, p, _) = sw.point(i);
        let e = *cache.entry((c, p)).or_insert_with(|| {
            let s = &sw.combos[c].1;
            s.layout().map_or(0, |layout| {
                sim::footprint::estimate_point(s, &layout, sw.spec.policies[p]).total_bytes()
            })
        });
        estimates.push((e, i));
    }
    // The smallest bound, and the scenario that sets it.
    let Some(bounding) = todo
        .iter()
        .map(|&i| &sw.combos[sw.point(i).0].1)
        .min_by_key(|s| s.limits.memory_bytes_max)
    else {
        return jobs;
    };
    let bound = bounding.limits.memory_bytes_max;
    let bytes: Vec<u64> = estimates.iter().map(|e| e.0).collect();
    let want = jobs.clamp(1, todo.len().max(1));
    let j = concurrency(&bytes, bound, want);
    if j < want {
        estimates.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let h = sim::footprint::human_bytes;
        let sum = |n: usize| {
            estimates[..n]
                .iter()
                .fold(0u64, |a, e| a.saturating_add(e.0))
        };
        let named: Vec<String> = estimates[..want]
            .iter()
            .map(|&(e, i)| format!("{} {}", point_name(sw, i), h(e)))
            .collect();
        let message = format!(
            "--jobs {want} lowered to {j}: {want} grid points at once could hold about {} \
             (the {want} largest estimates: {}), more than limits.memory_bytes_max = {}; \
             {j} at once hold at most {}. Raise that key to run more at once",
            h(sum(want)),
            sim::oracle::list_text_max(&named, 4),
            h(bound),
            h(sum(j)),
        );
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
    j
}

/// Runs the grid points `selected` on `jobs` threads, handing each finished point to
/// `done` (which keeps it); outcomes come back in index order whatever the thread
/// timing. After SIGINT no new point starts: the points not run are `None`.
pub fn run_points(
    path: &Path,
    sw: &Sweep,
    selected: &[usize],
    jobs: usize,
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
                let Some(point) = run_point(path, sw, index) else {
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

/// Runs grid point `index`; `None` when Ctrl-C stopped it (within
/// [`sim::PROGRESS_EVENTS`] events of the signal).
fn run_point(path: &Path, sw: &Sweep, index: usize) -> Option<Point> {
    let (c, p, s) = sw.point(index);
    let scenario = &sw.combos[c].1;
    let policy = sw.spec.policies[p];
    let seed = sw.spec.seeds[s];
    let name = point_name(sw, index);
    let mut row = row_key(sw, index);
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
    match ran.with_context(|| format!("grid point {index}")) {
        Ok(run) => {
            row.extend(tables::sweep_cells(&run.result));
            verdict::of_run(&mut report, &name, &run.result);
            for v in run.result.claimed_violations() {
                messages.push(format!("violation at {name}: {v}"));
            }
        }
        Err(e) => {
            // The row names the point; its metric cells stay empty.
            row.resize(sw.header().len(), String::new());
            messages.push(format!(
                "failed: {name}: {}",
                crate::verdict::error_text(&e)
            ));
            report.push(
                &name,
                "run",
                Outcome::Failed {
                    reason: crate::verdict::error_text(&e),
                },
            );
        }
    }
    Some(Point {
        row,
        cases: report.cases,
        messages,
        backups_lost: report.backups_lost,
        backup_cycles_lost: report.backup_cycles_lost,
    })
}

#[cfg(test)]
mod tests {
    use super::concurrency;

    /// The count chosen is the most whose largest estimates fit: one more would not
    /// (or it is `jobs`, or the points), and it is never 0.
    #[test]
    fn concurrency_is_the_most_points_whose_largest_estimates_fit() {
        let cases: [(&[u64], u64, usize); 6] = [
            (&[10, 10, 10], 25, 3),
            (&[10, 10, 10], 30, 3),
            (&[10, 10, 10], 30, 8),
            (&[5, 30, 1, 20], 40, 4),
            (&[50, 50], 10, 2),
            (&[], 10, 4),
        ];
        for (estimates, bound, jobs) in cases {
            let j = concurrency(estimates, bound, jobs);
            let mut sorted = estimates.to_vec();
            sorted.sort_unstable_by(|a, b| b.cmp(a));
            let sum = |n: usize| sorted[..n].iter().sum::<u64>();
            assert!(
                j >= 1 && j <= jobs.max(1),
                "{estimates:?} {bound} {jobs}: {j}"
            );
            assert!(j <= sorted.len().max(1), "{estimates:?}: {j}");
            if j > 1 {
                assert!(sum(j) <= bound, "{estimates:?} {bound}: {j}");
            }
            if j < jobs.min(sorted.len()) {
                assert!(sum(j + 1) > bound, "{estimates:?} {bound} {jobs}: {j}");
            }
        }
        assert_eq!(concurrency(&[10, 10, 10], 25, 3), 2);
        assert_eq!(concurrency(&[5, 30, 1, 20], 40, 4), 1);
        assert_eq!(concurrency(&[5, 30, 1, 20], 55, 4), 3);
        assert_eq!(concurrency(&[5, 30, 1, 20], 56, 4), 4);
    }
}
