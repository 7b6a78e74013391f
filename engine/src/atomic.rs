//! Replacing a whole file atomically: the one routine the metadata compaction, the
//! report writers and the server's archive marker share. The bytes go to a temporary
//! file in the target's directory (named `.{name}.XXXXXX.tmp`, six random letters or
//! digits, so a leftover after a kill is recognisable; in a name of more than 243
//! bytes, too long for that, `{name}` is its first 200 bytes, `~` and 16 hexadecimal
//! digits of a hash of it), are made durable (`fsync`), and
//! the temporary file is renamed over the target; then the directory is synced so the
//! rename itself survives a power loss. A reader sees the old file or the new one,
//! never a mix; on any error the old file is untouched and the temporary file removed.
//! A file a live server holds locked (a device's image) is never replaced: the rename
//! is refused ([`persist`]), and [`replaceable`] refuses it, and every other file of
//! an owm device, before any work.
//!
//! A target that is a symbolic link is followed ([`write_target`]): the file it leads
//! to is replaced, in that file's own directory, and the link kept. A target that is,
//! or leads to, the writing process's own standard input, output or error (the same
//! file; a link into `/proc` such as `/dev/stdout`) or its running executable is
//! refused ([`regular_or_absent`]), before any work and again at the rename.
//!
//! A killed writer cannot remove its temporary file, so every writer holds an exclusive
//! lock (`flock`) on its own from before the file can be taken for stale until it is
//! renamed or removed, and removes, before it starts, the temporary files of the same
//! target whose lock is free: they were left by a writer that died
//! ([`remove_stale_temporaries`]). A locked one is a live writer's and is kept. The
//! lock dies with its process however it ends (`kill -9` too), so no leftover is
//! mistaken for live. On a file system without `flock` the temporary files are neither
//! locked nor ever taken for stale.

use crate::shown::ShowName as _;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The random part of a temporary file's name: this many ASCII letters and digits.
const RANDOM_CHARS: usize = 6;

/// The longest file name the system takes, in bytes (`NAME_MAX`).
const NAME_BYTES_MAX: usize = 255;

/// How many bytes of a long name [`temporary_stem`] keeps.
const STEM_KEPT_BYTES: usize = 200;

/// The `NAME` of the temporary files `.NAME.XXXXXX.tmp` of a target named `name`:
/// `name` itself, or, when the temporary name would then be longer than a file name
/// can be (255 bytes, `NAME_MAX`), its first 200 bytes (to a character's end), `~` and 16
/// hexadecimal digits of a hash of the whole name (FNV-1a, 64 bits: the same for the
/// same name in every run, so a later writer finds a killed one's file).
pub fn temporary_stem(name: &str) -> String {
    if name.len() + RANDOM_CHARS + ".tmp".len() + 2 <= NAME_BYTES_MAX {
        return name.to_string();
    }
    let mut end = STEM_KEPT_BYTES;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{}~{hash:016x}", &name[..end])
}

/// How many temporary files [`temporary_beside`] makes before giving up when each is
/// removed as stale between its creation and its lock (by another process's
/// [`remove_stale_temporaries`] of the same target).
const CREATE_ATTEMPTS_MAX: usize = 16;

/// Writes `bytes` to `path` atomically (see the module doc), after removing the stale
/// temporary files of `path` ([`remove_stale_temporaries`]). The new file has mode
/// 0644 on Unix (an ordinary file others may read). A `path` that is a symbolic link
/// is followed ([`write_target`]): the file it leads to is replaced and the link kept.
///
/// # Errors
/// The I/O error of the step that failed: creating the temporary file (e.g. a missing
/// or read-only directory), writing, syncing or renaming;
/// [`std::io::ErrorKind::InvalidInput`] for a `path` that is or leads to a link in `/proc` or is this
/// process's own standard stream or executable ([`regular_or_absent`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let path = &write_target(path)?;
    remove_stale_temporaries(path);
    let tmp = temporary_beside(path)?;
    // Through the file itself: its errors say the OS's words, without the path.
    tmp.as_file().write_all(bytes)?;
    persist(tmp, path)
}

/// Writes `bytes` to `path` whole or not at all for every reader, as [`write_atomic`]
/// does, but neither waits for them to reach the disk (no `fsync` of the file or the
/// directory) nor looks for stale temporary files: for a file in a directory that is
/// removed whole when its work completes (a sweep's kept points, thousands a minute),
/// where a killed writer's temporary file goes with the directory, where looking
/// before each of N files would read N²/2 directory entries, and where a file lost to
/// a power loss is only work to do again. A process killed at any point leaves the
/// old file or the new one (the kernel keeps what was written); after a power loss
/// or a crash of the system, the new file may be there empty or zero-filled (the
/// kernel writes it out within about half a minute: `vm.dirty_expire_centisecs`).
///
/// # Errors
/// As [`write_atomic`], less syncing.
pub fn write_atomic_scratch(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let path = &write_target(path)?;
    let tmp = temporary_beside(path)?;
    tmp.as_file().write_all(bytes)?;
    rename_into_place(tmp, path)
}

