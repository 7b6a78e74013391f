//! The bytes `owm run` will write, estimated before it starts, so that a run whose
//! output would pass `limits.output_bytes_max` is refused with the estimate instead of
//! filling the disk.
//!
//! The estimate is an upper-bound-minded sum of three parts, each over the run's
//! policies (one after the other in the same files):
//!
//! - **trace** (`trace.csv`, [`crate::trace`]): with `keep_timeline`, the rows of each
//!   transaction attempted once: arrive, admit and end, and a begin and an end row per
//!   wait it is expected to meet: lock waits (at most [`LOCK_WAITS_PER_ATTEMPT`] an
//!   attempt, each lock waited for with four times the chance that another attempt in
//!   flight holds it, from the load's arrival rate, compute times and hot spot), the
//!   admission gate's (the arrivals while a backup cycle may hold it closed), and
//!   queue 502's under a process pool (fig4-5). Each row at its widest: the policy's
//!   name, the time in the digits of ten times the run's expected span, the
//!   transaction and label in the digits of the transactions, the longest event and
//!   detail. Every backup cycle's milestones besides, [`MILESTONE_ROWS_PER_CYCLE`]
//!   (and two per quiesce retry), with or without the timeline. Retries (deadlock
//!   victims, a data area's refused writes) add attempts the estimate does not
//!   foresee: a load that retries most of its transactions writes more, and `owm run`
//!   stops it when `trace.csv` would pass the bound as it writes
//!   ([`crate::trace::TraceStream::set_bytes_max`]);
//! - **extra space** (`extra_space.csv`, [`crate::space`]): with `keep_timeline`,
//!   a row per point of each policy's series: under a policy with a data area, a
//!   point per block entered in each cycle's window (at most every block written, at
//!   most the volume's) and a few per cycle; otherwise a few per cycle; at most
//!   [`sim::space_series::POINTS_MAX`] + 1 a policy;
//! - **pictures and tables**: [`PICTURE_BYTES_PER_POLICY`] per policy (its timing
//!   diagram and its share of the stacked one, PNG and SVG), the extra space plots
//!   ([`SPACE_PLOT_BYTES`] each per policy, for their panels, and the SVG's path,
//!   [`SVG_BYTES_PER_POINT`] a point)
//!   and `summary.csv` ([`SUMMARY_BYTES_PER_ROW`] per policy and cycle).
//!
//! `owm sweep` writes no trace: `sweep.csv` and `stats.csv` hold a row per grid point
//! (a grid is at most a million points), so the key is read by `owm run` only.

use sim::{Arrivals, Policy, Scenario, WorkloadConfig};

/// Lock waits counted per attempt, at most one per lock it takes. Measured on every
/// shipped scenario: 0.0-1.3 lock waits per attempt (`faults-integrity.toml`, 32
/// blocks of accounts under block locks, the most contended).
pub const LOCK_WAITS_PER_ATTEMPT: u64 = 2;

/// Milestone rows per backup cycle and policy: the ten of [`crate::trace`]'s list and
/// a given-up backup.
pub const MILESTONE_ROWS_PER_CYCLE: u64 = 11;

/// Bytes of a policy's pictures: its timing diagram and its share of `timing.{png,svg}`
/// (measured 0.2-0.4 MiB over the shipped scenarios and a 10^5-transaction run).
pub const PICTURE_BYTES_PER_POLICY: u64 = 1 << 20;

/// Bytes of a panel of an extra space plot besides its SVG path: its share of the PNG
/// and of the SVG's axes and labels. A plot has a panel per scale of the policies'
/// peaks (`crate::lines::panels`), at most one a policy: six panels of saw-toothed
/// series of 65,538 points each came to a 1.01 MiB PNG.
pub const SPACE_PLOT_BYTES: u64 = 512 << 10;

