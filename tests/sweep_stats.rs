//! Replications and intervals: `stats.csv`, the paired comparisons against a
//! baseline, the seed forms, and the shipped sweeps' intervals.

use std::collections::BTreeMap;
use std::path::Path;

use crate::util::*;

/// `stats.csv` of `dir` as (header, rows).
fn stats(dir: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    csv_table(dir, "stats.csv")
}

/// The admission sweep's scenario at one load, with `seeds`.
fn admission_at_20(seeds: &str) -> String {
    let shipped = std::fs::read_to_string(repo().join("scenarios/sweep-admission.toml")).unwrap();
    let base = &shipped[shipped.find("\n[scenario]\n").unwrap()..];
    format!(
        "policies = [\"quiesce\", \"mirroring\", \"cow\"]\nseeds = {seeds}\nbaseline = \"quiesce\"\n\
         metrics = [\"admission_delay_ticks_mean\", \"response_ticks_mean\", \"response_ticks_p99\"]\n\
         [[axis]]\nkey = \"workload.arrivals.interarrival_ticks_mean\"\nvalues = [20]\n{base}"
    )
}

/// Half-widths of the 95 % intervals, by (policy, metric); `None` where the seeds all
/// gave the same value (no interval).
fn half_widths(dir: &Path) -> Vec<((String, String), Option<f64>)> {
    let (h, rows) = stats(dir);
    let (p, m, lo, hi, differ) = (
        col(&h, "policy"),
        col(&h, "metric"),
        col(&h, "ci95_low"),
        col(&h, "ci95_high"),
        col(&h, "seeds_differ"),
    );
    rows.iter()
        .map(|r| {
            let w = (r[differ] == "true")
                .then(|| (r[hi].parse::<f64>().unwrap() - r[lo].parse::<f64>().unwrap()) / 2.0);
            ((r[p].clone(), r[m].clone()), w)
        })
        .collect()
}

/// From 10 to 40 seeds the interval narrows about as 1/√n: by 2 × t(0.975, 9) /
/// t(0.975, 39) ≈ 2.24 when the standard deviation stays put.
#[test]
fn intervals_shrink_as_one_over_sqrt_n_from_10_to_40_seeds() {
    let tmp = tempfile::tempdir().unwrap();
    let mut widths = Vec::new();
    for (name, seeds) in [("s10", "\"1..=10\""), ("s40", "{ count = 40, first = 1 }")] {
        let file = write(tmp.path(), &format!("{name}.toml"), &admission_at_20(seeds));
        let out = tmp.path().join(name);
        // At this load users queue behind the archive's reads past the setup window
        // (non-disruption violated at some points): the intervals are what is tested.
        ok(&owm(&[
            "sweep",
            &file,
            "--out",
            &s(&out),
            "--allow-violations",
        ]));
        widths.push(half_widths(&out));
    }
    let mut ratios = Vec::new();
    for ((key, w10), (key40, w40)) in widths[0].iter().zip(&widths[1]) {
        assert_eq!(key, key40);
        if let (Some(w10), Some(w40)) = (w10, w40) {
            assert!(*w10 > 0.0 && *w40 > 0.0, "{key:?}");
            ratios.push((key.clone(), w10 / w40));
        }
    }
    assert!(ratios.len() >= 6, "{ratios:?}");
    let mean = ratios.iter().map(|r| r.1).sum::<f64>() / ratios.len() as f64;
    assert!((1.7..=2.8).contains(&mean), "mean ratio {mean}: {ratios:?}");
    for (key, r) in &ratios {
        assert!((1.2..=4.0).contains(r), "{key:?}: {r} ({ratios:?})");
    }
}

