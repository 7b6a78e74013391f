//! Virtual time and the event queue.
//!
//! Time is an integer count of ticks; **1 tick = 1 µs** of simulated time. Nothing in
//! the simulator reads the wall clock. Events fire in `(time, seq)` order, where `seq`
//! is the order in which they were scheduled, so two events at the same tick always
//! fire in the same order on every run.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Virtual time in ticks (1 tick = 1 µs).
pub type Tick = u64;

/// Microseconds per tick: the unit written down once.
pub const TICK_US: u64 = 1;

/// One scheduled event: when, in which order among equals, and what.
#[derive(Debug, Clone, Copy)]
struct Scheduled<E> {
    time: Tick,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Scheduled<E> {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time && self.seq == other.seq
    }
}
impl<E> Eq for Scheduled<E> {}
impl<E> PartialOrd for Scheduled<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Scheduled<E> {
    /// Reversed so that `BinaryHeap` (a max-heap) pops the earliest event first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

/// The virtual clock plus its pending events, earliest first, ties by scheduling order.
#[derive(Debug)]
pub struct EventQueue<E> {
    now: Tick,
    seq: u64,
    heap: BinaryHeap<Scheduled<E>>,
    fired: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue at time 0.
    pub fn new() -> Self {
        Self {
            now: 0,
            seq: 0,
            heap: BinaryHeap::new(),
            fired: 0,
        }
    }

    /// The current virtual time: the time of the last event popped.
    pub fn now(&self) -> Tick {
        self.now
    }

    /// Events popped so far.
    pub fn fired(&self) -> u64 {
        self.fired
    }

    /// Events still pending.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Schedules `event` at absolute time `time`; a time in the past is clamped to now
    /// (time never runs backwards).
    pub fn schedule_at(&mut self, time: Tick, event: E) {
        let time = time.max(self.now);
        let seq = self.seq;
        self.seq += 1;
        self.heap.push(Scheduled { time, seq, event });
    }

    /// Schedules `event` `delay` ticks from now.
    pub fn schedule_in(&mut self, delay: Tick, event: E) {
        self.schedule_at(self.now.saturating_add(delay), event);
    }

    /// Pops the earliest event and advances the clock to its time.
    pub fn pop(&mut self) -> Option<(Tick, E)> {
        let s = self.heap.pop()?;
        debug_assert!(s.time >= self.now, "time ran backwards");
        self.now = s.time;
        self.fired += 1;
        Some((s.time, s.event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_then_schedule_order() {
        let mut q = EventQueue::new();
        q.schedule_at(10, 'a');
        q.schedule_at(5, 'b');
        q.schedule_at(10, 'c');
        q.schedule_at(5, 'd');
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['b', 'd', 'a', 'c']);
        assert_eq!(q.now(), 10);
        assert_eq!(q.fired(), 4);
    }

    #[test]
    fn past_times_are_clamped_to_now() {
        let mut q = EventQueue::new();
        q.schedule_at(7, 1);
        assert_eq!(q.pop(), Some((7, 1)));
        q.schedule_at(3, 2);
        assert_eq!(q.pop(), Some((7, 2)));
    }
}
