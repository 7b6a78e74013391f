//! `owm run` on trace workloads: the shipped fio-recorded scenario under every
//! policy, and a bad trace named by file and line through the command line.

use crate::util::*;

#[test]
fn the_shipped_trace_scenario_prints_every_policy_and_its_diagrams() {
    let tmp = tempfile::tempdir().unwrap();
    // The crash-consistent baseline breaks A-consistent here, which it never claims:
    // reported as not claimed, exit 0.
    let out = owm(&["run", "scenarios/trace-fio.toml", "--out", &s(tmp.path())]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let table = stdout(&out);
    for policy in [
        "none",
        "quiesce",
        "crash-consistent",
        "mirroring",
        "logging",
        "cow",
    ] {
        let row = table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(policy))
            .unwrap_or_else(|| panic!("no `{policy}` row:\n{table}"));
        // Every one of the 116 recorded I/Os committed, under every policy.
        assert_eq!(row.split_whitespace().nth(1), Some("116"), "{row}");
        let png = format!("timing-{policy}.png");
        assert!(bytes(tmp.path(), &png).starts_with(b"\x89PNG"), "{png}");
    }
    for f in ["summary.csv", "trace.csv", "timing.svg", "timing.png"] {
        assert!(!bytes(tmp.path(), f).is_empty(), "{f}");
    }
    // The quiesce baseline holds arrivals at the request; the one-way mirror does not.
    let adm_max = |p: &str| -> u64 {
        let row = table.lines().find(|l| l.starts_with(p)).unwrap();
        row.split_whitespace().nth(4).unwrap().parse().unwrap()
    };
    assert!(adm_max("quiesce") > 0, "{table}");
    assert_eq!(adm_max("mirroring"), 0, "{table}");
}

#[test]
fn a_malformed_trace_line_is_named_by_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "t.csv",
        "time,op,offset,length\n0,W,0,4096\n10,X,4096,4096\n",
    );
    let scenario = write(
        tmp.path(),
        "s.toml",
        "[workload]\nkind = \"trace\"\nformat = \"csv\"\npath = \"t.csv\"\n",
    );
    let out = owm(&["run", &scenario, "--out", &s(&tmp.path().join("out"))]);
    let csv = tmp.path().join("t.csv");
    fails_with(
        &out,
        &[
            &format!("{}:3: op `X` is neither R nor W", csv.display()),
            "s.toml:4",
            "workload.path",
        ],
    );
    assert!(!tmp.path().join("out").join("summary.csv").exists());
    // A key of the trace kind with a bad value names the scenario's line.
    let scenario = write(
        tmp.path(),
        "s2.toml",
        "[workload]\nkind = \"trace\"\npath = \"t.csv\"\nformat = \"vhs\"\n",
    );
    let out = owm(&["run", &scenario]);
    fails_with(&out, &["s2.toml:4", "vhs"]);
}

/// A trace whose highest offset makes the volume too large (past 2^62 bytes, past
/// `limits.volume_bytes_max`, past 2^32 records or a data area of 2^32 - 1 slots) is
/// refused naming the trace file and the line of that
/// I/O, and the way out a trace has, `addresses = "dense"`; exit 2, nothing written;
/// with the advice taken, the same trace runs.
#[test]
fn a_volume_set_by_a_trace_offset_names_its_line_and_dense_addresses() {
    let tmp = tempfile::tempdir().unwrap();
    for (offset, words) in [
        (
            "9223372036854775807",
            "make a volume of more than 4611686018427387904 bytes (2^62)",
        ),
        (
            "1099511627776",
            "more than limits.volume_bytes_max = 1073741824",
        ),
        // Past 2^32 records (lock ids are 32-bit).
        (
            "17592186044416",
            "hold 4294967297 records (1 a block): at most 4294967295",
        ),
        // 2^32 - 1 blocks: records fit, the data area's slots do not.
        (
            "17592186036224",
            "the data area would have 4294967295 slots (the data area defaults to the volume's size), at most 4294967294",
        ),
    ] {
        write(
            tmp.path(),
            "t.csv",
            &format!("time,op,offset,length\n0,W,0,4096\n10,W,{offset},4096\n20,W,8192,4096\n"),
        );
        let text = "policies = [\"none\", \"cow\"]\n[workload]\nkind = \"trace\"\npath = \"t.csv\"\nformat = \"csv\"\ntiming = \"closed\"\n[geometry]\nblock_size_bytes = 4096\nrecords_per_block = 1\n";
        let scenario = write(tmp.path(), "s.toml", text);
        let out = tmp.path().join("out");
        let o = owm(&["run", &scenario, "--out", &s(&out)]);
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        let csv = tmp.path().join("t.csv");
        fails_with(
            &o,
            &[
                &format!("{scenario}:4: key `workload.path`"),
                &format!("{}:3: the I/O at this line reaches block", csv.display()),
                words,
                "replay it with workload.addresses = \"dense\"",
            ],
        );
        assert!(!stderr(&o).contains("fewer records"), "{}", stderr(&o));
        assert!(!out.exists(), "nothing written");
        let dense = write(
            tmp.path(),
            "dense.toml",
            &text.replace("timing", "addresses = \"dense\"\ntiming"),
        );
        ok(&owm(&["run", &dense, "--out", &s(&out), "--quiet"]));
        std::fs::remove_dir_all(&out).unwrap();
    }
}

