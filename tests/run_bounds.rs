//! Runs whose own numbers doom them are refused before they start (exit 2, file, line
//! and key, nothing written): output past `limits.output_bytes_max` (the estimate
//! checked against the bytes real runs write), transactions past `limits.attempts_max`
//! or `limits.events_max`, a backup request past `limits.time_ticks_max`. A value an
//! `[[axis]]` sets is reported at that axis, never as a default; an unknown run-file key
//! is answered with every key a run file takes, the closest first.

use std::path::Path;

use crate::util::*;

/// Asserts `o` is a refusal (exit 2) of a file at `line`, naming `key` and `words`, and
/// that no output directory `out` was made.
fn refused(o: &std::process::Output, f: &str, line: usize, key: &str, words: &[&str], out: &Path) {
    assert_eq!(code(o), 2, "{}", stderr(o));
    let at = format!("{f}:{line}: key `{key}`");
    let mut all = vec![at.as_str()];
    all.extend_from_slice(words);
    fails_with(o, &all);
    assert!(!out.exists(), "nothing written: {}", out.display());
}

/// `human_bytes`'s words (`1.50 MiB`, `12 B`) as bytes.
fn parse_human(text: &str) -> f64 {
    let (x, unit) = text.trim().split_once(' ').unwrap();
    let k = ["B", "KiB", "MiB", "GiB", "TiB"]
        .iter()
        .position(|u| *u == unit)
        .unwrap_or_else(|| panic!("unit of {text:?}"));
    x.parse::<f64>().unwrap() * 1024f64.powi(k as i32)
}

/// The parts of the output estimate a refusal gives: (trace.csv, extra_space.csv,
/// pictures and summary.csv), in bytes.
fn estimate_in(err: &str) -> (f64, f64, f64) {
    let from = err.find("(trace.csv ").expect("an estimate");
    let words = &err[from..from + err[from..].find(')').unwrap() + 1];
    let part = |name: &str| {
        words
            .split(&format!("{name} "))
            .nth(1)
            .map(|rest| {
                let end = rest.find([',', ')']).unwrap();
                parse_human(&rest[..end])
            })
            .unwrap_or(0.0)
    };
    (
        part("(trace.csv"),
        part("extra_space.csv"),
        part("pictures and summary.csv"),
    )
}

/// A generated load of `transactions` under cow, its `[limits]` table last.
fn generated(transactions: u64, limits: &str) -> String {
    format!(
        "policies = [\"cow\"]\n\
         [workload]\nkind = \"generated\"\nrecords = 4096\ntransactions = {transactions}\n\
         arrivals = {{ mode = \"open\", interarrival_ticks_mean = 200 }}\n\
         [limits]\n{limits}"
    )
}

#[test]
fn a_run_past_the_output_bound_is_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    // 2 MiB: the pictures of one policy and its extra space plots (1 MiB each), and a
    // trace of 20,000 transactions (about 3 MB) do not fit.
    let text = generated(20_000, "output_bytes_max = 2097152\n");
    let f = write(tmp.path(), "big.toml", &text);
    let o = owm(&["run", &f, "--out", &s(&out)]);
    refused(
        &o,
        &f,
        8,
        "limits.output_bytes_max",
        &[
            "the run would write about",
            "under policy `cow` (trace.csv ",
            "more than limits.output_bytes_max = 2.00 MiB",
            "of it is the timeline of 20000 transactions: raise limits.output_bytes_max",
            "keep_timeline = false",
            "fewer transactions",
        ],
        &out,
    );
    let (trace, space, _) = estimate_in(&stderr(&o));
    assert!(trace > 2e6 && space > 0.0, "{}", stderr(&o));
    // The way out it names: without the timeline the same run fits and runs.
    let f = write(
        tmp.path(),
        "off.toml",
        &format!("keep_timeline = false\n{text}"),
    );
    ok(&owm(&["run", &f, "--out", &s(&out)]));
    let written: u64 = names(&out)
        .iter()
        .map(|n| std::fs::metadata(out.join(n)).unwrap().len())
        .sum();
    assert!(written <= 2 << 20, "{written}");
    assert!(!out.join("extra_space.csv").exists());
}

/// At its default (1 GiB) the bound is named at the key that drives it: 10^7
/// transactions with the timeline would write about 1.5 GiB.
#[test]
fn the_default_output_bound_is_refused_at_the_transactions() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let text = "policies = [\"cow\"]\nkeep_history = false\n\
                [workload]\nkind = \"generated\"\nrecords = 268435456\ntransactions = 10000000\n\
                [geometry]\nblock_size_bytes = 4096\nrecords_per_block = 1\n\
                [limits]\nvolume_bytes_max = 1099511627776\nmemory_bytes_max = 137438953472\n\
                [archive]\nsparse = true\n";
    let f = write(tmp.path(), "tib.toml", text);
    let o = owm(&["run", &f, "--out", &s(&out)]);
    refused(
        &o,
        &f,
        6,
        "workload.transactions",
        &[
            "`limits.output_bytes_max` (at its default, not set in the file)",
            "more than limits.output_bytes_max = 1.00 GiB",
            "of it is the timeline of 10000000 transactions",
        ],
        &out,
    );
    let (trace, _, _) = estimate_in(&stderr(&o));
    assert!(trace > 1.2 * f64::from(1 << 30), "{}", stderr(&o));
}

/// Without the timeline a quiesce still writes two `trace.csv` milestone rows per
/// retry: 2^32 - 1 retries a cycle are refused at `backup.quiesce_retries_max`, the
/// key that drives the estimate, however few the transactions, and the refusal does not
/// offer turning off the timeline the file already turns off. A million retries fit.
#[test]
fn the_output_bound_is_refused_at_the_quiesce_retries_that_drive_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let text = |transactions: u64, retries: u32| {
        format!(
            "policies = [\"quiesce\"]\nkeep_timeline = false\n[workload]\nkind = \"bank\"\n\
             accounts = 256\ntransactions = {transactions}\narrival_ticks_mean = 100\n\
             [backup]\nquiesce_deadline_ticks = 1\nquiesce_retries_max = {retries}\n\
             quiesce_retry_backoff_ticks = 0\n"
        )
    };
    for transactions in [60, 2] {
        let f = write(tmp.path(), "q.toml", &text(transactions, u32::MAX));
        let o = owm(&["run", &f, "--out", &s(&out)]);
        refused(
            &o,
            &f,
            10,
            "backup.quiesce_retries_max",
            &[
                "`limits.output_bytes_max` (at its default, not set in the file)",
                "more than limits.output_bytes_max = 1.00 GiB",
                "quiesce_retries_max = 4294967295 quiesce retries a backup cycle",
                "raise limits.output_bytes_max, or lower backup.quiesce_retries_max",
            ],
            &out,
        );
        let err = stderr(&o);
        assert!(!err.contains("keep_timeline"), "{err}");
        assert!(!err.contains("transactions"), "{err}");
        let (trace, space, _) = estimate_in(&err);
        assert!(trace > f64::from(1 << 30) && space == 0.0, "{err}");
    }
    let f = write(tmp.path(), "q.toml", &text(60, 1_000_000));
    ok(&owm(&["run", &f, "--out", &s(&out)]));
    assert!(out.join("trace.csv").exists());
}

/// The estimate of the bytes that grow with the run (`trace.csv` and `extra_space.csv`)
/// is at least what the run writes and at most three times it, over loads of every
/// kind at small sizes; the whole estimate is at least the whole output.
#[test]
fn the_output_estimate_bounds_what_runs_write_within_three_times() {
    let loads = [
        (
            "generated",
            "policies = [\"cow\", \"quiesce\"]\n[workload]\nkind = \"generated\"\n\
             records = 8192\ntransactions = 3000\nlength_min = 1\nlength_max = 6\n\
             arrivals = { mode = \"open\", interarrival_ticks_mean = 100 }\n",
        ),
        (
            "closed-zipf",
            "policies = [\"logging\", \"mirroring\"]\n[workload]\nkind = \"generated\"\n\
             records = 256\ntransactions = 2000\nlength_min = 2\nlength_max = 6\n\
             arrivals = { mode = \"closed\", clients = 16, think_ticks_mean = 50 }\n\
             hot_spot = { shape = \"zipf\", exponent = 1.0 }\n",
        ),
        (
            "bank",
            "policies = [\"crash-consistent\", \"cow\", \"none\"]\n[workload]\nkind = \"bank\"\n\
             accounts = 512\ntransactions = 2000\n",
        ),
        (
            "fig4-5",
            "policies = [\"quiesce\", \"cow\"]\n[workload]\nkind = \"fig4-5\"\ntransactions = 400\n",
        ),
        ("fig3", "policies = [\"quiesce\", \"mirroring\", \"cow\"]\n"),
    ];
    let tmp = tempfile::tempdir().unwrap();
    for (name, text) in loads {
        let f = write(
            tmp.path(),
            &format!("{name}-est.toml"),
            &format!("{text}[limits]\noutput_bytes_max = 1\n"),
        );
        let o = owm(&["run", &f, "--out", &s(&tmp.path().join("none"))]);
        assert_eq!(code(&o), 2, "{name}: {}", stderr(&o));
        let (trace, space, rest) = estimate_in(&stderr(&o));
        let f = write(tmp.path(), &format!("{name}.toml"), text);
        let out = tmp.path().join(name);
        let o = owm(&["run", &f, "--out", &s(&out)]);
        assert!([0, 1].contains(&code(&o)), "{name}: {}", stderr(&o));
        let size = |n: &str| std::fs::metadata(out.join(n)).map_or(0, |m| m.len()) as f64;
        let total: f64 = names(&out).iter().map(|n| size(n)).sum();
        let grows = size("trace.csv") + size("extra_space.csv");
        let estimate = trace + space;
        eprintln!(
            "{name}: estimate {estimate:.0} B of trace and extra space, written {grows:.0} B \
             ({:.2}x); all {:.0} B estimated, {total:.0} B written",
            estimate / grows,
            estimate + rest
        );
        assert!(estimate >= grows, "{name}: {estimate} < {grows}");
        assert!(estimate <= 3.0 * grows, "{name}: {estimate} > 3 x {grows}");
        assert!(size("trace.csv") <= trace, "{name}");
        assert!(
            estimate + rest >= total,
            "{name}: {} < {total}",
            estimate + rest
        );
    }
}

