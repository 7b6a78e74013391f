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
    /// The kept points whose JSON does not match the digest their file pins (edited),
    /// or that pin none, by grid index: why, in words.
    pub unpinned: BTreeMap<usize, String>,
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
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let dir = parent.join(format!(".{name}.points"));
        let mut found = BTreeMap::new();
        let mut unpinned = BTreeMap::new();
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
                let text = std::fs::read_to_string(e.path())?;
                let (pin, json) = match text.strip_prefix(PIN).and_then(|t| t.split_once('\n')) {
                    Some((pin, json)) => (Some(pin), json),
                    None => (None, text.as_str()),
                };
                let p: Point = serde_json::from_str(json)
                    .with_context(|| format!("{}: a kept grid point", e.path().display()))?;
                let digest = super::sha256(json.as_bytes());
                match pin {
                    Some(pin) if pin == digest => {}
                    Some(pin) => {
                        unpinned.insert(
                            i,
                            format!(
                                "its JSON was edited after it was kept (sha256 {}, pinned {})",
                                short(&digest),
                                short(pin)
                            ),
                        );
                    }
                    None => {
                        unpinned.insert(
                            i,
                            "it pins no digest of its JSON (edited, or kept by an owm that \
                             pinned none)"
                                .to_string(),
                        );
                    }
                }
                found.insert(i, p);
            }
        } else {
            if let Some(why) = changed {
                say!("--resume: the kept points {why}; starting afresh");
            } else if resume && dir.exists() {
                say!("--resume: the kept points are of another sweep file; starting afresh");
            }
            if dir.exists() {
                std::fs::remove_dir_all(&dir)
                    .with_context(|| format!("{}: cannot remove", dir.display()))?;
            }
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("{}: cannot create", dir.display()))?;
            // The digests first: a directory with the sweep file's copy has them.
            let mut pins = serde_json::to_vec_pretty(traces)?;
            pins.push(b'\n');
            reports::write_atomic(&dir.join(TRACES), &pins)?;
            reports::write_atomic(&dir.join(SPEC), src.as_bytes())?;
        }
        Ok((Kept { dir, unpinned }, found))
    }

    /// The file that keeps grid point `index`.
    pub fn file_of(&self, index: usize) -> PathBuf {
        self.dir.join(format!("point-{index}.json"))
    }

    /// Keeps grid point `index`: `sha256 <hex>` of the JSON, a newline, the JSON.
    pub fn keep(&self, index: usize, p: &Point) -> Result<()> {
        let json = serde_json::to_string(p)?;
        let text = format!("{PIN}{}\n{json}", super::sha256(json.as_bytes()));
        reports::write_atomic(&self.file_of(index), text.as_bytes())?;
        Ok(())
    }

    /// The sweep completed: nothing to resume.
    pub fn finish(self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
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
