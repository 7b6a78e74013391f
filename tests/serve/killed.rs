//! A server that dies during a request: `owm device` says the server closed the
//! connection without replying (exit 1), and the temporary file a killed backup or
//! detach left beside its target is removed by the next backup or detach to that
//! target, while a live writer's is kept.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::harness::{have, long_stream_byte, text, Server};

const BS: usize = 4096;

/// The names in `dir` of the temporary files of `name` (`.NAME.*.tmp`), sorted.
fn temporaries(dir: &Path, name: &str) -> Vec<String> {
    let mut t: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!(".{name}.")) && n.ends_with(".tmp"))
        .collect();
    t.sort();
    t
}

/// `owm device backup --to ARCHIVE` of the server `s` started, returned once its
/// temporary file beside `archive` has data or `archive` is in place (a stream that
/// completed first), or after 20 s.
fn backup_streaming(s: &Server, archive: &Path) -> std::process::Child {
    let dir = archive.parent().unwrap();
    let name = archive.file_name().unwrap().to_str().unwrap();
    let client = Command::new(env!("CARGO_BIN_EXE_owm"))
        .args(["device", "backup", "--to"])
        .arg(archive)
        .arg("--dir")
        .arg(s.dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let streaming = || {
        temporaries(dir, name)
            .iter()
            .any(|n| std::fs::metadata(dir.join(n)).is_ok_and(|m| m.len() > 0))
    };
    for _ in 0..20_000 {
        if streaming() || archive.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    client
}

/// A stand-in for the server on a control socket in a temporary directory: it accepts
/// one connection, reads the request line, writes `reply` (nothing, for a server that
/// dies) and closes. Returns the directory and the socket.
fn one_shot_server(
    reply: &'static [u8],
) -> (tempfile::TempDir, PathBuf, std::thread::JoinHandle<String>) {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("control.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let t = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut line = String::new();
        BufReader::new(&stream).read_line(&mut line).unwrap();
        (&stream).write_all(reply).unwrap();
        line
    });
    (dir, sock, t)
}

fn owm_device(args: &[&str], control: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_owm"))
        .arg("device")
        .args(args)
        .arg("--control")
        .arg(control)
        .output()
        .unwrap()
}

/// A server that closes the control connection without a byte of reply: exit 1 with
/// what happened and what to check, not a complaint about an empty reply; for a backup
/// or detach also what became of `--to`.
#[test]
fn a_server_gone_without_a_reply_is_refused_saying_so() {
    for op in ["status", "backup", "detach"] {
        let (dir, sock, server) = one_shot_server(b"");
        let to = dir.path().join("a.img");
        let mut args = vec![op];
        if op != "status" {
            args.extend(["--to", to.to_str().unwrap()]);
        }
        let o = owm_device(&args, &sock);
        let request = server.join().unwrap();
        assert!(request.contains(&format!("\"op\":\"{op}\"")), "{request}");
        assert_eq!(o.status.code(), Some(1), "{op}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(&format!(
                "the server closed the control connection without replying: it stopped or \
                 crashed during `{op}`"
            )) && err.contains("owm device status"),
            "{op}: {err}"
        );
        assert!(!err.contains("not a JSON reply"), "{op}: {err}");
        assert!(!err.contains("panicked"), "{op}: {err}");
        let copy = format!("{} was not written unless", to.display());
        if op == "status" {
            assert!(!err.contains("was not written"), "{err}");
        } else {
            assert!(
                err.contains(&copy) && err.contains("(.a.img.XXXXXX.tmp) is removed by the next"),
                "{op}: {err}"
            );
        }
        assert!(!to.exists());
    }
}

/// A reply that is there but not JSON is still reported as such (exit 1).
#[test]
fn a_reply_that_is_not_json_is_refused_quoting_it() {
    let (_dir, sock, server) = one_shot_server(b"garbage\n");
    let o = owm_device(&["status"], &sock);
    server.join().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("not a JSON reply: \"garbage\\n\""), "{err}");
    assert!(!err.contains("without replying"), "{err}");
}

/// A file named as a temporary file of `to`, held locked by this process as a live
/// writer holds its own (released when dropped).
fn live_writer(dir: &Path, name: &str) -> (PathBuf, std::fs::File) {
    let p = dir.join(name);
    let f = std::fs::File::create(&p).unwrap();
    f.try_lock().unwrap();
    (p, f)
}

