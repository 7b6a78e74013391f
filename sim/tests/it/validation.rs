//! The validation scenario (`scenarios/validation-percona.toml`) reproduces Percona's
//! 2009 LVM snapshot measurement: one synchronous writer, 159 io/s without a snapshot
//! and 25 io/s with one (6.4x). The simulated factor must lie within 2x of it, and for
//! the published reasons: without the snapshot a write is one physical write; with it
//! a first write reads the old block, writes the copy, syncs the copy's journal entry
//! and writes the new block.

use std::path::PathBuf;

use engine::Variant;
use sim::{run, Invariant, Outcome, Policy, RunResult, Scenario};

/// Percona's published factor: 159 io/s without a snapshot over 25 io/s with one.
const PUBLISHED_FACTOR: f64 = 159.0 / 25.0;

fn percona() -> Scenario {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/validation-percona.toml");
    let mut t: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    t.remove("policies");
    t.remove("seed");
    t.try_into().expect("the validation scenario parses")
}

/// Writes per second of virtual time over the committed writes: the writer is a closed
/// loop with no think time, so this is one over the mean response.
fn io_per_s(r: &RunResult) -> f64 {
    1e6 / r.costs.response_time.ticks_mean
}

#[test]
fn the_percona_snapshot_slowdown_is_within_twice_the_published_factor() {
    let s = percona();
    let none = run(&s, Policy::None, 1).unwrap().result;
    let cow = run(&s, Policy::Owm(Variant::CopyOnWrite), 1)
        .unwrap()
        .result;
    for r in [&none, &cow] {
        assert_eq!(r.costs.committed, 1000);
    }
    assert!(none.violations.is_empty(), "{:?}", none.violations);
    // The snapshot disrupts the writer: a first write waits for the copy's flush and
    // the journal's sync (12,460 ticks on the HDD), past the 100-tick setup window.
    // That is the one violation.
    let broken: Vec<Invariant> = cow.violations.iter().map(|v| v.invariant).collect();
    assert_eq!(broken, [Invariant::NonDisruption], "{:?}", cow.violations);
    // Every cow write ran in the backup window: the snapshot existed (request at 0)
    // and was still held (the archive of the 8 GiB volume outlasts the writer).
    let request = cow.marks.request.expect("requested");
    let retire = cow.marks.retire.expect("retired");
    let last_end = cow
        .transactions
        .iter()
        .filter(|t| t.outcome == Outcome::Committed)
        .filter_map(|t| t.ended_ticks)
        .max()
        .unwrap();
    assert!(last_end < retire, "the writer outlasted the window");
    // The archive reads each 64-block extent as one run on the disk (one positioning,
    // 64 transfers), each preserved block (in the snapshot's data area) breaking it
    // twice at most: the copy lies between the runs alone and the runs with those
    // breaks, plus the last extent's send.
    let block = s.geometry.block_size_bytes as u64;
    let extent = s.archive.extent_blocks;
    let extents = s.workload.records() / extent;
    let positioning = sim::profiles::HDD_POSITIONING_TICKS;
    let runs = extents * (positioning + extent * s.device.block_transfer_ticks(block));
    let copy = cow.marks.archive_copy.unwrap() - cow.marks.a_consistent.unwrap();
    let breaks = 2 * positioning * cow.costs.extra_space_blocks_peak;
    let send = s.archive.send_ticks(extent * block);
    assert!(
        (runs..=runs + breaks + send).contains(&copy),
        "copy {copy} ticks: runs {runs}, breaks {breaks}"
    );
    assert!(cow.transactions.iter().all(|t| t.arrived_ticks >= request));
    // The reasons: blind writes read nothing without the snapshot; with it nearly every
    // write is a first write (1 read, 2 writes, 1 journal sync), a few hit a block
    // already copied.
    let (n, c) = (&none.costs, &cow.costs);
    assert_eq!((n.physical_reads, n.physical_writes), (0, 1000));
    assert_eq!(n.table_updates, 0);
    assert!(
        (0.95..=1.0).contains(&c.physical_reads_per_logical_write),
        "{}",
        c.physical_reads_per_logical_write
    );
    assert!(
        (1.95..=2.0).contains(&c.physical_writes_per_logical_write),
        "{}",
        c.physical_writes_per_logical_write
    );
    assert!(
        c.extra_space_blocks_peak >= 950,
        "{}",
        c.extra_space_blocks_peak
    );
    let factor = io_per_s(&none) / io_per_s(&cow);
    eprintln!(
        "validation-percona: none {:.1} io/s, cow {:.1} io/s, factor {factor:.2} (published {PUBLISHED_FACTOR:.2})",
        io_per_s(&none),
        io_per_s(&cow)
    );
    assert!(
        (PUBLISHED_FACTOR / 2.0..=PUBLISHED_FACTOR * 2.0).contains(&factor),
        "factor {factor:.2} is not within 2x of {PUBLISHED_FACTOR:.2}"
    );
    // Sharper than the 2x band: 4 positionings per first write against 1.
    assert!((3.8..4.1).contains(&factor), "factor {factor:.2}");
}

#[test]
fn a_blind_write_reads_nothing_and_a_commit_flush_costs_its_latency() {
    let mut s = percona();
    s.workload = match s.workload {
        sim::WorkloadConfig::Generated(mut g) => {
            g.transactions = 50;
            sim::WorkloadConfig::Generated(g)
        }
        _ => unreachable!(),
    };
    s.device.jitter_ticks_max = 0;
    let blind = run(&s, Policy::None, 3).unwrap().result;
    assert_eq!(blind.costs.physical_reads, 0);
    assert_eq!(blind.costs.flushes, 50);
    // A block's positioning and its transfer at the disk's media rate.
    let transfer = s
        .device
        .block_transfer_ticks(s.geometry.block_size_bytes as u64) as f64;
    assert!(transfer > 0.0);
    let write = s.device.write_latency_ticks as f64 + transfer;
    let flush = s.device.flush_latency_ticks as f64;
    assert_eq!(blind.costs.response_time.ticks_mean, write + flush);
    // The same load as read-modify-writes: one more read per write.
    let mut rmw = s.clone();
    if let sim::WorkloadConfig::Generated(g) = &mut rmw.workload {
        g.write_kind = sim::WriteKind::ReadModifyWrite;
        g.flush_at_commit = false;
    }
    let r = run(&rmw, Policy::None, 3).unwrap().result;
    assert_eq!((r.costs.physical_reads, r.costs.flushes), (50, 0));
    let read = s.device.read_latency_ticks as f64 + transfer;
    assert_eq!(r.costs.response_time.ticks_mean, read + write);
}

#[test]
fn blind_writes_refuse_what_they_cannot_honour() {
    let base = percona();
    let key = |s: &Scenario| match s.validate() {
        Err(sim::SimError::Config { key, .. }) => key,
        other => panic!("{other:?}"),
    };
    let mut s = base.clone();
    s.geometry.records_per_block = 2;
    s.geometry.block_size_bytes = 512;
    assert_eq!(key(&s), "workload.write_kind");
    let mut s = base.clone();
    s.abort_probability = 0.1;
    assert_eq!(key(&s), "workload.write_kind");
    let mut s = base.clone();
    s.locking.discipline = sim::Discipline::Incremental;
    assert_eq!(key(&s), "workload.write_kind");
    assert!(base.validate().is_ok());
}
