//! The archive copy of VLUN A and the retirement of A, priced on the device model and
//! the archive target ([`crate::archive`]).

use super::extent_copy::{read_at, ExtentCopy, Runs};
use super::*;
use crate::streamed_image::{Received, StreamedImage};

/// How many blocks ahead of its read an extent's block is hinted
/// ([`engine::Device::prefetch`]).
const ARCHIVE_AHEAD_BLOCKS: usize = 16;

/// Where the archive copy stands.
#[derive(Debug, Default)]
pub(crate) struct ArchiveCopy {
    /// With `[archive] sparse`, the blocks of VLUN A that hold data, ascending: those
    /// that may differ from the initial content ([`World::touched_blocks`]; every
    /// block when the stores cannot tell). The others are holes, which a sparse-aware
    /// copy does not read. `None`: every block is copied.
    pub data: Option<Vec<u64>>,
    /// The extents read and sent: `next` is a block number (dense) or an index into
    /// `data` (hole-aware).
    pub pipe: ExtentCopy,
    /// When the copy reads VLUN A once ([`World::archive_read_once`]) and the run has
    /// an oracle: the archive as the extents' reads send it ([`StreamedImage`]; its
    /// holes hold the initial content).
    pub received: Option<StreamedImage>,
    /// Bytes of this pass's extents read so far: each goes to the target, so when the
    /// pass's last extent has landed they are the archive's bytes on it.
    pub bytes: u64,
    /// When the copy began (A declared consistent).
    pub started_ticks: Tick,
}

