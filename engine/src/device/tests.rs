//! The journal's fail-stop rule, with a journal that refuses on command (the file
//! journal cannot be made to fail from a test without root-proof tricks).

use std::sync::{Arc, Mutex as StdMutex};

use super::*;
use crate::meta::{Journal, MetaError, MetaRecord};
use crate::store::MemStore;
use crate::table::LookupTable;
use crate::{Phase, Variant, Vlun};

/// Accepts `budget` appends, then fails every one.
struct Refusing {
    budget: usize,
    kept: Arc<StdMutex<Vec<MetaRecord>>>,
}

impl Journal for Refusing {
    fn append(&mut self, record: &MetaRecord) -> std::result::Result<(), MetaError> {
        if self.budget == 0 {
            return Err(MetaError {
                path: "test.owm".into(),
                offset: None,
                os_error: None,
                reason: "no space left".into(),
            });
        }
        self.budget -= 1;
        self.kept.lock().unwrap().push(record.clone());
        Ok(())
    }
    fn sync(&mut self) -> std::result::Result<(), MetaError> {
        Ok(())
    }
    fn compact(&mut self, _: &[MetaRecord]) -> std::result::Result<(), MetaError> {
        Ok(())
    }
}

const BS: usize = 16;

fn block(x: u8) -> Vec<u8> {
    vec![x; BS]
}

fn read(d: &Device<MemStore>, vlun: Vlun, b: u64) -> Vec<u8> {
    let mut buf = vec![0u8; BS];
    d.read(vlun, b, &mut buf).unwrap();
    buf
}

fn is_journal_error(r: Result<IoCost>) -> bool {
    matches!(r, Err(Error::Meta(e)) if e.path == "test.owm")
}

/// After the first refused append the device changes no table entry again, keeps
/// memory equal to what the journal holds, and still serves every write that needs
/// no table change.
#[test]
fn journal_failure_stops_table_changes_and_keeps_memory_equal_to_journal() {
    for variant in [Variant::WriteLogging, Variant::CopyOnWrite] {
        let d = Device::in_memory(variant, BS, 8).unwrap();
        let kept = Arc::new(StdMutex::new(Vec::new()));
        d.set_journal(Box::new(Refusing {
            budget: 2,
            kept: kept.clone(),
        }));
        d.split().unwrap();
        d.write(Vlun::B, 1, &block(1)).unwrap(); // the second and last append
        let table = d.table();

        // A first B write needs an Insert: refused, and the table is as before.
        assert!(
            is_journal_error(d.write(Vlun::B, 2, &block(2))),
            "{variant}"
        );
        assert_eq!(d.table(), table, "{variant}");
        assert_eq!(read(&d, Vlun::B, 2), block(0), "{variant}");
        assert_eq!(read(&d, Vlun::A, 2), block(0), "{variant}");
        // Refused before any data is written now that the journal is known bad.
        let before = d.counters();
        assert!(
            is_journal_error(d.write(Vlun::B, 3, &block(3))),
            "{variant}"
        );
        let after = d.counters();
        assert_eq!(
            after.image_a_writes + after.image_b_writes,
            before.image_a_writes + before.image_b_writes
        );

        // An A write over B's entry needs a Remove: refused, the entry stays. The
        // unacknowledged data reached the image written first (logging: image A,
        // hidden from B by B's entry; copy-on-write: image B, hidden from A by A's
        // preserved copy), exactly as a reopen would find it.
        assert!(
            is_journal_error(d.write(Vlun::A, 1, &block(4))),
            "{variant}"
        );
        assert_eq!(d.table(), table, "{variant}");
        let (a_sees, b_sees) = match variant {
            Variant::WriteLogging => (block(4), block(1)),
            _ => (block(0), block(4)),
        };
        assert_eq!(read(&d, Vlun::A, 1), a_sees, "{variant}");
        assert_eq!(read(&d, Vlun::B, 1), b_sees, "{variant}");

        // Writes needing no table change go on.
        d.write(Vlun::B, 1, &block(5)).unwrap();
        d.write(Vlun::A, 6, &block(6)).unwrap();
        assert_eq!(read(&d, Vlun::B, 1), block(5), "{variant}");
        assert_eq!(read(&d, Vlun::B, 6), block(6), "{variant}");
        assert_eq!(read(&d, Vlun::A, 6), block(6), "{variant}");

        // Phase changes are refused too: the journal is fail-stop for every change.
        assert!(matches!(
            d.backup_a(&mut std::io::sink()),
            Err(Error::Meta(_))
        ));
        assert_eq!(d.phase(), Phase::Split);
        assert_eq!(
            *kept.lock().unwrap(),
            vec![
                MetaRecord::Phase(Phase::Split),
                MetaRecord::Insert { block: 1, slot: 0 }
            ],
            "{variant}"
        );
    }
}

