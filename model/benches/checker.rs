//! Checker throughput under criterion: the default `owm check` configuration (6,789
//! unique states) on 1 and 2 threads; throughput is in unique states.
//!
//! Run: `cargo bench -p owm-model --bench checker` (a few seconds). CI runs it once in
//! criterion's test mode (`cargo test --workspace --benches`), so it cannot rot.
//! The table in BENCHMARKS.md (larger configurations, peak memory, CPU time, and
//! stateright's own floor) comes from `cargo run --release -p owm-model --example bench`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use model::CheckConfig;

fn checker(c: &mut Criterion) {
    let mut g = c.benchmark_group("check-default");
    let states = model::check(&CheckConfig {
        threads: 1,
        ..CheckConfig::default()
    })
    .expect("check")
    .unique_states;
    g.throughput(Throughput::Elements(states as u64));
    g.sample_size(20);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));
    for threads in [1, 2] {
        let cfg = CheckConfig {
            threads,
            ..CheckConfig::default()
        };
        g.bench_function(format!("{threads}-threads"), |b| {
            b.iter(|| {
                let r = model::check(&cfg).expect("check");
                assert_eq!(r.unique_states, states);
                r
            })
        });
    }
    g.finish();
}

criterion_group!(benches, checker);
criterion_main!(benches);
