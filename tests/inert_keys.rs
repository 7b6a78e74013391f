//! No key is accepted without effect: a key that nothing in the runs of the file's
//! policies reads (another key, or the policy set, turns off what it tunes) is refused
//! at its own line, "FILE:LINE: key `KEY`: has no effect ...", exit 2
//! (`sim::inert_keys`). One test per combination; each also runs the file once the
//! key has something to act on, so the refusal is of the combination, not of the key.

use crate::util::*;

/// `text` runs (exit 0, or 1 for a violation the faults cause): not refused.
fn runs(text: &str) {
    let (_t, _f, o) = run_file(text);
    assert!(
        matches!(code(&o), 0 | 1),
        "{text}: exit {}: {}",
        code(&o),
        stderr(&o)
    );
}

/// `text` is refused at `line` and `key` with `why`; `text` with `fix` appended runs.
fn refused_then_runs(text: &str, line: usize, key: &str, why: &str, fix: &str) {
    refused_at_their_keys(&[(text, line, key, why)]);
    runs(&format!("{text}{fix}"));
}

#[test]
fn quiesce_retries_without_a_deadline_are_refused() {
    let text = "policies = [\"quiesce\"]\n[backup]\nquiesce_retries_max = 4\n";
    refused_then_runs(
        text,
        3,
        "backup.quiesce_retries_max",
        "has no effect without backup.quiesce_deadline_ticks",
        "quiesce_deadline_ticks = 50\n",
    );
    let text = "policies = [\"quiesce\"]\n[backup]\n\nquiesce_retry_backoff_ticks = 10\n";
    refused_then_runs(
        text,
        4,
        "backup.quiesce_retry_backoff_ticks",
        "has no effect without backup.quiesce_deadline_ticks",
        "quiesce_deadline_ticks = 50\n",
    );
}

#[test]
fn quiesce_keys_without_the_quiesce_policy_are_refused() {
    let text = "policies = [\"cow\"]\n[backup]\nquiesce_deadline_ticks = 50\n";
    refused_at_their_keys(&[(
        text,
        3,
        "backup.quiesce_deadline_ticks",
        "no policy of the run quiesces",
    )]);
    // Fixed by the policy set, not by another key.
    let (_t, _f, o) = run_file(&text.replace("\"cow\"", "\"cow\", \"quiesce\""));
    ok(&o);
}

#[test]
fn the_baseline_variant_without_a_baseline_policy_is_refused() {
    let text = "policies = [\"mirroring\", \"cow\"]\n[backup]\nbaseline_variant = \"cow\"\n";
    refused_at_their_keys(&[(
        text,
        3,
        "backup.baseline_variant",
        "only `quiesce` and `crash-consistent` run on the baseline variant",
    )]);
    let (_t, _f, o) = run_file(&text.replace("\"cow\"]", "\"crash-consistent\"]"));
    ok(&o);
}

#[test]
fn data_area_keys_without_a_policy_with_a_data_area_are_refused() {
    for (set, key) in [
        ("data_area_blocks = 16", "backup.data_area_blocks"),
        ("data_area_fraction = 0.1", "backup.data_area_fraction"),
    ] {
        let text = format!("policies = [\"none\", \"quiesce\", \"mirroring\"]\n[backup]\n{set}\n");
        refused_at_their_keys(&[(&text, 3, key, "no policy of the run has a data area")]);
        // Copy-on-write keeps one; so does quiesce over a copy-on-write baseline.
        let (_t, _f, o) = run_file(&text.replace("\"mirroring\"", "\"cow\""));
        ok(&o);
        let (_t, _f, o) = run_file(&format!("{text}baseline_variant = \"cow\"\n"));
        ok(&o);
    }
}

