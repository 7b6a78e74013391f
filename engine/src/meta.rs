//! Device metadata: what must survive a close (or a crash) besides the images — the
//! phase and the lookup table — as an append-only journal of checksummed records.
//!
//! File layout: the magic `OWMMETA2`, then frames `len: u32 LE | crc32: u32 LE |
//! payload` where the CRC covers the length bytes and the payload. The running device
//! appends one small frame per table or phase change, after the data it describes is
//! written (so an entry never points at unwritten space); a compaction rewrites the
//! whole file atomically (temporary file, fsync, rename) as a header, the phase and
//! one table snapshot.
//!
//! A frame cut short at the end of the file is an append that never completed: it was
//! never acknowledged, so it is dropped. Anything else that does not decode — a bad
//! checksum before the end, an unknown record, an impossible table — is corruption
//! and a typed error naming the file and the byte offset.

use crate::shown::ShowName as _;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::store::Power;
use crate::{Image, Phase, Variant};

/// The first bytes of every metadata file.
pub const MAGIC: &[u8; 8] = b"OWMMETA2";
/// The magic of the first format (no device identity, no integrity mode): refused
/// with a message that says so, never read as if it were this one.
pub const MAGIC_V1: &[u8; 8] = b"OWMMETA1";
/// Largest frame an append can leave half-written (compaction never tears).
const APPEND_FRAME_BYTES_MAX: usize = 8 + 32;
/// Largest payload accepted at all.
const PAYLOAD_BYTES_MAX: usize = 1 << 30;

/// One journal record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetaRecord {
    /// The device's identity and geometry; always the first record. `device_id` is
    /// drawn at creation (random for a file device, all zero for an in-memory one);
    /// `generation` counts the opens of a file device (each image's label carries it
    /// too, so an image from an earlier open is recognised as stale); `integrity`
    /// says whether every block carries a checksum ([`crate::DeviceConfig::integrity`]);
    /// `nonce` is the random value the open that wrote the header drew (or the
    /// creation), which the superblock and both labels record too, so a file of another
    /// copy of the device is told apart ([`crate::identity`]). A header written before
    /// nonces (its payload ends after `integrity`) reads with nonce 0.
    Header {
        variant: Variant,
        block_size: u32,
        volume_blocks: u64,
        area_slots: u64,
        device_id: [u8; 16],
        generation: u64,
        integrity: bool,
        nonce: u64,
    },
    /// The device entered a phase.
    Phase(Phase),
    /// A lookup-table entry: volume block → data-area slot.
    Insert { block: u64, slot: u32 },
    /// A lookup-table entry dropped (its slot freed).
    Remove { block: u64 },
    /// The lookup table dropped whole (VLUN A retired).
    Clear,
    /// Mirroring: `block` is about to be written through VLUN A, to both images; until
    /// a flush covers it, a crash may leave the images different there (the write
    /// intent of md RAID-1's bitmap). Recovery copies image A to image B for it.
    Dirty { block: u64 },
    /// Mirroring, after the split: VLUN B wrote `block`, so image B holds data of its
    /// own there, which recovery must never overwrite with image A's.
    Diverged { block: u64 },
    /// Mirroring: a flush begins; every block made dirty before this mark is covered
    /// by it.
    FlushMark,
    /// Mirroring: the flush begun at the last [`MetaRecord::FlushMark`] completed; the
    /// blocks made dirty before that mark are in sync again.
    Clean,
    /// `backup_a` finished writing a complete archive of VLUN A: from here on
    /// `retire_a` may discard VLUN A.
    ArchiveComplete,
    /// A file device's open begins moving the device to `generation` (the header's
    /// plus one): appended and synced before the images' labels are rewritten, so image
    /// labels one generation ahead of the header are accepted only after this record
    /// (an open cut short), never beside metadata kept from before a completed open
    /// (stale). `nonce` is the one the open drew: the labels and the superblock it
    /// rewrites carry it, and only it is accepted beside this generation. The open's
    /// compaction writes the new generation and nonce into the header and drops this
    /// record. An opening written before nonces reads with nonce 0.
    Opening { generation: u64, nonce: u64 },
    /// Integrity mode: physical block `block` of `image`, which holds volume block
    /// `logical`'s data, is about to be written. Its data and its checksum block are
    /// two writes, so until a flush covers them ([`MetaRecord::FlushMark`],
    /// [`MetaRecord::Clean`]) a crash may keep the one and not the other; recovery
    /// re-sums the block from what it holds (dm-integrity's bitmap mode does the same
    /// for the regions its bitmap marks dirty: Linux `Documentation/admin-guide/
    /// device-mapper/dm-integrity.rst`, "bitmap mode"). Appended before the block's
    /// first write since the last flush, in the operating system's hands before the
    /// data write starts, so it survives the process ending anywhere; it is not synced
    /// first (ARCHITECTURE.md, "Integrity mode", says what a power loss keeps).
    Unsummed {
        image: Image,
        block: u64,
        logical: u64,
    },
    /// A whole lookup table, written by compaction.
    Table {
        next_fresh: u32,
        peak: u32,
        free: Vec<u32>,
        entries: Vec<(u64, u32)>,
    },
}

