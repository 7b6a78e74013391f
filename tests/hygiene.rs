//! Outputs and bad input that never mislead, through the real binary: trace and merge
//! directories replaced whole (a user's files refused, never removed), a limit names
//! its key and line, a bad value its key, an empty schedule is refused, a sweep stops
//! inside a grid point on Ctrl-C, swapped run and sweep files say so, a corrupt device
//! is bad input before nbdkit starts, a trace that does not replay names its line, a
//! flag that needs another is refused without it, a value of the wrong shape says
//! what is expected.

use crate::util::*;

/// The fastest violating check: record locks on shared blocks (B-complete and
/// bank-conserved violated, exit 1).
const VIOLATING: [&str; 7] = [
    "check",
    "--locks",
    "record",
    "--records-per-block",
    "2",
    "--threads",
    "1",
];

/// `owm check --trace-dir` into a directory holding a user's files is refused before
/// the search (exit 2, the first foreign entry named) and the files are left as they
/// were, a `.trace` of the user's included; into an earlier check's traces it replaces
/// them whole, and a check that finds nothing leaves an empty directory, nothing of
/// the earlier traces.
#[test]
fn a_trace_directory_is_replaced_whole_and_never_loses_a_users_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("traces");
    std::fs::create_dir_all(&dir).unwrap();
    write(&dir, "mine.trace", "my own notes, not an owm trace\n");
    write(&dir, "notes.txt", "keep me\n");
    let t = s(&dir);
    let o = owm(&[&VIOLATING[..], &["--trace-dir", &t]].concat());
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    fails_with(
        &o,
        &[
            "holds mine.trace",
            "not a trace or walks.toml",
            "nothing was removed",
        ],
    );
    assert!(
        !stdout(&o).contains("unique states"),
        "searched before refusing"
    );
    assert_eq!(names(&dir), ["mine.trace", "notes.txt"]);
    std::fs::remove_file(dir.join("mine.trace")).unwrap();
    let o = owm(&[&VIOLATING[..], &["--trace-dir", &t]].concat());
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["holds notes.txt, which is not a trace"]);
    assert_eq!(bytes(&dir, "notes.txt"), b"keep me\n");

    // owm's own traces: replaced whole.
    std::fs::remove_file(dir.join("notes.txt")).unwrap();
    write(&dir, "a-consistent.trace", "owm-model-trace v1\nstale\n");
    let o = owm(&[&VIOLATING[..], &["--trace-dir", &t]].concat());
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    assert_eq!(names(&dir), ["b-complete.trace", "bank-conserved.trace"]);
    let o = owm(&["check", "--threads", "1", "--trace-dir", &t]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(names(&dir).is_empty(), "{:?}", names(&dir));
    let staging = staging_left(tmp.path());
    assert!(staging.is_empty(), "{staging:?}");
}

/// `owm merge` of random-walk shards into a directory holding a user's file is
/// refused (exit 2, named) after the shards are read and before anything is written;
/// the file stays. Into an earlier merge's output it replaces it.
#[test]
fn a_walk_merge_refuses_a_users_directory_and_replaces_its_own() {
    let tmp = tempfile::tempdir().unwrap();
    let mut shards = Vec::new();
    for k in 1..=2 {
        let d = s(&tmp.path().join(format!("s{k}")));
        let shard = format!("{k}/2");
        let o = owm(&[
            &VIOLATING[..],
            &[
                "--simulate",
                "--walks",
                "20",
                "--shard",
                &shard,
                "--trace-dir",
                &d,
            ],
        ]
        .concat());
        assert!(matches!(code(&o), 1 | 3), "{}{}", stdout(&o), stderr(&o));
        shards.push(d);
    }
    // The same shard twice: both directories named; a sweep shard among walk shards:
    // refused as a mix of kinds.
    let o = owm(&[
        "merge",
        &shards[0],
        &shards[0],
        "--out",
        &s(&tmp.path().join("m")),
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["shard 1/2", "given twice", &shards[0]]);
    let sweep = write(tmp.path(), "sw.toml", "policies = [\"none\"]\n");
    let sd = s(&tmp.path().join("sweep1"));
    ok(&owm(&[
        "sweep", &sweep, "--shard", "1/2", "--out", &sd, "--quiet",
    ]));
    let o = owm(&["merge", &shards[0], &sd, "--out", &s(&tmp.path().join("m"))]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &["is the output of owm check --simulate", "sweep1 is not"],
    );
    assert!(!tmp.path().join("m").exists());

    let out = tmp.path().join("merged");
    std::fs::create_dir_all(&out).unwrap();
    write(&out, "results.csv", "mine\n");
    let args = |out: &str| -> Vec<String> {
        let mut a = vec!["merge".to_string()];
        a.extend(shards.iter().cloned());
        a.extend(["--out".to_string(), out.to_string()]);
        a
    };
    let a = args(&s(&out));
    let o = owm(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    fails_with(&o, &["results.csv was not written by owm"]);
    assert_eq!(names(&out), ["results.csv"]);

    std::fs::remove_file(out.join("results.csv")).unwrap();
    write(&out, "walks.toml", "version = \"0.1.0\"\nstale = true\n");
    write(&out, "old.trace", "owm-model-trace v1\n");
    let o = owm(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(matches!(code(&o), 1 | 3), "{}{}", stdout(&o), stderr(&o));
    let merged = names(&out);
    assert!(merged.contains(&"walks.toml".to_string()), "{merged:?}");
    assert!(!merged.contains(&"old.trace".to_string()), "{merged:?}");
    assert!(std::fs::read_to_string(out.join("walks.toml"))
        .unwrap()
        .contains("walks_done"));
}

/// Each limit that cuts a run names its dotted key, the file and the line to change,
/// and exits 3 (nothing claimed); in a sweep the key is under `scenario.`. (Fig 3's
/// six transactions past `attempts_max = 2`, or its request at tick 350 past
/// `time_ticks_max = 100`, are refused before the run: `tests/run_bounds.rs`.)
#[test]
fn a_limit_reached_names_its_key_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    for (key, value, words) in [
        ("events_max", "10", "more than 10 events"),
        ("time_ticks_max", "1000", "virtual time past 1000 ticks"),
    ] {
        let f = write(
            tmp.path(),
            "limit.toml",
            &format!("policies = [\"cow\"]\n\n[limits]\n{key} = {value}\n"),
        );
        let o = owm(&["run", &f, "--out", &s(&tmp.path().join("o"))]);
        assert_eq!(code(&o), 3, "{}", stderr(&o));
        fails_with(
            &o,
            &[
                &format!("limit.toml:4: key `limits.{key}`"),
                words,
                &format!("raise `limits.{key}`"),
                &format!("{key} = {value}"),
            ],
        );
    }
    // Attempts past the limit though the transactions are not: deadlock victims
    // retried under incremental locks on a hot spot.
    let f = write(
        tmp.path(),
        "retries.toml",
        "policies = [\"cow\"]\n[workload]\nkind = \"generated\"\nrecords = 64\n\
         transactions = 200\nlength_min = 4\nlength_max = 8\nwrite_fraction = 0.8\n\
         arrivals = { mode = \"open\", interarrival_ticks_mean = 50 }\n\
         hot_spot = { shape = \"zipf\", exponent = 1.2 }\n\
         [locking]\ndiscipline = \"incremental\"\ngranularity = \"record\"\n\
         [limits]\nattempts_max = 400\n",
    );
    let o = owm(&["run", &f, "--out", &s(&tmp.path().join("o"))]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            "retries.toml:15: key `limits.attempts_max`",
            "more than 400 transaction attempts",
            "raise `limits.attempts_max`",
        ],
    );
    let f = write(
        tmp.path(),
        "sweep.toml",
        "policies = [\"cow\"]\n[scenario.limits]\nevents_max = 10\n",
    );
    let o = owm(&["sweep", &f, "--out", &s(&tmp.path().join("sw"))]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("sweep.toml:3: key `scenario.limits.events_max`"),
        "{}",
        stdout(&o)
    );
}

/// A value the TOML parser cannot hold (an integer past 64 bits) names its key, not
/// only the line; `schedule_at_ticks = []` is refused with its file, line and key.
#[test]
fn a_bad_value_names_its_key() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "big.toml",
        "[workload]\nkind = \"bank\"\naccounts = 99999999999999999999999\n",
    );
    let o = owm(&["run", &f, "--out", &s(&tmp.path().join("o"))]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &["big.toml:3: key `workload.accounts`", "number too large"],
    );
    let f = write(
        tmp.path(),
        "empty.toml",
        "[backup]\nschedule_at_ticks = []\n",
    );
    let o = owm(&["run", &f, "--out", &s(&tmp.path().join("o"))]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            "empty.toml:2: key `backup.schedule_at_ticks`",
            "an empty schedule asks for no backup",
        ],
    );
    assert!(!tmp.path().join("o").exists());
    // A trace file that cannot be read: its key once, not the simulator's words too.
    let f = write(
        tmp.path(),
        "trace.toml",
        "[workload]\nkind = \"trace\"\nformat = \"csv\"\npath = \"missing.csv\"\n",
    );
    let o = owm(&["run", &f, "--out", &s(&tmp.path().join("o"))]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["trace.toml:4: key `workload.path`", "cannot read"]);
    assert_eq!(
        stderr(&o).matches("workload.path").count(),
        1,
        "{}",
        stderr(&o)
    );
    // A float out of range is shown as written, not as 300 digits.
    let f = write(tmp.path(), "p.toml", "abort_probability = 1e308\n");
    let o = owm(&["run", &f, "--out", &s(&tmp.path().join("o"))]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &["key `abort_probability`: 1e308 is out of range 0..=1"],
    );
}

