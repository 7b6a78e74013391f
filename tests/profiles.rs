//! Device profiles through `owm run`: each profile's reads and writes match their
//! published queue-depth-1 latency and sustained (high queue depth) IOPS within 1.5×
//! (scenarios/README.md, "Profiles: sourced defaults", gives the sources).

use crate::util::*;

/// Published figures per profile: (name, QD1 read latency µs, QD1 write latency µs,
/// sustained random 4 KiB read IOPS, sustained random 4 KiB write IOPS). The disk's
/// sheet gives no IOPS: its figure is one positioning (12.36 ms) per access.
const PUBLISHED: [(&str, f64, f64, f64, f64); 3] = [
    ("hdd-7200", 12_360.0, 12_360.0, 80.9, 80.9),
    ("sata-ssd", 77.0, 28.0, 98_000.0, 88_000.0),
    ("nvme-ssd", 85.0, 20.0, 490_000.0, 38_000.0),
];

/// The stated tolerance: a simulated figure within this factor of the published one.
const TOLERANCE: f64 = 1.5;

/// One closed-loop run of single-block transactions (blind 4 KiB writes, or reads)
/// under `none` with `clients` clients and no think time; returns (physical I/Os per
/// second, mean response in ticks, device queue ticks).
fn saturate(profile: &str, writing: bool, clients: u32, transactions: u32) -> (f64, f64, f64) {
    let ops = if writing {
        "write_fraction = 1.0\nwrite_kind = \"blind\""
    } else {
        "write_fraction = 0.0"
    };
    let text = format!(
        "policies = [\"none\"]\nname = \"saturation\"\n\n[workload]\nkind = \"generated\"\n\
         records = 262144\ntransactions = {transactions}\n\
         arrivals = {{ mode = \"closed\", clients = {clients}, think_ticks_mean = 0 }}\n\
         length_min = 1\nlength_max = 1\n{ops}\ncompute_ticks_min = 0\ncompute_ticks_max = 0\n\n\
         [geometry]\nblock_size_bytes = 4096\nrecords_per_block = 1\n\n\
         [device]\nprofile = \"{profile}\"\n"
    );
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "saturation.toml", &text);
    let out = tmp.path().join("out");
    ok(&owm(&["run", &f, "--out", &s(&out)]));
    let rows = csv_rows(&out, "summary.csv");
    let row = &rows[0];
    let (reads, writes) = (num(row, "physical_reads"), num(row, "physical_writes"));
    // Every transaction did its one I/O of the kind asked, and nothing else.
    let (done, other) = if writing {
        (writes, reads)
    } else {
        (reads, writes)
    };
    assert_eq!((done, other), (f64::from(transactions), 0.0), "{profile}");
    (
        done / num(row, "end_ticks") * 1e6,
        num(row, "response_ticks_mean"),
        num(row, "device_queue_ticks"),
    )
}

fn within(what: &str, simulated: f64, published: f64) {
    let factor = (simulated / published).max(published / simulated);
    assert!(
        factor <= TOLERANCE,
        "{what}: simulated {simulated:.0}, published {published:.0} ({factor:.2}×)"
    );
}

#[test]
fn every_profile_matches_its_published_latency_and_sustained_iops() {
    for (profile, read_us, write_us, read_iops, write_iops) in PUBLISHED {
        let n = if profile == "hdd-7200" { 300 } else { 4_000 };
        for (write, latency, iops) in [(false, read_us, read_iops), (true, write_us, write_iops)] {
            let op = if write { "write" } else { "read" };
            // Queue depth 1: the call's latency (jitter adds 0-2 ticks), no queueing.
            let (_, response, queued) = saturate(profile, write, 1, 200);
            assert_eq!(queued, 0.0, "{profile} {op}: one client never queues");
            within(&format!("{profile} QD1 {op} latency"), response, latency);
            // 128 clients: the device is saturated (calls queued) and sustains its IOPS.
            let (sustained, _, queued) = saturate(profile, write, 128, n);
            assert!(
                queued > 0.0,
                "{profile} {op}: 128 clients saturate the device"
            );
            within(&format!("{profile} sustained {op} IOPS"), sustained, iops);
        }
    }
}

/// `[device] profile` in its table form (TOML's spelling of a choice: a table with
/// the profile's name as its one key) is the same profile as the string form: the
/// same bytes of `summary.csv`, and not the plain defaults'.
#[test]
fn the_table_form_of_a_device_profile_is_the_same_profile() {
    let tmp = tempfile::tempdir().unwrap();
    let base =
        "policies = [\"none\", \"cow\"]\nname = \"profile\"\n[workload]\nkind = \"generated\"\n\
                records = 64\ntransactions = 40\n[device]\n";
    let mut summaries = Vec::new();
    for (name, device) in [
        ("string", "profile = \"sata-ssd\"\n"),
        ("table", "profile = { \"sata-ssd\" = {} }\n"),
        ("plain", ""),
    ] {
        let f = write(
            tmp.path(),
            &format!("{name}.toml"),
            &format!("{base}{device}"),
        );
        let out = tmp.path().join(name);
        ok(&owm(&["run", &f, "--out", &s(&out), "--allow-violations"]));
        summaries.push(bytes(&out, "summary.csv"));
    }
    assert_eq!(summaries[0], summaries[1], "the table form is the profile");
    assert_ne!(summaries[0], summaries[2], "the profile changes the run");
}

/// A profile's table form holding two names, or none, is refused at its table's line
/// in the file's words (the table form holds exactly one key, the name), never serde's
/// count of "elements"; for a device's and an archive target's profile alike (exit 2).
#[test]
fn a_profiles_table_form_naming_two_or_none_is_refused_in_the_files_words() {
    for (table, body, found) in [
        (
            "device",
            "hdd-7200 = {}\nsata-ssd = {}\n",
            "it holds more than one",
        ),
        ("device", "", "it holds none"),
        (
            "archive",
            "1gbe = {}\n10gbe = {}\n",
            "it holds more than one",
        ),
    ] {
        let (_t, f, o) = run_file(&format!("policies = [\"cow\"]\n[{table}.profile]\n{body}"));
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        fails_with(
            &o,
            &[&format!(
                "{f}:2: key `{table}.profile`: the table form of a choice holds exactly one \
                 key, the name chosen (`NAME = {{}}`); {found}"
            )],
        );
        assert!(!stderr(&o).contains("element"), "{}", stderr(&o));
    }
}
