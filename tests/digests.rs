//! Every shipped scenario and sweep against checked-in SHA-256 digests of every file
//! it writes (`tests/data/output-digests.txt`): a change that moves one byte of a
//! shipped output is a visible, reviewed event. `OWM_BLESS=1 cargo test digests`
//! rewrites the file after an intended change.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::util::*;

const DIGESTS: &str = "tests/data/output-digests.txt";

/// `scenario/file -> sha256` for every output of every file in `scenarios/`.
fn current() -> BTreeMap<String, String> {
    let tmp = tempfile::tempdir().unwrap();
    let files = shipped_files();
    assert!(files.len() >= 6, "shipped scenarios: {files:?}");
    let mut out = BTreeMap::new();
    for f in files {
        let stem = f.trim_end_matches(".toml").to_owned();
        let dir = tmp.path().join(&stem);
        let command = if stem.starts_with("sweep") {
            "sweep"
        } else {
            "run"
        };
        // The digests pin the outputs, not the verdict (exits.rs tests the shipped
        // files' exit statuses): an incomplete verdict (exit 3, outputs written)
        // is pinned too.
        let o = owm(&[
            command,
            &format!("scenarios/{f}"),
            "--out",
            &s(&dir),
            "--allow-violations",
        ]);
        assert!(
            matches!(code(&o), 0 | 3),
            "{f}: {}{}",
            stdout(&o),
            stderr(&o)
        );
        digest_dir(&dir, &stem, &mut out);
    }
    out
}

fn digest_dir(dir: &Path, stem: &str, out: &mut BTreeMap<String, String>) {
    for name in names(dir) {
        let hash = Sha256::digest(bytes(dir, &name));
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        out.insert(format!("{stem}/{name}"), hex);
    }
}

#[test]
fn shipped_outputs_match_their_checked_in_digests() {
    let now = current();
    let text: String = now.iter().map(|(k, v)| format!("{v}  {k}\n")).collect();
    let path = repo().join(DIGESTS);
    if std::env::var_os("OWM_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (OWM_BLESS=1 writes it)", path.display()));
    let mut diff = Vec::new();
    for line in want.lines().chain(text.lines()) {
        if !(want.lines().any(|l| l == line) && text.lines().any(|l| l == line)) {
            diff.push(line.to_owned());
        }
    }
    assert!(
        diff.is_empty(),
        "outputs differ from {DIGESTS} (lines present on one side only):\n{}",
        diff.join("\n")
    );
}
