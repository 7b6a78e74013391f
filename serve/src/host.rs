//! The served device: one file-backed [`Device`] shared by every NBD connection and the
//! control socket, and the rules that map a connection to a VLUN.
//!
//! A connection's role is fixed when it attaches, from its export name and the number
//! of splits the server has made so far (`S`); which VLUN a request reaches follows
//! from that role and the splits made since, on every backup cycle alike (patent
//! \[0030\]-\[0036\]: transactions in flight at a backup request finish on VLUN A, new
//! ones use VLUN B; \[0064\]-\[0066\]: each VLUN presents a conventional storage
//! interface). Exports:
//! - `""` (the default export) and `vlun`: the live volume; `vlun-b` the same from
//!   the first split on (refused before it: there is no VLUN B yet); `vlun-a` the same
//!   before the first split (it is then the one volume).
//! - `vlun-a` after a split: that cycle's VLUN A, read-only (a backup tool pulls it);
//!   refused once VLUN A is retired.
//!
//! A connection to the live volume attached after `S` splits:
//! - while the server has made `S` splits, reads and writes the live volume (VLUN A
//!   before the first split, VLUN B after any split);
//! - once split `S+1` is made, it is an old transaction of that cycle: it reads and
//!   writes that cycle's VLUN A until the backup starts (the engine then refuses A
//!   writes: `EPERM`), and once that VLUN A is retired its requests get `EPERM`;
//! - from split `S+2` on, its requests get `EPERM` (it was opened before an earlier
//!   backup cycle: reconnect).
//!
//! A read-only `vlun-a` connection is valid within its own cycle only: from the retire
//! on (and never again, whatever split follows) its requests get `EPERM`.
//!
//! Requests are routed block by block. Each block's read or write holds the block's
//! request stripe from before it reads the split count and the phase until the engine
//! call returns; a split holds every stripe while it changes the phase and the count
//! (mirroring the engine's group-1 exclusion, `engine::device::phase`). So a block is
//! served either entirely before a split or entirely by the new routing (a retire
//! needs no exclusion: a block routed to VLUN A just before it is refused by the
//! engine after it, and write logging's merge runs beside the users' requests),
//! and a steady request pays one stripe mutex (writes held it before, for partial
//! blocks) and one atomic load per block. Lock order: the device's lock (shared), a
//! stripe (all of them, ascending, for an exclusion), then the engine's own.
//! The count starts at 0 when the server starts (connections do not outlive it): a
//! device served again mid-cycle routes its new connections by its phase alone.

use engine::shown::ShowName as _;
use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use engine::file::{
    self, archive_marker, detach_marker, read_archive_record, refuse_detached,
    write_archive_record, ArchiveRecord, DevicePaths,
};
use engine::latency::LatencyLog;
use engine::{Device, DeviceConfig, FileStore, Phase, Variant, Vlun};

/// An error for an NBD client: the errno nbdkit turns into the protocol's error, and
/// the message it logs.
#[derive(Debug)]
pub struct IoError {
    pub errno: i32,
    pub message: String,
}

impl IoError {
    fn new(errno: i32, message: impl Into<String>) -> Self {
        IoError {
            errno,
            message: message.into(),
        }
    }
}

impl From<engine::Error> for IoError {
    /// A call out of phase (a write to a frozen VLUN A) is `EPERM`, a full data area
    /// `ENOSPC`, and so is a write the device's file system had no room for (an
    /// image's block or the metadata journal refused `ENOSPC`, `EDQUOT` or `EFBIG`:
    /// a client that pauses on `ENOSPC` can wait for room), a block buffer the system
    /// refused `ENOMEM`, a block past the end `EINVAL`, anything else from the disk
    /// `EIO`.
    fn from(e: engine::Error) -> Self {
        let errno = match &e {
            engine::Error::IllegalState { .. } => libc::EPERM,
            engine::Error::DataAreaFull { .. } => libc::ENOSPC,
            engine::Error::OutOfMemory { .. } => libc::ENOMEM,
            engine::Error::OutOfRange { .. } | engine::Error::BufferSize { .. } => libc::EINVAL,
            _ if matches!(
                os_error(&e),
                Some(libc::ENOSPC | libc::EDQUOT | libc::EFBIG)
            ) =>
            {
                libc::ENOSPC
            }
            _ => libc::EIO,
        };
        IoError::new(errno, e.to_string())
    }
}

/// The operating system's error number behind `e`, if the system refused an I/O:
/// the first one along its chain of sources (an image's `std::io::Error`, or the
/// number a metadata error kept).
fn os_error(e: &engine::Error) -> Option<i32> {
    let mut at: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = at {
        if let Some(engine::Error::Meta(m)) = err.downcast_ref::<engine::Error>() {
            return m.os_error;
        }
        if let Some(m) = err.downcast_ref::<engine::meta::MetaError>() {
            return m.os_error;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return io.raw_os_error();
        }
        at = err.source();
    }
    None
}

/// What one NBD connection is, fixed when it attaches (see the module docs); the VLUN
/// each request reaches is decided per block ([`Host::route`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The live volume as of `splits` splits made: an old transaction of the cycle
    /// the next split begins, stale from the one after.
    Live { splits: u64 },
    /// VLUN A of the cycle split number `splits` began (read-only), until its retire.
    Archive { splits: u64 },
}

/// One NBD connection's role, and whether it may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attachment {
    pub role: Role,
    pub writable: bool,
}

/// The archive a completed `backup` wrote, remembered in `archive.json` beside the
/// device ([`engine::file::ArchiveRecord`]) so that a restarted server still knows
/// VLUN A may be retired.
pub type Archive = ArchiveRecord;

/// Request stripes, one per block modulo their number: a block's read or write holds
/// its stripe across the routing and the engine call (so two requests patching the
/// same block do not interleave, and no split cuts through a block); a split holds
/// all of them ([`Host::exclude_requests`]).
const STRIPES: usize = 64;

