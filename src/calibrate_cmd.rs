//! `owm calibrate DIR`: measures the file store's block read, block write and image
//! flush, and the metadata journal's record append and sync, on the file system of
//! `DIR`, each the way the file-backed engine issues it (`FileStore`, `FileJournal`);
//! writes them as a device profile (a `[device]` table the simulator's scenario files
//! accept, 1 tick = 1 µs); then runs the simulator with that profile on the pattern of
//! the NBD experiment (`serve/bench/fio-phases.sh`: random 4 KiB writes, each block of
//! a region once, closed loop at queue depth 1 and 8) in each phase of each variant,
//! and prints the predicted IOPS, mean latency and slowdown.

use engine::shown::ShowName as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::verdict::Exit;
use engine::meta::{FileJournal, Journal, MetaRecord};
use engine::{BlockStore, FileStore, Variant};
use rand::{rngs::StdRng, seq::SliceRandom, Rng, SeedableRng};
use sim::workload::trace::{Addresses, Grouping, Timing, TraceFormat};
use sim::{DeviceModelConfig, GeometryConfig, Outcome, Policy, RunResult, Scenario, Tick};

/// Arguments of `owm calibrate`.
#[derive(clap::Args)]
pub struct CalibrateArgs {
    /// An existing directory on the file system to measure. A measurement writes its
    /// scratch files in a directory of its own made there (`.owm-calibrate-XXXXXX`,
    /// removed however the command ends but `kill -9`): an image of 4096 blocks, one of
    /// --pattern-writes blocks and a journal: (4096 + --pattern-writes) × --block-size
    /// bytes, and the journal's, at most 1 MiB and 128 bytes a sample (49.2 MiB at the
    /// defaults); more than
    /// 128 GiB, or more than DIR's free space less a tenth of it (at least 256 MiB
    /// kept free), is refused before anything is written. The profile and the
    /// pattern's traces, calibrate-pattern-qd1.csv and calibrate-pattern-qd8.csv,
    /// stay, also with --profile (which measures nothing and writes no scratch).
    pub dir: PathBuf,
    /// Block size, bytes: a multiple of 8 from 16 to 16777216 (16 MiB, as a scenario's
    /// geometry.block_size_bytes of one record per block).
    #[arg(long, allow_negative_numbers = true, default_value_t = 4096, value_parser = parse_block_size)]
    pub block_size: usize,
    /// Samples of each block read, block write and journal append (the mean is kept),
    /// 10 to 1000000; the barriers (image flush, journal sync) take a tenth as many
    /// (1 to 1024), each a slow call. Refused beside --profile, which measures nothing.
    #[arg(long, allow_negative_numbers = true, default_value_t = 2000, value_parser = parse_samples, conflicts_with = "profile")]
    pub samples: usize,
    /// Where the profile goes (default DIR/device-profile.toml; with --profile, the
    /// profile priced, its barriers from --barrier-timings, is written only here),
    /// replaced whole (through a symbolic link, the file it leads to; the link is
    /// kept). A link into /proc (/dev/stdout), this command's own output file or the
    /// owm executable is refused (exit 2).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Blocks written in each phase of the predicted pattern (fio's job over a region
    /// of this many blocks: each block once, in random order; 8192 = 32 MiB of 4 KiB),
    /// 1 to 1048576. Every write takes at least --baseline-latency-us: their product
    /// must fit the 99,990 s of virtual time a phase's run holds for the writes.
    #[arg(long, allow_negative_numbers = true, default_value_t = 8192, value_parser = parse_pattern_writes)]
    pub pattern_writes: u64,
    /// The mean latency, µs, of the same fio job against a raw file over NBD (nbdkit's
    /// file plugin, BENCHMARKS.md "Calibration"): what a request costs through the
    /// transport and a bare file. It less the measured block write is the time each
    /// write spends outside the device (the NBD round trip, the server's own work),
    /// simulated as the transaction's compute time. Default 0: none. Finite, 0 to
    /// 1000000000 µs.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.0, value_parser = parse_baseline_latency_us)]
    pub baseline_latency_us: f64,
    /// Predict from this profile (one `owm calibrate` wrote) instead of measuring (the
    /// pattern's traces are still written into DIR).
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// Price the pattern on a device without the metadata journal (its syncs unpaid,
    /// every flush at the image flush's latency): the cost model before journal syncs
    /// were counted, for comparison.
    #[arg(long)]
    pub without_journal: bool,
    /// Take the barriers' latencies from the served device instead: the JSON that
    /// `owm device timings --json` printed after a phase (the engine's own image
    /// flushes and journal syncs, timed where it issued them, under the load of that
    /// moment). The image flush latency is the mean over both images' flushes, the
    /// journal sync's the mean `fdatasync` plus the mean superblock write; a kind the
    /// phase did not issue keeps the profile's value. The profile printed (and written,
    /// when measured) carries them.
    #[arg(long)]
    pub barrier_timings: Option<PathBuf>,
}

/// `--samples`' range: fewer than 10 samples give no mean worth keeping (and a tenth
/// of them, the barriers measured, would be none); more than 10^6 only take longer.
const SAMPLES: std::ops::RangeInclusive<usize> = 10..=1_000_000;

/// `--pattern-writes`' range: at least one write to predict; at most 2^20 blocks (a
/// 4 GiB region of 4 KiB blocks written on `DIR`). The pattern is priced by 18 runs
/// of the simulator, each holding every write of the trace and its record: at 2^20
/// writes a run takes a few seconds and some hundreds of MiB; the traces hold about
/// 30 MiB each. A run cannot take a trace past [`sim::workload::trace::TRACE_IOS_MAX`]
/// I/Os (10^7) at all, and long before that the 18 runs take many minutes and GiBs.
const PATTERN_WRITES: std::ops::RangeInclusive<u64> = 1..=1 << 20;

/// `--baseline-latency-us`' largest value, µs (1000 s per request).
const BASELINE_LATENCY_US_MAX: f64 = 1e9;

/// `--block-size`' smallest value: the pattern's scenario keeps one record per block,
/// and a record needs at least 16 bytes (`geometry.records_per_block`'s check).
const BLOCK_SIZE_MIN: usize = 16;

/// `--block-size`: a multiple of 8 bytes from [`BLOCK_SIZE_MIN`] to
/// [`sim::BLOCK_BYTES_MAX`] (16 MiB): the block sizes a scenario's
/// `geometry.block_size_bytes` allows for one record per block, since the profile and
/// the pattern are priced by a run of that geometry.
fn parse_block_size(s: &str) -> std::result::Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n.is_multiple_of(8) && (BLOCK_SIZE_MIN..=sim::BLOCK_BYTES_MAX).contains(&n) => {
            Ok(n)
        }
        _ => Err(format!(
            "`{s}`: expected a block size in bytes, a multiple of 8 from {BLOCK_SIZE_MIN} to \
             {} (16 MiB)",
            sim::BLOCK_BYTES_MAX
        )),
    }
}

/// `--samples`: an integer in [`SAMPLES`].
fn parse_samples(s: &str) -> std::result::Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if SAMPLES.contains(&n) => Ok(n),
        _ => Err(format!(
            "`{s}`: expected {}..={} samples",
            SAMPLES.start(),
            SAMPLES.end()
        )),
    }
}

/// `--pattern-writes`: an integer in [`PATTERN_WRITES`].
fn parse_pattern_writes(s: &str) -> std::result::Result<u64, String> {
    match s.parse::<u64>() {
        Ok(n) if PATTERN_WRITES.contains(&n) => Ok(n),
        _ => Err(format!(
            "`{s}`: expected {}..={} blocks (the largest the pattern's runs hold)",
            PATTERN_WRITES.start(),
            PATTERN_WRITES.end()
        )),
    }
}

/// `--baseline-latency-us`: a finite number of µs, 0 to [`BASELINE_LATENCY_US_MAX`]. A
/// value above 0 but below 0.5 µs is refused: the simulator counts whole µs (ticks),
/// to which it rounds to no baseline at all.
fn parse_baseline_latency_us(s: &str) -> std::result::Result<f64, String> {
    let us = s.parse::<f64>().unwrap_or(f64::NAN);
    if us > 0.0 && us < 0.5 {
        Err(format!(
            "`{s}`: below 0.5 µs, which rounds to no baseline (the simulator counts whole \
             µs); give 0 for none, or at least 0.5"
        ))
    } else if us.is_finite() && (0.0..=BASELINE_LATENCY_US_MAX).contains(&us) {
        Ok(us)
    } else {
        Err(format!(
            "`{s}`: expected µs, a finite number from 0 to {BASELINE_LATENCY_US_MAX}"
        ))
    }
}

/// Measured means, microseconds (fractional).
struct Measured {
    read_us: f64,
    write_us: f64,
    flush_us: f64,
    append_us: f64,
    journal_sync_us: f64,
}

/// The mean: what fio reports and the simulator prices. A barrier's latency is
/// heavy-tailed (BENCHMARKS.md, "The barriers inside the served engine": a journal
/// `fdatasync`'s median 524 µs, its mean 2,737 µs), so a median would price it 2-5× low.
fn mean_us(v: Vec<f64>) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn time(f: &mut dyn FnMut() -> Result<()>) -> Result<f64> {
    let t = Instant::now();
    f()?;
    Ok(t.elapsed().as_secs_f64() * 1e6)
}

/// The scratch files of a measurement, removed when it ends, whether it completed or
/// failed part way.
struct Scratch(Vec<PathBuf>);

impl Scratch {
    /// `path`, to be removed with the others.
    fn add(&mut self, path: PathBuf) -> PathBuf {
        self.0.push(path.clone());
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The system refused the memory for one of the measurement's one-block buffers (a
/// large `--block-size` under memory pressure): nothing was measured or written.
/// Bad input for the exit status (2), as a `--block-size` the command cannot run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferRefused {
    /// The buffer's size: the block size.
    pub bytes: usize,
}

impl std::fmt::Display for BufferRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "--block-size {b}: out of memory: cannot allocate a buffer of {b} bytes to measure \
             the file store's blocks; nothing was measured or written (try again once memory \
             is free, or give a smaller --block-size)",
            b = self.bytes
        )
    }
}

impl std::error::Error for BufferRefused {}

/// `bs` bytes made by `byte` (of each index), asked for fallibly ([`BufferRefused`]).
fn block_buffer(bs: usize, byte: impl Fn(usize) -> u8) -> Result<Vec<u8>, BufferRefused> {
    let refused = BufferRefused { bytes: bs };
    #[cfg(test)]
    if bs > buffer_cap::get() {
        return Err(refused);
    }
    let mut v = Vec::new();
    v.try_reserve_exact(bs).map_err(|_| refused)?;
    v.extend((0..bs).map(byte));
    Ok(v)
}

