//! Finished grid points kept across an interrupted sweep: each point, when it finishes,
//! is written (atomically, as JSON: its CSV row, verdicts and messages, after a first
//! line `sha256 <hex>` pinning the JSON's bytes, as `shard.toml` pins a shard's) into
//! `.<out name>.points/` beside the output directory, with a copy of the sweep file and
//! the digests of the trace files its grid points replay (`traces.json`). `owm sweep
//! --resume` reuses them when the sweep file is byte-identical and every trace has the
//! digest kept, and runs only the rest, so the final files are the bytes of an
//! uninterrupted sweep; otherwise it says which file changed and starts afresh, never
//! mixing rows of two versions of a sweep file or a trace. A sweep that completes
//! removes the directory; one started without `--resume` discards it.

use engine::shown::ShowName as _;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::grid::Point;
use super::traces::{short, TraceDigest};

const SPEC: &str = "sweep.toml";
const TRACES: &str = "traces.json";

/// The first line of a kept point's file: its JSON's digest follows.
const PIN: &str = "sha256 ";

/// The directory of kept points of one output directory.
pub struct Kept {
    dir: PathBuf,
    /// The kept points refused, by grid index: why, in words (unreadable; [`read_point`]:
    /// blank, not text, a damaged pin line, JSON that does not match the digest pinned
    /// (edited), no pin, or JSON that is not a grid point's).
    pub unpinned: BTreeMap<usize, String>,
    /// The kept points whose file is empty or all zero bytes, by grid index: a point
    /// kept just before a power loss or a crash of the system, which wrote the file's
    /// name and not yet its bytes ([`Kept::keep`] does not wait for the disk); run
    /// again.
    pub lost: Vec<usize>,
}

/// The grid indices `--resume` would take as finished from `out`'s kept points, read
/// without opening, writing or checking them (their names only, when the sweep file
/// `src` and the traces `traces` are those kept): what the memory check before the
/// outputs are prepared leaves out of the points still to run. A kept file found
/// unfit later stops the sweep anyway ([`Kept::open`]'s checks).
pub fn kept_indices(out: &Path, src: &str, traces: &[TraceDigest], resume: bool) -> Vec<usize> {
    if !resume {
        return Vec::new();
    }
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let dir = engine::atomic::directory_of(out).join(format!(".{name}.points"));
    let same = std::fs::read_to_string(dir.join(SPEC)).is_ok_and(|s| s == src);
    if !same || changed_trace(&dir, traces).is_some() {
        return Vec::new();
    }
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut kept: Vec<usize> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.metadata().is_ok_and(|m| m.len() > 0))
        .filter_map(|e| {
            e.file_name()
                .to_string_lossy()
                .strip_prefix("point-")
                .and_then(|f| f.strip_suffix(".json"))
                .and_then(|i| i.parse::<usize>().ok())
        })
        .collect();
    kept.sort_unstable();
    kept
}

