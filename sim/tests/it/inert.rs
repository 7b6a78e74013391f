//! The keys `inert_keys` calls without effect really are: each such key, given another
//! value, leaves every run of the policies byte for byte as it was (the result and the
//! faults it drew), over scenarios that reach the rules from the policy set and from
//! other keys. A rule that refused a key which does change a run fails here.

use engine::Variant;
use sim::{
    inert_keys, run, ArchiveConfig, Arrivals, GeneratedConfig, OnDataAreaFull, Policy, Scenario,
    WorkloadConfig,
};

/// Sets `key` (a key `inert_keys` can name) to a value other than `s` has, or `None`
/// for a key this test does not vary (the workload's own keys, refused by the file
/// reader before they reach a scenario).
fn vary(s: &Scenario, key: &str) -> Option<Scenario> {
    let mut t = s.clone();
    let b = &mut t.backup;
    let d = &mut t.device;
    let f = &mut t.faults;
    match key {
        "archive" => t.archive.extent_blocks = s.archive.extent_blocks * 2 + 1,
        "archive.sparse" => t.archive.sparse = !s.archive.sparse,
        "archive.rate_limit_bytes_per_s" => {
            t.archive.rate_limit_bytes_per_s = s.archive.bandwidth_bytes_per_s * 3
        }
        "detach" => {
            t.detach = match &s.detach {
                Some(_) => None,
                None => Some(ArchiveConfig::default()),
            }
        }
        "detach.rate_limit_bytes_per_s" => {
            let a = t.detach.as_mut()?;
            a.rate_limit_bytes_per_s = a.bandwidth_bytes_per_s * 3;
        }
        "backup.setup_window_ticks" => b.setup_window_ticks += 37,
        "backup.baseline_variant" => {
            b.baseline_variant = match s.backup.baseline_variant {
                Variant::CopyOnWrite => Variant::WriteLogging,
                _ => Variant::CopyOnWrite,
            }
        }
        "backup.quiesce_deadline_ticks" => {
            b.quiesce_deadline_ticks = match s.backup.quiesce_deadline_ticks {
                Some(_) => None,
                None => Some(40),
            }
        }
        "backup.quiesce_retries_max" => b.quiesce_retries_max += 3,
        "backup.quiesce_retry_backoff_ticks" => b.quiesce_retry_backoff_ticks = 7,
        "backup.period_ticks" => b.period_ticks = Some(s.backup.period_ticks.unwrap_or(0) + 977),
        "backup.data_area_blocks" => {
            b.data_area_blocks = Some(3);
            b.data_area_fraction = None;
        }
        "backup.data_area_fraction" => {
            b.data_area_fraction = Some(0.02);
            b.data_area_blocks = None;
        }
        "backup.on_data_area_full" => {
            b.on_data_area_full = match s.backup.on_data_area_full {
                OnDataAreaFull::BreakGuestWrite => OnDataAreaFull::BreakSnapshot,
                OnDataAreaFull::BreakSnapshot => OnDataAreaFull::BreakGuestWrite,
            }
        }
        "locking.type_b_blocks" => t.locking.type_b_blocks = vec![0, 1, 2, 3],
        "retry_backoff_ticks" => t.retry_backoff_ticks += 999,
        "faults.torn_write_probability" => f.torn_write_probability = 0.6,
        "faults.lost_write_probability" => f.lost_write_probability = 0.3,
        "faults.latency_spike_ticks_max" => f.latency_spike_ticks_max = 5,
        "faults.io_retry_ticks" => f.io_retry_ticks += 77,
        "faults.heal_at_ticks" => f.heal_at_ticks = Some(1_000_000),
        "faults.backup_read_error_probability" => f.backup_read_error_probability = 0.2,
        "faults.archive_write_error_probability" => f.archive_write_error_probability = 0.2,
        "faults.power_safe" => f.power_safe = !s.faults.power_safe,
        "device.flush_latency_ticks" => d.flush_latency_ticks = 999,
        "device.journaled" => d.journaled = !s.device.journaled,
        "device.journal_sync_latency_ticks" => d.journal_sync_latency_ticks = Some(999),
        "device.journal_lane" => d.journal_lane = !s.device.journal_lane,
        "device.table_update_latency_ticks" => d.table_update_latency_ticks = 999,
        "device.table_lookup_latency_ticks" => d.table_lookup_latency_ticks = 999,
        "device.write_channels" => d.write_channels = Some(s.device.channels * 2),
        "device.sequential_read_bytes_per_s" => {
            d.sequential_read_bytes_per_s = match s.device.sequential_read_bytes_per_s {
                0 => 1_000_000,
                _ => 0,
            }
        }
        _ => return None,
    }
    Some(t)
}

