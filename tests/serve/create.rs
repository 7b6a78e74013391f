//! `owm serve DIR --create` over an existing device: every check that can refuse the
//! start runs before the device in DIR is touched, so a refused start (nbdkit or the
//! plugin not found, the socket busy, the old device held by a live server) leaves the
//! old device's files byte for byte as they were, and the old device serves its data
//! again afterwards.

use std::path::Path;
use std::process::{Command, Output};

use super::client::Nbd;
use super::harness::{have, plugin, text, Server};

const BLOCKS: u64 = 16;
const BS: usize = 4096;

/// Every entry of `dir` but the control socket, with its bytes (a directory's as
/// empty): what a refused create must leave as it was.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut all: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "control.sock")
        .map(|n| {
            let bytes = std::fs::read(dir.join(&n)).unwrap_or_default();
            (n, bytes)
        })
        .collect();
    all.sort();
    all
}

/// `owm serve DIR --create --variant logging --socket SOCKET EXTRA…` under `env`,
/// expected to refuse.
fn create(dir: &Path, socket: &Path, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let plugin = plugin();
    let mut c = Command::new(env!("CARGO_BIN_EXE_owm"));
    c.arg("serve")
        .arg(dir)
        .args(["--create", "--variant", "logging", "--size-bytes", "8192"])
        .arg("--socket")
        .arg(socket)
        .args(extra)
        .env("OWM_NBDKIT_PLUGIN", &plugin);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// A directory holding an `nbdkit` that runs shell command `dump` for `--dump-plugin`
/// and `serve` otherwise (`$real` is the real nbdkit): `PATH` with it first, to pass
/// as the environment.
fn fake_nbdkit(dir: &Path, dump: &str, serve: &str) -> String {
    let real = String::from_utf8(
        Command::new("sh")
            .args(["-c", "command -v nbdkit"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    std::fs::create_dir_all(dir).unwrap();
    let script = format!(
        "#!/bin/sh\nreal={}\nif [ \"$1\" = --dump-plugin ]; then {dump}; else {serve}; fi\n",
        real.trim()
    );
    std::fs::write(dir.join("nbdkit"), script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("nbdkit"), std::fs::Permissions::from_mode(0o755)).unwrap();
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// `owm serve DIR --socket SOCKET` (no `--create`: the device in DIR) under `env`,
/// expected to refuse.
fn start(dir: &Path, socket: &Path, env: &[(&str, &str)]) -> Output {
    start_with(dir, socket, &[], env)
}

/// [`start`] with `--control CONTROL`.
fn start_control(dir: &Path, socket: &Path, control: &Path, env: &[(&str, &str)]) -> Output {
    start_with(
        dir,
        socket,
        &["--control".as_ref(), control.as_os_str()],
        env,
    )
}

/// [`start`] with the arguments `extra` after `--socket SOCKET`.
fn start_with(
    dir: &Path,
    socket: &Path,
    extra: &[&std::ffi::OsStr],
    env: &[(&str, &str)],
) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_owm"));
    c.arg("serve")
        .arg(dir)
        .arg("--socket")
        .arg(socket)
        .args(extra)
        .env("OWM_NBDKIT_PLUGIN", plugin());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// A cow device of [`BLOCKS`] blocks, block `i` written with byte `fill(i)` and
/// flushed, each in turn (the journal's durable length grows with each flush), then
/// its server stopped.
fn stopped_after_writes(fill: impl Fn(u64) -> u8) -> Server {
    let mut s = Server::create("cow", BLOCKS);
    let mut a = Nbd::connect(&s.socket(), "vlun-a").unwrap();
    for i in 0..BLOCKS {
        assert_eq!(a.write(i * BS as u64, &vec![fill(i); BS]).unwrap(), 0);
        assert_eq!(a.flush().unwrap(), 0);
    }
    drop(a);
    assert!(s.terminate().success());
    s
}

fn assert_refused(o: &Output, code: i32, needle: &str, what: &str) {
    assert_eq!(o.status.code(), Some(code), "{what}: {}", text(o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(needle), "{what}: wants {needle:?}: {err}");
}

#[test]
fn a_refused_create_leaves_the_old_device_as_it_was() {
    if !have(&["nbdkit"]) {
        return;
    }
    let mut s = stopped_after_writes(|i| 0xab ^ i as u8);
    let dir = s.dir();
    let before = snapshot(&dir);
    let names: Vec<_> = before.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "device.owm",
            "device.owm.super",
            "image-a.img",
            "image-b.img"
        ]
    );
    let new_socket = s.path("new.sock");

    // nbdkit not on PATH.
    let o = create(&dir, &new_socket, &[], &[("PATH", "/nonexistent")]);
    assert_refused(&o, 2, "nbdkit is not installed", "nbdkit missing");
    assert!(
        snapshot(&dir) == before,
        "nbdkit missing: the old device changed"
    );

    // The plugin not found.
    let o = create(
        &dir,
        &new_socket,
        &[],
        &[("OWM_NBDKIT_PLUGIN", "/nonexistent/libowm_nbdkit.so")],
    );
    assert_refused(&o, 2, "OWM_NBDKIT_PLUGIN", "plugin missing");
    assert!(
        snapshot(&dir) == before,
        "plugin missing: the old device changed"
    );

    // A plugin file nbdkit cannot load (a broken or foreign build).
    let bad = s.path("bad.so");
    std::fs::write(&bad, b"not a plugin").unwrap();
    let o = create(
        &dir,
        &new_socket,
        &[],
        &[("OWM_NBDKIT_PLUGIN", bad.to_str().unwrap())],
    );
    assert_refused(&o, 2, "nbdkit cannot load it as a plugin", "plugin broken");
    assert!(
        snapshot(&dir) == before,
        "plugin broken: the old device changed"
    );

    // owm's plugin built from other sources (an older build left beside owm): its
    // version names another build, or none (a plugin from before versions).
    for (dump, what) in [
        (
            "$real \"$@\" | sed 's/^version=.*/version=0.1.0+0123456789abcdef/'",
            "plugin of other sources",
        ),
        (
            "$real \"$@\" | grep -v '^version='",
            "plugin without a version",
        ),
    ] {
        let path = fake_nbdkit(&s.path("stale"), dump, "exec $real \"$@\"");
        let o = create(&dir, &new_socket, &[], &[("PATH", path.as_str())]);
        assert_refused(&o, 2, "built from other sources than this owm", what);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("cargo build --release -p owm-serve"),
            "{what}: {err}"
        );
        assert!(snapshot(&dir) == before, "{what}: the old device changed");
    }

    // The same refusals of a start without --create: the device is opened (which
    // records the open in its files) only after them, so its files stay as they were.
    let stale = fake_nbdkit(
        &s.path("stale2"),
        "$real \"$@\" | grep -v '^version='",
        "exec $real \"$@\"",
    );
    for (env, code, needle) in [
        (("PATH", "/nonexistent"), 2, "nbdkit is not installed"),
        (
            ("OWM_NBDKIT_PLUGIN", "/nonexistent/libowm_nbdkit.so"),
            2,
            "OWM_NBDKIT_PLUGIN",
        ),
        (("PATH", stale.as_str()), 2, "built from other sources"),
    ] {
        let o = start(&dir, &new_socket, &[env]);
        assert_refused(&o, code, needle, needle);
        assert!(
            snapshot(&dir) == before,
            "{needle}: the device's files changed"
        );
    }
    {
        let other = Server::create("cow", 4);
        let o = start(&dir, &other.socket(), &[]);
        assert_refused(
            &o,
            1,
            "another server listens on it",
            "socket busy, no --create",
        );
        assert!(
            snapshot(&dir) == before,
            "socket busy, no --create: the device's files changed"
        );
    }
    // Each of those comparisons could fail: a start that passes every check (its
    // nbdkit then exits at once) has opened the device, and the open shows in its files.
    let quits = fake_nbdkit(&s.path("quits"), "exec $real \"$@\"", "exit 1");
    let o = start(&dir, &new_socket, &[("PATH", quits.as_str())]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        snapshot(&dir) != before,
        "an open that passed the checks left the files as they were"
    );
    let before = snapshot(&dir);

    // The socket another server listens on (exit 1, as when nbdkit cannot listen).
    let other = Server::create("cow", 4);
    let o = create(&dir, &other.socket(), &[], &[]);
    assert_refused(&o, 1, "another server listens on it", "socket busy");
    assert!(
        snapshot(&dir) == before,
        "socket busy: the old device changed"
    );
    // A file that is not a socket at the socket's path (a server's stale socket, nobody
    // listening, is removed instead: every restart of tests/serve after a kill -9).
    std::fs::write(&new_socket, b"").unwrap();
    let o = create(&dir, &new_socket, &[], &[]);
    assert_refused(&o, 1, "a file is already there", "socket path taken");
    assert!(
        snapshot(&dir) == before,
        "socket path taken: the old device changed"
    );
    std::fs::remove_file(&new_socket).unwrap();
    // A directory there is called one.
    std::fs::create_dir(&new_socket).unwrap();
    let o = create(&dir, &new_socket, &[], &[]);
    assert_refused(
        &o,
        1,
        "a directory is already there",
        "socket path a directory",
    );
    assert!(
        snapshot(&dir) == before,
        "socket path a directory: the old device changed"
    );
    std::fs::remove_dir(&new_socket).unwrap();
    drop(other);

    // The old device served: its images are locked by the live server.
    s.restart();
    let before = snapshot(&dir);
    let control = s.path("other-control.sock");
    let o = create(
        &dir,
        &new_socket,
        &["--control", control.to_str().unwrap()],
        &[],
    );
    assert_refused(&o, 2, "in use by another open device", "device served");
    assert!(
        snapshot(&dir) == before,
        "device served: the old device changed"
    );
    let names: Vec<_> = snapshot(&dir).into_iter().map(|(n, _)| n).collect();
    assert!(
        !names.iter().any(|n| n.starts_with(".owm-create-")),
        "{names:?}"
    );

    // The old device still holds its data.
    let mut a = Nbd::connect(&s.socket(), "vlun-a").unwrap();
    for i in 0..BLOCKS {
        let got = a.read(i * BS as u64, BS as u32).unwrap().unwrap();
        assert_eq!(got, vec![0xab ^ i as u8; BS], "block {i}");
    }
}

/// An nbdkit that fails to start after every check of `--create` passed (here one that
/// loads the plugin for `--dump-plugin` but exits 1 when asked to serve) costs no data:
/// the old device is kept, byte for byte, in `DIR/.owm-replaced-*`, which the message
/// names; moved back, it serves its data. A create that serves removes it.
#[test]
fn a_create_whose_nbdkit_fails_keeps_the_old_device_aside() {
    if !have(&["nbdkit"]) {
        return;
    }
    let mut s = Server::create("cow", BLOCKS);
    let dir = s.dir();
    let mut a = Nbd::connect(&s.socket(), "vlun-a").unwrap();
    assert_eq!(a.write(0, &vec![0x5a; BS]).unwrap(), 0);
    assert_eq!(a.flush().unwrap(), 0);
    drop(a);
    assert!(s.terminate().success());
    let before = snapshot(&dir);
    // nbdkit that fails to serve: the real one for --dump-plugin only.
    let path = fake_nbdkit(&s.path("fake"), "exec $real \"$@\"", "exit 1");
    let o = create(&dir, &s.path("new.sock"), &[], &[("PATH", path.as_str())]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("move its files back"), "{err}");
    let aside: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".owm-replaced-")
        })
        .map(|e| e.path())
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert!(
        snapshot(&aside[0]) == before,
        "the old device kept byte for byte"
    );
    // Moved back, the old device serves its data.
    for (name, _) in &before {
        std::fs::rename(aside[0].join(name), dir.join(name)).unwrap();
    }
    std::fs::remove_dir(&aside[0]).unwrap();
    s.restart();
    let mut a = Nbd::connect(&s.socket(), "vlun-a").unwrap();
    assert_eq!(a.read(0, BS as u32).unwrap().unwrap(), vec![0x5a; BS]);
    drop(a);
    assert!(s.terminate().success());
    // A create that serves removes the kept device once it serves (both its sockets
    // bound: stopped, it has).
    s.restart_with(&["--create", "--variant", "logging", "--size-bytes", "8192"]);
    let mut a = Nbd::connect(&s.socket(), "vlun-a").unwrap();
    assert_eq!(a.read(0, BS as u32).unwrap().unwrap(), vec![0; BS]);
    drop(a);
    assert!(s.terminate().success());
    let names: Vec<_> = snapshot(&dir).into_iter().map(|(n, _)| n).collect();
    assert!(!names.iter().any(|n| n.starts_with(".owm-")), "{names:?}");
}

