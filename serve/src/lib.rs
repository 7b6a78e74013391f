//! # owm-serve: VLUN A and VLUN B as network block devices
//!
//! An [nbdkit](https://libguestfs.org/nbdkit.1.html) plugin (through the `nbdkit`
//! crate, the bindings kept in nbdkit's own repository) that serves a file-backed
//! one-way mirror device ([`engine::file`]). nbdkit does the NBD protocol: the fixed
//! newstyle handshake with `NBD_OPT_GO` and export names, structured replies, range
//! checks (a request past the end is `EINVAL` before it reaches the plugin), many
//! connections on parallel threads, Unix or TCP sockets, and clean shutdown on SIGINT
//! and SIGTERM. The plugin maps exports to VLUNs (`host`), requests to engine calls,
//! and runs the control socket (`control`).
//!
//! `owm serve DIR` runs `nbdkit --foreground … libowm_nbdkit.so dir=DIR control=SOCK`.
//! Keys: `dir` (the device directory, absolute), `control` (the control socket path,
//! absolute; default `DIR/control.sock`), `replaced` (the directory
//! `DIR/.owm-replaced-*` where `owm serve --create` set the old device aside: removed
//! once both sockets are bound, never before; no other one is ever removed), `socket`
//! (nbdkit's `--unix` path: removed on a clean stop, if the socket there is still the
//! one this server bound).
//!
//! Signals: `owm serve` hands nbdkit SIGINT and SIGTERM blocked (one that came while
//! it started stays pending); the plugin unblocks them once nbdkit's own handlers are
//! in place ([`Server::after_fork`]), so a stop asked for at any moment of the start is
//! a clean stop.
//!
//! Durability: NBD `FLUSH` is the engine's [`engine::Device::flush`] (acknowledged
//! means durable); FUA is emulated by nbdkit with a flush; the plugin flushes once
//! more when nbdkit unloads it on shutdown. Zero requests write zero blocks; trim is
//! not advertised (the engine cannot free a block of a volume).

mod control;
mod host;

use engine::shown::ShowName as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use nbdkit::{plugin, Error, Flags, Result, Server, ThreadModel};

use host::{Attachment, Host, IoError};

static HOST: OnceLock<Host> = OnceLock::new();

/// `dir=`, `control=`, `replaced=` and `socket=` from nbdkit's command line.
#[derive(Clone)]
struct Config {
    dir: Option<PathBuf>,
    control: Option<PathBuf>,
    replaced: Option<PathBuf>,
    socket: Option<PathBuf>,
}

static CONFIG: Mutex<Config> = Mutex::new(Config {
    dir: None,
    control: None,
    replaced: None,
    socket: None,
});

/// The NBD socket this server bound (`socket=`), with its device and inode as found
/// once nbdkit listened: removed on a clean stop only while the path still names it.
static BOUND: OnceLock<(PathBuf, u64, u64)> = OnceLock::new();

fn config() -> Config {
    CONFIG.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

fn host() -> Result<&'static Host> {
    HOST.get()
        .ok_or_else(|| Error::new(libc::EIO, "the device is not open"))
}

fn nbd_err(e: IoError) -> Error {
    Error::new(e.errno, e.message)
}

/// One NBD connection: its role, from its export name and when it attached.
struct Connection {
    attachment: Attachment,
}

