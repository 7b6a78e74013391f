//! The waits of `trace.csv`: an attempt waits for one thing at a time, so its
//! `wait-begin` and `wait-end` rows alternate, each pair of one cause, and every wait
//! lasts at least a tick (a wait over in the tick it began held nothing up and is not
//! written). Rows of one tick keep the order they happened in: a wait that ends at the
//! tick the next begins ends first, and the admission falls between the waits before
//! it and those after. Over seeds, for loads with lock, gate, type (b), queue and
//! back-off waits.

use std::collections::BTreeMap;

use crate::util::*;

/// (file or scenario text, what it adds): the bank under every policy (lock and gate
/// waits), Fig 4/5 (queue 502), the bank under incremental 2PL with a type (b) block
/// (type (b) waits, deadlock victims backing off).
fn loads() -> Vec<(String, &'static str)> {
    let bank = std::fs::read_to_string(repo().join("scenarios/bank.toml")).unwrap();
    // Busier, on fewer accounts: transfers collide, and some deadlock.
    let incremental = bank
        .replace(
            "discipline = \"conservative\"",
            "discipline = \"incremental\"\ntype_b_blocks = [3]",
        )
        .replace("accounts = 1024", "accounts = 32")
        .replace("arrival_ticks_mean = 100", "arrival_ticks_mean = 20");
    assert_ne!(incremental, bank);
    vec![
        (bank, "bank"),
        (
            std::fs::read_to_string(repo().join("scenarios/fig4-5.toml")).unwrap(),
            "fig4-5",
        ),
        (incremental, "incremental"),
    ]
}

/// (policy, txn) of `trace.csv`: one attempt.
type Attempt = (String, String);
/// (time, event, detail) of one of its rows.
type Row = (u64, String, String);

#[test]
fn waits_alternate_and_last_at_least_a_tick() {
    let mut kinds: BTreeMap<String, u32> = BTreeMap::new();
    let mut back_to_back = 0;
    for (text, what) in loads() {
        for seed in ["1", "2", "3", "4"] {
            let tmp = tempfile::tempdir().unwrap();
            let f = write(tmp.path(), &format!("{what}.toml"), &text);
            let out = tmp.path().join("o");
            let o = owm(&[
                "run",
                &f,
                "--seed",
                seed,
                "--out",
                &s(&out),
                "--allow-violations",
            ]);
            ok(&o);
            // Each attempt's rows, in file order.
            let mut rows: BTreeMap<Attempt, Vec<Row>> = BTreeMap::new();
            for r in csv_rows(&out, "trace.csv") {
                if r["txn"].is_empty() {
                    continue;
                }
                let t: u64 = r["time_ticks"].parse().unwrap();
                rows.entry((r["policy"].clone(), r["txn"].clone()))
                    .or_default()
                    .push((t, r["event"].clone(), r["detail"].clone()));
            }
            for ((policy, txn), events) in &rows {
                let at = format!("{what} seed {seed} {policy} txn {txn}: {events:?}");
                assert_eq!(events[0].1, "arrive", "{at}");
                let mut open: Option<(u64, &str)> = None;
                let mut last_end = None;
                for (t, event, detail) in events {
                    match event.as_str() {
                        "wait-begin" => {
                            assert!(open.is_none(), "a wait inside a wait: {at}");
                            back_to_back += u32::from(last_end == Some(*t));
                            open = Some((*t, detail));
                        }
                        "wait-end" => {
                            let (from, kind) = open.take().expect("an end with no begin");
                            assert_eq!(kind, detail, "{at}");
                            assert!(*t > from, "a wait of {} ticks: {at}", t - from);
                            *kinds.entry(detail.clone()).or_default() += 1;
                            last_end = Some(*t);
                        }
                        "admit" | "end" => assert!(open.is_none(), "{event} in a wait: {at}"),
                        _ => {}
                    }
                }
            }
        }
    }
    // Every cause was seen, and waits that follow one another in the same tick (the
    // case once written as a wait inside a wait).
    for kind in ["lock", "gate", "type-b", "queue", "backoff"] {
        assert!(
            kinds.get(kind).is_some_and(|&n| n > 0),
            "no {kind} wait: {kinds:?}"
        );
    }
    assert!(back_to_back > 0, "{kinds:?}");
}

/// A deadlock victim's back-off is random and exponential, as `retry_backoff_ticks`
/// is documented: its label's k-th retry (k = 1 for the first) waits a uniform draw
/// from 1..=`retry_backoff_ticks` × 2^min(k, 10) ticks, so victims of one deadlock do
/// not retry in lockstep. In `trace.csv`, each `backoff` wait lasts at least a tick and
/// at most its retry's bound; the waits are spread (some under the value, some past
/// it), and a later retry of a label waits past the first retry's bound.
#[test]
fn a_deadlock_victim_backs_off_a_random_exponentially_growing_wait() {
    const BACKOFF: u64 = 500;
    let text = format!(
        "policies = [\"none\"]\nretry_backoff_ticks = {BACKOFF}\n\
         [workload]\nkind = \"bank\"\naccounts = 16\ntransactions = 200\n\
         arrival_ticks_mean = 30\n[locking]\ndiscipline = \"incremental\"\n"
    );
    let (mut waits, mut under, mut over, mut past_first) = (0, 0, 0, 0);
    for seed in ["1", "2", "3"] {
        let tmp = tempfile::tempdir().unwrap();
        let f = write(tmp.path(), "backoff.toml", &text);
        let out = tmp.path().join("o");
        ok(&owm(&["run", &f, "--seed", seed, "--out", &s(&out)]));
        // Per label, its back-off waits (begin, end), in the order they began.
        let mut open: BTreeMap<String, u64> = BTreeMap::new();
        let mut by_label: BTreeMap<String, Vec<(u64, u64)>> = BTreeMap::new();
        for r in csv_rows(&out, "trace.csv") {
            if r["detail"] != "backoff" {
                continue;
            }
            let t: u64 = r["time_ticks"].parse().unwrap();
            match r["event"].as_str() {
                "wait-begin" => assert!(open.insert(r["txn"].clone(), t).is_none()),
                "wait-end" => {
                    let begin = open.remove(&r["txn"]).expect("a back-off ends once begun");
                    by_label
                        .entry(r["label"].clone())
                        .or_default()
                        .push((begin, t));
                }
                e => panic!("{e}"),
            }
        }
        assert!(
            open.is_empty(),
            "seed {seed}: unfinished back-offs {open:?}"
        );
        for (label, mut retries) in by_label {
            retries.sort();
            for (i, (begin, end)) in retries.into_iter().enumerate() {
                let k = i as u32 + 1;
                let wait = end - begin;
                let bound = BACKOFF << k.min(10);
                assert!(
                    (1..=bound).contains(&wait),
                    "seed {seed} label {label} retry {k}: {wait} ticks, bound {bound}"
                );
                waits += 1;
                under += usize::from(wait < BACKOFF);
                over += usize::from(wait > BACKOFF);
                past_first += usize::from(k > 1 && wait > 2 * BACKOFF);
            }
        }
    }
    assert!(waits > 100, "too few deadlocks to judge: {waits}");
    assert!(
        under > 0 && over > 0,
        "{waits} waits: {under} under, {over} over"
    );
    assert!(
        past_first > 0,
        "{waits} waits: none past the first retry's bound"
    );
}
