//! `owm sweep` and `owm merge`: sharded runs merge into the unsharded bytes.

use std::path::Path;

use crate::util::*;

/// 3 write fractions x 2 policies x 2 seeds = 12 small grid points.
const SWEEP: &str = r#"
title = "tiny"
policies = ["mirroring", "cow"]
seeds = [1, 2]
x = "workload.write_fraction"
metrics = ["physical_writes_per_logical_write", "extra_space_blocks_peak"]

[[axis]]
key = "workload.write_fraction"
values = [0.2, 0.5, 0.8]

[scenario.workload]
kind = "generated"
records = 64
transactions = 40
arrivals = { mode = "open", interarrival_ticks_mean = 30 }
"#;

fn files(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| n != "shard.toml" && n != "points.json")
        .collect()
}

#[test]
fn all_shards_merged_equal_one_unsharded_run_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "tiny.toml", SWEEP);
    let whole = tmp.path().join("whole");
    ok(&owm(&["sweep", &f, "--out", &s(&whole)]));
    let csv = String::from_utf8(bytes(&whole, "sweep.csv")).unwrap();
    assert_eq!(csv.lines().count(), 13, "header + 12 points:\n{csv}");
    let mut parts = Vec::new();
    let mut rows = 0;
    for k in 1..=3 {
        let d = tmp.path().join(format!("part{k}"));
        ok(&owm(&[
            "sweep",
            &f,
            "--shard",
            &format!("{k}/3"),
            "--out",
            &s(&d),
        ]));
        let part = String::from_utf8(bytes(&d, "sweep.csv")).unwrap();
        for line in part.lines().skip(1) {
            let index: u64 = line.split(',').next().unwrap().parse().unwrap();
            assert_eq!(index % 3, k - 1, "shard {k}/3 ran point {index}");
            rows += 1;
        }
        parts.push(s(&d));
    }
    assert_eq!(rows, 12, "the shards together ran every point once");
    let merged = tmp.path().join("merged");
    // Out of order on purpose: merge sorts by grid index.
    let mut args = vec![
        "merge",
        parts[2].as_str(),
        parts[0].as_str(),
        parts[1].as_str(),
        "--out",
    ];
    let m = s(&merged);
    args.push(&m);
    ok(&owm(&args));
    assert_eq!(files(&whole), files(&merged));
    assert!(files(&whole).iter().filter(|n| n.ends_with(".svg")).count() == 2);
    for name in files(&whole) {
        if name.ends_with(".csv") || name.ends_with(".svg") || name.ends_with(".toml") {
            assert!(
                bytes(&whole, &name) == bytes(&merged, &name),
                "{name} differs after merge"
            );
        }
    }
}

/// A merge refuses a shard missing, a shard given twice, a shard of another shard
/// count and a shard of another sweep (exit 2, named).
#[test]
fn merge_refuses_an_incomplete_or_mixed_set() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "tiny.toml", SWEEP);
    let p1 = s(&tmp.path().join("p1"));
    let p2 = s(&tmp.path().join("p2"));
    ok(&owm(&["sweep", &f, "--shard", "1/2", "--out", &p1]));
    ok(&owm(&["sweep", &f, "--shard", "2/2", "--out", &p2]));
    let out = s(&tmp.path().join("m"));
    fails_with(
        &owm(&["merge", &p1, "--out", &out]),
        &["shard 2/2 is missing", "grid index 1"],
    );
    fails_with(
        &owm(&["merge", &p1, &p1, &p2, "--out", &out]),
        &["shard 1/2", "given twice"],
    );
    // A shard of another shard count: said so, though its K is one given already.
    let q1 = s(&tmp.path().join("q1"));
    ok(&owm(&["sweep", &f, "--shard", "1/3", "--out", &q1]));
    let o = owm(&["merge", &p1, &p2, &q1, "--out", &out]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[&format!("shard 1/3 ({q1}): of 3 shards, but {p1} is of 2")],
    );
    assert!(!stderr(&o).contains("given twice"), "{}", stderr(&o));
    // A shard of another sweep.
    let g = write(
        tmp.path(),
        "other.toml",
        &SWEEP.replace("seeds = [1, 2]", "seeds = [3, 4]"),
    );
    let p3 = s(&tmp.path().join("p3"));
    ok(&owm(&["sweep", &g, "--shard", "2/2", "--out", &p3]));
    fails_with(
        &owm(&["merge", &p1, &p3, "--out", &out]),
        &["different sweeps"],
    );
    // A copy of the file under another name is another sweep (its name is the plots'
    // default title: merged in either order the bytes would differ); the same name in
    // another directory (a copy on another machine) is the same file.
    let renamed = write(tmp.path(), "tiny-copy.toml", SWEEP);
    let r2 = s(&tmp.path().join("r2"));
    ok(&owm(&["sweep", &renamed, "--shard", "2/2", "--out", &r2]));
    for args in [[&p1, &r2], [&r2, &p1]] {
        let o = owm(&["merge", args[0], args[1], "--out", &out]);
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        fails_with(
            &o,
            &["different sweep files", "tiny-copy.toml", "tiny.toml"],
        );
        assert!(!std::path::Path::new(&out).exists(), "nothing written");
    }
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let moved = write(&elsewhere, "tiny.toml", SWEEP);
    let e2 = s(&tmp.path().join("e2"));
    ok(&owm(&["sweep", &moved, "--shard", "2/2", "--out", &e2]));
    ok(&owm(&["merge", &p1, &e2, "--out", &out]));
    std::fs::remove_dir_all(&out).unwrap();
    // A shard.toml that is there but not UTF-8 is reported as what it is, not as missing;
    // a directory without one is not a shard output.
    let marker = tmp.path().join("p2").join("shard.toml");
    std::fs::write(&marker, b"\x00\xff").unwrap();
    let o = owm(&["merge", &p1, &p2, "--out", &out]);
    fails_with(
        &o,
        &[&format!(
            "{}: cannot read: not UTF-8 text (line 1, byte 2 of the line)",
            marker.display()
        )],
    );
    assert!(!stderr(&o).contains("no shard.toml"), "{}", stderr(&o));
    std::fs::remove_file(&marker).unwrap();
    fails_with(
        &owm(&["merge", &p1, &p2, "--out", &out]),
        &[
            "not a shard output (no shard.toml)",
            &marker.display().to_string(),
        ],
    );
}

