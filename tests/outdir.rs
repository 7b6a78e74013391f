//! Output directories: `--out` never destroys files owm did not write, two runs into
//! one directory never destroy each other's work, verdict files are checked writable
//! before any work, and errors reach the user once and without a panic.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::util::*;

/// Whether this process runs as root, where `chmod` does not stop a write.
fn root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| {
            use std::os::unix::fs::MetadataExt;
            m.uid() == 0
        })
        .unwrap_or(false)
}

#[test]
fn a_directory_with_a_user_file_beside_an_owm_file_is_refused_and_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().join("w");
    std::fs::create_dir(&w).unwrap();
    std::fs::write(w.join("notes.md"), "notes\n").unwrap();
    // A file owm writes (`owm check --json w/verdicts.json`), so the directory looked
    // like an earlier output.
    std::fs::write(w.join("verdicts.json"), "{}\n").unwrap();
    let o = owm(&["run", "scenarios/fig3.toml", "--quiet", "--out", &s(&w)]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["not an earlier owm output", "notes.md"]);
    assert_eq!(names(&w), vec!["notes.md", "verdicts.json"]);
    assert_eq!(bytes(&w, "notes.md"), b"notes\n");
}

#[test]
fn a_sweep_into_a_directory_with_a_subdirectory_is_refused_and_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().join("w");
    std::fs::create_dir_all(w.join("keep")).unwrap();
    std::fs::write(w.join("keep/thesis.tex"), "\\begin{document}\n").unwrap();
    std::fs::write(w.join("verdicts.json"), "").unwrap();
    let o = owm(&[
        "sweep",
        "scenarios/sweep-admission.toml",
        "--quiet",
        "--out",
        &s(&w),
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["not an earlier owm output", "keep/"]);
    assert_eq!(bytes(&w.join("keep"), "thesis.tex"), b"\\begin{document}\n");
}

/// An entry of an `--out` directory that is neither a file nor a directory is named
/// for what it is (a socket, a named pipe, a symbolic link), never as a directory
/// (`name/`), and kept.
#[test]
fn an_entry_that_is_no_file_is_named_for_what_it_is() {
    let tmp = tempfile::tempdir().unwrap();
    type Make<'a> = &'a dyn Fn(&Path);
    let cases: [(&str, Make); 3] = [
        ("control.sock (a socket)", &|p| {
            std::mem::forget(std::os::unix::net::UnixListener::bind(p).unwrap());
        }),
        ("control.sock (a named pipe)", &|p| {
            let made = Command::new("mkfifo").arg(p).status().unwrap();
            assert!(made.success());
        }),
        ("control.sock (a symbolic link)", &|p| {
            std::os::unix::fs::symlink("/nonexistent", p).unwrap();
        }),
    ];
    for (i, (shown, make)) in cases.iter().enumerate() {
        let w = tmp.path().join(format!("w{i}"));
        std::fs::create_dir_all(&w).unwrap();
        make(&w.join("control.sock"));
        let o = owm(&["run", "scenarios/fig3.toml", "--quiet", "--out", &s(&w)]);
        assert_eq!(code(&o), 2, "{shown}: {}", stderr(&o));
        fails_with(&o, &[&format!("{shown} was not written by owm")]);
        assert!(!stderr(&o).contains("control.sock/"), "{}", stderr(&o));
        assert_eq!(names(&w), ["control.sock"], "{shown}");
    }
}

#[test]
fn an_earlier_output_with_its_plots_and_verdicts_is_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().join("w");
    let json = s(&w.join("verdicts.json"));
    ok(&owm(&[
        "run",
        "scenarios/fig3.toml",
        "--quiet",
        "--out",
        &s(&w),
    ]));
    ok(&owm(&[
        "run",
        "scenarios/fig3.toml",
        "--quiet",
        "--out",
        &s(&w),
        "--json",
        &json,
    ]));
    assert!(names(&w).contains(&"timing.png".to_string()));
    assert!(names(&w).contains(&"verdicts.json".to_string()));
    // The run's plots and the verdict file count as owm's: replaced again.
    ok(&owm(&[
        "run",
        "scenarios/fig3.toml",
        "--quiet",
        "--out",
        &s(&w),
    ]));
    assert!(!names(&w).contains(&"verdicts.json".to_string()));
}

