//! The run file of `owm run`: a `sim::Scenario` (fields at the top level, exactly as
//! the simulator defines them) plus two CLI keys, `policies` and `seed`. The
//! simulator's struct refuses unknown fields, and serde's `flatten` would defeat that,
//! so the CLI keys are read first (with their spans) and then blanked out of the text
//! — replaced by spaces, newlines kept — before the rest is deserialised into
//! `Scenario`: every line and column in an error stays the user's.

use engine::shown::ShowName as _;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use sim::{Policy, Scenario};

use crate::config::{
    after_table_words, check_scenario, load_trace, read, refusal_driven_by, refuse_inert,
    scenario_error, top_level_keys, unknown_field_words, FileError,
};

/// The policies a file names when it names none: every backup policy, baselines first
/// (`none`, no backup, is named explicitly).
pub fn default_policies() -> Vec<Policy> {
    Policy::ALL.to_vec()
}

/// What is wrong with a file's `policies` list, if anything: empty, or a policy named
/// twice (its rows and files would be written twice; `crash` and `snapshot` are
/// `crash-consistent`).
pub fn policies_fault(policies: &[Policy]) -> Option<String> {
    if policies.is_empty() {
        return Some("is empty; name at least one policy".into());
    }
    let (i, p) = policies
        .iter()
        .enumerate()
        .find(|(i, p)| policies[..*i].contains(p))?;
    Some(format!(
        "`{}` is named twice (entries {} and {}); name each policy once{}",
        p.as_str(),
        policies.iter().position(|q| q == p).map_or(0, |j| j + 1),
        i + 1,
        if *p == Policy::CrashConsistent {
            " (`crash` and `snapshot` are aliases of `crash-consistent`)"
        } else {
            ""
        }
    ))
}

/// The CLI keys of a run file, with where they are.
#[derive(Deserialize, Default)]
struct CliKeys {
    policies: Option<toml::Spanned<Vec<Policy>>>,
    seed: Option<toml::Spanned<u64>>,
    /// Only whether the file gives one: the scenario reads its value.
    name: Option<toml::Value>,
}

/// The top-level keys of a run file that are not the scenario's.
pub const RUN_ONLY: [&str; 2] = ["policies", "seed"];

/// The top-level keys of a sweep file that a run file does not have: an error about
/// one of them in a run file says the file may be a sweep.
pub const SWEEP_ONLY: [&str; 7] = [
    "title", "seeds", "baseline", "x", "metrics", "axis", "scenario",
];

/// A parsed run file.
#[derive(Debug, Clone)]
pub struct RunFile {
    pub policies: Vec<Policy>,
    pub seed: Option<u64>,
    pub scenario: Scenario,
}

/// Blanks the key/value pair whose value spans `span`: from the start of its line to
/// the end of the value, keeping newlines, so every other offset is unchanged.
fn blank(src: &mut [u8], span: Range<usize>) {
    let start = src[..span.start]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    for b in &mut src[start..span.end] {
        if *b != b'\n' {
            *b = b' ';
        }
    }
}

