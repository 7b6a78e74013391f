//! The statistics table of a sweep (`stats.csv`): for every combination of the axes,
//! policy and metric, the replications' n, mean, standard deviation and 95 %
//! Student-t interval, and whether the seeds gave different values at all; with a
//! `baseline` policy, every other policy's paired difference to it over the same seeds
//! (how many seeds pair, the mean, 95 % interval, whether the differences differ,
//! whether the interval excludes 0; empty where there is no interval), the ratio of the
//! two policies' means, and the half-width the difference's interval would have without
//! pairing (Welch), to show what pairing gains. A row's n, mean and interval count
//! every seed its policy has a value on; the paired columns, the ratio and Welch's
//! half-width only the seeds both have a value on (`diff_n`), so that a seed one policy
//! lost (a limit cut its run) never tips the ratio against the paired difference.
//! Where every seed gave the same value (or the same difference) the seeds are no
//! replications: no interval is reported and nothing is claimed significant
//! (`seeds_differ`, `diff_seeds_differ` = `false`).
//!
//! Built from the rows of `sweep.csv` with their fractional cells exact ([`exact_rows`]:
//! a mean or a count per write as `NUM/DEN`, as each grid point kept it, where
//! `sweep.csv` rounds it to 3 decimals), every cell read as an exact fraction
//! ([`Value`]): two values, or two paired differences, are the same exactly when their
//! fractions are equal, so a constant offset between two policies (1340/116 ticks on
//! every seed) is a constant difference whatever the rounding of its decimals. A shard
//! keeps the exact values in its `points.json`, so a merge of shards writes the same
//! bytes.

use std::collections::HashMap;

use crate::stats::{ratio, unpaired_half_width, Summary};

/// A cell's value as the statistics read it: an exact fraction `num / den` (reduced,
/// `den` ≥ 1) for an integer, a decimal (`12.345` is 12345/1000) or `NUM/DEN`; the
/// number as read (`Float`) where the fraction does not fit in 128 bits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Exact { num: i128, den: i128 },
    Float(f64),
}

impl Value {
    /// The fraction `num / den` reduced (`den` ≠ 0).
    fn exact(num: i128, den: i128) -> Value {
        let g = gcd(num.unsigned_abs(), den.unsigned_abs()).max(1);
        // g divides both, so both quotients fit; the sign goes to the numerator.
        let (num, den) = (num / g as i128, den / g as i128);
        if den < 0 {
            match (num.checked_neg(), den.checked_neg()) {
                (Some(n), Some(d)) => Value::Exact { num: n, den: d },
                _ => Value::Float(num as f64 / den as f64),
            }
        } else {
            Value::Exact { num, den }
        }
    }

    /// The value of a cell: an integer, a decimal, `NUM/DEN`; `None` for an empty
    /// cell or text that is no number.
    pub fn parse(cell: &str) -> Option<Value> {
        if let Some((n, d)) = cell.split_once('/') {
            let (n, d) = (n.parse::<u128>().ok()?, d.parse::<u128>().ok()?);
            if d == 0 {
                return None;
            }
            return Some(match (i128::try_from(n), i128::try_from(d)) {
                (Ok(n), Ok(d)) => Value::exact(n, d),
                _ => Value::Float(n as f64 / d as f64),
            });
        }
        let float = || {
            cell.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .map(Value::Float)
        };
        let (negative, digits) = match cell.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, cell),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let plain = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !plain(whole) || !plain(fraction) {
            return float();
        }
        let mut num: i128 = 0;
        let mut den: i128 = 1;
        for b in whole.bytes().chain(fraction.bytes()) {
            match num
                .checked_mul(10)
                .and_then(|n| n.checked_add(i128::from(b - b'0')))
            {
                Some(n) => num = n,
                None => return float(),
            }
        }
        for _ in 0..fraction.len() {
            match den.checked_mul(10) {
                Some(d) => den = d,
                None => return float(),
            }
        }
        Some(Value::exact(if negative { -num } else { num }, den))
    }

    /// The nearest `f64` of an exact value (two exact values that are equal give the
    /// same `f64`: the fraction is reduced).
    pub fn to_f64(self) -> f64 {
        match self {
            Value::Exact { num, den } => num as f64 / den as f64,
            Value::Float(v) => v,
        }
    }

    /// `self − other`: exact when both are and the result fits in 128 bits.
    pub fn minus(self, other: Value) -> Value {
        if let (Value::Exact { num: a, den: b }, Value::Exact { num: c, den: d }) = (self, other) {
            let exact = (|| {
                let num = a.checked_mul(d)?.checked_sub(c.checked_mul(b)?)?;
                Some(Value::exact(num, b.checked_mul(d)?))
            })();
            if let Some(v) = exact {
                return v;
            }
        }
        Value::Float(self.to_f64() - other.to_f64())
    }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The summary of `xs`' values.
pub fn summary(xs: &[Value]) -> Summary {
    Summary::of(&xs.iter().map(|x| x.to_f64()).collect::<Vec<_>>())
}

/// The differences `xs − baseline`, paired by position (the same seed): of the exact
/// differences when every one is exact (equal exactly when their fractions are, so a
/// constant offset has no spread); else as [`crate::stats::paired`] computes them from
/// the numbers.
pub fn paired(xs: &[Value], baseline: &[Value]) -> Summary {
    let exact: Option<Vec<f64>> = xs
        .iter()
        .zip(baseline)
        .map(|(x, b)| match x.minus(*b) {
            d @ Value::Exact { .. } => Some(d.to_f64()),
            Value::Float(_) => None,
        })
        .collect();
    match exact {
        Some(d) => Summary::of(&d),
        None => {
            let f = |v: &[Value]| v.iter().map(|x| x.to_f64()).collect::<Vec<_>>();
            crate::stats::paired(&f(xs), &f(baseline)).difference
        }
    }
}

/// Puts into `rows` (sweep.csv's, under `header`) the exact values of their
/// fractional cells: `fractions[i]` is row i's (`tables::sweep_fraction_metrics` in
/// order, as a grid point keeps them).
pub fn exact_rows(header: &[String], rows: &mut [Vec<String>], fractions: Vec<Vec<String>>) {
    let columns: Vec<Option<usize>> = reports::tables::sweep_fraction_metrics()
        .iter()
        .map(|m| header.iter().position(|h| h == m))
        .collect();
    for (row, exact) in rows.iter_mut().zip(fractions) {
        for (c, text) in columns.iter().zip(exact) {
            if let Some(cell) = c.and_then(|c| row.get_mut(c)) {
                *cell = text;
            }
        }
    }
}

