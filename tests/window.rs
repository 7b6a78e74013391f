//! The backup window through `owm run`: its columns in `summary.csv` (response inside
//! the window against before it, the users' I/O per logical write, copy-on-write copies
//! and log entries, every backup-caused wait by cause), the headline table's whole-run
//! response beside `none`'s and its window rows, the quiesce deadline's attempts and
//! give-ups, and the extra space over time (`extra_space.csv` and its plot).

use std::collections::BTreeMap;

use crate::costs::summary_rows;
use crate::util::*;

/// Long transactions arriving all run, the backup requested mid-run while several of
/// them are still running (so quiesce holds new ones at its gate), a type (b) block,
/// one device channel shared with the archive's reads.
const BUSY: &str = r#"
policies = ["none", "quiesce", "crash-consistent", "mirroring", "logging", "cow"]
seed = 3
name = "busy"

[workload]
kind = "generated"
records = 512
transactions = 600
arrivals = { mode = "open", interarrival_ticks_mean = 200 }
length_min = 2
length_max = 6
write_fraction = 0.6
compute_ticks_min = 200
compute_ticks_max = 1500

[locking]
type_b_blocks = [0, 1, 2, 3]

[device]
channels = 1

[backup]
request_at_ticks = 40000
"#;

/// [`BUSY`] run under `policy` alone.
fn busy_under(policy: &str) -> String {
    BUSY.replace(
        r#"policies = ["none", "quiesce", "crash-consistent", "mirroring", "logging", "cow"]"#,
        &format!(r#"policies = ["{policy}"]"#),
    )
}

fn run_busy() -> (tempfile::TempDir, std::path::PathBuf, String) {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "busy.toml", BUSY);
    let out = tmp.path().join("o");
    let o = owm(&["run", &f, "--out", &s(&out), "--allow-violations"]);
    ok(&o);
    (tmp, out, stdout(&o))
}

const WAITS: [&str; 7] = [
    "gate",
    "type_b",
    "device_queue",
    "flush",
    "overflow",
    "copy",
    "lock_holder",
];

#[test]
fn window_figures_are_present_and_consistent() {
    let (_tmp, out, text) = run_busy();
    let rows = summary_rows(&out);
    // No backup: no window, and no wait the backup caused.
    let none = &rows["none"];
    assert_eq!(none["window_start_at_ticks"], "");
    assert_eq!(none["window_response_ticks_p99"], "");
    for w in WAITS {
        assert_eq!(none[&format!("window_{w}_wait_ticks_sum")], "0", "{w}");
        assert_eq!(none[&format!("window_{w}_wait_ticks_max")], "0", "{w}");
    }
    assert_eq!(none["window_backup_wait_ticks_sum"], "0");
    for p in ["quiesce", "crash-consistent", "mirroring", "logging", "cow"] {
        let r = &rows[p];
        assert_eq!(
            num(r, "window_start_at_ticks"),
            num(r, "request_at_ticks"),
            "{p}"
        );
        assert!(
            num(r, "window_end_at_ticks") >= num(r, "retire_at_ticks"),
            "{p}"
        );
        for span in ["window", "before"] {
            let n = num(r, &format!("{span}_committed"));
            assert!(n > 0.0, "{p}: no transaction {span}");
            let mean = num(r, &format!("{span}_response_ticks_mean"));
            let p99 = num(r, &format!("{span}_response_ticks_p99"));
            assert!(
                p99 >= mean && mean > 0.0,
                "{p} {span}: p99 {p99} < mean {mean}"
            );
            assert!(
                num(r, &format!("{span}_logical_writes")) > 0.0,
                "{p} {span}"
            );
        }
        assert!(
            num(r, "window_committed") + num(r, "before_committed") <= num(r, "committed"),
            "{p}"
        );
        let mut sum = 0.0;
        for w in WAITS {
            let (s, m) = (
                num(r, &format!("window_{w}_wait_ticks_sum")),
                num(r, &format!("window_{w}_wait_ticks_max")),
            );
            assert!(m <= s, "{p} {w}: max {m} above the sum {s}");
            sum += s;
        }
        assert_eq!(sum, num(r, "window_backup_wait_ticks_sum"), "{p}");
    }
    // Quiesce holds the new transactions at its gate while old ones run.
    let q = &rows["quiesce"];
    assert!(num(q, "window_gate_wait_ticks_max") > 0.0, "{q:?}");
    assert!(num(q, "window_gate_wait_ticks_sum") >= num(q, "window_gate_wait_ticks_max"));
    assert_eq!(num(q, "quiesce_attempts"), 1.0);
    assert_eq!(
        (
            q["quiesce_timeouts"].as_str(),
            q["backup_given_up"].as_str()
        ),
        ("0", "0")
    );
    // Copy-on-write preserves old blocks in the window: more physical I/O per logical
    // write than before the request, and flush barriers before the overwrites.
    let c = &rows["cow"];
    assert!(num(c, "window_cow_copies") > 0.0);
    assert_eq!(num(c, "window_log_entries"), 0.0);
    for io in [
        "physical_reads",
        "physical_writes",
        "table_updates",
        "flushes",
    ] {
        let (inside, before) = (
            num(c, &format!("window_{io}_per_logical_write")),
            num(c, &format!("before_{io}_per_logical_write")),
        );
        assert!(
            inside > before,
            "cow {io}: {inside} in the window, {before} before"
        );
    }
    assert!(num(c, "window_flush_wait_ticks_sum") > 0.0);
    // Each copy is the backup's share of a user's call: at least its read and its
    // write (10 + 20 ticks on the default device), counted in the copy cause, which
    // non-disruption does not judge.
    assert!(
        num(c, "window_copy_wait_ticks_sum") >= 30.0 * num(c, "window_cow_copies"),
        "{c:?}"
    );
    let l = &rows["logging"];
    assert!(num(l, "window_log_entries") > 0.0);
    assert_eq!(num(l, "window_cow_copies"), 0.0);
    // The archive's reads share the one channel: users queue behind them.
    for p in ["mirroring", "logging", "cow"] {
        assert!(
            num(&rows[p], "window_device_queue_wait_ticks_sum") > 0.0,
            "{p}"
        );
    }
    // Type (b) locks held from the split until the old transactions end.
    assert!(
        ["mirroring", "logging", "cow"]
            .iter()
            .any(|p| num(&rows[*p], "window_type_b_wait_ticks_sum") > 0.0),
        "no type (b) wait: {rows:?}"
    );
    // The headline table prints the window figures.
    for h in [
        "win rsp",
        "win p99",
        "pre p99",
        "win wr/lw",
        "gate wt",
        "queue wt",
        "copy wt",
    ] {
        assert!(text.contains(h), "no `{h}` in:\n{text}");
    }
    let cow_line = text
        .lines()
        .filter(|l| l.starts_with("cow "))
        .nth(1)
        .expect("a window row for cow");
    assert!(
        cow_line.contains(&c["window_response_ticks_p99"]),
        "{cow_line}"
    );
}

