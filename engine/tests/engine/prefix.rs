//! Blocks moved as their leading bytes (`read_block_prefix`, `write_block_prefix`,
//! `Device::read_prefix`, `Device::write_prefix` and their exclusive `_mut` forms) against the whole-block path: every
//! store and every variant gives the same blocks, costs and errors, for every length
//! from 0 to a whole block.

use std::sync::Arc;

use engine::{
    BlockStore, CrashStore, Device, DeviceConfig, FaultyStore, FileStore, MemStore, SparseStore,
    Variant, Vlun,
};

use crate::common::{scratch_dir, Rng};

type Store = Box<dyn BlockStore>;

/// `n` bytes, a few of them zero, the last one not (unless `n` is 0).
fn bytes(rng: &mut Rng, n: usize) -> Vec<u8> {
    let mut v: Vec<u8> = (0..n)
        .map(|_| match rng.below(5) {
            0 => 0,
            _ => rng.next_u64() as u8,
        })
        .collect();
    if let Some(last) = v.last_mut() {
        *last |= 1;
    }
    v
}

fn padded(prefix: &[u8], block_size: usize) -> Vec<u8> {
    let mut v = prefix.to_vec();
    v.resize(block_size, 0);
    v
}

/// The block as read through `read_block_prefix`, whole.
fn read_whole_by_prefix(s: &dyn BlockStore, block: u64) -> Vec<u8> {
    let mut out = vec![9u8; 3];
    s.read_block_prefix(block, &mut out).unwrap();
    assert!(out.len() <= s.block_size());
    padded(&out, s.block_size())
}

fn read_whole(s: &dyn BlockStore, block: u64) -> Vec<u8> {
    let mut buf = vec![7u8; s.block_size()];
    s.read_block(block, &mut buf).unwrap();
    buf
}

/// Blocks and block size of [`twin_stores`].
const BS: usize = 4096;
const BLOCKS: u64 = 8;

/// The content of a block never written, in the stores that have one: 24 non-zero
/// bytes, then zeros.
fn initial(b: u64, buf: &mut [u8]) {
    for (i, x) in buf.iter_mut().enumerate() {
        *x = if i < 24 { (b as u8) ^ (i as u8) | 1 } else { 0 };
    }
}

/// Every kind of store, each with a twin of the same content (files in `dir`).
fn twin_stores(dir: &std::path::Path) -> Vec<(&'static str, Store, Store)> {
    vec![
        (
            "memory",
            Box::new(MemStore::new(BS, BLOCKS).unwrap()),
            Box::new(MemStore::new(BS, BLOCKS).unwrap()),
        ),
        (
            "file",
            Box::new(FileStore::create(dir.join("x.img"), BS, BLOCKS).unwrap()),
            Box::new(FileStore::create(dir.join("y.img"), BS, BLOCKS).unwrap()),
        ),
        (
            "sparse",
            Box::new(SparseStore::new(BS, BLOCKS).unwrap()),
            Box::new(SparseStore::new(BS, BLOCKS).unwrap()),
        ),
        (
            "sparse, whole initial content",
            Box::new(SparseStore::with_initial(BS, BLOCKS, Arc::new(initial)).unwrap()),
            Box::new(SparseStore::with_initial(BS, BLOCKS, Arc::new(initial)).unwrap()),
        ),
        (
            "sparse, initial leading bytes",
            Box::new(
                SparseStore::with_initial_prefix(
                    BS,
                    BLOCKS,
                    Arc::new(move |b, out: &mut Vec<u8>| {
                        out.resize(24, 0);
                        initial(b, out);
                    }),
                )
                .unwrap(),
            ),
            Box::new(SparseStore::with_initial(BS, BLOCKS, Arc::new(initial)).unwrap()),
        ),
        (
            "crash disk",
            Box::new(CrashStore::new(SparseStore::new(BS, BLOCKS).unwrap(), 8)),
            Box::new(CrashStore::new(SparseStore::new(BS, BLOCKS).unwrap(), 8)),
        ),
        (
            "faulty (no fault armed)",
            Box::new(FaultyStore::new(SparseStore::new(BS, BLOCKS).unwrap())),
            Box::new(FaultyStore::new(SparseStore::new(BS, BLOCKS).unwrap())),
        ),
    ]
}