/// The entries of `dir` whose names start with `prefix`.
fn entries(dir: &Path, prefix: &str) -> Vec<std::path::PathBuf> {
    let mut all: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| e.path())
        .collect();
    all.sort();
    all
}

/// A socket path no socket can be made at is refused (exit 2, naming the flag or the
/// default control socket) before the old device is moved aside: a `--control` or
/// `--socket` path longer than a Unix socket address holds (107 bytes), the default
/// `DIR/control.sock` of a long DIR, and a directory where binding fails (`/sys`, where
/// not even root makes a socket). These used to pass the checks: the old device was
/// moved aside, the server failed to bind, and the device was removed with it.
#[test]
fn a_socket_path_no_socket_can_be_made_at_is_refused_before_anything_moves() {
    if !have(&["nbdkit"]) {
        return;
    }
    let s = stopped_after_writes(|i| 0x6d ^ i as u8);
    let quits = fake_nbdkit(&s.path("quits"), "exec $real \"$@\"", "exit 1");
    let env = [("PATH", quits.as_str())];
    let long = s.path(&"c".repeat(120));
    let socket = s.path("new.sock");
    let sys = Path::new("/sys/owm-control.sock");
    let sys_refuses = std::os::unix::net::UnixListener::bind(sys).is_err();
    let mut cases = vec![
        (
            vec!["--control".into(), long.clone().into_os_string()],
            socket.clone(),
            "longer than a Unix socket path can be (107 bytes)",
        ),
        (vec![], long.clone(), "--socket"),
    ];
    if sys_refuses {
        cases.push((
            vec!["--control".into(), sys.as_os_str().to_owned()],
            socket.clone(),
            "control socket /sys/owm-control.sock: no socket can be made there",
        ));
    }
    // A DIR whose default control socket is too long; the device moved there.
    let deep = s.path(&"d".repeat(100));
    std::fs::rename(s.dir(), &deep).unwrap();
    for dir in [&deep] {
        let before = snapshot(dir);
        for (extra, sock, needle) in &cases {
            let what = format!("{extra:?} --socket {}", sock.display());
            let mut args: Vec<std::ffi::OsString> =
                ["--create", "--variant", "cow"].map(Into::into).to_vec();
            args.extend(extra.iter().cloned());
            args.extend(["--size-bytes".into(), "8192".into()]);
            let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
            let o = start_with(dir, sock, &refs, &env);
            assert_refused(&o, 2, needle, &what);
            assert!(snapshot(dir) == before, "{what}: the old device changed");
        }
        // No --control: DIR/control.sock is past 107 bytes.
        let len = dir.join("control.sock").as_os_str().len();
        for extra in [&["--create", "--variant", "cow"][..], &[]] {
            let refs: Vec<&std::ffi::OsStr> = extra.iter().map(|a| a.as_ref()).collect();
            let o = start_with(dir, &socket, &refs, &env);
            assert_refused(
                &o,
                2,
                &format!(
                    "(the default control socket, DIR/control.sock; give --control PATH): {len} \
                     bytes"
                ),
                &format!("default control {extra:?}"),
            );
            assert!(snapshot(dir) == before, "{extra:?}: the old device changed");
        }
        assert!(entries(dir, ".owm-").is_empty());
    }
}

