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

/// `owm check` random walks (seed 3) of a small configuration whose walks violate
/// B-complete and bank-conserved; `--walks N` follows.
const SMALL_WALKS: [&str; 12] = [
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
        &["--trace-dir", &s(&dir)][..],
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
    replayed(&o, "B-complete");
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
    assert_eq!(cases.len(), 13);
    assert!(cases
        .iter()
        .filter(|c| c["name"] == "A-consistent")
        .all(|c| c["verdict"] == "unchecked"));
    // No walk of depth 12 reaches A consistent: the verdict says so, in the text, the
    // JSON and a merge of shards alike.
    let unwitnessed = "A-consistent                         no violation found in 30 walks of \
                       depth ≤ 12 (its witness \"A became consistent\" was never reached)";
    assert!(text.contains(unwitnessed), "{text}");
    assert!(
        text.contains(
            "no-torn-write                        no violation found in 30 walks of depth ≤ 12\n"
        ),
        "{text}"
    );
    // A-isolated's subject, a NEW write while VLUN A is live, lies deeper than these
    // walks: said, not passed over.
    assert!(
        text.contains(
            "A-isolated                           no violation found in 30 walks of depth ≤ 12 \
             (its witness \"a NEW write while VLUN A was live\" was never reached)"
        ),
        "{text}"
    );
    let reason = |v: &serde_json::Value| {
        v["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "A-consistent")
            .map(|c| c["reason"].clone())
            .unwrap()
    };
    assert!(
        reason(&v)
            .as_str()
            .unwrap()
            .ends_with("; its witness \"A became consistent\" was never reached"),
        "{v}"
    );
    let shards: Vec<String> = (1..=2)
        .map(|k| {
            let d = s(&tmp.path().join(format!("s{k}")));
            let o = owm(&[
                "check",
                "--simulate",
                "--walks",
                "30",
                "--depth",
                "12",
                "--threads",
                "1",
                "--shard",
                &format!("{k}/2"),
                "--trace-dir",
                &d,
            ]);
            assert_eq!(code(&o), 3, "{}{}", stdout(&o), stderr(&o));
            d
        })
        .collect();
    let merged_json = tmp.path().join("merged.json");
    let o = owm(&[
        "merge",
        &shards[0],
        &shards[1],
        "--out",
        &s(&tmp.path().join("merged")),
        "--json",
        &s(&merged_json),
    ]);
    assert_eq!(code(&o), 3, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains(unwitnessed), "{}", stdout(&o));
    assert!(!stdout(&o).contains(" held"), "{}", stdout(&o));
    assert_eq!(reason(&read_json(&merged_json)), reason(&v));
    // The sample itself, machine-readable: every walk done, nothing stopped them; the
    // merge's distinct count is summed over its shards (a bound, not exact).
    let w = &v["walks"];
    assert_eq!(
        (w["walks_planned"].as_u64(), w["walks_done"].as_u64()),
        (Some(30), Some(30)),
        "{v}"
    );
    assert_eq!(
        (w["depth_max"].as_u64(), w["deepest"].as_u64()),
        (Some(12), Some(12)),
        "{v}"
    );
    assert!(w["stopped"].is_null() && w["distinct"] == "exact", "{v}");
    let visited = w["states_visited"].as_u64().unwrap();
    assert!(
        w["distinct_states"].as_u64().unwrap() < visited && visited <= 30 * 12,
        "{v}"
    );
    let merged = read_json(&merged_json);
    assert_eq!(merged["walks"]["walks_done"], 30, "{merged}");
    assert_eq!(merged["walks"]["states_visited"], visited, "{merged}");
    assert_eq!(merged["walks"]["distinct"], "at most", "{merged}");

    let cut_json = tmp.path().join("cut.json");
    let cut_junit = tmp.path().join("cut.xml");
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
        "--json",
        &s(&cut_json),
        "--junit",
        &s(&cut_junit),
    ]);
    assert_eq!(code(&o), 3, "{}", stdout(&o));
    assert!(
        stdout(&o).contains("INCOMPLETE: the state budget stopped the run after"),
        "{}",
        stdout(&o)
    );
    // What cut the sample is in the JSON's `walks` and in every unchecked reason, so
    // in JUnit's `skipped` messages too.
    let v = read_json(&cut_json);
    let w = &v["walks"];
    assert_eq!(w["stopped"], "the state budget", "{v}");
    let done = w["walks_done"].as_u64().unwrap();
    assert!(done < 30, "{v}");
    let said = format!("; the state budget stopped the run after {done} of 30 walks");
    assert!(
        json_cases(&v)
            .iter()
            .filter(|c| c["verdict"] == "unchecked")
            .all(|c| c["reason"].as_str().unwrap().ends_with(&said)),
        "{v}"
    );
    let junit = std::fs::read_to_string(&cut_junit).unwrap();
    assert!(junit.contains(&said), "{junit}");
}

