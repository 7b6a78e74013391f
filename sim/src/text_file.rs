//! Reading a user's text file whole, bounded: the guard every file owm reads whole
//! goes through (a scenario, a sweep, a trace, a model file, a replayed trace, a
//! profile), so a path naming something endless (`/dev/zero`, `/dev/urandom`, a pipe)
//! or a file far past any input of its kind is refused before it is read.

use std::io::Read;
use std::path::Path;

/// Why a file could not be read whole ([`read`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// Not a regular file (a directory, a device, a pipe or a socket, through any
    /// link): only a file has a size to bound the read by.
    NotRegular,
    /// Larger than the bound: its size in bytes (as much as was read, when it grew).
    TooLarge(u64),
    /// Not UTF-8: where the first bad byte is, as its line (from 1) and its byte
    /// within that line (from 1).
    NotUtf8 { line: u64, byte: usize },
    /// The operating system's error, in words.
    Io(String),
}

/// The text of the file at `path`, read whole: refused before it is opened when it is
/// not a regular file, and when it holds more than `bytes_max` bytes; never more than
/// `bytes_max` bytes are read (a file that grows while read is refused too).
pub fn read(path: &Path, bytes_max: u64) -> Result<String, ReadError> {
    let io = |e: std::io::Error| ReadError::Io(e.to_string());
    // The path is examined before it is opened: opening a pipe with no writer blocks
    // until one comes, so only a regular file (a link to one) is opened.
    if !std::fs::metadata(path).map_err(io)?.is_file() {
        return Err(ReadError::NotRegular);
    }
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        // Replaced between the look and the open.
        return Err(ReadError::NotRegular);
    }
    if meta.len() > bytes_max {
        return Err(ReadError::TooLarge(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(bytes_max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > bytes_max {
        return Err(ReadError::TooLarge(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let before = &e.as_bytes()[..at];
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        ReadError::NotUtf8 {
            line: before.iter().filter(|&&b| b == b'\n').count() as u64 + 1,
            byte: at - line_start + 1,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_a_directory_and_a_file_past_the_bound_are_refused() {
        assert_eq!(read(Path::new("/dev/zero"), 10), Err(ReadError::NotRegular));
        let dir = std::env::temp_dir().join(format!("owm-text-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(read(&dir, 10), Err(ReadError::NotRegular));
        let f = dir.join("f");
        std::fs::write(&f, "12345").unwrap();
        assert_eq!(read(&f, 4), Err(ReadError::TooLarge(5)));
        assert_eq!(read(&f, 5).unwrap(), "12345");
        std::fs::write(&f, b"ab\xff").unwrap();
        assert_eq!(read(&f, 5), Err(ReadError::NotUtf8 { line: 1, byte: 3 }));
        std::fs::write(&f, b"a\nb\nc\xe9\n").unwrap();
        assert_eq!(read(&f, 9), Err(ReadError::NotUtf8 { line: 3, byte: 2 }));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
