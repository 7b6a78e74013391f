//! What a plot calls a scenario key or a metric: one name table, with units. A dotted
//! key (`workload.arrivals.interarrival_ticks_mean`) or a metric column
//! (`admission_delay_ticks_mean`) becomes words with its unit last in brackets ("mean
//! inter-arrival time (ticks)"). Names the table does not list are derived from the
//! key's last part by the project's naming rule (units last, statistic after them):
//! `lock_wait_ticks_max` → "max lock wait (ticks)", a sum as a total. A metric of the
//! backup window or of the time before the request says so after its words:
//! `window_backup_wait_ticks_sum` → "total backup wait in the backup window (ticks)",
//! `before_committed` → "committed before the backup request (transactions)".

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
    ("limits.time_ticks_max", "virtual time limit (ticks)"),
    ("limits.attempts_max", "transaction attempt limit"),
    ("limits.volume_bytes_max", "volume size limit (bytes)"),
    ("limits.archive_blocks_max", "archive copy limit (blocks)"),
    ("limits.memory_bytes_max", "memory limit (bytes)"),
    ("limits.output_bytes_max", "output size limit (bytes)"),
    ("name", "scenario name"),
    ("abort_probability", "abort probability"),
    ("retry_backoff_ticks", "deadlock retry backoff (ticks)"),
    ("keep_history", "history kept"),
    ("keep_timeline", "timeline kept"),
    ("workload.updates_min", "fewest updates per transaction"),
    ("workload.updates_max", "most updates per transaction"),
    ("workload.jitter_ticks", "compute time jitter (ticks)"),
    ("workload.initial_value", "initial record value"),
    ("workload.processes", "processes"),
    (
        "workload.arrival_ticks_mean",
        "mean time between arrivals (ticks)",
    ),
    ("workload.initial_balance", "opening balance"),
    ("workload.amount_max", "largest transfer amount"),
    ("workload.arrivals", "arrivals"),
    ("workload.arrivals.mode", "arrival mode"),
    ("workload.arrivals.clients", "clients"),
    (
        "workload.arrivals.think_ticks_mean",
        "mean think time (ticks)",
    ),
    ("workload.length_min", "fewest accesses per transaction"),
    ("workload.length_max", "most accesses per transaction"),
    ("workload.hot_spot", "hot spot"),
    ("workload.hot_spot.shape", "hot spot shape"),
    ("workload.write_kind", "write kind"),
    ("workload.flush_at_commit", "flush at commit"),
    ("workload.path", "trace file"),
    ("workload.format", "trace format"),
    ("workload.timing", "trace timing"),
    ("workload.time_scale", "trace time scale"),
    ("workload.grouping", "trace I/O grouping"),
    ("workload.idle_gap_ticks", "trace idle gap (ticks)"),
    (
        "workload.ios_per_transaction_max",
        "most trace I/Os per transaction",
    ),
    ("workload.addresses", "trace addresses"),
    ("workload.compute_ticks", "compute time (ticks)"),
    ("workload.blkparse_event", "blkparse event"),
    ("locking.discipline", "locking discipline"),
    ("locking.granularity", "lock granularity"),
    ("locking.type_b_blocks", "type (b) shared data (blocks)"),
    ("device.profile", "device profile"),
    ("device.read_latency_ticks", "device read latency (ticks)"),
    ("device.write_latency_ticks", "device write latency (ticks)"),
    (
        "device.table_update_latency_ticks",
        "device table update latency (ticks)",
    ),
    (
        "device.table_lookup_latency_ticks",
        "device table lookup latency (ticks)",
    ),
    ("device.channels", "device channels"),
    ("device.write_channels", "device write channels"),
    ("device.jitter_ticks_max", "device max jitter (ticks)"),
    (
        "device.sequential_read_bytes_per_s",
        "device sequential read rate (bytes/s)",
    ),
    (
        "device.transfer_bytes_per_s",
        "device transfer rate (bytes/s)",
    ),
    ("device.flush_latency_ticks", "device flush latency (ticks)"),
    (
        "device.journal_sync_latency_ticks",
        "device journal sync latency (ticks)",
    ),
    ("device.integrity", "device integrity mode"),
    ("device.journaled", "device journaled"),
    ("device.journal_lane", "device journal lane"),
    ("backup.baseline_variant", "point-in-time copy baseline"),
    ("backup.quiesce_deadline_ticks", "quiesce deadline (ticks)"),
    ("backup.quiesce_retries_max", "quiesce retries"),
    (
        "backup.quiesce_retry_backoff_ticks",
        "quiesce retry backoff (ticks)",
    ),
    ("backup.schedule_at_ticks", "backup schedule (ticks)"),
    ("backup.period_ticks", "backup period (ticks)"),
    ("backup.cycles", "backup cycles"),
    ("archive.profile", "archive profile"),
    ("archive.latency_ticks", "archive latency (ticks)"),
    (
        "archive.bandwidth_bytes_per_s",
        "archive bandwidth (bytes/s)",
    ),
    (
        "archive.rate_limit_bytes_per_s",
        "archive rate limit (bytes/s)",
    ),
    ("archive.extent_blocks", "archive extent (blocks)"),
    ("archive.sparse", "archive sparse copy"),
    ("detach", "copy to B'"),
    ("detach.profile", "B' profile"),
    ("detach.latency_ticks", "B' latency (ticks)"),
    ("detach.bandwidth_bytes_per_s", "B' bandwidth (bytes/s)"),
    (
        "detach.rate_limit_bytes_per_s",
        "B' copy rate limit (bytes/s)",
    ),
    ("detach.extent_blocks", "B' copy extent (blocks)"),
    ("faults.crash_at_ticks", "crashes at (ticks)"),
    ("faults.heal_at_ticks", "faults healed at (ticks)"),
    ("faults.read_error_probability", "read error probability"),
    ("faults.write_error_probability", "write error probability"),
    (
        "faults.torn_write_probability",
        "torn write probability at a crash",
    ),
    (
        "faults.lost_write_probability",
        "lost write probability at a crash",
    ),
    (
        "faults.latency_spike_probability",
        "latency spike probability",
    ),
    (
        "faults.latency_spike_ticks_max",
        "longest latency spike (ticks)",
    ),
    ("faults.io_retry_ticks", "failed read retry wait (ticks)"),
    (
        "faults.backup_read_error_probability",
        "backup read error probability",
    ),
    (
        "faults.archive_write_error_probability",
        "archive write error probability",
    ),
    (
        "faults.misdirected_write_probability",
        "misdirected write probability",
    ),
    ("faults.corrupt_block_probability", "block rot probability"),
    ("faults.power_safe", "power-safe write order"),
    ("committed", "committed (transactions)"),
    ("aborted", "aborted (transactions)"),
    ("cow_copies", "copy-on-write copies (blocks)"),
    ("window_start_at_ticks", "backup window start (ticks)"),
    ("window_end_at_ticks", "backup window end (ticks)"),
    ("response_ticks_mean", "mean response time (ticks)"),
    ("response_ticks_p99", "p99 response time (ticks)"),
    ("response_ticks_max", "max response time (ticks)"),
    (
        "request_to_a_consistent_ticks",
        "backup request to VLUN A consistent (ticks)",
    ),
    (
        "request_to_retire_ticks",
        "backup request to VLUN A retired (ticks)",
    ),
    ("unavailable_ticks", "time unavailable (ticks)"),
    ("lock_wait_ticks_sum", "total lock wait (ticks)"),
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
    // Every attempt admitted at or after the first split, held at the gate or not
    // (scenarios/README.md), deadlock retries included, and those the gate held before
    // it: not the transactions held.
    (
        "admission_delay_count",
        "attempts admitted since the first split or held",
    ),
    ("extra_space_blocks_end", "extra space at the end (blocks)"),
    ("flushes", "flush barriers"),
    ("device_queue_ticks", "device queue time (ticks)"),
    ("misdirected_writes", "misdirected writes"),
    ("corrupted_blocks", "rotted blocks"),
    ("integrity_detections", "checksum mismatches detected"),
    ("unreadable_blocks", "image blocks refused at the checks"),
    ("backup_failures", "archive passes failed"),
    ("retires_refused", "retires refused after a failed pass"),
    ("crashes", "device crashes"),
    ("crash_aborts", "transactions aborted by a crash"),
    ("torn_writes", "unflushed writes torn at a crash"),
    ("lost_writes", "unflushed writes lost at a crash"),
    ("read_errors", "injected read errors"),
    ("write_errors", "injected write errors"),
    (
        "write_error_aborts",
        "transactions aborted by a write error",
    ),
    ("latency_spikes", "latency spikes"),
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
        "cycle_extra_space_blocks_peak",
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
    (
        "cycle_backup_flushes",
        "first cycle's backup flush barriers",
    ),
    ("cycle_archive_bytes", "first cycle's archive reads (bytes)"),
    (
        "cycle_archive_sent_bytes",
        "first cycle's archive on the target (bytes)",
    ),
    ("detach_start_at_ticks", "copy to B' started at (ticks)"),
    ("detach_end_at_ticks", "copy to B' done at (ticks)"),
    ("detach_blocks_copied", "blocks copied to B'"),
    ("detach_mirrored_writes", "writes mirrored to B'"),
];

