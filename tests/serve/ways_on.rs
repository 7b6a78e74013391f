//! The ways on from a backup cycle that cannot be retired as is: an archive file lost
//! after it was recorded (the retire refuses and keeps VLUN A), a backup that failed
//! on a rotted block, and a pull backup over NBD that records nothing (`owm device
//! abandon` drops VLUN A without an archive, and VLUN B serves on).

use super::client::{Nbd, EIO};
use super::harness::{have, text, Server};

const BLOCKS: u64 = 64;
const BS: usize = 4096;

fn block(byte: u8) -> Vec<u8> {
    vec![byte; BS]
}

fn read_block(c: &mut Nbd, b: u64) -> Result<Vec<u8>, u32> {
    c.read(b * BS as u64, BS as u32).expect("connection alive")
}

fn write_block(c: &mut Nbd, b: u64, byte: u8) {
    assert_eq!(c.write(b * BS as u64, &block(byte)).unwrap(), 0);
    assert_eq!(c.flush().unwrap(), 0);
}

fn status(s: &Server) -> serde_json::Value {
    serde_json::from_str(&s.device_ok(&["status", "--json"])).expect("status is JSON")
}

/// A refused retire: exit 1, `kind` on stderr, and both ways on named.
fn retire_refused(s: &Server, kind: &str, needle: &str) -> String {
    let o = s.device(&["retire"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.contains(&format!("{kind}: ")), "{err}");
    assert!(err.contains(needle), "{err}");
    assert!(
        err.contains("owm device backup --to FILE") && err.contains("owm device abandon"),
        "the refusal names both ways on: {err}"
    );
    err
}

/// A change made to a file.
type Damage = fn(&std::path::Path);

/// A recorded archive removed, cut short, grown, replaced by another file of its
/// length (renamed over it, or a link to it) or written after the backup: `status` says
/// what is wrong with it, naming the file; the retire is refused (`archive-lost`,
/// exit 1) and VLUN A stays whole; a new backup records a whole archive again and the
/// retire then goes through.
#[test]
fn a_lost_or_resized_archive_is_said_by_status_and_refuses_the_retire() {
    if !have(&["nbdkit"]) {
        return;
    }
    let damages: [(&str, Damage); 6] = [
        ("removed", |p| std::fs::remove_file(p).unwrap()),
        ("truncated", |p| {
            std::fs::OpenOptions::new()
                .write(true)
                .open(p)
                .unwrap()
                .set_len(BS as u64)
                .unwrap()
        }),
        ("extended", |p| {
            std::fs::OpenOptions::new()
                .write(true)
                .open(p)
                .unwrap()
                .set_len((BLOCKS + 1) * BS as u64)
                .unwrap()
        }),
        // Of the same length: another file renamed over it, a link to another file,
        // the file itself written later.
        ("replaced", |p| {
            let other = p.with_extension("other");
            std::fs::write(&other, vec![0u8; BLOCKS as usize * BS]).unwrap();
            std::fs::rename(&other, p).unwrap();
        }),
        ("linked", |p| {
            let other = p.with_extension("zeros");
            std::fs::write(&other, vec![0u8; BLOCKS as usize * BS]).unwrap();
            std::fs::remove_file(p).unwrap();
            std::os::unix::fs::symlink(&other, p).unwrap();
        }),
        ("modified", |p| {
            use std::io::{Seek, Write};
            let mut f = std::fs::OpenOptions::new().write(true).open(p).unwrap();
            f.seek(std::io::SeekFrom::Start(5 * BS as u64)).unwrap();
            f.write_all(&[0x33; 16]).unwrap();
            // Later than the backup's own write, whatever the clock's granularity.
            let later =
                f.metadata().unwrap().modified().unwrap() + std::time::Duration::from_secs(2);
            f.set_modified(later).unwrap();
        }),
    ];
    for (what, damage) in damages {
        let s = Server::create("cow", BLOCKS);
        let mut a = Nbd::connect(&s.socket(), "vlun-a").unwrap();
        write_block(&mut a, 5, 0x11);
        drop(a);
        s.device_ok(&["split"]);
        let mut b = Nbd::connect(&s.socket(), "vlun-b").unwrap();
        write_block(&mut b, 5, 0x22);
        let archive = s.path("a.img");
        let to = archive.to_str().unwrap();
        s.device_ok(&["backup", "--to", to]);
        let st = status(&s);
        assert_eq!(
            st["archive_problem"],
            serde_json::Value::Null,
            "{what}: {st}"
        );
        damage(&archive);
        let st = status(&s);
        let problem = st["archive_problem"].as_str().unwrap_or_default();
        assert!(problem.contains(to), "{what}: status names the file: {st}");
        let err = retire_refused(&s, "archive-lost", to);
        assert!(err.contains("only whole copy"), "{what}: {err}");
        // Under --json the refusal names the archive in `path`, as a backup's does its --to.
        let o = s.device(&["retire", "--json"]);
        assert_eq!(o.status.code(), Some(1), "{what}: {}", text(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["kind"], "archive-lost", "{what}: {v}");
        assert_eq!(v["path"], to, "{what}: {v}");
        assert_eq!(status(&s)["phase"], "backed up", "{what}");
        let mut a = Nbd::connect(&s.socket(), "vlun-a").unwrap();
        assert_eq!(
            read_block(&mut a, 5),
            Ok(block(0x11)),
            "{what}: VLUN A kept"
        );
        drop(a);
        s.device_ok(&["backup", "--to", to]);
        s.device_ok(&["retire"]);
        assert_eq!(read_block(&mut b, 5), Ok(block(0x22)), "{what}");
    }
}

/// Integrity mode, cow: a block of image B rotted while the server was stopped makes
/// the backup fail, and the retire is then refused naming both ways on; `owm device
/// abandon` drops VLUN A, the phase is `retired`, and the rotted block can be written
/// whole through VLUN B and read back (before, that write failed: cow had to preserve
/// the rotted old block for VLUN A).
#[test]
fn a_backup_failed_on_a_rotted_block_is_left_by_abandoning_vlun_a() {
    if !have(&["nbdkit"]) {
        return;
    }
    use std::io::{Read, Seek, SeekFrom, Write};
    let mut s = Server::create_logged_with("cow", BLOCKS, &["--integrity"]);
    let mut a = Nbd::connect(&s.socket(), "vlun-a").unwrap();
    for i in 0..BLOCKS {
        write_block(&mut a, i, 0x11);
    }
    drop(a);
    s.device_ok(&["split"]);
    assert!(s.terminate().success());
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(s.dir().join("image-b.img"))
        .unwrap();
    let at = 10 * BS as u64 + 100;
    let mut byte = [0u8];
    f.seek(SeekFrom::Start(at)).unwrap();
    f.read_exact(&mut byte).unwrap();
    f.seek(SeekFrom::Start(at)).unwrap();
    f.write_all(&[byte[0] ^ 0x01]).unwrap();
    f.sync_all().unwrap();
    drop(f);
    s.restart_logged();
    let archive = s.path("a.img");
    let o = s.device(&["backup", "--to", archive.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    retire_refused(&s, "out-of-order", "no backup of it has completed");
    let mut b = Nbd::connect(&s.socket(), "vlun-b").unwrap();
    assert_eq!(
        b.write(10 * BS as u64, &block(0x33)).unwrap(),
        EIO,
        "cow cannot preserve the rotted block for VLUN A"
    );
    s.device_ok(&["abandon"]);
    let st = status(&s);
    assert_eq!(st["phase"], "retired", "{st}");
    assert_eq!(st["archive_completed"], false, "{st}");
    write_block(&mut b, 10, 0x33);
    assert_eq!(read_block(&mut b, 10), Ok(block(0x33)));
    assert_eq!(read_block(&mut b, 11), Ok(block(0x11)));
    drop(b);
    // A usable device: a new cycle runs to its end.
    s.device_ok(&["split"]);
    s.device_ok(&["backup", "--to", archive.to_str().unwrap()]);
    s.device_ok(&["retire"]);
}

/// After a pull backup (VLUN A read over NBD), the retire is refused saying a pull
/// backup is not recorded and naming both ways on; `abandon` then drops VLUN A, and
/// VLUN B serves its own writes and VLUN A's blocks it never wrote, every variant;
/// `vlun-a` is refused from then on, and a second `abandon` is out of order.
#[test]
fn a_split_device_abandoned_serves_vlun_b_with_its_data() {
    if !have(&["nbdkit"]) {
        return;
    }
    for variant in ["mirroring", "logging", "cow"] {
        let s = Server::create(variant, BLOCKS);
        let mut a = Nbd::connect(&s.socket(), "vlun-a").unwrap();
        write_block(&mut a, 1, 0x11);
        write_block(&mut a, 2, 0x12);
        drop(a);
        s.device_ok(&["split"]);
        let mut b = Nbd::connect(&s.socket(), "vlun-b").unwrap();
        write_block(&mut b, 2, 0x22);
        write_block(&mut b, 3, 0x23);
        let mut pull = Nbd::connect(&s.socket(), "vlun-a").unwrap();
        assert_eq!(read_block(&mut pull, 2), Ok(block(0x12)), "{variant}");
        drop(pull);
        retire_refused(&s, "out-of-order", "pull backup");
        s.device_ok(&["abandon"]);
        assert_eq!(status(&s)["phase"], "retired", "{variant}");
        for (i, byte) in [(1, 0x11), (2, 0x22), (3, 0x23), (4, 0)] {
            assert_eq!(
                read_block(&mut b, i),
                Ok(block(byte)),
                "{variant}: block {i}"
            );
        }
        write_block(&mut b, 4, 0x24);
        assert_eq!(read_block(&mut b, 4), Ok(block(0x24)), "{variant}");
        assert!(Nbd::connect(&s.socket(), "vlun-a").is_err(), "{variant}");
        let o = s.device(&["abandon"]);
        assert_eq!(o.status.code(), Some(1), "{variant}: {}", text(&o));
        assert!(text(&o).contains("out-of-order"), "{variant}: {}", text(&o));
    }
}