/// Bytes of a point of an extra space plot's SVG path (a step: two vertices of up to
/// four digits each; measured under 28 bytes a point).
pub const SVG_BYTES_PER_POINT: u64 = 40;

/// Bytes of a `summary.csv` row (measured under 1 KiB).
pub const SUMMARY_BYTES_PER_ROW: u64 = 2 << 10;

/// The longest milestone event (`backup-abandoned`) and detail (`cycle N, attempt N`).
const MILESTONE_CELLS_BYTES: u64 = 16 + 32;

/// The estimate, part by part, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutputEstimate {
    /// `trace.csv`.
    pub trace_bytes: u64,
    /// `extra_space.csv`.
    pub space_bytes: u64,
    /// `summary.csv` and the pictures.
    pub pictures_bytes: u64,
    /// Of `trace_bytes`: the milestone rows of quiesce retries (two a retry, up to
    /// `backup.quiesce_retries_max` a cycle).
    pub retries_bytes: u64,
    /// Of `trace_bytes` and `pictures_bytes`: the other milestone rows and the
    /// `summary.csv` rows, which grow with the backup cycles.
    pub cycles_bytes: u64,
    /// Of `pictures_bytes`: [`PICTURE_BYTES_PER_POLICY`] per policy and, with the
    /// timeline, the extra-space plots' panels ([`SPACE_PLOT_BYTES`] each, a panel a
    /// policy): the pictures' bytes that do not grow with the transactions.
    pub policies_bytes: u64,
}

/// The part of an [`OutputEstimate`] that grows with one kind of input: the largest
/// names the key a refusal points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    /// The transactions' timeline: their `trace.csv` rows, `extra_space.csv` and the
    /// points of its plots (none without `keep_timeline`).
    Transactions,
    /// The milestone rows of quiesce retries (`backup.quiesce_retries_max`).
    QuiesceRetries,
    /// The other milestone rows and the `summary.csv` rows (the backup cycles).
    Cycles,
    /// The policies' pictures (`policies`).
    Policies,
}

impl OutputEstimate {
    /// The sum of the parts.
    pub fn total_bytes(&self) -> u64 {
        self.trace_bytes
            .saturating_add(self.space_bytes)
            .saturating_add(self.pictures_bytes)
    }

    /// The bytes of the transactions' timeline, which grow with the transactions: all
    /// but the retries', cycles' and policies' parts (their `trace.csv` rows, the
    /// points of `extra_space.csv` and of the extra-space plots' paths).
    pub fn timeline_bytes(&self) -> u64 {
        self.total_bytes()
            .saturating_sub(self.retries_bytes)
            .saturating_sub(self.cycles_bytes)
            .saturating_sub(self.policies_bytes)
    }

    /// The largest part (the first of [`Driver`]'s order on a tie) and its bytes.
    pub fn driver(&self) -> (Driver, u64) {
        [
            (Driver::Transactions, self.timeline_bytes()),
            (Driver::QuiesceRetries, self.retries_bytes),
            (Driver::Cycles, self.cycles_bytes),
            (Driver::Policies, self.policies_bytes),
        ]
        .into_iter()
        .fold((Driver::Transactions, 0), |best, part| {
            if part.1 > best.1 {
                part
            } else {
                best
            }
        })
    }

    /// The parts in words: `trace.csv 1.50 GiB, extra_space.csv 3.20 MiB, …`.
    pub fn describe(&self) -> String {
        let h = sim::footprint::human_bytes;
        let mut parts = vec![format!("trace.csv {}", h(self.trace_bytes))];
        if self.space_bytes > 0 {
            parts.push(format!("extra_space.csv {}", h(self.space_bytes)));
        }
        parts.push(format!(
            "pictures and summary.csv {}",
            h(self.pictures_bytes)
        ));
        parts.join(", ")
    }
}

/// Decimal digits of `n` (1 for 0).
fn digits(n: u64) -> u64 {
    u64::from(n.checked_ilog10().unwrap_or(0) + 1)
}

