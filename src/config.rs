//! Loading scenario and sweep files, with errors that name the file, the line and the
//! key: `scenarios/x.toml:7: key `workload.records`: invalid type ...`.
//!
//! The checks live in the simulator (`Scenario::validate`, whose errors name a dotted
//! key); this module only finds the key's line with the one key locator
//! ([`crate::locate`]).

use engine::shown::ShowName as _;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use sim::{Scenario, SimError};

use crate::locate::Keys;

/// The words after the message of an error about a key the file leaves at its
/// default ([`FileError::key`]).
pub const DEFAULT_NOTE: &str = " (the default; set it in the file)";

/// A bad input file: where and what.
#[derive(Debug)]
pub struct FileError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub key: Option<String>,
    pub message: String,
    /// The offending line's text, when known.
    pub snippet: Option<String>,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.shown())?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        if let Some(k) = &self.key {
            write!(f, ": key `{}`", k.shown())?;
        }
        // One line: a name the message quotes from the file (a key, a value) is shown
        // escaped ([`engine::shown`]), as the path and key are.
        write!(f, ": {}", self.message.as_str().shown())?;
        if let (Some(l), Some(s)) = (self.line, &self.snippet) {
            write!(f, "\n  {l:>4} | {s}")?;
        }
        Ok(())
    }
}

impl std::error::Error for FileError {}

impl FileError {
    /// An error about the file as a whole (missing, unreadable).
    pub fn whole(path: &Path, message: impl Into<String>) -> Self {
        FileError {
            path: path.to_path_buf(),
            line: None,
            key: None,
            message: message.into(),
            snippet: None,
        }
    }

    /// An error at a byte offset of `src`.
    pub fn at(path: &Path, src: &str, offset: usize, message: impl Into<String>) -> Self {
        let keys = Keys::of(src);
        let line = keys.line_of(offset);
        FileError {
            path: path.to_path_buf(),
            line: Some(line),
            key: keys.key_at(offset),
            message: message.into(),
            snippet: keys.line_text(line),
        }
    }

    /// An error about the value of `key` (a dotted path), located in `src` when the
    /// file sets it, or at the `values` line of the sweep's `[[axis]]` that sets it
    /// (`scenario.K` swept by an axis of `K`, of a table holding it or of a key inside
    /// it: [`axis_setting`]); else the default is at fault, and the message says so
    /// ("(the default; set it in the file)"), at the nearest table the file writes
    /// that would hold the key (`[limits]` for `limits.events_max`), or, when it
    /// writes none, at no line (`FILE: key `limits.time_ticks_max`: …`), never at an
    /// unrelated one: [`Keys::default_line`].
    pub fn key(path: &Path, src: &str, key: &str, message: impl Into<String>) -> Self {
        let keys = Keys::of(src);
        let mut message = message.into();
        let line = match (keys.sets(key), axis_setting(src, key)) {
            (Some((_, line)), _) => Some(line),
            (None, Some(n)) => keys.line(&format!("axis.{n}.values")),
            (None, None) => {
                message.push_str(DEFAULT_NOTE);
                keys.default_line(key)
            }
        };
        FileError {
            path: path.to_path_buf(),
            line,
            key: Some(key.to_string()),
            message,
            snippet: line.and_then(|l| keys.line_text(l)),
        }
    }

    /// A deserialisation error of `src`, in the file's terms ([`toml_words`]; an
    /// unknown key with the closest known one first: [`unknown_field_words`]).
    /// A key or value it quotes from the file is shown as a name
    /// ([`engine::shown`]): serde's words are one line, and stay so.
    pub fn toml(path: &Path, src: &str, e: &toml::de::Error) -> Self {
        // A syntax error's message puts what the parser expected, or why, on lines of
        // their own (`invalid table header` then ``expected `.`, `]]` `` or `duplicate
        // key `axis` in document root`): they are joined to the first, so the error
        // stays one line. Any other line feed is quoted from the file (a key may hold
        // one) and is shown escaped.
        let message = e.message().trim();
        let one_line = if toml_edit::ImDocument::parse(src).is_err() {
            message
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(": ")
        } else {
            message.to_string()
        };
        let msg = toml_words(&one_line.shown().to_string());
        let msg = unknown_field_words(&msg, &[]).unwrap_or(msg);
        match e.span() {
            Some(span) => {
                let mut err = FileError::at(path, src, span.start, msg);
                if let Some(key) = err
                    .key
                    .as_deref()
                    .and_then(|k| field_at_fault(src, k, &err.message))
                {
                    let keys = Keys::of(src);
                    if let Some((_, line)) = keys.sets(&key) {
                        err.line = Some(line);
                        err.snippet = keys.line_text(line);
                    }
                    err.key = Some(key);
                }
                if let Some(key) = err.key.as_deref() {
                    err.message = with_unit(&err.message, key);
                }
                err
            }
            None => FileError::whole(path, msg),
        }
    }
}

/// The key of the field inside the table at `key` (an inline table such as
/// `arrivals = { mode = "closed", think_ticks_mean = -5 }`, or a nested one) that an
/// error `message` about that table is about: the field it names as unknown
/// (``unknown field `x` ``), or the one field whose value is the value it quotes
/// (``invalid value: integer `-5` ``, `invalid type: string "x"`), descending through
/// tables. `None` when `key` is no table or the message points at no one field.
fn field_at_fault(src: &str, key: &str, message: &str) -> Option<String> {
    let doc = toml_edit::ImDocument::parse(src).ok()?;
    let mut item = doc.as_item();
    for part in key.split('.') {
        item = item.get(part)?;
    }
    let quoted = quoted_value(message);
    let unknown = message
        .strip_prefix("unknown field `")
        .and_then(|r| r.split_once('`'))
        .map(|(f, _)| f.to_string());
    let mut key = key.to_string();
    let mut found = false;
    while let Some(table) = item.as_table_like() {
        let hits: Vec<(&str, &toml_edit::Item)> = table
            .iter()
            .filter(|(k, v)| {
                Some(*k) == unknown.as_deref()
                    || v.is_table_like()
                    || quoted.as_ref().is_some_and(|q| same_text(v, q))
            })
            .collect();
        // The one field the message names, else the one table holding it.
        let named: Vec<_> = hits.iter().filter(|(_, v)| !v.is_table_like()).collect();
        let next = match named.as_slice() {
            [(k, v)] => Some((*k, *v)),
            [] => match hits.as_slice() {
                [(k, v)] => Some((*k, *v)),
                _ => None,
            },
            _ => None,
        };
        let Some((k, v)) = next else { break };
        key = format!("{key}.{k}");
        found = true;
        if !v.is_table_like() {
            break;
        }
        item = v;
    }
    found.then_some(key)
}

/// The value serde's message quotes: `-5` of ``invalid value: integer `-5` `` (and of
/// its range refusal, `-5 is out of range: …`), `x` of
/// `invalid type: string "x"`, the string `x` of ``unknown variant `x` `` (a workload's
/// `kind`).
fn quoted_value(message: &str) -> Option<String> {
    if let Some((value, _)) = range_refused(message) {
        return Some(value.to_string());
    }
    if let Some(r) = message.strip_prefix("unknown variant `") {
        return r.split_once('`').map(|(v, _)| format!("\"{v}\""));
    }
    let rest = message
        .strip_prefix("invalid value: ")
        .or_else(|| message.strip_prefix("invalid type: "))?;
    if let Some((_, r)) = rest.split_once('`') {
        return r.split_once('`').map(|(v, _)| v.to_string());
    }
    let (_, r) = rest.split_once('"')?;
    r.split_once('"').map(|(v, _)| format!("\"{v}\""))
}

/// Whether the value `v` is written as `text` (a number's or boolean's text, a string
/// quoted).
fn same_text(v: &toml_edit::Item, text: &str) -> bool {
    let Some(v) = v.as_value() else { return false };
    match v {
        toml_edit::Value::String(s) => format!("\"{}\"", s.value()) == text,
        toml_edit::Value::Integer(i) => i.value().to_string() == text,
        toml_edit::Value::Float(f) => f.value().to_string() == text,
        toml_edit::Value::Boolean(b) => b.value().to_string() == text,
        _ => false,
    }
}

/// serde's "unknown field `x`, expected one of `a`, `b`, …" with the keys `extra`
/// added to the list (a run file's `policies` and `seed`, read beside the scenario's
/// fields) and the known key closest to `x` first (by Jaro-Winkler similarity), named
/// as the likely one when it is close (`unknown field `polices` (did you mean
/// `policies`?), expected one of `policies`, …`). `None` when `message` is no such
/// complaint.
pub fn unknown_field_words(message: &str, extra: &[&str]) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (unknown, rest) = rest.split_once('`')?;
    let listed = rest
        .split_once("expected one of ")
        .or_else(|| rest.split_once("expected "))
        .map_or("", |(_, l)| l);
    let mut names: Vec<&str> = listed
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|n| !n.is_empty())
        .collect();
    for e in extra.iter().rev() {
        if !names.contains(e) {
            names.insert(0, e);
        }
    }
    let similarity = |n: &&str| strsim::jaro_winkler(unknown, n);
    let (best, score) = names.iter().map(|n| (*n, similarity(n))).fold(
        None,
        |b: Option<(&str, f64)>, (n, x)| match b {
            Some((_, y)) if y >= x => b,
            _ => Some((n, x)),
        },
    )?;
    names.retain(|n| *n != best);
    names.insert(0, best);
    let list: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    let guess = if score >= 0.8 {
        format!(" (did you mean `{best}`?)")
    } else {
        String::new()
    };
    Some(format!(
        "unknown field `{unknown}`{guess}, expected one of {}",
        list.join(", ")
    ))
}

/// The keys of the top level of `T` (a run file's scenario, a sweep file), as serde
/// lists them when it meets a key it does not know.
pub fn top_level_keys<T: DeserializeOwned>() -> Vec<String> {
    // A key no struct has: U+0001.
    let Err(e) = toml::from_str::<T>("\"\\u0001\" = 0") else {
        return Vec::new();
    };
    let message = e.message();
    let listed = message
        .split_once("expected one of ")
        .or_else(|| message.split_once("expected "))
        .map_or("", |(_, l)| l);
    listed
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect()
}