/// Corrupt, truncated or unreadable metadata: names the file and, where the fault is
/// in its contents, the byte offset of the frame at fault.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{path}: {}{reason}", offset.map(|o| format!("byte {o}: ")).unwrap_or_default())]
pub struct MetaError {
    pub path: String,
    pub offset: Option<u64>,
    pub reason: String,
    /// The operating system's error number when it refused the read, write or sync
    /// (`ENOSPC`: the file system is full), so that a caller can pass it on.
    pub os_error: Option<i32>,
}

impl MetaError {
    pub(crate) fn at(path: &str, offset: u64, reason: impl Into<String>) -> Self {
        MetaError {
            path: path.to_string(),
            offset: Some(offset),
            os_error: None,
            reason: reason.into(),
        }
    }
    pub(crate) fn io(path: &Path, what: &str, e: std::io::Error) -> Self {
        MetaError {
            path: path.shown().to_string(),
            offset: None,
            os_error: e.raw_os_error(),
            reason: format!("{what}: {e}"),
        }
    }
}

const TAG_HEADER: u8 = 1;
const TAG_PHASE: u8 = 2;
const TAG_INSERT: u8 = 3;
const TAG_REMOVE: u8 = 4;
const TAG_CLEAR: u8 = 5;
const TAG_TABLE: u8 = 6;
const TAG_DIRTY: u8 = 7;
const TAG_FLUSH_MARK: u8 = 8;
const TAG_CLEAN: u8 = 9;
const TAG_DIVERGED: u8 = 10;
const TAG_ARCHIVE_COMPLETE: u8 = 11;
const TAG_OPENING: u8 = 12;
const TAG_UNSUMMED: u8 = 13;

fn variant_code(v: Variant) -> u8 {
    match v {
        Variant::WriteMirroring => 0,
        Variant::WriteLogging => 1,
        Variant::CopyOnWrite => 2,
    }
}

fn image_code(i: Image) -> u8 {
    match i {
        Image::A => 0,
        Image::B => 1,
    }
}

fn phase_code(p: Phase) -> u8 {
    match p {
        Phase::Single => 0,
        Phase::Split => 1,
        Phase::BackedUp => 2,
        Phase::Retired => 3,
    }
}