/// A server that fails to bind its control socket after every check passed (here
/// nbdkit given a control path in a missing directory after `owm serve`'s own) keeps
/// the device a `--create` set aside: the plugin removes it only once both sockets are
/// bound. A later `owm serve DIR`, with or without `--create`, refuses to start (exit
/// 2) while it is there, naming it and how to restore or discard it, and leaves it;
/// moved back, the old device serves its data. A remnant of a create that did serve
/// (`.owm-discard-*`) is removed by the next server once it serves.
#[test]
fn a_device_set_aside_by_a_create_that_never_served_is_kept_until_restored() {
    if !have(&["nbdkit"]) {
        return;
    }
    let mut s = stopped_after_writes(|i| 0x33 ^ i as u8);
    let dir = s.dir();
    let before = snapshot(&dir);
    let unbound = fake_nbdkit(
        &s.path("unbound"),
        "exec $real \"$@\"",
        "exec $real \"$@\" control=/nonexistent/owm-control.sock",
    );
    let o = create(
        &dir,
        &s.path("new.sock"),
        &[],
        &[("PATH", unbound.as_str())],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let aside = entries(&dir, ".owm-replaced-");
    assert_eq!(aside.len(), 1, "{}", text(&o));
    assert!(
        snapshot(&aside[0]) == before,
        "the old device kept byte for byte"
    );

    // Refused while it is there, and kept.
    let quits = fake_nbdkit(&s.path("quits"), "exec $real \"$@\"", "exit 1");
    let all = snapshot(&dir);
    let kept = snapshot(&aside[0]);
    let socket = s.path("new.sock");
    for (what, o) in [
        ("plain", start(&dir, &socket, &[])),
        (
            "plain, nbdkit quits",
            start(&dir, &socket, &[("PATH", quits.as_str())]),
        ),
        ("--create", create(&dir, &socket, &[], &[])),
    ] {
        assert_refused(
            &o,
            2,
            &format!(
                "{}: holds the device an `owm serve --create` set aside",
                aside[0].display()
            ),
            what,
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("move its files back into"), "{what}: {err}");
        assert!(err.contains("to discard it, remove"), "{what}: {err}");
        assert!(snapshot(&dir) == all, "{what}: DIR changed");
        assert!(
            snapshot(&aside[0]) == kept,
            "{what}: the kept device changed"
        );
    }

    // Moved back, the old device serves its data; a served create's remnant goes.
    for (name, _) in &before {
        std::fs::rename(aside[0].join(name), dir.join(name)).unwrap();
    }
    std::fs::remove_dir(&aside[0]).unwrap();
    let remnant = dir.join(".owm-discard-x1y2z3");
    std::fs::create_dir(&remnant).unwrap();
    std::fs::write(remnant.join("image-a.img"), b"old").unwrap();
    s.restart();
    let mut a = Nbd::connect(&s.socket(), "vlun-a").unwrap();
    for i in 0..BLOCKS {
        let got = a.read(i * BS as u64, BS as u32).unwrap().unwrap();
        assert_eq!(got, vec![0x33 ^ i as u8; BS], "block {i}");
    }
    drop(a);
    assert!(s.terminate().success());
    assert!(
        entries(&dir, ".owm-").is_empty(),
        "{:?}",
        entries(&dir, ".owm-")
    );
}

/// `--tcp` listens on the address given: one beyond the loopback (`0.0.0.0`, every
/// interface) is passed to nbdkit as it is, with a note on stderr that every host that
/// reaches it can read and write the volumes (the exports have no authentication); the
/// loopback gets no note.
#[test]
fn a_tcp_address_beyond_the_loopback_is_served_with_a_note() {
    if !have(&["nbdkit"]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let fake = tmp.path().join("fake");
    // nbdkit that records its arguments and serves nothing.
    let path = fake_nbdkit(
        &fake,
        "exec $real \"$@\"",
        "echo \"$@\" > \"$(dirname \"$0\")/args\"",
    );
    for (i, (addr, note)) in [("0.0.0.0:0", true), ("127.0.0.1:0", false)]
        .into_iter()
        .enumerate()
    {
        let dir = tmp.path().join(format!("dev{i}"));
        let o = Command::new(env!("CARGO_BIN_EXE_owm"))
            .arg("serve")
            .arg(&dir)
            .args(["--create", "--variant", "cow", "--size-bytes", "8192"])
            .args(["--tcp", addr])
            .env("OWM_NBDKIT_PLUGIN", plugin())
            .env("PATH", &path)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{addr}: {}", text(&o));
        let args = std::fs::read_to_string(fake.join("args")).unwrap();
        let ip = addr.split(':').next().unwrap();
        // Port 0: the port is chosen before nbdkit starts, given to it and said.
        let port: u16 = args
            .split_once(&format!("--ipaddr {ip} --port "))
            .and_then(|(_, rest)| rest.split(' ').next()?.parse().ok())
            .unwrap_or_else(|| panic!("{addr}: {args}"));
        assert_ne!(port, 0, "{addr}: {args}");
        let err = String::from_utf8_lossy(&o.stderr);
        let chose =
            format!("note: --tcp {addr}: serving on port {port} (the port the system chose)");
        assert!(err.contains(&chose), "{addr}: {err}");
        let says = format!(
            "note: --tcp {addr} is not a loopback address: every host that reaches it can \
             read and write the volumes (the NBD exports have no authentication)"
        );
        assert_eq!(err.contains(&says), note, "{addr}: {err}");
    }
}

/// A `--control` path where something other than a stopped server's socket is (one of
/// the device's own files, a user's file, a directory, the `--socket` path) is refused
/// before the device is opened, and what is there is kept: the control socket used to
/// take the place of any file at its path, the device's image B included. A start
/// refused with a torn tail in the journal (valid: the open drops it) leaves the tail
/// too; a start that opens the device drops it.
#[test]
fn a_control_path_that_is_no_stopped_servers_socket_is_refused_and_kept() {
    if !have(&["nbdkit"]) {
        return;
    }
    let mut s = Server::create("cow", 4);
    let dir = s.dir();
    assert!(s.terminate().success());
    let socket = s.path("new.sock");
    let notes = s.path("notes.txt");
    std::fs::write(&notes, b"a user's notes").unwrap();
    let a_dir = s.path("a-dir");
    std::fs::create_dir(&a_dir).unwrap();
    // An nbdkit that exits at once: a start that is not refused ends (exit 1) instead
    // of serving.
    let quits = fake_nbdkit(&s.path("quits"), "exec $real \"$@\"", "exit 1");
    let env = [("PATH", quits.as_str())];
    let before = snapshot(&dir);
    for (control, code, needle) in [
        (dir.join("image-b.img"), 2, "one of the device's own files"),
        (
            dir.join("device.owm.super"),
            2,
            "one of the device's own files",
        ),
        (dir.join("archive.json"), 2, "one of the device's own files"),
        (
            notes.clone(),
            1,
            "a file that is not a socket is already there",
        ),
        (a_dir.clone(), 1, "a directory is already there"),
        (socket.clone(), 2, "the --socket path too"),
    ] {
        let what = control.display().to_string();
        let o = start_control(&dir, &socket, &control, &env);
        assert_refused(&o, code, needle, &what);
        assert!(
            snapshot(&dir) == before,
            "{what}: the device's files changed"
        );
    }
    assert_eq!(std::fs::read(&notes).unwrap(), b"a user's notes");
    assert!(a_dir.is_dir());

    // A torn tail: three bytes past the journal's last whole record.
    let meta = dir.join("device.owm");
    let mut torn = std::fs::read(&meta).unwrap();
    torn.extend_from_slice(&[1, 2, 3]);
    std::fs::write(&meta, &torn).unwrap();
    let before = snapshot(&dir);
    let o = start_control(&dir, &socket, &notes, &env);
    assert_refused(&o, 1, "not a socket", "torn tail, control path taken");
    let o = start(&dir, &socket, &[("PATH", "/nonexistent")]);
    assert_refused(
        &o,
        2,
        "nbdkit is not installed",
        "torn tail, nbdkit missing",
    );
    assert!(
        snapshot(&dir) == before,
        "a refused start cut the torn tail"
    );
    // The start that opens the device drops it (the comparisons above could fail).
    let o = start(&dir, &socket, &env);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(snapshot(&dir) != before, "the open changed no file");
}

/// A start refused because another server listens on its socket asks that server as
/// an NBD client that leaves before choosing an export: the live server goes on
/// serving and its log (nbdkit's) shows no error for the probe, where a connection
/// closed at once logs "write: sending newstyle handshake: Broken pipe".
#[test]
fn a_busy_socket_is_probed_without_an_error_in_the_live_servers_log() {
    if !have(&["nbdkit"]) {
        return;
    }
    let mut live = Server::create_logged("cow", 4);
    let other = tempfile::tempdir().unwrap();
    for _ in 0..3 {
        let o = create(&other.path().join("dev"), &live.socket(), &[], &[]);
        assert_refused(&o, 1, "another server listens on it", "socket busy");
    }
    let mut a = Nbd::connect(&live.socket(), "vlun-a").unwrap();
    assert_eq!(a.write(0, &[7u8; BS]).unwrap(), 0);
    assert_eq!(a.read(0, BS as u32).unwrap(), Ok(vec![7u8; BS]));
    a.disconnect();
    // Stopped and waited for, the server has written all it will.
    assert!(live.terminate().success());
    let log = live.log();
    assert!(!log.contains("error"), "the live server's log: {log}");
}

/// Another device's `device.owm.super`, or its `device.owm`, beside this device's
/// other files (the other device of this geometry, or of 512-byte blocks) is bad input
/// of `owm serve` (exit 2), naming the file and both devices, and leaves every file
/// byte for byte; never a start (a foreign superblock's shorter length would let a cut
/// of this journal through), never "cut" (a foreign journal shorter than this
/// superblock's length). An nbdkit that exits at once stands in for the server, so a
/// start that let such a file through exits 1, its open recorded in the files, rather
/// than hanging; with every file its own again that is what happens. Files of the two
/// devices two against two, and a superblock of an older version's format, are bad
/// input the same way.
#[test]
fn another_devices_superblock_or_metadata_is_refused_and_kept() {
    if !have(&["nbdkit"]) {
        return;
    }
    let s = stopped_after_writes(|_| 0x3c);
    let dir = s.dir();
    let quits = fake_nbdkit(&s.path("quits"), "exec $real \"$@\"", "exit 1");
    let env = [("PATH", quits.as_str())];
    let socket = s.path("new.sock");
    let id = |d: &Path| {
        engine::file::inspect(
            &engine::file::DevicePaths::in_dir(d),
            engine::DeviceConfig::new(engine::Variant::CopyOnWrite),
        )
        .unwrap()
        .id_text()
    };
    let ours = id(&dir);
    let size = (BLOCKS * BS as u64).to_string();
    for (name, extra) in [("same", &[][..]), ("other", &["--block-size", "512"][..])] {
        let theirs_dir = s.path(name);
        let o = Command::new(env!("CARGO_BIN_EXE_owm"))
            .arg("serve")
            .arg(&theirs_dir)
            .args(["--create", "--variant", "cow", "--size-bytes", &size])
            .args(extra)
            .arg("--socket")
            .arg(&socket)
            .env("OWM_NBDKIT_PLUGIN", plugin())
            .env("PATH", &quits)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{name}: {}", text(&o));
        let theirs = id(&theirs_dir);
        assert_ne!(theirs, ours);
        for file in ["device.owm.super", "device.owm"] {
            let kept = std::fs::read(dir.join(file)).unwrap();
            std::fs::copy(theirs_dir.join(file), dir.join(file)).unwrap();
            let before = snapshot(&dir);
            let o = start(&dir, &socket, &env);
            let what = format!("{name}'s {file}");
            assert_refused(
                &o,
                2,
                &format!(
                    "{}: does not belong to this device: belongs to device {theirs}, not to \
                     device {ours}",
                    dir.join(file).display()
                ),
                &what,
            );
            assert!(!text(&o).contains("cut"), "{what}: {}", text(&o));
            assert!(
                snapshot(&dir) == before,
                "{what}: the device's files changed"
            );
            std::fs::write(dir.join(file), kept).unwrap();
        }
    }
    // Two against two (the other's superblock and image B): each file named with its
    // device. A superblock of the first format (20-byte copies, no device id): made by
    // an older version.
    let kept: Vec<_> = ["device.owm.super", "image-b.img"]
        .iter()
        .map(|f| (dir.join(f), std::fs::read(dir.join(f)).unwrap()))
        .collect();
    for (path, _) in &kept {
        std::fs::copy(s.path("same").join(path.file_name().unwrap()), path).unwrap();
    }
    let mut older = Vec::new();
    for seq in [1u64, 2] {
        let mut copy = seq.to_le_bytes().to_vec();
        copy.extend_from_slice(&64u64.to_le_bytes());
        let crc = crc32fast::hash(&copy);
        copy.extend_from_slice(&crc.to_le_bytes());
        older.extend_from_slice(&copy);
    }
    let theirs = id(&s.path("same"));
    let super_path = dir.join("device.owm.super");
    for (what, needle) in [
        (
            "two against two",
            format!(
                "the device's files belong to different devices ({} and {} to device {ours}; \
                 {} and {} to device {theirs})",
                dir.join("device.owm").display(),
                dir.join("image-a.img").display(),
                super_path.display(),
                dir.join("image-b.img").display(),
            ),
        ),
        (
            "an older superblock",
            format!(
                "{}: made by an older version of owm (superblock format 1, which names no \
                 device)",
                super_path.display()
            ),
        ),
    ] {
        if what == "an older superblock" {
            for (path, bytes) in &kept {
                std::fs::write(path, bytes).unwrap();
            }
            std::fs::write(&super_path, &older).unwrap();
        }
        let before = snapshot(&dir);
        let o = start(&dir, &socket, &env);
        assert_refused(&o, 2, &needle, what);
        assert!(
            snapshot(&dir) == before,
            "{what}: the device's files changed"
        );
    }
    std::fs::write(&super_path, &kept[0].1).unwrap();
    let before = snapshot(&dir);
    let o = start(&dir, &socket, &env);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        snapshot(&dir) != before,
        "an open that passed the checks left the files as they were"
    );
}

/// A `DIR/serving.json` that is a directory (the server could not record there that it
/// serves the device) is refused, exit 2, naming it, before any file of the device
/// changes, by a plain start and a `--create` alike; removed, the device serves its
/// data.
#[test]
fn a_serving_record_that_is_a_directory_is_refused_before_anything_changes() {
    if !have(&["nbdkit"]) {
        return;
    }
    let mut s = stopped_after_writes(|i| 0x5a ^ i as u8);
    let dir = s.dir();
    let marker = dir.join("serving.json");
    std::fs::create_dir(&marker).unwrap();
    let before = snapshot(&dir);
    let socket = s.path("new.sock");
    for (what, o) in [
        ("plain", start(&dir, &socket, &[])),
        ("--create", create(&dir, &socket, &[], &[])),
    ] {
        assert_refused(
            &o,
            2,
            &format!("{}: is a directory", marker.display()),
            what,
        );
        assert!(snapshot(&dir) == before, "{what}: DIR changed");
        assert!(entries(&dir, ".owm-").is_empty(), "{what}");
    }
    std::fs::remove_dir(&marker).unwrap();
    s.restart();
    let mut a = Nbd::connect(&s.socket(), "vlun-a").unwrap();
    for i in 0..BLOCKS {
        let got = a.read(i * BS as u64, BS as u32).unwrap().unwrap();
        assert_eq!(got, vec![0x5a ^ i as u8; BS], "block {i}");
    }
    drop(a);
    assert!(s.terminate().success());
}

/// The staging directory of a `--create` killed before it served (`.owm-create-*`,
/// its lock free) is removed by the next start that passes its checks; one a live
/// create holds locked is kept.
#[test]
fn a_killed_creates_staging_directory_is_removed_by_the_next_start() {
    if !have(&["nbdkit"]) {
        return;
    }
    let mut s = stopped_after_writes(|i| 0x6b ^ i as u8);
    let dir = s.dir();
    let stale = dir.join(".owm-create-k1l2m3");
    std::fs::create_dir(&stale).unwrap();
    std::fs::write(stale.join("image-a.img"), vec![0u8; 8192]).unwrap();
    std::fs::write(stale.join("device.owm"), b"OWMMETA2").unwrap();
    let live = dir.join(".owm-create-l4v5e6");
    std::fs::create_dir(&live).unwrap();
    let held = std::fs::File::open(&live).unwrap();
    held.try_lock().unwrap();
    s.restart();
    let mut a = Nbd::connect(&s.socket(), "vlun-a").unwrap();
    let got = a.read(0, BS as u32).unwrap().unwrap();
    assert_eq!(got, vec![0x6b; BS]);
    drop(a);
    assert!(s.terminate().success());
    assert_eq!(entries(&dir, ".owm-create-"), vec![live.clone()]);
    drop(held);
}
