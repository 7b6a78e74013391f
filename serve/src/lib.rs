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
//! absolute; default `DIR/control.sock`).
//!
//! Durability: NBD `FLUSH` is the engine's [`engine::Device::flush`] (acknowledged
//! means durable); FUA is emulated by nbdkit with a flush; the plugin flushes once
//! more when nbdkit unloads it on shutdown. Zero requests write zero blocks; trim is
//! not advertised (the engine cannot free a block of a volume).

mod control;
mod host;

use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use nbdkit::{plugin, Error, Flags, Result, Server, ThreadModel};

use host::{Attachment, Host, IoError};

static HOST: OnceLock<Host> = OnceLock::new();

/// `dir=` and `control=` from nbdkit's command line.
static CONFIG: Mutex<(Option<PathBuf>, Option<PathBuf>)> = Mutex::new((None, None));

fn config() -> (Option<PathBuf>, Option<PathBuf>) {
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
        Some("dir=<DIR>      (required) the device directory (absolute)\ncontrol=<PATH> the control socket (default DIR/control.sock)")
    }

    fn config(key: &str, value: &str) -> Result<()> {
        let mut c = CONFIG.lock().unwrap_or_else(|p| p.into_inner());
        match key {
            "dir" => c.0 = Some(PathBuf::from(value)),
            "control" => c.1 = Some(PathBuf::from(value)),
            _ => {
                return Err(Error::new(
                    libc::EINVAL,
                    format!("unknown key `{key}` (dir, control)"),
                ))
            }
        }
        Ok(())
    }

    fn config_complete() -> Result<()> {
        match config().0 {
            Some(dir) if dir.is_absolute() => Ok(()),
            Some(dir) => Err(Error::new(
                libc::EINVAL,
                format!("dir must be absolute: {}", dir.display()),
            )),
            None => Err(Error::new(libc::EINVAL, "dir=<DIR> is required")),
        }
    }

    fn thread_model() -> Result<ThreadModel> {
        Ok(ThreadModel::Parallel)
    }

    /// Opens the device before nbdkit listens: a bad device directory fails the start.
    fn get_ready() -> Result<()> {
        let (dir, control) = config();
        let dir = dir.expect("checked by config_complete");
        let control = control.unwrap_or_else(|| dir.join("control.sock"));
        let host = Host::open(&dir, &control).map_err(|e| Error::new(libc::EINVAL, e))?;
        HOST.set(host)
            .map_err(|_| Error::new(libc::EINVAL, "get_ready called twice"))?;
        Ok(())
    }

    /// Once nbdkit is about to serve, the device an `owm serve --create` replaced,
    /// kept aside until now in `DIR/.owm-replaced-*`, is removed; then the control
    /// socket's thread starts.
    fn after_fork() -> Result<()> {
        let (dir, control) = config();
        let dir = dir.expect("checked");
        let path = control.unwrap_or_else(|| dir.join("control.sock"));
        // nbdkit listens (its socket is bound before this call), and `owm serve`
        // checked the control socket: removed before the control socket answers, so
        // a server that answers has no device kept aside.
        remove_replaced(&dir);
        control::spawn(host()?, &path).map_err(|e| {
            Error::new(
                libc::EIO,
                format!("cannot listen on {}: {e}", path.display()),
            )
        })
    }

    fn unload() {
        if let Some(h) = HOST.get() {
            if let Err(e) = h.shutdown() {
                eprintln!("owm: final flush failed: {e}");
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
    write_at,
    zero,
    flush
});

/// Removes the directories `.owm-replaced-*` in `dir`: the device an `owm serve
/// --create` replaced, kept aside until the new one served. A failure is reported on
/// stderr, not fatal (the server serves).
fn remove_replaced(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let replaced = name
            .to_string_lossy()
            .starts_with(engine::file::REPLACED_PREFIX)
            && e.file_type().is_ok_and(|t| t.is_dir());
        if replaced {
            if let Err(err) = std::fs::remove_dir_all(e.path()) {
                eprintln!(
                    "owm: cannot remove the replaced device {}: {err}",
                    e.path().display()
                );
            }
        }
    }
}