/// The device and what the control plane knows beside it.
pub struct Host {
    dir: PathBuf,
    variant: Variant,
    /// Integrity mode, as the device was made ([`engine::DeviceConfig::integrity`]).
    integrity: bool,
    block_size: usize,
    volume_blocks: u64,
    /// `None` once VLUN B was detached (the device no longer exists).
    device: RwLock<Option<Device<FileStore>>>,
    stripes: Vec<Mutex<()>>,
    /// The splits this server has made: what a connection's role is measured against.
    /// Changed only while every stripe is held.
    splits: AtomicU64,
    archive: Mutex<Option<Archive>>,
    /// Whether a `backup` is streaming VLUN A now, or an `abandon` dropping it (a
    /// second of either is refused: `busy`).
    backing_up: AtomicBool,
    /// The temporary files of the backups and detaches copying now
    /// (`.NAME.XXXXXX.tmp`): removed by [`Host::shutdown`] on a graceful stop.
    copying: Mutex<Vec<PathBuf>>,
    /// The control socket's path (one of the device's own files).
    control_path: PathBuf,
    /// The wall time of each block write the engine served, by the barriers it paid
    /// `(image flushes, journal syncs)`, since the last `timings` reading.
    write_times: Mutex<BTreeMap<(u32, u32), LatencyLog>>,
    /// This server opened the device's files left served (not closed cleanly: the
    /// last server was killed or crashed) and recovered it from its metadata journal.
    recovered: bool,
}

impl Host {
    /// Opens the device in `dir` (its variant read from the metadata journal's header).
    /// `control` is the control socket's path (refused as a `to` path like the
    /// device's other files).
    ///
    /// Errors: a detached device ([`refuse_detached`]), the engine's open errors, an
    /// `archive.json` that is damaged or another device's ([`read_archive_record`]).
    pub fn open(dir: &Path, control: &Path) -> Result<Self, String> {
        refuse_detached(dir)?;
        let paths = DevicePaths::in_dir(dir);
        let variant = journal_variant(&paths)?;
        let device = file::open(&paths, DeviceConfig::new(variant)).map_err(|e| e.to_string())?;
        // The marker speaks for the current cycle's VLUN A only: once A is retired (or
        // before a split) a leftover of an earlier cycle is not an archive of anything,
        // nor is it while the journal records no complete archive of this cycle's A (a
        // backup that failed after a crash kept an earlier cycle's marker: it would
        // name that cycle's file as this one's). A damaged or foreign one is refused
        // in every phase.
        let archive = read_archive_record(dir, &device.identity())?
            .filter(|_| device.phase() == Phase::BackedUp && device.archive_complete());
        let marker = engine::file::serving_marker(dir);
        if let Ok(m) = std::fs::metadata(&marker) {
            if !m.is_file() {
                let what = if m.is_dir() {
                    "is a directory"
                } else {
                    engine::regular::NOT_REGULAR
                };
                return Err(format!(
                    "{}: {what}; the server records there that it serves the device: remove it",
                    marker.shown(),
                ));
            }
        }
        let who = device.identity();
        let recovered = engine::file::left_served(dir, &who);
        if recovered {
            eprintln!(
                "note: {}: the device's files were not closed cleanly: the server was \
                 killed or crashed, or these files are a copy taken while the device was \
                 served; recovering from the metadata journal (every write a completed \
                 flush covered is kept). A copy taken while the device was served can \
                 mix moments of it, which no check can detect: serve only copies taken \
                 while the server was stopped",
                dir.shown()
            );
        }
        for note in device.repairs().notes(dir, !recovered) {
            eprintln!("{note}");
        }
        let text = serde_json::json!({ "device": who.id_text() });
        engine::atomic::write_atomic(&marker, text.to_string().as_bytes()).map_err(|e| {
            format!(
                "{}: cannot record that the device is served: {e}",
                marker.shown()
            )
        })?;
        Ok(Host {
            dir: dir.to_path_buf(),
            variant,
            integrity: device.config().integrity,
            block_size: device.block_size(),
            volume_blocks: device.volume_blocks(),
            device: RwLock::new(Some(device)),
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
            splits: AtomicU64::new(0),
            archive: Mutex::new(archive),
            backing_up: AtomicBool::new(false),
            copying: Mutex::new(Vec::new()),
            control_path: control.to_path_buf(),
            write_times: Mutex::new(BTreeMap::new()),
            recovered,
        })
    }

    /// Volume size in bytes (both VLUNs have it).
    pub fn size_bytes(&self) -> u64 {
        self.volume_blocks * self.block_size as u64
    }

    fn with_device<T>(
        &self,
        f: impl FnOnce(&Device<FileStore>) -> Result<T, IoError>,
    ) -> Result<T, IoError> {
        let guard = self.device.read().unwrap_or_else(|p| p.into_inner());
        match guard.as_ref() {
            Some(d) => f(d),
            None => Err(IoError::new(
                libc::ESHUTDOWN,
                "VLUN B was detached: the device no longer exists",
            )),
        }
    }

    /// What a new connection to `export` gets (see the module docs), or why it is
    /// refused (`ENOENT`).
    pub fn attach(&self, export: &str, readonly: bool) -> Result<Attachment, IoError> {
        let (splits, phase) = self.with_device(|d| {
            // Any stripe keeps a split out: the count and the phase agree.
            let _stripe = self.stripe(0);
            Ok((self.splits.load(Ordering::Acquire), d.phase()))
        })?;
        let refuse = |why: String| Err(IoError::new(libc::ENOENT, why));
        let (role, writable) = match (export, phase) {
            ("" | "vlun" | "vlun-a", Phase::Single) => (Role::Live { splits }, true),
            ("vlun-a", Phase::Split | Phase::BackedUp) => (Role::Archive { splits }, false),
            ("vlun-a", Phase::Retired) => return refuse("vlun-a: VLUN A was retired".into()),
            ("vlun-b", Phase::Single) => {
                return refuse("vlun-b: there is no VLUN B before the split".into())
            }
            ("" | "vlun" | "vlun-b", _) => (Role::Live { splits }, true),
            (other, _) => {
                return refuse(format!(
                    "no export named `{other}` (exports: vlun-a, vlun-b, vlun)"
                ))
            }
        };
        Ok(Attachment {
            role,
            writable: writable && !readonly,
        })
    }

