//! Which backup cycles ran beside a transaction, recomputed from the run's timeline
//! rows and its history by ticks alone, against what the run marks and what its
//! verdict rows say. The rule: an attempt ran beside a span `[start, end]` when it
//! arrived at a tick before `end` and ended at a tick after `start`, whatever the
//! order of the events within a tick. A-isolated needs a NEW attempt (begun after the
//! cycle's split) to have written through VLUN B while VLUN A was live: after the
//! split and before VLUN A was retired or dropped, in the history's order of events.

use std::collections::HashMap;

use super::judgements::{lost_for, reached};

use sim::{
    BankConfig, CycleResult, Event, History, Invariant, Observed, Policy, RunResult, Scenario,
    Unreached, WorkloadConfig,
};

type Tick = u64;

/// The end of a span still open at the run's end.
const OPEN: Tick = Tick::MAX;

/// Whether an attempt from `arrived` to `ended` ran beside `[start, end]` for a
/// positive time.
fn overlaps(arrived: Tick, ended: Tick, (start, end): (Tick, Tick)) -> bool {
    arrived < end && ended > start
}

/// A cycle's spans, read from its milestones and its window: the cycle, the copy of
/// VLUN A (from its start or last quiesce retry until VLUN A retired or was dropped,
/// else the cycle's end), the copy to B'.
struct Spans {
    cycle: (Tick, Tick),
    copy: (Tick, Tick),
    b_prime: Option<(Tick, Tick)>,
}

fn spans(c: &CycleResult) -> Option<Spans> {
    let m = &c.marks;
    if m.not_begun {
        return None;
    }
    let start = c.window.start_ticks;
    let end = c.window.end_ticks.unwrap_or(OPEN);
    let copy_end = m.retire.or(m.a_dropped).unwrap_or(end);
    let copy_start = m.quiesce_retries.last().copied().unwrap_or(start);
    Some(Spans {
        cycle: (start, end),
        copy: (copy_start, copy_end),
        b_prime: m.detach_start.map(|s| (s, m.detach_end.unwrap_or(end))),
    })
}

/// What ran beside a cycle, recomputed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Beside {
    copy: bool,
    new: bool,
    b_prime: bool,
    waits: bool,
}

impl Beside {
    fn of(m: &sim::Marks) -> Self {
        Beside {
            copy: m.beside_txn,
            new: m.beside_txn_new,
            b_prime: m.beside_txn_b_prime,
            waits: m.beside_txn_waits,
        }
    }

    fn tests(self, invariant: Invariant) -> bool {
        match invariant {
            Invariant::NonDisruption => self.waits,
            Invariant::BPrimeFaithful => self.b_prime,
            Invariant::AIsolated => self.copy && self.new,
            _ => self.copy,
        }
    }
}

/// An attempt as its timeline row gives it: arrival and end.
struct Attempt {
    arrived: Tick,
    ended: Tick,
}

fn attempts(r: &RunResult) -> Vec<Attempt> {
    r.transactions
        .iter()
        .map(|t| Attempt {
            arrived: t.arrived_ticks,
            ended: t.ended_ticks.expect("every attempt ends"),
        })
        .collect()
}

/// For each split of the history (1-based, by its place), whether a NEW attempt (one
/// that began after it) wrote a block through VLUN B before VLUN A was retired or
/// dropped.
fn new_writes_a_live(h: &History) -> HashMap<usize, bool> {
    let mut splits = 0;
    let mut a_live = false;
    let mut new_txns = HashMap::new();
    let mut wrote = HashMap::new();
    for s in &h.events {
        match &s.event {
            Event::Split => {
                splits += 1;
                a_live = true;
                wrote.insert(splits, false);
            }
            Event::Retire { .. } | Event::Abandon => a_live = false,
            Event::Begin { txn, .. } if splits > 0 => {
                new_txns.insert(*txn, splits);
            }
            Event::WriteBlock { txn, vlun, .. }
                if a_live && *vlun == engine::Vlun::B && new_txns.get(txn) == Some(&splits) =>
            {
                wrote.insert(splits, true);
            }
            _ => {}
        }
    }
    wrote
}

/// What ran beside each cycle, by the rule alone.
fn recompute(r: &RunResult, h: &History) -> Vec<Beside> {
    let all = attempts(r);
    let new_writes = new_writes_a_live(h);
    let mut split_number = 0;
    r.cycles
        .iter()
        .map(|c| {
            let Some(sp) = spans(c) else {
                return Beside::default();
            };
            let split = c.marks.split.map(|_| {
                split_number += 1;
                split_number
            });
            let any = |span: (Tick, Tick)| all.iter().any(|a| overlaps(a.arrived, a.ended, span));
            Beside {
                copy: any(sp.copy),
                new: split.is_some_and(|k| new_writes[&k]),
                b_prime: sp.b_prime.is_some_and(any),
                waits: any(sp.cycle),
            }
        })
        .collect()
}

