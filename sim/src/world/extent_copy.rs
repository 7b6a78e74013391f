//! The double-buffered extent pipeline shared by the backup's copies: the archive copy
//! of VLUN A ([`super::archive`]) and the copy of VLUN B to B' ([`super::detach`]).
//!
//! A copy reads one extent through the engine (on the device's channels), then sends
//! it to its target, which accepts extents one after the other at its own bandwidth.
//! The next extent's read may overlap this extent's send, but starts only once the
//! extent before this one has landed: at most two extents are in flight (one being
//! read, one being sent), as a copy with two buffers keeps them.
//!
//! An extent's reads are one call on the device. Each read that continues a run of
//! physically contiguous blocks (the read before it in the extent was of the block
//! just before it on the same image) is priced without a positioning on a device that
//! has one ([`crate::device_model::DeviceModel::complete_extent`]): a dense extent of a
//! mirrored volume is one positioning and N transfers, while a copy-on-write snapshot's
//! preserved blocks (in the data area) and a hole-aware copy's gaps break the run, and
//! each break positions again. The model keeps no head position between calls: every
//! extent starts with a positioning.

use super::*;

/// Where a copy's extents stand: the next entry to read and when the target is free.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ExtentCopy {
    /// The first entry not yet read: a block number (a dense copy) or an index into
    /// the list of blocks copied (a hole-aware one).
    pub next: u64,
    /// The entries to copy in all (blocks, or the list's length).
    pub total: u64,
    /// When the target has accepted every extent (and mirrored write) sent so far,
    /// in ticks.
    pub target_free_at: Tick,
    /// The extents' reads so far, each from its issue to its completion on the
    /// device (queueing behind the users' calls included), summed, in ticks.
    pub read_ticks: Tick,
    /// Of [`ExtentCopy::read_ticks`], the device's own service of the reads (no
    /// queueing behind other calls, no jitter), summed, in ticks: the pace of the
    /// copy's reads on an idle device.
    pub read_service_ticks: Tick,
    /// The extents' sends to the target so far, summed, in ticks. Reads and sends
    /// overlap (two extents in flight), so the larger of the two sums sets the copy's
    /// pace.
    pub send_ticks: Tick,
    /// The extents sent so far.
    pub extents: u64,
    /// The last extent's read, its entries and its send's ticks: still in flight
    /// until the read's `done` (its read and send are priced when the read is issued).
    pub last: Option<(ExtentRead, u64, Tick)>,
}

/// One extent's reads on the device: issued at `from`, complete at `done`, of which
/// `service_ticks` the device's own service (no queueing, no jitter); in ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ExtentRead {
    pub from: Tick,
    pub done: Tick,
    pub service_ticks: Tick,
}

/// What a copy does after an extent: read the next one, or finish, at a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Read the next extent at this tick (this extent is read and the one before it
    /// has landed).
    Read(Tick),
    /// Every extent was read; the last lands at this tick.
    Done(Tick),
}

impl ExtentCopy {
    /// A copy of `total` entries whose target is free from `from` on.
    pub fn new(total: u64, from: Tick) -> Self {
        ExtentCopy {
            next: 0,
            total,
            target_free_at: from,
            read_ticks: 0,
            read_service_ticks: 0,
            send_ticks: 0,
            extents: 0,
            last: None,
        }
    }

    /// The extent of entries `next..until` was read ([`ExtentRead`]); its send takes
    /// `send_ticks` once both it is read and the target is free. Returns when the next
    /// read starts (once the extent before this one has landed) or, after the last
    /// extent, when that lands.
    pub fn advance(&mut self, until: u64, read: ExtentRead, send_ticks: Tick) -> Step {
        let previous_landed = self.target_free_at;
        self.read_ticks = self
            .read_ticks
            .saturating_add(read.done.saturating_sub(read.from));
        self.read_service_ticks = self.read_service_ticks.saturating_add(read.service_ticks);
        self.send_ticks = self.send_ticks.saturating_add(send_ticks);
        self.extents += 1;
        self.target_free_at = read.done.max(previous_landed).saturating_add(send_ticks);
        self.last = Some((read, until.saturating_sub(self.next), send_ticks));
        self.next = until;
        if until < self.total {
            Step::Read(read.done.max(previous_landed))
        } else {
            Step::Done(self.target_free_at)
        }
    }