/// A live run holds a lock on its staging directory: a second run into the same
/// target is refused at once and leaves it alone; once the first is killed the next
/// run removes its staging directory as stale. The first run pauses at a test hook
/// (no timing).
#[test]
fn a_locked_staging_directory_is_a_live_run_and_is_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let args = ["run", "scenarios/fig3.toml", "--quiet", "--out", &s(&out)];
    let staging = || -> Vec<String> {
        names(tmp.path())
            .into_iter()
            .filter(|n| n.starts_with(".o.staging-"))
            .collect()
    };
    let mut live = spawn_paused(&args, "policy quiesce");
    let dir = tmp.path().join(&staging()[0]);
    let o = owm(&args);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["another owm run is writing", &s(&out)]);
    assert!(dir.is_dir(), "the live run's staging directory is kept");
    assert!(!out.exists(), "refused before writing anything");
    live.child.kill().unwrap();
    live.child.wait().unwrap();
    assert_eq!(
        staging().len(),
        1,
        "the killed run left its staging directory"
    );
    ok(&owm(&args));
    assert!(
        staging().is_empty(),
        "the stale staging directory was removed"
    );
}

/// Two processes: the first pauses in the middle of its run (a test hook, no timing);
/// the second, into the same target, is refused at once; the first then finishes
/// with exit 0 and its whole output.
#[test]
fn a_second_run_into_a_live_target_is_refused_and_the_first_completes() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let args = ["run", "scenarios/fig3.toml", "--quiet", "--out", &s(&out)];
    let mut first = spawn_paused(&args, "policy quiesce");
    let second = owm(&args);
    assert_eq!(code(&second), 2, "{}", stderr(&second));
    fails_with(&second, &["another owm run is writing"]);
    drop(first.child.stdin.take());
    let mut rest = String::new();
    first.stderr.read_to_string(&mut rest).unwrap();
    let status = first.child.wait().unwrap();
    assert!(
        status.success(),
        "the first run failed: {}{rest}",
        first.said
    );
    assert!(names(&out).contains(&"summary.csv".to_string()));
    assert!(names(&out).contains(&"trace.csv".to_string()));
}

fn refused_before_work(dir: &Path) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    for flag in ["--junit", "--json"] {
        let file = s(&dir.join("r.xml"));
        let o = owm(&[
            "run",
            "scenarios/fig3.toml",
            "--quiet",
            "--out",
            &s(&out),
            flag,
            &file,
        ]);
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        fails_with(&o, &[flag, "not writable"]);
        assert!(!out.exists(), "{flag}: refused before any work");
    }
}

/// `/proc` refuses new files even to root.
#[test]
fn a_verdict_file_in_a_directory_that_refuses_files_is_refused_before_work() {
    refused_before_work(Path::new("/proc"));
}

