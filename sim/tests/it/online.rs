//! The invariants judged online (`sim::judge`, as the simulator runs) give exactly
//! the verdicts of the whole-history reference (`oracle_reference`): the same
//! invariants, event indices, messages and transactions, on every shipped scenario,
//! on swarm-drawn configurations with and without injected faults, and on those
//! histories mutated so that every invariant breaks somewhere (so that the agreement
//! is not only on clean records).

use std::collections::BTreeMap;

use engine::Vlun;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sim::{Event, History, Invariant, Policy, Scenario, Violation};

use super::faults::draw_faults;
use super::oracle_reference as reference;
use super::shipped::shipped;
use super::swarm::draw;

/// Seeds of the swarm comparison (each with and without faults, every policy).
const SEEDS: u64 = 120;

/// Compares the judge with the reference on `h` (whole and per invariant); returns the
/// reference's violations.
fn agree(h: &History, what: &str) -> Vec<Violation> {
    let want = reference::check_all(h);
    assert_eq!(sim::check_all(h), want, "{what}");
    for inv in Invariant::ALL {
        assert_eq!(inv.check(h), reference::check(inv, h), "{what}: {inv}");
    }
    want
}

/// Runs with the record kept and without: the verdicts found as the run went equal
/// the reference's over the record, and keeping the record changes nothing.
fn run_agrees(s: &Scenario, p: Policy, seed: u64, what: &str) -> Option<History> {
    let kept = match sim::run_keeping_history(s, p, seed) {
        Ok(r) => r,
        Err(_) => return None, // a configuration that cannot run: judged by its own tests
    };
    let h = kept.history.expect("the scenario keeps its history");
    let want = agree(&h, what);
    assert_eq!(
        kept.result.violations, want,
        "{what}: online during the run"
    );
    let plain = sim::run(s, p, seed).expect("ran once already").result;
    assert_eq!(plain.violations, want, "{what}: without the record");
    assert!(plain.invariants_judged);
    Some(h)
}

/// A copy of `h` with one event changed, the way a faulty device or engine would
/// change it; `None` when event `k` has nothing to change.
fn mutate(h: &History, k: usize, r: &mut ChaCha8Rng) -> Option<History> {
    let mut m = h.clone();
    let e = &mut m.events[k].event;
    match e {
        Event::Begin {
            gate_wait_ticks, ..
        } => *gate_wait_ticks += r.random_range(1..1_000_000),
        Event::ReadBlock { digest, .. } => *digest ^= 1 << r.random_range(0..64),
        Event::WriteBlock { vlun, .. } => {
            *vlun = match vlun {
                Vlun::A => Vlun::B,
                Vlun::B => Vlun::A,
            }
        }
        Event::ReadRecord { value, .. } | Event::WriteRecord { value, .. } => {
            *value = value.wrapping_add(r.random_range(1..5))
        }
        Event::Commit {
            txn,
            backup_wait_ticks_max,
        } => {
            *e = Event::Abort {
                txn: *txn,
                backup_wait_ticks_max: *backup_wait_ticks_max,
            }
        }
        Event::Abort {
            txn,
            backup_wait_ticks_max,
        } => {
            *e = Event::Commit {
                txn: *txn,
                backup_wait_ticks_max: *backup_wait_ticks_max + r.random_range(0..1_000_000),
            }
        }
        Event::Retire { extra_space_blocks } => *extra_space_blocks += 1,
        Event::AConsistent { image }
        | Event::Archive { image }
        | Event::End { live: image }
        | Event::BPrime { b_prime: image, .. } => {
            let layout = h.layout;
            let block = r.random_range(0..layout.volume_blocks);
            let record = block * layout.records_per_block();
            let delta = r.random_range(1..5);
            image.update_block(&layout, &h.initial, block, |d| {
                let off = layout.offset_in_block(record);
                let (v, s) = sim::history::read_record(&d[off..]);
                sim::history::write_record(&mut d[off..], v + delta, s);
            });
        }
        Event::Split
        | Event::BReady
        | Event::Abandon
        | Event::QuiesceTimeout { .. }
        | Event::QuiesceRetry { .. }
        | Event::GiveUp
        | Event::WriteRefused { .. }
        | Event::Unreadable { .. } => {
            m.events.remove(k);
        }
    }
    Some(m)
}

/// Mutates `h` at `n` random events and compares each; counts the violations found.
fn mutants_agree(
    h: &History,
    n: usize,
    seed: u64,
    what: &str,
    seen: &mut BTreeMap<Invariant, u64>,
) {
    if h.events.is_empty() {
        return;
    }
    let mut r = ChaCha8Rng::seed_from_u64(seed ^ 0x0417_0417);
    for _ in 0..n {
        let k = r.random_range(0..h.events.len());
        let Some(m) = mutate(h, k, &mut r) else {
            continue;
        };
        for v in agree(&m, &format!("{what}, event {k} mutated")) {
            *seen.entry(v.invariant).or_default() += 1;
        }
    }
}

#[test]
fn online_verdicts_equal_the_whole_history_ones_on_every_shipped_scenario() {
    let mut seen = BTreeMap::new();
    let mut runs = 0;
    for (label, s, policies, seeds) in shipped() {
        if !s.keep_history {
            continue;
        }
        for &seed in seeds.iter().take(1) {
            for &p in &policies {
                let what = format!("{label} {p} seed {seed}");
                let Some(h) = run_agrees(&s, p, seed, &what) else {
                    continue;
                };
                runs += 1;
                mutants_agree(&h, 6, seed, &what, &mut seen);
            }
        }
    }
    assert!(runs >= 30, "{runs} runs compared");
    assert!(!seen.is_empty(), "no mutant broke an invariant");
}

