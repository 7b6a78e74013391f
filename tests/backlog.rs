//! A load whose arrivals outrun the device and the locks keeps ever more transaction
//! attempts in flight, each holding its own memory: no estimate before the run bounds
//! them, so the run counts them and stops (exit 2, at `limits.memory_bytes_max`'s
//! line, nothing written) before the process passes the bound. The peak resident size
//! of each `owm` process is read from the kernel (through GNU time), not assumed.

use std::path::Path;
use std::process::Command;

use crate::util::*;

/// The bound the generated and bank cases and the sweep run under: 64 MiB.
const BOUND_BYTES: u64 = 64 << 20;
/// The bound of the trace case: its history and its trace need more, and the estimate
/// prices 4,096 of its attempts in flight, 64 block accesses each (about 95 MiB).
const TRACE_BOUND_BYTES: u64 = 256 << 20;

/// Runs `owm args...` in `dir`; returns its exit status, its stderr then stdout and its peak
/// resident size in bytes, as GNU time reads it from the kernel for its own child
/// (`ru_maxrss`; a child of this process itself would count this process's size
/// at its `exec`), or `None` where `/usr/bin/time` is missing (said on stderr).
fn run_measured(dir: &Path, args: &[&str]) -> (i32, String, Option<u64>) {
    let err_path = dir.join("stderr.txt");
    let rss_path = dir.join("rss.txt");
    let time = Path::new("/usr/bin/time");
    let mut cmd = if time.exists() {
        let mut c = Command::new(time);
        c.arg("-f").arg("%M").arg("-o").arg(&rss_path);
        c.arg(env!("CARGO_BIN_EXE_owm"));
        c
    } else {
        eprintln!("no /usr/bin/time: peak memory not measured");
        Command::new(env!("CARGO_BIN_EXE_owm"))
    };
    let status = cmd
        .args(args)
        .current_dir(dir)
        .stdout(std::fs::File::create(dir.join("stdout.txt")).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .status()
        .expect("the owm binary runs");
    // stdout (a sweep's lines of failed points) after stderr.
    let err = std::fs::read_to_string(&err_path).unwrap()
        + &std::fs::read_to_string(dir.join("stdout.txt")).unwrap();
    let peak = time.exists().then(|| {
        let text = std::fs::read_to_string(&rss_path).unwrap();
        // GNU time writes "Command exited with non-zero status N" before the figure.
        let kib: u64 = text.lines().last().unwrap().trim().parse().unwrap();
        kib * 1024
    });
    (status.code().unwrap_or(-1), err, peak)
}

/// The peak `peak` (when measured) is below `bound`.
fn within(peak: Option<u64>, bound: u64, what: &str) {
    if let Some(peak) = peak {
        assert!(peak < bound, "{what}: held {peak} bytes, bound {bound}");
    }
}

/// A generated load on 1,000 records: arrivals every `interarrival` ticks on average.
fn generated(interarrival: u64) -> String {
    format!(
        "keep_history = false\nkeep_timeline = false\npolicies = [\"none\"]\n\
         [workload]\nkind = \"generated\"\nrecords = 1000\ntransactions = 300000\n\
         arrivals = {{ mode = \"open\", interarrival_ticks_mean = {interarrival} }}\n\
         [limits]\nmemory_bytes_max = {BOUND_BYTES}\n"
    )
}

/// Bank transfers, arrivals every `mean` ticks on average, history and timeline kept.
fn bank(mean: u64) -> String {
    format!(
        "policies = [\"cow\"]\n[workload]\nkind = \"bank\"\ntransactions = 200000\n\
         arrival_ticks_mean = {mean}\n[limits]\nmemory_bytes_max = {BOUND_BYTES}\n"
    )
}

/// A trace of 4 KiB writes on 1,000 blocks, one every `gap` µs (`t<gap>.csv` in `dir`).
fn trace(dir: &Path, gap: u64) -> String {
    let mut csv = String::from("time,op,offset,length,stream\n");
    for i in 0..20_000u64 {
        csv.push_str(&format!("{},W,{},4096,s\n", i * gap, (i % 1000) * 4096));
    }
    std::fs::write(dir.join(format!("t{gap}.csv")), csv).unwrap();
    format!(
        "policies = [\"none\"]\n[workload]\nkind = \"trace\"\npath = \"t{gap}.csv\"\n\
         format = \"csv\"\n[limits]\nmemory_bytes_max = {TRACE_BOUND_BYTES}\n"
    )
}

/// Each saturated load stops at the bound's line, exit 2, nothing written, having held
/// less than the bound; the same load with arrivals the device keeps up with runs to
/// its end under the same bound (the stop is the backlog's, not the load's).
#[test]
fn a_backlog_past_the_memory_bound_stops_the_run_within_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let cases: [(&str, String, String, usize, u64); 3] = [
        ("generated", generated(2), generated(2000), 10, BOUND_BYTES),
        ("bank", bank(1), bank(2000), 7, BOUND_BYTES),
        (
            "trace",
            trace(dir, 1),
            trace(dir, 2000),
            7,
            TRACE_BOUND_BYTES,
        ),
    ];
    for (name, saturated, steady, line, bound) in cases {
        let file = format!("{name}.toml");
        std::fs::write(dir.join(&file), &saturated).unwrap();
        let out = dir.join(format!("out-{name}"));
        let (code, err, peak) = run_measured(dir, &["run", &file, "--out", &s(&out), "--quiet"]);
        assert_eq!(code, 2, "{name}: {err}");
        for words in [
            format!("{file}:{line}: key `limits.memory_bytes_max`"),
            "transaction attempts in flight at once".to_string(),
            "arrivals outran the device".to_string(),
        ] {
            assert!(err.contains(&words), "{name}: {words:?} in {err}");
        }
        assert!(!out.exists(), "{name}: nothing written");
        assert!(
            staging_left(dir).is_empty(),
            "{name}: {:?}",
            staging_left(dir)
        );
        within(peak, bound, name);

        std::fs::write(dir.join(&file), &steady).unwrap();
        let (code, err, peak) = run_measured(dir, &["run", &file, "--out", &s(&out), "--quiet"]);
        assert!(code == 0 || code == 3, "{name} steady: exit {code}: {err}");
        assert!(out.join("summary.csv").exists(), "{name} steady: {err}");
        within(peak, bound, &format!("{name} steady"));
    }
}

