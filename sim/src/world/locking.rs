//! Application locks: conservative acquisition, incremental acquisition with
//! deadlock detection on the wait-for graph, hand-over to waiters, deadlock victims.

use super::*;

impl World<'_> {
    pub(super) fn lock_of(&self, record: u64) -> u32 {
        match self.scenario.locking.granularity {
            Granularity::Record => record as u32,
            Granularity::Block => self.place.block_of(record) as u32,
        }
    }

    /// Conservative 2PL: takes the locks in ascending order, then asks to begin.
    pub(super) fn lock_step(&mut self, att: Attempt) -> Result<(), SimError> {
        loop {
            let t = &self.txns[att as usize];
            let Some(&lock) = t.locks.get(t.next_lock) else {
                return self.try_begin(att);
            };
            if !self.take_lock(att, lock, self.split_done)? {
                return Ok(());
            }
            self.txns[att as usize].next_lock += 1;
        }
    }

    /// Asks for a lock; true when held now, false when the attempt waits (or was
    /// aborted as a deadlock victim).
    pub(super) fn take_lock(
        &mut self,
        att: Attempt,
        lock: u32,
        is_new: bool,
    ) -> Result<bool, SimError> {
        match self.locks.acquire(lock, att, is_new) {
            Acquire::Granted => {
                let t = &mut self.txns[att as usize];
                if !t.held.contains(lock.into()) {
                    t.held.push(lock.into(), ());
                }
                Ok(true)
            }
            Acquire::Queued { holder } => {
                let base = self.txns[holder as usize].backup_delay_ticks;
                let t = &mut self.txns[att as usize];
                (t.lock_blame_base_ticks, t.lock_blame_ticks) = (base, 0);
                self.begin_wait(att, WaitKind::Lock);
                self.txns[att as usize].waiting_on = Some(WaitOn::Lock(lock));
                self.resolve_deadlocks(att)?;
                Ok(false)
            }
            Acquire::TypeB => {
                self.begin_wait(att, WaitKind::TypeB);
                self.txns[att as usize].waiting_on = Some(WaitOn::TypeB(lock));
                self.resolve_deadlocks(att)?;
                Ok(false)
            }
        }
    }

    /// Incremental 2PL: `me` just blocked. While its wait closes a cycle in the
    /// wait-for graph, abort a victim of that cycle (a type (b) wait fans out to every
    /// active OLD attempt, so more than one cycle may pass through `me`). Conservative
    /// 2PL cannot deadlock: nothing to do.
    pub(super) fn resolve_deadlocks(&mut self, me: Attempt) -> Result<(), SimError> {
        if self.scenario.locking.discipline != Discipline::Incremental {
            return Ok(());
        }
        loop {
            let cycle = match self.txns[me as usize].waiting_on {
                Some(WaitOn::Lock(l)) => self.locks.holder(l).and_then(|h| self.find_cycle(me, h)),
                Some(WaitOn::TypeB(_)) => {
                    let olds: Vec<Attempt> = self.active_old().collect();
                    olds.into_iter().find_map(|o| self.find_cycle(me, o))
                }
                None => None,
            };
            let Some(cycle) = cycle else {
                return Ok(());
            };
            if self.break_cycle(me, cycle)? {
                return Ok(());
            }
        }
    }

    /// Aborts the youngest attempt of a wait-for cycle (latest first arrival, so an
    /// old transaction is never starved by younger ones); true when that was `me`.
    /// Every member is waiting for a lock during its reads, so it has written nothing.
    pub(super) fn break_cycle(
        &mut self,
        me: Attempt,
        mut cycle: Vec<Attempt>,
    ) -> Result<bool, SimError> {
        cycle.push(me);
        let victim = cycle
            .iter()
            .copied()
            .max_by_key(|&s| (self.txns[s as usize].origin, self.txns[s as usize].id))
            .expect("a cycle has members");
        match self.txns[victim as usize].waiting_on {
            Some(WaitOn::Lock(l) | WaitOn::TypeB(l)) => self.locks.withdraw(l, victim),
            None => debug_assert!(false, "a cycle member is not waiting"),
        }
        self.deadlock_abort(victim)?;
        Ok(victim == me)
    }

    /// When `me` waiting for `first` closes a cycle in the wait-for graph, the other
    /// members of that cycle (a type (b) wait waits for every active OLD attempt).
    pub(super) fn find_cycle(&self, me: Attempt, first: Attempt) -> Option<Vec<Attempt>> {
        let mut stack = vec![(first, me)];
        let mut parent: Vec<(Attempt, Attempt)> = Vec::new();
        while let Some((x, from)) = stack.pop() {
            if x == me {
                let mut path = Vec::new();
                let mut cur = from;
                while cur != me {
                    path.push(cur);
                    cur = parent.iter().find(|(c, _)| *c == cur).expect("visited").1;
                }
                return Some(path);
            }
            if parent.iter().any(|(c, _)| *c == x) {
                continue;
            }
            parent.push((x, from));
            match self.txns[x as usize].waiting_on {
                Some(WaitOn::Lock(l)) => stack.extend(self.locks.holder(l).map(|h| (h, x))),
                Some(WaitOn::TypeB(_)) => stack.extend(self.active_old().map(|o| (o, x))),
                None => {}
            }
        }
        None
    }

    pub(super) fn active_old(&self) -> impl Iterator<Item = Attempt> + '_ {
        self.txns
            .iter()
            .enumerate()
            .filter(|(_, t)| t.old && t.begun && t.stage != Stage::Done)
            .map(|(i, _)| i as Attempt)
    }

    /// Attempt `att` releases `lock`, handing it to its first waiter (if any). Each
    /// waiter is blamed, through `att`, for the backup-caused waits `att` ended since
    /// the waiter began waiting or `att` took the lock
    /// ([`crate::window::BackupWaits::lock_holder`]); those left waiting then wait for
    /// the new holder, from its backup-caused waits so far.
    pub(super) fn release_lock(&mut self, lock: u32, att: Attempt) {
        let Some(next) = self.locks.release(lock, att) else {
            return;
        };
        let delay = self.txns[att as usize].backup_delay_ticks;
        let blame = |t: &mut Txn| {
            t.lock_blame_ticks = t
                .lock_blame_ticks
                .saturating_add(delay.saturating_sub(t.lock_blame_base_ticks));
        };
        blame(&mut self.txns[next as usize]);
        let mut rest = std::mem::take(&mut self.lock_waiters_scratch);
        rest.extend(self.locks.waiters(lock));
        for &w in &rest {
            blame(&mut self.txns[w as usize]);
        }
        self.grant(next, lock);
        // The new holder's own blamed wait is in its delay now: the waiters behind it
        // are not blamed for it again.
        let base = self.txns[next as usize].backup_delay_ticks;
        for &w in &rest {
            self.txns[w as usize].lock_blame_base_ticks = base;
        }
        rest.clear();
        self.lock_waiters_scratch = rest;
    }

    /// A released lock passed to a waiter: it holds it now and resumes.
    pub(super) fn grant(&mut self, att: Attempt, lock: u32) {
        self.end_wait(att);
        let t = &mut self.txns[att as usize];
        t.held.push(lock.into(), ());
        let gen = t.gen;
        if t.stage == Stage::Locking {
            t.next_lock += 1;
        }
        self.q.schedule_in(0, Ev::Resume { att, gen });
    }

    /// A deadlock victim: it has written nothing yet (incremental 2PL takes every
    /// lock during its reads), so it just aborts, releases, and retries after a
    /// random backoff as a new attempt.
    pub(super) fn deadlock_abort(&mut self, att: Attempt) -> Result<(), SimError> {
        debug_assert!(self.txns[att as usize].before.is_empty());
        self.end_wait(att);
        self.tally.deadlock_aborts += 1;
        let t = &self.txns[att as usize];
        let (txn, backup_wait_ticks_max) = (t.id, t.backup_wait_max);
        self.log_with(|| Event::Abort {
            txn,
            backup_wait_ticks_max,
        });
        // Randomised exponential backoff (`retry_backoff_ticks`): random, so victims
        // do not retry in lockstep; the bound doubles with each retry of the label.
        let retries = self.txns[att as usize].retries + 1;
        let window = self.scenario.retry_backoff_ticks.max(1) << retries.min(10);
        let backoff = rng::uniform(&mut self.backoff_rng, 1, window);
        let (label, client, compute) = {
            let t = &self.txns[att as usize];
            (t.label, t.client, t.compute_ticks)
        };
        let ops = std::mem::take(&mut self.txns[att as usize].ops);
        let origin = self.txns[att as usize].origin;
        self.finish_attempt(att, Outcome::Aborted)?;
        let retry = self.new_attempt()?;
        self.load_spec(
            retry,
            TxnSpec {
                label,
                client,
                ops,
                compute_ticks: compute,
            },
        );
        let t = &mut self.txns[retry as usize];
        t.origin = origin;
        t.retries = retries;
        t.stage = Stage::Backoff;
        let gen = t.gen;
        self.begin_wait(retry, WaitKind::Backoff);
        self.q.schedule_in(backoff, Ev::Retry { att: retry, gen });
        Ok(())
    }
}