/// A run file given to `owm sweep`, or a sweep file to `owm run`, says which it looks
/// like and the command to use (exit 2).
#[test]
fn swapped_run_and_sweep_files_say_so() {
    let tmp = tempfile::tempdir().unwrap();
    let out = s(&tmp.path().join("o"));
    let o = owm(&["run", "scenarios/sweep-space.toml", "--out", &out]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            "key `title`",
            "run it with `owm sweep scenarios/sweep-space.toml`",
        ],
    );
    let o = owm(&["sweep", "scenarios/bank.toml", "--out", &out]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &["key `seed`", "run it with `owm run scenarios/bank.toml`"],
    );
    assert!(!tmp.path().join("o").exists());
}

/// An axis that sets a key the workload does not have is refused at that axis as an
/// unknown key, not as a workload table missing its `kind`.
#[test]
fn an_axis_of_an_unknown_workload_key_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "s.toml",
        "[[axis]]\nkey = \"device.read_latency_ticks\"\nvalues = [1]\n\
         [[axis]]\nkey = \"workload.nope\"\nvalues = [1, 2]\n",
    );
    let o = owm(&["sweep", &f, "--out", &s(&tmp.path().join("o"))]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &["s.toml:5: key `workload.nope`", "unknown field `nope`"],
    );
    assert!(!stderr(&o).contains("missing field"), "{}", stderr(&o));
}

/// A misspelled axis key is answered as the same typo in a run file is: at the axis's
/// `key` line, naming the axis, "did you mean" the closest key, listed first, and no
/// "with value" (the key does not exist, whatever its value).
#[test]
fn a_misspelled_axis_key_gets_the_closest_key() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "s.toml",
        "policies = [\"quiesce\"]\n\
         [[axis]]\nkey = \"device.read_latency_ticks\"\nvalues = [1]\n\
         [[axis]]\nkey = \"backup.quiesce_deadline_tick\"\nvalues = [100, 200]\n",
    );
    let o = owm(&["sweep", &f, "--out", &s(&tmp.path().join("o"))]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            "s.toml:6: key `backup.quiesce_deadline_tick`: `axis.1.key`: unknown field `quiesce_deadline_tick` (did you mean `quiesce_deadline_ticks`?), expected one of `quiesce_deadline_ticks`, `request_at_ticks`",
        ],
    );
    assert!(!stderr(&o).contains("with value"), "{}", stderr(&o));
    // The run file's answer to the same typo, word for word after the key.
    let r = write(
        tmp.path(),
        "r.toml",
        "policies = [\"quiesce\"]\n[backup]\nquiesce_deadline_tick = 100\n",
    );
    let run = owm(&["run", &r, "--out", &s(&tmp.path().join("r"))]);
    assert_eq!(code(&run), 2, "{}", stderr(&run));
    let words = |text: String| {
        let at = text.find("unknown field").expect("an unknown field");
        text[at..].lines().next().unwrap().to_string()
    };
    assert_eq!(words(stderr(&o)), words(stderr(&run)));
}