#[test]
fn online_verdicts_equal_the_whole_history_ones_on_swarm_and_fault_runs() {
    let mut seen: BTreeMap<Invariant, u64> = BTreeMap::new();
    let mut found_in_runs: BTreeMap<Invariant, u64> = BTreeMap::new();
    let mut runs = 0;
    for seed in 0..SEEDS {
        let (mut s, _) = draw(seed);
        let faulted = {
            let mut f = s.clone();
            draw_faults(seed, &mut f);
            f
        };
        s.name = format!("swarm {seed}");
        for (s, kind) in [(s, "clean"), (faulted, "faults")] {
            for p in Policy::ALL {
                let what = format!("{kind} {} {p} seed {seed}", s.name);
                let Some(h) = run_agrees(&s, p, seed, &what) else {
                    continue;
                };
                runs += 1;
                for v in sim::check_all(&h) {
                    *found_in_runs.entry(v.invariant).or_default() += 1;
                }
                mutants_agree(&h, 12, seed, &what, &mut seen);
            }
        }
    }
    assert!(runs >= SEEDS as usize * 4, "{runs} runs compared");
    // Non-vacuity: every invariant was found violated, by a run (unclaimed ones,
    // faults) or a mutant, and the verdicts still agreed.
    for inv in Invariant::ALL {
        let n =
            seen.get(&inv).copied().unwrap_or(0) + found_in_runs.get(&inv).copied().unwrap_or(0);
        assert!(n > 0, "{inv} never violated: {seen:?} {found_in_runs:?}");
    }
}

/// A finding about a cycle's copy names the cycle as `summary.csv` numbers it (a
/// request a cycle), also after backups given up under quiesce before their split:
/// on a schedule where some quiesce attempts miss their deadline, a wrong archive of
/// each completed cycle is reported as `cycle N:` with N that cycle's place in
/// `RunResult::cycles`, and the judge and the reference agree.
#[test]
fn a_finding_names_its_cycle_as_the_summary_does_after_give_ups() {
    let mut s = Scenario::with_workload(sim::WorkloadConfig::Generated(sim::GeneratedConfig {
        records: 4096,
        transactions: 600,
        compute_ticks_min: 20,
        compute_ticks_max: 3000,
        arrivals: sim::Arrivals::Open {
            interarrival_ticks_mean: 1000,
        },
        ..sim::GeneratedConfig::default()
    }));
    s.backup.schedule_at_ticks = vec![20_000, 60_000, 100_000, 140_000];
    s.backup.quiesce_deadline_ticks = Some(1500);
    s.backup.quiesce_retries_max = 0;
    let mut after_give_up = 0;
    for seed in 1..=20 {
        let out = sim::run_keeping_history(&s, Policy::Quiesce, seed).unwrap();
        let (r, h) = (out.result, out.history.expect("kept"));
        for (k, step) in h.events.iter().enumerate() {
            if !matches!(step.event, Event::Archive { .. }) {
                continue;
            }
            let Some(n) = r
                .cycles
                .iter()
                .position(|c| c.marks.archive_copy == Some(step.time))
            else {
                continue;
            };
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let Some(m) = mutate(&h, k, &mut rng) else {
                continue;
            };
            let found = agree(&m, &format!("seed {seed}, archive of cycle {}", n + 1));
            let v = found
                .iter()
                .find(|v| v.invariant == Invariant::BackupFaithful)
                .expect("a wrong archive is found");
            assert!(
                v.detail.starts_with(&format!("cycle {}: ", n + 1)),
                "seed {seed}: {v:?}"
            );
            let splits_before = h.events[..k]
                .iter()
                .filter(|s| matches!(s.event, Event::Split))
                .count();
            if splits_before < n + 1 {
                after_give_up += 1;
            }
        }
    }
    assert!(after_give_up > 0, "no completed cycle followed a give-up");
}

/// Runs whose small data area refuses users' writes (`break-guest-write`), over two
/// backup cycles: the judge and the reference agree on the records and on their
/// mutants, and non-disruption is found violated in them (the refusals are judged, not
/// only carried).
#[test]
fn online_verdicts_equal_the_whole_history_ones_where_the_data_area_fills() {
    let mut s = super::common::slow_archived_transfers();
    s.backup.data_area_blocks = Some(2);
    s.backup.schedule_at_ticks = vec![3_000, 12_000];
    s.backup.baseline_variant = engine::Variant::CopyOnWrite;
    s.keep_history = true;
    let mut seen = BTreeMap::new();
    let mut refused = 0;
    for seed in 1..=3 {
        for p in [
            Policy::CrashConsistent,
            Policy::Owm(engine::Variant::WriteLogging),
            Policy::Owm(engine::Variant::CopyOnWrite),
        ] {
            let what = format!("full area {p} seed {seed}");
            let h = run_agrees(&s, p, seed, &what).expect("the scenario runs");
            let refusals = h
                .events
                .iter()
                .filter(|e| matches!(e.event, Event::WriteRefused { .. }))
                .count();
            if refusals > 0 {
                refused += 1;
                let found = sim::check_all(&h);
                assert!(
                    found
                        .iter()
                        .any(|v| v.invariant == Invariant::NonDisruption),
                    "{what}: {found:?}"
                );
            }
            mutants_agree(&h, 12, seed, &what, &mut seen);
        }
    }
    assert!(refused >= 3, "{refused} runs refused a write");
}
