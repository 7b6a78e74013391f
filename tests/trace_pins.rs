//! The trace files a sweep replays are pinned by digest: `owm merge` refuses shards
//! that replayed two versions of a trace, or a trace that changed since they ran, and
//! `owm sweep --resume` starts afresh rather than keep points of another version; a
//! sweep refuses a trace that changed while it read it. Never rows of two versions.

use std::path::Path;

use crate::util::*;

/// A CSV trace of four I/Os.
const TRACE: &str = "time,op,offset,length\n0,W,0,4096\n100,W,4096,4096\n200,R,0,4096\n\
                     300,W,8192,4096\n";
/// One line of [`TRACE`] and the same line with its length changed: the edit.
const LINE: (&str, &str) = ("100,W,4096,4096", "100,W,4096,12288");

/// 2 time scales x 2 policies of the trace `tr.csv` beside the sweep file.
const SWEEP: &str = "policies = [\"none\", \"cow\"]\n[[axis]]\nkey = \"workload.time_scale\"\n\
                     values = [0.5, 1.0]\n[scenario.workload]\nkind = \"trace\"\n\
                     path = \"tr.csv\"\nformat = \"csv\"\n";

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The digest as refusals show it (its first 12 hex digits).
fn short(text: &str) -> String {
    sha256(text.as_bytes())[..12].to_string()
}

/// Replaces the first `from` in `dir/name` with `to`.
fn edit(dir: &Path, name: &str, from: &str, to: &str) {
    let text = std::fs::read_to_string(dir.join(name)).unwrap();
    assert!(text.contains(from), "{name} lacks {from}:\n{text}");
    write(dir, name, &text.replacen(from, to, 1));
}

fn sweep(args: &[&str]) {
    let mut all = vec!["sweep", "--quiet"];
    all.extend_from_slice(args);
    ok(&owm(&all));
}

/// The files of a sweep output a merge must reproduce (not the shard's own).
fn outputs(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| n != "shard.toml" && n != "points.json")
        .collect()
}

fn assert_same_outputs(a: &Path, b: &Path) {
    assert_eq!(outputs(a), outputs(b));
    for n in outputs(a) {
        assert!(bytes(a, &n) == bytes(b, &n), "{n} differs");
    }
}

