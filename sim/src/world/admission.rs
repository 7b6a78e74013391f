//! Arrivals, queue 502 and its processes, the admission gate, begin and end of an
//! attempt.

use super::*;

impl World<'_> {
    pub(super) fn new_slot(&mut self) -> Result<Slot, SimError> {
        if u64::from(self.next_id) >= self.scenario.limits.attempts_max {
            return Err(SimError::Limit(format!(
                "more than {} transaction attempts",
                self.scenario.limits.attempts_max
            )));
        }
        let slot = match self.free_slots.pop() {
            Some(s) => s,
            None => {
                self.txns.push(Txn::empty());
                (self.txns.len() - 1) as Slot
            }
        };
        let id = self.next_id;
        self.next_id += 1;
        let t = &mut self.txns[slot as usize];
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
        while let Some((_, b)) = t.cache.pop() {
            self.spare_bufs.push(b);
        }
        while let Some((_, b)) = t.before.pop() {
            self.spare_bufs.push(b);
        }
        t.waiting = None;
        t.waiting_on = None;
        t.gate_wait = 0;
        t.abort_planned = false;
        t.waits.clear();
        t.arrived = self.q.now();
        t.origin = t.arrived;
        t.retries = 0;
        Ok(slot)
    }

    pub(super) fn arrive(&mut self, client: Option<u32>) -> Result<(), SimError> {
        let now = self.q.now();
        if client.is_none() {
            if let Some(t) = self.workload.next_arrival(now) {
                self.q.schedule_at(t, Ev::Arrive { client: None });
            }
        }
        // The slot first, so its old access list is recycled for the new shape (the
        // slot draws no random number: the order of draws is unchanged).
        let slot = self.new_slot()?;
        let mut ops = std::mem::take(&mut self.txns[slot as usize].ops);
        ops.clear();
        let spec = self.workload.shape(client, ops);
        self.load_spec(slot, spec);
        if self.pool.is_some() {
            let t = &mut self.txns[slot as usize];
            t.stage = Stage::Queued;
            t.waiting = Some((WaitKind::Queue, now));
            self.queue_502.push_back(slot);
            self.dispatch()
        } else {
            self.start(slot)
        }
    }

    pub(super) fn load_spec(&mut self, slot: Slot, spec: TxnSpec) {
        let t = &mut self.txns[slot as usize];
        t.label = spec.label;
        t.client = spec.client;
        t.ops = spec.ops;
        t.compute_ticks = spec.compute_ticks;
    }

    /// Hands queued transactions to free processes (Fig 4/5).
    pub(super) fn dispatch(&mut self) -> Result<(), SimError> {
        loop {
            let Some(pool) = self.pool.as_mut() else {
                return Ok(());
            };
            let Some(seat) = pool.busy.iter().position(|b| !b) else {
                return Ok(());
            };
            let Some(slot) = self.queue_502.pop_front() else {
                return Ok(());
            };
            pool.busy[seat] = true;
            let (label, generation) = (pool.labels[seat], pool.generation);
            let t = &mut self.txns[slot as usize];
            t.process = Some(label);
            t.pool_seat = Some((generation, seat));
            self.end_wait(slot);
            self.start(slot)?;
        }
    }

    /// The attempt starts working: conservative 2PL takes its locks first.
    pub(super) fn start(&mut self, slot: Slot) -> Result<(), SimError> {
        if let Some((WaitKind::Backoff, _)) = self.txns[slot as usize].waiting {
            self.end_wait(slot);
        }
        match self.scenario.locking.discipline {
            Discipline::Conservative => {
                let mut locks = std::mem::take(&mut self.txns[slot as usize].locks);
                locks.clear();
                locks.extend(
                    self.txns[slot as usize]
                        .ops
                        .iter()
                        .map(|op| self.lock_of(op.record())),
                );
                locks.sort_unstable();
                locks.dedup();
                let t = &mut self.txns[slot as usize];
                t.locks = locks;
                t.next_lock = 0;
                t.stage = Stage::Locking;
                self.lock_step(slot)
            }
            Discipline::Incremental => self.try_begin(slot),
        }
    }

    pub(super) fn try_begin(&mut self, slot: Slot) -> Result<(), SimError> {
        if self.gate_open {
            return self.begin(slot);
        }
        let t = &mut self.txns[slot as usize];
        t.stage = Stage::Gate;
        t.waiting = Some((WaitKind::Gate, self.q.now()));
        self.gate_waiters.push(slot);
        Ok(())
    }

    pub(super) fn begin(&mut self, slot: Slot) -> Result<(), SimError> {
        let now = self.q.now();
        let gate_wait = match self.txns[slot as usize].waiting {
            Some((WaitKind::Gate, since)) => now - since,
            _ => 0,
        };
        self.end_wait(slot);
        let abort = rng::chance(&mut self.aborts_rng, self.scenario.abort_probability);
        let split = self.split_done;
        let t = &mut self.txns[slot as usize];
        t.vlun = if split { Vlun::B } else { Vlun::A };
        t.old = !split;
        t.begun = true;
        t.admitted = Some(now);
        t.gate_wait = gate_wait;
        t.abort_planned = abort;
        t.stage = Stage::Reading;
        t.op = 0;
        let (id, vlun) = (t.id, t.vlun);
        self.active += 1;
        if split {
            self.tally.admission.push(gate_wait);
        }
        self.log(Event::Begin {
            txn: id,
            vlun,
            gate_wait_ticks: gate_wait,
        });
        self.step(slot)
    }

    pub(super) fn end_wait(&mut self, slot: Slot) {
        let now = self.q.now();
        let record_timeline = self.scenario.record_timeline;
        let t = &mut self.txns[slot as usize];
        t.waiting_on = None;
        if let Some((kind, since)) = t.waiting.take() {
            if matches!(kind, WaitKind::Lock | WaitKind::TypeB) {
                let d = now - since;
                self.tally.lock_waits += 1;
                self.tally.lock_wait_total += d;
                self.tally.lock_wait_max = self.tally.lock_wait_max.max(d);
            }
            if record_timeline {
                t.waits.push(Wait {
                    kind,
                    from_ticks: since,
                    until_ticks: now,
                });
            }
        }
    }

    pub(super) fn resume(&mut self, slot: Slot) -> Result<(), SimError> {
        match self.txns[slot as usize].stage {
            Stage::Locking => self.lock_step(slot),
            Stage::Reading => self.step(slot),
            Stage::Gate => self.begin(slot),
            _ => Ok(()),
        }
    }

    /// The attempt ends for good (commit or voluntary abort).
    pub(super) fn finish(&mut self, slot: Slot, outcome: Outcome) -> Result<(), SimError> {
        let client = self.txns[slot as usize].client;
        self.finish_attempt(slot, outcome)?;
        if let Some(c) = client {
            if let Some(t) = self.workload.client_done(c, self.q.now()) {
                self.q.schedule_at(t, Ev::Arrive { client: Some(c) });
            }
        }
        Ok(())
    }

    /// Ends an attempt: timeline row, locks released, policy told.
    pub(super) fn finish_attempt(&mut self, slot: Slot, outcome: Outcome) -> Result<(), SimError> {
        let now = self.q.now();
        let t = &mut self.txns[slot as usize];
        t.stage = Stage::Done;
        match outcome {
            Outcome::Committed => {
                self.tally.committed += 1;
                self.tally.response.push(now - t.origin);
            }
            Outcome::Aborted => self.tally.aborted += 1,
            Outcome::Unfinished => {}
        }
        if self.scenario.record_timeline {
            self.timeline.push(TxnTimeline {
                txn: t.id,
                label: t.label,
                process: t.process,
                old: t.begun && t.old,
                vlun: t.begun.then_some(t.vlun),
                arrived_ticks: t.arrived,
                admitted_ticks: t.admitted,
                ended_ticks: Some(now),
                outcome,
                waits: t.waits.clone(),
            });
        }
        let held = std::mem::take(&mut t.held);
        let (begun, old, seat) = (t.begun, t.old, t.pool_seat);
        for &lock in &held {
            if let Some(next) = self.locks.release(lock, slot) {
                self.grant(next, lock);
            }
        }
        self.txns[slot as usize].held = held;
        self.txns[slot as usize].held.clear();
        self.txns[slot as usize].gen = self.txns[slot as usize].gen.wrapping_add(1);
        self.free_slots.push(slot);
        if let (Some(pool), Some((generation, seat))) = (self.pool.as_mut(), seat) {
            if pool.generation == generation {
                pool.busy[seat] = false;
            }
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
