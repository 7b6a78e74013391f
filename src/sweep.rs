//! `owm sweep` and `owm merge` (being written).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::Result;

/// A slice of a sweep's grid: the points with index % n == k - 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub k: u64,
    pub n: u64,
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not K/N with 1 <= K <= N (e.g. 2/4)");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let k: u64 = k.trim().parse().map_err(|_| bad())?;
        let n: u64 = n.trim().parse().map_err(|_| bad())?;
        if k == 0 || n == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard { k, n })
    }
}

pub fn sweep(
    _file: &Path,
    _out: Option<PathBuf>,
    _shard: Option<Shard>,
    _jobs: usize,
) -> Result<()> {
    anyhow::bail!("not yet")
}

pub fn merge(_dirs: &[PathBuf], _out: &Path) -> Result<()> {
    anyhow::bail!("not yet")
}
