//! SIGINT (Ctrl-C) and SIGTERM (a CI job cancelled or timed out, `kill`): the first
//! one asks the command to stop at the next safe point
//! (between policies of a run and inside a policy's run every
//! [`sim::PROGRESS_EVENTS`] events, inside a sweep's running grid points likewise: a
//! point stopped so is not kept, `--resume` runs it again, and between the pictures
//! and before the outputs are published; `owm calibrate` between two measured
//! operations and inside its simulator runs); the command then says what it kept, writes
//! its verdict files and exits 3 (incomplete). One that comes once the outputs are
//! published stops nothing: the command says so and exits as its work does. A second
//! one (either signal; a first SIGTERM again from the same process within a second is
//! the same request: GNU `timeout` signals the process, then its process group) ends the
//! process at once with exit 128 + its number (130 for
//! SIGINT, 143 for SIGTERM), leaving at most a staging directory the next run into the
//! same `--out` removes; except while a directory is registered with
//! [`remove_on_quit`] (`owm calibrate`'s scratch directory): a thread the handler
//! wakes then removes it and ends the process (a signal handler cannot remove a
//! directory safely).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

static REQUESTED: AtomicBool = AtomicBool::new(false);
/// The first signal received (0: none).
static SIGNAL: AtomicI32 = AtomicI32::new(0);
/// A second signal received while a directory was registered (0: none).
static QUIT: AtomicI32 = AtomicI32::new(0);
/// How many directories are registered with [`remove_on_quit`].
static REGISTERED: AtomicUsize = AtomicUsize::new(0);
static INSTALL: Once = Once::new();

/// Directories registered with [`remove_on_quit`].
static ON_QUIT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
/// The write end of the pipe the quitting thread waits on (-1: no thread yet).
static QUIT_PIPE: AtomicI32 = AtomicI32::new(-1);
static QUITTER: Once = Once::new();
/// The write end of the pipe the thread of [`on_first`] waits on (-1: none): the first
/// signal wakes it instead of asking for a stop at a safe point.
static FIRST_PIPE: AtomicI32 = AtomicI32::new(-1);

/// The process that sent the first signal with `kill` (`SI_USER`; -1: none, or the
/// terminal's Ctrl-C).
static FIRST_SENDER: AtomicI32 = AtomicI32::new(-1);
/// When the first signal came, in nanoseconds of `CLOCK_MONOTONIC`.
static FIRST_AT_NS: AtomicU64 = AtomicU64::new(0);
/// A repeat of a first SIGTERM from the same sender within this many nanoseconds is
/// the same request, not a second one: GNU `timeout` sends its signal to the process
/// and then to the process group, so the process gets it twice at once. (A second
/// SIGINT always quits: Ctrl-C twice.)
const REPEAT_NS: u64 = 1_000_000_000;

