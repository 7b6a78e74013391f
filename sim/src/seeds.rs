//! A set of seeds as a sweep file gives it, in three forms: a list (`[1, 2, 3]`), an
//! inclusive range (`"1..=30"`), or `{ count = 30, first = 1 }` (first defaults to 1).
//! The one parser: the command line's sweep file and the shipped-scenario tests use it.

use serde::de::{self, Deserializer};
use serde::Deserialize;

/// Seeds a sweep may list at most.
pub const SEEDS_MAX: u64 = 100_000;

/// The largest seed, 2^63 − 1: what `owm run --seed` and a run file's `seed` (a TOML
/// integer) take, so every grid point of a sweep can be run again alone.
pub const SEED_MAX: u64 = i64::MAX as u64;

/// What the three forms read as, before the checks common to all.
enum Form {
    List(Vec<u64>),
    Range(String),
    Count { count: u64, first: u64 },
}

/// Reads a [`Form`], naming what is expected when the value is none of them (serde's
/// untagged enums say only that no variant matched).
struct FormVisitor;

const EXPECTED: &str =
    "seeds as a list `[1, 2, 3]`, a range `\"1..=30\"` or `{ count = 30, first = 1 }`";

impl<'de> de::Visitor<'de> for FormVisitor {
    type Value = Form;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(EXPECTED)
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Form, E> {
        Ok(Form::Range(s.to_string()))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Form, A::Error> {
        let mut list = Vec::new();
        loop {
            match seq.next_element::<Seed>() {
                Ok(Some(Seed(seed))) => list.push(seed),
                Ok(None) => return Ok(Form::List(list)),
                Err(e) => {
                    return Err(de::Error::custom(format!(
                        "the list's item {}: {}",
                        list.len() + 1,
                        e.to_string().trim_end()
                    )))
                }
            }
        }
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Form, A::Error> {
        let (mut count, mut first) = (None, None);
        while let Some(key) = map.next_key::<String>()? {
            let slot = match key.as_str() {
                "count" => &mut count,
                "first" => &mut first,
                _ => return Err(de::Error::unknown_field(&key, &["count", "first"])),
            };
            if slot.is_some() {
                return Err(de::Error::custom(format!("`{key}` given twice")));
            }
            *slot = Some(match key.as_str() {
                "count" => map.next_value::<Count>()?.0,
                _ => map.next_value::<First>()?.0,
            });
        }
        Ok(Form::Count {
            count: count.ok_or_else(|| de::Error::missing_field("count"))?,
            first: first.unwrap_or(1),
        })
    }
}

impl<'de> Deserialize<'de> for Form {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FormVisitor)
    }
}

/// A listed seed, read as the TOML integer it is, so a negative one is said with the
/// seeds' range: `-1 is out of range: must be 0 or more (0 to 9223372036854775807)`.
struct Seed(u64);

impl<'de> Deserialize<'de> for Seed {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        not_negative(d, &format!("0 to {SEED_MAX}")).map(Seed)
    }
}

/// A TOML integer of 0 or more; a negative one refused as `-1 is out of range: must be
/// 0 or more (RANGE)`.
fn not_negative<'de, D: Deserializer<'de>>(d: D, range: &str) -> Result<u64, D::Error> {
    let v = i64::deserialize(d)?;
    u64::try_from(v)
        .map_err(|_| de::Error::custom(format!("{v} is out of range: must be 0 or more ({range})")))
}

/// The count of `{ count, first }`: 1 or more, at most [`SEEDS_MAX`] (fewer where the
/// sweep's grid or memory bound refuses that many, which is not known here).
struct Count(u64);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = i64::deserialize(d)?;
        match u64::try_from(v) {
            Ok(n) if (1..=SEEDS_MAX).contains(&n) => Ok(Count(n)),
            _ if v > 0 => Err(de::Error::custom(format!(
                "{v} is out of range: must be at most {SEEDS_MAX} (the most seeds a sweep \
                 takes; its grid's size and the memory bound may allow fewer)"
            ))),
            _ => Err(de::Error::custom(format!(
                "{v} is out of range: must be at least 1"
            ))),
        }
    }
}

