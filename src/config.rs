//! Loading scenario and sweep files, with errors that name the file, the line and the
//! key: `scenarios/x.toml:7: key `workload.records`: invalid type ...`.
//!
//! A run file is a `sim::Scenario` (fields at the top level, exactly as the simulator
//! defines them) plus two CLI keys, `policies` and `seed`, which must come before the
//! first `[table]`. The simulator's struct refuses unknown fields, and serde's
//! `flatten` would defeat that, so the CLI keys are read first (with their spans) and
//! then blanked out of the text — replaced by spaces, newlines kept — before the rest
//! is deserialised into `Scenario`: every line and column in an error stays the user's.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Deserializer};
use sim::{Policy, Scenario};

/// A policy a run file may name: a simulator policy, or `none` (the workload with no
/// backup at all: Fig 3A).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunPolicy {
    NoBackup,
    Backup(Policy),
}

impl RunPolicy {
    pub fn name(self) -> &'static str {
        match self {
            RunPolicy::NoBackup => "none",
            RunPolicy::Backup(p) => p.as_str(),
        }
    }

    /// The scenario and simulator policy that run this: `none` is the scenario with
    /// `backup.disabled` set (under the quiesce policy, which then never acts).
    pub fn apply(self, scenario: &Scenario) -> (Scenario, Policy) {
        match self {
            RunPolicy::NoBackup => {
                let mut s = scenario.clone();
                s.backup.disabled = true;
                (s, Policy::Quiesce)
            }
            RunPolicy::Backup(p) => (scenario.clone(), p),
        }
    }
}

impl FromStr for RunPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(RunPolicy::NoBackup),
            other => other
                .parse::<Policy>()
                .map(RunPolicy::Backup)
                .map_err(|e| format!("{e}, or none")),
        }
    }
}

impl<'de> Deserialize<'de> for RunPolicy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// The policies a file names when it names none: all of them, baselines first.
pub fn default_policies() -> Vec<RunPolicy> {
    sim::Policy::ALL
        .iter()
        .map(|&p| RunPolicy::Backup(p))
        .collect()
}

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
        write!(f, "{}", self.path.display())?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        if let Some(k) = &self.key {
            write!(f, ": key `{k}`")?;
        }
        write!(f, ": {}", self.message)?;
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
        let line = src[..offset.min(src.len())].matches('\n').count() + 1;
        FileError {
            path: path.to_path_buf(),
            line: Some(line),
            key: key_at_line(src, line),
            message: message.into(),
            snippet: src.lines().nth(line - 1).map(|s| s.trim_end().to_string()),
        }
    }

    /// An error about the value of `key` (a dotted path), located in `src` when the
    /// file sets it (else the default is at fault, and the message says so).
    pub fn key(path: &Path, src: &str, key: &str, message: impl Into<String>) -> Self {
        let line = locate(src, key);
        let mut message = message.into();
        if line.is_none() {
            message.push_str(" (the default; set it in the file)");
        }
        FileError {
            path: path.to_path_buf(),
            line,
            key: Some(key.to_string()),
            message,
            snippet: line
                .and_then(|l| src.lines().nth(l - 1))
                .map(|s| s.trim_end().to_string()),
        }
    }

    /// A deserialisation error of `src`.
    pub fn toml(path: &Path, src: &str, e: &toml::de::Error) -> Self {
        let msg = e.message().trim().to_string();
        match e.span() {
            Some(span) => FileError::at(path, src, span.start, msg),
            None => FileError::whole(path, msg),
        }
    }
}

/// Reads a file to a string; a missing or unreadable file is a `FileError`.
pub fn read(path: &Path) -> Result<String, FileError> {
    std::fs::read_to_string(path).map_err(|e| FileError::whole(path, format!("cannot read: {e}")))
}

/// Splits a line into (table header path | key path, is_header), ignoring comments.
fn line_key(line: &str) -> Option<(String, bool)> {
    let t = line.split('#').next().unwrap_or("").trim();
    if let Some(inner) = t.strip_prefix("[[").and_then(|s| s.split("]]").next()) {
        return Some((clean_path(inner), true));
    }
    if let Some(inner) = t.strip_prefix('[').and_then(|s| s.split(']').next()) {
        return Some((clean_path(inner), true));
    }
    let (k, _) = t.split_once('=')?;
    Some((clean_path(k), false))
}

fn clean_path(p: &str) -> String {
    p.split('.')
        .map(|s| s.trim().trim_matches('"').trim_matches('\''))
        .collect::<Vec<_>>()
        .join(".")
}

