//! `owm check`: verdicts, the exit-status contract (0 held, 1 violated, 2 bad input,
//! 3 incomplete), honest bounds, replayable counterexamples.

use std::process::Output;

use crate::util::*;

/// One old and one new transaction, record locks on blocks two records share, no
/// aborts, one thread: B-complete violated within a few steps (exit 1).
fn one_and_one() -> Vec<&'static str> {
    [&["check", "--threads", "1"][..], CHECK_VIOLATING[2]].concat()
}

/// The arguments of the `reproduce:` line.
fn reproduce_args(o: &Output) -> Vec<String> {
    let text = stdout(o);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("reproduce: owm "))
        .unwrap_or_else(|| panic!("no reproduce line:\n{text}"));
    line.split_whitespace().map(str::to_string).collect()
}

/// The lines a verdict is read from: each property's and the coverage line.
fn verdict_lines(o: &Output) -> Vec<String> {
    stdout(o)
        .lines()
        .filter(|l| l.starts_with("  ") || l.starts_with("complete") || l.starts_with("INCOMPLETE"))
        .map(str::to_string)
        .collect()
}

/// Checks the rule of a cut search's `always` lines: each says `held within` only when
/// its witness's `sometimes` line says `reached`, and `not reached within … (its
/// witness "W" was never reached)` otherwise; returns the invariants that held.
fn held_only_where_witnessed(o: &Output) -> Vec<String> {
    let text = stdout(o);
    let property = |l: &str| -> Option<(String, String)> {
        let rest = l.trim_start();
        let rest = rest
            .strip_prefix("always")
            .or_else(|| rest.strip_prefix("sometimes"))?;
        // Names are padded to 36 columns: the verdict follows.
        let rest = rest.trim_start();
        let (name, verdict) = rest.split_at(36.min(rest.len()));
        Some((name.trim().to_string(), verdict.trim().to_string()))
    };
    let reached = |witness: &str| {
        text.lines()
            .filter(|l| l.starts_with("  sometimes "))
            .filter_map(property)
            .any(|(n, v)| n == witness && v == "reached")
    };
    let mut held = Vec::new();
    for (name, verdict) in text
        .lines()
        .filter(|l| l.starts_with("  always "))
        .filter_map(property)
    {
        if let Some(w) = verdict
            .split_once("(witness: ")
            .map(|(_, w)| w.trim_end_matches(')'))
        {
            assert!(verdict.starts_with("held within "), "{name}: {verdict}");
            assert!(reached(w), "{name} held but {w} not reached:\n{text}");
            held.push(name);
        } else {
            let w = verdict
                .split_once("(its witness \"")
                .and_then(|(_, w)| w.strip_suffix("\" was never reached)"))
                .unwrap_or_else(|| panic!("{name}: {verdict}"));
            assert!(
                verdict.starts_with("not reached within "),
                "{name}: {verdict}"
            );
            assert!(!reached(w), "{name} not reached but {w} reached:\n{text}");
        }
    }
    held
}

#[test]
fn the_default_configuration_holds() {
    let o = owm(&["check", "--threads", "1"]);
    ok(&o);
    let text = stdout(&o);
    assert!(
        text.contains("A-consistent") && text.contains("held"),
        "{text}"
    );
    assert!(
        !text.contains("VIOLATED") && !text.contains("within"),
        "{text}"
    );
    assert!(text.contains("complete: every reachable state"), "{text}");
    assert!(
        text.contains("reproduce: owm check --variant cow") && text.contains("--threads 1"),
        "{text}"
    );
    assert!(stdout(&o).contains("verdict: held"), "{}", stdout(&o));
}

#[test]
fn a_violation_exits_1_and_writes_a_trace_that_replays() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("traces");
    std::fs::create_dir_all(&dir).unwrap();
    // A trace of an earlier check must not survive beside the new ones.
    write(&dir, "a-consistent.trace", "owm-model-trace v1\n");
    let args = [
        "check",
        "--discipline",
        "incremental",
        "--old",
        "1",
        "--new",
        "2",
        "--threads",
        "1",
    ];
    let o = owm(&[&args[..], &["--trace-dir", &s(&dir)]].concat());
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("result: violated: B-complete") && stdout(&o).contains("VIOLATED"),
        "{}",
        stdout(&o)
    );
    let written = names(&dir);
    assert!(
        written.contains(&"b-complete.trace".to_string())
            && !written.contains(&"a-consistent.trace".to_string()),
        "{written:?}"
    );
    let trace = dir.join("b-complete.trace");
    let o = owm(&["check", "--replay", &s(&trace)]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    replayed(&o, "B-complete");
    assert!(stdout(&o).contains("oracle:"), "{}", stdout(&o));

    // --allow-violations: the same verdict, exit 0.
    let o = owm(&[&args[..], &["--trace-dir", &s(&dir), "--allow-violations"]].concat());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("violated: B-complete"),
        "{}",
        stdout(&o)
    );

    // A trace whose steps do not reproduce the violation: could not replay, exit 2.
    let text = std::fs::read_to_string(&trace).unwrap();
    let cut: String = text
        .lines()
        .filter(|l| !l.starts_with("step end"))
        .map(|l| format!("{l}\n"))
        .collect();
    let bad = write(tmp.path(), "short.trace", &cut);
    let o = owm(&["check", "--replay", &bad]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["could not replay", "short.trace"]);

    // A second `model` or `violates` line, or a model flag given twice, is refused
    // naming the file and its line (else the last would silently win).
    let line_of = |word: &str| {
        text.lines()
            .position(|l| l.starts_with(word))
            .unwrap_or_else(|| panic!("no {word} line: {text}"))
            + 1
    };
    let edited = |word: &str, edit: &dyn Fn(&str) -> String| -> String {
        text.lines()
            .map(|l| {
                if l.starts_with(word) {
                    edit(l)
                } else {
                    format!("{l}\n")
                }
            })
            .collect()
    };
    let (model_at, violates_at) = (line_of("model "), line_of("violates "));
    for (name, bad, at, says) in [
        (
            "two-models.trace",
            edited("model ", &|l| {
                format!(
                    "{l}\n{}\n",
                    l.replace("--discipline incremental", "--discipline conservative")
                )
            }),
            model_at + 1,
            format!("a second `model` line (the first is line {model_at})"),
        ),
        (
            "two-violates.trace",
            edited("violates ", &|l| format!("{l}\nviolates A-consistent\n")),
            violates_at + 1,
            format!("a second `violates` line (the first is line {violates_at})"),
        ),
        (
            "repeated-flag.trace",
            edited("model ", &|l| format!("{l} --old 2\n")),
            model_at,
            "--old given twice".to_string(),
        ),
    ] {
        let file = write(tmp.path(), name, &bad);
        let o = owm(&["check", "--replay", &file]);
        assert_eq!(code(&o), 2, "{name}: {}", stderr(&o));
        fails_with(&o, &[&format!("{name}:{at}:"), &says]);
    }
}

