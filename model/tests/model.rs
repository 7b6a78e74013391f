//! The model's pinned results: the explored state count of each small configuration
//! (a change in the model's size is a visible, reviewed event), the held/violated
//! verdict of each documented configuration, and the checked-in counterexamples.

use std::path::PathBuf;

use model::{check, replay, CheckConfig, Outcome, Trace};

mod readme_table;

/// (model flags, unique states, violated invariants). Every configuration not listed as
/// violating holds every invariant and reaches every `sometimes` witness.
const PINNED: &[(&str, usize, &[&str])] = &[
    // The default `owm check` (two old, two new, aborts) and smaller cousins:
    // conservative 2PL with block locks holds in every variant.
    ("--variant cow", 6789, &[]),
    ("--variant mirroring", 4857, &[]),
    ("--variant logging", 8385, &[]),
    ("--variant cow --old 2 --new 1 --aborts off", 125, &[]),
    ("--variant mirroring --old 2 --new 1 --aborts off", 111, &[]),
    ("--variant logging --old 2 --new 1 --aborts off", 125, &[]),
    ("--variant cow --old 1 --new 2 --aborts off", 237, &[]),
    // Aborts write before-images back through the same VLUN: still consistent.
    ("--variant cow --old 2 --new 1 --aborts on", 905, &[]),
    ("--variant mirroring --old 1 --new 1 --aborts on", 148, &[]),
    ("--variant logging --old 1 --new 1 --aborts on", 199, &[]),
    // Record locks on records sharing a block: an old transaction's read-modify-write
    // through VLUN A carries A's stale copy of the neighbour record onto B.
    (
        "--variant cow --old 1 --new 1 --records-per-block 2 --locks record --aborts off",
        169,
        &["B-complete", "bank-conserved"],
    ),
    (
        "--variant mirroring --old 1 --new 1 --records-per-block 2 --locks record --aborts off",
        141,
        &["B-complete", "bank-conserved"],
    ),
    (
        "--variant logging --old 1 --new 1 --records-per-block 2 --locks record --aborts off",
        169,
        &["B-complete", "bank-conserved"],
    ),
    // ... type (b) locks on the old transactions' blocks close that hole,
    (
        "--variant cow --old 1 --new 1 --records-per-block 2 --locks record --type-b on --aborts off",
        59,
        &[],
    ),
    // ... and so do block locks.
    (
        "--variant cow --old 1 --new 1 --records-per-block 2 --locks block --aborts off",
        57,
        &[],
    ),
    // Incremental 2PL: a new transaction may update a record before an old one locks
    // and reads it through VLUN A; the old one's stale write is mirrored onto B.
    (
        "--variant cow --old 1 --new 1 --discipline incremental --aborts off",
        85,
        &["B-complete"],
    ),
    (
        "--variant mirroring --old 1 --new 1 --discipline incremental --aborts off",
        78,
        &["B-complete"],
    ),
    (
        "--variant logging --old 1 --new 1 --discipline incremental --aborts off",
        85,
        &["B-complete"],
    ),
    (
        "--variant cow --old 1 --new 1 --discipline incremental --type-b on --aborts off",
        69,
        &[],
    ),
    (
        "--variant cow --old 2 --new 1 --discipline incremental --type-b on --aborts on",
        1068,
        &[],
    ),
    // `--rmw split`: a record write reads its block in one step and writes it back in a
    // later one. The verdicts are those of the atomic read-modify-write in every
    // variant (the workload's transactions of one role use the same records, so their
    // record locks already serialise them; the old/new hole through shared blocks is
    // the one record locks show anyway, and type (b) locks still close it).
    (
        "--variant cow --old 1 --new 1 --records-per-block 2 --locks record --aborts off --rmw split",
        359,
        &["B-complete", "bank-conserved"],
    ),
    (
        "--variant cow --old 1 --new 1 --records-per-block 2 --locks record --type-b on --aborts off --rmw split",
        74,
        &[],
    ),
    ("--variant cow --old 2 --new 1 --aborts on --rmw split", 1870, &[]),
    (
        "--variant cow --old 1 --new 1 --discipline incremental --aborts off --rmw split",
        104,
        &["B-complete"],
    ),
    (
        "--variant mirroring --old 1 --new 1 --records-per-block 2 --locks record --aborts off --rmw split",
        311,
        &["B-complete", "bank-conserved"],
    ),
    (
        "--variant mirroring --old 1 --new 1 --records-per-block 2 --locks record --type-b on --aborts off --rmw split",
        66,
        &[],
    ),
    ("--variant mirroring --old 2 --new 1 --aborts on --rmw split", 1502, &[]),
    (
        "--variant mirroring --old 1 --new 1 --discipline incremental --aborts off --rmw split",
        96,
        &["B-complete"],
    ),
    (
        "--variant logging --old 1 --new 1 --records-per-block 2 --locks record --aborts off --rmw split",
        359,
        &["B-complete", "bank-conserved"],
    ),
    (
        "--variant logging --old 1 --new 1 --records-per-block 2 --locks record --type-b on --aborts off --rmw split",
        74,
        &[],
    ),
    ("--variant logging --old 2 --new 1 --aborts on --rmw split", 2008, &[]),
    (
        "--variant logging --old 1 --new 1 --discipline incremental --aborts off --rmw split",
        104,
        &["B-complete"],
    ),
    // Five transactions (beyond the four the model once capped at).
    ("--variant cow --old 3 --new 2 --aborts off", 1471, &[]),
    ("--variant mirroring --old 3 --new 2 --aborts off", 1183, &[]),
    ("--variant logging --old 3 --new 2 --aborts off", 1555, &[]),
];