/// `on_data_area_full` in both its forms (the name, and TOML's table form of a
/// choice, which reads the same): refused where no data area can fill, taken where one
/// can (a small one under copy-on-write: both forms give the same run).
#[test]
fn on_data_area_full_where_no_data_area_fills_is_refused_in_both_forms() {
    for form in ["\"break-snapshot\"", "{ \"break-snapshot\" = {} }"] {
        let text = format!("policies = [\"mirroring\"]\n[backup]\ndata_area_blocks = 2\non_data_area_full = {form}\n");
        // data_area_blocks is the first refused (line 3): no policy has a data area.
        refused_at_their_keys(&[(
            &text,
            3,
            "backup.data_area_blocks",
            "no policy of the run has a data area",
        )]);
        // A data area that holds the whole volume never fills.
        let text = format!("policies = [\"cow\"]\n[backup]\non_data_area_full = {form}\n");
        refused_at_their_keys(&[(
            &text,
            3,
            "backup.on_data_area_full",
            "the data area holds the whole volume (256 blocks) and never fills",
        )]);
        let whole = format!("{text}data_area_fraction = 1.0\n");
        refused_at_their_keys(&[(&whole, 3, "backup.on_data_area_full", "never fills")]);
    }
    // Where it can fill, both forms run, to the same bytes.
    let run = |form: &str| {
        let (t, _f, o) = run_file(&format!(
            "policies = [\"cow\"]\n[workload]\nkind = \"generated\"\ntransactions = 200\nrecords = 1024\n\
             [archive]\nbandwidth_bytes_per_s = 500000\n\
             [backup]\ndata_area_fraction = 0.02\non_data_area_full = {form}\n"
        ));
        ok(&o);
        std::fs::read_to_string(t.path().join("o/summary.csv")).unwrap()
    };
    assert_eq!(
        run("\"break-snapshot\""),
        run("{ \"break-snapshot\" = {} }")
    );
}

#[test]
fn archive_and_backup_keys_under_no_backup_are_refused() {
    for (table, line, key) in [
        // A whole table without effect is refused at its header.
        ("[archive]\nsparse = true\n", 2, "archive"),
        ("archive = { profile = \"1gbe\" }\n", 2, "archive"),
        ("\narchive.extent_blocks = 8\n", 3, "archive.extent_blocks"),
        ("[detach]\n", 2, "detach"),
        (
            "[backup]\nsetup_window_ticks = 10\n",
            3,
            "backup.setup_window_ticks",
        ),
        (
            "[locking]\ntype_b_blocks = [1]\n",
            3,
            "locking.type_b_blocks",
        ),
        (
            "[faults]\nbackup_read_error_probability = 0.001\n",
            3,
            "faults.backup_read_error_probability",
        ),
    ] {
        let text = format!("policies = [\"none\"]\n{table}");
        refused_at_their_keys(&[(&text, line, key, "no policy of the run backs up")]);
        // The same key runs beside a policy that backs up.
        runs(&text.replace("\"none\"]", "\"none\", \"cow\"]"));
    }
}

#[test]
fn crash_fates_without_a_crash_are_refused() {
    for (key, value) in [
        ("torn_write_probability", "0.1"),
        ("lost_write_probability", "0.1"),
    ] {
        let text = format!("policies = [\"cow\"]\n[faults]\n{key} = {value}\n");
        refused_then_runs(
            &text,
            3,
            &format!("faults.{key}"),
            "has no effect without faults.crash_at_ticks",
            "crash_at_ticks = [300]\n",
        );
    }
}

#[test]
fn a_spike_length_without_spikes_is_refused() {
    let text = "policies = [\"cow\"]\n[faults]\nlatency_spike_ticks_max = 9\n";
    refused_then_runs(
        text,
        3,
        "faults.latency_spike_ticks_max",
        "has no effect without faults.latency_spike_probability above 0",
        "latency_spike_probability = 0.1\n",
    );
}

#[test]
fn an_io_retry_time_without_io_errors_is_refused() {
    let text = "policies = [\"cow\"]\n[faults]\ncrash_at_ticks = [300]\nio_retry_ticks = 9\n";
    refused_then_runs(
        text,
        4,
        "faults.io_retry_ticks",
        "has no effect without an I/O error to retry",
        "read_error_probability = 0.05\n",
    );
}

#[test]
fn a_heal_time_without_faults_is_refused() {
    let text = "policies = [\"cow\"]\n[faults]\nheal_at_ticks = 400\n";
    refused_then_runs(
        text,
        3,
        "faults.heal_at_ticks",
        "no fault is injected",
        "read_error_probability = 0.05\n",
    );
}

