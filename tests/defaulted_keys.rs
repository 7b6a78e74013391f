//! A check that fails on a key the file leaves at its default is refused at the line
//! of the key the file sets that drives it (`Scenario::drivers_of`), naming the
//! defaulted key and what to raise: "FILE:LINE: key `workload.records`:
//! `limits.volume_bytes_max` (at its default, not set in the file): the volume of N
//! bytes exceeds limits.volume_bytes_max = M; raise limits.volume_bytes_max ...",
//! exit 2.

use crate::util::*;

/// `text` is refused with exit 2 at `line`, key `key`, naming the defaulted key
/// `default` and the words `why`; nothing is written.
fn refused_for_a_default(text: &str, line: usize, key: &str, default: &str, why: &str) {
    let (t, f, o) = run_file(text);
    assert_eq!(code(&o), 2, "{text}: {}", stderr(&o));
    fails_with(
        &o,
        &[
            &format!(
                "{f}:{line}: key `{key}`: `{default}` (at its default, not set in the file): "
            ),
            why,
        ],
    );
    assert!(
        !stderr(&o).contains("(the default; set it in the file)"),
        "{}",
        stderr(&o)
    );
    assert!(!t.path().join("o").exists(), "nothing written");
}

#[test]
fn a_volume_over_the_default_bound_is_refused_at_the_key_that_sizes_it() {
    // 10^8 records, 4 per 64-byte block: 1.6 GB, over the default 1 GiB.
    let text = "policies = [\"cow\"]\n[workload]\nkind = \"generated\"\nrecords = 100000000\ntransactions = 10\n";
    refused_for_a_default(
        text,
        4,
        "workload.records",
        "limits.volume_bytes_max",
        "the volume of 1600000000 bytes exceeds limits.volume_bytes_max = 1073741824; raise limits.volume_bytes_max",
    );
    // A `[limits]` table without the key changes nothing.
    refused_for_a_default(
        &format!("{text}[limits]\nevents_max = 1000000\n"),
        4,
        "workload.records",
        "limits.volume_bytes_max",
        "exceeds limits.volume_bytes_max = 1073741824",
    );
    // The bank's accounts; the geometry when the workload keeps its default records.
    refused_for_a_default(
        "[workload]\nkind = \"bank\"\n\naccounts = 100000000\n",
        4,
        "workload.accounts",
        "limits.volume_bytes_max",
        "exceeds limits.volume_bytes_max",
    );
    refused_for_a_default(
        "[workload]\nkind = \"generated\"\n[geometry]\nrecords_per_block = 1\nblock_size_bytes = 8388608\n",
        5,
        "geometry.block_size_bytes",
        "limits.volume_bytes_max",
        "the volume of 2147483648 bytes exceeds",
    );
    // Set in the file, the bound itself is at fault.
    let (_t, f, o) = run_file(&format!("{text}[limits]\nvolume_bytes_max = 1000\n"));
    fails_with(
        &o,
        &[&format!(
            "{f}:7: key `limits.volume_bytes_max`: the volume of"
        )],
    );
}

#[test]
fn a_dense_copy_over_the_default_bound_is_refused_at_the_records() {
    // 2 × 10^7 blocks of 16 bytes, copied densely: over the default 2^24 blocks.
    let text = "policies = [\"cow\"]\n[workload]\nkind = \"generated\"\nrecords = 20000000\ntransactions = 10\n[geometry]\nblock_size_bytes = 16\nrecords_per_block = 1\n";
    refused_for_a_default(
        text,
        4,
        "workload.records",
        "limits.archive_blocks_max",
        "more than limits.archive_blocks_max = 16777216",
    );
}

#[test]
fn a_run_over_the_default_memory_bound_is_refused_at_its_transactions() {
    let text = "policies = [\"cow\"]\n\
                [workload]\nkind = \"generated\"\nrecords = 268435456\ntransactions = 100000000\n\
                [geometry]\nblock_size_bytes = 4096\nrecords_per_block = 1\n\
                [limits]\nvolume_bytes_max = 2199023255552\nattempts_max = 100000000\n";
    refused_for_a_default(
        text,
        5,
        "workload.transactions",
        "limits.memory_bytes_max",
        "the run would hold about",
    );
}

