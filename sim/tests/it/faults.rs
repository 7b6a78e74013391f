//! Fault injection (issue 8), VOPR style: each seed draws a configuration (the swarm's)
//! and its fault rates — crashes with torn and lost writes, read and write errors,
//! latency spikes — for a safety phase; then the faults heal and the run must converge:
//! end, with every invariant holding. A failing seed is printed with the `owm run`
//! command that replays it.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sim::{run, FaultCounts, Policy, Run, Scenario};

use super::common::emitted;
use super::swarm::draw;

/// Seeds per OWM variant in the default `cargo test`.
const SEEDS: u64 = 500;

/// Draws the seed's fault rates onto `s` (swarm style: each fault on or off, then its
/// rate): a fault window that ends at `heal_at_ticks`, after every crash.
pub(super) fn draw_faults(seed: u64, s: &mut Scenario) {
    // The copy to B' is not modelled under injected faults (validation refuses both).
    s.detach = None;
    let mut r = ChaCha8Rng::seed_from_u64(seed ^ 0xfa17_fa17_fa17_fa17);
    let f = &mut s.faults;
    let on = |r: &mut ChaCha8Rng| r.random_bool(0.6);
    f.read_error_probability = if on(&mut r) {
        r.random_range(0.0..0.1)
    } else {
        0.0
    };
    f.write_error_probability = if on(&mut r) {
        r.random_range(0.0..0.05)
    } else {
        0.0
    };
    f.latency_spike_probability = if on(&mut r) {
        r.random_range(0.0..0.2)
    } else {
        0.0
    };
    f.latency_spike_ticks_max = r.random_range(1..2000);
    f.io_retry_ticks = r.random_range(0..100);
    let crashes = r.random_range(0..4);
    f.crash_at_ticks = (0..crashes).map(|_| r.random_range(0..4000)).collect();
    // Each tick once (a tick given twice is refused).
    let mut seen = std::collections::BTreeSet::new();
    f.crash_at_ticks.retain(|&t| seen.insert(t));
    f.torn_write_probability = r.random_range(0.0..0.6);
    f.lost_write_probability = r.random_range(0.0..1.0 - f.torn_write_probability);
    let last_crash = f.crash_at_ticks.iter().copied().max().unwrap_or(0);
    f.heal_at_ticks = Some(last_crash + 1 + r.random_range(0..3000));
}

/// The file and command that replay a seed with `owm run`.
pub(super) fn reproduce(s: &Scenario, policy: Policy, seed: u64) -> String {
    let body = toml::to_string(s).expect("a scenario serializes");
    let text = format!("policies = [\"{policy}\"]\nseed = {seed}\n{body}");
    let path = std::env::temp_dir().join(format!("owm-faults-{policy}-{seed}.toml"));
    match std::fs::write(&path, &text) {
        Ok(()) => format!(
            "reproduce: cargo run --release -- run {} --seed {seed}",
            path.display()
        ),
        Err(e) => format!(
            "(could not write {}: {e}); scenario:\n{text}",
            path.display()
        ),
    }
}

fn run_checked(s: &Scenario, policy: Policy, seed: u64) -> Run {
    let run = sim::run_keeping_history(s, policy, seed).unwrap_or_else(|e| {
        panic!(
            "{} / {policy} / seed {seed}: did not converge: {e}\n{}",
            s.name,
            reproduce(s, policy, seed)
        )
    });
    let r = &run.result;
    // Every safety invariant; not non-disruption: a latency spike on a backup call
    // stalls the users queued behind it past the setup window (judged, reported).
    assert!(
        super::common::safety_violations(r).is_empty(),
        "{} / {policy} / seed {seed}: {}\nfaults: {:?}\n{}",
        s.name,
        r.violations
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
        run.faults,
        reproduce(s, policy, seed)
    );
    let c = &r.costs;
    assert_eq!(
        c.committed + c.aborted - c.deadlock_aborts,
        emitted(s),
        "{} / {policy} / seed {seed}: every transaction ends once\n{}",
        s.name,
        reproduce(s, policy, seed)
    );
    run
}