/// The full dotted key set on (or the table opened by) line `line` (1-based).
/// A line-based reading, good for the files people write by hand; multi-line values
/// only name their first line.
pub fn key_at_line(src: &str, line: usize) -> Option<String> {
    let mut table = String::new();
    for (i, l) in src.lines().enumerate() {
        let found = line_key(l);
        if let Some((p, true)) = &found {
            table = p.clone();
        }
        if i + 1 == line {
            return match found? {
                (p, true) => Some(p),
                (k, false) if table.is_empty() => Some(k),
                (k, false) => Some(format!("{table}.{k}")),
            };
        }
    }
    None
}

/// The line (1-based) that sets `key`, or the nearest enclosing key that is set (an
/// inline table), or `None` when the file leaves it at its default.
pub fn locate(src: &str, key: &str) -> Option<usize> {
    let mut parts: Vec<&str> = key.split('.').collect();
    while !parts.is_empty() {
        let want = parts.join(".");
        let mut table = String::new();
        for (i, l) in src.lines().enumerate() {
            match line_key(l) {
                Some((p, true)) => {
                    if p == want {
                        return Some(i + 1);
                    }
                    table = p;
                }
                Some((k, false)) => {
                    let full = if table.is_empty() {
                        k
                    } else {
                        format!("{table}.{k}")
                    };
                    if full == want {
                        return Some(i + 1);
                    }
                }
                None => {}
            }
        }
        parts.pop();
    }
    None
}

/// A scenario's deserialisation error, made precise. The workload is an internally
/// tagged enum (`kind = ...`), which serde buffers before choosing the variant, so an
/// error inside it loses its position and points at the `[workload]` header. In that
/// case the workload's table is deserialised again on its own, directly into the
/// variant's struct, from a copy of the text where everything else is blanked (offsets
/// kept): the error then points at the offending key's line.
pub fn scenario_error(path: &Path, src: &str, prefix: &str, e: &toml::de::Error) -> FileError {
    let table = format!("{prefix}workload");
    let first = FileError::toml(path, src, e);
    if first.key.as_deref() != Some(table.as_str()) {
        return first;
    }
    match probe_workload(src, &table) {
        Some(precise) if precise.span().is_some() => FileError::toml(path, src, &precise),
        _ => first,
    }
}

/// Re-reads the workload table of `src` (the table named `table`) as its variant's
/// struct; `Some(error)` when that fails.
fn probe_workload(src: &str, table: &str) -> Option<toml::de::Error> {
    let raw: toml::Table = toml::from_str(src).ok()?;
    let mut t = &raw;
    for part in table.split('.') {
        t = t.get(part)?.as_table()?;
    }
    let kind = t.get("kind")?.as_str()?.to_string();
    let mut current = String::new();
    let mut out = String::with_capacity(src.len());
    for line in src.split_inclusive('\n') {
        let body_len = line.trim_end_matches(['\n', '\r']).len();
        let (body, end) = line.split_at(body_len);
        let key = line_key(body);
        if let Some((p, true)) = &key {
            current = p.clone();
        }
        let inside = current == table || current.starts_with(&format!("{table}."));
        let keep = match &key {
            Some((p, true)) if p == table => None,
            Some((p, true)) if inside => {
                // `[workload.arrivals]` becomes `[arrivals]`, padded to the same length.
                let short = format!("[{}]", &p[table.len() + 1..]);
                Some(format!("{short:<width$}", width = body.len()))
            }
            Some((k, false)) if inside && current == table && k == "kind" => None,
            _ if inside => Some(body.to_string()),
            _ => None,
        };
        match keep {
            Some(b) => out.push_str(&b),
            None => out.extend(std::iter::repeat_n(' ', body.chars().count())),
        }
        out.push_str(end);
    }
    // Blanking by characters keeps byte offsets only for ASCII; elsewhere give up.
    if out.len() != src.len() {
        return None;
    }
    let result = match kind.as_str() {
        "fig3" => toml::from_str::<sim::Fig3Config>(&out).err(),
        "fig4-5" | "fig45" => toml::from_str::<sim::Fig45Config>(&out).err(),
        "bank" => toml::from_str::<sim::BankConfig>(&out).err(),
        "generated" => toml::from_str::<sim::GeneratedConfig>(&out).err(),
        "trace" => toml::from_str::<sim::TraceConfig>(&out).err(),
        _ => None,
    };
    result
}