/// Every shipped run file (`scenarios/*.toml` but the sweeps, `scenarios/bench/*.toml`)
/// is estimated far under the default bound (1 GiB): under 64 MiB.
#[test]
fn every_shipped_run_file_is_estimated_far_under_the_default_bound() {
    let tmp = tempfile::tempdir().unwrap();
    let mut files: Vec<String> = shipped_files()
        .into_iter()
        .filter(|n| !n.starts_with("sweep-"))
        .collect();
    for e in std::fs::read_dir(repo().join("scenarios/bench")).unwrap() {
        files.push(format!(
            "bench/{}",
            e.unwrap().file_name().to_string_lossy()
        ));
    }
    assert!(files.len() >= 12, "{files:?}");
    for name in files {
        let path = repo().join("scenarios").join(&name);
        let dir = path.parent().unwrap();
        // The copy names its trace by an absolute path and asks for a bound of 1 byte,
        // so that the refusal gives the estimate.
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("path = \"../", &format!("path = \"{}/../", dir.display()));
        let text = if text.contains("\n[limits]\n") {
            text.replace("\n[limits]\n", "\n[limits]\noutput_bytes_max = 1\n")
        } else {
            format!("{text}\n[limits]\noutput_bytes_max = 1\n")
        };
        let f = write(tmp.path(), "copy.toml", &text);
        let o = owm(&["run", &f, "--out", &s(&tmp.path().join("o"))]);
        assert_eq!(code(&o), 2, "{name}: {}", stderr(&o));
        let (trace, space, rest) = estimate_in(&stderr(&o));
        assert!(rest > 0.0, "{name}: {}", stderr(&o));
        let total = trace + space + rest;
        assert!(total < f64::from(64 << 20), "{name}: {total}");
    }
}

/// A sweep writes no trace: the key is refused as without effect there.
#[test]
fn a_sweep_refuses_the_output_bound_as_without_effect() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let f = write(
        tmp.path(),
        "sw.toml",
        "policies = [\"cow\"]\nseeds = [1]\n[[axis]]\nkey = \"workload.transactions\"\nvalues = [10, 20]\n\
         [scenario.workload]\nkind = \"generated\"\n[scenario.limits]\noutput_bytes_max = 5\n",
    );
    let o = owm(&["sweep", &f, "--out", &s(&out)]);
    refused(
        &o,
        &f,
        9,
        "scenario.limits.output_bytes_max",
        &["has no effect in a sweep", "writes no trace.csv"],
        &out,
    );
}

/// More transactions than attempts (or events) the limits allow cannot end but at the
/// limit: refused at the transactions, naming the limit, instead of running into it.
#[test]
fn transactions_past_the_attempts_or_events_limit_are_refused_before_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let f = write(
        tmp.path(),
        "a.toml",
        "policies = [\"cow\"]\nkeep_history = false\nkeep_timeline = false\n\
         [workload]\nkind = \"generated\"\ntransactions = 20000001\n\
         [limits]\nmemory_bytes_max = 137438953472\n",
    );
    let o = owm(&["run", &f, "--out", &s(&out)]);
    refused(
        &o,
        &f,
        6,
        "workload.transactions",
        &[
            "20000001 transactions make at least 20000001 attempts",
            "more than limits.attempts_max = 20000000",
            "raise `limits.attempts_max` or give fewer transactions",
        ],
        &out,
    );
    let f = write(
        tmp.path(),
        "e.toml",
        "policies = [\"none\"]\n[workload]\nkind = \"bank\"\ntransactions = 1000\n\
         [limits]\nevents_max = 999\n",
    );
    let o = owm(&["run", &f, "--out", &s(&out)]);
    refused(
        &o,
        &f,
        4,
        "workload.transactions",
        &["more than limits.events_max = 999"],
        &out,
    );
    // The transactions at their default (fig4-5's 40): refused at the limit's line.
    let f = write(
        tmp.path(),
        "d.toml",
        "[workload]\nkind = \"fig4-5\"\n[limits]\nattempts_max = 3\n",
    );
    let o = owm(&["run", &f, "--out", &s(&out)]);
    refused(
        &o,
        &f,
        4,
        "limits.attempts_max",
        &[
            "`workload.transactions` (at its default, not set in the file)",
            "more than limits.attempts_max = 3",
        ],
        &out,
    );
}

/// A backup requested after the virtual time a run may reach stops every backup
/// policy's run there: refused at `limits.time_ticks_max`.
#[test]
fn a_backup_requested_past_the_time_limit_is_refused_before_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let body = "[workload]\nkind = \"fig3\"\n[backup]\nrequest_at_ticks = 5000\n\
                [limits]\ntime_ticks_max = 4000\n";
    let f = write(
        tmp.path(),
        "t.toml",
        &format!("policies = [\"cow\"]\n{body}"),
    );
    let o = owm(&["run", &f, "--out", &s(&out)]);
    refused(
        &o,
        &f,
        7,
        "limits.time_ticks_max",
        &[
            "the backup request at tick 5000 is past limits.time_ticks_max = 4000",
            "request the backup earlier",
        ],
        &out,
    );
}

/// VLUN B is ready a setup window after the split: one past the virtual time a run may
/// reach stops every backup policy's run there, so it is refused before the run at
/// `backup.setup_window_ticks`, or at `backup.request_at_ticks` when the request is
/// the larger share; VLUN B ready at the limit runs, and a quiesce deadline
/// (which can give the backup up before any split) lets the run try.
#[test]
fn a_setup_window_past_the_time_limit_is_refused_before_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let file = |policy: &str, setup: u64, extra: &str| {
        format!(
            "policies = [\"{policy}\"]\n[workload]\nkind = \"fig3\"\n[backup]\n\
             request_at_ticks = 1000\nsetup_window_ticks = {setup}\n{extra}\
             [limits]\ntime_ticks_max = 40000\n"
        )
    };
    for policy in ["cow", "quiesce"] {
        // A window longer than the request is late: the window's key; a request later
        // than the window is long (the file leaves the window at 100): the request's.
        let late = format!(
            "policies = [\"{policy}\"]\n[workload]\nkind = \"fig3\"\n[backup]\n\
             request_at_ticks = 39901\n[limits]\ntime_ticks_max = 40000\n"
        );
        for (text, line, key, request, window, remedy) in [
            (
                file(policy, 39_001, ""),
                6,
                "backup.setup_window_ticks",
                1000,
                39_001,
                "give a shorter setup window",
            ),
            (
                late,
                5,
                "backup.request_at_ticks",
                39_901,
                100,
                "request the backup earlier",
            ),
        ] {
            let f = write(tmp.path(), "w.toml", &text);
            let o = owm(&["run", &f, "--out", &s(&out)]);
            refused(
                &o,
                &f,
                line,
                key,
                &[
                    &format!(
                        "VLUN B would be ready at tick 40001 (the first request at {request} \
                         and a setup window of {window} ticks), past limits.time_ticks_max = \
                         40000"
                    ),
                    remedy,
                ],
                &out,
            );
        }
        let f = write(tmp.path(), "w.toml", &file(policy, 39_000, ""));
        let ran = tmp.path().join(format!("ran-{policy}"));
        let o = owm(&["run", &f, "--out", &s(&ran), "--quiet"]);
        assert_eq!(code(&o), 0, "{policy}: {}{}", stdout(&o), stderr(&o));
    }
    let f = write(
        tmp.path(),
        "w.toml",
        &file("quiesce", 39_001, "quiesce_deadline_ticks = 1000000\n"),
    );
    let o = owm(&["run", &f, "--out", &s(&tmp.path().join("tried")), "--quiet"]);
    assert_ne!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
}

