//! The history: everything the oracle needs to judge a run, and nothing
//! about how it was produced. The simulator fills one in as it runs; the model checker
//! builds its own, event by event, with [`History::new`] and [`History::push`].
//!
//! ## Data layout the oracle assumes
//!
//! The volume is `volume_blocks` blocks of `block_size` bytes, holding records of
//! `record_size` bytes (`block_size / record_size` per block; record `r` lives in
//! block `r / records_per_block`). Bytes 0..8 of a record are its value (`i64`, little
//! endian), bytes 8..16 its *stamp*: `txn + 1` of the last transaction that wrote it
//! (0 = initial content). The stamp makes every written block content unique, so a
//! block's digest tells which write produced it (no-torn-write, A-isolated). Other
//! bytes of a record are never written.

use engine::Vlun;
use serde::{Deserialize, Serialize};

use crate::clock::Tick;
pub use crate::image::{Image, Initial};
use crate::workload::InitialValues;

/// A transaction attempt. A retried transaction gets a new id.
pub type TxnId = u32;

/// Bytes of a record the layout uses: value (8) and stamp (8).
pub const RECORD_HEADER_BYTES: usize = 16;

/// Geometry of the volume as the oracle sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Layout {
    /// Bytes per block (a multiple of 8, at least `record_size`).
    pub block_size: usize,
    /// Blocks in the volume.
    pub volume_blocks: u64,
    /// Bytes per record (at least [`RECORD_HEADER_BYTES`], divides `block_size`).
    pub record_size: usize,
}

impl Layout {
    /// Records sharing one block.
    pub fn records_per_block(&self) -> u64 {
        (self.block_size / self.record_size) as u64
    }
    /// Records in the volume.
    pub fn records(&self) -> u64 {
        self.records_per_block() * self.volume_blocks
    }
    /// The block holding record `r`.
    pub fn block_of(&self, r: u64) -> u64 {
        r / self.records_per_block()
    }
    /// Byte offset of record `r` inside its block.
    pub fn offset_in_block(&self, r: u64) -> usize {
        (r % self.records_per_block()) as usize * self.record_size
    }
    /// Byte offset of record `r` in a whole-volume image.
    pub fn offset_in_image(&self, r: u64) -> usize {
        self.block_of(r) as usize * self.block_size + self.offset_in_block(r)
    }
    /// Bytes in a whole-volume image.
    pub fn image_bytes(&self) -> usize {
        self.block_size.saturating_mul(self.volume_blocks as usize)
    }
    /// True when the layout is usable: records fit, at least one block.
    pub fn is_valid(&self) -> bool {
        self.record_size >= RECORD_HEADER_BYTES
            && self.block_size >= self.record_size
            && self.block_size.is_multiple_of(8)
            && self.block_size.is_multiple_of(self.record_size)
            && self.volume_blocks > 0
    }
}

/// The value and stamp stored in a record's first 16 bytes.
pub fn read_record(bytes: &[u8]) -> (i64, u64) {
    let v = i64::from_le_bytes(bytes[0..8].try_into().expect("8 bytes"));
    let s = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes"));
    (v, s)
}

/// Writes a record's value and stamp into its first 16 bytes.
pub fn write_record(bytes: &mut [u8], value: i64, stamp: u64) {
    bytes[0..8].copy_from_slice(&value.to_le_bytes());
    bytes[8..16].copy_from_slice(&stamp.to_le_bytes());
}

/// Block `block`'s content before the first transaction: each of its records holds
/// its initial value (`values`) and stamp 0, every other byte is 0; a block past the
/// volume (a variant's data area) is all zeros. `buf` is one block. The simulator's
/// stores read every block never written this way, so the content of the whole volume
/// is known without being stored.
pub fn initial_block(layout: &Layout, values: InitialValues, block: u64, buf: &mut [u8]) {
    buf.fill(0);
    if block >= layout.volume_blocks {
        return;
    }
    let per = layout.records_per_block();
    for (i, record) in buf.chunks_exact_mut(layout.record_size).enumerate() {
        write_record(record, values.of(block * per + i as u64), 0);
    }
}

/// The stamp a transaction's writes carry.
pub fn stamp_of(txn: TxnId) -> u64 {
    u64::from(txn) + 1
}