/// Two grid points of a saturated load at once share the bound: each stops within its
/// share (a failed point naming the key), and the sweep process stays within it.
#[test]
fn a_sweeps_points_share_the_room_for_their_backlogs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let sweep = format!(
        "policies = [\"none\"]\nseeds = \"1..=2\"\n[scenario]\nkeep_history = false\n\
         keep_timeline = false\n[scenario.workload]\nkind = \"generated\"\nrecords = 1000\n\
         transactions = 300000\narrivals = {{ mode = \"open\", interarrival_ticks_mean = 2 }}\n\
         [scenario.limits]\nmemory_bytes_max = {BOUND_BYTES}\n"
    );
    std::fs::write(dir.join("sw.toml"), sweep).unwrap();
    let out = dir.join("out");
    let (code, err, peak) = run_measured(
        dir,
        &[
            "sweep",
            "sw.toml",
            "--out",
            &s(&out),
            "--jobs",
            "2",
            "--quiet",
        ],
    );
    assert_eq!(code, 3, "{err}");
    let failed = err
        .lines()
        .filter(|l| l.starts_with("failed: point") && l.contains("in flight at once"))
        .count();
    assert_eq!(failed, 2, "{err}");
    assert!(
        err.contains("sw.toml:12: key `scenario.limits.memory_bytes_max`"),
        "{err}"
    );
    within(peak, BOUND_BYTES, "the sweep");
}

/// Fig 4 draws a row per process: a pool of 6,000 processes, every one busy, would make
/// a picture 150,000 pixels tall (half a gigabyte while drawn). Its rows are bounded as
/// the other diagrams' are (the processes of the transactions around the request, the
/// title saying how many of how many), so the run stays within the bound it was
/// accepted under.
#[test]
fn a_large_process_pool_draws_a_bounded_fig_4() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let file = "pool.toml";
    std::fs::write(
        dir.join(file),
        format!(
            "policies = [\"none\"]\n[workload]\nkind = \"fig4-5\"\nprocesses = 6000\n\
             transactions = 6000\narrival_ticks_mean = 1\n[limits]\n\
             memory_bytes_max = {BOUND_BYTES}\n"
        ),
    )
    .unwrap();
    let out = dir.join("out");
    let (code, err, peak) = run_measured(dir, &["run", file, "--out", &s(&out), "--quiet"]);
    assert_eq!(code, 0, "{err}");
    within(peak, BOUND_BYTES, "fig4-5, 6000 processes");
    let svg = std::fs::read_to_string(out.join("timing-none.svg")).unwrap();
    // "— 40 of 5929 processes, those whose …": the seats a transaction took.
    let head = svg
        .split(" processes, those whose transactions arrive around the request")
        .next()
        .unwrap();
    let words: Vec<&str> = head.rsplit(' ').take(3).collect();
    let counts = match words[..] {
        [all, "of", drawn] => drawn.parse::<usize>().ok().zip(all.parse::<usize>().ok()),
        _ => None,
    };
    assert!(
        counts.is_some_and(|(drawn, all)| (1..=40).contains(&drawn) && all > 1000),
        "the title names the processes drawn of those in all: {words:?}"
    );
}

