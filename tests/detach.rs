//! The copy of VLUN B to B' after the retire (`[detach]`, [0048]) through `owm run`:
//! its columns in `summary.csv`, its events in `trace.csv`, what it costs the users in
//! the backup window, one copy per cycle of a schedule, and its keys validated.

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
    ok(&owm(&["run", &f, "--out", &s(&out)]));
    (tmp, out)
}

#[test]
fn detach_copies_b_after_the_retire_verifies_b_prime_and_costs_the_users() {
    let (_t1, with) = run(&scenario(DETACH));
    let (_t2, without) = run(&scenario(""));
    let rows = summary_rows(&with);
    let plain = summary_rows(&without);
    // No backup, no retire: nothing to copy; the columns are there, empty.
    assert_eq!(rows["none"]["detach_start_at_ticks"], "");
    assert_eq!(rows["none"]["b-prime-faithful"], "");
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
        let slow = num(r, "response_mean_ticks");
        let fast = num(&plain[p], "response_mean_ticks");
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
