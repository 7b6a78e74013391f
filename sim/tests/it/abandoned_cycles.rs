//! Backup cycles on a schedule under a small data area and a slow archive target: a
//! cycle whose data area fills under `break-snapshot` is abandoned while its archive
//! copy is in flight, and a later cycle splits, copies and retires its own VLUN A. The
//! abandoned copy's pending reads and landing must not act on the later cycle (a
//! second landing would retire a VLUN A that is already gone, or retire the later
//! cycle's A while its OLD transactions still write it). Every run ends without an
//! engine error, and each completed cycle archives the volume exactly once.

use engine::Variant;
use sim::{OnDataAreaFull, Policy, RunResult, Scenario};

/// The bank on 256 accounts (64 blocks), transfers computing 20-800 ticks, an archive
/// target of 1 MB/s: a copy of the volume takes longer than the gap between two
/// requests of `schedule`, so a cycle abandoned mid-copy still has its copy's events
/// pending when the next cycle runs.
fn scenario(schedule: &[u64], slots: u64, on_full: OnDataAreaFull) -> Scenario {
    let mut s = super::common::slow_archived_transfers();
    s.name = "abandoned-cycles".into();
    s.backup.schedule_at_ticks = schedule.to_vec();
    s.backup.data_area_blocks = Some(slots);
    s.backup.on_data_area_full = on_full;
    s.backup.baseline_variant = Variant::CopyOnWrite;
    s
}

/// Request times: two close together (the second queued behind an abandoned first),
/// three at a period, and two far apart.
const SCHEDULES: [&[u64]; 3] = [
    &[14_000, 17_000],
    &[9_000, 14_000, 19_000],
    &[9_000, 30_000],
];
const SLOTS: [u64; 2] = [4, 30];
const POLICIES: [Policy; 3] = [
    Policy::Owm(Variant::WriteLogging),
    Policy::Owm(Variant::CopyOnWrite),
    // On the copy-on-write engine (`baseline_variant`), so it has a data area.
    Policy::Quiesce,
];
const SEEDS: u64 = 6;

fn run_ok(s: &Scenario, p: Policy, seed: u64) -> RunResult {
    sim::run(s, p, seed)
        .unwrap_or_else(|e| {
            panic!(
                "{p} seed {seed} schedule {:?} slots {:?} {:?}: {e}",
                s.backup.schedule_at_ticks, s.backup.data_area_blocks, s.backup.on_data_area_full
            )
        })
        .result
}

#[test]
fn a_cycle_abandoned_mid_copy_leaves_the_later_cycles_alone() {
    // One whole archive of the volume: cycle 1 of a run whose data area never fills.
    let roomy = scenario(&[9_000], 64, OnDataAreaFull::BreakSnapshot);
    let whole = run_ok(&roomy, Policy::Owm(Variant::CopyOnWrite), 1).cycles[0].archive_bytes;
    assert!(whole > 0);
    let (mut runs, mut abandoned_then_completed) = (0, 0);
    for schedule in SCHEDULES {
        for slots in SLOTS {
            for on_full in [
                OnDataAreaFull::BreakSnapshot,
                OnDataAreaFull::BreakGuestWrite,
            ] {
                let s = scenario(schedule, slots, on_full);
                for p in POLICIES {
                    for seed in 1..=SEEDS {
                        let r = run_ok(&s, p, seed);
                        let at = format!("{p} seed {seed} {schedule:?} {slots} {on_full:?}");
                        assert_eq!(r.cycles.len(), schedule.len(), "{at}");
                        // A write the full area refuses (break-guest-write) violates
                        // non-disruption, and nothing else may be violated.
                        let refused = |v: &&sim::Violation| {
                            on_full == OnDataAreaFull::BreakGuestWrite
                                && v.invariant == sim::Invariant::NonDisruption
                                && v.detail.contains("was full (break-guest-write)")
                        };
                        assert!(
                            r.claimed_violations().iter().all(refused),
                            "{at}: {:?}",
                            r.violations
                        );
                        let mut abandoned = false;
                        let mut later = false;
                        for c in &r.cycles {
                            let m = &c.marks;
                            if m.abandoned.is_some() {
                                assert_eq!(on_full, OnDataAreaFull::BreakSnapshot, "{at}");
                                // Dropped, never archived nor retired.
                                assert!(m.archive_copy.is_none() && m.retire.is_none(), "{at}");
                                assert!(m.a_dropped.is_some(), "{at}");
                                // Its target kept nothing.
                                assert_eq!(c.archive_sent_bytes, 0, "{at}: cycle {}", c.cycle);
                                abandoned = true;
                            } else if let Some(retire) = m.retire {
                                // Its own copy, once, after A was consistent.
                                let archived = m.archive_copy.expect("archived before retire");
                                assert!(m.a_consistent.unwrap() <= archived, "{at} {c:?}");
                                assert!(archived <= retire, "{at} {c:?}");
                                assert_eq!(c.archive_bytes, whole, "{at}: cycle {}", c.cycle);
                                assert_eq!(c.archive_sent_bytes, whole, "{at}: cycle {}", c.cycle);
                                later |= abandoned;
                            }
                        }
                        runs += 1;
                        if later {
                            abandoned_then_completed += 1;
                        }
                    }
                }
            }
        }
    }
    // Non-vacuity: many runs abandon a cycle and then complete a later one (only
    // break-snapshot runs can: a quarter of them at least).
    assert!(
        abandoned_then_completed * 8 >= runs,
        "{abandoned_then_completed} of {runs} runs abandoned a cycle and completed a later one"
    );
}