/// A digest of a block's content (not cryptographic: it names contents): XXH3-64
/// (`xxhash-rust`, ~10 GB/s) of the block's bytes up to its last non-zero one, seeded
/// with the block's length. So the trailing zeros of a block (most of a simulator's
/// block: its records use 16 bytes each) are never read, and two blocks of the same
/// length have the same digest when their bytes are equal. A digest read the block
/// byte by byte (FNV-1a) before: on 4 KiB blocks of 256 records it was 65 % of a run's
/// time (BENCHMARKS.md, "A block's digest at memory speed").
pub fn block_digest(bytes: &[u8]) -> u64 {
    zero_extended_digest(bytes, bytes.len())
}

/// The digest ([`block_digest`]) of a block of `len` bytes that starts with `bytes`
/// and holds zeros after them (`len` at least `bytes.len()`, else taken as it): the
/// zeros are never materialised.
#[inline]
pub fn zero_extended_digest(bytes: &[u8], len: usize) -> u64 {
    let n = nonzero_len(bytes);
    xxhash_rust::xxh3::xxh3_64_with_seed(&bytes[..n], len.max(bytes.len()) as u64)
}

/// The length of `bytes` without its trailing zeros.
fn nonzero_len(bytes: &[u8]) -> usize {
    let mut n = bytes.len();
    // 64 bytes at a time from the end, as eight words OR-ed together (the compiler
    // turns it into a few vector instructions), then byte by byte in the last chunk.
    while n >= 64 {
        let chunk = &bytes[n - 64..n];
        let any = chunk.chunks_exact(8).fold(0u64, |a, w| {
            a | u64::from_ne_bytes(w.try_into().expect("8 bytes"))
        });
        if any != 0 {
            break;
        }
        n -= 64;
    }
    // Then 8 bytes at a time, then byte by byte in the last word.
    while n >= 8 && bytes[n - 8..n] == [0; 8] {
        n -= 8;
    }
    while n > 0 && bytes[n - 1] == 0 {
        n -= 1;
    }
    n
}

/// One thing that happened. Transactions are OLD when their `Begin` precedes the
/// `Split`, NEW otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Event {
    /// A transaction attempt starts and is bound to a VLUN. `gate_wait_ticks`: how long
    /// it was held at the admission gate (the backup's doing) just before.
    Begin {
        txn: TxnId,
        vlun: Vlun,
        gate_wait_ticks: Tick,
    },
    /// A block read through `vlun` returned content with this digest.
    ReadBlock {
        txn: TxnId,
        vlun: Vlun,
        block: u64,
        digest: u64,
    },
    /// A whole block with this digest was written through `vlun` (and acknowledged).
    WriteBlock {
        txn: TxnId,
        vlun: Vlun,
        block: u64,
        digest: u64,
    },
    /// The transaction's logic used this value of a record.
    ReadRecord { txn: TxnId, record: u64, value: i64 },
    /// The transaction set a record to this value (its stamp is `stamp_of(txn)`).
    WriteRecord { txn: TxnId, record: u64, value: i64 },
    /// The attempt committed. `backup_wait_ticks_max`: the longest single wait the
    /// backup caused it, one of: at the admission gate, for a type (b) lock, a device
    /// call queued behind the backup's calls, the engine's flush barriers in one call
    /// (the waits the window figures count, [`crate::window::BackupWaits`], each
    /// counted alone); 0 when the backup caused it none.
    Commit {
        txn: TxnId,
        backup_wait_ticks_max: Tick,
    },
    /// The attempt aborted; its before-images were written back first.
    /// `backup_wait_ticks_max` as for `Commit`.
    Abort {
        txn: TxnId,
        backup_wait_ticks_max: Tick,
    },
    /// The backup's full data area refused attempt `txn`'s write of block `block`
    /// through `vlun` at tick `at_ticks` (`backup.on_data_area_full =
    /// "break-guest-write"`; the area holds `data_area_blocks` slots): nothing was
    /// written, and the attempt rolls back and ends aborted, not retried (its `Abort`
    /// follows). The backup disrupted the attempt (non-disruption).
    WriteRefused {
        txn: TxnId,
        vlun: Vlun,
        block: u64,
        data_area_blocks: u64,
        at_ticks: Tick,
    },
    /// The backup request was served by splitting the volume into VLUN A and VLUN B.
    Split,
    /// VLUN B is set up; new transactions may begin.
    BReady,
    /// The image of VLUN A the policy declares consistent and backs up.
    AConsistent { image: Image },
    /// The bytes of the archive (tape) copy of VLUN A.
    Archive { image: Image },
    /// The backup was abandoned (its data area filled under `break-snapshot`): VLUN A
    /// is dropped with no archive; the `Retire` that follows needs none.
    Abandon,
    /// Quiesce attempt `attempt` (1-based, counted over the run) missed its freeze
    /// limit (`backup.quiesce_deadline_ticks`) with transactions still active: the
    /// gate reopened, nothing was copied.
    QuiesceTimeout { attempt: u32 },
    /// Quiesce attempt `attempt`, a retry after a timeout, closed the gate again.
    QuiesceRetry { attempt: u32 },
    /// The cycle's backup was given up (quiesce past `backup.quiesce_retries_max`,
    /// or an archive pass that met a block of VLUN A failing its checksum): no
    /// archive of it may be claimed, and VLUN A, when there is one, is kept.
    GiveUp,
    /// VLUN A was retired; the variant's extra space left afterwards, the space VLUN A
    /// held that the retire must give back (the data area; engine
    /// `SpaceInUse::extra_space_blocks`). Mirroring's image A, kept for the next
    /// split's incremental resync (`SpaceInUse::kept_image_blocks`), is not in it.
    Retire { extra_space_blocks: u64 },
    /// End of the run: the image of the live volume (B after a split, else A).
    End { live: Image },
    /// The copy of VLUN B to a new volume B' (`[detach]`, \[0048\]) is complete:
    /// `b_prime` is B' as the copy wrote it (extents read from VLUN B, users' writes to
    /// blocks already copied mirrored), `live` VLUN B read at that instant
    /// (b-prime-faithful compares them).
    BPrime { b_prime: Image, live: Image },
    /// Integrity mode refused block `block` of `vlun` (it fails its checksum) while the
    /// whole image carried by the next event (`AConsistent` or `End`) was read: that
    /// block of the image is unknown (zeros) and the invariants judge the others.
    /// Logged just before the image event, one per refused block.
    Unreadable { vlun: Vlun, block: u64 },
}

