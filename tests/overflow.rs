//! A full data area through `owm run`: both overflow policies (`backup.on_data_area_full`),
//! what `summary.csv`, `trace.csv`, the verdict table and the exit status say of each.

use crate::costs::summary_rows;
use crate::util::*;

/// A small copy-on-write / log area (4 slots of 64 blocks) under a slow archive target.
pub fn scenario(on_full: &str) -> String {
    format!(
        r#"
policies = ["mirroring", "logging", "cow"]
seed = 2
name = "overflow"

[workload]
kind = "generated"
records = 256
transactions = 400
write_fraction = 0.7
arrivals = {{ mode = "open", interarrival_ticks_mean = 20 }}

[backup]
data_area_blocks = 4
on_data_area_full = "{on_full}"

[archive]
bandwidth_bytes_per_s = 1000000
"#
    )
}

fn run(on_full: &str) -> (tempfile::TempDir, std::process::Output) {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "overflow.toml", &scenario(on_full));
    let o = owm(&["run", &f, "--out", &s(&tmp.path().join("o"))]);
    (tmp, o)
}

/// Each write the full area refuses aborts its attempt: the backup disrupted a user, so
/// non-disruption is violated (exit 1) at the first refusal, in the words of the other
/// violations; mirroring, with no data area, holds it.
#[test]
fn break_guest_write_aborts_writers_and_completes_the_backup() {
    let (tmp, o) = run("break-guest-write");
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("exit 1"), "{}", stdout(&o));
    let rows = summary_rows(&tmp.path().join("o"));
    for p in ["logging", "cow"] {
        let r = &rows[p];
        assert_eq!(r["non-disruption"], "violated 1", "{p}");
        assert_eq!(r["violations"], "1", "{p}");
        let said = stdout(&o)
            .lines()
            .find(|l| l.starts_with(&format!("violation under {p}: non-disruption violated")))
            .unwrap_or_else(|| panic!("{p}: no violation line\n{}", stdout(&o)))
            .to_string();
        assert!(
            said.contains("'s write of block ")
                && said.contains(" through VLUN B failed at tick ")
                && said
                    .split_once(": the data area (4 blocks) was full (break-guest-write); the attempt was aborted, not retried")
                    // Nothing after it but the attempt's label, where it differs.
                    .is_some_and(|(_, rest)| rest.is_empty()
                        || rest.ends_with(" in the timing diagram and trace.csv's label column)")),
            "{said}"
        );
        assert_eq!(r["data_area_blocks"], "4", "{p}");
        assert_ne!(r["data_area_full_aborts"], "0", "{p}");
        assert_eq!(r["data_area_full_aborts"], r["aborted"], "{p}");
        assert_eq!(r["backup_abandoned"], "0", "{p}");
        assert_eq!(r["abandoned_at_ticks"], "", "{p}");
        assert_ne!(r["archive_copy_at_ticks"], "", "{p}");
        assert_eq!(r["extra_space_blocks_peak"], "4", "{p}");
        assert_eq!(r["A-consistent"], "held", "{p}");
        assert_eq!(r["backup-faithful"], "held", "{p}");
        // Stdout says so, one line per policy, with summary.csv's count and size.
        let line = format!(
            "{} attempts aborted under {p}: the data area (4 blocks) was full (on_data_area_full = \"break-guest-write\"); they rolled back, not retried, and are not in the response figures",
            r["data_area_full_aborts"]
        );
        let text = stdout(&o);
        assert_eq!(text.matches(&line).count(), 1, "{p}: {line}\n{text}");
        // The timing diagram gives the count and marks the aborted attempts among its
        // bars (a red × each, said in the legend).
        let svg =
            String::from_utf8(bytes(&tmp.path().join("o"), &format!("timing-{p}.svg"))).unwrap();
        let said = format!("{} attempts aborted in the run, ", r["aborted"]);
        assert!(svg.contains(&said), "{p}: no \"{said}\"");
        assert!(svg.contains("aborted attempt (red × at its end)"), "{p}");
    }
    // Mirroring has no data area: nothing fills, and no line says it did.
    assert!(
        !stdout(&o).contains("aborted under mirroring"),
        "{}",
        stdout(&o)
    );
    let svg = String::from_utf8(bytes(&tmp.path().join("o"), "timing-mirroring.svg")).unwrap();
    assert!(
        !svg.contains("aborted"),
        "mirroring's diagram shows no abort"
    );
    let m = &rows["mirroring"];
    assert_eq!(
        (m["data_area_blocks"].as_str(), m["aborted"].as_str()),
        ("", "0")
    );
    assert_eq!(m["non-disruption"], "held");
}

