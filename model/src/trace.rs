//! Counterexample traces: saved, reloaded, replayed against the engine, and told in
//! the patent's terms.
//!
//! A trace file is plain text, one item per line, so it can be read, diffed and
//! checked in:
//!
//! ```text
//! owm-model-trace v1
//! model --variant mirroring --old 1 --new 1 --records-per-block 2 --locks record ...
//! violates B-complete
//! step T0 begin-locked
//! step split
//! step T1 write 1
//! ...
//! ```
//!
//! `#` starts a comment. [`replay`] rebuilds the model from the `model` line, checks
//! that each step is one the model allows at that point, re-executes it against a
//! fresh engine, and confirms that the oracle finds the named invariant violated.

use std::fmt::Write as _;

use sim::oracle::{Invariant, Violation};
use stateright::Model;

use crate::config::CheckConfig;
use crate::program::Op;
use crate::protocol::{Action, OwmModel};
use crate::state::State;
use crate::ModelError;

const MAGIC: &str = "owm-model-trace v1";

/// A path through the model from its initial state, and the invariant it breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    /// The model parameters (exploration settings are irrelevant to a replay).
    pub config: CheckConfig,
    /// The name of the violated invariant (e.g. `B-complete`).
    pub violates: String,
    pub actions: Vec<Action>,
}

/// What a replay found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replayed {
    /// The oracle's finding for the invariant the trace names.
    pub violation: Violation,
    /// The numbered steps in patent terms (as [`render`] prints them).
    pub steps: Vec<String>,
}

impl Trace {
    /// The trace as a file.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{MAGIC}\nmodel {}\nviolates {}\n",
            self.config.model_flags(),
            self.violates
        );
        for a in &self.actions {
            let _ = writeln!(out, "step {}", action_text(*a));
        }
        out
    }

    /// Parses a trace file. Errors: as [`Trace::parse`].
    pub fn from_text(text: &str) -> Result<Self, ModelError> {
        Self::parse(text).map(|(trace, _)| trace)
    }

    /// Parses a trace file and says on which line each item stands. Errors:
    /// [`ModelError::Line`] naming the (1-based) line that does not parse (the first
    /// one when the magic line is missing, the last one when the `model` or `violates`
    /// line is), around the [`ModelError::Parse`] or [`ModelError::Config`] saying why.
    pub fn parse(text: &str) -> Result<(Self, TraceLines), ModelError> {
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.split('#').next().unwrap_or("").trim()))
            .filter(|(_, l)| !l.is_empty());
        match lines.next() {
            Some((_, MAGIC)) => {}
            found => {
                return Err(ModelError::at(
                    found.map_or(1, |(n, _)| n),
                    ModelError::Parse(format!("a trace file starts with `{MAGIC}`")),
                ))
            }
        }
        let mut config = None;
        let mut violates = None;
        let mut at = TraceLines::default();
        let mut actions = Vec::new();
        let mut last = 1;
        for (n, line) in lines {
            last = n;
            let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
            let rest = rest.trim();
            // One `model` and one `violates` line: a second would silently win.
            let first = match word {
                "model" if config.is_some() => Some(at.model),
                "violates" if violates.is_some() => Some(at.violates),
                _ => None,
            };
            if let Some(first) = first {
                return Err(ModelError::at(
                    n,
                    ModelError::Parse(format!(
                        "a second `{word}` line (the first is line {first}): a trace has one"
                    )),
                ));
            }
            let item = match word {
                "model" => CheckConfig::from_model_flags(rest).map(|c| {
                    config = Some(c);
                    at.model = n;
                }),
                "violates" => {
                    violates = Some(rest.to_string());
                    at.violates = n;
                    Ok(())
                }
                "step" => parse_action(rest).map(|a| {
                    actions.push(a);
                    at.steps.push(n);
                }),
                other => Err(ModelError::Parse(format!(
                    "unknown trace line `{other} {rest}` (expected `model`, `violates` or `step`)"
                ))),
            };
            item.map_err(|e| ModelError::at(n, e))?;
        }
        let missing =
            |what: &str| ModelError::at(last, ModelError::Parse(format!("no `{what}` line")));
        let trace = Trace {
            config: config.ok_or_else(|| missing("model"))?,
            violates: violates.ok_or_else(|| missing("violates"))?,
            actions,
        };
        Ok((trace, at))
    }
}

