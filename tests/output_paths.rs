//! Files owm writes whole (`--json`, `--junit`, `calibrate --out`, `owm device backup`
//! and `detach --to`): a symbolic link is followed and kept, the file it leads to
//! replaced; a path that is, or leads to, the command's own standard output or error
//! (`/dev/stdout`'s kind of link into `/proc`, or the very file stdout goes to) or
//! the running executable is refused before any work (exit 2, naming the flag and the
//! path). Also `owm check --trace-dir`, which holds only traces, and the verdict word
//! of a violation `--allow-violations` lets pass beside incomplete work. Every link
//! into `/proc` here is one of the test's own, in a temporary directory: the system's
//! `/dev/stdout` is never written to.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::util::*;

/// `owm args…` from the repository root with its standard output sent to the file
/// `log` (as `owm … > log` does), its standard error captured.
fn owm_into(log: &Path, args: &[&str]) -> Output {
    let file = std::fs::File::create(log).unwrap();
    Command::new(env!("CARGO_BIN_EXE_owm"))
        .args(args)
        .current_dir(repo())
        .stdout(Stdio::from(file))
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

fn is_link(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink())
}

/// A check that holds in a moment, with its traces in `dir/t`.
fn check_args(dir: &Path) -> Vec<String> {
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
    .iter()
    .map(|a| a.to_string())
    .chain([s(&dir.join("t"))])
    .collect()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// `--json` and `--junit` through a symbolic link (relative, and a chain of two) to a
/// file in another directory, for `check` and `run`: the file the link leads to gets
/// the verdicts, the links stay links, and nothing else appears in either directory.
/// Before, the write-then-rename replaced the link with a regular file and left the
/// file it named stale.
#[test]
fn a_verdict_file_through_a_link_replaces_the_file_it_leads_to_and_keeps_the_link() {
    let tmp = tempfile::tempdir().unwrap();
    let (here, ci) = (tmp.path().join("here"), tmp.path().join("ci"));
    std::fs::create_dir(&here).unwrap();
    std::fs::create_dir(&ci).unwrap();
    std::fs::write(ci.join("real.json"), "{}\n").unwrap();
    std::fs::write(ci.join("real.xml"), "<old/>\n").unwrap();
    std::os::unix::fs::symlink("../ci/real.json", here.join("v.json")).unwrap();
    std::os::unix::fs::symlink("mid.xml", here.join("v.xml")).unwrap();
    std::os::unix::fs::symlink(ci.join("real.xml"), here.join("mid.xml")).unwrap();
    let verdicts = [
        "--json".to_string(),
        s(&here.join("v.json")),
        "--junit".to_string(),
        s(&here.join("v.xml")),
    ];
    let run_out = s(&tmp.path().join("o"));
    let commands: [Vec<String>; 2] = [
        check_args(tmp.path()),
        ["run", "scenarios/fig3.toml", "--quiet", "--out", &run_out]
            .map(String::from)
            .to_vec(),
    ];
    for (i, args) in commands.iter().enumerate() {
        let args: Vec<String> = args.iter().chain(&verdicts).cloned().collect();
        let o = owm(&strs(&args));
        ok(&o);
        for link in ["v.json", "v.xml", "mid.xml"] {
            assert!(is_link(&here.join(link)), "{args:?}: {link} was replaced");
        }
        let v = read_json(&ci.join("real.json"));
        assert_eq!(v["command"], ["check", "run"][i], "{args:?}");
        assert_eq!(v["exit_code"], 0);
        let xml = std::fs::read_to_string(ci.join("real.xml")).unwrap();
        assert!(xml.starts_with("<?xml"), "{args:?}: {xml}");
        assert_eq!(names(&here), ["mid.xml", "v.json", "v.xml"]);
        assert_eq!(names(&ci), ["real.json", "real.xml"]);
        // The link's own name is the path the command says it wrote.
        assert!(stdout(&o).contains(&format!("wrote {}", here.join("v.json").display())));
    }
}

/// A verdict file that is, or leads to, the command's own standard output (a link to
/// `/proc/self/fd/1` as `/dev/stdout` is, `/proc/self/fd/1` itself, a link to the file
/// stdout goes to, that file by its name) or error is refused before any work: exit 2
/// naming the flag and the path, the links kept, no trace directory made, and stdout's
/// file left holding nothing owm wrote over it. Before, `owm check --json mystdout >
/// log` (mystdout -> /proc/self/fd/1) exited 0 and replaced the link with the JSON.
#[test]
fn a_verdict_file_that_is_the_commands_own_output_is_refused_before_work() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let log = d.join("log.txt");
    std::os::unix::fs::symlink("/proc/self/fd/1", d.join("mystdout")).unwrap();
    std::os::unix::fs::symlink("/proc/self/fd/2", d.join("mystderr")).unwrap();
    std::os::unix::fs::symlink(&log, d.join("log-link.json")).unwrap();
    let cases: [(&str, PathBuf, &str); 6] = [
        ("--json", d.join("mystdout"), "is in /proc"),
        ("--junit", d.join("mystdout"), "is in /proc"),
        ("--json", d.join("mystderr"), "is in /proc"),
        ("--json", PathBuf::from("/proc/self/fd/1"), "is in /proc"),
        ("--json", d.join("log-link.json"), "standard output"),
        ("--junit", log.clone(), "standard output"),
    ];
    for (flag, path, why) in &cases {
        let args: Vec<String> = check_args(d)
            .into_iter()
            .chain([flag.to_string(), s(path)])
            .collect();
        let o = owm_into(&log, &strs(&args));
        assert_eq!(code(&o), 2, "{flag} {}: {}", path.display(), stderr(&o));
        fails_with(&o, &[flag, &s(path), why]);
        let printed = std::fs::read_to_string(&log).unwrap();
        assert!(!printed.contains("wrote"), "{printed}");
        assert!(!printed.contains("\"command\""), "{printed}");
        assert!(std::fs::metadata(&log).unwrap().is_file());
        for link in ["mystdout", "mystderr", "log-link.json"] {
            assert!(is_link(&d.join(link)), "{flag} {}: {link}", path.display());
        }
        assert!(
            !d.join("t").exists(),
            "{flag} {}: ran before refusing",
            path.display()
        );
    }
    // The same file given when stdout goes elsewhere is an ordinary file, written.
    let args: Vec<String> = check_args(d)
        .into_iter()
        .chain(["--json".to_string(), s(&d.join("log-link.json"))])
        .collect();
    ok(&owm(&strs(&args)));
    assert_eq!(read_json(&log)["command"], "check");
    assert!(is_link(&d.join("log-link.json")));
}