#[test]
fn a_verdict_file_in_a_read_only_directory_is_refused_before_work() {
    if root() {
        // chmod does not bind root: the /proc test above covers the check.
        eprintln!("skipped: running as root, where a mode-555 directory is writable");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let ro = tmp.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    refused_before_work(&ro);
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A write that fails mid-run (its staging directory removed while the run is paused
/// before a policy) reports the OS error once, not once per layer of the error.
#[test]
fn an_os_error_is_printed_once() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let mut p = spawn_paused(
        &["run", "scenarios/fig3.toml", "--quiet", "--out", &s(&out)],
        "policy quiesce",
    );
    let staging: Vec<String> = names(tmp.path())
        .into_iter()
        .filter(|n| n.starts_with(".o.staging-"))
        .collect();
    assert_eq!(staging.len(), 1, "{staging:?}");
    std::fs::remove_dir_all(tmp.path().join(&staging[0])).unwrap();
    drop(p.child.stdin.take());
    let mut rest = String::new();
    p.stderr.read_to_string(&mut rest).unwrap();
    let status = p.child.wait().unwrap();
    assert_eq!(status.code(), Some(2), "{rest}");
    let needle = "No such file or directory (os error 2)";
    // The first output it could not make: trace.csv's file was opened with the first
    // policy, so summary.csv, the first file made after the pause.
    assert!(rest.contains("summary.csv"), "{rest}");
    assert_eq!(rest.matches(needle).count(), 1, "{rest}");
}

/// Nobody reads stderr (a pipe whose reader is gone): the error cannot be printed, but
/// the exit status is still 2, not a panic's 101.
#[test]
fn a_closed_stderr_does_not_panic() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let o = Command::new(env!("CARGO_BIN_EXE_owm"))
        .args(["run", "no/such/scenario.toml"])
        .current_dir(repo())
        .stdout(Stdio::null())
        .stderr(writer)
        .status()
        .unwrap();
    assert_eq!(o.code(), Some(2));
}

/// A stdout that cannot be written (a full disk: `/dev/full`) loses the report: exit 2,
/// said on stderr, never 0; a stdout whose reader has gone (`owm run ... | head`) is
/// the reader's choice and leaves the verdict's exit status as it was.
#[test]
fn a_stdout_that_cannot_be_written_is_exit_2_and_a_closed_one_is_not() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |stdout: Stdio, out: &str| {
        Command::new(env!("CARGO_BIN_EXE_owm"))
            .args(["run", "scenarios/fig3.toml", "--quiet", "--out"])
            .arg(tmp.path().join(out))
            .current_dir(repo())
            .stdout(stdout)
            .stderr(Stdio::piped())
            .output()
            .unwrap()
    };
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full (Linux)");
    let o = run(Stdio::from(full), "full");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("writing the report to stdout"),
        "{}",
        stderr(&o)
    );
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let o = run(Stdio::from(writer), "closed");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("stdout"), "{}", stderr(&o));
}

/// `--junit` and `--json` files written inside `--out` are owm's: a rerun replaces the
/// directory (and writes them again) instead of refusing it; an XML file owm did not
/// write is still refused and kept.
#[test]
fn verdict_files_inside_the_output_directory_do_not_block_a_rerun() {
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().join("w");
    std::fs::create_dir(&w).unwrap();
    let (xml, json) = (s(&w.join("j.xml")), s(&w.join("j.json")));
    let run = || {
        owm(&[
            "run",
            "scenarios/fig3.toml",
            "--quiet",
            "--out",
            &s(&w),
            "--junit",
            &xml,
            "--json",
            &json,
        ])
    };
    for _ in 0..3 {
        ok(&run());
        assert!(names(&w).contains(&"j.xml".to_string()));
        assert_eq!(read_json(&w.join("j.json"))["exit_code"], 0);
    }
    std::fs::write(w.join("k.xml"), "<?xml version=\"1.0\"?>\n<mine/>\n").unwrap();
    let o = run();
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["not an earlier owm output", "k.xml"]);
    assert_eq!(bytes(&w, "k.xml"), b"<?xml version=\"1.0\"?>\n<mine/>\n");
    assert_eq!(read_json(&w.join("j.json"))["exit_code"], 2);
}