/// The `(path, sha256)` of each `[[traces]]` entry of `dir/shard.toml`.
fn recorded(dir: &Path) -> Vec<(String, String)> {
    let text = String::from_utf8(bytes(dir, "shard.toml")).unwrap();
    let t: toml::Table = toml::from_str(&text).unwrap();
    t["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_string(),
                e["sha256"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A trace edited (one line's value) between shard 1 and shard 2: each shard records
/// the digest of the version it replayed, and the merge is refused (exit 2) naming the
/// trace, both shards and both digests. Shards of one version merge to the bytes of
/// the unsharded sweep; a trace edited after the shards ran is refused naming the
/// shard, the file and both digests.
#[test]
fn merge_refuses_shards_that_replayed_two_versions_of_a_trace() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let f = write(d, "s.toml", SWEEP);
    let edited = TRACE.replacen(LINE.0, LINE.1, 1);
    write(d, "tr.csv", TRACE);
    let (p1, p2, m) = (d.join("p1"), d.join("p2"), d.join("m"));
    sweep(&[&f, "--out", &s(&d.join("whole-a"))]);
    sweep(&[&f, "--shard", "1/2", "--out", &s(&p1)]);
    edit(d, "tr.csv", LINE.0, LINE.1);
    sweep(&[&f, "--shard", "2/2", "--out", &s(&p2)]);
    sweep(&[&f, "--out", &s(&d.join("whole-b"))]);
    // The edit changes the rows: a merge that did not compare the digests would mix.
    assert!(
        bytes(&d.join("whole-a"), "sweep.csv") != bytes(&d.join("whole-b"), "sweep.csv"),
        "the edit must change the grid points' rows"
    );
    assert_eq!(
        recorded(&p1),
        [("tr.csv".to_string(), sha256(TRACE.as_bytes()))]
    );
    assert_eq!(
        recorded(&p2),
        [("tr.csv".to_string(), sha256(edited.as_bytes()))]
    );
    let o = owm(&["merge", &s(&p1), &s(&p2), "--out", &s(&m)]);
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    fails_with(
        &o,
        &[
            &s(&d.join("tr.csv")),
            "differs between shards",
            &format!("shard 1/2 ({}) replayed sha256 {}", s(&p1), short(TRACE)),
            &format!("shard 2/2 ({}) replayed {}", s(&p2), short(&edited)),
        ],
    );
    assert!(!m.exists(), "nothing written");
    // Shard 1 again, on the edited trace: one version, the unsharded sweep's bytes.
    sweep(&[&f, "--shard", "1/2", "--out", &s(&p1)]);
    ok(&owm(&["merge", &s(&p2), &s(&p1), "--out", &s(&m)]));
    assert_same_outputs(&d.join("whole-b"), &m);
    // The trace put back as it was: the shards' version is no longer the file's.
    write(d, "tr.csv", TRACE);
    let o = owm(&["merge", &s(&p1), &s(&p2), "--out", &s(&d.join("m2"))]);
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    fails_with(
        &o,
        &[
            &format!(
                "the trace {} changed since the shards ran",
                s(&d.join("tr.csv"))
            ),
            &format!("shard 1/2 ({}) replayed sha256 {}", s(&p1), short(&edited)),
            &format!("the file now holds {}", short(TRACE)),
        ],
    );
}

/// An axis over `workload.path` of two traces: editing only the second is caught, by
/// the shards' disagreement when both replayed it and by the file when it changed after
/// them; a shard records only the traces its own points replay, so shards that split
/// the traces between them merge (to the unsharded sweep's bytes) when each replayed
/// the version on disk.
#[test]
fn an_edit_of_the_second_of_two_swept_traces_is_caught() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let two = |policies: &str| {
        format!(
            "policies = {policies}\n[[axis]]\nkey = \"workload.path\"\n\
             values = [\"tr1.csv\", \"tr2.csv\"]\n[scenario.workload]\nkind = \"trace\"\n\
             path = \"tr1.csv\"\nformat = \"csv\"\n"
        )
    };
    let edited = TRACE.replacen(LINE.0, LINE.1, 1);
    // Grid index = trace × 2 + policy: each shard replays both traces.
    let f = write(d, "both.toml", &two("[\"none\", \"cow\"]"));
    write(d, "tr1.csv", TRACE);
    write(d, "tr2.csv", TRACE);
    let (p1, p2) = (d.join("p1"), d.join("p2"));
    sweep(&[&f, "--shard", "1/2", "--out", &s(&p1)]);
    edit(d, "tr2.csv", LINE.0, LINE.1);
    sweep(&[&f, "--shard", "2/2", "--out", &s(&p2)]);
    let o = owm(&["merge", &s(&p1), &s(&p2), "--out", &s(&d.join("m"))]);
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    fails_with(
        &o,
        &[
            &format!("the trace {} differs between shards", s(&d.join("tr2.csv"))),
            &short(TRACE),
            &short(&edited),
        ],
    );
    assert!(!stderr(&o).contains("tr1.csv"), "{}", stderr(&o));
    // Both on one version; then the second trace edited after the shards ran.
    sweep(&[&f, "--shard", "1/2", "--out", &s(&p1)]);
    ok(&owm(&[
        "merge",
        &s(&p1),
        &s(&p2),
        "--out",
        &s(&d.join("m")),
    ]));
    edit(d, "tr2.csv", LINE.1, "100,W,4096,8192");
    let o = owm(&["merge", &s(&p1), &s(&p2), "--out", &s(&d.join("m"))]);
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    fails_with(
        &o,
        &[&format!(
            "the trace {} changed since the shards ran",
            s(&d.join("tr2.csv"))
        )],
    );

    // One policy: shard 1 replays tr1.csv alone, shard 2 tr2.csv alone.
    write(d, "tr2.csv", TRACE);
    let g = write(d, "split.toml", &two("[\"cow\"]"));
    let (q1, q2) = (d.join("q1"), d.join("q2"));
    sweep(&[&g, "--shard", "1/2", "--out", &s(&q1)]);
    edit(d, "tr2.csv", LINE.0, LINE.1);
    sweep(&[&g, "--shard", "2/2", "--out", &s(&q2)]);
    assert_eq!(
        recorded(&q1),
        [("tr1.csv".to_string(), sha256(TRACE.as_bytes()))]
    );
    assert_eq!(
        recorded(&q2),
        [("tr2.csv".to_string(), sha256(edited.as_bytes()))]
    );
    sweep(&[&g, "--out", &s(&d.join("whole"))]);
    ok(&owm(&[
        "merge",
        &s(&q1),
        &s(&q2),
        "--out",
        &s(&d.join("mq")),
    ]));
    assert_same_outputs(&d.join("whole"), &d.join("mq"));
    edit(d, "tr2.csv", LINE.1, LINE.0);
    let o = owm(&["merge", &s(&q1), &s(&q2), "--out", &s(&d.join("mq"))]);
    fails_with(
        &o,
        &[
            &format!(
                "the trace {} changed since the shards ran",
                s(&d.join("tr2.csv"))
            ),
            &format!("shard 2/2 ({})", s(&q2)),
        ],
    );
}

/// A shard whose `shard.toml` records no trace digests (as an owm that pinned none
/// wrote it) cannot say which version of a trace it replayed: refused (exit 2) naming
/// it, and so is one whose record lacks a trace its points replay. A sweep without a
/// trace has nothing to pin: such a shard of it still merges.
#[test]
fn a_shard_that_pins_no_trace_is_refused_only_when_the_sweep_replays_one() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let f = write(d, "s.toml", SWEEP);
    write(d, "tr.csv", TRACE);
    let (p1, p2) = (d.join("p1"), d.join("p2"));
    sweep(&[&f, "--shard", "1/2", "--out", &s(&p1)]);
    sweep(&[&f, "--shard", "2/2", "--out", &s(&p2)]);
    let marker = String::from_utf8(bytes(&p2, "shard.toml")).unwrap();
    let cut = marker.find("[[traces]]").expect("traces recorded");
    write(&p2, "shard.toml", &marker[..cut]);
    let o = owm(&["merge", &s(&p1), &s(&p2), "--out", &s(&d.join("m"))]);
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    fails_with(
        &o,
        &[
            &format!("shard 2/2 ({})", s(&p2)),
            "records no trace digests",
            "run this shard again",
        ],
    );
    write(
        &p2,
        "shard.toml",
        &format!("{}traces = []\n", &marker[..cut]),
    );
    let o = owm(&["merge", &s(&p1), &s(&p2), "--out", &s(&d.join("m"))]);
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    fails_with(&o, &["records no digest of the trace", "grid point 1"]);

    let g = write(
        d,
        "gen.toml",
        "policies = [\"none\", \"cow\"]\n[scenario.workload]\nkind = \"generated\"\n\
         records = 64\ntransactions = 10\n",
    );
    let (q1, q2) = (d.join("q1"), d.join("q2"));
    sweep(&[&g, "--shard", "1/2", "--out", &s(&q1)]);
    sweep(&[&g, "--shard", "2/2", "--out", &s(&q2)]);
    let marker = String::from_utf8(bytes(&q1, "shard.toml")).unwrap();
    assert!(marker.contains("traces = []\n"), "{marker}");
    write(&q1, "shard.toml", &marker.replace("traces = []\n", ""));
    ok(&owm(&[
        "merge",
        &s(&q1),
        &s(&q2),
        "--out",
        &s(&d.join("mq")),
    ]));
}

/// A trace edited while the sweep reads it (after its first read, before the grid
/// has loaded) is refused (exit 2) naming it, and nothing is written: its points could
/// replay two versions.
#[test]
fn a_trace_that_changes_while_the_sweep_reads_it_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let f = write(d, "s.toml", SWEEP);
    write(d, "tr.csv", TRACE);
    let out = d.join("o");
    let mut p = spawn_paused(&["sweep", &f, "--out", &s(&out)], "traces read");
    edit(d, "tr.csv", LINE.0, LINE.1);
    drop(p.child.stdin.take());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut p.stderr, &mut rest).unwrap();
    let mut o = p.child.wait_with_output().unwrap();
    o.stderr = format!("{}{rest}", p.said).into_bytes();
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    fails_with(
        &o,
        &[
            &format!(
                "{}: the trace changed while the sweep read it",
                s(&d.join("tr.csv"))
            ),
            &short(TRACE),
            &short(&TRACE.replacen(LINE.0, LINE.1, 1)),
        ],
    );
    assert!(!out.exists(), "nothing written");
}

