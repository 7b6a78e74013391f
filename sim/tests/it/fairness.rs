//! The fair baseline (issue 12 item 3): `none` runs a plain single volume (one
//! physical write per logical write, no mirror, no table), so on the same load and
//! seed no backup policy can answer its users faster. Over 200 seeds of each workload
//! (fig3, fig4-5 with its defaults and with the shipped file's parameters, bank and
//! generated with their plain defaults and smaller, a recorded block trace), every
//! policy's mean and p99 response time are at least `none`'s (on a closed loop, whose
//! arrivals follow the responses, the mean only: [`closed_loop`]); and the property is not
//! vacuous: each policy is strictly slower on some seeds. Fig 4/5's processes rotate
//! at the request time under every policy, `none` included, in a bounded pool, so no
//! split adds serving capacity.
//!
//! On a load whose few locks every transaction contends for, single seeds beat `none`
//! (by up to 18 % of the mean on Fig 3's load on 64 records) while the mean over the
//! seeds does not: [`on_contended_fig3_single_seeds_beat_a_plain_volume_but_not_the_mean`].
//!
//! The loads stay below saturation of the application locks. Past it the comparison
//! misleads, and not because a cost is left out: `saturation.rs` traces a seed of the
//! generated load at one arrival every 20 ticks (the default before it moved to 200)
//! on which `cow` answers faster than `none` (25 of 100 seeds do), and shows the same
//! anomaly with no backup at all: a device one tick slower per write answers faster
//! on 35 of those 100 seeds. Conservative 2PL takes its locks one at a time in
//! ascending order, so any delay reorders the lock grants of a convoy, and the mean
//! response of a saturated queue is not monotone in the costs.

use std::path::Path;

use sim::workload::trace::{TraceConfig, TraceFormat};
use sim::{
    Arrivals, BankConfig, GeneratedConfig, GeometryConfig, Policy, RunResult, Scenario,
    WorkloadConfig,
};

use super::common::{fig3, fig45};
use super::shipped::shipped;

/// Seeds per workload (the issue's bound).
const SEEDS: u64 = 200;

/// A smaller generated load: 4096 records, 100 transactions, one every 100 ticks.
fn generated_small() -> Scenario {
    Scenario::with_workload(WorkloadConfig::Generated(GeneratedConfig {
        records: 4096,
        transactions: 100,
        arrivals: Arrivals::Open {
            interarrival_ticks_mean: 100,
        },
        ..GeneratedConfig::default()
    }))
}

/// 80 transfers among 64 accounts, one every 60 ticks on average.
fn bank_small() -> Scenario {
    Scenario::with_workload(WorkloadConfig::Bank(BankConfig {
        accounts: 64,
        transactions: 80,
        arrival_ticks_mean: 60,
        ..BankConfig::default()
    }))
}

