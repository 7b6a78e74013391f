//! The archive copy is I/O on the device and the archive target: a slower target
//! keeps VLUN A live longer, so users go on writing VLUN B while A must be kept, and
//! copy-on-write and write logging hold more extra space.

use engine::Variant;
use sim::{run, Arrivals, GeneratedConfig, Policy, Scenario, WorkloadConfig};

use super::common::safety_violations;

/// Writes all run long; 4,096 records of 16 bytes in 64-byte blocks (1,024 blocks).
fn steady_writes() -> Scenario {
    let mut s = Scenario::with_workload(WorkloadConfig::Generated(GeneratedConfig {
        records: 4096,
        transactions: 3000,
        write_fraction: 0.7,
        // Saturated (the default before it moved to 200): writes all run long.
        arrivals: Arrivals::Open {
            interarrival_ticks_mean: 20,
        },
        ..GeneratedConfig::default()
    }));
    s.backup.request_at_ticks = Some(5_000);
    s.keep_history = true;
    s
}

#[test]
fn a_slower_archive_target_lengthens_the_window_and_raises_the_extra_space_peak() {
    for v in [Variant::WriteLogging, Variant::CopyOnWrite] {
        for seed in 1..=5 {
            let fast = steady_writes();
            let mut slow = steady_writes();
            slow.archive.bandwidth_bytes_per_s = 2_000_000;
            let f = run(&fast, Policy::Owm(v), seed).unwrap().result;
            let s = run(&slow, Policy::Owm(v), seed).unwrap().result;
            // Users queue behind the slow archive's extents (non-disruption, judged
            // elsewhere); every consistency claim holds.
            assert!(safety_violations(&f).is_empty() && safety_violations(&s).is_empty());
            let (fw, sw) = (
                f.costs.request_to_retire_ticks.unwrap(),
                s.costs.request_to_retire_ticks.unwrap(),
            );
            assert!(sw > fw, "{v} seed {seed}: window {sw} vs {fw}");
            assert!(
                s.costs.extra_space_blocks_peak > f.costs.extra_space_blocks_peak,
                "{v} seed {seed}: peak {} vs {}",
                s.costs.extra_space_blocks_peak,
                f.costs.extra_space_blocks_peak
            );
            // The archive read every block of A once, on the device.
            assert_eq!(f.costs.archive_bytes, 1024 * 64);
            assert!(f.costs.backup_physical_reads >= 1024);
        }
    }
}

/// A faster target shortens request → retire but does not spare the users: the copy
/// reads VLUN A at the pace the target takes its extents, so the same reads packed
/// into a shorter span queue more user calls behind them (scenarios/README.md,
/// `[archive]`: the load there, seed 3). Over seeds 1-20 of it, at 4 MB/s against
/// 100 MB/s, under copy-on-write and write logging: retire is always later at the
/// slower target, and the users' mean response higher at the faster one on most seeds
/// and over them all.
#[test]
fn a_faster_archive_target_retires_sooner_but_can_slow_the_users() {
    let load = |bandwidth| {
        let mut s = Scenario::with_workload(WorkloadConfig::Generated(GeneratedConfig {
            records: 4096,
            transactions: 200,
            length_max: 3,
            write_fraction: 0.7,
            arrivals: Arrivals::Open {
                interarrival_ticks_mean: 150,
            },
            ..GeneratedConfig::default()
        }));
        s.device.channels = 2;
        s.device.jitter_ticks_max = 0;
        s.archive.bandwidth_bytes_per_s = bandwidth;
        s
    };
    for v in [Variant::CopyOnWrite, Variant::WriteLogging] {
        let (mut slower_users, mut sum_slow, mut sum_fast) = (0, 0.0, 0.0);
        for seed in 1..=20 {
            let slow = run(&load(4_000_000), Policy::Owm(v), seed).unwrap().result;
            let fast = run(&load(100_000_000), Policy::Owm(v), seed)
                .unwrap()
                .result;
            let retire = |r: &sim::RunResult| r.costs.request_to_retire_ticks.unwrap();
            assert!(retire(&slow) > retire(&fast), "{v} seed {seed}");
            let mean = |r: &sim::RunResult| r.costs.response_time.ticks_mean;
            slower_users += usize::from(mean(&fast) > mean(&slow));
            sum_slow += mean(&slow);
            sum_fast += mean(&fast);
        }
        assert!(slower_users > 10, "{v}: {slower_users} of 20");
        assert!(sum_fast > sum_slow, "{v}: {sum_fast} vs {sum_slow}");
    }
}