#[test]
fn bad_walk_flags_exit_2() {
    for (args, needle) in [
        (&["check", "--seed", "3"][..], "--simulate"),
        (&["check", "--simulate", "--walks", "0"][..], "--walks"),
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

/// The walks' flags beside `--replay` are refused (exit 2), as the flags of a search
/// the replay does not run: never silently ignored, nothing replayed.
#[test]
fn walk_flags_beside_replay_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("t");
    let o = owm(&[
        &SMALL_WALKS[..],
        &["--walks", "40", "--trace-dir", &s(&dir)][..],
    ]
    .concat());
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    let trace = s(&dir.join("b-complete.trace"));
    for flag in [
        &["--simulate"][..],
        &["--seed", "2"][..],
        &["--walks", "3"][..],
        &["--shard", "1/2"][..],
    ] {
        let o = owm(&[&["check", "--replay", &trace][..], flag].concat());
        assert_eq!(code(&o), 2, "{flag:?}: {}{}", stdout(&o), stderr(&o));
        fails_with(
            &o,
            &[&format!(
                "the argument '--replay <TRACE>' cannot be used with '{}",
                flag[0]
            )],
        );
        assert_eq!(stdout(&o), "", "{flag:?}: replayed");
    }
}

/// A violation found by random walks names, in `--json` (`trace.file`, `trace.replay`)
/// and `--junit` (a `replay:` line in its failure), its trace file and the command that
/// replays it, as an exhaustive check's does, in a run and in a merge of its shards; the
/// command named reproduces the violation (exit 1). A merge's verdict files name the
/// merge, and its report says the shards record no time.
#[test]
fn a_walk_violation_names_its_trace_and_the_command_that_replays_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = |name: &str| tmp.path().join(name);
    let model = [&SMALL_WALKS[..], &["--walks", "40", "--threads", "1"][..]].concat();
    let verdict_files = |name: &str| {
        [
            "--json".to_string(),
            s(&dir(&format!("{name}.json"))),
            "--junit".to_string(),
            s(&dir(&format!("{name}.xml"))),
        ]
    };
    let whole_files = verdict_files("whole");
    let whole_out = s(&dir("whole"));
    let o = owm(&[
        &model[..],
        &["--trace-dir", &whole_out][..],
        &whole_files.iter().map(String::as_str).collect::<Vec<_>>()[..],
    ]
    .concat());
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    let shards: Vec<String> = (1..=2)
        .map(|k| {
            let d = s(&dir(&format!("s{k}")));
            let o = owm(&[
                &model[..],
                &["--shard", &format!("{k}/2"), "--trace-dir", &d][..],
            ]
            .concat());
            assert!(matches!(code(&o), 1 | 3), "{}{}", stdout(&o), stderr(&o));
            d
        })
        .collect();
    let merged_files = verdict_files("merged");
    let merged_out = s(&dir("merged"));
    let o = owm(&[
        &["merge", &shards[0], &shards[1], "--out", &merged_out][..],
        &merged_files.iter().map(String::as_str).collect::<Vec<_>>()[..],
    ]
    .concat());
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains(
            "ended in a terminal state; merged from the shards, whose files record no time"
        ),
        "{text}"
    );
    assert!(!text.contains("0.000 s"), "{text}");

    for (name, traces, command) in [
        ("whole", &whole_out, "check"),
        ("merged", &merged_out, "merge"),
    ] {
        let v = read_json(&dir(&format!("{name}.json")));
        assert_eq!(v["command"], command, "{v}");
        let junit = std::fs::read_to_string(dir(&format!("{name}.xml"))).unwrap();
        let violated: Vec<&serde_json::Value> = json_cases(&v)
            .iter()
            .filter(|c| c["verdict"] == "violated")
            .collect();
        assert!(violated.len() >= 2, "{v}");
        for c in violated {
            let invariant = c["name"].as_str().unwrap();
            let trace = &c["trace"];
            let file = Path::new(traces).join(format!("{}.trace", invariant.to_lowercase()));
            assert_eq!(trace["file"], s(&file), "{c}");
            assert!(file.is_file(), "{}", file.display());
            let replay = trace["replay"].as_str().unwrap_or_else(|| panic!("{c}"));
            assert_eq!(replay, format!("owm check --replay {}", s(&file)), "{c}");
            assert_eq!(trace["shortest"], false, "{c}");
            let steps = trace["steps"].as_u64().unwrap();
            assert!(steps >= 1, "{c}");
            assert!(
                junit.contains(&format!("replay: {replay}")),
                "{invariant}: {junit}"
            );
            // The command named reproduces the violation.
            let words: Vec<&str> = replay.split_whitespace().collect();
            assert_eq!(words[0], "owm");
            let o = owm(&words[1..]);
            replayed(&o, invariant);
            // The trace file has as many steps as the verdict says.
            let text = std::fs::read_to_string(&file).unwrap();
            let in_file = text.lines().filter(|l| l.starts_with("step ")).count() as u64;
            assert_eq!(in_file, steps, "{c}\n{text}");
        }
    }
}