/// Why a key of the file's top level (`top`; `file`: "run file", "sweep file") is
/// refused as an unknown field of a table: written on its own line after a `[table]`
/// header, TOML reads it as that table's. The words to add to the refusal (``
/// (`policies` is a key of a run file's top level, but this line follows `[locking]`,
/// …)``); `None` when `err` is no unknown field of a table, the field is no top-level
/// key, or its line is not a `key = value` line of its own (a field of an inline
/// table).
pub fn after_table_words(src: &str, err: &FileError, top: &[String], file: &str) -> Option<String> {
    let unknown = err
        .message
        .strip_prefix("unknown field `")?
        .split_once('`')?
        .0;
    if !top.iter().any(|k| k == unknown) {
        return None;
    }
    let key = err.key.as_deref()?;
    if !key.ends_with(&format!(".{unknown}")) {
        return None;
    }
    let line = err.line?;
    let lines: Vec<&str> = src.lines().collect();
    let text = lines.get(line.checked_sub(1)?)?.trim_start();
    if !text.strip_prefix(unknown)?.trim_start().starts_with('=') {
        return None;
    }
    let header = lines[..line - 1]
        .iter()
        .rev()
        .map(|l| l.trim())
        .find(|l| l.starts_with('['))?;
    let header = &header[..=header.rfind(']')?];
    Some(format!(
        " (`{unknown}` is a key of a {file}'s top level, but this line follows `{header}`, \
         so it is read as that table's: top-level keys come before the first `[table]`)"
    ))
}

/// The index of the first `[[axis]]` of the sweep file `src` whose `key` sets the
/// dotted `key` (below `scenario.`): the key itself, a table holding it, or a key
/// inside it. `None` for a run file, or a key no axis sets.
pub fn axis_setting(src: &str, key: &str) -> Option<usize> {
    let key = key.strip_prefix("scenario.")?;
    let raw: toml::Table = toml::from_str(src).ok()?;
    raw.get("axis")?.as_array()?.iter().position(|a| {
        a.get("key").and_then(|k| k.as_str()).is_some_and(|a| {
            a == key || key.starts_with(&format!("{a}.")) || a.starts_with(&format!("{key}."))
        })
    })
}

/// Bytes of a scenario, sweep, model or replayed trace file at most (64 MiB): each is
/// read whole, and the largest shipped is a few KiB.
pub const INPUT_BYTES_MAX: u64 = 64 << 20;

/// Reads a user's input file whole to a string ([`read_bounded`] with
/// [`INPUT_BYTES_MAX`]); a missing, unreadable, not regular (a device, a pipe, a
/// directory), too large or not UTF-8 file is a `FileError` naming it.
pub fn read(path: &Path) -> Result<String, FileError> {
    read_bounded(path).map_err(|m| FileError::whole(path, m))
}

/// Why nothing usable was found at a path, from the error of looking at it:
/// `does not exist` only when the system says nothing is there; any other failure (a
/// directory on the way that cannot be searched) in the system's words, as `cannot be
/// examined: …`, not called missing.
pub fn absence(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::NotFound {
        "does not exist".to_string()
    } else {
        format!("cannot be examined: {e}")
    }
}

