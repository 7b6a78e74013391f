//! What a CI pipeline reads after `run`, `sweep`, `check` and `merge`: the `--json` and
//! `--junit` files agree with the process's exit status whatever ended it (a stdout
//! that cannot be written, a refusal, SIGINT or SIGTERM), no earlier verdict is left at
//! their paths, and the JSON names its verdict word and always carries `backups_lost`.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::util::*;
use crate::verdicts::SWEEP;

/// `owm args` from the repository root with stdout on `/dev/full` (every write fails
/// with "No space left on device").
fn owm_full(args: &[&str]) -> Output {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    Command::new(env!("CARGO_BIN_EXE_owm"))
        .args(args)
        .current_dir(repo())
        .stdout(Stdio::from(full))
        .output()
        .expect("the owm binary runs")
}

/// The JUnit file's `errors` count on `<testsuites>`.
fn junit_errors(xml: &Path) -> usize {
    let text = std::fs::read_to_string(xml).unwrap_or_else(|e| panic!("{}: {e}", xml.display()));
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
    doc.root_element()
        .attribute("errors")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no errors count: {text}"))
}

/// The JSON's exit status, its number and its verdict word.
fn exit_of(v: &serde_json::Value) -> (String, u64, String) {
    (
        v["exit"].as_str().unwrap_or_default().to_string(),
        v["exit_code"].as_u64().unwrap_or(99),
        v["verdict"].as_str().unwrap_or_default().to_string(),
    )
}

/// The cases of a JSON verdict that failed with `name` (`run`, `outputs`).
fn failed<'a>(v: &'a serde_json::Value, name: &str) -> Vec<&'a serde_json::Value> {
    json_cases(v)
        .iter()
        .filter(|c| c["verdict"] == "failed" && c["name"] == name)
        .collect()
}

/// Two shards of [`SWEEP`] in `tmp` (`p1`, `p2`).
fn two_shards(tmp: &Path) -> (String, String) {
    std::fs::create_dir_all(tmp).unwrap();
    let f = write(tmp, "s.toml", SWEEP);
    let (p1, p2) = (s(&tmp.join("p1")), s(&tmp.join("p2")));
    ok(&owm(&["sweep", &f, "--shard", "1/2", "--out", &p1]));
    ok(&owm(&["sweep", &f, "--shard", "2/2", "--out", &p2]));
    (p1, p2)
}

/// A stdout that cannot be written exits 2 for run, sweep, check and merge (held or
/// violated alike), and both verdict files say so: the JSON's exit is `bad-input`, 2,
/// with the error as a failed case `run` of suite `stdout`, and JUnit has an `<error>`.
#[test]
fn a_stdout_that_cannot_be_written_is_in_the_verdict_files() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let sweep = write(d, "s.toml", SWEEP);
    let (p1, p2) = two_shards(&d.join("shards"));
    let o = |name: &str| s(&d.join(name));
    let commands: Vec<(&str, Vec<String>)> = vec![
        ("run", vec!["run".into(), "scenarios/fig3.toml".into()]),
        ("sweep", vec!["sweep".into(), sweep.clone()]),
        (
            "check",
            ["check", "--threads", "1", "--old", "1", "--new", "1"]
                .map(String::from)
                .into(),
        ),
        (
            "check violated",
            [
                "check",
                "--threads",
                "1",
                "--old",
                "1",
                "--new",
                "1",
                "--discipline",
                "incremental",
            ]
            .map(String::from)
            .into(),
        ),
        ("merge", vec!["merge".into(), p1, p2]),
    ];
    for (i, (what, mut args)) in commands.into_iter().enumerate() {
        let (json, xml) = (d.join(format!("{i}.json")), d.join(format!("{i}.xml")));
        let out_flag = if what.starts_with("check") {
            "--trace-dir"
        } else {
            "--out"
        };
        args.extend([
            out_flag.into(),
            o(&format!("o{i}")),
            "--json".into(),
            s(&json),
            "--junit".into(),
            s(&xml),
        ]);
        let out = owm_full(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(out.status.code(), Some(2), "{what}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("writing the report to stdout"),
            "{what}: {}",
            stderr(&out)
        );
        let v = read_json(&json);
        assert_eq!(
            exit_of(&v),
            ("bad-input".into(), 2, "incomplete".into()),
            "{what}: {v}"
        );
        let lost = failed(&v, "run");
        assert!(
            lost.iter().any(|c| c["suite"] == "stdout"
                && c["reason"]
                    .as_str()
                    .is_some_and(|r| r.contains("writing the report to stdout"))),
            "{what}: {v}"
        );
        assert!(junit_errors(&xml) >= 1, "{what}");
    }
}

