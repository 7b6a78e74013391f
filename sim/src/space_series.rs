//! Extra space over time: the LVM `Data%` view of a run. One point each time the
//! device's extra space or data-area use may have changed (a call that created or
//! dropped a table entry, a split, a retire, an abandon), recorded when the scenario
//! keeps its timeline (`keep_timeline`).

use serde::Serialize;

use crate::clock::Tick;

/// The device's extra space at one tick, after the calls of that tick so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SpacePoint {
    pub time_ticks: Tick,
    /// Extra space held (blocks): data-area slots in use, plus under the mirroring
    /// engine variant the second full image, image A, in every phase: the standing
    /// mirror's before the split, VLUN A's until the retire, then kept for the next
    /// split's incremental resync (`kept_image_blocks`).
    pub extra_space_blocks: u64,
    /// Of those, the data-area slots in use (blocks; 0 under mirroring and `none`).
    pub data_area_used_blocks: u64,
    /// Of those, image A kept after VLUN A's retire as the base of the next split's
    /// incremental resync (blocks: the volume's under the mirroring engine variant
    /// between a retire and the next split, else 0; engine
    /// `SpaceInUse::kept_image_blocks`). Not the retire's to reclaim.
    pub kept_image_blocks: u64,
}

/// Points kept exactly; past this many, the series is merged per time bucket.
pub const POINTS_MAX: usize = 1 << 16;

/// The series as it is gathered, bounded: every change while there are at most
/// [`POINTS_MAX`] points; beyond, time is cut into buckets (of 2, 4, 8 … ticks, doubled
/// each time the points reach the bound again) and each bucket keeps at most two
/// points, in time order: its highest extra space (the first point at it) and its last
/// point. The peak and every bucket's final value stay exact; the steps between them
/// inside a bucket are dropped. A run of at most [`POINTS_MAX`] changes keeps them all.
#[derive(Debug, Clone, Default)]
pub struct SpaceSeries {
    points: Vec<SpacePoint>,
    /// Ticks per bucket; 0 while every point is kept.
    bucket_ticks: Tick,
}

impl SpaceSeries {
    /// Adds the point `p` (times never decrease).
    pub fn push(&mut self, p: SpacePoint) {
        if let Some(bucket) = p.time_ticks.checked_div(self.bucket_ticks) {
            let same = |q: &SpacePoint| q.time_ticks / self.bucket_ticks == bucket;
            let n = self.points.len();
            let held = self.points[n.saturating_sub(2)..]
                .iter()
                .rev()
                .take_while(|q| same(q))
                .count();
            // The bucket holds its peak and, when later, its last point.
            if held > 0 {
                let peak = self.points[n - held];
                if p.extra_space_blocks > peak.extra_space_blocks {
                    self.points.truncate(n - held);
                    self.points.push(p);
                } else if held == 2 {
                    self.points[n - 1] = p;
                } else {
                    self.points.push(p);
                }
                return;
            }
        }
        self.points.push(p);
        if self.points.len() > POINTS_MAX {
            self.compact();
        }
    }

    /// Doubles the bucket width (or starts at 2 ticks) and merges the points per bucket.
    fn compact(&mut self) {
        self.bucket_ticks = (self.bucket_ticks * 2).max(2);
        let old = std::mem::take(&mut self.points);
        let mut k = 0;
        while k < old.len() {
            let bucket = old[k].time_ticks / self.bucket_ticks;
            let mut end = k;
            while end < old.len() && old[end].time_ticks / self.bucket_ticks == bucket {
                end += 1;
            }
            let span = &old[k..end];
            let last = span[span.len() - 1];
            let peak = span
                .iter()
                .copied()
                .reduce(|a, b| a.max_by_extra(b))
                .unwrap_or(last);
            if peak != last {
                self.points.push(peak);
            }
            self.points.push(last);
            k = end;
        }
    }

    /// The points kept, in time order.
    pub fn into_points(self) -> Vec<SpacePoint> {
        self.points
    }

    /// Points held now.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// True when no point was added.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

impl SpacePoint {
    /// The one with more extra space; the earlier (`self`) on a tie.
    fn max_by_extra(self, other: SpacePoint) -> SpacePoint {
        if other.extra_space_blocks > self.extra_space_blocks {
            other
        } else {
            self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(t: Tick, x: u64) -> SpacePoint {
        SpacePoint {
            time_ticks: t,
            extra_space_blocks: x,
            data_area_used_blocks: x,
            kept_image_blocks: 0,
        }
    }

    /// Up to the bound every point is kept; far beyond it the series stays bounded,
    /// keeps the peak and the last value exactly, and stays in time order.
    #[test]
    fn bounded_with_the_peak_and_the_end_kept() {
        let mut small = SpaceSeries::default();
        let pts: Vec<SpacePoint> = (0..POINTS_MAX as u64).map(|t| point(t, t % 7)).collect();
        pts.iter().for_each(|&p| small.push(p));
        assert_eq!(small.into_points(), pts);

        let mut s = SpaceSeries::default();
        let n = 20 * POINTS_MAX as u64;
        let peak_at = 3 * POINTS_MAX as u64 + 11;
        for t in 0..n {
            let x = if t == peak_at {
                1_000_000
            } else {
                (t * 7919) % 1000
            };
            s.push(point(3 * t, x));
            assert!(s.len() <= POINTS_MAX + 2);
        }
        assert!(s.bucket_ticks >= 32, "the series was not merged");
        let out = s.into_points();
        assert!(out.windows(2).all(|w| w[0].time_ticks < w[1].time_ticks));
        assert!(out.contains(&point(3 * peak_at, 1_000_000)), "peak lost");
        assert_eq!(
            out.last(),
            Some(&point(3 * (n - 1), ((n - 1) * 7919) % 1000))
        );
    }
}
