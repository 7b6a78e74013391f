//! Text as it reaches a terminal. A line owm prints may hold a name from the user's
//! files (a scenario's path, an output directory, a trace file's name); a control
//! character in it (an ESC starting a colour or cursor sequence, a carriage return
//! overwriting the line, a line feed splitting it) would reach the terminal raw and
//! change what it shows. Each name is shown escaped where a message names it
//! ([`engine::shown`]: every control character as `\xHH`, the line feed and tab
//! too). Every line `owm` prints then goes through [`terminal_safe`], for any text a
//! message carries from elsewhere: each control character but the line feed and tab
//! of owm's own layout (C0, DEL, C1) is shown as `\xHH` of its bytes.

use std::borrow::Cow;

/// Whether `c` goes to a terminal as it is: anything but a control character, and the
/// line feed and tab of owm's own tables.
fn shown_as_is(c: char) -> bool {
    !c.is_control() || c == '\n' || c == '\t'
}

/// `text` with each control character but line feed and tab written as `\xHH` of its
/// UTF-8 bytes (`a\x1b[31mb`); borrowed as it is when it holds none (the usual case).
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    engine::shown::escaped(text.as_bytes(), shown_as_is)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No control character but line feed and tab survives; every other character
    /// does, in order; text with none is not copied.
    #[test]
    fn control_characters_are_escaped_and_nothing_else_changes() {
        assert_eq!(
            terminal_safe("e\u{1b}[31mx.toml\r"),
            "e\\x1b[31mx.toml\\x0d"
        );
        assert_eq!(
            terminal_safe("c1 \u{9b}2J del \u{7f}"),
            "c1 \\xc2\\x9b2J del \\x7f"
        );
        let kept = "a\tb\nline é ✓ \u{10000}";
        assert!(matches!(terminal_safe(kept), Cow::Borrowed(_)));
        for cp in (0u32..0x3000).chain(0x1_0000..0x1_0100) {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            let s = format!("<{c}>");
            let out = terminal_safe(&s);
            assert!(
                out.chars().all(shown_as_is),
                "U+{cp:04X} reached the terminal raw"
            );
            if shown_as_is(c) {
                assert_eq!(out, s);
            } else {
                assert!(out.starts_with("<\\x") && out.ends_with('>'), "{out}");
            }
        }
    }
}