/// The run goes on to every crash: one past the virtual time a run may reach stops it
/// there, so it is refused before the run at `faults.crash_at_ticks`, its line, with
/// the limit set or at its default (the message naming the limit either way); a crash
/// at the limit runs.
#[test]
fn a_crash_past_the_time_limit_is_refused_before_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    for (limits, crash, limit) in [
        ("[limits]\ntime_ticks_max = 5000\n", 6000u64, 5000u64),
        ("", 1_000_000_000_001, 1_000_000_000_000),
    ] {
        let f = write(
            tmp.path(),
            "c.toml",
            &format!("policies = [\"cow\"]\n{limits}[faults]\ncrash_at_ticks = [100, {crash}]\n"),
        );
        let o = owm(&["run", &f, "--out", &s(&out)]);
        let line = if limits.is_empty() { 3 } else { 5 };
        refused(
            &o,
            &f,
            line,
            "faults.crash_at_ticks",
            &[
                &format!("the crash at tick {crash} is past limits.time_ticks_max = {limit}"),
                "raise `limits.time_ticks_max` or crash earlier",
            ],
            &out,
        );
    }
    let f = write(
        tmp.path(),
        "c.toml",
        "policies = [\"cow\"]\n[limits]\ntime_ticks_max = 5000\n[faults]\ncrash_at_ticks = [5000]\n",
    );
    let o = owm(&["run", &f, "--out", &s(&out)]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
}

/// A trace replay arrives at every transaction's recorded time (each stream's first,
/// under closed timing): one past the virtual time a run may reach is refused before
/// the run at `workload.path`, naming the trace line; `faults.heal_at_ticks` past it
/// is not refused, as the run does not wait for it.
#[test]
fn a_trace_arrival_past_the_time_limit_is_refused_before_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    write(
        tmp.path(),
        "t.csv",
        "time,op,offset,length,stream\n0,W,0,64,0\n100,W,64,64,0\n9000,W,128,64,0\n",
    );
    for (timing, refused_at) in [("recorded", Some(4)), ("closed", None)] {
        let f = write(
            tmp.path(),
            "t.toml",
            &format!(
                "policies = [\"cow\"]\n[limits]\ntime_ticks_max = 5000\n[workload]\n\
                 kind = \"trace\"\npath = \"t.csv\"\nformat = \"csv\"\ntiming = \"{timing}\"\n"
            ),
        );
        let o = owm(&["run", &f, "--out", &s(&out)]);
        match refused_at {
            Some(line) => refused(
                &o,
                &f,
                6,
                "workload.path",
                &[&format!(
                    "the transaction of trace line {line} arrives at tick 9000, past \
                     limits.time_ticks_max = 5000"
                )],
                &out,
            ),
            // One stream, closed loop: only its first transaction's time is certain.
            None => {
                assert_eq!(code(&o), 0, "{timing}: {}{}", stdout(&o), stderr(&o));
                std::fs::remove_dir_all(&out).unwrap();
            }
        }
    }
    let f = write(
        tmp.path(),
        "h.toml",
        "policies = [\"cow\"]\n[limits]\ntime_ticks_max = 5000\n[faults]\n\
         heal_at_ticks = 6000\nread_error_probability = 0.01\n",
    );
    let o = owm(&["run", &f, "--out", &s(&out)]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
}

/// A compute time every transaction takes past the virtual time a run may reach stops
/// every run: refused at `workload.compute_ticks_min`, its line, for each workload kind
/// that has the key.
#[test]
fn a_compute_time_past_the_time_limit_is_refused_before_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    for kind in ["generated", "fig45", "bank"] {
        let f = write(
            tmp.path(),
            "c.toml",
            &format!(
                "policies = [\"none\"]\n[workload]\nkind = \"{kind}\"\n\
                 compute_ticks_min = 1099511627776\ncompute_ticks_max = 1099511627776\n"
            ),
        );
        let o = owm(&["run", &f, "--out", &s(&out)]);
        refused(
            &o,
            &f,
            4,
            "workload.compute_ticks_min",
            &[
                "every transaction computes at least 1099511627776 ticks, past \
                 limits.time_ticks_max = 1000000000000",
                "raise `limits.time_ticks_max`",
            ],
            &out,
        );
    }
}

/// A run held past its time limit by a slow archive target says so: the copy was
/// under way, how far it got, the time the whole copy takes at the target's bytes per
/// second and latency, and the keys that set the larger share (the rate limit when it
/// is the slower; the latency and the extents when round trips dominate); a run
/// whose archive ends in time says nothing of it. Exit 3, nothing written.
#[test]
fn a_run_held_past_the_time_limit_by_the_archive_names_the_archive() {
    let said = |o: &std::process::Output| format!("{}{}", stdout(o), stderr(o));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let load = "[workload]\nkind = \"generated\"\nrecords = 4096\ntransactions = 200\n";
    for (archive, key) in [
        (
            "bandwidth_bytes_per_s = 1\n",
            "`archive.bandwidth_bytes_per_s` or `archive.profile`",
        ),
        (
            "rate_limit_bytes_per_s = 2\n",
            "`archive.rate_limit_bytes_per_s`",
        ),
    ] {
        let f = write(
            tmp.path(),
            "a.toml",
            &format!("policies = [\"cow\"]\n{load}[archive]\n{archive}[limits]\ntime_ticks_max = 100000000\n"),
        );
        let o = owm(&["run", &f, "--out", &s(&out)]);
        assert_eq!(code(&o), 3, "{}", said(&o));
        let per_s = if key.contains("rate") {
            "2 bytes/s"
        } else {
            "1 byte/s"
        };
        for n in [
            "key `limits.time_ticks_max`: policy cow with seed 1 stopped",
            "the archive copy under way (",
            &format!(" blocks read, at {per_s}: about "),
            &format!("a faster archive target ({key}) ends it sooner"),
        ] {
            assert!(said(&o).contains(n), "lacks `{n}`:\n{}", said(&o));
        }
        assert!(!out.exists(), "nothing written");
    }
    // A target whose latency (1 s an extent of 1 block) is its time, not its bytes:
    // the whole copy is about 256 s (256 blocks, one round trip each), not the 0.0 s
    // its bytes take, and the keys named are the latency's and the extents'.
    let f = write(
        tmp.path(),
        "lat.toml",
        "policies = [\"cow\"]\n[archive]\nlatency_ticks = 1000000\nextent_blocks = 1\n\
         [limits]\ntime_ticks_max = 5000000\n",
    );
    let o = owm(&["run", &f, "--out", &s(&out)]);
    assert_eq!(code(&o), 3, "{}", said(&o));
    let n = " blocks read, at 100000000 bytes/s and 1000000 ticks of latency an extent: \
             about 256 s of virtual time for the whole copy, 256 s of it the target's \
             latency); a target of lower latency (`archive.latency_ticks` or \
             `archive.profile`) or larger extents (`archive.extent_blocks`: fewer round \
             trips) ends it sooner";
    assert!(said(&o).contains(n), "lacks `{n}`:\n{}", said(&o));
    assert!(
        !said(&o).contains("a faster archive target"),
        "{}",
        said(&o)
    );
    // A copy bound by VLUN A's reads on a disk (about 584 µs a 64-byte block, 3,328
    // blocks read by the limit), not by its target: the words name the device's keys
    // and the pace so far, not the target's. So at 10 GbE, and at 150,000 and 200,000
    // bytes/s, where the target is busy most of the copy's time (426 and 320 µs a
    // block) but its sends overlap the reads: the copy reads as many blocks as at
    // 10 GbE. At 60,000 bytes/s (1,067 µs a block) the target sets the pace (1,920
    // blocks read by the limit) and is named.
    let disk = |archive: &str| {
        let f = write(
            tmp.path(),
            "d.toml",
            &format!(
                "policies = [\"cow\"]\n[workload]\nkind = \"generated\"\nrecords = 65536\n\
                 transactions = 40\nlength_min = 1\nlength_max = 1\nwrite_fraction = 1.0\n\
                 arrivals = {{ mode = \"closed\", clients = 1, think_ticks_mean = 0 }}\n\
                 [device]\nprofile = \"hdd-7200\"\n[archive]\n{archive}\n\
                 [backup]\nrequest_at_ticks = 1000\n[limits]\ntime_ticks_max = 2000000\n"
            ),
        );
        let o = owm(&["run", &f, "--out", &s(&out)]);
        assert_eq!(code(&o), 3, "{}", said(&o));
        assert!(!out.exists(), "nothing written");
        said(&o)
    };
    for archive in [
        "profile = \"10gbe\"",
        "bandwidth_bytes_per_s = 150000",
        "bandwidth_bytes_per_s = 200000",
    ] {
        let text = disk(archive);
        for n in [
            "the archive copy under way (3328 of 16384 blocks read in 2.0 s of virtual \
             time, bound by VLUN A's reads on the device: its extents' reads took ",
            " s of it the device's own service and the rest queueing behind the users' \
             calls, their sends to its target at ",
            " s more, at the pace of that service and the sends so far, plus the queueing \
             while the users' load goes on); a faster device (`device.profile`, \
             `device.read_latency_ticks`, \
             `device.sequential_read_bytes_per_s`, `device.transfer_bytes_per_s`), more \
             channels",
        ] {
            assert!(text.contains(n), "{archive}: lacks `{n}`:\n{text}");
        }
        assert!(
            !text.contains("a faster archive target"),
            "{archive}: {text}"
        );
    }
    // A copy whose target sets the pace is named so whatever the limit that cuts it:
    // 64-byte blocks read at about 250 µs each, sent at 150,000 bytes/s (427 µs),
    // cut at 1.2, 1.6 and 2.0 s, reads fewer blocks by each limit than under 10 GbE.
    let slow = |bandwidth: &str, limit: u64| {
        let f = write(
            tmp.path(),
            "t.toml",
            &format!(
                "policies = [\"cow\"]\n[workload]\nkind = \"generated\"\nrecords = 16384\n\
                 transactions = 20\nlength_min = 1\nlength_max = 2\n\
                 compute_ticks_min = 20\ncompute_ticks_max = 200\n\
                 arrivals = {{ mode = \"open\", interarrival_ticks_mean = 100 }}\n\
                 [device]\nprofile = \"hdd-7200\"\n[archive]\n{bandwidth}\n\
                 [limits]\ntime_ticks_max = {limit}\n"
            ),
        );
        let o = owm(&["run", &f, "--out", &s(&out)]);
        assert_eq!(code(&o), 3, "{}", said(&o));
        let text = said(&o);
        let read: u64 = text
            .split("the archive copy under way (")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no blocks read in: {text}"));
        (text, read)
    };
    for limit in [1_200_000, 1_600_000, 2_000_000] {
        let (text, read) = slow("bandwidth_bytes_per_s = 150000", limit);
        // (Under 10 GbE the copy has ended by 2.0 s.)
        if limit < 2_000_000 {
            let (_, fast) = slow("profile = \"10gbe\"", limit);
            assert!(read < fast, "{limit}: {read} blocks against {fast}");
        }
        assert!(
            text.contains("blocks read, at 150000 bytes/s: about 1.7 s of virtual time")
                && text.contains("a faster archive target"),
            "{limit}: {text}"
        );
    }
    let text = disk("bandwidth_bytes_per_s = 60000");
    for n in [
        "the archive copy under way (1920 of 16384 blocks read, at 60000 bytes/s",
        "a faster archive target (`archive.bandwidth_bytes_per_s` or `archive.profile`)",
    ] {
        assert!(text.contains(n), "lacks `{n}`:\n{text}");
    }
    // The same load with its archive ended (retired by about tick 10,700) and its
    // users still at work when the limit stops it (at 20,000 of about 40,000): no
    // archive words.
    let f = write(
        tmp.path(),
        "b.toml",
        &format!("policies = [\"cow\"]\n{load}[backup]\nrequest_at_ticks = 100\n[limits]\ntime_ticks_max = 20000\n"),
    );
    let o = owm(&["run", &f, "--out", &s(&out)]);
    assert_eq!(code(&o), 3, "{}", said(&o));
    assert!(
        said(&o).contains("virtual time past 20000 ticks;"),
        "{}",
        said(&o)
    );
    assert!(!said(&o).contains("archive copy"), "{}", said(&o));
}

