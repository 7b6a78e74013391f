//! A backup that did not complete claims nothing about its copy, in every output of
//! `owm run`: a quiesce backup given up at its deadline, and a copy-on-write backup
//! abandoned when its data area filled (`break-snapshot`).

use crate::costs::summary_rows;
use crate::util::*;

/// Long bank transfers (20-2000 ticks of work) on 1024 accounts: at the request several
/// are running, and a 300-tick freeze limit is missed three times in a row (the first
/// attempt and both retries), so the backup is given up. `cow` beside it completes.
pub const GIVEN_UP: &str = r#"
policies = ["none", "quiesce", "cow"]
seed = 1
name = "quiesce-deadline"

[workload]
kind = "bank"
accounts = 1024
transactions = 300
arrival_ticks_mean = 100
compute_ticks_min = 20
compute_ticks_max = 2000

[backup]
quiesce_deadline_ticks = 300
quiesce_retries_max = 2
quiesce_retry_backoff_ticks = 1000
"#;

fn events<'a>(
    rows: &'a [std::collections::BTreeMap<String, String>],
    policy: &str,
    event: &str,
) -> Vec<&'a std::collections::BTreeMap<String, String>> {
    rows.iter()
        .filter(|r| r["policy"] == policy && r["event"] == event)
        .collect()
}

/// The review's repro: the given-up quiesce backup is `not claimed (given up)` for
/// A-consistent, backup-faithful and space-reclaimed in the verdict table,
/// `summary.csv`, the JSON and JUnit (skipped, never a pass); `trace.csv` has a row per
/// missed deadline, per retry and the give-up; stdout says so; the exit is 0 (a failed
/// backup is the policy's result, not a broken claim) and the JSON lists it in
/// `backups_lost`. The completed `cow` backup beside it keeps every claim.
#[test]
fn a_given_up_quiesce_backup_claims_nothing_about_its_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let VerdictRun { o, out, json, xml } = run_with_verdict_files(tmp.path(), "qd.toml", GIVEN_UP);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    let rows = summary_rows(&out);
    let q = &rows["quiesce"];
    // Reached: three attempts, three timeouts, given up, nothing copied.
    assert_eq!(num(q, "quiesce_attempts"), 3.0, "{q:?}");
    assert_eq!(num(q, "quiesce_timeouts"), 3.0, "{q:?}");
    assert_eq!(q["backup_given_up"], "1");
    assert_eq!(q["archive_copy_at_ticks"], "");
    let copy = ["A-consistent", "backup-faithful", "space-reclaimed"];
    for inv in copy {
        assert_eq!(q[inv], "not claimed (given up)", "{inv}");
        assert_eq!(rows["cow"][inv], "held", "{inv}");
        let line = table_row(&text, inv);
        assert!(line.contains("not claimed (given up)"), "{line}");
    }
    assert_eq!(q["B-complete"], "held");
    assert!(
        text.contains("backup given up under quiesce at ")
            && text.contains("(quiesce deadline missed 3 times): no copy taken")
            && text.contains("; not claimed: A-consistent, backup-faithful, space-reclaimed"),
        "{text}"
    );
    // The gate held users though no split came: the line gives their waits, as the
    // window's `gate wt` sums them and `adm` counts them.
    let gate = num(q, "window_gate_wait_ticks_sum");
    assert!(gate > 0.0, "{q:?}");
    assert!(
        text.contains("no copy taken, though its gate held users: ")
            && text.contains(&format!(" for {gate} ticks in all (`gate wt`, and `adm`)")),
        "{text}"
    );
    assert!(!text.contains("backup given up under cow"), "{text}");
    assert!(
        text.contains("; 1 backup cycle given up or abandoned (in 1 policy); exit 0)"),
        "{text}"
    );
    // trace.csv: request, three timeouts (attempts 1-3), two retries, the give-up.
    let trace = csv_rows(&out, "trace.csv");
    let timeouts = events(&trace, "quiesce", "quiesce-timeout");
    let retries = events(&trace, "quiesce", "quiesce-retry");
    let given_up = events(&trace, "quiesce", "backup-given-up");
    assert_eq!(timeouts.len(), 3);
    assert_eq!(retries.len(), 2);
    assert_eq!(given_up.len(), 1);
    assert_eq!(timeouts[2]["detail"], "attempt 3");
    assert_eq!(retries[0]["detail"], "attempt 2");
    assert_eq!(given_up[0]["time_ticks"], timeouts[2]["time_ticks"]);
    assert!(events(&trace, "cow", "backup-given-up").is_empty());
    // JSON: not-claimed with the reason, never held; the lost backup listed.
    let v = read_json(&json);
    assert_eq!(v["exit_code"], 0);
    let lost = v["backups_lost"].as_array().unwrap();
    assert_eq!(lost.len(), 1, "{lost:?}");
    assert_eq!(v["backup_cycles_lost"], 1);
    // Quiesce never split: A-isolated, which it claims, speaks of a VLUN A it never had.
    assert_eq!(q["A-isolated"], "not claimed (no split)");
    assert!(lost[0]
        .as_str()
        .unwrap()
        .starts_with("quiesce: backup given up"));
    for inv in copy {
        let case = json_case(&v, "quiesce", inv);
        assert_eq!(case["verdict"], "not-claimed", "{case}");
        assert!(
            case["policy"].as_str().unwrap().contains("backup given up"),
            "{case}"
        );
    }
    // JUnit: skipped, with the reason.
    let xml = std::fs::read_to_string(&xml).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    for inv in copy {
        let case = doc
            .descendants()
            .find(|n| {
                n.has_tag_name("testcase")
                    && n.attribute("classname") == Some("quiesce")
                    && n.attribute("name") == Some(inv)
            })
            .unwrap();
        let skipped = case
            .children()
            .find(|n| n.has_tag_name("skipped"))
            .unwrap_or_else(|| panic!("{inv}: not skipped"));
        assert!(
            skipped
                .attribute("message")
                .unwrap()
                .contains("backup given up"),
            "{inv}"
        );
    }
}