/// A walk whose last state is terminal counts terminal even when it ends exactly at
/// `--depth`: around the space's depth (19 states in this configuration), the walks
/// reaching it are terminal at the bound and beyond, none below; a merge of the shards
/// accepts and adds up those counts.
#[test]
fn a_walk_ending_on_a_terminal_state_at_the_depth_bound_is_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let base = [
        "check",
        "--old",
        "1",
        "--new",
        "1",
        "--records-per-block",
        "2",
        "--locks",
        "record",
        "--aborts",
        "off",
        "--simulate",
        "--walks",
        "40",
        "--threads",
        "1",
    ];
    let terminal = |text: &str| -> String {
        text.lines()
            .find(|l| l.starts_with("random walks: "))
            .and_then(|l| {
                l.split(", ")
                    .find(|p| p.contains("ended in a terminal state"))
            })
            .unwrap_or_else(|| panic!("no terminal count:\n{text}"))
            .split(';')
            .next()
            .unwrap()
            .to_string()
    };
    for (depth, ended) in [("18", "0"), ("19", "40"), ("20", "40")] {
        let whole = s(&tmp.path().join(format!("w{depth}")));
        let o = owm(&[&base[..], &["--depth", depth, "--trace-dir", &whole][..]].concat());
        let whole_code = code(&o);
        assert!(matches!(whole_code, 1 | 3), "{}{}", stdout(&o), stderr(&o));
        assert_eq!(
            terminal(&stdout(&o)),
            format!("{ended} ended in a terminal state"),
            "--depth {depth}"
        );
        let shards: Vec<String> = (1..=2)
            .map(|k| {
                let d = s(&tmp.path().join(format!("s{depth}-{k}")));
                let o = owm(&[
                    &base[..],
                    &[
                        "--depth",
                        depth,
                        "--shard",
                        &format!("{k}/2"),
                        "--trace-dir",
                        &d,
                    ][..],
                ]
                .concat());
                assert!(matches!(code(&o), 1 | 3), "{}{}", stdout(&o), stderr(&o));
                d
            })
            .collect();
        let out = s(&tmp.path().join(format!("m{depth}")));
        let o = owm(&["merge", &shards[0], &shards[1], "--out", &out]);
        assert_eq!(
            code(&o),
            whole_code,
            "--depth {depth}: {}{}",
            stdout(&o),
            stderr(&o)
        );
        assert_eq!(
            terminal(&stdout(&o)),
            format!("{ended} ended in a terminal state")
        );
    }
}

