//! Block-trace workloads: each format parsed, malformed lines refused with file:line,
//! the trace → transaction mapping pinned on a hand-made 10-line file of each format,
//! and the fio-recorded trace replayed under every policy with the oracle on.

use std::path::{Path, PathBuf};

use proptest::collection::vec;
use proptest::prelude::*;
use sim::workload::trace::{self, Access, Grouping, MappedTrace, Timing, TraceConfig, TraceFormat};
use sim::{GeometryConfig, Policy, Scenario, WorkloadConfig};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/traces")
        .join(name)
}

/// Loads `file` as a trace scenario on 4 KiB blocks, one record per block.
fn scenario(file: &str, format: TraceFormat, tweak: impl FnOnce(&mut TraceConfig)) -> Scenario {
    let mut c = TraceConfig {
        path: file.into(),
        format,
        ..TraceConfig::default()
    };
    tweak(&mut c);
    let mut s = Scenario::with_workload(WorkloadConfig::Trace(c));
    s.geometry = GeometryConfig {
        block_size_bytes: 4096,
        records_per_block: 1,
    };
    s.load_trace(&data(""))
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    s
}

fn mapped(s: &Scenario) -> &MappedTrace {
    match &s.workload {
        WorkloadConfig::Trace(c) => c.loaded.as_deref().expect("loaded"),
        _ => unreachable!(),
    }
}

/// (arrival ticks, stream, [(block, access)]) of every transaction.
type Pinned = Vec<(u64, u32, Vec<(u64, Access)>)>;

fn pinned(s: &Scenario) -> Pinned {
    mapped(s)
        .txns
        .iter()
        .map(|t| (t.arrival_ticks, t.stream, t.blocks.clone()))
        .collect()
}

const W: Access = Access::Write;
const R: Access = Access::Read;

#[test]
fn fio_v2_mapping_is_pinned() {
    let s = scenario("hand-v2.iolog", TraceFormat::FioIolog, |_| {});
    // write 0+4096 → block 0; write 4096+8192 → blocks 1, 2 (one I/O, one
    // transaction); wait 500 µs; read 6144+1024 → block 1 (a partial block).
    let want: Pinned = vec![
        (0, 0, vec![(0, W)]),
        (0, 0, vec![(1, W), (2, W)]),
        (500, 0, vec![(1, R)]),
    ];
    assert_eq!(pinned(&s), want);
    let m = mapped(&s);
    // wait, sync, trim carry no data.
    assert_eq!((m.ios, m.skipped, m.blocks), (3, 3, 3));
}

#[test]
fn fio_v3_mapping_is_pinned_per_io_and_per_stream() {
    // Two files: /data/a is stream 0 at byte 0; /data/b stream 1 at the first MiB
    // boundary past a's highest byte (14,336) = 1 MiB = block 256.
    let s = scenario("hand-v3.iolog", TraceFormat::FioIolog, |_| {});
    let want: Pinned = vec![
        (0, 0, vec![(1, W)]),
        (50, 1, vec![(256, R)]),
        // 10240 + 4096 straddles blocks 2 and 3: two partial-block writes.
        (300, 0, vec![(2, W), (3, W)]),
        (1900, 0, vec![(1, R)]),
    ];
    assert_eq!(pinned(&s), want);
    assert_eq!(mapped(&s).blocks, 257);
    // Grouped per stream with a 1000 µs idle gap: a's writes at 100 and 400 join;
    // its read at 2000 (1600 µs later) starts a new transaction.
    let g = scenario("hand-v3.iolog", TraceFormat::FioIolog, |c| {
        c.grouping = Grouping::Stream;
    });
    let want: Pinned = vec![
        (0, 0, vec![(1, W), (2, W), (3, W)]),
        (50, 1, vec![(256, R)]),
        (1900, 0, vec![(1, R)]),
    ];
    assert_eq!(pinned(&g), want);
    // At most 1 I/O per transaction is the per-I/O mapping again.
    let one = scenario("hand-v3.iolog", TraceFormat::FioIolog, |c| {
        c.grouping = Grouping::Stream;
        c.ios_per_transaction_max = 1;
    });
    assert_eq!(pinned(&one), pinned(&s));
    // Scaled time: × 0.5, rounded.
    let half = scenario("hand-v3.iolog", TraceFormat::FioIolog, |c| {
        c.time_scale = 0.5
    });
    let arrivals: Vec<u64> = mapped(&half).txns.iter().map(|t| t.arrival_ticks).collect();
    assert_eq!(arrivals, [0, 25, 150, 950]);
}

#[test]
fn blkparse_mapping_is_pinned() {
    // Q events only: W 2048+8 sectors = bytes 1 MiB..+4 KiB → block 256; R 0+16 →
    // blocks 0, 1; WS 2052+4 → a partial write of block 256. G/D/C, the flush, the
    // discard and the message are skipped; the summary ends the events.
    let s = scenario("hand-blkparse.txt", TraceFormat::Blkparse, |_| {});
    let want: Pinned = vec![
        (0, 0, vec![(256, W)]),
        (1000, 1, vec![(0, R), (1, R)]),
        (1200, 0, vec![(256, W)]),
    ];
    assert_eq!(pinned(&s), want);
    assert_eq!(mapped(&s).skipped, 6);
    // The issued requests instead: only line 3.
    let d = scenario("hand-blkparse.txt", TraceFormat::Blkparse, |c| {
        c.blkparse_event = "D".into();
    });
    assert_eq!(pinned(&d), vec![(0, 0, vec![(256, W)])]);
}

#[test]
fn msr_mapping_is_pinned() {
    // Disk 1 is stream 0 (first seen), disk 0 stream 1, laid after disk 1's highest
    // byte (45,056) at 1 MiB = block 256. FILETIME 100 ns units → µs.
    let s = scenario("hand-msr.csv", TraceFormat::MsrCsv, |_| {});
    let want: Pinned = vec![
        (0, 0, vec![(2, W)]),
        (1000, 0, vec![(2, W)]),
        (2000, 0, vec![(0, R), (1, R), (2, R), (3, R)]),
        (3000, 1, vec![(257, W)]),
        (5000, 0, vec![(5, W), (6, W)]),
        (6000, 1, vec![(257, R)]),
        // 4095 + 2 bytes: the last byte of block 0 and the first of block 1.
        (7000, 0, vec![(0, W), (1, W)]),
        (8000, 0, vec![(10, R)]),
    ];
    assert_eq!(pinned(&s), want);
    assert_eq!((mapped(&s).ios, mapped(&s).skipped), (8, 1));
}

#[test]
fn plain_csv_mapping_is_pinned_and_dense_addresses_renumber() {
    let s = scenario("hand-plain.csv", TraceFormat::Csv, |_| {});
    let want: Pinned = vec![
        (0, 0, vec![(0, W)]),
        (10, 0, vec![(1, W)]),
        (20, 1, vec![(0, R), (1, R)]),
        (5000, 0, vec![(0, W)]),
        (5010, 0, vec![(2, R)]),
        (5020, 0, vec![(2, W)]),
        (9000, 2, vec![(16, R)]),
        (9200, 1, vec![(3, W), (4, W)]),
    ];
    assert_eq!(pinned(&s), want);
    assert_eq!(mapped(&s).blocks, 17);
    // Grouped per stream: db's 0 and 10 join, 5000 starts anew and takes 5010 and
    // 5020 (the read of block 2 then its write: one access, a write).
    let g = scenario("hand-plain.csv", TraceFormat::Csv, |c| {
        c.grouping = Grouping::Stream;
    });
    let want: Pinned = vec![
        (0, 0, vec![(0, W), (1, W)]),
        (20, 1, vec![(0, R), (1, R)]),
        (5000, 0, vec![(0, W), (2, W)]),
        (9000, 2, vec![(16, R)]),
        (9200, 1, vec![(3, W), (4, W)]),
    ];
    assert_eq!(pinned(&g), want);
    // Dense: blocks 0, 1, 2, 3, 4, 16 become 0..=5.
    let d = scenario("hand-plain.csv", TraceFormat::Csv, |c| {
        c.addresses = trace::Addresses::Dense;
    });
    assert_eq!(mapped(&d).blocks, 6);
    assert_eq!(mapped(&d).txns[6].blocks, vec![(5, R)]);
}

