//! The device time model: how long the physical operations of one engine call take.
//!
//! The engine counts what each call did ([`engine::IoCost`]); this model prices it:
//! `reads × read_latency + writes × write_latency + table updates ×
//! table_update_latency + lookups × table_lookup_latency + image flushes ×
//! flush_latency + journal syncs × journal_sync_latency` (+ optional jitter), served
//! on one of `channels` parallel channels. When every channel is busy the call queues (FIFO by issue
//! order; ties go to the lowest channel number). The two image writes of a mirrored
//! A write are priced one after the other: the acknowledgement needs both (\[0051\]).
//!
//! With `write_channels` below `channels`, a call that writes also needs one of
//! `write_channels` write slots: it starts when a channel and a write slot are both
//! free, and holds the slot for its writes' time (`writes × write_latency`), so
//! sustained writes are bounded at `write_channels / write_latency` while a lone
//! write still takes `write_latency` (a drive whose writes land in a fast buffer at
//! queue depth 1 but whose sustained random writes are far fewer than its reads).
//!
//! With `transfer_bytes_per_s` (a positioning device: the `hdd-7200` profile), the
//! read and write latencies are the head's positioning, and every block read or
//! written also takes its transfer time at that sustained media rate (block size /
//! rate, rounded up to a tick). A call that reads a run of
//! physically contiguous blocks (an archive extent, the copy to B') positions once per
//! run: a read that continues the run pays its transfer only, and the call's reads
//! move their bytes back to back, rounded up to a tick once, so a run of N blocks
//! costs one positioning + `ceil(N × block size / rate)` however small its blocks
//! ([`DeviceModel::complete_extent`]). Without it (the default, and the SSD profiles)
//! every block read or written costs its latency, wherever it lies, and no transfer
//! time is charged.
//!
//! With `sequential_read_bytes_per_s` (the SSD profiles: their published sequential
//! read rate), a read that continues a run costs its bytes at that rate instead: a run
//! of N blocks read in one call costs one read (its latency, and its transfer on a
//! positioning device) + (N − 1) blocks at the sequential rate, rounded up to a tick
//! over the call's continuing reads together. An SSD's random 4 KiB latency is not
//! what a large sequential read costs per block (the P4500's: 85 µs a random read,
//! 3.2 GB/s sequential), so without it the archive copy of an SSD would be bound at
//! a block's latency a block (48 MB/s on `nvme-ssd`), whatever its target.
//!
//! With `journal_lane`, a call's journal syncs are taken off its channel and priced
//! on one lane every call shares, after the call's channel time: the engine holds its
//! metadata lock across a journal sync, so concurrent calls' syncs take turns while
//! their image I/O and flushes overlap (BENCHMARKS.md, "The barriers inside the served
//! engine": at queue depth 8, a copy-on-write first write took 8 × one journal sync).

use engine::IoCost;
use rand::RngCore;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::clock::Tick;
use crate::free_slots::FreeSlots;
use crate::profiles::{DeviceModelFile, DeviceProfile};
use crate::rng;

