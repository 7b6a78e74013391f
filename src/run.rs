//! `owm run`: every policy a scenario names, on one seed; a comparison table on
//! stdout, CSV tables and timing diagrams in the output directory.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use reports::{figure, tables, timing, NamedRun};

use crate::runfile;

/// The seed when neither the command line nor the file gives one: fixed, printed, never
/// drawn from the OS, so every run can be repeated.
pub const DEFAULT_SEED: u64 = 1;

/// Arguments of `owm run`.
pub struct RunArgs {
    pub scenario: PathBuf,
    pub seed: Option<u64>,
    pub out: Option<PathBuf>,
}

/// The default output directory: `out/<file stem>`.
pub fn default_out(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into());
    Path::new("out").join(stem)
}

/// Creates the output directory, with an error that names it.
pub fn make_out_dir(out: &Path) -> Result<()> {
    std::fs::create_dir_all(out)
        .with_context(|| format!("{}: cannot create the output directory", out.display()))
}

pub fn run(args: RunArgs) -> Result<()> {
    let file = runfile::load_run_file(&args.scenario)?;
    let seed = args.seed.or(file.seed).unwrap_or(DEFAULT_SEED);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&args.scenario));
    make_out_dir(&out)?;
    let mut runs = Vec::with_capacity(file.policies.len());
    for &p in &file.policies {
        runs.push(run_one(&args.scenario, &file.scenario, p, seed)?);
    }
    print_table(&runs);
    write_outputs(&out, &runs)?;
    for run in &runs {
        for v in &run.result.violations {
            say!("violation under {}: {v}", run.name);
        }
    }
    say!(
        "reproduce: owm run {} --seed {seed} --out {}",
        args.scenario.display(),
        out.display()
    );
    Ok(())
}

/// Runs one policy; a simulator error names the scenario file.
pub fn run_one(
    path: &Path,
    scenario: &sim::Scenario,
    p: sim::Policy,
    seed: u64,
) -> Result<NamedRun> {
    let result = sim::run(scenario, p, seed)
        .with_context(|| format!("{}: policy {p} with seed {seed}", path.display()))?;
    Ok(NamedRun {
        name: p.as_str().to_string(),
        result,
    })
}

fn print_table(runs: &[NamedRun]) {
    use tables::Metric as M;
    let cols: [(&str, M); 10] = [
        ("committed", M::Committed),
        ("adm mean", M::AdmissionDelayMeanTicks),
        ("adm p99", M::AdmissionDelayP99Ticks),
        ("adm max", M::AdmissionDelayMaxTicks),
        ("req→A ok", M::RequestToAConsistentTicks),
        ("unavail", M::UnavailableTicks),
        ("wr/lw", M::PhysicalWritesPerLogicalWrite),
        ("extra pk", M::ExtraSpacePeakBlocks),
        ("lock wt", M::LockWaits),
        ("violations", M::Violations),
    ];
    let name_w = runs.iter().map(|r| r.name.len()).max().unwrap_or(6).max(6);
    let mut line = format!("{:<name_w$}", "policy");
    for (h, _) in cols {
        line.push_str(&format!(" {h:>10}"));
    }
    say!("{line}");
    for run in runs {
        let mut line = format!("{:<name_w$}", run.name);
        for (_, metric) in cols {
            let v = metric.value(&run.result);
            line.push_str(&format!(" {:>10}", if v.is_empty() { "-" } else { &v }));
        }
        say!("{line}");
    }
    say!("(times in ticks, 1 tick = 1 µs; adm = admission delay of new transactions; wr/lw = physical writes per logical write)");
}

/// Writes `summary.csv`, `trace.csv`, and the timing diagrams: one PNG and SVG per
/// policy, and `timing.{png,svg}` with every policy stacked on one time scale.
pub fn write_outputs(out: &Path, runs: &[NamedRun]) -> Result<()> {
    let mut written = Vec::new();
    let p = out.join("summary.csv");
    tables::write_summary(&p, runs)?;
    written.push(p);
    let p = out.join("trace.csv");
    tables::write_trace(&p, runs)?;
    written.push(p);
    let diagrams: Vec<timing::Diagram> = runs.iter().map(figure::diagram).collect();
    let range = timing::shared_range(&diagrams);
    for (run, d) in runs.iter().zip(&diagrams) {
        let one = std::slice::from_ref(d);
        written.extend(write_picture(
            out,
            &format!("timing-{}", run.name),
            one,
            range,
        )?);
    }
    written.extend(write_picture(out, "timing", &diagrams, range)?);
    for w in &written {
        say!("wrote {}", w.display());
    }
    Ok(())
}

fn write_picture(
    out: &Path,
    stem: &str,
    d: &[timing::Diagram],
    range: (u64, u64),
) -> Result<Vec<PathBuf>> {
    let svg = out.join(format!("{stem}.svg"));
    reports::write_atomic(&svg, timing::render_svg(d, range)?.as_bytes())?;
    let png = out.join(format!("{stem}.png"));
    reports::write_atomic(&png, &timing::render_png(d, range)?)?;
    Ok(vec![svg, png])
}
