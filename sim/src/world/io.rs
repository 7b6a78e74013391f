//! A begun attempt's block I/O through the engine: reads, read-modify-writes,
//! rollback of before-images; each call priced by the device model.

use super::*;

/// Volume blocks from which an attempt's blocks are hinted when it starts, to the
/// engine ([`Device::prefetch`]) and to the judge ([`World::start`]): 2^16 blocks,
/// whose store table (a 32-byte entry per written block) and entry index (4 bytes per
/// block) take about 2.3 MiB, past a core's 1-2 MiB second-level cache. Below it the
/// hint finds its lines in the cache and costs a lock of the store per block (6-7 % of
/// a 1024-block run's time).
pub(super) const PREFETCH_MIN_BLOCKS: u64 = 1 << 16;

impl World<'_> {
    pub(super) fn io_done(&mut self, att: Attempt) -> Result<(), SimError> {
        let t = &mut self.txns[att as usize];
        t.backup_delay_ticks = t
            .backup_delay_ticks
            .saturating_add(std::mem::take(&mut t.backup_delay_pending_ticks));
        if self.txns[att as usize].stage == Stage::RollingBack {
            // An abort is acknowledged once its rollback is durable.
            self.durability_flush()?;
            let t = &self.txns[att as usize];
            let (txn, backup_wait_ticks_max) = (t.id, t.backup_wait_max);
            self.log_with(|| Event::Abort {
                txn,
                backup_wait_ticks_max,
            });
            return self.finish(att, Outcome::Aborted);
        }
        // The last thing this event does: a zero-tick compute may follow at once.
        match self.txns[att as usize].stage {
            Stage::Reading => self.read_step_then(att, true),
            _ => self.step(att),
        }
    }

    pub(super) fn complete_io(&mut self, att: Attempt, cost: &IoCost) {
        let now = self.q.now();
        self.tally.io.add(cost);
        let t = &mut self.txns[att as usize];
        let call = crate::device_model::call_id(Some(u64::from(t.id)), u64::from(t.calls));
        t.calls += 1;
        let (commit_barrier, gen) = (t.stage == Stage::Committing, t.gen);
        let done = self.device_model.complete(now, cost, call);
        self.note_user_call(
            att,
            cost,
            done.behind_backup_ticks,
            done.behind_copy_ticks.saturating_add(done.own_copy_ticks),
            commit_barrier,
        );
        let at = done.at.saturating_add(self.latency_spike());
        self.q.schedule_at(at, Ev::IoDone { att, gen });
    }

    /// The next step of a begun attempt: one read, the compute, one write, or the end.
    pub(super) fn step(&mut self, att: Attempt) -> Result<(), SimError> {
        match self.txns[att as usize].stage {
            Stage::Reading => self.read_step(att),
            Stage::Writing => self.write_step(att),
            Stage::Committing => self.commit(att),
            _ => Ok(()),
        }
    }

    pub(super) fn read_step(&mut self, att: Attempt) -> Result<(), SimError> {
        self.read_step_then(att, false)
    }

    /// [`World::read_step`]; `last` when the step is the last thing the event being
    /// fired does. Then a compute of zero ticks after the last read is fired by a
    /// direct call instead of through the queue when no other event is due at this
    /// tick: scheduled now, it would be the next event popped (every pending event is
    /// later, and the firing event schedules nothing after it), so the order of
    /// everything is the same. It still counts as an event.
    fn read_step_then(&mut self, att: Attempt, last: bool) -> Result<(), SimError> {
        let now = self.q.now();
        // A blind write reads nothing (its value slot is kept for the write phase).
        let t = &mut self.txns[att as usize];
        while let Some(Op::Put { .. }) = t.ops.get(t.op) {
            t.values.push(0);
            t.op += 1;
        }
        let t = &self.txns[att as usize];
        let Some(&op) = t.ops.get(t.op) else {
            let t = &mut self.txns[att as usize];
            t.stage = Stage::Computing;
            let (gen, c) = (t.gen, t.compute_ticks);
            if last
                && c == 0
                && !self.q.due_now()
                && self.q.fired() < self.scenario.limits.events_max
            {
                self.q.count_direct();
                return self.compute_done(att);
            }
            self.q.schedule_in(c, Ev::ComputeDone { att, gen });
            return Ok(());
        };
        let record = op.record();
        if self.scenario.locking.discipline == Discipline::Incremental {
            let lock = self.lock_of(record);
            let is_new = !self.txns[att as usize].old;
            if !self.txns[att as usize].held.contains(lock.into())
                && !self.take_lock(att, lock, is_new)?
            {
                return Ok(());
            }
        }
        let block = self.place.block_of(record);
        let (vlun, id) = (self.txns[att as usize].vlun, self.txns[att as usize].id);
        let gran = self.scenario.locking.granularity;
        // Under block locks the attempt keeps the block it reads: a block it does not
        // hold yet is read straight into its own copy, not through `buf`.
        let fresh = gran == Granularity::Block && !self.txns[att as usize].cache.contains(block);
        // Blocks move as their leading bytes (the rest zeros): a record block's 16.
        let mut copy = if fresh {
            self.spare_bufs.pop().unwrap_or_default()
        } else {
            Vec::new()
        };
        let into = if fresh { &mut copy } else { &mut self.buf };
        let cost = match self.dev.read_prefix_mut(vlun, block, into) {
            Ok(cost) => cost,
            Err(e) => {
                if fresh {
                    self.spare_bufs.push(copy);
                }
                return match e {
                    e if faults::injected(&e) => self.io_failed(att),
                    e if faults::integrity(&e) => self.integrity_failed(att),
                    e => Err(engine_err(now)(e)),
                };
            }
        };
        self.tally.logical_reads += 1;
        let off = self.place.offset_in_block(record);
        let data = if fresh { &copy[..] } else { &self.buf[..] };
        let value = value_at(data, off);
        if self.oracle.is_some() {
            let digest = zero_extended_digest(data, self.layout.block_size);
            self.log(Event::ReadBlock {
                txn: id,
                vlun,
                block,
                digest,
            });
            self.log(Event::ReadRecord {
                txn: id,
                record,
                value,
            });
            // The block's entry in the judge's table, which the write of this
            // read-modify-write changes some steps later, is in the cache by then.
            if op.writes() && self.prefetch {
                if let Some(o) = self.oracle.as_ref() {
                    o.judge.prefetch_entry(block);
                }
            }
        }
        let t = &mut self.txns[att as usize];
        t.values.push(value);
        if fresh {
            t.cache.push(block, copy);
        } else if gran == Granularity::Block {
            if let Some(c) = t.cache.find_mut(block) {
                c.clear();
                c.extend_from_slice(&self.buf);
            }
        }
        t.op += 1;
        self.complete_io(att, &cost);
        Ok(())
    }

    pub(super) fn write_step(&mut self, att: Attempt) -> Result<(), SimError> {
        let now = self.q.now();
        let t = &self.txns[att as usize];
        let next = (t.op..t.ops.len()).find(|&i| t.ops[i].writes());
        let Some(i) = next else {
            return if self.txns[att as usize].abort_planned {
                self.rollback(att)
            } else if self.scenario.workload.flush_at_commit() {
                // The application's fsync: priced like any barrier, then the commit.
                self.txns[att as usize].stage = Stage::Committing;
                let barrier = IoCost {
                    flushes: 1,
                    ..IoCost::default()
                };
                self.complete_io(att, &barrier);
                Ok(())
            } else {
                self.commit(att)
            };
        };
        let (record, value, blind) = match t.ops[i] {
            Op::Add { record, delta } => (record, t.values[i].wrapping_add(delta), false),
            Op::Put { record, value } => (record, value, true),
            Op::Read { .. } => unreachable!("writes() is false for a read"),
        };
        let (vlun, id) = (t.vlun, t.id);
        let block = self.place.block_of(record);
        let off = self.place.offset_in_block(record);
        let mut cost = IoCost::default();
        let gran = self.scenario.locking.granularity;
        // Under block locks, where the attempt's copy of the block is in its cache
        // (looked for once: the cache keeps its order until the step ends).
        let cached = match gran {
            Granularity::Block => t.cache.position(block),
            Granularity::Record => None,
        };
        match gran {
            // A blind write replaces the whole block (one record per block, validated).
            _ if blind => self.buf.clear(),
            Granularity::Block => {
                let c = cached
                    .and_then(|ci| t.cache.get(ci))
                    .expect("a block is read before it is written");
                copy_for_record(&mut self.buf, c, off);
            }
            Granularity::Record => {
                cost = match self.dev.read_prefix_mut(vlun, block, &mut self.buf) {
                    Ok(cost) => cost,
                    Err(e) if faults::injected(&e) => return self.io_failed(att),
                    Err(e) if faults::integrity(&e) => return self.integrity_failed(att),
                    Err(e) => return Err(engine_err(now)(e)),
                };
                if self.oracle.is_some() {
                    let digest = zero_extended_digest(&self.buf, self.layout.block_size);
                    self.log(Event::ReadBlock {
                        txn: id,
                        vlun,
                        block,
                        digest,
                    });
                }
            }
        }
        // Before-image for rollback, on the first write of this record / block.
        let key = match gran {
            Granularity::Record => record,
            Granularity::Block => block,
        };
        let rs = self.layout.record_size;
        let t = &mut self.txns[att as usize];
        // A blind write keeps no before-image: it never rolls back (validated: no
        // aborts, no faults).
        let first_write = !blind && !t.before.contains(key);
        if first_write {
            let bytes = match gran {
                // The record's bytes the block holds (the rest of it zeros).
                Granularity::Record => {
                    let end = (off + rs).min(self.buf.len());
                    recycled_copy(&mut self.spare_bufs, &self.buf[off.min(end)..end])
                }
                // The attempt's copy of the block (just copied to `buf`) becomes the
                // before-image, moved, not copied; the written block takes its place
                // (or, when the write fails, a copy of it: `refill_cache`).
                Granularity::Block => {
                    let c = cached
                        .and_then(|ci| t.cache.get_mut(ci))
                        .expect("a block is read before it is written");
                    std::mem::take(c)
                }
            };
            t.before.push(key, bytes);
        }
        if self.buf.len() < off + RECORD_HEADER_BYTES {
            self.buf.resize(off + RECORD_HEADER_BYTES, 0);
        }
        write_record(&mut self.buf[off..], value, stamp_of(id));
        let w = match self.dev.write_prefix_mut(vlun, block, &self.buf) {
            Ok(w) => w,
            Err(engine::Error::DataAreaFull { slots, .. }) => {
                if first_write {
                    // Nothing was written: there is nothing of this block to roll back
                    // (and writing it back would need the slot the area lacks).
                    let t = &mut self.txns[att as usize];
                    let (_, bytes) = t.before.pop().expect("pushed above");
                    match t.cache.find_mut(block) {
                        Some(c) if gran == Granularity::Block => *c = bytes,
                        _ => self.spare_bufs.push(bytes),
                    }
                }
                return self.data_area_full(att, vlun, block, slots, cost);
            }
            Err(e) if faults::injected(&e) => {
                self.refill_cache(att, block);
                self.log_block_write(id, vlun, block);
                self.note_new_write(att, vlun);
                return self.write_failed(att);
            }
            // A block the write had to read first (copy-on-write's preserved copy)
            // failed its checksum: nothing was written.
            Err(e) if faults::integrity(&e) => {
                self.refill_cache(att, block);
                return self.integrity_failed(att);
            }
            Err(e) => return Err(engine_err(now)(e)),
        };
        self.count_logical_write(vlun, block, w, &mut cost);
        if vlun == Vlun::B && !self.a_retired {
            self.tally.vlun_b_writes_a_live += 1;
            if self.old_active > 0 {
                self.tally.vlun_b_writes_old_active += 1;
            }
        }
        self.note_new_write(att, vlun);
        if self.oracle.is_some() {
            let digest = zero_extended_digest(&self.buf, self.layout.block_size);
            self.log(Event::WriteBlock {
                txn: id,
                vlun,
                block,
                digest,
            });
            self.log(Event::WriteRecord {
                txn: id,
                record,
                value,
            });
        }
        let t = &mut self.txns[att as usize];
        if gran == Granularity::Block {
            if let Some(c) = cached.and_then(|ci| t.cache.get_mut(ci)) {
                if c.is_empty() {
                    // Its old copy went to the before-image: the written block (`buf`)
                    // is the attempt's copy now, and a spare buffer the scratch one.
                    let scratch = self.spare_bufs.pop().unwrap_or_default();
                    *c = std::mem::replace(&mut self.buf, scratch);
                } else {
                    c.clear();
                    c.extend_from_slice(&self.buf);
                }
            }
        }
        t.op = i + 1;
        self.complete_io(att, &cost);
        Ok(())
    }

    /// After a failed first write of `block` (block locks), the attempt's copy of the
    /// block, moved to its before-image, is copied back: the block as the attempt
    /// last saw it.
    fn refill_cache(&mut self, att: Attempt, block: u64) {
        let t = &mut self.txns[att as usize];
        let Some(at) = t.cache.position(block) else {
            return;
        };
        if t.cache.get(at).is_some_and(|c| c.is_empty()) {
            if let Some(before) = t.before.find(block) {
                let c = t.cache.get_mut(at).expect("found above");
                c.extend_from_slice(before);
            }
        }
    }

    /// Commits a transaction whose writes are done (and, with
    /// `workload.flush_at_commit`, flushed).
    fn commit(&mut self, att: Attempt) -> Result<(), SimError> {
        // Commit implies flush: a committed write survives any crash.
        self.durability_flush()?;
        let t = &self.txns[att as usize];
        let (txn, backup_wait_ticks_max) = (t.id, t.backup_wait_max);
        self.log_with(|| Event::Commit {
            txn,
            backup_wait_ticks_max,
        });
        self.finish(att, Outcome::Committed)
    }

    /// A write of `block` through `vlun` needed a slot of the full data area (of
    /// `slots` slots) and the engine refused it, writing nothing (`spent`: what the
    /// step had cost so far). The scenario's overflow policy ([`OnDataAreaFull`])
    /// decides: `break-guest-write` fails the write ([`Event::WriteRefused`]), so the
    /// attempt rolls back and ends aborted; `break-snapshot` abandons the backup and
    /// the write goes through.
    fn data_area_full(
        &mut self,
        att: Attempt,
        vlun: Vlun,
        block: u64,
        slots: u64,
        spent: IoCost,
    ) -> Result<(), SimError> {
        match self.scenario.backup.on_data_area_full {
            OnDataAreaFull::BreakGuestWrite => {
                self.tally.data_area_full_aborts += 1;
                let (txn, at_ticks) = (self.txns[att as usize].id, self.q.now());
                self.log_with(|| Event::WriteRefused {
                    txn,
                    vlun,
                    block,
                    data_area_blocks: slots,
                    at_ticks,
                });
                let lost = self.q.now() - self.txns[att as usize].arrived;
                if let Some(w) = self.window_waits() {
                    w.overflow.add(lost);
                }
                let t = &mut self.txns[att as usize];
                t.abort_planned = true;
                t.op = t.ops.len();
                self.rollback_after(att, spent)
            }
            OnDataAreaFull::BreakSnapshot => {
                if self.a_abandoned {
                    // No table is left to fill: a second refusal is the engine's bug.
                    return Err(SimError::Unsafe {
                        at: self.q.now(),
                        detail: "the data area refused a write after the backup was abandoned"
                            .into(),
                    });
                }
                self.abandon_backup()?;
                // The step again, from its start (its read repeated under record
                // locks, priced then): no slot is needed any more.
                self.write_step(att)
            }
        }
    }

    /// Writes the before-images back (newest first), then aborts. A rollback that
    /// meets an injected error is repeated whole after `io_retry_ticks`.
    pub(super) fn rollback(&mut self, att: Attempt) -> Result<(), SimError> {
        self.rollback_after(att, IoCost::default())
    }

    /// [`World::rollback`], priced with `spent` (what the attempt's last step cost
    /// before it failed) added to the rollback's own I/O.
    fn rollback_after(&mut self, att: Attempt, spent: IoCost) -> Result<(), SimError> {
        let now = self.q.now();
        match self.undo(att) {
            Ok(mut cost) => {
                cost.add(spent);
                self.txns[att as usize].stage = Stage::RollingBack;
                self.complete_io(att, &cost);
                Ok(())
            }
            Err(e) if faults::injected(&e) => self.io_failed(att),
            Err(engine::Error::DataAreaFull { .. }) => {
                self.rollback_needs_a_slot()?;
                // The rollback again, whole (it is idempotent): no slot is needed now.
                self.rollback_after(att, spent)
            }
            Err(e) => Err(engine_err(now)(e)),
        }
    }

    /// A rollback's write of a before-image needed a slot of the full data area: a
    /// block the attempt wrote while no slot was needed for it (before the split,
    /// through VLUN A under `crash-consistent`; or whose entry a write through VLUN A
    /// dropped since). The rollback cannot be refused (the aborted write would stay on
    /// VLUN B), so under either overflow policy the backup is abandoned as under
    /// `break-snapshot` ([`World::abandon_backup`]), which frees the data area; the
    /// rollback then goes through. (A refused first write left no before-image: it
    /// wrote nothing, so its rollback needs no write and no slot.)
    pub(super) fn rollback_needs_a_slot(&mut self) -> Result<(), SimError> {
        if self.a_abandoned {
            // No table is left to fill: a refusal now is the engine's bug.
            return Err(SimError::Unsafe {
                at: self.q.now(),
                detail: "the data area refused a rollback's write after the backup was \
                         abandoned"
                    .into(),
            });
        }
        self.abandon_backup()?;
        self.marks.abandoned_for_rollback =
            self.scenario.backup.on_data_area_full == OnDataAreaFull::BreakGuestWrite;
        Ok(())
    }

    /// Writes an attempt's before-images back through its VLUN, newest first, each
    /// write recorded; returns what it cost. Idempotent: repeating it after a failure
    /// (or at a crash) leaves the same content.
    pub(super) fn undo(&mut self, att: Attempt) -> Result<IoCost, engine::Error> {
        let befores = std::mem::take(&mut self.txns[att as usize].before);
        let result = self.write_befores(att, befores.as_slice());
        self.txns[att as usize].before = befores;
        result
    }

    fn write_befores(
        &mut self,
        att: Attempt,
        befores: &[(u64, Vec<u8>)],
    ) -> Result<IoCost, engine::Error> {
        let (vlun, id) = (self.txns[att as usize].vlun, self.txns[att as usize].id);
        let mut cost = IoCost::default();
        let gran = self.scenario.locking.granularity;
        for (key, bytes) in befores.iter().rev() {
            let block = match gran {
                Granularity::Record => {
                    let block = self.place.block_of(*key);
                    match self.dev.read_prefix_mut(vlun, block, &mut self.buf) {
                        Ok(c) => cost.add(c),
                        // The block fails its checksum: its before-image cannot be
                        // patched in; the block stays refused (see crate::faults).
                        Err(e) if faults::integrity(&e) => {
                            self.count(|c| c.integrity_detections += 1);
                            continue;
                        }
                        Err(e) => return Err(e),
                    }
                    // The before-image holds the record's bytes the block held then;
                    // the rest of the record was zeros.
                    let off = self.place.offset_in_block(*key);
                    let end = off + bytes.len();
                    if self.buf.len() < end {
                        self.buf.resize(end, 0);
                    }
                    self.buf[off..end].copy_from_slice(bytes);
                    let record_end = (off + self.layout.record_size).min(self.buf.len());
                    if end < record_end {
                        self.buf[end..record_end].fill(0);
                    }
                    block
                }
                Granularity::Block => {
                    self.buf.clear();
                    self.buf.extend_from_slice(bytes);
                    *key
                }
            };
            let c = self.dev.write_prefix_mut(vlun, block, &self.buf);
            if let Err(e) = &c {
                if faults::integrity(e) {
                    // Nothing was written (a preserved copy's read failed).
                    self.count(|c| c.integrity_detections += 1);
                    continue;
                }
                // A failed write may still show through some VLUN: recorded.
                self.log_block_write(id, vlun, block);
            }
            self.count_logical_write(vlun, block, c?, &mut cost);
            self.log_block_write(id, vlun, block);
        }
        Ok(cost)
    }

    /// Counts a logical write through `vlun` that cost `c` (added to `cost`): the
    /// extra space noted when it took a table entry, the tally, and a write through
    /// VLUN B mirrored to B' while a copy is under way.
    fn count_logical_write(&mut self, vlun: Vlun, block: u64, c: IoCost, cost: &mut IoCost) {
        cost.add(c);
        if c.table_inserts > 0 {
            self.note_extra_space();
        }
        self.tally.logical_writes += 1;
        if vlun == Vlun::A {
            self.tally.vlun_a_writes += 1;
        }
        if vlun == Vlun::B {
            self.detach_mirror(block);
        }
    }

    /// Records a block write of `self.buf` (its digest names the content).
    /// Attempt `att` wrote (or tried to write) a block through `vlun`: a NEW attempt's
    /// write through VLUN B after this cycle's split and before VLUN A was retired or
    /// dropped puts A-isolated to the test ([`crate::Marks::beside_txn_new`]).
    fn note_new_write(&mut self, att: Attempt, vlun: Vlun) {
        if vlun == Vlun::B
            && !self.a_retired
            && self.marks.split.is_some()
            && !self.txns[att as usize].old
        {
            self.marks.beside_txn_new = true;
        }
    }

    fn log_block_write(&mut self, txn: TxnId, vlun: Vlun, block: u64) {
        if self.oracle.is_some() {
            let digest = zero_extended_digest(&self.buf, self.layout.block_size);
            self.log(Event::WriteBlock {
                txn,
                vlun,
                block,
                digest,
            });
        }
    }
}

