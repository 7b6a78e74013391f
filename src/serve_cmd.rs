//! `owm serve`: VLUN A and VLUN B of a file-backed device as NBD exports, through
//! nbdkit and the `owm-serve` plugin (`libowm_nbdkit.so`). The process becomes nbdkit
//! (same process id): SIGINT/SIGTERM stop it cleanly, after a final flush.
//!
//! Exit status: 0 when stopped by SIGINT/SIGTERM or after a detach; 2 for bad input,
//! refused before nbdkit starts (arguments, a geometry a device cannot record, a
//! detached device, every bad device file: [`precheck`]); 1 when nbdkit fails after
//! that (a socket or port in use).

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, bail, Context, Result};
use engine::file::{self, DevicePaths, Geometry};
use engine::{DeviceConfig, Variant};

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
    /// Listen on this TCP address (loopback only unless told otherwise).
    #[arg(long, default_value = "127.0.0.1:10809")]
    pub tcp: std::net::SocketAddr,
    /// The control socket for `owm device` (default DIR/control.sock).
    #[arg(long)]
    pub control: Option<PathBuf>,
    /// Create a new device in DIR first (overwrites one there).
    #[arg(long, requires = "variant")]
    pub create: bool,
    /// Variant of the new device: mirroring, logging or cow.
    #[arg(long, requires = "create")]
    pub variant: Option<Variant>,
    /// Size of the new device's volume, in bytes (a multiple of --block-size; only
    /// with --create: an existing device keeps its own).
    #[arg(long, default_value_t = 64 << 20, requires = "create")]
    pub size_bytes: u64,
    /// Block size of the new device, in bytes (only with --create).
    #[arg(long, default_value_t = 4096, requires = "create")]
    pub block_size: usize,
    /// Data-area slots of a new logging or cow device (default: one per volume block;
    /// only with --create, and not with --variant mirroring, which has no data area).
    #[arg(long, requires = "create")]
    pub area_slots: Option<u64>,
}

/// The plugin: `$OWM_NBDKIT_PLUGIN`, else `libowm_nbdkit.so` next to the `owm`
/// executable (where `cargo build -p owm-serve` puts it), else in `../lib/owm/`.
pub fn plugin_path() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("OWM_NBDKIT_PLUGIN") {
        return Ok(PathBuf::from(p));
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
                exe.display()
            )
        })
}

fn absolute(p: &Path) -> Result<PathBuf> {
    std::path::absolute(p)
        .with_context(|| format!("{}: cannot make the path absolute", p.display()))
}

pub fn serve(args: &ServeArgs) -> Result<()> {
    let dir = absolute(&args.dir)?;
    let paths = DevicePaths::in_dir(&dir);
    if args.create {
        create(&dir, &paths, args)?;
    } else if !paths.meta.is_file() {
        return Err(no_device(&dir, &paths));
    } else {
        precheck(&dir, &paths)
            .with_context(|| format!("{}: cannot serve this device", dir.display()))?;
    }
    let plugin = plugin_path()?;
    let control = match &args.control {
        Some(c) => absolute(c)?,
        None => dir.join("control.sock"),
    };
    let mut cmd = Command::new("nbdkit");
    cmd.arg("--foreground");
    match &args.socket {
        Some(s) => {
            cmd.arg("--unix").arg(absolute(s)?);
        }
        None => {
            cmd.arg("--ipaddr")
                .arg(args.tcp.ip().to_string())
                .arg("--port")
                .arg(args.tcp.port().to_string());
        }
    }
    cmd.arg(&plugin)
        .arg(format!("dir={}", dir.display()))
        .arg(format!("control={}", control.display()));
    let err = cmd.exec();
    if err.kind() == std::io::ErrorKind::NotFound {
        bail!("nbdkit is not installed (Debian: apt-get install nbdkit)");
    }
    Err(err).context("cannot start nbdkit")
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
        (Err(_), Ok(_)) => Some("is a symbolic link to a missing file"),
        (Err(_), Err(_)) => None,
    };
    if let Some(what) = what {
        return anyhow!("{}: {what}; {keep}", meta.display());
    }
    let images: Vec<String> = [&paths.image_a, &paths.image_b]
        .into_iter()
        .filter(|p| std::fs::symlink_metadata(p).is_ok())
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    if !images.is_empty() {
        return anyhow!(
            "{}: no device.owm, but {} is here; {keep}",
            dir.display(),
            images.join(" and ")
        );
    }
    anyhow!(
        "{}: no device here (no device.owm); create one with --create --variant V",
        dir.display()
    )
}

