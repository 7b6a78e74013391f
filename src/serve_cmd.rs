//! `owm serve`: VLUN A and VLUN B of a file-backed device as NBD exports, through
//! nbdkit and the `owm-serve` plugin (`libowm_nbdkit.so`). The process becomes nbdkit
//! (same process id): SIGINT/SIGTERM stop it cleanly, after a final flush, and remove
//! its `--socket`. One that comes while it starts stops it cleanly too: before the
//! device in DIR is touched, DIR is left as it was (a `--create`'s staging directory
//! removed); after that, it stays pending until nbdkit handles it (the plugin
//! unblocks it), and nbdkit stops at once.
//!
//! Exit status: 0 when stopped by SIGINT/SIGTERM or after a detach; 2 for bad input,
//! refused before nbdkit starts (arguments, a geometry a device cannot record, a
//! detached device, every bad device file: [`precheck`]; nbdkit or the plugin not
//! found, or the plugin not one nbdkit loads as owm's ([`check_plugin`]); the images a
//! `--create` would replace held by a live server; a `--socket` or control socket path
//! no socket can be made at: too long, or a directory this user cannot write
//! ([`check_bindable`]); a device an earlier `--create` set aside and never replaced,
//! still in DIR ([`refuse_replaced`])); 1 when it cannot listen otherwise
//! ([`check_listen`], [`check_control`]) or nbdkit fails after that.
//! Every refusal comes before the device in DIR is touched ([`serve`]).

use engine::shown::ShowName as _;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, bail, Context, Result};
use engine::file::{self, DevicePaths, Geometry};
use engine::{DeviceConfig, Variant};

use crate::verdict::Refused;

/// Arguments of `owm serve`.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// The device directory (image-a.img, image-b.img, device.owm, device.owm.super;
    /// move or copy the four together: without a valid device.owm.super the device is
    /// refused).
    pub dir: PathBuf,
    /// Listen on this Unix socket instead of TCP.
    #[arg(long, conflicts_with = "tcp")]
    pub socket: Option<PathBuf>,
    /// Listen on this TCP address: by default the loopback, which only this host
    /// reaches. Any address given is listened on as given (0.0.0.0:PORT: every
    /// interface); the exports have no authentication, so every host that reaches a
    /// non-loopback address can read and write the volumes (a note on stderr says so).
    #[arg(long, default_value = "127.0.0.1:10809")]
    pub tcp: std::net::SocketAddr,
    /// The control socket for `owm device` (default DIR/control.sock).
    #[arg(long)]
    pub control: Option<PathBuf>,
    /// Create a new device in DIR (replaces one there, once every check of the start
    /// passed: a refused start leaves DIR as it was).
    #[arg(long, requires = "variant")]
    pub create: bool,
    /// Variant of the new device: mirroring, logging or cow (only with --create: an
    /// existing device keeps its own).
    #[arg(long)]
    pub variant: Option<Variant>,
    /// Size of the new device's volume, in bytes: a positive multiple of --block-size,
    /// of at most 2^36 blocks (default 67108864, 64 MiB; only with --create: an
    /// existing device keeps its own).
    #[arg(long, allow_negative_numbers = true)]
    pub size_bytes: Option<u64>,
    /// Block size of the new device, in bytes: a positive multiple of 8, at most
    /// 4294967288 (default 4096; only with --create).
    #[arg(long, allow_negative_numbers = true)]
    pub block_size: Option<usize>,
    /// Data-area slots of a new logging or cow device: 1 to the volume's blocks, at
    /// most 4294967294 (default: one per volume block; only with --create, and not
    /// with --variant mirroring, which has no data area).
    #[arg(long, allow_negative_numbers = true)]
    pub area_slots: Option<u64>,
    /// Integrity mode for the new device (only with --create; a device keeps the mode
    /// it was made with): every block of both images carries a CRC-32 of its content
    /// and address, checked on every read and backup, so a block the disk rotted, tore
    /// or misdirected is refused (EIO, the server's log names image and block) instead
    /// of served. Costs one more image write per block written (its checksum block)
    /// and a checksum area at the end of each image (4 bytes a block).
    #[arg(long)]
    pub integrity: bool,
}

/// The plugin: `$OWM_NBDKIT_PLUGIN`, else `libowm_nbdkit.so` next to the `owm`
/// executable (where `cargo build -p owm-serve` puts it), else in `../lib/owm/`.
pub fn plugin_path() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("OWM_NBDKIT_PLUGIN") {
        let p = PathBuf::from(p);
        if !p.is_file() {
            let what = match std::fs::metadata(&p) {
                Ok(_) => "not a file".to_string(),
                Err(e) => crate::config::absence(&e),
            };
            bail!(
                "OWM_NBDKIT_PLUGIN={}: {what} (the nbdkit plugin libowm_nbdkit.so; \
                 build it with `cargo build --release -p owm-serve`)",
                p.shown()
            );
        }
        return Ok(p);
    }
    let exe = std::env::current_exe().context("cannot locate the owm executable")?;
    let dir = exe.parent().unwrap_or(Path::new("."));
    let candidates = [
        dir.join("libowm_nbdkit.so"),
        dir.join("../lib/owm/libowm_nbdkit.so"),
    ];
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| {
            anyhow!(
                "the nbdkit plugin libowm_nbdkit.so is not next to {} (build it with \
             `cargo build --release -p owm-serve`, or set OWM_NBDKIT_PLUGIN)",
                exe.shown()
            )
        })
}

