//! `owm`: the command-line face of the one-way mirror. Thin: parsing and printing
//! here, files in `reports`, simulation in `sim`; `anyhow` only in this binary.

/// Prints a line to stdout. A closed pipe (`owm run ... | head`) is the reader's choice
/// and ignored; any other write error (a full disk, `> /dev/full`) is kept and ends the
/// command with exit 2 (`stdout_status`): a report that never reached its reader is
/// not a success.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let line = format!($($arg)*);
        let line = $crate::terminal_text::terminal_safe(&line);
        if let Err(e) = writeln!(std::io::stdout().lock(), "{line}") {
            $crate::stdout_failed(e);
        }
    }};
}

/// Prints a line to stderr; a closed stderr (`owm run ... 2>&1 | head -1`) is not
/// worth a panic either, so write errors are ignored and the exit status stands.
macro_rules! tell {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let line = format!($($arg)*);
        let line = $crate::terminal_text::terminal_safe(&line);
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }};
}

mod allocator;
mod calibrate_cmd;
mod check;
mod check_model_file;
mod check_serve;
mod check_walk;
mod config;
mod device_cmd;
mod interrupt;
mod locate;
mod machine_memory;
mod nbd_probe;
mod outdir;
mod progress;
mod run;
mod runfile;
mod serve_cmd;
mod shell_word;
mod stats;
mod sweep;
mod sweep_stats;
mod terminal_text;
pub mod verdict;

use engine::shown::ShowName as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};
use engine::{Device, Variant, Vlun};

const EXAMPLES: &str = "\
Examples:
  owm run scenarios/fig3.toml                  Fig 3A/3B/3C: no backup, quiesce, one-way mirror
  owm run scenarios/fig4-5.toml --seed 7       Fig 4 on seed 7, outputs in out/fig4-5
  owm run scenarios/bank.toml --out /tmp/bank  bank transfers under every policy
  owm sweep scenarios/sweep-admission.toml     a parameter grid: one CSV, one plot per metric
  owm sweep S.toml --shard 2/4 --out part2     the 2nd of 4 slices of the grid (job arrays)
  owm merge part1 part2 part3 part4 --out all  join the slices: same bytes as one run
  owm check --variant logging --old 2 --new 2  model-check every interleaving
  owm check --old 4 --new 3 --simulate         random walks where the space is too large
  owm demo                                     one backup cycle per engine variant
  owm serve DIR --create --variant cow --socket /tmp/owm.sock
                                               VLUN A and VLUN B as NBD exports
  owm device split --dir DIR                   the backup request, against `owm serve`

Exit status (run, sweep, merge, check):
  0    everything requested was checked and held (a simulated backup given up or
       abandoned as configured is reported, not a violation: still 0)
  1    an invariant was violated (0 with --allow-violations)
  2    bad input or usage (file, flag, output directory)
  3    incomplete: a limit, bound or interrupt (Ctrl-C, SIGTERM) cut the work, or an
       invariant was unchecked (also calibrate stopped so: nothing written)
  130  a second Ctrl-C (143: a second SIGTERM): the process ended at once, nothing
       committed, no verdict file written

Scenario file reference: scenarios/README.md";

