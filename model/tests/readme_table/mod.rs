//! The README's tables as the tests that pin their counts read them.

/// The rows (whole lines) of the README table under `header`, a line of the README.
///
/// Panics when the README has no such line: the table is what the caller pins.
pub fn rows(header: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let start = readme
        .find(header)
        .unwrap_or_else(|| panic!("the README has no table headed {header}"));
    readme[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(str::to_string)
        .collect()
}

/// `n` with a comma between each group of three digits, as the README writes counts.
pub fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A row's result cell: `holds`, or the violated invariants in bold.
pub fn result(violated: &[&str]) -> String {
    if violated.is_empty() {
        "holds".to_string()
    } else {
        format!("**{} violated**", violated.join(", "))
    }
}
