//! Running the binary and looking at what it wrote.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (scenario files are relative to it).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `owm args...` from the repository root.
pub fn owm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_owm"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("the owm binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts success, showing the output when not.
pub fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "owm failed:\nstdout:\n{}\nstderr:\n{}",
        stdout(o),
        stderr(o)
    );
}

/// Asserts a clean failure: non-zero exit, no panic, and `needles` in stderr.
pub fn fails_with(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert!(
        !o.status.success(),
        "expected failure, got success:\n{}",
        stdout(o)
    );
    assert!(!err.contains("panicked"), "panicked:\n{err}");
    for n in needles {
        assert!(err.contains(n), "stderr lacks `{n}`:\n{err}");
    }
}

/// The names of the files in `dir`, sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("dir exists")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The bytes of `dir/name`.
pub fn bytes(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

/// Writes `text` to `dir/name` and returns the path as a string.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write test file");
    p.to_string_lossy().into_owned()
}

pub fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}