/// The cells of `summary.csv` in column `name`, one per row.
fn column(summary: &str, name: &str) -> Vec<String> {
    let mut lines = summary.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let k = header.iter().position(|h| *h == name).unwrap();
    lines
        .map(|l| l.split(',').nth(k).unwrap().to_string())
        .collect()
}

/// A trace replayed closed loop runs as fast as the device allows, not at its recorded
/// times. By default its backup is requested inside the replay (half its expected
/// span), so the backup runs beside transactions and its invariants are claimed and
/// judged; a request set after the replay's last transaction is said to be so (`not
/// claimed (request after the last transaction)`), never a silent `held`.
#[test]
fn a_closed_trace_replay_is_backed_up_while_it_runs_or_says_it_was_not() {
    let tmp = tempfile::tempdir().unwrap();
    let trace =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/traces/fio-randrw.iolog");
    let body = format!(
        "policies = [\"logging\", \"cow\"]\n[workload]\nkind = \"trace\"\npath = \"{}\"\n\
         timing = \"closed\"\n[geometry]\nblock_size_bytes = 4096\nrecords_per_block = 1\n",
        trace.display()
    );
    let scenario = write(tmp.path(), "closed.toml", &body);
    let out_dir = tmp.path().join("out");
    let out = owm(&["run", &scenario, "--out", &s(&out_dir)]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let summary = String::from_utf8(bytes(&out_dir, "summary.csv")).unwrap();
    assert!(!summary.contains("request after"), "{summary}");
    // Claimed and held: the request came before the last transaction ended.
    assert_eq!(
        column(&summary, "A-isolated"),
        ["held", "held"],
        "{summary}"
    );
    for at in column(&summary, "request_at_ticks") {
        let at: u64 = at.parse().unwrap();
        assert!(at > 0 && at < 5_000, "{at}");
    }
    // Past the replay (recorded span ~320,000 µs; the closed replay ends near 5,000).
    let late = write(
        tmp.path(),
        "late.toml",
        &format!("{body}[backup]\nrequest_at_ticks = 100000\n"),
    );
    let late_dir = tmp.path().join("late");
    let out = owm(&["run", &late, "--out", &s(&late_dir)]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let summary = String::from_utf8(bytes(&late_dir, "summary.csv")).unwrap();
    for name in ["A-isolated", "A-consistent", "backup-faithful"] {
        assert_eq!(
            column(&summary, name),
            ["not claimed (request after the last transaction)"; 2],
            "{name}: {summary}"
        );
    }
    // The live volume is judged whatever the request.
    assert_eq!(
        column(&summary, "B-complete"),
        ["held", "held"],
        "{summary}"
    );
    assert!(
        stdout(&out).contains("request after the last transaction"),
        "{}",
        stdout(&out)
    );
}

/// Loading a trace holds its text and its parsed I/Os, then its transactions: a trace
/// whose loading could pass `limits.memory_bytes_max` is refused at `workload.path`
/// before it is read (from its size and lines: short lines, many I/Os) or before its
/// I/Os are mapped (few lines, each spanning many blocks), with the bound's key and
/// nothing written; with the bound raised the same file runs.
#[test]
fn a_trace_whose_loading_could_pass_the_memory_bound_is_refused_before_it_is_loaded() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    // 200,000 one-byte reads: 3.2 MB of text, 17.6 MB of parsed I/Os.
    let short: String = (0..200_000)
        .map(|i| format!("{i},R,{},1\n", (i % 100) * 512))
        .collect();
    write(tmp.path(), "short.csv", &short);
    // 100 writes of 32 MiB: 6.5 million block accesses of 512-byte blocks.
    let long: String = (0..100).map(|i| format!("{i},W,0,33554432\n")).collect();
    write(tmp.path(), "long.csv", &long);
    let file = |trace: &str, memory: u64| {
        write(
            tmp.path(),
            "t.toml",
            &format!(
                "policies = [\"cow\"]\nkeep_timeline = false\n[workload]\nkind = \"trace\"\n\
                 path = \"{trace}\"\nformat = \"csv\"\n[limits]\nmemory_bytes_max = {memory}\n"
            ),
        )
    };
    // Its text and the program fit the bound; its parsed I/Os beside them do not.
    let f = file("short.csv", 20 << 20);
    assert!((short.len() as u64) < 20 << 20);
    let o = owm(&["run", &f, "--out", &s(&out)]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            &format!("{f}:5: key `workload.path`"),
            &format!("the file is {} bytes in 200000 lines", short.len()),
            "up to 200000 parsed I/Os",
            "more than limits.memory_bytes_max = 20971520",
        ],
    );
    assert!(!out.exists());
    let f = file("long.csv", 64 << 20);
    let o = owm(&["run", &f, "--out", &s(&out)]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            &format!("{f}:5: key `workload.path`"),
            "mapping its 100 I/Os to transactions could hold about",
            "more than limits.memory_bytes_max = 67108864",
            "geometry.block_size_bytes",
        ],
    );
    assert!(!out.exists());
    // Room for the short trace's load: it runs.
    let f = file("short.csv", 1 << 30);
    let o = owm(&["run", &f, "--out", &s(&out)]);
    assert!([0, 1].contains(&code(&o)), "{}", stderr(&o));
    assert!(out.join("summary.csv").exists());
}