/// A number in a statistics cell (4 decimals; empty when undefined).
pub fn cell(x: Option<f64>) -> String {
    match x {
        Some(v) if v.is_finite() => format!("{v:.4}"),
        _ => String::new(),
    }
}

/// A yes/no cell: `true`, `false`, or empty when the question has no answer.
fn flag(x: Option<bool>) -> String {
    x.map(|b| b.to_string()).unwrap_or_default()
}

/// True when `row` (of `sweep.csv`, its seed in column `seed_col`) is that of a grid
/// point whose run failed (a limit cut it, an error stopped it): every cell after the
/// seed is empty (a run that ends always counts its commits).
pub fn failed_row(row: &[String], seed_col: usize) -> bool {
    row.get(seed_col + 1..)
        .is_some_and(|cells| cells.iter().all(String::is_empty))
}

/// The columns of `stats.csv`.
pub fn header(axes: &[String], with_baseline: bool) -> Vec<String> {
    let mut h: Vec<String> = axes.to_vec();
    h.extend(
        [
            "policy",
            "metric",
            "n",
            "mean",
            "sd",
            "ci95_low",
            "ci95_high",
            "seeds_differ",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    if with_baseline {
        h.extend(
            [
                "baseline",
                "diff_n",
                "diff_mean",
                "diff_ci95_low",
                "diff_ci95_high",
                "diff_seeds_differ",
                "diff_excludes_0",
                "ratio",
                "unpaired_ci95_half_width",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
    }
    h.extend(["seeds_run", "seeds_failed"].map(String::from));
    h
}

/// One group of rows: the axis values and policy they share, and their rows.
struct Group<'a> {
    key: Vec<&'a str>,
    rows: Vec<&'a [String]>,
}

/// Groups `rows` (in grid order: axes, then policy, then seed innermost) by their
/// axis values and policy; `axes` is how many axis columns follow `index`.
fn groups(rows: &[Vec<String>], axes: usize) -> Vec<Group<'_>> {
    let mut out: Vec<Group<'_>> = Vec::new();
    for r in rows {
        let key: Vec<&str> = r[1..=axes + 1].iter().map(String::as_str).collect();
        match out.last_mut() {
            Some(g) if g.key == key => g.rows.push(r),
            _ => out.push(Group { key, rows: vec![r] }),
        }
    }
    out
}

/// The values of metric column `col` in `rows` (unparsable cells skipped), with
/// their seeds.
fn values(rows: &[&[String]], seed_col: usize, col: usize) -> Vec<(String, Value)> {
    rows.iter()
        .filter_map(|r| Some((r[seed_col].clone(), Value::parse(&r[col])?)))
        .collect()
}

/// `(seed, value)` pairs by seed: the first value of each seed.
pub fn by_seed<T>(values: Vec<(String, T)>) -> HashMap<String, T> {
    let mut m = HashMap::with_capacity(values.len());
    for (seed, y) in values {
        m.entry(seed).or_insert(y);
    }
    m
}

/// The column of `sweep.csv` counting the transactions a run committed: the population
/// a response time is taken over. A transaction ended aborted (a write its backup's
/// full data area refused under `break-guest-write`, an injected write error or crash)
/// or unfinished is not in it.
pub const COMMITTED: &str = "committed";

/// True for a metric taken over the transactions that committed (a response time): a
/// policy that aborted transactions (its backup's full data area, an injected fault) is
/// faster on these only by having failed the others, and one that committed more than
/// the baseline is slower only by having served them; so a paired difference of such
/// a metric leaves out every seed on which the policy and the baseline did not commit
/// the same number of transactions ([`comparable`]).
pub fn over_committed(metric: &str) -> bool {
    metric.contains("response_ticks")
}

/// The transactions each seed's run committed ([`COMMITTED`], column `col` of `rows`;
/// empty without the column).
pub fn committed_by_seed<'a>(
    rows: impl IntoIterator<Item = &'a [String]>,
    seed_col: usize,
    col: Option<usize>,
) -> HashMap<String, u64> {
    let Some(col) = col else {
        return HashMap::new();
    };
    by_seed(
        rows.into_iter()
            .filter_map(|r| Some((r[seed_col].clone(), r.get(col)?.parse::<u64>().ok()?)))
            .collect(),
    )
}

/// Whether `seed` of a policy pairs with the baseline's on `metric`: always, unless the
/// metric is taken over the committed transactions ([`over_committed`]) and the
/// policy's run (`committed`) and the baseline's (`base_committed`) committed a
/// different number of transactions on that seed (a seed either lacks pairs).
fn comparable(
    metric: &str,
    seed: &str,
    committed: &HashMap<String, u64>,
    base_committed: &HashMap<String, u64>,
) -> bool {
    if !over_committed(metric) {
        return true;
    }
    match (committed.get(seed), base_committed.get(seed)) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// One policy's side of a pairing at one grid point: its values of a metric with their
/// seeds (grid order), and the transactions each seed's run committed.
pub struct Side {
    pub values: Vec<(String, Value)>,
    pub committed: HashMap<String, u64>,
}

impl Side {
    /// The side of `rows` (one policy's rows at one grid point): metric column `col`,
    /// seeds in `seed_col`, [`COMMITTED`] in `committed_col`.
    pub fn of(
        rows: &[&[String]],
        seed_col: usize,
        col: usize,
        committed_col: Option<usize>,
    ) -> Side {
        Side {
            values: values(rows, seed_col, col),
            committed: committed_by_seed(rows.iter().copied(), seed_col, committed_col),
        }
    }
}

/// A policy's values of a metric paired by seed with the baseline's: `policy[i]` and
/// `baseline[i]` are one seed's; `left_out` the seeds (in the policy's order) where
/// both have a value but the metric is a response time and the two committed a
/// different number of transactions ([`over_committed`]). A seed only one side has a
/// value on is in neither.
pub struct Pairs {
    pub policy: Vec<Value>,
    pub baseline: Vec<Value>,
    pub left_out: Vec<String>,
}

/// The pairs of `metric` between `mine` and `base` ([`Pairs`]): the one rule by which
/// `stats.csv`, the `--vs-` plots and the note on seeds left out pair seeds.
pub fn pairs(metric: &str, mine: &Side, base: &Side) -> Pairs {
    let theirs = by_seed(base.values.clone());
    let mut out = Pairs {
        policy: Vec::new(),
        baseline: Vec::new(),
        left_out: Vec::new(),
    };
    for (seed, x) in &mine.values {
        let Some(y) = theirs.get(seed) else {
            continue;
        };
        if comparable(metric, seed, &mine.committed, &base.committed) {
            out.policy.push(*x);
            out.baseline.push(*y);
        } else if !out.left_out.contains(seed) {
            out.left_out.push(seed.clone());
        }
    }
    out
}

/// The rows of `stats.csv` for the sweep rows `rows` (header `csv_header`), with
/// `axes` axis columns, for `metrics`, against `baseline` when given.
pub fn rows(
    csv_header: &[String],
    rows: &[Vec<String>],
    axes: usize,
    metrics: &[String],
    baseline: Option<&str>,
) -> Vec<Vec<String>> {
    let seed_col = axes + 2;
    let groups = groups(rows, axes);
    let committed_col = csv_header.iter().position(|h| h == COMMITTED);
    // The baseline's group of each combination of the axes (the first, as grid order
    // has it), found by key rather than by a scan of every group.
    let mut bases: HashMap<&[&str], &Group<'_>> = HashMap::new();
    if let Some(b) = baseline {
        for h in groups.iter().filter(|h| h.key[axes] == b) {
            bases.entry(&h.key[..axes]).or_insert(h);
        }
    }
    let mut out = Vec::new();
    for g in &groups {
        let policy = g.key[axes];
        let base = bases.get(&g.key[..axes]).copied();
        for m in metrics {
            let Some(col) = csv_header.iter().position(|h| h == m) else {
                continue;
            };
            let xs = values(&g.rows, seed_col, col);
            let s = summary(&xs.iter().map(|x| x.1).collect::<Vec<_>>());
            let mut row: Vec<String> = g.key.iter().map(|k| k.to_string()).collect();
            row.push(m.clone());
            row.push(s.n.to_string());
            row.push(cell(Some(s.mean)));
            row.push(cell(s.sd));
            row.push(cell(s.interval().map(|i| i.0)));
            row.push(cell(s.interval().map(|i| i.1)));
            row.push(flag(s.varies()));
            if let Some(b) = baseline {
                row.push(b.to_string());
                match base.filter(|_| policy != b) {
                    Some(h) => {
                        // Pairs by seed: only the seeds both ran, and of a response
                        // time only those on which the policy and the baseline
                        // committed as many transactions ([`comparable`]).
                        let mine = Side {
                            values: xs.clone(),
                            committed: committed_by_seed(
                                g.rows.iter().copied(),
                                seed_col,
                                committed_col,
                            ),
                        };
                        let base = Side::of(&h.rows, seed_col, col, committed_col);
                        let Pairs {
                            policy: p,
                            baseline: q,
                            ..
                        } = pairs(m, &mine, &base);
                        let d = paired(&p, &q);
                        row.push(d.n.to_string());
                        row.push(cell(Some(d.mean)));
                        row.push(cell(d.interval().map(|i| i.0)));
                        row.push(cell(d.interval().map(|i| i.1)));
                        row.push(flag(d.varies()));
                        // No interval (no pair, one, or the same difference on every
                        // seed): no claim either way.
                        row.push(match d.interval() {
                            Some(_) => d.excludes_zero().to_string(),
                            None => String::new(),
                        });
                        // The two means and what the interval would be without pairing
                        // (Welch), over the seeds that pair.
                        let (ps, qs) = (summary(&p), summary(&q));
                        row.push(cell(ratio(&ps, &qs)));
                        row.push(cell(unpaired_half_width(&ps, &qs)));
                    }
                    None => row.extend(std::iter::repeat_n(String::new(), 8)),
                }
            }
            // The seeds of the group, and those whose run failed: `n` counts the
            // values of the rest, so a mean over fewer seeds than ran says so.
            row.push(g.rows.len().to_string());
            let failed = g.rows.iter().filter(|r| failed_row(r, seed_col)).count();
            row.push(failed.to_string());
            out.push(row);
        }
    }
    out
}

/// The most seeds the note on seeds left out of the pairing names one by one.
const SEEDS_NAMED_MAX: usize = 6;

/// A policy's runs left out of the pairing with the baseline ([`aborted_pairs_note`]).
struct LeftOut<'a> {
    policy: &'a str,
    /// Runs (a seed at a grid point) left out.
    runs: usize,
    /// Grid points with any.
    points: usize,
    /// The seeds of those runs, each once.
    seeds: Vec<String>,
}

impl LeftOut<'_> {
    /// `cow 3 runs at 2 grid points, of seeds 1, 8`: the seeds in ascending order,
    /// named when few enough to read, else counted.
    fn words(&mut self) -> String {
        self.seeds
            .sort_by_key(|s| (s.parse::<u64>().unwrap_or(u64::MAX), s.clone()));
        let of = match self.seeds.len() {
            1 => format!("seed {}", self.seeds[0]),
            n if n <= SEEDS_NAMED_MAX => format!("seeds {}", self.seeds.join(", ")),
            n => format!("{n} seeds"),
        };
        format!(
            "{} {} at {}, of {of}",
            self.policy,
            sim::number_text::counted(self.runs as u64, "run", "runs"),
            sim::number_text::counted(self.points as u64, "grid point", "grid points")
        )
    }
}

