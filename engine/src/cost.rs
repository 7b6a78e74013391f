//! Counting every physical operation: what the simulator turns into time and what the
//! benchmarks report.

use serde::{Deserialize, Serialize};

use crate::sync::{Ordering, StatCounter};

/// The physical operations one device call performed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IoCost {
    /// Lookup-table probes. (First, apart from the image counts: a call that probes
    /// and then writes bumps both, and adjacent fields invite one 8-byte
    /// read-modify-write over two earlier 4-byte stores, which the processor cannot
    /// forward: a stall of about 2 ns on every such call, BENCHMARKS.md.)
    pub table_lookups: u32,
    /// Block reads from image A.
    pub reads_a: u32,
    /// Block writes to image A.
    pub writes_a: u32,
    /// Block reads from image B.
    pub reads_b: u32,
    /// Block writes to image B.
    pub writes_b: u32,
    /// Lookup-table entries created.
    pub table_inserts: u32,
    /// Lookup-table entries dropped.
    pub table_removes: u32,
    /// Flush barriers: image flushes and journal syncs the call waited for
    /// ([`crate::Durability::PowerSafe`] orders its writes with them).
    pub flushes: u32,
    /// Of [`IoCost::flushes`], the metadata journal syncs (a file-backed device's
    /// journal `fdatasync` and its superblock's write and `fdatasync`); the rest are
    /// image flushes. 0 on a device without a journal.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub journal_syncs: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl IoCost {
    /// Image flushes: the flush barriers that are not journal syncs.
    pub fn image_flushes(&self) -> u32 {
        self.flushes - self.journal_syncs
    }
    /// Image block reads, both images.
    pub fn total_reads(&self) -> u32 {
        self.reads_a + self.reads_b
    }
    /// Image block writes, both images.
    pub fn total_writes(&self) -> u32 {
        self.writes_a + self.writes_b
    }
    /// Table entries created or dropped.
    pub fn table_updates(&self) -> u32 {
        self.table_inserts + self.table_removes
    }
    /// Adds another call's operations to this one.
    pub fn add(&mut self, other: IoCost) {
        self.reads_a += other.reads_a;
        self.writes_a += other.writes_a;
        self.reads_b += other.reads_b;
        self.writes_b += other.writes_b;
        self.table_lookups += other.table_lookups;
        self.table_inserts += other.table_inserts;
        self.table_removes += other.table_removes;
        self.flushes += other.flushes;
        self.journal_syncs += other.journal_syncs;
    }
}

/// Running totals since the device was made (or reopened).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Counters {
    pub image_a_reads: u64,
    pub image_a_writes: u64,
    pub image_b_reads: u64,
    pub image_b_writes: u64,
    pub table_lookups: u64,
    pub table_inserts: u64,
    pub table_removes: u64,
    /// Flush barriers (image flushes and journal syncs), including those of
    /// [`crate::Device::flush`].
    pub flushes: u64,
    /// Logical reads through VLUN A / VLUN B.
    pub vlun_a_reads: u64,
    pub vlun_b_reads: u64,
    /// Logical writes through VLUN A / VLUN B.
    pub vlun_a_writes: u64,
    pub vlun_b_writes: u64,
    /// Data-area slots in use now, and the most ever in use at once.
    pub data_area_blocks: u64,
    pub data_area_peak: u64,
    /// Extra space now and at its peak: data-area slots plus, for mirroring, the second
    /// full image while VLUN A is live.
    pub extra_space_blocks: u64,
    pub extra_space_peak: u64,
}

/// The device's space in use at one moment, in blocks: the two "now" figures of
/// [`Counters`] and mirroring's image A kept after the retire, read by
/// [`crate::Device::space_in_use`] without summing the operation counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SpaceInUse {
    /// Data-area slots in use: [`Counters::data_area_blocks`].
    pub data_area_blocks: u64,
    /// Data-area slots plus, for mirroring, the second full image while VLUN A is
    /// live: [`Counters::extra_space_blocks`]. What the retire gives back: the data
    /// area (the space-reclaimed invariant judges it after the retire).
    pub extra_space_blocks: u64,
    /// Mirroring, once VLUN A is retired ([`crate::Phase::Retired`]): image A, no
    /// longer VLUN A's but kept on the device as the base of the next split's
    /// incremental resync (which copies only the blocks VLUN B wrote since:
    /// [`crate::Device::split_counted`]), the volume's blocks; 0 in the other phases
    /// (then [`SpaceInUse::extra_space_blocks`] counts image A) and under the other
    /// variants. Not in [`SpaceInUse::extra_space_blocks`]: the retire does not free it.
    pub kept_image_blocks: u64,
}

impl Counters {
    /// Physical block writes per logical write (write amplification); 0 with no writes.
    pub fn writes_per_logical_write(&self) -> f64 {
        let logical = self.vlun_a_writes + self.vlun_b_writes;
        if logical == 0 {
            return 0.0;
        }
        (self.image_a_writes + self.image_b_writes) as f64 / logical as f64
    }
}