impl World<'_> {
    /// Prices one of the backup's own device calls issued at `now`: when it completes.
    /// None of its reads continues a contiguous run (the engine's split and retire
    /// interleave their reads and writes block by block, across the two images).
    pub(super) fn backup_call(&mut self, now: Tick, cost: &IoCost) -> Tick {
        self.backup_call_runs(now, cost, 0)
    }

    /// [`World::backup_call`] of a call of which `contiguous` reads continue a run of
    /// contiguous blocks ([`crate::device_model::DeviceModel::complete_extent`]).
    pub(super) fn backup_call_runs(&mut self, now: Tick, cost: &IoCost, contiguous: u32) -> Tick {
        let call = crate::device_model::call_id(None, self.tally.backup_calls);
        self.tally.backup_calls += 1;
        let at = self
            .device_model
            .complete_extent(now, cost, contiguous, call);
        self.backup_calls_end = self.backup_calls_end.max(at);
        self.note_extra_space();
        at
    }

    /// Whether the extents' reads are the archive's ([`Device::backup_a_copied`] at
    /// the end): without injected faults, fixed for the run. With them the engine
    /// streams VLUN A again at the end ([`Device::backup_a_sparse`]), where the
    /// backup's faults are drawn.
    ///
    /// [`Device::backup_a_copied`]: engine::Device::backup_a_copied
    /// [`Device::backup_a_sparse`]: engine::Device::backup_a_sparse
    fn archive_read_once(&self) -> bool {
        self.faults.is_none()
    }

    /// The oracle's image of the archive, empty: compared with VLUN A as declared as
    /// its blocks come, unless the record is kept (the record holds the archive
    /// whole, so it is built whole).
    fn archive_received(&self) -> StreamedImage {
        let expected = self
            .oracle
            .as_ref()
            .filter(|o| o.kept.is_none())
            .and_then(|o| o.judge.declared());
        StreamedImage::new(self.layout.image_bytes() as u64, expected)
    }

    /// Words for a run stopped by its time limit while the archive copy is under way
    /// (empty otherwise): how far it got, and what bounds it with the keys that set
    /// that: the target (the time the whole copy takes at its bytes per second: a slow
    /// archive target alone can hold a run past any limit), or, when the extents'
    /// reads of VLUN A on the device have taken longer than their sends to the target
    /// (reads and sends overlap: the slower of the two sets the pace), those reads (an
    /// extent still in flight not counted): the rest's time at the pace of the reads'
    /// own service on the device and of the sends so far, a floor more than a
    /// forecast (the queueing behind the users' calls comes on top). Bound by the
    /// target, the keys named are
    /// those of the larger share of its time: its latency, paid once an extent
    /// (`archive.latency_ticks`, `archive.extent_blocks`), or its bytes per second.
    pub(super) fn archive_under_way(&self) -> String {
        let Some(copy) = &self.archive_copy else {
            return String::new();
        };
        let a = &self.scenario.archive;
        let per_s = a.effective_bytes_per_s();
        let block = self.layout.block_size as u64;
        let bytes = copy.pipe.total.saturating_mul(block);
        let now = self.q.now();
        let elapsed_s = now.saturating_sub(copy.started_ticks) as f64 / 1e6;
        // The reads done by now: an extent still being read is not counted.
        let pipe = copy.pipe.done_by(now);
        let read = pipe.next;
        let (read_s, send_s) = (pipe.read_ticks as f64 / 1e6, pipe.send_ticks as f64 / 1e6);
        if read > 0 && read_s > send_s {
            // The rest at the pace of the reads' own service on the device and of the
            // sends, so far, without the queueing behind the users' calls: a floor
            // more than a forecast (the queueing, which a load early in the copy can
            // inflate, comes on top while the users' load goes on).
            let service_s = pipe.read_service_ticks as f64 / 1e6;
            let rest = copy.pipe.total.saturating_sub(read) as f64 / read as f64;
            return format!(
                ", the archive copy under way ({} of {} read in {} s of virtual time, bound by \
                 VLUN A's reads on the device: its extents' reads took {} s, {} s of it the \
                 device's own service and the rest queueing behind the users' calls, their \
                 sends to its target at {}/s {} s; the rest at least about {} s more, at the \
                 pace of that service and the sends so far, plus the queueing while the users' \
                 load goes on); a faster device (`device.profile`, \
                 `device.read_latency_ticks`, `device.sequential_read_bytes_per_s`, \
                 `device.transfer_bytes_per_s`), more channels (`device.channels`) or larger \
                 extents (`archive.extent_blocks`) end it sooner",
                read,
                crate::number_text::counted(copy.pipe.total, "block", "blocks"),
                seconds(elapsed_s),
                seconds(read_s),
                seconds(service_s.min(read_s)),
                crate::number_text::counted(per_s, "byte", "bytes"),
                seconds(send_s),
                seconds(service_s.max(send_s) * rest),
            );
        }
        // The whole copy's time at the sends' pace so far, or (none sent yet) at the
        // target's: every extent full, each paying the latency once.
        let latency_s = a.latency_ticks as f64 / 1e6;
        let (whole_s, extents_whole) = match copy.pipe.extents {
            0 => {
                let extents = copy.pipe.total.div_ceil(a.extent_blocks.max(1));
                (
                    bytes as f64 / per_s as f64 + extents as f64 * latency_s,
                    extents as f64,
                )
            }
            sent => (
                copy.pipe.send_ticks as f64 / 1e6 * copy.pipe.total as f64
                    / copy.pipe.next.max(1) as f64,
                sent as f64 * copy.pipe.total as f64 / copy.pipe.next.max(1) as f64,
            ),
        };
        let latency_whole_s = extents_whole * latency_s;
        let (latency, latency_share) = match a.latency_ticks {
            0 => (String::new(), String::new()),
            t => (
                format!(" and {t} ticks of latency an extent"),
                format!(
                    ", {} s of it the target's latency",
                    seconds(latency_whole_s.min(whole_s))
                ),
            ),
        };
        let head = format!(
            ", the archive copy under way ({} of {} read, at {}/s{latency}: about {} s of \
             virtual time for the whole copy{latency_share})",
            copy.pipe.next,
            crate::number_text::counted(copy.pipe.total, "block", "blocks"),
            crate::number_text::counted(per_s, "byte", "bytes"),
            seconds(whole_s),
        );
        // The larger share names its keys: the round trips, or the bytes.
        if latency_whole_s * 2.0 > whole_s {
            return format!(
                "{head}; a target of lower latency (`archive.latency_ticks` or \
                 `archive.profile`) or larger extents (`archive.extent_blocks`: fewer round \
                 trips) ends it sooner"
            );
        }
        let keys =
            if a.rate_limit_bytes_per_s > 0 && a.rate_limit_bytes_per_s < a.bandwidth_bytes_per_s {
                "`archive.rate_limit_bytes_per_s`"
            } else {
                "`archive.bandwidth_bytes_per_s` or `archive.profile`"
            };
        format!("{head}; a faster archive target ({keys}) ends it sooner")
    }

    /// A was declared consistent: start copying it, one extent at a time.
    pub(super) fn start_archive(&mut self) {
        if self.a_abandoned {
            return;
        }
        let data = self.scenario.archive.sparse.then(|| self.touched_blocks());
        let total = data
            .as_ref()
            .map_or(self.layout.volume_blocks, |d| d.len() as u64);
        let received =
            (self.oracle.is_some() && self.archive_read_once()).then(|| self.archive_received());
        self.archive_copy = Some(ArchiveCopy {
            data,
            pipe: ExtentCopy::new(total, self.q.now()),
            received,
            bytes: 0,
            started_ticks: self.q.now(),
        });
        let cycle = self.cycle_number();
        self.q.schedule_in(0, Ev::ArchiveRead { cycle });
    }

    /// Reads the next extent of VLUN A through the engine; its reads queue on the
    /// device's channels like any user call. When they complete the extent goes to the
    /// target; the next read starts once the extent before this one has landed.
    ///
    /// The copy is hole-aware, as `cp --sparse` and `qemu-img convert` are (they find
    /// data with `SEEK_DATA`/`SEEK_HOLE`): an extent starts at the next block that
    /// holds data, and only the blocks holding data in it are read and sent. Finding
    /// the holes is a scan of the image's block map, in memory, that costs no device
    /// call and sends nothing (scenarios/README.md, "The archive copy").
    pub(super) fn archive_read(&mut self) -> Result<(), SimError> {
        let now = self.q.now();
        let extent = self.scenario.archive.extent_blocks.max(1);
        let Some(copy) = self.archive_copy.as_ref() else {
            return Ok(());
        };
        let volume = self.layout.volume_blocks;
        let from = copy.pipe.next as usize;
        let first = match &copy.data {
            None => from as u64,
            Some(d) => match d.get(from) {
                Some(&b) => b,
                None => {
                    // No block holds data: the archive is all holes.
                    let landed = copy.pipe.target_free_at.max(now);
                    let cycle = self.cycle_number();
                    self.q.schedule_at(landed, Ev::ArchiveDone { cycle });
                    return Ok(());
                }
            },
        };
        let end = (first + extent).min(volume);
        let until = match &copy.data {
            None => end as usize,
            Some(d) => from + count_below(&d[from..], end),
        };
        let blocks = self.archive_copy.as_mut().expect("checked").data.take();
        let mut received = self.archive_copy.as_mut().expect("checked").received.take();
        // The backup's own I/O is not subject to injected errors (see crate::faults).
        let armed = self.set_faults_armed(false);
        let mut cost = IoCost::default();
        let mut runs = Runs::default();
        let mut buf = std::mem::take(&mut self.buf);
        let layout = self.layout;
        let initial = self.oracle.as_ref().map(|o| o.judge.initial());
        // Each block moves as its leading bytes (the rest zeros), and the archive kept
        // for the oracle takes it so: the block the engine's stream would send.
        let mut read_one = |b: u64| {
            let c = self.dev.read_prefix(Vlun::A, b, &mut buf)?;
            cost.add(c);
            let (image, at) = read_at(&self.dev, &c);
            runs.read(image, at);
            if let (Some(r), Some(initial)) = (received.as_mut(), initial) {
                r.set_block_prefix(&layout, initial, b, &buf);
            }
            Ok(())
        };
        let read = match &blocks {
            None => (first..end).try_for_each(&mut read_one),
            // Each block hinted ARCHIVE_AHEAD_BLOCKS reads before its own: its tables'
            // cache lines load while the blocks before it are read.
            Some(d) => {
                let extent = &d[from..until];
                let hint = |b: u64| self.dev.prefetch(Vlun::A, b);
                extent
                    .iter()
                    .take(ARCHIVE_AHEAD_BLOCKS)
                    .for_each(|&b| hint(b));
                extent.iter().enumerate().try_for_each(|(i, &b)| {
                    if let Some(&next) = extent.get(i + ARCHIVE_AHEAD_BLOCKS) {
                        hint(next);
                    }
                    read_one(b)
                })
            }
        };
        let copy = self.archive_copy.as_mut().expect("checked");
        copy.data = blocks;
        copy.received = received;
        self.buf = buf;
        self.set_faults_armed(armed);
        match read {
            Ok(()) => {}
            Err(e) if faults::integrity(&e) => return self.archive_lost(),
            Err(e) => return Err(engine_err(now)(e)),
        }
        let read = self.extent_read(now, &cost, runs);
        let bytes = (until - from) as u64 * self.layout.block_size as u64;
        let send = self.scenario.archive.send_ticks(bytes);
        let copy = self.archive_copy.as_mut().expect("checked above");
        let step = copy.pipe.advance(until as u64, read, send);
        copy.bytes += bytes;
        self.tally.archive_bytes += bytes;
        let cycle = self.cycle_number();
        self.schedule_step(step, Ev::ArchiveRead { cycle }, Ev::ArchiveDone { cycle });
        Ok(())
    }

    /// The last extent has landed: the archive is complete, then A is retired. Without
    /// injected faults the extents' reads were the archive's: the engine records it
    /// ([`engine::Device::backup_a_copied`]: A read-only, the archive journaled) and the
    /// oracle gets the image those reads sent. With faults the engine streams VLUN A
    /// again ([`engine::Device::backup_a_sparse`], where the backup's faults are drawn;
    /// its reads repeat the priced extent reads, so they are not charged again), and
    /// that stream is the image the oracle compares. Retire's
    /// own I/O (write logging's merge of B's logged blocks into image A) is priced on
    /// the device's channels; the retirement mark is when it completes.
    ///
    /// With backup faults ([`crate::faults`]) the pass can fail: its partial archive
    /// is discarded, the engine must refuse to retire A (asked, counted), and the copy
    /// starts again from the first extent after `io_retry_ticks`.
    pub(super) fn archive_done(&mut self) -> Result<(), SimError> {
        let now = self.q.now();
        if self.archive_copy.is_none() {
            return Ok(()); // the backup was abandoned meanwhile
        }
        let read_once = self.archive_read_once();
        let copy = self.archive_copy.as_mut().expect("checked");
        if read_once {
            // The list of blocks holding data is done with (the stream below takes it
            // too).
            copy.data = None;
            let received = copy.received.take();
            self.dev.backup_a_copied().map_err(engine_err(now))?;
            let received = received.map(StreamedImage::finish);
            return self.archived(now, received);
        }
        let data = copy.data.take();
        let volume = self.layout.volume_blocks;
        let initial = self.oracle.as_ref().map(|o| o.judge.initial().clone());
        let mut archive = self.archive_received();
        let mut target = Target {
            archive: initial.as_ref().map(|initial| Sink {
                image: &mut archive,
                layout: self.layout,
                initial,
            }),
            faults: self.faults.clone(),
        };
        if let Some(f) = &target.faults {
            faults::lock(f).set_backup(true);
        }
        let mut put = |block, bytes: &[u8]| target.put(block, bytes);
        let backup = match &data {
            None => self.dev.backup_a_sparse(0..volume, &mut put),
            Some(d) => self.dev.backup_a_sparse(d.iter().copied(), &mut put),
        };
        let faults = target.faults.take();
        if let Some(f) = &faults {
            faults::lock(f).set_backup(false);
        }
        match backup {
            Ok(_) => {}
            Err(engine::Error::BackupRead { source, .. }) if faults::integrity(&source) => {
                return self.archive_lost()
            }
            Err(e) if backup_fault(&e) => return self.archive_failed(),
            Err(e) => return Err(engine_err(now)(e)),
        }
        self.archived(now, Some(archive.finish()))
    }

    /// The archive is complete at `now` (`received`: the image the archive got, for
    /// the oracle): marked, judged, and VLUN A retired. The pass's extents have all
    /// landed: their bytes are the archive's on the target
    /// ([`crate::CycleResult::archive_sent_bytes`]).
    fn archived(&mut self, now: Tick, received: Option<Received>) -> Result<(), SimError> {
        // The copy is over: nothing of it is read or lands again.
        let sent = self.archive_copy.take().map_or(0, |c| c.bytes);
        self.tally.archive_sent_bytes += sent;
        let armed = self.set_faults_armed(false);
        self.marks.archive_copy = Some(now);
        match received {
            _ if self.oracle.is_none() => {}
            None => {}
            Some(Received::Built(image)) => self.log(Event::Archive { image }),
            Some(Received::Expected(_)) => {
                if let Some(o) = self.oracle.as_mut() {
                    o.judge.push_archive_declared();
                }
            }
        }
        let held = self.dev.space_in_use().data_area_blocks;
        let retire = self.dev.retire_a();
        self.set_faults_armed(armed);
        self.a_retired = true;
        let cost = match retire {
            Ok(cost) => cost,
            // Write logging's merge read a logged block of VLUN B that fails its
            // checksum: VLUN A is gone, but the merge stops there; the engine keeps
            // the entries not merged (VLUN B reads them through the table and refuses
            // the lost one). No retirement mark: the extra space is not reclaimed.
            // The cycle stays open: no later cycle splits this device.
            Err(e) if faults::integrity(&e) => {
                self.count(|c| c.integrity_detections += 1);
                self.stop_cycles();
                return Ok(());
            }
            Err(e) => return Err(engine_err(now)(e)),
        };
        self.retired(now, &cost, held);
        Ok(())
    }

    /// VLUN A is gone (retired, or dropped by an abandoned backup) at `now`: its own
    /// I/O (`cost`: write logging's merge) priced on the device's channels call by
    /// call ([`merge`]), the retirement marked when the last completes, the extra space
    /// left recorded, and the cycle ends then: while the merge runs the backup window
    /// stays open, so the users' calls queued behind it are waits the backup caused
    /// and their I/O is the window's ([`Ev::RetireDone`]). The `held` data-area blocks
    /// in use before the call stay in the extra-space series until then: the device
    /// frees them when its merge is done, not when the engine was asked.
    pub(super) fn retired(&mut self, now: Tick, cost: &IoCost, held: u64) {
        self.a_retired = true;
        self.retiring_blocks = held;
        self.retiring = true;
        self.tally.backup_io.add(cost);
        let extra = self.dev.extra_space_blocks();
        self.log(Event::Retire {
            extra_space_blocks: extra,
        });
        self.merge = Some(merge::MergeCalls::of(cost));
        self.merge_step(now);
    }

    /// An archive pass failed under injected faults: VLUN A must stay (the engine
    /// refuses to retire it without a complete archive), and the copy starts over.
    ///
    /// Faults that fail every pass would copy forever: the blocks copied again count
    /// against `limits.archive_blocks_max`, and past it the run stops
    /// ([`SimError::Limit`], exit 3).
    fn archive_failed(&mut self) -> Result<(), SimError> {
        self.refuse_retire()?;
        self.count(|c| c.backup_failures += 1);
        let max = self.scenario.limits.archive_blocks_max;
        self.archive_blocks_again = self
            .archive_blocks_again
            .saturating_add(self.layout.volume_blocks);
        if self.archive_blocks_again > max {
            return Err(SimError::Limit {
                key: "limits.archive_blocks_max",
                what: format!(
                    "archive passes failed by injected faults and copied again past {max} \
                     blocks"
                ),
            });
        }
        let delay = self.scenario.faults.io_retry_ticks;
        let cycle = self.cycle_number();
        self.q.schedule_in(delay, Ev::ArchiveRestart { cycle });
        Ok(())
    }

    /// An archive pass met a block of VLUN A failing its checksum (integrity mode):
    /// the pass fails and VLUN A must stay, as for an injected fault, but copying
    /// again cannot help — the block is lost — so the backup is given up. The cycle
    /// stays open (VLUN A is kept, so the device cannot split again): requests of
    /// later cycles queue behind it and are not served (each reported lost at the
    /// run's end: [`Marks::not_begun`](crate::Marks::not_begun)). Not a pass copied
    /// again: not in `backup_failures`; the engine's refusal is in `retires_refused`.
    fn archive_lost(&mut self) -> Result<(), SimError> {
        self.count(|c| c.integrity_detections += 1);
        self.refuse_retire()?;
        self.tally.backup_given_up = true;
        self.marks.given_up = Some(self.q.now());
        self.log(Event::GiveUp);
        self.stop_cycles();
        Ok(())
    }

    /// Marks the cycle in progress given up, leaving it open: no later cycle starts.
    fn stop_cycles(&mut self) {
        if let Some(c) = self.cycle.as_mut() {
            c.given_up = true;
        }
    }

    /// After a failed archive pass: the engine is asked to retire VLUN A and must
    /// refuse (a granted retire is [`SimError::Unsafe`]): `NoArchive` after a failed
    /// `backup_a`, or `IllegalState` when the pass failed in its priced reads, before
    /// `backup_a` froze VLUN A. The pass is dropped.
    fn refuse_retire(&mut self) -> Result<(), SimError> {
        let now = self.q.now();
        let armed = self.set_faults_armed(false);
        let retire = self.dev.retire_a();
        self.set_faults_armed(armed);
        match retire {
            Err(engine::Error::NoArchive) => {}
            Err(engine::Error::IllegalState {
                phase: engine::Phase::Split,
                ..
            }) => {}
            Ok(_) => {
                return Err(SimError::Unsafe {
                    at: now,
                    detail: "VLUN A retired after a failed archive pass".into(),
                })
            }
            Err(e) => return Err(engine_err(now)(e)),
        }
        self.count(|c| c.retires_refused += 1);
        self.archive_copy = None;
        Ok(())
    }
}