impl MetaRecord {
    fn payload(&self) -> Vec<u8> {
        let mut p = Vec::with_capacity(24);
        match self {
            MetaRecord::Header {
                variant,
                block_size,
                volume_blocks,
                area_slots,
                device_id,
                generation,
                integrity,
                nonce,
            } => {
                p.push(TAG_HEADER);
                p.push(variant_code(*variant));
                p.extend_from_slice(&block_size.to_le_bytes());
                p.extend_from_slice(&volume_blocks.to_le_bytes());
                p.extend_from_slice(&area_slots.to_le_bytes());
                p.extend_from_slice(device_id);
                p.extend_from_slice(&generation.to_le_bytes());
                p.push(u8::from(*integrity));
                p.extend_from_slice(&nonce.to_le_bytes());
            }
            MetaRecord::Phase(phase) => {
                p.push(TAG_PHASE);
                p.push(phase_code(*phase));
            }
            MetaRecord::Insert { block, slot } => {
                p.push(TAG_INSERT);
                p.extend_from_slice(&block.to_le_bytes());
                p.extend_from_slice(&slot.to_le_bytes());
            }
            MetaRecord::Remove { block } => {
                p.push(TAG_REMOVE);
                p.extend_from_slice(&block.to_le_bytes());
            }
            MetaRecord::Clear => p.push(TAG_CLEAR),
            MetaRecord::Dirty { block } => {
                p.push(TAG_DIRTY);
                p.extend_from_slice(&block.to_le_bytes());
            }
            MetaRecord::Diverged { block } => {
                p.push(TAG_DIVERGED);
                p.extend_from_slice(&block.to_le_bytes());
            }
            MetaRecord::Unsummed {
                image,
                block,
                logical,
            } => {
                p.push(TAG_UNSUMMED);
                p.push(image_code(*image));
                p.extend_from_slice(&block.to_le_bytes());
                p.extend_from_slice(&logical.to_le_bytes());
            }
            MetaRecord::FlushMark => p.push(TAG_FLUSH_MARK),
            MetaRecord::Clean => p.push(TAG_CLEAN),
            MetaRecord::ArchiveComplete => p.push(TAG_ARCHIVE_COMPLETE),
            MetaRecord::Opening { generation, nonce } => {
                p.push(TAG_OPENING);
                p.extend_from_slice(&generation.to_le_bytes());
                p.extend_from_slice(&nonce.to_le_bytes());
            }
            MetaRecord::Table {
                next_fresh,
                peak,
                free,
                entries,
            } => {
                p.push(TAG_TABLE);
                p.extend_from_slice(&next_fresh.to_le_bytes());
                p.extend_from_slice(&peak.to_le_bytes());
                p.extend_from_slice(&(free.len() as u64).to_le_bytes());
                for s in free {
                    p.extend_from_slice(&s.to_le_bytes());
                }
                p.extend_from_slice(&(entries.len() as u64).to_le_bytes());
                for (b, s) in entries {
                    p.extend_from_slice(&b.to_le_bytes());
                    p.extend_from_slice(&s.to_le_bytes());
                }
            }
        }
        p
    }

    /// The record as one frame, ready to append.
    pub fn encode(&self) -> Vec<u8> {
        let payload = self.payload();
        let len = (payload.len() as u32).to_le_bytes();
        let mut crc = crc32fast::Hasher::new();
        crc.update(&len);
        crc.update(&payload);
        let mut frame = Vec::with_capacity(8 + payload.len());
        frame.extend_from_slice(&len);
        frame.extend_from_slice(&crc.finalize().to_le_bytes());
        frame.extend_from_slice(&payload);
        frame
    }
}

/// A cursor over one payload; every read is bounds-checked.
struct Fields<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Fields<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let end = self.at + N;
        let slice = self
            .bytes
            .get(self.at..end)
            .ok_or_else(|| "record shorter than its fields".to_string())?;
        self.at = end;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take::<1>()?[0])
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take()?))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.take()?))
    }
    /// A record's last field, the nonce: 0 when the record ends before it (written
    /// before nonces).
    fn nonce(&mut self) -> Result<u64, String> {
        if self.at == self.bytes.len() {
            return Ok(0);
        }
        self.u64()
    }
    fn count(&mut self, item_bytes: usize) -> Result<usize, String> {
        let n = self.u64()?;
        let left = (self.bytes.len() - self.at) as u64;
        if n.saturating_mul(item_bytes as u64) > left {
            return Err(format!("list of {n} items does not fit in the record"));
        }
        Ok(n as usize)
    }
    fn done(&self, tag: u8) -> Result<(), String> {
        if self.at != self.bytes.len() {
            return Err(format!(
                "{} unexpected bytes after a record of type {tag} ({})",
                self.bytes.len() - self.at,
                tag_name(tag),
            ));
        }
        Ok(())
    }
}

/// The name of a known record type `tag`, for messages.
fn tag_name(tag: u8) -> &'static str {
    match tag {
        TAG_HEADER => "header",
        TAG_PHASE => "phase",
        TAG_INSERT => "insert",
        TAG_REMOVE => "remove",
        TAG_CLEAR => "clear",
        TAG_TABLE => "table",
        TAG_DIRTY => "dirty",
        TAG_FLUSH_MARK => "flush mark",
        TAG_CLEAN => "clean",
        TAG_DIVERGED => "diverged",
        TAG_ARCHIVE_COMPLETE => "archive complete",
        TAG_OPENING => "opening",
        TAG_UNSUMMED => "unsummed",
        _ => "unknown",
    }
}