/// Through the command line: a blkparse `Q` line whose RWBS is not one, or missing,
/// and a device `8,x` are refused at their line (exit 2), not skipped with their I/O;
/// a time that is a fraction is said not to be a non-negative integer; a huge
/// `time_scale` reads as `1e300`.
#[test]
fn a_malformed_blkparse_line_and_number_say_what_is_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write(
        tmp.path(),
        "b.toml",
        "[workload]\nkind = \"trace\"\nformat = \"blkparse\"\npath = \"t.txt\"\n\
         timing = \"closed\"\n[geometry]\nblock_size_bytes = 4096\nrecords_per_block = 1\n",
    );
    let good = "  8,0    0        2     0.000100000  1200  Q   R 0 + 8 [pg]\n";
    let trace = tmp.path().join("t.txt");
    for (first, says) in [
        (
            "  8,0    0        1     0.000000000  1200  Q   X 2048 + 8 [pg]",
            "t.txt:1: `X` is not an RWBS field",
        ),
        (
            "  8,0    0        1     0.000000000  1200  Q",
            "t.txt:1: 6 fields; expected",
        ),
        (
            "  8,x    0        1     0.000000000  1200  Q   W 2048 + 8 [pg]",
            "t.txt:1: `8,x` is not a device major,minor",
        ),
    ] {
        std::fs::write(&trace, format!("{first}\n{good}")).unwrap();
        let out = owm(&["run", &scenario, "--out", &s(&tmp.path().join("out"))]);
        assert_eq!(out.status.code(), Some(2), "{first}: {}", stderr(&out));
        fails_with(&out, &[says, "workload.path"]);
    }
    write(tmp.path(), "t.csv", "time,op,offset,length\n0.5,W,0,4096\n");
    let csv = write(
        tmp.path(),
        "c.toml",
        "[workload]\nkind = \"trace\"\nformat = \"csv\"\npath = \"t.csv\"\n",
    );
    let out = owm(&["run", &csv, "--out", &s(&tmp.path().join("out"))]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    fails_with(&out, &["t.csv:2: time `0.5` is not a non-negative integer"]);
    write(
        tmp.path(),
        "t.csv",
        "time,op,offset,length\n0,W,0,4096\n10,W,4096,4096\n",
    );
    let scaled = write(
        tmp.path(),
        "d.toml",
        "[workload]\nkind = \"trace\"\nformat = \"csv\"\npath = \"t.csv\"\n\
         time_scale = 1e300\n",
    );
    let out = owm(&["run", &scaled, "--out", &s(&tmp.path().join("out"))]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    fails_with(
        &out,
        &["t.csv:3: time 10 µs after the trace's first I/O × time_scale 1e300 exceeds"],
    );
    assert!(
        !stderr(&out).contains("000000000000000000"),
        "{}",
        stderr(&out)
    );
    // A time_scale that is not finite is refused at its key before any line is
    // scaled by it, whatever the trace's times.
    for scale in ["inf", "nan", "-1.0"] {
        let f = write(
            tmp.path(),
            "e.toml",
            &format!(
                "[workload]\nkind = \"trace\"\nformat = \"csv\"\npath = \"t.csv\"\n\
                 time_scale = {scale}\n"
            ),
        );
        let out = owm(&["run", &f, "--out", &s(&tmp.path().join("out"))]);
        assert_eq!(out.status.code(), Some(2), "{scale}: {}", stderr(&out));
        fails_with(
            &out,
            &["workload.time_scale", "must be finite and at least 0"],
        );
        assert!(
            !stderr(&out).contains("t.csv:"),
            "{scale}: {}",
            stderr(&out)
        );
    }
}

/// A trace refused for what its text holds says precisely what is wrong: a known fio
/// action with the wrong arguments is named with what it needs (not as unknown); a
/// trace with no I/O line says so without counting skipped lines it has none of, and
/// counts those it has; a byte that is not UTF-8 is named at `file:line` with its byte
/// in the line, as every other malformed line is. Each exits 2.
#[test]
fn a_refused_trace_says_precisely_what_is_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    let refused = |name: &str, format: &str, text: &[u8], needles: &[&str], absent: &str| {
        std::fs::write(tmp.path().join(name), text).unwrap();
        let scenario = write(
            tmp.path(),
            "s.toml",
            &format!(
                "policies = [\"cow\"]\n[workload]\nkind = \"trace\"\npath = \"{name}\"\n\
                 format = \"{format}\"\n[geometry]\nblock_size_bytes = 4096\n\
                 records_per_block = 1\n"
            ),
        );
        let o = owm(&["run", &scenario, "--out", &s(&tmp.path().join("out"))]);
        assert_eq!(code(&o), 2, "{name}: {}", stderr(&o));
        fails_with(&o, needles);
        assert!(!stderr(&o).contains(absent), "{name}: {}", stderr(&o));
    };
    let fio = "fio version 3 iolog\n0 /f add\n0 /f open\n";
    let path = |name: &str| s(&tmp.path().join(name));
    refused(
        "a.iolog",
        "fio-iolog",
        format!("{fio}10 /f write 0\n").as_bytes(),
        &[
            &format!("{}:4: ", path("a.iolog")),
            "the `write` action needs an offset and a length",
            "not 1 argument",
        ],
        "unknown action",
    );
    refused(
        "b.iolog",
        "fio-iolog",
        format!("{fio}10 /f close 0 4096\n").as_bytes(),
        &[
            &format!("{}:4: ", path("b.iolog")),
            "the `close` action takes no offset or length",
        ],
        "unknown action",
    );
    refused(
        "c.csv",
        "csv",
        b"# only a comment\n",
        &[
            &format!("{}: no read or write I/O", path("c.csv")),
            "no line of it is an I/O",
        ],
        "0 lines skipped",
    );
    refused(
        "d.iolog",
        "fio-iolog",
        format!("{fio}10 /f sync 0 0\n20 /f trim 0 4096\n").as_bytes(),
        &[
            "no read or write I/O",
            "2 I/O lines carrying no data skipped",
        ],
        "0 lines",
    );
    refused(
        "e.txt",
        "blkparse",
        b"  8,0    0        1     0.000000000  1200  Q   W 2048 + 8 [pg]\n  8,0    0        2     0.000100000  1300  Q   R 0 + 16 [caf\xe9]\n",
        &[
            &format!("{}:2: byte 61 of the line is not UTF-8", path("e.txt")),
            "iconv",
        ],
        "(byte 123)",
    );
}

