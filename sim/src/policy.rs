//! Backup policies: when the split happens, who waits, and when A is declared
//! consistent, archived and retired.
//!
//! - **quiesce** (prior art, Fig 3B, \[0044\]/\[0047\]): at the request the admission gate
//!   closes; when the last active transaction ends the volume is split (the
//!   point-in-time copy, taking the setup window), A is archived and retired, and the
//!   gate reopens. New transactions wait for the old ones *and* the copy.
//! - **crash-consistent**: at the request the volume is split and A archived at once,
//!   with no waiting; transactions in flight carry on through VLUN B. What a plain
//!   volume snapshot gives: the archive may hold half a transaction.
//! - **OWM** (one of the three engine variants, Fig 3C / Fig 4): split at the request;
//!   old transactions keep VLUN A (their writes mirrored to B), new ones wait only for
//!   the setup window and then use VLUN B; when the last old one ends A is consistent,
//!   archived, then retired.
//!
//! What each policy promises ([`Policy::claims`], the one claim table; verdicts are
//! judged on claimed invariants only, the others reported as "not claimed"):
//!
//! | invariant | none | quiesce | crash-consistent | OWM |
//! |---|---|---|---|---|
//! | A-consistent | - | yes | - (the archive may hold half a transaction) | yes |
//! | A-isolated | - | yes | yes | yes |
//! | B-complete | yes | yes | yes | yes |
//! | no-torn-write | yes | yes | yes | yes |
//! | bank-conserved | yes (the live volume) | yes | - (its A image is crash-consistent only; the live volume's sum follows from B-complete) | yes |
//! | non-disruption | - (no backup to wait for) | - of waits (new transactions wait for the old ones and the copy: measured); yes of writes a full data area refuses ([`crate::RunResult::claims`]) | yes | yes |
//! | backup-faithful | - | yes | yes | yes |
//! | space-reclaimed | - | yes | yes | yes |
//! | b-prime-faithful | - | yes | yes | yes |
//!
//! b-prime-faithful speaks of the copy of VLUN B to B' (`[detach]`), which follows a
//! retire: a run that made no such copy does not claim it ([`crate::RunResult::claims`]).

use std::fmt;
use std::str::FromStr;

use engine::Variant;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::oracle::Invariant;

/// Which backup policy a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Policy {
    /// No backup at all: the workload alone (Fig 3A) on a plain single volume: no
    /// mirror, no lookup table, one physical write per logical write (the fair
    /// baseline every backup policy is compared with). The run never splits.
    None,
    /// Hold new transactions, wait for the active ones, copy, resume (Fig 3B).
    Quiesce,
    /// Copy at the request, no waiting (a plain volume snapshot).
    CrashConsistent,
    /// The one-way mirror in one of its variants (Fig 3C).
    Owm(Variant),
}

impl Policy {
    /// Every backup policy (what a scenario file that names none runs): the two
    /// baselines, then the three OWM variants. [`Policy::None`] is named explicitly.
    pub const ALL: [Policy; 5] = [
        Policy::Quiesce,
        Policy::CrashConsistent,
        Policy::Owm(Variant::WriteMirroring),
        Policy::Owm(Variant::WriteLogging),
        Policy::Owm(Variant::CopyOnWrite),
    ];

    /// The three OWM policies.
    pub const OWM: [Policy; 3] = [
        Policy::Owm(Variant::WriteMirroring),
        Policy::Owm(Variant::WriteLogging),
        Policy::Owm(Variant::CopyOnWrite),
    ];