/// Refuses a `path` that a file written whole cannot replace: what
/// [`regular_or_absent`] refuses (not a regular file, a link into `/proc`, this
/// process's own standard streams or executable), and a file that is an owm device's
/// own ([`device_file`]): an image a live server holds locked, or any device's image,
/// metadata or superblock, served or not. Renaming a new file over a device such as
/// `/dev/null`, a pipe or a socket would put a regular file in its place; over a
/// directory it fails only at the end, after the work; over a device's file it would
/// destroy that device (a server keeps writing to the unlinked image, and after it
/// stops the device and its acknowledged writes are gone). A symbolic link is judged
/// by the file it leads to ([`write_target`]), the one a write replaces.
///
/// # Errors
/// [`std::io::ErrorKind::InvalidInput`], saying what the path is (a directory; a
/// device, pipe or socket; a process's open file; this command's own output or
/// executable; a live device's image; a device's file).
pub fn replaceable(path: &Path) -> std::io::Result<()> {
    regular_or_absent(path)?;
    match device_file(&write_target(path)?) {
        Some(what) => Err(invalid(what)),
        None => Ok(()),
    }
}

/// The first half of [`replaceable`], about what `path` is to this process: refuses a
/// `path` whose file ([`write_target`], followed link by link) exists and is not a
/// regular file (a directory; a device, pipe or socket), one that is or leads to a link
/// in `/proc` (`/dev/stdout`, `/dev/fd/N`, `/proc/self/fd/N`: a process's open file), one
/// that is the file this process's standard input, output or error is open on (the
/// same device and inode: `owm … --json log > log`), and the process's running
/// executable (`/proc/self/exe`): written whole, a new file would take the place of
/// what the command is printing into, or of the program itself.
///
/// # Errors
/// [`std::io::ErrorKind::InvalidInput`], saying what the path is; a link that cannot
/// be read, as its I/O error.
pub fn regular_or_absent(path: &Path) -> std::io::Result<()> {
    let target = write_target(path)?;
    let through = if target.as_path() == path {
        String::new()
    } else {
        format!("leads to {}, which ", target.shown())
    };
    let refuse = |what: &str| Err(invalid(format!("{through}{what}")));
    match std::fs::metadata(&target) {
        Ok(m) if m.is_dir() => refuse("is a directory, not a file"),
        Ok(m) if !m.is_file() => refuse(
            "is not a regular file (a device, pipe or socket); owm replaces the file whole, \
             so give the path of a regular file",
        ),
        Ok(m) => match own_file(&m) {
            Some(what) => refuse(&what),
            None => Ok(()),
        },
        Err(_) => Ok(()),
    }
}

/// How many symbolic links in a row [`write_target`] follows before it takes them for
/// a loop (Linux's own limit for a path).
const LINKS_MAX: usize = 40;

/// The file a whole-file write of `path` replaces: `path` itself, or, when `path` is a
/// symbolic link, the file it leads to, followed link by link (a relative link read
/// from its own directory), also when that file does not exist yet (it is created
/// there). The new file is renamed over that file, in its own directory, and every
/// link on the way is kept: renamed over the link's own name, it would replace the link
/// with a regular file and leave the file the link named as it was.
///
/// # Errors
/// [`std::io::ErrorKind::InvalidInput`] for a path that is, or whose links lead to, a
/// symbolic link in `/proc` (`/dev/stdout` leads to `/proc/self/fd/1`: a process's
/// open file, which a rename cannot replace) and for more than 40 links in a row (a
/// loop); the I/O error of reading a link.
pub fn write_target(path: &Path) -> std::io::Result<PathBuf> {
    let mut at = path.to_path_buf();
    for _ in 0..=LINKS_MAX {
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                if in_proc(&at) {
                    let through = if at.as_path() == path {
                        String::new()
                    } else {
                        format!("leads to {}, which ", at.shown())
                    };
                    return Err(invalid(format!(
                        "{through}is in /proc, a link to a process's open file (as \
                         /dev/stdout, /dev/fd/N and /proc/self/fd/N are), not a file owm can \
                         replace whole; give the path of a regular file"
                    )));
                }
                let to = std::fs::read_link(&at)?;
                at = match at.parent() {
                    Some(d) if !d.as_os_str().is_empty() && to.is_relative() => d.join(to),
                    _ => to,
                };
            }
            _ => return Ok(at),
        }
    }
    Err(invalid(format!(
        "is a symbolic link that leads through more than {LINKS_MAX} links (a loop); give \
         the path of a regular file"
    )))
}

