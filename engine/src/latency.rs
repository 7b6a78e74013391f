//! Wall-clock latency of the file-backed device's barriers, as it serves: every image
//! flush (`fdatasync` of an image file) and every metadata journal sync (the journal's
//! `fdatasync`, then the superblock's write and `fdatasync`) is timed where it is
//! issued, so the cost model can be checked against what the engine pays in the middle
//! of a write stream (BENCHMARKS.md, "Calibration").
//!
//! These are statistics about the host, not about the device's state: nothing in the
//! engine reads them, and the simulator never sees them (its time is virtual). Like the
//! I/O counters they use plain `std` locks, outside the loom facade (`crate::sync`).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

/// Samples kept per interval for the quantiles; past it only the count, total and
/// maximum grow (a `timings` reading every phase of 4,096 writes stays far below).
pub const LATENCY_SAMPLES_MAX: usize = 1 << 20;

/// The latencies of one kind of operation since the last [`LatencyLog::take`].
#[derive(Debug, Default)]
pub struct LatencyLog {
    inner: Mutex<Interval>,
}

#[derive(Debug, Default)]
struct Interval {
    count: u64,
    total_ns: u128,
    max_ns: u64,
    samples_ns: Vec<u64>,
}

/// Fields of [`LatencySummary`] (`owm device timings --json`) renamed so that the unit
/// comes before the statistic, as in every other name: (old name, new name). A reader
/// of a saved reading refuses an old name, naming the new one.
pub const RENAMED_FIELDS: [(&str, &str); 6] = [
    ("total_us", "latency_us_sum"),
    ("mean_us", "latency_us_mean"),
    ("p50_us", "latency_us_p50"),
    ("p90_us", "latency_us_p90"),
    ("p99_us", "latency_us_p99"),
    ("max_us", "latency_us_max"),
];

/// One interval's latencies of one kind of operation, microseconds. Quantiles are of
/// the first [`LATENCY_SAMPLES_MAX`] samples (nearest rank); 0 when `count` is 0.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    /// Operations timed.
    pub count: u64,
    /// Their total wall time, µs.
    pub latency_us_sum: f64,
    pub latency_us_mean: f64,
    pub latency_us_p50: f64,
    pub latency_us_p90: f64,
    pub latency_us_p99: f64,
    pub latency_us_max: f64,
    /// Every sample in the order taken, µs (only when asked for: [`LatencyLog::take`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub samples_us: Option<Vec<f64>>,
}

impl LatencyLog {
    /// Runs `op` and records its wall time (whether it succeeded or not).
    pub fn time<T>(&self, op: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let out = op();
        self.record(start.elapsed());
        out
    }

    /// Records one operation's latency.
    pub fn record(&self, elapsed: Duration) {
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let mut i = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        i.count += 1;
        i.total_ns += u128::from(ns);
        i.max_ns = i.max_ns.max(ns);
        if i.samples_ns.len() < LATENCY_SAMPLES_MAX {
            i.samples_ns.push(ns);
        }
    }

    /// The interval since the last call (or since the log was made), and a new one
    /// begun; with `samples`, every sample too.
    pub fn take(&self, samples: bool) -> LatencySummary {
        let i = std::mem::take(&mut *self.inner.lock().unwrap_or_else(|p| p.into_inner()));
        summarize(i, samples)
    }
}

fn us(ns: u64) -> f64 {
    ns as f64 / 1e3
}

fn summarize(i: Interval, samples: bool) -> LatencySummary {
    if i.count == 0 {
        return LatencySummary {
            samples_us: samples.then(Vec::new),
            ..LatencySummary::default()
        };
    }
    let in_order = samples.then(|| i.samples_ns.iter().map(|&n| us(n)).collect());
    let mut sorted = i.samples_ns;
    sorted.sort_unstable();
    // Nearest rank: the smallest sample with at least q of them at or below it.
    let rank = |q: f64| {
        let n = sorted.len();
        let k = ((q * n as f64).ceil() as usize).clamp(1, n);
        us(sorted[k - 1])
    };
    LatencySummary {
        count: i.count,
        latency_us_sum: i.total_ns as f64 / 1e3,
        latency_us_mean: i.total_ns as f64 / 1e3 / i.count as f64,
        latency_us_p50: rank(0.5),
        latency_us_p90: rank(0.9),
        latency_us_p99: rank(0.99),
        latency_us_max: us(i.max_ns),
        samples_us: in_order,
    }
}

/// The barriers of a file-backed device timed since the last reading
/// ([`crate::Device::take_barrier_times`]); `None` for what the device's stores or
/// journal do not time (memory stores, the memory journal).
/// A journal sync's two halves as timed: (the journal's `fdatasync`, the superblock's
/// write and `fdatasync`).
pub type JournalSyncTimes = (LatencySummary, LatencySummary);

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BarrierTimes {
    /// `fdatasync` of image A's file (a copy-on-write preserved copy, a flush).
    pub image_a_flush: Option<LatencySummary>,
    /// `fdatasync` of image B's file (a write-logging log slot, a flush).
    pub image_b_flush: Option<LatencySummary>,
    /// The metadata journal's `fdatasync` (the first half of a journal sync).
    pub journal_fdatasync: Option<LatencySummary>,
    /// The superblock's write and `fdatasync` recording the journal's durable length
    /// (the second half of a journal sync).
    pub superblock_write: Option<LatencySummary>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_nearest_rank_and_take_starts_a_new_interval() {
        let log = LatencyLog::default();
        for us in 1..=100u64 {
            log.record(Duration::from_micros(us));
        }
        let s = log.take(true);
        assert_eq!(s.count, 100);
        assert_eq!(s.latency_us_p50, 50.0);
        assert_eq!(s.latency_us_p90, 90.0);
        assert_eq!(s.latency_us_p99, 99.0);
        assert_eq!(s.latency_us_max, 100.0);
        assert!((s.latency_us_mean - 50.5).abs() < 1e-9);
        assert!((s.latency_us_sum - 5050.0).abs() < 1e-9);
        assert_eq!(s.samples_us.as_ref().map(Vec::len), Some(100));
        assert_eq!(s.samples_us.unwrap()[0], 1.0, "samples in the order taken");
        let empty = log.take(false);
        assert_eq!(empty.count, 0);
        assert_eq!(empty.samples_us, None);
    }

    #[test]
    fn time_records_the_operation() {
        let log = LatencyLog::default();
        let v = log.time(|| {
            std::thread::yield_now();
            7
        });
        assert_eq!(v, 7);
        let s = log.take(false);
        assert_eq!(s.count, 1);
        assert!(s.latency_us_max >= s.latency_us_p50 && s.latency_us_p50 == s.latency_us_mean);
    }
}