/// True when nothing is at `path`, as the system says (`NotFound`): a dangling link, a
/// directory or a file that cannot be read is something.
pub fn absent(path: &Path) -> bool {
    matches!(
        std::fs::symlink_metadata(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound
    )
}

/// Reads the file at `path` that marks a directory as an output of some kind (a
/// shard's `shard.toml`): only when nothing is there is the directory called not one
/// (`missing`, e.g. `not a shard output (no shard.toml)`, before the path and the
/// system's words); a file that is there but cannot be read (not UTF-8, not a regular
/// file, no permission) is reported as what it is, by [`read`].
pub fn read_marker(path: &Path, missing: &str) -> anyhow::Result<String> {
    read(path).map_err(|e| {
        let absent = absent(path);
        let e = anyhow::Error::from(e);
        if absent {
            e.context(missing.to_string())
        } else {
            e
        }
    })
}

/// The text of the input file at `path`, through the guard trace files have
/// (`sim::text_file::read`): refused, in words, when it is not a regular file (owm run
/// /dev/urandom would read forever) or holds more than [`INPUT_BYTES_MAX`] bytes.
pub fn read_bounded(path: &Path) -> Result<String, String> {
    use sim::text_file::ReadError;
    sim::text_file::read(path, INPUT_BYTES_MAX).map_err(|e| match e {
        ReadError::NotRegular => "not a regular file: an input file is read whole, and only \
                                  a file has a size to bound it by"
            .to_string(),
        ReadError::TooLarge(size) => {
            format!("the file is {size} bytes, more than an input file's {INPUT_BYTES_MAX}")
        }
        ReadError::NotUtf8 { line, byte } => {
            format!("cannot read: not UTF-8 text (line {line}, byte {byte} of the line)")
        }
        ReadError::Io(e) => format!("cannot read: {e}"),
    })
}

/// serde's words for a value of the wrong shape, said in TOML's: a Rust struct or
/// map is a table, a sequence an array; a Rust type's name never reaches the user
/// (`expected struct GeometryConfig` is `expected a table`, and a value outside a
/// count's type, ``invalid value: integer `-5`, expected u64``, says the values it
/// takes: [`out_of_range_words`]).
pub fn toml_words(message: &str) -> String {
    if let Some(words) = out_of_range_words(message) {
        return words;
    }
    // The table form of a named choice (`[device.profile]` holding `hdd-7200 = {}`)
    // with no name or several: serde counts elements.
    if let Some(found) = message.strip_prefix("wanted exactly 1 element, ") {
        let found = match found {
            "more than 1 element" => "it holds more than one",
            "found 0 elements" => "it holds none",
            other => other,
        };
        return format!(
            "the table form of a choice holds exactly one key, the name chosen \
             (`NAME = {{}}`); {found}"
        );
    }
    let mut out = message
        .replace("a sequence", "an array")
        .replace("a map", "a table")
        .replace(
            "number too large to fit in target type",
            "number too large: a TOML integer (a seed, a count) is at most \
             9223372036854775807 (2^63 - 1)",
        );
    for (ty, words) in RUST_NUMBERS {
        // `expected u64` but not `expected u64x`: a type name ends at a non-word
        // character or the end of the message.
        let typed = format!("expected {ty}");
        let mut from = 0;
        while let Some(at) = out[from..].find(&typed).map(|i| from + i) {
            let end = at + typed.len();
            if out[end..].starts_with(|c: char| c.is_alphanumeric() || c == '_') {
                from = end;
                continue;
            }
            let said = format!("expected {words}");
            out.replace_range(at..end, &said);
            from = at + said.len();
        }
    }
    for shape in ["internally tagged enum ", "struct "] {
        while let Some(at) = out.find(&format!("expected {shape}")) {
            let name_at = at + "expected ".len() + shape.len();
            let name_end = out[name_at..]
                .find(|c: char| !c.is_alphanumeric() && c != '_')
                .map_or(out.len(), |i| name_at + i);
            out.replace_range(at..name_end, "expected a table");
        }
    }
    out
}

/// The Rust number types serde names in a refusal (``expected u64``), longest first
/// (`u128` before `u16`), and the words that replace them.
const RUST_NUMBERS: [(&str, &str); 14] = [
    ("u128", WHOLE_NUMBER),
    ("i128", WHOLE_NUMBER),
    ("usize", WHOLE_NUMBER),
    ("isize", WHOLE_NUMBER),
    ("u64", WHOLE_NUMBER),
    ("i64", WHOLE_NUMBER),
    ("u32", WHOLE_NUMBER),
    ("i32", WHOLE_NUMBER),
    ("u16", WHOLE_NUMBER),
    ("i16", WHOLE_NUMBER),
    ("u8", WHOLE_NUMBER),
    ("i8", WHOLE_NUMBER),
    ("f64", "a number"),
    ("f32", "a number"),
];

/// What a key of an integer type takes, in [`toml_words`]'s refusals.
const WHOLE_NUMBER: &str = "a whole number";

/// The words a key's value is counted in, from its name (`crash_at_ticks`: ticks,
/// `bandwidth_bytes_per_s`: bytes per second, `records_per_block`: records per
/// block, `events_max`: events); `None` when its name says none (`amount_max`,
/// `seed`). `key` is dotted, with or without an array index (`faults.crash_at_ticks`).
fn unit_of(key: &str) -> Option<String> {
    const UNITS: [&str; 16] = [
        "ticks",
        "blocks",
        "bytes",
        "records",
        "transactions",
        "events",
        "attempts",
        "retries",
        "cycles",
        "channels",
        "processes",
        "accounts",
        "updates",
        "ios",
        "streams",
        "seconds",
    ];
    let last = key
        .rsplit('.')
        .find(|p| !p.is_empty() && !p.bytes().all(|b| b.is_ascii_digit()))?;
    let mut words: Vec<&str> = last.split('_').collect();
    while matches!(words.last(), Some(&("max" | "min" | "mean" | "sum"))) {
        words.pop();
    }
    let unit = |w: &str| UNITS.contains(&w).then(|| w.to_string());
    match words.as_slice() {
        [.., counted, "per", per] => {
            let per = if *per == "s" { "second" } else { per };
            Some(format!("{} per {per}", unit(counted)?))
        }
        [.., w] => unit(w),
        [] => None,
    }
}

/// `message` ([`toml_words`]'s) with the unit of `key` ([`unit_of`]) after its
/// ``expected a whole number``: ``invalid type: floating point `1000.0`, expected a
/// whole number (ticks)``, or in a range refusal's range (`-5 is out of range: must
/// be 0 or more (0 to 1099511627776 ticks)`). As it is when it says neither, has its
/// unit already, or the key's name names no unit.
pub fn with_unit(message: &str, key: &str) -> String {
    // A range refusal: the unit after the range's largest value
    // (`(1 to 65536 channels)`), once.
    if let (Some(_), Some(unit)) = (range_refused(message), unit_of(key)) {
        // The range's end: " to DIGITS)", the first (words the key scales may follow).
        let end = message.match_indices(" to ").find_map(|(at, to)| {
            let digits = message[at + to.len()..]
                .find(|c: char| !c.is_ascii_digit())
                .filter(|&n| n > 0)?;
            let close = at + to.len() + digits;
            message[close..].starts_with(')').then_some(close)
        });
        return match end {
            Some(close) => format!("{} {unit}{}", &message[..close], &message[close..]),
            None => message.to_string(),
        };
    }
    let said = format!("expected {WHOLE_NUMBER}");
    match (message.find(&said), unit_of(key)) {
        (Some(at), Some(unit))
            if !message[at + said.len()..].starts_with(&format!(" ({unit})")) =>
        {
            let end = at + said.len();
            format!("{} ({unit}){}", &message[..end], &message[end..])
        }
        _ => message.to_string(),
    }
}

/// The largest value a TOML file can give a key of the unsigned Rust type serde names
/// (`u64` of "expected u64"): the type's own, or 9223372036854775807 (2^63 - 1), the
/// largest TOML integer. `None` for a name of no unsigned type.
fn unsigned_max(ty: &str) -> Option<u64> {
    let toml_max = i64::MAX as u64;
    match ty {
        "u8" => Some(u8::MAX.into()),
        "u16" => Some(u16::MAX.into()),
        "u32" => Some(u32::MAX.into()),
        "u64" | "usize" | "u128" => Some(toml_max),
        _ => None,
    }
}

/// The words that say a key takes `min` to `max`, to a value below them: ``must be 0
/// or more (0 to 9223372036854775807)``, or ``must be at least 1 (1 to …)``; to a
/// value `above` them: ``must be at most 4294967295 (0 to 4294967295)``.
fn range_words(min: u64, max: u64, above: bool) -> String {
    if above {
        format!("must be at most {max} ({min} to {max})")
    } else if min == 0 {
        format!("must be 0 or more (0 to {max})")
    } else {
        format!("must be at least {min} ({min} to {max})")
    }
}

/// serde's refusal of a value outside an unsigned type's range for a key of that type
/// (a count, a seed, ticks: ``invalid value: integer `-5`, expected u64``; a value past
/// a 32-bit count's largest, ``invalid value: integer `5000000000`, expected u32``) said
/// as the range refusal a value below the key's least gets (`0 is out of range: must
/// be at least 1`): `-5 is out of range: must be 0 or more (0 to 9223372036854775807)`
/// ([`with_unit`] adds the key's unit in the parentheses). A scenario key whose checks
/// ask more than 0 is given its own range where the key is known ([`with_key_range`]).
/// `None` for any other message.
pub fn out_of_range_words(message: &str) -> Option<String> {
    let rest = message.strip_prefix("invalid value: integer `")?;
    let (value, ty) = rest.split_once("`, expected ")?;
    let digits = value.strip_prefix('-').unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let max = unsigned_max(ty.trim())?;
    let above = !value.starts_with('-');
    Some(format!(
        "{value}{OUT_OF_RANGE}{}",
        range_words(0, max, above)
    ))
}

/// The words after a type's largest that the file's other keys refuse too (no range
/// found below it: [`with_key_range`]): `must be at most 4294967295 (the largest of
/// its type; the file's other keys as they are allow less)`.
const TYPE_END_REFUSED: &str =
    " (the largest of its type; the file's other keys as they are allow less)";

/// The words of a key's own largest (or least) that the file's other keys refuse too,
/// with no range found ([`with_own_range`]).
const OWN_END_REFUSED: &str = " (its own largest; the file's other keys as they are allow less)";
const OWN_LEAST_REFUSED: &str = " (its own least; the file's other keys as they are ask more)";

/// How the checks' refusal of a key of no effect starts ([`Scenario::inert_keys`]).
const NO_EFFECT: &str = "has no effect";

/// What follows the value in a range refusal ([`out_of_range_words`]).
const OUT_OF_RANGE: &str = " is out of range: ";

/// The value an [`out_of_range_words`] message refuses (`-5`, `5000000000`), with the
/// rest of the message after [`OUT_OF_RANGE`]; `None` for any other message.
fn range_refused(message: &str) -> Option<(&str, &str)> {
    let (value, rest) = message.split_once(OUT_OF_RANGE)?;
    let digits = value.strip_prefix('-').unwrap_or(value);
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some((value, rest))
}

/// An [`out_of_range_words`] message about the scenario key `key` (dotted, below the
/// scenario table `table`) with the key's range where the scenario's checks give one,
/// the rest of the scenario as written ([`key_range`]): `-5 is out of range: must be
/// at least 1 (1 to 65536)`. Where the checks refuse 0 with other words (`must be a
/// positive multiple of 8`), those words; where no range is found, the type's end past
/// its largest; below 0 the least the checks name, else "must be 0 or more", each
/// with "(its own least; the file's other keys as they are ask more)" where the checks
/// refuse it. The message unchanged when it is not such a message.
pub fn with_key_range(message: &str, table: &ScenarioProbe, key: &str) -> String {
    let accepted = |v: u64| accepts(table, key, v);
    const ZERO_RANGE: &str = "must be 0 or more (0 to ";
    const AT_MOST: &str = "must be at most ";
    let (at, above) = match (message.find(ZERO_RANGE), message.find(AT_MOST)) {
        (Some(at), _) => (at, false),
        (None, Some(at)) => (at, true),
        (None, None) => return message.to_string(),
    };
    if range_refused(message).is_none() {
        return message.to_string();
    }
    let digits = leading_number;
    let range_at = if above {
        AT_MOST.len()
    } else {
        ZERO_RANGE.len()
    };
    let Some(type_max) = digits(&message[at + range_at..]) else {
        return message.to_string();
    };
    let zero = key_refusal(table, key, 0);
    // 0 refused as no range refuses (`a positive multiple of 8`): those words.
    if let Some(words) = zero.as_deref().and_then(|m| {
        let words = m.strip_prefix("0 is out of range: ")?;
        (!words.starts_with("must be at least ")).then_some(words)
    }) {
        return format!("{}{words}", &message[..at]);
    }
    let words = match key_range(table, key, Some(type_max)) {
        Some(r) if above => above_words(&r),
        Some(r) => range_words(r.min, r.max, above),
        // No range found (an array's items, no accepted value). Above: the end the
        // key's own check names, where it passes and the next value does not (the
        // least not found: 1 cycle leaves a period set of no effect), else the type's
        // end past its largest.
        None if above => {
            let own = match probe(table, key, type_max) {
                Probe::Accepted => Some(type_max),
                Probe::Refused(m) => {
                    stated_largest(&m).filter(|&n| n < type_max && accepted(n) && !accepted(n + 1))
                }
                _ => None,
            };
            match own {
                Some(n) => format!("must be at most {n}"),
                None => format!("must be at most {type_max}{TYPE_END_REFUSED}"),
            }
        }
        // Below 0: "0 or more" where 0 passes (an item of several, not probed alone,
        // plainly); a key of no effect at 0 refused as such; else what the refusal of
        // 0 asks, said as it is where the checks accept it, else as the key's own
        // least (the file's other keys refuse it: a `compute_ticks_max` below the
        // file's `compute_ticks_min`).
        None => match (zero, probe(table, key, 0)) {
            (_, Probe::Refused(m)) if m.starts_with(NO_EFFECT) => return m,
            (_, Probe::Accepted | Probe::NotOfType) => "must be 0 or more".to_string(),
            (zero, _) => match zero.as_deref().and_then(stated_least) {
                Some(m) if accepted(m) => format!("must be at least {m}"),
                Some(m) => format!("must be at least {m}{}", own_least_refused(table, key, m)),
                None => format!("must be 0 or more{}", own_least_refused(table, key, 0)),
            },
        },
    };
    format!("{}{words}", &message[..at])
}

/// What the file's other keys do to `key`'s own least `least`, which its checks
/// refuse: [`OWN_LEAST_REFUSED`] where a larger value passes (one of `least` doubled,
/// up to an `i64`'s largest: a `compute_ticks_max` below the file's `compute_ticks_min`), else
/// the refusal of `least` itself, whose words say why (a `length_min` beside a
/// `length_max` of 0: "1 is greater than length_max = 0"), never that they ask more.
fn own_least_refused(table: &ScenarioProbe, key: &str, least: u64) -> String {
    let mut larger = std::iter::successors(Some(least.max(1)), |v| v.checked_mul(2))
        .skip(usize::from(least > 0))
        .take_while(|&v| v <= i64::MAX as u64);
    if larger.any(|v| accepts(table, key, v)) {
        return OWN_LEAST_REFUSED.to_string();
    }
    match probe(table, key, least) {
        Probe::Refused(m) => {
            let words = m.split_once(OUT_OF_RANGE).map_or(m.as_str(), |(_, w)| w);
            format!(" (its own least, which the file's other keys as they are refuse: {words})")
        }
        _ => OWN_LEAST_REFUSED.to_string(),
    }
}

/// Whether the scenario's checks accept `key` set to `value`, the rest of the scenario
/// as written ([`probe`]).
fn accepts(table: &ScenarioProbe, key: &str, value: u64) -> bool {
    matches!(probe(table, key, value), Probe::Accepted)
}

/// What the scenario's checks say of `key` set to a value, the rest of the scenario as
/// written ([`probe`]).
enum Probe {
    /// The value does not read as the key's type.
    NotOfType,
    Accepted,
    /// The checks refuse the key, with this message.
    Refused(String),
    /// The checks refuse another key first: that key (dotted, below the scenario).
    OtherKey(String),
}

/// The values of `key` the scenario's checks accept with the rest of the scenario
/// `table` as written, as one range ([`KeyRange`]), `type_max` the largest of the key's
/// type (else the first of 2^63 - 1, 2^32 - 1, 2^16 - 1, 2^8 - 1 that reads as it):
/// the least is 0, or the least their refusal of 0 names ("must be at least M"); the
/// largest the type's, or the end their refusal of it names ("must be at most N",
/// "exceeds N"); each only where the checks accept it and refuse the value past it.
///
/// Where the key's own largest is refused by another key as the file has it (the
/// volume, memory, time or output bound), the largest value below it the checks accept,
/// found by halving, with that key ([`KeyRange::beside`]).
///
/// `None` when the least is not the key's own (another key refuses it), no other key is
/// named where the largest is refused (a key of no effect past another key's value), the
/// key reads as no integer or is one of several array items, or the values are no
/// interval (one of least + 1, the middle, largest - 1 refused: a multiple of 8, a
/// power of two).
fn key_range(table: &ScenarioProbe, key: &str, type_max: Option<u64>) -> Option<KeyRange> {
    let type_max = match type_max {
        Some(t) => t,
        None => [
            i64::MAX as u64,
            u32::MAX.into(),
            u16::MAX.into(),
            u8::MAX.into(),
        ]
        .into_iter()
        .find(|&p| !matches!(probe(table, key, p), Probe::NotOfType))?,
    };
    let accepted = |v: u64| v <= type_max && accepts(table, key, v);
    let said_least = key_refusal(table, key, 0).as_deref().and_then(stated_least);
    // The least: 0, or the least the refusal of 0 names, when accepted. Another key
    // refusing either (an end it sets) gives no range.
    let min = match accepted(0) {
        true => 0,
        false => said_least.filter(|&m| accepted(m))?,
    };
    let stated = match probe(table, key, type_max) {
        Probe::Accepted => Some(type_max),
        Probe::Refused(m) => stated_largest(&m),
        Probe::NotOfType | Probe::OtherKey(_) => None,
    };
    // The end named holds when it passes and the next value does not.
    let holds = |n: u64| n >= min && accepted(n) && (n == type_max || !accepted(n + 1));
    let (max, beside) = match stated.filter(|&n| holds(n)) {
        Some(n) => (n, None),
        None if accepted(type_max) => (type_max, None),
        // The key's own largest (the end its check names, else its type's) refused by
        // another key as the file has it: the largest value below it the checks
        // accept, found by halving, with that key. Refused with no other key named (a
        // key of no effect past another key's value, said with no key): none.
        // A sweep's points may each set the other key apart (an axis): not said.
        None if table.points => return None,
        None => {
            let own = stated.filter(|&n| n > min).unwrap_or(type_max);
            let by = refused_by(&probe(table, key, own), key)?;
            let lo = largest_accepted(min, own, accepted);
            let by = refused_by(&probe(table, key, lo + 1), key).filter(|b| *b == by)?;
            (lo, Some(Beside { own, by }))
        }
    };
    let interval = [
        min.saturating_add(1),
        min + (max - min) / 2,
        max.saturating_sub(1),
    ]
    .into_iter()
    .filter(|&v| (min..=max).contains(&v))
    .all(accepted);
    interval.then_some(KeyRange { min, max, beside })
}

/// The largest value from `lo` (accepted) below `hi` (refused) that `accepted` takes,
/// found by halving: where the values accepted are one range, its end.
fn largest_accepted(mut lo: u64, mut hi: u64, accepted: impl Fn(u64) -> bool) -> u64 {
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        match accepted(mid) {
            true => lo = mid,
            false => hi = mid,
        }
    }
    lo
}

