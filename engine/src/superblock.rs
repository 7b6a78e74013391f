//! The metadata file's superblock: the journal length the last completed sync made
//! durable (every [`crate::Device::flush`], and every barrier of the write order), so
//! that opening can tell a torn tail after a crash (bytes past that length: dropped)
//! from a file cut or damaged after a completed sync (fewer whole bytes than that
//! length: refused, never silently dropped). Costs one more small fsync per sync.
//!
//! A small file beside the metadata file (`device.owm.super`) holding two copies of a
//! checksummed record `seq: u64 LE | durable_len: u64 LE | crc32: u32 LE` (CRC over the
//! first 16 bytes); each write replaces the copy `seq % 2` and is fsynced, so a torn
//! write leaves the other copy whole; the valid copy with the highest `seq` wins (the
//! two-copy scheme of TigerBeetle's superblock and LVM's metadata areas). A compaction
//! records length 0 (unknown) before its rename and the new length after it, so a crash
//! in between never makes a shorter new journal look cut.
//!
//! A missing superblock, or one with no valid copy, is refused when the device opens
//! ([`read_durable_len`]): it is written before the metadata file exists and every
//! write leaves one copy whole, so its absence is damage or an incomplete copy of the
//! device, and without it a metadata file cut after a completed flush would be opened
//! with that flush's records silently dropped.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::meta::MetaError;

const COPY_BYTES: u64 = 20;

/// The superblock path of the metadata file at `meta`.
pub fn path_of(meta: &Path) -> PathBuf {
    let mut name = meta.file_name().unwrap_or_default().to_os_string();
    name.push(".super");
    meta.with_file_name(name)
}

fn encode(seq: u64, durable_len: u64) -> [u8; COPY_BYTES as usize] {
    let mut out = [0u8; COPY_BYTES as usize];
    out[..8].copy_from_slice(&seq.to_le_bytes());
    out[8..16].copy_from_slice(&durable_len.to_le_bytes());
    let crc = crc32fast::hash(&out[..16]);
    out[16..].copy_from_slice(&crc.to_le_bytes());
    out
}

fn decode(copy: &[u8]) -> Option<(u64, u64)> {
    if copy.len() < COPY_BYTES as usize {
        return None;
    }
    let crc = u32::from_le_bytes(copy[16..20].try_into().ok()?);
    if crc32fast::hash(&copy[..16]) != crc {
        return None;
    }
    let seq = u64::from_le_bytes(copy[..8].try_into().ok()?);
    let len = u64::from_le_bytes(copy[8..16].try_into().ok()?);
    Some((seq, len))
}

/// The superblock of `meta`: `(seq, durable_len)` of its valid copy with the highest
/// sequence, the journal length in bytes the last completed sync made durable (0
/// while a compaction replaces the file: unknown, the torn-tail rule alone applies).
///
/// Errors: [`MetaError`] naming the superblock (`device.owm.super` beside
/// `device.owm`) when it is missing, cannot be read, or holds no valid copy. Every
/// metadata file of this format was made with its superblock (written before the
/// metadata file exists, never removed), and each write replaces one copy and leaves
/// the other whole, so a metadata file without a valid superblock was copied without
/// it or damaged; its journal may have been cut after a completed flush, which only
/// the superblock can tell, so the device is refused rather than opened with a
/// flushed write silently dropped. Copy, move or back up `device.owm.super` with
/// `device.owm`.
pub fn read_durable_len(meta: &Path) -> Result<(u64, u64), MetaError> {
    let path = path_of(meta);
    let refused = |why: &str| MetaError {
        path: path.display().to_string(),
        offset: None,
        reason: format!(
            "{why}: the superblock of {} (the journal length the last completed flush made \
             durable) is needed to tell a torn tail from a file cut after a flush; restore \
             it from where {} was copied",
            meta.display(),
            meta.file_name().unwrap_or_default().to_string_lossy()
        ),
    };
    let mut bytes = Vec::new();
    match File::open(&path) {
        Ok(mut f) => {
            f.read_to_end(&mut bytes)
                .map_err(|e| io_error(&path, "read", e))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(refused("missing")),
        Err(e) => return Err(io_error(&path, "open", e)),
    }
    let best = bytes
        .chunks(COPY_BYTES as usize)
        .take(2)
        .filter_map(decode)
        .max_by_key(|&(seq, _)| seq);
    best.ok_or_else(|| refused("no valid copy (damaged, or not a superblock)"))
}

/// Writes copy `seq % 2` of the superblock of `meta` recording `durable_len`, and
/// fsyncs it.
pub fn write(meta: &Path, seq: u64, durable_len: u64) -> Result<(), MetaError> {
    let path = path_of(meta);
    let io = |what, e| io_error(&path, what, e);
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| io("open", e))?;
    f.seek(SeekFrom::Start((seq % 2) * COPY_BYTES))
        .map_err(|e| io("seek", e))?;
    f.write_all(&encode(seq, durable_len))
        .map_err(|e| io("write", e))?;
    f.sync_data().map_err(|e| io("fsync", e))
}

/// Refuses a journal whose whole frames end before the length a completed flush made
/// durable: it was cut or damaged after that flush.
pub fn check(meta: &Path, valid_len: u64, durable_len: u64) -> Result<(), MetaError> {
    if valid_len >= durable_len {
        return Ok(());
    }
    Err(MetaError::at(
        &meta.display().to_string(),
        valid_len,
        format!(
            "the journal's whole records end here, but a completed flush made {durable_len} bytes durable: the file was cut or damaged after that flush"
        ),
    ))
}

fn io_error(path: &Path, what: &str, e: std::io::Error) -> MetaError {
    MetaError {
        path: path.display().to_string(),
        offset: None,
        reason: format!("{what}: {e}"),
    }
}
