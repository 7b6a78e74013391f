//! Issue 13's case 6: misdirected and rotted blocks. In integrity mode
//! (`DeviceConfig::integrity`) a copy-on-write preserve write that lands one block
//! off, and a flipped byte in an image file, are `Error::Integrity` naming image and
//! block on the read through the VLUN and in `backup_a`; without it they are served
//! (the documented, unchecked default). The mode changes no data: a device with it
//! reads what one without it reads, across reopen and power loss.

use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, Ordering};

use engine::file::{self, DevicePaths, Geometry};
use engine::{
    BlockStore, CrashStore, Device, DeviceConfig, Error, Fate, Image, MemJournal, MemStore,
    StoreError, Variant, Vlun,
};

use crate::common::{pattern, read, scratch_dir, Rng};

const BS: usize = 512;
const N: u64 = 16;
const AREA: u64 = 8;
const NOT_ARMED: u64 = u64::MAX;

/// A store that writes block `from` (once armed) to block `from + 1` instead, and
/// says it wrote `from`: the misdirected write of a disk's firmware bug.
struct Misdirect {
    inner: MemStore,
    from: AtomicU64,
}

impl Misdirect {
    fn new(blocks: u64) -> Self {
        Misdirect {
            inner: MemStore::new(BS, blocks).unwrap(),
            from: AtomicU64::new(NOT_ARMED),
        }
    }
}

