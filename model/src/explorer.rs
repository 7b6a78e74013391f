//! stateright's Explorer on the one-way mirror model, its states told in the patent's
//! terms (`owm check --serve ADDR`).
//!
//! The Explorer (stateright 0.31, `CheckerBuilder::serve`) is a web page over an
//! on-demand checker: it lists the properties (with a link to each counterexample or
//! example once found; "Run to completion" searches the whole space), the path of
//! actions taken so far and the actions enabled next. It shows a state as its `Debug`
//! text, an action as `Model::format_action`, and the state an action leads to as
//! `Model::format_step`. [`OneWayMirror`] wraps [`OwmModel`] so that all three speak
//! of the patent: each transaction's stage (role and VLUN, transfer, status, what it
//! read, its next step, the locks it holds), the type (b) locks, the device phase,
//! what VLUN A and VLUN B read, the declared A image, the commit order and the
//! oracle's verdict on every invariant (with its finding when violated). States,
//! actions and properties are the model's own, so the paths and state identities are
//! the checker's.
//!
//! URL scheme (stateright's): `http://ADDR/#/steps/0/i1/i2/…` is the state reached
//! from initial state 0 by the actions of indices `i1`, `i2`, … among each state's
//! enabled actions (in [`Model::actions`] order); [`steps_path`] gives it for a trace.
//! JSON API: `GET /.status` (counts and, per property, the path to its discovery),
//! `GET /.states/0/i1/…` (the enabled actions there and the states they lead to),
//! `POST /.runtocompletion` (search the whole space).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::sync::Arc;

use engine::{Phase, Vlun};
use stateright::{Expectation, Model, Property};

use crate::config::CheckConfig;
use crate::narrate::writer;
use crate::program::Op;
use crate::protocol::{Action, OwmModel};
use crate::state::{State, Status};
use crate::verdicts::INVARIANTS;
use crate::ModelError;

/// The model as the Explorer shows it (its type name is the Explorer's "Model:").
#[derive(Clone)]
pub struct OneWayMirror {
    model: Arc<OwmModel>,
    properties: Vec<ModelProperty>,
    /// `--depth`: a state at this depth (the initial state is depth 1, as in
    /// stateright's checkers) has no actions, so neither the Explorer's steps nor its
    /// search go deeper. stateright's Explorer ignores the checker's own depth bound.
    depth_max: Option<usize>,
}

/// One of the wrapped model's properties: expectation, name, condition.
type ModelProperty = (Expectation, &'static str, fn(&OwmModel, &State) -> bool);

/// A model state with the model it belongs to, so that its `Debug` text (what the
/// Explorer prints) can name transactions, records and VLUNs. Equal and hashed as the
/// state alone: the Explorer's fingerprints are the checker's.
#[derive(Clone)]
pub struct Shown {
    pub state: State,
    model: Arc<OwmModel>,
    /// Steps from the initial state (1) on the path that made it; not part of what
    /// identifies the state.
    depth: usize,
}

impl PartialEq for Shown {
    fn eq(&self, other: &Self) -> bool {
        self.state == other.state
    }
}
impl Eq for Shown {}
impl Hash for Shown {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.state.hash(h);
    }
}
impl fmt::Debug for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&describe_state(&self.model, &self.state))
    }
}

/// Most properties a model may have here (one condition function per slot below).
const PROPERTIES_MAX: usize = 16;

/// The condition of property `I` of the wrapped model.
fn condition<const I: usize>(m: &OneWayMirror, s: &Shown) -> bool {
    (m.properties[I].2)(&m.model, &s.state)
}

type Condition = fn(&OneWayMirror, &Shown) -> bool;
const CONDITIONS: [Condition; PROPERTIES_MAX] = [
    condition::<0>,
    condition::<1>,
    condition::<2>,
    condition::<3>,
    condition::<4>,
    condition::<5>,
    condition::<6>,
    condition::<7>,
    condition::<8>,
    condition::<9>,
    condition::<10>,
    condition::<11>,
    condition::<12>,
    condition::<13>,
    condition::<14>,
    condition::<15>,
];

