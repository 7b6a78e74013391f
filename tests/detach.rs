//! The copy of VLUN B to B' after the retire (`[detach]`, [0048]) through `owm run`:
//! its columns in `summary.csv`, its events in `trace.csv`, what it costs the users in
//! the backup window, one copy per cycle of a schedule, its keys validated, and its
//! verdict (b-prime-faithful) caught broken by the copy's test mutant.

use crate::costs::{summary_rows, write_only_load};
use crate::util::*;

/// The issue's write-only load (`costs::write_only_load`) under every backup policy;
/// `extra` is appended (e.g. a `[detach]` table).
fn scenario(extra: &str) -> String {
    format!(
        "{}{}{extra}",
        r#"
policies = ["none", "quiesce", "mirroring", "logging", "cow"]
seed = 1
name = "detach"
"#,
        write_only_load!()
    )
}

/// A B' target accepting 400 kB/s, in extents of 16 blocks (2,560 ticks each).
const DETACH: &str = "
[detach]
bandwidth_bytes_per_s = 400000
extent_blocks = 16
";

fn run(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "detach.toml", text);
    let out = tmp.path().join("o");
    // On the load's one channel a user's call queues behind an archive extent (64
    // reads of 100 ticks): non-disruption is violated under every variant, as it
    // should be; the copy's own figures are what this file tests.
    ok(&owm(&["run", &f, "--out", &s(&out), "--allow-violations"]));
    (tmp, out)
}

#[test]
fn detach_copies_b_after_the_retire_verifies_b_prime_and_costs_the_users() {
    let (_t1, with) = run(&scenario(DETACH));
    let (_t2, without) = run(&scenario(""));
    let rows = summary_rows(&with);
    let plain = summary_rows(&without);
    // No backup, no retire: nothing to copy; the columns are there, empty, and the
    // verdict is not claimed.
    assert_eq!(rows["none"]["detach_start_at_ticks"], "");
    assert_eq!(rows["none"]["b-prime-faithful"], "not claimed (no backup)");
    for p in ["quiesce", "mirroring", "logging", "cow"] {
        let r = &rows[p];
        assert_eq!(
            r["detach_start_at_ticks"], r["retire_at_ticks"],
            "{p}: the copy starts when the retire completed"
        );
        let (start, end) = (
            num(r, "detach_start_at_ticks"),
            num(r, "detach_end_at_ticks"),
        );
        // 16 extents of 1 KiB, each 2,560 ticks on the target.
        assert!(end >= start + 16.0 * 2560.0, "{p}: {start} → {end}");
        assert_eq!(r["detach_blocks_copied"], "256", "{p}: every block");
        assert!(
            num(r, "detach_mirrored_writes") > 0.0,
            "{p}: users wrote copied blocks during the copy"
        );
        assert_eq!(r["b-prime-faithful"], "held", "{p}");
        assert_eq!(r["window_end_at_ticks"], r["detach_end_at_ticks"], "{p}");
        // The copy's reads share the one channel: users answer slower. (The window's
        // mean is not comparable: with the copy the window runs on past the retire.)
        let slow = num(r, "response_ticks_mean");
        let fast = num(&plain[p], "response_ticks_mean");
        assert!(
            slow > fast,
            "{p}: mean {slow} with the copy, {fast} without"
        );
        assert!(
            num(r, "device_queue_ticks") > num(&plain[p], "device_queue_ticks"),
            "{p}"
        );
        // Without [detach] nothing changes but the missing copy.
        assert_eq!(r["retire_at_ticks"], plain[p]["retire_at_ticks"], "{p}");
    }
    assert!(!plain["cow"].contains_key("detach_start_at_ticks"));
    // Without [detach] the claim is never reached: not claimed, never `held`.
    for p in ["quiesce", "mirroring", "logging", "cow"] {
        assert_eq!(
            plain[p]["b-prime-faithful"], "not claimed (no copy to B')",
            "{p}"
        );
    }
    let trace = String::from_utf8(bytes(&with, "trace.csv")).unwrap();
    for ev in [",detach-start,", ",detach-end,"] {
        let n = trace.lines().filter(|l| l.contains(ev)).count();
        assert_eq!(n, 4, "{ev}: one per backup policy");
    }
    let plain_trace = String::from_utf8(bytes(&without, "trace.csv")).unwrap();
    assert!(!plain_trace.contains(",detach-"));
}

/// Under a schedule each cycle copies B to B' once, and the next cycle waits for it.
#[test]
fn each_cycle_of_a_schedule_detaches() {
    let text = scenario("period_ticks = 200000\ncycles = 2\n").replace(
        "policies = [\"none\", \"quiesce\", \"mirroring\", \"logging\", \"cow\"]",
        "policies = [\"logging\", \"cow\"]",
    ) + DETACH;
    let (_t, out) = run(&text);
    let rows = csv_rows(&out, "summary.csv");
    assert_eq!(rows.len(), 4, "two policies, two cycles each");
    for r in &rows {
        assert_eq!(r["detach_blocks_copied"], "256", "{r:?}");
        assert_eq!(r["b-prime-faithful"], "held", "{r:?}");
    }
    for p in ["logging", "cow"] {
        let c: Vec<_> = rows.iter().filter(|r| r["policy"] == p).collect();
        assert!(
            num(c[1], "window_start_at_ticks") >= num(c[0], "detach_end_at_ticks"),
            "{p}: the second cycle starts after the first copy"
        );
        assert!(num(c[1], "detach_start_at_ticks") >= num(c[1], "retire_at_ticks"));
    }
}