/// An interrupted trace sweep resumes its kept points when the trace is unchanged;
/// edited in between, `--resume` says which trace changed and starts afresh, so the
/// output is the edited trace's sweep, never a mix; kept points that pin no trace
/// digests are not reused either.
#[test]
fn resume_after_a_trace_edit_starts_afresh() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let f = write(d, "s.toml", SWEEP);
    let trace = d.join("tr.csv");
    write(d, "tr.csv", TRACE);
    let (whole_a, whole_b, out) = (d.join("whole-a"), d.join("whole-b"), d.join("o"));
    sweep(&[&f, "--out", &s(&whole_a)]);
    let interrupt = || {
        let o = interrupt_at(&["sweep", &f, "--out", &s(&out), "--jobs", "1"], "point 2");
        assert_eq!(code(&o), 3, "{}{}", stdout(&o), stderr(&o));
        assert!(
            stdout(&o).contains("2 of 4 grid points done and kept"),
            "{}",
            stdout(&o)
        );
    };
    let resume = || {
        let o = owm(&["sweep", &f, "--out", &s(&out), "--resume", "--quiet"]);
        ok(&o);
        stdout(&o)
    };
    interrupt();
    let said = resume();
    assert!(said.contains("resuming: 2 grid points kept"), "{said}");
    assert_same_outputs(&whole_a, &out);

    interrupt();
    edit(d, "tr.csv", LINE.0, LINE.1);
    let edited = TRACE.replacen(LINE.0, LINE.1, 1);
    let said = resume();
    assert!(
        said.contains(&format!(
            "--resume: the kept points replayed another version of the trace {} \
             (sha256 {}, now {}); starting afresh",
            s(&trace),
            short(TRACE),
            short(&edited)
        )),
        "{said}"
    );
    assert!(!said.contains("resuming:"), "{said}");
    sweep(&[&f, "--out", &s(&whole_b)]);
    assert!(bytes(&whole_a, "sweep.csv") != bytes(&whole_b, "sweep.csv"));
    assert_same_outputs(&whole_b, &out);

    interrupt();
    std::fs::remove_file(d.join(".o.points/traces.json")).unwrap();
    let said = resume();
    assert!(said.contains("pin no trace digests"), "{said}");
    assert!(!said.contains("resuming:"), "{said}");
    assert_same_outputs(&whole_b, &out);
}