/// Every policy sees the same arrivals for a seed, so the seed-by-seed difference to
/// the baseline has a narrower interval than the difference of two independent means.
#[test]
fn paired_intervals_are_narrower_than_unpaired_on_the_admission_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    // The admission sweep demonstrates a violation (its comment says which).
    ok(&owm(&[
        "sweep",
        "scenarios/sweep-admission.toml",
        "--out",
        &s(tmp.path()),
        "--allow-violations",
    ]));
    let (h, rows) = stats(tmp.path());
    let (p, m) = (col(&h, "policy"), col(&h, "metric"));
    let (lo, hi, un) = (
        col(&h, "diff_ci95_low"),
        col(&h, "diff_ci95_high"),
        col(&h, "unpaired_ci95_half_width"),
    );
    let (mut paired_sum, mut unpaired_sum, mut responses) = (0.0, 0.0, 0);
    let mut significant = 0;
    for r in rows.iter().filter(|r| r[p] != "quiesce") {
        let paired = (r[hi].parse::<f64>().unwrap() - r[lo].parse::<f64>().unwrap()) / 2.0;
        let unpaired: f64 = r[un].parse().unwrap();
        match r[m].as_str() {
            // The response time carries the load, common to every policy on a seed:
            // pairing cancels it.
            "response_ticks_mean" => {
                assert!(paired < unpaired / 1.15, "{r:?}");
                responses += 1;
            }
            // The admission delays are hardly correlated across policies: narrower on
            // the whole, not at every point.
            "admission_delay_ticks_mean" | "admission_delay_ticks_p99" => {
                paired_sum += paired;
                unpaired_sum += unpaired;
            }
            _ => {}
        }
        if r[m] == "admission_delay_ticks_mean" {
            // The one-way mirror's mean admission delay is below quiesce's: the
            // difference is negative, and significant at most loads.
            assert!(
                r[col(&h, "diff_mean")].parse::<f64>().unwrap() < 0.0,
                "{r:?}"
            );
            significant += usize::from(r[col(&h, "diff_excludes_0")] == "true");
        }
    }
    assert_eq!(responses, 5 * 3);
    assert!(significant >= 2 * 3, "{significant}");
    assert!(paired_sum < unpaired_sum, "{paired_sum} vs {unpaired_sum}");
    assert!(names(tmp.path()).contains(&"admission_delay_ticks_mean--vs-quiesce.svg".to_string()));
}

/// The shipped sweeps replicate at least 20 seeds per point and draw the intervals
/// (a plot with none anywhere saying so).
#[test]
fn shipped_sweeps_have_at_least_20_seeds_and_show_intervals() {
    for sweep in ["sweep-admission", "sweep-space", "sweep-overflow"] {
        let tmp = tempfile::tempdir().unwrap();
        ok(&owm(&[
            "sweep",
            &format!("scenarios/{sweep}.toml"),
            "--out",
            &s(tmp.path()),
            "--allow-violations",
        ]));
        let (h, rows) = stats(tmp.path());
        let n = col(&h, "n");
        assert!(
            rows.iter().all(|r| r[n].parse::<u64>().unwrap() >= 20),
            "{sweep}"
        );
        let svgs: Vec<String> = names(tmp.path())
            .into_iter()
            .filter(|f| f.ends_with(".svg"))
            .collect();
        assert!(!svgs.is_empty());
        // Every plot says its intervals; one where no point has any (every seed gave
        // the same value at every point: each point ringed) says so instead.
        let mut with = 0;
        for f in svgs {
            let svg = String::from_utf8(bytes(tmp.path(), &f)).unwrap();
            if svg.contains("seeds, 95 % CI") {
                with += 1;
            } else {
                assert!(svg.contains("seeds, no 95 % CI"), "{sweep}/{f}");
                assert!(svg.contains("ringed: "), "{sweep}/{f}");
            }
        }
        assert!(with > 0, "{sweep}: no plot with intervals");
    }
}