/// The file a whole-file write of `path` replaces ([`write_target`]), or `path` itself
/// when its links cannot be followed (a write then refuses it): for comparing and
/// cleaning up paths, where an error is said elsewhere.
pub fn replaced_file(path: &Path) -> PathBuf {
    write_target(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Whether `path`'s directory is `/proc` or inside it, its links resolved (a
/// directory that cannot be resolved is not).
fn in_proc(path: &Path) -> bool {
    std::fs::canonicalize(directory_of(path)).is_ok_and(|d| d.starts_with("/proc"))
}

/// What the file of metadata `m` is to this process, if it is its standard input,
/// output or error (the same device and inode as the file descriptor 0, 1 or 2) or
/// its running executable; `None` for any other file.
fn own_file(m: &std::fs::Metadata) -> Option<String> {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let id = (m.dev(), m.ino());
    let same = |other: Option<std::fs::Metadata>| other.is_some_and(|o| (o.dev(), o.ino()) == id);
    let stream = |fd: std::os::fd::BorrowedFd<'_>| {
        fd.try_clone_to_owned()
            .ok()
            .and_then(|f| std::fs::File::from(f).metadata().ok())
    };
    let streams = [
        ("standard input", 0, stream(std::io::stdin().as_fd())),
        ("standard output", 1, stream(std::io::stdout().as_fd())),
        ("standard error", 2, stream(std::io::stderr().as_fd())),
    ];
    for (name, fd, meta) in streams {
        if same(meta) {
            return Some(format!(
                "is the file this command's {name} (file descriptor {fd}) is open on: a \
                 file written whole and renamed over it would take its place; give \
                 another path"
            ));
        }
    }
    let exe = std::fs::metadata("/proc/self/exe")
        .ok()
        .or_else(|| std::env::current_exe().and_then(std::fs::metadata).ok());
    same(exe).then(|| {
        "is the running owm executable (/proc/self/exe): replacing it would destroy the \
         program; give another path"
            .to_string()
    })
}

/// `e` without the path the `tempfile` crate appends to the errors of its files and
/// directories (`… at path "…"`, the path as Rust's debug text): the kind and the
/// operating system's words are kept; the caller names the path plainly. Any other
/// error is returned as it is.
pub fn plain(e: std::io::Error) -> std::io::Error {
    let Some(inner) = e.get_ref() else {
        return e;
    };
    let text = inner.to_string();
    match text.rfind(" at path \"") {
        Some(at) => std::io::Error::new(e.kind(), &text[..at]),
        None => e,
    }
}

/// An [`std::io::ErrorKind::InvalidInput`] error saying `what`.
fn invalid(what: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, what.into())
}

/// What `path` is to an owm device, if it is one of a device's own files: an image
/// whose lock (`flock`) a live server holds (every open image is locked,
/// [`crate::store::FileStore`]), an image with an owm label at its end
/// ([`crate::identity`]), a metadata file (`device.owm`, by its magic), a
/// superblock (`device.owm.super`), or a device's record (its
/// archive record `archive.json` or detach record `detached.json`, also where none
/// exists yet). `None` for any other file, and for one that cannot be opened or read
/// (it is not looked into).
pub fn device_file(path: &Path) -> Option<String> {
    if let Some(what) = device_record(path) {
        return Some(what);
    }
    // Never waits on a pipe: only a regular file is opened.
    let f = crate::regular::open_read(path).ok()?;
    if held(&f) {
        return Some(LIVE_IMAGE.to_string());
    }
    let mut head = [0u8; 8];
    if std::os::unix::fs::FileExt::read_exact_at(&f, &mut head, 0).is_ok() {
        let what = if &head == crate::meta::MAGIC || &head == crate::meta::MAGIC_V1 {
            Some("metadata file (device.owm)")
        } else if &head == crate::superblock::MAGIC || &head == crate::superblock::MAGIC_V2 {
            Some("superblock (device.owm.super)")
        } else {
            None
        };
        if let Some(what) = what {
            return Some(format!(
                "is an owm device's {what}: replacing it would destroy that device; give \
                 another path"
            ));
        }
    }
    if let Ok((Some(label), _)) = crate::identity::read_label(&f, path) {
        return Some(format!(
            "is {} of owm device {} (its label says so), not served now: replacing it \
             would destroy that device; give another path",
            label.image,
            label.identity.id_text()
        ));
    }
    None
}

