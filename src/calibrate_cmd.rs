//! `owm calibrate DIR`: measures the file store's block read, block write, flush and
//! metadata-append latencies on the file system of `DIR`, writes them as a device
//! profile (a `[device]` table the simulator's scenario files accept, 1 tick = 1 µs),
//! and prints what that profile predicts for random 4 KiB writes in each phase of each
//! variant, priced from the engine's own counted operations.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use engine::{BlockStore, Device, FileStore, IoCost, Variant, Vlun};
use rand::{rngs::StdRng, seq::SliceRandom, Rng, SeedableRng};
use sim::DeviceModelConfig;

/// Arguments of `owm calibrate`.
#[derive(clap::Args)]
pub struct CalibrateArgs {
    /// A directory on the file system to measure (a 16 MiB scratch image is written
    /// there and removed).
    pub dir: PathBuf,
    /// Block size, bytes.
    #[arg(long, default_value_t = 4096)]
    pub block_size: usize,
    /// Samples per measured operation (the median is kept).
    #[arg(long, default_value_t = 2000)]
    pub samples: usize,
    /// Where the profile goes (default DIR/device-profile.toml).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Blocks written in each phase of the predicted pattern (fio's job: each block of
    /// a region once, in random order).
    #[arg(long, default_value_t = 8192)]
    pub pattern_writes: u64,
}

/// Measured medians, microseconds (fractional).
struct Measured {
    read_us: f64,
    write_us: f64,
    flush_us: f64,
    append_us: f64,
}

fn median_us(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn measure(dir: &Path, bs: usize, samples: usize) -> Result<Measured> {
    const BLOCKS: u64 = 4096;
    let img = dir.join("calibrate-scratch.img");
    let store = FileStore::create(&img, bs, BLOCKS)?;
    let mut rng = StdRng::seed_from_u64(1);
    let data: Vec<u8> = (0..bs).map(|i| (i % 251) as u8).collect();
    // Fill every block first: a read of a hole is not a read of the disk.
    for b in 0..BLOCKS {
        store.write_block(b, &data)?;
    }
    store.flush()?;
    let mut buf = vec![0u8; bs];
    let time = |f: &mut dyn FnMut() -> Result<()>| -> Result<f64> {
        let t = Instant::now();
        f()?;
        Ok(t.elapsed().as_secs_f64() * 1e6)
    };
    let mut reads = Vec::with_capacity(samples);
    let mut writes = Vec::with_capacity(samples);
    for _ in 0..samples {
        let b = rng.random_range(0..BLOCKS);
        reads.push(time(&mut || Ok(store.read_block(b, &mut buf)?))?);
        let b = rng.random_range(0..BLOCKS);
        writes.push(time(&mut || Ok(store.write_block(b, &data)?))?);
    }
    let mut flushes = Vec::with_capacity(samples / 10 + 1);
    for _ in 0..samples / 10 + 1 {
        let b = rng.random_range(0..BLOCKS);
        store.write_block(b, &data)?;
        flushes.push(time(&mut || Ok(store.flush()?))?);
    }
    drop(store);
    let _ = std::fs::remove_file(&img);
    // A metadata record: the journal appends about 32 bytes per table entry.
    let journal = dir.join("calibrate-scratch.owm");
    let mut f = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&journal)
        .with_context(|| format!("{}: cannot create", journal.display()))?;
    let record = [0x5Au8; 32];
    let mut appends = Vec::with_capacity(samples);
    for _ in 0..samples {
        appends.push(time(&mut || Ok(f.write_all(&record)?))?);
    }
    drop(f);
    let _ = std::fs::remove_file(&journal);
    Ok(Measured {
        read_us: median_us(reads),
        write_us: median_us(writes),
        flush_us: median_us(flushes),
        append_us: median_us(appends),
    })
}

fn ticks(us: f64) -> u64 {
    us.round().max(1.0) as u64
}