fn decode_payload(payload: &[u8]) -> Result<MetaRecord, String> {
    let mut f = Fields {
        bytes: payload,
        at: 0,
    };
    let tag = f.u8()?;
    let rec = match tag {
        TAG_HEADER => {
            let variant = match f.u8()? {
                0 => Variant::WriteMirroring,
                1 => Variant::WriteLogging,
                2 => Variant::CopyOnWrite,
                v => return Err(format!("unknown variant code {v}")),
            };
            MetaRecord::Header {
                variant,
                block_size: f.u32()?,
                volume_blocks: f.u64()?,
                area_slots: f.u64()?,
                device_id: f.take()?,
                generation: f.u64()?,
                integrity: match f.u8()? {
                    0 => false,
                    1 => true,
                    v => return Err(format!("integrity flag {v} is neither 0 nor 1")),
                },
                nonce: f.nonce()?,
            }
        }
        TAG_PHASE => MetaRecord::Phase(match f.u8()? {
            0 => Phase::Single,
            1 => Phase::Split,
            2 => Phase::BackedUp,
            3 => Phase::Retired,
            p => return Err(format!("unknown phase code {p}")),
        }),
        TAG_INSERT => MetaRecord::Insert {
            block: f.u64()?,
            slot: f.u32()?,
        },
        TAG_REMOVE => MetaRecord::Remove { block: f.u64()? },
        TAG_CLEAR => MetaRecord::Clear,
        TAG_DIRTY => MetaRecord::Dirty { block: f.u64()? },
        TAG_DIVERGED => MetaRecord::Diverged { block: f.u64()? },
        TAG_UNSUMMED => MetaRecord::Unsummed {
            image: match f.u8()? {
                0 => Image::A,
                1 => Image::B,
                i => return Err(format!("unknown image code {i}")),
            },
            block: f.u64()?,
            logical: f.u64()?,
        },
        TAG_FLUSH_MARK => MetaRecord::FlushMark,
        TAG_CLEAN => MetaRecord::Clean,
        TAG_ARCHIVE_COMPLETE => MetaRecord::ArchiveComplete,
        TAG_OPENING => MetaRecord::Opening {
            generation: f.u64()?,
            nonce: f.nonce()?,
        },
        TAG_TABLE => {
            let next_fresh = f.u32()?;
            let peak = f.u32()?;
            let n = f.count(4)?;
            let free = (0..n).map(|_| f.u32()).collect::<Result<_, _>>()?;
            let n = f.count(12)?;
            let entries = (0..n)
                .map(|_| Ok((f.u64()?, f.u32()?)))
                .collect::<Result<_, String>>()?;
            MetaRecord::Table {
                next_fresh,
                peak,
                free,
                entries,
            }
        }
        t => return Err(format!("unknown record type {t}")),
    };
    f.done(tag)?;
    Ok(rec)
}

/// What [`decode`] found: the records with their byte offsets, and how many bytes of
/// the file they cover (less than its length when a torn append was dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub records: Vec<(u64, MetaRecord)>,
    pub valid_len: u64,
    /// Bytes of the input (`valid_len` or more).
    pub file_len: u64,
}

/// Decodes a whole metadata file. `path` only names the file in errors.
///
/// Without the length a completed sync made durable, only a damaged last frame that
/// an append can leave (at most one record long) is taken for a torn tail; anything
/// else that does not decode is a [`MetaError`] naming the byte offset of its frame.
pub fn decode(path: &str, bytes: &[u8]) -> Result<Decoded, MetaError> {
    decode_past(path, bytes, None)
}