/// A CSV trace's `#` comment may be indented, as its fields and blank lines are
/// trimmed: the trace with indented comments replays as the one with comments at the
/// start of their lines, every line of it keeping its number (a bad line after the
/// comments is named at its own).
#[test]
fn an_indented_csv_comment_is_a_comment() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |name: &str, text: &str| {
        std::fs::write(tmp.path().join(name), text).unwrap();
        let scenario = write(
            tmp.path(),
            &format!("{name}.toml"),
            &format!(
                "policies = [\"none\"]\n[workload]\nkind = \"trace\"\npath = \"{name}\"\n\
                 format = \"csv\"\n[geometry]\nblock_size_bytes = 4096\n\
                 records_per_block = 1\n[device]\njitter_ticks_max = 0\n"
            ),
        );
        let out = tmp.path().join(format!("out-{name}"));
        let o = owm(&["run", &scenario, "--out", &s(&out)]);
        (o, out)
    };
    let lines = |indent: &str| {
        format!(
            "time,op,offset,length\n0,W,0,4096\n{indent}# a comment, \"quoted\n\
             10,W,4096,4096\r\n{indent}#\r\n20,W,8192,4096\n"
        )
    };
    let (o, flat) = run("flat.csv", &lines(""));
    ok(&o);
    let (o, indented) = run("indented.csv", &lines(" \t "));
    ok(&o);
    let summary = |dir: &std::path::Path| std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    assert!(
        summary(&flat).contains("flat.csv,trace,none,,1,,3,"),
        "{}",
        summary(&flat)
    );
    assert_eq!(
        summary(&flat),
        summary(&indented).replace("indented.csv", "flat.csv")
    );
    let (o, _) = run("bad.csv", &format!("{}30,W,x,4096\n", lines("  ")));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["bad.csv:7: "]);
}

