//! Atomic file output: every report file is written to a temporary file in the same
//! directory, flushed to disk, then renamed over the target. A run killed half way
//! leaves either the old file or the new one, never a truncated one; a failed write
//! leaves the old file untouched.

use std::path::Path;

use crate::Error;

/// Writes `bytes` to `path` atomically (temporary file in the same directory, fsync,
/// rename: [`engine::atomic::write_atomic`]); errors name the file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    engine::atomic::write_atomic(path, bytes).map_err(|e| Error::io(path, e))
}

/// A file whole or absent to every reader, not waited onto the disk, in a directory
/// removed whole when its work completes (a sweep's kept points): no `fsync`, no look
/// for a killed writer's temporary files ([`engine::atomic::write_atomic_scratch`]);
/// errors name the file.
pub fn write_atomic_scratch(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    engine::atomic::write_atomic_scratch(path, bytes).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_directory_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("no/such/dir/a.csv");
        let e = write_atomic(&p, b"x").unwrap_err();
        assert!(e.to_string().contains("a.csv"), "{e}");
    }
}
