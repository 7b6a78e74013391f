//! The life cycle Single → split → Split → backup_a → BackedUp → retire_a → Retired →
//! detach_b: every call out of its phase is `Error::IllegalState` naming the call and
//! the phase, for every variant, and changes nothing — no I/O, no table change, no
//! journal record.

use engine::file;
use engine::{BlockStore, Device, DeviceConfig, Error, MemStore, Phase, Variant, Vlun};

use crate::common::pattern;

const BS: usize = 64;
const N: u64 = 8;

/// Asserts that `call` is refused as illegal in `phase` and leaves the device as it was.
fn refused<S: BlockStore, T: std::fmt::Debug>(
    d: &Device<S>,
    journal: Option<&std::path::Path>,
    what: &str,
    call: impl FnOnce(&Device<S>) -> engine::Result<T>,
) {
    let phase = d.phase();
    let counters = d.counters();
    let table = d.table();
    let journal_len = journal.map(|p| std::fs::metadata(p).unwrap().len());
    match call(d) {
        Err(e @ Error::IllegalState { .. }) => {
            let Error::IllegalState { phase: p, op } = &e else {
                unreachable!()
            };
            assert_eq!(*p, phase, "{what}: wrong phase in {e}");
            assert!(e.to_string().contains(op), "{e}");
            assert!(e.to_string().contains(&phase.to_string()), "{e}");
        }
        other => panic!(
            "{}: {what} in phase {phase}: expected IllegalState, got {other:?}",
            d.variant()
        ),
    }
    assert_eq!(d.phase(), phase, "{what}");
    assert_eq!(d.counters(), counters, "{what}: an illegal call did I/O");
    assert_eq!(d.table(), table, "{what}");
    let after = journal.map(|p| std::fs::metadata(p).unwrap().len());
    assert_eq!(after, journal_len, "{what}: an illegal call was journaled");
}

fn walk<S: BlockStore>(d: &Device<S>, journal: Option<&std::path::Path>) {
    let data = pattern(BS, 1, 1);
    let mut buf = vec![0u8; BS];
    let sink = |d: &Device<S>| d.backup_a(&mut std::io::sink());

    assert_eq!(d.phase(), Phase::Single);
    refused(d, journal, "write B before split", |d| {
        d.write(Vlun::B, 1, &data)
    });
    refused(d, journal, "read B before split", |d| {
        d.read(Vlun::B, 1, &mut [0; BS])
    });
    refused(d, journal, "backup before split", sink);
    refused(d, journal, "retire before split", |d| d.retire_a());
    d.write(Vlun::A, 1, &data).unwrap();

    d.split().unwrap();
    refused(d, journal, "split twice", |d| d.split());
    refused(d, journal, "retire before backup", |d| d.retire_a());
    d.write(Vlun::B, 2, &data).unwrap();
    d.write(Vlun::A, 3, &data).unwrap();

    sink(d).unwrap();
    assert_eq!(d.phase(), Phase::BackedUp);
    refused(d, journal, "write A after backup", |d| {
        d.write(Vlun::A, 1, &data)
    });
    refused(d, journal, "split after backup", |d| d.split());
    d.read(Vlun::A, 1, &mut buf).unwrap();
    d.write(Vlun::B, 4, &data).unwrap();

    d.retire_a().unwrap();
    assert_eq!(d.phase(), Phase::Retired);
    refused(d, journal, "read A after retire", |d| {
        d.read(Vlun::A, 1, &mut [0; BS])
    });
    refused(d, journal, "write A after retire", |d| {
        d.write(Vlun::A, 1, &data)
    });
    refused(d, journal, "retire twice", |d| d.retire_a());
    refused(d, journal, "backup after retire", sink);
    d.write(Vlun::B, 5, &data).unwrap();
    d.read(Vlun::B, 5, &mut buf).unwrap();
}

#[test]
fn illegal_calls_are_typed_and_change_nothing_in_memory() {
    for variant in Variant::ALL {
        let d = Device::in_memory(variant, BS, N).unwrap();
        walk(&d, None);
        d.detach_b_to(MemStore::new(BS, N).unwrap()).unwrap();
    }
}