/// Three backup cycles, each abandoned when a 4-block data area fills under
/// `break-snapshot`, under logging and cow (mirroring has no data area and completes
/// its three; `none` takes none).
pub const CYCLES_ABANDONED: &str = r#"
policies = ["none", "mirroring", "logging", "cow"]
seed = 2
name = "overflow-cycles"

[workload]
kind = "generated"
records = 256
transactions = 1200
write_fraction = 0.7
arrivals = { mode = "open", interarrival_ticks_mean = 20 }

[backup]
request_at_ticks = 2000
period_ticks = 6000
cycles = 3
data_area_blocks = 4
on_data_area_full = "break-snapshot"

[archive]
bandwidth_bytes_per_s = 1000000
"#;

/// The verdict line counts backup cycles, and says over how many policies: 6 cycles
/// abandoned in 2 policies (each cycle row of `summary.csv` with an
/// `abandoned_at_ticks` is one), never "2 backups". The JSON agrees.
#[test]
fn the_verdict_line_counts_lost_backup_cycles_and_their_policies() {
    let tmp = tempfile::tempdir().unwrap();
    let VerdictRun { o, out, json, .. } =
        run_with_verdict_files(tmp.path(), "cycles.toml", CYCLES_ABANDONED);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    let rows = csv_rows(&out, "summary.csv");
    let abandoned: Vec<_> = rows
        .iter()
        .filter(|r| !r["abandoned_at_ticks"].is_empty())
        .map(|r| (r["policy"].as_str(), r["cycle"].as_str()))
        .collect();
    assert_eq!(
        abandoned,
        [
            ("logging", "1"),
            ("logging", "2"),
            ("logging", "3"),
            ("cow", "1"),
            ("cow", "2"),
            ("cow", "3")
        ],
        "{rows:?}"
    );
    assert!(
        text.contains("; 6 backup cycles given up or abandoned (in 2 policies); exit 0)"),
        "{text}"
    );
    let v = read_json(&json);
    assert_eq!(v["backup_cycles_lost"], 6);
    assert_eq!(v["backups_lost"].as_array().unwrap().len(), 2);
}

/// A sweep counts the lost cycles of all its grid points, and the grid points: the
/// same file as a sweep over `backup.cycles` = 1 and 3 under cow loses 1 + 3 cycles in
/// 2 grid points, listed in the JSON's `backups_lost` (before, a sweep dropped them).
#[test]
fn a_sweep_counts_lost_backup_cycles_over_its_grid_points() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = CYCLES_ABANDONED
        .replace(
            "policies = [\"none\", \"mirroring\", \"logging\", \"cow\"]\nseed = 2\n",
            "",
        )
        .replace("name = \"overflow-cycles\"\n", "")
        .replace("cycles = 3\n", "")
        .replace("[workload]", "[scenario.workload]")
        .replace("[backup]", "[scenario.backup]")
        .replace("[archive]", "[scenario.archive]");
    let text = format!(
        "policies = [\"cow\"]\nseeds = [2]\n\n[[axis]]\nkey = \"backup.cycles\"\nvalues = [1, 3]\n{scenario}"
    );
    let f = write(tmp.path(), "sweep.toml", &text);
    let JsonRun { o, json, .. } = owm_json("sweep", &f, tmp.path(), &[]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("; 4 backup cycles given up or abandoned (in 2 grid points); exit 0)"),
        "{out}"
    );
    let v = read_json(&json);
    assert_eq!(v["backup_cycles_lost"], 4);
    let lost = v["backups_lost"].as_array().unwrap();
    assert_eq!(lost.len(), 2, "{lost:?}");
    assert!(
        lost[0].as_str().unwrap().contains("backup abandoned"),
        "{lost:?}"
    );
}

/// The bank of `scenarios/bank.toml` with two backups, 50,000 ticks apart, over a data
/// area of 3% of the volume under `break-snapshot`, the baselines on the copy-on-write
/// engine (so they have a data area too): the first backup of each policy is abandoned
/// while transfers run, the second, requested after the last transfer, completes but
/// ran beside no transaction, so its row claims nothing about a backup (`not claimed
/// (request after the last transaction)`).
pub const FIRST_OF_TWO_ABANDONED: &str = r#"
policies = ["quiesce", "crash-consistent", "logging", "cow"]
seed = 1
name = "first-of-two-abandoned"

[workload]
kind = "bank"
accounts = 1024
transactions = 300
arrival_ticks_mean = 100
compute_ticks_min = 20
compute_ticks_max = 2000

[geometry]
block_size_bytes = 64
records_per_block = 4

[backup]
schedule_at_ticks = [10000, 60000]
data_area_fraction = 0.03
on_data_area_full = "break-snapshot"
baseline_variant = "cow"
"#;

/// A cycle's row of `summary.csv` says what became of that cycle's own backup: the
/// abandoned first cycle has `backup_abandoned` 1 and its time, the completed second
/// `backup_abandoned` 0 beside its archive and retire times (before, the column was the
/// run's, 1 in both). The verdicts are the run's, but that the abandoned cycle's row
/// reads `not claimed (abandoned…)` for the invariants about its copy, and the second
/// cycle's, which ran after the load, `not claimed (request after the last
/// transaction)` for every invariant about a backup.
#[test]
fn each_cycle_row_says_whether_its_own_backup_was_abandoned() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "two.toml", FIRST_OF_TWO_ABANDONED);
    let out = tmp.path().join("o");
    let o = owm(&["run", &f, "--out", &s(&out)]);
    ok(&o);
    let rows = csv_rows(&out, "summary.csv");
    assert_eq!(rows.len(), 8, "four policies, two cycles each");
    let (mut abandoned, mut completed) = (0, 0);
    for r in &rows {
        let lost = !r["abandoned_at_ticks"].is_empty();
        assert_eq!(r["backup_abandoned"], if lost { "1" } else { "0" }, "{r:?}");
        assert_eq!(r["backup_given_up"], "0", "{r:?}");
        if lost {
            assert_eq!(r["retire_at_ticks"], "", "{r:?}");
            abandoned += 1;
        } else {
            assert!(!r["retire_at_ticks"].is_empty(), "{r:?}");
            completed += 1;
        }
    }
    assert_eq!((abandoned, completed), (4, 4), "{rows:?}");
    for pair in rows.chunks(2) {
        assert_eq!(pair[0]["cycle"], "1");
        assert_eq!(pair[0]["backup_abandoned"], "1", "{:?}", pair[0]);
        for col in ["violations", "end_ticks", "B-complete"] {
            assert_eq!(pair[0][col], pair[1][col], "{col}: the run's in both rows");
        }
        for col in crate::unreached::ABOUT_BACKUP {
            // What the run observed violated stays (its state was reached).
            let why = &pair[1][col];
            assert!(
                *why == crate::unreached::unreached_as(
                    col,
                    "not claimed (request after the last transaction)"
                ) || why.starts_with("not claimed (violated"),
                "{col}: {:?}",
                pair[1]
            );
        }
        for col in ["A-consistent", "backup-faithful"] {
            assert!(
                pair[0][col].starts_with("not claimed (abandoned"),
                "{col}: {:?}",
                pair[0]
            );
            assert!(!pair[1][col].contains("abandoned"), "{col}: {:?}", pair[1]);
        }
    }
    // The stdout table's cycle rows read the same: `abandoned` only in cycle 1's.
    let text = stdout(&o);
    assert!(table_row(&text, "cow #1").contains("abandoned"), "{text}");
    assert!(!table_row(&text, "cow #2").contains("abandoned"), "{text}");
}

