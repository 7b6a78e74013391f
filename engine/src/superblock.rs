//! The metadata file's superblock: which device it belongs to, and the journal length
//! the last completed sync made durable (every [`crate::Device::flush`], and every
//! barrier of the write order), so that opening can tell a torn tail after a crash
//! (bytes past that length: dropped) from a file cut or damaged after a completed sync
//! (fewer whole bytes than that length: refused, never silently dropped). Costs one
//! more small fsync per sync.
//!
//! A small file beside the metadata file (`device.owm.super`) holding two copies of a
//! checksummed record, each [`COPY_BYTES`] bytes (little-endian):
//!
//! `magic "OWMSUPR4" (8) | device id (16) | generation u64 | nonce u64 | seq u64 | durable_len u64 | crc32 u32`
//!
//! the CRC over the 56 bytes before it. Each write replaces the copy `seq % 2` and is
//! fsynced, so a torn write leaves the other copy whole; the valid copy with the
//! highest `seq` wins (the two-copy scheme of TigerBeetle's superblock and LVM's
//! metadata areas). A compaction records length 0 (unknown) before its rename and the
//! new length after it, so a crash in between never makes a shorter new journal look
//! cut; every copy, that one too, carries the device id.
//!
//! Every copy also carries the generation of the metadata header it describes (a
//! compaction's copies, from the length-0 one on, the new header's). A superblock that
//! records an earlier generation than the metadata file's header is a copy kept from
//! before a later open: its shorter length would let a journal cut or damaged after a
//! later flush through as a torn tail, so the device is refused, naming it as stale
//! ([`check_generation`], [`crate::file::open`]). It carries the header's nonce too
//! (the random value of the open that wrote the header, [`crate::identity`]), so a
//! superblock of another copy of the device, written at the same generation, is
//! refused as that copy's.
//!
//! The device id is the one drawn at [`crate::file::create`] ([`crate::identity`]),
//! which the metadata header and both images' labels carry too: opening compares them
//! before it trusts the recorded length, so a superblock of another device (whose
//! length would let a cut of this device's journal through, or refuse a whole one) is
//! refused, naming it ([`crate::Error::Identity`]).
//!
//! A missing superblock, or one with no valid copy, is refused when the device opens
//! ([`read`]): it is written before the metadata file exists and every write leaves
//! one copy whole, so its absence is damage or an incomplete copy of the device, and
//! without it a metadata file cut after a completed flush would be opened with that
//! flush's records silently dropped. A superblock of the first format (two 20-byte
//! copies `seq | durable_len | crc32`, no magic, no device id), made by an older
//! version, is refused as such: it cannot say which device it belongs to. A
//! superblock of the second format (two 44-byte copies `magic "OWMSUPR2" | device id |
//! seq | durable_len | crc32`, no generation) is read, with no generation to check,
//! and rewritten whole in this format (atomically) at its first write; so is one of
//! the third format (52-byte copies `magic "OWMSUPR3" | device id | generation | seq |
//! durable_len | crc32`, no nonce), read with nonce 0, the nonce of every file written
//! before nonces.

use crate::shown::ShowName as _;
use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::meta::MetaError;

/// Bytes of each of the two copies.
pub const COPY_BYTES: u64 = 60;
/// The format written ([`Superblock::format`]).
pub const FORMAT: u8 = 4;
/// The first bytes of every copy (format 4: the first had no magic and no device id,
/// the second no generation, the third no nonce).
pub const MAGIC: &[u8; 8] = b"OWMSUPR4";
/// The first bytes of every copy of the third format.
pub const MAGIC_V3: &[u8; 8] = b"OWMSUPR3";
/// Bytes of each copy of the third format.
const COPY_BYTES_V3: usize = 52;
/// Bytes of a copy of the third format before its CRC.
const FIELDS_BYTES_V3: usize = 48;
/// The first bytes of every copy of the second format.
pub const MAGIC_V2: &[u8; 8] = b"OWMSUPR2";
/// Bytes of each copy of the second format.
const COPY_BYTES_V2: usize = 44;
/// Bytes of each copy of the first format (`seq | durable_len | crc32`).
const COPY_BYTES_V1: usize = 20;
/// Bytes of a copy before its CRC.
const FIELDS_BYTES: usize = 56;
/// Bytes of a copy of the second format before its CRC.
const FIELDS_BYTES_V2: usize = 40;