    /// The stripe of `block`, held.
    fn stripe(&self, block: u64) -> MutexGuard<'_, ()> {
        self.stripes[(block % STRIPES as u64) as usize]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Every stripe, held (ascending): no block of a request is being routed or
    /// served while the result lives.
    fn exclude_requests(&self) -> Vec<MutexGuard<'_, ()>> {
        (0..STRIPES as u64).map(|i| self.stripe(i)).collect()
    }

    /// The VLUN a request of `role` reaches now (see the module docs), or why it is
    /// refused (`EPERM`). The caller holds a stripe: the split count and the phase
    /// cannot change until it is released.
    fn route(&self, d: &Device<FileStore>, role: Role) -> Result<Vlun, IoError> {
        let now = self.splits.load(Ordering::Acquire);
        let phase = d.phase();
        let refuse = |why: &str| Err(IoError::new(libc::EPERM, why));
        match role {
            Role::Live { splits } if now == splits => Ok(if phase == Phase::Single {
                Vlun::A
            } else {
                Vlun::B
            }),
            Role::Live { splits } if now == splits + 1 => {
                if phase == Phase::Retired {
                    refuse(
                        "this connection was opened before the split of the current backup \
                         cycle (an old transaction on VLUN A), and that VLUN A was retired: \
                         reconnect to reach the live volume",
                    )
                } else {
                    Ok(Vlun::A)
                }
            }
            Role::Live { .. } => refuse(
                "this connection was opened before an earlier backup cycle (its \
                 transactions ended on that cycle's VLUN A): reconnect to reach the live \
                 volume",
            ),
            Role::Archive { splits } if now == splits && phase != Phase::Retired => Ok(Vlun::A),
            Role::Archive { .. } => refuse(
                "this connection's VLUN A (read-only, of the backup cycle it was opened \
                 in) was retired: connect to vlun-a after the next split to read that \
                 cycle's VLUN A",
            ),
        }
    }

    /// Reads `buf.len()` bytes at byte `offset` as `role` reaches them (any alignment;
    /// nbdkit has checked the range against [`Host::size_bytes`]).
    pub fn read(&self, role: Role, buf: &mut [u8], offset: u64) -> Result<(), IoError> {
        let bs = self.block_size;
        self.with_device(|d| {
            // Only a partial block needs a buffer of its own, made once it is met.
            let mut block_buf: Option<Vec<u8>> = None;
            let mut done = 0usize;
            while done < buf.len() {
                let at = offset + done as u64;
                let block = at / bs as u64;
                let within = (at % bs as u64) as usize;
                let n = (bs - within).min(buf.len() - done);
                let _stripe = self.stripe(block);
                let vlun = self.route(d, role)?;
                if within == 0 && n == bs {
                    d.read(vlun, block, &mut buf[done..done + bs])?;
                } else {
                    let block_buf = block_buffer(&mut block_buf, bs)?;
                    d.read(vlun, block, block_buf)?;
                    buf[done..done + n].copy_from_slice(&block_buf[within..within + n]);
                }
                done += n;
            }
            Ok(())
        })
    }

    /// Writes `data` at byte `offset` as `role` reaches it; `None` writes zeros. A
    /// partial block is read, patched and written back under its stripe.
    pub fn write(
        &self,
        role: Role,
        data: Option<&[u8]>,
        len: usize,
        offset: u64,
    ) -> Result<(), IoError> {
        let bs = self.block_size;
        self.with_device(|d| {
            // A block of zeros for whole zeroed blocks, a block for partial ones: each
            // made once it is needed.
            let mut zeros: Option<Vec<u8>> = None;
            let mut block_buf: Option<Vec<u8>> = None;
            let mut done = 0usize;
            while done < len {
                let at = offset + done as u64;
                let block = at / bs as u64;
                let within = (at % bs as u64) as usize;
                let n = (bs - within).min(len - done);
                let src = data.map(|s| &s[done..done + n]);
                let _stripe = self.stripe(block);
                let vlun = self.route(d, role)?;
                let started = Instant::now();
                let cost = if within == 0 && n == bs {
                    match src {
                        Some(s) => d.write(vlun, block, s)?,
                        None => d.write(vlun, block, block_buffer(&mut zeros, bs)?)?,
                    }
                } else {
                    let block_buf = block_buffer(&mut block_buf, bs)?;
                    d.read(vlun, block, block_buf)?;
                    match src {
                        Some(s) => block_buf[within..within + n].copy_from_slice(s),
                        None => block_buf[within..within + n].fill(0),
                    }
                    d.write(vlun, block, block_buf)?
                };
                self.note_write(&cost, started.elapsed());
                done += n;
            }
            Ok(())
        })
    }

    /// The engine's flush: every acknowledged write made durable (images, then metadata).
    pub fn flush(&self) -> Result<(), IoError> {
        self.with_device(|d| d.flush().map_err(IoError::from))
    }

    /// The backup request: a new cycle begins (the split count advances with the
    /// phase, every request excluded). A new cycle's VLUN A has no archive yet: an
    /// earlier cycle's record is dropped.
    pub fn split(&self) -> Result<(), ControlError> {
        self.control(|d| {
            let _excluded = self.exclude_requests();
            d.split()?;
            self.splits.fetch_add(1, Ordering::AcqRel);
            Ok(())
        })?;
        self.forget_archive();
        Ok(())
    }

    /// Streams VLUN A to `to` and records it. The archive goes to a new temporary file
    /// of its own beside `to`'s file (where a symbolic link leads, the link kept:
    /// [`engine::atomic::write_target`]) (`.NAME.XXXXXX.tmp`,
    /// [`engine::atomic::temporary_beside`]), synced, renamed over that file, and its
    /// directory synced; only then is it recorded, in the journal (complete:
    /// [`Device::backup_a_copied`]) and then in `archive.json`: no half-written archive
    /// ever carries the name, and no record names an archive that is not in place.
    /// Any failure before the rename (the last write, the sync, the rename itself)
    /// leaves no archive at `to` and nothing recorded; a server that dies between the
    /// rename and the record leaves the archive at `to` unrecorded (whole, but not
    /// taken as this cycle's archive: `status` says none completed, and a backup again
    /// records one). VLUN A is read-only from the first block on. First the
    /// temporary files of `to` that a killed backup or detach left are removed
    /// ([`engine::atomic::remove_stale_temporaries`]; a live writer's is kept): the
    /// paths removed are returned with the archive.
    ///
    /// Errors: `bad-request` for a `to` that is one of the device's own files
    /// ([`Host::refuse_own_file`]) or that no file can replace (another device's file
    /// too: [`refuse_unreplaceable`]); `busy` while another backup of
    /// this device runs; `out-of-order` before the split or once A is retired; `io`:
    /// no archive at `to` when the copy failed, and, when the copy completed but
    /// `archive.json` cannot be written (a full file system), the archive kept at
    /// `to`, whole but unrecorded, the message saying so: the journal then records
    /// a completed archive whose record is missing ([`Host::status`]'s
    /// `archive_problem`, and the retire's refusal, say so).
    pub fn backup(&self, to: &Path) -> Result<(Archive, Vec<PathBuf>), ControlError> {
        self.refuse_own_file(to)?;
        refuse_unreplaceable(to)?;
        let _running = self.streaming_a(|| {
            format!(
                "cannot back up to {}: another backup of this device, or an abandon of \
                 its VLUN A, is running",
                to.shown()
            )
        })?;
        let file_err =
            |what: &str, e: std::io::Error| ControlError::io(format!("{what} {}: {e}", to.shown()));
        // A failure of the copy or after it leaves no archive at `to` and nothing
        // recorded.
        let not_kept = |e: &dyn std::fmt::Display| {
            ControlError::io(format!(
                "cannot back up VLUN A to {}: {e}; nothing was written there (the copy was \
                 removed) and no archive is recorded, so VLUN A cannot be retired yet: \
                 {WAYS_ON}",
                to.shown()
            ))
        };
        let stale_removed = engine::atomic::remove_stale_temporaries(to);
        let tmp = engine::atomic::temporary_beside(to)
            .map_err(|e| file_err("cannot create a temporary file beside", e))?;
        let _copying = self.copying(tmp.path());
        let mut w = BufWriter::new(tmp.as_file());
        // A failed backup drops `tmp`, which removes the temporary file. The copy
        // records nothing: the archive is recorded (journaled, then `archive.json`)
        // only once it is in place at `to`.
        let copied = if fails_at("backup-copy") {
            // The archive's file system fills after the first block: the copy fails
            // midway.
            self.control(|d| {
                d.copy_a(&mut FailsAfter {
                    left: 1,
                    inner: &mut w,
                })
            })
        } else {
            self.control(|d| d.copy_a(&mut w))
        };
        let report = copied.map_err(|e| match e.kind {
            "io" => not_kept(&e.message),
            _ => e,
        })?;
        w.into_inner().map_err(|e| not_kept(&e.into_error()))?;
        let written = inode(&tmp.as_file().metadata().map_err(|e| not_kept(&e))?);
        if fails_at("backup-rename") {
            return Err(not_kept(&injected("backup-rename")));
        }
        engine::atomic::persist(tmp, to).map_err(|e| not_kept(&e))?;
        if fails_at("backup-record") {
            // Dies as a crash would (as `kill -9`), between the rename and the record.
            // SAFETY: `kill` of this process is a plain system call; SIGKILL ends it.
            unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
        }
        // Record only the file this backup wrote: if another writer has replaced `to`
        // since the rename, nothing is recorded.
        let stamp = match std::fs::metadata(to) {
            Ok(m) if inode(&m) == written => engine::file::FileStamp::of(&m),
            _ => {
                return Err(ControlError::io(format!(
                    "{}: replaced by another writer after the archive was written; \
                     no archive recorded, so VLUN A cannot be retired yet: {WAYS_ON}",
                    to.shown()
                )))
            }
        };
        // The archive is in place: the journal records it complete.
        self.control(|d| d.backup_a_copied())?;
        let archive = Archive {
            path: to.to_path_buf(),
            bytes: report.bytes,
            file: Some(stamp),
        };
        let who = self.control(|d| Ok(d.identity()))?;
        write_archive_record(&self.dir, &who, &archive).map_err(|e| {
            ControlError::io(format!(
                "the archive {} is complete ({} bytes) and kept there, but it is not \
                 recorded: {e}; so VLUN A cannot be retired on it: once archive.json can be \
                 written, {WAYS_ON}",
                to.shown(),
                archive.bytes,
            ))
        })?;
        *self.archive.lock().unwrap_or_else(|p| p.into_inner()) = Some(archive.clone());
        Ok((archive, stale_removed))
    }

    /// Registers `tmp` as a copy's temporary file until the result is dropped (the copy
    /// renamed it, or failed and removed it).
    fn copying(&self, tmp: &Path) -> Copying<'_> {
        let tmp = tmp.to_path_buf();
        self.copying
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(tmp.clone());
        Copying { host: self, tmp }
    }

    /// Drops the record of a completed archive, in memory and on disk.
    fn forget_archive(&self) {
        *self.archive.lock().unwrap_or_else(|p| p.into_inner()) = None;
        let _ = std::fs::remove_file(archive_marker(&self.dir));
    }

    /// The files this device owns: both images, the metadata and its superblock, the
    /// archive and detach records, the control socket.
    fn own_files(&self) -> Vec<PathBuf> {
        let paths = DevicePaths::in_dir(&self.dir);
        vec![
            engine::superblock::path_of(&paths.meta),
            paths.image_a,
            paths.image_b,
            paths.meta,
            archive_marker(&self.dir),
            detach_marker(&self.dir),
            engine::file::serving_marker(&self.dir),
            self.control_path.clone(),
        ]
    }

    /// Refuses (`bad-request`) a `to` path that is one of the device's own files
    /// ([`Host::own_files`]): by its resolved path (symbolic links and `..` followed,
    /// also when the file does not exist yet) or, where both exist, by device and
    /// inode (a hard link). Writing an archive or B' there would replace a live file
    /// of the device.
    fn refuse_own_file(&self, to: &Path) -> Result<(), ControlError> {
        let target = resolve(to);
        let to_inode = std::fs::metadata(to).ok().map(|m| inode(&m));
        for own in self.own_files() {
            let same_inode = to_inode.is_some()
                && std::fs::symlink_metadata(&own).ok().map(|m| inode(&m)) == to_inode;
            if same_inode || resolve(&own) == target {
                return Err(ControlError {
                    kind: "bad-request",
                    path: None,
                    message: format!(
                        "--to {}: is the device's own file {}; give a path outside the \
                         device's files",
                        to.shown(),
                        own.shown()
                    ),
                });
            }
        }
        Ok(())
    }

    /// Retires VLUN A, only once an archive of it completed and that archive is still
    /// where it was written, whole ([`archive_problem`]: the file is there, a regular
    /// file of the recorded length).
    ///
    /// Errors: `busy` while a backup runs (or an abandon); `out-of-order` before the
    /// split, while split (no backup has begun: a pull backup over NBD is not recorded)
    /// and when no backup completed in this cycle;
    /// `archive-lost` when the recorded archive file is missing, not a regular file or
    /// of another length (VLUN A is then the only whole copy, and is kept). Each
    /// refusal in the split and backed-up phases names the ways on: `owm device backup
    /// --to FILE` (a recorded archive), or `owm device abandon` (drop VLUN A without one).
    pub fn retire(&self) -> Result<(), ControlError> {
        if self.backing_up.load(Ordering::Acquire) {
            return Err(ControlError {
                kind: "busy",
                path: None,
                message: "cannot retire VLUN A: a backup of this device is running; retire \
                          once it has completed"
                    .into(),
            });
        }
        let (phase, journaled) = self.control(|d| Ok((d.phase(), d.archive_complete())))?;
        let archive = self.archive();
        let refuse = |kind: &'static str, why: String| {
            Err(ControlError {
                kind,
                path: None,
                message: format!("cannot retire VLUN A: {why}; {WAYS_ON}"),
            })
        };
        match (phase, &archive) {
            (Phase::Split, _) => {
                return refuse(
                    "out-of-order",
                    "the device is split and no backup of VLUN A has begun (a pull backup \
                     over NBD, e.g. `qemu-img convert` of vlun-a, is not recorded)"
                        .into(),
                )
            }
            (Phase::BackedUp, None) => {
                let marker = archive_marker(&self.dir);
                let why = if journaled {
                    record_missing(&self.dir)
                } else {
                    format!(
                        "no backup of it has completed in this cycle (no record of one in \
                         {}; a file a backup cut short left at its --to, by a failure or a \
                         crash before the record, is not taken as an archive)",
                        marker.shown()
                    )
                };
                return refuse("out-of-order", why);
            }
            (Phase::BackedUp, Some(a)) => {
                if let Some(problem) = archive_problem(a) {
                    return Err(ControlError {
                        kind: "archive-lost",
                        path: Some(a.path.clone()),
                        message: format!(
                            "cannot retire VLUN A: {problem}, and VLUN A is the only whole \
                             copy; {WAYS_ON}"
                        ),
                    });
                }
            }
            _ => {}
        }
        // No exclusion: a request routed to VLUN A just before the retire reaches an
        // A the engine then refuses (`EPERM`), as every later one is refused by its
        // routing; and write logging's merge, part of the retire, runs beside the
        // users' requests as it always did.
        self.control(|d| d.retire_a().map(|_| ()))?;
        self.forget_archive();
        Ok(())
    }

    /// Marks VLUN A as being streamed (a backup) or dropped (an abandon) until the
    /// result is dropped; `busy` with `message()` while another one runs.
    fn streaming_a(&self, message: impl FnOnce() -> String) -> Result<Running<'_>, ControlError> {
        self.backing_up
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| Running(&self.backing_up))
            .map_err(|_| ControlError {
                kind: "busy",
                path: None,
                message: message(),
            })
    }

    /// Drops VLUN A with no recorded archive ([`Device::abandon_a`]), in the split or
    /// backed-up phase: the backup of this cycle is given up, the variant's extra space
    /// is freed as by a retire, and VLUN B stays the live volume, unchanged; the phase
    /// is then `retired`. The way on after a backup that failed (a rotted block in
    /// integrity mode), a pull backup over NBD, or a lost archive.
    ///
    /// Errors: `out-of-order` outside the split and backed-up phases; `busy` while a
    /// backup runs; `io`, `out-of-memory` as for a retire.
    pub fn abandon(&self) -> Result<(), ControlError> {
        let running = self
            .streaming_a(|| "cannot abandon VLUN A: a backup of this device is running".into())?;
        let result = self.control(|d| d.abandon_a().map(|_| ()));
        drop(running);
        result?;
        self.forget_archive();
        Ok(())
    }

    /// Copies VLUN B to a new image file `to` and ends the device (\[0048\]); then
    /// records the end in [`detach_marker`], so the directory is not served again.
    ///
    /// B' is written as the archive is ([`Host::backup`]): to a new temporary file
    /// beside `to` (`.NAME.XXXXXX.tmp`), every block of VLUN B and a `fdatasync`, then
    /// renamed over `to` and `to`'s directory synced. A copy that fails (a full file
    /// system, a read error) removes the temporary file and leaves `to` as it was, and
    /// the device is still served (the detach can be asked again): no half-written B'
    /// ever carries the name. VLUN B does not change during the copy (every NBD call
    /// waits for it). Stale temporary files of `to` are removed first, as by
    /// [`Host::backup`]; the paths removed are returned.
    ///
    /// Errors: `bad-request` as for [`Host::backup`]; `out-of-order` before the retire;
    /// `detached`; `io`: the copy failed (the device is still served), or B' is in
    /// place but the end could not be recorded.
    pub fn detach(&self, to: &Path) -> Result<Vec<PathBuf>, ControlError> {
        self.refuse_own_file(to)?;
        refuse_unreplaceable(to)?;
        let mut guard = self.device.write().unwrap_or_else(|p| p.into_inner());
        let Some(d) = guard.as_ref() else {
            return Err(ControlError::detached());
        };
        if d.phase() != Phase::Retired {
            return Err(ControlError {
                kind: "out-of-order",
                path: None,
                message: format!(
                    "cannot detach VLUN B while the device is {}: retire VLUN A first",
                    d.phase()
                ),
            });
        }
        let failed = |e: String| {
            ControlError::io(format!(
                "cannot detach VLUN B to {}: {e}; nothing was written there (the partial \
                 copy was removed) and the device is still served",
                to.shown()
            ))
        };
        let stale_removed = engine::atomic::remove_stale_temporaries(to);
        let tmp = engine::atomic::temporary_beside(to)
            .map_err(|e| failed(format!("cannot create a temporary file beside it: {e}")))?;
        let _copying = self.copying(tmp.path());
        // A failed copy drops `tmp`, which removes the temporary file. The store writes
        // through a clone of `tmp`'s handle, which shares its lock.
        let handle = tmp
            .as_file()
            .try_clone()
            .map_err(|e| failed(format!("cannot open the temporary file beside it: {e}")))?;
        let b_prime = FileStore::create_on(handle, tmp.path(), self.block_size, self.volume_blocks)
            .map_err(|e| failed(e.to_string()))?;
        let who = d.identity();
        d.copy_b_to(&b_prime).map_err(|e| failed(e.to_string()))?;
        engine::atomic::persist(tmp, to).map_err(|e| failed(e.to_string()))?;
        // Released only now: the store's close releases the lock the temporary file
        // held until its rename.
        drop(b_prime);
        // B' is in place: the device ends.
        drop(guard.take());
        let marker = detach_marker(&self.dir);
        let text = serde_json::json!({
            "image": to.display().to_string(),
            "device": who.id_text(),
        });
        engine::atomic::write_atomic(&marker, text.to_string().as_bytes()).map_err(|e| {
            ControlError::io(format!(
                "VLUN B was detached to {}, but cannot record it in {}: {e}",
                to.shown(),
                marker.shown()
            ))
        })?;
        Ok(stale_removed)
    }

    /// The status the control plane prints, as JSON. `archive_completed` is what the
    /// journal holds: a completed archive of this cycle's VLUN A, whether
    /// `archive.json` records where it is (`archive`) or not; `archive_problem` says
    /// what is wrong with a recorded archive ([`archive_problem`]) or, for a completed
    /// archive with no record, that the record is missing and the ways on (as the
    /// retire's refusal does).
    pub fn status(&self) -> Result<serde_json::Value, ControlError> {
        let (phase, entries, space, journaled) = self.control(|d| {
            Ok((
                d.phase(),
                d.table().map(|t| t.in_use()).unwrap_or(0),
                d.space_in_use(),
                d.archive_complete(),
            ))
        })?;
        let archive = self.archive();
        // What the journal holds: a completed archive of this cycle's VLUN A, recorded
        // (`archive`) or not (its record could not be written, or was removed).
        let completed = archive.is_some() || (phase == Phase::BackedUp && journaled);
        let problem = match &archive {
            Some(a) => archive_problem(a),
            None if completed => Some(format!("{}; {WAYS_ON}", record_missing(&self.dir))),
            None => None,
        };
        Ok(serde_json::json!({
            "ok": true,
            "variant": self.variant.as_str(),
            "integrity": self.integrity,
            "phase": phase.to_string(),
            "block_size": self.block_size,
            "volume_blocks": self.volume_blocks,
            "table_entries": entries,
            "extra_space_blocks": space.extra_space_blocks,
            "kept_image_blocks": space.kept_image_blocks,
            "recovered_from_journal": self.recovered,
            "archive_completed": completed,
            "archive_problem": problem,
            "archive": archive.map(|a| serde_json::json!({
                "path": a.path.display().to_string(),
                "bytes": a.bytes,
            })),
        }))
    }

    fn note_write(&self, cost: &engine::IoCost, elapsed: Duration) {
        let key = (cost.image_flushes(), cost.journal_syncs);
        let mut times = self.write_times.lock().unwrap_or_else(|p| p.into_inner());
        times.entry(key).or_default().record(elapsed);
    }

    /// The wall times since the last reading (then a new interval begins), as JSON:
    /// the engine's barriers (`Device::take_barrier_times`: each image's flushes, the
    /// journal sync's `fdatasync` and superblock write) and the block writes it served,
    /// by the barriers each paid; with `samples`, every sample in order, µs.
    pub fn timings(&self, samples: bool) -> Result<serde_json::Value, ControlError> {
        let barriers = self.control(|d| Ok(d.take_barrier_times(samples)))?;
        let writes =
            std::mem::take(&mut *self.write_times.lock().unwrap_or_else(|p| p.into_inner()));
        let writes: Vec<serde_json::Value> = writes
            .into_iter()
            .map(|((image_flushes, journal_syncs), log)| {
                serde_json::json!({
                    "image_flushes": image_flushes,
                    "journal_syncs": journal_syncs,
                    "latency": log.take(samples),
                })
            })
            .collect();
        Ok(serde_json::json!({
            "ok": true,
            "barriers": barriers,
            "writes": writes,
        }))
    }

    fn archive(&self) -> Option<Archive> {
        self.archive
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn control<T>(
        &self,
        f: impl FnOnce(&Device<FileStore>) -> engine::Result<T>,
    ) -> Result<T, ControlError> {
        let guard = self.device.read().unwrap_or_else(|p| p.into_inner());
        let d = guard.as_ref().ok_or_else(ControlError::detached)?;
        f(d).map_err(ControlError::from)
    }

    /// The final flush on shutdown; once it succeeded (or VLUN B was detached), the
    /// [`engine::file::serving_marker`] is removed: the files were closed cleanly. First the
    /// temporary files of the backups and detaches still copying are removed: the
    /// process ends with them, so none of them will be renamed into place (a copy that
    /// renames its file meanwhile fails, the file gone).
    pub fn shutdown(&self) -> Result<(), String> {
        for tmp in self
            .copying
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = std::fs::remove_file(tmp);
        }
        match self.flush() {
            Ok(()) => {}
            Err(e) if e.errno == libc::ESHUTDOWN => {}
            Err(e) => return Err(e.message),
        }
        let _ = std::fs::remove_file(engine::file::serving_marker(&self.dir));
        Ok(())
    }
}