/// The least a range refusal names: `N` of "must be at least N" and "is out of range
/// N..=M".
fn stated_least(message: &str) -> Option<u64> {
    message
        .split_once("must be at least ")
        .or_else(|| message.split_once("is out of range "))
        .and_then(|(_, rest)| leading_number(rest))
}

/// The largest a range refusal names: `N` of "must be at most N", "exceeds N" and
/// "is out of range M..=N".
fn stated_largest(message: &str) -> Option<u64> {
    message
        .split_once("must be at most ")
        .or_else(|| message.split_once(" exceeds "))
        .or_else(|| message.split_once("..="))
        .and_then(|(_, rest)| leading_number(rest))
}

/// The values a key takes ([`key_range`]): `min` to `max`.
struct KeyRange {
    min: u64,
    max: u64,
    /// Where `max` is another key's end, not the key's own.
    beside: Option<Beside>,
}

/// A key's largest set by another key as the file has it ([`key_range`]).
struct Beside {
    /// The key's own largest: the end its check names, else its type's.
    own: u64,
    /// The key that refuses the value past the range (dotted, below the scenario).
    by: String,
}

/// The key whose check refuses `key` at a probed value, other than `key` itself: the
/// key refused, or the first key another key's refusal of `key` names in backquotes
/// (`` `limits.time_ticks_max` (at its default …): the backup request … ``); `None` when
/// the value is accepted or refused by `key`'s own check alone.
fn refused_by(probed: &Probe, key: &str) -> Option<String> {
    match probed {
        Probe::OtherKey(k) if !k.is_empty() && k != key => Some(k.clone()),
        Probe::Refused(m) => m
            .split('`')
            .skip(1)
            .step_by(2)
            .find(|k| *k != key && k.contains('.') && !k.contains(' '))
            .map(str::to_string),
        _ => None,
    }
}

/// The words for a value past the largest of `r`: ``must be at most 4294967295 (0 to
/// 4294967295)``, or where another key sets that largest ``must be at most 1249 (1 to
/// 1249): past it `limits.time_ticks_max` as the file has it refuses the run, though
/// the key's own largest is 10000; a value near it runs, but may stop at that limit
/// before the backup ends (exit 3)``.
fn above_words(r: &KeyRange) -> String {
    let words = range_words(r.min, r.max, true);
    match &r.beside {
        None => words,
        Some(b) => format!(
            "{words}: past it `{}` as the file has it refuses the run, though the key's \
             own largest is {}{}",
            b.by,
            b.own,
            match b.by.as_str() {
                // What the checks see before the run is the request, not the backup's
                // end: a request near the limit runs and may stop there.
                "limits.time_ticks_max" => {
                    "; a value near it runs, but may stop at that limit before the backup \
                     ends (exit 3)"
                }
                _ => "",
            }
        ),
    }
}

/// `message`, the scenario's checks' refusal of `key` (the file's text `src`, its
/// scenario below `prefix`), with both ends of the key's range when it refuses a value
/// past one of them ([`with_own_range`]) and the key's unit ([`with_unit`]).
fn own_range(src: &str, prefix: &str, key: &str, message: String) -> String {
    match ScenarioProbe::of(src, prefix) {
        Some(table) => with_unit(&with_own_range(&message, &table, key), key),
        None => message,
    }
}

/// A range refusal of the scenario's own checks given both ends of the key's range, as
/// a refusal of a value past its type's is ([`with_key_range`]), where [`key_range`]
/// finds the range with the refused end: `65537 is out of range: must be at most
/// 65536` → `… (1 to 65536)`, `20000 is out of range 1..=10000` → `20000 is out of
/// range: must be at most 10000 (1 to 10000)`; `2000000000000 exceeds 1099511627776
/// ticks` → `… must be at most 999999999900 (0 to 999999999900): past it
/// `limits.time_ticks_max` as the file has it refuses the run, though the key's own
/// largest is 1099511627776` ([`above_words`]). The message unchanged when it is no such
/// refusal, or a value below a least with no range found.
pub fn with_own_range<'a>(message: &'a str, table: &ScenarioProbe, key: &str) -> String {
    let number = |t: &str| -> Option<u64> { t.parse().ok() };
    let Some((value, rest)) = message.split_once(' ') else {
        return message.to_string();
    };
    // A signed key's value below its least (`amount_max = -5`) is said as written.
    let Ok(v) = value.parse::<i128>() else {
        return message.to_string();
    };
    // The key's range: its own check's end as the message gives it, the other end
    // found ([`key_range`]).
    let range = || key_range(table, key, None);
    // A refusal of a value past `m`: the range, when the checks accept its ends and
    // `m` is its largest or the key's own past another key's; else `m` alone.
    let below = |m: u64, tail| match range() {
        Some(r) if r.max == m || r.beside.as_ref().is_some_and(|b| b.own == m) => {
            (Some(r), m, true, tail)
        }
        _ => (None, m, true, tail),
    };
    // The range found, else the end the key's own check names and whether the value
    // is past it (above) or below it.
    // An end with the check's note after it (`16777216 (16 MiB; a run holds whole
    // blocks in memory)`): the end, and the note, kept.
    let end_noted = |r: &'a str| -> Option<(u64, &'a str)> {
        let digits = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
        let note = &r[digits..];
        (note.is_empty() || note.starts_with(" (") && note.ends_with(')'))
            .then_some((number(&r[..digits])?, note))
    };
    let (found, end, above, tail) = if let Some((m, note)) = rest
        .strip_prefix("is out of range: must be at least ")
        .and_then(end_noted)
    {
        (range().map(|r| KeyRange { min: m, ..r }), m, false, note)
    } else if let Some((m, note)) = rest
        .strip_prefix("is out of range: must be at most ")
        .and_then(end_noted)
    {
        below(m, note)
    } else if let Some((a, b)) = rest
        .strip_prefix("is out of range ")
        .and_then(|r| r.split_once("..="))
        .and_then(|(a, b)| Some((number(a)?, number(b)?)))
    {
        // Both ends said only where the checks accept them with the rest of the file.
        let found = range().filter(|r| {
            r.min == a && (r.max == b || r.beside.as_ref().is_some_and(|s| s.own == b))
        });
        let above = v > i128::from(b);
        (found, if above { b } else { a }, above, "")
    } else if let Some((m, tail)) = rest.strip_prefix("exceeds ").and_then(|r| {
        let digits: String = r.chars().take_while(char::is_ascii_digit).collect();
        let tail = r[digits.len()..].strip_prefix(" ticks")?;
        Some((number(&digits)?, tail))
    }) {
        below(m, tail)
    } else {
        return message.to_string();
    };
    let words = match found {
        Some(r) if r.min > r.max => return message.to_string(),
        Some(r) if v > i128::from(r.max) => above_words(&r),
        Some(r) => range_words(r.min, r.max, false),
        // The key's own end alone: said as it is where the checks accept it; a key of
        // no effect there said so; else with what the other keys do to it.
        None => match probe(table, key, end) {
            Probe::Accepted if above => format!("must be at most {end}"),
            Probe::Accepted => format!("must be at least {end}"),
            Probe::Refused(m) if m.starts_with(NO_EFFECT) => return m,
            _ if above => format!("must be at most {end}{OWN_END_REFUSED}"),
            _ => format!(
                "must be at least {end}{}",
                own_least_refused(table, key, end)
            ),
        },
    };
    match tail {
        "" => format!("{value}{OUT_OF_RANGE}{words}"),
        // The check's note and the range's words in one bracket: `must be at most
        // 16777216 (16 MiB; a run holds whole blocks in memory; its own largest: ...)`.
        note if note.starts_with(" (") => {
            let words = with_unit(&format!("{value}{OUT_OF_RANGE}{words}"), key);
            let words = words.split_once(OUT_OF_RANGE).map_or("", |(_, w)| w);
            let note = &note[2..note.len() - 1];
            match words.split_once(" (") {
                Some((end, said)) => format!("{value}{OUT_OF_RANGE}{end} ({note}; {said}"),
                None => format!("{value}{OUT_OF_RANGE}{words} ({note})"),
            }
        }
        // The words after the range (what the key scales) keep its unit inside.
        tail => format!(
            "{value}{OUT_OF_RANGE}{}{tail}",
            with_unit(&format!("{value}{OUT_OF_RANGE}{words}"), key)
                .split_once(OUT_OF_RANGE)
                .map_or(words.clone(), |(_, w)| w.to_string())
        ),
    }
}

/// The whole number `text` starts with (`65536` of `65536 (16 MiB)`); `None` when it
/// starts with no digit or the digits pass `u64`.
fn leading_number(text: &str) -> Option<u64> {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    text[..end].parse().ok()
}

/// A scenario as a file writes it, for finding a key's range ([`key_range`]): its
/// table (below a sweep's `scenario.`, without a run file's own keys), the policies
/// the file runs, and whether it is a sweep's (whose grid points are checked as such,
/// [`Scenario::validate_points`]).
#[derive(Clone)]
pub struct ScenarioProbe {
    pub table: toml::Table,
    pub policies: Vec<sim::Policy>,
    pub points: bool,
}

impl ScenarioProbe {
    /// The scenario of the file `src` below `prefix` (`scenario.` in a sweep file),
    /// with the file's `policies` (the default ones when it gives none, or none that
    /// read: that key's own refusal comes first); `None` when the text does not read
    /// as a table.
    pub fn of(src: &str, prefix: &str) -> Option<Self> {
        let policies = toml::from_str::<toml::Table>(src)
            .ok()
            .and_then(|t| t.get("policies")?.clone().try_into().ok())
            .unwrap_or_else(crate::runfile::default_policies);
        Some(ScenarioProbe {
            table: scenario_table(src, prefix)?,
            policies,
            points: !prefix.is_empty(),
        })
    }
}