#[test]
fn the_quiesce_deadline_reports_attempts_and_give_ups() {
    let tmp = tempfile::tempdir().unwrap();
    // Type (b) locks are the one-way mirror's: refused beside `quiesce` alone.
    let text = busy_under("quiesce")
        .replace("type_b_blocks = [0, 1, 2, 3]", "")
        .replace(
            "request_at_ticks = 40000",
            "request_at_ticks = 40000\nquiesce_deadline_ticks = 300\nquiesce_retries_max = 2\nquiesce_retry_backoff_ticks = 100",
        );
    let f = write(tmp.path(), "deadline.toml", &text);
    let out = tmp.path().join("o");
    let o = owm(&["run", &f, "--out", &s(&out), "--allow-violations"]);
    ok(&o);
    let q = &summary_rows(&out)["quiesce"];
    assert_eq!(num(q, "quiesce_attempts"), 3.0, "{q:?}");
    // No split, but the gate held users at each missed deadline: the admission delay
    // is over the attempts it held (before, none was counted and `adm` read `-` while
    // users waited), as `gate wt` sums their waits.
    let n = num(q, "admission_delay_count");
    assert!(n > 0.0, "{q:?}");
    assert_eq!(
        num(q, "admission_delay_ticks_max"),
        num(q, "window_gate_wait_ticks_max"),
        "{q:?}"
    );
    let sum = num(q, "admission_delay_ticks_mean") * n;
    assert!(
        (sum - num(q, "window_gate_wait_ticks_sum")).abs() < n * 0.001,
        "{q:?}"
    );
    let text = stdout(&o);
    let row: Vec<&str> = table_row(&text, "quiesce").split_whitespace().collect();
    // policy, committed, aborted, adm mean, adm p99, adm max.
    assert!(
        text.starts_with("policy") && text.contains(" aborted "),
        "{text}"
    );
    assert_eq!(row[5], q["admission_delay_ticks_max"], "{text}");
    assert_eq!(num(q, "quiesce_timeouts"), 3.0, "{q:?}");
    assert_eq!(q["backup_given_up"], "1");
    // The held transactions waited at most the deadline each time.
    assert!(num(q, "window_gate_wait_ticks_max") <= 300.0, "{q:?}");
    assert!(num(q, "window_gate_wait_ticks_sum") > 0.0, "{q:?}");
}

/// `extra_space.csv` and its plot: for logging and cow the series rises from the
/// split, never falls once VLUN A is consistent (no old transaction writes A any more)
/// until retire frees the space, and its highest point is the summary's peak.
#[test]
fn the_extra_space_series_matches_the_summary() {
    let (_tmp, out, _) = run_busy();
    for f in [
        "extra_space.csv",
        "extra_space.png",
        "extra_space.svg",
        "data_area_used.png",
        "data_area_used.svg",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let summary = summary_rows(&out);
    let rows = csv_rows(&out, "extra_space.csv");
    let mut by_policy: BTreeMap<String, Vec<&BTreeMap<String, String>>> = BTreeMap::new();
    for r in &rows {
        by_policy.entry(r["policy"].clone()).or_default().push(r);
    }
    for p in [
        "none",
        "quiesce",
        "crash-consistent",
        "mirroring",
        "logging",
        "cow",
    ] {
        let series = &by_policy[p];
        let peak = series
            .iter()
            .map(|r| num(r, "extra_space_blocks"))
            .fold(0.0, f64::max);
        assert_eq!(peak, num(&summary[p], "extra_space_blocks_peak"), "{p}");
        let times: Vec<f64> = series.iter().map(|r| num(r, "time_ticks")).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{p}: out of order");
        assert_eq!(times[0], 0.0, "{p}: starts at tick 0");
    }
    for p in ["logging", "cow"] {
        let s = &summary[p];
        let (consistent, retire) = (num(s, "a_consistent_at_ticks"), num(s, "retire_at_ticks"));
        let mut live: Vec<f64> = by_policy[p]
            .iter()
            .filter(|r| (consistent..=retire).contains(&num(r, "time_ticks")))
            .map(|r| num(r, "extra_space_blocks"))
            .collect();
        // The retire frees the space when its own I/O (write logging's merge)
        // completes, `retire_at_ticks`, not at the call: no point before it is 0.
        assert_eq!(live.pop(), Some(0.0), "{p}: retire frees the space");
        let freed = by_policy[p]
            .iter()
            .find(|r| num(r, "time_ticks") > consistent && num(r, "data_area_used_blocks") == 0.0)
            .map(|r| num(r, "time_ticks"));
        assert_eq!(
            freed,
            Some(retire),
            "{p}: the data area freed before the retire"
        );
        assert!(live.len() > 2, "{p}: {} points while A is live", live.len());
        assert!(
            live.windows(2).all(|w| w[0] <= w[1]),
            "{p}: extra space fell while VLUN A was live: {live:?}"
        );
        assert!(*live.last().unwrap() > 0.0, "{p}");
        for r in &by_policy[p] {
            let pct = num(r, "data_area_used_pct");
            assert!((0.0..=100.0).contains(&pct), "{p}: {pct}");
        }
        // Retire frees it.
        let last = by_policy[p].last().unwrap();
        assert_eq!(num(last, "extra_space_blocks"), 0.0, "{p}");
    }
    assert!(by_policy["mirroring"]
        .iter()
        .all(|r| r["data_area_used_pct"].is_empty()));
}

/// A backup requested at tick 0 has no "before": its I/O ratios are undefined (empty
/// cells, `-` in the table), never 0.000.
#[test]
fn ratios_of_an_empty_span_are_undefined_not_zero() {
    let tmp = tempfile::tempdir().unwrap();
    let text = busy_under("cow").replace("request_at_ticks = 40000", "request_at_ticks = 0");
    let f = write(tmp.path(), "at0.toml", &text);
    let out = tmp.path().join("o");
    let o = owm(&["run", &f, "--out", &s(&out), "--allow-violations"]);
    ok(&o);
    let c = &summary_rows(&out)["cow"];
    assert_eq!(c["before_logical_writes"], "0", "{c:?}");
    for io in [
        "physical_reads",
        "physical_writes",
        "table_updates",
        "flushes",
    ] {
        assert_eq!(c[&format!("before_{io}_per_logical_write")], "", "{io}");
    }
    // With writes in the span the same columns are numbers
    // (`window_figures_are_present_and_consistent`).
    let text = stdout(&o);
    let header: Vec<&str> = text
        .lines()
        .find(|l| l.contains("pre wr/lw"))
        .unwrap()
        .split("  ")
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    let k = header.iter().position(|h| *h == "pre wr/lw").unwrap();
    let row: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("cow "))
        .nth(1)
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(row[k], "-", "{text}");
}

