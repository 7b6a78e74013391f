//! JUnit XML of a [`Report`], the format CI servers (GitHub Actions reporters, GitLab's
//! `artifacts:reports:junit`, Jenkins) read: one `<testsuite>` per suite (a policy of
//! a run, a grid point of a sweep, a check), one `<testcase>` per invariant. A
//! violation is a `<failure>`, a case that failed to run an `<error>`, an unchecked or
//! cut case, or one of an invariant its policy does not claim, `<skipped>` (with what
//! was observed in its message, or, when the run never reached the state the
//! invariant speaks of, that it was never reached: never a `held` of a copy never
//! made).

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use super::{Case, Outcome, Report};

#[derive(Default)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

impl Counts {
    fn of<'a>(cases: impl Iterator<Item = &'a Case>) -> Self {
        let mut c = Counts::default();
        for case in cases {
            c.tests += 1;
            match &case.outcome {
                Outcome::Violated { .. } => c.failures += 1,
                Outcome::Failed { .. } => c.errors += 1,
                Outcome::Unchecked { .. }
                | Outcome::NotClaimed { .. }
                | Outcome::NotReached { .. }
                | Outcome::HeldWithin { .. } => c.skipped += 1,
                Outcome::Held => {}
            }
        }
        c
    }

    fn attrs(&self, e: &mut BytesStart<'_>) {
        e.push_attribute(("tests", self.tests.to_string().as_str()));
        e.push_attribute(("failures", self.failures.to_string().as_str()));
        e.push_attribute(("errors", self.errors.to_string().as_str()));
        e.push_attribute(("skipped", self.skipped.to_string().as_str()));
    }
}

type W = Writer<Vec<u8>>;

fn leaf(w: &mut W, tag: &str, message: &str, body: Option<&str>) -> std::io::Result<()> {
    let mut e = BytesStart::new(tag);
    e.push_attribute(("message", message));
    match body {
        None => w.write_event(Event::Empty(e)),
        Some(text) => {
            w.write_event(Event::Start(e))?;
            w.write_event(Event::Text(BytesText::new(text)))?;
            w.write_event(Event::End(BytesEnd::new(tag)))
        }
    }
}

/// A suite's name as a JUnit `classname`: each `.` written as U+2024 (`․`, one dot
/// leader, which looks the same), since Jenkins reads the dots of a classname as
/// packages and would split `point 3 (workload.records=10, …)` into a tree. The
/// `<testsuite>`'s `name` keeps the suite's name as it is.
fn classname(suite: &str) -> String {
    suite.replace('.', "\u{2024}")
}

fn case(w: &mut W, c: &Case, reproduce: &str) -> std::io::Result<()> {
    let mut e = BytesStart::new("testcase");
    e.push_attribute(("name", c.name.as_str()));
    e.push_attribute(("classname", classname(&c.suite).as_str()));
    if matches!(c.outcome, Outcome::Held) {
        return w.write_event(Event::Empty(e));
    }
    w.write_event(Event::Start(e))?;
    match &c.outcome {
        Outcome::Violated {
            count,
            detail,
            trace,
        } => {
            // The body says how to see it again: a check's counterexample replayed,
            // else the command that reruns the suite.
            let replay = trace.as_ref().and_then(|t| t.replay.as_ref());
            let body = match replay {
                Some(r) => format!("{detail}\nreplay: {r}"),
                None if reproduce.is_empty() => detail.clone(),
                None => format!("{detail}\nreproduce: {reproduce}"),
            };
            leaf(
                w,
                "failure",
                &format!(
                    "{} violated {}",
                    c.name,
                    sim::number_text::counted(*count, "time", "times")
                ),
                Some(&body),
            )?
        }
        Outcome::Failed { reason } => leaf(w, "error", reason, None)?,
        Outcome::Unchecked { reason } => leaf(w, "skipped", &format!("unchecked: {reason}"), None)?,
        Outcome::HeldWithin { bound, cut } => leaf(
            w,
            "skipped",
            &format!("held within {bound}; {cut} cut at the bound"),
            None,
        )?,
        Outcome::NotClaimed { policy, observed } => {
            leaf(w, "skipped", &not_claimed_message(policy, observed), None)?
        }
        Outcome::NotReached { reason } => leaf(
            w,
            "skipped",
            &format!("not reached ({reason}); not judged"),
            None,
        )?,
        Outcome::Held => {}
    }
    w.write_event(Event::End(BytesEnd::new("testcase")))
}

/// A `<skipped>` message for an invariant not claimed: `not claimed by
/// crash-consistent (violated 2); not judged`, or, when the state it speaks of was
/// never reached, no observation at all: `not claimed by none (no backup); the state
/// it judges was never reached`, `not claimed by cow (backup abandoned: data area
/// full); the state it judges was never reached (no archive)` (the reason repeated
/// only when `policy` does not already give it).
fn not_claimed_message(policy: &str, observed: &Outcome) -> String {
    match observed {
        Outcome::NotReached { reason } if policy.contains(&format!("({reason})")) => {
            format!("not claimed by {policy}; the state it judges was never reached")
        }
        Outcome::NotReached { reason } => {
            format!("not claimed by {policy}; the state it judges was never reached ({reason})")
        }
        o => format!("not claimed by {policy} ({}); not judged", o.word()),
    }
}

