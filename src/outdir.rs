//! Whole outputs: a command writes into a fresh staging directory beside `--out` and,
//! when everything is written, swaps it with `--out` in one step (`renameat2` with
//! `RENAME_EXCHANGE` on Linux), so the directory always holds exactly one complete
//! run — never files of two runs, never a half-written one. The swapped-out old run
//! is then removed; a staging directory left by a killed run (`.<name>.staging-*`
//! beside the target) is removed by the next run into the same target.
//!
//! The target is checked before any work: it must be creatable and writable, and an
//! existing directory must be empty or an earlier output of owm (it is replaced whole,
//! so a directory holding anything owm did not write is refused rather than emptied:
//! [`foreign_entry`]).
//!
//! A live run holds an exclusive lock (`flock`) on its staging directory, and, while
//! it swaps, on the run it swaps out: the stale-staging removal skips a locked one, and
//! a second run into the same target while one is live is refused at once.

use engine::atomic::directory_of;
use engine::shown::ShowName as _;
use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// Names owm writes into an output directory (`run`, `sweep`, `sweep --shard`,
/// `merge`, the walk files of `check --simulate`, and the conventional verdict file).
const KNOWN: [&str; 10] = [
    "summary.csv",
    "trace.csv",
    "extra_space.csv",
    "sweep.csv",
    "sweep.toml",
    "stats.csv",
    "plots.csv",
    "shard.toml",
    "walks.toml",
    "verdicts.json",
];

/// A staging directory for `target`, removed on drop unless committed. Holds the
/// lock that tells other runs it is live.
pub struct Staging {
    target: PathBuf,
    dir: Option<tempfile::TempDir>,
    _lock: File,
}

fn prefix(target: &Path) -> String {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    format!(".{name}.staging-")
}

/// The nearest existing ancestor of `dir` (or `dir` itself) when it is not a directory.
fn file_in_the_way(dir: &Path) -> Option<&Path> {
    let existing = dir.ancestors().find(|a| a.exists())?;
    (!existing.is_dir()).then_some(existing)
}

/// Checks `target` can be written and replaced, removes stale staging directories of
/// earlier killed runs, and makes a fresh staging directory. Call before any work.
/// `flag` is the option that named `target` (`--out`, `--trace-dir`): a refusal
/// because another run is writing there names it.
pub fn prepare(target: &Path, flag: &str) -> Result<Staging> {
    let linked = link_destination(target, flag)?;
    let target = linked.as_deref().unwrap_or(target);
    refuse_current_dir(target)?;
    let parent = directory_of(target);
    if let Some(file) = file_in_the_way(parent) {
        bail!(
            "{}: cannot create the output directory: {} is a file, not a directory",
            target.shown(),
            file.shown()
        );
    }
    std::fs::create_dir_all(parent)
        .with_context(|| format!("{}: cannot create the output directory", target.shown()))?;
    if target.exists() {
        if !target.is_dir() {
            bail!(
                "{}: cannot create the output directory: a file is in the way",
                target.shown()
            );
        }
        if holds_only_traces(flag) {
            if let Some(name) = foreign_trace_entry(target)? {
                bail!(
                    "{flag} {}: holds {name}, which is not a trace or walks.toml of owm \
                     check: the trace directory is replaced whole after the search, so give \
                     a new or empty directory, or one holding only owm check's traces \
                     (nothing was removed)",
                    target.shown(),
                );
            }
        } else if let Some(name) = foreign_entry(target)? {
            bail!(
                "{}: not empty and not an earlier owm output: {name} was not written by owm; \
                 the directory would be replaced whole, so choose a new or empty directory",
                target.shown(),
            );
        }
        tempfile::tempfile_in(target)
            .map_err(engine::atomic::plain)
            .with_context(|| format!("{}: the output directory is not writable", target.shown()))?;
    }
    remove_stale(target, flag)?;
    let dir = tempfile::Builder::new()
        .prefix(&prefix(target))
        .tempdir_in(parent)
        .map_err(engine::atomic::plain)
        .with_context(|| format!("{}: cannot create the output directory", target.shown()))?;
    let lock = lock_dir(dir.path())
        .with_context(|| format!("{}: cannot lock the staging directory", target.shown()))?
        .ok_or_else(|| another_run(target, flag))?;
    if !engine::atomic::same_file(dir.path(), &lock) {
        // Another run took it for stale and removed it between creating and locking.
        return Err(another_run(target, flag));
    }
    Ok(Staging {
        target: target.to_path_buf(),
        dir: Some(dir),
        _lock: lock,
    })
}

