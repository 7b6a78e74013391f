//! Text an XML 1.0 file can hold. A name owm writes into an SVG picture or a JUnit
//! file may come from a user's file name; the characters XML 1.0 forbids even escaped
//! (`Char` production, <https://www.w3.org/TR/xml/#charsets>: the C0 controls but tab,
//! line feed and carriage return, and U+FFFE, U+FFFF) would make the whole file
//! unreadable to every XML parser, so they are shown as U+FFFD instead.

/// Whether XML 1.0 can hold `c` (escaped or not).
pub fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

/// `text` with every character XML 1.0 cannot hold replaced by U+FFFD (the
/// replacement character), returned as it was when it holds none (the usual case: no
/// copy).
pub fn xml_safe(text: String) -> String {
    if text.chars().all(xml_char) {
        return text;
    }
    text.chars()
        .map(|c| if xml_char(c) { c } else { '\u{FFFD}' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_characters_become_the_replacement_character() {
        assert_eq!(
            xml_safe("a\u{1}b\u{1b}c\u{FFFF}".into()),
            "a\u{FFFD}b\u{FFFD}c\u{FFFD}"
        );
        let kept = "tab\there\nline é ✓ \u{10000}".to_string();
        assert_eq!(xml_safe(kept.clone()), kept);
        assert!(
            (0u32..0x20)
                .filter_map(char::from_u32)
                .filter(|&c| xml_char(c))
                .count()
                == 3
        );
    }
}
