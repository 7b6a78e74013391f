//! The README's exit-status table, row by row, for every command that keeps it. Each
//! (status, command) pair has a test asserting exactly that status:
//!
//! | exit | run | sweep | merge | check |
//! |---|---|---|---|---|
//! | 0 | `run::a_violation_exits_1_and_is_printed_unless_allowed` (fig3, bank) | [`a_clean_sweep_exits_0`] | [`merge_exits_as_its_shards_say`] | `check::the_default_configuration_holds` |
//! | 1 | `run::a_violation_exits_1_and_is_printed_unless_allowed`, [`a_violation_in_a_finished_policy_outranks_a_later_limit_or_interrupt`] (and a limit after it) | `verdicts::a_violating_sweep_exits_1_and_its_junit_counts_the_failures` | [`merge_exits_as_its_shards_say`] | `check::a_violation_exits_1_and_writes_a_trace_that_replays` |
//! | 2 | [`bad_input_exits_2`] | [`bad_input_exits_2`] | `verdicts::merge_refuses_edited_missing_duplicated_or_overwritten_shards`, `merge_verdicts::merge_refuses_a_shards_missing_edited_or_unpinned_verdicts`, `trace_pins::merge_refuses_shards_that_replayed_two_versions_of_a_trace` | `check::bad_check_flags_are_refused_with_exit_2` |
//! | 3 | `verdicts::sigint_stops_a_run_with_exit_3_and_keeps_the_old_output`, [`a_run_stopped_by_a_limit_ends_with_its_verdict_line`], `run::history_off_is_unchecked_not_clean`, [`a_crash_that_breaks_a_device_without_barriers_stops_the_run_exit_3`] | `verdicts::a_failed_point_is_reported_and_the_grid_goes_on`, `verdicts::an_interrupted_sweep_resumes_to_identical_bytes` | [`merge_exits_as_its_shards_say`] (a shard holds a failed point) | `check::a_depth_bound_that_cuts_the_search_is_incomplete_exit_3` |
//!
//! `--allow-violations` (1 becomes 0): `run::a_violation_exits_1_and_is_printed_unless_allowed`,
//! `verdicts::a_violating_sweep_exits_1_and_its_junit_counts_the_failures`,
//! `check::a_violation_exits_1_and_writes_a_trace_that_replays`. And every shipped
//! scenario and sweep exits 0 unless its comment says it demonstrates a violation
//! ([`every_shipped_file_exits_as_its_comment_says`]).

use std::path::Path;

use crate::util::*;
use crate::verdicts::{failing_sweep, violating_sweep, SWEEP};

#[test]
fn a_clean_sweep_exits_0() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "s.toml", SWEEP);
    let o = owm(&["sweep", &f, "--out", &s(&tmp.path().join("o"))]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("verdict: held (72 cases: 0 violated"),
        "{}",
        stdout(&o)
    );
}

/// Runs `text` as a sweep in two shards under `dir`, each with the status `shards`
/// says, and merges them.
fn merged(dir: &Path, text: &str, shards: [i32; 2]) -> std::process::Output {
    std::fs::create_dir_all(dir).unwrap();
    let f = write(dir, "s.toml", text);
    let mut parts = Vec::new();
    for (k, want) in [1, 2].into_iter().zip(shards) {
        let p = s(&dir.join(format!("p{k}")));
        let o = owm(&["sweep", &f, "--shard", &format!("{k}/2"), "--out", &p]);
        assert_eq!(code(&o), want, "shard {k}/2: {}", stdout(&o));
        parts.push(p);
    }
    let out = s(&dir.join("m"));
    owm(&["merge", &parts[0], &parts[1], "--out", &out])
}