/// The refusal's tick, attempt and block in the violation are the first refusal's:
/// trace.csv's first aborted attempt of the policy ends after it, and no attempt of the
/// policy aborted before that tick (every abort here is a refusal's).
#[test]
fn the_violation_names_the_first_refused_write() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "overflow.toml", &scenario("break-guest-write"));
    let r = owm_json("run", &f, tmp.path(), &[]);
    assert_eq!(code(&r.o), 1, "{}", stderr(&r.o));
    let trace = String::from_utf8(bytes(&r.out, "trace.csv")).unwrap();
    for p in ["logging", "cow"] {
        let case = json_case(&r.verdict(), p, "non-disruption").clone();
        assert_eq!(case["verdict"], "violated", "{case}");
        let detail = case["detail"].as_str().unwrap().to_string();
        let words = |after: &str, before: &str| -> u64 {
            let at = detail.find(after).unwrap() + after.len();
            detail[at..at + detail[at..].find(before).unwrap()]
                .parse()
                .unwrap()
        };
        let (txn, tick) = (words("txn ", "'s write"), words("failed at tick ", ":"));
        // policy,time_ticks,event,txn,…,detail: the first `end` row of an aborted attempt.
        let first_abort = trace
            .lines()
            .filter(|l| l.starts_with(&format!("{p},")) && l.contains(",end,"))
            .filter(|l| l.ends_with(",aborted"))
            .map(|l| {
                let cells: Vec<&str> = l.split(',').collect();
                (
                    cells[1].parse::<u64>().unwrap(),
                    cells[3].parse::<u64>().unwrap(),
                )
            })
            .min()
            .unwrap_or_else(|| panic!("{p}: no aborted attempt in trace.csv"));
        assert!(
            first_abort.0 >= tick,
            "{p}: {first_abort:?} before tick {tick}"
        );
        let ended = trace
            .lines()
            .filter(|l| l.starts_with(&format!("{p},")) && l.contains(",end,"))
            .find(|l| l.split(',').nth(3) == Some(txn.to_string().as_str()))
            .unwrap_or_else(|| panic!("{p}: txn {txn} never ended"));
        assert!(ended.ends_with(",aborted"), "{p}: {ended}");
    }
}

/// An area large enough never fills under the same load: no write is refused, no
/// attempt aborts, and non-disruption holds (the violation comes from the refusals).
#[test]
fn a_data_area_large_enough_disrupts_nobody() {
    let text =
        scenario("break-guest-write").replace("data_area_blocks = 4", "data_area_blocks = 60");
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "overflow.toml", &text);
    let o = owm(&["run", &f, "--out", &s(&tmp.path().join("o"))]);
    ok(&o);
    let rows = summary_rows(&tmp.path().join("o"));
    for p in ["logging", "cow"] {
        let r = &rows[p];
        assert_eq!(r["data_area_blocks"], "60", "{p}");
        assert_eq!(r["data_area_full_aborts"], "0", "{p}");
        // Used, not filled.
        let peak: u64 = r["extra_space_blocks_peak"].parse().unwrap();
        assert!(peak > 4 && peak < 60, "{p}: {peak}");
        assert_ne!(r["archive_copy_at_ticks"], "", "{p}");
        assert_eq!(r["non-disruption"], "held", "{p}");
    }
}