/// Non-disruption judges every wait the backup causes, not only the admission gate's:
/// under the plain one-way mirror (no gate wait past the setup window, no type (b)
/// block, no flush barrier) a user's device call queued on the one channel behind an
/// archive extent of 64 blocks (640 ticks of reads) waits longer than the 100-tick
/// limit, and the verdict says so; with 4-block extents (40 ticks) every such wait is
/// under the limit and it holds.
#[test]
fn non_disruption_judges_a_wait_behind_archive_reads_with_no_gate_wait() {
    let tmp = tempfile::tempdir().unwrap();
    let mirror_only = busy_under("mirroring").replace("type_b_blocks = [0, 1, 2, 3]", "");
    for (extent_blocks, verdict) in [(64, "violated 1"), (4, "held")] {
        let text = format!("{mirror_only}\n[archive]\nextent_blocks = {extent_blocks}\n");
        let f = write(tmp.path(), &format!("e{extent_blocks}.toml"), &text);
        let out = tmp.path().join(format!("o{extent_blocks}"));
        let o = owm(&["run", &f, "--out", &s(&out), "--allow-violations"]);
        ok(&o);
        let r = &summary_rows(&out)["mirroring"];
        for w in ["gate", "type_b", "flush"] {
            assert!(
                num(r, &format!("window_{w}_wait_ticks_max")) <= 100.0,
                "{extent_blocks}: {w}: {r:?}"
            );
        }
        let queue_max = num(r, "window_device_queue_wait_ticks_max");
        assert_eq!(
            queue_max > 100.0,
            extent_blocks == 64,
            "{extent_blocks}: {queue_max}"
        );
        assert!(
            queue_max > 0.0,
            "{extent_blocks}: no wait behind the archive"
        );
        assert_eq!(r["non-disruption"], verdict, "{extent_blocks}: {r:?}");
        if extent_blocks == 64 {
            assert!(
                stdout(&o).contains("queued behind backup I/O"),
                "{}",
                stdout(&o)
            );
        }
    }
}

/// What a backup costs the users against `none` is on stdout, as db-64gib.toml's
/// comment says: the headline table's `rsp mean` and `rsp p99` (the whole run's
/// response, `summary.csv`'s `response_ticks_mean` and `response_ticks_p99`) have a
/// value under `none`, which has no backup window, beside every backup policy's.
#[test]
fn the_headline_table_gives_none_s_response_beside_the_backups() {
    let comment: String = std::fs::read_to_string(repo().join("scenarios/db-64gib.toml"))
        .unwrap()
        .lines()
        .filter(|l| l.starts_with('#'))
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        comment.contains("`rsp mean`") && comment.contains("`rsp p99`"),
        "{comment}"
    );
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "busy.toml", BUSY);
    let out = tmp.path().join("o");
    let o = owm(&["run", &f, "--out", &s(&out), "--allow-violations"]);
    ok(&o);
    let text = stdout(&o);
    let header: Vec<&str> = text
        .lines()
        .next()
        .unwrap()
        .split("  ")
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    let rows = summary_rows(&out);
    for (column, metric) in [
        ("rsp mean", "response_ticks_mean"),
        ("rsp p99", "response_ticks_p99"),
    ] {
        let k = header
            .iter()
            .position(|h| *h == column)
            .unwrap_or_else(|| panic!("no `{column}` column: {header:?}"));
        for policy in ["none", "quiesce", "mirroring", "logging", "cow"] {
            let cell = table_row(&text, policy).split_whitespace().nth(k).unwrap();
            assert_ne!(cell, "-", "{policy} {column}:\n{text}");
            assert_eq!(cell, rows[policy][metric], "{policy} {column}");
        }
    }
    // Without a backup, `none` answers faster than the gate of quiesce lets the users.
    let mean = |p: &str| num(&rows[p], "response_ticks_mean");
    assert!(mean("none") < mean("quiesce"), "{text}");
}

