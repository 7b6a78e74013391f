//! Bad input: a clear message naming the file, the line and the key; a non-zero exit;
//! never a panic.

use crate::util::*;

/// Writes `text` as a scenario file and runs it.
#[test]
fn unknown_key_names_file_line_and_key() {
    let (_t, f, o) = run_file("policies = [\"cow\"]\n[workload]\nkind = \"fig3\"\nrecordz = 3\n");
    fails_with(
        &o,
        &[
            &format!("{f}:4:"),
            "key `workload.recordz`",
            "unknown field",
        ],
    );
    let (_t, f, o) = run_file("name = \"x\"\n\n[devic]\nchannels = 2\n");
    fails_with(&o, &[&format!("{f}:3:"), "key `devic`", "unknown field"]);
}

#[test]
fn wrong_type_names_file_line_and_key() {
    let (_t, f, o) =
        run_file("policies = [\"cow\"]\n\n[workload]\nkind = \"fig3\"\nrecords = \"many\"\n");
    fails_with(
        &o,
        &[&format!("{f}:5:"), "key `workload.records`", "invalid type"],
    );
    let (_t, f, o) = run_file("seed = \"one\"\n");
    fails_with(&o, &[&format!("{f}:1:"), "key `seed`", "invalid type"]);
}

#[test]
fn out_of_range_value_names_file_line_and_key() {
    let text = "policies = [\"cow\"]\n[workload]\nkind = \"generated\"\ntransactions = 10\nwrite_fraction = 1.5\n";
    let (_t, f, o) = run_file(text);
    fails_with(
        &o,
        &[
            &format!("{f}:5:"),
            "key `workload.write_fraction`",
            "out of range",
        ],
    );
    let (_t, f, o) = run_file("[geometry]\nrecords_per_block = 0\n");
    fails_with(
        &o,
        &[
            &format!("{f}:2:"),
            "key `geometry.records_per_block`",
            "out of range",
        ],
    );
    let (_t, f, o) = run_file("policies = [\"mirroring\", \"tape\"]\n");
    fails_with(
        &o,
        &[
            &format!("{f}:1:"),
            "key `policies`",
            "unknown policy `tape`",
        ],
    );
}

/// A workload of no transactions runs nothing and would report every invariant held of
/// nothing: refused at its key, as `records = 0` is, for every kind that has the key.
#[test]
fn zero_transactions_are_refused_at_the_key() {
    for kind in ["generated", "fig45", "bank"] {
        let (_t, f, o) = run_file(&format!(
            "policies = [\"cow\"]\n[workload]\nkind = \"{kind}\"\ntransactions = 0\n"
        ));
        assert_eq!(code(&o), 2, "{kind}: {}", stderr(&o));
        fails_with(
            &o,
            &[
                &format!("{f}:4:"),
                "key `workload.transactions`",
                "must be at least 1",
            ],
        );
    }
}

/// A freeze limit of 0 would fail every quiesce attempt the tick it starts and spin
/// through the retries: refused at its key.
#[test]
fn a_zero_quiesce_deadline_is_refused_at_its_key() {
    let text = "policies = [\"quiesce\"]\n[backup]\nquiesce_retries_max = 4294967295\nquiesce_deadline_ticks = 0\nquiesce_retry_backoff_ticks = 0\n";
    let (_t, f, o) = run_file(text);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            &format!("{f}:4:"),
            "key `backup.quiesce_deadline_ticks`",
            "must be at least 1",
        ],
    );
    let (_t, _f, o) = run_file(
        &text
            .replace("ticks = 0\nquiesce_retry", "ticks = 1\nquiesce_retry")
            .replace("4294967295", "2"),
    );
    ok(&o);
}

#[test]
fn unknown_profile_names_file_line_and_key() {
    let (_t, f, o) = run_file("name = \"x\"\n[device]\nprofile = \"floppy\"\n");
    fails_with(
        &o,
        &[&format!("{f}:3:"), "key `device.profile`", "hdd-7200"],
    );
    let (_t, f, o) = run_file("[archive]\nextent_blocks = 4\nprofile = \"pigeon\"\n");
    fails_with(&o, &[&format!("{f}:3:"), "key `archive.profile`", "lto-8"]);
    assert_eq!(o.status.code(), Some(2), "bad input exits 2");
}

#[test]
fn missing_file_is_named() {
    let o = owm(&["run", "scenarios/no-such-file.toml"]);
    fails_with(&o, &["scenarios/no-such-file.toml", "cannot read"]);
    let o = owm(&["sweep", "scenarios/no-such-sweep.toml"]);
    fails_with(&o, &["scenarios/no-such-sweep.toml", "cannot read"]);
}

#[test]
fn unwritable_output_directory_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    // A regular file where a directory must go: refused even to root.
    let blocker = write(tmp.path(), "blocker", "x");
    let out = format!("{blocker}/out");
    let o = owm(&["run", "scenarios/fig3.toml", "--out", &out]);
    fails_with(
        &o,
        &[
            &out,
            "cannot create the output directory",
            &format!("{blocker} is a file, not a directory"),
        ],
    );
    // Deeper: the file is an ancestor further up.
    let deep = format!("{blocker}/a/b/out");
    let o = owm(&["run", "scenarios/fig3.toml", "--out", &deep]);
    fails_with(
        &o,
        &[&deep, &format!("{blocker} is a file, not a directory")],
    );
}

#[test]
fn malformed_shard_is_refused() {
    for bad in ["0/3", "4/3", "3", "a/b", "1/0", "-1/2"] {
        let o = owm(&[
            "sweep",
            "scenarios/sweep-space.toml",
            &format!("--shard={bad}"),
        ]);
        fails_with(&o, &["--shard", "K/N"]);
    }
}

#[test]
fn bad_sweep_files_name_file_line_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let base = "[scenario.workload]\nkind = \"generated\"\ntransactions = 10\n";
    let f = write(
        tmp.path(),
        "a.toml",
        &format!("metrics = [\"speed\"]\n{base}"),
    );
    fails_with(
        &owm(&["sweep", &f]),
        &[
            &format!("{f}:1:"),
            "key `metrics`",
            "unknown metric `speed`",
        ],
    );
    // A metric by its name before the unit came before the statistic: refused at its
    // own line of the list, naming the new name, whatever the list's other names.
    let renamed = reports::tables::RENAMED_METRICS;
    assert!(renamed.len() >= 8);
    for (i, (old, new)) in renamed.iter().enumerate() {
        let first = renamed[(i + 1) % renamed.len()].1;
        let f = write(
            tmp.path(),
            &format!("renamed-{i}.toml"),
            &format!("metrics = [\n  \"{first}\",\n  \"{old}\",\n]\n{base}"),
        );
        let o = owm(&["sweep", &f, "--out", &format!("{f}.out")]);
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        fails_with(
            &o,
            &[
                &format!("{f}:3:"),
                "key `metrics`",
                &format!("`{old}` is now `{new}`"),
            ],
        );
        assert!(!std::path::Path::new(&format!("{f}.out")).exists());
    }
    // `none`'s figure over another policy's window pairs two policies of one run: a
    // sweep point runs one.
    let f = write(
        tmp.path(),
        "paired.toml",
        &format!("metrics = [\"none_window_response_ticks_mean\"]\n{base}"),
    );
    fails_with(
        &owm(&["sweep", &f]),
        &[
            &format!("{f}:1:"),
            "key `metrics`",
            "`none_window_response_ticks_mean`",
            "baseline = \"none\"",
        ],
    );
    let f = write(
        tmp.path(),
        "b.toml",
        &format!("[[axis]]\nkey = \"workload.write_fraction\"\nvalues = [0.5, 2.0]\n\n{base}"),
    );
    fails_with(
        &owm(&["sweep", &f]),
        &[
            &format!("{f}:3:"),
            "key `workload.write_fraction`",
            "2",
            "out of range",
        ],
    );
    // A title starts every plot title: empty, blank, a control character or past 256
    // bytes is refused at its line, nothing written.
    for (title, words) in [
        ("\"\"", "is empty"),
        ("\"  \"", "is empty"),
        (
            "\"a\\u0007b\"",
            "holds the control character U+0007 at byte 1",
        ),
        (
            &format!("\"{}\"", "t".repeat(257)),
            "is 257 bytes long, more than 256",
        ),
    ] {
        let f = write(
            tmp.path(),
            "title.toml",
            &format!("title = {title}\n{base}"),
        );
        let out = format!("{f}.out");
        let o = owm(&["sweep", &f, "--out", &out]);
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        fails_with(&o, &[&format!("{f}:1: key `title`: {words}")]);
        assert!(!std::path::Path::new(&out).exists());
    }
    // A run file's `name` (and a sweep's scenario's) is printed in every row: empty or
    // blank is refused as an empty title is.
    for name in ["\"\"", "\"   \""] {
        let (_t, rf, o) = run_file(&format!("policies = [\"cow\"]\nname = {name}\n"));
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        fails_with(
            &o,
            &[&format!(
                "{rf}:2: key `name`: is empty: the name is printed in every row of \
                 summary.csv"
            )],
        );
    }
    let f = write(tmp.path(), "c.toml", &format!("{base}colour = 3\n"));
    fails_with(
        &owm(&["sweep", &f]),
        &[
            &format!("{f}:4:"),
            "key `scenario.workload.colour`",
            "unknown field",
        ],
    );
    let f = write(tmp.path(), "d.toml", &format!("seeds = []\n{base}"));
    fails_with(
        &owm(&["sweep", &f]),
        &[&format!("{f}:1:"), "key `seeds`", "empty"],
    );
}