/// `calibrate --out` and `owm device backup --to` take the same rules: a link is
/// followed (the profile lands where it points, the link kept), and a link into
/// `/proc` or the file stdout goes to is refused before any work, naming the flag.
#[test]
fn calibrate_out_and_device_to_follow_links_and_refuse_the_commands_own_output() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (here, there) = (d.join("here"), d.join("there"));
    std::fs::create_dir(&here).unwrap();
    std::fs::create_dir(&there).unwrap();
    std::fs::write(there.join("profile.toml"), "# earlier\n").unwrap();
    std::os::unix::fs::symlink("../there/profile.toml", here.join("p.toml")).unwrap();
    let measure = d.join("fs");
    std::fs::create_dir(&measure).unwrap();
    let calibrate = |out: &Path| -> Vec<String> {
        [
            "calibrate",
            &s(&measure),
            "--samples",
            "10",
            "--pattern-writes",
            "10",
            "--out",
            &s(out),
        ]
        .map(String::from)
        .to_vec()
    };
    let o = owm(&strs(&calibrate(&here.join("p.toml"))));
    ok(&o);
    assert!(is_link(&here.join("p.toml")));
    let profile = std::fs::read_to_string(there.join("profile.toml")).unwrap();
    assert!(
        profile != "# earlier\n" && profile.contains('='),
        "{profile}"
    );
    assert_eq!(names(&here), ["p.toml"]);
    assert_eq!(names(&there), ["profile.toml"]);

    let log = d.join("log.txt");
    std::os::unix::fs::symlink("/proc/self/fd/1", d.join("mystdout")).unwrap();
    for (out, why) in [
        (d.join("mystdout"), "is in /proc"),
        (log.clone(), "standard output"),
    ] {
        let before = names(&measure);
        let o = owm_into(&log, &strs(&calibrate(&out)));
        assert_eq!(code(&o), 2, "{}: {}", out.display(), stderr(&o));
        fails_with(&o, &["--out", &s(&out), why]);
        assert_eq!(
            names(&measure),
            before,
            "calibrate measured before refusing"
        );
        for (to, op) in [(&out, "backup"), (&out, "detach")] {
            let o = owm_into(&log, &["device", op, "--to", &s(to), "--dir", &s(d)]);
            assert_eq!(code(&o), 2, "{op} {}: {}", to.display(), stderr(&o));
            fails_with(&o, &["--to", &s(to), why]);
        }
        assert!(is_link(&d.join("mystdout")));
    }
}

