//! Arrivals, queue 502 and its processes, the admission gate, begin and end of an
//! attempt.

use super::*;

impl World<'_> {
    pub(super) fn new_attempt(&mut self) -> Result<Attempt, SimError> {
        if u64::from(self.next_id) >= self.scenario.limits.attempts_max {
            return Err(SimError::Limit {
                key: "limits.attempts_max",
                what: format!(
                    "more than {} transaction attempts",
                    self.scenario.limits.attempts_max
                ),
            });
        }
        let att = match self.free_attempts.pop() {
            Some(s) => s,
            None => {
                let (most, bytes_each, room_bytes) = self.in_flight_max;
                if self.txns.len() as u64 >= most {
                    return Err(SimError::Backlog {
                        at: self.q.now(),
                        attempts: most + 1,
                        bytes_each,
                        room_bytes,
                    });
                }
                self.txns.push(Txn::empty());
                (self.txns.len() - 1) as Attempt
            }
        };
        let id = self.next_id;
        self.next_id += 1;
        let t = &mut self.txns[att as usize];
        t.id = id;
        t.gen = t.gen.wrapping_add(1);
        t.process = None;
        t.pool_seat = None;
        t.admitted = None;
        t.vlun = Vlun::A;
        t.old = false;
        t.begun = false;
        t.locks.clear();
        t.next_lock = 0;
        t.held.clear();
        t.op = 0;
        t.values.clear();
        for (_, b) in t.cache.drain() {
            self.spare_bufs.push(b);
        }
        for (_, b) in t.before.drain() {
            self.spare_bufs.push(b);
        }
        t.waiting = None;
        t.waiting_on = None;
        t.gate_wait = 0;
        t.backup_wait_max = 0;
        t.backup_delay_ticks = 0;
        t.backup_delay_pending_ticks = 0;
        t.lock_blame_base_ticks = 0;
        t.lock_blame_ticks = 0;
        t.abort_planned = false;
        t.calls = 0;
        t.waits.clear();
        t.arrived = self.q.now();
        t.origin = t.arrived;
        t.retries = 0;
        Ok(att)
    }

    pub(super) fn arrive(&mut self, client: Option<u32>) -> Result<(), SimError> {
        let now = self.q.now();
        if client.is_none() {
            if let Some(t) = self.workload.next_arrival(now) {
                self.q.schedule_at(t, Ev::Arrive { client: None });
            }
        }
        // The attempt first, so its old access list is recycled for the new shape (the
        // attempt draws no random number: the order of draws is unchanged).
        let att = self.new_attempt()?;
        let mut ops = std::mem::take(&mut self.txns[att as usize].ops);
        ops.clear();
        let spec = self.workload.shape(client, ops);
        self.load_spec(att, spec);
        if self.pool.is_some() {
            let t = &mut self.txns[att as usize];
            t.stage = Stage::Queued;
            self.begin_wait(att, WaitKind::Queue);
            self.queue_502.push_back(att);
            self.dispatch()
        } else {
            self.start(att)
        }
    }

    pub(super) fn load_spec(&mut self, att: Attempt, spec: TxnSpec) {
        let t = &mut self.txns[att as usize];
        t.label = spec.label;
        t.client = spec.client;
        t.ops = spec.ops;
        t.compute_ticks = spec.compute_ticks;
    }

    /// Hands queued transactions to free processes (Fig 4/5). Inlined as a test of the
    /// pool: a run without one calls nothing.
    #[inline]
    pub(super) fn dispatch(&mut self) -> Result<(), SimError> {
        if self.pool.is_none() {
            return Ok(());
        }
        self.dispatch_to_pool()
    }

    /// [`World::dispatch`] with a pool.
    #[inline(never)]
    fn dispatch_to_pool(&mut self) -> Result<(), SimError> {
        loop {
            let Some(pool) = self.pool.as_mut() else {
                return Ok(());
            };
            let Some(seat) = pool.busy.iter().position(|b| !b) else {
                return Ok(());
            };
            let Some(att) = self.queue_502.pop_front() else {
                return Ok(());
            };
            pool.busy[seat] = true;
            let (label, generation) = (pool.labels[seat], pool.generation);
            let t = &mut self.txns[att as usize];
            t.process = Some(label);
            t.pool_seat = Some((generation, seat));
            self.end_wait(att);
            self.start(att)?;
        }
    }

    /// The attempt starts working: conservative 2PL takes its locks first.
    pub(super) fn start(&mut self, att: Attempt) -> Result<(), SimError> {
        // Its blocks hinted now, in the engine's tables and (a history kept) the
        // judge's: their cache lines load while the locks are taken and the attempt's
        // earlier steps run, many misses at once rather than one a step. Only where the
        // tables outgrow the cache ([`io::PREFETCH_MIN_BLOCKS`]). A hint a step ahead
        // instead (at each I/O's completion) left the judge's line still loading when
        // its step came: 10^7 transactions on 1 TiB took 13 % more CPU (BENCHMARKS.md,
        // "Every block of an attempt hinted when it starts").
        if self.prefetch {
            let vlun = if self.split_done { Vlun::B } else { Vlun::A };
            let ops = &self.txns[att as usize].ops;
            for op in ops {
                self.dev.prefetch(vlun, self.place.block_of(op.record()));
            }
            if let Some(o) = self.oracle.as_ref() {
                for op in ops {
                    o.judge.prefetch_block(self.place.block_of(op.record()));
                }
            }
        }
        if let Some((WaitKind::Backoff, _)) = self.txns[att as usize].waiting {
            self.end_wait(att);
        }
        match self.scenario.locking.discipline {
            Discipline::Conservative => {
                let mut locks = std::mem::take(&mut self.txns[att as usize].locks);
                locks.clear();
                locks.extend(
                    self.txns[att as usize]
                        .ops
                        .iter()
                        .map(|op| self.lock_of(op.record())),
                );
                sort_small(&mut locks);
                locks.dedup();
                let t = &mut self.txns[att as usize];
                t.locks = locks;
                t.next_lock = 0;
                t.stage = Stage::Locking;
                self.lock_step(att)
            }
            Discipline::Incremental => self.try_begin(att),
        }
    }

    pub(super) fn try_begin(&mut self, att: Attempt) -> Result<(), SimError> {
        if self.gate_open {
            return self.begin(att);
        }
        let t = &mut self.txns[att as usize];
        t.stage = Stage::Gate;
        self.begin_wait(att, WaitKind::Gate);
        self.gate_waiters.push(att);
        Ok(())
    }

    pub(super) fn begin(&mut self, att: Attempt) -> Result<(), SimError> {
        let now = self.q.now();
        let gate_wait = match self.txns[att as usize].waiting {
            Some((WaitKind::Gate, since)) => now - since,
            _ => 0,
        };
        self.end_wait(att);
        let split = self.split_done;
        let t = &mut self.txns[att as usize];
        // Drawn from the transaction's label and retry count, not in begin order: the
        // same transactions abort under every policy, whatever order they begin in.
        let abort = rng::keyed_chance(
            self.aborts_key,
            (u64::from(t.label) << 32) | u64::from(t.retries),
            self.scenario.abort_probability,
        );
        t.vlun = if split { Vlun::B } else { Vlun::A };
        t.old = !split;
        t.begun = true;
        t.admitted = Some(now);
        t.gate_wait = gate_wait;
        t.abort_planned = abort;
        t.stage = Stage::Reading;
        t.op = 0;
        let (id, vlun, label) = (t.id, t.vlun, t.label);
        self.active += 1;
        // Every attempt admitted since the first split, and before it every attempt
        // the gate held (at a quiesce attempt that missed its deadline: its users
        // waited all the same).
        if split || gate_wait > 0 {
            self.tally.admission.push(gate_wait);
        }
        if let Some(o) = self.oracle.as_mut() {
            o.judge.label(id, label);
        }
        self.log_with(|| Event::Begin {
            txn: id,
            vlun,
            gate_wait_ticks: gate_wait,
        });
        self.step(att)
    }

    /// Attempt `att` starts waiting now, for `kind`. An attempt waits for one thing at
    /// a time: its waits follow one another, never nest ([`World::end_wait`] closes
    /// the one open).
    pub(super) fn begin_wait(&mut self, att: Attempt, kind: WaitKind) {
        let now = self.q.now();
        let t = &mut self.txns[att as usize];
        assert!(
            t.waiting.is_none(),
            "txn {}: a {kind:?} wait begins inside a {:?} wait",
            t.id,
            t.waiting
        );
        t.waiting = Some((kind, now));
    }

    /// Attempt `att`'s wait (if any) ends now: counted and put on its timeline. A wait
    /// that ends at the tick it began (the lock released, the gate opened, a process
    /// free in that same tick) held nothing up: it is neither counted in the lock
    /// waits nor shown on the timeline, so every wait of `trace.csv` lasts at least a
    /// tick.
    ///
    /// Inlined as a test of the wait: an attempt that was not waiting calls nothing.
    #[inline]
    pub(super) fn end_wait(&mut self, att: Attempt) {
        let t = &mut self.txns[att as usize];
        t.waiting_on = None;
        if t.waiting.is_some() {
            self.end_waiting(att);
        }
    }

    /// [`World::end_wait`] of an attempt that was waiting.
    #[inline(never)]
    fn end_waiting(&mut self, att: Attempt) {
        let now = self.q.now();
        let keep_timeline = self.scenario.keep_timeline;
        let t = &mut self.txns[att as usize];
        if let Some((kind, since)) = t.waiting.take() {
            if since == now {
                return;
            }
            if matches!(kind, WaitKind::Lock | WaitKind::TypeB) {
                let d = now - since;
                self.tally.lock_waits += 1;
                self.tally.lock_wait_total = self.tally.lock_wait_total.saturating_add(d);
                self.tally.lock_wait_max = self.tally.lock_wait_max.max(d);
            }
            let d = now - since;
            // A gate or type (b) wait is the cycle's whose gate or lock held it: the
            // window open when it began.
            let backup_wait = match kind {
                WaitKind::Gate | WaitKind::TypeB => match self.window_waits_at(since) {
                    Some(w) if kind == WaitKind::Gate => {
                        w.gate.add(d);
                        d
                    }
                    Some(w) => {
                        w.type_b.add(d);
                        d
                    }
                    None => 0,
                },
                _ => 0,
            };
            // A lock wait's share blamed on the backup through its holders, at most
            // the wait: the window open when it ended.
            let blamed = match kind {
                WaitKind::Lock => {
                    let blamed =
                        std::mem::take(&mut self.txns[att as usize].lock_blame_ticks).min(d);
                    match self.window_waits() {
                        Some(w) if blamed > 0 => {
                            w.lock_holder.add(blamed);
                            blamed
                        }
                        _ => 0,
                    }
                }
                _ => 0,
            };
            let t = &mut self.txns[att as usize];
            t.backup_wait_max = t.backup_wait_max.max(backup_wait);
            t.backup_delay_ticks = t
                .backup_delay_ticks
                .saturating_add(backup_wait)
                .saturating_add(blamed);
            if keep_timeline {
                t.waits.push(Wait {
                    kind,
                    from_ticks: since,
                    until_ticks: now,
                });
            }
        }
    }

    pub(super) fn resume(&mut self, att: Attempt) -> Result<(), SimError> {
        match self.txns[att as usize].stage {
            Stage::Locking => self.lock_step(att),
            Stage::Reading => self.step(att),
            Stage::Gate => self.begin(att),
            _ => Ok(()),
        }
    }

    /// The attempt ends for good (commit or voluntary abort).
    pub(super) fn finish(&mut self, att: Attempt, outcome: Outcome) -> Result<(), SimError> {
        let client = self.txns[att as usize].client;
        self.finish_attempt(att, outcome)?;
        if let Some(c) = client {
            if let Some(t) = self.workload.client_done(c, self.q.now()) {
                self.q.schedule_at(t, Ev::Arrive { client: Some(c) });
            }
        }
        Ok(())
    }

    /// Ends an attempt: timeline row, locks released, policy told.
    pub(super) fn finish_attempt(
        &mut self,
        att: Attempt,
        outcome: Outcome,
    ) -> Result<(), SimError> {
        let now = self.q.now();
        self.last_txn_ticks = self.last_txn_ticks.max(now);
        self.attempt_ends_beside(att);
        let origin = self.txns[att as usize].origin;
        match outcome {
            Outcome::Committed => {
                self.tally.committed += 1;
                self.tally.response.push(now - origin);
                self.note_response(origin, now - origin);
                if self.policy == Policy::None {
                    self.tally.by_arrival.push((origin, now - origin));
                }
            }
            Outcome::Aborted => self.tally.aborted += 1,
            Outcome::Unfinished => {}
        }
        let t = &mut self.txns[att as usize];
        t.stage = Stage::Done;
        if self.scenario.keep_timeline {
            let row = TxnTimeline {
                txn: t.id,
                label: t.label,
                process: t.process,
                old: t.begun && t.old,
                vlun: t.begun.then_some(t.vlun),
                arrived_ticks: t.arrived,
                admitted_ticks: t.admitted,
                ended_ticks: Some(now),
                outcome,
                waits: std::mem::take(&mut t.waits),
            };
            match self.sink.as_mut() {
                Some(sink) => {
                    sink.attempt(&row);
                    // The attempt's buffer goes back for its next use.
                    t.waits = row.waits;
                }
                None => self.timeline.push(row),
            }
        }
        let held = std::mem::take(&mut t.held);
        let (begun, old, seat) = (t.begun, t.old, t.pool_seat);
        for &(lock, ()) in held.as_slice() {
            self.release_lock(lock as u32, att);
        }
        self.txns[att as usize].held = held;
        self.txns[att as usize].held.clear();
        self.txns[att as usize].gen = self.txns[att as usize].gen.wrapping_add(1);
        self.free_attempts.push(att);
        if let (Some(pool), Some((_, seat))) = (self.pool.as_mut(), seat) {
            pool.busy[seat] = false;
        }
        if begun {
            self.active -= 1;
            if old && self.split_done {
                self.old_active -= 1;
            }
        }
        self.after_end()?;
        self.dispatch()
    }
}

