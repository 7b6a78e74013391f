//! Honest costs through `owm run`: the no-backup baseline is a plain volume and the
//! cheapest policy on the write-only load of issue 12.

use std::collections::{BTreeMap, HashMap};

use crate::util::*;

/// `summary.csv` as one map (column → cell) per policy.
pub fn summary_rows(out: &std::path::Path) -> HashMap<String, BTreeMap<String, String>> {
    csv_rows(out, "summary.csv")
        .into_iter()
        .map(|row| (row["policy"].clone(), row))
        .collect()
}

/// 1024 records, 2000 single-write transactions (one every 300 ticks on average), one
/// channel, read = write = 100 ticks, the backup requested at 100,000. Before the fair
/// baseline, `none` ran a standing mirror (2 writes per write) and answered 13× slower
/// than `cow`; on a plain volume it is the cheapest policy.
/// The issue's write-only load: 1024 records (256 blocks), 2000 single-write
/// transactions every 300 ticks, one channel, read = write = 100 ticks, the backup
/// requested at 100,000 (`[workload]`, `[device]`, `[backup]`; no policies or name).
macro_rules! write_only_load {
    () => {
        r#"
[workload]
kind = "generated"
records = 1024
transactions = 2000
arrivals = { mode = "open", interarrival_ticks_mean = 300 }
length_min = 1
length_max = 1
write_fraction = 1.0

[device]
channels = 1
read_latency_ticks = 100
write_latency_ticks = 100

[backup]
request_at_ticks = 100000
"#
    };
}
pub(crate) use write_only_load;

const WRITE_ONLY: &str = concat!(
    r#"
policies = ["none", "quiesce", "crash-consistent", "mirroring", "logging", "cow"]
seed = 1
name = "write-only"
"#,
    write_only_load!()
);

#[test]
fn on_the_write_only_load_no_backup_is_cheapest() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "write-only.toml", WRITE_ONLY);
    let out = tmp.path().join("o");
    let o = owm(&["run", &f, "--out", &s(&out), "--allow-violations"]);
    ok(&o);
    let rows = summary_rows(&out);
    let none = &rows["none"];
    assert_eq!(
        num(none, "physical_writes_per_logical_write"),
        1.0,
        "a plain volume writes once per write"
    );
    assert_eq!(num(none, "extra_space_blocks_peak"), 0.0);
    assert_eq!(num(none, "table_updates"), 0.0);
    for p in ["quiesce", "crash-consistent", "mirroring", "logging", "cow"] {
        let r = &rows[p];
        for col in ["response_ticks_mean", "response_ticks_p99"] {
            assert!(
                num(r, col) > num(none, col),
                "{p}: {col} {} is not above none's {}",
                num(r, col),
                num(none, col)
            );
        }
    }
}

/// `owm run` of the shipped schedule: `summary.csv` has one row per policy and cycle,
/// each with that cycle's request time and milestones, in order; `trace.csv` names the
/// cycle of each milestone.
#[test]
fn a_schedule_gives_one_summary_row_per_cycle() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    ok(&owm(&["run", "scenarios/schedule.toml", "--out", &s(&out)]));
    let (header, rows) = csv_table(&out, "summary.csv");
    let col = |name: &str| col(&header, name);
    let (policy, cycle, request) = (col("policy"), col("cycle"), col("request_at_ticks"));
    let (retire, deferred) = (col("retire_at_ticks"), col("request_deferred_ticks"));
    assert_eq!(rows.len(), 5 * 3, "five policies, three cycles each");
    for (i, row) in rows.iter().enumerate() {
        let k = i % 3;
        assert_eq!(row[cycle], (k + 1).to_string(), "{row:?}");
        assert_eq!(
            row[request],
            (5_000 + 8_000 * k).to_string(),
            "{}",
            row[policy]
        );
        assert!(
            !row[retire].is_empty() && !row[deferred].is_empty(),
            "{row:?}"
        );
    }
    let trace = String::from_utf8(bytes(&out, "trace.csv")).unwrap();
    // A deferred cycle's start is a milestone: at its request + the deferral, in its
    // window's start; none for a cycle that began at its request.
    let start = col("window_start_at_ticks");
    let mut deferred_cycles = 0;
    for row in &rows {
        let k = &row[cycle];
        let at = row[request].parse::<u64>().unwrap() + row[deferred].parse::<u64>().unwrap();
        let starts: Vec<&str> = trace
            .lines()
            .filter(|l| {
                l.starts_with(&format!("{},", row[policy]))
                    && l.contains(",cycle-start,")
                    && l.ends_with(&format!("cycle {k}"))
            })
            .collect();
        if row[deferred] == "0" {
            assert!(starts.is_empty(), "{starts:?}");
        } else {
            deferred_cycles += 1;
            assert_eq!(starts.len(), 1, "{row:?}");
            assert!(
                starts[0].contains(&format!(",{at},cycle-start,")),
                "{}",
                starts[0]
            );
            assert_eq!(row[start], at.to_string());
        }
    }
    assert!(deferred_cycles >= 3, "the shipped schedule defers cycles");
    for k in 1..=3 {
        let retires = trace
            .lines()
            .filter(|l| l.contains(",retire,") && l.ends_with(&format!("cycle {k}")))
            .count();
        assert_eq!(retires, 5, "cycle {k}: one retire per policy");
    }
}

