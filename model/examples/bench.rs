//! Checker throughput: unique states, states/s and peak memory for the default and two
//! larger configurations, on 1 and 2 threads (issue 7; figures in BENCHMARKS.md).
//!
//! ```text
//! cargo run --release -p owm-model --example bench            # the table (a few minutes)
//! cargo run --release -p owm-model --example bench -- --quick # smoke: default config only
//! cargo run --release -p owm-model --example bench -- --one --threads 2 --variant cow ...
//! cargo run --release -p owm-model --example bench -- --floor 2  # stateright alone
//! ```
//!
//! Each measurement runs in a child process of its own (`--one`), so its peak resident
//! memory (`VmHWM` in /proc/self/status) is that run's and nobody else's. A figure is
//! the best of `--repeat N` runs (default 3; the machine is shared, so the best run is
//! the one least disturbed).

use std::process::Command;
use std::time::Instant;

/// (name, model flags, checks per child process): the default `owm check` and two
/// larger configurations. The default one is checked 20 times per process, so that
/// its CPU time (counted in 10 ms ticks) is measured to a few percent.
const CONFIGS: &[(&str, &str, usize)] = &[
    ("default", "--variant cow --old 2 --new 2 --aborts on", 20),
    (
        "record locks",
        "--variant cow --old 2 --new 2 --aborts on --records-per-block 2 --locks record",
        1,
    ),
    (
        "record locks, incremental",
        "--variant logging --old 2 --new 2 --aborts on --records-per-block 2 --locks record --discipline incremental",
        1,
    ),
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--one") {
        one(&args[1..]);
        return;
    }
    if args.first().map(String::as_str) == Some("--floor") {
        floor(&args[1..]);
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let repeat = args
        .iter()
        .position(|a| a == "--repeat")
        .and_then(|i| args.get(i + 1))
        .map_or(if quick { 1 } else { 3 }, |n| {
            n.parse().expect("--repeat N")
        });
    let configs = if quick { &CONFIGS[..1] } else { CONFIGS };
    let threads: &[usize] = if quick { &[1] } else { &[1, 2] };
    println!(
        "| configuration | threads | unique states | search (s) | states/s | total (s) | CPU (s) | states per CPU-s | peak RSS (MiB) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for &(name, flags, loops) in configs {
        for &t in threads {
            let runs: Vec<Run> = (0..repeat).map(|_| child(t, flags, loops)).collect();
            let best = runs
                .iter()
                .min_by(|a, b| a.secs.total_cmp(&b.secs))
                .expect("at least one run");
            let peak = runs.iter().map(|r| r.peak_kib).max().unwrap_or(0);
            println!(
                "| {name} (`{flags}`) | {t} | {} | {:.3} | {:.0} | {:.3} | {:.2} | {:.0} | {:.0} |",
                best.states,
                best.secs,
                best.states as f64 / best.secs,
                best.total_secs,
                best.cpu_secs,
                best.states as f64 / best.cpu_secs.max(0.01),
                peak as f64 / 1024.0
            );
        }
    }
}

struct Run {
    states: usize,
    /// The exploration (stateright's search), as `CheckReport::elapsed`.
    secs: f64,
    /// All of `check`: the search, then the shortest-counterexample search and the
    /// replay of each violated invariant's trace.
    total_secs: f64,
    /// User + system CPU time of the whole child process (10 ms resolution).
    cpu_secs: f64,
    peak_kib: u64,
}

