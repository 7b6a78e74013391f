//! Misdirected writes and rotted blocks (issue 13) under the engine's integrity mode
//! and without it. Over many seeds per variant: with `[device] integrity` on, no
//! invariant is violated (every damaged block is refused — a counted detection that
//! aborts its transaction, fails the archive pass, or marks the oracle's image block
//! unreadable — never served), detections happen on some seeds, and VLUN A is never
//! retired without a faithful archive; with it off, the same faults break invariants
//! the oracle names on some seeds, and those runs show the faults happened.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sim::{run, Invariant, Policy, Scenario};

use super::common::{bank, emitted};
use super::faults::reproduce;

/// Seeds per OWM variant, per mode (integrity on / off), per fault kind.
const SEEDS: u64 = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Misdirected,
    Rot,
}

fn scenario(fault: Fault, integrity: bool, seed: u64) -> Scenario {
    let mut r = ChaCha8Rng::seed_from_u64(seed ^ 0x1e7e_9e17_0000_0001);
    let mut s = bank();
    s.name = format!("integrity-{fault:?}-{integrity}");
    let p = r.random_range(0.0..0.02);
    match fault {
        Fault::Misdirected => s.faults.misdirected_write_probability = p,
        Fault::Rot => s.faults.corrupt_block_probability = p,
    }
    s.device.integrity = integrity;
    s.backup.request_at_ticks = Some(r.random_range(0..2000));
    s.archive.extent_blocks = r.random_range(1..8);
    s
}

#[test]
fn with_integrity_on_damage_is_detected_never_served() {
    let mut held_partly = 0u64;
    for fault in [Fault::Misdirected, Fault::Rot] {
        for policy in Policy::OWM {
            let (mut detected_runs, mut damaged_runs) = (0u64, 0u64);
            for seed in 0..SEEDS {
                let s = scenario(fault, true, seed);
                let again = || reproduce(&s, policy, seed);
                let run = run(&s, policy, seed).unwrap_or_else(|e| {
                    panic!("{fault:?} / {policy} / seed {seed}: {e}\n{}", again())
                });
                let (r, f) = (&run.result, &run.faults);
                assert!(
                    r.violations.is_empty(),
                    "{fault:?} / {policy} / seed {seed}: served damage: {:?}\n{}",
                    r.violations,
                    again()
                );
                assert_eq!(
                    r.costs.committed + r.costs.aborted - r.costs.deadlock_aborts,
                    emitted(&s),
                    "{fault:?} / {policy} / seed {seed}: every transaction ends once"
                );
                // No retire without a complete, faithful archive.
                if r.marks.retire.is_some() {
                    assert!(r.marks.archive_copy.is_some());
                }
                if r.costs.backup_given_up {
                    assert!(r.marks.archive_copy.is_none() && f.retires_refused > 0);
                }
                assert!(f.integrity_aborts <= f.integrity_detections);
                // An invariant judged on part of the volume only (a block refused while
                // an image was read) is never a plain `held`, and only such a one is
                // held in part.
                for (j, c) in r.judgements().iter().zip(r.coverage) {
                    let partly = matches!(j.observed, sim::Observed::HeldPartly { .. });
                    assert_eq!(
                        partly,
                        c.is_partial(),
                        "{fault:?} / {policy} / seed {seed}: {} {c:?}: {}",
                        j.invariant,
                        j.observed
                    );
                    held_partly += u64::from(partly);
                }
                let damage = f.misdirected_writes + f.corrupted_blocks;
                damaged_runs += u64::from(damage > 0);
                detected_runs += u64::from(f.integrity_detections + f.unreadable_blocks > 0);
                if damage == 0 {
                    assert_eq!(f.integrity_detections + f.unreadable_blocks, 0);
                }
            }
            println!(
                "{fault:?} / {policy} / integrity on: {detected_runs} of {SEEDS} seeds detected damage ({damaged_runs} damaged)"
            );
            assert!(
                detected_runs >= SEEDS / 4,
                "{fault:?} / {policy}: only {detected_runs} of {SEEDS} seeds detected anything"
            );
        }
    }
    assert!(
        held_partly > 0,
        "sometimes: an invariant held on part of the volume"
    );
}

#[test]
fn with_integrity_off_the_oracle_catches_the_consequences() {
    for fault in [Fault::Misdirected, Fault::Rot] {
        for policy in Policy::OWM {
            let mut caught = 0u64;
            let mut kinds = std::collections::BTreeSet::new();
            for seed in 0..SEEDS {
                let s = scenario(fault, false, seed);
                let run = run(&s, policy, seed).unwrap_or_else(|e| {
                    panic!(
                        "{fault:?} / {policy} / seed {seed}: {e}\n{}",
                        reproduce(&s, policy, seed)
                    )
                });
                let (r, f) = (&run.result, &run.faults);
                assert_eq!(f.integrity_detections + f.unreadable_blocks, 0);
                let damage = match fault {
                    Fault::Misdirected => f.misdirected_writes,
                    Fault::Rot => f.corrupted_blocks,
                };
                if damage == 0 {
                    assert!(
                        r.violations.is_empty(),
                        "{fault:?} / {policy} / seed {seed}: a violation without a fault: {:?}",
                        r.violations
                    );
                }
                if !r.violations.is_empty() {
                    caught += 1;
                    kinds.extend(r.violations.iter().map(|v| v.invariant));
                }
            }
            println!(
                "{fault:?} / {policy} / integrity off: {caught} of {SEEDS} seeds broke {kinds:?}"
            );
            assert!(
                caught >= SEEDS / 4,
                "{fault:?} / {policy}: the oracle caught only {caught} of {SEEDS} seeds"
            );
            assert!(
                kinds.contains(&Invariant::NoTornWrite) || kinds.contains(&Invariant::BComplete),
                "{fault:?} / {policy}: {kinds:?}"
            );
        }
    }
}

/// Integrity mode's checksum writes are counted image writes, priced like any other:
/// without faults, the same runs with it on write more per logical write and answer
/// later on average.
#[test]
fn integrity_mode_is_strictly_dearer() {
    for policy in Policy::ALL {
        let (mut on_response, mut off_response) = (0.0, 0.0);
        for seed in 0..8 {
            let mut s = bank();
            let off = run(&s, policy, seed).expect("runs").result;
            s.device.integrity = true;
            let on = run(&s, policy, seed).expect("runs").result;
            assert!(on.claimed_violations().is_empty() && off.claimed_violations().is_empty());
            assert!(
                on.costs.physical_writes_per_logical_write
                    > off.costs.physical_writes_per_logical_write,
                "{policy} / seed {seed}"
            );
            on_response += on.costs.response_time.ticks_mean;
            off_response += off.costs.response_time.ticks_mean;
        }
        assert!(
            on_response > off_response,
            "{policy}: {on_response} vs {off_response}"
        );
    }
}