/// Every length 0..=4096 written as leading bytes over a block that held a whole
/// non-zero block, on each store, against its twin written whole.
#[test]
fn every_store_writes_and_reads_leading_bytes_as_whole_blocks() {
    let dir = scratch_dir();
    let stores = twin_stores(dir.path());
    let mut rng = Rng(0x5eed_f0b1_0c00);
    for (name, x, y) in &stores {
        // Unwritten blocks: the initial content, both ways.
        for b in 0..BLOCKS {
            assert_eq!(read_whole_by_prefix(&**x, b), read_whole(&**y, b), "{name}");
        }
        let full = bytes(&mut rng, BS);
        for len in 0..=BS {
            let b = len as u64 % BLOCKS;
            // A whole block first, so a shorter write must zero its tail.
            x.write_block(b, &full).unwrap();
            let data = bytes(&mut rng, len);
            x.write_block_prefix(b, &data).unwrap();
            y.write_block(b, &padded(&data, BS)).unwrap();
            let want = read_whole(&**y, b);
            assert_eq!(want, padded(&data, BS), "{name}: length {len}");
            assert_eq!(read_whole(&**x, b), want, "{name}: length {len}");
            assert_eq!(read_whole_by_prefix(&**x, b), want, "{name}: length {len}");
        }
        // Errors: the same kinds as the whole-block calls.
        let long = vec![1u8; BS + 8];
        let e = x.write_block_prefix(0, &long).unwrap_err();
        assert!(
            matches!(e, engine::StoreError::BufferSize { len, .. } if len == BS + 8),
            "{name}: {e}"
        );
        for data in [&[][..], &long[..8], &full[..]] {
            let e = x.write_block_prefix(BLOCKS, data).unwrap_err();
            assert!(
                matches!(e, engine::StoreError::OutOfRange { block, .. } if block == BLOCKS),
                "{name}: {e}"
            );
        }
        let e = x.read_block_prefix(BLOCKS, &mut Vec::new()).unwrap_err();
        assert!(
            matches!(e, engine::StoreError::OutOfRange { .. }),
            "{name}: {e}"
        );
    }
}

/// The exclusive calls (`read_block_prefix_mut`, `write_block_prefix_mut`) against the
/// shared ones on every store: one twin written through the exclusive call, the other
/// through the shared one, at lengths from 0 to a whole block; each block read both
/// ways from the first twin gives the same bytes, which are the block the second twin
/// holds, and the errors are the same.
#[test]
fn every_store_answers_its_exclusive_calls_as_its_shared_ones() {
    let dir = scratch_dir();
    let mut rng = Rng(0xe8c1_05e0);
    for (name, mut x, y) in twin_stores(dir.path()) {
        let mut reads_of_unwritten = 0;
        let mut written = [false; BLOCKS as usize];
        for step in 0..400u64 {
            let b = rng.below(BLOCKS);
            if step % 3 != 2 {
                let len = match step % 5 {
                    0 => 0,
                    1 => BS,
                    _ => rng.below(BS as u64 + 1) as usize,
                };
                let data = bytes(&mut rng, len);
                x.write_block_prefix_mut(b, &data).unwrap();
                y.write_block_prefix(b, &data).unwrap();
                written[b as usize] = true;
            }
            reads_of_unwritten += u32::from(!written[b as usize]);
            let (mut exclusive, mut shared) = (vec![5u8; 2], vec![6u8; 3]);
            x.read_block_prefix_mut(b, &mut exclusive).unwrap();
            x.read_block_prefix(b, &mut shared).unwrap();
            assert_eq!(exclusive, shared, "{name}: block {b}, step {step}");
            assert_eq!(
                padded(&exclusive, BS),
                read_whole(&*y, b),
                "{name}: block {b}"
            );
        }
        // Non-vacuity: unwritten blocks (initial content) were read too.
        assert!(reads_of_unwritten > 0, "{name}");
        assert!(written.iter().all(|&w| w), "{name}");
        // Errors: the same as the shared calls' (each naming its own store).
        let x_name = x.name();
        let same = |e: engine::StoreError, f: engine::StoreError| {
            assert_eq!(
                e.to_string().replace(&x_name, "S"),
                f.to_string().replace(&y.name(), "S"),
                "{name}"
            );
        };
        let long = vec![1u8; BS + 8];
        for (block, data) in [(0, &long[..]), (BLOCKS, &long[..8]), (BLOCKS, &[][..])] {
            let e = x.write_block_prefix_mut(block, data).unwrap_err();
            same(e, y.write_block_prefix(block, data).unwrap_err());
        }
        let e = x
            .read_block_prefix_mut(BLOCKS, &mut Vec::new())
            .unwrap_err();
        let f = y.read_block_prefix(BLOCKS, &mut Vec::new()).unwrap_err();
        assert!(
            matches!(e, engine::StoreError::OutOfRange { .. }),
            "{name}: {e}"
        );
        same(e, f);
    }
}

