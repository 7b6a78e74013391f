//! What one run established about each invariant: what the oracle observed, and
//! whether the policy claims that invariant at all ([`Policy::claims`](crate::Policy::claims)). A verdict is
//! judged on claimed invariants only; an unclaimed one is reported with what was
//! observed ("not claimed (violated 2)"), never as a failure and never as a pass.

use std::fmt;

use crate::cost::RunResult;
use crate::number_text::counted;
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
    /// Not violated on what could be judged, but integrity mode refused `unreadable`
    /// blocks of the images the invariant speaks of, so only `judged` of their
    /// `blocks` image blocks were judged ([`crate::PartJudged`]): incomplete, never
    /// a plain `held` (and, when `judged` is 0, not `held` at all: "judged on none of
    /// M blocks; K unreadable").
    HeldPartly {
        judged: u64,
        blocks: u64,
        unreadable: u64,
    },
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Observed::Held => f.write_str("held"),
            Observed::Violated { count, .. } => write!(f, "violated {count}"),
            Observed::Unchecked => f.write_str("unchecked"),
            // Nothing judged is not said to have held.
            Observed::HeldPartly {
                judged: 0,
                blocks,
                unreadable,
            } => write!(
                f,
                "judged on none of {}; {unreadable} unreadable",
                counted(*blocks, "block", "blocks")
            ),
            Observed::HeldPartly {
                judged,
                blocks,
                unreadable,
            } => write!(
                f,
                "held on {judged} of {}; {unreadable} unreadable",
                counted(*blocks, "block", "blocks")
            ),
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

/// Why a run never reached the state an invariant speaks of, so that a `held` on it
/// would be vacuous: the invariant is reported `not claimed (no backup)`, `not claimed
/// (no copy to B')`, … ([`RunResult::unreached`]). The invariants about a backup can
/// be unreached, and bank-conserved on a workload that keeps no sum; B-complete and
/// no-torn-write (the live volume) are judged in every run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unreached {
    /// No backup was ever requested: policy `none` (it never splits), or a run in
    /// which no request came. Every invariant about a backup.
    NoBackup,
    /// A backup was requested but the volume never split (A-isolated: no VLUN A).
    NoSplit,
    /// VLUN A was never declared consistent (A-consistent: no image to judge).
    NoConsistentA,
    /// VLUN A was neither archived nor retired nor dropped (backup-faithful: no
    /// archive to compare, no retire to question).
    NoArchive,
    /// VLUN A was never retired nor dropped (space-reclaimed: no extra space to free).
    NoRetire,
    /// No copy of VLUN B to B' completed (b-prime-faithful): no `[detach]`, or no
    /// retire to copy after.
    NoCopyToBPrime,
    /// Every backup request came when every transaction had ended and none was to
    /// arrive ([`RunResult::last_txn_ticks`]; one that ended in the request's own tick
    /// had ended, as [`Marks::beside_txn`](crate::Marks::beside_txn) counts ticks):
    /// the backup ran beside no transaction, so nothing it promises about them was put
    /// to the test. Every invariant about a backup.
    RequestAfterTransactions,
    /// Some request came while transactions still ran or were to arrive, but every
    /// cycle ran beside none ([`Marks::beside_txn`](crate::Marks::beside_txn)): its
    /// backup finished before the first arrival, or in a lull between transactions;
    /// or the only cycles that reached the invariant's state (a split, A declared
    /// consistent, an archive, a retire, a copy to B') ran beside none, those beside
    /// transactions having been lost before it. Nothing it promises about
    /// transactions was put to the test. Every invariant about a backup.
    NoTransactionBeside,
    /// A-isolated: the cycles that split ran beside transactions, but no NEW one
    /// (admitted on VLUN B after the split) wrote while their VLUN A was live
    /// ([`Marks::beside_txn_new`](crate::Marks::beside_txn_new)): only OLD
    /// transactions, which write VLUN A by design, wrote beside the backup (NEW ones
    /// read only, or waited for locks until VLUN A was gone), so nothing could have
    /// broken VLUN A's isolation from the NEW ones.
    NoNewTransaction,
    /// The workload's transactions do not keep the sum of the record values (every
    /// workload but bank transfers): bank-conserved has no sum to check.
    NoSum,
}

impl Unreached {
    /// The words the verdict tables use: `no backup`, `no split`, `A never consistent`,
    /// `no archive`, `no retire`, `no copy to B'`, `request after the last transaction`,
    /// `no transaction during the backup`, `no NEW write while VLUN A was live`,
    /// `no sum to conserve`.
    pub fn as_str(self) -> &'static str {
        match self {
            Unreached::NoBackup => "no backup",
            Unreached::NoSplit => "no split",
            Unreached::NoConsistentA => "A never consistent",
            Unreached::NoArchive => "no archive",
            Unreached::NoRetire => "no retire",
            Unreached::NoCopyToBPrime => "no copy to B'",
            Unreached::RequestAfterTransactions => "request after the last transaction",
            Unreached::NoTransactionBeside => "no transaction during the backup",
            Unreached::NoNewTransaction => "no NEW write while VLUN A was live",
            Unreached::NoSum => "no sum to conserve",
        }
    }

    /// Whether `invariant` speaks of a backup (of VLUN A, its archive, its retire, the
    /// waits it causes, the copy to B'), so that a run that never reached that state
    /// cannot have checked it: every invariant but B-complete, no-torn-write and
    /// bank-conserved.
    pub fn about_backup(invariant: Invariant) -> bool {
        !matches!(
            invariant,
            Invariant::BComplete | Invariant::NoTornWrite | Invariant::BankConserved
        )
    }
}

