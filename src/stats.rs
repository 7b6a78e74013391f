//! Replication statistics of a sweep: for the values one metric takes over the seeds
//! of a grid point, the mean, the sample standard deviation, n and a 95 % Student-t
//! confidence interval of the mean; and for two policies run on the same seeds
//! (common random numbers: every policy sees the same arrivals for a seed), the
//! paired differences.
//!
//! The interval is `mean ± t(0.975, n-1) · sd / √n` (Law, *Simulation Modeling and
//! Analysis*, 5th ed., §9.4.1; the paired-t interval §10.2.1), the quantile from
//! `statrs`. With n < 2 there is no interval: `sd` and `half_width` are `None`.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// The confidence level of every interval.
pub const CONFIDENCE: f64 = 0.95;

/// Mean, spread and 95 % interval of one metric over n replications.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (divisor n - 1); `None` when n < 2.
    pub sd: Option<f64>,
    /// Half-width of the 95 % Student-t interval of the mean; `None` when n < 2.
    pub half_width: Option<f64>,
}

impl Summary {
    /// The statistics of `xs` (finite values; an empty slice gives n = 0, mean NaN).
    pub fn of(xs: &[f64]) -> Summary {
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
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let sd = var.sqrt();
        Summary {
            n,
            mean,
            sd: Some(sd),
            half_width: Some(t_quantile(n - 1) * sd / (n as f64).sqrt()),
        }
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
    /// Mean of the policy over mean of the baseline (`None` when the baseline's mean
    /// is 0).
    pub ratio: Option<f64>,
}

/// Compares `xs` with `baseline`, pairing them by position (the same seed).
pub fn paired(xs: &[f64], baseline: &[f64]) -> Paired {
    assert_eq!(xs.len(), baseline.len(), "pairs need the same seeds");
    let d: Vec<f64> = xs.iter().zip(baseline).map(|(x, b)| x - b).collect();
    let mx = Summary::of(xs).mean;
    let mb = Summary::of(baseline).mean;
    Paired {
        difference: Summary::of(&d),
        ratio: (mb != 0.0).then(|| mx / mb),
    }
}

/// The interval of the difference of two independent means (Welch), for comparing
/// with the paired one: half-width `t(ν) · √(s₁²/n₁ + s₂²/n₂)`, Welch–Satterthwaite ν.
pub fn unpaired_half_width(a: &Summary, b: &Summary) -> Option<f64> {
    let (sa, sb) = (a.sd?, b.sd?);
    let (va, vb) = (sa * sa / a.n as f64, sb * sb / b.n as f64);
    let se2 = va + vb;
    if se2 == 0.0 {
        return Some(0.0);
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
            (p.ratio.unwrap() - Summary::of(&pol).mean / Summary::of(&base).mean).abs() < 1e-12
        );
    }
}