fn cfg(flags: &str) -> CheckConfig {
    CheckConfig::from_model_flags(flags).expect("valid flags")
}

#[test]
fn pinned_state_counts_and_verdicts() {
    let mut wrong = Vec::new();
    for &(flags, states, violated) in PINNED {
        let r = check(&cfg(flags)).expect("check");
        let got: Vec<&str> = r.violated();
        let unreached: Vec<&str> = r
            .properties
            .iter()
            .filter(|p| p.outcome == Outcome::NotReached)
            .map(|p| p.name)
            .collect();
        if r.unique_states != states || got != violated || !unreached.is_empty() {
            wrong.push(format!(
                "    (\"{flags}\", {}, &{got:?}), // unreached: {unreached:?}",
                r.unique_states
            ));
        }
    }
    assert!(wrong.is_empty(), "results changed:\n{}", wrong.join("\n"));
}

fn expected_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/expected")
        .join(name)
}

/// Compares `actual` with the checked-in file `name`; `OWM_BLESS=1` rewrites the file
/// instead (then review the diff).
fn expect_file(name: &str, actual: &str) {
    let path = expected_path(name);
    if std::env::var_os("OWM_BLESS").is_some() {
        std::fs::write(&path, actual).expect("write expected file");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with OWM_BLESS=1 to create it)",
            path.display()
        )
    });
    assert_eq!(
        actual,
        expected,
        "{} differs (run with OWM_BLESS=1 to accept)",
        path.display()
    );
}

/// Checks `flags`, takes the counterexample for `invariant`, compares its rendering and
/// its trace file with the checked-in ones, then reloads the checked-in trace and
/// replays it against a fresh engine.
fn counterexample_is_pinned(flags: &str, invariant: &str, stem: &str) -> model::Replayed {
    let r = check(&cfg(flags)).expect("check");
    let Some(Outcome::Violated { trace, .. }) = r.outcome(invariant) else {
        panic!(
            "{invariant} should be violated under {flags}:\n{}",
            r.render()
        );
    };
    expect_file(
        &format!("{stem}.txt"),
        &model::render(trace).expect("render"),
    );
    expect_file(&format!("{stem}.trace"), &trace.to_text());
    let text = std::fs::read_to_string(expected_path(&format!("{stem}.trace"))).unwrap();
    let reloaded = Trace::from_text(&text).expect("parse the checked-in trace");
    assert_eq!(&reloaded, &**trace);
    let replayed = replay(&reloaded).expect("the checked-in trace replays");
    assert_eq!(replayed.violation.invariant.as_str(), invariant);
    replayed
}

#[test]
fn record_locks_on_a_shared_block_lose_a_new_update() {
    let r = counterexample_is_pinned(
        "--variant cow --old 1 --new 1 --records-per-block 2 --locks record --aborts off",
        "B-complete",
        "record-locks-shared-block",
    );
    // The new transaction's credit to record 3 is what the old one's block write undid.
    assert!(
        r.violation.detail.contains("record 3") && r.violation.detail.contains("expected 102"),
        "{}",
        r.violation
    );
}

#[test]
fn incremental_2pl_makes_an_old_stale_read_durable() {
    let r = counterexample_is_pinned(
        "--variant mirroring --old 1 --new 1 --discipline incremental --aborts off",
        "B-complete",
        "incremental-2pl",
    );
    assert!(
        r.violation.detail.contains("txn 0") && r.violation.detail.contains("written by txn 1"),
        "{}",
        r.violation
    );
}

#[test]
fn an_old_abort_under_incremental_2pl_undoes_a_new_commit_on_b() {
    // The old transaction's undo writes A's before-image through VLUN A; the device
    // applies it to VLUN B as well, erasing a committed new transaction's debit.
    let r = counterexample_is_pinned(
        "--variant logging --old 1 --new 1 --discipline incremental --aborts on",
        "bank-conserved",
        "incremental-2pl-abort",
    );
    assert!(
        r.steps.iter().any(|s| s.contains("aborts")),
        "{:?}",
        r.steps
    );
}