/// A value an `[[axis]]` gives is the file's, not a default: its refusal is at the
/// axis's values, with the value, and never says "(the default; set it in the file)", whether
/// the scenario's check refuses it or a limit stops the run.
#[test]
fn a_value_from_an_axis_is_never_called_a_default() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let f = write(
        tmp.path(),
        "sw.toml",
        "policies = [\"cow\"]\nseeds = [1]\n[scenario.workload]\nkind = \"generated\"\n\
         transactions = 100\n[[axis]]\nkey = \"backup.data_area_fraction\"\nvalues = [0.5, 0.0]\n",
    );
    let o = owm(&["sweep", &f, "--out", &s(&out)]);
    refused(
        &o,
        &f,
        8,
        "backup.data_area_fraction",
        &["with value 0.0: 0.0 is out of range"],
        &out,
    );
    assert!(!stderr(&o).contains("the default"), "{}", stderr(&o));
    // A limit an axis sets, reached while running (exit 3): at the axis too.
    let f = write(
        tmp.path(),
        "lim.toml",
        "policies = [\"cow\"]\nseeds = [1]\n[scenario.workload]\nkind = \"generated\"\n\
         transactions = 100\n[[axis]]\nkey = \"limits.events_max\"\nvalues = [150]\n",
    );
    let o = owm(&["sweep", &f, "--out", &s(&out)]);
    // The point fails (exit 3); the sweep says why in its report, at the axis's value
    // in force, also when the base scenario sets the key too (raising that one cannot
    // help: the axis value overrides it).
    let said = format!("{}{}", stdout(&o), stderr(&o));
    assert_eq!(code(&o), 3, "{said}");
    let f2 = write(
        tmp.path(),
        "lim2.toml",
        "policies = [\"cow\"]\nseeds = [1]\n[scenario.workload]\nkind = \"generated\"\n\
         transactions = 100\n[[axis]]\nkey = \"limits.events_max\"\nvalues = [150]\n\
         [scenario.limits]\nevents_max = 100000000\n",
    );
    let o2 = owm(&["sweep", &f2, "--out", &s(&tmp.path().join("o2"))]);
    let said2 = format!("{}{}", stdout(&o2), stderr(&o2));
    assert_eq!(code(&o2), 3, "{said2}");
    for (f, said) in [(&f, &said), (&f2, &said2)] {
        for n in [
            &format!(
                "{f}:8: key `limits.events_max`: with value 150: policy cow with seed 1 stopped"
            ) as &str,
            "this value of the axis is the limit in force: raise it",
        ] {
            assert!(said.contains(n), "lacks `{n}`:\n{said}");
        }
        assert!(
            !said.contains("raise `scenario.limits.events_max`"),
            "{said}"
        );
        assert!(!said.contains("the default"), "{said}");
        assert!(
            !said.contains("grid point 0:"),
            "the point is named once: {said}"
        );
    }
}

/// A limit the file leaves at its default, reached while running (exit 3), is called
/// the default, "(the default; set it in the file)", at the `[limits]` header when the
/// file writes one, else at the nearest table it writes (a sweep's `[scenario]`), else
/// at no line (never an unrelated one); `owm run` and `owm sweep` say it alike.
#[test]
fn a_limit_reached_at_its_default_is_called_the_default_at_the_nearest_table() {
    // An archive at 1 byte/s passes the default 10^12 ticks.
    let body = "[workload]\nkind = \"bank\"\naccounts = 256\ntransactions = 50\n\
                [geometry]\nblock_size_bytes = 65536\nrecords_per_block = 4\n\
                [archive]\nbandwidth_bytes_per_s = 1\n";
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let said = |o: &std::process::Output| format!("{}{}", stdout(o), stderr(o));
    for (text, line, shown) in [
        (format!("policies = [\"cow\"]\n{body}"), None, ""),
        (
            format!("policies = [\"cow\"]\n\n{body}[limits]\nevents_max = 100000000\n"),
            Some(12),
            "[limits]",
        ),
    ] {
        let f = write(tmp.path(), "tl.toml", &text);
        let o = owm(&["run", &f, "--out", &s(&out)]);
        assert_eq!(code(&o), 3, "{}", said(&o));
        let (at, line_text) = match line {
            Some(line) => (format!("{f}:{line}"), format!("{line:>6} | {shown}")),
            None => (f.clone(), String::new()),
        };
        for n in [
            &format!("{at}: key `limits.time_ticks_max`: policy cow with seed 1 stopped") as &str,
            "raise `limits.time_ticks_max` or shrink the run (the default; set it in the file)",
            &line_text,
        ] {
            assert!(said(&o).contains(n), "lacks `{n}`:\n{}", said(&o));
        }
        if line.is_none() {
            assert!(!said(&o).contains(" | policies"), "{}", said(&o));
        }
        assert!(!out.exists(), "nothing written");
    }
    let scenario = body
        .replace("\n[", "\n[scenario.")
        .replacen('[', "[scenario.", 1);
    for (text, line) in [
        (format!("policies = [\"cow\"]\nseeds = [1]\n[scenario]\n{scenario}"), 3),
        (
            format!("policies = [\"cow\"]\nseeds = [1]\n{scenario}[scenario.limits]\nevents_max = 100000000\n"),
            12,
        ),
    ] {
        let f = write(tmp.path(), "sw.toml", &text);
        let o = owm(&["sweep", &f, "--out", &s(&out)]);
        assert_eq!(code(&o), 3, "{}", said(&o));
        for n in [
            &format!("{f}:{line}: key `scenario.limits.time_ticks_max`: policy cow with seed 1 stopped") as &str,
            "raise `scenario.limits.time_ticks_max` or shrink the run (the default; set it in the file)",
        ] {
            assert!(said(&o).contains(n), "lacks `{n}`:\n{}", said(&o));
        }
        std::fs::remove_dir_all(&out).unwrap();
    }
}