impl fmt::Display for Unreached {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One invariant's judgement in one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    pub invariant: Invariant,
    /// The run promises this invariant ([`RunResult::claims`]): its policy claims it,
    /// the backup did not fail in a way that drops it, and the run reached the state
    /// it speaks of.
    pub claimed: bool,
    /// The run does not claim the invariant and its backup was given up or abandoned,
    /// which drops it ([`LostBackup::drops`]): the reason reported first, whether the
    /// policy claims the invariant or not (crash-consistent's A-consistent under an
    /// abandoned backup reads `not claimed (abandoned, …)` as the others' does).
    pub lost: Option<LostBackup>,
    /// The run never reached the state the invariant speaks of
    /// ([`RunResult::unreached`]), whether its policy claims the invariant or not
    /// (`none` claims none of them and never backs up); `None` when `lost` says why.
    pub unreached: Option<Unreached>,
    /// The state `observed` would speak of was never reached, so it judged nothing
    /// (a `held` here would be vacuous; [`Judgement::not_reached`]): `unreached`, or,
    /// for an invariant a lost backup drops, what the lost backup never produced
    /// ([`RunResult::unreached_after_loss`]: no image declared consistent, no
    /// archive, no retire). `None` when the state was reached, or a violation of it
    /// was observed.
    pub not_reached: Option<Unreached>,
    pub observed: Observed,
    /// Under a claim in part (quiesce's non-disruption, claimed of the writes its full
    /// data area refused once one was: [`RunResult::claims`]), what was observed of
    /// the waits it does not claim, when one broke the limit (`observed` is of the
    /// refused writes alone); else `None`. Shown after the verdict (`held; waits not
    /// claimed (violated 1)`), so a row never reads a bare `held` over a wait.
    pub waits_not_claimed: Option<Observed>,
}

impl Judgement {
    /// Why an unclaimed invariant is not claimed, when that is not simply its policy:
    /// the lost backup (`given up`, `abandoned`) or the state never reached (`no
    /// backup`, `no copy to B'`, …). `None` for a claimed invariant. The one rule
    /// every verdict table, `summary.csv`, the JSON and JUnit take their words from.
    pub fn reason(&self) -> Option<&'static str> {
        if self.claimed {
            return None;
        }
        self.lost
            .map(LostBackup::as_str)
            .or(self.unreached.map(Unreached::as_str))
    }

    /// Why `observed` judged nothing, when it did not (`no archive`, `A never
    /// consistent`, `no backup`, …): the run never reached the state the invariant
    /// speaks of, so the JSON and JUnit report the case `not-reached` rather than what
    /// the oracle found in a state that never existed. `None` for a claimed invariant,
    /// and for an unclaimed one whose state was reached (crash-consistent's
    /// A-consistent: its image was declared and judged).
    pub fn not_reached(&self) -> Option<&'static str> {
        if self.claimed {
            return None;
        }
        self.not_reached.map(Unreached::as_str)
    }
}

impl fmt::Display for Judgement {
    /// `held`, `violated 2`, `unchecked`; unclaimed: `not claimed (violated 2)`; not
    /// claimed for a reason ([`Judgement::reason`]): `not claimed (given up)`, `not
    /// claimed (no backup)`, with what was observed when it is not `held` (`not
    /// claimed (abandoned, violated 1)`, `not claimed (no backup, unchecked)`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.claimed, self.reason(), &self.observed) {
            (true, _, o) => match &self.waits_not_claimed {
                Some(w) => write!(f, "{o}; waits not claimed ({w})"),
                None => write!(f, "{o}"),
            },
            (false, Some(why), Observed::Held) => write!(f, "not claimed ({why})"),
            (false, Some(why), o) => write!(f, "not claimed ({why}, {o})"),
            (false, None, o) => write!(f, "not claimed ({o})"),
        }
    }
}

impl RunResult {
    /// `v` in words ([`Violation`]'s), with the labels of the attempts it names where
    /// they differ from their ids ([`RunResult::violation_labels`]): `… txn 185 waited
    /// 115 ticks …, limit 100 (txn 185 is #186 in the timing diagram and trace.csv's
    /// label column)`; a Fig 3 label without `#` (`txn 2 is 303`). Of several, the
    /// first 10 and a count, or one rule where each label is its id plus the same
    /// number (`each txn N is #N+1`).
    pub fn said(&self, v: &Violation) -> String {
        const NAMED_MAX: usize = 10;
        let hash = if self.workload == "fig3" { "" } else { "#" };
        let pairs: Vec<(u32, u32)> = v
            .txns
            .iter()
            .filter_map(|&t| {
                let at = self
                    .violation_labels
                    .binary_search_by_key(&t, |&(id, _)| id);
                let label = self.violation_labels[at.ok()?].1;
                (label != t).then_some((t, label))
            })
            .collect();
        let offset = |(t, l): (u32, u32)| i64::from(l) - i64::from(t);
        let words = match pairs.as_slice() {
            [] => return v.to_string(),
            [(t, l)] => format!("txn {t} is {hash}{l}"),
            [first, ..] if pairs.iter().all(|&p| offset(p) == offset(*first)) => {
                format!("each txn N is {hash}N{:+}", offset(*first))
            }
            _ => {
                let mut named: Vec<String> = pairs
                    .iter()
                    .take(NAMED_MAX)
                    .map(|(t, l)| format!("txn {t} is {hash}{l}"))
                    .collect();
                if pairs.len() > NAMED_MAX {
                    named.push(format!("… and {} more", pairs.len() - NAMED_MAX));
                }
                named.join(", ")
            }
        };
        format!("{v} ({words} in the timing diagram and trace.csv's label column)")
    }

