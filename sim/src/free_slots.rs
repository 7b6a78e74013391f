//! When each of a device's channels (or write slots) is next free, and which is free
//! first: the queueing discipline of [`crate::device_model::DeviceModel`].
//!
//! A call takes the slot free earliest, ties to the lowest index, and holds it until
//! a time no earlier than the one it was free at: a slot's time only grows. A few
//! slots (the usual 1-16) are scanned; more (an NVMe device's queues, up to
//! [`crate::device_model::CHANNELS_MAX`]) are kept in a min-heap of (time, index),
//! whose order picks the same slot as the scan, so the count of slots changes a
//! call's cost from O(slots) to O(log slots), never its result.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::clock::Tick;

/// More slots than this are kept in a heap rather than scanned.
const SCANNED_MAX: usize = 16;

/// The times at which `n` slots are next free (all free at 0 to begin with).
#[derive(Debug, Clone)]
pub enum FreeSlots {
    /// Per slot, when it is free (apart, so the scan reads 8-byte steps).
    Scanned(Vec<Tick>),
    /// (time, index) of every slot, earliest first (ties: lowest index).
    Heap(BinaryHeap<Reverse<(Tick, u32)>>),
}

impl FreeSlots {
    /// `n` slots (at least 1), each free at time 0.
    pub fn new(n: usize) -> Self {
        let n = n.max(1);
        if n <= SCANNED_MAX {
            Self::Scanned(vec![0; n])
        } else {
            Self::Heap((0..n as u32).map(|i| Reverse((0, i))).collect())
        }
    }

    /// The slot free earliest and when, ties to the lowest index.
    #[inline]
    pub fn earliest(&self) -> (usize, Tick) {
        match self {
            Self::Scanned(free_at) => scan(free_at),
            Self::Heap(heap) => {
                let Reverse((t, i)) = *heap.peek().expect("at least one slot");
                (i as usize, t)
            }
        }
    }

    /// Slot `i`, the one [`FreeSlots::earliest`] just named, is busy until `until`
    /// (no earlier than the time it was free at).
    #[inline]
    pub fn occupy(&mut self, i: usize, until: Tick) {
        match self {
            Self::Scanned(free_at) => free_at[i] = until,
            Self::Heap(heap) => {
                let mut top = heap.peek_mut().expect("at least one slot");
                debug_assert_eq!(top.0 .1 as usize, i, "the slot occupied is the earliest");
                debug_assert!(top.0 .0 <= until, "a slot's time only grows");
                top.0 = (until, i as u32);
            }
        }
    }
}

/// The earliest of `free_at` (not empty) and its index; ties to the lowest index.
#[inline]
fn scan(free_at: &[Tick]) -> (usize, Tick) {
    if let [a, b, c, d] = *free_at {
        // Four channels (the usual count): two pairs, then their winners, each
        // comparison strict so that a tie keeps the lower index.
        let (i, x) = if b < a { (1, b) } else { (0, a) };
        let (j, y) = if d < c { (3, d) } else { (2, c) };
        return if y < x { (j, y) } else { (i, x) };
    }
    let mut i = 0;
    let mut free = free_at[0];
    for (j, &t) in free_at.iter().enumerate().skip(1) {
        if t < free {
            (i, free) = (j, t);
        }
    }
    (i, free)
}

#[cfg(test)]
mod tests {
    use super::{scan, FreeSlots, SCANNED_MAX};
    use crate::clock::Tick;
    use proptest::prelude::*;

    /// The four-channel search picks what the general scan picks: the earliest, ties
    /// to the lowest index, over every order of a few free times with repeats.
    #[test]
    fn four_channel_search_is_the_scan() {
        let reference = |f: &[Tick]| {
            let mut best = (0, f[0]);
            for (j, &t) in f.iter().enumerate().skip(1) {
                if t < best.1 {
                    best = (j, t);
                }
            }
            best
        };
        let mut ties = 0;
        for n in 0..4u64.pow(4) {
            let f: Vec<Tick> = (0..4).map(|k| (n >> (2 * k)) & 3).collect();
            assert_eq!(scan(&f), reference(&f), "{f:?}");
            ties += usize::from(f.iter().filter(|&&t| t == reference(&f).1).count() > 1);
        }
        assert!(ties > 0, "ties were tried");
        assert_eq!(scan(&[5, 3, 3]), (1, 3));
    }

    proptest! {
        /// Differential, over slot counts on both sides of the heap's threshold and
        /// random calls (an arrival no earlier than the last, a service time, ties
        /// made common by small times): the heap names the same slot at the same time
        /// as a scan of every slot's time, call after call.
        #[test]
        fn the_heap_picks_the_slot_a_scan_picks(
            n in 1usize..80,
            calls in proptest::collection::vec((0u64..40, 0u64..60), 1..400),
        ) {
            let mut slots = FreeSlots::new(n);
            prop_assert_eq!(matches!(slots, FreeSlots::Heap(_)), n > SCANNED_MAX);
            let mut reference = vec![0u64; n];
            let mut now = 0;
            for (gap, service) in calls {
                now += gap;
                let (i, free) = slots.earliest();
                prop_assert_eq!((i, free), scan(&reference));
                let end = now.max(free) + service;
                slots.occupy(i, end);
                reference[i] = end;
            }
        }
    }
}