/// Over seeds, data-area sizes and the policies with a data area (crash-consistent and
/// quiesce on their copy-on-write baseline too), with areas that fill on some runs
/// only: non-disruption is violated exactly when some attempt's write was refused by
/// the full area (the run's `data_area_full_aborts`) or, under a policy that claims
/// its waits, some single wait of the backup exceeded the setup window (100 ticks;
/// `summary.csv`'s `window_*_wait_ticks_max`). Quiesce claims the refused writes alone:
/// its verdict is `violated` (exit 1) exactly when a write was refused, naming a
/// refused write, not a wait, even when a wait past the window came first; else its
/// waits are `not-claimed`. Every kind of run occurs: refusing and clean, and quiesce
/// refusing after a wait past the window.
#[test]
fn non_disruption_is_violated_iff_a_write_was_refused_or_a_wait_was_too_long() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut refused, mut clean, mut quiesce_waited_and_refused) = (0, 0, 0);
    for area in [40, 48, 60] {
        let text = scenario("break-guest-write")
            .replace(
                "policies = [\"mirroring\", \"logging\", \"cow\"]",
                "policies = [\"quiesce\", \"crash-consistent\", \"logging\", \"cow\"]",
            )
            .replace("seed = 2\n", "")
            .replace(
                "data_area_blocks = 4",
                &format!("data_area_blocks = {area}\nbaseline_variant = \"cow\""),
            );
        let f = write(tmp.path(), &format!("a{area}.toml"), &text);
        for seed in 1..=4u64 {
            let dir = tmp.path().join(format!("a{area}-s{seed}"));
            let r = owm_json("run", &f, &dir, &["--seed", &seed.to_string()]);
            assert!(
                matches!(code(&r.o), 0 | 1),
                "{area} {seed}: {}",
                stderr(&r.o)
            );
            let v = r.verdict();
            for (p, row) in summary_rows(&r.out) {
                let aborts: u64 = row["data_area_full_aborts"].parse().unwrap();
                let waited = [
                    "window_gate_wait_ticks_max",
                    "window_type_b_wait_ticks_max",
                    "window_device_queue_wait_ticks_max",
                    "window_flush_wait_ticks_max",
                ]
                .iter()
                .any(|c| row[*c].parse::<u64>().unwrap_or(0) > 100);
                let case = json_case(&v, &p, "non-disruption");
                let violated = case["verdict"] == "violated";
                let quiesce = p == "quiesce";
                assert_eq!(
                    violated,
                    aborts > 0 || (waited && !quiesce),
                    "area {area} seed {seed} {p}: {aborts} refused, {case}"
                );
                if quiesce && aborts > 0 {
                    let detail = case["detail"].as_str().unwrap();
                    assert!(
                        detail.contains("was full (break-guest-write)"),
                        "area {area} seed {seed}: quiesce's claim is of refused writes: {detail}"
                    );
                    assert_eq!(code(&r.o), 1, "area {area} seed {seed}");
                    // Its waits past the window are said beside the claim, not in it.
                    let cell = &row["non-disruption"];
                    assert!(cell.starts_with("violated "), "{cell}");
                    assert_eq!(
                        cell.contains("; waits not claimed (violated "),
                        waited,
                        "area {area} seed {seed}: {cell}"
                    );
                    // The JSON case says them too, beside its claimed verdict.
                    let part = &case["not_claimed_part"];
                    assert_eq!(part.is_null(), !waited, "{case}");
                    if waited {
                        assert_eq!(part["verdict"], "violated", "{case}");
                        assert!(
                            part["detail"].as_str().unwrap().contains(" waited "),
                            "{case}"
                        );
                    }
                    quiesce_waited_and_refused += u64::from(waited);
                } else if quiesce {
                    let not = if waited { "violated" } else { "held" };
                    assert_eq!(case["verdict"], "not-claimed", "{case}");
                    assert_eq!(case["observed"]["verdict"], not, "{case}");
                }
                if aborts > 0 {
                    refused += 1;
                } else {
                    clean += 1;
                }
            }
        }
    }
    assert!(
        refused > 0 && clean > 0 && quiesce_waited_and_refused > 0,
        "{refused} refusing runs, {clean} clean, {quiesce_waited_and_refused} quiesce runs \
         that waited past the window and refused"
    );
}