impl BlockStore for Misdirect {
    fn block_size(&self) -> usize {
        BS
    }
    fn block_count(&self) -> u64 {
        self.inner.block_count()
    }
    fn name(&self) -> String {
        "misdirecting disk".into()
    }
    fn read_block(&self, block: u64, buf: &mut [u8]) -> Result<(), StoreError> {
        self.inner.read_block(block, buf)
    }
    fn write_block(&self, block: u64, data: &[u8]) -> Result<(), StoreError> {
        let from = self.from.load(Ordering::Relaxed);
        if block == from {
            self.from.store(NOT_ARMED, Ordering::Relaxed);
            return self.inner.write_block(block + 1, data);
        }
        self.inner.write_block(block, data)
    }
    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

fn config(variant: Variant, integrity: bool) -> DeviceConfig {
    DeviceConfig {
        integrity,
        ..DeviceConfig::new(variant)
    }
}

/// Copy-on-write with A = [10, 11, 12, 13, 0…], split, then B0 = 20 whose preserve
/// copy (slot 0 of image A) the disk writes to slot 1.
fn misdirected(integrity: bool) -> Device<Misdirect> {
    let c = config(Variant::CopyOnWrite, integrity);
    let (a, b) = c.image_blocks(BS, N, AREA);
    let d = Device::new(c, Misdirect::new(a), Misdirect::new(b)).unwrap();
    for block in 0..4 {
        d.write(Vlun::A, block, &[10 + block as u8; BS]).unwrap();
    }
    d.split().unwrap();
    d.images().0.from.store(0, Ordering::Relaxed);
    d.write(Vlun::B, 0, &[20; BS]).unwrap();
    assert_eq!(
        d.images().0.from.load(Ordering::Relaxed),
        NOT_ARMED,
        "misdirected"
    );
    d
}

#[test]
fn a_misdirected_preserve_write_is_an_integrity_error_on_read_and_backup() {
    let d = misdirected(true);
    let mut buf = vec![0u8; BS];
    match d.read(Vlun::A, 0, &mut buf) {
        Err(Error::Integrity {
            image: Image::A,
            block: 0,
            logical: 0,
            ..
        }) => {}
        other => panic!("expected an integrity error, got {other:?}"),
    }
    // Blocks the misdirection did not touch read as ever.
    assert_eq!(read(&d, Vlun::A, 1), vec![11; BS]);
    assert_eq!(read(&d, Vlun::B, 0), vec![20; BS]);
    match d.backup_a(&mut Vec::new()) {
        Err(Error::BackupRead {
            block: 0, source, ..
        }) => assert!(
            matches!(*source, Error::Integrity { block: 0, .. }),
            "{source}"
        ),
        other => panic!("expected a backup error, got {other:?}"),
    }
    assert!(!d.archive_complete());
    assert!(matches!(d.retire_a(), Err(Error::NoArchive)));

    // Without integrity mode the same disk serves the wrong block, silently.
    let d = misdirected(false);
    assert_eq!(
        read(&d, Vlun::A, 0),
        vec![0; BS],
        "unchecked: served wrong data"
    );
    d.backup_a(&mut Vec::new()).unwrap();
}

/// A file device of `variant` after a history (A writes everywhere, split, B writes
/// to 0..4, flush), closed.
fn file_device(variant: Variant, integrity: bool) -> (tempfile::TempDir, DevicePaths) {
    let dir = scratch_dir();
    let paths = DevicePaths::in_dir(dir.path());
    let g = Geometry {
        block_size: BS,
        volume_blocks: N,
        area_slots: AREA,
    };
    let d = file::create(&paths, config(variant, integrity), g).unwrap();
    for b in 0..N {
        d.write(Vlun::A, b, &pattern(BS, b, 1)).unwrap();
    }
    d.split().unwrap();
    for b in 0..4 {
        d.write(Vlun::B, b, &pattern(BS, b, 2)).unwrap();
    }
    d.flush().unwrap();
    (dir, paths)
}

fn flip(path: &std::path::Path, block: u64, at: usize) {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let off = block * BS as u64 + at as u64;
    let mut b = [0u8];
    f.read_exact_at(&mut b, off).unwrap();
    f.write_all_at(&[b[0] ^ 0x04], off).unwrap();
}

/// A flipped byte in the volume's image (block 9) and in a data-area slot (slot 0,
/// logging's B0 or copy-on-write's preserved A0) is an integrity error naming the
/// file and block, after a reopen, for every variant; without the mode the flipped
/// byte is served.
#[test]
fn a_flipped_byte_in_an_image_file_is_an_integrity_error_on_read() {
    for variant in Variant::ALL {
        for integrity in [true, false] {
            let (_dir, paths) = file_device(variant, integrity);
            let (volume_image, path) = match variant {
                Variant::CopyOnWrite => (Image::B, &paths.image_b),
                _ => (Image::A, &paths.image_a),
            };
            flip(path, 9, 100);
            let d = file::open(&paths, DeviceConfig::new(variant)).unwrap();
            assert_eq!(
                d.identity().integrity,
                integrity,
                "recorded, not the config's"
            );
            let mut buf = vec![0u8; BS];
            let r = d.read(Vlun::A, 9, &mut buf);
            if !integrity {
                r.unwrap();
                assert_ne!(buf, pattern(BS, 9, 1), "{variant}: served the flipped byte");
                continue;
            }
            match r {
                Err(Error::Integrity {
                    image,
                    store,
                    block: 9,
                    logical: 9,
                }) => {
                    assert_eq!(image, volume_image, "{variant}");
                    assert_eq!(store, path.display().to_string(), "{variant}");
                }
                other => panic!("{variant}: {other:?}"),
            }
            assert!(matches!(
                d.backup_a(&mut Vec::new()),
                Err(Error::BackupRead { block: 9, .. })
            ));
            drop(d);
            if let Some(table_image) = variant.table_image() {
                let (vlun, file) = match table_image {
                    Image::A => (Vlun::A, &paths.image_a),
                    Image::B => (Vlun::B, &paths.image_b),
                };
                flip(file, 0, 7);
                let d = file::open(&paths, DeviceConfig::new(variant)).unwrap();
                match d.read(vlun, 0, &mut buf) {
                    Err(Error::Integrity {
                        image,
                        block: 0,
                        logical: 0,
                        ..
                    }) => assert_eq!(image, table_image),
                    other => panic!("{variant}: {other:?}"),
                }
            }
        }
    }
}

/// The mode changes no data: the same random history on a device with it and one
/// without reads the same through both VLUNs at every step, through a life cycle, a
/// power loss with everything flushed, and a second cycle.
#[test]
fn integrity_mode_reads_what_the_unchecked_device_reads() {
    for variant in Variant::ALL {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ variant as u64);
        let disk = |c: &DeviceConfig| {
            let (a, b) = c.image_blocks(BS, N, N);
            let a = CrashStore::new(MemStore::new(BS, a).unwrap(), 8);
            let b = CrashStore::new(MemStore::new(BS, b).unwrap(), 8);
            (a, b)
        };
        let (on, off) = (config(variant, true), config(variant, false));
        let (ja, jb) = (MemJournal::new(), MemJournal::new());
        let (a, b) = disk(&on);
        let mut checked = Device::with_journal(on, a, b, ja.clone()).unwrap();
        let (a, b) = disk(&off);
        let plain = Device::with_journal(off, a, b, jb).unwrap();
        assert!(checked.identity().integrity && !plain.identity().integrity);
        let step = |d1: &Device<_>, d2: &Device<_>, rng: &mut Rng, vluns: &[Vlun]| {
            for i in 0..40u8 {
                let vlun = vluns[rng.below(vluns.len() as u64) as usize];
                let block = rng.below(N);
                let data = pattern(BS, block, i);
                d1.write(vlun, block, &data).unwrap();
                d2.write(vlun, block, &data).unwrap();
                for v in vluns {
                    for b in 0..N {
                        assert_eq!(read(d1, *v, b), read(d2, *v, b), "{variant}");
                    }
                }
            }
        };
        step(&checked, &plain, &mut rng, &[Vlun::A]);
        plain.split().unwrap();
        checked.split().unwrap();
        step(&checked, &plain, &mut rng, &[Vlun::A, Vlun::B]);
        checked.flush().unwrap();
        checked.power_cycle(&ja, |_, _| Fate::Lost, |_| 0).unwrap();
        assert!(checked.identity().integrity);
        let (mut x, mut y) = (Vec::new(), Vec::new());
        checked.backup_a(&mut x).unwrap();
        plain.backup_a(&mut y).unwrap();
        assert_eq!(x, y, "{variant}: archives");
        checked.retire_a().unwrap();
        plain.retire_a().unwrap();
        step(&checked, &plain, &mut rng, &[Vlun::B]);
        checked.split().unwrap();
        plain.split().unwrap();
        step(&checked, &plain, &mut rng, &[Vlun::A, Vlun::B]);
        // The checksum writes are counted: one per data write in integrity mode.
        let c = checked.write(Vlun::B, 5, &[7; BS]).unwrap();
        let p = plain.write(Vlun::B, 5, &[7; BS]).unwrap();
        assert_eq!(c.total_writes(), 2 * p.total_writes(), "{variant}");
    }
}

