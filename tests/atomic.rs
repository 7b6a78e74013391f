//! Output files are written atomically: temp file in the same directory + rename.

use crate::util::*;

#[test]
fn a_run_leaves_no_temporary_files() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    ok(&owm(&["run", "scenarios/fig3.toml", "--out", &s(&out)]));
    ok(&owm(&[
        "run",
        "scenarios/fig3.toml",
        "--seed",
        "2",
        "--out",
        &s(&out),
    ]));
    for n in names(&out) {
        assert!(
            !n.ends_with(".tmp") && !n.starts_with('.'),
            "left behind: {n}"
        );
    }
}

/// A rerun replaces the whole directory: files of the earlier run (a policy no longer
/// named, a stray temporary file) do not survive beside the new ones.
#[test]
fn a_rerun_replaces_the_whole_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    ok(&owm(&["run", "scenarios/fig3.toml", "--out", &s(&out)]));
    assert!(names(&out).contains(&"timing-quiesce.svg".to_string()));
    std::fs::write(out.join(".summary.csv.x.tmp"), "stale").unwrap();
    let f = write(
        tmp.path(),
        "one.toml",
        &std::fs::read_to_string(repo().join("scenarios/fig3.toml"))
            .unwrap()
            .replace(
                "policies = [\"none\", \"quiesce\", \"mirroring\"]",
                "policies = [\"mirroring\"]",
            ),
    );
    ok(&owm(&["run", &f, "--out", &s(&out)]));
    let fresh = tmp.path().join("fresh");
    ok(&owm(&["run", &f, "--out", &s(&fresh)]));
    assert_eq!(names(&out), names(&fresh));
    for n in names(&fresh) {
        assert!(bytes(&out, &n) == bytes(&fresh, &n), "{n} differs");
    }
}

/// A directory that is neither empty nor an owm output is refused before any work
/// (it would be replaced whole), with exit 2.
#[test]
fn a_foreign_directory_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "thesis.tex", "precious");
    let o = owm(&["run", "scenarios/fig3.toml", "--out", &s(tmp.path())]);
    fails_with(&o, &["not an earlier owm output"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(names(tmp.path()), vec!["thesis.tex".to_string()]);
}

/// SIGKILL while the new run replaces the old: the directory holds exactly one complete
/// run (the new one: the swap is one step), the old run is left in a hidden staging
/// directory beside it, and the next run removes that. The run pauses at the replace
/// step through a test hook (`OWM_PAUSE_AT=replace`), so no timing is involved.
#[test]
fn sigkill_while_replacing_leaves_one_complete_run_and_the_next_run_cleans_up() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let fresh = |seed: &str| {
        let d = tmp.path().join(format!("fresh{seed}"));
        ok(&owm(&[
            "run",
            "scenarios/fig3.toml",
            "--seed",
            seed,
            "--out",
            &s(&d),
        ]));
        d
    };
    let (one, two) = (fresh("1"), fresh("2"));
    ok(&owm(&[
        "run",
        "scenarios/fig3.toml",
        "--seed",
        "1",
        "--out",
        &s(&out),
    ]));
    let mut paused = spawn_paused(
        &[
            "run",
            "scenarios/fig3.toml",
            "--seed",
            "2",
            "--out",
            &s(&out),
        ],
        "replace",
    );
    let child = &mut paused.child;
    child.kill().unwrap();
    child.wait().unwrap();
    let same = |a: &std::path::Path, b: &std::path::Path| {
        names(a) == names(b) && names(a).iter().all(|n| bytes(a, n) == bytes(b, n))
    };
    assert!(same(&out, &two), "the target holds the whole new run");
    let stale: Vec<String> = names(tmp.path())
        .into_iter()
        .filter(|n| n.starts_with(".o.staging-"))
        .collect();
    assert_eq!(stale.len(), 1, "{stale:?}");
    assert!(
        same(&tmp.path().join(&stale[0]), &one),
        "the old run, whole"
    );
    ok(&owm(&[
        "run",
        "scenarios/fig3.toml",
        "--seed",
        "1",
        "--out",
        &s(&out),
    ]));
    assert!(same(&out, &one));
    assert!(
        !names(tmp.path())
            .iter()
            .any(|n| n.starts_with(".o.staging-")),
        "the next run removed the stale staging directory"
    );
}