/// The value the scenario `table` gives the dotted `key` (a value or a table); `None`
/// where it gives none, or a part on the way is no table.
fn value_at<'t>(table: &'t toml::Table, key: &str) -> Option<&'t toml::Value> {
    let (parents, last) = match key.rsplit_once('.') {
        Some((parents, last)) => (Some(parents), last),
        None => (None, key),
    };
    let mut at = table;
    for part in parents.into_iter().flat_map(|p| p.split('.')) {
        at = at.get(part)?.as_table()?;
    }
    at.get(last)
}

/// Whether the scenario `table` sets the dotted `key` (a value or a table).
fn sets(table: &toml::Table, key: &str) -> bool {
    value_at(table, key).is_some()
}

/// The table holding the dotted `key`'s last part in `table`, with that part; the
/// tables on the way made empty where missing when `make`, else `None` there. `None`
/// where a part on the way is no table.
fn parent_mut<'t, 'k>(
    table: &'t mut toml::Table,
    key: &'k str,
    make: bool,
) -> Option<(&'t mut toml::Table, &'k str)> {
    let (parents, last) = match key.rsplit_once('.') {
        Some((parents, last)) => (Some(parents), last),
        None => (None, key),
    };
    let mut at = table;
    for part in parents.into_iter().flat_map(|p| p.split('.')) {
        let next = match make {
            true => at
                .entry(part)
                .or_insert_with(|| toml::Value::Table(toml::Table::new())),
            false => at.get_mut(part)?,
        };
        at = next.as_table_mut()?;
    }
    Some((at, last))
}

/// The checks a file's scenario passes ([`ScenarioProbe`]) with `key` set to `value`
/// (an array key to `[value]`), the rest as written ([`Probe`]): the scenario's for the
/// file's policies (as a sweep's grid points, for a sweep), then whether the key has
/// an effect on them ([`Scenario::inert_keys`]: a key of no effect is refused), and a
/// run file's output bound.
fn probe(p: &ScenarioProbe, key: &str, value: u64) -> Probe {
    use serde::Deserialize as _;
    let mut t = p.table.clone();
    let Some((at, last)) = parent_mut(&mut t, key, true) else {
        return Probe::NotOfType;
    };
    let Ok(v) = i64::try_from(value) else {
        return Probe::NotOfType;
    };
    // An array's items (`crash_at_ticks = [-7]`): the value as its one item.
    let value = match at.get(last) {
        // Of several items, each item's range depends on the others' (ascending
        // ticks): not probed.
        Some(toml::Value::Array(items)) if items.len() > 1 => return Probe::NotOfType,
        Some(toml::Value::Array(_)) => toml::Value::Array(vec![toml::Value::Integer(v)]),
        _ => toml::Value::Integer(v),
    };
    at.insert(last.to_string(), value);
    let Ok(s) = Scenario::deserialize(toml::Value::Table(t)) else {
        return Probe::NotOfType;
    };
    let checked = match p.points {
        true => s.validate_points(&p.policies),
        false => s.validate_for(&p.policies),
    };
    match checked {
        Ok(_) => {}
        Err(SimError::Config { key: k, message }) if k == key => return Probe::Refused(message),
        Err(SimError::Config { key: k, .. }) => return Probe::OtherKey(k),
        Err(_) => return Probe::OtherKey(String::new()),
    }
    // A key of no effect (`device.write_channels` at or past `device.channels`), or
    // under a table of none, is refused; a key the file sets that this value leaves
    // of no effect (`device.channels` at or below `device.write_channels`) refuses it
    // at that key.
    let under =
        |key: &str, table: &str| key.strip_prefix(table).is_some_and(|r| r.starts_with('.'));
    for i in s.inert_keys(&p.policies) {
        if i.key == key || under(key, i.key) {
            return Probe::Refused(i.why);
        }
        if sets(&p.table, i.key) {
            return Probe::OtherKey(i.key.to_string());
        }
    }
    if !p.points
        && reports::output::estimate(&s, &p.policies).total_bytes() > s.limits.output_bytes_max
    {
        return Probe::OtherKey("limits.output_bytes_max".to_string());
    }
    Probe::Accepted
}

/// The scenario's checks with `key` set to `value` ([`probe`]): `Some(Ok(()))` when
/// they accept it, `Some(Err(message))` when they refuse that key; `None` when the
/// value does not read as the key's type or the checks refuse another key.
fn key_checked(table: &ScenarioProbe, key: &str, value: u64) -> Option<Result<(), String>> {
    match probe(table, key, value) {
        Probe::Accepted => Some(Ok(())),
        Probe::Refused(m) => Some(Err(m)),
        Probe::NotOfType | Probe::OtherKey(_) => None,
    }
}

/// The scenario's checks' refusal of `key` (see [`with_key_range`]) set to `value`:
/// their message, when they refuse that key.
fn key_refusal(table: &ScenarioProbe, key: &str, value: u64) -> Option<String> {
    key_checked(table, key, value)?.err()
}

/// The names a key of a named choice takes, when `e` is the TOML reader's complaint
/// that its value is not a string (`profile = 5`: "wanted string or table", which
/// says nothing of the names): `parsed` is read again as `T` with that value replaced
/// by a name no choice has, and serde's answer lists the names (`one of `hdd-7200`,
/// `sata-ssd`, `nvme-ssd``). `None` for any other error.
fn names_expected<T: DeserializeOwned>(parsed: &str, e: &toml::de::Error) -> Option<String> {
    // A TOML string holding U+0001, a name no choice has.
    const NO_NAME: &str = "\\u0001";
    if !e.message().starts_with("wanted ") {
        return None;
    }
    let span = e.span()?;
    let probe = format!(
        "{}\"{NO_NAME}\"{}",
        parsed.get(..span.start)?,
        parsed.get(span.end..)?
    );
    let again = toml::from_str::<T>(&probe).err()?;
    if again.span().map(|s| s.start) != Some(span.start) {
        return None;
    }
    again
        .message()
        .strip_prefix("unknown variant `\u{1}`, expected ")
        .map(str::to_string)
}

/// A scenario's deserialisation error, made precise. `parsed` is the text read as `T`
/// (the file, or a copy at the same offsets), `src` the file. A named choice given
/// something else than a name lists its names ([`names_expected`]). The workload is
/// an internally tagged enum (`kind = ...`), which serde buffers before choosing the
/// variant, so an error inside it loses its position and points at the `[workload]`
/// header. In that case the workload's table is deserialised again on its own,
/// directly into the variant's struct, from a copy of the text holding only that
/// table at its own offsets ([`Keys::only_under`]): the error then points at the
/// offending key. A negative value of a count says the key's own range
/// ([`with_key_range`]).
pub fn scenario_error<T: DeserializeOwned>(
    path: &Path,
    src: &str,
    parsed: &str,
    prefix: &str,
    e: &toml::de::Error,
) -> FileError {
    let mut err = scenario_error_words::<T>(path, src, parsed, prefix, e);
    if let Some(key) = err.key.as_deref() {
        if let (Some(table), Some(relative)) =
            (ScenarioProbe::of(src, prefix), key.strip_prefix(prefix))
        {
            err.message = with_unit(&with_key_range(&err.message, &table, relative), key);
        }
    }
    err
}

/// The scenario's table of the file `src`: below `prefix` (`scenario.` in a sweep
/// file), without a run file's own keys (`policies`, `seed`).
fn scenario_table(src: &str, prefix: &str) -> Option<toml::Table> {
    let mut t: toml::Table = toml::from_str(src).ok()?;
    for part in prefix.split('.').filter(|p| !p.is_empty()) {
        t = t.remove(part)?.as_table()?.clone();
    }
    if prefix.is_empty() {
        for k in crate::runfile::RUN_ONLY {
            t.remove(k);
        }
    }
    Some(t)
}

/// [`scenario_error`] but the key's own range.
fn scenario_error_words<T: DeserializeOwned>(
    path: &Path,
    src: &str,
    parsed: &str,
    prefix: &str,
    e: &toml::de::Error,
) -> FileError {
    let table = format!("{prefix}workload");
    let mut first = FileError::toml(path, src, e);
    if let Some(names) = names_expected::<T>(parsed, e) {
        first.message = format!("expected {names} (a string){}", found(src, e));
        return first;
    }
    // The workload table, or a field of it (an inline table's field is named).
    let in_table = first
        .key
        .as_deref()
        .is_some_and(|k| k == table || k.starts_with(&format!("{table}.")));
    if !in_table {
        return first;
    }
    match probe_workload(src, &table) {
        Some((precise, names)) if precise.span().is_some() => {
            let mut err = FileError::toml(path, src, &precise);
            if let Some(names) = names {
                err.message = format!("expected {names} (a string){}", found(src, &precise));
            }
            err
        }
        _ => first,
    }
}

/// `, found `VALUE`` for the value `e` points at in `src`, or nothing.
fn found(src: &str, e: &toml::de::Error) -> String {
    e.span()
        .and_then(|s| src.get(s))
        .map_or(String::new(), |v| format!(", found `{}`", v.trim()))
}

/// Re-reads the workload table of `src` (the table named `table`) as its variant's
/// struct; `Some(error)` when that fails, with the names its key at fault takes when
/// that key is a named choice given something else ([`names_expected`]).
fn probe_workload(src: &str, table: &str) -> Option<(toml::de::Error, Option<String>)> {
    fn read<T: DeserializeOwned>(only: &str) -> Option<(toml::de::Error, Option<String>)> {
        let e = toml::from_str::<T>(only).err()?;
        let names = names_expected::<T>(only, &e);
        Some((e, names))
    }
    let raw: toml::Table = toml::from_str(src).ok()?;
    let mut t = &raw;
    for part in table.split('.') {
        t = t.get(part)?.as_table()?;
    }
    // A table without `kind` is the default workload's.
    let kind = match t.get("kind") {
        None => sim::Scenario::default().workload.kind().to_string(),
        Some(k) => k.as_str()?.to_string(),
    };
    let only = Keys::of(src).only_under(table, "kind");
    match kind.as_str() {
        "fig3" => read::<sim::Fig3Config>(&only),
        "fig4-5" | "fig45" => read::<sim::Fig45Config>(&only),
        "bank" => read::<sim::BankConfig>(&only),
        "generated" => read::<sim::GeneratedConfig>(&only),
        "trace" => read::<sim::TraceConfig>(&only),
        _ => None,
    }
}

