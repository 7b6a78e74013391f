//! The typed scenario a run replays: workload, locking, device, backup, limits.
//! Loaded by the CLI from TOML; every field has a documented default, unknown fields
//! are refused.

use engine::Variant;
use serde::{Deserialize, Serialize};

use crate::archive::ArchiveConfig;
use crate::clock::Tick;
use crate::device_model::DeviceModelConfig;
use crate::error::SimError;
use crate::faults::FaultsConfig;
use crate::history::Layout;
use crate::policy::Policy;
use crate::workload::WorkloadConfig;

/// One scenario: everything but the policy and the seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scenario {
    /// A name for reports (default "fig3"; `owm run` and `owm sweep` name a file without
    /// one by its stem).
    pub name: String,
    /// What the transactions do (default: fig3).
    pub workload: WorkloadConfig,
    /// Block geometry (default 64-byte blocks, 4 records per block).
    pub geometry: GeometryConfig,
    /// The applications' locking (default conservative 2PL, block granularity).
    pub locking: LockingConfig,
    /// Device latencies and channels.
    pub device: DeviceModelConfig,
    /// The backup request and its timings.
    pub backup: BackupConfig,
    /// The archive target the backup copies VLUN A to.
    pub archive: ArchiveConfig,
    /// Copy VLUN B to a new volume B' after each retire (\[0048\]), onto a target
    /// with `[archive]`'s keys (`[detach]`; absent: no copy; [`crate::detach`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detach: Option<ArchiveConfig>,
    /// Probability a transaction aborts (rolls back) instead of committing (default 0),
    /// drawn per transaction label and retry ([`crate::rng::keyed_chance`]): the same
    /// transactions abort under every policy.
    pub abort_probability: f64,
    /// The scale of a deadlock victim's back-off, in ticks (default 50; 0 counts as 1):
    /// its label's k-th retry (k = 1 for the first) waits a uniform draw from
    /// 1..=this × 2^min(k, 10) ticks, random so that the victims of one deadlock do not
    /// retry in lockstep, growing so that one that keeps colliding backs off further.
    pub retry_backoff_ticks: Tick,
    /// Keep the history for the oracle (default true; off for big benchmarks).
    pub keep_history: bool,
    /// Keep the per-transaction timeline in the result (default true).
    pub keep_timeline: bool,
    /// Safety limits.
    pub limits: Limits,
    /// Injected faults: crashes, torn and lost writes, I/O errors, latency spikes
    /// (default: none).
    pub faults: FaultsConfig,
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            name: "fig3".to_string(),
            workload: WorkloadConfig::default(),
            geometry: GeometryConfig::default(),
            locking: LockingConfig::default(),
            device: DeviceModelConfig::default(),
            backup: BackupConfig::default(),
            archive: ArchiveConfig::default(),
            detach: None,
            abort_probability: 0.0,
            retry_backoff_ticks: 50,
            keep_history: true,
            keep_timeline: true,
            limits: Limits::default(),
            faults: FaultsConfig::default(),
        }
    }
}

impl Scenario {
    /// A default scenario running `workload`, named after it.
    pub fn with_workload(workload: WorkloadConfig) -> Self {
        Self {
            name: workload.kind().to_string(),
            workload,
            ..Self::default()
        }
    }

    /// Checks everything a run under any backup policy ([`Policy::ALL`], what a file
    /// naming no policies runs) relies on and returns the volume layout:
    /// [`Scenario::validate_for`] of them all.
    pub fn validate(&self) -> Result<Layout, SimError> {
        self.validate_for(&Policy::ALL)
    }

    /// Checks everything runs of `policies` rely on and returns the volume layout; a
    /// bad scenario is a [`SimError::Config`] naming the dotted key at fault, never a
    /// panic. The bounds on what a run builds or copies count only what these policies
    /// build or copy: `limits.archive_blocks_max` only the copies of the policies that
    /// back up ([`Policy::backs_up`]), `limits.memory_bytes_max` the estimate for these
    /// policies ([`crate::footprint::estimate`]); `policies = [none]` alone makes no
    /// copy and keeps one image. [`crate::run`] calls it with its one policy (or
    /// [`Scenario::validate_points`] when the timeline is streamed to a sink); the
    /// checks are in `validate.rs`.
    pub fn validate_for(&self, policies: &[Policy]) -> Result<Layout, SimError> {
        crate::validate::scenario(self, policies, true)
    }