/// A misspelled `[[axis]] key` whose `x` names the key as intended (one typo, not two)
/// is reported at the axis's own `key` line with "did you mean", never at `x` as a key
/// no axis has; a misspelled `x` (the axes right) is reported at `x` with the axis key
/// closest to it and the axes' keys.
#[test]
fn a_misspelled_axis_key_is_reported_before_x() {
    let tmp = tempfile::tempdir().unwrap();
    let shipped = std::fs::read_to_string(repo().join("scenarios/sweep-overflow.toml")).unwrap();
    let right = "key = \"backup.data_area_fraction\"";
    assert!(shipped.contains(right) && shipped.contains("\nx = \"backup.data_area_fraction\""));
    for (typo, words) in [
        (
            "backup.data_area_fractoin",
            "unknown field `data_area_fractoin` (did you mean `data_area_fraction`?)",
        ),
        (
            "bakup.data_area_fraction",
            "unknown field `bakup` (did you mean `backup`?)",
        ),
        (
            "backup.totally_unrelated",
            "unknown field `totally_unrelated`",
        ),
    ] {
        let f = write(
            tmp.path(),
            "typo.toml",
            &shipped.replace(right, &format!("key = \"{typo}\"")),
        );
        let o = owm(&["sweep", &f, "--out", &s(&tmp.path().join("o")), "--quiet"]);
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        fails_with(
            &o,
            &[&format!(
                "typo.toml:29: key `{typo}`: `axis.0.key`: {words}"
            )],
        );
        assert!(!stderr(&o).contains("key `x`"), "{}", stderr(&o));
        assert!(!tmp.path().join("o").exists());
    }
    let f = write(
        tmp.path(),
        "x.toml",
        &shipped.replace(
            "\nx = \"backup.data_area_fraction\"",
            "\nx = \"backup.data_area_fractoin\"",
        ),
    );
    let o = owm(&["sweep", &f, "--out", &s(&tmp.path().join("o")), "--quiet"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            "x.toml:20: key `x`: `backup.data_area_fractoin` is not the key of an [[axis]] \
           (did you mean `backup.data_area_fraction`?); the axes' keys: \
           `backup.data_area_fraction`, `backup.on_data_area_full`",
        ],
    );
}

/// Ctrl-C while a sweep's only grid point runs stops it within a few thousand events:
/// the point is not kept, nothing is written, no staging directory is left, exit 3.
#[test]
fn sigint_inside_a_grid_point_stops_the_sweep_with_exit_3() {
    use std::io::Read;
    let tmp = tempfile::tempdir().unwrap();
    // About 10^6 events: the pause is at the first progress point (4,096 events).
    let f = write(
        tmp.path(),
        "long.toml",
        "policies = [\"cow\"]\n[scenario]\nkeep_timeline = false\nkeep_history = false\n\
         [scenario.workload]\nkind = \"generated\"\nrecords = 65536\ntransactions = 200000\n\
         arrivals = { mode = \"open\", interarrival_ticks_mean = 300 }\n",
    );
    let out = tmp.path().join("o");
    let mut p = spawn_paused(
        &["sweep", &f, "--out", &s(&out), "--jobs", "1"],
        "inside point 0",
    );
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(p.child.id() as i32, libc::SIGINT) }, 0);
    p.wait_for("interrupted: stopping");
    drop(p.child.stdin.take());
    let mut rest = String::new();
    p.stderr.read_to_string(&mut rest).unwrap();
    let o = p.child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(3), "{}{}{rest}", stdout(&o), p.said);
    assert!(
        stdout(&o).contains("interrupted: 0 of 1 grid points done and kept"),
        "{}",
        stdout(&o)
    );
    assert!(!out.exists(), "nothing written on an interrupt");
    let left = staging_left(tmp.path());
    assert!(left.is_empty(), "staging left behind: {left:?}");
}

/// `owm serve` of a directory whose `device.owm` decodes but whose `device.owm.super`
/// is missing, or holds no valid copy, is bad input (exit 2, the superblock named)
/// before nbdkit starts: without it a cut after a completed flush goes unseen.
/// The flags that make a new device, given without `--create`, are refused by name
/// (exit 2) before anything is read or written: an existing device keeps its own
/// variant, geometry and mode, and the message does not send the user to `--create`,
/// which would replace it.
#[test]
fn new_device_flags_without_create_are_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = s(&tmp.path().join("dev"));
    let sock = s(&tmp.path().join("s.sock"));
    for (flags, named) in [
        (
            &["--size-bytes", "8192"][..],
            "--size-bytes applies only to a new device",
        ),
        (&["--integrity"], "--integrity applies only to a new device"),
        (
            &["--variant", "cow", "--block-size", "512"],
            "--variant, --block-size apply only to a new device",
        ),
    ] {
        let o = owm(&[&["serve", &dir, "--socket", &sock][..], flags].concat());
        assert_eq!(code(&o), 2, "{flags:?}: {}", stderr(&o));
        fails_with(
            &o,
            &[
                named,
                "keeps the variant, geometry and mode it was made with",
            ],
        );
        assert!(!stderr(&o).contains("required arguments"), "{}", stderr(&o));
        assert!(!tmp.path().join("dev").exists(), "{flags:?}");
    }
}

#[test]
fn serving_a_device_without_its_superblock_is_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let header = engine::meta::MetaRecord::Header {
        variant: engine::Variant::WriteMirroring,
        block_size: 512,
        volume_blocks: 4,
        area_slots: 0,
        device_id: [7; 16],
        generation: 0,
        integrity: false,
        nonce: 0,
    };
    let mut meta = engine::meta::MAGIC.to_vec();
    meta.extend_from_slice(&header.encode());
    std::fs::write(tmp.path().join("device.owm"), meta).unwrap();
    let sock = s(&tmp.path().join("s.sock"));
    let o = owm(&["serve", &s(tmp.path()), "--socket", &sock]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["device.owm.super", "missing"]);
    write(
        tmp.path(),
        "device.owm.super",
        "not a superblock, forty bytes of text..",
    );
    let o = owm(&["serve", &s(tmp.path()), "--socket", &sock]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["device.owm.super", "no valid copy"]);
}

/// `owm serve` of a directory whose `device.owm` is not an owm metadata file is bad
/// input (exit 2, the file and byte named) before nbdkit starts; `--block-size 0` is
/// refused by name.
#[test]
fn serving_a_corrupt_device_is_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "device.owm", "not a device\n");
    write(tmp.path(), "image-a.img", "");
    write(tmp.path(), "image-b.img", "");
    let sock = s(&tmp.path().join("s.sock"));
    let o = owm(&["serve", &s(tmp.path()), "--socket", &sock]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["device.owm: byte 0", "not an owm metadata file"]);
    let o = owm(&[
        "serve",
        &s(&tmp.path().join("new")),
        "--create",
        "--variant",
        "cow",
        "--block-size",
        "0",
        "--socket",
        &sock,
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["--block-size 0"]);
    assert!(!tmp.path().join("new").exists());
}

