//! The timing diagram's transactions, kept as the run goes ([`sim::TimelineSink`]):
//! every attempt while the run has at most [`KEEP_ALL_MAX`]; beyond, only what the
//! diagram can show, [`crate::figure::ROWS_MAX`] bars around the backup requests (a
//! diagram of more is unreadable; with more requests than bars, one bar around each
//! of the first [`crate::figure::ROWS_MAX`]), so memory does not grow with the run.
//!
//! Beyond [`KEEP_ALL_MAX`] attempts the window is centred on the requests the
//! scenario schedules (given up front: the same ticks the run's cycles are requested
//! at), and on the scenario's default request time for a run without a backup (where
//! a smaller run centres on half its length).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use sim::{TimelineSink, TxnTimeline};

use crate::figure::{shared_requests, window_start, ROWS_MAX};

/// Attempts kept whole (about 100 bytes each); beyond, the bounded window.
pub const KEEP_ALL_MAX: usize = 1 << 16;

/// An attempt ordered by (arrival, id): the diagram's order.
#[derive(Debug, Clone)]
struct ByArrival(TxnTimeline);

impl ByArrival {
    fn key(&self) -> (u64, u32) {
        (self.0.arrived_ticks, self.0.txn)
    }
}
impl PartialEq for ByArrival {
    fn eq(&self, o: &Self) -> bool {
        self.key() == o.key()
    }
}
impl Eq for ByArrival {}
impl PartialOrd for ByArrival {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for ByArrival {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.key().cmp(&o.key())
    }
}

/// Around one request: the attempts just before it and just after it.
#[derive(Debug)]
struct Around {
    at: u64,
    /// The `share / 2` latest-arriving attempts before `at` (a min-heap: the earliest
    /// is dropped first) and how many arrived before it in all.
    before: BinaryHeap<Reverse<ByArrival>>,
    before_count: usize,
    /// The `share` earliest attempts arriving at or after `at` (a max-heap).
    after: BinaryHeap<ByArrival>,
}

/// See the module doc.
#[derive(Debug)]
pub struct DiagramRows {
    all: Option<Vec<TxnTimeline>>,
    attempts: usize,
    share: usize,
    around: Vec<Around>,
    /// The [`ROWS_MAX`] latest-arriving attempts (a window clamped at the run's end).
    last: BinaryHeap<Reverse<ByArrival>>,
}

impl DiagramRows {
    /// A collector whose window (beyond [`KEEP_ALL_MAX`] attempts) centres on
    /// `requests` (ticks; at least one).
    pub fn new(requests: &[u64]) -> Self {
        let requests = if requests.is_empty() {
            &[0][..]
        } else {
            requests
        };
        let (requests, share) = shared_requests(requests);
        DiagramRows {
            all: Some(Vec::new()),
            attempts: 0,
            share,
            around: requests
                .iter()
                .map(|&at| Around {
                    at,
                    before: BinaryHeap::new(),
                    before_count: 0,
                    after: BinaryHeap::new(),
                })
                .collect(),
            last: BinaryHeap::new(),
        }
    }

    /// The attempts seen.
    pub fn attempts(&self) -> usize {
        self.attempts
    }

    /// The attempts to draw, in id order (every one, or the window), and how many
    /// there were in all (for [`crate::figure::diagram_of`]).
    pub fn finish(self) -> (Vec<TxnTimeline>, usize) {
        let n = self.attempts;
        if let Some(mut all) = self.all {
            all.sort_by_key(|t| t.txn);
            return (all, n);
        }
        // Known positions (in arrival order) of the attempts kept.
        let mut at_pos: BTreeMap<usize, &ByArrival> = BTreeMap::new();
        let last: Vec<&ByArrival> = {
            let mut v: Vec<&ByArrival> = self.last.iter().map(|r| &r.0).collect();
            v.sort();
            v
        };
        for (j, t) in last.iter().enumerate() {
            at_pos.insert(n - last.len() + j, t);
        }
        let mut picked: BTreeMap<(u64, u32), TxnTimeline> = BTreeMap::new();
        for a in &self.around {
            let mut before: Vec<&ByArrival> = a.before.iter().map(|r| &r.0).collect();
            before.sort();
            let mut after: Vec<&ByArrival> = a.after.iter().collect();
            after.sort();
            let mut pos = at_pos.clone();
            for (j, t) in before.iter().enumerate() {
                pos.insert(a.before_count - before.len() + j, t);
            }
            for (j, t) in after.iter().enumerate() {
                pos.insert(a.before_count + j, t);
            }
            let lo = window_start(a.before_count, n, self.share);
            for p in lo..lo + self.share {
                if let Some(t) = pos.get(&p) {
                    picked.entry(t.key()).or_insert_with(|| t.0.clone());
                }
            }
        }
        let mut ts: Vec<TxnTimeline> = picked.into_values().collect();
        ts.sort_by_key(|t| t.txn);
        (ts, n)
    }
}

impl TimelineSink for DiagramRows {
    fn attempt(&mut self, t: &TxnTimeline) {
        self.attempts += 1;
        if let Some(all) = self.all.as_mut() {
            all.push(t.clone());
            if all.len() > KEEP_ALL_MAX {
                self.all = None;
            }
        }
        let half = self.share / 2;
        for a in &mut self.around {
            if t.arrived_ticks < a.at {
                a.before_count += 1;
                keep_latest(&mut a.before, half, t);
            } else {
                keep_earliest(&mut a.after, self.share, t);
            }
        }
        keep_latest(&mut self.last, ROWS_MAX, t);
    }
}