/// Reads a trace workload's file (a path relative to the scenario file at `path`);
/// its errors name the trace file and line, located in `src` at the key at fault
/// (`workload.path`, or the geometry key the trace does not fit) below `prefix`
/// (`scenario.` in a sweep file).
pub fn load_trace(path: &Path, src: &str, prefix: &str, s: &mut Scenario) -> Result<(), FileError> {
    let dir = path.parent().unwrap_or(Path::new(""));
    s.load_trace(dir).map_err(|e| match e {
        SimError::Config { key, message } => {
            FileError::key(path, src, &format!("{prefix}{key}"), message)
        }
        e => FileError::key(path, src, &format!("{prefix}workload.path"), e.to_string()),
    })
}

/// The simulator's verdict on `s` run under each of `policies`
/// (`Scenario::validate_for`: what they copy and hold, not what other policies
/// would), located in the file: its error names a dotted key (below `prefix`,
/// `scenario.` in a sweep file) whose line the locator finds ([`refusal_at`]: a key
/// the file leaves at its default is refused at the key the file sets that drives it).
/// `axes` are the keys a sweep's `[[axis]]` tables set (none in a run file).
pub fn check_scenario(
    path: &Path,
    src: &str,
    prefix: &str,
    s: &Scenario,
    policies: &[sim::Policy],
    axes: &[String],
) -> Result<(), FileError> {
    located(path, src, prefix, s, axes, s.validate_for(policies))
}

/// [`check_scenario`] for a sweep's grid points: the memory bound judged on each
/// policy's own simulation (`Scenario::validate_points`: no timeline, no picture, as a
/// grid point holds), the same estimate `--jobs` adds up.
pub fn check_points(
    path: &Path,
    src: &str,
    prefix: &str,
    s: &Scenario,
    policies: &[sim::Policy],
    axes: &[String],
) -> Result<(), FileError> {
    located(path, src, prefix, s, axes, s.validate_points(policies))
}

/// The keys that drive a memory estimate of `s` whose largest part is `largest`, most
/// direct first: that part's keys (`sim::footprint::part_advice`), then the others.
fn memory_drivers(s: &Scenario, largest: sim::footprint::Part) -> Vec<&'static str> {
    let (_, _, mut drivers) = sim::footprint::part_advice(s, largest, true);
    for k in s.drivers_of("limits.memory_bytes_max") {
        if !drivers.contains(&k) {
            drivers.push(k);
        }
    }
    drivers
}

/// The simulator's verdict `checked` on `s`, located in the file ([`check_scenario`]):
/// a memory refusal at the key of the estimate's largest part when the file leaves
/// `limits.memory_bytes_max` at its default.
fn located(
    path: &Path,
    src: &str,
    prefix: &str,
    s: &Scenario,
    axes: &[String],
    checked: Result<sim::Layout, SimError>,
) -> Result<(), FileError> {
    match checked {
        Ok(_) => Ok(()),
        Err(SimError::Config { key, message }) => {
            let message = own_range(src, prefix, &key, message);
            Err(refusal_at(path, src, prefix, s, &key, message, axes))
        }
        Err(SimError::TooLarge {
            estimate_bytes,
            bound_bytes,
            estimate,
            policies,
            part,
            part_bytes,
            advice,
            largest,
        }) => Err(refusal_driven_by(
            path,
            src,
            prefix,
            &memory_drivers(s, largest),
            "limits.memory_bytes_max",
            sim::error::too_large(
                estimate_bytes,
                bound_bytes,
                &estimate,
                &policies,
                part,
                part_bytes,
                &advice,
            ),
            axes,
        )),
        Err(e) => Err(FileError::whole(path, e.to_string())),
    }
}

/// Whether the file sets `key` (below `prefix`), or an axis does (`axes`, keys without
/// the prefix): `Some(line)` in the file, `Some(None)` for an axis.
fn set_by(keys: &Keys, prefix: &str, key: &str, axes: &[String]) -> Option<Option<usize>> {
    if axes
        .iter()
        .any(|a| a == key || a.starts_with(&format!("{key}.")))
    {
        return Some(None);
    }
    keys.sets(&format!("{prefix}{key}")).map(|(_, l)| Some(l))
}

/// A refusal of the simulator's about `key` (dotted, below `prefix`), at the line
/// that caused it. When the file (or an axis) sets `key`, at its line. When it leaves
/// `key` at its default, at the first key it sets of those that drive the check
/// (`Scenario::drivers_of`: a large `workload.records` with no `[limits]` is refused
/// at `workload.records`), the message starting with the defaulted key: "`{key}` (at
/// its default, not set in the file): ..." (the simulator's message names the key to
/// raise). When it sets none of them either, at the nearest enclosing table the file
/// writes, "(the default; set it in the file)" ([`FileError::key`]).
pub fn refusal_at(
    path: &Path,
    src: &str,
    prefix: &str,
    s: &Scenario,
    key: &str,
    message: String,
    axes: &[String],
) -> FileError {
    // A key the file sets, refused with words naming another key it sets (a request
    // past a time limit the file lowers): at the one of them that is the cause.
    let probe = ScenarioProbe::of(src, prefix);
    if let Some(p) = &probe {
        if sets(&p.table, key) {
            if let Some(cause) = named_cause(p, key, &message) {
                return FileError::key(path, src, &format!("{prefix}{cause}"), message);
            }
        }
    }
    let drivers = match &probe {
        Some(p) => causes_first(p, key, &s.drivers_of(key)),
        None => s.drivers_of(key),
    };
    refusal_driven_by(path, src, prefix, &drivers, key, message, axes)
}

/// The tables a scenario's dotted keys start with.
const SCENARIO_TABLES: [&str; 9] = [
    "workload.",
    "backup.",
    "limits.",
    "device.",
    "geometry.",
    "locking.",
    "archive.",
    "faults.",
    "detach.",
];

/// Of `key`, which the file sets and its checks refuse, and the other keys the
/// refusal's `message` names that the file sets, the cause when it is not `key`: where
/// `key`'s own default alone does not let the checks pass, the first of the others by
/// [`causes_first`]'s rule whose default alone does (fig3's own request beside a time
/// limit the file lowers: the limit). `None` where `key` is such a cause itself.
fn named_cause(p: &ScenarioProbe, key: &str, message: &str) -> Option<String> {
    let named: Vec<&str> = message
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .map(|w| w.trim_end_matches('.'))
        .filter(|w| SCENARIO_TABLES.iter().any(|t| w.starts_with(t)) && *w != key)
        .filter(|w| sets(&p.table, w))
        .collect();
    // The key's own default alone lets the checks pass: it is a cause, kept.
    if named.is_empty() || at_default(p, key).is_some_and(|s| checked(p, &s).is_ok()) {
        return None;
    }
    // Each key once, in the order named (a message may name one twice).
    let mut candidates = vec![key];
    for n in named {
        if !candidates.contains(&n) {
            candidates.push(n);
        }
    }
    // `key` first when it ranks first, ties, or the refusal is not reproduced.
    let cause = *causes_first(p, key, &candidates).first()?;
    if cause == key {
        return None;
    }
    // Only a cause whose default alone lets the checks pass.
    at_default(p, cause)
        .filter(|s| checked(p, s).is_ok())
        .map(|_| cause.to_string())
}

/// The file's table `p` with the dotted `key` left at its default: removed, or, for a
/// key the file must give (an open load's `interarrival_ticks_mean`), an integer one
/// set to 1, its least. `None` when neither reads as a scenario.
fn at_default(p: &ScenarioProbe, key: &str) -> Option<Scenario> {
    use serde::Deserialize as _;
    let with = |value: Option<i64>| {
        let mut t = p.table.clone();
        let (at, last) = parent_mut(&mut t, key, false)?;
        match value {
            None => at.remove(last),
            Some(v) => at.insert(last.to_string(), toml::Value::Integer(v)),
        }?;
        Scenario::deserialize(toml::Value::Table(t)).ok()
    };
    with(None).or_else(|| with(Some(1)))
}

/// The scenario's checks on `s` as the file's table `p` runs it: `Ok` when they pass,
/// else the key they refuse (empty for another error).
fn checked(p: &ScenarioProbe, s: &Scenario) -> Result<(), String> {
    let checked = match p.points {
        true => s.validate_points(&p.policies),
        false => s.validate_for(&p.policies),
    };
    match checked {
        Ok(_) => Ok(()),
        Err(SimError::Config { key, .. }) => Err(key),
        Err(_) => Err(String::new()),
    }
}

/// `drivers` of a refusal of `key` (most direct first, [`Scenario::drivers_of`])
/// with the causes first: those the file sets whose default alone lets the checks
/// pass (the one set furthest from its default first, [`moved_from_default`]), then
/// those whose default alone moves the refusal off `key`, then the rest, each in the
/// given order otherwise. An interarrival time that puts the default request
/// past the time limit is the cause there, not the transaction count the file also
/// sets. The order is kept when the file's table, as written, is not refused at `key`
/// (a sweep's grid point refused where its base scenario is not).
fn causes_first<'a>(p: &ScenarioProbe, key: &str, drivers: &[&'a str]) -> Vec<&'a str> {
    if checked_as_written(p) != Some(Err(key.to_string())) {
        return drivers.to_vec();
    }
    let rank = |d: &str| -> (u8, f64) {
        if !sets(&p.table, d) {
            return (2, 0.0);
        }
        let Some(s) = at_default(p, d) else {
            return (2, 0.0);
        };
        match checked(p, &s) {
            Ok(()) => (0, -moved_from_default(p, d, &s)),
            Err(k) if k != key && !k.is_empty() => (1, 0.0),
            Err(_) => (2, 0.0),
        }
    };
    let mut ranked: Vec<((u8, f64), &'a str)> = drivers.iter().map(|&d| (rank(d), d)).collect();
    ranked.sort_by(|a, b| a.0 .0.cmp(&b.0 .0).then(a.0 .1.total_cmp(&b.0 .1)));
    ranked.into_iter().map(|r| r.1).collect()
}

/// How far the file's table `p` moves the dotted numeric `key` from its default (as
/// `default` holds it, [`at_default`]; from 1 where it holds none): the larger of
/// value / default and default / value (1 when the value is not a number, or either
/// is 0). Of two keys whose product a check
/// bounds (a transaction count and the time between arrivals), the one set furthest
/// from its default is the cause named.
fn moved_from_default(p: &ScenarioProbe, key: &str, default: &Scenario) -> f64 {
    let number = |t: &toml::Table| -> Option<f64> {
        let v = value_at(t, key)?;
        v.as_integer().map(|i| i as f64).or_else(|| v.as_float())
    };
    // A key with no default value (left out, the run derives it: fig3's request) is
    // measured from 1, as a key the file must give is ([`at_default`]).
    let default = toml::Table::try_from(default)
        .ok()
        .map_or(Some(1.0), |t| number(&t).or(Some(1.0)));
    match (number(&p.table), default) {
        (Some(v), Some(d)) if v != 0.0 && d != 0.0 => (v / d).abs().max((d / v).abs()),
        _ => 1.0,
    }
}

