//! The trace files a sweep's grid points replay, pinned by their SHA-256, so a sweep
//! whose rows would come from two versions of a trace is refused, never written.
//!
//! Loading a sweep ([`super::file::load`]) reads each trace once per combination of
//! axis values that replays it, before any grid point runs; the points replay the
//! traces as loaded then, not the files. Each distinct trace file (as the sweep file or
//! an axis writes its `workload.path`) is hashed right before its first read and again
//! once every combination is loaded ([`Reads`]): a file that changed in between is
//! refused, so the digest recorded is that of the bytes every point replays. Shards
//! record the digests of the traces their points replay (`shard.toml`'s `[[traces]]`)
//! and `owm merge` requires them to agree with each other and with the files as the
//! merge reads them ([`check_merge`]); the finished points kept for `--resume` keep
//! them too (`resume.rs`).

use engine::shown::ShowName as _;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use sim::Scenario;

use crate::config::FileError;

/// One trace file a sweep reads: `path` as the sweep file (or an axis) writes it,
/// the same in every shard of the sweep; `file`, the file opened (resolved beside the
/// sweep file, made absolute); `sha256`, the hex SHA-256 of its bytes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceDigest {
    pub path: String,
    pub file: String,
    pub sha256: String,
}

/// The first 12 hex digits of a digest, as refusals show it.
pub fn short(sha256: &str) -> &str {
    sha256.get(..12).unwrap_or(sha256)
}

/// The hex SHA-256 of the file at `path` ([`super::to_hex`]), read in pieces (a trace may be as large as
/// the memory bound).
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    use sha2::Digest;
    let mut f = std::fs::File::open(path)?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
    }
    Ok(super::to_hex(&hasher.finalize()))
}

/// The trace a scenario replays: its `workload.path` as written, and the file that
/// opens (beside the sweep file `sweep`). `None` for the other workloads.
fn trace_of(sweep: &Path, s: &Scenario) -> Option<(String, PathBuf)> {
    let sim::WorkloadConfig::Trace(c) = &s.workload else {
        return None;
    };
    if c.path.as_os_str().is_empty() {
        return None;
    }
    let dir = sweep.parent().unwrap_or(Path::new(""));
    let opened = dir.join(&c.path);
    let opened = std::path::absolute(&opened).unwrap_or(opened);
    Some((c.path.to_string_lossy().into_owned(), opened))
}

/// The trace files read while a sweep loads, each hashed before its first read
/// ([`Reads::before`]) and after the last ([`Reads::finish`]).
#[derive(Default)]
pub struct Reads {
    /// In order of first use: path as written, file opened, digest before the first
    /// read (`None`: it could not be read then).
    files: Vec<(String, PathBuf, Option<String>)>,
    /// Per loaded combination, in grid order: the index in `files` of its trace.
    combos: Vec<Option<usize>>,
}

impl Reads {
    /// Call before the trace of the next combination's scenario `s` (of the sweep file
    /// `sweep`) is loaded: hashes it unless an earlier combination's read it.
    pub fn before(&mut self, sweep: &Path, s: &Scenario) {
        let at = trace_of(sweep, s).map(|(path, opened)| {
            match self.files.iter().position(|f| f.0 == path) {
                Some(i) => i,
                None => {
                    let digest = sha256_file(&opened).ok();
                    self.files.push((path, opened, digest));
                    self.files.len() - 1
                }
            }
        });
        self.combos.push(at);
    }

    /// Every combination loaded: hashes each trace again and returns, in order of first
    /// use, the digests, and per combination the index of its trace among them.
    ///
    /// Errors (naming the sweep file `sweep`, text `src`, at `workload.path`): a trace
    /// whose bytes changed while the combinations read it (its points would replay two
    /// versions), or that cannot be read any more.
    pub fn finish(
        self,
        sweep: &Path,
        src: &str,
    ) -> Result<(Vec<TraceDigest>, Vec<Option<usize>>), FileError> {
        // Test hook (`OWM_PAUSE_AT`): a trace edited while paused here is refused below.
        crate::outdir::pause_point("traces read");
        let mut digests = Vec::with_capacity(self.files.len());
        for (path, opened, before) in self.files {
            let at =
                |message: String| FileError::key(sweep, src, "scenario.workload.path", message);
            let after = sha256_file(&opened).map_err(|e| {
                at(format!(
                    "{}: cannot read the trace again: {e}",
                    opened.shown()
                ))
            })?;
            if before.as_deref() != Some(after.as_str()) {
                return Err(at(format!(
                    "{}: the trace changed while the sweep read it (sha256 {} before, {} \
                     after), so its grid points could replay two versions of it; run the \
                     sweep again once the file is no longer being written",
                    opened.shown(),
                    before.as_deref().map_or("unreadable", short),
                    short(&after)
                )));
            }
            digests.push(TraceDigest {
                path,
                file: opened.to_string_lossy().into_owned(),
                sha256: after,
            });
        }
        Ok((digests, self.combos))
    }
}