/// Where `target` points when it is a symbolic link (followed to the end): the output
/// is published there, and the link kept; a swap at the link's own name would replace
/// the link with a directory and leave the earlier run where it pointed. `None` when
/// `target` is no link.
///
/// Errors: a link whose destination does not exist (a loop, a dangling link), naming
/// it and `flag`.
fn link_destination(target: &Path, flag: &str) -> Result<Option<PathBuf>> {
    // Without a trailing `/`, which would follow the link (`out/` names where it
    // points, and a rename there fails).
    let plain: PathBuf = target.components().collect();
    match std::fs::symlink_metadata(&plain) {
        Ok(m) if m.file_type().is_symlink() => {
            std::fs::canonicalize(&plain).map(Some).map_err(|e| {
                let to = std::fs::read_link(&plain)
                    .map(|p| p.shown().to_string())
                    .unwrap_or_default();
                anyhow::anyhow!(
                    "{}: a symbolic link to {to}, which cannot be followed ({e}): the output \
                     is written where the link points; make that directory, or give another \
                     {flag}",
                    target.shown()
                )
            })
        }
        _ => Ok(None),
    }
}

/// Refuses a `target` that is the current directory or holds it (`.`, `..`, `/`): it
/// would be replaced whole under the user's feet (the shell left in a removed
/// directory), and `.` cannot be renamed at all.
fn refuse_current_dir(target: &Path) -> Result<()> {
    let (Ok(t), Ok(cwd)) = (
        std::fs::canonicalize(target),
        std::env::current_dir().and_then(std::fs::canonicalize),
    ) else {
        return Ok(());
    };
    if cwd.starts_with(&t) {
        bail!(
            "{}: is the current directory or holds it ({}); the output directory is \
             replaced whole, so choose a new directory inside it (e.g. out/)",
            target.shown(),
            t.shown()
        );
    }
    Ok(())
}

fn another_run(target: &Path, flag: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "another owm run is writing {}: wait for it to finish or choose another {flag}",
        target.shown()
    )
}

/// The flag of `owm check`'s trace directory: a directory it names holds only traces
/// and `walks.toml` ([`foreign_trace_entry`]), never verdict files or another
/// command's output.
pub const TRACE_DIR_FLAG: &str = "--trace-dir";

/// Whether the output directory named by `flag` is a trace directory
/// ([`TRACE_DIR_FLAG`]).
fn holds_only_traces(flag: &str) -> bool {
    flag == TRACE_DIR_FLAG
}

/// The first entry of the existing trace directory `dir` (`owm check --trace-dir`)
/// that is not one of `owm check`'s (in words: [`entry_words`]): anything but a
/// `walks.toml` beginning as owm writes it, a `*.trace` beside it or beginning with
/// the trace header ([`TRACE_MAGIC`]), and an unfinished atomic write
/// (`.<name>.*.tmp`). So an `owm run` output, a verdict file or a user's file in it is
/// refused, never removed with the directory. Entries are taken in name order.
///
/// Errors: `dir` cannot be read.
pub fn foreign_trace_entry(dir: &Path) -> Result<Option<String>> {
    let entries = sorted_entries(dir, "trace directory")?;
    let walks = |n: &str| {
        n == "walks.toml" && first_line(&dir.join(n)).is_some_and(|l| l.starts_with("version = \""))
    };
    let traces = entries.iter().any(|(n, f, _)| *f && walks(n));
    let owm_wrote = |n: &str| {
        walks(n)
            || (n.ends_with(".trace") && (traces || is_trace(&dir.join(n))))
            || (n.starts_with('.') && n.ends_with(".tmp"))
    };
    Ok(entries
        .iter()
        .find(|(n, is_file, _)| !is_file || !owm_wrote(n))
        .map(|(_, _, shown)| shown.clone()))
}