impl OneWayMirror {
    /// The Explorer's model of `cfg`; errors when `cfg` is not a valid configuration.
    pub fn new(cfg: &CheckConfig) -> Result<Self, ModelError> {
        cfg.validate()?;
        let model = OwmModel::new(cfg);
        let properties: Vec<_> = model
            .properties()
            .into_iter()
            .map(|p| (p.expectation, p.name, p.condition))
            .collect();
        assert!(properties.len() <= PROPERTIES_MAX, "too many properties");
        Ok(OneWayMirror {
            model: Arc::new(model),
            properties,
            depth_max: cfg.depth,
        })
    }

    fn shown(&self, state: State, depth: usize) -> Shown {
        Shown {
            state,
            model: Arc::clone(&self.model),
            depth,
        }
    }

    /// The wrapped model.
    pub fn model(&self) -> &OwmModel {
        &self.model
    }
}

impl Model for OneWayMirror {
    type State = Shown;
    type Action = Action;

    fn init_states(&self) -> Vec<Shown> {
        self.model
            .init_states()
            .into_iter()
            .map(|s| self.shown(s, 1))
            .collect()
    }

    fn actions(&self, s: &Shown, actions: &mut Vec<Action>) {
        if self.depth_max.is_some_and(|d| s.depth >= d) {
            return;
        }
        self.model.actions(&s.state, actions);
    }

    fn next_state(&self, s: &Shown, action: Action) -> Option<Shown> {
        self.model
            .next_state(&s.state, action)
            .map(|n| self.shown(n, s.depth + 1))
    }

    fn properties(&self) -> Vec<Property<Self>> {
        self.properties
            .iter()
            .enumerate()
            .map(|(i, (expectation, name, _))| Property {
                expectation: expectation.clone(),
                name,
                condition: CONDITIONS[i],
            })
            .collect()
    }

    fn format_action(&self, action: &Action) -> String {
        describe_action(&self.model, *action)
    }

    /// What the step did, in the words of a trace, then the state it leads to.
    fn format_step(&self, last: &Shown, action: Action) -> Option<String> {
        let mut notes = Vec::new();
        let next = self.model.apply(&last.state, action, Some(&mut notes));
        Some(format!(
            "{}\n\nthe state after it:\n{}",
            notes.join("\n"),
            describe_state(&self.model, &next)
        ))
    }
}

/// Refuses a state or time budget (`--states-max`, `--timeout`) for the Explorer, naming
/// the flag: stateright's Explorer cannot honour them (its on-demand search stops its
/// threads at the state count but never reports itself done or cut, so the page would
/// say "running" forever; its clock starts with the server, not with a search).
/// `--depth` it honours ([`OneWayMirror`]).
pub fn refuse_budgets(cfg: &CheckConfig) -> Result<(), ModelError> {
    // --depth is the bound the Explorer honours: suggested only when not given.
    let refuse = |flag: &str, why: &str| {
        let instead = match cfg.depth {
            Some(d) => format!("drop {flag} (--depth {d} bounds it)"),
            None => format!("bound it by --depth, or drop {flag}"),
        };
        Err(ModelError::Config(format!(
            "{flag} cannot bound the Explorer (--serve): {why}; {instead}"
        )))
    };
    if cfg.states_max.is_some() {
        return refuse(
            "--states-max",
            "stateright's Explorer stops at the state count without ever reporting its \
             search done or cut",
        );
    }
    if cfg.timeout.is_some() {
        return refuse(
            "--timeout",
            "stateright's Explorer starts its clock with the server, not with a search, \
             and never reports a search cut",
        );
    }
    Ok(())
}

/// Serves the Explorer for `cfg` on `addr` with `cfg.threads` checker threads; returns
/// only when the server stops (stateright's server runs until the process ends).
/// `cfg.depth` bounds the steps and the search ([`OneWayMirror`]).
/// Errors: an invalid configuration; a state or time budget ([`refuse_budgets`]); an
/// address that cannot be listened on.
pub fn serve(cfg: &CheckConfig, addr: SocketAddr) -> Result<(), ModelError> {
    refuse_budgets(cfg)?;
    let m = OneWayMirror::new(cfg)?;
    // stateright's server panics when it cannot listen: try first, for a typed error.
    drop(
        std::net::TcpListener::bind(addr)
            .map_err(|e| ModelError::Config(format!("cannot listen on {addr}: {e}")))?,
    );
    m.checker().threads(cfg.threads.max(1)).serve(addr);
    Ok(())
}