/// Issue 14's case: at depth 20 the search is cut before any run ends, so B-complete
/// (violated at depth 21) is not claimed; the verdict says so, exits 3, and the
/// reproduce line gives the same verdict.
#[test]
fn a_depth_bound_that_cuts_the_search_is_incomplete_exit_3() {
    let model = [
        "check",
        "--variant",
        "cow",
        "--old",
        "1",
        "--new",
        "1",
        "--discipline",
        "incremental",
        "--type-b",
        "off",
        "--threads",
        "1",
    ];
    let tmp = tempfile::tempdir().unwrap();
    let traces = ["--trace-dir", &s(tmp.path())];
    let o = owm(&[&model[..], &["--depth", "20"], &traces[..]].concat());
    assert_eq!(code(&o), 3, "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("held within depth 20"), "{text}");
    assert!(
        !text.contains(" held\n") && !text.contains("VIOLATED"),
        "{text}"
    );
    let cut: usize = text
        .lines()
        .find_map(|l| l.strip_prefix("INCOMPLETE: "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no cut count:\n{text}"));
    assert!(cut > 0, "{text}");
    assert!(
        text.contains(&format!(
            "incomplete: held within depth 20, {cut} states cut"
        )),
        "{text}"
    );
    let again = reproduce_args(&o);
    assert!(
        again.windows(2).any(|w| w == ["--depth", "20"])
            && again.windows(2).any(|w| w == ["--threads", "1"]),
        "{again:?}"
    );
    // It keeps `--trace-dir`: pasted, it writes the traces where this run did.
    assert!(again.windows(2).any(|w| w == traces), "{again:?}");
    let rerun: Vec<&str> = again.iter().map(String::as_str).collect();
    let r = owm(&rerun);
    assert_eq!(code(&r), 3);
    assert_eq!(verdict_lines(&r), verdict_lines(&o));

    // One step deeper the violation is found: the cut hid it.
    let o = owm(&[&model[..], &["--depth", "21"], &traces[..]].concat());
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    // A bound the space never reaches cuts nothing: a complete verdict, exit 0 (the
    // configuration with type (b) locks holds).
    let held = [
        &model[..9],
        &["--type-b", "on", "--threads", "1", "--depth", "60"],
    ]
    .concat();
    let o = owm(&[&held[..], &traces[..]].concat());
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("complete: the bounds (depth 60) cut nothing"));
}

/// `--states-max` is a soft bound, and the output says so rather than presenting it as
/// a cap: a search that explores more states than the flag names, every one of them
/// here, says how many it generated and explored, the same numbers as its `explored`
/// line.
#[test]
fn a_state_budget_is_printed_as_the_soft_bound_it_is() {
    let o = owm(&[
        "check",
        "--variant",
        "cow",
        "--old",
        "1",
        "--new",
        "1",
        "--discipline",
        "incremental",
        "--type-b",
        "off",
        "--threads",
        "1",
        "--states-max",
        "1",
    ]);
    let out = stdout(&o);
    let explored = out
        .lines()
        .find_map(|l| l.strip_prefix("explored "))
        .expect("an explored line");
    let words: Vec<&str> = explored
        .split([' ', '('])
        .filter(|w| !w.is_empty())
        .collect();
    let (unique, generated): (usize, usize) =
        (words[0].parse().unwrap(), words[3].parse().unwrap());
    // The bound was passed, so the flag is not a cap.
    assert!(unique > 1, "{out}");
    let line = out
        .lines()
        .find(|l| l.contains("--states-max 1 stops the search at the first check"))
        .unwrap_or_else(|| panic!("no soft-bound note: {out}"));
    assert!(
        line.ends_with(&format!("{generated} generated, {unique} explored")),
        "{line}\n{out}"
    );
    // More than 1 generated: incomplete however the threads ended (exit 3, or 1 for
    // a violation it met).
    assert!(matches!(code(&o), 1 | 3), "{out}{}", stderr(&o));
    assert!(line.starts_with("INCOMPLETE:"), "{line}");
}

/// `--states-max` is checked after every 1,500 states a search thread explores, as the
/// coverage line, `--help` and README say: on one thread a bound of 100 explores exactly
/// 1,500 of the default configuration's 6,789 states (3,786 generated by then), as does
/// 3,785, and a bound of 3,786 exactly 3,000 (the next check: the bound stops the
/// search only past N).
#[test]
fn a_state_budget_is_checked_every_1500_states_a_thread_explores() {
    for (n, explored) in [("100", 1500), ("3785", 1500), ("3786", 3000)] {
        let o = owm(&["check", "--threads", "1", "--states-max", n]);
        assert_eq!(code(&o), 3, "{}{}", stdout(&o), stderr(&o));
        let out = stdout(&o);
        assert!(
            out.starts_with("model: ")
                && out.contains(&format!("\nexplored {explored} unique states, ")),
            "{out}"
        );
        assert!(
            out.contains(&format!(
                "--states-max {n} stops the search at the first check, after every 1,500 \
                 states a search thread explores, that finds more than {n} states generated"
            )),
            "{out}"
        );
    }
    let help = stdout(&owm(&["check", "--help"]));
    assert!(
        help.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .contains("checked after every 1,500 states a search thread explores"),
        "{help}"
    );
}

/// Whether `--states-max N` cuts a search is a function of the command, not of thread
/// timing: for bounds around the default configuration's total generated (11,667,
/// repeats counted), each run on 2 threads exits as the one-thread run does, 3 when
/// the space generates more than N (even if its threads happened to explore every
/// state before the bound's check), 0 when it generates at most N (never cut).
#[test]
fn a_state_budget_cuts_a_search_on_every_run_or_on_none() {
    let whole = owm(&["check", "--threads", "1"]);
    assert_eq!(code(&whole), 0, "{}{}", stdout(&whole), stderr(&whole));
    let generated: usize = stdout(&whole)
        .lines()
        .find_map(|l| l.strip_prefix("explored "))
        .and_then(|l| l.split_once(" ("))
        .and_then(|(_, r)| r.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no generated count: {}", stdout(&whole)));
    for n in [
        generated - 1500,
        generated - 667,
        generated - 1,
        generated,
        generated + 1,
    ] {
        let n = n.to_string();
        let one = owm(&["check", "--threads", "1", "--states-max", &n]);
        let expected = if n.parse::<usize>().unwrap() < generated {
            3
        } else {
            0
        };
        assert_eq!(code(&one), expected, "{n}: {}", stdout(&one));
        for run in 0..4 {
            let two = owm(&["check", "--threads", "2", "--states-max", &n]);
            assert_eq!(
                code(&two),
                expected,
                "--states-max {n}, run {run} on 2 threads: {}",
                stdout(&two)
            );
            let coverage = stdout(&two)
                .lines()
                .find(|l| l.starts_with("complete") || l.starts_with("INCOMPLETE"))
                .map(str::to_string)
                .unwrap_or_default();
            assert_eq!(
                coverage.starts_with("complete"),
                expected == 0,
                "{coverage}"
            );
        }
    }
}

#[test]
fn a_state_budget_that_cuts_the_search_is_incomplete_exit_3() {
    let o = owm(&["check", "--threads", "1", "--states-max", "500"]);
    assert_eq!(code(&o), 3, "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains(" states explored (cut by --states-max 500)"),
        "{}",
        stdout(&o)
    );
    assert!(reproduce_args(&o)
        .windows(2)
        .any(|w| w == ["--states-max", "500"]));
}

#[test]
fn bad_check_flags_are_refused_with_exit_2() {
    for (args, needle) in [
        (&["check", "--locks", "sideways"][..], "--locks"),
        (
            &["check", "--old", "0", "--threads", "1"][..],
            "at least one old",
        ),
        (&["check", "--timeout", "soon"][..], "--timeout"),
        // Past what the clock's instants can hold ahead of now: refused, not a panic.
        (&["check", "--timeout", "1e19"][..], "at most 1e9 s"),
        (&["check", "--timeout", "1e10"][..], "--timeout"),
        (&["check", "--timeout", "inf"][..], "--timeout"),
        (&["check", "--replay", "no/such.trace"][..], "no/such.trace"),
    ] {
        let o = owm(args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        fails_with(&o, &[needle]);
    }
}

/// The `--states-max` a memory refusal suggests fits `--memory-max` beside the
/// process's own memory (10 MiB): followed at a limit of 10.2 MiB, breadth first and
/// depth first, the search is cut by that bound of states (exit 3), never by
/// `--memory-max`.
#[test]
fn following_the_states_max_advice_is_not_cut_by_the_memory_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let t = s(tmp.path());
    for strategy in [&[][..], &["--dfs"][..]] {
        let base = [
            &["check", "--old", "4", "--new", "4", "--memory-max", "0.01"][..],
            strategy,
            &["--trace-dir", &t][..],
        ]
        .concat();
        let o = owm(&base);
        assert_eq!(code(&o), 2, "{strategy:?}: {}{}", stdout(&o), stderr(&o));
        fails_with(&o, &["beside the process's own 10.00 MiB"]);
        let n: u64 = stderr(&o)
            .split_once("--states-max ")
            .and_then(|(_, r)| r.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("no --states-max advice: {}", stderr(&o)));
        // Within what 10.2 MiB less the process's own 10 MiB hold at 20 (depth first)
        // to 450 (breadth first) bytes a state.
        assert!((1..=12_582).contains(&n), "{n}: {}", stderr(&o));
        let o = owm(&[&base[..], &["--states-max", &n.to_string()][..]].concat());
        let said = format!("{}{}", stdout(&o), stderr(&o));
        assert_eq!(code(&o), 3, "{strategy:?} --states-max {n}: {said}");
        assert!(
            said.contains(&format!("(cut by --states-max {n})")),
            "{said}"
        );
        assert!(!said.contains("cut by --memory-max"), "{said}");
    }
}

/// A `--timeout` above 0 that the timer's resolution (1 ns) would round to 0 is
/// refused as below the smallest timeout, never called 0 s; 0 itself is refused as 0.
#[test]
fn a_timeout_below_the_timers_resolution_is_refused_as_such() {
    for t in ["1e-300", "1e-10", "0.0000000004"] {
        let o = owm(&["check", "--timeout", t]);
        assert_eq!(code(&o), 2, "{t}: {}", stderr(&o));
        fails_with(
            &o,
            &[
                "--timeout",
                &format!("`{t}`: below 1 ns, the smallest timeout"),
            ],
        );
        assert!(!stderr(&o).contains("more than 0 s"), "{}", stderr(&o));
        assert_eq!(stdout(&o), "", "{t}: searched");
    }
    // 0, a negative value and nan are refused as a flag value, in the flag's words
    // with its range, not as a model setting nor in the timer's words.
    for t in ["0", "0.0", "-0", "-1", "nan"] {
        let o = owm(&["check", "--timeout", t]);
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        fails_with(
            &o,
            &[&format!(
                "invalid value '{t}' for '--timeout <SECONDS>': `{t}`: expected more than 0 s"
            )],
        );
        assert!(
            !stderr(&o).contains("invalid model configuration"),
            "{}",
            stderr(&o)
        );
        assert_eq!(stdout(&o), "", "{t}: searched");
    }
}

/// A search that explored nothing has no rate (0 states/s, not the rate of the
/// states it generated); counts of one are singular: "1 walk", "(1 state)".
#[test]
fn rates_and_counts_say_what_was_done() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = s(&tmp.path().join("t"));
    let o = owm(&["check", "--timeout", "1e-9", "--trace-dir", &dir]);
    assert_eq!(code(&o), 3, "{}{}", stdout(&o), stderr(&o));
    let line = stdout(&o)
        .lines()
        .find(|l| l.starts_with("explored "))
        .unwrap_or_default()
        .to_string();
    assert!(
        line.starts_with("explored 0 unique states"),
        "{}",
        stdout(&o)
    );
    assert!(line.ends_with(": 0 states/s"), "{line}");

    let o = owm(&["check", "--simulate", "--walks", "1", "--trace-dir", &dir]);
    assert_eq!(code(&o), 3, "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("result: no violation found in 1 walk: "),
        "{}",
        stdout(&o)
    );
    assert!(!stdout(&o).contains("1 walks"), "{}", stdout(&o));

    let o = owm(&[
        "check",
        "--old",
        "1",
        "--new",
        "1",
        "--states-max",
        "1",
        "--threads",
        "1",
        "--trace-dir",
        &dir,
    ]);
    // 276 generated, more than 1: cut, whichever thread ended first.
    assert_eq!(code(&o), 3, "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("(cut by --states-max 1)"),
        "{}",
        stdout(&o)
    );
}

/// The on/off flags take `on` and `off`, the words --help and the reproduce lines
/// write, and nothing else.
#[test]
fn on_off_flags_take_on_or_off_only() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = s(&tmp.path().join("t"));
    for flag in ["--aborts", "--type-b", "--symmetry"] {
        for word in ["yes", "no", "true", "false", "1", "0", "ON"] {
            let o = owm(&["check", "--old", "1", "--new", "1", flag, word]);
            assert_eq!(code(&o), 2, "{flag} {word}: {}", stdout(&o));
            fails_with(&o, &[flag, &format!("expected on or off, got `{word}`")]);
            assert_eq!(stdout(&o), "", "{flag} {word}: searched");
        }
        for word in ["on", "off"] {
            let o = owm(&[
                "check",
                "--old",
                "1",
                "--new",
                "1",
                flag,
                word,
                "--trace-dir",
                &dir,
            ]);
            assert_eq!(code(&o), 0, "{flag} {word}: {}", stderr(&o));
        }
    }
}

/// Flags that cannot be honoured, and output paths that cannot be written, are
/// refused before any search (exit 2): nothing is searched, no trace is written, and
/// a violation's exit 1 is never replaced by a late write error.
#[test]
fn unwritable_outputs_and_ignored_flags_are_refused_before_the_search() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "afile", "x");
    let traces = dir.path().join("traces");
    let t = s(&traces);
    let in_file = format!("{file}/v.json");
    let missing = s(&dir.path().join("no/such/v.json"));
    // Under a file: the system cannot look there, which is not "missing".
    let under_file = format!("{file}/sub/v.json");
    let a_dir = s(dir.path());
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--json", &in_file], "is not a directory"),
        (vec!["--junit", &missing], "does not exist"),
        (
            vec!["--junit", &under_file],
            "sub cannot be examined: Not a directory",
        ),
        (vec!["--json", &a_dir], "is a directory"),
        (vec!["--replay", &file, "--variant", "logging"], "--variant"),
        (vec!["--replay", &file, "--old", "3"], "--old"),
        (
            vec!["--serve", "127.0.0.1:0", "--symmetry", "on"],
            "--symmetry",
        ),
    ];
    for (extra, needle) in cases {
        let mut args = vec!["check", "--threads", "1", "--trace-dir", &t];
        args.extend(&extra);
        let o = owm(&args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        fails_with(&o, &[needle]);
        assert!(!traces.exists(), "{args:?} searched before refusing");
    }
    let o = owm(&["check", "--threads", "1", "--trace-dir", &file]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["--trace-dir", "not a directory"]);
    assert!(!stdout(&o).contains("unique states"), "{}", stdout(&o));
    let o = owm(&[
        "run",
        "scenarios/fig3.toml",
        "--out",
        &t,
        "--json",
        &in_file,
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["--json", "is not a directory"]);
    assert!(
        !traces.exists(),
        "owm run wrote its output before refusing --json"
    );
}

/// A transfer's amount is bounded, so no balance can overflow: a model file or
/// `--transactions` beyond it is refused with its key, exit 2.
#[test]
fn an_amount_beyond_the_bound_is_refused() {
    let o = owm(&[
        "check",
        "--transactions",
        "old:0:1:9223372036854775807,new:1:0:1",
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["1..=1000000000"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let m = write(
        dir.path(),
        "m.toml",
        "[[transaction]]\nrole = \"old\"\nfrom = 0\nto = 1\namount = 1000000001\n\n\
         [[transaction]]\nrole = \"new\"\nfrom = 1\nto = 0\namount = 1\n",
    );
    let o = owm(&["check", "--model", &m]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["m.toml:5", "transaction.0.amount", "1..=1000000000"]);
    let m = write(
        dir.path(),
        "g.toml",
        "blocks = 2\nrecords_per_block = 5\n\n[[transaction]]\nrole = \"old\"\nfrom = 0\n\
         to = 1\namount = 1\n\n[[transaction]]\nrole = \"new\"\nfrom = 1\nto = 0\namount = 1\n",
    );
    let o = owm(&["check", "--model", &m]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["g.toml:2", "records_per_block"]);
}

/// Beyond four transactions `owm check` predicts the size from the same configuration
/// with three and four, prints it, and refuses a search that cannot fit in memory
/// (bad usage, exit 2) instead of a hard-coded limit; five transactions run.
#[test]
fn large_configurations_are_estimated_and_refused_when_they_cannot_fit() {
    let five = ["check", "--old", "3", "--new", "2", "--aborts", "off"];
    let o = owm(&[&five[..], &["--threads", "1", "--memory-max", "0.0099"]].concat());
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    fails_with(
        &o,
        &[
            "refused: 5 transactions need about",
            "10.1 MiB of memory",
            "--dfs",
        ],
    );
    let tmp = tempfile::tempdir().unwrap();
    let o = owm(&[
        "check",
        "--old",
        "3",
        "--new",
        "2",
        "--aborts",
        "off",
        "--threads",
        "1",
        "--trace-dir",
        &s(tmp.path()),
    ]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("estimate: about"), "{}", stdout(&o));
}

/// A bound lifts the memory refusal only when it fits: `--states-max N` keeps at most
/// N states (N x bytes per state), `--timeout` bounds no memory at all; a
/// `--memory-max` that is not a finite number of GiB above 0 is bad input naming the
/// flag, and a refusal under it speaks of the user's limit, not the machine's.
#[test]
fn a_bound_lifts_the_memory_refusal_only_when_it_fits() {
    let tmp = tempfile::tempdir().unwrap();
    let t = s(tmp.path());
    let five = [
        "check",
        "--old",
        "3",
        "--new",
        "2",
        "--aborts",
        "off",
        "--threads",
        "1",
        "--memory-max",
        "0.0099",
        "--trace-dir",
        &t,
    ];
    let o = owm(&[&five[..], &["--states-max", "1000000000"]].concat());
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    fails_with(
        &o,
        &[
            "refused",
            "--memory-max allows 10.1 MiB of memory",
            "--states-max 1000000000 would hold up to 419.1 GiB",
            "--states-max 320 or fewer fit",
        ],
    );
    let o = owm(&[&five[..], &["--timeout", "100000"]].concat());
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    fails_with(
        &o,
        &["refused", "--timeout bounds the time, not the memory"],
    );
    // 100 states x 450 bytes fit in 0.0099 GiB beside the process's own 10 MiB: the bounded search runs (stateright
    // stops at about the bound, so it may finish the 1,471 states: 0, or 3 when cut).
    let o = owm(&[&five[..], &["--states-max", "100"]].concat());
    assert!([0, 3].contains(&code(&o)), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("unique states"), "{}", stdout(&o));
    assert!(stdout(&o).contains("estimate: about"), "{}", stdout(&o));
    for bad in [
        "nan", "inf", "-inf", "1e300", "-1", "0", "1e-300", "9e-10", "lots",
    ] {
        let flag = format!("--memory-max={bad}");
        let o = owm(&["check", "--threads", "1", &flag]);
        assert_eq!(code(&o), 2, "{bad}: {}", stderr(&o));
        fails_with(&o, &["--memory-max", "at least one byte"]);
    }
}

/// The JUnit file (parsed with roxmltree) and the JSON verdict (read back with serde)
/// of a check hold one case per property, with the check's own exit status: a bounded
/// search that cut states (exit 3: every `always` skipped as "held within depth 20",
/// none passed or failed), a violating one (exit 1: B-complete a failure) and a
/// complete clean one (exit 0: every case passed).
#[test]
fn check_writes_junit_and_json_verdicts_per_property() {
    #[derive(serde::Deserialize, serde::Serialize, PartialEq, Debug)]
    struct Case {
        suite: String,
        name: String,
        verdict: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bound: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cut: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        count: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        trace: Option<TraceLength>,
    }
    #[derive(serde::Deserialize, serde::Serialize, PartialEq, Debug)]
    struct TraceLength {
        steps: u64,
        shortest: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        not_shortest: Option<String>,
        file: String,
        replay: String,
    }
    #[derive(serde::Deserialize, serde::Serialize, PartialEq, Debug)]
    struct Verdicts {
        command: String,
        version: String,
        seed: Option<u64>,
        seeds: Vec<u64>,
        reproduce: String,
        allow_violations: bool,
        exit: String,
        exit_code: u8,
        cases: Vec<Case>,
        coverage: model::Coverage,
        states: States,
        backups_lost: Vec<String>,
        backup_cycles_lost: u64,
        backups_retried: Vec<String>,
        verdict: String,
    }
    #[derive(serde::Deserialize, serde::Serialize, PartialEq, Debug)]
    struct States {
        explored: u64,
        reached_not_explored: u64,
        generated: u64,
        depth: u64,
    }
    let tmp = tempfile::tempdir().unwrap();
    let incremental = [&["--variant", "cow"][..], CHECK_VIOLATING[1]].concat();
    let runs: [(&[&str], i32); 3] = [
        (&[&incremental[..], &["--depth", "20"]].concat(), 3),
        (&incremental, 1),
        (&[], 0),
    ];
    for (flags, want) in runs {
        let junit = tmp.path().join("check.xml");
        let json = tmp.path().join("check.json");
        let mut args = vec!["check", "--threads", "1"];
        args.extend(flags);
        let (j, x, t) = (s(&json), s(&junit), s(&tmp.path().join("traces")));
        args.extend(["--json", &j, "--junit", &x, "--trace-dir", &t]);
        let o = owm(&args);
        assert_eq!(code(&o), want, "{flags:?}: {}{}", stdout(&o), stderr(&o));
        let properties = stdout(&o)
            .lines()
            .filter(|l| l.starts_with("  always") || l.starts_with("  sometimes"))
            .count();
        assert!(properties >= 10, "{}", stdout(&o));

        let text = std::fs::read_to_string(&json).unwrap();
        let raw: serde_json::Value = serde_json::from_str(&text).unwrap();
        let v: Verdicts = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(serde_json::to_value(&v).unwrap(), raw, "round trip");
        assert_eq!((v.command.as_str(), v.exit_code), ("check", want as u8));
        assert_eq!(v.cases.len(), properties);
        // The states explored are the initial state and those a taken action led to;
        // a cut search (only) reached more; the text says the same.
        let taken: u64 = v.coverage.actions.iter().map(|k| k.taken).sum();
        assert_eq!(v.states.explored, taken + 1, "{text}");
        assert_eq!(v.states.reached_not_explored > 0, want == 3, "{text}");
        assert!(stdout(&o).contains(&format!("explored {} unique states", v.states.explored)));
        // Coverage: every action kind, each taken no more often than enabled, and the
        // search took some steps; the text output prints the same table.
        assert_eq!(v.coverage.actions.len(), model::ActionKind::ALL.len());
        assert!(v.coverage.actions.iter().all(|k| k.taken <= k.enabled));
        let write = v.coverage.of(model::ActionKind::Write);
        assert!(write.taken > 0, "{text}");
        let row = format!("  {:14} {:>12} {:>12}", "write", write.enabled, write.taken);
        assert!(stdout(&o).contains(&row), "{row:?}\n{}", stdout(&o));
        assert_eq!(v.coverage.witnesses.len(), 6, "{text}");
        assert!(
            v.reproduce.starts_with("owm check --variant"),
            "{}",
            v.reproduce
        );

        let xml = std::fs::read_to_string(&junit).unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let cases: Vec<roxmltree::Node> = doc
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(cases.len(), properties);
        let with = |tag: &str| -> Vec<&str> {
            cases
                .iter()
                .filter(|c| c.children().any(|k| k.has_tag_name(tag)))
                .map(|c| c.attribute("name").unwrap())
                .collect()
        };
        let (failed, skipped) = (with("failure"), with("skipped"));
        let root = doc.root_element();
        assert_eq!(
            root.attribute("tests"),
            Some(properties.to_string().as_str())
        );
        assert_eq!(
            root.attribute("failures"),
            Some(failed.len().to_string().as_str())
        );
        assert_eq!(
            root.attribute("skipped"),
            Some(skipped.len().to_string().as_str())
        );
        match want {
            3 => {
                assert!(failed.is_empty(), "{failed:?}");
                assert!(skipped.contains(&"B-complete"), "{skipped:?}");
                let b = v.cases.iter().find(|c| c.name == "B-complete").unwrap();
                assert_eq!(
                    (b.verdict.as_str(), b.bound.as_deref()),
                    ("held-within", Some("depth 20"))
                );
                assert!(b.cut.unwrap() > 0);
                let msg = cases
                    .iter()
                    .find(|c| c.attribute("name") == Some("B-complete"))
                    .and_then(|c| c.children().find(|k| k.has_tag_name("skipped")))
                    .and_then(|k| k.attribute("message"))
                    .unwrap();
                assert!(msg.starts_with("held within depth 20;"), "{msg}");
            }
            1 => {
                assert!(failed.contains(&"B-complete"), "{failed:?}");
                assert!(!failed.contains(&"A-consistent"), "{failed:?}");
                let b = v.cases.iter().find(|c| c.name == "B-complete").unwrap();
                assert_eq!(b.verdict, "violated");
                // One thread breadth first: the trace is the shortest, as long as the
                // trace file written.
                let path = tmp.path().join("traces/b-complete.trace");
                let file = std::fs::read_to_string(&path).unwrap();
                let steps = file.lines().filter(|l| l.starts_with("step ")).count() as u64;
                // It names that file and the command that replays it.
                assert_eq!(
                    b.trace,
                    Some(TraceLength {
                        steps,
                        shortest: true,
                        not_shortest: None,
                        file: s(&path),
                        replay: format!("owm check --replay {}", s(&path)),
                    })
                );
            }
            _ => {
                assert!(failed.is_empty() && skipped.is_empty(), "{xml}");
                assert!(v.cases.iter().all(|c| c.verdict == "held"), "{text}");
            }
        }
    }
}

/// A model file's check: its trace carries the transactions themselves, so it replays
/// after the file is gone, and the reproduce line gives the same verdict without it.
/// A bad file names its line and key, exit 2.
#[test]
fn a_model_file_is_checked_and_its_trace_replays_without_it() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(
        tmp.path(),
        "m.toml",
        "blocks = 3\n\n[[transaction]]\nrole = \"old\"\nfrom = 0\nto = 2\namount = 4\n\n\
         [[transaction]]\nrole = \"new\"\nfrom = 2\nto = 1\namount = 7\n",
    );
    let dir = tmp.path().join("traces");
    let args = ["check", "--model", &file, "--discipline", "incremental"];
    let o = owm(&[&args[..], &["--threads", "1", "--trace-dir", &s(&dir)]].concat());
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("--blocks 3 --transactions old:0:2:4,new:2:1:7"),
        "{}",
        stdout(&o)
    );
    let reproduce = reproduce_args(&o);
    std::fs::remove_file(&file).unwrap();
    let o = owm(&["check", "--replay", &s(&dir.join("b-complete.trace"))]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    replayed(&o, "B-complete");
    assert!(
        stdout(&o).contains("from record 2 to record 1"),
        "{}",
        stdout(&o)
    );
    let args: Vec<&str> = reproduce.iter().map(String::as_str).collect();
    let again = owm(&args);
    assert_eq!(code(&again), 1, "{}", stderr(&again));

    let bad = write(
        tmp.path(),
        "bad.toml",
        "[[transaction]]\nrole = \"old\"\nfrom = 0\nto = 5\namount = 1\n\n\
         [[transaction]]\nrole = \"new\"\nfrom = 0\nto = 1\namount = 1\n",
    );
    let o = owm(&["check", "--model", &bad]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            "bad.toml:4: key `transaction.0.to`",
            "records are 0..=1 (blocks x records per block), got 5",
        ],
    );
    let o = owm(&["check", "--model", &s(&tmp.path().join("absent.toml"))]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["absent.toml", "cannot read"]);
}

/// `--symmetry on` (depth first): a violation it finds is written as a trace of real
/// steps that `--replay` reproduces (exit 1), and the reproduce line names the flag.
#[test]
fn a_violation_found_under_symmetry_replays() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("traces");
    let o = owm(&[
        "check",
        "--old",
        "2",
        "--new",
        "2",
        "--amounts",
        "equal",
        "--transfers",
        "same",
        "--discipline",
        "incremental",
        "--aborts",
        "off",
        "--symmetry",
        "on",
        "--threads",
        "1",
        "--trace-dir",
        &s(&dir),
    ]);
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    // Interchangeable transactions here: no note that the flag reduces nothing.
    assert!(!stderr(&o).contains("reduces nothing"), "{}", stderr(&o));
    assert!(
        reproduce_args(&o).join(" ").contains("--dfs --symmetry on"),
        "{}",
        stdout(&o)
    );
    let o = owm(&["check", "--replay", &s(&dir.join("b-complete.trace"))]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    replayed(&o, "B-complete");
    // The default configuration has none interchangeable (distinct amounts): the flag
    // reduces nothing and costs the shortest traces, said so.
    let o = owm(&[
        "check",
        "--symmetry",
        "on",
        "--depth",
        "5",
        "--trace-dir",
        &s(&dir),
    ]);
    assert!(
        stderr(&o).contains(
            "note: --symmetry on: no two transactions of this \
                             configuration are interchangeable, so it reduces nothing"
        ),
        "{}",
        stderr(&o)
    );
    // Random walks take no symmetry: refused, exit 2.
    let o = owm(&["check", "--symmetry", "on", "--simulate", "--walks", "1"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["random walks", "--symmetry"]);
}

/// A refusal for memory points at `--symmetry on` exactly when some transactions are
/// interchangeable (equal amounts over the same records), where it would shrink the
/// space; with distinct amounts it does not.
#[test]
fn a_refusal_suggests_symmetry_only_where_it_applies() {
    let base = [
        "check",
        "--old",
        "4",
        "--new",
        "4",
        "--memory-max",
        "0.001",
        "--threads",
        "1",
    ];
    let o = owm(&[
        &base[..],
        &["--amounts", "equal", "--transfers", "same"][..],
    ]
    .concat());
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["refused", "--symmetry on"]);
    let o = owm(&base);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["refused"]);
    assert!(!stderr(&o).contains("--symmetry"), "{}", stderr(&o));
}

/// `--depth D` judges every state at depth D (the initial state is depth 1), in the
/// exhaustive search as in random walks: a violation whose shortest trace has L steps
/// (its violating state at depth L + 1) is found by `--depth L+1` in both modes, and
/// `--depth L` says "held within depth L" (exhaustive) or finds none (walks).
#[test]
fn a_depth_bound_judges_the_states_at_that_depth_in_both_modes() {
    let model = one_and_one();
    let tmp = tempfile::tempdir().unwrap();
    let dir = s(&tmp.path().join("t"));
    let traces = ["--trace-dir", dir.as_str()];
    let o = owm(&[&model[..], &traces[..]].concat());
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    let trace = std::fs::read_to_string(tmp.path().join("t/b-complete.trace")).unwrap();
    let steps = trace.lines().filter(|l| l.starts_with("step ")).count();
    assert!(steps > 1, "{trace}");
    let (at, above) = ((steps + 1).to_string(), steps.to_string());
    for walks in [&[][..], &["--simulate", "--walks", "2000"][..]] {
        let o = owm(&[&model[..], walks, &["--depth", &at], &traces[..]].concat());
        assert_eq!(code(&o), 1, "--depth {at} {walks:?}: {}", stdout(&o));
        let line = stdout(&o)
            .lines()
            .find(|l| l.contains("B-complete "))
            .map(str::to_string)
            .unwrap();
        assert!(line.contains("VIOLATED"), "{line}");
        let o = owm(&[&model[..], walks, &["--depth", &above], &traces[..]].concat());
        assert_eq!(code(&o), 3, "--depth {above} {walks:?}: {}", stdout(&o));
        assert!(!stdout(&o).contains("VIOLATED"), "{}", stdout(&o));
        if walks.is_empty() {
            assert!(
                stdout(&o).contains(&format!("held within depth {above}")),
                "{}",
                stdout(&o)
            );
        }
    }
}

/// A search cut by `--states-max` says how many states it explored (judged) and how
/// many more it reached without exploring them, the same figures in the text and the
/// JSON; the explored ones are those the coverage counts as taken, plus the initial
/// state; and its verdicts claim the states explored, not the budget.
#[test]
fn a_cut_search_reports_explored_and_reached_states_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let json = s(&tmp.path().join("v.json"));
    let dir = s(&tmp.path().join("t"));
    let o = owm(&[
        "check",
        "--old",
        "2",
        "--new",
        "2",
        "--threads",
        "1",
        "--states-max",
        "1000",
        "--json",
        &json,
        "--trace-dir",
        &dir,
    ]);
    assert_eq!(code(&o), 3, "{}{}", stdout(&o), stderr(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let n = |k: &str| {
        v["states"][k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k}: {v}"))
    };
    let (explored, cut) = (n("explored"), n("reached_not_explored"));
    let taken: u64 = v["coverage"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["taken"].as_u64().unwrap())
        .sum();
    assert_eq!(explored, taken + 1, "{v}");
    assert!(cut > 0, "{v}");
    let text = stdout(&o);
    assert!(
        text.contains(&format!(
            "explored {explored} unique states, reached {cut} more not explored"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "INCOMPLETE: {cut} states reached but not explored"
        )),
        "{text}"
    );
    assert!(text.contains(&format!("{explored} explored")), "{text}");
    let within = format!("held within the {explored} states explored (cut by --states-max 1000)");
    assert!(text.contains(&within), "{text}");
    assert!(v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["bound"].as_str() == Some(&within["held within ".len()..])));
}

/// One Ctrl-C during an exhaustive search stops it: it reports what it covered (cut
/// by an interrupt), writes its JSON verdict and exits 3, as a bound that cut it
/// would; a second Ctrl-C ends the process at once with 130.
#[test]
fn one_ctrl_c_stops_a_check_with_exit_3_and_a_verdict_two_with_130() {
    use std::io::Read;
    let tmp = tempfile::tempdir().unwrap();
    let json = s(&tmp.path().join("v.json"));
    let dir = s(&tmp.path().join("t"));
    let args = [
        "check",
        "--old",
        "2",
        "--new",
        "2",
        "--threads",
        "1",
        "--states-max",
        "1000000",
        "--timeout",
        "1000",
        "--json",
        &json,
        "--trace-dir",
        &dir,
    ];
    let mut p = spawn_paused(&args, "check search");
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(p.child.id() as i32, libc::SIGINT) }, 0);
    // The handler runs on its own thread: wait until it says it saw the signal.
    p.wait_for("interrupted: stopping");
    drop(p.child.stdin.take()); // ends the pause
    let mut rest = String::new();
    p.stderr.read_to_string(&mut rest).unwrap();
    let o = p.child.wait_with_output().unwrap();
    assert_eq!(code(&o), 3, "{}{}{rest}", stdout(&o), p.said);
    let text = stdout(&o);
    assert!(text.contains("(cut by an interrupt)"), "{text}");
    // The bounds set cut nothing: neither is named or explained, and no witness depth
    // is said to be of any kind when none was reached.
    assert!(
        text.lines().any(|l| l
            == "INCOMPLETE: 1 state reached but not explored (cut by an interrupt); \
                verdicts hold only within it"),
        "{text}"
    );
    assert!(
        !text.contains("--states-max 1000000 stops") && !text.contains("1000 s"),
        "{text}"
    );
    assert!(text.contains("\nwitnesses (none reached):\n"), "{text}");
    // Interrupted before its first state: no witness reached, nothing said to hold.
    assert!(held_only_where_witnessed(&o).is_empty(), "{text}");
    assert!(
        text.contains("result: incomplete: no invariant's witness was reached within the 0 states explored (cut by an interrupt)"),
        "{text}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["exit_code"], 3, "{v}");
    assert!(
        v["states"]["reached_not_explored"].as_u64().unwrap() > 0,
        "{v}"
    );

    std::fs::remove_file(&json).unwrap();
    let mut p = spawn_paused(&args, "check search");
    // Held open until the process ends: closing it would end the pause.
    let _stdin = p.child.stdin.take();
    for _ in 0..2 {
        // SAFETY: as above.
        assert_eq!(unsafe { libc::kill(p.child.id() as i32, libc::SIGINT) }, 0);
        if p.said.matches("interrupted: stopping").count() == 0 {
            p.wait_for("interrupted: stopping");
        }
    }
    let o = p.child.wait_with_output().unwrap();
    assert_eq!(code(&o), 130, "{}", stdout(&o));
    assert!(!std::path::Path::new(&json).exists());
}

