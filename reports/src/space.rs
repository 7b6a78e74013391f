//! Extra space over time, the LVM `Data%` view of a run: `extra_space.csv` (one row per
//! policy and change), a step plot of the extra space held (one line per policy), and
//! one of the data area's use in % (one line per policy with a data area); in each,
//! policies whose peaks are orders of magnitude apart (a mirror's whole image beside a
//! log's few thousand blocks) are drawn in panels of their own scale
//! ([`crate::lines::panels`]), and each policy's retires and lost backups (abandoned,
//! given up) are marked as vertical lines in its panel, as the timing diagram marks
//! them, so that a drop of extra space reads as a retire or as a backup lost.

use std::fmt::Write as _;
use std::path::Path;

use crate::csv_field::csv_field;
use crate::lines::{LinePlot, Milestone, Series, XScale};
use crate::{tables, write_atomic, Error, NamedRun};

/// The header of `extra_space.csv`.
pub const SPACE_HEADER: [&str; 7] = [
    "policy",
    "engine_variant",
    "time_ticks",
    "extra_space_blocks",
    "data_area_used_blocks",
    "data_area_used_pct",
    "kept_image_blocks",
];

/// The data area's use at point `p` in % of its `slots` (non-zero): the LVM `Data%`
/// figure of `extra_space.csv` and of [`data_area_plot`].
fn data_area_used_pct(p: &sim::SpacePoint, slots: u64) -> f64 {
    100.0 * p.data_area_used_blocks as f64 / slots as f64
}

/// `extra_space.csv` rows: per run, every point of its series in time order. The
/// percentage is of the data area's slots (3 decimals), empty where the run has no data
/// area (mirroring, `none`).
pub fn space_rows(runs: &[NamedRun]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for run in runs {
        let r = &run.result;
        let variant = r.engine_variant.map(|v| v.to_string()).unwrap_or_default();
        for p in &r.extra_space {
            let pct = r
                .costs
                .data_area_blocks
                .filter(|&n| n > 0)
                .map(|n| format!("{:.3}", data_area_used_pct(p, n)))
                .unwrap_or_default();
            rows.push(vec![
                run.name.clone(),
                variant.clone(),
                p.time_ticks.to_string(),
                p.extra_space_blocks.to_string(),
                p.data_area_used_blocks.to_string(),
                pct,
                p.kept_image_blocks.to_string(),
            ]);
        }
    }
    rows
}

/// The bytes of `extra_space.csv`: the csv writer's for [`SPACE_HEADER`] and
/// [`space_rows`], each row formatted straight into the output (the names quoted once
/// per run, the counts as decimal digits, the percentage through one reused buffer) with
/// no cell held as a `String`.
///
/// # Errors
/// [`Error::Csv`] naming `path` if the header cannot be written.
fn space_csv_bytes(path: &Path, runs: &[NamedRun]) -> Result<Vec<u8>, Error> {
    let mut out = tables::csv_bytes(path, &SPACE_HEADER, &[])?;
    let mut digits = itoa::Buffer::new();
    let mut pct = String::new();
    for run in runs {
        let r = &run.result;
        let name = csv_field(&run.name);
        let variant = csv_field(&r.engine_variant.map(|v| v.to_string()).unwrap_or_default());
        let slots = r.costs.data_area_blocks.filter(|&n| n > 0);
        for p in &r.extra_space {
            out.extend_from_slice(&name);
            out.push(b',');
            out.extend_from_slice(&variant);
            out.push(b',');
            out.extend_from_slice(digits.format(p.time_ticks).as_bytes());
            out.push(b',');
            out.extend_from_slice(digits.format(p.extra_space_blocks).as_bytes());
            out.push(b',');
            out.extend_from_slice(digits.format(p.data_area_used_blocks).as_bytes());
            out.push(b',');
            if let Some(n) = slots {
                pct.clear();
                // Writing to a String cannot fail.
                _ = write!(pct, "{:.3}", data_area_used_pct(p, n));
                out.extend_from_slice(pct.as_bytes());
            }
            out.push(b',');
            out.extend_from_slice(digits.format(p.kept_image_blocks).as_bytes());
            out.push(b'\n');
        }
    }
    Ok(out)
}

