//! The file-backed device: two image files (raw blocks, then a 512-byte label that
//! binds the file to its device, [`crate::identity`]) and a metadata journal beside
//! them.
//!
//! Closing and reopening restores a split device exactly (phase, lookup table, data),
//! because every table or phase change is journaled after the data it makes visible
//! and before the write is acknowledged.

use crate::shown::ShowName as _;
use std::path::{Path, PathBuf};

use crate::device::{Device, DeviceConfig};
use crate::error::{Error, Result};
use crate::identity::{self, Identity, Label, Mismatch};
use crate::meta::{FileJournal, Journal, MetaRecord};
use crate::recover::{header, made_for};
pub use crate::recover::{replay, Restored};
use crate::store::{BlockStore, FileStore, StoreError};
use crate::{Image, Variant, Vlun};

/// Where a file-backed device keeps its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicePaths {
    pub image_a: PathBuf,
    pub image_b: PathBuf,
    pub meta: PathBuf,
}

impl DevicePaths {
    /// `image-a.img`, `image-b.img` and `device.owm` in `dir`.
    pub fn in_dir(dir: impl AsRef<Path>) -> Self {
        let dir = dir.as_ref();
        DevicePaths {
            image_a: dir.join("image-a.img"),
            image_b: dir.join("image-b.img"),
            meta: dir.join("device.owm"),
        }
    }
}

/// The name a new device made over an old one in the same directory (`owm serve
/// --create`) keeps the old device's files under, in a directory of its own
/// (`.owm-replaced-XXXXXX`), until the new device's server serves. Once it serves
/// (both its sockets bound), the server renames that one directory to
/// [`DISCARD_PREFIX`] and removes it. A `.owm-replaced-*` directory found later is
/// therefore a device whose replacement never served: `owm serve` refuses to start
/// until it is moved back or removed, and never removes it itself.
pub const REPLACED_PREFIX: &str = ".owm-replaced-";

/// The name a [`REPLACED_PREFIX`] directory takes once the new device served: the old
/// device is to be removed. A `.owm-discard-*` directory left behind (a server killed
/// while removing it) is removed by the next server once it serves.
pub const DISCARD_PREFIX: &str = ".owm-discard-";

/// The file a completed detach of VLUN B (`owm device detach`, through `owm serve`)
/// leaves in the device directory `dir`: `detached.json`, a JSON object whose `image`
/// is the path of the image VLUN B lives on in, and `device` the id of the device that
/// ended ([`Identity::id_text`]). The device ended there: the directory
/// is never served again ([`refuse_detached`]); creating a new device there removes it.
pub fn detach_marker(dir: &Path) -> PathBuf {
    dir.join("detached.json")
}

/// Refuses a device directory whose device was detached ([`detach_marker`]): the
/// error names the marker file and the image VLUN B was detached to. A marker that
/// records another device's id (`device`, [`Identity::id_text`]) than the metadata
/// header in `dir` is refused as not this device's record, and a damaged marker (not
/// a regular file, unreadable, not a JSON object, or no `image` path in it) as a
/// damaged record saying what is wrong; neither suggests `--create` (which would
/// overwrite this device's images while it is unknown whether VLUN B still lives on
/// them).
pub fn refuse_detached(dir: &Path) -> std::result::Result<(), String> {
    let marker = detach_marker(dir);
    let Ok(kind) = std::fs::symlink_metadata(&marker) else {
        return Ok(());
    };
    let damaged = |what: String| {
        format!(
            "{}: a damaged detach record ({what}): this device may have ended at a \
             detach of VLUN B, so it is not served; find where VLUN B went, and remove \
             this file only if this device was never detached (--create would overwrite \
             this device's images)",
            marker.shown()
        )
    };
    if !std::fs::metadata(&marker).is_ok_and(|m| m.is_file()) {
        let what = if kind.is_symlink() {
            "a symbolic link to no regular file"
        } else if kind.is_dir() {
            "a directory"
        } else {
            "not a regular file"
        };
        return Err(damaged(what.into()));
    }
    let text = crate::regular::read_to_string(&marker)
        .map_err(|e| damaged(format!("cannot be read: {e}")))?;
    let record = serde_json::from_str::<serde_json::Value>(&text)
        .map_err(|e| damaged(format!("not JSON: {e}")))?;
    if !record.is_object() {
        return Err(damaged("not a JSON object".into()));
    }
    let record = Some(record);
    let field = |key: &str| {
        record
            .as_ref()
            .and_then(|v| v.get(key).and_then(|i| i.as_str()).map(str::to_owned))
    };
    let ours = FileJournal::read(&DevicePaths::in_dir(dir).meta)
        .ok()
        .and_then(|d| match d.records.first() {
            Some((_, MetaRecord::Header { device_id, .. })) => Some(identity::id_text(device_id)),
            _ => None,
        });
    if let (Some(theirs), Some(ours)) = (field("device"), ours) {
        if theirs != ours {
            return Err(format!(
                "{}: records the detach of device {theirs}, not of this device {ours} \
                 (device.owm): not this device's record; remove it if this device was not \
                 detached (--create would overwrite this device's images)",
                marker.shown()
            ));
        }
    }
    let Some(image) = field("image") else {
        return Err(damaged("no `image` path in it".into()));
    };
    Err(format!(
        "{}: this device was detached (VLUN B now lives in {image}) and has ended; \
         serve that image another way, or make a new device here with --create",
        marker.shown()
    ))
}

/// The file a completed backup of VLUN A (`owm device backup`, through `owm serve`)
/// leaves in the device directory `dir`: `archive.json`, the record that an archive of
/// the current cycle's VLUN A is whole, so that a restarted server still lets VLUN A be
/// retired ([`ArchiveRecord`]).
pub fn archive_marker(dir: &Path) -> PathBuf {
    dir.join("archive.json")
}

/// What [`archive_marker`] records: a JSON object `{"device": ID, "path": P, "bytes":
/// N, "file": {"dev": D, "ino": I, "mtime_ns": T}}`, the device's id
/// ([`Identity::id_text`]), the archive file's absolute path, its length in bytes (the
/// volume's: `volume_blocks × block_size`) and, when known, the file as the backup
/// left it ([`FileStamp`]; absent in records of older owm versions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveRecord {
    pub path: PathBuf,
    pub bytes: u64,
    pub file: Option<FileStamp>,
}

/// A file as one moment left it: its device and inode numbers, and its modification
/// time in nanoseconds since the Unix epoch. Another file put at its path (a copy, a
/// link to another file) has another inode; the same file written since has another
/// modification time: either is no longer what was recorded, whatever its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    pub dev: u64,
    pub ino: u64,
    pub mtime_ns: i128,
}

impl FileStamp {
    /// The stamp of the file `m` describes.
    pub fn of(m: &std::fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        FileStamp {
            dev: m.dev(),
            ino: m.ino(),
            mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
        }
    }

    /// How the file `m` describes differs from this stamp, in words; `None` when it
    /// is the same file, unmodified.
    pub fn changed(&self, m: &std::fs::Metadata) -> Option<&'static str> {
        let now = FileStamp::of(m);
        if (now.dev, now.ino) != (self.dev, self.ino) {
            Some("another file is at its path (replaced, or a link to another file)")
        } else if now.mtime_ns != self.mtime_ns {
            Some("it was modified after the backup wrote it")
        } else {
            None
        }
    }
}

/// Writes `record` as `dir`'s [`archive_marker`] for the device `who`, atomically
/// ([`crate::atomic::write_atomic`]).
///
/// # Errors
/// A message naming the file and the I/O error.
pub fn write_archive_record(
    dir: &Path,
    who: &Identity,
    record: &ArchiveRecord,
) -> std::result::Result<(), String> {
    let path = archive_marker(dir);
    let mut text = serde_json::json!({
        "device": who.id_text(),
        "path": record.path.display().to_string(),
        "bytes": record.bytes,
    });
    if let Some(f) = record.file {
        // The time as a string: JSON readers that hold numbers as doubles keep it whole.
        text["file"] = serde_json::json!({
            "dev": f.dev,
            "ino": f.ino,
            "mtime_ns": f.mtime_ns.to_string(),
        });
    }
    crate::atomic::write_atomic(&path, text.to_string().as_bytes())
        .map_err(|e| format!("cannot record the archive in {}: {e}", path.shown()))
}

