//! Plots a researcher can publish: axis labels and titles in words with units, log and
//! categorical x axes, progress lines for batch jobs, and outputs independent of
//! `--jobs`.

use std::path::Path;

use crate::util::*;

/// The SVG's text elements: (text, x).
/// Every text of an SVG with its x, and its y (down the page).
fn texts_at(svg: &str) -> Vec<(String, f64, f64)> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| {
            let x = n.attribute("x")?.parse().ok()?;
            let y = n.attribute("y")?.parse().ok()?;
            Some((n.text()?.trim().to_string(), x, y))
        })
        .collect()
}

fn texts(svg: &str) -> Vec<(String, f64)> {
    texts_at(svg).into_iter().map(|(s, x, _)| (s, x)).collect()
}

/// The x of the x axis's tick `label`: of the texts that read `label`, the lowest on
/// the page (a y axis tick may read the same number, higher up).
fn x_tick(t: &[(String, f64, f64)], label: &str) -> f64 {
    t.iter()
        .filter(|(s, _, _)| s == label)
        .max_by(|a, b| a.2.total_cmp(&b.2))
        .unwrap_or_else(|| panic!("no text `{label}` in {t:?}"))
        .1
}

fn x_of(t: &[(String, f64)], label: &str) -> f64 {
    t.iter()
        .find(|(s, _)| s == label)
        .unwrap_or_else(|| panic!("no text `{label}` in {t:?}"))
        .1
}

fn sweep(dir: &Path, text: &str) -> std::path::PathBuf {
    let f = write(dir, "s.toml", text);
    let out = dir.join("o");
    let o = owm(&["sweep", &f, "--out", &s(&out), "--quiet"]);
    ok(&o);
    out
}

/// `owm sweep` of `text` (as `s.toml` in a fresh directory, into `o`, its progress
/// lines kept), which succeeds: its output, and the texts of a plot of it by file name
/// (the directory lives as long as that function).
fn sweep_texts(text: &str) -> (std::process::Output, impl Fn(&str) -> Vec<String>) {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "s.toml", text);
    let o = owm(&["sweep", &f, "--out", &s(&tmp.path().join("o"))]);
    ok(&o);
    let text = move |name: &str| -> Vec<String> {
        let svg = String::from_utf8(bytes(&tmp.path().join("o"), name)).unwrap();
        texts(&svg).into_iter().map(|(s, _)| s).collect()
    };
    (o, text)
}

const BASE: &str = r#"
policies = ["mirroring", "cow"]
seeds = [1, 2]
metrics = ["admission_delay_ticks_mean"]
"#;

const WORKLOAD: &str = r#"
[scenario.workload]
kind = "generated"
records = 64
transactions = 20
"#;

/// Means that span decades across the x axis (a 7,200 rpm disk's backup beside an
/// NVMe device's) are drawn on a log y axis with a tick per decade, so the faster
/// device's points are not flattened onto the axis; a metric that is 0 somewhere
/// (the paired differences, which are negative too) stays on a linear one.
#[test]
fn means_spanning_decades_get_a_log_y_axis() {
    let (_, text) = sweep_texts(
        r#"
policies = ["quiesce", "cow"]
seeds = "1..=6"
baseline = "quiesce"
metrics = ["request_to_retire_ticks"]
[[axis]]
key = "device.profile"
values = ["hdd-7200", "nvme-ssd"]
[scenario.workload]
kind = "generated"
records = 512
transactions = 40
length_max = 4
compute_ticks_max = 500
arrivals = { mode = "open", interarrival_ticks_mean = 100 }
[scenario.backup]
setup_window_ticks = 10000000
"#,
    );
    let t = text("request_to_retire_ticks.svg");
    assert!(
        t.iter()
            .any(|l| l.starts_with("backup request to VLUN A retired (ticks, log scale)")),
        "{t:?}"
    );
    assert!(
        t.contains(&"1 k".to_string()) && t.contains(&"1 M".to_string()),
        "{t:?}"
    );
    let vs = text("request_to_retire_ticks--vs-quiesce.svg");
    assert!(!vs.iter().any(|l| l.contains("log scale")), "{vs:?}");
}

/// A plot drawn in panels by scale decides its y axis panel by panel: quiesce's
/// admission delays (hundreds of ticks on flash, a million on a 7,200 rpm disk) in a
/// panel of their own are read on a log axis although logging's and cow's 0 on the
/// disk keeps the plot as a whole linear; their panel stays linear. Each panel's label
/// counts the seeds of its own points (a limit that cuts some of logging's seeds does
/// not show in quiesce's panel).
#[test]
fn each_panel_by_scale_takes_its_own_log_axis_and_seed_count() {
    let tmp = tempfile::tempdir().unwrap();
    // The texts of `plot` of a sweep of `text` that exits `exit`.
    let texts_of = |name: &str, text: &str, exit: i32, plot: &str| -> Vec<String> {
        let f = write(tmp.path(), &format!("{name}.toml"), text);
        let out = tmp.path().join(name);
        let o = owm(&["sweep", &f, "--out", &s(&out), "--quiet"]);
        assert_eq!(code(&o), exit, "{name}: {}", stderr(&o));
        let svg = String::from_utf8(bytes(&out, plot)).unwrap();
        texts(&svg).into_iter().map(|(s, _)| s).collect()
    };
    // Exit 1: the disk's long waits break non-disruption's setup window.
    let t = texts_of(
        "profiles",
        r#"
policies = ["quiesce", "logging", "cow"]
seeds = "1..=5"
metrics = ["admission_delay_ticks_p99"]
[[axis]]
key = "device.profile"
values = ["hdd-7200", "sata-ssd", "nvme-ssd"]
[scenario.workload]
kind = "generated"
records = 512
transactions = 150
length_min = 2
length_max = 5
compute_ticks_min = 20
compute_ticks_max = 500
arrivals = { mode = "open", interarrival_ticks_mean = 300 }
"#,
        1,
        "admission_delay_ticks_p99.svg",
    );
    let labels: Vec<&String> = t
        .iter()
        .filter(|l| l.starts_with("p99 admission delay (ticks"))
        .collect();
    assert_eq!(labels.len(), 2, "two panels: {t:?}");
    assert_eq!(
        labels
            .iter()
            .filter(|l| l.starts_with("p99 admission delay (ticks, log scale)"))
            .count(),
        1,
        "one log panel: {labels:?}"
    );
    assert!(t.contains(&"1 M".to_string()), "a decade tick: {t:?}");
    // The seeds behind each panel's points: quiesce's all, the other panel's cut.
    let t = texts_of(
        "cut",
        r#"
policies = ["quiesce", "logging", "cow"]
seeds = "1..=6"
metrics = ["admission_delay_ticks_mean"]
[[axis]]
key = "workload.arrivals.interarrival_ticks_mean"
values = [50, 400]
[scenario.workload]
kind = "generated"
records = 512
transactions = 60
length_max = 4
compute_ticks_max = 500
arrivals = { mode = "open", interarrival_ticks_mean = 200 }
[scenario.limits]
events_max = 400
"#,
        3,
        "admission_delay_ticks_mean.svg",
    );
    let seeds: Vec<&String> = t.iter().filter(|l| l.contains("seeds, 95 % CI")).collect();
    assert_eq!(seeds.len(), 2, "two panels: {t:?}");
    assert_ne!(seeds[0], seeds[1], "each panel its own count: {seeds:?}");
}

/// The x and y labels are words with units from the name table, and the title says
/// what is plotted (the metric against the swept key), never a raw key.
#[test]
fn labels_and_titles_come_from_the_name_table() {
    let tmp = tempfile::tempdir().unwrap();
    let out = sweep(
        tmp.path(),
        &format!(
            "{BASE}[[axis]]\nkey = \"workload.arrivals.interarrival_ticks_mean\"\nvalues = [50, 100]\n{WORKLOAD}arrivals = {{ mode = \"open\", interarrival_ticks_mean = 50 }}\n"
        ),
    );
    let svg = String::from_utf8(bytes(&out, "admission_delay_ticks_mean.svg")).unwrap();
    let t: Vec<String> = texts(&svg).into_iter().map(|(s, _)| s).collect();
    assert!(
        t.contains(&"mean inter-arrival time (ticks)".to_string()),
        "{t:?}"
    );
    assert!(
        t.contains(&"mean admission delay (ticks): mean of 2 seeds, 95 % CI".to_string()),
        "{t:?}"
    );
    assert!(
        t.iter()
            .any(|s| s.ends_with(": mean admission delay vs mean inter-arrival time")),
        "{t:?}"
    );
    assert!(
        !svg.contains("interarrival_ticks_mean"),
        "a raw key on the plot"
    );
}

