//! The device's fixed cost per call at 512-byte blocks in memory, side by side with
//! the raw store: every steady read and write cell of every variant, each timed right
//! after the raw store's same operation, in rounds, so that both halves of every ratio
//! see the same machine load (issue 13's line: every steady cell ≥ 0.5× the raw store;
//! mirroring's VLUN A write does two physical writes, so 0.5× is its ceiling).
//!
//! Setup as in `throughput`: a 1024-block volume on `Device::in_memory` (default
//! locks), split, every other block written once through VLUN B. Each cell cycles
//! through the volume; one untimed pass first makes the cell steady (a VLUN A write
//! of write logging or copy-on-write drops the entries that a VLUN B write then
//! recreates, so the first pass of a VLUN B write cell is first writes).
//!
//! Run: `cargo bench -p owm-engine --bench per_call` (40 rounds of 20,000 calls per
//! cell, a few seconds), or `-- --rounds N --calls N`. Prints per
//! cell the fastest round's ns per call of the device and of the raw store and their
//! ratio (a round is shorter than a scheduler time slice, so on a loaded machine the
//! fastest round is the one nothing preempted), the medians, the median, lowest and
//! highest per-round ratio, and `/proc/loadavg` before and after.
//! `-- --only <cell> --calls N` runs just `N` untimed calls of one cell after the setup
//! (cells: `raw/read`, `raw/write`, `<variant>/read-A`, … `<variant>/write-B`), for
//! `valgrind --tool=callgrind`: (Ir(N=4096) − Ir(N=2048)) / 2048 is the instructions
//! per call. Without `--bench` (as `cargo test --benches` runs it), one short round
//! checks that every cell is steady: the counted physical I/O per call is the steady
//! minimum (one image read per read, one write per write, two for mirroring's A
//! write) and no table entry is created.

use std::hint::black_box;
use std::time::Instant;

use engine::{BlockStore, Device, MemStore, Variant, Vlun};

const VOLUME: u64 = 1024;
const BLOCK_SIZE: usize = 512;

/// One cell: the raw store or a device, and an operation.
#[derive(Clone, Copy)]
struct Cell {
    variant: Option<Variant>,
    vlun: Vlun,
    write: bool,
}

impl Cell {
    fn name(&self) -> String {
        let op = if self.write { "write" } else { "read" };
        match self.variant {
            None => format!("raw/{op}"),
            Some(v) => {
                let vlun = if self.vlun == Vlun::A { "A" } else { "B" };
                format!("{v}/{op}-{vlun}")
            }
        }
    }

    /// The same operation on the raw store.
    fn raw(&self) -> Cell {
        Cell {
            variant: None,
            ..*self
        }
    }

    /// Physical block writes per steady call.
    fn writes_per_call(&self) -> u64 {
        match (self.variant, self.vlun, self.write) {
            (_, _, false) => 0,
            (Some(Variant::WriteMirroring), Vlun::A, true) => 2,
            _ => 1,
        }
    }
}

fn cells() -> Vec<Cell> {
    let mut cells = Vec::new();
    for variant in Variant::ALL {
        for vlun in [Vlun::A, Vlun::B] {
            for write in [false, true] {
                cells.push(Cell {
                    variant: Some(variant),
                    vlun,
                    write,
                });
            }
        }
    }
    cells
}

/// What the calls run on: the raw store and one prepared device per variant.
struct Bed {
    raw: MemStore,
    devices: Vec<Device<MemStore>>,
    data: Vec<u8>,
    buf: Vec<u8>,
    at: u64,
}

impl Bed {
    fn new() -> Self {
        let devices = Variant::ALL
            .into_iter()
            .map(|v| {
                let d = Device::in_memory(v, BLOCK_SIZE, VOLUME).expect("device");
                d.split().expect("split");
                let data = vec![0xb0; BLOCK_SIZE];
                for b in (0..VOLUME).step_by(2) {
                    d.write(Vlun::B, b, &data).expect("diverging write");
                }
                d
            })
            .collect();
        Bed {
            raw: MemStore::new(BLOCK_SIZE, VOLUME).expect("raw store"),
            devices,
            data: vec![0x5a; BLOCK_SIZE],
            buf: vec![0u8; BLOCK_SIZE],
            at: 0,
        }
    }

    fn device(&self, v: Variant) -> &Device<MemStore> {
        &self.devices[variant_index(v)]
    }