/// The estimate `owm run` refuses `body` with under a 25 MB bound (above what loading
/// a small trace holds: "would hold about 50.10 MiB"), in bytes, and the peak the same
/// run holds under `bound` (`None` where `/usr/bin/time` is missing); the run must
/// complete there.
fn estimate_and_peak(dir: &Path, name: &str, body: &str, bound: u64) -> (u64, Option<u64>) {
    estimate_refused_and_peak(dir, name, body, 25_000_000, bound)
}

/// [`estimate_and_peak`] with the estimate read from the refusal under `refused_at`
/// bytes (below the program's own 10 MiB: every run is refused, and a small trace's
/// text still fits).
fn estimate_refused_and_peak(
    dir: &Path,
    name: &str,
    body: &str,
    refused_at: u64,
    bound: u64,
) -> (u64, Option<u64>) {
    let file = format!("{name}.toml");
    std::fs::write(
        dir.join(&file),
        format!("{body}[limits]\nmemory_bytes_max = {refused_at}\n"),
    )
    .unwrap();
    let out = dir.join(format!("out-{name}"));
    let (code, err, _) = run_measured(dir, &["run", &file, "--out", &s(&out), "--quiet"]);
    assert_eq!(code, 2, "{name}: {err}");
    let about = err
        .split("would hold about ")
        .nth(1)
        .unwrap_or_else(|| panic!("{name}: no estimate in {err}"));
    let mut words = about.split_whitespace();
    let number: f64 = words.next().unwrap().parse().unwrap();
    let unit = match words.next().unwrap() {
        "B" => 1.0,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        other => panic!("{name}: unit {other} in {err}"),
    };
    let estimate = (number * unit) as u64;
    std::fs::write(
        dir.join(&file),
        format!("{body}[limits]\nmemory_bytes_max = {bound}\n"),
    )
    .unwrap();
    let (code, err, peak) = run_measured(dir, &["run", &file, "--out", &s(&out), "--quiet"]);
    // Completed: held, violated (a busy device's waits break non-disruption) or unchecked.
    assert!(matches!(code, 0 | 1 | 3), "{name}: exit {code}: {err}");
    (estimate, peak)
}

/// A run of many backup cycles holds a result per cycle and writes a `summary.csv` row
/// per cycle: the estimate's cycles part is above what the process holds.
#[test]
fn many_backup_cycles_stay_within_their_estimate() {
    let tmp = tempfile::tempdir().unwrap();
    let body = "policies = [\"cow\"]\n[workload]\nkind = \"generated\"\n\
                transactions = 4000\n\
                arrivals = { mode = \"open\", interarrival_ticks_mean = 100 }\n\
                [backup]\nperiod_ticks = 100\ncycles = 4000\n";
    let (estimate, peak) = estimate_and_peak(tmp.path(), "cycles", body, 1 << 30);
    within(peak, estimate, "4,000 cycles");
}

/// A trace whose writes span 65,536 blocks each, arriving faster than the device
/// writes them: every one in flight holds its lists and locks for each block, which
/// the estimate counts for the trace's widest transactions.
#[test]
fn wide_trace_ios_stay_within_their_estimate() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut csv = String::new();
    for i in 0..6u64 {
        csv.push_str(&format!("{},W,{},268435456\n", i * 100_000, (i % 4) << 28));
    }
    std::fs::write(dir.join("wide.csv"), csv).unwrap();
    let body = "policies = [\"none\"]\n[workload]\nkind = \"trace\"\npath = \"wide.csv\"\n\
                format = \"csv\"\n[geometry]\nblock_size_bytes = 4096\nrecords_per_block = 1\n";
    // Loading the six I/Os holds about 22-24 MiB (the program's size depends on the
    // build): the estimate is read from a refusal past that, under 100 MB.
    let (estimate, peak) = estimate_refused_and_peak(dir, "wide", body, 100_000_000, 1 << 32);
    within(peak, estimate, "6 writes of 65,536 blocks");
}

/// Fig 4/5 with 6,000 processes and an arrival a tick apart: the device and the locks
/// fall behind and every transaction is in flight at once (queued for a process or
/// working), each holding its entry, lists and block copies. The estimate prices the
/// pool's processes, and the process holds no more than it.
#[test]
fn a_busy_process_pool_stays_within_its_estimate() {
    let tmp = tempfile::tempdir().unwrap();
    let body = "policies = [\"none\"]\n[workload]\nkind = \"fig4-5\"\nprocesses = 6000\n\
                transactions = 6000\narrival_ticks_mean = 1\n";
    let (estimate, peak) = estimate_refused_and_peak(tmp.path(), "pool", body, 2_000_000, 1 << 30);
    eprintln!("fig4-5, 6,000 processes: estimate {estimate}, peak {peak:?}");
    within(peak, estimate, "fig4-5, 6,000 processes a tick apart");
}

