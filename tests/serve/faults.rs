//! Bad input and faults: each gets the protocol's error or a typed control error, the
//! server keeps serving the others, and nothing acknowledged is lost.

use std::process::Command;
use std::sync::mpsc;

use super::client::{
    Nbd, EINVAL, EIO, ENOMEM, ENOSPC, ENOTSUP, EPERM, FLAG_FAST_ZERO, SEND_FAST_ZERO,
};
use super::harness::{have, text, Server};

const BLOCKS: u64 = 64;
const BS: usize = 4096;

fn block(byte: u8) -> Vec<u8> {
    vec![byte; BS]
}

fn read_block(c: &mut Nbd, b: u64) -> Vec<u8> {
    c.read(b * BS as u64, BS as u32)
        .expect("connection alive")
        .expect("read accepted")
}

#[test]
fn a_request_past_the_end_is_einval_and_the_connection_goes_on() {
    if !have(&["nbdkit"]) {
        return;
    }
    let s = Server::create("cow", BLOCKS);
    let mut c = Nbd::connect(&s.socket(), "vlun-a").unwrap();
    assert_eq!(c.size, BLOCKS * BS as u64);
    assert_eq!(c.write(0, &block(7)).unwrap(), 0);
    assert_eq!(c.read(c.size - 512, 4096).unwrap(), Err(EINVAL));
    // The protocol's error for a write past the end is ENOSPC.
    assert_eq!(c.write(c.size, &block(9)).unwrap(), ENOSPC);
    assert_eq!(c.read(u64::MAX - 4095, 4096).unwrap(), Err(EINVAL));
    assert_eq!(read_block(&mut c, 0), block(7));
    let mut other = Nbd::connect(&s.socket(), "vlun-a").unwrap();
    assert_eq!(read_block(&mut other, 0), block(7));
}

#[test]
fn a_client_dying_mid_request_harms_no_one() {
    if !have(&["nbdkit"]) {
        return;
    }
    let s = Server::create("logging", BLOCKS);
    let mut c = Nbd::connect(&s.socket(), "vlun-a").unwrap();
    assert_eq!(c.write(0, &block(0xAB)).unwrap(), 0);
    assert_eq!(c.flush().unwrap(), 0);
    // Half a write's payload, then gone.
    Nbd::connect(&s.socket(), "vlun-a")
        .unwrap()
        .die_mid_write(0, BS as u32, 100);
    // Half a request header, then gone.
    {
        use std::io::Write;
        let mut raw = std::os::unix::net::UnixStream::connect(s.socket()).unwrap();
        let _ = raw.write_all(b"NBDM");
    }
    // The old connection and a new one both see the acknowledged block, untouched.
    assert_eq!(read_block(&mut c, 0), block(0xAB));
    let mut fresh = Nbd::connect(&s.socket(), "vlun-a").unwrap();
    assert_eq!(read_block(&mut fresh, 0), block(0xAB));
    assert_eq!(fresh.write(BS as u64, &block(1)).unwrap(), 0);
}

#[test]
fn a_new_client_of_vlun_a_after_the_split_cannot_write() {
    if !have(&["nbdkit"]) {
        return;
    }
    let s = Server::create("mirroring", BLOCKS);
    let mut before = Nbd::connect(&s.socket(), "vlun-a").unwrap();
    assert!(!before.read_only());
    assert_eq!(before.write(0, &block(1)).unwrap(), 0);
    s.device_ok(&["split"]);
    let mut after = Nbd::connect(&s.socket(), "vlun-a").unwrap();
    assert!(after.read_only(), "vlun-a is read-only for a new client");
    assert_eq!(after.write(0, &block(2)).unwrap(), EPERM);
    assert_eq!(read_block(&mut after, 0), block(1));
    // The old transaction keeps writing VLUN A, and VLUN B sees it (mirroring).
    assert_eq!(before.write(BS as u64, &block(3)).unwrap(), 0);
    let mut b = Nbd::connect(&s.socket(), "vlun-b").unwrap();
    assert!(!b.read_only());
    assert_eq!(read_block(&mut b, 1), block(3));
    assert_eq!(b.write(0, &block(4)).unwrap(), 0);
    assert_eq!(read_block(&mut after, 0), block(1), "a B write reached A");
}

