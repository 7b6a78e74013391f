//! The second class of fault in the copy of VLUN B to B' (`[detach]`): the users'
//! writes mirrored to B' during the copy are lost (`drop_mirrored_writes_for_mutant_test`,
//! a test-only key). B' then holds a block as the copy read it, not as users later wrote
//! it; the oracle's b-prime-faithful must catch it through `owm run` (exit 1) under
//! every backup policy, in a run where mirrored writes did happen.

use crate::costs::{summary_rows, write_only_load};
use crate::util::*;

/// The issue's write-only load under every policy, with a B' target accepting 400 kB/s
/// in extents of 16 blocks (as `tests/detach.rs`): the copy takes long enough for users
/// to write blocks already copied.
fn scenario(mutant: bool) -> String {
    format!(
        "{}{}\n[detach]\nbandwidth_bytes_per_s = 400000\nextent_blocks = 16\n{}",
        r#"
policies = ["none", "quiesce", "crash-consistent", "mirroring", "logging", "cow"]
seed = 1
name = "detach-mirror"
"#,
        write_only_load!(),
        if mutant {
            "drop_mirrored_writes_for_mutant_test = true\n"
        } else {
            ""
        }
    )
}

const BACKUP_POLICIES: [&str; 5] = ["quiesce", "crash-consistent", "mirroring", "logging", "cow"];

#[test]
fn a_copy_that_drops_the_mirrored_writes_is_a_b_prime_faithful_violation() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "mutant.toml", &scenario(true));
    let out = tmp.path().join("mutant");
    let o = owm(&["run", &f, "--out", &s(&out)]);
    assert_eq!(code(&o), 1, "{}\n{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    let line = table_row(&text, "b-prime-faithful");
    assert_eq!(line.matches("violated").count(), 5, "{line}");
    let rows = summary_rows(&out);
    assert_eq!(rows["none"]["b-prime-faithful"], "not claimed (no backup)");
    for p in BACKUP_POLICIES {
        let r = &rows[p];
        // Not vacuous: the copy ran and users wrote blocks it had already copied.
        assert_eq!(r["detach_blocks_copied"], "256", "{p}: the copy ran");
        assert!(
            num(r, "detach_mirrored_writes") > 0.0,
            "{p}: writes were mirrored during the copy"
        );
        assert!(
            r["b-prime-faithful"].starts_with("violated "),
            "{p}: {}",
            r["b-prime-faithful"]
        );
        for other in ["B-complete", "no-torn-write", "backup-faithful"] {
            assert_eq!(r[other], "held", "{p}: {other}");
        }
    }
    // The faithful copy of the same run holds: the violation is the mutant's.
    let f = write(tmp.path(), "faithful.toml", &scenario(false));
    let out = tmp.path().join("faithful");
    let _ = owm(&["run", &f, "--out", &s(&out), "--allow-violations"]);
    let rows = summary_rows(&out);
    for p in BACKUP_POLICIES {
        assert_eq!(rows[p]["b-prime-faithful"], "held", "{p}");
    }
}

/// The mutant's key is refused under `[archive]` (only the copy to B' mirrors writes).
#[test]
fn the_mirror_mutant_is_refused_under_archive() {
    refused_at_their_keys(&[(
        "[archive]\ndrop_mirrored_writes_for_mutant_test = true\n",
        2,
        "archive.drop_mirrored_writes_for_mutant_test",
        "[detach]",
    )]);
}