/// Tests: a per-thread cap on [`block_buffer`], standing in for a system that
/// refuses memory.
#[cfg(test)]
mod buffer_cap {
    use std::cell::Cell;

    thread_local! {
        static CAP: Cell<usize> = const { Cell::new(usize::MAX) };
    }

    pub(super) fn set(cap: usize) {
        CAP.with(|c| c.set(cap));
    }

    pub(super) fn get() -> usize {
        CAP.with(Cell::get)
    }
}

/// Blocks of the measured image.
const BLOCKS: u64 = 4096;

/// The samples of each barrier among `samples`: a tenth, at least 1, at most what the
/// scratch image's never-written half holds at two fresh blocks a barrier (1,024).
fn barrier_samples(samples: usize) -> usize {
    (samples / 10).clamp(1, (BLOCKS / 2 / 2) as usize)
}

/// The most a journal record appended takes in the scratch journal, bytes (the
/// engine's largest append frame is 40).
const JOURNAL_RECORD_BYTES_MAX: u64 = 64;

/// The most the scratch journal's header and superblock take, bytes.
const JOURNAL_FIXED_BYTES_MAX: u64 = 1 << 20;

/// The most scratch a measurement writes, bytes (128 GiB): at 16 MiB blocks, the
/// image and a region of 4096 blocks.
pub const SCRATCH_BYTES_MAX: u64 = 128 << 30;

/// The least free space a measurement leaves on DIR's file system, bytes: 256 MiB
/// (and at least a tenth of what was free).
const SCRATCH_FREE_LEFT_MIN: u64 = 256 << 20;

/// The bytes a measurement writes at most in its scratch directory, for block size
/// `bs`, `samples` samples and a region of `region_blocks` blocks: the image of
/// [`BLOCKS`] blocks (half filled, then written at random and at never-written
/// blocks), the region written whole, and the journal's records.
pub fn scratch_bytes(bs: usize, samples: usize, region_blocks: u64) -> u64 {
    let blocks = BLOCKS.saturating_add(region_blocks.max(1));
    blocks
        .saturating_mul(bs as u64)
        .saturating_add(
            (samples as u64).saturating_mul(2).saturating_add(1) * JOURNAL_RECORD_BYTES_MAX,
        )
        .saturating_add(JOURNAL_FIXED_BYTES_MAX)
}

/// Why a measurement of `bytes` of scratch may not run on a file system with `free`
/// bytes free (`None`: it may): past [`SCRATCH_BYTES_MAX`], or past `free` less a
/// tenth of it (at least [`SCRATCH_FREE_LEFT_MIN`]). The words name the flags that
/// size it (`flags`) and the directory.
fn scratch_refusal(bytes: u64, free: u64, flags: &str, dir: &Path) -> Option<String> {
    let gib = |b: u64| b as f64 / f64::from(1u32 << 30);
    let sized = format!(
        "{flags}: the measurement writes up to {bytes} bytes ({:.2} GiB) of scratch files in \
         {} ((4096 + --pattern-writes) × --block-size, and the journal)",
        gib(bytes),
        dir.shown()
    );
    let lower = "lower --block-size or --pattern-writes, or predict from a profile with \
                 --profile (no measurement)";
    if bytes > SCRATCH_BYTES_MAX {
        return Some(format!(
            "{sized}, past the {SCRATCH_BYTES_MAX} bytes (128 GiB) it may write; {lower}"
        ));
    }
    let keep = (free / 10).max(SCRATCH_FREE_LEFT_MIN);
    if bytes > free.saturating_sub(keep) {
        return Some(format!(
            "{sized}, but its file system has {free} bytes ({:.2} GiB) free, of which the \
             measurement leaves a tenth and at least {SCRATCH_FREE_LEFT_MIN} bytes; free \
             space or {lower}",
            gib(free)
        ));
    }
    None
}

/// The bytes free to an unprivileged user on `dir`'s file system.
fn free_bytes(dir: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    // SAFETY: `path` is a NUL-terminated string and `st` a buffer statvfs fills.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(path.as_ptr(), &mut st) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    #[allow(clippy::unnecessary_cast)]
    Ok((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

/// Refuses a measurement whose scratch files ([`scratch_bytes`]) do not fit: see
/// [`scratch_refusal`]. Nothing is written.
fn refuse_scratch(args: &CalibrateArgs, dir: &Path) -> Result<()> {
    let bytes = scratch_bytes(args.block_size, args.samples, args.pattern_writes);
    let free = free_bytes(dir).map_err(|e| {
        anyhow::anyhow!(
            "{}: cannot read its file system's free space: {e}",
            dir.shown()
        )
    })?;
    let flags = format!(
        "--block-size {} with --pattern-writes {}",
        args.block_size, args.pattern_writes
    );
    match scratch_refusal(bytes, free, &flags, dir) {
        Some(why) => bail!("{why}"),
        None => Ok(()),
    }
}

/// A command stopped by a signal ([`crate::interrupt`]) at a safe point, `when`:
/// nothing published.
#[derive(Debug)]
struct Stopped {
    when: &'static str,
}

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "interrupted {}", self.when)
    }
}

impl std::error::Error for Stopped {}

/// Fails with [`Stopped`] once a signal asked the command to stop.
fn stop_point(when: &'static str) -> Result<()> {
    if crate::interrupt::requested() {
        return Err(Stopped { when }.into());
    }
    Ok(())
}

fn measure(dir: &Path, bs: usize, samples: usize, region_blocks: u64) -> Result<Measured> {
    const MEASURING: &str = "while measuring";
    // The block buffers first: refused, nothing is made in DIR.
    let data = block_buffer(bs, |i| (i % 251) as u8)?;
    let mut buf = block_buffer(bs, |_| 0)?;
    // Every scratch file in a directory of its own, so no file of DIR is touched; it
    // goes with all it holds when the measurement ends, completed, failed or stopped.
    let scratch_dir = tempfile::Builder::new()
        .prefix(".owm-calibrate-")
        .tempdir_in(dir)
        .map_err(engine::atomic::plain)
        .map_err(|e| {
            anyhow::anyhow!(
                "{}: cannot make the measurement's scratch directory: {e}",
                dir.shown()
            )
        })?;
    let quit = crate::interrupt::remove_on_quit(scratch_dir.path());
    let mut scratch = Scratch(Vec::new());
    let img = scratch.add(scratch_dir.path().join("image.img"));
    let store = FileStore::create(&img, bs, BLOCKS)?;
    let mut rng = StdRng::seed_from_u64(1);
    // Fill the first half: a read of a hole is not a read of the disk. The second half
    // stays sparse, as a new device's images are: the pattern's writes and barriers
    // land on never-written blocks, which the file system allocates.
    let filled = BLOCKS / 2;
    for b in 0..filled {
        stop_point(MEASURING)?;
        store.write_block(b, &data)?;
    }
    store.flush()?;
    crate::outdir::pause_point("calibrate-measure");
    let mut fresh: Vec<u64> = (filled..BLOCKS).collect();
    fresh.shuffle(&mut rng);
    let mut fresh = fresh.into_iter();
    let mut reads = Vec::with_capacity(samples);
    let mut writes = Vec::with_capacity(samples);
    for _ in 0..samples {
        stop_point(MEASURING)?;
        let b = rng.random_range(0..filled);
        reads.push(time(&mut || Ok(store.read_block(b, &mut buf)?))?);
        let b = rng.random_range(0..BLOCKS);
        writes.push(time(&mut || Ok(store.write_block(b, &data)?))?);
    }
    store.flush()?;
    // The metadata journal as the engine keeps it: one record appended per table
    // update; a sync is the journal's fdatasync, then the superblock recording the
    // durable length, written and synced.
    let path = scratch.add(scratch_dir.path().join("journal.owm"));
    scratch.add(engine::superblock::path_of(&path));
    let header = MetaRecord::Header {
        variant: Variant::CopyOnWrite,
        block_size: u32::try_from(bs).context("--block-size past a 32-bit header field")?,
        volume_blocks: BLOCKS,
        area_slots: BLOCKS,
        device_id: [0; 16],
        generation: 0,
        integrity: false,
        nonce: 0,
    };
    let mut journal = FileJournal::create(&path, &[header])?;
    // The state the pattern's barriers meet: the phase before the split wrote every
    // block of the region once and nothing flushed it (the file system still holds
    // those writes, unallocated or unwritten, when the backup window's barriers run).
    let region_path = scratch.add(scratch_dir.path().join("region.img"));
    let region = FileStore::create(&region_path, bs, region_blocks.max(1))?;
    for b in 0..region_blocks {
        stop_point(MEASURING)?;
        region.write_block(b, &data)?;
    }
    // A first write's barriers, in the engine's order, each after a block written to a
    // never-written block of the image: an image flush (a copy-on-write preserved copy,
    // a write-logging log slot), and a journal record appended and synced (a durable
    // table entry, a mirroring dirty mark).
    let barriers = barrier_samples(samples);
    debug_assert!(2 * barriers as u64 <= BLOCKS - filled);
    let mut flushes = Vec::with_capacity(barriers);
    let mut syncs = Vec::with_capacity(barriers);
    for i in 0..barriers as u64 {
        stop_point(MEASURING)?;
        store.write_block(fresh.next().expect("sized above"), &data)?;
        flushes.push(time(&mut || Ok(store.flush()?))?);
        store.write_block(fresh.next().expect("sized above"), &data)?;
        let record = MetaRecord::Insert {
            block: i,
            slot: i as u32,
        };
        journal.append(&record)?;
        syncs.push(time(&mut || Ok(journal.sync()?))?);
    }
    let mut appends = Vec::with_capacity(samples);
    for i in 0..samples as u64 {
        stop_point(MEASURING)?;
        let record = MetaRecord::Remove { block: i % BLOCKS };
        appends.push(time(&mut || Ok(journal.append(&record)?))?);
    }
    drop(store);
    drop(journal);
    drop(region);
    drop(scratch);
    scratch_dir.close().map_err(|e| {
        anyhow::anyhow!(
            "{}: cannot remove the measurement's scratch directory: {e}",
            dir.shown()
        )
    })?;
    drop(quit);
    Ok(Measured {
        read_us: mean_us(reads),
        write_us: mean_us(writes),
        flush_us: mean_us(flushes),
        append_us: mean_us(appends),
        journal_sync_us: mean_us(syncs),
    })
}

fn ticks(us: f64) -> u64 {
    us.round().max(1.0) as u64
}

fn ticks_or_zero(us: f64) -> u64 {
    us.round().max(0.0) as u64
}