/// A cancelled reservation leaves the allocator exactly as before, whether its slot
/// came from the free list or from the never-used range.
#[test]
fn cancel_restores_the_allocator() {
    let mut t = LookupTable::new(8, 4);
    t.insert(0).unwrap();
    t.insert(1).unwrap();
    t.remove(0);
    for _ in 0..2 {
        let before = t.clone();
        let r = t.reserve(5).unwrap(); // from the free list
        t.cancel(r);
        assert_eq!(t, before);
        let r1 = t.reserve(5).unwrap();
        let r2 = t.reserve(6).unwrap(); // fresh
        t.cancel(r2);
        t.cancel(r1);
        assert_eq!(t, before);
    }
}

/// The group-1 lock kind follows the stores: spinning only when no call on either
/// image can wait on I/O (memory), parking over files (a flush can hold a lock for
/// milliseconds) and over any mix of the two.
#[test]
fn group1_locks_spin_only_over_brief_stores() {
    let spinning = |d: &Device<Box<dyn BlockStore>>| {
        d.group1
            .iter()
            .all(|l| matches!(l, sync::BlockLock::Spinning(_)))
    };
    let parking = |d: &Device<Box<dyn BlockStore>>| {
        d.group1
            .iter()
            .all(|l| matches!(l, sync::BlockLock::Parking(_)))
    };
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str| -> Box<dyn BlockStore> {
        Box::new(crate::store::FileStore::create(dir.path().join(name), 512, 16).unwrap())
    };
    let mem = || -> Box<dyn BlockStore> { Box::new(MemStore::new(512, 16).unwrap()) };
    let cfg = || DeviceConfig::new(Variant::WriteMirroring);
    let d = Device::build(cfg(), mem(), mem()).unwrap();
    assert!(spinning(&d), "two memory images: spinning locks");
    let d = Device::build(cfg(), file("a"), file("b")).unwrap();
    assert!(parking(&d), "two file images: parking locks");
    let d = Device::build(cfg(), mem(), file("c")).unwrap();
    assert!(parking(&d), "one file image: parking locks");
    // And the device works under each kind.
    d.write(Vlun::A, 3, &[7u8; 512]).unwrap();
    let mut buf = [0u8; 512];
    d.read(Vlun::A, 3, &mut buf).unwrap();
    assert_eq!(buf, [7u8; 512]);
}

/// Every observable part of a device after a script of calls, stage by stage.
fn script(d: &Device<MemStore>, stage: usize, x: u8) {
    match stage {
        0 => {
            d.write(Vlun::A, 0, &block(x)).unwrap();
        }
        1 => d.split().unwrap(),
        2 => {
            d.write(Vlun::A, 1, &block(x + 1)).unwrap();
            d.write(Vlun::B, 2, &block(x + 2)).unwrap();
            d.write(Vlun::B, 0, &block(x + 3)).unwrap();
        }
        3 => {
            d.backup_a(&mut std::io::sink()).unwrap();
        }
        _ => {
            d.retire_a().unwrap();
        }
    }
}

fn observed(d: &Device<MemStore>) -> (Phase, bool, Option<LookupTable>, Vec<Vec<u8>>, u64) {
    let luns: &[Vlun] = match d.phase() {
        Phase::Single => &[Vlun::A],
        Phase::Retired => &[Vlun::B],
        _ => &[Vlun::A, Vlun::B],
    };
    let blocks = luns
        .iter()
        .flat_map(|&v| (0..4).map(move |b| (v, b)))
        .map(|(v, b)| read(d, v, b))
        .collect();
    (
        d.phase(),
        d.archive_complete(),
        d.table(),
        blocks,
        d.counters().data_area_peak,
    )
}

