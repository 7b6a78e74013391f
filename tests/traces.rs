//! `owm run` on trace workloads: the shipped fio-recorded scenario under every
//! policy, and a bad trace named by file and line through the command line.

use crate::util::*;

#[test]
fn the_shipped_trace_scenario_prints_every_policy_and_its_diagrams() {
    let tmp = tempfile::tempdir().unwrap();
    // The crash-consistent baseline breaks A-consistent here, which it never claims:
    // reported as not claimed, exit 0.
    let out = owm(&["run", "scenarios/trace-fio.toml", "--out", &s(tmp.path())]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let table = stdout(&out);
    for policy in [
        "none",
        "quiesce",
        "crash-consistent",
        "mirroring",
        "logging",
        "cow",
    ] {
        let row = table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(policy))
            .unwrap_or_else(|| panic!("no `{policy}` row:\n{table}"));
        // Every one of the 116 recorded I/Os committed, under every policy.
        assert_eq!(row.split_whitespace().nth(1), Some("116"), "{row}");
        let png = format!("timing-{policy}.png");
        assert!(bytes(tmp.path(), &png).starts_with(b"\x89PNG"), "{png}");
    }
    for f in ["summary.csv", "trace.csv", "timing.svg", "timing.png"] {
        assert!(!bytes(tmp.path(), f).is_empty(), "{f}");
    }
    // The quiesce baseline holds arrivals at the request; the one-way mirror does not.
    let adm_max = |p: &str| -> u64 {
        let row = table.lines().find(|l| l.starts_with(p)).unwrap();
        row.split_whitespace().nth(4).unwrap().parse().unwrap()
    };
    assert!(adm_max("quiesce") > 0, "{table}");
    assert_eq!(adm_max("mirroring"), 0, "{table}");
}

#[test]
fn a_malformed_trace_line_is_named_by_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "t.csv",
        "time,op,offset,length\n0,W,0,4096\n10,X,4096,4096\n",
    );
    let scenario = write(
        tmp.path(),
        "s.toml",
        "[workload]\nkind = \"trace\"\nformat = \"csv\"\npath = \"t.csv\"\n",
    );
    let out = owm(&["run", &scenario, "--out", &s(&tmp.path().join("out"))]);
    let csv = tmp.path().join("t.csv");
    fails_with(
        &out,
        &[
            &format!("{}:3: op `X` is neither R nor W", csv.display()),
            "s.toml:4",
            "workload.path",
        ],
    );
    assert!(!tmp.path().join("out").join("summary.csv").exists());
    // A key of the trace kind with a bad value names the scenario's line.
    let scenario = write(
        tmp.path(),
        "s2.toml",
        "[workload]\nkind = \"trace\"\npath = \"t.csv\"\nformat = \"vhs\"\n",
    );
    let out = owm(&["run", &scenario]);
    fails_with(&out, &["s2.toml:4", "vhs"]);
}
