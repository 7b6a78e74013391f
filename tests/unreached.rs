//! An invariant about a backup is never reported `held` by a run that never reached
//! the state it speaks of: policy `none` takes no backup, so its verdict table,
//! `summary.csv`, the JSON and JUnit say `not claimed (no backup)` for each of them,
//! while the invariants it is judged on (B-complete, no-torn-write; bank-conserved on
//! bank transfers) still say `held`. Nor is bank-conserved `held` on a workload that
//! keeps no sum: `not claimed (no sum to conserve)` under every policy.

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

/// The invariants every policy is judged on, `none` included (and bank-conserved,
/// on bank transfers only: [`NO_SUM`] elsewhere).
pub const JUDGED: [&str; 2] = ["B-complete", "no-torn-write"];

/// Bank-conserved's verdict under every policy of a workload that keeps no sum.
pub const NO_SUM: &str = "not claimed (no sum to conserve)";

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
    // Fig 3's transactions keep no sum: bank-conserved judged nothing, under any policy.
    assert_eq!(
        cells(table_row(&text, "bank-conserved"))[1..],
        [NO_SUM, NO_SUM, NO_SUM],
        "{text}"
    );
    for p in ["none", "quiesce", "mirroring"] {
        assert_eq!(rows[p]["bank-conserved"], NO_SUM, "{p}");
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
    for p in ["none", "quiesce", "mirroring"] {
        let case = json_case(&v, p, "bank-conserved");
        assert_eq!(case["verdict"], "not-claimed", "{case}");
        assert_eq!(
            case["observed"],
            serde_json::json!({"verdict": "not-reached", "reason": "no sum to conserve"}),
            "{case}"
        );
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
            let bank = row["workload"] == "bank";
            assert_eq!(
                row["bank-conserved"] == NO_SUM,
                !bank,
                "{f}: {}",
                row["bank-conserved"]
            );
        }
    }
    assert!(seen >= 3, "none rows: {seen}");
}

/// A run's not-claimed cases in the JSON, by (suite, invariant): the `observed` object.
fn not_claimed_observed(
    json: &std::path::Path,
) -> std::collections::BTreeMap<(String, String), serde_json::Value> {
    let v = read_json(json);
    json_cases(&v)
        .iter()
        .filter(|c| c["verdict"] == "not-claimed")
        .map(|c| {
            let key = (c["suite"].as_str().unwrap(), c["name"].as_str().unwrap());
            ((key.0.into(), key.1.into()), c["observed"].clone())
        })
        .collect()
}

/// A run's JUnit `<skipped>` messages, by (suite, invariant).
fn skipped_messages(xml: &std::path::Path) -> std::collections::BTreeMap<(String, String), String> {
    let xml = std::fs::read_to_string(xml).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .filter_map(|tc| {
            let skipped = tc.children().find(|n| n.has_tag_name("skipped"))?;
            let key = (
                tc.attribute("classname").unwrap().to_string(),
                tc.attribute("name").unwrap().to_string(),
            );
            Some((key, skipped.attribute("message").unwrap().to_string()))
        })
        .collect()
}