/// Each violation's trace header (`B-complete violated; shortest trace (18 steps):`)
/// by invariant, and the steps of the trace file written for it.
fn traces(o: &Output, dir: &std::path::Path) -> Vec<(String, String, usize)> {
    stdout(o)
        .lines()
        .filter_map(|l| l.split_once(" violated; "))
        .map(|(name, header)| {
            let file = dir.join(format!("{}.trace", name.to_lowercase()));
            let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file:?}: {e}"));
            let steps = text.lines().filter(|l| l.starts_with("step ")).count();
            (name.to_string(), header.to_string(), steps)
        })
        .collect()
}

/// On several threads a violation's trace is the shortest once the search for it
/// completes: for every violating configuration here, two threads print the same
/// traces as one (each headed "shortest trace (N steps)", N the steps of the trace
/// file written), and the same verdicts.
#[test]
fn two_threads_report_the_shortest_trace_one_thread_finds() {
    let tmp = tempfile::tempdir().unwrap();
    for model in CHECK_VIOLATING {
        let at = |threads: &str| {
            let dir = tmp.path().join(format!("t{threads}"));
            let o = owm(&[
                &["check", "--threads", threads],
                *model,
                &["--trace-dir", &s(&dir)],
            ]
            .concat());
            assert_eq!(
                code(&o),
                1,
                "{model:?} {threads}: {}{}",
                stdout(&o),
                stderr(&o)
            );
            (traces(&o, &dir), o)
        };
        let ((one, o1), (two, o2)) = (at("1"), at("2"));
        assert!(!one.is_empty(), "{model:?}");
        for (name, header, steps) in &one {
            assert_eq!(
                header,
                &format!("shortest trace ({steps} steps):"),
                "{model:?} {name}"
            );
        }
        assert_eq!(two, one, "{model:?}");
        let verdicts = |o: &Output| -> Vec<String> {
            verdict_lines(o)
                .into_iter()
                .filter(|l| l.starts_with("  always"))
                .collect()
        };
        assert_eq!(verdicts(&o2), verdicts(&o1), "{model:?}");
    }
}