#[derive(Parser)]
#[command(
    name = "owm",
    version,
    about = "One-way data mirror: transaction-consistent backup while every user keeps working",
    after_help = EXAMPLES
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every policy a scenario file names on one seed: print a comparison table,
    /// write summary.csv, trace.csv, extra_space.csv, the extra space and data area
    /// plots and the timing diagrams (PNG and SVG).
    #[command(
        after_help = "Examples:\n  owm run scenarios/fig3.toml\n  owm run scenarios/fig3.toml --seed 42 --out /tmp/fig3"
    )]
    Run {
        /// The scenario file (TOML; reference in scenarios/README.md).
        scenario: PathBuf,
        /// The seed (default: the file's `seed`, else 1), 0 to 2^63 - 1: what a
        /// scenario file's `seed` can hold (TOML integers are 64-bit signed). Printed
        /// with the command that reproduces the run.
        #[arg(long, allow_negative_numbers = true, value_parser = parse_seed)]
        seed: Option<u64>,
        /// Output directory (default: the file's stem under out/); replaced whole when the run
        /// completes.
        #[arg(long)]
        out: Option<PathBuf>,
        /// No progress on stderr (a bar on a terminal, else a line every few seconds).
        #[arg(long)]
        quiet: bool,
        #[command(flatten)]
        verdict: verdict::VerdictArgs,
    },
    /// Run a grid of scenarios (axes x policies x seeds): one CSV row per point, one line
    /// plot per metric with a line per policy.
    #[command(
        after_help = "Examples:\n  owm sweep scenarios/sweep-admission.toml\n  owm sweep scenarios/sweep-admission.toml --shard 1/3 --out part1\n\n\
--shard K/N runs the grid points whose index i (0-based, in the CSV's `index` column)\n\
satisfies i % N == K - 1; `owm merge` joins the N outputs."
    )]
    Sweep {
        /// The sweep file (TOML; reference in scenarios/README.md).
        sweep: PathBuf,
        /// Output directory (default: the file's stem under out/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Run only slice K of N (1 <= K <= N): the points with index % N == K - 1.
        #[arg(long, value_name = "K/N")]
        shard: Option<sweep::Shard>,
        /// Worker threads for the grid points and the plots (default: the available
        /// cores; at most 1024; results do not depend on it).
        #[arg(long, allow_negative_numbers = true, value_parser = parse_jobs)]
        jobs: Option<usize>,
        /// No progress on stderr (a bar on a terminal, else a line every few seconds).
        #[arg(long)]
        quiet: bool,
        /// Reuse the grid points an interrupted run of the same sweep file kept, and
        /// run only the rest.
        #[arg(long)]
        resume: bool,
        #[command(flatten)]
        verdict: verdict::VerdictArgs,
    },
    /// Model-check a small configuration of the protocol over the real engine: every
    /// interleaving, each invariant held or violated with a trace (headed shortest
    /// when proven so).
    /// Exit 0 held, 1 violated, 2 bad input, 3 incomplete (a bound cut the search).
    #[command(
        after_help = "Examples:\n  owm check\n  owm check --variant logging --old 1 --new 2 --records-per-block 2 --locks record\n  owm check --discipline incremental --type-b off\n  owm check --replay out/check/b-complete.trace\n  owm check --blocks 3 --amounts equal --transfers same --old 3 --new 2 --symmetry on\n  owm check --model my-transfers.toml --locks record   (transactions from a TOML file: README, Model files)\n  owm check --locks record --records-per-block 2 --old 4 --new 3 --simulate --seed 1 --walks 200\n  owm check --simulate --walks 100000 --shard 2/8 --trace-dir walks2   (then owm merge walks1 ... walks8)"
    )]
    Check(Box<check::CheckArgs>),
    /// Join the outputs of `owm sweep --shard` (or the trace directories of `owm check
    /// --simulate --shard`) into the files and the verdicts of one unsharded run.
    #[command(after_help = "Example:\n  owm merge part1 part2 part3 --out all")]
    Merge {
        /// The shard output directories.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Output directory (not one of the inputs).
        #[arg(long, default_value = "out/merged")]
        out: PathBuf,
        #[command(flatten)]
        verdict: verdict::VerdictArgs,
    },
    /// Take every variant through one backup cycle (split, writes on both VLUNs,
    /// backup of A, retire) and print what each physical operation cost.
    Demo {
        /// Blocks in the volume.
        #[arg(long, default_value_t = 1024, allow_negative_numbers = true)]
        blocks: u64,
        /// Bytes per block (a multiple of 8).
        #[arg(long, default_value_t = 512, allow_negative_numbers = true)]
        block_size: usize,
    },
    /// Serve a file-backed device over NBD (through nbdkit): exports `vlun-a` and
    /// `vlun-b` (before the split: `vlun-a`, also the default export), and a control
    /// socket for `owm device`.
    #[command(
        after_help = "Examples:\n  owm serve /tmp/dev --create --variant cow --socket /tmp/owm.sock\n  qemu-io -f raw -c 'write -P 1 0 1M' 'nbd+unix:///vlun-a?socket=/tmp/owm.sock'\n  owm device split --dir /tmp/dev"
    )]
    Serve(serve_cmd::ServeArgs),
    /// The life cycle of a served device: split, status, backup --to FILE, retire,
    /// abandon, detach --to FILE, and its barriers' wall times, timings (through the
    /// control socket of `owm serve`).
    Device(device_cmd::DeviceArgs),
    /// Measure the file store's block read, write and flush latencies on a directory's
    /// file system; write them as a device profile (`[device]` table, 1 tick = 1 µs)
    /// and print what it predicts per phase and variant for random writes of
    /// --block-size bytes (default 4 KiB).
    #[command(after_help = "Example:\n  owm calibrate /tmp/owm-cal")]
    Calibrate(calibrate_cmd::CalibrateArgs),
}