/// The load's timing: the mean ticks between two arrivals, and the longest compute
/// time of a transaction.
fn timing(s: &Scenario) -> (f64, u64) {
    let (n, _) = s.workload.size();
    match &s.workload {
        WorkloadConfig::Generated(c) => match c.arrivals {
            Arrivals::Open {
                interarrival_ticks_mean,
            } => (interarrival_ticks_mean as f64, c.compute_ticks_max),
            Arrivals::Closed {
                clients,
                think_ticks_mean,
            } => (
                (think_ticks_mean + c.compute_ticks_max) as f64 / f64::from(clients.max(1)),
                c.compute_ticks_max,
            ),
        },
        WorkloadConfig::Bank(c) => (c.arrival_ticks_mean as f64, c.compute_ticks_max),
        WorkloadConfig::Fig45(c) => (c.arrival_ticks_mean as f64, c.compute_ticks_max),
        // Fixed arrivals (fig3) or a trace's: the default request is mid-run.
        WorkloadConfig::Fig3(_) | WorkloadConfig::Trace(_) => (
            (2 * s.workload.default_request_ticks(&s.device)) as f64 / n.max(1) as f64,
            0,
        ),
    }
}

/// The run's expected span in ticks: its arrivals and the last compute, at least the
/// last backup request and 10,000 ticks.
fn span_ticks(s: &Scenario) -> u64 {
    let (n, _) = s.workload.size();
    let (gap, compute) = timing(s);
    let arrivals = (n as f64 * gap) as u64;
    let requests = s
        .backup
        .request_times(s.workload.default_request_ticks(&s.device));
    let last = requests.iter().copied().max().unwrap_or(0);
    arrivals.saturating_add(compute).max(last).max(10_000)
}

/// Ticks a transaction is assumed to stay in the system beside its compute time (its
/// I/O and waits).
const STAY_TICKS: u64 = 2_000;

/// Attempts in flight at once: the arrivals during a transaction's longest stay
/// (compute and [`STAY_TICKS`]), or a closed loop's clients; at most the transactions.
fn in_flight(s: &Scenario) -> u64 {
    let (n, _) = s.workload.size();
    let (gap, compute) = timing(s);
    let open = ((compute + STAY_TICKS) as f64 / gap.max(1.0)).ceil() as u64 + 1;
    let flight = match &s.workload {
        WorkloadConfig::Generated(c) => match c.arrivals {
            Arrivals::Closed { clients, .. } => u64::from(clients),
            Arrivals::Open { .. } => open,
        },
        _ => open,
    };
    flight.clamp(1, n.max(1))
}

/// `H_n(a)`, the sum of `k^-a` for `k` in `1..=n`: the first 4,096 terms, the rest as
/// the integral of `x^-a` from 4,096.5 to `n + 0.5`.
fn harmonic(n: u64, a: f64) -> f64 {
    const EXACT: u64 = 4096;
    let head: f64 = (1..=n.min(EXACT)).map(|k| (k as f64).powf(-a)).sum();
    if n <= EXACT {
        return head;
    }
    let (lo, hi) = (EXACT as f64 + 0.5, n as f64 + 0.5);
    let tail = if (a - 1.0).abs() < 1e-9 {
        (hi / lo).ln()
    } else {
        (hi.powf(1.0 - a) - lo.powf(1.0 - a)) / (1.0 - a)
    };
    head + tail
}

/// The chance that two accesses take the same lock: the sum of the squares of the
/// locks' probabilities. Uniform: 1 / locks. A Zipf hot spot of exponent `s` over `n`
/// records: `H_n(2s) / H_n(s)^2` per record, at most that times the records per
/// block for block locks (a block's records are consecutive ranks).
fn collision(s: &Scenario, locks: u64, records_per_lock: u64) -> f64 {
    match &s.workload {
        WorkloadConfig::Generated(c) => match c.hot_spot {
            sim::HotSpot::Zipf { exponent } => {
                let n = c.records.max(1);
                let h = harmonic(n, exponent);
                (harmonic(n, 2.0 * exponent) / (h * h) * records_per_lock as f64).min(1.0)
            }
            sim::HotSpot::Uniform => 1.0 / locks.max(1) as f64,
        },
        _ => 1.0 / locks.max(1) as f64,
    }
}

