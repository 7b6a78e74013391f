//! Randomness: one `u64` seed, one independent ChaCha stream per component.
//!
//! Each component draws from `ChaCha8Rng::seed_from_u64(seed)` with its own stream
//! number (`set_stream`), so adding a component, or drawing more from one, never shifts
//! the numbers another component sees. No OS randomness anywhere.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The components that draw random numbers. The discriminant is the ChaCha stream
/// number: never renumber an existing component, only append.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Component {
    /// Arrival times of transactions.
    Arrivals = 1,
    /// Transaction shapes: which records, how many, deltas, compute times.
    Shapes = 2,
    /// Device latency jitter.
    Device = 3,
    /// Voluntary aborts.
    Aborts = 4,
    /// Retry backoff after a deadlock abort.
    Backoff = 5,
}

/// The random stream of one component.
pub fn stream(seed: u64, component: Component) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(component as u64);
    rng
}

/// A uniform draw in `lo..=hi` (returns `lo` when the range is empty).
pub fn uniform(rng: &mut ChaCha8Rng, lo: u64, hi: u64) -> u64 {
    if hi <= lo {
        lo
    } else {
        rng.random_range(lo..=hi)
    }
}

/// An exponential draw with the given mean, in whole ticks (for Poisson arrivals).
pub fn exponential(rng: &mut ChaCha8Rng, mean: f64) -> u64 {
    if mean <= 0.0 {
        return 0;
    }
    // 1 - u is in (0, 1], so the logarithm is finite.
    let u: f64 = rng.random::<f64>();
    let x = -(1.0 - u).ln() * mean;
    x.round() as u64
}

/// True with probability `p` (clamped to 0..=1).
pub fn chance(rng: &mut ChaCha8Rng, p: f64) -> bool {
    if p <= 0.0 {
        false
    } else if p >= 1.0 {
        true
    } else {
        rng.random::<f64>() < p
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngCore;

    #[test]
    fn streams_are_independent_and_reproducible() {
        let a1: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(stream(7, Component::Arrivals), |r, _: u64| {
                Some(r.next_u64())
            })
            .collect();
        let a2: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(stream(7, Component::Arrivals), |r, _: u64| {
                Some(r.next_u64())
            })
            .collect();
        let s: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(stream(7, Component::Shapes), |r, _: u64| Some(r.next_u64()))
            .collect();
        let other_seed: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(stream(8, Component::Arrivals), |r, _: u64| {
                Some(r.next_u64())
            })
            .collect();
        assert_eq!(a1, a2);
        assert_ne!(a1, s);
        assert_ne!(a1, other_seed);
    }

    #[test]
    fn exponential_mean_is_close() {
        let mut r = stream(1, Component::Arrivals);
        let n = 20_000;
        let sum: u64 = (0..n).map(|_| exponential(&mut r, 100.0)).sum();
        let mean = sum as f64 / n as f64;
        assert!((90.0..110.0).contains(&mean), "mean {mean}");
    }
}
