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
//! id, action, RWBS, then for I/O events `sector + sectors [command]` (512-byte
//! sectors). Only the chosen action is an I/O (`Q` by default: the request as the
//! process queued it; `D` as issued to the driver; `C` as completed); the others are
//! skipped, remaps (`A … <- (maj,min) sector`, naming the device a request came
//! from) among them: only the chosen events must be of one device. RWBS with `W` is a
//! write, with `R` a read; discards (`D`), flushes alone (`F`, `FN`) and `N` carry no
//! data and are skipped, and so is a request without `sector + sectors` (the empty
//! flush of an fsync or a journal commit: `Q FWS [comm]`, completed as `C FWS 0 [0]`
//! or `C WS 16 [0]`, sector and error). The stream is the process id.
//! The per-CPU and total summary blkparse prints at the end (from the first line
//! starting with `CPU`, `Total`, `Throughput` or `Events`) ends the events.

use std::path::Path;

use super::{number, Streams, Trace, TraceError, TraceIo};

/// Bytes per sector in blkparse's output.
pub const SECTOR_BYTES: u64 = 512;

/// Parses blkparse text, taking `event` lines (e.g. `Q`) as the I/Os.
pub fn parse(path: &Path, text: &str, event: &str) -> Result<Trace, TraceError> {
    let mut trace = Trace::default();
    let mut streams = Streams::default();
    let mut device: Option<String> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i as u64 + 1;
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if ["CPU", "Total", "Throughput", "Events"]
            .iter()
            .any(|s| t.starts_with(s))
        {
            break;
        }
        let f: Vec<&str> = t.split_whitespace().collect();
        if f.len() < 6 {
            return Err(TraceError::at(
                path,
                n,
                "expected `major,minor cpu sequence seconds.nanoseconds pid action ...`",
            ));
        }
        if !f[0].contains(',') {
            return Err(TraceError::at(
                path,
                n,
                format!("`{}` is not a device major,minor", f[0]),
            ));
        }
        number(path, n, "CPU", f[1])?;
        number(path, n, "sequence number", f[2])?;
        let time_us = seconds_to_us(path, n, f[3])?;
        number(path, n, "process id", f[4])?;
        if f[5] != event {
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
        let rwbs = f.get(6).copied().unwrap_or("");
        let write = rwbs.contains('W');
        if rwbs.contains('D') || !(write || rwbs.contains('R')) {
            trace.skipped += 1;
            continue;
        }
        let is_sector = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let (sector, sectors) = match &f[7..] {
            [s, "+", k, ..] => (
                number(path, n, "sector", s)?,
                number(path, n, "sector count", k)?,
            ),
            // A request of no data, such as the empty flush an fsync or a journal
            // commit issues: `Q FWS [comm]`, completed as `C FWS 0 [0]`.
            [] => {
                trace.skipped += 1;
                continue;
            }
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
                    format!("a `{event}` {rwbs} event without `sector + sectors`"),
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
                time_us,
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

/// `seconds.nanoseconds` → µs (truncated).
fn seconds_to_us(path: &Path, n: u64, s: &str) -> Result<u64, TraceError> {
    let bad = || TraceError::at(path, n, format!("time `{s}` is not seconds.nanoseconds"));
    let (secs, frac) = s.split_once('.').ok_or_else(bad)?;
    if frac.is_empty() || frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let secs: u64 = secs.parse().map_err(|_| bad())?;
    let ns: u64 = format!("{frac:0<9}").parse().map_err(|_| bad())?;
    secs.checked_mul(1_000_000)
        .and_then(|us| us.checked_add(ns / 1000))
        .ok_or_else(bad)
}
