//! Application locks (type (a) and type (b), [0053]); they live outside the volumes
//! and are never backed up [0054].
//!
//! Exclusive locks only, handed over FIFO: when a holder releases a lock, its first
//! waiter gets it at once. Lock ids are record numbers or block numbers, depending on
//! the granularity. Type (b) locks are not owned by a transaction: from the split
//! until the old transactions end, they bar NEW transactions from the listed areas
//! (OLD ones may still take the ordinary locks there).

use std::collections::VecDeque;

/// Index of a transaction attempt in the simulator's table.
pub type Attempt = u32;

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

/// The lock table: one entry per lock id.
#[derive(Debug)]
pub struct LockTable {
    holder: Vec<Option<Attempt>>,
    /// FIFO of waiters per lock; allocated only for locks that ever had a waiter.
    waiters: Vec<Option<VecDeque<Attempt>>>,
    type_b: Vec<bool>,
    type_b_active: bool,
    type_b_waiters: Vec<(Attempt, u32)>,
}

impl LockTable {
    /// `locks` free locks; `type_b` lists the ids that are type (b) areas.
    pub fn new(locks: usize, type_b: &[u32]) -> Self {
        let mut tb = vec![false; locks];
        for &l in type_b {
            if let Some(x) = tb.get_mut(l as usize) {
                *x = true;
            }
        }
        Self {
            holder: vec![None; locks],
            waiters: vec![None; locks],
            type_b: tb,
            type_b_active: false,
            type_b_waiters: Vec::new(),
        }
    }

    /// Who holds `lock`.
    pub fn holder(&self, lock: u32) -> Option<Attempt> {
        self.holder[lock as usize]
    }

    /// True while type (b) areas are barred to NEW transactions.
    pub fn type_b_active(&self) -> bool {
        self.type_b_active
    }

    /// Takes the type (b) locks (at the split).
    pub fn hold_type_b(&mut self) {
        self.type_b_active = self.type_b.iter().any(|&b| b);
    }

    /// Releases the type (b) locks (when A is consistent); returns the waiters, in
    /// arrival order, with the lock each was asking for. They must ask again.
    pub fn release_type_b(&mut self) -> Vec<(Attempt, u32)> {
        self.type_b_active = false;
        std::mem::take(&mut self.type_b_waiters)
    }

    /// Asks for `lock` on behalf of `txn` (`is_new`: began, or will begin, after the
    /// split).
    pub fn acquire(&mut self, lock: u32, txn: Attempt, is_new: bool) -> Acquire {
        let i = lock as usize;
        if is_new && self.type_b_active && self.type_b[i] {
            self.type_b_waiters.push((txn, lock));
            return Acquire::TypeB;
        }
        match self.holder[i] {
            None => {
                self.holder[i] = Some(txn);
                Acquire::Granted
            }
            Some(h) if h == txn => Acquire::Granted,
            Some(h) => {
                self.waiters[i]
                    .get_or_insert_with(VecDeque::new)
                    .push_back(txn);
                Acquire::Queued { holder: h }
            }
        }
    }

    /// Releases `lock` held by `txn`; returns the waiter it passed to, if any.
    pub fn release(&mut self, lock: u32, txn: Attempt) -> Option<Attempt> {
        let i = lock as usize;
        debug_assert_eq!(self.holder[i], Some(txn), "release of a lock not held");
        let next = self.waiters[i].as_mut().and_then(|q| q.pop_front());
        self.holder[i] = next;
        next
    }

    /// Withdraws `txn` from the queue of `lock` (it was aborted while waiting).
    pub fn withdraw(&mut self, lock: u32, txn: Attempt) {
        if let Some(q) = self.waiters[lock as usize].as_mut() {
            q.retain(|&t| t != txn);
        }
        self.type_b_waiters.retain(|&(t, _)| t != txn);
    }
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
        assert_eq!(t.release(0, 1), Some(2));
        assert_eq!(t.holder(0), Some(2));
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
}