/// The line `owm sweep` and `owm merge` print when a paired difference of a response
/// time left seeds out because the policy and the baseline committed a different
/// number of transactions on them ([`comparable`]): per policy, the runs (a seed at a
/// grid point) left out, the grid points and the seeds they are of, and the metrics
/// that left any out (one the baseline never has
/// a value of is not named); `None` when no seed was left out (or there is no
/// baseline).
pub fn aborted_pairs_note(
    csv_header: &[String],
    rows: &[Vec<String>],
    axes: usize,
    metrics: &[String],
    baseline: Option<&str>,
) -> Option<String> {
    let b = baseline?;
    let seed_col = axes + 2;
    let col = csv_header.iter().position(|h| h == COMMITTED);
    let named: Vec<&str> = metrics
        .iter()
        .map(String::as_str)
        .filter(|m| over_committed(m))
        .collect();
    if named.is_empty() {
        return None;
    }
    let groups = groups(rows, axes);
    let mut bases: HashMap<&[&str], &Group<'_>> = HashMap::new();
    for h in groups.iter().filter(|h| h.key[axes] == b) {
        bases.entry(&h.key[..axes]).or_insert(h);
    }
    let cols: Vec<(&str, usize)> = named
        .iter()
        .filter_map(|m| Some((*m, csv_header.iter().position(|h| h == m)?)))
        .collect();
    // The metrics that left a seed out, and per policy: seeds left out (of any of
    // them), grid points with any. A seed is left out of a metric's pairs when both
    // sides have a value of it there and the committed counts differ: a metric the
    // baseline never has (a window's, against `none`) leaves nothing out.
    let mut listed: Vec<&str> = Vec::new();
    let mut by_policy: Vec<LeftOut<'_>> = Vec::new();
    for g in groups.iter().filter(|g| g.key[axes] != b) {
        let Some(base) = bases.get(&g.key[..axes]) else {
            continue;
        };
        let mut out: Vec<String> = Vec::new();
        for &(m, c) in &cols {
            let left = pairs(
                m,
                &Side::of(&g.rows, seed_col, c, col),
                &Side::of(&base.rows, seed_col, c, col),
            )
            .left_out;
            if !left.is_empty() && !listed.contains(&m) {
                listed.push(m);
            }
            for seed in left {
                if !out.contains(&seed) {
                    out.push(seed);
                }
            }
        }
        if out.is_empty() {
            continue;
        }
        let policy = g.key[axes];
        let i = match by_policy.iter().position(|p| p.policy == policy) {
            Some(i) => i,
            None => {
                by_policy.push(LeftOut {
                    policy,
                    runs: 0,
                    points: 0,
                    seeds: Vec::new(),
                });
                by_policy.len() - 1
            }
        };
        let p = &mut by_policy[i];
        p.runs += out.len();
        p.points += 1;
        for seed in out {
            if !p.seeds.contains(&seed) {
                p.seeds.push(seed);
            }
        }
    }
    // In the order the sweep names its metrics.
    let named: Vec<&str> = named.into_iter().filter(|m| listed.contains(m)).collect();
    if by_policy.is_empty() {
        return None;
    }
    let parts: Vec<String> = by_policy.iter_mut().map(LeftOut::words).collect();
    Some(format!(
        "stats.csv and the --vs-{b} plots: {} not paired with {b} ({}): the policy \
         committed a different number of transactions than {b} there ({COMMITTED}; \
         aborted ones: data_area_full_aborts, write_error_aborts, crash_aborts), and a \
         response time counts only the transactions that committed; diff_n counts the \
         seeds paired (the --vs-{b} plot has no point at a grid point where none is)",
        named.join(", "),
        parts.join("; ")
    ))
}