/// A copy never made is never `held` in the JSON or JUnit: under `none` (no backup),
/// a cow and a logging backup abandoned when a 4-block data area filled before their
/// slow archive, a quiesce given up at its first missed deadline, and every policy
/// without `[detach]`, each case not claimed because its state was never reached
/// reports `observed: {"verdict": "not-reached", "reason": R}` (R as the verdict
/// table's) and a JUnit message saying the state was never reached, without
/// `(held)`. A case not claimed of a state that was reached keeps what the oracle
/// observed: crash-consistent's A-consistent (its image was declared, and judged), its
/// bank-conserved on bank transfers, and the abandoned backups' A-consistent (VLUN A was declared
/// consistent at the split, before the data area filled: `summary.csv`'s
/// `a_consistent_at_ticks`).
#[test]
fn a_state_never_reached_reports_no_observation() {
    let abandoned = crate::lost_backup::CYCLES_ABANDONED
        .replace(
            "[\"none\", \"mirroring\", \"logging\", \"cow\"]",
            "[\"none\", \"crash-consistent\", \"logging\", \"cow\"]",
        )
        .replace("period_ticks = 6000\ncycles = 3\n", "");
    let given_up = crate::lost_backup::GIVEN_UP.replace(
        "quiesce_retries_max = 2\nquiesce_retry_backoff_ticks = 1000\n",
        "quiesce_retries_max = 0\n",
    );
    // (suite, invariant, R) never reached in each run.
    let mut never: Vec<(&str, &str, &str)> = Vec::new();
    for inv in ABOUT_BACKUP {
        never.push(("none", inv, "no backup"));
    }
    for p in ["crash-consistent", "logging", "cow"] {
        never.push((p, "b-prime-faithful", "no copy to B'"));
    }
    // The abandoned backups' load is generated: no sum to conserve, under any policy.
    let abandoned_never = [
        never.clone(),
        vec![
            ("logging", "backup-faithful", "no archive"),
            ("cow", "backup-faithful", "no archive"),
        ],
        ["none", "crash-consistent", "logging", "cow"]
            .map(|p| (p, "bank-conserved", "no sum to conserve"))
            .to_vec(),
    ]
    .concat();
    let given_up_never = [
        ABOUT_BACKUP.map(|inv| ("none", inv, "no backup")).to_vec(),
        vec![
            ("quiesce", "A-consistent", "A never consistent"),
            ("quiesce", "A-isolated", "no split"),
            ("quiesce", "backup-faithful", "no archive"),
            ("quiesce", "space-reclaimed", "no retire"),
            ("quiesce", "b-prime-faithful", "no copy to B'"),
            ("cow", "b-prime-faithful", "no copy to B'"),
        ],
    ]
    .concat();
    // (suite, invariant, observed verdict) not claimed of a reached state.
    let abandoned_reached = [
        ("crash-consistent", "A-consistent", "violated"),
        ("logging", "A-consistent", "held"),
        ("cow", "A-consistent", "held"),
    ];
    let given_up_reached = [("quiesce", "non-disruption", "violated")];
    for (name, text, never, reached) in [
        (
            "abandoned",
            abandoned,
            abandoned_never,
            &abandoned_reached[..],
        ),
        ("given-up", given_up, given_up_never, &given_up_reached[..]),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let VerdictRun { o, out, json, xml } =
            run_with_verdict_files(tmp.path(), &format!("{name}.toml"), &text);
        assert_eq!(code(&o), 0, "{name}: {}", stderr(&o));
        let table = stdout(&o);
        let observed = not_claimed_observed(&json);
        let skipped = skipped_messages(&xml);
        let rows = summary_rows(&out);
        for &(suite, inv, why) in &never {
            let key = (suite.to_string(), inv.to_string());
            let here = format!("{name} {suite} {inv}");
            assert_eq!(
                observed.get(&key),
                Some(&serde_json::json!({"verdict": "not-reached", "reason": why})),
                "{here}"
            );
            let m = &skipped[&key];
            assert!(
                m.contains("the state it judges was never reached"),
                "{here}: {m}"
            );
            assert!(!m.contains("(held)"), "{here}: {m}");
            // The verdict table and summary.csv still name why, as before.
            assert!(rows[suite][inv].starts_with("not claimed ("), "{here}");
        }
        for &(suite, inv, verdict) in reached {
            let key = (suite.to_string(), inv.to_string());
            let here = format!("{name} {suite} {inv}");
            assert_eq!(observed[&key]["verdict"], verdict, "{here}");
            assert!(skipped[&key].contains(&format!("({verdict}")), "{here}");
            if inv == "A-consistent" {
                assert_ne!(rows[suite]["a_consistent_at_ticks"], "", "{here}");
            }
        }
        // Nothing else is not claimed, and no message of a never-reached case says held.
        assert_eq!(
            observed.len(),
            never.len() + reached.len(),
            "{name}: {observed:?}"
        );
        for (key, o) in &observed {
            if o["verdict"] == "not-reached" {
                assert!(!skipped[key].contains("(held)"), "{name} {key:?}");
            }
        }
        if name == "abandoned" {
            assert!(table.contains("backup abandoned under cow"), "{table}");
            assert_eq!(rows["cow"]["archive_copy_at_ticks"], "");
        } else {
            assert!(table.contains("backup given up under quiesce"), "{table}");
        }
    }
}

/// README.md's table of the reasons a run gives for `not claimed (R)` of a state it
/// never reached lists every reason the binary can print: each word of
/// `sim::Unreached::as_str` (read from its source) is a row `| `R` | ...`.
#[test]
fn the_readme_lists_every_reason_a_state_was_never_reached() {
    let src = std::fs::read_to_string(repo().join("sim/src/judgement.rs")).unwrap();
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = readme
        .find("Nor does a run say `held` of a state it never reached")
        .expect("README.md's section on states never reached");
    let section = &readme[start..];
    let section = &section[section.find("\n\n|").map_or(0, |i| i + 1)..];
    let table = &section[..section.find("\n\n").unwrap_or(section.len())];
    let mut words = Vec::new();
    for line in src.lines() {
        let line = line.trim();
        let Some(rest) = line.strip_prefix("Unreached::") else {
            continue;
        };
        let Some((_, word)) = rest.split_once(" => \"") else {
            continue;
        };
        words.push(word.trim_end_matches("\",").to_string());
    }
    assert!(words.len() >= 8, "{words:?}");
    for w in &words {
        assert!(
            table.contains(&format!("\n| `{w}` |")),
            "README.md's table of reasons a state was never reached leaves out `{w}`:\n{table}"
        );
    }
}