fn absolute(p: &Path) -> Result<PathBuf> {
    std::path::absolute(p).with_context(|| format!("{}: cannot make the path absolute", p.shown()))
}

/// A new device's volume size when `--size-bytes` is not given: 64 MiB.
const SIZE_BYTES_DEFAULT: u64 = 64 << 20;
/// A new device's block size when `--block-size` is not given.
const BLOCK_SIZE_DEFAULT: usize = 4096;

/// Refuses (exit 2) the flags that make a new device (`--variant`, `--size-bytes`,
/// `--block-size`, `--area-slots`, `--integrity`) without `--create`: an existing
/// device keeps the variant, geometry and mode it was made with, and pointing at
/// `--create` would point at the flag that replaces it.
fn refuse_new_device_flags(args: &ServeArgs) -> Result<()> {
    if args.create {
        return Ok(());
    }
    let given: Vec<&str> = [
        ("--variant", args.variant.is_some()),
        ("--size-bytes", args.size_bytes.is_some()),
        ("--block-size", args.block_size.is_some()),
        ("--area-slots", args.area_slots.is_some()),
        ("--integrity", args.integrity),
    ]
    .into_iter()
    .filter_map(|(flag, given)| given.then_some(flag))
    .collect();
    if given.is_empty() {
        return Ok(());
    }
    let (them, apply) = match given.as_slice() {
        [one] => (one.to_string(), "applies"),
        _ => (given.join(", "), "apply"),
    };
    bail!(
        "{them} {apply} only to a new device (with --create, which replaces any device in \
         {}): an existing device keeps the variant, geometry and mode it was made with; \
         leave {} out to serve it",
        args.dir.shown(),
        if given.len() == 1 { "it" } else { "them" }
    )
}

/// Serves DIR. Every check that can refuse the start runs before the device in DIR is
/// touched: the arguments, the new device built and flushed in a staging directory
/// inside DIR (`--create`) or the existing device's files checked without a change
/// ([`precheck`]), the plugin and nbdkit found, the socket or port free, the
/// control socket not another server's, the old device's images not held by a live
/// server. Only then does a `--create` move the new device's files over the old ones
/// ([`Staged::install`]), or the existing device is opened (which records the open in
/// its files), and the process becomes nbdkit. A refusal leaves DIR as
/// it was (the staging directory removed, DIR itself too if this command made it).
pub fn serve(args: &ServeArgs) -> Result<()> {
    refuse_new_device_flags(args)?;
    crate::interrupt::install();
    // Taken whatever mask this process was started with: a server must stop on them.
    stop_signals_mask(libc::SIG_UNBLOCK);
    let dir = absolute(&args.dir)?;
    let paths = DevicePaths::in_dir(&dir);
    let socket = args.socket.as_deref().map(absolute).transpose()?;
    let control = match &args.control {
        Some(c) => absolute(c)?,
        None => dir.join("control.sock"),
    };
    let cannot_serve = || format!("{}: cannot serve this device", dir.shown());
    refuse_non_utf8(&dir, socket.as_deref(), &control)?;
    refuse_replaced(&dir)?;
    refuse_unwritable_marker(&dir)?;
    let start = if args.create {
        Start::Create(stage(&dir, args)?)
    } else if !paths.meta.is_file() {
        return Err(no_device(&dir, &paths));
    } else {
        Start::Open(precheck(&dir, &paths).with_context(cannot_serve)?)
    };
    let held = match &start {
        Start::Create(_) => lock_old_images(&paths)?,
        Start::Open(_) => Vec::new(),
    };
    let plugin = plugin_path()?;
    let nbdkit = nbdkit_path()?;
    check_plugin(&nbdkit, &plugin)?;
    let tcp = check_listen(socket.as_deref(), args.tcp)?;
    check_control(
        &control,
        args.control.is_none(),
        &dir,
        &paths,
        socket.as_deref(),
    )?;
    // From here a stop waits, pending, for nbdkit (the process becomes it with them
    // blocked; the plugin unblocks them once nbdkit handles them): none is lost.
    stop_signals_mask(libc::SIG_BLOCK);
    if crate::interrupt::requested() {
        drop(held);
        drop(start);
        tell!(
            "owm serve: stopped by {} before serving: {} left as it was",
            crate::interrupt::signal_name(),
            dir.shown()
        );
        return Ok(());
    }
    // Every check passed, so no server serves DIR: a `--create` killed before it
    // served left only litter.
    remove_stale_staging(&dir);
    let mut replaced = None;
    match start {
        Start::Create(staged) => replaced = staged.install(&dir)?,
        // Opened (so written: the open is recorded in each of its files) only now,
        // every other check passed: a start they refuse leaves its files as they were.
        // The engine's own open, then closed: it advances the generation and finishes
        // a retire cut short, as the server's open then does again.
        Start::Open(variant) => {
            let device =
                file::open(&paths, DeviceConfig::new(variant)).with_context(cannot_serve)?;
            let clean = !file::left_served(&dir, &device.identity());
            let notes = device.repairs().notes(&dir, clean);
            drop(device);
            for note in notes {
                eprintln!("{note}");
            }
        }
    }
    drop(held);
    let mut cmd = Command::new(nbdkit);
    cmd.arg("--foreground");
    match &socket {
        Some(s) => {
            cmd.arg("--unix").arg(s);
        }
        None => {
            if tcp.port() != args.tcp.port() {
                tell!(
                    "note: --tcp {}: serving on port {} (the port the system chose)",
                    args.tcp,
                    tcp.port()
                );
            }
            if !args.tcp.ip().is_loopback() {
                tell!(
                    "note: --tcp {} is not a loopback address: every host that reaches it can \
                     read and write the volumes (the NBD exports have no authentication)",
                    args.tcp
                );
            }
            cmd.arg("--ipaddr")
                .arg(tcp.ip().to_string())
                .arg("--port")
                .arg(tcp.port().to_string());
        }
    }
    cmd.arg(&plugin)
        .arg(format!("dir={}", dir.display()))
        .arg(format!("control={}", control.display()));
    if let Some(s) = &socket {
        let mut arg = std::ffi::OsString::from("socket=");
        arg.push(s);
        cmd.arg(arg);
    }
    if let Some(r) = replaced {
        let mut arg = std::ffi::OsString::from("replaced=");
        arg.push(r);
        cmd.arg(arg);
    }
    let err = cmd.exec();
    if err.kind() == std::io::ErrorKind::NotFound {
        bail!("nbdkit is not installed (Debian: apt-get install nbdkit)");
    }
    Err(err).context("cannot start nbdkit")
}