/// Sorts `xs` ascending: a sorting network of minima and maxima for two to four
/// locks (no branch on the ids, which are random, so a branch would be mispredicted),
/// an insertion sort for the few locks of one transaction (no call into the general
/// sort), the general sort beyond [`SORT_SMALL_MAX`].
fn sort_small(xs: &mut [u32]) {
    /// Orders `xs[i]` and `xs[j]` (i < j) without a branch.
    fn exchange(xs: &mut [u32], i: usize, j: usize) {
        let (a, b) = (xs[i], xs[j]);
        xs[i] = a.min(b);
        xs[j] = a.max(b);
    }
    match xs.len() {
        2 => return exchange(xs, 0, 1),
        3 => {
            exchange(xs, 0, 1);
            exchange(xs, 1, 2);
            return exchange(xs, 0, 1);
        }
        4 => {
            exchange(xs, 0, 1);
            exchange(xs, 2, 3);
            exchange(xs, 0, 2);
            exchange(xs, 1, 3);
            return exchange(xs, 1, 2);
        }
        n if n > SORT_SMALL_MAX => {
            xs.sort_unstable();
            return;
        }
        _ => {}
    }
    for i in 1..xs.len() {
        let x = xs[i];
        let mut j = i;
        while j > 0 && xs[j - 1] > x {
            xs[j] = xs[j - 1];
            j -= 1;
        }
        xs[j] = x;
    }
}

/// Longest lock list [`sort_small`] sorts by insertion.
const SORT_SMALL_MAX: usize = 16;

#[cfg(test)]
mod tests {
    use super::*;

    /// The same order as the general sort, at every length on both sides of the
    /// insertion sort's limit, repeats included.
    #[test]
    fn sort_small_sorts() {
        let mut x: u32 = 7;
        for n in 0..=SORT_SMALL_MAX + 3 {
            for _ in 0..50 {
                let xs: Vec<u32> = (0..n)
                    .map(|_| {
                        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                        (x >> 24) % 20
                    })
                    .collect();
                let (mut ours, mut want) = (xs.clone(), xs);
                sort_small(&mut ours);
                want.sort_unstable();
                assert_eq!(ours, want);
            }
        }
    }
}