#[test]
fn a_rate_limit_at_or_above_the_targets_bandwidth_is_refused() {
    let text = "policies = [\"cow\"]\n[archive]\nbandwidth_bytes_per_s = 1000000\nrate_limit_bytes_per_s = 1000000\n";
    refused_at_their_keys(&[(
        text,
        4,
        "archive.rate_limit_bytes_per_s",
        "at or above the target's bandwidth",
    )]);
    let (_t, _f, o) =
        run_file(&text.replace("limit_bytes_per_s = 1000000", "limit_bytes_per_s = 999999"));
    ok(&o);
    // `[detach]`'s target too, its bandwidth from a profile.
    let text =
        "policies = [\"cow\"]\n[detach]\nprofile = \"1gbe\"\nrate_limit_bytes_per_s = 200000000\n";
    refused_at_their_keys(&[(text, 4, "detach.rate_limit_bytes_per_s", "117685305")]);
}

#[test]
fn a_deadlock_backoff_under_conservative_locking_is_refused() {
    let text = "policies = [\"cow\"]\nretry_backoff_ticks = 9\n";
    refused_then_runs(
        text,
        2,
        "retry_backoff_ticks",
        "has no effect under locking.discipline = \"conservative\"",
        "[locking]\ndiscipline = \"incremental\"\ngranularity = \"block\"\n",
    );
}

#[test]
fn a_zipf_exponent_with_a_uniform_hot_spot_is_refused() {
    let text = "policies = [\"cow\"]\n[workload]\nkind = \"generated\"\ntransactions = 20\n\nhot_spot = { shape = \"uniform\", exponent = 1.5 }\n";
    refused_at_their_keys(&[(
        text,
        6,
        "workload.hot_spot.exponent",
        "has no effect with shape = \"uniform\"",
    )]);
    let (_t, _f, o) = run_file(&text.replace("uniform", "zipf"));
    ok(&o);
}

#[test]
fn trace_keys_another_format_or_grouping_ignores_are_refused() {
    let trace = repo().join("tests/data/traces/fio-randrw.iolog");
    let head = format!(
        "policies = [\"cow\"]\n[workload]\nkind = \"trace\"\npath = \"{}\"\n",
        s(&trace)
    );
    let geometry = "[geometry]\nblock_size_bytes = 4096\nrecords_per_block = 1\n";
    for (key, line, why, fix) in [
        (
            "blkparse_event = \"D\"",
            "workload.blkparse_event",
            "only format = \"blkparse\" reads it",
            None,
        ),
        (
            "idle_gap_ticks = 5",
            "workload.idle_gap_ticks",
            "has no effect with grouping = \"io\"",
            Some("grouping = \"stream\"\n"),
        ),
        (
            "ios_per_transaction_max = 3",
            "workload.ios_per_transaction_max",
            "has no effect with grouping = \"io\"",
            Some("grouping = \"stream\"\n"),
        ),
    ] {
        let text = format!("{head}{key}\n{geometry}");
        refused_at_their_keys(&[(&text, 5, line, why)]);
        if let Some(fix) = fix {
            let (_t, _f, o) = run_file(&format!("{head}{key}\n{fix}{geometry}"));
            ok(&o);
        }
    }
}

/// Writes `text` to `name` in `dir` and runs `owm sweep` on it into `NAME.out` beside
/// it: the file's path (for the messages' `FILE:LINE`) and the run's output.
fn sweep_file(dir: &std::path::Path, name: &str, text: &str) -> (String, std::process::Output) {
    let f = write(dir, name, text);
    let o = owm(&[
        "sweep",
        &f,
        "--out",
        &s(&dir.join(name).with_extension("out")),
    ]);
    (f, o)
}