/// The phases of the experiment.
#[derive(Clone, Copy, PartialEq)]
enum Phase {
    /// The single volume (VLUN A) on the variant's device before its split (the backup
    /// is requested long after the pattern).
    Before,
    /// VLUN B after the split; VLUN A still live (its archive not yet complete).
    Window,
    /// VLUN B after VLUN A was archived and retired.
    After,
}

const PHASES: [(Phase, &str); 3] = [
    (Phase::Before, "before split"),
    (Phase::Window, "backup window"),
    (Phase::After, "after retire"),
];

/// Queue depths of the experiment.
const DEPTHS: [u32; 2] = [1, 8];

/// When the pattern's writers start, after the read that starts the run's clock
/// ([`writers_start`]): late enough for the split, the archive copy (of no data: VLUN
/// A holds none) and the retirement of VLUN A to be over in the after-retire phase
/// (checked).
const WRITERS_START_TICKS: Tick = 10_000_000;

/// The longest time or duration a scenario field may give ([`sim::scenario::FIELD_TICKS_MAX`]).
const FIELD_TICKS_MAX: Tick = sim::scenario::FIELD_TICKS_MAX;

/// The backup request of the "before split" phase: far past any pattern's last write
/// (10^5 s of virtual time), so every write runs on the unsplit device.
const BEFORE_REQUEST_TICKS: Tick = 100_000_000_000;

/// Writes the pattern as a CSV trace: a read of block 0 at time 0 (it starts the run's
/// clock, so the backup request at tick 0 comes first), then every block of the region
/// once, in random order, dealt round-robin to `depth` streams that start together
/// (closed loop: each stream issues its next write when the previous one completes).
/// The writers start at `start`. The trace goes to a temporary file beside its place
/// in DIR, put there by [`publish_all`] once every run on it succeeded.
fn write_pattern(dir: &Path, bs: usize, blocks: u64, depth: u32, start: Tick) -> Result<Pending> {
    let mut order: Vec<u64> = (0..blocks).collect();
    order.shuffle(&mut StdRng::seed_from_u64(2));
    let mut text = String::from("time,op,offset,length,stream\n");
    text.push_str(&format!("0,R,0,{bs},start\n"));
    for (i, b) in order.iter().enumerate() {
        text.push_str(&format!(
            "{start},W,{},{bs},w{}\n",
            b * bs as u64,
            i as u64 % u64::from(depth)
        ));
    }
    let path = dir.join(format!("calibrate-pattern-qd{depth}.csv"));
    Pending::new(path, text.as_bytes(), "cannot write the pattern")
}

/// A new file written whole beside its place, not yet put there (dropped: removed).
struct Pending {
    tmp: tempfile::NamedTempFile,
    target: PathBuf,
    /// The temporary file removed if a second signal ends the process before it is
    /// put in place or dropped (dropped after `tmp`, which removes it itself).
    _quit: crate::interrupt::QuitRemoval,
}

impl Pending {
    /// `bytes` written and synced to a temporary file beside `target`'s file (where a
    /// symbolic link leads: [`engine::atomic::write_target`]; the link is kept); an
    /// error names `target` and says `what` failed.
    fn new(target: PathBuf, bytes: &[u8], what: &str) -> Result<Pending> {
        use std::io::Write;
        let fail = |e: std::io::Error| {
            let e = engine::atomic::plain(e);
            anyhow::anyhow!("{}: {what}: {e}", target.shown())
        };
        let target = engine::atomic::write_target(&target).map_err(fail)?;
        engine::atomic::remove_stale_temporaries(&target);
        let mut tmp = engine::atomic::temporary_beside(&target).map_err(fail)?;
        #[cfg(unix)]
        {
            // An ordinary file others may read, as every file owm writes whole.
            use std::os::unix::fs::PermissionsExt;
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644))
                .map_err(fail)?;
        }
        let _quit = crate::interrupt::remove_on_quit(tmp.path());
        tmp.write_all(bytes).map_err(fail)?;
        tmp.as_file().sync_all().map_err(fail)?;
        Ok(Pending { tmp, target, _quit })
    }

    /// Where the new file is until it is put in place.
    fn path(&self) -> &Path {
        self.tmp.path()
    }
}

/// Puts every pending file in its place, or none: on a failure each target holds what
/// it held before (its old file, or nothing), the new files are removed, and the error
/// names the target that failed. An old file is kept under a temporary name beside it
/// until every new file is in place.
fn publish_all(files: Vec<Pending>) -> Result<()> {
    for f in &files {
        engine::atomic::replaceable(&f.target)
            .map_err(|e| anyhow::anyhow!("{}: cannot replace it: {e}", f.target.shown()))?;
    }
    put_in_place(files)
}

/// [`publish_all`] past its up-front checks: each file renamed over its target, the
/// old one kept aside; on the first failure every target done so far gets its old
/// file back (or none).
fn put_in_place(files: Vec<Pending>) -> Result<()> {
    // (target, the old file's temporary name) of each file put in place so far.
    let mut done: Vec<(PathBuf, Option<tempfile::TempPath>)> = Vec::new();
    let mut failure = None;
    for f in files {
        let target = f.target.clone();
        let old = match keep_old(&target) {
            Ok(old) => old,
            Err(e) => {
                failure = Some(anyhow::anyhow!(
                    "{}: cannot replace it: {e}",
                    target.shown()
                ));
                break;
            }
        };
        match f.tmp.persist(&target) {
            Ok(_) => done.push((target, old)),
            Err(e) => {
                done.push((target.clone(), old));
                let _ = std::fs::remove_file(e.file.path());
                failure = Some(anyhow::anyhow!(
                    "{}: cannot replace it: {}",
                    target.shown(),
                    e.error
                ));
                break;
            }
        }
    }
    let Some(failure) = failure else {
        for dir in done.iter().filter_map(|(t, _)| t.parent()) {
            if let Ok(d) = std::fs::File::open(dir) {
                // Best effort: some file systems refuse to sync a directory handle.
                let _ = d.sync_all();
            }
        }
        // The old files go with their temporary names (dropped).
        return Ok(());
    };
    for (target, old) in done.into_iter().rev() {
        match old {
            Some(old) => {
                let _ = old.persist(&target);
            }
            None => {
                // A new file where there was none, unless the rename never happened.
                if std::fs::symlink_metadata(&target).is_ok_and(|m| m.is_file()) {
                    let _ = std::fs::remove_file(&target);
                }
            }
        }
    }
    Err(failure)
}

/// `target`'s file moved to a temporary name beside it (kept until dropped), if there
/// is one; a missing `target` keeps nothing.
fn keep_old(target: &Path) -> std::io::Result<Option<tempfile::TempPath>> {
    if std::fs::symlink_metadata(target).is_err() {
        return Ok(None);
    }
    let keep = engine::atomic::temporary_beside(target)?.into_temp_path();
    std::fs::rename(target, &keep)?;
    Ok(Some(keep))
}

/// When the pattern's writers start: [`WRITERS_START_TICKS`] after the read that
/// starts the run's clock, which spends `overhead` outside the device as every I/O of
/// the trace does (the split waits for it).
fn writers_start(overhead: Tick) -> Tick {
    WRITERS_START_TICKS.saturating_add(overhead)
}

/// The scenario of one phase: the pattern's trace replayed closed-loop on a device of
/// `profile`; the backup requested at tick 0 (window and after-retire phases), with an
/// archive target that takes 100 s per extent in the window phase (so VLUN A is still
/// live while the writers run) and the default one (100 MB/s) after retire.
fn scenario(
    trace: &Path,
    bs: usize,
    profile: &DeviceModelConfig,
    variant: Variant,
    phase: Phase,
    overhead: Tick,
    blocks: u64,
) -> Result<Scenario> {
    let mut s = Scenario {
        name: format!("calibrate-{}", variant.as_str()),
        workload: sim::WorkloadConfig::Trace(sim::TraceConfig {
            path: trace.to_path_buf(),
            format: TraceFormat::Csv,
            timing: Timing::Closed,
            grouping: Grouping::Io,
            addresses: Addresses::AsRecorded,
            compute_ticks: overhead,
            // fio's random writes are blind: each writes its whole block unread.
            write_kind: sim::WriteKind::Blind,
            ..sim::TraceConfig::default()
        }),
        geometry: GeometryConfig {
            block_size_bytes: bs,
            records_per_block: 1,
        },
        device: profile.clone(),
        keep_history: false,
        keep_timeline: true,
        ..Scenario::default()
    };
    // Before the split the device is the variant's own (mirroring already pays its
    // second write): the backup is requested long after the pattern's last write.
    s.backup.request_at_ticks = Some(if phase == Phase::Before {
        BEFORE_REQUEST_TICKS
    } else {
        0
    });
    s.backup.baseline_variant = variant;
    if phase == Phase::Window {
        // One extent that lands as late as the before-split phase's request: VLUN A
        // is live for as long as any write of that phase may run.
        s.archive.latency_ticks = BEFORE_REQUEST_TICKS;
        s.archive.extent_blocks = blocks.max(1);
    }
    if phase == Phase::After {
        // VLUN A holds no data (the writers start after its retirement, the read that
        // starts the clock writes nothing): a copy that skips holes is over at once,
        // however large the region.
        s.archive.sparse = true;
    }
    // The region is the volume, whatever its size (it is 2^20 blocks at most).
    s.limits.volume_bytes_max = s
        .limits
        .volume_bytes_max
        .max(blocks.saturating_mul(bs as u64));
    s.load_trace(Path::new("/"))?;
    Ok(s)
}

/// Predicted IOPS and mean latency (µs) of the pattern's writes in one run.
struct Predicted {
    iops: f64,
    latency_us: f64,
}

/// How the pattern was run: when its writers start, and the time each write spends
/// outside the device (from `--baseline-latency-us`), for the words of a misfit.
#[derive(Clone, Copy)]
struct Run {
    start: Tick,
    overhead: Tick,
}

fn predicted(r: &RunResult, phase: Phase, writes: u64, run: Run) -> Result<Predicted> {
    let start = run.start;
    let w: Vec<(Tick, Tick)> = r
        .transactions
        .iter()
        .filter(|t| t.arrived_ticks >= start && t.outcome == Outcome::Committed)
        .filter_map(|t| Some((t.arrived_ticks, t.ended_ticks?)))
        .collect();
    if w.len() as u64 != writes {
        bail!("{} of {writes} pattern writes committed", w.len());
    }
    let last = w.iter().map(|&(_, e)| e).max().unwrap_or(start);
    let retire = r.marks.retire;
    let live_a = match phase {
        Phase::Before => r.marks.split.is_none_or(|t| t > last),
        Phase::Window => r.marks.split.is_some() && retire.is_none_or(|t| t > last),
        Phase::After => retire.is_some_and(|t| t < start),
    };
    if !live_a {
        bail!("{}", misfit(phase, r.marks.split, retire, last, run));
    }
    let span = (last - start).max(1) as f64;
    let total: Tick = w.iter().map(|&(a, e)| e - a).sum();
    Ok(Predicted {
        iops: w.len() as f64 / span * 1e6 / sim::TICK_US as f64,
        latency_us: total as f64 / w.len() as f64 * sim::TICK_US as f64,
    })
}