#[test]
fn illegal_calls_are_typed_and_journal_nothing_on_file() {
    for variant in Variant::ALL {
        let (_dir, paths, g) = crate::common::file_device_parts(BS, N);
        let d = file::create(&paths, DeviceConfig::new(variant), g).unwrap();
        walk(&d, Some(&paths.meta));
    }
}

/// B → B' is only for a retired device; before that the call is refused (the device
/// is consumed either way: `detach_b` ends it).
#[test]
fn detach_before_retire_is_illegal() {
    for variant in Variant::ALL {
        for steps in 0..3 {
            let d = Device::in_memory(variant, BS, N).unwrap();
            if steps >= 1 {
                d.split().unwrap();
            }
            if steps >= 2 {
                d.backup_a(&mut std::io::sink()).unwrap();
            }
            let phase = d.phase();
            match d.detach_b(MemStore::new(BS, N).unwrap()) {
                Err(Error::IllegalState { phase: p, .. }) => assert_eq!(p, phase),
                other => panic!("{variant}: detach in {phase}: {:?}", other.map(|_| ())),
            }
        }
    }
}

/// A backup abandoned when the data area is full (`abandon_a`, QEMU's
/// `break-snapshot`): from the split, with no archive, VLUN A is dropped, the extra
/// space freed, VLUN B keeps every write (its own and the ones made through A), the
/// refused write goes through afterwards; a reopen finds the device retired with the
/// same VLUN B. Out of the split and backed-up phases the call is refused.
#[test]
fn abandoning_a_full_data_area_keeps_vlun_b_and_frees_the_space() {
    for variant in Variant::ALL {
        let (_dir, paths, mut g) = crate::common::file_device_parts(BS, N);
        g.area_slots = 2;
        let d = file::create(&paths, DeviceConfig::new(variant), g).unwrap();
        refused(&d, Some(&paths.meta), "abandon before split", |d| {
            d.abandon_a()
        });
        let data = |k: u64| pattern(BS, k, 7);
        d.write(Vlun::A, 0, &data(1)).unwrap();
        d.split().unwrap();
        d.write(Vlun::B, 1, &data(2)).unwrap();
        d.write(Vlun::B, 2, &data(3)).unwrap();
        d.write(Vlun::A, 5, &data(4)).unwrap();
        let third = d.write(Vlun::B, 3, &data(5));
        match variant {
            Variant::WriteMirroring => assert!(third.is_ok(), "{third:?}"),
            _ => assert!(
                matches!(
                    third,
                    Err(Error::DataAreaFull {
                        slots: 2,
                        block: 3,
                        ..
                    })
                ),
                "{variant}: {third:?}"
            ),
        }
        assert!(d.extra_space_blocks() > 0, "{variant}");
        d.abandon_a().unwrap();
        assert_eq!(d.phase(), Phase::Retired, "{variant}");
        assert_eq!(d.extra_space_blocks(), 0, "{variant}");
        assert!(!d.archive_complete(), "{variant}");
        refused(&d, Some(&paths.meta), "abandon twice", |d| d.abandon_a());
        refused(&d, Some(&paths.meta), "read A after abandon", |d| {
            d.read(Vlun::A, 0, &mut [0; BS])
        });
        d.write(Vlun::B, 3, &data(5)).unwrap();
        let expect = |b: u64| match b {
            0 => data(1),
            1 => data(2),
            2 => data(3),
            3 => data(5),
            5 => data(4),
            _ => vec![0u8; BS],
        };
        let mut buf = vec![0u8; BS];
        for b in 0..N {
            d.read(Vlun::B, b, &mut buf).unwrap();
            assert_eq!(buf, expect(b), "{variant}: block {b}");
        }
        d.flush().unwrap();
        drop(d);
        let d = file::open(&paths, DeviceConfig::new(variant)).unwrap();
        assert_eq!(d.phase(), Phase::Retired, "{variant} after reopen");
        for b in 0..N {
            d.read(Vlun::B, b, &mut buf).unwrap();
            assert_eq!(buf, expect(b), "{variant}: block {b} after reopen");
        }
    }
}

