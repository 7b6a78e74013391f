//! loom over the device's concurrent front: every interleaving (within the preemption
//! bound) of two or three threads calling one device.
//!
//! Run with `.ci/loom`:
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 CARGO_TARGET_DIR=target/loom \
//!  cargo test -p owm-engine --test loom_device --release`.
//!
//! The stores hold 8-byte words as loom atomics, so a 16-byte block is two words and
//! can tear between them if two calls race on it without the group-1 lock ([0071],
//! [00105]-[00108]). What is asserted:
//! - no read returns a torn block: both words of every block read come from one write
//!   (each write fills a block with one repeated word);
//! - mirrored images never diverge: after two racing writes through VLUN A, image A and
//!   image B hold the same block (write mirroring);
//! - VLUN A never shows a VLUN B write, and the lookup table and the data area agree
//!   (every entry's slot holds the preserved block; the space in use equals the
//!   entries), while a copy-on-write or a log entry races with other calls.
//!
//! - a phase change never cuts through a call: a VLUN A write racing `backup_a` (which
//!   freezes VLUN A) either lands before the freeze, and is in the archive, or is
//!   refused (both outcomes occur); a first VLUN B write racing write logging's
//!   retire ends in VLUN B whichever side of the phase change it falls on.
//!
//! The mutant tests remove the group-1 lock (`skip_group1_for_mutant_test`), or let
//! phase changes skip taking the group-1 locks (`skip_phase_exclusion_for_mutant_test`),
//! and require loom to find a violation, so these tests are shown able to fail.

#![cfg(loom)]

use engine::{BlockStore, Device, DeviceConfig, MemStore, Variant, Vlun};
use loom::sync::Arc;
use loom::thread;

/// Bytes per block: two 8-byte words, the smallest block that can tear.
const BLOCK: usize = 16;
/// Blocks per volume.
const BLOCKS: u64 = 2;

/// Explores `f` with loom, with a preemption bound of 2 unless `LOOM_MAX_PREEMPTIONS`
/// says otherwise (unbounded exploration would not finish in CI), and prints how many
/// executions it explored (shown with `--nocapture`).
fn explore<F: Fn() + Sync + Send + 'static>(f: F) {
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(2);
    }
    let runs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let r = runs.clone();
    b.check(move || {
        r.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f()
    });
    eprintln!(
        "loom explored {} executions",
        runs.load(std::sync::atomic::Ordering::Relaxed)
    );
}

/// A block whose two words are both `w`: a torn block has two different words.
fn fill(w: u8) -> [u8; BLOCK] {
    [w; BLOCK]
}

/// The word a block was filled with; panics on a torn block.
fn word_of(vlun: Vlun, block: u64, buf: &[u8]) -> u8 {
    assert!(
        buf.iter().all(|&b| b == buf[0]),
        "torn read: {vlun} block {block} returned {buf:?}, mixing two writes"
    );
    buf[0]
}

fn device(variant: Variant, mutant: bool) -> Arc<Device<MemStore>> {
    device_with(variant, mutant, false)
}

fn device_with(variant: Variant, mutant: bool, phase_mutant: bool) -> Arc<Device<MemStore>> {
    let mut cfg = DeviceConfig::new(variant);
    cfg.group1_locks = 2;
    cfg.skip_group1_for_mutant_test = mutant;
    cfg.skip_phase_exclusion_for_mutant_test = phase_mutant;
    let dev = Device::in_memory_with(cfg, BLOCK, BLOCKS, BLOCKS).expect("device");
    for b in 0..BLOCKS {
        dev.write(Vlun::A, b, &fill(1)).expect("initial image");
    }
    dev.split().expect("split");
    Arc::new(dev)
}

fn read(dev: &Device<MemStore>, vlun: Vlun, block: u64) -> u8 {
    let mut buf = [0u8; BLOCK];
    dev.read(vlun, block, &mut buf).expect("read");
    word_of(vlun, block, &buf)
}