/// Merge's status is the verdict of the shards' grid points: 0 when every point held, 1
/// when a shard's point violated a claimed invariant, 3 when a shard's point failed
/// (nothing was judged there). `merge_verdicts` checks it is the unsharded sweep's.
#[test]
fn merge_exits_as_its_shards_say() {
    let tmp = tempfile::tempdir().unwrap();
    let o = merged(&tmp.path().join("clean"), SWEEP, [0, 0]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("verdict: held"), "{}", stdout(&o));

    // Shard 1/2 holds points 0 and 2 (crash-consistent and cow on seed 1), shard 2/2
    // points 1 and 3 (seed 2): cow breaks B-complete and bank-conserved in both, one
    // case per point x invariant (4 points x 9 invariants).
    let o = merged(&tmp.path().join("violating"), &violating_sweep(), [1, 1]);
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("verdict: violated ("), "{text}");
    assert!(text.contains("(36 cases: 4 violated"), "{text}");
    assert!(text.contains(" not claimed; exit 1)"), "{text}");

    // Point 0 (shard 1/2) hits its event limit.
    let o = merged(&tmp.path().join("failed"), &failing_sweep(), [3, 0]);
    assert_eq!(code(&o), 3, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("verdict: incomplete"), "{}", stdout(&o));
}

/// A run whose first policy (`none`, no backup) finishes and whose second (`cow`, its
/// archive at 1 B/s) passes `limits.time_ticks_max`, the limit at line 9: virtual
/// time, so the stop is the same on every machine.
const STOPPED_IN_ITS_SECOND_POLICY: &str =
    "policies = [\"none\", \"cow\"]\n[workload]\nkind = \"bank\"\naccounts = 256\n\
     transactions = 60\n[archive]\nbandwidth_bytes_per_s = 1\n\
     [limits]\ntime_ticks_max = 100000000\n";

/// An archive copy whose one extent takes more than 2^64 ticks to send (20 TB at
/// 1 B/s) lands at no representable time: the run stops at `limits.time_ticks_max`
/// (exit 3), never reporting the copy landed at once.
#[test]
fn a_copy_past_2_64_ticks_stops_at_the_time_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "far.toml",
        "policies = [\"mirroring\"]\nseed = 1\n[workload]\nkind = \"fig3\"\n\
         records = 1200000\n[geometry]\nblock_size_bytes = 16777216\nrecords_per_block = 1\n\
         [archive]\nbandwidth_bytes_per_s = 1\nextent_blocks = 1200000\nsparse = false\n\
         [backup]\nrequest_at_ticks = 350\n[limits]\nvolume_bytes_max = 100000000000000000\n\
         archive_blocks_max = 100000000\ntime_ticks_max = 9223372036854775807\n",
    );
    let out = tmp.path().join("o");
    let o = owm(&["run", &f, "--out", out.to_str().unwrap()]);
    assert_eq!(code(&o), 3, "{}{}", stdout(&o), stderr(&o));
    fails_with(
        &o,
        &[
            "far.toml:18: key `limits.time_ticks_max`",
            "virtual time past 9223372036854775807 ticks",
        ],
    );
}

/// A run stopped by a limit (exit 3) ends its stdout with the verdict line, as a
/// finished run does, and that line agrees with the `--json` file: the policy that
/// finished (`none`) and the stopped one (`cow`, its archive at 1 B/s past
/// `time_ticks_max`).
#[test]
fn a_run_stopped_by_a_limit_ends_with_its_verdict_line() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "lim.toml", STOPPED_IN_ITS_SECOND_POLICY);
    let r = owm_json("run", &f, tmp.path(), &[]);
    let o = &r.o;
    assert_eq!(code(o), 3, "{}{}", stdout(o), stderr(o));
    fails_with(o, &["lim.toml:9: key `limits.time_ticks_max`"]);
    let text = stdout(o);
    let last = text.lines().last().unwrap_or_default();
    let v = r.verdict();
    assert_eq!(v["exit"], "incomplete", "{v}");
    let cases = json_cases(&v).len();
    assert!(cases > 1, "{v}");
    assert!(
        last.starts_with(&format!("verdict: incomplete ({cases} cases: "))
            && last.ends_with("; exit 3)"),
        "{text}"
    );
}