/// Reads `dir`'s [`archive_marker`] for the device `who`: `None` when there is none;
/// the record when it is whole and this device's.
///
/// # Errors
/// A message naming the file and what is wrong, ending with what to do: not a regular
/// file (a directory, a pipe: it is not read), unreadable, not JSON, a key missing or
/// of the wrong type (`device`, `path`, `bytes`), no device id (written before records
/// carried one), another device's id, a relative path, or a length other than the
/// volume's. A damaged or foreign record is never taken for this device's archive nor
/// dropped silently.
pub fn read_archive_record(
    dir: &Path,
    who: &Identity,
) -> std::result::Result<Option<ArchiveRecord>, String> {
    let path = archive_marker(dir);
    let bad = |what: String| {
        format!(
            "{}: {what}; it cannot stand for a backup of this device (remove it, then \
             `owm device backup` again records one)",
            path.shown()
        )
    };
    match std::fs::metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(bad(format!("cannot stat: {e}"))),
        Ok(m) if m.is_dir() => return Err(bad("is a directory, not the archive record".into())),
        Ok(m) if !m.is_file() => {
            return Err(bad(
                "not a regular file (a pipe, device or socket), not the archive record".into(),
            ))
        }
        Ok(_) => {}
    }
    let text =
        crate::regular::read_to_string(&path).map_err(|e| bad(format!("cannot read: {e}")))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("damaged: not JSON: {e}")))?;
    let field = |key: &str| {
        v.get(key)
            .ok_or_else(|| bad(format!("damaged: no `{key}` key")))
    };
    let device = match v.get("device") {
        None => {
            return Err(bad(
                "names no device (`device` key missing: written by an older owm, or not by \
                 owm), so it may be another device's"
                    .into(),
            ))
        }
        Some(d) => d
            .as_str()
            .ok_or_else(|| bad("damaged: `device` is not a string".into()))?,
    };
    let ours = who.id_text();
    if device != ours {
        return Err(bad(format!(
            "belongs to device {device}, not to this device {ours}"
        )));
    }
    let archive = field("path")?
        .as_str()
        .ok_or_else(|| bad("damaged: `path` is not a string".into()))?;
    let archive = PathBuf::from(archive);
    if !archive.is_absolute() {
        return Err(bad(format!(
            "damaged: `path` {} is not an absolute path",
            archive.shown()
        )));
    }
    let bytes = field("bytes")?
        .as_u64()
        .ok_or_else(|| bad("damaged: `bytes` is not a whole number".into()))?;
    let volume = who.geometry.volume_blocks * who.geometry.block_size as u64;
    if bytes != volume {
        return Err(bad(format!(
            "damaged: `bytes` {bytes} is not the volume's {volume} bytes"
        )));
    }
    let file = match v.get("file") {
        None => None,
        Some(f) => {
            let num = |key: &str| f.get(key).and_then(serde_json::Value::as_u64);
            let mtime = f
                .get("mtime_ns")
                .and_then(serde_json::Value::as_str)
                .and_then(|t| t.parse::<i128>().ok());
            match (num("dev"), num("ino"), mtime) {
                (Some(dev), Some(ino), Some(mtime_ns)) => Some(FileStamp { dev, ino, mtime_ns }),
                _ => {
                    return Err(bad(
                        "damaged: `file` is not {\"dev\", \"ino\", \"mtime_ns\"} (two whole \
                         numbers and a whole number as a string)"
                            .into(),
                    ))
                }
            }
        }
    };
    Ok(Some(ArchiveRecord {
        path: archive,
        bytes,
        file,
    }))
}

/// The geometry of a new device (also [`crate::Geometry`]).
pub use crate::variant::Geometry;

/// Creates a device on new zero-filled image files (overwriting any at those paths),
/// with a new identity: a random device id, generation 0, a random nonce, recorded in the metadata
/// header and in a label at the end of each image file ([`crate::identity`]).
///
/// Errors: [`crate::StoreError`] naming the image file (cannot create, locked by an
/// open device, invalid block size), [`crate::Error::Geometry`] (also a block size past
/// `u32::MAX` bytes, more volume blocks than `table::VOLUME_BLOCKS_MAX` or more
/// data-area slots than `table::AREA_SLOTS_MAX`, refused before any file is made), a
/// [`crate::meta::MetaError`] writing the metadata file.
pub fn create(paths: &DevicePaths, config: DeviceConfig, g: Geometry) -> Result<Device<FileStore>> {
    create_with(paths, config, g, |store| store)
}

/// Like [`create`], with each image file wrapped by `wrap` before the device takes it
/// (e.g. in a [`crate::FaultyStore`] to inject I/O errors into a file-backed device).
pub fn create_with<S: BlockStore>(
    paths: &DevicePaths,
    config: DeviceConfig,
    g: Geometry,
    wrap: impl Fn(FileStore) -> S,
) -> Result<Device<S>> {
    // The metadata header and the image labels keep the block size in 32 bits, the
    // volume within `table::VOLUME_BLOCKS_MAX` blocks and the data area's slots below
    // `table::AREA_SLOTS_MAX`: a geometry past them is refused before any file is made,
    // not written truncated and refused at every open.
    let too_large = if u32::try_from(g.block_size).is_err() {
        Some(format!(
            "block size {} bytes is more than the largest a device records ({} bytes)",
            g.block_size,
            u32::MAX
        ))
    } else if g.volume_blocks > crate::table::VOLUME_BLOCKS_MAX {
        Some(format!(
            "{} volume blocks is more than the largest volume a device records ({} blocks)",
            g.volume_blocks,
            crate::table::VOLUME_BLOCKS_MAX
        ))
    } else if config.variant != Variant::WriteMirroring
        && g.area_slots > crate::table::AREA_SLOTS_MAX
    {
        Some(format!(
            "{} data-area slots is more than the largest a device records ({})",
            g.area_slots,
            crate::table::AREA_SLOTS_MAX
        ))
    } else {
        None
    };
    if let Some(reason) = too_large {
        return Err(crate::Error::Geometry {
            variant: config.variant,
            reason,
        });
    }
    let area = if config.variant == Variant::WriteMirroring {
        0
    } else {
        g.area_slots
    };
    let (a, b) = config.image_blocks(g.block_size, g.volume_blocks, area);
    let image_a = FileStore::create(&paths.image_a, g.block_size, a)?;
    let image_b = FileStore::create(&paths.image_b, g.block_size, b)?;
    let device_id = identity::new_device_id().map_err(|source| StoreError::Io {
        store: paths.meta.shown().to_string(),
        op: "draw a device id",
        block: None,
        source,
    })?;
    let nonce = identity::new_nonce().map_err(|source| StoreError::Io {
        store: paths.meta.shown().to_string(),
        op: "draw a nonce",
        block: None,
        source,
    })?;
    let id = Identity {
        device_id,
        generation: 0,
        nonce,
        variant: config.variant,
        geometry: Geometry {
            area_slots: area,
            ..g
        },
        integrity: config.integrity,
    };
    label(&image_a, Image::A, &id)?;
    label(&image_b, Image::B, &id)?;
    let mut device = Device::new(config, wrap(image_a), wrap(image_b))?;
    // Two new zero-filled images: in sync (their labels lie past their blocks).
    device.images_in_sync()?;
    device.set_identity(id.device_id, id.generation, id.nonce);
    let journal = FileJournal::create(&paths.meta, &device.snapshot_records())?;
    device.set_journal(Box::new(journal));
    Ok(device)
}

/// Writes image `image`'s label for `id` at the end of `store`'s file.
fn label(store: &FileStore, image: Image, id: &Identity) -> Result<()> {
    let l = Label {
        identity: *id,
        image,
        image_blocks: store.block_count(),
    };
    Ok(identity::write_label(store.file(), store.path(), &l)?)
}

/// `DIR/serving.json`: `{"device": ID}`, written (and synced) when the server opens the
/// device and removed after its final flush on a clean stop. Found at an open with this
/// device's id, the files were not closed cleanly: the server was killed or crashed, or
/// the files were copied while it served them; the open says so and recovers from the
/// journal as always. A leftover of another device (a `--create` over it) is ignored.
pub fn serving_marker(dir: &Path) -> PathBuf {
    dir.join("serving.json")
}

/// Whether `DIR/serving.json` ([`serving_marker`]) says the device `who` was left
/// served: it is there and records `who`, or it is there but records no device
/// (damaged, cut short as a killed server wrote it, unreadable): a clean stop removes
/// it, so a marker that says nothing was not one. Only a marker that names another device (a `--create` over it) is ignored.
pub fn left_served(dir: &Path, who: &Identity) -> bool {
    let text = match crate::regular::read_to_string(&serving_marker(dir)) {
        Ok(text) => text,
        Err(e) => return e.kind() != std::io::ErrorKind::NotFound,
    };
    serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("device")?.as_str().map(str::to_string))
        .is_none_or(|device| device == who.id_text())
}

