//! Quiesce's freeze limit (`backup.quiesce_deadline_ticks`): when the active
//! transactions do not all end in time the attempt fails, the gate reopens, and the
//! backup is retried after the back-off or given up.

use sim::{
    run_keeping_history, Event, GeneratedConfig, Invariant, Policy, Scenario, WorkloadConfig,
};

/// Transactions up to 3,000 ticks long, a new one every 300 on average.
fn long_transactions() -> Scenario {
    let mut s = Scenario::with_workload(WorkloadConfig::Generated(GeneratedConfig {
        records: 4096,
        transactions: 400,
        compute_ticks_min: 20,
        compute_ticks_max: 3000,
        arrivals: sim::Arrivals::Open {
            interarrival_ticks_mean: 300,
        },
        ..GeneratedConfig::default()
    }));
    s.backup.request_at_ticks = Some(60_000);
    s
}

#[test]
fn a_missed_deadline_reopens_the_gate_and_gives_up_after_the_retries() {
    let mut given_up = 0;
    for seed in 1..=20 {
        let mut s = long_transactions();
        s.backup.quiesce_deadline_ticks = Some(1);
        s.backup.quiesce_retries_max = 1;
        s.backup.quiesce_retry_backoff_ticks = 5_000;
        let out = run_keeping_history(&s, Policy::Quiesce, seed).unwrap();
        let r = out.result;
        assert!(
            r.claimed_violations().is_empty(),
            "seed {seed}: {:?}",
            r.violations
        );
        assert_eq!(r.costs.committed, 400, "seed {seed}");
        if r.costs.backup_given_up {
            given_up += 1;
            // Both attempts timed out; nothing was split, archived or retired.
            assert_eq!(r.costs.quiesce_timeouts, 2, "seed {seed}");
            assert_eq!((r.marks.split, r.marks.retire), (None, None), "seed {seed}");
            // The gate was closed only for the two 1-tick attempts.
            assert!(r.costs.unavailable_ticks <= 2, "seed {seed}");
            // The standing mirror held its extra space through the cycle given up: the
            // cycle's peak is the run's, not 0.
            assert_eq!(r.cycles.len(), 1, "seed {seed}");
            assert!(r.costs.extra_space_blocks_peak > 0, "seed {seed}");
            assert_eq!(
                r.cycles[0].extra_space_blocks_peak, r.costs.extra_space_blocks_peak,
                "seed {seed}"
            );
            // The oracle's record says so: two timeouts, one retry, the give-up.
            let h = out.history.as_ref().expect("history kept");
            let count = |f: fn(&Event) -> bool| h.events.iter().filter(|s| f(&s.event)).count();
            let timeouts = count(|e| matches!(e, Event::QuiesceTimeout { .. }));
            let retries = count(|e| matches!(e, Event::QuiesceRetry { attempt: 2 }));
            assert_eq!((timeouts, retries), (2, 1), "seed {seed}");
            assert_eq!(count(|e| matches!(e, Event::GiveUp)), 1, "seed {seed}");
            assert_eq!(r.marks.quiesce_timeouts.len(), 2, "seed {seed}");
            assert!(r.marks.given_up.is_some(), "seed {seed}");
            // No copy was taken: nothing about it is claimed, never `held`.
            for j in r.judgements() {
                let copy = matches!(
                    j.invariant,
                    Invariant::AConsistent | Invariant::BackupFaithful | Invariant::SpaceReclaimed
                );
                // No split: A-isolated has no VLUN A to speak of. No [detach]:
                // b-prime-faithful is never reached. A generated load keeps no sum:
                // bank-conserved has nothing to judge.
                let reached = !matches!(
                    j.invariant,
                    Invariant::AIsolated | Invariant::BPrimeFaithful | Invariant::BankConserved
                );
                assert_eq!(
                    j.claimed,
                    !copy && reached && Policy::Quiesce.claims(j.invariant),
                    "{j:?}"
                );
                if copy {
                    assert_eq!(j.to_string(), "not claimed (given up)", "seed {seed}");
                }
                if j.invariant == Invariant::AIsolated {
                    assert_eq!(j.to_string(), "not claimed (no split)", "seed {seed}");
                }
            }
        } else {
            assert!(r.marks.retire.is_some(), "seed {seed}");
            assert!(Invariant::ALL
                .iter()
                .filter(|&&i| i != Invariant::BPrimeFaithful)
                .all(|&i| r.claims(i) == Policy::Quiesce.claims(i)));
            assert!(!r.claims(Invariant::BPrimeFaithful), "no copy to B'");
        }
    }
    // sometimes: with transactions in flight at the request, the backup is given up.
    assert!(given_up > 0);
}

/// A deadline far above the time the quiesce takes changes nothing: the whole result
/// (`end_ticks`, every cost, milestone, cycle and timeline row, the extra space over
/// time; `events` but for the timer itself) and the execution record equal the run
/// without a deadline, on every
/// seed, up to a deadline as long as `limits.time_ticks_max`. The deadline's timer,
/// left pending once the attempt succeeded, neither lengthens the run (it once made
/// `end_ticks` request + deadline) nor trips the time limit (it once cut a finished
/// run).
#[test]
fn a_generous_deadline_changes_nothing() {
    let mut compared = 0;
    for seed in 1..=12 {
        let plain = long_transactions();
        let a = run_keeping_history(&plain, Policy::Quiesce, seed).unwrap();
        assert_eq!(a.result.costs.quiesce_timeouts, 0);
        for deadline in [10_000_000, 60_000_000, plain.limits.time_ticks_max] {
            let mut generous = long_transactions();
            generous.backup.quiesce_deadline_ticks = Some(deadline);
            let b = run_keeping_history(&generous, Policy::Quiesce, seed)
                .unwrap_or_else(|e| panic!("seed {seed} deadline {deadline}: {e}"));
            assert_eq!(
                a.result.end_ticks, b.result.end_ticks,
                "seed {seed} deadline {deadline}"
            );
            // The deadline's timer is one more event popped (dropped where the clock
            // stood); nothing else differs.
            let mut b_result = b.result.clone();
            assert_eq!(b_result.events, a.result.events + 1, "seed {seed}");
            b_result.events = a.result.events;
            assert_eq!(a.result, b_result, "seed {seed} deadline {deadline}");
            assert_eq!(
                a.history.as_ref().map(|h| &h.events),
                b.history.as_ref().map(|h| &h.events),
                "seed {seed} deadline {deadline}"
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 36);
}