/// The simulator's own checks (faults, type (b) blocks, tick bounds) reach the user
/// with the line and key too: one validator, located by the key it names.
#[test]
fn simulator_checks_name_file_line_and_key() {
    for (text, line, key) in [
        (
            "name = \"x\"\n[faults]\nread_error_probability = 1.0\n",
            3,
            "faults.read_error_probability",
        ),
        (
            "[locking]\ntype_b_blocks = [100000]\n",
            2,
            "locking.type_b_blocks",
        ),
        (
            "[faults]\nheal_at_ticks = 9\nmisdirected_write_probability = 1.0\n",
            3,
            "faults.misdirected_write_probability",
        ),
        (
            "[faults]\ncorrupt_block_probability = -0.5\n",
            2,
            "faults.corrupt_block_probability",
        ),
        ("[device]\nchannels = 0\n", 2, "device.channels"),
        // A profile's values are checked like explicit ones.
        (
            "[device]\nprofile = \"hdd-7200\"\nchannels = 0\n",
            3,
            "device.channels",
        ),
        ("[device]\nwrite_channels = 0\n", 2, "device.write_channels"),
        // A type (b) block given twice.
        (
            "[locking]\ntype_b_blocks = [1, 5, 1]\n",
            2,
            "locking.type_b_blocks",
        ),
        // A crash tick given twice.
        (
            "[faults]\ncrash_at_ticks = [3000, 7000, 3000]\n",
            2,
            "faults.crash_at_ticks",
        ),
        // 16 MiB at 1 byte/s: a block's transfer past 2^40 ticks.
        (
            "[geometry]\nblock_size_bytes = 16777216\n[device]\ntransfer_bytes_per_s = 1\n",
            4,
            "device.transfer_bytes_per_s",
        ),
        (
            "[device]\ntransfer_bytes_per_s = -1\n",
            2,
            "device.transfer_bytes_per_s",
        ),
        // 16 MiB at 1 byte/s: a block's sequential read past 2^40 ticks.
        (
            "[geometry]\nblock_size_bytes = 16777216\n[device]\nsequential_read_bytes_per_s = 1\n",
            4,
            "device.sequential_read_bytes_per_s",
        ),
        (
            "[device]\nsequential_read_bytes_per_s = -1\n",
            2,
            "device.sequential_read_bytes_per_s",
        ),
        // A billion channels would be allocated (24 GB) and scanned per call: refused.
        ("[device]\nchannels = 1000000000\n", 2, "device.channels"),
        // A billion Fig 4/5 seats would be allocated (9 GB) before the first event.
        (
            "[workload]\nkind = \"fig4-5\"\nprocesses = 1000000000\n",
            3,
            "workload.processes",
        ),
        (
            "[device]\nprofile = \"nvme-ssd\"\n\nwrite_channels = 0\n",
            4,
            "device.write_channels",
        ),
        (
            "[workload]\nkind = \"generated\"\nwrite_kind = \"blind\"\n",
            3,
            "workload.write_kind",
        ),
        (
            // Under a discipline that retries deadlock victims: of effect.
            "\n\nretry_backoff_ticks = 1099511627777\n[locking]\ndiscipline = \"incremental\"\n",
            3,
            "retry_backoff_ticks",
        ),
    ] {
        let (_t, f, o) = run_file(text);
        let mut needles = vec![format!("{f}:{line}:"), format!("key `{key}`")];
        if key == "retry_backoff_ticks" {
            // The key scales a random back-off; the message says so, as its docs do.
            needles.push("k-th retry waits a uniform 1..=this × 2^min(k, 10) ticks".into());
        }
        let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
        fails_with(&o, &needles);
        assert_eq!(o.status.code(), Some(2), "bad input exits 2");
    }
}

/// Blind writes keep no before-image, so a full data area that aborts the transaction
/// whose write it refuses (`break-guest-write`, the default) is refused beside them at
/// `workload.write_kind`, naming the data area's key and the overflow policy, in a run
/// file and at any grid point of a sweep; `break-snapshot`, which aborts nothing, runs
/// the same workload with exit 0 and the data area filling (the backups abandoned).
#[test]
fn blind_writes_beside_a_data_area_that_breaks_guest_writes_are_refused() {
    let blind = "[workload]\nkind = \"generated\"\nrecords = 256\ntransactions = 300\n\
                 length_min = 2\nlength_max = 8\nwrite_fraction = 1.0\nwrite_kind = \"blind\"\n\
                 arrivals = { mode = \"open\", interarrival_ticks_mean = 150 }\n\
                 [geometry]\nrecords_per_block = 1\n\
                 [archive]\nbandwidth_bytes_per_s = 500000\n";
    for (policies, backup, words) in [
        (
            "[\"none\", \"logging\", \"cow\"]",
            "data_area_blocks = 4\n",
            "backup.data_area_blocks = 4: 4 slots for the volume's 256 blocks",
        ),
        // One slot is one, not "1 slots".
        (
            "[\"cow\"]",
            "data_area_blocks = 1\n",
            "backup.data_area_blocks = 1: 1 slot for the volume's 256 blocks",
        ),
        (
            "[\"crash-consistent\"]",
            "baseline_variant = \"cow\"\ndata_area_fraction = 0.5\non_data_area_full = \"break-guest-write\"\n",
            "backup.data_area_fraction = 0.5: 128 slots",
        ),
    ] {
        let (t, f, o) = run_file(&format!("policies = {policies}\n{blind}[backup]\n{backup}"));
        assert_eq!(o.status.code(), Some(2), "bad input exits 2: {}", stderr(&o));
        fails_with(
            &o,
            &[
                &format!("{f}:9: key `workload.write_kind`"),
                words,
                "backup.on_data_area_full = \"break-guest-write\"",
                "set backup.on_data_area_full = \"break-snapshot\"",
            ],
        );
        assert!(!t.path().join("o").exists(), "nothing written");
    }
    // A sweep is refused when one grid point has the combination.
    let tmp = tempfile::tempdir().unwrap();
    let scenario = blind
        .replace("[workload]", "[scenario.workload]")
        .replace("[geometry]", "[scenario.geometry]")
        .replace("[archive]", "[scenario.archive]");
    let f = write(
        tmp.path(),
        "sweep.toml",
        &format!(
            "policies = [\"cow\"]\n[[axis]]\nkey = \"backup.on_data_area_full\"\n\
             values = [\"break-snapshot\", \"break-guest-write\"]\n\
             {scenario}[scenario.backup]\ndata_area_blocks = 4\n"
        ),
    );
    let o = owm(&["sweep", &f, "--out", &s(&tmp.path().join("o"))]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "bad input exits 2: {}",
        stderr(&o)
    );
    fails_with(
        &o,
        &[
            &format!("{f}:12: key `scenario.workload.write_kind`"),
            "backup.data_area_blocks = 4",
        ],
    );
    // Under break-snapshot the same workload runs: the area fills, nothing aborts.
    let (_t, _f, o) = run_file(&format!(
        "policies = [\"none\", \"logging\", \"cow\"]\n{blind}[backup]\n\
         data_area_blocks = 4\non_data_area_full = \"break-snapshot\"\n"
    ));
    ok(&o);
    for p in ["logging", "cow"] {
        assert!(
            stdout(&o).contains(&format!("backup abandoned under {p} at")),
            "the data area fills under {p}: {}",
            stdout(&o)
        );
    }
}

