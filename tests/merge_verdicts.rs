//! `owm merge` gives the verdicts of the unsharded sweep: the same cases (held,
//! violated, unchecked, not claimed with what was observed and why, failed with the
//! reason), lost backups and cycles, lines, verdict line and exit status, whatever the
//! number of shards; and a shard whose verdicts (`points.json`) are missing, edited or
//! not pinned is refused naming the file.

use std::path::Path;

use crate::util::*;

/// The shipped overflow sweep cut to 2 x 2 axis values and 2 seeds (16 grid points):
/// under break-snapshot the small data area abandons backups, so some points lose a
/// backup and report A-consistent and backup-faithful `not claimed (abandoned)`.
fn overflow_sweep() -> String {
    let text = std::fs::read_to_string(repo().join("scenarios/sweep-overflow.toml")).unwrap();
    let cut = text
        .replace("seeds = \"1..=20\"", "seeds = \"1..=2\"")
        .replace(
            "values = [0.02, 0.05, 0.1, 0.25, 0.4, 1.0]",
            "values = [0.05, 0.4]",
        );
    assert_ne!(
        cut, text,
        "the shipped overflow sweep no longer has these lines"
    );
    cut
}

/// What a sweep or a merge said: its exit status, its verdict line, the lines about
/// single grid points (violations, failures), its JSON verdicts and its JUnit file.
struct Said {
    code: i32,
    verdict: String,
    point_lines: Vec<String>,
    json: serde_json::Value,
    junit: String,
}

fn said(o: &std::process::Output, json: &Path, junit: &Path) -> Said {
    let text = stdout(o);
    assert!(!stderr(o).contains("panicked"), "{}", stderr(o));
    let verdict = text
        .lines()
        .rfind(|l| l.starts_with("verdict: "))
        .unwrap_or_else(|| panic!("no verdict line:\n{text}"))
        .to_string();
    let point_lines = text
        .lines()
        .filter(|l| {
            l.starts_with("violation at ")
                || l.starts_with("failed: ")
                || l.starts_with("  reproduce point ")
        })
        .map(str::to_string)
        .collect();
    Said {
        code: code(o),
        verdict,
        point_lines,
        json: read_json(json),
        junit: std::fs::read_to_string(junit).unwrap(),
    }
}