/// A `--json` or `--junit` path that collides with `--out` (`--trace-dir` for `check`)
/// or with the other verdict file is refused before any work, naming both flags, and
/// nothing is written: one of the outputs (`summary.csv`, `sweep.csv`, a trace), by
/// any spelling (`..`, a symbolic link), the directory itself (existing or not), a
/// file in a subdirectory of it, a name a rerun would not recognise as owm's, or one
/// file for both flags. Before, `--json O/summary.csv` replaced the published
/// summary.csv with JSON (exit 0), `--json O` failed after publishing, and
/// `--json F --junit F` wrote F twice while refusing it.
#[test]
fn verdict_files_that_collide_with_the_output_are_refused_before_work() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let o = d.join("o");
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "scenarios/fig3.toml", "--quiet", "--out"];
        let out = s(&o);
        args.push(&out);
        args.extend(extra);
        owm(&args)
    };
    ok(&run(&[]));
    let before: Vec<(String, Vec<u8>)> = names(&o)
        .into_iter()
        .map(|n| (n.clone(), bytes(&o, &n)))
        .collect();
    std::os::unix::fs::symlink(o.join("summary.csv"), d.join("link.json")).unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        ("--json", s(&o.join("summary.csv")), "names summary.csv"),
        ("--junit", s(&o.join("trace.csv")), "names trace.csv"),
        (
            "--json",
            format!("{}/../o/summary.csv", s(&o)),
            "names summary.csv",
        ),
        ("--json", s(&d.join("link.json")), "names summary.csv"),
        ("--json", s(&o), "itself"),
        ("--junit", s(&o.join("notes.txt")), "*.json or *.xml"),
        ("--json", s(&o.join("sub/v.json")), "subdirectory"),
    ];
    for (flag, path, needle) in &cases {
        let r = run(&[flag, path]);
        assert_eq!(code(&r), 2, "{flag} {path}: {}", stderr(&r));
        fails_with(&r, &[flag, "--out", needle]);
        assert!(
            !stdout(&r).contains("wrote"),
            "{flag} {path}: {}",
            stdout(&r)
        );
        let after: Vec<(String, Vec<u8>)> = names(&o)
            .into_iter()
            .map(|n| (n.clone(), bytes(&o, &n)))
            .collect();
        assert!(after == before, "{flag} {path}: --out changed");
    }
    // The other verdict file, clear on its own, records the refusal.
    let xml = d.join("ok.xml");
    let r = run(&["--json", &s(&o.join("summary.csv")), "--junit", &s(&xml)]);
    assert_eq!(code(&r), 2, "{}", stderr(&r));
    let text = std::fs::read_to_string(&xml).unwrap();
    assert!(
        text.contains("<error") && text.contains("names summary.csv"),
        "{text}"
    );
    assert_eq!(
        bytes(&o, "summary.csv"),
        before.iter().find(|f| f.0 == "summary.csv").unwrap().1
    );
    // Not existing yet: refused before the run makes it.
    let fresh = d.join("fresh");
    let r = owm(&[
        "run",
        "scenarios/fig3.toml",
        "--quiet",
        "--out",
        &s(&fresh),
        "--json",
        &s(&fresh),
    ]);
    assert_eq!(code(&r), 2, "{}", stderr(&r));
    fails_with(&r, &["--json", "--out", "itself"]);
    assert!(!fresh.exists(), "refused before work");
    // One file for both: neither is written.
    let same = s(&d.join("v.out"));
    let r = run(&["--json", &same, "--junit", &same]);
    assert_eq!(code(&r), 2, "{}", stderr(&r));
    fails_with(&r, &["--junit", "--json", "same file"]);
    assert!(
        !d.join("v.out").exists(),
        "written while refused: {}",
        stdout(&r)
    );
    // A sweep's sweep.csv, and a check's trace directory.
    let sw = d.join("sw");
    let r = owm(&[
        "sweep",
        "scenarios/sweep-space.toml",
        "--quiet",
        "--out",
        &s(&sw),
        "--junit",
        &s(&sw.join("sweep.csv")),
    ]);
    assert_eq!(code(&r), 2, "{}", stderr(&r));
    fails_with(&r, &["--junit", "--out", "names sweep.csv"]);
    assert!(!sw.exists(), "refused before work");
    let t = d.join("t");
    let r = owm(&[
        "check",
        "--threads",
        "1",
        "--trace-dir",
        &s(&t),
        "--json",
        &s(&t.join("b-complete.trace")),
    ]);
    assert_eq!(code(&r), 2, "{}", stderr(&r));
    fails_with(&r, &["--json", "--trace-dir"]);
    assert!(!t.exists(), "refused before the search");
    // A verdict file inside --out, named as one, is still written there.
    ok(&run(&["--json", &s(&o.join("verdicts.json"))]));
    assert_eq!(read_json(&o.join("verdicts.json"))["exit_code"], 0);
}

