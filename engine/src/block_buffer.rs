//! The engine's whole-block buffers: asked for fallibly, so that a system short of
//! memory fails the call with [`Error::OutOfMemory`] instead of aborting the process.

use crate::error::{Error, Result};

/// `len` zero bytes, or [`Error::OutOfMemory`] (naming `purpose`) when the system
/// refuses the memory: the engine's whole-block buffers never abort the process.
pub(crate) fn block_buffer(len: usize, purpose: &'static str) -> Result<Vec<u8>> {
    let refused = || Error::OutOfMemory {
        purpose,
        bytes: len,
    };
    #[cfg(test)]
    if test_limit::refuses(len) {
        return Err(refused());
    }
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| refused())?;
    v.resize(len, 0);
    Ok(v)
}

/// Tests: a per-thread cap on [`block_buffer`], standing in for a system that
/// refuses memory.
#[cfg(test)]
pub(crate) mod test_limit {
    use std::cell::Cell;

    thread_local! {
        static CAP: Cell<usize> = const { Cell::new(usize::MAX) };
    }

    /// Refuses every block buffer longer than `cap` bytes on this thread (until
    /// [`lift`]).
    pub(crate) fn cap(cap: usize) {
        CAP.with(|c| c.set(cap));
    }

    /// Lifts the cap of [`cap`].
    pub(crate) fn lift() {
        CAP.with(|c| c.set(usize::MAX));
    }

    pub(super) fn refuses(len: usize) -> bool {
        CAP.with(|c| len > c.get())
    }
}