/// Runs the sweep `text` unsharded, then in 2 and in 3 shards merged (given in reverse
/// order), each with `flags` and `--json`/`--junit`, and asserts that every merge says
/// what the unsharded sweep says: the same exit status, verdict line, lines about grid
/// points, JSON apart from `command` and `reproduce` (which name the merge), and JUnit
/// apart from the command in its name. Returns the unsharded sweep's.
fn merges_say_what_the_sweep_says(dir: &Path, text: &str, flags: &[&str]) -> Said {
    std::fs::create_dir_all(dir).unwrap();
    let f = write(dir, "s.toml", text);
    let verdict_files = |name: &str| {
        (
            dir.join(format!("{name}.json")),
            dir.join(format!("{name}.xml")),
        )
    };
    let with_flags = |mut args: Vec<String>, json: &Path, junit: &Path| {
        args.extend(flags.iter().map(|f| f.to_string()));
        args.extend(["--json".into(), s(json), "--junit".into(), s(junit)]);
        owm(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let (json, junit) = verdict_files("whole");
    let args = vec![
        "sweep".into(),
        f.clone(),
        "--out".into(),
        s(&dir.join("whole")),
        "--quiet".into(),
    ];
    let whole = said(&with_flags(args, &json, &junit), &json, &junit);
    for n in [2, 3] {
        let mut merge = vec!["merge".to_string()];
        for k in (1..=n).rev() {
            let d = s(&dir.join(format!("p{k}of{n}")));
            let o = owm(&[
                "sweep",
                &f,
                "--shard",
                &format!("{k}/{n}"),
                "--out",
                &d,
                "--quiet",
            ]);
            assert_ne!(code(&o), 2, "shard {k}/{n}: {}", stderr(&o));
            merge.push(d);
        }
        merge.extend(["--out".into(), s(&dir.join(format!("m{n}")))]);
        let (json, junit) = verdict_files(&format!("merge{n}"));
        let m = said(&with_flags(merge, &json, &junit), &json, &junit);
        assert_eq!(m.code, whole.code, "exit status of the merge of {n} shards");
        assert_eq!(
            m.verdict, whole.verdict,
            "verdict line of the merge of {n} shards"
        );
        assert_eq!(
            m.point_lines, whole.point_lines,
            "grid point lines, {n} shards"
        );
        assert_eq!(m.json["command"], "merge");
        assert!(
            m.json["reproduce"]
                .as_str()
                .unwrap()
                .starts_with("owm merge "),
            "{}",
            m.json["reproduce"]
        );
        let strip = |v: &serde_json::Value| {
            let mut v = v.clone();
            let o = v.as_object_mut().unwrap();
            o.remove("command");
            o.remove("reproduce");
            v
        };
        assert_eq!(
            strip(&m.json),
            strip(&whole.json),
            "JSON verdicts, {n} shards"
        );
        assert_eq!(m.junit, whole.junit, "JUnit, {n} shards");
    }
    whole
}

/// Lost backups: a merge gives the sweep's `backups_lost`, `backup_cycles_lost`, its
/// `not claimed (abandoned)` cases with what was observed, and its verdict line's count
/// of lost cycles; a lost backup is no violation: the exit status is 1 only by the
/// break-guest-write points, whose refused writes violate non-disruption.
#[test]
fn a_merge_keeps_the_sweeps_lost_backups_and_unclaimed_cases() {
    let tmp = tempfile::tempdir().unwrap();
    let w = merges_say_what_the_sweep_says(tmp.path(), &overflow_sweep(), &[]);
    assert_eq!(w.code, 1, "{}", w.verdict);
    let violated: Vec<&serde_json::Value> = json_cases(&w.json)
        .iter()
        .filter(|c| c["verdict"] == "violated")
        .collect();
    assert!(!violated.is_empty(), "{}", w.json);
    for c in violated {
        assert!(
            c["name"] == "non-disruption"
                && c["suite"].as_str().unwrap().contains("break-guest-write")
                && c["detail"]
                    .as_str()
                    .unwrap()
                    .contains("was full (break-guest-write)"),
            "{c}"
        );
    }
    let lost = w.json["backups_lost"].as_array().expect("backups_lost");
    assert!(!lost.is_empty(), "{}", w.json);
    assert!(w.json["backup_cycles_lost"].as_u64().unwrap() >= lost.len() as u64);
    assert!(
        w.verdict.contains("given up or abandoned (in ") && w.verdict.contains(" grid point"),
        "{}",
        w.verdict
    );
    let abandoned = json_cases(&w.json)
        .iter()
        .filter(|c| {
            c["verdict"] == "not-claimed"
                && c["policy"].as_str().unwrap().contains("data area full")
        })
        .count();
    assert!(abandoned >= 2 * lost.len(), "{}", w.json);
}

/// Violations: the merge gives each violated case with its count and first violation,
/// the `violation at` lines, exit 1, and with `--allow-violations` exit 0.
#[test]
fn a_merge_keeps_the_sweeps_violations_with_their_details() {
    let tmp = tempfile::tempdir().unwrap();
    let text = crate::verdicts::violating_sweep();
    let w = merges_say_what_the_sweep_says(&tmp.path().join("v"), &text, &[]);
    assert_eq!(w.code, 1, "{}", w.verdict);
    assert!(!w.point_lines.is_empty());
    let violated: Vec<&serde_json::Value> = json_cases(&w.json)
        .iter()
        .filter(|c| c["verdict"] == "violated")
        .collect();
    assert!(!violated.is_empty());
    // The details are the simulator's, not a count read back from sweep.csv.
    assert!(violated
        .iter()
        .all(|c| !c["detail"].as_str().unwrap().contains("shard")));
    let w = merges_say_what_the_sweep_says(&tmp.path().join("a"), &text, &["--allow-violations"]);
    assert_eq!(w.code, 0, "{}", w.verdict);
    assert!(
        w.verdict.starts_with("verdict: violated (")
            && w.verdict
                .ends_with("; allowed by --allow-violations; exit 0)"),
        "{}",
        w.verdict
    );
}

/// A failed grid point: the merge gives its `failed` case with the shard's reason (the
/// event limit), its `failed:` line, and exit 3.
#[test]
fn a_merge_keeps_a_failed_points_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let w = merges_say_what_the_sweep_says(tmp.path(), &crate::verdicts::failing_sweep(), &[]);
    assert_eq!(w.code, 3, "{}", w.verdict);
    let failed: Vec<&serde_json::Value> = json_cases(&w.json)
        .iter()
        .filter(|c| c["verdict"] == "failed")
        .collect();
    assert!(!failed.is_empty(), "{}", w.json);
    assert!(
        failed
            .iter()
            .all(|c| c["reason"].as_str().unwrap().contains("limit")),
        "{failed:?}"
    );
}

/// Replaces `from` by `to` in `dir/name`.
fn edit(dir: &Path, name: &str, from: &str, to: &str) {
    let p = dir.join(name);
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains(from), "{name} lacks {from}:\n{text}");
    std::fs::write(&p, text.replacen(from, to, 1)).unwrap();
}