/// A `--json`/`--junit` or `owm device backup --to` path that is a pipe or a device is
/// refused before any work (exit 2): a file is written whole and renamed over its
/// path, which would put a regular file in the pipe's (or `/dev/null`'s) place.
#[test]
fn a_verdict_file_that_is_a_pipe_is_refused_before_work() {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::FileTypeExt;
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("pipe");
    let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let out = tmp.path().join("o");
    for flag in ["--json", "--junit"] {
        let o = owm(&[
            "run",
            "scenarios/fig3.toml",
            flag,
            &s(&fifo),
            "--out",
            &s(&out),
        ]);
        assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
        fails_with(&o, &[flag, "not a regular file"]);
        assert!(!out.exists(), "ran before refusing");
        let t = std::fs::symlink_metadata(&fifo).unwrap().file_type();
        assert!(t.is_fifo(), "the pipe was replaced: {t:?}");
    }
    let o = owm(&[
        "device",
        "backup",
        "--to",
        &s(&fifo),
        "--dir",
        &s(tmp.path()),
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["--to", "not a regular file"]);
}

/// A policy named twice (an alias included) or a sweep seed given twice is refused
/// with the file, line and key: its rows would be written, or counted, twice.
#[test]
fn a_policy_or_seed_given_twice_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = s(&tmp.path().join("o"));
    let f = write(
        tmp.path(),
        "r.toml",
        "policies = [\"crash\", \"cow\", \"snapshot\"]\n",
    );
    let o = owm(&["run", &f, "--out", &out]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            "r.toml:1: key `policies`",
            "`crash-consistent` is named twice (entries 1 and 3)",
        ],
    );
    let f = write(
        tmp.path(),
        "s.toml",
        "policies = [\"none\"]\nseeds = [1, 2, 1]\n",
    );
    let o = owm(&["sweep", &f, "--out", &out]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["s.toml:2: key `seeds`", "seed 1 is listed twice"]);
    assert!(!tmp.path().join("o").exists());
}

/// `--out .` (or `--trace-dir ..`) is refused before any work, even empty: the
/// directory the user stands in would be replaced whole (and `.` cannot be renamed,
/// which left a staging directory inside it).
#[test]
fn the_current_directory_is_never_an_output_directory() {
    use std::process::Command;
    let tmp = tempfile::tempdir().unwrap();
    let here = tmp.path().join("here");
    std::fs::create_dir_all(&here).unwrap();
    let scenario = s(&repo().join("scenarios/fig3.toml"));
    for args in [
        vec!["run", &scenario, "--out", "."],
        vec!["run", &scenario, "--out", ".."],
        vec!["check", "--threads", "1", "--trace-dir", "."],
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_owm"))
            .args(&args)
            .current_dir(&here)
            .output()
            .unwrap();
        assert_eq!(code(&o), 2, "{args:?}: {}{}", stdout(&o), stderr(&o));
        fails_with(&o, &["is the current directory or holds it"]);
        assert!(names(&here).is_empty(), "{args:?}: {:?}", names(&here));
        assert_eq!(names(tmp.path()), ["here"], "{args:?}");
    }
}

/// `--resume` with a kept grid point that is not this run's (edited, out of the grid,
/// or of another shard) is refused naming its file (exit 2), never a panic or a row
/// of another point in the output.
#[test]
fn a_damaged_kept_point_is_refused_on_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let src = "policies = [\"none\"]\nseeds = [1, 2]\n";
    let f = write(tmp.path(), "s.toml", src);
    let out = tmp.path().join("o");
    let kept = tmp.path().join(".o.points");
    std::fs::create_dir_all(&kept).unwrap();
    write(&kept, "sweep.toml", src);
    for (name, row, words) in [
        ("point-0.json", "[\"0\"]", "its row is not that of point 0"),
        (
            "point-9.json",
            "[\"9\"]",
            "grid index 9, but the grid has 2 points",
        ),
    ] {
        let p = write(
            &kept,
            name,
            &format!("{{\"row\":{row},\"cases\":[],\"messages\":[]}}"),
        );
        let o = owm(&["sweep", &f, "--out", &s(&out), "--resume"]);
        assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
        fails_with(&o, &[name, words, "run without --resume"]);
        assert!(!out.exists());
        std::fs::remove_file(p).unwrap();
    }
    // Kept by a run of shard 1/2; resumed as shard 2/2.
    write(
        &kept,
        "point-0.json",
        "{\"row\":[\"0\",\"none\",\"1\"],\"cases\":[],\"messages\":[]}",
    );
    let o = owm(&["sweep", &f, "--out", &s(&out), "--resume", "--shard", "2/2"]);
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    fails_with(&o, &["point-0.json", "not in this run's shard"]);
}