/// A sweep with no `[[axis]]` sweeps the seeds alone: its plots draw the policies side
/// by side at the base scenario, titled per policy (never "... vs" with nothing
/// after), the one x category named; with a baseline, the differences alike; sharded
/// and merged, the same bytes.
#[test]
fn a_sweep_without_an_axis_plots_the_policies_at_the_base_scenario() {
    let tmp = tempfile::tempdir().unwrap();
    let text = format!("{BASE}baseline = \"mirroring\"\n{WORKLOAD}");
    let out = sweep(tmp.path(), &text);
    for (name, what) in [
        (
            "admission_delay_ticks_mean.svg",
            "mean admission delay per policy (no [[axis]])",
        ),
        (
            "admission_delay_ticks_mean--vs-mirroring.svg",
            "mean admission delay minus mirroring's, seed by seed, per policy (no [[axis]])",
        ),
    ] {
        let svg = String::from_utf8(bytes(&out, name)).unwrap();
        let t: Vec<String> = texts(&svg).into_iter().map(|(s, _)| s).collect();
        assert!(t.contains(&format!("s: {what}")), "{name}: {t:?}");
        assert!(t.contains(&"base scenario".to_string()), "{name}: {t:?}");
        assert!(
            t.contains(&"policies at the base scenario (no [[axis]])".to_string()),
            "{name}: {t:?}"
        );
        assert!(
            !t.iter()
                .any(|s| s.trim_end().ends_with(" vs") || s.contains("(no axis)")),
            "{name}: {t:?}"
        );
    }
    let f = s(&tmp.path().join("s.toml"));
    let shard = |k: &str| {
        let d = s(&tmp.path().join(format!("p{k}")));
        ok(&owm(&[
            "sweep",
            &f,
            "--shard",
            &format!("{k}/2"),
            "--out",
            &d,
            "--quiet",
        ]));
        d
    };
    let (p1, p2) = (shard("1"), shard("2"));
    let merged = tmp.path().join("m");
    ok(&owm(&["merge", &p1, &p2, "--out", &s(&merged)]));
    for name in ["admission_delay_ticks_mean.svg", "stats.csv", "sweep.csv"] {
        assert_eq!(bytes(&merged, name), bytes(&out, name), "{name}");
    }
}

/// Keys of the archive, the copy to B' and the device model read with their table and
/// unit (`archive bandwidth (bytes/s)`, `archive profile`, `device profile`), and a
/// title keeps the words of a fraction (`data area (fraction of the volume) = 0.05`).
/// A metric with no value at any point of a plot (`retire_at_ticks` where every backup
/// was abandoned) is drawn as a frame that says so, and the sweep's output names it;
/// the plot of the same metric where it has values does not.
#[test]
fn table_keys_are_named_by_their_table_and_an_empty_metric_says_so() {
    let (o, text) = sweep_texts(
        r#"policies = ["cow"]
seeds = [1, 2]
x = "archive.bandwidth_bytes_per_s"
metrics = ["retire_at_ticks"]
[[axis]]
key = "archive.bandwidth_bytes_per_s"
values = [1000000, 100000000]
[[axis]]
key = "backup.data_area_fraction"
values = [0.05, 1.0]
[[axis]]
key = "archive.profile"
values = ["1gbe"]
[[axis]]
key = "device.profile"
values = ["nvme-ssd"]
[scenario.workload]
kind = "bank"
transactions = 100
[scenario.backup]
on_data_area_full = "break-snapshot"
"#,
    );
    let (empty, full) = (
        text("retire_at_ticks--1.svg"),
        text("retire_at_ticks--2.svg"),
    );
    for (t, fraction) in [(&empty, "0.05"), (&full, "1")] {
        assert!(
            t.contains(&"archive bandwidth (bytes/s, log scale)".to_string()),
            "{t:?}"
        );
        let title = format!(
            "s: VLUN A retired at vs archive bandwidth (data area (fraction of the volume) = \
             {fraction}, archive profile = 1gbe, device profile = nvme-ssd)"
        );
        assert!(t.contains(&title), "{t:?}");
    }
    // The reason known (every backup abandoned there), the frame gives it.
    let says = "no value at any point: every seed's backup abandoned";
    assert!(empty.contains(&says.to_string()), "{empty:?}");
    assert!(
        empty.contains(&"VLUN A retired at (ticks): no value at any point".to_string()),
        "{empty:?}"
    );
    assert!(!full.iter().any(|s| s.contains("no value")), "{full:?}");
    let line = stdout(&o)
        .lines()
        .find(|l| l.starts_with("no value at any point"))
        .map(str::to_string);
    assert!(
        line.as_ref().is_some_and(
            |l| l.ends_with(": retire_at_ticks in 1 of 2 plots (retire_at_ticks--1.svg)")
        ),
        "{}",
        stdout(&o)
    );
}

/// `scale = "log"` puts equal ratios at equal distances (50 → 100 as far as 100 →
/// 200), with a tick at each swept value; values spanning two decades get a log axis
/// unasked; `scale = "linear"` keeps them linear.
#[test]
fn log_axes_when_asked_or_when_values_span_two_decades() {
    let tmp = tempfile::tempdir().unwrap();
    let file = |values: &str, scale: &str| {
        format!(
            "{BASE}[[axis]]\nkey = \"workload.transactions\"\nvalues = {values}\n{scale}\n{WORKLOAD}"
        )
    };
    let gaps = |dir: &str, text: String, ticks: [&str; 3]| -> (f64, f64) {
        let d = tmp.path().join(dir);
        std::fs::create_dir_all(&d).unwrap();
        let out = sweep(&d, &text);
        let svg = String::from_utf8(bytes(&out, "admission_delay_ticks_mean.svg")).unwrap();
        let t = texts_at(&svg);
        let [a, b, c] = ticks.map(|l| x_tick(&t, l));
        (b - a, c - b)
    };
    let (g1, g2) = gaps(
        "asked",
        file("[5, 10, 20]", "scale = \"log\""),
        ["5", "10", "20"],
    );
    assert!((g1 - g2).abs() < 1.5, "log: {g1} vs {g2}");
    let (g1, g2) = gaps("span", file("[2, 20, 200]", ""), ["2", "20", "200"]);
    assert!((g1 - g2).abs() < 1.5, "two decades: {g1} vs {g2}");
    let ticks = |dir: &str| -> Vec<String> {
        let svg = bytes(
            &tmp.path().join(dir).join("o"),
            "admission_delay_ticks_mean.svg",
        );
        texts(&String::from_utf8(svg).unwrap())
            .into_iter()
            .map(|t| t.0)
            .collect()
    };
    // On the x axis (the row of the tick "2"; a log y axis may have a "100").
    let span_svg = bytes(
        &tmp.path().join("span").join("o"),
        "admission_delay_ticks_mean.svg",
    );
    let at = texts_at(&String::from_utf8(span_svg).unwrap());
    let row = at
        .iter()
        .filter(|t| t.0 == "2")
        .map(|t| t.2)
        .fold(f64::MIN, f64::max);
    assert!(
        !at.iter().any(|t| t.0 == "100" && (t.2 - row).abs() < 1.0),
        "log ticks: the values only: {at:?}"
    );
    // Linear on request: plotters' round ticks ("100"), evenly spaced, not one per
    // swept value (the value 2 gets none).
    let d = tmp.path().join("linear");
    std::fs::create_dir_all(&d).unwrap();
    sweep(&d, &file("[2, 20, 200]", "scale = \"linear\""));
    let linear = ticks("linear");
    assert!(
        !linear.iter().any(|t| t == "2") && linear.iter().any(|t| t == "100"),
        "{linear:?}"
    );
}

