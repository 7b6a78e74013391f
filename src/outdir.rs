//! Whole outputs: a command writes into a fresh staging directory beside `--out` and,
//! when everything is written, swaps it with `--out` in one step (`renameat2` with
//! `RENAME_EXCHANGE` on Linux), so the directory always holds exactly one complete
//! run — never files of two runs, never a half-written one. The swapped-out old run
//! is then removed; a staging directory left by a killed run (`.<name>.staging-*`
//! beside the target) is removed by the next run into the same target.
//!
//! The target is checked before any work: it must be creatable and writable, and an
//! existing directory must be empty or an earlier output of owm (it is replaced whole,
//! so a directory of other files is refused rather than emptied).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// Files that mark a directory as an owm output.
const MARKERS: [&str; 4] = ["summary.csv", "sweep.csv", "shard.toml", "verdicts.json"];

/// A staging directory for `target`, removed on drop unless committed.
pub struct Staging {
    target: PathBuf,
    dir: Option<tempfile::TempDir>,
}

fn prefix(target: &Path) -> String {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    format!(".{name}.staging-")
}

fn parent(target: &Path) -> &Path {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The nearest existing ancestor of `dir` (or `dir` itself) when it is not a directory.
fn file_in_the_way(dir: &Path) -> Option<&Path> {
    let existing = dir.ancestors().find(|a| a.exists())?;
    (!existing.is_dir()).then_some(existing)
}

/// Checks `target` can be written and replaced, removes stale staging directories of
/// earlier killed runs, and makes a fresh staging directory. Call before any work.
pub fn prepare(target: &Path) -> Result<Staging> {
    let parent = parent(target);
    if let Some(file) = file_in_the_way(parent) {
        bail!(
            "{}: cannot create the output directory: {} is a file, not a directory",
            target.display(),
            file.display()
        );
    }
    std::fs::create_dir_all(parent)
        .with_context(|| format!("{}: cannot create the output directory", target.display()))?;
    if target.exists() {
        if !target.is_dir() {
            bail!(
                "{}: cannot create the output directory: a file is in the way",
                target.display()
            );
        }
        let mut entries = std::fs::read_dir(target)
            .with_context(|| format!("{}: cannot read the output directory", target.display()))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned());
        let names: Vec<String> = entries.by_ref().collect();
        if !names.is_empty() && !names.iter().any(|n| MARKERS.contains(&n.as_str())) {
            bail!(
                "{}: not empty and not an earlier owm output (no {}); it would be replaced \
                 whole, so choose a new or empty directory",
                target.display(),
                MARKERS.join(", ")
            );
        }
        tempfile::tempfile_in(target).with_context(|| {
            format!("{}: the output directory is not writable", target.display())
        })?;
    }
    remove_stale(target)?;
    let dir = tempfile::Builder::new()
        .prefix(&prefix(target))
        .tempdir_in(parent)
        .with_context(|| format!("{}: cannot create the output directory", target.display()))?;
    Ok(Staging {
        target: target.to_path_buf(),
        dir: Some(dir),
    })
}

/// Removes the staging directories a killed run left beside `target`.
fn remove_stale(target: &Path) -> Result<()> {
    let p = prefix(target);
    let Ok(entries) = std::fs::read_dir(parent(target)) else {
        return Ok(());
    };
    for e in entries.filter_map(|e| e.ok()) {
        if e.file_name().to_string_lossy().starts_with(&p) && e.path().is_dir() {
            std::fs::remove_dir_all(e.path()).with_context(|| {
                format!(
                    "{}: cannot remove a stale staging directory",
                    e.path().display()
                )
            })?;
        }
    }
    Ok(())
}

/// Test hook: with `OWM_PAUSE_AT=<point>` the process says `paused at <point>` on
/// stderr and waits for stdin to close, so a test can kill it at a known step.
pub fn pause_point(point: &str) {
    if std::env::var("OWM_PAUSE_AT").is_ok_and(|p| p == point) {
        eprintln!("paused at {point}");
        let mut sink = String::new();
        let _ = std::io::stdin().read_line(&mut sink);
    }
}

impl Staging {
    /// Where to write the files.
    pub fn path(&self) -> &Path {
        self.dir.as_ref().map_or(Path::new("."), |d| d.path())
    }

    /// Replaces the target's contents with the staging directory's in one step.
    pub fn commit(mut self) -> Result<()> {
        let Some(dir) = self.dir.take() else {
            return Ok(());
        };
        let staged = dir.keep();
        let ctx = || {
            format!(
                "{}: cannot replace the output directory",
                self.target.display()
            )
        };
        if !self.target.exists() {
            std::fs::rename(&staged, &self.target).with_context(ctx)?;
            return Ok(());
        }
        exchange(&staged, &self.target).with_context(ctx)?;
        pause_point("replace");
        // `staged` now holds the earlier run.
        std::fs::remove_dir_all(&staged).with_context(ctx)?;
        Ok(())
    }
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let ca = CString::new(a.as_os_str().as_bytes())?;
    let cb = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: two valid NUL-terminated paths; renameat2 reads them and nothing else.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Elsewhere: two renames (the target is briefly absent, never mixed).
#[cfg(not(target_os = "linux"))]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    let old = a.with_extension("old");
    std::fs::rename(b, &old)?;
    std::fs::rename(a, b)?;
    std::fs::rename(&old, a)
}

/// Refuses an `--out` that is one of a merge's input directories (`dirs`): the merge
/// would replace the shard it is reading.
pub fn refuse_input_as_out(dirs: &[PathBuf], out: &Path) -> Result<()> {
    let canon = |p: &Path| std::fs::canonicalize(p).ok();
    if let Some(d) = dirs
        .iter()
        .find(|d| canon(d).is_some() && canon(d) == canon(out))
    {
        bail!(
            "--out {} is one of the input shards ({}): merge into a new directory",
            out.display(),
            d.display()
        );
    }
    Ok(())
}
