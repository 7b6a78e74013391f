//! SIGINT (Ctrl-C), SIGTERM and SIGHUP: the first one asks the command to stop at the
//! next safe point (between policies of a run and inside a policy's run every
//! [`sim::PROGRESS_EVENTS`] events, inside a sweep's running grid points likewise: a
//! point stopped so is not kept, `--resume` runs it again, and between the pictures
//! and before the outputs are published; `owm calibrate` between two measured
//! operations and inside its simulator runs); the command then says what it kept and
//! exits 3 (incomplete). One that comes once the outputs are published stops nothing:
//! the command says so and exits as its work does. A second one ends the process at
//! once with exit 130 (128 + SIGINT), leaving at most a staging directory the next run
//! into the same `--out` removes; the directories registered with [`remove_on_quit`]
//! (`owm calibrate`'s scratch directory) are removed first.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Directories a second signal removes before the process ends.
static ON_QUIT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Installs the handler (once; later calls do nothing).
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        if REQUESTED.swap(true, Ordering::SeqCst) {
            let dirs = ON_QUIT.lock().unwrap_or_else(|e| e.into_inner());
            for dir in dirs.iter() {
                let _ = std::fs::remove_dir_all(dir);
            }
            std::process::exit(130);
        }
        eprintln!("interrupted: stopping at the next safe point (Ctrl-C again to quit now)");
    });
}

/// True once SIGINT (or SIGTERM, SIGHUP) has been received.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Registers `dir` to be removed, with all it holds, if a second signal ends the
/// process; the registration ends when the returned guard is dropped (the owner then
/// removes the directory itself).
pub fn remove_on_quit(dir: &Path) -> QuitRemoval {
    ON_QUIT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(dir.to_path_buf());
    QuitRemoval(dir.to_path_buf())
}

/// A directory registered with [`remove_on_quit`]: dropped, unregistered.
pub struct QuitRemoval(PathBuf);

impl Drop for QuitRemoval {
    fn drop(&mut self) {
        let mut dirs = ON_QUIT.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = dirs.iter().position(|d| *d == self.0) {
            dirs.remove(i);
        }
    }
}
