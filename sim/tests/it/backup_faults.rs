//! The backup's archive pass failing mid-way (issue 13): reads of VLUN A fail, or the
//! archive target refuses a block. Over many seeds per variant and per fault: VLUN A
//! is never retired without a complete archive (the engine refuses, and the simulator
//! asks after every failed pass), the copy is retried, and the archive that completes
//! is faithful (the oracle's backup-faithful check) with every other invariant holding.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sim::{run, Policy, Scenario};

use super::common::{bank, emitted};
use super::faults::reproduce;

/// Seeds per OWM variant and per kind of backup fault.
const SEEDS: u64 = 500;

#[derive(Debug, Clone, Copy)]
enum Fault {
    SourceRead,
    TargetWrite,
}

fn scenario(fault: Fault, seed: u64) -> Scenario {
    let mut r = ChaCha8Rng::seed_from_u64(seed ^ 0xbac0_bac0_bac0_bac0);
    let mut s = bank();
    s.name = format!("backup-faults-{fault:?}");
    let p = r.random_range(0.0..0.25);
    match fault {
        Fault::SourceRead => s.faults.backup_read_error_probability = p,
        Fault::TargetWrite => s.faults.archive_write_error_probability = p,
    }
    s.faults.io_retry_ticks = r.random_range(0..100);
    s.backup.request_at_ticks = Some(r.random_range(0..2000));
    s.archive.extent_blocks = r.random_range(1..8);
    s
}

#[test]
fn a_failed_archive_pass_is_retried_never_retired_and_the_archive_is_faithful() {
    for fault in [Fault::SourceRead, Fault::TargetWrite] {
        for policy in Policy::OWM {
            let (mut failed_then_done, mut failures) = (0u64, 0u64);
            for seed in 0..SEEDS {
                let s = scenario(fault, seed);
                let again = || reproduce(&s, policy, seed);
                let run = run(&s, policy, seed).unwrap_or_else(|e| {
                    panic!("{fault:?} / {policy} / seed {seed}: {e}\n{}", again())
                });
                let r = &run.result;
                assert!(
                    r.violations.is_empty(),
                    "{fault:?} / {policy} / seed {seed}: {:?}\n{}",
                    r.violations,
                    again()
                );
                assert_eq!(
                    r.costs.committed + r.costs.aborted - r.costs.deadlock_aborts,
                    emitted(&s),
                    "{fault:?} / {policy} / seed {seed}: every transaction ends once"
                );
                let f = &run.faults;
                assert!(
                    r.marks.retire.is_some(),
                    "{fault:?} / {policy} / seed {seed}: never retired"
                );
                assert!(r.marks.archive_copy.is_some());
                assert_eq!(
                    f.retires_refused, f.backup_failures,
                    "{fault:?} / {policy} / seed {seed}: a retire after a failed pass was not refused"
                );
                let injected = match fault {
                    Fault::SourceRead => f.backup_read_errors,
                    Fault::TargetWrite => f.archive_write_errors,
                };
                assert_eq!(
                    injected, f.backup_failures,
                    "one injected error fails one pass"
                );
                failures += f.backup_failures;
                failed_then_done += u64::from(f.backup_failures > 0);
            }
            println!(
                "{fault:?} / {policy}: {failed_then_done} of {SEEDS} seeds failed a pass and then completed ({failures} failed passes)"
            );
            assert!(
                failed_then_done >= SEEDS / 4,
                "{fault:?} / {policy}: only {failed_then_done} of {SEEDS} seeds saw a failed pass"
            );
        }
    }
}