    /// Every invariant's judgement, in [`Invariant::ALL`] order.
    pub fn judgements(&self) -> Vec<Judgement> {
        Invariant::ALL
            .into_iter()
            .map(|invariant| {
                let claimed = self.claims(invariant);
                // A claim stands on the copies of the cycles not lost: a violation
                // found about a lost cycle's copy is only observed.
                let observed = self.observed(invariant, !claimed);
                // The lost backup's reason, for every invariant it drops that the run
                // does not claim, whether the policy claims it or not (crash-consistent's
                // A-consistent too): one rule for the reason shown first.
                let lost = self.lost_drops(invariant).filter(|_| !claimed);
                let unreached = self.unreached(invariant).filter(|_| lost.is_none());
                let not_reached = match lost {
                    Some(_) => self.unreached_after_loss(invariant),
                    None => unreached,
                };
                Judgement {
                    invariant,
                    claimed,
                    lost,
                    unreached,
                    not_reached: not_reached.filter(|_| !claimed),
                    observed,
                    waits_not_claimed: self.waits_not_claimed(
                        invariant,
                        None,
                        self.claimed_in_part(invariant),
                    ),
                }
            })
            .collect()
    }

    /// What the run observed of `invariant`: its violations (those found about a lost
    /// cycle's copy only when `lost_too`), else held (in part, where some blocks could
    /// not be judged), or unchecked.
    fn observed(&self, invariant: Invariant, lost_too: bool) -> Observed {
        self.observed_up_to(invariant, lost_too, None, self.claimed_in_part(invariant))
    }

    /// [`RunResult::observed`] as the row of cycle `row` shows it (`None`: the run's):
    /// without the violations found about a later cycle's copy
    /// ([`crate::Violation::cycle`]): the search passed this cycle's copy to reach it,
    /// judging it clean. An earlier cycle's stays in this row: the search stopped at
    /// that first violation, and a row never says held of what was not judged.
    /// `claimed_in_part`: [`RunResult::claimed_in_part`] of `invariant`, made once by a
    /// caller giving many rows.
    fn observed_up_to(
        &self,
        invariant: Invariant,
        lost_too: bool,
        row: Option<u32>,
        claimed_in_part: bool,
    ) -> Observed {
        // A claim of refused writes alone (quiesce's non-disruption) stands on them:
        // the waits it does not claim are left out of what its claim shows.
        let mut found = self.violations.iter().filter(|v| {
            v.invariant == invariant
                && (lost_too || !v.lost_cycle)
                && (!claimed_in_part || v.write_refused)
                && row.is_none_or(|r| v.cycle.is_none_or(|n| n <= r))
        });
        let coverage = Invariant::ALL
            .iter()
            .position(|&i| i == invariant)
            .map(|i| self.coverage[i])
            .unwrap_or_default();
        match found.next() {
            _ if !self.invariants_judged => Observed::Unchecked,
            None if coverage.is_partial() => Observed::HeldPartly {
                judged: coverage.judged,
                blocks: coverage.blocks,
                unreadable: coverage.unreadable,
            },
            None => Observed::Held,
            Some(first) => Observed::Violated {
                count: 1 + found.count() as u64,
                first: first.clone(),
            },
        }
    }

    /// Whether the run claims `invariant` though its policy does not: quiesce's
    /// non-disruption once its full data area refused a write, a claim of the refused
    /// writes alone ([`RunResult::claims`]).
    fn claimed_in_part(&self, invariant: Invariant) -> bool {
        self.in_part_given(invariant, self.claims(invariant))
    }

    /// [`RunResult::claimed_in_part`] given whether the run claims `invariant`
    /// (`claimed`: [`RunResult::claims`], as a row's judgements already hold it).
    fn in_part_given(&self, invariant: Invariant, claimed: bool) -> bool {
        claimed && !self.policy.claims(invariant)
    }

