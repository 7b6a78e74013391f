//! Block-trace workloads: the I/O a real system issued, replayed as transactions.
//!
//! A trace file (fio's iolog v2/v3, blkparse's text output, the MSR-Cambridge / SNIA
//! block-trace CSV, or a plain `time,op,offset,length` CSV) is parsed into a list of
//! [`TraceIo`]s (one file per format: [`fio`], [`blkparse`], [`msr`], [`plain`]);
//! [`mapping`] turns them into transactions over the scenario's blocks. The rules,
//! in short (scenarios/README.md has them in full):
//!
//! - **Blocks.** An I/O of `length` bytes at byte `offset` touches blocks
//!   `offset / B ..= (offset + length - 1) / B` of the scenario's block size `B`; each
//!   is one block access (the block's first record). A read reads the block; a write
//!   is a read-modify-write of the block (exact for a partial block; a whole-block
//!   write costs one block read more than a blind write would), or, under
//!   `write_kind = "blind"`, a whole-block write first touching its block in the
//!   transaction writes it without reading it ([`mapping::Access`]).
//! - **Transactions.** One I/O each (`grouping = "io"`), or the consecutive I/Os of
//!   one stream (fio file, blkparse process id, MSR disk, CSV `stream` column) that
//!   follow each other within `idle_gap_ticks`, at most `ios_per_transaction_max`
//!   (`grouping = "stream"`). A block touched twice by one transaction is one access,
//!   a write if either touch writes. Locks: the scenario's `[locking]`, on the blocks.
//! - **Time.** 1 tick = 1 µs. Recorded times are kept in ns, at each format's own
//!   resolution, until they are scaled ([`time`]). `timing = "recorded"`: a
//!   transaction arrives at its first I/O's recorded time (relative to the trace's
//!   first I/O) × `time_scale`, rounded once to ticks ([`time::TimeScale::ticks`]);
//!   `timing = "closed"`: each stream issues its next transaction as soon as its
//!   previous one ends (as fast as the device allows), the first at its recorded time.
//! - **Backup request.** Unless `backup.request_at_ticks` says otherwise, at the
//!   middle of the (scaled) recorded span; closed loop, at the middle of the
//!   replay's expected span on the device ([`MappedTrace::closed_span_ticks`]).
//! - Syncs, trims, discards and zero-length I/Os carry no data and are skipped
//!   (counted in [`Trace::skipped`]).

pub mod blkparse;
pub mod fio;
pub mod mapping;
pub mod msr;
pub mod plain;
pub mod time;

use engine::shown::ShowName as _;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::Workload;
use crate::clock::Tick;
use crate::error::SimError;
use crate::number_text::counted;
use crate::rng;
use crate::scenario::Scenario;
use crate::txn::{Op, TxnSpec};
use crate::workload::WriteKind;

pub use mapping::{Access, MappedTrace, TraceTxn};

/// The file formats a trace may come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TraceFormat {
    /// fio's `write_iolog` output, versions 2 and 3 (`fio version N iolog`).
    FioIolog,
    /// `blkparse` default text output (one event per line).
    Blkparse,
    /// The MSR-Cambridge / SNIA IOTTA block-trace CSV:
    /// `Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime`.
    MsrCsv,
    /// `time,op,offset,length[,stream]`: time in µs, op `R`/`W` (or `read`/`write`).
    Csv,
}

impl TraceFormat {
    /// The name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            TraceFormat::FioIolog => "fio-iolog",
            TraceFormat::Blkparse => "blkparse",
            TraceFormat::MsrCsv => "msr-csv",
            TraceFormat::Csv => "csv",
        }
    }
}

/// How trace time becomes arrival time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Timing {
    /// Each transaction at its recorded time × `time_scale` (open loop).
    Recorded,
    /// Each stream's next transaction as soon as its previous one ends (closed loop).
    Closed,
}

/// How I/Os become transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Grouping {
    /// One I/O, one transaction.
    Io,
    /// A stream's consecutive I/Os within `idle_gap_ticks` of each other.
    Stream,
}

