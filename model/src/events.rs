//! The history of a path, shared between the states along it.
//!
//! Every model state carries the record of the path that first reached it, and the
//! checker makes one state per generated successor. Copying the whole record into each
//! one (a vector of some fifty events, with images) was the largest cost of a state;
//! here a state holds one small node instead: [`EventLog`] is a persistent,
//! append-only list of segments, each pointing to the one before it, so a successor
//! shares its parent's events and adds only those of its own action.
//!
//! The oracle judges a [`History`] (one contiguous vector). [`EventLog::judge`] builds
//! it in a buffer kept per thread, keeping the events of the segments it shares with
//! the record built last: the checker expands one state's successors one after
//! another, and the states it expands one after another are near relatives, so a
//! successor mostly costs the copy of its own few events, not of the whole path.

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use sim::history::{Event, History, Layout};

/// Most events one segment holds (an abort writes two before-images: five events).
const SEGMENT_EVENTS_MAX: usize = 6;

struct Segment {
    /// The events before this segment's.
    parent: Option<Arc<Segment>>,
    /// Events in the log up to the end of this segment.
    len: usize,
    /// The first `count` are used.
    events: [Option<Event>; SEGMENT_EVENTS_MAX],
    count: usize,
}

impl Segment {
    fn events(&self) -> impl Iterator<Item = &Event> {
        self.events[..self.count]
            .iter()
            .map(|e| e.as_ref().expect("a used entry"))
    }
    fn start(&self) -> usize {
        self.len - self.count
    }
}

/// The events of one path, in order (see the module doc).
#[derive(Clone, Default)]
pub struct EventLog {
    tail: Option<Arc<Segment>>,
}

impl EventLog {
    /// Events in the log.
    pub fn len(&self) -> usize {
        self.tail.as_ref().map_or(0, |s| s.len)
    }

    /// True when nothing has happened yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends `event`. A segment shared with another log (a parent state's) is never
    /// changed: the first event after a copy starts a new segment.
    pub fn push(&mut self, event: Event) {
        if let Some(seg) = self.tail.as_mut().and_then(Arc::get_mut) {
            if seg.count < SEGMENT_EVENTS_MAX {
                seg.events[seg.count] = Some(event);
                seg.count += 1;
                seg.len += 1;
                return;
            }
        }
        let mut events: [Option<Event>; SEGMENT_EVENTS_MAX] = Default::default();
        events[0] = Some(event);
        let parent = self.tail.take();
        self.tail = Some(Arc::new(Segment {
            len: parent.as_ref().map_or(0, |p| p.len) + 1,
            parent,
            events,
            count: 1,
        }));
    }

    /// Calls `f` on every event from index `first` on (the newest), in no particular
    /// order.
    pub fn for_each_since(&self, first: usize, mut f: impl FnMut(&Event)) {
        let mut at = self.tail.as_deref();
        while let Some(s) = at.filter(|s| s.len > first) {
            s.events()
                .skip(first.saturating_sub(s.start()))
                .for_each(&mut f);
            at = s.parent.as_deref();
        }
    }

    /// The whole record over `layout` and `initial` (bank workload: sum conserved).
    pub fn to_history(&self, layout: Layout, initial: &[u8]) -> History {
        let mut h = History::new(layout, initial.to_vec());
        h.sum_conserved = true;
        let mut segments = Vec::new();
        let mut at = self.tail.as_deref();
        while let Some(s) = at {
            segments.push(s);
            at = s.parent.as_deref();
        }
        for s in segments.into_iter().rev() {
            for e in s.events() {
                let time = h.events.len() as u64;
                h.push(time, e.clone());
            }
        }
        h
    }