#[test]
fn a_run_too_large_for_memory_is_refused_before_it_starts_with_the_estimate() {
    // A 1 TiB volume (2^28 blocks of 4 KiB), 10^8 transactions with the history on:
    // what the judge and the stores hold for the blocks written is 25 GiB (only
    // the blocks written are held, so the volume's size alone no longer refuses a run;
    // 10^7 is estimated under the default 4 GiB and runs). `attempts_max` is raised
    // past the transactions, else they are refused at it first (`tests/run_bounds.rs`).
    let text = "policies = [\"cow\"]\n\
                [workload]\nkind = \"generated\"\nrecords = 268435456\ntransactions = 100000000\n\
                [geometry]\nblock_size_bytes = 4096\nrecords_per_block = 1\n\
                [limits]\nvolume_bytes_max = 2199023255552\nattempts_max = 100000000\n";
    let (t, f, o) = run_file(text);
    fails_with(
        &o,
        &[
            &f,
            "limits.memory_bytes_max",
            "the run would hold about",
            "under policy `cow` (",
            "history ",
            // The largest part, and the key that drives it.
            "of it is the simulated disk's images of the blocks written",
            "or give fewer transactions",
            // Not set: the line of the key that drives the estimate.
            &format!(
                "{f}:5: key `workload.transactions`: `limits.memory_bytes_max` (at its default, not set in the file)"
            ),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "a refused run is bad input");
    assert!(!t.path().join("o").exists(), "nothing written");
    // Set in the file, the refusal points at the key's line.
    let (t, f, o) = run_file(&format!("{text}memory_bytes_max = 1000000\n"));
    fails_with(
        &o,
        &[
            &format!("{f}:12: key `limits.memory_bytes_max`: the run would hold about"),
            "more than limits.memory_bytes_max = 976.56 KiB",
            "memory_bytes_max = 1000000",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "a refused run is bad input");
    assert!(!t.path().join("o").exists(), "nothing written");
}

/// A dense archive copy of a huge volume would spend hours copying zeros: refused
/// before the run with the count and the keys to change (`limits.archive_blocks_max`,
/// `archive.sparse`); the hole-aware copy of the same volume runs.
#[test]
fn a_dense_archive_of_a_huge_volume_is_refused_before_it_starts() {
    // 1 TiB of 4 KiB blocks (2^28), ten transactions: the memory estimate is small,
    // the dense copy is 2^28 block reads and sends.
    let text = "policies = [\"cow\"]\n\
                [workload]\nkind = \"generated\"\nrecords = 268435456\ntransactions = 10\n\
                [geometry]\nblock_size_bytes = 4096\nrecords_per_block = 1\n\
                [limits]\nvolume_bytes_max = 1099511627776\n";
    let (t, f, o) = run_file(text);
    fails_with(
        &o,
        &[
            // Not set: the line of the key that sizes the volume.
            &format!(
                "{f}:4: key `workload.records`: `limits.archive_blocks_max` (at its default, not set in the file)"
            ),
            "268435456 blocks (1.00 TiB) over 1 backup cycle",
            "more than limits.archive_blocks_max = 16777216",
            "archive.sparse = true",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "a refused run is bad input");
    assert!(!t.path().join("o").exists(), "nothing written");
    // Set in the file, the refusal points at the key's line.
    let (_t, f, o) = run_file(&format!("{text}archive_blocks_max = 1000\n"));
    fails_with(&o, &[&format!("{f}:11: key `limits.archive_blocks_max`")]);
    // Hole-aware, the same volume runs: only the blocks written are copied.
    let (t, _f, o) = run_file(&format!("{text}[archive]\nsparse = true\n"));
    ok(&o);
    assert!(t.path().join("o/summary.csv").is_file());
}

/// Two [[axis]] with one key would give two columns under one name: refused, naming
/// the file, the second axis's line and key, and the first one's line.
#[test]
fn a_duplicated_axis_key_is_refused_with_file_line_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "dup.toml",
        "[[axis]]\nkey = \"workload.records\"\nvalues = [10]\n\n[[axis]]\nkey = \"workload.records\"\nvalues = [20]\n\n[scenario.workload]\nkind = \"generated\"\n",
    );
    let o = owm(&["sweep", &f]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    fails_with(
        &o,
        &[
            &format!("{f}:6: key `axis.1.key`"),
            "`workload.records` is swept twice (also by `axis.0` at line 2)",
        ],
    );
}

/// Messages say a value's unit once, carry no escaped line feed of an inner error,
/// and an empty `metrics` list (which would plot nothing and keep no statistics) is
/// refused at its line (exit 2), as empty `seeds` and `policies` are.
#[test]
fn refusals_say_their_words_once_and_an_empty_metrics_list_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (_t, f, o) =
        run_file("policies = [\"none\"]\n[workload]\nkind = \"generated\"\ntransactions = 10.0\n");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    fails_with(
        &o,
        &[
            &format!("{f}:4: key `workload.transactions`"),
            "expected a whole number (transactions)",
        ],
    );
    assert_eq!(
        stderr(&o).matches("(transactions)").count(),
        1,
        "{}",
        stderr(&o)
    );
    let sweep = |name: &str, text: &str| {
        let f = write(tmp.path(), name, text);
        (
            owm(&[
                "sweep",
                &f,
                "--out",
                tmp.path()
                    .join(name)
                    .with_extension("out")
                    .to_str()
                    .unwrap(),
            ]),
            f,
        )
    };
    let axis = "[[axis]]\nkey = \"workload.transactions\"\nvalues = [5]\n[scenario.workload]\nkind = \"generated\"\n";
    let (o, f) = sweep(
        "seeds.toml",
        &format!("seeds = [-1]\npolicies = [\"none\"]\n{axis}"),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    fails_with(
        &o,
        &[
            &format!("{f}:1: key `seeds`"),
            "the list's item 1: -1 is out of range: must be 0 or more (0 to 9223372036854775807)",
        ],
    );
    assert!(!stderr(&o).contains("\\x0a"), "{}", stderr(&o));
    let (o, f) = sweep(
        "metrics.toml",
        &format!("seeds = [1]\npolicies = [\"none\"]\nmetrics = []\n{axis}"),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    fails_with(&o, &[&format!("{f}:3: key `metrics`: is empty")]);
    assert!(!tmp.path().join("metrics.out").exists(), "nothing written");
}

/// An axis over a key inside another axis's table (`workload.hot_spot` and
/// `workload.hot_spot.exponent`, in either order) sweeps one setting twice: the later
/// axis would overwrite part of the earlier one's value, and every row would name a
/// value that never ran. Refused at the second axis's key line, naming both; each axis
/// alone runs.
#[test]
fn an_axis_over_a_key_inside_another_axis_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let outer = "[[axis]]\nkey = \"workload.hot_spot\"\nvalues = [{ shape = \"zipf\", exponent = 0.5 }, { shape = \"zipf\", exponent = 2.0 }]\n\n";
    let inner = "[[axis]]\nkey = \"workload.hot_spot.exponent\"\nvalues = [0.5, 1.0]\n\n";
    let top = "seeds = [1]\npolicies = [\"none\"]\nmetrics = [\"response_ticks_mean\"]\n\n";
    let base = "[scenario.workload]\nkind = \"generated\"\nrecords = 64\ntransactions = 20\nhot_spot = { shape = \"zipf\", exponent = 1.0 }\n";
    for (name, axes, second, first) in [
        (
            "outer-first.toml",
            format!("{outer}{inner}"),
            "workload.hot_spot.exponent",
            "workload.hot_spot",
        ),
        (
            "inner-first.toml",
            format!("{inner}{outer}"),
            "workload.hot_spot",
            "workload.hot_spot.exponent",
        ),
    ] {
        let f = write(tmp.path(), name, &format!("{top}{axes}{base}"));
        let o = owm(&[
            "sweep",
            &f,
            "--out",
            tmp.path()
                .join(name)
                .with_extension("out")
                .to_str()
                .unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        fails_with(
            &o,
            &[
                &format!("{f}:10: key `axis.1.key`"),
                &format!(
                    "`{second}` is swept twice (also by `axis.0` at line 6, whose key `{first}`"
                ),
            ],
        );
    }
    for (name, axis) in [("outer.toml", outer), ("inner.toml", inner)] {
        let f = write(tmp.path(), name, &format!("{top}{axis}{base}"));
        let out = tmp.path().join(name).with_extension("out");
        let o = owm(&["sweep", &f, "--out", out.to_str().unwrap(), "--quiet"]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
    }
}

#[test]
fn a_data_area_past_its_bound_is_refused_up_front_naming_the_key() {
    // 2^32 - 1 records of a block each (a volume the limits allow): the data area, the
    // volume's size by default, would have one slot more than the engine's lookup
    // table can number; it used to fail at tick 0 with the engine's words only.
    let text = "policies = [\"cow\"]\n[workload]\nkind = \"generated\"\nrecords = 4294967295\ntransactions = 10\n[geometry]\nrecords_per_block = 1\n[limits]\nvolume_bytes_max = 300000000000\n";
    let (t, f, o) = run_file(text);
    fails_with(
        &o,
        &[
            &format!("{f}:4: key `workload.records`"),
            "data area would have 4294967295 slots",
            "at most 4294967294",
            "backup.data_area_blocks",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "bad input exits 2");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("at tick 0"), "refused before the run: {err}");
    assert!(!t.path().join("o").exists(), "nothing written");
    // Given a smaller data area, the bound no longer applies; too large a one names
    // its own key.
    let (_t, f, o) = run_file(&format!("{text}[backup]\ndata_area_blocks = 4294967295\n"));
    fails_with(
        &o,
        &[
            &format!("{f}:11: key `backup.data_area_blocks`"),
            "at most 4294967294",
        ],
    );
}

/// A bad value on the second of two axes is named at that axis's line and key, with
/// its own error, not at the first axis (a serde `unknown variant` message names no
/// key, so the axis at fault is the one whose value alone fails).
#[test]
fn a_bad_value_on_a_later_axis_is_named_at_that_axis() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "two.toml",
        "policies = [\"cow\"]\n\n[[axis]]\nkey = \"backup.data_area_fraction\"\nvalues = [0.5]\n\n[[axis]]\nkey = \"backup.on_data_area_full\"\nvalues = [\"break-snapshot\", \"oops\"]\n\n[scenario.workload]\nkind = \"generated\"\ntransactions = 10\n",
    );
    let o = owm(&["sweep", &f]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    fails_with(
        &o,
        &[
            &format!("{f}:9: key `backup.on_data_area_full`"),
            "with value \"oops\":",
            "unknown variant `oops`",
        ],
    );
    assert!(!stderr(&o).contains("data_area_fraction"), "{}", stderr(&o));
}

/// The memory estimate is for the run's policies: a run of `none` alone fits a bound
/// (24 MiB) that the same run beside `cow` does not (2,000 transactions on 1 TiB of 4 KiB
/// blocks: in a release build estimated 20.50 MiB, at the run's end, and 24.94 MiB, the
/// outputs' phase: the program and a timing diagram's panel per policy; 2 MiB more each
/// in a debug build, whose program is counted larger: 22.50 and 26.94 MiB). The refusal names the key's line (exit 2,
/// nothing written).
#[test]
fn the_memory_estimate_counts_only_what_the_runs_policies_build() {
    let text = |policies: &str| {
        format!(
            "policies = [{policies}]\n\
             [workload]\nkind = \"generated\"\nrecords = 268435456\ntransactions = 2000\n\
             [geometry]\nblock_size_bytes = 4096\nrecords_per_block = 1\n\
             [limits]\nvolume_bytes_max = 1099511627776\nmemory_bytes_max = 25165824\n\
             [archive]\nsparse = true\n"
        )
    };
    // (`[archive]` has no effect under `none` alone: left out.)
    let (_t, _f, o) = run_file(&text("\"none\"").replace("[archive]\nsparse = true\n", ""));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let (t, f, o) = run_file(&text("\"none\", \"cow\""));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            &format!("{f}:11: key `limits.memory_bytes_max`: the run would hold about"),
            "under policies `none`, `cow` (the largest of their estimates)",
            "writing the outputs: ",
            "more than limits.memory_bytes_max = 24.00 MiB",
        ],
    );
    assert!(!t.path().join("o").exists(), "nothing written");
}

/// A scenario, sweep, model file or replayed trace that is not a regular file is
/// refused naming it, exit 2, before it is read: before, `owm run /dev/urandom` read
/// until killed and `owm run /dev/zero` until memory ran out.
#[test]
fn an_input_that_is_not_a_regular_file_is_refused_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = s(&tmp.path().join("o"));
    let dir = s(tmp.path());
    for args in [
        vec!["run", "/dev/urandom", "--out", &out],
        vec!["run", "/dev/zero", "--out", &out],
        vec!["run", &dir, "--out", &out],
        vec!["sweep", "/dev/urandom", "--out", &out],
        vec!["check", "--threads", "1", "--model", "/dev/zero"],
        vec!["check", "--replay", "/dev/urandom"],
    ] {
        let o = owm(&args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        fails_with(
            &o,
            &[
                args.iter().find(|a| a.starts_with('/')).unwrap(),
                "not a regular file",
            ],
        );
    }
    assert!(!tmp.path().join("o").exists());
}

/// `--old` and `--new` whose sum overflows a machine word are refused like any sum
/// past 8 (exit 2), on the command line and on a replayed trace's `model` line: before,
/// the sum wrapped under the bound and the check allocated without end (exit 134).
#[test]
fn check_counts_whose_sum_overflows_are_refused() {
    for args in [
        &["check", "--old", "18446744073709551615"][..],
        &["check", "--old", "18446744073709551615", "--new", "1"][..],
        &[
            "check",
            "--old",
            "9223372036854775808",
            "--new",
            "9223372036854775808",
        ][..],
    ] {
        let o = owm(args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        fails_with(&o, &["exceeds 8 transactions"]);
    }
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "wrap.trace",
        "owm-model-trace v1\nmodel --variant cow --old 18446744073709551615 --new 1\nviolates B-complete\nstep end\n",
    );
    let o = owm(&["check", "--replay", &f]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &[&format!("{f}:2"), "exceeds 8 transactions"]);
}

/// Every field of an inline table gets its own key path: a value refused, of a wrong
/// type or an unknown field inside `arrivals = { ... }` (or its `[workload.arrivals]`
/// table) is reported at `workload.arrivals.<field>`, not at the table.
#[test]
fn a_field_of_an_inline_table_is_named_by_its_own_key() {
    let base = "[workload]\nkind = \"generated\"\ntransactions = 10\n";
    for (arrivals, key, words) in [
        (
            "arrivals = { mode = \"closed\", clients = 2, think_ticks_mean = -5 }",
            "workload.arrivals.think_ticks_mean",
            "-5 is out of range: must be ",
        ),
        (
            "arrivals = { mode = \"closed\", clients = 2, think_ticks_mean = \"x\" }",
            "workload.arrivals.think_ticks_mean",
            "invalid type: string \"x\"",
        ),
        (
            "arrivals = { mode = \"closed\", clients = 2, clientz = 3 }",
            "workload.arrivals.clientz",
            "unknown field `clientz` (did you mean `clients`?)",
        ),
        (
            "[workload.arrivals]\nmode = \"closed\"\nclients = 2\nthink_ticks_mean = -5",
            "workload.arrivals.think_ticks_mean",
            "-5 is out of range: must be ",
        ),
    ] {
        let (_t, f, o) = run_file(&format!("{base}{arrivals}\n"));
        let line = 3 + arrivals.lines().count();
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        fails_with(&o, &[&format!("{f}:{line}: key `{key}`: {words}")]);
    }
}

/// A seed is what a TOML file can hold (0 to 2^63 - 1): a larger one in a file is
/// refused with that range, and `--seed` refuses it too (exit 2), so every printed
/// `reproduce:` seed can be written in the file.
#[test]
fn a_seed_past_what_a_file_holds_is_refused_with_the_range() {
    let (_t, f, o) = run_file("seed = 18446744073709551615\n[workload]\nkind = \"fig3\"\n");
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[&format!("{f}:1: key `seed`: number too large: a TOML integer (a seed, a count) is at most 9223372036854775807")],
    );
    let o = owm(&[
        "run",
        "scenarios/fig3.toml",
        "--seed",
        "18446744073709551615",
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &["18446744073709551615 is out of range: must be at most 9223372036854775807 (0 to 9223372036854775807)"],
    );
}

/// A value of an axis that makes a key of the base scenario unknown (`accounts` of a
/// bank once `workload.kind` is `fig3`) is named at its `values` line with the base
/// key and its line; a base key refused at some grid points only (a dense archive
/// copy past `limits.archive_blocks_max` at the larger `records`) names the axis
/// values of those points.
#[test]
fn an_axis_value_at_fault_for_a_base_key_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "kind.toml",
        "policies = [\"cow\"]\n[[axis]]\nkey = \"workload.kind\"\nvalues = [\"bank\", \"fig3\"]\n\
         [scenario.workload]\nkind = \"bank\"\naccounts = 64\n",
    );
    let o = owm(&["sweep", &f, "--out", &s(&tmp.path().join("o"))]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[&format!(
            "{f}:4: key `workload.kind`: with value \"fig3\": the base scenario's \
             `workload.accounts` at line 7 does not apply to it (unknown field `accounts`"
        )],
    );
    // A defaulted bound refused at the grid points of one axis value, where the base
    // scenario passes: at that axis value, not at a base key that drives the bound
    // too (`length_max`, set further from its default than the axis's largest count).
    let f = write(
        tmp.path(),
        "memory.toml",
        "policies = [\"cow\"]\n[[axis]]\nkey = \"workload.transactions\"\n\
         values = [100, 1000000]\n[scenario.workload]\nkind = \"generated\"\n\
         records = 100000\nlength_max = 10000\n",
    );
    let o = owm(&["sweep", &f, "--out", &s(&tmp.path().join("o"))]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[&format!(
            "{f}:4: key `workload.transactions`: with value 1000000: \
             `limits.memory_bytes_max` (at its default, not set in the file)"
        )],
    );
    // A base that passes only with an axis's value (a period, its cycles on an axis):
    // the grid's first point passes, so the axis value refused is the cause.
    let f = write(
        tmp.path(),
        "cycles.toml",
        "policies = [\"cow\"]\n[[axis]]\nkey = \"backup.cycles\"\nvalues = [2, 100]\n\
         [scenario.workload]\nkind = \"generated\"\nrecords = 1000000\n\
         [scenario.backup]\nrequest_at_ticks = 5000\nperiod_ticks = 8000\n",
    );
    let o = owm(&["sweep", &f, "--out", &s(&tmp.path().join("o"))]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[&format!(
            "{f}:4: key `backup.cycles`: with value 100: `limits.archive_blocks_max` (at its \
             default, not set in the file)"
        )],
    );
    // An axis inside a table the base scenario lacks: that table named, not serde's
    // missing field alone.
    let f = write(
        tmp.path(),
        "arrivals.toml",
        "policies = [\"cow\"]\n[[axis]]\nkey = \"workload.arrivals.interarrival_ticks_mean\"\n\
         values = [50, 100]\n[scenario.workload]\nkind = \"generated\"\nrecords = 64\n",
    );
    let o = owm(&["sweep", &f, "--out", &s(&tmp.path().join("o"))]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[&format!(
            "{f}:4: key `workload.arrivals.interarrival_ticks_mean`: with value 50: the base \
             scenario gives no `workload.arrivals`, and the axis's key alone does not make \
             one (missing field `mode`): give `workload.arrivals` in [scenario], and the \
             axis sets its `interarrival_ticks_mean`"
        )],
    );
    let f = write(
        tmp.path(),
        "dense.toml",
        "policies = [\"cow\"]\n[[axis]]\nkey = \"workload.records\"\nvalues = [64, 262144]\n\
         [scenario.workload]\nkind = \"generated\"\ntransactions = 10\n\
         [scenario.geometry]\nrecords_per_block = 1\n[scenario.archive]\nsparse = false\n\
         [scenario.limits]\narchive_blocks_max = 100000\n",
    );
    let o = owm(&["sweep", &f, "--out", &s(&tmp.path().join("o"))]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            &format!("{f}:13: key `scenario.limits.archive_blocks_max`"),
            "(at the grid points with workload.records = 262144)",
        ],
    );
    assert!(!tmp.path().join("o").exists());
    // Every grid point the refusal holds for is named: all three write fractions at
    // 3,000 transactions, not only the first one met.
    let f = write(
        tmp.path(),
        "two.toml",
        "policies = [\"cow\"]\n[[axis]]\nkey = \"workload.write_fraction\"\n\
         values = [0.2, 0.5, 0.8]\n[[axis]]\nkey = \"workload.transactions\"\n\
         values = [30, 3000]\n[scenario.workload]\nkind = \"generated\"\nrecords = 1024\n\
         arrivals = { mode = \"open\", interarrival_ticks_mean = 300 }\n\
         [scenario.limits]\ntime_ticks_max = 400000\n",
    );
    let o = owm(&["sweep", &f, "--out", &s(&tmp.path().join("o"))]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            &format!("{f}:13: key `scenario.limits.time_ticks_max`"),
            "(at the grid points with workload.transactions = 3000, any \
             workload.write_fraction)",
        ],
    );
}

