//! The one place where the engine takes its locks and atomics from.
//!
//! Under `--cfg loom` every lock and atomic that orders data comes from `loom::sync`, so
//! the loom tests explore every interleaving of the engine's real code; otherwise from
//! `std::sync`. Library code never names `std::sync` or `loom::sync` directly.
//!
//! [`BlockLock`] is the group-1 lock: the facade's mutex, or, over stores whose calls
//! are brief (memory), a spin lock whose release is a plain store (never under loom).
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

/// A lock over in-memory data whose critical sections are brief (a hash probe and a
/// block copy): a test-and-set spin lock (the `spin` crate) whose release is a plain
/// store, so an uncontended call pays one locked instruction instead of the mutex's
/// two. Under `--cfg loom` it is the facade's mutex, so loom still models it.
#[cfg(not(loom))]
pub(crate) type BriefMutex<T> = spin::mutex::SpinMutex<T, spin::relax::Yield>;
/// A held [`BriefMutex`] (outside loom).
#[cfg(not(loom))]
pub(crate) type BriefGuard<'a, T> = spin::mutex::SpinMutexGuard<'a, T, spin::relax::Yield>;
/// See the non-loom definition.
#[cfg(loom)]
pub(crate) type BriefMutex<T> = Mutex<T>;

/// Locks a [`BriefMutex`] (ignoring poisoning under loom, as [`lock`] does).
#[cfg(not(loom))]
#[inline]
pub(crate) fn lock_brief<T>(m: &BriefMutex<T>) -> impl std::ops::DerefMut<Target = T> + '_ {
    m.lock()
}
/// Locks a [`BriefMutex`] (ignoring poisoning under loom, as [`lock`] does).
#[cfg(loom)]
pub(crate) fn lock_brief<T>(m: &BriefMutex<T>) -> impl std::ops::DerefMut<Target = T> + '_ {
    lock(m)
}

/// A [`BriefMutex`]'s data through an exclusive borrow: no lock is taken, as none can
/// be held while the borrow lasts.
#[cfg(not(loom))]
#[inline]
pub(crate) fn brief_get_mut<T>(m: &mut BriefMutex<T>) -> &mut T {
    m.get_mut()
}
/// A [`BriefMutex`]'s data through an exclusive borrow (ignoring poisoning under loom).
#[cfg(loom)]
pub(crate) fn brief_get_mut<T>(m: &mut BriefMutex<T>) -> &mut T {
    m.get_mut().unwrap_or_else(|e| e.into_inner())
}

/// A group-1 lock (one per group of blocks, held for one VLUN call).
///
/// Two kinds, chosen when the device is built ([`crate::BlockStore::calls_are_brief`]):
/// - `Parking`: the facade's mutex; a waiter sleeps. For stores whose calls can wait on
///   I/O (files), where a lock may be held for a flush of milliseconds.
/// - `Spinning`: a test-and-set lock (the `spin` crate) whose waiters spin and yield
///   the processor; its release is a plain store, not a locked read-modify-write. For
///   in-memory stores, whose calls hold the lock for tens of nanoseconds: there a
///   mutex's locked release is a large part of a call's cost (BENCHMARKS.md, "one
///   locked operation per call").
///
/// Under `--cfg loom` every group-1 lock is the facade's (loom's) mutex, so the loom
/// tests explore the engine's locking protocol whatever the store.
pub(crate) enum BlockLock {
    Parking(Mutex<()>),
    #[cfg(not(loom))]
    Spinning(BriefMutex<()>),
}

/// A held [`BlockLock`], released on drop.
pub(crate) enum BlockLockGuard<'a> {
    #[allow(dead_code)] // held for its drop
    Parking(MutexGuard<'a, ()>),
    #[cfg(not(loom))]
    #[allow(dead_code)] // held for its drop
    Spinning(BriefGuard<'a, ()>),
}

impl BlockLock {
    /// A lock of the kind that suits a store whose calls are brief (`brief`) or not.
    pub(crate) fn new(brief: bool) -> Self {
        #[cfg(not(loom))]
        if brief {
            return BlockLock::Spinning(BriefMutex::new(()));
        }
        #[cfg(loom)]
        let _ = brief;
        BlockLock::Parking(Mutex::new(()))
    }

    /// Takes the lock, waiting while another call holds it.
    #[inline]
    pub(crate) fn lock(&self) -> BlockLockGuard<'_> {
        match self {
            BlockLock::Parking(m) => BlockLockGuard::Parking(lock(m)),
            #[cfg(not(loom))]
            BlockLock::Spinning(m) => BlockLockGuard::Spinning(m.lock()),
        }
    }
}
