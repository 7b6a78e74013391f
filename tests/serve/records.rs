//! The device's own files and records: a `--to` that is one of them is refused, two
//! backups never share a file, the archive record speaks for the current cycle only, a
//! detached device is not served again, and every bad device file is bad input of
//! `owm serve` (exit 2, said once).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::client::Nbd;
use super::harness::{have, long_stream_byte, plugin, text, Server};

const BLOCKS: u64 = 64;
const BS: usize = 4096;

fn block(byte: u8) -> Vec<u8> {
    vec![byte; BS]
}

/// `(device, inode, length)` of each of the device's files, to show none was replaced.
fn identities(dir: &Path) -> Vec<(PathBuf, u64, u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    [
        "image-a.img",
        "image-b.img",
        "device.owm",
        "device.owm.super",
    ]
    .iter()
    .map(|n| {
        let p = dir.join(n);
        let m = std::fs::metadata(&p).unwrap();
        (p, m.dev(), m.ino(), m.len())
    })
    .collect()
}

/// `owm serve DIR ARGS…` that must fail: its output (killed, and the test failed, if it
/// has not exited after 20 s: still serving, or stuck in its start).
fn serve_fails(dir: &Path, socket: &Path, extra: &[&str]) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_owm"))
        .arg("serve")
        .arg(dir)
        .arg("--socket")
        .arg(socket)
        .args(extra)
        .env("OWM_NBDKIT_PLUGIN", plugin())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("owm serve starts");
    let pid = child.id().to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    if let Ok(o) = rx.recv_timeout(std::time::Duration::from_secs(20)) {
        return o.unwrap();
    }
    // Not reaped yet, so the id is still the child's.
    let _ = Command::new("kill").args(["-KILL", &pid]).status();
    let o = rx.recv().unwrap().unwrap();
    panic!(
        "owm serve {} {extra:?} had not exited after 20 s: {}",
        dir.display(),
        text(&o)
    );
}

/// Exit 2 with `needle` in the message exactly once and no panic.
fn assert_bad_input(o: &Output, needle: &str, what: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{what}: {}", text(o));
    assert_eq!(err.matches(needle).count(), 1, "{what}: {}", text(o));
    assert!(!err.contains("panicked"), "{what}: {err}");
}

