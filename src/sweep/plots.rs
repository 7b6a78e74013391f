//! The line plots of a sweep: one per metric (and per combination of the axes other
//! than x), x the swept value, one line per policy, y the mean over the seeds. Axis
//! labels and titles come from `reports::names` (words and units, never raw keys); the
//! x axis is logarithmic when asked (`scale = "log"`) or when its values span two
//! decades, and categorical (evenly spaced, named ticks) when they are not numbers.
//! The y axis is logarithmic when every mean is above 0 and they span two decades
//! ([`reports::lines::y_log_of`]: a disk's million ticks beside a flash device's
//! thousand); else policies whose peaks are more than [`reports::lines::SCALE_RATIO`]
//! apart are drawn in panels of their own scale over the shared x axis
//! ([`reports::lines::panels`], the rule of a run's extra space plots), the picture
//! saying so under its title.

use std::collections::{HashMap, HashSet};

use reports::lines::{LinePlot, Series, XScale};
use reports::names;

use super::file::{value_text, AxisSpec, Scale};
use super::grid::Sweep;
use crate::sweep_stats::{self, Value};

/// Why a policy has no value where nothing in its rows says why.
const UNKNOWN_WHY: &str = "sweep.csv leaves it empty";

/// What `metric` is undefined without, when its rows say it lacks it (`all_are(column,
/// value)`: every row's `column` holds `value`), as a plot's legend says it: a mean, p99
/// or max of no sample, a ratio to no logical write, a data area on a variant with none,
/// an abandon time with no abandon, a milestone of no request, a copy to B' not made.
/// `None` when the rows do not show it.
fn undefined_why(metric: &str, all_are: &dyn Fn(&str, &str) -> bool) -> Option<String> {
    let statistic = ["mean", "p99", "max"].iter().any(|s| metric.contains(s));
    let per = metric.strip_suffix("_per_logical_write");
    let span = |s: &str| per.is_some_and(|p| p.starts_with(s));
    // (the metric is one of these, the column, its value in every row, the reason).
    let cases: [(bool, &str, &str, &str); 11] = [
        (
            metric.starts_with("admission_delay_") && statistic,
            "admission_delay_count",
            "0",
            "no attempt admitted after a split or held at the gate",
        ),
        (
            span("window_"),
            "window_logical_writes",
            "0",
            "no logical write in the backup window",
        ),
        (
            span("before_"),
            "before_logical_writes",
            "0",
            "no logical write before the request",
        ),
        (per.is_some(), "logical_writes", "0", "no logical write"),
        (
            metric.starts_with("response_"),
            "committed",
            "0",
            "no transaction committed",
        ),
        (
            metric.starts_with("window_response_"),
            "window_committed",
            "0",
            "no transaction that arrived in the backup window committed",
        ),
        (
            metric.starts_with("before_response_"),
            "before_committed",
            "0",
            "no transaction that arrived before the request committed",
        ),
        // Only the mirroring variant (a policy's own, or the point-in-time copy of
        // quiesce and crash-consistent over it) has no data area.
        (
            metric == "data_area_blocks",
            "data_area_blocks",
            "",
            "no data area on a mirror",
        ),
        (
            metric == "abandoned_at_ticks",
            "backup_abandoned",
            "0",
            "no backup abandoned",
        ),
        (
            metric.starts_with("detach_"),
            "detach_start_at_ticks",
            "",
            "no copy to B' made",
        ),
        (
            metric.ends_with("_at_ticks") || metric.starts_with("request_to_"),
            "request_at_ticks",
            "",
            "no backup request in the run",
        ),
    ];
    cases
        .into_iter()
        .find(|&(is, column, value, _)| is && all_are(column, value))
        .map(|(_, _, _, why)| why.to_string())
}

/// The one x category of a sweep with no `[[axis]]`: every point is the base scenario.
const NO_AXIS_CATEGORY: &str = "base scenario";

/// A sweep.csv cell of the plots: (policy, x value, the other axes' values).
type Cell<'a> = (&'a str, &'a str, Vec<&'a str>);

