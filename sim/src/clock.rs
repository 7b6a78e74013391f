//! Virtual time and the event queue.
//!
//! Time is an integer count of ticks; **1 tick = 1 µs** of simulated time. Nothing in
//! the simulator reads the wall clock. Events fire in `(time, seq)` order, where `seq`
//! is the order in which they were scheduled, so two events at the same tick always
//! fire in the same order on every run.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Virtual time in ticks (1 tick = 1 µs).
pub type Tick = u64;

/// Microseconds per tick: the unit written down once.
pub const TICK_US: u64 = 1;

/// Pending events kept in the sorted near list at most; beyond it the latest go to
/// the heap. A simulation has a few events per transaction in flight, so the near
/// list is where nearly every event lives.
const NEAR_MAX: usize = 32;

/// One scheduled event: its key `(time << 64) | seq` (one comparison orders by time,
/// then scheduling order) and what.
#[derive(Debug, Clone, Copy)]
struct Scheduled<E> {
    key: u128,
    event: E,
}

impl<E> PartialEq for Scheduled<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl<E> Eq for Scheduled<E> {}
impl<E> PartialOrd for Scheduled<E> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Scheduled<E> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

impl<E> Scheduled<E> {
    /// The event's time: its key's high half.
    #[inline(always)]
    fn time(&self) -> Tick {
        (self.key >> 64) as Tick
    }
}

fn key(time: Tick, seq: u64) -> u128 {
    (u128::from(time) << 64) | u128::from(seq)
}

/// The virtual clock plus its pending events, earliest first, ties by scheduling order.
///
/// Two parts, every key of `near` below every key of `far`: `near[head..]`, at most
/// `NEAR_MAX` events sorted earliest first (a pop takes `near[head]` and moves
/// `head` on; a push is an insertion step from whichever end is closer to its place,
/// usually none: a new event is most often the latest, or due now), and `far`, a
/// min-heap of the later ones (only a queue longer than `NEAR_MAX` uses it). The
/// slots before `head` are spent; they are reclaimed when the list would grow past
/// `NEAR_SPENT_MAX` of them. The order popped is exactly `(time, seq)` order,
/// whatever the split.
#[derive(Debug)]
pub struct EventQueue<E> {
    now: Tick,
    seq: u64,
    near: Vec<Scheduled<E>>,
    head: usize,
    far: BinaryHeap<Reverse<Scheduled<E>>>,
    fired: u64,
}