/// String values (a workload kind) are categories: evenly spaced, each tick named, a
/// marker per policy and category and no line between categories.
#[test]
fn categorical_axes_are_evenly_spaced_and_named() {
    let tmp = tempfile::tempdir().unwrap();
    // The response time varies with the seed everywhere: an error bar at every point
    // (a metric the seeds leave alone has none).
    let base = BASE.replace("admission_delay_ticks_mean", "response_ticks_mean");
    let out = sweep(
        tmp.path(),
        &format!(
            "{base}[[axis]]\nkey = \"workload.kind\"\nvalues = [\"fig3\", \"fig4-5\", \"generated\"]\n[scenario.workload]\nkind = \"generated\"\n"
        ),
    );
    let svg = String::from_utf8(bytes(&out, "response_ticks_mean.svg")).unwrap();
    let t = texts(&svg);
    let xs = ["fig3", "fig4-5", "generated"].map(|l| x_of(&t, l));
    let (g1, g2) = (xs[1] - xs[0], xs[2] - xs[1]);
    assert!(g1 > 100.0 && (g1 - g2).abs() < 1.5, "{xs:?}");
    assert!(t.iter().any(|(s, _)| s == "workload"), "{t:?}");
    // No line joins the categories: every path in a policy's colour (its error bars)
    // stays within a quarter of a category's width; each policy has a marker per
    // category, as on a numeric axis, and its legend shows its marker, with no line.
    for colour in [MIRRORING, COW] {
        let spans = x_spans(&svg, colour);
        assert!(!spans.is_empty(), "no error bar in {colour}");
        assert!(spans.iter().all(|&w| w < g1 / 4.0), "{colour}: {spans:?}");
    }
    let numeric_dir = tmp.path().join("n");
    std::fs::create_dir(&numeric_dir).unwrap();
    let numeric = sweep(
        &numeric_dir,
        &format!("{base}[[axis]]\nkey = \"workload.records\"\nvalues = [64, 128, 192]\n{WORKLOAD}"),
    );
    let line = String::from_utf8(bytes(&numeric, "response_ticks_mean.svg")).unwrap();
    // Cow's line is solid (mirroring's dashed: pieces shorter than a category).
    let widest = x_spans(&line, COW).into_iter().fold(0.0, f64::max);
    assert!(widest > g1, "a numeric axis joins its points: {widest}");
    // One marker per point and policy, and each legend entry shows its policy's
    // marker, on a line on a numeric axis, alone on categories.
    assert_eq!(
        markers(&svg),
        markers(&line),
        "one marker per point and policy"
    );
}

/// The stroke colours of two policies' series (`reports::lines`'s palette).
const MIRRORING: &str = "#2CA02C";
const COW: &str = "#9467BD";

/// The points (x, y) of each `<polyline>` of `svg` stroked in `colour`.
fn polylines(svg: &str, colour: &str) -> Vec<Vec<(f64, f64)>> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .filter(|n| {
            n.attribute("stroke")
                .is_some_and(|c| c.eq_ignore_ascii_case(colour))
        })
        .map(|n| {
            n.attribute("points")
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(|p| {
                    let (x, y) = p.split_once(',')?;
                    Some((x.parse().ok()?, y.parse().ok()?))
                })
                .collect()
        })
        .collect()
}

/// The x extent of every `<polyline>` stroked in `colour`.
fn x_spans(svg: &str, colour: &str) -> Vec<f64> {
    polylines(svg, colour)
        .iter()
        .map(|line| {
            let hi = line.iter().map(|p| p.0).fold(f64::MIN, f64::max);
            let lo = line.iter().map(|p| p.0).fold(f64::MAX, f64::min);
            hi - lo
        })
        .collect()
}

/// The markers drawn: filled circles and triangles (`<circle>`, `<polygon>`).
fn markers(svg: &str) -> usize {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("circle") || n.has_tag_name("polygon"))
        .count()
}

/// `--jobs` changes nothing in the outputs: every file, plots included, has the same
/// bytes with 1 and 3 worker threads.
#[test]
fn every_output_is_the_same_for_any_jobs() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "s.toml",
        &format!(
            "{BASE}[[axis]]\nkey = \"workload.write_fraction\"\nvalues = [0.2, 0.5, 0.8]\n{WORKLOAD}"
        ),
    );
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    ok(&owm(&["sweep", &f, "--jobs", "1", "--out", &s(&a)]));
    ok(&owm(&["sweep", &f, "--jobs", "3", "--out", &s(&b)]));
    assert_eq!(names(&a), names(&b));
    assert!(names(&a).iter().filter(|n| n.ends_with(".png")).count() >= 1);
    for n in names(&a) {
        assert!(bytes(&a, &n) == bytes(&b, &n), "{n} differs");
    }
}

/// When stderr is not a terminal, a sweep prints progress lines (points done / total,
/// elapsed, ETA) and a long run prints lines per policy (events, virtual time);
/// `--quiet` prints none. The interval is set to 0 so that every update prints.
#[test]
fn progress_lines_when_not_a_terminal_and_none_with_quiet() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "s.toml",
        &format!(
            "{BASE}[[axis]]\nkey = \"workload.write_fraction\"\nvalues = [0.2, 0.8]\n{WORKLOAD}"
        ),
    );
    let lines = |o: &std::process::Output| -> Vec<String> {
        stderr(o)
            .lines()
            .filter(|l| l.starts_with("progress: "))
            .map(str::to_string)
            .collect()
    };
    let out = s(&tmp.path().join("o"));
    let o = owm_env(
        &["sweep", &f, "--out", &out],
        &[("OWM_PROGRESS_INTERVAL_MS", "0")],
    );
    ok(&o);
    let l = lines(&o);
    assert_eq!(l.len(), 8, "{l:?}");
    assert!(
        l.iter().any(|x| x.starts_with("progress: 8/8 points, ")),
        "{l:?}"
    );
    assert!(l.iter().all(|x| x.contains(" elapsed, ETA ")), "{l:?}");
    let o = owm_env(
        &["sweep", &f, "--out", &out, "--quiet"],
        &[("OWM_PROGRESS_INTERVAL_MS", "0")],
    );
    ok(&o);
    assert!(lines(&o).is_empty(), "{}", stderr(&o));
    // An interval that is not a whole number of milliseconds is said once, not taken
    // silently; the default's lines follow (none in so short a sweep).
    for bad in ["abc", "-5", "99999999999999999999999"] {
        let o = owm_env(
            &["sweep", &f, "--out", &out],
            &[("OWM_PROGRESS_INTERVAL_MS", bad)],
        );
        ok(&o);
        let said =
            format!("note: OWM_PROGRESS_INTERVAL_MS={bad}: not a whole number of milliseconds");
        assert_eq!(stderr(&o).matches(&said).count(), 1, "{}", stderr(&o));
    }

    let run = ["run", "scenarios/generated.toml", "--out", &out];
    let o = owm_env(&run, &[("OWM_PROGRESS_INTERVAL_MS", "0")]);
    ok(&o);
    let l = lines(&o);
    assert!(
        l.iter()
            .any(|x| x.starts_with("progress: 0/5 policies (quiesce: 4096 events, t = ")),
        "{l:?}"
    );
    assert!(l.iter().any(|x| x.contains("/5 policies (cow: ")), "{l:?}");
    let o = owm_env(
        &[&run[..], &["--quiet"]].concat(),
        &[("OWM_PROGRESS_INTERVAL_MS", "0")],
    );
    ok(&o);
    assert!(lines(&o).is_empty(), "{}", stderr(&o));
}

/// A sweep of one seed has no interval at any point: the y label says so (`1 seed, no
/// 95 % CI`, `paired difference of 1 seed, no 95 % CI`) as the ringed points' legend
/// does, never a CI that cannot exist.
#[test]
fn a_one_seed_sweep_claims_no_interval() {
    let one = BASE.replace("seeds = [1, 2]", "seeds = [1]").replace(
        "policies = [\"mirroring\", \"cow\"]",
        "policies = [\"mirroring\", \"cow\"]\nbaseline = \"mirroring\"",
    );
    let (_, texts) = sweep_texts(&format!(
        "{one}[[axis]]\nkey = \"workload.records\"\nvalues = [64, 128]\n{WORKLOAD}"
    ));
    for (file, label) in [
        (
            "admission_delay_ticks_mean.svg",
            "mean admission delay (ticks): 1 seed, no 95 % CI",
        ),
        (
            "admission_delay_ticks_mean--vs-mirroring.svg",
            "paired difference of 1 seed, no 95 % CI",
        ),
    ] {
        let t = texts(file);
        assert!(t.iter().any(|l| l.ends_with(label)), "{file}: {t:?}");
        assert!(!t.iter().any(|l| l.ends_with(", 95 % CI")), "{file}: {t:?}");
    }
}