/// `clone_from` into a device of the same shape, whatever its own state, gives what
/// `clone` gives (phase, archive state, table, images, area peak, fresh counters, no
/// journal), and both copies then behave alike; into a device of another shape it
/// still copies.
#[test]
fn clone_from_equals_clone_at_every_stage() {
    for variant in [
        Variant::WriteMirroring,
        Variant::WriteLogging,
        Variant::CopyOnWrite,
    ] {
        let mut config = DeviceConfig::new(variant);
        config.group1_locks = 2;
        let make = || Device::in_memory_with(config.clone(), BS, 4, 4).unwrap();
        for stage in 0..5 {
            let source = make();
            for s in 0..=stage {
                script(&source, s, 10);
            }
            // A target in another state: further along or not, other contents, a journal.
            let mut target = make();
            for s in 0..(4 - stage).max(1) {
                script(&target, s, 50);
            }
            target.set_journal(Box::new(Refusing {
                budget: 100,
                kept: Arc::default(),
            }));
            target.clone_from(&source);
            let copy = source.clone();
            assert!(target == copy, "{variant:?} stage {stage}");
            assert!(!target.journaled());
            assert_eq!(target.counters(), copy.counters());
            assert_eq!(
                observed(&target),
                observed(&copy),
                "{variant:?} stage {stage}"
            );
            for s in stage + 1..5 {
                script(&target, s, 30);
                script(&copy, s, 30);
                assert_eq!(
                    observed(&target),
                    observed(&copy),
                    "{variant:?} {stage}/{s}"
                );
            }
            // Another shape: copied all the same.
            let mut other = Device::in_memory(variant, BS, 8).unwrap();
            other.clone_from(&source);
            assert!(other == source.clone());
            assert_eq!(other.volume_blocks(), 4);
        }
    }
}

/// `space_in_use` gives the snapshot's two "now" space figures at every step of a run,
/// for every variant: before the split, over writes to both VLUNs (first writes and
/// rewrites, in a scrambled order), after the backup and after VLUN A retires; and the
/// figures do move (the data area, or the mirror, holds blocks during the run).
#[test]
fn space_in_use_equals_the_snapshot_over_a_run_of_writes() {
    for variant in Variant::ALL {
        let d = Device::in_memory(variant, BS, 64).unwrap();
        let same = |d: &Device<MemStore>, at: &str| {
            let c = d.counters();
            let s = d.space_in_use();
            assert_eq!(
                (s.data_area_blocks, s.extra_space_blocks),
                (c.data_area_blocks, c.extra_space_blocks),
                "{variant} {at}"
            );
            assert_eq!(
                d.extra_space_blocks(),
                c.extra_space_blocks,
                "{variant} {at}"
            );
            s
        };
        same(&d, "new");
        d.write(Vlun::A, 3, &block(1)).unwrap();
        same(&d, "single");
        d.split().unwrap();
        let mut most = same(&d, "split");
        for i in 0..200u64 {
            let vlun = if i % 3 == 0 { Vlun::A } else { Vlun::B };
            let b = (i * 37 + i / 7) % 64;
            d.write(vlun, b, &block(i as u8)).unwrap();
            let s = same(&d, &format!("write {i}"));
            most.extra_space_blocks = most.extra_space_blocks.max(s.extra_space_blocks);
        }
        assert!(most.extra_space_blocks > 0, "{variant}");
        d.backup_a(&mut std::io::sink()).unwrap();
        same(&d, "backup");
        d.retire_a().unwrap();
        let end = same(&d, "retired");
        assert_eq!(end.extra_space_blocks, 0, "{variant}");
    }
}

/// A whole-block buffer the system refuses (here: a per-thread cap below one block)
/// fails the call with [`Error::OutOfMemory`] naming it, and leaves the device as it
/// was: the same call succeeds once memory is free.
mod out_of_memory {
    use super::*;
    use crate::block_buffer::test_limit;

    fn refused<T: std::fmt::Debug>(r: Result<T>, purpose: &str) {
        match r {
            Err(Error::OutOfMemory { purpose: p, bytes }) => {
                assert_eq!(bytes, BS);
                assert!(p.contains(purpose), "{p:?} does not name {purpose:?}");
            }
            other => panic!("expected OutOfMemory ({purpose}), got {other:?}"),
        }
    }