/// `none`'s response over each backup window (`none_window_*` in `summary.csv`, `none
/// rsp` / `none p99` in the window table) is that of the committed transactions whose
/// first arrival `none`'s own `trace.csv` rows put in the window's span: recomputed from
/// those rows (count, mean, nearest-rank p99). Without `none` in the run the cells are
/// empty and the table has no such column.
#[test]
fn none_over_a_window_is_what_none_s_trace_shows_over_that_span() {
    let (_tmp, out, text) = run_busy();
    let rows = summary_rows(&out);
    let mut arrived: BTreeMap<String, u64> = BTreeMap::new();
    let mut committed: BTreeMap<String, u64> = BTreeMap::new();
    for r in csv_rows(&out, "trace.csv")
        .iter()
        .filter(|r| r["policy"] == "none")
    {
        let t: u64 = r["time_ticks"].parse().unwrap();
        match (r["event"].as_str(), r["detail"].as_str()) {
            ("arrive", _) => {
                arrived.entry(r["txn"].clone()).or_insert(t);
            }
            ("end", "committed") => {
                committed.insert(r["txn"].clone(), t);
            }
            _ => {}
        }
    }
    assert!(committed.len() > 500, "{}", committed.len());
    for p in ["quiesce", "crash-consistent", "mirroring", "logging", "cow"] {
        let r = &rows[p];
        let start = num(r, "window_start_at_ticks") as u64;
        let end = match r["window_end_at_ticks"].as_str() {
            "" => u64::MAX,
            e => e.parse().unwrap(),
        };
        let mut xs: Vec<u64> = committed
            .iter()
            .map(|(txn, &at)| (arrived[txn], at))
            .filter(|&(a, _)| start <= a && a < end)
            .map(|(a, at)| at - a)
            .collect();
        xs.sort_unstable();
        assert!(xs.len() >= 5, "{p}: {} arrivals in the window", xs.len());
        let mean = xs.iter().sum::<u64>() as f64 / xs.len() as f64;
        let p99 = xs[(xs.len() * 99).div_ceil(100) - 1];
        assert_eq!(r["none_window_committed"], xs.len().to_string(), "{p}");
        assert_eq!(
            r["none_window_response_ticks_mean"],
            format!("{mean:.3}"),
            "{p}"
        );
        assert_eq!(r["none_window_response_ticks_p99"], p99.to_string(), "{p}");
        // The window table's row (the second to start with the policy's name).
        let line = text
            .lines()
            .filter(|l| l.starts_with(&format!("{p} ")))
            .nth(1)
            .unwrap();
        assert!(line.contains(&format!(" {mean:.3} ")), "{p}: {line}");
    }
    for c in ["none_window_committed", "none_window_response_ticks_mean"] {
        assert_eq!(rows["none"][c], "", "{c}");
    }
    // The gate holds the window's arrivals under quiesce: the same arrivals answer
    // faster with no backup.
    let q = &rows["quiesce"];
    assert!(
        num(q, "window_response_ticks_mean") > num(q, "none_window_response_ticks_mean"),
        "{text}"
    );
    // Alone, a backup policy has nothing to pair with.
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "cow.toml", &busy_under("cow"));
    let o = owm(&[
        "run",
        &f,
        "--out",
        &s(&tmp.path().join("o")),
        "--allow-violations",
    ]);
    ok(&o);
    assert!(!stdout(&o).contains("none rsp"), "{}", stdout(&o));
    let alone = summary_rows(&tmp.path().join("o"));
    assert_eq!(alone["cow"]["none_window_response_ticks_mean"], "");
}

/// `request_to_retire_ticks` is each row's request to its retire (a cycle's row: that
/// cycle's), empty where VLUN A was never retired: on the shipped schedule, every
/// cycle of every policy.
#[test]
fn request_to_retire_is_each_cycle_s_span() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let f = repo().join("scenarios/schedule.toml");
    ok(&owm(&[
        "run",
        &s(&f),
        "--out",
        &s(&out),
        "--allow-violations",
    ]));
    let rows = csv_rows(&out, "summary.csv");
    let mut spans = 0;
    for r in &rows {
        let (request, retire) = (&r["request_at_ticks"], &r["retire_at_ticks"]);
        if request.is_empty() || retire.is_empty() {
            assert_eq!(r["request_to_retire_ticks"], "", "{r:?}");
            continue;
        }
        let want = num(r, "retire_at_ticks") - num(r, "request_at_ticks");
        assert_eq!(num(r, "request_to_retire_ticks"), want, "{r:?}");
        spans += 1;
    }
    assert!(spans >= 6, "{spans} rows with a retire");
}

/// The extra space between the cycles of the shipped schedule. Under the mirroring
/// engine variant (`mirroring`, and `quiesce`, `crash-consistent` on their default
/// split-mirror baseline) image A stays on the device from each retire to the next
/// split: `extra_space.csv` counts it (`kept_image_blocks`, the whole volume), so the
/// series never falls below the image; and it is what the next split's resync reads
/// against: that split copies more than none and fewer blocks than the image. Under
/// logging and cow the series drops to 0 at each retire and nothing is kept. The peak
/// is the full image either way (mirroring) and the summary's end counts the kept image.
#[test]
fn mirroring_keeps_image_a_between_cycles_and_the_series_counts_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let f = repo().join("scenarios/schedule.toml");
    ok(&owm(&["run", &s(&f), "--out", &s(&out)]));
    let summary = csv_rows(&out, "summary.csv");
    let space = csv_rows(&out, "extra_space.csv");
    let of = |rows: &[BTreeMap<String, String>], p: &str| -> Vec<BTreeMap<String, String>> {
        rows.iter().filter(|r| r["policy"] == p).cloned().collect()
    };
    // From cycle `c`'s A-consistent to cycle `next`'s split (its request, deferred).
    let between = |c: &BTreeMap<String, String>, next: &BTreeMap<String, String>| {
        num(c, "a_consistent_at_ticks")
            ..=num(next, "request_at_ticks") + num(next, "request_deferred_ticks")
    };
    for p in ["quiesce", "crash-consistent", "mirroring"] {
        let (cycles, series) = (of(&summary, p), of(&space, p));
        assert_eq!(cycles.len(), 3, "{p}");
        assert!(
            cycles.iter().all(|r| r["engine_variant"] == "mirroring"),
            "{p}"
        );
        let image = num(&cycles[0], "extra_space_blocks_peak");
        assert!(image > 0.0, "{p}");
        for r in &series {
            assert_eq!(num(r, "extra_space_blocks"), image, "{p}: {r:?}");
            assert_eq!(num(r, "data_area_used_blocks"), 0.0, "{p}: {r:?}");
        }
        for pair in cycles.windows(2) {
            let (c, next) = (&pair[0], &pair[1]);
            let span = between(c, next);
            let kept = series
                .iter()
                .filter(|r| span.contains(&num(r, "time_ticks")))
                .any(|r| num(r, "kept_image_blocks") == image);
            assert!(kept, "{p}: image A not kept after cycle {}", c["cycle"]);
            let resync = num(next, "cycle_backup_physical_writes");
            assert!(
                resync > 0.0 && resync < image,
                "{p} cycle {}: the resync wrote {resync} of {image} blocks",
                next["cycle"]
            );
        }
        // After the last retire the image is kept to the run's end.
        let last = series.last().unwrap();
        assert_eq!(num(last, "kept_image_blocks"), image, "{p}");
        assert_eq!(num(&cycles[2], "extra_space_blocks_end"), image, "{p}");
        assert_eq!(num(&cycles[2], "extra_space_blocks_peak"), image, "{p}");
    }
    for p in ["logging", "cow"] {
        let (cycles, series) = (of(&summary, p), of(&space, p));
        assert_eq!(cycles.len(), 3, "{p}");
        assert!(
            series.iter().all(|r| num(r, "kept_image_blocks") == 0.0),
            "{p}"
        );
        for pair in cycles.windows(2) {
            let span = between(&pair[0], &pair[1]);
            let dropped = series
                .iter()
                .filter(|r| span.contains(&num(r, "time_ticks")))
                .any(|r| num(r, "extra_space_blocks") == 0.0);
            assert!(
                dropped,
                "{p}: no drop to 0 after cycle {}",
                pair[0]["cycle"]
            );
        }
        assert!(
            series.iter().any(|r| num(r, "extra_space_blocks") > 0.0),
            "{p}"
        );
        assert_eq!(
            num(series.last().unwrap(), "extra_space_blocks"),
            0.0,
            "{p}"
        );
        assert_eq!(num(&cycles[2], "extra_space_blocks_end"), 0.0, "{p}");
    }
}

