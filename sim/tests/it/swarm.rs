//! Swarm testing (TigerBeetle's VOPR style): each seed draws a whole configuration —
//! workload, geometry, device latencies and channels, setup window, request time,
//! aborts, policy — from the safe part of the space (conservative 2PL on blocks, or
//! one record per block, or incremental 2PL with type (b) locks on every block), and
//! every invariant must hold.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sim::{
    Arrivals, BankConfig, Discipline, Fig45Config, GeneratedConfig, Granularity, HotSpot, Policy,
    Scenario, WorkloadConfig,
};

use super::common::{describe, run};

pub(super) fn draw(seed: u64) -> (Scenario, Policy) {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let workload = match r.random_range(0..3) {
        0 => WorkloadConfig::Fig45(Fig45Config {
            records: r.random_range(4..64),
            transactions: r.random_range(5..60),
            arrival_ticks_mean: r.random_range(5..80),
            processes: r.random_range(1..4),
            ..Fig45Config::default()
        }),
        1 => WorkloadConfig::Bank(BankConfig {
            accounts: r.random_range(2..64),
            transactions: r.random_range(5..150),
            arrival_ticks_mean: r.random_range(5..60),
            compute_ticks_max: r.random_range(5..200),
            ..BankConfig::default()
        }),
        _ => WorkloadConfig::Generated(GeneratedConfig {
            records: r.random_range(4..200),
            transactions: r.random_range(5..150),
            arrivals: if r.random_bool(0.5) {
                Arrivals::Open {
                    interarrival_ticks_mean: r.random_range(20..120),
                }
            } else {
                Arrivals::Closed {
                    clients: r.random_range(1..8),
                    think_ticks_mean: r.random_range(0..100),
                }
            },
            length_max: r.random_range(1..6),
            write_fraction: r.random_range(0.0..1.0),
            hot_spot: if r.random_bool(0.5) {
                HotSpot::Uniform
            } else {
                HotSpot::Zipf {
                    exponent: r.random_range(0.5..1.5),
                }
            },
            ..GeneratedConfig::default()
        }),
    };
    let mut s = Scenario::with_workload(workload);
    let block = [32usize, 64, 128][r.random_range(0..3)];
    s.geometry.block_size_bytes = block;
    s.geometry.records_per_block = [1u64, 2, 4][r.random_range(0..3)].min(block as u64 / 16);
    s.device.read_latency_ticks = r.random_range(0..30);
    s.device.write_latency_ticks = r.random_range(0..60);
    s.device.table_update_latency_ticks = r.random_range(0..5);
    s.device.channels = r.random_range(1..8);
    s.device.jitter_ticks_max = r.random_range(0..10);
    s.backup.setup_window_ticks = r.random_range(0..300);
    s.backup.request_at_ticks = Some(r.random_range(0..3000));
    s.archive.bandwidth_bytes_per_s = r.random_range(1_000_000..200_000_000);
    s.archive.extent_blocks = r.random_range(1..100);
    s.abort_probability = if r.random_bool(0.3) { 0.2 } else { 0.0 };
    match r.random_range(0..3) {
        0 => {}
        1 => {
            s.locking.granularity = Granularity::Record;
            s.geometry.records_per_block = 1;
        }
        _ => {
            s.locking.discipline = Discipline::Incremental;
            let blocks = s.layout().unwrap().volume_blocks;
            s.locking.type_b_blocks = (0..blocks).collect();
        }
    }
    let policy = [
        Policy::Quiesce,
        Policy::OWM[0],
        Policy::OWM[1],
        Policy::OWM[2],
    ][r.random_range(0..4)];
    // One draw in four copies VLUN B to B' after each retire (b-prime-faithful).
    if r.random_bool(0.25) {
        s.detach = Some(sim::ArchiveConfig {
            bandwidth_bytes_per_s: r.random_range(1_000_000..200_000_000),
            extent_blocks: r.random_range(1..100),
            ..sim::ArchiveConfig::default()
        });
    }
    (s, policy)
}

#[test]
fn every_invariant_holds_across_drawn_configurations() {
    let (mut committed, mut aborted, mut old_at_split) = (0, 0, 0);
    for seed in 0..2000 {
        let (s, policy) = draw(seed);
        let (r, _) = run(&s, policy, seed);
        let c = &r.costs;
        assert_eq!(
            c.committed + c.aborted - c.deadlock_aborts,
            super::common::emitted(&s),
            "seed {seed}: every transaction ends once (deadlock victims retry)"
        );
        committed += r.costs.committed;
        aborted += r.costs.aborted;
        old_at_split += u64::from(
            r.transactions
                .iter()
                .any(|t| t.old && t.ended_ticks > r.marks.split),
        );
        assert!(
            super::common::safety_violations(&r).is_empty(),
            "{}\nconfiguration: {s:?}",
            describe(&s, policy, seed, &r)
        );
    }
    // Not vacuous: work was done, some aborted, and old transactions often outlived the split.
    println!("swarm: {committed} committed, {aborted} aborted, {old_at_split} runs with old transactions past the split");
    assert!(committed > 50_000 && aborted > 0 && old_at_split > 250);
}