fn add(total: &mut FaultCounts, c: &FaultCounts) {
    total.crashes += c.crashes;
    total.crash_aborts += c.crash_aborts;
    total.torn_writes += c.torn_writes;
    total.lost_writes += c.lost_writes;
    total.kept_writes += c.kept_writes;
    total.read_errors += c.read_errors;
    total.write_errors += c.write_errors;
    total.write_error_aborts += c.write_error_aborts;
    total.latency_spikes += c.latency_spikes;
    total.flushes += c.flushes;
}

/// Every invariant holds after convergence, over `SEEDS` seeds per OWM variant, and
/// the faults really happened (the property is not vacuous).
#[test]
fn every_invariant_holds_after_faults_heal() {
    check_seeds(0..SEEDS);
}

/// The long run: `cargo test --release -p owm-sim faults_heal_long -- --ignored`.
#[test]
#[ignore = "long: 20,000 seeds per OWM variant"]
fn every_invariant_holds_after_faults_heal_long() {
    check_seeds(0..20_000);
}

fn check_seeds(seeds: std::ops::Range<u64>) {
    let n = seeds.end - seeds.start;
    for policy in Policy::OWM {
        let mut total = FaultCounts::default();
        let mut committed = 0;
        for seed in seeds.clone() {
            let (mut s, _) = draw(seed);
            draw_faults(seed, &mut s);
            let run = run_checked(&s, policy, seed);
            add(&mut total, &run.faults);
            committed += run.result.costs.committed;
        }
        println!("faults / {policy}: {n} seeds, {committed} committed, {total:?}");
        assert!(
            total.crashes > 100
                && total.crash_aborts > 0
                && total.torn_writes > 0
                && total.lost_writes > 0
                && total.read_errors > 0
                && total.write_errors > 0
                && total.write_error_aborts > 0
                && total.latency_spikes > 0,
            "{policy}: some fault never happened: {total:?}"
        );
    }
}

/// The baselines survive the same faults too (fewer seeds: they are not the product).
#[test]
fn baselines_converge_after_faults_heal() {
    for seed in 0..100 {
        let (mut s, _) = draw(seed);
        draw_faults(seed, &mut s);
        run_checked(&s, Policy::Quiesce, seed);
    }
}

/// With faults on, the same seed gives the same bytes, and another seed other bytes.
#[test]
fn faulted_runs_are_deterministic() {
    for seed in [3u64, 17, 99, 1234] {
        let (mut s, _) = draw(seed);
        draw_faults(seed, &mut s);
        for policy in Policy::OWM {
            let a = run_checked(&s, policy, seed);
            let b = run_checked(&s, policy, seed);
            let (ha, hb) = (a.history.unwrap(), b.history.unwrap());
            assert_eq!(ha.encode(), hb.encode(), "{policy} seed {seed}");
            assert_eq!(a.result, b.result);
            assert_eq!(a.faults, b.faults);
            let c = run_checked(&s, policy, seed + 1);
            assert_ne!(
                ha.encode(),
                c.history.unwrap().encode(),
                "{policy} seed {seed}"
            );
        }
    }
}

/// A crash in the middle of a busy bank run: transactions in flight abort, writes are
/// torn or lost, and after recovery the balances still add up.
#[test]
fn a_crash_mid_run_keeps_the_bank_balanced() {
    let mut s = super::common::bank();
    s.faults.crash_at_ticks = vec![400, 900, 1500];
    s.faults.torn_write_probability = 0.5;
    s.faults.lost_write_probability = 0.5;
    let (mut crashes, mut aborts, mut torn) = (0, 0, 0);
    for policy in Policy::OWM {
        for seed in 0..40 {
            let run = run_checked(&s, policy, seed);
            crashes += run.faults.crashes;
            aborts += run.faults.crash_aborts;
            torn += run.faults.torn_writes + run.faults.lost_writes;
        }
    }
    assert_eq!(crashes, 3 * 3 * 40);
    assert!(aborts > 0 && torn > 0, "{aborts} aborts, {torn} torn/lost");
}