/// A verdict file that is the running executable (by its path, or a link to it) is
/// refused before any work, as an input file is: before, `owm-copy check … --junit
/// owm-copy` replaced the program with JUnit XML. Shown with a hard link of the test's
/// binary in a directory of its own beside it, so even a failure replaces only that
/// link's name.
#[test]
fn a_verdict_file_that_is_the_running_executable_is_refused_before_work() {
    let exe = Path::new(env!("CARGO_BIN_EXE_owm"));
    let dir = tempfile::tempdir_in(exe.parent().unwrap()).unwrap();
    let copy = dir.path().join("owm-copy");
    std::fs::hard_link(exe, &copy).unwrap();
    std::os::unix::fs::symlink(&copy, dir.path().join("exe-link")).unwrap();
    let ino = |p: &Path| {
        use std::os::unix::fs::MetadataExt;
        std::fs::symlink_metadata(p).unwrap().ino()
    };
    let work = tempfile::tempdir().unwrap();
    for (flag, path) in [
        ("--junit", copy.clone()),
        ("--json", dir.path().join("exe-link")),
    ] {
        let args: Vec<String> = check_args(work.path())
            .into_iter()
            .chain([flag.to_string(), s(&path)])
            .collect();
        let o = Command::new(&copy)
            .args(strs(&args))
            .current_dir(repo())
            .output()
            .unwrap();
        assert_eq!(code(&o), 2, "{flag}: {}{}", stdout(&o), stderr(&o));
        fails_with(&o, &[flag, &s(&path), "the running owm executable"]);
        assert_eq!(ino(&copy), ino(exe), "{flag}: the executable was replaced");
        assert!(is_link(&dir.path().join("exe-link")));
        assert!(
            !work.path().join("t").exists(),
            "{flag}: ran before refusing"
        );
    }
}

