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

/// Why a run's backup made no archive, so the run claims less than its policy does
/// ([`RunResult::claims`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LostBackup {
    /// Given up: quiesce past `backup.quiesce_retries_max` (no copy was ever taken),
    /// or an archive pass that met a block of VLUN A failing its checksum (VLUN A
    /// kept). The history says so (`Event::GiveUp`).
    GivenUp,
    /// Abandoned: the data area filled under `break-snapshot`, VLUN A dropped with no
    /// archive (`Event::Abandon`).
    Abandoned,
}

impl LostBackup {
    /// `given up`, `abandoned`: the words the verdict tables use.
    pub fn as_str(self) -> &'static str {
        match self {
            LostBackup::GivenUp => "given up",
            LostBackup::Abandoned => "abandoned",
        }
    }

    /// The invariants a run whose backup was lost this way does not claim, whatever
    /// its policy: those that speak of the copy. Abandoned: A-consistent and
    /// backup-faithful (VLUN A was dropped with no archive; its drop still frees the
    /// extra space, so space-reclaimed is judged). Given up: also space-reclaimed
    /// (quiesce never split; an integrity give-up keeps VLUN A, never retired).
    pub fn drops(self, invariant: Invariant) -> bool {
        match self {
            LostBackup::Abandoned => matches!(
                invariant,
                Invariant::AConsistent | Invariant::BackupFaithful
            ),
            LostBackup::GivenUp => matches!(
                invariant,
                Invariant::AConsistent | Invariant::BackupFaithful | Invariant::SpaceReclaimed
            ),
        }
    }
}

impl fmt::Display for LostBackup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One invariant's judgement in one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    pub invariant: Invariant,
    /// The run promises this invariant ([`RunResult::claims`]): its policy claims it
    /// and the backup did not fail in a way that drops it.
    pub claimed: bool,
    /// The policy claims the invariant but the run does not, because its backup was
    /// given up or abandoned ([`LostBackup::drops`]).
    pub lost: Option<LostBackup>,
    /// The policy claims the invariant but the run never reached the state it speaks
    /// of: b-prime-faithful in a run that made no copy of VLUN B to B' (no `[detach]`,
    /// or no retire to copy after).
    pub unreached: bool,
    pub observed: Observed,
}

/// What [`Judgement`] says of an unreached b-prime-faithful: `not claimed (no copy to B')`.
pub const NO_COPY_TO_B_PRIME: &str = "no copy to B'";

impl fmt::Display for Judgement {
    /// `held`, `violated 2`, `unchecked`; unclaimed: `not claimed (violated 2)`; not
    /// claimed because the backup failed: `not claimed (given up)`, `not claimed
    /// (abandoned)`, with what was observed when it is not `held`
    /// (`not claimed (abandoned, violated 1)`); never reached: `not claimed (no copy
    /// to B')`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.claimed, self.lost, &self.observed) {
            (true, _, o) => write!(f, "{o}"),
            (false, None, Observed::Held) if self.unreached => {
                write!(f, "not claimed ({NO_COPY_TO_B_PRIME})")
            }
            (false, None, o) if self.unreached => {
                write!(f, "not claimed ({NO_COPY_TO_B_PRIME}, {o})")
            }
            (false, Some(lost), Observed::Held) => write!(f, "not claimed ({lost})"),
            (false, Some(lost), o) => write!(f, "not claimed ({lost}, {o})"),
            (false, None, o) => write!(f, "not claimed ({o})"),
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
                let claimed = self.claims(invariant);
                let lost = self
                    .backup_lost()
                    .filter(|_| !claimed && self.policy.claims(invariant))
                    .filter(|l| l.drops(invariant));
                Judgement {
                    invariant,
                    claimed,
                    lost,
                    unreached: !claimed && lost.is_none() && self.policy.claims(invariant),
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

    /// Whether the run's backup (of any cycle) was given up or abandoned: given up
    /// first when both happened (`Costs::backup_given_up`, `Costs::backup_abandoned`).
    pub fn backup_lost(&self) -> Option<LostBackup> {
        if self.costs.backup_given_up {
            Some(LostBackup::GivenUp)
        } else if self.costs.backup_abandoned {
            Some(LostBackup::Abandoned)
        } else {
            None
        }
    }

    /// Whether this run promises `invariant`: what its policy claims
    /// ([`Policy::claims`](crate::Policy::claims)), except that a run whose backup was
    /// given up or abandoned claims none of the invariants that speak of its copy
    /// ([`LostBackup::drops`]): it made no archive, and says so. A held verdict on
    /// those would be vacuous (no image was declared, nothing was archived), so
    /// they are reported `not claimed (given up)` / `not claimed (abandoned)`. In a
    /// run of several cycles one lost backup drops the claims for the whole run.
    /// b-prime-faithful is claimed only by a run that completed a copy of VLUN B to B'
    /// (`[detach]`, [`RunResult::copied_b_prime`]): without one it is never reached.
    pub fn claims(&self, invariant: Invariant) -> bool {
        let lost = [LostBackup::GivenUp, LostBackup::Abandoned]
            .into_iter()
            .any(|l| self.lost(l) && l.drops(invariant));
        let reached = invariant != Invariant::BPrimeFaithful || self.copied_b_prime();
        self.policy.claims(invariant) && !lost && reached
    }

    /// Whether the run completed a copy of VLUN B to B' (`[detach]`) in some cycle:
    /// the state b-prime-faithful speaks of was reached.
    pub fn copied_b_prime(&self) -> bool {
        self.cycles
            .iter()
            .map(|c| &c.marks)
            .chain([&self.marks])
            .any(|m| m.detach_end.is_some())
    }

    fn lost(&self, how: LostBackup) -> bool {
        match how {
            LostBackup::GivenUp => self.costs.backup_given_up,
            LostBackup::Abandoned => self.costs.backup_abandoned,
        }
    }
}
