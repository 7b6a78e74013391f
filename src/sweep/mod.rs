//! `owm sweep` and `owm merge`: a grid of scenarios (axes × policies × seeds), one CSV
//! row per grid point, one line plot per metric with a line per policy.
//!
//! Grid order: the axes in file order (the first is the outermost loop), then the
//! policies in file order, then the seeds (innermost). A point's index in that order is
//! the CSV's `index` column. `--shard K/N` runs exactly the points with
//! `index % N == K - 1` (round robin, so slow and fast regions of the grid spread over
//! the shards); `owm merge` sorts the shards' rows by index and writes the same bytes
//! one unsharded run writes, because every output is a function of (the sweep file's
//! bytes, the rows).

mod file;
mod grid;
mod plots;

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use reports::tables;

pub use grid::Shard;

use crate::config;
use crate::run::{default_out, make_out_dir};
use file::load;
use grid::{run_points, Sweep};
use plots::line_plots;

pub fn sweep(file: &Path, out: Option<PathBuf>, shard: Option<Shard>, jobs: usize) -> Result<()> {
    let src = config::read(file)?;
    let sw = load(file, &src)?;
    let out = out.unwrap_or_else(|| default_out(file));
    make_out_dir(&out)?;
    let total = sw.points();
    let selected: Vec<usize> = (0..total)
        .filter(|&i| shard.is_none_or(|s| s.holds(i)))
        .collect();
    say!(
        "sweep {}: {total} grid points ({} axis combinations x {} policies x {} seeds){}",
        file.display(),
        sw.combos.len(),
        sw.spec.policies.len(),
        sw.spec.seeds.len(),
        shard
            .map(|s| format!(", shard {}/{}: {} points", s.k, s.n, selected.len()))
            .unwrap_or_default()
    );
    let rows = run_points(file, &sw, &selected, jobs)?;
    match shard {
        Some(s) => {
            write_files(&out, &src, &sw, &rows, false)?;
            let marker = format!("shard = \"{}/{}\"\npoints = {total}\n", s.k, s.n);
            reports::write_atomic(&out.join(SHARD_FILE), marker.as_bytes())?;
            say!("wrote {}", out.join(SHARD_FILE).display());
            say!(
                "merge with: owm merge <the {} shard directories> --out DIR",
                s.n
            );
        }
        None => write_files(&out, &src, &sw, &rows, true)?,
    }
    let shard_arg = shard
        .map(|s| format!(" --shard {}/{}", s.k, s.n))
        .unwrap_or_default();
    say!(
        "reproduce: owm sweep {}{shard_arg} --out {}",
        file.display(),
        out.display()
    );
    Ok(())
}

const SHARD_FILE: &str = "shard.toml";
const CSV_FILE: &str = "sweep.csv";
const SPEC_FILE: &str = "sweep.toml";

/// Writes `sweep.csv`, a copy of the sweep file (`sweep.toml`: what merge re-reads), and
/// with `plots` the line plots.
fn write_files(out: &Path, src: &str, sw: &Sweep, rows: &[Vec<String>], plots: bool) -> Result<()> {
    let mut written = vec![out.join(CSV_FILE), out.join(SPEC_FILE)];
    tables::write_table(&written[0], &sw.header(), rows)?;
    reports::write_atomic(&written[1], src.as_bytes())?;
    if plots {
        for (name, plot) in line_plots(sw, rows) {
            let svg = out.join(format!("{name}.svg"));
            reports::write_atomic(&svg, reports::lines::render_svg(&plot)?.as_bytes())?;
            let png = out.join(format!("{name}.png"));
            reports::write_atomic(&png, &reports::lines::render_png(&plot)?)?;
            written.push(svg);
            written.push(png);
        }
    }
    for w in written {
        say!("wrote {}", w.display());
    }
    Ok(())
}

/// Joins shard outputs: checks they come from the same sweep file and together hold
/// every grid point exactly once, then writes what one unsharded run writes.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<()> {
    let mut src: Option<(PathBuf, String)> = None;
    let mut header: Option<Vec<String>> = None;
    let mut rows: Vec<(usize, Vec<String>)> = Vec::new();
    for d in dirs {
        let spec_path = d.join(SPEC_FILE);
        let s = config::read(&spec_path).context("not a sweep output directory")?;
        config::read(&d.join(SHARD_FILE)).context("not a shard output (no shard.toml)")?;
        match &src {
            Some((first, text)) if *text != s => {
                bail!(
                    "{}: differs from {}: the shards come from different sweeps",
                    spec_path.display(),
                    first.display()
                )
            }
            Some(_) => {}
            None => src = Some((spec_path.clone(), s)),
        }
        let csv_path = d.join(CSV_FILE);
        let (h, rs) = tables::read_table(&csv_path)?;
        match &header {
            Some(h0) if *h0 != h => bail!(
                "{}: header differs from the other shards'",
                csv_path.display()
            ),
            Some(_) => {}
            None => header = Some(h),
        }
        for r in rs {
            let i: usize = r
                .first()
                .and_then(|x| x.parse().ok())
                .ok_or_else(|| anyhow!("{}: a row without an index", csv_path.display()))?;
            rows.push((i, r));
        }
    }
    let (spec_path, src) = src.ok_or_else(|| anyhow!("no shard directories given"))?;
    let sw = load(&spec_path, &src)?;
    if header.as_ref() != Some(&sw.header()) {
        bail!(
            "{}: the CSV header does not match the sweep file",
            spec_path.display()
        );
    }
    rows.sort_by_key(|(i, _)| *i);
    let total = sw.points();
    for (expect, (i, _)) in rows.iter().enumerate() {
        if *i != expect {
            bail!("the shards do not hold grid point {expect} exactly once (found {i}); {total} points expected");
        }
    }
    if rows.len() != total {
        bail!("the shards hold {} of {total} grid points", rows.len());
    }
    make_out_dir(out)?;
    let rows: Vec<Vec<String>> = rows.into_iter().map(|(_, r)| r).collect();
    write_files(out, &src, &sw, &rows, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_grid() {
        let shards: Vec<Shard> = (1..=3).map(|k| Shard { k, n: 3 }).collect();
        for i in 0..100 {
            assert_eq!(shards.iter().filter(|s| s.holds(i)).count(), 1);
        }
        assert!("0/3".parse::<Shard>().is_err());
        assert!("4/3".parse::<Shard>().is_err());
        assert!("a/b".parse::<Shard>().is_err());
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { k: 2, n: 3 }));
    }
}
