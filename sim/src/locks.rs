//! Application locks (type (a) and type (b), \[0053\]); they live outside the volumes
//! and are never backed up \[0054\].
//!
//! Exclusive locks only, handed over FIFO: when a holder releases a lock, its first
//! waiter gets it at once. Lock ids are record numbers or block numbers, depending on
//! the granularity. Type (b) locks are not owned by a transaction: from the split
//! until the old transactions end, they bar NEW transactions from the listed areas
//! (OLD ones may still take the ordinary locks there).

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

/// Index of a transaction attempt in the simulator's table.
pub type Attempt = u32;

/// Most locks a table keeps as one entry per lock, indexed by id (fastest on small
/// volumes: the hot path is an index). Above it the table holds only the locks held
/// or waited for, in a hash map, so a 1 TiB volume's 268 million block locks cost
/// the memory of the few held at once.
pub const DENSE_LOCKS_MAX: usize = 1 << 20;

/// Bytes per lock the footprint estimate counts: a sparse table's entry (holder 8,
/// waiter queue 32, rounded up with the allocator's share, plus the hash map's control
/// byte and load factor). A dense table costs less: 4 bytes per lock, plus a queue per
/// lock waited for.
pub const LOCK_BYTES: u64 = 48;

/// Result of a lock request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acquire {
    /// The caller holds the lock now.
    Granted,
    /// Another attempt holds it; the caller was queued behind it.
    Queued { holder: Attempt },
    /// The lock is a type (b) area and the caller is NEW: queued until A is consistent.
    TypeB,
}

/// One lock: who holds it and who waits for it, FIFO (the queue allocates only once
/// a waiter arrives).
#[derive(Debug, Clone, Default)]
struct Slot {
    holder: Option<Attempt>,
    waiters: VecDeque<Attempt>,
}

/// A dense table's free lock: no attempt has this index.
const FREE: Attempt = Attempt::MAX;

/// The locks: a holder per id and a queue per lock waited for (dense: the holders
/// are 4 bytes each, so the table of a small volume stays in the nearest cache), or
/// only the slots in use (sparse).
#[derive(Debug)]
enum Slots {
    Dense {
        /// Per lock, its holder ([`FREE`]: none).
        holders: Vec<Attempt>,
        /// The waiters of each lock that has any, FIFO (no entry: none).
        waiters: FxHashMap<u32, VecDeque<Attempt>>,
    },
    Sparse(FxHashMap<u32, Slot>),
}

/// The lock table (see the module doc): dense up to [`DENSE_LOCKS_MAX`] locks, else
/// allocated lazily, one entry per lock held or waited for.
#[derive(Debug)]
pub struct LockTable {
    slots: Slots,
    /// The type (b) ids, ascending.
    type_b: Vec<u32>,
    type_b_active: bool,
    type_b_waiters: Vec<(Attempt, u32)>,
}

impl LockTable {
    /// `locks` free locks; `type_b` lists the ids that are type (b) areas (ids past
    /// `locks` are ignored).
    pub fn new(locks: usize, type_b: &[u32]) -> Self {
        let mut tb: Vec<u32> = type_b
            .iter()
            .copied()
            .filter(|&l| (l as usize) < locks)
            .collect();
        tb.sort_unstable();
        tb.dedup();
        let slots = if locks <= DENSE_LOCKS_MAX {
            Slots::Dense {
                holders: vec![FREE; locks],
                waiters: FxHashMap::default(),
            }
        } else {
            Slots::Sparse(FxHashMap::default())
        };
        Self {
            slots,
            type_b: tb,
            type_b_active: false,
            type_b_waiters: Vec::new(),
        }
    }

    /// Locks with an entry in memory: every lock of a dense table, the locks held or
    /// waited for in a sparse one.
    pub fn entries(&self) -> usize {
        match &self.slots {
            Slots::Dense { holders, .. } => holders.len(),
            Slots::Sparse(m) => m.len(),
        }
    }

