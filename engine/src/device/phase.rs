//! The device's phase, and how a phase change excludes every VLUN call.
//!
//! A VLUN call holds its block's group-1 lock from before it reads the phase until
//! it has finished with the images (\[0070\]-\[0071\]); a phase change (split, backup,
//! retire), mirroring's flush mark and the journal compaction take *every* group-1
//! lock, in index order, before they read or change the phase. So no call is in
//! flight across a phase change, and a call reads the phase with one plain load under
//! the lock it takes anyway: a steady call pays for one mutex, not a mutex and a
//! phase lock. Lock order: group 2, then group 1 (one lock for a call, all of them,
//! ascending, for an exclusion), then the metadata lock. Readers outside the calls
//! ([`Device::phase`](super::Device::phase)) load it with `Acquire`, pairing with the
//! `Release` store made under the exclusion.

use super::Device;
use crate::store::BlockStore;
use crate::sync::{self, AtomicU8, Ordering};
use crate::Phase;

/// The phase as one atomic byte: written only while every group-1 lock is held.
pub(super) struct PhaseWord(AtomicU8);

impl PhaseWord {
    pub(super) fn new(phase: Phase) -> Self {
        PhaseWord(AtomicU8::new(code(phase)))
    }

    /// The phase now (stable while the caller holds any group-1 lock). Inlined: one
    /// load on every VLUN call.
    #[inline]
    pub(super) fn get(&self) -> Phase {
        decode(self.0.load(Ordering::Acquire))
    }

    /// Sets the phase; the caller holds every group-1 lock ([`CallsExcluded`]).
    pub(super) fn set(&self, phase: Phase, _excluded: &CallsExcluded<'_>) {
        self.0.store(code(phase), Ordering::Release);
    }
}

fn code(phase: Phase) -> u8 {
    phase as u8
}

#[inline]
fn decode(code: u8) -> Phase {
    match code {
        0 => Phase::Single,
        1 => Phase::Split,
        2 => Phase::BackedUp,
        3 => Phase::Retired,
        _ => unreachable!("the phase word holds only codes written by PhaseWord::set"),
    }
}

/// Every group-1 lock, held: no VLUN call is in flight while this lives.
pub(super) struct CallsExcluded<'a> {
    _group1: Vec<sync::BlockLockGuard<'a>>,
}

impl<S: BlockStore> Device<S> {
    /// Waits for the calls in flight to finish and keeps new ones out (every group-1
    /// lock, ascending) until the result is dropped.
    pub(super) fn exclude_calls(&self) -> CallsExcluded<'_> {
        #[cfg(loom)]
        if self.config.skip_phase_exclusion_for_mutant_test {
            return CallsExcluded {
                _group1: Vec::new(),
            };
        }
        CallsExcluded {
            _group1: self.group1.iter().map(sync::BlockLock::lock).collect(),
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn every_phase_round_trips_through_its_code() {
        for p in [Phase::Single, Phase::Split, Phase::BackedUp, Phase::Retired] {
            assert_eq!(decode(code(p)), p);
        }
    }
}
