//! `owm calibrate`'s scratch files and its stops: the scratch it would write bounded
//! and checked against the free space before anything is written, kept in a
//! directory of its own (no file of DIR touched), removed on every way out a signal
//! leaves; SIGINT and SIGTERM stopping it with nothing published (exit 3), a second
//! one at once (130); the time outside the device with a transfer rate; the files'
//! fate when stdout fails.

use std::path::Path;

use crate::util::{fails_with, names, owm, s, signal_at, spawn_paused, stderr, stdout, write};

/// A DIR holding earlier results and files of the user's under the names the
/// measurement's scratch files once had: (the directory, its files and their bytes).
fn dir_with_files() -> (tempfile::TempDir, Vec<(String, Vec<u8>)>) {
    let tmp = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (name, text) in [
        ("device-profile.toml", "# an earlier profile\n"),
        ("calibrate-pattern-qd1.csv", "an earlier trace 1\n"),
        ("calibrate-pattern-qd8.csv", "an earlier trace 8\n"),
        ("calibrate-scratch.img", "my precious data\n"),
        ("calibrate-scratch-region.img", "my region\n"),
        ("calibrate-scratch.owm", "my journal\n"),
        ("calibrate-scratch.owm.super", "my superblock\n"),
    ] {
        write(tmp.path(), name, text);
        files.push((name.to_string(), text.as_bytes().to_vec()));
    }
    files.sort();
    (tmp, files)
}

/// Every entry of `dir` (hidden ones too) with its bytes.
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = names(dir)
        .into_iter()
        .map(|n| {
            let bytes = std::fs::read(dir.join(&n)).unwrap_or_default();
            (n, bytes)
        })
        .collect();
    v.sort();
    v
}

const SMALL: [&str; 4] = ["--samples", "10", "--pattern-writes", "10"];

