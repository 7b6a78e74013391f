//! Simulator speed: events/s and transactions/s on the fig4-5 and bank loads
//! (`common/loads.rs`) at 10^4 and 10^5 transactions, under the copy-on-write OWM
//! policy, history and timeline off. Each load and size is measured twice, once with
//! criterion's throughput in events (group `sim-events`) and once in transactions
//! (group `sim-transactions`); the event count of a run is fixed by its seed, so it is
//! taken from one untimed run first.
//!
//! Time is the benchmark thread's **CPU time** (`common/cpu.rs`), not wall time: the
//! targets speak of one core, and on the shared 2-core machine a run often gets far
//! less than a core (on an idle machine the two agree). Criterion prints it as "time".
//!
//! Run: `cargo bench -p owm-sim --bench simulator` (about 50 s: 10 samples, 4 s of
//! measurement each). 10^6 transactions, and peak memory, come from the one-shot
//! `cargo run --release -p owm-sim --example scale` (one fresh process per size).
//!
//! Under `cargo test --benches` (no `--bench` argument) criterion runs each routine
//! once as a smoke test; the sizes are then cut to 10^3 so the debug-ish test profile
//! stays quick.

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use sim::{run, Policy};

mod common {
    pub mod cpu;
    pub mod loads;
}
use common::cpu::thread_cpu_ns;
use common::loads::Load;

/// Criterion measurement: CPU time of the benchmark thread, as a `Duration` (so
/// criterion's time formatting applies).
struct CpuTime;

/// Only for its formatter (durations in nanoseconds, as `CpuTime::to_f64` gives).
static WALL_TIME: WallTime = WallTime;

impl Measurement for CpuTime {
    type Intermediate = u64;
    type Value = Duration;

    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, started: u64) -> Duration {
        Duration::from_nanos(thread_cpu_ns() - started)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, d: &Duration) -> f64 {
        d.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        WALL_TIME.formatter()
    }
}

const SEED: u64 = 1;
const POLICY: Policy = Policy::Owm(engine::Variant::CopyOnWrite);

/// Criterion's benchmark mode is `cargo bench`, which passes `--bench`; anything else
/// (`cargo test --benches`) is its one-iteration test mode.
fn smoke() -> bool {
    !std::env::args().any(|a| a == "--bench")
}

fn simulator(c: &mut Criterion<CpuTime>) {
    let sizes: &[u64] = if smoke() {
        &[1_000]
    } else {
        &[10_000, 100_000]
    };
    // (load, transactions, events of the run)
    let mut cases = Vec::new();
    for load in Load::ALL {
        for &n in sizes {
            let r = run(&load.scenario(n), POLICY, SEED).expect("run").result;
            assert_eq!(
                r.costs.committed,
                n,
                "{}: every transaction commits",
                load.name()
            );
            cases.push((load, n, r.events));
        }
    }
    for unit in ["events", "transactions"] {
        let mut g = c.benchmark_group(format!("sim-{unit}"));
        g.sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(4))
            .sampling_mode(SamplingMode::Flat);
        for &(load, n, events) in &cases {
            let elements = if unit == "events" { events } else { n };
            g.throughput(Throughput::Elements(elements));
            let scenario = load.scenario(n);
            g.bench_with_input(BenchmarkId::new(load.name(), n), &scenario, |b, s| {
                b.iter(|| run(black_box(s), POLICY, SEED).expect("run").result.events)
            });
        }
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().without_plots().with_measurement(CpuTime);
    targets = simulator
}
criterion_main!(benches);
