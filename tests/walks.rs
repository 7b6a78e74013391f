//! `owm check --simulate`: random walks beyond exhaustion, replayable traces, shards
//! and their merge, the verdict a random walk may claim (never held: exit 3).

use std::path::Path;

use crate::util::*;

/// Record locks on blocks two records share, 4 old and 3 new transactions.
const SHARED_BLOCKS: [&str; 10] = [
    "--locks",
    "record",
    "--records-per-block",
    "2",
    "--old",
    "4",
    "--new",
    "3",
    "--threads",
    "1",
];

/// The "done when": on a configuration whose space the model's estimate puts
/// at more than 10^8 states, 200 random walks find B-complete violated, write its
/// trace, and `--replay` reproduces the same invariant.
#[test]
fn random_walks_find_b_complete_in_a_space_too_large_to_exhaust() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("walks");
    let o = owm(&[
        &["check", "--simulate", "--seed", "1", "--walks", "200"][..],
        &SHARED_BLOCKS[..],
        &["--timeout", "120", "--trace-dir", &s(&dir)][..],
    ]
    .concat());
    let text = stdout(&o);
    assert_eq!(code(&o), 1, "{text}{}", stderr(&o));
    let states: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("estimate of the whole space: about "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no estimate:\n{text}"));
    assert!(states >= 1e8, "{states}: {text}");
    assert!(
        text.contains("random walks: 200 of 200 done (seed 1)"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("B-complete") && l.contains("VIOLATED (walk")),
        "{text}"
    );
    assert!(text.contains("result: violated: B-complete"), "{text}");
    let trace = dir.join("b-complete.trace");
    let o = owm(&["check", "--replay", &s(&trace)]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    fails_with(&o, &["violation reproduced: B-complete violated"]);
    assert!(
        stdout(&o)
            .contains("model: --variant cow --old 4 --new 3 --records-per-block 2 --locks record"),
        "{}",
        stdout(&o)
    );
}

/// A configuration that holds: the walks find nothing, and say only that (exit 3,
/// every invariant unchecked in the JSON); a state budget stops the run early.
#[test]
fn no_violation_found_is_not_held_exit_3() {
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("v.json");
    let dir = s(&tmp.path().join("t"));
    let o = owm(&[
        "check",
        "--simulate",
        "--walks",
        "30",
        "--depth",
        "12",
        "--threads",
        "1",
        "--trace-dir",
        &dir,
        "--json",
        &s(&json),
    ]);
    let text = stdout(&o);
    assert_eq!(code(&o), 3, "{text}{}", stderr(&o));
    assert!(
        text.contains(
            "A-consistent                         no violation found in 30 walks of depth ≤ 12"
        ),
        "{text}"
    );
    assert!(text.contains("deepest walk 12 states"), "{text}");
    assert!(!text.contains(" held"), "{text}");
    let v = read_json(&json);
    assert_eq!(v["exit_code"], 3);
    assert_eq!(v["seed"], 1);
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 12);
    assert!(cases
        .iter()
        .filter(|c| c["name"] == "A-consistent")
        .all(|c| c["verdict"] == "unchecked"));

    let o = owm(&[
        "check",
        "--simulate",
        "--walks",
        "30",
        "--states-max",
        "40",
        "--threads",
        "1",
        "--trace-dir",
        &dir,
    ]);
    assert_eq!(code(&o), 3, "{}", stdout(&o));
    assert!(
        stdout(&o).contains("INCOMPLETE: the state budget stopped the run after"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn bad_walk_flags_exit_2() {
    for (args, needle) in [
        (&["check", "--seed", "3"][..], "--simulate"),
        (
            &["check", "--simulate", "--walks", "0"][..],
            "walks must be",
        ),
        (&["check", "--simulate", "--shard", "4/3"][..], "K/N"),
        (&["check", "--simulate", "--dfs"][..], "--dfs"),
        (
            &["check", "--simulate", "--serve", "127.0.0.1:0"][..],
            "--serve",
        ),
    ] {
        let o = owm(args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        fails_with(&o, &[needle]);
    }
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// `walks.toml` without the distinct-state lines (a merge knows them only per shard).
fn summary_without_distinct(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("walks.toml"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("distinct_"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Three shards (one on two threads) merged give the unsharded run: the same
/// violations with byte-identical traces, the same walk and state counts, the same
/// witnesses and verdicts; the merge refuses shards that do not add up.
#[test]
fn merged_shards_equal_the_unsharded_run() {
    let tmp = tempfile::tempdir().unwrap();
    let model = [
        "check",
        "--locks",
        "record",
        "--records-per-block",
        "2",
        "--old",
        "1",
        "--new",
        "2",
        "--simulate",
        "--seed",
        "3",
        "--walks",
        "40",
    ];
    let dir = |name: &str| tmp.path().join(name);
    let whole = owm(&[
        &model[..],
        &["--threads", "1", "--trace-dir", &s(&dir("whole"))][..],
        &["--json", &s(&dir("whole.json"))][..],
    ]
    .concat());
    assert_eq!(code(&whole), 1, "{}{}", stdout(&whole), stderr(&whole));
    for (k, threads) in [(1, "1"), (2, "2"), (3, "1")] {
        let o = owm(&[
            &model[..],
            &["--shard", &format!("{k}/3"), "--threads", threads][..],
            &["--trace-dir", &s(&dir(&format!("s{k}")))][..],
        ]
        .concat());
        assert!(matches!(code(&o), 1 | 3), "{}{}", stdout(&o), stderr(&o));
        assert!(
            stdout(&o).contains("merge with: owm merge"),
            "{}",
            stdout(&o)
        );
    }
    let shards = [s(&dir("s1")), s(&dir("s2")), s(&dir("s3"))];
    let merged = owm(&[
        &["merge"][..],
        &[&shards[2][..], &shards[0][..], &shards[1][..]][..],
        &[
            "--out",
            &s(&dir("merged")),
            "--json",
            &s(&dir("merged.json")),
        ][..],
    ]
    .concat());
    assert_eq!(code(&merged), 1, "{}{}", stdout(&merged), stderr(&merged));

    let traces = |d: &Path| -> Vec<(String, Vec<u8>)> {
        files(d)
            .into_iter()
            .filter(|(n, _)| n.ends_with(".trace"))
            .collect()
    };
    let t = traces(&dir("whole"));
    assert!(
        t.iter().any(|(n, _)| n == "b-complete.trace"),
        "{:?}",
        t.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );
    assert_eq!(traces(&dir("merged")), t);
    assert_eq!(
        summary_without_distinct(&dir("merged")),
        summary_without_distinct(&dir("whole"))
    );
    assert!(
        stdout(&merged).contains("random walks: 40 of 40 done (seed 3)"),
        "{}",
        stdout(&merged)
    );
    let verdicts = |p: &Path| {
        let v = read_json(p);
        (v["exit_code"].clone(), v["cases"].clone())
    };
    assert_eq!(verdicts(&dir("merged.json")), verdicts(&dir("whole.json")));
    let coverage = |p: &Path| {
        let v = read_json(p);
        v["coverage"].clone()
    };
    assert!(coverage(&dir("whole.json"))["actions"].is_array());
    assert_eq!(coverage(&dir("merged.json")), coverage(&dir("whole.json")));
    let replayed = owm(&[
        "check",
        "--replay",
        &s(&dir("merged").join("b-complete.trace")),
    ]);
    assert_eq!(code(&replayed), 1, "{}", stderr(&replayed));

    // Refusals, each naming what does not fit.
    let out = s(&dir("refused"));
    let o = owm(&["merge", &shards[0], &shards[1], "--out", &out]);
    assert_eq!(code(&o), 2);
    fails_with(&o, &["shard 3/3 is missing"]);
    let o = owm(&["merge", &shards[0], &shards[0], &shards[1], "--out", &out]);
    assert_eq!(code(&o), 2);
    fails_with(&o, &["given twice"]);
    let o = owm(&[
        "merge", &shards[0], &shards[1], &shards[2], "--out", &shards[1],
    ]);
    assert_eq!(code(&o), 2);
    fails_with(&o, &["one of the input shards"]);
    let other = owm(&[
        &model[..9],
        &[
            "--simulate",
            "--seed",
            "4",
            "--walks",
            "40",
            "--shard",
            "3/3",
        ][..],
        &["--threads", "1", "--trace-dir", &s(&dir("other3"))][..],
    ]
    .concat());
    assert!(matches!(code(&other), 1 | 3), "{}", stderr(&other));
    let o = owm(&[
        "merge",
        &shards[0],
        &shards[1],
        &s(&dir("other3")),
        "--out",
        &out,
    ]);
    assert_eq!(code(&o), 2);
    fails_with(&o, &["seed 4"]);
    // An edited trace is refused.
    let edited = dir("whole").join("b-complete.trace");
    let text = std::fs::read_to_string(&edited).unwrap();
    std::fs::write(&edited, format!("{text}# edited\n")).unwrap();
    let o = owm(&["merge", &s(&dir("whole")), "--out", &out]);
    assert_eq!(code(&o), 2);
    fails_with(&o, &["does not match the digest"]);
}

/// Random walks count coverage per action kind like the exhaustive check, in the
/// text, the JSON verdict and `walks.toml`: every walk of the default configuration
/// runs to its end, so each of its 4 transactions begins once per walk, every walk
/// takes `end` once, and no kind is taken more often than it was enabled.
#[test]
fn walks_report_coverage_per_action_kind() {
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("v.json");
    let dir = tmp.path().join("t");
    let o = owm(&[
        "check",
        "--simulate",
        "--walks",
        "20",
        "--threads",
        "2",
        "--trace-dir",
        &s(&dir),
        "--json",
        &s(&json),
    ]);
    let text = stdout(&o);
    assert_eq!(code(&o), 3, "{text}{}", stderr(&o));
    assert!(text.contains("coverage (enabled"), "{text}");
    assert!(text.contains("witness A retired"), "{text}");
    let v = read_json(&json);
    let actions = v["coverage"]["actions"]
        .as_array()
        .expect("coverage actions");
    let count = |kind: &str, what: &str| {
        actions
            .iter()
            .find(|a| a["kind"] == kind)
            .and_then(|a| a[what].as_u64())
            .unwrap_or_else(|| panic!("no {kind} in {actions:?}"))
    };
    let summary = std::fs::read_to_string(dir.join("walks.toml")).unwrap();
    assert!(summary.contains("walks_terminal = 20"), "{summary}");
    assert_eq!(count("begin", "taken"), 20 * 4);
    assert_eq!(count("end", "taken"), 20);
    assert_eq!(actions.len(), 11);
    for a in actions {
        let (e, t) = (a["enabled"].as_u64().unwrap(), a["taken"].as_u64().unwrap());
        assert!(t > 0 && e >= t, "{a}");
    }
    assert!(summary.contains("[[actions]]"), "{summary}");
}
