//! Starting `owm serve` on a Unix socket in a temporary directory, and the tools.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;

/// Whether `tool` runs; prints why a test is skipped when it does not.
pub fn have(tools: &[&str]) -> bool {
    for tool in tools {
        let ok = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        if !ok {
            eprintln!("SKIPPED: `{tool}` is not installed (Debian: see .ci/run)");
            return false;
        }
    }
    true
}

/// The plugin, built once per test run (`cargo build -p owm-serve`; the integration
/// tests' own build does not build a cdylib of another package).
pub fn plugin() -> PathBuf {
    static PLUGIN: OnceLock<PathBuf> = OnceLock::new();
    PLUGIN
        .get_or_init(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let status = Command::new(cargo)
                .args(["build", "--quiet", "-p", "owm-serve"])
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .status()
                .expect("cargo runs");
            assert!(status.success(), "cargo build -p owm-serve failed");
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
            let p = target.join("debug").join("libowm_nbdkit.so");
            assert!(p.is_file(), "{} was not built", p.display());
            p
        })
        .clone()
}

/// A running `owm serve` (killed when dropped, if still running).
pub struct Server {
    pub tmp: tempfile::TempDir,
    pub child: Child,
}

impl Server {
    /// Creates a device of `variant` (`blocks` blocks of 4 KiB) and serves it.
    pub fn create(variant: &str, blocks: u64) -> Server {
        Server::create_to(variant, blocks, false)
    }

    /// [`Server::create`], the server's standard error (nbdkit's log) kept in a file
    /// ([`Server::log`]) instead of the test's.
    pub fn create_logged(variant: &str, blocks: u64) -> Server {
        Server::create_to(variant, blocks, true)
    }

    /// [`Server::create_logged`] with `extra` arguments for the new device (an
    /// `--integrity`).
    pub fn create_logged_with(variant: &str, blocks: u64, extra: &[&str]) -> Server {
        Server::create_to_with(variant, blocks, true, extra)
    }

    fn create_to(variant: &str, blocks: u64, logged: bool) -> Server {
        Server::create_to_with(variant, blocks, logged, &[])
    }

    fn create_to_with(variant: &str, blocks: u64, logged: bool, extra: &[&str]) -> Server {
        let tmp = tempfile::tempdir().expect("tempdir");
        let size = (blocks * 4096).to_string();
        let log = logged.then(|| tmp.path().join("serve.log"));
        let mut args = vec!["--create", "--variant", variant, "--size-bytes", &size];
        args.extend_from_slice(extra);
        let child = spawn_serve(tmp.path(), &args, log.as_deref());
        Server { tmp, child }
    }

    /// Serves the device in this server's directory again, its standard error kept
    /// in the log file as [`Server::create_logged`]'s (from its start: the log of the
    /// earlier run is replaced).
    pub fn restart_logged(&mut self) {
        let log = self.path("serve.log");
        self.child = spawn_serve(self.tmp.path(), &[], Some(&log));
    }