#[test]
fn bad_seed_forms_and_baselines_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for (seeds, says) in [("\"1..30\"", "1..=30"), ("[2, 2]", "twice")] {
        let file = write(tmp.path(), "bad.toml", &admission_at_20(seeds));
        fails_with(&owm(&["sweep", &file]), &["bad.toml", says]);
    }
    // A seed `owm run --seed` would not take: refused at the `seeds` line with the
    // range, so every grid point (a violating one too) can be run again alone.
    for seeds in [
        "\"9223372036854775807..=9223372036854775808\"",
        "\"18446744073709551614..=18446744073709551615\"",
        "{ count = 3, first = 9223372036854775806 }",
    ] {
        let file = write(tmp.path(), "bad.toml", &admission_at_20(seeds));
        let o = owm(&["sweep", &file]);
        assert_eq!(code(&o), 2, "{seeds}: {}", stderr(&o));
        fails_with(
            &o,
            &[
                "bad.toml:2",
                "is past 2^63 - 1",
                "a seed is in 0..=9223372036854775807",
            ],
        );
    }
    let text =
        admission_at_20("[1, 2]").replace("baseline = \"quiesce\"", "baseline = \"logging\"");
    let file = write(tmp.path(), "bad.toml", &text);
    fails_with(
        &owm(&["sweep", &file]),
        &["bad.toml:3", "baseline", "not one of the sweep's policies"],
    );
    // A baseline that is the only policy pairs with nothing.
    let text = admission_at_20("[1, 2]").replace(
        "policies = [\"quiesce\", \"mirroring\", \"cow\"]",
        "policies = [\"quiesce\"]",
    );
    let file = write(tmp.path(), "bad.toml", &text);
    let o = owm(&["sweep", &file]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            "bad.toml:3",
            "baseline",
            "`quiesce` is the sweep's only policy: nothing to pair with it",
        ],
    );
}

/// `diff_excludes_0` claims nothing where no interval was computed: empty when the
/// baseline has no value for the metric (`none`'s window metric: no difference, and
/// no `--vs-none` plot for it, never an empty frame) and when one seed pairs (a
/// difference but no interval); `true` or `false` wherever the interval exists.
#[test]
fn no_interval_makes_no_significance_claim_and_no_empty_difference_plot() {
    let tmp = tempfile::tempdir().unwrap();
    let text = |seeds: &str| {
        format!(
            "policies = [\"none\", \"cow\"]\nseeds = {seeds}\nbaseline = \"none\"\n\
             metrics = [\"window_response_ticks_p99\", \"response_ticks_mean\"]\n\
             [[axis]]\nkey = \"workload.write_fraction\"\nvalues = [0.1, 0.9]\n\
             [scenario.workload]\nkind = \"generated\"\ntransactions = 300\n"
        )
    };
    for (name, seeds) in [("three", "\"1..=3\""), ("one", "[1]")] {
        let f = write(tmp.path(), &format!("{name}.toml"), &text(seeds));
        let out = tmp.path().join(name);
        ok(&owm(&["sweep", &f, "--quiet", "--out", &s(&out)]));
        let (h, rows) = stats(&out);
        let (p, m) = (col(&h, "policy"), col(&h, "metric"));
        let (d, lo, ex) = (
            col(&h, "diff_mean"),
            col(&h, "diff_ci95_low"),
            col(&h, "diff_excludes_0"),
        );
        let cow: Vec<&Vec<String>> = rows.iter().filter(|r| r[p] == "cow").collect();
        assert_eq!(cow.len(), 4, "{rows:?}");
        for r in &cow {
            // An empty interval, and only then, leaves the claim empty.
            assert_eq!(r[ex].is_empty(), r[lo].is_empty(), "{name}: {r:?}");
            if !r[ex].is_empty() {
                assert!(r[ex] == "true" || r[ex] == "false", "{r:?}");
            }
            match r[m].as_str() {
                "window_response_ticks_p99" => assert!(r[d].is_empty(), "{r:?}"),
                _ => assert!(!r[d].is_empty(), "{r:?}"),
            }
        }
        // With three seeds the response difference has its interval and its claim.
        let response_claims = cow
            .iter()
            .filter(|r| r[m] == "response_ticks_mean" && !r[ex].is_empty())
            .count();
        assert_eq!(
            response_claims,
            if name == "three" { 2 } else { 0 },
            "{name}"
        );
        let plots = names(&out);
        assert!(!plots
            .iter()
            .any(|n| n.starts_with("window_response_ticks_p99--vs-")));
        assert!(plots.contains(&"window_response_ticks_p99.svg".to_string()));
        assert!(plots.contains(&"response_ticks_mean--vs-none.svg".to_string()));
    }
}

/// `stats.csv` of a sweep into `dir/name`, as rows keyed by column, and the sweep's
/// stdout.
fn stats_of(dir: &Path, name: &str, text: &str) -> (Vec<BTreeMap<String, String>>, String) {
    let f = write(dir, &format!("{name}.toml"), text);
    let out = dir.join(name);
    let o = owm(&["sweep", &f, "--quiet", "--out", &s(&out)]);
    ok(&o);
    (csv_rows(&out, "stats.csv"), stdout(&o))
}

