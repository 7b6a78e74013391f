//! Recorded time and arrival ticks: the one rule every trace format's times go by.
//!
//! A parser keeps each I/O's recorded time at its format's own resolution, as a whole
//! number of nanoseconds ([`recorded_ns`]: the MSR CSV's 100 ns units × 100,
//! blkparse's `seconds.nanoseconds` as they are, fio's and the plain CSV's µs × 1000),
//! so no recorded time is cut before it is scaled. [`parse`](super::parse) makes the
//! times relative to the trace's first I/O, and the mapping turns each into ticks once,
//! by [`TimeScale::ticks`]:
//!
//! ```text
//! arrival ticks = round((t − t0) in µs × time_scale)
//! ```
//!
//! computed exactly (no floating point), `time_scale` taken as the decimal it is
//! written as (`0.3` is 3/10, not the binary fraction nearest it: the shortest decimal
//! that reads back as the same number), and a half rounded up (1.5 → 2).

use std::path::Path;

use super::TraceError;
use crate::clock::Tick;
use crate::scenario::FIELD_TICKS_MAX;

/// Nanoseconds per µs (per tick of a replay at `time_scale = 1`).
pub const NS_PER_US: u64 = 1000;

/// A recorded time of `value` units of `ns_per_unit` nanoseconds each (`what` names
/// the field in the error), as nanoseconds: refused at `line` when that passes
/// 2^64 − 1 ns (about 584 years).
pub fn recorded_ns(
    path: &Path,
    line: u64,
    what: &str,
    value: u64,
    ns_per_unit: u64,
) -> Result<u64, TraceError> {
    value.checked_mul(ns_per_unit).ok_or_else(|| {
        TraceError::at(
            path,
            line,
            format!(
                "{what} {value} is {} ns, past {} ns (about 584 years), the longest time a \
                 trace records",
                value as u128 * ns_per_unit as u128,
                u64::MAX
            ),
        )
    })
}

/// `ns` as µs in decimal, with as many decimals as it needs (`1500` → `1.5`,
/// `10000` → `10`).
pub fn us_text(ns: u64) -> String {
    let (us, rest) = (ns / NS_PER_US, ns % NS_PER_US);
    if rest == 0 {
        us.to_string()
    } else {
        format!("{us}.{}", format!("{rest:03}").trim_end_matches('0'))
    }
}

/// A `time_scale` as the exact decimal it is written as: `digits` × 10^`exponent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeScale {
    digits: u64,
    exponent: i32,
}

impl TimeScale {
    /// `time_scale` (finite and at least 0, as `workload.time_scale` is validated) as
    /// the shortest decimal that reads back as it. `None` for a negative or non-finite
    /// value.
    pub fn new(time_scale: f64) -> Option<Self> {
        if !time_scale.is_finite() || time_scale < 0.0 {
            return None;
        }
        // -0 is 0 (it passes `>= 0`, and a scale of it is no time): its text, `-0e0`,
        // has a sign no digits parse.
        let time_scale = if time_scale == 0.0 { 0.0 } else { time_scale };
        // `{:e}` writes the shortest digits that read back as the number: `5e-2`,
        // `1.5e1`, `0e0`, at most 17 significant digits.
        let text = format!("{time_scale:e}");
        let (mantissa, exponent) = text.split_once('e')?;
        let exponent: i32 = exponent.parse().ok()?;
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let digits: u64 = format!("{whole}{fraction}").parse().ok()?;
        Some(TimeScale {
            digits,
            exponent: exponent - fraction.len() as i32,
        })
    }

    /// Arrival ticks of an I/O recorded `elapsed_ns` after the trace's first:
    /// round(`elapsed_ns` / 1000 × the scale), a half rounded up, exact. `None` when
    /// that passes [`FIELD_TICKS_MAX`].
    pub fn ticks(self, elapsed_ns: u64) -> Option<Tick> {
        // elapsed_ns × digits < 2^64 × 10^17 < 2^121: exact in u128.
        let product = elapsed_ns as u128 * self.digits as u128;
        if product == 0 {
            return Some(0);
        }
        // The value is product × 10^(exponent − 3) (ns to µs).
        let shift = self.exponent - 3;
        let ticks = if shift >= 0 {
            // Past u128, past 2^40 ticks: product is at least 1.
            10u128
                .checked_pow(shift as u32)
                .and_then(|p| product.checked_mul(p))?
        } else {
            // product < 2^121 < 10^37: divided by 10^38 or more, it is below 0.03.
            let Some(den) = 10u128.checked_pow(shift.unsigned_abs()) else {
                return Some(0);
            };
            let (q, r) = (product / den, product % den);
            q + u128::from(r >= den - r)
        };
        (ticks <= FIELD_TICKS_MAX as u128).then_some(ticks as Tick)
    }
}

#[cfg(test)]
mod tests {
    use super::{us_text, TimeScale};

    #[test]
    fn a_scale_reads_as_its_decimal() {
        let s = |x: f64| TimeScale::new(x).unwrap();
        assert_eq!(
            s(0.05),
            TimeScale {
                digits: 5,
                exponent: -2
            }
        );
        assert_eq!(
            s(15.0),
            TimeScale {
                digits: 15,
                exponent: 0
            }
        );
        assert_eq!(s(0.0).ticks(u64::MAX), Some(0));
        // 5 µs × 0.3 = 1.5 exactly (the f64 nearest 0.3 is below it): rounded up.
        assert_eq!(s(0.3).ticks(5_000), Some(2));
        assert_eq!(s(0.3).ticks(4_999), Some(1));
        assert_eq!(s(10.0).ticks(1_500), Some(15));
        assert_eq!(s(10.0).ticks(1_449), Some(14));
        assert_eq!(s(10.0).ticks(1_450), Some(15));
        // Halves that floating point puts below the half: 1310.1 µs × 95 = 124459.5,
        // 4130.65 µs × 50 = 206532.5 (both read 0.5 less in f64).
        assert_eq!(s(95.0).ticks(1_310_100), Some(124_460));
        assert_eq!(s(50.0).ticks(4_130_650), Some(206_533));
        assert_eq!(s(1e-300).ticks(u64::MAX), Some(0));
        assert_eq!(s(1e300).ticks(1), None);
        assert_eq!(s(1e300).ticks(0), Some(0));
        assert_eq!(s(f64::MAX).ticks(0), Some(0));
        assert_eq!(s(1.0).ticks((1 << 40) * 1000), Some(1 << 40));
        assert_eq!(s(1.0).ticks((1 << 40) * 1000 + 500), None);
        assert_eq!(TimeScale::new(-1.0), None);
        assert_eq!(TimeScale::new(f64::NAN), None);
        // -0 passes `>= 0` as the scenario's check has it: it is 0.
        assert_eq!(TimeScale::new(-0.0), Some(s(0.0)));
    }

    #[test]
    fn ns_read_as_us() {
        assert_eq!(us_text(0), "0");
        assert_eq!(us_text(10_000), "10");
        assert_eq!(us_text(1_500), "1.5");
        assert_eq!(us_text(1_901), "1.901");
        assert_eq!(us_text(20), "0.02");
    }
}