/// Write logging's retire merges its log into image A block by block, each block its
/// own backup call, issued when the one before it completes: the users' calls
/// interleave with the merge, each waiting at most for the merge's call in service, not
/// for the whole log. The window runs to the merge's last call (the retire), so those
/// waits are the backup's, counted by cause; and the merge's writes are the backup's.
#[test]
fn users_interleave_with_the_retire_merge_and_its_waits_are_the_backups() {
    let text = r#"
policies = ["logging"]
seed = 1
[workload]
kind = "generated"
records = 262144
transactions = 4000
length_min = 1
length_max = 8
write_fraction = 0.5
compute_ticks_min = 20
compute_ticks_max = 3000
arrivals = { mode = "open", interarrival_ticks_mean = 300 }
[geometry]
block_size_bytes = 4096
records_per_block = 1
[locking]
granularity = "block"
[device]
profile = "nvme-ssd"
[archive]
profile = "10gbe"
sparse = true
[backup]
request_at_ticks = 400000
"#;
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "merge.toml", text);
    let out = tmp.path().join("o");
    let o = owm(&["run", &f, "--out", &s(&out), "--allow-violations"]);
    ok(&o);
    let r = &summary_rows(&out)["logging"];
    // The merge ran (its writes are the backup's), long after the archive copy, and
    // ended the window.
    let merged = num(r, "cycle_backup_physical_writes");
    assert!(merged > 1000.0, "{r:?}");
    assert_eq!(r["window_end_at_ticks"], r["retire_at_ticks"], "{r:?}");
    let merge_ticks = num(r, "retire_at_ticks") - num(r, "archive_copy_at_ticks");
    assert!(merge_ticks > 100_000.0, "{r:?}");
    // Users met the merge's calls (waits counted in the window) but never a wait for
    // the whole log: at most one call's read and write.
    assert!(num(r, "window_device_queue_wait_ticks_sum") > 0.0, "{r:?}");
    assert!(
        num(r, "window_device_queue_wait_ticks_max") * 100.0 < merge_ticks,
        "{r:?}"
    );
    assert!(num(r, "response_ticks_max") * 10.0 < merge_ticks, "{r:?}");
    assert_eq!(r["non-disruption"], "held", "{r:?}");
}

/// The window legend says `none rsp` is over the same arrivals only on an open load:
/// on a closed loop (each client's next arrival after its last response) `none`'s run
/// has other transactions in the span, and the legend says so, the figures unchanged.
#[test]
fn the_window_legend_says_a_closed_loop_s_none_is_not_the_same_arrivals() {
    let open_text = "none rsp/p99 = `none`'s over the same span: the same arrivals with no backup";
    let closed_text = "none rsp/p99 = `none`'s over the same span with no backup, but not over the same arrivals: on this closed load";
    let both = BUSY.replace(
        r#"policies = ["none", "quiesce", "crash-consistent", "mirroring", "logging", "cow"]"#,
        r#"policies = ["none", "cow"]"#,
    );
    let closed = both.replace(
        r#"arrivals = { mode = "open", interarrival_ticks_mean = 200 }"#,
        r#"arrivals = { mode = "closed", clients = 8, think_ticks_mean = 200 }"#,
    );
    assert_ne!(both, closed);
    for (toml, is_closed) in [(both, false), (closed, true)] {
        let tmp = tempfile::tempdir().unwrap();
        let f = write(tmp.path(), "w.toml", &toml);
        let out = tmp.path().join("o");
        let o = owm(&["run", &f, "--out", &s(&out), "--allow-violations"]);
        ok(&o);
        let text = unwrapped(&stdout(&o));
        assert_eq!(text.contains(closed_text), is_closed, "{text}");
        assert_eq!(text.contains(open_text), !is_closed, "{text}");
        if is_closed {
            // The premise: none's span holds other transactions than cow's window.
            let rows = summary_rows(&out);
            let cow = &rows["cow"];
            assert_ne!(
                cow["window_committed"], cow["none_window_committed"],
                "{cow:?}"
            );
        }
    }
}

/// A backup abandoned (break-snapshot: the 5-block data area fills within tens of
/// ticks of the split) while the split's own device call still runs (its flushes and
/// journal sync take 50,000 ticks each): the cycle's window holds the backup's I/O to
/// its end, so it closes when the split's call completes, not at the `a-dropped` row
/// before it. Before, it closed at `a-dropped` and the waits behind the split's call
/// after that were in no window.
#[test]
fn an_abandoned_backups_window_holds_its_splits_own_call() {
    let (tmp, _file, o) = run_file(
        r#"
policies = ["cow"]
[workload]
kind = "generated"
records = 4096
transactions = 2000
length_min = 1
length_max = 4
write_fraction = 0.8
compute_ticks_min = 20
compute_ticks_max = 500
arrivals = { mode = "open", interarrival_ticks_mean = 50 }
[geometry]
block_size_bytes = 4096
records_per_block = 1
[device]
journaled = true
journal_sync_latency_ticks = 50000
flush_latency_ticks = 50000
channels = 16
[backup]
request_at_ticks = 30000
data_area_blocks = 5
on_data_area_full = "break-snapshot"
"#,
    );
    // Exit 1: the backup is lost (abandoned), which is what the run is about.
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    let out = tmp.path().join("o");
    let out = out.as_path();
    let at = |event: &str| -> u64 {
        csv_rows(out, "trace.csv")
            .into_iter()
            .find(|r| r["event"] == event)
            .unwrap_or_else(|| panic!("no {event} row"))["time_ticks"]
            .parse()
            .unwrap()
    };
    let (dropped, split_done) = (at("a-dropped"), at("split-done"));
    assert!(
        dropped < split_done,
        "the case at hand: A dropped ({dropped}) while the split's call ran ({split_done})"
    );
    let summary = &csv_rows(out, "summary.csv")[0];
    assert_eq!(num(summary, "window_end_at_ticks"), split_done as f64);
    assert!(summary["abandoned_at_ticks"].parse::<u64>().unwrap() <= dropped);
}