/// Decodes a whole metadata file whose first `durable_len` bytes a completed sync made
/// durable (the superblock's length, [`crate::superblock`]): from the first frame at or
/// past that length that does not decode, whatever its bytes (zeros an extended but
/// unwritten file reads as, garbage, a cut record), the rest is a torn tail, dropped
/// (`valid_len` ends before it). A frame that starts before `durable_len` and does not
/// decode is a [`MetaError`] naming its byte offset, as in [`decode`]. `None` is
/// [`decode`].
pub fn decode_past(
    path: &str,
    bytes: &[u8],
    durable_len: Option<u64>,
) -> Result<Decoded, MetaError> {
    if bytes.len() < MAGIC.len() {
        return Err(MetaError::at(
            path,
            0,
            "file too short for the metadata header",
        ));
    }
    if &bytes[..MAGIC.len()] == MAGIC_V1 {
        return Err(MetaError::at(
            path,
            0,
            "made by an older owm (metadata format 1, without a device identity): \
             this version cannot check that the images belong to it; copy the volume \
             out with the older version (e.g. backup_a, detach_b) and adopt it as a new device",
        ));
    }
    if &bytes[..MAGIC.len()] != MAGIC {
        return Err(MetaError::at(
            path,
            0,
            "not an owm metadata file (bad magic)",
        ));
    }
    let mut at = MAGIC.len();
    let mut records = Vec::new();
    while at < bytes.len() {
        let left = bytes.len() - at;
        let past_durable = durable_len.is_some_and(|d| at as u64 >= d);
        let torn = past_durable || left <= APPEND_FRAME_BYTES_MAX;
        if left < 8 {
            if torn {
                break;
            }
            return Err(MetaError::at(path, at as u64, "truncated frame header"));
        }
        let len_bytes: [u8; 4] = bytes[at..at + 4].try_into().expect("4 bytes");
        let crc = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().expect("4 bytes"));
        let len = u32::from_le_bytes(len_bytes) as usize;
        if len > PAYLOAD_BYTES_MAX || left - 8 < len {
            if torn {
                break;
            }
            return Err(MetaError::at(
                path,
                at as u64,
                format!("frame of {len} bytes runs past the end of the file"),
            ));
        }
        let payload = &bytes[at + 8..at + 8 + len];
        let mut h = crc32fast::Hasher::new();
        h.update(&len_bytes);
        h.update(payload);
        if h.finalize() != crc {
            if past_durable || (torn && at + 8 + len == bytes.len()) {
                break;
            }
            return Err(MetaError::at(path, at as u64, "checksum mismatch"));
        }
        let rec = match decode_payload(payload) {
            Ok(rec) => rec,
            Err(_) if past_durable => break,
            Err(r) => return Err(MetaError::at(path, at as u64, r)),
        };
        records.push((at as u64, rec));
        at += 8 + len;
    }
    Ok(Decoded {
        records,
        valid_len: at as u64,
        file_len: bytes.len() as u64,
    })
}

/// Where a device writes its metadata records.
pub trait Journal: Send {
    /// Appends one record (not yet durable).
    fn append(&mut self, record: &MetaRecord) -> Result<(), MetaError>;
    /// Makes every appended record durable.
    fn sync(&mut self) -> Result<(), MetaError>;
    /// Replaces the whole journal with `records`, atomically.
    fn compact(&mut self, records: &[MetaRecord]) -> Result<(), MetaError>;
    /// The wall time of the syncs since the last call, `(the journal's fdatasync, the
    /// superblock's write and fdatasync)` ([`crate::latency`]), for a journal that
    /// times them (a file); `None` otherwise.
    fn take_sync_times(&self, _samples: bool) -> Option<crate::latency::JournalSyncTimes> {
        None
    }
}

/// The journal of a file-backed device: a metadata file beside its images.
#[derive(Debug)]
pub struct FileJournal {
    path: PathBuf,
    file: File,
    /// The superblock's write sequence ([`crate::superblock`]).
    superblock_seq: u64,
    /// The device id every superblock write records (the header's).
    device_id: [u8; 16],
    /// The generation every superblock write records (the header's).
    generation: u64,
    /// The nonce every superblock write records (the header's).
    nonce: u64,
    /// The superblock is of an earlier format: its next write rewrites it whole.
    superblock_old: bool,
    /// The wall time of each sync's two halves ([`crate::latency`]).
    fdatasync_times: crate::latency::LatencyLog,
    superblock_times: crate::latency::LatencyLog,
    /// Tests of an open cut short: the next compaction stops after its superblock
    /// write (0) or after its rename (1).
    #[cfg(test)]
    pub(crate) cut_compaction: Option<u32>,
}