/// A `[workload]` without `kind` is the default fig3 workload: it runs as with
/// `kind = "fig3"` written (the same summary.csv), and its errors still name the file,
/// line and key (an unknown key, a bad value, an unknown kind). In a sweep a
/// `workload.kind` axis supplies the kind its `[scenario.workload]` leaves out: a base
/// key of `generated` is read as generated's, and refused at the axis's values for a
/// kind that lacks it.
#[test]
fn a_workload_without_kind_is_fig3() {
    let tmp = tempfile::tempdir().unwrap();
    let mut csvs = Vec::new();
    for (name, table) in [
        ("bare", "[workload]\nrecords = 64\n"),
        ("named", "[workload]\nkind = \"fig3\"\nrecords = 64\n"),
    ] {
        // One file name (the scenario is named after it), in two directories.
        let dir = tmp.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        let f = write(&dir, "s.toml", &format!("policies = [\"cow\"]\n{table}"));
        let out = dir.join("o");
        let o = owm(&["run", &f, "--out", &s(&out)]);
        ok(&o);
        csvs.push(String::from_utf8(bytes(&out, "summary.csv")).unwrap());
    }
    assert_eq!(csvs[0], csvs[1]);
    for (table, line, key, words) in [
        (
            "recrods = 64\n",
            3,
            "workload.recrods",
            "unknown field `recrods` (did you mean `records`?)",
        ),
        (
            "records = -4\n",
            3,
            "workload.records",
            "-4 is out of range: must be at least 1",
        ),
        (
            "kind = \"bnak\"\n",
            3,
            "workload.kind",
            "unknown variant `bnak`",
        ),
    ] {
        let (_t, f, o) = run_file(&format!("policies = [\"cow\"]\n[workload]\n{table}"));
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        fails_with(&o, &[&format!("{f}:{line}: key `{key}`: {words}")]);
    }
    let sweep = |values: &str| {
        format!(
            "policies = [\"none\"]\nseeds = [1]\n[[axis]]\nkey = \"workload.kind\"\n\
             values = [{values}]\n[scenario.workload]\ntransactions = 10\n"
        )
    };
    let f = write(tmp.path(), "k.toml", &sweep("\"generated\", \"bank\""));
    let o = owm(&[
        "sweep",
        &f,
        "--out",
        &s(&tmp.path().join("k")),
        "--jobs",
        "1",
    ]);
    ok(&o);
    let f = write(tmp.path(), "k2.toml", &sweep("\"generated\", \"fig3\""));
    let o = owm(&[
        "sweep",
        &f,
        "--out",
        &s(&tmp.path().join("k2")),
        "--jobs",
        "1",
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[&format!("{f}:5: key `workload.kind`: with value \"fig3\": the base scenario's `workload.transactions` at line 7 does not apply")],
    );
}

/// A record's value never wraps: an initial value or balance that the run's
/// transactions could take past an `i64` is refused at its key (exit 2), one that
/// stays within it to the last unit runs and is judged (bank-conserved held), an
/// amount that alone could pass it is refused at `workload.amount_max` with the largest
/// that runs beside the balance as written (the next refused), and a count that alone
/// could pass it at `workload.transactions`; a negative amount is said as written.
#[test]
fn a_value_the_transactions_could_take_past_an_i64_is_refused_at_its_key() {
    let max = i64::MAX;
    let bank = |balance: i64, amount: i64| {
        format!(
            "policies = [\"cow\"]\n[workload]\nkind = \"bank\"\naccounts = 4\n\
             transactions = 10\namount_max = {amount}\ninitial_balance = {balance}\n"
        )
    };
    // 10 transfers of up to 100: a balance moves by at most 1000.
    for balance in [max - 1000, -(max - 1000)] {
        let (_t, _f, o) = run_file(&bank(balance, 100));
        assert_eq!(code(&o), 0, "{balance}: {}", stderr(&o));
        assert!(stdout(&o).contains("bank-conserved"), "{}", stdout(&o));
    }
    for balance in [max - 999, -(max - 999), max, i64::MIN] {
        let (_t, f, o) = run_file(&bank(balance, 100));
        assert_eq!(code(&o), 2, "{balance}: {}", stderr(&o));
        fails_with(
            &o,
            &[&format!(
                "{f}:7: key `workload.initial_balance`: {balance} is out of range: 10 \
                 transactions changing a record by up to 100 each could leave a record's \
                 value outside -{max} to {max}: must be -{} to {}",
                max - 1000,
                max - 1000
            )],
        );
    }
    let (_t, f, o) = run_file(&bank(0, max));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[&format!(
            "{f}:6: key `workload.amount_max`: {max} is out of range"
        )],
    );
    // The largest amount said is the largest that runs with the balance as written,
    // and the one past it is refused.
    let balance = 1000;
    let said = (max - balance) / 10;
    let (_t, f, o) = run_file(&bank(balance, max));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[&format!(
            "{f}:6: key `workload.amount_max`: {max} is out of range: 10 transfers of up to \
             {max} from workload.initial_balance = {balance} could leave a record's value \
             outside -{max} to {max}: must be at most {said}"
        )],
    );
    let (_t, _f, o) = run_file(&bank(balance, said));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let (_t, _f, o) = run_file(&bank(balance, said + 1));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    // No amount fits beside a balance this near the end, and the transfers alone pass
    // an `i64`: both keys are said.
    let (_t, f, o) = run_file(&bank(max - 5, max / 5));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[&format!(
            "{f}:6: key `workload.amount_max`: {} is out of range: 10 transfers of up to {} \
             from workload.initial_balance = {} could leave a record's value outside -{max} \
             to {max}, and no value of this key alone fits beside that \
             workload.initial_balance: at most {} from 0",
            max / 5,
            max / 5,
            max - 5,
            max / 10
        )],
    );
    // Updates of up to 9 by more transactions than alone fit: the count's largest
    // beside the initial value, with the run limits raised past it (they refuse it
    // first otherwise).
    let many = |n: i64| {
        format!(
            "policies = [\"cow\"]\n[workload]\nkind = \"fig4-5\"\ntransactions = {n}\n\
             [limits]\nattempts_max = {n}\nevents_max = {n}\n"
        )
    };
    let fits = (max - 100) / 9;
    let (_t, f, o) = run_file(&many(max / 9 + 1));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[&format!(
            "{f}:4: key `workload.transactions`: {} is out of range: as many updates of up \
             to 9 from workload.initial_value = 100 could leave a record's value outside \
             -{max} to {max}: must be at most {fits}",
            max / 9 + 1
        )],
    );
    let (_t, f, o) = run_file(&many(max));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &[&format!("{f}:4: key `workload.transactions`: ")]);
    // A negative amount is said as written.
    let (_t, f, o) = run_file(&bank(0, -5));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[&format!(
            "{f}:6: key `workload.amount_max`: -5 is out of range: must be at least 1"
        )],
    );
    let fig3 =
        format!("policies = [\"cow\"]\n[workload]\nkind = \"fig3\"\ninitial_value = {max}\n");
    let (_t, f, o) = run_file(&fig3);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[&format!(
            "{f}:4: key `workload.initial_value`: {max} is out of range"
        )],
    );
}