/// The line `owm sweep` and `owm merge` print when some rows of `stats.csv` (`stats`,
/// as [`rows`] gives them for `axes` and `baseline`) have n ≥ 2 seeds that all gave
/// the same value (`seeds_differ` = `false`) or the same difference to the baseline
/// (`diff_seeds_differ` = `false`): per metric, in how many of its rows, naming the
/// rows when there are at most 3 and not all; `None` when there are none.
pub fn no_spread_note(
    axes: &[String],
    stats: &[Vec<String>],
    baseline: Option<&str>,
) -> Option<String> {
    let h = header(axes, baseline.is_some());
    let at = |name: &str| h.iter().position(|c| c == name);
    let metric = at("metric")?;
    let mut parts = Vec::new();
    for (column, what) in [
        (
            "seeds_differ",
            "every seed gave the same value (seeds_differ = false: no 95 % CI reported)"
                .to_string(),
        ),
        (
            "diff_seeds_differ",
            format!(
                "every seed gave the same difference to {} (diff_seeds_differ = false: no \
                 interval, no significance claimed)",
                baseline.unwrap_or_default()
            ),
        ),
    ] {
        let Some(c) = at(column) else { continue };
        let listed = flagged_by_metric(axes, stats, metric, |r| r[c] == "false", false);
        if !listed.is_empty() {
            parts.push(format!("{what}: {}", listed.join(", ")));
        }
    }
    (!parts.is_empty()).then(|| format!("stats.csv: {}", parts.join("; ")))
}

/// The line `owm sweep` and `owm merge` print when a row's 95 % interval (`ci95_low`
/// of `stats`, as [`rows`] gives them for `axes` and `baseline`) reaches below 0 for a
/// metric no seed's value was below 0 on (in `sweep_rows`, under `sweep_header`):
/// values no seed can take, a sign that the seeds' values are far from normal (most at
/// 0 and a few large, as a p99 admission delay at a light load), where the Student-t
/// interval's 95 % is not to be trusted. Per metric, in how many of its rows, naming
/// them when at most 3; `None` when there are none.
pub fn below_floor_note(
    axes: &[String],
    stats: &[Vec<String>],
    baseline: Option<&str>,
    sweep_header: &[String],
    sweep_rows: &[Vec<String>],
) -> Option<String> {
    let h = header(axes, baseline.is_some());
    let at = |name: &str| h.iter().position(|c| c == name);
    let (metric, low) = (at("metric")?, at("ci95_low")?);
    let never_negative = |m: &str| {
        sweep_header.iter().position(|c| c == m).is_some_and(|c| {
            sweep_rows
                .iter()
                .filter_map(|r| Value::parse(r.get(c)?))
                .all(|v| v.to_f64() >= 0.0)
        })
    };
    // Each metric's sweep.csv values scanned once, not once a row.
    let mut nonnegative: HashMap<&str, bool> = HashMap::new();
    for r in stats {
        let m = r[metric].as_str();
        nonnegative.entry(m).or_insert_with(|| never_negative(m));
    }
    let below = |r: &[String]| {
        nonnegative[r[metric].as_str()] && r[low].parse::<f64>().is_ok_and(|v| v < 0.0)
    };
    let listed = flagged_by_metric(axes, stats, metric, below, true);
    (!listed.is_empty()).then(|| {
        format!(
            "stats.csv: a 95 % CI reaches below 0, a value no seed took: {}; the seeds' values \
             there are far from normal (most at or near 0, a few large), where the Student-t \
             interval does not hold 95 %: read the per-seed values in sweep.csv, or run more \
             seeds",
            listed.join(", ")
        )
    })
}

/// Per metric of `stats` (its name in column `metric`), in table order, the rows
/// `flagged` picks, said `{metric} in K of N rows`, naming them ([`row_name`]) when
/// there are at most 3 and, unless `name_all`, fewer than the metric's N (all of them
/// is said by the count); metrics with none flagged left out.
fn flagged_by_metric(
    axes: &[String],
    stats: &[Vec<String>],
    metric: usize,
    flagged: impl Fn(&[String]) -> bool,
    name_all: bool,
) -> Vec<String> {
    let mut by_metric: Vec<(&str, Vec<&Vec<String>>, usize)> = Vec::new();
    for r in stats {
        let i = match by_metric.iter().position(|m| m.0 == r[metric]) {
            Some(i) => i,
            None => {
                by_metric.push((&r[metric], Vec::new(), 0));
                by_metric.len() - 1
            }
        };
        by_metric[i].2 += 1;
        if flagged(r) {
            by_metric[i].1.push(r);
        }
    }
    by_metric
        .iter()
        .filter(|m| !m.1.is_empty())
        .map(|(m, rows, total)| {
            let mut t = format!("{m} in {} of {total} rows", rows.len());
            if rows.len() <= 3 && (name_all || rows.len() < *total) {
                let named: Vec<String> = rows.iter().map(|r| row_name(axes, r)).collect();
                t.push_str(&format!(" ({})", named.join("; ")));
            }
            t
        })
        .collect()
}

