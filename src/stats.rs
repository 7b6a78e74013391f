//! Replication statistics of a sweep: for the values one metric takes over the seeds
//! of a grid point, the mean, the sample standard deviation, n and a 95 % Student-t
//! confidence interval of the mean; and for two policies run on the same seeds
//! (common random numbers: every policy sees the same arrivals for a seed), the
//! paired differences.
//!
//! The interval is `mean ± t(0.975, n-1) · sd / √n` (Law, *Simulation Modeling and
//! Analysis*, 5th ed., §9.4.1; the paired-t interval §10.2.1), the quantile from
//! `statrs`. With n < 2 there is no interval: `sd` and `half_width` are `None`. When
//! every one of n ≥ 2 values is the same (a workload or a metric the seed does not
//! change), the replications could not differ: `sd` is 0 but there is no interval
//! either (a zero-width one would estimate no sampling error, and claim any nonzero
//! mean significant); [`Summary::varies`] tells the two cases apart.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// The confidence level of every interval.
pub const CONFIDENCE: f64 = 0.95;

/// Mean, spread and 95 % interval of one metric over n replications.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (divisor n - 1); `None` when n < 2, 0 when every
    /// value is the same.
    pub sd: Option<f64>,
    /// Half-width of the 95 % Student-t interval of the mean; `None` when n < 2 or
    /// when every value is the same.
    pub half_width: Option<f64>,
}

impl Summary {
    /// The statistics of `xs` (finite values; an empty slice gives n = 0, mean NaN).
    /// Values that are all equal (`==`, so 0.0 and -0.0 too) have that value as mean,
    /// sd 0 and no interval.
    pub fn of(xs: &[f64]) -> Summary {
        Summary::within(xs, 0.0)
    }

    /// As [`Summary::of`], but n ≥ 2 values that all lie within `noise` of each other
    /// (max − min ≤ `noise`) count as the same value: sd 0, no interval (the mean is
    /// theirs).
    fn within(xs: &[f64], noise: f64) -> Summary {
        let n = xs.len();
        let mean = xs.iter().sum::<f64>() / n as f64;
        if n < 2 {
            return Summary {
                n,
                mean,
                sd: None,
                half_width: None,
            };
        }
        let (lo, hi) = xs
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                (lo.min(x), hi.max(x))
            });
        let same = xs.iter().all(|x| *x == xs[0]);
        if same || (xs.iter().all(|x| x.is_finite()) && hi - lo <= noise) {
            return Summary {
                n,
                mean: if same { xs[0] } else { mean },
                sd: Some(0.0),
                half_width: None,
            };
        }
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let sd = var.sqrt();
        Summary {
            n,
            mean,
            sd: Some(sd),
            half_width: Some(t_quantile(n - 1) * sd / (n as f64).sqrt()),
        }
    }

    /// Whether the values differ: `None` when n < 2 (nothing to compare), `Some(false)`
    /// when every value is the same (no interval), `Some(true)` otherwise (an
    /// interval).
    pub fn varies(&self) -> Option<bool> {
        self.sd.map(|_| self.half_width.is_some())
    }

    /// The interval's ends, when there is one.
    pub fn interval(&self) -> Option<(f64, f64)> {
        self.half_width.map(|h| (self.mean - h, self.mean + h))
    }

    /// True when the interval does not contain 0 (a significant difference at 5 %).
    pub fn excludes_zero(&self) -> bool {
        self.interval().is_some_and(|(lo, hi)| lo > 0.0 || hi < 0.0)
    }
}

/// The two-sided 95 % quantile of Student's t with `df` degrees of freedom
/// (12.706 at 1, 2.045 at 29, → 1.960).
pub fn t_quantile(df: usize) -> f64 {
    assert!(df >= 1, "t needs at least one degree of freedom");
    StudentsT::new(0.0, 1.0, df as f64)
        .expect("df ≥ 1 is a valid Student-t")
        .inverse_cdf(1.0 - (1.0 - CONFIDENCE) / 2.0)
}

/// A policy against the baseline over the same seeds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Paired {
    /// Of the differences `policy − baseline`, seed by seed.
    pub difference: Summary,
}

/// The mean of `a` over the mean of `b` (each over its own sample); `None` when `b`'s
/// mean is 0 or either sample is empty.
pub fn ratio(a: &Summary, b: &Summary) -> Option<f64> {
    (a.n > 0 && b.n > 0 && b.mean != 0.0).then(|| a.mean / b.mean)
}

/// Compares `xs` with `baseline`, pairing them by position (the same seed).
///
/// Differences equal up to the rounding of their operands count as equal (sd 0, no
/// interval): a decimal read from `sweep.csv` is within ε/2·|v| of the number v
/// written, and the subtraction rounds once more, so differences whose exact values
/// are equal lie within 4ε·M of each other, M the largest magnitude among `xs` and
/// `baseline` (ε = `f64::EPSILON`). Without this, 94.957 − 75.733 and 94.724 − 75.500
/// (both 19.224) differ in their last bits and give an interval ~10⁻¹⁴ wide that
/// excludes 0.
pub fn paired(xs: &[f64], baseline: &[f64]) -> Paired {
    assert_eq!(xs.len(), baseline.len(), "pairs need the same seeds");
    let d: Vec<f64> = xs.iter().zip(baseline).map(|(x, b)| x - b).collect();
    let magnitude = xs
        .iter()
        .chain(baseline)
        .fold(0.0f64, |m, v| m.max(v.abs()));
    Paired {
        difference: Summary::within(&d, 4.0 * f64::EPSILON * magnitude),
    }
}