/// A backup over before its setup window (a hole-aware copy of a volume written in
/// one block retires 41 ticks after the request, VLUN B ready at 100): the cycle ends
/// at VLUN B ready, and a user held at its gate meanwhile is that cycle's wait, counted
/// in `window_gate_wait_ticks_sum` as `trace.csv` shows it, though the gate opens in the
/// tick the window closes. That user arrived after the backup was over: the copy was
/// tested beside no transaction (every invariant about it `not claimed (no transaction
/// during the backup)`), but its gate was (non-disruption held). With a dense copy the
/// same load's backup runs past the arrival: the copy's invariants are claimed and hold.
#[test]
fn a_gate_wait_after_an_early_retire_is_the_cycle_s_and_tests_only_its_waits() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "gate.csv",
        "0,R,0,4096\n1050,W,4096,4096\n3000,W,8192,4096\n",
    );
    let file = |sparse: bool| {
        format!(
            "policies = [\"mirroring\", \"cow\"]\n[workload]\nkind = \"trace\"\npath = \"gate.csv\"\n\
             format = \"csv\"\n[geometry]\nblock_size_bytes = 4096\nrecords_per_block = 1\n\
             [backup]\nrequest_at_ticks = 1000\n[archive]\nsparse = {sparse}\n"
        )
    };
    const COPY: [&str; 4] = [
        "A-consistent",
        "A-isolated",
        "backup-faithful",
        "space-reclaimed",
    ];
    for sparse in [true, false] {
        let name = if sparse { "sparse" } else { "dense" };
        let f = write(tmp.path(), &format!("{name}.toml"), &file(sparse));
        let out = tmp.path().join(name);
        let o = owm(&["run", &f, "--out", &s(&out)]);
        assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
        let trace = csv_rows(&out, "trace.csv");
        for row in summary_rows(&out).values() {
            let policy = &row["policy"];
            let at = |event: &str| -> u64 {
                trace
                    .iter()
                    .find(|r| &r["policy"] == policy && r["event"] == event)
                    .unwrap_or_else(|| panic!("{policy}: no {event} row"))["time_ticks"]
                    .parse()
                    .unwrap()
            };
            let (retire, ready, arrive) = (at("retire"), at("vlun-b-ready"), at("wait-begin"));
            let gate = at("wait-end") - arrive;
            assert!(gate > 0, "{policy} {name}: a user waits at the gate");
            assert_eq!(
                num(row, "window_gate_wait_ticks_sum"),
                gate as f64,
                "{policy} {name}"
            );
            assert_eq!(
                num(row, "window_gate_wait_ticks_max"),
                gate as f64,
                "{policy} {name}"
            );
            assert!(
                num(row, "window_backup_wait_ticks_sum") >= gate as f64,
                "{policy} {name}"
            );
            assert_eq!(num(row, "window_end_at_ticks"), ready.max(retire) as f64);
            assert_eq!(row["non-disruption"], "held", "{policy} {name}");
            for inv in COPY {
                if sparse {
                    assert!(
                        retire < arrive && arrive < ready,
                        "{policy}: the case at hand"
                    );
                    assert_eq!(
                        row[inv], "not claimed (no transaction during the backup)",
                        "{policy} {inv}"
                    );
                } else {
                    assert!(
                        arrive < retire,
                        "{policy}: the dense copy outlasts the arrival"
                    );
                    assert_eq!(row[inv], "held", "{policy} {inv}");
                }
            }
        }
    }
}

/// One tie rule for every arrival: an arrival in the request's tick comes after the
/// request and is a new transaction (on VLUN B, held at the gate), the first arrival
/// of the run as much as a later one. A trace of two I/Os at tick 0 with the request
/// at 0, and the Fig 3 load with its request at process 301's arrival (40) and at
/// 302's (120): each such arrival is new, under quiesce and the one-way mirrors alike,
/// and the request's row comes before its `arrive` row in `trace.csv`.
#[test]
fn an_arrival_in_the_requests_tick_is_new_whether_or_not_it_is_the_first() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "same0.csv",
        "0,W,0,4096\n0,W,4096,4096\n500,W,8192,4096\n",
    );
    let trace = "policies = [\"quiesce\", \"cow\"]\n[workload]\nkind = \"trace\"\n\
                 path = \"same0.csv\"\nformat = \"csv\"\n[geometry]\nblock_size_bytes = 4096\n\
                 records_per_block = 1\n[backup]\nrequest_at_ticks = 0\n";
    let fig3 = |at: u64| {
        std::fs::read_to_string(repo().join("scenarios/fig3.toml"))
            .unwrap()
            .replace(
                "request_at_ticks = 350",
                &format!("request_at_ticks = {at}"),
            )
    };
    let cases = [
        ("trace", trace.to_string(), 0),
        ("fig40", fig3(40), 40),
        ("fig120", fig3(120), 120),
    ];
    for (name, text, request) in cases {
        assert!(
            text.contains(&format!("request_at_ticks = {request}")),
            "{name}"
        );
        let f = write(tmp.path(), &format!("{name}.toml"), &text);
        let out = tmp.path().join(name);
        let o = owm(&["run", &f, "--out", &s(&out)]);
        assert!(
            matches!(code(&o), 0 | 1),
            "{name}: {}{}",
            stdout(&o),
            stderr(&o)
        );
        let rows = csv_rows(&out, "trace.csv");
        let policies: std::collections::BTreeSet<&str> =
            rows.iter().map(|r| r["policy"].as_str()).collect();
        for policy in policies.into_iter().filter(|&p| p != "none") {
            let of_policy: Vec<_> = rows.iter().filter(|r| r["policy"] == policy).collect();
            let request_row = of_policy
                .iter()
                .position(|r| r["event"] == "backup-request")
                .unwrap_or_else(|| panic!("{name} {policy}: no request"));
            let in_tick: Vec<_> = of_policy
                .iter()
                .enumerate()
                .filter(|(_, r)| r["event"] == "arrive" && r["time_ticks"] == request.to_string())
                .collect();
            assert!(
                !in_tick.is_empty(),
                "{name} {policy}: an arrival in the request's tick"
            );
            for (i, r) in in_tick {
                assert!(i > request_row, "{name} {policy}: {r:?} after the request");
                assert_eq!(r["old"], "false", "{name} {policy}: {r:?}");
                assert_eq!(r["vlun"], "VLUN B", "{name} {policy}: {r:?}");
            }
        }
    }
}

