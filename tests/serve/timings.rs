//! `owm device timings`: the served engine's barriers, timed where it issues them, and
//! its block writes by the barriers each paid (the counts are checked, never a time);
//! `owm calibrate --barrier-timings` takes them as the profile's barrier latencies.

use std::path::Path;

use serde_json::Value;

use super::harness::{have, qemu_io, Server};
use crate::util::{fails_with, ok, owm, stderr, stdout, write};

fn timings(s: &Server, samples: bool) -> Value {
    let mut args = vec!["timings", "--json"];
    if samples {
        args.push("--samples");
    }
    serde_json::from_str(&s.device_ok(&args)).expect("timings is one JSON object")
}

fn count(v: &Value, kind: &str) -> u64 {
    v["barriers"][kind]["count"].as_u64().unwrap_or(0)
}

/// Copy-on-write: VLUN B's first write to a block pays one image A flush (the preserved
/// copy) and one journal sync (its entry); a second write to the same block pays none.
#[test]
fn timings_count_each_barrier_the_served_writes_paid() {
    if !have(&["nbdkit", "qemu-io"]) {
        return;
    }
    let s = Server::create("cow", 64);
    qemu_io(&s.uri("vlun-a"), &["write -P 0x11 0 16k".into()]);
    let before = timings(&s, false);
    let w = before["writes"].as_array().expect("writes");
    assert!(
        w.iter()
            .all(|c| c["image_flushes"] == 0 && c["journal_syncs"] == 0),
        "no barrier before the split: {before}"
    );
    s.device_ok(&["split"]);
    let _ = timings(&s, false); // a new interval
    qemu_io(
        &s.uri("vlun-b"),
        &["write -P 0x22 0 16k".into(), "write -P 0x23 0 16k".into()],
    );
    let t = timings(&s, true);
    let classes = t["writes"].as_array().expect("writes");
    let class = |f: u64, j: u64| {
        classes
            .iter()
            .find(|c| c["image_flushes"] == f && c["journal_syncs"] == j)
            .map_or(0, |c| c["latency"]["count"].as_u64().unwrap())
    };
    assert_eq!(class(1, 1), 4, "four first writes: {t}");
    assert_eq!(class(0, 0), 4, "four overwrites: {t}");
    // At least the four first writes' barriers (a client's flush adds its own).
    assert!(count(&t, "image_a_flush") >= 4, "{t}");
    assert!(count(&t, "journal_fdatasync") >= 4, "{t}");
    assert_eq!(
        count(&t, "journal_fdatasync"),
        count(&t, "superblock_write"),
        "{t}"
    );
    let a = &t["barriers"]["image_a_flush"];
    assert_eq!(
        a["samples_us"].as_array().map(Vec::len),
        Some(count(&t, "image_a_flush") as usize)
    );
    assert!(
        a["latency_us_p50"].as_f64() <= a["latency_us_max"].as_f64(),
        "{a}"
    );

    // Each reading starts a new interval.
    let again = timings(&s, false);
    assert_eq!(count(&again, "image_a_flush"), 0, "{again}");
    assert_eq!(again["writes"], serde_json::json!([]), "{again}");

    // The reading is what `owm calibrate --barrier-timings` prices barriers with.
    let file = write(s.tmp.path(), "timings.json", &t.to_string());
    let cal = s.path("cal");
    std::fs::create_dir_all(&cal).unwrap();
    let o = owm(&[
        "calibrate",
        cal.to_str().unwrap(),
        "--samples",
        "20",
        "--pattern-writes",
        "64",
        "--barrier-timings",
        &file,
    ]);
    ok(&o);
    assert!(
        stdout(&o).contains("barriers as the served device timed them"),
        "{}",
        stdout(&o)
    );
}