/// A lost backup's own reason comes first for every invariant it drops, whether the
/// policy claims it or not: crash-consistent never claims A-consistent, and after its
/// backup was abandoned reports it `not claimed (abandoned, …)` as the other policies
/// do, in the verdict table, `summary.csv`, the JSON and JUnit, and lists it in the
/// `backup abandoned` line. (The first backup of [`FIRST_OF_TWO_ABANDONED`] alone.)
#[test]
fn an_abandoned_crash_consistent_backup_gives_its_reason_for_a_consistent() {
    let tmp = tempfile::tempdir().unwrap();
    let one = FIRST_OF_TWO_ABANDONED.replace("[10000, 60000]", "[10000]");
    let VerdictRun { o, out, json, xml } = run_with_verdict_files(tmp.path(), "one.toml", &one);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    let rows = summary_rows(&out);
    let cc = &rows["crash-consistent"];
    assert!(
        cc["A-consistent"].starts_with("not claimed (abandoned"),
        "{cc:?}"
    );
    for p in ["quiesce", "logging", "cow"] {
        assert_eq!(rows[p]["A-consistent"], "not claimed (abandoned)", "{p}");
    }
    let line = table_row(&text, "A-consistent");
    assert_eq!(line.matches("not claimed (abandoned").count(), 4, "{line}");
    assert!(
        text.contains(
            "(data area full): VLUN A dropped with no archive; not claimed: A-consistent, backup-faithful"
        ) && !text.contains("not claimed: backup-faithful\n"),
        "{text}"
    );
    let v = read_json(&json);
    let case = json_case(&v, "crash-consistent", "A-consistent");
    assert_eq!(case["verdict"], "not-claimed", "{case}");
    assert!(
        case["policy"]
            .as_str()
            .unwrap()
            .contains("backup abandoned"),
        "{case}"
    );
    let xml = std::fs::read_to_string(&xml).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let skipped = doc
        .descendants()
        .find(|n| {
            n.has_tag_name("testcase")
                && n.attribute("classname") == Some("crash-consistent")
                && n.attribute("name") == Some("A-consistent")
        })
        .and_then(|c| c.children().find(|n| n.has_tag_name("skipped")))
        .expect("skipped");
    assert!(
        skipped
            .attribute("message")
            .unwrap()
            .contains("backup abandoned"),
        "{xml}"
    );
}

/// Long transactions (up to 50,000 ticks of compute) that no 20,000-tick quiesce
/// deadline can drain, under quiesce on `schedule_at_ticks` = `schedule`, with
/// `quiesce_retries_max` = `retries` (1,000 ticks apart): every cycle is given up.
fn scheduled_quiesce(schedule: &str, retries: u32) -> String {
    let backoff = if retries > 0 {
        "quiesce_retry_backoff_ticks = 1000\n"
    } else {
        ""
    };
    format!(
        r#"
policies = ["quiesce"]
seed = 2
name = "quiesce-cycles"

[workload]
kind = "generated"
records = 4096
transactions = 300
length_min = 1
length_max = 4
compute_ticks_min = 1000
compute_ticks_max = 50000
arrivals = {{ mode = "open", interarrival_ticks_mean = 1000 }}

[backup]
schedule_at_ticks = {schedule}
quiesce_deadline_ticks = 20000
quiesce_retries_max = {retries}
{backoff}"#
    )
}

/// `owm run`'s lost-backup line says what happened per cycle: one cycle given up after
/// one missed deadline is `backup given up … (quiesce deadline missed 1 time)`; three
/// cycles, each given up after missing its deadline once (or twice, with one retry),
/// are counted as three backups, each after its own misses, never as one backup whose
/// deadline was missed 3 (or 6) times. The trace's rows per cycle are the premise.
#[test]
fn a_lost_backup_line_counts_cycles_and_their_own_missed_deadlines() {
    let cases = [
        ("[50000]", 0, "backup given up under quiesce at 70000 ticks (quiesce deadline missed 1 time): no copy taken", 1),
        ("[50000, 150000, 250000]", 0, "3 backups given up under quiesce at 70000, 170000, 270000 ticks (each after missing its quiesce deadline once): no copy taken", 1),
        ("[50000, 150000, 250000]", 1, "3 backups given up under quiesce at ", 2),
    ];
    for (schedule, retries, line, per_cycle) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let f = write(tmp.path(), "q.toml", &scheduled_quiesce(schedule, retries));
        let out = tmp.path().join("o");
        let o = owm(&["run", &f, "--out", &s(&out)]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let text = stdout(&o);
        let cycles = schedule.split(',').count();
        // The premise: each cycle missed its deadline `per_cycle` times, then gave up.
        let trace = csv_rows(&out, "trace.csv");
        let timeouts = events(&trace, "quiesce", "quiesce-timeout");
        assert_eq!(timeouts.len(), cycles * per_cycle, "{schedule}");
        assert_eq!(
            events(&trace, "quiesce", "backup-given-up").len(),
            cycles,
            "{schedule}"
        );
        let found = text
            .lines()
            .find(|l| l.contains("given up under quiesce at "))
            .unwrap_or_else(|| panic!("no lost backup line:\n{text}"));
        assert!(
            found.starts_with(line) && found.contains("; not claimed: "),
            "{found}"
        );
        if per_cycle == 2 {
            assert!(
                found.contains(" ticks (each after missing its quiesce deadline 2 times): "),
                "{found}"
            );
        }
        assert!(!found.contains("missed 3 times"), "{found}");
    }
}