/// Nanoseconds of `CLOCK_MONOTONIC` (async-signal-safe).
fn monotonic_ns() -> u64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` is async-signal-safe and writes only `t`.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t) };
    (t.tv_sec as u64).saturating_mul(1_000_000_000) + t.tv_nsec as u64
}

/// The process that sent the signal with `kill`, from its `siginfo` (-1: none, the
/// kernel's, as the terminal's Ctrl-C).
fn sender(info: *const libc::siginfo_t) -> i32 {
    if info.is_null() {
        return -1;
    }
    // SAFETY: the kernel hands the handler a valid `siginfo_t` (SA_SIGINFO); `si_pid`
    // is read only for a signal sent by `kill` (SI_USER), which sets it.
    unsafe {
        match (*info).si_code {
            libc::SI_USER => (*info).si_pid(),
            _ => -1,
        }
    }
}

/// The handler: async-signal-safe only (atomics, `clock_gettime`, `write`, `_exit`).
extern "C" fn on_signal(sig: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    let from = sender(info);
    // The first signal's number is kept before the request is seen.
    if SIGNAL
        .compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok()
    {
        FIRST_SENDER.store(from, Ordering::SeqCst);
        FIRST_AT_NS.store(monotonic_ns(), Ordering::SeqCst);
    } else if sig == libc::SIGTERM
        && from >= 0
        && from == FIRST_SENDER.load(Ordering::SeqCst)
        && sig == SIGNAL.load(Ordering::SeqCst)
        && monotonic_ns().saturating_sub(FIRST_AT_NS.load(Ordering::SeqCst)) < REPEAT_NS
    {
        // The same request again (`timeout` signals the process, then its group).
        return;
    }
    if REQUESTED.swap(true, Ordering::SeqCst) {
        if REGISTERED.load(Ordering::SeqCst) > 0 {
            // The quitting thread removes the directory and ends the process
            // ([`quit_now`]): woken through its pipe.
            QUIT.store(sig, Ordering::SeqCst);
            let fd = QUIT_PIPE.load(Ordering::SeqCst);
            if fd >= 0 {
                // SAFETY: `write` is async-signal-safe; one static byte.
                let _ = unsafe { libc::write(fd, b"q".as_ptr().cast(), 1) };
                return;
            }
            // SAFETY: as below; no thread to wake, so the directory stays.
            unsafe { libc::_exit(128 + sig) };
        }
        // SAFETY: `_exit` is async-signal-safe; nothing is committed by this path.
        unsafe { libc::_exit(128 + sig) };
    }
    let fd = FIRST_PIPE.load(Ordering::SeqCst);
    if fd >= 0 {
        // SAFETY: `write` is async-signal-safe; one static byte.
        let _ = unsafe { libc::write(fd, b"s".as_ptr().cast(), 1) };
        return;
    }
    let said: &[u8] = if sig == libc::SIGTERM {
        b"interrupted: stopping at the next safe point (SIGTERM; a second signal quits now)\n"
    } else {
        b"interrupted: stopping at the next safe point (Ctrl-C again to quit now)\n"
    };
    // SAFETY: `write` is async-signal-safe; the buffer is a static byte string. A
    // failed write (stderr closed) changes nothing.
    let _ = unsafe { libc::write(2, said.as_ptr().cast(), said.len()) };
}

/// Installs the handler for SIGINT and SIGTERM (once; later calls do nothing).
pub fn install() {
    INSTALL.call_once(|| {
        for sig in [libc::SIGINT, libc::SIGTERM] {
            // SAFETY: a zeroed `sigaction` is valid; the handler only touches atomics
            // and calls async-signal-safe functions. SA_RESTART: a read or write the
            // signal lands in goes on.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal
                    as extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void)
                    as usize;
                action.sa_flags = libc::SA_RESTART | libc::SA_SIGINFO;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(sig, &action, std::ptr::null_mut());
            }
        }
    });
}

/// For a command with no safe point to stop at (the Explorer serving until stopped):
/// installs the handler, and on the first SIGINT or SIGTERM runs `then` with its name
/// ([`signal_name`]) on a thread of its own, woken through a pipe (a signal handler
/// may do little); `then` says so and ends the process. A second signal before it
/// does ends the process at once (128 + its number). Errors: the pipe could not be
/// made.
pub fn on_first(then: impl FnOnce(&'static str) + Send + 'static) -> std::io::Result<()> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two descriptors `pipe` writes.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let [read_end, write_end] = fds;
    std::thread::spawn(move || {
        let mut byte = 0u8;
        // SAFETY: one byte into `byte`, from the pipe's read end this thread owns; a
        // read the signal interrupts (EINTR) is tried again.
        while unsafe { libc::read(read_end, (&raw mut byte).cast(), 1) } < 0
            && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
        {}
        then(signal_name());
    });
    FIRST_PIPE.store(write_end, Ordering::SeqCst);
    install();
    Ok(())
}

/// True once SIGINT or SIGTERM has been received.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// After a second signal that found a directory registered: removes every registered
/// directory and ends the process (128 + the signal's number); else nothing.
fn quit_now() {
    let sig = QUIT.load(Ordering::SeqCst);
    if sig == 0 {
        return;
    }
    let paths = ON_QUIT.lock().unwrap_or_else(|e| e.into_inner());
    for path in paths.iter() {
        if !path.is_dir() {
            // A file (a temporary not yet put in place), or nothing there any more.
            let _ = std::fs::remove_file(path);
            continue;
        }
        // The main thread may still make a file in it meanwhile (a removal then fails
        // on the directory not empty): again until it is gone. Once it is, no file can
        // be made in it.
        for _ in 0..1000 {
            if std::fs::remove_dir_all(path).is_ok() || !path.exists() {
                break;
            }
        }
    }
    std::process::exit(128 + sig);
}

/// The signal that asked the command to stop, for its messages: `SIGTERM`, else
/// `SIGINT`.
pub fn signal_name() -> &'static str {
    if SIGNAL.load(Ordering::SeqCst) == libc::SIGTERM {
        "SIGTERM"
    } else {
        "SIGINT"
    }
}

/// Registers `dir` to be removed, with all it holds (or, when it is a file, the file),
/// if a second signal ends the process; the registration ends when the returned guard
/// is dropped (the owner then removes the directory or file itself).
pub fn remove_on_quit(dir: &Path) -> QuitRemoval {
    QUITTER.call_once(start_quitter);
    ON_QUIT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(dir.to_path_buf());
    REGISTERED.fetch_add(1, Ordering::SeqCst);
    QuitRemoval(dir.to_path_buf())
}

/// The thread a second signal wakes (a byte on its pipe; the handler itself cannot
/// remove a directory safely) to remove the registered directories and end the
/// process, wherever the main thread is blocked. Without a pipe, a second signal ends
/// the process at once.
fn start_quitter() {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two descriptors `pipe` writes.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return;
    }
    let read_end = fds[0];
    let spawned = std::thread::Builder::new()
        .name("quit".into())
        .spawn(move || loop {
            let mut byte = 0u8;
            // SAFETY: reads one byte into `byte`, from the pipe this thread owns.
            let n = unsafe { libc::read(read_end, (&mut byte as *mut u8).cast(), 1) };
            if n == 1 {
                quit_now();
            } else if n == 0 {
                return;
            }
        });
    if spawned.is_ok() {
        QUIT_PIPE.store(fds[1], Ordering::SeqCst);
    }
}

/// A directory registered with [`remove_on_quit`]: dropped, unregistered.
pub struct QuitRemoval(PathBuf);

impl Drop for QuitRemoval {
    fn drop(&mut self) {
        let mut dirs = ON_QUIT.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = dirs.iter().position(|d| *d == self.0) {
            dirs.remove(i);
            REGISTERED.fetch_sub(1, Ordering::SeqCst);
        }
    }
}
