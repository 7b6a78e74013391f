//! The extra-space figures agree with the series they summarise: each cycle's
//! `cycle_extra_space_blocks_peak` is the highest extra space `extra_space.csv` shows
//! over that cycle's span, and the run's `extra_space_blocks_peak` the highest of the
//! whole series. Over schedules of two and three cycles, small data areas under both
//! overflow policies, transactions that abort (their rollbacks write before-images
//! through VLUN B, entering blocks in the table), and every policy on every engine
//! variant.

use engine::Variant;
use sim::{
    run, BankConfig, OnDataAreaFull, Policy, RunResult, Scenario, SpacePoint, WorkloadConfig,
};

use super::common;

const SEEDS: u64 = 100;

/// Every backup policy, the baselines on each engine variant as well.
fn policies() -> Vec<(Policy, Variant)> {
    let mut all = Vec::new();
    for v in [
        Variant::WriteMirroring,
        Variant::WriteLogging,
        Variant::CopyOnWrite,
    ] {
        all.push((Policy::Quiesce, v));
        all.push((Policy::CrashConsistent, v));
        all.push((Policy::Owm(v), Variant::WriteMirroring));
    }
    all
}

/// Long transfers arriving every 50 ticks, 30 % of them aborting, on a data area of
/// `slots` slots, backed up at each of `at`.
fn aborting_transfers(slots: u64, on_full: OnDataAreaFull, at: &[u64]) -> Scenario {
    let mut s = Scenario::with_workload(WorkloadConfig::Bank(BankConfig {
        accounts: 256,
        transactions: 300,
        arrival_ticks_mean: 50,
        compute_ticks_min: 20,
        compute_ticks_max: 2_000,
        ..BankConfig::default()
    }));
    s.name = format!("aborting-transfers-{slots}-{}", on_full.as_str());
    s.abort_probability = 0.3;
    s.backup.schedule_at_ticks = at.to_vec();
    s.backup.data_area_blocks = Some(slots);
    s.backup.on_data_area_full = on_full;
    s.archive.bandwidth_bytes_per_s = 4_000_000;
    s
}

/// The small busy bank, three cycles close together (the later ones queued), a
/// fifth of the transfers aborting, a data area of `slots` slots.
fn busy_bank(slots: u64, on_full: OnDataAreaFull) -> Scenario {
    let mut s = common::bank();
    s.name = format!("busy-bank-{slots}-{}", on_full.as_str());
    s.abort_probability = 0.2;
    s.backup.schedule_at_ticks = vec![300, 900, 1_000];
    s.backup.data_area_blocks = Some(slots);
    s.backup.on_data_area_full = on_full;
    s.archive.bandwidth_bytes_per_s = 200_000;
    s
}

fn scenarios() -> Vec<Scenario> {
    let mut all = Vec::new();
    for on_full in [
        OnDataAreaFull::BreakGuestWrite,
        OnDataAreaFull::BreakSnapshot,
    ] {
        all.push(aborting_transfers(3, on_full, &[3_000, 6_001]));
        all.push(aborting_transfers(5, on_full, &[3_000, 6_000, 9_000]));
        all.push(busy_bank(2, on_full));
    }
    // A data area of the whole volume: never full.
    let mut roomy = aborting_transfers(3, OnDataAreaFull::default(), &[3_000, 6_000]);
    roomy.backup.data_area_blocks = None;
    roomy.name = "aborting-transfers-roomy".into();
    all.push(roomy);
    all
}

/// The highest extra space the series holds from `start` to `end` (inclusive): the
/// value standing at `start` and every change after it up to `end`. `at_start_last`
/// takes the value standing at `start` as the last of that tick's points (a lower
/// bound of what the cycle saw); otherwise as any of them, and the value before.
fn series_max(points: &[SpacePoint], start: u64, end: u64, at_start_last: bool) -> u64 {
    let standing = if at_start_last {
        points.iter().rev().find(|p| p.time_ticks <= start)
    } else {
        points.iter().rev().find(|p| p.time_ticks < start)
    };
    let inside = points.iter().filter(|p| {
        if at_start_last {
            p.time_ticks > start && p.time_ticks <= end
        } else {
            p.time_ticks >= start && p.time_ticks <= end
        }
    });
    standing
        .into_iter()
        .chain(inside)
        .map(|p| p.extra_space_blocks)
        .max()
        .unwrap_or(0)
}

/// Checks one run; returns how many of its cycles saw their extra space grow after
/// they started (the cases a missed sample would get wrong).
fn check(s: &Scenario, p: Policy, seed: u64, r: &RunResult) -> u32 {
    let points = &r.extra_space;
    assert!(!points.is_empty(), "{} {p} seed {seed}: a series", s.name);
    let whole = points.iter().map(|q| q.extra_space_blocks).max().unwrap();
    assert_eq!(
        r.costs.extra_space_blocks_peak, whole,
        "{} {p} seed {seed}: the run's peak is the series' highest",
        s.name
    );
    let mut grew = 0;
    for c in &r.cycles {
        let start = c.window.start_ticks;
        let end = c.window.end_ticks.unwrap_or(r.end_ticks);
        // Points of the cycle's first tick may come before or after its start; the
        // cycle's peak lies between what it must have seen and what it may have.
        let seen = series_max(points, start, end, true);
        let may = series_max(points, start, end, false);
        let peak = c.extra_space_blocks_peak;
        assert!(
            seen <= peak && peak <= may,
            "{} {p} seed {seed} cycle {} ({start}..={end}): peak {peak}, the series \
             {seen}..={may}",
            s.name,
            c.cycle
        );
        if peak > series_max(points, start, start, true) {
            grew += 1;
        }
    }
    grew
}

#[test]
fn every_cycle_peak_is_the_series_highest_over_its_span() {
    let mut grew = 0;
    let mut aborted = 0;
    for base in scenarios() {
        for (p, baseline) in policies() {
            let mut s = base.clone();
            s.backup.baseline_variant = baseline;
            s.name = format!("{} (baseline {baseline:?})", base.name);
            // The oracle is not needed: the figures are the device's.
            s.keep_history = false;
            for seed in 0..SEEDS {
                let r = run(&s, p, seed)
                    .unwrap_or_else(|e| panic!("{} {p} seed {seed}: {e}", s.name))
                    .result;
                assert!(!r.cycles.is_empty(), "{} {p} seed {seed}", s.name);
                grew += check(&s, p, seed, &r);
                aborted += r.costs.aborted;
            }
        }
    }
    // Non-vacuity: cycles whose extra space grew after their start, and rollbacks.
    assert!(grew > 1_000, "{grew} cycles grew");
    assert!(aborted > 10_000, "{aborted} aborted attempts");
}