/// What in a run of `phase` does not fit the phase, in words: when the backup's
/// split (`split`) and the retirement of VLUN A (`retire`) came against the pattern's
/// last write (`last`), and what to change.
fn misfit(phase: Phase, split: Option<Tick>, retire: Option<Tick>, last: Tick, run: Run) -> String {
    let secs = |t: Tick| t as f64 * sim::TICK_US as f64 / 1e6;
    let device = "the profile's device is too slow for the pattern: lower --pattern-writes, \
         or lower the profile's `device.write_latency_ticks` and barrier latencies \
         (`device.flush_latency_ticks`, `device.journal_sync_latency_ticks`) or raise \
         `device.transfer_bytes_per_s`";
    let slower = if run.overhead == 0 {
        device.to_string()
    } else {
        format!(
            "each write spends {} µs outside the device (--baseline-latency-us less the \
             block write) besides its time in the device; lower --baseline-latency-us or \
             --pattern-writes, or {}",
            run.overhead * sim::TICK_US,
            device.replacen(
                "the profile's device is too slow for the pattern: lower --pattern-writes, or ",
                "",
                1
            )
        )
    };
    let start = run.start;
    match phase {
        Phase::Before => format!(
            "the pattern's writes ran until {:.0} s of virtual time, past the backup \
             request at {:.0} s that must come after them in this phase; {slower}",
            secs(last),
            secs(BEFORE_REQUEST_TICKS)
        ),
        Phase::Window => match split {
            None => "the backup requested at 0 s never split the device, so no write ran \
                     in the backup window; check the profile's `device` keys against the \
                     variant's needs"
                .to_string(),
            Some(_) => format!(
                "VLUN A was retired at {:.0} s, before the pattern's last write at {:.0} s, \
                 so the writes did not all run in the backup window; {slower}",
                secs(retire.unwrap_or_default()),
                secs(last)
            ),
        },
        Phase::After => format!(
            "VLUN A {} (the archive copy of the region must be over by then); the \
             profile's device reads too slowly for it: lower --pattern-writes, or lower \
             `device.read_latency_ticks` or raise `device.sequential_read_bytes_per_s`",
            match retire {
                Some(t) => format!(
                    "was retired at {:.0} s, after the writers start at {:.0} s",
                    secs(t),
                    secs(start)
                ),
                None => format!(
                    "was never retired, and must be before the writers start at {:.0} s",
                    secs(start)
                ),
            }
        ),
    }
}

/// The profile a run of `owm calibrate` wrote (its `[device]` table), for `--profile`:
/// that table and nothing else.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    device: DeviceModelConfig,
}

/// Reads the `--profile` file at `path`. Its errors name the file, the line and the
/// key: a top-level table or key other than `[device]` is refused at its line as
/// unknown ("unknown table `devicex` (expected `[device]`, the one table a device
/// profile holds)"), before a missing `[device]` is.
fn read_profile(path: &Path) -> Result<(DeviceModelConfig, String)> {
    let text = crate::config::read_bounded(path)
        .map_err(|m| anyhow::anyhow!("{}: the profile: {m}", path.shown()))?;
    let file: ProfileFile = toml::from_str(&text).map_err(|e| {
        let mut err = crate::config::FileError::toml(path, &text, &e);
        // A top-level name other than `device` (a nested one is `[device]`'s own
        // unknown key, in serde's words).
        let raw: Option<toml::Table> = toml::from_str(&text).ok();
        let unknown = e
            .message()
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split_once('`'))
            .and_then(|(name, _)| {
                let value = raw.as_ref()?.get(name)?;
                let below = err.key.as_deref().is_none_or(|k| {
                    k == name || k.strip_prefix(name).is_some_and(|r| r.starts_with('.'))
                });
                (name != "device" && below).then(|| (name.to_string(), value.is_table()))
            });
        err.message = match unknown {
            Some((name, table)) => {
                err.key = Some(name.clone());
                let what = if table { "table" } else { "key" };
                format!(
                    "unknown {what} `{name}` (expected `[device]`, the one table a device \
                     profile holds)"
                )
            }
            None => format!("not a device profile: {}", err.message),
        };
        err
    })?;
    Ok((file.device, text))
}

/// The profile's largest latency, as its dotted key and its ticks (a journal sync the
/// profile leaves to the flush's counts as 0: the flush's own key is the one to lower).
fn slowest_latency(p: &DeviceModelConfig) -> (&'static str, Tick) {
    p.latencies()
        .into_iter()
        .max_by_key(|&(_, t)| t)
        .expect("six latencies")
}

/// A failure of the simulator run on the profile of `source`, in its terms: a refused
/// `device` key at its line in the `--profile` file (at the key in a measured one),
/// anything else naming the pattern's run and the flags that shape it.
fn run_error(
    source: &Source,
    profile: &DeviceModelConfig,
    args: &CalibrateArgs,
    e: anyhow::Error,
) -> anyhow::Error {
    match e.downcast::<sim::SimError>() {
        // The pattern's run cannot outlast the time limit on a device of sane latencies
        // (the misfits above catch slow ones first): one latency is far too long. The
        // largest is named, at its line in a `--profile` file.
        Ok(sim::SimError::Limit {
            key: "limits.time_ticks_max",
            what,
        }) => {
            let (key, ticks) = slowest_latency(profile);
            let message = format!(
                "{ticks} ticks: the pattern's run (--pattern-writes {}, --block-size {}) \
                 stopped, {what}: the profile's device is too slow for the pattern; lower \
                 this latency (the largest of the profile's) or --pattern-writes",
                args.pattern_writes, args.block_size
            );
            match source {
                Source::File(path, src) => {
                    crate::config::FileError::key(path, src, key, message).into()
                }
                Source::Measured(_) => {
                    anyhow::anyhow!("{}: key `{key}`: {message}", source.name())
                }
            }
        }
        Ok(sim::SimError::Config { key, message }) if key.starts_with("device.") => match source {
            Source::File(path, src) => {
                crate::config::FileError::key(path, src, &key, message).into()
            }
            Source::Measured(_) => {
                anyhow::anyhow!("{}: key `{key}`: {message}", source.name())
            }
        },
        Ok(e) => anyhow::anyhow!(
            "{}: the pattern's run (--pattern-writes {}, --block-size {}): {e}",
            source.name(),
            args.pattern_writes,
            args.block_size
        ),
        Err(e) => anyhow::anyhow!(
            "{}: the pattern's run (--pattern-writes {}, --block-size {}): {e:#}",
            source.name(),
            args.pattern_writes,
            args.block_size
        ),
    }
}

/// The part of `owm device timings --json` the profile takes: each barrier kind's
/// count and total wall time.
#[derive(serde::Deserialize)]
struct TimingsFile {
    barriers: Barriers,
}

/// Every barrier `owm device timings --json` names, each there (`null` for one the
/// device does not time) and no other: a misspelt or missing name is refused, not
/// read as a barrier never issued.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Barriers {
    #[serde(deserialize_with = "present")]
    image_a_flush: Option<Timed>,
    #[serde(deserialize_with = "present")]
    image_b_flush: Option<Timed>,
    #[serde(deserialize_with = "present")]
    journal_fdatasync: Option<Timed>,
    #[serde(deserialize_with = "present")]
    superblock_write: Option<Timed>,
}

/// An `Option` field that must be there (its value may be `null`): serde reads a
/// missing `Option` as `None` unless the field has its own deserializer.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<Timed>, D::Error> {
    <Option<Timed> as serde::Deserialize>::deserialize(d)
}

#[derive(serde::Deserialize, Default, Clone, Copy)]
struct Timed {
    count: u64,
    latency_us_sum: f64,
}

impl Timed {
    fn mean_us(self) -> Option<f64> {
        (self.count > 0).then(|| self.latency_us_sum / self.count as f64)
    }
}

/// Refuses a reading of `owm device timings --json` (`text`, from `path`) whose barrier
/// names a field by its name before the unit came before the statistic (`total_us`),
/// naming the new name ([`engine::latency::RENAMED_FIELDS`]). Text that is no such
/// reading is left to the typed read to refuse.
fn refuse_renamed_fields(path: &Path, text: &str) -> Result<()> {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
        return Ok(());
    };
    let Some(barriers) = v.get("barriers").and_then(|b| b.as_object()) else {
        return Ok(());
    };
    for (name, t) in barriers {
        for (old, new) in engine::latency::RENAMED_FIELDS {
            if t.get(old).is_some() {
                bail!(
                    "{}: barriers.{}.{old}: `{old}` is now `{new}` (the unit comes before the \
                     statistic); take the timings again with this owm, or rename the field",
                    path.shown(),
                    name.as_str().shown()
                );
            }
        }
    }
    Ok(())
}