/// Why a paired difference of a response time has no point: on every seed the policy
/// committed a different number of transactions than the baseline (its backup aborted
/// some: [`sweep_stats::pairs`]).
const NOT_COMPARED: &str =
    "not compared: it committed a different number of transactions on every seed";

/// The rows of `cells` of `policy` at x value `x` in group `g` (none: empty), borrowed
/// as long as the arguments are (a key of shorter-lived text finds the map's entries).
fn group_rows<'a>(
    cells: &'a HashMap<Cell<'a>, Vec<&'a [String]>>,
    policy: &'a str,
    x: &'a str,
    g: &'a [String],
) -> &'a [&'a [String]] {
    let key = (policy, x, g.iter().map(String::as_str).collect());
    cells.get(&key).map_or(&[][..], Vec::as_slice)
}

/// One plot of a sweep and what it shows: the row of `plots.csv` that names it.
pub struct PlotFile {
    /// The file stem: `<name>.svg` and `<name>.png`.
    pub name: String,
    /// The picture.
    pub plot: LinePlot,
    /// The sweep.csv column drawn.
    pub metric: String,
    /// The policy whose values are subtracted seed by seed (the sweep's `baseline`),
    /// `None` for the metric itself.
    pub against: Option<String>,
    /// The values of the axes other than x this plot holds fixed, in the sweep file's
    /// axis order (as sweep.csv writes them).
    pub fixed: Vec<String>,
}

/// The header of `plots.csv`: `plot` (the file stem), `metric`, `difference_against`
/// (the baseline policy of a plot of paired differences, else empty), `x_axis` (the
/// key along x, empty with no `[[axis]]`), then one column per other axis, named by
/// its key: the value that plot holds it at.
pub fn index_header(sw: &Sweep) -> Vec<String> {
    let x = x_axis_key(sw);
    let mut header: Vec<String> = ["plot", "metric", "difference_against", "x_axis"]
        .map(String::from)
        .to_vec();
    header.extend(
        sw.spec
            .axis
            .iter()
            .filter(|a| Some(&a.key) != x.as_ref())
            .map(|a| a.key.clone()),
    );
    header
}

/// The rows of `plots.csv` ([`index_header`]), one per plot, in `plots`' order.
pub fn index_rows(sw: &Sweep, plots: &[PlotFile]) -> Vec<Vec<String>> {
    let x = x_axis_key(sw).unwrap_or_default();
    plots
        .iter()
        .map(|p| {
            let mut row = vec![
                p.name.clone(),
                p.metric.clone(),
                p.against.clone().unwrap_or_default(),
                x.clone(),
            ];
            row.extend(p.fixed.iter().cloned());
            row
        })
        .collect()
}

/// The key of the axis along x: the sweep's `x`, else its first axis; `None` with no
/// `[[axis]]`.
fn x_axis_key(sw: &Sweep) -> Option<String> {
    sw.spec
        .x
        .clone()
        .or_else(|| sw.spec.axis.first().map(|a| a.key.clone()))
}