/// A zero request with `NBD_CMD_FLAG_FAST_ZERO` gets `ENOTSUP` (zeroing writes every
/// block: not fast) and nothing changes; the server goes on serving, and a plain zero
/// request zeroes. Every export advertises fast zero, so a client may ask it (an
/// export that did not, asked anyway, stopped nbdkit on an assertion).
#[test]
fn a_fast_zero_is_enotsup_and_the_server_goes_on() {
    if !have(&["nbdkit"]) {
        return;
    }
    for variant in ["mirroring", "logging", "cow"] {
        let s = Server::create(variant, BLOCKS);
        let mut a = Nbd::connect(&s.socket(), "vlun-a").unwrap();
        assert!(
            a.flags & SEND_FAST_ZERO != 0,
            "{variant}: flags {:#x}",
            a.flags
        );
        assert_eq!(a.write(0, &block(5)).unwrap(), 0);
        assert_eq!(a.zero(0, BS as u32, FLAG_FAST_ZERO).unwrap(), ENOTSUP);
        assert_eq!(read_block(&mut a, 0), block(5), "{variant}");
        s.device_ok(&["split"]);
        let mut b = Nbd::connect(&s.socket(), "vlun-b").unwrap();
        assert!(
            b.flags & SEND_FAST_ZERO != 0,
            "{variant}: flags {:#x}",
            b.flags
        );
        assert_eq!(b.write(BS as u64, &block(6)).unwrap(), 0);
        assert_eq!(
            b.zero(BS as u64, BS as u32, FLAG_FAST_ZERO).unwrap(),
            ENOTSUP
        );
        assert_eq!(read_block(&mut b, 1), block(6), "{variant}");
        assert_eq!(b.zero(BS as u64, BS as u32, 0).unwrap(), 0);
        assert_eq!(read_block(&mut b, 1), block(0), "{variant}");
        // The connection opened before the split still reads A as it was.
        assert_eq!(read_block(&mut a, 0), block(5), "{variant}");
        assert_eq!(read_block(&mut b, 0), block(5), "{variant}");
    }
}

#[test]
fn vlun_a_is_read_only_once_the_backup_starts() {
    if !have(&["nbdkit"]) {
        return;
    }
    let s = Server::create("cow", BLOCKS);
    let mut old = Nbd::connect(&s.socket(), "vlun-a").unwrap();
    assert_eq!(old.write(0, &block(1)).unwrap(), 0);
    s.device_ok(&["split"]);
    assert_eq!(old.write(BS as u64, &block(2)).unwrap(), 0);
    let archive = s.path("a.img");
    s.device_ok(&["backup", "--to", archive.to_str().unwrap()]);
    assert_eq!(old.write(2 * BS as u64, &block(3)).unwrap(), EPERM);
    // Still served: the refused write left nothing, the archive holds both A writes.
    assert_eq!(read_block(&mut old, 2), block(0));
    let bytes = std::fs::read(&archive).unwrap();
    assert_eq!(&bytes[..BS], &block(1)[..]);
    assert_eq!(&bytes[BS..2 * BS], &block(2)[..]);
    assert_eq!(&bytes[2 * BS..3 * BS], &block(0)[..]);
}

#[test]
fn unknown_exports_are_refused() {
    if !have(&["nbdkit"]) {
        return;
    }
    let s = Server::create("logging", BLOCKS);
    assert!(
        Nbd::connect(&s.socket(), "vlun-b").is_err(),
        "no B before the split"
    );
    assert!(Nbd::connect(&s.socket(), "vlun-c").is_err());
    let mut live = Nbd::connect(&s.socket(), "").unwrap();
    assert_eq!(live.write(0, &block(5)).unwrap(), 0);
    let mut a = Nbd::connect(&s.socket(), "vlun-a").unwrap();
    assert_eq!(
        read_block(&mut a, 0),
        block(5),
        "the default export is VLUN A"
    );
}

