//! The Zipf hot spot's sampler: record `k` (0-based, of `records`) with probability
//! ∝ 1 / (k+1)^exponent, drawn in O(1) memory and expected O(1) time by
//! rejection-inversion (W. Hörmann and G. Derflinger, "Rejection-inversion to generate
//! variates from monotone discrete distributions", ACM TOMACS 6(3), 1996; the form of
//! Apache Commons RNG's `RejectionInversionZipfSampler`, which `rand_distr::Zipf`
//! also follows). Rank `r` (1-based) is record `r - 1`.
//!
//! Written here rather than taken from `rand_distr` because every draw must be the
//! same on every machine: the logarithms and exponentials are [`rng::ln`] and
//! [`rng::exp`] (IEEE arithmetic only), not the platform's libm.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::rng;

/// A Zipf distribution over ranks `1..=n` with `P(r) ∝ r^-exponent`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Zipf {
    n: f64,
    exponent: f64,
    /// `H(1.5) - 1`: the integral's value at the left end of the hat.
    h_integral_x1: f64,
    /// `H(n + 0.5)`.
    h_integral_n: f64,
    /// Width around a rank inside which the hat's draw is accepted at once.
    accept_width: f64,
}

impl Zipf {
    /// Ranks `1..=n` (`n` ≥ 1) with exponent `exponent` (finite, ≥ 0; 0 is uniform).
    pub(crate) fn new(n: u64, exponent: f64) -> Self {
        debug_assert!(n >= 1 && exponent.is_finite() && exponent >= 0.0);
        let mut z = Zipf {
            n: n.max(1) as f64,
            exponent,
            h_integral_x1: 0.0,
            h_integral_n: 0.0,
            accept_width: 0.0,
        };
        z.h_integral_x1 = z.h_integral(1.5) - 1.0;
        z.h_integral_n = z.h_integral(z.n + 0.5);
        z.accept_width = 2.0 - z.h_integral_inverse(z.h_integral(2.5) - z.h(2.0));
        z
    }

    /// A rank in `1..=n`.
    pub(crate) fn sample(&self, r: &mut ChaCha8Rng) -> u64 {
        loop {
            let u: f64 = r.random::<f64>();
            let u = self.h_integral_n + u * (self.h_integral_x1 - self.h_integral_n);
            let x = self.h_integral_inverse(u);
            let k = (x + 0.5).floor().clamp(1.0, self.n);
            if k - x <= self.accept_width || u >= self.h_integral(k + 0.5) - self.h(k) {
                return k as u64;
            }
        }
    }

    /// `h(x) = x^-exponent`.
    fn h(&self, x: f64) -> f64 {
        rng::exp(-self.exponent * rng::ln(x))
    }

    /// `H(x) = ∫₁ˣ t^-exponent dt` = `(x^(1-exponent) - 1) / (1 - exponent)`, or
    /// `ln x` for exponent 1, in a form exact near both.
    fn h_integral(&self, x: f64) -> f64 {
        let log_x = rng::ln(x);
        exp_m1_over_x((1.0 - self.exponent) * log_x) * log_x
    }

    /// The inverse of [`Zipf::h_integral`].
    fn h_integral_inverse(&self, x: f64) -> f64 {
        let t = (x * (1.0 - self.exponent)).max(-1.0);
        rng::exp(ln_1p_over_x(t) * x)
    }
}

/// `ln(1 + x) / x`, exact near 0 (1 at 0); `x` ≥ -1.
fn ln_1p_over_x(x: f64) -> f64 {
    if x.abs() > 0.5 {
        // -1 gives ln 0: the inverse's limit, e^-inf = 0, clamped to rank 1.
        if x <= -1.0 {
            return f64::INFINITY;
        }
        return rng::ln(1.0 + x) / x;
    }
    // ln(1+x) = 2 atanh(z), z = x / (2 + x), |z| ≤ 1/3: the series converges fast.
    let z = x / (2.0 + x);
    let z2 = z * z;
    let (mut term, mut sum, mut k) = (1.0, 0.0, 1.0);
    while k < 60.0 {
        sum += term / k;
        term *= z2;
        k += 2.0;
    }
    // ln(1+x)/x = 2 z sum / x = 2 sum / (2 + x).
    2.0 * sum / (2.0 + x)
}