    /// The copy as done by `now`: an extent still being read (its read and send priced
    /// when it was issued, [`ExtentCopy::advance`]) taken out, its entries, read and
    /// send ticks and its count with it.
    pub fn done_by(&self, now: Tick) -> ExtentCopy {
        let mut done = *self;
        if let Some((read, entries, send)) = self.last.filter(|(r, _, _)| r.done > now) {
            done.next = done.next.saturating_sub(entries);
            done.read_ticks = done.read_ticks.saturating_sub(read.done - read.from);
            done.read_service_ticks = done.read_service_ticks.saturating_sub(read.service_ticks);
            done.send_ticks = done.send_ticks.saturating_sub(send);
            done.extents = done.extents.saturating_sub(1);
            done.last = None;
        }
        done
    }

    /// Queues `send_ticks` of other traffic (a mirrored write) on the target at `now`,
    /// behind what it is accepting.
    pub fn queue(&mut self, now: Tick, send_ticks: Tick) {
        self.target_free_at = self.target_free_at.max(now).saturating_add(send_ticks);
    }
}

/// The runs of physically contiguous blocks among one extent's reads, in the order
/// the extent reads them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Runs {
    /// The image and physical block of the extent's last read.
    last: Option<(Image, u64)>,
    /// The reads that continued a run (the first read of each run does not).
    pub contiguous: u32,
}

impl Runs {
    /// The extent read physical block `block` of `image` next.
    pub fn read(&mut self, image: Image, block: u64) {
        if self
            .last
            .is_some_and(|(i, b)| i == image && b.checked_add(1) == Some(block))
        {
            self.contiguous += 1;
        }
        self.last = Some((image, block));
    }
}

impl World<'_> {
    /// Prices one extent's reads (`cost`, issued at `now`; `runs`: which of them
    /// continue a run of contiguous blocks) as the backup's own I/O on the device's
    /// channels: when they complete, and the device's own service of them.
    pub(super) fn extent_read(&mut self, now: Tick, cost: &IoCost, runs: Runs) -> ExtentRead {
        self.tally.backup_io.add(cost);
        let service_ticks = self.scenario.device.extent_service_ticks(
            cost,
            runs.contiguous,
            self.layout.block_size as u64,
        );
        ExtentRead {
            from: now,
            done: self.backup_call_runs(now, cost, runs.contiguous),
            service_ticks,
        }
    }

    /// Schedules what a copy does next: `read` at a [`Step::Read`], `done` at a
    /// [`Step::Done`].
    pub(super) fn schedule_step(&mut self, step: Step, read: Ev, done: Ev) {
        match step {
            Step::Read(at) => self.q.schedule_at(at, read),
            Step::Done(at) => self.q.schedule_at(at, done),
        }
    }
}

/// Where the read that cost `cost` (one VLUN block read: one image read) went on
/// `dev`: its image and physical block.
pub(super) fn read_at(
    dev: &engine::Device<crate::faults::SimStore>,
    cost: &IoCost,
) -> (Image, u64) {
    let (a, b) = dev.images();
    if cost.reads_a > 0 {
        (Image::A, a.last_read())
    } else {
        (Image::B, b.last_read())
    }
}

#[cfg(test)]
mod tests {
    use super::{ExtentCopy, ExtentRead, Runs, Step};
    use crate::clock::Tick;