/// Where a trace's byte offsets land on the volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Addresses {
    /// Block `offset / B`: the volume is as large as the highest block touched.
    AsRecorded,
    /// The distinct blocks touched, renumbered 0, 1, 2 … in ascending order (order
    /// and adjacency kept, gaps removed): a trace of a large disk on a small volume.
    Dense,
}

/// Parameters of a trace workload. In TOML: `[workload] kind = "trace"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TraceConfig {
    /// The trace file, relative to the scenario file (required).
    pub path: PathBuf,
    /// Its format (default `fio-iolog`).
    pub format: TraceFormat,
    /// Default `recorded`.
    pub timing: Timing,
    /// Recorded µs × this = arrival ticks, `timing = "recorded"` only (default 1.0),
    /// rounded once by [`time::TimeScale::ticks`].
    pub time_scale: f64,
    /// Default `io`.
    pub grouping: Grouping,
    /// `grouping = "stream"`: a longer pause between two I/Os of a stream (recorded
    /// µs, compared at the trace's own resolution) ends its transaction (default 1000).
    pub idle_gap_ticks: Tick,
    /// `grouping = "stream"`: I/Os per transaction at most (default 16).
    pub ios_per_transaction_max: u32,
    /// Default `as-recorded`.
    pub addresses: Addresses,
    /// Compute ticks between a transaction's reads and its writes (default 0).
    pub compute_ticks: Tick,
    /// How a write of a whole block writes it (default `read-modify-write`: read
    /// first; `blind`: without reading it, as fio's and most applications' writes
    /// of whole blocks do). A write of part of a block reads it either way.
    #[serde(skip_serializing_if = "WriteKind::is_default")]
    pub write_kind: WriteKind,
    /// blkparse: the event that is an I/O (default `Q`, queued; `D` issued, `C`
    /// completed: [`BLKPARSE_EVENTS`]; any other is refused at this key by
    /// [`Scenario::load_trace`]).
    pub blkparse_event: String,
    /// The parsed and mapped trace, filled by [`Scenario::load_trace`].
    #[serde(skip)]
    pub loaded: Option<Arc<MappedTrace>>,
}

impl Default for TraceConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::new(),
            format: TraceFormat::FioIolog,
            timing: Timing::Recorded,
            time_scale: 1.0,
            grouping: Grouping::Io,
            idle_gap_ticks: 1000,
            ios_per_transaction_max: 16,
            addresses: Addresses::AsRecorded,
            compute_ticks: 0,
            write_kind: WriteKind::ReadModifyWrite,
            blkparse_event: "Q".to_string(),
            loaded: None,
        }
    }
}

/// One data I/O of a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceIo {
    /// Recorded time in ns, at the format's own resolution ([`time::recorded_ns`]):
    /// relative to the trace's first I/O once [`parse`] returns it.
    pub time_ns: u64,
    /// A write (else a read).
    pub write: bool,
    /// Byte offset on the traced device or file.
    pub offset_bytes: u64,
    /// Bytes, at least 1.
    pub length_bytes: u64,
    /// Who issued it: fio file, blkparse process id, MSR disk, CSV `stream`
    /// (numbered 0, 1, … in order of first appearance).
    pub stream: u32,
    /// The file line it came from (1-based).
    pub line: u64,
}

/// A parsed trace: its data I/Os in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Trace {
    pub ios: Vec<TraceIo>,
    /// Lines that carry no data access (syncs, trims, discards, zero lengths, other
    /// blkparse events).
    pub skipped: u64,
    /// The file records no times: an fio version 2 iolog without `wait` lines, as fio
    /// before 3.31 writes one. Its I/Os all carry time 0, so `timing = "recorded"`
    /// is refused for it (`Scenario::load_trace`).
    pub untimed: bool,
}

impl Trace {
    /// Adds one parsed I/O: a zero-length one carries no data and is counted in
    /// [`Trace::skipped`]; past [`TRACE_IOS_MAX`] I/Os the trace is refused at the
    /// I/O's line.
    pub(crate) fn push(&mut self, path: &Path, io: TraceIo) -> Result<(), TraceError> {
        if io.length_bytes == 0 {
            self.skipped += 1;
            return Ok(());
        }
        if self.ios.len() >= TRACE_IOS_MAX {
            return Err(TraceError::at(
                path,
                io.line,
                format!("more than {TRACE_IOS_MAX} I/Os"),
            ));
        }
        self.ios.push(io);
        Ok(())
    }
}