/// A sweep refuses a key only when it has no effect at every point of its grid: the
/// shipped overflow sweep's `on_data_area_full` axis beside a data area of the whole
/// volume at one point runs; the same axis beside no data area at all is refused at
/// the axis's line, and a key of the base scenario at its own line.
#[test]
fn a_sweep_refuses_a_key_inert_at_every_point() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = |name: &str, text: &str| sweep_file(tmp.path(), name, text);
    let base = "[scenario.workload]\nkind = \"generated\"\ntransactions = 20\n";
    let axis = "[[axis]]\nkey = \"backup.on_data_area_full\"\nvalues = [\"break-guest-write\", \"break-snapshot\"]\n";
    let (_f, o) = sweep(
        "some.toml",
        &format!("policies = [\"cow\"]\n{axis}[[axis]]\nkey = \"backup.data_area_fraction\"\nvalues = [0.5, 1.0]\n{base}"),
    );
    ok(&o);
    let (f, o) = sweep("none.toml", &format!("policies = [\"cow\"]\n{axis}{base}"));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            &format!("{f}:3: key `backup.on_data_area_full`"),
            "never fills",
            "(at every point of the grid)",
        ],
    );
    let (f, o) = sweep(
        "base.toml",
        &format!("policies = [\"cow\"]\n{base}[scenario.backup]\nquiesce_retries_max = 3\n"),
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            &format!("{f}:6: key `scenario.backup.quiesce_retries_max`"),
            "no policy of the run quiesces",
        ],
    );
}

#[test]
fn a_hole_aware_copy_where_every_block_counts_as_data_is_refused() {
    for (section, line) in [
        ("[faults]\nread_error_probability = 0.01\n", 3),
        ("[device]\nintegrity = true\n", 3),
    ] {
        let text = format!("policies = [\"cow\"]\n{section}[archive]\nsparse = true\n");
        refused_at_their_keys(&[(
            &text,
            line + 2,
            "archive.sparse",
            "the stores cannot tell which blocks hold data",
        )]);
        runs(&text.replace("sparse = true", "sparse = false"));
    }
    ok(&run_file("policies = [\"cow\"]\n[archive]\nsparse = true\n").2);
}

#[test]
fn write_slots_at_or_above_the_channels_are_refused() {
    let text = "policies = [\"cow\"]\n[device]\nchannels = 4\nwrite_channels = 4\n";
    refused_at_their_keys(&[(
        text,
        4,
        "device.write_channels",
        "at or above device.channels = 4",
    )]);
    ok(&run_file(&text.replace("write_channels = 4", "write_channels = 3")).2);
    // A profile's write slots are its own: only a key the file sets is refused.
    runs("policies = [\"cow\"]\n[device]\nprofile = \"nvme-ssd\"\nchannels = 1\n");
}

/// The key is judged against the run without it: a profile that bounds the writes
/// (`nvme-ssd`: 1 slot of 42 channels; `sata-ssd`: 2 of 8) is lifted by write slots
/// at or above its channels, and that changes the run; where the profile's own bound
/// is no bound (its slot at or above the channels the file sets), the key is refused.
/// A sweep judges each point the same way.
#[test]
fn write_slots_lifting_a_profiles_bound_are_taken_in_a_run_and_a_sweep() {
    let load = "[workload]\nkind = \"generated\"\nrecords = 4096\ntransactions = 200\n\
                length_min = 1\nlength_max = 1\nwrite_fraction = 1.0\n\
                arrivals = { mode = \"closed\", clients = 16, think_ticks_mean = 0 }\n";
    for (profile, channels) in [("nvme-ssd", 42), ("sata-ssd", 8)] {
        let text = format!("policies = [\"cow\"]\n{load}[device]\nprofile = \"{profile}\"\n{{}}\n");
        // The profile's bound, then none: every write slot of a channel.
        changes_the_run(&text, "", &format!("write_channels = {channels}"));
        runs(&text.replace("{}", &format!("write_channels = {}", channels * 2)));
    }
    // nvme-ssd's 1 slot over 1 channel bounds nothing: 4 slots add nothing to it.
    refused_at_their_keys(&[(
        "policies = [\"cow\"]\n[device]\nprofile = \"nvme-ssd\"\nchannels = 1\nwrite_channels = 4\n",
        5,
        "device.write_channels",
        "at or above device.channels = 1, never hold a write back (a call needs a channel \
         first), nor do the profile's 1 it replaces",
    )]);
    let tmp = tempfile::tempdir().unwrap();
    let sweep = |name: &str, device: &str, values: &str| {
        sweep_file(
            tmp.path(),
            name,
            &format!(
                "policies = [\"cow\"]\n[[axis]]\nkey = \"device.write_channels\"\nvalues = {values}\n\
                 [scenario.workload]\nkind = \"generated\"\ntransactions = 20\n[scenario.device]\n{device}\n"
            ),
        )
    };
    let (_f, o) = sweep("nvme.toml", "profile = \"nvme-ssd\"", "[42, 64]");
    ok(&o);
    let (f, o) = sweep("plain.toml", "channels = 4", "[4, 8]");
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            &format!("{f}:3: key `device.write_channels`"),
            "(at every point of the grid)",
        ],
    );
}