/// Replaces line `n` (1-based) of `text` with `with`.
fn with_line(text: &str, n: usize, with: &str) -> String {
    text.lines()
        .enumerate()
        .map(|(i, l)| if i + 1 == n { with } else { l })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn malformed_lines_are_refused_with_file_and_line() {
    let cases: &[(&str, TraceFormat, usize, &str, &str)] = &[
        (
            "hand-v2.iolog",
            TraceFormat::FioIolog,
            5,
            "/dev/sdb write 4096 lots",
            "length `lots`",
        ),
        (
            "hand-v2.iolog",
            TraceFormat::FioIolog,
            1,
            "fio version 9 iolog",
            "not an fio iolog header",
        ),
        (
            "hand-v2.iolog",
            TraceFormat::FioIolog,
            7,
            "/dev/sdc read 0 512",
            "used before it is added",
        ),
        (
            "hand-v3.iolog",
            TraceFormat::FioIolog,
            6,
            "100 /data/a wait 10 0",
            "not allowed in a version 3",
        ),
        (
            "hand-v3.iolog",
            TraceFormat::FioIolog,
            6,
            "100 /data/a scribble 1 2",
            "unknown action",
        ),
        (
            "hand-blkparse.txt",
            TraceFormat::Blkparse,
            5,
            "  8,0 0 4 0.001 1300 Q R zero + 16 [cat]",
            "sector `zero`",
        ),
        (
            "hand-blkparse.txt",
            TraceFormat::Blkparse,
            5,
            "  8,0 0 4 1.x 1300 Q R 0 + 16 [cat]",
            "time `1.x`",
        ),
        (
            "hand-blkparse.txt",
            TraceFormat::Blkparse,
            6,
            "  8,0 0 5 0.0012 1200 Q WS 2052 4 [postgres]",
            "without `sector + sectors`",
        ),
        (
            "hand-blkparse.txt",
            TraceFormat::Blkparse,
            2,
            "garbage",
            "expected `major,minor",
        ),
        (
            "hand-blkparse.txt",
            TraceFormat::Blkparse,
            4,
            "  8,16 0 4 0.00025 1200 Q W 2048 + 8 [postgres]",
            "one device",
        ),
        (
            "hand-msr.csv",
            TraceFormat::MsrCsv,
            4,
            "128166372000020000,hm,1,Erase,0,16384,2000",
            "neither Read nor Write",
        ),
        (
            "hand-msr.csv",
            TraceFormat::MsrCsv,
            3,
            "128166372000010000,hm,1,Write,8192",
            "5 fields; expected 7",
        ),
        (
            "hand-msr.csv",
            TraceFormat::MsrCsv,
            9,
            "128166372000070000,hm,1,Write,-4095,2,700",
            "Offset `-4095`",
        ),
        (
            "hand-plain.csv",
            TraceFormat::Csv,
            10,
            "9200,X,12288,8192,log",
            "neither R nor W",
        ),
        ("hand-plain.csv", TraceFormat::Csv, 2, "0,W,0", "3 fields"),
        (
            "hand-plain.csv",
            TraceFormat::Csv,
            4,
            "soon,R,0,8192,log",
            "time `soon`",
        ),
        // Every line is taken or refused: a Q event whose RWBS is not one, or missing,
        // a device that is not two numbers, an action blkparse never prints, a bad RWBS
        // on an event not replayed, a read with no `[process]` after its sectors.
        (
            "hand-blkparse.txt",
            TraceFormat::Blkparse,
            5,
            "  8,0 0 4 0.001 1300 Q X 0 + 16 [cat]",
            "`X` is not an RWBS field",
        ),
        (
            "hand-blkparse.txt",
            TraceFormat::Blkparse,
            5,
            "  8,0 0 4 0.001 1300 Q",
            "6 fields; expected",
        ),
        (
            "hand-blkparse.txt",
            TraceFormat::Blkparse,
            5,
            "  8,x 0 4 0.001 1300 Q R 0 + 16 [cat]",
            "`8,x` is not a device major,minor",
        ),
        (
            "hand-blkparse.txt",
            TraceFormat::Blkparse,
            5,
            "  8,0 0 4 0.001 1300 Z R 0 + 16 [cat]",
            "action `Z` is not one blkparse prints",
        ),
        (
            "hand-blkparse.txt",
            TraceFormat::Blkparse,
            2,
            "  8,0 0 2 0.0000015 1200 G WX 2048 + 8 [postgres]",
            "`WX` is not an RWBS field",
        ),
        (
            "hand-blkparse.txt",
            TraceFormat::Blkparse,
            5,
            "  8,0 0 4 0.001 1300 Q R 0 + 16",
            "no `[process]`",
        ),
        (
            "hand-blkparse.txt",
            TraceFormat::Blkparse,
            5,
            "  8,0 0 4 0.001 1300 Q R",
            "a `Q` R event without `sector + sectors` (then `[process]`)",
        ),
        (
            "hand-blkparse.txt",
            TraceFormat::Blkparse,
            5,
            "  8,0 0 4 0.001 1300 Q SW 0 + 16 [cat]",
            "`SW` is not an RWBS field",
        ),
        // A number that is a fraction, negative or past 64 bits is said to be so.
        (
            "hand-plain.csv",
            TraceFormat::Csv,
            2,
            "0.5,W,0,4096,db",
            "time `0.5` is not a non-negative integer",
        ),
        (
            "hand-plain.csv",
            TraceFormat::Csv,
            2,
            "-5,W,0,4096,db",
            "time `-5` is not a non-negative integer",
        ),
        (
            "hand-plain.csv",
            TraceFormat::Csv,
            2,
            "0,W,0,18446744073709551616,db",
            "length `18446744073709551616` is more than 18446744073709551615",
        ),
        (
            "hand-plain.csv",
            TraceFormat::Csv,
            2,
            "0,W,,4096,db",
            "offset is empty",
        ),
        (
            "hand-msr.csv",
            TraceFormat::MsrCsv,
            2,
            "128166372000000000.5,hm,1,Write,8192,4096,1575",
            "Timestamp `128166372000000000.5` is not a non-negative integer",
        ),
        (
            "hand-v3.iolog",
            TraceFormat::FioIolog,
            6,
            "-100 /data/a write 4096 4096",
            "timestamp `-100` is not a non-negative integer",
        ),
        (
            "hand-blkparse.txt",
            TraceFormat::Blkparse,
            5,
            "  8,0 0 4 0.001 1300 Q R 0 + 1.5 [cat]",
            "sector count `1.5` is not a non-negative integer",
        ),
        // A header naming other columns, or these in another order, would read the
        // lines wrongly (offset for length): refused.
        (
            "hand-plain.csv",
            TraceFormat::Csv,
            1,
            "time,op,length,offset,stream",
            "header `time,op,length,offset,stream`",
        ),
        (
            "hand-msr.csv",
            TraceFormat::MsrCsv,
            1,
            "Timestamp,Hostname,DiskNumber,Type,Size,Offset,ResponseTime",
            "header `Timestamp,Hostname,DiskNumber,Type,Size,Offset,ResponseTime`",
        ),
        // A count of one is singular.
        (
            "hand-msr.csv",
            TraceFormat::MsrCsv,
            3,
            "128166372000010000",
            "1 field; expected 7",
        ),
        (
            "hand-blkparse.txt",
            TraceFormat::Blkparse,
            2,
            "garbage",
            "1 field; expected `major,minor",
        ),
        (
            "hand-v3.iolog",
            TraceFormat::FioIolog,
            6,
            "100 /data/a scribble 1",
            "unknown action `scribble` with 1 argument (",
        ),
        // fio writes every sync with its offset and length (and refuses one without).
        (
            "hand-v2.iolog",
            TraceFormat::FioIolog,
            8,
            "/dev/sdb sync",
            "the `sync` action needs an offset and a length (`sync OFFSET LENGTH`), not none",
        ),
    ];
    for &(file, format, line, bad, says) in cases {
        let path = data(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let e = trace::parse(format, &path, &with_line(&text, line, bad), "Q")
            .expect_err(&format!("{file}:{line} `{bad}` must be refused"));
        let shown = e.to_string();
        assert!(
            shown.starts_with(&format!("{}:{line}: ", path.display())) && shown.contains(says),
            "{file}:{line} `{bad}`: {shown}"
        );
    }
}

/// Blank and `#` lines before a malformed CSV or MSR line do not shift the line named:
/// for every data line of the hand-made files, the lines in front of it get blank, `\r\n`
/// and comment lines, and the line itself is made malformed (a parse error) or made
/// to overflow its offset (a mapping error).
#[test]
fn the_line_named_is_the_malformed_one_after_blank_and_comment_lines() {
    // File, format, a malformed line, a line whose offset overflows, the lines put in
    // front (an MSR trace has no comments: `#` is a malformed line there).
    type Case<'a> = (&'a str, TraceFormat, &'a str, &'a str, &'a [&'a str]);
    let cases: &[Case] = &[
        (
            "hand-plain.csv",
            TraceFormat::Csv,
            "9200,X,12288,8192,log",
            "0,W,18446744073709551615,2,log",
            &["", "# a note", "\r", ""],
        ),
        (
            "hand-msr.csv",
            TraceFormat::MsrCsv,
            "128166372000020000,hm,1,Erase,0,16384,2000",
            "128166372000020000,hm,1,Write,18446744073709551615,2,2000",
            &["", "\r", ""],
        ),
    ];
    let mut checked = 0;
    for &(file, format, bad, overflowing, put) in cases {
        let path = data(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for k in 1..lines.len() {
            let mut edited: Vec<&str> = lines[..k].to_vec();
            edited.extend(put);
            let line = edited.len() + 1;
            let parse_error = [edited.clone(), vec![bad]].concat().join("\n");
            let e = trace::parse(format, &path, &parse_error, "Q")
                .expect_err(&format!("{file}: `{bad}` after line {k} must be refused"));
            let shown = e.to_string();
            assert!(
                shown.starts_with(&format!("{}:{line}: ", path.display())),
                "{file}: `{bad}` at line {line}: {shown}"
            );
            // An I/O past 2^64 is refused at its line while the trace is mapped, or,
            // where disks are laid end to end, while it is read: at the first I/O of
            // the disk its highest byte pushed past 2^64, naming that laying out.
            let map_error = [edited, vec![overflowing]].concat().join("\n");
            match trace::parse(format, &path, &map_error, "Q") {
                Err(e) => {
                    let e = e.to_string();
                    let at = |l: usize| e.starts_with(&format!("{}:{l}: ", path.display()));
                    assert!(
                        at(line) || ((1..line).any(at) && e.contains("laid from past byte 2^64")),
                        "{file}: line {line}: {e}"
                    )
                }
                Ok(t) => {
                    let e = trace::mapping::map(&t, &TraceConfig::default(), 4096, 1).unwrap_err();
                    assert!(
                        e.starts_with(&format!("{line}: ")),
                        "{file}: line {line}: {e}"
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "{checked} lines checked");
}

#[test]
fn a_trace_without_data_io_or_file_is_refused() {
    let path = data("empty.iolog");
    let e = trace::parse(
        TraceFormat::FioIolog,
        &path,
        "fio version 2 iolog\n/a add\n/a sync 0 0\n",
        "Q",
    )
    .unwrap_err();
    assert!(e.to_string().contains("no read or write I/O"), "{e}");
    let mut s = Scenario::with_workload(WorkloadConfig::Trace(TraceConfig {
        path: "no-such-file.iolog".into(),
        ..TraceConfig::default()
    }));
    let e = s.load_trace(&data("")).unwrap_err().to_string();
    assert!(e.contains("no-such-file.iolog: cannot read"), "{e}");
    // Not loaded: the run refuses, it does not replay nothing.
    let unloaded = Scenario::with_workload(WorkloadConfig::Trace(TraceConfig::default()));
    let e = sim::run(&unloaded, Policy::Quiesce, 1)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not loaded"), "{e}");
}

/// The fio-recorded trace, compressed 20× in time so that transactions overlap the
/// backup request, under every policy: every I/O's transaction commits, the oracle
/// finds nothing (a crash-consistent snapshot may break A-consistent, and does on
/// some seed: the copy caught a transaction half done), and the run is not vacuous
/// (old transactions finish on VLUN A while new ones start).
#[test]
fn the_fio_recorded_trace_replays_under_every_policy() {
    let s = scenario("fio-randrw.iolog", TraceFormat::FioIolog, |c| {
        c.time_scale = 0.05;
        c.compute_ticks = 40;
    });
    let m = mapped(&s);
    assert_eq!((m.ios, m.txns.len()), (116, 116));
    assert_eq!(
        fio_writes(&data("fio-randrw.iolog")),
        m.txns
            .iter()
            .filter(|t| t.blocks.iter().any(|b| b.1.writes()))
            .count()
    );
    let mut torn_snapshots = 0;
    for p in Policy::ALL {
        for seed in 1..=5 {
            let (r, _) = super::common::run(&s, p, seed);
            if p == Policy::CrashConsistent {
                assert!(
                    r.violations
                        .iter()
                        .all(|v| v.invariant == sim::Invariant::AConsistent),
                    "{p} seed {seed}: {:?}",
                    r.violations
                );
                torn_snapshots += usize::from(!r.violations.is_empty());
            } else {
                assert!(
                    r.claimed_violations().is_empty(),
                    "{p} seed {seed}: {:?}",
                    r.violations
                );
            }
            assert_eq!(r.costs.committed, 116, "{p} seed {seed}");
            if p.is_owm() {
                let old = r.transactions.iter().filter(|t| t.old).count();
                assert!(
                    old > 0 && old < 116,
                    "{p} seed {seed}: {old} old transactions"
                );
            }
        }
    }
    assert!(
        torn_snapshots > 0,
        "no crash-consistent copy caught a transaction"
    );
    // Closed loop: one stream, each transaction as soon as the previous one ends.
    let closed = scenario("fio-randrw.iolog", TraceFormat::FioIolog, |c| {
        c.timing = trace::Timing::Closed;
    });
    let open = scenario("fio-randrw.iolog", TraceFormat::FioIolog, |_| {});
    let (rc, _) = super::common::run(&closed, Policy::Quiesce, 1);
    let (ro, _) = super::common::run(&open, Policy::Quiesce, 1);
    assert_eq!(rc.costs.committed, 116);
    let last_end = |r: &sim::RunResult| r.transactions.iter().filter_map(|t| t.ended_ticks).max();
    let (closed_end, open_end) = (last_end(&rc).unwrap(), last_end(&ro).unwrap());
    assert!(closed_end < open_end / 10, "{closed_end} vs {open_end}");
}

/// Write lines in an fio iolog, counted by hand.
fn fio_writes(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| l.split_whitespace().nth(2) == Some("write"))
        .count()
}

/// `text` in `format` parsed and mapped with the default configuration (4 KiB blocks,
/// one record a block).
fn mapped_text(format: TraceFormat, path: &Path, text: &str) -> MappedTrace {
    let t = trace::parse(format, path, text, "Q").unwrap();
    trace::mapping::map(&t, &TraceConfig::default(), 4096, 1).unwrap()
}

/// A mapped trace's transactions in replay order: each one's arrival and its blocks
/// (block, is a write).
fn order(m: &MappedTrace) -> Vec<(u64, Vec<(u64, Access)>)> {
    m.txns
        .iter()
        .map(|t| (t.arrival_ticks, t.blocks.clone()))
        .collect()
}

/// A trace whose times go backwards (blkparse interleaves its CPUs; logs get merged) is
/// replayed in time order, stably: the mapping is the mapping of the same I/Os sorted
/// by time, equal times in file order. Nothing is refused for it (scenarios/README.md,
/// "Time").
#[test]
fn out_of_order_times_are_replayed_sorted_and_ties_keep_file_order() {
    let path = Path::new("shuffled.csv");
    let shuffled = "time,op,offset,length,stream\n300,W,0,4096,1\n100,R,8192,4096,2\n\
                    200,W,4096,4096,1\n100,W,12288,4096,3\n0,R,0,4096,2\n";
    let sorted = "time,op,offset,length,stream\n0,R,0,4096,2\n100,R,8192,4096,2\n\
                  100,W,12288,4096,3\n200,W,4096,4096,1\n300,W,0,4096,1\n";
    // Streams are numbered in order of first appearance, so they are compared by
    // what they issued, not by number.
    let (a, b) = (
        mapped_text(TraceFormat::Csv, path, shuffled),
        mapped_text(TraceFormat::Csv, path, sorted),
    );
    assert_eq!(order(&a), order(&b));
    // Non-vacuous: the file really went backwards, and the tie at 100 kept file order
    // (line 3, then line 5).
    assert_eq!(
        a.txns[0].lines.0, 6,
        "the I/O at time 0 is the file's last line"
    );
    assert_eq!((a.txns[1].lines.0, a.txns[2].lines.0), (3, 5));
    assert_eq!((a.blocks, a.ios), (b.blocks, b.ios));
}

/// A directory of its own under the system's temporary directory.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("owm-traces-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `n` I/Os of a deterministic pseudo-random mix in `format`'s text: times rising
/// (with a few going back), offsets over 4 MiB, lengths of 512 B to 32 KiB (up to 9
/// blocks of 4 KiB), two to three streams.
fn generated_trace(format: TraceFormat, n: u64) -> String {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |m: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % m
    };
    let mut out = String::new();
    match format {
        TraceFormat::FioIolog => {
            out.push_str("fio version 3 iolog\n0 /a add\n0 /b add\n0 /a open\n0 /b open\n")
        }
        TraceFormat::Csv => out.push_str("time,op,offset,length,stream\n"),
        _ => {}
    }
    let mut t = 10u64;
    for _ in 0..n {
        t += next(50);
        let op = if next(2) == 0 { "W" } else { "R" };
        let sectors = 1 + next(64);
        let sector = next(8192);
        let stream = next(3);
        match format {
            TraceFormat::FioIolog => out.push_str(&format!(
                "{t} /{} {} {} {}\n",
                ["a", "b"][stream as usize % 2],
                if op == "W" { "write" } else { "read" },
                sector * 512,
                sectors * 512
            )),
            TraceFormat::Blkparse => out.push_str(&format!(
                "  8,0 {} {} {}.{:09} {} Q {op} {sector} + {sectors} [p]\n",
                stream,
                t,
                t / 1_000_000,
                (t % 1_000_000) * 1000,
                100 + stream
            )),
            TraceFormat::MsrCsv => out.push_str(&format!(
                "{},hm,{stream},{},{},{},100\n",
                128_166_372_000_000_000 + t * 10,
                if op == "W" { "Write" } else { "Read" },
                sector * 512,
                sectors * 512
            )),
            TraceFormat::Csv => out.push_str(&format!(
                "{},{op},{},{},s{stream}\n",
                t.saturating_sub(next(3) * 20),
                sector * 512,
                sectors * 512
            )),
        }
    }
    out
}

/// The bytes a loaded trace holds at the least: its text (held while parsed), each
/// parsed I/O, each transaction and each of its block accesses at their sizes.
fn counted_bytes(m: &MappedTrace) -> u64 {
    use std::mem::size_of;
    let accesses: u64 = m.txns.iter().map(|t| t.blocks.len() as u64).sum();
    m.text_bytes
        + m.ios * size_of::<trace::TraceIo>() as u64
        + m.txns.len() as u64 * size_of::<trace::TraceTxn>() as u64
        + accesses * size_of::<(u64, bool)>() as u64
}

/// The memory estimate counts a trace's text, its parsed I/Os and its transactions:
/// on generated files of every format, grouped per I/O and per stream, dense or not,
/// the trace part is at least what they hold counted at their sizes (and within a
/// small factor of it: upper-bound-minded, not arbitrary), it grows with the trace,
/// and a memory bound between the estimate without it and with it refuses the run.
#[test]
fn the_memory_estimate_counts_the_trace_it_holds() {
    let dir = scratch("estimate");
    let mut previous = 0;
    for (k, (format, grouping, dense, n)) in [
        (TraceFormat::Csv, Grouping::Io, false, 2_000),
        (TraceFormat::Csv, Grouping::Io, false, 20_000),
        (TraceFormat::FioIolog, Grouping::Stream, false, 5_000),
        (TraceFormat::Blkparse, Grouping::Io, true, 5_000),
        (TraceFormat::MsrCsv, Grouping::Stream, true, 5_000),
    ]
    .into_iter()
    .enumerate()
    {
        let file = format!("t{k}.{}", format.as_str());
        std::fs::write(dir.join(&file), generated_trace(format, n)).unwrap();
        let mut s = Scenario::with_workload(WorkloadConfig::Trace(TraceConfig {
            path: file.clone().into(),
            format,
            grouping,
            addresses: if dense {
                trace::Addresses::Dense
            } else {
                trace::Addresses::AsRecorded
            },
            ..TraceConfig::default()
        }));
        s.geometry = GeometryConfig {
            block_size_bytes: 4096,
            records_per_block: 1,
        };
        s.limits.volume_bytes_max = 1 << 40;
        s.load_trace(&dir).unwrap_or_else(|e| panic!("{file}: {e}"));
        let m = mapped(&s);
        assert_eq!(m.ios, n, "{file}");
        assert_eq!(
            m.text_bytes,
            std::fs::metadata(dir.join(&file)).unwrap().len()
        );
        let layout = s.layout().unwrap();
        let f = sim::footprint::estimate(&s, &layout, &Policy::ALL);
        let counted = counted_bytes(m);
        assert_eq!(f.trace_bytes, sim::footprint::trace_bytes(&s));
        assert!(
            f.trace_bytes >= counted && f.trace_bytes <= 4 * counted,
            "{file}: estimate {} against {counted} counted",
            f.trace_bytes
        );
        assert!(f.describe().contains("trace "), "{}", f.describe());
        if k == 1 {
            // Ten times the I/Os of the same kind: more than five times the estimate.
            assert!(f.trace_bytes > 5 * previous, "{} {previous}", f.trace_bytes);
        }
        previous = f.trace_bytes;
        // A bound the rest of the estimate fits under, the trace not: refused with the
        // estimate, which names the trace.
        s.limits.memory_bytes_max = f.total_bytes() - f.trace_bytes / 2;
        match s.validate_for(&Policy::ALL) {
            Err(sim::SimError::TooLarge { estimate, .. }) => {
                assert!(estimate.contains("trace "), "{estimate}")
            }
            other => panic!("{file}: {other:?}"),
        }
        s.limits.memory_bytes_max = f.total_bytes();
        s.validate_for(&Policy::ALL)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A trace is read whole, so only a regular file of bounded size is read: a device
/// (`/dev/zero`, endless) is refused at `workload.path` before a byte is read, and a
/// file larger than `limits.memory_bytes_max` is refused with its size and the key.
#[test]
fn an_endless_or_oversized_trace_file_is_refused_before_it_is_read() {
    let load = |path: &str, memory_max: u64, dir: &Path| {
        let mut s = Scenario::with_workload(WorkloadConfig::Trace(TraceConfig {
            path: path.into(),
            format: TraceFormat::Csv,
            ..TraceConfig::default()
        }));
        s.limits.memory_bytes_max = memory_max;
        s.load_trace(dir)
    };
    let e = load("/dev/zero", 4 << 30, Path::new("/")).unwrap_err();
    let sim::SimError::Config { key, message } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(key, "workload.path");
    assert!(
        message.starts_with("/dev/zero: not a regular file"),
        "{message}"
    );
    let dir = scratch("oversized");
    let text = generated_trace(TraceFormat::Csv, 100);
    std::fs::write(dir.join("t.csv"), &text).unwrap();
    let size = text.len() as u64;
    let e = load("t.csv", size - 1, &dir).unwrap_err();
    let sim::SimError::Config { key, message } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(key, "workload.path");
    assert!(
        message.contains(&format!(
            "the file is {size} bytes, more than limits.memory_bytes_max = {}",
            size - 1
        )),
        "{message}"
    );
    // At the bound its text could be read, but not with the program: refused before
    // it is read.
    let e = load("t.csv", size, &dir).unwrap_err();
    let sim::SimError::Config { key, message } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(key, "workload.path");
    assert!(
        message.contains(&format!(
            "the file is {size} bytes: loading it holds its text and the program"
        )),
        "{message}"
    );
    // Room for the text and the program, not for the parsed I/Os besides (a line
    // holds at most one): refused before it is read, with its lines.
    let lines = trace::count_lines(&dir.join("t.csv"), size).unwrap();
    assert_eq!(lines, text.lines().count() as u64);
    let bound = trace::parse_bound_bytes(size, lines);
    assert!(bound > trace::parse_bound_bytes(size, 0));
    let e = load("t.csv", bound - 1, &dir).unwrap_err();
    assert!(
        e.to_string()
            .contains(&format!("the file is {size} bytes in {lines} lines")),
        "{e}"
    );
    // With room for its load it is read (and then estimated as a whole).
    load("t.csv", 1 << 30, &dir).unwrap();
    assert!(trace::read_text(&dir.join("t.csv"), size, "the bound").is_ok());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A pipe is refused at `workload.path` without being opened (opening one with no
/// writer blocks until a writer comes), directly or through a symbolic link; a link to
/// a regular file is read. Whether the loader opened the pipe is asked of the kernel:
/// a non-blocking open for writing succeeds only while a reader has it open (or waits
/// in `open`), and that open, closing at once, lets such a reader go on.
#[cfg(unix)]
#[test]
fn a_pipe_trace_path_is_refused_without_being_opened() {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = scratch("fifo");
    let fifo = dir.join("t.csv");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    std::os::unix::fs::symlink("t.csv", dir.join("link.csv")).unwrap();
    std::fs::write(dir.join("file.csv"), generated_trace(TraceFormat::Csv, 10)).unwrap();
    std::os::unix::fs::symlink("file.csv", dir.join("file-link.csv")).unwrap();
    let load = |path: &str, dir: &Path| {
        let mut s = Scenario::with_workload(WorkloadConfig::Trace(TraceConfig {
            path: path.into(),
            format: TraceFormat::Csv,
            ..TraceConfig::default()
        }));
        s.limits.memory_bytes_max = 1 << 30;
        s.load_trace(dir)
    };
    for name in ["t.csv", "link.csv"] {
        let loader = {
            let dir = dir.clone();
            std::thread::spawn(move || load(name, &dir))
        };
        let mut opened = false;
        while !loader.is_finished() {
            let writer = std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&fifo);
            if writer.is_ok() {
                opened = true;
            }
            std::thread::yield_now();
        }
        assert!(!opened, "{name}: the loader opened the pipe");
        let e = loader.join().unwrap().unwrap_err();
        let sim::SimError::Config { key, message } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(key, "workload.path");
        assert!(
            message.contains(&format!("/{name}: not a regular file")),
            "{message}"
        );
    }
    load("file-link.csv", &dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// fio before 3.31 writes version 2 iologs with no `wait` lines: no times at all.
/// `timing = "recorded"` is refused for one at `workload.timing`, naming the file and
/// the timing that replays it; `timing = "closed"` replays it, and a version 2 log
/// with a `wait` line is replayed as recorded.
#[test]
fn an_fio_v2_iolog_without_times_is_refused_as_recorded() {
    let dir = scratch("v2-untimed");
    let ios = "/dev/sdb write 0 4096\n/dev/sdb read 8192 4096\n/dev/sdb write 4096 512\n";
    let head = "fio version 2 iolog\n/dev/sdb add\n/dev/sdb open\n";
    std::fs::write(dir.join("untimed.iolog"), format!("{head}{ios}")).unwrap();
    std::fs::write(
        dir.join("timed.iolog"),
        format!("{head}/dev/sdb wait 0 0\n{ios}"),
    )
    .unwrap();
    let load = |path: &str, timing: Timing| {
        let mut s = Scenario::with_workload(WorkloadConfig::Trace(TraceConfig {
            path: path.into(),
            format: TraceFormat::FioIolog,
            timing,
            ..TraceConfig::default()
        }));
        s.load_trace(&dir)
    };
    let e = load("untimed.iolog", Timing::Recorded).unwrap_err();
    let sim::SimError::Config { key, message } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(key, "workload.timing");
    for words in [
        "untimed.iolog: ",
        "records no times",
        "3 I/Os",
        "`timing = \"closed\"`",
    ] {
        assert!(message.contains(words), "{words}: {message}");
    }
    load("untimed.iolog", Timing::Closed).unwrap();
    load("timed.iolog", Timing::Recorded).unwrap();
    load("timed.iolog", Timing::Closed).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Real blkparse output holds requests of no data (the empty flush of an fsync or a
/// journal commit: `Q FWS [comm]`, completed as `C FWS 0 [0]` or `C  WS 16 [0]`) and
/// remaps naming the device a request came from (`A … <- (maj,min) sector`, another
/// device number). For each event a trace replays, such lines are skipped, counted in
/// `skipped`: the I/Os are those of the text without them.
#[test]
fn blkparse_empty_flushes_and_remaps_are_skipped() {
    let data = [
        "  8,0    0        1     0.000000000  4162  Q  WS 3417048 + 8 [postgres]",
        "  8,0    0        3     0.000006780  4162  D  WS 3417048 + 8 [kworker/0:1H]",
        "  8,0    0        4     0.000187406     0  C  WS 3417048 + 8 [0]",
        "  8,0    0        9     0.000400000  4162  Q   R 3417100 + 8 [postgres]",
        "  8,0    0       10     0.000410000  4162  D   R 3417100 + 8 [postgres]",
        "  8,0    0       11     0.000500000     0  C   R 3417100 + 8 [0]",
    ];
    let empty = [
        "  8,0    0        5     0.000301511  4162  Q FWS [postgres]",
        "  8,0    0        6     0.000302000  4162  G FWS [postgres]",
        "  8,0    0        7     0.000304327   310  D FWS [kworker/0:2H]",
        "  8,0    0        8     0.000368945     0  C FWS 0 [0]",
        "  8,0    3        4     0.000369251    24  C  WS 0 [0]",
        "  8,0    3        5     0.000369300    24  C  WS 16 [0]",
        "  8,5   58       89     0.000370000  1863  A WFS 939871056 + 8 <- (252,0) 939869008",
        "  8,0   58       90     0.000370100  1863  A  WS 940872528 + 8 <- (8,5) 939871056",
        "  8,0    1        3     0.000370200   123  A   W 2048 + 8 <- (8,1) 0",
    ];
    let path = Path::new("real.blkparse");
    // The data lines with the others spread among them, in time order.
    let mut mixed: Vec<&str> = data.iter().chain(&empty).copied().collect();
    let time = |l: &str| l.split_whitespace().nth(3).unwrap().to_string();
    mixed.sort_by_key(|l| time(l));
    let mixed = mixed.join("\n");
    let plain = data.join("\n");
    for event in trace::BLKPARSE_EVENTS {
        let with = trace::parse(TraceFormat::Blkparse, path, &mixed, event)
            .unwrap_or_else(|e| panic!("{event}: {e}"));
        let without = trace::parse(TraceFormat::Blkparse, path, &plain, event).unwrap();
        assert_eq!(with.ios.len(), 2, "{event}");
        let key = |t: &trace::Trace| {
            t.ios
                .iter()
                .map(|io| {
                    (
                        io.time_ns,
                        io.write,
                        io.offset_bytes,
                        io.length_bytes,
                        io.stream,
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(key(&with), key(&without), "{event}");
        assert_eq!(
            with.skipped,
            without.skipped + empty.len() as u64,
            "{event}"
        );
    }
}

/// blkparse's closing summary ends the events; an event line after it (a second
/// output joined to the first) is refused at its line rather than lost, while the
/// summary's own lines are skipped.
#[test]
fn a_blkparse_event_after_the_summary_is_refused() {
    let path = Path::new("joined.blkparse");
    let event = "  8,0    0        1     0.000000000  1200  Q   W 2048 + 8 [postgres]";
    let summary =
        "CPU0 (8,0):\n Reads Queued:           1,        4KiB\t Writes Queued:  1,  4KiB\n\
                   \nTotal (8,0):\n Reads Queued:  1, 4KiB\n\nThroughput (R/W): 0KiB/s / 0KiB/s\n\
                   Events (8,0): 1 entries\nSkips: 0 forward (0 -   0.0%)\n";
    let whole = format!("{event}\n{summary}");
    let t = trace::parse(TraceFormat::Blkparse, path, &whole, "Q").unwrap();
    assert_eq!(t.ios.len(), 1);
    let joined = format!("{whole}{event}\n");
    let e = trace::parse(TraceFormat::Blkparse, path, &joined, "Q").unwrap_err();
    let lines = whole.lines().count() as u64;
    assert_eq!(e.line, Some(lines + 1), "{e}");
    assert!(
        e.message
            .contains("an event after blkparse's closing summary (from line 2)"),
        "{e}"
    );
    // A line starting with `CPU` that is not the summary's is not taken for it.
    let e = trace::parse(
        TraceFormat::Blkparse,
        path,
        &format!("{event}\nCPUs busy\n{event}\n"),
        "Q",
    )
    .unwrap_err();
    assert_eq!(e.line, Some(2), "{e}");
}

/// The RWBS fields blkparse writes (a flush, the operation, then FUA, read-ahead,
/// barrier, sync and metadata in that order) are read; anything else is not one.
#[test]
fn rwbs_fields_read_as_blkparse_writes_them() {
    use trace::blkparse::{rwbs, Rwbs};
    for (s, kind) in [
        ("W", Rwbs::Write),
        ("WS", Rwbs::Write),
        ("FWS", Rwbs::Write),
        ("WFS", Rwbs::Write),
        ("FWFSM", Rwbs::Write),
        ("WB", Rwbs::Write),
        ("R", Rwbs::Read),
        ("RA", Rwbs::Read),
        ("RM", Rwbs::Read),
        ("RSM", Rwbs::Read),
        ("N", Rwbs::NoData),
        ("FN", Rwbs::NoData),
        ("F", Rwbs::NoData),
        ("D", Rwbs::NoData),
        ("DS", Rwbs::NoData),
    ] {
        assert_eq!(rwbs(s), Some(kind), "{s}");
    }
    for s in [
        "", "X", "S", "SW", "WW", "WR", "RW", "WMS", "w", "W1", "FX", "NN",
    ] {
        assert_eq!(rwbs(s), None, "{s}");
    }
}

/// A message blkparse prints for a traced cgroup carries the cgroup before its action
/// (`… 1a,2 m N text`): skipped like every message, not refused.
#[test]
fn a_blkparse_message_of_a_cgroup_is_skipped() {
    let text = "  8,0    0        1     0.000000000  1200  Q   W 2048 + 8 [postgres]\n\
                \x20 8,0    0        0     0.000100000  1200  1a,2 m   N bfq1200 insert\n";
    let t = trace::parse(TraceFormat::Blkparse, Path::new("m.blkparse"), text, "Q").unwrap();
    assert_eq!((t.ios.len(), t.skipped), (1, 1));
}

/// An fio v3 iolog whose timestamps go backwards (merged logs) is replayed sorted by
/// time, equal times in file order, as the other formats are: not refused.
#[test]
fn an_fio_iolog_going_back_in_time_is_replayed_sorted() {
    let path = Path::new("back.iolog");
    let head = "fio version 3 iolog\n0 /a add\n0 /a open\n";
    let shuffled =
        format!("{head}500 /a write 0 4096\n100 /a write 4096 4096\n100 /a read 8192 4096\n");
    let sorted =
        format!("{head}100 /a write 4096 4096\n100 /a read 8192 4096\n500 /a write 0 4096\n");
    let (a, b) = (
        mapped_text(TraceFormat::FioIolog, path, &shuffled),
        mapped_text(TraceFormat::FioIolog, path, &sorted),
    );
    assert_eq!(order(&a), order(&b));
    assert_eq!(
        order(&a),
        vec![(0, vec![(1, W)]), (0, vec![(2, R)]), (400, vec![(0, W)])]
    );
    // The file really went back: the first replayed I/O is its second data line.
    assert_eq!(
        a.txns.iter().map(|t| t.lines.0).collect::<Vec<_>>(),
        [5, 6, 4]
    );
}

/// `workload.blkparse_event` names one of the events a trace replays (`Q`, `D`, `C`):
/// another (a typo, a lower-case letter) is refused at that key before the trace is
/// read, not reported later as a trace without I/O.
#[test]
fn a_blkparse_event_outside_the_accepted_set_is_refused_at_its_key() {
    for event in ["Z", "q", "", "QD"] {
        let mut s = Scenario::with_workload(WorkloadConfig::Trace(TraceConfig {
            path: "hand-blkparse.txt".into(),
            format: TraceFormat::Blkparse,
            blkparse_event: event.into(),
            ..TraceConfig::default()
        }));
        s.geometry = GeometryConfig {
            block_size_bytes: 4096,
            records_per_block: 1,
        };
        let e = s.load_trace(&data("")).unwrap_err();
        let sim::SimError::Config { key, message } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(key, "workload.blkparse_event", "{event}");
        assert!(
            message.contains(&format!("`{event}` is not a blkparse event"))
                && message.contains("\"Q\", \"D\", \"C\""),
            "{message}"
        );
    }
    for event in trace::BLKPARSE_EVENTS {
        let s = scenario("hand-blkparse.txt", TraceFormat::Blkparse, |c| {
            c.blkparse_event = event.into()
        });
        assert!(mapped(&s).ios > 0, "{event}");
    }
}

/// Checks each transaction of `raw`'s trace (per I/O: stream, first block, blocks, a
/// write, µs since the one before) against the rule, by a plain search: its block list
/// is its stream's I/Os between its first and last line, block by block, each block
/// once in first-touch order, a write where any of its I/Os writes it (under `blind`
/// writes, a blind write where the first touch writes the whole block, else a
/// read-modify-write); and every I/O is in exactly one transaction. Returns the
/// longest list.
fn check_first_touch(
    raw: &[(u32, u64, u64, bool, u64)],
    grouping: Grouping,
    blind: bool,
) -> Result<usize, TestCaseError> {
    let mut time_ns = 0;
    let ios: Vec<trace::TraceIo> = raw
        .iter()
        .enumerate()
        .map(|(i, &(stream, block, blocks, write, gap_us))| {
            time_ns += gap_us * 1000;
            trace::TraceIo {
                time_ns,
                write,
                // Not block-aligned: the first and last blocks are partial.
                offset_bytes: block * 4096 + 100,
                length_bytes: blocks * 4096 - 200,
                stream,
                line: i as u64 + 2,
            }
        })
        .collect();
    let t = trace::Trace {
        ios: ios.clone(),
        skipped: 0,
        untimed: false,
    };
    let c = TraceConfig {
        grouping,
        write_kind: if blind {
            sim::WriteKind::Blind
        } else {
            sim::WriteKind::ReadModifyWrite
        },
        ..TraceConfig::default()
    };
    let m = trace::mapping::map(&t, &c, 4096, 1).unwrap();
    let of = |txn: &trace::mapping::TraceTxn, io: &trace::TraceIo| {
        io.stream == txn.stream && (txn.lines.0..=txn.lines.1).contains(&io.line)
    };
    let mut longest = 0;
    for txn in &m.txns {
        let mut expected: Vec<(u64, Access)> = Vec::new();
        for io in ios.iter().filter(|io| of(txn, io)) {
            let first = io.offset_bytes / 4096;
            for b in first..=(io.offset_bytes + io.length_bytes - 1) / 4096 {
                let whole = io.offset_bytes <= b * 4096
                    && io.offset_bytes + io.length_bytes >= (b + 1) * 4096;
                match expected.iter_mut().find(|(x, _)| *x == b) {
                    Some((_, a)) if io.write && *a == Access::Read => *a = Access::Write,
                    Some(_) => {}
                    None => expected.push((
                        b,
                        match (io.write, blind && whole) {
                            (false, _) => Access::Read,
                            (true, true) => Access::BlindWrite,
                            (true, false) => Access::Write,
                        },
                    )),
                }
            }
        }
        prop_assert_eq!(&txn.blocks, &expected);
        longest = longest.max(expected.len());
    }
    let ios_in: usize = m
        .txns
        .iter()
        .map(|txn| ios.iter().filter(|io| of(txn, io)).count())
        .sum();
    prop_assert_eq!(ios_in, ios.len());
    Ok(longest)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// [`check_first_touch`] on I/Os of up to 96 blocks over a few hundred blocks from
    /// three streams, one transaction an I/O or a stream's I/Os grouped: transactions pass the size past which the mapping indexes their
    /// blocks, and touch blocks again on both sides of it.
    #[test]
    fn a_transaction_lists_each_block_of_its_ios_once_in_first_touch_order(
        raw in vec((0u32..3, 0u64..400, 1u64..96, any::<bool>(), 0u64..1500), 1..120),
        per_stream in any::<bool>(),
        blind in any::<bool>(),
    ) {
        let grouping = if per_stream { Grouping::Stream } else { Grouping::Io };
        check_first_touch(&raw, grouping, blind)?;
    }
}

/// Non-vacuous: one stream's overlapping I/Os, 10 µs apart, make transactions of more
/// than 32 blocks (past the linear search) whose later I/Os repeat earlier blocks,
/// reads after writes and writes after reads.
#[test]
fn first_touch_order_holds_past_the_indexed_size() {
    let raw: Vec<_> = (0..16u64)
        .map(|i| (0, (i * 37) % 200, 1 + (i * 13) % 90, i % 3 == 0, 10))
        .collect();
    let longest = check_first_touch(&raw, Grouping::Stream, false).unwrap();
    assert!(longest > 32, "longest transaction {longest} blocks");
    check_first_touch(&raw, Grouping::Stream, true).unwrap();
}

/// Under `write_kind = "blind"` a whole-block write that first touches its block in
/// its transaction is a blind write; a partial one, or one after a read of the block,
/// stays a read-modify-write; reads are reads.
#[test]
fn blind_writes_map_whole_first_touch_writes_only() {
    let b = Access::BlindWrite;
    let s = scenario("hand-plain.csv", TraceFormat::Csv, |c| {
        c.write_kind = sim::WriteKind::Blind;
    });
    let want: Pinned = vec![
        (0, 0, vec![(0, b)]),
        (10, 0, vec![(1, b)]),
        (20, 1, vec![(0, R), (1, R)]),
        // 50 bytes at 100: a partial block, read first.
        (5000, 0, vec![(0, W)]),
        (5010, 0, vec![(2, R)]),
        (5020, 0, vec![(2, b)]),
        (9000, 2, vec![(16, R)]),
        (9200, 1, vec![(3, b), (4, b)]),
    ];
    assert_eq!(pinned(&s), want);
    // Grouped: block 2 is read at 5010 before 5020 writes it whole: one access, a
    // read-modify-write (the transaction read it anyway).
    let g = scenario("hand-plain.csv", TraceFormat::Csv, |c| {
        c.write_kind = sim::WriteKind::Blind;
        c.grouping = Grouping::Stream;
    });
    let want: Pinned = vec![
        (0, 0, vec![(0, b), (1, b)]),
        (20, 1, vec![(0, R), (1, R)]),
        (5000, 0, vec![(0, W), (2, W)]),
        (9000, 2, vec![(16, R)]),
        (9200, 1, vec![(3, b), (4, b)]),
    ];
    assert_eq!(pinned(&g), want);
}

/// `n` whole-block writes of one stream, each block once, in a scrambled order: as
/// `owm calibrate` writes fio's random-write pattern.
fn whole_block_writes(n: u64) -> String {
    let mut text = String::from("time,op,offset,length\n");
    for i in 0..n {
        text.push_str(&format!("{},W,{},4096\n", i * 10, (i * 7919) % n * 4096));
    }
    text
}

/// A replay of whole-block writes under `write_kind = "blind"` reads nothing: no
/// logical or physical read on a plain volume, and its times do not depend on the
/// device's read latency; the same trace read-modify-written reads each block once,
/// and pays the read latency on every write. A partial-block write under `blind`
/// still reads its block.
#[test]
fn blind_trace_writes_issue_no_reads() {
    let dir = scratch("blind-writes");
    let path = dir.join("writes.csv");
    std::fs::write(&path, whole_block_writes(40)).unwrap();
    let partial = dir.join("partial.csv");
    std::fs::write(
        &partial,
        "time,op,offset,length\n0,W,0,4096\n10,W,4196,100\n",
    )
    .unwrap();
    let run = |path: &Path, kind: sim::WriteKind, read_latency_ticks: u64| {
        let mut s = Scenario::with_workload(WorkloadConfig::Trace(TraceConfig {
            path: path.to_path_buf(),
            format: TraceFormat::Csv,
            timing: Timing::Closed,
            write_kind: kind,
            ..TraceConfig::default()
        }));
        s.geometry = GeometryConfig {
            block_size_bytes: 4096,
            records_per_block: 1,
        };
        s.device.read_latency_ticks = read_latency_ticks;
        s.device.write_latency_ticks = 30;
        s.device.jitter_ticks_max = 0;
        s.load_trace(Path::new("/")).unwrap();
        s.validate().unwrap();
        super::common::run(&s, Policy::None, 1).0
    };
    let (blind, rmw) = (sim::WriteKind::Blind, sim::WriteKind::ReadModifyWrite);
    let r = run(&path, blind, 77);
    assert_eq!(r.costs.logical_writes, 40);
    assert_eq!((r.costs.logical_reads, r.costs.physical_reads), (0, 0));
    assert_eq!(r.costs.response_time.ticks_mean, 30.0);
    let slow_reads = run(&path, blind, 50_000);
    assert_eq!(
        r.costs.response_time, slow_reads.costs.response_time,
        "a blind write's time depends on the read latency"
    );
    let m = run(&path, rmw, 77);
    assert_eq!(m.costs.logical_reads, 40);
    assert_eq!(m.costs.response_time.ticks_mean, 107.0);
    // One whole-block write (blind), one partial (read first).
    let p = run(&partial, blind, 77);
    assert_eq!((p.costs.logical_writes, p.costs.logical_reads), (2, 1));
}

/// A trace file cut short is refused at its last line, whatever the format and
/// wherever the cut falls inside a line: every cut of every shipped trace that leaves
/// a partial last line (no newline after it) names that line; a cut just after a
/// newline leaves whole lines, read as before (or refused for what they lack).
#[test]
fn a_trace_cut_inside_a_line_is_refused_at_that_line() {
    let tmp = tempfile::tempdir().unwrap();
    let files = [
        ("fio-randrw.iolog", TraceFormat::FioIolog),
        ("hand-v2.iolog", TraceFormat::FioIolog),
        ("hand-v3.iolog", TraceFormat::FioIolog),
        ("hand-blkparse.txt", TraceFormat::Blkparse),
        ("hand-msr.csv", TraceFormat::MsrCsv),
        ("hand-plain.csv", TraceFormat::Csv),
    ];
    let mut refused = 0;
    for (file, format) in files {
        let text = std::fs::read(data(file)).unwrap();
        assert!(
            trace::read(format, &data(file), "Q", u64::MAX, "x").is_ok(),
            "{file}"
        );
        let path = tmp.path().join(file);
        // Every cut of a small file, every 7th byte of the recorded one.
        let step = if text.len() > 4096 { 7 } else { 1 };
        for cut in (1..text.len()).step_by(step) {
            std::fs::write(&path, &text[..cut]).unwrap();
            let got = trace::read(format, &path, "Q", u64::MAX, "x");
            if text[cut - 1] == b'\n' {
                if let Err(e) = got {
                    assert!(!e.to_string().contains("ends inside"), "{file}@{cut}: {e}");
                }
                continue;
            }
            let line = text[..cut].iter().filter(|&&b| b == b'\n').count() + 1;
            let e = got.expect_err(&format!("{file} cut at byte {cut} must be refused"));
            assert_eq!(e.line, Some(line as u64), "{file}@{cut}: {e}");
            assert!(e.to_string().contains("ends inside this line"), "{e}");
            refused += 1;
        }
    }
    assert!(refused > 500, "{refused}");
}

/// fio replays no I/O of a file after its `close` until an `open`: such an I/O is
/// refused naming both lines; after a new `open` it is read.
#[test]
fn an_fio_io_after_its_file_s_close_is_refused() {
    let path = Path::new("closed.iolog");
    let head =
        "fio version 2 iolog\n/dev/sdb add\n/dev/sdb open\n/dev/sdb write 0 4096\n/dev/sdb close\n";
    let e = trace::parse(
        TraceFormat::FioIolog,
        path,
        &format!("{head}/dev/sdb read 0 4096\n"),
        "Q",
    )
    .unwrap_err();
    assert_eq!(e.line, Some(6), "{e}");
    assert!(e.to_string().contains("after its `close` at line 5"), "{e}");
    let reopened = format!("{head}/dev/sdb open\n/dev/sdb read 0 4096\n");
    let t = trace::parse(TraceFormat::FioIolog, path, &reopened, "Q").unwrap();
    assert_eq!(t.ios.len(), 2);
}

/// `text` in `format` parsed and mapped one transaction an I/O at `time_scale`.
fn scaled(format: TraceFormat, text: &str, time_scale: f64) -> Result<MappedTrace, String> {
    let t = trace::parse(format, Path::new("timed"), text, "Q").map_err(|e| e.to_string())?;
    let c = TraceConfig {
        time_scale,
        ..TraceConfig::default()
    };
    trace::mapping::map(&t, &c, 4096, 1)
}

fn arrivals(m: &MappedTrace) -> Vec<u64> {
    m.txns.iter().map(|t| t.arrival_ticks).collect()
}

/// Times finer than a µs are scaled before they are rounded, so gaps replay as
/// recorded whatever the absolute phase: MSR's 100 ns units and blkparse's ns at
/// `time_scale = 10` (1.5 µs → 15 ticks), and two MSR I/Os 0.9 µs apart at 100, from
/// either phase, 90 ticks apart.
#[test]
fn sub_microsecond_times_are_scaled_before_they_are_rounded() {
    let msr = |times: &[u64]| {
        times
            .iter()
            .enumerate()
            .map(|(i, t)| format!("{t},h,1,Write,{},4096,1\n", i * 4096))
            .collect::<String>()
    };
    let cases = [
        (
            TraceFormat::MsrCsv,
            msr(&[0, 15, 29]),
            10.0,
            vec![0, 15, 29],
        ),
        (TraceFormat::MsrCsv, msr(&[5, 14]), 100.0, vec![0, 90]),
        (TraceFormat::MsrCsv, msr(&[0, 9]), 100.0, vec![0, 90]),
        (
            TraceFormat::Blkparse,
            "  8,0    0        1     0.000000000  1200  Q   W 0 + 8 [p]\n\
             \x20 8,0    0        2     0.000001900  1200  Q   W 8 + 8 [p]\n\
             \x20 8,0    0        3     0.000002500  1200  Q   W 16 + 8 [p]\n"
                .to_string(),
            10.0,
            vec![0, 19, 25],
        ),
    ];
    for (format, text, scale, expected) in cases {
        let m = scaled(format, &text, scale).unwrap();
        assert_eq!(arrivals(&m), expected, "{format:?} at {scale}:\n{text}");
    }
}

/// Nanoseconds per unit of `format`'s recorded times.
fn unit_ns(format: TraceFormat) -> u64 {
    match format {
        TraceFormat::MsrCsv => 100,
        TraceFormat::Blkparse => 1,
        TraceFormat::FioIolog | TraceFormat::Csv => 1000,
    }
}

/// A trace in `format` of one 4 KiB write an I/O at each of `times` (the format's
/// units), and the line of each I/O.
fn timed_trace(format: TraceFormat, times: &[u64]) -> (String, Vec<u64>) {
    let (mut text, first) = match format {
        TraceFormat::FioIolog => ("fio version 3 iolog\n0 f add\n0 f open\n".to_string(), 4),
        _ => (String::new(), 1),
    };
    for (i, t) in times.iter().enumerate() {
        let offset = i as u64 * 4096;
        text += &match format {
            TraceFormat::MsrCsv => format!("{t},h,1,Write,{offset},4096,1\n"),
            TraceFormat::Blkparse => format!(
                "  8,0    0 {} {}.{:09} 1200 Q W {} + 8 [p]\n",
                i + 1,
                t / 1_000_000_000,
                t % 1_000_000_000,
                offset / 512
            ),
            TraceFormat::Csv => format!("{t},W,{offset},4096\n"),
            TraceFormat::FioIolog => format!("{t} f write {offset} 4096\n"),
        };
    }
    (text, (first..first + times.len() as u64).collect())
}

/// `text`, a decimal without exponent (`12.5`, `0.003`, `40`), as digits × 10^exponent.
fn decimal(text: &str) -> (u128, i32) {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    (
        format!("{whole}{fraction}").parse().unwrap(),
        -(fraction.len() as i32),
    )
}

/// The rule (scenarios/README.md, "Time"), as a fraction: round(`elapsed_ns` / 1000 ×
/// `digits` × 10^`exponent`), a half rounded up, in integers.
fn reference_ticks(elapsed_ns: u64, digits: u128, exponent: i32) -> u128 {
    let mut num = elapsed_ns as u128 * digits;
    let mut den = 1000u128;
    if exponent >= 0 {
        num *= 10u128.pow(exponent as u32);
    } else {
        den *= 10u128.pow(exponent.unsigned_abs());
    }
    (2 * num + den) / (2 * den)
}

/// A `time_scale` and the exact decimal it is written as: digits × 10^exponent written
/// so, or any number between 0.001 and 1000 as Rust writes it (the shortest text that
/// reads back as it).
fn time_scales() -> impl Strategy<Value = (f64, u128, i32)> {
    prop_oneof![
        (0u64..1_000_000_000, -15i32..=6).prop_map(|(d, e)| {
            let x: f64 = format!("{d}e{e}").parse().unwrap();
            (x, d as u128, e)
        }),
        (0.001f64..1000.0).prop_map(|x| {
            let (d, e) = decimal(&x.to_string());
            (x, d, e)
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Every format's recorded times, at any phase, gaps and `time_scale`, arrive at
    /// exactly round((t − t0) µs × time_scale) ticks, computed here as a fraction in
    /// integers, t at the format's own resolution; the arrivals rise with the times;
    /// and a time whose arrival passes 2^40 ticks is refused at its line.
    #[test]
    fn arrivals_are_the_recorded_time_scaled_then_rounded_once(
        format in prop_oneof![
            Just(TraceFormat::MsrCsv),
            Just(TraceFormat::Blkparse),
            Just(TraceFormat::Csv),
            Just(TraceFormat::FioIolog),
        ],
        phase in 0u64..1 << 40,
        gaps in vec(prop_oneof![0u64..20, 0u64..5_000_000], 1..40),
        (scale, digits, exponent) in time_scales(),
    ) {
        // MSR times are FILETIMEs: since 1601, a large phase.
        let base = if format == TraceFormat::MsrCsv { 128_166_372_000_000_000 } else { 0 };
        let times: Vec<u64> = gaps
            .iter()
            .scan(base + phase, |t, g| {
                *t += g;
                Some(*t)
            })
            .collect();
        let (text, lines) = timed_trace(format, &times);
        let unit = unit_ns(format);
        let expected: Vec<u128> = times
            .iter()
            .map(|t| reference_ticks((t - times[0]) * unit, digits, exponent))
            .collect();
        let too_late = expected.iter().position(|&t| t > 1 << 40);
        match scaled(format, &text, scale) {
            Ok(m) => {
                prop_assert_eq!(too_late, None);
                let got: Vec<(u64, u128)> = m
                    .txns
                    .iter()
                    .map(|t| (t.lines.0, t.arrival_ticks as u128))
                    .collect();
                let want: Vec<(u64, u128)> = lines.iter().copied().zip(expected).collect();
                prop_assert_eq!(got, want, "{:?} at {}", format, scale);
                prop_assert!(arrivals(&m).windows(2).all(|w| w[0] <= w[1]));
            }
            Err(e) => {
                let at = too_late.expect("refused only past 2^40 ticks");
                prop_assert!(e.starts_with(&format!("{}: time ", lines[at])), "{}", e);
            }
        }
    }
}

/// Every integer field of every format is decimal digits alone: each number of each
/// hand-made trace written with a sign (`+5`) is refused at its line, naming the field
/// and the number as written, unless the parser does not read that field on that line
/// (a skipped event's sectors): then the trace parses as it did. Non-vacuous: each
/// format's integer fields are each refused at least once.
#[test]
fn a_number_with_a_plus_sign_is_refused_in_every_integer_field() {
    let cases: [(&str, TraceFormat, char, &[&str]); 5] = [
        (
            "hand-plain.csv",
            TraceFormat::Csv,
            ',',
            &["time", "offset", "length"],
        ),
        (
            "hand-msr.csv",
            TraceFormat::MsrCsv,
            ',',
            &["Timestamp", "DiskNumber", "Offset", "Size", "ResponseTime"],
        ),
        (
            "hand-blkparse.txt",
            TraceFormat::Blkparse,
            ' ',
            &[
                "CPU",
                "sequence number",
                "time",
                "process id",
                "sector",
                "sector count",
            ],
        ),
        (
            "hand-v2.iolog",
            TraceFormat::FioIolog,
            ' ',
            &["offset", "length", "wait time"],
        ),
        (
            "hand-v3.iolog",
            TraceFormat::FioIolog,
            ' ',
            &["timestamp", "offset", "length"],
        ),
    ];
    let is_number = |f: &str| {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        digits(f)
            || f.split_once('.')
                .is_some_and(|(a, b)| digits(a) && digits(b))
    };
    for (file, format, separator, fields) in cases {
        let path = data(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let split = |l: &str| -> Vec<String> {
            if separator == ',' {
                l.split(',').map(str::to_string).collect()
            } else {
                l.split_whitespace().map(str::to_string).collect()
            }
        };
        let join = |f: &[String]| f.join(&separator.to_string());
        // The file with its fields rejoined by one separator: what each change is
        // compared with.
        let plain: Vec<String> = text.lines().map(|l| join(&split(l))).collect();
        let parsed = trace::parse(format, &path, &(plain.join("\n") + "\n"), "Q").unwrap();
        let mut refused = std::collections::BTreeSet::new();
        // fio's header line is text, not fields.
        for (i, line) in plain
            .iter()
            .enumerate()
            .filter(|(_, l)| !l.starts_with("fio "))
        {
            let f = split(line);
            for k in (0..f.len()).filter(|&k| is_number(&f[k])) {
                let mut signed = f.clone();
                signed[k] = format!("+{}", f[k]);
                let mut lines = plain.clone();
                lines[i] = join(&signed);
                match trace::parse(format, &path, &(lines.join("\n") + "\n"), "Q") {
                    Ok(t) => assert_eq!(t, parsed, "{file}:{} `{}` read", i + 1, lines[i]),
                    Err(e) => {
                        let says = format!("`{}` is not ", signed[k]);
                        assert_eq!(e.line, Some(i as u64 + 1), "{e}");
                        let name = e.message.split(&says).next().unwrap().trim();
                        assert!(
                            e.message.contains(&says) && fields.contains(&name),
                            "{file}:{} `{}`: {e}",
                            i + 1,
                            lines[i]
                        );
                        refused.insert(name.to_string());
                    }
                }
            }
        }
        let all: std::collections::BTreeSet<String> =
            fields.iter().map(|f| f.to_string()).collect();
        assert_eq!(refused, all, "{file}");
    }
}

/// A `csv` trace whose header names no `stream` column refuses a data line with a
/// fifth field, at its line; under the five-column header the stream stays optional.
#[test]
fn a_fifth_field_under_a_four_column_header_is_refused() {
    let path = Path::new("four.csv");
    let e = trace::parse(
        TraceFormat::Csv,
        path,
        "time,op,offset,length\n0,W,0,64\n5,W,0,64,extra\n",
        "Q",
    )
    .unwrap_err();
    assert_eq!(e.line, Some(3), "{e}");
    assert!(
        e.message
            .contains("5 fields, but the header at line 1 is `time,op,offset,length`")
            && e.message.contains("`extra`"),
        "{e}"
    );
    // The same lines under the five-column header, or under none, are read.
    for header in ["time,op,offset,length,stream\n", ""] {
        let t = trace::parse(
            TraceFormat::Csv,
            path,
            &format!("{header}0,W,0,64\n5,W,0,64,extra\n"),
            "Q",
        )
        .unwrap();
        assert_eq!(t.ios.len(), 2);
        assert_ne!(t.ios[0].stream, t.ios[1].stream, "{header}");
    }
    let e = trace::parse(TraceFormat::Csv, path, "time,op,offset,length\n0\n", "Q").unwrap_err();
    assert!(
        e.message
            .starts_with("1 field; expected time,op,offset,length, the header's columns"),
        "{e}"
    );
}

/// A `csv` line's empty `stream` field is the default stream, the one of a line that
/// leaves the field out (and of a stream named `0`); a named stream is another.
#[test]
fn an_empty_stream_field_is_the_default_stream() {
    let t = trace::parse(
        TraceFormat::Csv,
        Path::new("s.csv"),
        "0,W,0,64,\n10,W,64,64\n20,W,128,64,0\n30,W,192,64,other\n",
        "Q",
    )
    .unwrap();
    let s: Vec<_> = t.ios.iter().map(|io| io.stream).collect();
    assert_eq!(s[0], s[1]);
    assert_eq!(s[1], s[2]);
    assert_ne!(s[2], s[3]);
}