    /// What a server made by [`Server::create_logged`] wrote to its standard error.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.path("serve.log")).unwrap_or_default()
    }

    /// A cow device of `blocks` blocks of 4 KiB, every 97th written with its own byte
    /// ([`long_stream_byte`]) and flushed, then split: at 16,384 blocks (64 MiB) a
    /// backup of VLUN A streams long enough to be caught part way.
    pub fn split_long_stream(blocks: u64) -> Server {
        let s = Server::create("cow", blocks);
        let mut a = super::client::Nbd::connect(&s.socket(), "vlun-a").unwrap();
        for i in (0..blocks).step_by(97) {
            let data = vec![long_stream_byte(i); 4096];
            assert_eq!(a.write(i * 4096, &data).unwrap(), 0);
        }
        assert_eq!(a.flush().unwrap(), 0);
        drop(a);
        s.device_ok(&["split"]);
        s
    }

    /// Serves the device in `tmp`'s `dev` directory (made there by the test).
    pub fn serve(tmp: tempfile::TempDir) -> Server {
        let child = spawn_serve(tmp.path(), &[], None);
        Server { tmp, child }
    }

    /// [`Server::serve`], the server's standard error kept as [`Server::create_logged`]'s.
    pub fn serve_logged(tmp: tempfile::TempDir) -> Server {
        let log = tmp.path().join("serve.log");
        let child = spawn_serve(tmp.path(), &[], Some(&log));
        Server { tmp, child }
    }

    /// Serves the device already in this server's directory again (after a stop).
    pub fn restart(&mut self) {
        self.child = spawn_serve(self.tmp.path(), &[], None);
    }

    /// Serves the device already in this server's directory again (after a stop), with
    /// `env` added to the server's environment (a test hook such as `OWM_FAIL_AT`).
    pub fn restart_env(&mut self, env: &[(&str, &str)]) {
        self.child = spawn_serve_env(self.tmp.path(), &[], None, env);
    }

    /// Serves this server's directory again with `extra` arguments (a `--create`).
    pub fn restart_with(&mut self, extra: &[&str]) {
        self.child = spawn_serve(self.tmp.path(), extra, None);
    }

    pub fn dir(&self) -> PathBuf {
        self.tmp.path().join("dev")
    }

    pub fn socket(&self) -> PathBuf {
        self.tmp.path().join("nbd.sock")
    }

    /// The NBD URI of `export`.
    pub fn uri(&self, export: &str) -> String {
        format!("nbd+unix:///{export}?socket={}", self.socket().display())
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// `owm device OP ARGS… --dir DIR`.
    pub fn device(&self, args: &[&str]) -> Output {
        let dir = self.dir();
        Command::new(env!("CARGO_BIN_EXE_owm"))
            .arg("device")
            .args(args)
            .arg("--dir")
            .arg(&dir)
            .output()
            .expect("owm runs")
    }

    /// Like [`Server::device`], asserting success.
    pub fn device_ok(&self, args: &[&str]) -> String {
        let o = self.device(args);
        assert!(o.status.success(), "owm device {args:?}: {}", text(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// SIGKILL, and wait.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, and the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        self.child.wait().expect("wait")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.kill9();
        }
    }
}

/// `owm serve` of `tmp`'s device, its standard error to `log` (else the test's), once
/// both its sockets accept.
fn spawn_serve(tmp: &Path, extra: &[&str], log: Option<&Path>) -> Child {
    spawn_serve_env(tmp, extra, log, &[])
}

/// [`spawn_serve`] with `env` added to the server's environment.
fn spawn_serve_env(tmp: &Path, extra: &[&str], log: Option<&Path>, env: &[(&str, &str)]) -> Child {
    let dir = tmp.join("dev");
    // A killed server's socket is left where it was (a stopped one removes its own):
    // `owm serve` removes a socket nobody listens on.
    let socket = tmp.join("nbd.sock");
    let mut child = Command::new(env!("CARGO_BIN_EXE_owm"))
        .arg("serve")
        .arg(&dir)
        .arg("--socket")
        .arg(&socket)
        .args(extra)
        .env("OWM_NBDKIT_PLUGIN", plugin())
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(log.map_or_else(Stdio::inherit, |p| {
            Stdio::from(std::fs::File::create(p).expect("the server's log"))
        }))
        .spawn()
        .expect("owm serve starts");
    // Wait for both sockets to accept (bounded: 20 s), or for the server to die.
    let control = dir.join("control.sock");
    for _ in 0..2000 {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("owm serve exited early: {status}");
        }
        // The control socket first (the plugin binds it once nbdkit's socket is
        // bound), then NBD's, asked as a client that leaves politely (no error in its
        // log) and answered with a greeting: `owm serve`'s own probe of each path,
        // bound and removed before nbdkit starts, accepts too.
        let up = std::os::unix::net::UnixStream::connect(&control).is_ok()
            && super::client::listens(&socket);
        if up {
            return child;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let _ = child.kill();
    panic!("owm serve did not listen on {}", socket.display());
}

/// stdout and stderr of a finished command, for assertion messages.
/// Block `i`'s byte in a [`Server::split_long_stream`] device: every 97th block its
/// own (1-251), the others 0.
pub fn long_stream_byte(i: u64) -> u8 {
    if i.is_multiple_of(97) {
        (i % 251 + 1) as u8
    } else {
        0
    }
}

pub fn text(o: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Runs a tool, asserting success.
pub fn run_ok(cmd: &mut Command) -> String {
    let o = cmd.output().expect("tool runs");
    assert!(o.status.success(), "{cmd:?}: {}", text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `qemu-io -f raw -c C1 -c C2 … URI`, asserting success and no failed verification.
pub fn qemu_io(uri: &str, cmds: &[String]) -> String {
    let mut c = Command::new("qemu-io");
    c.args(["-f", "raw"]);
    for cmd in cmds {
        c.arg("-c").arg(cmd);
    }
    c.arg(uri);
    let out = run_ok(&mut c);
    assert!(
        !out.contains("Pattern verification failed"),
        "qemu-io {cmds:?} on {uri}:\n{out}"
    );
    out
}

/// `qemu-img compare` of two raw images: true when identical.
pub fn images_identical(a: &Path, b: &Path) -> bool {
    let o = Command::new("qemu-img")
        .args(["compare", "-f", "raw", "-F", "raw"])
        .arg(a)
        .arg(b)
        .output()
        .expect("qemu-img runs");
    o.status.success()
}
