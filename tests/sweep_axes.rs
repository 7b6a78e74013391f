//! `owm sweep` refuses an `[[axis]]` whose values it cannot honour, and names the line
//! of the value at fault: an error caused by an axis value is at that value's line in
//! the axis's `values` (exit 2), never at the base scenario's line of the same key.

use crate::util::*;

const BASE: &str = "[scenario.workload]\nkind = \"generated\"\ntransactions = 10\n";

/// Runs `owm sweep` on `text` (written as `name` in a fresh directory): the file's path
/// and the output.
fn sweep(name: &str, text: &str) -> (tempfile::TempDir, String, std::process::Output) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo().join("tests/data/traces/hand-plain.csv"),
        tmp.path().join("t1.csv"),
    )
    .unwrap();
    let f = write(tmp.path(), name, text);
    let o = owm(&["sweep", &f, "--out", &s(&tmp.path().join("out"))]);
    (tmp, f, o)
}

/// Asserts exit 2, every needle in stderr, and nothing written.
fn refused(tmp: &tempfile::TempDir, o: &std::process::Output, needles: &[&str]) {
    assert_eq!(code(o), 2, "bad input exits 2: {}", stderr(o));
    fails_with(o, needles);
    assert!(!tmp.path().join("out").exists(), "nothing written");
}

/// A value a key refuses, for several kinds of key (a trace's path, a number out of
/// range, a name of a choice), is named at its own line of `values` with the value,
/// whether the array is on one line or on several; the base scenario setting the same
/// key elsewhere does not take the blame.
#[test]
fn an_axis_value_error_names_the_values_line_and_the_value() {
    // A trace path: the base's `path` (line 9) is readable, the axis's second is not.
    let (tmp, f, o) = sweep(
        "path.toml",
        "policies = [\"cow\"]\n[[axis]]\nkey = \"workload.path\"\nvalues = [\"t1.csv\",\n  \"nosuch.csv\"]\n\n[scenario.workload]\nkind = \"trace\"\npath = \"t1.csv\"\nformat = \"csv\"\n",
    );
    refused(
        &tmp,
        &o,
        &[
            &format!("{f}:5: key `workload.path`: with value \"nosuch.csv\":"),
            "nosuch.csv: cannot read",
            "\"nosuch.csv\"]",
        ],
    );
    assert!(!stderr(&o).contains(&format!("{f}:9")), "{}", stderr(&o));
    // A number out of range, the base setting the key too (line 8).
    let (tmp, f, o) = sweep(
        "range.toml",
        &format!("policies = [\"cow\"]\n[[axis]]\nkey = \"workload.write_fraction\"\nvalues = [\n  0.5,\n  2.0,\n]\n{BASE}write_fraction = 0.3\n"),
    );
    refused(
        &tmp,
        &o,
        &[
            &format!("{f}:6: key `workload.write_fraction`: with value 2.0:"),
            "out of range",
        ],
    );
    // No transactions: refused at the axis's values, as the key itself is.
    let (tmp, f, o) = sweep(
        "zero.toml",
        &format!("policies = [\"cow\"]\n[[axis]]\nkey = \"workload.transactions\"\nvalues = [10, 0]\n{BASE}"),
    );
    refused(
        &tmp,
        &o,
        &[
            &format!("{f}:4: key `workload.transactions`: with value 0:"),
            "must be at least 1",
        ],
    );
    // A name of a choice: an unknown one, then a value that is not a name at all.
    for (value, why) in [
        ("\"floppy\"", "unknown variant `floppy`"),
        ("3", "expected one of"),
    ] {
        let (tmp, f, o) = sweep(
            "enum.toml",
            &format!("policies = [\"cow\"]\n[[axis]]\nkey = \"workload.records\"\nvalues = [64]\n[[axis]]\nkey = \"device.profile\"\nvalues = [\"sata-ssd\", {value}]\n{BASE}[scenario.device]\nprofile = \"nvme-ssd\"\n"),
        );
        // Quoted as the file writes it.
        refused(
            &tmp,
            &o,
            &[
                &format!("{f}:7: key `device.profile`: with value {value}:"),
                why,
            ],
        );
    }
}