/// A kept grid point pins its JSON by digest: one edited after it was kept (valid
/// JSON, its row's identity intact, a metric changed), or pinning no digest, is
/// refused on `--resume` naming its file (exit 2), nothing published. Before, the
/// edited number was published in sweep.csv.
#[test]
fn an_edited_kept_point_is_refused_on_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "s.toml", crate::verdicts::SWEEP);
    let out = tmp.path().join("o");
    let o = interrupt_at(&["sweep", &f, "--out", &s(&out), "--jobs", "1"], "point 2");
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    let point = tmp.path().join(".o.points/point-0.json");
    let text = std::fs::read_to_string(&point).unwrap();
    let (pin, json) = text.split_once('\n').expect("a digest line, then the JSON");
    assert!(pin.starts_with("sha256 "), "{text}");
    let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
    let row = v["row"].as_array_mut().unwrap();
    let last = row.len() - 1;
    assert_ne!(row[last], "999", "{json}");
    row[last] = "999".into();
    let edited = serde_json::to_string(&v).unwrap();
    for (text, words) in [
        (format!("{pin}\n{edited}"), "edited after it was kept"),
        (edited.clone(), "pins no digest"),
    ] {
        std::fs::write(&point, text).unwrap();
        let o = owm(&["sweep", &f, "--out", &s(&out), "--resume"]);
        assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
        fails_with(&o, &["point-0.json", words, "run without --resume"]);
        assert!(!out.exists(), "nothing published");
    }
    // A damaged pin line, an emptied, cut or garbled file: each refused naming the
    // file, what is wrong and the way out, never serde's words alone, nor "edited"
    // with two equal digests.
    let hex = pin.strip_prefix("sha256 ").unwrap();
    let head = &hex[..12];
    let upper = format!("sha256 {}", hex.to_uppercase());
    let damaged = "is not a pin (`sha256 `, then 64 lowercase hex digits): the pin line \
                   was edited or damaged";
    let cases: Vec<(Vec<u8>, String)> = vec![
        (
            format!("{pin} \n{json}").into(),
            format!(
                "its first line, \"sha256 {head}…{} \", {damaged}",
                &hex[60..]
            ),
        ),
        (
            format!("SHA256 {hex}\n{json}").into(),
            format!(
                "its first line, \"SHA256 {head}…{}\", {damaged}",
                &hex[59..]
            ),
        ),
        (
            format!("{upper}\n{json}").into(),
            format!(
                "its first line, \"{}…{}\", is not a pin",
                &upper[..19],
                &upper[66..]
            ),
        ),
        (b"\n".to_vec(), "it is blank (damaged".into()),
        (
            format!("{pin}\n").into(),
            "it holds its pin line and no JSON".into(),
        ),
        (
            b"not json\n".to_vec(),
            "its JSON is not a grid point's (".into(),
        ),
        (
            format!("{pin}\n{}", &json[..json.len() / 2]).into(),
            "its JSON was edited after it was kept".into(),
        ),
        (vec![0xff, 0xfe, b'\n'], "it is not text (damaged".into()),
    ];
    for (bytes, words) in &cases {
        std::fs::write(&point, bytes).unwrap();
        let o = owm(&["sweep", &f, "--out", &s(&out), "--resume"]);
        assert_eq!(code(&o), 2, "{words}: {}{}", stdout(&o), stderr(&o));
        fails_with(
            &o,
            &[
                &format!("{}: not a kept grid point of this run: {words}", s(&point)),
                "; remove it, or run without --resume",
            ],
        );
        let equal = format!("sha256 {head}, pinned {head}");
        assert!(!stderr(&o).contains(&equal), "{}", stderr(&o));
        assert!(!out.exists(), "nothing published");
    }
    // A file with no byte or only zero bytes is what a power loss leaves of a point
    // kept just before it (kept points are not waited onto the disk): run again, with
    // a note, and the sweep's files are an uninterrupted sweep's.
    let whole = tmp.path().join("whole");
    ok(&owm(&["sweep", &f, "--out", &s(&whole)]));
    for bytes in [Vec::new(), vec![0u8; text.len()]] {
        let o = interrupt_at(&["sweep", &f, "--out", &s(&out), "--jobs", "1"], "point 2");
        assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
        std::fs::write(&point, &bytes).unwrap();
        let o = owm(&["sweep", &f, "--out", &s(&out), "--resume"]);
        ok(&o);
        assert!(
            stdout(&o).contains(&format!(
                "--resume: 1 kept point is empty ({}): kept just before a power loss",
                s(&point)
            )),
            "{}",
            stdout(&o)
        );
        for name in ["sweep.csv", "stats.csv"] {
            assert_eq!(
                std::fs::read(out.join(name)).unwrap(),
                std::fs::read(whole.join(name)).unwrap(),
                "{name}"
            );
        }
        std::fs::remove_dir_all(&out).unwrap();
    }
    // As kept, it resumes.
    let o = interrupt_at(&["sweep", &f, "--out", &s(&out), "--jobs", "1"], "point 2");
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    std::fs::write(&point, text).unwrap();
    ok(&owm(&["sweep", &f, "--out", &s(&out), "--resume"]));
}

/// Thread counts and numbers a file cannot record are refused as flags (exit 2),
/// never a checker aborted by a refused thread, a sweep stuck starting 10^5 threads,
/// or walks done and then lost because `walks.toml` cannot hold their count.
#[test]
fn out_of_range_counts_are_refused_as_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let t = s(&tmp.path().join("t"));
    let huge = "18446744073709551615";
    for (args, needle) in [
        (
            vec!["check", "--threads", "100000"],
            "expected 1..=1024 threads",
        ),
        (vec!["check", "--depth", huge], "--depth"),
        (vec!["check", "--simulate", "--walks", huge], "--walks"),
        (vec!["check", "--simulate", "--seed", huge], "--seed"),
        (
            vec!["sweep", "scenarios/sweep-space.toml", "--jobs", "100000"],
            "expected 1..=1024 jobs",
        ),
    ] {
        let mut a = args.clone();
        a.extend(["--trace-dir", &t]);
        if args[0] == "sweep" {
            a.truncate(args.len());
            a.extend(["--out", &t]);
        }
        let o = owm(&a);
        assert_eq!(code(&o), 2, "{a:?}: {}", stderr(&o));
        fails_with(&o, &[needle]);
        assert!(
            !tmp.path().join("t").exists(),
            "{a:?} worked before refusing"
        );
    }
}

/// A second `owm check` into a trace directory a live check is replacing is refused
/// (exit 2) naming `--trace-dir`, the flag the user gave; the first then completes.
/// The first check pauses at a test hook (no timing).
#[test]
fn a_trace_directory_in_use_names_the_trace_dir_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let t = s(&tmp.path().join("traces"));
    let args = ["check", "--threads", "1", "--trace-dir", &t];
    ok(&owm(&args));
    let mut first = spawn_paused(&args, "replace");
    let o = owm(&args);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            "another owm run is writing",
            &t,
            "choose another --trace-dir",
        ],
    );
    assert!(!stderr(&o).contains("--out"), "{}", stderr(&o));
    drop(first.child.stdin.take());
    assert!(first.child.wait().unwrap().success());
}

/// `owm serve --create --area-slots 0` is refused by name (exit 2) before anything is
/// created: a logging or cow device needs a data-area slot.
#[test]
fn zero_area_slots_are_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("new");
    let o = owm(&[
        "serve",
        &s(&dir),
        "--create",
        "--variant",
        "logging",
        "--area-slots",
        "0",
        "--socket",
        &s(&tmp.path().join("s.sock")),
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["--area-slots 0"]);
    assert!(!dir.exists());
}

