//! Extra space over time, the LVM `Data%` view of a run: `extra_space.csv` (one row per
//! policy and change), a step plot of the extra space held (one line per policy), and
//! one of the data area's use in % (one line per policy with a data area).

use std::path::Path;

use crate::lines::{LinePlot, Series, XScale};
use crate::{tables, Error, NamedRun};

/// The header of `extra_space.csv`.
pub const SPACE_HEADER: [&str; 6] = [
    "policy",
    "engine_variant",
    "time_ticks",
    "extra_space_blocks",
    "data_area_used_blocks",
    "data_area_used_pct",
];

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
                .map(|n| format!("{:.3}", 100.0 * p.data_area_used_blocks as f64 / n as f64))
                .unwrap_or_default();
            rows.push(vec![
                run.name.clone(),
                variant.clone(),
                p.time_ticks.to_string(),
                p.extra_space_blocks.to_string(),
                p.data_area_used_blocks.to_string(),
                pct,
            ]);
        }
    }
    rows
}

/// Writes `extra_space.csv` atomically.
pub fn write_space_csv(path: &Path, runs: &[NamedRun]) -> Result<(), Error> {
    let header: Vec<String> = SPACE_HEADER.iter().map(|h| h.to_string()).collect();
    tables::write_table(path, &header, &space_rows(runs))
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
    }
}

/// The LVM `Data%` view: x the virtual time (ticks), y the data area's slots in use
/// (% of `data_area_blocks`), one step line per policy with a data area (write logging
/// and copy-on-write); `None` when no run has one.
pub fn data_area_plot(runs: &[NamedRun]) -> Option<LinePlot> {
    let series: Vec<Series> = runs
        .iter()
        .filter_map(|run| {
            let n = run.result.costs.data_area_blocks.filter(|&n| n > 0)?;
            Some(steps(run, |p| {
                100.0 * p.data_area_used_blocks as f64 / n as f64
            }))
        })
        .collect();
    (!series.is_empty()).then(|| LinePlot {
        title: "Data area used over time (LVM Data%)".into(),
        x_label: "time (ticks)".into(),
        y_label: "data area used (%)".into(),
        x_scale: XScale::Linear,
        series,
        markers: false,
    })
}

/// The step plot: x the virtual time (ticks), y the extra space held (blocks), one
/// line per policy, each held flat from one change to the next and to the run's end.
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
    }
}