/// A trace is headed "shortest" only when proven: depth first the search's trace is
/// printed as "a trace (N steps; not proven shortest: depth first reports the first
/// violation it met)", and the JSON verdict says `"shortest": false` and why; the
/// violation still exits 1. One thread breadth first needs no second search: it
/// prints the shortest trace. (A memory budget that cuts the search for the shortest
/// after a search on several threads is said the same way: `model/src/check.rs`.)
#[test]
fn a_trace_is_called_shortest_only_when_proven() {
    let tmp = tempfile::tempdir().unwrap();
    let model = CHECK_VIOLATING[2];
    let at = |how: &[&str]| {
        let dir = tmp.path().join(format!("t{}", how.len()));
        let json = tmp.path().join(format!("v{}.json", how.len()));
        let o = owm(&[
            &["check", "--threads", "1"][..],
            how,
            model,
            &["--trace-dir", &s(&dir), "--json", &s(&json)],
        ]
        .concat());
        assert_eq!(code(&o), 1, "{how:?}: {}{}", stdout(&o), stderr(&o));
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        (traces(&o, &dir), v)
    };
    let (two, v) = at(&["--dfs"]);
    assert!(!two.is_empty());
    for (name, header, steps) in &two {
        let lead = format!(
            "a trace ({steps} steps; not proven shortest: depth first reports the first \
             violation it met)"
        );
        assert!(header.starts_with(&lead), "{name}: {header}");
        let case = v["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name.as_str())
            .unwrap();
        assert_eq!(case["verdict"], "violated", "{case}");
        assert_eq!(case["trace"]["steps"], *steps as u64, "{case}");
        assert_eq!(case["trace"]["shortest"], false, "{case}");
        let why = case["trace"]["not_shortest"].as_str().unwrap();
        assert!(header.contains(why), "{why}\n{header}");
    }
    let (one, v) = at(&[]);
    assert_eq!(one.len(), two.len());
    for (name, header, steps) in &one {
        assert_eq!(
            header,
            &format!("shortest trace ({steps} steps):"),
            "{name}"
        );
        let case = v["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name.as_str())
            .unwrap();
        assert_eq!(case["trace"]["shortest"], true, "{case}");
        assert!(case["trace"].get("not_shortest").is_none(), "{case}");
    }
}

/// `--dfs --depth D` claims what it judged: every path to a state of the model has the
/// same length, so depth first meets every state within D that breadth first does.
/// Cut one step short of the nearest violation, both say "held within depth D" on
/// the same property lines and exit 3 (never 0); at its depth both find it (exit 1),
/// the same invariants violated.
#[test]
fn a_depth_first_depth_bound_judges_what_breadth_first_does() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("t");
    let model = CHECK_VIOLATING[1];
    let o = owm(&[
        &["check", "--threads", "1"],
        model,
        &["--trace-dir", &s(&dir)],
    ]
    .concat());
    let nearest = traces(&o, &dir).iter().map(|t| t.2 + 1).min().unwrap();
    let properties = |o: &Output| -> Vec<String> {
        verdict_lines(o)
            .into_iter()
            .filter(|l| l.starts_with("  always") || l.starts_with("  sometimes"))
            .collect()
    };
    for (depth, exit) in [(nearest - 1, 3), (nearest, 1)] {
        let d = depth.to_string();
        let at = |dfs: &[&str]| {
            let o = owm(&[
                &["check", "--threads", "1", "--depth", &d][..],
                model,
                dfs,
                &["--trace-dir", &s(&dir)],
            ]
            .concat());
            assert_eq!(
                code(&o),
                exit,
                "--depth {d} {dfs:?}: {}{}",
                stdout(&o),
                stderr(&o)
            );
            o
        };
        let (bfs, dfs) = (at(&[]), at(&["--dfs"]));
        assert_eq!(properties(&dfs), properties(&bfs), "--depth {d}");
        if exit == 3 {
            assert!(
                stdout(&dfs).contains(&format!("held within depth {d}")),
                "{}",
                stdout(&dfs)
            );
        } else {
            assert!(stdout(&dfs).contains("VIOLATED"), "{}", stdout(&dfs));
        }
    }
}

/// `--memory-max` bounds the search itself, within four transactions too: a limit the
/// process passes as it searches stops it (exit 3, `cut by --memory-max 0.03 GiB: the
/// process held N MiB`, every invariant held only within the states explored, in the
/// JSON too), and the `reproduce:` line carries it; a limit below what the process
/// holds before the search stops it before its first state; one the search fits in
/// cuts nothing (exit 0). Beside random walks, which hold constant memory, it is
/// refused (exit 2).
#[test]
fn memory_max_bounds_every_search() {
    let tmp = tempfile::tempdir().unwrap();
    let t = s(&tmp.path().join("t"));
    let json = tmp.path().join("v.json");
    let large = [
        "check",
        "--old",
        "2",
        "--new",
        "2",
        "--records-per-block",
        "2",
        "--locks",
        "record",
        "--discipline",
        "incremental",
        "--threads",
        "1",
        "--trace-dir",
        &t,
    ];
    let o = owm(&[&large[..], &["--memory-max", "0.03", "--json", &s(&json)]].concat());
    assert_eq!(code(&o), 3, "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("INCOMPLETE: ")
            && text.contains("(cut by --memory-max 0.03 GiB: the process held "),
        "{text}"
    );
    held_only_where_witnessed(&o);
    assert!(
        text.contains("B-complete                           held within the ")
            || text.contains("B-complete                           not reached within the "),
        "{text}"
    );
    assert!(reproduce_args(&o).ends_with(&["--memory-max".into(), "0.03".into()]));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["exit_code"], 3, "{v}");
    let case = &v["cases"][0];
    let scope = match case["verdict"].as_str() {
        Some("held-within") => case["bound"].as_str(),
        Some("not-reached") => case["reason"].as_str(),
        _ => None,
    };
    assert!(
        scope
            .unwrap_or_else(|| panic!("{case}"))
            .contains("--memory-max 0.03 GiB"),
        "{case}"
    );

    let o = owm(&[
        "check",
        "--old",
        "1",
        "--new",
        "1",
        "--memory-max",
        "0.0000001",
        "--trace-dir",
        &t,
    ]);
    assert_eq!(code(&o), 3, "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("explored 0 unique states, reached 1 more not explored"),
        "{}",
        stdout(&o)
    );

    let o = owm(&[
        "check",
        "--threads",
        "1",
        "--memory-max",
        "4",
        "--trace-dir",
        &t,
    ]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("complete: every reachable state"));

    let o = owm(&["check", "--simulate", "--walks", "1", "--memory-max", "1"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["--simulate", "--memory-max", "cannot be used with"]);
}

/// `--timeout` counts the whole command: beyond four transactions the estimate's
/// searches of the smaller configurations run first, and a timeout they use up leaves
/// the estimate not made (said so) and the search exploring nothing (exit 3). Random
/// walks make no estimate under `--timeout` (`walks.rs`).
#[test]
fn the_timeout_counts_the_estimates_searches() {
    let tmp = tempfile::tempdir().unwrap();
    let seven = [
        "check",
        "--locks",
        "record",
        "--records-per-block",
        "2",
        "--old",
        "4",
        "--new",
        "3",
        "--timeout",
        "0.001",
    ];
    let t = s(&tmp.path().join("t"));
    let o = owm(&[&seven[..], &["--dfs", "--trace-dir", &t]].concat());
    assert_eq!(code(&o), 3, "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains(
            "estimate: not made: its searches of the smaller configurations were cut by --timeout 0.001 s"
        ) && text.contains("explored 0 unique states")
            && text.contains("(cut by --timeout 0.001 s)"),
        "{text}"
    );
    assert!(held_only_where_witnessed(&o).is_empty(), "{text}");
}

