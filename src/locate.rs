//! The one key locator: where each dotted key of a TOML file is, from the spans the
//! TOML crate keeps (`toml_edit::ImDocument`), never from reading lines by hand.
//!
//! Paths are dotted (`workload.arrivals.clients`); an element of an array of tables
//! or of an array has its index as a part (`axis.1.key`).

use std::ops::Range;

use toml_edit::{ImDocument, Item, TableLike, Value};

/// One key the file sets, or one table header it writes.
#[derive(Debug, Clone)]
struct Entry {
    path: String,
    /// From the key's first byte to the value's last (a header: the header itself).
    span: Range<usize>,
    header: bool,
}

/// Every key of one file with its byte span.
#[derive(Debug, Clone)]
pub struct Keys<'a> {
    src: &'a str,
    entries: Vec<Entry>,
}

fn join(prefix: &str, part: &str) -> String {
    if prefix.is_empty() {
        part.to_string()
    } else {
        format!("{prefix}.{part}")
    }
}

fn walk(prefix: &str, table: &dyn TableLike, out: &mut Vec<Entry>) {
    for (name, _) in table.iter() {
        let Some((key, item)) = table.get_key_value(name) else {
            continue;
        };
        let path = join(prefix, name);
        match item {
            Item::None => {}
            Item::Value(v) => value(&path, key.span(), v, out),
            Item::Table(t) => table_header(&path, t, out),
            Item::ArrayOfTables(a) => {
                for (i, t) in a.iter().enumerate() {
                    table_header(&join(&path, &i.to_string()), t, out);
                }
            }
        }
    }
}

/// A `[table]` header at `path` (its span, when the table has one), then its keys.
fn table_header(path: &str, t: &toml_edit::Table, out: &mut Vec<Entry>) {
    if let Some(span) = t.span() {
        out.push(Entry {
            path: path.to_string(),
            span,
            header: true,
        });
    }
    walk(path, t, out);
}

fn value(path: &str, key: Option<Range<usize>>, v: &Value, out: &mut Vec<Entry>) {
    if let (Some(k), Some(val)) = (key.clone(), v.span()) {
        out.push(Entry {
            path: path.to_string(),
            span: k.start.min(val.start)..val.end,
            header: false,
        });
    }
    match v {
        Value::InlineTable(t) => walk(path, t, out),
        Value::Array(a) => {
            for (i, e) in a.iter().enumerate() {
                if let Value::InlineTable(t) = e {
                    walk(&join(path, &i.to_string()), t, out);
                }
            }
        }
        _ => {}
    }
}

/// The most bad values [`Keys::of`] blanks to find the keys of a file that does not
/// parse.
const REPAIRS_MAX: usize = 8;

/// The characters of a line an error message quotes; the rest is counted, not shown.
pub const SNIPPET_CHARS_MAX: usize = 200;

/// `text` with the value token at `span` (on one line, after the line's `=`; the
/// parser's span may hold only its first byte, so the token runs on to the next
/// space, `,`, `]`, `}` or `#`) replaced by `0` and spaces, byte offsets kept; `None`
/// when the span is not such a value.
fn blank_value(text: &str, span: Range<usize>) -> Option<String> {
    let rest = text.get(span.start..)?;
    let token_end = rest
        .find(|c: char| c.is_whitespace() || matches!(c, ',' | ']' | '}' | '#'))
        .unwrap_or(rest.len());
    let span = span.start..(span.start + token_end).max(span.end);
    let bad = text
        .get(span.clone())
        .filter(|b| !b.is_empty() && !b.contains('\n'))?;
    let line_start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
    if !text[line_start..span.start].contains('=') || bad == "0" {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..span.start]);
    out.push('0');
    out.extend(std::iter::repeat_n(' ', bad.len() - 1));
    out.push_str(&text[span.end..]);
    Some(out)
}