#[test]
fn control_commands_out_of_order_are_typed_errors() {
    if !have(&["nbdkit"]) {
        return;
    }
    let s = Server::create("cow", BLOCKS);
    let refused = |args: &[&str], needle: &str| {
        let o = s.device(args);
        assert_eq!(
            o.status.code(),
            Some(1),
            "owm device {args:?}: {}",
            text(&o)
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "owm device {args:?}: {}", text(&o));
        assert!(!err.contains("panicked"), "{err}");
    };
    let archive = s.path("a.img");
    let to = archive.to_str().unwrap();
    refused(&["backup", "--to", to], "out-of-order");
    assert!(!archive.exists(), "a refused backup left a file");
    refused(&["retire"], "out-of-order");
    refused(&["detach", "--to", to], "out-of-order");
    s.device_ok(&["split"]);
    refused(&["split"], "out-of-order");
    refused(&["retire"], "out-of-order");
    // A backup that cannot write its archive (its directory is not there): bad input,
    // no file, no completed archive.
    let o = s.device(&["backup", "--to", "/nonexistent-dir/a.img"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("bad-request"), "{}", text(&o));
    let st = s.device_ok(&["status", "--json"]);
    assert!(st.contains("\"archive_completed\":false"), "{st}");
    refused(&["retire"], "cannot retire VLUN A: the device is split");
    // The JSON reply of a refusal.
    let o = s.device(&["retire", "--json"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("\"ok\":false") && out.contains("\"kind\":\"out-of-order\""),
        "{out}"
    );
    // In order, all is accepted; the NBD side served throughout.
    s.device_ok(&["backup", "--to", to]);
    s.device_ok(&["retire"]);
    let mut b = Nbd::connect(&s.socket(), "vlun-b").unwrap();
    assert_eq!(b.write(0, &block(1)).unwrap(), 0);
}

#[test]
fn control_socket_absent_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_owm"))
        .args(["device", "status", "--dir"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("control.sock") && err.contains("owm serve"),
        "{err}"
    );
}

/// kill -9 while a client writes and flushes: after `owm serve` again, every write a
/// completed FLUSH covered is there.
fn kill_and_restart(variant: &str, split: bool) {
    if !have(&["nbdkit"]) {
        return;
    }
    let mut s = Server::create(variant, BLOCKS);
    let export = if split {
        s.device_ok(&["split"]);
        "vlun-b"
    } else {
        "vlun-a"
    };
    let mut c = Nbd::connect(&s.socket(), export).unwrap();
    let (flushed_tx, flushed_rx) = mpsc::channel::<u64>();
    let writer = std::thread::spawn(move || {
        // Block i gets byte i+1, again and again; each round ends with a flush.
        for round in 0u64.. {
            for i in 0..BLOCKS {
                let byte = ((round * BLOCKS + i) % 251 + 1) as u8;
                if c.write(i * BS as u64, &block(byte))
                    .map_or(true, |e| e != 0)
                {
                    return;
                }
                if i % 4 == 3 {
                    if c.flush().map_or(true, |e| e != 0) {
                        return;
                    }
                    if flushed_tx.send(round * BLOCKS + i).is_err() {
                        return;
                    }
                }
            }
        }
    });
    // Kill in the middle of the second round (the first fills every block).
    let mut last = 0;
    while last < BLOCKS + BLOCKS / 2 {
        last = flushed_rx.recv().expect("the writer is flushing");
    }
    s.kill9();
    let _ = writer.join();
    // Every flush acknowledged before the kill covers the writes before it.
    let durable = std::iter::from_fn(|| flushed_rx.try_recv().ok())
        .last()
        .unwrap_or(last)
        .max(last);
    s.restart();
    // The status says the device was recovered from its journal, as stderr did.
    let status: serde_json::Value =
        serde_json::from_str(&s.device_ok(&["status", "--json"])).unwrap();
    assert_eq!(
        status["recovered_from_journal"], true,
        "{variant}: {status}"
    );
    let mut c = Nbd::connect(&s.socket(), export).unwrap();
    for i in 0..BLOCKS {
        // The newest write to block i that a flush covered.
        let mut k = (durable / BLOCKS) * BLOCKS + i;
        if k > durable {
            k -= BLOCKS;
        }
        let flushed = (k % 251 + 1) as u8;
        let next = ((k + BLOCKS) % 251 + 1) as u8;
        let got = read_block(&mut c, i);
        assert!(
            got == block(flushed) || got == block(next),
            "{variant}: block {i} after kill -9 holds {:#x}, a flushed write was {:#x}",
            got[0],
            flushed
        );
    }
}

#[test]
fn kill_9_keeps_every_flushed_write_mirroring() {
    kill_and_restart("mirroring", false);
    kill_and_restart("mirroring", true);
}

#[test]
fn kill_9_keeps_every_flushed_write_logging() {
    kill_and_restart("logging", true);
}

#[test]
fn kill_9_keeps_every_flushed_write_cow() {
    kill_and_restart("cow", false);
    kill_and_restart("cow", true);
}

/// A killed server's record that it served the device, damaged or cut short (as a
/// server killed while writing it leaves it), still says the files were not closed
/// cleanly: the status reports the recovery from the journal, as with the record
/// whole; a clean stop, which removes it, reports none.
#[test]
fn a_damaged_serving_record_still_says_the_files_were_not_closed_cleanly() {
    if !have(&["nbdkit"]) {
        return;
    }
    for damaged in ["garbage{", "", "{\"device\": 5}"] {
        let mut s = Server::create("cow", BLOCKS);
        let mut c = Nbd::connect(&s.socket(), "vlun-a").unwrap();
        assert_eq!(c.write(0, &block(3)).unwrap(), 0);
        assert_eq!(c.flush().unwrap(), 0);
        c.disconnect();
        s.kill9();
        let marker = s.dir().join("serving.json");
        assert!(marker.is_file(), "a killed server leaves its record");
        std::fs::write(&marker, damaged).unwrap();
        s.restart();
        let status: serde_json::Value =
            serde_json::from_str(&s.device_ok(&["status", "--json"])).unwrap();
        assert_eq!(
            status["recovered_from_journal"], true,
            "{damaged:?}: {status}"
        );
        let mut c = Nbd::connect(&s.socket(), "vlun-a").unwrap();
        assert_eq!(read_block(&mut c, 0), block(3));
    }
}

/// A server that does not answer (stopped by SIGSTOP) keeps `owm device` waiting no
/// longer than a status deadline (`OWM_STATUS_REPLY_MS`: `no-reply`, exit 1, a JSON
/// object under --json), and a request that waits for a reply and is cancelled
/// (SIGTERM) ends 143 with a JSON object saying so; the server, let go on, answers.
#[test]
fn a_server_that_does_not_answer_keeps_no_client_waiting_for_good() {
    if !have(&["nbdkit"]) {
        return;
    }
    let s = Server::create("cow", BLOCKS);
    let pid = s.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-STOP", &pid])
        .status()
        .unwrap()
        .success());
    let device = |args: &[&str], env: &[(&str, &str)]| {
        Command::new(env!("CARGO_BIN_EXE_owm"))
            .arg("device")
            .args(args)
            .arg("--dir")
            .arg(s.dir())
            .arg("--json")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("owm runs")
    };
    let o = device(&["status"], &[("OWM_STATUS_REPLY_MS", "300")])
        .wait_with_output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let reply: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(reply["kind"], "no-reply", "{reply}");
    assert!(
        reply["error"]
            .as_str()
            .unwrap()
            .contains("no reply to `status` within 0.3 s"),
        "{reply}"
    );
    // A split waits as long as its work does: cancelled, it says so.
    let split = device(&["split"], &[]);
    // Once the client waits in its read of the reply (its signal watch is set before
    // it sends), the cancel comes.
    let wchan = format!("/proc/{}/wchan", split.id());
    let mut waiting = false;
    for _ in 0..100_000 {
        if std::fs::read_to_string(&wchan).is_ok_and(|w| w.contains("unix_stream_read")) {
            waiting = true;
            break;
        }
        std::thread::yield_now();
    }
    assert!(waiting, "the client never waited for its reply");
    let client = split.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &client])
        .status()
        .unwrap()
        .success());
    let o = split.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(143),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let reply: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(reply["kind"], "interrupted", "{reply}");
    assert!(
        reply["error"].as_str().unwrap().starts_with("SIGTERM: "),
        "{reply}"
    );
    assert!(Command::new("kill")
        .args(["-CONT", &pid])
        .status()
        .unwrap()
        .success());
    let status: serde_json::Value =
        serde_json::from_str(&s.device_ok(&["status", "--json"])).unwrap();
    assert_eq!(status["ok"], true, "{status}");
}