/// Blocks (`SIG_BLOCK`) or unblocks (`SIG_UNBLOCK`) SIGINT and SIGTERM in this
/// thread, the only one `owm serve` runs; the mask passes to nbdkit when the process
/// becomes it.
fn stop_signals_mask(how: libc::c_int) {
    // SAFETY: a sigset built by sigemptyset/sigaddset, passed by pointer; the old mask
    // is not asked for.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::pthread_sigmask(how, &set, std::ptr::null_mut());
    }
}

/// `nbdkit` on `$PATH`, found before anything is written (the process later becomes it).
///
/// # Errors
/// Not found in any directory of `$PATH` as an executable file (exit 2).
fn nbdkit_path() -> Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("nbdkit"))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
        .ok_or_else(|| {
            anyhow!("nbdkit is not installed (not found on $PATH; Debian: apt-get install nbdkit)")
        })
}

/// The plugin build this `owm` runs: the package version and the identity of the
/// engine's and the plugin's sources it was built from (`owm-build-id`), which the
/// plugin reports as its nbdkit version.
const PLUGIN_BUILD: &str = env!("OWM_PLUGIN_BUILD");

/// Has nbdkit load `plugin` once (`nbdkit --dump-plugin`), before anything is written:
/// a file that is not a loadable nbdkit plugin, not owm's, or owm's built from other
/// sources than this `owm` (an older build left beside a newer one) is refused here
/// rather than after a `--create` replaced the device in DIR.
///
/// # Errors
/// nbdkit cannot run, cannot load the plugin (its words given), the plugin is not
/// named `owm`, or its version is not [`PLUGIN_BUILD`] (exit 2).
fn check_plugin(nbdkit: &Path, plugin: &Path) -> Result<()> {
    let out = Command::new(nbdkit)
        .arg("--dump-plugin")
        .arg(plugin)
        .output()
        .with_context(|| format!("{}: cannot run", nbdkit.shown()))?;
    let said = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        bail!(
            "{}: nbdkit cannot load it as a plugin: {} (build it with `cargo build --release -p \
             owm-serve`)",
            plugin.shown(),
            said.lines().next().unwrap_or("no reason given").trim()
        );
    }
    let dump = String::from_utf8_lossy(&out.stdout);
    if !dump.lines().any(|l| l == "name=owm") {
        bail!(
            "{}: an nbdkit plugin, but not owm's (its --dump-plugin names no `name=owm`)",
            plugin.shown()
        );
    }
    let version = dump.lines().find_map(|l| l.strip_prefix("version="));
    if version != Some(PLUGIN_BUILD) {
        bail!(
            "{}: owm's plugin, but built from other sources than this owm (plugin build {}, \
             owm needs {PLUGIN_BUILD}): rebuild it with `cargo build --release -p owm-serve` \
             from this owm's sources",
            plugin.shown(),
            version.unwrap_or("not given")
        );
    }
    Ok(())
}

