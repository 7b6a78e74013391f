//! `limits.archive_blocks_max` bounds every copy that reads and sends every block of
//! the volume, through `owm run`: a dense archive copy (`tests/errors.rs`), the copy of
//! VLUN B to B' (`[detach]`), and a hole-aware archive copy made dense by `[faults]` or
//! `[device] integrity`. Each is refused before the run (exit 2, nothing written) naming
//! file, line and key, the copy, its block count and what to change; the hole-aware
//! copy alone of the same volume runs (`errors::a_dense_archive_of_a_huge_volume...`).

use crate::util::*;

/// 1 TiB of 4 KiB blocks (2^28), ten transactions, a hole-aware archive copy: it runs
/// (`tests/errors.rs`); `workload.records` is line 4, the `[limits]` table line 9.
const TIB_SPARSE: &str = "policies = [\"cow\"]\n\
                          [workload]\nkind = \"generated\"\nrecords = 268435456\ntransactions = 10\n\
                          [geometry]\nblock_size_bytes = 4096\nrecords_per_block = 1\n\
                          [limits]\nvolume_bytes_max = 1099511627776\n\
                          [archive]\nsparse = true\n";

fn refused(extra: &str, needles: &[&str]) {
    let (tmp, f, o) = run_file(&format!("{TIB_SPARSE}{extra}"));
    assert_eq!(code(&o), 2, "a refused run is bad input: {}", stderr(&o));
    // The bound is left at its default: refused at the key that sizes the volume.
    let key = format!(
        "{f}:4: key `workload.records`: `limits.archive_blocks_max` (at its default, not set in the file)"
    );
    let mut all = vec![
        key.as_str(),
        "more than limits.archive_blocks_max = 16777216",
    ];
    all.extend_from_slice(needles);
    fails_with(&o, &all);
    assert!(!tmp.path().join("o").exists(), "nothing written");
}

/// B' is a whole volume: the copy to it reads and sends all 2^28 blocks.
#[test]
fn a_copy_to_b_prime_of_a_huge_volume_is_refused_before_it_starts() {
    refused(
        "[detach]\nbandwidth_bytes_per_s = 1000000000\n",
        &[
            "the copy of VLUN B to B' ([detach]",
            "268435456 blocks (1.00 TiB) over 1 backup cycle",
            // 2^40 bytes at 10^9 bytes/s.
            "1100 s of virtual time",
            "remove [detach]",
        ],
    );
}

/// With `[faults]` on the disk cannot tell which blocks hold data: the hole-aware copy
/// is the dense one, and is refused as such.
#[test]
fn a_sparse_archive_made_dense_by_faults_is_refused_before_it_starts() {
    refused(
        "[faults]\nread_error_probability = 0.001\n",
        &[
            "hole-aware archive copy made dense by [faults]",
            "268435456 blocks (1.00 TiB)",
            "remove [faults]",
        ],
    );
}

/// In integrity mode a checksum block read with a data block may refuse it: every
/// block counts as data, so the hole-aware copy is dense and refused. (On a small
/// volume: integrity's checksum area on 1 TiB is refused by the memory bound first.)
/// The same file without integrity runs.
#[test]
fn a_sparse_archive_made_dense_by_integrity_is_refused_before_it_starts() {
    let text = "policies = [\"cow\"]\n\
                [workload]\nkind = \"generated\"\nrecords = 1024\ntransactions = 20\n\
                [limits]\narchive_blocks_max = 200\n\
                [archive]\nsparse = true\n";
    let (tmp, f, o) = run_file(&format!("{text}[device]\nintegrity = true\n"));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            &format!("{f}:7: key `limits.archive_blocks_max`"),
            "hole-aware archive copy made dense by [device] integrity",
            "256 blocks",
            "more than limits.archive_blocks_max = 200",
            "device.integrity = false",
        ],
    );
    assert!(!tmp.path().join("o").exists(), "nothing written");
    ok(&run_file(text).2);
}

