//! SIGINT (Ctrl-C) and SIGTERM (a CI job cancelled or timed out, `kill`): the first
//! one asks the command to stop at the next safe point
//! (between policies of a run and inside a policy's run every
//! [`sim::PROGRESS_EVENTS`] events, inside a sweep's running grid points likewise: a
//! point stopped so is not kept, `--resume` runs it again, and between the pictures
//! and before the outputs are published; `owm calibrate` between two measured
//! operations and inside its simulator runs); the command then says what it kept, writes
//! its verdict files and exits 3 (incomplete). One that comes once the outputs are
//! published stops nothing: the command says so and exits as its work does. A second
//! one (either signal) ends the process at once with exit 128 + its number (130 for
//! SIGINT, 143 for SIGTERM), leaving at most a staging directory the next run into the
//! same `--out` removes; except while a directory is registered with
//! [`remove_on_quit`] (`owm calibrate`'s scratch directory): the process then ends
//! once its owner has removed it, at its next check of [`requested`] (a signal handler
//! cannot remove a directory safely).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
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

/// The handler: async-signal-safe only (atomics, `write`, `_exit`).
extern "C" fn on_signal(sig: libc::c_int) {
    // The first signal's number is kept before the request is seen.
    let _ = SIGNAL.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst);
    if REQUESTED.swap(true, Ordering::SeqCst) {
        if REGISTERED.load(Ordering::SeqCst) > 0 {
            // Its owner removes the directory and ends the process ([`quit_now`]).
            QUIT.store(sig, Ordering::SeqCst);
            return;
        }
        // SAFETY: `_exit` is async-signal-safe; nothing is committed by this path.
        unsafe { libc::_exit(128 + sig) };
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
                action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
                action.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(sig, &action, std::ptr::null_mut());
            }
        }
    });
}

/// True once SIGINT or SIGTERM has been received. A second signal that came while a
/// directory was registered ([`remove_on_quit`]) ends the process here: the registered
/// directories are removed, then exit 128 + that signal's number.
pub fn requested() -> bool {
    quit_now();
    REQUESTED.load(Ordering::SeqCst)
}

/// After a second signal that found a directory registered: removes every registered
/// directory and ends the process (128 + the signal's number); else nothing.
fn quit_now() {
    let sig = QUIT.load(Ordering::SeqCst);
    if sig == 0 {
        return;
    }
    let dirs = ON_QUIT.lock().unwrap_or_else(|e| e.into_inner());
    for dir in dirs.iter() {
        let _ = std::fs::remove_dir_all(dir);
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

/// Registers `dir` to be removed, with all it holds, if a second signal ends the
/// process (at the owner's next [`requested`]); the registration ends when the
/// returned guard is dropped (the owner then removes the directory itself).
pub fn remove_on_quit(dir: &Path) -> QuitRemoval {
    ON_QUIT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(dir.to_path_buf());
    REGISTERED.fetch_add(1, Ordering::SeqCst);
    QuitRemoval(dir.to_path_buf())
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