/// What a superblock records (its valid copy with the highest sequence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Superblock {
    /// The write sequence of the copy.
    pub seq: u64,
    /// The device the superblock belongs to ([`crate::Identity::device_id`]).
    pub device_id: [u8; 16],
    /// The generation of the metadata header the superblock describes; `None` for a
    /// superblock of the second format, which records none.
    pub generation: Option<u64>,
    /// The nonce of that header ([`crate::identity::Identity::nonce`]); 0 for a
    /// superblock of an earlier format, which records none.
    pub nonce: u64,
    /// The format the copy read was written in ([`FORMAT`] for this one).
    pub format: u8,
    /// The journal length in bytes the last completed sync made durable (0 while a
    /// compaction replaces the file: unknown, the torn-tail rule alone applies).
    pub durable_len: u64,
}

/// The superblock path of the metadata file at `meta`.
pub fn path_of(meta: &Path) -> PathBuf {
    let mut name = meta.file_name().unwrap_or_default().to_os_string();
    name.push(".super");
    meta.with_file_name(name)
}

fn encode(s: &Superblock) -> [u8; COPY_BYTES as usize] {
    let mut out = [0u8; COPY_BYTES as usize];
    out[..8].copy_from_slice(MAGIC);
    out[8..24].copy_from_slice(&s.device_id);
    out[24..32].copy_from_slice(&s.generation.unwrap_or(0).to_le_bytes());
    out[32..40].copy_from_slice(&s.nonce.to_le_bytes());
    out[40..48].copy_from_slice(&s.seq.to_le_bytes());
    out[48..56].copy_from_slice(&s.durable_len.to_le_bytes());
    let crc = crc32fast::hash(&out[..FIELDS_BYTES]);
    out[FIELDS_BYTES..].copy_from_slice(&crc.to_le_bytes());
    out
}

fn decode(copy: &[u8]) -> Option<Superblock> {
    let copy = copy.get(..COPY_BYTES as usize)?;
    let crc = u32::from_le_bytes(copy[FIELDS_BYTES..].try_into().ok()?);
    if &copy[..8] != MAGIC || crc32fast::hash(&copy[..FIELDS_BYTES]) != crc {
        return None;
    }
    Some(Superblock {
        device_id: copy[8..24].try_into().ok()?,
        generation: Some(u64::from_le_bytes(copy[24..32].try_into().ok()?)),
        nonce: u64::from_le_bytes(copy[32..40].try_into().ok()?),
        seq: u64::from_le_bytes(copy[40..48].try_into().ok()?),
        durable_len: u64::from_le_bytes(copy[48..56].try_into().ok()?),
        format: FORMAT,
    })
}

/// A copy of the third format (no nonce).
fn decode_v3(copy: &[u8]) -> Option<Superblock> {
    let copy = copy.get(..COPY_BYTES_V3)?;
    let crc = u32::from_le_bytes(copy[FIELDS_BYTES_V3..].try_into().ok()?);
    if &copy[..8] != MAGIC_V3 || crc32fast::hash(&copy[..FIELDS_BYTES_V3]) != crc {
        return None;
    }
    Some(Superblock {
        device_id: copy[8..24].try_into().ok()?,
        generation: Some(u64::from_le_bytes(copy[24..32].try_into().ok()?)),
        nonce: 0,
        seq: u64::from_le_bytes(copy[32..40].try_into().ok()?),
        durable_len: u64::from_le_bytes(copy[40..48].try_into().ok()?),
        format: 3,
    })
}

