//! What a verdict line says of each invariant, against what the run did: a run that
//! kept no history judged nothing and says `unchecked`, never `held`; the same run
//! keeping its history says `held` of the claimed invariants it reached.

use sim::{Invariant, Observed, Policy};

use super::common::bank;

#[test]
fn a_run_without_its_history_says_unchecked_never_held() {
    let p = Policy::Owm(engine::Variant::CopyOnWrite);
    let mut kept = bank();
    kept.keep_history = true;
    let mut unkept = kept.clone();
    unkept.keep_history = false;
    for seed in 1..=3 {
        let judged = sim::run(&kept, p, seed).expect("runs").result;
        let plain = sim::run(&unkept, p, seed).expect("runs").result;
        assert!(judged.invariants_judged && !plain.invariants_judged);
        // The sibling that kept its history reached and held the live volume's
        // invariants, so the word below is not `unchecked` for want of a claim.
        for i in [Invariant::BComplete, Invariant::NoTornWrite] {
            let j = judged.judgements().into_iter().find(|j| j.invariant == i);
            let j = j.expect("every invariant is judged");
            assert!(j.claimed, "seed {seed} {i}: {j}");
            assert_eq!(j.observed, Observed::Held, "seed {seed} {i}: {j}");
            assert_eq!(j.to_string(), "held", "seed {seed} {i}");
        }
        for j in plain.judgements() {
            assert_eq!(
                j.observed,
                Observed::Unchecked,
                "seed {seed} {}: {j}",
                j.invariant
            );
            assert!(
                !j.to_string().contains("held"),
                "seed {seed} {}: {j}",
                j.invariant
            );
        }
        for c in &plain.cycles {
            for j in plain.cycle_judgements(c) {
                assert_eq!(
                    j.observed,
                    Observed::Unchecked,
                    "seed {seed} {}: {j}",
                    j.invariant
                );
            }
        }
    }
}

/// Whether cycle `m` ran beside a transaction in the span `invariant` speaks of, read
/// from its milestones as documented on [`sim::Marks`]: the gate's waits for
/// non-disruption, the copy to B' for b-prime-faithful, the copy of VLUN A otherwise,
/// and for A-isolated a NEW transaction too while VLUN A was live (a cycle that never
/// split had no VLUN A: what it misses is the split).
fn beside(m: &sim::Marks, invariant: Invariant) -> bool {
    match invariant {
        Invariant::NonDisruption => m.beside_txn_waits,
        Invariant::BPrimeFaithful => m.beside_txn_b_prime,
        Invariant::AIsolated => m.beside_txn && (m.beside_txn_new || m.split.is_none()),
        _ => m.beside_txn,
    }
}

/// Whether cycle `m` reached the state `invariant` is judged on: a split, an image
/// declared consistent, an archive (or a retire or a drop), a retire (or a drop), a
/// completed copy to B'; a request for non-disruption.
fn reached(m: &sim::Marks, invariant: Invariant) -> bool {
    match invariant {
        Invariant::AIsolated => m.split.is_some(),
        Invariant::AConsistent => m.a_consistent.is_some(),
        Invariant::BackupFaithful => {
            m.archive_copy.is_some() || m.retire.is_some() || m.a_dropped.is_some()
        }
        Invariant::SpaceReclaimed => m.retire.is_some() || m.a_dropped.is_some(),
        Invariant::BPrimeFaithful => m.detach_end.is_some(),
        _ => m.request.is_some(),
    }
}

/// Whether cycle `m`'s loss drops `invariant` from what it can claim: a give-up
/// drops A-consistent, backup-faithful and space-reclaimed; an abandon the first two.
fn lost_for(m: &sim::Marks, invariant: Invariant) -> bool {
    let copy = matches!(
        invariant,
        Invariant::AConsistent | Invariant::BackupFaithful
    );
    if m.given_up.is_some() {
        copy || invariant == Invariant::SpaceReclaimed
    } else {
        m.abandoned.is_some() && copy
    }
}