/// `owm check --trace-dir DIR` with anything in DIR but owm check's traces and
/// `walks.toml` (a complete `owm run` output, an earlier verdict file) is refused before
/// the search (exit 2) naming the first such entry, and nothing of DIR is removed, as
/// `owm check --help` says; a directory of traces is still replaced. A verdict file
/// inside the trace directory is refused too, with a suggestion beside it that is
/// accepted. Before, both directories were emptied (exit 0), and the refusal
/// suggested `DIR/verdicts.json`, which the next check emptied.
#[test]
fn a_trace_directory_holding_anything_but_traces_is_refused_and_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let results = d.join("results");
    ok(&owm(&[
        "run",
        "scenarios/fig3.toml",
        "--quiet",
        "--out",
        &s(&results),
    ]));
    let v = d.join("v");
    std::fs::create_dir(&v).unwrap();
    let t = d.join("t0");
    ok(&owm(&[
        "check",
        "--threads",
        "1",
        "--trace-dir",
        &s(&t),
        "--json",
        &s(&v.join("run1.json")),
    ]));
    let snapshot = |dir: &Path| -> Vec<(String, Vec<u8>)> {
        names(dir)
            .into_iter()
            .map(|n| (n.clone(), bytes(dir, &n)))
            .collect()
    };
    for (dir, first) in [(&results, "extra_space.csv"), (&v, "run1.json")] {
        let before = snapshot(dir);
        assert!(!before.is_empty());
        let o = owm(&[
            "check",
            "--threads",
            "1",
            "--discipline",
            "incremental",
            "--old",
            "1",
            "--new",
            "2",
            "--trace-dir",
            &s(dir),
        ]);
        assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
        fails_with(&o, &["--trace-dir", &s(dir), first, "nothing was removed"]);
        assert!(!stdout(&o).contains("explored"), "searched: {}", stdout(&o));
        assert_eq!(snapshot(dir), before, "{} changed", dir.display());
    }
    // A directory of an earlier check's traces is replaced, as before.
    let violating = |dir: &Path, extra: &[&str]| {
        let mut args = vec![
            "check",
            "--threads",
            "1",
            "--discipline",
            "incremental",
            "--old",
            "1",
            "--new",
            "2",
        ];
        let dir = s(dir);
        args.extend(["--trace-dir", &dir]);
        args.extend(extra);
        owm(&args)
    };
    assert_eq!(code(&violating(&t, &[])), 1);
    assert!(
        names(&t).iter().all(|n| n.ends_with(".trace")),
        "{:?}",
        names(&t)
    );
    assert_eq!(code(&violating(&t, &[])), 1);
    // A verdict file inside the trace directory: refused, suggesting one beside it.
    let o = violating(&t, &["--json", &s(&t.join("verdicts.json"))]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["--json", "--trace-dir", "beside it, such as"]);
    let err = stderr(&o);
    let suggested = err
        .split("such as ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap();
    assert!(!Path::new(suggested).starts_with(&t), "{err}");
    let o = violating(&t, &["--json", suggested]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_eq!(read_json(Path::new(suggested))["verdict"], "violated");
    assert_eq!(
        code(&violating(&t, &[])),
        1,
        "the trace directory stays reusable"
    );
}

/// The verdict word of a violation `--allow-violations` lets pass stays `violated`
/// when other work is incomplete (exit 3): on the verdict line and in the JSON's
/// `verdict`, for an exhaustive check cut by `--depth`, for random walks (which always
/// leave cases unchecked) and for the merge of their shards. Without the flag the same
/// runs say `violated` with exit 1. Before, the word said `incomplete`.
#[test]
fn an_allowed_violation_beside_incomplete_work_is_still_violated() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let model = [
        "--threads",
        "1",
        "--old",
        "2",
        "--new",
        "2",
        "--records-per-block",
        "2",
        "--locks",
        "record",
    ];
    let walks = ["--simulate", "--seed", "1", "--walks", "300"];
    let mut runs: Vec<(Vec<String>, PathBuf)> = Vec::new();
    for (i, extra) in [&["--depth", "30"][..], &walks[..]].iter().enumerate() {
        let args: Vec<String> = ["check"]
            .iter()
            .chain(&model)
            .chain(*extra)
            .map(|a| a.to_string())
            .chain(["--trace-dir".to_string(), s(&d.join(format!("t{i}")))])
            .collect();
        runs.push((args, d.join(format!("t{i}"))));
    }
    // The walks in two shards, merged.
    let shards: Vec<String> = (1..=2).map(|k| s(&d.join(format!("shard{k}")))).collect();
    for (k, shard) in shards.iter().enumerate() {
        let args: Vec<String> = ["check"]
            .iter()
            .chain(&model)
            .chain(&walks)
            .map(|a| a.to_string())
            .chain([
                "--shard".to_string(),
                format!("{}/2", k + 1),
                "--trace-dir".to_string(),
                shard.clone(),
            ])
            .collect();
        let o = owm(&strs(&args));
        assert!([1, 3].contains(&code(&o)), "{}", stderr(&o));
    }
    let merged = s(&d.join("merged"));
    runs.push((
        ["merge", &shards[0], &shards[1], "--out", &merged]
            .map(String::from)
            .to_vec(),
        d.join("merged"),
    ));
    for (args, _) in &runs {
        for (allow, exit) in [(false, 1), (true, 3)] {
            let json = d.join("v.json");
            let mut args = args.clone();
            args.extend(["--json".to_string(), s(&json)]);
            if allow {
                args.push("--allow-violations".to_string());
            }
            let o = owm(&strs(&args));
            assert_eq!(code(&o), exit, "{args:?}: {}{}", stdout(&o), stderr(&o));
            let out = stdout(&o);
            let last = out.lines().last().unwrap_or_default();
            assert!(
                last.starts_with("verdict: violated (")
                    && last.ends_with(&format!("; exit {exit})")),
                "{args:?}: {last}"
            );
            let v = read_json(&json);
            assert_eq!(v["verdict"], "violated", "{args:?}");
            assert_eq!(v["exit_code"], exit, "{args:?}");
            if allow {
                assert!(last.contains("allowed by --allow-violations"), "{last}");
                assert_eq!(v["exit"], "incomplete", "{args:?}");
            }
        }
    }
}