/// An error of sweep, check or merge (exit 2) after an earlier verdict at the same
/// paths: both files are rewritten with the error as a failed case `run`, so none of
/// the earlier run's verdict is left there.
#[test]
fn an_error_of_sweep_check_or_merge_replaces_an_earlier_verdict() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let sweep = write(d, "s.toml", SWEEP);
    let bad = write(d, "bad.toml", "this is = = not toml\n");
    let afile = write(d, "afile", "");
    let (p1, p2) = two_shards(&d.join("shards"));
    let (json, xml) = (s(&d.join("v.json")), s(&d.join("v.xml")));
    let files = ["--json", json.as_str(), "--junit", xml.as_str()];
    let o = s(&d.join("o"));
    // A trace directory of its own: one holding the sweep's output is refused.
    let t = s(&d.join("t"));
    let pairs: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (
            vec!["sweep", &sweep, "--out", &o],
            vec!["sweep", &bad, "--out", &o],
        ),
        (
            vec!["sweep", &sweep, "--out", &o],
            vec!["sweep", &sweep, "--out", &afile],
        ),
        (
            vec![
                "check",
                "--threads",
                "1",
                "--old",
                "1",
                "--new",
                "1",
                "--trace-dir",
                &t,
            ],
            vec![
                "check",
                "--threads",
                "1",
                "--old",
                "1",
                "--new",
                "1",
                "--blocks",
                "99",
                "--trace-dir",
                &t,
            ],
        ),
        (
            vec!["merge", &p1, &p2, "--out", &o],
            vec!["merge", &p1, &p2, "--out", &afile],
        ),
    ];
    for (good, failing) in pairs {
        let first = owm(&[good.as_slice(), &files].concat());
        ok(&first);
        assert_eq!(exit_of(&read_json(Path::new(&json))).1, 0);
        let then = owm(&[failing.as_slice(), &files].concat());
        assert_eq!(
            then.status.code(),
            Some(2),
            "{failing:?}: {}",
            stderr(&then)
        );
        let v = read_json(Path::new(&json));
        assert_eq!(
            exit_of(&v),
            ("bad-input".into(), 2, "incomplete".into()),
            "{failing:?}: {v}"
        );
        assert_eq!(json_cases(&v).len(), 1, "{failing:?}: {v}");
        assert_eq!(failed(&v, "run").len(), 1, "{failing:?}: {v}");
        assert_eq!(junit_errors(Path::new(&xml)), 1, "{failing:?}");
    }
}

/// A sweep interrupted inside point 5 of 8 (one job): each point not run is a failed
/// case `run` (a JUnit `<error>`) and counts as incomplete in the verdict line; an
/// interrupt while the outputs are written is a failed case `outputs` of suite
/// `sweep`. Exit 3 both times.
#[test]
fn an_interrupted_sweep_records_the_points_it_did_not_run() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let f = write(d, "s.toml", SWEEP);
    let (json, xml) = (d.join("v.json"), d.join("v.xml"));
    let args = |out: &str| {
        vec![
            "sweep".to_string(),
            f.clone(),
            "--out".into(),
            s(&d.join(out)),
            "--jobs".into(),
            "1".into(),
            "--json".into(),
            s(&json),
            "--junit".into(),
            s(&xml),
        ]
    };
    let o = interrupt_at(&args("o"), "point 5");
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    let v = read_json(&json);
    assert_eq!(exit_of(&v), ("incomplete".into(), 3, "incomplete".into()));
    let not_run = failed(&v, "run");
    let suites: Vec<&str> = not_run.iter().filter_map(|c| c["suite"].as_str()).collect();
    assert_eq!(suites.len(), 3, "{v}");
    for (suite, i) in suites.iter().zip(5..) {
        assert!(suite.starts_with(&format!("point {i} (")), "{suite}");
    }
    assert!(
        not_run.iter().all(|c| c["reason"]
            .as_str()
            .is_some_and(|r| r.contains("not run: interrupted (SIGINT)"))),
        "{v}"
    );
    assert_eq!(junit_errors(&xml), 3);
    assert!(
        stdout(&o).contains("3 unchecked or incomplete"),
        "{}",
        stdout(&o)
    );

    let o = interrupt_at(&args("p"), "commit");
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    let v = read_json(&json);
    assert_eq!(exit_of(&v).1, 3);
    let outputs = failed(&v, "outputs");
    assert_eq!(outputs.len(), 1, "{v}");
    assert_eq!(outputs[0]["suite"], "sweep");
    assert_eq!(junit_errors(&xml), 1);
}