/// The cases grouped by suite: the suites in order of first appearance, each with its
/// cases in report order (a suite's cases need not be adjacent: a failed case `run` or
/// `stdout` may follow other suites'). One pass over the cases with an index by suite
/// name, so a sweep of many grid points is written in time linear in its cases.
fn by_suite(cases: &[Case]) -> Vec<(&str, Vec<&Case>)> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut suites: Vec<(&str, Vec<&Case>)> = Vec::new();
    for c in cases {
        let at = *index.entry(c.suite.as_str()).or_insert_with(|| {
            suites.push((c.suite.as_str(), Vec::new()));
            suites.len() - 1
        });
        suites[at].1.push(c);
    }
    suites
}

/// The report as JUnit XML.
pub fn to_string(report: &Report) -> Result<String> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let io = || "writing JUnit XML";
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .context(io())?;
    let mut root = BytesStart::new("testsuites");
    // A merge's file is its sweep's (or its random walks'), byte for byte: the same
    // cases under the same name.
    root.push_attribute(("name", format!("owm {}", report.junit_command()).as_str()));
    Counts::of(report.cases.iter()).attrs(&mut root);
    w.write_event(Event::Start(root)).context(io())?;
    for (s, cases) in by_suite(&report.cases) {
        let mut e = BytesStart::new("testsuite");
        e.push_attribute(("name", s));
        Counts::of(cases.iter().copied()).attrs(&mut e);
        w.write_event(Event::Start(e)).context(io())?;
        // The command that reruns the suite, as a property (GitLab and Jenkins show
        // them), before the cases as the schema orders them.
        let reproduce = report.reproduce_of(s);
        if !reproduce.is_empty() {
            w.write_event(Event::Start(BytesStart::new("properties")))
                .context(io())?;
            let mut p = BytesStart::new("property");
            p.push_attribute(("name", "reproduce"));
            p.push_attribute(("value", reproduce));
            w.write_event(Event::Empty(p)).context(io())?;
            w.write_event(Event::End(BytesEnd::new("properties")))
                .context(io())?;
        }
        for c in cases {
            case(&mut w, c, reproduce).context(io())?;
        }
        w.write_event(Event::End(BytesEnd::new("testsuite")))
            .context(io())?;
    }
    w.write_event(Event::End(BytesEnd::new("testsuites")))
        .context(io())?;
    let mut s = String::from_utf8(w.into_inner()).context(io())?;
    s.push('\n');
    // A suite named by a file whose name holds a control character stays well-formed.
    Ok(reports::xml_text::xml_safe(s))
}