/// On the SSD profiles the archive copy's reads go at the drive's sequential rate (an
/// extent is one random read and then its blocks at the published sequential read
/// rate), so the archive target, not the drive, bounds the copy: each faster target
/// (1 GbE, LTO-8, 10 GbE) strictly shortens A consistent → archive done, and over
/// 1 GbE the copy takes within 10 % of the link's own time for the bytes. 16 MiB of
/// 4 KiB blocks, copied densely, under copy-on-write.
#[test]
fn on_an_ssd_the_archive_target_bounds_the_copy() {
    use sim::profiles::{ArchiveProfile, DeviceProfile};
    for device in [DeviceProfile::SataSsd, DeviceProfile::NvmeSsd] {
        let copy = |target: ArchiveProfile| {
            let mut s = Scenario::with_workload(WorkloadConfig::Generated(GeneratedConfig {
                records: 4096,
                transactions: 20,
                length_min: 1,
                length_max: 2,
                arrivals: Arrivals::Open {
                    interarrival_ticks_mean: 200,
                },
                ..GeneratedConfig::default()
            }));
            s.geometry.block_size_bytes = 4096;
            s.geometry.records_per_block = 1;
            s.device = device.config();
            s.archive = target.config();
            s.backup.request_at_ticks = Some(1_000);
            let r = run(&s, Policy::Owm(Variant::CopyOnWrite), 1)
                .unwrap()
                .result;
            assert_eq!(r.costs.archive_bytes, 16 << 20);
            r.marks.archive_copy.unwrap() - r.marks.a_consistent.unwrap()
        };
        let (gbe1, lto8, gbe10) = (
            copy(ArchiveProfile::Gbe1),
            copy(ArchiveProfile::Lto8),
            copy(ArchiveProfile::Gbe10),
        );
        assert!(
            gbe1 > lto8 && lto8 > gbe10,
            "{device:?}: 1 GbE {gbe1}, LTO-8 {lto8}, 10 GbE {gbe10} ticks"
        );
        let link = ((16u64 << 20) * 1_000_000)
            .div_ceil(ArchiveProfile::Gbe1.config().bandwidth_bytes_per_s);
        assert!(
            gbe1 >= link && gbe1 * 10 <= link * 11,
            "{device:?}: {gbe1} ticks over 1 GbE, the link alone {link}"
        );
    }
}

#[test]
fn a_rate_limit_slows_the_copy_like_a_slower_target() {
    let fast = steady_writes();
    let mut limited = steady_writes();
    limited.archive.rate_limit_bytes_per_s = 2_000_000;
    let p = Policy::Owm(Variant::CopyOnWrite);
    let f = run(&fast, p, 3).unwrap().result;
    let l = run(&limited, p, 3).unwrap().result;
    let copy = |r: &sim::RunResult| r.marks.archive_copy.unwrap() - r.marks.a_consistent.unwrap();
    // 65,536 bytes at 2 MB/s: at least 32,768 ticks.
    assert!(copy(&l) >= 32_768, "{}", copy(&l));
    assert!(copy(&l) > copy(&f));
}