/// A bad trace file: which file, which line, what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceError {
    pub path: PathBuf,
    /// 1-based; `None` for the file as a whole.
    pub line: Option<u64>,
    pub message: String,
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.shown())?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        // One line: a field the message quotes from the file is shown escaped.
        write!(f, ": {}", self.message.as_str().shown())
    }
}

impl std::error::Error for TraceError {}

impl TraceError {
    pub(crate) fn at(path: &Path, line: u64, message: impl Into<String>) -> Self {
        TraceError {
            path: path.to_path_buf(),
            line: Some(line),
            message: message.into(),
        }
    }
}

/// The blkparse events `workload.blkparse_event` may name: `Q` (queued by the
/// process), `D` (issued to the driver), `C` (completed).
pub const BLKPARSE_EVENTS: [&str; 3] = ["Q", "D", "C"];

/// Trace I/Os at most (a typo in a path should not fill the memory).
pub const TRACE_IOS_MAX: usize = 10_000_000;

/// Parses `text` (the contents of `path`, named in errors) in `format`.
pub fn parse(
    format: TraceFormat,
    path: &Path,
    text: &str,
    blkparse_event: &str,
) -> Result<Trace, TraceError> {
    let mut trace = match format {
        TraceFormat::FioIolog => fio::parse(path, text)?,
        TraceFormat::Blkparse => blkparse::parse(path, text, blkparse_event)?,
        TraceFormat::MsrCsv => msr::parse(path, text)?,
        TraceFormat::Csv => plain::parse(path, text)?,
    };
    if trace.ios.is_empty() {
        return Err(TraceError {
            path: path.to_path_buf(),
            line: None,
            message: match trace.skipped {
                0 => format!(
                    "no read or write I/O in this {} trace (no line of it is an I/O)",
                    format.as_str()
                ),
                n => format!(
                    "no read or write I/O in this {} trace ({n} I/O line{} carrying no data \
                     skipped: syncs, trims, discards, zero lengths, other events)",
                    format.as_str(),
                    if n == 1 { "" } else { "s" }
                ),
            },
        });
    }
    // Times relative to the first I/O.
    let t0 = trace.ios.iter().map(|io| io.time_ns).min().unwrap_or(0);
    trace.ios.iter_mut().for_each(|io| io.time_ns -= t0);
    Ok(trace)
}

/// Bytes of a trace file at most, whatever `limits.memory_bytes_max` allows: a trace
/// is read whole, so a path naming something endless (`/dev/zero`) or a file far past
/// any trace of [`TRACE_IOS_MAX`] I/Os is refused before it is read.
pub const TRACE_FILE_BYTES_MAX: u64 = 4 << 30;

/// The text of the trace file at `path`, read whole: refused, before it is opened,
/// when it is not a regular file (a device or a pipe has no size to bound) or holds
/// more than `bytes_max` bytes (`limit` names that bound in the message, e.g.
/// `limits.memory_bytes_max = 1000`); never more than `bytes_max` bytes are read.
pub fn read_text(path: &Path, bytes_max: u64, limit: &str) -> Result<String, TraceError> {
    use crate::text_file::ReadError;
    let message = match crate::text_file::read(path, bytes_max) {
        Ok(text) => return Ok(text),
        Err(ReadError::NotRegular) => {
            "not a regular file: a trace is read whole, and only a file has a size to bound it by"
                .to_string()
        }
        Err(ReadError::TooLarge(size)) => format!(
            "the file is {}, more than {limit} (a trace's text is held whole while it is parsed)",
            counted(size, "byte", "bytes")
        ),
        Err(ReadError::NotUtf8 { line, byte }) => {
            return Err(TraceError::at(
                path,
                line,
                format!(
                    "byte {byte} of the line is not UTF-8 text (a trace is read as UTF-8; a \
                     file in another encoding, such as a process name in Latin-1, converts \
                     with `iconv -f LATIN1 -t UTF-8`)"
                ),
            ))
        }
        Err(ReadError::Io(e)) => format!("cannot read: {e}"),
    };
    Err(TraceError {
        path: path.to_path_buf(),
        line: None,
        message,
    })
}