impl Kept {
    /// Opens the kept points of `out` for the sweep file `src` replaying `traces`: with
    /// `resume`, the points an earlier run of the same file kept (by grid index) when
    /// it replayed the same traces (by digest); without, none (any earlier ones are
    /// discarded).
    pub fn open(
        out: &Path,
        src: &str,
        traces: &[TraceDigest],
        resume: bool,
    ) -> Result<(Kept, BTreeMap<usize, Point>)> {
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        let parent = engine::atomic::directory_of(out);
        let dir = parent.join(format!(".{name}.points"));
        let mut found = BTreeMap::new();
        let mut unpinned = BTreeMap::new();
        let mut lost = Vec::new();
        let same = std::fs::read_to_string(dir.join(SPEC)).is_ok_and(|s| s == src);
        let changed = if resume && same {
            changed_trace(&dir, traces)
        } else {
            None
        };
        if resume && same && changed.is_none() {
            for e in std::fs::read_dir(&dir)?.filter_map(|e| e.ok()) {
                let file = e.file_name().to_string_lossy().into_owned();
                let Some(i) = file
                    .strip_prefix("point-")
                    .and_then(|f| f.strip_suffix(".json"))
                    .and_then(|i| i.parse::<usize>().ok())
                else {
                    continue;
                };
                let bytes = match std::fs::read(e.path()) {
                    Ok(b) => b,
                    Err(e) => {
                        unpinned.insert(i, format!("it cannot be read ({e})"));
                        continue;
                    }
                };
                if bytes.iter().all(|&b| b == 0) {
                    lost.push(i);
                    continue;
                }
                let (point, why) = read_point(bytes);
                if let Some(p) = point {
                    found.insert(i, p);
                }
                if let Some(why) = why {
                    unpinned.insert(i, why);
                }
            }
        } else {
            if let Some(why) = changed {
                say!("--resume: the kept points {why}; starting afresh");
            } else if resume && dir.exists() {
                say!("--resume: the kept points are of another sweep file; starting afresh");
            }
            if dir.exists() {
                std::fs::remove_dir_all(&dir)
                    .with_context(|| format!("{}: cannot remove", dir.shown()))?;
            }
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("{}: cannot create", dir.shown()))?;
            // The digests first: a directory with the sweep file's copy has them.
            let mut pins = serde_json::to_vec_pretty(traces)?;
            pins.push(b'\n');
            reports::write_atomic(&dir.join(TRACES), &pins)?;
            reports::write_atomic(&dir.join(SPEC), src.as_bytes())?;
        }
        lost.sort_unstable();
        Ok((
            Kept {
                dir,
                unpinned,
                lost,
            },
            found,
        ))
    }

    /// The file that keeps grid point `index`.
    pub fn file_of(&self, index: usize) -> PathBuf {
        self.dir.join(format!("point-{index}.json"))
    }

    /// Keeps grid point `index`: `sha256 <hex>` of the JSON, a newline, the JSON;
    /// whole or absent whenever the process is killed, not waited onto the disk (one
    /// `fsync` a point cost a 4,000-point sweep of small points most of its time:
    /// BENCHMARKS.md, "A sweep's kept points not waited onto the disk"): a point a
    /// power loss leaves empty is run again ([`Kept::lost`]).
    pub fn keep(&self, index: usize, p: &Point) -> Result<()> {
        let json = serde_json::to_string(p)?;
        let text = format!("{PIN}{}\n{json}", super::sha256(json.as_bytes()));
        // The directory goes whole when the sweep completes, a killed writer's
        // temporary files with it.
        reports::write_atomic_scratch(&self.file_of(index), text.as_bytes())?;
        Ok(())
    }

    /// The sweep completed: nothing to resume.
    pub fn finish(self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The grid point kept in a file of `bytes` (`sha256 <64 lowercase hex digits>`, a
/// newline, its JSON, as [`Kept::keep`] writes it) when its JSON reads as one, and why
/// the file is refused, in words that say what is wrong with it: it is blank
/// (whitespace; a file with no byte or only zero bytes is [`Kept::lost`] instead) or
/// not text, or holds its pin line and no JSON; its first line is a damaged pin
/// (`sha256` in another case, a digest that is not 64 lowercase hex digits, a space
/// after it: the line is quoted, its digest elided); it pins no digest; its JSON does
/// not match the digest pinned (edited after it was kept); or its JSON is not a grid
/// point's (serde's words).
fn read_point(bytes: Vec<u8>) -> (Option<Point>, Option<String>) {
    const DAMAGED: &str = "damaged: a kept point holds its pin line, then its JSON";
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return (None, Some(format!("it is blank ({DAMAGED})")));
    }
    let Ok(text) = String::from_utf8(bytes) else {
        return (None, Some(format!("it is not text ({DAMAGED})")));
    };
    let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
    let pinned = first
        .strip_prefix(PIN)
        .filter(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
    let says_pin = first
        .split_whitespace()
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case(PIN.trim_end()));
    let json = if pinned.is_some() { rest } else { &text };
    let (point, not_a_point) = match serde_json::from_str::<Point>(json) {
        Ok(p) => (Some(p), None),
        Err(e) => (None, Some(format!("its JSON is not a grid point's ({e})"))),
    };
    let why = match pinned {
        Some(_) if rest.trim().is_empty() => {
            Some(format!("it holds its pin line and no JSON ({DAMAGED})"))
        }
        Some(pin) => {
            let digest = super::sha256(json.as_bytes());
            if pin == digest {
                not_a_point
            } else {
                Some(format!(
                    "its JSON was edited after it was kept (sha256 {}, pinned {})",
                    short(&digest),
                    short(pin)
                ))
            }
        }
        None if says_pin => Some(format!(
            "its first line, {}, is not a pin (`sha256 `, then 64 lowercase hex digits): \
             the pin line was edited or damaged",
            quoted(first)
        )),
        None if point.is_some() => Some(
            "it pins no digest of its JSON (edited, or kept by an owm that pinned none)"
                .to_string(),
        ),
        None => not_a_point.map(|w| format!("{w}, and it pins no digest")),
    };
    (point, why)
}

/// `line` in double quotes with Rust's escapes (a trailing space or a tab shows), its
/// middle elided past 32 characters: `"sha256 daf6399b08b3…39be "`.
fn quoted(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let shown: String = if chars.len() > 32 {
        let head: String = chars[..19].iter().collect();
        let tail: String = chars[chars.len() - 5..].iter().collect();
        format!("{head}…{tail}")
    } else {
        line.to_string()
    };
    format!("{shown:?}")
}

/// Why the points kept in `dir` cannot be reused with `traces` (the sweep's traces as
/// this run loaded them): a trace whose digest is not the one kept, or kept digests
/// that are missing or unreadable (an owm that pinned none) while the sweep replays a
/// trace. `None` when every trace has its kept digest.
fn changed_trace(dir: &Path, traces: &[TraceDigest]) -> Option<String> {
    let kept: Option<Vec<TraceDigest>> = std::fs::read(dir.join(TRACES))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let Some(kept) = kept else {
        return traces.first().map(|t| {
            format!(
                "pin no trace digests (kept by an owm that did not), so they may have \
                 replayed another version of the trace {}",
                t.file
            )
        });
    };
    traces.iter().find_map(|t| {
        let was = kept.iter().find(|k| k.path == t.path);
        match was {
            Some(k) if k.sha256 == t.sha256 => None,
            Some(k) => Some(format!(
                "replayed another version of the trace {} (sha256 {}, now {})",
                t.file,
                short(&k.sha256),
                short(&t.sha256)
            )),
            None => Some(format!("pin no digest of the trace {} (damaged?)", t.file)),
        }
    })
}