/// A lost cycle drops only its own copy: with the first of two backups abandoned and
/// the second (requested at 29,000, while the last transfers run) archived, quiesce,
/// logging and cow claim A-consistent and backup-faithful on the second cycle's copy
/// (`held` in the verdict table, the JSON and cycle 2's row of `summary.csv`), cycle
/// 1's row reads `not claimed (abandoned)`, and the lost-backup line says the copies
/// of the other cycles are judged. (Before, one lost cycle left every cycle's copy
/// unclaimed, so a wrong archive of cycle 2 could not fail the run.) A violation
/// observed of a lost copy stays in its own row.
#[test]
fn a_lost_cycle_leaves_the_other_cycles_copies_claimed() {
    let tmp = tempfile::tempdir().unwrap();
    let beside = FIRST_OF_TWO_ABANDONED.replace("[10000, 60000]", "[10000, 29000]");
    for sub in ["beside", "after"] {
        std::fs::create_dir_all(tmp.path().join(sub)).unwrap();
    }
    let VerdictRun { o, out, json, .. } =
        run_with_verdict_files(&tmp.path().join("beside"), "two.toml", &beside);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    let rows = csv_rows(&out, "summary.csv");
    let v = read_json(&json);
    for p in ["quiesce", "logging", "cow"] {
        let mine: Vec<_> = rows.iter().filter(|r| r["policy"] == p).collect();
        assert_eq!(mine.len(), 2, "{p}: {rows:?}");
        // The premise: cycle 1 abandoned, cycle 2 archived and retired.
        assert_eq!(mine[0]["backup_abandoned"], "1", "{p}");
        assert!(!mine[1]["archive_copy_at_ticks"].is_empty(), "{p}");
        for inv in ["A-consistent", "backup-faithful"] {
            assert_eq!(mine[0][inv], "not claimed (abandoned)", "{p} {inv}");
            assert_eq!(mine[1][inv], "held", "{p} {inv}");
            assert_eq!(json_case(&v, p, inv)["verdict"], "held", "{p} {inv}");
        }
        assert!(
            text.contains(&format!(
                "backup abandoned under {p} at {} ticks (data area full): VLUN A dropped with no archive; A-consistent, backup-faithful judged on the other cycles' copies",
                mine[0]["abandoned_at_ticks"]
            )),
            "{p}: {text}"
        );
    }
    let line = table_row(&text, "backup-faithful");
    assert_eq!(line.matches("held").count(), 3, "{line}");
    // crash-consistent claims no A-consistent: its lost cycle's image was observed
    // violated, in that cycle's row only (its second cycle, after the load, completes
    // and reads why it claims nothing).
    let VerdictRun { o, out, .. } = run_with_verdict_files(
        &tmp.path().join("after"),
        "two.toml",
        FIRST_OF_TWO_ABANDONED,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let rows = csv_rows(&out, "summary.csv");
    let cc: Vec<_> = rows
        .iter()
        .filter(|r| r["policy"] == "crash-consistent")
        .collect();
    assert_eq!(cc[0]["backup_abandoned"], "1");
    assert_eq!(cc[1]["backup_abandoned"], "0");
    assert_eq!(cc[0]["A-consistent"], "not claimed (abandoned, violated 1)");
    assert_eq!(
        cc[1]["A-consistent"],
        "not claimed (request after the last transaction)"
    );
}

/// A quiesce retry that finds no transaction active splits at its own tick: in
/// `trace.csv` the retry comes before the split it caused (rows of one tick are in the
/// order they happened), and the missed deadline that gives a backup up before the
/// give-up.
#[test]
fn quiesce_milestones_of_one_tick_are_in_the_order_they_happened() {
    let retried = r#"
policies = ["quiesce"]
[workload]
kind = "generated"
records = 4096
transactions = 100
length_min = 1
length_max = 4
compute_ticks_min = 20
compute_ticks_max = 20000
arrivals = { mode = "open", interarrival_ticks_mean = 1000 }
[geometry]
block_size_bytes = 4096
records_per_block = 1
[backup]
request_at_ticks = 90000
quiesce_deadline_ticks = 1000
quiesce_retries_max = 1
quiesce_retry_backoff_ticks = 100000
"#;
    // The milestone rows of `policy`, in file order: (time, event).
    let milestones = |text: &str, policy: &str| {
        let (_t, _f, o) = run_file(text);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let out = _t.path().join("o");
        csv_rows(&out, "trace.csv")
            .into_iter()
            .filter(|r| r["policy"] == policy && r["txn"].is_empty())
            .map(|r| (r["time_ticks"].parse::<u64>().unwrap(), r["event"].clone()))
            .collect::<Vec<_>>()
    };
    let rows = milestones(retried, "quiesce");
    let at = |event: &str| rows.iter().position(|(_, e)| e == event).unwrap();
    let (retry, split) = (at("quiesce-retry"), at("split"));
    assert_eq!(rows[retry].0, rows[split].0, "{rows:?}");
    assert!(
        retry < split,
        "the split before the retry that caused it: {rows:?}"
    );
    assert!(at("quiesce-timeout") < retry, "{rows:?}");
    let rows = milestones(GIVEN_UP, "quiesce");
    let given_up = rows
        .iter()
        .position(|(_, e)| e == "backup-given-up")
        .unwrap();
    let last_timeout = rows
        .iter()
        .rposition(|(_, e)| e == "quiesce-timeout")
        .unwrap();
    assert_eq!(rows[given_up].0, rows[last_timeout].0, "{rows:?}");
    assert!(last_timeout < given_up, "{rows:?}");
}

/// A schedule that loses one cycle each way, under quiesce on a copy-on-write
/// snapshot with a 20-block data area (`break-snapshot`) and a 500-tick freeze limit
/// with no retry: cycle 1 takes its copy and is abandoned when the area fills, cycles 2
/// and 3 miss their deadline. Every output names both: a stdout line per way, cycle 1's
/// row `not claimed (abandoned)` and the others' `not claimed (given up)`, and both
/// reasons in the JSON's `backups_lost` entry for the policy.
#[test]
fn a_schedule_that_loses_cycles_both_ways_names_each() {
    let tmp = tempfile::tempdir().unwrap();
    let text = "policies = [\"quiesce\"]\nseed = 4\n[workload]\nkind = \"generated\"\n\
                records = 1024\ntransactions = 400\nwrite_fraction = 0.7\nlength_min = 1\n\
                length_max = 6\ncompute_ticks_min = 20\ncompute_ticks_max = 1000\n\
                arrivals = { mode = \"open\", interarrival_ticks_mean = 60 }\n[backup]\n\
                baseline_variant = \"cow\"\nschedule_at_ticks = [2000, 9000, 16000]\n\
                data_area_blocks = 20\non_data_area_full = \"break-snapshot\"\n\
                quiesce_deadline_ticks = 500\nquiesce_retries_max = 0\n\
                [archive]\nbandwidth_bytes_per_s = 5000000\n";
    let VerdictRun { o, out, json, .. } = run_with_verdict_files(tmp.path(), "both.toml", text);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let rows = csv_rows(&out, "summary.csv");
    fn lost(r: &std::collections::BTreeMap<String, String>) -> (&str, &str) {
        (
            r["backup_abandoned"].as_str(),
            r["backup_given_up"].as_str(),
        )
    }
    let kinds: Vec<_> = rows.iter().map(lost).collect();
    assert_eq!(
        kinds,
        [("1", "0"), ("0", "1"), ("0", "1")],
        "the case at hand"
    );
    for r in &rows {
        let why = match lost(r) {
            ("1", _) => "not claimed (abandoned)",
            _ => "not claimed (given up)",
        };
        for inv in ["A-consistent", "backup-faithful"] {
            assert_eq!(r[inv], why, "cycle {} {inv}", r["cycle"]);
        }
    }
    let printed = stdout(&o);
    for start in [
        "backup abandoned under quiesce at ",
        "2 backups given up under quiesce at ",
    ] {
        assert!(
            printed.lines().any(|l| l.starts_with(start)),
            "{start}: {printed}"
        );
    }
    let v = read_json(&json);
    let entries = v["backups_lost"].as_array().expect("backups_lost");
    assert_eq!(
        entries.len(),
        1,
        "one entry for the one policy: {entries:?}"
    );
    let entry = entries[0].as_str().unwrap();
    assert!(
        entry.contains("backup given up") && entry.contains("backup abandoned"),
        "{entry}"
    );
    assert_eq!(v["backup_cycles_lost"], 3);
}

/// Bank transfers on a device in integrity mode whose blocks rot (1 % a read) until
/// 20,000, three backups scheduled: a cycle whose archive pass meets a rotted block
/// is given up with its VLUN A kept, so the device cannot split again and the
/// requests after it never begin a cycle.
fn rotting_schedule(seed: u64) -> String {
    format!(
        r#"
policies = ["mirroring", "logging", "cow", "crash-consistent", "quiesce"]
seed = {seed}
[workload]
kind = "bank"
accounts = 1024
transactions = 300
arrival_ticks_mean = 100
compute_ticks_min = 20
compute_ticks_max = 2000
[backup]
schedule_at_ticks = [5000, 13000, 21000]
[archive]
bandwidth_bytes_per_s = 4000000
[device]
integrity = true
[faults]
corrupt_block_probability = 0.01
heal_at_ticks = 20000
"#
    )
}

/// Every scheduled request has its row in `summary.csv`, also one that never began
/// because an earlier cycle's backup was given up with VLUN A kept: that row is lost
/// (`backup_given_up`), has no window and no milestone but its request, `trace.csv`
/// gives its `backup-given-up` at the run's end (`never begun`, no `cycle-start`),
/// stdout names it, and the verdict's count of lost cycles includes it. (Before, such
/// requests vanished from every output.)
#[test]
fn requests_behind_a_kept_vlun_a_are_reported_as_lost_cycles() {
    let mut not_begun = 0;
    for seed in 1..=4 {
        let tmp = tempfile::tempdir().unwrap();
        let f = write(tmp.path(), "rot.toml", &rotting_schedule(seed));
        let run = owm_json("run", &f, tmp.path(), &[]);
        assert!(matches!(code(&run.o), 0 | 1 | 3), "{}", stderr(&run.o));
        let rows = csv_rows(&run.out, "summary.csv");
        let trace = csv_rows(&run.out, "trace.csv");
        let mut lost_rows = 0;
        for policy in ["mirroring", "logging", "cow", "crash-consistent", "quiesce"] {
            let mine: Vec<_> = rows.iter().filter(|r| r["policy"] == policy).collect();
            let asked: Vec<&str> = mine
                .iter()
                .map(|r| r["request_at_ticks"].as_str())
                .collect();
            assert_eq!(asked, ["5000", "13000", "21000"], "seed {seed} {policy}");
            lost_rows += mine
                .iter()
                .filter(|r| r["backup_given_up"] == "1" || r["backup_abandoned"] == "1")
                .count();
            let given_up = events(&trace, policy, "backup-given-up");
            for (i, row) in mine.iter().enumerate() {
                let k = i + 1;
                let never = given_up
                    .iter()
                    .any(|t| t["detail"] == format!("cycle {k}, never begun"));
                if !never {
                    continue;
                }
                not_begun += 1;
                assert_eq!(
                    row["backup_given_up"], "1",
                    "seed {seed} {policy} cycle {k}"
                );
                for col in [
                    "a_consistent_at_ticks",
                    "retire_at_ticks",
                    "window_start_at_ticks",
                ] {
                    assert_eq!(row[col], "", "seed {seed} {policy} cycle {k}: {col}");
                }
                // Behind an earlier cycle whose VLUN A was never retired.
                assert!(
                    mine[..i].iter().any(|r| r["retire_at_ticks"].is_empty()),
                    "seed {seed} {policy} cycle {k}"
                );
                assert!(
                    !events(&trace, policy, "cycle-start")
                        .iter()
                        .any(|t| t["detail"] == format!("cycle {k}")),
                    "seed {seed} {policy} cycle {k} has a cycle-start"
                );
                assert!(
                    stdout(&run.o)
                        .lines()
                        .any(|l| l.contains(&format!("under {policy} (cycle"))
                            && l.contains("never began")),
                    "seed {seed} {policy}:\n{}",
                    stdout(&run.o)
                );
            }
        }
        assert_eq!(
            run.verdict()["backup_cycles_lost"].as_u64(),
            Some(lost_rows as u64),
            "seed {seed}"
        );
    }
    assert!(not_begun > 0, "no request was left behind a kept VLUN A");
}

/// A state reached only by a cycle beside no transaction is not "never reached": with
/// the first backup given up at its deadline while transactions run and a second one
/// requested after the load (split, A consistent, archived, retired beside no
/// transaction), the invariants about the copy are not claimed because no transaction
/// ran beside it, and the JSON says so, not `no split` / `A never consistent` / `no
/// archive` / `no retire`.
#[test]
fn a_state_reached_only_beside_no_transaction_is_not_called_unreached() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "q.toml",
        &scheduled_quiesce("[50000, 10000000]", 0),
    );
    let run = owm_json("run", &f, tmp.path(), &[]);
    assert_eq!(code(&run.o), 0, "{}", stderr(&run.o));
    // The premise: cycle 1 given up, cycle 2 split, declared A and retired.
    let trace = csv_rows(&run.out, "trace.csv");
    let at = |event: &str, cycle: &str| {
        events(&trace, "quiesce", event)
            .iter()
            .any(|r| r["detail"] == cycle)
    };
    assert!(at("backup-given-up", "cycle 1"));
    for event in ["split", "a-consistent", "archive-copy", "retire"] {
        assert!(at(event, "cycle 2"), "{event}");
    }
    // Cycle 1's own row gives its own reason: it never split.
    let rows = csv_rows(&run.out, "summary.csv");
    assert_eq!(rows[0]["A-isolated"], "not claimed (no split)");
    assert_eq!(rows[0]["A-consistent"], "not claimed (given up)");
    let v = run.verdict();
    for name in [
        "A-isolated",
        "A-consistent",
        "backup-faithful",
        "space-reclaimed",
    ] {
        let case = json_case(&v, "quiesce", name);
        assert_eq!(case["verdict"], "not-claimed", "{name}: {case}");
        assert_eq!(
            case["observed"]["reason"], "no transaction during the backup",
            "{name}: {case}"
        );
    }
}

