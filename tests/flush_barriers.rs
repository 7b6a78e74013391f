//! What a copy-on-write or write-logging first write waits for, through `owm run`: one
//! image flush (cow: the preserved copy durable before the overwrite; logging: the data
//! durable in its log slot before the entry is journaled), and with
//! `device.journaled = true` also a journal sync (cow: its table entry's; logging: the
//! previous entry's). scenarios/README.md's `flush_latency_ticks` row and its table of
//! flush barriers say so; this pins it through `window_flushes_per_logical_write` and
//! the window's flush waits.

use crate::util::*;

/// One-write transactions of blind writes over 4,096 records, one every 2,000 ticks on
/// average: in the short backup window every write is the first to its block.
fn scenario(policy: &str, journaled: bool) -> String {
    let sync = if journaled {
        "journaled = true\njournal_sync_latency_ticks = 5000\n"
    } else {
        ""
    };
    format!(
        r#"
policies = ["{policy}"]
seed = 1
name = "flush-barriers"

[workload]
kind = "generated"
records = 4096
transactions = 400
arrivals = {{ mode = "open", interarrival_ticks_mean = 2000 }}
length_min = 1
length_max = 1
write_fraction = 1.0

[device]
flush_latency_ticks = 1000
{sync}
[backup]
request_at_ticks = 100000
"#
    )
}

#[test]
fn a_copy_on_write_first_write_waits_for_one_flush_and_the_journal_sync_when_journaled() {
    for (journaled, barriers, wait) in [(false, 1.0, 1000.0), (true, 2.0, 1000.0 + 5000.0)] {
        let tmp = tempfile::tempdir().unwrap();
        let f = write(tmp.path(), "flush.toml", &scenario("cow", journaled));
        let out = tmp.path().join("o");
        // Each first write waits past the 100-tick setup window: non-disruption is
        // violated (exit 1), as it should be; the barriers are what this tests.
        let o = owm(&["run", &f, "--out", &s(&out), "--allow-violations"]);
        ok(&o);
        let rows = csv_rows(&out, "summary.csv");
        let r = &rows[0];
        let writes = num(r, "window_logical_writes");
        assert!(writes > 0.0, "{r:?}");
        // The premise: every write of the window preserved its block's old copy.
        assert_eq!(num(r, "window_cow_copies"), writes, "{r:?}");
        assert_eq!(
            num(r, "window_flushes_per_logical_write"),
            barriers,
            "journaled = {journaled}: {r:?}"
        );
        assert_eq!(num(r, "window_flush_wait_ticks_max"), wait, "{r:?}");
        assert_eq!(
            num(r, "window_flush_wait_ticks_sum"),
            wait * writes,
            "{r:?}"
        );
    }
}

/// Write logging's first write to a block waits for one image flush (its log slot made
/// durable before the entry is journaled), the same as copy-on-write's; with the
/// journal it also syncs the previous entry, which the split's first entry does not
/// have: 2 × entries − 1 barriers, the syncs' waits one fewer than the flushes'.
#[test]
fn a_write_logging_first_write_waits_for_one_flush_and_the_previous_entrys_sync() {
    for journaled in [false, true] {
        let tmp = tempfile::tempdir().unwrap();
        let f = write(tmp.path(), "flush.toml", &scenario("logging", journaled));
        let out = tmp.path().join("o");
        let o = owm(&["run", &f, "--out", &s(&out), "--allow-violations"]);
        ok(&o);
        let rows = csv_rows(&out, "summary.csv");
        let r = &rows[0];
        let writes = num(r, "window_logical_writes");
        // The premise: the window's writes are first writes, each creating its block's
        // log entry, but for the few outside the split-to-retire span (the window runs
        // from the request to the retire's completion), which wait for no barrier.
        let entries = num(r, "window_log_entries");
        assert!(entries > 1.0 && entries >= writes - 2.0, "{r:?}");
        let (barriers, sum, max) = if journaled {
            (
                2.0 * entries - 1.0,
                1000.0 * entries + 5000.0 * (entries - 1.0),
                6000.0,
            )
        } else {
            (entries, 1000.0 * entries, 1000.0)
        };
        let per_write = num(r, "window_flushes_per_logical_write");
        assert!(
            (per_write - barriers / writes).abs() < 0.0005,
            "journaled = {journaled}: {per_write} vs {barriers} / {writes}: {r:?}"
        );
        assert_eq!(num(r, "window_flush_wait_ticks_max"), max, "{r:?}");
        assert_eq!(num(r, "window_flush_wait_ticks_sum"), sum, "{r:?}");
    }
}

/// The backup's own barriers are `cycle_backup_flushes`, per cycle, in `summary.csv`
/// and `sweep.csv`: every policy that splits flushes both images at the split (2),
/// and write logging flushes image A once more after its retire's merge (a cycle
/// whose merge wrote blocks); with the metadata journal the split's phase record
/// adds its sync (3, 4); a user's call never counts one, and under
/// `faults.power_safe = false` the engine issues none.
#[test]
fn the_backups_own_flush_barriers_are_counted_per_cycle() {
    let tmp = tempfile::tempdir().unwrap();
    let text = "policies = [\"none\", \"quiesce\", \"crash-consistent\", \"mirroring\", \"logging\", \"cow\"]\n\
                [workload]\nkind = \"generated\"\nrecords = 4096\ntransactions = 300\n\
                [backup]\ncycles = 2\nperiod_ticks = 20000\n";
    for (name, power_safe, journaled) in [
        ("safe", true, false),
        ("journaled", true, true),
        ("unsafe", false, false),
    ] {
        let faults = match (power_safe, journaled) {
            (false, _) => "[faults]\npower_safe = false\n",
            (true, true) => "[device]\njournaled = true\n",
            (true, false) => "",
        };
        let f = write(
            tmp.path(),
            &format!("{name}.toml"),
            &format!("{text}{faults}"),
        );
        let out = tmp.path().join(name);
        ok(&owm(&["run", &f, "--out", &s(&out)]));
        let rows = csv_rows(&out, "summary.csv");
        assert_eq!(rows.len(), 1 + 5 * 2, "{rows:?}");
        for r in &rows {
            let policy = r["policy"].as_str();
            if policy == "none" {
                assert_eq!(r["cycle_backup_flushes"], "", "{r:?}");
                continue;
            }
            let merged = policy == "logging" && num(r, "cycle_backup_physical_writes") > 0.0;
            let want = match (power_safe, merged) {
                (false, _) => 0.0,
                (true, false) => 2.0,
                (true, true) => 3.0,
            } + if journaled { 1.0 } else { 0.0 };
            assert_eq!(num(r, "cycle_backup_flushes"), want, "{name} {r:?}");
        }
    }
    // A sweep's column is its grid point's first cycle's, and a metric it can plot.
    let f = write(
        tmp.path(),
        "sweep.toml",
        "policies = [\"logging\", \"cow\"]\nmetrics = [\"cycle_backup_flushes\"]\n\
         [[axis]]\nkey = \"device.flush_latency_ticks\"\nvalues = [20, 50]\n\
         [scenario.workload]\nkind = \"generated\"\nrecords = 4096\ntransactions = 300\n",
    );
    let out = tmp.path().join("sweep");
    ok(&owm(&["sweep", &f, "--out", &s(&out)]));
    let rows = csv_rows(&out, "sweep.csv");
    assert!(!rows.is_empty());
    for r in &rows {
        let want = if r["policy"] == "logging" { 3.0 } else { 2.0 };
        assert_eq!(num(r, "cycle_backup_flushes"), want, "{r:?}");
    }
}
