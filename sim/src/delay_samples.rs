//! Delays kept for exact statistics ([`DelayStats`]): a run's response times and
//! admission delays, and each backup window's response times, in memory that follows
//! the number of DISTINCT delays when that is the smaller.
//!
//! A delay of at most `u32::MAX` ticks (71 minutes) is kept as 4 bytes in a list, or,
//! once a table of counts of the distinct delays is smaller than the list would be, as
//! a count in that table (about [`Samples::BYTES_PER_DISTINCT`] bytes per distinct
//! delay); a longer delay is kept apart in 8 bytes. The statistics are exact either
//! way: the count, the mean (of the exact `u128` sum), the 99th percentile (nearest
//! rank) and the maximum are those of [`DelayStats::of`] over every delay added.

use rustc_hash::FxHashMap;

use crate::clock::Tick;
use crate::cost::DelayStats;

/// The list is not looked at for a table below this many delays (the table would not
/// pay, and a small run keeps its small list).
const LIST_LEN_CHECKED_MIN: usize = 1024;

/// A multiset of delays in ticks, with [`Samples::stats`] exactly [`DelayStats::of`]
/// of every delay added. What a run holds per committed transaction for its
/// response-time mean and exact p99.
///
/// Memory: at most [`Samples::BYTES_EACH`] bytes per delay (the list), or, when the
/// delays take few distinct values, about [`Samples::BYTES_PER_DISTINCT`] bytes per
/// distinct value (the table): the list becomes the table when its distinct values
/// are checked (each time the list is full, from 1024 delays on) and the table is at
/// most half the list's bytes; the table becomes a list again when, full, it would
/// hold more bytes than the list of its delays.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    /// Delays of at most `u32::MAX` ticks, one element each.
    small: Vec<u32>,
    /// Delays of at most `u32::MAX` ticks: how many of each value (a count never
    /// passes `u32::MAX`: a delay whose count is full goes to `small`).
    counts: FxHashMap<u32, u32>,
    /// The number of delays `counts` holds.
    counted: u64,
    /// Delays of more than `u32::MAX` ticks.
    large: Vec<Tick>,
}

impl PartialEq for Samples {
    /// The same multiset of delays, however each keeps it.
    fn eq(&self, other: &Self) -> bool {
        fn sorted(s: &Samples) -> Vec<Tick> {
            let mut v: Vec<Tick> = s.small.iter().map(|&x| Tick::from(x)).collect();
            for (&x, &c) in &s.counts {
                v.extend(std::iter::repeat_n(Tick::from(x), c as usize));
            }
            v.extend_from_slice(&s.large);
            v.sort_unstable();
            v
        }
        self.len() == other.len() && sorted(self) == sorted(other)
    }
}

impl Eq for Samples {}

impl Samples {
    /// Heap bytes held per delay in the list (for the footprint estimate: the most
    /// held per delay, the table being kept only while it is smaller).
    pub const BYTES_EACH: u64 = 4;

    /// Heap bytes held per distinct delay in the table, at most: a bucket of key and
    /// count (8 bytes) and its control byte, buckets at least 7/16 full (a table
    /// grows by doubling at 7/8).
    pub const BYTES_PER_DISTINCT: u64 = 21;

    /// The most heap bytes a [`Samples`] holds, however many delays it is given
    /// (fewer than `u32::MAX`), when they take at most `distinct` values and at most
    /// `distinct` of them are above `u32::MAX` ticks (each of those is kept apart):
    /// its list,
    /// which becomes a table once the table is at most half its bytes (checked each
    /// time the list is full, from 1,024 delays on: so the list never holds more than
    /// twice 1,024 or twice `distinct` × [`Self::BYTES_PER_DISTINCT`] × 2 /
    /// [`Self::BYTES_EACH`] delays), beside the table being built of at most
    /// `distinct` values, and the delays above `u32::MAX` ticks (8 bytes each, in a
    /// list that may double). What the memory estimate prices a run's admission delays
    /// at when they take few values (`crate::footprint`).
    pub fn bytes_max_for_distinct(distinct: u64) -> u64 {
        let per_list_delay = Self::BYTES_EACH;
        let list_len_checked = distinct
            .saturating_add(1)
            .saturating_mul(2 * Self::BYTES_PER_DISTINCT)
            .div_ceil(per_list_delay)
            .max(LIST_LEN_CHECKED_MIN as u64);
        let list = list_len_checked.saturating_mul(2 * per_list_delay);
        // A table of n values: at most 2n·8/7 + 4 buckets of 8 bytes and a control
        // byte each, and a group of control bytes.
        let table = distinct.saturating_mul(24).saturating_add(64);
        let large = distinct.saturating_mul(16);
        list.saturating_add(table).saturating_add(large)
    }

