//! Replacing a whole file atomically: the one routine the metadata compaction, the
//! report writers and the server's archive marker share. The bytes go to a temporary
//! file in the target's directory (named `.{name}.XXXXXX.tmp`, so a leftover after a
//! kill is recognisable), are made durable (`fsync`), and the temporary file is renamed
//! over the target; then the directory is synced so the rename itself survives a power
//! loss. A reader sees the old file or the new one, never a mix; on any error the old
//! file is untouched and the temporary file removed.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically (see the module doc). The new file has mode
/// 0644 on Unix (an ordinary file others may read).
///
/// # Errors
/// The I/O error of the step that failed: creating the temporary file (e.g. a missing
/// or read-only directory), writing, syncing or renaming.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = temporary_beside(path)?;
    tmp.write_all(bytes)?;
    persist(tmp, path)
}

/// Refuses a `path` that a file written whole cannot replace: one that exists and is
/// not a regular file (through any symbolic link). Renaming a new file over a device
/// such as `/dev/null`, a pipe or a socket would put a regular file in its place; over
/// a directory it fails only at the end, after the work.
///
/// # Errors
/// [`std::io::ErrorKind::InvalidInput`], saying what the path is (a directory; a
/// device, pipe or socket).
pub fn replaceable(path: &Path) -> std::io::Result<()> {
    let refuse = |what: &str| Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, what));
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => refuse("is a directory, not a file"),
        Ok(m) if !m.is_file() => refuse(
            "not a regular file (a device, pipe or socket); owm replaces the file whole, \
             so give the path of a regular file",
        ),
        _ => Ok(()),
    }
}

/// A temporary file in `path`'s directory (the current one for a bare name), named
/// `.NAME.*.tmp` after `path`'s file name: the first half of an atomic write, to be
/// finished by [`persist`] (or dropped, which removes it).
///
/// # Errors
/// The I/O error of creating it (e.g. a missing or read-only directory).
pub fn temporary_beside(path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(directory_of(path))
}

/// The second half of an atomic write: `tmp` (from [`temporary_beside`]) made readable
/// (0644), synced, renamed over `path`, and the directory synced (best effort).
///
/// # Errors
/// The I/O error of syncing or renaming; the temporary file is removed.
pub fn persist(tmp: tempfile::NamedTempFile, path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    if let Ok(d) = std::fs::File::open(directory_of(path)) {
        // Best effort: some file systems refuse to sync a directory handle.
        let _ = d.sync_all();
    }
    Ok(())
}

fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn a_missing_directory_is_an_error_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("no/such/dir/a.csv");
        assert!(write_atomic(&p, b"x").is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