/// The line plots of a sweep's rows `rows` (sweep.csv's, in grid order), one per
/// metric, difference against the baseline and combination of the axes other than x
/// (file stem `<metric>`, `<metric>--vs-<baseline>`, with `--<k>` for the k-th
/// combination when there are several: `plots.csv` names each). The rows are grouped by
/// cell once, so the work grows with the rows, not with rows times points.
pub fn line_plots(sw: &Sweep, rows: &[Vec<String>]) -> Vec<PlotFile> {
    let header = sw.header();
    let axes = &sw.spec.axis;
    let x_axis = x_axis_key(sw);
    let x_pos = x_axis
        .as_ref()
        .and_then(|x| axes.iter().position(|a| &a.key == x));
    let col = |name: &str| header.iter().position(|h| h == name);
    // Groups: the values of the other axes, in grid order.
    let mut groups: Vec<Vec<String>> = Vec::new();
    let mut seen: HashSet<Vec<String>> = HashSet::new();
    for (values, _) in &sw.combos {
        let g: Vec<String> = values
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != x_pos)
            .map(|(_, v)| value_text(v))
            .collect();
        if seen.insert(g.clone()) {
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
    // The rows of each (policy, x value, group), in row order, found in one pass: a
    // row whose other axes have no column is in no group.
    let other_cols: Option<Vec<usize>> = others.iter().map(|a| col(&a.key)).collect();
    let mut cells: HashMap<Cell, Vec<&[String]>> = HashMap::new();
    if let Some(other_cols) = &other_cols {
        for r in rows {
            let x = x_pos.map_or("", |i| r[1 + i].as_str());
            let g = other_cols.iter().map(|&c| r[c].as_str()).collect();
            cells
                .entry((r[policy_col].as_str(), x, g))
                .or_default()
                .push(r.as_slice());
        }
    }
    // (seed, value) of metric column `m` for `policy` at x value `x` in group `g`.
    let values = |m: usize, policy: &str, x: &str, g: &[String]| -> Vec<(String, Value)> {
        group_rows(&cells, policy, x, g)
            .iter()
            .filter_map(|r| Some((r[seed_col].clone(), Value::parse(&r[m])?)))
            .collect()
    };
    // The seeds of `policy` at x value `x` in group `g` whose runs failed (a row of
    // empty cells, [`sweep_stats::failed_row`]).
    let failed_seeds =
        |policy: &str, x: &str, g: &[String]| -> std::collections::BTreeSet<String> {
            group_rows(&cells, policy, x, g)
                .iter()
                .filter(|r| sweep_stats::failed_row(r, seed_col))
                .map(|r| r[seed_col].clone())
                .collect()
        };
    // Why `policy` has no value of `metric` at x value `x` in group `g`: its runs
    // failed; it takes no backup; what the metric is undefined without, when every row lacks it
    // ([`undefined_why`]); its seeds' backups were lost (every metric of a copy is
    // empty then); else, the reason unknown here, that the rows leave it empty.
    let (abandoned, given_up) = (col("backup_abandoned"), col("backup_given_up"));
    let committed_col = col(sweep_stats::COMMITTED);
    let no_value_why = |metric: &str, policy: &str, x: &str, g: &[String]| -> String {
        let rows = group_rows(&cells, policy, x, g);
        let every = |c: Option<usize>| {
            !rows.is_empty() && c.is_some_and(|c| rows.iter().all(|r| r[c] == "1"))
        };
        // Every row's `column` holds `value`.
        let all_are = |column: &str, value: &str| {
            !rows.is_empty() && col(column).is_some_and(|c| rows.iter().all(|r| r[c] == value))
        };
        let lost = || {
            rows.iter()
                .all(|r| [abandoned, given_up].iter().flatten().any(|&c| r[c] == "1"))
        };
        let seeds = if rows.len() == 1 {
            "the seed's backup"
        } else {
            "every seed's backup"
        };
        // A grid point that failed (a limit, an error) has a row of empty cells: a
        // run that ends always counts its commits.
        let failed = all_are("committed", "");
        if failed {
            if rows.len() == 1 {
                "the seed's run failed".to_string()
            } else {
                "every seed's run failed".to_string()
            }
        } else {
            let lost_why = if every(abandoned) {
                Some(format!("{seeds} abandoned"))
            } else if every(given_up) {
                Some(format!("{seeds} given up"))
            } else if !rows.is_empty() && lost() {
                Some(format!("{seeds} given up or abandoned"))
            } else {
                None
            };
            if policy == sim::Policy::None.as_str() {
                format!("{policy} takes no backup")
            } else {
                // What the metric lacks, and beside it the backups lost: a plot of the
                // window alone would otherwise hide that no backup was taken there.
                match (undefined_why(metric, &all_are), lost_why) {
                    (Some(why), Some(lost)) => format!("{why}; {lost}"),
                    (Some(why), None) | (None, Some(why)) => why,
                    (None, None) => UNKNOWN_WHY.to_string(),
                }
            }
        }
    };
    let xs: Vec<String> = match x_pos {
        Some(i) => axes[i].values.iter().map(value_text).collect(),
        None => vec![String::new()],
    };
    // No axis: the seeds alone are swept, and each plot draws the policies side by
    // side at the base scenario, its one category.
    let x_scale = match x_pos {
        Some(i) => XScale::of(&xs, axes[i].scale.map(|s| s == Scale::Log)),
        None => XScale::Categories(vec![NO_AXIS_CATEGORY.to_string()]),
    };
    let categorical = matches!(x_scale, XScale::Categories(_));
    let x_key = x_axis.clone().unwrap_or_default();
    let baseline = sw.spec.baseline.map(|b| b.as_str());
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
                // The number of values behind each point drawn (seeds, or pairs), series
                // by series (a panel's label counts its own).
                let mut ns_of: Vec<Vec<usize>> = Vec::new();
                // Why points have no interval: one value behind them, or n ≥ 2 values
                // all the same (the seeds did not change the metric).
                let (mut lone, mut flat) = (false, false);
                // The reasons of the points missing, over every policy.
                let mut frame_whys: Vec<String> = Vec::new();
                for policy in &sw.spec.policies {
                    if against == Some(policy.as_str()) {
                        continue;
                    }
                    let mut points = Vec::new();
                    let mut intervals = Vec::new();
                    let mut seeds_failed = Vec::new();
                    let mut own_ns = Vec::new();
                    // The x values with no point, by why.
                    let mut missing: Vec<(String, Vec<&str>)> = Vec::new();
                    for (xi, x) in xs.iter().enumerate() {
                        let ys = values(m, policy.as_str(), x, g);
                        // Whether a seed with a value on both sides was left out of
                        // the pairing for committing a different number.
                        let mut aborted_out = false;
                        let summary = match against {
                            None => {
                                sweep_stats::summary(&ys.iter().map(|y| y.1).collect::<Vec<_>>())
                            }
                            Some(b) => {
                                let side = |p: &str, values| sweep_stats::Side {
                                    values,
                                    committed: sweep_stats::committed_by_seed(
                                        group_rows(&cells, p, x, g).iter().copied(),
                                        seed_col,
                                        committed_col,
                                    ),
                                };
                                let pairs = sweep_stats::pairs(
                                    metric,
                                    &side(policy.as_str(), ys.clone()),
                                    &side(b, values(m, b, x, g)),
                                );
                                aborted_out = !pairs.left_out.is_empty();
                                sweep_stats::paired(&pairs.policy, &pairs.baseline)
                            }
                        };
                        if summary.n == 0 {
                            let why = match (ys.is_empty(), against) {
                                (false, Some(_)) if aborted_out => NOT_COMPARED.to_string(),
                                (false, Some(b)) => format!("no seed with a value of {b}'s"),
                                _ => no_value_why(metric, policy.as_str(), x, g),
                            };
                            match missing.iter_mut().find(|(w, _)| *w == why) {
                                Some((_, at)) => at.push(x),
                                None => missing.push((why, vec![x])),
                            }
                        }
                        if summary.n > 0 {
                            own_ns.push(summary.n);
                            let xv = match x.parse::<f64>() {
                                Ok(v) if !categorical => v,
                                _ => xi as f64,
                            };
                            points.push((xv, summary.mean));
                            // Seeds that ran here but failed (of the baseline too, for
                            // a difference: its pair is lost): the point is the mean of
                            // the rest.
                            let failed = failed_seeds(policy.as_str(), x, g);
                            let failed = match against {
                                None => failed.len(),
                                Some(b) => {
                                    let mut both = failed;
                                    both.extend(failed_seeds(b, x, g));
                                    both.len()
                                }
                            };
                            if failed > 0 {
                                let run = group_rows(&cells, policy.as_str(), x, g).len();
                                seeds_failed.push((xv, failed, run));
                            }
                            if let Some((lo, hi)) = summary.interval() {
                                intervals.push((xv, lo, hi));
                            }
                            match summary.varies() {
                                None => lone = true,
                                Some(false) => flat = true,
                                Some(true) => {}
                            }
                        }
                    }
                    if !categorical {
                        // A numeric axis joins its points in x order, whatever the
                        // order of the file's values (the grid keeps that order).
                        points.sort_by(|a, b| a.0.total_cmp(&b.0));
                        intervals.sort_by(|a, b| a.0.total_cmp(&b.0));
                        seeds_failed.sort_by(|a, b| a.0.total_cmp(&b.0));
                    }
                    for (why, _) in &missing {
                        if !frame_whys.contains(why) {
                            frame_whys.push(why.clone());
                        }
                    }
                    // Where the series has no point, and why, in its legend entry
                    // (none when no policy has a value anywhere: the frame says so).
                    let note = (!missing.is_empty()).then(|| {
                        missing
                            .iter()
                            .map(|(why, at)| match at.len() == xs.len() && xs.len() > 1 {
                                true => format!("no value at any x: {why}"),
                                // No axis: the one category, not its empty x.
                                false if x_pos.is_none() => {
                                    format!("no value at {NO_AXIS_CATEGORY}: {why}")
                                }
                                false => format!("no value at {}: {why}", at.join(", ")),
                            })
                            .collect::<Vec<_>>()
                            .join("; ")
                    });
                    ns_of.push(own_ns);
                    series.push(Series {
                        name: policy.as_str().to_string(),
                        points,
                        intervals,
                        note,
                        seeds_failed,
                    });
                }
                // A difference drawn from no pair at all (the baseline has no value for
                // the metric): no plot, rather than an empty frame.
                // (Nor when no seed was paired for the backup's aborts: a line says so,
                // [`crate::sweep_stats::aborted_pairs_note`].)
                if against.is_some() && series.iter().all(|s| s.points.is_empty()) {
                    continue;
                }
                // An empty frame says why in its middle ([`LinePlot::no_value`]).
                if series.iter().all(|s| s.points.is_empty()) {
                    for s in &mut series {
                        s.note = None;
                    }
                }
                let suffix: Vec<String> = others
                    .iter()
                    .zip(g)
                    .map(|(a, v)| names::setting(&a.key, v))
                    .collect();
                let against_x = match x_pos {
                    Some(_) => format!("vs {}", names::name(&x_key)),
                    None => "per policy (no [[axis]])".to_string(),
                };
                let what = match against {
                    None => format!("{} {against_x}", names::name(metric)),
                    Some(b) => format!(
                        "{} minus {b}'s, seed by seed, {against_x}",
                        names::name(metric)
                    ),
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
                // One reason known for every policy's every missing point: the frame
                // gives it; else that the rows leave the metric empty.
                let no_value =
                    ns_of
                        .iter()
                        .all(Vec::is_empty)
                        .then(|| match frame_whys.as_slice() {
                            [why] if why != UNKNOWN_WHY => format!("no value at any point: {why}"),
                            _ => format!(
                                "no value at any point: sweep.csv leaves {metric} empty for every \
                         policy and seed here"
                            ),
                        });
                // The y label over the series `idx`: n as their points have it, one number
                // when they share it, else the range ("1-12"), which `stats.csv`'s `n`
                // gives point by point. One seed at every point: no interval anywhere (a
                // range of n keeps "95 % CI": its one-seed points are ringed, the legend
                // saying so). No point with an interval (every one a single seed or
                // without spread): the label says there is none, as the rings do.
                let has_interval: Vec<bool> =
                    series.iter().map(|s| !s.intervals.is_empty()).collect();
                let label_of = |idx: &[usize]| {
                    let own: Vec<usize> = idx
                        .iter()
                        .filter_map(|&i| ns_of.get(i))
                        .flatten()
                        .copied()
                        .collect();
                    let (lo, hi) = (
                        own.iter().copied().min().unwrap_or(0),
                        own.iter().copied().max().unwrap_or(0),
                    );
                    let n = if lo == hi {
                        lo.to_string()
                    } else {
                        format!("{lo}-{hi}")
                    };
                    let any_interval = idx.iter().any(|&i| has_interval.get(i) == Some(&true));
                    let (seeds, ci) = match hi {
                        0 | 1 => ("seed", "no 95 % CI"),
                        _ if !any_interval => ("seeds", "no 95 % CI"),
                        _ => ("seeds", "95 % CI"),
                    };
                    match against {
                        None if own.is_empty() => {
                            format!("{}: no value at any point", names::label(metric))
                        }
                        None if hi == 1 => format!("{}: 1 seed, {ci}", names::label(metric)),
                        None => format!("{}: mean of {n} {seeds}, {ci}", names::label(metric)),
                        Some(b) if hi == 1 => format!(
                            "{} − {b}'s: paired difference of 1 seed, {ci}",
                            names::label(metric)
                        ),
                        Some(b) => format!(
                            "{} − {b}'s: mean paired difference of {n} {seeds}, {ci}",
                            names::label(metric)
                        ),
                    }
                };
                let all: Vec<usize> = (0..series.len()).collect();
                let y_label = label_of(&all);
                // The legend says why the ringed points have no interval (the rings
                // and the entry are drawn only where a point has none).
                let (one, values) = match against {
                    None => ("one seed", "seeds"),
                    Some(_) => ("one pair", "pairs"),
                };
                let why = match (lone, flat) {
                    (true, true) => format!("{one} or no spread across {values}"),
                    (false, true) => format!("no spread across {values}"),
                    _ => one.to_string(),
                };
                let no_interval = Some(format!("ringed: {why}, no 95 % CI"));
                // Means spanning decades, all above 0 with their intervals (a disk's
                // beside a flash device's), on a log y axis: each read at its own scale.
                // A difference never: its reference is 0.
                let y_log = against.is_none() && reports::lines::y_log_of(&series);
                let mut plot = LinePlot {
                    title,
                    x_label: match x_pos {
                        Some(_) => names::label(&x_key),
                        None => "policies at the base scenario (no [[axis]])".into(),
                    },
                    y_label,
                    x_scale: x_scale.clone(),
                    series,
                    markers: true,
                    no_interval,
                    no_value,
                    // Policies whose means lie orders of magnitude apart (a mirror's
                    // whole image beside a log's few blocks) each rise across a panel
                    // of their own scale, by the rule of the extra space plots.
                    split_scales: true,
                    y_log,
                    // A panel of its own scale whose means span decades, on a log
                    // axis of its own (another policy's 0 keeps the rest linear).
                    y_log_panels: against.is_none(),
                    panel_y_labels: Vec::new(),
                    marks: Vec::new(),
                };
                // Each panel's label counts the seeds of its own points.
                let groups = reports::lines::panels(&plot);
                if groups.len() > 1 {
                    plot.panel_y_labels = groups.iter().map(|idx| label_of(idx)).collect();
                }
                out.push(PlotFile {
                    name,
                    plot,
                    metric: metric.clone(),
                    against: against.map(str::to_string),
                    fixed: g.clone(),
                });
            }
        }
    }
    out
}

/// The line that names the metrics plotted with no value at any point of a plot (an
/// empty frame, which says so; e.g. `retire_at_ticks` where every backup was
/// abandoned), with those plots; `None` when every plot has a point.
pub fn no_value_note(metrics: &[String], plots: &[PlotFile]) -> Option<String> {
    let parts: Vec<String> = metrics
        .iter()
        .filter_map(|m| {
            let of_metric: Vec<&PlotFile> = plots.iter().filter(|p| &p.metric == m).collect();
            let empty: Vec<String> = of_metric
                .iter()
                .filter(|p| p.plot.no_value.is_some())
                .map(|p| format!("{}.svg", p.name))
                .collect();
            (!empty.is_empty()).then(|| {
                format!(
                    "{m} in {} of {} plots ({})",
                    empty.len(),
                    of_metric.len(),
                    empty.join(", ")
                )
            })
        })
        .collect();
    (!parts.is_empty()).then(|| {
        format!(
            "no value at any point (sweep.csv leaves the metric empty for every policy and \
             seed there; the plot is an empty frame that says so): {}",
            parts.join("; ")
        )
    })
}
