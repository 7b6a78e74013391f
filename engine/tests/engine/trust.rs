//! Issue 13's cases against the public API: a backup that did not complete cannot be
//! retired (case 1), one device per set of files (case 5), one block-size rule for
//! every constructor (case 8), a new backup cycle after a retire (case 7).
//!
//! The device of the cases: file-backed, 512-byte blocks, 16 blocks, a data area of 8
//! slots; 1 written everywhere through A, flush, split, A0 = 2, B1 = 3, B0 = 4, flush.
//! VLUN A then reads [2,1,1,…], VLUN B [4,3,1,…].

use std::io::Write;

use engine::file::{self, DevicePaths, Geometry};
use engine::{
    Device, DeviceConfig, Error, FaultKind, FaultyStore, FileStore, MemStore, Phase, StoreError,
    Variant, Vlun,
};

use crate::common::{read, scratch_dir};

const BS: usize = 512;
const N: u64 = 16;
const AREA: u64 = 8;

fn geometry() -> Geometry {
    Geometry {
        block_size: BS,
        volume_blocks: N,
        area_slots: AREA,
    }
}

/// A file device of `variant` in a scratch directory, after the cases' history; keep
/// the directory alive as long as the device.
fn device_after_history(
    variant: Variant,
) -> (
    tempfile::TempDir,
    DevicePaths,
    DeviceConfig,
    Device<engine::FileStore>,
) {
    let dir = scratch_dir();
    let paths = DevicePaths::in_dir(dir.path());
    let config = DeviceConfig::new(variant);
    let d = file::create(&paths, config.clone(), geometry()).unwrap();
    history(&d);
    (dir, paths, config, d)
}

/// Writes the cases' history on `d`.
fn history<S: engine::BlockStore>(d: &Device<S>) {
    for b in 0..N {
        d.write(Vlun::A, b, &[1; BS]).unwrap();
    }
    d.flush().unwrap();
    d.split().unwrap();
    d.write(Vlun::A, 0, &[2; BS]).unwrap();
    d.write(Vlun::B, 1, &[3; BS]).unwrap();
    d.write(Vlun::B, 0, &[4; BS]).unwrap();
    d.flush().unwrap();
}

fn vlun_a_expected(b: u64) -> Vec<u8> {
    vec![if b == 0 { 2 } else { 1 }; BS]
}

/// Accepts `blocks_ok` blocks, then refuses with `StorageFull`.
struct FailingWriter {
    bytes: Vec<u8>,
    bytes_max: usize,
}