/// `scale = "log"` with a value that is not above 0, and a scale given to values that
/// are not numbers, are refused at the value's line, naming it; without `scale` the
/// same values run (a linear axis, categories).
#[test]
fn a_scale_the_values_cannot_take_is_refused() {
    for (key, values, scale, shown, why) in [
        (
            "workload.write_fraction",
            "[0.0, 0.6]",
            "log",
            "0",
            "is not above 0",
        ),
        (
            "backup.request_at_ticks",
            "[0, 100]",
            "log",
            "0",
            "is not above 0",
        ),
        (
            "workload.kind",
            "[\"bank\", \"generated\"]",
            "linear",
            "bank",
            "is not a number",
        ),
    ] {
        let text = format!(
            "policies = [\"cow\"]\n[[axis]]\nkey = \"{key}\"\nvalues = {values}\nscale = \"{scale}\"\n{BASE}"
        );
        let (tmp, f, o) = sweep("scale.toml", &text);
        refused(
            &tmp,
            &o,
            &[
                &format!("{f}:4: key `axis.0.values`"),
                &format!("has scale = \"{scale}\", and its value {shown} {why}"),
            ],
        );
        if scale == "log" {
            let (_tmp, _f, o) = sweep("scale.toml", &text.replace("scale = \"log\"\n", ""));
            ok(&o);
        }
    }
}

/// A value given twice on one axis, as the scenario reads it (`0.5` and `0.50`, `64`
/// and `64.0`, a choice's name and its table form `{ "nvme-ssd" = {} }`; other strings
/// exactly), is refused at the repeated value's line, naming it and, when they differ,
/// both forms as written; values that differ run.
#[test]
fn a_repeated_axis_value_is_refused() {
    for (key, values, shown, forms) in [
        (
            "workload.write_fraction",
            "[0.5, 0.2,\n  0.50]",
            "0.5",
            ", written `0.5` and `0.50`",
        ),
        (
            "workload.write_fraction",
            "[1, 0.2,\n  1.0]",
            "1",
            ", written `1` and `1.0`",
        ),
        (
            "device.profile",
            "[\"sata-ssd\", \"nvme-ssd\",\n  \"sata-ssd\"]",
            "sata-ssd",
            "",
        ),
        (
            "device.profile",
            "[\"nvme-ssd\", \"sata-ssd\",\n  { \"nvme-ssd\" = {} }]",
            "nvme-ssd",
            ", written `\"nvme-ssd\"` and `{ \"nvme-ssd\" = {} }`",
        ),
        (
            "archive.profile",
            "[\"1gbe\", \"10gbe\",\n  { \"1gbe\" = {} }]",
            "1gbe",
            ", written `\"1gbe\"` and `{ \"1gbe\" = {} }`",
        ),
        (
            "backup.on_data_area_full",
            "[\"break-snapshot\", \"break-guest-write\",\n  { \"break-snapshot\" = {} }]",
            "break-snapshot",
            ", written `\"break-snapshot\"` and `{ \"break-snapshot\" = {} }`",
        ),
    ] {
        let text =
            format!("policies = [\"cow\"]\n[[axis]]\nkey = \"{key}\"\nvalues = {values}\n{BASE}");
        let (tmp, f, o) = sweep("twice.toml", &text);
        let read = if forms.is_empty() {
            ""
        } else {
            ", which the scenario reads as one value"
        };
        refused(
            &tmp,
            &o,
            &[
                &format!("{f}:5: key `axis.0.values`"),
                &format!("axis `{key}` takes {shown} twice (values 1 and 3{forms}{read}):"),
            ],
        );
    }
    // Two choices, one in its table form, are two values: both run (the verdict aside).
    let (_tmp, _f, o) = sweep(
        "two.toml",
        &format!("policies = [\"cow\"]\n[[axis]]\nkey = \"device.profile\"\nvalues = [\"nvme-ssd\", {{ \"sata-ssd\" = {{}} }}]\n{BASE}"),
    );
    assert!(
        matches!(code(&o), 0 | 1) && stdout(&o).contains(": 2 grid points"),
        "{}",
        stderr(&o)
    );
    let (_tmp, _f, o) = sweep(
        "once.toml",
        &format!("policies = [\"cow\"]\n[[axis]]\nkey = \"device.profile\"\nvalues = [\"sata-ssd\", \"SATA-SSD\"]\n{BASE}"),
    );
    // Strings compare exactly: the second is another (unknown) name, refused as such.
    fails_with(&o, &["unknown variant `SATA-SSD`"]);
}

