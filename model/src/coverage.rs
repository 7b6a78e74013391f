//! Coverage of a search, as TLC's `-coverage` gives it: per kind of action how often
//! it was enabled and how often it was taken, and for each `sometimes` property the
//! depth of the witness the search reports (one thread or depth first: the first it
//! reached).
//!
//! - **enabled**: the action was among the actions of a state the search explored
//!   (one count per explored state and enabled action: the transitions generated).
//! - **taken**: the action led to a state the search explored (the transition that
//!   first reached that state). An exhaustive search takes one action per explored
//!   state but the initial one, so `taken <= enabled`; a random walk takes the one it
//!   chooses at each step.
//!
//! The action counts are taken while the search runs ([`CoverageCounters`], shared by
//! the model's clones: a few relaxed atomic additions per explored state, the action
//! that made a state being kept in it, outside its identity); the witness depths are
//! those of the checker's own discoveries (`witnesses`). [`Coverage`] is the plain
//! result, which [`Coverage::merge`] adds up across searches (walks, shards). With one
//! thread it is deterministic for a configuration; with several, `enabled` still is
//! for a complete search, `taken` and the witness depths depend on which thread
//! reached a state first.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use stateright::{Expectation, Path, Property};

use crate::program::Op;
use crate::protocol::{Action, OwmModel};
use crate::state::State;

/// The kinds of action coverage is counted by, in the order they are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionKind {
    /// A transaction begins (`Op::Begin`, `Op::BeginLocked`).
    Begin,
    /// A transaction takes application locks (`Op::LockAll`, `Op::Lock`).
    Lock,
    /// A transaction reads a record (`Op::Read`).
    Read,
    /// A transaction writes a record: the one-step read-modify-write (`Op::Write`) or
    /// either step of a split one (`Op::ReadForWrite`, `Op::WriteBack`).
    Write,
    /// A transaction commits.
    Commit,
    /// A transaction aborts and rolls back.
    Abort,
    /// The backup request splits the device.
    Split,
    /// VLUN A is declared consistent.
    AConsistent,
    /// VLUN A is archived.
    Backup,
    /// VLUN A is retired.
    Retire,
    /// The run ends.
    End,
}

/// Number of [`ActionKind`]s.
pub const KINDS: usize = 11;

impl ActionKind {
    /// Every kind, in report order.
    pub const ALL: [ActionKind; KINDS] = [
        ActionKind::Begin,
        ActionKind::Lock,
        ActionKind::Read,
        ActionKind::Write,
        ActionKind::Commit,
        ActionKind::Abort,
        ActionKind::Split,
        ActionKind::AConsistent,
        ActionKind::Backup,
        ActionKind::Retire,
        ActionKind::End,
    ];

    /// The kind of `action`.
    pub fn of(action: Action) -> ActionKind {
        match action {
            Action::Txn(_, op) => match op {
                Op::Begin | Op::BeginLocked => ActionKind::Begin,
                Op::LockAll | Op::Lock(_) => ActionKind::Lock,
                Op::Read(_) => ActionKind::Read,
                Op::Write(_) | Op::ReadForWrite(_) | Op::WriteBack(_) => ActionKind::Write,
                Op::Commit => ActionKind::Commit,
            },
            Action::Abort(_) => ActionKind::Abort,
            Action::Split => ActionKind::Split,
            Action::AConsistent => ActionKind::AConsistent,
            Action::BackupA => ActionKind::Backup,
            Action::RetireA => ActionKind::Retire,
            Action::End => ActionKind::End,
        }
    }

    /// Its name in reports: `begin`, …, `a-consistent`, …
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Begin => "begin",
            ActionKind::Lock => "lock",
            ActionKind::Read => "read",
            ActionKind::Write => "write",
            ActionKind::Commit => "commit",
            ActionKind::Abort => "abort",
            ActionKind::Split => "split",
            ActionKind::AConsistent => "a-consistent",
            ActionKind::Backup => "backup",
            ActionKind::Retire => "retire",
            ActionKind::End => "end",
        }
    }
}

/// One kind's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindCount {
    pub kind: ActionKind,
    /// Times enabled in an explored state.
    pub enabled: u64,
    /// Times taken to a state that was explored.
    pub taken: u64,
}

/// One `sometimes` property's witness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Witness {
    pub name: String,
    /// The depth (stateright's: the initial state is depth 1, as `--depth` counts) of
    /// the witness state the search reports (see `witnesses`); `None`: never reached.
    pub depth: Option<usize>,
}

/// The coverage of one search or of several merged: per action kind (every kind of
/// [`ActionKind::ALL`], in that order) and per `sometimes` property.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    pub actions: Vec<KindCount>,
    pub witnesses: Vec<Witness>,
}

impl Default for Coverage {
    fn default() -> Self {
        Coverage {
            actions: ActionKind::ALL
                .iter()
                .map(|&kind| KindCount {
                    kind,
                    enabled: 0,
                    taken: 0,
                })
                .collect(),
            witnesses: Vec::new(),
        }
    }
}