/// Runs one measurement in a child process.
fn child(threads: usize, flags: &str, loops: usize) -> Run {
    let exe = std::env::current_exe().expect("own path");
    let out = Command::new(exe)
        .arg("--one")
        .args(["--threads", &threads.to_string()])
        .args(["--loops", &loops.to_string()])
        .args(flags.split_whitespace())
        .output()
        .expect("run the child");
    assert!(
        out.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let w: Vec<&str> = text.split_whitespace().collect();
    Run {
        states: w[0].parse().expect("states"),
        secs: w[1].parse().expect("seconds"),
        total_secs: w[2].parse().expect("seconds"),
        peak_kib: w[3].parse().expect("peak"),
        cpu_secs: w[4].parse().expect("cpu"),
    }
}

/// Child mode: `--threads T [--loops N] [--strategy bfs|dfs] <model flags>`; checks N
/// times (default 1) and prints `states search_s total_s peak_kib cpu_s`: the fastest
/// check's times, and the CPU time per check.
fn one(args: &[String]) {
    let threads: usize = args[1].parse().expect("--threads T");
    let mut rest = &args[2..];
    let mut loops = 1;
    if rest.first().map(String::as_str) == Some("--loops") {
        loops = rest[1].parse().expect("--loops N");
        rest = &rest[2..];
    }
    let mut strategy = model::Strategy::Bfs;
    if rest.first().map(String::as_str) == Some("--strategy") {
        strategy = rest[1].parse().expect("--strategy bfs|dfs");
        rest = &rest[2..];
    }
    let mut cfg = model::CheckConfig::from_model_flags(&rest.join(" ")).expect("flags");
    cfg.threads = threads;
    cfg.strategy = strategy;
    let cpu_before = cpu_secs();
    let mut best: Option<(usize, f64, f64)> = None;
    for _ in 0..loops {
        let start = Instant::now();
        let r = model::check(&cfg).expect("check");
        let total = start.elapsed().as_secs_f64();
        let search = r.elapsed.as_secs_f64();
        if best.is_none_or(|(_, s, _)| search < s) {
            best = Some((r.unique_states, search, total));
        }
    }
    let (states, search, total) = best.expect("at least one check");
    let cpu = (cpu_secs() - cpu_before) / loops as f64;
    println!("{states} {search:.6} {total:.6} {} {cpu:.4}", peak_kib());
}

/// stateright's own cost per state, the floor under any model's: a model whose state
/// is six counters of 0..8 (262,144 states, each successor one counter up, paths 42
/// steps long like the mirror model's 30-40), with as many properties as the one-way
/// mirror model (seven `always`, five `sometimes`), checked by BFS.
/// `--floor THREADS` prints `states seconds states_per_s`.
fn floor(args: &[String]) {
    use stateright::{Checker, Model, Property};
    const DIGITS: usize = 6;
    const BASE: u8 = 8;
    struct Counters;
    impl Model for Counters {
        type State = [u8; DIGITS];
        type Action = usize;
        fn init_states(&self) -> Vec<[u8; DIGITS]> {
            vec![[0; DIGITS]]
        }
        fn actions(&self, s: &[u8; DIGITS], actions: &mut Vec<usize>) {
            actions.extend((0..DIGITS).filter(|&i| s[i] + 1 < BASE));
        }
        fn next_state(&self, s: &[u8; DIGITS], i: usize) -> Option<[u8; DIGITS]> {
            let mut n = *s;
            n[i] += 1;
            Some(n)
        }
        fn properties(&self) -> Vec<Property<Self>> {
            let always = ["a0", "a1", "a2", "a3", "a4", "a5", "a6"]
                .map(|n| Property::<Self>::always(n, |_, s| s[0] < BASE));
            let sometimes = ["s0", "s1", "s2", "s3", "s4"]
                .map(|n| Property::<Self>::sometimes(n, |_, s| s.iter().all(|&d| d + 1 == BASE)));
            always.into_iter().chain(sometimes).collect()
        }
    }
    let threads: usize = args[0].parse().expect("--floor THREADS");
    let start = Instant::now();
    let c = Counters.checker().threads(threads).spawn_bfs().join();
    let secs = start.elapsed().as_secs_f64();
    let states = c.unique_state_count();
    println!("{states} {secs:.6} {:.0}", states as f64 / secs);
}

/// User + system CPU time of this process so far (`/proc/self/stat`, clock ticks of
/// 10 ms): on a shared machine, the work done, whatever the other processes take.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    match (f.get(11), f.get(12)) {
        (Some(u), Some(s)) => (u + s) as f64 / 100.0,
        _ => 0.0,
    }
}

/// Peak resident set size of this process (`VmHWM`), in KiB.
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}