/// What the boundary cases seen so far number: the rule decided a span differently
/// than "at or before" would have (an attempt arriving in the very tick a span ends,
/// ending in the very tick it starts), a request in the very tick the last attempt
/// ended, and rows that A-isolated holds on, or reads as having no NEW transaction.
#[derive(Debug, Default)]
struct Seen {
    arrive_at_copy_end: u64,
    end_at_copy_start: u64,
    arrive_at_b_prime_end: u64,
    end_at_last_request: u64,
    isolated_held: u64,
    isolated_no_new: u64,
    rows: u64,
}

/// Checks one run: its marks against the recomputation, and each verdict (run-wide
/// and per cycle) against it: a claim about a backup only on a cycle that tested it
/// by the rule, reached its state and was not lost; such a cycle claimed; every row
/// that is not claimed for want of transactions gives the reason the rule gives.
fn check(label: &str, r: &RunResult, h: &History, seen: &mut Seen) -> Vec<String> {
    let mut failures = Vec::new();
    let want = recompute(r, h);
    let all = attempts(r);
    let last_end = all.iter().map(|a| a.ended).max().unwrap_or(0);
    for (c, w) in r.cycles.iter().zip(&want) {
        if Beside::of(&c.marks) != *w {
            failures.push(format!(
                "{label} cycle {}: marks {:?}, by the rule {w:?} ({:?})",
                c.cycle,
                Beside::of(&c.marks),
                c.marks
            ));
        }
        if let Some(sp) = spans(c) {
            let strict_or_tie = |span: (Tick, Tick), tie: &dyn Fn(&Attempt) -> bool| {
                !all.iter().any(|a| overlaps(a.arrived, a.ended, span)) && all.iter().any(tie)
            };
            let (s, e) = sp.copy;
            if e != OPEN && strict_or_tie(sp.copy, &|a| a.arrived == e && a.ended > s) {
                seen.arrive_at_copy_end += 1;
            }
            if strict_or_tie(sp.copy, &|a| a.ended == s && a.arrived < e) {
                seen.end_at_copy_start += 1;
            }
            if let Some((bs, be)) = sp.b_prime.filter(|&(_, be)| be != OPEN) {
                if strict_or_tie((bs, be), &|a| a.arrived == be && a.ended > bs) {
                    seen.arrive_at_b_prime_end += 1;
                }
            }
        }
        if c.marks.request == Some(last_end) {
            seen.end_at_last_request += 1;
        }
    }
    let tests = |c: &CycleResult, w: &Beside, i: Invariant| {
        w.tests(i) && reached(&c.marks, i) && !lost_for(&c.marks, i)
    };
    for j in r.judgements() {
        let i = j.invariant;
        if !sim::Unreached::about_backup(i) || matches!(j.observed, Observed::Violated { .. }) {
            continue;
        }
        let stands = r.cycles.iter().zip(&want).any(|(c, w)| tests(c, w, i));
        if j.claimed != (stands && r.policy.claims(i)) {
            failures.push(format!(
                "{label} {i}: run says {j}; a cycle tested it: {stands}"
            ));
        }
        let requests: Vec<Tick> = r.cycles.iter().filter_map(|c| c.marks.request).collect();
        if j.lost.is_none() && !requests.is_empty() && requests.iter().all(|&q| q >= last_end) {
            let why = j.not_reached;
            if i != Invariant::BPrimeFaithful && why != Some(Unreached::RequestAfterTransactions) {
                failures.push(format!(
                    "{label} {i}: every request at or after the last end ({last_end}): {j}"
                ));
            }
        }
    }
    for (c, w) in r.cycles.iter().zip(&want) {
        let m = &c.marks;
        for j in r.cycle_judgements(c) {
            let i = j.invariant;
            if !sim::Unreached::about_backup(i)
                || matches!(j.observed, Observed::Violated { .. })
                || !r.policy.claims(i)
            {
                continue;
            }
            seen.rows += 1;
            let ok = tests(c, w, i);
            if j.claimed != ok {
                failures.push(format!(
                    "{label} cycle {} {i}: row says {j}; by the rule tested {ok} ({w:?})",
                    c.cycle
                ));
                continue;
            }
            if ok {
                seen.isolated_held += u64::from(i == Invariant::AIsolated);
                continue;
            }
            if lost_for(m, i) || m.not_begun || !w.tests(i) && i == Invariant::BPrimeFaithful {
                continue;
            }
            let expect = if !w.tests(i) {
                Some(if i == Invariant::AIsolated && w.copy {
                    if m.split.is_some() {
                        Unreached::NoNewTransaction
                    } else {
                        Unreached::NoSplit
                    }
                } else if m.request.is_some_and(|q| q >= last_end) {
                    Unreached::RequestAfterTransactions
                } else {
                    Unreached::NoTransactionBeside
                })
            } else {
                None // beside transactions, its state not reached: `state_of`'s reason
            };
            if expect.is_some() && j.not_reached != expect {
                failures.push(format!(
                    "{label} cycle {} {i}: row says {j}, expected {:?}",
                    c.cycle, expect
                ));
            }
            if expect == Some(Unreached::NoNewTransaction) {
                seen.isolated_no_new += 1;
            }
        }
    }
    failures
}