/// Latencies and parallelism of the simulated storage. Defaults: a fast SSD-like
/// device, 1 tick = 1 µs; `profile` sets sourced defaults for a real device
/// ([`DeviceProfile`]), which every key given explicitly overrides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "DeviceModelFile")]
pub struct DeviceModelConfig {
    /// The device whose published figures give the defaults (default none: the
    /// figures below).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<DeviceProfile>,
    /// Ticks per physical block read (default 10).
    pub read_latency_ticks: Tick,
    /// Ticks per physical block write (default 20).
    pub write_latency_ticks: Tick,
    /// Ticks per lookup-table entry created or dropped (default 2).
    pub table_update_latency_ticks: Tick,
    /// Ticks per lookup-table probe (default 0: the table is in memory).
    pub table_lookup_latency_ticks: Tick,
    /// Ticks per flush barrier the call waited for (default 20): an image flush or a
    /// journal sync ([`IoCost::flushes`]; a copy-on-write first write waits for two,
    /// so that the preserved copy is durable before the overwrite).
    pub flush_latency_ticks: Tick,
    /// Ticks per metadata journal sync the call waited for ([`IoCost::journal_syncs`]:
    /// on a file-backed device the journal's `fdatasync` plus the superblock's write
    /// and `fdatasync`, about two image flushes); default: `flush_latency_ticks`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journal_sync_latency_ticks: Option<Tick>,
    /// The engine keeps its metadata journal (in memory), as a file-backed device
    /// does, so the calls pay the journal's syncs: mirroring's dirty mark before each
    /// first VLUN A write to a block since the last flush, copy-on-write's durable
    /// entry, write logging's sync of the previous entry before reusing the log
    /// (default false: the journal only with `[faults]`, which need it to recover).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub journaled: bool,
    /// The engine's integrity mode ([`engine::DeviceConfig::integrity`]): a CRC-32 of
    /// every block's content and address, verified on every read, so a rotted or
    /// misdirected block is refused instead of served. Its checksum-block writes (one
    /// per block write) are counted image writes, priced like any other (default
    /// false).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub integrity: bool,
    /// The journal syncs of every call share one lane, after the call's channel time,
    /// instead of being priced on the call's channel (default false). The engine's
    /// metadata lock is held across a sync, so concurrent syncs take turns while the
    /// calls' other I/O overlaps. Needs a journal (`journaled`, or `[faults]`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub journal_lane: bool,
    /// Parallel channels; calls queue when all are busy (default 4; 1..=
    /// [`CHANNELS_MAX`]).
    pub channels: u32,
    /// Write slots: a call with writes needs one as well as a channel, and holds it for
    /// `writes × write_latency_ticks` from its start, so at most this many calls'
    /// writes are in service at once (default: `channels`, no bound beyond the
    /// channels'). Sustained block writes: `min(channels, write_channels) /
    /// write_latency_ticks` per tick. Source of the profiles' values: their published
    /// sustained random-write IOPS × write latency (Little's law).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_channels: Option<u32>,
    /// Extra uniform jitter of 0..=jitter ticks per call, from the device stream (default 2).
    pub jitter_ticks_max: Tick,
    /// The media's sustained transfer rate, bytes per second (default 0: none). When
    /// set, `read_latency_ticks` and `write_latency_ticks` are a block's positioning,
    /// every block read or written also takes its transfer time, `block size /
    /// transfer_bytes_per_s` rounded up to a tick, and a block read that continues a
    /// run of physically contiguous blocks within one call takes its transfer only, the
    /// call's reads then rounded up to a tick together, not block by block: a run of N
    /// blocks costs one positioning + `ceil(N × block size / rate)`
    /// ([`DeviceModel::complete_extent`]). 0: every block read or written costs its
    /// latency alone, contiguous or not (a device without a positioning cost).
    #[serde(skip_serializing_if = "is_zero")]
    pub transfer_bytes_per_s: u64,
    /// The rate of a read that continues a run of physically contiguous blocks within
    /// one call (an extent of the archive copy or of the copy to B'), bytes per second
    /// (default 0: none). When set, such reads cost their bytes at this rate, rounded
    /// up to a tick over the call's continuing reads together, instead of their
    /// latency (and transfer). 0: a continuing read costs its transfer at
    /// `transfer_bytes_per_s` when that is set, else its latency. Source of the SSD
    /// profiles' values: their published sequential read rates.
    #[serde(skip_serializing_if = "is_zero")]
    pub sequential_read_bytes_per_s: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Default for DeviceModelConfig {
    fn default() -> Self {
        Self {
            profile: None,
            read_latency_ticks: 10,
            write_latency_ticks: 20,
            table_update_latency_ticks: 2,
            table_lookup_latency_ticks: 0,
            flush_latency_ticks: 20,
            journal_sync_latency_ticks: None,
            journaled: false,
            integrity: false,
            journal_lane: false,
            channels: 4,
            write_channels: None,
            jitter_ticks_max: 2,
            transfer_bytes_per_s: 0,
            sequential_read_bytes_per_s: 0,
        }
    }
}

impl DeviceModelConfig {
    /// Every per-operation latency, by its dotted key, in ticks: block read and write,
    /// table update and probe, flush, journal sync (0 when left to the flush's).
    pub fn latencies(&self) -> [(&'static str, Tick); 6] {
        [
            ("device.read_latency_ticks", self.read_latency_ticks),
            ("device.write_latency_ticks", self.write_latency_ticks),
            (
                "device.table_update_latency_ticks",
                self.table_update_latency_ticks,
            ),
            (
                "device.table_lookup_latency_ticks",
                self.table_lookup_latency_ticks,
            ),
            ("device.flush_latency_ticks", self.flush_latency_ticks),
            (
                "device.journal_sync_latency_ticks",
                self.journal_sync_latency_ticks.unwrap_or(0),
            ),
        ]
    }

    /// The service time of one call, without jitter or queueing, its blocks
    /// `block_bytes` long, none of its reads continuing a contiguous run (a user's
    /// call): in ticks.
    pub fn service_ticks(&self, cost: &IoCost, block_bytes: u64) -> Tick {
        self.extent_service_ticks(cost, 0, block_bytes)
    }

    /// The service time of one call of which `contiguous_reads` block reads continue a
    /// run of physically contiguous blocks (at most the call's reads), without jitter
    /// or queueing, in ticks: [`DeviceModelConfig::service_ticks`] with each contiguous
    /// read priced as a continuing read (see `sequential_read_bytes_per_s`): its
    /// transfer only on a device with a transfer rate, the call's continuing reads'
    /// bytes at the sequential rate when one is set, its latency otherwise.
    pub fn extent_service_ticks(
        &self,
        cost: &IoCost,
        contiguous_reads: u32,
        block_bytes: u64,
    ) -> Tick {
        let lane = if self.journal_lane {
            self.journal_ticks(cost)
        } else {
            0
        };
        let price = Price::of(self, block_bytes);
        let transfers = cost.total_reads().saturating_add(cost.total_writes());
        price
            .continuing(
                self.channel_ticks(cost)
                    .saturating_add(price.transfer_ticks(transfers)),
                cost,
                contiguous_reads,
            )
            .saturating_add(lane)
    }

    /// The part of a call's service time spent on its channel: all of it, but for its
    /// journal syncs under `journal_lane`.
    fn channel_ticks(&self, cost: &IoCost) -> Tick {
        let syncs = if self.journal_lane {
            0
        } else {
            self.journal_ticks(cost)
        };
        times(cost.total_reads(), self.read_latency_ticks)
            .saturating_add(times(cost.total_writes(), self.write_latency_ticks))
            .saturating_add(times(cost.table_updates(), self.table_update_latency_ticks))
            .saturating_add(times(cost.table_lookups, self.table_lookup_latency_ticks))
            .saturating_add(times(cost.image_flushes(), self.flush_latency_ticks))
            .saturating_add(syncs)
    }

    /// The call's journal syncs' time.
    fn journal_ticks(&self, cost: &IoCost) -> Tick {
        times(cost.journal_syncs, self.journal_sync_latency())
    }

    /// Write slots: `write_channels`, else `channels`.
    pub fn write_slots(&self) -> u32 {
        self.write_channels.unwrap_or(self.channels)
    }

    /// One block's transfer time at `transfer_bytes_per_s`, `block_bytes` long: in
    /// ticks, rounded up (0 without a rate; at most `u64::MAX`).
    pub fn block_transfer_ticks(&self, block_bytes: u64) -> Tick {
        bytes_ticks(u128::from(block_bytes), self.transfer_bytes_per_s)
    }

    /// One block's time at `sequential_read_bytes_per_s`, `block_bytes` long: in ticks,
    /// rounded up (0 without a rate; at most `u64::MAX`).
    pub fn block_sequential_read_ticks(&self, block_bytes: u64) -> Tick {
        bytes_ticks(u128::from(block_bytes), self.sequential_read_bytes_per_s)
    }

    /// Ticks per journal sync: `journal_sync_latency_ticks`, else `flush_latency_ticks`.
    pub fn journal_sync_latency(&self) -> Tick {
        self.journal_sync_latency_ticks
            .unwrap_or(self.flush_latency_ticks)
    }
}

/// `n` calls of `ticks` each, saturating at [`Tick::MAX`]: a time past it is past every
/// `limits.time_ticks_max`, which then stops the run.
#[inline(always)]
fn times(n: u32, ticks: Tick) -> Tick {
    u64::from(n).saturating_mul(ticks)
}

/// Ticks to move `bytes` at `bytes_per_s`, rounded up (0 when the rate is 0; at most
/// `u64::MAX`).
fn bytes_ticks(bytes: u128, bytes_per_s: u64) -> Tick {
    if bytes_per_s == 0 {
        return 0;
    }
    let ticks_per_s = u128::from(1_000_000 / crate::clock::TICK_US);
    let ticks = bytes
        .saturating_mul(ticks_per_s)
        .div_ceil(u128::from(bytes_per_s));
    u64::try_from(ticks).unwrap_or(Tick::MAX)
}

/// The most channels a device may have: 65,536, the largest queue an NVMe controller
/// can offer (the NVM Express Base Specification's CAP.MQES, a 16-bit 0's-based count
/// of a queue's entries). The model keeps about 40 bytes per channel and finds the
/// earliest free in O(log channels) past 16 ([`FreeSlots`]), so a larger count would
/// only cost memory, never add parallelism a device has.
pub const CHANNELS_MAX: u32 = 1 << 16;

/// The channels' state: when each becomes free.
///
/// Jitter is a function of the call, not of the order of calls (common random
/// numbers): a call named `call` draws the same jitter under every policy, so two
/// policies run on the same seed differ only by what they really do, and a backup's
/// extra calls never hand a user's call a luckier draw.
#[derive(Debug)]
pub struct DeviceModel {
    config: DeviceModelConfig,
    /// When the journal lane becomes free (`journal_lane` only).
    journal_free_at: Tick,
    /// The journal lane's last call: its start and whether it was the backup's.
    lane: Channel,
    /// The seed's key for the per-call jitter (drawn once from the device stream).
    jitter_key: u64,
    /// Ticks calls spent queued for a channel, summed.
    pub queued_ticks: u64,
    /// Per channel, when it becomes free ([`FreeSlots`]: the earliest found in
    /// O(log channels) past a few), and the backup's work it has yet to run
    /// ([`Pending`]).
    free_at: FreeSlots,
    channels: Vec<Pending>,
    /// Per write slot, the same (as for the channels); `None` when the write slots are
    /// no fewer than the channels: then a write slot is always free when a channel is
    /// (every call holding a slot holds a channel at least as long), so the slots
    /// change nothing and are not kept.
    write_free_at: Option<FreeSlots>,
    write_slots: Vec<Pending>,
    /// The configuration's per-unit prices, as [`Price`].
    price: Price,
}

/// The journal lane's last call (see [`DeviceModel`]).
#[derive(Debug, Clone, Copy, Default)]
struct Channel {
    last_start: Tick,
    last_backup: bool,
}

/// The backup's work a channel (or write slot) has scheduled and not yet run, by
/// cause: the backup's own calls (the split's, an archive extent's reads, retire's
/// merge, the copy to B') and the backup's share of the users' calls
/// ([`Price::backup_share`]). A call queued on the channel from `now` waits behind
/// every such tick still to run ([`Pending::after`]), however many calls hold the
/// queue between them: a user queued behind another user who is queued behind an
/// archive extent waits for that extent too.
#[derive(Debug, Clone, Default)]
struct Pending {
    backup: Spans,
    copy: Spans,
}

impl Pending {
    /// The ticks of the backup's own calls and of its share of users' calls that the
    /// channel runs from `now` on.
    #[inline]
    fn after(&mut self, now: Tick) -> (Tick, Tick) {
        (self.backup.after(now), self.copy.after(now))
    }

