//! The calibration experiment's script (`serve/bench/fio-phases.sh`): its parsing of
//! fio's output and its summary, on captured and made-up files (no fio run, no timing),
//! and `owm calibrate`'s profile and prediction on a small pattern.

use std::process::Command;

use super::harness::have;
use crate::util::{fails_with, names, ok, owm, repo, stderr, stdout, write};

/// A calibration from a profile: `profile.toml` holding `body` and an empty `cal`
/// directory, in a temporary directory of their own.
struct FromProfile {
    tmp: tempfile::TempDir,
    profile: String,
    dir: std::path::PathBuf,
}

impl FromProfile {
    fn new(body: &str) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let profile = write(tmp.path(), "profile.toml", body);
        let dir = tmp.path().join("cal");
        std::fs::create_dir(&dir).unwrap();
        FromProfile { tmp, profile, dir }
    }

    /// `DIR`, the path of the `cal` directory.
    fn d(&self) -> &str {
        self.dir.to_str().unwrap()
    }

    /// `owm calibrate DIR --profile PROFILE EXTRA…`.
    fn run(&self, extra: &[&str]) -> std::process::Output {
        let mut args = vec!["calibrate", self.d(), "--profile", &self.profile];
        args.extend_from_slice(extra);
        owm(&args)
    }
}