/// The request's block buffer in `slot`, made (`len` zero bytes) the first time it is
/// asked for. An allocation the system refuses (a large block size under memory
/// pressure) fails this request with `ENOMEM`, never the server.
fn block_buffer(slot: &mut Option<Vec<u8>>, len: usize) -> Result<&mut Vec<u8>, IoError> {
    if slot.is_none() {
        let mut v = Vec::new();
        v.try_reserve_exact(len).map_err(|_| {
            IoError::new(
                libc::ENOMEM,
                format!(
                    "cannot allocate a buffer of one block ({len} bytes) for this request: \
                     out of memory (the request failed; the device is still served)"
                ),
            )
        })?;
        v.resize(len, 0);
        *slot = Some(v);
    }
    Ok(slot.as_mut().expect("made above"))
}

/// A backup or abandon of VLUN A running ([`Host::streaming_a`]): ends when dropped.
struct Running<'a>(&'a AtomicBool);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// A copy's temporary file, registered in [`Host::copying`] while the copy runs.
struct Copying<'a> {
    host: &'a Host,
    tmp: PathBuf,
}

impl Drop for Copying<'_> {
    fn drop(&mut self) {
        self.host
            .copying
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|p| *p != self.tmp);
    }
}

/// What is wrong when the journal records a completed archive of VLUN A but
/// `archive.json` does not say where it is (it could not be written, or was removed):
/// said alike by the status (`archive_problem`) and by a refused retire.
fn record_missing(dir: &Path) -> String {
    format!(
        "its archive record {} is missing: the journal records a completed archive, but \
         not where it is (the record could not be written, or was removed)",
        archive_marker(dir).shown()
    )
}

