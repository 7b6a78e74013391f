//! Extra space over time, the LVM `Data%` view of a run: `extra_space.csv` (one row per
//! policy and change) and a step plot of the extra space held, one line per policy.

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

/// The step plot: x the virtual time (ticks), y the extra space held (blocks), one
/// line per policy, each held flat from one change to the next and to the run's end.
pub fn space_plot(runs: &[NamedRun]) -> LinePlot {
    let series = runs
        .iter()
        .map(|run| {
            let r = &run.result;
            let mut points: Vec<(f64, f64)> = Vec::with_capacity(2 * r.extra_space.len() + 1);
            for p in &r.extra_space {
                let (x, y) = (p.time_ticks as f64, p.extra_space_blocks as f64);
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
        })
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