/// Spent slots at the front of the near list before they are reclaimed.
const NEAR_SPENT_MAX: usize = 64;

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> EventQueue<E> {
    /// An empty queue at time 0.
    pub fn new() -> Self {
        Self {
            now: 0,
            seq: 0,
            near: Vec::with_capacity(NEAR_MAX + NEAR_SPENT_MAX + 1),
            head: 0,
            far: BinaryHeap::new(),
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
        self.near.len() - self.head + self.far.len()
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.near.len() == self.head && self.far.is_empty()
    }

    /// Schedules `event` at absolute time `time`; a time in the past is clamped to now
    /// (time never runs backwards). Always inlined: an event built field by field in
    /// the caller's frame and read back whole by an out-of-line call stalls the load.
    #[inline(always)]
    pub fn schedule_at(&mut self, time: Tick, event: E) {
        let time = time.max(self.now);
        let seq = self.seq;
        self.seq += 1;
        let s = Scheduled {
            key: key(time, seq),
            event,
        };
        // `seq` is the largest yet, so `s` is later than an event exactly when its time
        // is no earlier (and earlier exactly when its time is): times alone compare.
        if let Some(Reverse(first_far)) = self.far.peek() {
            if time >= first_far.time() {
                self.far.push(Reverse(s));
                return;
            }
        }
        let head = self.head;
        if head > 0 && head < self.near.len() && time < self.near[head].time() {
            // Earlier than every near event: the spent slot before the first.
            self.head = head - 1;
            self.near[head - 1] = s;
        } else {
            if self.near.len() == self.near.capacity() && head > 0 {
                self.near.drain(..head);
                self.head = 0;
            }
            // An insertion step from the end: every later event moves up one slot.
            self.near.push(s);
            let pending = &mut self.near[self.head..];
            let mut at = pending.len() - 1;
            for i in (0..at).rev() {
                if pending[i].time() <= time {
                    break;
                }
                pending[i + 1] = pending[i];
                at = i;
            }
            pending[at] = s;
        }
        if self.near.len() - self.head > NEAR_MAX {
            // The latest near event moves to the heap: still below every far key.
            let latest = self.near.pop().expect("longer than NEAR_MAX");
            self.far.push(Reverse(latest));
        }
    }

    /// Schedules `event` `delay` ticks from now.
    #[inline(always)]
    pub fn schedule_in(&mut self, delay: Tick, event: E) {
        self.schedule_at(self.now.saturating_add(delay), event);
    }

    /// True when an event is pending at the current time (it would fire before
    /// anything scheduled now).
    #[inline]
    pub fn due_now(&self) -> bool {
        let first = match self.near.get(self.head) {
            Some(s) => Some(s.key),
            None => self.far.peek().map(|Reverse(s)| s.key),
        };
        first.is_some_and(|k| (k >> 64) as Tick == self.now)
    }

    /// Counts an event fired at the current time without passing through the queue:
    /// one that would have been scheduled now and popped next, fired by a direct call
    /// instead (the caller checks that nothing else is due now: [`EventQueue::due_now`]).
    /// No scheduling number is taken, so later events keep their relative order.
    #[inline]
    pub fn count_direct(&mut self) {
        self.fired += 1;
    }

    /// Pops the earliest event and advances the clock to its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(Tick, E)> {
        let (time, event) = self.pop_pending()?;
        self.advance_to(time);
        Some((time, event))
    }

    /// Pops the earliest event, counted as fired, without moving the clock: the caller
    /// either fires it at its time ([`EventQueue::advance_to`] first) or fires it
    /// where the clock stands, as an event that takes no time (a timer whose purpose
    /// has passed: the run does not last until it).
    #[inline]
    pub fn pop_pending(&mut self) -> Option<(Tick, E)> {
        let s = if self.head < self.near.len() {
            let s = self.near[self.head];
            self.head += 1;
            if self.head == self.near.len() {
                self.near.clear();
                self.head = 0;
            }
            s
        } else {
            self.far.pop()?.0
        };
        self.fired += 1;
        Some(((s.key >> 64) as Tick, s.event))
    }

    /// Moves the clock to `time`, the time of the event [`EventQueue::pop_pending`]
    /// returned (never earlier than now: every pending event is at now or later).
    #[inline]
    pub fn advance_to(&mut self, time: Tick) {
        debug_assert!(time >= self.now, "time ran backwards");
        self.now = time;
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

    /// Against a plain sort by `(time, seq)`: a queue far longer than the near list,
    /// pushes and pops interleaved, many equal times.
    #[test]
    fn long_queues_pop_in_time_then_schedule_order() {
        let mut q = EventQueue::new();
        let mut reference: Vec<(Tick, u64)> = Vec::new();
        let mut popped = Vec::new();
        let mut expected = Vec::new();
        let mut x: u64 = 12345;
        let mut next = |m: u64| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) % m
        };
        let mut seq = 0u64;
        let (mut far_used, mut front_used) = (false, false);
        for round in 0..4000u64 {
            let pushes = if round < 500 { 3 } else { 1 };
            for _ in 0..pushes {
                let t = q.now() + next(50);
                let head = q.head;
                let first = q.near.get(head).map(|s| s.key);
                q.schedule_at(t, seq);
                front_used |= head > 0 && first.is_some_and(|k| key(t, seq) < k);
                reference.push((t, seq));
                seq += 1;
            }
            far_used |= !q.far.is_empty();
            assert!(q.near.len() - q.head <= NEAR_MAX);
            assert!(q.near.len() <= NEAR_MAX + NEAR_SPENT_MAX + 1);
            if round % 3 != 0 || round >= 500 {
                reference.sort_unstable();
                let want = reference.remove(0);
                expected.push(want);
                let (t, e) = q.pop().expect("pending");
                popped.push((t, e));
            }
        }
        while let Some(p) = q.pop() {
            popped.push(p);
        }
        reference.sort_unstable();
        expected.extend(reference);
        assert!(far_used, "the queue never outgrew the near list");
        assert!(front_used, "no event went to the slot before the first");
        assert_eq!(popped.len() as u64, seq);
        assert_eq!(popped, expected);
    }

    /// A queue that never empties, each event later than the last: the near list's
    /// spent slots fill up and are reclaimed, and the order stays `(time, seq)`.
    #[test]
    fn spent_slots_are_reclaimed_in_order() {
        let mut q = EventQueue::new();
        q.schedule_at(1, 0u64);
        q.schedule_at(2, 1u64);
        let mut reclaimed = false;
        for i in 2..1000u64 {
            let (t, e) = q.pop().expect("pending");
            assert_eq!((t, e), (i - 1, i - 2));
            let (head, full) = (q.head, q.near.len() == q.near.capacity());
            q.schedule_at(i + 1, i);
            reclaimed |= full && q.head < head;
            assert!(q.near.len() <= NEAR_MAX + NEAR_SPENT_MAX + 1);
        }
        assert!(reclaimed, "the spent slots were never reclaimed");
    }

    /// `due_now` sees an event pending at the current tick, in the near list or the
    /// heap; `count_direct` counts an event and takes no scheduling number.
    #[test]
    fn due_now_and_direct_events() {
        let mut q = EventQueue::new();
        assert!(!q.due_now());
        q.schedule_at(5, 'a');
        q.schedule_at(5, 'b');
        assert!(!q.due_now(), "time 0: nothing due");
        assert_eq!(q.pop(), Some((5, 'a')));
        assert!(q.due_now(), "b is due at 5");
        q.count_direct();
        assert_eq!(q.fired(), 2);
        assert_eq!(q.pop(), Some((5, 'b')));
        assert!(!q.due_now());
        // A queue longer than the near list: the event due now may sit in the heap
        // only when nothing is near.
        for t in 0..(NEAR_MAX as u64 + 8) {
            q.schedule_at(6 + t, 'x');
        }
        assert!(!q.far.is_empty());
        assert!(!q.due_now());
        q.schedule_at(5, 'c');
        assert!(q.due_now());
        assert_eq!(q.pop(), Some((5, 'c')));
        assert_eq!(q.fired(), 4);
    }

    /// An event popped pending leaves the clock where it was; later events still
    /// pop in order and move it.
    #[test]
    fn a_pending_pop_leaves_the_clock() {
        let mut q = EventQueue::new();
        q.schedule_at(3, 'a');
        q.schedule_at(1_000_000, 'b');
        q.schedule_at(5, 'c');
        assert_eq!(q.pop(), Some((3, 'a')));
        assert_eq!(q.pop(), Some((5, 'c')));
        assert_eq!(q.pop_pending(), Some((1_000_000, 'b')));
        assert_eq!((q.now(), q.fired()), (5, 3));
        assert!(q.is_empty());
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
