//! Names from the user on the terminal and in the commands owm records: a file name
//! holding a line feed, a tab or another control character never splits an output
//! line or reaches the terminal raw, and every `reproduce` command runs in a POSIX
//! `sh` (dash where it is `/bin/sh`) from any directory, doing what the command did.

use std::path::Path;
use std::process::{Command, Output};

use crate::util::*;

/// `owm args...` run from `dir` (relative paths are the user's).
fn owm_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_owm"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the owm binary runs")
}

/// `command` run by `/bin/sh -c` from `dir`, with the owm under test first on `PATH`.
fn sh_in(dir: &Path, command: &str) -> Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_owm")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .env("PATH", path)
        .current_dir(dir)
        .output()
        .expect("/bin/sh runs")
}

/// No line of `text` is split by a name: none of `pieces` (a name's parts around
/// its line feed or tab) appears raw with its neighbour, and no control character
/// but owm's own line feeds is in it.
fn unsplit(text: &str, raw: &[&str], what: &str) {
    for r in raw {
        assert!(
            !text.contains(r),
            "{what}: {r:?} reached the output raw:\n{text}"
        );
    }
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "{what}: a control character raw:\n{text:?}"
    );
}

/// A scenario, a sweep, an output directory and verdict files whose names hold a
/// line feed and a tab: `owm run`, `owm sweep` and an error about such a file show
/// each name with `\x0a` and `\x09`, so every line stays whole (`wrote o\x0ar\x09x/…`
/// one line); a key the file writes with a line feed is shown so too.
#[test]
fn a_line_feed_or_tab_in_a_name_splits_no_output_line() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let scenario = std::fs::read_to_string(repo().join("scenarios/fig3.toml")).unwrap();
    std::fs::write(d.join("fig\n3\t.toml"), &scenario).unwrap();
    let o = owm_in(
        d,
        &[
            "run",
            "fig\n3\t.toml",
            "--out",
            "o\nr\tx",
            "--json",
            "j\n.json",
            "--quiet",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    unsplit(&text, &["o\nr", "r\tx", "fig\n3", "j\n.json"], "run stdout");
    unsplit(&stderr(&o), &["o\nr"], "run stderr");
    let wrote: Vec<&str> = text.lines().filter(|l| l.starts_with("wrote ")).collect();
    assert!(wrote.len() > 5, "{text}");
    for l in &wrote {
        assert!(
            l.starts_with("wrote o\\x0ar\\x09x/") || *l == "wrote j\\x0a.json",
            "{l}"
        );
    }
    assert!(
        text.contains("reproduce: owm run 'fig\\x0a3\\x09.toml' --seed 1 --out 'o\\x0ar\\x09x'"),
        "{text}"
    );

    std::fs::write(d.join("sw\n1\t.toml"), crate::verdicts::SWEEP).unwrap();
    let o = owm_in(d, &["sweep", "sw\n1\t.toml", "--out", "s\no", "--quiet"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    unsplit(&text, &["sw\n1", "1\t.toml", "s\no"], "sweep stdout");
    assert!(text.starts_with("sweep sw\\x0a1\\x09.toml: "), "{text}");
    assert!(text.contains("wrote s\\x0ao/sweep.csv"), "{text}");

    // Errors: a bad value in such a file, and a key written with a line feed.
    std::fs::write(d.join("ba\nd\t.toml"), "policies = [\"none\"]\nseed = -1\n").unwrap();
    let o = owm_in(d, &["run", "ba\nd\t.toml", "--out", "e\no"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let err = stderr(&o);
    unsplit(&err, &["ba\nd", "d\t.toml"], "error");
    assert!(
        err.contains("error: ba\\x0ad\\x09.toml:2: key `seed`: "),
        "{err}"
    );
    std::fs::write(
        d.join("k.toml"),
        "policies = [\"none\"]\n\"a\\nb\\tc\" = 1\n",
    )
    .unwrap();
    let o = owm_in(d, &["run", "k.toml", "--out", "ko"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let err = stderr(&o);
    unsplit(&err, &["a\nb", "b\tc"], "key error");
    assert!(
        err.contains("k.toml:2: key `a\\x0ab\\x09c`: unknown field `a\\x0ab\\x09c`"),
        "{err}"
    );
    // A sweep's axis key written with a line feed, quoted back by the refusal.
    let axis = crate::verdicts::SWEEP.replace("workload.write_fraction", "workload.wr\\nite");
    std::fs::write(d.join("ax.toml"), axis).unwrap();
    let o = owm_in(d, &["sweep", "ax.toml", "--out", "ao"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let err = stderr(&o);
    unsplit(&err, &["wr\nite"], "axis key error");
    assert!(err.contains("unknown field `wr\\x0aite`"), "{err}");
    let o = owm_in(d, &["sweep", "no\nsuch\t.toml", "--out", "n\no"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    unsplit(&stderr(&o), &["no\nsuch", "such\t"], "missing file");
    assert!(
        stderr(&o).contains("no\\x0asuch\\x09.toml"),
        "{}",
        stderr(&o)
    );
}

/// Names holding an ESC, a BEL, a line feed, a tab, a quote and a space, given as
/// relative paths: each `reproduce` a verdict file records (JSON `reproduce` and
/// `suite_reproduce`, the JUnit property and `<failure>` text, a check's `replay`,
/// an error's command as given) runs in `/bin/sh` from another directory and does
/// what the command did: the same files, byte for byte, or the same error.
#[test]
fn reproduce_commands_run_in_sh_from_another_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("work");
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    let name = "it's a\u{1b}[31m\nred\u{7}\t";
    let scenario = std::fs::read_to_string(repo().join("scenarios/fig3.toml")).unwrap();
    let run_file = format!("{name}.toml");
    std::fs::write(d.join(&run_file), &scenario).unwrap();
    let out = format!("o {name}");

    // owm run: the JSON's reproduce and the JUnit property.
    let o = owm_in(
        &d,
        &[
            "run", &run_file, "--out", &out, "--json", "r.json", "--junit", "r.xml", "--quiet",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    unsplit(&stdout(&o), &["\nred"], "run stdout");
    let summary = bytes(&d.join(&out), "summary.csv");
    let v = read_json(&d.join("r.json"));
    let reproduce = v["reproduce"].as_str().unwrap().to_string();
    assert!(reproduce.contains(&s(&d)), "not absolute: {reproduce}");
    assert!(!reproduce.contains("$'"), "{reproduce}");
    let xml = std::fs::read_to_string(d.join("r.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let property: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("property"))
        .filter_map(|n| n.attribute("value"))
        .collect();
    assert!(!property.is_empty());
    assert!(property.iter().all(|p| *p == reproduce), "{property:?}");
    std::fs::remove_dir_all(d.join(&out)).unwrap();
    let again = sh_in(&elsewhere, &reproduce);
    assert_eq!(code(&again), 0, "{reproduce}: {}", stderr(&again));
    assert_eq!(bytes(&d.join(&out), "summary.csv"), summary, "{reproduce}");
    assert_eq!(
        stdout(&again).lines().last(),
        stdout(&o).lines().last(),
        "{reproduce}"
    );

    // owm sweep: the JSON's reproduce, each point's command, the JUnit property.
    let sweep_file = format!("sw {name}.toml");
    std::fs::write(d.join(&sweep_file), crate::verdicts::SWEEP).unwrap();
    let sout = format!("s {name}");
    let o = owm_in(
        &d,
        &[
            "sweep",
            &sweep_file,
            "--out",
            &sout,
            "--json",
            "s.json",
            "--junit",
            "s.xml",
            "--quiet",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let csv = bytes(&d.join(&sout), "sweep.csv");
    let v = read_json(&d.join("s.json"));
    let reproduce = v["reproduce"].as_str().unwrap().to_string();
    std::fs::remove_dir_all(d.join(&sout)).unwrap();
    let again = sh_in(&elsewhere, &format!("{reproduce} --quiet"));
    assert_eq!(code(&again), 0, "{reproduce}: {}", stderr(&again));
    assert_eq!(bytes(&d.join(&sout), "sweep.csv"), csv, "{reproduce}");
    let points = v["suite_reproduce"].as_object().unwrap();
    assert_eq!(points.len(), 8);
    let xml = std::fs::read_to_string(d.join("s.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    for suite in doc.descendants().filter(|n| n.has_tag_name("testsuite")) {
        let name = suite.attribute("name").unwrap();
        let property = suite
            .descendants()
            .find(|n| n.has_tag_name("property"))
            .and_then(|n| n.attribute("value"))
            .unwrap();
        assert_eq!(Some(property), points[name].as_str(), "{name}");
    }
    let (point, command) = points.iter().next().unwrap();
    let command = command.as_str().unwrap();
    let again = sh_in(&elsewhere, &format!("{command} --quiet"));
    assert_eq!(code(&again), 0, "{command}: {}", stderr(&again));
    let index: usize = point
        .strip_prefix("point ")
        .and_then(|p| p.split(' ').next())
        .and_then(|i| i.parse().ok())
        .unwrap_or_else(|| panic!("a point's suite: {point}"));
    let (_, rows) = csv_table(&elsewhere.join(format!("point-{index}")), "sweep.csv");
    let (_, all) = csv_table(&d.join(&sout), "sweep.csv");
    assert_eq!(rows, [all[index].clone()], "{point}: {command}");

    // owm check: a violation's replay (JUnit `<failure>` text, JSON trace.replay) and
    // the reproduce, with a trace directory named so.
    let traces = format!("t {name}");
    let mut args = vec!["check", "--threads", "1"];
    args.extend_from_slice(CHECK_VIOLATING[0]);
    args.extend_from_slice(&[
        "--trace-dir",
        &traces,
        "--json",
        "c.json",
        "--junit",
        "c.xml",
    ]);
    let o = owm_in(&d, &args);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    unsplit(&stdout(&o), &["\nred"], "check stdout");
    let v = read_json(&d.join("c.json"));
    let reproduce = v["reproduce"].as_str().unwrap().to_string();
    let again = sh_in(&elsewhere, &reproduce);
    assert_eq!(code(&again), 1, "{reproduce}: {}", stderr(&again));
    let violated = json_cases(&v)
        .iter()
        .find(|c| c["verdict"] == "violated")
        .unwrap();
    let replay = violated["trace"]["replay"].as_str().unwrap();
    let xml = std::fs::read_to_string(d.join("c.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .and_then(|n| n.text())
        .unwrap();
    // The command's own line feed is inside its quotes: the text ends with it.
    assert!(
        failure.ends_with(&format!("\nreplay: {replay}")),
        "{failure}"
    );
    let again = sh_in(&elsewhere, replay);
    assert_eq!(code(&again), 1, "{replay}: {}", stderr(&again));
    replayed(&again, violated["name"].as_str().unwrap());

    // An error: the command as given, after a `cd` to where it was given.
    std::fs::write(
        d.join(format!("bad {name}.toml")),
        "policies = [\"none\"]\nseed = -1\n",
    )
    .unwrap();
    let bad = format!("bad {name}.toml");
    let o = owm_in(&d, &["run", &bad, "--out", &out, "--json", "e.json"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let reproduce = read_json(&d.join("e.json"))["reproduce"]
        .as_str()
        .unwrap()
        .to_string();
    let o2 = owm_in(&d, &["sweep", &bad, "--out", &sout, "--json", "e2.json"]);
    assert_eq!(code(&o2), 2, "{}", stderr(&o2));
    let typed = read_json(&d.join("e2.json"))["reproduce"]
        .as_str()
        .unwrap()
        .to_string();
    let again = sh_in(&elsewhere, &reproduce);
    assert_eq!(code(&again), 2, "{reproduce}: {}", stderr(&again));
    let said = ".toml:2: key `seed`: -1 is out of range: must be 0 or more";
    assert!(stderr(&o).contains(said), "{}", stderr(&o));
    assert!(
        stderr(&again).contains(said),
        "{reproduce}: {}",
        stderr(&again)
    );
    assert!(
        typed.starts_with(&format!("cd {} && owm sweep ", s(&d))),
        "{typed}"
    );
    let again = sh_in(&elsewhere, &typed);
    assert_eq!(code(&again), 2, "{typed}: {}", stderr(&again));
    assert_eq!(stderr(&again), stderr(&o2), "{typed}");
}

/// A path owm must hand on as text (the device directory and sockets nbdkit gives the
/// plugin as UTF-8, a backup's or detach's `--to` in the JSON request to the server) is
/// refused before anything is done when it is not UTF-8 (exit 2, the path shown
/// escaped), never changed into another path: each byte that is not UTF-8 would become
/// U+FFFD and name another directory, whose device would then be served (here one is
/// made there), or the request could not be built.
#[test]
fn a_path_passed_on_as_text_is_refused_when_not_utf8() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    use std::process::Command;
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join(OsStr::from_bytes(b"nu\xffd"));
    // The directory the path would become once made UTF-8 text, holding a file that
    // must stay as it is.
    let lossy = tmp.path().join("nu\u{FFFD}d");
    std::fs::create_dir(&lossy).unwrap();
    std::fs::write(lossy.join("keep"), b"x").unwrap();
    let run = |args: &[&OsStr]| {
        Command::new(env!("CARGO_BIN_EXE_owm"))
            .args(args)
            .current_dir(tmp.path())
            .output()
            .unwrap()
    };
    let sock = tmp.path().join("s.sock");
    let o = run(&[
        OsStr::new("serve"),
        bad.as_os_str(),
        OsStr::new("--create"),
        OsStr::new("--variant"),
        OsStr::new("cow"),
        OsStr::new("--size-bytes"),
        OsStr::new("65536"),
        OsStr::new("--socket"),
        sock.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("nu\\xffd"), "{}", stderr(&o));
    assert!(stderr(&o).contains("not UTF-8"), "{}", stderr(&o));
    assert!(!bad.exists(), "nothing created");
    assert_eq!(names(&lossy), ["keep"], "the other directory untouched");
    for op in ["backup", "detach"] {
        let o = run(&[
            OsStr::new("device"),
            OsStr::new(op),
            OsStr::new("--dir"),
            lossy.as_os_str(),
            OsStr::new("--to"),
            OsStr::new(OsStr::from_bytes(b"x\xff.img")),
        ]);
        assert_eq!(o.status.code(), Some(2), "{op}: {}", stderr(&o));
        assert!(stderr(&o).contains("--to x\\xff.img"), "{}", stderr(&o));
        assert!(stderr(&o).contains("not UTF-8"), "{}", stderr(&o));
    }
}

/// A check's violated case names its trace file in the JSON (`trace.file`) by its
/// absolute path, whatever directory `--trace-dir` is relative to: the path itself
/// when it is UTF-8 (a line feed and an ESC in it read back from the JSON exactly),
/// else the shell word its `replay` carries (it begins with `'`), which names the same
/// file in `sh` from another directory. Before, it was relative and its bytes that
/// are not UTF-8 became U+FFFD.
#[test]
fn a_checks_trace_file_is_absolute_and_names_the_file() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("work");
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    for (dir, utf8) in [(&b"c\nk\x1b"[..], true), (&b"c\nk\x1b\xff"[..], false)] {
        let traces = Path::new(OsStr::from_bytes(dir)).join("tv");
        let mut args: Vec<&OsStr> = vec![
            OsStr::new("check"),
            OsStr::new("--threads"),
            OsStr::new("1"),
        ];
        args.extend(CHECK_VIOLATING[0].iter().map(OsStr::new));
        args.extend([
            OsStr::new("--trace-dir"),
            traces.as_os_str(),
            OsStr::new("--json"),
            OsStr::new("v.json"),
        ]);
        let o = Command::new(env!("CARGO_BIN_EXE_owm"))
            .args(&args)
            .current_dir(&d)
            .output()
            .unwrap();
        assert_eq!(code(&o), 1, "{}", stderr(&o));
        let v = read_json(&d.join("v.json"));
        let violated: Vec<&serde_json::Value> = json_cases(&v)
            .iter()
            .filter(|c| c["verdict"] == "violated")
            .collect();
        assert!(!violated.is_empty(), "{v}");
        for c in violated {
            let file = c["trace"]["file"].as_str().unwrap();
            let replay = c["trace"]["replay"].as_str().unwrap();
            if utf8 {
                assert_eq!(
                    Path::new(file).parent(),
                    Some(d.join(&traces).as_path()),
                    "{c}"
                );
                assert!(Path::new(file).is_file(), "{c}");
            } else {
                assert!(file.starts_with('\''), "{c}");
                assert_eq!(replay, format!("owm check --replay {file}"), "{c}");
                assert!(!file.contains('\u{FFFD}'), "{c}");
            }
            let found = sh_in(&elsewhere, &format!("test -f {}", shell_of(file, utf8)));
            assert_eq!(code(&found), 0, "{file}: not a file from elsewhere");
        }
    }
}

/// `file` as one shell word: quoted when it is a path, as it is when it is one already.
fn shell_of(file: &str, path: bool) -> String {
    if path {
        format!("'{}'", file.replace('\'', "'\\''"))
    } else {
        file.to_string()
    }
}

/// `owm device --json`: a refusal carries the path it is about as `path`, the path
/// itself (a tab and a line feed in it as JSON holds them), while its `error` shows
/// them `\xHH`: a `--to` refused here, one that is not UTF-8 (as the shell word that
/// names it), and a control socket that cannot be reached.
#[test]
fn a_device_refusal_in_json_carries_its_path() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let dir_to = d.join("rec\tord\n.bak");
    std::fs::create_dir(&dir_to).unwrap();
    let raw_to = d.join(OsStr::from_bytes(b"x\xff\t.img"));
    let socket = d.join("no\tsuch.sock");
    let device = |args: &[&OsStr]| {
        let o = Command::new(env!("CARGO_BIN_EXE_owm"))
            .arg("device")
            .args(args)
            .arg("--json")
            .current_dir(d)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)));
        (o, v)
    };
    let control = [OsStr::new("--control"), socket.as_os_str()];
    // A directory at --to: refused here.
    let (o, v) = device(
        &[
            &[
                OsStr::new("backup"),
                OsStr::new("--to"),
                OsStr::new("rec\tord\n.bak"),
            ][..],
            &control,
        ]
        .concat(),
    );
    assert_eq!(code(&o), 2, "{v}");
    assert_eq!(v["kind"], "bad-request", "{v}");
    assert_eq!(v["path"], s(&dir_to), "{v}");
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("rec\\x09ord\\x0a.bak"),
        "{v}"
    );
    // Not UTF-8: the shell word, which names the same bytes.
    let (o, v) = device(
        &[
            &[OsStr::new("detach"), OsStr::new("--to"), raw_to.as_os_str()][..],
            &control,
        ]
        .concat(),
    );
    assert_eq!(code(&o), 2, "{v}");
    let word = v["path"].as_str().unwrap();
    assert!(word.starts_with('\''), "{v}");
    let printed = sh_in(d, &format!("printf %s {word}"));
    assert_eq!(printed.stdout, raw_to.as_os_str().as_bytes(), "{v}");
    // No server at the control socket.
    let (o, v) = device(&[&[OsStr::new("status")][..], &control].concat());
    assert_eq!(code(&o), 1, "{v}");
    assert_eq!(v["kind"], "unreachable", "{v}");
    assert_eq!(v["path"], s(&socket), "{v}");
    assert!(
        v["error"].as_str().unwrap().contains("no\\x09such.sock"),
        "{v}"
    );
}
