//! The phase names README.md lists for `owm device status` against the names status
//! prints (the engine's `Phase` as text, which the server's status reply carries).

use std::collections::BTreeSet;

use engine::Phase;

/// Every phase; the match breaks the build when a phase is added and not listed here.
fn every_phase() -> [Phase; 4] {
    let all = [Phase::Single, Phase::Split, Phase::BackedUp, Phase::Retired];
    for p in all {
        match p {
            Phase::Single | Phase::Split | Phase::BackedUp | Phase::Retired => {}
        }
    }
    all
}

/// The names of README's "The phase is one of" list: each backticked name followed by
/// its meaning in parentheses, up to the end of that paragraph.
fn readme_phases() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let at = readme
        .find("The phase is one of ")
        .expect("README lists the phases");
    let para = &readme[at..];
    let para = &para[..para.find("\n\n").unwrap_or(para.len())];
    let para = para.replace('\n', " ");
    let spans: Vec<&str> = para.split('`').collect();
    spans
        .iter()
        .enumerate()
        .skip(1)
        .step_by(2)
        .filter(|(i, _)| {
            spans
                .get(i + 1)
                .is_some_and(|after| after.starts_with(" ("))
        })
        .map(|(_, name)| name.to_string())
        .collect()
}

/// Every phase name README lists is one `status` prints, and every phase `status` can
/// print is listed.
#[test]
fn readme_lists_exactly_the_phase_names_status_prints() {
    let printed: BTreeSet<String> = every_phase().iter().map(|p| p.to_string()).collect();
    let listed = readme_phases();
    for name in &listed {
        assert!(
            printed.contains(name),
            "README lists the phase `{name}`, which status never prints (it prints {printed:?})"
        );
    }
    let listed: BTreeSet<String> = listed.into_iter().collect();
    assert_eq!(
        listed, printed,
        "README's phase list against status's names"
    );
}