impl FileJournal {
    /// Writes a fresh journal holding `records` at `path` (atomically) and opens it;
    /// its superblock records the device id of the header (`records[0]`; all zero
    /// without one).
    pub fn create(path: &Path, records: &[MetaRecord]) -> Result<Self, MetaError> {
        let (device_id, generation, nonce) = header_identity(records);
        // A superblock of an earlier device at this path no longer applies.
        let copy = crate::superblock::Superblock::current(1, device_id, generation, nonce, 0);
        crate::superblock::rewrite(path, &copy)?;
        write_atomically(path, records)?;
        let mut journal = Self::open_append(path, generation, nonce)?;
        let len = journal.len()?;
        journal.record_durable_len(len)?;
        Ok(journal)
    }

    /// Reads and decodes the journal at `path`; drops a torn tail from the file.
    pub fn load(path: &Path) -> Result<Decoded, MetaError> {
        let decoded = Self::read(path)?;
        Self::drop_torn_tail(path, &decoded)?;
        Ok(decoded)
    }

    /// Reads and decodes the journal at `path`, changing nothing. Bytes past the length
    /// its superblock records as durable are a torn tail whatever they hold
    /// ([`decode_past`]), when that superblock is this journal's (the header's device id,
    /// its generation or a later one); otherwise only a damaged last frame is
    /// ([`decode`]).
    pub fn read(path: &Path) -> Result<Decoded, MetaError> {
        let bytes = crate::regular::read(path).map_err(|e| MetaError::io(path, "read", e))?;
        let name = path.shown().to_string();
        let mut decoded = match decode(&name, &bytes) {
            Ok(decoded) => decoded,
            Err(e) => {
                let Ok(sb) = crate::superblock::read(path) else {
                    return Err(e);
                };
                // The header, read as far as the frames decode: whose superblock this is.
                let Ok(head) = decode_past(&name, &bytes, Some(0)) else {
                    return Err(e);
                };
                let mismatch = match head.records.first() {
                    Some((
                        _,
                        MetaRecord::Header {
                            device_id,
                            generation,
                            ..
                        },
                    )) => {
                        use crate::identity::{id_text, Mismatch};
                        if *device_id != sb.device_id {
                            let m = Mismatch::Foreign {
                                expected: id_text(device_id),
                                found: id_text(&sb.device_id),
                            };
                            Some(format!("does not belong to this device: {m}"))
                        } else {
                            sb.generation.filter(|&g| g < *generation).map(|g| {
                                Mismatch::Stale {
                                    expected_generation: *generation,
                                    found_generation: g,
                                }
                                .to_string()
                            })
                        }
                    }
                    _ => return Err(e),
                };
                if let Some(mismatch) = mismatch {
                    // The superblock, not the journal, is what is wrong: name it (the
                    // journal's bytes past its length are a torn tail only by a
                    // superblock of its own).
                    return Err(MetaError {
                        path: crate::superblock::path_of(path).shown().to_string(),
                        offset: None,
                        reason: format!(
                            "{mismatch} (so it cannot say whether {name}'s bytes from {} on, \
                             which do not decode: {}, are a torn tail); a device's files are \
                             moved or copied together",
                            sb.durable_len, e.reason
                        ),
                        os_error: None,
                    });
                }
                if e.offset.is_none_or(|at| at < sb.durable_len) {
                    return Err(e);
                }
                match decode_past(&name, &bytes, Some(sb.durable_len)) {
                    Ok(past) => past,
                    Err(_) => return Err(e),
                }
            }
        };
        decoded.file_len = bytes.len() as u64;
        Ok(decoded)
    }

    /// Cuts the torn tail [`FileJournal::read`] found (if any) from the file.
    pub fn drop_torn_tail(path: &Path, decoded: &Decoded) -> Result<(), MetaError> {
        if decoded.valid_len < decoded.file_len {
            let f = crate::regular::open(path, OpenOptions::new().write(true))
                .map_err(|e| MetaError::io(path, "open", e))?;
            f.set_len(decoded.valid_len)
                .map_err(|e| MetaError::io(path, "truncate torn tail", e))?;
        }
        Ok(())
    }