/// Lock waits per attempt: its locks (at most [`LOCK_WAITS_PER_ATTEMPT`]) times the
/// chance that one is held by another: four times the locks the attempts in flight
/// hold (as many accesses each as the longest transaction) times the chance that two
/// accesses take the same lock ([`collision`]); at most 1.
fn lock_waits(s: &Scenario) -> f64 {
    let (_, accesses) = s.workload.size();
    let locks_each = accesses.min(LOCK_WAITS_PER_ATTEMPT) as f64;
    let Ok(layout) = s.layout() else {
        return locks_each;
    };
    let (locks, per_lock) = match s.locking.granularity {
        sim::scenario::Granularity::Record => (layout.records(), 1),
        sim::scenario::Granularity::Block => (layout.volume_blocks, layout.records_per_block()),
    };
    let held = in_flight(s).saturating_mul(accesses) as f64;
    let chance = (4.0 * held * collision(s, locks, per_lock)).min(1.0);
    locks_each * chance
}

/// Waits at the admission gate per backup cycle: the arrivals while the gate may be
/// closed (the setup window, and under quiesce the drain of the attempts in flight: a
/// compute time twice over and [`STAY_TICKS`]) and the attempts in flight.
fn gate_waits_per_cycle(s: &Scenario) -> u64 {
    let (gap, compute) = timing(s);
    let closed = s.backup.setup_window_ticks + 2 * compute + STAY_TICKS;
    (closed as f64 / gap.max(1.0)).ceil() as u64 + in_flight(s)
}