/// Every refusal of a verdict file that collides with `--out` suggests a file ("such as
/// P"), `*.xml` for `--junit` and `*.json` for `--json`, and that suggestion is
/// accepted: the run given it exits 0 and writes its verdicts there. Inside `--out`
/// only when it exists; a file inside one that does not exist yet is refused saying
/// so, before `--out` is made. Before, `--junit O` with a fresh `O` suggested
/// `O/verdicts.json`, then refused it ("its directory O does not exist").
#[test]
fn a_verdict_clash_suggests_a_file_that_is_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let run = |out: &Path, extra: &[&str]| {
        let out = s(out);
        let mut args = vec!["run", "scenarios/fig3.toml", "--quiet", "--out", &out];
        args.extend(extra);
        owm(&args)
    };
    let suggested = |text: &str| -> String {
        let at = text.find("such as ").expect("a suggestion") + "such as ".len();
        let rest = &text[at..];
        let end = rest.find([' ', ')', '\n']).unwrap_or(rest.len());
        rest[..end].to_string()
    };
    let existing = d.join("done");
    ok(&run(&existing, &[]));
    let fresh = d.join("fresh");
    let deep = d.join("new/deeper/o");
    let cases: Vec<(&Path, &str, PathBuf, &str)> = vec![
        (&fresh, "--junit", fresh.clone(), "fresh.xml"),
        (&fresh, "--json", fresh.clone(), "fresh.json"),
        (&fresh, "--json", fresh.join("v.json"), "does not exist yet"),
        (
            &fresh,
            "--junit",
            fresh.join("summary.csv"),
            "names summary.csv",
        ),
        (&fresh, "--junit", fresh.join("sub/v.xml"), "subdirectory"),
        (&deep, "--junit", deep.clone(), "in an existing directory"),
        (&existing, "--junit", existing.clone(), "done/verdicts.xml"),
        (
            &existing,
            "--json",
            existing.join("trace.csv"),
            "done/verdicts.json",
        ),
        (
            &existing,
            "--junit",
            existing.join("notes.txt"),
            "done/verdicts.xml",
        ),
    ];
    for (out, flag, path, needle) in &cases {
        let r = run(out, &[flag, &s(path)]);
        assert_eq!(code(&r), 2, "{flag} {}: {}", s(path), stderr(&r));
        fails_with(&r, &[flag, "--out", needle]);
        assert!(
            !fresh.exists() && !d.join("new").exists(),
            "refused before work"
        );
        let text = stderr(&r);
        let hint = suggested(&text);
        let ext = if *flag == "--junit" { ".xml" } else { ".json" };
        assert!(hint.ends_with(ext), "{hint}: {text}");
        let r = run(out, &[flag, &hint]);
        ok(&r);
        let written = std::fs::read_to_string(&hint).unwrap();
        let begins = if *flag == "--junit" { "<?xml" } else { "{" };
        assert!(written.starts_with(begins), "{hint}: {written}");
        std::fs::remove_file(&hint).unwrap();
        for o in [&fresh, &deep] {
            if o.exists() {
                std::fs::remove_dir_all(o).unwrap();
            }
        }
        let _ = std::fs::remove_dir_all(d.join("new"));
    }
}

/// A file of the user's saved under a name owm writes (`summary.csv`, `sweep.toml`)
/// in `--out` is foreign unless it begins as owm writes it: refused naming it, kept.
/// Before, the scenario saved as `O/summary.csv` and run with `--out O` was replaced.
#[test]
fn a_users_file_under_an_output_name_is_refused_and_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let o = tmp.path().join("o");
    ok(&owm(&[
        "run",
        "scenarios/fig3.toml",
        "--quiet",
        "--out",
        &s(&o),
    ]));
    let scenario = std::fs::read(repo().join("scenarios/fig3.toml")).unwrap();
    std::fs::write(o.join("summary.csv"), &scenario).unwrap();
    let r = owm(&[
        "run",
        &s(&o.join("summary.csv")),
        "--quiet",
        "--out",
        &s(&o),
    ]);
    assert_eq!(code(&r), 2, "{}", stderr(&r));
    fails_with(
        &r,
        &[
            "not an earlier owm output",
            "summary.csv was not written by owm",
        ],
    );
    assert_eq!(bytes(&o, "summary.csv"), scenario);
    // A sweep file kept as sweep.toml with no sweep.csv beside it.
    let w = tmp.path().join("w");
    std::fs::create_dir(&w).unwrap();
    let sweep = std::fs::read(repo().join("scenarios/sweep-admission.toml")).unwrap();
    std::fs::write(w.join("sweep.toml"), &sweep).unwrap();
    let r = owm(&[
        "sweep",
        &s(&w.join("sweep.toml")),
        "--quiet",
        "--out",
        &s(&w),
    ]);
    assert_eq!(code(&r), 2, "{}", stderr(&r));
    fails_with(&r, &["sweep.toml was not written by owm"]);
    assert_eq!(bytes(&w, "sweep.toml"), sweep);
}