/// Units a name may end with (before its statistic): shown in brackets.
const UNITS: &[&str] = &["ticks", "blocks", "bytes"];

/// What a label may end with in brackets that is a unit, which a title leaves out.
const BRACKETED_UNITS: &[&str] = &[
    "(ticks)",
    "(blocks)",
    "(bytes)",
    "(bytes/s)",
    "(transactions)",
];

/// Metric columns of a part of the run, by their prefix, and where that part is said
/// in words: the metric's own label, then the place, before its unit.
const PLACES: &[(&str, &str)] = &[
    ("window_", "in the backup window"),
    ("before_", "before the backup request"),
];

/// Statistics a name may end with: shown first.
const STATS: &[&str] = &[
    "mean", "max", "min", "p99", "total", "sum", "count", "peak", "end",
];

/// The label of a dotted key or metric column, with its unit (see the module doc).
pub fn label(key: &str) -> String {
    if let Some((_, name)) = NAMES.iter().find(|(k, _)| *k == key) {
        return (*name).to_string();
    }
    // `window_committed` → "committed in the backup window (transactions)".
    let place = PLACES
        .iter()
        .find_map(|(prefix, place)| Some((key.strip_prefix(prefix)?, place)));
    if let Some((rest, place)) = place.filter(|(rest, _)| !rest.is_empty() && !key.contains('.')) {
        let l = label(rest);
        return match l.rfind(" (") {
            Some(i) if BRACKETED_UNITS.contains(&&l[i + 1..]) => {
                format!("{} {place}{}", &l[..i], &l[i..])
            }
            _ => format!("{l} {place}"),
        };
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
        // A sum reads as a total (`total lock wait`).
        out.push_str(if s == "sum" { "total" } else { s });
        out.push(' ');
    }
    out.push_str(&words.join(" "));
    if let Some(u) = unit {
        out.push_str(&format!(" ({u})"));
    }
    out
}