/// Archive passes that failed under `[faults]` are counted in summary.csv
/// (`backup_failures`, one refused retire each in `retires_refused`) and said on
/// stdout, and they are what lengthened the backup: the same load without the faults
/// fails none, counts 0 and retires sooner, with fewer archive reads.
#[test]
fn failed_archive_passes_are_counted_and_said() {
    let tmp = tempfile::tempdir().unwrap();
    let base = "policies = [\"cow\"]\nseed = 7\n[workload]\nkind = \"generated\"\n\
                records = 1024\ntransactions = 200\nlength_min = 1\nlength_max = 6\n\
                write_fraction = 0.6\n\
                arrivals = { mode = \"open\", interarrival_ticks_mean = 200 }\n";
    let run = |name: &str, text: &str| {
        let f = write(tmp.path(), &format!("{name}.toml"), text);
        let out = tmp.path().join(name);
        let o = owm(&["run", &f, "--out", &s(&out)]);
        ok(&o);
        (stdout(&o), csv_rows(&out, "summary.csv").remove(0))
    };
    let (said, faulty) = run(
        "faulty",
        &format!("{base}[faults]\narchive_write_error_probability = 0.01\n"),
    );
    let (quiet, clean) = run("clean", base);
    let failures = num(&faulty, "backup_failures");
    assert!(failures > 0.0, "{faulty:?}");
    assert_eq!(num(&faulty, "retires_refused"), failures, "{faulty:?}");
    assert!(
        said.contains(&format!(
            "archive under cow: {failures} pass{} failed and copied again",
            if failures == 1.0 { "" } else { "es" }
        )),
        "{said}"
    );
    assert_eq!(num(&clean, "backup_failures"), 0.0);
    assert_eq!(num(&clean, "retires_refused"), 0.0);
    assert!(!quiet.contains("archive under"), "{quiet}");
    assert!(
        num(&faulty, "request_to_retire_ticks") > num(&clean, "request_to_retire_ticks"),
        "{faulty:?} {clean:?}"
    );
    assert!(
        num(&faulty, "cycle_archive_bytes") > num(&clean, "cycle_archive_bytes"),
        "every pass's reads count: {faulty:?} {clean:?}"
    );
}