/// The coverage's witness depths say which witness they are: breadth first on one
/// thread the shallowest (the default configuration's 9, 13, 14, 15, 28), on two
/// threads the first found (not the shallowest), depth first the first met; a witness
/// a depth bound kept the search from reads `not reached`, never "reached at not
/// reached".
#[test]
fn witness_depths_say_which_witness_they_are() {
    let tmp = tempfile::tempdir().unwrap();
    let t = s(&tmp.path().join("t"));
    let witnesses = |o: &Output| -> Vec<String> {
        stdout(o)
            .lines()
            .skip_while(|l| !l.starts_with("witnesses (depth: "))
            .take(6)
            .map(str::to_string)
            .collect()
    };
    let o = owm(&["check", "--threads", "1", "--trace-dir", &t]);
    ok(&o);
    let w = witnesses(&o);
    assert_eq!(w[0], "witnesses (depth: the shallowest):", "{w:?}");
    let depths: Vec<&str> = w[1..]
        .iter()
        .map(|l| l.rsplit(' ').next().unwrap())
        .collect();
    assert_eq!(depths, ["9", "13", "14", "15", "28"], "{w:?}");
    let o = owm(&["check", "--threads", "2", "--trace-dir", &t]);
    ok(&o);
    assert_eq!(
        witnesses(&o)[0],
        "witnesses (depth: the first found by 2 threads, not the shallowest: --threads 1 gives it):"
    );
    let o = owm(&["check", "--dfs", "--threads", "1", "--trace-dir", &t]);
    ok(&o);
    assert!(
        witnesses(&o)[0].starts_with("witnesses (depth: the first found depth first"),
        "{:?}",
        witnesses(&o)
    );
    let o = owm(&[
        "check",
        "--threads",
        "1",
        "--depth",
        "10",
        "--trace-dir",
        &t,
    ]);
    assert_eq!(code(&o), 3, "{}", stdout(&o));
    let w = witnesses(&o);
    assert!(w[1].ends_with("reached at depth 9"), "{w:?}");
    for l in &w[2..] {
        assert!(l.ends_with(" not reached"), "{w:?}");
    }
    assert!(!stdout(&o).contains("at not reached"), "{}", stdout(&o));
}

