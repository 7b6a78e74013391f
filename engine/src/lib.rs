//! # owm engine: the one-way data mirror
//!
//! A device that presents two block volumes, **VLUN A** and **VLUN B**, over two
//! storage images, as the patent "One-way data mirror using copy-on-write" describes.
//! Before the backup request there is one volume. At the request the device *splits*:
//! transactions already running keep using VLUN A, whose writes are also applied to
//! VLUN B; transactions starting later use VLUN B only, whose writes never reach A.
//! When the old transactions end, VLUN A is transaction-consistent: it is archived
//! ([`Device::backup_a`]) and retired ([`Device::retire_a`]), and VLUN B goes on.
//!
//! Three variants ([`Variant`]) keep A and B apart: write mirroring (two full images),
//! write logging (B's differences in a log area with a lookup table on image B) and
//! copy-on-write (A's preserved blocks in a data area with a lookup table on image A).
//!
//! Storage is any [`BlockStore`]: [`MemStore`] in memory, [`SparseStore`] in memory
//! holding only the blocks written, [`FileStore`] on a raw image file; [`file`](mod@file) builds a device whose metadata survives close and reopen.
//! Every physical operation is counted ([`IoCost`] per call, [`Counters`] in total).
//! All methods take `&self`: the device is shared between threads, ordered by its own
//! group-1 locks and optional group-2 stripe locks ([`DeviceConfig`]).
//!
//! ```
//! use engine::{Device, Variant, Vlun};
//!
//! let d = Device::in_memory(Variant::CopyOnWrite, 512, 64)?;
//! d.write(Vlun::A, 0, &[1; 512])?; // before the request: one volume
//! d.split()?; // the backup request
//! d.write(Vlun::B, 0, &[2; 512])?; // a new transaction: never reaches A
//! let mut archive = Vec::new();
//! d.backup_a(&mut archive)?; // A is consistent once the old transactions end
//! assert_eq!(&archive[..512], &[1; 512][..]);
//! d.retire_a()?; // frees the copy-on-write area
//! assert_eq!(d.extra_space_blocks(), 0);
//! # Ok::<(), engine::Error>(())
//! ```
//!
//! ## Errors, acknowledgement, durability
//!
//! What the world can do wrong is an [`Error`]: a store's I/O error names the image and
//! the block, a bad image file or metadata file names the file (and the byte offset),
//! a call out of phase is [`Error::IllegalState`]. A broken invariant of the engine's
//! own is an assertion (a panic): a bug, never bad input.
//!
//! A write that returns `Ok` is acknowledged: every image it is routed to holds it, and
//! the table entry that makes it visible is journaled (data first, then the entry), so
//! it survives the process ending; [`Device::flush`] makes it survive a power loss too.
//! Under the default [`Durability::PowerSafe`], flush barriers inside the calls keep a
//! power loss from leaving an entry that points at data that is not durable (counted in
//! [`IoCost::flushes`]); recovery on open repairs what a crash can leave half done.
//! ARCHITECTURE.md (at the workspace root) states the durability model, the write order
//! of each variant step by step, and the recovery routine.
//!
//! ## Crashes, simulated
//!
//! [`CrashStore`] is a disk with a volatile write cache and [`MemJournal`] a journal with
//! unsynced appends; a [`CrashSwitch`] cuts the power at a chosen physical operation, and
//! the caller decides which unflushed writes survive ([`Fate`]), with no randomness of
//! their own. [`Device::with_journal`] builds a device on them, [`Device::recover`]
//! rebuilds one from the durable state, [`Device::power_cycle`] does both in one call
//! on any store that can lose power ([`PowerLoss`]).
//! A write that returns an error may have reached some images (its block then reads as
//! the old or the new data, per VLUN) but never leaves a table entry pointing at data
//! that was not written, and a failed VLUN B write never shows through VLUN A. After a
//! metadata journal failure the device refuses every further table or phase change
//! (fail-stop) rather than journal records that a reopen could not follow.

pub mod atomic;
mod block_buffer;
mod block_slots;
mod cost;
#[cfg(all(test, not(loom)))]
mod crash_test;
mod device;
mod entry_map;
mod error;
pub mod file;
pub mod identity;
pub mod latency;
pub mod meta;
mod prefetch;
mod recover;
pub mod regular;
mod repairs;
pub mod shown;
pub mod store;
pub mod superblock;
mod sync;
pub mod table;
mod variant;

pub use cost::{Counters, IoCost, SpaceInUse};
pub use device::{
    resync_set_bytes, BackupReport, Device, DeviceConfig, Durability, EntryContents, StripeLocks,
    JOURNAL_APPENDS_MAX, RESYNC_SET_BYTES_PER_BLOCK,
};
pub use error::{Error, Result};
pub use identity::{Identity, Mismatch};
pub use meta::MemJournal;
pub use repairs::Repairs;
pub use store::{
    BlockStore, CrashStore, CrashSwitch, Fate, FaultKind, FaultyStore, FileStore, InitialContent,
    InitialPrefix, MemStore, PendingWrite, PowerLoss, SparseStore, StoreError,
};
pub use table::LookupTable;
pub use variant::{Geometry, Image, Phase, Variant, Vlun};