/// Two twin devices, one driven through the leading-bytes calls and one through the
/// whole-block calls, in every variant, with and without integrity mode, over sparse
/// and dense stores, through a whole backup cycle: the same blocks read, the same
/// costs, the same errors, the same images.
#[test]
fn every_variant_routes_leading_bytes_as_whole_blocks() {
    const BS: usize = 64;
    const BLOCKS: u64 = 16;
    let mut covered = [0u32; 5];
    for variant in [
        Variant::WriteMirroring,
        Variant::WriteLogging,
        Variant::CopyOnWrite,
    ] {
        for integrity in [false, true] {
            let mut config = DeviceConfig::new(variant);
            config.integrity = integrity;
            let (a, b) = config.image_blocks(BS, BLOCKS, BLOCKS);
            let sparse = |n| SparseStore::new(BS, n).unwrap();
            let mut x = Device::new(config.clone(), sparse(a), sparse(b)).unwrap();
            let y = Device::new(config.clone(), sparse(a), sparse(b)).unwrap();
            let mut dense = Device::new(
                config.clone(),
                MemStore::new(BS, a).unwrap(),
                MemStore::new(BS, b).unwrap(),
            )
            .unwrap();
            run_twins(variant, &mut x, &y, &mut covered);
            let z = Device::in_memory_with(config, BS, BLOCKS, BLOCKS).unwrap();
            run_twins(variant, &mut dense, &z, &mut covered);
            compare_images(&x, &y);
            compare_images(&dense, &z);
        }
    }
    // Non-vacuity: short, empty and whole writes each reached the stores, and the
    // exclusive calls were made (writes, reads).
    assert!(covered.iter().all(|&n| n > 0), "{covered:?}");
}

fn run_twins<S: BlockStore, T: BlockStore>(
    variant: Variant,
    x: &mut Device<S>,
    y: &Device<T>,
    covered: &mut [u32; 5],
) {
    const BS: usize = 64;
    let blocks = x.volume_blocks();
    let mut rng = Rng(0xd1ff ^ variant as u64);
    let mut out = Vec::new();
    for step in 0..1200u32 {
        match step {
            300 => assert_eq!(x.split().is_ok(), y.split().is_ok()),
            600 => {
                let (rx, ry) = (
                    x.backup_a(&mut std::io::sink()),
                    y.backup_a(&mut std::io::sink()),
                );
                assert_eq!(
                    rx.map(|_| ()).map_err(|e| e.to_string()),
                    ry.map(|_| ()).map_err(|e| e.to_string())
                );
            }
            900 => {
                let (rx, ry) = (x.retire_a(), y.retire_a());
                assert_eq!(rx.map_err(|e| e.to_string()), ry.map_err(|e| e.to_string()));
            }
            _ => {}
        }
        let vlun = if rng.below(2) == 0 { Vlun::A } else { Vlun::B };
        let block = rng.below(blocks + 1);
        if rng.below(2) == 0 {
            let len = match rng.below(4) {
                0 => 0,
                1 => BS,
                _ => rng.below(BS as u64) as usize,
            };
            let data = bytes(&mut rng, len);
            // Every other call through the exclusive form.
            let exclusive = step % 2 == 1;
            let rx = if exclusive {
                x.write_prefix_mut(vlun, block, &data)
            } else {
                x.write_prefix(vlun, block, &data)
            };
            let (rx, ry) = (rx, y.write(vlun, block, &padded(&data, BS)));
            if rx.is_ok() && exclusive {
                covered[3] += 1;
            }
            if rx.is_ok() {
                covered[match len {
                    0 => 0,
                    BS => 2,
                    _ => 1,
                }] += 1;
            }
            assert_eq!(
                rx.map_err(|e| e.to_string()),
                ry.map_err(|e| e.to_string()),
                "{variant:?} step {step}: write {vlun} {block} of {len} bytes"
            );
        } else {
            let mut whole = vec![3u8; BS];
            let exclusive = step % 2 == 1;
            let rx = if exclusive {
                x.read_prefix_mut(vlun, block, &mut out)
            } else {
                x.read_prefix(vlun, block, &mut out)
            };
            if rx.is_ok() && exclusive {
                covered[4] += 1;
            }
            let (rx, ry) = (rx, y.read(vlun, block, &mut whole));
            assert_eq!(
                rx.map_err(|e| e.to_string()),
                ry.as_ref().map(|c| *c).map_err(|e| e.to_string()),
                "{variant:?} step {step}: read {vlun} {block}"
            );
            if ry.is_ok() {
                assert!(out.len() <= BS);
                assert_eq!(padded(&out, BS), whole, "{variant:?} step {step}");
            }
        }
    }
    // A buffer longer than a block is refused, as by `write`.
    let long = vec![1u8; BS + 8];
    assert_eq!(
        x.write_prefix(Vlun::B, 0, &long).map_err(|e| e.to_string()),
        y.write(Vlun::B, 0, &long).map_err(|e| e.to_string())
    );
    assert_eq!(
        x.write_prefix_mut(Vlun::B, 0, &long)
            .map_err(|e| e.to_string()),
        y.write(Vlun::B, 0, &long).map_err(|e| e.to_string())
    );
}

fn compare_images<S: BlockStore, T: BlockStore>(x: &Device<S>, y: &Device<T>) {
    let ((xa, xb), (ya, yb)) = (x.images(), y.images());
    for (p, q) in [(xa as &dyn BlockStore, ya as &dyn BlockStore), (xb, yb)] {
        assert_eq!(p.block_count(), q.block_count());
        for b in 0..p.block_count() {
            assert_eq!(read_whole(p, b), read_whole(q, b), "block {b}");
        }
    }
}