/// A copy of the second format (no generation).
fn decode_v2(copy: &[u8]) -> Option<Superblock> {
    let copy = copy.get(..COPY_BYTES_V2)?;
    let crc = u32::from_le_bytes(copy[FIELDS_BYTES_V2..].try_into().ok()?);
    if &copy[..8] != MAGIC_V2 || crc32fast::hash(&copy[..FIELDS_BYTES_V2]) != crc {
        return None;
    }
    Some(Superblock {
        device_id: copy[8..24].try_into().ok()?,
        generation: None,
        nonce: 0,
        seq: u64::from_le_bytes(copy[24..32].try_into().ok()?),
        durable_len: u64::from_le_bytes(copy[32..40].try_into().ok()?),
        format: 2,
    })
}

/// Decodes one copy of a format: `None` when it is not a valid one.
type Decode = fn(&[u8]) -> Option<Superblock>;

/// Whether `copy` is a valid copy of the first format (`seq | durable_len | crc32`,
/// the CRC over the first 16 bytes).
fn is_first_format(copy: &[u8]) -> bool {
    copy.len() == COPY_BYTES_V1
        && crc32fast::hash(&copy[..16]).to_le_bytes() == copy[16..COPY_BYTES_V1]
}

/// The superblock of `meta`: its valid copy with the highest sequence.
///
/// Errors: [`MetaError`] naming the superblock (`device.owm.super` beside
/// `device.owm`) when it is missing, cannot be read, holds no valid copy, or is of the
/// first format (made by an older version: it names no device). Every metadata file
/// of this format was made with its superblock (written before the metadata file
/// exists, never removed), and each write replaces one copy and leaves the other
/// whole, so a metadata file without a valid superblock was copied without it or
/// damaged; its journal may have been cut after a completed flush, which only the
/// superblock can tell, so the device is refused rather than opened with a flushed
/// write silently dropped. Copy, move or back up `device.owm.super` with
/// `device.owm`.
pub fn read(meta: &Path) -> Result<Superblock, MetaError> {
    read_whole(meta).map(|(copy, _)| copy)
}