    /// Opens an existing journal, whose header records `generation` and `nonce`, for
    /// appending; its superblock's writes keep the device id it records and record
    /// `generation` and `nonce`.
    pub fn open_append(path: &Path, generation: u64, nonce: u64) -> Result<Self, MetaError> {
        let file = crate::regular::open(path, OpenOptions::new().append(true))
            .map_err(|e| MetaError::io(path, "open", e))?;
        let sb = crate::superblock::read(path)?;
        Ok(FileJournal {
            path: path.to_path_buf(),
            file,
            superblock_seq: sb.seq,
            device_id: sb.device_id,
            generation,
            nonce,
            superblock_old: sb.format < crate::superblock::FORMAT,
            fdatasync_times: Default::default(),
            superblock_times: Default::default(),
            #[cfg(test)]
            cut_compaction: None,
        })
    }

    /// Writes the superblock recording `durable_len`.
    fn record_durable_len(&mut self, durable_len: u64) -> Result<(), MetaError> {
        self.superblock_seq += 1;
        let copy = crate::superblock::Superblock::current(
            self.superblock_seq,
            self.device_id,
            self.generation,
            self.nonce,
            durable_len,
        );
        if self.superblock_old {
            crate::superblock::rewrite(&self.path, &copy)?;
            self.superblock_old = false;
            return Ok(());
        }
        crate::superblock::write(&self.path, &copy)
    }

    #[cfg(test)]
    fn cut(&self, step: u32) -> Result<(), MetaError> {
        if self.cut_compaction == Some(step) {
            return Err(MetaError::io(
                &self.path,
                "compact",
                std::io::Error::other(format!("cut after step {step} of a compaction")),
            ));
        }
        Ok(())
    }

    fn len(&self) -> Result<u64, MetaError> {
        Ok(self
            .file
            .metadata()
            .map_err(|e| MetaError::io(&self.path, "stat", e))?
            .len())
    }
}

impl Journal for FileJournal {
    fn append(&mut self, record: &MetaRecord) -> Result<(), MetaError> {
        self.file
            .write_all(&record.encode())
            .map_err(|e| MetaError::io(&self.path, "append", e))
    }
    fn sync(&mut self) -> Result<(), MetaError> {
        self.fdatasync_times
            .time(|| self.file.sync_data())
            .map_err(|e| MetaError::io(&self.path, "fsync", e))?;
        // Every synced byte may be relied on (a flush, or a barrier of the write
        // order): the superblock records the length, so a later cut is refused.
        let len = self.len()?;
        let start = std::time::Instant::now();
        let recorded = self.record_durable_len(len);
        self.superblock_times.record(start.elapsed());
        recorded
    }
    fn compact(&mut self, records: &[MetaRecord]) -> Result<(), MetaError> {
        // Unknown while the file is replaced (recorded for the new header's
        // generation, which a crash before the rename leaves the old header below);
        // then the new file's length.
        let (_, generation, nonce) = header_identity(records);
        self.generation = generation;
        self.nonce = nonce;
        self.record_durable_len(0)?;
        #[cfg(test)]
        self.cut(0)?;
        write_atomically(&self.path, records)?;
        #[cfg(test)]
        self.cut(1)?;
        let times = (
            std::mem::take(&mut self.fdatasync_times),
            std::mem::take(&mut self.superblock_times),
        );
        *self = Self::open_append(&self.path, generation, nonce)?;
        (self.fdatasync_times, self.superblock_times) = times;
        let len = self.len()?;
        self.record_durable_len(len)
    }
    fn take_sync_times(&self, samples: bool) -> Option<crate::latency::JournalSyncTimes> {
        Some((
            self.fdatasync_times.take(samples),
            self.superblock_times.take(samples),
        ))
    }
}

/// The device id, generation and nonce of the header `records` begin with (all zero
/// without one).
fn header_identity(records: &[MetaRecord]) -> ([u8; 16], u64, u64) {
    match records.first() {
        Some(MetaRecord::Header {
            device_id,
            generation,
            nonce,
            ..
        }) => (*device_id, *generation, *nonce),
        _ => ([0; 16], 0, 0),
    }
}

/// Writes `records` as a complete metadata file, atomically
/// ([`crate::atomic::write_atomic`]): a reader sees either the old file or the new one.
fn write_atomically(path: &Path, records: &[MetaRecord]) -> Result<(), MetaError> {
    let mut bytes = MAGIC.to_vec();
    for r in records {
        bytes.extend_from_slice(&r.encode());
    }
    crate::atomic::write_atomic(path, &bytes).map_err(|e| MetaError::io(path, "replace", e))
}