/// The value of the record whose header starts at byte `off` of a block given as its
/// leading bytes `data` (the rest of the block zeros): the header's first 8 bytes,
/// little-endian, those past `data` zeros. Only the value is read: the stamp after it
/// is not needed to read a record.
fn value_at(data: &[u8], off: usize) -> i64 {
    let rest = data.get(off..).unwrap_or_default();
    if let Some(v) = rest.first_chunk::<8>() {
        return i64::from_le_bytes(*v);
    }
    let mut v = 0u64;
    for (i, &b) in rest.iter().enumerate() {
        v |= u64::from(b) << (8 * i);
    }
    v as i64
}

/// `buf` set to block `src` (its leading bytes, the rest zeros) with room for a record
/// header at byte `off`: at least `off + RECORD_HEADER_BYTES` bytes, zeros after
/// `src`. A one-record block's (`off` 0, at most 16 bytes held) is moved as one
/// 16-byte word, without a call to the library's copy, and is 16 bytes long (the same
/// block: leading bytes stand for the whole block, zeros after them).
#[inline]
fn copy_for_record(buf: &mut Vec<u8>, src: &[u8], off: usize) {
    const W: usize = RECORD_HEADER_BYTES;
    buf.clear();
    let n = src.len();
    if off == 0 && n <= W {
        let mut w = [0u8; W];
        if n >= 8 {
            // Two 8-byte moves, overlapping when fewer than 16 bytes are held.
            w[..8].copy_from_slice(&src[..8]);
            w[n - 8..n].copy_from_slice(&src[n - 8..]);
        } else {
            for (d, &s) in w.iter_mut().zip(src) {
                *d = s;
            }
        }
        buf.extend_from_slice(&w);
        return;
    }
    buf.extend_from_slice(src);
    if buf.len() < off + W {
        buf.resize(off + W, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every held length of a block of 64 bytes with records at 0 and 32: the value
    /// read and the block copied for a record agree with the whole zero-extended block.
    #[test]
    fn values_and_copies_agree_with_the_zero_extended_block() {
        let mut whole = [0u8; 64];
        for (i, b) in whole.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37) | 1;
        }
        let mut buf = Vec::new();
        for n in 0..=64 {
            let held = &whole[..n];
            let mut zero_extended = [0u8; 64];
            zero_extended[..n].copy_from_slice(held);
            for off in [0usize, 32] {
                let want = i64::from_le_bytes(zero_extended[off..off + 8].try_into().unwrap());
                assert_eq!(value_at(held, off), want, "{n} bytes held, record at {off}");
                copy_for_record(&mut buf, held, off);
                assert!(buf.len() >= off + RECORD_HEADER_BYTES && buf.len() >= n);
                assert_eq!(&buf[..], &zero_extended[..buf.len()], "{n} held, at {off}");
            }
        }
    }
}