    /// An extent still being read at `now` is not done: the copy as done then is the
    /// copy before that extent was issued; once read, it is the whole copy.
    #[test]
    fn an_extent_in_flight_is_not_done_until_read() {
        let mut c = ExtentCopy::new(10, 0);
        let first = ExtentRead {
            from: 0,
            done: 40,
            service_ticks: 30,
        };
        let Step::Read(at) = c.advance(4, first, 7) else {
            panic!("more to read")
        };
        let before = c;
        let second = ExtentRead {
            from: at,
            done: at + 50,
            service_ticks: 20,
        };
        c.advance(8, second, 9);
        let mid = c.done_by(at + 49);
        assert_eq!(
            (
                mid.next,
                mid.read_ticks,
                mid.read_service_ticks,
                mid.send_ticks,
                mid.extents
            ),
            (
                before.next,
                before.read_ticks,
                before.read_service_ticks,
                before.send_ticks,
                1
            )
        );
        assert_eq!(mid.last, None);
        assert_eq!(c.done_by(at + 50), c);
    }
    use engine::Image;

    /// A read from `from` to `done`, all of it the device's service.
    fn read(from: Tick, done: Tick) -> ExtentRead {
        ExtentRead {
            from,
            done,
            service_ticks: done - from,
        }
    }

    /// A send time saturated at `Tick::MAX` (a copy past 2^64 ticks) keeps the target
    /// busy until then, never wrapping to land before it was read.
    #[test]
    fn a_saturated_send_never_lands_early() {
        let mut copy = ExtentCopy::new(2, 0);
        assert_eq!(copy.advance(1, read(0, 1000), Tick::MAX), Step::Read(1000));
        assert_eq!(copy.advance(2, read(1000, 2000), 5), Step::Done(Tick::MAX));
        let mut copy = ExtentCopy::new(1, 0);
        copy.queue(7, Tick::MAX);
        copy.queue(9, 3);
        assert_eq!(copy.advance(1, read(0, 10), 1), Step::Done(Tick::MAX));
    }

    /// Property, over random extents (runs of contiguous blocks broken by jumps to
    /// other blocks or the other image) and random devices (every profile, the plain
    /// defaults, random latencies, transfer rates and sequential read rates, with and
    /// without each): an extent of N reads with C continuing a run costs N − C reads
    /// apart plus the C continuing reads: their bytes at the sequential rate (rounded
    /// up once) when there is one; else, with a transfer rate, N − C positionings and
    /// the N reads' bytes at that rate, rounded up once; else each its latency. On every profile a continuing read is cheaper than
    /// a positioned one, so an extent that continues a run costs less than its reads
    /// apart there.
    #[test]
    fn an_extent_costs_its_positioned_reads_and_its_continuing_reads() {
        use crate::device_model::{DeviceModel, DeviceModelConfig};
        use crate::profiles::DeviceProfile;
        use crate::rng::{stream, Component};
        use engine::IoCost;
        use rand::{Rng, SeedableRng};

        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let (mut cheaper, mut equal) = (0, 0);
        for case in 0..3000u64 {
            let mut config = match case % 5 {
                0 => DeviceProfile::Hdd7200.config(),
                1 => DeviceProfile::SataSsd.config(),
                2 => DeviceProfile::NvmeSsd.config(),
                3 => DeviceModelConfig::default(),
                _ => DeviceModelConfig {
                    read_latency_ticks: rng.random_range(0..20_000),
                    transfer_bytes_per_s: if rng.random_bool(0.3) {
                        0
                    } else {
                        rng.random_range(1_000_000..2_000_000_000)
                    },
                    sequential_read_bytes_per_s: if rng.random_bool(0.5) {
                        0
                    } else {
                        rng.random_range(1_000_000..4_000_000_000)
                    },
                    ..DeviceModelConfig::default()
                },
            };
            config.jitter_ticks_max = 0;
            let block = 8 * rng.random_range(1..=4096u64);
            let n: u32 = rng.random_range(1..=128);
            let mut runs = Runs::default();
            let mut at = (Image::A, rng.random_range(0..1_000_000u64));
            for _ in 0..n {
                runs.read(at.0, at.1);
                at = if rng.random_bool(0.7) {
                    (at.0, at.1 + 1)
                } else {
                    let image = if rng.random_bool(0.5) {
                        Image::A
                    } else {
                        Image::B
                    };
                    (image, rng.random_range(0..1_000_000))
                };
            }
            let price = |reads: u32, contiguous: u32| {
                let mut d =
                    DeviceModel::new(config.clone(), block, stream(case, Component::Device));
                let cost = IoCost {
                    reads_a: reads,
                    ..IoCost::default()
                };
                d.complete_extent(0, &cost, contiguous, 1)
            };
            let extent = price(n, runs.contiguous);
            let one = price(1, 0);
            let c = u64::from(runs.contiguous);
            let ticks_of = |bytes: u64, rate: u64| {
                (u128::from(bytes) * 1_000_000).div_ceil(u128::from(rate)) as u64
            };
            let expected = if config.sequential_read_bytes_per_s > 0 {
                (u64::from(n) - c) * one + ticks_of(c * block, config.sequential_read_bytes_per_s)
            } else if config.transfer_bytes_per_s > 0 && c > 0 {
                // Each run positions once; the reads' bytes move together.
                (u64::from(n) - c) * config.read_latency_ticks
                    + ticks_of(u64::from(n) * block, config.transfer_bytes_per_s)
            } else {
                (u64::from(n) - c) * one + c * config.read_latency_ticks
            };
            assert_eq!(
                extent, expected,
                "case {case}: {n} reads, {c} continuing ({config:?})"
            );
            let apart = u64::from(n) * one;
            if case % 5 < 3 && c > 0 {
                assert!(
                    extent < apart,
                    "case {case}: a profile's run costs {extent}, apart {apart}"
                );
            }
            cheaper += usize::from(extent < apart);
            equal += usize::from(extent == apart);
        }
        assert!(
            cheaper > 500 && equal > 500,
            "{cheaper} cheaper, {equal} equal"
        );
    }

