//! Extreme values at every numeric key: `owm run` refuses them (exit 2, file, line and
//! key) or runs them to a verdict (exit 0 or 1) or to a limit (exit 3, naming the
//! limit's key); never a panic, a hang or an allocation past memory.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};

use crate::util::*;

#[test]
fn a_block_past_16_mib_is_refused_at_its_key() {
    // Even with the volume's limit raised past the volume: a run holds whole blocks.
    let text = "policies = [\"cow\"]\n[workload]\nkind = \"fig3\"\nrecords = 1\n\
                [geometry]\nblock_size_bytes = 1099511627776\nrecords_per_block = 1\n\
                [limits]\nvolume_bytes_max = 4611686018427387904\n";
    refused_at_their_keys(&[(
        text,
        6,
        "geometry.block_size_bytes",
        "must be at most 16777216",
    )]);
}

#[test]
fn a_volume_whose_bytes_overflow_is_refused_at_the_record_count() {
    // 2^24-byte blocks × 2^40 blocks = 2^64 bytes: wrapped to 0, this passed every
    // limit and the run aborted allocating; now refused before the run, at the key
    // whose count reaches 2^62 (a block is at most 2^32 bytes), naming the block size
    // as the other way out. Also with the block size at its default, not in the file.
    let big_blocks =
        "policies = [\"cow\"]\n[workload]\nkind = \"generated\"\nrecords = 1099511627776\n\
                [geometry]\nblock_size_bytes = 16777216\nrecords_per_block = 1\n";
    let default_blocks =
        "policies = [\"cow\"]\n[workload]\nkind = \"fig3\"\nrecords = 9223372036854775807\n";
    let accounts =
        "policies = [\"cow\"]\n[workload]\nkind = \"bank\"\naccounts = 9223372036854775807\n";
    refused_at_their_keys(&[
        (big_blocks, 4, "workload.records", "(2^62)"),
        (
            default_blocks,
            4,
            "workload.records",
            "geometry.block_size_bytes",
        ),
        (accounts, 4, "workload.accounts", "(2^62)"),
    ]);
}

#[test]
fn a_huge_value_is_not_echoed_whole() {
    let ones = vec!["1"; 100_000].join(",");
    let (_t, f, o) = run_file(&format!("seed = [{ones}]\n"));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &[&format!("{f}:1:"), "key `seed`", "more characters)"]);
    assert!(stderr(&o).len() < 2_000, "{} bytes", stderr(&o).len());
}

#[test]
fn archive_faults_failing_every_pass_stop_at_the_archive_limit() {
    // Every pass of 16 blocks meets a failed read at 0.9: copied again and again until
    // limits.archive_blocks_max, then exit 3 naming it (it spun to events_max before).
    let text = "policies = [\"mirroring\"]\n[workload]\nkind = \"bank\"\naccounts = 64\n\
                transactions = 20\n[faults]\nbackup_read_error_probability = 0.9\n\
                [limits]\narchive_blocks_max = 4000\n";
    let (_t, f, o) = run_file(text);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            &format!("{f}:9:"),
            "key `limits.archive_blocks_max`",
            "copied again past 4000 blocks",
        ],
    );
}

/// Shipped run files to start from (their paths need no trace file).
const BASES: [&str; 6] = [
    include_str!("../scenarios/fig3.toml"),
    include_str!("../scenarios/fig4-5.toml"),
    include_str!("../scenarios/bank.toml"),
    include_str!("../scenarios/generated.toml"),
    include_str!("../scenarios/detach.toml"),
    include_str!("../scenarios/faults-integrity.toml"),
];

/// Numeric keys of scenarios/README.md (those a base's workload lacks are refused as
/// unknown, which is checked too).
const KEYS: [&str; 62] = [
    "seed",
    "abort_probability",
    "retry_backoff_ticks",
    "workload.records",
    "workload.accounts",
    "workload.transactions",
    "workload.updates_min",
    "workload.updates_max",
    "workload.jitter_ticks",
    "workload.initial_value",
    "workload.initial_balance",
    "workload.amount_max",
    "workload.arrival_ticks_mean",
    "workload.processes",
    "workload.compute_ticks_min",
    "workload.compute_ticks_max",
    "workload.length_min",
    "workload.length_max",
    "workload.write_fraction",
    "workload.arrivals.interarrival_ticks_mean",
    "workload.hot_spot.exponent",
    "geometry.block_size_bytes",
    "geometry.records_per_block",
    "locking.type_b_blocks",
    "device.read_latency_ticks",
    "device.write_latency_ticks",
    "device.table_update_latency_ticks",
    "device.channels",
    "device.write_channels",
    "device.jitter_ticks_max",
    "device.transfer_bytes_per_s",
    "device.sequential_read_bytes_per_s",
    "device.flush_latency_ticks",
    "device.journal_sync_latency_ticks",
    "backup.request_at_ticks",
    "backup.setup_window_ticks",
    "backup.quiesce_deadline_ticks",
    "backup.quiesce_retries_max",
    "backup.schedule_at_ticks",
    "backup.period_ticks",
    "backup.cycles",
    "backup.data_area_blocks",
    "backup.data_area_fraction",
    "archive.bandwidth_bytes_per_s",
    "archive.extent_blocks",
    "archive.latency_ticks",
    "archive.rate_limit_bytes_per_s",
    "detach.bandwidth_bytes_per_s",
    "detach.extent_blocks",
    "limits.events_max",
    "limits.time_ticks_max",
    "limits.attempts_max",
    "limits.volume_bytes_max",
    "limits.archive_blocks_max",
    "limits.memory_bytes_max",
    "faults.crash_at_ticks",
    "faults.heal_at_ticks",
    "faults.read_error_probability",
    "faults.backup_read_error_probability",
    "faults.archive_write_error_probability",
    "faults.latency_spike_ticks_max",
    "faults.io_retry_ticks",
];