/// Each workload kind with thousands of attempts in flight at once (arrivals faster
/// than the device, or as many clients as that): the estimate prices them (up to
/// 4,096 of an open load, a closed loop's clients), and the process holds no more
/// than it; nor does a small load whose deadlock victims are retried 140,000 times
/// (the diagram's bars priced at their measured size, heaps included).
#[test]
fn thousands_of_attempts_in_flight_stay_within_their_estimate() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut csv = String::from("time,op,offset,length,stream\n");
    for i in 0..4_000u64 {
        csv.push_str(&format!("{i},W,{},4096,s\n", (i % 1000) * 4096));
    }
    std::fs::write(dir.join("burst.csv"), csv).unwrap();
    let cases = [
        (
            "open",
            "policies = [\"none\"]\n[workload]\nkind = \"generated\"\nrecords = 100000\n\
             transactions = 4000\narrivals = { mode = \"open\", interarrival_ticks_mean = 1 }\n",
        ),
        (
            "closed",
            "policies = [\"none\"]\n[workload]\nkind = \"generated\"\nrecords = 100000\n\
             transactions = 12000\n\
             arrivals = { mode = \"closed\", clients = 3000, think_ticks_mean = 1 }\n",
        ),
        (
            "bank",
            "policies = [\"none\"]\n[workload]\nkind = \"bank\"\naccounts = 100000\n\
             transactions = 4000\narrival_ticks_mean = 1\n",
        ),
        (
            "trace",
            "policies = [\"none\"]\n[workload]\nkind = \"trace\"\npath = \"burst.csv\"\n\
             format = \"csv\"\n",
        ),
        // Deadlock victims retried about 140,000 times: the diagram keeps 65,536 bars.
        (
            "bank-retried",
            "policies = [\"none\"]\n[workload]\nkind = \"bank\"\naccounts = 32\n\
             transactions = 3000\narrival_ticks_mean = 30\n\
             compute_ticks_min = 20\ncompute_ticks_max = 2000\n\
             [geometry]\nblock_size_bytes = 64\nrecords_per_block = 4\n\
             [locking]\ndiscipline = \"incremental\"\ngranularity = \"block\"\n",
        ),
    ];
    for (name, body) in cases {
        // Loading the trace holds the program beside its text: refused above that.
        let refused_at = if name == "trace" {
            25_000_000
        } else {
            2_000_000
        };
        let (estimate, peak) = estimate_refused_and_peak(dir, name, body, refused_at, 1 << 30);
        eprintln!("{name}: estimate {estimate}, peak {peak:?}");
        within(peak, estimate, name);
    }
}

/// A write-only load whose first writes after the split (under copy-on-write a read,
/// two writes and two flushes each) keep the default device busy: the archive copy's
/// reads queue behind them and the retire comes after the last write, holding the
/// data area's preserved blocks and VLUN A's image beside the tables of every write.
/// The estimate counts the retire as late as the run's end when the users may keep
/// the device that busy, and the process holds no more than it, within 1.5x.
#[test]
fn a_write_only_load_that_holds_back_the_copy_stays_within_its_estimate() {
    let tmp = tempfile::tempdir().unwrap();
    let body = "policies = [\"cow\"]\n[workload]\nkind = \"generated\"\nrecords = 1000000\n\
                transactions = 160000\nwrite_fraction = 1.0\n\
                arrivals = { mode = \"open\", interarrival_ticks_mean = 76 }\n";
    let (estimate, peak) = estimate_refused_and_peak(tmp.path(), "cow", body, 2_000_000, 1 << 30);
    eprintln!("write-only cow: estimate {estimate}, peak {peak:?}");
    within(peak, estimate, "write-only cow, the copy held back");
    if let Some(peak) = peak {
        assert!(
            estimate < peak * 3 / 2,
            "estimate {estimate} more than 1.5x the peak {peak}"
        );
    }
    let summary = std::fs::read_to_string(tmp.path().join("out-cow/summary.csv")).unwrap();
    let mut rows = summary.lines().map(|l| l.split(',').collect::<Vec<_>>());
    let head = rows.next().unwrap();
    let row = rows.next().unwrap();
    let col = |name: &str| -> u64 {
        let i = head.iter().position(|h| *h == name).unwrap();
        row[i].parse().unwrap()
    };
    // The load does hold the copy back: its retire is its last event.
    assert_eq!(col("retire_at_ticks"), col("end_ticks"), "{summary}");
}