/// Sets the profile's barrier latencies from a served device's timings (see
/// [`CalibrateArgs::barrier_timings`]); returns the values taken, µs.
fn apply_barrier_timings(
    path: &Path,
    profile: &mut DeviceModelConfig,
) -> Result<(Option<f64>, Option<f64>)> {
    let text = crate::config::read_bounded(path)
        .map_err(|m| anyhow::anyhow!("{}: the timings: {m}", path.shown()))?;
    refuse_renamed_fields(path, &text)?;
    let file: TimingsFile = serde_json::from_str(&text).with_context(|| {
        format!(
            "{}: not the output of `owm device timings --json`",
            path.shown()
        )
    })?;
    let b = file.barriers;
    for (field, t) in [
        ("image_a_flush", b.image_a_flush),
        ("image_b_flush", b.image_b_flush),
        ("journal_fdatasync", b.journal_fdatasync),
        ("superblock_write", b.superblock_write),
    ] {
        let Some(t) = t else { continue };
        if !(t.latency_us_sum.is_finite() && t.latency_us_sum >= 0.0) {
            bail!(
                "{}: barriers.{field}.latency_us_sum {} is not a time (a finite number of µs, 0 or more)",
                path.shown(),
                t.latency_us_sum
            );
        }
        if t.count == 0 && t.latency_us_sum > 0.0 {
            bail!(
                "{}: barriers.{field} has count 0 and latency_us_sum {}: time spent over no \
                 barrier is no measurement (`owm device timings --json` writes 0 µs for a \
                 barrier it never issued)",
                path.shown(),
                t.latency_us_sum
            );
        }
    }
    let (a, bb) = (
        b.image_a_flush.unwrap_or_default(),
        b.image_b_flush.unwrap_or_default(),
    );
    let Some(count) = a.count.checked_add(bb.count) else {
        bail!(
            "{}: barriers.image_a_flush.count {} and barriers.image_b_flush.count {} add up past {} (not a count of flushes)",
            path.shown(),
            a.count,
            bb.count,
            u64::MAX
        );
    };
    let latency_us_sum = a.latency_us_sum + bb.latency_us_sum;
    if !latency_us_sum.is_finite() {
        bail!(
            "{}: barriers.image_a_flush.latency_us_sum and barriers.image_b_flush.latency_us_sum add up past any time",
            path.shown()
        );
    }
    let flush = Timed {
        count,
        latency_us_sum,
    }
    .mean_us();
    let (fd, sb) = (
        b.journal_fdatasync.unwrap_or_default(),
        b.superblock_write.unwrap_or_default(),
    );
    if fd.count != sb.count {
        bail!(
            "{}: barriers.journal_fdatasync.count {} differs from barriers.superblock_write.count {} (every journal sync does both)",
            path.shown(),
            fd.count,
            sb.count
        );
    }
    let sync = fd.mean_us().zip(sb.mean_us()).map(|(x, y)| x + y);
    if sync.is_some_and(|v| !v.is_finite()) {
        bail!(
            "{}: barriers.journal_fdatasync.latency_us_sum and barriers.superblock_write.latency_us_sum give a journal sync past any time",
            path.shown()
        );
    }
    // A mean past the longest latency a profile may give (2^40 ticks) is no barrier
    // a device took: refused here, at the file and fields it comes from.
    let max_us = (FIELD_TICKS_MAX * sim::TICK_US) as f64;
    if let Some(f) = flush.filter(|&f| f.round() > max_us) {
        bail!(
            "{}: barriers.image_a_flush.latency_us_sum and barriers.image_b_flush.latency_us_sum give a \
             mean image flush of {f} µs, past {max_us} µs (2^40 ticks, the longest latency \
             a profile may give)",
            path.shown()
        );
    }
    if let Some(j) = sync.filter(|&j| j.round() > max_us) {
        bail!(
            "{}: barriers.journal_fdatasync.latency_us_sum and barriers.superblock_write.latency_us_sum \
             give a mean journal sync of {j} µs, past {max_us} µs (2^40 ticks, the longest \
             latency a profile may give)",
            path.shown()
        );
    }
    if let Some(f) = flush {
        profile.flush_latency_ticks = ticks(f);
    }
    if let Some(j) = sync {
        profile.journal_sync_latency_ticks = Some(ticks(j));
    }
    Ok((flush, sync))
}

/// The profile's channels: the experiment's deepest queue. The served engine's calls
/// overlap but for their journal syncs, which take turns under its metadata lock
/// (`journal_lane`): at depth 8 its concurrent image flushes overlapped (BENCHMARKS.md,
/// "The barriers inside the served engine").
const CHANNELS: u32 = 8;

/// Measures the file store: the profile of its means, and the means.
fn measure_profile(args: &CalibrateArgs, dir: &Path) -> Result<(DeviceModelConfig, Measured)> {
    let m = measure(dir, args.block_size, args.samples, args.pattern_writes)?;
    let profile = DeviceModelConfig {
        profile: None,
        read_latency_ticks: ticks(m.read_us),
        write_latency_ticks: ticks(m.write_us),
        table_update_latency_ticks: ticks(m.append_us),
        table_lookup_latency_ticks: 0,
        flush_latency_ticks: ticks(m.flush_us),
        journal_sync_latency_ticks: Some(ticks(m.journal_sync_us)),
        journaled: true,
        integrity: false,
        journal_lane: true,
        channels: CHANNELS,
        write_channels: None,
        jitter_ticks_max: 0,
        // Measured per block, wherever it lies: no sequential run is priced apart.
        transfer_bytes_per_s: 0,
        sequential_read_bytes_per_s: 0,
    };
    Ok((profile, m))
}

/// The comment heading a measured profile: what was measured, and how.
fn measured_comment(args: &CalibrateArgs, dir: &Path, m: &Measured) -> String {
    format!(
        "# owm calibrate {dir}: means of {n} samples ({nb} of each barrier), {bs}-byte\n\
         # blocks, 1 tick = 1 us. Measured: block read {r:.1} us, block write {w:.1} us,\n\
         # image flush {f:.1} us, journal record append {a:.1} us, journal sync {j:.1} us.\n",
        dir = dir.shown(),
        n = args.samples,
        nb = barrier_samples(args.samples),
        bs = args.block_size,
        r = m.read_us,
        w = m.write_us,
        f = m.flush_us,
        a = m.append_us,
        j = m.journal_sync_us,
    )
}

/// `profile` as a scenario's `[device]` table, after `comment`: every key it sets, so
/// pasted into a scenario file it prices exactly what the prediction priced.
fn profile_text(comment: &str, profile: &DeviceModelConfig) -> String {
    let p = profile;
    let mut t = format!("{comment}# Paste into a scenario file.\n[device]\n");
    let mut key = |k: &str, v: String| t.push_str(&format!("{k} = {v}\n"));
    key("read_latency_ticks", p.read_latency_ticks.to_string());
    key("write_latency_ticks", p.write_latency_ticks.to_string());
    key(
        "table_update_latency_ticks",
        p.table_update_latency_ticks.to_string(),
    );
    key(
        "table_lookup_latency_ticks",
        p.table_lookup_latency_ticks.to_string(),
    );
    key("flush_latency_ticks", p.flush_latency_ticks.to_string());
    if let Some(j) = p.journal_sync_latency_ticks {
        key("journal_sync_latency_ticks", j.to_string());
    }
    key("journaled", p.journaled.to_string());
    if p.integrity {
        key("integrity", "true".into());
    }
    key("journal_lane", p.journal_lane.to_string());
    key("channels", p.channels.to_string());
    if let Some(w) = p.write_channels {
        key("write_channels", w.to_string());
    }
    key("jitter_ticks_max", p.jitter_ticks_max.to_string());
    if p.transfer_bytes_per_s != 0 {
        key("transfer_bytes_per_s", p.transfer_bytes_per_s.to_string());
    }
    if p.sequential_read_bytes_per_s != 0 {
        key(
            "sequential_read_bytes_per_s",
            p.sequential_read_bytes_per_s.to_string(),
        );
    }
    t
}

/// Refuses an `--out` that names a file the command itself writes in DIR (the
/// pattern's traces) or reads (`--barrier-timings`, `--profile`): one of the two would
/// replace the other. (The scratch files go in a directory of their own, made with a
/// new name: no `--out` can name them.)
fn refuse_out_clash(args: &CalibrateArgs, dir: &Path) -> Result<()> {
    let Some(out) = &args.out else {
        return Ok(());
    };
    let resolved = crate::outdir::resolved;
    let Some(target) = resolved(out) else {
        return Ok(());
    };
    let mut own: Vec<(PathBuf, &str)> = DEPTHS
        .iter()
        .map(|d| {
            (
                dir.join(format!("calibrate-pattern-qd{d}.csv")),
                "the pattern trace this command writes",
            )
        })
        .collect();
    if let Some(t) = &args.barrier_timings {
        own.push((t.clone(), "the --barrier-timings input"));
    }
    if let Some(p) = &args.profile {
        own.push((p.clone(), "the --profile input"));
    }
    for (path, what) in own {
        if resolved(&path).as_ref() == Some(&target) {
            bail!(
                "--out {}: is {} ({}); give the profile another file",
                out.shown(),
                what,
                path.shown()
            );
        }
    }
    Ok(())
}

/// Where the profile the pattern is priced on comes from, for errors: the `--profile`
/// file and its text, or the measurement of DIR (not yet written anywhere).
enum Source {
    File(PathBuf, String),
    Measured(PathBuf),
}

impl Source {
    /// Whether a `--profile` file gives `[device]` key `key` itself (not through a
    /// named `profile`); a measured profile gives none by hand.
    fn sets(&self, key: &str) -> bool {
        match self {
            Source::File(_, src) => toml::from_str::<toml::Table>(src)
                .ok()
                .and_then(|t| t.get("device")?.as_table()?.get(key).cloned())
                .is_some(),
            Source::Measured(_) => false,
        }
    }

    fn name(&self) -> String {
        match self {
            Source::File(p, _) => p.shown().to_string(),
            Source::Measured(dir) => format!("the profile measured on {}", dir.shown()),
        }
    }
}

/// The longest the pattern's writes may run in a phase, from the writers' start: the
/// before-split phase's backup request must come after them.
const PATTERN_TICKS_MAX: Tick = BEFORE_REQUEST_TICKS - WRITERS_START_TICKS;

/// Refuses a `--baseline-latency-us` that, with `--pattern-writes`, cannot run: at
/// queue depth 1 every write (and the read that starts the run) takes at least the
/// baseline, so the writes together would run past the phase's end, whatever the
/// device.
fn refuse_unrunnable_flags(args: &CalibrateArgs) -> Result<()> {
    let least = args.baseline_latency_us * (args.pattern_writes + 1) as f64 / sim::TICK_US as f64;
    if least > PATTERN_TICKS_MAX as f64 {
        bail!(
            "--baseline-latency-us {} with --pattern-writes {}: at queue depth 1 the writes \
             take at least {:.0} s of virtual time, past the {:.0} s a phase's run holds; \
             lower either (their product at most {:.0} µs)",
            args.baseline_latency_us,
            args.pattern_writes,
            least * sim::TICK_US as f64 / 1e6,
            PATTERN_TICKS_MAX as f64 * sim::TICK_US as f64 / 1e6,
            PATTERN_TICKS_MAX as f64 * sim::TICK_US as f64,
        );
    }
    Ok(())
}

/// `owm calibrate`: exit 0 once the profile and traces are in place and the table
/// printed; 3 when a signal stopped it first (nothing written, the scratch files
/// removed, the previous profile and traces left as they were); errors as bad input
/// (2).
pub fn calibrate(args: &CalibrateArgs) -> Result<Exit> {
    match calibrate_or_stop(args) {
        Ok(()) => Ok(Exit::Held),
        Err(e) => match e.downcast_ref::<Stopped>() {
            Some(stopped) => {
                let out = args
                    .out
                    .clone()
                    .unwrap_or_else(|| args.dir.join("device-profile.toml"));
                let what = if args.profile.is_some() {
                    "the traces"
                } else {
                    "the profile and the traces"
                };
                tell!(
                    "{stopped}: nothing written ({what}, {}, {} and {}, left as they were{})",
                    out.shown(),
                    args.dir.join("calibrate-pattern-qd1.csv").shown(),
                    args.dir.join("calibrate-pattern-qd8.csv").shown(),
                    if args.profile.is_some() {
                        ""
                    } else {
                        "; the scratch files removed"
                    }
                );
                Ok(Exit::Incomplete)
            }
            None => Err(e),
        },
    }
}