/// Refuses (exit 1, as when nbdkit itself cannot listen) a `--socket` path another
/// server listens on or where a file that is no socket is (nbdkit does not replace
/// it), or whose directory is missing, and a
/// `--tcp` address that cannot be listened on (in use, not this host's). Returns the
/// TCP address to serve: `tcp`, with the port the system chose when its port is 0
/// (nbdkit would choose one and never say which); with `--socket`, `tcp` unused.
fn check_listen(socket: Option<&Path>, tcp: std::net::SocketAddr) -> Result<std::net::SocketAddr> {
    let refuse = |what: String| Err(Refused(what).into());
    match socket {
        Some(s) => {
            if let Ok(m) = std::fs::symlink_metadata(s) {
                use std::os::unix::fs::FileTypeExt;
                match crate::nbd_probe::listens(s) {
                    Ok(_) => {
                        return refuse(format!(
                            "--socket {}: another server listens on it",
                            s.shown()
                        ))
                    }
                    Err(e)
                        if m.file_type().is_socket()
                            && e.kind() == std::io::ErrorKind::ConnectionRefused =>
                    {
                        // A stopped or killed server's socket, nobody listening: nbdkit
                        // cannot bind over it, and it holds nothing.
                        std::fs::remove_file(s).with_context(|| {
                            format!("--socket {}: cannot remove a stale socket", s.shown())
                        })?;
                    }
                    Err(_) => {
                        let what = if m.is_dir() {
                            "a directory"
                        } else if m.file_type().is_socket() {
                            "a socket nobody can connect to"
                        } else {
                            "a file"
                        };
                        return refuse(format!(
                            "--socket {}: {what} is already there, not a server's socket \
                             (nbdkit does not replace it)",
                            s.shown()
                        ));
                    }
                }
            }
            refuse_missing_directory("--socket", s)?;
            check_bindable("--socket", s, "")?;
            Ok(tcp)
        }
        None => match std::net::TcpListener::bind(tcp).and_then(|l| l.local_addr()) {
            Ok(bound) => Ok(bound),
            Err(e) => refuse(format!("--tcp {tcp}: cannot listen there: {e}")),
        },
    }
}

/// Refuses a control socket path that would take what is there: the path of one of
/// the device's own files or of `--socket` (exit 2: bad arguments, before anything
/// else is looked at), a control socket another server answers on (the plugin would
/// replace it under that server), any other file or a directory there (the plugin
/// replaces only a stopped server's socket: nobody answering), or a missing directory
/// (exit 1, as when it cannot listen).
fn check_control(
    control: &Path,
    default: bool,
    dir: &Path,
    paths: &DevicePaths,
    socket: Option<&Path>,
) -> Result<()> {
    let own = [
        paths.meta.clone(),
        engine::superblock::path_of(&paths.meta),
        paths.image_a.clone(),
        paths.image_b.clone(),
        file::archive_marker(dir),
        file::detach_marker(dir),
        file::serving_marker(dir),
    ];
    if own.iter().any(|p| p == control) {
        bail!(
            "--control {}: one of the device's own files (the control socket would take its \
             place); give a path of its own",
            control.shown()
        );
    }
    if socket == Some(control) {
        bail!(
            "--control {}: the --socket path too (the NBD socket and the control socket each \
             need their own path)",
            control.shown()
        );
    }
    if UnixStream::connect(control).is_ok() {
        return Err(Refused(format!(
            "control socket {}: another server answers on it (give another --control, or stop that server)",
            control.shown()
        ))
        .into());
    }
    let stale = match std::fs::symlink_metadata(control) {
        Ok(m) => {
            use std::os::unix::fs::FileTypeExt;
            if !m.file_type().is_socket() {
                let what = if m.is_dir() {
                    "a directory"
                } else {
                    "a file that is not a socket"
                };
                return Err(Refused(format!(
                    "control socket {}: {what} is already there (only a stopped server's \
                     socket is replaced); give another --control",
                    control.shown()
                ))
                .into());
            }
            true
        }
        Err(_) => false,
    };
    refuse_missing_directory("control socket", control)?;
    let hint = if default {
        " (the default control socket, DIR/control.sock; give --control PATH)"
    } else {
        ""
    };
    if stale {
        // A stopped server's socket, which the plugin replaces: only the path's length
        // and the directory are checked (a probe beside it).
        return check_probe("control socket", control, hint);
    }
    check_bindable("control socket", control, hint)
}

/// The longest path a Unix socket address holds: `sun_path` is 108 bytes, the
/// terminating NUL included.
const SOCKET_PATH_MAX: usize = 107;

/// Refuses (exit 2, before anything is moved or opened) a socket path `path` (named
/// `what`, with `hint` after it) that nothing could listen on: longer than
/// [`SOCKET_PATH_MAX`] bytes, or where binding a socket fails (a directory this user
/// cannot write, a read-only file system). Nothing is at `path`: a socket is bound
/// there and removed at once.
fn check_bindable(what: &str, path: &Path, hint: &str) -> Result<()> {
    check_length(what, path, hint)?;
    match std::os::unix::net::UnixListener::bind(path) {
        Ok(l) => {
            drop(l);
            std::fs::remove_file(path)
                .with_context(|| format!("{what} {}: cannot remove the probe", path.shown()))
        }
        Err(e) => bail!(
            "{what} {}{hint}: no socket can be made there: {e}",
            path.shown()
        ),
    }
}