/// A trace that does not parse or replay is refused (exit 2) naming the file and the
/// line at fault: the magic line, a bad flag of the `model` line, an unknown
/// invariant, an unknown step, a step the model does not allow; a directory is not a
/// trace.
#[test]
fn a_replay_error_names_the_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    const HEAD: &str = "owm-model-trace v1\n# a comment\nmodel --variant cow --old 1 --new 1\n";
    for (name, text, needles) in [
        (
            "empty.trace",
            "\n",
            &["empty.trace:1: ", "starts with `owm-model-trace v1`"][..],
        ),
        (
            "magic.trace",
            "\n\nowm-model-trace v2\n",
            &["magic.trace:3: ", "starts with"][..],
        ),
        (
            "flag.trace",
            "owm-model-trace v1\nmodel --variant sideways\nviolates B-complete\n",
            &["flag.trace:2: ", "--variant sideways"][..],
        ),
        (
            "word.trace",
            &format!("{HEAD}violates B-complete\nstep split\nhop T0\n"),
            &["word.trace:6: ", "unknown trace line `hop T0`"][..],
        ),
        (
            "step.trace",
            &format!("{HEAD}violates B-complete\nstep split\nstep T0 fly\n"),
            &["step.trace:6: ", "unknown step `T0 fly`"][..],
        ),
        (
            "missing.trace",
            &format!("{HEAD}step split\n"),
            &["missing.trace:4: ", "no `violates` line"][..],
        ),
        (
            "invariant.trace",
            &format!("{HEAD}violates B-completed\nstep split\n"),
            &[
                "invariant.trace:4: ",
                "unknown invariant `B-completed`",
                "B-complete",
            ][..],
        ),
        (
            "unjudged.trace",
            &format!("{HEAD}violates non-disruption\nstep split\n"),
            &[
                "unjudged.trace:4: ",
                "`non-disruption` is not judged by the model checker",
                "a trace can violate only A-consistent",
            ][..],
        ),
        (
            "order.trace",
            &format!("{HEAD}violates B-complete\n\nstep retire-a\n"),
            &["order.trace:6: ", "step 1: `retire-a` is not possible here"][..],
        ),
    ] {
        let f = write(tmp.path(), name, text);
        let o = owm(&["check", "--replay", &f]);
        assert_eq!(code(&o), 2, "{name}: {}", stderr(&o));
        let mut all = vec!["could not replay"];
        all.extend(needles);
        fails_with(&o, &all);
    }
    let o = owm(&["check", "--replay", &s(tmp.path())]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["could not replay", "not a regular file"]);
}

/// Flags that only mean something beside another flag are refused without it (exit
/// 2, naming both), never silently ignored: `owm serve`'s geometry flags without
/// `--create` (an existing device keeps its own), `--area-slots` of a mirroring
/// device (it has no data area), the search and verdict flags beside `owm check
/// --replay`, and the trace and verdict flags beside `--serve`. Nothing is created.
#[test]
fn a_flag_that_needs_another_is_refused_without_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    let d = s(&dir);
    let sock = s(&tmp.path().join("s.sock"));
    for flag in [
        ["--area-slots", "5"],
        ["--size-bytes", "65536"],
        ["--block-size", "512"],
    ] {
        let o = owm(&["serve", &d, flag[0], flag[1], "--socket", &sock]);
        assert_eq!(code(&o), 2, "{flag:?}: {}", stderr(&o));
        fails_with(&o, &[flag[0], "--create"]);
        assert!(!dir.exists(), "{flag:?}");
    }
    let o = owm(&[
        "serve",
        &d,
        "--create",
        "--variant",
        "mirroring",
        "--area-slots",
        "5",
        "--socket",
        &sock,
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["--area-slots", "--variant mirroring", "no data area"]);
    assert!(!dir.exists());

    let trace = write(tmp.path(), "t.trace", "owm-model-trace v1\n");
    let traces = s(&tmp.path().join("traces"));
    let json = s(&tmp.path().join("v.json"));
    for extra in [
        ["--threads", "1"],
        ["--memory-max", "1"],
        ["--trace-dir", &traces],
        ["--junit", &json],
        ["--json", &json],
    ] {
        let o = owm(&["check", "--replay", &trace, extra[0], extra[1]]);
        assert_eq!(code(&o), 2, "{extra:?}: {}", stderr(&o));
        fails_with(&o, &["--replay", extra[0], "cannot be used with"]);
    }
    let o = owm(&["check", "--replay", &trace, "--allow-violations"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["--replay", "--allow-violations"]);
    for extra in [
        ["--trace-dir", &traces],
        ["--memory-max", "1"],
        ["--json", &json],
    ] {
        let o = owm(&["check", "--serve", "127.0.0.1:0", extra[0], extra[1]]);
        assert_eq!(code(&o), 2, "{extra:?}: {}", stderr(&o));
        fails_with(&o, &["--serve", extra[0], "cannot be used with"]);
    }
    // The Explorer searches breadth first: --dfs has no effect on it and is refused.
    let o = owm(&["check", "--serve", "127.0.0.1:0", "--dfs"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["--serve", "--dfs", "cannot be used with"]);
    assert!(!tmp.path().join("traces").exists());
    assert!(!tmp.path().join("v.json").exists());
}

/// A key given a value of the wrong shape says what it expects in the file's terms,
/// with file, line and key: a workload, arrivals or hot spot is a table with its tag
/// (`kind`, `mode`, `shape`) and the tag's values; a section is a table; a named
/// choice (a profile, a variant, an overflow policy, a locking discipline, a policy)
/// lists its names. serde's words for Rust types ("internally tagged enum", "struct
/// GeometryConfig") and the TOML reader's "wanted string or table" never reach the
/// user; a sweep file's scenario likewise.
#[test]
fn a_value_of_the_wrong_shape_says_what_is_expected() {
    let tmp = tempfile::tempdir().unwrap();
    let generated = "[workload]\nkind = \"generated\"\n";
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            "workload = 5\n".into(),
            vec![
                ":1: key `workload`",
                "invalid type: integer `5`",
                "expected a table with `kind` = \"fig3\", \"fig4-5\", \"bank\", \"generated\" or \"trace\"",
            ],
        ),
        (
            format!("{generated}arrivals = 5\n"),
            vec![":3: key `workload.arrivals`", "a table with `mode` = \"open\""],
        ),
        (
            format!("{generated}hot_spot = \"zipf\"\n"),
            vec![":3: key `workload.hot_spot`", "a table with `shape` = \"uniform\" or \"zipf\""],
        ),
        (
            "name = \"x\"\ngeometry = 5\n".into(),
            vec![":2: key `geometry`", "expected a table"],
        ),
        (
            "[device]\nprofile = 5\n".into(),
            vec![
                ":2: key `device.profile`",
                "expected one of `hdd-7200`, `sata-ssd`, `nvme-ssd` (a string), found `5`",
            ],
        ),
        (
            "[archive]\nprofile = true\n".into(),
            vec![":2: key `archive.profile`", "`1gbe`", "found `true`"],
        ),
        (
            "[backup]\non_data_area_full = 1\n".into(),
            vec![
                ":2: key `backup.on_data_area_full`",
                "expected `break-guest-write` or `break-snapshot` (a string), found `1`",
            ],
        ),
        (
            "[backup]\nbaseline_variant = {}\n".into(),
            vec![":2: key `backup.baseline_variant`", "`write-mirroring`", "`copy-on-write`"],
        ),
        (
            "[locking]\ndiscipline = 2\n".into(),
            vec![":2: key `locking.discipline`", "`conservative` or `incremental`"],
        ),
        (
            "policies = [\"cow\", 5]\n".into(),
            vec![":1: key `policies`", "expected a policy name: quiesce"],
        ),
        (
            "policies = \"cow\"\n".into(),
            vec![":1: key `policies`", "expected an array"],
        ),
        (
            "[workload]\nkind = \"trace\"\nformat = 5\npath = \"t.csv\"\n".into(),
            vec![":3: key `workload.format`", "`csv`", "(a string), found `5`"],
        ),
    ];
    let out = s(&tmp.path().join("o"));
    for (i, (text, needles)) in cases.iter().enumerate() {
        let f = write(tmp.path(), &format!("w{i}.toml"), text);
        let o = owm(&["run", &f, "--out", &out]);
        assert_eq!(code(&o), 2, "{text}: {}", stderr(&o));
        fails_with(&o, needles);
        for leak in [
            "internally tagged",
            "struct ",
            "enum ",
            "Config",
            "wanted",
            "sequence",
        ] {
            assert!(
                !stderr(&o).contains(leak),
                "{text}: `{leak}` in\n{}",
                stderr(&o)
            );
        }
    }
    let f = write(
        tmp.path(),
        "sweep.toml",
        "policies = [\"cow\"]\nseeds = [1]\n\n[scenario.device]\nprofile = 5\n",
    );
    let o = owm(&["sweep", &f, "--out", &out]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            "sweep.toml:5: key `scenario.device.profile`",
            "one of `hdd-7200`",
        ],
    );
    // An axis's value: the names too, at the line of the axis's values.
    let f = write(
        tmp.path(),
        "axis.toml",
        "policies = [\"cow\"]\nseeds = [1]\n[[axis]]\nkey = \"device.profile\"\nvalues = [\"hdd-7200\", 3]\n",
    );
    let o = owm(&["sweep", &f, "--out", &out]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            "axis.toml:5: key `device.profile`: with value 3: expected one of `hdd-7200`",
            "(a string)",
        ],
    );
    assert!(!stderr(&o).contains("unit variant"), "{}", stderr(&o));
    assert!(!tmp.path().join("o").exists());
}