    /// [`Judgement::waits_not_claimed`] of `invariant`, up to cycle `row` (`None`: the
    /// run's): the waits past the limit found (the first wait, counted with the
    /// others found) when the run claims `invariant` in part (`claimed_in_part`:
    /// [`RunResult::claimed_in_part`] of `invariant`), else `None`.
    fn waits_not_claimed(
        &self,
        invariant: Invariant,
        row: Option<u32>,
        claimed_in_part: bool,
    ) -> Option<Observed> {
        if !claimed_in_part {
            return None;
        }
        let mut waits = self.violations.iter().filter(|v| {
            v.invariant == invariant
                && !v.write_refused
                && !v.lost_cycle
                && row.is_none_or(|r| v.cycle.is_none_or(|n| n <= r))
        });
        let first = waits.next()?;
        Some(Observed::Violated {
            count: 1 + waits.count() as u64,
            first: first.clone(),
        })
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
            .filter(|v| (self.claims(v.invariant) && self.counts(v)) == claimed)
            .collect()
    }

    /// Whether violation `v` counts for its invariant's claim, when the run claims
    /// it: not found about a lost cycle's copy, and of what the policy claims (under
    /// a policy that claims non-disruption only of refused writes, quiesce, not a
    /// wait).
    fn counts(&self, v: &Violation) -> bool {
        !v.lost_cycle && (v.write_refused || self.policy.claims(v.invariant))
    }

    /// Whether the run's backup refused a user's write for a full data area
    /// (`break-guest-write`, [`Violation::write_refused`]): non-disruption is then
    /// claimed whatever the policy, as every policy that backs up claims that no
    /// write fails for it (quiesce's waits are not claimed, its refused writes are).
    fn write_refused(&self) -> bool {
        // Unjudged (no history), the count of attempts the full area aborted says it:
        // the claim stands, `unchecked`.
        self.violations
            .iter()
            .any(|v| v.write_refused && !v.lost_cycle)
            || (!self.invariants_judged && self.costs.data_area_full_aborts > 0)
    }

    /// Every way the run's backups were lost, given up first: both when some cycle of
    /// a schedule was given up and another abandoned (empty when none was lost).
    pub fn backups_lost(&self) -> Vec<LostBackup> {
        [LostBackup::GivenUp, LostBackup::Abandoned]
            .into_iter()
            .filter(|&l| self.lost(l))
            .collect()
    }

    /// How many of the run's backup cycles were given up or abandoned (0 to
    /// `cycles.len()`): each cycle whose milestones have `given_up` or `abandoned`
    /// ([`Marks`](crate::Marks)); a run without a schedule counts its one backup.
    pub fn backup_cycles_lost(&self) -> u64 {
        self.cycle_marks()
            .filter(|m| m.given_up.is_some() || m.abandoned.is_some())
            .count() as u64
    }

    /// Whether this run promises `invariant`: what its policy claims
    /// ([`Policy::claims`](crate::Policy::claims)), except that a run whose backup was
    /// given up or abandoned claims none of the invariants that speak of its copy
    /// ([`LostBackup::drops`]): it made no archive, and says so. A held verdict on
    /// those would be vacuous (no image was declared, nothing was archived), so
    /// they are reported `not claimed (given up)` / `not claimed (abandoned)`. In a
    /// run of several cycles a lost cycle drops only its own copy: the invariant is
    /// claimed, and judged, on the copies of the cycles that were not lost and reached
    /// its state ([`RunResult::lost_drops`]). Nor does a run claim an invariant whose state it never reached
    /// ([`RunResult::unreached`]): `not claimed (no backup)`, `not claimed (no copy to
    /// B')`. A policy that does not claim non-disruption but backs up (quiesce)
    /// claims it once its backup refused a user's write for a full data area
    /// (`break-guest-write`): no policy's backup may fail a user's write, and that
    /// claim is judged on the refused writes alone ([`Violation::write_refused`]).
    pub fn claims(&self, invariant: Invariant) -> bool {
        let refused =
            invariant == Invariant::NonDisruption && self.policy.backs_up() && self.write_refused();
        (self.policy.claims(invariant) || refused)
            && self.lost_drops(invariant).is_none()
            && self.unreached(invariant).is_none()
    }

    /// How a lost backup drops `invariant` from the run's claims, when it does: some
    /// cycle was lost in a way that drops it ([`LostBackup::drops`]; given up first
    /// when both happened) and no other cycle that ran beside a transaction
    /// ([`crate::Marks::beside_txn`]) reached the state it speaks of (an image
    /// declared consistent; an archive, a retire or a drop; a retire or a drop). A
    /// schedule whose cycle 1 was given up and cycle 2 archived claims cycle 2's copy.
    pub fn lost_drops(&self, invariant: Invariant) -> Option<LostBackup> {
        let how = [LostBackup::GivenUp, LostBackup::Abandoned]
            .into_iter()
            .find(|&l| self.lost(l) && l.drops(invariant))?;
        let reached: Reached = state_of(invariant).map_or(|_| false, |(reached, _)| reached);
        let completed = self
            .cycles_beside_txn()
            .filter(|m| cycle_loss(m).is_none_or(|l| !l.drops(invariant)))
            .any(reached);
        (!completed).then_some(how)
    }

    /// Each backup cycle's milestones: `cycles`', or the one backup's `marks`.
    pub fn cycle_marks(&self) -> impl Iterator<Item = &crate::Marks> {
        let one = self.cycles.is_empty().then_some(&self.marks);
        self.cycles.iter().map(|c| &c.marks).chain(one)
    }