/// Writes the report to `path` atomically.
pub fn write(path: &Path, report: &Report) -> Result<()> {
    reports::write_atomic(path, to_string(report)?.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::TraceLength;
    use proptest::prelude::*;

    /// The writer as it was before [`by_suite`]: every suite found with a scan of the
    /// suites so far, its cases by filtering every case (quadratic in suites), kept
    /// as the reference the linear writer must match byte for byte.
    fn to_string_by_scans(report: &Report) -> Result<String> {
        let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        let mut root = BytesStart::new("testsuites");
        root.push_attribute(("name", format!("owm {}", report.junit_command()).as_str()));
        Counts::of(report.cases.iter()).attrs(&mut root);
        w.write_event(Event::Start(root))?;
        let mut suites: Vec<&str> = Vec::new();
        for c in &report.cases {
            if !suites.contains(&c.suite.as_str()) {
                suites.push(&c.suite);
            }
        }
        for s in suites {
            let cases = || report.cases.iter().filter(move |c| c.suite == s);
            let mut e = BytesStart::new("testsuite");
            e.push_attribute(("name", s));
            Counts::of(cases()).attrs(&mut e);
            w.write_event(Event::Start(e))?;
            let reproduce = report.reproduce_of(s);
            if !reproduce.is_empty() {
                w.write_event(Event::Start(BytesStart::new("properties")))?;
                let mut p = BytesStart::new("property");
                p.push_attribute(("name", "reproduce"));
                p.push_attribute(("value", reproduce));
                w.write_event(Event::Empty(p))?;
                w.write_event(Event::End(BytesEnd::new("properties")))?;
            }
            for c in cases() {
                case(&mut w, c, reproduce)?;
            }
            w.write_event(Event::End(BytesEnd::new("testsuite")))?;
        }
        w.write_event(Event::End(BytesEnd::new("testsuites")))?;
        let mut s = String::from_utf8(w.into_inner())?;
        s.push('\n');
        Ok(reports::xml_text::xml_safe(s))
    }

    fn outcome() -> impl Strategy<Value = Outcome> {
        let leaf = prop_oneof![
            Just(Outcome::Held),
            (0u64..3).prop_map(|cut| Outcome::HeldWithin {
                bound: "depth 21".into(),
                cut
            }),
            (1u64..5, any::<bool>()).prop_map(|(count, replay)| Outcome::Violated {
                count,
                detail: "txn 4 <lost> & \"gone\"".into(),
                trace: replay.then(|| {
                    Box::new(TraceLength {
                        steps: 9,
                        shortest: true,
                        not_shortest: None,
                        file: None,
                        replay: Some("owm check --replay t".into()),
                    })
                }),
            }),
            Just(Outcome::Unchecked {
                reason: "history off".into()
            }),
            Just(Outcome::Failed {
                reason: "interrupted\u{1}".into()
            }),
            Just(Outcome::NotReached {
                reason: "no archive".into()
            }),
        ];
        leaf.prop_recursive(1, 2, 1, |inner| {
            inner.prop_map(|o| Outcome::NotClaimed {
                policy: "cow (backup abandoned: data area full)".into(),
                observed: Box::new(o),
            })
        })
    }

    /// Reports whose suites repeat out of order (a suite's cases apart, as a failed
    /// case `run` or `stdout` after other suites), some with a command of their own.
    fn report() -> impl Strategy<Value = Report> {
        let case = (0usize..6, 0usize..4, outcome());
        (
            prop::sample::select(vec!["run", "sweep", "merge", "check"]),
            any::<bool>(),
            prop::collection::vec(case, 0..40),
            prop::collection::vec(any::<bool>(), 6),
        )
            .prop_map(|(command, reproduce, cases, own)| {
                let suite = |i: usize| format!("point {i} (workload.records=1{i}, cow, seed {i})");
                let reproduce = if reproduce { "owm sweep s.toml" } else { "" };
                let mut r = Report::new(command, reproduce.into(), false);
                for (i, own) in own.into_iter().enumerate() {
                    if own {
                        r.suite_reproduce
                            .insert(suite(i), format!("owm sweep s.toml --shard {i}/6"));
                    }
                }
                for (s, n, o) in cases {
                    r.push(suite(s), ["b-complete", "a-consistent", "run", "x"][n], o);
                }
                r
            })
    }

    proptest! {
        /// The suites grouped in one pass write the very bytes the scans wrote.
        #[test]
        fn grouping_by_index_writes_the_bytes_of_the_scans(r in report()) {
            prop_assert_eq!(to_string(&r).unwrap(), to_string_by_scans(&r).unwrap());
        }
    }

    /// Each suite once, at its first case, with its cases in report order.
    #[test]
    fn suites_keep_their_first_appearance_and_their_cases_order() {
        let mut r = Report::new("run", String::new(), false);
        for (s, n) in [("b", "1"), ("a", "2"), ("b", "3"), ("c", "4"), ("a", "5")] {
            r.push(s, n, Outcome::Held);
        }
        let groups: Vec<(&str, Vec<&str>)> = by_suite(&r.cases)
            .into_iter()
            .map(|(s, cs)| (s, cs.iter().map(|c| c.name.as_str()).collect()))
            .collect();
        assert_eq!(
            groups,
            [
                ("b", vec!["1", "3"]),
                ("a", vec!["2", "5"]),
                ("c", vec!["4"])
            ]
        );
    }

    /// A not-claimed case of a state never reached says so and never `(held)`; one of
    /// a reached state keeps what was observed.
    #[test]
    fn a_state_never_reached_is_never_held_in_junit() {
        let mut r = Report::new("run", "owm run s.toml".into(), false);
        let never = |reason: &str| {
            Box::new(Outcome::NotReached {
                reason: reason.into(),
            })
        };
        r.push(
            "none",
            "backup-faithful",
            Outcome::NotClaimed {
                policy: "none (no backup)".into(),
                observed: never("no backup"),
            },
        );
        r.push(
            "cow",
            "backup-faithful",
            Outcome::NotClaimed {
                policy: "cow (backup abandoned: data area full)".into(),
                observed: never("no archive"),
            },
        );
        r.push(
            "crash-consistent",
            "bank-conserved",
            Outcome::NotClaimed {
                policy: "crash-consistent".into(),
                observed: Box::new(Outcome::Held),
            },
        );
        let xml = to_string(&r).unwrap();
        assert!(xml
            .contains("not claimed by none (no backup); the state it judges was never reached\""));
        assert!(xml.contains(
            "not claimed by cow (backup abandoned: data area full); the state it judges was never reached (no archive)\""
        ));
        assert!(xml.contains("not claimed by crash-consistent (held); not judged"));
        assert_eq!(xml.matches("(held)").count(), 1, "{xml}");
        assert!(xml.contains("skipped=\"3\""), "{xml}");
        let json = super::super::json::to_string(&r).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            v["cases"][1]["observed"],
            serde_json::json!({"verdict": "not-reached", "reason": "no archive"})
        );
        assert_eq!(v["cases"][2]["observed"]["verdict"], "held");
        assert_eq!(super::super::json::from_str(&json).unwrap(), r);
    }
}