/// Transfers in lulls: 8 of them about 3,000 ticks apart on a small volume, whose
/// backup (a few hundred ticks) fits between two.
fn lull() -> Scenario {
    let mut s = Scenario::with_workload(WorkloadConfig::Bank(BankConfig {
        accounts: 64,
        transactions: 8,
        arrival_ticks_mean: 3_000,
        compute_ticks_min: 20,
        compute_ticks_max: 200,
        ..BankConfig::default()
    }));
    s.keep_history = true;
    s
}

fn policies() -> [Policy; 4] {
    [
        Policy::Owm(engine::Variant::CopyOnWrite),
        Policy::Owm(engine::Variant::WriteLogging),
        Policy::Owm(engine::Variant::WriteMirroring),
        Policy::Quiesce,
    ]
}

fn run(s: &Scenario, p: Policy, seed: u64, label: &str) -> (RunResult, History) {
    let run = sim::run_keeping_history(s, p, seed).unwrap_or_else(|e| panic!("{label}: {e}"));
    (run.result, run.history.expect("kept"))
}

/// Requests in the very tick a transaction arrives or ends and one tick either side,
/// and requests placed so that the copy of VLUN A, the copy to B' or the cycle ends
/// in the very tick a transaction arrives, under every one-way mirror and quiesce,
/// with and without a copy to B': what ran beside each cycle is what the rule says,
/// and so are the verdicts; the boundary cases all occur.
#[test]
fn a_cycle_ran_beside_a_transaction_exactly_when_the_ticks_say_so() {
    let mut seen = Seen::default();
    let mut failures = Vec::new();
    for seed in 1..=4 {
        for p in policies() {
            for detach in [false, true] {
                let mut s = lull();
                s.detach = detach.then(sim::ArchiveConfig::default);
                // The transactions as they run before any backup.
                s.backup.schedule_at_ticks = vec![1_000_000];
                let label = format!("{p} detach {detach} seed {seed}");
                let (probe, _) = run(&s, p, seed, &label);
                let rows = &probe.transactions;
                let mut requests = Vec::new();
                for t in rows {
                    for x in [t.arrived_ticks, t.ended_ticks.expect("ends")] {
                        requests.extend([x.saturating_sub(1), x, x + 1]);
                    }
                }
                // How long a cycle beside no transaction takes (after the last), to end
                // one in the very tick a transaction arrives.
                let quiet = 1_000
                    + rows
                        .iter()
                        .filter_map(|t| t.ended_ticks)
                        .max()
                        .expect("ran");
                s.backup.schedule_at_ticks = vec![quiet];
                let (q, _) = run(&s, p, seed, &label);
                let c = &q.cycles[0];
                let lengths = [
                    c.marks.retire.or(c.marks.a_dropped),
                    c.marks.detach_end,
                    c.window.end_ticks,
                ]
                .map(|end| end.map(|e| e - quiet));
                for t in rows {
                    for d in lengths.into_iter().flatten() {
                        if let Some(at) = t.arrived_ticks.checked_sub(d).filter(|&at| at > 0) {
                            requests.extend([at - 1, at, at + 1]);
                        }
                    }
                }
                requests.sort_unstable();
                requests.dedup();
                requests.retain(|&at| at > 0);
                for at in requests {
                    s.backup.schedule_at_ticks = vec![at];
                    let label = format!("{label} request {at}");
                    let (r, h) = run(&s, p, seed, &label);
                    failures.extend(check(&label, &r, &h, &mut seen));
                }
            }
        }
    }
    assert_none(&failures);
    assert!(
        seen.arrive_at_copy_end > 0
            && seen.end_at_copy_start > 0
            && seen.arrive_at_b_prime_end > 0
            && seen.end_at_last_request > 0
            && seen.isolated_held > 0
            && seen.isolated_no_new > 0,
        "{seen:?}"
    );
}