/// The entries of `dir` (a `what`, for errors), in name order: each one's name, whether
/// it is a regular file, and its name in a message ([`entry_words`]).
///
/// Errors: `dir` cannot be read.
fn sorted_entries(dir: &Path, what: &str) -> Result<Vec<(String, bool, String)>> {
    let ctx = || format!("{}: cannot read the {what}", dir.shown());
    let mut entries: Vec<(String, bool, String)> = Vec::new();
    for e in std::fs::read_dir(dir).with_context(ctx)? {
        let e = e.with_context(ctx)?;
        let kind = e.file_type().with_context(ctx)?;
        let name = e.file_name().to_string_lossy().into_owned();
        let shown = entry_words(&name, kind);
        entries.push((name, kind.is_file(), shown));
    }
    entries.sort();
    Ok(entries)
}

/// The first entry of the existing directory `dir` that owm did not write, if any (in
/// words: [`entry_words`]): a subdirectory (owm makes none inside an output) or any
/// other entry that is not a regular file (a link, a socket, a pipe), or a file that
/// is none of the
/// [`KNOWN`] names beginning as owm writes them ([`HEADS`]; `sweep.toml` beside such
/// a `sweep.csv`), nor a plot (`*.svg`, `*.png`) beside a `summary.csv` or
/// `sweep.csv`, nor a shard's verdicts (`points.json`) beside a `shard.toml`, nor a
/// counterexample (`*.trace`) beside a `walks.toml` or starting with the trace header
/// `owm check` writes ([`TRACE_MAGIC`]), nor a `--json` or `--junit` verdict file
/// (`*.json`, `*.xml` beginning as owm writes them: [`VERDICT_MAGIC`]), nor an
/// unfinished atomic write
/// (`.<name>.*.tmp`). Entries are taken in name order, so the answer is stable.
///
/// Errors: `dir` cannot be read.
pub fn foreign_entry(dir: &Path) -> Result<Option<String>> {
    let entries = sorted_entries(dir, "output directory")?;
    // A known name counts only with the first line owm writes in that file: a user's
    // own file saved under the name (a scenario as summary.csv) is foreign.
    let marked = |n: &str| match n {
        "sweep.toml" => None,
        "verdicts.json" => Some(is_verdict(&dir.join(n))),
        _ => HEADS
            .iter()
            .find(|(name, _)| *name == n)
            .map(|(_, ok)| first_line(&dir.join(n)).is_some_and(|l| ok(&l))),
    };
    let has = |n: &str| {
        entries
            .iter()
            .any(|(m, f, _)| m == n && *f && marked(n) != Some(false))
    };
    let plots = has("summary.csv") || has("sweep.csv");
    let traces = has("walks.toml");
    let shard = has("shard.toml");
    let owm_wrote = |n: &str| {
        (KNOWN.contains(&n) && marked(n).unwrap_or(true) && (n != "sweep.toml" || has("sweep.csv")))
            || (plots && (n.ends_with(".svg") || n.ends_with(".png")))
            || (shard && n == "points.json")
            || (n.ends_with(".trace") && (traces || is_trace(&dir.join(n))))
            || ((n.ends_with(".json") || n.ends_with(".xml")) && is_verdict(&dir.join(n)))
            || (n.starts_with('.') && n.ends_with(".tmp"))
    };
    // A known name that does not begin as owm writes it is named first: it is why the
    // plots beside it do not count either.
    let unmarked = entries
        .iter()
        .find(|(n, is_file, _)| *is_file && HEADS.iter().any(|h| h.0 == n) && !owm_wrote(n));
    Ok(unmarked
        .or_else(|| {
            entries
                .iter()
                .find(|(n, is_file, _)| !is_file || !owm_wrote(n))
        })
        .map(|(_, _, shown)| shown.clone()))
}