/// Whether `path` is, or would be, a device's record ([`crate::file::archive_marker`],
/// [`crate::file::detach_marker`]), told two ways, either enough:
/// - by place: the name `archive.json` or `detached.json` in a directory that holds a
///   device's metadata (`device.owm`) or superblock (`device.owm.super`), whether the
///   record exists or not (a file written there would stand for one);
/// - by content: an existing file of at most 64 KiB that is a JSON object with a
///   `device` id and either `path` and `bytes` (an archive record) or `image` (a
///   detach record), whatever its name and wherever it is (a device directory moved
///   or being put together).
///
/// `path` is the file a write replaces ([`write_target`]): no link of its own; its
/// directory's links are followed.
fn device_record(path: &Path) -> Option<String> {
    const ARCHIVE: &str = "archive record (archive.json): writing it would replace or \
         forge the record of that device's completed backup, and the device would not be \
         served until it is removed; give another path";
    const DETACH: &str = "detach record (detached.json): writing it would replace or \
         forge the record of where that device's VLUN B went, and the device would not \
         be served again; give another path";
    let name = path.file_name()?;
    let dir = directory_of(path);
    let in_device_dir = || {
        let paths = crate::file::DevicePaths::in_dir(dir);
        [crate::superblock::path_of(&paths.meta), paths.meta]
            .iter()
            .any(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file()))
    };
    let by_place = if name == "archive.json" {
        Some(ARCHIVE)
    } else if name == "detached.json" {
        Some(DETACH)
    } else {
        None
    };
    if let Some(what) = by_place.filter(|_| in_device_dir()) {
        return Some(format!(
            "is the owm device's {what} (beside its device.owm in {})",
            dir.shown()
        ));
    }
    let m = std::fs::symlink_metadata(path).ok()?;
    if !m.is_file() || m.len() > 64 * 1024 {
        return None;
    }
    let text = crate::regular::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let o = v.as_object()?;
    let has = |key: &str, number: bool| {
        o.get(key)
            .is_some_and(|x| if number { x.is_u64() } else { x.is_string() })
    };
    if !has("device", false) {
        return None;
    }
    let what = if has("path", false) && has("bytes", true) {
        ARCHIVE
    } else if has("image", false) {
        DETACH
    } else {
        return None;
    };
    Some(format!("is an owm device's {what} (by its content)"))
}

/// Why a file held locked is not replaced.
const LIVE_IMAGE: &str = "is a live device's image (a running owm server holds its lock): \
     replacing it would destroy that device and its acknowledged writes; give another path";

/// Whether another open file holds an exclusive `flock` on `f`'s file, as a server
/// holds each image of its device. Asked with a shared lock, released when `f` closes.
fn held(f: &std::fs::File) -> bool {
    matches!(f.try_lock_shared(), Err(std::fs::TryLockError::WouldBlock))
}

/// Refuses to rename a new file over `path` while a live server holds it locked
/// ([`held`]), or when it is this process's own standard stream or executable
/// ([`regular_or_absent`]): the last check of every whole-file write, for a server
/// started, or a file put in place, after the writer's own checks.
fn refuse_held(path: &Path) -> std::io::Result<()> {
    match open_regular(path) {
        Some(f) if held(&f) => Err(invalid(LIVE_IMAGE)),
        Some(f) => match f.metadata().ok().as_ref().and_then(own_file) {
            Some(what) => Err(invalid(what)),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

/// `path` opened for reading if it is a regular file (through symbolic links; a pipe,
/// whose open would wait for a writer, is not opened); `None` otherwise or if it
/// cannot be opened.
fn open_regular(path: &Path) -> Option<std::fs::File> {
    crate::regular::open_read(path).ok()
}

/// A temporary file in the directory of `path`'s file ([`write_target`]: where a link
/// leads; the current directory for a bare name), named
/// `.NAME.XXXXXX.tmp` after that file's name (shortened when longer than 243 bytes, as
/// the module doc says) and locked (`flock`, exclusive) for as
/// long as it is open: the first half of an atomic write, to be finished by
/// [`persist`] (or dropped, which removes it). Callers remove the stale temporary
/// files of `path` first ([`remove_stale_temporaries`]). Writing through another
/// handle is fine; a handle that shares this one's lock (a clone) must not unlock it.
///
/// # Errors
/// The I/O error of creating it (e.g. a missing or read-only directory);
/// [`std::io::ErrorKind::WouldBlock`] when each of 16 new files was removed as stale
/// by another process before it could be locked.
pub fn temporary_beside(path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let path = &write_target(path)?;
    let name = path
        .file_name()
        .map(|n| temporary_stem(&n.to_string_lossy()))
        .unwrap_or_default();
    for _ in 0..CREATE_ATTEMPTS_MAX {
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            .rand_bytes(RANDOM_CHARS)
            .tempfile_in(directory_of(path))
            .map_err(plain)?;
        match tmp.as_file().try_lock() {
            Ok(()) => {}
            // Another process took it for stale between its creation and now: it is
            // removing it.
            Err(std::fs::TryLockError::WouldBlock) => continue,
            // No `flock` here: no other writer can lock it either, so none removes it.
            Err(std::fs::TryLockError::Error(_)) => return Ok(tmp),
        }
        // Locked; but if another process removed it as stale just before, the lock is
        // on a file no longer in the directory.
        if same_file(tmp.path(), tmp.as_file()) {
            return Ok(tmp);
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::WouldBlock,
        format!(
            "cannot make a temporary file beside {}: each of {CREATE_ATTEMPTS_MAX} was removed \
             as stale by another process before it could be locked",
            path.shown()
        ),
    ))
}

/// Removes the temporary files of `path` that a killed writer left: every regular file
/// in the directory of `path`'s file ([`write_target`]) named `.NAME.XXXXXX.tmp` after
/// that file's name (as
/// [`temporary_beside`] names them) whose lock it can take; a locked one is a live
/// writer's and is kept. Best effort: one it cannot open, lock or remove (another
/// user's, a directory it cannot read) is left as it is.
///
/// Returns the paths removed, sorted.
pub fn remove_stale_temporaries(path: &Path) -> Vec<PathBuf> {
    let Ok(path) = write_target(path) else {
        return Vec::new();
    };
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(directory_of(&path)) else {
        return Vec::new();
    };
    let mut removed: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| is_temporary_of(n, &name))
        })
        .map(|e| e.path())
        .filter(|p| remove_if_unlocked(p))
        .collect();
    removed.sort();
    removed
}