impl Server for Connection {
    fn name() -> &'static str {
        "owm"
    }

    /// The package version and the identity of the sources built from
    /// (`owm-build-id`): `owm serve` requires its own.
    fn version() -> Option<&'static str> {
        Some(env!("OWM_PLUGIN_BUILD"))
    }

    fn description() -> Option<&'static str> {
        Some("one-way data mirror: VLUN A and VLUN B of a file-backed device")
    }

    fn config_help() -> Option<&'static str> {
        Some(
            "dir=<DIR>       (required) the device directory (absolute)\n\
             control=<PATH>  the control socket (default DIR/control.sock)\n\
             replaced=<PATH> DIR/.owm-replaced-* of `owm serve --create`: removed once serving\n\
             socket=<PATH>   nbdkit's --unix socket: removed on a clean stop",
        )
    }

    fn config(key: &str, value: &str) -> Result<()> {
        let mut c = CONFIG.lock().unwrap_or_else(|p| p.into_inner());
        match key {
            "dir" => c.dir = Some(PathBuf::from(value)),
            "control" => c.control = Some(PathBuf::from(value)),
            "replaced" => c.replaced = Some(PathBuf::from(value)),
            "socket" => c.socket = Some(PathBuf::from(value)),
            _ => {
                return Err(Error::new(
                    libc::EINVAL,
                    format!("unknown key `{key}` (dir, control, replaced, socket)"),
                ))
            }
        }
        Ok(())
    }

    fn config_complete() -> Result<()> {
        let c = config();
        let dir = match c.dir {
            Some(dir) if dir.is_absolute() => dir,
            Some(dir) => {
                return Err(Error::new(
                    libc::EINVAL,
                    format!("dir must be absolute: {}", dir.shown()),
                ))
            }
            None => return Err(Error::new(libc::EINVAL, "dir=<DIR> is required")),
        };
        match c.replaced {
            Some(r) if discard_name(&dir, &r).is_none() => Err(Error::new(
                libc::EINVAL,
                format!(
                    "replaced={}: not a directory {}* in {}",
                    r.shown(),
                    engine::file::REPLACED_PREFIX,
                    dir.shown()
                ),
            )),
            _ => Ok(()),
        }
    }

    fn thread_model() -> Result<ThreadModel> {
        Ok(ThreadModel::Parallel)
    }

    /// Opens the device before nbdkit listens: a bad device directory fails the start.
    fn get_ready() -> Result<()> {
        let c = config();
        let dir = c.dir.expect("checked by config_complete");
        let control = c.control.unwrap_or_else(|| dir.join("control.sock"));
        let host = Host::open(&dir, &control).map_err(|e| Error::new(libc::EINVAL, e))?;
        HOST.set(host)
            .map_err(|_| Error::new(libc::EINVAL, "get_ready called twice"))?;
        Ok(())
    }

    /// nbdkit listens (its socket is bound before this call) and handles SIGINT and
    /// SIGTERM: they are unblocked here (a pending one stops the server now, cleanly),
    /// the NBD socket's identity is kept for its removal on a clean stop, the control
    /// socket's thread starts, and only once it listens too, the device an `owm serve
    /// --create` replaced (`replaced=`, kept aside until now) is removed. A control
    /// socket that cannot be bound fails the start with the old device still kept.
    fn after_fork() -> Result<()> {
        let c = config();
        if let Some(s) = &c.socket {
            use std::os::unix::fs::MetadataExt;
            if let Ok(m) = std::fs::symlink_metadata(s) {
                let _ = BOUND.set((s.clone(), m.dev(), m.ino()));
            }
        }
        unblock_stop_signals();
        let dir = c.dir.expect("checked");
        let path = c.control.unwrap_or_else(|| dir.join("control.sock"));
        control::spawn(host()?, &path).map_err(|e| {
            Error::new(libc::EIO, format!("cannot listen on {}: {e}", path.shown()))
        })?;
        discard_replaced(&dir, c.replaced.as_deref());
        Ok(())
    }

    /// The final flush, then the NBD socket removed (if the path still names the
    /// socket this server bound: a later server's is never touched), so that a socket
    /// at `--socket` means a server is there or was killed.
    fn unload() {
        if let Some(h) = HOST.get() {
            if let Err(e) = h.shutdown() {
                eprintln!("owm: final flush failed: {e}");
            }
        }
        if let Some((path, dev, ino)) = BOUND.get() {
            use std::os::unix::fs::{FileTypeExt, MetadataExt};
            let same = std::fs::symlink_metadata(path)
                .is_ok_and(|m| m.file_type().is_socket() && m.dev() == *dev && m.ino() == *ino);
            if same {
                if let Err(e) = std::fs::remove_file(path) {
                    eprintln!("owm: cannot remove the socket {}: {e}", path.shown());
                }
            }
        }
    }

    fn open(readonly: bool) -> Result<Box<dyn Server>> {
        let export = nbdkit::export_name()
            .map_err(|e| Error::new(libc::EINVAL, format!("export name: {e}")))?;
        let attachment = host()?.attach(&export, readonly).map_err(nbd_err)?;
        Ok(Box::new(Connection { attachment }))
    }

    fn get_size(&self) -> Result<i64> {
        Ok(host()?.size_bytes() as i64)
    }

    fn can_write(&self) -> Result<bool> {
        Ok(self.attachment.writable)
    }

    fn can_flush(&self) -> Result<bool> {
        Ok(true)
    }

    /// A flush on any connection makes every acknowledged write durable.
    fn can_multi_conn(&self) -> Result<bool> {
        Ok(true)
    }

    fn can_zero(&self) -> Result<bool> {
        Ok(true)
    }

    /// Advertised, so nbdkit hands a fast-zero request to [`Connection::zero`], which
    /// refuses it with `ENOTSUP` as the protocol asks of a zero that is not fast (not
    /// advertised, nbdkit 1.32 stops on an assertion when a client asks one anyway).
    fn can_fast_zero(&self) -> Result<bool> {
        Ok(true)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        host()?
            .read(self.attachment.role, buf, offset)
            .map_err(nbd_err)
    }

    fn write_at(&self, buf: &[u8], offset: u64, _flags: Flags) -> Result<()> {
        host()?
            .write(self.attachment.role, Some(buf), buf.len(), offset)
            .map_err(nbd_err)
    }

    fn zero(&self, count: u32, offset: u64, flags: Flags) -> Result<()> {
        if flags.contains(Flags::FAST_ZERO) {
            return Err(Error::new(
                libc::ENOTSUP,
                "zeroing writes every block: not fast",
            ));
        }
        host()?
            .write(self.attachment.role, None, count as usize, offset)
            .map_err(nbd_err)
    }

    fn flush(&self) -> Result<()> {
        host()?.flush().map_err(nbd_err)
    }
}