/// What the ways on from a refused retire are, said with each refusal.
const WAYS_ON: &str = "run `owm device backup --to FILE` (VLUN A copied to FILE and \
    recorded, then retire), or `owm device abandon` (VLUN A dropped without an archive)";

/// What is wrong with the archive file `a` records, if anything: missing, not a regular
/// file, a length other than the recorded one (truncated, extended or replaced), or,
/// where the record has the file's stamp ([`engine::file::FileStamp`]), another file at
/// its path (another inode: a copy, a link to another file) or the file modified since
/// the backup wrote it. The content is not read: that would mean reading the whole
/// archive again at each `status` and `retire`.
pub fn archive_problem(a: &Archive) -> Option<String> {
    let path = a.path.shown();
    match std::fs::metadata(&a.path) {
        Err(e) => Some(format!("its recorded archive {path} cannot be found: {e}")),
        Ok(m) if !m.is_file() => Some(format!(
            "its recorded archive {path} is no longer a regular file"
        )),
        Ok(m) if m.len() != a.bytes => Some(format!(
            "its recorded archive {path} is {} bytes, not the {} recorded (truncated, \
             extended or replaced)",
            m.len(),
            a.bytes
        )),
        Ok(m) => a.file.and_then(|f| f.changed(&m)).map(|why| {
            format!("its recorded archive {path} is not the file the backup wrote: {why}")
        }),
    }
}