#[test]
fn break_snapshot_abandons_the_backup_and_says_so() {
    let (tmp, o) = run("break-snapshot");
    ok(&o);
    let text = stdout(&o);
    assert!(text.contains("exit 0"), "{text}");
    let out = tmp.path().join("o");
    let rows = summary_rows(&out);
    for p in ["logging", "cow"] {
        let r = &rows[p];
        assert_eq!(r["backup_abandoned"], "1", "{p}");
        assert_ne!(r["abandoned_at_ticks"], "", "{p}");
        assert_eq!(r["archive_copy_at_ticks"], "", "{p}");
        assert_eq!(
            (r["aborted"].as_str(), r["data_area_full_aborts"].as_str()),
            ("0", "0"),
            "{p}"
        );
        assert_eq!(r["extra_space_blocks_end"], "0", "{p}");
        assert_eq!(r["A-consistent"], "not claimed (abandoned)", "{p}");
        assert_eq!(r["backup-faithful"], "not claimed (abandoned)", "{p}");
        assert_eq!(r["B-complete"], "held", "{p}");
        assert_eq!(r["non-disruption"], "held", "{p}");
        assert_eq!(r["violations"], "0", "{p}");
    }
    // Nothing aborted: no line of aborted attempts.
    assert!(!text.contains("attempts aborted under"), "{text}");
    assert!(!text.contains("attempt aborted under"), "{text}");
    assert_eq!(rows["mirroring"]["backup_abandoned"], "0");
    assert_ne!(rows["mirroring"]["archive_copy_at_ticks"], "");
    let trace = String::from_utf8(bytes(&out, "trace.csv")).unwrap();
    let abandoned: Vec<&str> = trace
        .lines()
        .filter(|l| l.contains(",backup-abandoned,"))
        .collect();
    assert_eq!(abandoned.len(), 2, "{abandoned:?}");
    assert!(!trace
        .lines()
        .any(|l| l.starts_with("cow,") && l.contains(",archive-copy,")));
    // No retire without an archive: VLUN A is dropped (`a-dropped`, after the
    // abandonment), and retire_at_ticks stays empty; mirroring retires.
    for p in ["logging", "cow"] {
        assert_eq!(rows[p]["retire_at_ticks"], "", "{p}");
        let mine = |e: &str| {
            trace
                .lines()
                .position(|l| l.starts_with(&format!("{p},")) && l.contains(&format!(",{e},")))
        };
        assert_eq!(mine("retire"), None, "{p}");
        let (ab, dropped) = (
            mine("backup-abandoned").unwrap(),
            mine("a-dropped").unwrap(),
        );
        assert!(ab < dropped, "{p}");
        // The data area is freed when the drop's own I/O completes (the `a-dropped`
        // row), not at the abandonment: extra_space.csv holds it until then.
        let at = |line: usize| -> f64 {
            trace
                .lines()
                .nth(line)
                .unwrap()
                .split(',')
                .nth(1)
                .unwrap()
                .parse()
                .unwrap()
        };
        let (ab_at, dropped_at) = (at(ab), at(dropped));
        // Write logging's merge takes time: the drop completes later.
        assert!(
            p != "logging" || dropped_at > ab_at,
            "{p}: {ab_at} {dropped_at}"
        );
        let series: Vec<(f64, f64)> = csv_rows(&out, "extra_space.csv")
            .iter()
            .filter(|r| r["policy"] == p)
            .map(|r| (num(r, "time_ticks"), num(r, "data_area_used_blocks")))
            .collect();
        let held = series.iter().rev().find(|(t, _)| *t < ab_at).map(|x| x.1);
        assert!(held > Some(0.0), "{p}: {series:?}");
        let freed = series.iter().find(|(t, d)| *t >= ab_at && *d == 0.0);
        assert_eq!(freed.map(|x| x.0), Some(dropped_at), "{p}: {series:?}");
        // stdout: a line says so, and the headline table shows no request → A
        // consistent figure for the abandoned rows.
        assert!(
            text.contains(&format!("backup abandoned under {p} at "))
                && text.contains("(data area full): VLUN A dropped with no archive; not claimed: A-consistent, backup-faithful"),
            "{text}"
        );
        let row = table_row(&text, p);
        assert!(row.contains(" abandoned "), "{row}");
    }
    assert_ne!(rows["mirroring"]["retire_at_ticks"], "");
    assert!(!text.contains("backup abandoned under mirroring"), "{text}");
    assert!(
        text.contains("; 2 backup cycles given up or abandoned (in 2 policies); exit 0)"),
        "{text}"
    );
}

/// The data-area keys are validated like every other: file, line, key, exit 2.
#[test]
fn bad_data_area_keys_name_file_line_and_key() {
    let cases = [
        (
            "[backup]\ndata_area_blocks = 0\n",
            2,
            "backup.data_area_blocks",
            "at least 1",
        ),
        (
            "[backup]\ndata_area_fraction = 1.5\n",
            2,
            "backup.data_area_fraction",
            "out of range",
        ),
        (
            "[backup]\ndata_area_fraction = 0.0\n",
            2,
            "backup.data_area_fraction",
            "out of range",
        ),
        (
            "[backup]\ndata_area_blocks = 3\ndata_area_fraction = 0.5\n",
            3,
            "backup.data_area_fraction",
            "not both",
        ),
        (
            "[backup]\non_data_area_full = \"retry\"\n",
            2,
            "backup.on_data_area_full",
            "unknown variant",
        ),
    ];
    refused_at_their_keys(&cases);
}