/// A link to a file that does not exist yet is judged as that file, as the path it
/// leads to is (exit 2 before any work, nothing written): into `--out` on a file the
/// run or sweep writes there, two links to one new file given as `--json` and
/// `--junit`, into `--trace-dir`, into a directory that does not exist, and
/// `calibrate --out` to a pattern trace it writes.
#[test]
fn a_link_to_a_file_not_yet_there_is_judged_as_that_file() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let link = |name: &str, to: &Path| {
        let l = d.join(name);
        std::os::unix::fs::symlink(to, &l).unwrap();
        s(&l)
    };
    let refused = |o: &Output, needle: &str| {
        assert_eq!(code(o), 2, "{}", stderr(o));
        assert!(stdout(o).is_empty(), "work was done: {}", stdout(o));
        assert!(stderr(o).contains(needle), "{}", stderr(o));
    };
    let out = d.join("o");
    let to_summary = link("sum", &out.join("summary.csv"));
    let o = owm(&[
        "run",
        "scenarios/fig3.toml",
        "--out",
        &s(&out),
        "--json",
        &to_summary,
    ]);
    refused(&o, "summary.csv, a file owm writes there");
    assert!(!out.exists());

    let sweep = write(d, "sw.toml", crate::verdicts::SWEEP);
    let so = d.join("so");
    let to_stats = link("stats", &so.join("stats.csv"));
    let o = owm(&["sweep", &sweep, "--out", &s(&so), "--json", &to_stats]);
    refused(&o, "stats.csv, a file owm writes there");
    assert!(!so.exists());

    let same = d.join("same");
    let (la, lb) = (link("la", &same), link("lb", &same));
    let mut args = check_args(d);
    args.extend(["--json".into(), la, "--junit".into(), lb]);
    refused(&owm(&strs(&args)), "name the same file");
    assert!(!same.exists());

    let traces = d.join("t");
    let into_traces = link("lv", &traces.join("v.json"));
    let mut args = check_args(d);
    args.extend(["--json".into(), into_traces]);
    refused(&owm(&strs(&args)), "is inside --trace-dir");
    assert!(!traces.exists());

    let nowhere = link("dd", &d.join("nodir").join("f.json"));
    let mut args = check_args(d);
    args.extend(["--json".into(), nowhere]);
    refused(&owm(&strs(&args)), "(leads to ");

    let cal = d.join("cal");
    std::fs::create_dir(&cal).unwrap();
    let to_trace = link("lq", &cal.join("calibrate-pattern-qd1.csv"));
    let o = owm(&[
        "calibrate",
        &s(&cal),
        "--samples",
        "10",
        "--pattern-writes",
        "16",
        "--out",
        &to_trace,
    ]);
    refused(&o, "the pattern trace this command writes");
    assert_eq!(std::fs::read_dir(&cal).unwrap().count(), 0);
}