fn calibrate_or_stop(args: &CalibrateArgs) -> Result<()> {
    // The directory names the file system to measure: a mistyped one is refused rather
    // than made (it would be measured on whichever file system holds its parent).
    if !args.dir.is_dir() {
        let why = match std::fs::metadata(&args.dir) {
            Ok(_) => "is not a directory".to_string(),
            Err(e) => crate::config::absence(&e),
        };
        anyhow::bail!(
            "{}: {why}; give an existing directory on the file system to measure",
            args.dir.shown()
        );
    }
    let dir = std::path::absolute(&args.dir)?;
    if let Some(out) = &args.out {
        crate::verdict::refuse_special_file("--out", out)?;
    }
    refuse_out_clash(args, &dir)?;
    refuse_unrunnable_flags(args)?;
    if args.profile.is_none() {
        refuse_scratch(args, &dir)?;
    }
    // Everything printed is gathered first: a failure prints nothing on stdout, and
    // every file the command leaves (the profile, the two traces) is put in place
    // together once the whole table is computed, or none is.
    let mut lines = Vec::new();
    let (mut profile, source, measured) = match &args.profile {
        Some(p) => {
            let (profile, src) = read_profile(p)?;
            if profile.write_latency_ticks == 0 && args.baseline_latency_us < 0.5 {
                return Err(crate::config::FileError::key(
                    p,
                    &src,
                    "device.write_latency_ticks",
                    "0: a write that costs nothing has no IOPS or slowdown to predict; give at \
                     least 1 (owm calibrate writes its measured latency, at least 1), or a \
                     --baseline-latency-us",
                )
                .into());
            }
            (profile, Source::File(p.clone(), src), None)
        }
        None => {
            let (profile, m) = measure_profile(args, &dir)?;
            (profile, Source::Measured(dir.clone()), Some(m))
        }
    };
    let mut comment = match &measured {
        Some(m) => measured_comment(args, &dir, m),
        None => String::new(),
    };
    let barriers = match &args.barrier_timings {
        Some(path) => {
            let (flush, sync) = apply_barrier_timings(path, &mut profile)?;
            let show = |v: Option<f64>| {
                v.map_or("not issued: the profile's".into(), |v| format!("{v:.1} us"))
            };
            let line = format!(
                "barriers as the served device timed them ({}): image flush {}, journal sync {}",
                path.shown(),
                show(flush),
                show(sync)
            );
            comment.push_str(&format!(
                "# Barriers from {}: image flush {}, journal sync {}.\n",
                path.shown(),
                show(flush),
                show(sync)
            ));
            // A device without the metadata journal never syncs one: the timed sync
            // is in the profile printed but priced nowhere.
            let unjournaled = if args.without_journal {
                Some((
                    "--without-journal prices a device without the metadata journal",
                    "run without --without-journal",
                ))
            } else if !profile.journaled {
                Some((
                    "the profile's `journaled = false` leaves it unused",
                    "set `journaled = true` in the profile's [device] table",
                ))
            } else {
                None
            };
            let unused = sync.zip(unjournaled).map(|(j, (why, fix))| {
                format!(
                    "note: the timed journal sync ({j:.1} us) is priced nowhere: {why}, so \
                     no write pays a journal sync ({fix} to price it)"
                )
            });
            Some((line, unused))
        }
        None => None,
    };
    // The profile priced, as a scenario's [device] table: the measured one (written to
    // --out), or a --profile with its barriers taken from --barrier-timings.
    let mut pending = Vec::new();
    match (&measured, &args.profile) {
        (Some(_), _) => {
            let text = profile_text(&comment, &profile);
            let out = args
                .out
                .clone()
                .unwrap_or_else(|| dir.join("device-profile.toml"));
            lines.push(text.clone());
            lines.push(format!("profile written to {}", out.shown()));
            pending.push(Pending::new(
                out,
                text.as_bytes(),
                "cannot write the profile",
            )?);
        }
        (None, Some(p)) => {
            let text = match args.barrier_timings {
                Some(_) => profile_text(
                    &format!("# {} with {comment}", p.shown()).replacen(
                        "with # Barriers",
                        "with the barriers",
                        1,
                    ),
                    &profile,
                ),
                None => profile_text(&format!("# {}\n", p.shown()), &profile),
            };
            // Printed when it differs from the file (its barriers replaced), and
            // written to --out when one is given: the profile the table prices.
            if args.barrier_timings.is_some() {
                lines.push(text.clone());
            }
            if let Some(out) = &args.out {
                lines.push(format!("profile written to {}", out.shown()));
                pending.push(Pending::new(
                    out.clone(),
                    text.as_bytes(),
                    "cannot write the profile",
                )?);
            }
        }
        (None, None) => {}
    }
    // A block write on the plain volume: the device's write latency and, on a device
    // with a transfer rate, the block's transfer. The baseline less that is the time
    // outside the device, so the plain volume's writes take the baseline.
    let device_write_ticks = profile
        .write_latency_ticks
        .saturating_add(profile.block_transfer_ticks(args.block_size as u64));
    let overhead = ticks_or_zero(args.baseline_latency_us - device_write_ticks as f64);
    let start = writers_start(overhead);
    // The pattern's traces are written beside their places in DIR before anything is
    // printed: a DIR that cannot take them fails the command with nothing on stdout.
    let traces = DEPTHS
        .iter()
        .map(|&depth| {
            Ok((
                depth,
                write_pattern(&dir, args.block_size, args.pattern_writes, depth, start)?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    if let Some((line, unused)) = barriers {
        lines.push(line);
        lines.extend(unused);
    } else if let Some(j) = profile.journal_sync_latency_ticks.filter(|_| {
        !profile.journaled && !args.without_journal && source.sets("journal_sync_latency_ticks")
    }) {
        // A journal sync the profile file gives, on a device without the journal: as
        // a scenario refuses the key, it is said to be priced nowhere.
        lines.push(format!(
            "note: the profile's journal sync ({j} ticks) is priced nowhere: its \
             `journaled = false` leaves it unused, so no write pays a journal sync (set \
             `journaled = true` in the profile's [device] table to price it)"
        ));
    }
    let run_of = Run { start, overhead };
    if args.without_journal {
        profile.journaled = false;
        profile.journal_sync_latency_ticks = None;
        profile.journal_lane = false;
    }
    lines.push(String::new());
    lines.push(format!(
        "simulated: {} per phase (each block once), blind (each writes its whole block \
         without reading it, as fio's do), closed loop, {overhead} ticks outside the \
         device per write{}",
        sim::number_text::counted(
            args.pattern_writes,
            &format!("random {}-byte write", args.block_size),
            &format!("random {}-byte writes", args.block_size)
        ),
        if args.without_journal {
            ", device without the metadata journal"
        } else {
            ""
        }
    ));
    if args.baseline_latency_us > 0.0 && overhead == 0 {
        lines.push(format!(
            "--baseline-latency-us {} does not pass the profile's block write ({} µs) by \
             half a µs: no time is spent outside the device, and the plain volume's writes \
             take the block write, not the baseline",
            args.baseline_latency_us,
            device_write_ticks * sim::TICK_US
        ));
    }
    lines.push("variant,phase,iodepth,iops,lat_us_mean,slowdown".to_string());
    let mut notes = Vec::new();
    crate::outdir::pause_point("calibrate-predict");
    for (depth, trace) in &traces {
        let depth = *depth;
        for variant in Variant::ALL {
            let mut before = None;
            for (phase, name) in PHASES {
                let at = || format!("{} {name} qd{depth}", variant.as_str());
                let s = scenario(
                    trace.path(),
                    args.block_size,
                    &profile,
                    variant,
                    phase,
                    overhead,
                    args.pattern_writes,
                )
                .map_err(|e| run_error(&source, &profile, args, e))?;
                let mut stop = |_events: u64, _now: Tick| {
                    if crate::interrupt::requested() {
                        std::ops::ControlFlow::Break(())
                    } else {
                        std::ops::ControlFlow::Continue(())
                    }
                };
                let run = match sim::run_with_progress(&s, Policy::Owm(variant), 1, Some(&mut stop))
                {
                    Err(sim::SimError::Interrupted { .. }) => {
                        return Err(Stopped {
                            when: "while predicting",
                        }
                        .into())
                    }
                    ran => ran.map_err(|e| run_error(&source, &profile, args, e.into()))?,
                };
                stop_point("while predicting")?;
                let p = predicted(&run.result, phase, args.pattern_writes, run_of)
                    .map_err(|e| anyhow::anyhow!("{}: {}: {e:#}", source.name(), at()))?;
                let base = *before.get_or_insert(p.latency_us);
                let slowdown = slowdown(p.latency_us, base);
                lines.push(format!(
                    "{},{name},{depth},{},{:.1},{}",
                    variant.as_str(),
                    iops_text(p.iops),
                    p.latency_us,
                    slowdown.map_or("-".into(), slowdown_text)
                ));
                notes.extend(
                    slowdown.and_then(|r| faster_note(variant, phase, depth, r, profile.journaled)),
                );
            }
        }
    }
    lines.extend(notes);
    pending.extend(traces.into_iter().map(|(_, t)| t));
    stop_point("before the files were put in place")?;
    let written: Vec<String> = pending
        .iter()
        .map(|p| p.target.shown().to_string())
        .collect();
    publish_all(pending)?;
    for line in lines {
        say!("{line}");
    }
    {
        use std::io::Write as _;
        if let Err(e) = std::io::stdout().lock().flush() {
            crate::stdout_failed(e);
        }
    }
    if crate::STDOUT_ERROR.get().is_some() {
        // The files are in place: the failure to print is no failure to write them.
        tell!(
            "note: written all the same: {} (only the report to stdout failed)",
            written.join(", ")
        );
    }
    if crate::interrupt::requested() {
        tell!(
            "interrupted after the files were put in place: the command had finished; \
             they stay: {}",
            written.join(", ")
        );
    }
    Ok(())
}

/// A phase's mean latency over the phase before the split's; `None` when that one
/// is zero (no ratio to give).
fn slowdown(latency_us: f64, base_us: f64) -> Option<f64> {
    (base_us > 0.0 && latency_us.is_finite()).then(|| latency_us / base_us)
}

/// A slowdown (the phase's mean latency over the phase before the split's) as the
/// table prints it: two decimals, or two significant digits below 0.01, so a phase
/// hundreds of times faster than before the split never reads as `0.00`.
fn slowdown_text(ratio: f64) -> String {
    if ratio >= 0.01 || ratio <= 0.0 || !ratio.is_finite() {
        format!("{ratio:.2}")
    } else {
        two_significant(ratio)
    }
}

/// `x` (positive, below 1) to two significant digits: `0.42`, `0.0042`; a value that
/// rounds up to the next power of ten keeps two (`0.00999` is `0.010`, not `0.0100`).
fn two_significant(x: f64) -> String {
    let exponent = x.log10().floor() as i32;
    let digits = (1 - exponent).max(0) as usize;
    let text = format!("{x:.digits$}");
    // The printed value itself tells a carry: it reached the next power of ten.
    let carried = text
        .parse::<f64>()
        .is_ok_and(|v| v >= 10f64.powi(exponent + 1));
    if carried && digits > 0 {
        format!("{x:.0$}", digits - 1)
    } else {
        text
    }
}

/// A predicted rate (IOPS) as printed: a whole number from 1 up; below, two
/// significant digits (`0.42`, `0.0042`), never a `0` for a device that completes
/// fewer than one write a second.
fn iops_text(iops: f64) -> String {
    if iops >= 0.995 || iops <= 0.0 || !iops.is_finite() {
        format!("{iops:.0}")
    } else {
        two_significant(iops)
    }
}

/// Why mirroring's backup window (or after-retire phase) is faster than its phase
/// before the split, when it is (slowdown below 1), as a note after the table. Before
/// the split each first write of a block since the last flush journals its dirty mark
/// and syncs the journal (`journal_sync_latency_ticks`) before writing both images;
/// from the split on a VLUN B write writes image B only, and its diverged mark is
/// journaled without a sync (the next flush makes it durable). Nothing is missing from
/// the prediction: the measured fio runs show the same (BENCHMARKS.md, "Calibration":
/// 0.04 at depth 1). On a device without the metadata journal (`journaled = false`)
/// the only difference is the second image write. `None` for any other variant or
/// phase, or a slowdown of 1 or more.
fn faster_note(
    variant: Variant,
    phase: Phase,
    depth: u32,
    slowdown: f64,
    journaled: bool,
) -> Option<String> {
    // Below 1 as printed: a ratio that rounds to 1.00 needs no note.
    let printed: f64 = slowdown_text(slowdown).parse().unwrap_or(slowdown);
    if variant != Variant::WriteMirroring || phase == Phase::Before || printed >= 1.0 {
        return None;
    }
    let name = PHASES
        .iter()
        .find(|(p, _)| *p == phase)
        .map_or("", |(_, n)| n);
    let (before, after) = if journaled {
        (
            "each write to a block not written since the last flush syncs the journal for \
             its dirty mark, then writes both images",
            ", with no journal sync",
        )
    } else {
        ("each write writes both images", "")
    };
    Some(format!(
        "note: mirroring {name} qd{depth}: slowdown {} (below 1: faster than before the \
         split): before the split {before}; from the split on a VLUN B write writes image \
         B only{after}",
        slowdown_text(slowdown)
    ))
}

#[cfg(test)]
mod output_tests {
    use super::*;

    /// A slowdown far below 1 keeps two significant digits (it printed `0.00`); the
    /// ordinary ones keep two decimals.
    /// The pattern's traces are as long as README says: a line per write of 16 bytes
    /// plus the digits of the block size and of the write's byte offset; at the default
    /// 8192 writes about 26, 28 and 30 bytes a write at 512-byte, 4 KiB and 64 KiB
    /// blocks.
    #[test]
    fn the_pattern_trace_is_as_long_as_readme_says() {
        let tmp = tempfile::tempdir().unwrap();
        let digits = |n: u64| n.to_string().len() as u64;
        let writes = 8192u64;
        for (bs, about) in [(512usize, 26.0), (4096, 28.0), (65536, 30.0)] {
            let p = write_pattern(tmp.path(), bs, writes, 8, writers_start(0)).unwrap();
            let len = std::fs::metadata(p.tmp.path()).unwrap().len();
            let head = format!("time,op,offset,length,stream\n0,R,0,{bs},start\n").len() as u64;
            let lines: u64 = (0..writes)
                .map(|b| 16 + digits(bs as u64) + digits(b * bs as u64))
                .sum();
            assert_eq!(len, head + lines, "{bs}");
            let per = (len - head) as f64 / writes as f64;
            assert!((per - about).abs() < 0.5, "{bs}: {per} bytes a write");
        }
        let readme = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"),
        )
        .unwrap();
        assert!(
            readme.contains(
                "16 bytes plus the digits of `--block-size` and of the write's byte offset"
            ) && readme.contains("about 26, 28 and 30 bytes a write at 512-byte, 4 KiB and 64 KiB"),
            "README's pattern size"
        );
    }

    #[test]
    fn a_rate_below_one_is_printed_with_two_significant_digits() {
        for (iops, want) in [
            (0.42, "0.42"),
            (0.4249, "0.42"),
            (0.0042, "0.0042"),
            (0.099, "0.099"),
            // Rounded up to the next power of ten: still two digits.
            (0.0999, "0.10"),
            (0.00999, "0.010"),
            (0.000995, "0.0010"),
            (0.5, "0.50"),
            (0.996, "1"),
            (1.0, "1"),
            (1234.4, "1234"),
            (0.0, "0"),
        ] {
            assert_eq!(iops_text(iops), want, "{iops}");
        }
    }

    #[test]
    fn a_small_slowdown_is_not_printed_as_zero() {
        assert_eq!(slowdown_text(0.0017), "0.0017");
        assert_eq!(slowdown_text(0.0123), "0.01");
        assert_eq!(slowdown_text(0.00004567), "0.000046");
        assert_eq!(slowdown_text(0.00999), "0.010");
        assert_eq!(slowdown_text(1.0), "1.00");
        assert_eq!(slowdown_text(221.934), "221.93");
        assert_eq!(slowdown_text(0.0), "0.00");
        for r in [1e-9, 3e-5, 0.004, 0.0099] {
            let t = slowdown_text(r);
            let back: f64 = t.parse().unwrap();
            assert!(back > 0.0 && (back - r).abs() / r < 0.06, "{r}: {t}");
        }
    }

    /// Mirroring's window and after-retire phases faster than before the split carry a
    /// note saying why; no other variant, phase or slowdown does.
    #[test]
    fn mirroring_faster_than_before_the_split_says_why() {
        let n = faster_note(Variant::WriteMirroring, Phase::Window, 1, 0.0017, true).unwrap();
        assert!(
            n.contains("mirroring backup window qd1: slowdown 0.0017")
                && n.contains("dirty mark")
                && n.contains("image B only"),
            "{n}"
        );
        assert!(faster_note(Variant::WriteMirroring, Phase::After, 8, 0.5, true).is_some());
        assert!(faster_note(Variant::WriteMirroring, Phase::Window, 1, 1.0, true).is_none());
        // 0.999… prints as 1.00: not "below 1".
        assert!(faster_note(Variant::WriteMirroring, Phase::Window, 1, 0.9999, true).is_none());
        assert!(faster_note(Variant::WriteMirroring, Phase::Before, 1, 0.5, true).is_none());
        assert!(faster_note(Variant::CopyOnWrite, Phase::Window, 1, 0.5, true).is_none());
        assert!(faster_note(Variant::WriteLogging, Phase::After, 1, 0.5, true).is_none());
        // Without the metadata journal there is no sync to name: the second image
        // write is the whole difference.
        let n = faster_note(Variant::WriteMirroring, Phase::Window, 1, 0.5, false).unwrap();
        assert!(
            n.contains("both images") && !n.contains("journal") && !n.contains("dirty mark"),
            "{n}"
        );
    }
}

#[cfg(test)]
mod profile_tests {
    use super::*;

    /// The printed profile is the one priced: parsed back as a scenario's `[device]`
    /// table it gives the same configuration, the optional keys included.
    #[test]
    fn the_printed_profile_parses_back_to_the_one_priced() {
        let mut p = DeviceModelConfig {
            read_latency_ticks: 7,
            write_latency_ticks: 11,
            table_update_latency_ticks: 2,
            flush_latency_ticks: 3034,
            journal_sync_latency_ticks: Some(7224),
            journaled: true,
            journal_lane: true,
            channels: 8,
            ..DeviceModelConfig::default()
        };
        for round in 0..2 {
            let text = profile_text("# a comment\n", &p);
            let back: ProfileFile = toml::from_str(&text).unwrap();
            assert_eq!(back.device, p, "{text}");
            assert!(text.contains("flush_latency_ticks = 3034\n"), "{text}");
            if round == 0 {
                p.write_channels = Some(3);
                p.transfer_bytes_per_s = 1_000_000;
                p.sequential_read_bytes_per_s = 2_000_000;
                p.integrity = true;
                p.journal_sync_latency_ticks = None;
            }
        }
    }

    /// A slowdown over a phase of zero latency has no value to print.
    #[test]
    fn no_slowdown_over_zero() {
        assert_eq!(slowdown(3.0, 0.0), None);
        assert_eq!(slowdown(0.0, 0.0), None);
        assert_eq!(slowdown(3.0, 1.5), Some(2.0));
    }
}

#[cfg(test)]
mod flag_tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: CalibrateArgs,
    }

    fn parse(flag: &str, value: &str) -> std::result::Result<Cli, clap::Error> {
        Cli::try_parse_from(["owm", "dir", &format!("--{flag}={value}")])
    }

    /// Every numeric flag of `owm calibrate` refuses 0 where 0 means nothing, a value
    /// past its range, a negative, a non-number, NaN and infinity, as a usage error
    /// (exit 2) naming the flag, before anything is measured; and takes its bounds.
    #[test]
    fn every_numeric_flag_refuses_what_is_out_of_range() {
        let refused: &[(&str, &[&str])] = &[
            ("samples", &["0", "9", "1000001", "-1", "x", "1.5"]),
            ("pattern-writes", &["0", "1048577", "16777216", "-1", "x"]),
            (
                "baseline-latency-us",
                &["-0.5", "NaN", "inf", "-inf", "1000000001", "x"],
            ),
        ];
        for (flag, values) in refused {
            for v in *values {
                let e = parse(flag, v)
                    .err()
                    .unwrap_or_else(|| panic!("--{flag} {v}"));
                assert_eq!(e.exit_code(), 2, "--{flag} {v}");
                assert!(e.to_string().contains(&format!("--{flag}")), "{e}");
            }
        }
        let cli = parse("samples", "10").unwrap();
        assert_eq!(cli.args.samples, 10);
        assert_eq!(parse("samples", "1000000").unwrap().args.samples, 1_000_000);
        assert_eq!(parse("pattern-writes", "1").unwrap().args.pattern_writes, 1);
        let max = parse("pattern-writes", "1048576").unwrap();
        assert_eq!(max.args.pattern_writes, 1 << 20);
        let e = parse("pattern-writes", "10000001")
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("1..=1048576"),
            "the largest allowed not named: {e}"
        );
        for (v, us) in [("0", 0.0), ("1e9", 1e9), ("250.5", 250.5)] {
            let got = parse("baseline-latency-us", v).unwrap();
            assert_eq!(got.args.baseline_latency_us, us);
        }
        // The defaults are in range.
        let d = Cli::try_parse_from(["owm", "dir"]).unwrap().args;
        assert!(SAMPLES.contains(&d.samples) && PATTERN_WRITES.contains(&d.pattern_writes));
        assert_eq!(d.baseline_latency_us, 0.0);
    }

    /// A `--baseline-latency-us` whose writes cannot all run in a phase, with
    /// `--pattern-writes`, is refused naming both flags; one that fits is not.
    #[test]
    fn a_baseline_too_long_for_the_pattern_names_both_flags() {
        let args = |writes: &str, us: &str| {
            Cli::try_parse_from([
                "owm",
                "dir",
                "--pattern-writes",
                writes,
                "--baseline-latency-us",
                us,
            ])
            .unwrap()
            .args
        };
        refuse_unrunnable_flags(&args("10", "1e9")).unwrap();
        refuse_unrunnable_flags(&args("1048576", "1000")).unwrap();
        for (w, us) in [("100", "1e9"), ("1048576", "1e6")] {
            let e = refuse_unrunnable_flags(&args(w, us))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("--baseline-latency-us") && e.contains(&format!("--pattern-writes {w}")),
                "{e}"
            );
        }
    }
}