/// Keys whose value 0 stands for "none" (scenarios/README.md: a rate limit of 0 is no
/// limit; a transfer or sequential read rate of 0 charges none), and what it means.
const ZERO_MEANS: &[(&str, &str)] = &[
    ("archive.rate_limit_bytes_per_s", "no limit"),
    ("detach.rate_limit_bytes_per_s", "no limit"),
    ("device.transfer_bytes_per_s", "none"),
    ("device.sequential_read_bytes_per_s", "none"),
];

/// `key = value` as a title says it (`archive rate limit = 0 (no limit)`): the key's
/// [`name`], and a value of 0 that stands for "none" with what it means, so it does
/// not read as a rate of zero.
pub fn setting(key: &str, value: &str) -> String {
    let meaning = ZERO_MEANS
        .iter()
        .find(|(k, _)| *k == key)
        .filter(|_| value.parse::<f64>().is_ok_and(|v| v == 0.0))
        .map(|(_, m)| format!(" ({m})"))
        .unwrap_or_default();
    format!("{} = {value}{meaning}", name(key))
}

/// The label without its unit, for titles: "mean inter-arrival time". Words in
/// brackets that are not a unit stay: "data area (fraction of the volume)".
pub fn name(key: &str) -> String {
    let l = label(key);
    match l.rfind(" (") {
        Some(i) if BRACKETED_UNITS.contains(&&l[i + 1..]) => l[..i].to_string(),
        _ => l,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A count reads with what it counts, a metric of the window or of the time before
    /// the request says where after its words, a sum as a total, the unit last;
    /// titles leave the unit out.
    #[test]
    fn metrics_read_as_words_with_the_unit_last() {
        for (column, want) in [
            ("aborted", "aborted (transactions)"),
            ("committed", "committed (transactions)"),
            (
                "window_committed",
                "committed in the backup window (transactions)",
            ),
            (
                "before_committed",
                "committed before the backup request (transactions)",
            ),
            (
                "window_backup_wait_ticks_sum",
                "total backup wait in the backup window (ticks)",
            ),
            (
                "window_cow_copies",
                "copy-on-write copies in the backup window (blocks)",
            ),
            (
                "before_response_ticks_mean",
                "mean response time before the backup request (ticks)",
            ),
            (
                "window_flushes_per_logical_write",
                "flushes per logical write in the backup window",
            ),
            ("window_start_at_ticks", "backup window start (ticks)"),
            ("lock_wait_ticks_max", "max lock wait (ticks)"),
            ("backup.setup_window_ticks", "setup window (ticks)"),
        ] {
            assert_eq!(label(column), want, "{column}");
        }
        assert_eq!(name("window_committed"), "committed in the backup window");
        assert_eq!(
            name("before_response_ticks_mean"),
            "mean response time before the backup request"
        );
    }

    #[test]
    fn a_zero_that_means_none_is_said_so() {
        assert_eq!(
            setting("archive.rate_limit_bytes_per_s", "0"),
            "archive rate limit = 0 (no limit)"
        );
        assert_eq!(
            setting("detach.rate_limit_bytes_per_s", "0"),
            "B' copy rate limit = 0 (no limit)"
        );
        assert_eq!(
            setting("device.transfer_bytes_per_s", "0"),
            "device transfer rate = 0 (none)"
        );
        assert_eq!(
            setting("archive.rate_limit_bytes_per_s", "5000000"),
            "archive rate limit = 5000000"
        );
        assert_eq!(setting("archive.latency_ticks", "0"), "archive latency = 0");
    }

    #[test]
    fn keys_and_metrics_get_words_and_units() {
        assert_eq!(
            label("workload.arrivals.interarrival_ticks_mean"),
            "mean inter-arrival time (ticks)"
        );
        assert_eq!(
            label("admission_delay_ticks_mean"),
            "mean admission delay (ticks)"
        );
        assert_eq!(label("lock_wait_ticks_max"), "max lock wait (ticks)");
        // The count of the admission delays is of every attempt admitted after the
        // split, held at the gate or not, and of those held before it: not "new
        // transactions" (a deadlock retry is one more).
        assert_eq!(
            label("admission_delay_count"),
            "attempts admitted since the first split or held"
        );
        assert_eq!(
            label("extra_space_blocks_peak"),
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
        assert_eq!(
            name("backup.data_area_fraction"),
            "data area (fraction of the volume)"
        );
        assert_eq!(name("archive.bandwidth_bytes_per_s"), "archive bandwidth");
        // Every metric has a label of words: no raw column name on a plot.
        for m in crate::tables::sweep_metrics() {
            let l = label(m);
            assert!(!l.contains('_') && !l.is_empty(), "{m}: {l}");
            if m.contains("_ticks") {
                assert!(l.ends_with("(ticks)"), "{m}: {l}");
            }
        }
    }

    /// The dotted keys of the scenario as scenarios/README.md documents them, which an
    /// `[[axis]]` may sweep: each row of a `| key | default | meaning |` table under
    /// "Top level" or a `[table]` heading, and the keys inside a table value its row
    /// names (`workload.arrivals.mode`).
    fn documented_keys() -> Vec<String> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/README.md");
        let text = std::fs::read_to_string(path).unwrap();
        let mut keys = Vec::new();
        let (mut table, mut in_keys) = (None::<String>, false);
        for line in text.lines() {
            if let Some(h) = line.strip_prefix("### ") {
                table = if h.starts_with("Top level") {
                    Some(String::new())
                } else {
                    h.strip_prefix("`[")
                        .and_then(|t| t.split_once("]`"))
                        .map(|(t, _)| format!("{t}."))
                };
                in_keys = false;
            } else if line.starts_with("## ") {
                table = None;
            } else if line.starts_with("| key | default | meaning |") {
                in_keys = table.is_some();
            } else if !line.starts_with('|') {
                in_keys = false;
            } else if let (true, Some(t)) = (in_keys, &table) {
                let first = line.split('|').nth(1).unwrap_or_default();
                for k in first.split('`').skip(1).step_by(2) {
                    keys.push(format!("{t}{k}"));
                }
            }
        }
        for k in [
            "workload.arrivals.mode",
            "workload.arrivals.interarrival_ticks_mean",
            "workload.arrivals.clients",
            "workload.arrivals.think_ticks_mean",
            "workload.hot_spot.shape",
            "workload.hot_spot.exponent",
        ] {
            keys.push(k.to_string());
        }
        keys.sort();
        keys.dedup();
        keys
    }

    /// Every key an `[[axis]]` may take has a label of its own, in words, with its unit
    /// last in brackets, and a title name that keeps what is not a unit: two keys of one
    /// last part (`archive.profile`, `device.profile`, `detach.profile`) are told apart.
    #[test]
    fn every_axis_key_has_a_distinct_label_of_words() {
        let keys = documented_keys();
        for k in [
            "device.profile",
            "archive.extent_blocks",
            "detach.profile",
            "name",
        ] {
            assert!(keys.iter().any(|d| d == k), "{k} not read from the README");
        }
        assert!(keys.len() > 90, "{} keys: {keys:?}", keys.len());
        let mut seen: Vec<(String, &String)> = Vec::new();
        for k in &keys {
            let l = label(k);
            assert!(!l.is_empty() && !l.contains('_'), "{k}: {l}");
            let last = k.rsplit('.').next().unwrap_or(k);
            for (suffix, unit) in [
                ("_bytes_per_s", "(bytes/s)"),
                ("_ticks", "(ticks)"),
                ("_bytes", "(bytes)"),
                ("_blocks", "(blocks)"),
            ] {
                let stat = |s: &str| {
                    ["", "_min", "_max", "_mean"]
                        .iter()
                        .any(|t| s.ends_with(&format!("{suffix}{t}")))
                };
                if stat(last) && !last.ends_with("_per_s")
                    || suffix == "_bytes_per_s" && last.ends_with(suffix)
                {
                    assert!(l.ends_with(unit), "{k}: {l} (unit {unit})");
                    assert_eq!(format!("{} {unit}", name(k)), l, "{k}: title name");
                    break;
                }
            }
            for (table, word) in [
                ("archive.", "archive"),
                ("detach.", "B'"),
                ("device.", "device"),
            ] {
                if k.starts_with(table) && !k.ends_with("_for_mutant_test") {
                    assert!(l.contains(word), "{k}: {l} does not name its table");
                }
            }
            if let Some((_, other)) = seen.iter().find(|(m, _)| *m == l) {
                panic!("{k} and {other} share the label {l}");
            }
            seen.push((l, k));
        }
    }
}
