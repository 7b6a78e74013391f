//! What a verdict line says of each invariant, against what the run did: a run that
//! kept no history judged nothing and says `unchecked`, never `held`; the same run
//! keeping its history says `held` of the claimed invariants it reached. A claim about
//! a backup stands on a cycle that reached its state beside transactions, in the run's
//! verdict and in each cycle's row; a violation is a violation even of a backup that
//! ran beside no transaction; each verdict shows the violations of the copies it
//! speaks of; nothing judged on no block reads `held`.

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

/// The judgement of `invariant` among `all`.
fn of(all: Vec<sim::Judgement>, invariant: Invariant) -> sim::Judgement {
    all.into_iter()
        .find(|j| j.invariant == invariant)
        .expect("every invariant is judged")
}

/// Transfers with blocks that rot under the integrity checks, backed up three times
/// under write logging: a retire whose merge meets a logged block failing its
/// checksum stops there (archived, never retired, not given up), and the cycle stays
/// open, so it is the run's last to begin.
fn merge_stopping_runs() -> Vec<(u64, sim::RunResult)> {
    let p = Policy::Owm(engine::Variant::WriteLogging);
    (1..=60)
        .map(|seed| {
            let mut s = sim::Scenario::with_workload(sim::WorkloadConfig::Bank(sim::BankConfig {
                accounts: 256,
                transactions: 300,
                arrival_ticks_mean: 60,
                compute_ticks_min: 20,
                compute_ticks_max: 800,
                ..sim::BankConfig::default()
            }));
            s.backup.request_at_ticks = Some(2_000);
            s.backup.period_ticks = Some(4_000);
            s.backup.cycles = Some(3);
            s.device.integrity = true;
            s.faults.corrupt_block_probability = 0.002;
            let r = sim::run(&s, p, seed).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            (seed, r.result)
        })
        .collect()
}

/// A cycle that ran beside transactions and archived, but whose retire stopped (write
/// logging's merge met a block failing its checksum: no retire, no give-up), reached
/// no state space-reclaimed is judged on: its row says `not claimed (no retire)`,
/// never `held`, though the run claims space-reclaimed on an earlier cycle that
/// retired. Such a cycle beside such a claim must occur.
#[test]
fn a_cycle_whose_retire_stopped_says_no_retire_though_the_run_claims_it() {
    let mut met = 0;
    for (seed, r) in merge_stopping_runs() {
        let run = of(r.judgements(), Invariant::SpaceReclaimed);
        for c in &r.cycles {
            let m = &c.marks;
            let stopped = m.archive_copy.is_some()
                && m.retire.is_none()
                && m.a_dropped.is_none()
                && m.given_up.is_none()
                && m.abandoned.is_none();
            if !stopped || !m.beside_txn {
                continue;
            }
            let j = of(r.cycle_judgements(c), Invariant::SpaceReclaimed);
            let label = format!("seed {seed} cycle {}", c.cycle);
            assert!(!j.claimed, "{label}: {j}");
            if !run.claimed {
                continue; // no cycle retired beside transactions: the run says why
            }
            assert_eq!(run.observed, Observed::Held, "seed {seed}: {run}");
            assert_eq!(j.not_reached(), Some("no retire"), "{label}: {j}");
            assert_eq!(j.to_string(), "not claimed (no retire)", "{label}");
            // The archive was reached beside transactions: claimed in this row.
            let faithful = of(r.cycle_judgements(c), Invariant::BackupFaithful);
            assert!(faithful.claimed, "{label}: backup-faithful {faithful}");
            met += 1;
        }
    }
    assert!(
        met > 0,
        "no run had a stopped retire beside a claim of space-reclaimed"
    );
}