/// An entry `name` of kind `kind` in words: a regular file by its name, a directory
/// with a trailing `/`, anything else with what it is (`control.sock (a socket)`).
fn entry_words(name: &str, kind: std::fs::FileType) -> String {
    use std::os::unix::fs::FileTypeExt;
    let name = name.shown();
    let what = if kind.is_file() {
        return name.to_string();
    } else if kind.is_dir() {
        return format!("{name}/");
    } else if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_fifo() {
        "a named pipe"
    } else if kind.is_block_device() || kind.is_char_device() {
        "a device"
    } else {
        "neither a file nor a directory"
    };
    format!("{name} ({what})")
}

/// How each file owm writes into an output directory begins, by name: a test of its
/// first line (without the newline). Each is a prefix of the line the writer always
/// emits, so an output of an owm with more columns still passes. `sweep.toml` is the
/// sweep file's copy (no mark of owm's): it counts only beside a marked `sweep.csv`.
type Head = (&'static str, fn(&str) -> bool);
const HEADS: [Head; 8] = [
    ("summary.csv", |l| {
        l.starts_with("scenario,workload,policy,engine_variant,seed,")
    }),
    ("trace.csv", |l| l.starts_with("policy,time_ticks,event,")),
    ("extra_space.csv", |l| {
        l.starts_with("policy,engine_variant,time_ticks,extra_space_blocks")
    }),
    ("sweep.csv", |l| l.starts_with("index,")),
    ("stats.csv", |l| {
        l.contains("policy,metric,n,mean,sd,ci95_low,ci95_high,seeds_differ")
    }),
    ("plots.csv", |l| {
        l.starts_with("plot,metric,difference_against,x_axis")
    }),
    ("shard.toml", |l| l.starts_with("shard = \"")),
    ("walks.toml", |l| l.starts_with("version = \"")),
];

/// The first line of the file at `path` (at most 64 KiB read), `None` when it cannot
/// be read or is not UTF-8.
fn first_line(path: &Path) -> Option<String> {
    use std::io::Read;
    let mut head = Vec::new();
    File::open(path)
        .ok()?
        .take(64 << 10)
        .read_to_end(&mut head)
        .ok()?;
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    String::from_utf8(line.to_vec()).ok()
}

/// The first line of every trace `owm check` writes (`model::Trace::to_text`).
pub const TRACE_MAGIC: &str = "owm-model-trace v1";

/// True when the file at `path` starts with [`TRACE_MAGIC`] (read: its first bytes).
fn is_trace(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; TRACE_MAGIC.len()];
    File::open(path).is_ok_and(|mut f| f.read_exact(&mut head).is_ok())
        && head == TRACE_MAGIC.as_bytes()
}

/// How the verdict files owm writes begin (`--json`, `--junit`: `verdict::json`,
/// `verdict::junit`).
const VERDICT_MAGIC: [&str; 2] = [
    "{\n  \"command\": \"",
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"owm ",
];

/// True when the file at `path` begins as owm's `--json` and `--junit` verdict files
/// do ([`VERDICT_MAGIC`]): one an earlier run wrote into its `--out`.
fn is_verdict(path: &Path) -> bool {
    use std::io::Read;
    let mut head = Vec::new();
    let longest = VERDICT_MAGIC.iter().map(|m| m.len()).max().unwrap_or(0);
    File::open(path).is_ok_and(|f| f.take(longest as u64).read_to_end(&mut head).is_ok())
        && VERDICT_MAGIC.iter().any(|m| head.starts_with(m.as_bytes()))
}

/// `p` as an absolute path with its symbolic links and `..` resolved, whether or not
/// it exists: first the file a write of `p` replaces (its own links followed, also to
/// a file that does not exist yet: [`engine::atomic::write_target`]), then its nearest
/// existing ancestor canonicalized and the rest of its components (`.` dropped, `..`
/// taking one off). `None` when not even the working directory can be read.
pub(crate) fn resolved(p: &Path) -> Option<PathBuf> {
    let target = engine::atomic::replaced_file(p);
    let p = target.as_path();
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(p)
    };
    let (base, rest) = abs
        .ancestors()
        .find_map(|a| Some((std::fs::canonicalize(a).ok()?, abs.strip_prefix(a).ok()?)))?;
    let mut out = base;
    for c in rest.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::Normal(n) => out.push(n),
            _ => {}
        }
    }
    Some(out)
}