/// The estimate refuses nothing for random walks: under `--timeout` it is not made
/// (said so), so that the walks have the whole timeout; without, it is made.
#[test]
fn walks_leave_the_timeout_whole_to_the_walks() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = s(&tmp.path().join("t"));
    let flags = [
        "check",
        "--old",
        "4",
        "--new",
        "1",
        "--simulate",
        "--walks",
        "5",
        "--threads",
        "1",
        "--trace-dir",
        &dir,
    ];
    let o = owm(&[&flags[..], &["--timeout", "1000"][..]].concat());
    assert!(matches!(code(&o), 1 | 3), "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    assert!(
        text.lines().any(|l| l
            == "estimate of the whole space: not made: --timeout is left whole to the walks \
                (without --timeout the estimate is made)"),
        "{text}"
    );
    assert!(
        !text.contains("estimate of the whole space: about"),
        "{text}"
    );
    assert!(!text.contains("the estimate's searches took"), "{text}");
    assert!(text.contains("random walks: 5 of 5 done"), "{text}");
    let o = owm(&flags);
    let text = stdout(&o);
    assert!(
        text.contains("estimate of the whole space: about "),
        "{text}"
    );
    assert!(!text.contains("not made"), "{text}");
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

/// `walks.toml` without the distinct-state lines (a merge knows them only per shard)
/// and without its digest (of the file with them).
fn summary_without_distinct(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("walks.toml"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("distinct_") && !l.starts_with("sha256 = "))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Three shards (one on two threads) merged give the unsharded run: the same
/// violations with byte-identical traces, the same walk and state counts, the same
/// witnesses and verdicts; the merge refuses shards that do not add up.
#[test]
fn merged_shards_equal_the_unsharded_run() {
    let tmp = tempfile::tempdir().unwrap();
    let model = [&SMALL_WALKS[..], &["--walks", "40"][..]].concat();
    let dir = |name: &str| tmp.path().join(name);
    let whole = owm(&[
        &model[..],
        &["--threads", "1", "--trace-dir", &s(&dir("whole"))][..],
        &["--json", &s(&dir("whole.json"))][..],
        &["--junit", &s(&dir("whole.xml"))][..],
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
            "--junit",
            &s(&dir("merged.xml")),
        ][..],
    ]
    .concat());
    assert_eq!(code(&merged), 1, "{}{}", stdout(&merged), stderr(&merged));
    // The merge's JUnit file is the unsharded run's, suites named `owm check`, each
    // violation's trace in its own directory, and its reproduce property its own
    // command (as the JSON's).
    let junit = |p: &Path, traces: &Path| {
        std::fs::read_to_string(p)
            .unwrap()
            .replace(&s(traces), "TRACES")
            .lines()
            .filter(|l| !l.contains("<property name=\"reproduce\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let whole_xml = junit(&dir("whole.xml"), &dir("whole"));
    assert!(
        whole_xml.contains("<testsuites name=\"owm check\""),
        "{whole_xml}"
    );
    assert_eq!(junit(&dir("merged.xml"), &dir("merged")), whole_xml);

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
    // The same verdicts, each violation's trace named in its own directory.
    let verdicts = |p: &Path, traces: &Path| {
        let v = read_json(p);
        let cases = v["cases"].to_string().replace(&s(traces), "TRACES");
        (v["exit_code"].clone(), cases)
    };
    assert_eq!(
        verdicts(&dir("merged.json"), &dir("merged")),
        verdicts(&dir("whole.json"), &dir("whole"))
    );
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
    let refused_xml = s(&dir("refused.xml"));
    let o = owm(&[
        "merge",
        &shards[0],
        &shards[1],
        "--out",
        &out,
        "--junit",
        &refused_xml,
    ]);
    assert_eq!(code(&o), 2);
    fails_with(&o, &["shard 3/3 is missing"]);
    // Its refusal is recorded as a random-walk merge's, not a sweep's.
    let xml = std::fs::read_to_string(&refused_xml).unwrap();
    assert!(xml.contains("<testsuites name=\"owm check\""), "{xml}");
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
    // A walks.toml that is there but not UTF-8 is said to be so, not missing; a
    // directory without one is not taken for a random-walk output.
    let summary = Path::new(&shards[2]).join("walks.toml");
    std::fs::write(&summary, b"\xff").unwrap();
    let o = owm(&["merge", &shards[0], &shards[1], &shards[2], "--out", &out]);
    assert_eq!(code(&o), 2);
    fails_with(
        &o,
        &[&format!(
            "{}: cannot read: not UTF-8 text (line 1, byte 1 of the line)",
            summary.display()
        )],
    );
    assert!(!stderr(&o).contains("no walks.toml"), "{}", stderr(&o));
    std::fs::remove_file(&summary).unwrap();
    let o = owm(&["merge", &shards[0], &shards[1], &shards[2], "--out", &out]);
    assert_eq!(code(&o), 2);
    fails_with(
        &o,
        &[&format!(
            "{}: missing: {} is the output of owm check --simulate",
            summary.display(),
            shards[0]
        )],
    );
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

/// The walk shards of one run with violations (`--shard K/3`, K = 1, 2, 3) in
/// `tmp/s1` … `tmp/s3`, and the unsharded run in `tmp/whole`, with the flags `extra`
/// added; each exit status checked (1 or 3 for a shard, which may find none).
fn violating_shards(tmp: &Path, extra: &[&str]) -> [String; 3] {
    let model = [&SMALL_WALKS[..], &["--walks", "40", "--threads", "1"][..]].concat();
    let whole = owm(&[
        &model[..],
        extra,
        &["--trace-dir", &s(&tmp.join("whole"))][..],
    ]
    .concat());
    // Without a depth bound the walks find violations; within one they may not.
    let found = if extra.is_empty() { 1 } else { 3 };
    assert!(
        [1, found].contains(&code(&whole)),
        "{}{}",
        stdout(&whole),
        stderr(&whole)
    );
    [1, 2, 3].map(|k| {
        let d = s(&tmp.join(format!("s{k}")));
        let o = owm(&[
            &model[..],
            extra,
            &["--shard", &format!("{k}/3"), "--trace-dir", &d][..],
        ]
        .concat());
        assert!(matches!(code(&o), 1 | 3), "{}{}", stdout(&o), stderr(&o));
        d
    })
}

/// A copy of the directory `from` (files only) at `to`.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for (name, bytes) in files(from) {
        std::fs::write(to.join(name), bytes).unwrap();
    }
}

/// `walks.toml` in `dir` with each `key = value` line of `edits` (the first line that
/// sets the key) replaced, or, for a key the file lacks, added after the counts, and
/// its digest line (line 2) recomputed as owm computes it: an edit the digest alone
/// cannot reveal.
fn edit_and_repin(dir: &Path, edits: &[(&str, &str)]) {
    use sha2::Digest;
    let path = dir.join("walks.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    assert!(lines[1].starts_with("sha256 = \""), "{text}");
    lines.remove(1);
    for (key, value) in edits {
        let set = format!("{key} = {value}");
        match lines
            .iter()
            .position(|l| l.starts_with(&format!("{key} = ")))
        {
            Some(i) => lines[i] = set,
            None => {
                let after = lines
                    .iter()
                    .position(|l| l.starts_with("distinct_shards = "))
                    .unwrap();
                lines.insert(after + 1, set);
            }
        }
    }
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let digest: String = sha2::Sha256::digest(body.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let (first, rest) = body.split_once('\n').unwrap();
    std::fs::write(&path, format!("{first}\nsha256 = \"{digest}\"\n{rest}")).unwrap();
}

/// `walks.toml` cut after its first `lines` lines, as a copy cut at a line boundary
/// leaves it.
fn cut(dir: &Path, lines: usize) {
    let path = dir.join("walks.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let kept: String = text.lines().take(lines).map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, kept).unwrap();
}

/// A damaged walk shard is refused (exit 2) before anything is merged, naming the file
/// (and the key and its line where there is one): a `walks.toml` cut short or edited
/// (its digest, line 2, no longer matches), or without a digest; one edited with the
/// digest recomputed whose counts disagree with each other or with the plan; a
/// violation in a walk the shard did not run, or at a depth its trace does not reach;
/// a `walks.toml` missing, a directory or empty, said so; a listed trace missing; a
/// trace it does not list, or any other file, in the directory. The undamaged shards still merge into the unsharded run's verdict.
#[test]
fn a_damaged_walk_shard_is_refused_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let shards = violating_shards(tmp.path(), &[]);
    let good = tmp.path().join("s1");
    let bad = tmp.path().join("bad");
    let walks_toml = |d: &Path| s(&d.join("walks.toml"));
    let summary = std::fs::read_to_string(good.join("walks.toml")).unwrap();
    let header = summary.lines().position(|l| l.is_empty()).unwrap();
    assert!(
        summary.contains("trace = \"b-complete.trace\""),
        "{summary}"
    );
    type Damage = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, Damage, Vec<String>)> = vec![
        (
            "cut after the counts",
            Box::new(move |d| cut(d, header)),
            vec![":2: ".into(), "does not match the digest on line 2".into()],
        ),
        (
            "a count edited",
            Box::new(|d| {
                let p = d.join("walks.toml");
                let t = std::fs::read_to_string(&p).unwrap();
                let t = t.replace(
                    "walks_planned = 14\nwalks_done = 14",
                    "walks_planned = 14\nwalks_done = 5",
                );
                assert!(t.contains("walks_done = 5"), "{t}");
                std::fs::write(&p, t).unwrap();
            }),
            vec!["does not match the digest on line 2".into()],
        ),
        (
            "no digest",
            Box::new(|d| {
                let p = d.join("walks.toml");
                let t = std::fs::read_to_string(&p).unwrap();
                let t: String = t
                    .lines()
                    .filter(|l| !l.starts_with("sha256 = "))
                    .map(|l| format!("{l}\n"))
                    .collect();
                std::fs::write(&p, t).unwrap();
            }),
            vec![":2: ".into(), "line 2 is not the digest".into()],
        ),
        (
            "cut after the counts, digest recomputed, traces left",
            Box::new(move |d| {
                cut(d, header);
                edit_and_repin(d, &[]);
            }),
            vec![
                s(&bad.join("b-complete.trace")),
                "a trace walks.toml does not list".into(),
            ],
        ),
        (
            "cut after the counts, digest recomputed, traces removed",
            Box::new(move |d| {
                cut(d, header);
                edit_and_repin(d, &[]);
                for (n, _) in files(d) {
                    if n.ends_with(".trace") {
                        std::fs::remove_file(d.join(n)).unwrap();
                    }
                }
            }),
            vec!["key `actions`".into(), "lists no action kind".into()],
        ),
        (
            "walks done fewer, no reason",
            Box::new(|d| edit_and_repin(d, &[("walks_done", "5")])),
            vec![":8: key `walks_done`".into(), "no `stopped`".into()],
        ),
        (
            "stopped, yet every walk done",
            Box::new(|d| edit_and_repin(d, &[("stopped", "\"the timeout\"")])),
            vec!["key `stopped`".into(), "were done".into()],
        ),
        (
            "walks planned",
            Box::new(|d| edit_and_repin(d, &[("walks_planned", "13")])),
            vec![
                "key `walks_planned`".into(),
                "shard 1/3 of 40 walks holds 14".into(),
            ],
        ),
        (
            "distinct above visited",
            Box::new(|d| edit_and_repin(d, &[("distinct_states", "999999")])),
            vec!["key `distinct_states`".into()],
        ),
        (
            "a walk that is not terminal without a depth bound",
            Box::new(|d| edit_and_repin(d, &[("walks_terminal", "13")])),
            vec!["key `walks_terminal`".into(), "no depth bound".into()],
        ),
        (
            "states visited against the steps taken",
            Box::new(|d| {
                let t = std::fs::read_to_string(d.join("walks.toml")).unwrap();
                let v: u64 = t
                    .lines()
                    .find_map(|l| l.strip_prefix("states_visited = "))
                    .unwrap()
                    .parse()
                    .unwrap();
                edit_and_repin(d, &[("states_visited", &(v - 1).to_string())]);
            }),
            vec!["key `actions`".into(), "steps in all".into()],
        ),
        (
            "a violation in another shard's walk",
            Box::new(|d| edit_and_repin(d, &[("walk", "1")])),
            vec![
                "key `violations.0.walk`".into(),
                "walk 1 is not a walk this run finished".into(),
            ],
        ),
        (
            "a violation's depth",
            Box::new(|d| edit_and_repin(d, &[("depth", "2")])),
            vec![
                "key `violations.0.depth`".into(),
                "reaches the violation at depth".into(),
            ],
        ),
        (
            "walks.toml missing",
            Box::new(|d| std::fs::remove_file(d.join("walks.toml")).unwrap()),
            vec![
                format!("{}: missing: ", walks_toml(&bad)),
                "each shard of one random-walk run holds its walks.toml".into(),
            ],
        ),
        (
            "walks.toml a directory",
            Box::new(|d| {
                std::fs::remove_file(d.join("walks.toml")).unwrap();
                std::fs::create_dir(d.join("walks.toml")).unwrap();
            }),
            vec![format!("{}: is a directory", walks_toml(&bad))],
        ),
        (
            "walks.toml empty",
            Box::new(|d| std::fs::write(d.join("walks.toml"), "").unwrap()),
            vec![format!("{}: empty", walks_toml(&bad))],
        ),
        (
            "a listed trace missing",
            Box::new(|d| std::fs::remove_file(d.join("b-complete.trace")).unwrap()),
            vec![s(&bad.join("b-complete.trace")), "cannot read".into()],
        ),
        (
            "a trace of another shard",
            Box::new(|d| {
                std::fs::copy(d.join("b-complete.trace"), d.join("a-isolated.trace")).unwrap();
            }),
            vec![s(&bad.join("a-isolated.trace")), "does not list".into()],
        ),
        (
            "a foreign file",
            Box::new(|d| {
                write(d, "notes.txt", "mine\n");
            }),
            vec![s(&bad.join("notes.txt")), "not written by this run".into()],
        ),
    ];
    let out = s(&tmp.path().join("merged"));
    for (what, damage, needles) in cases {
        let _ = std::fs::remove_dir_all(&bad);
        copy_dir(&good, &bad);
        damage(&bad);
        let o = owm(&["merge", &s(&bad), &shards[1], &shards[2], "--out", &out]);
        assert_eq!(code(&o), 2, "{what}: {}{}", stdout(&o), stderr(&o));
        let mut needles: Vec<&str> = needles.iter().map(String::as_str).collect();
        let file = walks_toml(&bad);
        if !needles
            .iter()
            .any(|n| n.contains(".trace") || n.contains("notes.txt"))
        {
            needles.push(&file);
        }
        fails_with(&o, &needles);
        assert!(!stderr(&o).contains("Some("), "{what}: {}", stderr(&o));
        assert!(!tmp.path().join("merged").exists(), "{what}");
    }
    let o = owm(&["merge", &shards[0], &shards[1], &shards[2], "--out", &out]);
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
}

/// Walk shards of different runs are refused (exit 2) in a user's words, each naming
/// both shards and both values: an unsharded run beside the shards of three ("of 3
/// shards, but … is of 1", whichever comes first; not "given twice"), another depth
/// bound ("depth ≤ 20" against "no depth bound", never Rust's `Some(20)`), another
/// walk count.
#[test]
fn walk_shards_of_different_runs_are_refused_in_words() {
    let tmp = tempfile::tempdir().unwrap();
    let shards = violating_shards(tmp.path(), &[]);
    let whole = s(&tmp.path().join("whole"));
    let out = s(&tmp.path().join("merged"));
    let o = owm(&[
        "merge", &whole, &shards[0], &shards[1], &shards[2], "--out", &out,
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            &format!(
                "shard 1/3 ({}): of 3 shards, but {whole} is of 1",
                shards[0]
            ),
            "different runs",
        ],
    );
    assert!(!stderr(&o).contains("given twice"), "{}", stderr(&o));
    let o = owm(&[
        "merge", &shards[0], &shards[1], &shards[2], &whole, "--out", &out,
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[&format!(
            "shard 1/1 ({whole}): of 1 shard, but {} is of 3",
            shards[0]
        )],
    );
    assert!(!stderr(&o).contains("given twice"), "{}", stderr(&o));

    let other = tmp.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let depth = violating_shards(&other, &["--depth", "20"]);
    let o = owm(&["merge", &shards[0], &shards[1], &depth[2], "--out", &out]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[&format!(
            "shard 3/3 ({}): depth ≤ 20, but shard 1/3 ({}) has no depth bound",
            depth[2], shards[0]
        )],
    );
    assert!(!stderr(&o).contains("Some("), "{}", stderr(&o));

    let more = owm(&[
        &SMALL_WALKS[..],
        &["--walks", "41", "--shard", "2/3", "--trace-dir"][..],
        &[s(&tmp.path().join("more2")).as_str()][..],
    ]
    .concat());
    assert!(matches!(code(&more), 1 | 3), "{}", stderr(&more));
    let o = owm(&[
        "merge",
        &shards[0],
        &s(&tmp.path().join("more2")),
        &shards[2],
        "--out",
        &out,
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["41 walks in all, but shard 1/3", "is of 40"]);
}
