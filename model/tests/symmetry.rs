//! Symmetry reduction (`--symmetry on`): on configurations whose transactions are
//! interchangeable it explores strictly fewer states and gives every property the
//! same verdict as the full search, in every variant, with both lock kinds and both
//! read-modify-writes; its counterexamples are real paths that replay.

use model::{check, replay, CheckConfig, Outcome, Strategy};

mod readme_table;

fn cfg(flags: &str, symmetry: bool) -> CheckConfig {
    let mut c = CheckConfig::from_model_flags(flags).expect("flags");
    c.threads = 1;
    c.strategy = Strategy::Dfs;
    c.symmetry = symmetry;
    c
}

/// Each property's verdict, without its trace (depth first meets different paths).
fn verdicts(r: &model::CheckReport) -> Vec<(&'static str, &'static str)> {
    r.properties
        .iter()
        .map(|p| {
            let v = match p.outcome {
                Outcome::Held => "held",
                Outcome::Violated { .. } => "violated",
                Outcome::Reached => "reached",
                Outcome::NotReached => "not reached",
                Outcome::NotWitnessed { .. } => "not witnessed",
            };
            (p.name, v)
        })
        .collect()
}

/// (model flags, unique states without and with symmetry reduction).
const PINNED: &[(&str, usize, usize)] = &[
    // The default configuration with equal transfers: two classes of two.
    ("--old 2 --new 2 --amounts equal --transfers same", 6789, 2061),
    // Three interchangeable old transactions: up to 3! = 6 renamings of a state.
    (
        "--old 3 --new 1 --amounts equal --transfers same --aborts off",
        391,
        69,
    ),
    (
        "--old 2 --new 2 --amounts equal --transfers same --locks record --records-per-block 2 --discipline incremental --aborts off",
        20388,
        5139,
    ),
];

#[test]
fn symmetry_keeps_every_verdict_and_explores_fewer_states() {
    let mut violated = 0;
    let mut held = 0;
    for variant in ["cow", "mirroring", "logging"] {
        for locks in ["--locks block", "--locks record --records-per-block 2"] {
            for rmw in ["atomic", "split"] {
                for discipline in ["conservative", "incremental"] {
                    let flags = format!(
                        "--variant {variant} --old 2 --new 2 --amounts equal --transfers same \
                         {locks} --rmw {rmw} --discipline {discipline}"
                    );
                    let full = check(&cfg(&flags, false)).expect("check");
                    let reduced = check(&cfg(&flags, true)).expect("check");
                    assert_eq!(verdicts(&full), verdicts(&reduced), "{flags}");
                    assert!(
                        reduced.unique_states < full.unique_states,
                        "{flags}: {} with symmetry, {} without",
                        reduced.unique_states,
                        full.unique_states
                    );
                    if reduced.violated().is_empty() {
                        held += 1;
                    } else {
                        violated += 1;
                    }
                    // Every counterexample of the reduced search is a real path.
                    for (name, trace) in reduced.counterexamples() {
                        let r = replay(trace).expect("the trace replays");
                        assert_eq!(r.violation.invariant.as_str(), name, "{flags}");
                    }
                }
            }
        }
    }
    // Both kinds of verdict were compared.
    assert!(violated > 0 && held > 0, "{violated} violated, {held} held");
}

#[test]
fn reduced_counts_are_pinned() {
    let got: Vec<(&str, usize, usize)> = PINNED
        .iter()
        .map(|&(flags, _, _)| {
            let f = check(&cfg(flags, false)).expect("check").unique_states;
            let r = check(&cfg(flags, true)).expect("check").unique_states;
            (flags, f, r)
        })
        .collect();
    assert_eq!(got, PINNED);
}

/// Nothing is interchangeable with distinct amounts (the default): symmetry on
/// explores exactly the states of the full search.
#[test]
fn distinct_transactions_are_not_reduced() {
    let flags = "--old 2 --new 1";
    let f = check(&cfg(flags, false)).expect("check").unique_states;
    let r = check(&cfg(flags, true)).expect("check").unique_states;
    assert_eq!(f, r);
}

