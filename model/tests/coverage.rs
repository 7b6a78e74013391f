//! Coverage: per action kind how often it was enabled and taken, and the depth of each
//! `sometimes` witness, on small configurations.

use model::{check, ActionKind, CheckConfig, CheckReport, Coverage};

fn checked(flags: &str) -> CheckReport {
    let mut cfg = CheckConfig::from_model_flags(flags).expect("flags");
    cfg.threads = 1;
    check(&cfg).expect("check")
}

/// The counts add up to the search's own: every explored state but the initial one
/// was reached by exactly one taken action, and every generated state but the initial
/// one by an enabled action; nothing is taken more often than it was enabled.
fn assert_consistent(r: &CheckReport) {
    let c = &r.coverage;
    assert_eq!(c.actions.len(), ActionKind::ALL.len());
    for k in &c.actions {
        assert!(k.taken <= k.enabled, "{k:?}\n{}", r.render());
    }
    let taken: u64 = c.actions.iter().map(|k| k.taken).sum();
    let enabled: u64 = c.actions.iter().map(|k| k.enabled).sum();
    assert!(r.complete());
    assert_eq!(taken, r.unique_states as u64 - 1, "{}", r.render());
    assert_eq!(enabled, r.generated_states as u64 - 1, "{}", r.render());
}

/// Every action kind was taken at least once.
fn assert_every_kind_taken(r: &CheckReport) {
    for k in ActionKind::ALL {
        assert!(
            r.coverage.of(k).taken > 0,
            "{k:?} never taken\n{}",
            r.render()
        );
    }
}

#[test]
fn every_kind_is_taken_in_the_default_configuration() {
    let r = checked("--variant cow");
    assert_consistent(&r);
    assert_every_kind_taken(&r);
}

#[test]
fn split_read_modify_write_and_record_locks_are_covered() {
    // Incremental record locks take `Lock(item)` steps; `--rmw split` writes in two.
    let r = checked(
        "--variant cow --old 1 --new 1 --records-per-block 2 --locks record \
         --discipline incremental --rmw split --aborts on",
    );
    assert_consistent(&r);
    assert_every_kind_taken(&r);
}

#[test]
fn without_aborts_abort_is_never_enabled() {
    let r = checked("--variant cow --old 2 --new 1 --aborts off");
    assert_consistent(&r);
    let abort = r.coverage.of(ActionKind::Abort);
    assert_eq!((abort.enabled, abort.taken), (0, 0), "{}", r.render());
    // The same configuration with aborts takes them: the zero above is the flag's.
    let with = checked("--variant cow --old 2 --new 1 --aborts on");
    assert!(with.coverage.of(ActionKind::Abort).taken > 0);
    assert!(r.coverage.of(ActionKind::Write).taken > 0);
}

#[test]
fn witness_depths_follow_the_protocol_and_repeat() {
    let r = checked("--variant cow");
    let c = &r.coverage;
    let depth = |name| c.witness_depth(name).unwrap_or_else(|| panic!("{name}"));
    // Breadth first on one thread: the shallowest witness. A is declared consistent,
    // then archived, then retired, one step each; the run ends later still.
    let consistent = depth(model::verdicts::A_CONSISTENT_REACHED);
    assert_eq!(depth(model::verdicts::A_ARCHIVED), consistent + 1);
    assert_eq!(depth(model::verdicts::A_RETIRED), consistent + 2);
    assert!(depth(model::verdicts::RUN_ENDED) > consistent + 2);
    assert!(depth(model::verdicts::SPLIT_BOTH_ACTIVE) < consistent);
    // A NEW transaction that has begun may still wait for the OLD ones' block locks:
    // its first write while VLUN A is live (what A-isolated judges) lies deeper than the
    // split with both active, and is reached before the retire (A is live then).
    let new_write = depth(model::verdicts::NEW_WRITE_A_LIVE);
    assert!(new_write > depth(model::verdicts::SPLIT_BOTH_ACTIVE));
    assert!(new_write <= r.max_depth);
    assert!(depth(model::verdicts::RUN_ENDED) <= r.max_depth);
    // One thread: the same configuration gives the same coverage.
    assert_eq!(checked("--variant cow").coverage, r.coverage);
    // Depth first reaches them too, at depths no smaller.
    let mut cfg = CheckConfig::from_model_flags("--variant cow").unwrap();
    cfg.threads = 1;
    cfg.strategy = model::Strategy::Dfs;
    let dfs = check(&cfg).unwrap();
    for w in &c.witnesses {
        let d = dfs
            .coverage
            .witness_depth(&w.name)
            .expect("reached depth first");
        assert!(d >= w.depth.unwrap(), "{}", w.name);
    }
}

#[test]
fn merging_adds_counts_and_keeps_the_shallower_witness() {
    let a = checked("--variant cow --old 2 --new 1 --aborts off").coverage;
    let b = checked("--variant cow --old 2 --new 1 --aborts on").coverage;
    let mut m = Coverage::default();
    m.merge(&a);
    assert_eq!(m, a);
    m.merge(&b);
    for k in ActionKind::ALL {
        assert_eq!(m.of(k).enabled, a.of(k).enabled + b.of(k).enabled);
        assert_eq!(m.of(k).taken, a.of(k).taken + b.of(k).taken);
    }
    for w in &m.witnesses {
        let (da, db) = (a.witness_depth(&w.name), b.witness_depth(&w.name));
        assert_eq!(w.depth, da.min(db).or(da).or(db));
    }
    assert!(m.witnesses.iter().all(|w| w.depth.is_some()));
}