/// A copy to B' that misses a block (`skip_block_for_mutant_test`), of a backup
/// requested after the last transaction: nothing about transactions was put to the
/// test, yet the violation shows the state was reached, so the run claims
/// b-prime-faithful and is violated, in its verdict and in the cycle's row, never
/// `not claimed (request after the last transaction, violated 1)`. The same run with a
/// whole copy says `not claimed (request after the last transaction)`: the case is
/// one the rule decides.
#[test]
fn a_violation_of_a_backup_beside_no_transaction_is_still_a_violation() {
    for p in [
        Policy::Owm(engine::Variant::CopyOnWrite),
        Policy::Owm(engine::Variant::WriteLogging),
        Policy::Owm(engine::Variant::WriteMirroring),
    ] {
        for seed in 1..=3 {
            let mut whole = bank();
            whole.keep_history = true;
            whole.backup.schedule_at_ticks = vec![40_000];
            whole.detach = Some(sim::ArchiveConfig::default());
            let mut skipping = whole.clone();
            if let Some(d) = skipping.detach.as_mut() {
                d.skip_block_for_mutant_test = Some(1);
            }
            let label = format!("{p} seed {seed}");
            let r = sim::run(&skipping, p, seed).expect("runs").result;
            let fine = sim::run(&whole, p, seed).expect("runs").result;
            for r in [&r, &fine] {
                assert!(r.cycles.iter().all(|c| c
                    .marks
                    .request
                    .is_some_and(|t| t >= r.last_txn_ticks)
                    && !c.marks.beside_txn_b_prime
                    && c.marks.detach_end.is_some()));
                assert_eq!(r.cycles.len(), 1, "{label}");
            }
            let j = of(fine.judgements(), Invariant::BPrimeFaithful);
            assert_eq!(
                j.to_string(),
                "not claimed (request after the last transaction)",
                "{label}"
            );
            let j = of(r.judgements(), Invariant::BPrimeFaithful);
            assert!(j.claimed, "{label}: {j}");
            assert!(
                matches!(j.observed, Observed::Violated { .. }),
                "{label}: {j}"
            );
            assert!(j.to_string().starts_with("violated "), "{label}: {j}");
            assert!(
                r.claimed_violations()
                    .iter()
                    .any(|v| v.invariant == Invariant::BPrimeFaithful),
                "{label}"
            );
            let row = of(r.cycle_judgements(&r.cycles[0]), Invariant::BPrimeFaithful);
            assert_eq!(row, j, "{label}");
        }
    }
}

/// Every judgement, the run's and each cycle's row's, of runs whose integrity checks
/// refused blocks (rotted, misdirected writes; the shipped faults-integrity scenario):
/// an invariant judged on none of its blocks reads `judged on none of M blocks; K
/// unreadable`, never `held`; one judged on some reads `held on N of M blocks`. Both
/// occur.
#[test]
fn an_invariant_judged_on_no_block_never_reads_held() {
    let (mut none, mut some) = (0, 0);
    for p in [
        Policy::Owm(engine::Variant::CopyOnWrite),
        Policy::Owm(engine::Variant::WriteLogging),
        Policy::Owm(engine::Variant::WriteMirroring),
    ] {
        for seed in 1..=4 {
            let mut s = sim::Scenario::with_workload(sim::WorkloadConfig::Bank(sim::BankConfig {
                accounts: 128,
                transactions: 200,
                arrival_ticks_mean: 100,
                compute_ticks_min: 20,
                compute_ticks_max: 2_000,
                ..sim::BankConfig::default()
            }));
            s.device.integrity = true;
            s.faults.misdirected_write_probability = 0.01;
            s.faults.corrupt_block_probability = 0.005;
            let r = sim::run(&s, p, seed).expect("runs").result;
            let rows = r.cycles.iter().flat_map(|c| r.cycle_judgements(c));
            for j in r.judgements().into_iter().chain(rows) {
                let Observed::HeldPartly {
                    judged,
                    blocks,
                    unreadable,
                } = j.observed
                else {
                    continue;
                };
                let text = j.to_string();
                let label = format!("{p} seed {seed} {}: {text}", j.invariant);
                assert!(unreadable > 0 && judged + unreadable <= blocks, "{label}");
                if judged == 0 {
                    none += 1;
                    let said =
                        format!("judged on none of {blocks} blocks; {unreadable} unreadable");
                    assert!(text.contains(&said), "{label}");
                    assert!(!text.contains("held"), "{label}");
                } else {
                    some += 1;
                    let said =
                        format!("held on {judged} of {blocks} blocks; {unreadable} unreadable");
                    assert!(text.contains(&said), "{label}");
                }
            }
        }
    }
    assert!(
        none > 0 && some > 0,
        "judged on none: {none}, on some: {some}"
    );
}

