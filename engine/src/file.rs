//! The file-backed device: two raw image files and a metadata journal beside them.
//!
//! Closing and reopening restores a split device exactly (phase, lookup table, data),
//! because every table or phase change is journaled after the data it makes visible
//! and before the write is acknowledged.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::device::{Device, DeviceConfig};
use crate::error::Result;
use crate::meta::{FileJournal, MetaError, MetaRecord};
use crate::store::{BlockStore, FileStore};
use crate::table::LookupTable;
use crate::{Phase, Variant};

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

/// The geometry of a new device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub block_size: usize,
    pub volume_blocks: u64,
    /// Data-area slots for write logging and copy-on-write (ignored by mirroring).
    pub area_slots: u64,
}

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
    let decoded = FileJournal::load(&paths.meta)?;
    let name = paths.meta.display().to_string();
    let header = header(&name, &decoded.records)?;
    if header.variant != config.variant {
        return Err(MetaError::at(
            &name,
            HEADER_OFFSET,
            format!(
                "the device was made for {}, not {}",
                header.variant, config.variant
            ),
        )
        .into());
    }
    // The images before the replay: their sizes bound the table the replay builds.
    let (a, b) = header
        .variant
        .image_blocks(header.volume_blocks, header.area_slots);
    let image_a = FileStore::open(&paths.image_a, header.block_size, Some(a))?;
    let image_b = FileStore::open(&paths.image_b, header.block_size, Some(b))?;
    let restored = replay(&name, &decoded.records)?;
    let journal = FileJournal::open_append(&paths.meta)?;
    Device::new(config, wrap(image_a), wrap(image_b))?.recover_from(restored, Box::new(journal))
}

/// Byte offset of the header record in a metadata file (right after the magic).
const HEADER_OFFSET: u64 = crate::meta::MAGIC.len() as u64;

/// Largest volume a journal may declare: the lookup table holds one word per volume
/// block in memory, so an absurd size is refused before anything is allocated.
const VOLUME_BLOCKS_MAX: u64 = 1 << 36;

/// The geometry the journal's first record declares, checked for sanity.
fn header(path: &str, records: &[(u64, MetaRecord)]) -> Result<Restored, MetaError> {
    let Some((
        _,
        MetaRecord::Header {
            variant,
            block_size,
            volume_blocks,
            area_slots,
        },
    )) = records.first()
    else {
        return Err(MetaError::at(
            path,
            HEADER_OFFSET,
            "the first record is not the device header",
        ));
    };
    if *block_size == 0 || *volume_blocks == 0 || *area_slots > crate::table::AREA_SLOTS_MAX {
        return Err(MetaError::at(
            path,
            HEADER_OFFSET,
            "impossible geometry in the header",
        ));
    }
    if *volume_blocks > VOLUME_BLOCKS_MAX {
        return Err(MetaError::at(
            path,
            HEADER_OFFSET,
            "volume too large for a lookup table",
        ));
    }
    Ok(Restored {
        variant: *variant,
        block_size: *block_size as usize,
        volume_blocks: *volume_blocks,
        area_slots: *area_slots,
        phase: Phase::Single,
        table: None,
        area_peak: 0,
        dirty: BTreeSet::new(),
        diverged: BTreeSet::new(),
    })
}

/// The device state a journal describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub variant: Variant,
    pub block_size: usize,
    pub volume_blocks: u64,
    pub area_slots: u64,
    pub phase: Phase,
    pub table: Option<LookupTable>,
    pub area_peak: u64,
    /// Mirroring: blocks written through VLUN A that no completed flush covers; a
    /// crash may have left images A and B different there.
    pub dirty: BTreeSet<u64>,
    /// Mirroring, split phase: blocks VLUN B has written (recovery leaves them alone).
    pub diverged: BTreeSet<u64>,
}

/// Replays decoded records into a device state, checking that every step is one the
/// device could have taken; an impossible step is corruption at that record.
pub fn replay(path: &str, records: &[(u64, MetaRecord)]) -> Result<Restored, MetaError> {
    let mut s = header(path, records)?;
    let iter = records.iter().skip(1);
    let has_table = s.variant != Variant::WriteMirroring;
    // Dirty blocks before the last flush mark (cleaned by its `Clean`), and after it.
    let mut dirty_flushing = BTreeSet::new();
    for (at, rec) in iter {
        let bad = |r: String| MetaError::at(path, *at, r);
        match rec {
            MetaRecord::Header { .. } => return Err(bad("a second header".into())),
            MetaRecord::Phase(p) => {
                let legal = matches!(
                    (s.phase, p),
                    (Phase::Single, Phase::Split)
                        | (Phase::Split, Phase::BackedUp)
                        | (Phase::BackedUp, Phase::BackedUp)
                        | (Phase::BackedUp, Phase::Retired)
                );
                if !legal {
                    return Err(bad(format!("phase {} cannot follow {}", p, s.phase)));
                }
                if *p == Phase::Split && has_table {
                    s.table = Some(LookupTable::new(s.volume_blocks, s.area_slots));
                }
                s.phase = *p;
            }
            MetaRecord::Insert { block, slot } => {
                let t = s
                    .table
                    .as_mut()
                    .ok_or_else(|| bad("entry with no table".into()))?;
                if *block >= s.volume_blocks || u64::from(*slot) >= s.area_slots {
                    return Err(bad(format!("entry {block} → {slot} out of range")));
                }
                if t.lookup(*block).is_some() {
                    return Err(bad(format!("block {block} already has an entry")));
                }
                t.insert_at(*block, *slot).map_err(bad)?;
                s.area_peak = s.area_peak.max(t.in_use());
            }
            MetaRecord::Remove { block } => {
                let t = s
                    .table
                    .as_mut()
                    .ok_or_else(|| bad("removal with no table".into()))?;
                if *block >= s.volume_blocks || t.remove(*block).is_none() {
                    return Err(bad(format!("removal of block {block}, which has no entry")));
                }
            }
            MetaRecord::Clear => {
                if s.phase != Phase::Retired {
                    return Err(bad("table dropped before VLUN A was retired".into()));
                }
                s.table = None;
            }
            MetaRecord::Table {
                next_fresh,
                peak,
                free,
                entries,
            } => {
                if !has_table || s.phase == Phase::Single {
                    return Err(bad("table snapshot where there is no table".into()));
                }
                let t = LookupTable::from_parts(
                    s.volume_blocks,
                    s.area_slots,
                    *next_fresh,
                    free.clone(),
                    entries,
                    *peak,
                )
                .map_err(bad)?;
                s.area_peak = t.peak();
                s.table = Some(t);
            }
            MetaRecord::Dirty { block } => {
                if has_table || *block >= s.volume_blocks {
                    return Err(bad(format!("dirty mark of block {block} out of place")));
                }
                s.dirty.insert(*block);
            }
            MetaRecord::Diverged { block } => {
                if has_table || *block >= s.volume_blocks {
                    return Err(bad(format!(
                        "divergence mark of block {block} out of place"
                    )));
                }
                s.diverged.insert(*block);
            }
            MetaRecord::FlushMark => dirty_flushing.append(&mut s.dirty),
            MetaRecord::Clean => dirty_flushing.clear(),
        }
    }
    s.dirty.append(&mut dirty_flushing);
    s.dirty.retain(|b| !s.diverged.contains(b));
    if s.phase != Phase::Split {
        // Only the split phase writes through VLUN A and VLUN B both.
        s.diverged.clear();
    }
    Ok(s)
}