/// `scenarios/sweep-overflow.toml` shows what its comment says: with a small data area
/// every seed aborts writers (break-guest-write) or abandons its backup
/// (break-snapshot), a data area of 40 % fills on some seeds only, the whole volume
/// never; each policy does only its own kind of damage.
#[test]
fn the_shipped_overflow_sweep_shows_both_policies() {
    let tmp = tempfile::tempdir().unwrap();
    // Exit 1: break-guest-write's refused writes violate non-disruption.
    let o = owm(&[
        "sweep",
        "scenarios/sweep-overflow.toml",
        "--out",
        &s(tmp.path()),
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stdout(&o).lines().any(|l| l.contains("break-guest-write")
            && l.contains("non-disruption violated")
            && l.contains("was full (break-guest-write); the attempt was aborted")),
        "{}",
        stdout(&o)
    );
    // An abandoned backup fails no user's write (a user queued long behind the
    // archive's reads is another matter, judged at every point alike).
    assert!(
        !stdout(&o)
            .lines()
            .any(|l| l.contains("on_data_area_full=break-snapshot")
                && l.contains("violated")
                && l.contains("was full")),
        "{}",
        stdout(&o)
    );
    let (header, rows) = csv_table(tmp.path(), "stats.csv");
    let col = |name: &str| col(&header, name);
    let (fraction, on_full, policy, metric, mean) = (
        col("backup.data_area_fraction"),
        col("backup.on_data_area_full"),
        col("policy"),
        col("metric"),
        col("mean"),
    );
    let mut seen = 0;
    for r in &rows {
        let m: f64 = r[mean].parse().unwrap();
        let what = format!(
            "{} {} {} {}: {m}",
            r[fraction], r[on_full], r[policy], r[metric]
        );
        let snapshot = r[on_full] == "break-snapshot";
        match (r[metric].as_str(), r[fraction].as_str()) {
            ("backup_abandoned", _) if !snapshot => assert_eq!(m, 0.0, "{what}"),
            ("data_area_full_aborts", _) if snapshot => assert_eq!(m, 0.0, "{what}"),
            ("backup_abandoned" | "data_area_full_aborts", "1") => assert_eq!(m, 0.0, "{what}"),
            ("backup_abandoned", "0.02" | "0.05" | "0.1" | "0.25") => {
                assert_eq!(m, 1.0, "{what}")
            }
            ("backup_abandoned", "0.4") => assert!(m > 0.0 && m < 1.0, "{what}"),
            ("data_area_full_aborts", _) => assert!(m > 0.0, "{what}"),
            _ => continue,
        }
        seen += 1;
    }
    assert_eq!(seen, 6 * 2 * 2 * 2, "{rows:?}");
}

/// Transfers running through a `crash-consistent` split over a one-slot log area:
/// one that wrote a block through VLUN A before the split and aborts after it (its
/// next write refused by the full area) must write that block back through VLUN B,
/// which needs a slot. The run used to end in the engine's `data area full` error
/// (exit 2); the rollback is never refused, so the backup is abandoned, the rollback
/// goes through, and the run ends with exit 0, saying so: under the default
/// `break-guest-write`, which refuses only the users' writes, the line and the JSON
/// say that a rollback needed the slot (a plain "data area full" reads as
/// `break-snapshot`'s outcome); under `break-snapshot` the reason is the full area.
#[test]
fn a_rollback_that_needs_a_slot_abandons_the_backup_and_the_run_ends() {
    let text = "policies = [\"crash-consistent\"]\nseed = 5\n\
         [workload]\nkind = \"bank\"\naccounts = 256\ntransactions = 300\n\
         arrival_ticks_mean = 60\ncompute_ticks_min = 20\ncompute_ticks_max = 800\n\
         [archive]\nbandwidth_bytes_per_s = 1000000\n\
         [backup]\nbaseline_variant = \"logging\"\ndata_area_blocks = 1\n";
    let rollback =
        "data area full: a rollback needed a slot, which break-guest-write cannot refuse";
    // Under break-guest-write the attempt's own write was refused first (the rollback
    // came of its abort): non-disruption is violated, exit 1; break-snapshot refuses
    // no write.
    for (setting, why, exit) in [
        ("", rollback, 1),
        (
            "on_data_area_full = \"break-snapshot\"\n",
            "data area full",
            0,
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let VerdictRun { o, json, .. } =
            run_with_verdict_files(tmp.path(), "r.toml", &format!("{text}{setting}"));
        assert_eq!(code(&o), exit, "{setting}: {}", stderr(&o));
        let (out, err) = (stdout(&o), stderr(&o));
        assert!(!err.contains("data area full (1 slots)"), "{err}");
        assert!(
            out.contains("backup abandoned under crash-consistent at")
                && out.contains(&format!(
                    " ticks ({why}): VLUN A dropped with no archive; not claimed: A-consistent, backup-faithful"
                )),
            "{setting}: {out}"
        );
        let v = read_json(&json);
        let disrupted = json_case(&v, "crash-consistent", "non-disruption");
        if exit == 1 {
            assert!(out.contains("1 violated"), "{out}");
            assert_eq!(disrupted["verdict"], "violated", "{disrupted}");
        } else {
            assert!(out.contains("0 violated"), "{out}");
            assert_eq!(disrupted["verdict"], "held", "{disrupted}");
        }
        assert_eq!(
            v["backups_lost"][0],
            format!("crash-consistent: backup abandoned: {why}"),
            "{v}"
        );
        let case = json_case(&v, "crash-consistent", "A-consistent");
        assert_eq!(
            case["policy"],
            format!("crash-consistent (backup abandoned: {why})"),
            "{case}"
        );
    }
}

/// Three cycles 5,000 ticks apart under a slow archive target: the data area fills in
/// cycles 1 and 2 (`break-snapshot` drops their VLUN A mid-copy), and cycle 3 splits,
/// archives and retires its own VLUN A. The abandoned copies' pending reads and
/// landings do not act on cycle 3 (they once retired it twice: an engine error, exit
/// 2, nothing written): the run ends with exit 0, every output written, the verdict
/// line counting the two lost cycles, and one archive and one retire, cycle 3's.
#[test]
fn cycles_abandoned_mid_copy_leave_the_next_cycle_its_own_archive() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "abandoned-cycles.toml",
        r#"
policies = ["cow"]
seed = 2

[workload]
kind = "bank"
accounts = 256
transactions = 300
arrival_ticks_mean = 60
compute_ticks_min = 20
compute_ticks_max = 800

[backup]
period_ticks = 5000
cycles = 3
data_area_blocks = 30
on_data_area_full = "break-snapshot"

[archive]
bandwidth_bytes_per_s = 1000000
"#,
    );
    let out = tmp.path().join("o");
    let o = owm(&["run", &f, "--out", &s(&out)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("; 2 backup cycles given up or abandoned (in 1 policy); exit 0)"),
        "{text}"
    );
    assert!(text.contains("2 backups abandoned under cow at "), "{text}");
    for file in ["summary.csv", "trace.csv", "extra_space.csv", "timing.svg"] {
        assert!(out.join(file).is_file(), "{file} not written");
    }
    let trace = String::from_utf8(bytes(&out, "trace.csv")).unwrap();
    let details = |event: &str| -> Vec<String> {
        trace
            .lines()
            .filter(|l| l.contains(&format!(",{event},")))
            .map(|l| {
                l.splitn(9, ',')
                    .nth(8)
                    .unwrap()
                    .trim_matches('"')
                    .to_string()
            })
            .collect()
    };
    assert_eq!(details("backup-abandoned").len(), 2, "{trace}");
    assert_eq!(
        details("a-dropped"),
        ["cycle 1, no archive", "cycle 2, no archive"]
    );
    assert_eq!(details("archive-copy"), ["cycle 3"]);
    assert_eq!(details("retire"), ["cycle 3"]);
}

/// A data area of one slot is said as one: `the data area (1 block) was full`, the
/// count and its unit word agreeing, in the line of aborted attempts and in the
/// non-disruption violation the refused writes make (exit 1).
#[test]
fn a_one_slot_data_area_is_one_block() {
    let (_t, _f, o) = run_file("policies = [\"cow\"]\n[backup]\ndata_area_fraction = 1e-12\n");
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("the data area (1 block) was full (on_data_area_full"),
        "{out}"
    );
    assert!(
        out.contains(
            "the data area (1 block) was full (break-guest-write); the attempt was aborted"
        ),
        "{out}"
    );
    assert!(!out.contains("1 blocks"), "{out}");
}

