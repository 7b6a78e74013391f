//! Fig 3A: six processes, 301-306. 301-303 are running when the backup is requested
//! at 350; 304-306 are scheduled after it (304 and 305 inside the setup window
//! 350-450, 306 after it). Arrival times are fixed; the records each process updates
//! and its compute time (± jitter) come from the seed.

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{small_updates, Workload};
use crate::clock::Tick;
use crate::rng;
use crate::txn::{Op, TxnSpec};

/// The Fig 3A schedule: (process, arrival tick, nominal duration in ticks). The old
/// ones end in the order 301, 302, 303, the last just after VLUN B is ready (450),
/// near 451 as in Fig 3C, so 304 and 305 start on B while 303 still writes A.
pub const FIG3_SCHEDULE: [(u32, Tick, Tick); 6] = [
    (301, 40, 370),
    (302, 120, 320),
    (303, 230, 245),
    (304, 380, 200),
    (305, 430, 150),
    (306, 520, 250),
];

/// Parameters of the Fig 3 workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Fig3Config {
    /// Records the processes share (default 1024: 256 blocks of 4, so that the six
    /// processes seldom collide, as in the figure).
    pub records: u64,
    /// Records each process updates, at least / at most (default 2 / 3).
    pub updates_min: u32,
    pub updates_max: u32,
    /// Uniform jitter of ± this many ticks on each compute time (default 10).
    pub jitter_ticks: Tick,
    /// Initial value of every record (default 100).
    pub initial_value: i64,
}

impl Default for Fig3Config {
    fn default() -> Self {
        Self {
            records: 1024,
            updates_min: 2,
            updates_max: 3,
            jitter_ticks: 10,
            initial_value: 100,
        }
    }
}

pub(crate) struct Fig3 {
    c: Fig3Config,
    shapes: ChaCha8Rng,
    /// Shapes handed out so far.
    next: usize,
    /// Arrivals scheduled so far.
    scheduled: usize,
}

impl Fig3 {
    pub(crate) fn new(c: Fig3Config, shapes: ChaCha8Rng) -> Self {
        Self {
            c,
            shapes,
            next: 0,
            scheduled: 0,
        }
    }
}

impl Workload for Fig3 {
    fn start(&mut self) -> Vec<(Tick, Option<u32>)> {
        self.scheduled = 1;
        vec![(FIG3_SCHEDULE[0].1, None)]
    }
    fn next_arrival(&mut self, _now: Tick) -> Option<Tick> {
        let t = FIG3_SCHEDULE.get(self.scheduled).map(|s| s.1);
        self.scheduled += 1;
        t
    }
    fn client_done(&mut self, _client: u32, _now: Tick) -> Option<Tick> {
        None
    }
    fn shape(&mut self, _client: Option<u32>, mut ops: Vec<Op>) -> TxnSpec {
        let (label, _, nominal) = FIG3_SCHEDULE[self.next.min(FIG3_SCHEDULE.len() - 1)];
        self.next += 1;
        small_updates(
            &mut self.shapes,
            self.c.updates_min,
            self.c.updates_max,
            self.c.records,
            &mut ops,
        );
        // Roughly: one read (10) and one read-modify-write (30) per record.
        let io = 40 * ops.len() as Tick;
        let j = self.c.jitter_ticks;
        let compute = nominal.saturating_sub(io) + rng::uniform(&mut self.shapes, 0, 2 * j);
        TxnSpec {
            label,
            client: None,
            ops,
            compute_ticks: compute.saturating_sub(j),
        }
    }
}