/// Calibrate's own one-block buffers, refused (a per-thread cap below the block
/// size): the command fails with [`BufferRefused`] naming `--block-size` and the
/// bytes, exit 2, before anything is made in DIR; with the memory free, the same
/// measurement runs.
#[cfg(test)]
mod buffer_tests {
    use super::*;
    use crate::verdict::{exit_of_error, Exit};
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: CalibrateArgs,
    }

    #[test]
    fn a_refused_block_buffer_fails_the_command_with_exit_2_and_nothing_made() {
        let tmp = tempfile::tempdir().unwrap();
        let bs = 65536;
        let args = Cli::try_parse_from([
            "owm",
            &tmp.path().shown().to_string(),
            "--samples",
            "10",
            "--block-size",
            &bs.to_string(),
            "--pattern-writes",
            "4",
        ])
        .unwrap()
        .args;
        buffer_cap::set(bs - 1);
        let e = calibrate(&args).unwrap_err();
        buffer_cap::set(usize::MAX);
        assert_eq!(
            e.downcast_ref::<BufferRefused>(),
            Some(&BufferRefused { bytes: bs }),
            "{e:#}"
        );
        assert_eq!(exit_of_error(&e), Exit::BadInput, "{e:#}");
        let text = e.to_string();
        assert!(
            text.contains("--block-size 65536") && text.contains("65536 bytes"),
            "{text}"
        );
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
        // Memory free: the measurement runs, and leaves no scratch file.
        let m = measure(tmp.path(), bs, 10, 4).unwrap();
        assert!(m.write_us > 0.0);
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
    }
}