/// Reopens a device from its files, replaying the metadata journal; then compacts it.
///
/// Checks, in order: the journal decodes (else [`crate::meta::MetaError`] with the
/// byte offset; a metadata file of the first format, without identity, is refused so);
/// its superblock `device.owm.super` is there with a valid copy of this format (else
/// [`crate::meta::MetaError`] naming the superblock: missing, damaged, or made by an
/// older version); the journal was made for `config.variant`; both image files are
/// there and not held by another open device; the metadata header, the superblock and
/// both images' labels name one device (else [`crate::Error::Identity`] naming the
/// file of another device, [`Mismatch::Foreign`]: "belongs to device X, not to device
/// Y", Y the device the other files agree on; or [`crate::Error::MixedDevices`]
/// naming each file's device when which is this device cannot be told); the journal's
/// whole records reach the length the superblock records (else
/// [`crate::meta::MetaError`] naming the metadata file cut after a completed flush,
/// [`crate::superblock`]); each image file's label names this image, this layout and
/// generation and the file has its length (else [`crate::Error::Identity`] naming the
/// file that does not belong and why: images A and B swapped, resized, stale,
/// unlabelled; metadata that both images' labels show to be from before a completed
/// open is named as the file that does not belong); the superblock and both labels,
/// where they carry the metadata's generation (or that of an open it recorded), carry
/// its nonce too (else [`Mismatch::OtherCopy`] naming the file of another copy of the
/// device: the metadata file when both images agree against it, `check_copies`);
/// every journaled step is one the device could have taken.
///
/// Then the generation advances and a new nonce is drawn ([`identity::new_nonce`]), in
/// this order: the metadata records the open to the next generation with that nonce
/// ([`crate::meta::MetaRecord::Opening`], synced), both labels are rewritten, the
/// compaction writes the superblock and then the header with them. So an image or
/// metadata file kept from before this open is stale at the next, a file of a copy of
/// the device directory served apart carries another nonce, and an open cut at any of
/// these steps reopens (to the generation and nonce it had begun: while the open is
/// recorded, a file carries the header's or the open's, never another). Only the
/// labels (one sector each), the superblock and the metadata are rewritten, never
/// image data. A retire that was cut short is finished.
pub fn open(paths: &DevicePaths, config: DeviceConfig) -> Result<Device<FileStore>> {
    open_with(paths, config, |store| store)
}

/// Like [`open`], with each image file wrapped by `wrap` before the device takes it.
pub fn open_with<S: BlockStore>(
    paths: &DevicePaths,
    config: DeviceConfig,
    wrap: impl Fn(FileStore) -> S,
) -> Result<Device<S>> {
    open_cut(paths, config, wrap, None)
}

/// The steps of an open that change a file, in order, as [`open_cut`] counts them:
/// the torn tail dropped, the open recorded, label A, label B, the compaction's
/// superblock emptied, the compaction's rename.
#[cfg(test)]
pub(crate) const OPEN_STEPS: u32 = 6;

/// [`open_with`], stopped (as a process killed there would be) after `cut` of its
/// file-changing steps when `cut` is `Some` (tests of an open cut short).
fn open_cut<S: BlockStore>(
    paths: &DevicePaths,
    mut config: DeviceConfig,
    wrap: impl Fn(FileStore) -> S,
    cut: Option<u32>,
) -> Result<Device<S>> {
    let name = paths.meta.shown().to_string();
    let stop = |step: u32| -> Result<()> {
        if cut == Some(step) {
            return Err(crate::meta::MetaError {
                path: name.clone(),
                offset: None,
                os_error: None,
                reason: format!("open cut after step {step}"),
            }
            .into());
        }
        Ok(())
    };
    let Examined {
        decoded,
        superblock_copy_damaged,
        image_a,
        image_b,
    } = examine(paths, &mut config)?;
    let torn_tail_bytes = decoded.file_len - decoded.valid_len;
    // Only now, with both images locked and known to belong, may any file change.
    FileJournal::drop_torn_tail(&paths.meta, &decoded)?;
    stop(0)?;
    let mut restored = replay(&name, &decoded.records)?;
    let mut journal = FileJournal::open_append(&paths.meta, restored.generation, restored.nonce)?;
    // An open cut short after it recorded its generation and nonce resumes it: the
    // labels and the superblock may already carry them, and no others are accepted
    // beside this journal.
    let (target, nonce) = match restored.opening {
        Some(o) => o,
        None => {
            let g = restored.generation + 1;
            let nonce = identity::new_nonce().map_err(|source| StoreError::Io {
                store: name.clone(),
                op: "draw a nonce",
                block: None,
                source,
            })?;
            journal.append(&MetaRecord::Opening {
                generation: g,
                nonce,
            })?;
            journal.sync()?;
            (g, nonce)
        }
    };
    stop(1)?;
    restored.generation = target;
    restored.nonce = nonce;
    restored.opening = None;
    let next = identity_of(&restored);
    label(&image_a, Image::A, &next)?;
    stop(2)?;
    label(&image_b, Image::B, &next)?;
    stop(3)?;
    #[cfg(test)]
    if let Some(step) = cut.filter(|&s| s >= 4) {
        journal.cut_compaction = Some(step - 4);
    }
    let mut device = Device::build(config, wrap(image_a), wrap(image_b))?;
    device.recover_from(&name, restored, Box::new(journal))?;
    device.set_file_repairs(torn_tail_bytes, superblock_copy_damaged);
    Ok(device)
}

/// What [`examine`] found: the journal as read and both images, locked and known to
/// belong to it.
struct Examined {
    decoded: crate::meta::Decoded,
    /// The superblock was not two whole copies ([`crate::superblock::read_whole`]).
    superblock_copy_damaged: bool,
    image_a: FileStore,
    image_b: FileStore,
}

/// The checks of [`open`] that change no file, in its order: the journal decodes, its
/// superblock is there and of this format, the journal was made for `config.variant`,
/// both images are there and not locked by another open device, every file names the
/// same device ([`check_owners`]), the journal's whole records reach the length the
/// superblock records, and both images are labelled for it. Sets `config.integrity`
/// to the device's recorded mode.
fn examine(paths: &DevicePaths, config: &mut DeviceConfig) -> Result<Examined> {
    let name = paths.meta.shown().to_string();
    let decoded = FileJournal::read(&paths.meta)?;
    let (sb, superblock_copy_damaged) = crate::superblock::read_whole(&paths.meta)?;
    let check_len = || crate::superblock::check(&paths.meta, decoded.valid_len, sb.durable_len);
    let header = match header(&name, &decoded.records) {
        Ok(h) => h,
        Err(e) => {
            // A journal cut inside its header after a flush: say it was cut.
            check_len()?;
            return Err(e.into());
        }
    };
    made_for(&name, header.variant, config.variant)?;
    let expected = identity_of(&header);
    // The recorded integrity mode is the device's, whatever `config` says.
    config.integrity = header.integrity;
    // The images before the replay: their sizes bound the table the replay builds.
    let (a, b) = config.image_blocks(
        header.block_size,
        header.volume_blocks,
        expected.geometry.area_slots,
    );
    let image_a = FileStore::open_locked(&paths.image_a, header.block_size, a)?;
    let image_b = FileStore::open_locked(&paths.image_b, header.block_size, b)?;
    let labels = [
        identity::read_label(image_a.file(), image_a.path())?,
        identity::read_label(image_b.file(), image_b.path())?,
    ];
    // Whose files these are, before the superblock's length is trusted: another
    // device's superblock would let a cut of this journal through.
    check_owners(
        paths,
        &expected.device_id,
        &sb.device_id,
        [labels[0].0.as_ref(), labels[1].0.as_ref()],
    )?;
    let opening = opening(&decoded.records);
    // A file of another copy of this device (its directory copied and served apart)
    // carries the same id and generation: told by the nonce, before the superblock's
    // length is trusted.
    check_copies(
        paths,
        &expected,
        opening,
        &sb,
        [labels[0].0.as_ref(), labels[1].0.as_ref()],
    )?;
    // A superblock kept from before a later open records a shorter length than a
    // later flush made durable: it is refused, not trusted.
    crate::superblock::check_generation(&paths.meta, &sb, expected.generation)?;
    // An older metadata file put back is refused as stale before its shorter length
    // is read as a cut.
    check_meta_current(paths, &expected, opening, &labels, sb.generation)?;
    check_len()?;
    check_labels(&expected, opening, &labels, [&image_a, &image_b])?;
    Ok(Examined {
        decoded,
        superblock_copy_damaged,
        image_a,
        image_b,
    })
}