fn load() -> Scenario {
    let mut s = Scenario::with_workload(WorkloadConfig::Generated(GeneratedConfig {
        records: 1024,
        transactions: 150,
        compute_ticks_max: 2000,
        arrivals: Arrivals::Open {
            interarrival_ticks_mean: 100,
        },
        ..GeneratedConfig::default()
    }));
    s.backup.request_at_ticks = Some(5_000);
    s
}

/// The scenarios and policy sets the rules are checked on: the policy set's rules
/// (`none` alone, no table, no one-way mirror) and the other keys' (no power-safe
/// order, active faults, a journal).
fn cases() -> Vec<(&'static str, Scenario, Vec<Policy>)> {
    use Policy::*;
    let mirror = Owm(Variant::WriteMirroring);
    let mut faulty = super::common::bank();
    faulty.faults.crash_at_ticks = vec![400];
    faulty.faults.read_error_probability = 0.02;
    let mut unsafe_order = faulty.clone();
    unsafe_order.faults.power_safe = false;
    unsafe_order.device.journaled = true;
    let mut journaled = load();
    journaled.device.journaled = true;
    let mut committing = load();
    if let WorkloadConfig::Generated(c) = &mut committing.workload {
        c.flush_at_commit = true;
    }
    let mut safe_off = load();
    safe_off.faults.power_safe = false;
    // One-block extents (the archive's and the copy to B''s), one request of a
    // periodic schedule, quiesce with a deadline and no retry.
    let mut single = load();
    single.archive.extent_blocks = 1;
    single.detach = Some(ArchiveConfig {
        extent_blocks: 1,
        ..ArchiveConfig::default()
    });
    single.backup.period_ticks = Some(10_000);
    single.backup.cycles = Some(1);
    single.backup.quiesce_deadline_ticks = Some(40);
    single.backup.quiesce_retries_max = 0;
    single.device.sequential_read_bytes_per_s = 1_000_000;
    vec![
        (
            "one-block extents, one request, no retry",
            single,
            vec![
                Quiesce,
                CrashConsistent,
                mirror,
                Owm(Variant::WriteLogging),
                Owm(Variant::CopyOnWrite),
            ],
        ),
        ("a load under none", load(), vec![None]),
        ("a journal under none", journaled.clone(), vec![None]),
        ("faults under none", faulty.clone(), vec![None]),
        ("fig 4-5 under none", super::common::fig45(), vec![None]),
        (
            "no table",
            journaled,
            vec![None, Quiesce, CrashConsistent, mirror],
        ),
        ("no one-way mirror", load(), vec![Quiesce, CrashConsistent]),
        ("commit flushes", committing, vec![mirror]),
        ("no power-safe order", safe_off, Policy::OWM.to_vec()),
        (
            "faults, no power-safe order",
            unsafe_order,
            vec![
                mirror,
                Owm(Variant::WriteLogging),
                Owm(Variant::CopyOnWrite),
            ],
        ),
        (
            "faults",
            faulty,
            vec![
                Quiesce,
                Owm(Variant::WriteLogging),
                Owm(Variant::CopyOnWrite),
            ],
        ),
    ]
}

/// What a run's fault counts show: all of them but the commit flushes, which no output
/// reports and which follow whether any fault is set at all (any `faults.*`
/// probability above 0 makes every commit flush, [`sim::FaultsConfig::active`]), not
/// whether the run could meet it.
fn shown(mut c: sim::FaultCounts) -> sim::FaultCounts {
    c.flushes = 0;
    c
}

#[test]
fn a_key_called_inert_changes_no_run() {
    let mut varied = 0;
    for (name, s, policies) in cases() {
        s.validate_for(&policies)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let runs: Vec<_> = policies
            .iter()
            .map(|&p| {
                let r = run(&s, p, 5).unwrap_or_else(|e| panic!("{name} {p}: {e}"));
                (r.result, shown(r.faults))
            })
            .collect();
        for i in inert_keys(&s, &policies) {
            let Some(t) = vary(&s, i.key) else { continue };
            // A value the checks refuse is no run to compare (`journal_lane` without
            // a journal, `[detach]` under faults).
            if t.validate_for(&policies).is_err() {
                continue;
            }
            varied += 1;
            for (&p, before) in policies.iter().zip(&runs) {
                let r = run(&t, p, 5).unwrap_or_else(|e| panic!("{name} {p} {}: {e}", i.key));
                assert!(
                    (&r.result, &shown(r.faults)) == (&before.0, &before.1),
                    "{name}: `{}` changed the {p} run, yet is called inert: {}",
                    i.key,
                    i.why
                );
            }
        }
    }
    assert!(varied >= 40, "{varied} keys varied");
}