/// A journal held in memory with a disk's durability (ARCHITECTURE.md, "Durability
/// model"): appended frames are volatile until [`Journal::sync`]; a crash keeps only a
/// prefix of them, possibly cutting the last one short (a torn append, which
/// [`decode`] drops); a compaction replaces the whole journal atomically and durably,
/// as the file journal's rename does. Cloning gives another handle to the same
/// journal, so a test or the simulator keeps one while the device owns the other.
#[derive(Debug, Clone, Default)]
pub struct MemJournal {
    state: std::sync::Arc<std::sync::Mutex<MemJournalState>>,
}

#[derive(Debug, Default)]
struct MemJournalState {
    durable: Vec<u8>,
    pending: Vec<u8>,
    switch: Option<crate::store::CrashSwitch>,
}

/// The name a memory journal's errors carry.
pub const MEM_JOURNAL_NAME: &str = "memory journal";

impl MemJournal {
    /// An empty journal (a device writes its first snapshot into it).
    pub fn new() -> Self {
        Self::default()
    }

    /// A journal whose durable contents are `bytes` (e.g. a metadata file's).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        let j = Self::default();
        j.lock().durable = bytes;
        j
    }

    /// Arms (or disarms) a crash switch shared with the device's stores: appends,
    /// syncs and compactions count as operations.
    pub fn set_switch(&self, switch: Option<crate::store::CrashSwitch>) {
        self.lock().switch = switch;
    }

    /// What survives a crash now: the synced bytes.
    pub fn durable_bytes(&self) -> Vec<u8> {
        self.lock().durable.clone()
    }

    /// Drops durable bytes past `len` (a torn append found by recovery).
    pub(crate) fn truncate_durable(&self, len: usize) {
        self.lock().durable.truncate(len);
    }

    /// Bytes appended and not yet synced.
    pub fn pending_len(&self) -> usize {
        self.lock().pending.len()
    }

    /// The power fails: of the unsynced bytes, the first `keep(pending_len)` survive
    /// (clamped; a cut inside a frame is a torn append). The journal then works again,
    /// disarmed, holding only durable bytes.
    pub fn crash(&self, keep: impl FnOnce(usize) -> usize) {
        let mut s = self.lock();
        let pending = std::mem::take(&mut s.pending);
        let n = keep(pending.len()).min(pending.len());
        s.durable.extend_from_slice(&pending[..n]);
        s.switch = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemJournalState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn refused(what: &str) -> MetaError {
        MetaError {
            path: MEM_JOURNAL_NAME.into(),
            offset: None,
            os_error: None,
            reason: format!("{what} cut by power loss"),
        }
    }
}

impl Journal for MemJournal {
    fn append(&mut self, record: &MetaRecord) -> Result<(), MetaError> {
        let mut s = self.lock();
        let power = s.switch.as_ref().map_or(Power::On, |w| w.next_op());
        match power {
            Power::On => s.pending.extend_from_slice(&record.encode()),
            Power::Failing => {
                // Half-written: a crash may keep any prefix of it.
                s.pending.extend_from_slice(&record.encode());
                return Err(Self::refused("append"));
            }
            Power::Off => return Err(Self::refused("append")),
        }
        Ok(())
    }
    fn sync(&mut self) -> Result<(), MetaError> {
        let mut s = self.lock();
        if s.switch.as_ref().map_or(Power::On, |w| w.next_op()) != Power::On {
            return Err(Self::refused("sync"));
        }
        let pending = std::mem::take(&mut s.pending);
        s.durable.extend_from_slice(&pending);
        Ok(())
    }
    fn compact(&mut self, records: &[MetaRecord]) -> Result<(), MetaError> {
        let mut s = self.lock();
        if s.switch.as_ref().map_or(Power::On, |w| w.next_op()) != Power::On {
            return Err(Self::refused("compaction"));
        }
        let mut bytes = MAGIC.to_vec();
        for r in records {
            bytes.extend_from_slice(&r.encode());
        }
        s.durable = bytes;
        s.pending.clear();
        Ok(())
    }
}