fn script(args: &[&str]) -> std::process::Output {
    Command::new("bash")
        .arg(repo().join("serve/bench/fio-phases.sh"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("bash runs")
}

/// fio's NBD engine prints "fio: connected to NBD server" before its JSON document;
/// the script reads the document from its first line starting with `{`.
#[test]
fn the_script_parses_fio_json_after_the_nbd_preamble() {
    if !have(&["bash", "python3"]) {
        return;
    }
    let captured = repo().join("tests/data/fio/nbd-randwrite.out");
    let text = std::fs::read_to_string(&captured).unwrap();
    assert!(
        text.starts_with("fio: connected to NBD server\n{"),
        "{text:.60}"
    );
    let o = script(&["--parse", captured.to_str().unwrap()]);
    ok(&o);
    // write.iops 64000, write.lat_ns.mean 113747.0 ns in the captured run.
    assert_eq!(stdout(&o), "64000,113.7\n");

    // fio failed: no JSON document, a non-zero exit that says so.
    let tmp = tempfile::tempdir().unwrap();
    let bad = write(
        tmp.path(),
        "bad.out",
        "fio: connected to NBD server\nfio: pid=1, err=5\n",
    );
    let o = script(&["--parse", &bad]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no JSON document"));
}

/// The summary: medians over rounds, slowdowns against the phase before the split (per
/// round, then the median), the ratio to the raw file, measured vs predicted.
#[test]
fn the_script_summarises_rounds_into_medians_slowdowns_and_ratios() {
    if !have(&["bash", "python3"]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let csv = write(
        tmp.path(),
        "run.csv",
        "round,target,phase,iodepth,iops,lat_us_mean\n\
         1,raw file (nbdkit file),-,1,1000,100.0\n\
         2,raw file (nbdkit file),-,1,500,200.0\n\
         1,sim cow,before split,1,1000,100.0,1.00\n\
         1,sim cow,backup window,1,100,1000.0,10.00\n\
         2,sim cow,before split,1,1000,100.0,1.00\n\
         2,sim cow,backup window,1,100,1000.0,10.00\n\
         1,cow,before split,1,1000,100.0\n\
         1,cow,backup window,1,200,500.0\n\
         2,cow,before split,1,500,200.0\n\
         2,cow,backup window,1,200,600.0\n",
    );
    let o = script(&["--summary", &csv]);
    ok(&o);
    let out = stdout(&o);
    // Slowdown per round 5 and 3: median 4; iops / raw per round 0.2 and 0.4.
    assert!(
        out.contains("cow,backup window,1,2,\"200 (200-200)\",\"550.0 (500.0-600.0)\",\"4.00 (3.00-5.00)\",\"0.30 (0.20-0.40)\""),
        "{out}"
    );
    // Predicted 10 against measured 4.
    assert!(
        out.contains("cow,backup window,1,4.00,10.00,2.50,550.0,1000.0,1.82"),
        "{out}"
    );
    // A run or barrier file with a column's name from before the unit came before the
    // statistic is refused, naming the new name.
    let text = std::fs::read_to_string(&csv).unwrap();
    let old = write(
        tmp.path(),
        "old.csv",
        &text.replacen("lat_us_mean", "lat_mean_us", 1),
    );
    let o = script(&["--summary", &old]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("`lat_mean_us` is now `lat_us_mean`"), "{err}");
    let barriers = write(
        tmp.path(),
        "barriers.csv",
        "round,variant,phase,iodepth,writes,engine_write_mean_us,image_flushes,\
         image_flush_us_mean,journal_syncs,journal_sync_us_mean\n",
    );
    let o = script(&["--summary", &csv, &barriers]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("`engine_write_mean_us` is now `engine_write_us_mean`"),
        "{err}"
    );
}

/// `owm calibrate`: a profile the simulator accepts, and one predicted line per
/// variant, phase and queue depth, the backup window of the table variants dearer than
/// the phase before the split (it pays an image flush and a journal sync per write).
#[test]
fn calibrate_writes_a_profile_and_predicts_every_phase() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cal");
    let d = dir.to_str().unwrap();
    // A directory that does not exist is refused, not made (exit 2).
    let o = owm(&["calibrate", d, "--samples", "20", "--pattern-writes", "64"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    fails_with(&o, &[d, "does not exist"]);
    assert!(!dir.exists(), "made by a refused calibrate");
    std::fs::create_dir(&dir).unwrap();
    let o = owm(&[
        "calibrate",
        d,
        "--samples",
        "20",
        "--pattern-writes",
        "64",
        "--baseline-latency-us",
        "40",
    ]);
    ok(&o);
    let profile = std::fs::read_to_string(dir.join("device-profile.toml")).unwrap();
    assert!(profile.contains("journaled = true"), "{profile}");
    // The profile is a scenario's [device] table: a run file built on it runs.
    let trace = dir.join("calibrate-pattern-qd1.csv");
    let run = write(
        tmp.path(),
        "run.toml",
        &format!(
            "policies = [\"cow\"]\n[workload]\nkind = \"trace\"\npath = {:?}\nformat = \"csv\"\ntiming = \"closed\"\n\
             [geometry]\nblock_size_bytes = 4096\nrecords_per_block = 1\n\n{profile}",
            trace.to_str().unwrap()
        ),
    );
    let out = tmp.path().join("out");
    ok(&owm(&["run", &run, "--out", out.to_str().unwrap()]));

    let text = stdout(&o);
    let rows: Vec<Vec<&str>> = text
        .lines()
        .filter(|l| {
            l.starts_with("mirroring,") || l.starts_with("logging,") || l.starts_with("cow,")
        })
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), 3 * 3 * 2, "{text}");
    let lat = |v: &str, phase: &str, qd: &str| -> f64 {
        let r = rows
            .iter()
            .find(|r| r[0] == v && r[1] == phase && r[2] == qd)
            .unwrap_or_else(|| panic!("{v} {phase} {qd} missing:\n{text}"));
        r[4].parse().unwrap()
    };
    for qd in ["1", "8"] {
        for v in ["logging", "cow"] {
            assert!(
                lat(v, "backup window", qd) > lat(v, "before split", qd),
                "{v} qd{qd}"
            );
        }
        // Mirroring pays its dirty mark's journal sync before the split only.
        assert!(lat("mirroring", "before split", qd) > lat("mirroring", "after retire", qd));
    }
}

/// `--block-size` takes what a scenario's `geometry.block_size_bytes` does for one
/// record per block: a multiple of 8 bytes from 16 to 16 MiB. Anything else is refused
/// naming the flag (exit 2)
/// before a scratch file is made; the smallest block size is measured and its scratch
/// files removed.
#[test]
fn calibrate_refuses_a_block_size_out_of_range() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().to_str().unwrap();
    let entries = || std::fs::read_dir(tmp.path()).unwrap().count();
    for bs in ["536870912", "16777224", "0", "8", "12", "4294967296", "4k"] {
        let o = owm(&["calibrate", d, "--block-size", bs, "--samples", "10"]);
        assert_eq!(o.status.code(), Some(2), "{bs}: {}", stderr(&o));
        fails_with(&o, &["--block-size", "a multiple of 8 from 16 to 16777216"]);
        assert_eq!(entries(), 0, "{bs}: a refused calibrate left files in DIR");
    }
    let o = owm(&[
        "calibrate",
        d,
        "--block-size",
        "16",
        "--samples",
        "10",
        "--pattern-writes",
        "1",
    ]);
    ok(&o);
    let left = names(tmp.path());
    assert_eq!(
        left,
        [
            "calibrate-pattern-qd1.csv",
            "calibrate-pattern-qd8.csv",
            "device-profile.toml"
        ]
    );
}

/// Mirroring's backup window on a device whose journal sync is dear: the window's
/// writes (image B only, no sync) are thousands of times faster than the writes before
/// the split (a dirty mark's journal sync each). The slowdown column keeps two
/// significant digits instead of `0.00`, and a note after the table says why. With
/// `--profile` nothing is measured, but the pattern's two traces stay in DIR, as
/// README says; a DIR that cannot take them fails the command with nothing printed.
#[test]
fn calibrate_prints_a_small_slowdown_and_says_why() {
    let cal = FromProfile::new(
        "[device]\nread_latency_ticks = 10\nwrite_latency_ticks = 10\n\
         table_update_latency_ticks = 1\ntable_lookup_latency_ticks = 0\n\
         flush_latency_ticks = 100000\njournal_sync_latency_ticks = 100000\n\
         journaled = true\njournal_lane = true\nchannels = 8\njitter_ticks_max = 0\n",
    );
    let o = cal.run(&["--pattern-writes", "16"]);
    ok(&o);
    let left = names(&cal.dir);
    assert_eq!(
        left,
        ["calibrate-pattern-qd1.csv", "calibrate-pattern-qd8.csv"]
    );
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(
        readme.contains("`calibrate-pattern-qd1.csv` and `calibrate-pattern-qd8.csv`"),
        "README does not say what calibrate leaves in DIR"
    );
    let unwritable = owm(&[
        "calibrate",
        "/sys",
        "--profile",
        &cal.profile,
        "--pattern-writes",
        "16",
    ]);
    assert_eq!(unwritable.status.code(), Some(2), "{}", stderr(&unwritable));
    fails_with(
        &unwritable,
        &["calibrate-pattern-qd1.csv", "cannot write the pattern"],
    );
    assert_eq!(stdout(&unwritable), "", "printed before the failure");
    let text = stdout(&o);
    let window: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("mirroring,backup window,"))
        .collect();
    assert_eq!(window.len(), 2, "{text}");
    for row in window {
        let slowdown = row.rsplit(',').next().unwrap();
        let r: f64 = slowdown.parse().unwrap();
        assert!(r > 0.0 && r < 0.01, "{row}");
        assert!(
            text.lines()
                .any(|l| l.starts_with("note: mirroring backup window")
                    && l.contains(&format!("slowdown {slowdown} "))
                    && l.contains("image B only")),
            "{text}"
        );
    }
}

/// A device slower than one write a second (a 2 s write): the predicted IOPS are below
/// 1 and printed with two significant digits, not as `0`. At queue depth 1 (closed
/// loop, one write at a time) the rate is the inverse of the mean latency, so every
/// such row's IOPS agrees with its `lat_us_mean` to the digits printed.
#[test]
fn calibrate_prints_a_rate_below_one_write_a_second() {
    let cal = FromProfile::new(
        "[device]\nread_latency_ticks = 10\nwrite_latency_ticks = 2000000\n\
         table_update_latency_ticks = 1\ntable_lookup_latency_ticks = 0\n\
         flush_latency_ticks = 10\njournal_sync_latency_ticks = 10\n\
         journaled = true\njournal_lane = true\nchannels = 8\njitter_ticks_max = 0\n",
    );
    let o = cal.run(&["--pattern-writes", "4"]);
    ok(&o);
    let text = stdout(&o);
    let rows: Vec<Vec<&str>> = text
        .lines()
        .filter(|l| l.contains(",1,") && l.split(',').count() == 6)
        .map(|l| l.split(',').collect())
        .filter(|r: &Vec<&str>| r[2] == "1")
        .collect();
    assert_eq!(rows.len(), 3 * 3, "{text}");
    for r in rows {
        let iops: f64 = r[3].parse().unwrap();
        let lat_us: f64 = r[4].parse().unwrap();
        assert!(iops > 0.0 && iops < 1.0, "{r:?}");
        assert_eq!(r[3].trim_start_matches("0.").len(), 2, "{r:?}: two digits");
        assert!((iops * lat_us / 1e6 - 1.0).abs() < 0.02, "{r:?}");
    }
}

/// `--out` naming a file the command itself writes in DIR (a pattern trace), however
/// spelled, or its `--barrier-timings` input, is refused before anything
/// is measured or written (exit 2), naming both.
#[test]
fn calibrate_refuses_an_out_it_would_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cal");
    std::fs::create_dir(&dir).unwrap();
    let d = dir.to_str().unwrap();
    let timings = write(
        tmp.path(),
        "timings.json",
        "{\"barriers\":{\"image_a_flush\":{\"count\":1,\"latency_us_sum\":4}}}",
    );
    let spelled = format!("{d}/../cal/calibrate-pattern-qd1.csv");
    for (out, names) in [
        (spelled.as_str(), "calibrate-pattern-qd1.csv"),
        (
            &format!("{d}/calibrate-pattern-qd8.csv"),
            "calibrate-pattern-qd8.csv",
        ),
        (timings.as_str(), "--barrier-timings"),
    ] {
        let o = owm(&[
            "calibrate",
            d,
            "--samples",
            "10",
            "--pattern-writes",
            "16",
            "--barrier-timings",
            &timings,
            "--out",
            out,
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        fails_with(&o, &[out, names, "another file"]);
        assert_eq!(stdout(&o), "", "printed before the refusal");
        assert!(
            std::fs::read_dir(&dir).unwrap().next().is_none(),
            "written by a refused calibrate"
        );
        assert!(std::fs::read_to_string(&timings)
            .unwrap()
            .starts_with("{\"barriers\""));
    }
}

/// `--profile FILE` errors name FILE: a value past its bound at its line and key, a
/// device too slow for the pattern in words (which phase, what to change), never the
/// simulator's internal record; nothing is printed on stdout before either (exit 2).
#[test]
fn calibrate_profile_errors_name_the_profile() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cal");
    std::fs::create_dir(&dir).unwrap();
    let big = write(
        tmp.path(),
        "big.toml",
        "[device]\nread_latency_ticks = 9000000000000000000\n",
    );
    let slow = write(
        tmp.path(),
        "slow.toml",
        "[device]\ntransfer_bytes_per_s = 1\n",
    );
    let run = |profile: &str| {
        owm(&[
            "calibrate",
            dir.to_str().unwrap(),
            "--profile",
            profile,
            "--pattern-writes",
            "16",
        ])
    };
    let o = run(&big);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    fails_with(
        &o,
        &[
            &format!("{big}:2: key `device.read_latency_ticks`"),
            "exceeds",
        ],
    );
    assert_eq!(stdout(&o), "", "printed before the failure");
    let o = run(&slow);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    fails_with(
        &o,
        &[
            &slow,
            "before split",
            "past the backup request",
            "device.transfer_bytes_per_s",
        ],
    );
    assert!(!stderr(&o).contains("Marks {"), "{}", stderr(&o));
    assert_eq!(stdout(&o), "", "printed before the failure");
    // A latency so long that the pattern's run passes the simulator's time limit: the
    // profile's largest latency is named at its line, with what to lower.
    for key in [
        "write_latency_ticks",
        "read_latency_ticks",
        "table_update_latency_ticks",
        "flush_latency_ticks",
    ] {
        let f = write(
            tmp.path(),
            "limit.toml",
            &format!("[device]\nchannels = 4\n{key} = 1099511627776\n"),
        );
        let o = run(&f);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        fails_with(
            &o,
            &[
                &format!("{f}:3: key `device.{key}`: 1099511627776 ticks: the pattern's run"),
                "virtual time past",
                "lower this latency (the largest of the profile's) or --pattern-writes",
            ],
        );
        assert_eq!(stdout(&o), "", "printed before the failure");
    }
}

/// A `--profile` holds one table, `[device]`: any other top-level table or key (a
/// misspelt `[devicex]`, a dotted `devicex.k`, a scenario's `policies`) is refused at
/// its line, named as unknown, even when a `[device]` follows; nothing is printed
/// and nothing written (exit 2).
#[test]
fn calibrate_refuses_an_unknown_profile_table_at_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cal");
    std::fs::create_dir(&dir).unwrap();
    let device = "[device]\nread_latency_ticks = 100\nwrite_latency_ticks = 100\n";
    for (text, line, name, what) in [
        (
            "[devicex]\nread_latency_ticks = 100\n".to_string(),
            1,
            "devicex",
            "table",
        ),
        (
            format!("# measured\n{device}[extra]\nx = 1\n"),
            5,
            "extra",
            "table",
        ),
        (
            format!("devicex.read_latency_ticks = 1\n{device}"),
            1,
            "devicex",
            "table",
        ),
        (
            format!("policies = [\"cow\"]\n{device}"),
            1,
            "policies",
            "key",
        ),
    ] {
        let profile = write(tmp.path(), "p.toml", &text);
        let o = owm(&[
            "calibrate",
            dir.to_str().unwrap(),
            "--profile",
            &profile,
            "--pattern-writes",
            "16",
        ]);
        assert_eq!(o.status.code(), Some(2), "{text}: {}", stderr(&o));
        fails_with(
            &o,
            &[&format!(
                "{profile}:{line}: key `{name}`: unknown {what} `{name}` (expected `[device]`, \
                 the one table a device profile holds)"
            )],
        );
        assert!(!stderr(&o).contains("missing field"), "{}", stderr(&o));
        assert_eq!(stdout(&o), "", "printed before the failure");
        assert_eq!(
            names(&dir),
            Vec::<String>::new(),
            "written by a refused calibrate"
        );
    }
}