/// A row of [`README_SYMMETRY_ROWS`]: model flags, per variant (unique states without,
/// with the reduction), the invariants violated.
type SymmetryRow = (&'static str, [(usize, usize); 3], &'static [&'static str]);

/// The README's `--symmetry on` table ("Which configurations hold"), row by row: the
/// model flags besides `--amounts equal --transfers same`, the unique states of cow,
/// mirroring and logging without and with the reduction, and the invariants violated
/// (the same both ways, in every variant).
const README_SYMMETRY_ROWS: &[SymmetryRow] = &[
    (
        "--old 2 --new 2",
        [(6_789, 2_061), (4_857, 1_485), (8_385, 2_541)],
        &[],
    ),
    (
        "--old 2 --new 2 --records-per-block 2 --locks record --discipline incremental --aborts off",
        [(20_388, 5_139), (14_156, 3_581), (20_736, 5_226)],
        VIOLATED,
    ),
    (
        "--old 3 --new 3",
        [(410_805, 17_578), (276_741, 12_034), (599_357, 25_348)],
        &[],
    ),
    (
        "--old 3 --new 3 --discipline incremental",
        [(2_939_189, 105_113), (2_176_034, 76_910), (3_469_306, 125_188)],
        VIOLATED,
    ),
];

const VIOLATED: &[&str] = &["B-complete", "bank-conserved"];
const VARIANTS: [&str; 3] = ["cow", "mirroring", "logging"];

/// The README's table is [`README_SYMMETRY_ROWS`], written out: a count changed in one
/// and not the other fails here.
#[test]
fn readme_symmetry_table_is_the_pinned_rows() {
    let rows = readme_table::rows(
        "| `--amounts equal --transfers same` with | cow | mirroring | logging | result |",
    );
    let expected: Vec<String> = README_SYMMETRY_ROWS
        .iter()
        .map(|(flags, counts, violated)| {
            let counts: Vec<String> = counts
                .iter()
                .map(|&(off, on)| {
                    format!(
                        "{} → {}",
                        readme_table::grouped(off),
                        readme_table::grouped(on)
                    )
                })
                .collect();
            let result = readme_table::result(violated);
            format!("| `{flags}` | {} | {result} |", counts.join(" | "))
        })
        .collect();
    assert_eq!(rows, expected);
}

/// Each row of [`README_SYMMETRY_ROWS`] is what a check finds: the reduced count and the
/// verdicts in every variant, and the full count where it is below 100,000 states (the
/// larger ones: `readme_symmetry_rows_full_counts`).
#[test]
fn readme_symmetry_rows_are_what_a_check_finds() {
    let mut full_checked = 0;
    for &(flags, counts, violated) in README_SYMMETRY_ROWS {
        for (variant, (off, on)) in VARIANTS.into_iter().zip(counts) {
            let flags = format!("--variant {variant} --amounts equal --transfers same {flags}");
            let reduced = check(&cfg(&flags, true)).expect("check");
            assert!(reduced.complete(), "{flags}");
            assert_eq!(reduced.unique_states, on, "{flags}");
            assert_eq!(reduced.violated(), violated, "{flags}");
            if off < 100_000 {
                let full = check(&cfg(&flags, false)).expect("check");
                assert_eq!(full.unique_states, off, "{flags}");
                assert_eq!(full.violated(), violated, "{flags}");
                full_checked += 1;
            }
        }
    }
    assert_eq!(full_checked, 6, "the two 2+2 rows, three variants each");
}

/// The full counts of the README's larger symmetry rows (2.2-3.5 M states depth first).
#[test]
#[ignore = "3+3 without reduction, 9.9 M states in all: run with --ignored --release"]
fn readme_symmetry_rows_full_counts() {
    for &(flags, counts, violated) in README_SYMMETRY_ROWS {
        for (variant, (off, _)) in VARIANTS.into_iter().zip(counts) {
            if off < 100_000 {
                continue;
            }
            let flags = format!("--variant {variant} --amounts equal --transfers same {flags}");
            let full = check(&cfg(&flags, false)).expect("check");
            assert_eq!(full.unique_states, off, "{flags}");
            assert_eq!(full.violated(), violated, "{flags}");
        }
    }
}