#[test]
fn a_default_minimum_over_the_maximum_given_is_refused_at_the_maximum() {
    for (text, line, key, default) in [
        (
            "[workload]\nkind = \"fig3\"\nupdates_max = 1\n",
            3,
            "workload.updates_max",
            "workload.updates_min",
        ),
        (
            "[workload]\nkind = \"generated\"\ntransactions = 5\ncompute_ticks_max = 2\n",
            4,
            "workload.compute_ticks_max",
            "workload.compute_ticks_min",
        ),
        (
            "[workload]\nkind = \"bank\"\ncompute_ticks_max = 1\n",
            3,
            "workload.compute_ticks_max",
            "workload.compute_ticks_min",
        ),
    ] {
        refused_for_a_default(text, line, key, default, "is greater than");
    }
}

#[test]
fn a_default_records_per_block_too_many_for_the_block_is_refused_at_the_block_size() {
    refused_for_a_default(
        "[geometry]\nblock_size_bytes = 32\n",
        2,
        "geometry.block_size_bytes",
        "geometry.records_per_block",
        "4 records per 32-byte block leaves 8 bytes per record",
    );
}

#[test]
fn a_default_lost_write_share_over_the_torn_share_given_is_refused_at_the_torn_share() {
    refused_for_a_default(
        "policies = [\"cow\"]\n[faults]\ncrash_at_ticks = [300]\ntorn_write_probability = 0.9\n",
        4,
        "faults.torn_write_probability",
        "faults.lost_write_probability",
        "torn_write_probability + lost_write_probability exceeds 1",
    );
}

/// In a sweep the key that drives the check may be an axis: the refusal names the
/// axis's line, key and value.
#[test]
fn a_sweep_axis_driving_a_default_bound_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "big.toml",
        "policies = [\"cow\"]\n[[axis]]\nkey = \"workload.records\"\nvalues = [100, 100000000]\n[scenario.workload]\nkind = \"generated\"\ntransactions = 10\n",
    );
    let o = owm(&["sweep", &f, "--out", &s(&tmp.path().join("o"))]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            &format!("{f}:4: key `workload.records`: with value 100000000:"),
            "`limits.volume_bytes_max` (at its default, not set in the file)",
        ],
    );
}

/// A trace's records come from its file: a trace touching more blocks than lock ids
/// can number is refused at `workload.path` (the file sets no `workload.records`),
/// naming the trace's line that reaches the highest block and the way out.
#[test]
fn a_trace_with_too_many_records_is_refused_at_its_path() {
    let tmp = tempfile::tempdir().unwrap();
    // One 4 KiB write at 2^45 bytes: block 2^33 of 4 KiB blocks.
    write(tmp.path(), "far.csv", "0,W,35184372088832,4096\n");
    let f = write(
        tmp.path(),
        "far.toml",
        "policies = [\"cow\"]\n[workload]\nkind = \"trace\"\nformat = \"csv\"\npath = \"far.csv\"\n[geometry]\nblock_size_bytes = 4096\nrecords_per_block = 1\n",
    );
    let o = owm(&["run", &f, "--out", &s(&tmp.path().join("o"))]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            &format!("{f}:5: key `workload.path`: "),
            "far.csv:1: the I/O at this line reaches block 8589934592",
            "hold 8589934593 records (1 a block): at most 4294967295",
            "workload.addresses = \"dense\"",
        ],
    );
}

/// A limit set in the file that a defaulted workload key passes is refused at the
/// limit's line: `time_ticks_max = 0` against the default compute time, never at the
/// `[workload]` header the file leaves that key under.
#[test]
fn a_time_limit_below_the_default_compute_time_is_refused_at_the_limit() {
    refused_for_a_default(
        "policies = [\"cow\"]\n[workload]\nkind = \"generated\"\ntransactions = 10\n[limits]\ntime_ticks_max = 0\n",
        6,
        "limits.time_ticks_max",
        "workload.compute_ticks_min",
        "every transaction computes at least 5 ticks, past limits.time_ticks_max = 0",
    );
}
