//! The JSON summary of a [`Report`]: the command, the version, the seed(s), every
//! case's verdict and the command that reproduces it. Written atomically; reads back
//! with serde into the same [`Report`].

use std::path::Path;

use anyhow::{Context, Result};

use super::Report;

/// The report as pretty-printed JSON (ends with a newline).
pub fn to_string(report: &Report) -> Result<String> {
    let mut s = serde_json::to_string_pretty(report).context("encoding the JSON verdict")?;
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
                trace: Some(crate::verdict::TraceLength {
                    steps: 12,
                    shortest: false,
                    not_shortest: Some("depth first".into()),
                }),
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
        assert!(text.contains("\"verdict\": \"violated\""), "{text}");
        assert!(text.contains("\"shortest\": false"), "{text}");
    }
}