/// The archive target of the simulated backup: keeps the blocks (for the oracle) when
/// the run has a history, and refuses a block with the injected
/// `archive_write_error_probability`. Gets one block per call, holes left out.
struct Target<'a> {
    archive: Option<Sink<'a>>,
    faults: Option<Faults>,
}

/// The archive as the oracle keeps it: its difference from the initial image
/// ([`StreamedImage`]: compared with VLUN A as declared as it comes); the holes hold
/// the initial content.
struct Sink<'a> {
    image: &'a mut StreamedImage,
    layout: Layout,
    initial: &'a Initial,
}

/// The error the archive target returns for an injected refusal.
#[derive(Debug, thiserror::Error)]
#[error("injected archive write error")]
struct InjectedArchiveError;

impl Target<'_> {
    fn put(&mut self, block: u64, data: &[u8]) -> std::io::Result<()> {
        if self
            .faults
            .as_ref()
            .is_some_and(|f| faults::lock(f).archive_write_fails())
        {
            return Err(std::io::Error::other(InjectedArchiveError));
        }
        if let Some(a) = self.archive.as_mut() {
            a.image.set_block(&a.layout, a.initial, block, data);
        }
        Ok(())
    }
}

/// True when a failed `backup_a` was caused by an injected fault (a read of VLUN A or
/// the archive target), not by a bug or a refused call.
fn backup_fault(e: &engine::Error) -> bool {
    match e {
        engine::Error::BackupRead { source, .. } => faults::injected(source),
        engine::Error::Archive { source, .. } => source
            .get_ref()
            .is_some_and(|inner| inner.is::<InjectedArchiveError>()),
        _ => false,
    }
}