#[test]
fn flushes_are_priced() {
    // Copy-on-write's first writes to B wait for flush barriers: a dearer flush makes
    // the same run's users slower, and nothing else changes.
    let cheap = steady_writes();
    let mut dear = steady_writes();
    dear.device.flush_latency_ticks = 2_000;
    let p = Policy::Owm(Variant::CopyOnWrite);
    let c = run(&cheap, p, 1).unwrap().result;
    let d = run(&dear, p, 1).unwrap().result;
    assert!(c.costs.flushes > 0);
    assert!(
        d.costs.response_time.ticks_mean > c.costs.response_time.ticks_mean,
        "{} vs {}",
        d.costs.response_time.ticks_mean,
        c.costs.response_time.ticks_mean
    );
}

/// The split's own device call (its flush barriers; at a later mirroring split, the
/// resync of image A from image B) completes before VLUN A is declared consistent,
/// copied and retired: a dearer split lengthens request → retire by at least its
/// cost, under every policy that splits; the claims still hold.
#[test]
fn vlun_a_waits_for_the_splits_own_call() {
    let policies = [
        Policy::Owm(Variant::CopyOnWrite),
        Policy::Owm(Variant::WriteLogging),
        Policy::Owm(Variant::WriteMirroring),
        Policy::Quiesce,
        Policy::CrashConsistent,
    ];
    for p in policies {
        for seed in 1..=3 {
            let mut dear = steady_writes();
            dear.device.flush_latency_ticks = 50_000;
            let r = run(&dear, p, seed).unwrap().result;
            assert!(safety_violations(&r).is_empty(), "{p} seed {seed}");
            let m = &r.marks;
            let (split, done) = (m.split.unwrap(), m.split_done.unwrap());
            // The split's barriers: at least one flush.
            assert!(done >= split + 50_000, "{p} seed {seed}: {m:?}");
            assert!(m.a_consistent.unwrap() >= done, "{p} seed {seed}: {m:?}");
            assert!(m.archive_copy.unwrap() >= m.a_consistent.unwrap());
            assert!(m.retire.unwrap() >= m.archive_copy.unwrap());
        }
    }
    // A later mirroring split resyncs image A (a read and a write per block VLUN B
    // wrote since the first split, not per volume block): the second cycle's VLUN A
    // is declared only after it, while VLUN B was ready at the end of the setup
    // window.
    let mut two = steady_writes();
    two.backup.request_at_ticks = None;
    two.backup.schedule_at_ticks = vec![5_000, 30_000];
    let r = run(&two, Policy::Owm(Variant::WriteMirroring), 1)
        .unwrap()
        .result;
    assert!(safety_violations(&r).is_empty());
    assert_eq!(r.cycles.len(), 2);
    let c = &r.cycles[1];
    let m = &c.marks;
    let (split, done) = (m.split.unwrap(), m.split_done.unwrap());
    let read = two.device.read_latency_ticks;
    let write = two.device.write_latency_ticks;
    // The cycle's backup writes are the resync's (the archive only reads, and reads
    // the whole volume of 1,024 blocks besides the resync's reads).
    let resynced = c.backup_physical_writes;
    assert!(
        resynced > 0 && resynced < 1024,
        "{resynced} blocks resynced"
    );
    assert_eq!(c.backup_physical_reads, resynced + 1024);
    assert!(
        done - split >= resynced * (read + write),
        "{resynced} blocks resynced in {} ticks",
        done - split
    );
    assert!(m.a_consistent.unwrap() >= done);
    assert_eq!(
        m.vlun_b_ready.unwrap(),
        split + two.backup.setup_window_ticks
    );
}

