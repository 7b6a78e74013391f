//! The file-backed store: a raw image file, one block after another, no header.
//!
//! A raw image is what `cmp`, `dd` and `qemu-img` understand, so an archive or an image
//! can be inspected with ordinary tools. Reads and writes are positioned
//! (`pread`/`pwrite`), so concurrent commands need no shared file offset; `flush` is
//! `fdatasync`, timed ([`crate::latency`]). Every open image holds an exclusive
//! advisory lock on its file (`flock`, via `File::try_lock`) until it closes, so two
//! devices never share one.

use crate::shown::ShowName as _;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::{check_access, BlockStore, StoreError};
use crate::latency::{LatencyLog, LatencySummary};

/// A block store on a raw image file.
#[derive(Debug)]
pub struct FileStore {
    file: File,
    path: PathBuf,
    block_size: usize,
    block_count: u64,
    flush_times: LatencyLog,
}

impl FileStore {
    /// Creates (or truncates) `path` as a zero-filled image of `block_count` blocks.
    pub fn create(
        path: impl AsRef<Path>,
        block_size: usize,
        block_count: u64,
    ) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        // Checked before the file is touched: a geometry no file can have never
        // empties an existing image.
        let len = image_len(&path, block_size, block_count)?;
        let file = open_rw(&path, true)?;
        Self::zeroed(file, path, block_size, block_count, len)
    }

    /// Like [`FileStore::create`], on `file`, already open for reading and writing on
    /// `path` (a temporary file the caller renames when the image is complete). A
    /// handle that shares an open file's lock (a clone of a locked handle) keeps it;
    /// the store releases the lock when dropped, so the caller drops it last.
    pub fn create_on(
        file: File,
        path: impl AsRef<Path>,
        block_size: usize,
        block_count: u64,
    ) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let len = image_len(&path, block_size, block_count)?;
        Self::zeroed(file, path, block_size, block_count, len)
    }

    /// Locks `file` and makes it `len` zero bytes.
    fn zeroed(
        file: File,
        path: PathBuf,
        block_size: usize,
        block_count: u64,
        len: u64,
    ) -> Result<Self, StoreError> {
        let io = |op, source| StoreError::Io {
            store: path.shown().to_string(),
            op,
            block: None,
            source,
        };
        // Locked before it is emptied: an image an open device holds is never cut.
        lock(&file, &path)?;
        file.set_len(0).map_err(|e| io("truncate", e))?;
        file.set_len(len).map_err(|e| io("set length", e))?;
        Ok(FileStore {
            file,
            path,
            block_size,
            block_count,
            flush_times: LatencyLog::default(),
        })
    }

    /// Opens an existing image; its length must be a whole number of blocks and, when
    /// `expected_blocks` is given, at least that many blocks (the store then presents
    /// exactly `expected_blocks`).
    pub fn open(
        path: impl AsRef<Path>,
        block_size: usize,
        expected_blocks: Option<u64>,
    ) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        check_geometry(&path, block_size)?;
        let store = path.shown().to_string();
        let file = open_rw(&path, false)?;
        lock(&file, &path)?;
        let len = file
            .metadata()
            .map_err(|source| StoreError::Io {
                store: store.clone(),
                op: "stat",
                block: None,
                source,
            })?
            .len();
        if !len.is_multiple_of(block_size as u64) {
            return Err(StoreError::Misaligned {
                store,
                len,
                block_size,
            });
        }
        let found = len / block_size as u64;
        let block_count = match expected_blocks {
            Some(expected) if found < expected => {
                return Err(StoreError::Short {
                    store,
                    found,
                    expected,
                    block_size,
                })
            }
            Some(expected) => expected,
            None => found,
        };
        Ok(FileStore {
            file,
            path,
            block_size,
            block_count,
            flush_times: LatencyLog::default(),
        })
    }

    /// Opens and locks `path` as a store of `block_count` blocks, whatever its length
    /// (the file device checks the length against the image's label first).
    pub(crate) fn open_locked(
        path: &Path,
        block_size: usize,
        block_count: u64,
    ) -> Result<Self, StoreError> {
        check_geometry(path, block_size)?;
        let file = open_rw(path, false)?;
        lock(&file, path)?;
        Ok(FileStore {
            file,
            path: path.to_path_buf(),
            block_size,
            block_count,
            flush_times: LatencyLog::default(),
        })
    }

    /// The open file (for the label past the last block, [`crate::identity`]).
    pub(crate) fn file(&self) -> &File {
        &self.file
    }

    /// The image file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io_error(&self, op: &'static str, block: u64, source: std::io::Error) -> StoreError {
        StoreError::Io {
            store: self.name(),
            op,
            block: Some(block),
            source,
        }
    }
}

