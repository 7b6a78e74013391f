//! The MSR-Cambridge block-trace CSV (Narayanan, Donnelly, Rowstron, "Write
//! off-loading", FAST 2008; published by SNIA IOTTA), one I/O per line, no header:
//!
//! ```text
//! Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime
//! 128166372003061629,hm,1,Read,3941425152,8192,1575
//! ```
//!
//! `Timestamp` is a Windows FILETIME (100 ns units since 1601), `Type` `Read` or
//! `Write`, `Offset` and `Size` in bytes, `ResponseTime` in 100 ns units (read but
//! not used: the simulator's device model decides how long an I/O takes). A first line
//! naming the columns (these, in this order) is accepted as a header; one starting with
//! `Timestamp` that names others is refused. The stream is the host and disk number; a
//! file of several disks lays each after the previous one on the volume (as fio's
//! files).

use std::path::Path;

use super::time::recorded_ns;
use super::{lay_streams_end_to_end, number, Streams, Trace, TraceError, TraceIo};
use crate::number_text::counted;

/// The columns, as a header line names them.
const COLUMNS: [&str; 7] = [
    "Timestamp",
    "Hostname",
    "DiskNumber",
    "Type",
    "Offset",
    "Size",
    "ResponseTime",
];

/// Parses an MSR-Cambridge / SNIA CSV trace.
pub fn parse(path: &Path, text: &str) -> Result<Trace, TraceError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut trace = Trace::default();
    let mut streams = Streams::default();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| csv_error(path, &e))?;
        let n = record_line(text, &record, i, false);
        if i == 0 && record.get(0) == Some("Timestamp") {
            // A header naming other columns (or these in another order) would have
            // its lines read in this order: refused.
            if !record.iter().eq(COLUMNS) {
                return Err(TraceError::at(
                    path,
                    n,
                    format!(
                        "header `{}`: expected `{}`, these columns in this order",
                        record.iter().collect::<Vec<_>>().join(","),
                        COLUMNS.join(",")
                    ),
                ));
            }
            continue;
        }
        if record.len() == 1 && record.get(0) == Some("") {
            continue;
        }
        let [ts, host, disk, kind, offset, size, response] =
            <[&str; 7]>::try_from(record.iter().collect::<Vec<_>>()).map_err(|f| {
                TraceError::at(
                    path,
                    n,
                    format!(
                    "{}; expected 7: Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime",
                    counted(f.len() as u64, "field", "fields")
                ),
                )
            })?;
        // 100 ns units, kept whole: ns.
        let time_ns = recorded_ns(path, n, "Timestamp", number(path, n, "Timestamp", ts)?, 100)?;
        number(path, n, "DiskNumber", disk)?;
        number(path, n, "ResponseTime", response)?;
        let write = match kind {
            k if k.eq_ignore_ascii_case("write") => true,
            k if k.eq_ignore_ascii_case("read") => false,
            other => {
                return Err(TraceError::at(
                    path,
                    n,
                    format!("Type `{other}` is neither Read nor Write"),
                ))
            }
        };
        let offset_bytes = number(path, n, "Offset", offset)?;
        let length_bytes = number(path, n, "Size", size)?;
        trace.push(
            path,
            TraceIo {
                time_ns,
                write,
                offset_bytes,
                length_bytes,
                stream: streams.id(&format!("{host}/{disk}")),
                line: n,
            },
        )?;
    }
    lay_streams_end_to_end(&mut trace, path, "disk")?;
    Ok(trace)
}

/// The 1-based line of `text` where `record` (the `i`th, 0-based) starts. The csv
/// reader's position is where it began reading the record, before the blank lines (and
/// `#` lines, with `comments`) it skipped on the way: those are stepped over here.
pub(crate) fn record_line(text: &str, record: &csv::StringRecord, i: usize, comments: bool) -> u64 {
    let Some(p) = record.position() else {
        return i as u64 + 1;
    };
    let mut line = p.line();
    let mut rest = text.get(p.byte() as usize..).unwrap_or("");
    while let Some(end) = rest.find('\n') {
        let l = rest[..end].trim_end_matches('\r');
        if !(l.is_empty() || comments && l.starts_with('#')) {
            break;
        }
        rest = &rest[end + 1..];
        line += 1;
    }
    line
}

/// A CSV syntax error (bad UTF-8, I/O) with its line.
pub(crate) fn csv_error(path: &Path, e: &csv::Error) -> TraceError {
    TraceError {
        path: path.to_path_buf(),
        line: e.position().map(|p| p.line()),
        message: e.to_string(),
    }
}
