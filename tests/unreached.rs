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

/// What `inv` of a cycle or run that made no copy to B' and did not reach a backup's
/// states for reason `why` reads: `why`, but b-prime-faithful's own reason first.
pub fn unreached_as(inv: &str, why: &str) -> String {
    if inv == "b-prime-faithful" {
        "not claimed (no copy to B')".to_string()
    } else {
        why.to_string()
    }
}

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

/// A generated load of 50 short transactions about 100,000 ticks apart (idle most of
/// the time), under the three one-way mirror variants, its backup requested by
/// `request` (a `[backup]` key line) and archived at 1 GB/s (a cycle of under a
/// millisecond).
fn sparse_load(request: &str) -> String {
    format!(
        "policies = [\"mirroring\", \"logging\", \"cow\"]\nseed = 1\n[workload]\n\
         kind = \"generated\"\ntransactions = 50\n\
         arrivals = {{ mode = \"open\", interarrival_ticks_mean = 100000 }}\n\
         [backup]\n{request}\n[archive]\nbandwidth_bytes_per_s = 1000000000\n"
    )
}

/// Each attempt's arrival and end in `trace.csv` under `policy`, in arrival order.
fn spans(out: &std::path::Path, policy: &str) -> Vec<(u64, u64)> {
    let rows = csv_rows(out, "trace.csv");
    let mut arrive = std::collections::BTreeMap::new();
    let mut end = std::collections::BTreeMap::new();
    for r in rows.iter().filter(|r| r["policy"] == policy) {
        let at: u64 = r["time_ticks"].parse().unwrap();
        match r["event"].as_str() {
            "arrive" => {
                arrive.insert(r["txn"].clone(), at);
            }
            "end" => {
                end.insert(r["txn"].clone(), at);
            }
            _ => {}
        }
    }
    let mut all: Vec<(u64, u64)> = arrive.iter().map(|(t, &a)| (a, end[t])).collect();
    all.sort_unstable();
    all
}