    /// A call ending at `end` whose last `backup` ticks are the backup's own call's
    /// and last `copy` ticks the backup's share of a user's call (one of them 0).
    #[inline]
    fn push(&mut self, end: Tick, backup: Tick, copy: Tick) {
        self.backup.push(end, backup);
        self.copy.push(end, copy);
    }
}

/// Spans of a channel's time yet to run, in order, and their total.
#[derive(Debug, Clone, Default)]
struct Spans {
    spans: std::collections::VecDeque<(Tick, Tick)>,
    ahead: Tick,
}

impl Spans {
    /// The ticks of the spans from `now` on (the spans ended by `now` forgotten:
    /// every later call is issued at `now` or after).
    #[inline]
    fn after(&mut self, now: Tick) -> Tick {
        while let Some(&(start, end)) = self.spans.front() {
            if end > now {
                return self.ahead - now.saturating_sub(start);
            }
            self.ahead -= end - start;
            self.spans.pop_front();
        }
        0
    }

    /// A span of the last `share` ticks before `end`.
    #[inline]
    fn push(&mut self, end: Tick, share: Tick) {
        let share = share.min(end);
        if share > 0 {
            self.spans.push_back((end - share, end));
            self.ahead = self.ahead.saturating_add(share);
        }
    }
}

/// The per-unit prices of [`DeviceModelConfig::channel_ticks`], read once: a call's
/// channel time is the sum of its counts times these (the same sum, term for term).
#[derive(Debug, Clone, Copy)]
struct Price {
    read: Tick,
    write: Tick,
    table_update: Tick,
    table_lookup: Tick,
    flush: Tick,
    /// Per journal sync on the call's channel: 0 under `journal_lane`.
    journal_sync: Tick,
    /// Jitter's upper bound (0: none).
    jitter_max: Tick,
    /// A draw's remainder modulo `jitter_max + 1` without a division (when
    /// `jitter_max > 0`).
    jitter_span: Remainder,
    /// Journal syncs take the shared lane.
    journal_lane: bool,
    /// One block's transfer time at the media rate, rounded up to a tick (0 without a
    /// rate).
    block_transfer: Tick,
    /// `transfer_bytes_per_s` (0: no transfer time, every read positioned).
    transfer_bytes_per_s: u64,
    /// `sequential_read_bytes_per_s` (0: none) and the block's length in bytes.
    sequential_read_bytes_per_s: u64,
    block_bytes: u64,
}

impl Price {
    fn of(c: &DeviceModelConfig, block_bytes: u64) -> Self {
        Self {
            block_transfer: c.block_transfer_ticks(block_bytes),
            transfer_bytes_per_s: c.transfer_bytes_per_s,
            sequential_read_bytes_per_s: c.sequential_read_bytes_per_s,
            block_bytes,
            read: c.read_latency_ticks,
            write: c.write_latency_ticks,
            table_update: c.table_update_latency_ticks,
            table_lookup: c.table_lookup_latency_ticks,
            flush: c.flush_latency_ticks,
            journal_sync: if c.journal_lane {
                0
            } else {
                c.journal_sync_latency()
            },
            jitter_max: c.jitter_ticks_max,
            jitter_span: Remainder::new(c.jitter_ticks_max.saturating_add(1)),
            journal_lane: c.journal_lane,
        }
    }

    /// [`DeviceModelConfig::channel_ticks`].
    #[inline(always)]
    fn channel_ticks(&self, cost: &IoCost) -> Tick {
        times(cost.total_reads(), self.read)
            .saturating_add(times(cost.total_writes(), self.write))
            .saturating_add(times(cost.table_updates(), self.table_update))
            .saturating_add(times(cost.table_lookups, self.table_lookup))
            .saturating_add(times(cost.image_flushes(), self.flush))
            .saturating_add(times(cost.journal_syncs, self.journal_sync))
    }

    /// Of a user's call of `service` ticks (`cost`), the backup's share: what it takes
    /// beyond the one write (a call that writes) or read (a call that only reads) a
    /// plain volume would do for it: under copy-on-write a first write's copy (its read
    /// and write), table updates and flush barriers; under write logging its log slot;
    /// under a mirror the second image's write. A call with no read or write (the
    /// application's commit flush, a rollback's barrier) is the user's own: 0.
    #[inline]
    fn backup_share(&self, cost: &IoCost, service: Tick) -> Tick {
        let plain = if cost.total_writes() > 0 {
            self.write
        } else if cost.total_reads() > 0 {
            self.read
        } else {
            return 0;
        };
        service.saturating_sub(plain.saturating_add(self.block_transfer))
    }

    /// The part of a call's channel time that is its flush barriers (image flushes, and
    /// journal syncs priced on the channel).
    #[inline]
    fn flush_part(&self, cost: &IoCost) -> Tick {
        times(cost.image_flushes(), self.flush)
            .saturating_add(times(cost.journal_syncs, self.journal_sync))
    }

    /// Of a user's call, the backup's share of its hold on a write slot (its writes'
    /// time): every write past the first.
    #[inline]
    fn backup_slot_share(&self, cost: &IoCost) -> Tick {
        let extra = cost.total_writes().saturating_sub(1);
        times(extra, self.write).saturating_add(self.transfer_ticks(extra))
    }

    /// The transfer time of `blocks` blocks at the media rate: each block's, rounded
    /// up to a tick (0 without a rate).
    #[inline]
    fn transfer_ticks(&self, blocks: u32) -> Tick {
        u64::from(blocks).saturating_mul(self.block_transfer)
    }