/// Refuses a verdict file (`flag` `path`: `--json`, `--junit`) that collides with the
/// output directory `out` (named by `out_flag`: `--out`, `--trace-dir`), whatever the
/// spelling (relative, `..`, symbolic links where they exist): the directory itself or
/// one holding it, a file in a subdirectory of it (the directory is replaced whole),
/// or a file in it that is not a `*.json` or `*.xml` verdict file a rerun recognises
/// ([`foreign_entry`]) — one of the files owm writes there (`summary.csv`,
/// `sweep.csv`, a plot, `points.json`, a `*.trace`) would be overwritten by the
/// verdicts. A `*.json` or `*.xml` verdict file directly inside `out`
/// (`out/verdicts.json`) is kept as before: written after the output is published, and
/// replaced by the next run. A file directly inside an `out` that does not exist yet is
/// refused too, saying so: `out` is made only as the command publishes its output, and
/// a verdict file's directory is checked writable before any work. A trace directory
/// (`--trace-dir`) takes no verdict file at all: it holds only traces
/// ([`foreign_trace_entry`]), so the next check into it would refuse one.
///
/// Each refusal suggests a path that is accepted ([`verdict_example`]).
///
/// Errors: the collision, naming both flags and paths.
pub fn refuse_verdict_clash(out_flag: &str, out: &Path, flag: &str, path: &Path) -> Result<()> {
    let (Some(o), Some(v)) = (resolved(out), resolved(path)) else {
        return Ok(());
    };
    let (f, d) = (path.shown(), out.shown());
    let example = verdict_example(flag, out, holds_only_traces(out_flag));
    let a_dir = if path.is_dir() {
        " (is a directory, not a file)"
    } else {
        ""
    };
    if v == o {
        bail!(
            "{flag} {f} is {out_flag} {d} itself{a_dir}: the verdict file would be the output \
             directory; give a file {example}"
        );
    }
    if o.starts_with(&v) {
        bail!(
            "{flag} {f} holds {out_flag} {d}{a_dir}: the verdict file would be a directory of \
             the output's path; give another file"
        );
    }
    let Ok(rest) = v.strip_prefix(&o) else {
        return Ok(());
    };
    if rest.components().count() > 1 {
        bail!(
            "{flag} {f} is inside a subdirectory of {out_flag} {d}: the output directory is \
             replaced whole and holds no subdirectory; give a file {example}"
        );
    }
    let name = rest.to_string_lossy();
    let output = KNOWN.contains(&name.as_ref()) && name != "verdicts.json"
        || name == "points.json"
        || [".svg", ".png", ".trace", ".tmp"]
            .iter()
            .any(|e| name.ends_with(e));
    if output {
        bail!(
            "{flag} {f} is inside {out_flag} {d} and names {name}, a file owm writes there: \
             the verdicts would replace it; give another file {example}"
        );
    }
    if holds_only_traces(out_flag) {
        bail!(
            "{flag} {f} is inside {out_flag} {d}, which holds only owm check's traces: the \
             next check into {d} would refuse the directory; give a file {example}"
        );
    }
    if !(name.ends_with(".json") || name.ends_with(".xml")) {
        bail!(
            "{flag} {f} is inside {out_flag} {d}, where a verdict file must be named *.json \
             or *.xml (the next run into {d} recognises only those as owm's, and would \
             refuse {name}); give a file {example}"
        );
    }
    if !out.exists() {
        bail!(
            "{flag} {f} is inside {out_flag} {d}, which does not exist yet (owm makes it only \
             as it publishes the output, and checks a verdict file's directory before any \
             work); give a file {example}"
        );
    }
    Ok(())
}