/// A row of `stats.csv` named by its policy and axis values (`cow at
/// workload.write_fraction = 0.1`).
fn row_name(axes: &[String], r: &[String]) -> String {
    let policy = &r[axes.len()];
    if axes.is_empty() {
        return policy.clone();
    }
    let values: Vec<String> = axes
        .iter()
        .zip(r)
        .map(|(k, v)| format!("{k} = {v}"))
        .collect();
    format!("{policy} at {}", values.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(x: &str, policy: &str, seed: u64, m: f64) -> Vec<String> {
        vec![
            "0".into(),
            x.into(),
            policy.into(),
            seed.to_string(),
            m.to_string(),
        ]
    }

    /// An interval below 0 is named where no seed's value was below 0 (29 seeds at 0
    /// and one at 323: a t interval of about [-11, 33]), not where some seed's was, nor
    /// where the interval stays above 0.
    #[test]
    fn an_interval_below_a_floor_no_seed_crossed_is_noted() {
        let h: Vec<String> = ["index", "x", "policy", "seed", "m"]
            .map(String::from)
            .to_vec();
        let skewed = |last: f64, first: f64| -> Vec<Vec<String>> {
            (1..=30)
                .map(|seed| {
                    let m = match seed {
                        30 => last,
                        1 => first,
                        _ => 0.0,
                    };
                    row("800", "quiesce", seed, m)
                })
                .collect()
        };
        let axes = vec!["x".to_string()];
        let note = |rows: &[Vec<String>]| {
            let t = super::rows(&h, rows, 1, &["m".into()], None);
            below_floor_note(&axes, &t, None, &h, rows)
        };
        let n = note(&skewed(323.0, 0.0)).expect("noted");
        assert!(n.contains("m in 1 of 1 rows (quiesce at x = 800)"), "{n}");
        // A metric that takes negative values: an interval below 0 is no sign.
        assert_eq!(note(&skewed(323.0, -1.0)), None);
        // Values spread evenly away from 0: the interval stays above it.
        let even: Vec<Vec<String>> = (1..=30)
            .map(|seed| row("800", "quiesce", seed, 100.0 + seed as f64))
            .collect();
        assert_eq!(note(&even), None);
    }

    #[test]
    fn groups_by_point_and_policy_and_pairs_by_seed() {
        let h: Vec<String> = ["index", "x", "policy", "seed", "m"]
            .map(String::from)
            .to_vec();
        let rows = vec![
            row("1", "q", 1, 10.0),
            row("1", "q", 2, 20.0),
            row("1", "c", 1, 11.0),
            row("1", "c", 2, 21.0),
        ];
        let t = super::rows(&h, &rows, 1, &["m".into()], Some("q"));
        assert_eq!(t.len(), 2);
        // q: mean 15, sd √50.
        assert_eq!(t[0][..5], ["1", "q", "m", "2", "15.0000"]);
        assert_eq!(t[0][5], format!("{:.4}", 50f64.sqrt()));
        assert_eq!(t[0][8], "true");
        // c against q: every difference is 1: the seeds differ, their differences do
        // not, so the difference has no interval and no claim.
        assert_eq!(
            t[1][9..17],
            ["q", "2", "1.0000", "", "", "false", "", "1.0667"]
        );
        // Unpaired, the same two samples give ±t(2)·√(50/2 + 50/2) ≈ ±30.4.
        let unpaired: f64 = t[1][17].parse().unwrap();
        assert!(unpaired > 20.0, "{unpaired}");
        assert_eq!(t[0][10..18], ["", "", "", "", "", "", "", ""]);
        assert_eq!(header(&["x".into()], true).len(), t[0].len());
        // Two seeds each, none failed.
        assert_eq!(t[0][18..], ["2", "0"]);
        assert_eq!(t[1][18..], ["2", "0"]);
    }

    /// A seed whose run failed (its row's cells empty) counts in `seeds_run` and
    /// `seeds_failed`, not in `n`: the mean is of the seeds left, and the table says so.
    #[test]
    fn failed_seeds_are_counted_apart_from_n() {
        let h: Vec<String> = ["index", "x", "policy", "seed", "m", "k"]
            .map(String::from)
            .to_vec();
        let row = |seed: u64, m: &str, k: &str| -> Vec<String> {
            vec![
                "0".into(),
                "1".into(),
                "q".into(),
                seed.to_string(),
                m.into(),
                k.into(),
            ]
        };
        let rows = vec![
            row(1, "", ""),
            row(2, "10", "1"),
            row(3, "", "2"),
            row(4, "20", "3"),
        ];
        assert!(failed_row(&rows[0], 3));
        // A metric empty on a run that ended is no failure.
        assert!(!failed_row(&rows[2], 3));
        let t = super::rows(&h, &rows, 1, &["m".into(), "k".into()], None);
        let at = |r: &[String], c: &str| {
            r[header(&["x".into()], false)
                .iter()
                .position(|h| h == c)
                .unwrap()]
            .clone()
        };
        assert_eq!(t.len(), 2);
        for (r, n, mean) in [(&t[0], "2", "15.0000"), (&t[1], "3", "2.0000")] {
            assert_eq!(at(r, "n"), n);
            assert_eq!(at(r, "mean"), mean);
            assert_eq!(at(r, "seeds_run"), "4");
            assert_eq!(at(r, "seeds_failed"), "1");
        }
    }

    use proptest::prelude::*;

    /// `stats.csv` of one point (x = 1) of policies `q` (the baseline) and `c`, whose
    /// per-seed values are the decimals `qs` and `cs` (thousandths, written with 3
    /// decimals as `sweep.csv` holds them); as (header, rows).
    fn table(qs: &[i64], cs: &[i64]) -> (Vec<String>, Vec<Vec<String>>) {
        let every = |ks: &[i64]| ks.iter().copied().map(Some).collect::<Vec<_>>();
        sparse_table(&every(qs), &every(cs))
    }

    /// The cell of `row` under `name`.
    fn at<'a>(h: &[String], row: &'a [String], name: &str) -> &'a str {
        &row[h.iter().position(|c| c == name).unwrap()]
    }

    /// The reference interval: mean ± t(0.975, n − 1) · sd / √n, the quantile straight
    /// from statrs.
    fn reference(xs: &[f64]) -> (f64, f64, f64, f64) {
        use statrs::distribution::{ContinuousCDF, StudentsT};
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let t = StudentsT::new(0.0, 1.0, n - 1.0)
            .unwrap()
            .inverse_cdf(0.975);
        let h = t * sd / n.sqrt();
        (mean, sd, mean - h, mean + h)
    }

    proptest! {
        /// Seeds that all gave one value (and pairs that all gave one difference,
        /// though each policy's values vary) report no interval and claim nothing.
        #[test]
        fn identical_samples_report_no_interval_and_claim_nothing(
            n in 2usize..40,
            q in -10_000_000i64..10_000_000,
            c in -10_000_000i64..10_000_000,
            noise in proptest::collection::vec(-5_000_000i64..5_000_000, 40),
        ) {
            // Both flat: the seeds gave the same value.
            let (h, t) = table(&vec![q; n], &vec![c; n]);
            for r in &t {
                prop_assert_eq!(at(&h, r, "n"), n.to_string());
                prop_assert_eq!(at(&h, r, "sd"), "0.0000");
                prop_assert_eq!(at(&h, r, "seeds_differ"), "false");
                prop_assert_eq!(at(&h, r, "ci95_low"), "");
                prop_assert_eq!(at(&h, r, "ci95_high"), "");
            }
            prop_assert_eq!(at(&h, &t[0], "mean"), cell(Some(q as f64 / 1000.0)));
            let d = &t[1];
            prop_assert_eq!(at(&h, d, "diff_mean"), cell(Some((c - q) as f64 / 1000.0)));
            for empty in ["diff_ci95_low", "diff_ci95_high", "diff_excludes_0",
                          "unpaired_ci95_half_width"] {
                prop_assert_eq!(at(&h, d, empty), "", "{}", empty);
            }
            prop_assert_eq!(at(&h, d, "diff_seeds_differ"), "false");
            // A shared noise and a constant offset: each policy varies, the paired
            // differences (computed from the decimals, rounding and all) do not.
            let qs: Vec<i64> = noise[..n].iter().map(|e| q + e).collect();
            let cs: Vec<i64> = noise[..n].iter().map(|e| c + e).collect();
            prop_assume!(qs.iter().any(|x| *x != qs[0]));
            let (h, t) = table(&qs, &cs);
            prop_assert_eq!(at(&h, &t[0], "seeds_differ"), "true");
            prop_assert_eq!(at(&h, &t[1], "seeds_differ"), "true");
            prop_assert!(!at(&h, &t[1], "ci95_low").is_empty());
            prop_assert_eq!(at(&h, &t[1], "diff_seeds_differ"), "false");
            prop_assert_eq!(at(&h, &t[1], "diff_ci95_low"), "");
            prop_assert_eq!(at(&h, &t[1], "diff_excludes_0"), "");
            prop_assert!(!at(&h, &t[1], "unpaired_ci95_half_width").is_empty());
            // The line printed says so, naming the metric.
            let note = no_spread_note(&["x".into()], &t, Some("q")).unwrap();
            prop_assert!(note.contains("same difference to q") && note.contains("m in 1 of 2"),
                "{}", note);
            prop_assert!(!note.contains("same value"), "{}", note);
        }

        /// Seeds that differ (and differences that differ) give the t interval as
        /// before: the reference computation's cells, and a claim that says whether
        /// the difference's interval holds 0.
        #[test]
        fn samples_with_spread_keep_their_t_intervals(
            qs in proptest::collection::vec(-10_000_000i64..10_000_000, 2..40),
            offsets in proptest::collection::vec(-1_000_000i64..1_000_000, 40),
        ) {
            let n = qs.len();
            let cs: Vec<i64> = qs.iter().zip(&offsets).map(|(q, o)| q + o).collect();
            prop_assume!(qs.iter().any(|x| *x != qs[0]));
            prop_assume!(cs.iter().any(|x| *x != cs[0]));
            prop_assume!(offsets[..n].iter().any(|o| *o != offsets[0]));
            let (h, t) = table(&qs, &cs);
            let read = |ks: &[i64]| -> Vec<f64> {
                ks.iter().map(|k| format!("{:.3}", *k as f64 / 1000.0).parse().unwrap()).collect()
            };
            let (q, c) = (read(&qs), read(&cs));
            // The differences exact, then the nearest f64.
            let d: Vec<f64> = cs.iter().zip(&qs).map(|(x, b)| (x - b) as f64 / 1000.0).collect();
            for (r, xs) in [(&t[0], &q), (&t[1], &c)] {
                let (mean, sd, lo, hi) = reference(xs);
                prop_assert_eq!(at(&h, r, "seeds_differ"), "true");
                prop_assert_eq!(at(&h, r, "mean"), cell(Some(mean)));
                prop_assert_eq!(at(&h, r, "sd"), cell(Some(sd)));
                prop_assert_eq!(at(&h, r, "ci95_low"), cell(Some(lo)));
                prop_assert_eq!(at(&h, r, "ci95_high"), cell(Some(hi)));
            }
            let (mean, _, lo, hi) = reference(&d);
            let r = &t[1];
            prop_assert_eq!(at(&h, r, "diff_seeds_differ"), "true");
            prop_assert_eq!(at(&h, r, "diff_mean"), cell(Some(mean)));
            prop_assert_eq!(at(&h, r, "diff_ci95_low"), cell(Some(lo)));
            prop_assert_eq!(at(&h, r, "diff_ci95_high"), cell(Some(hi)));
            prop_assert_eq!(at(&h, r, "diff_excludes_0"), (lo > 0.0 || hi < 0.0).to_string());
            prop_assert!(no_spread_note(&["x".into()], &t, Some("q")).is_none());
        }
    }

    /// `stats.csv` of one point (x = 1) of policies `q` (the baseline) and `c`, whose
    /// values on seed i + 1 are `qs[i]` and `cs[i]` (thousandths; `None` leaves the
    /// cell empty, as a metric a run has no value for).
    fn sparse_table(qs: &[Option<i64>], cs: &[Option<i64>]) -> (Vec<String>, Vec<Vec<String>>) {
        let h: Vec<String> = ["index", "x", "policy", "seed", "m"]
            .map(String::from)
            .to_vec();
        let text =
            |k: Option<i64>| k.map_or(String::new(), |k| format!("{:.3}", k as f64 / 1000.0));
        let mut rows = Vec::new();
        for (policy, ks) in [("q", qs), ("c", cs)] {
            for (seed, &k) in ks.iter().enumerate() {
                rows.push(vec![
                    rows.len().to_string(),
                    "1".into(),
                    policy.into(),
                    (seed + 1).to_string(),
                    text(k),
                ]);
            }
        }
        let t = super::rows(&h, &rows, 1, &["m".into()], Some("q"));
        (header(&["x".into()], true), t)
    }

    /// A sample in thousandths, as the reference sees it: n, mean, sd (0 when every
    /// value is the same), and the t interval's half-width when the values differ.
    struct Reference {
        n: usize,
        mean: f64,
        sd: Option<f64>,
        half_width: Option<f64>,
    }

    fn reference_of(ks: &[i64]) -> Reference {
        use statrs::distribution::{ContinuousCDF, StudentsT};
        let xs: Vec<f64> = ks.iter().map(|k| *k as f64 / 1000.0).collect();
        let n = xs.len();
        let mean = xs.iter().sum::<f64>() / n as f64;
        if n < 2 {
            return Reference {
                n,
                mean,
                sd: None,
                half_width: None,
            };
        }
        if ks.iter().all(|k| *k == ks[0]) {
            return Reference {
                n,
                mean: xs[0],
                sd: Some(0.0),
                half_width: None,
            };
        }
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
        let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
            .unwrap()
            .inverse_cdf(0.975);
        Reference {
            n,
            mean,
            sd: Some(sd),
            half_width: Some(t * sd / (n as f64).sqrt()),
        }
    }

    /// Welch's half-width of two samples straight from the textbook formula.
    fn welch(a: &Reference, b: &Reference) -> Option<f64> {
        use statrs::distribution::{ContinuousCDF, StudentsT};
        let (sa, sb) = (a.sd?, b.sd?);
        let (va, vb) = (sa * sa / a.n as f64, sb * sb / b.n as f64);
        if va + vb == 0.0 {
            return None;
        }
        let nu = (va + vb).powi(2) / (va * va / (a.n - 1) as f64 + vb * vb / (b.n - 1) as f64);
        let t = StudentsT::new(0.0, 1.0, nu.max(1.0))
            .unwrap()
            .inverse_cdf(0.975);
        Some(t * (va + vb).sqrt())
    }

    /// A cell against its reference: empty where the reference has no number, else
    /// the number to its 4 decimals (half a unit of the last decimal, and a relative
    /// 10⁻⁹ for the order of the additions).
    fn close(got: &str, want: Option<f64>) -> Result<(), TestCaseError> {
        match want.filter(|w| w.is_finite()) {
            None if got.is_empty() => Ok(()),
            None => Err(TestCaseError::fail(format!("{got:?}, want empty"))),
            Some(w) => {
                let g: f64 = got
                    .parse()
                    .map_err(|_| TestCaseError::fail(format!("{got:?}, want {w}")))?;
                if (g - w).abs() <= 0.5e-4 + 1e-9 * w.abs() {
                    Ok(())
                } else {
                    Err(TestCaseError::fail(format!("{got}, want {w}")))
                }
            }
        }
    }

    /// One seed's value: empty now and then, from a few values now and then (so
    /// samples and differences are sometimes constant), else anything.
    fn sparse_value() -> impl Strategy<Value = Option<i64>> {
        proptest::option::weighted(
            0.75,
            prop_oneof![
                3 => -10_000_000i64..10_000_000,
                1 => (0i64..3).prop_map(|k| 1000 * k),
            ],
        )
    }

    proptest! {
        /// Every cell of `stats.csv`, for two policies whose metric is empty on some
        /// seeds, equals a straightforward computation: each row's n, mean, sd and
        /// interval over the seeds it has a value on; the paired columns over the
        /// seeds both have a value on (`diff_n` of them), and so the ratio of the two
        /// means and Welch's half-width.
        #[test]
        fn every_cell_matches_a_reference_computation_with_missing_values(
            seeds in proptest::collection::vec((sparse_value(), sparse_value()), 0..14),
        ) {
            let qs: Vec<Option<i64>> = seeds.iter().map(|s| s.0).collect();
            let cs: Vec<Option<i64>> = seeds.iter().map(|s| s.1).collect();
            let (h, t) = sparse_table(&qs, &cs);
            prop_assert_eq!(t.len(), usize::from(!qs.is_empty()) * 2);
            if t.is_empty() {
                return Ok(());
            }
            let present = |ks: &[Option<i64>]| ks.iter().flatten().copied().collect::<Vec<_>>();
            let (q, c) = (reference_of(&present(&qs)), reference_of(&present(&cs)));
            for (r, want) in [(&t[0], &q), (&t[1], &c)] {
                prop_assert_eq!(at(&h, r, "n"), want.n.to_string());
                close(at(&h, r, "mean"), Some(want.mean))?;
                close(at(&h, r, "sd"), want.sd)?;
                close(at(&h, r, "ci95_low"), want.half_width.map(|w| want.mean - w))?;
                close(at(&h, r, "ci95_high"), want.half_width.map(|w| want.mean + w))?;
                let differ = want.sd.map(|_| want.half_width.is_some().to_string());
                prop_assert_eq!(at(&h, r, "seeds_differ"), differ.unwrap_or_default());
            }
            // The baseline's own row compares with nothing.
            for name in ["diff_n", "diff_mean", "ratio", "unpaired_ci95_half_width", "diff_excludes_0"] {
                prop_assert_eq!(at(&h, &t[0], name), "", "{}", name);
            }
            let r = &t[1];
            let diffs: Vec<i64> = qs.iter().zip(&cs)
                .filter_map(|(q, c)| Some((*c)? - (*q)?))
                .collect();
            let d = reference_of(&diffs);
            prop_assert_eq!(at(&h, r, "diff_n"), d.n.to_string());
            close(at(&h, r, "diff_mean"), (d.n > 0).then_some(d.mean))?;
            close(at(&h, r, "diff_ci95_low"), d.half_width.map(|w| d.mean - w))?;
            close(at(&h, r, "diff_ci95_high"), d.half_width.map(|w| d.mean + w))?;
            let differ = d.sd.map(|_| d.half_width.is_some().to_string());
            prop_assert_eq!(at(&h, r, "diff_seeds_differ"), differ.unwrap_or_default());
            let excludes = d.half_width.map(|w| (d.mean - w > 0.0 || d.mean + w < 0.0).to_string());
            prop_assert_eq!(at(&h, r, "diff_excludes_0"), excludes.unwrap_or_default());
            let both = |pick: fn(&(i64, i64)) -> i64| -> Vec<i64> {
                qs.iter().zip(&cs)
                    .filter_map(|(q, c)| Some(((*q)?, (*c)?)))
                    .map(|p| pick(&p))
                    .collect()
            };
            let (q, c) = (reference_of(&both(|p| p.0)), reference_of(&both(|p| p.1)));
            let ratio = (q.n > 0 && q.mean != 0.0).then(|| c.mean / q.mean);
            close(at(&h, r, "ratio"), ratio)?;
            close(at(&h, r, "unpaired_ci95_half_width"), welch(&c, &q))?;
        }
    }

    #[test]
    fn cells_read_as_exact_fractions() {
        let v = |t: &str| Value::parse(t);
        assert_eq!(
            v("12.345"),
            Some(Value::Exact {
                num: 2469,
                den: 200
            })
        );
        assert_eq!(v("3/6"), Some(Value::Exact { num: 1, den: 2 }));
        assert_eq!(v("-0.50"), Some(Value::Exact { num: -1, den: 2 }));
        assert_eq!(v("7"), Some(Value::Exact { num: 7, den: 1 }));
        assert_eq!(v("0/5"), Some(Value::Exact { num: 0, den: 1 }));
        assert_eq!(v(""), None);
        assert_eq!(v("x"), None);
        assert_eq!(v("1/0"), None);
        assert_eq!(v("1e3"), Some(Value::Float(1000.0)));
        // Past 128 bits: the number, not refused.
        let big = format!("{}/3", u128::MAX);
        assert_eq!(v(&big), Some(Value::Float(u128::MAX as f64 / 3.0)));
        // 1340/116 − 0 and 2680/232 − 0 are the same difference, to the bit.
        let a = v("1440/116").unwrap().minus(v("100/116").unwrap());
        let b = v("2980/232").unwrap().minus(v("300/232").unwrap());
        assert_eq!(a, b);
        assert_eq!(a.to_f64().to_bits(), (1340.0f64 / 116.0).to_bits());
    }

    /// The verifier's case: `mirroring` exactly 1340/116 ticks above `none` on every
    /// seed, whose 3-decimal cells differ by 11.552 on some seeds and 11.551 on others:
    /// from the exact values, one difference, no interval, no claim; from the decimals
    /// alone, an interval that excludes 0.
    #[test]
    fn a_constant_offset_of_many_decimals_is_constant() {
        let h: Vec<String> = ["index", "policy", "seed", "m"].map(String::from).to_vec();
        let sums = [10_000u64, 10_001, 11_111, 10_003, 9_999, 10_006];
        let mut exact = Vec::new();
        let mut rounded = Vec::new();
        for (policy, plus) in [("none", 0), ("mirroring", 1340)] {
            for (seed, s) in sums.iter().enumerate() {
                let key = vec![
                    exact.len().to_string(),
                    policy.into(),
                    (seed + 1).to_string(),
                ];
                let mut r = key.clone();
                r.push(format!("{}/116", s + plus));
                exact.push(r);
                let mut r = key;
                r.push(format!("{:.3}", (s + plus) as f64 / 116.0));
                rounded.push(r);
            }
        }
        let hh = header(&[], true);
        let t = super::rows(&h, &exact, 0, &["m".into()], Some("none"));
        assert_eq!(at(&hh, &t[1], "diff_seeds_differ"), "false");
        assert_eq!(at(&hh, &t[1], "diff_ci95_low"), "");
        assert_eq!(at(&hh, &t[1], "diff_excludes_0"), "");
        assert_eq!(at(&hh, &t[1], "diff_mean"), "11.5517");
        let t = super::rows(&h, &rounded, 0, &["m".into()], Some("none"));
        assert_eq!(at(&hh, &t[1], "diff_seeds_differ"), "true");
    }

    proptest! {
        /// Any per-seed values (exact fractions over any count) and a constant offset
        /// (32/3, 1340/116: any fraction) give one difference on every seed: no
        /// interval, no claim, the offset as the difference's mean; and each row's mean
        /// is the exact mean of its values.
        #[test]
        fn a_constant_offset_is_exactly_constant(
            base in proptest::collection::vec(0u64..10_000_000_000, 2..30),
            den in 1u64..100_000,
            offset_den in 1u64..1_000,
            offset_num in -1_000_000i64..1_000_000,
        ) {
            let h: Vec<String> = ["index", "policy", "seed", "m"].map(String::from).to_vec();
            let mut rows = Vec::new();
            for policy in ["q", "c"] {
                for (seed, b) in base.iter().enumerate() {
                    // c's value b/den + offset as one unreduced fraction over
                    // den · offset_den.
                    let text = if policy == "q" {
                        format!("{b}/{den}")
                    } else {
                        let num = i128::from(*b) * i128::from(offset_den)
                            + i128::from(offset_num) * i128::from(den);
                        if num < 0 {
                            return Ok(());
                        }
                        format!("{num}/{}", den * offset_den)
                    };
                    rows.push(vec![rows.len().to_string(), policy.into(), (seed + 1).to_string(), text]);
                }
            }
            let t = super::rows(&h, &rows, 0, &["m".into()], Some("q"));
            let hh = header(&[], true);
            let d = &t[1];
            prop_assert_eq!(at(&hh, d, "diff_seeds_differ"), "false");
            prop_assert_eq!(at(&hh, d, "diff_ci95_low"), "");
            prop_assert_eq!(at(&hh, d, "diff_ci95_high"), "");
            prop_assert_eq!(at(&hh, d, "diff_excludes_0"), "");
            let offset = offset_num as f64 / offset_den as f64;
            prop_assert_eq!(at(&hh, d, "diff_mean"), cell(Some(offset)));
            prop_assert_eq!(at(&hh, d, "diff_n"), base.len().to_string());
            let mean = base.iter().map(|b| *b as f64 / den as f64).sum::<f64>() / base.len() as f64;
            close(at(&hh, &t[0], "mean"), Some(mean))?;
            let varies = base.iter().any(|b| *b != base[0]);
            prop_assert_eq!(at(&hh, &t[0], "seeds_differ"), varies.to_string());
            if let Some(note) = no_spread_note(&[], &t, Some("q")) {
                prop_assert!(note.contains("same difference to q"), "{}", note);
            }
        }
    }

    #[test]
    fn the_note_names_few_rows_and_counts_many() {
        let h: Vec<String> = ["index", "x", "policy", "seed", "m", "k"]
            .map(String::from)
            .to_vec();
        let mut rows = Vec::new();
        for x in ["1", "2", "3", "4"] {
            for policy in ["q", "c"] {
                for seed in 1..=3 {
                    // m is flat at x = 1 for c only; k is flat everywhere.
                    let m = if x == "1" && policy == "c" { 5 } else { seed };
                    rows.push(
                        [x, policy, &seed.to_string(), &m.to_string(), "7"]
                            .iter()
                            .fold(vec![rows.len().to_string()], |mut r, c| {
                                r.push(c.to_string());
                                r
                            }),
                    );
                }
            }
        }
        let t = super::rows(&h, &rows, 1, &["m".into(), "k".into()], None);
        let note = no_spread_note(&["x".into()], &t, None).unwrap();
        assert_eq!(
            note,
            "stats.csv: every seed gave the same value (seeds_differ = false: no 95 % CI \
             reported): m in 1 of 8 rows (c at x = 1), k in 8 of 8 rows"
        );
        assert!(no_spread_note(&["x".into()], &t[..0], None).is_none());
    }
}