    /// Who holds `lock`.
    pub fn holder(&self, lock: u32) -> Option<Attempt> {
        match &self.slots {
            Slots::Dense { holders, .. } => Some(holders[lock as usize]).filter(|&h| h != FREE),
            Slots::Sparse(m) => m.get(&lock).and_then(|s| s.holder),
        }
    }

    /// The attempts queued for `lock`, first to be handed it first (none when no one
    /// waits).
    pub fn waiters(&self, lock: u32) -> impl Iterator<Item = Attempt> + '_ {
        let q = match &self.slots {
            Slots::Dense { waiters, .. } => waiters.get(&lock),
            Slots::Sparse(m) => m.get(&lock).map(|s| &s.waiters),
        };
        q.into_iter().flatten().copied()
    }

    /// True while type (b) areas are barred to NEW transactions.
    pub fn type_b_active(&self) -> bool {
        self.type_b_active
    }

    /// Takes the type (b) locks (at the split).
    pub fn hold_type_b(&mut self) {
        self.type_b_active = !self.type_b.is_empty();
    }

    /// Releases the type (b) locks (when A is consistent); returns the waiters, in
    /// arrival order, with the lock each was asking for. They must ask again.
    pub fn release_type_b(&mut self) -> Vec<(Attempt, u32)> {
        self.type_b_active = false;
        std::mem::take(&mut self.type_b_waiters)
    }

    /// Asks for `lock` on behalf of `txn` (`is_new`: began, or will begin, after the
    /// split). Inlined for the dense table (a store of a holder); the sparse one's map
    /// stays out of line.
    #[inline]
    pub fn acquire(&mut self, lock: u32, txn: Attempt, is_new: bool) -> Acquire {
        if is_new && self.type_b_active && self.type_b.binary_search(&lock).is_ok() {
            self.type_b_waiters.push((txn, lock));
            return Acquire::TypeB;
        }
        let (holders, waiters) = match &mut self.slots {
            Slots::Dense { holders, waiters } => (holders, waiters),
            Slots::Sparse(m) => return acquire_sparse(m, lock, txn),
        };
        let holder = &mut holders[lock as usize];
        match *holder {
            FREE => {
                *holder = txn;
                Acquire::Granted
            }
            h if h == txn => Acquire::Granted,
            h => {
                waiters.entry(lock).or_default().push_back(txn);
                Acquire::Queued { holder: h }
            }
        }
    }

    /// Releases `lock` held by `txn`; returns the waiter it passed to, if any.
    /// Inlined for the dense table; the sparse one's map stays out of line.
    #[inline]
    pub fn release(&mut self, lock: u32, txn: Attempt) -> Option<Attempt> {
        let (holders, waiters) = match &mut self.slots {
            Slots::Dense { holders, waiters } => (holders, waiters),
            Slots::Sparse(m) => return release_sparse(m, lock, txn),
        };
        let holder = &mut holders[lock as usize];
        debug_assert_eq!(*holder, txn, "release of a lock not held");
        let next = if waiters.is_empty() {
            None
        } else {
            next_waiter(waiters, lock)
        };
        *holder = next.unwrap_or(FREE);
        next
    }

    /// Withdraws `txn` from the queue of `lock` (it was aborted while waiting).
    pub fn withdraw(&mut self, lock: u32, txn: Attempt) {
        match &mut self.slots {
            Slots::Dense { waiters, .. } => {
                if let Some(q) = waiters.get_mut(&lock) {
                    q.retain(|&t| t != txn);
                    if q.is_empty() {
                        waiters.remove(&lock);
                    }
                }
            }
            Slots::Sparse(m) => {
                if let Some(s) = m.get_mut(&lock) {
                    s.waiters.retain(|&t| t != txn);
                }
            }
        }
        self.type_b_waiters.retain(|&(t, _)| t != txn);
    }
}