    /// `service`, a call's time with every read priced as a positioned one (its
    /// latency, and its transfer on a device with a transfer rate), with its
    /// `contiguous` reads that continue a run (at most its reads) priced as such: with
    /// a sequential rate, together their bytes at that rate (rounded up once) in place
    /// of their latencies and transfers; else, with a transfer rate, no positioning,
    /// and the call's reads (its runs, one after the other) move their bytes at that
    /// rate together, rounded up to a tick once rather than per block, so a run of N
    /// blocks costs one positioning + `ceil(N × block bytes / rate)`; else each its
    /// latency (`service` unchanged).
    #[inline]
    fn continuing(&self, service: Tick, cost: &IoCost, contiguous: u32) -> Tick {
        let c = contiguous.min(cost.total_reads());
        // A saturated time stays so: what it would have been is not known.
        if c == 0 || service == Tick::MAX {
            return service;
        }
        if self.sequential_read_bytes_per_s != 0 {
            let positioned = times(c, self.read).saturating_add(self.transfer_ticks(c));
            let bytes = u128::from(c) * u128::from(self.block_bytes);
            return (service - positioned)
                .saturating_add(bytes_ticks(bytes, self.sequential_read_bytes_per_s));
        }
        if self.transfer_bytes_per_s != 0 {
            let reads = cost.total_reads();
            let bytes = u128::from(reads) * u128::from(self.block_bytes);
            return (service - times(c, self.read) - self.transfer_ticks(reads))
                .saturating_add(bytes_ticks(bytes, self.transfer_bytes_per_s));
        }
        service
    }
}

impl DeviceModel {
    /// A device of blocks `block_bytes` long (their transfer time, with
    /// `transfer_bytes_per_s`) with every channel free at time 0 (at least one
    /// channel).
    pub fn new(config: DeviceModelConfig, block_bytes: u64, mut rng: ChaCha8Rng) -> Self {
        let channels = config.channels.max(1) as usize;
        let slots = config.write_slots().max(1) as usize;
        let slots = if slots < channels { slots } else { 0 };
        Self {
            price: Price::of(&config, block_bytes),
            config,
            journal_free_at: 0,
            lane: Channel::default(),
            jitter_key: rng.next_u64(),
            queued_ticks: 0,
            free_at: FreeSlots::new(channels),
            channels: vec![Pending::default(); channels],
            write_free_at: (slots > 0).then(|| FreeSlots::new(slots)),
            write_slots: vec![Pending::default(); slots],
        }
    }

    /// Prices call `call` (an identity unique in the run: [`call_id`]) issued at `now`:
    /// returns the tick at which it completes.
    pub fn complete_at(&mut self, now: Tick, cost: &IoCost, call: u64) -> Tick {
        self.complete(now, cost, call).at
    }

    /// Ticks of the flush barriers of one call: image flushes at `flush_latency_ticks`,
    /// journal syncs at their own latency.
    #[inline]
    pub fn flush_ticks(&self, cost: &IoCost) -> Tick {
        if cost.flushes == 0 {
            // Journal syncs are counted among the flushes: none of either.
            return 0;
        }
        times(cost.image_flushes(), self.config.flush_latency_ticks)
            .saturating_add(self.config.journal_ticks(cost))
    }

    /// [`DeviceModel::complete_at`], also saying how long the call queued behind the
    /// backup's work ([`Completion`]): on its channel (or write slot) every tick of the
    /// backup's calls ([`call_id`] with no transaction) and, apart, of the backup's
    /// share of users' calls that ran ahead of it, plus the part of its wait for the
    /// journal lane spent while the lane's previous sync, a backup call's, ran; and its
    /// own share of the backup's work.
    #[inline]
    pub fn complete(&mut self, now: Tick, cost: &IoCost, call: u64) -> Completion {
        self.complete_run(now, cost, 0, call)
    }

    /// Prices call `call` issued at `now` that reads runs of physically contiguous
    /// blocks (an extent of the archive copy or of the copy to B'): `contiguous_reads`
    /// of its block reads (at most its reads) each continue a run, the block read
    /// just before it in the call being the block before it on the same image. On a
    /// device with a transfer rate those pay their transfer time only: a run of N
    /// blocks costs one positioning (`read_latency_ticks`) + N transfer times. Without
    /// one, the same as [`DeviceModel::complete_at`]. Returns the tick at which the
    /// call completes.
    pub fn complete_extent(
        &mut self,
        now: Tick,
        cost: &IoCost,
        contiguous_reads: u32,
        call: u64,
    ) -> Tick {
        self.complete_run(now, cost, contiguous_reads, call).at
    }

    /// [`DeviceModel::complete`] of a call with `contiguous` reads continuing a run.
    #[inline]
    fn complete_run(&mut self, now: Tick, cost: &IoCost, contiguous: u32, call: u64) -> Completion {
        let price = self.price;
        let mut service = price.channel_ticks(cost);
        if price.transfer_bytes_per_s != 0 {
            service = service.saturating_add(
                price.transfer_ticks(cost.total_reads().saturating_add(cost.total_writes())),
            );
        }
        if contiguous != 0 {
            service = price.continuing(service, cost, contiguous);
        }
        // A call of the backup's is the backup's work whole (jitter included); of a
        // user's, the backup's share (before the jitter, the device's own).
        let backup = is_backup_call(call);
        let copy = if backup {
            0
        } else {
            price.backup_share(cost, service)
        };
        if price.jitter_max > 0 && service > 0 {
            let draw = rng::mix64(self.jitter_key ^ rng::mix64(call));
            service = service.saturating_add(price.jitter_span.of(draw));
        }
        // Earliest free channel; ties to the lowest index (deterministic).
        let (i, free) = self.free_at.earliest();
        let mut start = now.max(free);
        let mut behind_backup_ticks = 0;
        let mut behind_copy_ticks = 0;
        if let Some(write_free_at) = self
            .write_free_at
            .as_mut()
            .filter(|_| cost.total_writes() > 0)
        {
            let (k, slot_free) = write_free_at.earliest();
            start = start.max(slot_free);
            let slot = &mut self.write_slots[k];
            // Every tick of the backup's still to run on the slot lies before `start`.
            (behind_backup_ticks, behind_copy_ticks) = slot.after(now);
            let held = times(cost.total_writes(), price.write)
                .saturating_add(price.transfer_ticks(cost.total_writes()));
            let slot_end = start.saturating_add(held);
            write_free_at.occupy(k, slot_end);
            match backup {
                true => slot.push(slot_end, held, 0),
                false => slot.push(slot_end, 0, price.backup_slot_share(cost)),
            }
        }
        self.queued_ticks = self.queued_ticks.saturating_add(start - now);
        // The channel's part of the wait: the backup's ticks it runs before it is free
        // (all of them lie before `start`); the blame is the longer of the channel's
        // and the write slot's parts, which overlap.
        let ch = &mut self.channels[i];
        let (ch_backup, ch_copy) = ch.after(now);
        behind_backup_ticks = behind_backup_ticks.max(ch_backup);
        behind_copy_ticks = behind_copy_ticks.max(ch_copy);
        let end = start.saturating_add(service);
        self.free_at.occupy(i, end);
        ch.push(end, if backup { service } else { 0 }, copy);
        // The two causes' spans are disjoint on a channel; on a write slot and a
        // channel they overlap: neither is more than the wait they share.
        let waited = start - now;
        behind_backup_ticks = behind_backup_ticks.min(waited);
        behind_copy_ticks = behind_copy_ticks.min(waited - behind_backup_ticks);
        // The call's own share, past its flush barriers (their own cause).
        let own_copy_ticks = copy.saturating_sub(price.flush_part(cost));
        if !price.journal_lane || cost.journal_syncs == 0 {
            return Completion {
                at: end,
                behind_backup_ticks,
                behind_copy_ticks,
                own_copy_ticks,
            };
        }
        // The syncs take their turn on the lane once the call's channel part is done.
        // That wait comes after the channel's, so a part of it spent while a backup
        // call held the lane (the split's phase-record sync, a merge's table sync) adds
        // to the blame: a call that does not queue there finds the lane free by `end`,
        // and the difference saturates to 0.
        let sync_start = end.max(self.journal_free_at);
        self.queued_ticks = self.queued_ticks.saturating_add(sync_start - end);
        behind_backup_ticks = behind_backup_ticks.saturating_add(
            self.journal_free_at
                .saturating_sub(end.max(self.lane.last_start))
                * u64::from(self.lane.last_backup),
        );
        self.journal_free_at = sync_start.saturating_add(self.config.journal_ticks(cost));
        self.lane = Channel {
            last_start: sync_start,
            last_backup: is_backup_call(call),
        };
        Completion {
            at: self.journal_free_at,
            behind_backup_ticks,
            behind_copy_ticks,
            own_copy_ticks,
        }
    }
}

/// `x % d` for a fixed divisor `d` by two multiplications instead of a division
/// (a 64-bit division takes tens of cycles, and every priced call with jitter does
/// one): Lemire, Kaser and Kurz, "Faster remainder by direct computation", Software:
/// Practice and Experience 49(6), 2019, with a 128-bit constant
/// `c = ceil(2^128 / d)`, exact for every 64-bit `x` and every `d >= 2`; `d <= 1`
/// gives 0.
#[derive(Debug, Clone, Copy)]
struct Remainder {
    c: u128,
    d: u64,
}

impl Remainder {
    fn new(d: u64) -> Self {
        let c = if d <= 1 {
            0
        } else {
            u128::MAX / u128::from(d) + 1
        };
        Self { c, d }
    }