/// A timings file that is not `owm device timings --json` output, or whose journal
/// syncs' two halves disagree, is refused naming the file.
#[test]
fn calibrate_refuses_bad_barrier_timings() {
    let tmp = tempfile::tempdir().unwrap();
    let cal = tmp.path().join("cal");
    std::fs::create_dir(&cal).unwrap();
    let cal = cal.to_str().unwrap();
    let run = |file: &str| {
        owm(&[
            "calibrate",
            cal,
            "--samples",
            "20",
            "--pattern-writes",
            "16",
            "--barrier-timings",
            file,
        ])
    };
    let bad = write(tmp.path(), "bad.json", "{\"ok\":true}");
    fails_with(&run(&bad), &["bad.json", "owm device timings --json"]);
    // A reading names all four barriers (`null` for one not timed): each body below
    // is completed so, its fault its own.
    let full = |body: &str| -> String {
        let mut v: serde_json::Value = serde_json::from_str(body).unwrap();
        let b = v["barriers"].as_object_mut().unwrap();
        for name in [
            "image_a_flush",
            "image_b_flush",
            "journal_fdatasync",
            "superblock_write",
        ] {
            b.entry(name).or_insert(serde_json::Value::Null);
        }
        v.to_string()
    };
    let torn = write(
        tmp.path(),
        "torn.json",
        &full(
            "{\"barriers\":{\"journal_fdatasync\":{\"count\":2,\"latency_us_sum\":10},\
              \"superblock_write\":{\"count\":1,\"latency_us_sum\":5}}}",
        ),
    );
    fails_with(
        &run(&torn),
        &[
            "torn.json",
            "journal_fdatasync.count 2",
            "superblock_write.count 1",
        ],
    );
    // Counts that add up past u64::MAX, a negative time, times that add up past any
    // f64, a field by its name before the unit came before the statistic: refused
    // (exit 2), naming the file and the field.
    for (name, body, needles) in [
        (
            "renamed.json",
            "{\"barriers\":{\"image_a_flush\":{\"count\":1,\"total_us\":4,\"mean_us\":4}}}",
            &[
                "barriers.image_a_flush.total_us",
                "`total_us` is now `latency_us_sum`",
            ][..],
        ),
        (
            "wrap.json",
            "{\"barriers\":{\"image_a_flush\":{\"count\":18446744073709551615,\"latency_us_sum\":1},\
              \"image_b_flush\":{\"count\":2,\"latency_us_sum\":2000}}}",
            &[
                "image_a_flush.count 18446744073709551615",
                "image_b_flush.count 2",
            ][..],
        ),
        (
            "negative.json",
            "{\"barriers\":{\"image_a_flush\":{\"count\":1,\"latency_us_sum\":-5000}}}",
            &["barriers.image_a_flush.latency_us_sum -5000", "not a time"][..],
        ),
        (
            "huge.json",
            "{\"barriers\":{\"image_a_flush\":{\"count\":1,\"latency_us_sum\":1e308},\
              \"image_b_flush\":{\"count\":1,\"latency_us_sum\":1e308}}}",
            &["image_b_flush.latency_us_sum", "past any time"][..],
        ),
    ] {
        let f = write(tmp.path(), name, &full(body));
        let o = run(&f);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        fails_with(&o, &[&[name][..], needles].concat());
    }
    // A well-formed reading sets the profile's barriers: flush 3 µs, sync 4 + 6 µs.
    let good = write(
        tmp.path(),
        "good.json",
        "{\"barriers\":{\"image_a_flush\":{\"count\":2,\"latency_us_sum\":4},\
          \"image_b_flush\":{\"count\":1,\"latency_us_sum\":5},\
          \"journal_fdatasync\":{\"count\":2,\"latency_us_sum\":8},\
          \"superblock_write\":{\"count\":2,\"latency_us_sum\":12}}}",
    );
    let o = run(&good);
    ok(&o);
    assert!(
        stdout(&o).contains("image flush 3.0 us, journal sync 10.0 us"),
        "{}",
        stdout(&o)
    );
    // The profile printed to paste, and the one written, carry the barriers the
    // prediction used.
    let written = std::fs::read_to_string(Path::new(cal).join("device-profile.toml")).unwrap();
    for text in [stdout(&o), written] {
        assert!(
            text.contains("flush_latency_ticks = 3\n")
                && text.contains("journal_sync_latency_ticks = 10\n")
                && text.contains("good.json"),
            "{text}"
        );
    }
    // So does the one printed for a --profile whose barriers the timings replace.
    let profile = write(
        tmp.path(),
        "profile.toml",
        "[device]\nread_latency_ticks = 4\nwrite_latency_ticks = 8\n\
         flush_latency_ticks = 264\njournal_sync_latency_ticks = 429\n",
    );
    let o = owm(&[
        "calibrate",
        cal,
        "--profile",
        &profile,
        "--pattern-writes",
        "16",
        "--barrier-timings",
        &good,
    ]);
    ok(&o);
    let text = stdout(&o);
    assert!(
        text.contains("[device]\n")
            && text.contains("read_latency_ticks = 4\n")
            && text.contains("flush_latency_ticks = 3\n")
            && text.contains("journal_sync_latency_ticks = 10\n"),
        "{text}"
    );
    // With --out, the profile priced (its barriers replaced) is written there, and
    // reads back as a profile that prices the same table; without --barrier-timings,
    // the --profile's own values.
    let saved = tmp.path().join("priced.toml").to_str().unwrap().to_string();
    let with_out = |extra: &[&str]| {
        let mut args = vec![
            "calibrate",
            cal,
            "--profile",
            &profile,
            "--pattern-writes",
            "16",
            "--out",
            &saved,
        ];
        args.extend(extra);
        let o = owm(&args);
        ok(&o);
        assert!(stdout(&o).contains(&format!("profile written to {saved}")));
        (o, std::fs::read_to_string(&saved).unwrap())
    };
    let (priced, text) = with_out(&["--barrier-timings", &good]);
    assert!(
        text.contains("flush_latency_ticks = 3\n") && text.contains("read_latency_ticks = 4\n"),
        "{text}"
    );
    let table = |t: &str| {
        t.lines()
            .filter(|l| {
                ["mirroring,", "logging,", "cow,"]
                    .iter()
                    .any(|v| l.starts_with(v))
            })
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let again = owm(&[
        "calibrate",
        cal,
        "--profile",
        &saved,
        "--pattern-writes",
        "16",
    ]);
    ok(&again);
    assert!(!table(&stdout(&priced)).is_empty());
    assert_eq!(table(&stdout(&again)), table(&stdout(&priced)));
    let (_, text) = with_out(&[]);
    assert!(text.contains("flush_latency_ticks = 264\n"), "{text}");
    // A mean barrier past 2^40 µs is refused at the timings file and its fields, not
    // at the profile's line (exit 2).
    for (name, body, field) in [
        (
            "huge-flush.json",
            "{\"barriers\":{\"image_a_flush\":{\"count\":1,\"latency_us_sum\":1e13},\
              \"image_b_flush\":{\"count\":1,\"latency_us_sum\":1000}}}",
            "barriers.image_a_flush.latency_us_sum",
        ),
        (
            "huge-sync.json",
            "{\"barriers\":{\"journal_fdatasync\":{\"count\":1,\"latency_us_sum\":1e300},\
              \"superblock_write\":{\"count\":1,\"latency_us_sum\":5}}}",
            "barriers.journal_fdatasync.latency_us_sum",
        ),
    ] {
        let f = write(tmp.path(), name, &full(body));
        for with_profile in [false, true] {
            let mut args = vec![
                "calibrate",
                cal,
                "--pattern-writes",
                "16",
                "--barrier-timings",
                &f,
            ];
            // --samples measures: refused beside --profile, which measures nothing.
            if with_profile {
                args.extend(["--profile", &profile]);
            } else {
                args.extend(["--samples", "10"]);
            }
            let o = owm(&args);
            assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
            fails_with(&o, &[name, field, "2^40"]);
            assert!(!stderr(&o).contains("profile.toml"), "{}", stderr(&o));
        }
    }
}