/// [`check_bindable`] for a path a stopped server's socket holds (the plugin replaces
/// it): the length, then a probe socket bound beside it and removed (skipped when the
/// probe's own path would be the longer one, past [`SOCKET_PATH_MAX`], or is taken).
fn check_probe(what: &str, path: &Path, hint: &str) -> Result<()> {
    check_length(what, path, hint)?;
    let parent = path.parent().unwrap_or(Path::new("/"));
    let probe = parent.join(format!(".owm-p{}", std::process::id()));
    if probe.as_os_str().len() > SOCKET_PATH_MAX || std::fs::symlink_metadata(&probe).is_ok() {
        return Ok(());
    }
    match std::os::unix::net::UnixListener::bind(&probe) {
        Ok(l) => {
            drop(l);
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => bail!(
            "{what} {}{hint}: no socket can be made in {}: {e}",
            path.shown(),
            parent.shown()
        ),
    }
}

/// Refuses (exit 2) a socket path longer than [`SOCKET_PATH_MAX`] bytes.
fn check_length(what: &str, path: &Path, hint: &str) -> Result<()> {
    let len = path.as_os_str().len();
    if len > SOCKET_PATH_MAX {
        bail!(
            "{what} {}{hint}: {len} bytes, longer than a Unix socket path can be \
             ({SOCKET_PATH_MAX} bytes); give a shorter path",
            path.shown()
        );
    }
    Ok(())
}

/// Refuses (exit 2) to start where a `DIR/.owm-replaced-*` is: the device an earlier
/// `owm serve --create` set aside, whose replacement never served (once it serves, the
/// server renames it to `.owm-discard-*` before removing it). It may be the only copy
/// of that device's data, so it is never removed here: the message says how to restore
/// it or discard it.
fn refuse_replaced(dir: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    let mut kept: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(file::REPLACED_PREFIX)
        })
        .map(|e| e.path())
        .collect();
    kept.sort();
    if let Some(aside) = kept.first() {
        bail!(
            "{}: holds the device an `owm serve --create` set aside and whose replacement \
             never served; nothing was started. To serve that device again, move its files \
             back into {} (replacing the device there); to discard it, remove {0}",
            aside.shown(),
            dir.shown()
        );
    }
    Ok(())
}

/// Refuses (exit 1) a socket `path` (named `what` in the message) whose directory does
/// not exist, is not a directory or cannot be examined: nothing could listen there.
fn refuse_missing_directory(what: &str, path: &Path) -> Result<()> {
    let parent = path.parent().unwrap_or(Path::new("/"));
    let why = match std::fs::metadata(parent) {
        Ok(m) if m.is_dir() => return Ok(()),
        Ok(_) => "is not a directory".to_string(),
        Err(e) => crate::config::absence(&e),
    };
    Err(Refused(format!(
        "{what} {}: its directory {} {why}",
        path.shown(),
        parent.shown()
    ))
    .into())
}

/// The exclusive locks of the images a `--create` would replace, held until they are
/// replaced: a live server holding either refuses the create (exit 2, nothing touched),
/// and no server can open the old device meanwhile.
///
/// # Errors
/// An image held by another open device; an image that cannot be opened.
fn lock_old_images(paths: &DevicePaths) -> Result<Vec<std::fs::File>> {
    let mut held = Vec::new();
    for p in [&paths.image_a, &paths.image_b] {
        if !p.is_file() {
            continue;
        }
        let f = engine::regular::open_read(p).with_context(|| {
            format!(
                "{}: cannot open the image --create would replace",
                p.shown()
            )
        })?;
        match f.try_lock() {
            Ok(()) => held.push(f),
            Err(std::fs::TryLockError::WouldBlock) => bail!(
                "{}: in use by another open device (its exclusive lock is held); --create \
                 would replace it under that server, so nothing was changed",
                p.shown()
            ),
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("{}: cannot lock", p.shown()))
            }
        }
    }
    Ok(held)
}

/// Why `dir`, whose `device.owm` is not a regular file, is not served. Only a directory
/// with none of the device's files is told to `--create` one: where `device.owm` is
/// there but not a file (a directory, a pipe, a dangling link), or missing beside an
/// image, `--create` would overwrite a device's images, so the message says what is
/// there and suggests no `--create`.
fn no_device(dir: &Path, paths: &DevicePaths) -> anyhow::Error {
    let meta = &paths.meta;
    let keep = "not served; put the device's own device.owm (and device.owm.super) back \
                (--create would overwrite any device images here)";
    let what = match (std::fs::metadata(meta), std::fs::symlink_metadata(meta)) {
        (Ok(m), _) if m.is_dir() => Some("is a directory, not the device's metadata file"),
        (Ok(_), _) => {
            Some("is not a regular file (a pipe, device or socket), not the device's metadata file")
        }
        (Err(e), _) if e.kind() != std::io::ErrorKind::NotFound => {
            return anyhow!("{}: {}", meta.shown(), crate::config::absence(&e));
        }
        (Err(_), Ok(_)) => Some("is a symbolic link to a missing file"),
        (Err(_), Err(_)) => None,
    };
    if let Some(what) = what {
        return anyhow!("{}: {what}; {keep}", meta.shown());
    }
    let images: Vec<String> = [&paths.image_a, &paths.image_b]
        .into_iter()
        .filter(|p| std::fs::symlink_metadata(p).is_ok())
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    if !images.is_empty() {
        let verb = if images.len() == 1 { "is" } else { "are" };
        return anyhow!(
            "{}: no device.owm, but {} {verb} here; {keep}",
            dir.shown(),
            images.join(" and ")
        );
    }
    anyhow!(
        "{}: no device here (no device.owm); create one with --create --variant V",
        dir.shown()
    )
}