#[test]
fn sigterm_stops_cleanly_and_keeps_the_data() {
    if !have(&["nbdkit"]) {
        return;
    }
    let mut s = Server::create("logging", BLOCKS);
    s.device_ok(&["split"]);
    let mut c = Nbd::connect(&s.socket(), "vlun-b").unwrap();
    assert_eq!(c.write(0, &block(9)).unwrap(), 0);
    c.disconnect();
    let fresh: serde_json::Value =
        serde_json::from_str(&s.device_ok(&["status", "--json"])).unwrap();
    assert_eq!(fresh["recovered_from_journal"], false, "{fresh}");
    let status = s.terminate();
    assert!(status.success(), "exit after SIGTERM: {status}");
    s.restart();
    let after: serde_json::Value =
        serde_json::from_str(&s.device_ok(&["status", "--json"])).unwrap();
    assert_eq!(
        after["recovered_from_journal"], false,
        "a clean stop: {after}"
    );
    let mut c = Nbd::connect(&s.socket(), "vlun-b").unwrap();
    assert_eq!(read_block(&mut c, 0), block(9));
}

/// The server refuses a `to` path no file can replace (a device, a directory) itself,
/// whoever sends the request (here a raw request past `owm device`'s own check), and
/// leaves the path as it was.
#[test]
fn the_server_refuses_a_backup_or_detach_to_a_device_or_directory() {
    if !have(&["nbdkit"]) {
        return;
    }
    use std::io::{BufRead, Write};
    use std::os::unix::fs::FileTypeExt;
    let s = Server::create("cow", BLOCKS);
    s.device_ok(&["split"]);
    let ask = |request: &str| {
        let mut raw =
            std::os::unix::net::UnixStream::connect(s.dir().join("control.sock")).unwrap();
        writeln!(raw, "{request}").unwrap();
        let mut line = String::new();
        std::io::BufReader::new(&raw).read_line(&mut line).unwrap();
        serde_json::from_str::<serde_json::Value>(&line).unwrap()
    };
    let dir = s.dir();
    for (request, what) in [
        (
            r#"{"op":"backup","to":"/dev/null"}"#.to_string(),
            "not a regular file",
        ),
        (
            format!(r#"{{"op":"detach","to":{}}}"#, serde_json::json!(dir)),
            "is a directory",
        ),
    ] {
        let reply = ask(&request);
        assert_eq!(reply["ok"], serde_json::json!(false), "{reply}");
        assert_eq!(reply["kind"], "bad-request", "{reply}");
        assert!(reply["error"].as_str().unwrap().contains(what), "{reply}");
    }
    assert!(std::fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());
    // The device is unharmed: a backup to a regular file still completes.
    let archive = s.path("a.img");
    s.device_ok(&["backup", "--to", archive.to_str().unwrap()]);
    assert!(archive.is_file());
}

/// A backup or detach `--to` in a directory that does not exist, or under a path that is
/// a regular file, is bad input (`bad-request`, exit 2, naming the directory) refused
/// before anything is copied, not an I/O failure of the copy (exit 1); nothing is made
/// there, and the device goes on to a backup to a writable place.
#[test]
fn a_backup_or_detach_into_a_missing_directory_is_bad_input() {
    if !have(&["nbdkit"]) {
        return;
    }
    let s = Server::create("cow", BLOCKS);
    s.device_ok(&["split"]);
    let missing = s.path("no-such-dir");
    let file = s.path("plain-file");
    std::fs::write(&file, b"x").unwrap();
    for (dir, why) in [(&missing, "does not exist"), (&file, "is not a directory")] {
        let to = dir.join("a.img");
        for op in ["backup", "detach"] {
            let o = s.device(&[op, "--to", to.to_str().unwrap(), "--json"]);
            assert_eq!(
                o.status.code(),
                Some(2),
                "{op} {}: {}",
                to.display(),
                text(&o)
            );
            let v: serde_json::Value = serde_json::from_slice(&o.stdout)
                .unwrap_or_else(|e| panic!("stdout is JSON ({e}): {}", text(&o)));
            assert_eq!(v["kind"], "bad-request", "{v}");
            let error = v["error"].as_str().unwrap_or_default();
            assert!(
                error.contains(&format!("{} {why}", dir.display())),
                "{op}: names the directory and why: {v}"
            );
            assert!(!missing.exists(), "{op}: no directory made");
        }
    }
    assert_eq!(std::fs::read(&file).unwrap(), b"x", "the file is untouched");
    let archive = s.path("a.img");
    s.device_ok(&["backup", "--to", archive.to_str().unwrap()]);
    assert!(archive.is_file());
}

/// A backup or detach `--to` a symbolic link writes the file the link leads to, in that
/// file's own directory (made there for a link whose file does not exist yet), and the
/// link stays a link; the retire reads the archive through it. The server itself
/// refuses a link into `/proc` (its own standard output, `/proc/self/fd/1`), whoever
/// sends the request. Before, the rename replaced the link with the image.
#[test]
fn a_backup_and_detach_through_a_link_write_where_it_leads_and_keep_it() {
    if !have(&["nbdkit"]) {
        return;
    }
    use std::io::{BufRead, Write};
    let is_link = |p: &std::path::Path| {
        std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink())
    };
    let s = Server::create("cow", BLOCKS);
    s.device_ok(&["split"]);
    let mut raw = std::os::unix::net::UnixStream::connect(s.dir().join("control.sock")).unwrap();
    writeln!(raw, r#"{{"op":"backup","to":"/proc/self/fd/1"}}"#).unwrap();
    let mut line = String::new();
    std::io::BufReader::new(&raw).read_line(&mut line).unwrap();
    let reply: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(reply["kind"], "bad-request", "{reply}");
    assert!(
        reply["error"].as_str().unwrap().contains("is in /proc"),
        "{reply}"
    );

    let there = s.path("there");
    std::fs::create_dir(&there).unwrap();
    std::fs::write(there.join("a.img"), b"an earlier archive").unwrap();
    let (a_link, b_link) = (s.path("a-link.img"), s.path("b-link.img"));
    std::os::unix::fs::symlink("there/a.img", &a_link).unwrap();
    std::os::unix::fs::symlink(there.join("b.img"), &b_link).unwrap();
    s.device_ok(&["backup", "--to", a_link.to_str().unwrap()]);
    s.device_ok(&["retire"]);
    s.device_ok(&["detach", "--to", b_link.to_str().unwrap()]);
    let volume = BLOCKS * BS as u64;
    for (link, file) in [(&a_link, "a.img"), (&b_link, "b.img")] {
        assert!(is_link(link), "{} was replaced", link.display());
        let m = std::fs::symlink_metadata(there.join(file)).unwrap();
        assert!(m.is_file() && m.len() == volume, "{file}: {m:?}");
    }
    let mut left: Vec<String> = std::fs::read_dir(&there)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["a.img", "b.img"]);
}