    /// The milestones of the cycles that ran beside a transaction
    /// ([`Marks::beside_txn`](crate::Marks::beside_txn)): the only ones whose states
    /// put a backup's promises to the test, so the only ones a claim stands on.
    fn cycles_beside_txn(&self) -> impl Iterator<Item = &crate::Marks> {
        self.cycle_marks().filter(|m| m.beside_txn)
    }

    /// The invariants the run does not claim for a reason ([`Judgement::reason`]) that
    /// is no one cycle's own (no row of `summary.csv` names it: the run's `no
    /// transaction during the backup` made of cycle 1's `no split` and cycle 2's
    /// `request after the last transaction`), each with what its cycles' rows say
    /// ([`RunResult::cycle_judgements`]): `cycle 1 no split; cycle 2 request after the
    /// last transaction`, one part per distinct reason (a row with none gives its
    /// verdict, `held`) in the order of its first cycle, its cycles listed as
    /// [`crate::oracle::list_text`] lists them. In [`Invariant::ALL`] order; empty for
    /// a run without cycles.
    pub fn reasons_by_cycle(&self) -> Vec<(Invariant, String)> {
        if self.cycles.is_empty() {
            return Vec::new();
        }
        let run = self.judgements();
        // Per invariant whose run-level reason is open: a row named it, and the rows'
        // words with their cycles.
        type Parts = Vec<(String, Vec<u32>)>;
        let mut open: Vec<Option<(bool, Parts)>> = run
            .iter()
            .map(|j| j.reason().map(|_| (false, Vec::new())))
            .collect();
        for c in &self.cycles {
            let row = self.cycle_judgements_of(&run, c);
            for ((j, mine), state) in run.iter().zip(&row).zip(open.iter_mut()) {
                let Some((named, parts)) = state else {
                    continue;
                };
                if mine.reason().is_some() && mine.reason() == j.reason() {
                    *named = true;
                }
                if *named {
                    continue;
                }
                let word = mine
                    .reason()
                    .map_or_else(|| mine.to_string(), str::to_string);
                match parts.iter_mut().find(|(w, _)| *w == word) {
                    Some((_, cycles)) => cycles.push(c.cycle),
                    None => parts.push((word, vec![c.cycle])),
                }
            }
        }
        run.iter()
            .zip(open)
            .filter_map(|(j, state)| match state {
                Some((false, parts)) if !parts.is_empty() => {
                    let text: Vec<String> = parts
                        .iter()
                        .map(|(word, cycles)| {
                            format!(
                                "{} {} {word}",
                                if cycles.len() == 1 { "cycle" } else { "cycles" },
                                crate::oracle::list_text(cycles)
                            )
                        })
                        .collect();
                    Some((j.invariant, text.join("; ")))
                }
                _ => None,
            })
            .collect()
    }

    /// The judgements as cycle `c`'s row of `summary.csv` gives them: the run's, but
    /// for a cycle that was lost, whose copy is not claimed: each invariant its loss
    /// drops reads `not claimed (given up)` / `not claimed (abandoned)`, with what the
    /// run observed about lost cycles' copies. In every row, a promise about a backup
    /// that the cycle put to no test beside a transaction, or whose state it never
    /// reached, reads `not claimed (…)` with that reason where nothing was observed
    /// violated: a row never says `held` of a cycle that did not test it.
    pub fn cycle_judgements(&self, c: &crate::CycleResult) -> Vec<Judgement> {
        self.cycle_judgements_of(&self.judgements(), c)
    }