/// The estimated bytes `owm run` writes running `s` under each of `policies` (see the
/// module doc).
pub fn estimate(s: &Scenario, policies: &[Policy]) -> OutputEstimate {
    let (transactions, _) = s.workload.size();
    let cycles = u64::from(s.backup.cycle_count().max(1));
    let time = digits(span_ticks(s).saturating_mul(10));
    let pool = s.workload.process_pool().is_some();
    // A transaction's id and label; fig4-5's labels from 503, its processes' too.
    let ids = digits(transactions.max(if pool { 1000 } else { 1 }));
    let process = if pool { 4 } else { 0 };
    // Lock waits, and queue 502's under a process pool, per attempt; the gate's.
    let waits = lock_waits(s) + f64::from(u8::from(pool));
    let gate_waits = cycles
        .saturating_mul(gate_waits_per_cycle(s))
        .min(transactions);
    // Two rows for a quiesce's first attempt, two for each retry.
    let (quiesce_rows, retry_rows) = if s.backup.quiesce_deadline_ticks.is_some() {
        (2, 2 * u64::from(s.backup.quiesce_retries_max))
    } else {
        (0, 0)
    };
    let volume_blocks = s.layout().map_or(0, |l| l.volume_blocks);
    let writes = written_blocks(s);
    let mut e = OutputEstimate::default();
    let mut space_points_all = 0u64;
    for &p in policies {
        let name = p.as_str().len() as u64;
        // policy, time, txn, label, process, "VLUN A", "false": their cells and the
        // eight commas and the newline.
        let common = name + time + 2 * ids + process + 6 + 5 + 9;
        // arrive, admit, end (`committed`, `unfinished` at most).
        let attempt = 3 * common + 6 + 5 + (3 + 10);
        // wait-begin and wait-end, the detail (`backoff`, `type-b`) at most 7.
        let wait = 2 * common + 10 + 8 + 2 * 7;
        let milestone = name + time + MILESTONE_CELLS_BYTES + 9;
        let retries = cycles.saturating_mul(retry_rows).saturating_mul(milestone);
        let milestones = cycles
            .saturating_mul(MILESTONE_ROWS_PER_CYCLE + quiesce_rows)
            .saturating_mul(milestone);
        let summary = cycles.saturating_mul(SUMMARY_BYTES_PER_ROW);
        e.retries_bytes = e.retries_bytes.saturating_add(retries);
        e.cycles_bytes = e
            .cycles_bytes
            .saturating_add(milestones)
            .saturating_add(summary);
        e.policies_bytes = e.policies_bytes.saturating_add(PICTURE_BYTES_PER_POLICY);
        let mut trace = milestones.saturating_add(retries);
        if s.keep_timeline {
            let per_attempt = attempt as f64 + waits * wait as f64;
            let attempts = (transactions as f64 * per_attempt).ceil() as u64;
            trace = trace
                .saturating_add(attempts)
                .saturating_add(gate_waits.saturating_mul(wait));
            let per_cycle = if p.has_data_area(s.backup.baseline_variant) {
                writes.min(volume_blocks).saturating_add(8)
            } else {
                8
            };
            let points = cycles
                .saturating_mul(per_cycle)
                .saturating_add(2)
                .min(sim::space_series::POINTS_MAX as u64 + 1);
            // policy, variant, time, three block counts, the percentage, six commas,
            // the newline.
            let row = name + 16 + time + 3 * digits(volume_blocks) + 7 + 7;
            e.space_bytes = e.space_bytes.saturating_add(points.saturating_mul(row));
            space_points_all = space_points_all.saturating_add(points);
        }
        e.trace_bytes = e.trace_bytes.saturating_add(trace);
        e.pictures_bytes = e
            .pictures_bytes
            .saturating_add(PICTURE_BYTES_PER_POLICY)
            .saturating_add(summary);
    }
    if s.keep_timeline {
        // extra_space and data_area_used, each a PNG of up to a panel a policy and an
        // SVG path of every point.
        // The panels are the policies' (fewer policies, fewer panels); the points are
        // the timeline's.
        let panels = (policies.len() as u64).max(1);
        let plots = (2 * SPACE_PLOT_BYTES).saturating_mul(panels);
        e.policies_bytes = e.policies_bytes.saturating_add(plots);
        e.pictures_bytes = e.pictures_bytes.saturating_add(
            plots.saturating_add(space_points_all.saturating_mul(2 * SVG_BYTES_PER_POINT)),
        );
    }
    e
}