/// A mark that names another block than the lookup table gives its slot (a foreign
/// or forged record: an honest journal marks a slot for its entry's block only) does
/// not make recovery re-sum the slot for that block: the slot is summed for its
/// entry, and VLUN A still reads the preserved copy, in both table variants.
#[test]
fn a_mark_naming_another_block_for_a_slot_in_use_leaves_the_slot_readable() {
    use engine::meta::{Journal, MetaRecord};
    for variant in [Variant::CopyOnWrite, Variant::WriteLogging] {
        let c = config(variant, true);
        let (a, b) = c.image_blocks(BS, N, AREA);
        let disk = |n| CrashStore::new(MemStore::new(BS, n).unwrap(), 8);
        let journal = MemJournal::new();
        let mut d = Device::with_journal(c, disk(a), disk(b), journal.clone()).unwrap();
        d.write(Vlun::A, 3, &[13; BS]).unwrap();
        d.split().unwrap();
        d.write(Vlun::B, 3, &[23; BS]).unwrap();
        d.flush().unwrap();
        let slot = d.table().unwrap().lookup(3).expect("an entry for block 3");
        let area = match variant {
            Variant::CopyOnWrite => Image::A,
            _ => Image::B,
        };
        let mut forged = journal.clone();
        forged
            .append(&MetaRecord::Unsummed {
                image: area,
                block: u64::from(slot),
                logical: 4,
            })
            .unwrap();
        forged.sync().unwrap();
        d.power_cycle(&journal, |_, _| Fate::Kept, |n| n).unwrap();
        assert_eq!(read(&d, Vlun::A, 3), vec![13; BS], "{variant}");
        assert_eq!(read(&d, Vlun::B, 3), vec![23; BS], "{variant}");
        let mut archive = Vec::new();
        d.backup_a(&mut archive).unwrap();
    }
}