/// A trace replayed with its recorded timing gives every seed the same admission
/// delays, copies and space: the seeds are no replications of those metrics, so
/// stats.csv reports no interval for them and claims no difference significant (and
/// the plots draw no error bar there, ringing the points, the legend saying why); `owm
/// sweep` says so in one line. A seeded generated load keeps its intervals.
#[test]
fn seeds_that_cannot_differ_report_no_interval() {
    let tmp = tempfile::tempdir().unwrap();
    let trace = repo().join("tests/data/traces/fio-randrw.iolog");
    let flat = [
        "admission_delay_ticks_mean",
        "physical_writes_per_logical_write",
    ];
    let text = format!(
        "policies = [\"quiesce\", \"cow\"]\nseeds = \"1..=4\"\nbaseline = \"quiesce\"\n\
         metrics = [\"{}\", \"{}\"]\n\
         [[axis]]\nkey = \"workload.compute_ticks\"\nvalues = [20, 40]\n\
         [scenario.workload]\nkind = \"trace\"\npath = \"{}\"\nformat = \"fio-iolog\"\n\
         timing = \"recorded\"\ntime_scale = 0.05\ngrouping = \"io\"\n\
         [scenario.geometry]\nblock_size_bytes = 4096\nrecords_per_block = 1\n",
        flat[0],
        flat[1],
        s(&trace)
    );
    let (rows, out) = stats_of(tmp.path(), "trace", &text);
    assert_eq!(rows.len(), 2 * 2 * 2, "{rows:?}");
    for r in &rows {
        assert_eq!(r["n"], "4", "{r:?}");
        assert_eq!(
            (r["sd"].as_str(), r["seeds_differ"].as_str()),
            ("0.0000", "false"),
            "{r:?}"
        );
        assert!(
            r["ci95_low"].is_empty() && r["ci95_high"].is_empty(),
            "{r:?}"
        );
        if r["policy"] == "cow" {
            assert!(!r["diff_mean"].is_empty(), "{r:?}");
            assert_eq!(r["diff_seeds_differ"], "false", "{r:?}");
            for c in [
                "diff_ci95_low",
                "diff_ci95_high",
                "diff_excludes_0",
                "unpaired_ci95_half_width",
            ] {
                assert!(r[c].is_empty(), "{c}: {r:?}");
            }
        }
    }
    // Once per sweep, naming the metrics and how many rows.
    let said: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("stats.csv:"))
        .collect();
    assert_eq!(said.len(), 1, "{out}");
    for m in flat {
        assert_eq!(
            said[0].matches(&format!("{m} in 4 of 4 rows")).count(),
            1,
            "{out}"
        );
        assert_eq!(
            said[0].matches(&format!("{m} in 2 of 4 rows")).count(),
            1,
            "{out}"
        );
    }
    assert!(said[0].contains("no 95 % CI reported"), "{out}");
    assert!(said[0].contains("no significance claimed"), "{out}");
    // No error bar: every point ringed, the legend saying why.
    let dir = tmp.path().join("trace");
    for plot in [
        "admission_delay_ticks_mean.svg",
        "admission_delay_ticks_mean--vs-quiesce.svg",
    ] {
        let svg = String::from_utf8(bytes(&dir, plot)).unwrap();
        let why = if plot.contains("--vs-") {
            "pairs"
        } else {
            "seeds"
        };
        assert!(
            svg.contains(&format!("ringed: no spread across {why}, no 95 % CI")),
            "{plot}"
        );
    }

    // A generated load draws its arrivals and shapes from the seed: intervals, with
    // the mean inside them, and a claim either way; its backups are never abandoned,
    // whatever the seed: that metric alone has no interval.
    let text = "policies = [\"quiesce\", \"cow\"]\nseeds = \"1..=4\"\nbaseline = \"quiesce\"\n\
         metrics = [\"response_ticks_mean\", \"backup_abandoned\"]\n\
         [[axis]]\nkey = \"workload.write_fraction\"\nvalues = [0.1, 0.9]\n\
         [scenario.workload]\nkind = \"generated\"\ntransactions = 300\n";
    let (rows, out) = stats_of(tmp.path(), "generated", text);
    assert_eq!(rows.len(), 2 * 2 * 2, "{rows:?}");
    for r in &rows {
        let varies = r["metric"] == "response_ticks_mean";
        assert_eq!(r["seeds_differ"], varies.to_string(), "{r:?}");
        assert_eq!(r["ci95_low"].is_empty(), !varies, "{r:?}");
        if varies {
            let (lo, mean, hi): (f64, f64, f64) = (
                r["ci95_low"].parse().unwrap(),
                r["mean"].parse().unwrap(),
                r["ci95_high"].parse().unwrap(),
            );
            assert!(lo < mean && mean < hi, "{r:?}");
            if r["policy"] == "cow" {
                assert_eq!(r["diff_seeds_differ"], "true", "{r:?}");
                assert!(
                    ["true", "false"].contains(&r["diff_excludes_0"].as_str()),
                    "{r:?}"
                );
            }
        } else {
            assert_eq!(r["mean"], "0.0000", "{r:?}");
        }
    }
    let said: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("stats.csv:"))
        .collect();
    assert_eq!(said.len(), 1, "{out}");
    assert!(said[0].contains("backup_abandoned in 4 of 4 rows"), "{out}");
    assert!(!said[0].contains("response_ticks_mean"), "{out}");
    let dir = tmp.path().join("generated");
    let svg = String::from_utf8(bytes(&dir, "response_ticks_mean.svg")).unwrap();
    assert!(!svg.contains("ringed"));
}