    /// Short name: `quiesce`, `crash-consistent`, `mirroring`, `logging`, `cow`.
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::None => "none",
            Policy::Quiesce => "quiesce",
            Policy::CrashConsistent => "crash-consistent",
            Policy::Owm(v) => v.as_str(),
        }
    }

    /// The engine variant the device runs under this policy: the OWM variant, or for
    /// quiesce and crash-consistent `baseline` (`backup.baseline_variant`, the
    /// point-in-time copy mechanism: by default a split mirror standing in sync before
    /// the request). `None` runs copy-on-write's layout, which before any split is a
    /// plain volume (one image, no table): see [`Policy::None`].
    pub fn engine_variant(self, baseline: Variant) -> Variant {
        match self {
            Policy::Owm(v) => v,
            Policy::None => Variant::CopyOnWrite,
            Policy::Quiesce | Policy::CrashConsistent => baseline,
        }
    }

    /// Whether this policy promises `invariant` (the table in the module doc). `none`
    /// takes no backup, so no backup invariant applies; quiesce makes new transactions
    /// wait (non-disruption is what it gives up); a crash-consistent snapshot promises
    /// a point-in-time image, not a transaction-consistent one.
    pub fn claims(self, invariant: Invariant) -> bool {
        use Invariant::*;
        match self {
            Policy::None => matches!(invariant, BComplete | NoTornWrite | BankConserved),
            Policy::Quiesce => invariant != NonDisruption,
            Policy::CrashConsistent => !matches!(invariant, AConsistent | BankConserved),
            Policy::Owm(_) => true,
        }
    }

    /// True for the one-way-mirror policies.
    pub fn is_owm(self) -> bool {
        matches!(self, Policy::Owm(_))
    }

    /// Whether a run under this policy backs up: splits the volume at its requests,
    /// copies VLUN A to the archive and, under `[detach]`, VLUN B to B'. Every policy
    /// but [`Policy::None`], whose run never splits and makes no copy.
    pub fn backs_up(self) -> bool {
        self != Policy::None
    }

    /// Whether a run under this policy builds a data area and a lookup table: it backs
    /// up and its engine variant (`baseline` for quiesce and crash-consistent,
    /// [`Policy::engine_variant`]) keeps one (logging, copy-on-write; a mirror does not).
    pub fn has_data_area(self, baseline: Variant) -> bool {
        self.backs_up() && self.engine_variant(baseline).table_image().is_some()
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Policy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(Policy::None),
            "quiesce" => Ok(Policy::Quiesce),
            "crash-consistent" | "crash" | "snapshot" => Ok(Policy::CrashConsistent),
            other => other.parse::<Variant>().map(Policy::Owm).map_err(|_| {
                format!("unknown policy `{other}` (expected quiesce, crash-consistent, mirroring, logging, cow or none)")
            }),
        }
    }
}

impl Serialize for Policy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A policy is its name; anything else is refused saying which names there are.
impl<'de> Deserialize<'de> for Policy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Name;
        impl serde::de::Visitor<'_> for Name {
            type Value = Policy;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "a policy name: quiesce, crash-consistent, mirroring, logging, cow or none",
                )
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Policy, E> {
                s.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(Name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Policy::ALL.into_iter().chain([Policy::None]) {
            assert_eq!(p.as_str().parse::<Policy>(), Ok(p));
        }
        assert!("tape".parse::<Policy>().is_err());
    }

    #[test]
    fn the_one_way_mirror_claims_everything_the_baselines_do_not() {
        for inv in Invariant::ALL {
            for v in Policy::OWM {
                assert!(v.claims(inv));
            }
        }
        let claimed = |p: Policy| Invariant::ALL.into_iter().filter(|&i| p.claims(i)).count();
        assert_eq!(claimed(Policy::None), 3);
        assert_eq!(claimed(Policy::Quiesce), 8);
        assert_eq!(claimed(Policy::CrashConsistent), 7);
        assert!(!Policy::CrashConsistent.claims(Invariant::AConsistent));
        assert!(!Policy::Quiesce.claims(Invariant::NonDisruption));
        assert!(!Policy::None.claims(Invariant::BackupFaithful));
        assert!(!Policy::None.claims(Invariant::BPrimeFaithful));
    }

    #[test]
    fn only_none_makes_no_copy_and_only_a_table_variant_has_a_data_area() {
        assert!(!Policy::None.backs_up());
        assert!(Policy::ALL.iter().all(|p| p.backs_up()));
        let m = Variant::WriteMirroring;
        assert!(!Policy::None.has_data_area(Variant::CopyOnWrite));
        assert!(!Policy::Owm(m).has_data_area(Variant::CopyOnWrite));
        assert!(!Policy::Quiesce.has_data_area(m));
        assert!(Policy::Quiesce.has_data_area(Variant::WriteLogging));
        assert!(Policy::Owm(Variant::CopyOnWrite).has_data_area(m));
    }
}