/// The phases of the experiment, with the VLUN fio writes in each.
const PHASES: [(&str, Vlun); 3] = [
    ("before split", Vlun::A),
    ("backup window", Vlun::B),
    ("after retire", Vlun::B),
];

/// Total counted operations of `writes` first-touch random block writes in each phase
/// of `variant`, on an in-memory device of the same geometry as the fio experiment.
fn pattern_costs(variant: Variant, bs: usize, writes: u64) -> Result<[IoCost; 3]> {
    let volume_blocks = writes * 2;
    let d = Device::in_memory(variant, bs, volume_blocks)?;
    let data = vec![0x44u8; bs];
    let mut order: Vec<u64> = (0..writes).collect();
    order.shuffle(&mut StdRng::seed_from_u64(2));
    let mut out = [IoCost::default(); 3];
    for (i, (_, vlun)) in PHASES.iter().enumerate() {
        match i {
            1 => d.split()?,
            2 => {
                d.backup_a(&mut std::io::sink())?;
                d.retire_a()?;
            }
            _ => {}
        }
        for &b in &order {
            out[i].add(d.write(*vlun, b, &data)?);
        }
    }
    Ok(out)
}

pub fn calibrate(args: &CalibrateArgs) -> Result<()> {
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("{}: cannot create", args.dir.display()))?;
    let m = measure(&args.dir, args.block_size, args.samples.max(10))?;
    let profile = DeviceModelConfig {
        read_latency_ticks: ticks(m.read_us),
        write_latency_ticks: ticks(m.write_us),
        table_update_latency_ticks: ticks(m.append_us),
        table_lookup_latency_ticks: 0,
        flush_latency_ticks: ticks(m.flush_us),
        channels: 1,
        jitter_ticks_max: 0,
    };
    let text = format!(
        "# owm calibrate {dir}: medians of {n} samples, {bs}-byte blocks, 1 tick = 1 us.\n\
         # Measured: read {r:.1} us, write {w:.1} us, flush {f:.1} us, 32-byte journal append {a:.1} us.\n\
         # Paste into a scenario file.\n\
         [device]\n\
         read_latency_ticks = {rt}\n\
         write_latency_ticks = {wt}\n\
         table_update_latency_ticks = {at}\n\
         table_lookup_latency_ticks = 0\n\
         flush_latency_ticks = {ft}\n\
         channels = 1\n\
         jitter_ticks_max = 0\n",
        dir = args.dir.display(),
        n = args.samples,
        bs = args.block_size,
        r = m.read_us,
        w = m.write_us,
        f = m.flush_us,
        a = m.append_us,
        rt = profile.read_latency_ticks,
        wt = profile.write_latency_ticks,
        at = profile.table_update_latency_ticks,
        ft = profile.flush_latency_ticks,
    );
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.dir.join("device-profile.toml"));
    reports::write_atomic(&out, text.as_bytes())
        .with_context(|| format!("{}: cannot write the profile", out.display()))?;
    say!("{text}");
    say!("profile written to {}", out.display());
    say!("");
    say!(
        "predicted mean service per 4 KiB random write ({} first-touch writes per phase), µs:",
        args.pattern_writes
    );
    say!(
        "{:<10} {:<14} {:>10} {:>9}",
        "variant",
        "phase",
        "service",
        "slowdown"
    );
    for variant in Variant::ALL {
        let costs = pattern_costs(variant, args.block_size, args.pattern_writes)?;
        let n = args.pattern_writes as f64;
        let service: Vec<f64> = costs
            .iter()
            .map(|c| profile.service_ticks(c) as f64 / n)
            .collect();
        for (i, (phase, _)) in PHASES.iter().enumerate() {
            say!(
                "{:<10} {:<14} {:>10.1} {:>9.2}",
                variant.as_str(),
                phase,
                service[i],
                service[i] / service[0]
            );
        }
    }
    Ok(())
}