    /// [`Scenario::validate_for`] with the memory bound judged on each policy's own
    /// simulation ([`crate::footprint::estimate_point`]: no timeline held, no
    /// picture), the largest refused: what a sweep's grid point holds, and what the
    /// simulator checks before a run.
    pub fn validate_points(&self, policies: &[Policy]) -> Result<Layout, SimError> {
        crate::validate::scenario(self, policies, false)
    }

    /// The keys whose values drive the check on `key` (a dotted key a
    /// [`SimError::Config`] names, or `limits.memory_bytes_max` of a
    /// [`SimError::TooLarge`]), most direct first: when a file leaves `key` at its
    /// default, the refusal belongs at the first of them the file sets
    /// (`limits.volume_bytes_max` → `workload.records`, `geometry.block_size_bytes`, …;
    /// `workload.updates_min` → `workload.updates_max`). Empty when no other key drives
    /// it.
    pub fn drivers_of(&self, key: &str) -> Vec<&'static str> {
        crate::validate::drivers(self, key)
    }

    /// The keys no run of `policies` reads, with why ([`crate::inert::inert_keys`]).
    pub fn inert_keys(&self, policies: &[Policy]) -> Vec<crate::inert::Inert> {
        crate::inert::inert_keys(self, policies)
    }

    /// The volume layout the workload needs: enough blocks for its records (a
    /// [`SimError::Config`] on `geometry.*` when the geometry cannot hold them).
    pub fn layout(&self) -> Result<Layout, SimError> {
        crate::validate::layout(self)
    }
}

/// The largest time or duration a scenario field may give: 2^40 ticks (about 12.7
/// days of simulated time), so that no run arithmetic on them can overflow.
pub const FIELD_TICKS_MAX: Tick = 1 << 40;

/// Block geometry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GeometryConfig {
    /// Bytes per block, a multiple of 8 (default 64).
    pub block_size_bytes: usize,
    /// Records sharing one block (default 4: 16-byte records).
    pub records_per_block: u64,
}

impl Default for GeometryConfig {
    fn default() -> Self {
        Self {
            block_size_bytes: 64,
            records_per_block: 4,
        }
    }
}

/// When transactions take their application locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Discipline {
    /// Conservative 2PL (\[0053\]): every lock, in ascending order, before the
    /// transaction begins. Deadlock-free by construction (one global order, and a
    /// begun transaction never asks for another lock).
    Conservative,
    /// Ordinary incremental 2PL: each lock just before the first access, in the
    /// transaction's own order. Deadlocks are detected on the wait-for graph each time
    /// a transaction blocks; the youngest member of the cycle (latest first arrival)
    /// is aborted and retried after a backoff. Locks are taken only during the reads,
    /// so a victim has written nothing and needs no rollback.
    Incremental,
}

/// What one application lock covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Granularity {
    /// One record (a bank account).
    Record,
    /// One whole block.
    Block,
}

/// The applications' locks (group "application", outside the volumes \[0054\]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LockingConfig {
    /// Default conservative.
    pub discipline: Discipline,
    /// Default block.
    pub granularity: Granularity,
    /// Blocks holding type (b) data (\[0053\]): locked from the split until the old
    /// transactions end, so no new transaction touches them meanwhile (default none).
    pub type_b_blocks: Vec<u64>,
}

impl Default for LockingConfig {
    fn default() -> Self {
        Self {
            discipline: Discipline::Conservative,
            granularity: Granularity::Block,
            type_b_blocks: Vec::new(),
        }
    }
}

