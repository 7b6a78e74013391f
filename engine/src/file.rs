//! The file-backed device: two raw image files and a metadata journal beside them.
//!
//! Closing and reopening restores a split device exactly (phase, lookup table, data),
//! because every table or phase change is journaled after the data it makes visible
//! and before the write is acknowledged.

use std::path::{Path, PathBuf};

use crate::device::{Device, DeviceConfig};
use crate::error::Result;
use crate::meta::FileJournal;
use crate::recover::{header, made_for};
pub use crate::recover::{replay, Restored};
use crate::store::{BlockStore, FileStore};
use crate::Variant;

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

/// Creates a device on new zero-filled image files (overwriting any at those paths).
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
    let area = if config.variant == Variant::WriteMirroring {
        0
    } else {
        g.area_slots
    };
    let (a, b) = config.variant.image_blocks(g.volume_blocks, area);
    let image_a = FileStore::create(&paths.image_a, g.block_size, a)?;
    let image_b = FileStore::create(&paths.image_b, g.block_size, b)?;
    let device = Device::new(config, wrap(image_a), wrap(image_b))?;
    let journal = FileJournal::create(&paths.meta, &device.snapshot_records())?;
    device.set_journal(Box::new(journal));
    Ok(device)
}

/// Reopens a device from its files, replaying the metadata journal; then compacts it.
///
/// Checks, in order: the journal decodes (else [`MetaError`] with the byte offset),
/// it was made for `config.variant` (else [`MetaError`]), each image file is a whole
/// number of blocks and at least as long as the journal's geometry says (else
/// [`crate::StoreError`] naming the file), and every journaled step is one the device
/// could have taken. A retire that was cut short is finished.
pub fn open(paths: &DevicePaths, config: DeviceConfig) -> Result<Device<FileStore>> {
    open_with(paths, config, |store| store)
}

/// Like [`open`], with each image file wrapped by `wrap` before the device takes it.
pub fn open_with<S: BlockStore>(
    paths: &DevicePaths,
    config: DeviceConfig,
    wrap: impl Fn(FileStore) -> S,
) -> Result<Device<S>> {
    let decoded = FileJournal::read(&paths.meta)?;
    let name = paths.meta.display().to_string();
    let (_, durable_len) = crate::superblock::read_durable_len(&paths.meta)?;
    crate::superblock::check(&paths.meta, decoded.valid_len, durable_len)?;
    let header = header(&name, &decoded.records)?;
    made_for(&name, header.variant, config.variant)?;
    // The images before the replay: their sizes bound the table the replay builds.
    let (a, b) = header
        .variant
        .image_blocks(header.volume_blocks, header.area_slots);
    let image_a = FileStore::open(&paths.image_a, header.block_size, Some(a))?;
    let image_b = FileStore::open(&paths.image_b, header.block_size, Some(b))?;
    // Only now, with both images locked, may the metadata file change.
    FileJournal::drop_torn_tail(&paths.meta, &decoded)?;
    let restored = replay(&name, &decoded.records)?;
    let journal = FileJournal::open_append(&paths.meta)?;
    let mut device = Device::new(config, wrap(image_a), wrap(image_b))?;
    device.recover_from(&name, restored, Box::new(journal))?;
    Ok(device)
}