/// What a start does to DIR once every check has passed.
enum Start {
    /// `--create`: the new device staged inside DIR moves over the old one.
    Create(Staged),
    /// The existing device, of this variant ([`precheck`]), is opened.
    Open(Variant),
}

/// Checks the device in `dir` without changing any of its files ([`file::inspect`];
/// the journal read, a torn tail left for the open to drop), so that every bad device
/// file is bad input of `owm serve` (exit 2, its message printed once) rather than a
/// failed start of nbdkit, wherever nbdkit or the plugin is missing: a detached device
/// (refused as the server refuses it: [`file::refuse_detached`]); metadata that does
/// not decode or was made for another device; images swapped, resized, missing, stale
/// or foreign; a superblock of another device, missing, damaged or of an older
/// version's format, or one that shows the metadata cut after a flush; files of
/// different devices where which is this one cannot be told; a file of another copy
/// of this device (its directory copied and served apart); another server holding
/// the lock; an `archive.json` that is damaged or another device's
/// ([`file::read_archive_record`]). Returns the device's variant.
fn precheck(dir: &Path, paths: &DevicePaths) -> Result<Variant> {
    file::refuse_detached(dir).map_err(anyhow::Error::msg)?;
    let journal = engine::meta::FileJournal::read(&paths.meta)?;
    let variant = match journal.records.first() {
        Some((_, engine::meta::MetaRecord::Header { variant, .. })) => *variant,
        _ => bail!(
            "{}: the first record is not the device header",
            paths.meta.shown()
        ),
    };
    let identity = file::inspect(paths, DeviceConfig::new(variant))?;
    file::read_archive_record(dir, &identity).map_err(anyhow::Error::msg)?;
    Ok(variant)
}

/// The name of every staging directory of a `--create` starts with this.
const CREATE_PREFIX: &str = ".owm-create-";

/// A new staging directory in `dir` (`.owm-create-XXXXXX`), locked (`flock`,
/// exclusive) from before another start could take it for stale: made, locked, and
/// made again should another start have removed it as stale in between. The lock is
/// `None` on a file system without `flock` (no start then removes any).
fn locked_staging_dir(dir: &Path) -> std::io::Result<(tempfile::TempDir, Option<std::fs::File>)> {
    use std::os::unix::fs::MetadataExt;
    for _ in 0..16 {
        let tmp = tempfile::Builder::new()
            .prefix(CREATE_PREFIX)
            .tempdir_in(dir)
            .map_err(engine::atomic::plain)?;
        let f = std::fs::File::open(tmp.path())?;
        match f.try_lock() {
            Ok(()) => {}
            // Another start took it for stale and is removing it.
            Err(std::fs::TryLockError::WouldBlock) => continue,
            Err(std::fs::TryLockError::Error(_)) => return Ok((tmp, None)),
        }
        // Locked; but another start may have removed it just before.
        let here = std::fs::symlink_metadata(tmp.path())?;
        let locked = f.metadata()?;
        if here.dev() == locked.dev() && here.ino() == locked.ino() {
            return Ok((tmp, Some(f)));
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::WouldBlock,
        "each new staging directory was removed as stale by another start before it could \
         be locked",
    ))
}

/// Removes the staging directories (`.owm-create-*`, directories, not links) that an
/// `owm serve --create` killed before it served left in `dir`: those whose lock is
/// free (the lock dies with its process, however it ends). One a live create holds
/// locked is kept, and so is every one where the lock cannot be taken (no `flock`).
/// Each removal is said on stderr; one that fails is left and said too.
fn remove_stale_staging(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        if !e.file_name().to_string_lossy().starts_with(CREATE_PREFIX)
            || !e.file_type().is_ok_and(|t| t.is_dir())
        {
            continue;
        }
        let path = e.path();
        let Ok(f) = std::fs::File::open(&path) else {
            continue;
        };
        if f.try_lock().is_err() {
            continue;
        }
        match std::fs::remove_dir_all(&path) {
            Ok(()) => tell!(
                "note: {}: removed, the new device of an `owm serve --create` stopped \
                 before it served",
                path.shown()
            ),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => tell!(
                "note: {}: left by an `owm serve --create` stopped before it served, and \
                 cannot be removed: {err}",
                path.shown()
            ),
        }
    }
}