/// The y label says how many seeds are behind the points as `stats.csv`'s `n` has them
/// (one number when every point has it, else the range), never the grid's seed count
/// for points that lost seeds (here grid points cut by `events_max`); a point of one
/// seed (or one pair), or of seeds that all gave the same value, has no interval and
/// is ringed, and the legend says why.
#[test]
fn the_y_label_says_the_seeds_behind_the_points() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "s.toml",
        "policies = [\"quiesce\", \"cow\"]\nseeds = [1, 2, 3]\nbaseline = \"quiesce\"\n\
         metrics = [\"response_ticks_mean\", \"backup_abandoned\"]\n[[axis]]\n\
         key = \"workload.arrivals.interarrival_ticks_mean\"\nvalues = [20, 200]\n\
         [scenario.workload]\nkind = \"generated\"\nrecords = 64\ntransactions = 150\n\
         arrivals = { mode = \"open\", interarrival_ticks_mean = 100 }\n\
         [scenario.limits]\nevents_max = 1500\n",
    );
    let out = tmp.path().join("o");
    let o = owm(&["sweep", &f, "--out", &s(&out), "--quiet"]);
    assert_eq!(code(&o), 3, "some grid points fail: {}", stderr(&o));
    let stats = csv_rows(&out, "stats.csv");
    let ns = |diff: bool| -> Vec<usize> {
        stats
            .iter()
            .filter(|r| !diff || !r["diff_mean"].is_empty())
            .map(|r| r["n"].parse::<usize>().unwrap())
            .filter(|&n| n > 0)
            .collect()
    };
    for (file, diff, what) in [
        ("response_ticks_mean.svg", false, "mean of"),
        (
            "response_ticks_mean--vs-quiesce.svg",
            true,
            "mean paired difference of",
        ),
    ] {
        let n = ns(diff);
        let (lo, hi) = (*n.iter().min().unwrap(), *n.iter().max().unwrap());
        assert!(
            lo == 1 && hi == 3,
            "{n:?}: the test needs a point of one seed"
        );
        let svg = String::from_utf8(bytes(&out, file)).unwrap();
        let t: Vec<String> = texts(&svg).into_iter().map(|(s, _)| s).collect();
        assert!(
            t.iter()
                .any(|l| l.ends_with(&format!("{what} {lo}-{hi} seeds, 95 % CI"))),
            "{file}: {t:?}"
        );
        let ring = if diff { "one pair" } else { "one seed" };
        assert!(
            t.contains(&format!("ringed: {ring}, no 95 % CI")),
            "{file}: {t:?}"
        );
    }
    // No backup is abandoned on any seed: where three seeds ran they gave the same
    // value (no interval either), and the legend gives both reasons.
    assert!(stats.iter().any(|r| r["metric"] == "backup_abandoned"
        && r["n"] == "3"
        && r["seeds_differ"] == "false"));
    for (file, ring) in [
        ("backup_abandoned.svg", "one seed or no spread across seeds"),
        (
            "backup_abandoned--vs-quiesce.svg",
            "one pair or no spread across pairs",
        ),
    ] {
        let svg = String::from_utf8(bytes(&out, file)).unwrap();
        let t: Vec<String> = texts(&svg).into_iter().map(|(s, _)| s).collect();
        assert!(
            t.contains(&format!("ringed: {ring}, no 95 % CI")),
            "{file}: {t:?}"
        );
    }
    // Every seed behind every point: one number, and no "one seed" ring; a ring only
    // where the seeds all gave the same value (stats.csv's seeds_differ = false: no
    // interval), the legend saying so.
    let tmp = tempfile::tempdir().unwrap();
    let base = BASE.replace(
        "[\"admission_delay_ticks_mean\"]",
        "[\"admission_delay_ticks_mean\", \"response_ticks_mean\"]",
    );
    let full = sweep(
        tmp.path(),
        &format!("{base}[[axis]]\nkey = \"workload.records\"\nvalues = [64, 128]\n{WORKLOAD}"),
    );
    let stats = csv_rows(&full, "stats.csv");
    let mut seen = Vec::new();
    for m in ["admission_delay_ticks_mean", "response_ticks_mean"] {
        let svg = String::from_utf8(bytes(&full, &format!("{m}.svg"))).unwrap();
        assert!(svg.contains("mean of 2 seeds, 95 % CI"), "{m}");
        let flat = stats
            .iter()
            .any(|r| r["metric"] == m && r["seeds_differ"] == "false");
        assert_eq!(svg.contains("ringed"), flat, "{m}");
        assert_eq!(
            svg.contains("ringed: no spread across seeds, no 95 % CI"),
            flat,
            "{m}"
        );
        seen.push(flat);
    }
    // The admission delay is 0 on every seed at 128 records; the response varies.
    assert_eq!(seen, [true, false], "{stats:?}");
    // At 128 records alone no point has an interval: the y label says there is none.
    let only = tmp.path().join("only");
    std::fs::create_dir_all(&only).unwrap();
    let out = sweep(
        &only,
        &format!("{base}[[axis]]\nkey = \"workload.records\"\nvalues = [128]\n{WORKLOAD}"),
    );
    let svg = String::from_utf8(bytes(&out, "admission_delay_ticks_mean.svg")).unwrap();
    assert!(svg.contains("mean of 2 seeds, no 95 % CI"), "{svg}");
    let svg = String::from_utf8(bytes(&out, "response_ticks_mean.svg")).unwrap();
    assert!(svg.contains("mean of 2 seeds, 95 % CI"));
}

