//! `device.journaled`: the simulated device keeps the engine's metadata journal, as a
//! file-backed device does, and every journal sync a call waits for is priced at
//! `device.journal_sync_latency_ticks` (else the flush latency).

use engine::Variant;
use sim::{run, Arrivals, GeneratedConfig, Policy, RunResult, Scenario, WorkloadConfig};

/// One write per transaction, one client, all run long, backup mid-run.
fn writes(journaled: bool, journal_sync_ticks: Option<u64>) -> Scenario {
    let mut s = Scenario::with_workload(WorkloadConfig::Generated(GeneratedConfig {
        records: 256,
        transactions: 400,
        arrivals: Arrivals::Closed {
            clients: 1,
            think_ticks_mean: 10,
        },
        length_min: 1,
        length_max: 1,
        write_fraction: 1.0,
        ..GeneratedConfig::default()
    }));
    s.backup.request_at_ticks = Some(2_000);
    s.device.journaled = journaled;
    s.device.journal_sync_latency_ticks = journal_sync_ticks;
    s.device.jitter_ticks_max = 0;
    s
}

fn go(s: &Scenario, v: Variant) -> RunResult {
    let r = run(s, Policy::Owm(v), 1).unwrap().result;
    // A journal sync stalls the writer past the setup window (non-disruption,
    // judged elsewhere); nothing else may break.
    assert!(
        super::common::safety_violations(&r).is_empty(),
        "{v}: {:?}",
        r.violations
    );
    assert!(
        r.unclaimed_violations().is_empty(),
        "{v}: {:?}",
        r.violations
    );
    assert_eq!(r.costs.committed, 400, "{v}");
    r
}

#[test]
fn a_journaled_device_pays_the_journal_syncs_a_file_device_pays() {
    for v in Variant::ALL {
        let plain = go(&writes(false, None), v);
        let journaled = go(&writes(true, None), v);
        let dear = go(&writes(true, Some(5_000)), v);
        // Without the journal only image barriers are paid; with it, more flushes: the
        // mirroring dirty marks before the split, the durable copy-on-write entries, the
        // write-logging syncs before reusing the log.
        assert!(
            journaled.costs.flushes > plain.costs.flushes,
            "{v}: {} vs {}",
            journaled.costs.flushes,
            plain.costs.flushes
        );
        // Dearer syncs: slower transactions.
        assert!(
            dear.costs.response_time.ticks_mean > journaled.costs.response_time.ticks_mean,
            "{v}: {} vs {}",
            dear.costs.response_time.ticks_mean,
            journaled.costs.response_time.ticks_mean
        );
        // Without a given price, a sync costs a flush: the default changes nothing.
        let same = go(
            &writes(true, Some(writes(true, None).device.flush_latency_ticks)),
            v,
        );
        assert_eq!(same.costs, journaled.costs, "{v}");
    }
}