impl Write for FailingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > self.bytes_max {
            return Err(std::io::ErrorKind::StorageFull.into());
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Case 1: an archive that failed after 3 blocks is not a backup: `retire_a` refuses
/// (before and after a reopen), VLUN A stays whole; a completed retry allows it.
#[test]
fn retire_refuses_without_a_completed_archive() {
    for variant in Variant::ALL {
        let (_dir, paths, config, d) = device_after_history(variant);
        let mut partial = FailingWriter {
            bytes: Vec::new(),
            bytes_max: 3 * BS,
        };
        let e = d.backup_a(&mut partial).unwrap_err();
        assert!(
            matches!(e, Error::Archive { blocks_done: 3, .. }),
            "{variant}: {e}"
        );
        assert_eq!(d.phase(), Phase::BackedUp, "{variant}: VLUN A is frozen");
        assert!(!d.archive_complete(), "{variant}");
        assert!(matches!(d.retire_a(), Err(Error::NoArchive)), "{variant}");
        for b in 0..N {
            assert_eq!(read(&d, Vlun::A, b), vlun_a_expected(b), "{variant}");
        }
        drop(d);

        // The refusal survives a reopen; the retried archive is faithful and allows it.
        let d = file::open(&paths, config.clone()).unwrap();
        assert!(matches!(d.retire_a(), Err(Error::NoArchive)), "{variant}");
        let mut archive = Vec::new();
        d.backup_a(&mut archive).unwrap();
        assert!(d.archive_complete(), "{variant}");
        for b in 0..N {
            let at = b as usize * BS;
            assert_eq!(&archive[at..at + BS], &vlun_a_expected(b)[..], "{variant}");
        }
        drop(d);
        let d = file::open(&paths, config).unwrap();
        assert!(d.archive_complete(), "{variant}: journaled");
        d.retire_a().unwrap();
        assert_eq!(read(&d, Vlun::B, 0), vec![4; BS], "{variant}");
        assert_eq!(read(&d, Vlun::B, 1), vec![3; BS], "{variant}");
    }
}

/// Case 1, source side: a read error of VLUN A during `backup_a` says it is the
/// backup's, how many blocks were done, which block and which image file.
#[test]
fn backup_read_error_carries_the_backup_context() {
    for variant in Variant::ALL {
        let dir = scratch_dir();
        let paths = DevicePaths::in_dir(dir.path());
        let d = file::create_with(
            &paths,
            DeviceConfig::new(variant),
            geometry(),
            FaultyStore::new,
        )
        .unwrap();
        history(&d);
        // Every VLUN A block not preserved by copy-on-write reads from the volume's image.
        let (volume_image, path) = match variant {
            Variant::CopyOnWrite => (d.images().1, &paths.image_b),
            _ => (d.images().0, &paths.image_a),
        };
        volume_image.fail_after(FaultKind::Read, 5);
        let e = d.backup_a(&mut Vec::new()).unwrap_err();
        let Error::BackupRead {
            blocks_done, block, ..
        } = &e
        else {
            panic!("{variant}: {e}");
        };
        assert_eq!(blocks_done, block, "{variant}");
        assert!(*block >= 5, "{variant}: {e}");
        let text = e.to_string();
        assert!(text.contains("backup of VLUN A"), "{text}");
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(!d.archive_complete());
        assert!(matches!(d.retire_a(), Err(Error::NoArchive)));
    }
}

/// Case 5: a second open of an open device is a typed error naming the held file; the
/// first handle is unharmed, and once it closes the files open again.
#[test]
fn second_open_is_refused_while_the_first_is_open() {
    for variant in Variant::ALL {
        let (_dir, paths, config, d) = device_after_history(variant);
        let e = file::open(&paths, config.clone()).unwrap_err();
        match &e {
            Error::Store(StoreError::Locked { store }) => {
                assert_eq!(store, &paths.image_a.display().to_string(), "{variant}")
            }
            other => panic!("{variant}: {other}"),
        }
        // Creating over it is refused too, before anything is cut.
        assert!(matches!(
            file::create(&paths, config.clone(), geometry()),
            Err(Error::Store(StoreError::Locked { .. }))
        ));
        d.write(Vlun::B, 3, &[7; BS]).unwrap();
        d.flush().unwrap();
        drop(d);
        let d = file::open(&paths, config).unwrap();
        assert_eq!(read(&d, Vlun::B, 3), vec![7; BS], "{variant}");
        assert_eq!(read(&d, Vlun::A, 3), vec![1; BS], "{variant}");
        assert_eq!(read(&d, Vlun::A, 0), vec![2; BS], "{variant}");
    }
}

/// Case 8: one block-size rule (a positive multiple of 8 bytes) in every constructor.
#[test]
fn block_size_is_validated_the_same_everywhere() {
    let dir = scratch_dir();
    for bad in [0usize, 7, 12, 513] {
        let paths = DevicePaths::in_dir(dir.path());
        let g = Geometry {
            block_size: bad,
            ..geometry()
        };
        for variant in Variant::ALL {
            let file_err = file::create(&paths, DeviceConfig::new(variant), g).unwrap_err();
            let mem_err = Device::in_memory(variant, bad, N).unwrap_err();
            for e in [&file_err, &mem_err] {
                assert!(
                    matches!(e, Error::Store(StoreError::Geometry { reason, .. })
                        if reason.contains(&format!("block size {bad} "))),
                    "{variant}, {bad}: {e}"
                );
            }
        }
        assert!(matches!(
            MemStore::new(bad, 4),
            Err(StoreError::Geometry { .. })
        ));
        assert!(matches!(
            FileStore::create(dir.path().join("x.img"), bad, 4),
            Err(StoreError::Geometry { .. })
        ));
    }
    // The rule's edge: 8 bytes is a valid block everywhere.
    let paths = DevicePaths::in_dir(dir.path());
    let g = Geometry {
        block_size: 8,
        ..geometry()
    };
    file::create(&paths, DeviceConfig::new(Variant::CopyOnWrite), g).unwrap();
    Device::in_memory(Variant::CopyOnWrite, 8, N).unwrap();
}

/// Case 7: after `retire_a` the device splits again, a new cycle over the live volume
/// (VLUN A then shows what VLUN B showed), through a reopen, on every variant.
#[test]
fn a_retired_device_splits_again_for_the_next_backup() {
    for variant in Variant::ALL {
        let (_dir, paths, config, d) = device_after_history(variant);
        d.backup_a(&mut std::io::sink()).unwrap();
        d.retire_a().unwrap();
        d.write(Vlun::B, 2, &[5; BS]).unwrap();
        d.split().unwrap();
        assert!(
            !d.archive_complete(),
            "{variant}: a new cycle has no archive yet"
        );
        d.write(Vlun::B, 0, &[6; BS]).unwrap();
        drop(d);
        let d = file::open(&paths, config).unwrap();
        assert_eq!(d.phase(), Phase::Split, "{variant}");
        // The live volume at the second split: B0 = 4, B1 = 3, B2 = 5, 1 elsewhere.
        let live = |b: u64| vec![[4u8, 3, 5].get(b as usize).copied().unwrap_or(1); BS];
        let mut archive = Vec::new();
        d.backup_a(&mut archive).unwrap();
        for b in 0..N {
            assert_eq!(read(&d, Vlun::A, b), live(b), "{variant}: VLUN A block {b}");
            let at = b as usize * BS;
            assert_eq!(
                &archive[at..at + BS],
                &live(b)[..],
                "{variant}: archive block {b}"
            );
        }
        assert_eq!(read(&d, Vlun::B, 0), vec![6; BS], "{variant}");
        d.retire_a().unwrap();
        assert_eq!(d.extra_space_blocks(), 0, "{variant}");
    }
}

/// Case 4 and the superblock: the metadata file cut at every byte position after a
/// completed flush (with unflushed records appended since). Cut before the flush's
/// end: a typed error naming the file; at or after it: the torn tail is dropped and
/// every flushed write is there.
#[test]
fn metadata_cut_at_every_byte_refuses_before_the_flush_end_and_keeps_flushed_writes() {
    for variant in Variant::ALL {
        let (_dir, paths, config, d) = device_after_history(variant);
        assert!(std::fs::metadata(&paths.meta).unwrap().len() > 0);
        // Not flushed since: new entries appended (synced by copy-on-write's barrier).
        d.write(Vlun::B, 5, &[9; BS]).unwrap();
        d.write(Vlun::B, 6, &[9; BS]).unwrap();
        drop(d);
        // The length the last sync (the flush, or a later barrier) made durable.
        let (_, flushed_len) = engine::superblock::read_durable_len(&paths.meta).unwrap();
        let full = std::fs::read(&paths.meta).unwrap();
        assert!(
            full.len() as u64 >= flushed_len && flushed_len > 0,
            "{variant}"
        );
        let (mut refused, mut opened) = (0, 0);
        for cut in 0..=full.len() {
            let copy = scratch_dir();
            let cp = DevicePaths::in_dir(copy.path());
            std::fs::copy(&paths.image_a, &cp.image_a).unwrap();
            std::fs::copy(&paths.image_b, &cp.image_b).unwrap();
            let sb = engine::superblock::path_of(&paths.meta);
            std::fs::copy(&sb, engine::superblock::path_of(&cp.meta)).unwrap();
            std::fs::write(&cp.meta, &full[..cut]).unwrap();
            match file::open(&cp, config.clone()) {
                Err(Error::Meta(e)) => {
                    assert!((cut as u64) < flushed_len, "{variant}, cut {cut}: {e}");
                    assert_eq!(e.path, cp.meta.display().to_string());
                    refused += 1;
                }
                Err(e) => panic!("{variant}, cut {cut}: {e}"),
                Ok(d) => {
                    assert!(cut as u64 >= flushed_len, "{variant}: cut {cut} opened");
                    opened += 1;
                    assert_eq!(d.phase(), Phase::Split, "{variant}, cut {cut}");
                    for b in 0..N {
                        assert_eq!(read(&d, Vlun::A, b), vlun_a_expected(b), "{variant}");
                        let got = read(&d, Vlun::B, b);
                        let want = match b {
                            0 => vec![4; BS],
                            1 => vec![3; BS],
                            _ => vec![1; BS],
                        };
                        let unflushed = (b == 5 || b == 6) && got == vec![9; BS];
                        assert!(got == want || unflushed, "{variant}, cut {cut}: B{b}");
                    }
                }
            }
        }
        // Both outcomes happen: the check is not vacuous.
        assert!(
            refused > 0 && opened > 0,
            "{variant}: {refused} refused, {opened} opened"
        );
    }
}

/// The bytes of a torn tail of `len` bytes of kind `kind`: zeros (a file extended by
/// an append whose data never reached the disk), garbage, a record cut short, or a
/// record cut short followed by zeros.
fn torn_tail(kind: u8, len: usize, seed: u64) -> Vec<u8> {
    // Its last byte is not 0: no cut of it padded with zeros is the whole record.
    let frame = engine::meta::MetaRecord::Insert {
        block: 7,
        slot: 0x0101_0101,
    }
    .encode();
    let cut = |n: usize| frame[..n.clamp(1, frame.len() - 1)].to_vec();
    match kind {
        0 => vec![0; len],
        1 => {
            let mut x = seed | 1;
            (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect()
        }
        2 => cut(len),
        _ => {
            let mut t = cut(len / 2);
            t.resize(len.max(t.len() + 1), 0);
            t
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 48, ..Default::default() })]

    /// Whatever lies past the length the last flush made durable (zeros, garbage, a
    /// record cut short, of any length) is a torn tail: the device opens with every
    /// flushed write, and opens again after that.
    #[test]
    fn any_tail_past_the_durable_length_is_dropped(
        v in 0..3usize,
        kind in 0..4u8,
        len in 1..300usize,
        seed in proptest::prelude::any::<u64>(),
    ) {
        let variant = Variant::ALL[v];
        let (_dir, paths, config, d) = device_after_history(variant);
        drop(d);
        let (_, durable_len) = engine::superblock::read_durable_len(&paths.meta).unwrap();
        let mut bytes = std::fs::read(&paths.meta).unwrap();
        bytes.truncate(durable_len as usize);
        let tail = torn_tail(kind, len, seed);
        bytes.extend_from_slice(&tail);
        std::fs::write(&paths.meta, &bytes).unwrap();
        let ctx = format!("{variant}, tail {tail:?}");
        for _ in 0..2 {
            let d = file::open(&paths, config.clone()).unwrap_or_else(|e| panic!("{ctx}: {e}"));
            proptest::prop_assert_eq!(d.phase(), Phase::Split, "{}", ctx);
            for b in 0..N {
                proptest::prop_assert_eq!(read(&d, Vlun::A, b), vlun_a_expected(b), "{}: A{}", ctx, b);
                let want = match b {
                    0 => vec![4; BS],
                    1 => vec![3; BS],
                    _ => vec![1; BS],
                };
                proptest::prop_assert_eq!(read(&d, Vlun::B, b), want, "{}: B{}", ctx, b);
            }
        }
    }
}

/// Zeros over the last frame the flush made durable (damage before the durable
/// length) are refused, naming the metadata file and the frame's byte; the same zeros
/// past it are dropped.
#[test]
fn zeros_before_the_durable_length_are_refused_and_past_it_dropped() {
    for variant in Variant::ALL {
        let (_dir, paths, config, d) = device_after_history(variant);
        drop(d);
        let (_, durable_len) = engine::superblock::read_durable_len(&paths.meta).unwrap();
        let full = std::fs::read(&paths.meta).unwrap();
        let decoded = engine::meta::decode("device.owm", &full).unwrap();
        let last = decoded.records.last().unwrap().0 as usize;
        assert!((last as u64) < durable_len, "{variant}");
        let mut bad = full[..durable_len as usize].to_vec();
        bad[last..].fill(0);
        let copy = scratch_dir();
        let cp = DevicePaths::in_dir(copy.path());
        std::fs::copy(&paths.image_a, &cp.image_a).unwrap();
        std::fs::copy(&paths.image_b, &cp.image_b).unwrap();
        let sb = engine::superblock::path_of(&paths.meta);
        std::fs::copy(&sb, engine::superblock::path_of(&cp.meta)).unwrap();
        std::fs::write(&cp.meta, &bad).unwrap();
        match file::open(&cp, config.clone()) {
            Err(Error::Meta(e)) => {
                assert_eq!(e.path, cp.meta.display().to_string(), "{variant}: {e}");
                assert_eq!(e.offset, Some(last as u64), "{variant}: {e}");
            }
            Err(e) => panic!("{variant}: {e}"),
            Ok(_) => panic!("{variant}: zeros before the durable length opened"),
        }
        let mut torn = full[..durable_len as usize].to_vec();
        torn.resize(durable_len as usize + (durable_len as usize - last), 0);
        std::fs::write(&cp.meta, &torn).unwrap();
        let d = file::open(&cp, config.clone()).unwrap_or_else(|e| panic!("{variant}: {e}"));
        assert_eq!(read(&d, Vlun::B, 0), vec![4; BS], "{variant}");
    }
}

/// The superblock missing, empty, or garbage beside a device whose journal holds
/// flushed records: every cut of the metadata file (and the whole file) is refused
/// with a typed error naming `device.owm.super`, never opened with a flushed write
/// dropped; the superblock put back, the whole file opens.
/// A superblock kept from before a later open (an older `device.owm.super` put
/// back) is refused as stale, naming it, whatever happened to the journal since: its
/// shorter length would otherwise let the last record of a journal cut or damaged
/// after a later flush be dropped as a torn tail, losing a flushed write.
#[test]
fn a_superblock_from_before_a_later_open_is_refused_as_stale() {
    for variant in Variant::ALL {
        let (_dir, paths, config, d) = device_after_history(variant);
        drop(d);
        let sb = engine::superblock::path_of(&paths.meta);
        let old_sb = std::fs::read(&sb).unwrap();
        let d = file::open(&paths, config.clone()).unwrap();
        let generation = d.identity().generation;
        d.write(Vlun::B, 7, &[8; BS]).unwrap();
        d.flush().unwrap();
        drop(d);
        let full = std::fs::read(&paths.meta).unwrap();
        let last = full.len() - 10;
        let mut flipped = full.clone();
        flipped[last] ^= 1;
        for (what, meta) in [
            ("whole", full.clone()),
            ("a bit flipped", flipped),
            ("cut", full[..full.len() - 18].to_vec()),
        ] {
            let copy = scratch_dir();
            let cp = DevicePaths::in_dir(copy.path());
            std::fs::copy(&paths.image_a, &cp.image_a).unwrap();
            std::fs::copy(&paths.image_b, &cp.image_b).unwrap();
            std::fs::write(engine::superblock::path_of(&cp.meta), &old_sb).unwrap();
            std::fs::write(&cp.meta, &meta).unwrap();
            match file::open(&cp, config.clone()) {
                Err(Error::Identity { file, mismatch }) => {
                    assert_eq!(
                        file,
                        engine::superblock::path_of(&cp.meta).display().to_string(),
                        "{variant}, {what}"
                    );
                    assert_eq!(
                        mismatch,
                        engine::identity::Mismatch::Stale {
                            expected_generation: generation,
                            found_generation: generation - 1,
                        },
                        "{variant}, {what}"
                    );
                }
                Err(e) => panic!("{variant}, {what}: {e}"),
                Ok(_) => panic!("{variant}, {what}: opened with a stale superblock"),
            }
        }
        // A torn tail past the stale length (zeros, garbage): still the superblock is
        // named, as stale, never the metadata file's bytes that only its own
        // superblock could call a torn tail.
        for (what, tail) in [("zeros", vec![0u8; 300]), ("garbage", vec![0x5a_u8; 300])] {
            let copy = scratch_dir();
            let cp = DevicePaths::in_dir(copy.path());
            std::fs::copy(&paths.image_a, &cp.image_a).unwrap();
            std::fs::copy(&paths.image_b, &cp.image_b).unwrap();
            let sb_path = engine::superblock::path_of(&cp.meta);
            std::fs::write(&sb_path, &old_sb).unwrap();
            let mut meta = full.clone();
            meta.extend_from_slice(&tail);
            std::fs::write(&cp.meta, &meta).unwrap();
            let named = match file::open(&cp, config.clone()) {
                Err(Error::Identity { file, .. }) => file,
                Err(Error::Meta(e)) if e.reason.starts_with("stale: ") => e.path,
                Err(e) => panic!("{variant}, {what} tail: {e}"),
                Ok(_) => panic!("{variant}, {what} tail: opened with a stale superblock"),
            };
            assert_eq!(
                named,
                sb_path.display().to_string(),
                "{variant}, {what} tail"
            );
            assert_eq!(std::fs::read(&cp.meta).unwrap(), meta, "{variant}: changed");
        }
        // With its own superblock, the device opens and B7 reads the flushed write.
        let d = file::open(&paths, config.clone()).unwrap();
        assert_eq!(read(&d, Vlun::B, 7), vec![8; BS], "{variant}");
    }
}

#[test]
fn metadata_without_a_valid_superblock_is_refused_naming_it() {
    for variant in Variant::ALL {
        let (_dir, paths, config, d) = device_after_history(variant);
        d.write(Vlun::B, 5, &[9; BS]).unwrap();
        drop(d);
        let full = std::fs::read(&paths.meta).unwrap();
        let garbage: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(37) ^ 0x5a).collect();
        let mut decoded = 0;
        for superblock in [None, Some(Vec::new()), Some(garbage)] {
            for cut in 0..=full.len() {
                let copy = scratch_dir();
                let cp = DevicePaths::in_dir(copy.path());
                std::fs::copy(&paths.image_a, &cp.image_a).unwrap();
                std::fs::copy(&paths.image_b, &cp.image_b).unwrap();
                std::fs::write(&cp.meta, &full[..cut]).unwrap();
                let cp_sb = engine::superblock::path_of(&cp.meta);
                if let Some(bytes) = &superblock {
                    std::fs::write(&cp_sb, bytes).unwrap();
                }
                let ctx = format!("{variant}, superblock {superblock:?}, cut {cut}");
                // A cut the journal's decoding refuses by itself names the metadata file.
                let decodes = engine::meta::FileJournal::read(&cp.meta).is_ok();
                let named = if decodes { &cp_sb } else { &cp.meta };
                match file::open(&cp, config.clone()) {
                    Err(Error::Meta(e)) => {
                        assert_eq!(e.path, named.display().to_string(), "{ctx}: {e}");
                        decoded += u32::from(decodes);
                    }
                    Err(e) => panic!("{ctx}: {e}"),
                    Ok(_) => panic!("{ctx}: opened"),
                }
            }
        }
        // Most cuts decode (torn tails): the superblock check is what refuses them.
        assert!(decoded as usize > full.len(), "{variant}: {decoded}");
        let d = file::open(&paths, config.clone()).unwrap();
        assert_eq!(read(&d, Vlun::B, 0), vec![4; BS], "{variant}");
    }
}