/// A metric empty on some seeds (no retire where the backup was abandoned): each row's
/// n and mean count its own seeds, `diff_n` the seeds both have, and the `--vs-` plot's
/// y label gives that count; `ratio` is the two policies' means over the seeds that
/// pair; a sharded run merges into the same `stats.csv`.
#[test]
fn diff_n_counts_the_pairs_the_vs_plot_says_and_a_merge_keeps() {
    let tmp = tempfile::tempdir().unwrap();
    let text = "policies = [\"logging\", \"cow\"]\nseeds = [1000, 1006, 1003]\n\
        baseline = \"logging\"\nmetrics = [\"retire_at_ticks\", \"response_ticks_mean\"]\n\
        [scenario.backup]\non_data_area_full = \"break-snapshot\"\ndata_area_blocks = 20\n\
        [scenario.workload]\nkind = \"generated\"\nrecords = 512\ntransactions = 40\n\
        length_min = 1\nlength_max = 6\nwrite_fraction = 0.5\ncompute_ticks_min = 20\n\
        compute_ticks_max = 500\narrivals = { mode = \"open\", interarrival_ticks_mean = 100 }\n";
    let f = write(tmp.path(), "gaps.toml", text);
    let whole = tmp.path().join("whole");
    ok(&owm(&["sweep", &f, "--quiet", "--out", &s(&whole)]));
    let sweep = csv_rows(&whole, "sweep.csv");
    let stats = csv_rows(&whole, "stats.csv");
    for metric in ["retire_at_ticks", "response_ticks_mean"] {
        let of = |policy: &str| -> Vec<(String, f64)> {
            sweep
                .iter()
                .filter(|r| r["policy"] == policy && !r[metric].is_empty())
                .map(|r| (r["seed"].clone(), num(r, metric)))
                .collect()
        };
        let (base, cow) = (of("logging"), of("cow"));
        let pairs = cow
            .iter()
            .filter(|(seed, _)| base.iter().any(|b| &b.0 == seed))
            .count();
        let row = |policy: &str| {
            stats
                .iter()
                .find(|r| r["policy"] == policy && r["metric"] == metric)
                .unwrap()
        };
        let (rb, rc) = (row("logging"), row("cow"));
        assert_eq!(rb["n"], base.len().to_string());
        assert_eq!(rc["n"], cow.len().to_string());
        assert_eq!(rb["diff_n"], "", "{rb:?}");
        assert_eq!(rc["diff_n"], pairs.to_string(), "{rc:?}");
        if metric == "retire_at_ticks" {
            // The retire is missing on a seed of each policy: fewer pairs than seeds.
            assert!(pairs < cow.len().max(base.len()), "{rc:?}");
        }
        // The ratio is over the seeds that pair, as the difference is.
        let paired = |v: &[(String, f64)], other: &[(String, f64)]| -> f64 {
            let xs: Vec<f64> = v
                .iter()
                .filter(|(seed, _)| other.iter().any(|o| &o.0 == seed))
                .map(|x| x.1)
                .collect();
            xs.iter().sum::<f64>() / xs.len() as f64
        };
        let ratio: f64 = rc["ratio"].parse().unwrap();
        let want = paired(&cow, &base) / paired(&base, &cow);
        assert!((ratio - want).abs() < 1e-4, "{rc:?}: want {want}");
        let svg = String::from_utf8(bytes(&whole, &format!("{metric}--vs-logging.svg"))).unwrap();
        let said = if pairs == 1 {
            "paired difference of 1 seed,".to_string()
        } else {
            format!("mean paired difference of {pairs} seeds,")
        };
        assert!(svg.contains(&said), "{metric}: {said}");
    }
    let mut parts = Vec::new();
    for k in 1..=2 {
        let d = tmp.path().join(format!("part{k}"));
        ok(&owm(&[
            "sweep",
            &f,
            "--quiet",
            "--shard",
            &format!("{k}/2"),
            "--out",
            &s(&d),
        ]));
        parts.push(s(&d));
    }
    let merged = tmp.path().join("merged");
    ok(&owm(&["merge", &parts[1], &parts[0], "--out", &s(&merged)]));
    assert!(bytes(&whole, "stats.csv") == bytes(&merged, "stats.csv"));
}