/// A depth-first search's witness header names the flags, changed from its `reproduce`
/// line, that give the shallowest witness, and only those not already so: `--symmetry
/// off` too when symmetry reduction made the search depth first (with or without
/// `--dfs`), `--threads 1` only when it was not one thread. Following it gives the
/// shallowest.
#[test]
fn the_witness_header_says_what_gives_the_shallowest() {
    let tmp = tempfile::tempdir().unwrap();
    let t = s(&tmp.path().join("t"));
    let header = |o: &Output| -> String {
        stdout(o)
            .lines()
            .find(|l| l.starts_with("witnesses (depth: "))
            .unwrap_or_else(|| panic!("no witnesses header:\n{}", stdout(o)))
            .to_string()
    };
    let first_met = "witnesses (depth: the first found depth first, not the shallowest: \
                     breadth first on one thread";
    let by_symmetry = "witnesses (depth: the first found depth first (symmetry reduction \
                       searches only depth first), not the shallowest: breadth first on one \
                       thread";
    for (flags, expected) in [
        (
            &["--dfs", "--threads", "1"][..],
            format!("{first_met} (no --dfs) gives it):"),
        ),
        (
            &["--dfs", "--threads", "2"][..],
            format!("{first_met} (no --dfs, --threads 1) gives it):"),
        ),
        (
            &["--symmetry", "on", "--threads", "1"][..],
            format!("{by_symmetry} (--symmetry off, no --dfs) gives it):"),
        ),
        (
            &["--symmetry", "on", "--dfs", "--threads", "2"][..],
            format!("{by_symmetry} (--symmetry off, no --dfs, --threads 1) gives it):"),
        ),
    ] {
        let o = owm(&[&["check", "--trace-dir", &t][..], flags].concat());
        ok(&o);
        let h = header(&o);
        assert_eq!(h, expected, "{flags:?}");
        // Follow the header on the reproduce line: set each `--flag value`, drop each
        // `no --flag`.
        let changes = h
            .rsplit_once(" (")
            .and_then(|(_, c)| c.strip_suffix(") gives it):"))
            .unwrap_or_else(|| panic!("{h}"));
        let mut args = reproduce_args(&o);
        for change in changes.split(", ") {
            if let Some(flag) = change.strip_prefix("no ") {
                let at = args.iter().position(|a| a == flag).expect(flag);
                args.remove(at);
            } else {
                let (flag, value) = change.split_once(' ').unwrap();
                let at = args.iter().position(|a| a == flag).expect(flag);
                args[at + 1] = value.to_string();
            }
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = owm(&args);
        ok(&o);
        assert_eq!(header(&o), "witnesses (depth: the shallowest):", "{args:?}");
    }
}

/// A refusal for memory suggests only what the search does not do already: no `--dfs`
/// beside a depth-first search (`--dfs`, or `--symmetry on`, which searches depth first),
/// a larger `--memory-max` than the one given, a lower `--states-max` than the one
/// given, no `--states-max` when not one state fits, no symmetry when it is on.
#[test]
fn a_memory_refusal_suggests_only_what_was_not_done() {
    let tmp = tempfile::tempdir().unwrap();
    let t = s(tmp.path());
    let refusal = |flags: &[&str]| -> String {
        let o = owm(&[
            &["check", "--old", "4", "--new", "3", "--trace-dir", &t][..],
            flags,
        ]
        .concat());
        assert_eq!(code(&o), 2, "{flags:?}: {}{}", stdout(&o), stderr(&o));
        fails_with(&o, &["refused: 7 transactions need"]);
        stderr(&o)
    };
    // About 3.9e6 states: 74.30 MiB depth first, past a 10.2 MiB limit (so --dfs is not
    // suggested), within a 204.8 MiB one (so it is, with its size).
    let bfs = refusal(&["--memory-max", "0.01"]);
    assert!(
        bfs.contains(
            "; bound the states (--states-max 559 or fewer fit breadth first, beside the \
             process's own 10.00 MiB), or allow \
             more (a larger --memory-max)"
        ),
        "{bfs}"
    );
    assert!(!bfs.contains("--dfs"), "{bfs}");
    let bfs = refusal(&["--memory-max", "0.2"]);
    assert!(
        bfs.contains(
            "; search depth first (--dfs: about 74.30 MiB at 20 bytes a state), or bound the \
             states (--states-max 453916 or fewer fit breadth first, beside the process's \
             own 10.00 MiB), or allow more (a \
             larger --memory-max)"
        ),
        "{bfs}"
    );
    let dfs = refusal(&["--dfs", "--memory-max", "0.01"]);
    assert!(!dfs.contains("--dfs)"), "{dfs}");
    assert!(
        dfs.contains(
            "; bound the states (--states-max 12582 or fewer fit depth first, beside the \
             process's own 10.00 MiB), or allow more \
             (a larger --memory-max)"
        ),
        "{dfs}"
    );
    // Equal amounts make transactions of a role interchangeable: symmetry is suggested
    // while off; on, it searches depth first, so neither it nor --dfs is.
    let alike = refusal(&["--amounts", "equal", "--memory-max", "0.001"]);
    assert!(
        alike.contains(
            "(a larger --memory-max), or reduce by symmetry (--symmetry on: some \
             transactions are interchangeable)"
        ),
        "{alike}"
    );
    let symmetry = refusal(&[
        "--amounts",
        "equal",
        "--symmetry",
        "on",
        "--memory-max",
        "0.0101",
    ]);
    assert!(!symmetry.contains("--dfs)"), "{symmetry}");
    assert!(!symmetry.contains("reduce by symmetry"), "{symmetry}");
    assert!(
        symmetry.contains(
            "; bound the states (--states-max 17951 or fewer fit depth first, beside the \
             process's own 10.00 MiB)"
        ),
        "{symmetry}"
    );
    let bounded = refusal(&[
        "--dfs",
        "--memory-max",
        "0.01",
        "--states-max",
        "1000000000",
    ]);
    assert!(
        bounded.contains(
            "; lower the bound (--states-max 12582 or fewer fit depth first, beside the \
             process's own 10.00 MiB)"
        ),
        "{bounded}"
    );
    // 1e-9 GiB is about a byte: no state fits, so no --states-max is suggested.
    let none_fits = refusal(&["--dfs", "--memory-max", "0.000000001"]);
    assert!(!none_fits.contains("--states-max"), "{none_fits}");
    assert!(
        none_fits.contains("; allow more (a larger --memory-max)"),
        "{none_fits}"
    );
}

/// A replayed trace with a step after the run's end says the run has ended, never an
/// empty list of the steps possible (exit 2, naming the line).
#[test]
fn a_step_after_the_end_says_the_run_has_ended() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("t");
    let o = owm(&[&one_and_one()[..], &["--trace-dir", &s(&dir)]].concat());
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    let text = std::fs::read_to_string(dir.join("b-complete.trace")).unwrap();
    let lines = text.lines().count();
    let extra = write(
        tmp.path(),
        "extra.trace",
        &format!("{text}step T0 commit\n"),
    );
    let o = owm(&["check", "--replay", &extra]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            &format!("extra.trace:{}", lines + 1),
            "`T0 commit` is not possible here (the run has ended: no step is possible)",
        ],
    );
    assert!(!stderr(&o).contains("(possible: )"), "{}", stderr(&o));
}