/// A run stopped by a limit in a later policy prints the tables of the policies that
/// finished before it, as the `--json` and `--junit` files hold their verdicts: the
/// cost table's rows and the verdict table's columns are the JSON's suites of judged
/// cases, in order; then a line names the stopped policy (the JSON's failed case
/// `run`), the limit's key and that `--out` was left as it was; the verdict line last.
#[test]
fn a_run_stopped_in_a_later_policy_prints_the_finished_policies_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let r = run_with_verdict_files(tmp.path(), "lim.toml", STOPPED_IN_ITS_SECOND_POLICY);
    assert_eq!(code(&r.o), 3, "{}{}", stdout(&r.o), stderr(&r.o));
    let text = stdout(&r.o);
    let v = read_json(&r.json);
    let mut judged: Vec<String> = json_cases(&v)
        .iter()
        .filter(|c| c["name"] != "run")
        .map(|c| c["suite"].as_str().unwrap().to_string())
        .collect();
    judged.dedup();
    assert_eq!(judged, ["none"], "{v}");
    let (rows, columns) = printed_policies(&text);
    assert_eq!((&rows, &columns), (&judged, &judged), "{text}");
    let stopped = json_cases(&v)
        .iter()
        .find(|c| c["name"] == "run")
        .unwrap_or_else(|| panic!("no failed case: {v}"))["suite"]
        .as_str()
        .unwrap();
    let xml = std::fs::read_to_string(&r.xml).unwrap();
    for p in judged.iter().map(String::as_str).chain([stopped]) {
        assert!(
            xml.contains(&format!("<testsuite name=\"{p}\"")),
            "{p}: {xml}"
        );
    }
    let lines: Vec<&str> = text.lines().collect();
    let stop = lines
        .iter()
        .position(|l| l.starts_with(&format!("policy {stopped} with seed 1 stopped ")))
        .unwrap_or_else(|| panic!("no line names the stopped policy:\n{text}"));
    let line = lines[stop];
    for words in [
        "by `limits.time_ticks_max` (limit reached: ",
        "the tables above hold the policy that finished before it: `none`",
        &format!("nothing written, {} left as it was", r.out.display()),
    ] {
        assert!(line.contains(words), "{words}: {line}");
    }
    let table = lines
        .iter()
        .position(|l| l.starts_with("invariant "))
        .unwrap();
    assert!(table < stop, "{text}");
    assert!(
        lines[stop..].iter().all(|l| !l.starts_with(stopped)),
        "{text}"
    );
    assert!(
        lines.last().unwrap().starts_with("verdict: incomplete ("),
        "{text}"
    );
}

/// A run whose first policy (`cow`, its copy to B' skipping block 3: the
/// `b-prime-faithful` mutant) finishes with a violation and whose second (`quiesce`,
/// its third cycle past tick 16,000) passes `limits.time_ticks_max`.
const VIOLATED_THEN_STOPPED: &str = "policies = [\"cow\", \"quiesce\"]\n\
     [workload]\nkind = \"bank\"\naccounts = 256\ntransactions = 120\n\
     arrival_ticks_mean = 100\ncompute_ticks_min = 20\ncompute_ticks_max = 800\n\
     [backup]\nschedule_at_ticks = [2000, 2500, 7000]\n\
     [archive]\nbandwidth_bytes_per_s = 2000000\n\
     [detach]\nskip_block_for_mutant_test = 3\n\
     [limits]\ntime_ticks_max = 16000\n";

/// Asserts that `o` (with its `--json` verdict `v`) ended a run whose `cow` violated
/// `b-prime-faithful` and whose `quiesce` was stopped (`stopped`: words of its failed
/// case `run`) with exit `want` and the verdict line `verdict: {word} (`.
fn stopped_after_cow(o: &std::process::Output, v: &serde_json::Value, want: (u8, &str, &str)) {
    let (status, exit, word) = want;
    assert_eq!(code(o), i32::from(status), "{}{}", stdout(o), stderr(o));
    assert_eq!(
        (v["exit"].as_str(), v["exit_code"].as_u64()),
        (Some(exit), Some(status.into())),
        "{v}"
    );
    assert_eq!(
        json_case(v, "cow", "b-prime-faithful")["verdict"],
        "violated",
        "{v}"
    );
    assert_eq!(json_case(v, "quiesce", "run")["verdict"], "failed", "{v}");
    let text = stdout(o);
    let last = text.lines().last().unwrap_or_default();
    let cases = json_cases(v).len();
    assert!(
        last.starts_with(&format!(
            "verdict: {word} ({cases} cases: 1 violated, 1 unchecked or incomplete"
        )) && last.ends_with(&format!("; exit {status})")),
        "{text}"
    );
}