/// The lost-backup reason counts the deadlines missed by the cycles given up, per
/// cycle, not those of a cycle whose retry then made its copy: three cycles requested
/// within 2,000 ticks each miss theirs three times and are given up, a fourth misses
/// once and retires on its retry.
#[test]
fn the_reason_counts_only_the_lost_cycles_missed_deadlines() {
    let text = r#"
policies = ["quiesce"]
seed = 1
[workload]
kind = "bank"
accounts = 1024
transactions = 300
arrival_ticks_mean = 100
compute_ticks_min = 20
compute_ticks_max = 2000
[backup]
schedule_at_ticks = [5000, 6000, 7000, 30000]
quiesce_deadline_ticks = 300
quiesce_retries_max = 2
quiesce_retry_backoff_ticks = 3000
[archive]
bandwidth_bytes_per_s = 4000000
[geometry]
block_size_bytes = 64
records_per_block = 4
"#;
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "q.toml", text);
    let run = owm_json("run", &f, tmp.path(), &[]);
    assert_eq!(code(&run.o), 0, "{}", stderr(&run.o));
    let trace = csv_rows(&run.out, "trace.csv");
    let cycle_of = |r: &std::collections::BTreeMap<String, String>| {
        r["detail"]
            .split(',')
            .next()
            .unwrap_or_default()
            .to_string()
    };
    let lost: Vec<String> = events(&trace, "quiesce", "backup-given-up")
        .iter()
        .map(|r| cycle_of(r))
        .collect();
    let timeouts = events(&trace, "quiesce", "quiesce-timeout");
    let missed_by_lost = timeouts
        .iter()
        .filter(|r| lost.contains(&cycle_of(r)))
        .count();
    // The premise: some cycle missed a deadline and still made its copy.
    assert!(missed_by_lost < timeouts.len(), "{timeouts:?}");
    assert!(!lost.is_empty());
    // The premise: three cycles given up, three misses each.
    assert_eq!((lost.len(), missed_by_lost), (3, 9), "{lost:?}");
    // Per cycle, never their sum (which reads as one backup missing 9 deadlines).
    let why = "backup given up: quiesce deadline missed 3 times in each of cycles 1, 2, 3";
    let v = run.verdict();
    let said = v["backups_lost"].to_string();
    assert!(said.contains(why), "{said} (expected {why})");
}

