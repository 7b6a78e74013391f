//! A clean stop of `owm serve` removes its `--socket`, and a stop asked for while it
//! starts is a clean stop too: exit 0, no staging directory left, no socket.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

use super::harness::{have, plugin, text, Server};

/// `cmd` started with SIGTERM blocked and, when `pending`, already sent (so it is
/// pending from the first instruction of the new program: the latest moment a stop
/// can come is no later than any other).
fn with_sigterm_blocked(cmd: &mut Command, pending: bool) {
    // SAFETY: the closure runs in the child between fork and exec and calls only
    // async-signal-safe functions (sigemptyset, sigaddset, sigprocmask, raise).
    unsafe {
        cmd.pre_exec(move || {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGTERM);
            if libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if pending && libc::raise(libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// The `.owm-create-*` staging directories in `dir` (none if `dir` is absent).
fn staging_dirs(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|es| {
            es.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".owm-create-"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_clean_stop_removes_its_socket_and_a_wait_on_the_file_is_then_sound() {
    if !have(&["nbdkit"]) {
        return;
    }
    let mut s = Server::create("cow", 64);
    assert!(s.socket().exists(), "serving: the socket is there");
    let status = s.terminate();
    assert_eq!(status.code(), Some(0), "SIGTERM stops the server cleanly");
    assert!(
        !s.socket().exists(),
        "{}: left by a server stopped cleanly",
        s.socket().display()
    );
    // Served again and stopped with SIGINT: the same.
    s.restart();
    assert!(s.socket().exists());
    let pid = s.child.id() as i32;
    // SAFETY: a signal to the child this test started and has not reaped.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let status = s.child.wait().expect("wait");
    assert_eq!(status.code(), Some(0), "SIGINT stops the server cleanly");
    assert!(!s.socket().exists(), "left by a server stopped by SIGINT");
    // Killed, the server leaves its socket, which the next start replaces.
    s.restart();
    s.kill9();
    assert!(
        s.socket().exists(),
        "SIGKILL: no code runs, the socket stays"
    );
    s.restart();
    assert_eq!(s.terminate().code(), Some(0));
    assert!(!s.socket().exists());
}

#[test]
fn a_stop_before_the_device_is_touched_leaves_dir_as_it_was() {
    if !have(&["nbdkit"]) {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("dev");
    let socket = tmp.path().join("nbd.sock");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_owm"));
    cmd.arg("serve")
        .arg(&dir)
        .args(["--create", "--variant", "cow", "--size-bytes", "262144"])
        .arg("--socket")
        .arg(&socket)
        .env("OWM_NBDKIT_PLUGIN", plugin())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // SIGTERM pending from the start: `owm serve` takes it as soon as its handler is
    // in place, the earliest a stop can be seen.
    with_sigterm_blocked(&mut cmd, true);
    let out = cmd.output().expect("owm serve runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("stopped by SIGTERM before serving"),
        "{}",
        text(&out)
    );
    assert!(!dir.exists(), "the directory this start made is removed");
    assert!(!socket.exists(), "nothing listened");

    // Over an existing device: nothing of it changes, no staging directory stays.
    let mut s = Server::create("cow", 64);
    assert_eq!(s.terminate().code(), Some(0));
    let meta = std::fs::read(s.dir().join("device.owm")).expect("metadata");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_owm"));
    cmd.arg("serve")
        .arg(s.dir())
        .args(["--create", "--variant", "logging", "--size-bytes", "262144"])
        .arg("--socket")
        .arg(s.socket())
        .env("OWM_NBDKIT_PLUGIN", plugin())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    with_sigterm_blocked(&mut cmd, true);
    let out = cmd.output().expect("owm serve runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        staging_dirs(&s.dir()),
        Vec::<String>::new(),
        "{}",
        text(&out)
    );
    assert_eq!(
        std::fs::read(s.dir().join("device.owm")).expect("metadata"),
        meta,
        "the old device is untouched"
    );
    assert!(!s.socket().exists());
}

/// The hand-over `owm serve` makes once it has touched the device: nbdkit started with
/// SIGTERM blocked and pending. The plugin unblocks it once nbdkit handles it: a clean
/// stop (exit 0, the final flush, the socket removed), never a kill (143).
#[test]
fn a_stop_pending_when_nbdkit_starts_is_a_clean_stop() {
    if !have(&["nbdkit"]) {
        return;
    }
    let mut s = Server::create("cow", 64);
    assert_eq!(s.terminate().code(), Some(0));
    let mut cmd = Command::new("nbdkit");
    cmd.arg("--foreground")
        .arg("--unix")
        .arg(s.socket())
        .arg(plugin())
        .arg(format!("dir={}", s.dir().display()))
        .arg(format!(
            "control={}",
            s.dir().join("control.sock").display()
        ))
        .arg(format!("socket={}", s.socket().display()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    with_sigterm_blocked(&mut cmd, true);
    let mut child = cmd.spawn().expect("nbdkit runs");
    // Bounded (20 s): a stop never taken would keep nbdkit serving for ever.
    let mut stopped = false;
    for _ in 0..2000 {
        if child.try_wait().expect("wait").is_some() {
            stopped = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    if !stopped {
        let _ = child.kill();
    }
    let out = child.wait_with_output().expect("wait");
    assert!(
        stopped,
        "the pending SIGTERM never stopped nbdkit: {}",
        text(&out)
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!s.socket().exists(), "{}", text(&out));
    assert!(
        !s.dir().join("serving.json").exists(),
        "the final flush ran: {}",
        text(&out)
    );
    // The device serves again as it was.
    s.restart();
    assert_eq!(s.terminate().code(), Some(0));
}