#[test]
fn a_journal_sync_latency_without_a_journal_is_refused() {
    let text = "policies = [\"cow\"]\n[device]\njournal_sync_latency_ticks = 40\n";
    refused_then_runs(
        text,
        3,
        "device.journal_sync_latency_ticks",
        "has no effect without a journal",
        "journaled = true\n",
    );
    // A profile's journal sync is its own: only a key the file sets is refused.
    runs("policies = [\"cow\"]\n[device]\nprofile = \"hdd-7200\"\nchannels = 4\n");
}

/// A small generated load whose runs take the table, barrier and lock paths the rules
/// below speak of (300 transactions, a backup mid-run).
const LOAD: &str = "[workload]\nkind = \"generated\"\nrecords = 4096\ntransactions = 300\n\
                    compute_ticks_max = 2000\narrivals = { mode = \"open\", interarrival_ticks_mean = 100 }\n";

/// `summary.csv` of `text`, which runs (exit 0, or 1 for a violation the key's cost
/// causes): not refused.
fn summary(text: &str) -> String {
    let (t, _f, o) = run_file(text);
    assert!(
        matches!(code(&o), 0 | 1),
        "{text}: exit {}: {}",
        code(&o),
        stderr(&o)
    );
    std::fs::read_to_string(t.path().join("o/summary.csv")).unwrap()
}

/// `text` with `{}` replaced by `a`, then by `b`, runs both times, and the two runs'
/// `summary.csv` differ: the key the placeholder sets acts on this run.
fn changes_the_run(text: &str, a: &str, b: &str) {
    assert_ne!(
        summary(&text.replace("{}", a)),
        summary(&text.replace("{}", b)),
        "{text}: {a} and {b} give the same run"
    );
}

#[test]
fn table_latencies_without_a_lookup_table_are_refused() {
    for key in ["table_update_latency_ticks", "table_lookup_latency_ticks"] {
        let text = format!(
            "policies = [\"none\", \"quiesce\", \"crash-consistent\", \"mirroring\"]\n[device]\n{key} = 500\n{LOAD}"
        );
        refused_at_their_keys(&[(
            &text,
            3,
            &format!("device.{key}"),
            "no policy of the run keeps a lookup table",
        )]);
        // Write logging and copy-on-write keep one, and so does a baseline over one:
        // there the key prices every entry created, dropped or probed.
        for (policies, baseline) in [
            ("\"mirroring\", \"logging\"", ""),
            ("\"cow\"", ""),
            ("\"quiesce\"", "[backup]\nbaseline_variant = \"cow\"\n"),
        ] {
            changes_the_run(
                &format!("policies = [{policies}]\n[device]\n{key} = {{}}\n{LOAD}{baseline}"),
                "1",
                "500",
            );
        }
    }
}

