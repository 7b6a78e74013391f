//! The copy of VLUN B to B' once VLUN A is gone (retired, or dropped by an abandoned
//! backup: `[detach]`, \[0048\]), priced on the
//! device model and the B' target as the archive copy is ([`crate::detach`]).

use super::extent_copy::{read_at, ExtentCopy, Runs};
use super::*;

/// Where the copy of VLUN B to B' stands.
#[derive(Debug)]
pub(crate) struct DetachCopy {
    /// The extents read and sent, every block of the volume: blocks below `pipe.next`
    /// are on B' (read from VLUN B and sent), so a user's write to one of them is
    /// also written to B'.
    pub pipe: ExtentCopy,
    /// B' as the copy made it (kept when the run judges its history), compared with
    /// VLUN B when the copy ends.
    pub b_prime: Option<SparseImage>,
}

impl World<'_> {
    /// VLUN A is gone at `at` (its retire, or an abandoned backup's drop, completed):
    /// with `[detach]` the copy of VLUN B to B' starts then and the cycle ends when it
    /// is complete; without, the cycle ends now. The copy is of VLUN B, whatever became
    /// of A: \[0048\]'s reason for it (storage shared with VLUN A) stands after a
    /// drop as after a retire, and the engine's `detach_b` allows both.
    pub(super) fn retired_then_detach(&mut self, at: Tick) {
        // The retire's own I/O is over: the data area it held is free now, and image
        // A kept (mirroring) is so from now.
        let held = std::mem::take(&mut self.retiring_blocks);
        if std::mem::take(&mut self.retiring) || held > 0 {
            self.note_extra_space();
        }
        if self.scenario.detach.is_none() {
            self.end_cycle(at);
            return;
        }
        let b_prime = self
            .oracle
            .is_some()
            .then(|| SparseImage::unchanged(self.layout.image_bytes() as u64));
        self.detach_copy = Some(DetachCopy {
            pipe: ExtentCopy::new(self.layout.volume_blocks, at),
            b_prime,
        });
        self.marks.detach_start = Some(at);
        self.open_span(beside::Span::CopyToBPrime);
        let cycle = self.cycle_number();
        self.q.schedule_at(at, Ev::DetachRead { cycle });
    }

    /// Reads the next extent of VLUN B through the engine (its reads queue on the
    /// device's channels like any user call) and sends it to B' once read; the next
    /// read starts once the extent before this one has landed (double buffering, as
    /// the archive copy).
    pub(super) fn detach_read(&mut self) -> Result<(), SimError> {
        let now = self.q.now();
        let scenario = self.scenario;
        let Some(target) = scenario.detach.as_ref() else {
            return Ok(());
        };
        let Some(copy) = self.detach_copy.as_mut() else {
            return Ok(());
        };
        let volume = self.layout.volume_blocks;
        let first = copy.pipe.next;
        let end = (first + target.extent_blocks.max(1)).min(volume);
        let mut b_prime = copy.b_prime.take();
        let initial = self.oracle.as_ref().map(|o| o.judge.initial().clone());
        let layout = self.layout;
        let skipped = target.skip_block_for_mutant_test;
        let armed = self.set_faults_armed(false);
        let mut cost = IoCost::default();
        let mut runs = Runs::default();
        let mut buf = std::mem::take(&mut self.buf);
        let mut read = Ok(());
        for b in first..end {
            match self.dev.read_prefix(Vlun::B, b, &mut buf) {
                Ok(c) => {
                    cost.add(c);
                    let (image, at) = read_at(&self.dev, &c);
                    runs.read(image, at);
                    if let (Some(img), Some(init)) = (b_prime.as_mut(), initial.as_ref()) {
                        // The mutant never sends the block: B' reads zeros there.
                        let sent: &[u8] = if skipped == Some(b) { &[] } else { &buf };
                        img.set_block_prefix(&layout, init, b, sent);
                    }
                }
                Err(e) => {
                    read = Err(e);
                    break;
                }
            }
        }
        self.buf = buf;
        self.set_faults_armed(armed);
        // Any failure is the engine's: a scenario with `[detach]` injects no faults
        // (refused beside `[faults]`), so no block of VLUN B can fail its checksum.
        read.map_err(engine_err(now))?;
        let read = self.extent_read(now, &cost, runs);
        let bytes = (end - first) * self.layout.block_size as u64;
        let send = target.send_ticks(bytes);
        let copy = self.detach_copy.as_mut().expect("checked above");
        copy.b_prime = b_prime;
        let step = copy.pipe.advance(end, read, send);
        self.tally.detach_blocks_copied += end - first;
        let cycle = self.cycle_number();
        self.schedule_step(step, Ev::DetachRead { cycle }, Ev::DetachDone { cycle });
        Ok(())
    }

    /// A user's write of `block` through VLUN B succeeded (its bytes in `self.buf`):
    /// when the copy to B' runs and has already copied the block, the write is also
    /// sent to B' (the one-way mirror again, B → B'), queued on the target behind what
    /// it is accepting. The user's write completes on B (the mirror is asynchronous);
    /// the copy ends only when the mirrored writes have landed.
    ///
    /// Inlined as a test of the copy: a write with no copy under way calls nothing.
    #[inline]
    pub(super) fn detach_mirror(&mut self, block: u64) {
        if self.detach_copy.is_some() {
            self.mirror_to_b_prime(block);
        }
    }

    /// [`World::detach_mirror`] with a copy under way.
    #[inline(never)]
    fn mirror_to_b_prime(&mut self, block: u64) {
        let Some(copy) = self.detach_copy.as_mut() else {
            return;
        };
        if block >= copy.pipe.next {
            return; // the copy reads it later, with this write
        }
        let now = self.q.now();
        let target = self
            .scenario
            .detach
            .as_ref()
            .expect("a copy runs with [detach]");
        copy.pipe
            .queue(now, target.send_ticks(self.layout.block_size as u64));
        // The mutants: block N never reaches B'; or no mirrored write is applied.
        let sent = target.skip_block_for_mutant_test != Some(block)
            && !target.drop_mirrored_writes_for_mutant_test;
        if let (Some(img), Some(o), true) = (copy.b_prime.as_mut(), self.oracle.as_ref(), sent) {
            img.set_block_prefix(&self.layout, o.judge.initial(), block, &self.buf);
        }
        self.tally.detach_mirrored_writes += 1;
    }

    /// The last extent landed: once every mirrored write has landed too, B' is
    /// complete. With a history, B' and VLUN B as it is now are logged
    /// ([`Event::BPrime`]) for the oracle to compare (b-prime-faithful). The cycle ends.
    pub(super) fn detach_done(&mut self) -> Result<(), SimError> {
        let now = self.q.now();
        let Some(copy) = self.detach_copy.as_ref() else {
            return Ok(());
        };
        if copy.pipe.target_free_at > now {
            let at = copy.pipe.target_free_at;
            let cycle = self.cycle_number();
            self.q.schedule_at(at, Ev::DetachDone { cycle });
            return Ok(());
        }
        let copy = self.detach_copy.take().expect("checked above");
        self.marks.detach_end = Some(now);
        if let Some(b_prime) = copy.b_prime {
            let live = self.read_image(Vlun::B)?;
            self.log(Event::BPrime { b_prime, live });
        }
        self.end_cycle(now);
        Ok(())
    }
}