/// Case 7, nightly on files: split → backup → retire → detach VLUN B onto B' → adopt
/// B' as a new device (its own identity) → split again → backup → retire, every
/// variant; the second archive is the first cycle's live volume plus what followed.
#[test]
fn detached_b_prime_becomes_a_device_that_is_backed_up_again() {
    for variant in Variant::ALL {
        let (dir, _paths, config, d) = device_after_history(variant);
        let old_id = d.identity().device_id;
        d.backup_a(&mut std::io::sink()).unwrap();
        d.retire_a().unwrap();
        d.write(Vlun::B, 2, &[5; BS]).unwrap();
        let b_prime_path = dir.path().join("b-prime.img");
        let b_prime = FileStore::create(&b_prime_path, BS, N).unwrap();
        drop(d.detach_b_to(b_prime).unwrap());

        let next_dir = scratch_dir();
        let next = DevicePaths::in_dir(next_dir.path());
        let d = file::adopt(&b_prime_path, &next, config.clone(), geometry()).unwrap();
        assert_ne!(
            d.identity().device_id,
            old_id,
            "{variant}: a device of its own"
        );
        assert_eq!(d.phase(), Phase::Single, "{variant}");
        drop(d);
        let d = file::open(&next, config.clone()).unwrap();
        d.split().unwrap();
        d.write(Vlun::B, 0, &[6; BS]).unwrap();
        let live = |b: u64| vec![[4u8, 3, 5].get(b as usize).copied().unwrap_or(1); BS];
        let mut archive = Vec::new();
        d.backup_a(&mut archive).unwrap();
        for b in 0..N {
            let at = b as usize * BS;
            assert_eq!(&archive[at..at + BS], &live(b)[..], "{variant}: block {b}");
        }
        d.retire_a().unwrap();
        assert_eq!(read(&d, Vlun::B, 0), vec![6; BS], "{variant}");
        assert_eq!(read(&d, Vlun::B, 2), vec![5; BS], "{variant}");
        // B' is only read: a short one is refused, naming it.
        let short = dir.path().join("short.img");
        FileStore::create(&short, BS, N - 1).unwrap();
        let e = file::adopt(
            &short,
            &DevicePaths::in_dir(scratch_dir().path()),
            config,
            geometry(),
        );
        assert!(
            matches!(e, Err(Error::Store(StoreError::Short { .. }))),
            "{variant}: {:?}",
            e.err()
        );
    }
}