    /// A read continues a run only after the block just before it on the same image.
    #[test]
    fn only_the_next_block_of_the_same_image_continues_a_run() {
        let mut r = Runs::default();
        for (image, block) in [
            (Image::A, 0), // the first read positions
            (Image::A, 1), // +1
            (Image::A, 2), // +1
            (Image::B, 3), // another image
            (Image::B, 4), // +1
            (Image::B, 9), // a gap
            (Image::B, 8), // backwards
            (Image::A, 9), // another image
        ] {
            r.read(image, block);
        }
        assert_eq!(r.contiguous, 3);
        let mut one = Runs::default();
        one.read(Image::A, 5);
        assert_eq!(one.contiguous, 0);
    }

    /// Reads slower than sends: each read starts as soon as the previous one is done
    /// and the extent before it has landed; the last extent lands one send after its
    /// read.
    #[test]
    fn a_read_overlaps_the_previous_send_and_waits_for_the_one_before() {
        let mut c = ExtentCopy::new(3, 0);
        // Extent 0 read by 10, sent 10..15: read extent 1 at 10.
        assert_eq!(c.advance(1, read(0, 10), 5), Step::Read(10));
        assert_eq!(c.target_free_at, 15);
        // Extent 1 read by 12 (faster): sent 15..35; the next read waits for extent 0
        // to land (15), not for extent 1 (35).
        assert_eq!(c.advance(2, read(10, 12), 20), Step::Read(15));
        assert_eq!(c.target_free_at, 35);
        // Mirrored traffic queues behind the sends in flight.
        c.queue(20, 3);
        assert_eq!(c.target_free_at, 38);
        // The last extent: done when it lands.
        assert_eq!(c.advance(3, read(15, 16), 4), Step::Done(42));
        assert_eq!(c.next, 3);
        // The reads took 10 + 2 + 1 ticks, the sends 5 + 20 + 4: the target set the
        // pace.
        assert_eq!((c.read_ticks, c.send_ticks), (13, 29));
        // An idle target takes mirrored traffic from now.
        c.queue(100, 3);
        assert_eq!(c.target_free_at, 103);
    }
}