/// In a run of several cycles every non-disruption violation names its cycle, a wait
/// past the setup window as a refused write does, and each policy's `summary.csv` row
/// of cycle `r` counts exactly the violations it claims from cycles up to `r` (the
/// search found them by then; a later cycle's are not that row's), its unclaimed
/// waits beside it under quiesce. Over seeds, both kinds occur, and some row is held
/// before a later cycle's violation.
#[test]
fn each_cycle_row_counts_the_disruptions_found_by_its_cycle() {
    // Three cycles over a load that fills a 30 % data area in some of them.
    let text = "policies = [\"quiesce\", \"crash-consistent\", \"logging\", \"cow\"]\n\
        [workload]\nkind = \"generated\"\nrecords = 1024\ntransactions = 400\n\
        length_min = 1\nlength_max = 6\nwrite_fraction = 0.7\n\
        compute_ticks_min = 20\ncompute_ticks_max = 1000\n\
        arrivals = { mode = \"open\", interarrival_ticks_mean = 60 }\n\
        hot_spot = { shape = \"zipf\", exponent = 0.5 }\n\
        [archive]\nbandwidth_bytes_per_s = 5000000\n\
        [locking]\ngranularity = \"block\"\n\
        [backup]\ndata_area_fraction = 0.3\non_data_area_full = \"break-guest-write\"\n\
        baseline_variant = \"cow\"\nschedule_at_ticks = [500, 12000, 40000]\n\
        setup_window_ticks = 20\n";
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "cycles.toml", text);
    let (mut waits, mut refusals, mut held_before_later) = (0, 0, 0);
    for seed in 1..=4u64 {
        let out = tmp.path().join(format!("s{seed}"));
        let o = owm(&["run", &f, "--out", &s(&out), "--seed", &seed.to_string()]);
        assert!(matches!(code(&o), 0 | 1), "{}", stderr(&o));
        let said = stdout(&o);
        let rows = std::fs::read_to_string(out.join("summary.csv")).unwrap();
        let mut lines = rows.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let at = |name: &str| header.iter().position(|h| *h == name).unwrap();
        let (policy, cycle, nd) = (at("policy"), at("cycle"), at("non-disruption"));
        for p in ["quiesce", "crash-consistent", "logging", "cow"] {
            // The cycle of each violation said under the table, claimed or not.
            let found = |prefix: &str| -> Vec<(u32, bool)> {
                said.lines()
                    .filter_map(|l| l.strip_prefix(&format!("{prefix} {p}")))
                    .filter(|l| l.contains("non-disruption violated"))
                    .map(|l| {
                        let at = l
                            .find("): cycle ")
                            .unwrap_or_else(|| panic!("no cycle: {l}"));
                        let n: u32 = l[at + 9..].split(':').next().unwrap().parse().unwrap();
                        (n, l.contains("was full (break-guest-write)"))
                    })
                    .collect()
            };
            let claimed = found("violation under");
            let unclaimed = found("not claimed by");
            waits += claimed.iter().chain(&unclaimed).filter(|v| !v.1).count();
            refusals += claimed.iter().filter(|v| v.1).count();
            for row in rows.lines().skip(1) {
                let cells: Vec<&str> = row.split(',').collect();
                if cells[policy] != p {
                    continue;
                }
                let r: u32 = cells[cycle].parse().unwrap();
                let by = |v: &[(u32, bool)]| v.iter().filter(|(n, _)| *n <= r).count();
                let want = match (by(&claimed), by(&unclaimed)) {
                    (0, 0) => "held".to_string(),
                    (0, w) if p == "quiesce" && claimed.is_empty() => {
                        format!("not claimed (violated {w})")
                    }
                    (0, w) => format!("held; waits not claimed (violated {w})"),
                    (c, 0) => format!("violated {c}"),
                    (c, w) => format!("violated {c}; waits not claimed (violated {w})"),
                };
                let want = if p == "quiesce" && claimed.is_empty() && unclaimed.is_empty() {
                    "not claimed".to_string()
                } else {
                    want
                };
                assert_eq!(cells[nd], want, "seed {seed} {p} cycle {r}:\n{said}");
                held_before_later += u32::from(cells[nd] == "held" && !claimed.is_empty());
            }
        }
    }
    assert!(
        waits > 0 && refusals > 0 && held_before_later > 0,
        "{waits} waits, {refusals} refusals, {held_before_later} held rows before a later \
         cycle's violation"
    );
}