/// Opens the device once here, then closes it, so that every bad device file is bad
/// input of `owm serve` (exit 2, its message printed once) rather than a failed start
/// of nbdkit: a detached device (refused as the server refuses it:
/// [`file::refuse_detached`]); metadata that does not decode or was made for another
/// device; images swapped, resized, missing, stale or foreign; another server holding
/// the lock; a superblock that shows the metadata cut after a flush; an `archive.json`
/// that is damaged or another device's ([`file::read_archive_record`]). The open is the
/// engine's own (it advances the generation and finishes a retire cut short, as the
/// server's open then does again).
fn precheck(dir: &Path, paths: &DevicePaths) -> Result<()> {
    file::refuse_detached(dir).map_err(anyhow::Error::msg)?;
    let journal = engine::meta::FileJournal::load(&paths.meta)?;
    let variant = match journal.records.first() {
        Some((_, engine::meta::MetaRecord::Header { variant, .. })) => *variant,
        _ => bail!(
            "{}: the first record is not the device header",
            paths.meta.display()
        ),
    };
    let device = file::open(paths, DeviceConfig::new(variant))?;
    file::read_archive_record(dir, &device.identity()).map_err(anyhow::Error::msg)?;
    drop(device);
    Ok(())
}

fn create(dir: &Path, paths: &DevicePaths, args: &ServeArgs) -> Result<()> {
    let variant = args.variant.expect("clap: --create requires --variant");
    if args.block_size == 0 {
        bail!("--block-size 0: a block holds at least one byte (default 4096)");
    }
    if u32::try_from(args.block_size).is_err() {
        bail!(
            "--block-size {}: more than the largest block a device records ({} bytes)",
            args.block_size,
            u32::MAX
        );
    }
    if args.area_slots.is_some() && variant == Variant::WriteMirroring {
        bail!(
            "--area-slots with --variant mirroring: write mirroring keeps a whole second \
             image and has no data area (--area-slots is for logging and cow)"
        );
    }
    if args.area_slots == Some(0) {
        bail!("--area-slots 0: a logging or cow device needs at least one data-area slot (default: one per volume block)");
    }
    if args.size_bytes == 0 || !args.size_bytes.is_multiple_of(args.block_size as u64) {
        bail!(
            "--size-bytes {} is not a positive multiple of --block-size {}",
            args.size_bytes,
            args.block_size
        );
    }
    let volume_blocks = args.size_bytes / args.block_size as u64;
    if let Some(slots) = args.area_slots.filter(|&s| s > volume_blocks) {
        bail!(
            "--area-slots {slots} is more than the volume's {volume_blocks} blocks (a logging \
             or cow device uses at most one slot per volume block)"
        );
    }
    let g = Geometry {
        block_size: args.block_size,
        volume_blocks,
        area_slots: args.area_slots.unwrap_or(volume_blocks),
    };
    let dir_existed = dir.exists();
    let files = [&paths.image_a, &paths.image_b, &paths.meta];
    let existed = files.map(|p| p.exists());
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let made = file::create(paths, DeviceConfig::new(variant), g)
        .and_then(|device| device.flush())
        .with_context(|| format!("{}: cannot create the device", dir.display()));
    if made.is_err() {
        // No half-made device: the files this create made are removed, and the
        // directory if it made it (a file that was there, perhaps a live device's
        // locked image, is left alone).
        for (p, was) in files.iter().zip(existed) {
            if !was {
                let _ = std::fs::remove_file(p);
            }
        }
        if !dir_existed {
            let _ = std::fs::remove_dir(dir);
        }
        return made;
    }
    // A new device has no archive yet, and has not been detached.
    let _ = std::fs::remove_file(dir.join("archive.json"));
    let _ = std::fs::remove_file(file::detach_marker(dir));
    Ok(())
}
