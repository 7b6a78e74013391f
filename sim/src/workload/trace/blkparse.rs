//! blkparse's default text output (`blkparse -i TRACE`, from `blktrace -d DEVICE`):
//!
//! ```text
//!   8,0    3        1     0.000000000   697  Q  WS 223490 + 8 [kjournald]
//!   8,0    3        2     0.000001829   697  G  WS 223490 + 8 [kjournald]
//!   8,0    3        5     0.000012070   697  D  WS 223490 + 8 [kjournald]
//!   8,0    1        1     0.000203421     0  C  WS 223490 + 8 [0]
//! ```
//!
//! Fields: device (major,minor), CPU, sequence, time (seconds.nanoseconds), process
//! id, action ([`ACTIONS`]), RWBS ([`rwbs`]), then for I/O events `sector + sectors
//! [command]` (512-byte sectors). Every event line's header fields are checked, and a
//! line whose device, numbers, action or RWBS is not what blkparse writes is refused
//! at its line. Only the chosen action is an I/O (`Q` by default: the request as the
//! process queued it; `D` as issued to the driver; `C` as completed); the other
//! actions are skipped, remaps (`A … <- (maj,min) sector`, naming the device a
//! request came from) among them: only the chosen events must be of one device. RWBS
//! with `W` is a write, with `R` a read; discards (`D`), flushes alone (`F`, `FN`) and
//! `N` carry no data and are skipped, and so is a request without `sector + sectors`
//! (the empty flush of an fsync or a journal commit: `Q FWS [comm]`, completed as
//! `C FWS 0 [0]` or `C WS 16 [0]`, sector and error). A read or write with `sector +
//! sectors` and nothing after them (no `[command]`) is refused: a line cut short. The
//! stream is the process id.
//! The per-CPU and total summary blkparse prints at the end (from its first line:
//! `CPUn (maj,min):`, `Total (…`, `Throughput (…` or `Events (…`) ends the events; an
//! event line after it (two outputs joined) is refused.

use std::path::Path;

use super::time::recorded_ns;
use super::{number, Streams, Trace, TraceError, TraceIo};
use crate::number_text::counted;

/// Bytes per sector in blkparse's output.
pub const SECTOR_BYTES: u64 = 512;

/// The actions blkparse prints in its default output (blkparse.c): `Q` queued, `G` get
/// request, `I` inserted, `D` issued, `C` completed, `M`/`F` back/front merge, `S`
/// sleep, `R` requeued, `P` plug, `U`/`UT` unplug, `X` split, `B` bounce, `A` remap,
/// `m` a message.
pub const ACTIONS: [&str; 16] = [
    "Q", "G", "I", "D", "C", "M", "F", "S", "R", "P", "U", "UT", "X", "B", "A", "m",
];

/// What an RWBS field says of the data an event carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rwbs {
    Read,
    Write,
    /// A discard (`D`), a flush alone (`F`, `FN`) or no data (`N`).
    NoData,
}

/// Reads an RWBS field as blkparse writes it (`fill_rwbs`): `F` (a flush before the
/// data), then the operation, `D` (discard), `W`, `R` or `N` (none), then each at
/// most once and in this order `F` (forced unit access), `A` (read-ahead), `B`
/// (barrier, older blkparse), `S` (synchronous), `M` (metadata). A flush alone may
/// leave out the operation (`F`). `None` for anything else.
pub fn rwbs(s: &str) -> Option<Rwbs> {
    let after_flush = s.strip_prefix('F');
    let rest = after_flush.unwrap_or(s);
    let (kind, mut rest) = match rest.as_bytes().first() {
        Some(b'W') => (Rwbs::Write, &rest[1..]),
        Some(b'R') => (Rwbs::Read, &rest[1..]),
        Some(b'D' | b'N') => (Rwbs::NoData, &rest[1..]),
        _ if after_flush.is_some() => (Rwbs::NoData, rest),
        _ => return None,
    };
    for flag in ['F', 'A', 'B', 'S', 'M'] {
        rest = rest.strip_prefix(flag).unwrap_or(rest);
    }
    rest.is_empty().then_some(kind)
}

/// `major,minor`, both numbers.
fn is_device(s: &str) -> bool {
    let digits = |p: &str| !p.is_empty() && p.len() <= 10 && p.bytes().all(|b| b.is_ascii_digit());
    s.split_once(',')
        .is_some_and(|(major, minor)| digits(major) && digits(minor))
}

/// The first line of blkparse's closing summary: `CPU0 (8,0):`, `Total (8,0):`,
/// `Throughput (R/W): …`, `Events (8,0): … entries`.
fn starts_summary(t: &str) -> bool {
    let cpu = t
        .strip_prefix("CPU")
        .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()));
    cpu || ["Total (", "Throughput (", "Events ("]
        .iter()
        .any(|s| t.starts_with(s))
}

