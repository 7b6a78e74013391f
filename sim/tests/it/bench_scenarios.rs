//! The benchmark scenarios (`scenarios/bench/*.toml`, cited in BENCHMARKS.md) are valid
//! and, scaled down, do what their comments claim: the full-size runs are benchmarks,
//! run by hand with the commands BENCHMARKS.md gives.

use std::path::PathBuf;

use engine::Variant;
use sim::{run, Policy, Scenario, WorkloadConfig};

/// The scenario part of a run file (`policies` and `seed` are the command line's).
fn load(name: &str) -> Scenario {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/bench")
        .join(name);
    let mut t: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    t.remove("policies");
    t.remove("seed");
    let s: Scenario = t.try_into().unwrap_or_else(|e| panic!("{name}: {e}"));
    s.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
    s
}

#[test]
fn the_simpy_workload_is_simpys_and_a_scaled_down_run_backs_up_under_load() {
    let mut s = load("simpy.toml");
    assert_eq!(s.layout().unwrap().volume_blocks, 1024);
    let WorkloadConfig::Generated(g) = &mut s.workload else {
        panic!("simpy.toml: a generated workload");
    };
    // SimPy's shape: 1024 blocks, 4 distinct block writes per transaction.
    assert_eq!((g.records, g.length_min, g.length_max), (1024, 4, 4));
    assert_eq!((g.write_fraction, g.transactions), (1.0, 1_000_000));
    g.transactions = 5_000;
    let d = &s.device;
    assert_eq!((d.read_latency_ticks, d.write_latency_ticks), (100, 150));
    assert_eq!((d.table_update_latency_ticks, d.channels), (10, 4));
    let r = run(&s, Policy::Owm(Variant::CopyOnWrite), 1)
        .unwrap()
        .result;
    let c = &r.costs;
    assert_eq!(c.committed, 5_000);
    assert!(
        r.marks.split.is_some() && r.marks.retire.is_some(),
        "{:?}",
        r.marks
    );
    // Copy-on-write does its work while A is live: B writes, table updates.
    assert!(c.vlun_b_writes_a_live > 0 && c.table_updates > 0, "{c:?}");
    // Utilisation 0.7 before the backup: transactions wait for the device sometimes.
    assert!(c.device_queue_ticks > 0, "{c:?}");
}

#[test]
fn the_1gib_volume_is_sparse_and_fits_with_the_history_on() {
    let mut s = load("generated-1gib.toml");
    let layout = s.layout().unwrap();
    assert_eq!((layout.volume_blocks, layout.block_size), (262_144, 4096));
    assert!(!s.keep_history && !s.keep_timeline);
    let mut on = s.clone();
    on.keep_history = true;
    on.keep_timeline = true;
    // The history is judged as the run goes (no event kept): the run fits the memory
    // bound, far below it.
    assert!(on.validate().is_ok());
    let f = sim::footprint::estimate(&on, &layout, &sim::Policy::ALL);
    assert!(f.total_bytes() < on.limits.memory_bytes_max / 16, "{f:?}");
    // Scaled down: a few hundred transactions split, copy on write while A is live.
    let WorkloadConfig::Generated(g) = &mut s.workload else {
        panic!("generated-1gib.toml: a generated workload");
    };
    g.transactions = 400;
    s.backup.request_at_ticks = Some(60_000);
    let r = run(&s, Policy::Owm(Variant::CopyOnWrite), 1)
        .unwrap()
        .result;
    let c = &r.costs;
    assert_eq!(c.committed, 400);
    assert!(c.vlun_b_writes_a_live > 0 && c.table_updates > 0, "{c:?}");
}

/// `tib.toml`: a 1 TiB volume of 4 KiB blocks, copied hole-aware; not run at full size
/// here (its engine tables alone are 2 GiB): the same file on a 2^16-block volume with
/// the history on archives fewer blocks than the volume and every claim holds.
#[test]
fn the_tib_scenario_is_a_tebibyte_with_a_sparse_archive_copy() {
    let mut s = load("tib.toml");
    let layout = s.layout().unwrap();
    assert_eq!((layout.volume_blocks, layout.block_size), (1 << 28, 4096));
    assert!(s.archive.sparse);
    let WorkloadConfig::Generated(g) = &mut s.workload else {
        panic!("tib.toml: a generated workload");
    };
    g.records = 1 << 16;
    g.transactions = 2_000;
    s.keep_history = true;
    let r = run(&s, Policy::Owm(Variant::CopyOnWrite), 1)
        .unwrap()
        .result;
    assert!(r.claimed_violations().is_empty());
    let archived = r.costs.archive_bytes / 4096;
    assert!(
        archived > 0 && archived < 1 << 16,
        "{archived} blocks archived"
    );
}
