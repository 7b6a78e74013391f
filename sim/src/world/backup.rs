//! The backup policy's control flow: the request, the split, the admission gate,
//! A declared consistent, the archive copy and the retirement of VLUN A.
//! One pass of it is one backup cycle ([`super::cycle`]).

use super::*;

impl World<'_> {
    pub(super) fn close_gate(&mut self) {
        if self.gate_open {
            self.gate_open = false;
            self.gate_closed_since = self.q.now();
        }
    }

    /// A cycle's request (asked for at `asked`, served now).
    pub(super) fn request(&mut self, asked: Tick) -> Result<(), SimError> {
        let now = self.q.now();
        self.marks.request = Some(asked);
        match self.policy {
            Policy::Owm(_) => {
                self.close_gate();
                if !self.split()? {
                    return self.dispatch();
                }
                self.locks.hold_type_b();
                self.schedule_b_ready(now);
                // Declared by `after_end` once the call completed and the OLD ended.
                self.split_call_done_now(now);
                self.after_end()?;
                self.dispatch()
            }
            // Never requested (`run` schedules no request under `None`).
            Policy::None => Ok(()),
            Policy::Quiesce => {
                self.quiesce_attempt();
                self.rotate_pool();
                self.after_end()?;
                self.dispatch()
            }
            Policy::CrashConsistent => {
                if !self.split()? {
                    return self.dispatch();
                }
                // Everyone in flight carries on through VLUN B; A is copied as it is,
                // once the split's call has completed.
                self.in_flight_to(Vlun::B);
                self.marks.vlun_b_ready = Some(now);
                self.log(Event::BReady);
                if self.split_call_done_now(now) {
                    self.declare_a_consistent()?;
                }
                self.dispatch()
            }
        }
    }

    /// Quiesce: close the gate and wait for the active transactions to end, within the
    /// deadline when there is one.
    pub(super) fn quiesce_attempt(&mut self) {
        self.close_gate();
        self.quiesce_pending = true;
        self.quiesce_attempts += 1;
        if let Some(d) = self.scenario.backup.quiesce_deadline_ticks {
            let attempt = self.quiesce_attempts;
            self.q.schedule_in(d, Ev::QuiesceDeadline { attempt });
        }
    }

    /// A retry after a missed deadline.
    pub(super) fn quiesce_retry(&mut self) -> Result<(), SimError> {
        self.quiesce_attempt();
        // The copy is asked for again: only what runs beside it from now on counts
        // (the missed attempt's transactions waited, and count for non-disruption,
        // but copied nothing).
        self.open_span(beside::Span::CopyOfA);
        self.marks.quiesce_retries.push(self.q.now());
        self.log(Event::QuiesceRetry {
            attempt: self.quiesce_attempts,
        });
        self.after_end()
    }

    /// The freeze limit passed: if the active transactions have not all ended, the
    /// attempt fails, the gate reopens, and the backup is retried after the back-off or,
    /// past `quiesce_retries_max`, given up (the run ends without a backup).
    pub(super) fn quiesce_deadline(&mut self, attempt: u32) -> Result<(), SimError> {
        if !self.quiesce_pending || attempt != self.quiesce_attempts {
            return Ok(());
        }
        self.quiesce_pending = false;
        self.tally.quiesce_timeouts += 1;
        self.marks.quiesce_timeouts.push(self.q.now());
        self.log(Event::QuiesceTimeout { attempt });
        self.open_gate()?;
        let before = self.cycle.as_ref().map_or(0, |c| c.quiesce_attempts_before);
        if attempt - before <= self.scenario.backup.quiesce_retries_max {
            let backoff = self.scenario.backup.quiesce_retry_backoff_ticks;
            let cycle = self.cycle_number();
            self.q.schedule_in(backoff, Ev::QuiesceRetry { cycle });
        } else {
            self.mark_given_up();
            self.end_cycle(self.q.now());
        }
        Ok(())
    }

    /// The backup of the cycle in progress is given up before any split (no VLUN A was
    /// declared): counted, marked on the cycle and recorded (`Event::GiveUp`). The
    /// caller ends the cycle.
    fn mark_given_up(&mut self) {
        self.tally.backup_given_up = true;
        if let Some(c) = self.cycle.as_mut() {
            c.given_up = true;
        }
        self.marks.given_up = Some(self.q.now());
        self.log(Event::GiveUp);
    }

    /// Every begun transaction still running goes on through `vlun`, as an OLD one of
    /// the cycle being split.
    fn in_flight_to(&mut self, vlun: Vlun) {
        for t in self.txns.iter_mut() {
            if t.begun && t.stage != Stage::Done {
                t.vlun = vlun;
                t.old = true;
            }
        }
    }

    /// Splits the volume: the engine's split, priced on the device's channels (its
    /// barriers; at a later cycle under mirroring, the resync of image A from the live
    /// image B: one read and one write per block VLUN B wrote since the split before,
    /// [`engine::Device::split_counted`]). The split is the backup's own I/O:
    /// no transient error or rot is injected into it (as into retire's). A block of
    /// image B already failing its checksum (integrity mode: rotted at rest before)
    /// stops the resync: the backup of this cycle is given up ([`World::resync_lost`])
    /// and `Ok(false)` returned. `Ok(true)`: split.
    pub(super) fn split(&mut self) -> Result<bool, SimError> {
        let now = self.q.now();
        let first = !self.split_done;
        let before = self.dev.counters();
        let armed = self.set_faults_armed(false);
        let split = self.dev.split_counted();
        self.set_faults_armed(armed);
        let cost = match split {
            Ok(cost) => cost,
            Err(e) if faults::integrity(&e) => {
                let cost = counted_since(&before, &self.dev.counters());
                self.tally.backup_io.add(&cost);
                self.backup_call(now, &cost);
                self.resync_lost()?;
                return Ok(false);
            }
            Err(e) => return Err(engine_err(now)(e)),
        };
        self.tally.backup_io.add(&cost);
        self.split_call_end = self.backup_call(now, &cost);
        self.split_done = true;
        self.old_active = self.active;
        if !first && self.policy.is_owm() {
            // The transactions running on VLUN B (the live volume since the last
            // retire) are this cycle's OLD ones: they finish on VLUN A, which shows
            // the live volume at the split.
            self.in_flight_to(Vlun::A);
        }
        self.marks.split = Some(now);
        self.marks.split_done = (self.split_call_end > now).then_some(self.split_call_end);
        self.log(Event::Split);
        if first && self.policy != Policy::Quiesce {
            self.rotate_pool();
        }
        Ok(true)
    }

    /// A later cycle's split under mirroring met a block of image B failing its
    /// checksum while resyncing image A (integrity mode): image A cannot be made to
    /// mirror the live volume, so no point-in-time copy of it can be taken. The
    /// device stays retired (the engine's split changed nothing), the backup of this
    /// cycle is given up before any split (as a quiesce past its deadline: no VLUN A
    /// is ever declared), the gate reopens and the cycle ends; a later cycle resyncs
    /// again (the block is readable again once a user rewrites it).
    fn resync_lost(&mut self) -> Result<(), SimError> {
        let now = self.q.now();
        self.count(|c| {
            c.integrity_detections += 1;
            c.resyncs_lost += 1;
        });
        self.mark_given_up();
        self.open_gate()?;
        self.end_cycle(now);
        Ok(())
    }

    /// Fig 4/5 ([0051]): the application's processes rotate once, at the first backup
    /// request: 503/504 finish what they hold, 507/508 take queue 502 from then on.
    /// The rotation is the application's, not the storage's, so it happens under every
    /// policy at the same time: at the split where the request splits at once, at the
    /// request under `quiesce` (whose split waits for the old transactions) and under
    /// `none` (which has no request; the run schedules [`Ev::PoolRotate`] instead).
    /// The pool stays bounded: a seat an old transaction holds passes to 507/508 only
    /// when it ends. Without both, a split would give the queue extra processes that
    /// `none` never has.
    pub(super) fn rotate_pool(&mut self) {
        if let Some(pool) = self.pool.as_mut().filter(|p| p.generation == 0) {
            // A seat 503/504 holds stays taken until its transaction ends: the
            // application serves the queue with the same number of processes before,
            // during and after the rotation.
            pool.labels = pool.after.clone();
            pool.generation += 1;
            self.hand_back_unbegun();
        }
    }

    /// Fig 4/5 at the split: a transaction 503/504 took but has not begun (still
    /// taking its locks, or at the gate) is a new one, and no new transaction goes to
    /// 503/504 ([0051]): it returns to the head of queue 502, in arrival order,
    /// releasing any lock it took (it has done nothing under them), for 507/508.
    fn hand_back_unbegun(&mut self) {
        let mut back: Vec<Attempt> = self
            .txns
            .iter()
            .enumerate()
            .filter(|(_, t)| {
                !t.begun && t.pool_seat.is_some() && matches!(t.stage, Stage::Locking | Stage::Gate)
            })
            .map(|(i, _)| i as Attempt)
            .collect();
        back.sort_by_key(|&s| (self.txns[s as usize].arrived, self.txns[s as usize].id));
        for &att in back.iter().rev() {
            if let Some(WaitOn::Lock(l) | WaitOn::TypeB(l)) = self.txns[att as usize].waiting_on {
                self.locks.withdraw(l, att);
            }
            self.end_wait(att);
            self.gate_waiters.retain(|&g| g != att);
            let held = std::mem::take(&mut self.txns[att as usize].held);
            for &(lock, ()) in held.as_slice() {
                self.release_lock(lock as u32, att);
            }
            let t = &mut self.txns[att as usize];
            t.held = held;
            t.held.clear();
            t.locks.clear();
            t.next_lock = 0;
            if let (Some(pool), Some((_, seat))) = (self.pool.as_mut(), t.pool_seat) {
                pool.busy[seat] = false;
            }
            t.pool_seat = None;
            t.process = None;
            t.stage = Stage::Queued;
            // Drop any pending resume of the attempt it was.
            t.gen = t.gen.wrapping_add(1);
            self.begin_wait(att, WaitKind::Queue);
            self.queue_502.push_front(att);
        }
    }

    /// Called whenever an attempt ends (and at the request): A may be consistent now.
    pub(super) fn after_end(&mut self) -> Result<(), SimError> {
        if self.quiesce_pending && self.active == 0 {
            self.quiesce_pending = false;
            let now = self.q.now();
            if self.split()? {
                if self.split_call_done_now(now) {
                    self.declare_a_consistent()?;
                }
                self.schedule_b_ready(now);
            }
        }
        // This cycle's split (`marks` start afresh with each cycle): a cycle given up
        // at its split ([`World::resync_lost`]) declares no VLUN A.
        if self.policy.is_owm()
            && self.marks.split.is_some()
            && !self.a_consistent_done
            && !self.a_abandoned
            && self.old_active == 0
        {
            // Not before the split's call completes ([`Ev::SplitDone`] comes back).
            if self.q.now() >= self.split_call_end {
                self.declare_a_consistent()?;
            }
        }
        Ok(())
    }

    /// Whether the split made at `now` has completed its own device call already (it
    /// took no time); if not, [`Ev::SplitDone`] comes back when it does.
    fn split_call_done_now(&mut self, now: Tick) -> bool {
        if self.split_call_end <= now {
            return true;
        }
        let cycle = self.cycle_number();
        self.q
            .schedule_at(self.split_call_end, Ev::SplitDone { cycle });
        false
    }

    /// VLUN B ready at the end of the setup window from `split_at`. Under a one-way
    /// mirror the split's own call goes on meanwhile on a channel (users' calls queue
    /// behind it: waits the backup causes) and only VLUN A waits for it
    /// ([`Ev::SplitDone`]); under quiesce the split is the point-in-time copy the
    /// users are held for, so they are held until it completes too.
    fn schedule_b_ready(&mut self, split_at: Tick) {
        let setup = self.scenario.backup.setup_window_ticks;
        let mut at = split_at.saturating_add(setup);
        if self.policy == Policy::Quiesce {
            at = at.max(self.split_call_end);
        }
        let cycle = self.cycle_number();
        self.q.schedule_at(at, Ev::BReady { cycle });
    }

    /// The split's own call has completed ([`Ev::SplitDone`]): VLUN A is declared
    /// consistent now if its OLD transactions have all ended (quiesce: they had).
    pub(super) fn split_call_done(&mut self) -> Result<(), SimError> {
        let standing = !self.a_consistent_done && !self.a_abandoned;
        match self.policy {
            Policy::CrashConsistent | Policy::Quiesce if standing => self.declare_a_consistent()?,
            _ => self.after_end()?,
        }
        self.end_cycle_if_retired();
        self.dispatch()
    }

    pub(super) fn declare_a_consistent(&mut self) -> Result<(), SimError> {
        let now = self.q.now();
        self.a_consistent_done = true;
        self.marks.a_consistent = Some(now);
        if self.oracle.is_some() {
            let image = self.read_image(Vlun::A)?;
            self.log(Event::AConsistent { image });
        }
        for (att, _) in self.locks.release_type_b() {
            let gen = self.txns[att as usize].gen;
            self.end_wait(att);
            self.q.schedule_in(0, Ev::Resume { att, gen });
        }
        self.start_archive();
        Ok(())
    }

    pub(super) fn b_ready(&mut self) -> Result<(), SimError> {
        let now = self.q.now();
        self.marks.vlun_b_ready = Some(now);
        self.log(Event::BReady);
        self.end_cycle_if_retired();
        self.open_gate()
    }

    /// Reopens the admission gate: every transaction held there begins.
    pub(super) fn open_gate(&mut self) -> Result<(), SimError> {
        let now = self.q.now();
        if !self.gate_open {
            self.gate_open = true;
            self.tally.unavailable = self
                .tally
                .unavailable
                .saturating_add(now - self.gate_closed_since);
        }
        let waiters = std::mem::take(&mut self.gate_waiters);
        for att in waiters {
            self.begin(att)?;
        }
        Ok(())
    }

    /// The data area filled under `break-snapshot`: the backup is abandoned. VLUN A is
    /// dropped with no archive ([`engine::Device::abandon_a`]; write logging's merge
    /// priced on the device like a retire), the archive copy stops, transactions still
    /// running on VLUN A carry on through VLUN B (each of their writes through A
    /// reached B too), type (b) areas are released, and A is never declared consistent
    /// afterwards. The users go on undisturbed; the run reports the backup abandoned.
    pub(super) fn abandon_backup(&mut self) -> Result<(), SimError> {
        let now = self.q.now();
        let armed = self.set_faults_armed(false);
        let held = self.dev.space_in_use().data_area_blocks;
        let abandoned = self.dev.abandon_a().map_err(engine_err(now));
        self.set_faults_armed(armed);
        let cost = abandoned?;
        self.tally.backup_abandoned = true;
        self.a_abandoned = true;
        self.archive_copy = None;
        self.marks.abandoned = Some(now);
        self.log(Event::Abandon);
        self.retired(now, &cost, held);
        for t in self.txns.iter_mut() {
            if t.begun && t.stage != Stage::Done && t.vlun == Vlun::A {
                t.vlun = Vlun::B;
            }
        }
        for (att, _) in self.locks.release_type_b() {
            let gen = self.txns[att as usize].gen;
            self.end_wait(att);
            self.q.schedule_in(0, Ev::Resume { att, gen });
        }
        Ok(())
    }
}

/// The operations the device counted from `before` to `after` (a failed call's
/// partial work, which the engine charges but does not return).
fn counted_since(before: &engine::Counters, after: &engine::Counters) -> IoCost {
    let n = |a: u64, b: u64| u32::try_from(b.saturating_sub(a)).unwrap_or(u32::MAX);
    IoCost {
        reads_a: n(before.image_a_reads, after.image_a_reads),
        writes_a: n(before.image_a_writes, after.image_a_writes),
        reads_b: n(before.image_b_reads, after.image_b_reads),
        writes_b: n(before.image_b_writes, after.image_b_writes),
        table_lookups: n(before.table_lookups, after.table_lookups),
        table_inserts: n(before.table_inserts, after.table_inserts),
        table_removes: n(before.table_removes, after.table_removes),
        flushes: n(before.flushes, after.flushes),
        ..IoCost::default()
    }
}