/// Refuses a `to` path a new file cannot replace (a directory, a device such as
/// `/dev/null`, a pipe, a socket, another device's image, metadata or superblock, served
/// or not: [`engine::atomic::replaceable`]), before any work: the server checks it
/// itself, whoever sent the request.
fn refuse_unreplaceable(to: &Path) -> Result<(), ControlError> {
    engine::atomic::replaceable(to).map_err(|e| ControlError {
        kind: "bad-request",
        path: None,
        message: format!("--to {}: {e}", to.shown()),
    })?;
    // A directory that is not there, is no directory, or cannot be written in (a
    // read-only file system) would fail at the temporary file: bad input as the rest,
    // refused so before anything is copied.
    let target = engine::atomic::replaced_file(to);
    let dir = engine::atomic::directory_of(&target);
    if let Some(why) = unwritable_directory(dir) {
        return Err(ControlError {
            kind: "bad-request",
            path: None,
            message: format!(
                "--to {}: its directory {} {why}: name a file in a directory owm can write \
                 in (nothing was copied)",
                to.shown(),
                dir.shown()
            ),
        });
    }
    // A name its directory cannot hold would fail only at the rename, after the whole
    // copy: refused before anything is copied.
    let name_bytes = to.file_name().map_or(0, |n| n.len());
    let most = name_max(to.parent().unwrap_or(Path::new("/")));
    if name_bytes > most {
        return Err(ControlError {
            kind: "bad-request",
            path: None,
            message: format!(
                "--to {}: its name is {name_bytes} bytes, more than the {most} a file name \
                 may have in its directory: name a shorter file (nothing was copied)",
                to.shown()
            ),
        });
    }
    Ok(())
}

