//! The archive target: where the backup copy of VLUN A goes, and how fast.
//!
//! The archive copy reads VLUN A through the engine, one extent of `extent_blocks`
//! blocks at a time, on the device's channels (so it competes with the users' I/O,
//! [`crate::device_model`]); each extent is then sent to the target, which accepts
//! one extent at a time: `latency_ticks + bytes / min(bandwidth, rate limit)` (the
//! latencies of successive extents add up: each extent is acknowledged before the
//! next is sent). At
//! most two extents are in flight (one being read, one being sent: double
//! buffering), so a slow target slows the reads too. VLUN A is retired only when the
//! last extent has landed (\[0049\]), so a slow target lengthens the window in which
//! copy-on-write preserves and write logging logs blocks.

use serde::{Deserialize, Serialize};

use crate::clock::{Tick, TICK_US};
use crate::profiles::{ArchiveFile, ArchiveProfile};

/// The archive target (`[archive]`). Defaults: a local disk streaming 100 MB/s;
/// `profile` sets sourced defaults for a real target ([`ArchiveProfile`]), which every
/// key given explicitly overrides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "ArchiveFile")]
pub struct ArchiveConfig {
    /// The target whose published figures give the defaults (default none: the
    /// figures below).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<ArchiveProfile>,
    /// Ticks added to every extent sent (a network round trip, a tape's start/stop),
    /// default 0.
    pub latency_ticks: Tick,
    /// Bytes per second the target accepts (default 100,000,000; at least 1).
    pub bandwidth_bytes_per_s: u64,
    /// A rate limit the backup applies to itself, bytes per second (default 0: none).
    pub rate_limit_bytes_per_s: u64,
    /// Blocks per archive read (default 64; at least 1).
    pub extent_blocks: u64,
    /// Skip VLUN A's holes, as `cp --sparse` and `qemu-img convert` do: read and send
    /// only the blocks that hold data (default false: every block, a raw image copy).
    #[serde(skip_serializing_if = "is_false")]
    pub sparse: bool,
    /// A test mutant of the copy to B' (`[detach]` only): the copy never sends this
    /// block to B' (neither its extent's copy nor a user's write mirrored to it), so B'
    /// holds there what a new volume holds, zeros. b-prime-faithful must catch it
    /// (default none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_block_for_mutant_test: Option<u64>,
    /// A test mutant of the copy to B' (`[detach]` only): the users' writes mirrored
    /// to B' during the copy are sent (priced and counted as ever) but B' never
    /// applies them, so a block written after its extent was copied stays stale on B'.
    /// b-prime-faithful must catch it (default false).
    #[serde(skip_serializing_if = "is_false")]
    pub drop_mirrored_writes_for_mutant_test: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Default for ArchiveConfig {
    fn default() -> Self {
        Self {
            profile: None,
            latency_ticks: 0,
            bandwidth_bytes_per_s: 100_000_000,
            rate_limit_bytes_per_s: 0,
            extent_blocks: 64,
            sparse: false,
            skip_block_for_mutant_test: None,
            drop_mirrored_writes_for_mutant_test: false,
        }
    }
}

impl ArchiveConfig {
    /// The bytes per second the copy actually moves: the target's bandwidth, capped by
    /// the rate limit when one is set (at least 1).
    pub fn effective_bytes_per_s(&self) -> u64 {
        let bw = self.bandwidth_bytes_per_s.max(1);
        match self.rate_limit_bytes_per_s {
            0 => bw,
            limit => bw.min(limit),
        }
    }

    /// Ticks the target takes to accept `bytes` (rounded up), latency included.
    pub fn send_ticks(&self, bytes: u64) -> Tick {
        let per_s = u128::from(self.effective_bytes_per_s());
        let ticks_per_s = u128::from(1_000_000 / TICK_US);
        let transfer = (u128::from(bytes) * ticks_per_s).div_ceil(per_s);
        self.latency_ticks
            .saturating_add(u64::try_from(transfer).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_time_is_latency_plus_bytes_over_the_slower_of_bandwidth_and_limit() {
        let mut a = ArchiveConfig {
            latency_ticks: 500,
            bandwidth_bytes_per_s: 125_000_000, // 1 GbE
            ..ArchiveConfig::default()
        };
        // 256 KiB at 125 MB/s: 2,097.152 µs, rounded up.
        assert_eq!(a.send_ticks(256 * 1024), 500 + 2098);
        a.rate_limit_bytes_per_s = 12_500_000;
        assert_eq!(a.send_ticks(256 * 1024), 500 + 20_972);
        a.rate_limit_bytes_per_s = 1_000_000_000;
        assert_eq!(a.send_ticks(256 * 1024), 500 + 2098);
    }
}
