//! A plain CSV trace, for traces converted from any other tool:
//!
//! ```text
//! time,op,offset,length,stream
//! 0,W,4096,512,db
//! 150,R,0,8192,db
//! ```
//!
//! `time` in µs (integer), `op` `R`/`W` (or `read`/`write`, any case), `offset` and
//! `length` in bytes, `stream` optional (any name; default one stream). A first line
//! starting with `time` is the header: `time,op,offset,length[,stream]`, refused when
//! it names other columns or these in another order; under a header without `stream`,
//! a line with a fifth field is refused.

use std::path::Path;

use super::msr::{csv_error, record_line};
use super::time::{recorded_ns, NS_PER_US};
use super::{number, Streams, Trace, TraceError, TraceIo};
use crate::number_text::counted;

/// The text with every indented comment line (spaces or tabs, then `#`) blanked to
/// spaces of its length, so the CSV reader takes it as the blank line it skips and
/// every other line keeps its number and bytes; the text itself when it has none (no
/// copy).
fn blank_indented_comments(text: &str) -> std::borrow::Cow<'_, str> {
    let indented = |line: &str| {
        let rest = line.trim_start_matches([' ', '\t']);
        rest.len() < line.len() && rest.starts_with('#')
    };
    if !text.split('\n').any(indented) {
        return std::borrow::Cow::Borrowed(text);
    }
    let blanked: Vec<String> = text
        .split('\n')
        .map(|line| {
            if indented(line) {
                // Its line end (`\r` before the `\n`) kept.
                let body = line.strip_suffix('\r');
                let cr = if body.is_some() { "\r" } else { "" };
                format!("{}{cr}", " ".repeat(body.unwrap_or(line).len()))
            } else {
                line.to_string()
            }
        })
        .collect();
    std::borrow::Cow::Owned(blanked.join("\n"))
}

/// Parses a `time,op,offset,length[,stream]` CSV trace. A `#` comment line may be
/// indented (spaces or tabs before the `#`), as fields and blank lines are trimmed.
pub fn parse(path: &Path, text: &str) -> Result<Trace, TraceError> {
    let text = &*blank_indented_comments(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let mut trace = Trace::default();
    let mut streams = Streams::default();
    // A header without the `stream` column: no data line may carry a fifth field.
    let mut no_stream_at: Option<u64> = None;
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| csv_error(path, &e))?;
        let n = record_line(text, &record, i, true);
        if i == 0 && record.get(0) == Some("time") {
            // A header naming other columns (or these in another order) would have
            // its lines read in this order, offset for length: refused.
            let names: Vec<&str> = record.iter().collect();
            if !matches!(
                names.as_slice(),
                ["time", "op", "offset", "length"] | ["time", "op", "offset", "length", "stream"]
            ) {
                return Err(TraceError::at(
                    path,
                    n,
                    format!(
                        "header `{}`: expected `time,op,offset,length` or \
                         `time,op,offset,length,stream`, these columns in this order",
                        names.join(",")
                    ),
                ));
            }
            if names.len() == 4 {
                no_stream_at = Some(n);
            }
            continue;
        }
        if record.len() == 1 && record.get(0) == Some("") {
            continue;
        }
        let fields: Vec<&str> = record.iter().collect();
        let (time, op, offset, length, stream) = match (fields.as_slice(), no_stream_at) {
            ([t, o, off, len], _) => (*t, *o, *off, *len, "0"),
            ([_, _, _, _, s], Some(header)) => {
                return Err(TraceError::at(
                    path,
                    n,
                    format!(
                        "5 fields, but the header at line {} is `time,op,offset,length`, \
                         with no `stream` column: name it in the header \
                         (`time,op,offset,length,stream`) or remove the fifth field (`{s}`)",
                        header
                    ),
                ))
            }
            // An empty `stream` is the default stream, as an absent one is.
            ([t, o, off, len, s], None) => {
                (*t, *o, *off, *len, if s.is_empty() { "0" } else { *s })
            }
            (other, _) => {
                return Err(TraceError::at(
                    path,
                    n,
                    format!(
                        "{}; expected {}",
                        counted(other.len() as u64, "field", "fields"),
                        if no_stream_at.is_some() {
                            "time,op,offset,length, the header's columns"
                        } else {
                            "time,op,offset,length[,stream]"
                        }
                    ),
                ))
            }
        };
        let time_ns = recorded_ns(path, n, "time", number(path, n, "time", time)?, NS_PER_US)?;
        let write = match op.to_ascii_lowercase().as_str() {
            "w" | "write" => true,
            "r" | "read" => false,
            _ => {
                return Err(TraceError::at(
                    path,
                    n,
                    format!("op `{op}` is neither R nor W"),
                ))
            }
        };
        let offset_bytes = number(path, n, "offset", offset)?;
        let length_bytes = number(path, n, "length", length)?;
        trace.push(
            path,
            TraceIo {
                time_ns,
                write,
                offset_bytes,
                length_bytes,
                stream: streams.id(stream),
                line: n,
            },
        )?;
    }
    Ok(trace)
}