impl Event {
    /// The transaction attempt the event belongs to, if any.
    pub fn txn(&self) -> Option<TxnId> {
        match *self {
            Event::Begin { txn, .. }
            | Event::ReadBlock { txn, .. }
            | Event::WriteBlock { txn, .. }
            | Event::ReadRecord { txn, .. }
            | Event::WriteRecord { txn, .. }
            | Event::Commit { txn, .. }
            | Event::Abort { txn, .. }
            | Event::WriteRefused { txn, .. } => Some(txn),
            _ => None,
        }
    }
}

/// One backup cycle of a history ([`History::cycles`]): events `from..until`, split at
/// event `split` (transactions that began before it are its OLD ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cycle {
    /// 1-based.
    pub number: u32,
    pub split: usize,
    pub from: usize,
    pub until: usize,
}

/// The backup cycles a record's events begin, numbered as `summary.csv` numbers them
/// (one a backup request): a cycle begins at its first milestone (a quiesce past its
/// deadline, a split, or a give-up or abandon of a cycle with neither) and ends at its
/// retire, give-up or abandon. Fed the events in order, by the whole-record view
/// ([`History::cycles`]) and the online judge alike.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CycleCount {
    begun: u32,
    in_cycle: bool,
}

impl CycleCount {
    /// Counts `event` (only backup milestones change the count).
    pub fn see(&mut self, event: &Event) {
        let begins = matches!(
            event,
            Event::QuiesceTimeout { .. } | Event::Split | Event::GiveUp | Event::Abandon
        );
        if begins && !self.in_cycle {
            self.begun += 1;
            self.in_cycle = true;
        }
        if matches!(event, Event::GiveUp | Event::Abandon | Event::Retire { .. }) {
            self.in_cycle = false;
        }
    }

    /// The cycles begun so far: the number of the cycle in progress, or of the last.
    pub fn begun(&self) -> u32 {
        self.begun
    }
}

/// An event and the virtual time it happened at.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Step {
    pub time: Tick,
    pub event: Event,
}