/// `[archive] sparse`: only the blocks of VLUN A that hold data are read and sent
/// (fewer than the volume's when the run has not written every block before A is
/// declared consistent), and the archive still equals A (the oracle's backup-faithful
/// holds); under every policy that archives, and with history on.
#[test]
fn a_sparse_archive_copies_only_the_blocks_holding_data_and_equals_a() {
    for p in [
        Policy::Owm(Variant::CopyOnWrite),
        Policy::Owm(Variant::WriteLogging),
        Policy::Owm(Variant::WriteMirroring),
        Policy::Quiesce,
    ] {
        for seed in 1..=3 {
            let dense = steady_writes();
            let mut sparse = steady_writes();
            sparse.archive.sparse = true;
            let d = run(&dense, p, seed).unwrap();
            let s = sim::run_keeping_history(&sparse, p, seed).unwrap();
            assert!(safety_violations(&s.result).is_empty(), "{p} seed {seed}");
            assert!(
                !s.result
                    .violations
                    .iter()
                    .any(|v| v.invariant == sim::Invariant::BackupFaithful),
                "{p} seed {seed}"
            );
            let h = s.history.as_ref().expect("history kept");
            assert!(
                h.events
                    .iter()
                    .any(|e| matches!(e.event, sim::Event::Archive { .. })),
                "{p} seed {seed}: archived"
            );
            let (db, sb) = (d.result.costs.archive_bytes, s.result.costs.archive_bytes);
            assert_eq!(db, 1024 * 64);
            assert!(sb > 0 && sb < db, "{p} seed {seed}: {sb} vs {db}");
            assert!(
                s.result.costs.backup_physical_reads < d.result.costs.backup_physical_reads,
                "{p} seed {seed}"
            );
        }
    }
}

/// On the 7,200 rpm disk the archive copy of a mirrored volume reads each extent as one
/// run: one positioning and the extent's bytes at the media rate (rounded up to a tick
/// once), so the copy takes extents × (one positioning + 64 blocks' transfer) + the
/// last extent's send. Differentially: the same run
/// with the transfer rate off prices each block a positioning, as before runs were
/// priced. Expected figures from the profile's constants.
#[test]
fn on_the_hdd_an_archive_extent_positions_once_then_transfers_its_bytes() {
    use sim::profiles::{HDD_POSITIONING_TICKS, HDD_TRANSFER_BYTES_PER_S};
    const BLOCK: u64 = 16_384;
    const BLOCKS: u64 = 1024;
    let mut s = Scenario::with_workload(WorkloadConfig::Generated(GeneratedConfig {
        records: BLOCKS,
        transactions: 20,
        write_fraction: 1.0,
        // One call at a time from the users: with two channels the archive's extents
        // never wait for one.
        arrivals: Arrivals::Closed {
            clients: 1,
            think_ticks_mean: 0,
        },
        ..GeneratedConfig::default()
    }));
    s.geometry.block_size_bytes = BLOCK as usize;
    s.geometry.records_per_block = 1;
    s.device = sim::DeviceProfile::Hdd7200.config();
    s.device.channels = 2;
    s.device.jitter_ticks_max = 0;
    s.backup.request_at_ticks = Some(0);
    let extent = s.archive.extent_blocks;
    assert_eq!(BLOCKS % extent, 0);
    let extents = BLOCKS / extent;
    let send = s.archive.send_ticks(extent * BLOCK);
    let copy = |s: &Scenario| {
        let r = run(s, Policy::Owm(Variant::WriteMirroring), 1)
            .unwrap()
            .result;
        assert!(safety_violations(&r).is_empty());
        r.marks.archive_copy.unwrap() - r.marks.a_consistent.unwrap()
    };
    let transfer = (extent * BLOCK * 1_000_000).div_ceil(HDD_TRANSFER_BYTES_PER_S);
    assert_eq!(transfer, 7_490, "1 MiB at 140 MB/s");
    let read = HDD_POSITIONING_TICKS + transfer;
    assert!(send < read, "the reads set the pace");
    assert_eq!(copy(&s), extents * read + send);
    let mut flat = s.clone();
    flat.device.transfer_bytes_per_s = 0;
    assert_eq!(copy(&flat), extents * extent * HDD_POSITIONING_TICKS + send);
}