    /// Adds a delay of `ticks`.
    pub fn push(&mut self, ticks: Tick) {
        let Ok(x) = u32::try_from(ticks) else {
            self.large.push(ticks);
            return;
        };
        if self.counts.is_empty() {
            if self.small.len() == self.small.capacity() && self.small.len() >= LIST_LEN_CHECKED_MIN
            {
                self.make_table_if_smaller();
            }
            if self.counts.is_empty() {
                self.small.push(x);
                return;
            }
        } else if self.counts.len() == self.counts.capacity() && !self.counts.contains_key(&x) {
            // The table grows for a new value (to twice its buckets, about
            // BYTES_PER_DISTINCT per value it holds): kept only while no larger than
            // the list of its delays.
            let grown_bytes = (self.counts.len() as u64 + 1) * Self::BYTES_PER_DISTINCT;
            if grown_bytes > self.counted * Self::BYTES_EACH {
                self.make_list();
                self.small.push(x);
                return;
            }
        }
        self.count(x);
    }

    /// Counts `x` in the table (a count already at `u32::MAX` sends it to the list).
    fn count(&mut self, x: u32) {
        let c = self.counts.entry(x).or_insert(0);
        if *c == u32::MAX {
            self.small.push(x);
        } else {
            *c += 1;
            self.counted += 1;
        }
    }

    /// Moves the list into a table of counts when the table takes at most half the
    /// list's bytes (the scan stops at the first distinct value past that).
    fn make_table_if_smaller(&mut self) {
        let list_bytes = self.small.len() as u64 * Self::BYTES_EACH;
        let distinct_max = (list_bytes / 2 / Self::BYTES_PER_DISTINCT) as usize;
        let mut counts: FxHashMap<u32, u32> = FxHashMap::default();
        for &x in &self.small {
            let c = counts.entry(x).or_insert(0);
            if *c == u32::MAX {
                return;
            }
            *c += 1;
            if counts.len() > distinct_max {
                return;
            }
        }
        self.counted = self.small.len() as u64;
        self.counts = counts;
        self.small = Vec::new();
    }

    /// Moves the table back into the list.
    fn make_list(&mut self) {
        let mut list = Vec::with_capacity(self.small.len() + self.counted as usize + 1);
        list.append(&mut self.small);
        for (&x, &c) in &self.counts {
            list.extend(std::iter::repeat_n(x, c as usize));
        }
        self.small = list;
        self.counts = FxHashMap::default();
        self.counted = 0;
    }

    /// How many delays were added.
    pub fn len(&self) -> usize {
        self.small.len() + self.counted as usize + self.large.len()
    }

    /// True when none was added.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when the delays are held as a table of distinct values (for tests of
    /// the memory they take).
    pub fn is_table(&self) -> bool {
        !self.counts.is_empty()
    }

    /// The statistics of the delays, exactly [`DelayStats::of`] of them all. The list
    /// is reordered in place (its 99th percentile is selected in time linear in its
    /// length); a table's distinct values are sorted.
    pub fn stats(&mut self) -> DelayStats {
        let n = self.len();
        if n == 0 {
            return DelayStats::default();
        }
        let sum: u128 = self.small.iter().map(|&x| u128::from(x)).sum::<u128>()
            + self
                .counts
                .iter()
                .map(|(&x, &c)| u128::from(x) * u128::from(c))
                .sum::<u128>()
            + self.large.iter().map(|&x| u128::from(x)).sum::<u128>();
        let rank = (n * 99).div_ceil(100).max(1) - 1;
        let below_large = self.small.len() + self.counted as usize;
        // Every large delay is above every small one: the sorted list is the small
        // ones sorted, then the large ones sorted.
        let p99 = if rank >= below_large {
            let (_, &mut p, _) = self.large.select_nth_unstable(rank - below_large);
            p
        } else if self.counts.is_empty() {
            let (_, &mut p, _) = self.small.select_nth_unstable(rank);
            Tick::from(p)
        } else {
            Tick::from(self.nth_small(rank))
        };
        let max = match self.large.iter().max() {
            Some(&m) => m,
            None => {
                let list_max = self.small.iter().copied().max();
                let table_max = self.counts.keys().copied().max();
                Tick::from(list_max.max(table_max).unwrap_or(0))
            }
        };
        DelayStats {
            count: n as u64,
            ticks_sum: sum,
            ticks_mean: sum as f64 / n as f64,
            ticks_p99: p99,
            ticks_max: max,
        }
    }