/// The backup request and the times its steps take.
/// The setup window's default, in ticks: the patent's 350 → 450 (Fig 3C, \[0048\]).
pub const SETUP_WINDOW_TICKS_DEFAULT: Tick = 100;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackupConfig {
    /// When the backup is requested; `None`: the workload's own time (fig3: 350,
    /// fig4-5: 521, bank and generated: about mid-run).
    pub request_at_ticks: Option<Tick>,
    /// Setting up VLUN B (OWM) or taking the point-in-time copy (quiesce); new
    /// transactions wait for it (default [`SETUP_WINDOW_TICKS_DEFAULT`]). It is also
    /// non-disruption's bound on any single wait the backup causes.
    pub setup_window_ticks: Tick,
    /// The engine variant under the two baselines (default mirroring: a split mirror,
    /// \[0055\]).
    pub baseline_variant: Variant,
    /// Quiesce only: how long the admission gate may stay closed waiting for the active
    /// transactions to end (a VSS-style freeze limit; VSS gives writers 60 s to freeze
    /// and holds writes at most 10 s). When it passes, the attempt fails: the gate
    /// reopens and the backup is retried after `quiesce_retry_backoff_ticks`, at most
    /// `quiesce_retries_max` times, then given up. Default none: wait as long as it takes.
    pub quiesce_deadline_ticks: Option<Tick>,
    /// Retries after a missed quiesce deadline (default 2).
    pub quiesce_retries_max: u32,
    /// Ticks between a missed deadline and the next attempt (default 1,000,000: 1 s).
    pub quiesce_retry_backoff_ticks: Tick,
    /// A backup schedule: the request time of each cycle, strictly ascending (at most
    /// [`crate::schedule::CYCLES_MAX`]). Excludes `request_at_ticks`, `period_ticks` and
    /// `cycles`. Default (the key absent): one cycle ([`BackupConfig::request_times`]).
    /// An empty list is refused when read (`schedule_at_ticks = []` would ask for no
    /// backup under a backup policy).
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "crate::schedule::non_empty"
    )]
    pub schedule_at_ticks: Vec<Tick>,
    /// A periodic schedule: `cycles` requests, `period_ticks` apart, the first at
    /// `request_at_ticks` (or the workload's own time). Default none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_ticks: Option<Tick>,
    /// Cycles of a periodic schedule (with `period_ticks`; at least 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cycles: Option<u32>,
    /// Slots of the data area holding the extra copies of write logging (VLUN B's
    /// logged blocks) and copy-on-write (VLUN A's preserved blocks), under those
    /// variants and under the baselines' `baseline_variant = "logging"` / `"cow"`
    /// (mirroring keeps a whole second image and has none). Default none: as many as
    /// the volume's blocks, so it never fills. At least 1; more than the volume's
    /// blocks is the volume's. Exclusive with `data_area_fraction`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_area_blocks: Option<u64>,
    /// The data area as a fraction of the volume's blocks (0 < x <= 1), rounded up,
    /// at least one slot. Exclusive with `data_area_blocks`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_area_fraction: Option<f64>,
    /// What a write that needs a slot of a full data area does (default
    /// `break-guest-write`, QEMU's `on-cbw-error` default): [`OnDataAreaFull`].
    #[serde(skip_serializing_if = "OnDataAreaFull::is_default")]
    pub on_data_area_full: OnDataAreaFull,
}

/// The overflow policy of a full data area, after QEMU's copy-before-write filter
/// (`on-cbw-error`, qapi/block-core.json): which side a failed copy breaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnDataAreaFull {
    /// The user's write fails (the engine refuses it with `DataAreaFull`, writing
    /// nothing): its transaction rolls back and ends aborted, not retried (an
    /// application that meets a write I/O error fails its transaction; a retry would
    /// meet the same full area until VLUN A is retired). The backup goes on, unless a
    /// rollback's own write needs a slot (a block written before the split under
    /// `crash-consistent`): a rollback is never refused, so the backup is abandoned as
    /// under [`OnDataAreaFull::BreakSnapshot`] and the rollback goes through.
    #[default]
    BreakGuestWrite,
    /// The backup is abandoned: VLUN A is dropped with no archive
    /// (`engine::Device::abandon_a`), the extra space freed, transactions still on
    /// VLUN A carry on through VLUN B, and the refused write goes through. Users go
    /// on undisturbed; the run reports the backup abandoned and claims neither
    /// A-consistent nor backup-faithful ([`crate::RunResult::claims`]).
    BreakSnapshot,
}