/// [`refusal_at`] with the keys that drive `key` given (`drivers`, most direct first).
pub fn refusal_driven_by(
    path: &Path,
    src: &str,
    prefix: &str,
    drivers: &[&str],
    key: &str,
    message: String,
    axes: &[String],
) -> FileError {
    let keys = Keys::of(src);
    let full = format!("{prefix}{key}");
    if set_by(&keys, prefix, key, axes).is_some() {
        return FileError::key(path, src, &full, message);
    }
    // In a sweep whose base scenario passes the checks, a grid point is refused for
    // its axis values: the drivers an axis sets first.
    let probe = ScenarioProbe::of(src, prefix);
    let by_axis = |d: &&str| matches!(set_by(&keys, prefix, d, axes), Some(None));
    let mut drivers = drivers.to_vec();
    if drivers.iter().any(by_axis)
        && probe
            .as_ref()
            .is_some_and(|p| checked_as_written(p) == Some(Ok(())) || first_point_passes(src, p))
    {
        drivers.sort_by_key(|d| !by_axis(d));
    }
    for driver in drivers {
        let Some(line) = set_by(&keys, prefix, driver, axes) else {
            continue;
        };
        let message = format!(
            "`{key}` (at its default, not set in the file): {message}{}",
            match (line, &probe) {
                (Some(_), Some(p)) => passes_up_to(p, driver, key),
                _ => String::new(),
            }
        );
        let (driver_key, line) = match line {
            // The key itself when the driver is a table the file writes.
            Some(_) => keys
                .sets(&format!("{prefix}{driver}"))
                .map_or((format!("{prefix}{driver}"), line), |(k, l)| (k, Some(l))),
            None => (format!("{prefix}{driver}"), None),
        };
        return FileError {
            path: path.to_path_buf(),
            line,
            key: Some(driver_key),
            message,
            snippet: line.and_then(|l| keys.line_text(l)),
        };
    }
    FileError::key(path, src, &full, message)
}

/// Where the file sets the integer `key` (dotted, below `prefix`) to a value its checks
/// refuse, the largest value below it they accept with the rest as written, found by
/// halving from the key's least: "; with the file's other keys as they are, `KEY`
/// passes up to N" (an open load's interarrival time that puts the default request
/// past the time limit; beside the time limit (`bound`), that a value near it may stop
/// there, exit 3). Empty where the key's least is refused too (a key whose larger
/// values are the cure), or the values below the one found do not pass as a range
/// would.
fn passes_up_to(p: &ScenarioProbe, key: &str, bound: &str) -> String {
    let value = value_at(&p.table, key)
        .and_then(toml::Value::as_integer)
        .and_then(|v| u64::try_from(v).ok());
    let Some(value) = value.filter(|&v| v > 0 && !accepts(p, key, v)) else {
        return String::new();
    };
    // The least accepted: 0, or the least the refusal of 0 names.
    let least = match accepts(p, key, 0) {
        true => Some(0),
        false => key_refusal(p, key, 0)
            .as_deref()
            .and_then(stated_least)
            .filter(|&m| m < value && accepts(p, key, m)),
    };
    let Some(min) = least else {
        return String::new();
    };
    let lo = largest_accepted(min, value, |v| accepts(p, key, v));
    // Said only where the values below it pass as far as probed (one range).
    let one_range = [min + (lo - min) / 2, lo.saturating_sub(1)]
        .into_iter()
        .all(|v| v < min || accepts(p, key, v));
    // What the checks see of the time limit is the request and VLUN B ready, not the
    // backup's end.
    let near = match bound {
        "limits.time_ticks_max" | "backup.setup_window_ticks" => {
            ": a value near it runs, but may stop at that limit before the backup ends \
             (exit 3)"
        }
        _ => "",
    };
    match one_range {
        true => {
            format!("; with the file's other keys as they are, `{key}` passes up to {lo}{near}")
        }
        false => String::new(),
    }
}

/// The checks on the file's table `p` as written ([`checked`]); `None` where it reads
/// as no scenario. A sweep's base scenario, without its axes.
fn checked_as_written(p: &ScenarioProbe) -> Option<Result<(), String>> {
    use serde::Deserialize as _;
    Scenario::deserialize(toml::Value::Table(p.table.clone()))
        .ok()
        .map(|s| checked(p, &s))
}

/// Whether a sweep file's first grid point (each `[[axis]]` of the file `src` at its
/// first value, set in its scenario `p`) passes the checks: where it does, a point
/// refused is refused for its other axis values, as where the base passes (a base that
/// sets `period_ticks` and leaves `cycles` to an axis passes only so).
fn first_point_passes(src: &str, p: &ScenarioProbe) -> bool {
    let Ok(file) = src.parse::<toml::Table>() else {
        return false;
    };
    let mut p = p.clone();
    let Some(axes) = file.get("axis").and_then(toml::Value::as_array) else {
        return false;
    };
    for axis in axes {
        let (Some(key), Some(first)) = (
            axis.get("key").and_then(toml::Value::as_str),
            axis.get("values")
                .and_then(toml::Value::as_array)
                .and_then(|v| v.first()),
        ) else {
            return false;
        };
        let Some((at, last)) = parent_mut(&mut p.table, key, true) else {
            return false;
        };
        at.insert(last.to_string(), first.clone());
    }
    checked_as_written(&p) == Some(Ok(()))
}