/// Writes `extra_space.csv` atomically (the csv writer's bytes for [`SPACE_HEADER`]
/// and [`space_rows`]).
///
/// # Errors
/// [`Error::Csv`] or [`Error::Io`] naming `path`.
pub fn write_space_csv(path: &Path, runs: &[NamedRun]) -> Result<(), Error> {
    write_atomic(path, &space_csv_bytes(path, runs)?)
}

/// One run's series as steps: `y` of each point held flat until the next one and to
/// the run's end.
fn steps(run: &NamedRun, y: impl Fn(&sim::SpacePoint) -> f64) -> Series {
    let r = &run.result;
    let mut points: Vec<(f64, f64)> = Vec::with_capacity(2 * r.extra_space.len() + 1);
    for p in &r.extra_space {
        let (x, y) = (p.time_ticks as f64, y(p));
        if let Some(&(_, prev)) = points.last() {
            points.push((x, prev));
        }
        points.push((x, y));
    }
    if let Some(&(x, y)) = points.last() {
        let end = r.end_ticks as f64;
        if end > x {
            points.push((end, y));
        }
    }
    Series {
        name: run.name.clone(),
        points,
        intervals: Vec::new(),
        note: None,
        seeds_failed: Vec::new(),
    }
}

/// The milestones of the runs drawn as `series` (each run's index in it, or `None`
/// when it has no line in the plot): each run's retires, abandoned backups and backups
/// given up ([`crate::figure::space_marks`]), labelled with the policy and the timing
/// diagram's text (`cow: backup abandoned (data area full) (t=5120)`).
fn milestones(runs: &[NamedRun], series: impl Fn(usize) -> Option<usize>) -> Vec<Milestone> {
    runs.iter()
        .enumerate()
        .filter_map(|(i, run)| Some((series(i)?, run)))
        .flat_map(|(k, run)| {
            crate::figure::space_marks(&run.result)
                .into_iter()
                .map(move |m| Milestone {
                    at: m.at as f64,
                    series: k,
                    kind: m.kind,
                    label: format!("{}: {}", run.name, m.label()),
                    name: m.name,
                })
        })
        .collect()
}

/// The LVM `Data%` view: x the virtual time (ticks), y the data area's slots in use
/// (% of `data_area_blocks`), one step line per policy with a data area (write logging
/// and copy-on-write), peaks more than [`crate::lines::SCALE_RATIO`] apart in separate
/// panels; `None` when no run has one.
pub fn data_area_plot(runs: &[NamedRun]) -> Option<LinePlot> {
    let slots = |run: &NamedRun| run.result.costs.data_area_blocks.filter(|&n| n > 0);
    let series: Vec<Series> = runs
        .iter()
        .filter_map(|run| {
            let n = slots(run)?;
            Some(steps(run, |p| data_area_used_pct(p, n)))
        })
        .collect();
    // Each run's place among the series: the runs with a data area before it.
    let marks = milestones(runs, |i| {
        slots(&runs[i])?;
        Some(runs[..i].iter().filter(|r| slots(r).is_some()).count())
    });
    (!series.is_empty()).then(|| LinePlot {
        title: "Data area used over time (LVM Data%)".into(),
        x_label: "time (ticks)".into(),
        y_label: "data area used (%)".into(),
        x_scale: XScale::Linear,
        series,
        markers: false,
        no_interval: None,
        no_value: None,
        split_scales: true,
        y_log: false,
        y_log_panels: false,
        panel_y_labels: Vec::new(),
        marks,
    })
}