/// Runs `text` (exit 0) and gives each policy's single row of `summary.csv`.
fn run_rows(
    dir: &std::path::Path,
    name: &str,
    text: &str,
) -> (
    String,
    std::collections::HashMap<String, std::collections::BTreeMap<String, String>>,
) {
    let f = write(dir, &format!("{name}.toml"), text);
    let out = dir.join(name);
    let o = owm(&["run", &f, "--out", &s(&out)]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    (stdout(&o), summary_rows(&out))
}

/// A backup that ran beside no transaction put none of its promises to the test:
/// requested before the first arrival, or in a lull between two transactions (the
/// cycle over before the next arrives), every invariant about a backup reads `not
/// claimed (no transaction during the backup)` in the verdict table and `summary.csv`,
/// never `held`. The same load with the request while a transaction runs claims them
/// and they hold: the state is reachable on this load; but for A-isolated, which
/// needs a NEW transaction while VLUN A is live, and that one OLD transaction is not
/// (`no NEW write while VLUN A was live`). Requested just before an arrival, the
/// backup has that NEW one beside it, and A-isolated holds too.
#[test]
fn a_backup_beside_no_transaction_claims_nothing_about_one() {
    let tmp = tempfile::tempdir().unwrap();
    const NONE_BESIDE: &str = "not claimed (no transaction during the backup)";
    let (text, rows) = run_rows(tmp.path(), "first", &sparse_load("request_at_ticks = 0"));
    // Each transaction's arrival (the same under every policy: open arrivals) and its
    // latest end under any policy.
    let mut txns = spans(&tmp.path().join("first"), "cow");
    assert_eq!(txns.len(), 50, "{txns:?}");
    for policy in ["mirroring", "logging"] {
        for (t, other) in txns
            .iter_mut()
            .zip(spans(&tmp.path().join("first"), policy))
        {
            assert_eq!(t.0, other.0, "{policy}");
            t.1 = t.1.max(other.1);
        }
    }
    // An idle gap of the load.
    let gap = txns
        .windows(2)
        .find(|w| w[1].0 > w[0].1 + 10_000)
        .map(|w| (w[0].1, w[1].0))
        .expect("an idle gap of 10,000 ticks");
    let busy = txns
        .iter()
        .find(|t| t.1 > t.0 + 10)
        .expect("a transaction lasting more than 10 ticks");
    for policy in ["mirroring", "logging", "cow"] {
        let r = &rows[policy];
        let end: u64 = r["window_end_at_ticks"].parse().unwrap();
        assert!(
            end < txns[0].0,
            "the backup is over before the first arrival: {r:?}"
        );
        for inv in ABOUT_BACKUP {
            assert_eq!(r[inv], unreached_as(inv, NONE_BESIDE), "{policy} {inv}");
        }
        for inv in JUDGED {
            assert_eq!(r[inv], "held", "{policy} {inv}");
        }
    }
    assert!(
        table_row(&text, "A-consistent").contains(NONE_BESIDE),
        "{text}"
    );

    // In the middle of the lull (a backup changes later transactions' costs, so
    // their ends move a little: the run's own trace says none was in flight).
    let (_, rows) = run_rows(
        tmp.path(),
        "lull",
        &sparse_load(&format!("request_at_ticks = {}", (gap.0 + gap.1) / 2)),
    );
    for policy in ["mirroring", "logging", "cow"] {
        let r = &rows[policy];
        let (start, end): (u64, u64) = (
            r["window_start_at_ticks"].parse().unwrap(),
            r["window_end_at_ticks"].parse().unwrap(),
        );
        let live = spans(&tmp.path().join("lull"), policy)
            .into_iter()
            .filter(|&(arrive, ended)| arrive <= end && ended >= start)
            .count();
        assert_eq!(live, 0, "no transaction in the window: {r:?}");
        for inv in ABOUT_BACKUP {
            assert_eq!(r[inv], unreached_as(inv, NONE_BESIDE), "{policy} {inv}");
        }
    }

    // While a transaction runs: claimed and held, but A-isolated (OLD only).
    let (_, rows) = run_rows(
        tmp.path(),
        "busy",
        &sparse_load(&format!("request_at_ticks = {}", busy.0 + 1)),
    );
    for policy in ["mirroring", "logging", "cow"] {
        let r = &rows[policy];
        for inv in ["A-consistent", "backup-faithful", "space-reclaimed"] {
            assert_eq!(r[inv], "held", "{policy} {inv}: {r:?}");
        }
        assert_eq!(
            r["A-isolated"], "not claimed (no NEW write while VLUN A was live)",
            "{policy}: {r:?}"
        );
    }
    // Just before that transaction arrives: it is a NEW one, admitted on VLUN B while
    // VLUN A is live (the copy takes some 700 ticks).
    let (_, rows) = run_rows(
        tmp.path(),
        "new",
        &sparse_load(&format!("request_at_ticks = {}", busy.0 - 50)),
    );
    for policy in ["mirroring", "logging", "cow"] {
        let r = &rows[policy];
        for inv in [
            "A-consistent",
            "A-isolated",
            "backup-faithful",
            "space-reclaimed",
        ] {
            assert_eq!(r[inv], "held", "{policy} {inv}: {r:?}");
        }
    }
}

/// A lost cycle is not made good by a later one that ran beside no transaction: the
/// bank load's first backup, requested while transfers run, is abandoned when its
/// 2-block data area fills (`break-snapshot`); the second, requested after the last
/// transfer, completes but tested nothing. A-consistent and backup-faithful read `not
/// claimed (abandoned)` for the run (table, JSON), and every invariant about a backup
/// `not claimed (request after the last transaction)` in the second cycle's row.
#[test]
fn a_later_cycle_beside_no_transaction_does_not_stand_for_a_lost_one() {
    let tmp = tempfile::tempdir().unwrap();
    let text = "policies = [\"logging\", \"cow\"]\nseed = 1\n[workload]\nkind = \"bank\"\n\
                transactions = 300\n[backup]\nschedule_at_ticks = [15000, 400000]\n\
                data_area_blocks = 2\non_data_area_full = \"break-snapshot\"\n";
    let VerdictRun { o, out, json, .. } = run_with_verdict_files(tmp.path(), "two.toml", text);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let printed = stdout(&o);
    for inv in ["A-consistent", "backup-faithful"] {
        let row = cells(table_row(&printed, inv));
        assert_eq!(row[1..], ["not claimed (abandoned)"; 2], "{inv}: {printed}");
    }
    let rows = csv_rows(&out, "summary.csv");
    assert_eq!(rows.len(), 4, "two policies, two cycles each");
    for pair in rows.chunks(2) {
        assert_eq!(pair[0]["backup_abandoned"], "1", "{:?}", pair[0]);
        assert_eq!(pair[1]["backup_abandoned"], "0", "{:?}", pair[1]);
        assert!(!pair[1]["retire_at_ticks"].is_empty(), "{:?}", pair[1]);
        for inv in ABOUT_BACKUP {
            assert_eq!(
                pair[1][inv],
                unreached_as(inv, "not claimed (request after the last transaction)"),
                "{inv}: {:?}",
                pair[1]
            );
        }
    }
    let v = read_json(&json);
    for p in ["logging", "cow"] {
        for inv in ["A-consistent", "backup-faithful"] {
            assert_eq!(json_case(&v, p, inv)["verdict"], "not-claimed", "{p} {inv}");
        }
    }
}

/// Under quiesce, a run-wide violation (non-disruption: a transaction waited at an
/// earlier cycle's gate) names no cycle, so it is not pinned on the rows of the cycles
/// requested after the last transaction: every invariant about a backup in those rows
/// reads `not claimed (request after the last transaction)`, as under cow, while the
/// run's verdict and the row of a cycle that ran beside transactions keep it.
#[test]
fn a_cycle_after_the_last_transaction_shows_no_other_cycles_violation() {
    let tmp = tempfile::tempdir().unwrap();
    let text = "policies = [\"quiesce\", \"cow\"]\nseed = 2\n[workload]\nkind = \"bank\"\n\
                transactions = 300\n[backup]\nperiod_ticks = 3000\ncycles = 6\n\
                [archive]\nbandwidth_bytes_per_s = 400000\n";
    let VerdictRun { o, out, .. } = run_with_verdict_files(tmp.path(), "after.toml", text);
    assert!(matches!(code(&o), 0 | 1), "{}", stderr(&o));
    let printed = stdout(&o);
    let rows = csv_rows(&out, "summary.csv");
    const AFTER: &str = "not claimed (request after the last transaction)";
    for policy in ["quiesce", "cow"] {
        let mine: Vec<_> = rows.iter().filter(|r| r["policy"] == policy).collect();
        assert_eq!(mine.len(), 6, "{policy}: {mine:?}");
        let after: Vec<_> = mine
            .iter()
            .filter(|r| ABOUT_BACKUP.iter().any(|inv| r[*inv] == AFTER))
            .collect();
        assert!(
            after.len() >= 2,
            "{policy}: cycles after the load: {mine:?}"
        );
        for r in after {
            for inv in ABOUT_BACKUP {
                assert_eq!(r[inv], unreached_as(inv, AFTER), "{policy} {inv}: {r:?}");
            }
        }
    }
    // The violation is observed, in the run's verdict and in a cycle beside the load.
    let quiesce: Vec<_> = rows.iter().filter(|r| r["policy"] == "quiesce").collect();
    assert!(
        quiesce[0]["non-disruption"].contains("violated"),
        "{:?}",
        quiesce[0]
    );
    assert!(
        table_row(&printed, "non-disruption").contains("violated"),
        "{printed}"
    );
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

/// The verdict about VLUN A's copy speaks of that copy's own span, not of what came
/// before or after it in the cycle. Three I/Os (0, 300, 2,000; 500 ticks of compute
/// each, no jitter) under quiesce: the copy requested at 950, in the lull, claims
/// nothing; the same copy taken at 950 by the retry of an attempt requested at 100
/// that missed its 150-tick deadline (the first two transactions ran in the cycle,
/// beside the missed attempt) claims nothing of the copy either, while
/// non-disruption is tested (they could have waited at its gate). With `[detach]`, a transaction that
/// writes VLUN B during the copy to B' (after VLUN A was retired in a lull) tests
/// b-prime-faithful, and only it.
#[test]
fn a_copy_in_a_lull_claims_nothing_whatever_ran_before_or_after_it() {
    let tmp = tempfile::tempdir().unwrap();
    const NONE_BESIDE: &str = "not claimed (no transaction during the backup)";
    const ABOUT_A: [&str; 4] = [
        "A-consistent",
        "A-isolated",
        "backup-faithful",
        "space-reclaimed",
    ];
    write(
        tmp.path(),
        "three.csv",
        "time,op,offset,length\n0,W,0,64\n300,W,64,64\n2000,W,128,64\n",
    );
    let quiesce = |backup: &str| {
        format!(
            "policies = [\"quiesce\"]\n[workload]\nkind = \"trace\"\npath = \"three.csv\"\n\
             format = \"csv\"\ncompute_ticks = 500\n[device]\njitter_ticks_max = 0\n\
             [backup]\n{backup}\n"
        )
    };
    let (_, lull) = run_rows(tmp.path(), "lull", &quiesce("request_at_ticks = 950"));
    let (_, retried) = run_rows(
        tmp.path(),
        "retried",
        &quiesce(
            "request_at_ticks = 100\nquiesce_deadline_ticks = 150\nquiesce_retries_max = 3\n\
             quiesce_retry_backoff_ticks = 700",
        ),
    );
    let (lull, retried) = (&lull["quiesce"], &retried["quiesce"]);
    // The same copy: taken at 950 with nothing in flight (A consistent at once, after
    // the split's call), retired before 2,000.
    for r in [lull, retried] {
        assert_eq!(r["a_consistent_at_ticks"], "990", "{r:?}");
        let retire: u64 = r["retire_at_ticks"].parse().unwrap();
        assert!(retire < 2000, "{r:?}");
    }
    // The missed attempt really ran beside transactions (they committed in the
    // cycle's window, after its gate reopened).
    assert_eq!(retried["quiesce_attempts"], "2", "{retried:?}");
    assert_eq!(retried["quiesce_timeouts"], "1", "{retried:?}");
    assert_eq!(lull["window_committed"], "0", "{lull:?}");
    let committed: u64 = retried["window_committed"].parse().unwrap();
    assert!(committed >= 1, "{retried:?}");
    for inv in ABOUT_A {
        assert_eq!(lull[inv], NONE_BESIDE, "lull {inv}");
        assert_eq!(retried[inv], NONE_BESIDE, "retried {inv}: {retried:?}");
    }
    assert_eq!(lull["non-disruption"], NONE_BESIDE);
    assert_ne!(retried["non-disruption"], NONE_BESIDE, "{retried:?}");
    for r in [lull, retried] {
        assert_eq!(r["b-prime-faithful"], "not claimed (no copy to B')");
    }

    write(
        tmp.path(),
        "det.csv",
        "time,op,offset,length\n0,W,0,64\n1500,W,64,64\n5000,W,128,64\n",
    );
    let detach = |extra: &str| {
        format!(
            "policies = [\"mirroring\", \"logging\", \"cow\"]\n[workload]\nkind = \"trace\"\n\
             path = \"det.csv\"\nformat = \"csv\"\ncompute_ticks = 100\n[device]\n\
             jitter_ticks_max = 0\n[backup]\nrequest_at_ticks = 1000\n[archive]\n\
             sparse = true\n{extra}"
        )
    };
    let (_, plain) = run_rows(tmp.path(), "plain", &detach(""));
    let (_, det) = run_rows(
        tmp.path(),
        "det",
        &detach("[detach]\nbandwidth_bytes_per_s = 100000\n"),
    );
    for policy in ["mirroring", "logging", "cow"] {
        let (p, d) = (&plain[policy], &det[policy]);
        // VLUN A's copy is retired before the I/O at 1,500; the copy to B' is not over.
        let retire: u64 = d["retire_at_ticks"].parse().unwrap();
        let detach_end: u64 = d["detach_end_at_ticks"].parse().unwrap();
        assert!(retire < 1500 && detach_end > 1600, "{policy}: {d:?}");
        for inv in ABOUT_A {
            assert_eq!(p[inv], NONE_BESIDE, "{policy} {inv}");
            assert_eq!(d[inv], NONE_BESIDE, "{policy} {inv} with [detach]: {d:?}");
        }
        assert_eq!(
            p["b-prime-faithful"], "not claimed (no copy to B')",
            "{policy}"
        );
        assert_eq!(d["b-prime-faithful"], "held", "{policy}: {d:?}");
    }
}

/// A run-level reason that no cycle's row gives is made of the rows' reasons, and the
/// run says which: quiesce on a schedule whose first cycle is given up at its deadline
/// (no split) and whose second comes after the last transaction claims A-isolated for
/// neither (`no transaction during the backup` for the run), and a line after the
/// verdict table gives each cycle's own reason, as `summary.csv`'s rows give it; the
/// JSON case carries the same words (`reason_by_cycle`). An invariant whose run-level
/// reason is some row's own (A-consistent: `given up`) has no line and no such field.
/// Two runs print the same lines.
#[test]
fn a_run_level_reason_no_cycle_gives_names_the_cycles_it_is_made_of() {
    let tmp = tempfile::tempdir().unwrap();
    let text = "policies = [\"quiesce\"]\nseed = 1\n[workload]\nkind = \"bank\"\n\
                accounts = 1024\ntransactions = 300\narrival_ticks_mean = 100\n\
                compute_ticks_min = 20\ncompute_ticks_max = 2000\n\
                [geometry]\nblock_size_bytes = 64\nrecords_per_block = 4\n\
                [backup]\nschedule_at_ticks = [15000, 100000]\n\
                quiesce_deadline_ticks = 1\nquiesce_retries_max = 0\n";
    let VerdictRun { o, out, json, .. } = run_with_verdict_files(tmp.path(), "q.toml", text);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let printed = stdout(&o);
    let rows = csv_rows(&out, "summary.csv");
    assert_eq!(rows.len(), 2, "{rows:?}");
    // The reason of a `not claimed (R)` or `not claimed (R, observed)` cell.
    let reason = |cell: &str| -> Option<String> {
        let inner = cell.strip_prefix("not claimed (")?.strip_suffix(')')?;
        let r = inner.split(", ").next().unwrap_or(inner);
        (!matches!(r, "held" | "unchecked") && !r.starts_with("violated")).then(|| r.to_string())
    };
    let v = read_json(&json);
    let mut explained = Vec::new();
    for inv in ABOUT_BACKUP {
        let run_cell = cells(table_row(&printed, inv))[1].clone();
        let prefix = format!("{inv} under quiesce: ");
        let lines: Vec<&str> = printed.lines().filter(|l| l.starts_with(&prefix)).collect();
        let case = json_case(&v, "quiesce", inv);
        let own = reason(&run_cell)
            .filter(|r| !rows.iter().any(|row| reason(&row[inv]).as_ref() == Some(r)));
        if own.is_none() {
            assert!(lines.is_empty(), "{inv}: {lines:?}");
            assert!(case.get("reason_by_cycle").is_none(), "{case}");
            continue;
        }
        let parts: Vec<String> = rows
            .iter()
            .map(|row| {
                let cell = &row[inv];
                format!(
                    "cycle {} {}",
                    row["cycle"],
                    reason(cell).unwrap_or(cell.clone())
                )
            })
            .collect();
        let parts = parts.join("; ");
        assert_eq!(lines, [format!("{prefix}{run_cell}: {parts}")], "{printed}");
        assert_eq!(case["reason_by_cycle"], parts.as_str(), "{case}");
        explained.push(inv);
    }
    // The case the finding was about: the run's reason is neither row's.
    assert_eq!(explained, ["A-isolated"], "{printed}");
    assert!(
        printed.contains(
            "\nA-isolated under quiesce: not claimed (no transaction during the backup): \
             cycle 1 no split; cycle 2 request after the last transaction\n"
        ),
        "{printed}"
    );
    assert_eq!(rows[0]["A-consistent"], "not claimed (given up)");
    let again_dir = tmp.path().join("again");
    std::fs::create_dir_all(&again_dir).unwrap();
    let again = run_with_verdict_files(&again_dir, "q.toml", text);
    let said = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| l.contains(" under quiesce: not claimed"))
            .map(String::from)
            .collect()
    };
    assert_eq!(said(&printed), said(&stdout(&again.o)));
}
