//! The engine's typed errors: what the world can do wrong (bad files, failing disks,
//! calls out of order). Bugs in the engine are assertions, never these.

use crate::store::StoreError;
use crate::{Phase, Variant, Vlun};

/// Everything a device call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A store failed; the error names the image and the block. (A store's
    /// [`StoreError::OutOfMemory`] becomes [`Error::OutOfMemory`].)
    #[error(transparent)]
    Store(StoreError),
    /// The call is not legal in the device's current phase.
    #[error("cannot {op} while the device is {phase}")]
    IllegalState { op: &'static str, phase: Phase },
    /// A block index past the end of the volume.
    #[error("{vlun}: block {block} is out of range (the volume has {blocks} blocks)")]
    OutOfRange { vlun: Vlun, block: u64, blocks: u64 },
    /// A buffer that is not one block long.
    #[error("{vlun}: block {block}: buffer of {len} bytes, the block size is {block_size}")]
    BufferSize {
        vlun: Vlun,
        block: u64,
        len: usize,
        block_size: usize,
    },
    /// The images do not fit the variant's layout.
    #[error("{variant}: {reason}")]
    Geometry { variant: Variant, reason: String },
    /// The data area that holds the variant's extra copies is full: the write was not
    /// done (VLUN B refuses it, as a full dm-snapshot does; VLUN A is unharmed).
    #[error("{variant}: data area full ({slots} slots): write to {vlun} block {block} refused")]
    DataAreaFull {
        variant: Variant,
        vlun: Vlun,
        block: u64,
        slots: u64,
    },
    /// Reading VLUN A failed during `backup_a`: `blocks_done` blocks were archived,
    /// `block` could not be read (the source error names the image and its block).
    #[error("backup of VLUN A: reading block {block} failed after {blocks_done} blocks archived: {source}")]
    BackupRead {
        blocks_done: u64,
        block: u64,
        #[source]
        source: Box<Error>,
    },
    /// `retire_a` without a complete archive of VLUN A: retiring would lose the only
    /// consistent image. Run `backup_a` to completion first (or retire explicitly with
    /// `retire_a_without_archive`).
    #[error(
        "cannot retire VLUN A: no backup of it has completed (run backup_a to completion first)"
    )]
    NoArchive,
    /// The archive writer failed during `backup_a`.
    #[error("backup of VLUN A: archive write failed after {blocks_done} blocks: {source}")]
    Archive {
        blocks_done: u64,
        #[source]
        source: std::io::Error,
    },
    /// A file of a file-backed device does not belong to it: `file` (an image file, the
    /// metadata file or its superblock) is another device's, the other image, of
    /// another layout or length, stale, another copy's of this device (its directory
    /// copied and served apart), or unlabelled ([`crate::identity`]). Nothing was
    /// changed.
    #[error("{file}: does not belong to this device: {mismatch}")]
    Identity {
        file: String,
        mismatch: crate::identity::Mismatch,
    },
    /// The files of a file-backed device belong to different devices and which of them
    /// are this device's cannot be told (no device is named by more of them than any
    /// other, [`crate::file::open`]): `owners` lists each file that names a device
    /// (path, device id as text). Nothing was changed.
    #[error(
        "the device's files belong to different devices ({}): which of them are this \
         device's cannot be told; put the four files of one device together",
        owners_text(owners)
    )]
    MixedDevices { owners: Vec<(String, String)> },
    /// Integrity mode: a block read back does not match its checksum — the disk rotted
    /// it, tore it, or wrote it elsewhere (a misdirected write). `block` is the
    /// physical block of `image` (the file `store`), `logical` the volume block whose
    /// data it should hold. Nothing is returned for it.
    #[error(
        "{store} ({image}): block {block} (volume block {logical}) does not match its checksum"
    )]
    Integrity {
        image: crate::Image,
        store: String,
        block: u64,
        logical: u64,
    },
    /// The device metadata file is corrupt, truncated or unreadable.
    #[error(transparent)]
    Meta(#[from] crate::meta::MetaError),
    /// The system refused the memory for a buffer of `bytes` bytes (one block, or a
    /// block's leading bytes: a large block size under memory pressure) that the call
    /// needs to `purpose`. The buffer is asked for before the call changes anything,
    /// so the device is as it was: the call can be repeated once memory is free.
    #[error(
        "out of memory: cannot allocate a buffer of {bytes} bytes to {purpose}; \
         nothing was changed (try again once memory is free)"
    )]
    OutOfMemory { purpose: &'static str, bytes: usize },
}

impl From<StoreError> for Error {
    /// [`Error::Store`], but a store's refused buffer is [`Error::OutOfMemory`]: a
    /// device's call fails with the one out-of-memory error whichever layer asked.
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::OutOfMemory { bytes, purpose, .. } => Error::OutOfMemory { purpose, bytes },
            e => Error::Store(e),
        }
    }
}

/// `owners` grouped by device: `A and B to device X; C to device Y`.
fn owners_text(owners: &[(String, String)]) -> String {
    let mut ids: Vec<&str> = Vec::new();
    for (_, id) in owners {
        if !ids.contains(&id.as_str()) {
            ids.push(id);
        }
    }
    ids.iter()
        .map(|id| {
            let files: Vec<&str> = owners
                .iter()
                .filter(|(_, i)| i == id)
                .map(|(f, _)| f.as_str())
                .collect();
            format!("{} to device {id}", files.join(" and "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Result of a device call.
pub type Result<T, E = Error> = std::result::Result<T, E>;