/// A search cut by a bound says `held within` the bound only of an invariant whose
/// witness it reached there (M1): on one old and one new transaction at `--depth 18`,
/// one step short of the nearest violation of B-complete, no run has ended, so
/// B-complete and bank-conserved read `not reached within depth 18 (its witness "run
/// ended" was never reached)` (JSON `not-reached`, JUnit skipped) while A-isolated held
/// within the bound; the result line names both groups; exit 3.
#[test]
fn a_bound_short_of_a_witness_says_not_reached_not_held() {
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("v.json");
    let junit = tmp.path().join("v.xml");
    let o = owm(&[
        &one_and_one()[..],
        &[
            "--depth",
            "18",
            "--trace-dir",
            &s(&tmp.path().join("t")),
            "--json",
            &s(&json),
            "--junit",
            &s(&junit),
        ],
    ]
    .concat());
    assert_eq!(code(&o), 3, "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    let held = held_only_where_witnessed(&o);
    assert!(held.contains(&"A-isolated".to_string()), "{text}");
    for name in ["B-complete", "bank-conserved"] {
        assert!(!held.contains(&name.to_string()), "{text}");
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("  always    {name} "))
                    && l.ends_with(
                        "not reached within depth 18 (its witness \"run ended\" was never reached)"
                    )),
            "{text}"
        );
    }
    let result = text
        .lines()
        .find(|l| l.starts_with("result: "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        result.starts_with("result: incomplete: held within depth 18: A-consistent, A-isolated")
            && result.contains(
                "; not reached (their witnesses were never reached): B-complete, bank-conserved;"
            ),
        "{result}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["exit_code"], 3, "{v}");
    let case = |name: &str| {
        v["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name}: {v}"))
            .clone()
    };
    let b = case("B-complete");
    assert_eq!(b["verdict"], "not-reached", "{b}");
    let reason = b["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("its witness \"run ended\" was never reached within depth 18 ("),
        "{reason}"
    );
    assert_eq!(case("A-isolated")["verdict"], "held-within");
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let skipped = doc
        .descendants()
        .find(|n| n.attribute("name") == Some("B-complete"))
        .and_then(|c| c.children().find(|k| k.has_tag_name("skipped")))
        .and_then(|k| k.attribute("message"))
        .unwrap_or_else(|| panic!("{xml}"));
    assert!(
        skipped.starts_with(
            "not reached (its witness \"run ended\" was never reached within depth 18"
        ),
        "{skipped}"
    );
    // One step deeper the same invariant is violated: "held within depth 18" would
    // have claimed what the search had not looked at.
    let o = owm(&[
        &one_and_one()[..],
        &["--depth", "19", "--trace-dir", &s(&tmp.path().join("t"))],
    ]
    .concat());
    assert_eq!(code(&o), 1, "{}", stdout(&o));
}