/// The CLI keys of a run file, with where they are.
#[derive(Deserialize, Default)]
struct CliKeys {
    policies: Option<toml::Spanned<Vec<RunPolicy>>>,
    seed: Option<toml::Spanned<u64>>,
}

/// A parsed run file.
#[derive(Debug, Clone)]
pub struct RunFile {
    pub policies: Vec<RunPolicy>,
    pub seed: Option<u64>,
    pub scenario: Scenario,
}

/// Blanks the key/value pair whose value spans `span`: from the start of its line to
/// the end of the value, keeping newlines, so every other offset is unchanged.
fn blank(src: &mut [u8], span: Range<usize>) {
    let start = src[..span.start]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    for b in &mut src[start..span.end] {
        if *b != b'\n' {
            *b = b' ';
        }
    }
}

/// Loads a run file.
pub fn load_run_file(path: &Path) -> Result<RunFile, FileError> {
    let src = read(path)?;
    let keys: CliKeys = toml::from_str(&src).map_err(|e| FileError::toml(path, &src, &e))?;
    let mut rest = src.clone().into_bytes();
    for span in [
        keys.policies.as_ref().map(|p| p.span()),
        keys.seed.as_ref().map(|s| s.span()),
    ]
    .into_iter()
    .flatten()
    {
        blank(&mut rest, span);
    }
    let rest = String::from_utf8(rest).map_err(|_| FileError::whole(path, "not UTF-8"))?;
    let mut scenario: Scenario =
        toml::from_str(&rest).map_err(|e| scenario_error(path, &src, "", &e))?;
    load_trace(path, &src, "workload.path", &mut scenario)?;
    let policies = match keys.policies {
        Some(p) if p.get_ref().is_empty() => {
            return Err(FileError::key(
                path,
                &src,
                "policies",
                "is empty; name at least one policy",
            ));
        }
        Some(p) => p.into_inner(),
        None => default_policies(),
    };
    check_scenario(path, &src, &scenario)?;
    Ok(RunFile {
        policies,
        seed: keys.seed.map(|s| s.into_inner()),
        scenario,
    })
}

/// Reads a trace workload's file (a path relative to the scenario file at `path`);
/// its errors name the trace file and line, located at `key` in `src`.
pub fn load_trace(path: &Path, src: &str, key: &str, s: &mut Scenario) -> Result<(), FileError> {
    let dir = path.parent().unwrap_or(Path::new(""));
    s.load_trace(dir)
        .map_err(|e| FileError::key(path, src, key, e.to_string()))
}

/// Range checks with file lines ([`validate`]), then the simulator's own
/// `Scenario::validate` for whatever it checks beyond them; its message is located by
/// the dotted key it names, when it names one the file sets.
pub fn check_scenario(path: &Path, src: &str, s: &Scenario) -> Result<(), FileError> {
    validate(s).map_err(|(key, msg)| FileError::key(path, src, &key, msg))?;
    if let Err(e) = s.validate() {
        let msg = e.to_string();
        let named = msg
            .split(|c: char| c.is_whitespace() || c == ':' || c == ',')
            .find(|w| w.contains('.') && locate(src, w).is_some());
        return Err(match named {
            Some(key) => FileError::key(path, src, key, msg.clone()),
            None => FileError::whole(path, msg),
        });
    }
    Ok(())
}

fn in_unit(key: &str, x: f64) -> Result<(), (String, String)> {
    if (0.0..=1.0).contains(&x) {
        Ok(())
    } else {
        Err((key.to_string(), format!("{x} is out of range 0..=1")))
    }
}

fn at_least(key: &str, x: u64, min: u64) -> Result<(), (String, String)> {
    if x >= min {
        Ok(())
    } else {
        Err((
            key.to_string(),
            format!("{x} is out of range: must be at least {min}"),
        ))
    }
}

fn ordered(min_key: &str, min: u64, max_key: &str, max: u64) -> Result<(), (String, String)> {
    if min <= max {
        Ok(())
    } else {
        Err((
            min_key.to_string(),
            format!("{min} is greater than {max_key} = {max}"),
        ))
    }
}