/// The history of one run (or one model-checker path).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct History {
    /// The volume geometry.
    pub layout: Layout,
    /// The whole-volume image before the first event; every image an event carries
    /// is held as its difference from this one ([`Image`]).
    pub initial: Initial,
    /// True when the workload keeps the sum of all record values (bank transfers).
    pub sum_conserved: bool,
    /// The longest single wait for the backup a transaction attempt may see
    /// (non-disruption: a NEW one's admission-gate wait, `Begin`'s `gate_wait_ticks`,
    /// and any attempt's longest backup-caused wait, `Commit`/`Abort`'s
    /// `backup_wait_ticks_max`): the setup window under every policy that takes a
    /// backup; `None` without a backup.
    pub gate_wait_limit_ticks: Option<Tick>,
    /// The seed that produced the run, when there is one.
    pub seed: Option<u64>,
    /// What happened, in order.
    pub events: Vec<Step>,
}

impl History {
    /// An empty record over `initial` (must be `layout.image_bytes()` long).
    pub fn new(layout: Layout, initial: Vec<u8>) -> Self {
        debug_assert_eq!(initial.len(), layout.image_bytes());
        Self::over(layout, Initial::Bytes(initial))
    }

    /// An empty record over the initial image `initial` describes.
    pub fn over(layout: Layout, initial: Initial) -> Self {
        Self {
            layout,
            initial,
            sum_conserved: false,
            gate_wait_limit_ticks: None,
            seed: None,
            events: Vec::new(),
        }
    }

    /// The sparse form of a whole image given byte for byte.
    pub fn image_of(&self, bytes: &[u8]) -> Image {
        Image::from_bytes(&self.layout, &self.initial, bytes)
    }

    /// An image byte for byte (small volumes: tests and the model checker).
    pub fn bytes_of(&self, image: &Image) -> Vec<u8> {
        image.to_bytes(&self.layout, &self.initial)
    }

    /// Appends an event.
    pub fn push(&mut self, time: Tick, event: Event) {
        self.events.push(Step { time, event });
    }

    /// The index of the `Split` event, if any.
    pub fn split_index(&self) -> Option<usize> {
        self.events
            .iter()
            .position(|s| matches!(s.event, Event::Split))
    }

    /// The backup cycles: per `Split`, its index, the index its cycle ends before (the
    /// next `Split`, or the end of the record), and its number as `summary.csv` gives it
    /// (one a backup request: a backup given up before its split is a cycle too, see
    /// [`History::cycles_begun`]). The first cycle's window starts at event 0; a record
    /// without a split has one cycle, split at 0. The invariants that concern one
    /// backup (A-consistent, A-isolated, backup-faithful) are judged per cycle, each
    /// with the OLD transactions of its own split.
    pub fn cycles(&self) -> Vec<Cycle> {
        let splits: Vec<(usize, u32)> = self.cycle_numbers().0;
        if splits.is_empty() {
            return vec![Cycle {
                number: 1,
                split: 0,
                from: 0,
                until: self.events.len(),
            }];
        }
        splits
            .iter()
            .enumerate()
            .map(|(k, &(split, number))| Cycle {
                number,
                split,
                from: if k == 0 { 0 } else { split },
                until: splits.get(k + 1).map_or(self.events.len(), |s| s.0),
            })
            .collect()
    }

    /// The backup cycles the record begins ([`CycleCount`]).
    pub fn cycles_begun(&self) -> u32 {
        self.cycle_numbers().1
    }

    /// Each split's index and its cycle's number ([`CycleCount`]), and the cycles
    /// begun.
    fn cycle_numbers(&self) -> (Vec<(usize, u32)>, u32) {
        let mut count = CycleCount::default();
        let mut splits = Vec::new();
        for (i, s) in self.events.iter().enumerate() {
            count.see(&s.event);
            if matches!(s.event, Event::Split) {
                splits.push((i, count.begun()));
            }
        }
        (splits, count.begun())
    }