/// The same over busy transfers and cycles on a schedule (some beside them, some
/// after the last), under every one-way mirror and quiesce, with and without a copy
/// to B': many transactions beside most cycles, NEW ones among them.
#[test]
fn busy_cycles_ran_beside_transactions_exactly_when_the_ticks_say_so() {
    let mut seen = Seen::default();
    let mut failures = Vec::new();
    for seed in 1..=6 {
        for p in policies() {
            for detach in [false, true] {
                let mut s = super::common::bank();
                s.keep_history = true;
                s.detach = detach.then(sim::ArchiveConfig::default);
                let label = format!("{p} detach {detach} seed {seed}");
                let (probe, _) = run(&s, p, seed, &label);
                let last = probe
                    .transactions
                    .iter()
                    .filter_map(|t| t.ended_ticks)
                    .max();
                let last = last.expect("transactions ran");
                let t = &probe.transactions[probe.transactions.len() / 3];
                let first = t.ended_ticks.expect("ends");
                for (at, then) in [(first - 1, last - 1), (first, last), (first + 1, last + 1)] {
                    s.backup.schedule_at_ticks = vec![at, then];
                    let label = format!("{label} schedule {:?}", s.backup.schedule_at_ticks);
                    let (r, h) = run(&s, p, seed, &label);
                    failures.extend(check(&label, &r, &h, &mut seen));
                }
            }
        }
    }
    assert_none(&failures);
    assert!(seen.isolated_held > 0 && seen.rows > 0, "{seen:?}");
}

/// The verifier's run: 300 transfers on 1,024 accounts, a backup requested when the
/// only transfer in flight (an OLD one) is about to end and none is to arrive. Under
/// write logging the split has OLD transactions only: A-isolated has nothing to test
/// (`no NEW write while VLUN A was live`), while that OLD transfer ran through
/// the split, so A-consistent, backup-faithful and non-disruption are held. One tick
/// later the request comes in the very tick it ends: the request is after the last
/// transaction.
#[test]
fn a_split_beside_old_transactions_only_claims_no_isolation() {
    let mut s: Scenario = toml::from_str(
        r#"
        [workload]
        kind = "bank"
        accounts = 1024
        initial_balance = 1000
        transactions = 300
        arrival_ticks_mean = 100
        amount_max = 100
        compute_ticks_min = 20
        compute_ticks_max = 2000
        [geometry]
        block_size_bytes = 64
        records_per_block = 4
        [locking]
        discipline = "conservative"
        granularity = "block"
        "#,
    )
    .expect("a scenario");
    s.keep_history = true;
    let p = Policy::Owm(engine::Variant::WriteLogging);
    let verdict = |r: &RunResult, i: Invariant| {
        let j = r.judgements().into_iter().find(|j| j.invariant == i);
        j.expect("judged").to_string()
    };
    // The last transfer's end under write logging, before any backup.
    s.backup.request_at_ticks = Some(1_000_000);
    let (probe, _) = run(&s, p, 1, "probe");
    let last = probe
        .transactions
        .iter()
        .filter_map(|t| t.ended_ticks)
        .max();
    let last = last.expect("transfers ran");
    assert_eq!(last, 30_284, "the verifier's run");
    let mut seen = Seen::default();
    for at in [last - 1, last] {
        s.backup.request_at_ticks = Some(at);
        let (r, h) = run(&s, p, 1, "edge");
        let failures = check(&format!("request {at}"), &r, &h, &mut seen);
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        let m = &r.cycles[0].marks;
        if at == last - 1 {
            assert!(m.beside_txn && !m.beside_txn_new, "{m:?}");
            assert_eq!(
                verdict(&r, Invariant::AIsolated),
                "not claimed (no NEW write while VLUN A was live)"
            );
            for i in [
                Invariant::AConsistent,
                Invariant::BackupFaithful,
                Invariant::NonDisruption,
            ] {
                assert_eq!(verdict(&r, i), "held", "{i}");
            }
        } else {
            assert!(!m.beside_txn && !m.beside_txn_waits, "{m:?}");
            for i in [Invariant::AIsolated, Invariant::BackupFaithful] {
                assert_eq!(
                    verdict(&r, i),
                    "not claimed (request after the last transaction)",
                    "{i}"
                );
            }
        }
    }
    // The verifier's `tail`: requested at 29,000, six OLD transfers in flight and none
    // to arrive: under every policy that splits beside them, no NEW transaction.
    for p in [
        Policy::Quiesce,
        Policy::Owm(engine::Variant::WriteMirroring),
        Policy::Owm(engine::Variant::WriteLogging),
        Policy::Owm(engine::Variant::CopyOnWrite),
        Policy::CrashConsistent,
    ] {
        s.backup.request_at_ticks = Some(29_000);
        let (r, h) = run(&s, p, 1, "tail");
        let failures = check(&format!("tail {p}"), &r, &h, &mut seen);
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        let a = verdict(&r, Invariant::AIsolated);
        assert!(!a.starts_with("held"), "{p}: A-isolated {a}");
    }
}

/// Fails with the first 30 of `failures` and their count, when there are any.
fn assert_none(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
