//! The file-backed device: two image files (raw blocks, then a 512-byte label that
//! binds the file to its device, [`crate::identity`]) and a metadata journal beside
//! them.
//!
//! Closing and reopening restores a split device exactly (phase, lookup table, data),
//! because every table or phase change is journaled after the data it makes visible
//! and before the write is acknowledged.

use std::path::{Path, PathBuf};

use crate::device::{Device, DeviceConfig};
use crate::error::{Error, Result};
use crate::identity::{self, Identity, Label, Mismatch};
use crate::meta::FileJournal;
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

/// The geometry of a new device (also [`crate::Geometry`]).
pub use crate::variant::Geometry;

/// Creates a device on new zero-filled image files (overwriting any at those paths),
/// with a new identity: a random device id, generation 0, recorded in the metadata
/// header and in a label at the end of each image file ([`crate::identity`]).
///
/// Errors: [`crate::StoreError`] naming the image file (cannot create, locked by an
/// open device, invalid block size), [`crate::Error::Geometry`] (also a block size past
/// `u32::MAX` bytes or more data-area slots than `table::AREA_SLOTS_MAX`, refused before
/// any file is made), a
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
    // The metadata header and the image labels keep the block size in 32 bits and the
    // data area's slots below `table::AREA_SLOTS_MAX`: a geometry past them is refused
    // before any file is made, not written truncated and refused at every open.
    let too_large = if u32::try_from(g.block_size).is_err() {
        Some(format!(
            "block size {} bytes is more than the largest a device records ({} bytes)",
            g.block_size,
            u32::MAX
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
        store: paths.meta.display().to_string(),
        op: "draw a device id",
        block: None,
        source,
    })?;
    let id = Identity {
        device_id,
        generation: 0,
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
    device.set_identity(id.device_id, id.generation);
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

/// Reopens a device from its files, replaying the metadata journal; then compacts it.
///
/// Checks, in order: the journal decodes (else [`crate::meta::MetaError`] with the
/// byte offset; a metadata file of the first format, without identity, is refused so)
/// and was made for `config.variant`; each image file's label names this device, this
/// image, this layout and generation and the file has its length (else
/// [`crate::Error::Identity`] naming the file that does not belong and why: another
/// device's, images A and B swapped, resized, stale, unlabelled; metadata whose
/// device both images disown is named as the file that does not belong); every
/// journaled step is one the device could have taken. Then the generation advances
/// (both labels, then the metadata), so an image or metadata file kept from before
/// this open is stale at the next. A retire that was cut short is finished.
pub fn open(paths: &DevicePaths, config: DeviceConfig) -> Result<Device<FileStore>> {
    open_with(paths, config, |store| store)
}

/// Like [`open`], with each image file wrapped by `wrap` before the device takes it.
pub fn open_with<S: BlockStore>(
    paths: &DevicePaths,
    mut config: DeviceConfig,
    wrap: impl Fn(FileStore) -> S,
) -> Result<Device<S>> {
    let decoded = FileJournal::read(&paths.meta)?;
    let name = paths.meta.display().to_string();
    let (_, durable_len) = crate::superblock::read_durable_len(&paths.meta)?;
    crate::superblock::check(&paths.meta, decoded.valid_len, durable_len)?;
    let header = header(&name, &decoded.records)?;
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
    check_labels(paths, &expected, [&image_a, &image_b])?;
    // Only now, with both images locked and known to belong, may any file change.
    FileJournal::drop_torn_tail(&paths.meta, &decoded)?;
    let mut restored = replay(&name, &decoded.records)?;
    restored.generation += 1;
    let next = identity_of(&restored);
    label(&image_a, Image::A, &next)?;
    label(&image_b, Image::B, &next)?;
    let journal = FileJournal::open_append(&paths.meta)?;
    let mut device = Device::build(config, wrap(image_a), wrap(image_b))?;
    device.recover_from(&name, restored, Box::new(journal))?;
    Ok(device)
}

/// The identity a replayed or header-only journal records.
fn identity_of(r: &Restored) -> Identity {
    Identity {
        device_id: r.device_id,
        generation: r.generation,
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

/// Checks both image files' labels against the metadata's identity. When both images
/// agree with each other and not with the metadata (another device's id, or a later
/// generation than the metadata's), the metadata file is the one that does not
/// belong; otherwise the first image that disagrees is named.
fn check_labels(paths: &DevicePaths, expected: &Identity, images: [&FileStore; 2]) -> Result<()> {
    let mut found = Vec::new();
    for store in images {
        found.push(identity::read_label(store.file(), store.path())?);
    }
    if let [(Some(la), _), (Some(lb), _)] = &found[..] {
        let (ia, ib) = (&la.identity, &lb.identity);
        let meta_error = |mismatch| Error::Identity {
            file: paths.meta.display().to_string(),
            mismatch,
        };
        if ia.device_id == ib.device_id && ia.device_id != expected.device_id {
            return Err(meta_error(Mismatch::Foreign {
                expected: ia.id_text(),
                found: expected.id_text(),
            }));
        }
        let newest = ia.generation.min(ib.generation);
        if ia.device_id == expected.device_id && newest > expected.generation + 1 {
            return Err(meta_error(Mismatch::Stale {
                expected_generation: newest,
                found_generation: expected.generation,
            }));
        }
    }
    for ((label, len), (store, image)) in found.iter().zip(images.iter().zip([Image::A, Image::B]))
    {
        identity::check_label(label.as_ref(), *len, image, expected, store.block_count()).map_err(
            |mismatch| Error::Identity {
                file: store.path().display().to_string(),
                mismatch,
            },
        )?;
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
    let device = create(paths, config, g)?;
    let mut buf = vec![0u8; g.block_size];
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
) {
    let id = Identity {
        device_id: [0; 16],
        generation: 0,
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
        integrity: false,
    };
    label(a, Image::A, &id).unwrap();
    label(b, Image::B, &id).unwrap();
}