/// Checks that the metadata header (`journal`), the superblock (`superblock`) and
/// each image label there is (`labels`: an unlabelled image names no device, and is
/// refused later as such) name one device. When they do not, the device is the one
/// named by more of these files than any other (at least two), or, two against two,
/// the one both images name (the metadata pair `device.owm` and `device.owm.super` of
/// another device beside them); the first file that names another device is refused
/// as [`Mismatch::Foreign`] against it. When no device can be told so (each file of
/// another device, or two files and two devices), [`Error::MixedDevices`] names each
/// file with its device.
fn check_owners(
    paths: &DevicePaths,
    journal: &[u8; 16],
    superblock: &[u8; 16],
    labels: [Option<&Label>; 2],
) -> Result<()> {
    let sb_path = crate::superblock::path_of(&paths.meta);
    let mut owners: Vec<(&Path, [u8; 16])> = vec![(&paths.meta, *journal), (&sb_path, *superblock)];
    for (label, path) in labels.iter().zip([&paths.image_a, &paths.image_b]) {
        if let Some(l) = label {
            owners.push((path, l.identity.device_id));
        }
    }
    if owners.iter().all(|(_, id)| *id == *journal) {
        return Ok(());
    }
    let named_by = |id: &[u8; 16]| owners.iter().filter(|(_, i)| i == id).count();
    let most = owners.iter().map(|(_, id)| named_by(id)).max().unwrap_or(0);
    let mut leaders: Vec<[u8; 16]> = Vec::new();
    for (_, id) in &owners {
        if named_by(id) == most && !leaders.contains(id) {
            leaders.push(*id);
        }
    }
    let device = match (&leaders[..], labels) {
        ([one], _) if most >= 2 => Some(*one),
        (_, [Some(a), Some(b)])
            if a.identity.device_id == b.identity.device_id && journal == superblock =>
        {
            Some(a.identity.device_id)
        }
        _ => None,
    };
    let Some(device) = device else {
        return Err(Error::MixedDevices {
            owners: owners
                .iter()
                .map(|(p, id)| (p.shown().to_string(), identity::id_text(id)))
                .collect(),
        });
    };
    let Some((file, found)) = owners.iter().find(|(_, id)| *id != device) else {
        return Ok(());
    };
    Err(Error::Identity {
        file: file.shown().to_string(),
        mismatch: Mismatch::Foreign {
            expected: identity::id_text(&device),
            found: identity::id_text(found),
        },
    })
}

/// Checks a device's files as [`open`] does, changing none of them: no open is
/// recorded, no label rewritten, a torn journal tail is left in place, nothing is
/// compacted or finished. The journal must also replay (every journaled step one the
/// device could have taken). Both images are locked while they are read and let go
/// on return. For a refusal that must leave the device as it was (`owm serve`, whose
/// other checks come before the writing open); a device that passes may still fail
/// [`open`] on what only rebuilding the device reads (the lookup table against the
/// images) or on an I/O error while it writes.
///
/// Returns the device's identity as its journal records it (the generation of its
/// last completed open; [`open`] then records the next).
///
/// # Errors
/// Those of [`open`]'s checks, with the same messages.
pub fn inspect(paths: &DevicePaths, mut config: DeviceConfig) -> Result<Identity> {
    let name = paths.meta.shown().to_string();
    let examined = examine(paths, &mut config)?;
    let restored = replay(&name, &examined.decoded.records)?;
    Ok(identity_of(&restored))
}

/// Opens as [`open`] does, stopped after `cut` of its [`OPEN_STEPS`] file-changing
/// steps; the error says where.
#[cfg(test)]
pub(crate) fn open_cut_after(paths: &DevicePaths, config: DeviceConfig, cut: u32) -> Result<()> {
    open_cut(paths, config, |s| s, Some(cut)).map(drop)
}

/// The generation and nonce an open cut short had recorded ([`MetaRecord::Opening`]),
/// if any.
fn opening(records: &[(u64, MetaRecord)]) -> Option<(u64, u64)> {
    records.iter().rev().find_map(|(_, r)| match r {
        MetaRecord::Opening { generation, nonce } => Some((*generation, *nonce)),
        _ => None,
    })
}

/// Checks that the superblock and each image label (`labels`; an unlabelled image is
/// refused later) written at the metadata's generation (`expected`) or at that of an
/// open it recorded (`opening`) carry the matching nonce: one that carries another
/// was written by an open of another copy of this device, a copy of its directory
/// served apart ([`Mismatch::OtherCopy`]); so was one written at a later generation
/// than any the metadata knows while the other files are the metadata's. The metadata
/// file `device.owm` is the one named when at least two of the other three stand
/// against it (another copy's, or later than any generation it knows) and one of them
/// is another copy's, as [`check_owners`] names it two against two; or when all three
/// were written by one open at an earlier generation than its own (the rest of
/// another copy that has been opened fewer times). Otherwise the first such file among
/// the superblock, image A and image B is named. Files only older than the metadata,
/// or both images later than it, are left to the staleness checks.
fn check_copies(
    paths: &DevicePaths,
    expected: &Identity,
    opening: Option<(u64, u64)>,
    sb: &crate::superblock::Superblock,
    labels: [Option<&Label>; 2],
) -> Result<()> {
    let accepted = |g: u64, n: u64| identity::accepted_mark(expected, opening, g, n);
    let other = |g: u64, n: u64| identity::other_copy_mark(expected, opening, g, n);
    let ahead = |g: u64, n: u64| !accepted(g, n) && !other(g, n) && g > expected.generation;
    let refuse = |file: &Path, generation: u64| Error::Identity {
        file: file.shown().to_string(),
        mismatch: Mismatch::OtherCopy {
            generation,
            later: generation > expected.generation,
        },
    };
    let sb_path = crate::superblock::path_of(&paths.meta);
    let mut marks: Vec<(&Path, u64, u64)> = Vec::new();
    if let Some(g) = sb.generation {
        marks.push((&sb_path, g, sb.nonce));
    }
    for (label, path) in labels.iter().zip([&paths.image_a, &paths.image_b]) {
        if let Some(l) = label {
            marks.push((path, l.identity.generation, l.identity.nonce));
        }
    }
    if let [(_, g, n), rest @ ..] = &marks[..] {
        if marks.len() == 3
            && rest.iter().all(|(_, rg, rn)| (rg, rn) == (g, n))
            && !accepted(*g, *n)
            && *g < expected.generation
        {
            return Err(refuse(&paths.meta, expected.generation));
        }
    }
    let against: Vec<_> = marks
        .iter()
        .filter(|(_, g, n)| other(*g, *n) || ahead(*g, *n))
        .collect();
    match against[..] {
        [] => Ok(()),
        [&(file, generation, _)] => Err(refuse(file, generation)),
        _ if against.iter().any(|(_, g, n)| other(*g, *n)) => {
            Err(refuse(&paths.meta, expected.generation))
        }
        _ => Ok(()),
    }
}

/// The identity a replayed or header-only journal records.
fn identity_of(r: &Restored) -> Identity {
    Identity {
        device_id: r.device_id,
        generation: r.generation,
        nonce: r.nonce,
        variant: r.variant,
        geometry: Geometry {
            block_size: r.block_size,
            volume_blocks: r.volume_blocks,
            area_slots: if r.variant == Variant::WriteMirroring {
                0
            } else {
                r.area_slots
            },
        },
        integrity: r.integrity,
    }
}

/// Refuses the metadata file as stale when both image files' labels (`found`), or the
/// superblock (`superblock_generation`, the generation of the header it was written
/// for), carry a later generation than the metadata's identity `expected` and not the
/// one of an open it recorded (`opening`): it was kept from before a completed open and
/// put back ([`Mismatch::Stale`]), alone or with an image of its time. Checked before
/// the journal's length against the superblock's, so such a file, shorter than the
/// later flushes made it, is named stale, not cut.
fn check_meta_current(
    paths: &DevicePaths,
    expected: &Identity,
    opening: Option<(u64, u64)>,
    found: &[(Option<Label>, u64); 2],
    superblock_generation: Option<u64>,
) -> Result<()> {
    let later = |g: u64| g > expected.generation && opening.is_none_or(|(o, _)| o != g);
    let by_labels = match found {
        [(Some(la), _), (Some(lb), _)]
            if la.identity.device_id == expected.device_id
                && lb.identity.device_id == expected.device_id =>
        {
            Some(la.identity.generation.min(lb.identity.generation))
        }
        _ => None,
    };
    let newest = [by_labels, superblock_generation]
        .into_iter()
        .flatten()
        .filter(|&g| later(g))
        .max();
    if let Some(newest) = newest {
        return Err(Error::Identity {
            file: paths.meta.shown().to_string(),
            mismatch: Mismatch::Stale {
                expected_generation: newest,
                found_generation: expected.generation,
            },
        });
    }
    Ok(())
}