/// An archive the caller copied itself (`backup_a_copied`: a simulated copy that read
/// VLUN A extent by extent): recorded as complete with no block read or written, VLUN A
/// read-only from then, retire allowed; refused before the split and after the
/// retire, as `backup_a` is.
#[test]
fn an_archive_the_caller_copied_is_recorded_without_reading_a_again() {
    for variant in Variant::ALL {
        let (_dir, paths, g) = crate::common::file_device_parts(BS, N);
        let d = file::create(&paths, DeviceConfig::new(variant), g).unwrap();
        let data = pattern(BS, 3, 9);
        refused(&d, Some(&paths.meta), "copied before split", |d| {
            d.backup_a_copied()
        });
        d.write(Vlun::A, 1, &data).unwrap();
        d.split().unwrap();
        d.write(Vlun::B, 1, &pattern(BS, 4, 9)).unwrap();
        // The caller's copy: every block of VLUN A read once.
        let mut buf = Vec::new();
        for b in 0..N {
            d.read_prefix(Vlun::A, b, &mut buf).unwrap();
        }
        assert!(!d.archive_complete(), "{variant}");
        let counters = d.counters();
        d.backup_a_copied().unwrap();
        // The journal's record is synced (flushes); no block is read or written.
        let io = |c: engine::Counters| {
            (
                [c.image_a_reads, c.image_b_reads, c.vlun_a_reads],
                [c.image_a_writes, c.image_b_writes],
            )
        };
        assert_eq!(
            io(d.counters()),
            io(counters),
            "{variant}: the record read or wrote a block"
        );
        assert_eq!(counters.vlun_a_reads, N, "{variant}: the copy's reads");
        assert_eq!(d.phase(), Phase::BackedUp, "{variant}");
        assert!(d.archive_complete(), "{variant}");
        refused(&d, Some(&paths.meta), "write A after the copy", |d| {
            d.write(Vlun::A, 1, &data)
        });
        d.retire_a().unwrap();
        assert_eq!(d.phase(), Phase::Retired, "{variant}");
        refused(&d, Some(&paths.meta), "copied after retire", |d| {
            d.backup_a_copied()
        });
    }
}

/// A writer whose last flush fails (a full file system at the final write-back).
struct FlushFails(Vec<u8>);

impl std::io::Write for FlushFails {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Err(std::io::Error::from_raw_os_error(28))
    }
}

/// `copy_a` writes VLUN A whole and records nothing: the journal records no archive
/// (also after a reopen, as after a crash before the caller put the archive in place)
/// and the retire is refused until `backup_a_copied` records it. A writer whose final
/// flush fails records nothing under `copy_a` and `backup_a` alike.
#[test]
fn a_copy_of_a_is_recorded_only_when_the_caller_says_it_is_in_place() {
    for variant in Variant::ALL {
        let (_dir, paths, g) = crate::common::file_device_parts(BS, N);
        let d = file::create(&paths, DeviceConfig::new(variant), g).unwrap();
        let data = pattern(BS, 5, 9);
        d.write(Vlun::A, 3, &data).unwrap();
        d.split().unwrap();
        for failing in [
            d.copy_a(&mut FlushFails(Vec::new())).unwrap_err(),
            d.backup_a(&mut FlushFails(Vec::new())).unwrap_err(),
        ] {
            assert!(
                matches!(failing, Error::Archive { blocks_done: N, .. }),
                "{variant}: {failing:?}"
            );
            assert!(!d.archive_complete(), "{variant}: a failed flush recorded");
        }
        let mut archive = Vec::new();
        let report = d.copy_a(&mut archive).unwrap();
        assert_eq!(report.bytes, N * BS as u64, "{variant}");
        assert_eq!(&archive[3 * BS..4 * BS], &data[..], "{variant}");
        assert_eq!(d.phase(), Phase::BackedUp, "{variant}");
        assert!(!d.archive_complete(), "{variant}: the copy recorded itself");
        assert!(
            matches!(d.retire_a(), Err(Error::NoArchive)),
            "{variant}: retired on an archive not in place"
        );
        drop(d);
        let d = file::open(&paths, DeviceConfig::new(variant)).unwrap();
        assert_eq!(d.phase(), Phase::BackedUp, "{variant}: reopened");
        assert!(!d.archive_complete(), "{variant}: reopened");
        d.copy_a(&mut Vec::new()).unwrap();
        d.backup_a_copied().unwrap();
        assert!(d.archive_complete(), "{variant}");
        d.retire_a().unwrap();
    }
}