/// `cycle_archive_sent_bytes` is what the archive target received in the pass that
/// completed the archive: the volume's bytes for a dense copy, the blocks holding data
/// for a sparse one (each equal to `cycle_archive_bytes` when one pass made it), one
/// pass's bytes with failed passes (while `cycle_archive_bytes` counts every pass's
/// reads), and 0 for a backup abandoned before its slow target received any extent.
#[test]
fn archive_sent_bytes_are_the_completed_pass() {
    let tmp = tempfile::tempdir().unwrap();
    // 1024 records of 16 bytes: 256 blocks of 64 bytes, 16,384 bytes.
    let volume_bytes = 16_384.0;
    let base = "seed = 7\n[workload]\nkind = \"generated\"\n\
                records = 1024\ntransactions = 200\nlength_min = 1\nlength_max = 6\n\
                write_fraction = 0.6\n\
                arrivals = { mode = \"open\", interarrival_ticks_mean = 200 }\n";
    let run = |name: &str, text: &str| {
        let f = write(tmp.path(), &format!("{name}.toml"), text);
        let out = tmp.path().join(name);
        ok(&owm(&["run", &f, "--out", &s(&out), "--quiet"]));
        summary_rows(&out)
    };
    let sent = |r: &BTreeMap<String, String>| num(r, "cycle_archive_sent_bytes");
    let read = |r: &BTreeMap<String, String>| num(r, "cycle_archive_bytes");
    let policies =
        "policies = [\"quiesce\", \"crash-consistent\", \"mirroring\", \"logging\", \"cow\"]\n";

    let dense = run("dense", &format!("{policies}{base}"));
    let sparse = run(
        "sparse",
        &format!("{policies}{base}[archive]\nsparse = true\n"),
    );
    assert_eq!(dense.len(), 5);
    for (policy, d) in &dense {
        assert_eq!(sent(d), volume_bytes, "{policy}: {d:?}");
        assert_eq!(read(d), sent(d), "{policy}: one pass read what it sent");
        let sp = &sparse[policy];
        assert!(
            sent(sp) > 0.0 && sent(sp) < volume_bytes,
            "{policy}: {sp:?}"
        );
        assert_eq!(sent(sp) % 64.0, 0.0, "{policy}: whole blocks {sp:?}");
        assert_eq!(read(sp), sent(sp), "{policy}: {sp:?}");
    }

    let faulty = run(
        "faulty",
        &format!("policies = [\"cow\"]\n{base}[faults]\narchive_write_error_probability = 0.01\n"),
    );
    let f = &faulty["cow"];
    assert!(num(f, "backup_failures") > 0.0, "{f:?}");
    assert_eq!(sent(f), volume_bytes, "the completed pass only: {f:?}");
    assert!(read(f) > sent(f), "every pass's reads: {f:?}");

    // A 4-block data area that fills and abandons the backup 500 ticks after A is
    // consistent, long before a 1,024-byte extent is sent at 1,000 bytes a second.
    let abandoned = run(
        "abandoned",
        &format!(
            "policies = [\"crash-consistent\", \"cow\"]\n{base}[backup]\ndata_area_blocks = 4\n\
             on_data_area_full = \"break-snapshot\"\nbaseline_variant = \"cow\"\n\
             [archive]\nbandwidth_bytes_per_s = 1000\nextent_blocks = 16\n"
        ),
    );
    for (policy, a) in &abandoned {
        assert_eq!(num(a, "backup_abandoned"), 1.0, "{policy}: {a:?}");
        assert!(read(a) > 0.0, "{policy}: extents read ahead {a:?}");
        assert_eq!(sent(a), 0.0, "{policy}: nothing received {a:?}");
    }
}

/// Every fault kind of the transactions' I/O is counted in `summary.csv` and said on
/// the `faults under POLICY` line: crashes (the transactions they aborted, the
/// unflushed writes torn or lost), read and write errors, latency spikes. The same
/// load without `[faults]` counts 0 in every column and says no such line.
#[test]
fn crashes_errors_and_spikes_are_counted_and_said() {
    let tmp = tempfile::tempdir().unwrap();
    let base = "policies = [\"cow\", \"mirroring\"]\nseed = 3\n[workload]\nkind = \"bank\"\n\
                accounts = 128\ninitial_balance = 1000\ntransactions = 200\n\
                arrival_ticks_mean = 100\namount_max = 100\ncompute_ticks_min = 20\n\
                compute_ticks_max = 2000\n";
    // A crash every 250 ticks up to 15,000: some catch unflushed writes.
    let ticks: Vec<String> = (1..=60).map(|i| (i * 250).to_string()).collect();
    let faults = format!(
        "[faults]\ncrash_at_ticks = [{}]\ntorn_write_probability = 0.5\n\
         lost_write_probability = 0.5\nread_error_probability = 0.05\n\
         write_error_probability = 0.05\nlatency_spike_probability = 0.05\n\
         heal_at_ticks = 16000\n",
        ticks.join(", ")
    );
    let columns = [
        "crashes",
        "crash_aborts",
        "torn_writes",
        "lost_writes",
        "read_errors",
        "write_errors",
        "write_error_aborts",
        "latency_spikes",
    ];
    let run = |name: &str, text: &str| {
        let f = write(tmp.path(), &format!("{name}.toml"), text);
        let out = tmp.path().join(name);
        let o = owm(&["run", &f, "--out", &s(&out)]);
        ok(&o);
        (stdout(&o), summary_rows(&out))
    };
    let (said, faulty) = run("faulty", &format!("{base}{faults}"));
    let (quiet, clean) = run("clean", base);
    for policy in ["cow", "mirroring"] {
        let row = &faulty[policy];
        for c in columns {
            assert!(num(row, c) > 0.0, "{policy}: {c} is 0: {row:?}");
            assert_eq!(num(&clean[policy], c), 0.0, "{policy}: {c}");
        }
        assert_eq!(num(row, "crashes"), 60.0, "{policy}");
        let n = |c: &str| num(row, c) as u64;
        let line = format!(
            "faults under {policy}: 60 crashes ({} transaction{} aborted; unflushed writes: {} torn, {} lost), \
             {} read error{}, {} write error{} ({} transaction{} aborted), {} latency spike{}",
            n("crash_aborts"),
            plural(n("crash_aborts")),
            n("torn_writes"),
            n("lost_writes"),
            n("read_errors"),
            plural(n("read_errors")),
            n("write_errors"),
            plural(n("write_errors")),
            n("write_error_aborts"),
            plural(n("write_error_aborts")),
            n("latency_spikes"),
            plural(n("latency_spikes")),
        );
        assert!(said.lines().any(|l| l == line), "{line}\n{said}");
    }
    assert!(!quiet.contains("faults under"), "{quiet}");
}