/// SIGTERM (a CI job cancelled) is handled like the first SIGINT: run, sweep and check
/// stop at the next safe point, exit 3, write both verdict files naming SIGTERM, leave
/// no staging directory; a second signal ends the process at once with 143, but the
/// same signal repeated at once by its sender (`timeout`'s process and group) is one.
#[test]
fn sigterm_stops_run_sweep_and_check_like_the_first_sigint() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let f = write(d, "s.toml", SWEEP);
    let (json, xml) = (s(&d.join("v.json")), s(&d.join("v.xml")));
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "run".into(),
                "scenarios/fig3.toml".into(),
                "--out".into(),
                s(&d.join("r")),
            ],
            "policy quiesce",
        ),
        (
            vec![
                "sweep".into(),
                f.clone(),
                "--out".into(),
                s(&d.join("w")),
                "--jobs".into(),
                "1".into(),
            ],
            "point 5",
        ),
        (
            [
                "check",
                "--threads",
                "1",
                "--old",
                "1",
                "--new",
                "1",
                "--trace-dir",
            ]
            .map(String::from)
            .into_iter()
            .chain([s(&d.join("c"))])
            .collect(),
            "check search",
        ),
    ];
    for (mut args, point) in cases {
        std::fs::write(&json, "{}").unwrap();
        args.extend(["--json".into(), json.clone(), "--junit".into(), xml.clone()]);
        let o = signal_at(&args, point, libc::SIGTERM);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("SIGTERM"), "{}", stderr(&o));
        let v = read_json(Path::new(&json));
        assert_eq!(exit_of(&v).1, 3, "{args:?}: {v}");
        assert_eq!(exit_of(&v).2, "incomplete", "{args:?}: {v}");
        if args[0] != "check" {
            assert!(
                json_cases(&v).iter().any(|c| c["verdict"] == "failed"
                    && c["reason"].as_str().is_some_and(|r| r.contains("SIGTERM"))),
                "{args:?}: {v}"
            );
            assert!(junit_errors(Path::new(&xml)) >= 1);
        }
        assert!(
            stdout(&o).contains("verdict: incomplete ("),
            "{}",
            stdout(&o)
        );
        assert_eq!(staging_left(d), Vec::<String>::new(), "{args:?}");
    }
    // A second signal: at once, 128 + SIGTERM.
    let mut p = spawn_paused(
        &["run", "scenarios/fig3.toml", "--out", &s(&d.join("r2"))],
        "policy quiesce",
    );
    let pid = p.child.id() as i32;
    // SAFETY: signals to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    p.wait_for("interrupted: stopping");
    // Its stdin kept open through the wait (`Child::wait` would close it and let the
    // command go on to its safe point): only the second signal can end it.
    // A second one from another process (`kill`): 143 at once. From the same sender
    // within a second it would be the same request (the case below).
    let stdin = p.child.stdin.take();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = p.child.wait().unwrap();
    drop(stdin);
    assert_eq!(status.code(), Some(143));
    // GNU `timeout` signals the process, then its group: the same SIGTERM twice at
    // once from one sender is one request, a stop at the next safe point (exit 3).
    let mut p = spawn_paused(
        &["run", "scenarios/fig3.toml", "--out", &s(&d.join("r3"))],
        "policy quiesce",
    );
    let pid = p.child.id() as i32;
    for _ in 0..2 {
        // SAFETY: signals to our own child process.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    }
    p.wait_for("interrupted: stopping");
    drop(p.child.stdin.take());
    let status = p.child.wait().unwrap();
    assert_eq!(status.code(), Some(3));
    // (The quit above may leave r2's staging directory: the next run there removes it.)
    let left: Vec<String> = staging_left(d)
        .into_iter()
        .filter(|n| n.starts_with(".r3"))
        .collect();
    assert_eq!(left, Vec::<String>::new());
}

