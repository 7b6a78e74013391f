//! The shipped pair scenarios/faults-integrity.toml and faults-unchecked.toml through
//! `owm run`: the same misdirected writes and rotted blocks, with the engine's
//! integrity mode on (exit 0: every damaged block met is refused and counted, no
//! invariant violated) and off (exit 1: the oracle names the consequences under every
//! variant), as their comments state.

use crate::util::*;

#[test]
fn integrity_mode_refuses_the_damage_the_unchecked_run_serves() {
    let tmp = tempfile::tempdir().unwrap();
    let on_dir = tmp.path().join("on");
    let on = owm(&[
        "run",
        "scenarios/faults-integrity.toml",
        "--out",
        &s(&on_dir),
    ]);
    assert_eq!(on.status.code(), Some(0), "{}{}", stdout(&on), stderr(&on));
    let off_dir = tmp.path().join("off");
    let off = owm(&[
        "run",
        "scenarios/faults-unchecked.toml",
        "--out",
        &s(&off_dir),
    ]);
    assert_eq!(
        off.status.code(),
        Some(1),
        "{}{}",
        stdout(&off),
        stderr(&off)
    );
    let (on_rows, off_rows) = (
        csv_rows(&on_dir, "summary.csv"),
        csv_rows(&off_dir, "summary.csv"),
    );
    assert_eq!(on_rows.len(), 3);
    for (a, b) in on_rows.iter().zip(&off_rows) {
        let policy = &a["policy"];
        // The faults happened in both runs.
        assert!(
            num(a, "misdirected_writes") + num(a, "corrupted_blocks") > 0.0,
            "{policy}"
        );
        assert!(
            num(b, "misdirected_writes") + num(b, "corrupted_blocks") > 0.0,
            "{policy}"
        );
        // On: detected and refused, nothing violated.
        assert!(
            num(a, "integrity_detections") + num(a, "unreadable_blocks") > 0.0,
            "{policy}: no detection"
        );
        assert_eq!(a["violations"], "0", "{policy}");
        assert!(stdout(&on).contains(&format!("faults under {policy}: ")));
        // Off: nothing detected, the oracle catches it.
        assert_eq!(num(b, "integrity_detections"), 0.0, "{policy}");
        assert!(num(b, "violations") > 0.0, "{policy}: nothing caught");
        assert!(stdout(&off).contains(&format!("violation under {policy}: ")));
        // What the comment names: a block read back that no write produced, and the
        // live volume not what the committed transactions made.
        for inv in ["no-torn-write", "B-complete"] {
            assert!(b[inv].starts_with("violated"), "{policy}: {inv} {}", b[inv]);
        }
        // The checksum writes are priced.
        assert!(
            num(a, "physical_writes_per_logical_write")
                > num(b, "physical_writes_per_logical_write"),
            "{policy}"
        );
    }
}
