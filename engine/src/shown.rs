//! A name from the user (a path, a file's stem, a key they wrote) as a message shows
//! it: every control character (C0 with the line feed and tab, DEL, C1) written as
//! `\xHH` of its UTF-8 bytes, and every byte that is not UTF-8 as `\xHH` of itself.
//! A message keeps its own line layout; a name inside it never splits a line, moves
//! the cursor or starts a colour (`wrote o\x0ar/summary.csv`, one line).
//!
//! ```
//! use engine::shown::ShowName as _;
//! let p = std::path::Path::new("o\nr\t\u{1b}[31m.toml");
//! assert_eq!(format!("wrote {}", p.shown()), "wrote o\\x0ar\\x09\\x1b[31m.toml");
//! assert_eq!("plain é".shown().to_string(), "plain é");
//! ```

use std::ffi::OsStr;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// A name shown with its control characters and bytes that are not UTF-8 escaped
/// ([`ShowName::shown`]); its `Display` honours width and alignment (`{:<20}`).
#[derive(Clone, Copy)]
pub struct Shown<'a>(&'a [u8]);

impl Shown<'_> {
    /// The name as it is shown.
    fn text(&self) -> std::borrow::Cow<'_, str> {
        escaped(self.0, |c| !c.is_control())
    }
}

/// `bytes` with each character `keep` refuses written as `\xHH` of its UTF-8 bytes and
/// each byte that is not UTF-8 as `\xHH` of itself; borrowed as it is when nothing
/// needs it (the usual case). A name ([`Shown`]) keeps no control character; a line
/// owm prints keeps its own line feeds and tabs (`terminal_text::terminal_safe`).
pub fn escaped(bytes: &[u8], keep: impl Fn(char) -> bool) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) if s.chars().all(&keep) => std::borrow::Cow::Borrowed(s),
        _ => {
            let mut out = String::with_capacity(bytes.len() + 8);
            let hex = |out: &mut String, bytes: &[u8]| {
                for b in bytes {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            };
            for chunk in bytes.utf8_chunks() {
                for c in chunk.valid().chars() {
                    if keep(c) {
                        out.push(c);
                    } else {
                        hex(&mut out, c.encode_utf8(&mut [0u8; 4]).as_bytes());
                    }
                }
                hex(&mut out, chunk.invalid());
            }
            std::borrow::Cow::Owned(out)
        }
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.text())
    }
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Shows a name in a message ([`Shown`]).
pub trait ShowName {
    /// The name as a message shows it: `o\x0ar` for a name holding a line feed.
    fn shown(&self) -> Shown<'_>;
}

impl ShowName for Path {
    fn shown(&self) -> Shown<'_> {
        Shown(self.as_os_str().as_bytes())
    }
}

impl ShowName for OsStr {
    fn shown(&self) -> Shown<'_> {
        Shown(self.as_bytes())
    }
}

impl ShowName for str {
    fn shown(&self) -> Shown<'_> {
        Shown(self.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No control character survives, every other character does in order, each
    /// byte that is not UTF-8 is its escape, and text with none is shown as it is.
    #[test]
    fn control_characters_and_other_bytes_are_escaped_and_nothing_else_changes() {
        assert_eq!(
            Path::new("a\nb\tc\r\u{1b}[1m\u{7f}\u{9b}")
                .shown()
                .to_string(),
            "a\\x0ab\\x09c\\x0d\\x1b[1m\\x7f\\xc2\\x9b"
        );
        assert_eq!(
            OsStr::from_bytes(b"not\xffutf8\n").shown().to_string(),
            "not\\xffutf8\\x0a"
        );
        assert_eq!(format!("[{:>6}]", "a\nb".shown()), "[a\\x0ab]");
        assert_eq!(format!("[{:>6}]", "ab".shown()), "[    ab]");
        for cp in (0u32..0x3000).chain(0x1_0000..0x1_0100) {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            let s = format!("<{c}>");
            let out = s.as_str().shown().to_string();
            assert!(!out.chars().any(char::is_control), "U+{cp:04X} shown raw");
            if c.is_control() {
                assert!(out.starts_with("<\\x") && out.ends_with('>'), "{out}");
            } else {
                assert_eq!(out, s);
            }
        }
    }
}