/// A sparse load backed up with a slow copy to B' (`[detach]`): in some cycles every
/// transaction beside the cycle came after its copy of VLUN A was over, while VLUN B
/// was copied to B' (they could wait for that copy, never for VLUN A's). Such a cycle
/// put non-disruption to the test, and its row claims it as the run does (`held`),
/// though it put none of A-isolated, A-consistent, backup-faithful, space-reclaimed to
/// the test (`not claimed (no transaction during the backup)`). Such cycles occur.
#[test]
fn a_cycle_waited_on_only_after_its_copy_of_a_claims_non_disruption() {
    let mut met = 0;
    for p in [
        Policy::Owm(engine::Variant::CopyOnWrite),
        Policy::Owm(engine::Variant::WriteLogging),
        Policy::Owm(engine::Variant::WriteMirroring),
    ] {
        for seed in 1..=6 {
            let mut s = sim::Scenario::with_workload(sim::WorkloadConfig::Bank(sim::BankConfig {
                transactions: 40,
                arrival_ticks_mean: 1_500,
                ..sim::BankConfig::default()
            }));
            s.backup.schedule_at_ticks = vec![5_000, 20_000, 40_000];
            s.detach = Some(sim::ArchiveConfig {
                bandwidth_bytes_per_s: 20_000,
                extent_blocks: 1,
                ..sim::ArchiveConfig::default()
            });
            let r = sim::run(&s, p, seed).expect("runs").result;
            let run = of(r.judgements(), Invariant::NonDisruption);
            for c in &r.cycles {
                let m = &c.marks;
                if !m.beside_txn_waits || m.beside_txn {
                    continue;
                }
                let label = format!("{p} seed {seed} cycle {}", c.cycle);
                assert!(run.claimed, "{label}: run says {run}");
                let row = of(r.cycle_judgements(c), Invariant::NonDisruption);
                assert!(row.claimed, "{label}: {row}");
                assert_eq!(row.to_string(), run.to_string(), "{label}");
                let isolated = of(r.cycle_judgements(c), Invariant::AIsolated);
                assert_eq!(
                    isolated.to_string(),
                    "not claimed (no transaction during the backup)",
                    "{label}"
                );
                met += 1;
            }
        }
    }
    assert!(
        met > 0,
        "no cycle was waited on only after its copy of VLUN A"
    );
}

/// How many of the run's violations of `invariant` were found about a lost cycle's copy
/// (`lost`), and about the copies not lost.
fn violations_of(r: &sim::RunResult, invariant: Invariant, lost: bool) -> u64 {
    r.violations
        .iter()
        .filter(|v| v.invariant == invariant && v.lost_cycle == lost)
        .count() as u64
}

/// The violations `observed` counts (0: none).
fn count(observed: &Observed) -> u64 {
    match observed {
        Observed::Violated { count, .. } => *count,
        _ => 0,
    }
}

