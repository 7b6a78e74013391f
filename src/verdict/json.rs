//! The JSON summary of a [`Report`]: the command, the version, the seed(s), every
//! case's verdict, the command that reproduces it, and the verdict line's first word
//! (`verdict`). Written atomically; reads back with serde into the same [`Report`]
//! (`verdict` is derived from the cases and the exit status, so it is not read back).

use std::path::Path;

use anyhow::{Context, Result};

use super::{Report, Word};

/// The report with its verdict word last: `{"command": ..., "verdict": "held"}`
/// (`command` stays first: an earlier verdict file in an output directory is known
/// by its first bytes, `crate::outdir`).
#[derive(serde::Serialize)]
struct WithWord<'a> {
    #[serde(flatten)]
    report: &'a Report,
    verdict: Word,
}

/// The report as pretty-printed JSON (ends with a newline).
pub fn to_string(report: &Report) -> Result<String> {
    let with_word = WithWord {
        verdict: report.word(),
        report,
    };
    let mut s = serde_json::to_string_pretty(&with_word).context("encoding the JSON verdict")?;
    s.push('\n');
    Ok(s)
}

/// Parses a JSON verdict written by [`write()`].
pub fn from_str(text: &str) -> Result<Report> {
    serde_json::from_str(text).context("parsing a JSON verdict")
}

/// Writes the report to `path` atomically.
pub fn write(path: &Path, report: &Report) -> Result<()> {
    reports::write_atomic(path, to_string(report)?.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Outcome;

    #[test]
    fn round_trips() {
        let mut r = Report::new("sweep", "owm sweep s.toml".into(), false);
        r.seeds = vec![1, 2];
        r.push("point 0", "b-complete", Outcome::Held);
        r.push(
            "point 1",
            "b-complete",
            Outcome::Violated {
                count: 3,
                detail: "txn 4 lost".into(),
                trace: Some(Box::new(crate::verdict::TraceLength {
                    steps: 12,
                    shortest: false,
                    not_shortest: Some("depth first".into()),
                    file: Some("out/check/b-complete.trace".into()),
                    replay: Some("owm check --replay out/check/b-complete.trace".into()),
                })),
            },
        );
        r.push(
            "point 2",
            "a-consistent",
            Outcome::Unchecked {
                reason: "history off".into(),
            },
        );
        let text = to_string(&r).unwrap();
        assert_eq!(from_str(&text).unwrap(), r);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["verdict"], "violated", "{text}");
        assert_eq!(v["backups_lost"], serde_json::json!([]), "{text}");
        assert_eq!(v["backup_cycles_lost"], 0, "{text}");
        assert_eq!(v["backups_retried"], serde_json::json!([]), "{text}");
        assert!(text.contains("\"shortest\": false"), "{text}");
    }

    /// `suite_reproduce` is written in grid order over more than ten points (`point 2`
    /// before `point 10`, as `cases[]` has them), and reads back the same.
    #[test]
    fn suite_reproduce_is_in_grid_order() {
        let mut r = Report::new("sweep", "owm sweep s.toml".into(), false);
        let suite = |i: usize| format!("point {i} (workload.records={}, cow, seed 1)", 120 - i);
        for i in 0..12 {
            r.push(suite(i), "b-complete", Outcome::Held);
            r.suite_reproduce.insert(
                suite(i),
                format!("owm sweep /w/s.toml --shard {}/12 --out point-{i}", i + 1),
            );
        }
        let text = to_string(&r).unwrap();
        let at: Vec<usize> = (0..12)
            .map(|i| {
                text.find(&format!("\"{}\": \"owm sweep", suite(i)))
                    .unwrap()
            })
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
        assert_eq!(from_str(&text).unwrap(), r);
    }

    #[test]
    fn natural_order_compares_numbers_by_value() {
        use std::cmp::Ordering::*;
        let cmp = crate::verdict::natural_cmp;
        assert_eq!(cmp("point 2 (x)", "point 10 (x)"), Less);
        assert_eq!(cmp("point 10 (a=9)", "point 10 (a=10)"), Less);
        assert_eq!(cmp("point 1", "point 1"), Equal);
        assert_eq!(cmp("point 01", "point 1"), Less);
        assert_eq!(cmp("a", "a1"), Less);
        assert_eq!(cmp("b", "a1"), Greater);
    }
}