/// The memory held per block written (the images, the judge's history) is driven by
/// the block size when it is further above its default than the work is above its:
/// the refusal's advice then names `geometry.block_size_bytes` first, and is placed at
/// it when `limits.memory_bytes_max` is left at its default; with default blocks and
/// many transactions it names the transactions, as before.
#[test]
fn a_memory_refusal_names_the_block_size_when_it_drives_the_estimate() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let bank = |history: &str, transactions: u64, geometry: &str| {
        format!(
            "policies = [\"cow\"]\nkeep_history = {history}\n[workload]\nkind = \"bank\"\n\
             accounts = 4096\ntransactions = {transactions}\n{geometry}\
             [limits]\nvolume_bytes_max = 1099511627776\n"
        )
    };
    let big = "[geometry]\nblock_size_bytes = 16777216\nrecords_per_block = 4\n";
    let smaller = "give smaller blocks (geometry.block_size_bytes: each block written is held \
                   whole), or fewer transactions";
    // The images at the block size (the file leaves the bound at its default); the
    // history at `keep_history`, the most direct of its keys, the block size named
    // before the transactions.
    for (history, line, key, part) in [
        (
            "false",
            8,
            "geometry.block_size_bytes",
            "of it is the simulated disk's images of the blocks written: raise \
             limits.memory_bytes_max, or ",
        ),
        (
            "true",
            2,
            "keep_history",
            "of it is the judge's history (keep_history): raise limits.memory_bytes_max, \
             or set keep_history = false (the invariants then go unchecked), or ",
        ),
    ] {
        let f = write(tmp.path(), "m.toml", &bank(history, 200, big));
        let o = owm(&["run", &f, "--out", &s(&out)]);
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        fails_with(
            &o,
            &[
                &format!("{f}:{line}: key `{key}`: `limits.memory_bytes_max` (at its default"),
                &format!("{part}{smaller}"),
            ],
        );
        assert!(!out.exists(), "nothing written");
    }
    // Default blocks, many transactions: the work drives the images.
    let f = write(tmp.path(), "w.toml", &bank("false", 200_000_000, ""));
    let o = owm(&["run", &f, "--out", &s(&out)]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(!stderr(&o).contains("smaller blocks"), "{}", stderr(&o));
    fails_with(&o, &[&format!("{f}:6: key `workload.transactions`")]);
}

/// A misspelt run-file key is answered with every key a run file takes, `policies`
/// and `seed` among them, the closest first.
#[test]
fn a_misspelt_run_file_key_suggests_the_closest_of_all_run_file_keys() {
    let (tmp, f, o) = run_file("polices = [\"cow\"]\n");
    refused(
        &o,
        &f,
        1,
        "polices",
        &["unknown field `polices` (did you mean `policies`?), expected one of `policies`, "],
        &tmp.path().join("o"),
    );
    let err = stderr(&o);
    for k in [
        "`seed`",
        "`name`",
        "`workload`",
        "`keep_timeline`",
        "`limits`",
    ] {
        assert!(err.contains(k), "{k}: {err}");
    }
    let (_tmp, f, o) = run_file("sed = 3\n");
    fails_with(
        &o,
        &[
            &format!("{f}:1: key `sed`"),
            "(did you mean `seed`?), expected one of `seed`, ",
            "`policies`",
        ],
    );
    // Below the top level: the table's own keys, the closest first.
    let (_tmp, f, o) = run_file("[limits]\nevent_max = 3\n");
    fails_with(
        &o,
        &[
            &format!("{f}:2: key `limits.event_max`"),
            "(did you mean `events_max`?), expected one of `events_max`, ",
        ],
    );
    assert!(!stderr(&o).contains("`policies`"), "{}", stderr(&o));
}

/// The estimate a memory refusal gives (`the run would hold about 13.94 MiB`), in
/// bytes.
fn memory_estimate_in(err: &str) -> f64 {
    let from = err.find("would hold about ").expect("a memory estimate") + 17;
    let rest = &err[from..];
    let end = rest.find(" under").unwrap();
    // Without the bytes said when the two totals would read the same.
    parse_human(rest[..end].split(" (").next().unwrap())
}

/// Asserts `o` succeeded and said each of `needles` on stderr.
fn told(o: &std::process::Output, needles: &[&str]) {
    ok(o);
    let err = stderr(o);
    for n in needles {
        assert!(err.contains(n), "stderr lacks `{n}`:\n{err}");
    }
}

/// The points of a sweep that run at once share the process: `--jobs 3` on points that
/// fit `limits.memory_bytes_max` one at a time, but not three at once, is lowered to
/// the most whose estimates add up within it, said on stderr at the key's line; the
/// rows are those of `--jobs 1`. With room for three, nothing is lowered.
#[test]
fn a_sweep_runs_no_more_points_at_once_than_the_memory_bound_holds() {
    let tmp = tempfile::tempdir().unwrap();
    // One point's estimate, from the sweep's refusal of a bound of 1 byte.
    let f = write(
        tmp.path(),
        "one.toml",
        "policies = [\"cow\"]\nseeds = [1]\n\
         [scenario.workload]\nkind = \"generated\"\ntransactions = 200\n\
         [scenario.limits]\nmemory_bytes_max = 1\n",
    );
    let o = owm(&["sweep", &f, "--out", &s(&tmp.path().join("none"))]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let one = memory_estimate_in(&stderr(&o));
    // Each point past the first adds its own parts and its thread, not the program
    // again: a bound of `n` points is the first and `n - 1` such.
    let beside =
        one - sim::footprint::PROGRAM_BYTES as f64 + sim::footprint::POINT_THREAD_BYTES as f64;
    let points = |n: f64| (one + beside * (n - 1.0)) as u64;
    let sweep = |bound: u64, jobs: &str, out: &str| {
        let f = write(
            tmp.path(),
            "sw.toml",
            &format!(
                "policies = [\"cow\"]\nseeds = [1, 2, 3, 4]\n\
                 [scenario.workload]\nkind = \"generated\"\ntransactions = 200\n\
                 [scenario.limits]\nmemory_bytes_max = {bound}\n"
            ),
        );
        let out = tmp.path().join(out);
        let o = owm(&["sweep", &f, "--jobs", jobs, "--out", &s(&out)]);
        ok(&o);
        (f, o, bytes(&out, "sweep.csv"))
    };
    // Room for two points (2.5): three at once would pass it.
    let (f, o, rows) = sweep(points(2.5), "3", "three");
    told(
        &o,
        &[
            &format!("{f}:7: key `scenario.limits.memory_bytes_max`"),
            "--jobs 3 lowered to 2",
            "3 grid points at once could hold about",
            "point 0 (cow, seed 1)",
            "2 at once hold at most",
        ],
    );
    let (_, o1, alone) = sweep(points(2.5), "1", "one");
    assert!(!stderr(&o1).contains("lowered"), "{}", stderr(&o1));
    assert_eq!(rows, alone, "the rows depend on the points run at once");
    // A bound a single point fits, with the line plot drawn after it (its thread's
    // share and the plot are fixed parts): one at a time.
    let (_, o, _) = sweep(points(1.8), "4", "four");
    told(&o, &["--jobs 4 lowered to 1"]);
    // Room for every point: as asked.
    let (_, o, _) = sweep(points(4.5), "3", "room");
    assert!(!stderr(&o).contains("lowered"), "{}", stderr(&o));
}

/// A sweep whose bound (`limits.memory_bytes_max`) is set above the memory the machine
/// has available is held to the machine as `owm run` is: refused before any point runs
/// (exit 2, nothing written) when one point at a time passes the machine's figure, and
/// its `--jobs` lowered, with the figure's source, when several at once would pass it;
/// the rows are those of one point at a time.
#[test]
fn a_sweep_is_held_to_the_machines_memory_as_a_run_is() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "sw.toml",
        "policies = [\"cow\"]\nseeds = [1, 2, 3, 4]\n\
         [scenario.workload]\nkind = \"generated\"\ntransactions = 200\n\
         [scenario.limits]\nmemory_bytes_max = 1099511627776\n",
    );
    // One point's estimate, from the refusal of a bound of 1 byte.
    let one_file = write(
        tmp.path(),
        "one.toml",
        "policies = [\"cow\"]\nseeds = [1]\n\
         [scenario.workload]\nkind = \"generated\"\ntransactions = 200\n\
         [scenario.limits]\nmemory_bytes_max = 1\n",
    );
    let o = owm(&["sweep", &one_file, "--out", &s(&tmp.path().join("x"))]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let one = memory_estimate_in(&stderr(&o));
    // Each point past the first adds its own parts and its thread, not the program
    // again: `available` counts such points beside the first.
    let beside =
        one - sim::footprint::PROGRAM_BYTES as f64 + sim::footprint::POINT_THREAD_BYTES as f64;
    let sweep = |available: f64, jobs: &str, out: &str| {
        let out = tmp.path().join(out);
        let bytes = match available < 1.0 {
            true => one * available,
            false => one + beside * (available - 1.0),
        };
        let o = owm_env(
            &["sweep", &f, "--jobs", jobs, "--out", &s(&out)],
            &[("OWM_MEMORY_AVAILABLE_BYTES", &(bytes as u64).to_string())],
        );
        (o, out)
    };
    let (o, out) = sweep(0.5, "1", "refused");
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            &format!("{f}:7: key `scenario.limits.memory_bytes_max`: the sweep would hold about"),
            "of memory this machine has available (OWM_MEMORY_AVAILABLE_BYTES)",
            "(limits.memory_bytes_max = 1.00 TiB allows it)",
            "or free memory",
        ],
    );
    assert!(!out.exists(), "nothing written");
    let (o, out) = sweep(2.5, "3", "three");
    ok(&o);
    told(
        &o,
        &[
            "--jobs 3 lowered to 2",
            "more than the memory this machine has available (OWM_MEMORY_AVAILABLE_BYTES)",
            "Free memory to run more at once",
        ],
    );
    let rows = bytes(&out, "sweep.csv");
    let (o, alone) = sweep(4.5, "1", "one");
    ok(&o);
    assert!(!stderr(&o).contains("lowered"), "{}", stderr(&o));
    assert_eq!(rows, bytes(&alone, "sweep.csv"));
    // Room on the machine for every point: as asked.
    let (o, _) = sweep(4.5, "3", "room");
    ok(&o);
    assert!(!stderr(&o).contains("lowered"), "{}", stderr(&o));
}