/// A violation a finished policy proved outranks a later policy's limit or interrupt,
/// as README's exit-status rule says: exit 1, `"exit": "violated"` in the JSON, the
/// verdict line `verdict: violated`, the stop still said (the limit's key on stderr,
/// the interrupt on stdout). With `--allow-violations` the violation is no failure and
/// the limit's incomplete (3) remains, while the verdict word stays `violated`.
#[test]
fn a_violation_in_a_finished_policy_outranks_a_later_limit_or_interrupt() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "v.toml", VIOLATED_THEN_STOPPED);
    let r = owm_json("run", &f, &tmp.path().join("limit"), &[]);
    stopped_after_cow(&r.o, &r.verdict(), (1, "violated", "violated"));
    fails_with(&r.o, &["v.toml:16: key `limits.time_ticks_max`"]);

    let r = owm_json(
        "run",
        &f,
        &tmp.path().join("allowed"),
        &["--allow-violations"],
    );
    stopped_after_cow(&r.o, &r.verdict(), (3, "incomplete", "violated"));

    let (args, _, json) = json_args("run", &f, &tmp.path().join("interrupt"), &[]);
    let o = interrupt_at(&args, "policy quiesce");
    stopped_after_cow(&o, &read_json(&json), (1, "violated", "violated"));
    assert!(
        stdout(&o).contains("interrupted before policy quiesce"),
        "{}",
        stdout(&o)
    );
}