/// A `--json` or `--junit` path naming a file the command reads is refused before any
/// work, exit 2, naming both paths, and the input is left byte-identical: `run`'s
/// scenario (by its path, a `./` spelling and a symbolic link) and its trace
/// (`workload.path`), `sweep`'s sweep file and its trace, `check`'s `--model` file, and
/// `merge`'s shard directories (a file in one, existing or not, or the directory
/// itself). Before, each was overwritten by the verdict file, exit 0: a scenario that
/// no longer ran, a shard that no longer merged.
#[test]
fn verdict_files_naming_an_input_are_refused_before_work() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let scenario = std::fs::read_to_string(repo().join("scenarios/fig3.toml")).unwrap();
    let sc = write(d, "S.toml", &scenario);
    std::os::unix::fs::symlink(d.join("S.toml"), d.join("link.toml")).unwrap();
    let trace = "time,op,offset,length\n0,W,0,4096\n100,W,4096,4096\n200,R,0,4096\n";
    let tr = write(d, "tr.csv", trace);
    let traced = write(
        d,
        "T.toml",
        "policies = [\"none\", \"cow\"]\n[workload]\nkind = \"trace\"\npath = \"tr.csv\"\n\
         format = \"csv\"\n",
    );
    let sweep = write(d, "sw.toml", crate::verdicts::SWEEP);
    let traced_sweep = write(
        d,
        "tsw.toml",
        "policies = [\"none\", \"cow\"]\n[[axis]]\nkey = \"workload.time_scale\"\n\
         values = [0.5, 1.0]\n[scenario.workload]\nkind = \"trace\"\npath = \"tr.csv\"\n\
         format = \"csv\"\n",
    );
    let model = write(
        d,
        "m.toml",
        "blocks = 2\n[[transaction]]\nrole = \"old\"\nfrom = 0\nto = 1\namount = 5\n\
         [[transaction]]\nrole = \"new\"\nfrom = 1\nto = 0\namount = 3\n",
    );
    let shard = d.join("s1");
    ok(&owm(&[
        "sweep",
        &sweep,
        "--shard",
        "1/1",
        "--quiet",
        "--out",
        &s(&shard),
    ]));
    let shard_files: Vec<(String, Vec<u8>)> = names(&shard)
        .into_iter()
        .filter(|n| shard.join(n).is_file())
        .map(|n| (n.clone(), bytes(&shard, &n)))
        .collect();
    let out = s(&d.join("o"));
    let dotted = format!("{}/./S.toml", s(d));
    let link = s(&d.join("link.toml"));
    let in_shard = s(&shard.join("shard.toml"));
    let new_in_shard = s(&shard.join("new.xml"));
    let trace_dir = s(&d.join("traces"));
    let shard_dir = s(&shard);
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (vec!["run", &sc, "--json", &sc], &sc, "the scenario"),
        (vec!["run", &sc, "--junit", &dotted], &sc, "the scenario"),
        (vec!["run", &sc, "--json", &link], &sc, "the scenario"),
        (
            vec!["run", &traced, "--json", &tr],
            &tr,
            "trace (workload.path)",
        ),
        (
            vec!["sweep", &sweep, "--junit", &sweep],
            &sweep,
            "the sweep file",
        ),
        (
            vec!["sweep", &traced_sweep, "--json", &tr],
            &tr,
            "trace the sweep replays",
        ),
        (
            vec![
                "check",
                "--model",
                &model,
                "--trace-dir",
                &trace_dir,
                "--json",
                &model,
            ],
            &model,
            "the --model file",
        ),
        (
            vec!["merge", &shard_dir, "--json", &in_shard],
            &in_shard,
            "inside the shard",
        ),
        (
            vec!["merge", &shard_dir, "--junit", &new_in_shard],
            &in_shard,
            "inside the shard",
        ),
    ];
    let mut cases = cases;
    cases.push((
        vec!["merge", &shard_dir, "--json", &shard_dir],
        &in_shard,
        "is the shard",
    ));
    for (args, input, needle) in &cases {
        let before = std::fs::read(input).unwrap();
        let mut args = args.clone();
        if args[0] != "check" {
            args.extend(["--out", &out]);
        }
        if args[0] == "run" || args[0] == "sweep" {
            args.push("--quiet");
        }
        let r = owm(&args);
        assert_eq!(code(&r), 2, "{args:?}: {}", stderr(&r));
        let flag = args.iter().find(|a| a.starts_with("--j")).unwrap();
        fails_with(&r, &[flag, needle, "which this command reads"]);
        assert_eq!(
            std::fs::read(input).unwrap(),
            before,
            "{args:?}: {input} changed"
        );
        assert!(!d.join("o").exists(), "{args:?}: refused after work");
        assert!(!d.join("traces").exists(), "{args:?}: refused after work");
        assert!(!shard.join("new.xml").exists(), "{args:?}");
    }
    // The shard still merges, and the scenario still runs.
    let after: Vec<(String, Vec<u8>)> = names(&shard)
        .into_iter()
        .filter(|n| shard.join(n).is_file())
        .map(|n| (n.clone(), bytes(&shard, &n)))
        .collect();
    assert!(after == shard_files, "a shard file changed");
    ok(&owm(&["merge", &shard_dir, "--out", &out]));
}

