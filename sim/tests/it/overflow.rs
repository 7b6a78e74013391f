//! A sized data area and its overflow policy (QEMU's `on-cbw-error`): under a long
//! backup (a slow archive target) a small log or copy-on-write area fills. With
//! `break-guest-write` the writes that need a slot fail and their transactions abort,
//! the backup completes and is faithful; with `break-snapshot` the backup is
//! abandoned (no archive, VLUN A dropped, reported), and the users commit what they
//! would have committed with room to spare. Over many seeds, each outcome is seen.

use engine::Variant;
use sim::{
    run, Arrivals, GeneratedConfig, Invariant, OnDataAreaFull, Policy, RunResult, Scenario,
    WorkloadConfig,
};

/// 256 records in 64 blocks, writes all run long, an archive target slow enough that
/// VLUN A stays live while most blocks are written through VLUN B; a data area of
/// `slots` slots.
fn overflowing(slots: u64, on_full: OnDataAreaFull) -> Scenario {
    let mut s = Scenario::with_workload(WorkloadConfig::Generated(GeneratedConfig {
        transactions: 400,
        write_fraction: 0.7,
        arrivals: Arrivals::Open {
            interarrival_ticks_mean: 20,
        },
        ..GeneratedConfig::default()
    }));
    s.backup.data_area_blocks = Some(slots);
    s.backup.on_data_area_full = on_full;
    s.archive.bandwidth_bytes_per_s = 1_000_000;
    s
}

const VARIANTS: [Variant; 2] = [Variant::WriteLogging, Variant::CopyOnWrite];
const SEEDS: u64 = 40;

/// A violation of non-disruption by a write the full data area refused
/// (break-guest-write).
fn refused_write(v: &sim::Violation) -> bool {
    v.invariant == sim::Invariant::NonDisruption
        && v.detail.contains("was full (break-guest-write)")
}

fn run_ok(s: &Scenario, p: Policy, seed: u64) -> RunResult {
    run(s, p, seed)
        .unwrap_or_else(|e| panic!("{p} seed {seed}: {e}"))
        .result
}

#[test]
fn break_guest_write_aborts_the_writers_and_keeps_the_backup() {
    for v in VARIANTS {
        let p = Policy::Owm(v);
        let mut full = 0;
        for seed in 1..=SEEDS {
            let r = run_ok(&overflowing(4, OnDataAreaFull::BreakGuestWrite), p, seed);
            let c = &r.costs;
            // Each refused write violates non-disruption (the first is found), and
            // nothing else is violated.
            assert!(
                r.violations.iter().all(refused_write),
                "{p} seed {seed}: {:?}",
                r.violations
            );
            assert_eq!(
                r.violations.iter().any(refused_write),
                c.data_area_full_aborts > 0,
                "{p} seed {seed}: {:?}",
                r.violations
            );
            assert_eq!(c.data_area_blocks, Some(4));
            assert!(c.extra_space_blocks_peak <= 4, "{p} seed {seed}: {c:?}");
            assert!(!c.backup_abandoned && r.marks.abandoned.is_none());
            assert!(r.marks.archive_copy.is_some() && r.marks.retire.is_some());
            assert!(c.aborted >= c.data_area_full_aborts);
            if c.data_area_full_aborts > 0 {
                full += 1;
                assert_eq!(c.extra_space_blocks_peak, 4, "{p} seed {seed}");
            }
        }
        assert!(full > 0, "{p}: the data area never filled");
    }
}

#[test]
fn break_snapshot_abandons_the_backup_and_leaves_the_users_alone() {
    for v in VARIANTS {
        let p = Policy::Owm(v);
        let mut abandoned = 0;
        for seed in 1..=SEEDS {
            let r = run_ok(&overflowing(4, OnDataAreaFull::BreakSnapshot), p, seed);
            let roomy = run_ok(&overflowing(64, OnDataAreaFull::BreakSnapshot), p, seed);
            let c = &r.costs;
            assert!(
                r.claimed_violations().is_empty(),
                "{p} seed {seed}: {:?}",
                r.violations
            );
            assert_eq!(
                (c.data_area_full_aborts, c.aborted),
                (0, 0),
                "{p} seed {seed}"
            );
            assert_eq!(c.committed, roomy.costs.committed, "{p} seed {seed}");
            assert!(c.extra_space_blocks_peak <= 4);
            assert_eq!(c.extra_space_blocks_end, 0);
            if !c.backup_abandoned {
                assert!(r.marks.archive_copy.is_some());
                continue;
            }
            abandoned += 1;
            let at = r.marks.abandoned.expect("an abandoned backup has its time");
            assert!(r.marks.archive_copy.is_none(), "{p} seed {seed}: archived");
            // VLUN A is dropped without an archive: no retire, a drop after the abandon.
            assert_eq!(r.marks.retire, None, "{p} seed {seed}: retired");
            assert!(
                r.marks.a_dropped.is_some_and(|t| t >= at),
                "{p} seed {seed}"
            );
            assert_eq!(c.extra_space_blocks_peak, 4);
            for j in r.judgements() {
                // b-prime-faithful: no [detach], never reached; bank-conserved: a
                // generated load keeps no sum.
                let dropped = matches!(
                    j.invariant,
                    Invariant::AConsistent
                        | Invariant::BackupFaithful
                        | Invariant::BPrimeFaithful
                        | Invariant::BankConserved
                );
                assert_eq!(j.claimed, !dropped, "{p} seed {seed}: {}", j.invariant);
            }
            // Observed anyway: an abandoned backup wrote no archive and said so.
            assert!(
                r.violations.is_empty(),
                "{p} seed {seed}: {:?}",
                r.violations
            );
        }
        assert!(abandoned > 0, "{p}: never abandoned");
    }
}