plugin!(Connection {
    config,
    config_complete,
    config_help,
    thread_model,
    get_ready,
    after_fork,
    unload,
    can_write,
    can_flush,
    can_multi_conn,
    can_zero,
    can_fast_zero,
    write_at,
    zero,
    flush
});

/// Unblocks SIGINT and SIGTERM in the calling thread (nbdkit's main thread, and so
/// every thread it starts from then on): `owm serve` hands them blocked.
fn unblock_stop_signals() {
    // SAFETY: a sigset built by sigemptyset/sigaddset, passed by pointer; the old mask
    // is not asked for.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
    }
}

/// Where `replaced`, a directory `.owm-replaced-*` directly in `dir`, goes once the
/// new device serves: the same name with [`engine::file::DISCARD_PREFIX`]. `None`
/// for any other path.
fn discard_name(dir: &Path, replaced: &Path) -> Option<PathBuf> {
    if replaced.parent() != Some(dir) {
        return None;
    }
    let name = replaced.file_name()?.to_str()?;
    let suffix = name.strip_prefix(engine::file::REPLACED_PREFIX)?;
    (!suffix.is_empty()).then(|| dir.join(format!("{}{suffix}", engine::file::DISCARD_PREFIX)))
}

/// The new device serves: the old device set aside in `replaced` is renamed to its
/// discard name (from then on, provably the remnant of a create that served) and
/// removed, and so is any `.owm-discard-*` an earlier server left (killed while
/// removing one). No `.owm-replaced-*` but `replaced` is touched: one found later is a
/// device whose replacement never served. A failure is reported on stderr, not fatal
/// (the server serves).
fn discard_replaced(dir: &Path, replaced: Option<&Path>) {
    if let Some(r) = replaced {
        let to = discard_name(dir, r).expect("checked by config_complete");
        if let Err(err) = std::fs::rename(r, &to) {
            eprintln!(
                "owm: cannot discard the replaced device {}: {err}",
                r.shown()
            );
        }
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let discard = e
            .file_name()
            .to_string_lossy()
            .starts_with(engine::file::DISCARD_PREFIX)
            && e.file_type().is_ok_and(|t| t.is_dir());
        if discard {
            if let Err(err) = std::fs::remove_dir_all(e.path()) {
                eprintln!(
                    "owm: cannot remove the replaced device {}: {err}",
                    e.path().shown()
                );
            }
        }
    }
}
