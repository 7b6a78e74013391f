//! The line plots of a sweep: one per metric (and per combination of the axes other
//! than x), x the swept value, one line per policy, y the mean over the seeds.

use reports::lines::{LinePlot, Series};

use super::file::{value_text, AxisSpec};
use super::grid::Sweep;

/// One plot per metric (and per combination of the axes other than x): x the swept
/// value, one line per policy, y the mean over the seeds.
pub fn line_plots(sw: &Sweep, rows: &[Vec<String>]) -> Vec<(String, LinePlot)> {
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
    let mut out = Vec::new();
    for metric in &sw.spec.metrics {
        let Some(m) = col(metric) else { continue };
        for (gi, g) in groups.iter().enumerate() {
            let mut series = Vec::new();
            for policy in &sw.spec.policies {
                let mut points: Vec<(f64, f64)> = Vec::new();
                let xs: Vec<String> = match x_pos {
                    Some(i) => axes[i].values.iter().map(value_text).collect(),
                    None => vec![String::new()],
                };
                for (xi, x) in xs.iter().enumerate() {
                    let ys: Vec<f64> = rows
                        .iter()
                        .filter(|r| r[col("policy").unwrap_or(0)] == policy.as_str())
                        .filter(|r| x_pos.is_none_or(|i| &r[1 + i] == x))
                        .filter(|r| {
                            others
                                .iter()
                                .zip(g)
                                .all(|(a, v)| col(&a.key).is_some_and(|c| &r[c] == v))
                        })
                        .filter_map(|r| r[m].parse::<f64>().ok())
                        .collect();
                    if !ys.is_empty() {
                        let xv = x.parse::<f64>().unwrap_or(xi as f64);
                        points.push((xv, ys.iter().sum::<f64>() / ys.len() as f64));
                    }
                }
                series.push(Series {
                    name: policy.as_str().to_string(),
                    points,
                });
            }
            let suffix: Vec<String> = others
                .iter()
                .zip(g)
                .map(|(a, v)| format!("{}={v}", a.key))
                .collect();
            let name = if groups.len() > 1 {
                format!("{metric}--{}", gi + 1)
            } else {
                metric.clone()
            };
            let title = if suffix.is_empty() {
                format!("{}: {metric}", sw.title)
            } else {
                format!("{}: {metric} ({})", sw.title, suffix.join(", "))
            };
            let plot = LinePlot {
                title,
                x_label: x_axis.clone().unwrap_or_else(|| "(no axis)".into()),
                y_label: format!("{metric} (mean of {} seeds)", sw.spec.seeds.len()),
                series,
            };
            out.push((name, plot));
        }
    }
    out
}