/// The interval of the difference of two independent means (Welch), for comparing
/// with the paired one: half-width `t(ν) · √(s₁²/n₁ + s₂²/n₂)`, Welch–Satterthwaite ν.
/// `None` when either sample has n < 2, or when neither varies (no spread to
/// estimate a sampling error from).
pub fn unpaired_half_width(a: &Summary, b: &Summary) -> Option<f64> {
    let (sa, sb) = (a.sd?, b.sd?);
    let (va, vb) = (sa * sa / a.n as f64, sb * sb / b.n as f64);
    let se2 = va + vb;
    if se2 == 0.0 {
        return None;
    }
    let nu = se2 * se2 / (va * va / (a.n - 1) as f64 + vb * vb / (b.n - 1) as f64);
    let q = StudentsT::new(0.0, 1.0, nu.max(1.0))
        .expect("ν ≥ 1")
        .inverse_cdf(1.0 - (1.0 - CONFIDENCE) / 2.0);
    Some(q * se2.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_tables() {
        // Published two-sided 95 % values.
        for (df, t) in [
            (1, 12.706),
            (2, 4.303),
            (9, 2.262),
            (29, 2.045),
            (1000, 1.962),
        ] {
            assert!(
                (t_quantile(df) - t).abs() < 1e-3,
                "df {df}: {}",
                t_quantile(df)
            );
        }
    }

    #[test]
    fn summary_of_a_known_sample() {
        let s = Summary::of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(s.n, 8);
        assert!((s.mean - 5.0).abs() < 1e-12);
        // Σ(x - 5)² = 32, / 7.
        assert!((s.sd.unwrap() - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        let h = t_quantile(7) * (32.0f64 / 7.0).sqrt() / 8f64.sqrt();
        assert!((s.half_width.unwrap() - h).abs() < 1e-12);
        assert!(s.excludes_zero());
        let one = Summary::of(&[3.0]);
        assert_eq!(
            (one.n, one.mean, one.sd, one.half_width),
            (1, 3.0, None, None)
        );
        assert!(!one.excludes_zero());
    }

    #[test]
    fn identical_values_have_no_interval() {
        // Thirty 0.1s summed and divided by 30 give 0.10000000000000005; the mean of
        // identical values is the value itself.
        let s = Summary::of(&[0.1; 30]);
        assert_eq!(
            (s.mean, s.sd, s.half_width, s.varies()),
            (0.1, Some(0.0), None, Some(false))
        );
        assert!(!Summary::of(&[2.0; 5]).excludes_zero());
        assert_eq!(Summary::of(&[3.0]).varies(), None);
        assert_eq!(Summary::of(&[3.0, 4.0]).varies(), Some(true));
        // Two flat samples: no unpaired interval either; one with spread: one.
        assert_eq!(unpaired_half_width(&s, &Summary::of(&[2.0; 5])), None);
        assert!(unpaired_half_width(&s, &Summary::of(&[2.0, 3.0])).is_some_and(|h| h > 0.0));
        // Differences equal but for the rounding of their operands count as equal; a
        // thousandth apart they do not.
        let p = paired(&[94.957, 94.724, 94.914], &[75.733, 75.5, 75.69]);
        assert_eq!(p.difference.varies(), Some(false));
        assert!((p.difference.mean - 19.224).abs() < 1e-9);
        let p = paired(&[94.957, 94.725, 94.914], &[75.733, 75.5, 75.69]);
        assert_eq!(p.difference.varies(), Some(true));
    }

    #[test]
    fn paired_differences_cancel_the_common_noise() {
        // The baseline and the policy share a large per-seed term; the policy adds 1.
        let noise = [10.0, -7.0, 3.0, 22.0, -15.0, 6.0, 0.0, 9.0];
        let base: Vec<f64> = noise.iter().map(|e| 100.0 + e).collect();
        let pol: Vec<f64> = noise
            .iter()
            .enumerate()
            .map(|(i, e)| 101.0 + e + (i % 2) as f64 * 0.1)
            .collect();
        let p = paired(&pol, &base);
        assert!((p.difference.mean - 1.05).abs() < 1e-9);
        assert!(p.difference.excludes_zero());
        let unpaired = unpaired_half_width(&Summary::of(&pol), &Summary::of(&base)).unwrap();
        assert!(p.difference.half_width.unwrap() < unpaired / 50.0);
        assert!(
            (ratio(&Summary::of(&pol), &Summary::of(&base)).unwrap()
                - Summary::of(&pol).mean / Summary::of(&base).mean)
                .abs()
                < 1e-12
        );
    }
}
