//! CSV tables of simulator results: `summary.csv` (one row per policy: the costs of
//! DESIGN.md §6), `trace.csv` (one row per transaction event or backup milestone), and
//! the metric columns a sweep writes per grid point.
//!
//! Numbers are written in a fixed format (integers plain, fractions with 3 decimals,
//! absent values empty) so the same run always gives the same bytes.

use std::path::Path;

use sim::{RunResult, WaitKind};

use crate::{write_atomic, Error};

/// A named run: the policy's name as the user wrote it ("none" for no backup) and its
/// result.
#[derive(Debug, Clone)]
pub struct NamedRun {
    pub name: String,
    pub result: RunResult,
}

type Getter = fn(&RunResult) -> String;

fn int(x: u64) -> String {
    x.to_string()
}

fn opt(x: Option<u64>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

fn frac(x: f64) -> String {
    format!("{x:.3}")
}

/// Every metric column: name and how to read it from a result. The order is the
/// column order of `summary.csv` and of a sweep's CSV.
pub const METRICS: &[(&str, Getter)] = &[
    ("committed", |r| int(r.costs.committed)),
    ("aborted", |r| int(r.costs.aborted)),
    ("deadlock_aborts", |r| int(r.costs.deadlock_aborts)),
    ("admission_delay_count", |r| {
        int(r.costs.admission_delay.count)
    }),
    ("admission_delay_mean_ticks", |r| {
        frac(r.costs.admission_delay.mean_ticks)
    }),
    ("admission_delay_p99_ticks", |r| {
        int(r.costs.admission_delay.p99_ticks)
    }),
    ("admission_delay_max_ticks", |r| {
        int(r.costs.admission_delay.max_ticks)
    }),
    ("response_mean_ticks", |r| {
        frac(r.costs.response_time.mean_ticks)
    }),
    ("response_p99_ticks", |r| {
        int(r.costs.response_time.p99_ticks)
    }),
    ("response_max_ticks", |r| {
        int(r.costs.response_time.max_ticks)
    }),
    ("request_to_a_consistent_ticks", |r| {
        opt(r.costs.request_to_a_consistent_ticks)
    }),
    ("unavailable_ticks", |r| int(r.costs.unavailable_ticks)),
    ("logical_reads", |r| int(r.costs.logical_reads)),
    ("logical_writes", |r| int(r.costs.logical_writes)),
    ("physical_reads", |r| int(r.costs.physical_reads)),
    ("physical_writes", |r| int(r.costs.physical_writes)),
    ("physical_reads_per_logical_write", |r| {
        frac(r.costs.physical_reads_per_logical_write)
    }),
    ("physical_writes_per_logical_write", |r| {
        frac(r.costs.physical_writes_per_logical_write)
    }),
    ("extra_space_peak_blocks", |r| {
        int(r.costs.extra_space_peak_blocks)
    }),
    ("extra_space_end_blocks", |r| {
        int(r.costs.extra_space_end_blocks)
    }),
    ("table_lookups", |r| int(r.costs.table_lookups)),
    ("table_updates", |r| int(r.costs.table_updates)),
    ("lock_waits", |r| int(r.costs.lock_waits)),
    ("lock_wait_total_ticks", |r| {
        int(r.costs.lock_wait_ticks_total)
    }),
    ("lock_wait_max_ticks", |r| int(r.costs.lock_wait_ticks_max)),
    ("device_queue_ticks", |r| int(r.costs.device_queue_ticks)),
    ("request_at_ticks", |r| opt(r.marks.request)),
    ("vlun_b_ready_at_ticks", |r| opt(r.marks.vlun_b_ready)),
    ("a_consistent_at_ticks", |r| opt(r.marks.a_consistent)),
    ("archive_copy_at_ticks", |r| opt(r.marks.archive_copy)),
    ("retire_at_ticks", |r| opt(r.marks.retire)),
    ("end_ticks", |r| int(r.end_ticks)),
    ("events", |r| int(r.events)),
    ("violations", |r| r.violations.len().to_string()),
];

/// The position of metric `name` in [`METRICS`].
pub fn metric_index(name: &str) -> Option<usize> {
    METRICS.iter().position(|(n, _)| *n == name)
}

/// The value of metric `name` for `r`, if there is such a metric.
pub fn metric(r: &RunResult, name: &str) -> Option<String> {
    METRICS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, get)| get(r))
}

/// Serialises rows to CSV bytes.
fn csv_bytes(path: &Path, header: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>, Error> {
    let csv_err = |source| Error::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).map_err(csv_err)?;
    for row in rows {
        debug_assert_eq!(row.len(), header.len());
        w.write_record(row).map_err(csv_err)?;
    }
    w.into_inner().map_err(|e| Error::io(path, e.into_error()))
}

/// `summary.csv`: one row per run.
pub fn summary_csv(runs: &[NamedRun]) -> Vec<Vec<String>> {
    runs.iter()
        .map(|run| {
            let r = &run.result;
            let mut row = vec![
                r.scenario.clone(),
                r.workload.clone(),
                run.name.clone(),
                r.seed.to_string(),
            ];
            row.extend(METRICS.iter().map(|(_, get)| get(r)));
            row
        })
        .collect()
}

/// The header of `summary.csv`.
pub fn summary_header() -> Vec<&'static str> {
    let mut h = vec!["scenario", "workload", "policy", "seed"];
    h.extend(METRICS.iter().map(|(n, _)| *n));
    h
}

/// Writes `summary.csv` atomically.
pub fn write_summary(path: &Path, runs: &[NamedRun]) -> Result<(), Error> {
    let bytes = csv_bytes(path, &summary_header(), &summary_csv(runs))?;
    write_atomic(path, &bytes)
}