/// Each crash is a `crash` row of `trace.csv` at its tick, saying how many attempts it
/// aborted: as many as that tick's `end` rows reading `aborted`, and together the
/// summary's `crash_aborts`; one row per crash (`crashes`). Among its tick's milestones
/// it comes after those the backup had reached: a crash in the request's tick follows
/// the one-way mirror's split (made at once) and precedes quiesce's (which waits for
/// the aborted transactions to end).
#[test]
fn each_crash_is_a_trace_row_placed_where_it_struck() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "crash.toml",
        "policies = [\"quiesce\", \"cow\"]\n[workload]\nkind = \"bank\"\naccounts = 1024\n\
         initial_balance = 1000\ntransactions = 300\narrival_ticks_mean = 100\n\
         amount_max = 100\ncompute_ticks_min = 20\ncompute_ticks_max = 2000\n\
         [geometry]\nblock_size_bytes = 64\nrecords_per_block = 4\n\
         [locking]\ndiscipline = \"conservative\"\ngranularity = \"block\"\n\
         [backup]\nrequest_at_ticks = 15000\n[faults]\ncrash_at_ticks = [7000, 15000]\n",
    );
    let out = tmp.path().join("o");
    ok(&owm(&["run", &f, "--out", &s(&out), "--quiet"]));
    let summary = summary_rows(&out);
    let trace = std::fs::read_to_string(out.join("trace.csv")).unwrap();
    let rows: Vec<Vec<&str>> = trace
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    for policy in ["quiesce", "cow"] {
        let mine: Vec<&Vec<&str>> = rows.iter().filter(|r| r[0] == policy).collect();
        let crashes: Vec<&&Vec<&str>> = mine.iter().filter(|r| r[2] == "crash").collect();
        assert_eq!(
            crashes.len() as f64,
            num(&summary[policy], "crashes"),
            "{policy}"
        );
        let mut aborted_sum = 0;
        for c in &crashes {
            let said: u64 = c[8].split(' ').next().unwrap().parse().unwrap();
            let ends = mine
                .iter()
                .filter(|r| r[1] == c[1] && r[2] == "end" && r[8] == "aborted")
                .count() as u64;
            assert_eq!(said, ends, "{policy} at {}: {c:?}", c[1]);
            assert!(c[8].ends_with("aborted"), "{c:?}");
            aborted_sum += said;
        }
        assert!(aborted_sum > 0, "{policy}: a crash aborted some attempt");
        assert_eq!(
            aborted_sum as f64,
            num(&summary[policy], "crash_aborts"),
            "{policy}"
        );
        // In the request's tick: after the one-way mirror's split, before quiesce's.
        let at = |event: &str| {
            mine.iter()
                .position(|r| r[1] == "15000" && r[2] == event)
                .unwrap_or_else(|| panic!("{policy}: no {event} at 15000"))
        };
        let (request, crash) = (at("backup-request"), at("crash"));
        assert!(request < crash, "{policy}");
        match policy {
            "cow" => assert!(at("split") < crash, "{policy}"),
            _ => assert!(!mine[..crash].iter().any(|r| r[2] == "split"), "{policy}"),
        }
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
