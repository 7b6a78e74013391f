//! JUnit XML of a [`Report`], the format CI servers (GitHub Actions reporters, GitLab's
//! `artifacts:reports:junit`, Jenkins) read: one `<testsuite>` per suite (a policy of
//! a run, a grid point of a sweep, a check), one `<testcase>` per invariant. A
//! violation is a `<failure>`, a case that failed to run an `<error>`, an unchecked or
//! cut case, or one of an invariant its policy does not claim, `<skipped>` (with what
//! was observed in its message, or, when the run never reached the state the
//! invariant speaks of, that it was never reached: never a `held` of a copy never
//! made).

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
                | Outcome::HeldWithin { cut: 1.., .. } => c.skipped += 1,
                Outcome::Held | Outcome::HeldWithin { .. } => {}
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
    if matches!(
        c.outcome,
        Outcome::Held | Outcome::HeldWithin { cut: 0, .. }
    ) {
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

/// The report as JUnit XML.
pub fn to_string(report: &Report) -> Result<String> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let io = || "writing JUnit XML";
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .context(io())?;
    let mut root = BytesStart::new("testsuites");
    // A merge's file is its sweep's, byte for byte: the same cases under the same name.
    let command = match report.command.as_str() {
        "merge" => "sweep",
        c => c,
    };
    root.push_attribute(("name", format!("owm {command}").as_str()));
    Counts::of(report.cases.iter()).attrs(&mut root);
    w.write_event(Event::Start(root)).context(io())?;
    // Suites in order of first appearance.
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
        for c in cases() {
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
