//! `owm check`: verdicts, exit status, replayable counterexamples.

use crate::util::*;

#[test]
fn the_default_configuration_holds() {
    let o = owm(&["check", "--threads", "1"]);
    ok(&o);
    let text = stdout(&o);
    assert!(
        text.contains("A-consistent") && text.contains("held"),
        "{text}"
    );
    assert!(!text.contains("VIOLATED"), "{text}");
    assert!(
        text.contains("reproduce: owm check --variant cow"),
        "{text}"
    );
}

#[test]
fn a_violation_exits_non_zero_and_writes_a_trace_that_replays() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = s(&tmp.path().join("traces"));
    let args = [
        "check",
        "--discipline",
        "incremental",
        "--old",
        "1",
        "--new",
        "2",
        "--threads",
        "1",
    ];
    let o = owm(&[&args[..], &["--trace-dir", &dir]].concat());
    fails_with(&o, &["violated:", "B-complete"]);
    assert!(stdout(&o).contains("VIOLATED"), "{}", stdout(&o));
    let trace = tmp.path().join("traces").join("b-complete.trace");
    assert!(
        trace.exists(),
        "no trace file: {:?}",
        names(&tmp.path().join("traces"))
    );
    let o = owm(&["check", "--replay", &s(&trace)]);
    fails_with(&o, &["violated: B-complete", "reproduced"]);
    assert!(stdout(&o).contains("oracle:"), "{}", stdout(&o));
}

#[test]
fn bad_check_flags_are_refused() {
    fails_with(&owm(&["check", "--locks", "sideways"]), &["--locks"]);
    fails_with(
        &owm(&["check", "--old", "0", "--threads", "1"]),
        &["at least one old"],
    );
    fails_with(
        &owm(&["check", "--replay", "no/such.trace"]),
        &["no/such.trace"],
    );
}