/// Adds `t` to `heap`, which keeps the `n` latest-arriving attempts (the earliest on
/// top, dropped first). An attempt that would be dropped at once (the heap full and
/// `t` arriving before all it keeps) is not copied in.
fn keep_latest(heap: &mut BinaryHeap<Reverse<ByArrival>>, n: usize, t: &TxnTimeline) {
    let key = (t.arrived_ticks, t.txn);
    if heap.len() >= n && heap.peek().is_none_or(|top| key < top.0.key()) {
        return;
    }
    if heap.len() >= n {
        // The earliest is dropped for `t`: `t` is copied into its place (its wait
        // list's allocation reused) and sifted down.
        if let Some(mut top) = heap.peek_mut() {
            copy_into(&mut top.0 .0, t);
        }
        return;
    }
    heap.push(Reverse(ByArrival(t.clone())));
}

/// Adds `t` to `heap`, which keeps the `n` earliest-arriving attempts (the latest on
/// top, dropped first). An attempt that would be dropped at once is not copied in.
fn keep_earliest(heap: &mut BinaryHeap<ByArrival>, n: usize, t: &TxnTimeline) {
    let key = (t.arrived_ticks, t.txn);
    if heap.len() >= n && heap.peek().is_none_or(|top| key > top.key()) {
        return;
    }
    if heap.len() >= n {
        // The latest is dropped for `t` (as in `keep_latest`).
        if let Some(mut top) = heap.peek_mut() {
            copy_into(&mut top.0, t);
        }
        return;
    }
    heap.push(ByArrival(t.clone()));
}

/// `*dst = src.clone()`, reusing `dst`'s wait list's allocation (a derived `Clone`
/// allocates anew).
fn copy_into(dst: &mut TxnTimeline, src: &TxnTimeline) {
    let TxnTimeline {
        txn,
        label,
        process,
        old,
        vlun,
        arrived_ticks,
        admitted_ticks,
        ended_ticks,
        outcome,
        waits,
    } = src;
    dst.txn = *txn;
    dst.label = *label;
    dst.process = *process;
    dst.old = *old;
    dst.vlun = *vlun;
    dst.arrived_ticks = *arrived_ticks;
    dst.admitted_ticks = *admitted_ticks;
    dst.ended_ticks = *ended_ticks;
    dst.outcome = *outcome;
    dst.waits.clone_from(waits);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figure;
    use crate::NamedRun;

    /// With the whole timeline dropped, the window kept as the run went draws the
    /// same diagram as the whole timeline, for one request, for several, and for more
    /// requests than [`ROWS_MAX`] (one bar around each of the first [`ROWS_MAX`]);
    /// under `none` too, around the requests the scenario schedules.
    #[test]
    fn the_bounded_window_draws_the_whole_timelines_diagram() {
        let many: Vec<u64> = (0..ROWS_MAX as u64 + 5).map(|i| 1_000 + 250 * i).collect();
        let policies = [
            sim::Policy::Owm(engine::Variant::CopyOnWrite),
            sim::Policy::None,
        ];
        for (schedule, p) in [vec![], vec![30_000, 70_000, 110_000], many]
            .into_iter()
            .flat_map(|s| policies.map(|p| (s.clone(), p)))
        {
            let cycles = schedule.len();
            let mut s = sim::Scenario::with_workload(sim::WorkloadConfig::Bank(sim::BankConfig {
                transactions: 600,
                arrival_ticks_mean: 20,
                ..sim::BankConfig::default()
            }));
            s.backup.schedule_at_ticks = schedule;
            let whole = sim::run(&s, p, 3).unwrap().result;
            let scheduled = s
                .backup
                .request_times(s.workload.default_request_ticks(&s.device));
            let requests = figure::window_requests(&whole, &scheduled);
            let mut rows = DiagramRows::new(&requests);
            rows.all = None; // as past KEEP_ALL_MAX
            let mut order: Vec<&TxnTimeline> = whole.transactions.iter().collect();
            order.sort_by_key(|t| (t.ended_ticks, t.txn));
            for t in order {
                rows.attempt(t);
            }
            let (kept, n) = rows.finish();
            assert_eq!(n, whole.transactions.len());
            assert!(
                kept.len() <= ROWS_MAX && kept.len() < n / 4,
                "{}",
                kept.len()
            );
            let mut windowed = whole.clone();
            windowed.transactions = kept;
            let name = p.to_string();
            let want = figure::diagram_of(
                &NamedRun {
                    name: name.clone(),
                    result: whole,
                },
                n,
                &scheduled,
                true,
            );
            let got = figure::diagram_of(
                &NamedRun {
                    name,
                    result: windowed,
                },
                n,
                &scheduled,
                true,
            );
            assert!(!got.rows.is_empty() && got.title.contains(&format!(" of {n} transactions")));
            if cycles > ROWS_MAX {
                // Past ROWS_MAX requests a bar each for the first ROWS_MAX (two whose
                // nearest arrival is the same share it), said in the title.
                assert!(
                    got.rows.len() > ROWS_MAX / 2,
                    "{} rows: {}",
                    got.rows.len(),
                    got.title
                );
                let said = format!(
                    " of {n} transactions, one around each of the first {ROWS_MAX} of \
                     {cycles} cycles' requests"
                );
                assert!(
                    got.title.ends_with(&format!("— {}{said}", got.rows.len())),
                    "{}",
                    got.title
                );
            }
            assert_eq!(got, want);
        }
    }
}