/// Refuses (exit 2) a device directory, `--socket` or control socket whose absolute
/// path is not UTF-8, before anything is read or created: nbdkit hands the plugin its
/// arguments as UTF-8 text, so such a path would reach it changed (each byte that is
/// not UTF-8 as U+FFFD) and name another directory, whose device would be served.
fn refuse_non_utf8(dir: &Path, socket: Option<&Path>, control: &Path) -> Result<()> {
    let named = [
        ("DIR", Some(dir)),
        ("--socket", socket),
        ("the control socket", Some(control)),
    ];
    for (what, path) in named {
        if let Some(p) = path.filter(|p| p.to_str().is_none()) {
            bail!(
                "{what} {}: the path (made absolute) is not UTF-8; nbdkit passes the \
                 plugin its paths as UTF-8 text, so it would name another file: serve the \
                 device from a directory whose path is UTF-8 (nothing was changed)",
                p.shown()
            );
        }
    }
    Ok(())
}

/// Refuses (exit 2) a `DIR/serving.json` that is a directory or any other file that
/// is not a regular file (a pipe, device or socket; a link is followed), before any of
/// the device's files is opened or a new device is staged: the server records there
/// that it serves the device, replacing the file, and reads it at its start (a pipe's
/// open would wait for ever).
fn refuse_unwritable_marker(dir: &Path) -> Result<()> {
    let marker = file::serving_marker(dir);
    let what = match std::fs::metadata(&marker) {
        Ok(m) if m.is_dir() => "is a directory",
        Ok(m) if !m.is_file() => "is not a regular file (a pipe, device or socket)",
        _ => return Ok(()),
    };
    bail!(
        "{}: {what}; the server records there that it serves the device and could not: \
         remove it (nothing was changed)",
        marker.shown()
    );
}

/// A new device, made whole and flushed in a staging directory inside DIR
/// (`.owm-create-*`), not yet in DIR's place. Dropped without [`Staged::install`] (a
/// refused start), it is removed, and DIR too if this command made it and it is empty.
struct Staged {
    tmp: Option<tempfile::TempDir>,
    made_dir: Option<PathBuf>,
    /// The exclusive lock (`flock`) on the staging directory, held until it is
    /// installed or removed: a later start removes only one whose lock is free
    /// ([`remove_stale_staging`]).
    _lock: Option<std::fs::File>,
}

impl Drop for Staged {
    fn drop(&mut self) {
        drop(self.tmp.take());
        if let Some(d) = &self.made_dir {
            let _ = std::fs::remove_dir(d);
        }
    }
}

impl Staged {
    /// Puts the new device in DIR's place (each a rename within DIR): the old device's
    /// files it replaces, and its archive and detach records (a new device has
    /// neither), are first moved into `DIR/.owm-replaced-XXXXXX`, kept until the
    /// server serves (the plugin, given its path, removes it once both its sockets are
    /// bound), so that an nbdkit that fails to start after these checks costs no data:
    /// the message printed here says where the old device is, and a later `owm serve`
    /// refuses to start while it is there ([`refuse_replaced`]). Called after every
    /// check of the start passed. Returns that directory, if an old device was there.
    ///
    /// # Errors
    /// A rename or a listing failed (exit 2).
    fn install(mut self, dir: &Path) -> Result<Option<PathBuf>> {
        let tmp = self.tmp.take().expect("staged once");
        let mut names: Vec<_> = std::fs::read_dir(tmp.path())
            .and_then(|r| {
                r.map(|e| e.map(|e| e.file_name()))
                    .collect::<std::io::Result<_>>()
            })
            .with_context(|| format!("{}: cannot list the new device", tmp.path().shown()))?;
        // The metadata last: until it is in place, the old metadata names the old
        // images' device, and a mix is refused at open (the labels differ).
        names.sort_by_key(|n| n == "device.owm");
        let records = [
            std::ffi::OsString::from("archive.json"),
            file::detach_marker(dir)
                .file_name()
                .expect("a file name")
                .to_os_string(),
        ];
        let old: Vec<&std::ffi::OsString> = names
            .iter()
            .chain(&records)
            .filter(|n| std::fs::symlink_metadata(dir.join(n)).is_ok())
            .collect();
        let mut kept = None;
        if !old.is_empty() {
            let aside = tempfile::Builder::new()
                .prefix(file::REPLACED_PREFIX)
                .tempdir_in(dir)
                .map_err(engine::atomic::plain)
                .with_context(|| format!("{}: cannot keep the old device aside", dir.shown()))?
                .keep();
            for name in old {
                std::fs::rename(dir.join(name), aside.join(name)).with_context(|| {
                    format!("{}: cannot keep the old device aside", aside.shown())
                })?;
            }
            tell!(
                "owm: the device {} held is kept in {} until the server serves, then \
                 removed; should nbdkit fail to start, move its files back into {0} (or \
                 remove {1} to discard it: `owm serve {0}` refuses to start while it is \
                 there)",
                dir.shown(),
                aside.shown(),
            );
            kept = Some(aside);
        }
        for name in names {
            let (from, to) = (tmp.path().join(&name), dir.join(&name));
            std::fs::rename(&from, &to)
                .with_context(|| format!("{}: cannot put the new device in place", to.shown()))?;
        }
        self.made_dir = None;
        drop(tmp);
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(kept)
    }
}

/// The largest block size a device records: the largest multiple of
/// [`engine::store::WORD_BYTES`] that its 32-bit header field holds.
const BLOCK_SIZE_MAX: usize =
    u32::MAX as usize / engine::store::WORD_BYTES * engine::store::WORD_BYTES;