/// The step plot: x the virtual time (ticks), y the extra space held (blocks), one
/// line per policy, each held flat from one change to the next and to the run's end;
/// peaks more than [`crate::lines::SCALE_RATIO`] apart in separate panels.
pub fn space_plot(runs: &[NamedRun]) -> LinePlot {
    let series = runs
        .iter()
        .map(|run| steps(run, |p| p.extra_space_blocks as f64))
        .collect();
    LinePlot {
        title: "Extra space held over time (mirror copy, log or copy-on-write area)".into(),
        x_label: "time (ticks)".into(),
        y_label: "extra space (blocks)".into(),
        x_scale: XScale::Linear,
        series,
        markers: false,
        no_interval: None,
        no_value: None,
        split_scales: true,
        y_log: false,
        y_log_panels: false,
        panel_y_labels: Vec::new(),
        marks: milestones(runs, Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs with a data area, with none (mirroring, `none`), with names that need
    /// quoting, and points at the extremes of every number.
    fn runs() -> Vec<NamedRun> {
        let mut s = sim::Scenario::with_workload(sim::WorkloadConfig::Bank(sim::BankConfig {
            transactions: 300,
            arrival_ticks_mean: 20,
            ..sim::BankConfig::default()
        }));
        s.backup.schedule_at_ticks = vec![10_000, 40_000];
        let policies = [
            ("cow", sim::Policy::Owm(engine::Variant::CopyOnWrite)),
            (
                "a \"log\", b",
                sim::Policy::Owm(engine::Variant::WriteLogging),
            ),
            (
                "mirror\r\nx",
                sim::Policy::Owm(engine::Variant::WriteMirroring),
            ),
            ("", sim::Policy::None),
        ];
        policies
            .into_iter()
            .map(|(name, p)| {
                let mut result = sim::run(&s, p, 4).unwrap().result;
                if result.costs.data_area_blocks.is_some() {
                    result.costs.data_area_blocks = Some(3);
                }
                for (t, x, d, k) in [
                    (u64::MAX, u64::MAX, 2, 0),
                    (0, 0, 0, 0),
                    (7, 1, 1, 5),
                    (8, 3, u64::MAX, u64::MAX),
                ] {
                    result.extra_space.push(sim::SpacePoint {
                        time_ticks: t,
                        extra_space_blocks: x,
                        data_area_used_blocks: d,
                        kept_image_blocks: k,
                    });
                }
                NamedRun {
                    name: name.to_string(),
                    result,
                }
            })
            .collect()
    }

    /// `extra_space.csv` formatted row by row is byte for byte the csv writer's file of
    /// [`space_rows`]: over runs with and without a data area, quoted names, and
    /// numbers from 0 to `u64::MAX`; the rows were many and the percentages varied.
    #[test]
    fn streamed_space_csv_is_the_csv_writers() {
        let runs = runs();
        let path = Path::new("extra_space.csv");
        let rows = space_rows(&runs);
        let want = tables::csv_bytes(path, &SPACE_HEADER, &rows).unwrap();
        let got = space_csv_bytes(path, &runs).unwrap();
        assert!(
            got == want,
            "{}\n!=\n{}",
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want)
        );
        let pcts: std::collections::BTreeSet<&str> = rows.iter().map(|r| r[5].as_str()).collect();
        assert!(
            rows.len() > 20 && pcts.len() > 3,
            "{} rows, {pcts:?}",
            rows.len()
        );
        assert!(pcts.contains(""), "no run without a data area");
        assert!(got.starts_with(b"policy,") && got.windows(2).any(|w| w == b"\"a"));
    }

    /// Runs of a mirroring policy holding a copy of 16,777,216 blocks, a cow one whose
    /// area peaks at 4,304 blocks, and `none` (nothing held), as db-64gib's are.
    fn scales() -> Vec<NamedRun> {
        let s = sim::Scenario::with_workload(sim::WorkloadConfig::Bank(sim::BankConfig {
            transactions: 20,
            ..sim::BankConfig::default()
        }));
        let policies = [
            ("none", sim::Policy::None, vec![(0, 0)]),
            (
                "mirroring",
                sim::Policy::Owm(engine::Variant::WriteMirroring),
                vec![(0, 0), (100, 16_777_216), (900, 0)],
            ),
            (
                "cow",
                sim::Policy::Owm(engine::Variant::CopyOnWrite),
                vec![(0, 0), (300, 1_000), (500, 4_304), (900, 0)],
            ),
        ];
        policies
            .into_iter()
            .map(|(name, p, points)| {
                let mut result = sim::run(&s, p, 4).unwrap().result;
                result.end_ticks = 1_000;
                result.extra_space = points
                    .into_iter()
                    .map(|(t, x)| sim::SpacePoint {
                        time_ticks: t,
                        extra_space_blocks: x,
                        data_area_used_blocks: 0,
                        kept_image_blocks: 0,
                    })
                    .collect();
                NamedRun {
                    name: name.to_string(),
                    result,
                }
            })
            .collect()
    }

    /// How far (pixels) the lines of `svg` stroked in `colour` rise: from the lowest to
    /// the highest point of its `<polyline>`s that are not flat (a solid line is one,
    /// a dashed line many; the legend's sample is flat).
    fn y_span(svg: &str, colour: &str) -> i64 {
        let (lo, hi) = svg
            .split("<polyline")
            .skip(1)
            .filter(|e| e.contains(&format!("stroke=\"{colour}\"")))
            .filter_map(|e| {
                let points = e.split("points=\"").nth(1)?.split('"').next()?;
                let ys: Vec<i64> = points
                    .split_whitespace()
                    .filter_map(|p| p.split(',').nth(1)?.parse().ok())
                    .collect();
                let (lo, hi) = (*ys.iter().min()?, *ys.iter().max()?);
                (hi > lo).then_some((lo, hi))
            })
            .fold((i64::MAX, i64::MIN), |(a, b), (lo, hi)| {
                (a.min(lo), b.max(hi))
            });
        (hi - lo).max(0)
    }

    /// A curve of thousands beside one of millions rises across a panel of its own
    /// (not flat on the axis the millions need): peaks more than
    /// [`crate::lines::SCALE_RATIO`] apart are drawn in separate panels, `none`'s
    /// (nothing held) with the smallest, each curve rising over most of its panel.
    #[test]
    fn curves_of_different_scales_each_rise_across_their_panel() {
        let runs = scales();
        let plot = space_plot(&runs);
        assert_eq!(crate::lines::panels(&plot), vec![vec![1], vec![0, 2]]);
        let svg = crate::lines::render_svg(&plot).unwrap();
        // The panels share the picture's height less the title: at least 150 of the
        // ~350 pixels of a panel's plot area.
        for (name, colour) in [("mirroring", "#2CA02C"), ("cow", "#9467BD")] {
            let span = y_span(&svg, colour);
            assert!(span >= 150, "{name} rises {span} px");
        }
        assert!(svg.contains("one panel per scale"), "the picture says why");
        // The same input, the same bytes.
        assert_eq!(svg, crate::lines::render_svg(&plot).unwrap());
        let png = crate::lines::render_png(&plot).unwrap();
        assert_eq!(png, crate::lines::render_png(&plot).unwrap());
        // Of the same scale (the data area's use, in %): one panel, as before.
        let mut cow = runs[2].clone();
        cow.result.costs.data_area_blocks = Some(10_000);
        for p in &mut cow.result.extra_space {
            p.data_area_used_blocks = p.extra_space_blocks;
        }
        let mut logging = cow.clone();
        logging.name = "logging".into();
        let plot = data_area_plot(&[logging, cow]).unwrap();
        assert_eq!(crate::lines::panels(&plot), vec![vec![0, 1]]);
        assert!(!crate::lines::render_svg(&plot)
            .unwrap()
            .contains("one panel per scale"));
    }

    /// The vertical lines of `svg` stroked in `colour` (`<polyline>`s of two points
    /// at one x): (x, top, bottom) each.
    fn verticals(svg: &str, colour: &str) -> Vec<(i64, i64, i64)> {
        svg.split("<polyline")
            .skip(1)
            .filter(|e| e.contains(&format!("stroke=\"{colour}\"")))
            .filter_map(|e| {
                let points = e.split("points=\"").nth(1)?.split('"').next()?;
                let xy: Vec<(i64, i64)> = points
                    .split_whitespace()
                    .filter_map(|p| {
                        let (x, y) = p.split_once(',')?;
                        Some((x.parse().ok()?, y.parse().ok()?))
                    })
                    .collect();
                match xy.as_slice() {
                    [(x0, y0), (x1, y1)] if x0 == x1 && y0 != y1 => {
                        Some((*x0, *y0.min(y1), *y0.max(y1)))
                    }
                    _ => None,
                }
            })
            .collect()
    }

    /// A backup abandoned (its extra space dropped with no archive) is marked on both
    /// plots by an orange vertical line across its policy's panel, labelled with the
    /// policy and the time and named in the legend, apart from a retire (dark grey);
    /// without an abandon no orange line and no such words are drawn, and the retire
    /// still is.
    #[test]
    fn an_abandoned_backup_is_marked_apart_from_a_retire() {
        const ABANDON: &str = "#FF7F0E";
        const RETIRE: &str = "#3C3C3C";
        let mut runs = scales();
        for r in &mut runs {
            r.result.cycles.clear();
            r.result.marks = sim::Marks::default();
        }
        runs[1].result.marks.retire = Some(900);
        let cow = &mut runs[2].result;
        cow.costs.data_area_blocks = Some(8_000);
        for p in &mut cow.extra_space {
            p.data_area_used_blocks = p.extra_space_blocks;
        }
        let retired = runs.clone();
        runs[2].result.marks.abandoned = Some(600);
        runs[2].result.marks.a_dropped = Some(900);
        let space = crate::lines::render_svg(&space_plot(&runs)).unwrap();
        let area = crate::lines::render_svg(&data_area_plot(&runs).unwrap()).unwrap();
        for (what, svg) in [("extra space", &space), ("data area", &area)] {
            assert!(
                svg.contains("cow: backup abandoned (data area full) (t=600)"),
                "{what}"
            );
            assert!(
                svg.contains("backup abandoned (data area full) (vertical line)"),
                "{what}: the legend names it"
            );
            let lines = verticals(svg, ABANDON);
            assert_eq!(
                lines.len(),
                2,
                "{what}: the line and its legend's: {lines:?}"
            );
            assert!(
                lines.iter().any(|l| l.2 - l.1 >= 150),
                "{what}: across the panel: {lines:?}"
            );
            assert!(svg.contains("cow: A dropped, no archive (t=900)"), "{what}");
        }
        assert!(space.contains("mirroring: A retired (t=900)"));
        assert!(
            !area.contains("mirroring"),
            "no data area, no line, no mark"
        );
        // The retire's line in the mirror's panel, above the abandon's in cow's.
        let abandon_top = verticals(&space, ABANDON).iter().map(|l| l.1).max();
        let retire_top = verticals(&space, RETIRE).iter().map(|l| l.1).min();
        assert!(retire_top < abandon_top, "{retire_top:?} {abandon_top:?}");
        // No abandon: no orange line, no such words.
        let space = crate::lines::render_svg(&space_plot(&retired)).unwrap();
        assert!(verticals(&space, ABANDON).is_empty());
        assert!(!space.contains("abandoned"));
        assert!(space.contains("mirroring: A retired (t=900)"));
        assert!(!verticals(&space, RETIRE).is_empty());
    }

    /// A directory that cannot hold the file is an error naming `extra_space.csv`.
    #[test]
    fn an_unwritable_directory_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/extra_space.csv");
        let e = write_space_csv(&path, &runs()).unwrap_err();
        assert!(e.to_string().contains("extra_space.csv"), "{e}");
    }
}