/// The JSON reply's `stale_removed`, as file names.
fn stale_removed(reply: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(reply.trim()).unwrap();
    let mut names: Vec<String> = v["stale_removed"]
        .as_array()
        .unwrap_or_else(|| panic!("no stale_removed in {reply}"))
        .iter()
        .map(|p| {
            Path::new(p.as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// `kill -9` of the server while it streams a backup leaves the partial archive as a
/// temporary file beside the target and the client says the server closed the
/// connection; the next backup to that target removes it (and any other unlocked one),
/// keeps a live writer's, and writes the whole archive. The same for a detach.
#[test]
fn a_killed_backups_temporary_is_removed_by_the_next_and_a_live_one_kept() {
    if !have(&["nbdkit"]) {
        return;
    }
    // 64 MiB: a stream long enough to be caught part way.
    let blocks = 16384u64;
    let mut s = Server::split_long_stream(blocks);
    let want = long_stream_byte;
    let dir = s.tmp.path().to_path_buf();
    let archive = s.path("a.img");
    let to = archive.to_str().unwrap().to_string();

    // The server killed once the backup's temporary file has data. A stream that
    // completed before the kill landed (the archive is in place): then another try.
    let mut killed = None;
    for _ in 0..3 {
        let client = backup_streaming(&s, &archive);
        s.kill9();
        let out = client.wait_with_output().unwrap();
        let left = temporaries(&dir, "a.img");
        if !archive.exists() && left.len() == 1 {
            killed = Some((out, left[0].clone()));
            s.restart();
            break;
        }
        assert!(out.status.success(), "backup: {}", text(&out));
        eprintln!("the backup completed before the kill; once more");
        let _ = std::fs::remove_file(&archive);
        s.restart();
    }
    let (client, left) = killed.expect("the backup was never caught part way in 3 tries");
    assert_eq!(client.status.code(), Some(1), "{}", text(&client));
    let err = String::from_utf8_lossy(&client.stderr);
    assert!(
        err.contains("closed the control connection without replying")
            && err.contains("during `backup`")
            && err.contains(&format!("{to} was not written unless")),
        "{err}"
    );
    assert!(
        std::fs::metadata(dir.join(&left)).unwrap().len() > 0,
        "{left}"
    );

    // Beside it, one more a killed writer left and one a live writer holds.
    std::fs::write(dir.join(".a.img.St4leQ.tmp"), b"partial").unwrap();
    let (live, lock) = live_writer(&dir, ".a.img.L1veQQ.tmp");
    let reply = s.device_ok(&["backup", "--to", &to, "--json"]);
    let mut want_removed = vec![left.clone(), ".a.img.St4leQ.tmp".to_string()];
    want_removed.sort();
    assert_eq!(stale_removed(&reply), want_removed, "{reply}");
    assert_eq!(
        temporaries(&dir, "a.img"),
        vec![".a.img.L1veQQ.tmp".to_string()]
    );
    assert!(live.exists());
    let bytes = std::fs::read(&archive).unwrap();
    assert_eq!(bytes.len() as u64, blocks * BS as u64, "the archive is cut");
    for i in 0..blocks {
        let got = &bytes[i as usize * BS..(i as usize + 1) * BS];
        assert!(got.iter().all(|&x| x == want(i)), "archive block {i}");
    }
    // Without stale files the human reply says none were removed.
    drop(lock);
    std::fs::remove_file(&live).unwrap();
    let o = s.device_ok(&["backup", "--to", &to]);
    assert!(o.lines().any(|l| l == "stale_removed: none"), "{o}");

    // A detach: the same.
    s.device_ok(&["retire"]);
    let b = s.path("b.img");
    std::fs::write(dir.join(".b.img.St4leQ.tmp"), b"partial").unwrap();
    let (live, _lock) = live_writer(&dir, ".b.img.L1veQQ.tmp");
    let reply = s.device_ok(&["detach", "--to", b.to_str().unwrap(), "--json"]);
    assert_eq!(
        stale_removed(&reply),
        vec![".b.img.St4leQ.tmp".to_string()],
        "{reply}"
    );
    assert_eq!(
        temporaries(&dir, "b.img"),
        vec![".b.img.L1veQQ.tmp".to_string()]
    );
    assert!(live.exists());
    assert!(s.child.wait().unwrap().success());
    let bytes = std::fs::read(&b).unwrap();
    assert_eq!(bytes.len() as u64, blocks * BS as u64, "B' is cut");
    for i in 0..blocks {
        let got = &bytes[i as usize * BS..(i as usize + 1) * BS];
        assert!(got.iter().all(|&x| x == want(i)), "B' block {i}");
    }
}

/// A graceful stop (SIGTERM) while a backup streams removes the backup's temporary
/// file: nothing is left beside `--to`, no archive is there, and the client says the
/// server closed the connection. A backup that completed before the stop landed is
/// tried once more.
#[test]
fn a_graceful_stop_mid_backup_removes_its_temporary_file() {
    if !have(&["nbdkit"]) {
        return;
    }
    let blocks = 16384u64;
    let mut s = Server::split_long_stream(blocks);
    let dir = s.tmp.path().to_path_buf();
    let archive = s.path("a.img");
    for _ in 0..3 {
        let client = backup_streaming(&s, &archive);
        let stopped = s.terminate();
        let out = client.wait_with_output().unwrap();
        assert!(stopped.success(), "the server stops cleanly: {stopped}");
        assert_eq!(
            temporaries(&dir, "a.img"),
            Vec::<String>::new(),
            "a graceful stop leaves no temporary file: {}",
            text(&out)
        );
        if !archive.exists() {
            assert_eq!(out.status.code(), Some(1), "{}", text(&out));
            return;
        }
        assert!(out.status.success(), "backup: {}", text(&out));
        eprintln!("the backup completed before the stop; once more");
        std::fs::remove_file(&archive).unwrap();
        s.restart();
    }
    panic!("every backup completed before the stop landed");
}