#[test]
fn a_trace_that_does_not_fit_the_model_is_refused() {
    let text = std::fs::read_to_string(expected_path("incremental-2pl.trace")).unwrap();
    let mut t = Trace::from_text(&text).unwrap();
    // Without the old transaction's first write, its commit comes too early.
    let i = t
        .actions
        .iter()
        .position(|a| model::trace::action_text(*a) == "T0 write 0")
        .expect("the trace writes record 0");
    t.actions.remove(i);
    assert!(replay(&t).is_err());
    // Under type (b) locks the new transaction cannot take its first lock at that point.
    let mut t = Trace::from_text(&text).unwrap();
    t.config.type_b = true;
    let err = replay(&t)
        .expect_err("type (b) locks forbid this path")
        .to_string();
    assert!(err.contains("not possible"), "{err}");
    assert!(Trace::from_text("owm-model-trace v1\nstep T0 fly\n").is_err());
}

#[test]
fn properties_can_fail() {
    use stateright::Model;
    // A read that returns content no write produced must break no-torn-write, and a
    // retire that leaves space must break space-reclaimed (and, with no archive and no
    // abandoned backup before it, backup-faithful): the properties are not constant
    // `true`.
    let m = model::OwmModel::new(&CheckConfig::default());
    let mut s = m.init_states().pop().unwrap();
    s.history.push(sim::history::Event::ReadBlock {
        txn: 0,
        vlun: engine::Vlun::A,
        block: 0,
        digest: 42,
    });
    s.history.push(sim::history::Event::Retire {
        extra_space_blocks: 1,
    });
    // The state's verdicts are the oracle's on its history (`apply` keeps them).
    s.violated = model::verdicts::verdicts(&m.history(&s));
    let failing: Vec<&str> = m
        .properties()
        .iter()
        .filter(|p| p.expectation == stateright::Expectation::Always && !(p.condition)(&m, &s))
        .map(|p| p.name)
        .collect();
    assert_eq!(
        failing,
        ["no-torn-write", "backup-faithful", "space-reclaimed"]
    );
}

#[test]
fn strategies_and_threads_explore_the_same_space() {
    let base =
        cfg("--variant logging --old 2 --new 1 --discipline incremental --type-b on --aborts off");
    let bfs = check(&CheckConfig {
        threads: 1,
        ..base.clone()
    })
    .unwrap();
    let dfs = check(&CheckConfig {
        strategy: model::Strategy::Dfs,
        threads: 1,
        ..base.clone()
    })
    .unwrap();
    let two = check(&CheckConfig {
        threads: 2,
        ..base.clone()
    })
    .unwrap();
    assert!(bfs.ok() && dfs.ok() && two.ok());
    assert_eq!(bfs.unique_states, dfs.unique_states);
    assert_eq!(bfs.unique_states, two.unique_states);
}

#[test]
fn a_depth_bound_cuts_the_space_and_says_so() {
    let full = check(&cfg(
        "--variant cow --old 1 --new 1 --discipline incremental --aborts off",
    ))
    .unwrap();
    let bounded = check(&CheckConfig {
        depth: Some(8),
        ..cfg("--variant cow --old 1 --new 1 --discipline incremental --aborts off")
    })
    .unwrap();
    assert!(bounded.unique_states < full.unique_states);
    assert!(full.complete() && full.cut_states == 0);
    // Too shallow to reach the end of a run: B-complete cannot be judged, so it is not
    // said to hold, and its `sometimes` witness says it was not reached; nor can
    // A-isolated, whose witness (a NEW write while VLUN A is live) lies deeper than the
    // split with both kinds active. No-torn-write, whose witness is that split, held.
    assert!(!bounded.complete() && bounded.cut_states > 0);
    assert_eq!(
        bounded.verdict("B-complete"),
        "not reached within depth 8 (its witness \"run ended\" was never reached)"
    );
    assert_eq!(bounded.verdict("run ended"), "not reached within depth 8");
    assert_eq!(
        bounded.verdict("A-isolated"),
        "not reached within depth 8 (its witness \"a NEW write while VLUN A was live\" was \
         never reached)"
    );
    assert_eq!(bounded.verdict("no-torn-write"), "held within depth 8");
    assert!(!bounded.ok());
    let text = bounded.render();
    assert!(
        text.contains(&format!("INCOMPLETE: {} states", bounded.cut_states)),
        "{text}"
    );
    // A bound deeper than the space cuts nothing: the search is complete.
    let deep = check(&CheckConfig {
        depth: Some(full.max_depth + 1),
        ..cfg("--variant cow --old 1 --new 1 --discipline incremental --aborts off")
    })
    .unwrap();
    assert!(deep.complete(), "{}", deep.render());
    assert_eq!(deep.unique_states, full.unique_states);
    assert_eq!(deep.verdict("B-complete"), "VIOLATED");
}

