//! Numbers as messages and labels show them.

/// `x` as a person reads it: the shortest text that reads back as `x` (`0.05`, `1000`),
/// in exponent form (`1e300`, `2.5e-7`) where that text would run to 16 digits or more.
pub fn float_text(x: f64) -> String {
    let a = x.abs();
    if a.is_finite() && a != 0.0 && !(1e-5..1e16).contains(&a) {
        format!("{x:e}")
    } else {
        x.to_string()
    }
}

/// `n` and its unit word, singular for one (`1 block`, `4 blocks`, `1 policy`,
/// `2 policies`): `many` is the plural, given whole (English has no one rule).
pub fn counted(n: impl Into<u128>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::{counted, float_text};

    #[test]
    fn one_of_a_unit_is_singular() {
        assert_eq!(counted(1u64, "block", "blocks"), "1 block");
        assert_eq!(counted(0u64, "block", "blocks"), "0 blocks");
        assert_eq!(counted(2u32, "policy", "policies"), "2 policies");
    }

    #[test]
    fn huge_and_tiny_floats_read_in_exponent_form_the_rest_as_written() {
        assert_eq!(float_text(1e300), "1e300");
        assert_eq!(float_text(-1e300), "-1e300");
        assert_eq!(float_text(2.5e-7), "2.5e-7");
        assert_eq!(float_text(1e16), "1e16");
        assert_eq!(float_text(0.05), "0.05");
        assert_eq!(float_text(1000.0), "1000");
        assert_eq!(float_text(1e15), "1000000000000000");
        assert_eq!(float_text(0.0), "0");
        assert_eq!(float_text(f64::INFINITY), "inf");
        // Every text reads back as the number.
        for x in [1e300, 2.5e-7, 0.05, 123.456, 1e-5, 9.999e15] {
            assert_eq!(float_text(x).parse::<f64>().unwrap(), x);
        }
    }
}