/// A data area as large as the volume never fills: the run is the one without the
/// keys, byte for byte; `data_area_fraction` sizes it from the volume (rounded up).
#[test]
fn a_data_area_as_large_as_the_volume_changes_nothing() {
    for v in VARIANTS {
        for on_full in [
            OnDataAreaFull::BreakGuestWrite,
            OnDataAreaFull::BreakSnapshot,
        ] {
            let mut default_area = overflowing(1, on_full);
            default_area.backup.data_area_blocks = None;
            let mut whole = default_area.clone();
            whole.backup.data_area_fraction = Some(1.0);
            let mut more = default_area.clone();
            more.backup.data_area_blocks = Some(1_000_000);
            let base = run_ok(&default_area, Policy::Owm(v), 3);
            assert_eq!(base.costs.data_area_blocks, Some(64));
            assert!(!base.costs.backup_abandoned && base.costs.data_area_full_aborts == 0);
            for s in [whole, more] {
                assert_eq!(run_ok(&s, Policy::Owm(v), 3), base, "{v} {on_full:?}");
            }
        }
    }
    let mut s = overflowing(1, OnDataAreaFull::BreakGuestWrite);
    s.backup.data_area_blocks = None;
    s.backup.data_area_fraction = Some(0.05);
    let r = run_ok(&s, Policy::Owm(Variant::CopyOnWrite), 1);
    assert_eq!(r.costs.data_area_blocks, Some(4)); // ceil(64 × 0.05)
    let m = run_ok(&s, Policy::Owm(Variant::WriteMirroring), 1);
    assert_eq!(m.costs.data_area_blocks, None); // mirroring has no data area
}

/// The baselines' copy-on-write snapshot has the same data area: under quiesce it
/// fills after the copy, and breaking it abandons the backup there too.
#[test]
fn the_baselines_copy_on_write_snapshot_overflows_the_same_way() {
    let mut s = overflowing(4, OnDataAreaFull::BreakSnapshot);
    s.backup.baseline_variant = Variant::CopyOnWrite;
    let mut seen = 0;
    for seed in 1..=SEEDS {
        for p in [Policy::Quiesce, Policy::CrashConsistent] {
            let r = run_ok(&s, p, seed);
            assert!(
                r.violations.iter().all(|v| !r.claims(v.invariant)),
                "{p} {seed}: {:?}",
                r.violations
            );
            seen += u32::from(r.costs.backup_abandoned);
        }
    }
    assert!(seen > 0);
}

/// The bank workload of a long, slow-computing transfer mix (256 accounts, transfers
/// of 20-800 compute ticks arriving every 60): transfers run through the split, so
/// under `crash-consistent` one that wrote a block through VLUN A before it goes on
/// through VLUN B, where its rollback's write of that block needs a slot.
fn transfers(slots: u64, baseline: Variant, on_full: OnDataAreaFull) -> Scenario {
    let mut s = super::common::slow_archived_transfers();
    s.backup.data_area_blocks = Some(slots);
    s.backup.baseline_variant = baseline;
    s.backup.on_data_area_full = on_full;
    s
}

/// Over seeds × data areas of 1, 2 and 4 slots × the baselines' variants (write
/// logging, copy-on-write) × the policies with a data area × both overflow policies:
/// every run ends (no engine error: every write through the engine, a rollback's
/// included, meets a full data area with the overflow policy's answer) with no claimed
/// violation. Not vacuous: the area fills (aborts under `break-guest-write`, abandoned
/// backups under `break-snapshot`), and under `break-guest-write` a rollback that
/// needed a slot abandons a backup.
#[test]
fn a_full_data_area_never_ends_a_run_in_an_engine_error() {
    let policies = [
        Policy::CrashConsistent,
        Policy::Quiesce,
        Policy::Owm(Variant::WriteLogging),
        Policy::Owm(Variant::CopyOnWrite),
    ];
    let (mut aborts, mut abandoned, mut rollbacks_abandoned) = (0, 0, 0);
    for seed in 1..=12 {
        for slots in [1, 2, 4] {
            for baseline in VARIANTS {
                for on_full in [
                    OnDataAreaFull::BreakGuestWrite,
                    OnDataAreaFull::BreakSnapshot,
                ] {
                    let s = transfers(slots, baseline, on_full);
                    for p in policies {
                        // The OWM policies ignore the baselines' variant: run once.
                        if p.is_owm() && baseline != Variant::WriteLogging {
                            continue;
                        }
                        let r = run_ok(&s, p, seed);
                        let c = &r.costs;
                        let at = format!("{p} {baseline} {slots} slots {on_full:?} seed {seed}");
                        assert!(
                            r.claimed_violations().into_iter().all(|v| {
                                on_full == OnDataAreaFull::BreakGuestWrite && refused_write(v)
                            }),
                            "{at}: {:?}",
                            r.violations
                        );
                        assert!(c.extra_space_blocks_peak <= slots, "{at}: {c:?}");
                        aborts += c.data_area_full_aborts;
                        abandoned += u32::from(c.backup_abandoned);
                        if on_full == OnDataAreaFull::BreakGuestWrite && c.backup_abandoned {
                            rollbacks_abandoned += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(
        aborts > 0,
        "no write met a full data area under break-guest-write"
    );
    assert!(abandoned > 0, "no backup was abandoned");
    assert!(
        rollbacks_abandoned > 0,
        "no rollback needed a slot of a full data area under break-guest-write"
    );
}