    /// [`RunResult::cycle_judgements`] from the run's judgements already made
    /// (`run`: [`RunResult::judgements`] of this result): a caller giving every cycle's
    /// row makes them once, not once a row (a run of thousands of cycles).
    pub fn cycle_judgements_of(&self, run: &[Judgement], c: &crate::CycleResult) -> Vec<Judgement> {
        let mut all = run.to_vec();
        // Whether the run claims an invariant in part ([`RunResult::claimed_in_part`]),
        // read from its judgements rather than judged again for every row.
        let in_part = |invariant: Invariant| {
            let claimed = run.iter().any(|j| j.invariant == invariant && j.claimed);
            self.in_part_given(invariant, claimed)
        };
        let untested = self.untested_cycle(&c.marks);
        let Some(how) = cycle_loss(&c.marks) else {
            for j in all.iter_mut() {
                // A completed cycle's row: what was observed of the copies not lost. A
                // violation found about a lost cycle's copy (crash-consistent's VLUN A,
                // abandoned when its data area filled) is that cycle's row's.
                let in_part = in_part(j.invariant);
                j.observed = self.observed_up_to(j.invariant, false, Some(c.cycle), in_part);
                j.waits_not_claimed = self.waits_not_claimed(j.invariant, Some(c.cycle), in_part);
                let Some(why) = shortfall(&c.marks, j.invariant, untested) else {
                    continue;
                };
                // A promise of a backup that no transaction beside this cycle tested
                // ([`tested_beside`]), or whose own state it never reached: its row says
                // so, whatever another cycle's loss made of the run's claim. A cycle
                // whose only transactions came after its copy of VLUN A was over tested
                // non-disruption (they could wait at its gate), and the copy to B' if
                // they ran beside it.
                let violated = matches!(j.observed, Observed::Violated { .. });
                if tested_beside(&c.marks, j.invariant) {
                    // Short of the state only (write logging's retire stopped at a block
                    // failing its checksum: archived, never retired): a claim, where
                    // nothing was observed violated.
                    if !j.claimed || violated {
                        continue;
                    }
                } else if violated {
                    // A violation found about this cycle's own copy
                    // ([`crate::Violation::cycle`]) stays in its row: its state was
                    // reached, and a violation is never hidden. One that names no cycle
                    // stays only when no other cycle put its invariant to the test
                    // beside a transaction (then it can be no other cycle's); else it is
                    // that cycle's, not this one's.
                    let own = self.violations.iter().any(|v| {
                        v.invariant == j.invariant && !v.lost_cycle && v.cycle == Some(c.cycle)
                    });
                    if own || !self.cycle_marks().any(|m| tested_beside(m, j.invariant)) {
                        continue;
                    }
                    j.observed = Observed::Held;
                }
                not_claimed(j, why);
            }
            return all;
        };
        // A cycle given up before it began (queued behind an earlier cycle that kept
        // VLUN A) made no split and no copy: every promise about a backup reads its
        // loss, `not claimed (given up)`, with nothing observed (the run's observations
        // are of other cycles' copies), whatever transactions ran meanwhile.
        if c.marks.not_begun {
            for j in all
                .iter_mut()
                .filter(|j| Unreached::about_backup(j.invariant))
            {
                j.claimed = false;
                j.lost = Some(how);
                j.unreached = None;
                j.not_reached = None;
                j.observed = Observed::Held;
            }
            return all;
        }
        // What the loss does not drop (non-disruption, B-complete, …) is observed as a
        // completed cycle's row observes it: the violations found by this cycle, not a
        // later cycle's.
        for j in all.iter_mut().filter(|j| !how.drops(j.invariant)) {
            let in_part = in_part(j.invariant);
            j.observed = self.observed_up_to(j.invariant, false, Some(c.cycle), in_part);
            j.waits_not_claimed = self.waits_not_claimed(j.invariant, Some(c.cycle), in_part);
        }
        // A run whose claim a loss dropped already reads so in every row: this cycle's
        // reads its own loss (abandoned, where another cycle was given up).
        for j in all
            .iter_mut()
            .filter(|j| how.drops(j.invariant) && j.lost.is_some())
        {
            j.lost = Some(how);
        }
        for j in all
            .iter_mut()
            .filter(|j| how.drops(j.invariant) && j.lost.is_none())
        {
            let mut found = self
                .violations
                .iter()
                .filter(|v| v.invariant == j.invariant && v.lost_cycle);
            j.claimed = false;
            j.lost = Some(how);
            j.unreached = None;
            j.not_reached = None;
            // What was observed about the lost cycles' copies: their violation, else
            // the run's observation when it is not one of a violation (held, held in
            // part, unchecked).
            j.observed = match (found.next(), &j.observed) {
                (Some(first), _) => Observed::Violated {
                    count: 1 + found.count() as u64,
                    first: first.clone(),
                },
                (None, Observed::Violated { .. }) => Observed::Held,
                (None, o) => o.clone(),
            };
        }
        // An invariant the loss does not drop, not reached by the run, whose state
        // this cycle never reached either (a quiesce given up before its split: no
        // split for A-isolated): its row gives this cycle's reason, not another's.
        for j in all.iter_mut() {
            let Some((reached, why)) = state_of(j.invariant) else {
                continue;
            };
            if !how.drops(j.invariant) && j.not_reached.is_some() && !reached(&c.marks) {
                j.unreached = Some(why);
                j.not_reached = Some(why);
            }
        }
        // A promise the loss does not drop, claimed on another cycle, that this cycle
        // put to no test beside a transaction (a request after the last one, given up
        // before it began) or whose state it never reached (a quiesce given up before
        // its split): its row says so where nothing was observed violated, as a
        // completed cycle's row does, never `held`.
        for j in all.iter_mut().filter(|j| {
            j.claimed && !how.drops(j.invariant) && !matches!(j.observed, Observed::Violated { .. })
        }) {
            if let Some(why) = shortfall(&c.marks, j.invariant, untested) {
                not_claimed(j, why);
            }
        }
        all
    }

    /// Why cycle `m` ran beside no transaction, when it did not: its request came when
    /// every transaction had ended ([`Unreached::RequestAfterTransactions`]), else
    /// none ran beside its copy ([`Unreached::NoTransactionBeside`]).
    fn untested_cycle(&self, m: &crate::Marks) -> Unreached {
        match m.request {
            Some(r) if r >= self.last_txn_ticks => Unreached::RequestAfterTransactions,
            _ => Unreached::NoTransactionBeside,
        }
    }

