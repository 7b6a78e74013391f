//! A path as one word of a POSIX shell command line, for the `reproduce:` lines owm
//! prints and records: a path with a space, a quote or a control character is quoted
//! (`owm run 'my fig.toml' --seed 1 --out 'o 5'`), so the line pastes back as it ran,
//! in any POSIX shell (`sh`, dash, bash, zsh, ksh).
//!
//! A path holding a control character or bytes that are not UTF-8 is written in single
//! quotes, `'` as `'\''`:
//! - a line feed or a tab stays as it is inside the quotes (a shell reads it back as
//!   it is; the terminal shows it escaped, `\x0a`, as any text: that is display, not
//!   the command);
//! - any other control character and each byte that is not UTF-8 is written by
//!   `printf` in octal, between the quoted parts (`'a'"$(printf '\033')"'[31mb'`),
//!   so the command holds only characters JSON and XML 1.0 files carry as they are.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// `p` quoted for a POSIX shell where it needs to be (`shlex`), as it is otherwise;
/// in single quotes with `printf` for the bytes a file cannot carry when it holds a
/// control character or is not UTF-8 (the module's doc).
pub fn shell_word(p: &Path) -> String {
    let bytes = p.as_os_str().as_bytes();
    if let Ok(s) = std::str::from_utf8(bytes) {
        if !s.chars().any(char::is_control) {
            // A path holds no NUL byte, the one word shlex cannot quote.
            return shlex::try_quote(s).map_or_else(|_| s.to_string(), |q| q.into_owned());
        }
    }
    // Runs of text kept as they are (quoted), and runs of bytes printf writes.
    let mut word = String::new();
    let mut text = String::new();
    let mut octal = String::new();
    let quoted = |word: &mut String, text: &mut String| {
        if !text.is_empty() {
            word.push('\'');
            word.push_str(&text.replace('\'', "'\\''"));
            word.push('\'');
            text.clear();
        }
    };
    let printed = |word: &mut String, octal: &mut String| {
        if !octal.is_empty() {
            word.push_str(&format!("\"$(printf '{octal}')\""));
            octal.clear();
        }
    };
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() && c != '\n' && c != '\t' {
                quoted(&mut word, &mut text);
                for b in c.encode_utf8(&mut [0u8; 4]).bytes() {
                    octal.push_str(&format!("\\{b:03o}"));
                }
            } else {
                printed(&mut word, &mut octal);
                text.push(c);
            }
        }
        if !chunk.invalid().is_empty() {
            quoted(&mut word, &mut text);
            for b in chunk.invalid() {
                octal.push_str(&format!("\\{b:03o}"));
            }
        }
    }
    quoted(&mut word, &mut text);
    printed(&mut word, &mut octal);
    word
}

/// [`shell_word`] of `p` by its absolute path (the working directory before a relative
/// one), so a command recorded in a verdict file runs from any directory.
pub fn absolute_word(p: &Path) -> String {
    shell_word(&std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()))
}

/// `p` by its absolute path (the working directory before a relative one) as a JSON
/// field carries a file (a check's `trace.file`): the path itself when it is UTF-8
/// (JSON escapes its control characters, so it reads back exactly), else as the
/// command beside it carries it, one [`shell_word`] (`'/w/c'"$(printf '\377')"'/t'`).
/// An absolute path begins with `/`, such a word with `'`: a reader tells them apart.
pub fn json_path(p: &Path) -> String {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    match abs.to_str() {
        Some(text) => text.to_string(),
        None => shell_word(&abs),
    }
}

/// The `owm merge` command line that merges `dirs` into `out` (its `reproduce:`),
/// each path written by `word` ([`shell_word`], [`absolute_word`]).
pub fn merge_command(dirs: &[std::path::PathBuf], out: &Path, word: fn(&Path) -> String) -> String {
    let dirs: Vec<String> = dirs.iter().map(|d| word(d)).collect();
    format!("owm merge {} --out {}", dirs.join(" "), word(out))
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
    /// but a line feed or a tab, and every POSIX shell here (`sh`, dash, bash) reads
    /// it back byte for byte.
    #[test]
    fn control_characters_and_other_bytes_are_quoted_and_read_back() {
        use std::ffi::OsStr;
        let paths: Vec<&[u8]> = vec![
            b"a\x1b[31mb",
            b"tab\there",
            b"new\nline's \\ $x `y` \"z\"",
            b"\x1bfirst and last\x07",
            "c1\u{9b}31m \u{e9}".as_bytes(),
            b"del\x7f\r",
            b"not\xffutf8 'q'",
            b"\xc3\x28\x1bab",
            b"\n",
        ];
        let mut ran = 0;
        for p in paths {
            let w = shell_word(Path::new(OsStr::from_bytes(p)));
            assert!(
                !w.chars().any(|c| c.is_control() && c != '\n' && c != '\t'),
                "{w:?}"
            );
            for shell in ["sh", "dash", "bash"] {
                let Ok(out) = std::process::Command::new(shell)
                    .arg("-c")
                    .arg(format!("printf %s {w}"))
                    .output()
                else {
                    continue; // not installed here: the escaping is still checked above
                };
                assert_eq!(out.stdout, p, "{shell}: {w:?}");
                ran += 1;
            }
        }
        assert!(ran > 0, "no POSIX shell ran");
    }

    /// An absolute word names the same file from the working directory.
    #[test]
    fn an_absolute_word_is_the_path_from_the_working_directory() {
        let here = std::env::current_dir().unwrap();
        let w = absolute_word(Path::new("a b.toml"));
        assert_eq!(
            shlex::split(&w),
            Some(vec![here.join("a b.toml").to_string_lossy().into_owned()])
        );
        assert_eq!(absolute_word(Path::new("/x/y")), "/x/y");
    }

    /// A JSON path is absolute, the path itself when UTF-8 (control characters and
    /// all), else a shell word beginning with `'` that names the same bytes.
    #[test]
    fn a_json_path_is_absolute_and_its_bytes_are_recoverable() {
        use std::ffi::OsStr;
        let here = std::env::current_dir().unwrap();
        assert_eq!(
            json_path(Path::new("t\nk\u{1b}/a b.trace")),
            here.join("t\nk\u{1b}/a b.trace").to_str().unwrap()
        );
        assert_eq!(json_path(Path::new("/x/y")), "/x/y");
        let raw = Path::new(OsStr::from_bytes(b"/c\nk\xff/b.trace"));
        let w = json_path(raw);
        assert!(w.starts_with('\''), "{w}");
        assert_eq!(w, shell_word(raw));
        if let Ok(out) = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf %s {w}"))
            .output()
        {
            assert_eq!(out.stdout, raw.as_os_str().as_bytes(), "{w}");
        }
    }
}
