//! Fuzzing the scenario parser and the simulator behind it (issue 8), proptest-driven
//! so it runs in plain `cargo test`: random and mutated TOML goes through
//! `toml::from_str::<Scenario>`, `Scenario::validate` and, when it validates and is
//! small, `sim::run`. Errors are fine; a panic (or a hang) is a bug.
//!
//! Bounded in the default run (`FUZZ_CASES` cases per target, seed `FUZZ_SEED`, default
//! 0); the long run: `cargo test --release -p owm-sim fuzz -- --ignored` (`LONG_CASES`
//! per target); any count and seed: `PROPTEST_CASES=N FUZZ_SEED=S cargo test --release
//! -p owm-sim fuzz -- --include-ignored`.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use sim::{Policy, Scenario, WorkloadConfig};

use super::faults::draw_faults;
use super::swarm::draw;

/// Cases per target in the default `cargo test`.
const FUZZ_CASES: u32 = 400;
/// Cases per target behind `--ignored`.
const LONG_CASES: u32 = 50_000;

/// The shipped scenario files: realistic starting points for mutation.
const SHIPPED: [&str; 5] = [
    include_str!("../../../scenarios/fig3.toml"),
    include_str!("../../../scenarios/fig4-5.toml"),
    include_str!("../../../scenarios/bank.toml"),
    include_str!("../../../scenarios/generated.toml"),
    include_str!("../../../scenarios/detach.toml"),
];

/// Values that probe the edges of every field's type.
fn interesting() -> impl Strategy<Value = toml::Value> {
    use toml::Value as V;
    prop_oneof![
        Just(V::Integer(0)),
        Just(V::Integer(1)),
        Just(V::Integer(-1)),
        Just(V::Integer(i64::MAX)),
        Just(V::Integer(i64::MIN)),
        Just(V::Integer(u32::MAX as i64 + 1)),
        (0i64..5000).prop_map(V::Integer),
        Just(V::Float(f64::NAN)),
        Just(V::Float(f64::INFINITY)),
        Just(V::Float(-0.5)),
        Just(V::Float(1.5)),
        Just(V::Float(1e300)),
        (0.0f64..1.0).prop_map(V::Float),
        Just(V::Boolean(true)),
        Just(V::String(String::new())),
        Just(V::String("cow".into())),
        Just(V::String("generated".into())),
        Just(V::String("zipf".into())),
        Just(V::Array(vec![])),
        Just(V::Array(vec![V::Integer(3), V::Integer(1)])),
        Just(V::Table(Default::default())),
    ]
}

/// Every leaf of a TOML value, as a path of keys / indices.
fn leaves(v: &toml::Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                path.push(k.clone());
                leaves(v, path, out);
                path.pop();
            }
        }
        _ => out.push(path.clone()),
    }
}

fn set(v: &mut toml::Value, path: &[String], new: toml::Value) {
    match (path.split_first(), v) {
        (None, v) => *v = new,
        (Some((k, rest)), toml::Value::Table(t)) => {
            if let Some(child) = t.get_mut(k) {
                set(child, rest, new);
            }
        }
        _ => {}
    }
}

/// Makes a scenario that validated cheap to run: tight limits, and only sizes the
/// simulator allocates up front within bounds (else it is skipped: not run).
fn small(mut s: Scenario) -> Option<Scenario> {
    s.limits.events_max = s.limits.events_max.min(100_000);
    s.limits.attempts_max = s.limits.attempts_max.min(5_000);
    s.limits.volume_bytes_max = s.limits.volume_bytes_max.min(1 << 20);
    s.limits.time_ticks_max = s.limits.time_ticks_max.min(1 << 40);
    let ok = match &s.workload {
        WorkloadConfig::Fig3(c) => c.updates_max <= 64,
        WorkloadConfig::Fig45(c) => {
            c.transactions <= 2000 && c.processes <= 64 && c.updates_max <= 64
        }
        WorkloadConfig::Bank(c) => c.transactions <= 2000,
        WorkloadConfig::Generated(c) => {
            let clients = match c.arrivals {
                sim::Arrivals::Closed { clients, .. } => u64::from(clients),
                _ => 0,
            };
            c.transactions <= 2000 && c.length_max <= 64 && clients <= 64
        }
        // A trace names a file: nothing the fuzzer's text can load.
        WorkloadConfig::Trace(_) => false,
    };
    (ok && s.validate().is_ok()).then_some(s)
}