impl Coverage {
    /// The counts of `kind`.
    pub fn of(&self, kind: ActionKind) -> KindCount {
        self.actions
            .iter()
            .copied()
            .find(|c| c.kind == kind)
            .unwrap_or(KindCount {
                kind,
                enabled: 0,
                taken: 0,
            })
    }

    /// The depth of the witness of the `sometimes` property `name` (`None`: not
    /// reached, or no such property).
    pub fn witness_depth(&self, name: &str) -> Option<usize> {
        self.witnesses
            .iter()
            .find(|w| w.name == name)
            .and_then(|w| w.depth)
    }

    /// Adds `other` in: counts summed kind by kind, each witness at the smaller of the
    /// two depths (a witness only one side reached keeps that side's depth; one only
    /// `other` names is appended).
    pub fn merge(&mut self, other: &Coverage) {
        for o in &other.actions {
            match self.actions.iter_mut().find(|c| c.kind == o.kind) {
                Some(c) => {
                    c.enabled += o.enabled;
                    c.taken += o.taken;
                }
                None => self.actions.push(*o),
            }
        }
        for o in &other.witnesses {
            match self.witnesses.iter_mut().find(|w| w.name == o.name) {
                Some(w) => {
                    w.depth = match (w.depth, o.depth) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    }
                }
                None => self.witnesses.push(o.clone()),
            }
        }
    }

    /// The coverage table as `owm check` prints it (ends with a newline); `depths`
    /// says which witness each depth is (`the shallowest`, `the first found by 2
    /// threads, not the shallowest: --threads 1 gives it`), printed once before the
    /// witnesses.
    pub fn render(&self, depths: &str) -> String {
        let mut out = String::from(
            "coverage (enabled: in an explored state; taken: led to an explored state):\n",
        );
        let _ = writeln!(out, "  {:14} {:>12} {:>12}", "action", "enabled", "taken");
        for c in &self.actions {
            let _ = writeln!(
                out,
                "  {:14} {:>12} {:>12}",
                c.kind.as_str(),
                c.enabled,
                c.taken
            );
        }
        if self.witnesses.iter().any(|w| w.depth.is_some()) {
            let _ = writeln!(out, "witnesses (depth: {depths}):");
        } else if !self.witnesses.is_empty() {
            // Which witness a depth is says nothing when none was reached.
            let _ = writeln!(out, "witnesses (none reached):");
        }
        for w in &self.witnesses {
            let at = w.depth.map_or_else(
                || "not reached".to_string(),
                |d| format!("reached at depth {d}"),
            );
            let _ = writeln!(out, "  witness {:36} {at}", w.name);
        }
        out
    }
}

/// The witness of each `sometimes` property among `properties`, at the depth of the
/// discovery the checker reports (`discoveries`; a path of n actions is depth n + 1).
/// With the model's first-witness bookkeeping ([`OwmModel::first_violation`]: one
/// thread, or depth first) that is the first witness the search met, breadth first on
/// one thread the shallowest; on more threads breadth first, whichever witness the
/// checker kept.
pub(crate) fn witnesses(
    properties: &[Property<OwmModel>],
    discoveries: &HashMap<&'static str, Path<State, Action>>,
) -> Vec<Witness> {
    properties
        .iter()
        .filter(|p| p.expectation == Expectation::Sometimes)
        .map(|p| Witness {
            name: p.name.to_string(),
            depth: discoveries
                .get(p.name)
                .map(|path| path.clone().into_actions().len() + 1),
        })
        .collect()
}

/// The counters a search fills while it runs (shared by the model's clones through an
/// `Arc`; see [`OwmModel::coverage`]).
#[derive(Debug, Default)]
pub struct CoverageCounters {
    enabled: [AtomicU64; KINDS],
    taken: [AtomicU64; KINDS],
}

impl CoverageCounters {
    /// Counts the exploration of `s`, whose enabled actions are `actions`.
    pub(crate) fn explored(&self, s: &State, actions: &[Action]) {
        let mut local = [0u32; KINDS];
        for &a in actions {
            local[ActionKind::of(a) as usize] += 1;
        }
        for (k, &n) in local.iter().enumerate() {
            if n != 0 {
                self.enabled[k].fetch_add(u64::from(n), Ordering::Relaxed);
            }
        }
        if let Some(a) = s.via {
            self.taken[ActionKind::of(a) as usize].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// What has been counted so far (no witnesses: see `witnesses`).
    pub fn snapshot(&self) -> Coverage {
        Coverage {
            actions: ActionKind::ALL
                .iter()
                .map(|&kind| KindCount {
                    kind,
                    enabled: self.enabled[kind as usize].load(Ordering::Relaxed),
                    taken: self.taken[kind as usize].load(Ordering::Relaxed),
                })
                .collect(),
            witnesses: Vec::new(),
        }
    }
}
