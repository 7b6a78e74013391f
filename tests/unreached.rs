//! An invariant about a backup is never reported `held` by a run that never reached
//! the state it speaks of: policy `none` takes no backup, so its verdict table,
//! `summary.csv`, the JSON and JUnit say `not claimed (no backup)` for each of them,
//! while the invariants it is judged on (B-complete, no-torn-write, bank-conserved)
//! still say `held`.

use crate::costs::summary_rows;
use crate::util::*;

/// The invariants whose subject is a backup (`sim::Unreached::about_backup`).
pub const ABOUT_BACKUP: [&str; 6] = [
    "A-consistent",
    "A-isolated",
    "non-disruption",
    "backup-faithful",
    "space-reclaimed",
    "b-prime-faithful",
];

/// The invariants every policy is judged on, `none` included.
pub const JUDGED: [&str; 3] = ["B-complete", "no-torn-write", "bank-conserved"];

/// The cells of a row of the printed verdict table (columns are two spaces or more
/// apart; a cell holds single spaces).
fn cells(line: &str) -> Vec<String> {
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn none_says_no_backup_for_every_invariant_about_one() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo().join("scenarios/fig3.toml")).unwrap();
    let VerdictRun { o, out, json, xml } = run_with_verdict_files(tmp.path(), "fig3.toml", &text);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    let head = cells(table_row(&text, "invariant"));
    assert_eq!(
        head,
        ["invariant", "none", "quiesce", "mirroring"],
        "{text}"
    );
    let rows = summary_rows(&out);
    let none = &rows["none"];
    for inv in ABOUT_BACKUP {
        let row = cells(table_row(&text, inv));
        assert_eq!(row[1], "not claimed (no backup)", "{inv}: {row:?}");
        assert_eq!(none[inv], "not claimed (no backup)", "{inv}");
        // The policies that took a backup reached the states these speak of (but
        // b-prime-faithful: fig3 has no [detach]).
        if inv != "b-prime-faithful" {
            assert!(!rows["mirroring"][inv].contains("no backup"), "{inv}");
        }
    }
    assert_eq!(
        rows["mirroring"]["b-prime-faithful"],
        "not claimed (no copy to B')"
    );
    for inv in JUDGED {
        assert_eq!(cells(table_row(&text, inv))[1], "held", "{inv}");
        assert_eq!(none[inv], "held", "{inv}");
    }
    assert!(!text.contains("not claimed (held)"), "{text}");
    // JSON: not-claimed, the policy naming why; JUnit: skipped, never a pass.
    let v = read_json(&json);
    let xml = std::fs::read_to_string(&xml).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    for inv in ABOUT_BACKUP {
        let case = json_case(&v, "none", inv);
        assert_eq!(case["verdict"], "not-claimed", "{case}");
        assert_eq!(case["policy"], "none (no backup)", "{case}");
        let tc = doc
            .descendants()
            .find(|n| {
                n.has_tag_name("testcase")
                    && n.attribute("classname") == Some("none")
                    && n.attribute("name") == Some(inv)
            })
            .unwrap();
        let skipped = tc.children().find(|n| n.has_tag_name("skipped"));
        assert!(
            skipped.is_some_and(|n| n.attribute("message").unwrap().contains("no backup")),
            "{inv}"
        );
    }
    for inv in JUDGED {
        let case = json_case(&v, "none", inv);
        assert_eq!(case["verdict"], "held", "{case}");
    }
}

/// No shipped file's `summary.csv` reports `not claimed (held)` for `none`, and every
/// `none` row says `no backup` for each invariant about a backup.
#[test]
fn no_shipped_none_row_says_held_of_a_backup() {
    let tmp = tempfile::tempdir().unwrap();
    let mut seen = 0;
    for f in shipped_files() {
        if f.starts_with("sweep") {
            continue;
        }
        let text = std::fs::read_to_string(repo().join("scenarios").join(&f)).unwrap();
        if !text.contains("\"none\"") {
            continue;
        }
        let out = tmp.path().join(&f);
        let o = owm(&[
            "run",
            &format!("scenarios/{f}"),
            "--out",
            &s(&out),
            "--allow-violations",
        ]);
        assert_ne!(code(&o), 2, "{f}: {}", stderr(&o));
        for row in csv_rows(&out, "summary.csv") {
            if row["policy"] != "none" {
                continue;
            }
            seen += 1;
            for inv in ABOUT_BACKUP {
                assert!(
                    row[inv].starts_with("not claimed (no backup"),
                    "{f} {inv}: {}",
                    row[inv]
                );
            }
            for inv in JUDGED {
                assert!(
                    !row[inv].starts_with("not claimed"),
                    "{f} {inv}: {}",
                    row[inv]
                );
            }
        }
    }
    assert!(seen >= 3, "none rows: {seen}");
}