/// Sets the `points_sha256` line of `dir/shard.toml` to the digest of its `points.json`.
fn repin(dir: &Path) {
    repin_file(dir, "points_sha256", "points.json");
}

/// Sets the `key` line of `dir/shard.toml` to the digest of `dir/file`.
fn repin_file(dir: &Path, key: &str, file: &str) {
    let digest: String = {
        use sha2::Digest;
        sha2::Sha256::digest(bytes(dir, file))
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let marker = std::fs::read_to_string(dir.join("shard.toml")).unwrap();
    let line = marker
        .lines()
        .find(|l| l.starts_with(&format!("{key} =")))
        .unwrap()
        .to_string();
    std::fs::write(
        dir.join("shard.toml"),
        marker.replace(&line, &format!("{key} = \"{digest}\"")),
    )
    .unwrap();
}

/// A shard's verdicts that cannot be trusted are refused with exit 2, naming the shard
/// and `points.json`: missing, edited (its digest in shard.toml no longer matches),
/// not pinned at all (a shard.toml written without it), or pinned anew but holding
/// another shard's grid point or a verdict of another point. A shard output holding
/// `points.json` is owm's own (a rerun replaces it); elsewhere the file is foreign.
#[test]
fn merge_refuses_a_shards_missing_edited_or_unpinned_verdicts() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "s.toml", crate::verdicts::SWEEP);
    let out = s(&tmp.path().join("m"));
    let shards = |name: &str| {
        let d = tmp.path().join(name);
        let parts: Vec<std::path::PathBuf> = (1..=2).map(|k| d.join(format!("p{k}"))).collect();
        for (k, p) in parts.iter().enumerate() {
            ok(&owm(&[
                "sweep",
                &f,
                "--shard",
                &format!("{}/2", k + 1),
                "--out",
                &s(p),
            ]));
        }
        ok(&owm(&[
            "merge",
            &s(&parts[0]),
            &s(&parts[1]),
            "--out",
            &out,
        ]));
        parts
    };
    let refuse = |parts: &[std::path::PathBuf], needles: &[&str]| {
        let o = owm(&["merge", &s(&parts[0]), &s(&parts[1]), "--out", &out]);
        fails_with(&o, needles);
        assert_eq!(code(&o), 2, "{}", stderr(&o));
    };
    let p = shards("missing");
    let points = s(&p[1].join("points.json"));
    std::fs::remove_file(&points).unwrap();
    refuse(&p, &["shard 2/2", &points, "cannot read"]);

    let p = shards("edited");
    edit(&p[0], "points.json", "\"held\"", "\"not-claimed\"");
    refuse(
        &p,
        &[
            "shard 1/2",
            &s(&p[0].join("points.json")),
            "does not match the digest",
        ],
    );

    let p = shards("unpinned");
    let marker = std::fs::read_to_string(p[0].join("shard.toml")).unwrap();
    let unpinned: String = marker
        .lines()
        .filter(|l| !l.starts_with("points_sha256"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(unpinned, marker);
    std::fs::write(p[0].join("shard.toml"), unpinned).unwrap();
    refuse(
        &p,
        &[
            "shard 1/2",
            "shard.toml",
            "pins no points.json",
            "run this shard again",
        ],
    );

    // Shard 1/2 holds the even grid indexes; index 0 renamed 1, digest recomputed.
    let p = shards("moved");
    edit(&p[0], "points.json", "\"index\": 0,", "\"index\": 1,");
    repin(&p[0]);
    refuse(
        &p,
        &["shard 1/2", "points.json", "grid index 1", "another shard"],
    );

    // Point 2's verdicts claimed by point 0's entry, digest recomputed.
    let p = shards("swapped");
    let text = std::fs::read_to_string(p[0].join("points.json")).unwrap();
    std::fs::write(
        p[0].join("points.json"),
        text.replace("\"point 0 (", "\"point 2 ("),
    )
    .unwrap();
    repin(&p[0]);
    refuse(
        &p,
        &["shard 1/2", "points.json", "grid index 0", "point 2 ("],
    );

    // Points without their exact fractional values (as an owm that kept none wrote
    // them), digest recomputed: the statistics could not be the sweep's.
    let p = shards("inexact");
    let mut points: serde_json::Value =
        serde_json::from_slice(&bytes(&p[1], "points.json")).unwrap();
    for point in points.as_array_mut().unwrap() {
        assert!(point.as_object_mut().unwrap().remove("fractions").is_some());
    }
    std::fs::write(
        p[1].join("points.json"),
        serde_json::to_vec_pretty(&points).unwrap(),
    )
    .unwrap();
    repin(&p[1]);
    refuse(
        &p,
        &[
            "shard 2/2",
            &s(&p[1].join("points.json")),
            "grid index 1",
            "exact fractional values",
            "run this shard again",
        ],
    );

    // A cell of sweep.csv edited (committed one less at grid index 0) with the CSV's
    // digest in shard.toml recomputed: the row is not the one points.json recorded.
    let p = shards("recomputed");
    let csv = std::fs::read_to_string(p[0].join("sweep.csv")).unwrap();
    let mut lines: Vec<String> = csv.lines().map(str::to_string).collect();
    let c = lines[0].split(',').position(|h| h == "committed").unwrap();
    let mut cells: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    assert_eq!(cells[0], "0", "{}", lines[1]);
    let committed: u64 = cells[c].parse().unwrap();
    cells[c] = (committed - 1).to_string();
    lines[1] = cells.join(",");
    std::fs::write(p[0].join("sweep.csv"), lines.join("\n") + "\n").unwrap();
    repin_file(&p[0], "rows_sha256", "sweep.csv");
    refuse(
        &p,
        &[
            "shard 1/2",
            &s(&p[0].join("sweep.csv")),
            "the row of grid index 0 (point 0 (",
            "is not the one",
            &s(&p[0].join("points.json")),
        ],
    );

    // Points without the digests of their rows (as an owm that kept none wrote them),
    // digest recomputed: the rows cannot be checked against the points.
    let p = shards("undigested");
    let mut points: serde_json::Value =
        serde_json::from_slice(&bytes(&p[1], "points.json")).unwrap();
    for point in points.as_array_mut().unwrap() {
        assert!(point
            .as_object_mut()
            .unwrap()
            .remove("row_sha256")
            .is_some());
    }
    std::fs::write(
        p[1].join("points.json"),
        serde_json::to_vec_pretty(&points).unwrap(),
    )
    .unwrap();
    repin(&p[1]);
    refuse(
        &p,
        &[
            "shard 2/2",
            &s(&p[1].join("points.json")),
            "grid index 1 has no digest of its sweep.csv row",
            "run this shard again",
        ],
    );

    // `points` in shard.toml is not the grid's size (8 points).
    for wrong in ["9", "7"] {
        let p = shards(&format!("points{wrong}"));
        edit(
            &p[1],
            "shard.toml",
            "points = 8\n",
            &format!("points = {wrong}\n"),
        );
        refuse(
            &p,
            &[
                "shard 2/2",
                &s(&p[1].join("shard.toml")),
                &format!("points = {wrong}, but the grid of its sweep.toml has 8 points"),
            ],
        );
    }

    // A rerun of a shard into its own output replaces it; points.json without a
    // shard.toml beside it is not owm's.
    let p = shards("rerun");
    ok(&owm(&["sweep", &f, "--shard", "1/2", "--out", &s(&p[0])]));
    let other = tmp.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("points.json"), "[]\n").unwrap();
    let o = owm(&["sweep", &f, "--out", &s(&other)]);
    fails_with(&o, &["points.json"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
}

/// Each grid point that fails or violates is followed on the terminal by the command
/// that runs it alone (`  reproduce point I: …`), the very command the JSON verdicts
/// carry for it (`suite_reproduce`); that command, run from another directory, fails
/// the same way at that point. `owm merge` says its points' lines and commands as the
/// sweep does, and ends with its own `reproduce:` line, whose command (by absolute
/// paths) the JSON carries.
#[test]
fn failing_points_and_merges_print_the_command_that_reruns_them() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "s.toml",
        r#"
policies = ["quiesce", "cow"]
seeds = [1, 2]
metrics = ["response_ticks_mean"]
[[axis]]
key = "limits.time_ticks_max"
values = [6000, 100000000]
[scenario.workload]
kind = "generated"
records = 256
transactions = 30
"#,
    );
    let json = tmp.path().join("v.json");
    let o = owm(&[
        "sweep",
        &f,
        "--out",
        &s(&tmp.path().join("o")),
        "--json",
        &s(&json),
    ]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    let text = stdout(&o);
    let v = read_json(&json);
    let lines: Vec<&str> = text.lines().collect();
    let mut checked = 0;
    for (k, line) in lines.iter().enumerate() {
        let Some(rest) = line.strip_prefix("failed: ") else {
            continue;
        };
        // The suite: `point I (…)`, up to the colon after its parenthesis.
        let suite = &rest[..rest.find("): ").unwrap() + 1];
        let index = suite["point ".len()..].split(' ').next().unwrap();
        let said = lines[k + 1..]
            .iter()
            .find_map(|l| l.strip_prefix(&format!("  reproduce point {index}: ")))
            .unwrap_or_else(|| panic!("no command after {line}:\n{text}"));
        assert_eq!(said, v["suite_reproduce"][suite], "{suite}");
        // Run from elsewhere: the point alone, failing as it did.
        let words = shlex::split(said).unwrap();
        assert_eq!(words[0], "owm");
        let elsewhere = tmp.path().join(format!("elsewhere{index}"));
        std::fs::create_dir_all(&elsewhere).unwrap();
        let rerun = std::process::Command::new(env!("CARGO_BIN_EXE_owm"))
            .args(&words[1..])
            .current_dir(&elsewhere)
            .output()
            .unwrap();
        assert_eq!(code(&rerun), 3, "{}", stderr(&rerun));
        assert!(stdout(&rerun).contains(line), "{said}: {}", stdout(&rerun));
        checked += 1;
    }
    assert_eq!(checked, 2, "two seeds cut by the limit:\n{text}");
    // The merge of two shards: the same point lines and commands, and its own.
    let mut dirs = Vec::new();
    for k in 1..=2 {
        let d = s(&tmp.path().join(format!("p{k}")));
        let o = owm(&["sweep", &f, "--shard", &format!("{k}/2"), "--out", &d]);
        // Shard 1/2 holds the even grid indexes, seed 1's: both cut.
        assert_eq!(code(&o), if k == 1 { 3 } else { 0 }, "{}", stderr(&o));
        dirs.push(d);
    }
    let merged_json = tmp.path().join("m.json");
    let m = owm(&[
        "merge",
        &dirs[0],
        &dirs[1],
        "--out",
        &s(&tmp.path().join("m")),
        "--json",
        &s(&merged_json),
    ]);
    assert_eq!(code(&m), 3, "{}", stderr(&m));
    let point_lines = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| l.starts_with("failed: ") || l.starts_with("  reproduce point "))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(point_lines(&stdout(&m)), point_lines(&text));
    let said = stdout(&m)
        .lines()
        .find_map(|l| l.strip_prefix("reproduce: "))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no reproduce line:\n{}", stdout(&m)));
    let mj = read_json(&merged_json);
    assert_eq!(
        said,
        format!(
            "owm merge {} {} --out {}",
            dirs[0],
            dirs[1],
            s(&tmp.path().join("m"))
        )
    );
    assert_eq!(mj["reproduce"], said.as_str(), "absolute paths given");
}