/// A response time is compared with `none` only on the seeds where the policy
/// committed as many transactions as `none` (here: its backup aborted none,
/// `break-guest-write`: a full data area refused a write): a policy that failed some
/// users is faster on those that committed only by having failed the others. Over a
/// data area too small on every seed, small on some and large enough on all: `diff_n`
/// of each response metric counts exactly the seeds whose `data_area_full_aborts` is 0
/// (none where every seed aborted, some, all), the aborts themselves are paired on
/// every seed, the sweep says which seeds it left out, and the `--vs-none` plot has no
/// point where no seed is paired.
#[test]
fn a_response_time_is_not_paired_on_seeds_whose_backup_aborted_users() {
    let text = "policies = [\"none\", \"cow\"]\nseeds = \"1..=8\"\nbaseline = \"none\"\n\
        metrics = [\"response_ticks_mean\", \"response_ticks_p99\", \"data_area_full_aborts\"]\n\
        [[axis]]\nkey = \"backup.data_area_blocks\"\nvalues = [130, 160, 400]\n\
        [scenario]\n[scenario.workload]\nkind = \"generated\"\nrecords = 2048\n\
        transactions = 200\nlength_min = 1\nlength_max = 6\nwrite_fraction = 0.6\n\
        compute_ticks_min = 10\ncompute_ticks_max = 300\n\
        arrivals = { mode = \"open\", interarrival_ticks_mean = 100 }\n\
        [scenario.archive]\nbandwidth_bytes_per_s = 1000000\n\
        [scenario.backup]\non_data_area_full = \"break-guest-write\"\n";
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "aborts.toml", text);
    let out = tmp.path().join("o");
    let o = owm(&["sweep", &f, "--out", &s(&out)]);
    assert!(matches!(code(&o), 0 | 1), "{}", stderr(&o));
    let (sh, sweep) = csv_table(&out, "sweep.csv");
    let (area, policy, aborts) = (
        col(&sh, "backup.data_area_blocks"),
        col(&sh, "policy"),
        col(&sh, "data_area_full_aborts"),
    );
    // Seeds of cow whose backup aborted no transaction, by data area.
    let mut clean: BTreeMap<String, usize> = BTreeMap::new();
    for r in sweep.iter().filter(|r| r[policy] == "cow") {
        *clean.entry(r[area].clone()).or_default() += usize::from(r[aborts] == "0");
    }
    let (h, rows) = stats(&out);
    let (a, p, m, n) = (
        col(&h, "backup.data_area_blocks"),
        col(&h, "policy"),
        col(&h, "metric"),
        col(&h, "diff_n"),
    );
    let mut seen = std::collections::BTreeSet::new();
    for r in rows.iter().filter(|r| r[p] == "cow") {
        let want = if r[m].starts_with("response_ticks") {
            clean[&r[a]]
        } else {
            8
        };
        assert_eq!(r[n], want.to_string(), "{r:?}");
        if r[m] == "response_ticks_mean" {
            seen.insert(match want {
                0 => "none",
                8 => "all",
                _ => "some",
            });
        }
    }
    assert_eq!(
        seen.len(),
        3,
        "the premise: a point each where no, some and every seed pairs: {clean:?}"
    );
    let said = stdout(&o);
    let left_out: usize = clean.values().map(|c| 8 - c).sum();
    assert!(
        said.contains(&format!(
            "response_ticks_mean, response_ticks_p99 not paired with none (cow {left_out} runs at 2 grid points, of "
        )),
        "{said}"
    );
    let svg = std::fs::read_to_string(out.join("response_ticks_mean--vs-none.svg")).unwrap();
    // (The legend wraps its note.)
    assert!(
        svg.contains("no value at 130: not compared: it committed a"),
        "{svg}"
    );
}