/// A trace replayed with `addresses = "dense"` whose blocks make a volume past
/// `limits.volume_bytes_max` is told to replay a shorter trace (a trace has no record
/// count), naming the blocks it touches.
#[test]
fn a_dense_trace_past_the_volume_bound_is_told_what_sets_it() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("d.csv"),
        "0,W,0,4096\n10,W,1000000,4096\n20,W,99999999,4096\n",
    )
    .unwrap();
    let scenario = write(
        tmp.path(),
        "s.toml",
        "policies = [\"none\"]\n[workload]\nkind = \"trace\"\npath = \"d.csv\"\n\
         format = \"csv\"\naddresses = \"dense\"\n[geometry]\nblock_size_bytes = 4096\n\
         records_per_block = 1\n[limits]\nvolume_bytes_max = 8192\n",
    );
    let o = owm(&["run", &scenario, "--out", &s(&tmp.path().join("o"))]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            "limits.volume_bytes_max",
            "replay a shorter trace",
            // 99999999 + 4095 ends in the block after the one it starts in.
            "d.csv touches 5 distinct blocks of 4096 bytes",
        ],
    );
    assert!(!stderr(&o).contains("records"), "{}", stderr(&o));
}

/// `workload.write_kind = "blind"` on a trace: refused at its own line where a blind
/// write could not be honoured (several records a block, incremental locks, aborts),
/// run otherwise.
#[test]
fn a_blind_trace_is_refused_at_its_key_where_it_cannot_be_honoured() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "t.csv",
        "time,op,offset,length\n0,W,0,4096\n10,W,4096,4096\n20,R,0,4096\n",
    );
    let base = "policies = [\"none\", \"cow\"]\n[workload]\nkind = \"trace\"\npath = \"t.csv\"\n\
                format = \"csv\"\nwrite_kind = \"blind\"\n[geometry]\nblock_size_bytes = 4096\n";
    // (text, the line of `write_kind`, why)
    for (text, line, why) in [
        (
            base.to_string(),
            6,
            "geometry.records_per_block must be 1, not 4",
        ),
        (
            format!("{base}records_per_block = 1\n[locking]\ndiscipline = \"incremental\"\n"),
            6,
            "locking.discipline = \"conservative\"",
        ),
        (
            format!("abort_probability = 0.1\n{base}records_per_block = 1\n"),
            7,
            "abort_probability must be 0",
        ),
    ] {
        let scenario = write(tmp.path(), "s.toml", &text);
        let o = owm(&["run", &scenario, "--out", &s(&tmp.path().join("out"))]);
        assert_eq!(code(&o), 2, "{text}: {}", stderr(&o));
        fails_with(
            &o,
            &[
                &format!("{scenario}:{line}: key `workload.write_kind`"),
                why,
            ],
        );
    }
    let scenario = write(
        tmp.path(),
        "s.toml",
        &format!("{base}records_per_block = 1\n"),
    );
    ok(&owm(&[
        "run",
        &scenario,
        "--out",
        &s(&tmp.path().join("out")),
        "--quiet",
    ]));
}