/// The command line, parsed; bad usage exits 2 with clap's message. `owm device …
/// --json` prints that refusal as the JSON object its other refusals are
/// (`{"ok":false,"kind":"bad-request","error":…}` on standard output), the message on
/// standard error as ever: a reader of the JSON gets an object on every exit.
fn parse_cli() -> Cli {
    let e = match Cli::try_parse() {
        Ok(cli) => return cli,
        Err(e) => e,
    };
    let all: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let device_json =
        all.get(1).is_some_and(|a| a == "device") && all.iter().any(|a| a == "--json");
    let usage = !matches!(
        e.kind(),
        clap::error::ErrorKind::DisplayHelp
            | clap::error::ErrorKind::DisplayVersion
            | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    // A value that is not UTF-8: the flag it is of named.
    let not_utf8 = (e.kind() == clap::error::ErrorKind::InvalidUtf8).then(|| not_utf8_words(&all));
    // The message's first paragraph, on one line, for the JSON object and the verdict
    // files.
    let text = match &not_utf8 {
        Some(words) => words.clone(),
        None => e.render().to_string(),
    };
    let error = text
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    let error = error.strip_prefix("error: ").unwrap_or(&error);
    if device_json && usage {
        say!(
            "{}",
            serde_json::json!({"ok": false, "kind": "bad-request", "error": error})
        );
    }
    if usage {
        record_usage_error(&all, error);
    }
    if let Some(words) = not_utf8 {
        tell!("error: {words}");
        std::process::exit(2)
    }
    e.exit()
}

/// A usage error (`message`, exit 2) of a command that writes verdict files (`run`,
/// `sweep`, `merge`, `check`): the `--json` and `--junit` files its arguments `all`
/// name (`--json FILE` or `--json=FILE`; the last given) record it as a failed case
/// `run`, as a bad file's refusal does, so a CI step reading them never finds an
/// earlier verdict there. As everywhere, a file is not written over one of the
/// command's inputs (here every argument that names an existing file) nor inside its
/// output directory (`--out`, `--trace-dir`). Nothing when the arguments name
/// neither file, a flag's value is what is missing, or the refusal is of a verdict
/// flag itself (`--json` beside `--replay` or `--serve`, which write no verdict).
fn record_usage_error(all: &[std::ffi::OsString], message: &str) {
    let Some(command) = all
        .get(1)
        .and_then(|c| c.to_str())
        .filter(|c| matches!(*c, "run" | "sweep" | "merge" | "check"))
    else {
        return;
    };
    // A verdict flag the parser refuses itself (`--json` beside `--replay`, which
    // writes none) is not one to write.
    if message.contains("'--json") || message.contains("'--junit") {
        return;
    }
    let args = all.get(2..).unwrap_or_default();
    // Each flag's last value, and where the verdict flags' values stand.
    let mut verdict_values = Vec::new();
    let value = |flag: &str, at: &mut Vec<usize>| -> Option<PathBuf> {
        let with = format!("{flag}=");
        let mut found = None;
        for (i, a) in args.iter().enumerate() {
            if a == flag {
                found = args.get(i + 1).map(PathBuf::from);
                at.push(i + 1);
            } else if let Some(v) = a.to_str().and_then(|a| a.strip_prefix(&with)) {
                found = Some(PathBuf::from(v));
            }
        }
        found
    };
    let verdict = verdict::VerdictArgs {
        allow_violations: args.iter().any(|a| a == "--allow-violations"),
        junit: value("--junit", &mut verdict_values),
        json: value("--json", &mut verdict_values),
    };
    if verdict.junit.is_none() && verdict.json.is_none() {
        return;
    }
    // Every other argument naming an existing file may be an input (the scenario, a
    // model file): `owm run s.toml --json s.toml --bogus` writes no JSON over s.toml.
    let given: Vec<PathBuf> = args
        .iter()
        .enumerate()
        .filter(|(i, _)| !verdict_values.contains(i))
        .map(|(_, a)| PathBuf::from(a))
        .filter(|p| p.is_file())
        .collect();
    let inputs: Vec<verdict::Input> = given.iter().map(|p| ("an argument", &**p)).collect();
    let out_flag = if command == "check" {
        "--trace-dir"
    } else {
        "--out"
    };
    let out = value(out_flag, &mut Vec::new());
    let _ = verdict.record_error(
        Err(anyhow::anyhow!("{message}")),
        command,
        command,
        out.as_deref().map(|d| (out_flag, d)),
        &inputs,
    );
}

fn main() -> ExitCode {
    allocator::map_large_blocks_alone();
    let result = match parse_cli().command {
        Command::Run {
            scenario,
            seed,
            out,
            quiet,
            verdict,
        } => {
            interrupt::install();
            run::run(run::RunArgs {
                scenario,
                seed,
                out,
                quiet,
                verdict,
            })
        }
        Command::Sweep {
            sweep,
            out,
            shard,
            jobs,
            quiet,
            resume,
            verdict,
        } => {
            interrupt::install();
            let jobs = jobs.unwrap_or_else(sweep::cores);
            sweep::sweep(&sweep, out, shard, jobs, quiet, resume, &verdict)
        }
        Command::Merge { dirs, out, verdict } => {
            let inputs: Vec<verdict::Input> = dirs.iter().map(|d| ("the shard", &**d)).collect();
            let walks = dirs.first().is_some_and(|d| check_walk::is_walk_output(d));
            let result = if let Err(e) = verdict.preflight(Some(("--out", &out)), &inputs) {
                Err(e)
            } else if let Some(e) = not_a_directory(&dirs).or_else(|| mixed_merge(&dirs)) {
                Err(e)
            } else if walks {
                check_walk::merge(&dirs, &out, &verdict)
            } else {
                sweep::merge(&dirs, &out, &verdict)
            };
            let merged = Some(if walks { "check" } else { "sweep" });
            verdict.record_merge_error(
                result,
                "merge",
                merged,
                "merge",
                Some(("--out", &out)),
                &inputs,
            )
        }
        Command::Check(args) => check::run(&args),
        Command::Demo { blocks, block_size } => {
            demo(blocks, block_size).map(|()| verdict::Exit::Held)
        }
        Command::Serve(args) => serve_cmd::serve(&args).map(|()| verdict::Exit::Held),
        Command::Device(args) => device_cmd::device(&args).map(|()| verdict::Exit::Held),
        Command::Calibrate(args) => {
            interrupt::install();
            calibrate_cmd::calibrate(&args)
        }
    };
    let code = match result {
        Ok(exit) => exit.into(),
        Err(e) => {
            tell!("error: {}", verdict::error_text(&e));
            verdict::exit_of_error(&e).into()
        }
    };
    stdout_status().unwrap_or(code)
}

/// The first error writing stdout other than a closed pipe ([`say!`]).
static STDOUT_ERROR: std::sync::OnceLock<std::io::Error> = std::sync::OnceLock::new();

/// Keeps `e` unless it is a closed pipe (the reader stopped reading: not an error).
fn stdout_failed(e: std::io::Error) {
    if e.kind() != std::io::ErrorKind::BrokenPipe {
        let _ = STDOUT_ERROR.set(e);
    }
}

/// Exit 2, said on stderr, when stdout could not be written (a line or the final
/// flush); `None` when everything printed reached it (or its reader closed it).
fn stdout_status() -> Option<ExitCode> {
    let e = stdout_error()?;
    tell!("error: {e}");
    Some(ExitCode::from(2))
}

/// Flushes stdout and says why what was printed so far did not all reach it
/// (`writing the report to stdout: No space left on device`); `None` when it did (or
/// its reader closed it). The verdict files record it ([`verdict::VerdictArgs::finish`]).
pub(crate) fn stdout_error() -> Option<String> {
    use std::io::Write as _;
    if let Err(e) = std::io::stdout().lock().flush() {
        stdout_failed(e);
    }
    let e = STDOUT_ERROR.get()?;
    Some(format!("writing the report to stdout: {e}"))
}

/// `--jobs`: 1..=[`check::THREADS_MAX`] (more threads than a machine runs usefully
/// only risk the operating system refusing them).
/// The command line, parsed; on an error, clap's message and exit status (2), except
/// for a value that is not UTF-8, whose flag clap does not name: the message names it.
/// What a command line with an argument that is not UTF-8 gets wrong, naming the flag
/// whose value it is: `the value of --variant is not UTF-8 ...`.
fn not_utf8_words(args: &[std::ffi::OsString]) -> String {
    let why = "(only a file path may hold bytes that are not UTF-8)";
    let Some(at) = args.iter().position(|a| a.to_str().is_none()) else {
        return format!("an argument is not UTF-8 {why}");
    };
    let bytes = args[at].as_encoded_bytes();
    let flag = if bytes.starts_with(b"--") {
        // `--flag=value`: the flag is before the `=`, when that part is text.
        bytes
            .iter()
            .position(|&b| b == b'=')
            .and_then(|eq| std::str::from_utf8(&bytes[..eq]).ok())
            .map(str::to_string)
    } else {
        at.checked_sub(1)
            .and_then(|i| args[i].to_str())
            .filter(|a| a.starts_with('-'))
            .map(str::to_string)
    };
    match flag {
        Some(flag) => format!("the value of {flag} is not UTF-8 {why}"),
        None => format!("argument {at} is not UTF-8 {why}"),
    }
}

/// `--seed`: a whole number from 0 to 2^63 - 1, refused with that range otherwise
/// (`-1 is out of range: must be 0 or more (0 to 9223372036854775807)`, `1.5 is not a
/// whole number: a seed is 0 to 9223372036854775807`).
fn parse_seed(s: &str) -> Result<u64, String> {
    const MAX: u64 = sim::seeds::SEED_MAX;
    match s.parse::<i128>() {
        Ok(v) if (0..=i128::from(MAX)).contains(&v) => Ok(v as u64),
        Ok(v) if v < 0 => Err(format!(
            "{v} is out of range: must be 0 or more (0 to {MAX})"
        )),
        Ok(v) => Err(format!(
            "{v} is out of range: must be at most {MAX} (0 to {MAX})"
        )),
        Err(_) => Err(format!("`{s}` is not a whole number: a seed is 0 to {MAX}")),
    }
}

fn parse_jobs(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=check::THREADS_MAX).contains(&n) => Ok(n),
        _ => Err(format!("`{s}`: expected 1..={} jobs", check::THREADS_MAX)),
    }
}

