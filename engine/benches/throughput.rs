//! Read and write throughput through VLUN A and VLUN B, per variant, in memory and on
//! raw image files, for 512-byte and 4 KiB blocks, with the bare store (no mirror) as
//! the baseline in the same run.
//!
//! Setup of every device benchmark: a volume of `VOLUME` blocks, split, then every
//! other block written once through VLUN B, so reads meet both shared and diverged
//! blocks (logging: log vs image A; copy-on-write: preserved copy vs image B). Steady
//! B writes then land on blocks that mostly already have an entry; `write-B-first`
//! measures first B writes (the patent's expensive case: a table insert, and for
//! copy-on-write the copy of the old block), each block's entry having been dropped
//! by an untimed VLUN A write just before.
//! File stores write to the page cache (no fsync per write): the devices here are
//! `Durability::ProcessCrashSafe`, as all devices were before the power-safe write
//! order existed, so the figures in BENCHMARKS.md stay comparable. The default,
//! `PowerSafe`, adds the flush barriers ARCHITECTURE.md lists (fsyncs on first writes),
//! which these benchmarks do not measure.
//!
//! `<variant>-integrity-mem` is the same device in integrity mode
//! (`DeviceConfig::integrity`): what checking every block costs.
//!
//! Run: `cargo bench -p owm-engine --bench throughput` (about 1.3 s per benchmark,
//! no plots);
//! `-- --quick` for a smoke run.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use engine::file::{self, DevicePaths, Geometry};
use engine::{BlockStore, Device, DeviceConfig, Durability, FileStore, MemStore, Variant, Vlun};

const VOLUME: u64 = 1024;
const BLOCK_SIZES: [usize; 2] = [512, 4096];

type Group<'a> = BenchmarkGroup<'a, criterion::measurement::WallTime>;

/// Cycles through the volume so every benchmark touches every block.
struct Cursor(u64);

impl Cursor {
    fn next_block(&mut self) -> u64 {
        self.0 = (self.0 + 1) % VOLUME;
        self.0
    }
}

fn bench_raw<S: BlockStore>(g: &mut Group<'_>, name: &str, store: &S) {
    let bs = store.block_size();
    let data = vec![0x5a; bs];
    let mut buf = vec![0u8; bs];
    let mut at = Cursor(0);
    g.bench_function(format!("raw-{name}/write"), |b| {
        b.iter(|| {
            store
                .write_block(at.next_block(), black_box(&data))
                .unwrap()
        })
    });
    g.bench_function(format!("raw-{name}/read"), |b| {
        b.iter(|| {
            store
                .read_block(at.next_block(), black_box(&mut buf))
                .unwrap()
        })
    });
}

/// A split device with every other block diverged through VLUN B.
fn prepared<S: BlockStore>(d: Device<S>) -> Device<S> {
    let data = vec![0xb0; d.block_size()];
    d.split().unwrap();
    for b in (0..VOLUME).step_by(2) {
        d.write(Vlun::B, b, &data).unwrap();
    }
    d
}

fn bench_device<S: BlockStore>(g: &mut Group<'_>, name: &str, d: Device<S>) {
    let d = prepared(d);
    let bs = d.block_size();
    let data = vec![0x5a; bs];
    let mut buf = vec![0u8; bs];
    let mut at = Cursor(0);
    for vlun in [Vlun::A, Vlun::B] {
        let v = if vlun == Vlun::A { "A" } else { "B" };
        g.bench_function(format!("{name}/read-{v}"), |b| {
            b.iter(|| d.read(vlun, at.next_block(), black_box(&mut buf)).unwrap())
        });
        g.bench_function(format!("{name}/write-{v}"), |b| {
            b.iter(|| d.write(vlun, at.next_block(), black_box(&data)).unwrap())
        });
    }
    g.bench_function(format!("{name}/write-B-first"), |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let n = left.min(VOLUME);
                // Untimed: A writes drop B's entries, so each B write below is a first.
                for block in 0..n {
                    d.write(Vlun::A, block, &data).unwrap();
                }
                let start = Instant::now();
                for block in 0..n {
                    d.write(Vlun::B, block, black_box(&data)).unwrap();
                }
                spent += start.elapsed();
                left -= n;
            }
            spent
        })
    });
}

fn file_device(dir: &Path, variant: Variant, block_size: usize) -> Device<FileStore> {
    let g = Geometry {
        block_size,
        volume_blocks: VOLUME,
        area_slots: VOLUME,
    };
    let config = DeviceConfig {
        durability: Durability::ProcessCrashSafe,
        ..DeviceConfig::new(variant)
    };
    file::create(&DevicePaths::in_dir(dir), config, g).unwrap()
}

fn throughput(c: &mut Criterion) {
    for bs in BLOCK_SIZES {
        let mut g = c.benchmark_group(format!("{bs}B"));
        g.throughput(Throughput::Bytes(bs as u64));
        let dir = tempfile::tempdir().unwrap();
        bench_raw(&mut g, "mem", &MemStore::new(bs, VOLUME).unwrap());
        bench_raw(
            &mut g,
            "file",
            &FileStore::create(dir.path().join("raw.img"), bs, VOLUME).unwrap(),
        );
        for variant in Variant::ALL {
            let mem = Device::in_memory(variant, bs, VOLUME).unwrap();
            bench_device(&mut g, &format!("{variant}-mem"), mem);
            // Integrity mode: a CRC per call and one checksum-block write per block write.
            let checked = DeviceConfig {
                integrity: true,
                ..DeviceConfig::new(variant)
            };
            let mem = Device::in_memory_with(checked, bs, VOLUME, VOLUME).unwrap();
            bench_device(&mut g, &format!("{variant}-integrity-mem"), mem);
            let file = file_device(dir.path(), variant, bs);
            bench_device(&mut g, &format!("{variant}-file"), file);
        }
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .without_plots()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_secs(1));
    targets = throughput
}
criterion_main!(benches);