/// Flags whose scratch is past the 128 GiB bound, or past the free space of DIR's file
/// system, are refused before anything is written (exit 2), naming the flags and the
/// bytes; nothing is made in DIR.
#[test]
fn scratch_past_its_bound_or_the_free_space_is_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let d = s(tmp.path());
    // (4096 + 2^20) blocks of 16 MiB, and the journal: 16 TiB.
    let o = owm(&[
        "calibrate",
        &d,
        "--samples",
        "10",
        "--block-size",
        "16777216",
        "--pattern-writes",
        "1048576",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    fails_with(
        &o,
        &[
            "--block-size 16777216 with --pattern-writes 1048576",
            "17660906571072 bytes",
            "past the 137438953472 bytes (128 GiB)",
        ],
    );
    assert_eq!(stdout(&o), "");
    assert_eq!(names(tmp.path()), Vec::<String>::new());

    // Past the free space: scratch of about twice the free space (so the free space
    // other processes make or take meanwhile does not matter), whether that is under
    // the bound (refused for the free space) or not (for the bound).
    let free = free_bytes(tmp.path());
    let block = 16u64 << 20;
    let writes = (2 * free / block).saturating_sub(4096).clamp(1, 1 << 20);
    let o = owm(&[
        "calibrate",
        &d,
        "--samples",
        "10",
        "--block-size",
        "16777216",
        "--pattern-writes",
        &writes.to_string(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let bytes = (4096 + writes) * block + 21 * 64 + (1 << 20);
    let flags = format!("--block-size 16777216 with --pattern-writes {writes}");
    let why = if bytes > 128 << 30 {
        "128 GiB"
    } else {
        "free, of which the measurement leaves a tenth"
    };
    fails_with(&o, &[&flags, &format!("{bytes} bytes"), why]);
    assert_eq!(names(tmp.path()), Vec::<String>::new());
}

/// The bytes free to an unprivileged user on `dir`'s file system.
fn free_bytes(dir: &Path) -> u64 {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).unwrap();
    // SAFETY: a NUL-terminated path and a buffer statvfs fills.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::statvfs(path.as_ptr(), &mut st) }, 0);
    #[allow(clippy::unnecessary_cast)]
    let free = (st.f_bavail as u64) * (st.f_frsize as u64);
    free
}

/// Files of the user's under any name, the scratch files' old names among them, stay
/// byte for byte: the measurement writes its scratch in a directory of its own and
/// removes it; DIR then holds the user's files and the three the command writes.
#[test]
fn a_measurement_touches_no_file_of_the_users() {
    let (tmp, before) = dir_with_files();
    let o = owm(&[&["calibrate", &s(tmp.path())][..], &SMALL].concat());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let after = contents(tmp.path());
    let kept: Vec<_> = after
        .iter()
        .filter(|(n, _)| n.starts_with("calibrate-scratch"))
        .cloned()
        .collect();
    let theirs: Vec<_> = before
        .iter()
        .filter(|(n, _)| n.starts_with("calibrate-scratch"))
        .cloned()
        .collect();
    assert_eq!(kept, theirs, "a file of the user's changed");
    let names: Vec<&str> = after.iter().map(|(n, _)| n.as_str()).collect();
    let mut want: Vec<&str> = before.iter().map(|(n, _)| n.as_str()).collect();
    want.sort();
    assert_eq!(names, want, "a scratch file or directory left behind");
}

/// SIGINT or SIGTERM during the measurement, or during the prediction, stops the
/// command: exit 3, stderr says it was interrupted and that nothing was written, and
/// DIR holds what it held, byte for byte (the scratch directory and the new files
/// waiting beside their places removed).
#[test]
fn a_signal_stops_calibrate_with_nothing_written_and_no_scratch_left() {
    for (signal, point) in [
        (libc::SIGINT, "calibrate-measure"),
        (libc::SIGTERM, "calibrate-measure"),
        (libc::SIGINT, "calibrate-predict"),
    ] {
        let (tmp, before) = dir_with_files();
        let d = s(tmp.path());
        let o = signal_at(&[&["calibrate", &d][..], &SMALL].concat(), point, signal);
        let at = format!("signal {signal} at {point}");
        assert_eq!(o.status.code(), Some(3), "{at}: {}", stderr(&o));
        let err = stderr(&o);
        let when = if point == "calibrate-measure" {
            "interrupted while measuring: nothing written"
        } else {
            "interrupted while predicting: nothing written"
        };
        assert!(
            err.contains(when) && err.contains("left as they were"),
            "{at}: {err}"
        );
        assert_eq!(stdout(&o), "", "{at}: a report printed");
        assert_eq!(contents(tmp.path()), before, "{at}: DIR changed");
    }
}

/// A second SIGINT ends the command at once with exit 130, and removes the scratch
/// directory (while measuring) or the new files waiting beside their places (while
/// predicting) first; the earlier files stay as they were.
#[test]
fn a_second_interrupt_quits_at_once_and_removes_the_scratch() {
    for point in ["calibrate-measure", "calibrate-predict"] {
        let (tmp, before) = dir_with_files();
        let d = s(tmp.path());
        let mut p = spawn_paused(&[&["calibrate", &d][..], &SMALL].concat(), point);
        let waiting = |prefix: &str| names(tmp.path()).iter().any(|n| n.starts_with(prefix));
        if point == "calibrate-measure" {
            assert!(
                waiting(".owm-calibrate-"),
                "no scratch directory while measuring: {:?}",
                names(tmp.path())
            );
        } else {
            assert!(
                waiting(".calibrate-pattern-qd1.csv."),
                "no pattern waiting beside its place while predicting: {:?}",
                names(tmp.path())
            );
        }
        let pid = p.child.id() as i32;
        // SAFETY: signals to our own child process.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
        p.wait_for("interrupted: stopping");
        // Still paused, its stdin kept open through the wait (`Child::wait` would close
        // it and let the command go on to its safe point): only the second signal can
        // end it.
        let stdin = p.child.stdin.take();
        assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
        let status = p.child.wait().unwrap();
        drop(stdin);
        assert_eq!(status.code(), Some(130), "{point}: {}", p.said);
        assert_eq!(contents(tmp.path()), before, "{point}");
    }
}

/// With `--baseline-latency-us` and a profile whose device has a transfer rate
/// (hdd-7200: 140 MB/s), the time outside the device is the baseline less the whole
/// device write, positioning and the block's transfer: the plain volume's writes
/// (logging before the split, every variant after retire) take the baseline, within a
/// µs, at a 1 MiB block whose transfer is 7,490 µs.
#[test]
fn a_baseline_with_a_transfer_rate_prices_the_plain_volume_at_the_baseline() {
    let tmp = tempfile::tempdir().unwrap();
    let profile = write(tmp.path(), "p.toml", "[device]\nprofile = \"hdd-7200\"\n");
    let dir = tmp.path().join("cal");
    std::fs::create_dir(&dir).unwrap();
    for (bs, baseline) in [("1048576", 20_000.0), ("4096", 3_000_000.0)] {
        let o = owm(&[
            "calibrate",
            &s(&dir),
            "--profile",
            &profile,
            "--pattern-writes",
            "50",
            "--block-size",
            bs,
            "--baseline-latency-us",
            &baseline.to_string(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let out = stdout(&o);
        let mut seen = 0;
        for line in out.lines() {
            let f: Vec<&str> = line.split(',').collect();
            let plain = matches!(
                (f.first().copied(), f.get(1).copied(), f.get(2).copied()),
                (Some("logging"), Some("before split"), Some("1"))
                    | (Some(_), Some("after retire"), Some("1"))
            );
            if plain {
                let lat: f64 = f[4].parse().unwrap();
                assert!((lat - baseline).abs() <= 1.0, "{bs}: {line}\n{out}");
                seen += 1;
            }
        }
        assert_eq!(seen, 4, "{bs}: {out}");
    }
}

/// A stdout that cannot be written (`> /dev/full`) after the files were put in place:
/// exit 2, and stderr says the profile and the traces were written all the same,
/// naming them.
#[test]
fn a_failed_stdout_says_the_files_were_written() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = s(tmp.path());
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_owm"))
        .args([&["calibrate", &d][..], &SMALL].concat())
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let profile = s(&tmp.path().join("device-profile.toml"));
    let q1 = s(&tmp.path().join("calibrate-pattern-qd1.csv"));
    fails_with(
        &o,
        &["written all the same", &profile, &q1, "writing the report"],
    );
    assert_eq!(
        names(tmp.path()),
        [
            "calibrate-pattern-qd1.csv",
            "calibrate-pattern-qd8.csv",
            "device-profile.toml"
        ]
    );
}

/// `owm demo --blocks 1` speaks of one block, not "1 blocks".
#[test]
fn demo_of_one_block_says_block() {
    let o = owm(&["demo", "--blocks", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("a volume of 1 block of "), "{out}");
    let o = owm(&["demo", "--blocks", "2"]);
    assert!(stdout(&o).contains("a volume of 2 blocks of"));
}
