//! What a plot calls a scenario key or a metric: one name table, with units. A dotted
//! key (`workload.arrivals.interarrival_ticks_mean`) or a metric column
//! (`admission_delay_mean_ticks`) becomes words with its unit last in brackets ("mean
//! inter-arrival time (ticks)"). Names the table does not list are derived from the
//! key's last part by the project's naming rule (units last, statistic after them):
//! `lock_wait_ticks_max` → "max lock wait (ticks)".

/// Names that the rule would get wrong or too terse, by dotted key or metric column.
const NAMES: &[(&str, &str)] = &[
    (
        "workload.arrivals.interarrival_ticks_mean",
        "mean inter-arrival time (ticks)",
    ),
    ("workload.kind", "workload"),
    ("workload.write_fraction", "write fraction"),
    ("workload.records", "records"),
    ("workload.transactions", "transactions"),
    ("workload.accounts", "accounts"),
    ("workload.compute_ticks_max", "longest compute time (ticks)"),
    (
        "workload.compute_ticks_min",
        "shortest compute time (ticks)",
    ),
    ("workload.hot_spot.exponent", "Zipf exponent"),
    ("backup.setup_window_ticks", "setup window (ticks)"),
    ("backup.request_at_ticks", "backup request at (ticks)"),
    ("geometry.records_per_block", "records per block"),
    ("geometry.block_size_bytes", "block size (bytes)"),
    ("limits.events_max", "event limit"),
    ("response_mean_ticks", "mean response time (ticks)"),
    ("response_p99_ticks", "p99 response time (ticks)"),
    ("response_max_ticks", "max response time (ticks)"),
    (
        "request_to_a_consistent_ticks",
        "backup request to VLUN A consistent (ticks)",
    ),
    ("unavailable_ticks", "time unavailable (ticks)"),
    ("a_consistent_at_ticks", "VLUN A consistent at (ticks)"),
    ("vlun_b_ready_at_ticks", "VLUN B ready at (ticks)"),
    ("request_at_ticks", "backup request at (ticks)"),
    ("archive_copy_at_ticks", "archive copy done at (ticks)"),
    ("retire_at_ticks", "VLUN A retired at (ticks)"),
    ("end_ticks", "run end (ticks)"),
    ("events", "events processed"),
    ("violations", "violations of claimed invariants"),
    (
        "violations_not_claimed",
        "violations of unclaimed invariants",
    ),
    ("admission_delay_count", "new transactions admitted"),
    ("extra_space_end_blocks", "extra space at the end (blocks)"),
    ("device_queue_ticks", "device queue time (ticks)"),
    ("misdirected_writes", "misdirected writes"),
    ("corrupted_blocks", "rotted blocks"),
    ("integrity_detections", "checksum mismatches detected"),
    ("unreadable_blocks", "image blocks refused at the checks"),
    ("backup.data_area_blocks", "data area (blocks)"),
    (
        "backup.data_area_fraction",
        "data area (fraction of the volume)",
    ),
    ("backup.on_data_area_full", "on a full data area"),
    ("data_area_full_aborts", "aborts by a full data area"),
    ("backup_abandoned", "backup abandoned (1 = yes)"),
    ("abandoned_at_ticks", "backup abandoned at (ticks)"),
    // A sweep's per-cycle columns are its grid point's first cycle's.
    (
        "request_deferred_ticks",
        "first backup request deferred (ticks)",
    ),
    (
        "cycle_vlun_b_writes_a_live",
        "first cycle's writes through VLUN B while VLUN A live",
    ),
    ("cycle_table_updates", "first cycle's table updates"),
    (
        "cycle_extra_space_peak_blocks",
        "first cycle's peak extra space (blocks)",
    ),
    (
        "cycle_backup_physical_reads",
        "first cycle's backup physical reads",
    ),
    (
        "cycle_backup_physical_writes",
        "first cycle's backup physical writes",
    ),
    ("cycle_archive_bytes", "first cycle's archive (bytes)"),
    ("detach_start_at_ticks", "copy to B' started at (ticks)"),
    ("detach_end_at_ticks", "copy to B' done at (ticks)"),
    ("detach_blocks_copied", "blocks copied to B'"),
    ("detach_mirrored_writes", "writes mirrored to B'"),
];

/// Units a name may end with (before its statistic): shown in brackets.
const UNITS: &[&str] = &["ticks", "blocks", "bytes"];

/// Statistics a name may end with: shown first.
const STATS: &[&str] = &[
    "mean", "max", "min", "p99", "total", "sum", "count", "peak", "end",
];

/// The label of a dotted key or metric column, with its unit (see the module doc).
pub fn label(key: &str) -> String {
    if let Some((_, name)) = NAMES.iter().find(|(k, _)| *k == key) {
        return (*name).to_string();
    }
    let last = key.rsplit('.').next().unwrap_or(key);
    let mut words: Vec<&str> = last.split('_').filter(|w| !w.is_empty()).collect();
    let mut stat = None;
    if words.len() > 1 && STATS.contains(words.last().unwrap_or(&"")) {
        stat = words.pop();
    }
    let mut unit = None;
    if words.len() > 1 && UNITS.contains(words.last().unwrap_or(&"")) {
        unit = words.pop();
    }
    if stat.is_none() && words.len() > 1 && STATS.contains(words.last().unwrap_or(&"")) {
        stat = words.pop();
    }
    let mut out = String::new();
    if let Some(s) = stat {
        out.push_str(s);
        out.push(' ');
    }
    out.push_str(&words.join(" "));
    if let Some(u) = unit {
        out.push_str(&format!(" ({u})"));
    }
    out
}

/// The label without its unit, for titles: "mean inter-arrival time".
pub fn name(key: &str) -> String {
    let l = label(key);
    match l.rfind(" (") {
        Some(i) if l.ends_with(')') => l[..i].to_string(),
        _ => l,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_metrics_get_words_and_units() {
        assert_eq!(
            label("workload.arrivals.interarrival_ticks_mean"),
            "mean inter-arrival time (ticks)"
        );
        assert_eq!(
            label("admission_delay_mean_ticks"),
            "mean admission delay (ticks)"
        );
        assert_eq!(label("lock_wait_ticks_max"), "max lock wait (ticks)");
        assert_eq!(
            label("extra_space_peak_blocks"),
            "peak extra space (blocks)"
        );
        assert_eq!(
            label("physical_writes_per_logical_write"),
            "physical writes per logical write"
        );
        assert_eq!(label("workload.kind"), "workload");
        assert_eq!(
            name("workload.arrivals.interarrival_ticks_mean"),
            "mean inter-arrival time"
        );
        assert_eq!(label("backup.archive.ticks_per_block"), "ticks per block");
        // Every metric has a label of words: no raw column name on a plot.
        for m in crate::tables::sweep_metrics() {
            let l = label(m);
            assert!(!l.contains('_') && !l.is_empty(), "{m}: {l}");
            if m.contains("_ticks") {
                assert!(l.ends_with("(ticks)"), "{m}: {l}");
            }
        }
    }
}
