//! A path as one word of a POSIX shell command line, for the `reproduce:` lines owm
//! prints and records: a path with a space, a quote or a control character is quoted
//! (`owm run 'my fig.toml' --seed 1 --out 'o 5'`), so the line pastes back as it ran.
//! A path holding a control character (C0, DEL or C1) or bytes that are not UTF-8 is
//! written in dollar-single quotes (POSIX.1-2024, bash, zsh, ksh) with those bytes as
//! `\xHH` escapes (`$'a\x1b[31mb'`): none reaches the terminal raw, and every byte is
//! kept.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// `p` quoted for a POSIX shell where it needs to be (`shlex`), as it is otherwise;
/// in dollar-single quotes when it holds a control character or is not UTF-8.
pub fn shell_word(p: &Path) -> String {
    let bytes = p.as_os_str().as_bytes();
    if let Ok(s) = std::str::from_utf8(bytes) {
        if !s.chars().any(char::is_control) {
            // A path holds no NUL byte, the one word shlex cannot quote.
            return shlex::try_quote(s).map_or_else(|_| s.to_string(), |q| q.into_owned());
        }
    }
    // Dollar-single quotes: each control character's bytes and each byte that is not
    // UTF-8 as `\xHH`, a backslash and a single quote escaped, the rest as it is.
    let mut w = String::from("$'");
    let hex = |w: &mut String, bytes: &[u8]| {
        for b in bytes {
            w.push_str(&format!("\\x{b:02x}"));
        }
    };
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() {
                hex(&mut w, c.encode_utf8(&mut [0u8; 4]).as_bytes());
            } else {
                if c == '\\' || c == '\'' {
                    w.push('\\');
                }
                w.push(c);
            }
        }
        hex(&mut w, chunk.invalid());
    }
    w.push('\'');
    w
}

/// The `owm merge` command line that merges `dirs` into `out` (its `reproduce:`).
pub fn merge_command(dirs: &[std::path::PathBuf], out: &Path) -> String {
    let dirs: Vec<String> = dirs.iter().map(|d| shell_word(d)).collect();
    format!("owm merge {} --out {}", dirs.join(" "), shell_word(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each quoted word splits back (as a shell would) into the path it came from.
    #[test]
    fn quoted_words_split_back_to_their_paths() {
        for p in ["plain/fig3.toml", "my fig.toml", "it's", "$HOME", ""] {
            let w = shell_word(Path::new(p));
            assert_eq!(shlex::split(&w), Some(vec![p.to_string()]), "{w}");
        }
        assert_eq!(shell_word(Path::new("plain/fig3.toml")), "plain/fig3.toml");
    }

    /// A word with control characters or bytes that are not UTF-8 holds none of them
    /// raw, and bash reads it back byte for byte.
    #[test]
    fn control_characters_and_other_bytes_are_escaped_and_read_back() {
        use std::ffi::OsStr;
        let paths: Vec<&[u8]> = vec![
            b"a\x1b[31mb",
            b"tab\there",
            b"new\nline's \\ $x",
            "c1\u{9b}31m é".as_bytes(),
            b"del\x7f",
            b"not\xffutf8 'q'",
            b"\xc3\x28\x1bab",
        ];
        for p in paths {
            let w = shell_word(Path::new(OsStr::from_bytes(p)));
            assert!(w.starts_with("$'") && w.ends_with('\''), "{w}");
            assert!(!w.chars().any(char::is_control), "{w:?}");
            let Ok(out) = std::process::Command::new("bash")
                .arg("-c")
                .arg(format!("printf %s {w}"))
                .output()
            else {
                continue; // no bash here: the escaping is still checked above
            };
            assert_eq!(out.stdout, p, "{w}");
        }
    }
}