    /// Calls `judge` on the whole record as a [`History`] over `layout` and `initial`,
    /// built in this thread's buffer (see the module doc).
    pub fn judge<T>(&self, layout: Layout, initial: &[u8], judge: impl FnOnce(&History) -> T) -> T {
        BUFFER.with(|b| {
            let mut b = b.borrow_mut();
            let b = &mut *b;
            let fits = b.history.as_ref().is_some_and(|h| {
                h.layout == layout
                    && matches!(&h.initial, sim::image::Initial::Bytes(b) if b == initial)
            });
            if !fits {
                let mut h = History::new(layout, initial.to_vec());
                h.sum_conserved = true;
                b.history = Some(h);
                b.chain.clear();
            }
            let h = b.history.as_mut().expect("set above");
            rebase(h, &mut b.chain, self.tail.as_ref());
            debug_assert_eq!(h.events.len(), self.len());
            judge(h)
        })
    }
}

/// Makes `h`'s events those of the log ending in `tail`, given that they are those of
/// `chain` (its segments, oldest first): keeps the longest common prefix of segments,
/// drops the rest, appends the new ones, and leaves `chain` holding `tail`'s segments.
fn rebase(h: &mut History, chain: &mut Vec<Arc<Segment>>, tail: Option<&Arc<Segment>>) {
    // Walk back from the tail to the first segment the chain already holds.
    let mut fresh = 0;
    let mut at = tail;
    let common = loop {
        let Some(s) = at else {
            break 0;
        };
        let i = chain.partition_point(|c| c.len < s.len);
        if chain.get(i).is_some_and(|c| Arc::ptr_eq(c, s)) {
            break i + 1;
        }
        fresh += 1;
        at = s.parent.as_ref();
    };
    chain.truncate(common);
    h.events.truncate(chain.last().map_or(0, |c| c.len));
    let start = chain.len();
    let mut at = tail;
    for _ in 0..fresh {
        let s = at.expect("counted above");
        chain.push(Arc::clone(s));
        at = s.parent.as_ref();
    }
    chain[start..].reverse();
    for s in &chain[start..] {
        for e in s.events() {
            let time = h.events.len() as u64;
            h.push(time, e.clone());
        }
    }
}

/// A thread's history buffer: the record last judged and the segments it is made of,
/// oldest first. Holding those segments keeps them alive and unchanged (a shared
/// segment is never appended to), so a pointer equal to one of them is that very
/// segment, never a new one at a reused address.
struct Buffer {
    history: Option<History>,
    chain: Vec<Arc<Segment>>,
}

thread_local! {
    static BUFFER: RefCell<Buffer> = const {
        RefCell::new(Buffer {
            history: None,
            chain: Vec::new(),
        })
    };
}

impl fmt::Debug for EventLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventLog({} events)", self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> Layout {
        Layout {
            block_size: 16,
            volume_blocks: 2,
            record_size: 16,
        }
    }

    fn ev(i: u64) -> Event {
        Event::Retire {
            extra_space_blocks: i,
        }
    }

    /// Logs branching off each other, judged in an order that hits the buffer's reuse
    /// (siblings one after another), its rebuild (a cousin, a parent after its
    /// children, another initial image), and segments longer than one action.
    #[test]
    fn the_buffer_gives_each_log_its_whole_record() {
        let initial = vec![0u8; 32];
        let other = vec![1u8; 32];
        let mut root = EventLog::default();
        root.push(ev(0));
        let mut logs = vec![root.clone()];
        for i in 1..4u64 {
            let parent = logs.last().expect("a log").clone();
            for j in 0..3u64 {
                let mut child = parent.clone();
                for k in 0..=j * 4 {
                    child.push(ev(100 * i + 10 * j + k));
                }
                logs.push(child);
            }
        }
        let order: Vec<usize> = (0..logs.len()).chain((0..logs.len()).rev()).collect();
        for (n, &i) in order.iter().enumerate() {
            let init = if n % 5 == 4 { &other } else { &initial };
            let want = logs[i].to_history(layout(), init);
            let got = logs[i].judge(layout(), init, |h| h.clone());
            assert_eq!(got, want, "log {i}");
            let mut since = Vec::new();
            logs[i].for_each_since(1, |e| since.push(e.clone()));
            assert_eq!(since.len(), want.events.len() - 1);
        }
    }
}