    /// The `rank`-th smallest (0-based) of the list's and the table's delays together;
    /// `rank` is below their number.
    fn nth_small(&self, rank: usize) -> u32 {
        let mut runs: Vec<(u32, u64)> = self
            .counts
            .iter()
            .map(|(&x, &c)| (x, u64::from(c)))
            .chain(self.small.iter().map(|&x| (x, 1)))
            .collect();
        runs.sort_unstable_by_key(|&(x, _)| x);
        let mut below = 0u64;
        for (x, c) in runs {
            below += c;
            if below > rank as u64 {
                return x;
            }
        }
        unreachable!("rank {rank} is below the number of delays")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;

    /// Heap bytes `s` holds, from its lists' and table's capacities (a table of
    /// capacity c has c + 1 buckets below 8, else c · 8/7, each 8 bytes and a control
    /// byte, and a group of 16 control bytes).
    fn held_bytes(s: &Samples) -> u64 {
        let cap = s.counts.capacity() as u64;
        let buckets = match cap {
            0 => 0,
            1..=7 => cap + 1,
            _ => cap * 8 / 7,
        };
        let table = if buckets == 0 { 0 } else { buckets * 9 + 16 };
        s.small.capacity() as u64 * 4 + table + s.large.capacity() as u64 * 8
    }

    proptest! {
        /// Delays of at most `distinct` values never hold more than
        /// [`Samples::bytes_max_for_distinct`] of it, however many are added and in
        /// whatever order, a new value at any time, up to `distinct` of them above
        /// `u32::MAX` ticks.
        #[test]
        fn few_distinct_delays_hold_at_most_their_bound(
            distinct in 1u64..400,
            n in 0usize..30_000,
            seed in any::<u64>(),
            zeros_per_mille in 0u64..1000,
        ) {
            let values: Vec<Tick> = (0..distinct)
                .map(|v| if v % 7 == 6 { u64::from(u32::MAX) + v } else { v * 13 })
                .collect();
            let bound = Samples::bytes_max_for_distinct(distinct);
            let mut x = seed;
            let mut s = Samples::default();
            let mut large = 0;
            for _ in 0..n {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                let mut v = if (x >> 33) % 1000 < zeros_per_mille {
                    0
                } else {
                    values[((x >> 11) % distinct) as usize]
                };
                if v > u64::from(u32::MAX) {
                    large += 1;
                    if large > distinct {
                        v = 0;
                    }
                }
                s.push(v);
                prop_assert!(held_bytes(&s) <= bound, "{} > {bound} after {} delays", held_bytes(&s), s.len());
            }
        }
    }

    /// [`Samples`] give [`DelayStats::of`]'s figures, delays above `u32::MAX` ticks
    /// included (kept apart, above every small one).
    #[test]
    fn samples_give_the_same_stats() {
        let mut x: u64 = 5;
        for n in [1usize, 2, 99, 100, 101, 250, 5000] {
            for big_every in [0u64, 3, 40] {
                let xs: Vec<Tick> = (0..n as u64)
                    .map(|i| {
                        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                        let v = (x >> 40) % 1000;
                        if big_every > 0 && i % big_every == 0 {
                            u64::from(u32::MAX) + v
                        } else {
                            v
                        }
                    })
                    .collect();
                let mut s = Samples::default();
                xs.iter().for_each(|&v| s.push(v));
                assert_eq!(s.len(), n);
                let want = DelayStats::of(&mut xs.clone());
                assert_eq!(s.stats(), want, "n {n}, big every {big_every}");
                if big_every == 3 {
                    assert!(want.ticks_max > u64::from(u32::MAX));
                }
            }
        }
        assert_eq!(Samples::default().stats(), DelayStats::default());
    }

    /// Few distinct delays are held as a table whose size follows them, not the
    /// delays' number; many distinct ones stay a list; a table that meets many new
    /// values becomes a list again. The statistics are exact throughout.
    #[test]
    fn few_distinct_delays_take_a_table() {
        let mut s = Samples::default();
        let mut all = Vec::new();
        for i in 0..1_000_000u64 {
            let v = (i * 7919) % 50;
            s.push(v);
            all.push(v);
        }
        assert!(s.is_table());
        assert!(s.small.capacity() == 0 && s.counts.capacity() < 64);
        assert_eq!(s.clone().stats(), DelayStats::of(&mut all.clone()));
        // Now a million distinct values: the table turns back into a list.
        for i in 0..1_000_000u64 {
            let v = 1_000 + i * 3;
            s.push(v);
            all.push(v);
        }
        assert!(!s.is_table());
        assert_eq!(s.stats(), DelayStats::of(&mut all));

        let mut distinct = Samples::default();
        (0..100_000u64).for_each(|i| distinct.push(i));
        assert!(!distinct.is_table());
    }

    /// A table whose count of one value is full sends further delays of that value to
    /// the list, and the statistics still count them.
    #[test]
    fn a_full_count_spills_into_the_list() {
        let mut s = Samples::default();
        (0..2_000u64).for_each(|i| s.push(i % 3));
        assert!(s.is_table());
        *s.counts.get_mut(&1).unwrap() = u32::MAX;
        s.counted = s.counts.values().map(|&c| u64::from(c)).sum();
        s.push(1);
        s.push(1);
        assert_eq!(s.small, vec![1, 1]);
        let d = s.stats();
        assert_eq!(d.count, s.counted + 2);
        assert_eq!((d.ticks_p99, d.ticks_max), (1, 2));
    }

    /// Delays drawn from a range of `distinct` values (a few to thousands), some past
    /// `u32::MAX`, in runs of none to tens of thousands; or any 64-bit delays (nearly
    /// all distinct, half past `u32::MAX`).
    fn delays() -> impl Strategy<Value = Vec<Tick>> {
        let few =
            (1u64..3_000, 0usize..30_000, 0u32..10).prop_flat_map(|(distinct, n, large_pct)| {
                proptest::collection::vec(
                    (0..distinct, 0u32..100).prop_map(move |(v, p)| {
                        if p < large_pct {
                            u64::from(u32::MAX) - 5 + v
                        } else {
                            v * 37
                        }
                    }),
                    n,
                )
            });
        let many = (0usize..5_000).prop_flat_map(|n| {
            proptest::collection::vec(
                prop_oneof![any::<u32>().prop_map(Tick::from), any::<Tick>()],
                n,
            )
        });
        prop_oneof![3 => few, 1 => many]
    }

    /// Over 400 random inputs, every statistic equals [`DelayStats::of`] (the mean
    /// the same float); the inputs reached both the table and the list, and delays
    /// past `u32::MAX`.
    #[test]
    fn stats_equal_delay_stats_of() {
        let mut runner = proptest::test_runner::TestRunner::new_with_rng(
            ProptestConfig::with_cases(400),
            proptest::test_runner::TestRng::deterministic_rng(
                proptest::test_runner::RngAlgorithm::ChaCha,
            ),
        );
        let (mut tables, mut lists, mut large) = (0, 0, 0);
        for _ in 0..400 {
            let xs = delays().new_tree(&mut runner).unwrap().current();
            let mut s = Samples::default();
            xs.iter().for_each(|&v| s.push(v));
            assert_eq!(s.len(), xs.len());
            let want = DelayStats::of(&mut xs.clone());
            let got = s.clone().stats();
            assert_eq!(got, want, "{} delays", xs.len());
            assert_eq!(got.ticks_mean.to_bits(), want.ticks_mean.to_bits());
            if s.is_table() {
                tables += 1;
            } else if xs.len() > 2 * LIST_LEN_CHECKED_MIN {
                lists += 1;
            }
            if want.ticks_max > u64::from(u32::MAX) {
                large += 1;
            }
        }
        assert!(
            tables > 50 && lists > 50 && large > 50,
            "{tables} {lists} {large}"
        );
    }
}
