//! backup-faithful: the archive `backup_a` writes is VLUN A at that moment, byte for
//! byte, and for a file it is a plain raw image that `cmp` and `qemu-img compare`
//! accept against an independently built expected image.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use engine::file;
use engine::{BlockStore, Device, DeviceConfig, Variant, Vlun};

use crate::common::{pattern, read, Rng};

const BS: usize = 512;
const N: u64 = 64;

/// Drives `d` through a fixed pseudo-random history (base writes, split, A and B writes)
/// and returns the reference A-view (block → content; absent = zeros).
fn history<S: BlockStore>(d: &Device<S>, seed: u64) -> BTreeMap<u64, Vec<u8>> {
    let mut rng = Rng(seed);
    let mut a = BTreeMap::new();
    for b in 0..N / 2 {
        let data = pattern(BS, b, rng.next_u64() as u8);
        d.write(Vlun::A, b, &data).unwrap();
        a.insert(b, data);
    }
    d.split().unwrap();
    for _ in 0..200 {
        let b = rng.below(N);
        let data = pattern(BS, b, rng.next_u64() as u8);
        if rng.below(2) == 0 {
            d.write(Vlun::A, b, &data).unwrap();
            a.insert(b, data);
        } else {
            d.write(Vlun::B, b, &data).unwrap();
        }
    }
    a
}

fn expected_image(a: &BTreeMap<u64, Vec<u8>>) -> Vec<u8> {
    (0..N)
        .flat_map(|b| a.get(&b).cloned().unwrap_or_else(|| vec![0; BS]))
        .collect()
}

/// VLUN A read block by block through the device.
fn vlun_a<S: BlockStore>(d: &Device<S>) -> Vec<u8> {
    (0..N).flat_map(|b| read(d, Vlun::A, b)).collect()
}

/// Runs `program args`; `None` if the program is not installed.
fn tool(program: &str, args: &[&Path]) -> Option<bool> {
    match Command::new(program).args(args).output() {
        Ok(out) => Some(out.status.success()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => panic!("{program}: {e}"),
    }
}

fn qemu_compare(expected: &Path, archive: &Path) -> Option<bool> {
    match Command::new("qemu-img")
        .args(["compare", "-f", "raw", "-F", "raw"])
        .args([expected, archive])
        .output()
    {
        Ok(out) => Some(out.status.success()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => panic!("qemu-img: {e}"),
    }
}

#[test]
fn file_archive_is_a_raw_image_of_vlun_a() {
    for (i, variant) in Variant::ALL.into_iter().enumerate() {
        let (dir, paths, g) = crate::common::file_device_parts(BS, N);
        let d = file::create(&paths, DeviceConfig::new(variant), g).unwrap();
        let a = history(&d, 0x5eed + i as u64);
        let archive_path = dir.path().join("archive.img");
        let mut archive = std::io::BufWriter::new(std::fs::File::create(&archive_path).unwrap());
        let report = d.backup_a(&mut archive).unwrap();
        drop(archive);
        assert_eq!(report.blocks, N);
        assert_eq!(report.bytes, N * BS as u64);

        let archived = std::fs::read(&archive_path).unwrap();
        let expected = expected_image(&a);
        assert_eq!(archived.len(), expected.len(), "{variant}: archive length");
        assert!(
            archived == expected,
            "{variant}: archive differs from the reference"
        );
        assert!(
            archived == vlun_a(&d),
            "{variant}: archive differs from VLUN A"
        );

        let expected_path = dir.path().join("expected.img");
        std::fs::write(&expected_path, &expected).unwrap();
        let mut damaged = expected.clone();
        damaged[expected.len() / 2] ^= 0x40;
        let damaged_path = dir.path().join("damaged.img");
        std::fs::write(&damaged_path, &damaged).unwrap();

        // The damaged copy shows each tool can fail.
        match tool("cmp", &[&expected_path, &archive_path]) {
            None => println!("note: cmp not installed; skipped its comparison"),
            Some(same) => {
                assert!(same, "{variant}: cmp differs");
                let blind = tool("cmp", &[&damaged_path, &archive_path]) == Some(true);
                assert!(!blind, "{variant}: cmp blind");
            }
        }

        match qemu_compare(&expected_path, &archive_path) {
            None => println!("note: qemu-img not installed; skipped its comparison"),
            Some(same) => {
                assert!(same, "{variant}: qemu-img compare differs");
                let blind = qemu_compare(&damaged_path, &archive_path) == Some(true);
                assert!(!blind, "{variant}: qemu-img compare blind");
            }
        }
    }
}

/// The archive is A at the moment of the backup even while new transactions keep
/// writing VLUN B during it (they must not wait, and must not leak into A).
#[test]
fn memory_archive_is_vlun_a_while_b_keeps_changing() {
    for (i, variant) in Variant::ALL.into_iter().enumerate() {
        let d = Device::in_memory(variant, BS, N).unwrap();
        let a = history(&d, 0xa7c + i as u64);
        let before = vlun_a(&d);
        assert!(
            before == expected_image(&a),
            "{variant}: VLUN A before backup"
        );
        let done = AtomicBool::new(false);
        let archive = std::thread::scope(|s| {
            let writer = s.spawn(|| {
                let mut rng = Rng(77);
                let mut n = 0u32;
                // Bounded: at most 20 000 writes, fewer if the backup ends first.
                while n < 20_000 && (n < 200 || !done.load(Ordering::Relaxed)) {
                    let b = rng.below(N);
                    d.write(Vlun::B, b, &pattern(BS, b, 0xee ^ n as u8))
                        .unwrap();
                    n += 1;
                }
            });
            let mut archive = Vec::new();
            d.backup_a(&mut archive).unwrap();
            done.store(true, Ordering::Relaxed);
            writer.join().unwrap();
            archive
        });
        assert!(archive == before, "{variant}: archive differs from VLUN A");
        assert!(
            vlun_a(&d) == before,
            "{variant}: VLUN A changed after backup"
        );
        // A repeated backup (e.g. to a second tape) gives the same bytes.
        let mut again = Vec::new();
        d.backup_a(&mut again).unwrap();
        assert!(again == archive, "{variant}: second archive differs");
    }
}