/// The documented `--pattern-writes` range runs whatever the region's size: a region
/// of 128 blocks of 16 MiB (2 GiB: past the simulator's default volume limit, and an
/// archive copy of 21 s at 100 MB/s, longer than the 10 s before the writers start)
/// is predicted in every phase; past the range the flag is refused naming its
/// largest value, before anything is written (exit 2).
#[test]
fn calibrate_runs_a_large_region_and_refuses_past_the_range() {
    let cal = FromProfile::new(
        "[device]\nread_latency_ticks = 4\nwrite_latency_ticks = 8\n\
         flush_latency_ticks = 264\njournal_sync_latency_ticks = 429\n",
    );
    let o = cal.run(&["--block-size", "16777216", "--pattern-writes", "128"]);
    ok(&o);
    let rows = stdout(&o)
        .lines()
        .filter(|l| l.split(',').count() == 6 && !l.starts_with("variant,"))
        .count();
    assert_eq!(rows, 18, "{}", stdout(&o));
    for n in ["1048577", "10000001", "16777216"] {
        let o = cal.run(&["--pattern-writes", n]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        fails_with(&o, &["--pattern-writes", "1..=1048576"]);
    }
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(
        readme.contains("`--pattern-writes` 1 to 1048576"),
        "README's range"
    );
}

/// A `--baseline-latency-us` above 0 but below 0.5 µs, which the simulator's whole µs
/// round to no baseline, is refused at the flag (exit 2), nothing written; 0.5 runs.
#[test]
fn calibrate_refuses_a_baseline_that_rounds_to_none() {
    let cal = FromProfile::new(
        "[device]\nread_latency_ticks = 4\nwrite_latency_ticks = 0\n\
         flush_latency_ticks = 264\njournal_sync_latency_ticks = 429\n",
    );
    let run = |us: &str| cal.run(&["--pattern-writes", "10", "--baseline-latency-us", us]);
    for us in ["1e-300", "0.3", "0.4999"] {
        let o = run(us);
        assert_eq!(o.status.code(), Some(2), "{us}: {}", stderr(&o));
        fails_with(
            &o,
            &[
                "--baseline-latency-us",
                &format!("`{us}`: below 0.5 µs, which rounds to no baseline"),
            ],
        );
        assert_eq!(stdout(&o), "", "printed before the failure");
        assert_eq!(names(&cal.dir), Vec::<String>::new(), "{us}: written");
    }
    // 0.5 µs is 1 µs of baseline: a write that costs something, predicted.
    ok(&run("0.5"));
}

/// `--samples` sets how much is measured: beside `--profile`, which measures nothing,
/// it is refused naming both (exit 2), nothing written; its default is not.
#[test]
fn calibrate_refuses_samples_beside_a_profile() {
    let cal = FromProfile::new("[device]\nread_latency_ticks = 4\nwrite_latency_ticks = 8\n");
    let o = cal.run(&["--pattern-writes", "4", "--samples", "50"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    fails_with(&o, &["--profile", "cannot be used with", "--samples"]);
    assert_eq!(stdout(&o), "");
    assert_eq!(names(&cal.dir), Vec::<String>::new(), "written");
    ok(&cal.run(&["--pattern-writes", "4"]));
}

/// A `--profile` that gives a journal sync itself on a device without the journal
/// (`journaled = false`) is told the sync is priced nowhere, as a scenario would refuse
/// the key; not when the journal is on, nor when the sync comes from a named profile.
#[test]
fn calibrate_says_when_a_profiles_journal_sync_is_priced_nowhere() {
    let note = "note: the profile's journal sync (900 ticks) is priced nowhere: its \
                `journaled = false` leaves it unused";
    for (text, said) in [
        ("[device]\njournal_sync_latency_ticks = 900\n", true),
        (
            "[device]\njournal_sync_latency_ticks = 900\njournaled = true\n",
            false,
        ),
        ("[device]\nprofile = \"hdd-7200\"\n", false),
    ] {
        let cal = FromProfile::new(text);
        let o = cal.run(&["--pattern-writes", "4"]);
        ok(&o);
        assert_eq!(stdout(&o).contains(note), said, "{text}: {}", stdout(&o));
        assert!(
            said || !stdout(&o).contains("is priced nowhere"),
            "{text}: {}",
            stdout(&o)
        );
    }
}

/// A `--baseline-latency-us` that does not pass the profile's block write (8 µs) by
/// half a µs spends nothing outside the device: the plain volume's writes take the
/// block write, and the output says so; one above it is spent outside and not noted.
#[test]
fn calibrate_says_when_the_baseline_is_below_the_block_write() {
    let cal = FromProfile::new(
        "[device]\nread_latency_ticks = 4\nwrite_latency_ticks = 8\n\
         flush_latency_ticks = 264\njournal_sync_latency_ticks = 429\n",
    );
    let note = "does not pass the profile's block write (8 µs) by half a µs: no time is \
                spent outside the device, and the plain volume's writes take the block \
                write, not the baseline";
    for (us, noted, outside) in [("2", true, 0), ("8.4", true, 0), ("20", false, 12)] {
        let o = cal.run(&["--pattern-writes", "4", "--baseline-latency-us", us]);
        ok(&o);
        let text = stdout(&o);
        assert_eq!(
            text.contains(&format!("--baseline-latency-us {us} {note}")),
            noted,
            "{us}: {text}"
        );
        assert!(
            text.contains(&format!("{outside} ticks outside the device per write")),
            "{us}: {text}"
        );
    }
}

/// Errors name the input that causes them, and a failed calibrate leaves DIR as it
/// was: an in-range `--baseline-latency-us` that runs with few writes, and is refused
/// with many naming both flags; a profile whose writes cost nothing refused at its
/// file, line and key; a profile too slow for the pattern fails after the new traces
/// were written, and the previous run's pair stays (no new qd1 beside an old qd8, no
/// temporary file left).
#[test]
fn calibrate_blames_the_right_input_and_keeps_the_previous_pair() {
    let cal = FromProfile::new(
        "[device]\nread_latency_ticks = 4\nwrite_latency_ticks = 8\n\
         flush_latency_ticks = 264\njournal_sync_latency_ticks = 429\n",
    );
    let (tmp, profile, dir) = (&cal.tmp, &cal.profile, &cal.dir);
    let d = cal.d();
    let run = |profile: &str, extra: &[&str]| {
        let mut args = vec!["calibrate", d, "--profile", profile];
        args.extend_from_slice(extra);
        owm(&args)
    };
    // 10 writes of 1000 s each fit a phase's run: predicted, each write ~10^9 µs.
    let o = run(
        profile,
        &[
            "--pattern-writes",
            "10",
            "--baseline-latency-us",
            "1000000000",
        ],
    );
    ok(&o);
    let lat: Vec<f64> = stdout(&o)
        .lines()
        .filter(|l| l.starts_with("cow,"))
        .map(|l| l.split(',').nth(4).unwrap().parse().unwrap())
        .collect();
    assert_eq!(lat.len(), 6, "{}", stdout(&o));
    assert!(lat.iter().all(|&l| (1e9..1.001e9).contains(&l)), "{lat:?}");
    let pair = |n: usize| {
        for qd in ["1", "8"] {
            let t =
                std::fs::read_to_string(dir.join(format!("calibrate-pattern-qd{qd}.csv"))).unwrap();
            assert_eq!(t.lines().count(), n + 2, "qd{qd}");
        }
        assert_eq!(
            names(dir),
            ["calibrate-pattern-qd1.csv", "calibrate-pattern-qd8.csv"]
        );
    };
    pair(10);
    // 100 of them do not: refused up front naming both flags.
    let o = run(
        profile,
        &[
            "--pattern-writes",
            "100",
            "--baseline-latency-us",
            "1000000000",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    fails_with(
        &o,
        &["--baseline-latency-us 1000000000", "--pattern-writes 100"],
    );
    assert!(!stderr(&o).contains("profile"), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    pair(10);
    // A profile whose writes cost nothing: no IOPS or slowdown to predict.
    let zero = write(
        tmp.path(),
        "zero.toml",
        "[device]\nread_latency_ticks=0\nwrite_latency_ticks=0\nflush_latency_ticks=0\n\
         journal_sync_latency_ticks=0\n",
    );
    let o = run(&zero, &["--pattern-writes", "12"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    fails_with(
        &o,
        &[&format!("{zero}:3: key `device.write_latency_ticks`")],
    );
    assert_eq!(stdout(&o), "");
    pair(10);
    // With a baseline the same profile prices every write: finite figures throughout.
    let o = run(
        &zero,
        &["--pattern-writes", "12", "--baseline-latency-us", "50"],
    );
    ok(&o);
    let text = stdout(&o);
    assert!(!text.contains("NaN") && !text.contains("inf"), "{text}");
    pair(12);
    // A device too slow for the pattern fails in the runs, after the new traces were
    // written: the previous pair stays.
    let slow = write(
        tmp.path(),
        "slow.toml",
        "[device]\ntransfer_bytes_per_s = 1\n",
    );
    let o = run(&slow, &["--pattern-writes", "20"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    fails_with(&o, &[&slow, "past the backup request"]);
    pair(12);
}

/// The QD1 write latency of each device profile, µs, as scenarios/README.md's
/// measured table ("Profiles") gives it: `(profile, QD1 write)`.
fn readme_qd1_writes_us() -> Vec<(String, f64)> {
    let text = std::fs::read_to_string(repo().join("scenarios/README.md")).unwrap();
    let header = "| profile | QD1 read | QD1 write | sustained reads/s | sustained writes/s |";
    let at = text.find(header).expect("the profiles' measured table");
    let rows: Vec<(String, f64)> = text[at..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let name = cells[1].trim_matches(|c| c == '`' || c == '"').to_string();
            (name, cells[3].replace(',', "").parse().unwrap())
        })
        .collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
    rows
}

/// `(variant, phase, iodepth) -> (iops, lat_us_mean)` of a calibrate table.
fn table(text: &str) -> std::collections::BTreeMap<(String, String, u32), (f64, f64)> {
    text.lines()
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|r| r.len() == 6 && r[2].parse::<u32>().is_ok())
        .map(|r| {
            (
                (r[0].to_string(), r[1].to_string(), r[2].parse().unwrap()),
                (r[3].parse().unwrap(), r[4].parse().unwrap()),
            )
        })
        .collect()
}

/// fio's random writes are blind, and calibrate prices them so: on every shipped
/// device profile the QD1 write before the split of write logging and copy-on-write
/// (nothing added by the variant) costs the profile's own QD1 write (README's table,
/// within 5 %), at its inverse in IOPS; mirroring's, two image writes. No write of the
/// pattern reads: raising the profile's read latency 100-fold changes no phase without
/// a copy (before the split, after retire; logging's window). The output says so.
#[test]
fn calibrate_prices_the_pattern_as_blind_writes_on_every_profile() {
    for (profile, write_us) in readme_qd1_writes_us() {
        let run = |extra: &str| {
            let cal = FromProfile::new(&format!("[device]\nprofile = \"{profile}\"\n{extra}"));
            let o = cal.run(&["--pattern-writes", "16"]);
            ok(&o);
            stdout(&o)
        };
        let text = run("");
        assert!(
            text.contains("blind (each writes its whole block without reading it"),
            "{text}"
        );
        let t = table(&text);
        let at = |v: &str, p: &str, qd: u32| t[&(v.to_string(), p.to_string(), qd)];
        for variant in ["logging", "cow"] {
            let (iops, lat) = at(variant, "before split", 1);
            assert!(
                (lat / write_us - 1.0).abs() < 0.05,
                "{profile} {variant}: {lat} us against the profile's QD1 write {write_us}"
            );
            assert!(
                (iops * lat / 1e6 - 1.0).abs() < 0.02,
                "{profile}: {iops} IOPS"
            );
        }
        let (_, mirrored) = at("mirroring", "before split", 1);
        assert!(
            (mirrored / (2.0 * write_us) - 1.0).abs() < 0.05,
            "{profile} mirroring: {mirrored} us against two writes of {write_us}"
        );
        let named: sim::DeviceProfile = serde_json::from_str(&format!("\"{profile}\"")).unwrap();
        let default_read = named.config().read_latency_ticks;
        let slow = table(&run(&format!(
            "read_latency_ticks = {}\n",
            default_read * 100
        )));
        for ((variant, phase, qd), v) in &t {
            if phase != "backup window" || variant == "logging" {
                assert_eq!(
                    slow[&(variant.clone(), phase.clone(), *qd)],
                    *v,
                    "{profile} {variant} {phase} qd{qd} depends on the read latency"
                );
            }
        }
    }
}

/// Barrier timings whose journal sync a device without the metadata journal never
/// pays (`journaled = false`, as `hdd-7200`; or `--without-journal`): the output says
/// the timed sync is priced nowhere; a journaled profile prices it, with no such note.
#[test]
fn calibrate_says_when_a_timed_journal_sync_is_priced_nowhere() {
    let timings = r#"{"barriers":{"image_a_flush":{"count":2,"latency_us_sum":200.0},"image_b_flush":{"count":2,"latency_us_sum":600.0},"journal_fdatasync":{"count":4,"latency_us_sum":400.0},"superblock_write":{"count":4,"latency_us_sum":40.0}}}"#;
    let note = "note: the timed journal sync (110.0 us) is priced nowhere";
    for (profile, extra, unused) in [
        (
            "[device]\nprofile = \"hdd-7200\"\n",
            None,
            Some("`journaled = false`"),
        ),
        (
            "[device]\nprofile = \"hdd-7200\"\njournaled = true\n",
            None,
            None,
        ),
        (
            "[device]\nprofile = \"hdd-7200\"\njournaled = true\n",
            Some("--without-journal"),
            Some("--without-journal prices a device without the metadata journal"),
        ),
    ] {
        let cal = FromProfile::new(profile);
        let bt = write(cal.tmp.path(), "bt.json", timings);
        let mut args = vec!["--barrier-timings", bt.as_str(), "--pattern-writes", "4"];
        args.extend(extra);
        let o = cal.run(&args);
        ok(&o);
        let text = stdout(&o);
        match unused {
            Some(why) => assert!(
                text.lines().any(|l| l.starts_with(note) && l.contains(why)),
                "{profile} {extra:?}: {text}"
            ),
            None => assert!(!text.contains(note), "{profile}: {text}"),
        }
    }
}