#[test]
fn a_flush_latency_where_no_call_flushes_is_refused() {
    // Under `none` alone no call reaches a barrier.
    let text = format!("policies = [\"none\"]\n[device]\nflush_latency_ticks = 700\n{LOAD}");
    refused_at_their_keys(&[(
        &text,
        3,
        "device.flush_latency_ticks",
        "no policy of the run backs up, and `none`'s plain volume never splits, so no \
         call waits for a flush barrier",
    )]);
    // Nor without the engine's power-safe order.
    let unsafe_order = "[faults]\npower_safe = false\n";
    let text = format!("policies = [\"mirroring\", \"logging\", \"cow\"]\n[device]\nflush_latency_ticks = 700\n{unsafe_order}{LOAD}");
    refused_at_their_keys(&[(
        &text,
        3,
        "device.flush_latency_ticks",
        "has no effect under faults.power_safe = false: the engine issues no flush barrier",
    )]);
    // The application's commit flush is priced under both, and the engine's barriers
    // under a backup in the power-safe order (a split's, at least: under mirroring).
    let committing = format!("{LOAD}flush_at_commit = true\n");
    changes_the_run(
        &format!("policies = [\"none\"]\n[device]\nflush_latency_ticks = {{}}\n{committing}"),
        "20",
        "700",
    );
    changes_the_run(
        &format!("policies = [\"cow\"]\n[device]\nflush_latency_ticks = {{}}\n{unsafe_order}{committing}"),
        "20",
        "700",
    );
    for policy in ["mirroring", "cow"] {
        changes_the_run(
            &format!("policies = [\"{policy}\"]\n[device]\nflush_latency_ticks = {{}}\n{LOAD}"),
            "20",
            "700",
        );
    }
}

#[test]
fn journal_and_barrier_keys_where_no_call_syncs_are_refused() {
    for (set, line, key) in [
        ("[device]\njournaled = true\n", 3, "device.journaled"),
        (
            "[device]\njournaled = true\njournal_sync_latency_ticks = 900\n",
            3,
            "device.journaled",
        ),
        (
            "[faults]\ncrash_at_ticks = [3000]\n[device]\njournal_lane = true\n",
            5,
            "device.journal_lane",
        ),
        ("[faults]\npower_safe = false\n", 3, "faults.power_safe"),
    ] {
        let text = format!("policies = [\"none\"]\n{set}{LOAD}");
        refused_at_their_keys(&[(&text, line, key, "no policy of the run backs up")]);
    }
    let text = "policies = [\"cow\"]\n[faults]\npower_safe = false\n[device]\njournaled = true\n";
    refused_at_their_keys(&[(
        text,
        5,
        "device.journaled",
        "has no effect under faults.power_safe = false: the engine syncs its journal only \
         in its power-safe order",
    )]);
    // Beside a backup policy in the power-safe order each acts on the run.
    let cow = format!("policies = [\"none\", \"cow\"]\n{LOAD}");
    changes_the_run(
        &format!("{cow}[device]\njournaled = {{}}\n"),
        "false",
        "true",
    );
    changes_the_run(
        &format!("{cow}[device]\njournaled = true\njournal_sync_latency_ticks = {{}}\n"),
        "1",
        "900",
    );
    changes_the_run(
        &format!("{cow}[device]\njournaled = true\njournal_sync_latency_ticks = 900\njournal_lane = {{}}\n"),
        "false",
        "true",
    );
    changes_the_run(
        &format!("{cow}[faults]\npower_safe = {{}}\n"),
        "false",
        "true",
    );
}

#[test]
fn a_journal_switch_under_active_faults_is_refused() {
    let text =
        "policies = [\"cow\"]\n[faults]\ncrash_at_ticks = [300]\n[device]\njournaled = true\n";
    refused_at_their_keys(&[(
        text,
        5,
        "device.journaled",
        "has no effect under active [faults]: the engine keeps its journal anyway",
    )]);
    // Without faults it decides whether the calls pay the journal's syncs.
    changes_the_run(
        &format!("policies = [\"cow\"]\n{LOAD}[device]\njournaled = {{}}\n"),
        "false",
        "true",
    );
}

