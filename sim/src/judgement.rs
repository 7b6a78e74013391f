//! What one run established about each invariant: what the oracle observed, and
//! whether the policy claims that invariant at all ([`Policy::claims`](crate::Policy::claims)). A verdict is
//! judged on claimed invariants only; an unclaimed one is reported with what was
//! observed ("not claimed (violated 2)"), never as a failure and never as a pass.

use std::fmt;

use crate::cost::RunResult;
use crate::oracle::{Invariant, Violation};

/// What the oracle observed about one invariant in one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observed {
    /// Checked over the whole history and held.
    Held,
    /// Violated `count` times; `first` is the first violation found.
    Violated { count: u64, first: Violation },
    /// Not judged: the run kept no history (`keep_history = false`).
    Unchecked,
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Observed::Held => f.write_str("held"),
            Observed::Violated { count, .. } => write!(f, "violated {count}"),
            Observed::Unchecked => f.write_str("unchecked"),
        }
    }
}

/// One invariant's judgement in one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    pub invariant: Invariant,
    /// The run's policy promises this invariant ([`Policy::claims`](crate::Policy::claims)).
    pub claimed: bool,
    pub observed: Observed,
}

impl fmt::Display for Judgement {
    /// `held`, `violated 2`, `unchecked`; unclaimed: `not claimed (violated 2)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.claimed {
            write!(f, "{}", self.observed)
        } else {
            write!(f, "not claimed ({})", self.observed)
        }
    }
}

impl RunResult {
    /// Every invariant's judgement, in [`Invariant::ALL`] order.
    pub fn judgements(&self) -> Vec<Judgement> {
        Invariant::ALL
            .into_iter()
            .map(|invariant| {
                let mut found = self.violations.iter().filter(|v| v.invariant == invariant);
                let observed = match found.next() {
                    _ if !self.invariants_judged => Observed::Unchecked,
                    None => Observed::Held,
                    Some(first) => Observed::Violated {
                        count: 1 + found.count() as u64,
                        first: first.clone(),
                    },
                };
                Judgement {
                    invariant,
                    claimed: self.claims(invariant),
                    observed,
                }
            })
            .collect()
    }

    /// The violations of invariants the policy claims: what the verdict is judged on.
    pub fn claimed_violations(&self) -> Vec<&Violation> {
        self.violations_where(true)
    }

    /// The violations of invariants the policy does not claim (observed, reported, not
    /// a failure): e.g. A-consistent under crash-consistent.
    pub fn unclaimed_violations(&self) -> Vec<&Violation> {
        self.violations_where(false)
    }

    fn violations_where(&self, claimed: bool) -> Vec<&Violation> {
        self.violations
            .iter()
            .filter(|v| self.claims(v.invariant) == claimed)
            .collect()
    }

    /// Whether this run promises `invariant`: what its policy claims
    /// ([`Policy::claims`](crate::Policy::claims)), except that a run whose backup was abandoned (a full data
    /// area under `break-snapshot`) claims neither A-consistent nor backup-faithful: it
    /// kept no consistent image and wrote no archive, and says so
    /// (`Costs::backup_abandoned`).
    pub fn claims(&self, invariant: Invariant) -> bool {
        let abandoned = self.costs.backup_abandoned
            && matches!(
                invariant,
                Invariant::AConsistent | Invariant::BackupFaithful
            );
        self.policy.claims(invariant) && !abandoned
    }
}