/// Parses blkparse text, taking `event` lines (e.g. `Q`) as the I/Os. Every line
/// before the summary is an event line whose header fields (device, CPU, sequence,
/// time, process id, action, RWBS) are checked, whichever its action; every line is
/// taken or refused at its line, except the events and the requests of no data the
/// module's text lists as skipped.
pub fn parse(path: &Path, text: &str, event: &str) -> Result<Trace, TraceError> {
    let mut trace = Trace::default();
    let mut streams = Streams::default();
    let mut device: Option<String> = None;
    let mut summary_at: Option<u64> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i as u64 + 1;
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        let f: Vec<&str> = t.split_whitespace().collect();
        if let Some(s) = summary_at {
            // The summary's lines are text; an event after it is a second output
            // joined to the first, whose I/Os would be lost.
            if f.len() >= 7 && is_device(f[0]) && seconds_to_ns(path, n, f[3]).is_ok() {
                return Err(TraceError::at(
                    path,
                    n,
                    format!(
                        "an event after blkparse's closing summary (from line {s}): two \
                         outputs joined? run blkparse once over the whole trace"
                    ),
                ));
            }
            continue;
        }
        if starts_summary(t) {
            summary_at = Some(n);
            continue;
        }
        if f.len() < 7 {
            return Err(TraceError::at(
                path,
                n,
                format!(
                    "{}; expected `major,minor cpu sequence seconds.nanoseconds pid \
                     action RWBS ...`",
                    counted(f.len() as u64, "field", "fields")
                ),
            ));
        }
        if !is_device(f[0]) {
            return Err(TraceError::at(
                path,
                n,
                format!("`{}` is not a device major,minor (two numbers)", f[0]),
            ));
        }
        number(path, n, "CPU", f[1])?;
        number(path, n, "sequence number", f[2])?;
        let time_ns = seconds_to_ns(path, n, f[3])?;
        number(path, n, "process id", f[4])?;
        // A message of a traced cgroup carries the cgroup (`inode,generation`, hex)
        // before its action: `… 1a,2 m N text`.
        let cgroup = |s: &str| {
            s.split_once(',').is_some_and(|(a, b)| {
                [a, b]
                    .iter()
                    .all(|h| !h.is_empty() && h.bytes().all(|c| c.is_ascii_hexdigit()))
            })
        };
        let (action, rwbs_field) = if cgroup(f[5]) && f[6] == "m" && f.len() >= 8 {
            (f[6], f[7])
        } else {
            (f[5], f[6])
        };
        if !ACTIONS.contains(&action) {
            return Err(TraceError::at(
                path,
                n,
                format!(
                    "action `{action}` is not one blkparse prints ({})",
                    ACTIONS.join(", ")
                ),
            ));
        }
        let Some(kind) = rwbs(rwbs_field) else {
            return Err(TraceError::at(
                path,
                n,
                format!(
                    "`{rwbs_field}` is not an RWBS field (an optional F, then D, W, R or N, \
                     then any of F, A, B, S, M in that order: `W`, `WS`, `FWS`, `R`, `RA`, `N`)"
                ),
            ));
        };
        if action != event {
            // Other events, among them remaps (`A … <- (maj,min) sector`), which name
            // the device a request came from (a partition, a mapped volume).
            trace.skipped += 1;
            continue;
        }
        match &device {
            Some(d) if d != f[0] => {
                return Err(TraceError::at(
                    path,
                    n,
                    format!(
                        "an event of device {} after events of {d}: run blkparse on one device",
                        f[0]
                    ),
                ))
            }
            Some(_) => {}
            None => device = Some(f[0].to_string()),
        }
        let write = match kind {
            Rwbs::Write => true,
            Rwbs::Read => false,
            // A discard, a flush alone, no data.
            Rwbs::NoData => {
                trace.skipped += 1;
                continue;
            }
        };
        let is_sector = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let (sector, sectors) = match &f[7..] {
            [s, "+", k, rest @ ..] => {
                let (sector, sectors) = (
                    number(path, n, "sector", s)?,
                    number(path, n, "sector count", k)?,
                );
                if !rest
                    .first()
                    .is_some_and(|r| r.starts_with('[') || r.starts_with('('))
                {
                    return Err(TraceError::at(
                        path,
                        n,
                        format!(
                            "a `{event}` {rwbs_field} event with no `[process]` (or `[error]`) \
                             after `sector + sectors`: a line cut short?"
                        ),
                    ));
                }
                (sector, sectors)
            }
            // A request of no data, such as the empty flush an fsync or a journal
            // commit issues: `Q FWS [comm]`, completed as `C FWS 0 [0]`.
            [first, ..] if first.starts_with('[') => {
                trace.skipped += 1;
                continue;
            }
            [s, error, ..] if is_sector(s) && error.starts_with('[') => {
                trace.skipped += 1;
                continue;
            }
            _ => {
                return Err(TraceError::at(
                    path,
                    n,
                    format!(
                        "a `{event}` {rwbs_field} event without `sector + sectors` (then \
                         `[process]`), or `[process]` alone (a request of no data)"
                    ),
                ))
            }
        };
        if sectors == 0 {
            trace.skipped += 1;
            continue;
        }
        let too_big = || TraceError::at(path, n, "sector × 512 overflows 64 bits");
        trace.push(
            path,
            TraceIo {
                time_ns,
                write,
                offset_bytes: sector.checked_mul(SECTOR_BYTES).ok_or_else(too_big)?,
                length_bytes: sectors.checked_mul(SECTOR_BYTES).ok_or_else(too_big)?,
                stream: streams.id(f[4]),
                line: n,
            },
        )?;
    }
    Ok(trace)
}

/// `seconds.nanoseconds` → ns, whole: the nanoseconds as written (fewer than 9
/// digits are tenths, hundredths …).
fn seconds_to_ns(path: &Path, n: u64, s: &str) -> Result<u64, TraceError> {
    let bad = || TraceError::at(path, n, format!("time `{s}` is not seconds.nanoseconds"));
    let (secs, frac) = s.split_once('.').ok_or_else(bad)?;
    if frac.is_empty() || frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if secs.is_empty() || !secs.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let secs = number(path, n, "time's seconds", secs)?;
    let ns: u64 = format!("{frac:0<9}").parse().map_err(|_| bad())?;
    recorded_ns(path, n, "time's seconds", secs, 1_000_000_000)?
        .checked_add(ns)
        .ok_or_else(|| {
            TraceError::at(
                path,
                n,
                format!(
                    "time `{s}` is past {} ns (about 584 years), the longest time a trace \
                     records",
                    u64::MAX
                ),
            )
        })
}