/// Both dense copies of one cycle count together: the archive copy of a small volume
/// (1024 records, 256 blocks) and its copy to B' are 512 blocks, above a bound of 300 that either
/// alone is under; the bound set in the file is named at its own line. The same file
/// without `[detach]` runs.
#[test]
fn the_archive_and_the_copy_to_b_prime_count_together() {
    let text = "policies = [\"cow\"]\n\
                [workload]\nkind = \"generated\"\nrecords = 1024\ntransactions = 20\n\
                [limits]\narchive_blocks_max = 300\n";
    let (_tmp, f, o) = run_file(&format!("{text}[detach]\n"));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            &format!("{f}:7: key `limits.archive_blocks_max`"),
            "a dense archive copy (archive.sparse = false) and the copy of VLUN B to B'",
            "512 blocks",
            "archive.sparse = true",
            "remove [detach]",
        ],
    );
    let (tmp, _, o) = run_file(text);
    ok(&o);
    let out = tmp.path().join("o");
    let rows = csv_rows(&out, "summary.csv");
    assert_eq!(rows.len(), 1);
    assert!(
        num(&rows[0], "cycle_archive_bytes") > 0.0,
        "the archive copy ran"
    );
}

/// 1 TiB of 4 KiB blocks, ten transactions, a dense archive copy and a copy to B':
/// 2^29 blocks for a policy that backs up. `policies` is line 1, `workload.records`
/// line 4 (where a refusal by the default `limits.archive_blocks_max` is named).
fn tib_dense(policies: &str) -> String {
    format!(
        "policies = [{policies}]\n\
         [workload]\nkind = \"generated\"\nrecords = 268435456\ntransactions = 10\n\
         [geometry]\nblock_size_bytes = 4096\nrecords_per_block = 1\n\
         [limits]\nvolume_bytes_max = 1099511627776\n\
         [detach]\n"
    )
}

/// `none` makes no copy: a run listing only it is not refused for copies any other
/// policy would make, and exits as any run does (0: every invariant it claims held).
/// (`[detach]` itself has no effect under `none` alone and is refused as such,
/// `tests/inert_keys.rs`: the run keeps the default dense archive.)
#[test]
fn a_run_of_none_alone_makes_no_copy_and_is_not_refused_for_copies() {
    let (tmp, _f, o) = run_file(&tib_dense("\"none\"").replace("[detach]\n", ""));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let rows = csv_rows(&tmp.path().join("o"), "summary.csv");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["policy"], "none");
    assert_eq!(num(&rows[0], "committed"), 10.0);
}

/// Beside a policy that backs up, the copies are counted for it and the run is refused
/// before it starts (exit 2, nothing written), naming the policies that copy, not
/// `none`; with two such policies the message names both.
#[test]
fn a_run_of_none_and_a_backup_policy_is_refused_naming_the_policies_that_copy() {
    let (tmp, f, o) = run_file(&tib_dense("\"none\", \"cow\""));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            &format!("{f}:4: key `workload.records`: `limits.archive_blocks_max` (at its default, not set in the file): policy `cow` of the run makes a dense archive copy"),
            "and the copy of VLUN B to B'",
            "536870912 blocks (2.00 TiB) over 1 backup cycle per run",
            "more than limits.archive_blocks_max = 16777216",
            "archive.sparse = true",
            "remove [detach]",
            "(policy `none`, no backup, makes no copy)",
        ],
    );
    assert!(!stderr(&o).contains("`none` of the run"), "{}", stderr(&o));
    assert!(!tmp.path().join("o").exists(), "nothing written");
    let (_tmp, f, o) = run_file(&tib_dense("\"quiesce\", \"none\", \"cow\""));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[&format!(
            "{f}:4: key `workload.records`: `limits.archive_blocks_max` (at its default, not set in the file): policies `quiesce`, `cow` of the run each make"
        )],
    );
}

/// A sweep is refused for the copies of its policies that back up, and a sweep of
/// `none` alone is not.
#[test]
fn a_sweep_counts_the_copies_of_its_policies_that_back_up() {
    let sweep = |policies: &str| {
        format!(
            "title = \"t\"\npolicies = [{policies}]\nseeds = [1]\n\
             x = \"workload.transactions\"\n\
             [[axis]]\nkey = \"workload.transactions\"\nvalues = [10]\n\
             [scenario.workload]\nkind = \"generated\"\nrecords = 268435456\n\
             [scenario.geometry]\nblock_size_bytes = 4096\nrecords_per_block = 1\n\
             [scenario.limits]\nvolume_bytes_max = 1099511627776\n"
        )
    };
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "none.toml", &sweep("\"none\""));
    ok(&owm(&["sweep", &f, "--out", &s(&tmp.path().join("n"))]));
    let f = write(tmp.path(), "cow.toml", &sweep("\"none\", \"cow\""));
    let o = owm(&["sweep", &f, "--out", &s(&tmp.path().join("c"))]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            "key `scenario.workload.records`: `limits.archive_blocks_max` (at its default, not set in the file)",
            "policy `cow` of the run makes a dense archive copy (archive.sparse = false)",
        ],
    );
}