/// A backup abandoned under `break-snapshot` drops VLUN A with no archive, which is
/// not a retire; B is still copied to B' once VLUN A is gone (\[0048\]: the copy
/// removes the storage B shares with A, whatever became of A): the copy starts when
/// the drop completed (`trace.csv`'s `a-dropped` row), and b-prime-faithful is judged
/// and held in the abandoned cycle's row (the completed cycle, after the load, ran
/// beside no transaction and says so).
#[test]
fn an_abandoned_backup_is_followed_by_the_copy_to_b_prime() {
    let text = format!(
        "{}{DETACH}",
        crate::lost_backup::FIRST_OF_TWO_ABANDONED.replace(
            "name = \"first-of-two-abandoned\"",
            "name = \"detach-after-drop\""
        )
    );
    let (_t, out) = run(&text);
    let rows = csv_rows(&out, "summary.csv");
    let trace = csv_rows(&out, "trace.csv");
    let (mut after_drop, mut after_retire) = (0, 0);
    for r in &rows {
        let p = r["policy"].as_str();
        assert_eq!(r["detach_blocks_copied"], "256", "{r:?}");
        let start = &r["detach_start_at_ticks"];
        if r["backup_abandoned"] == "1" {
            assert_eq!(r["b-prime-faithful"], "held", "{r:?}");
            // The drop's time: the `a-dropped` row of this policy and cycle.
            let dropped: Vec<&String> = trace
                .iter()
                .filter(|t| t["policy"] == p && t["event"] == "a-dropped")
                .map(|t| &t["time_ticks"])
                .collect();
            assert!(
                dropped.contains(&start),
                "{p}: copy at {start}, drops {dropped:?}"
            );
            assert!(num(r, "detach_start_at_ticks") >= num(r, "abandoned_at_ticks"));
            after_drop += 1;
        } else {
            assert_eq!(
                r["b-prime-faithful"], "not claimed (request after the last transaction)",
                "{r:?}"
            );
            assert_eq!(start, &r["retire_at_ticks"], "{r:?}");
            after_retire += 1;
        }
    }
    assert_eq!((after_drop, after_retire), (4, 4), "{rows:?}");
}

/// The `[detach]` keys are validated like `[archive]`'s: file, line, key, exit 2.
#[test]
fn bad_detach_keys_name_file_line_and_key() {
    let cases = [
        (
            "[detach]\nbandwidth_bytes_per_s = 0\n",
            2,
            "detach.bandwidth_bytes_per_s",
            "at least 1",
        ),
        (
            "[detach]\nextent_blocks = 0\n",
            2,
            "detach.extent_blocks",
            "at least 1",
        ),
        (
            "[detach]\nprofile = \"pigeon\"\n",
            2,
            "detach.profile",
            "1gbe",
        ),
        (
            "[detach]\nsparse = true\n",
            2,
            "detach.sparse",
            "every block",
        ),
    ];
    refused_at_their_keys(&cases);
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "bad.toml", "[detach]\nspeed = 3\n");
    let o = owm(&["run", &f, "--out", &s(&tmp.path().join("o"))]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    fails_with(&o, &[&format!("{f}:2:"), "speed"]);
}

/// The copy's test mutant (`skip_block_for_mutant_test`: block 7 never reaches B')
/// is caught by the oracle as a b-prime-faithful violation under every backup policy,
/// through `owm run`: exit 1, the verdict table, `summary.csv`, the JSON and JUnit
/// (a `<failure>` naming the block); every other claim still holds. The faithful copy
/// of the same run holds (`detach_copies_b_after_the_retire...` above).
#[test]
fn a_copy_that_skips_a_block_is_a_b_prime_faithful_violation() {
    let mutant = format!("{DETACH}skip_block_for_mutant_test = 7\n");
    let tmp = tempfile::tempdir().unwrap();
    let VerdictRun { o, out, json, xml } =
        run_with_verdict_files(tmp.path(), "mutant.toml", &scenario(&mutant));
    assert_eq!(code(&o), 1, "{}\n{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    let line = table_row(&text, "b-prime-faithful");
    assert_eq!(line.matches("violated 1").count(), 4, "{line}");
    assert!(text.contains("(block 7)"), "{text}");
    let rows = summary_rows(&out);
    assert_eq!(rows["none"]["b-prime-faithful"], "not claimed (no backup)");
    for p in ["quiesce", "mirroring", "logging", "cow"] {
        let r = &rows[p];
        assert_eq!(r["detach_blocks_copied"], "256", "{p}: the copy ran");
        assert_eq!(r["b-prime-faithful"], "violated 1", "{p}");
        for other in ["B-complete", "no-torn-write", "backup-faithful"] {
            assert_eq!(r[other], "held", "{p}: {other}");
        }
    }
    let v = read_json(&json);
    assert_eq!(v["exit_code"], 1);
    let cases: Vec<&serde_json::Value> = json_cases(&v)
        .iter()
        .filter(|c| c["name"] == "b-prime-faithful" && c["verdict"] == "violated")
        .collect();
    assert_eq!(cases.len(), 4, "{v}");
    let doc = std::fs::read_to_string(&xml).unwrap();
    let doc = roxmltree::Document::parse(&doc).unwrap();
    let failures = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase") && n.attribute("name") == Some("b-prime-faithful"))
        .filter(|n| n.children().any(|k| k.has_tag_name("failure")))
        .count();
    assert_eq!(failures, 4);
}

/// The mutant's key is refused under `[archive]` and past the volume.
#[test]
fn the_copy_mutant_is_refused_where_it_cannot_apply() {
    let cases = [
        (
            "[archive]\nskip_block_for_mutant_test = 1\n",
            2,
            "archive.skip_block_for_mutant_test",
            "[detach]",
        ),
        (
            "[detach]\nskip_block_for_mutant_test = 1000000\n",
            2,
            "detach.skip_block_for_mutant_test",
            "past the volume",
        ),
    ];
    refused_at_their_keys(&cases);
}
