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
    /// Injected faults: crashes' torn and lost writes, I/O errors, latency spikes.
    Faults = 6,
}

/// The random stream of one component.
pub fn stream(seed: u64, component: Component) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(component as u64);
    rng
}

/// SplitMix64's finaliser: a bijective mix of `x` whose output bits each depend on
/// every input bit (Steele, Lea, Flood, "Fast splittable pseudorandom number
/// generators", OOPSLA 2014). Turns a call's identity into a draw.
pub fn mix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
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
    exponential_of(1.0 - u, mean)
}

/// The exponential draw of mean `mean` (> 0) from `v` = 1 - u in (0, 1].
fn exponential_of(v: f64, mean: f64) -> u64 {
    // The platform's logarithm first: any libm is within 1e-14 of `ln` relative (the
    // test `ln_and_exp_agree_with_libm`), so when its product lies farther than
    // 1e-9 (relative, at least 1e-9 absolute) from a half-integer, both products
    // round to the same whole tick. Only the rare draws near a tie take `ln`.
    // `fast` is not negative: below 2^52 its whole part by truncation (a conversion,
    // no libm call) and its fraction are exact; it rounds half away from zero.
    let fast = -v.ln() * mean;
    let whole = fast as u64;
    let frac = fast - whole as f64;
    if fast < 4.0e15 && (frac - 0.5).abs() > EXPONENTIAL_TIE_GUARD * fast.max(1.0) {
        return whole + u64::from(frac > 0.5);
    }
    exponential_exact(v, mean)
}

/// Distance from a half-integer, relative to the draw (absolute below 1), below which
/// [`exponential`] rounds the draw made with [`ln`] itself.
const EXPONENTIAL_TIE_GUARD: f64 = 1e-9;

/// The exponential draw of `1 - u = v` made with [`ln`] only: what [`exponential`]
/// returns, whatever the platform's logarithm.
fn exponential_exact(v: f64, mean: f64) -> u64 {
    let x = -ln(v) * mean;
    x.round() as u64
}

/// Natural logarithm from IEEE arithmetic only (no platform libm), so draws are
/// identical on every machine: x = m·2^e with m in [1, 2), ln m = 2·atanh((m-1)/(m+1)).
/// Defined for finite x > 0; relative error below 1e-15.
pub fn ln(x: f64) -> f64 {
    debug_assert!(x > 0.0 && x.is_finite());
    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if (bits >> 52) & 0x7ff == 0 {
        // Subnormal: scale into the normal range first.
        return ln(x * pow2(64)) - 64.0 * std::f64::consts::LN_2;
    }
    if m > std::f64::consts::SQRT_2 {
        m /= 2.0;
        e += 1;
    }
    2.0 * atanh_series(m) + e as f64 * std::f64::consts::LN_2
}

/// atanh((m-1)/(m+1)) for m in [√2/2, √2]: the sum of z^k / k over odd k < 60, added
/// term by term, largest first.
///
/// The loop stops at the first term whose addition leaves the sum unchanged: the
/// result is bit for bit the full 30-term sum. Every term has the sign of z (z² > 0)
/// and is no larger than the one before (|z²| < 1 and a larger divisor, and rounding
/// is monotone), so the exact value of the sum plus any later term lies between the
/// sum and the sum plus this term, both of which round to the sum.
fn atanh_series(m: f64) -> f64 {
    let z = (m - 1.0) / (m + 1.0);
    let z2 = z * z;
    let (mut term, mut sum, mut k) = (z, 0.0f64, 1.0);
    while k < 60.0 {
        let next = sum + term / k;
        if next == sum {
            break;
        }
        sum = next;
        term *= z2;
        k += 2.0;
    }
    sum
}

/// 2^n, exactly, built from its bits (n in -1022..=1023).
fn pow2(n: i64) -> f64 {
    f64::from_bits(((n.clamp(-1022, 1023) + 1023) as u64) << 52)
}