/// A `--timeout` too short to explore any state says of no invariant that it held:
/// every `always` reads `not reached within the 0 states explored`, the JSON
/// `not-reached` for each, the result line no `held within`; exit 3.
#[test]
fn a_search_that_explored_nothing_says_nothing_held() {
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("v.json");
    let o = owm(&[
        "check",
        "--old",
        "3",
        "--new",
        "3",
        "--timeout",
        "0.001",
        "--trace-dir",
        &s(&tmp.path().join("t")),
        "--json",
        &s(&json),
    ]);
    assert_eq!(code(&o), 3, "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("explored 0 unique states"), "{text}");
    assert!(held_only_where_witnessed(&o).is_empty(), "{text}");
    assert!(!text.contains("held within"), "{text}");
    assert!(
        text.contains("result: incomplete: no invariant's witness was reached within the 0 states explored (cut by --timeout 0.001 s)"),
        "{text}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["exit_code"], 3, "{v}");
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.iter().all(|c| c["verdict"] != "held-within"), "{v}");
    assert_eq!(
        cases
            .iter()
            .filter(|c| c["verdict"] == "not-reached")
            .count(),
        7,
        "{v}"
    );
    assert!(
        stderr(&o).contains("7 not reached; exit 3)") || text.contains("7 not reached; exit 3)"),
        "{}{}",
        text,
        stderr(&o)
    );
}

/// Without `--memory-max` a refusal's advice leaves room for the machine's other work:
/// the `--states-max` it suggests fits half of the memory it says is available (700
/// bytes a state breadth first), and it does not suggest a `--memory-max`, which
/// could lift the refusal only past what the machine has.
#[test]
fn a_refusal_without_a_memory_limit_suggests_half_the_machine() {
    let tmp = tempfile::tempdir().unwrap();
    let o = owm(&[
        "check",
        "--old",
        "4",
        "--new",
        "4",
        "--locks",
        "record",
        "--records-per-block",
        "2",
        "--trace-dir",
        &s(tmp.path()),
    ]);
    // About 3.5e9 states, 2,300 GiB breadth first: more than any machine this runs on.
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    let msg = stderr(&o);
    let number_before = |text: &str, tail: &str| -> f64 {
        let at = text.find(tail).unwrap_or_else(|| panic!("{tail}: {text}"));
        text[..at]
            .rsplit(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{tail}: {text}"))
    };
    // Printed to 0.1 GiB (0.1 MiB below 1 GiB), the unit the suggestion's room says
    // too: up to 0.05 of it more may have been available.
    let available_mib = match msg.find(" GiB of memory is available") {
        Some(_) => (number_before(&msg, " GiB of memory is available") + 0.05) * 1024.0,
        None => number_before(&msg, " MiB of memory is available") + 0.05,
    };
    let suggested = number_before(&msg, " or fewer fit breadth first in half the ");
    // Beside the process's own 10 MiB.
    let process = 10.0 * 1024.0 * 1024.0;
    assert!(
        process + suggested * 450.0 <= available_mib * 1024.0 * 1024.0 / 2.0,
        "{suggested} states x 450 bytes > half of {available_mib} MiB: {msg}"
    );
    assert!(
        process + suggested * 450.0 > available_mib * 1024.0 * 1024.0 / 2.0 * 0.98,
        "{msg}"
    );
    assert!(
        msg.contains(
            "GiB available, the rest left to the machine's other work, beside the process's \
             own 10.00 MiB)"
        ),
        "{msg}"
    );
    // One quantity, one unit: the memory available is said in the same words twice.
    let said = &msg[..msg.find(" of memory is available").unwrap()];
    let said = said.rsplitn(3, ' ').take(2).collect::<Vec<_>>();
    let said = format!("{} {}", said[1], said[0]);
    assert!(
        msg.contains(&format!("in half the {said} available")),
        "{msg}"
    );
    assert!(!msg.contains("--memory-max"), "{msg}");
}

/// `--timeout` cuts every exhaustive search, on one thread as on two, breadth first
/// and depth first: the record-lock incremental 2+2 configuration (342,580 states, about a
/// second on one thread) given 0.05 s stops short of its end and says it was cut by the
/// timeout (exit 3; `--allow-violations`, so that a violation met before the deadline
/// leaves the exit to the cut).
#[test]
fn the_timeout_cuts_every_search_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = s(&tmp.path().join("t"));
    for threads in ["1", "2"] {
        for dfs in [false, true] {
            let mut args = vec![
                "check",
                "--old",
                "2",
                "--new",
                "2",
                "--records-per-block",
                "2",
                "--locks",
                "record",
                "--discipline",
                "incremental",
                "--threads",
                threads,
                "--timeout",
                "0.05",
                "--allow-violations",
                "--trace-dir",
                &dir,
            ];
            if dfs {
                args.push("--dfs");
            }
            let o = owm(&args);
            let text = stdout(&o);
            assert_eq!(code(&o), 3, "{args:?}\n{text}{}", stderr(&o));
            assert!(
                text.contains("states reached but not explored (cut by --timeout 0.05 s)"),
                "{args:?}\n{text}"
            );
            assert!(!text.contains("cut nothing"), "{args:?}\n{text}");
            let explored: u64 = text
                .lines()
                .find_map(|l| l.strip_prefix("explored "))
                .and_then(|l| l.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("no explored line:\n{text}"));
            assert!(explored < 342_580, "{args:?}\n{text}");
        }
    }
}

/// A negative number or a zero out of range for a numeric flag is refused naming the
/// flag as typed (exit 2): the value reaches the flag's own parser, never clap's
/// "unexpected argument '-1' found", and a range error says `--states-max`, not
/// `states-max`. The same holds for the numeric flags of the other subcommands.
#[test]
fn a_bad_number_is_refused_naming_its_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let t = s(&tmp.path().join("t"));
    let mut cases: Vec<Vec<&str>> = Vec::new();
    for flag in [
        "--old",
        "--new",
        "--records-per-block",
        "--blocks",
        "--threads",
        "--depth",
        "--states-max",
        "--timeout",
        "--memory-max",
    ] {
        cases.push(vec!["check", flag, "-1", "--trace-dir", &t]);
    }
    for flag in ["--threads", "--depth", "--states-max", "--timeout"] {
        cases.push(vec!["check", flag, "0", "--trace-dir", &t]);
    }
    for (flag, v) in [("--seed", "-1"), ("--walks", "-1"), ("--walks", "0")] {
        cases.push(vec!["check", "--simulate", flag, v, "--trace-dir", &t]);
    }
    cases.push(vec!["run", "scenarios/fig3.toml", "--seed", "-1"]);
    cases.push(vec!["sweep", "scenarios/sweep-space.toml", "--jobs", "-1"]);
    cases.push(vec!["demo", "--blocks", "-1"]);
    cases.push(vec!["demo", "--block-size", "-8"]);
    for args in cases {
        let o = owm(&args);
        let err = stderr(&o);
        assert_eq!(code(&o), 2, "{args:?}: {}{err}", stdout(&o));
        // The flag is the word before the bad value (the first number-like word).
        let at = args.iter().position(|a| a.parse::<f64>().is_ok()).unwrap();
        let flag = args[at - 1];
        assert!(err.contains(flag), "{args:?}: {err}");
        assert!(!err.contains("unexpected argument"), "{args:?}: {err}");
    }
}

/// A cut search names only the bounds that cut it, never one merely set: `--timeout
/// 100` and `--states-max 100000` on a search `--depth 10` cuts in milliseconds leave
/// `held within depth 10` (every state within it judged), in the text and the JSON
/// `bound`; a states bound that fired beside an unfired timeout, or the memory limit,
/// is named alone.
#[test]
fn a_cut_names_only_the_bounds_that_fired() {
    let tmp = tempfile::tempdir().unwrap();
    let t = s(&tmp.path().join("t"));
    let json = s(&tmp.path().join("v.json"));
    let result = |o: &Output| -> String {
        stdout(o)
            .lines()
            .find(|l| l.starts_with("result: "))
            .unwrap_or_else(|| panic!("{}", stdout(o)))
            .to_string()
    };
    let base = ["check", "--threads", "1", "--trace-dir", &t];
    let depth_only = owm(&[&base[..], &["--depth", "10"]].concat());
    assert_eq!(code(&depth_only), 3, "{}", stdout(&depth_only));
    for unfired in [
        &["--timeout", "100"][..],
        &["--states-max", "100000"][..],
        &[
            "--timeout",
            "100",
            "--states-max",
            "100000",
            "--json",
            &json,
        ][..],
    ] {
        let o = owm(&[&base[..], &["--depth", "10"], unfired].concat());
        assert_eq!(code(&o), 3, "{unfired:?}: {}", stdout(&o));
        let text = stdout(&o);
        assert!(
            result(&o).starts_with("result: incomplete: held within depth 10: "),
            "{unfired:?}: {text}"
        );
        assert!(text.contains("(cut by depth 10);"), "{unfired:?}: {text}");
        assert!(
            !text.contains("100 s") && !text.contains("100000 states)"),
            "{unfired:?}: {text}"
        );
        // The figures and verdicts are those of the depth bound alone.
        assert_eq!(result(&o), result(&depth_only), "{unfired:?}");
    }
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let bounds: Vec<&str> = v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["bound"].as_str())
        .collect();
    assert!(!bounds.is_empty(), "{v}");
    assert!(bounds.iter().all(|b| *b == "depth 10"), "{bounds:?}");

    let o = owm(&[&base[..], &["--states-max", "8000", "--timeout", "100"]].concat());
    assert_eq!(code(&o), 3, "{}", stdout(&o));
    assert!(
        result(&o).contains("(cut by --states-max 8000)"),
        "{}",
        result(&o)
    );
    assert!(!stdout(&o).contains("100 s"), "{}", stdout(&o));

    let o = owm(&[
        &base[..],
        &[
            "--memory-max",
            "0.001",
            "--timeout",
            "100",
            "--states-max",
            "100000000",
        ],
    ]
    .concat());
    assert_eq!(code(&o), 3, "{}", stdout(&o));
    let text = result(&o);
    assert!(
        text.contains("(cut by --memory-max 0.001 GiB: the process held "),
        "{text}"
    );
    assert!(
        !text.contains("100 s") && !text.contains("100000000"),
        "{text}"
    );
}

/// Bad input names what is wrong and where, on one line: a TOML syntax error keeps
/// one line (no `\x0a`), a model file whose volume exceeds the record locks names the
/// file, its key and `--locks`, a record out of range is quoted alone against the
/// inclusive range, `--memory-max` below one byte is refused, a value that is not
/// UTF-8 names its flag, and a `--transactions` mismatch quotes only the flags given.
#[test]
fn bad_input_names_what_is_wrong_and_where() {
    let tmp = tempfile::tempdir().unwrap();
    let syntax = write(
        tmp.path(),
        "syntax.toml",
        "blocks = 3\n[[transaction]\nrole=\"old\"\n",
    );
    let o = owm(&["check", "--model", &syntax]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &["syntax.toml:2: invalid table header: expected `.`, `]]`"],
    );
    assert!(!stderr(&o).contains("\\x0a"), "{}", stderr(&o));

    let two = "[[transaction]]\nrole = \"old\"\nfrom = 0\nto = 1\namount = 1\n\n\
               [[transaction]]\nrole = \"new\"\nfrom = 1\nto = 3\namount = 1\n";
    let big = write(
        tmp.path(),
        "big.toml",
        &format!("blocks = 3\nrecords_per_block = 3\n{two}"),
    );
    let o = owm(&["check", "--model", &big, "--locks", "record"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            "big.toml:1: key `blocks`",
            "9 record locks",
            "--locks record",
        ],
    );

    let oob = write(tmp.path(), "oob.toml", &format!("blocks = 3\n{two}"));
    let o = owm(&["check", "--model", &oob]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &["oob.toml:11: key `transaction.1.to`: records are 0..=2 (blocks x records per block), got 3"],
    );
    assert!(!stderr(&o).contains("got 1 and 3"), "{}", stderr(&o));

    let o = owm(&["check", "--memory-max", "1e-300"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(&o, &["--memory-max", "at least one byte"]);

    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt as _;
        for flag in ["--variant", "--timeout"] {
            let o = std::process::Command::new(env!("CARGO_BIN_EXE_owm"))
                .args(["check", flag])
                .arg(std::ffi::OsStr::from_bytes(b"\xff"))
                .output()
                .unwrap();
            assert_eq!(code(&o), 2, "{}", stderr(&o));
            fails_with(&o, &[&format!("the value of {flag} is not UTF-8")]);
        }
    }

    let o = owm(&[
        "check",
        "--transactions",
        "old:0:1:5,new:1:0:3",
        "--old",
        "2",
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &["--transactions lists 1 old and 1 new transactions, not --old 2"],
    );
    assert!(!stderr(&o).contains("--new"), "{}", stderr(&o));
}