/// A syntax error is one line whatever the parser put on lines of their own: a table
/// given twice says why after the header's words, in a run file and a sweep file,
/// never a line feed shown escaped.
#[test]
fn a_table_given_twice_is_one_line_naming_the_duplicate() {
    for (command, text, line, key) in [
        (
            "run",
            "[workload]\nkind = \"bank\"\n[workload]\n",
            3,
            "workload",
        ),
        (
            "sweep",
            "[[axis]]\nkey = \"workload.records\"\nvalues = [8]\n[axis]\n",
            4,
            "axis",
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let f = write(tmp.path(), "dup.toml", text);
        let o = owm(&[command, &f, "--out", &s(&tmp.path().join("o"))]);
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        fails_with(
            &o,
            &[&format!(
                "{f}:{line}: invalid table header: duplicate key `{key}` in document root"
            )],
        );
        assert!(!stderr(&o).contains("\\x0a"), "{}", stderr(&o));
    }
}

/// Every key of a 32-bit count given a value past its type's largest (5000000000) is
/// refused at its file, line and key (exit 2) as out of range with the values it
/// takes, never as "not a whole number": its type's range, or its checks' (channels,
/// processes); a key of no effect at some values (retries without a deadline, write
/// slots at or past the channels) gets no range.
#[test]
fn a_count_past_its_type_is_refused_with_the_keys_range() {
    let big = "5000000000";
    let generated = "policies = [\"cow\"]\n[workload]\nkind = \"generated\"\n";
    let fig45 = "policies = [\"cow\"]\n[workload]\nkind = \"fig4-5\"\n";
    let fig3 = "policies = [\"cow\"]\n[workload]\nkind = \"fig3\"\n";
    let trace = "policies = [\"cow\"]\n[workload]\nkind = \"trace\"\npath = \"t.csv\"\n";
    for (base, text, line, key, range) in [
        (
            generated,
            "length_min = B\n",
            4,
            "workload.length_min",
            // Past the type; the key's own end is length_max's value, another key's,
            // which is not said.
            "must be at most 4294967295 (the largest of its type; the file's other keys as they are allow less)\n",
        ),
        (
            generated,
            "length_max = B\n",
            4,
            "workload.length_max",
            // The memory bound refuses the type's largest: no range is said.
            "must be at most 4294967295 (the largest of its type; the file's other keys as they are allow less)\n",
        ),
        (
            generated,
            "arrivals = { mode = \"closed\", clients = B, think_ticks_mean = 0 }\n",
            4,
            "workload.arrivals.clients",
            "must be at most 4294967295 (1 to 4294967295)",
        ),
        (
            fig3,
            "updates_max = B\n",
            4,
            "workload.updates_max",
            "must be at most 4294967295 (the largest of its type; the file's other keys as they are allow less)\n",
        ),
        (
            fig45,
            "updates_min = B\n",
            4,
            "workload.updates_min",
            "must be at most 4294967295 (the largest of its type; the file's other keys as they are allow less)\n",
        ),
        (
            fig45,
            "processes = B\n",
            4,
            "workload.processes",
            "must be at most 65536 (1 to 65536 processes)",
        ),
        (
            trace,
            "ios_per_transaction_max = B\n",
            5,
            "workload.ios_per_transaction_max",
            // No trace file: no value passes the checks, so no range is said.
            "must be at most 4294967295 (the largest of its type; the file's other keys as they are allow less)\n",
        ),
        (
            generated,
            "[backup]\ncycles = B\n",
            5,
            "backup.cycles",
            // No period: no value passes the checks, so only the type's end is said.
            "must be at most 4294967295 (the largest of its type; the file's other keys as they are allow less)\n",
        ),
        (
            generated,
            "[backup]\nquiesce_retries_max = B\n",
            5,
            "backup.quiesce_retries_max",
            // No policy quiesces: the key has no effect at any value, so no range.
            "must be at most 4294967295 (the largest of its type; the file's other keys as they are allow less)\n",
        ),
        (
            "policies = [\"quiesce\"]\n[workload]\nkind = \"generated\"\n",
            "[backup]\nquiesce_deadline_ticks = 1000\nquiesce_retries_max = B\n",
            6,
            "backup.quiesce_retries_max",
            // With a deadline, 4294967295 retries pass the scenario's checks but not
            // the output bound (two trace rows a retry), another key's: the largest it
            // allows, with that key.
            "must be at most 7544054 (0 to 7544054 retries): past it `limits.output_bytes_max` \
             as the file has it refuses the run, though the key's own largest is 4294967295\n",
        ),
        (
            generated,
            "[device]\nchannels = B\n",
            5,
            "device.channels",
            "must be at most 65536 (1 to 65536 channels)",
        ),
        (
            generated,
            "[device]\nwrite_channels = B\n",
            5,
            "device.write_channels",
            // At or past `device.channels` it has no effect: its largest is that
            // key's, not the type's, and no range is said.
            "must be at most 4294967295 (the largest of its type; the file's other keys as they are allow less)\n",
        ),
    ] {
        let (_t, f, o) = run_file(&format!("{base}{}", text.replace('B', big)));
        let err = stderr(&o);
        assert_eq!(code(&o), 2, "{key}: {err}");
        assert!(
            !err.contains("whole number") && !err.contains("expected u"),
            "{key}: {err}"
        );
        fails_with(
            &o,
            &[&format!(
                "{f}:{line}: key `{key}`: {big} is out of range: must be "
            )],
        );
        assert!(err.contains(range), "{key}: {err}");
    }
}

/// Every unsigned key a shipped run file sets (each `key = N` line, in every table)
/// given -1 is refused at its file, line and key (exit 2) with the values it takes,
/// never a Rust type's name ("expected u64"): "must be 0 or more (0 to MAX)", or
/// "must be at least M (M to MAX)" when its checks ask more, or "must be 0 or more (its
/// own least; the file's other keys as they are ask more)" where 0 is refused too (by
/// another key's check: checked).
#[test]
fn a_negative_count_is_refused_with_the_keys_range() {
    let tmp = tempfile::tempdir().unwrap();
    let mut refused = 0;
    for name in shipped_files().iter().filter(|n| !n.starts_with("sweep-")) {
        let text = std::fs::read_to_string(repo().join("scenarios").join(name)).unwrap();
        let mut table = String::new();
        for (i, line) in text.lines().enumerate() {
            let t = line.trim();
            if t.starts_with('[') {
                table = t.trim_matches(|c| c == '[' || c == ']').to_string();
                continue;
            }
            let Some((k, v)) = t.split_once(" = ") else {
                continue;
            };
            if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let key = if table.is_empty() {
                k.to_string()
            } else {
                format!("{table}.{k}")
            };
            let edited: Vec<String> = text
                .lines()
                .enumerate()
                .map(|(j, l)| {
                    if j == i {
                        format!("{k} = -1")
                    } else {
                        l.to_string()
                    }
                })
                .collect();
            let f = write(tmp.path(), "neg.toml", &(edited.join("\n") + "\n"));
            let o = owm(&["run", &f, "--out", &s(&tmp.path().join("o"))]);
            let err = stderr(&o);
            assert!(!err.contains("expected u"), "{name} {key}: {err}");
            assert!(
                !err.contains("expected a whole number"),
                "{name} {key}: {err}"
            );
            if !err.contains("-1 is out of range: must ") {
                // A signed key: -1 is a value it takes, or refused by its own check.
                continue;
            }
            assert_eq!(code(&o), 2, "{name} {key}: {err}");
            fails_with(
                &o,
                &[&format!(
                    "{f}:{}: key `{key}`: -1 is out of range: must ",
                    i + 1
                )],
            );
            assert!(
                err.contains("must be 0 or more")
                    || err.contains("must be at least ")
                    // A key whose values are no range: what its check asks.
                    || err.contains("must be a ")
                    // 0 refused too, by another key's check.
                    || err.contains("(its own least; the file's other keys as they are ask more)"),
                "{name} {key}: {err}"
            );
            if err.contains("(its own least;") {
                let mut zero = edited.clone();
                zero[i] = format!("{k} = 0");
                let f = write(tmp.path(), "zero.toml", &(zero.join("\n") + "\n"));
                let o = owm(&["run", &f, "--out", &s(&tmp.path().join("o"))]);
                assert_eq!(code(&o), 2, "{name} {key} = 0 passes: {}", stderr(&o));
            }
            refused += 1;
        }
    }
    assert!(refused >= 40, "only {refused} unsigned keys met");

    // The range is the key's: its type's largest value, or its checks' bounds. Each
    // text follows `base`'s 4 lines (seed: before them).
    let base = "policies = [\"cow\"]\n[workload]\nkind = \"generated\"\nrecords = 64\n";
    for (text, line, key, range) in [
        (
            "transactions = -5\n",
            5,
            "workload.transactions",
            // The memory bound's end is another key's: not said.
            "-5 is out of range: must be at least 1\n",
        ),
        (
            "length_min = -1\n",
            5,
            "workload.length_min",
            "-1 is out of range: must be at least 1\n",
        ),
        (
            "arrivals = { mode = \"open\", interarrival_ticks_mean = -5 }\n",
            5,
            "workload.arrivals.interarrival_ticks_mean",
            // 1000 arrivals within the time limit: an end another key sets, not said.
            "-5 is out of range: must be at least 1\n",
        ),
        (
            "[device]\nchannels = -2\n",
            6,
            "device.channels",
            "-2 is out of range: must be at least 1 (1 to 65536 channels)",
        ),
        (
            "[device]\nread_latency_ticks = -2\n",
            6,
            "device.read_latency_ticks",
            "-2 is out of range: must be 0 or more (0 to 1099511627776 ticks)",
        ),
        (
            "[limits]\nevents_max = -1\n",
            6,
            "limits.events_max",
            // Its own least is 1; 1000 transactions make 1000 events at least: its
            // range is not said, and its least said as its own.
            "-1 is out of range: must be at least 1 (its own least; the file's other keys \
             as they are ask more)",
        ),
    ] {
        let (_t, f, o) = run_file(&format!("{base}{text}"));
        assert_eq!(code(&o), 2, "{text}: {}", stderr(&o));
        fails_with(&o, &[&format!("{f}:{line}: key `{key}`: {range}")]);
    }
    let (_t, f, o) = run_file(&format!("seed = -1\n{base}"));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[&format!(
            "{f}:1: key `seed`: -1 is out of range: must be 0 or more (0 to \
             9223372036854775807)"
        )],
    );
}

/// A negative value of a key that takes a whole number from its least up reads as the
/// range refusal its least value less one gets (`0 is out of range: must be at least
/// 1`), over keys of every table that takes one: `-5 is out of range: must be …`, never
/// "expected a whole number" (-5 is one).
#[test]
fn a_negative_whole_number_is_refused_as_out_of_range_like_a_value_below_the_least() {
    let base = "policies = [\"cow\"]\n[workload]\nkind = \"generated\"\nrecords = 64\n";
    for (text, line, key) in [
        ("transactions = VALUE\n", 5, "workload.transactions"),
        ("[device]\nchannels = VALUE\n", 6, "device.channels"),
        // One transaction: its least is its own (1 event), not the transactions'.
        (
            "transactions = 1\n[limits]\nevents_max = VALUE\n",
            7,
            "limits.events_max",
        ),
        (
            "[geometry]\nrecords_per_block = VALUE\n",
            6,
            "geometry.records_per_block",
        ),
    ] {
        let (_t, f, zero) = run_file(&format!("{base}{}", text.replace("VALUE", "0")));
        assert_eq!(code(&zero), 2, "{text}: {}", stderr(&zero));
        fails_with(
            &zero,
            &[&format!(
                "{f}:{line}: key `{key}`: 0 is out of range: must be at least 1"
            )],
        );
        let (_t, f, o) = run_file(&format!("{base}{}", text.replace("VALUE", "-5")));
        assert_eq!(code(&o), 2, "{text}: {}", stderr(&o));
        assert!(
            !stderr(&o).contains("expected a whole number"),
            "{text}: {}",
            stderr(&o)
        );
        fails_with(
            &o,
            &[&format!(
                "{f}:{line}: key `{key}`: -5 is out of range: must be at least 1"
            )],
        );
    }
}