/// The cut count is exact: with a depth bound, the states cut are those the full
/// search finds at exactly that depth (breadth first, one thread).
#[test]
fn the_cut_count_is_the_states_at_the_bound() {
    let base = cfg("--variant mirroring --old 1 --new 1 --aborts on");
    let at = |d: usize| {
        check(&CheckConfig {
            depth: Some(d),
            threads: 1,
            ..base.clone()
        })
        .unwrap()
    };
    for d in [3, 6, 9] {
        let (shallower, bounded) = (at(d - 1), at(d));
        // Explored under bound d: every state at depth < d, which is what bound d - 1
        // generates; the rest of what bound d generates is cut.
        assert_eq!(
            bounded.unique_states - bounded.cut_states,
            shallower.unique_states,
            "depth {d}"
        );
        let shallow = bounded;
        assert!(shallow.cut_states > 0, "depth {d}");
    }
}

#[test]
fn the_default_configuration_holds() {
    let r = check(&CheckConfig::default()).unwrap();
    assert!(r.ok(), "{}", r.render());
    assert!(r.violated().is_empty());
}

/// Three old and three new transactions with aborts, the default locking: the pinned
/// counts of `owm check --old 3 --new 3` per variant, each held, and the estimate
/// `owm check` prints beyond four transactions within a factor of two of each.
#[test]
#[ignore = "six transactions: run with --ignored (about 1-2 minutes unoptimised)"]
fn three_old_three_new() {
    for (variant, states) in [
        ("cow", 410_805),
        ("mirroring", 276_741),
        ("logging", 599_357),
    ] {
        let c = CheckConfig {
            threads: 2,
            ..cfg(&format!("--variant {variant} --old 3 --new 3"))
        };
        let r = check(&c).unwrap();
        assert!(r.ok() && r.complete(), "{}", r.render());
        assert_eq!(r.unique_states, states, "{variant}");
        let e = model::estimate(&c).unwrap().expect("six transactions");
        let ratio = e.states / states as f64;
        assert!((0.5..2.0).contains(&ratio), "{variant}: {e}");
    }
}

/// The rows of the README's `--old 3 --new 3` table ("Which configurations hold"):
/// the model flags (none: the default), the unique states of cow, mirroring and
/// logging, and the invariants violated.
const THREE_OLD_THREE_NEW_ROWS: &[(&str, [usize; 3], &[&str])] = &[
    ("", [410_805, 276_741, 599_357], &[]),
    (
        "--records-per-block 1 --locks record",
        [410_805, 276_741, 599_357],
        &[],
    ),
    (
        "--records-per-block 2 --locks record",
        [14_752_704, 8_807_091, 17_765_059],
        THREE_OLD_THREE_NEW_VIOLATED,
    ),
    (
        "--records-per-block 2 --locks record --type-b on",
        [411_589, 277_525, 600_141],
        &[],
    ),
    (
        "--discipline incremental",
        [2_939_189, 2_176_034, 3_469_166],
        THREE_OLD_THREE_NEW_VIOLATED,
    ),
    (
        "--discipline incremental --type-b on",
        [462_748, 314_866, 663_942],
        &[],
    ),
    ("--rmw split", [1_549_408, 1_050_598, 2_280_853], &[]),
    (
        "--records-per-block 2 --locks record --type-b on --rmw split",
        [1_550_968, 1_052_158, 2_282_413],
        &[],
    ),
    (
        "--discipline incremental --rmw split",
        [10_284_442, 7_609_372, 12_287_899],
        THREE_OLD_THREE_NEW_VIOLATED,
    ),
];

const THREE_OLD_THREE_NEW_VIOLATED: &[&str] = &["B-complete", "bank-conserved"];

/// The README's `--old 3 --new 3` table is [`THREE_OLD_THREE_NEW_ROWS`], written out: a
/// count changed in one and not the other fails here (the ignored
/// `three_old_three_new_every_row` checks the rows against the checker).
#[test]
fn readme_three_old_three_new_table_is_the_pinned_rows() {
    let rows =
        readme_table::rows("| `--old 3 --new 3` with | cow | mirroring | logging | result |");
    let expected: Vec<String> = THREE_OLD_THREE_NEW_ROWS
        .iter()
        .map(|(flags, states, violated)| {
            let flags = if flags.is_empty() {
                "(the default: conservative, block locks)".to_string()
            } else {
                format!("`{flags}`")
            };
            let states: Vec<String> = states.iter().map(|&n| readme_table::grouped(n)).collect();
            let result = readme_table::result(violated);
            format!("| {flags} | {} | {result} |", states.join(" | "))
        })
        .collect();
    assert_eq!(rows, expected);
}