/// `owm` run in `dir` (not the repository), its output.
fn owm_in(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_owm"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the owm binary runs")
}

/// A sweep file without `title` whose trace `path` is relative, swept and sharded
/// from its own directory and merged from another working directory: the merge reads
/// the trace beside the sweep file (not beside the shard's copy) and titles the plots
/// with the sweep file's stem, so every merged file, the JUnit file too, has the
/// unsharded sweep's bytes.
#[test]
fn an_untitled_trace_sweep_with_a_relative_path_merges_from_elsewhere_to_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("study");
    std::fs::create_dir(&dir).unwrap();
    write(
        &dir,
        "tr.csv",
        "time,op,offset,length\n0,W,0,4096\n100,W,4096,4096\n200,R,0,4096\n",
    );
    write(
        &dir,
        "tr-sweep.toml",
        "policies = [\"none\", \"cow\"]\n[[axis]]\nkey = \"workload.time_scale\"\n\
         values = [0.5, 1.0]\n[scenario.workload]\nkind = \"trace\"\npath = \"tr.csv\"\n\
         format = \"csv\"\n",
    );
    let sweep = |extra: &[&str]| {
        let mut args = vec!["sweep", "tr-sweep.toml", "--quiet"];
        args.extend_from_slice(extra);
        let o = owm_in(&dir, &args);
        ok(&o);
    };
    sweep(&["--out", "whole", "--junit", "whole.xml"]);
    sweep(&["--shard", "1/2", "--out", "s1"]);
    sweep(&["--shard", "2/2", "--out", "s2"]);
    let o = owm_in(
        tmp.path(),
        &[
            "merge",
            "study/s2",
            "study/s1",
            "--out",
            "merged",
            "--junit",
            "merged.xml",
        ],
    );
    ok(&o);
    let (whole, merged) = (dir.join("whole"), tmp.path().join("merged"));
    assert_eq!(files(&whole), files(&merged));
    let svg = String::from_utf8(bytes(&whole, "admission_delay_ticks_mean.svg")).unwrap();
    assert!(svg.contains("tr-sweep: mean admission delay"), "{svg}");
    for name in files(&whole) {
        assert!(
            bytes(&whole, &name) == bytes(&merged, &name),
            "{name} differs after merge"
        );
    }
    assert_eq!(
        String::from_utf8(bytes(&dir, "whole.xml")).unwrap(),
        String::from_utf8(bytes(tmp.path(), "merged.xml")).unwrap()
    );
}

/// The scenario of the column tests: two backup cycles, each followed by a copy of VLUN
/// B to B' (`[detach]`), so every column of `summary.csv` has a value.
const TWO_CYCLES: &str = r#"
[workload]
kind = "bank"
accounts = 256
initial_balance = 1000
transactions = 150
arrival_ticks_mean = 100
amount_max = 100
compute_ticks_min = 20
compute_ticks_max = 400

[backup]
request_at_ticks = 3000
period_ticks = 6000
cycles = 2

[geometry]
block_size_bytes = 64
records_per_block = 4

[detach]
bandwidth_bytes_per_s = 200000
extent_blocks = 16
"#;

