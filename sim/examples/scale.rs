//! How the simulator's time and memory grow with the work: the fig4-5 and bank loads
//! of the criterion bench (`benches/common/loads.rs`) at 10^4, 10^5 and 10^6
//! transactions, each run once in a fresh process so its peak memory (VmHWM from
//! /proc/self/status) is its own.
//!
//! Rates are per second of CPU time of the run (`benches/common/cpu.rs`: the thread's
//! CPU clock): the time on one core, so that a machine shared with other
//! builds does not cut them; the wall time is printed too (on an idle machine the two
//! agree).
//!
//! `cargo run --release -p owm-sim --example scale -- [policy] [max transactions]`
//! (defaults: cow, 1000000). The example re-executes itself once per load and size as
//! `scale --one <load> <transactions> <policy>` and prints one table row per child.
//! The wall clock is read here, outside the library (the simulator itself never
//! reads it).

use std::process::Command;
use std::time::Instant;

use sim::{run, Policy};

#[path = "../benches/common/cpu.rs"]
mod cpu;
#[path = "../benches/common/loads.rs"]
mod loads;
use loads::Load;

const SEED: u64 = 1;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--one") {
        let load = args.get(2).and_then(|s| Load::parse(s)).expect("load");
        let n: u64 = args
            .get(3)
            .and_then(|s| s.parse().ok())
            .expect("transactions");
        let policy: Policy = args.get(4).and_then(|s| s.parse().ok()).expect("policy");
        one(load, n, policy);
        return;
    }
    let policy: Policy = args
        .get(1)
        .map(|s| {
            s.parse()
                .expect("policy: quiesce|crash-consistent|mirroring|logging|cow")
        })
        .unwrap_or(Policy::Owm(engine::Variant::CopyOnWrite));
    let max: u64 = args
        .get(2)
        .map(|s| s.parse().expect("max transactions"))
        .unwrap_or(1_000_000);
    let exe = std::env::current_exe().expect("own path");
    println!("policy {policy}, seed {SEED}, history and timeline off, one process per row");
    println!(
        "{:<7} {:>12} {:>10} {:>8} {:>8} {:>12} {:>10} {:>8} {:>13}",
        "load",
        "transactions",
        "events",
        "wall s",
        "CPU s",
        "M events/s",
        "k txn/s",
        "ns/txn",
        "peak RSS MiB"
    );
    for load in Load::ALL {
        let mut n = 10_000;
        while n <= max {
            let out = Command::new(&exe)
                .args(["--one", load.name(), &n.to_string(), &policy.to_string()])
                .output()
                .expect("re-execute");
            assert!(
                out.status.success(),
                "child failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let line = String::from_utf8(out.stdout).expect("utf-8");
            let f: Vec<f64> = line
                .split_whitespace()
                .map(|x| x.parse().expect("number"))
                .collect();
            let (events, wall, cpu, hwm_kib) = (f[0], f[1], f[2], f[3]);
            println!(
                "{:<7} {:>12} {:>10} {:>8.3} {:>8.3} {:>12.2} {:>10.0} {:>8.0} {:>13.1}",
                load.name(),
                n,
                events,
                wall,
                cpu,
                events / cpu / 1e6,
                n as f64 / cpu / 1e3,
                cpu * 1e9 / n as f64,
                hwm_kib / 1024.0
            );
            n *= 10;
        }
    }
}

/// One run; prints `events wall_seconds cpu_seconds peak_rss_kib` for the parent.
fn one(load: Load, n: u64, policy: Policy) {
    let scenario = load.scenario(n);
    let cpu_started = cpu::thread_cpu_ns();
    let started = Instant::now();
    let r = run(&scenario, policy, SEED).expect("run").result;
    let wall = started.elapsed().as_secs_f64();
    let cpu = (cpu::thread_cpu_ns() - cpu_started) as f64 / 1e9;
    assert_eq!(r.costs.committed, n, "every transaction commits");
    println!("{} {wall} {cpu} {}", r.events, peak_rss_kib());
}

/// VmHWM of this process in KiB (0 where /proc is missing).
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