    /// Why the run never reached the state `invariant` speaks of (`None`: it did, or
    /// the invariant is not about a backup, [`Unreached::about_backup`]).
    /// Bank-conserved on a workload that keeps no sum ([`RunResult::sum_conserved`])
    /// is [`Unreached::NoSum`]: nothing of it was judged. Otherwise read from
    /// the milestones of every cycle ([`Marks`](crate::Marks)), as the oracle judges
    /// them: no backup requested ([`Unreached::NoBackup`], every invariant about a
    /// backup, non-disruption included: nothing waited for one); A-isolated needs a
    /// split, A-consistent an image declared consistent, backup-faithful an archive,
    /// a retire or a drop, space-reclaimed a retire or a drop, b-prime-faithful a
    /// completed copy to B' ([`crate::Marks::detach_end`]), each in some cycle; a run
    /// in which no copy to B' began says so of b-prime-faithful before anything about
    /// its transactions ([`Unreached::NoCopyToBPrime`]). A run whose every request came
    /// when every transaction had ended ([`RunResult::last_txn_ticks`]) reached none of
    /// them beside a transaction ([`Unreached::RequestAfterTransactions`], every
    /// invariant about a backup); one whose every cycle's copy ran beside no
    /// transaction (its span's [`crate::Marks::beside_txn`],
    /// [`crate::Marks::beside_txn_b_prime`] or [`crate::Marks::beside_txn_waits`]:
    /// before the first arrival, in a lull) neither
    /// ([`Unreached::NoTransactionBeside`]), and only the cycles whose copy ran beside
    /// one reach the states above; A-isolated's, beside a NEW one's write too
    /// ([`crate::Marks::beside_txn_new`]), else [`Unreached::NoNewTransaction`]. A
    /// violation observed of `invariant` shows its state was reached: never unreached.
    pub fn unreached(&self, invariant: Invariant) -> Option<Unreached> {
        if invariant == Invariant::BankConserved && !self.sum_conserved {
            return Some(Unreached::NoSum);
        }
        if !Unreached::about_backup(invariant)
            || self.violations.iter().any(|v| v.invariant == invariant)
        {
            return None;
        }
        if !self.policy.backs_up() || !self.cycle_marks().any(|m| m.request.is_some()) {
            return Some(Unreached::NoBackup);
        }
        if invariant == Invariant::BPrimeFaithful
            && !self.cycle_marks().any(|m| m.detach_start.is_some())
        {
            // No copy to B' began: that, not when the transactions ran, is why it is
            // not claimed.
            return Some(Unreached::NoCopyToBPrime);
        }
        let requested_beside = self
            .cycle_marks()
            .filter_map(|m| m.request)
            .any(|r| r < self.last_txn_ticks);
        if !requested_beside {
            return Some(Unreached::RequestAfterTransactions);
        }
        if !self
            .cycle_marks()
            .any(|m| tested_beside(m, invariant) && m.request.is_some())
        {
            return Some(self.untested(invariant));
        }
        // Only a cycle that ran beside a transaction reaches a state worth judging.
        let any = |reached: fn(&crate::Marks) -> bool| {
            self.cycle_marks()
                .filter(|m| tested_beside(m, invariant))
                .any(reached)
        };
        // Reached only by cycles beside no transaction (a backup given up beside
        // them, a later one after the load): that, not the state, is what is missing.
        let anywhere = |reached: fn(&crate::Marks) -> bool| self.cycle_marks().any(reached);
        let (reached, why) = state_of(invariant)?;
        if any(reached) {
            None
        } else if anywhere(reached) {
            Some(self.untested(invariant))
        } else {
            Some(why)
        }
    }

    /// Why the run never reached the state `invariant` speaks of, for an invariant its
    /// lost backup drops ([`LostBackup::drops`]): as [`RunResult::unreached`], except
    /// that backup-faithful needs an archive or a retire in some cycle (the drop of an
    /// abandoned VLUN A is the loss itself, not an archive to compare). A quiesce
    /// given up at its deadline never declared an image (`A never consistent`),
    /// archived (`no archive`) or retired (`no retire`); a backup abandoned after A
    /// was declared consistent reached A-consistent's state, and its oracle's verdict
    /// on that image stands. A violation observed shows the state was reached.
    pub fn unreached_after_loss(&self, invariant: Invariant) -> Option<Unreached> {
        let archived_in = |m: &crate::Marks| m.archive_copy.is_some() || m.retire.is_some();
        let archived = self.cycles_beside_txn().any(archived_in);
        match invariant {
            Invariant::BackupFaithful
                if !archived && !self.violations.iter().any(|v| v.invariant == invariant) =>
            {
                // Archived only by a cycle beside no transaction: reached, not tested.
                Some(if self.cycle_marks().any(archived_in) {
                    Unreached::NoTransactionBeside
                } else {
                    Unreached::NoArchive
                })
            }
            _ => self.unreached(invariant),
        }
    }

    /// Why no cycle put `invariant` to the test beside a transaction, though some
    /// request came while transactions ran. A-isolated: a cycle beside transactions
    /// split, but no NEW one wrote beside it ([`Unreached::NoNewTransaction`]); or the
    /// cycles beside transactions never split, and no other did
    /// ([`Unreached::NoSplit`]). Otherwise no transaction ran beside the backup
    /// ([`Unreached::NoTransactionBeside`]).
    fn untested(&self, invariant: Invariant) -> Unreached {
        let beside = |m: &&crate::Marks| m.beside_txn && m.request.is_some();
        if invariant == Invariant::AIsolated {
            if self.cycle_marks().filter(beside).any(|m| m.split.is_some()) {
                return Unreached::NoNewTransaction;
            }
            if self.cycle_marks().any(|m| beside(&m))
                && self.cycle_marks().all(|m| m.split.is_none())
            {
                return Unreached::NoSplit;
            }
        }
        Unreached::NoTransactionBeside
    }