    /// `x % d`.
    #[inline(always)]
    fn of(&self, x: u64) -> u64 {
        // The fraction x / d in 128 bits; its product with d, integer part.
        let frac = self.c.wrapping_mul(u128::from(x));
        let d = u128::from(self.d);
        let high = (frac >> 64) * d;
        let low = ((frac & u128::from(u64::MAX)) * d) >> 64;
        ((high + low) >> 64) as u64
    }
}

/// When a priced call completes, and how long it queued behind the backup's I/O.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completion {
    /// The tick the call completes.
    pub at: Tick,
    /// Ticks of its queueing spent behind a call of the backup: on its channel or
    /// write slot (the longer of the two, which overlap), plus on the journal lane
    /// (which comes after them).
    pub behind_backup_ticks: Tick,
    /// Ticks of its queueing spent behind the backup's share of other users' calls
    /// (their copy-on-write copies, log slots, a mirror's second writes, their table
    /// updates and flush barriers), on its channel or write
    /// slot.
    pub behind_copy_ticks: Tick,
    /// Of its own service, the backup's share past its flush barriers (which are
    /// their own cause): a copy-on-write first write's copy read and write, a log
    /// slot's write, a mirror's second write, table updates.
    pub own_copy_ticks: Tick,
}

/// Whether `call` ([`call_id`]) is one of the backup's own calls.
pub fn is_backup_call(call: u64) -> bool {
    call >> 63 == 1
}

/// The identity of a device call for its jitter: the `index`-th call of transaction
/// attempt `txn`, or (`txn = None`) the `index`-th call of the backup itself.
pub fn call_id(txn: Option<u64>, index: u64) -> u64 {
    match txn {
        Some(t) => (t << 24) ^ index,
        None => (1 << 63) | index,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Component};

    /// The remainder without a division equals `%`: divisors small, near powers of two
    /// and near 2^64, numerators at the edges and drawn.
    #[test]
    fn remainder_by_multiplication_is_exact() {
        let mut divisors: Vec<u64> = (1..=70).collect();
        for k in 2..64 {
            let p = 1u64 << k;
            divisors.extend([p - 1, p, p + 1]);
        }
        divisors.extend([u64::MAX - 1, u64::MAX, 1_000_000_007, 3 << 62]);
        let mut xs: Vec<u64> = vec![0, 1, 2, u64::MAX, u64::MAX - 1, 1 << 63, (1 << 63) - 1];
        let mut x = 0x0123_4567_89ab_cdefu64;
        for _ in 0..2000 {
            x = rng::mix64(x);
            xs.push(x);
            xs.push(x >> (x % 64));
        }
        let mut nonzero = 0;
        for &d in &divisors {
            let r = Remainder::new(d);
            for &x in &xs {
                assert_eq!(r.of(x), x % d, "{x} % {d}");
                nonzero += usize::from(x % d != 0);
            }
        }
        assert!(nonzero > xs.len() * divisors.len() / 2);
    }

    fn cost(reads: u32, writes: u32) -> IoCost {
        IoCost {
            reads_a: reads,
            writes_a: writes,
            ..IoCost::default()
        }
    }

    #[test]
    fn busy_channels_queue_calls() {
        let cfg = DeviceModelConfig {
            channels: 2,
            jitter_ticks_max: 0,
            ..DeviceModelConfig::default()
        };
        let mut d = DeviceModel::new(cfg, 64, stream(1, Component::Device));
        assert_eq!(d.complete_at(0, &cost(1, 0), 1), 10);
        assert_eq!(d.complete_at(0, &cost(0, 1), 2), 20);
        // Third call waits for channel 0 (free at 10).
        assert_eq!(d.complete_at(0, &cost(1, 1), 3), 40);
        assert_eq!(d.queued_ticks, 10);
    }

    /// A call's time past 2^64 ticks (2^24 reads of 2^40 ticks each, an archive
    /// extent's) saturates at `Tick::MAX`, past every time limit, instead of wrapping
    /// to a small time; so do the calls queued behind it and the queue's total.
    #[test]
    fn times_past_2_64_ticks_saturate() {
        let cfg = DeviceModelConfig {
            read_latency_ticks: 1 << 40,
            channels: 1,
            jitter_ticks_max: 0,
            ..DeviceModelConfig::default()
        };
        let huge = cost(1 << 24, 0);
        assert_eq!(cfg.service_ticks(&huge, 64), Tick::MAX);
        assert_eq!(cfg.extent_service_ticks(&huge, 1 << 20, 64), Tick::MAX);
        let mut d = DeviceModel::new(cfg.clone(), 64, stream(1, Component::Device));
        assert_eq!(d.complete_at(5, &huge, 1), Tick::MAX);
        assert_eq!(d.complete_extent(5, &huge, 1 << 20, 2), Tick::MAX);
        assert_eq!(d.complete_at(5, &cost(1, 0), 3), Tick::MAX);
        assert_eq!(d.queued_ticks, Tick::MAX);
        let fast = DeviceModelConfig {
            transfer_bytes_per_s: 1,
            sequential_read_bytes_per_s: 1,
            ..cfg
        };
        assert_eq!(fast.extent_service_ticks(&huge, 1 << 20, 64), Tick::MAX);
    }

    /// A user's call queued behind a backup call is blamed for the part of its wait
    /// that backup call ran; behind a user's call, for none.
    #[test]
    fn queueing_behind_the_backup_is_told_apart() {
        let cfg = DeviceModelConfig {
            channels: 1,
            jitter_ticks_max: 0,
            ..DeviceModelConfig::default()
        };
        let mut d = DeviceModel::new(cfg, 64, stream(1, Component::Device));
        let backup = call_id(None, 0);
        assert!(is_backup_call(backup) && !is_backup_call(call_id(Some(7), 3)));
        // Backup read 0..10; a user write issued at 2 waits 8, all behind the backup.
        assert_eq!(d.complete(0, &cost(1, 0), backup).behind_backup_ticks, 0);
        let user = d.complete(2, &cost(0, 1), call_id(Some(1), 0));
        assert_eq!((user.at, user.behind_backup_ticks), (30, 8));
        // Another user call at 5 waits 25: 5..10 behind the backup's read (however
        // many calls hold the channel's queue), 10..30 behind that user's plain write.
        let next = d.complete(5, &cost(1, 0), call_id(Some(2), 0));
        assert_eq!((next.at, next.behind_backup_ticks), (40, 5));
        assert_eq!(d.queued_ticks, 8 + 25);
    }

    /// A user's copy-on-write first write does the backup's work beside its own (the
    /// old block's read and its copy's write beside the user's write, two flush
    /// barriers): its own share past the flushes is the copy cause's, and a call
    /// queued behind it waits behind all of that share but the plain write; behind a
    /// plain write, for none of it. The application's flush is the user's own.
    #[test]
    fn the_backup_s_share_of_a_user_s_call_is_told_apart() {
        let cfg = DeviceModelConfig {
            channels: 1,
            jitter_ticks_max: 0,
            flush_latency_ticks: 100,
            ..DeviceModelConfig::default()
        };
        let first_write = IoCost {
            reads_b: 1,
            writes_a: 1,
            writes_b: 1,
            flushes: 2,
            ..IoCost::default()
        };
        let mut d = DeviceModel::new(cfg, 64, stream(1, Component::Device));
        // 10 + 20 + 20 + 2 x 100 = 250 ticks: the plain write's 20 the user's, the
        // flushes' 200 their own cause, the copy's read and write 30.
        let a = d.complete(0, &first_write, call_id(Some(1), 0));
        assert_eq!(
            (
                a.at,
                a.behind_backup_ticks,
                a.behind_copy_ticks,
                a.own_copy_ticks
            ),
            (250, 0, 0, 30)
        );
        // Queued 0..250 behind a: its share is the call's last 230 ticks.
        let b = d.complete(0, &cost(1, 0), call_id(Some(2), 0));
        assert_eq!(
            (
                b.at,
                b.behind_backup_ticks,
                b.behind_copy_ticks,
                b.own_copy_ticks
            ),
            (260, 0, 230, 0)
        );
        // Behind b's plain read only.
        let c = d.complete(255, &cost(0, 1), call_id(Some(3), 0));
        assert_eq!((c.at, c.behind_copy_ticks, c.own_copy_ticks), (280, 0, 0));
        // The application's flush: none of it the backup's.
        let fsync = IoCost {
            flushes: 1,
            ..IoCost::default()
        };
        let f = d.complete(280, &fsync, call_id(Some(4), 0));
        assert_eq!((f.at, f.own_copy_ticks), (380, 0));
        let g = d.complete(280, &cost(1, 0), call_id(Some(5), 0));
        assert_eq!((g.at, g.behind_copy_ticks), (390, 0));
    }

    /// A call queued behind several calls waits behind every tick of the backup's
    /// work among them, not only behind the call just before it: a user queued behind
    /// a user who is queued behind an archive read waits for that read too.
    #[test]
    fn queueing_behind_a_queue_counts_every_backup_tick_ahead() {
        let cfg = DeviceModelConfig {
            channels: 1,
            jitter_ticks_max: 0,
            ..DeviceModelConfig::default()
        };
        let mut d = DeviceModel::new(cfg, 64, stream(1, Component::Device));
        let backup = |k| call_id(None, k);
        // Backup read 0..10, a user's write 10..30, a backup read 30..40.
        assert_eq!(d.complete_at(0, &cost(1, 0), backup(0)), 10);
        let a = d.complete(0, &cost(0, 1), call_id(Some(1), 0));
        assert_eq!((a.at, a.behind_backup_ticks), (30, 10));
        assert_eq!(d.complete_at(0, &cost(1, 0), backup(1)), 40);
        // Issued at 0, it starts at 40: 0..10 and 30..40 were the backup's.
        let b = d.complete(0, &cost(0, 1), call_id(Some(2), 0));
        assert_eq!((b.at, b.behind_backup_ticks), (60, 20));
        // Issued at 35: 35..40 of the second read, then b's write (the user's own).
        let c = d.complete(35, &cost(1, 0), call_id(Some(3), 0));
        assert_eq!((c.at, c.behind_backup_ticks), (70, 5));
        // Issued once the backup's reads are done: nothing of the backup's ahead.
        let e = d.complete(45, &cost(1, 0), call_id(Some(4), 0));
        assert_eq!((e.at, e.behind_backup_ticks), (80, 0));
    }

    /// With fewer write slots than channels, writes queue for a slot (held for their
    /// write time only) while reads take the free channels; a lone write still takes
    /// its latency.
    #[test]
    fn write_slots_bound_writes_not_reads() {
        let cfg = DeviceModelConfig {
            channels: 4,
            write_channels: Some(1),
            jitter_ticks_max: 0,
            ..DeviceModelConfig::default()
        };
        let mut d = DeviceModel::new(cfg.clone(), 64, stream(1, Component::Device));
        // Four writes at once: one slot, 20 ticks each.
        let ends: Vec<Tick> = (0..4).map(|c| d.complete_at(0, &cost(0, 1), c)).collect();
        assert_eq!(ends, vec![20, 40, 60, 80]);
        assert_eq!(d.queued_ticks, 20 + 40 + 60);
        // Four reads at once take the four channels: the write slot is none of their
        // concern.
        let mut d = DeviceModel::new(cfg.clone(), 64, stream(1, Component::Device));
        let ends: Vec<Tick> = (0..4).map(|c| d.complete_at(0, &cost(1, 0), c)).collect();
        assert_eq!(ends, vec![10; 4]);
        // A read-and-write call holds the slot for its write only (20 of its 30).
        let mut d = DeviceModel::new(cfg.clone(), 64, stream(1, Component::Device));
        assert_eq!(d.complete_at(0, &cost(1, 1), 1), 30);
        assert_eq!(d.complete_at(0, &cost(0, 1), 2), 40);
        // As many slots as channels (or more, or none given) change nothing.
        for w in [None, Some(4), Some(9)] {
            let c = DeviceModelConfig {
                write_channels: w,
                ..cfg.clone()
            };
            let mut d = DeviceModel::new(c, 64, stream(1, Component::Device));
            let ends: Vec<Tick> = (0..5).map(|c| d.complete_at(0, &cost(0, 1), c)).collect();
            assert_eq!(ends, vec![20, 20, 20, 20, 40]);
        }
    }

    /// A user's write waiting for the slot a backup call holds is blamed on the backup.
    #[test]
    fn waiting_for_a_backup_s_write_slot_is_blamed_on_the_backup() {
        let cfg = DeviceModelConfig {
            channels: 4,
            write_channels: Some(1),
            jitter_ticks_max: 0,
            ..DeviceModelConfig::default()
        };
        let mut d = DeviceModel::new(cfg, 64, stream(1, Component::Device));
        // The backup writes 3 blocks: the slot is held 0..60.
        assert_eq!(d.complete_at(0, &cost(0, 3), call_id(None, 0)), 60);
        let user = d.complete(10, &cost(0, 1), call_id(Some(1), 0));
        assert_eq!((user.at, user.behind_backup_ticks), (80, 50));
        // The next user write waits 60..80 behind that user's write: not the backup's.
        let next = d.complete(60, &cost(0, 1), call_id(Some(2), 0));
        assert_eq!((next.at, next.behind_backup_ticks), (100, 0));
    }

    fn synced(flushes: u32, journal_syncs: u32) -> IoCost {
        IoCost {
            writes_a: 1,
            flushes: flushes + journal_syncs,
            journal_syncs,
            ..IoCost::default()
        }
    }

    /// Under `journal_lane` concurrent calls' syncs take turns while their channel
    /// parts overlap; without it the whole call holds its channel.
    #[test]
    fn the_journal_lane_serialises_syncs_only() {
        let lane = DeviceModelConfig {
            channels: 8,
            jitter_ticks_max: 0,
            flush_latency_ticks: 100,
            journal_sync_latency_ticks: Some(300),
            journaled: true,
            journal_lane: true,
            ..DeviceModelConfig::default()
        };
        let mut d = DeviceModel::new(lane.clone(), 64, stream(1, Component::Device));
        // Eight calls at once, each a write (20), a flush (100) and a sync (300): the
        // channel parts overlap (all done at 120), the syncs end 300 apart.
        let ends: Vec<Tick> = (0..8).map(|c| d.complete_at(0, &synced(1, 1), c)).collect();
        assert_eq!(ends, (1..=8).map(|k| 120 + 300 * k).collect::<Vec<_>>());
        // A call without a sync does not wait for the lane (free at 2,520): only for a
        // channel (free at 120).
        assert_eq!(d.complete_at(0, &synced(1, 0), 9), 240);
        // The same service time either way, one call alone.
        let off = DeviceModelConfig {
            journal_lane: false,
            ..lane.clone()
        };
        assert_eq!(
            lane.service_ticks(&synced(1, 1), 64),
            off.service_ticks(&synced(1, 1), 64)
        );
        let mut alone = DeviceModel::new(off.clone(), 64, stream(1, Component::Device));
        assert_eq!(alone.complete_at(0, &synced(1, 1), 1), 420);
        // Without the lane the eight overlap whole (eight channels).
        let mut d = DeviceModel::new(off, 64, stream(1, Component::Device));
        let ends: Vec<Tick> = (0..8).map(|c| d.complete_at(0, &synced(1, 1), c)).collect();
        assert_eq!(ends, vec![420; 8]);
    }

    /// A user's sync queued on the journal lane behind the backup's own sync (the
    /// split's phase-record sync) waits behind the backup exactly as a call queued on a
    /// channel behind a backup call does: the whole wait is blamed on the backup, and
    /// the wait behind another user's sync after it is not.
    #[test]
    fn waiting_for_the_lane_behind_a_backup_sync_is_blamed_on_the_backup() {
        let cfg = DeviceModelConfig {
            channels: 4,
            jitter_ticks_max: 0,
            flush_latency_ticks: 100,
            journal_sync_latency_ticks: Some(1000),
            journaled: true,
            journal_lane: true,
            ..DeviceModelConfig::default()
        };
        let sync = IoCost {
            flushes: 1,
            journal_syncs: 1,
            ..IoCost::default()
        };
        let mut d = DeviceModel::new(cfg, 64, stream(1, Component::Device));
        // The backup's sync holds the lane 40..1040 (it reaches it at 40).
        assert_eq!(d.complete_at(40, &sync, call_id(None, 0)), 1040);
        // A user write + sync at 100: its channel part ends at 120, then the lane
        // 120..1040 behind the backup, its own sync 1040..2040.
        let user = d.complete(100, &synced(0, 1), call_id(Some(1), 0));
        assert_eq!((user.at, user.behind_backup_ticks), (2040, 920));
        assert_eq!(d.queued_ticks, 920);
        // The next user's sync waits 1040..2040 behind that user's: not the backup's.
        let next = d.complete(1020, &synced(0, 1), call_id(Some(2), 0));
        assert_eq!((next.at, next.behind_backup_ticks), (3040, 0));
        // Queued on its channel behind the backup and then on the lane behind it: both.
        let cfg = DeviceModelConfig {
            channels: 1,
            ..d.config.clone()
        };
        let mut d = DeviceModel::new(cfg, 64, stream(1, Component::Device));
        // The backup's call: a write (20) on the one channel 0..20, its sync 20..1020.
        assert_eq!(d.complete_at(0, &synced(0, 1), call_id(None, 0)), 1020);
        let user = d.complete(10, &synced(0, 1), call_id(Some(1), 0));
        // Channel 10..20 behind the backup, write 20..40, lane 40..1020 behind it.
        assert_eq!((user.at, user.behind_backup_ticks), (2020, 10 + 980));
    }

    /// On the 7,200 rpm disk an extent of N contiguous blocks costs one positioning and
    /// N transfers at the profile's media rate; the same N reads in no order cost N
    /// positionings and the same transfers. Expected figures from the constants.
    #[test]
    fn an_extent_of_contiguous_blocks_positions_once_on_the_hdd() {
        use crate::profiles::{DeviceProfile, HDD_POSITIONING_TICKS, HDD_TRANSFER_BYTES_PER_S};
        let hdd = DeviceModelConfig {
            jitter_ticks_max: 0,
            ..DeviceProfile::Hdd7200.config()
        };
        for block in [512u64, 4096, 16_384] {
            // Scattered blocks' transfers, µs: each bytes / (bytes per µs), rounded up.
            let transfer = |n: u64| n * (block * 1_000_000).div_ceil(HDD_TRANSFER_BYTES_PER_S);
            // A run's: its bytes together, rounded up once.
            let run = |n: u64| (n * block * 1_000_000).div_ceil(HDD_TRANSFER_BYTES_PER_S);
            for n in [1u32, 2, 7, 64, 256] {
                let reads = cost(n, 0);
                let mut d = DeviceModel::new(hdd.clone(), block, stream(1, Component::Device));
                let extent = d.complete_extent(0, &reads, n - 1, 1);
                assert_eq!(
                    extent,
                    HDD_POSITIONING_TICKS + run(u64::from(n)),
                    "{n} blocks of {block}"
                );
                let mut d = DeviceModel::new(hdd.clone(), block, stream(1, Component::Device));
                let scattered = d.complete_at(0, &reads, 1);
                assert_eq!(
                    scattered,
                    u64::from(n) * HDD_POSITIONING_TICKS + transfer(u64::from(n))
                );
                assert_eq!(
                    hdd.extent_service_ticks(&reads, n - 1, block),
                    extent,
                    "the configuration's price is the model's"
                );
            }
        }
        // A user's single-block write pays a positioning and its transfer.
        let mut d = DeviceModel::new(hdd.clone(), 16_384, stream(1, Component::Device));
        assert_eq!(
            d.complete_at(0, &cost(0, 1), 1),
            HDD_POSITIONING_TICKS + (16_384u64 * 1_000_000).div_ceil(HDD_TRANSFER_BYTES_PER_S)
        );
    }

    /// On a device with a transfer rate a run of contiguous blocks read in one call
    /// costs one positioning + its bytes at the rate, rounded up to a tick once (not
    /// each block's transfer rounded up), for any block size, run length, rate and
    /// positioning; so does every extent's read of the 7,200 rpm disk, whose 64-byte
    /// blocks' transfers are under a tick each. A call of several runs positions once
    /// per run and rounds its reads' bytes once (a call whose runs are all of one
    /// block, none continued, rounds each block's: each is a run of its own); its writes
    /// keep their own transfers.
    #[test]
    fn a_contiguous_run_s_transfer_is_rounded_once() {
        use proptest::prelude::*;
        use proptest::test_runner::{Config, RngSeed, TestRunner};
        // A fixed seed: every run draws the same cases.
        let mut runner = TestRunner::new(Config {
            cases: 2000,
            failure_persistence: None,
            rng_seed: RngSeed::Fixed(38),
            ..Config::default()
        });
        let ticks_per_s = u128::from(1_000_000 / crate::clock::TICK_US);
        let strategy = (
            1u64..=1 << 20,
            1u32..=8192,
            1u64..=20_000_000_000,
            0u64..=20_000,
            1u32..=4,
            0u32..=3,
        );
        runner
            .run(&strategy, |(block, n, rate, positioning, runs, writes)| {
                let c = DeviceModelConfig {
                    read_latency_ticks: positioning,
                    write_latency_ticks: positioning,
                    jitter_ticks_max: 0,
                    transfer_bytes_per_s: rate,
                    sequential_read_bytes_per_s: 0,
                    channels: 1,
                    ..DeviceModelConfig::default()
                };
                let bytes = |blocks: u32| {
                    let t = (u128::from(blocks) * u128::from(block) * ticks_per_s)
                        .div_ceil(u128::from(rate));
                    u64::try_from(t).unwrap()
                };
                // One run of n blocks.
                let mut d = DeviceModel::new(c.clone(), block, stream(1, Component::Device));
                let one = d.complete_extent(0, &cost(n, 0), n - 1, 1);
                prop_assert_eq!(one, positioning + bytes(n));
                prop_assert_eq!(c.extent_service_ticks(&cost(n, 0), n - 1, block), one);
                // `runs` runs of n blocks and `writes` block writes in one call:
                // the reads' bytes rounded once when a read continues a run; runs of
                // one block (no read continues one) are each a block's read.
                let call = cost(n * runs, writes);
                let mut d = DeviceModel::new(c.clone(), block, stream(1, Component::Device));
                let several = d.complete_extent(0, &call, (n - 1) * runs, 1);
                let reads = if n > 1 {
                    bytes(n * runs)
                } else {
                    u64::from(runs) * bytes(1)
                };
                prop_assert_eq!(
                    several,
                    u64::from(runs + writes) * positioning + reads + u64::from(writes) * bytes(1)
                );
                Ok(())
            })
            .unwrap();
        // The 7,200 rpm disk at the default 64-byte block: a 4,096-block extent's
        // transfer is 262,144 bytes at 140 MB/s, 1,873 ticks, where each block's
        // rounded up would make it 4,096.
        use crate::profiles::{DeviceProfile, HDD_POSITIONING_TICKS};
        let hdd = DeviceModelConfig {
            jitter_ticks_max: 0,
            ..DeviceProfile::Hdd7200.config()
        };
        let mut d = DeviceModel::new(hdd, 64, stream(1, Component::Device));
        assert_eq!(
            d.complete_extent(0, &cost(4096, 0), 4095, 1),
            HDD_POSITIONING_TICKS + 1873
        );
    }

    /// Without a transfer rate or a sequential read rate (the plain defaults, the SSD
    /// profiles with their sequential rate turned off, a device given by its latencies
    /// alone) a call's price is what it was: every block read at its latency,
    /// contiguous or not, no transfer time, whatever the block size.
    #[test]
    fn without_a_transfer_or_sequential_rate_contiguity_changes_no_price() {
        use crate::profiles::DeviceProfile;
        let configs = [
            DeviceModelConfig::default(),
            DeviceModelConfig {
                sequential_read_bytes_per_s: 0,
                ..DeviceProfile::SataSsd.config()
            },
            DeviceModelConfig {
                sequential_read_bytes_per_s: 0,
                ..DeviceProfile::NvmeSsd.config()
            },
            DeviceModelConfig {
                read_latency_ticks: 12_360,
                channels: 1,
                ..DeviceModelConfig::default()
            },
        ];
        for c in configs {
            assert_eq!(c.transfer_bytes_per_s, 0);
            assert_eq!(c.sequential_read_bytes_per_s, 0);
            let calls = cost(64, 3);
            let flat = u64::from(calls.total_reads()) * c.read_latency_ticks
                + u64::from(calls.total_writes()) * c.write_latency_ticks;
            for block in [64, 16_384] {
                assert_eq!(c.service_ticks(&calls, block), flat);
                assert_eq!(c.extent_service_ticks(&calls, 63, block), flat);
            }
        }
    }

    /// On the SSD profiles a run of 64 contiguous blocks read in one call (an archive
    /// extent) costs one random read + the other 63 blocks' bytes at the profile's
    /// sequential read rate: on `nvme-ssd` with 4 KiB blocks 85 + 81 ticks where 64
    /// random reads are 5,440; the call's writes keep their latency.
    #[test]
    fn an_ssds_extent_reads_at_its_sequential_rate() {
        use crate::profiles::DeviceProfile;
        for p in [DeviceProfile::SataSsd, DeviceProfile::NvmeSsd] {
            let c = p.config();
            let rate = c.sequential_read_bytes_per_s;
            assert!(rate > 0, "{p:?}");
            let calls = cost(64, 3);
            let writes = 3 * c.write_latency_ticks;
            for block in [512u64, 4_096, 65_536] {
                let sequential = (63 * block * 1_000_000).div_ceil(rate);
                assert_eq!(
                    c.extent_service_ticks(&calls, 63, block),
                    c.read_latency_ticks + sequential + writes,
                    "{p:?}, {block}-byte blocks"
                );
                // A user's call (no run) is priced as before.
                assert_eq!(
                    c.service_ticks(&calls, block),
                    64 * c.read_latency_ticks + writes
                );
            }
        }
        let nvme = DeviceProfile::NvmeSsd.config();
        assert_eq!(nvme.extent_service_ticks(&cost(64, 0), 63, 4_096), 85 + 81);
    }

    #[test]
    fn every_flush_costs_its_latency() {
        let cfg = DeviceModelConfig {
            flush_latency_ticks: 300,
            ..DeviceModelConfig::default()
        };
        let plain = cost(1, 1);
        let barriered = IoCost {
            flushes: 2,
            ..plain
        };
        assert_eq!(
            cfg.service_ticks(&barriered, 64),
            cfg.service_ticks(&plain, 64) + 600
        );
        // One of the two a journal sync: priced at its own latency when one is given.
        let synced = IoCost {
            journal_syncs: 1,
            ..barriered
        };
        assert_eq!(
            cfg.service_ticks(&synced, 64),
            cfg.service_ticks(&barriered, 64)
        );
        let cfg = DeviceModelConfig {
            journal_sync_latency_ticks: Some(1000),
            ..cfg
        };
        assert_eq!(
            cfg.service_ticks(&synced, 64),
            cfg.service_ticks(&plain, 64) + 300 + 1000
        );
    }
}
