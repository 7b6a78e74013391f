//! fio's iolog (`write_iolog=FILE`, replayed by `read_iolog=FILE`), versions 2 and 3,
//! as fio's HOWTO ("Trace file format") defines them:
//!
//! ```text
//! fio version 2 iolog                  fio version 3 iolog
//! /dev/sdb add                         0 /dev/sdb add
//! /dev/sdb open                        5 /dev/sdb open
//! /dev/sdb write 4096 512              161 /dev/sdb write 4096 512
//! /dev/sdb wait 1000 0                 1540 /dev/sdb read 8192 4096
//! /dev/sdb read 8192 4096              2000 /dev/sdb close
//! ```
//!
//! Version 3 gives every line a timestamp since the job started, in µs (fio's HOWTO
//! leaves the unit unsaid; a 116-I/O fio 3.33 job with a 1 ms think time, 0.5 s of
//! wall time in all, ends at 321,742: only µs fits). Version 2 has none: time advances by the
//! `wait` actions (µs, relative to the previous wait), so I/Os between waits share a
//! time. fio writes version 2 (before 3.31) with no `wait` lines, so such a log
//! records no times at all ([`Trace::untimed`]): only `timing = "closed"` replays it. A version 3 file whose timestamps go backwards is replayed sorted by time,
//! equal times in file order ([`super::mapping::map`]), like every other format. `read` and `write` are I/Os (offset and length in bytes); `sync`, `datasync`
//! and `trim` are skipped; `add`, `open`, `close` manage files. Each file is a stream;
//! with several files, each is laid after the previous one on the volume, at the next
//! MiB boundary past the highest byte the trace touches in it.

use std::path::Path;

use super::time::{recorded_ns, NS_PER_US};
use super::{lay_streams_end_to_end, number, Streams, Trace, TraceError, TraceIo};
use crate::number_text::counted;

/// Parses an fio iolog (v2 or v3).
pub fn parse(path: &Path, text: &str) -> Result<Trace, TraceError> {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i as u64 + 1, l));
    let (n, header) = lines
        .by_ref()
        .find(|(_, l)| !l.trim().is_empty())
        .ok_or_else(|| TraceError::at(path, 1, "empty file: not an fio iolog"))?;
    let version = match header.trim() {
        "fio version 2 iolog" => 2,
        "fio version 3 iolog" => 3,
        other => {
            return Err(TraceError::at(
                path,
                n,
                format!(
                    "`{other}` is not an fio iolog header (`fio version 2 iolog` or `fio version 3 iolog`)"
                ),
            ))
        }
    };
    let mut files = Streams::default();
    let mut added: Vec<bool> = Vec::new();
    // Per file: the line of its last `close`, while no `open` followed it.
    let mut closed_at: Vec<Option<u64>> = Vec::new();
    let mut trace = Trace::default();
    let mut clock_ns = 0u64;
    let mut waited = false;
    for (n, line) in lines {
        let mut fields: Vec<&str> = line.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        if version == 3 {
            // A timestamp earlier than the previous line's (merged logs) is kept:
            // the mapping replays the I/Os sorted by time, stably, as for every format.
            let us = number(path, n, "timestamp", fields[0])?;
            clock_ns = recorded_ns(path, n, "timestamp", us, NS_PER_US)?;
            fields.remove(0);
        }
        let (file, action, rest) = match fields.as_slice() {
            [file, action, rest @ ..] => (*file, *action, rest),
            _ => {
                return Err(TraceError::at(
                    path,
                    n,
                    format!(
                        "expected `{}filename action [offset length]`",
                        if version == 3 { "timestamp " } else { "" }
                    ),
                ))
            }
        };
        let stream = files.id(file);
        if added.len() <= stream as usize {
            added.push(false);
            closed_at.push(None);
        }
        match (action, rest) {
            ("add", []) => added[stream as usize] = true,
            ("open", []) if added[stream as usize] => closed_at[stream as usize] = None,
            ("close", []) if added[stream as usize] => closed_at[stream as usize] = Some(n),
            ("open" | "close", []) => {
                return Err(TraceError::at(
                    path,
                    n,
                    format!("file `{file}` is {action}ed before it is added"),
                ))
            }
            ("wait", [offset, length]) if version == 2 => {
                waited = true;
                let wait_ns = recorded_ns(
                    path,
                    n,
                    "wait time",
                    number(path, n, "wait time", offset)?,
                    NS_PER_US,
                )?;
                clock_ns = clock_ns.checked_add(wait_ns).ok_or_else(|| {
                    TraceError::at(
                        path,
                        n,
                        format!(
                            "the waits up to this line pass {} ns (about 584 years), the \
                             longest time a trace records",
                            u64::MAX
                        ),
                    )
                })?;
                number(path, n, "length", length)?;
                trace.skipped += 1;
            }
            ("wait", _) if version == 3 => {
                return Err(TraceError::at(
                    path,
                    n,
                    "`wait` is not allowed in a version 3 iolog (timestamps give the time)",
                ))
            }
            ("read" | "write" | "sync" | "datasync" | "trim", [offset, length]) => {
                if !added[stream as usize] {
                    return Err(TraceError::at(
                        path,
                        n,
                        format!("file `{file}` is used before it is added"),
                    ));
                }
                if let Some(at) = closed_at[stream as usize] {
                    return Err(TraceError::at(
                        path,
                        n,
                        format!(
                            "file `{file}` is used after its `close` at line {at} with no \
                             `open` since (fio replays no I/O of a closed file)"
                        ),
                    ));
                }
                let offset_bytes = number(path, n, "offset", offset)?;
                let length_bytes = number(path, n, "length", length)?;
                if !matches!(action, "read" | "write") {
                    trace.skipped += 1;
                    continue;
                }
                trace.push(
                    path,
                    TraceIo {
                        time_ns: clock_ns,
                        write: action == "write",
                        offset_bytes,
                        length_bytes,
                        stream,
                        line: n,
                    },
                )?;
            }
            ("read" | "write" | "sync" | "datasync" | "trim", _) => {
                return Err(TraceError::at(
                    path,
                    n,
                    format!(
                        "the `{action}` action needs an offset and a length (`{action} OFFSET \
                         LENGTH`), not {}",
                        arguments(rest.len())
                    ),
                ))
            }
            ("add" | "open" | "close", _) => {
                return Err(TraceError::at(
                    path,
                    n,
                    format!(
                        "the `{action}` action takes no offset or length, not {}",
                        arguments(rest.len())
                    ),
                ))
            }
            ("wait", _) => {
                return Err(TraceError::at(
                    path,
                    n,
                    format!(
                        "the `wait` action needs a wait time and a length (`wait MICROSECONDS \
                         LENGTH`), not {}",
                        arguments(rest.len())
                    ),
                ))
            }
            _ => {
                return Err(TraceError::at(
                    path,
                    n,
                    format!(
                        "unknown action `{action}` with {} (add, open, close; read, write, \
                         sync, datasync, trim with offset and length{})",
                        counted(rest.len() as u64, "argument", "arguments"),
                        if version == 2 { "; wait" } else { "" }
                    ),
                ))
            }
        }
    }
    trace.untimed = version == 2 && !waited;
    lay_streams_end_to_end(&mut trace, path, "file")?;
    Ok(trace)
}

/// `n` arguments in words: "none", "1 argument", "3 arguments".
fn arguments(n: usize) -> String {
    match n {
        0 => "none".to_string(),
        _ => counted(n as u64, "argument", "arguments"),
    }
}