/// Checks both image files' labels (`found`, as read with each file's length) against
/// the metadata's identity, once [`check_owners`] found every file this device's and
/// [`check_meta_current`] the metadata current; `opening` is the generation an open cut
/// short had recorded in the metadata, which a label may also carry. The first image
/// that disagrees is named.
fn check_labels(
    expected: &Identity,
    opening: Option<(u64, u64)>,
    found: &[(Option<Label>, u64); 2],
    images: [&FileStore; 2],
) -> Result<()> {
    for ((label, len), (store, image)) in found.iter().zip(images.iter().zip([Image::A, Image::B]))
    {
        identity::check_label(
            label.as_ref(),
            *len,
            image,
            expected,
            opening,
            store.block_count(),
        )
        .map_err(|mismatch| Error::Identity {
            file: store.path().shown().to_string(),
            mismatch,
        })?;
    }
    Ok(())
}

/// Builds a new device in `paths` (as [`create`] does: a new identity) whose volume
/// holds the raw image at `volume`: e.g. B' written by [`Device::detach_b_to`], so
/// that the live volume of a finished backup cycle becomes a device of its own and is
/// backed up again (split → backup → retire → detach → adopt → split …). Every block
/// is copied through VLUN A (for mirroring onto both images), then flushed; `volume`
/// is only read, and stays locked while it is.
///
/// Errors: those of [`create`]; [`crate::StoreError`] naming `volume` when it cannot
/// be opened, is locked, or is not `g.volume_blocks` blocks of `g.block_size` bytes
/// at least ([`crate::StoreError::Short`], [`crate::StoreError::Misaligned`]).
pub fn adopt(
    volume: &Path,
    paths: &DevicePaths,
    config: DeviceConfig,
    g: Geometry,
) -> Result<Device<FileStore>> {
    let source = FileStore::open(volume, g.block_size, Some(g.volume_blocks))?;
    // Asked for before the device's files are made.
    let mut buf = crate::block_buffer::block_buffer(g.block_size, "copy the adopted volume")?;
    let device = create(paths, config, g)?;
    for block in 0..g.volume_blocks {
        source.read_block(block, &mut buf)?;
        device.write(Vlun::A, block, &buf)?;
    }
    device.flush()?;
    Ok(device)
}