/// e^x from IEEE arithmetic only (see [`ln`]): x = n·ln 2 + r, |r| ≤ ln 2 / 2, Taylor
/// series for e^r. 0 below -700, infinity above 700.
pub fn exp(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x < -700.0 {
        return 0.0;
    }
    if x > 700.0 {
        return f64::INFINITY;
    }
    let n = (x / std::f64::consts::LN_2).round();
    let r = x - n * std::f64::consts::LN_2;
    let (mut term, mut sum) = (1.0, 1.0);
    for k in 1..30 {
        term *= r / k as f64;
        sum += term;
    }
    sum * pow2(n as i64)
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

/// True with probability `p` (clamped to 0..=1), drawn from the identity `id` of what is
/// decided under `key` (one key per component and seed) rather than from a stream: the
/// same `id` gets the same answer whatever order the decisions are taken in.
pub fn keyed_chance(key: u64, id: u64, p: f64) -> bool {
    if p <= 0.0 {
        false
    } else if p >= 1.0 {
        true
    } else {
        // The top 53 bits as a uniform draw in [0, 1).
        let u = (mix64(key ^ mix64(id)) >> 11) as f64 / (1u64 << 53) as f64;
        u < p
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
    fn keyed_chance_is_a_function_of_its_id_with_the_asked_frequency() {
        let key = stream(3, Component::Aborts).next_u64();
        for p in [0.05, 0.2, 0.5, 0.9] {
            let hits = (0..100_000u64)
                .filter(|&id| keyed_chance(key, id, p))
                .count();
            let f = hits as f64 / 100_000.0;
            assert!((f - p).abs() < 0.01, "p {p}: frequency {f}");
        }
        // The same id, asked in another order, answers the same.
        let forward: Vec<bool> = (0..1000u64).map(|id| keyed_chance(key, id, 0.3)).collect();
        let backward: Vec<bool> = (0..1000u64)
            .rev()
            .map(|id| keyed_chance(key, id, 0.3))
            .collect();
        assert!(forward.iter().eq(backward.iter().rev()));
        assert!((0..1000u64).all(|id| !keyed_chance(key, id, 0.0) && keyed_chance(key, id, 1.0)));
    }

    #[test]
    fn ln_and_exp_agree_with_libm() {
        for &x in &[
            1e-300, 1e-9, 0.001, 0.3, 0.5, 0.999_999, 1.0, 1.5, 2.0, 10.0, 12345.678, 1e200,
        ] {
            let (ours, std) = (ln(x), x.ln());
            assert!(
                (ours - std).abs() <= 1e-14 * std.abs().max(1.0),
                "ln({x}): {ours} vs {std}"
            );
        }
        for &x in &[-300.0, -5.0, -0.1, 0.0, 0.7, 3.3, 100.0] {
            let (ours, std) = (exp(x), f64::exp(x));
            assert!(
                (ours - std).abs() <= 1e-13 * std,
                "exp({x}): {ours} vs {std}"
            );
        }
    }

    /// The series as first written: all 30 terms, none skipped.
    fn atanh_series_full(m: f64) -> f64 {
        let z = (m - 1.0) / (m + 1.0);
        let z2 = z * z;
        let (mut term, mut sum, mut k) = (z, 0.0, 1.0);
        while k < 60.0 {
            sum += term / k;
            term *= z2;
            k += 2.0;
        }
        sum
    }

    /// Stopping at the first term that changes nothing gives the full sum, bit for
    /// bit: over the whole range of m (both ends, 1 itself, its neighbours, and a
    /// million draws), and the stop is taken early.
    #[test]
    fn atanh_series_stops_without_changing_a_bit() {
        let (lo, hi) = (std::f64::consts::FRAC_1_SQRT_2, std::f64::consts::SQRT_2);
        let mut ms = vec![lo, hi, 1.0, f64::from_bits(1.0f64.to_bits() + 1)];
        ms.push(f64::from_bits(1.0f64.to_bits() - 1));
        ms.push(f64::from_bits(hi.to_bits() - 1));
        let mut r = stream(3, Component::Arrivals);
        for _ in 0..1_000_000 {
            ms.push(lo + (hi - lo) * r.random::<f64>());
        }
        for m in ms {
            assert_eq!(
                atanh_series(m).to_bits(),
                atanh_series_full(m).to_bits(),
                "m = {m}"
            );
        }
        // Non-vacuity: the terms skipped are not all exactly zero (the stop matters).
        let z: f64 = (hi - 1.0) / (hi + 1.0);
        assert!(z.powi(59) / 59.0 > 0.0);
    }

    /// The draw through the platform's logarithm and its guard is the one made with
    /// `ln` alone, on a million draws at several means and on draws placed at a tie;
    /// both paths are taken.
    #[test]
    fn exponential_matches_the_exact_draw() {
        let mut r = stream(5, Component::Arrivals);
        let mut exact_taken = 0u32;
        for &mean in &[0.5, 1.0, 20.0, 357.0, 1000.0, 123_456.7, 1e9, 1e15, 1e300] {
            for _ in 0..120_000 {
                let mut probe = r.clone();
                let got = exponential(&mut r, mean);
                let u: f64 = probe.random::<f64>();
                assert_eq!(got, exponential_exact(1.0 - u, mean), "u {u}, mean {mean}");
            }
        }
        // Draws placed at a tie: -ln(v) × mean = k + 0.5 (up to rounding) when
        // mean = (k + 0.5) / -ln(v); the guard sends them to the exact path.
        for k in 0..2000u32 {
            let v = 0.25 + f64::from(k) / 4000.0;
            let mean = (f64::from(k) + 0.5) / -v.ln();
            let fast = -v.ln() * mean;
            if (fast - fast.floor() - 0.5).abs() <= EXPONENTIAL_TIE_GUARD * fast.max(1.0) {
                exact_taken += 1;
            }
            assert_eq!(exponential_of(v, mean), exponential_exact(v, mean), "v {v}");
        }
        assert!(
            exact_taken > 1000,
            "ties reached the exact path {exact_taken} times"
        );
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