/// The first seed of `{ count, first }`: 0 or more, its range's end set by the count
/// (the last seed, first + count - 1, at most [`SEED_MAX`]).
struct First(u64);

impl<'de> Deserialize<'de> for First {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        not_negative(
            d,
            &format!("the last seed, first + count - 1, at most {SEED_MAX}"),
        )
        .map(First)
    }
}

/// Parses `"A..=B"` (A ≤ B) into its seeds.
pub fn parse_range(s: &str) -> Result<Vec<u64>, String> {
    let bad = || format!("`{s}` is not a seed range like \"1..=30\"");
    let (a, b) = s.split_once("..=").ok_or_else(bad)?;
    let a: u64 = a.trim().parse().map_err(|_| bad())?;
    let b: u64 = b.trim().parse().map_err(|_| bad())?;
    if a > b {
        return Err(format!("`{s}`: the first seed is after the last"));
    }
    // The count of `0..=2^64-1` is 2^64, past u64: it is too many whatever the bound.
    match (b - a).checked_add(1) {
        Some(count) => counted(a, count),
        None => Err(format!(
            "`{s}` is {} seeds: at most {SEEDS_MAX}",
            u128::from(b - a) + 1
        )),
    }
}

fn counted(first: u64, count: u64) -> Result<Vec<u64>, String> {
    if count > SEEDS_MAX {
        return Err(format!("{count} seeds: at most {SEEDS_MAX}"));
    }
    let last = first
        .checked_add(count.saturating_sub(1))
        .ok_or("the seeds pass 2^64")?;
    Ok((first..=last).take(count as usize).collect())
}

/// Seeds in any of the three forms, as a value of their own (e.g.
/// `toml::Value::try_into::<Seeds>()`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seeds(pub Vec<u64>);

impl<'de> Deserialize<'de> for Seeds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize(d).map(Seeds)
    }
}