/// Bad input is exit 2 for run and sweep: a key the file may not hold, a metric that
/// does not exist, an output directory that cannot be made.
#[test]
fn bad_input_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "bad.toml",
        "[workload]\nkind = \"fig3\"\nrecordz = 3\n",
    );
    let o = owm(&["run", &f, "--out", &s(&tmp.path().join("o"))]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["key `workload.recordz`"]);
    let blocker = write(tmp.path(), "blocker", "x");
    let o = owm(&[
        "run",
        "scenarios/fig3.toml",
        "--out",
        &format!("{blocker}/o"),
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let f = write(
        tmp.path(),
        "bad-sweep.toml",
        "metrics = [\"speed\"]\n[scenario.workload]\nkind = \"fig3\"\n",
    );
    let o = owm(&["sweep", &f, "--out", &s(&tmp.path().join("o"))]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["unknown metric `speed`"]);
    let o = owm(&["sweep", "scenarios/sweep-space.toml", "--shard", "3/2"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
}

/// Every shipped scenario and sweep (`scenarios/*.toml`) exits 0, its verdicts judged
/// on the invariants each policy claims, unless its leading comment says it
/// "demonstrates a violation" (then 1) or "exits 3 (incomplete)" (then 3). A sweep
/// also draws its plots.
#[test]
fn every_shipped_file_exits_as_its_comment_says() {
    let tmp = tempfile::tempdir().unwrap();
    let files = shipped_files();
    assert!(files.len() >= 7, "{files:?}");
    for f in files {
        let path = format!("scenarios/{f}");
        let text = std::fs::read_to_string(repo().join(&path)).unwrap();
        let comment: String = text
            .lines()
            .take_while(|l| l.starts_with('#'))
            .collect::<Vec<_>>()
            .join(" ");
        let want = if comment.contains("demonstrates a violation") {
            1
        } else if comment.contains("exits 3 (incomplete)") {
            3
        } else {
            0
        };
        let stem = f.trim_end_matches(".toml");
        let sweep = stem.starts_with("sweep");
        let out = tmp.path().join(stem);
        let o = owm(&[
            if sweep { "sweep" } else { "run" },
            &path,
            "--out",
            &s(&out),
        ]);
        assert_eq!(code(&o), want, "{path}:\n{}{}", stdout(&o), stderr(&o));
        if sweep {
            assert!(names(&out).iter().any(|n| n.ends_with(".png")), "{path}");
        }
    }
}

/// The README's paragraph on the shipped files' exits ("Every shipped scenario and
/// sweep ... exits 0 but ...") names every file whose leading comment says it
/// demonstrates a violation or exits 3 (incomplete), and no other, so a new such file
/// cannot leave it stale.
#[test]
fn the_readme_names_every_shipped_file_that_exits_1() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = readme
        .find("Every shipped scenario and sweep (`scenarios/*.toml`) exits 0 but")
        .expect("the README's paragraph on the shipped files' exits");
    let paragraph = &readme[start..];
    let paragraph = &paragraph[..paragraph.find("\n\n").unwrap_or(paragraph.len())];
    for f in shipped_files() {
        let text = std::fs::read_to_string(repo().join("scenarios").join(&f)).unwrap();
        let violates = text
            .lines()
            .take_while(|l| l.starts_with('#'))
            .collect::<Vec<_>>()
            .join(" ")
            .contains("demonstrates a violation")
            || text
                .lines()
                .take_while(|l| l.starts_with('#'))
                .collect::<Vec<_>>()
                .join(" ")
                .contains("exits 3 (incomplete)");
        assert_eq!(
            paragraph.contains(&format!("`{f}`")),
            violates,
            "README.md names {f} among the files exiting 1: {violates} expected\n{paragraph}"
        );
    }
}

/// scenarios/README.md's table of shipped files has a row for every shipped scenario
/// and sweep (`scenarios/*.toml`), so a new file cannot ship undescribed.
#[test]
fn the_scenarios_readme_has_a_row_for_every_shipped_file() {
    let readme = std::fs::read_to_string(repo().join("scenarios/README.md")).unwrap();
    for f in shipped_files() {
        assert!(
            readme.lines().any(|l| l.starts_with(&format!("| `{f}` |"))),
            "scenarios/README.md has no row `| `{f}` | ... |` in its table of shipped files"
        );
    }
}

/// The verdict words README's exit-status section lists, one per row of its table of
/// verdict lines (`` | `verdict: WORD (`` …).
fn readme_verdict_words() -> Vec<String> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let words: Vec<String> = readme
        .lines()
        .filter_map(|l| l.strip_prefix("| `verdict: "))
        .map(|rest| rest.split(' ').next().unwrap_or_default().to_string())
        .collect();
    assert!(!words.is_empty(), "README has no table of verdict lines");
    words
}

/// Every `.rs` file under `dir`, recursively, sorted.
fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// No message the product prints holds the indentation of a source line: a string
/// continued on the next line without its `\` keeps that line's leading spaces in the
/// text (`held other bytes                  than their checksums`). Every one-line
/// string literal of the product's sources that starts a line is read for a word, ten
/// or more spaces, and another word.
#[test]
fn no_message_holds_a_continued_lines_indentation() {
    let mut read = 0;
    for krate in [
        "src",
        "sim/src",
        "engine/src",
        "model/src",
        "reports/src",
        "serve/src",
    ] {
        for f in rust_files(&repo().join(krate)) {
            let text = std::fs::read_to_string(&f).unwrap();
            let name = f.strip_prefix(repo()).unwrap().display().to_string();
            for (n, line) in text.lines().enumerate() {
                let Some(body) = line.trim_start().strip_prefix('"') else {
                    continue;
                };
                let literal: String = body
                    .split_inclusive('"')
                    .scan(true, |open, part| {
                        let took = open.then_some(part);
                        *open = part.ends_with("\\\"");
                        took
                    })
                    .collect();
                read += 1;
                let gap = literal.trim().contains(&" ".repeat(10));
                assert!(
                    !gap,
                    "{name}:{}: a continued line's spaces in {line:?}",
                    n + 1
                );
            }
        }
    }
    assert!(read > 1000, "only {read} string lines read");
}

/// Every verdict line the code can print starts with a word README's table lists: the
/// product sources hold one `"verdict: ` string, the format of `verdict_line`, whose
/// word is a `Word` (each `Word::as_str` arm is in the table), and every verdict line a
/// source comment quotes starts with a listed word too. Then the lines themselves, as
/// printed: held, violated, allowed violations, an empty shard, a replayed trace,
/// incomplete, each the last line of stdout.
#[test]
fn every_verdict_line_starts_with_a_word_the_readme_lists() {
    let listed = readme_verdict_words();
    let mut formats = Vec::new();
    for krate in ["src", "sim", "engine", "model", "reports", "serve"] {
        for f in rust_files(&repo().join(krate)) {
            let text = std::fs::read_to_string(&f).unwrap();
            let name = f.strip_prefix(repo()).unwrap().display().to_string();
            for (at, _) in text.match_indices("\"verdict: ") {
                formats.push(format!("{name}: {}", &text[at..at + 14]));
            }
            for (at, _) in text.match_indices("`verdict: ") {
                let word: String = text[at + 10..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphabetic() || *c == ' ')
                    .collect();
                let word = word.trim().split(' ').next().unwrap_or_default();
                assert!(
                    word == "WORD" || listed.iter().any(|w| w == word),
                    "{name}: `verdict: {word}` is not in README's table {listed:?}"
                );
            }
        }
    }
    assert_eq!(
        formats,
        ["src/verdict/mod.rs: \"verdict: {} ("],
        "every verdict line goes through verdict_line"
    );
    let verdict = std::fs::read_to_string(repo().join("src/verdict/mod.rs")).unwrap();
    let body = verdict
        .split("pub fn as_str(self) -> &'static str {")
        .nth(1)
        .and_then(|b| b.split("\n    }\n").next())
        .expect("Word::as_str");
    let words: Vec<&str> = body
        .lines()
        .filter_map(|l| l.split("=> \"").nth(1))
        .map(|w| w.trim_end_matches("\","))
        .collect();
    assert_eq!(words.len(), 4, "{body}");
    for w in &words {
        assert!(listed.iter().any(|l| l == w), "{w} not in {listed:?}");
    }

    // The lines as printed.
    let tmp = tempfile::tempdir().unwrap();
    let traces = tmp.path().join("traces");
    let dir = s(&traces);
    let broken = [
        &["check"][..],
        CHECK_VIOLATING[0],
        &["--threads", "1", "--trace-dir", &dir],
    ]
    .concat();
    let trace = s(&traces.join("b-complete.trace"));
    let empty = write(
        tmp.path(),
        "s.toml",
        "policies = [\"none\"]\nseeds = [1]\n[[axis]]\nkey = \"workload.transactions\"\n\
         values = [40]\n[scenario.workload]\nkind = \"generated\"\nrecords = 64\n",
    );
    let empty_out = s(&tmp.path().join("e"));
    let runs: Vec<(Vec<&str>, &str, i32)> = vec![
        (broken.to_vec(), "violated", 1),
        (
            [&broken[..], &["--allow-violations"]].concat(),
            "violated",
            0,
        ),
        (vec!["check", "--replay", &trace], "violated", 1),
        (vec!["check", "--threads", "1"], "held", 0),
        (
            vec!["check", "--threads", "1", "--depth", "2"],
            "incomplete",
            3,
        ),
        (
            vec!["sweep", &empty, "--shard", "2/2", "--out", &empty_out],
            "empty",
            0,
        ),
    ];
    for (args, word, exit) in runs {
        let o = owm(&args);
        assert_eq!(code(&o), exit, "{args:?}: {}{}", stdout(&o), stderr(&o));
        let out = stdout(&o);
        let last = out.lines().last().unwrap_or_default();
        let first = last
            .strip_prefix("verdict: ")
            .and_then(|r| r.split(' ').next())
            .unwrap_or_default();
        assert!(
            first == word && listed.iter().any(|l| l == first),
            "{args:?}: {last}"
        );
        assert!(
            last.ends_with(&format!("; exit {exit})")),
            "{args:?}: {last}"
        );
    }
}

/// A crash under `faults.power_safe = false` (no flush barriers) may break the
/// simulated device: over crash instants and variants, a run that does not finish
/// stops at the crash naming it (`the crash at tick T broke the device`), exit 3 with
/// the policy's `run` case failed in the JSON, never exit 2 (it is not bad input) nor a
/// plain engine refusal later in the run. At least one run must break, or the property
/// was not put to the test.
#[test]
fn a_crash_that_breaks_a_device_without_barriers_stops_the_run_exit_3() {
    let mut broken = 0;
    for policy in ["mirroring", "logging", "cow"] {
        for crash in [10_020u64, 10_070, 10_300] {
            let text = format!(
                r#"
policies = ["{policy}"]
seed = 1
[workload]
kind = "bank"
accounts = 128
transactions = 200
arrival_ticks_mean = 100
compute_ticks_min = 20
compute_ticks_max = 2000
[geometry]
block_size_bytes = 64
records_per_block = 4
[faults]
crash_at_ticks = [{crash}]
power_safe = false
"#
            );
            let tmp = tempfile::tempdir().unwrap();
            let f = write(tmp.path(), "crash.toml", &text);
            let run = owm_json("run", &f, tmp.path(), &[]);
            let what = format!("{policy} crash at {crash}");
            match code(&run.o) {
                0 | 1 => continue,
                3 => {}
                c => panic!("{what}: exit {c}: {}", stderr(&run.o)),
            }
            broken += 1;
            let said = stderr(&run.o);
            assert!(
                said.contains(&format!("the crash at tick {crash} broke the device")),
                "{what}: {said}"
            );
            let v = run.verdict();
            let case = json_case(&v, policy, "run");
            assert_eq!(case["verdict"], "failed", "{what}: {case}");
            assert_eq!(v["exit_code"], 3, "{what}");
        }
    }
    assert!(broken > 0, "no crash broke a device without barriers");
}

/// `owm device … --json` refuses bad usage (a flag missing, empty, unknown, no
/// operation) with exit 2 and, on standard output, the JSON object its other refusals
/// print (`kind` `bad-request`, `error` naming what is wrong on one line), the message
/// on standard error; without `--json` nothing on standard output. `--help` is no
/// refusal: exit 0, no JSON.
#[test]
fn device_usage_errors_under_json_print_a_refusal_object() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = s(tmp.path());
    for (args, names) in [
        (vec!["device", "backup", "--dir", &dir, "--json"], "--to"),
        (
            vec!["device", "backup", "--to", "", "--dir", &dir, "--json"],
            "--to",
        ),
        (vec!["device", "detach", "--json", "--dir", &dir], "--to"),
        (vec!["device", "status", "--bogus", "--json"], "--bogus"),
        (vec!["device", "--json"], "subcommand"),
    ] {
        let o = owm(&args);
        assert_eq!(code(&o), 2, "{args:?}: {}{}", stdout(&o), stderr(&o));
        let out = stdout(&o);
        assert_eq!(out.lines().count(), 1, "{args:?}: {out}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["ok"], false, "{args:?}: {v}");
        assert_eq!(v["kind"], "bad-request", "{args:?}: {v}");
        let error = v["error"].as_str().unwrap();
        assert!(
            error.contains(names) && !error.contains('\n'),
            "{args:?}: {error}"
        );
        assert!(stderr(&o).contains(names), "{args:?}: {}", stderr(&o));
        let plain: Vec<&str> = args.iter().copied().filter(|a| *a != "--json").collect();
        let o = owm(&plain);
        assert_eq!(code(&o), 2, "{plain:?}");
        assert!(stdout(&o).is_empty(), "{plain:?}: {}", stdout(&o));
    }
    let o = owm(&["device", "backup", "--help", "--json"]);
    assert_eq!(code(&o), 0);
    assert!(!stdout(&o).contains("\"ok\""), "{}", stdout(&o));
}

/// A sweep whose points all ran but whose outputs cannot be published (its staging
/// directory taken away before the commit, as a full or failing disk would leave it)
/// exits 2 with the error, publishes nothing, and its `--json` keeps every point's
/// verdicts beside the failed case, as `owm run`'s keeps its finished policies': the
/// violations the points proved are not lost with the outputs.
#[test]
fn a_sweep_whose_outputs_cannot_be_written_keeps_its_points_verdicts() {
    use std::io::Read;
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "s.toml", &violating_sweep());
    let out = tmp.path().join("o");
    let json = tmp.path().join("v.json");
    let mut p = spawn_paused(
        &["sweep", &f, "--out", &s(&out), "--json", &s(&json)],
        "commit",
    );
    let staging = staging_left(tmp.path());
    assert_eq!(staging.len(), 1, "{staging:?}");
    std::fs::remove_dir_all(tmp.path().join(&staging[0])).unwrap();
    drop(p.child.stdin.take()); // ends the pause
    let mut rest = String::new();
    p.stderr.read_to_string(&mut rest).unwrap();
    let o = p.child.wait_with_output().unwrap();
    assert_eq!(code(&o), 2, "{}{rest}", stdout(&o));
    assert!(!out.exists(), "--out was published");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let cases = v["cases"].as_array().unwrap();
    let failed: Vec<_> = cases.iter().filter(|c| c["verdict"] == "failed").collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["name"], "run");
    let violated = cases.iter().filter(|c| c["verdict"] == "violated").count();
    assert!(violated > 0, "the points' violations are kept: {v}");
    // Every grid point's cases: 2 policies x 2 seeds x every invariant.
    assert_eq!(cases.len(), 4 * 9 + 1, "{v}");
    assert_eq!(v["exit_code"], 2);
}