/// The shipped fio trace (116 I/Os on 4 KiB blocks), time compressed 20×.
fn trace() -> Scenario {
    let mut s = Scenario::with_workload(WorkloadConfig::Trace(TraceConfig {
        path: "fio-randrw.iolog".into(),
        format: TraceFormat::FioIolog,
        time_scale: 0.05,
        compute_ticks: 40,
        ..TraceConfig::default()
    }));
    s.geometry = GeometryConfig {
        block_size_bytes: 4096,
        records_per_block: 1,
    };
    s.load_trace(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/traces"))
        .expect("the shipped trace loads");
    s
}

fn result(s: &Scenario, p: Policy, seed: u64) -> RunResult {
    sim::run(s, p, seed)
        .unwrap_or_else(|e| panic!("{} {p} seed {seed}: {e}", s.name))
        .result
}

/// Runs every policy and `none` on `SEEDS` seeds of `s` and asserts that no policy
/// answers faster than `none` (a lower mean or p99 response) on more than
/// `exceptions_max` (policy, seed) pairs, that summed over the seeds each policy's mean
/// is strictly above `none`'s, and that each is strictly slower on some seed.
/// Transactions that end aborted are not in the response figures (mean and p99 are
/// over committed transactions); these loads abort none, which the test checks.
fn none_is_cheapest(s: &Scenario, exceptions_max: usize) {
    judged_cheapest(s, exceptions_max, true);
}

/// [`none_is_cheapest`], judging the p99 response too when `p99`.
fn judged_cheapest(s: &Scenario, exceptions_max: usize, p99_judged: bool) {
    let mut slower = [0u64; Policy::ALL.len()];
    let mut mean_sum = [0f64; Policy::ALL.len()];
    let mut none_mean_sum = 0f64;
    let mut exceptions = Vec::new();
    for seed in 0..SEEDS {
        let base = result(s, Policy::None, seed);
        assert_eq!(
            base.costs.physical_writes, base.costs.logical_writes,
            "{}: `none` is a plain volume, one physical write per logical write",
            s.name
        );
        assert_eq!(
            (base.costs.extra_space_blocks_peak, base.costs.table_updates),
            (0, 0),
            "{}: `none` has no mirror and no table",
            s.name
        );
        assert_eq!(base.engine_variant, None);
        let (mean0, p990) = (
            base.costs.response_time.ticks_mean,
            base.costs.response_time.ticks_p99,
        );
        none_mean_sum += mean0;
        for (i, p) in Policy::ALL.into_iter().enumerate() {
            let r = result(s, p, seed);
            assert_eq!(
                r.costs.aborted, 0,
                "{} seed {seed}: {p} aborted transactions: the comparison would be survivor-biased",
                s.name
            );
            let (mean, p99) = (
                r.costs.response_time.ticks_mean,
                r.costs.response_time.ticks_p99,
            );
            if mean < mean0 || (p99_judged && p99 < p990) {
                exceptions.push(format!(
                    "seed {seed}: {p} mean {mean:.1} vs {mean0:.1}, p99 {p99} vs {p990}"
                ));
            }
            mean_sum[i] += mean;
            if mean > mean0 {
                slower[i] += 1;
            }
        }
    }
    assert!(
        exceptions.len() <= exceptions_max,
        "{}: {} (policy, seed) pairs answer faster than no backup (at most {exceptions_max} expected):\n{}",
        s.name,
        exceptions.len(),
        exceptions.join("\n")
    );
    for (i, p) in Policy::ALL.into_iter().enumerate() {
        assert!(
            slower[i] > 0,
            "{}: {p} never cost its users anything over {SEEDS} seeds",
            s.name
        );
        assert!(
            mean_sum[i] > none_mean_sum,
            "{}: {p} answers faster than no backup over {SEEDS} seeds",
            s.name
        );
    }
}

#[test]
fn no_policy_beats_a_plain_volume_on_fig3() {
    none_is_cheapest(&fig3(), 0);
}

/// Fig 3's load on 64 records: its six transactions contend for block locks (far
/// below saturation), and the reordering of conservative 2PL's lock queues shows on
/// single seeds by far more than a few ticks (scenarios/README.md gives the figures):
/// on seed 4 at 3 updates `mirroring` answers 11 % faster than `none`. Over the 200
/// seeds every policy still costs its users in the mean, and the exceptions stay as
/// few as the README says.
#[test]
fn on_contended_fig3_single_seeds_beat_a_plain_volume_but_not_the_mean() {
    for (updates_max, exceptions_max) in [(3, 5), (8, 40)] {
        let mut s = fig3();
        if let WorkloadConfig::Fig3(c) = &mut s.workload {
            c.records = 64;
            c.updates_max = updates_max;
        }
        judged_cheapest(&s, exceptions_max, true);
        if updates_max == 3 {
            let (none, mirroring) = (
                result(&s, Policy::None, 4).costs.response_time.ticks_mean,
                result(&s, Policy::Owm(engine::Variant::WriteMirroring), 4)
                    .costs
                    .response_time
                    .ticks_mean,
            );
            assert!(
                mirroring < 0.9 * none,
                "seed 4: mirroring {mirroring:.1} vs none {none:.1}"
            );
        }
    }
}

#[test]
fn no_policy_beats_a_plain_volume_on_a_small_bank() {
    none_is_cheapest(&bank_small(), 0);
}

#[test]
fn no_policy_beats_a_plain_volume_on_a_small_generated_load() {
    none_is_cheapest(&generated_small(), 0);
}

/// What a new user's first `kind = "bank"` runs: the plain defaults (300 transfers
/// among 64 accounts, one every 100 ticks), below lock saturation.
#[test]
fn no_policy_beats_a_plain_volume_on_the_default_bank() {
    none_is_cheapest(
        &Scenario::with_workload(WorkloadConfig::Bank(BankConfig::default())),
        0,
    );
}

/// What a new user's first `kind = "generated"` runs: the plain defaults (1,000
/// transactions on 256 records, one every 200 ticks), below lock saturation.
#[test]
fn no_policy_beats_a_plain_volume_on_the_default_generated_load() {
    none_is_cheapest(
        &Scenario::with_workload(WorkloadConfig::Generated(GeneratedConfig::default())),
        0,
    );
}

#[test]
fn no_policy_beats_a_plain_volume_on_a_trace() {
    none_is_cheapest(&trace(), 0);
}

/// The fig4-5 defaults (32 records, one arrival every 30 ticks, 2 processes) keep
/// queue 502 long (mean response about 10 service times): on one seed of 200 (112)
/// logging and cow (identical rows: they pay nothing before the split) answer faster
/// than `none` (mean 946 vs 1,007 ticks, p99 1,777 vs 1,885). Traced: the setup
/// window's gate holds transactions 8 and 9 (74 and 29 ticks, their locks taken), so
/// 12 and 13 are served in the other order (12 ends 225 ticks earlier, 13 185 later),
/// and from 15 on queue 502 runs 108 ticks ahead (24 of the 25 later transactions end
/// 108 ticks earlier, 16 ends 76 earlier). With no setup window (`setup_window_ticks = 0`) that seed
/// holds (logging 1,025, cow 1,049). Every other (policy, seed) pair of the 1,200
/// holds.
#[test]
fn no_policy_beats_a_plain_volume_on_fig4_5() {
    none_is_cheapest(&fig45(), 2);
}

/// The shipped `scenarios/fig4-5.toml`, with its own parameters (long transactions
/// still running on VLUN A while 507/508 serve new ones).
#[test]
fn no_policy_beats_a_plain_volume_on_the_shipped_fig4_5() {
    let (_, s, ..) = shipped()
        .into_iter()
        .find(|(label, ..)| label == "fig4-5.toml")
        .expect("scenarios/fig4-5.toml");
    none_is_cheapest(&s, 0);
}

/// A closed loop (4 clients, each issuing its next transaction an exponential think
/// time after its last one ends) on the NVMe profile with a journal and an fsync at
/// each commit, Zipf accesses. Here the load itself depends on the costs: a client
/// whose transaction ends later issues its next one later, so after the first cost
/// the policies run different arrival sequences. On this light load the mean response
/// is never below `none`'s (0 of 1,000 policy-seed pairs; with 16 clients and no think
/// time single seeds are: scenarios/README.md), but the p99 (the 3rd-largest response of 300)
/// is not monotone in the costs: `none` itself on a device one tick slower per write
/// has a lower p99 on some seeds (asserted below; 61 of 200 at 600 transactions when
/// measured), so the p99 of a closed loop is no test of fairness and is not judged.
fn closed_loop() -> Scenario {
    let mut s: Scenario = toml::from_str(
        r#"
[workload]
kind = "generated"
records = 4096
transactions = 300
length_min = 1
length_max = 2
write_fraction = 0.7
arrivals = { mode = "closed", clients = 4, think_ticks_mean = 2000 }
flush_at_commit = true
hot_spot = { shape = "zipf", exponent = 1.1 }
[geometry]
records_per_block = 1
block_size_bytes = 4096
[device]
profile = "nvme-ssd"
journaled = true
[archive]
profile = "1gbe"
"#,
    )
    .expect("the closed-loop scenario parses");
    s.name = "closed loop".into();
    s
}

#[test]
fn no_policy_beats_a_plain_volume_on_a_closed_loop_in_the_mean() {
    let s = closed_loop();
    judged_cheapest(&s, 0, false);
    // The p99 is not monotone in the costs on this load, backup or none: a plain
    // volume whose writes take one tick more answers some seeds' p99 faster.
    let mut slower = s.clone();
    slower.device.write_latency_ticks += 1;
    let (mut p99_lower, mut mean_lower) = (0, 0);
    for seed in 0..SEEDS {
        let (a, b) = (
            result(&s, Policy::None, seed).costs.response_time,
            result(&slower, Policy::None, seed).costs.response_time,
        );
        p99_lower += usize::from(b.ticks_p99 < a.ticks_p99);
        mean_lower += usize::from(b.ticks_mean < a.ticks_mean);
    }
    assert_eq!(
        mean_lower, 0,
        "a slower device never answers faster in the mean"
    );
    assert!(
        p99_lower > 0,
        "the p99 exclusion rests on a slower device answering some p99 faster"
    );
}