/// [`read`], and whether the superblock was not whole: one of its two copies damaged
/// or missing, bytes past them, or two valid copies that are not of successive writes
/// (one put back from elsewhere: each write replaces the copy `seq % 2`, so whole
/// copies are `seq` N and N − 1); the copy returned is the valid one with the highest
/// `seq`. Every write leaves the superblock so, so this is a write cut by a crash or
/// damage; the next two writes (an open's compaction makes them) replace both copies.
///
/// # Errors
/// Those of [`read`].
pub fn read_whole(meta: &Path) -> Result<(Superblock, bool), MetaError> {
    let path = path_of(meta);
    let meta_name = meta.file_name().unwrap_or_default().to_string_lossy();
    let refused = |why: &str| MetaError {
        path: path.shown().to_string(),
        offset: None,
        os_error: None,
        reason: format!(
            "{why}: the superblock of {} (the journal length the last completed flush made \
             durable) is needed to tell a torn tail from a file cut after a flush; restore \
             it from where {meta_name} was copied",
            meta.shown(),
        ),
    };
    let mut bytes = Vec::new();
    match crate::regular::open_read(&path) {
        Ok(mut f) => {
            f.read_to_end(&mut bytes)
                .map_err(|e| io_error(&path, "read", e))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(refused("missing")),
        Err(e) => return Err(io_error(&path, "open", e)),
    }
    let formats: [(usize, Decode); 3] = [
        (COPY_BYTES as usize, decode),
        (COPY_BYTES_V3, decode_v3),
        (COPY_BYTES_V2, decode_v2),
    ];
    for (copy_bytes, decode) in formats {
        let valid: Vec<Superblock> = bytes
            .chunks(copy_bytes)
            .take(2)
            .filter_map(decode)
            .collect();
        if let Some(best) = valid.iter().max_by_key(|s| s.seq) {
            let successive = valid.len() == 2 && valid[0].seq.abs_diff(valid[1].seq) == 1;
            let whole = successive && bytes.len() == 2 * copy_bytes;
            return Ok((*best, !whole));
        }
    }
    if bytes.len() <= 2 * COPY_BYTES_V1 && bytes.chunks(COPY_BYTES_V1).any(is_first_format) {
        return Err(MetaError {
            path: path.shown().to_string(),
            offset: None,
            os_error: None,
            reason: format!(
                "made by an older version of owm (superblock format 1, which names no \
                 device): this version cannot check that it belongs to {meta_name} and its \
                 images; copy the volume out with the older version (e.g. backup_a, \
                 detach_b) and adopt it as a new device"
            ),
        });
    }
    Err(refused("no valid copy (damaged, or not a superblock)"))
}

/// The superblock of `meta` as `(seq, durable_len)` ([`read`]).
///
/// # Errors
/// Those of [`read`].
pub fn read_durable_len(meta: &Path) -> Result<(u64, u64), MetaError> {
    read(meta).map(|s| (s.seq, s.durable_len))
}

impl Superblock {
    /// A copy of this format, sequence `seq`, of device `device_id`, for a metadata
    /// header of generation `generation` and nonce `nonce`, recording `durable_len`.
    pub fn current(
        seq: u64,
        device_id: [u8; 16],
        generation: u64,
        nonce: u64,
        durable_len: u64,
    ) -> Self {
        Superblock {
            seq,
            device_id,
            generation: Some(generation),
            nonce,
            durable_len,
            format: FORMAT,
        }
    }
}

/// Writes `copy` (of this format: [`Superblock::current`]) as copy `copy.seq % 2` of
/// the superblock of `meta`, drops any bytes past the two copies, and fsyncs it.
pub fn write(meta: &Path, copy: &Superblock) -> Result<(), MetaError> {
    let path = path_of(meta);
    let io = |what, e| io_error(&path, what, e);
    let mut f = crate::regular::open(
        &path,
        OpenOptions::new().write(true).create(true).truncate(false),
    )
    .map_err(|e| io("open", e))?;
    f.seek(SeekFrom::Start((copy.seq % 2) * COPY_BYTES))
        .map_err(|e| io("seek", e))?;
    f.write_all(&encode(copy)).map_err(|e| io("write", e))?;
    // Bytes past the two copies (damage: no write leaves any) are dropped.
    if f.metadata().map_err(|e| io("stat", e))?.len() > 2 * COPY_BYTES {
        f.set_len(2 * COPY_BYTES).map_err(|e| io("truncate", e))?;
    }
    f.sync_data().map_err(|e| io("fsync", e))
}

/// Replaces the whole superblock of `meta` atomically with two copies of this format
/// (`copy` at sequences `copy.seq - 1` and `copy.seq`, one record): how a superblock of
/// the second format or third format, whose copies lie at other offsets, is rewritten,
/// so that a crash leaves either the old file whole or the new one.
pub fn rewrite(meta: &Path, copy: &Superblock) -> Result<(), MetaError> {
    let path = path_of(meta);
    let mut copies = [[0u8; COPY_BYTES as usize]; 2];
    for seq in [copy.seq.saturating_sub(1), copy.seq] {
        copies[(seq % 2) as usize] = encode(&Superblock { seq, ..*copy });
    }
    crate::atomic::write_atomic(&path, &copies.concat()).map_err(|e| io_error(&path, "replace", e))
}

/// Refuses a superblock that records an earlier generation than the metadata header
/// (`header_generation`): a copy kept from before a later open, whose recorded length
/// would let a journal cut or damaged after a later flush through as a torn tail
/// ([`crate::Error::Identity`], stale, naming the superblock). A superblock of the
/// second format records no generation and is not checked.
pub fn check_generation(
    meta: &Path,
    sb: &Superblock,
    header_generation: u64,
) -> Result<(), crate::Error> {
    match sb.generation {
        Some(g) if g < header_generation => Err(crate::Error::Identity {
            file: path_of(meta).shown().to_string(),
            mismatch: crate::identity::Mismatch::Stale {
                expected_generation: header_generation,
                found_generation: g,
            },
        }),
        _ => Ok(()),
    }
}

/// Refuses a journal whose whole frames end before the length a completed flush made
/// durable: it was cut or damaged after that flush, or is an older copy of it.
pub fn check(meta: &Path, valid_len: u64, durable_len: u64) -> Result<(), MetaError> {
    if valid_len >= durable_len {
        return Ok(());
    }
    Err(MetaError::at(
        &meta.shown().to_string(),
        valid_len,
        format!(
            "the journal's whole records end here, but a completed flush made {durable_len} bytes durable: the file was cut or damaged after that flush, or is an older copy of it"
        ),
    ))
}

fn io_error(path: &Path, what: &str, e: std::io::Error) -> MetaError {
    MetaError::io(path, what, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: [u8; 16] = [0x5a; 16];

    fn first_format_copy(seq: u64, durable_len: u64) -> Vec<u8> {
        let mut out = seq.to_le_bytes().to_vec();
        out.extend_from_slice(&durable_len.to_le_bytes());
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// A copy round-trips; any flipped byte of it (magic, id, fields, CRC) is no copy.
    #[test]
    fn a_copy_round_trips_and_any_flipped_byte_is_no_copy() {
        let s = Superblock {
            seq: 7,
            device_id: ID,
            generation: Some(3),
            durable_len: 409,
            nonce: 11,
            format: FORMAT,
        };
        let bytes = encode(&s);
        assert_eq!(decode(&bytes), Some(s));
        for i in 0..bytes.len() {
            let mut b = bytes;
            b[i] ^= 0x08;
            assert_eq!(decode(&b), None, "byte {i}");
        }
    }

    /// Each write replaces one copy: a write torn at any byte (a prefix of the new copy
    /// over the old one) leaves the other copy, with the device id, as what is read;
    /// the whole write is read back.
    #[test]
    fn a_torn_write_leaves_the_other_copy_with_the_device_id() {
        let dir = tempfile::tempdir().unwrap();
        let meta = dir.path().join("device.owm");
        write(&meta, &Superblock::current(0, ID, 3, 11, 0)).unwrap();
        write(&meta, &Superblock::current(1, ID, 3, 11, 63)).unwrap();
        let whole = std::fs::read(path_of(&meta)).unwrap();
        assert_eq!(whole.len() as u64, 2 * COPY_BYTES);
        let next = encode(&Superblock {
            seq: 2,
            device_id: ID,
            generation: Some(3),
            durable_len: 409,
            nonce: 11,
            format: FORMAT,
        });
        for torn in 0..COPY_BYTES as usize {
            let mut bytes = whole.clone();
            bytes[..torn].copy_from_slice(&next[..torn]);
            std::fs::write(path_of(&meta), &bytes).unwrap();
            let got = read(&meta).unwrap();
            let want = Superblock {
                seq: 1,
                device_id: ID,
                generation: Some(3),
                durable_len: 63,
                nonce: 11,
                format: FORMAT,
            };
            assert_eq!(got, want, "torn after {torn} bytes");
        }
        std::fs::write(path_of(&meta), &whole).unwrap();
        write(&meta, &Superblock::current(2, ID, 3, 11, 409)).unwrap();
        assert_eq!(read_durable_len(&meta).unwrap(), (2, 409));
        assert_eq!(read(&meta).unwrap().device_id, ID);
    }

    /// A superblock of the first format (two 20-byte copies, no device id) is refused
    /// as made by an older version, naming it, not as damaged; garbage of its length
    /// is damaged.
    #[test]
    fn a_superblock_of_the_first_format_is_refused_as_older() {
        let dir = tempfile::tempdir().unwrap();
        let meta = dir.path().join("device.owm");
        let mut old = first_format_copy(4, 63);
        old.extend_from_slice(&first_format_copy(3, 40));
        std::fs::write(path_of(&meta), &old).unwrap();
        let e = read(&meta).unwrap_err();
        assert_eq!(e.path, path_of(&meta).shown().to_string());
        assert!(
            e.reason.starts_with("made by an older version of owm"),
            "{e}"
        );
        assert!(!e.reason.contains("damaged"), "{e}");
        old[0] ^= 1;
        std::fs::write(path_of(&meta), &old).unwrap();
        let e = read(&meta).unwrap_err();
        assert!(e.reason.contains("older version"), "one copy whole: {e}");
        old[20] ^= 1;
        std::fs::write(path_of(&meta), &old).unwrap();
        let e = read(&meta).unwrap_err();
        assert!(e.reason.starts_with("no valid copy"), "{e}");
    }

    /// A superblock of the second format (44-byte copies, no generation) is read with
    /// no generation, and its first write rewrites it whole in this format, so a
    /// second-format copy cannot be left half overwritten by a copy of this one.
    #[test]
    fn a_superblock_of_the_second_format_is_read_and_rewritten_whole() {
        let dir = tempfile::tempdir().unwrap();
        let meta = dir.path().join("device.owm");
        let v2 = |seq: u64, len: u64| {
            let mut out = MAGIC_V2.to_vec();
            out.extend_from_slice(&ID);
            out.extend_from_slice(&seq.to_le_bytes());
            out.extend_from_slice(&len.to_le_bytes());
            let crc = crc32fast::hash(&out);
            out.extend_from_slice(&crc.to_le_bytes());
            out
        };
        let mut old = v2(6, 120);
        old.extend_from_slice(&v2(5, 90));
        std::fs::write(path_of(&meta), &old).unwrap();
        let got = read(&meta).unwrap();
        assert_eq!(
            got,
            Superblock {
                seq: 6,
                device_id: ID,
                generation: None,
                durable_len: 120,
                nonce: 0,
                format: 2,
            }
        );
        rewrite(&meta, &Superblock::current(7, ID, 4, 11, 150)).unwrap();
        assert_eq!(
            std::fs::metadata(path_of(&meta)).unwrap().len(),
            2 * COPY_BYTES
        );
        let got = read(&meta).unwrap();
        assert_eq!(
            (got.seq, got.generation, got.durable_len),
            (7, Some(4), 150)
        );
    }

    /// A superblock of the third format (52-byte copies, no nonce) is read with nonce
    /// 0 and its generation, and its first write rewrites it whole in this format.
    #[test]
    fn a_superblock_of_the_third_format_is_read_with_nonce_0_and_rewritten_whole() {
        let dir = tempfile::tempdir().unwrap();
        let meta = dir.path().join("device.owm");
        let v3 = |seq: u64, len: u64| {
            let mut out = MAGIC_V3.to_vec();
            out.extend_from_slice(&ID);
            out.extend_from_slice(&5u64.to_le_bytes());
            out.extend_from_slice(&seq.to_le_bytes());
            out.extend_from_slice(&len.to_le_bytes());
            let crc = crc32fast::hash(&out);
            out.extend_from_slice(&crc.to_le_bytes());
            out
        };
        let mut old = v3(6, 120);
        old.extend_from_slice(&v3(5, 90));
        std::fs::write(path_of(&meta), &old).unwrap();
        let got = read(&meta).unwrap();
        assert_eq!(
            got,
            Superblock {
                seq: 6,
                device_id: ID,
                generation: Some(5),
                durable_len: 120,
                nonce: 0,
                format: 3,
            }
        );
        rewrite(&meta, &Superblock::current(7, ID, 6, 11, 150)).unwrap();
        assert_eq!(
            std::fs::metadata(path_of(&meta)).unwrap().len(),
            2 * COPY_BYTES
        );
        let got = read(&meta).unwrap();
        assert_eq!(
            (got.seq, got.generation, got.nonce, got.format),
            (7, Some(6), 11, FORMAT)
        );
    }

    /// A superblock of an earlier generation than the header is refused as stale,
    /// naming it; of the header's generation or a later one (a compaction's, before
    /// its rename), it is not; of the second format it is not checked.
    #[test]
    fn a_superblock_of_an_earlier_generation_is_stale() {
        let meta = Path::new("/d/device.owm");
        let sb = |generation| Superblock {
            seq: 9,
            device_id: ID,
            generation,
            durable_len: 100,
            nonce: 11,
            format: FORMAT,
        };
        let e = check_generation(meta, &sb(Some(2)), 3).unwrap_err();
        assert_eq!(
            e.to_string(),
            "/d/device.owm.super: does not belong to this device: stale: last written at \
             generation 2, the device is at generation 3"
        );
        for ok in [Some(3), Some(4), None] {
            check_generation(meta, &sb(ok), 3).unwrap();
        }
    }
}