/// A merge input that exists and is not a directory (a shard is an output
/// directory): refused naming it.
fn not_a_directory(dirs: &[std::path::PathBuf]) -> Option<anyhow::Error> {
    let file = dirs.iter().find(|d| d.exists() && !d.is_dir())?;
    Some(anyhow::anyhow!(
        "{}: not a directory: a shard is the output directory of owm sweep --shard or of \
         owm check --simulate --shard",
        file.shown()
    ))
}

/// A merge given both random-walk outputs and sweep outputs: refused, naming one of
/// each (each kind merges only with its own). Beside a random-walk output, a
/// directory that is neither (a shard whose `walks.toml` is gone) is refused naming
/// that file, missing.
fn mixed_merge(dirs: &[std::path::PathBuf]) -> Option<anyhow::Error> {
    let walk = dirs.iter().find(|d| check_walk::is_walk_output(d))?;
    let other = dirs.iter().find(|d| !check_walk::is_walk_output(d))?;
    if sweep::is_sweep_output(other) {
        return Some(anyhow::anyhow!(
            "{} is the output of owm check --simulate, {} is not: merge the shards of one \
             sweep, or of one random-walk run, at a time",
            walk.shown(),
            other.shown()
        ));
    }
    Some(anyhow::anyhow!(
        "{}: missing: {} is the output of owm check --simulate, and {} is no output of it \
         (nor of a sweep: no sweep.toml or shard.toml); each shard of one random-walk run \
         holds its walks.toml (run that shard again)",
        other.join(check_walk::WALK_FILE).shown(),
        walk.shown(),
        other.shown()
    ))
}

