//! The statistics table of a sweep (`stats.csv`): for every combination of the axes,
//! policy and metric, the replications' n, mean, standard deviation and 95 %
//! Student-t interval; with a `baseline` policy, every other policy's paired
//! difference to it over the same seeds (mean, 95 % interval, whether the interval
//! excludes 0; empty where there is no interval), the ratio of the means, and the half-width the difference's interval
//! would have without pairing (Welch), to show what pairing gains. Built from the rows of `sweep.csv` alone,
//! so a merge of shards writes the same bytes.

use crate::stats::{paired, unpaired_half_width, Summary};

/// A number in a statistics cell (4 decimals; empty when undefined).
pub fn cell(x: Option<f64>) -> String {
    match x {
        Some(v) if v.is_finite() => format!("{v:.4}"),
        _ => String::new(),
    }
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
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    if with_baseline {
        h.extend(
            [
                "baseline",
                "diff_mean",
                "diff_ci95_low",
                "diff_ci95_high",
                "diff_excludes_0",
                "ratio",
                "unpaired_ci95_half_width",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
    }
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
fn values(rows: &[&[String]], seed_col: usize, col: usize) -> Vec<(String, f64)> {
    rows.iter()
        .filter_map(|r| Some((r[seed_col].clone(), r[col].parse::<f64>().ok()?)))
        .collect()
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
    let mut out = Vec::new();
    for g in &groups {
        let policy = g.key[axes];
        let base = baseline.and_then(|b| {
            groups
                .iter()
                .find(|h| h.key[..axes] == g.key[..axes] && h.key[axes] == b)
        });
        for m in metrics {
            let Some(col) = csv_header.iter().position(|h| h == m) else {
                continue;
            };
            let xs = values(&g.rows, seed_col, col);
            let s = Summary::of(&xs.iter().map(|x| x.1).collect::<Vec<_>>());
            let mut row: Vec<String> = g.key.iter().map(|k| k.to_string()).collect();
            row.push(m.clone());
            row.push(s.n.to_string());
            row.push(cell(Some(s.mean)));
            row.push(cell(s.sd));
            row.push(cell(s.interval().map(|i| i.0)));
            row.push(cell(s.interval().map(|i| i.1)));
            if let Some(b) = baseline {
                row.push(b.to_string());
                match base.filter(|_| policy != b) {
                    Some(h) => {
                        // Pairs by seed: only the seeds both ran.
                        let bs = values(&h.rows, seed_col, col);
                        let (mut p, mut q) = (Vec::new(), Vec::new());
                        for (seed, x) in &xs {
                            if let Some((_, y)) = bs.iter().find(|(s2, _)| s2 == seed) {
                                p.push(*x);
                                q.push(*y);
                            }
                        }
                        let d = paired(&p, &q);
                        row.push(cell(Some(d.difference.mean)));
                        row.push(cell(d.difference.interval().map(|i| i.0)));
                        row.push(cell(d.difference.interval().map(|i| i.1)));
                        // No interval (no pair, or one): no claim either way.
                        row.push(match d.difference.interval() {
                            Some(_) => d.difference.excludes_zero().to_string(),
                            None => String::new(),
                        });
                        row.push(cell(d.ratio));
                        // What the interval would be without pairing (Welch).
                        row.push(cell(unpaired_half_width(
                            &Summary::of(&p),
                            &Summary::of(&q),
                        )));
                    }
                    None => row.extend(std::iter::repeat_n(String::new(), 6)),
                }
            }
            out.push(row);
        }
    }
    out
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
        // c against q: every difference is 1, sd 0: the interval is [1, 1].
        assert_eq!(
            t[1][8..14],
            ["q", "1.0000", "1.0000", "1.0000", "true", "1.0667"]
        );
        // Unpaired, the same two samples give ±t(2)·√(50/2 + 50/2) ≈ ±30.4.
        let unpaired: f64 = t[1][14].parse().unwrap();
        assert!(unpaired > 20.0, "{unpaired}");
        assert_eq!(t[0][9..], ["", "", "", "", "", ""]);
        assert_eq!(header(&["x".into()], true).len(), t[0].len());
    }
}