impl<'a> Keys<'a> {
    /// The keys of `src`. A file that does not parse because of a bad value (a number
    /// too large for TOML's 64 bits, a malformed string) is parsed again with that
    /// value blanked to `0` at the spans the parser gives, so the key around the
    /// parse error is known (at most [`REPAIRS_MAX`] values); a file broken
    /// elsewhere has no keys (its parse error is reported on its own).
    pub fn of(src: &'a str) -> Self {
        let mut entries = Vec::new();
        let mut text = std::borrow::Cow::Borrowed(src);
        for _ in 0..=REPAIRS_MAX {
            let repaired = match ImDocument::parse(text.as_ref()) {
                Ok(doc) => {
                    walk("", doc.as_table(), &mut entries);
                    break;
                }
                Err(e) => e.span().and_then(|span| blank_value(&text, span)),
            };
            match repaired {
                Some(t) => text = std::borrow::Cow::Owned(t),
                None => break,
            }
        }
        Keys { src, entries }
    }

    /// The 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        let offset = offset.min(self.src.len());
        self.src.as_bytes()[..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    /// The text of 1-based line `line`, cut after [`SNIPPET_CHARS_MAX`] characters (a
    /// value of a million characters is not echoed whole into an error message).
    pub fn line_text(&self, line: usize) -> Option<String> {
        let text = self.src.lines().nth(line.checked_sub(1)?)?.trim_end();
        Some(match text.char_indices().nth(SNIPPET_CHARS_MAX) {
            Some((cut, _)) => format!(
                "{} … ({} more characters)",
                &text[..cut],
                text[cut..].chars().count()
            ),
            None => text.to_string(),
        })
    }

    /// The byte span of `key`, or of the nearest enclosing key the file sets (an
    /// inline table, a table header); `None` when the file leaves it at its default.
    pub fn span(&self, key: &str) -> Option<Range<usize>> {
        let mut parts: Vec<&str> = key.split('.').collect();
        while !parts.is_empty() {
            let want = parts.join(".");
            if let Some(e) = self.entries.iter().find(|e| e.path == want) {
                return Some(e.span.clone());
            }
            parts.pop();
        }
        None
    }

    /// The 1-based line that sets `key` (see [`Keys::span`]).
    pub fn line(&self, key: &str) -> Option<usize> {
        self.span(key).map(|s| self.line_of(s.start))
    }

    /// The line an error about `key`, which the file leaves at its default, is
    /// placed at: the nearest enclosing table the file writes (its header, or the key
    /// of an inline table); `None` when it writes none, rather than an unrelated line
    /// (the error then names the file and the key alone).
    pub fn default_line(&self, key: &str) -> Option<usize> {
        self.line(key)
    }

    /// Whether the file itself sets `key` (a dotted key, or a table: its header or any
    /// key under it), not only an enclosing table: the first such key in the file (its
    /// path and 1-based line), `None` when `key` is left at its default.
    pub fn sets(&self, key: &str) -> Option<(String, usize)> {
        let below = format!("{key}.");
        self.entries
            .iter()
            .filter(|e| e.path == key || e.path.starts_with(&below))
            .min_by_key(|e| e.span.start)
            .map(|e| (e.path.clone(), self.line_of(e.span.start)))
    }

    /// The innermost key whose span holds byte `offset` (a value, a key, a header).
    pub fn key_at(&self, offset: usize) -> Option<String> {
        self.entries
            .iter()
            .filter(|e| e.span.start <= offset && offset < e.span.end.max(e.span.start + 1))
            .min_by_key(|e| e.span.len())
            .map(|e| e.path.clone())
    }

    /// A copy of the file in which only the keys under `table` (dotted) are left, each
    /// at its own byte offset, with `table`'s own header and its `skip` key blanked
    /// and sub-table headers shortened to their path below `table`: the text parses
    /// as that table alone, and every error offset in it is an offset of the file.
    /// Newlines are kept.
    pub fn only_under(&self, table: &str, skip: &str) -> String {
        let src = self.src.as_bytes();
        let mut out: Vec<u8> = src
            .iter()
            .map(|&b| if b == b'\n' { b'\n' } else { b' ' })
            .collect();
        let below = format!("{table}.");
        for e in &self.entries {
            let Some(rel) = e.path.strip_prefix(&below) else {
                continue;
            };
            if e.header {
                let short = format!("[{rel}]");
                if short.len() <= e.span.len() {
                    out[e.span.start..e.span.start + short.len()].copy_from_slice(short.as_bytes());
                }
            } else if rel != skip {
                out[e.span.clone()].copy_from_slice(&src[e.span.clone()]);
            }
        }
        // Only whole values were copied and the rest is ASCII spaces: valid UTF-8.
        String::from_utf8(out).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "policies = [\"none\",\n  \"cow\"]\nseed = 9\nname = \"x\"\n\n[workload]\nkind = \"generated\" # c\nwrite_fraction = 1.5\narrivals = { mode = \"open\", interarrival_ticks_mean = 0 }\n\n[[axis]]\nkey = \"a\"\n[[axis]]\nkey = \"b\"\n";

    #[test]
    fn locates_keys_in_tables_inline_tables_and_arrays_of_tables() {
        let k = Keys::of(SRC);
        assert_eq!(k.line("workload.write_fraction"), Some(8));
        assert_eq!(k.line("workload.arrivals.interarrival_ticks_mean"), Some(9));
        assert_eq!(k.line("workload"), Some(6));
        assert_eq!(k.line("workload.records"), Some(6), "nearest enclosing");
        assert_eq!(k.line("geometry.records_per_block"), None);
        assert_eq!(k.line("axis.1.key"), Some(14));
        assert_eq!(k.line("policies"), Some(1));
        let at = SRC.find("generated").unwrap();
        assert_eq!(k.key_at(at).as_deref(), Some("workload.kind"));
        let at = SRC.find("\"cow\"").unwrap();
        assert_eq!(k.key_at(at).as_deref(), Some("policies"));
        let at = SRC.find("[workload]").unwrap();
        assert_eq!(k.key_at(at).as_deref(), Some("workload"));
    }

    #[test]
    fn sets_finds_only_what_the_file_writes() {
        let k = Keys::of(SRC);
        assert_eq!(
            k.sets("workload.write_fraction"),
            Some(("workload.write_fraction".into(), 8))
        );
        assert_eq!(
            k.sets("workload.records"),
            None,
            "an enclosing table is not the key"
        );
        assert_eq!(
            k.sets("workload.arrivals.mode"),
            Some(("workload.arrivals.mode".into(), 9))
        );
        assert_eq!(k.sets("workload.arrivals").map(|s| s.1), Some(9));
        assert_eq!(
            k.sets("workload").map(|s| s.1),
            Some(6),
            "a table: its header"
        );
        assert_eq!(k.sets("geometry"), None);
        assert_eq!(k.sets("work"), None, "a prefix of a name is not a table");
    }

    #[test]
    fn a_value_that_does_not_parse_still_has_its_key() {
        let src = "seed = 1\n[workload]\nkind = \"bank\"\nrecords = 99999999999999999999999\n";
        let e = ImDocument::parse(src).unwrap_err();
        let at = e.span().unwrap().start;
        let k = Keys::of(src);
        assert_eq!(k.key_at(at).as_deref(), Some("workload.records"));
        assert_eq!(k.line("seed"), Some(1));
        // A file broken outside a value has no keys.
        assert_eq!(Keys::of("[workload\nx = 1\n").line("workload.x"), None);
    }

    #[test]
    fn only_under_keeps_offsets_and_the_table() {
        let k = Keys::of(SRC);
        let t = k.only_under("workload", "kind");
        assert_eq!(t.len(), SRC.len());
        assert_eq!(t.lines().count(), SRC.lines().count());
        let at = SRC.find("write_fraction").unwrap();
        assert_eq!(&t[at..at + 14], "write_fraction");
        assert!(!t.contains("kind") && !t.contains("policies") && !t.contains("[workload]"));
        let v: toml::Table = toml::from_str(&t).unwrap();
        assert_eq!(v.len(), 2, "{v:?}");
    }
}