/// The Explorer's path (`/0/i1/i2/…`, to follow `#/steps`) to the state `actions`
/// reach from the initial state of `cfg`; errors when an action is not enabled where
/// the path takes it.
pub fn steps_path(cfg: &CheckConfig, actions: &[Action]) -> Result<String, ModelError> {
    cfg.validate()?;
    let model = OwmModel::new(cfg);
    let mut s = model
        .init_states()
        .into_iter()
        .next()
        .ok_or_else(|| ModelError::Replay("no initial state".into()))?;
    let mut path = String::from("/0");
    for (i, &a) in actions.iter().enumerate() {
        let mut enabled = Vec::new();
        model.actions(&s, &mut enabled);
        let index = enabled
            .iter()
            .position(|&e| e == a)
            .ok_or_else(|| ModelError::Replay(format!("step {}: {a:?} is not enabled", i + 1)))?;
        path += &format!("/{index}");
        s = model.apply(&s, a, None);
    }
    Ok(path)
}

/// "T0 (old, VLUN A) writes record 1", "backup request: split", …
pub fn describe_action(m: &OwmModel, action: Action) -> String {
    let who = |t: u8| {
        let p = &m.programs[usize::from(t)];
        format!("T{t} ({}, {})", p.role.as_str(), p.role.vlun())
    };
    match action {
        Action::Txn(t, op) => format!("{} {}", who(t), describe_op(m, usize::from(t), op)),
        Action::Abort(t) => format!("{} aborts", who(t)),
        Action::Split => "backup request: split into VLUN A and VLUN B".into(),
        Action::AConsistent => "VLUN A declared consistent".into(),
        Action::BackupA => "VLUN A archived".into(),
        Action::RetireA => "VLUN A retired".into(),
        Action::End => "end of the run".into(),
    }
}

fn describe_op(m: &OwmModel, t: usize, op: Op) -> String {
    let p = &m.programs[t];
    match op {
        Op::Begin => "begins".into(),
        Op::BeginLocked => format!("begins holding {}", m.items_str(&p.items)),
        Op::LockAll => format!("locks {}", m.items_str(&p.items)),
        Op::Lock(item) => format!("locks {}", m.items_str(&[item])),
        Op::Read(r) => format!("reads record {r}"),
        Op::Write(r) => format!("writes record {r}"),
        Op::ReadForWrite(r) => format!("reads block {} to write record {r}", block_of(m, r)),
        Op::WriteBack(r) => format!("writes block {} back (record {r})", block_of(m, r)),
        Op::Commit => "commits".into(),
    }
}

fn block_of(m: &OwmModel, record: u8) -> u64 {
    m.layout.block_of(u64::from(record))
}