#[test]
fn a_backup_or_detach_to_the_devices_own_files_is_refused() {
    if !have(&["nbdkit"]) {
        return;
    }
    let mut s = Server::create("cow", BLOCKS);
    let dir = s.dir();
    s.device_ok(&["split"]);
    let mut b = Nbd::connect(&s.socket(), "vlun-b").unwrap();
    assert_eq!(b.write(0, &block(9)).unwrap(), 0);
    assert_eq!(b.flush().unwrap(), 0);
    let before = identities(&dir);
    // The same files by another name: a symbolic link, a hard link, a `..` path, a
    // dangling link to a record not yet written.
    let symlink = s.path("link-to-b.img");
    std::os::unix::fs::symlink(dir.join("image-b.img"), &symlink).unwrap();
    let hardlink = s.path("hard-meta");
    std::fs::hard_link(dir.join("device.owm"), &hardlink).unwrap();
    let dotdot = dir.join("..").join("dev").join("image-a.img");
    let dangling = s.path("link-to-record");
    std::os::unix::fs::symlink(dir.join("archive.json"), &dangling).unwrap();
    let mut targets: Vec<PathBuf> = ["image-a.img", "image-b.img", "device.owm"]
        .iter()
        .chain(&["device.owm.super", "archive.json", "detached.json"])
        .map(|n| dir.join(n))
        .collect();
    targets.extend([symlink, hardlink, dotdot, dangling]);
    for to in &targets {
        let o = s.device(&["backup", "--to", to.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "backup --to {to:?}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("bad-request") && err.contains("own file"),
            "backup --to {to:?}: {err}"
        );
    }
    // The control socket (a socket: refused by `owm device` itself).
    let o = s.device(&["backup", "--to", dir.join("control.sock").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert_eq!(
        identities(&dir),
        before,
        "a refused backup replaced a device file"
    );
    assert!(!dir.join("archive.json").exists());
    assert!(std::fs::read_link(s.path("link-to-record")).is_ok());
    // A backup elsewhere, the retire; then detach is refused the same way.
    let archive = s.path("a.img");
    s.device_ok(&["backup", "--to", archive.to_str().unwrap()]);
    s.device_ok(&["retire"]);
    for to in &targets {
        let o = s.device(&["detach", "--to", to.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "detach --to {to:?}: {}", text(&o));
    }
    // Every flushed VLUN B write is there after a restart.
    drop(b);
    assert!(s.terminate().success());
    s.restart();
    let mut b = Nbd::connect(&s.socket(), "vlun-b").unwrap();
    assert_eq!(b.read(0, BS as u32).unwrap().unwrap(), block(9));
}

/// Two backups of one device to the same file, the second asked while the first
/// streams: the second is refused (`busy`, exit 1) or, if the first had already ended,
/// completes; either way the file holds all of VLUN A whenever a backup said it
/// completed, and no temporary file is left.
#[test]
fn overlapping_backups_never_share_a_file() {
    if !have(&["nbdkit"]) {
        return;
    }
    // 64 MiB: long enough a stream that the second request arrives during the first.
    let blocks = 16384u64;
    let mut s = Server::split_long_stream(blocks);
    let archive = s.path("a.img");
    let to = archive.to_str().unwrap().to_string();
    let owm = env!("CARGO_BIN_EXE_owm");
    let first = Command::new(owm)
        .args(["device", "backup", "--to", &to, "--dir"])
        .arg(s.dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the first backup's temporary file exists (it is streaming).
    let streaming = || {
        std::fs::read_dir(s.tmp.path()).unwrap().flatten().any(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with(".a.img.") || n == "a.img.partial"
        })
    };
    for _ in 0..2000 {
        if streaming() || archive.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let second = s.device(&["backup", "--to", &to]);
    // A retire asked while it streams is `busy` too, never `out-of-order` (whose
    // reason would be that no backup completed); one that arrives just after the
    // stream ended retires (then not asked again below).
    let mut retired = false;
    if streaming() {
        let retire = s.device(&["retire"]);
        match retire.status.code() {
            Some(0) => retired = true,
            Some(1) => {
                let said = String::from_utf8_lossy(&retire.stderr).into_owned();
                assert!(
                    said.contains("busy: cannot retire VLUN A: a backup of this device is running"),
                    "{said}"
                );
            }
            _ => panic!("retire: {}", text(&retire)),
        }
    }
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success(), "first backup: {}", text(&first));
    match second.status.code() {
        Some(0) => {}
        Some(1) => assert!(
            String::from_utf8_lossy(&second.stderr).contains("busy"),
            "{}",
            text(&second)
        ),
        _ => panic!("second backup: {}", text(&second)),
    }
    let bytes = std::fs::read(&archive).unwrap();
    assert_eq!(bytes.len() as u64, blocks * BS as u64, "the archive is cut");
    for i in 0..blocks {
        let want = long_stream_byte(i);
        let got = &bytes[i as usize * BS..(i as usize + 1) * BS];
        assert!(got.iter().all(|&x| x == want), "archive block {i}");
    }
    assert!(!streaming(), "a temporary file was left beside the archive");
    // The record survives a kill -9 and a retire is allowed: the archive is VLUN A.
    s.kill9();
    s.restart();
    let st = s.device_ok(&["status", "--json"]);
    if !retired {
        assert!(st.contains("\"archive_completed\":true"), "{st}");
        s.device_ok(&["retire"]);
    }
}

#[test]
fn the_archive_record_is_dropped_at_retire_and_at_the_next_split() {
    if !have(&["nbdkit"]) {
        return;
    }
    let completed = |s: &Server| {
        let st = s.device_ok(&["status", "--json"]);
        let v: serde_json::Value = serde_json::from_str(st.trim()).unwrap();
        assert_eq!(
            v["archive_completed"].as_bool().unwrap(),
            !v["archive"].is_null(),
            "{st}"
        );
        v["archive_completed"].as_bool().unwrap()
    };
    for variant in ["mirroring", "logging", "cow"] {
        let mut s = Server::create(variant, BLOCKS);
        s.device_ok(&["split"]);
        assert!(!completed(&s), "{variant}: split");
        let archive = s.path("a1.img");
        s.device_ok(&["backup", "--to", archive.to_str().unwrap()]);
        assert!(completed(&s), "{variant}: backed up");
        s.device_ok(&["retire"]);
        assert!(!completed(&s), "{variant}: retired");
        // Cycle 2: nothing of the new VLUN A is archived yet, also after a restart.
        s.device_ok(&["split"]);
        assert!(!completed(&s), "{variant}: cycle 2 split");
        s.kill9();
        s.restart();
        assert!(!completed(&s), "{variant}: cycle 2 split, restarted");
        let o = s.device(&["retire"]);
        assert_eq!(o.status.code(), Some(1), "{variant}: {}", text(&o));
    }
}

/// An earlier cycle's `archive.json`, left beside a device whose current VLUN A was
/// never archived (its backup failed: a crash before the split's removal of the record
/// left it), is not taken for this cycle's archive after a restart: the status says no
/// archive completed and the retire is refused; once this cycle's backup completes, the
/// record names its file.
#[test]
fn an_earlier_cycles_archive_record_does_not_speak_for_this_cycle() {
    if !have(&["nbdkit"]) {
        return;
    }
    for variant in ["mirroring", "logging", "cow"] {
        let mut s = Server::create(variant, BLOCKS);
        let dir = s.dir();
        s.device_ok(&["split"]);
        s.device_ok(&["backup", "--to", s.path("a1.img").to_str().unwrap()]);
        let stale = std::fs::read(dir.join("archive.json")).unwrap();
        s.device_ok(&["retire"]);
        s.device_ok(&["split"]);
        // Cycle 2's backup fails (the images cut short: reading VLUN A fails); then
        // the images are put back whole.
        let images = [dir.join("image-a.img"), dir.join("image-b.img")];
        let whole: Vec<Vec<u8>> = images.iter().map(|p| std::fs::read(p).unwrap()).collect();
        for p in &images {
            let f = std::fs::OpenOptions::new().write(true).open(p).unwrap();
            f.set_len(4 * BS as u64).unwrap();
        }
        let o = s.device(&["backup", "--to", s.path("a2.img").to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{variant}: {}", text(&o));
        for (p, bytes) in images.iter().zip(&whole) {
            std::fs::write(p, bytes).unwrap();
        }
        std::fs::write(dir.join("archive.json"), &stale).unwrap();
        s.kill9();
        s.restart();
        let st = s.device_ok(&["status", "--json"]);
        assert!(
            st.contains("\"phase\":\"backed up\"") && st.contains("\"archive_completed\":false"),
            "{variant}: {st}"
        );
        let o = s.device(&["retire"]);
        assert_eq!(o.status.code(), Some(1), "{variant}: {}", text(&o));
        let a2 = s.path("a2.img");
        s.device_ok(&["backup", "--to", a2.to_str().unwrap()]);
        s.kill9();
        s.restart();
        let st = s.device_ok(&["status", "--json"]);
        assert!(
            st.contains("\"archive_completed\":true") && st.contains(a2.to_str().unwrap()),
            "{variant}: {st}"
        );
        s.device_ok(&["retire"]);
    }
}

#[test]
fn a_detached_device_is_not_served_again() {
    if !have(&["nbdkit"]) {
        return;
    }
    let mut s = Server::create("logging", BLOCKS);
    s.device_ok(&["split"]);
    let archive = s.path("a.img");
    s.device_ok(&["backup", "--to", archive.to_str().unwrap()]);
    s.device_ok(&["retire"]);
    let b_prime = s.path("b.img");
    s.device_ok(&["detach", "--to", b_prime.to_str().unwrap()]);
    assert!(s.child.wait().unwrap().success());
    let o = serve_fails(&s.dir(), &s.socket(), &[]);
    assert_bad_input(&o, "detached.json", "serve after detach");
    assert!(String::from_utf8_lossy(&o.stderr).contains(b_prime.to_str().unwrap()));
}

#[test]
fn every_bad_device_file_is_bad_input_said_once() {
    if !have(&["nbdkit"]) {
        return;
    }
    let mut s = Server::create("cow", BLOCKS);
    let dir = s.dir();
    let socket2 = s.path("second.sock");
    // A second server on the same directory: the lock is held.
    let o = serve_fails(&dir, &socket2, &[]);
    assert_bad_input(&o, "lock", "second server");
    assert!(s.terminate().success());
    let keep = s.path("keep");
    std::fs::create_dir(&keep).unwrap();
    for n in [
        "image-a.img",
        "image-b.img",
        "device.owm",
        "device.owm.super",
    ] {
        std::fs::copy(dir.join(n), keep.join(n)).unwrap();
    }
    let put_back = || {
        for n in [
            "image-a.img",
            "image-b.img",
            "device.owm",
            "device.owm.super",
        ] {
            std::fs::copy(keep.join(n), dir.join(n)).unwrap();
        }
    };
    // Swapped images.
    std::fs::rename(dir.join("image-a.img"), dir.join("x")).unwrap();
    std::fs::rename(dir.join("image-b.img"), dir.join("image-a.img")).unwrap();
    std::fs::rename(dir.join("x"), dir.join("image-b.img")).unwrap();
    assert_bad_input(&serve_fails(&dir, &socket2, &[]), "swapped", "swapped");
    put_back();
    // A resized image.
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join("image-b.img"))
        .unwrap();
    f.set_len(60000).unwrap();
    assert_bad_input(&serve_fails(&dir, &socket2, &[]), "image-b.img", "resized");
    put_back();
    // A missing image.
    std::fs::remove_file(dir.join("image-a.img")).unwrap();
    assert_bad_input(&serve_fails(&dir, &socket2, &[]), "image-a.img", "missing");
    put_back();
    // Metadata cut after a flush, its superblock present.
    let meta = std::fs::read(dir.join("device.owm")).unwrap();
    std::fs::write(dir.join("device.owm"), &meta[..meta.len() - 8]).unwrap();
    assert_bad_input(&serve_fails(&dir, &socket2, &[]), "device.owm", "cut");
    put_back();
    s.restart();
}

const FILES: [&str; 4] = [
    "image-a.img",
    "image-b.img",
    "device.owm",
    "device.owm.super",
];

/// The device's four files copied from `from` into the new directory `to` (`cp -a`).
fn copy_device(from: &Path, to: &Path) {
    std::fs::create_dir(to).unwrap();
    for n in FILES {
        std::fs::copy(from.join(n), to.join(n)).unwrap();
    }
}

/// VLUN B's blocks 0, 1 and 16 as read through `s`.
fn b_blocks(s: &Server) -> Vec<Vec<u8>> {
    let mut b = Nbd::connect(&s.socket(), "vlun-b").unwrap();
    [0u64, 1, 16]
        .iter()
        .map(|&i| b.read(i * BS as u64, BS as u32).unwrap().unwrap())
        .collect()
}

/// A device directory copied whole (`cp -a`, a cold backup) and both copies served and
/// written apart, as `verify26s-repro/clone-mix.sh` does: each copy moves on from the
/// same device id and generation. Each of the four files of copy 1 put beside the other
/// three of copy 2 is bad input (exit 2, said once, naming that file as another copy's
/// of this device), for each variant, where a start would have served VLUN B another
/// block's bytes; each copy whole still serves its own data.
#[test]
fn a_file_of_another_copy_of_the_device_is_bad_input() {
    if !have(&["nbdkit"]) {
        return;
    }
    for variant in ["mirroring", "logging", "cow"] {
        let mut s = Server::create(variant, BLOCKS);
        s.device_ok(&["split"]);
        assert!(s.terminate().success(), "{variant}");
        let t2 = tempfile::tempdir().unwrap();
        copy_device(&s.dir(), &t2.path().join("dev"));
        // Copy 1 (the original directory) and copy 2, each served and written apart.
        s.restart();
        let mut b = Nbd::connect(&s.socket(), "vlun-b").unwrap();
        assert_eq!(b.write(0, &[0x11; 2 * BS]).unwrap(), 0);
        assert_eq!(b.flush().unwrap(), 0);
        drop(b);
        let one_reads = b_blocks(&s);
        assert!(s.terminate().success(), "{variant}");
        let mut two = Server::serve(t2);
        let mut b = Nbd::connect(&two.socket(), "vlun-b").unwrap();
        assert_eq!(b.write(16 * BS as u64, &block(0x22)).unwrap(), 0);
        assert_eq!(b.write(0, &block(0x23)).unwrap(), 0);
        assert_eq!(b.flush().unwrap(), 0);
        drop(b);
        let two_reads = b_blocks(&two);
        assert_eq!(
            two_reads,
            vec![block(0x23), block(0), block(0x22)],
            "{variant}"
        );
        assert!(two.terminate().success(), "{variant}");
        for n in FILES {
            let mixed = two.path(&format!("mixed-{n}"));
            copy_device(&two.dir(), &mixed);
            std::fs::copy(s.dir().join(n), mixed.join(n)).unwrap();
            let o = serve_fails(&mixed, &two.path("mixed.sock"), &[]);
            let what = format!("{variant}: copy 1's {n} beside copy 2");
            assert_bad_input(&o, "another copy of this device", &what);
            let err = String::from_utf8_lossy(&o.stderr);
            let named = format!(
                "{}: does not belong to this device",
                mixed.join(n).display()
            );
            assert!(err.contains(&named), "{what}: {err}");
        }
        // Each copy whole serves its own data.
        s.restart();
        assert_eq!(b_blocks(&s), one_reads, "{variant}: copy 1");
        assert_eq!(one_reads[..2], [block(0x11), block(0x11)], "{variant}");
        assert!(s.terminate().success(), "{variant}");
        two.restart();
        assert_eq!(b_blocks(&two), two_reads, "{variant}: copy 2");
        assert!(two.terminate().success(), "{variant}");
    }
}

#[test]
fn a_create_past_the_recorded_geometry_is_refused_before_any_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("big");
    let o = Command::new(env!("CARGO_BIN_EXE_owm"))
        .arg("serve")
        .arg(&dir)
        .args(["--create", "--variant", "cow"])
        .args(["--block-size", "4294967296", "--size-bytes", "4294967296"])
        .output()
        .unwrap();
    assert_bad_input(&o, "--block-size 4294967296", "4 GiB block");
    assert!(!dir.exists(), "a refused create left {}", dir.display());
}

/// The names in `dir` that are temporary files of an atomic write of `name`
/// (`.NAME.XXXXXX.tmp`).
fn temporaries(dir: &Path, name: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!(".{name}.")) && n.ends_with(".tmp"))
        .collect()
}

/// A detach whose copy fails part way (here image B cut short under the server, so
/// reading VLUN B fails at block 16 of 64; a full file system fails the same way on the
/// write side) leaves no B': the file that was at `--to` is untouched, no temporary
/// file is left, and the device is still served, so the detach can be asked again
/// and then completes.
#[test]
fn a_failed_detach_leaves_no_half_written_image_and_the_device_served() {
    if !have(&["nbdkit"]) {
        return;
    }
    let mut s = Server::create("cow", BLOCKS);
    let dir = s.dir();
    let mut b = Nbd::connect(&s.socket(), "vlun").unwrap();
    for i in 0..BLOCKS {
        assert_eq!(b.write(i * BS as u64, &block(i as u8 + 1)).unwrap(), 0);
    }
    assert_eq!(b.flush().unwrap(), 0);
    drop(b);
    s.device_ok(&["split"]);
    s.device_ok(&["backup", "--to", s.path("a.img").to_str().unwrap()]);
    s.device_ok(&["retire"]);
    let image_b = dir.join("image-b.img");
    let len = std::fs::metadata(&image_b).unwrap().len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&image_b)
        .unwrap();
    f.set_len(16 * BS as u64).unwrap();
    let to = s.path("b.img");
    std::fs::write(&to, "an earlier file").unwrap();
    let o = s.device(&["detach", "--to", to.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("io: cannot detach VLUN B to") && err.contains("still served"),
        "{err}"
    );
    assert_eq!(std::fs::read(&to).unwrap(), b"an earlier file");
    assert_eq!(temporaries(s.tmp.path(), "b.img"), Vec::<String>::new());
    assert!(!dir.join("detached.json").exists());
    // Still served: the status answers and VLUN B reads.
    let st = s.device_ok(&["status", "--json"]);
    assert!(st.contains("\"phase\":\"retired\""), "{st}");
    // Image B whole again (its blocks past 16 now read as zeros): the detach completes.
    f.set_len(len).unwrap();
    s.device_ok(&["detach", "--to", to.to_str().unwrap()]);
    assert!(s.child.wait().unwrap().success());
    let bytes = std::fs::read(&to).unwrap();
    assert_eq!(bytes.len(), BLOCKS as usize * BS);
    for i in 0..BLOCKS as usize {
        let want = if i < 16 { i as u8 + 1 } else { 0 };
        assert!(
            bytes[i * BS..(i + 1) * BS].iter().all(|&x| x == want),
            "B' block {i}"
        );
    }
    assert_eq!(temporaries(s.tmp.path(), "b.img"), Vec::<String>::new());
}

/// `archive.json` beside a backed-up device that is damaged, another device's, from
/// before records named their device, or not a file: `owm serve` refuses it (exit 2)
/// naming the file and what is wrong, instead of serving with no archive (retire then
/// refused without a word of why) or with the other device's archive as this one's.
#[test]
fn a_damaged_or_foreign_archive_record_is_bad_input() {
    if !have(&["nbdkit"]) {
        return;
    }
    let mut x = Server::create("cow", BLOCKS);
    x.device_ok(&["split"]);
    x.device_ok(&["backup", "--to", x.path("x-a.img").to_str().unwrap()]);
    assert!(x.terminate().success());
    let mut y = Server::create("cow", BLOCKS);
    y.device_ok(&["split"]);
    y.device_ok(&["backup", "--to", y.path("y-a.img").to_str().unwrap()]);
    assert!(y.terminate().success());
    let record = y.dir().join("archive.json");
    let own = std::fs::read(&record).unwrap();
    let socket2 = y.path("second.sock");
    let refused = |what: &str, why: &str| {
        let o = serve_fails(&y.dir(), &socket2, &[]);
        assert_bad_input(&o, "archive.json", what);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(why), "{what}: {err}");
    };
    std::fs::write(&record, "{").unwrap();
    refused("damaged", "damaged: not JSON");
    std::fs::copy(x.dir().join("archive.json"), &record).unwrap();
    refused("foreign", "belongs to device");
    let mut older: serde_json::Value = serde_json::from_slice(&own).unwrap();
    older.as_object_mut().unwrap().remove("device");
    std::fs::write(&record, older.to_string()).unwrap();
    refused("no device id", "names no device");
    std::fs::remove_file(&record).unwrap();
    std::fs::create_dir(&record).unwrap();
    refused("a directory", "is a directory");
    std::fs::remove_dir(&record).unwrap();
    // No record at all: served, and the retire's refusal names the missing record.
    y.restart();
    let o = y.device(&["retire"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("archive record {} is missing", record.display())),
        "{err}"
    );
    assert!(y.terminate().success());
    // Its own record back: served, the archive completed, and VLUN A retires.
    std::fs::write(&record, &own).unwrap();
    y.restart();
    let st = y.device_ok(&["status", "--json"]);
    assert!(
        st.contains("\"archive_completed\":true") && st.contains("y-a.img"),
        "{st}"
    );
    y.device_ok(&["retire"]);
}

/// `device.owm` that is a directory, a pipe or a dangling link, or missing beside an
/// image: `owm serve` says what is there and refuses (exit 2) without suggesting
/// `--create`, which would overwrite the device's images; only a directory with none
/// of the device's files is told to create one.
#[test]
fn a_device_owm_that_is_not_a_file_is_refused_without_suggesting_create() {
    let tmp = tempfile::tempdir().unwrap();
    let serve = |dir: &Path| {
        Command::new(env!("CARGO_BIN_EXE_owm"))
            .arg("serve")
            .arg(dir)
            .arg("--socket")
            .arg(tmp.path().join("s.sock"))
            .output()
            .unwrap()
    };
    type Make<'a> = &'a dyn Fn(&Path);
    let cases: [(&str, Make, &str); 4] = [
        (
            "a directory",
            &|d| std::fs::create_dir(d.join("device.owm")).unwrap(),
            "is a directory",
        ),
        (
            "a pipe",
            &|d| {
                let made = Command::new("mkfifo").arg(d.join("device.owm")).status();
                assert!(made.unwrap().success());
            },
            "not a regular file",
        ),
        (
            "a dangling link",
            &|d| std::os::unix::fs::symlink(d.join("gone"), d.join("device.owm")).unwrap(),
            "symbolic link to a missing file",
        ),
        (
            "missing beside an image",
            &|d| std::fs::write(d.join("image-b.img"), "x").unwrap(),
            "no device.owm, but image-b.img is here",
        ),
    ];
    for (i, (what, make, why)) in cases.iter().enumerate() {
        let dir = tmp.path().join(format!("d{i}"));
        std::fs::create_dir(&dir).unwrap();
        make(&dir);
        let o = serve(&dir);
        assert_bad_input(&o, why, what);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("--create --variant"), "{what}: {err}");
    }
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let o = serve(&empty);
    assert_bad_input(&o, "create one with --create --variant V", "empty");
}

