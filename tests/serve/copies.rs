//! Whether a device's files were closed cleanly: `owm serve` says at the open when they
//! were not (the server was killed, or the files are a copy taken while it served), and
//! serves them, recovering from the journal; a clean stop leaves no such notice.

use std::process::Command;

use super::client::Nbd;
use super::harness::{have, run_ok, Server};

const NOTICE: &str = "the device's files were not closed cleanly";

fn write_flushed(s: &Server, byte: u8) {
    let mut c = Nbd::connect(&s.socket(), "vlun-a").unwrap();
    assert_eq!(c.write(0, &vec![byte; 4096]).unwrap(), 0);
    assert_eq!(c.flush().unwrap(), 0);
}

/// A start after a clean stop (SIGTERM) says nothing; one after `kill -9` says the
/// files were not closed cleanly, and serves the flushed write; a directory copied
/// with `cp -a` while served says it too when the copy is served, and a clean stop of
/// it then clears the notice for its next start.
#[test]
fn a_start_says_when_the_files_were_not_closed_cleanly() {
    if !have(&["nbdkit"]) {
        return;
    }
    let mut s = Server::create_logged("cow", 16);
    assert!(!s.log().contains(NOTICE), "{}", s.log());
    write_flushed(&s, 0x11);
    assert!(s.dir().join("serving.json").is_file());
    assert!(s.terminate().success());
    assert!(!s.dir().join("serving.json").exists());
    s.restart_logged();
    assert!(!s.log().contains(NOTICE), "after a clean stop: {}", s.log());
    write_flushed(&s, 0x22);
    let copy = tempfile::tempdir().unwrap();
    run_ok(
        Command::new("cp")
            .arg("-a")
            .arg(s.dir())
            .arg(copy.path().join("dev")),
    );
    s.kill9();
    s.restart_logged();
    assert!(s.log().contains(NOTICE), "after kill -9: {}", s.log());
    let mut c = Nbd::connect(&s.socket(), "vlun-a").unwrap();
    assert_eq!(c.read(0, 4096).unwrap(), Ok(vec![0x22; 4096]));
    drop(c);
    assert!(s.terminate().success());
    let mut hot = Server::serve_logged(copy);
    assert!(
        hot.log().contains(NOTICE),
        "a copy taken while served: {}",
        hot.log()
    );
    assert!(hot.terminate().success());
    hot.restart_logged();
    assert!(!hot.log().contains(NOTICE), "{}", hot.log());
}

/// What a start mends without refusing the files is said, with the cause told by how
/// the server stopped: bytes appended to `device.owm` and a damaged superblock copy
/// after a clean stop are damage (the data is served as flushed); the next start,
/// after the repair, says nothing.
#[test]
fn a_start_says_what_it_mended_and_why() {
    if !have(&["nbdkit"]) {
        return;
    }
    let mut s = Server::create_logged("cow", 16);
    write_flushed(&s, 0x33);
    assert!(s.terminate().success());
    let meta = s.dir().join("device.owm");
    let mut bytes = std::fs::read(&meta).unwrap();
    bytes.extend_from_slice(&[0x5A; 5]);
    std::fs::write(&meta, bytes).unwrap();
    let sb = s.dir().join("device.owm.super");
    let mut copies = std::fs::read(&sb).unwrap();
    copies[70] ^= 0x01;
    std::fs::write(&sb, copies).unwrap();
    s.restart_logged();
    let log = s.log();
    assert!(
        log.contains(
            "device.owm held 5 bytes past its last whole record (the device was stopped cleanly"
        ),
        "{log}"
    );
    assert!(
        log.contains(
            "device.owm.super was not two whole copies of successive writes (one damaged or \
             missing, bytes after them, or a copy of another write put back: the device was \
             stopped cleanly"
        ),
        "{log}"
    );
    assert!(!log.contains(NOTICE), "{log}");
    let mut c = Nbd::connect(&s.socket(), "vlun-a").unwrap();
    assert_eq!(c.read(0, 4096).unwrap(), Ok(vec![0x33; 4096]));
    drop(c);
    assert!(s.terminate().success());
    s.restart_logged();
    assert!(!s.log().contains("note: "), "{}", s.log());
}