/// [`LockTable::acquire`] in the sparse table.
#[inline(never)]
fn acquire_sparse(m: &mut FxHashMap<u32, Slot>, lock: u32, txn: Attempt) -> Acquire {
    let slot = m.entry(lock).or_default();
    match slot.holder {
        None => {
            slot.holder = Some(txn);
            Acquire::Granted
        }
        Some(h) if h == txn => Acquire::Granted,
        Some(h) => {
            slot.waiters.push_back(txn);
            Acquire::Queued { holder: h }
        }
    }
}

/// [`LockTable::release`] in the sparse table.
#[inline(never)]
fn release_sparse(m: &mut FxHashMap<u32, Slot>, lock: u32, txn: Attempt) -> Option<Attempt> {
    let slot = m.get_mut(&lock)?;
    debug_assert_eq!(slot.holder, Some(txn), "release of a lock not held");
    let next = slot.waiters.pop_front();
    slot.holder = next;
    if next.is_none() {
        m.remove(&lock);
    }
    next
}

/// The first waiter of `lock`, taken from its queue (the queue's entry goes with its
/// last waiter).
fn next_waiter(waiters: &mut FxHashMap<u32, VecDeque<Attempt>>, lock: u32) -> Option<Attempt> {
    let q = waiters.get_mut(&lock)?;
    let next = q.pop_front();
    if q.is_empty() {
        waiters.remove(&lock);
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_handover() {
        let mut t = LockTable::new(2, &[]);
        assert_eq!(t.acquire(0, 1, false), Acquire::Granted);
        assert_eq!(t.acquire(0, 2, false), Acquire::Queued { holder: 1 });
        assert_eq!(t.acquire(0, 3, false), Acquire::Queued { holder: 1 });
        assert_eq!(t.waiters(0).collect::<Vec<_>>(), vec![2, 3]);
        assert_eq!(t.release(0, 1), Some(2));
        assert_eq!(t.holder(0), Some(2));
        assert_eq!(t.waiters(0).collect::<Vec<_>>(), vec![3]);
        assert_eq!(t.release(0, 2), Some(3));
        assert_eq!(t.release(0, 3), None);
        assert_eq!(t.holder(0), None);
    }

    #[test]
    fn type_b_bars_only_new_transactions_while_held() {
        let mut t = LockTable::new(2, &[1]);
        t.hold_type_b();
        assert_eq!(t.acquire(1, 5, false), Acquire::Granted);
        assert_eq!(t.acquire(1, 6, true), Acquire::TypeB);
        assert_eq!(t.acquire(0, 6, true), Acquire::Granted);
        assert_eq!(t.release_type_b(), vec![(6, 1)]);
        assert_eq!(t.acquire(1, 6, true), Acquire::Queued { holder: 5 });
    }

    /// A table over more than [`DENSE_LOCKS_MAX`] locks holds only those in use, and
    /// behaves as the dense one.
    #[test]
    fn a_large_table_holds_only_the_locks_in_use() {
        let n = DENSE_LOCKS_MAX + 1;
        let top = (n - 1) as u32;
        let mut t = LockTable::new(n, &[top]);
        assert_eq!(t.entries(), 0);
        assert_eq!(t.acquire(top, 1, false), Acquire::Granted);
        assert_eq!(t.acquire(top, 2, false), Acquire::Queued { holder: 1 });
        assert_eq!(t.acquire(7, 3, false), Acquire::Granted);
        assert_eq!(t.entries(), 2);
        assert_eq!(t.holder(top), Some(1));
        assert_eq!(t.release(top, 1), Some(2));
        assert_eq!(t.release(top, 2), None);
        assert_eq!(t.release(7, 3), None);
        assert_eq!((t.entries(), t.holder(top)), (0, None));
        t.hold_type_b();
        assert_eq!(t.acquire(top, 4, true), Acquire::TypeB);
        assert_eq!(t.release_type_b(), vec![(4, top)]);
    }
}