    /// The events up to `upto` (inclusive) that involve one of `txns`, plus the
    /// backup's milestones: the trace of a violation, with `Violation::txns`.
    pub fn involving<'a>(
        &'a self,
        txns: &'a [TxnId],
        upto: usize,
    ) -> impl Iterator<Item = (usize, &'a Step)> + 'a {
        self.events
            .iter()
            .enumerate()
            .take(upto.saturating_add(1))
            .filter(move |(_, s)| match s.event.txn() {
                Some(t) => txns.contains(&t),
                None => true,
            })
    }

    /// A canonical byte encoding (stable across runs and platforms): the thing the
    /// determinism tests compare.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.events.len() * 24);
        let u = |out: &mut Vec<u8>, x: u64| out.extend_from_slice(&x.to_le_bytes());
        u(&mut out, self.layout.block_size as u64);
        u(&mut out, self.layout.volume_blocks);
        u(&mut out, self.layout.record_size as u64);
        u(&mut out, u64::from(self.sum_conserved));
        u(&mut out, self.gate_wait_limit_ticks.map_or(u64::MAX, |x| x));
        u(&mut out, self.seed.map_or(u64::MAX, |x| x));
        match &self.initial {
            Initial::Bytes(bytes) => {
                u(&mut out, bytes.len() as u64);
                out.extend_from_slice(bytes);
            }
            Initial::Pattern(values) => {
                u(&mut out, u64::MAX);
                u(&mut out, values.value as u64);
                u(&mut out, values.records);
            }
        }
        let img = |out: &mut Vec<u8>, image: &Image| {
            u(out, image.len_bytes());
            u(out, image.held_blocks() as u64);
            for (b, data) in image.held() {
                u(out, b);
                u(out, data.len() as u64);
                out.extend_from_slice(data);
            }
        };
        let v = |x: Vlun| u64::from(x == Vlun::B);
        for s in &self.events {
            u(&mut out, s.time);
            match &s.event {
                Event::Begin {
                    txn,
                    vlun,
                    gate_wait_ticks,
                } => {
                    out.push(1);
                    u(&mut out, u64::from(*txn));
                    u(&mut out, v(*vlun));
                    u(&mut out, *gate_wait_ticks);
                }
                Event::ReadBlock {
                    txn,
                    vlun,
                    block,
                    digest,
                } => {
                    out.push(2);
                    u(&mut out, u64::from(*txn));
                    u(&mut out, v(*vlun));
                    u(&mut out, *block);
                    u(&mut out, *digest);
                }
                Event::WriteBlock {
                    txn,
                    vlun,
                    block,
                    digest,
                } => {
                    out.push(3);
                    u(&mut out, u64::from(*txn));
                    u(&mut out, v(*vlun));
                    u(&mut out, *block);
                    u(&mut out, *digest);
                }
                Event::ReadRecord { txn, record, value } => {
                    out.push(4);
                    u(&mut out, u64::from(*txn));
                    u(&mut out, *record);
                    u(&mut out, *value as u64);
                }
                Event::WriteRecord { txn, record, value } => {
                    out.push(5);
                    u(&mut out, u64::from(*txn));
                    u(&mut out, *record);
                    u(&mut out, *value as u64);
                }
                Event::Commit {
                    txn,
                    backup_wait_ticks_max,
                } => {
                    out.push(6);
                    u(&mut out, u64::from(*txn));
                    u(&mut out, *backup_wait_ticks_max);
                }
                Event::Abort {
                    txn,
                    backup_wait_ticks_max,
                } => {
                    out.push(7);
                    u(&mut out, u64::from(*txn));
                    u(&mut out, *backup_wait_ticks_max);
                }
                Event::WriteRefused {
                    txn,
                    vlun,
                    block,
                    data_area_blocks,
                    at_ticks,
                } => {
                    out.push(20);
                    u(&mut out, u64::from(*txn));
                    u(&mut out, v(*vlun));
                    u(&mut out, *block);
                    u(&mut out, *data_area_blocks);
                    u(&mut out, *at_ticks);
                }
                Event::Split => out.push(8),
                Event::BReady => out.push(9),
                Event::AConsistent { image } => {
                    out.push(10);
                    img(&mut out, image);
                }
                Event::Archive { image } => {
                    out.push(11);
                    img(&mut out, image);
                }
                Event::Retire { extra_space_blocks } => {
                    out.push(12);
                    u(&mut out, *extra_space_blocks);
                }
                Event::Abandon => out.push(15),
                Event::QuiesceTimeout { attempt } => {
                    out.push(16);
                    u(&mut out, u64::from(*attempt));
                }
                Event::QuiesceRetry { attempt } => {
                    out.push(17);
                    u(&mut out, u64::from(*attempt));
                }
                Event::GiveUp => out.push(18),
                Event::End { live } => {
                    out.push(13);
                    img(&mut out, live);
                }
                Event::BPrime { b_prime, live } => {
                    out.push(19);
                    img(&mut out, b_prime);
                    img(&mut out, live);
                }
                Event::Unreadable { vlun, block } => {
                    out.push(14);
                    u(&mut out, v(*vlun));
                    u(&mut out, *block);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A digest names the zero-extended content: a block given whole and the same
    /// block given as its first bytes (with or without some of its zeros) and its
    /// length have one digest, for every length and a last non-zero byte at every
    /// place of a word; a changed byte or length changes it.
    #[test]
    fn a_digest_names_the_zero_extended_content() {
        use rand::{Rng, SeedableRng};
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        for len in 0..200usize {
            for last in 0..len.min(24) {
                let mut b = vec![0u8; len];
                b[last] = r.random_range(1..=255);
                b[..last].iter_mut().for_each(|x| *x = r.random());
                let d = block_digest(&b);
                for held in last + 1..=len {
                    assert_eq!(zero_extended_digest(&b[..held], len), d, "{len} {last}");
                }
                let mut longer = b.clone();
                longer.resize(len + 7, 0);
                assert_eq!(
                    zero_extended_digest(&b[..last + 1], len + 7),
                    block_digest(&longer)
                );
                assert_ne!(
                    block_digest(&longer),
                    d,
                    "{len} {last}: the length is named"
                );
                let mut other = b.clone();
                other[r.random_range(0..=last)] ^= 1 << r.random_range(0..8);
                assert_ne!(block_digest(&other), d, "{len} {last}: a bit changed");
            }
        }
    }

    #[test]
    fn layout_places_records() {
        let l = Layout {
            block_size: 64,
            volume_blocks: 4,
            record_size: 16,
        };
        assert!(l.is_valid());
        assert_eq!(l.records_per_block(), 4);
        assert_eq!(l.records(), 16);
        assert_eq!(l.block_of(5), 1);
        assert_eq!(l.offset_in_block(5), 16);
        assert_eq!(l.offset_in_image(5), 80);
        let bad = Layout {
            record_size: 8,
            ..l
        };
        assert!(!bad.is_valid());
    }

    #[test]
    fn record_round_trips_and_digest_tells_contents_apart() {
        let mut b = vec![0u8; 32];
        write_record(&mut b[16..], -5, 9);
        assert_eq!(read_record(&b[16..]), (-5, 9));
        let d1 = block_digest(&b);
        write_record(&mut b[16..], -5, 10);
        assert_ne!(d1, block_digest(&b));
    }

    /// Blocks whose zeros are held, in part or not at all, at lengths around a
    /// word's and a 64-byte chunk's edges: one digest for one content.
    #[test]
    fn digest_of_trailing_zeros_is_that_of_the_whole_block() {
        for len in [0usize, 1, 7, 8, 9, 32, 63, 64, 65, 127, 128, 130, 4096] {
            for last in [
                None,
                Some(0usize),
                Some(3),
                Some(15),
                Some(63),
                Some(64),
                Some(len / 2),
                Some(len.saturating_sub(1)),
            ] {
                let mut b = vec![0u8; len];
                if let Some(i) = last.filter(|&i| i < len) {
                    b[..=i]
                        .iter_mut()
                        .enumerate()
                        .for_each(|(k, x)| *x = (k * 7 + 1) as u8);
                }
                let whole = block_digest(&b);
                let held = last.filter(|&i| i < len).map_or(0, |i| i + 1);
                assert_eq!(
                    zero_extended_digest(&b[..held], len),
                    whole,
                    "len {len} last {last:?}, zeros not held"
                );
                assert_eq!(
                    zero_extended_digest(&b[..(held + 5).min(len)], len),
                    whole,
                    "len {len} last {last:?}, some zeros held"
                );
            }
        }
    }

    #[test]
    fn encoding_distinguishes_histories() {
        let l = Layout {
            block_size: 16,
            volume_blocks: 1,
            record_size: 16,
        };
        let mut h1 = History::new(l, vec![0; 16]);
        h1.push(3, Event::Split);
        let mut h2 = h1.clone();
        assert_eq!(h1.encode(), h2.encode());
        h2.push(4, Event::BReady);
        assert_ne!(h1.encode(), h2.encode());
    }
}
