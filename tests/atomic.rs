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

#[test]
fn a_failing_write_leaves_the_old_files_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    ok(&owm(&[
        "run",
        "scenarios/fig3.toml",
        "--seed",
        "1",
        "--out",
        &s(&out),
    ]));
    let old_svg = bytes(&out, "timing-quiesce.svg");
    // trace.csv becomes a non-empty directory: renaming the new trace over it fails.
    std::fs::remove_file(out.join("trace.csv")).unwrap();
    std::fs::create_dir_all(out.join("trace.csv").join("x")).unwrap();
    let o = owm(&[
        "run",
        "scenarios/fig3.toml",
        "--seed",
        "2",
        "--out",
        &s(&out),
    ]);
    fails_with(&o, &["trace.csv"]);
    // Written before the failure: the complete new file. After it: the old one, whole.
    let fresh = tmp.path().join("fresh");
    ok(&owm(&[
        "run",
        "scenarios/fig3.toml",
        "--seed",
        "2",
        "--out",
        &s(&fresh),
    ]));
    assert!(bytes(&out, "summary.csv") == bytes(&fresh, "summary.csv"));
    assert!(bytes(&out, "timing-quiesce.svg") == old_svg);
    assert!(
        bytes(&fresh, "timing-quiesce.svg") != old_svg,
        "seed 2 draws another picture"
    );
    for n in names(&out) {
        assert!(
            !n.ends_with(".tmp") && !n.starts_with('.'),
            "left behind: {n}"
        );
    }
}