/// The new device's geometry from `--block-size`, `--size-bytes` and `--area-slots`,
/// each checked against what a device records before anything is made, the flag at
/// fault named: a block size that is a positive multiple of 8 bytes, at most
/// [`BLOCK_SIZE_MAX`]; a volume size that is a positive multiple of it, of at most
/// [`engine::table::VOLUME_BLOCKS_MAX`] blocks and no more bytes than a file holds;
/// data-area slots (logging and cow only) from 1 to the volume's blocks, at most
/// [`engine::table::AREA_SLOTS_MAX`] (by default one per volume block, so a larger
/// volume needs `--area-slots`).
///
/// # Errors
/// The first flag out of its range (exit 2).
fn geometry(args: &ServeArgs, variant: Variant) -> Result<Geometry> {
    use engine::table::{AREA_SLOTS_MAX, VOLUME_BLOCKS_MAX};
    let word = engine::store::WORD_BYTES;
    let bs = args.block_size.unwrap_or(BLOCK_SIZE_DEFAULT);
    if bs == 0 || !bs.is_multiple_of(word) || bs > BLOCK_SIZE_MAX {
        bail!(
            "--block-size {bs}: a block size must be a positive multiple of {word} bytes, at \
             most {BLOCK_SIZE_MAX} (default {BLOCK_SIZE_DEFAULT})"
        );
    }
    let size = args.size_bytes.unwrap_or(SIZE_BYTES_DEFAULT);
    if size == 0 || !size.is_multiple_of(bs as u64) {
        bail!(
            "--size-bytes {size}: the volume size must be a positive multiple of --block-size {bs}"
        );
    }
    if i64::try_from(size).is_err() {
        bail!(
            "--size-bytes {size}: more than a file can hold ({} bytes)",
            i64::MAX
        );
    }
    let volume_blocks = size / bs as u64;
    if volume_blocks > VOLUME_BLOCKS_MAX {
        bail!(
            "--size-bytes {size}: {volume_blocks} blocks of {bs} bytes, more than the largest \
             volume a device records ({VOLUME_BLOCKS_MAX} blocks); give a larger --block-size \
             or a smaller --size-bytes"
        );
    }
    if variant == Variant::WriteMirroring {
        if args.area_slots.is_some() {
            bail!(
                "--area-slots with --variant mirroring: write mirroring keeps a whole second \
                 image and has no data area (--area-slots is for logging and cow)"
            );
        }
        return Ok(Geometry {
            block_size: bs,
            volume_blocks,
            area_slots: volume_blocks,
        });
    }
    let area_slots = match args.area_slots {
        Some(0) => bail!(
            "--area-slots 0: a logging or cow device needs at least one data-area slot \
             (default: one per volume block)"
        ),
        Some(slots) if slots > volume_blocks => bail!(
            "--area-slots {slots} is more than the volume's {} (a logging or cow device uses \
             at most one slot per volume block)",
            sim::number_text::counted(volume_blocks, "block", "blocks")
        ),
        Some(slots) if slots > AREA_SLOTS_MAX => bail!(
            "--area-slots {slots}: more than the largest data area a device records \
             ({AREA_SLOTS_MAX} slots)"
        ),
        Some(slots) => slots,
        None if volume_blocks > AREA_SLOTS_MAX => bail!(
            "--size-bytes {size}: {volume_blocks} blocks, and by default a logging or cow \
             device has one data-area slot per block, more than the largest data area a \
             device records ({AREA_SLOTS_MAX} slots); give --area-slots {AREA_SLOTS_MAX} or \
             fewer"
        ),
        None => volume_blocks,
    };
    Ok(Geometry {
        block_size: bs,
        volume_blocks,
        area_slots,
    })
}

/// Checks `--create`'s arguments and makes the new device in a staging directory
/// inside DIR (made if missing); the device in DIR is not touched.
///
/// # Errors
/// Bad arguments; a geometry a device cannot record; DIR not creatable or writable;
/// the new device's files not writable (a full file system): all exit 2, and the
/// staging directory (and DIR, if made here) removed.
fn stage(dir: &Path, args: &ServeArgs) -> Result<Staged> {
    let variant = args.variant.expect("clap: --create requires --variant");
    let g = geometry(args, variant)?;
    let made_dir = (!dir.exists()).then(|| dir.to_path_buf());
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.shown()))?;
    let mut staged = Staged {
        tmp: None,
        made_dir,
        _lock: None,
    };
    let (tmp, lock) = locked_staging_dir(dir).with_context(|| {
        format!(
            "{}: cannot create the device (the directory is not writable)",
            dir.shown()
        )
    })?;
    let new = DevicePaths::in_dir(tmp.path());
    staged.tmp = Some(tmp);
    staged._lock = lock;
    let config = DeviceConfig {
        integrity: args.integrity,
        ..DeviceConfig::new(variant)
    };
    file::create(&new, config, g)
        .and_then(|device| device.flush())
        .with_context(|| format!("{}: cannot create the device", dir.shown()))?;
    Ok(staged)
}