/// Where the items of a parsed trace file stand: 1-based line numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceLines {
    /// The `model` line.
    pub model: usize,
    /// The `violates` line.
    pub violates: usize,
    /// Each `step` line, in order.
    pub steps: Vec<usize>,
}

/// One action as a trace-file word list.
pub fn action_text(a: Action) -> String {
    match a {
        Action::Txn(t, op) => match op {
            Op::Begin => format!("T{t} begin"),
            Op::LockAll => format!("T{t} lock-all"),
            Op::BeginLocked => format!("T{t} begin-locked"),
            Op::Lock(i) => format!("T{t} lock {i}"),
            Op::Read(r) => format!("T{t} read {r}"),
            Op::Write(r) => format!("T{t} write {r}"),
            Op::ReadForWrite(r) => format!("T{t} read-for-write {r}"),
            Op::WriteBack(r) => format!("T{t} write-back {r}"),
            Op::Commit => format!("T{t} commit"),
        },
        Action::Abort(t) => format!("T{t} abort"),
        Action::Split => "split".into(),
        Action::AConsistent => "a-consistent".into(),
        Action::BackupA => "backup-a".into(),
        Action::RetireA => "retire-a".into(),
        Action::End => "end".into(),
    }
}

fn parse_action(s: &str) -> Result<Action, ModelError> {
    let bad = || ModelError::Parse(format!("unknown step `{s}`"));
    let w: Vec<&str> = s.split_whitespace().collect();
    let num = |x: &str| x.parse::<u8>().map_err(|_| bad());
    Ok(match w.as_slice() {
        ["split"] => Action::Split,
        ["a-consistent"] => Action::AConsistent,
        ["backup-a"] => Action::BackupA,
        ["retire-a"] => Action::RetireA,
        ["end"] => Action::End,
        [t, rest @ ..] if t.starts_with('T') => {
            let t = num(&t[1..])?;
            match rest {
                ["begin"] => Action::Txn(t, Op::Begin),
                ["lock-all"] => Action::Txn(t, Op::LockAll),
                ["begin-locked"] => Action::Txn(t, Op::BeginLocked),
                ["lock", i] => Action::Txn(t, Op::Lock(num(i)?)),
                ["read", r] => Action::Txn(t, Op::Read(num(r)?)),
                ["write", r] => Action::Txn(t, Op::Write(num(r)?)),
                ["read-for-write", r] => Action::Txn(t, Op::ReadForWrite(num(r)?)),
                ["write-back", r] => Action::Txn(t, Op::WriteBack(num(r)?)),
                ["commit"] => Action::Txn(t, Op::Commit),
                ["abort"] => Action::Abort(t),
                _ => return Err(bad()),
            }
        }
        _ => return Err(bad()),
    })
}

/// Runs `actions` from the model's initial state, checking each is allowed; returns
/// the final state and the numbered steps in patent terms. Errors:
/// [`ModelError::Replay`] naming the first step (1-based) the model does not allow.
pub fn execute(model: &OwmModel, actions: &[Action]) -> Result<(State, Vec<String>), ModelError> {
    execute_steps(model, actions).map_err(|(_, e)| e)
}

