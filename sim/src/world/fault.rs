//! Injected faults in the world: the crash and restart of the device, healing, the
//! flushes that make commits durable, a transaction's reaction to a failed I/O. The
//! durability model and the meaning of "acknowledged" are in [`crate::faults`].

use super::*;
use crate::faults::FaultCounts;

impl World<'_> {
    /// Schedules the scenario's crashes and the end of the fault window; arms the
    /// injector (the initial image is already written and flushed).
    pub(super) fn schedule_faults(&mut self) {
        let Some(f) = self.faults.clone() else {
            return;
        };
        let cfg = &self.scenario.faults;
        for &at in &cfg.crash_at_ticks {
            self.q.schedule_at(at, Ev::Crash);
        }
        match cfg.heal_at_ticks {
            Some(0) => {}
            Some(at) => {
                self.q.schedule_at(at, Ev::Heal);
                faults::lock(&f).set_armed(true);
            }
            None => {
                faults::lock(&f).set_armed(true);
            }
        }
    }

    /// The fault window ends: no more errors or spikes.
    pub(super) fn heal(&mut self) {
        if let Some(f) = &self.faults {
            faults::lock(f).set_armed(false);
        }
    }

    /// Arms or disarms error and spike injection; returns the previous state.
    pub(super) fn set_faults_armed(&self, armed: bool) -> bool {
        self.faults
            .as_ref()
            .is_some_and(|f| faults::lock(f).set_armed(armed))
    }

    pub(crate) fn fault_counts(&self) -> FaultCounts {
        self.faults
            .as_ref()
            .map(|f| faults::lock(f).counts)
            .unwrap_or_default()
    }

    pub(super) fn count(&self, f: impl FnOnce(&mut FaultCounts)) {
        if let Some(inj) = &self.faults {
            f(&mut faults::lock(inj).counts);
        }
    }

    /// Ticks of latency spike for the device call being priced (0 without faults).
    pub(super) fn latency_spike(&self) -> Tick {
        self.faults.as_ref().map_or(0, |f| faults::lock(f).spike())
    }

    /// Makes every write so far durable. With faults on: at commit (commit implies
    /// flush), after an abort's rollback, after a crash's rollbacks. Without faults
    /// nothing can be lost and nothing is done.
    pub(super) fn durability_flush(&mut self) -> Result<(), SimError> {
        if self.faults.is_none() {
            return Ok(());
        }
        let now = self.q.now();
        self.dev.flush().map_err(engine_err(now))?;
        self.count(|c| c.flushes += 1);
        Ok(())
    }

    /// A transaction's I/O failed with an injected error: retry the same step after
    /// `io_retry_ticks` (a read, or a rollback, is simply repeated; a failed write has
    /// already set `abort_planned`, so the retry rolls back).
    pub(super) fn io_failed(&mut self, att: Attempt) -> Result<(), SimError> {
        let gen = self.txns[att as usize].gen;
        let delay = self.scenario.faults.io_retry_ticks;
        self.q.schedule_in(delay, Ev::IoRetry { att, gen });
        Ok(())
    }

    /// A block write of a transaction failed: it may have reached some images, so it is
    /// recorded (its content may be visible), and the transaction rolls back and aborts.
    pub(super) fn write_failed(&mut self, att: Attempt) -> Result<(), SimError> {
        let t = &mut self.txns[att as usize];
        if !t.abort_planned {
            t.abort_planned = true;
            self.count(|c| c.write_error_aborts += 1);
        }
        let t = &mut self.txns[att as usize];
        t.op = t.ops.len();
        self.io_failed(att)
    }

    /// A transaction's read or write met a checksum mismatch (integrity mode): the
    /// block's data is refused, so the transaction aborts at once — its before-images
    /// are written back and it ends `Aborted`, not retried (see [`crate::faults`]).
    pub(super) fn integrity_failed(&mut self, att: Attempt) -> Result<(), SimError> {
        self.count(|c| {
            c.integrity_detections += 1;
            c.integrity_aborts += 1;
        });
        let t = &mut self.txns[att as usize];
        t.abort_planned = true;
        t.stage = Stage::Writing;
        t.op = t.ops.len();
        self.rollback(att)
    }

    /// The device crashes and restarts at this instant. Unflushed writes are kept, lost
    /// or torn; the device is recovered from its durable state; every begun, unfinished
    /// transaction aborts: its before-images (the applications' undo log) are written
    /// back before anything else runs, the result is flushed, then it ends `Aborted`
    /// (not retried; a closed-loop client issues its next transaction).
    pub(super) fn crash(&mut self) -> Result<(), SimError> {
        let now = self.q.now();
        // Where the backup stood when it struck: orders its row among its tick's.
        let (cycle, marks) = (self.cycle_number(), self.marks.clone());
        let armed = self.set_faults_armed(false);
        self.count(|c| c.crashes += 1);
        let phase = self.dev.phase();
        let power_safe = self.scenario.faults.power_safe;
        match self.power_cycle() {
            Ok(()) => {}
            Err(e) if !power_safe => {
                return Err(SimError::Broken {
                    at: now,
                    detail: format!("its recovery failed: {e}"),
                })
            }
            Err(e) => return Err(engine_err(now)(e)),
        }
        if self.dev.phase() != phase {
            // Acknowledged before the crash, lost by it: what the barriers prevent.
            let detail = format!(
                "it recovered as {} where its calls had made it {} (a change they \
                 acknowledged was lost)",
                self.dev.phase(),
                phase
            );
            return Err(if power_safe {
                SimError::Unsafe { at: now, detail }
            } else {
                SimError::Broken { at: now, detail }
            });
        }
        let mut victims: Vec<Attempt> = (0..self.txns.len() as Attempt)
            .filter(|&s| {
                let t = &self.txns[s as usize];
                t.begun && t.stage != Stage::Done
            })
            .collect();
        // Newest first, like an undo log read backwards.
        victims.sort_by_key(|&s| std::cmp::Reverse(self.txns[s as usize].id));
        for &att in &victims {
            if let Some(WaitOn::Lock(l) | WaitOn::TypeB(l)) = self.txns[att as usize].waiting_on {
                self.locks.withdraw(l, att);
            }
            self.end_wait(att);
            let cost = match self.undo(att) {
                Err(engine::Error::DataAreaFull { .. }) => {
                    // Faults are disarmed here: the undo again, whole, after the
                    // backup is abandoned (idempotent), meets no other error.
                    self.rollback_needs_a_slot()?;
                    self.undo(att)
                }
                undone => undone,
            }
            .map_err(engine_err(now))?;
            self.tally.io.add(&cost);
        }
        self.durability_flush()?;
        self.crash_log.push(crate::CrashMark {
            at: now,
            aborted: victims.len() as u64,
            cycle,
            marks,
        });
        for &att in &victims {
            let t = &self.txns[att as usize];
            let (txn, backup_wait_ticks_max) = (t.id, t.backup_wait_max);
            self.log_with(|| Event::Abort {
                txn,
                backup_wait_ticks_max,
            });
            self.count(|c| c.crash_aborts += 1);
            self.finish(att, Outcome::Aborted)?;
        }
        self.set_faults_armed(armed);
        Ok(())
    }

    /// Power loss and restart, the engine's own ([`Device::power_cycle`]): the images
    /// keep, lose or tear their unflushed writes, the journal keeps a prefix of its
    /// unsynced bytes (both drawn from the fault stream), and the engine's recovery
    /// rebuilds the device from what survived.
    fn power_cycle(&mut self) -> Result<(), engine::Error> {
        let (Some(f), Some(journal)) = (self.faults.clone(), self.journal.clone()) else {
            return Ok(());
        };
        let sectors = self.layout.block_size / faults::TEAR_BYTES;
        self.dev.power_cycle(
            &journal,
            |_, _| faults::draw_fate(&f, sectors),
            |len| faults::draw_journal_keep(&f, len),
        )
    }
}