/// Blocks the run writes at most: a generated load's expected writes (transactions ×
/// mean length × write fraction, rounded up), else every access of every transaction.
fn written_blocks(s: &Scenario) -> u64 {
    let (transactions, accesses) = s.workload.size();
    match &s.workload {
        WorkloadConfig::Generated(c) => {
            let lo = u64::from(c.length_min.max(1));
            let hi = u64::from(c.length_max).max(lo);
            (transactions as f64 * (lo + hi) as f64 / 2.0 * c.write_fraction.clamp(0.0, 1.0)).ceil()
                as u64
        }
        _ => transactions.saturating_mul(accesses),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COW: Policy = Policy::Owm(engine::Variant::CopyOnWrite);

    fn generated(transactions: u64) -> Scenario {
        Scenario::with_workload(WorkloadConfig::Generated(sim::GeneratedConfig {
            transactions,
            ..Default::default()
        }))
    }

    #[test]
    fn the_trace_grows_with_transactions_and_policies_and_drops_with_the_timeline() {
        let one = estimate(&generated(1_000), &[COW]);
        let two = estimate(&generated(2_000), &[COW]);
        let both = estimate(&generated(1_000), &[COW, Policy::Quiesce]);
        assert!(
            two.trace_bytes > one.trace_bytes * 19 / 10,
            "{one:?} {two:?}"
        );
        assert!(
            both.trace_bytes > one.trace_bytes * 19 / 10,
            "{one:?} {both:?}"
        );
        let mut off = generated(1_000_000);
        off.keep_timeline = false;
        let o = estimate(&off, &[COW]);
        assert_eq!(o.space_bytes, 0);
        // Only the milestones.
        assert!(o.trace_bytes < 2_000, "{o:?}");
        assert!(o.describe().starts_with("trace.csv "), "{}", o.describe());
    }

    #[test]
    fn the_driver_is_the_largest_part() {
        let e = estimate(&generated(1_000_000), &[COW]);
        assert_eq!(e.driver().0, Driver::Transactions, "{e:?}");
        let mut q = generated(60);
        q.keep_timeline = false;
        q.backup.quiesce_deadline_ticks = Some(1);
        q.backup.quiesce_retries_max = u32::MAX;
        let e = estimate(&q, &[Policy::Quiesce]);
        assert_eq!(
            e.driver(),
            (Driver::QuiesceRetries, e.retries_bytes),
            "{e:?}"
        );
        assert!(e.retries_bytes > 1 << 30, "{e:?}");
        // Without the timeline the trace is the milestones alone (one cycle's summary
        // row is the rest of the cycles' part).
        assert_eq!(
            e.trace_bytes + SUMMARY_BYTES_PER_ROW,
            e.retries_bytes + e.cycles_bytes,
            "{e:?}"
        );
        assert_eq!(e.timeline_bytes(), 0, "{e:?}");
        q.backup.quiesce_retries_max = 2;
        let small = estimate(&q, &[Policy::Quiesce]);
        assert_eq!(small.driver().0, Driver::Policies, "{small:?}");
        assert!(e.total_bytes() > small.total_bytes());
    }

    #[test]
    fn the_timeline_part_is_what_fewer_transactions_shrink() {
        // A few transactions: their rows and points, not the plots' panels, which are
        // the policies' part.
        let few = estimate(&generated(10), &[COW, Policy::Quiesce]);
        assert!(few.timeline_bytes() < SPACE_PLOT_BYTES, "{few:?}");
        let mut off = generated(10);
        off.keep_timeline = false;
        let without = estimate(&off, &[COW, Policy::Quiesce]);
        assert_eq!(
            few.policies_bytes - without.policies_bytes,
            2 * 2 * SPACE_PLOT_BYTES,
            "{few:?} {without:?}"
        );
        // Every part of the timeline grows with the transactions.
        for n in [10u64, 1_000, 100_000] {
            let a = estimate(&generated(n), &[COW]);
            let b = estimate(&generated(n * 10), &[COW]);
            assert!(b.timeline_bytes() > a.timeline_bytes() * 5, "{a:?} {b:?}");
            assert_eq!(a.policies_bytes, b.policies_bytes, "{a:?} {b:?}");
        }
    }

    #[test]
    fn the_extra_space_series_is_bounded_per_policy() {
        let e = estimate(&generated(100_000_000), &[COW]);
        let row_max = 4 + 16 + 20 + 2 * 20 + 7 + 6;
        assert!(e.space_bytes <= (sim::space_series::POINTS_MAX as u64 + 1) * row_max);
        assert!(e.trace_bytes > 1 << 30, "{e:?}");
    }

    #[test]
    fn harmonic_numbers_match_their_sums() {
        for (n, a) in [(10_000u64, 0.5), (100_000, 1.0), (50_000, 1.6), (3, 2.0)] {
            let exact: f64 = (1..=n).map(|k| (k as f64).powf(-a)).sum();
            let h = harmonic(n, a);
            assert!((h - exact).abs() < 1e-6 * exact, "{n} {a}: {h} {exact}");
        }
    }

    #[test]
    fn digits_counts() {
        assert_eq!(
            [0, 9, 10, 999, 1000, u64::MAX].map(digits),
            [1, 1, 2, 3, 4, 20]
        );
    }
}