/// Bytes a parsed I/O costs while a trace is loaded: [`mapping::IO_BYTES`] twice (the
/// list grows by doubling) and a pointer (the time-ordered view the mapping sorts), as
/// [`MappedTrace::held_bytes`] counts them.
pub const PARSED_IO_BYTES: u64 = 2 * mapping::IO_BYTES + std::mem::size_of::<usize>() as u64;

/// Lines of the file at `path` (`size` bytes, a regular file), counted in a streaming
/// pass that holds one 64 KiB buffer: each newline, and a last line without one. At
/// most `size` bytes are read.
pub fn count_lines(path: &Path, size: u64) -> Result<u64, TraceError> {
    use std::io::Read;
    let whole = |e: std::io::Error| TraceError {
        path: path.to_path_buf(),
        line: None,
        message: format!("cannot read: {e}"),
    };
    let mut file = std::fs::File::open(path).map_err(whole)?.take(size);
    let mut buffer = vec![0u8; 1 << 16];
    let (mut lines, mut last) = (0u64, b'\n');
    loop {
        let n = match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(whole(e)),
        };
        lines += buffer[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        last = buffer[n - 1];
    }
    Ok(lines + u64::from(last != b'\n'))
}

/// Bytes loading a trace holds at most before its I/Os are mapped: its text
/// (`text_bytes`), a parsed I/O per line ([`PARSED_IO_BYTES`]: a line holds at most
/// one I/O), and the program ([`crate::footprint::PROGRAM_BYTES`]).
pub fn parse_bound_bytes(text_bytes: u64, lines: u64) -> u64 {
    text_bytes
        .saturating_add(lines.saturating_mul(PARSED_IO_BYTES))
        .saturating_add(crate::footprint::PROGRAM_BYTES)
}

/// Refuses, before the file is read, a trace whose loading could pass `memory_max`
/// bytes (`limit` names that bound in the message): from the file's size and its
/// lines ([`count_lines`], [`parse_bound_bytes`]). A file that is not regular or
/// larger than `bytes_max` is refused as by [`read_text`], before its lines are
/// counted.
pub fn check_parse_bound(
    path: &Path,
    bytes_max: u64,
    memory_max: u64,
    limit: &str,
) -> Result<(), TraceError> {
    let whole = |message: String| TraceError {
        path: path.to_path_buf(),
        line: None,
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| whole(format!("cannot read: {e}")))?;
    if !meta.is_file() || meta.len() > bytes_max {
        // Refused by `read_text` with its words.
        return read_text(path, bytes_max, limit).map(|_| ());
    }
    let size = meta.len();
    if parse_bound_bytes(size, 0) > memory_max {
        return Err(whole(format!(
            "the file is {}: loading it holds its text and the program, about {}, more than \
             {limit}; raise that key, or replay a shorter trace",
            counted(size, "byte", "bytes"),
            crate::footprint::human_bytes(parse_bound_bytes(size, 0))
        )));
    }
    let lines = count_lines(path, size)?;
    let bound = parse_bound_bytes(size, lines);
    if bound > memory_max {
        return Err(whole(format!(
            "the file is {} in {}: loading it could hold about {} (its text, up to {} \
             of {PARSED_IO_BYTES} bytes and the program), more than {limit}; raise that key, \
             or replay a shorter trace",
            counted(size, "byte", "bytes"),
            counted(lines, "line", "lines"),
            crate::footprint::human_bytes(bound),
            counted(lines, "parsed I/O", "parsed I/Os")
        )));
    }
    Ok(())
}

