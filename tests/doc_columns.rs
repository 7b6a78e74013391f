//! The column names scenarios/README.md and README.md give for `summary.csv` against
//! the header a run writes: every name of the column list, of the window tables and
//! after "counted in" is a column (a `prefix_*` name stands for the columns it
//! starts), and every column of the header is named in scenarios/README.md.

use std::collections::BTreeSet;

use crate::util::*;

/// The header of `summary.csv` of the shipped `detach.toml`, which copies VLUN B to
/// B' (so the `detach_*` columns are in it).
fn header() -> Vec<String> {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    ok(&owm(&[
        "run",
        "scenarios/detach.toml",
        "--out",
        &s(&out),
        "--allow-violations",
        "--quiet",
    ]));
    csv_table(&out, "summary.csv").0
}

/// The names in backticked spans of `text` (a span may hold a comma-separated list).
fn names_in(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .flat_map(|span| span.split(','))
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .collect()
}

/// The backticked spans of `text` outside parentheses.
fn top_level_spans(text: &str) -> String {
    let (mut depth, mut in_tick, mut out) = (0i32, false, String::new());
    for c in text.chars() {
        match c {
            '`' => {
                in_tick = !in_tick;
                if depth == 0 {
                    out.push(c);
                }
                continue;
            }
            '(' if !in_tick => depth += 1,
            ')' if !in_tick => depth -= 1,
            _ => {}
        }
        if depth == 0 && in_tick {
            out.push(c);
        }
    }
    out
}

/// True when `name` is a column of `header`, or a `prefix_*` / `*_suffix` pattern
/// some column matches.
fn is_column(header: &[String], name: &str) -> bool {
    match name.split_once('*') {
        Some((pre, post)) => header
            .iter()
            .any(|c| c.starts_with(pre) && c.ends_with(post) && c.len() > pre.len() + post.len()),
        None => header.iter().any(|c| c == name),
    }
}

#[test]
fn the_docs_column_names_are_summary_csv_columns() {
    let header = header();
    let readme = std::fs::read_to_string(repo().join("scenarios/README.md")).unwrap();
    let top = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let mut named = Vec::new();

    // The column list.
    let start = readme
        .find("`summary.csv` columns: ")
        .expect("scenarios/README.md lists summary.csv's columns");
    let rest = &readme[start + "`summary.csv` columns: ".len()..];
    let end = rest
        .find("then one column per invariant")
        .expect("the column list ends at the invariants");
    let listed = names_in(&top_level_spans(&rest[..end]));
    assert!(listed.len() > 60, "the column list: {listed:?}");
    named.extend(listed);

    // The window tables: a row whose first cell names window columns.
    for line in readme.lines().filter(|l| l.starts_with("| `")) {
        let first = line[2..].split(" | ").next().unwrap();
        let cells = names_in(first);
        if cells.iter().all(|n| {
            ["window_", "before_", "none_window_"]
                .iter()
                .any(|p| n.starts_with(p))
        }) {
            named.extend(cells);
        }
    }

    // What the docs say a thing is "counted in".
    for text in [&readme, &top] {
        for (i, _) in text.match_indices("counted in `") {
            let span = &text[i + "counted in ".len()..];
            let close = span[1..].find('`').unwrap() + 2;
            named.extend(names_in(&span[..close]));
        }
    }

    let missing: BTreeSet<&String> = named.iter().filter(|n| !is_column(&header, n)).collect();
    assert!(
        missing.is_empty(),
        "the docs name columns summary.csv does not have: {missing:?}\nheader: {header:?}"
    );

    // Every column is named in scenarios/README.md.
    let all: BTreeSet<String> = names_in(&readme).into_iter().collect();
    let undocumented: Vec<&String> = header.iter().filter(|c| !all.contains(*c)).collect();
    assert!(
        undocumented.is_empty(),
        "summary.csv columns scenarios/README.md never names: {undocumented:?}"
    );
}

/// Every refusal kind `owm device` can print, the server's (`kind: "…"`, a retire's
/// `refuse("…"`, an engine error's `… => "…"`) and `owm device`'s own
/// (`refuse_here("…"`), is listed in README.md's row for `owm device`, for scripts that
/// switch on `kind`.
#[test]
fn every_refusal_kind_is_listed_in_the_readme() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut kinds = BTreeSet::new();
    for file in [
        "serve/src/host.rs",
        "serve/src/control.rs",
        "src/device_cmd.rs",
    ] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let text = text.replace("( \"", "(\"");
        for opener in ["kind: \"", "refuse(\"", "refuse_here(\"", "{ .. } => \""] {
            for (at, _) in text.match_indices(opener) {
                let rest = &text[at + opener.len()..];
                let kind = &rest[..rest.find('"').unwrap()];
                if !kind.is_empty() && kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
                    kinds.insert(kind.to_string());
                }
            }
        }
    }
    assert!(kinds.len() >= 9, "the kinds were not found: {kinds:?}");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let row = readme
        .lines()
        .find(|l| l.starts_with("| `owm device split"))
        .expect("README's row for owm device");
    let listed = names_in(row);
    for kind in &kinds {
        assert!(
            listed.contains(kind),
            "`{kind}` is not listed in README's row: {row}"
        );
    }
}

/// Every event name the shipped scenarios write to `trace.csv` is named, in
/// backquotes, in scenarios/README.md's `trace.csv` section (from its heading to the
/// paragraph on a transaction's device calls): the backup's milestones (`detach.toml`'s
/// `detach-start` and `detach-end`, `schedule.toml`'s cycles) and a transaction's.
#[test]
fn every_trace_event_is_listed_in_the_readme() {
    let readme = std::fs::read_to_string(repo().join("scenarios/README.md")).unwrap();
    let from = readme
        .find("**`trace.csv`** holds one row per event")
        .expect("the trace.csv section");
    let to = from
        + readme[from..]
            .find("A transaction's device calls")
            .expect("the end of the trace.csv section");
    let section = &readme[from..to];
    let tmp = tempfile::tempdir().unwrap();
    let mut events = BTreeSet::new();
    for scenario in ["detach", "schedule", "fig4-5", "faults-integrity"] {
        let out = tmp.path().join(scenario);
        let o = owm(&[
            "run",
            &format!("scenarios/{scenario}.toml"),
            "--out",
            &s(&out),
            "--allow-violations",
            "--quiet",
        ]);
        // A verdict of any kind: the events are what is read.
        assert!(matches!(code(&o), 0 | 1 | 3), "{scenario}: {}", stderr(&o));
        let trace = std::fs::read_to_string(out.join("trace.csv")).unwrap();
        events.extend(
            trace
                .lines()
                .skip(1)
                .filter_map(|l| l.split(',').nth(2).map(str::to_string)),
        );
    }
    assert!(events.contains("detach-start"), "{events:?}");
    let missing: Vec<&String> = events
        .iter()
        .filter(|e| !section.contains(&format!("`{e}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "trace.csv events the README's trace.csv section never names: {missing:?}"
    );
}