/// Write logging's retire that meets a logged block failing its checksum stops there:
/// that cycle is archived but never retired, so VLUN A stays and the requests after it
/// never begin. Over seeds: such a cycle's row says space-reclaimed `not claimed (no
/// retire)` (not `held`), the requests behind it are lost cycles counted in the JSON
/// and named on stdout with that cause (not a backup given up), and at least one seed
/// shows it.
#[test]
fn requests_behind_a_stopped_retire_are_lost_and_that_cycle_reclaimed_nothing() {
    let text = |seed: u64| {
        format!(
            r#"
policies = ["logging"]
seed = {seed}
[workload]
kind = "bank"
accounts = 128
transactions = 200
arrival_ticks_mean = 100
compute_ticks_min = 20
compute_ticks_max = 2000
[backup]
request_at_ticks = 5000
period_ticks = 4000
cycles = 3
[archive]
bandwidth_bytes_per_s = 4000000
[geometry]
block_size_bytes = 64
records_per_block = 4
[device]
integrity = true
[faults]
corrupt_block_probability = 0.03
"#
        )
    };
    let mut stopped = 0;
    for seed in 50..=60 {
        let tmp = tempfile::tempdir().unwrap();
        let f = write(tmp.path(), "m.toml", &text(seed));
        let run = owm_json("run", &f, tmp.path(), &[]);
        let rows = csv_rows(&run.out, "summary.csv");
        let lost = rows.iter().filter(|r| r["backup_given_up"] == "1").count();
        assert_eq!(
            run.verdict()["backup_cycles_lost"].as_u64(),
            Some(lost as u64),
            "seed {seed}"
        );
        for (i, r) in rows.iter().enumerate() {
            let merge_stopped = !r["archive_copy_at_ticks"].is_empty()
                && r["retire_at_ticks"].is_empty()
                && r["backup_given_up"] == "0";
            if !merge_stopped || i + 1 == rows.len() {
                continue;
            }
            stopped += 1;
            assert_eq!(
                r["space-reclaimed"], "not claimed (no retire)",
                "seed {seed}"
            );
            let line = stdout(&run.o)
                .lines()
                .find(|l| l.contains("never began"))
                .map(String::from)
                .unwrap_or_else(|| panic!("seed {seed}: no line:\n{}", stdout(&run.o)));
            assert!(
                line.contains(&format!("cycle {}, archived but never retired", i + 1)),
                "seed {seed}: {line}"
            );
            assert!(!line.contains("given up with its VLUN A kept"), "{line}");
        }
    }
    assert!(stopped > 0, "no retire stopped at a refused block");
}