/// A backup whose archive is complete but whose record `archive.json` cannot be
/// written (here: `archive.json` a link into a missing directory, as a full file system
/// fails it) exits 1 saying the archive at `--to` is complete, kept and unrecorded;
/// `status` and `retire` then tell one story, before and after a restart: the journal
/// records a completed archive whose record is missing, and the ways on. Once the
/// record can be written, a backup again records one and the retire passes.
#[test]
fn an_archive_that_cannot_be_recorded_is_kept_and_said_alike_by_status_and_retire() {
    if !have(&["nbdkit"]) {
        return;
    }
    for variant in ["mirroring", "logging", "cow"] {
        let mut s = Server::create(variant, BLOCKS);
        let record = s.dir().join("archive.json");
        s.device_ok(&["split"]);
        std::os::unix::fs::symlink(s.path("no-such-dir/archive.json"), &record).unwrap();
        let archive = s.path("a.img");
        let o = s.device(&["backup", "--to", archive.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{variant}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        let kept = format!(
            "the archive {} is complete ({} bytes) and kept there, but it is not recorded",
            archive.display(),
            BLOCKS * BS as u64
        );
        assert!(
            err.contains(&kept) && err.contains("io:"),
            "{variant}: {err}"
        );
        assert!(!err.contains("at path"), "{variant}: {err}");
        assert_eq!(
            std::fs::metadata(&archive).unwrap().len(),
            BLOCKS * BS as u64,
            "{variant}: the archive is whole at --to"
        );
        for restarted in [false, true] {
            let st: serde_json::Value =
                serde_json::from_str(&s.device_ok(&["status", "--json"])).unwrap();
            let ctx = format!("{variant}, restarted {restarted}: {st}");
            assert_eq!(st["phase"], "backed up", "{ctx}");
            assert_eq!(st["archive_completed"], true, "{ctx}");
            assert!(st["archive"].is_null(), "{ctx}");
            let problem = st["archive_problem"].as_str().unwrap_or_default();
            assert!(
                problem.contains(&format!("archive record {} is missing", record.display()))
                    && problem.contains("owm device backup --to FILE")
                    && problem.contains("owm device abandon"),
                "{ctx}"
            );
            let o = s.device(&["retire"]);
            assert_eq!(o.status.code(), Some(1), "{ctx}: {}", text(&o));
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(
                err.contains(problem),
                "{ctx}: the retire says otherwise: {err}"
            );
            s.kill9();
            s.restart();
        }
        std::fs::remove_file(&record).unwrap();
        s.device_ok(&["backup", "--to", archive.to_str().unwrap()]);
        let st: serde_json::Value =
            serde_json::from_str(&s.device_ok(&["status", "--json"])).unwrap();
        assert!(st["archive_problem"].is_null(), "{variant}: {st}");
        assert_eq!(
            st["archive"]["path"],
            archive.to_str().unwrap(),
            "{variant}"
        );
        s.device_ok(&["retire"]);
    }
}

/// `backup --to` and `detach --to` a file whose name has the most bytes a name can
/// have (255): both written, whole, and no temporary file left beside them.
#[test]
fn a_backup_and_detach_to_a_255_byte_name_are_written() {
    if !have(&["nbdkit"]) {
        return;
    }
    let mut s = Server::create("cow", BLOCKS);
    let out = s.path("out");
    std::fs::create_dir(&out).unwrap();
    let archive = out.join("a".repeat(255));
    let b_prime = out.join("b".repeat(255));
    s.device_ok(&["split"]);
    s.device_ok(&["backup", "--to", archive.to_str().unwrap()]);
    s.device_ok(&["retire"]);
    s.device_ok(&["detach", "--to", b_prime.to_str().unwrap()]);
    assert!(
        s.child.wait().unwrap().success(),
        "the server ends after the detach"
    );
    for f in [&archive, &b_prime] {
        assert_eq!(std::fs::metadata(f).unwrap().len(), BLOCKS * BS as u64);
    }
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        2,
        "a temporary file was left"
    );
}

/// A `--to` whose name is longer than its directory takes (256 bytes) is refused
/// before anything is copied (exit 2): the copy would otherwise mark VLUN A archived and
/// fail only at the rename, leaving a device that says its archive completed with no
/// archive anywhere. Nothing is marked, no file is left, and a backup to a name that
/// fits then completes and retires.
#[test]
fn a_backup_to_a_name_too_long_marks_nothing() {
    if !have(&["nbdkit"]) {
        return;
    }
    let mut s = Server::create("cow", BLOCKS);
    let out = s.path("out");
    std::fs::create_dir(&out).unwrap();
    s.device_ok(&["split"]);
    for op in ["backup", "detach"] {
        let too_long = out.join("c".repeat(256));
        let o = s.device(&[op, "--to", too_long.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{op}: {}", text(&o));
        assert!(text(&o).contains("256 bytes"), "{}", text(&o));
    }
    let status = s.device_ok(&["status", "--json"]);
    assert!(status.contains("\"archive_completed\":false"), "{status}");
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        0,
        "a file was left"
    );
    s.device_ok(&["backup", "--to", out.join("a").to_str().unwrap()]);
    s.device_ok(&["retire"]);
    assert!(s.terminate().success());
}

/// A served device of `variant`, block 5 of VLUN A written with 9 and flushed, split,
/// and served again with `env` (a test hook).
fn split_with_block_5(variant: &str, env: &[(&str, &str)]) -> Server {
    let mut s = Server::create(variant, BLOCKS);
    let mut a = Nbd::connect(&s.socket(), "vlun-a").unwrap();
    assert_eq!(a.write(5 * BS as u64, &block(9)).unwrap(), 0);
    assert_eq!(a.flush().unwrap(), 0);
    drop(a);
    s.device_ok(&["split"]);
    assert!(s.terminate().success());
    s.restart_env(env);
    s
}

/// `status --json` as JSON.
fn status(s: &Server) -> serde_json::Value {
    serde_json::from_str(&s.device_ok(&["status", "--json"])).unwrap()
}

/// What a backup whose archive is not in place leaves: VLUN A read-only and no
/// completed archive, said alike by `status` and the retire's refusal.
fn assert_not_archived(s: &Server, ctx: &str) {
    let st = status(s);
    assert_eq!(st["phase"], "backed up", "{ctx}: {st}");
    assert_eq!(st["archive_completed"], false, "{ctx}: {st}");
    assert!(st["archive"].is_null(), "{ctx}: {st}");
    assert!(st["archive_problem"].is_null(), "{ctx}: {st}");
    let o = s.device(&["retire"]);
    assert_eq!(o.status.code(), Some(1), "{ctx}: {}", text(&o));
    assert!(
        text(&o).contains("no backup of it has completed in this cycle"),
        "{ctx}: {}",
        text(&o)
    );
}

/// A backup again, then the retire: the archive holds VLUN A (block 5 is 9s).
fn backup_again_and_retire(s: &Server, archive: &Path, ctx: &str) {
    s.device_ok(&["backup", "--to", archive.to_str().unwrap()]);
    let bytes = std::fs::read(archive).unwrap();
    assert_eq!(bytes.len(), BLOCKS as usize * BS, "{ctx}");
    assert_eq!(&bytes[5 * BS..6 * BS], &block(9)[..], "{ctx}");
    assert_eq!(status(s)["archive_completed"], true, "{ctx}");
    s.device_ok(&["retire"]);
}

/// A backup whose copy fails midway (`OWM_FAIL_AT=backup-copy`: the archive's file
/// system full after the first block), or whose whole copy was written but whose rename
/// into place fails (`OWM_FAIL_AT=backup-rename`; a full file system at the last sync,
/// or the rename refused, fail there alike) records nothing: exit 1 naming `--to` and
/// saying nothing was written there, with the ways on; no file is left, `status` says
/// no archive completed and the retire is refused; served again, a backup completes
/// and the retire passes.
#[test]
fn a_backup_that_fails_at_its_rename_records_no_archive() {
    if !have(&["nbdkit"]) {
        return;
    }
    let cases = ["mirroring", "logging", "cow"]
        .map(|v| (v, "backup-rename"))
        .into_iter()
        .chain([("cow", "backup-copy"), ("logging", "backup-copy")]);
    for (variant, point) in cases {
        let mut s = split_with_block_5(variant, &[("OWM_FAIL_AT", point)]);
        let variant = &format!("{variant} ({point})");
        let out = s.path("out");
        std::fs::create_dir(&out).unwrap();
        let archive = out.join("a.img");
        let o = s.device(&["backup", "--to", archive.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{variant}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(&format!("cannot back up VLUN A to {}", archive.display()))
                && err.contains("nothing was written there")
                && err.contains("no archive is recorded")
                && err.contains("owm device abandon"),
            "{variant}: {err}"
        );
        if point == "backup-copy" {
            assert!(err.contains("No space left on device"), "{variant}: {err}");
        }
        assert_eq!(
            std::fs::read_dir(&out).unwrap().count(),
            0,
            "{variant}: a file was left"
        );
        assert_not_archived(&s, variant);
        assert!(s.terminate().success(), "{variant}");
        s.restart();
        assert_not_archived(&s, &format!("{variant}, served again"));
        backup_again_and_retire(&s, &archive, variant);
    }
}

/// A server killed between the rename of a backup's archive and its record
/// (`OWM_FAIL_AT=backup-record`: SIGKILL right after the rename) leaves the archive
/// whole at `--to` but unrecorded: served again (recovered from its journal), the
/// device says no archive completed and refuses the retire, never naming an archive
/// it has no record of; a backup again records one and the retire passes.
#[test]
fn a_server_killed_between_the_rename_and_the_record_records_no_archive() {
    if !have(&["nbdkit"]) {
        return;
    }
    let mut s = split_with_block_5("cow", &[("OWM_FAIL_AT", "backup-record")]);
    let archive = s.path("a.img");
    let o = s.device(&["backup", "--to", archive.to_str().unwrap()]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(!s.child.wait().unwrap().success(), "the server was killed");
    assert_eq!(
        std::fs::metadata(&archive).unwrap().len(),
        BLOCKS * BS as u64,
        "the renamed archive is whole"
    );
    s.restart();
    assert_eq!(status(&s)["recovered_from_journal"], true);
    assert_not_archived(&s, "after the kill");
    backup_again_and_retire(&s, &archive, "after the kill");
}

/// A pipe (FIFO) at the path of any of the device's files or records is refused at
/// once, exit 2, naming it: none is opened in a way that waits for the pipe's other
/// end (such an open would hang the start, out of reach of its signals).
#[test]
fn a_pipe_at_any_device_file_is_refused_at_once() {
    if !have(&["nbdkit"]) {
        return;
    }
    let mut s = Server::create("cow", BLOCKS);
    assert!(s.terminate().success());
    let names = [
        "device.owm",
        "device.owm.super",
        "image-a.img",
        "image-b.img",
        "archive.json",
        "detached.json",
        "serving.json",
    ];
    for name in names {
        let dir = s.path(&format!("fifo-{name}"));
        std::fs::create_dir(&dir).unwrap();
        for e in std::fs::read_dir(s.dir()).unwrap().flatten() {
            if e.file_type().unwrap().is_file() {
                std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
            }
        }
        let pipe = dir.join(name);
        let _ = std::fs::remove_file(&pipe);
        let made = Command::new("mkfifo").arg(&pipe).status();
        assert!(made.unwrap().success());
        let o = serve_fails(&dir, &s.path("fifo.sock"), &[]);
        assert_bad_input(&o, &format!("{}: ", pipe.display()), name);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("not a regular file"), "{name}: {err}");
        use std::os::unix::fs::FileTypeExt;
        let kept = std::fs::symlink_metadata(&pipe).unwrap().file_type();
        assert!(kept.is_fifo(), "{name}: the pipe was replaced");
    }
}

/// `owm ARGS…` from the repository root.
fn owm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_owm"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

/// Exit 2 with `needle` in the message, and the file `to` (of `dir`) not replaced.
fn refused_and_kept(o: &Output, needle: &str, to: &Path, what: &str) {
    assert_eq!(o.status.code(), Some(2), "{what}: {}", text(o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(needle) && err.contains(&to.display().to_string()),
        "{what}: wants {needle:?} naming {}: {err}",
        to.display()
    );
}

/// An output owm writes whole never replaces another device's file: an image a live
/// server holds (backup and detach `--to`, `run --json` and `--junit`, `calibrate
/// --out`) is refused (exit 2) as a live device's image, and once that server stops,
/// its images, metadata and superblock are refused as that device's files. The device
/// serves its flushed data again afterwards. (An output renamed over a live image
/// used to take its place: the server wrote on to the unlinked file, and once it
/// stopped the device was gone.)
#[test]
fn an_output_never_replaces_another_devices_file() {
    if !have(&["nbdkit"]) {
        return;
    }
    let a = Server::create("cow", BLOCKS);
    let mut b = Server::create("cow", BLOCKS);
    let mut nbd = Nbd::connect(&b.socket(), "vlun-a").unwrap();
    assert_eq!(nbd.write(0, &block(0x4b)).unwrap(), 0);
    assert_eq!(nbd.flush().unwrap(), 0);
    drop(nbd);
    a.device_ok(&["split"]);
    let bdir = b.dir();
    let before = identities(&bdir);
    let live = "is a live device's image (a running owm server holds its lock)";
    for name in ["image-a.img", "image-b.img"] {
        let to = bdir.join(name);
        let t = to.to_str().unwrap();
        let o = a.device(&["backup", "--to", t]);
        refused_and_kept(&o, live, &to, &format!("backup --to {name}"));
        let o = owm(&["run", "scenarios/fig3.toml", "--json", t]);
        refused_and_kept(&o, live, &to, &format!("run --json {name}"));
        let o = owm(&["run", "scenarios/fig3.toml", "--junit", t]);
        refused_and_kept(&o, live, &to, &format!("run --junit {name}"));
        let scratch = a.path("calibrate");
        std::fs::create_dir_all(&scratch).unwrap();
        let o = owm(&["calibrate", scratch.to_str().unwrap(), "--out", t]);
        refused_and_kept(&o, live, &to, &format!("calibrate --out {name}"));
    }
    // Detach, once A is archived and retired.
    a.device_ok(&["backup", "--to", a.path("archive.img").to_str().unwrap()]);
    a.device_ok(&["retire"]);
    let to = bdir.join("image-b.img");
    let o = a.device(&["detach", "--to", to.to_str().unwrap()]);
    refused_and_kept(&o, live, &to, "detach --to a live image");
    assert_eq!(
        identities(&bdir),
        before,
        "a live device's file was replaced"
    );

    // Stopped, B's files are still its own.
    assert!(b.terminate().success());
    let id = engine::file::inspect(
        &engine::file::DevicePaths::in_dir(&bdir),
        engine::DeviceConfig::new(engine::Variant::CopyOnWrite),
    )
    .unwrap()
    .id_text();
    for (name, needle) in [
        ("image-a.img", format!("is image A of owm device {id}")),
        ("image-b.img", format!("is image B of owm device {id}")),
        ("device.owm", "is an owm device's metadata file".to_string()),
        (
            "device.owm.super",
            "is an owm device's superblock".to_string(),
        ),
    ] {
        let to = bdir.join(name);
        let t = to.to_str().unwrap();
        let o = a.device(&["detach", "--to", t]);
        refused_and_kept(&o, &needle, &to, &format!("detach --to stopped {name}"));
        let o = owm(&["run", "scenarios/fig3.toml", "--json", t]);
        refused_and_kept(&o, &needle, &to, &format!("run --json stopped {name}"));
    }
    assert_eq!(
        identities(&bdir),
        before,
        "a stopped device's file was replaced"
    );
    b.restart();
    let mut nbd = Nbd::connect(&b.socket(), "vlun-a").unwrap();
    assert_eq!(nbd.read(0, BS as u32).unwrap().unwrap(), block(0x4b));
}

/// No output replaces or forges a device's records: its archive record
/// (`archive.json`, here of a completed backup) and its detach record
/// (`detached.json`, here absent) are refused (exit 2, naming the file) to
/// `run --json` and `--junit`, `calibrate --out`, and another device's `backup --to`
/// and `detach --to`, while the device serves and once it stopped. Nothing changes:
/// the device serves again and retires on the strength of its kept archive record.
/// (Such an output used to be written: the device then refused to serve, and the
/// record of its completed backup was gone.)
#[test]
fn an_output_never_replaces_or_forges_a_devices_records() {
    if !have(&["nbdkit"]) {
        return;
    }
    let a = Server::create("cow", BLOCKS);
    let mut b = Server::create("cow", BLOCKS);
    b.device_ok(&["split"]);
    b.device_ok(&["backup", "--to", b.path("b-archive.img").to_str().unwrap()]);
    let bdir = b.dir();
    let record = bdir.join("archive.json");
    let kept = std::fs::read(&record).unwrap();
    let scratch = a.path("calibrate");
    std::fs::create_dir_all(&scratch).unwrap();
    let scratch = scratch.to_str().unwrap().to_string();
    for stopped in [false, true] {
        for (name, needle) in [
            ("archive.json", "archive record (archive.json)"),
            ("detached.json", "detach record (detached.json)"),
        ] {
            let to = bdir.join(name);
            let t = to.to_str().unwrap();
            let what = |w: &str| format!("{w} {name} (stopped: {stopped})");
            let o = owm(&["run", "scenarios/fig3.toml", "--json", t]);
            refused_and_kept(&o, needle, &to, &what("run --json"));
            let o = owm(&["run", "scenarios/fig3.toml", "--junit", t]);
            refused_and_kept(&o, needle, &to, &what("run --junit"));
            let o = owm(&["calibrate", &scratch, "--out", t]);
            refused_and_kept(&o, needle, &to, &what("calibrate --out"));
            let o = a.device(&["backup", "--to", t]);
            refused_and_kept(&o, needle, &to, &what("backup --to"));
            let o = a.device(&["detach", "--to", t]);
            refused_and_kept(&o, needle, &to, &what("detach --to"));
            assert_eq!(std::fs::read(&record).unwrap(), kept, "{name}");
            assert!(!bdir.join("detached.json").exists(), "{name}");
        }
        if !stopped {
            assert!(b.terminate().success());
        }
    }
    b.restart();
    b.device_ok(&["retire"]);
}

/// The server's refusal of a backup or detach, under `--json`, carries its `--to` as
/// `path`, the path itself (a tab as JSON holds it), while the message shows it
/// escaped (`\x09`).
#[test]
fn a_refused_copy_in_json_carries_its_path() {
    if !have(&["nbdkit"]) {
        return;
    }
    let s = Server::create("cow", BLOCKS);
    let to = s.path("rec\tord.bak");
    for op in ["backup", "detach"] {
        let o = s.device(&[op, "--to", to.to_str().unwrap(), "--json"]);
        assert_eq!(o.status.code(), Some(1), "{op}: {}", text(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["ok"], false, "{op}: {v}");
        assert_eq!(v["kind"], "out-of-order", "{op}: {v}");
        assert_eq!(v["path"], to.to_str().unwrap(), "{op}: {v}");
        assert!(!to.exists(), "{op}");
    }
    let o = s.device(&["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v.get("path").is_none(), "{v}");
}