/// Reads and parses the trace file at `path` ([`read_text`]: at most `bytes_max`
/// bytes, `limit` naming that bound): the trace and the file's size in bytes. A file
/// whose last line has no newline is refused at that line: a file cut short.
pub fn read(
    format: TraceFormat,
    path: &Path,
    blkparse_event: &str,
    bytes_max: u64,
    limit: &str,
) -> Result<(Trace, u64), TraceError> {
    let text = read_text(path, bytes_max, limit)?;
    if !text.is_empty() && !text.ends_with('\n') {
        // Every format's writers end each line (fio, blkparse, the MSR collector, a
        // CSV writer): a last line without one is a file cut short, whose last line
        // would be replayed cut and every line after it lost.
        return Err(TraceError::at(
            path,
            text.lines().count() as u64,
            "the file ends inside this line (no newline after it): a trace cut short (a \
             copy or transfer that stopped) would replay its last line cut and lose every \
             line after it; if the line is whole, end it with a newline",
        ));
    }
    let trace = parse(format, path, &text, blkparse_event)?;
    Ok((trace, text.len() as u64))
}

/// Numbers streams 0, 1, … in order of first appearance, each name found by its hash:
/// a trace of as many streams as lines (a pid per line) loads in time linear in its
/// lines.
#[derive(Debug, Default)]
pub(crate) struct Streams {
    ids: std::collections::HashMap<String, u32>,
}

impl Streams {
    /// The id of stream `name`: the number of distinct names seen before its first
    /// appearance.
    pub(crate) fn id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        // Distinct names are at most the trace's lines: fewer than 2^31 in a file of
        // at most `TRACE_FILE_BYTES_MAX` (4 GiB) bytes, so the id fits in a u32.
        let id = self.ids.len() as u32;
        self.ids.insert(name.to_string(), id);
        id
    }
}

/// Parses a non-negative integer field, the one parser of every integer field of every
/// trace format: decimal digits alone (no sign, no `+5`, no point), naming the field in
/// the error: what is wrong with it (empty, not a non-negative integer such as `0.5`,
/// `-5` or `+5`, or past 2^64 - 1).
pub(crate) fn number(path: &Path, line: u64, what: &str, s: &str) -> Result<u64, TraceError> {
    let s = s.trim();
    let message = if s.is_empty() {
        format!("{what} is empty")
    } else if !s.bytes().all(|b| b.is_ascii_digit()) {
        format!("{what} `{s}` is not a non-negative integer (decimal digits alone)")
    } else {
        match s.parse::<u64>() {
            Ok(v) => return Ok(v),
            Err(_) => format!("{what} `{s}` is more than {}", u64::MAX),
        }
    };
    Err(TraceError::at(path, line, message))
}

/// Streams that are separate files or disks (fio, MSR) are laid one after another
/// on the volume: stream k starts at the first MiB boundary past the highest byte
/// streams 0..k touch. A no-op with one stream. `what` names a stream in errors
/// (`file`, `disk`).
///
/// Errors: an I/O (of `path`, at its line) whose end, once its stream is laid after the
/// ones before it, would pass byte 2^64 - 1: the message gives the offset as recorded
/// and where its stream was laid.
pub(crate) fn lay_streams_end_to_end(
    trace: &mut Trace,
    path: &Path,
    what: &str,
) -> Result<(), TraceError> {
    const ALIGN_BYTES: u64 = 1 << 20;
    let streams = trace.ios.iter().map(|io| io.stream + 1).max().unwrap_or(0) as usize;
    if streams < 2 {
        return Ok(());
    }
    let mut extent = vec![0u64; streams];
    for io in &trace.ios {
        let end = io.offset_bytes.saturating_add(io.length_bytes);
        extent[io.stream as usize] = extent[io.stream as usize].max(end);
    }
    // `None`: a stream laid from past byte 2^64 - 1.
    let mut base: Vec<Option<u64>> = vec![Some(0); streams];
    for k in 1..streams {
        base[k] = base[k - 1].and_then(|b| {
            b.checked_add(
                extent[k - 1]
                    .div_ceil(ALIGN_BYTES)
                    .checked_mul(ALIGN_BYTES)?,
            )
        });
    }
    for io in &mut trace.ios {
        let k = io.stream as usize;
        let laid = base[k].and_then(|b| {
            let start = io.offset_bytes.checked_add(b)?;
            start.checked_add(io.length_bytes - 1)?;
            Some(start)
        });
        match laid {
            Some(start) => io.offset_bytes = start,
            None => {
                let from = match base[k] {
                    Some(b) => format!("from byte {b}"),
                    None => "from past byte 2^64 - 1".to_string(),
                };
                return Err(TraceError::at(
                    path,
                    io.line,
                    format!(
                        "offset {} + length {} of {what} {} of {streams}, laid {from} \
                         (each {what} is laid after the ones before it, from the first MiB \
                         boundary past the highest byte they touch), ends past byte 2^64 - 1; \
                         `addresses = \"dense\"` renumbers blocks only after this laying out, \
                         so it cannot help: replay fewer {what}s, or move this one's offsets \
                         down",
                        io.offset_bytes,
                        io.length_bytes,
                        k + 1
                    ),
                ));
            }
        }
    }
    Ok(())
}

