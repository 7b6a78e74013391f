//! Symmetry reduction (`--symmetry on`): on configurations whose transactions are
//! interchangeable it explores strictly fewer states and gives every property the
//! same verdict as the full search, in every variant, with both lock kinds and both
//! read-modify-writes; its counterexamples are real paths that replay.

use model::{check, replay, CheckConfig, Outcome, Strategy};

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