/// `summary.csv`'s `flushes`, beside `physical_reads` and `physical_writes`: the flush
/// barriers of the users' calls over the whole run. A plain volume (`none`) has no
/// engine barrier, so it waits for none, or, with `flush_at_commit`, for one per
/// committed transaction; copy-on-write's first writes while VLUN A is live wait for
/// their durable copies.
#[test]
fn the_whole_runs_flush_barriers_are_a_column_beside_the_physical_io() {
    let tmp = tempfile::tempdir().unwrap();
    let load =
        busy_under("none").replace(r#"policies = ["none"]"#, r#"policies = ["none", "cow"]"#);
    for commit_flush in [false, true] {
        let text = load.replace(
            "write_fraction = 0.6",
            &format!("write_fraction = 0.6\nflush_at_commit = {commit_flush}"),
        );
        let f = write(tmp.path(), &format!("f{commit_flush}.toml"), &text);
        let out = tmp.path().join(format!("o{commit_flush}"));
        ok(&owm(&[
            "run",
            &f,
            "--out",
            &s(&out),
            "--allow-violations",
            "--quiet",
        ]));
        let (header, _) = csv_table(&out, "summary.csv");
        assert_eq!(col(&header, "flushes"), col(&header, "physical_writes") + 1);
        let rows = summary_rows(&out);
        let none = &rows["none"];
        let want = if commit_flush {
            num(none, "committed")
        } else {
            0.0
        };
        assert!(want > 0.0 || !commit_flush);
        assert_eq!(num(none, "flushes"), want, "commit flush {commit_flush}");
        let cow = &rows["cow"];
        // Its engine barriers, and its commit flushes on top when asked.
        let commits = if commit_flush {
            num(cow, "committed")
        } else {
            0.0
        };
        assert!(
            num(cow, "flushes") > commits,
            "commit flush {commit_flush}: {cow:?}"
        );
    }
}

/// A user's journal sync queued on `journal_lane` behind the backup's own sync (the
/// split's phase-record sync) waited for the backup, as a call queued on a channel
/// behind a backup call does: the device queue cause counts it. One closed-loop client
/// of blind one-block writes, no jitter, four channels: only the backup ever holds a
/// channel or the lane when the client's call comes. Under cow and logging the
/// client syncs nothing before the split, so the split's 1,000-tick phase-record sync
/// never queues and every tick any call queued is the client's wait behind it: the
/// cause sums all of `device_queue_ticks`. Under the mirrors the client's dirty-mark
/// syncs hold the lane, and it is the split's sync that queues behind them: the
/// backup's own queueing, no user's wait.
#[test]
fn a_sync_queued_on_the_journal_lane_behind_the_backup_s_is_backup_caused() {
    let text = r#"
policies = ["none", "quiesce", "crash-consistent", "mirroring", "logging", "cow"]
seed = 1
[workload]
kind = "generated"
records = 100000
transactions = 60
arrivals = { mode = "closed", clients = 1, think_ticks_mean = 0 }
length_min = 1
length_max = 1
write_fraction = 1.0
compute_ticks_min = 0
compute_ticks_max = 0
write_kind = "blind"
[geometry]
records_per_block = 1
[device]
journal_sync_latency_ticks = 1000
journal_lane = true
journaled = true
jitter_ticks_max = 0
[backup]
request_at_ticks = 500
[archive]
extent_blocks = 4096
bandwidth_bytes_per_s = 1000000
"#;
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "lane.toml", text);
    let out = tmp.path().join("o");
    let o = owm(&["run", &f, "--out", &s(&out), "--allow-violations"]);
    ok(&o);
    let rows = summary_rows(&out);
    for (policy, r) in &rows {
        let (queued, caused) = (
            num(r, "device_queue_ticks"),
            num(r, "window_device_queue_wait_ticks_sum"),
        );
        match policy.as_str() {
            "none" => assert_eq!(queued, 0.0, "{r:?}"),
            "cow" | "logging" => {
                assert!(queued > 0.0, "{policy}: {r:?}");
                assert_eq!(caused, queued, "{policy}: {r:?}");
                // One wait: the client's first write after the split.
                assert_eq!(
                    num(r, "window_device_queue_wait_ticks_max"),
                    queued,
                    "{policy}: {r:?}"
                );
            }
            _ => assert!(caused <= queued, "{policy}: {r:?}"),
        }
        let causes: f64 = WAITS
            .iter()
            .map(|c| num(r, &format!("window_{c}_wait_ticks_sum")))
            .sum();
        assert_eq!(
            causes,
            num(r, "window_backup_wait_ticks_sum"),
            "{policy}: {r:?}"
        );
    }
}

