//! Finished grid points kept across an interrupted sweep: each point, when it finishes,
//! is written (atomically, as JSON: its CSV row, verdicts and messages) into
//! `.<out name>.points/` beside the output directory, with a copy of the sweep file.
//! `owm sweep --resume` reuses them when the sweep file is byte-identical and runs only
//! the rest, so the final files are the bytes of an uninterrupted sweep. A sweep that
//! completes removes the directory; one started without `--resume` discards it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::grid::Point;

const SPEC: &str = "sweep.toml";

/// The directory of kept points of one output directory.
pub struct Kept {
    dir: PathBuf,
}

impl Kept {
    /// Opens the kept points of `out` for the sweep file `src`: with `resume`, the
    /// points an earlier run of the same file kept (by grid index); without, none (any
    /// earlier ones are discarded).
    pub fn open(out: &Path, src: &str, resume: bool) -> Result<(Kept, BTreeMap<usize, Point>)> {
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
        let same = std::fs::read_to_string(dir.join(SPEC)).is_ok_and(|s| s == src);
        if resume && same {
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
                let p: Point = serde_json::from_str(&text)
                    .with_context(|| format!("{}: a kept grid point", e.path().display()))?;
                found.insert(i, p);
            }
        } else {
            if resume && dir.exists() {
                say!("--resume: the kept points are of another sweep file; starting afresh");
            }
            if dir.exists() {
                std::fs::remove_dir_all(&dir)
                    .with_context(|| format!("{}: cannot remove", dir.display()))?;
            }
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("{}: cannot create", dir.display()))?;
            reports::write_atomic(&dir.join(SPEC), src.as_bytes())?;
        }
        Ok((Kept { dir }, found))
    }

    /// The file that keeps grid point `index`.
    pub fn file_of(&self, index: usize) -> PathBuf {
        self.dir.join(format!("point-{index}.json"))
    }

    /// Keeps grid point `index`.
    pub fn keep(&self, index: usize, p: &Point) -> Result<()> {
        let text = serde_json::to_string(p)?;
        reports::write_atomic(&self.file_of(index), text.as_bytes())?;
        Ok(())
    }

    /// The sweep completed: nothing to resume.
    pub fn finish(self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