/// Values at the edges of every type, as TOML: integers to the top of i64 and past it
/// (a TOML overflow), floats to 1e308, NaN and -0.0, a fraction where an integer is
/// wanted, empty and wrong-typed values, a table.
const VALUES: [&str; 20] = [
    "0",
    "1",
    "-1",
    "2147483648",
    "9007199254740992",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "1e308",
    "-0.0",
    "0.5",
    "0.9",
    "nan",
    "inf",
    "[]",
    "[0, 9223372036854775807]",
    "\"\"",
    "true",
    "{ a = 1 }",
    "16777216",
];

/// `base` with `key` set to the TOML text `value` (tables made as needed).
fn with_value(base: &str, key: &str, value: &str) -> String {
    let mut doc: toml_edit::DocumentMut = base.parse().expect("a shipped file parses");
    let parts: Vec<&str> = key.split('.').collect();
    let (last, tables) = parts.split_last().expect("a key");
    let mut item = doc.as_item_mut();
    for t in tables {
        if item.get(t).is_none_or(|i| !i.is_table_like()) {
            item[t] = toml_edit::table();
        }
        item = &mut item[t];
    }
    // A value TOML cannot hold (past i64) goes in as text after the key's line.
    match value.parse::<toml_edit::Value>() {
        Ok(v) => {
            item[last] = toml_edit::value(v);
            doc.to_string()
        }
        Err(_) => {
            item[last] = toml_edit::value(0);
            let text = doc.to_string();
            let from = format!("{last} = 0");
            assert!(text.contains(&from), "{text}");
            text.replacen(&from, &format!("{last} = {value}"), 1)
        }
    }
}

fn cases(count: u32) {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(count);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0),
        ..Config::default()
    });
    let edits = prop::collection::vec((0..KEYS.len(), 0..VALUES.len()), 1..3);
    runner
        .run(&(0..BASES.len(), edits), |(base, edits)| {
            let mut text = BASES[base].to_string();
            for &(k, v) in &edits {
                text = with_value(&text, KEYS[k], VALUES[v]);
            }
            let (_t, f, o) = run_file(&text);
            let err = stderr(&o);
            let why = format!("{edits:?} on base {base}:\n{text}\nstderr:\n{err}");
            let code = o.status.code();
            prop_assert!(matches!(code, Some(0..=3)), "exit {code:?}: {why}");
            prop_assert!(!err.contains("panicked"), "{why}");
            prop_assert!(
                err.len() < 64 * 1024,
                "{} bytes of stderr: {why}",
                err.len()
            );
            if code == Some(2) {
                prop_assert!(err.contains(&format!("{f}:")), "no file: {why}");
                prop_assert!(err.contains("key `"), "no key: {why}");
            }
            if code == Some(3) {
                prop_assert!(err.contains("key `limits."), "no limit: {why}");
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn extreme_values_give_a_verdict_a_refusal_or_a_limit() {
    cases(12);
}

#[test]
#[ignore = "long run: cargo test --release --test tests extreme_values -- --ignored"]
fn extreme_values_long() {
    cases(2_000);
}

/// A scenario name past 256 bytes is refused at its key: it is printed in every row of
/// `summary.csv`, every plot title and verdict case, outside the output estimate (a
/// 50 MB name ran for minutes and filled the staging directory). 256 bytes run.
#[test]
fn a_name_past_256_bytes_is_refused_at_its_key() {
    let long = format!(
        "name = \"{}\"\n[workload]\nkind = \"fig3\"\n",
        "n".repeat(257)
    );
    refused_at_their_keys(&[(&long, 1, "name", "is 257 bytes long, more than 256")]);
    let (_t, _f, o) = run_file(&format!(
        "name = \"{}\"\npolicies = [\"none\"]\n[workload]\nkind = \"fig3\"\n",
        "n".repeat(256)
    ));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}
