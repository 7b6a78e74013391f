//! A path as one word of a POSIX shell command line, for the `reproduce:` lines owm
//! prints and records: a path with a space, a quote or a control character is quoted
//! (`owm run 'my fig.toml' --seed 1 --out 'o 5'`), so the line pastes back as it ran.

use std::path::Path;

/// `p` quoted for a POSIX shell where it needs to be (`shlex`), as it is otherwise.
pub fn shell_word(p: &Path) -> String {
    let s = p.to_string_lossy();
    // A path holds no NUL byte, the one word shlex cannot quote.
    shlex::try_quote(&s).map_or_else(|_| s.to_string(), |q| q.into_owned())
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
        for p in [
            "plain/fig3.toml",
            "my fig.toml",
            "it's",
            "a\u{1b}[31mb",
            "$HOME",
            "",
        ] {
            let w = shell_word(Path::new(p));
            assert_eq!(shlex::split(&w), Some(vec![p.to_string()]), "{w}");
        }
        assert_eq!(shell_word(Path::new("plain/fig3.toml")), "plain/fig3.toml");
    }
}