/// The state in the patent's terms, one fact a line.
pub fn describe_state(m: &OwmModel, s: &State) -> String {
    let mut out = String::new();
    let phase = match s.phase() {
        Phase::Single => "single volume (before the backup request; reached as VLUN A)",
        Phase::Split => "split: VLUN A (old transactions) and VLUN B (new transactions)",
        Phase::BackedUp => "backed up: VLUN A archived and read-only, VLUN B live",
        Phase::Retired => "retired: VLUN A gone, VLUN B the live volume",
    };
    out += &format!(
        "phase: {phase}{}\n",
        if s.ended { "; run ended" } else { "" }
    );
    out += "transactions:\n";
    for (t, p) in m.programs.iter().enumerate() {
        let ts = &s.txns[t];
        let status = match ts.status {
            Status::Idle => "not begun",
            Status::Active => "active",
            Status::Committed => "committed",
            Status::Aborted => "aborted",
        };
        out += &format!(
            "  T{t} {} on {}, transfer {} from record {} to record {}: {status}",
            p.role.as_str(),
            p.role.vlun(),
            p.amount,
            p.from,
            p.to
        );
        let reads: Vec<String> = p
            .records()
            .iter()
            .enumerate()
            .filter_map(|(pos, r)| {
                ts.read(pos).map(|(v, stamp)| {
                    let w = if ts.written & (1 << p.position(*r)) != 0 {
                        ", since written"
                    } else {
                        ""
                    };
                    format!("record {r} = {v} ({}{w})", writer(u64::from(stamp)))
                })
            })
            .collect();
        if !reads.is_empty() {
            out += &format!("; read {}", reads.join(", "));
        }
        let locks: Vec<u8> = s
            .locks
            .iter()
            .enumerate()
            .filter(|(_, o)| **o == Some(t as u8))
            .map(|(i, _)| i as u8)
            .collect();
        if !locks.is_empty() {
            out += &format!("; holds locks on {}", m.items_str(&locks));
        }
        if let (true, Some(held)) = (s.held_mask & (1 << t) != 0, &s.held) {
            if let Some(Op::ReadForWrite(r)) = ts.pc.checked_sub(1).map(|i| p.ops[i as usize]) {
                let b = block_of(m, r);
                out += &format!(
                    "; buffer holds block {b}: {}",
                    m.describe_bytes(b, &held[t][..m.layout.block_size])
                );
            }
        }
        if !ts.ended() {
            if let Some(&op) = p.ops.get(ts.pc as usize) {
                out += &format!("; next: {}", describe_op(m, t, op));
            }
        }
        out += "\n";
    }
    if s.type_b != 0 {
        let blocks: Vec<String> = (0..8)
            .filter(|b| s.type_b & (1 << b) != 0)
            .map(|b| b.to_string())
            .collect();
        out += &format!(
            "type (b) locks on blocks {} (until the old transactions end)\n",
            blocks.join(", ")
        );
    }
    let image = |v: Vlun| m.describe_image(&m.image(&s.device, v));
    match s.phase() {
        Phase::Single => out += &format!("volume (VLUN A): {}\n", image(Vlun::A)),
        Phase::Split | Phase::BackedUp => {
            out += &format!("VLUN A: {}\n", image(Vlun::A));
            out += &format!("VLUN B: {}\n", image(Vlun::B));
        }
        Phase::Retired => out += &format!("VLUN B: {}\n", image(Vlun::B)),
    }
    if let Some(d) = &s.declared {
        out += &format!("VLUN A as declared consistent: {}\n", m.describe_image(d));
    }
    let commits: Vec<String> = s
        .commits
        .as_slice()
        .iter()
        .map(|t| format!("T{t}"))
        .collect();
    if !commits.is_empty() {
        out += &format!("commit order: {}\n", commits.join(", "));
    }
    out += &verdicts(m, s);
    out
}

/// "invariants: held …" and one "VIOLATED <invariant>: <finding>" line per violation.
fn verdicts(m: &OwmModel, s: &State) -> String {
    let held: Vec<&str> = INVARIANTS
        .iter()
        .filter(|&&i| s.holds(i))
        .map(|i| i.as_str())
        .collect();
    let mut out = format!("invariants held so far: {}\n", held.join(", "));
    if s.violated != 0 {
        let h = m.history(s);
        for inv in INVARIANTS.iter().filter(|&&i| !s.holds(i)) {
            let finding = inv.check(&h).err().map_or(String::new(), |v| v.to_string());
            out += &format!("VIOLATED {}: {finding}\n", inv.as_str());
        }
    }
    out
}

impl fmt::Debug for OneWayMirror {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OneWayMirror")
            .field("cfg", &self.model.cfg)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_is_told_in_patent_terms() {
        let cfg = CheckConfig::from_model_flags(
            "--variant cow --old 1 --new 1 --records-per-block 2 --locks record --aborts off",
        )
        .unwrap();
        let m = OneWayMirror::new(&cfg).unwrap();
        let init = m.init_states().remove(0);
        let text = format!("{init:#?}");
        assert!(text.contains("T0 old on VLUN A"), "{text}");
        assert!(text.contains("T1 new on VLUN B"), "{text}");
        assert!(text.contains("volume (VLUN A): r0=100 (initial)"), "{text}");
        let mut actions = Vec::new();
        m.actions(&init, &mut actions);
        assert!(!actions.is_empty());
        let step = m.format_step(&init, actions[0]).unwrap();
        assert!(step.contains("begins"), "{step}");
        assert_eq!(steps_path(&cfg, &actions[..1]).unwrap(), "/0/0");
        assert!(steps_path(&cfg, &[Action::End]).is_err());
    }
}
