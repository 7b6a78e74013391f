//! Opening a device's files, and the records beside them, only when they are regular
//! files: never blocking on what is not one. An `open` of a pipe (FIFO) waits for its
//! other end for ever, so a pipe put at a device file's path would hang the server's
//! start, out of reach of its signals. Every file owm opens in a device directory is
//! opened through [`open`], which refuses anything but a regular file at once.

use std::fs::{File, OpenOptions};
use std::io::{Error, ErrorKind, Read};
use std::path::Path;

/// What [`open`] says of a path that is not a regular file (nor a directory).
pub const NOT_REGULAR: &str = "not a regular file (a pipe, device or socket)";

/// `path` opened with `options`, when it is a regular file (a symbolic link is
/// followed). The open itself never waits: it is made with `O_NONBLOCK`, and the file
/// it reaches is checked before it is used (then put back in blocking mode).
///
/// # Errors
/// [`ErrorKind::InvalidInput`] saying [`NOT_REGULAR`] for a pipe, a device or a
/// socket, and `is a directory` for a directory; the I/O error of the open otherwise
/// (missing, permission denied…). The caller names the path.
pub fn open(path: &Path, options: &OpenOptions) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut nonblocking = options.clone();
    nonblocking.custom_flags(libc::O_NONBLOCK);
    let f = match nonblocking.open(path) {
        Ok(f) => f,
        // A write-only open of a pipe nobody reads (ENXIO), or of a socket (ENXIO too).
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
            return Err(match std::fs::metadata(path) {
                Ok(m) if !m.is_file() => not_regular(&m),
                _ => e,
            })
        }
        Err(e) => return Err(e),
    };
    let m = f.metadata()?;
    if !m.is_file() {
        return Err(not_regular(&m));
    }
    blocking(&f)?;
    Ok(f)
}

/// [`open`] for reading.
///
/// # Errors
/// Those of [`open`].
pub fn open_read(path: &Path) -> std::io::Result<File> {
    open(path, OpenOptions::new().read(true))
}

/// The whole content of the regular file `path` ([`open`]).
///
/// # Errors
/// Those of [`open`]; a read error.
pub fn read(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    open_read(path)?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The whole content of the regular file `path` ([`open`]), as UTF-8 text.
///
/// # Errors
/// Those of [`read`]; [`ErrorKind::InvalidData`] when it is not UTF-8.
pub fn read_to_string(path: &Path) -> std::io::Result<String> {
    let mut text = String::new();
    open_read(path)?.read_to_string(&mut text)?;
    Ok(text)
}

/// The error [`open`] gives for the file `m` describes, not a regular file.
fn not_regular(m: &std::fs::Metadata) -> Error {
    let what = if m.is_dir() {
        "is a directory"
    } else {
        NOT_REGULAR
    };
    Error::new(ErrorKind::InvalidInput, what)
}

/// Clears `O_NONBLOCK` on `f` (a regular file, where it changes nothing, kept so for
/// whoever inherits the descriptor's flags).
fn blocking(f: &File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = f.as_raw_fd();
    // SAFETY: `fd` is open for the life of `f`; F_GETFL and F_SETFL take and give
    // plain integers.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) < 0 {
            return Err(Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mkfifo(p: &Path) {
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    }

    /// A pipe is refused at once whichever way it is opened (reading, writing,
    /// appending, creating), where a plain open would wait for its other end; a
    /// directory and a device are refused, a regular file is read whole.
    #[test]
    fn only_a_regular_file_is_opened_and_a_pipe_never_waits() {
        let dir = tempfile::tempdir().unwrap();
        let pipe = dir.path().join("pipe");
        mkfifo(&pipe);
        let ways: [OpenOptions; 4] = [
            OpenOptions::new().read(true).clone(),
            OpenOptions::new().write(true).clone(),
            OpenOptions::new().append(true).clone(),
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .clone(),
        ];
        for way in &ways {
            let e = open(&pipe, way).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput);
            assert_eq!(e.to_string(), NOT_REGULAR);
        }
        let e = read(dir.path()).unwrap_err();
        assert_eq!(e.to_string(), "is a directory");
        assert_eq!(
            read(Path::new("/dev/null")).unwrap_err().to_string(),
            NOT_REGULAR
        );
        let file = dir.path().join("file");
        std::fs::write(&file, b"whole").unwrap();
        assert_eq!(read(&file).unwrap(), b"whole");
        assert_eq!(read_to_string(&file).unwrap(), "whole");
        let f = open(&file, OpenOptions::new().append(true)).unwrap();
        use std::os::fd::AsRawFd;
        // SAFETY: an open descriptor.
        let flags = unsafe { libc::fcntl(f.as_raw_fd(), libc::F_GETFL) };
        assert_eq!(flags & libc::O_NONBLOCK, 0, "left in blocking mode");
        let e = read(&dir.path().join("missing")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
    }
}