/// Why no file can be created in `dir`: it does not exist, it is not a directory, or
/// its file system is read-only or denies this process writing (`access(dir, W_OK)`);
/// `None` when a file can be (or when the reason cannot be told: the create then says
/// its own error).
fn unwritable_directory(dir: &Path) -> Option<&'static str> {
    use std::os::unix::ffi::OsStrExt;
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some("does not exist"),
        Err(_) => return None,
        Ok(m) if !m.is_dir() => return Some("is not a directory"),
        Ok(_) => {}
    }
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: `c` is a valid NUL-terminated string that outlives the call.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0 {
        return None;
    }
    match std::io::Error::last_os_error().raw_os_error() {
        Some(libc::EROFS) => Some("is on a read-only file system"),
        Some(libc::EACCES) => Some("cannot be written in by the server (permission denied)"),
        _ => None,
    }
}

/// The longest file name (bytes) the file system of directory `dir` takes
/// (`pathconf(dir, _PC_NAME_MAX)`), 255 (Linux's `NAME_MAX`) when it does not say.
fn name_max(dir: &Path) -> usize {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return 255;
    };
    // SAFETY: `c` is a valid NUL-terminated string that outlives the call.
    let most = unsafe { libc::pathconf(c.as_ptr(), libc::_PC_NAME_MAX) };
    usize::try_from(most).ok().filter(|&m| m > 0).unwrap_or(255)
}

/// Test hook: whether `OWM_FAIL_AT` in the server's environment names the backup step
/// `point`, which then fails as a fault there would: `backup-rename`, the rename of the
/// copied archive over `--to` (an I/O error; the copy removed), or `backup-record`, the
/// server killed (SIGKILL) right after the rename, before the archive is recorded.
fn fails_at(point: &str) -> bool {
    std::env::var_os("OWM_FAIL_AT").is_some_and(|p| p == point)
}