/// Backup cycles on a schedule, some beside the transfers and some after the last one
/// (it arrives near tick 18,000), on data areas small enough that some cycles are
/// abandoned, with and without a copy to B'; quiesce also under a deadline the
/// transfers always miss; with blocks that rot under the integrity checks.
fn scheduled_runs() -> Vec<(String, sim::RunResult)> {
    let mut out = Vec::new();
    let policies = [
        Policy::Owm(engine::Variant::CopyOnWrite),
        Policy::Owm(engine::Variant::WriteLogging),
        Policy::Quiesce,
    ];
    let schedules: [&[u64]; 3] = [
        &[9_000, 40_000],
        &[14_000, 17_000, 40_000],
        &[9_000, 14_000, 60_000],
    ];
    for schedule in schedules {
        for slots in [4, 64] {
            for detach in [false, true] {
                for p in policies {
                    for seed in 1..=4 {
                        let mut s = super::common::slow_archived_transfers();
                        s.backup.schedule_at_ticks = schedule.to_vec();
                        s.backup.data_area_blocks = Some(slots);
                        s.backup.on_data_area_full = sim::OnDataAreaFull::BreakSnapshot;
                        s.backup.baseline_variant = engine::Variant::CopyOnWrite;
                        s.detach = detach.then(sim::ArchiveConfig::default);
                        if slots == 64 && !detach {
                            // Blocks that rot, found by the integrity checks: a retire
                            // that meets one stops (archived, never retired).
                            s.device.integrity = true;
                            s.faults.corrupt_block_probability = 0.01;
                        }
                        if p == Policy::Quiesce && slots == 4 {
                            // A deadline the transfers always miss: the cycles beside
                            // them are given up, a cycle after them splits.
                            s.backup.quiesce_deadline_ticks = Some(1);
                            s.backup.quiesce_retries_max = 1;
                            s.backup.quiesce_retry_backoff_ticks = 5_000;
                        }
                        let label =
                            format!("{p} {schedule:?} slots {slots} detach {detach} seed {seed}");
                        match sim::run(&s, p, seed) {
                            Ok(r) => out.push((label, r.result)),
                            Err(e) => panic!("{label}: {e}"),
                        }
                    }
                }
            }
        }
    }
    out
}

/// A claim about a backup that nothing violated stands on a cycle that ran beside a
/// transaction, reached the invariant's state and was not lost in a way that drops
/// it; each cycle's row claims it only of such a cycle, and every other row says why
/// not. Runs in which a row is not claimed for want of transactions beside it, for
/// want of the state, or for a loss are all reached, and so are claimed rows.
#[test]
fn a_claim_about_a_backup_stands_on_a_cycle_that_reached_it_beside_transactions() {
    let (mut claimed_rows, mut unbeside_rows, mut unreached_rows, mut lost_rows) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for (label, r) in scheduled_runs() {
        assert!(r.invariants_judged, "{label}");
        let marks: Vec<&sim::Marks> = r.cycles.iter().map(|c| &c.marks).collect();
        for j in r.judgements() {
            let i = j.invariant;
            if !sim::Unreached::about_backup(i) || matches!(j.observed, Observed::Violated { .. }) {
                continue;
            }
            let stands = marks
                .iter()
                .any(|m| beside(m, i) && reached(m, i) && !lost_for(m, i));
            if j.claimed && !stands {
                failures.push(format!(
                    "{label} {i}: run says {j} on no cycle that reached it"
                ));
            }
            if !j.claimed && j.reason().is_none() {
                continue; // the policy's own choice
            }
            if !j.claimed && stands && r.policy.claims(i) {
                failures.push(format!(
                    "{label} {i}: run says {j} though a cycle reached it"
                ));
            }
        }
        for c in &r.cycles {
            let m = &c.marks;
            for j in r.cycle_judgements(c) {
                let i = j.invariant;
                if !sim::Unreached::about_backup(i)
                    || matches!(j.observed, Observed::Violated { .. })
                {
                    continue;
                }
                let ok = beside(m, i) && reached(m, i) && !lost_for(m, i);
                if j.claimed {
                    claimed_rows += 1;
                    if !ok {
                        failures.push(format!("{label} cycle {i}: row says {j} of {m:?}"));
                    }
                    continue;
                }
                if !r.policy.claims(i) {
                    continue;
                }
                if ok {
                    failures.push(format!(
                        "{label} cycle {i}: row says {j} though it reached it"
                    ));
                }
                if j.reason().is_none() || j.not_reached().is_none() && j.lost.is_none() {
                    failures.push(format!("{label} cycle {i}: row says {j} with no reason"));
                }
                if lost_for(m, i) {
                    lost_rows += 1;
                } else if !beside(m, i) {
                    unbeside_rows += 1;
                } else if !reached(m, i) {
                    unreached_rows += 1;
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        claimed_rows > 0 && unbeside_rows > 0 && unreached_rows > 0 && lost_rows > 0,
        "claimed {claimed_rows}, beside none {unbeside_rows}, unreached {unreached_rows}, lost {lost_rows}"
    );
}