    /// Whether some cycle's backup was lost `how`.
    fn lost(&self, how: LostBackup) -> bool {
        match how {
            // Every give-up marks its cycle, a request that never began
            // ([`crate::Marks::not_begun`]) too.
            LostBackup::GivenUp => self.cycle_marks().any(|m| m.given_up.is_some()),
            LostBackup::Abandoned => self.costs.backup_abandoned,
        }
    }
}

/// Whether a cycle's milestones reached a state.
type Reached = fn(&crate::Marks) -> bool;

/// The state a cycle must reach for `invariant` to be judged on it (a split, A
/// declared consistent, an archive, a retire, a copy to B'), and the reason when it did
/// not; `None` for an invariant that needs none of them.
fn state_of(invariant: Invariant) -> Option<(Reached, Unreached)> {
    let state: (Reached, _) = match invariant {
        Invariant::AIsolated => (|m| m.split.is_some(), Unreached::NoSplit),
        Invariant::AConsistent => (|m| m.a_consistent.is_some(), Unreached::NoConsistentA),
        Invariant::BackupFaithful => (
            |m| m.archive_copy.is_some() || m.retire.is_some() || m.a_dropped.is_some(),
            Unreached::NoArchive,
        ),
        Invariant::SpaceReclaimed => (
            |m| m.retire.is_some() || m.a_dropped.is_some(),
            Unreached::NoRetire,
        ),
        Invariant::BPrimeFaithful => (|m| m.detach_end.is_some(), Unreached::NoCopyToBPrime),
        _ => return None,
    };
    Some(state)
}

/// Whether cycle `m` put `invariant` to the test beside a transaction: non-disruption
/// when some transaction could wait for the cycle ([`crate::Marks::beside_txn_waits`]),
/// b-prime-faithful when one ran beside the copy to B'
/// ([`crate::Marks::beside_txn_b_prime`]), A-isolated when one ran beside the copy of
/// VLUN A and a NEW one while VLUN A was live ([`crate::Marks::beside_txn_new`]: no
/// OLD write breaks isolation), every other invariant about a backup when one ran
/// beside the copy of VLUN A ([`crate::Marks::beside_txn`]: an OLD one running
/// through the split or the copy shapes the image the archive must carry, and can
/// wait for the backup).
fn tested_beside(m: &crate::Marks, invariant: Invariant) -> bool {
    match invariant {
        Invariant::NonDisruption => m.beside_txn_waits,
        Invariant::BPrimeFaithful => m.beside_txn_b_prime,
        Invariant::AIsolated => m.beside_txn && m.beside_txn_new,
        _ => m.beside_txn,
    }
}

/// Why cycle `m` cannot stand for `invariant`, a promise about a backup, when it
/// cannot: it put the invariant to no test beside a transaction ([`tested_beside`]:
/// [`untested_reason`], from `untested`, [`RunResult::untested_cycle`]'s reason), or
/// did not reach the state the
/// invariant is judged on ([`state_of`]'s reason). `None` when it did both, and for an
/// invariant not about a backup ([`Unreached::about_backup`]).
fn shortfall(m: &crate::Marks, invariant: Invariant, untested: Unreached) -> Option<Unreached> {
    if !Unreached::about_backup(invariant) {
        return None;
    }
    if !tested_beside(m, invariant) {
        return Some(untested_reason(m, invariant, untested));
    }
    state_of(invariant).and_then(|(reached, why)| (!reached(m)).then_some(why))
}

/// Makes `j` read `not claimed (why)` in a cycle's row: no claim, no loss for a reason.
fn not_claimed(j: &mut Judgement, why: Unreached) {
    j.claimed = false;
    j.lost = None;
    j.unreached = Some(why);
    j.not_reached = Some(why);
}

/// The reason cycle `m`'s row gives for `invariant` it did not put to the test beside
/// a transaction ([`tested_beside`]), `why` being the cycle's when nothing ran beside
/// it (a request after the last transaction, or none during the backup): a cycle that
/// made no copy to B' says so of b-prime-faithful; one whose copy of VLUN A ran beside
/// OLD transactions only says A-isolated had no split, or no NEW transaction.
fn untested_reason(m: &crate::Marks, invariant: Invariant, why: Unreached) -> Unreached {
    match invariant {
        Invariant::BPrimeFaithful if m.detach_start.is_none() => Unreached::NoCopyToBPrime,
        Invariant::AIsolated if m.beside_txn && m.split.is_none() => Unreached::NoSplit,
        Invariant::AIsolated if m.beside_txn => Unreached::NoNewTransaction,
        _ => why,
    }
}

/// How a cycle with milestones `m` was lost, if it was: given up or abandoned.
fn cycle_loss(m: &crate::Marks) -> Option<LostBackup> {
    if m.given_up.is_some() {
        Some(LostBackup::GivenUp)
    } else if m.abandoned.is_some() {
        Some(LostBackup::Abandoned)
    } else {
        None
    }
}