/// A verdict file that does not collide with the output directory `out`, as the words
/// after "give a file" in [`refuse_verdict_clash`]'s refusals, named `*.xml` for
/// `--junit` and `*.json` for `--json`: when `out` is an existing directory, "beside it
/// (or inside it, such as OUT/verdicts.EXT)"; else one beside it, "beside it, such as
/// OUT.EXT", in `out`'s parent, or, when that does not exist either (owm makes it as
/// it makes `out`), "in an existing directory, such as A/NAME.EXT" in `out`'s nearest
/// existing ancestor `A`. A trace directory (`traces_only`) is never suggested, since
/// the next check into it refuses a verdict file there: "beside it, such as OUT.EXT".
fn verdict_example(flag: &str, out: &Path, traces_only: bool) -> String {
    let ext = if flag == "--junit" { "xml" } else { "json" };
    if out.is_dir() && !traces_only {
        return format!(
            "beside it (or inside it, such as {}/verdicts.{ext})",
            out.shown()
        );
    }
    let name = out
        .file_name()
        .map(|n| format!("{}.{ext}", n.to_string_lossy()))
        .unwrap_or_else(|| format!("verdicts.{ext}"));
    let dir = directory_of(out);
    if dir.is_dir() {
        return format!("beside it, such as {}", out.with_file_name(&name).shown());
    }
    let existing = dir
        .ancestors()
        .find(|a| !a.as_os_str().is_empty() && a.is_dir())
        .map_or_else(|| PathBuf::from(&name), |a| a.join(&name));
    format!(
        "in an existing directory, such as {} ({} does not exist yet)",
        existing.shown(),
        dir.shown()
    )
}

/// An exclusive lock on the directory `dir`, or `None` when another process holds one.
fn lock_dir(dir: &Path) -> std::io::Result<Option<File>> {
    let f = File::open(dir)?;
    match f.try_lock() {
        Ok(()) => Ok(Some(f)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

/// Removes the staging directories a killed run left beside `target`; refuses when
/// one is locked by a live run.
fn remove_stale(target: &Path, flag: &str) -> Result<()> {
    let p = prefix(target);
    let Ok(entries) = std::fs::read_dir(directory_of(target)) else {
        return Ok(());
    };
    for e in entries.filter_map(|e| e.ok()) {
        if e.file_name().to_string_lossy().starts_with(&p) && e.path().is_dir() {
            let ctx = || {
                format!(
                    "{}: cannot remove a stale staging directory",
                    e.path().shown()
                )
            };
            let lock = match lock_dir(&e.path()) {
                Ok(Some(lock)) => lock,
                Ok(None) => return Err(another_run(target, flag)),
                // Removed meanwhile by the run that made it.
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
                Err(err) => return Err(err).with_context(ctx),
            };
            match std::fs::remove_dir_all(e.path()) {
                Ok(()) => {}
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => return Err(err).with_context(ctx),
            }
            drop(lock);
        }
    }
    Ok(())
}

/// Test hook: with `OWM_PAUSE_AT=<point>` the process says `paused at <point>` on
/// stderr and waits for stdin to close, so a test can kill it at a known step.
pub fn pause_point(point: &str) {
    if std::env::var("OWM_PAUSE_AT").is_ok_and(|p| p == point) {
        tell!("paused at {point}");
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
                self.target.shown()
            )
        };
        if !self.target.exists() {
            std::fs::rename(&staged, &self.target).with_context(ctx)?;
            return Ok(());
        }
        // Lock the earlier run too: once swapped out it has a staging name, and a run
        // starting meanwhile must see it as live, not stale.
        let _old = lock_dir(&self.target).with_context(ctx)?;
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
            out.shown(),
            d.shown()
        );
    }
    // Inside one (not made yet: its parent resolved), the merged files would be
    // written into a shard's own directory.
    let out_resolved =
        canon(out).or_else(|| Some(canon(directory_of(out))?.join(out.file_name()?)));
    if let Some(o) = out_resolved {
        if let Some(d) = dirs
            .iter()
            .find(|d| canon(d).is_some_and(|c| o.starts_with(&c)))
        {
            bail!(
                "--out {} is inside the input shard {}: merge into a directory outside \
                 the shards",
                out.shown(),
                d.shown()
            );
        }
    }
    Ok(())
}