/// Mutant: without the engine's flush barriers (`power_safe = false`) the same faults
/// break runs — so the faulted runs above would catch an unsafe write order.
#[test]
fn without_the_engines_barriers_crashes_break_runs() {
    let mut broken = 0;
    let mut how = std::collections::BTreeMap::new();
    for policy in Policy::OWM {
        for seed in 0..200 {
            let (mut s, _) = draw(seed);
            draw_faults(seed, &mut s);
            s.faults.power_safe = false;
            let what = match run(&s, policy, seed) {
                Err(e) => format!(
                    "{policy}: no convergence ({})",
                    e.to_string().split(':').nth(1).unwrap_or("").trim()
                ),
                Ok(r) if !r.result.violations.is_empty() => {
                    format!("{policy}: {}", r.result.violations[0].invariant)
                }
                Ok(_) => continue,
            };
            broken += 1;
            *how.entry(what).or_insert(0) += 1;
        }
    }
    println!("without barriers: {broken} of 600 runs broken: {how:#?}");
    assert!(broken > 0);
}

/// The reproduction file is a scenario the CLI's parser reads back as the same one.
#[test]
fn reproduction_files_round_trip() {
    for seed in 0..50 {
        let (mut s, _) = draw(seed);
        draw_faults(seed, &mut s);
        let text = toml::to_string(&s).unwrap();
        let back: Scenario = toml::from_str(&text).unwrap();
        assert_eq!(back, s, "seed {seed}:\n{text}");
    }
}

/// Bad fault sections are refused with a typed error.
#[test]
fn bad_fault_sections_are_refused() {
    for text in [
        "[faults]\nread_error_probability = 1.0",
        "[faults]\nwrite_error_probability = -0.1",
        "[faults]\ntorn_write_probability = 0.7\nlost_write_probability = 0.7",
        "[faults]\ncrash_at_ticks = [10, 500]\nheal_at_ticks = 500",
        "[faults]\nlatency_spike_probability = 2.0",
    ] {
        let s: Scenario = toml::from_str(text).unwrap();
        let e = s.validate().expect_err(text);
        assert!(e.to_string().contains("faults"), "{text}: {e}");
    }
    assert!(toml::from_str::<Scenario>("[faults]\ncrash_at = 5").is_err());
}

/// The end of a fault window that comes after the run's last event changes nothing:
/// with `heal_at_ticks` at 10^10 or 10^10 + 777 (and a crash in the run), every result
/// field and record equals, on every seed and policy. The `Heal` event only disarms the
/// faults for later events: it once held the run open until it, making `end_ticks`
/// the heal time.
#[test]
fn a_heal_after_the_run_changes_nothing() {
    let mut compared = 0;
    for seed in 1..=6 {
        for policy in [Policy::Quiesce, Policy::Owm(engine::Variant::CopyOnWrite)] {
            let runs: Vec<Run> = [10_000_000_000, 10_000_000_777]
                .into_iter()
                .map(|heal| {
                    let mut s = Scenario::default();
                    let f = &mut s.faults;
                    f.read_error_probability = 0.02;
                    f.write_error_probability = 0.02;
                    f.latency_spike_probability = 0.05;
                    f.latency_spike_ticks_max = 500;
                    f.crash_at_ticks = vec![2_000];
                    f.heal_at_ticks = Some(heal);
                    run(&s, policy, seed).unwrap_or_else(|e| panic!("seed {seed} {policy}: {e}"))
                })
                .collect();
            let (a, b) = (&runs[0].result, &runs[1].result);
            assert!(a.end_ticks < 10_000_000_000, "seed {seed} {policy}");
            assert_eq!(a, b, "seed {seed} {policy}");
            assert_eq!(runs[0].faults, runs[1].faults, "seed {seed} {policy}");
            assert!(runs[0].faults.crashes > 0, "seed {seed} {policy}");
            compared += 1;
        }
    }
    assert_eq!(compared, 12);
}