impl Scenario {
    /// Reads, parses and maps the trace of a `kind = "trace"` workload, its path
    /// taken relative to `base_dir` (the scenario file's directory) unless absolute;
    /// a no-op for the other workloads. Call it after the geometry is final: the
    /// mapping depends on the block size. Errors name the trace file and line.
    pub fn load_trace(&mut self, base_dir: &Path) -> Result<(), SimError> {
        let geometry = self.geometry.clone();
        let super::WorkloadConfig::Trace(c) = &mut self.workload else {
            return Ok(());
        };
        if c.path.as_os_str().is_empty() {
            return Err(SimError::Config {
                key: "workload.path".into(),
                message: "a trace workload needs the trace file's path".into(),
            });
        }
        if geometry.block_size_bytes == 0 || geometry.records_per_block == 0 {
            return Err(crate::validate::layout(self)
                .err()
                .unwrap_or(SimError::Config {
                    key: "geometry.block_size_bytes".into(),
                    message: "the block size and records per block must be positive".into(),
                }));
        }
        crate::validate::time_scale(c)?;
        if c.format == TraceFormat::Blkparse
            && !BLKPARSE_EVENTS.contains(&c.blkparse_event.as_str())
        {
            return Err(SimError::Config {
                key: "workload.blkparse_event".into(),
                message: format!(
                    "`{}` is not a blkparse event a trace replays: one of {}",
                    c.blkparse_event,
                    BLKPARSE_EVENTS
                        .iter()
                        .map(|e| format!("\"{e}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        let path = c.file_in(base_dir);
        // The text alone is held while it is parsed: a file larger than the memory
        // bound is refused before it is read (the whole trace is estimated after:
        // [`MappedTrace::held_bytes`], [`crate::footprint`]).
        let memory_max = self.limits.memory_bytes_max;
        let (bytes_max, limit) = if memory_max < TRACE_FILE_BYTES_MAX {
            (
                memory_max,
                format!("limits.memory_bytes_max = {memory_max}"),
            )
        } else {
            (
                TRACE_FILE_BYTES_MAX,
                format!("{TRACE_FILE_BYTES_MAX}, the most a trace file may hold"),
            )
        };
        // Loading holds the text and the parsed I/Os (a line holds at most one): a file
        // whose lines could pass the memory bound is refused before it is read, and
        // I/Os whose mapped transactions could is refused before they are mapped.
        let memory_limit = format!("limits.memory_bytes_max = {memory_max}");
        let refused = |e: TraceError| SimError::Config {
            key: "workload.path".into(),
            message: e.to_string(),
        };
        check_parse_bound(&path, bytes_max, memory_max, &memory_limit).map_err(refused)?;
        let (trace, text_bytes) =
            read(c.format, &path, &c.blkparse_event, bytes_max, &limit).map_err(refused)?;
        if trace.untimed && c.timing == Timing::Recorded {
            return Err(SimError::Config {
                key: "workload.timing".into(),
                message: format!(
                    "{}: an fio version 2 iolog without `wait` lines (as fio before 3.31 \
                     writes it) records no times, so `timing = \"recorded\"` would replay \
                     its {} as one burst at tick 0; replay it with `timing = \"closed\"` \
                     (each stream issues its next I/O when its previous one ends), or record \
                     a version 3 iolog (fio 3.31 or later), whose lines carry timestamps",
                    path.shown(),
                    counted(trace.ios.len() as u64, "I/O", "I/Os")
                ),
            });
        }
        let parsed = parse_bound_bytes(text_bytes, trace.ios.len() as u64);
        let mapped_max = mapping::map_bound_bytes(&trace, c, geometry.block_size_bytes as u64);
        let bound = parsed.saturating_add(mapped_max);
        if bound > memory_max {
            return Err(refused(TraceError {
                path: path.clone(),
                line: None,
                message: format!(
                    "mapping its {} to transactions could hold about {} with the text, \
                     the parsed I/Os and the program ({} for the transactions and their \
                     block accesses), more than {memory_limit}; raise that key, or replay a \
                     shorter trace (or larger blocks: geometry.block_size_bytes)",
                    counted(trace.ios.len() as u64, "I/O", "I/Os"),
                    crate::footprint::human_bytes(bound),
                    crate::footprint::human_bytes(mapped_max),
                ),
            }));
        }
        let mut mapped = mapping::map(
            &trace,
            c,
            geometry.block_size_bytes as u64,
            geometry.records_per_block,
        )
        .map_err(|e| SimError::Config {
            key: "workload.path".into(),
            // `e` begins with the line: `file:line: message`, as the parsers say it.
            message: format!("{}:{e}", path.shown()),
        })?;
        mapped.text_bytes = text_bytes;
        mapped.path = path;
        c.loaded = Some(Arc::new(mapped));
        Ok(())
    }
}

impl TraceConfig {
    /// The trace file of a scenario file in `base_dir`: `path` relative to it, unless
    /// absolute.
    pub fn file_in(&self, base_dir: &Path) -> PathBuf {
        base_dir.join(&self.path)
    }

    /// Records the volume needs: the blocks the mapped trace touches × records per
    /// block (0 before [`Scenario::load_trace`]).
    pub fn records(&self) -> u64 {
        self.loaded
            .as_ref()
            .map_or(0, |m| m.blocks.saturating_mul(m.records_per_block))
    }

    /// The backup request, in ticks: the middle of the scaled recorded span; replayed
    /// closed loop (`timing = "closed"`, which runs as fast as `device` allows, not
    /// at the recorded times), the middle of the replay's expected span on `device`
    /// ([`MappedTrace::closed_span_ticks`]). 0 before [`Scenario::load_trace`].
    pub fn default_request_ticks(&self, device: &crate::DeviceModelConfig) -> Tick {
        self.loaded.as_ref().map_or(0, |m| match self.timing {
            Timing::Recorded => m.span_ticks / 2,
            Timing::Closed => m.closed_span_ticks(device, self.compute_ticks) / 2,
        })
    }
}

/// The replay of a mapped trace.
pub(crate) struct Replay {
    trace: Arc<MappedTrace>,
    timing: Timing,
    compute_ticks: Tick,
    shapes: ChaCha8Rng,
    /// Open loop: the next transaction to arrive and the next to be shaped.
    next_arrival: usize,
    next_shape: usize,
    /// Closed loop: per stream, its transactions (indices, in order) and how many
    /// have been shaped.
    per_stream: Vec<(Vec<usize>, usize)>,
}

impl Replay {
    pub(crate) fn new(c: &TraceConfig, shapes: ChaCha8Rng) -> Self {
        let trace = c.loaded.clone().unwrap_or_default();
        let mut per_stream: Vec<(Vec<usize>, usize)> = Vec::new();
        if c.timing == Timing::Closed {
            for (i, t) in trace.txns.iter().enumerate() {
                let s = t.stream as usize;
                if per_stream.len() <= s {
                    per_stream.resize_with(s + 1, Default::default);
                }
                per_stream[s].0.push(i);
            }
        }
        Replay {
            trace,
            timing: c.timing,
            compute_ticks: c.compute_ticks,
            shapes,
            next_arrival: 0,
            next_shape: 0,
            per_stream,
        }
    }
}

impl Workload for Replay {
    fn start(&mut self) -> Vec<(Tick, Option<u32>)> {
        match self.timing {
            Timing::Recorded => match self.trace.txns.first() {
                Some(t) => {
                    self.next_arrival = 1;
                    vec![(t.arrival_ticks, None)]
                }
                None => Vec::new(),
            },
            Timing::Closed => self
                .per_stream
                .iter()
                .enumerate()
                .filter_map(|(s, (txns, _))| {
                    let first = *txns.first()?;
                    Some((self.trace.txns[first].arrival_ticks, Some(s as u32)))
                })
                .collect(),
        }
    }

    fn next_arrival(&mut self, now: Tick) -> Option<Tick> {
        let t = self.trace.txns.get(self.next_arrival)?;
        self.next_arrival += 1;
        Some(t.arrival_ticks.max(now))
    }

    fn client_done(&mut self, client: u32, now: Tick) -> Option<Tick> {
        let (txns, shaped) = self.per_stream.get(client as usize)?;
        (*shaped < txns.len()).then_some(now)
    }

    fn shape(&mut self, client: Option<u32>, mut ops: Vec<Op>) -> TxnSpec {
        let index = match client {
            Some(c) => {
                let (txns, shaped) = &mut self.per_stream[c as usize];
                *shaped += 1;
                txns[*shaped - 1]
            }
            None => {
                self.next_shape += 1;
                self.next_shape - 1
            }
        };
        let t = &self.trace.txns[index];
        debug_assert!(ops.is_empty());
        ops.extend(t.blocks.iter().map(|&(block, access)| {
            let record = block * self.trace.records_per_block;
            match access {
                Access::Write => Op::Add {
                    record,
                    delta: rng::uniform(&mut self.shapes, 1, 9) as i64,
                },
                Access::BlindWrite => Op::Put {
                    record,
                    value: rng::uniform(&mut self.shapes, 1, 9) as i64,
                },
                Access::Read => Op::Read { record },
            }
        }));
        TxnSpec {
            label: (index + 1) as u32,
            client,
            ops,
            compute_ticks: self.compute_ticks,
        }
    }
}

#[cfg(test)]
mod streams_tests {
    use super::Streams;
    use proptest::prelude::*;

    /// Disks laid end to end past byte 2^64 - 1: refused at the line of the first I/O
    /// that passes it, naming its offset as recorded (not the sum) and where its disk
    /// was laid; disks that fit are laid at MiB boundaries.
    #[test]
    fn disks_laid_past_2_64_are_refused_with_their_recorded_offset() {
        let path = std::path::Path::new("t.csv");
        let line = |disk: u32, offset: u64| {
            format!("128166372003061629,hm,{disk},Write,{offset},4096,10\n")
        };
        let half = 1u64 << 63;
        let text: String = (0..3).map(|d| line(d, half)).collect();
        let e = super::msr::parse(path, &text).unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        let m = e.to_string();
        for needle in [
            format!("offset {half} + length 4096 of disk 2 of 3"),
            format!("laid from byte {}", half + (1 << 20)),
            "past byte 2^64 - 1".to_string(),
        ] {
            assert!(m.contains(&needle), "{m}");
        }
        assert!(!m.contains(&u64::MAX.to_string()), "{m}");
        let text: String = (0..3).map(|d| line(d, 5)).collect();
        let t = super::msr::parse(path, &text).unwrap();
        let offsets: Vec<u64> = t.ios.iter().map(|io| io.offset_bytes).collect();
        assert_eq!(offsets, [5, 5 + (1 << 20), 5 + (2 << 20)]);
    }

    /// The numbering as a search of the names seen, in order: the first-seen order
    /// the ids follow.
    fn by_search(names: &[String]) -> Vec<u32> {
        let mut seen: Vec<&String> = Vec::new();
        names
            .iter()
            .map(|n| match seen.iter().position(|s| *s == n) {
                Some(i) => i as u32,
                None => {
                    seen.push(n);
                    (seen.len() - 1) as u32
                }
            })
            .collect()
    }

    proptest! {
        /// Any sequence of names (few distinct ones repeated, or many) gets the ids a
        /// search of the names seen gives.
        #[test]
        fn ids_follow_first_appearance(
            names in proptest::collection::vec("[a-c]{0,2}|[0-9]{1,6}", 0..400),
        ) {
            let mut s = Streams::default();
            let got: Vec<u32> = names.iter().map(|n| s.id(n)).collect();
            prop_assert_eq!(got, by_search(&names));
        }
    }
}