#[test]
fn type_b_blocks_without_a_one_way_mirror_are_refused() {
    let text = "policies = [\"none\", \"quiesce\", \"crash-consistent\"]\n[locking]\ntype_b_blocks = [1]\n";
    refused_at_their_keys(&[(
        text,
        3,
        "locking.type_b_blocks",
        "has no effect: only the one-way mirror's policies",
    )]);
    // Under the one-way mirror new transactions wait for them (a busy load whose hot
    // blocks the old transactions hold at the split).
    changes_the_run(
        "policies = [\"quiesce\", \"mirroring\"]\nseed = 3\n[workload]\nkind = \"generated\"\nrecords = 512\n\
         transactions = 600\narrivals = { mode = \"open\", interarrival_ticks_mean = 200 }\nlength_min = 2\n\
         length_max = 6\nwrite_fraction = 0.6\ncompute_ticks_min = 200\ncompute_ticks_max = 1500\n\
         [locking]\ntype_b_blocks = {}\n[device]\nchannels = 1\n[backup]\nrequest_at_ticks = 40000\n",
        "[]",
        "[0, 1, 2, 3]",
    );
}

#[test]
fn a_retry_back_off_without_retries_is_refused() {
    let quiesce =
        format!("policies = [\"quiesce\"]\n{LOAD}[backup]\nquiesce_deadline_ticks = 10\n");
    let text = format!("{quiesce}quiesce_retries_max = 0\nquiesce_retry_backoff_ticks = 500\n");
    refused_at_their_keys(&[(
        &text,
        11,
        "backup.quiesce_retry_backoff_ticks",
        "has no effect with backup.quiesce_retries_max = 0 (a missed deadline gives the \
         backup up: no retry waits for the back-off)",
    )]);
    // With a retry to wait for, the back-off moves it.
    changes_the_run(
        &format!("{quiesce}quiesce_retries_max = 1\nquiesce_retry_backoff_ticks = {{}}\n"),
        "5",
        "20000",
    );
}

#[test]
fn a_period_of_one_cycle_is_refused() {
    let cow = format!("policies = [\"none\", \"cow\"]\n{LOAD}[backup]\n");
    let text = format!("{cow}period_ticks = 10000\ncycles = 1\n");
    refused_at_their_keys(&[(
        &text,
        9,
        "backup.period_ticks",
        "has no effect with backup.cycles = 1 (one request: no period between two); \
         raise cycles, or remove the key and backup.cycles",
    )]);
    // Removing both runs the same single request.
    runs(&cow);
    changes_the_run(
        &format!("{cow}period_ticks = {{}}\ncycles = 2\n"),
        "5000",
        "9000",
    );
}

/// Only a copy's extent reads continue a run of contiguous blocks: with one-block
/// extents (and no copy to B' of longer ones) the sequential read rate prices nothing.
#[test]
fn a_sequential_read_rate_where_no_read_continues_a_run_is_refused() {
    let rate = "[device]\nsequential_read_bytes_per_s = 1000000\n";
    for (copies, line, why) in [
        (
            "[archive]\nextent_blocks = 1\n",
            11,
            "has no effect with archive.extent_blocks = 1 and no [detach]: only a read of a \
             copy's extent after the block before it continues a run",
        ),
        (
            "[archive]\nextent_blocks = 1\n[detach]\nextent_blocks = 1\n",
            13,
            "has no effect with archive.extent_blocks = 1 and detach.extent_blocks = 1",
        ),
    ] {
        let text = format!("policies = [\"cow\", \"quiesce\"]\n{LOAD}{copies}{rate}");
        refused_at_their_keys(&[(&text, line, "device.sequential_read_bytes_per_s", why)]);
    }
    // No copy at all under `none`.
    let text = format!("policies = [\"none\"]\n{LOAD}{rate}");
    refused_at_their_keys(&[(
        &text,
        9,
        "device.sequential_read_bytes_per_s",
        "no policy of the run backs up",
    )]);
    // Extents of several blocks, the archive's or the copy to B''s, read runs.
    for copies in [
        "[archive]\nextent_blocks = 8\n",
        "[archive]\nextent_blocks = 1\n[detach]\nextent_blocks = 8\n",
    ] {
        changes_the_run(
            &format!(
                "policies = [\"cow\"]\n{LOAD}{copies}[device]\nsequential_read_bytes_per_s = {{}}\n"
            ),
            "1000000",
            "5000000000",
        );
    }
}