/// A wait past the setup window is named by the cycle it happened in, as the run
/// counts cycles (each `summary.csv` row, a cycle given up before its split among
/// them): over seeds of three scheduled quiesce backups with a 400-tick freeze limit
/// and one retry, the cycle a non-disruption finding names is the last one requested
/// at or before its wait began (from `trace.csv`), and some finding is in a cycle that
/// was given up without a split while a later cycle split (a wait in a missed
/// attempt was named by the next cycle that split). Each `summary.csv` row counts the
/// waits found by its cycle, a row given up before the wait's cycle `held`.
#[test]
fn a_wait_in_a_cycle_given_up_names_that_cycle() {
    let (mut given_up_named, mut given_up_before) = (0, 0);
    // A second load (a 700-tick setup window, backups 10,000 ticks apart) whose seeds 4
    // and 82 give up a cycle before the one whose wait breaks the limit.
    let seeds = (1..=6u64)
        .map(|s| (s, false))
        .chain([(4, true), (82, true)]);
    for (seed, close) in seeds {
        let text = if close {
            format!(
                "policies = [\"quiesce\"]\nseed = {seed}\n[workload]\nkind = \"generated\"\n\
                 records = 1024\ntransactions = 200\nlength_min = 1\nlength_max = 3\n\
                 write_fraction = 0.6\ncompute_ticks_min = 50\ncompute_ticks_max = 1500\n\
                 arrivals = {{ mode = \"open\", interarrival_ticks_mean = 150 }}\n[backup]\n\
                 schedule_at_ticks = [5000, 15000, 25000]\nquiesce_deadline_ticks = 600\n\
                 setup_window_ticks = 700\nquiesce_retries_max = 1\n\
                 quiesce_retry_backoff_ticks = 1000\n[archive]\nbandwidth_bytes_per_s = 20000000\n"
            )
        } else {
            format!(
                "policies = [\"quiesce\"]\nseed = {seed}\n[workload]\nkind = \"generated\"\n\
                 records = 256\ntransactions = 300\nlength_min = 1\nlength_max = 5\n\
                 compute_ticks_min = 50\ncompute_ticks_max = 1500\n\
                 arrivals = {{ mode = \"open\", interarrival_ticks_mean = 300 }}\n[backup]\n\
                 schedule_at_ticks = [10000, 30000, 60000]\nquiesce_deadline_ticks = 400\n\
                 quiesce_retries_max = 1\nquiesce_retry_backoff_ticks = 2000\n"
            )
        };
        let tmp = tempfile::tempdir().unwrap();
        let f = write(tmp.path(), "q.toml", &text);
        let out = tmp.path().join("o");
        let o = owm(&["run", &f, "--out", &s(&out)]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let said = stdout(&o);
        let Some(line) = said.lines().find(|l| l.contains("non-disruption violated")) else {
            continue;
        };
        let at = line
            .find("): cycle ")
            .unwrap_or_else(|| panic!("no cycle: {line}"));
        let rest = &line[at + 9..];
        let named: usize = rest.split(':').next().unwrap().parse().unwrap();
        let txn = rest
            .split("txn ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap();
        let waited: u64 = rest
            .split("waited ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let trace = csv_rows(&out, "trace.csv");
        let mine: Vec<_> = trace.iter().filter(|r| r["txn"] == txn).collect();
        let tick = |r: &std::collections::BTreeMap<String, String>| -> u64 {
            r["time_ticks"].parse().unwrap()
        };
        // The wait of that length: a wait-begin and the wait-end after it.
        let began = mine
            .windows(2)
            .find(|w| {
                w[0]["event"] == "wait-begin"
                    && w[1]["event"] == "wait-end"
                    && tick(w[1]) - tick(w[0]) == waited
            })
            .map(|w| tick(w[0]))
            .unwrap_or_else(|| panic!("seed {seed}: no wait of {waited} for txn {txn}"));
        let rows = csv_rows(&out, "summary.csv");
        let requested: Vec<u64> = rows
            .iter()
            .map(|r| r["request_at_ticks"].parse().unwrap())
            .collect();
        let want = requested.iter().filter(|&&r| r <= began).count();
        assert_eq!(named, want, "seed {seed}: {line} (requests {requested:?})");
        let row = &rows[named - 1];
        if row["backup_given_up"] == "1"
            && rows[named..]
                .iter()
                .any(|r| !r["vlun_b_ready_at_ticks"].is_empty())
        {
            given_up_named += 1;
        }
        // Each row counts the waits found by its cycle: none before the one named,
        // a row given up included.
        for (k, r) in rows.iter().enumerate() {
            let cell = &r["non-disruption"];
            assert_eq!(
                cell.contains("violated"),
                k + 1 >= named,
                "seed {seed} row {}: {cell}",
                k + 1
            );
            given_up_before += usize::from(k + 1 < named && r["backup_given_up"] == "1");
        }
    }
    assert!(
        given_up_named > 0 && given_up_before > 0,
        "no wait named in a cycle given up before a later split ({given_up_named}), or no \
         row given up before a wait's cycle ({given_up_before})"
    );
}

/// The lost-backup line's gate waits are those of the cycles given up, not the run's:
/// three scheduled quiesce backups of which only the second is given up (seed 3), and
/// the line gives that cycle's `window_gate_wait_ticks_sum` (the others' gates held
/// users too).
#[test]
fn the_given_up_line_counts_the_given_up_cycles_waits_only() {
    let text = "policies = [\"quiesce\"]\nseed = 3\n[workload]\nkind = \"generated\"\n\
        records = 1024\ntransactions = 200\nlength_min = 1\nlength_max = 3\n\
        write_fraction = 0.6\ncompute_ticks_min = 50\ncompute_ticks_max = 1500\n\
        arrivals = { mode = \"open\", interarrival_ticks_mean = 150 }\n[backup]\n\
        schedule_at_ticks = [5000, 15000, 25000]\nquiesce_deadline_ticks = 600\n\
        quiesce_retries_max = 1\nquiesce_retry_backoff_ticks = 1000\n";
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "q.toml", text);
    let out = tmp.path().join("o");
    let o = owm(&["run", &f, "--out", &s(&out)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let rows = csv_rows(&out, "summary.csv");
    let lost: Vec<_> = rows
        .iter()
        .filter(|r| r["backup_given_up"] == "1")
        .collect();
    let others = rows.iter().filter(|r| r["backup_given_up"] == "0");
    assert_eq!(lost.len(), 1, "the premise: one cycle given up");
    assert!(
        others
            .into_iter()
            .any(|r| num(r, "window_gate_wait_ticks_sum") > 0.0),
        "the premise: the other cycles' gates held users too"
    );
    let want = format!(
        " for {} ticks in all (`gate wt`, and `adm`)",
        lost[0]["window_gate_wait_ticks_sum"]
    );
    assert!(stdout(&o).contains(&want), "{want}: {}", stdout(&o));
}

/// A quiesce backup that missed its deadline and then took on a retry says so, as a
/// lost one does: a line on stdout with the misses, and the JSON's `backups_retried`
/// (its copy is whole and judged: nothing is not-claimed, nothing lost). A sweep's
/// JSON lists the grid points so, and a merge of its shards the same; both say how
/// many on stdout. On a seed where
/// the first attempt holds, nothing is said (checked: the premise).
#[test]
fn a_backup_taken_after_missed_quiesce_deadlines_is_said_with_its_misses() {
    let tmp = tempfile::tempdir().unwrap();
    let text = "policies = [\"none\", \"quiesce\"]\n[backup]\nquiesce_deadline_ticks = 20\n\
        quiesce_retries_max = 3\nquiesce_retry_backoff_ticks = 200\n";
    let VerdictRun { o, out, json, .. } = run_with_verdict_files(tmp.path(), "r.toml", text);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let q = &summary_rows(&out)["quiesce"];
    let misses = num(q, "quiesce_timeouts") as u64;
    assert!(
        misses > 0 && q["backup_given_up"] == "0",
        "the premise: {q:?}"
    );
    assert_eq!(num(q, "quiesce_attempts") as u64, misses + 1, "{q:?}");
    let why = format!("quiesce deadline missed {misses} times before the backup took");
    assert!(
        stdout(&o).contains(&format!("backup under quiesce: {why}: req→A ok counts")),
        "{}",
        stdout(&o)
    );
    let v = read_json(&json);
    assert_eq!(
        v["backups_retried"],
        serde_json::json!([format!("quiesce: {why}")])
    );
    assert_eq!(v["backups_lost"], serde_json::json!([]));
    // A generous deadline: the first attempt holds, nothing is said.
    let calm = text.replace(
        "quiesce_deadline_ticks = 20",
        "quiesce_deadline_ticks = 100000",
    );
    let VerdictRun { o, json, .. } = run_with_verdict_files(tmp.path(), "c.toml", &calm);
    assert!(
        !stdout(&o).contains("before the backup took"),
        "{}",
        stdout(&o)
    );
    assert_eq!(read_json(&json)["backups_retried"], serde_json::json!([]));
    // A sweep over the deadline, whole and in two shards merged: the same list.
    let sweep = "policies = [\"quiesce\"]\nseeds = \"1..=2\"\n\
        metrics = [\"response_ticks_mean\"]\nx = \"backup.quiesce_deadline_ticks\"\n\
        [[axis]]\nkey = \"backup.quiesce_deadline_ticks\"\nvalues = [20, 100000]\n\
        [scenario.backup]\nquiesce_retries_max = 3\nquiesce_retry_backoff_ticks = 200\n";
    let f = write(tmp.path(), "sw.toml", sweep);
    let whole = tmp.path().join("whole.json");
    let o = owm(&[
        "sweep",
        &f,
        "--out",
        &s(&tmp.path().join("w")),
        "--json",
        &s(&whole),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let said = "quiesce deadline missed before the backup took at 2 grid points";
    assert!(stdout(&o).contains(said), "{}", stdout(&o));
    let listed = read_json(&whole)["backups_retried"].clone();
    let points = listed.as_array().unwrap();
    assert_eq!(points.len(), 2, "the two seeds at deadline 20: {listed}");
    assert!(
        points
            .iter()
            .all(|p| p.as_str().unwrap().contains("before the backup took")),
        "{listed}"
    );
    let mut shards = Vec::new();
    for k in 1..=2 {
        let d = tmp.path().join(format!("s{k}"));
        let o = owm(&["sweep", &f, "--shard", &format!("{k}/2"), "--out", &s(&d)]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        shards.push(s(&d));
    }
    let merged = tmp.path().join("merged.json");
    let mut args = vec!["merge"];
    args.extend(shards.iter().map(String::as_str));
    let m = s(&tmp.path().join("m"));
    let mj = s(&merged);
    args.extend(["--out", &m, "--json", &mj]);
    let o = owm(&args);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains(said), "{}", stdout(&o));
    assert_eq!(read_json(&merged)["backups_retried"], listed);
}