/// `(e^x - 1) / x`, exact near 0 (1 at 0).
fn exp_m1_over_x(x: f64) -> f64 {
    if x.abs() > 0.5 {
        return (rng::exp(x) - 1.0) / x;
    }
    // Σ x^k / (k+1)!.
    let (mut term, mut sum) = (1.0, 1.0);
    for k in 2..30 {
        term *= x / k as f64;
        sum += term;
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// Chi-square of `draws` draws of ranks `1..=n` under `sampler` against the exact
    /// Zipf(`n`, `exponent`) probabilities, over bins of expected count ≥ 20: each of
    /// the first ranks alone, then the rest in ranges. Returns (statistic, bins).
    fn chi_square(sampler: &Zipf, n: u64, exponent: f64, draws: u64, seed: u64) -> (f64, usize) {
        let weights: Vec<f64> = (1..=n).map(|r| (r as f64).powf(-exponent)).collect();
        let total: f64 = weights.iter().sum();
        let mut counts = vec![0u64; n as usize];
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        for _ in 0..draws {
            let k = sampler.sample(&mut r);
            assert!((1..=n).contains(&k), "rank {k} outside 1..={n}");
            counts[k as usize - 1] += 1;
        }
        // Bins: consecutive ranks until the expected count reaches 20.
        let (mut stat, mut bins) = (0.0, 0);
        let (mut expected, mut observed) = (0.0, 0u64);
        for (w, c) in weights.iter().zip(&counts) {
            expected += w / total * draws as f64;
            observed += c;
            if expected >= 20.0 {
                stat += (observed as f64 - expected).powi(2) / expected;
                bins += 1;
                (expected, observed) = (0.0, 0);
            }
        }
        if expected > 0.0 {
            stat += (observed as f64 - expected).powi(2) / expected;
            bins += 1;
        }
        (stat, bins)
    }

    /// The chi-square quantile of `df` degrees of freedom at 1 - 10^-4.
    fn critical(df: usize) -> f64 {
        use statrs::distribution::{ChiSquared, ContinuousCDF};
        ChiSquared::new(df as f64).unwrap().inverse_cdf(1.0 - 1e-4)
    }

    #[test]
    fn draws_follow_the_zipf_distribution() {
        for (n, exponent) in [
            (1, 1.0),
            (2, 0.5),
            (100, 0.0),
            (100, 1.0),
            (1000, 0.8),
            (4096, 0.5),
            (100_000, 0.99),
            (100_000, 1.2),
            (50, 3.0),
        ] {
            let z = Zipf::new(n, exponent);
            let (stat, bins) = chi_square(&z, n, exponent, 200_000, 7);
            if bins < 2 {
                continue;
            }
            assert!(
                stat < critical(bins - 1),
                "n {n}, exponent {exponent}: chi-square {stat:.1} over {bins} bins"
            );
        }
    }

    #[test]
    fn the_test_rejects_a_neighbouring_exponent() {
        // Non-vacuity: draws of exponent 1.1 judged as exponent 1.0 fail.
        let (stat, bins) = chi_square(&Zipf::new(1000, 1.1), 1000, 1.0, 200_000, 7);
        assert!(
            stat > critical(bins - 1),
            "chi-square {stat:.1} over {bins} bins"
        );
    }

    #[test]
    fn helpers_are_exact_near_zero_and_match_the_closed_forms() {
        for x in [-0.9f64, -0.5, -1e-9, 0.0, 1e-12, 0.3, 0.5, 2.0] {
            let want = if x == 0.0 { 1.0 } else { x.ln_1p() / x };
            assert!((ln_1p_over_x(x) - want).abs() < 1e-14, "ln_1p {x}");
            let want = if x == 0.0 { 1.0 } else { x.exp_m1() / x };
            assert!((exp_m1_over_x(x) - want).abs() < 1e-14, "exp_m1 {x}");
        }
        // The whole 1 TiB volume's records: a rank in range, in O(1) memory.
        let z = Zipf::new(1 << 28, 0.99);
        let mut r = ChaCha8Rng::seed_from_u64(1);
        assert!((0..1000).all(|_| (1..=1 << 28).contains(&z.sample(&mut r))));
    }
}