/// A key that takes a whole number, given a fraction, a string or a negative number,
/// in a run file or at a sweep axis's value, is refused at its file, line and key as
/// "expected a whole number" with the unit its name says (exit 2), never with a Rust
/// type's name (`u64`, `u32`, `usize`).
#[test]
fn a_whole_number_key_given_another_value_says_a_whole_number_and_its_unit() {
    let base = "policies = [\"cow\"]\n[workload]\nkind = \"generated\"\nrecords = 64\n";
    let keys = [
        ("faults", "crash_at_ticks", "[VALUE]", "ticks"),
        ("device", "read_latency_ticks", "VALUE", "ticks"),
        ("device", "channels", "VALUE", "channels"),
        (
            "archive",
            "bandwidth_bytes_per_s",
            "VALUE",
            "bytes per second",
        ),
        ("limits", "events_max", "VALUE", "events"),
        ("backup", "data_area_blocks", "VALUE", "blocks"),
        (
            "geometry",
            "records_per_block",
            "VALUE",
            "records per block",
        ),
    ];
    let mut seen = 0;
    for (table, key, shape, unit) in keys {
        for (value, says) in [
            (
                "1e3",
                "invalid type: floating point `1000.0`, expected a whole number (UNIT)",
            ),
            (
                "1.5",
                "invalid type: floating point `1.5`, expected a whole number (UNIT)",
            ),
            (
                "\"x\"",
                "invalid type: string \"x\", expected a whole number (UNIT)",
            ),
            ("-7", "-7 is out of range: must be "),
        ] {
            let text = format!(
                "{base}[{table}]\n{key} = {}\n",
                shape.replace("VALUE", value)
            );
            let (_t, f, o) = run_file(&text);
            let err = stderr(&o);
            assert_eq!(code(&o), 2, "{text}: {err}");
            for ty in ["u8", "u16", "u32", "u64", "usize", "i64", "f64"] {
                assert!(!err.contains(&format!("expected {ty}")), "{text}: {err}");
            }
            fails_with(
                &o,
                &[&format!(
                    "{f}:6: key `{table}.{key}`: {}",
                    says.replace("UNIT", unit)
                )],
            );
            // records_per_block takes 1, 2 or 4 here (an exact fit of 16 bytes or
            // more in a 64-byte block): no range, so no range is said.
            if value == "-7" && key == "records_per_block" {
                assert!(!err.contains(" to "), "{text}: {err}");
            } else if value == "-7" && err.contains(" to ") {
                // A range said carries the key's unit (ranges another key bounds, as
                // the time limit bounds crash ticks, are not said).
                assert!(
                    err.contains(&format!(" {unit})")) || err.contains(&format!(" {unit}, ")),
                    "{text}: {err}"
                );
            }
            seen += 1;
        }
    }
    assert_eq!(seen, keys.len() * 4);

    // The same at a sweep axis's value.
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "frac.toml",
        "policies = [\"cow\"]\nseeds = \"1..=2\"\nx = \"device.read_latency_ticks\"\n\
         metrics = [\"response_ticks_mean\"]\n\n[[axis]]\nkey = \"device.read_latency_ticks\"\n\
         values = [10, 2.5]\n\n[scenario.workload]\nkind = \"generated\"\n\
         records = 64\ntransactions = 20\n",
    );
    let o = owm(&["sweep", &f, "--out", &s(&tmp.path().join("o"))]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[&format!(
            "{f}:8: key `device.read_latency_ticks`: with value 2.5: invalid type: floating \
             point `2.5`, expected a whole number (ticks)"
        )],
    );
}

/// A sweep axis's negative value of a count says the key's range at the axis's values
/// (exit 2), as a run file's does.
#[test]
fn a_negative_axis_value_of_a_count_is_refused_with_the_keys_range() {
    let tmp = tempfile::tempdir().unwrap();
    for (key, range) in [
        (
            "workload.transactions",
            // The largest is another key's (`limits.attempts_max`), which a sweep's
            // points may each set apart: not said.
            "must be at least 1\n",
        ),
        (
            "device.read_latency_ticks",
            "must be 0 or more (0 to 1099511627776 ticks)",
        ),
    ] {
        let f = write(
            tmp.path(),
            "neg.toml",
            &format!(
                "policies = [\"cow\"]\nseeds = \"1..=2\"\nx = \"{key}\"\n\
                 metrics = [\"response_ticks_mean\"]\n\n[[axis]]\nkey = \"{key}\"\n\
                 values = [10, -5]\n\n[scenario.workload]\nkind = \"generated\"\n\
                 records = 64\ntransactions = 20\n"
            ),
        );
        let o = owm(&["sweep", &f, "--out", &s(&tmp.path().join("o"))]);
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        fails_with(
            &o,
            &[&format!(
                "{f}:8: key `{key}`: with value -5: -5 is out of range: {range}"
            )],
        );
    }
}

/// An axis value a key refuses is quoted as the file writes it: the string `"40"` with
/// its quotes (not as the number 40 it reads like), `1e3` and `4_0` as written.
#[test]
fn a_refused_axis_value_is_quoted_as_written() {
    let tmp = tempfile::tempdir().unwrap();
    for (written, says) in [
        ("\"40\"", "invalid type: string \"40\""),
        ("1e3", "invalid type: floating point `1000.0`"),
        ("2.50", "invalid type: floating point `2.5`"),
    ] {
        let f = write(
            tmp.path(),
            "w.toml",
            &format!(
                "policies = [\"cow\"]\nseeds = \"1..=2\"\nx = \"workload.transactions\"\n\
                 metrics = [\"response_ticks_mean\"]\n\n[[axis]]\nkey = \"workload.transactions\"\n\
                 values = [10, {written}]\n\n[scenario.workload]\nkind = \"generated\"\n\
                 records = 64\ntransactions = 20\n"
            ),
        );
        let o = owm(&["sweep", &f, "--out", &s(&tmp.path().join("o"))]);
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        fails_with(
            &o,
            &[&format!(
                "{f}:8: key `workload.transactions`: with value {written}: {says}, expected a \
                 whole number (transactions)"
            )],
        );
    }
}

/// A top-level key written after a `[table]` header is read as that table's: the
/// refusal (exit 2, at its line, as an unknown field of the table) says so, for a run
/// file's keys (`policies`, `seed`, the scenario's `keep_history`) after each table,
/// and for a sweep file's after `[[axis]]` and `[scenario]`. A table's own unknown
/// field, and a top-level name inside an inline table, get no such words.
#[test]
fn a_top_level_key_after_a_table_is_refused_with_the_reason() {
    const WORDS: &str =
        "so it is read as that table's: top-level keys come before the first `[table]`";
    let lines = [
        ("policies", "policies = [\"cow\"]"),
        ("seed", "seed = 3"),
        ("keep_history", "keep_history = false"),
    ];
    for table in ["workload", "locking", "device", "backup"] {
        for (key, line) in lines {
            // `[workload]` first (its `kind`), then the table, then the key.
            let head = "[workload]\nkind = \"fig3\"\n";
            let (text, at) = if table == "workload" {
                (format!("{head}{line}\n"), 3)
            } else {
                (format!("{head}[{table}]\n{line}\n"), 4)
            };
            let (_t, f, o) = run_file(&text);
            assert_eq!(code(&o), 2, "{text}: {}", stderr(&o));
            fails_with(
                &o,
                &[
                    &format!("{f}:{at}: key `{table}.{key}`: unknown field `{key}`"),
                    &format!("(`{key}` is a key of a run file's top level, but this line follows `[{table}]`, {WORDS})"),
                ],
            );
        }
    }
    // Not a top-level key, or not a line of its own: no such words.
    for text in [
        "[workload]\nkind = \"fig3\"\n[locking]\npolicy = 3\n",
        "[workload]\nkind = \"generated\"\narrivals = { mode = \"open\", seed = 3 }\n",
    ] {
        let (_t, _f, o) = run_file(text);
        assert_eq!(code(&o), 2, "{text}: {}", stderr(&o));
        assert!(stderr(&o).contains("unknown field"), "{}", stderr(&o));
        assert!(
            !stderr(&o).contains("top-level keys come before"),
            "{}",
            stderr(&o)
        );
    }

    let tmp = tempfile::tempdir().unwrap();
    for (text, at, key, header) in [
        (
            "policies = [\"cow\"]\nseeds = \"1..=2\"\n[[axis]]\nkey = \"workload.transactions\"\n\
             values = [10, 20]\nx = \"workload.transactions\"\n[scenario.workload]\nkind = \"fig3\"\n",
            6,
            "axis.0.x",
            "[[axis]]",
        ),
        (
            "seeds = \"1..=2\"\n[[axis]]\nkey = \"workload.transactions\"\nvalues = [10, 20]\n\
             [scenario]\npolicies = [\"cow\"]\n[scenario.workload]\nkind = \"fig3\"\n",
            6,
            "scenario.policies",
            "[scenario]",
        ),
    ] {
        let f = write(tmp.path(), "sweep.toml", text);
        let o = owm(&["sweep", &f, "--out", &s(&tmp.path().join("o"))]);
        assert_eq!(code(&o), 2, "{text}: {}", stderr(&o));
        let last = key.rsplit('.').next().unwrap();
        fails_with(
            &o,
            &[
                &format!("{f}:{at}: key `{key}`: unknown field `{last}`"),
                &format!("(`{last}` is a key of a sweep file's top level, but this line follows `{header}`, {WORDS})"),
            ],
        );
    }
}

/// Each `[faults]` probability's range in scenarios/README.md's table is the one the
/// check enforces: a key documented "below 1" refuses 1.0 saying so, one documented
/// "0 to 1" refuses only above 1.
#[test]
fn fault_probability_ranges_are_the_documented_ones() {
    let readme = std::fs::read_to_string(repo().join("scenarios/README.md")).unwrap();
    let keys = [
        "read_error_probability",
        "write_error_probability",
        "torn_write_probability",
        "lost_write_probability",
        "latency_spike_probability",
        "backup_read_error_probability",
        "archive_write_error_probability",
        "misdirected_write_probability",
        "corrupt_block_probability",
    ];
    for key in keys {
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{key}` | `")))
            .unwrap_or_else(|| panic!("{key}: no row in the [faults] table"));
        let below_one = row.contains("below 1");
        assert!(below_one || row.contains("0 to 1"), "{row}");
        let (value, why) = if below_one {
            ("1.0", "1.0 is out of range: must be at least 0 and below 1")
        } else {
            (
                "1.5",
                "1.5 is out of range: must be at least 0 and at most 1",
            )
        };
        let (_tmp, f, o) = run_file(&format!("[faults]\n{key} = {value}\n"));
        assert_eq!(code(&o), 2, "{key}: {}", stderr(&o));
        fails_with(
            &o,
            &[&format!("{f}:2:"), &format!("key `faults.{key}`"), why],
        );
    }
}

