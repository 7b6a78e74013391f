//! A verdict never says `held` of a state the run never reached: for every shipped run
//! file and sweep point (its first seed), under every policy it names (`none`
//! included), each invariant about a backup is judged `held` / `not claimed (held)`
//! only when the record shows the state it speaks of, and otherwise names why it was
//! not reached. The record's events are the reference here, read independently of the
//! milestones `RunResult::unreached` reads.

use sim::{run_keeping_history, Event, History, Invariant, Observed, Unreached};

use super::shipped::shipped;

/// Whether the record `h` reached the state `invariant` speaks of, read from its
/// events alone: a split or a quiesce attempt (a backup was requested and something
/// waited for it: non-disruption), a split (A-isolated), an image declared consistent
/// (A-consistent), an archive or a retire (backup-faithful), a retire (space-reclaimed;
/// a dropped VLUN A logs one too), a completed copy to B' (b-prime-faithful); a load
/// whose transactions keep the sum of the values (bank-conserved).
fn reached_in_record(h: &History, invariant: Invariant) -> bool {
    let any = |f: fn(&Event) -> bool| h.events.iter().any(|s| f(&s.event));
    match invariant {
        Invariant::BComplete | Invariant::NoTornWrite => true,
        Invariant::BankConserved => h.sum_conserved,
        Invariant::NonDisruption => any(|e| {
            matches!(
                e,
                Event::Split | Event::QuiesceTimeout { .. } | Event::GiveUp
            )
        }),
        Invariant::AIsolated => any(|e| matches!(e, Event::Split)),
        Invariant::AConsistent => any(|e| matches!(e, Event::AConsistent { .. })),
        Invariant::BackupFaithful => {
            any(|e| matches!(e, Event::Archive { .. } | Event::Retire { .. }))
        }
        Invariant::SpaceReclaimed => any(|e| matches!(e, Event::Retire { .. })),
        Invariant::BPrimeFaithful => any(|e| matches!(e, Event::BPrime { .. })),
    }
}

#[test]
fn no_shipped_run_says_held_of_a_state_it_never_reached() {
    let mut failures = Vec::new();
    let mut unreached_seen = std::collections::BTreeSet::new();
    for (label, mut s, policies, seeds) in shipped() {
        s.keep_history = true;
        s.keep_timeline = false;
        for &p in &policies {
            let seed = seeds[0];
            let run = run_keeping_history(&s, p, seed)
                .unwrap_or_else(|e| panic!("{label} {p} seed {seed}: {e}"));
            let (r, h) = (&run.result, run.history.as_ref().expect("history kept"));
            for j in r.judgements() {
                let i = j.invariant;
                let reached = reached_in_record(h, i);
                let word = j.to_string();
                let says_held = word == "held" || word == "not claimed (held)";
                let here = format!("{label} {p} seed {seed} {i}: {word}");
                // The milestones and the record agree on what was reached.
                if (r.unreached(i).is_none()) != reached {
                    failures.push(format!(
                        "{here}: unreached {:?}, record {reached}",
                        r.unreached(i)
                    ));
                }
                if !reached && says_held {
                    failures.push(format!("{here}: held of a state never reached"));
                }
                // The JSON and JUnit report no observation of a state never reached.
                let judged = matches!(j.observed, Observed::Violated { .. });
                if !reached && !j.claimed && !judged && j.not_reached().is_none() {
                    failures.push(format!("{here}: an observation of a state never reached"));
                }
                if j.claimed && j.not_reached().is_some() {
                    failures.push(format!("{here}: claimed yet not reached"));
                }
                if !reached && j.lost.is_none() {
                    let why = j.unreached.expect("an unreached invariant says why");
                    unreached_seen.insert(why.as_str());
                    if j.observed == Observed::Held && word != format!("not claimed ({why})") {
                        failures.push(format!("{here}: expected not claimed ({why})"));
                    }
                }
                if !Unreached::about_backup(i) && reached && !j.claimed && p.claims(i) {
                    failures.push(format!("{here}: a judged invariant dropped"));
                }
            }
            if !p.backs_up() {
                for j in r
                    .judgements()
                    .iter()
                    .filter(|j| Unreached::about_backup(j.invariant))
                {
                    if j.unreached != Some(Unreached::NoBackup) {
                        failures.push(format!("{label} none {}: {j}", j.invariant));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The shipped files do reach the reasons they can: `none` never backs up, a backup
    // without `[detach]` makes no copy to B', a load other than bank transfers keeps
    // no sum.
    for why in ["no backup", "no copy to B'", "no sum to conserve"] {
        assert!(unreached_seen.contains(why), "{why}: {unreached_seen:?}");
    }
}
