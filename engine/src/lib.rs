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
//! Storage is any [`BlockStore`]: [`MemStore`] in memory, [`FileStore`] on a raw
//! image file; [`file`] builds a device whose metadata survives close and reopen.
//! Every physical operation is counted ([`IoCost`] per call, [`Counters`] in total).
//! All methods take `&self`: the device is shared between threads, ordered by its own
//! group-1 locks and optional group-2 stripe locks ([`DeviceConfig`]).

mod cost;
mod device;
mod error;
pub mod file;
pub mod meta;
pub mod store;
mod sync;
pub mod table;
mod variant;

pub use cost::{Counters, IoCost};
pub use device::{BackupReport, Device, DeviceConfig, StripeLocks};
pub use error::{Error, Result};
pub use store::{BlockStore, FaultKind, FaultyStore, FileStore, MemStore, StoreError};
pub use table::LookupTable;
pub use variant::{Phase, Variant, Vlun};