/// `#[serde(deserialize_with = "sim::seeds::deserialize")]` for a `Vec<u64>`: a list,
/// `"A..=B"` or `{ count, first }`; a seed listed twice, a seed above [`SEED_MAX`] and
/// more than [`SEEDS_MAX`] seeds are errors.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
    match Form::deserialize(d)? {
        Form::List(v) => Ok(v),
        Form::Range(s) => parse_range(&s).map_err(de::Error::custom),
        Form::Count { count, first } => counted(first, count).map_err(de::Error::custom),
    }
    .and_then(|v| {
        if let Some(past) = v.iter().find(|s| **s > SEED_MAX) {
            return Err(de::Error::custom(format!(
                "seed {past} is past 2^63 - 1: a seed is in 0..={SEED_MAX}, what `owm run \
                 --seed` and a run file's `seed` take, so that every grid point can be \
                 run again alone"
            )));
        }
        let mut sorted = v.clone();
        sorted.sort_unstable();
        match sorted.windows(2).find(|w| w[0] == w[1]) {
            Some(w) => Err(de::Error::custom(format!("seed {} is listed twice", w[0]))),
            None => Ok(v),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug)]
    struct F {
        #[serde(deserialize_with = "deserialize")]
        seeds: Vec<u64>,
    }

    fn seeds(src: &str) -> Result<Vec<u64>, String> {
        toml::from_str::<F>(src)
            .map(|f| f.seeds)
            .map_err(|e| e.message().to_string())
    }

    #[test]
    fn the_three_forms() {
        assert_eq!(seeds("seeds = [3, 1]").unwrap(), [3, 1]);
        assert_eq!(
            seeds("seeds = \"1..=30\"").unwrap(),
            (1..=30).collect::<Vec<_>>()
        );
        assert_eq!(
            seeds("seeds = { count = 4, first = 10 }").unwrap(),
            [10, 11, 12, 13]
        );
        assert_eq!(seeds("seeds = { count = 2 }").unwrap(), [1, 2]);
        assert!(seeds("seeds = \"1..30\"").unwrap_err().contains("1..=30"));
        assert!(seeds("seeds = \"5..=1\"").is_err());
        assert!(seeds("seeds = [1, 1]").unwrap_err().contains("twice"));
        assert!(seeds("seeds = { count = 1000000 }")
            .unwrap_err()
            .contains("at most"));
    }

    /// A range of every seed (2^64 of them, one more than a u64 counts) is refused as too
    /// many, never as empty.
    #[test]
    fn a_range_of_every_seed_is_too_many() {
        let e = seeds("seeds = \"0..=18446744073709551615\"").unwrap_err();
        assert!(
            e.contains("18446744073709551616 seeds: at most 100000"),
            "{e}"
        );
        let e = seeds("seeds = \"1..=18446744073709551615\"").unwrap_err();
        assert!(
            e.contains("18446744073709551615 seeds: at most 100000"),
            "{e}"
        );
    }

    /// A count, a first seed and a listed seed outside their ranges are refused with
    /// ranges that hold: each end said passes, the value past it does not.
    #[test]
    fn a_count_or_seed_out_of_range_is_said_with_a_range_that_holds() {
        for (src, words) in [
            ("seeds = { count = -1 }", "-1 is out of range: must be at least 1"),
            ("seeds = { count = 0 }", "0 is out of range: must be at least 1"),
            (
                "seeds = { count = 100001 }",
                "100001 is out of range: must be at most 100000 (the most seeds a sweep takes",
            ),
            (
                "seeds = [4, -1]",
                "the list's item 2: -1 is out of range: must be 0 or more (0 to 9223372036854775807)",
            ),
            (
                "seeds = { count = 2, first = -3 }",
                "-3 is out of range: must be 0 or more (the last seed",
            ),
        ] {
            let e = seeds(src).unwrap_err();
            assert!(e.starts_with(words), "{src}: {e}");
        }
        assert_eq!(seeds("seeds = { count = 1 }").unwrap().len(), 1);
        assert_eq!(seeds("seeds = { count = 100000 }").unwrap().len(), 100_000);
        assert_eq!(seeds("seeds = [0, 9223372036854775807]").unwrap().len(), 2);
        assert_eq!(seeds("seeds = { count = 1, first = 0 }").unwrap(), [0]);
    }

    /// Seeds up to 2^63 − 1 are taken in every form; past it, refused with the range.
    #[test]
    fn seeds_stop_at_what_a_run_takes() {
        let max = SEED_MAX;
        assert_eq!(
            seeds(&format!("seeds = \"{}..=9223372036854775807\"", max - 1)).unwrap(),
            [max - 1, max]
        );
        assert_eq!(
            seeds(&format!("seeds = {{ count = 2, first = {} }}", max - 1)).unwrap(),
            [max - 1, max]
        );
        assert_eq!(seeds(&format!("seeds = [{max}]")).unwrap(), [max]);
        for src in [
            "seeds = \"9223372036854775807..=9223372036854775808\"",
            "seeds = \"18446744073709551614..=18446744073709551615\"",
            "seeds = { count = 2, first = 9223372036854775807 }",
        ] {
            let e = seeds(src).unwrap_err();
            assert!(e.contains("is past 2^63 - 1"), "{src}: {e}");
            assert!(e.contains("0..=9223372036854775807"), "{src}: {e}");
        }
    }

    /// Each malformed form is refused with what was wrong and what is expected, never
    /// an internal type name.
    #[test]
    fn a_malformed_form_says_what_is_expected() {
        for (src, says) in [
            ("seeds = 5", "expected seeds as a list `[1, 2, 3]`"),
            ("seeds = true", "expected seeds as a list"),
            ("seeds = { first = 2 }", "missing field `count`"),
            (
                "seeds = { count = 2, extra = 3 }",
                "unknown field `extra`, expected",
            ),
            (
                "seeds = { count = -2 }",
                "-2 is out of range: must be at least 1",
            ),
            ("seeds = [-1]", "the list's item 1"),
            ("seeds = [1, 1.5]", "the list's item 2"),
        ] {
            let e = seeds(src).unwrap_err();
            assert!(e.contains(says), "{src}: {e}");
            assert!(!e.contains("untagged") && !e.contains("Form"), "{src}: {e}");
        }
    }
}