/// Three old and three new transactions, one configuration per row of the README's
/// verdict table, each read-modify-write: the pinned counts of cow, mirroring and
/// logging, and a verdict that is the same in all three variants. Depth first on one
/// thread (a complete search counts the same states breadth first).
#[test]
#[ignore = "six transactions, 100 M states in all: run with --ignored --release (about 9 minutes)"]
fn three_old_three_new_every_row() {
    for &(flags, states, violated) in THREE_OLD_THREE_NEW_ROWS {
        for (variant, states) in ["cow", "mirroring", "logging"].into_iter().zip(states) {
            let r = check(&CheckConfig {
                threads: 1,
                strategy: model::Strategy::Dfs,
                ..cfg(&format!("--variant {variant} --old 3 --new 3 {flags}"))
            })
            .unwrap();
            assert!(r.complete(), "{variant} {flags}");
            assert_eq!(r.violated(), violated, "{variant} {flags}");
            assert_eq!(r.unique_states, states, "{variant} {flags}");
        }
    }
}

/// Every state count the README, BENCHMARKS.md and these tests pin for five to eight
/// transactions, against the estimate `owm check` prints before searching (made from
/// the configuration shrunk to at most four transactions): within a factor of two of
/// each (0.79-1.07x measured), so a refusal for memory is never off by more.
#[test]
#[ignore = "33 estimates from 2.9 M states of small checks: run with --ignored --release (about 10 s)"]
fn the_estimate_is_within_two_of_every_pinned_count() {
    // (model flags, symmetry, [cow, mirroring, logging] counts; 0: not pinned).
    let mut pinned: Vec<(String, bool, [usize; 3])> = THREE_OLD_THREE_NEW_ROWS
        .iter()
        .map(|&(flags, states, _)| (format!("--old 3 --new 3 {flags}"), false, states))
        .collect();
    pinned.extend([
        (
            "--old 3 --new 2 --aborts off".into(),
            false,
            [1_471, 1_183, 1_555],
        ),
        ("--old 4 --new 3".into(), false, [3_856_489, 0, 0]),
        ("--old 4 --new 4".into(), false, [0, 0, 67_037_529]),
        (
            "--old 3 --new 3 --amounts equal --transfers same".into(),
            true,
            [17_578, 12_034, 25_348],
        ),
        (
            "--old 3 --new 3 --amounts equal --transfers same --discipline incremental".into(),
            true,
            [105_113, 76_910, 125_188],
        ),
        (
            "--old 4 --new 3 --amounts equal --transfers same".into(),
            true,
            [46_048, 0, 0],
        ),
    ]);
    let mut checked = 0;
    let mut wrong = Vec::new();
    for (flags, symmetry, states) in &pinned {
        for (variant, &actual) in ["cow", "mirroring", "logging"].iter().zip(states) {
            if actual == 0 {
                continue;
            }
            let mut c = cfg(&format!("--variant {variant} {flags}"));
            c.symmetry = *symmetry;
            c.strategy = model::Strategy::Dfs;
            let e = model::estimate(&c)
                .unwrap()
                .expect("beyond four transactions");
            let ratio = e.states / actual as f64;
            checked += 1;
            if !(0.5..2.0).contains(&ratio) {
                wrong.push(format!(
                    "{variant} {flags}: {ratio:.2}x ({e} against {actual})"
                ));
            }
        }
    }
    assert_eq!(checked, 39);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A cut search says "held within" the bound only of the invariants whose witness it
/// reached there: one step short of the nearest violation of B-complete (depth 18, no
/// run has ended yet) B-complete and bank-conserved read "not reached", while A-isolated,
/// whose witness is reached, held within the bound; one step deeper B-complete is
/// violated. A search that explored nothing says of no invariant that it held.
#[test]
fn a_cut_search_says_held_only_where_the_witness_was_reached() {
    let flags = "--variant cow --old 1 --new 1 --records-per-block 2 --locks record --aborts off";
    let at = |depth| {
        check(&CheckConfig {
            depth: Some(depth),
            threads: 1,
            ..cfg(flags)
        })
        .unwrap()
    };
    let r = at(18);
    assert!(!r.complete() && r.violated().is_empty(), "{}", r.render());
    for name in ["B-complete", "bank-conserved"] {
        assert_eq!(
            r.outcome(name),
            Some(&Outcome::NotWitnessed {
                witness: "run ended"
            }),
            "{name}"
        );
        assert_eq!(
            r.verdict(name),
            "not reached within depth 18 (its witness \"run ended\" was never reached)"
        );
    }
    assert_eq!(r.outcome("A-isolated"), Some(&Outcome::Held));
    assert_eq!(r.verdict("A-isolated"), "held within depth 18");
    let text = r.render();
    assert!(
        !text
            .lines()
            .any(|l| l.contains("B-complete") && l.contains("held")),
        "{text}"
    );
    assert!(at(19).violated().contains(&"B-complete"));

    // Interrupted before its first state: every invariant not reached, none held.
    let interrupted = || true;
    let limits = model::Limits {
        stop: &interrupted,
        ..model::Limits::none()
    };
    let nothing = model::check_with_progress(&cfg("--old 3 --new 3"), None, &limits).unwrap();
    assert_eq!(nothing.explored_states, 0, "{}", nothing.render());
    for p in nothing.properties.iter().filter(|p| p.kind == "always") {
        assert!(
            matches!(p.outcome, Outcome::NotWitnessed { .. }),
            "{}: {:?}",
            p.name,
            p.outcome
        );
        assert!(!nothing.verdict(p.name).contains("held"), "{}", p.name);
    }
}

/// Three old and three new transactions within a depth bound, in the default test run:
/// the pinned counts of the first 24 steps of incremental 2PL, cut and said to be cut.
#[test]
fn three_old_three_new_within_a_depth_bound() {
    for (variant, states) in [("cow", 15_250), ("mirroring", 13_567), ("logging", 15_250)] {
        // One thread: breadth first in a fixed order, so the states within the bound
        // are the same in every run.
        let r = check(&CheckConfig {
            depth: Some(24),
            threads: 1,
            ..cfg(&format!(
                "--variant {variant} --old 3 --new 3 --discipline incremental"
            ))
        })
        .unwrap();
        assert_eq!(r.explored_states, states, "{variant}");
        assert!(!r.complete() && r.cut_states > 0, "{variant}");
        // A became consistent within the bound; no run ended.
        assert_eq!(
            r.verdict("A-consistent"),
            "held within depth 24",
            "{variant}"
        );
        assert_eq!(
            r.verdict("B-complete"),
            "not reached within depth 24 (its witness \"run ended\" was never reached)",
            "{variant}"
        );
    }
}

/// Two old and two new transactions with aborts: about 10^5 states per configuration.
#[test]
#[ignore = "larger configurations: run with --ignored (about 40 s in release)"]
fn larger_configurations() {
    let cases: &[(&str, &[&str])] = &[
        ("--old 2 --new 2 --aborts on", &[]),
        ("--old 2 --new 2 --aborts on --discipline incremental --type-b on", &[]),
        ("--old 2 --new 2 --aborts on --records-per-block 2 --locks record --type-b on", &[]),
        ("--old 2 --new 2 --aborts on --records-per-block 2 --locks record --discipline incremental", &["B-complete", "bank-conserved"]),
    ];
    for variant in ["mirroring", "logging", "cow"] {
        for &(flags, violated) in cases {
            let r = check(&CheckConfig {
                threads: 2,
                ..cfg(&format!("--variant {variant} {flags}"))
            })
            .unwrap();
            assert_eq!(r.violated(), violated, "{variant} {flags}");
            eprintln!(
                "{variant} {flags}: {} states in {:.1} s",
                r.unique_states,
                r.elapsed.as_secs_f64()
            );
        }
    }
}

/// Walks every path of the model as a tree (no state merging), judging each state's
/// own history with the oracle, and returns the invariants some path violates and the
/// number of paths.
fn violations_on_every_path(m: &model::OwmModel) -> (Vec<&'static str>, usize) {
    use stateright::Model;
    let mut violated = std::collections::BTreeSet::new();
    let mut stack = m.init_states();
    let mut paths = 0;
    let mut actions = Vec::new();
    while let Some(s) = stack.pop() {
        let h = m.history(&s);
        for inv in model::INVARIANTS {
            if inv.check(&h).is_err() {
                violated.insert(inv);
            }
        }
        actions.clear();
        m.actions(&s, &mut actions);
        if actions.is_empty() {
            paths += 1;
        }
        for &a in &actions {
            stack.push(m.apply(&s, a, None));
        }
    }
    (violated.into_iter().map(|i| i.as_str()).collect(), paths)
}

/// The checker merges states that differ only in their history (see `state`'s
/// module doc). Walking every path without merging must find exactly the same
/// violated invariants, or the merge would be hiding something.
#[test]
fn merging_histories_loses_no_violation() {
    for flags in [
        "--variant cow --old 1 --new 1 --discipline incremental --aborts on",
        "--variant logging --old 1 --new 1 --records-per-block 2 --locks record --aborts on",
        "--variant mirroring --old 2 --new 1 --aborts on",
    ] {
        let c = cfg(flags);
        let checked = check(&c).unwrap();
        let (walked, paths) = violations_on_every_path(&model::OwmModel::new(&c));
        eprintln!("{flags}: {paths} paths, {} states", checked.unique_states);
        assert!(paths > checked.unique_states, "{flags}: {paths} paths");
        assert_eq!(checked.violated(), walked, "{flags} ({paths} paths)");
    }
}

/// `apply` judges only the invariants the new events can trip, from the state (block
/// reads and writes, and the milestones: A declared consistent, archived, retired, the
/// end). On every reachable state, and on every path of a small model, the verdicts
/// it keeps must be exactly what the oracle finds on the whole history.
#[test]
fn verdicts_are_incremental() {
    use stateright::Model;
    let mut all_violated = 0u8;
    for flags in [
        "--variant cow --old 2 --new 2 --aborts on",
        "--variant logging --old 1 --new 1 --records-per-block 2 --locks record --aborts on",
        "--variant mirroring --old 1 --new 1 --discipline incremental --aborts on",
        "--variant logging --old 1 --new 1 --discipline incremental --aborts on",
        "--variant cow --old 1 --new 1 --records-per-block 2 --locks record --discipline incremental --type-b on --aborts on",
        "--variant logging --old 1 --new 1 --records-per-block 2 --locks record --aborts on --rmw split",
    ] {
        let m = model::OwmModel::new(&cfg(flags));
        let mut stack = m.init_states();
        let mut actions = Vec::new();
        // The device's locks are its interior mutability; nothing mutates a stored key.
        #[allow(clippy::mutable_key_type)]
        let mut seen = std::collections::HashSet::new();
        let mut violated = 0u8;
        while let Some(s) = stack.pop() {
            let h = m.history(&s);
            assert_eq!(
                s.violated,
                model::verdicts::verdicts(&h),
                "{flags}: after {:?}",
                h.events.last()
            );
            violated |= s.violated;
            actions.clear();
            m.actions(&s, &mut actions);
            for &a in &actions {
                let next = m.apply(&s, a, None);
                if seen.insert(next.clone()) {
                    stack.push(next);
                }
            }
        }
        eprintln!("{flags}: {} states, violated bits {violated:#b}", seen.len());
        all_violated |= violated;
    }
    // The end-state judgments were compared where they fail, not only where they hold.
    for inv in [
        sim::oracle::Invariant::BComplete,
        sim::oracle::Invariant::BankConserved,
    ] {
        assert_ne!(all_violated & model::verdicts::bit(inv), 0, "{inv:?}");
    }
}

/// Breadth first on one thread, a violated invariant's trace is stateright's own
/// discovery (the first violating state it judges); on two threads it comes from the
/// separate shortest-path search. Both must give the same trace, and both say it is
/// the shortest: on one thread by the order of the search, on two because the search
/// for the shortest completed within its budget.
#[test]
fn one_thread_discoveries_are_the_shortest_traces() {
    let mut compared = 0;
    for &(flags, _, violated) in PINNED.iter().filter(|p| !p.2.is_empty()) {
        let at = |threads| {
            check(&CheckConfig {
                threads,
                ..cfg(flags)
            })
            .unwrap()
        };
        let (one, two) = (at(1), at(2));
        assert_eq!(one.violated(), violated, "{flags}");
        for (name, trace) in one.counterexamples() {
            let Some(Outcome::Violated {
                trace: shortest,
                not_shortest,
                ..
            }) = two.outcome(name)
            else {
                panic!("{flags}: {name} violated on one thread only");
            };
            assert_eq!(trace.actions, shortest.actions, "{flags}: {name}");
            assert_eq!(not_shortest, &None, "{flags}: {name}");
            assert!(
                matches!(
                    one.outcome(name),
                    Some(Outcome::Violated {
                        not_shortest: None,
                        ..
                    })
                ),
                "{flags}: {name}"
            );
            compared += 1;
        }
    }
    assert!(compared >= 8, "{compared} traces compared");
}

/// Every path to a state is as long as any other: its depth is `State::steps() + 1`
/// however it was reached (each action takes one step of a transaction's program, an
/// abort, or one move of the backup, and none is undone). So a depth-first search cut
/// at depth D judges exactly the states a breadth-first one does, and `--dfs --depth D`
/// claims "held within depth D" as truly: at the violating depth of every pinned
/// violation and one step short of it, both searches explore and reach the same
/// states and find the same violations.
#[test]
fn depth_first_cut_at_a_depth_judges_what_breadth_first_does() {
    use stateright::Model;
    use std::collections::{HashSet, VecDeque};
    for &(flags, _, _) in PINNED {
        let m = model::OwmModel::new(&cfg(flags)).for_search();
        // The device's locks are its interior mutability; nothing mutates a stored key.
        #[allow(clippy::mutable_key_type)]
        let mut seen = HashSet::new();
        let mut queue: VecDeque<(model::State, usize)> = VecDeque::new();
        for s in m.init_states() {
            assert_eq!(s.steps(), 0, "{flags}");
            seen.insert(s.clone());
            queue.push_back((s, 1));
        }
        let mut actions = Vec::new();
        while let Some((s, depth)) = queue.pop_front() {
            // Breadth first, `depth` is the shortest path's; every other edge into a
            // state must come from one step above it too.
            assert_eq!(s.steps() + 1, depth, "{flags}");
            actions.clear();
            m.actions(&s, &mut actions);
            for &a in &actions {
                let next = m.apply(&s, a, None);
                assert_eq!(next.steps(), s.steps() + 1, "{flags}: {a:?}");
                if seen.insert(next.clone()) {
                    queue.push_back((next, depth + 1));
                }
            }
        }
    }
    let mut compared = 0;
    for &(flags, _, violated) in PINNED.iter().filter(|p| !p.2.is_empty()) {
        let whole = check(&CheckConfig {
            threads: 1,
            ..cfg(flags)
        })
        .unwrap();
        let nearest = whole
            .counterexamples()
            .iter()
            .map(|(_, t)| t.actions.len() + 1)
            .min()
            .unwrap();
        for depth in [nearest - 1, nearest] {
            let at = |strategy| {
                check(&CheckConfig {
                    threads: 1,
                    depth: Some(depth),
                    strategy,
                    ..cfg(flags)
                })
                .unwrap()
            };
            let (bfs, dfs) = (at(model::Strategy::Bfs), at(model::Strategy::Dfs));
            let what = format!("{flags} --depth {depth}");
            assert_eq!(bfs.violated().is_empty(), depth < nearest, "{what}");
            assert_eq!(dfs.violated(), bfs.violated(), "{what}");
            assert!(violated.len() >= bfs.violated().len(), "{what}");
            assert_eq!(dfs.complete(), bfs.complete(), "{what}");
            assert_eq!(
                (dfs.explored_states, dfs.unique_states),
                (bfs.explored_states, bfs.unique_states),
                "{what}"
            );
            assert_eq!(
                dfs.verdict("B-complete"),
                bfs.verdict("B-complete"),
                "{what}"
            );
            compared += 1;
        }
    }
    assert!(compared >= 16, "{compared} bounded searches compared");
}

/// An abort's write-back is narrated like a write: with what each block written back
/// now reads through VLUN A and VLUN B. Under incremental 2PL with record locks on
/// blocks two records share, the abort of old T1 writes its before-image of block 0
/// through VLUN A, which the device copies onto VLUN B over new T2's committed r1 = 97:
/// the abort's step shows r1 = 100 on VLUN B where the step before showed 97.
#[test]
fn an_abort_step_says_what_its_write_back_left_on_both_vluns() {
    let r = check(&cfg(
        "--variant cow --old 2 --new 2 --records-per-block 2 --locks record \
         --discipline incremental",
    ))
    .unwrap();
    let Some(Outcome::Violated { steps, .. }) = r.outcome("B-complete") else {
        panic!("{}", r.render());
    };
    let abort = steps
        .iter()
        .position(|s| s.contains("old txn T1 (VLUN A) aborts: writes back"))
        .unwrap_or_else(|| panic!("no abort:\n{}", steps.join("\n")));
    assert!(
        steps[abort - 1].ends_with("r0=102 (T1), r1=97 (T2) through VLUN B"),
        "{}",
        steps[abort - 1]
    );
    assert!(
        steps[abort].ends_with(
            "and releases its locks; block 0 now reads r0=100 (initial), r1=100 (initial) \
             through VLUN A, r0=100 (initial), r1=100 (initial) through VLUN B"
        ),
        "{}",
        steps[abort]
    );
}

/// In a complete search, an invariant whose `sometimes` witness was never reached holds
/// only vacuously, and its verdict says so (not a bare "held"); the others, whose
/// witnesses were reached, still say "held".
#[test]
fn a_complete_search_says_which_invariants_hold_vacuously() {
    let mut r = check(&cfg("--variant cow --old 2 --new 1 --aborts off")).expect("check");
    assert!(r.complete());
    assert_eq!(r.verdict("B-complete"), "held");
    let run_ended = r
        .properties
        .iter_mut()
        .find(|p| p.name == "run ended")
        .expect("the witness");
    assert_eq!(run_ended.outcome, Outcome::Reached);
    run_ended.outcome = Outcome::NotReached;
    for name in ["B-complete", "bank-conserved"] {
        assert_eq!(
            r.verdict(name),
            "held vacuously (its witness \"run ended\" was NOT REACHED)",
            "{name}"
        );
        assert_eq!(r.unreached_witness(name), Some("run ended"));
    }
    assert_eq!(r.verdict("A-isolated"), "held");
    assert_eq!(r.unreached_witness("A-isolated"), None);
    assert!(r
        .render()
        .contains("held vacuously (its witness \"run ended\""));
}