/// The words of a run of `s` refused by `limits.output_bytes_max`: the estimate of
/// what `policies` would write, by part, the part that drives it and the ways out (the
/// timeline turned off only when it is on), and the keys that drive it, most direct
/// first: the largest part's key (`backup.quiesce_retries_max` for the milestones of
/// many quiesce retries), then the others.
fn output_too_large(
    s: &Scenario,
    output: &reports::output::OutputEstimate,
    policies: &[Policy],
) -> (String, Vec<&'static str>) {
    use reports::output::Driver;
    let named: Vec<String> = policies.iter().map(|p| format!("`{p}`")).collect();
    let h = sim::footprint::human_bytes;
    let (driver, bytes) = output.driver();
    let (transactions, _) = s.workload.size();
    let (part, advice, first): (String, String, &[&'static str]) = match driver {
        Driver::Transactions => (
            format!(
                "the timeline of {}",
                sim::number_text::counted(transactions, "transaction", "transactions")
            ),
            format!(
                "{}give fewer transactions",
                if s.keep_timeline {
                    "set keep_timeline = false (trace.csv then holds the backup milestones \
                     alone, and no extra_space.csv is written), or "
                } else {
                    ""
                }
            ),
            &[],
        ),
        Driver::QuiesceRetries => (
            format!(
                "the backup milestones of up to backup.quiesce_retries_max = {} quiesce \
                 retries a backup cycle (two trace.csv rows a retry, with or without the \
                 timeline)",
                s.backup.quiesce_retries_max
            ),
            "lower backup.quiesce_retries_max".to_string(),
            &["backup.quiesce_retries_max"],
        ),
        Driver::Cycles => (
            format!(
                "the backup milestones and summary.csv rows of {} backup cycle{}",
                s.backup.cycle_count().max(1),
                if s.backup.cycle_count() > 1 { "s" } else { "" }
            ),
            "give fewer backup cycles".to_string(),
            &["backup.cycles", "backup.schedule_at_ticks"],
        ),
        Driver::Policies => (
            format!(
                "the pictures of {} {}",
                policies.len(),
                if policies.len() == 1 {
                    "policy"
                } else {
                    "policies"
                }
            ),
            "run fewer policies".to_string(),
            &["policies"],
        ),
    };
    let message = format!(
        "the run would write about {} into its output directory under {} {} ({}), more \
         than limits.output_bytes_max = {}; {} of it is {part}: raise limits.output_bytes_max, or {advice}",
        h(output.total_bytes()),
        if named.len() == 1 {
            "policy"
        } else {
            "policies"
        },
        named.join(", "),
        output.describe(),
        h(s.limits.output_bytes_max),
        h(bytes),
    );
    let mut drivers = first.to_vec();
    for k in s.drivers_of("limits.output_bytes_max") {
        if !drivers.contains(&k) {
            drivers.push(k);
        }
    }
    (message, drivers)
}

/// Loads a run file: the scenario checked for the run of its policies
/// (`config::check_scenario`), its keys without effect refused, and the bytes the run
/// would write bounded by `limits.output_bytes_max` (`reports::output`).
pub fn load_run_file(path: &Path) -> Result<RunFile, FileError> {
    let src = read(path)?;
    let keys: CliKeys = toml::from_str(&src).map_err(|e| FileError::toml(path, &src, &e))?;
    let mut rest = src.clone().into_bytes();
    for span in [
        keys.policies.as_ref().map(|p| p.span()),
        keys.seed.as_ref().map(|s| s.span()),
    ]
    .into_iter()
    .flatten()
    {
        blank(&mut rest, span);
    }
    let rest = String::from_utf8(rest).map_err(|_| FileError::whole(path, "not UTF-8"))?;
    let mut scenario: Scenario = toml::from_str(&rest).map_err(|e| {
        let mut err = scenario_error::<Scenario>(path, &src, &rest, "", &e);
        let top_level = err.key.as_deref().is_some_and(|k| !k.contains('.'));
        if let Some(words) = unknown_field_words(&err.message, &RUN_ONLY).filter(|_| top_level) {
            // The run file's own keys are keys too.
            err.message = words;
        }
        let mut top: Vec<String> = RUN_ONLY.iter().map(|k| k.to_string()).collect();
        top.extend(top_level_keys::<Scenario>());
        if let Some(words) = after_table_words(&src, &err, &top, "run file") {
            err.message.push_str(&words);
        }
        if let Some(k) = err.key.as_deref().filter(|k| SWEEP_ONLY.contains(k)) {
            err.message.push_str(&format!(
                " (`{k}` is a key of a sweep file: is this one? run it with `owm sweep {}`)",
                path.shown()
            ));
        }
        err
    })?;
    load_trace(path, &src, "", &mut scenario)?;
    if keys.name.is_none() {
        // A file without `name` is named by its stem in titles and CSVs, not by the
        // default scenario's name.
        if let Some(name) = stem_name(path) {
            scenario.name = name;
        }
    }
    let policies = match keys.policies {
        Some(p) => {
            if let Some(why) = policies_fault(p.get_ref()) {
                return Err(FileError::key(path, &src, "policies", why));
            }
            p.into_inner()
        }
        None => default_policies(),
    };
    check_scenario(path, &src, "", &scenario, &policies, &[])?;
    refuse_inert(path, &src, "", &scenario.inert_keys(&policies), &[])?;
    let output = reports::output::estimate(&scenario, &policies);
    if output.total_bytes() > scenario.limits.output_bytes_max {
        let (message, drivers) = output_too_large(&scenario, &output, &policies);
        return Err(refusal_driven_by(
            path,
            &src,
            "",
            &drivers,
            "limits.output_bytes_max",
            message,
            &[],
        ));
    }
    if let Some(refused) = beyond_the_machine(
        &scenario,
        &policies,
        crate::machine_memory::available_bytes(),
    ) {
        return Err(refusal_driven_by(
            path,
            &src,
            "",
            &refused.1,
            "limits.memory_bytes_max",
            refused.0,
            &[],
        ));
    }
    Ok(RunFile {
        policies,
        seed: keys.seed.map(|s| s.into_inner()),
        scenario,
    })
}

/// A run whose memory estimate passes its bound (`limits.memory_bytes_max`, set above
/// the machine) but not the memory `available` now: the words of its refusal and the
/// keys that drive the estimate, as the bound's own refusal has them, so that the
/// bound's advice (raise it) does not lead to the kernel's out-of-memory killer
/// (`owm check` refuses a search past the memory available alike). `None` when it
/// fits, or when the available memory is unknown.
fn beyond_the_machine(
    scenario: &Scenario,
    policies: &[sim::Policy],
    available: Option<(u64, &str)>,
) -> Option<(String, Vec<&'static str>)> {
    let (available, source) = available?;
    let layout = scenario.layout().ok()?;
    let f = sim::footprint::estimate(scenario, &layout, policies);
    if f.total_bytes() <= available {
        return None;
    }
    let (part, _) = f.largest_part();
    let (words, advice, drivers) = sim::footprint::part_advice(scenario, part, true);
    let h = sim::footprint::human_bytes;
    Some((
        format!(
            "the run would hold about {} ({}), {}; its largest part is {words}: {advice}, or \
             free memory",
            h(f.total_bytes()),
            f.describe(),
            crate::machine_memory::past_the_machine(
                available,
                source,
                &h(scenario.limits.memory_bytes_max)
            ),
        ),
        drivers,
    ))
}

/// The name of a scenario file without `name`: its stem, each control character (which
/// the `name` key refuses: tables, CSV, SVG and JUnit files print the name) and each
/// byte that is not UTF-8 written `\xHH`, as messages show a name
/// ([`engine::shown::escaped`]). `None` for a path without a file name.
pub(crate) fn stem_name(path: &Path) -> Option<String> {
    use std::os::unix::ffi::OsStrExt;
    let stem = path.file_stem()?.as_bytes();
    Some(engine::shown::escaped(stem, |c| !c.is_control()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blanking_keeps_offsets() {
        const SRC: &str = "policies = [\"none\",\n  \"cow\"]\nseed = 9\nname = \"x\"\n";
        let mut b = SRC.as_bytes().to_vec();
        let start = SRC.find("[\"none\"").unwrap();
        let end = SRC.find("]\nseed").unwrap() + 1;
        blank(&mut b, start..end);
        let s = String::from_utf8(b).unwrap();
        assert_eq!(s.len(), SRC.len());
        assert!(s.starts_with("            "));
        assert_eq!(s.lines().count(), SRC.lines().count());
        assert!(s.contains("seed = 9"));
    }
}