/// Non-disruption judges each wait against the scenario's own setup window: with a
/// window of 5,000 ticks (50 times the default) waits of nearly 5,000 ticks pass, and
/// `owm run` says so under the tables for each policy that held with a wait past the
/// default window, giving the bound and the longest wait (the largest of its
/// `window_*_wait_ticks_max` columns); not for a policy whose waits stay within the
/// default, nor at the default window (where the gate holds 100 ticks and the same
/// load's waits stay within it).
#[test]
fn a_non_disruption_held_only_by_a_long_setup_window_says_its_bound() {
    let tmp = tempfile::tempdir().unwrap();
    let body = |window: &str| {
        format!(
            "policies = [\"none\", \"crash-consistent\", \"cow\", \"logging\", \"mirroring\"]\n\
             seed = 2\n[workload]\nkind = \"generated\"\nrecords = 64\ntransactions = 300\n\
             [backup]\n{window}[archive]\nbandwidth_bytes_per_s = 1000000000\n"
        )
    };
    let f = write(tmp.path(), "w.toml", &body("setup_window_ticks = 5000\n"));
    let out = tmp.path().join("o");
    let o = owm(&["run", &f, "--out", &s(&out)]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let text = stdout(&o);
    let mut said = 0;
    for row in csv_rows(&out, "summary.csv") {
        let policy = &row["policy"];
        let longest = [
            "window_gate_wait_ticks_max",
            "window_type_b_wait_ticks_max",
            "window_device_queue_wait_ticks_max",
            "window_flush_wait_ticks_max",
        ]
        .iter()
        .map(|c| num(&row, c) as u64)
        .max()
        .unwrap();
        let line = format!(
            "non-disruption under {policy} held against backup.setup_window_ticks = 5000: \
             the longest single wait the backup caused was {longest} ticks, past the default \
             window's 100;"
        );
        let expected = policy != "none" && longest > 100;
        assert_eq!(text.contains(&line), expected, "{policy} {longest}: {text}");
        assert_eq!(
            text.contains(&format!("non-disruption under {policy} held")),
            expected,
            "{text}"
        );
        said += usize::from(expected);
    }
    assert!(said >= 3, "{text}");
    // At the default window: no such line.
    let f = write(tmp.path(), "d.toml", &body(""));
    let o = owm(&["run", &f, "--out", &s(&tmp.path().join("d"))]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(!stdout(&o).contains("held against backup.setup_window_ticks"));
}

/// Under the mirroring engine variant image A is kept from the retire on: the row of
/// `extra_space.csv` that moves it into `kept_image_blocks` is at the `retire` row's
/// tick of `trace.csv` (when the retire's own I/O completed), not at the archive's
/// landing when the engine was asked; on one busy channel the two differ.
#[test]
fn the_kept_image_moves_at_the_retire() {
    let text = "policies = [\"quiesce\", \"mirroring\"]\nseed = 4\n[workload]\n\
        kind = \"generated\"\nrecords = 1024\ntransactions = 2000\nlength_min = 1\n\
        length_max = 1\nwrite_fraction = 1.0\n\
        arrivals = { mode = \"open\", interarrival_ticks_mean = 300 }\n\
        [device]\nchannels = 1\nread_latency_ticks = 100\nwrite_latency_ticks = 100\n\
        [backup]\nrequest_at_ticks = 100000\n";
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "kept.toml", text);
    let out = tmp.path().join("o");
    // (Users queue behind mirroring's split past the setup window: allowed here.)
    ok(&owm(&["run", &f, "--out", &s(&out), "--allow-violations"]));
    let space = csv_rows(&out, "extra_space.csv");
    let trace = csv_rows(&out, "trace.csv");
    for p in ["quiesce", "mirroring"] {
        let at = |event: &str| -> u64 {
            trace
                .iter()
                .find(|r| r["policy"] == p && r["event"] == event)
                .unwrap_or_else(|| panic!("{p}: no {event}"))["time_ticks"]
                .parse()
                .unwrap()
        };
        let kept = space
            .iter()
            .find(|r| r["policy"] == p && r["kept_image_blocks"] != "0")
            .unwrap_or_else(|| panic!("{p}: no kept image"));
        assert!(
            at("retire") > at("archive-copy"),
            "{p}: the premise, a retire that takes time"
        );
        assert_eq!(kept["time_ticks"], at("retire").to_string(), "{p}");
    }
}

/// A lock-contended load: a hot spot of single-record blocks written by every
/// transaction, locks held through slow device calls and flush barriers, a slow archive
/// target keeping VLUN A live (and copy-on-write copying) for 20-30 transactions.
const CONTENDED: &str = r#"
policies = ["none", "quiesce", "logging", "cow"]
name = "contended"

[workload]
kind = "generated"
records = 256
transactions = 1500
arrivals = { mode = "open", interarrival_ticks_mean = 400 }
length_min = 2
length_max = 4
write_fraction = 1.0
compute_ticks_min = 20
compute_ticks_max = 400
hot_spot = { shape = "zipf", exponent = 1.0 }

[device]
channels = 1
flush_latency_ticks = 300

[backup]
request_at_ticks = 100000

[archive]
bandwidth_bytes_per_s = 1000000
"#;

/// A wait for an application lock is blamed on the backup through its holders
/// (`window_lock_holder_wait_*`): never more than the lock waits themselves (each
/// sample at most its wait, the sum at most the type (a) lock waits' ticks), nothing
/// for `none` or where the holders had no backup-caused wait, and something under a
/// policy whose holders wait for the backup while holding locks: copy-on-write's
/// copies and flushes, quiesce's gate (a new transaction takes its locks before the
/// gate), over seeds. The headline table shows it (`lock wt`).
#[test]
fn a_lock_wait_is_blamed_on_the_backup_through_its_holder() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "contended.toml", CONTENDED);
    let mut blamed: BTreeMap<String, u32> = BTreeMap::new();
    for seed in 1..=8 {
        let out = tmp.path().join(format!("o{seed}"));
        let o = owm(&[
            "run",
            &f,
            "--seed",
            &seed.to_string(),
            "--out",
            &s(&out),
            "--allow-violations",
        ]);
        ok(&o);
        if seed == 1 {
            assert!(stdout(&o).contains("lock wt"), "{}", stdout(&o));
        }
        for (p, r) in summary_rows(&out) {
            let (sum, max) = (
                num(&r, "window_lock_holder_wait_ticks_sum"),
                num(&r, "window_lock_holder_wait_ticks_max"),
            );
            if p == "none" {
                assert_eq!((sum, max), (0.0, 0.0), "seed {seed}");
                continue;
            }
            assert!(max <= sum, "{p} seed {seed}");
            assert!(
                max <= num(&r, "lock_wait_ticks_max"),
                "{p} seed {seed}: {r:?}"
            );
            assert!(
                sum <= num(&r, "lock_wait_ticks_sum") - num(&r, "window_type_b_wait_ticks_sum"),
                "{p} seed {seed}: {r:?}"
            );
            let others: f64 = WAITS
                .iter()
                .filter(|w| **w != "lock_holder")
                .map(|w| num(&r, &format!("window_{w}_wait_ticks_sum")))
                .sum();
            if others == 0.0 {
                assert_eq!(sum, 0.0, "{p} seed {seed}: blamed with no holder delayed");
            }
            if sum > 0.0 {
                *blamed.entry(p).or_default() += 1;
            }
        }
    }
    for p in ["quiesce", "logging", "cow"] {
        assert!(
            blamed.get(p).copied().unwrap_or(0) > 0,
            "{p} never blamed: {blamed:?}"
        );
    }
}
