//! Faults and mirroring's resync. Every policy on the mirroring engine (`quiesce` and
//! `crash-consistent` on the default baseline, and `mirroring`) resyncs image A from
//! the live image B at each later cycle's split: one read and one write per volume
//! block. Over seeds and a schedule of cycles, with injected read and write errors the
//! resync (the backup's own I/O, like retire) meets none and every cycle splits; with
//! rotted blocks under integrity mode a block of B failing its checksum gives up that
//! cycle's backup at the split (no copy taken) and the run goes on. Never an engine
//! error, never a claimed violation; and each of those states is reached on some seed.

use engine::Variant;
use sim::{run, BankConfig, Invariant, Policy, Scenario, WorkloadConfig};

use super::faults::reproduce;

const SEEDS: u64 = 20;
const CYCLES: u32 = 3;

#[derive(Debug, Clone, Copy)]
enum Mode {
    /// Transient read and write errors on every user I/O.
    Errors,
    /// Blocks rotting at rest, under integrity mode.
    Rot,
}

fn scenario(mode: Mode) -> Scenario {
    let mut s = Scenario::with_workload(WorkloadConfig::Bank(BankConfig::default()));
    s.name = format!("resync-{mode:?}");
    s.backup.request_at_ticks = Some(5_000);
    s.backup.period_ticks = Some(10_000);
    s.backup.cycles = Some(CYCLES);
    match mode {
        Mode::Errors => {
            s.faults.read_error_probability = 0.01;
            s.faults.write_error_probability = 0.01;
        }
        Mode::Rot => {
            s.device.integrity = true;
            s.faults.corrupt_block_probability = 0.02;
        }
    }
    s
}

fn mirroring_engine() -> [Policy; 3] {
    [
        Policy::Quiesce,
        Policy::CrashConsistent,
        Policy::Owm(Variant::WriteMirroring),
    ]
}

/// `s` run under `policy` with `seed`: it ends without an engine error and violates
/// nothing `policy` claims (integrity mode serves no damage).
fn clean_run(s: &Scenario, policy: Policy, seed: u64) -> sim::Run {
    let again = || reproduce(s, policy, seed);
    let run =
        run(s, policy, seed).unwrap_or_else(|e| panic!("{policy} / seed {seed}: {e}\n{}", again()));
    let violated = run.result.claimed_violations();
    assert!(
        violated.is_empty(),
        "{policy} / seed {seed}: {violated:?}\n{}",
        again()
    );
    run
}

#[test]
fn resync_under_errors_never_fails_the_run() {
    let s = scenario(Mode::Errors);
    for policy in mirroring_engine() {
        let mut resynced_with_errors = 0;
        for seed in 0..SEEDS {
            let again = || reproduce(&s, policy, seed);
            let run = clean_run(&s, policy, seed);
            let r = &run.result;
            // Transient errors are retried or abort their transaction: no backup is lost.
            assert!(
                r.backups_lost().is_empty(),
                "{policy} / seed {seed}\n{}",
                again()
            );
            let splits = r.cycles.iter().filter(|c| c.marks.split.is_some()).count();
            let f = &run.faults;
            if splits >= 2 && f.read_errors > 0 && f.write_errors > 0 {
                resynced_with_errors += 1;
            }
        }
        assert!(
            resynced_with_errors >= SEEDS / 2,
            "{policy}: a later cycle split with errors injected on {resynced_with_errors} of \
             {SEEDS} seeds"
        );
    }
}

#[test]
fn resync_meeting_a_rotted_block_gives_up_that_cycle() {
    let s = scenario(Mode::Rot);
    for policy in mirroring_engine() {
        let mut lost = 0;
        for seed in 0..SEEDS {
            let again = || reproduce(&s, policy, seed);
            let run = clean_run(&s, policy, seed);
            let r = &run.result;
            assert_eq!(r.costs.resyncs_lost, run.faults.resyncs_lost);
            if run.faults.resyncs_lost == 0 {
                continue;
            }
            lost += 1;
            assert!(r.costs.backup_given_up, "{policy} / seed {seed}");
            // The given-up cycle's copy is not claimed; the run's claim stands on the
            // cycles that archived, if any did.
            let archived = r.cycles.iter().any(|c| c.marks.archive_copy.is_some());
            assert_eq!(
                r.claims(Invariant::BackupFaithful),
                archived,
                "{policy} / seed {seed}\n{}",
                again()
            );
            for c in r.cycles.iter().filter(|c| c.marks.given_up.is_some()) {
                let j = r.cycle_judgements(c);
                let faithful = j
                    .iter()
                    .find(|j| j.invariant == Invariant::BackupFaithful)
                    .expect("every invariant judged");
                assert!(
                    !faithful.claimed && faithful.lost == Some(sim::LostBackup::GivenUp),
                    "{policy} / seed {seed}: a given-up cycle claims its copy\n{}",
                    again()
                );
            }
            // The cycle given up at its split never split, never declared VLUN A and
            // ended: every cycle of the schedule was served.
            assert_eq!(r.cycles.len(), CYCLES as usize, "{policy} / seed {seed}");
            let at_split: Vec<_> = r
                .cycles
                .iter()
                .filter(|c| c.marks.given_up.is_some() && c.marks.split.is_none())
                .collect();
            assert!(!at_split.is_empty(), "{policy} / seed {seed}\n{}", again());
            for c in at_split {
                assert!(
                    c.cycle > 1,
                    "{policy} / seed {seed}: the first split resyncs nothing"
                );
                assert_eq!(c.marks.a_consistent, None, "{policy} / seed {seed}");
                assert_eq!(c.marks.archive_copy, None, "{policy} / seed {seed}");
                assert_eq!(c.marks.retire, None, "{policy} / seed {seed}");
            }
        }
        assert!(
            lost > 0,
            "{policy}: no resync met a rotted block on {SEEDS} seeds"
        );
    }
}
