//! Scenarios load from TOML with defaults for every missing field, and refuse unknown
//! fields.

use sim::{Discipline, Granularity, Scenario, WorkloadConfig};

#[test]
fn a_scenario_file_loads_with_defaults() {
    let s: Scenario = toml::from_str(
        r#"
        name = "bank-record"
        [workload]
        kind = "bank"
        accounts = 128
        [locking]
        granularity = "record"
        [backup]
        request_at_ticks = 1000
        "#,
    )
    .unwrap();
    assert_eq!(s.name, "bank-record");
    let WorkloadConfig::Bank(b) = &s.workload else {
        panic!("not bank")
    };
    assert_eq!(b.accounts, 128);
    assert_eq!(b.transactions, sim::BankConfig::default().transactions);
    assert_eq!(s.locking.granularity, Granularity::Record);
    assert_eq!(s.locking.discipline, Discipline::Conservative);
    assert_eq!(s.backup.request_at_ticks, Some(1000));
    assert_eq!(s.backup.setup_window_ticks, 100);
    let empty: Scenario = toml::from_str("").unwrap();
    assert_eq!(empty, Scenario::default());
}

#[test]
fn unknown_fields_are_refused() {
    for bad in [
        "nmae = \"x\"",
        "[workload]\nkind = \"bank\"\naccount = 3",
        "[backup]\nsetup_window = 3",
        "[workload]\nkind = \"tape\"",
    ] {
        assert!(toml::from_str::<Scenario>(bad).is_err(), "accepted: {bad}");
    }
}

#[test]
fn fig45_and_generated_parse() {
    let s: Scenario = toml::from_str(
        r#"
        [workload]
        kind = "fig4-5"
        processes = 3
        "#,
    )
    .unwrap();
    assert!(matches!(s.workload, WorkloadConfig::Fig45(ref c) if c.processes == 3));
    let g: Scenario = toml::from_str(
        r#"
        [workload]
        kind = "generated"
        arrivals = { mode = "closed", clients = 4, think_ticks_mean = 10 }
        hot_spot = { shape = "zipf", exponent = 0.9 }
        "#,
    )
    .unwrap();
    assert!(matches!(g.workload, WorkloadConfig::Generated(_)));
}

#[test]
fn a_bad_geometry_is_a_typed_error() {
    let mut s = Scenario::default();
    s.geometry.records_per_block = 8; // 8-byte records cannot hold value + stamp
    assert!(matches!(
        sim::run(&s, sim::Policy::Quiesce, 1),
        Err(sim::SimError::Config { .. })
    ));
}

#[test]
fn bad_workload_parameters_are_typed_errors_not_panics() {
    for bad in [
        "[workload]\nkind = \"fig3\"\nrecords = 0",
        "[workload]\nkind = \"fig4-5\"\nprocesses = 0",
        "[workload]\nkind = \"bank\"\naccounts = 1",
        "[workload]\nkind = \"generated\"\nwrite_fraction = 1.5",
        "[workload]\nkind = \"generated\"\nhot_spot = { shape = \"zipf\", exponent = -1.0 }",
        "abort_probability = 2.0",
        "[locking]\ntype_b_blocks = [100000]",
        "[geometry]\nblock_size_bytes = 0",
        "[workload]\nkind = \"bank\"\naccounts = 100000000000",
    ] {
        let s: Scenario = toml::from_str(bad).unwrap();
        assert!(
            matches!(
                sim::run(&s, sim::Policy::Quiesce, 1),
                Err(sim::SimError::Config { .. })
            ),
            "accepted: {bad}"
        );
    }
}

/// What the CLI prints as the effective configuration loads back to the same scenario.
#[test]
fn scenarios_round_trip_through_toml() {
    for mut s in super::common::workloads() {
        s.backup.request_at_ticks = Some(777);
        s.locking.type_b_blocks = vec![0, 2];
        let text = toml::to_string(&s).unwrap();
        let back: Scenario = toml::from_str(&text).unwrap();
        assert_eq!(back, s, "{text}");
    }
}

/// The range checks the command line applies are the library's: each bad value is a
/// `SimError::Config` naming its dotted key.
#[test]
fn every_refusal_names_its_key() {
    for (bad, key) in [
        ("[device]\nchannels = 0", "device.channels"),
        ("[limits]\nevents_max = 0", "limits.events_max"),
        ("[workload]\nkind = \"fig3\"\nupdates_min = 5\nupdates_max = 2", "workload.updates_min"),
        ("[workload]\nkind = \"bank\"\namount_max = 0", "workload.amount_max"),
        ("[workload]\nkind = \"generated\"\narrivals = { mode = \"closed\", clients = 0, think_ticks_mean = 1 }", "workload.arrivals.clients"),
        ("[geometry]\nrecords_per_block = 0", "geometry.records_per_block"),
        ("[faults]\nlatency_spike_probability = 2.0", "faults.latency_spike_probability"),
        ("abort_probability = 2.0", "abort_probability"),
    ] {
        let s: Scenario = toml::from_str(bad).unwrap();
        match s.validate() {
            Err(sim::SimError::Config { key: k, .. }) => assert_eq!(k, key, "{bad}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
}

/// The largest device channel count and Fig 4/5 process count are accepted, one more
/// is refused at its key (each is allocated whole when a run starts: the bounds keep a
/// mistyped count from exhausting memory before the first event).
#[test]
fn channel_and_process_counts_are_bounded_at_their_largest_accepted_value() {
    for (text, max, key) in [
        (
            "[device]\nchannels = ",
            u64::from(sim::device_model::CHANNELS_MAX),
            "device.channels",
        ),
        (
            "[workload]\nkind = \"fig4-5\"\nprocesses = ",
            u64::from(sim::workload::PROCESSES_MAX),
            "workload.processes",
        ),
    ] {
        let s: Scenario = toml::from_str(&format!("{text}{max}")).unwrap();
        s.validate()
            .unwrap_or_else(|e| panic!("{key} = {max}: {e}"));
        let s: Scenario = toml::from_str(&format!("{text}{}", max + 1)).unwrap();
        match s.validate() {
            Err(sim::SimError::Config { key: k, .. }) => assert_eq!(k, key),
            other => panic!("{key} = {}: {other:?}", max + 1),
        }
    }
}