/// [`execute`], the error paired with the index (0-based) of the step refused.
fn execute_steps(
    model: &OwmModel,
    actions: &[Action],
) -> Result<(State, Vec<String>), (usize, ModelError)> {
    let mut s = model
        .init_states()
        .pop()
        .expect("the model has one initial state");
    let mut steps = Vec::new();
    for (i, &a) in actions.iter().enumerate() {
        let mut allowed = Vec::new();
        model.actions(&s, &mut allowed);
        if !allowed.contains(&a) {
            let possible = if allowed.is_empty() {
                if s.ended {
                    "the run has ended: no step is possible".to_string()
                } else {
                    "no step is possible here".to_string()
                }
            } else {
                let each: Vec<String> = allowed.iter().map(|x| action_text(*x)).collect();
                format!("possible: {}", each.join(", "))
            };
            return Err((
                i,
                ModelError::Replay(format!(
                    "step {}: `{}` is not possible here ({possible})",
                    i + 1,
                    action_text(a),
                )),
            ));
        }
        let mut notes = Vec::new();
        s = model.apply(&s, a, Some(&mut notes));
        steps.push(format!("{:>3}. {}", i + 1, notes.join("; ")));
    }
    Ok((s, steps))
}

/// Re-executes `trace` against a fresh engine and confirms the oracle finds the
/// invariant it names violated. Errors: [`ModelError::Config`] (the model cannot be
/// built), [`ModelError::Parse`] (an unknown invariant), [`ModelError::Replay`] (a
/// step the model does not allow, or a violation that does not recur).
pub fn replay(trace: &Trace) -> Result<Replayed, ModelError> {
    replay_lines(trace, None)
}

/// [`replay`] of a trace read from a file: each error is a [`ModelError::Line`]
/// naming the line at fault (`model` for the configuration, `violates` for the
/// invariant, the refused `step`, the last step when the violation does not recur).
pub fn replay_file(trace: &Trace, lines: &TraceLines) -> Result<Replayed, ModelError> {
    replay_lines(trace, Some(lines))
}

fn replay_lines(trace: &Trace, lines: Option<&TraceLines>) -> Result<Replayed, ModelError> {
    let at = |line: Option<usize>, e: ModelError| match line {
        Some(n) if n > 0 => ModelError::at(n, e),
        _ => e,
    };
    trace
        .config
        .validate()
        .map_err(|e| at(lines.map(|l| l.model), e))?;
    // Only an invariant the model judges can be reproduced by one of its traces: the
    // others (non-disruption, b-prime-faithful) are the simulator's.
    let invariant = crate::INVARIANTS
        .into_iter()
        .find(|i| i.as_str() == trace.violates)
        .ok_or_else(|| {
            let judged = crate::INVARIANTS.map(Invariant::as_str).join(", ");
            let e = ModelError::Parse(
                match Invariant::ALL.iter().find(|i| i.as_str() == trace.violates) {
                    Some(_) => format!(
                    "`{}` is not judged by the model checker (the simulator judges it, and the \
                     model stops at the retire): a trace can violate only {judged}",
                    trace.violates
                ),
                    None => format!(
                        "unknown invariant `{}` (expected one of {judged})",
                        trace.violates
                    ),
                },
            );
            at(lines.map(|l| l.violates), e)
        })?;
    let model = OwmModel::new(&trace.config);
    let (state, steps) = execute_steps(&model, &trace.actions)
        .map_err(|(i, e)| at(lines.and_then(|l| l.steps.get(i).copied()), e))?;
    match invariant.check(&model.history(&state)) {
        Err(violation) => Ok(Replayed { violation, steps }),
        Ok(()) => Err(at(
            lines.and_then(|l| l.steps.last().copied()),
            ModelError::Replay(format!(
                "after {} steps the oracle finds {} holding: the trace does not reproduce",
                trace.actions.len(),
                trace.violates
            )),
        )),
    }
}

/// The trace told in patent terms: parameters, numbered steps, and the oracle's words.
/// Errors: as [`replay`].
pub fn render(trace: &Trace) -> Result<String, ModelError> {
    Ok(render_replayed(trace, &replay(trace)?))
}

/// [`render`] of a replay already done ([`replay_file`]).
pub fn render_replayed(trace: &Trace, r: &Replayed) -> String {
    let mut out = format!(
        "counterexample: {} violated\nmodel: {}\n",
        trace.violates,
        trace.config.model_flags()
    );
    for s in &r.steps {
        out.push_str(s);
        out.push('\n');
    }
    let _ = writeln!(out, "oracle: {}", r.violation);
    out
}