/// How many of `sorted`'s first blocks are below `end` (`partition_point(|b| b < end)`),
/// found by galloping from the start: an extent of a sparse volume's written blocks
/// ends a few entries in, so this reads those, not a binary search's cache lines
/// spread over a list of millions.
fn count_below(sorted: &[u64], end: u64) -> usize {
    let mut bound = 1;
    while bound <= sorted.len() && sorted[bound - 1] < end {
        bound *= 2;
    }
    // Every block before `bound / 2` is below `end`; the first that is not lies
    // before `bound` (or is the end of the list).
    let lo = bound / 2;
    lo + sorted[lo..bound.min(sorted.len())].partition_point(|&b| b < end)
}

/// Seconds as the time-limit words give them: tenths below 100 s (`1.5`), whole
/// seconds above (`6554`).
fn seconds(s: f64) -> String {
    if s < 100.0 {
        format!("{s:.1}")
    } else {
        format!("{s:.0}")
    }
}

#[cfg(test)]
mod count_below_tests {
    use super::count_below;

    #[test]
    fn galloping_agrees_with_a_binary_search() {
        let sorted: Vec<u64> = (0..300u64).map(|i| i * 3 + i % 2).collect();
        let mut seen = std::collections::BTreeSet::new();
        for end in 0..1000 {
            let n = count_below(&sorted, end);
            assert_eq!(n, sorted.partition_point(|&b| b < end), "end {end}");
            seen.insert(n);
        }
        assert_eq!(seen.len(), 301, "every count from 0 to the whole list");
        assert_eq!(count_below(&[], 5), 0);
    }
}