/// A server of a new `variant` device of 2 GiB blocks (a valid block size), 4 GiB,
/// in a process whose address space (`ulimit -v`, 1.9 GB) cannot hold a block buffer;
/// its stderr goes to `log`. Returns once both sockets answer. Two malloc arenas
/// (`MALLOC_ARENA_MAX`) keep the threads' reservations small, so a new connection's
/// thread always fits in what is left.
struct Starved {
    child: std::process::Child,
    dir: std::path::PathBuf,
    socket: std::path::PathBuf,
    log: std::path::PathBuf,
}

impl Starved {
    fn start(tmp: &std::path::Path, variant: &str) -> Starved {
        let dir = tmp.join("dev");
        let socket = tmp.join("nbd.sock");
        let log = tmp.join("serve.log");
        let child = std::process::Command::new("sh")
            .args(["-c", "ulimit -v 1900000 && exec \"$@\"", "sh"])
            .arg(env!("CARGO_BIN_EXE_owm"))
            .arg("serve")
            .arg(&dir)
            .args(["--create", "--variant", variant])
            .args(["--size-bytes", "4294967296", "--block-size", "2147483648"])
            .arg("--socket")
            .arg(&socket)
            .env("OWM_NBDKIT_PLUGIN", super::harness::plugin())
            .env("MALLOC_ARENA_MAX", "2")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut s = Starved {
            child,
            dir,
            socket,
            log,
        };
        let control = s.dir.join("control.sock");
        for _ in 0..2000 {
            if let Ok(Some(status)) = s.child.try_wait() {
                panic!("owm serve exited: {status}: {}", s.log_text());
            }
            // As the harness's start: the control socket, then an NBD greeting.
            if std::os::unix::net::UnixStream::connect(&control).is_ok()
                && super::client::listens(&s.socket)
            {
                return s;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("owm serve did not listen");
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `owm device ARGS --dir DIR`.
    fn device(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_owm"))
            .arg("device")
            .args(args)
            .arg("--dir")
            .arg(&self.dir)
            .output()
            .unwrap()
    }

    /// The server still runs and its control socket answers: the device's phase.
    fn serving_phase(&mut self) -> String {
        assert_eq!(self.child.try_wait().unwrap(), None, "the server stopped");
        self.status()["phase"].as_str().unwrap().to_string()
    }

    /// `owm device status --json`.
    fn status(&self) -> serde_json::Value {
        let o = self.device(&["status", "--json"]);
        assert!(o.status.success(), "{}", text(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    }

    /// SIGTERM: the server stops cleanly (exit 0); its stderr.
    fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status();
        let status = self.child.wait().unwrap();
        let log = self.log_text();
        assert_eq!(status.code(), Some(0), "{log}");
        log
    }
}

impl Drop for Starved {
    /// Kills the server if the test fails before stopping it.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A request on a device of 2 GiB blocks in a server whose address space cannot hold
/// a block buffer ([`Starved`]): a partial read and a partial write each fail with
/// ENOMEM, and the server serves on (a flush and the control socket answer; SIGTERM
/// stops it cleanly, exit 0). The buffer used to be allocated infallibly, and the
/// failed allocation aborted the server (exit 134) on the first 512-byte read.
#[test]
fn a_block_buffer_the_memory_limit_refuses_fails_the_request_not_the_server() {
    if !have(&["nbdkit"]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut s = Starved::start(tmp.path(), "mirroring");
    let mut c = Nbd::connect(&s.socket, "vlun-a").unwrap();
    let read = c.read(0, 512);
    let read = read.unwrap_or_else(|e| panic!("{e}: {}", s.log_text()));
    assert_eq!(read, Err(ENOMEM), "a partial read");
    assert_eq!(
        c.write(512, &[7u8; 512]).unwrap(),
        ENOMEM,
        "a partial write"
    );
    assert_eq!(c.flush().unwrap(), 0);
    drop(c);
    assert_eq!(s.serving_phase(), "single volume");
    let log = s.stop();
    assert!(
        log.contains("cannot allocate a buffer of one block"),
        "{log}"
    );
}

/// `owm device backup` on the same starved server: the backup's block buffer is
/// refused, so the command fails (exit 1, kind `out-of-memory`, naming the buffer and
/// its size), no archive is written or recorded, the device stays split (the backup
/// can be repeated) and the server serves on: the NBD clients keep their connections.
/// The buffer used to be allocated infallibly, and the backup aborted the server.
#[test]
fn a_backup_whose_block_buffer_the_memory_limit_refuses_fails_the_command_not_the_server() {
    if !have(&["nbdkit"]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut s = Starved::start(tmp.path(), "cow");
    let mut b = Nbd::connect(&s.socket, "vlun-a").unwrap();
    let o = s.device(&["split"]);
    assert!(o.status.success(), "{}", text(&o));
    let archive = tmp.path().join("a.img");
    let o = s.device(&["backup", "--to", archive.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("out-of-memory")
            && err.contains("2147483648 bytes")
            && err.contains("back up VLUN A"),
        "{err}"
    );
    assert!(!archive.exists(), "a partial archive was left");
    assert_eq!(s.serving_phase(), "split");
    let status = s.status();
    assert_eq!(status["archive_completed"], false, "{status}");
    // The connection made before the backup still answers.
    assert_eq!(b.flush().unwrap(), 0);
    drop(b);
    let log = s.stop();
    assert!(!log.contains("memory allocation"), "{log}");
}

/// Flips one byte of volume block `b` in both image files (wherever the variant keeps
/// the block, it is rotted there), at a byte its label never covers.
fn rot_block_in_both_images(dir: &std::path::Path, b: u64) {
    use std::io::{Read, Seek, SeekFrom, Write};
    for name in ["image-a.img", "image-b.img"] {
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(dir.join(name))
            .unwrap();
        let at = b * BS as u64 + 100;
        let mut byte = [0u8];
        f.seek(SeekFrom::Start(at)).unwrap();
        f.read_exact(&mut byte).unwrap();
        f.seek(SeekFrom::Start(at)).unwrap();
        f.write_all(&[byte[0] ^ 0x01]).unwrap();
        f.sync_all().unwrap();
    }
}

/// `--create --integrity`: a block the disk rotted while the server was stopped is
/// refused (EIO, the log names the image and the block), the others are served, the
/// mode is the device's at every later start and in `status`, and a backup that meets
/// the block fails naming it. The same rot on a device made without it is served as it
/// reads back (the documented default), so the refusal is the mode's doing.
#[test]
fn integrity_mode_refuses_a_rotted_block_that_the_default_serves() {
    if !have(&["nbdkit"]) {
        return;
    }
    for variant in ["mirroring", "logging", "cow"] {
        for integrity in [false, true] {
            let extra: &[&str] = if integrity { &["--integrity"] } else { &[] };
            let mut s = Server::create_logged_with(variant, BLOCKS, extra);
            let status = s.device_ok(&["status"]);
            assert!(
                status.contains(&format!("integrity: {integrity}")),
                "{variant}: {status}"
            );
            let mut c = Nbd::connect(&s.socket(), "vlun-a").unwrap();
            assert_eq!(c.write(3 * BS as u64, &block(0x5A)).unwrap(), 0);
            assert_eq!(c.write(4 * BS as u64, &block(0x6B)).unwrap(), 0);
            assert_eq!(c.flush().unwrap(), 0);
            drop(c);
            assert!(
                s.terminate().success(),
                "{variant}: the server stops cleanly"
            );
            rot_block_in_both_images(&s.dir(), 3);
            s.restart_logged();
            let status = s.device_ok(&["status"]);
            assert!(
                status.contains(&format!("integrity: {integrity}")),
                "{variant}: the mode is kept at a later start: {status}"
            );
            let mut c = Nbd::connect(&s.socket(), "vlun-a").unwrap();
            let rotted = c.read(3 * BS as u64, BS as u32).expect("connection alive");
            assert_eq!(read_block(&mut c, 4), block(0x6B), "{variant}");
            if integrity {
                assert_eq!(rotted, Err(EIO), "{variant}: the rotted block is refused");
                let log = s.log();
                assert!(
                    log.contains("block 3 (volume block 3) does not match its checksum"),
                    "{variant}: the log names the block: {log}"
                );
            } else {
                let mut expected = block(0x5A);
                expected[100] ^= 0x01;
                assert_eq!(
                    rotted,
                    Ok(expected),
                    "{variant}: without integrity mode the block is served as read"
                );
                continue;
            }
            drop(c);
            s.device_ok(&["split"]);
            let archive = s.path("archive.img");
            let o = s.device(&["backup", "--to", archive.to_str().unwrap()]);
            assert_eq!(o.status.code(), Some(1), "{variant}: {}", text(&o));
            assert!(
                text(&o).contains("does not match its checksum"),
                "{variant}: the backup names the rotted block: {}",
                text(&o)
            );
            assert!(
                !archive.exists(),
                "{variant}: no archive of a damaged VLUN A"
            );
        }
    }
}

/// Under `--json`, a refusal the client makes itself prints the documented JSON too: a
/// `--to` that is a directory (`bad-request`, exit 2, also `bad-request:` on stderr),
/// no server at the socket, and a `--control` that is the NBD socket, which is named
/// as no control socket rather than as a server that stopped (`unreachable`, exit 1).
#[test]
fn client_side_refusals_print_json_and_name_a_socket_of_another_kind() {
    if !have(&["nbdkit"]) {
        return;
    }
    let s = Server::create("cow", BLOCKS);
    s.device_ok(&["split"]);
    let refusal = |o: &std::process::Output, code: i32, kind: &str| -> serde_json::Value {
        assert_eq!(o.status.code(), Some(code), "{}", text(o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("stdout is JSON ({e}): {}", text(o)));
        assert_eq!(v["ok"], false, "{v}");
        assert_eq!(v["kind"], kind, "{v}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(&format!("{kind}: ")), "{}", text(o));
        v
    };
    let dir_to = s.path("");
    let o = s.device(&["backup", "--to", dir_to.to_str().unwrap(), "--json"]);
    refusal(&o, 2, "bad-request");
    let nowhere = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_owm"))
        .args(["device", "status", "--json", "--dir"])
        .arg(nowhere.path())
        .output()
        .unwrap();
    refusal(&o, 1, "unreachable");
    let nbd = s.socket();
    let o = s.device(&["status", "--json", "--control", nbd.to_str().unwrap()]);
    let v = refusal(&o, 1, "unreachable");
    let error = v["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("not the control socket") && error.contains("NBD"),
        "{v}"
    );
    assert!(!error.contains("crashed"), "{v}");
}