/// A resumed sweep is held to the machine's memory on the points it still has to run:
/// points kept from an interrupted run (here the two on a 4,000,000-record volume, the
/// grid's largest) run no more, so a resume whose remaining points (1,024 records)
/// fit is not refused for them, where a fresh run of the same grid is.
#[test]
fn a_resumed_sweep_is_judged_on_the_points_left_to_run() {
    let tmp = tempfile::tempdir().unwrap();
    let grid = |values: &str, bound: &str| {
        format!(
            "policies = [\"cow\"]\nseeds = [1, 2]\n[[axis]]\nkey = \"workload.records\"\n\
             values = [{values}]\n[scenario.workload]\nkind = \"generated\"\n\
             transactions = 200\n[scenario.limits]\nvolume_bytes_max = 1073741824\n{bound}"
        )
    };
    // Each half's estimate one point at a time, from the refusal of a bound of 1 byte.
    let estimate = |values: &str| {
        let f = write(
            tmp.path(),
            "e.toml",
            &grid(values, "memory_bytes_max = 1\n"),
        );
        let o = owm(&["sweep", &f, "--out", &s(&tmp.path().join("x"))]);
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        memory_estimate_in(&stderr(&o))
    };
    let (large, small) = (estimate("4000000"), estimate("1024"));
    assert!(small * 1.2 < large, "the premise: {small} against {large}");
    let available = ((small + large) / 2.0) as u64;
    let f = write(tmp.path(), "s.toml", &grid("4000000, 1024", ""));
    let out = tmp.path().join("o");
    let o = interrupt_at(&["sweep", &f, "--out", &s(&out), "--jobs", "1"], "point 2");
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    for i in [0, 1] {
        assert!(tmp
            .path()
            .join(format!(".o.points/point-{i}.json"))
            .exists());
    }
    let env = [("OWM_MEMORY_AVAILABLE_BYTES", available.to_string())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let fresh = tmp.path().join("fresh");
    let o = owm_env(&["sweep", &f, "--out", &s(&fresh)], &env);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("memory this machine has available"),
        "{}",
        stderr(&o)
    );
    assert!(!fresh.exists());
    let o = owm_env(&["sweep", &f, "--out", &s(&out), "--resume"], &env);
    ok(&o);
    assert!(
        stdout(&o).contains("resuming: 2 grid points kept"),
        "{}",
        stdout(&o)
    );
}

/// A generated load on a hot spot under incremental locking: deadlock victims retried
/// hundreds of times each, far more attempts than transactions.
const RETRIED: &str = "policies = [\"cow\"]\n\
    [workload]\nkind = \"generated\"\nrecords = 64\ntransactions = 3000\n\
    length_min = 4\nlength_max = 8\nwrite_fraction = 1.0\n\
    hot_spot = { shape = \"zipf\", exponent = 1.2 }\n\
    arrivals = { mode = \"open\", interarrival_ticks_mean = 10 }\n\
    [locking]\ndiscipline = \"incremental\"\n";

/// A run whose retries write far more than estimated stops when its `trace.csv` would
/// pass `limits.output_bytes_max` (exit 2, at that key, with the bytes written) and
/// publishes nothing: an earlier output in `--out` is left as it was, no staging
/// directory is left.
#[test]
fn a_run_that_writes_past_the_output_bound_stops_and_publishes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    // An earlier run's output in --out.
    let small = write(
        tmp.path(),
        "small.toml",
        "policies = [\"cow\"]\n[workload]\nkind = \"generated\"\ntransactions = 20\n",
    );
    ok(&owm(&["run", &small, "--out", &s(&out)]));
    let before: Vec<(String, Vec<u8>)> = names(&out)
        .into_iter()
        .map(|n| {
            let b = bytes(&out, &n);
            (n, b)
        })
        .collect();
    let bound = 8u64 << 20;
    let f = write(
        tmp.path(),
        "retried.toml",
        &format!("{RETRIED}[limits]\noutput_bytes_max = {bound}\n"),
    );
    let o = owm(&["run", &f, "--out", &s(&out)]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            &format!("{f}:14: key `limits.output_bytes_max`"),
            "policy `cow` with seed 1 stopped at tick ",
            "bytes of trace.csv written by then",
            "would pass limits.output_bytes_max = 8.00 MiB",
            "nothing written",
            "raise that key, or set keep_timeline = false, or lower limits.attempts_max",
        ],
    );
    let err = stderr(&o);
    let written: u64 = err
        .split(" bytes of trace.csv")
        .next()
        .and_then(|h| h.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{err}"));
    assert!(written <= bound && written > bound / 2, "{written}: {err}");
    let after: Vec<(String, Vec<u8>)> = names(&out)
        .into_iter()
        .map(|n| {
            let b = bytes(&out, &n);
            (n, b)
        })
        .collect();
    assert!(after == before, "--out changed");
    assert!(
        staging_left(tmp.path()).is_empty(),
        "{:?}",
        staging_left(tmp.path())
    );
    // The estimate before the run let it start: it is the run that wrote more.
    assert!(!err.contains("the run would write about"), "{err}");
}

/// Where deadlock victims are retried the memory estimate counts `limits.attempts_max`
/// attempts, and says so: a bound the run's conservative twin fits is refused under
/// incremental locking, and lowering `limits.attempts_max` (the way out it names) lets
/// it start. Their admission delays are priced at what their few distinct values hold,
/// not 4 bytes an attempt allowed.
#[test]
fn the_memory_estimate_of_a_run_with_retries_counts_the_attempts_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let conservative = RETRIED.replace("incremental", "conservative");
    let estimate_with = |text: &str, limits: &str| {
        let f = write(
            tmp.path(),
            "e.toml",
            &format!("{text}[limits]\nmemory_bytes_max = 1\n{limits}"),
        );
        let o = owm(&["run", &f, "--out", &s(&tmp.path().join("none"))]);
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        (memory_estimate_in(&stderr(&o)), stderr(&o))
    };
    let estimate = |text: &str| estimate_with(text, "");
    let (once, said) = estimate(&conservative);
    assert!(!said.contains("attempts_max"), "{said}");
    let (retried, said) = estimate(RETRIED);
    assert!(
        said.contains("attempts counted at limits.attempts_max = 20000000"),
        "{said}"
    );
    // The timing diagram's bars of up to 65,536 attempts, and the admission delays of
    // the attempts past the transactions: 0 but for those held at the admission gate
    // (at most one a transaction each time it closes), so a table of few values, not
    // 4 bytes an attempt: 2×10^9 attempts allowed are estimated as 2×10^7 are.
    assert!(retried > once, "{once} {retried}");
    let bars = (sim::footprint::DIAGRAM_ATTEMPTS_MAX - 3000) * sim::footprint::KEPT_ROW_BYTES;
    assert!(
        retried < once + bars as f64 + 4.0 * (20e6 - 3000.0) / 5.0,
        "{once} {retried}"
    );
    let (more, _) = estimate_with(RETRIED, "attempts_max = 2000000000\n");
    assert_eq!(more, retried);
    let bound = ((once + retried) / 2.0) as u64;
    let f = write(
        tmp.path(),
        "r.toml",
        &format!("{RETRIED}[limits]\nmemory_bytes_max = {bound}\n"),
    );
    let o = owm(&["run", &f, "--out", &s(&tmp.path().join("r"))]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &[&format!("{f}:14: key `limits.memory_bytes_max`")]);
    // With fewer attempts allowed the run fits, starts, and stops at that limit
    // (exit 3) if its retries reach it.
    let f = write(
        tmp.path(),
        "a.toml",
        &format!("{RETRIED}[limits]\nmemory_bytes_max = {bound}\nattempts_max = 20000\n"),
    );
    let o = owm(&["run", &f, "--out", &s(&tmp.path().join("a"))]);
    assert!([0, 1, 3].contains(&code(&o)), "{}", stderr(&o));
    assert!(!stderr(&o).contains("memory_bytes_max"), "{}", stderr(&o));
}

/// A memory refusal of a file that leaves `limits.memory_bytes_max` at its default is
/// placed at the key of the estimate's largest part, with the ways to shrink that part:
/// integrity mode's checksums on 1 TiB (6 GiB, whatever the transactions) at
/// `device.integrity`, never at `workload.transactions` with "fewer transactions".
#[test]
fn a_memory_refusal_names_the_key_of_its_largest_part() {
    let tmp = tempfile::tempdir().unwrap();
    let integrity = "policies = [\"cow\"]\n\
        [workload]\nkind = \"generated\"\nrecords = 268435456\ntransactions = 10\n\
        [geometry]\nblock_size_bytes = 4096\nrecords_per_block = 1\n\
        [device]\nintegrity = true\n\
        [archive]\nsparse = true\n\
        [limits]\nvolume_bytes_max = 1099511627776\narchive_blocks_max = 300000000\n";
    let f = write(tmp.path(), "integrity.toml", integrity);
    let out = tmp.path().join("o");
    let o = owm(&["run", &f, "--out", &s(&out)]);
    refused(
        &o,
        &f,
        10,
        "device.integrity",
        &[
            "`limits.memory_bytes_max` (at its default, not set in the file)",
            "engine ",
            "of it is the engine's tables and integrity mode's checksums",
            "raise limits.memory_bytes_max, or set device.integrity = false",
        ],
        &out,
    );
    assert!(!stderr(&o).contains("fewer transactions"), "{}", stderr(&o));
}