/// Labels two new image files as those of an in-memory device with a journal
/// (id all zero, generation 0, data area `volume_blocks`), so that journal's bytes
/// written as the metadata file open beside them (the crash test on files).
#[cfg(test)]
pub(crate) fn label_for_test(
    a: &FileStore,
    b: &FileStore,
    variant: Variant,
    block_size: usize,
    volume_blocks: u64,
    integrity: bool,
) {
    let id = Identity {
        device_id: [0; 16],
        generation: 0,
        nonce: 0,
        variant,
        geometry: Geometry {
            block_size,
            volume_blocks,
            area_slots: if variant == Variant::WriteMirroring {
                0
            } else {
                volume_blocks
            },
        },
        integrity,
    };
    label(a, Image::A, &id).unwrap();
    label(b, Image::B, &id).unwrap();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{Mismatch, LABEL_BYTES};

    fn who(id: u8) -> Identity {
        Identity {
            device_id: [id; 16],
            generation: 3,
            nonce: 9,
            variant: Variant::CopyOnWrite,
            geometry: Geometry {
                block_size: 4096,
                volume_blocks: 256,
                area_slots: 256,
            },
            integrity: false,
        }
    }

    /// A volume of more blocks than a device records (which its open would refuse) is
    /// refused by [`create`] before any file is made.
    #[test]
    fn a_volume_past_the_largest_recorded_is_refused_before_any_file() {
        let dir = tempfile::tempdir().unwrap();
        let paths = DevicePaths::in_dir(dir.path());
        let g = Geometry {
            block_size: 8,
            volume_blocks: crate::table::VOLUME_BLOCKS_MAX + 1,
            area_slots: 0,
        };
        let Err(e) = create(&paths, DeviceConfig::new(Variant::WriteMirroring), g) else {
            panic!("a volume past the largest recorded was created");
        };
        assert!(e.to_string().contains("volume blocks"), "{e}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    /// The archive record reads back for its own device; a damaged, foreign, older or
    /// non-file record is refused naming `archive.json` and what is wrong, never taken
    /// for this device's archive nor read as none.
    #[test]
    fn the_archive_record_is_this_devices_or_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let (ours, theirs) = (who(1), who(2));
        assert_eq!(read_archive_record(dir.path(), &ours), Ok(None));
        let rec = ArchiveRecord {
            path: PathBuf::from("/srv/a.img"),
            bytes: 256 * 4096,
            file: None,
        };
        write_archive_record(dir.path(), &ours, &rec).unwrap();
        assert_eq!(
            read_archive_record(dir.path(), &ours),
            Ok(Some(rec.clone()))
        );
        // A stamp reads back whole, a time past 2^53 ns included.
        let stamped = ArchiveRecord {
            file: Some(FileStamp {
                dev: 2049,
                ino: u64::MAX,
                mtime_ns: 1_764_979_200_123_456_789,
            }),
            ..rec.clone()
        };
        write_archive_record(dir.path(), &ours, &stamped).unwrap();
        assert_eq!(read_archive_record(dir.path(), &ours), Ok(Some(stamped)));
        write_archive_record(dir.path(), &ours, &rec).unwrap();
        let e = read_archive_record(dir.path(), &theirs).unwrap_err();
        assert!(
            e.contains(&format!("belongs to device {}", ours.id_text()))
                && e.contains(&format!("not to this device {}", theirs.id_text())),
            "{e}"
        );
        let marker = archive_marker(dir.path());
        let id = ours.id_text();
        let cases = [
            ("{".to_string(), "not JSON"),
            (String::new(), "not JSON"),
            ("[]".to_string(), "names no device"),
            (
                r#"{"path": "/srv/a.img", "bytes": 1048576}"#.to_string(),
                "names no device",
            ),
            (
                r#"{"device": 7, "path": "/a", "bytes": 1048576}"#.to_string(),
                "`device` is not a string",
            ),
            (
                format!(r#"{{"device": "{id}", "bytes": 1048576}}"#),
                "no `path` key",
            ),
            (
                format!(r#"{{"device": "{id}", "path": "/a"}}"#),
                "no `bytes` key",
            ),
            (
                format!(r#"{{"device": "{id}", "path": "a.img", "bytes": 1048576}}"#),
                "not an absolute path",
            ),
            (
                format!(r#"{{"device": "{id}", "path": "/a", "bytes": -1}}"#),
                "not a whole number",
            ),
            (
                format!(r#"{{"device": "{id}", "path": "/a", "bytes": 4096}}"#),
                "not the volume's 1048576 bytes",
            ),
        ];
        for (text, why) in &cases {
            std::fs::write(&marker, text).unwrap();
            let e = read_archive_record(dir.path(), &ours).unwrap_err();
            assert!(
                e.starts_with(&format!("{}: ", marker.shown())),
                "{text}: {e}"
            );
            assert!(e.contains(why), "{text}: {e}");
        }
        std::fs::remove_file(&marker).unwrap();
        std::fs::create_dir(&marker).unwrap();
        let e = read_archive_record(dir.path(), &ours).unwrap_err();
        assert!(e.contains("is a directory"), "{e}");
        std::fs::remove_dir(&marker).unwrap();
        let made = std::process::Command::new("mkfifo").arg(&marker).status();
        if !made.is_ok_and(|s| s.success()) {
            return; // no mkfifo here: the directory case stands for it
        }
        let e = read_archive_record(dir.path(), &ours).unwrap_err();
        assert!(e.contains("not a regular file"), "{e}");
    }

    /// No marker: served. A marker: refused, naming it and the image it records; a
    /// damaged one refused as damaged, saying what is wrong, with no `--create` advice.
    #[test]
    fn a_detached_device_is_refused_naming_its_marker_and_image() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(refuse_detached(dir.path()), Ok(()));
        let marker = detach_marker(dir.path());
        std::fs::write(&marker, r#"{"image": "/srv/b-prime.img"}"#).unwrap();
        let e = refuse_detached(dir.path()).unwrap_err();
        assert!(e.starts_with(&format!("{}: ", marker.shown())), "{e}");
        assert!(e.contains("VLUN B now lives in /srv/b-prime.img)"), "{e}");
        for (text, what) in [
            ("not json", "not JSON"),
            ("", "not JSON"),
            ("[1]", "not a JSON object"),
            (r#"{"path": "/srv/b-prime.img"}"#, "no `image` path"),
            (r#"{"image": 7}"#, "no `image` path"),
        ] {
            std::fs::write(&marker, text).unwrap();
            let e = refuse_detached(dir.path()).unwrap_err();
            assert!(
                e.starts_with(&format!("{}: a damaged detach record (", marker.shown())),
                "{text}: {e}"
            );
            assert!(
                e.contains(what) && !e.contains("VLUN B now lives"),
                "{text}: {e}"
            );
            assert!(!e.contains("make a new device here"), "{text}: {e}");
        }
        std::fs::remove_file(&marker).unwrap();
        std::fs::create_dir(&marker).unwrap();
        let e = refuse_detached(dir.path()).unwrap_err();
        assert!(e.contains("a damaged detach record (a directory)"), "{e}");
        std::fs::remove_dir(&marker).unwrap();
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &marker).unwrap();
        let e = refuse_detached(dir.path()).unwrap_err();
        assert!(e.contains("a symbolic link to no regular file"), "{e}");
    }

    /// A detach marker naming another device than the metadata beside it is refused as
    /// not this device's record (no `--create` advice); one naming this device, or none
    /// (written before markers named their device), is this device's end.
    #[test]
    fn a_detach_marker_of_another_device_is_not_this_devices_end() {
        let dir = tempfile::tempdir().unwrap();
        let paths = made(dir.path(), Variant::CopyOnWrite);
        let ours = open(&paths, DeviceConfig::new(Variant::CopyOnWrite))
            .unwrap()
            .identity()
            .id_text();
        let marker = detach_marker(dir.path());
        let theirs = "00000000-0000-4000-8000-000000000000";
        std::fs::write(
            &marker,
            format!(r#"{{"image": "/srv/b.img", "device": "{theirs}"}}"#),
        )
        .unwrap();
        let e = refuse_detached(dir.path()).unwrap_err();
        assert!(
            e.contains(&format!("device {theirs}, not of this device {ours}"))
                && !e.contains("--create here")
                && !e.contains("make a new device"),
            "{e}"
        );
        for text in [
            format!(r#"{{"image": "/srv/b.img", "device": "{ours}"}}"#),
            r#"{"image": "/srv/b.img"}"#.to_string(),
        ] {
            std::fs::write(&marker, &text).unwrap();
            let e = refuse_detached(dir.path()).unwrap_err();
            assert!(e.contains("VLUN B now lives in /srv/b.img)"), "{text}: {e}");
        }
    }

    const BS: usize = 512;
    const N: u64 = 8;

    /// A closed device: 1 everywhere through A, flushed, split, B0 = 4 and B2 = 7,
    /// flushed (every write acknowledged by a completed flush).
    fn made(dir: &Path, variant: Variant) -> DevicePaths {
        let paths = DevicePaths::in_dir(dir);
        let g = Geometry {
            block_size: BS,
            volume_blocks: N,
            area_slots: N,
        };
        let d = create(&paths, DeviceConfig::new(variant), g).unwrap();
        for b in 0..N {
            d.write(Vlun::A, b, &[1; BS]).unwrap();
        }
        d.flush().unwrap();
        d.split().unwrap();
        d.write(Vlun::B, 0, &[4; BS]).unwrap();
        d.write(Vlun::B, 2, &[7; BS]).unwrap();
        d.flush().unwrap();
        paths
    }

    /// The bytes of each of the device's four files.
    fn files(paths: &DevicePaths) -> Vec<Vec<u8>> {
        let sb = crate::superblock::path_of(&paths.meta);
        [&paths.meta, &sb, &paths.image_a, &paths.image_b]
            .iter()
            .map(|p| std::fs::read(p).unwrap())
            .collect()
    }

    fn keep(paths: &DevicePaths, to: &Path) {
        std::fs::copy(&paths.meta, to.join("meta")).unwrap();
        let sb = crate::superblock::path_of(&paths.meta);
        std::fs::copy(sb, to.join("super")).unwrap();
    }

    fn put_back(paths: &DevicePaths, from: &Path) {
        std::fs::copy(from.join("meta"), &paths.meta).unwrap();
        let sb = crate::superblock::path_of(&paths.meta);
        std::fs::copy(from.join("super"), sb).unwrap();
    }

    /// An open cut after each of its file-changing steps, then the next open cut after
    /// each of them, then a whole open: the device opens with every flushed write, at
    /// the generation the first recorded open began (one more per compaction that
    /// renamed its new header into place); the metadata kept from before the first
    /// open, put back, is then refused as stale, naming the metadata file. After each cut
    /// the superblock still names the device.
    #[test]
    fn an_open_cut_at_any_step_reopens_and_metadata_from_before_it_is_stale() {
        for variant in Variant::ALL {
            for first in 0..OPEN_STEPS {
                for second in 0..OPEN_STEPS {
                    let dir = tempfile::tempdir().unwrap();
                    let kept = tempfile::tempdir().unwrap();
                    let paths = made(dir.path(), variant);
                    keep(&paths, kept.path());
                    let ctx = format!("{variant}, cut after {first} then {second}");
                    for cut in [first, second] {
                        let e = open_cut_after(&paths, DeviceConfig::new(variant), cut)
                            .expect_err(&ctx);
                        assert!(e.to_string().contains("cut after"), "{ctx}: {e}");
                    }
                    let before = files(&paths);
                    let inspected = inspect(&paths, DeviceConfig::new(variant))
                        .unwrap_or_else(|e| panic!("{ctx}: inspect: {e}"));
                    assert!(files(&paths) == before, "{ctx}: inspect changed a file");
                    // Every superblock write of the open, the compaction's length-0 one
                    // too, kept the device id.
                    let sb = crate::superblock::read(&paths.meta).unwrap();
                    assert_eq!(sb.device_id, inspected.device_id, "{ctx}");
                    let d = open(&paths, DeviceConfig::new(variant))
                        .unwrap_or_else(|e| panic!("{ctx}: {e}"));
                    assert_eq!(inspected.device_id, d.identity().device_id, "{ctx}");
                    assert!(files(&paths) != before, "{ctx}: the open changed no file");
                    let renamed = [first, second].iter().filter(|&&c| c == 5).count() as u64;
                    assert_eq!(d.identity().generation, 1 + renamed, "{ctx}");
                    assert_eq!(d.phase(), crate::Phase::Split, "{ctx}");
                    let mut buf = [0u8; BS];
                    for b in 0..N {
                        d.read(Vlun::A, b, &mut buf).unwrap();
                        assert_eq!(buf, [1; BS], "{ctx}: A{b}");
                        d.read(Vlun::B, b, &mut buf).unwrap();
                        let want = match b {
                            0 => 4,
                            2 => 7,
                            _ => 1,
                        };
                        assert_eq!(buf, [want; BS], "{ctx}: B{b}");
                    }
                    drop(d);
                    put_back(&paths, kept.path());
                    let before = files(&paths);
                    let inspected = inspect(&paths, DeviceConfig::new(variant));
                    assert!(files(&paths) == before, "{ctx}: inspect changed a file");
                    let opened = open(&paths, DeviceConfig::new(variant));
                    if let (Err(i), Err(o)) = (&inspected, &opened) {
                        assert_eq!(i.to_string(), o.to_string(), "{ctx}");
                    } else {
                        panic!("{ctx}: inspect and open did not both refuse stale metadata");
                    }
                    match opened {
                        Err(Error::Identity {
                            file,
                            mismatch: Mismatch::Stale { .. },
                        }) => assert_eq!(file, paths.meta.shown().to_string(), "{ctx}"),
                        Err(e) => panic!("{ctx}: expected stale metadata, got {e}"),
                        Ok(_) => panic!("{ctx}: stale metadata opened"),
                    }
                }
            }
        }
    }

    /// An older `device.owm` put back alone, beside the current superblock (which
    /// records the longer length of later flushes) and images, or with the image A of
    /// its time: refused as stale, naming it, not as a file cut after a flush.
    #[test]
    fn an_older_metadata_file_put_back_alone_is_stale_not_cut() {
        for variant in Variant::ALL {
            let dir = tempfile::tempdir().unwrap();
            let paths = made(dir.path(), variant);
            // Compacted by an open: the shortest this journal is.
            drop(open(&paths, DeviceConfig::new(variant)).unwrap());
            let old = std::fs::read(&paths.meta).unwrap();
            let old_a = std::fs::read(&paths.image_a).unwrap();
            let d = open(&paths, DeviceConfig::new(variant)).unwrap();
            for b in 1..N {
                d.write(Vlun::B, b, &[9; BS]).unwrap();
                d.flush().unwrap();
            }
            drop(d);
            let (sb, _) = crate::superblock::read_whole(&paths.meta).unwrap();
            assert!(sb.durable_len > old.len() as u64, "{variant}: not longer");
            std::fs::write(&paths.meta, &old).unwrap();
            let stale_meta = |what: &str| match open(&paths, DeviceConfig::new(variant)) {
                Err(Error::Identity {
                    file,
                    mismatch: Mismatch::Stale { .. },
                }) => assert_eq!(file, paths.meta.shown().to_string(), "{variant}: {what}"),
                Err(e) => panic!("{variant}: {what}: expected stale metadata, got {e}"),
                Ok(_) => panic!("{variant}: {what}: stale metadata opened"),
            };
            stale_meta("device.owm alone");
            // With an image of its time beside it: the superblock still tells.
            std::fs::write(&paths.image_a, &old_a).unwrap();
            stale_meta("device.owm and image A");
        }
    }

    /// Three files kept from before an open put back beside the fourth, current one:
    /// the files cannot tell that from the fourth being another copy's, so the refusal
    /// names the fourth and says both, the stale case with the way that keeps the
    /// newer state (never only "put back this copy's own file", which would serve the
    /// older one).
    #[test]
    fn three_older_files_beside_a_newer_one_are_refused_saying_both_causes() {
        for variant in Variant::ALL {
            let dir = tempfile::tempdir().unwrap();
            let paths = made(dir.path(), variant);
            let kept = tempfile::tempdir().unwrap();
            let old = DevicePaths::in_dir(kept.path());
            for (f, t) in four(&paths).iter().zip(four(&old)) {
                std::fs::copy(f, t).unwrap();
            }
            let d = open(&paths, DeviceConfig::new(variant)).unwrap();
            d.write(Vlun::B, 1, &[9; BS]).unwrap();
            d.flush().unwrap();
            drop(d);
            // Old metadata, superblock and image A beside the current image B.
            for (f, t) in four(&old).iter().zip(four(&paths)).take(3) {
                std::fs::copy(f, t).unwrap();
            }
            let e = match open(&paths, DeviceConfig::new(variant)) {
                Err(e) => e,
                Ok(_) => panic!("{variant}: mixed generations opened"),
            };
            match &e {
                Error::Identity {
                    file,
                    mismatch: Mismatch::OtherCopy { later: true, .. },
                } => assert_eq!(*file, paths.image_b.shown().to_string(), "{variant}"),
                e => panic!("{variant}: {e}"),
            }
            let text = e.to_string();
            assert!(
                text.contains("Or this file is the newest and the device's other files are older"),
                "{variant}: {text}"
            );
        }
    }

    /// An open mends a torn journal tail and a damaged superblock copy without
    /// refusing the device, says so in [`Device::repairs`], and leaves both files
    /// whole: the next open repairs nothing. Untouched files need no repair.
    #[test]
    fn an_open_reports_the_torn_tail_and_the_damaged_superblock_copy_it_mended() {
        use std::io::Write as _;
        let sb_path = |p: &DevicePaths| crate::superblock::path_of(&p.meta);
        // (what is done to the files, the repairs the open reports)
        type Harm = fn(&DevicePaths, &Path);
        let harms: [(&str, Harm, u64, bool); 6] = [
            ("nothing", |_, _| {}, 0, false),
            (
                "13 bytes appended to device.owm",
                |p, _| {
                    let mut f = std::fs::OpenOptions::new()
                        .append(true)
                        .open(&p.meta)
                        .unwrap();
                    f.write_all(&[0xA5; 13]).unwrap();
                },
                13,
                false,
            ),
            (
                "a byte of the first superblock copy flipped",
                |_, sb| {
                    let mut bytes = std::fs::read(sb).unwrap();
                    bytes[9] ^= 0xFF;
                    std::fs::write(sb, bytes).unwrap();
                },
                0,
                true,
            ),
            (
                "the superblock cut to one copy",
                |_, sb| {
                    let bytes = std::fs::read(sb).unwrap();
                    std::fs::write(sb, &bytes[..crate::superblock::COPY_BYTES as usize]).unwrap();
                },
                0,
                true,
            ),
            (
                "a valid copy of another write beside the newest",
                |p, _| {
                    // Not the write after the other copy: three later, same fields.
                    let s = crate::superblock::read(&p.meta).unwrap();
                    let other = crate::superblock::Superblock {
                        seq: s.seq + 3,
                        ..s
                    };
                    crate::superblock::write(&p.meta, &other).unwrap();
                },
                0,
                true,
            ),
            (
                "bytes after the superblock's copies",
                |_, sb| {
                    let mut f = std::fs::OpenOptions::new().append(true).open(sb).unwrap();
                    f.write_all(b"junk").unwrap();
                },
                0,
                true,
            ),
        ];
        for variant in Variant::ALL {
            for (what, harm, torn, damaged) in harms {
                let ctx = format!("{variant}, {what}");
                let dir = tempfile::tempdir().unwrap();
                let paths = made(dir.path(), variant);
                harm(&paths, &sb_path(&paths));
                let d = open(&paths, DeviceConfig::new(variant))
                    .unwrap_or_else(|e| panic!("{ctx}: {e}"));
                let r = d.repairs();
                assert_eq!(
                    (r.torn_tail_bytes, r.superblock_copy_damaged),
                    (torn, damaged),
                    "{ctx}"
                );
                let mut buf = [0u8; BS];
                d.read(Vlun::B, 2, &mut buf).unwrap();
                assert_eq!(buf, [7; BS], "{ctx}");
                drop(d);
                assert!(
                    !crate::superblock::read_whole(&paths.meta).unwrap().1,
                    "{ctx}: not whole"
                );
                let again = open(&paths, DeviceConfig::new(variant)).unwrap();
                assert_eq!(again.repairs(), crate::Repairs::default(), "{ctx}: again");
            }
        }
    }

    /// The device's four files: metadata, superblock, image A, image B.
    fn four(paths: &DevicePaths) -> [PathBuf; 4] {
        [
            paths.meta.clone(),
            crate::superblock::path_of(&paths.meta),
            paths.image_a.clone(),
            paths.image_b.clone(),
        ]
    }

    /// Copies the device's four files from `from` into the new directory `to` (a
    /// `cp -a` of the device directory).
    fn copy_device(from: &DevicePaths, to: &Path) -> DevicePaths {
        let paths = DevicePaths::in_dir(to);
        for (f, t) in four(from).iter().zip(four(&paths)) {
            std::fs::copy(f, t).unwrap();
        }
        paths
    }

    /// Each of `from`'s four files, put beside the other three of `into` (in a
    /// directory of their own), is refused by both [`inspect`] and [`open`] with the
    /// same error, naming that file, as another copy's or stale; no file changes.
    fn mixes_refused(from: &DevicePaths, into: &DevicePaths, variant: Variant, ctx: &str) {
        for i in 0..4 {
            let dir = tempfile::tempdir().unwrap();
            let mixed = copy_device(into, dir.path());
            std::fs::copy(&four(from)[i], &four(&mixed)[i]).unwrap();
            let named = four(&mixed)[i].shown().to_string();
            let ctx = format!("{ctx}, {named} of the other copy");
            let before = files(&mixed);
            let inspected = inspect(&mixed, DeviceConfig::new(variant));
            let opened = open(&mixed, DeviceConfig::new(variant));
            assert!(
                files(&mixed) == before,
                "{ctx}: a refused start changed a file"
            );
            let (Err(i), Err(o)) = (inspected, opened) else {
                panic!("{ctx}: the mix was not refused");
            };
            assert_eq!(i.to_string(), o.to_string(), "{ctx}");
            match o {
                Error::Identity {
                    file,
                    mismatch: Mismatch::OtherCopy { .. } | Mismatch::Stale { .. },
                } => assert_eq!(file, named, "{ctx}"),
                e => panic!("{ctx}: expected another copy's file, got {e}"),
            }
        }
    }

    /// Asserts the data `made` wrote, with `b1` at B1 (each copy's own write).
    fn serves(d: &Device<FileStore>, b1: u8, ctx: &str) {
        let mut buf = [0u8; BS];
        for b in 0..N {
            d.read(Vlun::A, b, &mut buf).unwrap();
            assert_eq!(buf, [1; BS], "{ctx}: A{b}");
            d.read(Vlun::B, b, &mut buf).unwrap();
            let want = match b {
                0 => 4,
                1 => b1,
                2 => 7,
                _ => 1,
            };
            assert_eq!(buf, [want; BS], "{ctx}: B{b}");
        }
    }

    /// Two copies of one device directory, each opened and written apart (same device
    /// id, same generation): each file of one beside the other three files of the
    /// other is refused naming it, as another copy's, both ways; so it is when the
    /// second copy's next open was cut after any of its file-changing steps, a crash
    /// part-way through its relabel. That copy then opens with every flushed write of
    /// its own, and the first copy's files are still refused beside it.
    #[test]
    fn a_file_of_another_copy_served_apart_is_refused_naming_it() {
        for variant in Variant::ALL {
            for cut in (0..OPEN_STEPS).map(Some).chain([None]) {
                let ctx = format!("{variant}, copy 2's open cut after {cut:?}");
                let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
                let one = made(d1.path(), variant);
                let two = copy_device(&one, d2.path());
                for (p, byte) in [(&one, 0x11), (&two, 0x22)] {
                    let d = open(p, DeviceConfig::new(variant)).unwrap();
                    d.write(Vlun::B, 1, &[byte; BS]).unwrap();
                    d.flush().unwrap();
                }
                let (g1, g2) = (
                    inspect(&one, DeviceConfig::new(variant)).unwrap(),
                    inspect(&two, DeviceConfig::new(variant)).unwrap(),
                );
                assert_eq!(g1.generation, g2.generation, "{ctx}");
                assert_ne!(g1.nonce, g2.nonce, "{ctx}");
                if let Some(c) = cut {
                    open_cut_after(&two, DeviceConfig::new(variant), c).unwrap_err();
                } else {
                    mixes_refused(&one, &two, variant, &ctx);
                    mixes_refused(&two, &one, variant, &ctx);
                    // At one generation, each file is named as another copy's.
                    let dir = tempfile::tempdir().unwrap();
                    for i in 0..4 {
                        let mixed = copy_device(&two, dir.path());
                        std::fs::copy(&four(&one)[i], &four(&mixed)[i]).unwrap();
                        let e = open(&mixed, DeviceConfig::new(variant)).unwrap_err();
                        assert!(
                            matches!(
                                e,
                                Error::Identity {
                                    mismatch: Mismatch::OtherCopy { .. },
                                    ..
                                }
                            ),
                            "{ctx}: {e}"
                        );
                        assert!(e.to_string().contains("another copy of this device"), "{e}");
                    }
                }
                mixes_refused(&one, &two, variant, &ctx);
                let d =
                    open(&two, DeviceConfig::new(variant)).unwrap_or_else(|e| panic!("{ctx}: {e}"));
                serves(&d, 0x22, &ctx);
                drop(d);
                mixes_refused(&one, &two, variant, &format!("{ctx}, reopened"));
                mixes_refused(&two, &one, variant, &format!("{ctx}, reopened"));
                let d = open(&one, DeviceConfig::new(variant)).unwrap();
                serves(&d, 0x11, &ctx);
            }
        }
    }

    /// A device whose files were all written before nonces (labels of the first
    /// layout, a header without a nonce, a superblock of the third format) opens with
    /// its data, and that open gives every file a nonce of its own: labels of this
    /// layout, a superblock of this format.
    #[test]
    fn a_device_written_before_nonces_opens_and_gets_one() {
        for variant in Variant::ALL {
            let dir = tempfile::tempdir().unwrap();
            let paths = made(dir.path(), variant);
            let sb = crate::superblock::read(&paths.meta).unwrap();
            // Labels of the first layout: magic OWMIMAG1, no nonce.
            for image in [&paths.image_a, &paths.image_b] {
                let mut bytes = std::fs::read(image).unwrap();
                let at = bytes.len() - LABEL_BYTES as usize;
                let label = &mut bytes[at..];
                label[..8].copy_from_slice(b"OWMIMAG1");
                let crc = crc32fast::hash(&label[..64]);
                label[64..68].copy_from_slice(&crc.to_le_bytes());
                label[68..].fill(0);
                std::fs::write(image, &bytes).unwrap();
            }
            // The header's frame without its last 8 bytes (the nonce).
            let meta = std::fs::read(&paths.meta).unwrap();
            let m = crate::meta::MAGIC.len();
            let len = u32::from_le_bytes(meta[m..m + 4].try_into().unwrap()) as usize;
            let payload = &meta[m + 8..m + 8 + len - 8];
            let new_len = ((len - 8) as u32).to_le_bytes();
            let mut crc = crc32fast::Hasher::new();
            crc.update(&new_len);
            crc.update(payload);
            let mut old = meta[..m].to_vec();
            old.extend_from_slice(&new_len);
            old.extend_from_slice(&crc.finalize().to_le_bytes());
            old.extend_from_slice(payload);
            old.extend_from_slice(&meta[m + 8 + len..]);
            std::fs::write(&paths.meta, &old).unwrap();
            // A superblock of the third format recording that length.
            let mut copies = vec![0u8; 104];
            for seq in [sb.seq - 1, sb.seq] {
                let mut c = b"OWMSUPR3".to_vec();
                c.extend_from_slice(&sb.device_id);
                c.extend_from_slice(&sb.generation.unwrap().to_le_bytes());
                c.extend_from_slice(&seq.to_le_bytes());
                c.extend_from_slice(&(old.len() as u64).to_le_bytes());
                let crc = crc32fast::hash(&c);
                c.extend_from_slice(&crc.to_le_bytes());
                let at = (seq % 2) as usize * 52;
                copies[at..at + 52].copy_from_slice(&c);
            }
            std::fs::write(crate::superblock::path_of(&paths.meta), &copies).unwrap();
            let before = inspect(&paths, DeviceConfig::new(variant))
                .unwrap_or_else(|e| panic!("{variant}: {e}"));
            assert_eq!(before.nonce, 0, "{variant}");
            let (label, _) = identity::read_label(
                &std::fs::File::open(&paths.image_a).unwrap(),
                &paths.image_a,
            )
            .unwrap();
            assert_eq!(label.unwrap().identity.nonce, 0, "{variant}");
            let d = open(&paths, DeviceConfig::new(variant))
                .unwrap_or_else(|e| panic!("{variant}: {e}"));
            serves(&d, 1, &variant.to_string());
            let nonce = d.identity().nonce;
            assert_ne!(nonce, 0, "{variant}");
            drop(d);
            let sb = crate::superblock::read(&paths.meta).unwrap();
            assert_eq!((sb.format, sb.nonce), (crate::superblock::FORMAT, nonce));
            for image in [&paths.image_a, &paths.image_b] {
                let bytes = std::fs::read(image).unwrap();
                assert_eq!(
                    &bytes[bytes.len() - LABEL_BYTES as usize..][..8],
                    b"OWMIMAG2"
                );
            }
            assert_eq!(
                inspect(&paths, DeviceConfig::new(variant)).unwrap().nonce,
                nonce
            );
        }
    }

    /// The recorded open is what lets a label one generation ahead through: the same
    /// labels beside the metadata of before the open (no record) are refused.
    #[test]
    fn labels_one_ahead_need_the_recorded_open() {
        for variant in Variant::ALL {
            let dir = tempfile::tempdir().unwrap();
            let kept = tempfile::tempdir().unwrap();
            let paths = made(dir.path(), variant);
            keep(&paths, kept.path());
            // Cut after both labels: the metadata records the open to generation 1.
            open_cut_after(&paths, DeviceConfig::new(variant), 3).unwrap_err();
            let records = FileJournal::read(&paths.meta).unwrap().records;
            assert_eq!(opening(&records).map(|(g, _)| g), Some(1), "{variant}");
            put_back(&paths, kept.path());
            match open(&paths, DeviceConfig::new(variant)) {
                Err(Error::Identity {
                    file,
                    mismatch:
                        Mismatch::Stale {
                            expected_generation: 1,
                            found_generation: 0,
                        },
                }) => assert_eq!(file, paths.meta.shown().to_string()),
                Err(e) => panic!("{variant}: {e}"),
                Ok(_) => panic!("{variant}: opened"),
            }
        }
    }
}