impl OnDataAreaFull {
    /// True for the default, `break-guest-write` (left out when a scenario is written).
    pub fn is_default(&self) -> bool {
        *self == OnDataAreaFull::default()
    }

    /// `break-guest-write` or `break-snapshot`.
    pub fn as_str(self) -> &'static str {
        match self {
            OnDataAreaFull::BreakGuestWrite => "break-guest-write",
            OnDataAreaFull::BreakSnapshot => "break-snapshot",
        }
    }
}

impl BackupConfig {
    /// The data area's slots for a volume of `volume_blocks` blocks (the keys above;
    /// validated first).
    pub fn data_area_slots(&self, volume_blocks: u64) -> u64 {
        match (self.data_area_blocks, self.data_area_fraction) {
            (Some(n), _) => n.clamp(1, volume_blocks),
            (None, Some(f)) => ((volume_blocks as f64 * f).ceil() as u64).clamp(1, volume_blocks),
            (None, None) => volume_blocks,
        }
    }
}

impl Default for BackupConfig {
    fn default() -> Self {
        Self {
            request_at_ticks: None,
            setup_window_ticks: SETUP_WINDOW_TICKS_DEFAULT,
            baseline_variant: Variant::WriteMirroring,
            quiesce_deadline_ticks: None,
            quiesce_retries_max: 2,
            quiesce_retry_backoff_ticks: 1_000_000,
            schedule_at_ticks: Vec::new(),
            period_ticks: None,
            cycles: None,
            data_area_blocks: None,
            data_area_fraction: None,
            on_data_area_full: OnDataAreaFull::BreakGuestWrite,
        }
    }
}

/// Bounds on a run; exceeding one is an error, never a hang.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Events processed at most (default 200 million).
    pub events_max: u64,
    /// Virtual time at most (default 10^12 ticks, about 11.6 days).
    pub time_ticks_max: Tick,
    /// Transaction attempts at most, retries included (default 20 million).
    pub attempts_max: u64,
    /// Bytes of the simulated volume at most (default 1 GiB).
    pub volume_bytes_max: u64,
    /// Bytes of memory the run may hold at most, as estimated before it starts
    /// ([`crate::footprint`]; default 4 GiB). A run estimated above it is refused
    /// ([`crate::SimError::TooLarge`]).
    pub memory_bytes_max: u64,
    /// Blocks the dense copies may read and send at most, every backup cycle's pass
    /// together (default 2^24 = 16,777,216 blocks: a 64 GiB volume of 4 KiB blocks
    /// copied once). Dense copies: the archive copy with `[archive] sparse = false` or
    /// under active `[faults]` or `[device] integrity`, and the copy to B'
    /// (`[detach]`). A dense copy reads every block of the volume, holes included, so
    /// a large volume would spend hours copying zeros; a run above the bound is
    /// refused before it starts, naming this key and what to change.
    pub archive_blocks_max: u64,
    /// Bytes `owm run` may write into its output directory at most, as estimated
    /// before it starts (`trace.csv`, `extra_space.csv`, the pictures:
    /// `reports::output`; default 1 GiB). A run estimated above it is refused before
    /// anything is written. The simulator itself writes nothing and does not read it;
    /// `owm sweep` writes no trace and refuses it as without effect.
    pub output_bytes_max: u64,
    /// Bytes the attempts in flight past the estimate's may hold
    /// ([`crate::footprint::in_flight_max`]); not a key of the file: set by a caller
    /// that runs several simulations at once within one bound (`owm sweep --jobs`),
    /// else (`None`) `memory_bytes_max` less the run's own estimate.
    #[serde(skip)]
    pub in_flight_room_bytes: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            events_max: 200_000_000,
            time_ticks_max: 1_000_000_000_000,
            attempts_max: 20_000_000,
            volume_bytes_max: 1 << 30,
            memory_bytes_max: 4 << 30,
            archive_blocks_max: 1 << 24,
            output_bytes_max: 1 << 30,
            in_flight_room_bytes: None,
        }
    }
}