/// A refusal by a bound just under the estimate gives both totals with their bytes, so
/// that the two differ: never "about 61.04 MiB, more than ... = 61.04 MiB".
#[test]
fn a_memory_refusal_just_over_the_bound_tells_the_two_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let body = "policies = [\"cow\"]\n[workload]\nkind = \"generated\"\ntransactions = 200\n";
    let f = write(
        tmp.path(),
        "one.toml",
        &format!("{body}[limits]\nmemory_bytes_max = 1\n"),
    );
    let o = owm(&["run", &f, "--out", &s(&tmp.path().join("o"))]);
    let err = stderr(&o);
    let from = err.find("would hold about ").unwrap() + 17;
    let rest = &err[from..];
    let words = &rest[..rest.find(" under").unwrap()];
    // A bound the two-decimal figures cannot tell from the estimate: the largest
    // that reads as it does and is refused.
    assert!(words.ends_with(" MiB"), "{words}");
    let mib = |b: u64| format!("{:.2} MiB", b as f64 / 1048576.0);
    let mut bound = ((parse_human(words) / 1048576.0 + 0.0049) * 1048576.0) as u64;
    let exact = loop {
        assert_eq!(mib(bound), words, "no bound reading {words} was refused");
        let f = write(
            tmp.path(),
            "near.toml",
            &format!("{body}[limits]\nmemory_bytes_max = {bound}\n"),
        );
        let o = owm(&["run", &f, "--out", &s(&tmp.path().join("o"))]);
        if code(&o) == 2 {
            break stderr(&o);
        }
        bound -= 1024;
    };
    let hold = exact.find("would hold about ").unwrap() + 17;
    let total: u64 = exact[hold..]
        .split(" bytes)")
        .next()
        .and_then(|t| t.rsplit('(').next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("the estimate in bytes: {exact}"));
    assert!(total > bound, "{exact}");
    assert!(
        exact.contains(&format!(
            "more than limits.memory_bytes_max = {words} ({bound} bytes)"
        )),
        "{exact}"
    );
}

/// A sweep's grid point is judged by its own estimate (one policy, no timeline, no
/// picture), the one `--jobs` adds up: a bound between it and `owm run`'s estimate of
/// the base file (both policies, the timeline, the pictures) lets the sweep run; a
/// bound under it refuses the sweep, naming the point's policy and that estimate.
#[test]
fn a_sweep_point_is_judged_by_its_own_memory_estimate() {
    let tmp = tempfile::tempdir().unwrap();
    let load = "[workload]\nkind = \"generated\"\ntransactions = 2000\n";
    let policies = "policies = [\"logging\", \"cow\"]\n";
    let f = write(
        tmp.path(),
        "run.toml",
        &format!("{policies}{load}[limits]\nmemory_bytes_max = 1\n"),
    );
    let o = owm(&["run", &f, "--out", &s(&tmp.path().join("r"))]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let run = memory_estimate_in(&stderr(&o));
    let sweep = |bound: u64, out: &str| {
        let f = write(
            tmp.path(),
            "sw.toml",
            &format!(
                "{policies}seeds = [1, 2]\n[scenario.workload]\nkind = \"generated\"\n\
                 transactions = 2000\n[scenario.limits]\nmemory_bytes_max = {bound}\n"
            ),
        );
        let out = tmp.path().join(out);
        let o = owm(&["sweep", &f, "--jobs", "1", "--out", &s(&out)]);
        (f, o, out)
    };
    let (_, o, _) = sweep(1, "p");
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let point = memory_estimate_in(&stderr(&o));
    fails_with(&o, &["under policy `"]);
    assert!(!stderr(&o).contains("timeline "), "{}", stderr(&o));
    assert!(point * 1.1 < run, "point {point} run {run}");
    // Between the two: the sweep runs, each point alone, with no note (nearer the
    // run's: the line plots drawn after the last point, of up to a panel a policy,
    // must fit beside the program too).
    let (_, o, out) = sweep(((point + 3.0 * run) / 4.0) as u64, "between");
    ok(&o);
    assert!(!stderr(&o).contains("memory_bytes_max"), "{}", stderr(&o));
    assert!(out.join("sweep.csv").exists());
    // Under the point's estimate: refused at the bound's line, naming the estimate.
    let (f, o, out) = sweep((point * 0.9) as u64, "under");
    refused(
        &o,
        &f,
        7,
        "scenario.limits.memory_bytes_max",
        &["the run would hold about", "under policy `"],
        &out,
    );
    assert!(
        (memory_estimate_in(&stderr(&o)) - point).abs() < 1.0,
        "{}",
        stderr(&o)
    );
}

/// A sweep keeps every grid point's row and verdicts for the whole grid: a grid that
/// fits `limits.memory_bytes_max` one point at a time but not with its rows and
/// verdicts beside is refused before any point runs (exit 2, nothing written), at the
/// bound's line, with the estimate, its parts and the keys that make the grid large at
/// their lines; the same file with fewer seeds runs. Left at its default (4 GiB), the
/// bound is refused at the `seeds` that make the grid large.
#[test]
fn a_sweep_whose_grid_passes_the_memory_bound_is_refused_before_any_point_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = |seeds: u64, limits: &str, out: &str| {
        // Past the default bound: at most 100,000 seeds, four transaction counts.
        let values = if limits.is_empty() {
            "[100, 200, 300, 400]"
        } else {
            "[100, 200]"
        };
        let f = write(
            tmp.path(),
            "grid.toml",
            &format!(
                "policies = [\"cow\"]\nseeds = \"1..={seeds}\"\n\
                 [[axis]]\nkey = \"workload.transactions\"\nvalues = {values}\n\
                 [scenario.workload]\nkind = \"generated\"\n{limits}"
            ),
        );
        let out = tmp.path().join(out);
        let o = owm(&["sweep", &f, "--jobs", "1", "--quiet", "--out", &s(&out)]);
        (f, o, out)
    };
    // 30 MB: one point (about 9.2 MiB) fits, 8,000 points' rows and verdicts do not.
    let bound = "[scenario.limits]\nmemory_bytes_max = 30000000\n";
    let (f, o, out) = sweep(4_000, bound, "large");
    refused(
        &o,
        &f,
        9,
        "scenario.limits.memory_bytes_max",
        &[
            "the sweep would hold about",
            "even one grid point at a time",
            "8000 rows kept",
            "their verdicts",
            "more than limits.memory_bytes_max = 28.61 MiB",
            "give fewer seeds (`seeds` at line 2: 4000), or fewer values of `axis.0` \
             `workload.transactions` (its `values` at line 5: 2), or raise \
             limits.memory_bytes_max",
        ],
        &out,
    );
    let err = stderr(&o);
    assert!(!err.contains("point 0"), "no point ran: {err}");
    let from = err.find("would hold about ").unwrap() + 17;
    let estimate = parse_human(&err[from..from + err[from..].find(" even").unwrap()]);
    assert!(estimate > 30e6, "{err}");
    // Fewer seeds: the grid fits beside one point, and runs.
    let (_, o, out) = sweep(4, bound, "small");
    ok(&o);
    assert!(out.join("sweep.csv").exists());
    // A bound that one point's run fits but that it passes beside a line plot without
    // any row kept (10 % above the run's own estimate, which a bound of 1 MB refuses
    // naming: the program's size differs between builds): fewer seeds or values cannot
    // help, and the refusal says to raise the bound, not to shrink the grid.
    let (_, o, _) = sweep(
        4,
        "[scenario.limits]\nmemory_bytes_max = 1000000\n",
        "probe",
    );
    let err = stderr(&o);
    let from = err
        .find("the run would hold about ")
        .expect("a run's estimate")
        + 25;
    let run_bytes = parse_human(&err[from..from + err[from..].find(" under").unwrap()]);
    let tight = format!(
        "[scenario.limits]\nmemory_bytes_max = {}\n",
        (run_bytes * 1.1) as u64
    );
    let (f, o, out) = sweep(4, &tight, "tight");
    refused(
        &o,
        &f,
        9,
        "scenario.limits.memory_bytes_max",
        &[
            "even one grid point at a time",
            "without the rows and verdicts of its 8 grid points it would still hold",
            "fewer seeds or values cannot bring it under; raise limits.memory_bytes_max",
        ],
        &out,
    );
    assert!(!stderr(&o).contains("give fewer seeds"), "{}", stderr(&o));
    // The bound at its default: refused at the key that makes the grid largest.
    let (f, o, out) = sweep(100_000, "", "default");
    refused(
        &o,
        &f,
        2,
        "seeds",
        &[
            "`scenario.limits.memory_bytes_max` (at its default, not set in the file)",
            "400000 rows kept",
            "more than limits.memory_bytes_max = 4.00 GiB",
            "give fewer seeds (`seeds` at line 2: 100000), or fewer values of `axis.0`",
        ],
        &out,
    );
}

