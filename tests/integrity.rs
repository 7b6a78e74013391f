//! The shipped pair scenarios/faults-integrity.toml and faults-unchecked.toml through
//! `owm run`: the same misdirected writes and rotted blocks, with the engine's
//! integrity mode on (exit 3: every damaged block met is refused and counted, no
//! invariant violated, and the invariants judged on images with refused blocks held on
//! the rest only, so they are incomplete) and off (exit 1: the oracle names the
//! consequences under every variant), as their comments state.

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
    assert_eq!(on.status.code(), Some(3), "{}{}", stdout(&on), stderr(&on));
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
    // A rotted record is never credited to a writer that did not write its value: the
    // initial image (every balance 1000) is named for its own value only.
    for line in stdout(&off).lines() {
        for (i, _) in line.match_indices(" written by the initial image") {
            let value = line[..i].rsplit(' ').next().unwrap_or_default();
            assert_eq!(value, "1000", "not the initial value: {line}");
        }
    }
    assert!(
        stdout(&off).contains("which no transaction wrote (not the initial value 1000 either)"),
        "{}",
        stdout(&off)
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
        // An archive pass that met a refused block is given up, not copied again (no
        // injected backup errors here): the engine's refusal to retire is counted, no
        // pass is, and stdout does not say one was copied again.
        if a["backup_given_up"] == "1" {
            assert_eq!(a["backup_failures"], "0", "{policy}");
            assert!(num(a, "retires_refused") >= 1.0, "{policy}");
        }
    }
    assert!(
        on_rows.iter().any(|r| r["backup_given_up"] == "1"),
        "no archive pass met a refused block"
    );
    assert!(!stdout(&on).contains("copied again"), "{}", stdout(&on));
}

/// An invariant judged on an image integrity mode refused blocks of is never a plain
/// `held`: over seeds, whenever a policy's oracle met unreadable blocks
/// (`unreadable_blocks` in summary.csv), bank-conserved (a balance sum over every image
/// the oracle reads) is `unchecked` in the JSON, `<skipped>` in JUnit and "held on N of
/// M blocks; K unreadable" on stdout, with K at least one and N + K at most M, and the
/// run exits 3; a policy that met none has no such case. At least one policy must meet
/// unreadable blocks, or the property was not put to the test.
#[test]
fn an_invariant_judged_on_unreadable_blocks_is_never_held() {
    let tmp = tempfile::tempdir().unwrap();
    let mut met = 0;
    // Cases judged on no block at all, and on some.
    let (mut none, mut some) = (0, 0);
    for seed in ["1", "2", "4"] {
        let dir = tmp.path().join(format!("o{seed}"));
        let (json, junit) = (
            tmp.path().join(format!("v{seed}.json")),
            tmp.path().join(format!("v{seed}.xml")),
        );
        let o = owm(&[
            "run",
            "scenarios/faults-integrity.toml",
            "--seed",
            seed,
            "--out",
            &s(&dir),
            "--json",
            &s(&json),
            "--junit",
            &s(&junit),
        ]);
        let v = read_json(&json);
        let xml = std::fs::read_to_string(&junit).unwrap();
        let out = stdout(&o);
        let mut any = false;
        for row in csv_rows(&dir, "summary.csv") {
            let policy = &row["policy"];
            let unreadable = num(&row, "unreadable_blocks");
            let partly: Vec<&serde_json::Value> = json_cases(&v)
                .iter()
                .filter(|c| c["suite"] == policy.as_str())
                .filter(|c| {
                    c["verdict"] == "unchecked"
                        && ["held on ", "judged on none of "]
                            .iter()
                            .any(|w| c["reason"].as_str().unwrap().starts_with(w))
                })
                .collect();
            if unreadable == 0.0 {
                assert!(partly.is_empty(), "seed {seed} {policy}: {partly:?}");
                continue;
            }
            any = true;
            met += 1;
            let bank = json_case(&v, policy, "bank-conserved");
            assert_eq!(bank["verdict"], "unchecked", "seed {seed} {policy}: {bank}");
            for c in &partly {
                let name = c["name"].as_str().unwrap();
                assert_ne!(c["verdict"], "held", "seed {seed} {policy} {name}");
                // "held on N of M blocks; K unreadable: ...", or with no block judged
                // "judged on none of M blocks; K unreadable: ..." (never "held").
                let reason = c["reason"].as_str().unwrap();
                let words: Vec<&str> = reason.split(' ').collect();
                let n = |i: usize| words[i].trim_end_matches(';').parse::<u64>().unwrap();
                let judged = if words[0] == "judged" { 0 } else { n(2) };
                assert_eq!(words[0] == "held", judged > 0, "{c}");
                if judged == 0 {
                    none += 1;
                } else {
                    some += 1;
                }
                let (blocks, refused) = (n(4), n(6));
                assert!(refused >= 1 && judged + refused <= blocks, "{c}");
                assert!(refused as f64 <= unreadable, "seed {seed} {policy}: {c}");
                let said = &reason[..reason.find(':').unwrap()];
                assert_eq!(row[name], said, "seed {seed} {policy} {name}");
                assert!(out.contains(said), "seed {seed} {policy} {name}: {out}");
                assert!(
                    xml.contains(&format!("unchecked: {said}")),
                    "seed {seed} {policy} {name}"
                );
            }
        }
        assert_eq!(
            o.status.code(),
            Some(if any { 3 } else { 0 }),
            "seed {seed}: {out}"
        );
        assert!(
            out.contains(&format!("exit {}", if any { 3 } else { 0 })),
            "{out}"
        );
    }
    assert!(
        met > 0,
        "no run met an unreadable block: the property was not tested"
    );
    assert!(
        none > 0 && some > 0,
        "both forms met: {none} judged on no block, {some} on some"
    );
}