#[cfg(test)]
mod scratch_tests {
    use super::*;

    /// The scratch is (4096 + region) blocks and the journal's at most 1 MiB and 128
    /// bytes a sample; a measurement is refused exactly when that is past 128 GiB or
    /// past the free space less a tenth of it (at least 256 MiB), naming the flags and
    /// the bytes.
    #[test]
    fn scratch_is_refused_exactly_past_the_bound_or_the_free_space() {
        assert_eq!(
            scratch_bytes(4096, 2000, 8192),
            12288 * 4096 + 4001 * 64 + (1 << 20)
        );
        assert_eq!(
            scratch_bytes(16 << 20, 10, 1 << 20),
            ((4096 + (1 << 20)) << 24) + 21 * 64 + (1 << 20)
        );
        let dir = Path::new("/d");
        let gib = 1u64 << 30;
        for free in [0, 100 << 20, 300 << 20, gib, 10 * gib, 500 * gib, u64::MAX] {
            let keep = (free / 10).max(256 << 20);
            for bytes in [
                1,
                48 << 20,
                free.saturating_sub(keep),
                free.saturating_sub(keep).saturating_add(1),
                free,
                SCRATCH_BYTES_MAX,
                SCRATCH_BYTES_MAX + 1,
            ] {
                let why = scratch_refusal(bytes, free, "--flags", dir);
                let refused = bytes > SCRATCH_BYTES_MAX || bytes > free.saturating_sub(keep);
                assert_eq!(why.is_some(), refused, "{bytes} of {free}: {why:?}");
                if let Some(why) = why {
                    assert!(
                        why.starts_with("--flags: ")
                            && why.contains(&format!("{bytes} bytes"))
                            && why.contains("/d"),
                        "{why}"
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod barrier_timings_tests {
    use super::*;
    use crate::verdict::{exit_of_error, Exit};

    /// A barrier given time but no count (a second of flushes over none) is refused
    /// with the file and the field named, exit 2; a count of 0 with 0 µs (a barrier
    /// never issued) is taken.
    #[test]
    fn time_over_no_barrier_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("t.json");
        let write = |count: u64, total: f64| {
            std::fs::write(
                &f,
                format!(
                    "{{\"barriers\":{{\"image_a_flush\":{{\"count\":{count},\"latency_us_sum\":{total:.1}}},\
                     \"image_b_flush\":null,\"journal_fdatasync\":null,\"superblock_write\":null}}}}"
                ),
            )
            .unwrap();
        };
        write(0, 1_000_000.0);
        let mut profile = DeviceModelConfig::default();
        let e = apply_barrier_timings(&f, &mut profile).unwrap_err();
        assert_eq!(exit_of_error(&e), Exit::BadInput, "{e:#}");
        let text = format!("{e:#}");
        assert!(
            text.contains("t.json: barriers.image_a_flush has count 0 and latency_us_sum 1000000"),
            "{text}"
        );
        write(0, 0.0);
        apply_barrier_timings(&f, &mut profile).unwrap();
    }

    /// A barrier name that is not one `owm device timings --json` writes (a misspelt
    /// one), or one of its four left out, is refused naming the field, exit 2: never
    /// read as a barrier the device did not issue.
    #[test]
    fn a_misspelt_or_missing_barrier_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("t.json");
        let all = "\"image_a_flush\":{\"count\":2,\"latency_us_sum\":300},\
                   \"image_b_flush\":null,\"journal_fdatasync\":null,\"superblock_write\":null";
        for (barriers, named) in [
            (
                "\"image_a_flsh\":{\"count\":2,\"latency_us_sum\":300}".to_string(),
                "unknown field `image_a_flsh`",
            ),
            (String::new(), "missing field `image_a_flush`"),
            (
                all.replace(",\"superblock_write\":null", ""),
                "missing field `superblock_write`",
            ),
            (format!("{all},\"extra\":null"), "unknown field `extra`"),
        ] {
            std::fs::write(&f, format!("{{\"barriers\":{{{barriers}}}}}")).unwrap();
            let mut profile = DeviceModelConfig::default();
            let e = apply_barrier_timings(&f, &mut profile).unwrap_err();
            assert_eq!(exit_of_error(&e), Exit::BadInput, "{e:#}");
            let text = format!("{e:#}");
            assert!(text.contains(named), "{barriers}: {text}");
            assert!(text.contains("t.json"), "{text}");
        }
        std::fs::write(&f, format!("{{\"barriers\":{{{all}}},\"device\":\"x\"}}")).unwrap();
        let mut profile = DeviceModelConfig::default();
        apply_barrier_timings(&f, &mut profile).unwrap();
    }
}

#[cfg(test)]
mod publish_tests {
    use super::*;

    fn pending(dir: &Path, name: &str, text: &str) -> Pending {
        Pending::new(dir.join(name), text.as_bytes(), "cannot write it").unwrap()
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// Every pending file is put in place, replacing the old ones, and no temporary
    /// file is left.
    #[test]
    fn all_new_files_replace_the_old_ones() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        std::fs::write(d.join("qd1.csv"), "old 1").unwrap();
        let files = vec![
            pending(d, "qd1.csv", "new 1"),
            pending(d, "qd8.csv", "new 8"),
        ];
        assert_eq!(names(d).len(), 3, "the new files wait beside their places");
        publish_all(files).unwrap();
        assert_eq!(names(d), ["qd1.csv", "qd8.csv"]);
        assert_eq!(std::fs::read_to_string(d.join("qd1.csv")).unwrap(), "new 1");
        assert_eq!(std::fs::read_to_string(d.join("qd8.csv")).unwrap(), "new 8");
    }

    /// A second file that cannot be put in place (its target a directory, or a
    /// non-empty directory that appears after the check) leaves the first target as it
    /// was, old file or none, and removes every new file.
    #[test]
    fn a_failure_at_the_second_file_leaves_the_first_as_it_was() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        std::fs::write(d.join("qd1.csv"), "old 1").unwrap();
        std::fs::create_dir(d.join("qd8.csv")).unwrap();
        let files = vec![
            pending(d, "qd1.csv", "new 1"),
            pending(d, "qd8.csv", "new 8"),
        ];
        let e = publish_all(files).unwrap_err().to_string();
        assert!(e.contains("qd8.csv") && e.contains("directory"), "{e}");
        assert_eq!(std::fs::read_to_string(d.join("qd1.csv")).unwrap(), "old 1");
        assert_eq!(names(d), ["qd1.csv", "qd8.csv"]);

        // Past the up-front check (a directory made in between): the second
        // target cannot be replaced after the first file was put in place; the first
        // gets its old file back.
        std::fs::write(d.join("qd8.csv").join("x"), "x").unwrap();
        let files = vec![
            pending(d, "qd1.csv", "new 1"),
            pending(d, "qd8.csv", "new 8"),
        ];
        let e = put_in_place(files).unwrap_err().to_string();
        assert!(e.contains("qd8.csv"), "{e}");
        assert_eq!(std::fs::read_to_string(d.join("qd1.csv")).unwrap(), "old 1");
        assert_eq!(names(d), ["qd1.csv", "qd8.csv"]);
        assert_eq!(names(&d.join("qd8.csv")), ["x"]);
        // And a first target that held nothing holds nothing again.
        std::fs::remove_file(d.join("qd1.csv")).unwrap();
        let files = vec![
            pending(d, "qd1.csv", "new 1"),
            pending(d, "qd8.csv", "new 8"),
        ];
        put_in_place(files).unwrap_err();
        assert_eq!(names(d), ["qd8.csv"]);
    }
}