/// A memory refusal is placed at the key that makes the run large, one the workload
/// has: Fig 3 (six processes, no `workload.transactions`) at `workload.updates_max`;
/// Fig 4/5 and generated loads of 10 transactions at the length of each
/// (`workload.updates_max`, `workload.length_max`), not at the records or the
/// transactions; the advice names no key the workload does not take.
#[test]
fn a_memory_refusal_blames_the_key_that_sizes_the_work() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    for (kind, body, line, key, less) in [
        (
            "fig3",
            "records = 64\nupdates_min = 1\nupdates_max = 40000000\n",
            6,
            "workload.updates_max",
            "give fewer updates per process (workload.updates_max)",
        ),
        (
            "fig4-5",
            "records = 64\ntransactions = 10\nupdates_max = 40000000\n",
            6,
            "workload.updates_max",
            "fewer updates each (workload.updates_max)",
        ),
        (
            "generated",
            "records = 4096\ntransactions = 10\nlength_max = 400000000\n",
            6,
            "workload.length_max",
            "or shorter ones (workload.length_max)",
        ),
    ] {
        let f = write(
            tmp.path(),
            &format!("{kind}.toml"),
            &format!("policies = [\"cow\"]\n[workload]\nkind = \"{kind}\"\n{body}"),
        );
        let o = owm(&["run", &f, "--out", &s(&out)]);
        refused(
            &o,
            &f,
            line,
            key,
            &[
                "`limits.memory_bytes_max` (at its default, not set in the file)",
                less,
            ],
            &out,
        );
        if kind == "fig3" {
            let err = stderr(&o);
            assert!(!err.contains("workload.transactions"), "{err}");
            assert!(!err.contains("fewer transactions"), "{err}");
        }
    }
}

/// `owm ARGS` whose regular files may not grow past `bytes` (`RLIMIT_FSIZE`, with
/// `SIGXFSZ` ignored so a write past it fails with `EFBIG`): a disk that fills.
fn owm_with_file_size_max(args: &[&str], bytes: u64) -> std::process::Output {
    use std::os::unix::process::CommandExt;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_owm"));
    cmd.args(args).current_dir(repo());
    // SAFETY: the closure runs in the child between fork and exec and calls only
    // async-signal-safe functions (signal, setrlimit).
    unsafe {
        cmd.pre_exec(move || {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: bytes,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.output().expect("owm runs")
}

/// A `trace.csv` that cannot be written (its disk full) stops the run at its next
/// safe point, not at its end: exit 2, the error naming the file and the tick the
/// run stopped at, which is early in a run whose file would be about 40 times the
/// room; nothing published, `--out` left as it was, no staging directory left.
#[test]
fn a_trace_that_cannot_be_written_stops_the_run_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let transactions = 20_000u64;
    let f = write(tmp.path(), "full.toml", &generated(transactions, ""));
    let room = 64 << 10;
    let o = owm_with_file_size_max(&["run", &f, "--out", &s(&out), "--quiet"], room);
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    fails_with(
        &o,
        &[
            "policy `cow` with seed 1 stopped at tick ",
            "trace.csv could not be written; nothing written",
            "trace.csv",
            "File too large",
        ],
    );
    let err = stderr(&o);
    let tick: u64 = err
        .split("stopped at tick ")
        .nth(1)
        .and_then(|t| t.split(':').next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("{err}"));
    // Arrivals every 200 ticks on average: the whole run lasts about 4 M ticks.
    let run_ticks = transactions * 200;
    assert!(tick < run_ticks / 10, "stopped at tick {tick}: {err}");
    assert!(!out.exists(), "--out was made");
    assert!(
        staging_left(tmp.path()).is_empty(),
        "{:?}",
        staging_left(tmp.path())
    );
    // The same run with room writes a trace.csv far larger than that room.
    ok(&owm(&["run", &f, "--out", &s(&out), "--quiet"]));
    let written = std::fs::metadata(out.join("trace.csv")).unwrap().len();
    assert!(written > 20 * room, "{written}");
}

/// A run whose bound allows it but whose estimate passes the memory the machine has
/// available is refused before it starts, at the bound's line, with both figures (exit
/// 2, nothing written): the bound's own advice, raise it, would otherwise lead to the
/// out-of-memory killer. The same file runs where the memory is there. The machine's
/// memory is given through `OWM_MEMORY_AVAILABLE_BYTES`.
#[test]
fn a_run_beyond_the_machines_memory_is_refused_before_it_starts() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "m.toml",
        "policies = [\"none\", \"cow\"]\n[workload]\nkind = \"generated\"\ntransactions = 200\n\
         [limits]\nmemory_bytes_max = 1099511627776\n",
    );
    let out = tmp.path().join("o");
    let o = owm_env(
        &["run", &f, "--out", &s(&out)],
        &[("OWM_MEMORY_AVAILABLE_BYTES", "20971520")],
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            &format!("{f}:6: key `limits.memory_bytes_max`: the run would hold about"),
            "more than the 20.00 MiB of memory this machine has available \
             (OWM_MEMORY_AVAILABLE_BYTES)",
            "(limits.memory_bytes_max = 1.00 TiB allows it)",
            "or free memory",
        ],
    );
    assert!(!out.exists(), "nothing written");
    let o = owm_env(
        &["run", &f, "--out", &s(&out)],
        &[("OWM_MEMORY_AVAILABLE_BYTES", "1073741824")],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // A value that is no number is said and ignored, never taken as "no check".
    let o = owm_env(
        &["run", &f, "--out", &s(&tmp.path().join("p"))],
        &[("OWM_MEMORY_AVAILABLE_BYTES", "abc")],
    );
    assert!(
        stderr(&o)
            .contains("OWM_MEMORY_AVAILABLE_BYTES=\"abc\" is not a whole number of bytes: ignored"),
        "{}",
        stderr(&o)
    );
}

/// A copy bound by VLUN A's reads under the users' load early in the copy: the words'
/// floor for the rest (the reads' own service and the sends at their pace so far,
/// without queueing) is at most the rest the copy then took (the same file run past
/// the cut) and near it, where the pace so far, inflated by that early load, is not
/// (the case that once said 163 s for a copy that took 15 s); the reads counted are
/// those done by the cut, never more time than has passed.
#[test]
fn a_device_bound_copys_rest_is_estimated_without_the_early_queueing() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        // Open arrivals every 2 ms on a 7,200 rpm disk, 1-block extents.
        "[workload]\nkind = \"generated\"\nrecords = 4096\ntransactions = 50\n\
         arrivals = { mode = \"open\", interarrival_ticks_mean = 2000 }\n\
         [device]\nprofile = \"hdd-7200\"\n[archive]\nextent_blocks = 1\n",
        // One client writing back to back, a target at 150,000 bytes/s.
        "[workload]\nkind = \"generated\"\nrecords = 65536\ntransactions = 40\n\
         length_min = 1\nlength_max = 1\nwrite_fraction = 1.0\n\
         arrivals = { mode = \"closed\", clients = 1, think_ticks_mean = 0 }\n\
         [device]\nprofile = \"hdd-7200\"\n[archive]\nbandwidth_bytes_per_s = 150000\n\
         [backup]\nrequest_at_ticks = 1000\n",
    ];
    for (i, body) in cases.iter().enumerate() {
        let cut_ticks: u64 = [5_000_000, 2_000_000][i];
        let file = |limit: u64| {
            format!("policies = [\"cow\"]\n{body}[limits]\ntime_ticks_max = {limit}\n")
        };
        let f = write(tmp.path(), "cut.toml", &file(cut_ticks));
        let o = owm(&["run", &f, "--out", &s(&tmp.path().join("cut"))]);
        assert_eq!(code(&o), 3, "{}", stderr(&o));
        let text = stderr(&o);
        let number_before = |marker: &str| -> f64 {
            let at = text
                .find(marker)
                .unwrap_or_else(|| panic!("lacks `{marker}`:\n{text}"));
            let head = &text[..at];
            let start = head.rfind(' ').unwrap() + 1;
            head[start..].parse().unwrap()
        };
        let idle_s = number_before(" s more, at the pace of that service");
        let elapsed_s = number_before(" s of virtual time, bound by VLUN A's reads");
        let reads_s = number_before(" s, ");
        assert!(reads_s <= elapsed_s, "case {i}: {text}");
        // The premise: the reads queued behind the users' calls.
        let service_s = number_before(" s of it the device's own service");
        assert!(service_s < reads_s, "case {i}: {text}");
        let f = write(tmp.path(), "whole.toml", &file(1_000_000_000));
        let out = tmp.path().join(format!("whole{i}"));
        let o = owm(&["run", &f, "--out", &s(&out), "--quiet"]);
        assert!(matches!(code(&o), 0 | 1), "{}", stderr(&o));
        let copied_ticks: u64 = csv_rows(&out, "trace.csv")
            .iter()
            .find(|r| r["event"] == "archive-copy")
            .expect("the copy completes")["time_ticks"]
            .parse()
            .unwrap();
        let rest_s = (copied_ticks - cut_ticks) as f64 / 1e6;
        assert!(
            idle_s <= rest_s + 0.05 && idle_s >= 0.75 * rest_s,
            "case {i}: said at least {idle_s} s, took {rest_s} s:\n{text}"
        );
    }
}