/// Every table entry's slot holds what its VLUN reads for that block, and the data
/// area in use is exactly the entries.
fn table_agrees_with_data_area(dev: &Device<MemStore>) {
    let entries = dev.table_contents().expect("table image reads");
    assert_eq!(dev.counters().data_area_blocks, entries.len() as u64);
    for e in entries {
        let w = word_of(Vlun::A, e.block, &e.data);
        assert_eq!(
            w,
            read(dev, e.vlun, e.block),
            "entry for block {} (slot {}) is not what {} reads",
            e.block,
            e.slot,
            e.vlun
        );
    }
}

/// Two old-transaction writes through VLUN A race on block 0 while a new transaction
/// reads it through VLUN B: mirroring writes both images under one group-1 lock.
fn mirrored_writes_race(mutant: bool) {
    explore(move || {
        let dev = device(Variant::WriteMirroring, mutant);
        let writers: Vec<_> = [2u8, 3]
            .into_iter()
            .map(|w| {
                let d = dev.clone();
                thread::spawn(move || {
                    d.write(Vlun::A, 0, &fill(w)).unwrap();
                })
            })
            .collect();
        let seen = read(&dev, Vlun::B, 0);
        assert!([1, 2, 3].contains(&seen), "VLUN B read {seen}");
        for h in writers {
            h.join().unwrap();
        }
        let (a, b) = dev.images();
        let (mut ia, mut ib) = ([0u8; BLOCK], [0u8; BLOCK]);
        a.read_block(0, &mut ia).unwrap();
        b.read_block(0, &mut ib).unwrap();
        assert_eq!(ia, ib, "mirrored images diverged on block 0");
        word_of(Vlun::A, 0, &ia);
    });
}

#[test]
fn mirroring_a_writes_never_tear_and_images_never_diverge() {
    mirrored_writes_race(false);
}