/// The I/O error an `OWM_FAIL_AT` test hook injects at `point`.
fn injected(point: &str) -> std::io::Error {
    std::io::Error::other(format!("a fault injected at {point} (OWM_FAIL_AT)"))
}

/// A writer that takes `left` writes and then fails as a full file system does (the
/// `OWM_FAIL_AT=backup-copy` test hook).
struct FailsAfter<'a, W> {
    left: u32,
    inner: &'a mut W,
}

impl<W: Write> Write for FailsAfter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::from_raw_os_error(libc::ENOSPC));
        }
        self.left -= 1;
        self.inner.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// `(device, inode)` of a file.
fn inode(m: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino())
}

/// `path` made absolute with every symbolic link and `..` resolved, also where the
/// path (or a link's target) does not exist yet: its nearest existing ancestor is
/// canonicalised and the rest appended.
fn resolve(path: &Path) -> PathBuf {
    let mut path = path.to_path_buf();
    for _ in 0..40 {
        if let Ok(c) = std::fs::canonicalize(&path) {
            return c;
        }
        match std::fs::read_link(&path) {
            // A dangling link: follow it to where the file would be made.
            Ok(target) => {
                path = match path.parent() {
                    Some(parent) => parent.join(target),
                    None => target,
                };
            }
            Err(_) => break,
        }
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) if !parent.as_os_str().is_empty() => resolve(parent).join(name),
        _ => path,
    }
}

/// A refused control command: a kind scripts can match on and a message.
#[derive(Debug)]
pub struct ControlError {
    /// `out-of-order` (the device's phase does not allow it), `busy` (another backup
    /// of the device is running), `archive-lost` (a retire refused because the recorded
    /// archive file is missing or of another length), `io`, `out-of-memory` (the system refused a buffer
    /// of one block: nothing was changed, the device is still served and the command
    /// can be repeated), `detached`, `bad-request` (a `to` path no file can replace,
    /// or one of the device's own files).
    pub kind: &'static str,
    pub message: String,
    /// The file the refusal is about when it is not the request's own `to`: the
    /// recorded archive of an `archive-lost` retire (the reply's `path`).
    pub path: Option<PathBuf>,
}

impl ControlError {
    fn io(message: impl Into<String>) -> Self {
        ControlError {
            kind: "io",
            path: None,
            message: message.into(),
        }
    }
    fn detached() -> Self {
        ControlError {
            kind: "detached",
            path: None,
            message: "VLUN B was detached: the device no longer exists".into(),
        }
    }
}

impl From<engine::Error> for ControlError {
    fn from(e: engine::Error) -> Self {
        let kind = match e {
            engine::Error::IllegalState { .. } => "out-of-order",
            engine::Error::OutOfMemory { .. } => "out-of-memory",
            _ => "io",
        };
        let message = e.to_string();
        // The kind already says it: `out-of-memory: cannot allocate …`, not twice.
        let message = match message.strip_prefix("out of memory: ") {
            Some(rest) if kind == "out-of-memory" => rest.to_string(),
            _ => message,
        };
        ControlError {
            kind,
            message,
            path: None,
        }
    }
}

/// The variant a device's metadata journal was made for (its header record).
pub fn journal_variant(paths: &DevicePaths) -> Result<Variant, String> {
    let decoded = engine::meta::FileJournal::load(&paths.meta).map_err(|e| e.to_string())?;
    match decoded.records.first() {
        Some((_, engine::meta::MetaRecord::Header { variant, .. })) => Ok(*variant),
        _ => Err(format!(
            "{}: the first record is not the device header",
            paths.meta.shown()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::{ControlError, IoError};

    fn store_io(errno: i32) -> engine::Error {
        engine::Error::from(engine::store::StoreError::Io {
            store: "image-b.img".into(),
            op: "write",
            block: Some(7),
            source: std::io::Error::from_raw_os_error(errno),
        })
    }

    fn meta(os_error: Option<i32>) -> engine::Error {
        engine::Error::Meta(engine::meta::MetaError {
            path: "device.owm".into(),
            offset: None,
            reason: "append".into(),
            os_error,
        })
    }

    /// A write the device's file system had no room for reaches the client as
    /// `ENOSPC` (an image's block, the metadata journal, under a backup's read too),
    /// as a full data area does; a disk error stays `EIO`.
    #[test]
    fn a_full_file_system_is_enospc_and_a_disk_error_eio() {
        let errno = |e: engine::Error| IoError::from(e).errno;
        for full in [libc::ENOSPC, libc::EDQUOT, libc::EFBIG] {
            assert_eq!(errno(store_io(full)), libc::ENOSPC, "{full}");
            assert_eq!(errno(meta(Some(full))), libc::ENOSPC, "{full}");
            let backup = engine::Error::BackupRead {
                blocks_done: 3,
                block: 4,
                source: Box::new(store_io(full)),
            };
            assert_eq!(errno(backup), libc::ENOSPC, "{full}");
        }
        assert_eq!(errno(store_io(libc::EIO)), libc::EIO);
        assert_eq!(errno(meta(Some(libc::EIO))), libc::EIO);
        assert_eq!(errno(meta(None)), libc::EIO);
        let metadata_full = IoError::from(meta(Some(libc::ENOSPC)));
        assert!(
            metadata_full.message.contains("device.owm"),
            "{}",
            metadata_full.message
        );
    }

    /// An out-of-memory refusal reads `out-of-memory: cannot allocate …` once its kind
    /// is put before it, never "out of memory" twice; other kinds keep their message.
    #[test]
    fn an_out_of_memory_refusal_says_out_of_memory_once() {
        let e = ControlError::from(engine::Error::OutOfMemory {
            purpose: "copy a block",
            bytes: 8,
        });
        assert_eq!(e.kind, "out-of-memory");
        assert!(
            e.message
                .starts_with("cannot allocate a buffer of 8 bytes to copy a block;"),
            "{}",
            e.message
        );
        assert!(!e.message.contains("out of memory"), "{}", e.message);
    }
}