/// A metric listed twice is refused at the repeated entry's line, naming it (stats.csv
/// would hold two groups of one name).
#[test]
fn a_repeated_metric_is_refused() {
    let text = format!(
        "policies = [\"cow\"]\nmetrics = [\"committed\",\n  \"aborted\",\n  \"committed\"]\n{BASE}"
    );
    let (tmp, f, o) = sweep("twice.toml", &text);
    refused(
        &tmp,
        &o,
        &[
            &format!("{f}:4: key `metrics`"),
            "lists `committed` twice (metrics 1 and 3)",
        ],
    );
}

/// A grid past the points `owm sweep` runs is refused before it is built, at the
/// `values` line of the axis that takes it past the bound, with the count and its
/// parts; a repeated value among many is found as among few (each value compared with
/// the values it could equal, not with all before it).
#[test]
fn a_grid_too_large_is_refused_at_the_axis_that_makes_it_so() {
    let values = |from: u64, n: u64| {
        (from..from + n)
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let text = format!(
        "policies = [\"none\", \"cow\"]\nseeds = [1, 2]\n\
         [[axis]]\nkey = \"workload.transactions\"\nvalues = [{}]\n\
         [[axis]]\nkey = \"workload.records\"\nvalues = [{}]\n{BASE}",
        values(10, 500),
        values(64, 1000)
    );
    let (tmp, f, o) = sweep("big.toml", &text);
    refused(
        &tmp,
        &o,
        &[
            &format!("{f}:8: key `axis.1.values`"),
            "the grid has 2000000 points or more with the axes up to this one's 1000 values \
             (2 policies, 2 seeds), more than owm sweep runs (1000000)",
        ],
    );
    // 20,000 values and the last one a repeat of the first, written otherwise.
    let text = format!(
        "[[axis]]\nkey = \"workload.records\"\nvalues = [{}, 64.0]\n{BASE}",
        values(64, 20_000)
    );
    let (tmp, f, o) = sweep("dup.toml", &text);
    refused(
        &tmp,
        &o,
        &[
            &format!("{f}:3: key `axis.0.values`"),
            "takes 64 twice (values 1 and 20001, written `64` and `64.0`",
        ],
    );
}

/// A value in a choice's table form (`{ "nvme-ssd" = {} }`, for any choice: a device
/// or archive profile, the action on a full data area) is the same value as its name,
/// and is spelled as its name everywhere: sweep.csv's and stats.csv's axis columns and
/// the plots' category labels.
#[test]
fn a_value_in_table_form_is_written_as_its_name() {
    let text = format!(
        "policies = [\"cow\"]\nmetrics = [\"response_ticks_mean\"]\n\
         [[axis]]\nkey = \"device.profile\"\nvalues = [\"sata-ssd\", {{ \"nvme-ssd\" = {{}} }}]\n\
         [[axis]]\nkey = \"archive.profile\"\nvalues = [{{ \"10gbe\" = {{}} }}]\n\
         [[axis]]\nkey = \"backup.on_data_area_full\"\nvalues = [{{ \"break-snapshot\" = {{}} }}]\n{BASE}\
         [scenario.backup]\ndata_area_fraction = 0.05\n"
    );
    let (tmp, _f, o) = sweep("table-form.toml", &text);
    assert!(matches!(code(&o), 0 | 1), "{}", stderr(&o));
    let out = tmp.path().join("out");
    for file in ["sweep.csv", "stats.csv"] {
        let (header, rows) = csv_table(&out, file);
        for (key, names) in [
            ("device.profile", &["sata-ssd", "nvme-ssd"][..]),
            ("archive.profile", &["10gbe"][..]),
            ("backup.on_data_area_full", &["break-snapshot"][..]),
        ] {
            let c = header.iter().position(|h| h == key).expect(key);
            let mut seen: Vec<&str> = rows.iter().map(|r| r[c].as_str()).collect();
            seen.dedup();
            assert_eq!(seen, names, "{file} {key}");
        }
    }
    let svg = String::from_utf8(bytes(&out, "response_ticks_mean.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let texts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| Some(n.text()?.trim()))
        .collect();
    assert!(
        texts.contains(&"nvme-ssd"),
        "the category is named: {texts:?}"
    );
    assert!(!svg.contains('{'), "no table form in the plot");
}