/// One set of live counters.
#[derive(Debug, Default)]
struct Cells {
    image_a_reads: StatCounter,
    image_a_writes: StatCounter,
    image_b_reads: StatCounter,
    image_b_writes: StatCounter,
    table_lookups: StatCounter,
    table_inserts: StatCounter,
    table_removes: StatCounter,
    flushes: StatCounter,
    vlun_reads: [StatCounter; 2],
    vlun_writes: [StatCounter; 2],
}

impl Cells {
    /// Adds `cost` with `add`, skipping the zero fields. Field by field, with no
    /// table of pairs to build: it runs on every VLUN call.
    #[inline]
    fn add(&self, cost: &IoCost, add: impl Fn(&StatCounter, u64)) {
        let field = |c: &StatCounter, n: u32| {
            if n != 0 {
                add(c, u64::from(n));
            }
        };
        field(&self.image_a_reads, cost.reads_a);
        field(&self.image_a_writes, cost.writes_a);
        field(&self.image_b_reads, cost.reads_b);
        field(&self.image_b_writes, cost.writes_b);
        field(&self.table_lookups, cost.table_lookups);
        field(&self.table_inserts, cost.table_inserts);
        field(&self.table_removes, cost.table_removes);
        field(&self.flushes, cost.flushes);
    }

    fn logical(&self, vlun: crate::Vlun, write: bool) -> &StatCounter {
        let i = vlun as usize;
        if write {
            &self.vlun_writes[i]
        } else {
            &self.vlun_reads[i]
        }
    }

    fn sum_into(&self, c: &mut Counters) {
        let l = |x: &StatCounter| x.load(Ordering::Relaxed);
        c.image_a_reads += l(&self.image_a_reads);
        c.image_a_writes += l(&self.image_a_writes);
        c.image_b_reads += l(&self.image_b_reads);
        c.image_b_writes += l(&self.image_b_writes);
        c.table_lookups += l(&self.table_lookups);
        c.table_inserts += l(&self.table_inserts);
        c.table_removes += l(&self.table_removes);
        c.flushes += l(&self.flushes);
        c.vlun_a_reads += l(&self.vlun_reads[0]);
        c.vlun_b_reads += l(&self.vlun_reads[1]);
        c.vlun_a_writes += l(&self.vlun_writes[0]);
        c.vlun_b_writes += l(&self.vlun_writes[1]);
    }
}

/// A stripe of counters on its own cache lines (no false sharing between stripes).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Stripe(Cells);

/// The device's live counters: one stripe per group-1 lock, which a VLUN call updates
/// while it holds that lock — so a plain relaxed load and store suffice (no locked
/// read-modify-write on the hot path: the lock already orders every update of the
/// stripe) — and one shared set, updated with `fetch_add`, for what runs outside the
/// block locks (phase changes, flush, retire, recovery). A snapshot sums them all.
#[derive(Debug)]
pub(crate) struct CounterCells {
    shared: Cells,
    stripes: Box<[Stripe]>,
}

impl CounterCells {
    /// Counters for a device with `stripes` group-1 locks.
    pub(crate) fn new(stripes: usize) -> Self {
        CounterCells {
            shared: Cells::default(),
            stripes: (0..stripes.max(1)).map(|_| Stripe::default()).collect(),
        }
    }

    /// Every counter back to zero (a device copied into this one's place).
    pub(crate) fn reset(&mut self) {
        self.shared = Cells::default();
        for s in self.stripes.iter_mut() {
            *s = Stripe::default();
        }
    }

    /// Adds operations done outside the block locks.
    pub(crate) fn charge(&self, cost: &IoCost) {
        self.shared
            .add(cost, |c, n| _ = c.fetch_add(n, Ordering::Relaxed));
    }

    /// Adds one VLUN call's operations, and the logical call if it succeeded, to
    /// stripe `stripe`. The caller holds group-1 lock `stripe` (the only writer of
    /// that stripe), so the update is a relaxed load and store.
    #[inline]
    pub(crate) fn charge_call(
        &self,
        stripe: usize,
        cost: &IoCost,
        vlun: crate::Vlun,
        write: bool,
        ok: bool,
    ) {
        let cells = &self.stripes[stripe].0;
        let bump =
            |c: &StatCounter, n: u64| c.store(c.load(Ordering::Relaxed) + n, Ordering::Relaxed);
        cells.add(cost, bump);
        if ok {
            bump(cells.logical(vlun, write), 1);
        }
    }

    /// Everything but the space figures, which the device fills in.
    pub(crate) fn snapshot(&self) -> Counters {
        let mut c = Counters::default();
        self.shared.sum_into(&mut c);
        for s in self.stripes.iter() {
            s.0.sum_into(&mut c);
        }
        c
    }
}