/// `owm serve --create` with a geometry no file can have is refused (exit 2) before
/// an existing image is touched, and a failed create leaves no half-made device (no
/// directory it made, no file); more data-area slots than volume blocks are refused
/// by name.
#[test]
fn a_failed_create_leaves_no_half_made_device() {
    let tmp = tempfile::tempdir().unwrap();
    let sock = s(&tmp.path().join("s.sock"));
    // The largest multiple of 4096 below 2^64: image A's blocks overflow a file.
    let huge = "18446744073709547520";
    let create = |dir: &str, extra: &[&str]| {
        let mut args = vec![
            "serve",
            dir,
            "--create",
            "--variant",
            "cow",
            "--socket",
            &sock,
        ];
        args.extend(extra);
        owm_env(&args, &[("OWM_NBDKIT_PLUGIN", "/nonexistent/plugin.so")])
    };
    let fresh = tmp.path().join("fresh");
    let o = create(&s(&fresh), &["--size-bytes", huge]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    // More bytes than a file holds: refused at the flag before any file is made.
    fails_with(
        &o,
        &[&format!("--size-bytes {huge}"), "more than a file can hold"],
    );
    assert!(!fresh.exists(), "a failed create left {:?}", names(&fresh));

    let old = tmp.path().join("old");
    std::fs::create_dir_all(&old).unwrap();
    write(&old, "image-a.img", "an image\n");
    let o = create(&s(&old), &["--size-bytes", huge]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert_eq!(bytes(&old, "image-a.img"), b"an image\n", "emptied");
    assert_eq!(names(&old), ["image-a.img"]);

    let o = create(&s(&fresh), &["--size-bytes", "65536", "--area-slots", "17"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["--area-slots 17", "16 blocks"]);
    assert!(!fresh.exists());
}

/// Every `owm serve --create` geometry flag out of what a device records is refused
/// at the flag (exit 2, the flag, its value and the rule named) before anything is
/// made, DIR included: a block size that is not a positive multiple of 8 or past 32
/// bits, a volume size that is not a positive multiple of the block size, past a
/// file's length or past the largest volume, data-area slots of none, past the
/// volume's blocks or past the largest data area, or past it by default (one slot per
/// block).
#[test]
fn every_bad_serve_geometry_is_refused_at_its_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let sock = s(&tmp.path().join("s.sock"));
    let dir = tmp.path().join("dev");
    let big_volume = ((8u64 << 36) + 8).to_string();
    let past_slots = (8u64 << 32).to_string();
    let many_blocks = (8u64 << 33).to_string();
    let cases: &[(&str, &[&str], &[&str])] = &[
        (
            "cow",
            &["--block-size", "100"],
            &["--block-size 100", "positive multiple of 8"],
        ),
        (
            "cow",
            &["--block-size", "0"],
            &["--block-size 0", "positive multiple of 8"],
        ),
        (
            "logging",
            &["--block-size", "4"],
            &["--block-size 4", "positive multiple of 8"],
        ),
        (
            "mirroring",
            &["--block-size", "4294967295"],
            &["--block-size 4294967295", "at most 4294967288"],
        ),
        (
            "cow",
            &["--block-size", "4294967296"],
            &["--block-size 4294967296", "at most 4294967288"],
        ),
        (
            "cow",
            &["--size-bytes", "0"],
            &["--size-bytes 0", "multiple of --block-size 4096"],
        ),
        (
            "logging",
            &["--size-bytes", "6400", "--block-size", "512"],
            &["--size-bytes 6400", "multiple of --block-size 512"],
        ),
        (
            "cow",
            &["--size-bytes", "18446744073709547520"],
            &[
                "--size-bytes 18446744073709547520",
                "more than a file can hold",
            ],
        ),
        (
            "mirroring",
            &["--block-size", "8", "--size-bytes", &big_volume],
            &[
                &format!("--size-bytes {big_volume}"),
                "largest volume a device records",
            ],
        ),
        (
            "cow",
            &["--block-size", "8", "--size-bytes", &past_slots],
            &[
                &format!("--size-bytes {past_slots}"),
                "give --area-slots 4294967294",
            ],
        ),
        (
            "logging",
            &[
                "--block-size",
                "8",
                "--size-bytes",
                &many_blocks,
                "--area-slots",
                "4294967296",
            ],
            &["--area-slots 4294967296", "largest data area"],
        ),
        (
            "logging",
            &["--area-slots", "0"],
            &["--area-slots 0", "at least one"],
        ),
        (
            "cow",
            &["--size-bytes", "65536", "--area-slots", "17"],
            &["--area-slots 17", "16 blocks"],
        ),
        (
            "mirroring",
            &["--area-slots", "5"],
            &["--area-slots", "no data area"],
        ),
    ];
    let d = s(&dir);
    for (variant, flags, needles) in cases {
        let mut args = vec!["serve", &d, "--create", "--variant", variant];
        args.extend(*flags);
        args.extend(["--socket", &sock]);
        let o = owm_env(&args, &[("OWM_NBDKIT_PLUGIN", "/nonexistent/plugin.so")]);
        assert_eq!(code(&o), 2, "{variant} {flags:?}: {}", stderr(&o));
        fails_with(&o, needles);
        assert!(!stderr(&o).contains(".owm-create-"), "{}", stderr(&o));
        assert!(!dir.exists(), "{variant} {flags:?}: DIR made");
    }
    let help = stdout(&owm(&["serve", "--help"]));
    for rule in [
        "a positive multiple of 8",
        "a positive multiple of --block-size",
    ] {
        assert!(
            help.contains(rule),
            "serve --help states no `{rule}`: {help}"
        );
    }
}

/// `owm demo` refuses a volume over its 256 MiB or with no blocks before any work,
/// printing no half table (exit 2); its table ends with a legend line.
#[test]
fn a_bad_demo_geometry_prints_no_half_table() {
    for args in [
        ["--blocks", "0"],
        ["--block-size", "7"],
        ["--block-size", "0"],
        ["--blocks", "18446744073709551615"],
    ] {
        let o = owm(&["demo", args[0], args[1]]);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert_eq!(stdout(&o), "", "{args:?}");
        // The flag at fault is named, with its value, first.
        let said = format!("error: {} {}", args[0], args[1]);
        assert!(stderr(&o).starts_with(&said), "{args:?}: {}", stderr(&o));
    }
    let o = owm(&["demo", "--blocks", "1000000", "--block-size", "4096"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["--blocks 1000000 x --block-size 4096", "256 MiB"]);
    let o = owm(&["demo", "--blocks", "4", "--block-size", "8"]);
    ok(&o);
    let text = stdout(&o);
    assert_eq!(text.lines().count(), 5, "{text}");
    // The legend under the table gives the units and what each column counts.
    let legend = text.lines().last().unwrap_or_default();
    for needle in [
        "4 blocks of 8 bytes",
        "A reads, A writes, B reads, B writes = physical block reads and writes",
        "table = lookup-table entries",
        "extra peak = ",
        "in blocks",
        "wr/write = physical block writes per logical write",
    ] {
        assert!(legend.contains(needle), "legend lacks `{needle}`: {text}");
    }
}

/// `owm device` keeps its documented statuses: a server that cannot be reached is a
/// refusal (exit 1, as an out-of-order command is), a `--to` that is a directory is
/// bad usage (exit 2).
#[test]
fn owm_device_exits_1_when_refused_and_2_for_bad_usage() {
    let tmp = tempfile::tempdir().unwrap();
    let d = s(tmp.path());
    let o = owm(&["device", "status", "--dir", &d]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    fails_with(&o, &["control.sock", "cannot reach the control socket"]);
    let o = owm(&["device", "backup", "--to", &d, "--dir", &d]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["--to", "is a directory"]);
}

/// The README's usage table names every flag each subcommand's `--help` lists, in the
/// row of that subcommand (`| \`owm SUB ...`), so the two cannot drift apart.
#[test]
fn the_readme_usage_rows_name_every_flag_help_lists() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let top = stdout(&owm(&["--help"]));
    let subs: Vec<&str> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(subs.len() >= 8, "{top}");
    // `--seed` in a row must not be found inside `--seeds`.
    let names = |row: &str, flag: &str| {
        row.match_indices(flag).any(|(i, _)| {
            !row[i + flag.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-')
        })
    };
    for sub in subs {
        let lead = format!("| `owm {sub} ");
        let row = readme
            .lines()
            .find(|l| l.starts_with(&lead))
            .unwrap_or_else(|| panic!("README has no usage row for owm {sub}"));
        let help = stdout(&owm(&[sub, "--help"]));
        let flags: Vec<&str> = help
            .lines()
            .map(str::trim_start)
            .filter_map(|l| {
                let l = l.strip_prefix("-h, ").unwrap_or(l);
                let l = match l.get(..2) {
                    Some(short) if short.starts_with('-') && l[2..].starts_with(", --") => &l[4..],
                    _ => l,
                };
                l.starts_with("--").then(|| {
                    let end = l[2..]
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                        .map_or(l.len(), |e| e + 2);
                    &l[..end]
                })
            })
            .filter(|f| *f != "--help")
            .collect();
        assert!(!flags.is_empty(), "owm {sub} --help lists no flag:\n{help}");
        for flag in flags {
            assert!(
                names(row, flag),
                "README's usage row for owm {sub} does not name {flag}:\n{row}"
            );
        }
    }
}

/// `owm calibrate`'s summary names the pattern's write size as the flag that sets it,
/// not a fixed 4 KiB (`--block-size 512` prices 512-byte writes).
#[test]
fn calibrate_help_names_the_write_size_by_its_flag() {
    for args in [&["calibrate", "--help"][..], &["--help"][..]] {
        let help = stdout(&owm(args))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(!help.contains("random 4 KiB writes"), "{args:?}: {help}");
    }
    let help = stdout(&owm(&["calibrate", "--help"]))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        help.contains("random writes of --block-size bytes (default 4 KiB)"),
        "{help}"
    );
}