/// Parse, validate, and (when small) run under every policy: must not panic.
fn exercise(text: &str) -> Result<(), TestCaseError> {
    let Ok(s) = toml::from_str::<Scenario>(text) else {
        return Ok(());
    };
    if s.validate().is_err() {
        return Ok(());
    }
    if let Some(s) = small(s) {
        for policy in Policy::ALL {
            let _ = sim::run(&s, policy, 7);
        }
    }
    Ok(())
}

fn runner(cases: u32) -> TestRunner {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(cases);
    // A fixed seed (FUZZ_SEED, default 0): CI sees the same cases every run, and a
    // failure names the value that reproduces it.
    let seed = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(seed),
        ..Config::default()
    })
}

/// A valid scenario (shipped file, or a swarm draw with faults) with one to four
/// leaves replaced by edge values: reaches validation and the run.
fn fuzz_values(cases: u32) {
    let base = (0usize..SHIPPED.len() + 1, 0u64..10_000);
    let edits = prop::collection::vec((any::<prop::sample::Index>(), interesting()), 1..5);
    runner(cases)
        .run(&(base, edits), |((file, seed), edits)| {
            let mut v: toml::Value = if file < SHIPPED.len() {
                toml::from_str(SHIPPED[file]).expect("shipped files parse")
            } else {
                let (mut s, _) = draw(seed);
                draw_faults(seed, &mut s);
                toml::Value::try_from(&s).expect("a scenario serializes")
            };
            if let toml::Value::Table(t) = &mut v {
                t.remove("policies"); // CLI keys, not scenario fields
                t.remove("seed");
            }
            for (at, new) in edits {
                let mut all = Vec::new();
                leaves(&v, &mut Vec::new(), &mut all);
                if all.is_empty() {
                    break;
                }
                let path = all[at.index(all.len())].clone();
                set(&mut v, &path, new);
            }
            let Ok(text) = toml::to_string(&v) else {
                return Ok(());
            };
            exercise(&text)
        })
        .unwrap();
}

/// Raw text mutations of the shipped files: byte flips, cuts, insertions of TOML
/// punctuation: the parser must refuse or accept, never panic.
fn fuzz_text(cases: u32) {
    let ops = prop::collection::vec(
        (
            0u8..4,
            any::<prop::sample::Index>(),
            prop::sample::select(vec![
                "[",
                "]",
                "=",
                "\"",
                "\n",
                "#",
                "[[faults]]",
                "[faults]\n",
                "crash_at_ticks = [",
                "9999999999999999999",
                "-",
                ".",
                "{",
                "}",
                ",",
                "nan",
                "\u{feff}",
                "\\u0000",
            ]),
        ),
        1..6,
    );
    runner(cases)
        .run(&(0usize..SHIPPED.len(), ops), |(file, ops)| {
            let mut text = SHIPPED[file].to_string();
            for (op, at, piece) in ops {
                let mut i = at.index(text.len() + 1);
                while !text.is_char_boundary(i) {
                    i -= 1;
                }
                match op {
                    0 => text.insert_str(i, piece),
                    1 => {
                        let mut j = (i + 1 + piece.len()).min(text.len());
                        while !text.is_char_boundary(j) {
                            j -= 1;
                        }
                        text.replace_range(i..j.max(i), "");
                    }
                    2 => text.truncate(i),
                    _ => {
                        let line = text[i..].lines().next().unwrap_or("").to_string();
                        text.insert_str(i, &format!("{line}\n"));
                    }
                }
            }
            if let Some(start) = text.find("\n[") {
                // Drop the CLI keys at the top: they are not scenario fields.
                text = text[start..].to_string();
            }
            exercise(&text)
        })
        .unwrap();
}

#[test]
fn fuzz_scenario_values_never_panic() {
    fuzz_values(FUZZ_CASES);
}

#[test]
fn fuzz_scenario_text_never_panics() {
    fuzz_text(FUZZ_CASES);
}

#[test]
#[ignore = "long fuzz run: cargo test --release -p owm-sim fuzz -- --ignored"]
fn fuzz_scenario_values_long() {
    fuzz_values(LONG_CASES);
}

#[test]
#[ignore = "long fuzz run: cargo test --release -p owm-sim fuzz -- --ignored"]
fn fuzz_scenario_text_long() {
    fuzz_text(LONG_CASES);
}