/// Range checks the types cannot express: (dotted key, what is wrong). The simulator
/// checks some of these again when it starts; here they get a file line.
pub fn validate(s: &Scenario) -> Result<(), (String, String)> {
    use sim::{Arrivals, HotSpot, WorkloadConfig as W};
    in_unit("abort_probability", s.abort_probability)?;
    at_least(
        "geometry.records_per_block",
        s.geometry.records_per_block,
        1,
    )?;
    if s.geometry.block_size_bytes == 0 || !s.geometry.block_size_bytes.is_multiple_of(8) {
        return Err((
            "geometry.block_size_bytes".into(),
            format!(
                "{} is out of range: must be a positive multiple of 8",
                s.geometry.block_size_bytes
            ),
        ));
    }
    if let Err(e) = s.layout() {
        return Err(("geometry.records_per_block".into(), e.to_string()));
    }
    at_least("device.channels", u64::from(s.device.channels), 1)?;
    at_least("limits.events_max", s.limits.events_max, 1)?;
    at_least("limits.attempts_max", s.limits.attempts_max, 1)?;
    match &s.workload {
        W::Fig3(c) => {
            at_least("workload.records", c.records, 1)?;
            at_least("workload.updates_min", u64::from(c.updates_min), 1)?;
            ordered(
                "workload.updates_min",
                c.updates_min.into(),
                "updates_max",
                c.updates_max.into(),
            )?;
        }
        W::Fig45(c) => {
            at_least("workload.records", c.records, 1)?;
            at_least("workload.processes", u64::from(c.processes), 1)?;
            at_least("workload.arrival_ticks_mean", c.arrival_ticks_mean, 1)?;
            at_least("workload.updates_min", u64::from(c.updates_min), 1)?;
            ordered(
                "workload.updates_min",
                c.updates_min.into(),
                "updates_max",
                c.updates_max.into(),
            )?;
            ordered(
                "workload.compute_ticks_min",
                c.compute_ticks_min,
                "compute_ticks_max",
                c.compute_ticks_max,
            )?;
        }
        W::Bank(c) => {
            at_least("workload.accounts", c.accounts, 2)?;
            at_least("workload.arrival_ticks_mean", c.arrival_ticks_mean, 1)?;
            at_least("workload.amount_max", c.amount_max.max(0) as u64, 1)?;
            ordered(
                "workload.compute_ticks_min",
                c.compute_ticks_min,
                "compute_ticks_max",
                c.compute_ticks_max,
            )?;
        }
        W::Generated(c) => {
            at_least("workload.records", c.records, 1)?;
            in_unit("workload.write_fraction", c.write_fraction)?;
            at_least("workload.length_min", u64::from(c.length_min), 1)?;
            ordered(
                "workload.length_min",
                c.length_min.into(),
                "length_max",
                c.length_max.into(),
            )?;
            ordered(
                "workload.compute_ticks_min",
                c.compute_ticks_min,
                "compute_ticks_max",
                c.compute_ticks_max,
            )?;
            match c.arrivals {
                Arrivals::Open {
                    interarrival_ticks_mean,
                } => at_least(
                    "workload.arrivals.interarrival_ticks_mean",
                    interarrival_ticks_mean,
                    1,
                )?,
                Arrivals::Closed { clients, .. } => {
                    at_least("workload.arrivals.clients", clients.into(), 1)?
                }
            }
            if let HotSpot::Zipf { exponent } = c.hot_spot {
                if !(exponent.is_finite() && exponent >= 0.0) {
                    return Err((
                        "workload.hot_spot.exponent".into(),
                        format!("{exponent} is out of range: must be finite and at least 0"),
                    ));
                }
            }
        }
        // The simulator checks a trace's keys when it loads it.
        W::Trace(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "policies = [\"none\",\n  \"cow\"]\nseed = 9\nname = \"x\"\n\n[workload]\nkind = \"generated\" # c\nwrite_fraction = 1.5\narrivals = { mode = \"open\", interarrival_ticks_mean = 0 }\n";

    #[test]
    fn locates_keys_in_tables_and_inline_tables() {
        assert_eq!(locate(SRC, "workload.write_fraction"), Some(8));
        assert_eq!(
            locate(SRC, "workload.arrivals.interarrival_ticks_mean"),
            Some(9)
        );
        assert_eq!(locate(SRC, "workload"), Some(6));
        assert_eq!(locate(SRC, "geometry.records_per_block"), None);
        assert_eq!(key_at_line(SRC, 7).as_deref(), Some("workload.kind"));
    }

    #[test]
    fn blanking_keeps_offsets() {
        let mut b = SRC.as_bytes().to_vec();
        let start = SRC.find("[\"none\"").unwrap();
        let end = SRC.find("]\nseed").unwrap() + 1;
        blank(&mut b, start..end);
        let s = String::from_utf8(b).unwrap();
        assert_eq!(s.len(), SRC.len());
        assert!(s.starts_with("            "));
        assert_eq!(s.lines().count(), SRC.lines().count());
        assert!(s.contains("seed = 9"));
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