/// An `--out` that is a symbolic link to a directory is written where it points, the
/// link kept, run after run (`run` and `sweep`), with or without a trailing `/`, and
/// `check --trace-dir` likewise; a link that cannot be followed is
/// refused (exit 2) and nothing is made.
#[test]
fn an_out_that_is_a_link_is_written_where_it_points() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::create_dir(d.join("real")).unwrap();
    std::os::unix::fs::symlink("real", d.join("link")).unwrap();
    let sweep = write(d, "sw.toml", crate::verdicts::SWEEP);
    let fig3 = s(&repo().join("scenarios/fig3.toml"));
    let link = s(&d.join("link"));
    let slashed = format!("{link}/");
    for (args, file) in [
        (vec!["run", fig3.as_str()], "summary.csv"),
        (vec!["sweep", sweep.as_str()], "sweep.csv"),
    ] {
        // Spelled with a trailing `/` too.
        for out in [&link, &slashed] {
            let mut a = args.clone();
            a.extend(["--out", out, "--quiet"]);
            ok(&owm(&a));
            let m = std::fs::symlink_metadata(d.join("link")).unwrap();
            assert!(
                m.file_type().is_symlink(),
                "{args:?}: the link was replaced"
            );
            assert!(d.join("real").join(file).is_file(), "{args:?}");
            let mut in_d = names(d);
            in_d.sort();
            assert_eq!(
                in_d,
                ["link", "real", "sw.toml"],
                "{args:?} {out}: staging left"
            );
        }
    }
    let traces = d.join("traces");
    std::fs::create_dir(&traces).unwrap();
    std::os::unix::fs::symlink("traces", d.join("tlink")).unwrap();
    let tlink = format!("{}/", s(&d.join("tlink")));
    let r = owm(&[
        "check",
        "--old",
        "1",
        "--new",
        "1",
        "--simulate",
        "--walks",
        "5",
        "--trace-dir",
        &tlink,
    ]);
    // Random walks prove nothing: exit 3, their traces written.
    assert_eq!(code(&r), 3, "{}", stderr(&r));
    assert!(std::fs::symlink_metadata(d.join("tlink"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(traces.join("walks.toml").is_file(), "{:?}", names(&traces));
    std::os::unix::fs::symlink("nowhere", d.join("dangling")).unwrap();
    let r = owm(&["run", &fig3, "--out", &s(&d.join("dangling")), "--quiet"]);
    assert_eq!(code(&r), 2, "{}", stderr(&r));
    fails_with(
        &r,
        &["dangling: a symbolic link to nowhere", "give another --out"],
    );
    assert!(!d.join("nowhere").exists());
}