/// A value past an end of a key's own range (its checks', not its type's) is refused
/// with both ends and the unit, as a value past its type's range is: above the key's
/// largest, below its least, a tick count past 2^40, a count past its own bound; in a
/// run file and at a sweep's `[scenario]` alike (exit 2).
#[test]
fn a_value_past_a_keys_own_range_is_refused_with_both_ends() {
    let base = "policies = [\"cow\"]\n[workload]\nkind = \"generated\"\ntransactions = 20\n";
    for (text, line, key, range) in [
        (
            "[device]\nchannels = 65537\n",
            6,
            "device.channels",
            "65537 is out of range: must be at most 65536 (1 to 65536 channels)",
        ),
        (
            "[device]\nchannels = 0\n",
            6,
            "device.channels",
            "0 is out of range: must be at least 1 (1 to 65536 channels)",
        ),
        (
            "[backup]\nperiod_ticks = 1000\ncycles = 20000\n",
            7,
            "backup.cycles",
            // 1 cycle leaves the period of no effect: the least is another key's, so
            // only the largest, which passes, is said.
            "20000 is out of range: must be at most 10000\n",
        ),
        (
            "[backup]\nrequest_at_ticks = 2000000000000\n",
            6,
            "backup.request_at_ticks",
            // Its own end is 2^40; the time limit's (10^12 ticks by default) comes first,
            // so no range is said.
            "2000000000000 is out of range: must be at most 999999999900 (0 to 999999999900 \
             ticks): past it `limits.time_ticks_max` as the file has it refuses the run, \
             though the key's own largest is 1099511627776; a value near it runs, but may \
             stop at that limit before the backup ends (exit 3)\n",
        ),
        (
            "[limits]\nevents_max = 0\n",
            6,
            "limits.events_max",
            // Its own least is 1; 20 transactions make 20 events at least, so the
            // least is said with what the other keys do to it.
            "0 is out of range: must be at least 1 (its own least; the file's other keys \
             as they are ask more)\n",
        ),
    ] {
        let (_t, f, o) = run_file(&format!("{base}{text}"));
        assert_eq!(code(&o), 2, "{text}: {}", stderr(&o));
        fails_with(&o, &[&format!("{f}:{line}: key `{key}`: {range}")]);
    }
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "s.toml",
        "policies = [\"cow\"]\nseeds = [1]\n[scenario.workload]\nkind = \"generated\"\n\
         transactions = 20\n[scenario.device]\nchannels = 65537\n",
    );
    let o = owm(&["sweep", &f, "--out", &s(&tmp.path().join("o"))]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[&format!(
            "{f}:7: key `scenario.device.channels`: 65537 is out of range: must be at most \
             65536 (1 to 65536 channels)"
        )],
    );
}

/// A refusal of a key the file leaves at its default is placed at the key the file
/// sets that drives it, with its line: a bank's `amount_max` that would take the
/// default balance past an `i64` (at that key, the larger share, with its largest), VLUN B ready past the file's time limit
/// with the setup window and request at their defaults, and a default request (the
/// workload's own time) that the file's arrival spacing puts past the time limit.
#[test]
fn a_default_keys_refusal_is_placed_at_the_key_the_file_sets_that_drives_it() {
    let amount = (i64::MAX - 1000) / 300 + 1;
    let transfers = format!(
        "{amount} is out of range: 300 transfers of up to {amount} from \
         workload.initial_balance = 1000 could leave a record's value outside -{max} to {max}: \
         must be at most {}",
        amount - 1,
        max = i64::MAX
    );
    for (text, line, key, words) in [
        (
            format!("policies = [\"cow\"]\n[workload]\nkind = \"bank\"\namount_max = {amount}\n"),
            4,
            "workload.amount_max",
            transfers.as_str(),
        ),
        (
            "policies = [\"cow\"]\n[workload]\nkind = \"bank\"\ntransactions = 50\n\
             [limits]\ntime_ticks_max = 2550\n"
                .to_string(),
            6,
            "limits.time_ticks_max",
            "`backup.setup_window_ticks` (at its default, not set in the file): VLUN B would \
             be ready at tick 2600",
        ),
        (
            "policies = [\"cow\"]\n[workload]\nkind = \"bank\"\n\
             arrival_ticks_mean = 7000000000\n"
                .to_string(),
            4,
            "workload.arrival_ticks_mean",
            "`limits.time_ticks_max` (at its default, not set in the file): the backup \
             request at tick 1050000000000 is past",
        ),
    ] {
        let (_t, f, o) = run_file(&text);
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        fails_with(&o, &[&format!("{f}:{line}: key `{key}`: {words}")]);
    }
}

/// `owm run --seed` outside 0 to 2^63 - 1, or not a whole number, is refused (exit 2)
/// with the seeds' range, never a parser's words; both ends run.
#[test]
fn a_run_seed_out_of_range_is_refused_with_the_range() {
    for (seed, words) in [
        (
            "-1",
            "-1 is out of range: must be 0 or more (0 to 9223372036854775807)",
        ),
        (
            "9223372036854775808",
            "9223372036854775808 is out of range: must be at most 9223372036854775807",
        ),
        (
            "1.5",
            "`1.5` is not a whole number: a seed is 0 to 9223372036854775807",
        ),
    ] {
        let o = owm(&["run", "scenarios/fig3.toml", "--seed", seed]);
        assert_eq!(code(&o), 2, "{seed}: {}", stderr(&o));
        assert!(stderr(&o).contains(words), "{seed}: {}", stderr(&o));
        assert!(!stderr(&o).contains("invalid digit"), "{}", stderr(&o));
    }
    let tmp = tempfile::tempdir().unwrap();
    for seed in ["0", "9223372036854775807"] {
        let out = s(&tmp.path().join(seed));
        ok(&owm(&[
            "run",
            "scenarios/fig3.toml",
            "--seed",
            seed,
            "--out",
            &out,
        ]));
    }
}

/// A bound the file leaves at its default, refused through two keys it sets, is placed
/// at the one that causes it: the key whose default alone lets the checks pass, of two
/// such the one set furthest from its default. Each case then passes with that key
/// set back, and stays refused with the other key set back.
#[test]
fn a_defaulted_bound_is_refused_at_the_key_that_causes_it() {
    let generated = |transactions: u64, interarrival: u64, limits: &str| {
        format!(
            "policies = [\"cow\"]\nkeep_timeline = false\n[workload]\nkind = \"generated\"\n\
             records = 64\ntransactions = {transactions}\nlength_max = 4\n\
             arrivals = {{ mode = \"open\", interarrival_ticks_mean = {interarrival} }}\n{limits}"
        )
    };
    let many = "[limits]\nattempts_max = 2000000000\nevents_max = 20000000000\n\
                memory_bytes_max = 1099511627776\noutput_bytes_max = 1099511627776\n";
    let period = |period: u64, cycles: u64| {
        format!(
            "policies = [\"cow\"]\n[workload]\nkind = \"generated\"\nrecords = 64\n\
             transactions = 100\n[backup]\nrequest_at_ticks = 1000\n\
             period_ticks = {period}\ncycles = {cycles}\n"
        )
    };
    let limit = "`limits.time_ticks_max` (at its default, not set in the file)";
    // (text, line and key refused, the same text with that key set back, with another
    // key it sets set back)
    let cases = [
        // A long time between arrivals, not the 1000 transactions.
        (
            generated(1000, 100_000_000_000, ""),
            (8, "workload.arrivals.interarrival_ticks_mean"),
            generated(1000, 300, ""),
            generated(100, 100_000_000_000, ""),
        ),
        // A billion transactions, not 10000 ticks between them.
        (
            generated(1_000_000_000, 10_000, many),
            (6, "workload.transactions"),
            generated(1000, 10_000, many),
            generated(1_000_000_000, 300, many),
        ),
        // The period, not the request the file sets.
        (
            period(999_999_999_999, 2),
            (8, "backup.period_ticks"),
            period(1000, 2),
            period(999_999_999_999, 2).replace("request_at_ticks = 1000\n", ""),
        ),
    ];
    for (text, (line, key), mended, other) in cases {
        let (_t, f, o) = run_file(&text);
        assert_eq!(code(&o), 2, "{text}: {}", stderr(&o));
        fails_with(&o, &[&format!("{f}:{line}: key `{key}`: {limit}")]);
        let (_t, _f, o) = run_file(&mended);
        assert!(!stderr(&o).contains(limit), "{mended}: {}", stderr(&o));
        let (_t, _f, o) = run_file(&other);
        assert_eq!(code(&o), 2, "{other}: {}", stderr(&o));
    }
}

/// Bank transfers that pass an `i64` only beside the initial balance are refused at the
/// larger share: a huge `amount_max` beside a balance of 1000 at `amount_max`, with the
/// largest that runs (and it runs); a balance near the end beside small transfers at
/// `initial_balance`.
#[test]
fn values_past_an_i64_are_refused_at_the_larger_share() {
    let max = i64::MAX;
    let bank = |balance: i64, amount: i64| {
        format!(
            "policies = [\"cow\"]\n[workload]\nkind = \"bank\"\naccounts = 64\n\
             transactions = 100\ninitial_balance = {balance}\namount_max = {amount}\n"
        )
    };
    // 100 transfers move at most 100 × amount: past the end by less than the balance.
    let said = (max - 1000) / 100;
    let (_t, f, o) = run_file(&bank(1000, said + 1));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[&format!(
            "{f}:7: key `workload.amount_max`: {} is out of range: 100 transfers of up to {} \
             from workload.initial_balance = 1000 could leave a record's value outside \
             -{max} to {max}: must be at most {said}",
            said + 1,
            said + 1
        )],
    );
    let (_t, _f, o) = run_file(&bank(1000, said));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let (_t, f, o) = run_file(&bank(max - 9_000, 100));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[&format!(
            "{f}:6: key `workload.initial_balance`: {} is out of range",
            max - 9_000
        )],
    );
    // Of the work's two keys, the one set further from its default: the count, where
    // the file raises it and leaves the amount at its default (100), in a bank and in
    // fig4-5 (whose steps, updates of up to 9, have no key), with the count's largest.
    let limits = "[limits]\nattempts_max = 9223372036854775807\n\
                  events_max = 9223372036854775807\nmemory_bytes_max = 9223372036854775807\n\
                  output_bytes_max = 9223372036854775807\ntime_ticks_max = 9223372036854775807\n";
    for (kind, initial, transactions, step) in [
        ("bank", "", 100_000_000_000_000_000_i64, 100),
        (
            "fig4-5",
            "initial_value = 4000000000000000000\n",
            600_000_000_000_000_000,
            9,
        ),
    ] {
        let (_t, f, o) = run_file(&format!(
            "policies = [\"cow\"]\n[workload]\nkind = \"{kind}\"\n{initial}\
             transactions = {transactions}\n{limits}"
        ));
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        let (value, what, key) = match initial {
            "" => (1000, "transfers", "initial_balance"),
            _ => (4_000_000_000_000_000_000, "updates", "initial_value"),
        };
        fails_with(
            &o,
            &[&format!(
                "{f}:{}: key `workload.transactions`: {transactions} is out of range: as many \
                 {what} of up to {step} from workload.{key} = {value} could leave a record's \
                 value outside -{max} to {max}: must be at most {}",
                4 + usize::from(!initial.is_empty()),
                (max - value) / step
            )],
        );
    }
}