    /// Runs `f` with every block buffer refused on this thread, then lifts the cap.
    fn starved<T>(f: impl FnOnce() -> T) -> T {
        test_limit::cap(BS - 1);
        let r = f();
        test_limit::lift();
        r
    }

    #[test]
    fn a_refused_backup_buffer_leaves_the_split_and_the_backup_can_be_repeated() {
        for variant in Variant::ALL {
            let d = Device::in_memory(variant, BS, 4).unwrap();
            d.write(Vlun::A, 1, &block(7)).unwrap();
            d.split().unwrap();
            let mut archive = Vec::new();
            refused(starved(|| d.backup_a(&mut archive)), "back up VLUN A");
            assert!(archive.is_empty(), "{variant}");
            assert_eq!(d.phase(), Phase::Split, "{variant}");
            assert!(!d.archive_complete(), "{variant}");
            assert!(d.retire_a().is_err(), "{variant}: no archive, no retire");
            let report = d.backup_a(&mut archive).unwrap();
            assert_eq!(report.blocks, 4, "{variant}");
            assert_eq!(&archive[BS..2 * BS], &block(7)[..], "{variant}");
            assert!(d.archive_complete(), "{variant}");
        }
    }

    #[test]
    fn a_refused_merge_buffer_leaves_write_logging_backed_up_or_split() {
        let d = Device::in_memory(Variant::WriteLogging, BS, 4).unwrap();
        d.split().unwrap();
        d.write(Vlun::B, 2, &block(9)).unwrap();
        d.backup_a(&mut Vec::new()).unwrap();
        refused(starved(|| d.retire_a()), "merge");
        assert_eq!(d.phase(), Phase::BackedUp);
        refused(starved(|| d.abandon_a()), "merge");
        assert_eq!(d.phase(), Phase::BackedUp);
        d.retire_a().unwrap();
        assert_eq!(d.phase(), Phase::Retired);
        assert_eq!(read(&d, Vlun::B, 2), block(9));
    }

    #[test]
    fn a_refused_copy_buffer_leaves_b_prime_untouched_and_the_copy_can_be_repeated() {
        let d = Device::in_memory(Variant::CopyOnWrite, BS, 4).unwrap();
        d.split().unwrap();
        d.write(Vlun::B, 3, &block(5)).unwrap();
        d.backup_a(&mut Vec::new()).unwrap();
        d.retire_a().unwrap();
        let b_prime = MemStore::new(BS, 4).unwrap();
        refused(starved(|| d.copy_b_to(&b_prime)), "copy VLUN B to B'");
        let mut buf = vec![0u8; BS];
        b_prime.read_block(3, &mut buf).unwrap();
        assert_eq!(buf, vec![0u8; BS]);
        d.copy_b_to(&b_prime).unwrap();
        b_prime.read_block(3, &mut buf).unwrap();
        assert_eq!(buf, block(5));
    }

    #[test]
    fn a_refused_resync_buffer_fails_the_split_with_the_phase_and_the_stale_blocks_kept() {
        let d = Device::in_memory(Variant::WriteMirroring, BS, 4).unwrap();
        d.split().unwrap();
        d.backup_a(&mut Vec::new()).unwrap();
        d.retire_a().unwrap();
        d.write(Vlun::B, 1, &block(4)).unwrap();
        refused(starved(|| d.split()), "copy image B to image A");
        assert_eq!(d.phase(), Phase::Retired);
        d.split().unwrap();
        assert_eq!(read(&d, Vlun::A, 1), block(4));
    }

    /// A store's own buffers (a write or read of part of a block on a store that
    /// holds whole blocks) fail the device's call with the same error, nothing
    /// written.
    #[test]
    fn a_refused_store_buffer_fails_a_prefix_write_or_read_with_the_block_as_it_was() {
        let d = Device::in_memory(Variant::CopyOnWrite, BS, 4).unwrap();
        d.write(Vlun::A, 1, &block(1)).unwrap();
        refused(
            starved(|| d.write_prefix(Vlun::A, 1, &[9; 3])),
            "write a block",
        );
        assert_eq!(read(&d, Vlun::A, 1), block(1));
        let mut out = Vec::new();
        refused(
            starved(|| d.read_prefix(Vlun::A, 1, &mut out)),
            "read a block",
        );
        d.write_prefix(Vlun::A, 1, &[9; 3]).unwrap();
        d.read_prefix(Vlun::A, 1, &mut out).unwrap();
        assert_eq!(&out[..4], &[9, 9, 9, 0]);
    }