/// One shard as merge checks its traces: its label (`shard K/N (DIR)`), its
/// `shard.toml`'s path, the traces it recorded (`None`: its owm recorded none), and
/// which slice of the grid it holds.
pub struct ShardTraces<'a> {
    pub label: &'a str,
    pub marker: &'a Path,
    pub recorded: Option<&'a [TraceDigest]>,
    pub shard: super::Shard,
}

/// Merge's checks of the shards' traces against each other and against `now`, the
/// digests of the files as the merge read them (loading the sweep), `of_point` giving
/// each grid index's trace among `now` (`points` of them).
///
/// Errors (exit 2), in this order: a shard that records no trace digests while the
/// sweep replays a trace (written by an owm that pinned none: which version it read
/// cannot be known); a shard that records no digest of a trace one of its points
/// replays, or one of a trace the sweep does not read (edited `shard.toml`); two
/// shards that recorded different digests of one trace (naming the file, both shards
/// and both digests); a shard whose digest is not the file's now (naming the file, the
/// shard and both digests).
pub fn check_merge(
    shards: &[ShardTraces<'_>],
    now: &[TraceDigest],
    points: usize,
    of_point: &dyn Fn(usize) -> Option<usize>,
) -> Result<()> {
    for s in shards {
        let Some(recorded) = s.recorded else {
            if let Some(t) = now.first() {
                bail!(
                    "{}: {} records no trace digests (written by an owm that did not pin \
                     the traces a shard replays), so which version of the trace {} it \
                     replayed cannot be checked: run this shard again with this owm",
                    s.label,
                    s.marker.shown(),
                    t.file
                );
            }
            continue;
        };
        if let Some(r) = recorded
            .iter()
            .find(|r| !now.iter().any(|t| t.path == r.path))
        {
            bail!(
                "{}: {} records the trace `{}`, which the sweep does not replay (edited?)",
                s.label,
                s.marker.shown(),
                r.path
            );
        }
        // The shard's grid indices: k - 1, k - 1 + n, ...
        let (k, n) = (s.shard.k as usize, s.shard.n as usize);
        for i in (k - 1..points).step_by(n) {
            let Some(t) = of_point(i).and_then(|t| now.get(t)) else {
                continue;
            };
            if !recorded.iter().any(|r| r.path == t.path) {
                bail!(
                    "{}: {} records no digest of the trace {}, which its grid point {i} \
                     replays (edited?)",
                    s.label,
                    s.marker.shown(),
                    t.file
                );
            }
        }
    }
    // The first shard to record each trace, and its digest.
    let mut first: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    for s in shards {
        for r in s.recorded.unwrap_or_default() {
            let file = now
                .iter()
                .find(|t| t.path == r.path)
                .map_or(r.file.as_str(), |t| t.file.as_str());
            match first.get(r.path.as_str()) {
                Some(&(label, sha)) if sha != r.sha256 => bail!(
                    "the trace {file} differs between shards: {label} replayed sha256 {}, \
                     {} replayed {}; it changed between their runs, so their rows come from \
                     two versions of it: run the shards again on one version",
                    short(sha),
                    s.label,
                    short(&r.sha256)
                ),
                Some(_) => {}
                None => {
                    first.insert(&r.path, (s.label, &r.sha256));
                }
            }
        }
    }
    for t in now {
        if let Some(&(label, sha)) = first.get(t.path.as_str()) {
            if sha != t.sha256 {
                bail!(
                    "the trace {} changed since the shards ran: {label} replayed sha256 {}, \
                     the file now holds {}; merge re-reads the sweep with its traces, so it \
                     refuses a trace that is not the one the rows come from: restore it, or \
                     run the shards again",
                    t.file,
                    short(sha),
                    short(&t.sha256)
                );
            }
        }
    }
    Ok(())
}
