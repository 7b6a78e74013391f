//! SIGINT (Ctrl-C): the first one asks the command to stop at the next safe point
//! (between policies of a run and inside a policy's run every
//! [`sim::PROGRESS_EVENTS`] events, inside a sweep's running grid points likewise: a
//! point stopped so is not kept, `--resume` runs it again, and between the pictures
//! and before the outputs are published); the command then says what it kept and
//! exits 3 (incomplete). One that comes once the outputs are published stops nothing:
//! the command says so and exits as its work does. A second one ends the process at once
//! with exit 130 (128 + SIGINT), leaving at most a staging directory the next run
//! into the same `--out` removes.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Installs the handler (once; later calls do nothing).
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        if REQUESTED.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("interrupted: stopping at the next safe point (Ctrl-C again to quit now)");
    });
}

/// True once SIGINT has been received.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}
