//! The identity of the sources the nbdkit plugin (`libowm_nbdkit.so`) is built from.
//!
//! `owm serve` runs the plugin beside it (or the one `$OWM_NBDKIT_PLUGIN` names); a
//! plugin left from an older build of the engine or of the plugin itself would serve
//! the device with other code than the `owm` that made and checked it. Both build
//! scripts (the `owm` package's and `owm-serve`'s) call [`emit`] over the same
//! workspace, so both binaries carry the same [`ENV`] value exactly when they were
//! built from the same sources; the plugin reports it as its nbdkit version
//! (`nbdkit --dump-plugin` prints `version=…`) and `owm serve` compares it at start.

use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The environment variable [`emit`] sets for the crate being compiled
/// (`env!("OWM_PLUGIN_BUILD")`): the package version, `+` and [`sources_digest`],
/// e.g. `0.1.0+3f9a0c12d4e5b677`.
pub const ENV: &str = "OWM_PLUGIN_BUILD";

/// What the plugin is built from, relative to the workspace root: the engine and the
/// plugin's crates (each a directory walked whole, or a file) and the locked
/// dependency versions.
pub const SOURCES: [&str; 5] = [
    "engine/src",
    "engine/Cargo.toml",
    "serve/src",
    "serve/Cargo.toml",
    "Cargo.lock",
];

/// The identity of the files under `root` named by [`SOURCES`]: the first 8 bytes,
/// in hex, of SHA-256 over each file's path relative to `root`, its length and its
/// bytes, in path order. A missing entry counts as empty (it changes the identity
/// all the same).
///
/// # Errors
/// A file or directory that exists but cannot be read.
pub fn sources_digest(root: &Path) -> io::Result<String> {
    let mut files = Vec::new();
    for s in SOURCES {
        collect(&root.join(s), &mut files)?;
    }
    files.sort();
    let mut h = Sha256::new();
    for f in &files {
        let rel = f.strip_prefix(root).unwrap_or(f);
        let bytes = std::fs::read(f)?;
        let name = rel.to_string_lossy();
        h.update((name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    let d = h.finalize();
    Ok(d[..8].iter().map(|b| format!("{b:02x}")).collect())
}

/// Every regular file at or under `path` (none when it does not exist).
fn collect(path: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    let m = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if m.is_dir() {
        for e in std::fs::read_dir(path)? {
            collect(&e?.path(), out)?;
        }
    } else if m.is_file() {
        out.push(path.to_path_buf());
    }
    Ok(())
}

/// For a build script: sets [`ENV`] from the package version and the
/// [`sources_digest`] of the workspace at `root`, and asks Cargo to run the script
/// again when any of [`SOURCES`] changes.
///
/// # Panics
/// When the sources cannot be read (a build script reports failure by panicking).
pub fn emit(root: &Path) {
    for s in SOURCES {
        println!("cargo:rerun-if-changed={}", root.join(s).display());
    }
    let digest = sources_digest(root)
        .unwrap_or_else(|e| panic!("{}: cannot read the plugin's sources: {e}", root.display()));
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    println!("cargo:rustc-env={ENV}={version}+{digest}");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A workspace with every source entry present.
    fn tree() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        for d in ["engine/src/store", "serve/src"] {
            std::fs::create_dir_all(t.path().join(d)).unwrap();
        }
        for (f, text) in [
            ("engine/src/lib.rs", "pub mod store;"),
            ("engine/src/store/mod.rs", "pub fn f() {}"),
            ("engine/Cargo.toml", "[package]"),
            ("serve/src/lib.rs", "fn g() {}"),
            ("serve/Cargo.toml", "[package]"),
            ("Cargo.lock", "version = 4"),
        ] {
            std::fs::write(t.path().join(f), text).unwrap();
        }
        t
    }

    #[test]
    fn one_tree_has_one_identity_wherever_it_lies() {
        let (a, b) = (tree(), tree());
        let d = sources_digest(a.path()).unwrap();
        assert_eq!(d.len(), 16);
        assert!(d.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(d, sources_digest(b.path()).unwrap());
    }

    #[test]
    fn any_change_to_a_source_changes_the_identity() {
        let t = tree();
        let before = sources_digest(t.path()).unwrap();
        let mut seen = vec![before.clone()];
        // A byte of a nested file, a moved file, a new file, a removed file, a
        // file outside the sources (no change).
        let root = t.path();
        std::fs::write(root.join("engine/src/store/mod.rs"), "pub fn f() {} ").unwrap();
        seen.push(sources_digest(root).unwrap());
        std::fs::rename(
            root.join("serve/src/lib.rs"),
            root.join("serve/src/main.rs"),
        )
        .unwrap();
        seen.push(sources_digest(root).unwrap());
        std::fs::write(root.join("serve/src/extra.rs"), "").unwrap();
        seen.push(sources_digest(root).unwrap());
        std::fs::remove_file(root.join("Cargo.lock")).unwrap();
        seen.push(sources_digest(root).unwrap());
        let n = seen.len();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), n, "every change gives a new identity");
        let last = sources_digest(root).unwrap();
        std::fs::write(root.join("README.md"), "not a source").unwrap();
        assert_eq!(sources_digest(root).unwrap(), last);
    }

    #[test]
    fn content_moved_between_files_changes_the_identity() {
        let t = tree();
        let root = t.path();
        let before = sources_digest(root).unwrap();
        // The same bytes in total, split differently between two files.
        std::fs::write(root.join("serve/src/lib.rs"), "fn g() {}[package]").unwrap();
        std::fs::write(root.join("serve/Cargo.toml"), "").unwrap();
        assert_ne!(sources_digest(root).unwrap(), before);
    }
}