    /// Copy-on-write: VLUN B's first write preserves image B's block into a new slot
    /// of the data area; a store refusing the copy's buffer fails the write with the
    /// entry abandoned (no extra space taken, VLUN A and B as they were).
    #[test]
    fn a_refused_preserve_buffer_fails_b_s_first_write_with_no_entry_made() {
        use crate::store::SparseStore;
        let config = DeviceConfig::new(Variant::CopyOnWrite);
        let (a, b) = config.image_blocks(BS, 4, 4);
        let (a, b) = (
            SparseStore::new(BS, a).unwrap(),
            SparseStore::new(BS, b).unwrap(),
        );
        let d = Device::new(config, a, b).unwrap();
        let rd = |v: Vlun| {
            let mut buf = vec![0u8; BS];
            d.read(v, 1, &mut buf).unwrap();
            buf
        };
        d.write(Vlun::A, 1, &block(1)).unwrap();
        d.split().unwrap();
        let extra = d.extra_space_blocks();
        // The preserve reads image B's held block into a fresh buffer.
        refused(starved(|| d.write(Vlun::B, 1, &block(2))), "read a block");
        assert_eq!(d.extra_space_blocks(), extra);
        assert_eq!((rd(Vlun::A), rd(Vlun::B)), (block(1), block(1)));
        d.write(Vlun::B, 1, &block(2)).unwrap();
        assert_eq!((rd(Vlun::A), rd(Vlun::B)), (block(1), block(2)));
    }

    /// A sparse image's table refused the growth that would hold a new block fails
    /// the write with the same error, nothing held: the block reads as it was, the
    /// extra space as it was, and the same write succeeds once memory is free.
    #[test]
    fn a_refused_table_growth_fails_the_write_with_nothing_held() {
        use crate::store::SparseStore;
        let config = DeviceConfig::new(Variant::CopyOnWrite);
        // More blocks than a table holds one slot each for: parts that grow.
        let (a, b) = config.image_blocks(BS, 1 << 20, 4);
        let d = Device::new(
            config,
            SparseStore::new(BS, a).unwrap(),
            SparseStore::new(BS, b).unwrap(),
        )
        .unwrap();
        let mut short = vec![0u8; BS];
        short[..3].fill(9);
        let rd = || {
            let mut buf = vec![0u8; BS];
            d.read(Vlun::A, 5, &mut buf).unwrap();
            buf
        };
        let extra = d.extra_space_blocks();
        // The block's part has no bucket yet: its first, 64 bytes, refused.
        test_limit::cap(63);
        let r = d.write(Vlun::A, 5, &short);
        test_limit::lift();
        match r {
            Err(Error::OutOfMemory { purpose, bytes }) => {
                assert_eq!(bytes, 64);
                assert!(purpose.contains("hold a written block"), "{purpose:?}");
            }
            other => panic!("expected OutOfMemory, got {other:?}"),
        }
        assert_eq!((rd(), d.extra_space_blocks()), (vec![0; BS], extra));
        d.write(Vlun::A, 5, &short).unwrap();
        assert_eq!(rd(), short);
    }

    #[test]
    fn a_refused_checksum_buffer_fails_the_write_before_the_block_changes() {
        let mut config = DeviceConfig::new(Variant::CopyOnWrite);
        config.integrity = true;
        let d = Device::in_memory_with(config, BS, 4, 4).unwrap();
        d.write(Vlun::A, 1, &block(1)).unwrap();
        refused(starved(|| d.write(Vlun::A, 1, &block(2))), "checksum");
        // The block and its checksum still agree: it reads back as it was.
        assert_eq!(read(&d, Vlun::A, 1), block(1));
        d.write(Vlun::A, 1, &block(2)).unwrap();
        assert_eq!(read(&d, Vlun::A, 1), block(2));
    }
}