    /// Runs `calls` calls of `cell`, cycling through the volume.
    fn run(&mut self, cell: Cell, calls: u64) {
        let at = &mut self.at;
        let mut next = || {
            *at = (*at + 1) % VOLUME;
            *at
        };
        let (data, buf) = (&self.data, &mut self.buf);
        let Some(v) = cell.variant else {
            let raw = &self.raw;
            for _ in 0..calls {
                let block = next();
                if cell.write {
                    raw.write_block(block, black_box(data))
                } else {
                    raw.read_block(block, black_box(&mut *buf))
                }
                .expect("raw store call");
            }
            return;
        };
        let d = &self.devices[variant_index(v)];
        for _ in 0..calls {
            let block = next();
            if cell.write {
                d.write(cell.vlun, block, black_box(data))
            } else {
                d.read(cell.vlun, block, black_box(&mut *buf))
            }
            .expect("device call");
        }
    }

    /// One untimed pass over the volume, then `calls` timed calls: ns per call.
    fn time(&mut self, cell: Cell, calls: u64) -> f64 {
        self.run(cell, VOLUME);
        let start = Instant::now();
        self.run(cell, calls);
        start.elapsed().as_nanos() as f64 / calls as f64
    }
}

fn variant_index(v: Variant) -> usize {
    Variant::ALL
        .iter()
        .position(|&x| x == v)
        .expect("a variant")
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".into())
}

/// `cargo test --benches`: every cell is steady (see the module doc).
fn check_steady() {
    let mut bed = Bed::new();
    for cell in cells() {
        let calls = 2 * VOLUME;
        bed.run(cell, VOLUME);
        let d = bed.device(cell.variant.expect("a device cell"));
        let before = d.counters();
        bed.run(cell, calls);
        let d = bed.device(cell.variant.expect("a device cell"));
        let after = d.counters();
        let reads =
            after.image_a_reads + after.image_b_reads - before.image_a_reads - before.image_b_reads;
        let writes = after.image_a_writes + after.image_b_writes
            - before.image_a_writes
            - before.image_b_writes;
        let name = cell.name();
        assert_eq!(
            reads,
            if cell.write { 0 } else { calls },
            "{name}: image reads"
        );
        assert_eq!(
            writes,
            cell.writes_per_call() * calls,
            "{name}: image writes"
        );
        assert_eq!(
            after.table_inserts, before.table_inserts,
            "{name}: a steady cell creates no entry"
        );
        assert_eq!(after.flushes, before.flushes, "{name}: no barrier");
    }
    println!("per_call: all {} device cells steady", cells().len());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let number = |name: &str, default: u64| {
        arg(name).map_or(default, |s| {
            s.parse()
                .unwrap_or_else(|_| panic!("{name} takes a number, not {s:?}"))
        })
    };
    if !args.iter().any(|a| a == "--bench") {
        check_steady();
        return;
    }
    let calls = number("--calls", 20_000);
    let mut bed = Bed::new();
    if let Some(only) = arg("--only") {
        let all = cells();
        let raws = [all[0].raw(), all[1].raw()];
        let cell = all
            .into_iter()
            .chain(raws)
            .find(|c| c.name() == only)
            .unwrap_or_else(|| panic!("no cell {only:?}"));
        bed.run(cell, VOLUME);
        bed.run(cell, calls);
        return;
    }
    let rounds = number("--rounds", 40) as usize;
    println!("load average before: {}", loadavg());
    let cells = cells();
    let mut device_ns = vec![Vec::new(); cells.len()];
    let mut raw_ns = vec![Vec::new(); cells.len()];
    let mut ratios = vec![Vec::new(); cells.len()];
    for _ in 0..rounds {
        for (i, &cell) in cells.iter().enumerate() {
            let raw = bed.time(cell.raw(), calls);
            let dev = bed.time(cell, calls);
            raw_ns[i].push(raw);
            device_ns[i].push(dev);
            ratios[i].push(raw / dev);
        }
    }
    println!("load average after: {}", loadavg());
    println!(
        "{rounds} rounds x {calls} calls, 512 B blocks in memory; ns per call, fastest \
         round (min) and median; ratio = raw / device"
    );
    println!(
        "{:<18} {:>8} {:>8} {:>9} {:>8} {:>8} {:>9} {:>11}",
        "cell", "dev min", "raw min", "ratio min", "dev med", "raw med", "ratio med", "ratio range"
    );
    for (i, cell) in cells.iter().enumerate() {
        let min = |xs: &[f64]| xs.iter().copied().fold(f64::INFINITY, f64::min);
        let max = |xs: &[f64]| xs.iter().copied().fold(0.0, f64::max);
        let (dev_min, raw_min) = (min(&device_ns[i]), min(&raw_ns[i]));
        println!(
            "{:<18} {:>8.1} {:>8.1} {:>9.2} {:>8.1} {:>8.1} {:>9.2} {:>5.2}-{:.2}",
            cell.name(),
            dev_min,
            raw_min,
            raw_min / dev_min,
            median(&mut device_ns[i]),
            median(&mut raw_ns[i]),
            median(&mut ratios[i]),
            min(&ratios[i]),
            max(&ratios[i]),
        );
    }
}