/// The pairing of a response time asks for the same number of committed transactions
/// on both sides, whatever aborted the others: under injected write errors (each
/// failed write aborts its transaction, not retried) on both `none` and `cow`, `diff_n`
/// of a response time counts exactly the seeds where both committed as many (some
/// seeds do, some do not: checked), and every other metric pairs every seed; the line
/// naming the seeds left out names no metric `none` never has (a window's).
#[test]
fn a_response_time_pairs_only_seeds_that_committed_as_many_whatever_aborted() {
    let text = "policies = [\"none\", \"cow\"]\nseeds = \"1..=10\"\nbaseline = \"none\"\n\
        metrics = [\"response_ticks_mean\", \"window_response_ticks_mean\", \"write_error_aborts\"]\n\
        [scenario]\n[scenario.workload]\nkind = \"generated\"\nrecords = 1024\n\
        transactions = 200\nwrite_fraction = 0.5\n\
        [scenario.faults]\nwrite_error_probability = 0.002\n";
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "errors.toml", text);
    let out = tmp.path().join("o");
    let o = owm(&["sweep", &f, "--out", &s(&out), "--allow-violations"]);
    assert!(matches!(code(&o), 0 | 1), "{}", stderr(&o));
    let (sh, sweep) = csv_table(&out, "sweep.csv");
    let (policy, seed, committed) = (col(&sh, "policy"), col(&sh, "seed"), col(&sh, "committed"));
    let of = |p: &str| -> BTreeMap<String, String> {
        sweep
            .iter()
            .filter(|r| r[policy] == p)
            .map(|r| (r[seed].clone(), r[committed].clone()))
            .collect()
    };
    let (none, cow) = (of("none"), of("cow"));
    let same = cow.iter().filter(|(k, v)| none.get(*k) == Some(*v)).count();
    assert!(
        0 < same && same < 10,
        "the premise: some seeds commit as many, some not: none {none:?}, cow {cow:?}"
    );
    let (h, rows) = stats(&out);
    let (p, m, n) = (col(&h, "policy"), col(&h, "metric"), col(&h, "diff_n"));
    for r in rows.iter().filter(|r| r[p] == "cow") {
        let want = match r[m].as_str() {
            "response_ticks_mean" => same,
            // `none` has no window: nothing to pair, nothing left out.
            "window_response_ticks_mean" => 0,
            _ => 10,
        };
        assert_eq!(r[n], want.to_string(), "{r:?}");
    }
    // The line names the metric that left seeds out, not the one `none` never has,
    // and the seeds, in grid order (at most 6 are named one by one).
    let left: Vec<&str> = sweep
        .iter()
        .filter(|r| r[policy] == "cow" && none.get(&r[seed]) != Some(&r[committed]))
        .map(|r| r[seed].as_str())
        .collect();
    let which = match left.len() {
        1 => format!("seed {}", left[0]),
        2..=6 => format!("seeds {}", left.join(", ")),
        n => format!("{n} seeds"),
    };
    assert!(
        stdout(&o).contains(&format!(
            "plots: response_ticks_mean not paired with none (cow {} at 1 grid point, of \
             {which})",
            match 10 - same {
                1 => "1 run".to_string(),
                k => format!("{k} runs"),
            }
        )),
        "{}",
        stdout(&o)
    );
}