/// A numeric axis whose values are listed out of order is drawn in x order: every
/// policy's line runs left to right, never back over the x range.
#[test]
fn a_line_joins_its_points_in_x_order() {
    let tmp = tempfile::tempdir().unwrap();
    let out = sweep(
        tmp.path(),
        &format!(
            "{BASE}[[axis]]\nkey = \"workload.arrivals.interarrival_ticks_mean\"\nvalues = [800, 50, 200, 100]\n{WORKLOAD}arrivals = {{ mode = \"open\", interarrival_ticks_mean = 50 }}\n"
        ),
    );
    let svg = String::from_utf8(bytes(&out, "admission_delay_ticks_mean.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let mut lines = 0;
    for n in doc.descendants().filter(|n| n.has_tag_name("polyline")) {
        let xs: Vec<f64> = n
            .attribute("points")
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|p| p.split(',').next()?.parse().ok())
            .collect();
        if xs.len() == 4 {
            lines += 1;
            assert!(xs.windows(2).all(|w| w[0] < w[1]), "{xs:?}");
        }
    }
    assert!(lines >= 1, "no line of four points");
    // stats.csv keeps the file's order.
    let (_, rows) = csv_table(&out, "stats.csv");
    let xs: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(xs[0], "800", "{xs:?}");
}

/// A file whose name holds control characters (which XML 1.0 cannot hold, even
/// escaped) still gives well-formed SVG pictures and JUnit verdicts, the name shown
/// with its control characters as `\xHH` in pictures (as messages show it), for `owm
/// run` and `owm sweep`; the `name` key refuses them at its line;
/// none reaches the terminal raw (stdout, an error on stderr).
#[test]
fn a_name_with_control_characters_gives_well_formed_xml() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // Without its `name`: named by the file's stem.
    let scenario: String = std::fs::read_to_string(repo().join("scenarios/fig3.toml"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("name"))
        .map(|l| format!("{l}\n"))
        .collect();
    let f = write(d, "fig\u{1}3\u{1b}.toml", &scenario);
    let out = d.join("o");
    let junit = d.join("v.xml");
    let o = owm(&[
        "run",
        &f,
        "--out",
        &s(&out),
        "--junit",
        &s(&junit),
        "--quiet",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // The reproduce line writes the control characters by printf, none raw.
    let text = stdout(&o);
    let line = text.lines().find(|l| l.starts_with("reproduce:")).unwrap();
    assert!(!line.chars().any(char::is_control), "{line:?}");
    assert!(
        line.contains("fig'\"$(printf '\\001')\"'3'\"$(printf '\\033')\"'.toml'"),
        "{line:?}"
    );
    // No line of stdout or stderr carries a control character raw ("wrote ..." lines,
    // errors naming the file): they are `\xHH` escapes.
    let raw = |t: &str| t.chars().any(|c| c.is_control() && c != '\n' && c != '\t');
    assert!(!raw(&text) && !raw(&stderr(&o)), "{text:?}");
    let bad = write(
        d,
        "bad\u{1b}[31m.toml",
        "policies = [\"none\"]\nseed = -1\n",
    );
    let o = owm(&["run", &bad, "--out", &s(&d.join("bo"))]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(!raw(&stderr(&o)), "{:?}", stderr(&o));
    assert!(stderr(&o).contains("bad\\x1b[31m.toml:2"), "{}", stderr(&o));
    let mut svgs = 0;
    for name in names(&out).iter().filter(|n| n.ends_with(".svg")) {
        let svg = std::fs::read_to_string(out.join(name)).unwrap();
        roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{name}: {e}"));
        svgs += 1;
    }
    assert!(svgs >= 2, "{svgs} pictures");
    let timing = std::fs::read_to_string(out.join("timing.svg")).unwrap();
    // Shown as messages show it, in PNG and SVG alike: `\xHH`.
    assert!(
        timing.contains("fig\\x013\\x1b"),
        "the name is shown escaped"
    );
    assert!(!timing.contains('\u{FFFD}'), "the name is shown escaped");
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert!(doc.descendants().any(|n| n.has_tag_name("testcase")));

    let sweep = write(d, "sw\u{2}.toml", crate::verdicts::SWEEP);
    let o = owm(&[
        "sweep",
        &sweep,
        "--out",
        &s(&d.join("so")),
        "--junit",
        &s(&junit),
        "--quiet",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    for name in names(&d.join("so")).iter().filter(|n| n.ends_with(".svg")) {
        let svg = std::fs::read_to_string(d.join("so").join(name)).unwrap();
        roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{name}: {e}"));
        // The title starts with the file's stem, shown escaped.
        let t = texts(&svg);
        assert!(
            t.iter().any(|(l, _)| l.starts_with("sw\\x02: ")),
            "{name}: {t:?}"
        );
    }
    roxmltree::Document::parse(&std::fs::read_to_string(&junit).unwrap()).unwrap();

    let named = write(
        d,
        "named.toml",
        &format!("name = \"a\\u0001b\"\n{scenario}"),
    );
    let o = owm(&["run", &named, "--out", &s(&d.join("no"))]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    fails_with(
        &o,
        &[
            &format!("{named}:1: key `name`"),
            "control character U+0001",
        ],
    );
    assert!(!d.join("no").exists());
}

/// The labels of the transactions a timing diagram's SVG draws (`#N`), in order.
fn diagram_labels(svg: &str) -> Vec<String> {
    texts(svg)
        .into_iter()
        .map(|(t, _)| t)
        .filter(|t| t.starts_with('#') && t[1..].bytes().all(|b| b.is_ascii_digit()))
        .collect()
}

/// A run of more transactions than a diagram draws shows, under every policy, the
/// transactions arriving around the backup request, `none` (which requests nothing)
/// too: its panel, stacked with the others on one axis in `timing.svg`, compares the
/// same stretch of the load. Before, `none`'s centred on the middle of its own run.
#[test]
fn every_policys_diagram_shows_the_transactions_around_the_request() {
    let tmp = tempfile::tempdir().unwrap();
    // Open arrivals of their own random stream: every policy sees the same arrivals;
    // the request a quarter into the run (about 300 arrivals 100 ticks apart).
    let f = write(
        tmp.path(),
        "s.toml",
        r#"
policies = ["none", "cow"]
seed = 3
[workload]
kind = "generated"
records = 256
transactions = 300
arrivals = { mode = "open", interarrival_ticks_mean = 100 }
[backup]
request_at_ticks = 7500
"#,
    );
    let out = tmp.path().join("o");
    ok(&owm(&["run", &f, "--out", &s(&out), "--quiet"]));
    let labels = |p: &str| {
        diagram_labels(&String::from_utf8(bytes(&out, &format!("timing-{p}.svg"))).unwrap())
    };
    let (none, cow) = (labels("none"), labels("cow"));
    assert_eq!(cow.len(), 40, "{cow:?}");
    assert_eq!(none, cow);
    // Around the request: the middle of the run would be about #150.
    let first: u32 = cow[0][1..].parse().unwrap();
    assert!((40..=90).contains(&first), "{cow:?}");
    let svg = String::from_utf8(bytes(&out, "timing-none.svg")).unwrap();
    assert!(svg.contains("40 of 300 transactions, around the request"));
    // The request the window centres on is marked where the others' is.
    assert!(
        svg.contains("request scheduled (no backup in this run) (t=7500)"),
        "{svg}"
    );
    let cow_svg = String::from_utf8(bytes(&out, "timing-cow.svg")).unwrap();
    assert!(!cow_svg.contains("request scheduled"));
    assert!(cow_svg.contains("backup request (t=7500)"));
}

/// The vertical extent (lowest and highest y, down the page) of the `<polyline>`s of
/// `svg` stroked in `colour`; with `rising`, of those that are not flat only (a
/// dashed line's dashes up a step, not its flat dashes or its legend sample).
fn y_extent(svg: &str, colour: &str, rising: bool) -> (f64, f64) {
    polylines(svg, colour)
        .iter()
        .filter(|line| !line.is_empty())
        .filter_map(|line| {
            let lo = line.iter().map(|p| p.1).fold(f64::MAX, f64::min);
            let hi = line.iter().map(|p| p.1).fold(f64::MIN, f64::max);
            (lo < hi || (!rising && lo == hi)).then_some((lo, hi))
        })
        .fold((f64::MAX, f64::MIN), |(a, b), (lo, hi)| {
            (a.min(lo), b.max(hi))
        })
}

/// db-64gib's extra space: the mirrors hold the volume's 16,777,216 blocks, logging's
/// and cow's areas peak at 4,304. Each of logging and cow rises across a panel of its
/// own scale, under the mirrors' (before, both lay flat on 0 beside `none` on the
/// mirrors' axis); the picture says why there are panels; the CSV is as it was.
#[test]
fn extra_space_draws_curves_of_different_scales_in_their_own_panels() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let f = repo().join("scenarios/db-64gib.toml");
    ok(&owm(&["run", &s(&f), "--out", &s(&out), "--quiet"]));
    let svg = String::from_utf8(bytes(&out, "extra_space.svg")).unwrap();
    assert!(svg.contains("one panel per scale"), "{svg}");
    let (_, mirrors_low) = y_extent(&svg, MIRRORING, false);
    for (name, colour) in [("logging", "#FF7F0E"), ("cow", COW)] {
        let (lo, hi) = y_extent(&svg, colour, true);
        assert!(hi - lo >= 150.0, "{name} rises {} px", hi - lo);
        assert!(lo > mirrors_low, "{name} in a panel under the mirrors'");
    }
    let csv = String::from_utf8(bytes(&out, "extra_space.csv")).unwrap();
    assert!(
        csv.contains(",16777216,") && csv.contains(",4304,"),
        "{csv}"
    );
}

/// The height of a PNG (its IHDR chunk's, bytes 20-23).
fn png_height(png: &[u8]) -> u32 {
    assert_eq!(&png[12..16], b"IHDR");
    u32::from_be_bytes(png[20..24].try_into().unwrap())
}

/// A sweep's metric whose policies lie more than 10× apart (mirroring's whole image of
/// 1,024 blocks beside cow's area of 20-50) is drawn as the extra space plots are: cow
/// rises across a panel of its own scale under mirroring's (before, it lay near 0 on
/// the mirror's axis), the picture a panel taller and saying why under its title,
/// naming the swept key the panels share. A metric of the same scale for both
/// (`committed`) stays on one panel of the usual height, with no such line.
#[test]
fn a_sweeps_policies_of_different_scales_are_drawn_in_their_own_panels() {
    let tmp = tempfile::tempdir().unwrap();
    let out = sweep(
        tmp.path(),
        r#"policies = ["mirroring", "cow"]
seeds = [1, 2]
metrics = ["extra_space_blocks_peak", "committed"]
[[axis]]
key = "workload.transactions"
values = [20, 40]
[scenario.workload]
kind = "generated"
records = 4096
"#,
    );
    let peaks: Vec<(String, f64)> = csv_rows(&out, "sweep.csv")
        .iter()
        .map(|r| (r["policy"].clone(), num(r, "extra_space_blocks_peak")))
        .collect();
    let top = |p: &str| {
        peaks
            .iter()
            .filter(|r| r.0 == p)
            .map(|r| r.1)
            .fold(0.0, f64::max)
    };
    assert!(
        top("mirroring") > 10.0 * top("cow") && top("cow") > 0.0,
        "{peaks:?}"
    );
    let svg = String::from_utf8(bytes(&out, "extra_space_blocks_peak.svg")).unwrap();
    let t: Vec<String> = texts(&svg).into_iter().map(|(s, _)| s).collect();
    assert!(
        t.iter().any(
            |l| l.starts_with("one panel per scale: peaks more than 10× apart")
                && l.ends_with(", transactions shared")
        ),
        "{t:?}"
    );
    let (_, mirrors_low) = y_extent(&svg, MIRRORING, false);
    let (lo, hi) = y_extent(&svg, COW, true);
    assert!(hi - lo >= 100.0, "cow rises {} px", hi - lo);
    assert!(lo > mirrors_low, "cow in a panel under mirroring's");
    assert_eq!(
        png_height(&bytes(&out, "extra_space_blocks_peak.png")),
        560 + 340
    );
    let same = String::from_utf8(bytes(&out, "committed.svg")).unwrap();
    assert!(!same.contains("one panel per scale"));
    assert_eq!(png_height(&bytes(&out, "committed.png")), 560);
}

/// The vertical lines of `svg` stroked in `colour`: `<polyline>`s of two points at one
/// x (a step's many points are not one), as (x, top, bottom).
fn verticals(svg: &str, colour: &str) -> Vec<(f64, f64, f64)> {
    polylines(svg, colour)
        .into_iter()
        .filter_map(|line| match line.as_slice() {
            [(x0, y0), (x1, y1)] if x0 == x1 && y0 != y1 => Some((*x0, y0.min(*y1), y0.max(*y1))),
            _ => None,
        })
        .collect()
}

/// A full data area under `break-snapshot` abandons logging's and cow's backups: their
/// extra space drops with no archive. Both space plots mark each abandon with an orange
/// vertical line labelled with the policy and its time (the abandoned_at_ticks of
/// `summary.csv`) and named in the legend, apart from mirroring's retire (a dark grey
/// line, `A retired`). Under `break-guest-write` the backups complete: no abandon is
/// marked, and the retires are.
#[test]
fn an_abandoned_backup_is_marked_on_the_space_plots() {
    const ABANDON: &str = "#FF7F0E";
    const RETIRE: &str = "#3C3C3C";
    let tmp = tempfile::tempdir().unwrap();
    let run = |on_full: &str| {
        let f = write(
            tmp.path(),
            &format!("{on_full}.toml"),
            &crate::overflow::scenario(on_full),
        );
        let out = tmp.path().join(on_full);
        // A write the full area refuses violates non-disruption: allowed here.
        ok(&owm(&[
            "run",
            &f,
            "--out",
            &s(&out),
            "--quiet",
            "--allow-violations",
        ]));
        let svg = |name: &str| String::from_utf8(bytes(&out, name)).unwrap();
        let rows = csv_rows(&out, "summary.csv");
        (svg("extra_space.svg"), svg("data_area_used.svg"), rows)
    };
    let (space, area, rows) = run("break-snapshot");
    let at = |p: &str, col: &str| {
        let r = rows.iter().find(|r| r["policy"] == p).unwrap();
        r[col].clone()
    };
    for (what, svg) in [("extra_space", &space), ("data_area_used", &area)] {
        let t: Vec<String> = texts(svg).into_iter().map(|(s, _)| s).collect();
        for p in ["logging", "cow"] {
            let label = format!(
                "{p}: backup abandoned (data area full) (t={})",
                at(p, "abandoned_at_ticks")
            );
            assert!(t.contains(&label), "{what}: {label} not in {t:?}");
        }
        assert!(
            t.contains(&"backup abandoned (data area full) (vertical line)".to_string()),
            "{what}: the legend names the abandon: {t:?}"
        );
        // Two abandons' lines (one if they fall on one pixel) and the legend's.
        let lines = verticals(svg, ABANDON);
        assert!((2..=3).contains(&lines.len()), "{what}: {lines:?}");
        assert!(
            lines.iter().any(|l| l.2 - l.1 >= 100.0),
            "{what}: {lines:?}"
        );
    }
    let retired = format!(
        "mirroring: A retired (t={})",
        at("mirroring", "retire_at_ticks")
    );
    assert!(space.contains(&retired), "{retired}");
    assert!(!verticals(&space, RETIRE).is_empty());
    // The backups complete: retires marked, no abandon.
    let (space, area, _) = run("break-guest-write");
    for (what, svg) in [("extra_space", &space), ("data_area_used", &area)] {
        assert!(!svg.contains("abandoned"), "{what}");
        assert!(verticals(svg, ABANDON).is_empty(), "{what}");
        assert!(svg.contains("cow: A retired (t="), "{what}");
        assert!(!verticals(svg, RETIRE).is_empty(), "{what}");
    }
}

/// Without the timeline (`keep_timeline = false`) a timing diagram draws the milestones
/// alone, and its title says why no transaction is drawn, in every policy's picture
/// and in the stacked one; with it, no title says so.
#[test]
fn a_diagram_without_the_timeline_says_why_it_draws_no_transaction() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = |timeline: bool| {
        format!(
            "policies = [\"none\", \"cow\"]\nkeep_timeline = {timeline}\n[workload]\n\
             kind = \"generated\"\nrecords = 64\ntransactions = 50\n\
             [backup]\nrequest_at_ticks = 2000\n"
        )
    };
    const WHY: &str = "transactions not drawn: keep_timeline = false";
    for timeline in [false, true] {
        let f = write(
            tmp.path(),
            &format!("t{timeline}.toml"),
            &scenario(timeline),
        );
        let out = tmp.path().join(format!("o{timeline}"));
        ok(&owm(&["run", &f, "--out", &s(&out), "--quiet"]));
        for picture in ["timing-none.svg", "timing-cow.svg"] {
            let svg = String::from_utf8(bytes(&out, picture)).unwrap();
            let titles: Vec<String> = texts(&svg)
                .into_iter()
                .map(|(t, _)| t)
                .filter(|t| t.contains("seed 1"))
                .collect();
            assert_eq!(titles.len(), 1, "{picture}: {titles:?}");
            assert_eq!(titles[0].ends_with(WHY), !timeline, "{picture}: {titles:?}");
            assert_eq!(diagram_labels(&svg).is_empty(), !timeline, "{picture}");
        }
        let stacked = String::from_utf8(bytes(&out, "timing.svg")).unwrap();
        assert_eq!(stacked.matches(WHY).count(), if timeline { 0 } else { 2 });
    }
}

/// db-64gib's cow diagram breaks its time axis twice (the archive copy's minutes, then
/// the wait for logging's later retire on the shared axis): every stretch drawn, the
/// one after the second break too, has a tick label at a time within it.
#[test]
fn every_stretch_of_a_broken_time_axis_has_a_tick_label() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let f = repo().join("scenarios/db-64gib.toml");
    ok(&owm(&["run", &s(&f), "--out", &s(&out), "--quiet"]));
    let svg = String::from_utf8(bytes(&out, "timing-cow.svg")).unwrap();
    let t = texts(&svg);
    let desc = t
        .iter()
        .find_map(|(s, _)| s.split("where nothing drawn happens: ").nth(1))
        .unwrap_or_else(|| panic!("no axis break: {t:?}"));
    // The diagram draws a window of the run: what it leaves out runs in the breaks,
    // so the caption claims only that nothing drawn happens there.
    assert!(
        t.iter().any(|(s, _)| s.contains(" of 4000 transactions")),
        "a window of the run: {t:?}"
    );
    // "a to b, c to d left out": the stretches drawn are ..=a, b..=c, d..
    let mut edges = vec![0u64];
    for gap in desc.trim_end_matches(" left out").split(", ") {
        let (a, b) = gap.split_once(" to ").unwrap();
        edges.push(a.parse().unwrap());
        edges.push(b.parse().unwrap());
    }
    edges.push(u64::MAX);
    assert!(edges.len() >= 6, "two breaks: {desc}");
    let ticks: Vec<u64> = t.iter().filter_map(|(s, _)| s.parse().ok()).collect();
    for w in edges.chunks(2) {
        assert!(
            ticks.iter().any(|x| (w[0]..=w[1]).contains(x)),
            "no tick label in {}..={}: {ticks:?}",
            w[0],
            w[1]
        );
    }
}

/// A sweep plot's title gives each other axis's value as it reads: a rate limit of 0
/// is no limit (`archive rate limit = 0 (no limit)`), never a rate of zero; a limit
/// above 0 is its number. The sweep's first line counts its grid in words that agree
/// with the numbers (`1 policy`, `1 seed`).
#[test]
fn a_zero_that_means_none_reads_so_in_a_sweep_title() {
    let (o, text) = sweep_texts(
        r#"policies = ["cow"]
x = "archive.bandwidth_bytes_per_s"
metrics = ["retire_at_ticks"]
[[axis]]
key = "archive.bandwidth_bytes_per_s"
values = [1000000, 100000000]
[[axis]]
key = "archive.rate_limit_bytes_per_s"
values = [0, 500000]
[scenario.workload]
kind = "bank"
transactions = 50
"#,
    );
    assert!(
        stdout(&o).contains("4 grid points (4 axis combinations x 1 policy x 1 seed)"),
        "{}",
        stdout(&o)
    );
    let what = "s: VLUN A retired at vs archive bandwidth";
    let none = text("retire_at_ticks--1.svg");
    assert!(
        none.contains(&format!("{what} (archive rate limit = 0 (no limit))")),
        "{none:?}"
    );
    let some = text("retire_at_ticks--2.svg");
    assert!(
        some.contains(&format!("{what} (archive rate limit = 500000)")),
        "{some:?}"
    );
}

/// A policy with no value at some x is not simply absent: its legend entry says where
/// and why (`none` takes no backup, so it has no backup-to-retire time anywhere; a
/// policy whose every seed's backup was abandoned at an x says so; a mirror has no
/// data area), never that sweep.csv leaves it empty where its rows say why.
#[test]
fn a_policy_with_no_value_says_where_and_why() {
    let (_o, texts) = sweep_texts(&format!(
        "policies = [\"none\", \"mirroring\", \"cow\"]\nseeds = [1, 2]\n\
         metrics = [\"request_to_retire_ticks\", \"data_area_blocks\"]\n\
         [[axis]]\nkey = \"workload.records\"\nvalues = [64, 128]\n{WORKLOAD}"
    ));
    let t = texts("request_to_retire_ticks.svg");
    assert!(
        t.iter()
            .any(|l| l == "none (no value at any x: none takes no backup)"),
        "{t:?}"
    );
    assert!(t.iter().any(|l| l == "cow"), "{t:?}");
    let t = texts("data_area_blocks.svg");
    assert!(
        t.iter()
            .any(|l| l == "mirroring (no value at any x: no data area on a mirror)"),
        "{t:?}"
    );
    assert!(!t.iter().any(|l| l.contains("leaves it empty")), "{t:?}");
}

/// A backup given up is never hidden behind what a metric lacks: where quiesce's every
/// seed gave up (a freeze limit of 1 tick on a disk) the window's response has no value
/// because no transaction arrived in a window that short, and the legend says both.
#[test]
fn a_metric_without_value_still_says_the_backup_was_given_up() {
    let (_o, texts) = sweep_texts(
        r#"policies = ["quiesce"]
seeds = [1, 2]
metrics = ["window_response_ticks_mean"]
[[axis]]
key = "device.profile"
values = ["hdd-7200", "nvme-ssd"]
[scenario.workload]
kind = "generated"
records = 4096
transactions = 200
length_min = 1
length_max = 4
compute_ticks_min = 100
compute_ticks_max = 1000
arrivals = { mode = "open", interarrival_ticks_mean = 20000 }
[scenario.geometry]
block_size_bytes = 4096
records_per_block = 1
[scenario.backup]
quiesce_deadline_ticks = 1
quiesce_retries_max = 1
quiesce_retry_backoff_ticks = 10
"#,
    );
    // The legend's entry, its lines joined.
    let t = texts("window_response_ticks_mean.svg").join(" ");
    assert!(
        t.contains(
            "quiesce (no value at hdd-7200: no transaction that arrived in the backup \
             window committed; every seed's backup given up)"
        ),
        "{t}"
    );
}

/// With no `[[axis]]` the one category is the base scenario, and a legend says so
/// where a policy has no value, never "at " an empty x.
#[test]
fn a_policy_with_no_value_and_no_axis_names_the_base_scenario() {
    let (_o, texts) = sweep_texts(&format!(
        "policies = [\"none\", \"cow\"]\nseeds = [1, 2]\n\
         metrics = [\"request_to_retire_ticks\"]\n{WORKLOAD}"
    ));
    let t = texts("request_to_retire_ticks.svg");
    assert!(
        t.iter()
            .any(|l| l == "none (no value at base scenario: none takes no backup)"),
        "{t:?}"
    );
    assert!(!t.iter().any(|l| l.contains("at :")), "{t:?}");
}

/// A grid point that failed (here a virtual time limit too short for the load) has no
/// value of any metric: every policy's legend entry says its runs failed there, `none`
/// included, never that `none` takes no backup (it has a response time where its runs
/// end) or that sweep.csv leaves it empty.
#[test]
fn a_failed_grid_point_says_its_runs_failed() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "s.toml",
        &format!(
            "policies = [\"none\", \"cow\"]\nseeds = [1, 2]\n\
             metrics = [\"response_ticks_mean\"]\n\
             [[axis]]\nkey = \"limits.time_ticks_max\"\nvalues = [3000, 100000000]\n\
             {WORKLOAD}arrivals = {{ mode = \"open\", interarrival_ticks_mean = 200 }}\n"
        ),
    );
    let out = tmp.path().join("o");
    let o = owm(&["sweep", &f, "--out", &s(&out), "--jobs", "1"]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let svg = String::from_utf8(bytes(&out, "response_ticks_mean.svg")).unwrap();
    let t: Vec<String> = texts(&svg).into_iter().map(|(s, _)| s).collect();
    for policy in ["none", "cow"] {
        assert!(
            t.iter()
                .any(|l| l == &format!("{policy} (no value at 3000: every seed's run failed)")),
            "{t:?}"
        );
    }
    assert!(!t.iter().any(|l| l.contains("takes no backup")), "{t:?}");
    assert!(!t.iter().any(|l| l.contains("leaves it empty")), "{t:?}");
}

/// Fig 4 draws the waits of a process's transaction once the process took it (quiesce
/// holding it at the gate, a lock): a hatched wait shape (fill `#ECECEC`) for each such
/// wait of `trace.csv`, and the legend's entry for them; the wait in queue 502, before
/// a process took the transaction, is not on a process's row.
#[test]
fn fig4_draws_every_gate_wait_of_quiesce() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    ok(&owm(&[
        "run",
        "scenarios/fig4-5.toml",
        "--out",
        &s(&out),
        "--allow-violations",
        "--quiet",
    ]));
    let trace = csv_rows(&out, "trace.csv");
    let waits = |policy: &str, cause: &str| {
        trace
            .iter()
            .filter(|r| r["policy"] == policy && r["event"] == "wait-begin" && r["detail"] == cause)
            .count()
    };
    let gate = waits("quiesce", "gate");
    assert!(gate >= 2, "the test needs gate waits: {gate}");
    let others: usize = ["lock", "type-b", "backoff"]
        .iter()
        .map(|c| waits("quiesce", c))
        .sum();
    let svg = std::fs::read_to_string(out.join("timing-quiesce.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let shapes = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("fill") == Some("#ECECEC"))
        .count();
    // One of them is the legend's swatch.
    assert!(
        shapes > gate + others,
        "{shapes} wait shapes (legend included) for {gate} gate waits and {others} others"
    );
    assert!(
        svg.contains("waiting (gate, lock, queue)"),
        "no legend entry for the waits"
    );
    let title = texts(&svg)
        .into_iter()
        .map(|t| t.0)
        .find(|t| t.contains("quiesce (prior art)"))
        .unwrap_or_default();
    assert!(title.starts_with("Fig 4 — "), "{title}");
}

/// `plots.csv` names what each plot of a sweep shows: one row per plot (no plot
/// without a row, no row without its two files), its metric, the baseline of a plot of
/// differences, the x axis, and the value of every other axis it holds fixed: each
/// combination of those values once per metric and difference, and each value in the
/// plot's own title.
#[test]
fn plots_csv_names_what_each_plot_shows() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "s.toml",
        r#"title = "index"
policies = ["none", "logging"]
seeds = [1, 2]
metrics = ["response_ticks_mean", "physical_writes_per_logical_write"]
baseline = "none"
x = "workload.transactions"
[[axis]]
key = "device.channels"
values = [2, 8]
[[axis]]
key = "workload.transactions"
values = [60, 120]
[[axis]]
key = "workload.write_fraction"
values = [0.25, 0.75, 1.0]
[scenario]
name = "index"
[scenario.workload]
kind = "generated"
"#,
    );
    let out = tmp.path().join("o");
    let o = owm(&[
        "sweep",
        &f,
        "--out",
        &s(&out),
        "--quiet",
        "--allow-violations",
    ]);
    ok(&o);
    let (header, rows) = csv_table(&out, "plots.csv");
    assert_eq!(
        header,
        [
            "plot",
            "metric",
            "difference_against",
            "x_axis",
            "device.channels",
            "workload.write_fraction"
        ]
    );
    let mut svgs: Vec<String> = names(&out)
        .into_iter()
        .filter_map(|n| n.strip_suffix(".svg").map(str::to_string))
        .collect();
    svgs.sort();
    let mut stems: Vec<String> = rows.iter().map(|r| r[0].clone()).collect();
    stems.sort();
    assert_eq!(stems, svgs, "one row per plot");
    // 2 metrics × (the metric, its difference to none) × 2 × 3 combinations.
    assert_eq!(rows.len(), 2 * 2 * 6);
    let mut seen = std::collections::BTreeSet::new();
    for r in &rows {
        assert!(out.join(format!("{}.png", r[0])).is_file(), "{r:?}");
        assert_eq!(r[3], "workload.transactions", "{r:?}");
        assert!(["", "none"].contains(&r[2].as_str()), "{r:?}");
        assert!(r[0].starts_with(&r[1]), "{r:?}");
        assert_eq!(r[0].contains("--vs-none"), r[2] == "none", "{r:?}");
        assert!(seen.insert((r[1].clone(), r[2].clone(), r[4].clone(), r[5].clone())));
        let svg = std::fs::read_to_string(out.join(format!("{}.svg", r[0]))).unwrap();
        let title = texts(&svg)
            .into_iter()
            .map(|(t, _)| t)
            .find(|t| t.starts_with("index: "))
            .unwrap_or_else(|| panic!("no title in {}", r[0]));
        assert!(
            title.ends_with(&format!("= {}, write fraction = {})", r[4], r[5])),
            "{title} for {r:?}"
        );
    }
    for metric in ["response_ticks_mean", "physical_writes_per_logical_write"] {
        for against in ["", "none"] {
            for channels in ["2", "8"] {
                for fraction in ["0.25", "0.75", "1"] {
                    let key = (metric, against, channels, fraction);
                    let key = (
                        key.0.to_string(),
                        key.1.to_string(),
                        key.2.to_string(),
                        key.3.to_string(),
                    );
                    assert!(seen.contains(&key), "{key:?} missing from {rows:?}");
                }
            }
        }
    }
}

/// The width and dash of the line drawn in `hex` in `svg`: the polylines in that
/// colour wider than an error bar's 1 pixel share one width; a solid line is drawn as
/// one (and its legend sample one more), a dashed line as dozens of dashes.
fn line_style(svg: &str, hex: &str) -> (u32, bool) {
    let widths: Vec<u32> = svg
        .lines()
        .filter(|l| l.starts_with("<polyline") && l.contains(&format!("stroke=\"{hex}\"")))
        .filter_map(|l| {
            l.split("stroke-width=\"")
                .nth(1)?
                .split('"')
                .next()?
                .parse()
                .ok()
        })
        .filter(|&w| w > 1)
        .collect();
    assert!(!widths.is_empty(), "no line in {hex}");
    assert!(widths.iter().all(|&w| w == widths[0]), "{hex}: {widths:?}");
    (widths[0], widths.len() > 3)
}

/// A grid point where one of two seeds ran past the axis's time limit is the mean of
/// the seed left: `stats.csv` says 1 of 2 seeds failed there (`seeds_run`,
/// `seeds_failed`), and both plots box it in each policy's colour, the legend saying
/// `boxed: 1 of 2 seeds failed (mean of the rest)`; the points where every seed ran are
/// not boxed. Each policy's line has one width and dash in the plot of the metric and
/// in its `--vs-` plot, which leaves the baseline out.
#[test]
fn points_where_seeds_failed_are_boxed_and_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "s.toml",
        r#"
policies = ["quiesce", "mirroring", "cow"]
baseline = "quiesce"
seeds = [1, 2]
metrics = ["response_ticks_mean"]
[[axis]]
key = "limits.time_ticks_max"
values = [6000, 100000000]
[scenario.workload]
kind = "generated"
records = 256
transactions = 30
"#,
    );
    let out = tmp.path().join("o");
    let o = owm(&["sweep", &f, "--out", &s(&out), "--quiet"]);
    assert_eq!(code(&o), 3, "a limit cut a seed: {}", stderr(&o));
    let stats = csv_rows(&out, "stats.csv");
    assert_eq!(stats.len(), 6, "{stats:?}");
    for r in &stats {
        let cut = r["limits.time_ticks_max"] == "6000";
        assert_eq!(r["seeds_run"], "2", "{r:?}");
        assert_eq!(r["seeds_failed"], if cut { "1" } else { "0" }, "{r:?}");
        assert_eq!(r["n"], if cut { "1" } else { "2" }, "{r:?}");
    }
    let boxes = |svg: &str| -> Vec<String> {
        svg.lines()
            .filter(|l| {
                l.starts_with("<rect") && l.contains("width=\"24\"") && l.contains("fill=\"none\"")
            })
            .map(str::to_string)
            .collect()
    };
    let colours = [
        ("quiesce", "#D62728"),
        ("mirroring", "#2CA02C"),
        ("cow", "#9467BD"),
    ];
    let metric = String::from_utf8(bytes(&out, "response_ticks_mean.svg")).unwrap();
    let vs = String::from_utf8(bytes(&out, "response_ticks_mean--vs-quiesce.svg")).unwrap();
    for (svg, drawn) in [(&metric, &colours[..]), (&vs, &colours[1..])] {
        let t: Vec<String> = texts(svg).into_iter().map(|(s, _)| s).collect();
        assert!(
            t.contains(&"boxed: 1 of 2 seeds failed (mean of the rest)".to_string()),
            "{t:?}"
        );
        // One box per policy drawn, at the cut point, in its colour.
        let b = boxes(svg);
        assert_eq!(b.len(), drawn.len(), "{b:?}");
        for (_, hex) in drawn {
            assert!(b.iter().any(|l| l.contains(hex)), "{hex}: {b:?}");
        }
    }
    for (name, hex) in &colours[1..] {
        assert_eq!(line_style(&metric, hex), line_style(&vs, hex), "{name}");
    }
    // Every seed ran: no box, no legend entry.
    std::fs::create_dir_all(tmp.path().join("whole")).unwrap();
    let whole = sweep(
        &tmp.path().join("whole"),
        &format!("{BASE}[[axis]]\nkey = \"workload.records\"\nvalues = [64, 128]\n{WORKLOAD}"),
    );
    let svg = String::from_utf8(bytes(&whole, "admission_delay_ticks_mean.svg")).unwrap();
    assert!(boxes(&svg).is_empty());
    assert!(!svg.contains("boxed"));
    assert!(csv_rows(&whole, "stats.csv")
        .iter()
        .all(|r| r["seeds_failed"] == "0"));
}