/// Runs `f`, which must panic, and returns the panic message.
fn failure_of(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let payload = std::panic::catch_unwind(f).expect_err("loom must find a violation");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn mutant_without_group1_lock_tears_or_diverges_mirroring() {
    let msg = failure_of(|| mirrored_writes_race(true));
    assert!(
        msg.contains("diverged") || msg.contains("torn read"),
        "loom must find a torn block or diverged mirror once the group-1 lock is gone, got: {msg}"
    );
}

/// An old transaction writes block 0 through VLUN A while a new one writes it through
/// VLUN B and a third thread reads it through VLUN A. Whatever the order, VLUN A shows
/// only the initial block or the A write (never B's), no read tears, VLUN B ends with
/// one of the two writes (the A write if it came last: it is applied to B too), and
/// the table agrees with the data area.
fn a_and_b_writes_race(variant: Variant, mutant: bool) {
    explore(move || {
        let dev = device(variant, mutant);
        let d = dev.clone();
        let old = thread::spawn(move || {
            d.write(Vlun::A, 0, &fill(2)).unwrap();
        });
        let d = dev.clone();
        let new = thread::spawn(move || {
            d.write(Vlun::B, 0, &fill(3)).unwrap();
        });
        let seen = read(&dev, Vlun::A, 0);
        assert!(
            seen == 1 || seen == 2,
            "VLUN A showed {seen}: a VLUN B write leaked"
        );
        old.join().unwrap();
        new.join().unwrap();
        assert_eq!(
            read(&dev, Vlun::A, 0),
            2,
            "VLUN A lost the old transaction's write"
        );
        let b = read(&dev, Vlun::B, 0);
        assert!(b == 2 || b == 3, "VLUN B holds {b}");
        table_agrees_with_data_area(&dev);
    });
}

#[test]
fn cow_copy_races_a_write_and_a_read() {
    a_and_b_writes_race(Variant::CopyOnWrite, false);
}

#[test]
fn logging_entry_races_a_write_and_a_read() {
    a_and_b_writes_race(Variant::WriteLogging, false);
}

#[test]
fn mirroring_a_and_b_writes_race() {
    a_and_b_writes_race(Variant::WriteMirroring, false);
}

#[test]
fn mutant_without_group1_lock_breaks_cow() {
    let found = std::panic::catch_unwind(|| a_and_b_writes_race(Variant::CopyOnWrite, true));
    assert!(
        found.is_err(),
        "loom must find the copy-on-write race once the group-1 lock is gone"
    );
}

/// Two new-transaction writes through VLUN B race on a block with no entry yet: only
/// one may create the entry and preserve the old block (copy-on-write) or log it
/// (write logging); VLUN A keeps the initial block, and a concurrent VLUN B read never
/// tears.
fn two_first_b_writes_race(variant: Variant) {
    explore(move || {
        let dev = device(variant, false);
        let writers: Vec<_> = [2u8, 3]
            .into_iter()
            .map(|w| {
                let d = dev.clone();
                thread::spawn(move || {
                    d.write(Vlun::B, 1, &fill(w)).unwrap();
                })
            })
            .collect();
        let seen = read(&dev, Vlun::B, 1);
        assert!([1, 2, 3].contains(&seen), "VLUN B read {seen}");
        for h in writers {
            h.join().unwrap();
        }
        assert_eq!(
            read(&dev, Vlun::A, 1),
            1,
            "VLUN A must keep the block from before the split"
        );
        let table = dev.table().expect("a table after the split");
        assert_eq!(table.in_use(), 1, "exactly one entry for block 1");
        table_agrees_with_data_area(&dev);
    });
}

#[test]
fn cow_first_writes_through_b_race() {
    two_first_b_writes_race(Variant::CopyOnWrite);
}

#[test]
fn logging_first_writes_through_b_race() {
    two_first_b_writes_race(Variant::WriteLogging);
}

/// Write logging: retiring VLUN A merges B's logged blocks into image A while a new
/// transaction writes the same block through VLUN B and another reads it. The merge
/// must not put the logged (older) block over the newer write, and at the end no
/// entry and no extra space remain.
#[test]
fn logging_retire_merge_races_a_b_write() {
    explore(|| {
        let dev = device(Variant::WriteLogging, false);
        dev.write(Vlun::B, 0, &fill(2)).unwrap();
        dev.backup_a(&mut std::io::sink()).unwrap();
        let d = dev.clone();
        let retire = thread::spawn(move || {
            d.retire_a().unwrap();
        });
        let d = dev.clone();
        let new = thread::spawn(move || {
            d.write(Vlun::B, 0, &fill(3)).unwrap();
        });
        let seen = read(&dev, Vlun::B, 0);
        assert!(seen == 2 || seen == 3, "VLUN B read {seen}");
        retire.join().unwrap();
        new.join().unwrap();
        assert_eq!(
            read(&dev, Vlun::B, 0),
            3,
            "the merge overwrote a newer VLUN B write"
        );
        assert_eq!(read(&dev, Vlun::B, 1), 1);
        assert!(dev.table().is_none(), "the table is dropped at retire");
        assert_eq!(dev.extra_space_blocks(), 0);
    });
}

/// Concurrent reads through both VLUNs while a new transaction's first VLUN B write
/// creates the table entry (and, for copy-on-write, preserves the old block): the
/// VLUN A reader sees only the block from before the split, the VLUN B reader one of
/// the two contents, and neither tears.
fn reads_race_a_first_b_write(variant: Variant) {
    explore(move || {
        let dev = device(variant, false);
        let d = dev.clone();
        let new = thread::spawn(move || {
            d.write(Vlun::B, 0, &fill(3)).unwrap();
        });
        let d = dev.clone();
        let reader_b = thread::spawn(move || read(&d, Vlun::B, 0));
        assert_eq!(read(&dev, Vlun::A, 0), 1, "VLUN A showed a VLUN B write");
        let b = reader_b.join().unwrap();
        assert!(b == 1 || b == 3, "VLUN B read {b}");
        new.join().unwrap();
        assert_eq!(read(&dev, Vlun::B, 0), 3);
        table_agrees_with_data_area(&dev);
    });
}

#[test]
fn cow_reads_race_a_first_b_write() {
    reads_race_a_first_b_write(Variant::CopyOnWrite);
}

#[test]
fn logging_reads_race_a_first_b_write() {
    reads_race_a_first_b_write(Variant::WriteLogging);
}

#[test]
fn mutant_without_group1_lock_breaks_logging() {
    let msg = failure_of(|| a_and_b_writes_race(Variant::WriteLogging, true));
    assert!(
        msg.contains("torn read") || msg.contains("leaked") || msg.contains("lost"),
        "loom must find the write-logging race once the group-1 lock is gone, got: {msg}"
    );
}

/// An old transaction writes block 0 through VLUN A while `backup_a` freezes VLUN A
/// and archives it. The write either lands before the freeze (VLUN A and the archive
/// show it) or is refused (neither does): the phase change waits for the call in
/// flight, and a later call reads the new phase under its block's lock. Returns how
/// many explored executions saw the write land and how many saw it refused (both must
/// occur: the race is real).
fn a_write_races_backup(variant: Variant) -> (usize, usize) {
    let landed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let refused = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (l, r) = (landed.clone(), refused.clone());
    explore(move || {
        let dev = device(variant, false);
        let d = dev.clone();
        let old = thread::spawn(move || d.write(Vlun::A, 0, &fill(2)).is_ok());
        let mut archive = Vec::new();
        dev.backup_a(&mut archive).expect("backup");
        let wrote = old.join().unwrap();
        let a0 = read(&dev, Vlun::A, 0);
        assert_eq!(
            a0,
            if wrote { 2 } else { 1 },
            "VLUN A lost or invented a write"
        );
        assert_eq!(
            word_of(Vlun::A, 0, &archive[..BLOCK]),
            a0,
            "the archive differs from VLUN A: a write landed in VLUN A after its freeze"
        );
        let counter = if wrote { &l } else { &r };
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    });
    let n = |c: &std::sync::atomic::AtomicUsize| c.load(std::sync::atomic::Ordering::Relaxed);
    (n(&landed), n(&refused))
}

fn backup_excludes_a_racing_write(variant: Variant) {
    let (landed, refused) = a_write_races_backup(variant);
    assert!(
        landed > 0 && refused > 0,
        "{variant}: both outcomes must be explored (landed {landed}, refused {refused})"
    );
}

#[test]
fn mirroring_backup_excludes_a_racing_a_write() {
    backup_excludes_a_racing_write(Variant::WriteMirroring);
}

#[test]
fn logging_backup_excludes_a_racing_a_write() {
    backup_excludes_a_racing_write(Variant::WriteLogging);
}

#[test]
fn cow_backup_excludes_a_racing_a_write() {
    backup_excludes_a_racing_write(Variant::CopyOnWrite);
}

/// Write logging: a new transaction's first VLUN B write to block 1 (no entry yet)
/// races `retire_a`, which merges the log into image A and drops the table. The
/// write runs wholly before the phase change (logged, then merged) or wholly after it
/// (straight to image A, where VLUN B lives once retired): either way VLUN B ends
/// with it and no table remains.
fn first_b_write_races_retire(phase_mutant: bool) {
    explore(move || {
        let dev = device_with(Variant::WriteLogging, false, phase_mutant);
        dev.backup_a(&mut std::io::sink()).expect("backup");
        let d = dev.clone();
        let new = thread::spawn(move || {
            d.write(Vlun::B, 1, &fill(3))
                .map(|_| ())
                .map_err(|e| e.to_string())
        });
        dev.retire_a().expect("retire");
        assert_eq!(new.join().unwrap(), Ok(()), "the VLUN B write failed");
        assert_eq!(
            read(&dev, Vlun::B, 1),
            3,
            "VLUN B lost a write: the retire cut through it"
        );
        assert!(dev.table().is_none(), "the table is dropped at retire");
        assert_eq!(dev.extra_space_blocks(), 0);
    });
}

#[test]
fn logging_retire_excludes_a_racing_first_b_write() {
    first_b_write_races_retire(false);
}

#[test]
fn mutant_without_phase_exclusion_lets_the_retire_cut_through_a_b_write() {
    let msg = failure_of(|| first_b_write_races_retire(true));
    eprintln!("found: {msg}");
    assert!(
        !msg.is_empty(),
        "loom must find the retire cutting through a VLUN B write once phase changes \
         skip the group-1 locks"
    );
}