/// Every numeric column of `summary.csv` (all but the run's key) is a column of
/// `sweep.csv` and a metric a sweep can plot, and no other: a column added to one
/// table and not the other fails here. A grid point's cells are the first cycle's row
/// of `summary.csv` for the same scenario and seed, but for what a sweep documents as
/// the run's (`backup_abandoned`, `backup_given_up`, `quiesce_attempts`,
/// `quiesce_timeouts`: any cycle's, every cycle's).
#[test]
fn every_numeric_summary_column_is_a_sweep_metric() {
    let tmp = tempfile::tempdir().unwrap();
    let run = write(
        tmp.path(),
        "two.toml",
        &format!("policies = [\"none\", \"cow\"]\nseed = 7\n{TWO_CYCLES}"),
    );
    let run_out = tmp.path().join("run");
    ok(&owm(&["run", &run, "--out", &s(&run_out)]));
    let (sum_header, sum_rows) = csv_table(&run_out, "summary.csv");
    let key = ["scenario", "workload", "policy", "seed", "cycle"];
    // `none`'s figures over another policy's window pair two policies of one run; a
    // grid point runs one, so a sweep has no such column (scenarios/README.md).
    let paired = [
        "none_window_committed",
        "none_window_response_ticks_mean",
        "none_window_response_ticks_p99",
    ];
    for c in paired {
        assert!(sum_header.iter().any(|h| h == c), "{c}: {sum_header:?}");
    }
    let numeric: Vec<String> = sum_header
        .iter()
        .enumerate()
        .filter(|(_, h)| !key.contains(&h.as_str()) && !paired.contains(&h.as_str()))
        .filter(|(i, _)| {
            sum_rows
                .iter()
                .all(|r| r[*i].is_empty() || r[*i].parse::<f64>().is_ok())
        })
        .map(|(_, h)| h.clone())
        .collect();
    assert!(
        numeric.iter().any(|c| c == "detach_blocks_copied"),
        "{numeric:?}"
    );
    // The per-cycle and detach columns, as the metrics plotted.
    let per_cycle: Vec<&String> = numeric
        .iter()
        .filter(|c| {
            c.starts_with("cycle_") || c.starts_with("detach_") || *c == "request_deferred_ticks"
        })
        .collect();
    assert_eq!(per_cycle.len(), 13, "{per_cycle:?}");
    let metrics: Vec<String> = per_cycle.iter().map(|c| format!("\"{c}\"")).collect();
    let scenario = TWO_CYCLES.replace("\n[", "\n[scenario.");
    let sweep = write(
        tmp.path(),
        "two-sweep.toml",
        &format!(
            "policies = [\"none\", \"cow\"]\nseeds = [7]\nmetrics = [{}]\n{scenario}",
            metrics.join(", ")
        ),
    );
    let sweep_out = tmp.path().join("sweep");
    ok(&owm(&["sweep", &sweep, "--out", &s(&sweep_out)]));
    let (sw_header, sw_rows) = csv_table(&sweep_out, "sweep.csv");
    assert_eq!(&sw_header[..3], ["index", "policy", "seed"]);
    assert_eq!(sw_header[3..], numeric[..], "sweep.csv's metric columns");
    for c in &per_cycle {
        assert!(
            names(&sweep_out).contains(&format!("{c}.png")),
            "no plot of {c}"
        );
    }
    let run_wide = [
        "backup_abandoned",
        "backup_given_up",
        "quiesce_attempts",
        "quiesce_timeouts",
    ];
    for policy in ["none", "cow"] {
        let sw = sw_rows.iter().find(|r| r[1] == policy).unwrap();
        let policy_col = col(&sum_header, "policy");
        let cycle_col = col(&sum_header, "cycle");
        let first = sum_rows
            .iter()
            .find(|r| r[policy_col] == policy && (r[cycle_col] == "1" || policy == "none"))
            .unwrap();
        for (i, c) in sw_header.iter().enumerate().skip(3) {
            if run_wide.contains(&c.as_str()) {
                continue;
            }
            assert_eq!(
                sw[i],
                first[col(&sum_header, c)],
                "{policy}: {c} in sweep.csv and in summary.csv's first cycle"
            );
        }
        if policy == "cow" {
            let copied = &sw[col(&sw_header, "detach_blocks_copied")];
            assert!(copied.parse::<u64>().unwrap() > 0, "{copied}");
            let second = sum_rows
                .iter()
                .find(|r| r[policy_col] == policy && r[cycle_col] == "2")
                .expect("a second cycle");
            assert_ne!(
                second[col(&sum_header, "request_at_ticks")],
                sw[col(&sw_header, "request_at_ticks")],
                "the second cycle is another backup"
            );
        }
    }
}

/// A shard given none of the grid's points (6 shards of a 2-point grid) judged
/// nothing: its verdict says so (exit 0, no case), where a shard with points says
/// `held`.
#[test]
fn a_shard_with_no_point_says_it_judged_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "s.toml",
        "policies = [\"cow\"]\nseeds = [1]\n[[axis]]\nkey = \"workload.transactions\"\n\
         values = [40, 50]\n[scenario.workload]\nkind = \"generated\"\nrecords = 512\n",
    );
    for (shard, want) in [
        ("6/6", "verdict: empty (0 cases: 0 violated, 0 unchecked or incomplete; nothing to judge; exit 0)"),
        ("1/6", "verdict: held ("),
    ] {
        let out = tmp.path().join(shard.replace('/', "-"));
        let o = owm(&["sweep", &f, "--shard", shard, "--out", &s(&out)]);
        assert_eq!(code(&o), 0, "{shard}: {}{}", stdout(&o), stderr(&o));
        let last = stdout(&o).lines().last().unwrap_or_default().to_string();
        assert!(last.starts_with(want), "{shard}: {last}");
    }
}