/// The largest volume `owm demo` takes, in bytes: it writes every block of three
/// in-memory devices of up to three images each.
const DEMO_BYTES_MAX: u64 = 256 << 20;

/// `owm demo`: every variant through one backup cycle. The table, then its legend
/// (units, what each column counts), is printed only
/// once every variant has run, so a bad geometry (no blocks, a block size not a
/// multiple of 8, a volume over [`DEMO_BYTES_MAX`], refused before any work) prints
/// no half table.
fn demo(blocks: u64, block_size: usize) -> Result<()> {
    let word = engine::store::WORD_BYTES;
    if blocks == 0 {
        anyhow::bail!("--blocks 0: the volume needs at least one block");
    }
    if block_size == 0 || !block_size.is_multiple_of(word) {
        anyhow::bail!(
            "--block-size {block_size}: a block size must be a positive multiple of {word} bytes \
             (default 512)"
        );
    }
    if (block_size as u64).saturating_mul(blocks) > DEMO_BYTES_MAX {
        anyhow::bail!(
            "--blocks {blocks} x --block-size {block_size} is more than the demo's {} MiB volume",
            DEMO_BYTES_MAX >> 20
        );
    }
    let mut rows = Vec::new();
    for variant in Variant::ALL {
        let dev = Device::in_memory(variant, block_size, blocks)
            .map_err(|e| anyhow::anyhow!("--blocks {blocks} --block-size {block_size}: {e}"))?;
        let data = vec![0xA5u8; block_size];
        for b in 0..blocks {
            dev.write(Vlun::A, b, &data)?;
        }
        dev.split()?;
        for b in (0..blocks).step_by(2) {
            dev.write(Vlun::B, b, &data)?;
        }
        for b in (0..blocks).step_by(3) {
            dev.write(Vlun::A, b, &data)?;
        }
        dev.backup_a(&mut std::io::sink())?;
        dev.retire_a()?;
        rows.push((variant, dev.counters()));
    }
    say!(
        "{:<10} {:>8} {:>8} {:>8} {:>8} {:>8} {:>10} {:>8}",
        "variant",
        "A reads",
        "A writes",
        "B reads",
        "B writes",
        "table",
        "extra peak",
        "wr/write"
    );
    for (variant, c) in rows {
        say!(
            "{:<10} {:>8} {:>8} {:>8} {:>8} {:>8} {:>10} {:>8.2}",
            variant.as_str(),
            c.image_a_reads,
            c.image_a_writes,
            c.image_b_reads,
            c.image_b_writes,
            c.table_inserts + c.table_removes,
            c.extra_space_peak,
            c.writes_per_logical_write()
        );
    }
    say!(
        "(one backup cycle on a volume of {blocks} block{plural} of {block_size} bytes: every block \
         written on VLUN A, the split, every second block written on VLUN B and every third \
         on VLUN A, the backup of A, the retire; A reads, A writes, B reads, B writes = \
         physical block reads and writes of image A and image B, the backup's included; \
         table = lookup-table entries inserted and removed; extra peak = the most extra \
         space in use at once, in blocks: data-area slots, and mirroring's second full \
         image while VLUN A is live; wr/write = physical block writes per logical write)",
        plural = if blocks == 1 { "" } else { "s" }
    );
    Ok(())
}