/// Releases the image's lock explicitly before the file closes: a lock belongs to the
/// open file description, which a child process forked at that moment (any
/// `std::process::Command` of the same program) shares until it execs, so closing alone
/// could leave the image locked for a while after its device is gone.
impl Drop for FileStore {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

/// Takes the exclusive advisory lock of an image file for the life of `file` (released
/// when it closes): one open device per image.
/// `path` opened for reading and writing, made when missing if `create` (never
/// truncated: an existing image's length is checked by the caller).
///
/// Errors: [`StoreError::Io`] naming `path` and the operation (`create`, `open`).
fn open_rw(path: &Path, create: bool) -> Result<File, StoreError> {
    crate::regular::open(
        path,
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(create)
            .truncate(false),
    )
    .map_err(|source| StoreError::Io {
        store: path.shown().to_string(),
        op: if create { "create" } else { "open" },
        block: None,
        source,
    })
}

fn lock(file: &File, path: &Path) -> Result<(), StoreError> {
    let store = path.shown().to_string();
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Locked { store }),
        Err(std::fs::TryLockError::Error(source)) => Err(StoreError::Io {
            store,
            op: "lock",
            block: None,
            source,
        }),
    }
}

/// The length in bytes of an image of `block_count` blocks of `block_size`, refused
/// when no file can have it (past an `off_t`, 2^63 - 1 bytes) or the block size is bad.
fn image_len(path: &Path, block_size: usize, block_count: u64) -> Result<u64, StoreError> {
    check_geometry(path, block_size)?;
    block_count
        .checked_mul(block_size as u64)
        .filter(|&len| i64::try_from(len).is_ok())
        .ok_or_else(|| StoreError::Geometry {
            store: path.shown().to_string(),
            reason: format!(
                "{block_count} blocks of {block_size} bytes overflow a file's length \
                 (at most 2^63 - 1 bytes)"
            ),
        })
}

fn check_geometry(path: &Path, block_size: usize) -> Result<(), StoreError> {
    super::check_block_size(&path.shown().to_string(), block_size)
}

impl BlockStore for FileStore {
    fn block_size(&self) -> usize {
        self.block_size
    }
    fn block_count(&self) -> u64 {
        self.block_count
    }
    fn name(&self) -> String {
        self.path.shown().to_string()
    }
    fn read_block(&self, block: u64, buf: &mut [u8]) -> Result<(), StoreError> {
        check_access(self, block, buf.len())?;
        self.file
            .read_exact_at(buf, block * self.block_size as u64)
            .map_err(|e| self.io_error("read", block, e))
    }
    fn write_block(&self, block: u64, data: &[u8]) -> Result<(), StoreError> {
        check_access(self, block, data.len())?;
        self.file
            .write_all_at(data, block * self.block_size as u64)
            .map_err(|e| self.io_error("write", block, e))
    }
    fn flush(&self) -> Result<(), StoreError> {
        self.flush_times
            .time(|| self.file.sync_data())
            .map_err(|source| StoreError::Io {
                store: self.name(),
                op: "flush",
                block: None,
                source,
            })
    }
    fn take_flush_times(&self, samples: bool) -> Option<LatencySummary> {
        Some(self.flush_times.take(samples))
    }
}