/// Refuses a key that has no effect (`inert`, from `Scenario::inert_keys`: for a
/// sweep, the keys inert at every point of its grid) when the file sets it, below
/// `prefix`, or an `[[axis]]` does (`axes`, in their order; the refusal then names the
/// axis's `key` line): at the first such line in the file, "FILE:LINE: key `KEY`: has
/// no effect ...", exit 2. A table key (`archive`) is refused at the first key the
/// file writes under it.
pub fn refuse_inert(
    path: &Path,
    src: &str,
    prefix: &str,
    inert: &[sim::Inert],
    axes: &[String],
) -> Result<(), FileError> {
    let keys = Keys::of(src);
    // (line, key, message)
    let mut found: Vec<(usize, String, String)> = Vec::new();
    for i in inert {
        if let Some((key, line)) = keys.sets(&format!("{prefix}{}", i.key)) {
            found.push((line, key, i.why.clone()));
        }
        let below = format!("{}.", i.key);
        for (n, a) in axes.iter().enumerate() {
            if a == i.key || a.starts_with(&below) {
                if let Some(line) = keys.line(&format!("axis.{n}.key")) {
                    let why = format!("{} (at every point of the grid)", i.why);
                    found.push((line, a.clone(), why));
                }
            }
        }
    }
    let Some((line, key, message)) = found.into_iter().min_by_key(|f| f.0) else {
        return Ok(());
    };
    Err(FileError {
        path: path.to_path_buf(),
        line: Some(line),
        key: Some(key),
        message,
        snippet: keys.line_text(line),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key's range ([`key_range`]) is true of the scenario's checks on the file as
    /// it stands: both ends pass them and the values just past do not; an end another
    /// key sets (the volume's bound) is not said, and a key whose values are no
    /// interval (records per block: 1, 2 or 4 here) gets none.
    #[test]
    fn a_keys_range_passes_the_checks_at_its_ends_and_not_past_them() {
        let base = ScenarioProbe::of(
            "[workload]\nkind = \"generated\"\nrecords = 64\ntransactions = 20\n\
             arrivals = { mode = \"open\", interarrival_ticks_mean = 300 }\n\
             [faults]\ncrash_at_ticks = [5]\n",
            "",
        )
        .unwrap();
        let mut found = 0;
        for key in [
            "workload.records",
            "workload.transactions",
            "workload.length_min",
            "workload.length_max",
            "workload.arrivals.interarrival_ticks_mean",
            "device.channels",
            "device.read_latency_ticks",
            "limits.events_max",
            "limits.volume_bytes_max",
            "backup.request_at_ticks",
            "faults.crash_at_ticks",
        ] {
            let Some(r) = key_range(&base, key, None) else {
                continue;
            };
            found += 1;
            let passes = |v: u64| matches!(probe(&base, key, v), Probe::Accepted);
            assert!(
                passes(r.min) && passes(r.max),
                "{key}: {}..={}",
                r.min,
                r.max
            );
            assert!(
                r.min == 0 || !passes(r.min - 1),
                "{key}: {} passes",
                r.min - 1
            );
            assert!(
                r.max == i64::MAX as u64 || !passes(r.max + 1),
                "{key}: {} passes",
                r.max + 1
            );
        }
        assert!(found >= 2, "only {found} ranges found");
        // An end another key sets, refused at this key with no other key named (the
        // volume past 67108864 records), gives no range.
        assert!(key_range(&base, "workload.records", None).is_none());
        let mut blocks = ScenarioProbe {
            table: base.table.clone(),
            ..base
        };
        blocks.table.insert(
            "geometry".into(),
            toml::from_str("block_size_bytes = 64").unwrap(),
        );
        assert!(key_range(&blocks, "geometry.records_per_block", None).is_none());
        // A key of no effect past another key's value (write slots at or past the
        // channels) is refused there: its largest is that key's, not its type's, and
        // no range is said.
        for (channels, range) in [(4, None), (1, None)] {
            let p = ScenarioProbe::of(
                &format!("policies = [\"cow\"]\n[device]\nchannels = {channels}\n"),
                "",
            )
            .unwrap();
            let found = key_range(&p, "device.write_channels", None).map(|r| (r.min, r.max));
            assert_eq!(found, range, "{channels} channels");
        }
        // Nor the range of a key whose values leave another key the file sets of no
        // effect: 1 and 2 channels leave `write_channels = 2` none.
        let p = ScenarioProbe::of(
            "policies = [\"cow\"]\n[device]\nwrite_channels = 2\nchannels = 0\n",
            "",
        )
        .unwrap();
        assert!(key_range(&p, "device.channels", None).is_none());
    }

    /// Where another key as the file has it refuses a key's own largest, the range
    /// said ends at the largest value the checks accept, the value past it refused by
    /// the key named; and the words name both ends.
    #[test]
    fn a_keys_largest_set_by_another_key_is_the_largest_that_passes() {
        let cases = [
            (
                "policies = [\"cow\"]\n[workload]\nkind = \"fig3\"\n",
                "backup.request_at_ticks",
                "limits.time_ticks_max",
            ),
            (
                "policies = [\"quiesce\"]\n[workload]\nkind = \"generated\"\n\
                 [backup]\nquiesce_deadline_ticks = 1000\n",
                "backup.quiesce_retries_max",
                "limits.output_bytes_max",
            ),
        ];
        for (src, key, other) in cases {
            let p = ScenarioProbe::of(src, "").unwrap();
            let r = key_range(&p, key, None).expect(key);
            let b = r.beside.as_ref().expect(key);
            assert_eq!(b.by, other, "{key}");
            assert!(r.max < b.own, "{key}: {} against {}", r.max, b.own);
            assert!(matches!(probe(&p, key, r.max), Probe::Accepted), "{key}");
            assert!(matches!(probe(&p, key, r.min), Probe::Accepted), "{key}");
            let past = probe(&p, key, r.max + 1);
            assert_eq!(refused_by(&past, key).as_deref(), Some(other), "{key}");
            // The key's own largest is refused too, by the same key.
            assert_eq!(
                refused_by(&probe(&p, key, b.own), key).as_deref(),
                Some(other),
                "{key}"
            );
            let words = above_words(&r);
            assert!(
                words.starts_with(&format!(
                    "must be at most {} ({} to {})",
                    r.max, r.min, r.max
                )) && words.contains(&format!("`{other}`"))
                    && words.contains(&format!("own largest is {}", b.own)),
                "{key}: {words}"
            );
        }
    }

    /// No Rust number type's name survives serde's words; a key's unit comes from its
    /// name, and a name that says none adds nothing.
    #[test]
    fn rust_number_types_become_whole_numbers_with_the_keys_unit() {
        for ty in [
            "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
        ] {
            let m = toml_words(&format!(
                "invalid type: floating point `1.5`, expected {ty}"
            ));
            assert_eq!(
                m,
                "invalid type: floating point `1.5`, expected a whole number"
            );
        }
        assert_eq!(
            toml_words("invalid type: string \"x\", expected f64"),
            "invalid type: string \"x\", expected a number"
        );
        // A word that merely starts like a type name is left alone.
        assert_eq!(toml_words("expected u64x"), "expected u64x");
        for (key, unit) in [
            ("faults.crash_at_ticks", Some("ticks")),
            ("faults.crash_at_ticks.0", Some("ticks")),
            ("limits.events_max", Some("events")),
            ("archive.bandwidth_bytes_per_s", Some("bytes per second")),
            ("geometry.records_per_block", Some("records per block")),
            ("workload.amount_max", None),
            ("seed", None),
        ] {
            assert_eq!(unit_of(key).as_deref(), unit, "{key}");
        }
        let m = "invalid type: string \"x\", expected a whole number";
        assert_eq!(
            with_unit(m, "device.read_latency_ticks"),
            "invalid type: string \"x\", expected a whole number (ticks)"
        );
        assert_eq!(with_unit(m, "seed"), m);
        // Said once, however many times a message passes through.
        let once = with_unit(m, "device.read_latency_ticks");
        assert_eq!(with_unit(&once, "device.read_latency_ticks"), once);
        assert_eq!(
            with_unit("unknown field `x`", "a_ticks"),
            "unknown field `x`"
        );
    }

    fn leaf_keys(prefix: &str, v: &toml::Value, out: &mut Vec<String>) {
        match v {
            toml::Value::Table(t) => {
                for (k, v) in t {
                    leaf_keys(&format!("{prefix}{k}."), v, out);
                }
            }
            _ => out.push(prefix.trim_end_matches('.').to_string()),
        }
    }

    /// Whether dotted `key` is a key or a table of one of `values`.
    fn resolves(values: &[toml::Value], key: &str) -> bool {
        values.iter().any(|v| {
            key.split('.')
                .try_fold(v, |v, part| v.as_table().and_then(|t| t.get(part)))
                .is_some()
        })
    }

    /// Every `[limits]` key the file leaves at its default is called the default, at
    /// the `[limits]` header when the file writes one (in a sweep `[scenario.limits]`),
    /// else at the nearest table it writes, else at no line (never at an unrelated
    /// one, such as the file's first); a key the file sets is at its own line, never
    /// called the default.
    #[test]
    fn a_defaulted_limit_is_placed_at_the_nearest_table_and_called_the_default() {
        let limits = toml::Value::try_from(sim::Limits::default()).unwrap();
        let names: Vec<&String> = limits.as_table().unwrap().keys().collect();
        assert!(names.len() >= 7, "{names:?}");
        let path = Path::new("x.toml");
        for name in names {
            for (prefix, src, line) in [
                (
                    "",
                    "policies = [\"cow\"]\n[workload]\nkind = \"bank\"\n",
                    None,
                ),
                ("", "# a comment\n\n[workload]\nkind = \"bank\"\n", None),
                (
                    "",
                    "seed = 1\n[workload]\nkind = \"bank\"\n[limits]\nz_max = 1\n",
                    Some(4),
                ),
                (
                    "scenario.",
                    "seeds = [1]\n[scenario]\n[scenario.workload]\nkind = \"bank\"\n",
                    Some(2),
                ),
                (
                    "scenario.",
                    "seeds = [1]\n[scenario.workload]\n[scenario.limits]\nz = 1\n",
                    Some(3),
                ),
            ] {
                let key = format!("{prefix}limits.{name}");
                let e = FileError::key(path, src, &key, "stopped");
                assert_eq!(e.line, line, "{key} in {src:?}: {e}");
                let at = match line {
                    Some(line) => format!(
                        "stopped{DEFAULT_NOTE}\n  {line:>4} | {}",
                        src.lines().nth(line - 1).unwrap()
                    ),
                    None => format!("x.toml: key `{key}`: stopped{DEFAULT_NOTE}"),
                };
                assert!(e.to_string().ends_with(&at), "{e}");
                let set = format!(
                    "{src}{}{name} = 5\n",
                    if src.contains("limits]") {
                        ""
                    } else if prefix.is_empty() {
                        "[limits]\n"
                    } else {
                        "[scenario.limits]\n"
                    }
                );
                let e = FileError::key(path, &set, &key, "stopped");
                assert_eq!(e.line, Some(set.lines().count()), "{key} in {set:?}: {e}");
                assert!(!e.message.contains(DEFAULT_NOTE), "{e}");
            }
        }
    }

    /// Every key the simulator can call inert, or name as the driver of a check on a
    /// default, is a key of the scenario (a misspelt one would never be found in a
    /// file, and its refusal would silently never happen) and is documented in the
    /// reference page's list.
    #[test]
    fn the_keys_called_inert_or_driving_exist_and_are_documented() {
        let readme = include_str!("../scenarios/README.md");
        let section = &readme[readme.find("## Keys without effect").unwrap()..];
        let section = &section[..section.find("## Sweep files").unwrap()];
        // Scenarios where every rule fires: only `none`, every optional key given
        // where it turns nothing on.
        let mut full = Scenario::with_workload(sim::WorkloadConfig::Generated(Default::default()));
        full.backup.data_area_blocks = Some(1 << 40);
        full.backup.data_area_fraction = Some(1.0);
        full.backup.period_ticks = Some(10);
        full.backup.cycles = Some(1);
        full.backup.on_data_area_full = sim::OnDataAreaFull::BreakSnapshot;
        full.detach = Some(sim::ArchiveConfig {
            rate_limit_bytes_per_s: 1 << 40,
            ..Default::default()
        });
        full.archive.rate_limit_bytes_per_s = 1 << 40;
        full.archive.sparse = true;
        full.device.integrity = true;
        full.device.write_channels = Some(full.device.channels);
        full.device.journal_sync_latency_ticks = Some(1);
        full.device.journaled = true;
        full.device.journal_lane = true;
        full.device.sequential_read_bytes_per_s = 1;
        full.faults.heal_at_ticks = Some(1);
        let mut zipf = full.clone();
        if let sim::WorkloadConfig::Generated(c) = &mut zipf.workload {
            c.hot_spot = sim::HotSpot::Zipf { exponent: 1.0 };
        }
        let mut quiesce = full.clone();
        quiesce.backup.quiesce_deadline_ticks = Some(1);
        quiesce.backup.schedule_at_ticks = vec![5];
        let trace = Scenario::with_workload(sim::WorkloadConfig::Trace(Default::default()));
        let bank = Scenario::with_workload(sim::WorkloadConfig::Bank(Default::default()));
        let fig3 = Scenario::with_workload(sim::WorkloadConfig::Fig3(Default::default()));
        // The optional keys a check names as its driver, given (an absent key has no
        // value to resolve).
        let mut requested = bank.clone();
        requested.backup.request_at_ticks = Some(1);
        let values: Vec<toml::Value> = [&full, &zipf, &quiesce, &trace, &bank, &fig3, &requested]
            .iter()
            .map(|s| toml::Value::try_from(s).unwrap())
            .collect();
        let none = [sim::Policy::None];
        let mut keys: Vec<&str> = Vec::new();
        for s in [&full, &trace] {
            keys.extend(s.inert_keys(&none).iter().map(|i| i.key));
        }
        assert!(keys.len() >= 25, "{keys:?}");
        for s in [&full, &trace, &bank] {
            for k in [
                "limits.volume_bytes_max",
                "limits.archive_blocks_max",
                "limits.memory_bytes_max",
                "limits.output_bytes_max",
                "limits.time_ticks_max",
                "workload.transactions",
                "geometry.records_per_block",
                "faults.lost_write_probability",
                "workload.updates_min",
                "workload.compute_ticks_min",
                "workload.length_min",
                "backup.setup_window_ticks",
                "workload.initial_balance",
                "workload.initial_value",
            ] {
                keys.push(k);
                keys.extend(s.drivers_of(k));
            }
        }
        for k in keys {
            assert!(resolves(&values, k), "`{k}` is no key of the scenario");
            let last = k.rsplit('.').next().unwrap();
            assert!(
                ["`", ".", "["]
                    .iter()
                    .any(|b| section.contains(&format!("{b}{last}"))),
                "scenarios/README.md's \"Keys without effect\" lacks `{k}`"
            );
        }
    }

    /// The reference page names every field the simulator's scenario has: a field the
    /// sim adds fails this test until it is documented.
    #[test]
    fn the_reference_page_documents_every_scenario_field() {
        let readme = include_str!("../scenarios/README.md");
        let kinds = [
            sim::WorkloadConfig::Fig3(Default::default()),
            sim::WorkloadConfig::Fig45(Default::default()),
            sim::WorkloadConfig::Bank(Default::default()),
            sim::WorkloadConfig::Generated(Default::default()),
            sim::WorkloadConfig::Trace(Default::default()),
        ];
        let mut keys = Vec::new();
        for w in kinds {
            let v = toml::Value::try_from(Scenario::with_workload(w)).unwrap();
            leaf_keys("", &v, &mut keys);
        }
        assert!(keys.len() > 30, "{keys:?}");
        for k in keys {
            let last = k.rsplit('.').next().unwrap();
            assert!(
                readme.contains(&format!("`{last}`")),
                "scenarios/README.md lacks `{last}` ({k})"
            );
        }
    }
}