/// A check's own note beside its end is kept with the range's words: the block size's
/// 16 MiB, said as its own largest where the volume bound refuses it, plainly where it
/// runs; the records' 32-bit lock ids with the whole blocks that hold them, the
/// largest said passing the lock-id check and the next refused by it.
#[test]
fn a_checks_note_is_kept_beside_the_range_words() {
    let blocks = |records: u64, size: u64| {
        format!(
            "policies = [\"cow\"]\n[workload]\nkind = \"generated\"\nrecords = {records}\n\
             transactions = 100\n[geometry]\nblock_size_bytes = {size}\n"
        )
    };
    let note = "must be at most 16777216 (16 MiB; a run holds whole blocks in memory";
    let (_t, f, o) = run_file(&blocks(1_000_000, 33_554_432));
    fails_with(
        &o,
        &[&format!(
            "{f}:7: key `geometry.block_size_bytes`: 33554432 is out of range: {note}; its \
             own largest; the file's other keys as they are allow less)"
        )],
    );
    let (_t, _f, o) = run_file(&blocks(1_000_000, 16_777_216));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let (_t, f, o) = run_file(&blocks(64, 33_554_432));
    fails_with(
        &o,
        &[&format!(
            "{f}:7: key `geometry.block_size_bytes`: 33554432 is out of range: {note})\n"
        )],
    );
    let (_t, _f, o) = run_file(&blocks(64, 16_777_216));
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    let records = |n: u64| {
        format!(
            "policies = [\"cow\"]\n[workload]\nkind = \"generated\"\nrecords = {n}\n\
             transactions = 100\n[limits]\nvolume_bytes_max = 1099511627776000\n"
        )
    };
    let lock_ids = "(lock ids are 32-bit, and the volume holds whole blocks of 4 records: \
                    1073741823 blocks";
    let (_t, f, o) = run_file(&records(4_294_967_295));
    fails_with(
        &o,
        &[&format!(
            "{f}:4: key `workload.records`: 4294967295 is out of range: must be at most \
             4294967292 {lock_ids}"
        )],
    );
    let (_t, _f, o) = run_file(&records(4_294_967_292));
    assert!(!stderr(&o).contains("lock ids"), "{}", stderr(&o));
}

/// A negative value of a key whose 0 the file's other keys refuse is said with the
/// key's own least and that the others ask more, not "must not be negative"; an item
/// of several (not probed alone) with its own least plainly, a least said in the
/// `1..=N` form read as one, a key of no effect refused as such.
#[test]
fn a_negative_value_whose_zero_others_refuse_names_the_own_least() {
    let fig3 = "policies = [\"cow\"]\n[workload]\nkind = \"fig3\"\n";
    for (text, line, key, words) in [
        (
            "[backup]\nschedule_at_ticks = [-1, 1000]\n",
            5,
            "backup.schedule_at_ticks",
            "-1 is out of range: must be 0 or more\n",
        ),
        (
            "[faults]\ncrash_at_ticks = [-1, 500]\n",
            5,
            "faults.crash_at_ticks",
            "-1 is out of range: must be 0 or more\n",
        ),
        (
            "[backup]\ncycles = 2\nperiod_ticks = -1\n",
            6,
            "backup.period_ticks",
            // No range: past its largest the request, then VLUN B ready, pass the time
            // limit (two keys refuse near the end, counted from fig3's request).
            "-1 is out of range: must be at least 1\n",
        ),
    ] {
        let (_t, f, o) = run_file(&format!("{fig3}{text}"));
        assert_eq!(code(&o), 2, "{text}: {}", stderr(&o));
        fails_with(&o, &[&format!("{f}:{line}: key `{key}`: {words}")]);
        // The least said passes where it is said plainly.
        let least = match words.contains("at least 1") {
            true => text.replacen("-1", "1", 1),
            false => text.replacen("-1", "0", 1),
        };
        let (_t, _f, o) = run_file(&format!("{fig3}{least}"));
        assert_eq!(code(&o), 0, "{least}: {}", stderr(&o));
    }
    let (_t, f, o) = run_file(&format!("retry_backoff_ticks = -1\n{fig3}"));
    fails_with(
        &o,
        &[&format!("{f}:1: key `retry_backoff_ticks`: has no effect")],
    );
    let (_t, f, o) = run_file(
        "policies = [\"cow\"]\n[workload]\nkind = \"generated\"\nrecords = 64\n\
         transactions = 100\ncompute_ticks_min = 20\ncompute_ticks_max = -5\n",
    );
    fails_with(
        &o,
        &[&format!(
            "{f}:7: key `workload.compute_ticks_max`: -5 is out of range: must be 0 or more \
             (its own least; the file's other keys as they are ask more)"
        )],
    );
    // A least the others refuse where no larger value passes either: not "ask more",
    // but the refusal of the least itself, which says why.
    let (_t, f, o) = run_file(
        "policies = [\"cow\"]\n[workload]\nkind = \"generated\"\nrecords = 64\n\
         transactions = 100\nlength_min = 0\nlength_max = 0\n",
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[&format!(
            "{f}:6: key `workload.length_min`: 0 is out of range: must be at least 1 (its own \
             least, which the file's other keys as they are refuse: 1 is greater than \
             length_max = 0)\n"
        )],
    );
}

/// A key the file sets, refused with words naming another key the file sets, is
/// refused at the one that causes it: a time limit lowered below fig3's own request,
/// an attempts limit below the transactions; the key itself where its own default
/// lets the file pass too (a request past a time limit set just before it).
#[test]
fn a_refusal_naming_another_key_the_file_sets_is_placed_at_the_cause() {
    let fig3 = "policies = [\"cow\"]\n[workload]\nkind = \"fig3\"\n";
    for (text, line, key) in [
        (
            format!("{fig3}[backup]\nrequest_at_ticks = 350\n[limits]\ntime_ticks_max = 400\n"),
            7,
            "limits.time_ticks_max",
        ),
        (
            "policies = [\"cow\"]\n[workload]\nkind = \"generated\"\nrecords = 64\n\
             transactions = 1000\n[limits]\nattempts_max = 5\n"
                .to_string(),
            7,
            "limits.attempts_max",
        ),
        (
            format!(
                "{fig3}[backup]\nrequest_at_ticks = 500000000000\n\
                 [limits]\ntime_ticks_max = 500000000050\n"
            ),
            5,
            "backup.request_at_ticks",
        ),
    ] {
        let (_t, f, o) = run_file(&text);
        assert_eq!(code(&o), 2, "{text}: {}", stderr(&o));
        fails_with(&o, &[&format!("{f}:{line}: key `{key}`: ")]);
        // The key named, left out, lets the file pass.
        let without: String = text
            .lines()
            .filter(|l| !l.starts_with(key.rsplit('.').next().unwrap()))
            .map(|l| format!("{l}\n"))
            .collect();
        let (_t, _f, o) = run_file(&without);
        assert_eq!(code(&o), 0, "{without}: {}", stderr(&o));
    }
}

/// A default request (half the arrivals' mean span) past every time limit a file can
/// give is refused with its exact tick, not a saturated one that the largest time
/// limit lets pass, and at the key the file sets whose default alone lets the checks
/// pass (the count: the time between arrivals at its default leaves 10^8 transfers past
/// the memory bound); a request the file gives instead is not this refusal.
#[test]
fn a_default_request_past_every_time_limit_is_refused_with_its_exact_tick() {
    let file = |request: &str| {
        format!(
            "policies = [\"cow\"]\n{request}[workload]\nkind = \"bank\"\naccounts = 64\n\
             transactions = 100000000\narrival_ticks_mean = 1099511627776\n\
             [limits]\nattempts_max = 200000000\nevents_max = 9223372036854775807\n\
             time_ticks_max = 9223372036854775807\n"
        )
    };
    let exact = 100_000_000_u128 * 1_099_511_627_776 / 2;
    assert!(exact > u128::from(u64::MAX) / 2);
    let (_t, f, o) = run_file(&file(""));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[&format!(
            "{f}:5: key `workload.transactions`: `backup.request_at_ticks` (at its \
             default, not set in the file): the default request, half the arrivals' mean \
             span (100000000 transactions × 1099511627776 ticks / 2), would come at tick \
             {exact}, past 9223372036854775807, the largest limits.time_ticks_max"
        )],
    );
    let (_t, _f, o) = run_file(&file("[backup]\nrequest_at_ticks = 1000\n"));
    assert!(!stderr(&o).contains("default request"), "{}", stderr(&o));
}

/// A defaulted bound refused at a key the file sets names the largest value of that key
/// the checks accept with the rest as written, and that value runs while the next is
/// refused; a key whose least is refused too (a count whose smallest still passes
/// the memory bound) gets no such words.
#[test]
fn a_defaulted_bound_placed_at_a_key_names_how_far_that_key_passes() {
    let generated = |lines: &str| {
        format!("policies = [\"cow\"]\n[workload]\nkind = \"generated\"\nrecords = 1024\n{lines}")
    };
    let interarrival = |v: u64| {
        generated(&format!(
            "transactions = 20\narrivals = {{ mode = \"open\", interarrival_ticks_mean = {v} }}\n"
        ))
    };
    let (_t, f, o) = run_file(&interarrival(1_000_000_000_000));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    // 20 arrivals: the default request at 10 × the mean, VLUN B ready 100 ticks later,
    // within the default time limit of 10^12 ticks.
    let largest = (1_000_000_000_000 - 100) / 10;
    fails_with(
        &o,
        &[&format!(
            "{f}:6: key `workload.arrivals.interarrival_ticks_mean`: `limits.time_ticks_max` \
             (at its default, not set in the file): the backup request at tick \
             10000000000000 is past limits.time_ticks_max = 1000000000000: the run would \
             stop at that limit (exit 3); raise `limits.time_ticks_max` or request the \
             backup earlier; with the file's other keys as they are, \
             `workload.arrivals.interarrival_ticks_mean` passes up to {largest}: a value \
             near it runs, but may stop at that limit before the backup ends (exit 3)\n"
        )],
    );
    let (_t, _f, o) = run_file(&interarrival(largest + 1));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    // It runs: here it stops at the limit during the archive copy (exit 3), as said.
    let (_t, _f, o) = run_file(&interarrival(largest));
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    // The volume bound at the records: 1 GiB of 16-byte blocks.
    let (_t, f, o) = run_file(&generated("").replace("records = 1024", "records = 1000000000"));
    fails_with(
        &o,
        &[&format!(
            "{f}:4: key `workload.records`: `limits.volume_bytes_max` (at its default, not \
             set in the file): the volume of 16000000000 bytes exceeds \
             limits.volume_bytes_max = 1073741824; raise limits.volume_bytes_max (or give \
             fewer records or smaller blocks); with the file's other keys as they are, \
             `workload.records` passes up to 67108864\n"
        )],
    );
    // No count of this length passes the memory bound: nothing said of how far.
    let (_t, f, o) = run_file(
        &generated("transactions = 1000000\nlength_max = 10000\n")
            .replace("records = 1024", "records = 100000"),
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &[&format!("{f}:6: key `workload.length_max`")]);
    assert!(!stderr(&o).contains("passes up to"), "{}", stderr(&o));
}