fn wait_name(k: WaitKind) -> &'static str {
    match k {
        WaitKind::Queue => "queue",
        WaitKind::Lock => "lock",
        WaitKind::TypeB => "type-b",
        WaitKind::Gate => "gate",
        WaitKind::Backoff => "backoff",
    }
}

/// The header of `trace.csv`.
pub const TRACE_HEADER: [&str; 9] = [
    "policy",
    "time_ticks",
    "event",
    "txn",
    "label",
    "process",
    "vlun",
    "old",
    "detail",
];

/// `trace.csv` rows: per run, every milestone and every transaction event (arrive,
/// wait begin/end, admit, end), in time order; ties keep milestones first, then
/// transaction id order, then the order of the events within a transaction.
pub fn trace_rows(runs: &[NamedRun]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for run in runs {
        let r = &run.result;
        // (time, group, txn, seq, row)
        let mut rows: Vec<(u64, u8, u32, u8, Vec<String>)> = Vec::new();
        let m = &r.marks;
        let marks = [
            ("backup-request", m.request),
            ("split", m.split),
            ("vlun-b-ready", m.vlun_b_ready),
            ("a-consistent", m.a_consistent),
            ("archive-copy", m.archive_copy),
            ("retire", m.retire),
        ];
        for (i, (name, at)) in marks.into_iter().enumerate() {
            if let Some(at) = at {
                let row = vec![run.name.clone(), at.to_string(), name.to_string()];
                rows.push((at, 0, 0, i as u8, pad(row)));
            }
        }
        for t in &r.transactions {
            let base = |time: u64, event: &str, detail: String| {
                vec![
                    run.name.clone(),
                    time.to_string(),
                    event.to_string(),
                    t.txn.to_string(),
                    t.label.to_string(),
                    t.process.map(|p| p.to_string()).unwrap_or_default(),
                    t.vlun.map(|v| v.to_string()).unwrap_or_default(),
                    t.old.to_string(),
                    detail,
                ]
            };
            rows.push((
                t.arrived_ticks,
                1,
                t.txn,
                0,
                base(t.arrived_ticks, "arrive", String::new()),
            ));
            for w in &t.waits {
                let k = wait_name(w.kind).to_string();
                rows.push((
                    w.from_ticks,
                    1,
                    t.txn,
                    1,
                    base(w.from_ticks, "wait-begin", k.clone()),
                ));
                rows.push((
                    w.until_ticks,
                    1,
                    t.txn,
                    2,
                    base(w.until_ticks, "wait-end", k),
                ));
            }
            if let Some(a) = t.admitted_ticks {
                rows.push((a, 1, t.txn, 3, base(a, "admit", String::new())));
            }
            if let Some(e) = t.ended_ticks {
                let outcome = format!("{:?}", t.outcome).to_lowercase();
                rows.push((e, 1, t.txn, 4, base(e, "end", outcome)));
            }
        }
        // A stable sort: equal keys keep insertion order (waits in their own order).
        rows.sort_by_key(|(time, group, txn, seq, _)| (*time, *group, *txn, *seq));
        out.extend(rows.into_iter().map(|(.., row)| row));
    }
    out
}

fn pad(mut row: Vec<String>) -> Vec<String> {
    row.resize(TRACE_HEADER.len(), String::new());
    row
}

/// Writes `trace.csv` atomically.
pub fn write_trace(path: &Path, runs: &[NamedRun]) -> Result<(), Error> {
    let bytes = csv_bytes(path, &TRACE_HEADER, &trace_rows(runs))?;
    write_atomic(path, &bytes)
}

/// Writes any table (a sweep's CSV) atomically.
pub fn write_table(path: &Path, header: &[String], rows: &[Vec<String>]) -> Result<(), Error> {
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let bytes = csv_bytes(path, &header, rows)?;
    write_atomic(path, &bytes)
}

/// Reads a table written by [`write_table`]: header and rows.
pub fn read_table(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>), Error> {
    let csv_err = |source| Error::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut r = csv::Reader::from_path(path).map_err(csv_err)?;
    let header = r
        .headers()
        .map_err(csv_err)?
        .iter()
        .map(String::from)
        .collect();
    let mut rows = Vec::new();
    for rec in r.records() {
        rows.push(rec.map_err(csv_err)?.iter().map(String::from).collect());
    }
    Ok((header, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_are_unique_and_found() {
        for (i, (name, _)) in METRICS.iter().enumerate() {
            assert_eq!(metric_index(name), Some(i), "{name} is listed twice");
        }
        assert_eq!(metric_index("speed"), None);
    }

    #[test]
    fn rows_match_the_header_and_trace_is_in_time_order() {
        let scenario = sim::Scenario::default();
        let result =
            sim::run(&scenario, sim::Policy::Owm(engine::Variant::CopyOnWrite), 3).unwrap();
        let runs = vec![NamedRun {
            name: "cow".into(),
            result,
        }];
        let rows = summary_csv(&runs);
        assert_eq!(rows[0].len(), summary_header().len());
        let trace = trace_rows(&runs);
        assert!(trace.iter().all(|r| r.len() == TRACE_HEADER.len()));
        let times: Vec<u64> = trace.iter().map(|r| r[1].parse().unwrap()).collect();
        assert!(
            times.windows(2).all(|w| w[0] <= w[1]),
            "trace not in time order"
        );
        let events: Vec<&str> = trace.iter().map(|r| r[2].as_str()).collect();
        for e in [
            "backup-request",
            "split",
            "a-consistent",
            "retire",
            "arrive",
            "admit",
            "end",
        ] {
            assert!(events.contains(&e), "no {e} event");
        }
    }
}