/// The JSON's `verdict` is the verdict line's first word: `violated` for a violation
/// `--allow-violations` let pass (exit 0, JSON exit `held`), `empty` for a shard given
/// no grid point, `held` otherwise; `backups_lost` and `backup_cycles_lost` are there
/// when no backup was lost (`[]`, 0).
#[test]
fn the_json_names_its_verdict_word_and_always_has_backups_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let bank = write(d, "bank.toml", crate::run::BROKEN_BANK);
    let allowed = owm_json("run", &bank, &d.join("a"), &["--allow-violations"]);
    ok(&allowed.o);
    let v = allowed.verdict();
    assert_eq!(exit_of(&v), ("held".into(), 0, "violated".into()), "{v}");
    let f = write(d, "s.toml", SWEEP);
    let empty = owm_json("sweep", &f, &d.join("e"), &["--shard", "9/9"]);
    ok(&empty.o);
    assert!(stdout(&empty.o).contains("verdict: empty ("));
    let v = empty.verdict();
    assert_eq!(exit_of(&v), ("held".into(), 0, "empty".into()), "{v}");
    let held = owm_json("run", "scenarios/fig3.toml", &d.join("h"), &[]);
    ok(&held.o);
    let v = held.verdict();
    assert_eq!(exit_of(&v), ("held".into(), 0, "held".into()), "{v}");
    assert_eq!(v["backups_lost"], serde_json::json!([]), "{v}");
    assert_eq!(v["backup_cycles_lost"], 0, "{v}");
}

/// `owm merge` refuses an `--out` it cannot write before any work (no point's lines on
/// stdout), and a plain file given as a shard as not a directory.
#[test]
fn merge_checks_its_out_first_and_names_a_file_given_as_a_shard() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let f = write(d, "s.toml", &crate::verdicts::violating_sweep());
    let (p1, p2) = (s(&d.join("p1")), s(&d.join("p2")));
    for (k, p) in [("1/2", &p1), ("2/2", &p2)] {
        let o = owm(&["sweep", &f, "--shard", k, "--out", p]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    }
    let afile = write(d, "afile", "");
    let o = owm(&["merge", &p1, &p2, "--out", &afile]);
    fails_with(&o, &["a file is in the way"]);
    assert!(
        !stdout(&o).contains("violation"),
        "work done before --out was checked: {}",
        stdout(&o)
    );
    let o = owm(&["merge", &p1, &afile, "--out", &s(&d.join("m"))]);
    fails_with(&o, &["afile: not a directory"]);
}

/// A check's violated case names its trace file and the command that replays it (in
/// the JSON and in the JUnit failure), and the reproduce line keeps `--trace-dir`:
/// pasted, it writes the traces where this run did. The replay command reproduces the
/// violation (exit 1).
#[test]
fn a_check_case_names_its_trace_and_how_to_replay_it() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let dir = s(&d.join("traces"));
    let (json, xml) = (d.join("v.json"), d.join("v.xml"));
    let o = owm(&[
        "check",
        "--threads",
        "1",
        "--old",
        "1",
        "--new",
        "1",
        "--discipline",
        "incremental",
        "--trace-dir",
        &dir,
        "--json",
        &s(&json),
        "--junit",
        &s(&xml),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v = read_json(&json);
    assert!(
        v["reproduce"]
            .as_str()
            .is_some_and(|r| r.contains(&format!("--trace-dir {dir}"))),
        "{v}"
    );
    let violated: Vec<&serde_json::Value> = json_cases(&v)
        .iter()
        .filter(|c| c["verdict"] == "violated")
        .collect();
    assert!(!violated.is_empty(), "{v}");
    let junit = std::fs::read_to_string(&xml).unwrap();
    for c in violated {
        let file = c["trace"]["file"].as_str().unwrap_or_else(|| panic!("{c}"));
        assert!(file.starts_with(&dir) && Path::new(file).is_file(), "{c}");
        let replay = c["trace"]["replay"].as_str().unwrap_or_default();
        assert_eq!(replay, format!("owm check --replay {file}"), "{c}");
        assert!(junit.contains(&format!("replay: {replay}")), "{junit}");
        replayed(
            &owm(&["check", "--replay", file]),
            c["name"].as_str().unwrap(),
        );
    }
}
