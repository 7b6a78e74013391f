//! The one place where the engine takes its locks and atomics from.
//!
//! Under `--cfg loom` every lock and atomic that orders data comes from `loom::sync`, so
//! the loom tests explore every interleaving of the engine's real code; otherwise from
//! `std::sync`. Library code never names `std::sync` or `loom::sync` directly.
//!
//! [`StatCounter`] is the one deliberate exception: the physical-I/O counters are
//! statistics that order nothing, so they stay plain `std` atomics even under loom
//! (modelling them would only multiply loom's interleavings without checking anything).

#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering},
    Mutex, MutexGuard,
};
#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering},
    Mutex, MutexGuard,
};

/// A statistics counter (see the module doc for why it is not the facade's atomic).
pub(crate) type StatCounter = std::sync::atomic::AtomicU64;

/// Locks `m`, ignoring poisoning: every critical section in the engine leaves its data
/// consistent at each step that can fail, so a panic elsewhere does not corrupt it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