/// Whether `file_name` is `.{NAME}.XXXXXX.tmp` with `XXXXXX` ASCII letters and digits,
/// `NAME` the [`temporary_stem`] of `name`.
fn is_temporary_of(file_name: &str, name: &str) -> bool {
    file_name
        .strip_prefix('.')
        .and_then(|n| n.strip_prefix(temporary_stem(name).as_str()))
        .and_then(|n| n.strip_prefix('.'))
        .and_then(|n| n.strip_suffix(".tmp"))
        .is_some_and(|r| r.len() == RANDOM_CHARS && r.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Removes `p` if it is a regular file (not a symbolic link to one) whose lock is
/// free, holding the lock while it removes it; whether it did.
fn remove_if_unlocked(p: &Path) -> bool {
    // Not a link, a pipe (whose open would wait for a writer) or a directory.
    if !std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut open = std::fs::OpenOptions::new();
    open.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        open.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let Ok(f) = open.open(p) else {
        return false;
    };
    // Still the entry looked at, not a file put in its place since.
    if !same_file(p, &f) || f.try_lock().is_err() {
        return false;
    }
    std::fs::remove_file(p).is_ok()
}

/// Whether `path` (not followed if a symbolic link) names the file or directory `open`
/// is open on: neither removed nor replaced since it was opened.
pub fn same_file(path: &Path, open: &std::fs::File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::symlink_metadata(path), open.metadata()) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// The second half of an atomic write: `tmp` (from [`temporary_beside`]) made readable
/// (0644), synced, renamed over `path`'s file ([`write_target`]: a link is kept, the
/// file it leads to replaced), and the directory synced (best effort).
///
/// # Errors
/// The I/O error of syncing or renaming; [`std::io::ErrorKind::InvalidInput`] when a
/// live server holds `path` locked (a device's image, never replaced), when `path` is
/// this process's own standard stream or executable, or leads to a link in `/proc`
/// ([`write_target`]); the temporary file is removed.
pub fn persist(tmp: tempfile::NamedTempFile, path: &Path) -> std::io::Result<()> {
    let path = &write_target(path)?;
    tmp.as_file().sync_all()?;
    rename_into_place(tmp, path)?;
    if let Ok(d) = std::fs::File::open(directory_of(path)) {
        // Best effort: some file systems refuse to sync a directory handle.
        let _ = d.sync_all();
    }
    Ok(())
}

/// Gives `tmp` mode 0644 on Unix (an ordinary file others may read) and renames it
/// over `path`, syncing nothing; refused (`tmp` removed) while a live server holds
/// `path` locked ([`refuse_held`]).
fn rename_into_place(tmp: tempfile::NamedTempFile, path: &Path) -> std::io::Result<()> {
    refuse_held(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    let file = tmp.persist(path).map_err(|e| e.error)?;
    // The temporary's lock released explicitly before it closes: a lock belongs to the
    // open file description, which a child process forked at that moment (any
    // `std::process::Command` of the same program) shares until it execs, so closing
    // alone could leave the new file looking held by a live server to the next write.
    let _ = file.unlock();
    Ok(())
}

/// The directory a file `path` is in: its parent, or `.` for a bare file name (whose
/// parent is the empty path). Never fails; the directory may not exist.
pub fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_file_another_open_file_holds_locked_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("image-a.img");
        std::fs::write(&p, b"served").unwrap();
        let server = std::fs::File::open(&p).unwrap();
        server.try_lock().unwrap();
        for e in [
            write_atomic(&p, b"report").unwrap_err(),
            write_atomic_scratch(&p, b"report").unwrap_err(),
            replaceable(&p).unwrap_err(),
        ] {
            assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{e}");
            assert!(e.to_string().contains("is a live device's image"), "{e}");
        }
        assert_eq!(std::fs::read(&p).unwrap(), b"served");
        assert_eq!(names(dir.path()), ["image-a.img"]);
        // Unlocked (the server stopped), an ordinary file is replaced.
        drop(server);
        write_atomic(&p, b"report").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"report");
    }

    #[test]
    fn a_devices_metadata_or_superblock_is_not_replaceable_but_rewritten_by_the_engine() {
        let dir = tempfile::tempdir().unwrap();
        for (name, magic, what) in [
            ("device.owm", crate::meta::MAGIC, "metadata file"),
            ("old.owm", crate::meta::MAGIC_V1, "metadata file"),
            ("device.owm.super", crate::superblock::MAGIC, "superblock"),
        ] {
            let p = dir.path().join(name);
            let mut bytes = magic.to_vec();
            bytes.extend_from_slice(&[0; 40]);
            std::fs::write(&p, &bytes).unwrap();
            let e = replaceable(&p).unwrap_err();
            assert!(e.to_string().contains(what), "{name}: {e}");
            // The engine's own rewrite (a compaction) is not a replacement by an output.
            write_atomic(&p, &bytes).unwrap();
        }
        let other = dir.path().join("notes.txt");
        std::fs::write(&other, b"OWMMETA").unwrap();
        replaceable(&other).unwrap();
    }

    #[test]
    fn a_devices_archive_and_detach_records_are_not_replaceable_by_place_or_content() {
        let tmp = tempfile::tempdir().unwrap();
        let dev = tmp.path().join("dev");
        std::fs::create_dir(&dev).unwrap();
        let archive = r#"{"device":"00ff","path":"/a.img","bytes":4096}"#;
        let detach = r#"{"device":"00ff","image":"/b.img"}"#;
        let refused = |p: &Path, what: &str| {
            let e = replaceable(p).unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{e}");
            assert!(e.to_string().contains(what), "{}: {e}", p.shown());
        };
        // By place: beside a device's metadata or superblock, present or not.
        for meta in ["device.owm", "device.owm.super"] {
            std::fs::write(dev.join(meta), b"x").unwrap();
            for (name, what) in [
                ("archive.json", "archive record"),
                ("detached.json", "detach record"),
            ] {
                let p = dev.join(name);
                refused(&p, what);
                std::fs::write(&p, b"anything").unwrap();
                refused(&p, what);
                std::fs::remove_file(&p).unwrap();
            }
            std::fs::remove_file(dev.join(meta)).unwrap();
        }
        // The same names elsewhere are ordinary outputs.
        replaceable(&dev.join("archive.json")).unwrap();
        replaceable(&tmp.path().join("detached.json")).unwrap();
        // By content, whatever the name and place.
        for (text, what) in [(archive, "archive record"), (detach, "detach record")] {
            let p = tmp.path().join("moved.json");
            std::fs::write(&p, text).unwrap();
            refused(&p, what);
            assert_eq!(std::fs::read_to_string(&p).unwrap(), text);
        }
        for text in [
            r#"{"device":"00ff"}"#,
            r#"{"path":"/a","bytes":1}"#,
            "[1]",
            "not json",
        ] {
            let p = tmp.path().join("report.json");
            std::fs::write(&p, text).unwrap();
            replaceable(&p).unwrap();
        }
    }

    use super::*;

    #[test]
    fn replaces_content_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut n: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    }

    /// A killed writer's temporary file (unlocked) is removed by the next write of the
    /// same target; a live writer's (locked) and every other name are kept.
    #[test]
    fn the_next_write_removes_a_killed_writers_temporary_and_keeps_a_live_ones() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.img");
        let stale = dir.path().join(".a.img.Xy12Zq.tmp");
        std::fs::write(&stale, vec![7u8; 4096]).unwrap();
        let live = temporary_beside(&p).unwrap();
        let live_name = live
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let kept = [
            ".a.img.tmp",            // no random part
            ".a.img.Xy12Z.tmp",      // five characters
            ".a.img.Xy-2Zq.tmp",     // not a letter or digit
            ".a.imgX.Xy12Zq.tmp",    // another target's
            ".b.img.Xy12Zq.tmp",     // another target's
            ".a.img.Xy12Zq.tmp.bak", // not a temporary file
        ];
        for n in kept {
            std::fs::write(dir.path().join(n), b"x").unwrap();
        }
        // A directory or a pipe of the pattern is not a file a writer left (and the
        // pipe is not opened: that would wait for a writer).
        std::fs::create_dir(dir.path().join(".a.img.D1r3ct.tmp")).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(dir.path().join(".a.img.F1f0QQ.tmp"))
            .status()
            .unwrap();
        assert!(made.success());
        // A symbolic link of the pattern is no writer's file: it and its target stay.
        std::os::unix::fs::symlink(
            dir.path().join("outside"),
            dir.path().join(".a.img.L1nkQQ.tmp"),
        )
        .unwrap();
        std::fs::write(dir.path().join("outside"), b"keep").unwrap();

        assert_eq!(remove_stale_temporaries(&p), vec![stale.clone()]);
        assert!(!stale.exists());
        assert!(
            live.path().exists(),
            "a live writer's temporary file was removed"
        );
        for n in kept {
            assert!(dir.path().join(n).exists(), "{n} was removed");
        }
        assert_eq!(std::fs::read(dir.path().join("outside")).unwrap(), b"keep");
        // Nothing stale is left: a second look removes nothing.
        assert_eq!(remove_stale_temporaries(&p), Vec::<PathBuf>::new());

        // A write of the target removes a stale one too, and its own does not stay.
        std::fs::write(&stale, b"left by a killed writer").unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        assert!(!stale.exists());
        let mut want: Vec<String> = kept.iter().map(|n| n.to_string()).collect();
        want.extend(
            [
                ".a.img.D1r3ct.tmp",
                ".a.img.F1f0QQ.tmp",
                ".a.img.L1nkQQ.tmp",
                "a.img",
                "outside",
            ]
            .map(String::from),
        );
        want.push(live_name.clone());
        want.sort();
        assert_eq!(names(dir.path()), want);

        // The live writer finishes: its file is the target.
        let mut live = live;
        live.write_all(b"live").unwrap();
        persist(live, &p).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"live");
        assert!(!dir.path().join(&live_name).exists());
    }

    /// A lock taken by another handle (here this process's, as another writer's would
    /// be) keeps a temporary file; once that handle closes, the file is stale.
    #[test]
    fn a_temporary_is_stale_once_its_writer_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.img");
        let t = dir.path().join(".b.img.AAAAAA.tmp");
        let holder = std::fs::File::create(&t).unwrap();
        holder.try_lock().unwrap();
        assert_eq!(remove_stale_temporaries(&p), Vec::<PathBuf>::new());
        assert!(t.exists());
        // Unlocked before it closes, as a writer's end does (a child another test
        // forks meanwhile shares the lock until it execs: see `rename_into_place`).
        holder.unlock().unwrap();
        drop(holder);
        assert_eq!(remove_stale_temporaries(&p), vec![t.clone()]);
        assert!(!t.exists());
    }

    /// Every legal name is written, up to 255 bytes (and of many-byte characters): a
    /// name too long for `.NAME.XXXXXX.tmp` gets a shortened temporary name of legal
    /// length, the same for the same name, that a later writer still finds stale; a
    /// name short enough keeps its own.
    #[test]
    fn a_name_of_up_to_255_bytes_is_written_and_its_leftovers_found() {
        let dir = tempfile::tempdir().unwrap();
        let names_of = |lens: &[usize]| -> Vec<String> {
            lens.iter()
                .flat_map(|&n| ["y".repeat(n), "é".repeat(n / 2)])
                .collect()
        };
        for name in names_of(&[2, 243, 244, 250, 254, 255]) {
            let p = dir.path().join(&name);
            write_atomic(&p, name.as_bytes()).unwrap_or_else(|e| panic!("{}: {e}", name.len()));
            assert_eq!(std::fs::read(&p).unwrap(), name.as_bytes());
            std::fs::remove_file(&p).unwrap();
            let t = temporary_beside(&p).unwrap();
            let n = t.path().file_name().unwrap().to_str().unwrap().to_string();
            assert!(n.len() <= NAME_BYTES_MAX, "{}: {n}", name.len());
            assert_eq!(n.contains(name.as_str()), name.len() <= 243, "{n}");
            assert!(is_temporary_of(&n, &name), "{n}");
            assert!(!is_temporary_of(&n, &format!("{name}x")), "{n}");
            // A writer killed: its file is left, unlocked, and found stale. Unlocked
            // before it closes: a child another test forks meanwhile shares the lock
            // until it execs (see `rename_into_place`).
            let (kept, path) = t.keep().unwrap();
            kept.unlock().unwrap();
            drop(kept);
            assert_eq!(remove_stale_temporaries(&p), vec![path]);
            assert_eq!(names(dir.path()), Vec::<String>::new());
        }
    }

    /// The errors of a whole-file write say the system's words without the
    /// `tempfile` crate's `at path "…"` (the caller names the path plainly).
    #[test]
    fn an_error_names_no_path_in_debug_text() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("missing").join("a.json");
        let e = write_atomic(&p, b"x").unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
        assert!(!e.to_string().contains("at path"), "{e}");
        assert!(e.to_string().contains("No such file or directory"), "{e}");
        let untouched = plain(std::io::Error::from_raw_os_error(libc::ENOSPC));
        assert_eq!(untouched.raw_os_error(), Some(libc::ENOSPC));
    }

    /// A temporary file is locked while it is open and named as
    /// [`remove_stale_temporaries`] looks for.
    #[test]
    fn a_new_temporary_is_locked_and_recognisable() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.csv");
        let t = temporary_beside(&p).unwrap();
        let n = t.path().file_name().unwrap().to_str().unwrap().to_string();
        assert!(is_temporary_of(&n, "c.csv"), "{n}");
        let other = std::fs::File::open(t.path()).unwrap();
        assert!(matches!(
            other.try_lock(),
            Err(std::fs::TryLockError::WouldBlock)
        ));
        drop(t);
        assert_eq!(names(dir.path()), Vec::<String>::new());
    }

    /// A link is followed, link by link, to the file a write replaces, in that file's
    /// own directory: the links stay links, the file they lead to gets the bytes (made
    /// where a dangling link points), and no temporary file is left in either directory.
    #[test]
    fn a_write_through_a_link_replaces_the_file_it_leads_to_and_keeps_the_link() {
        use std::os::unix::fs::symlink;
        let tmp = tempfile::tempdir().unwrap();
        let (here, there) = (tmp.path().join("here"), tmp.path().join("there"));
        std::fs::create_dir(&here).unwrap();
        std::fs::create_dir(&there).unwrap();
        std::fs::write(there.join("real.json"), b"old").unwrap();
        // here/a.json -> b.json -> ../there/real.json (relative, read from each link's
        // directory).
        symlink("b.json", here.join("a.json")).unwrap();
        symlink("../there/real.json", here.join("b.json")).unwrap();
        assert_eq!(
            write_target(&here.join("a.json")).unwrap(),
            here.join("../there/real.json")
        );
        type Write = fn(&Path, &[u8]) -> std::io::Result<()>;
        for (i, write) in [write_atomic as Write, write_atomic_scratch]
            .iter()
            .enumerate()
        {
            let bytes = format!("new {i}");
            write(&here.join("a.json"), bytes.as_bytes()).unwrap();
            for link in ["a.json", "b.json"] {
                let m = std::fs::symlink_metadata(here.join(link)).unwrap();
                assert!(m.file_type().is_symlink(), "{link} was replaced");
            }
            assert_eq!(
                std::fs::read(there.join("real.json")).unwrap(),
                bytes.as_bytes()
            );
            assert_eq!(names(&here), ["a.json", "b.json"]);
            assert_eq!(names(&there), ["real.json"]);
        }
        // A dangling link: the file is made where it points.
        symlink(there.join("new.json"), here.join("c.json")).unwrap();
        replaceable(&here.join("c.json")).unwrap();
        write_atomic(&here.join("c.json"), b"made").unwrap();
        assert_eq!(std::fs::read(there.join("new.json")).unwrap(), b"made");
        assert!(std::fs::symlink_metadata(here.join("c.json"))
            .unwrap()
            .file_type()
            .is_symlink());
        // A link to a directory is judged by the directory.
        symlink(&there, here.join("d.json")).unwrap();
        let e = replaceable(&here.join("d.json")).unwrap_err();
        assert!(e.to_string().contains("is a directory"), "{e}");
        // A loop is refused, and nothing is written.
        symlink("loop2", here.join("loop1")).unwrap();
        symlink("loop1", here.join("loop2")).unwrap();
        for e in [
            write_atomic(&here.join("loop1"), b"x").unwrap_err(),
            replaceable(&here.join("loop1")).unwrap_err(),
        ] {
            assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{e}");
            assert!(e.to_string().contains("a loop"), "{e}");
        }
        assert_eq!(
            names(&here),
            ["a.json", "b.json", "c.json", "d.json", "loop1", "loop2"]
        );
    }

    /// A link into `/proc` (as `/dev/stdout` is: `/proc/self/fd/1`) is a process's
    /// open file: refused before any work and by the write itself, the file it is open
    /// on untouched and the link kept. Shown with a file of this test's own, open on a
    /// descriptor of its own, never the real standard output.
    #[test]
    fn a_link_to_an_open_file_of_a_process_is_refused_and_nothing_replaced() {
        use std::os::fd::AsRawFd;
        let tmp = tempfile::tempdir().unwrap();
        let log = tmp.path().join("log.txt");
        std::fs::write(&log, b"printed").unwrap();
        let open = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        let fd = format!("/proc/self/fd/{}", open.as_raw_fd());
        let link = tmp.path().join("mystdout");
        std::os::unix::fs::symlink(&fd, &link).unwrap();
        for p in [link.as_path(), Path::new(&fd)] {
            for e in [
                replaceable(p).unwrap_err(),
                regular_or_absent(p).unwrap_err(),
                write_atomic(p, b"report").unwrap_err(),
                write_atomic_scratch(p, b"report").unwrap_err(),
            ] {
                assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{e}");
                assert!(e.to_string().contains("is in /proc"), "{e}");
            }
        }
        assert_eq!(std::fs::read(&log).unwrap(), b"printed");
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(names(tmp.path()), ["log.txt", "mystdout"]);
    }

    /// The running executable is refused, by its path and through a link to it.
    #[test]
    fn the_running_executable_is_not_replaceable() {
        let exe = std::env::current_exe().unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let link = tmp.path().join("exe-link");
        std::os::unix::fs::symlink(&exe, &link).unwrap();
        for p in [exe.as_path(), link.as_path()] {
            let e = replaceable(p).unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{e}");
            assert!(e.to_string().contains("the running owm executable"), "{e}");
        }
        // A copy of it is another file.
        let copy = tmp.path().join("copy");
        std::fs::copy(&exe, &copy).unwrap();
        replaceable(&copy).unwrap();
    }

    #[test]
    fn a_missing_directory_is_an_error_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("no/such/dir/a.csv");
        assert!(write_atomic(&p, b"x").is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