/// Crash-consistent copies (violating A-consistent when old transactions still write)
/// and the one-way mirror, on data areas small enough that some cycles are abandoned,
/// on schedules with cycles beside the transfers and one after the last; with and
/// without misdirected writes nothing checks (the one-way mirror's copies violated
/// too, lost ones included).
fn violating_runs() -> Vec<(String, sim::RunResult)> {
    let mut out = Vec::new();
    let schedules: [&[u64]; 2] = [&[9_000, 14_000, 60_000], &[9_000, 17_500, 60_000]];
    for p in [
        Policy::CrashConsistent,
        Policy::Owm(engine::Variant::CopyOnWrite),
        Policy::Owm(engine::Variant::WriteLogging),
    ] {
        for schedule in schedules {
            for slots in [4, 8, 16, 64] {
                for misdirected in [0.0, 0.01] {
                    for seed in 1..=4 {
                        let mut s = super::common::slow_archived_transfers();
                        s.backup.schedule_at_ticks = schedule.to_vec();
                        s.backup.data_area_blocks = Some(slots);
                        if slots < 64 {
                            s.backup.on_data_area_full = sim::OnDataAreaFull::BreakSnapshot;
                        }
                        s.backup.baseline_variant = engine::Variant::CopyOnWrite;
                        s.faults.misdirected_write_probability = misdirected;
                        let label = format!(
                            "{p} {schedule:?} slots {slots} misdirected {misdirected} seed {seed}"
                        );
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

/// Each verdict shows the violations of the copies it speaks of, and its words give
/// their count (`violated N`). The run's verdict: of a claimed invariant, those found
/// about copies not lost (a lost cycle's copy claims nothing: not a failure), of one
/// not claimed, every one; the run's failures are the former. A completed cycle's row:
/// those about copies not lost of this cycle or a later one (never an earlier cycle's:
/// that search judged this cycle's copy clean), none when it put the invariant to no
/// test beside a transaction while another cycle did, unless one is about its own copy
/// (a violation is never hidden). A lost cycle's row, of an invariant its loss drops: those about lost
/// copies, or the run's when a loss already dropped the run's claim. Every case that
/// tells these apart is met.
#[test]
fn each_verdict_shows_the_violations_of_the_copies_it_speaks_of() {
    let mut failures = Vec::new();
    let (mut run_claimed_lost, mut run_unclaimed_lost) = (0, 0);
    let (mut completed_lost, mut tested_elsewhere_kept, mut lost_row_kept) = (0, 0, 0);
    let (mut earlier_hidden, mut own_untested_kept) = (0, 0);
    for (label, r) in violating_runs() {
        let run = r.judgements();
        let claimed_kept = r
            .violations
            .iter()
            .filter(|v| {
                !v.lost_cycle && run.iter().any(|j| j.invariant == v.invariant && j.claimed)
            })
            .count();
        if r.claimed_violations().len() != claimed_kept
            || r.unclaimed_violations().len() != r.violations.len() - claimed_kept
        {
            failures.push(format!(
                "{label}: {claimed_kept} failures of {:?}",
                r.violations
            ));
        }
        for j in &run {
            let i = j.invariant;
            let (lost, kept) = (violations_of(&r, i, true), violations_of(&r, i, false));
            let want = if j.claimed { kept } else { lost + kept };
            if count(&j.observed) != want {
                failures.push(format!(
                    "{label} {i}: run says {j}, {kept} kept {lost} lost"
                ));
            }
            match (lost > 0, j.claimed) {
                (true, true) => run_claimed_lost += 1,
                (true, false) => run_unclaimed_lost += 1,
                _ => {}
            }
        }
        for c in &r.cycles {
            let m = &c.marks;
            let loss = if m.given_up.is_some() {
                Some(sim::LostBackup::GivenUp)
            } else if m.abandoned.is_some() {
                Some(sim::LostBackup::Abandoned)
            } else {
                None
            };
            for j in r.cycle_judgements(c) {
                let i = j.invariant;
                let (lost, kept) = (violations_of(&r, i, true), violations_of(&r, i, false));
                let said = count(&j.observed);
                let whole = of(r.judgements(), i);
                let want = match loss {
                    Some(how) if how.drops(i) && whole.lost.is_some() => count(&whole.observed),
                    Some(how) if how.drops(i) => {
                        lost_row_kept += u64::from(lost == 0 && kept > 0);
                        lost
                    }
                    _ => {
                        // Of the copies not lost, those of this cycle or a later one
                        // (an earlier cycle's judged this one's copy clean).
                        let of_row = |v: &&sim::Violation| {
                            v.invariant == i
                                && !v.lost_cycle
                                && v.cycle.is_none_or(|n| n <= c.cycle)
                        };
                        let shown = r.violations.iter().filter(of_row).count() as u64;
                        let own = r
                            .violations
                            .iter()
                            .any(|v| v.invariant == i && !v.lost_cycle && v.cycle == Some(c.cycle));
                        earlier_hidden += u64::from(shown < kept);
                        let elsewhere = sim::Unreached::about_backup(i)
                            && !beside(m, i)
                            && !own
                            && r.cycles.iter().any(|o| beside(&o.marks, i));
                        own_untested_kept += u64::from(own && !beside(m, i));
                        tested_elsewhere_kept += u64::from(elsewhere && kept > 0);
                        completed_lost += u64::from(loss.is_none() && !elsewhere && lost > 0);
                        if elsewhere {
                            0
                        } else {
                            shown
                        }
                    }
                };
                let text = j.to_string();
                if said != want || (said > 0) != text.contains(&format!("violated {said}")) {
                    failures.push(format!(
                        "{label} cycle {} {i}: row says {text}, {kept} kept {lost} lost",
                        c.cycle
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let met = [
        run_claimed_lost,
        run_unclaimed_lost,
        completed_lost,
        tested_elsewhere_kept,
        lost_row_kept,
        earlier_hidden,
        own_untested_kept,
    ];
    assert!(
        met.iter().all(|&n| n > 0),
        "run claimed with lost copies violated, not claimed, completed rows beside lost \
         copies violated, rows tested elsewhere, lost rows beside kept violations, rows \
         before the violating cycle, violating rows beside no transaction: {met:?}"
    );
}