/// `time_scale = -0.0` is 0 (it passes "at least 0"): the replay is the one of
/// `time_scale = 0`, every transaction at tick 0, byte for byte, under recorded and
/// closed timing; a negative scale is still refused at its key.
#[test]
fn a_time_scale_of_minus_zero_is_zero() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("t.csv"),
        "time,op,offset,length\n0,W,0,4096\n10,R,4096,4096\n20,W,8192,4096\n",
    )
    .unwrap();
    for timing in ["recorded", "closed"] {
        let run = |scale: &str| {
            let f = write(
                tmp.path(),
                "z.toml",
                &format!(
                    "policies = [\"none\", \"cow\"]\n[workload]\nkind = \"trace\"\npath = \"t.csv\"\n\
                     format = \"csv\"\ntiming = \"{timing}\"\ntime_scale = {scale}\n[geometry]\n\
                     block_size_bytes = 4096\nrecords_per_block = 1\n"
                ),
            );
            let out = tmp.path().join(format!("o-{timing}-{scale}"));
            (owm(&["run", &f, "--out", &s(&out)]), out)
        };
        let (o, zero) = run("0");
        ok(&o);
        let (o, minus) = run("-0.0");
        ok(&o);
        for name in ["summary.csv", "trace.csv"] {
            assert_eq!(bytes(&zero, name), bytes(&minus, name), "{timing} {name}");
        }
        let (o, _) = run("-0.5");
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        fails_with(&o, &["key `workload.time_scale`", "-0.5 is out of range"]);
    }
}

/// Lines a replay skips (here zero-length I/Os) are counted under the tables, with
/// the I/Os replayed; a trace that skips none says nothing of it.
#[test]
fn the_lines_a_replay_skips_are_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |name: &str, text: &str| {
        std::fs::write(tmp.path().join(name), text).unwrap();
        let f = write(
            tmp.path(),
            &format!("{name}.toml"),
            &format!(
                "policies = [\"none\"]\n[workload]\nkind = \"trace\"\npath = \"{name}\"\n\
                 format = \"csv\"\n[geometry]\nblock_size_bytes = 4096\nrecords_per_block = 1\n"
            ),
        );
        owm(&[
            "run",
            &f,
            "--out",
            &s(&tmp.path().join(format!("o-{name}"))),
        ])
    };
    let o = run(
        "skips.csv",
        "0,W,0,4096\n5,W,4096,0\n10,R,0,4096\n15,R,8192,0\n20,W,8192,4096\n",
    );
    ok(&o);
    assert!(
        stdout(&o).contains("the trace: 3 I/Os replayed, 2 lines skipped (syncs, trims,"),
        "{}",
        stdout(&o)
    );
    let o = run("whole.csv", "0,W,0,4096\n10,R,0,4096\n");
    ok(&o);
    assert!(!stdout(&o).contains("the trace:"), "{}", stdout(&o));
}
