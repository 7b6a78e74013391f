//! `owm check --model FILE`: the transactions of a check, and optionally its volume,
//! from a TOML file, for the workloads the flags do not generate.
//!
//! ```toml
//! blocks = 3               # optional (default 2)
//! records_per_block = 1    # optional (default 1)
//!
//! [[transaction]]
//! role = "old"             # old (active at the split) or new
//! from = 0                 # debited record, 0-based over the whole volume
//! to = 2                   # credited record
//! amount = 5               # 1 to 1000000000
//! ```
//!
//! Old transactions are numbered first (T0, T1, … in the file's order), then the new
//! ones. Every error names the file, the line and the key (`m.toml:7: key
//! `transaction.1.to`: …`): exit 2, never a panic. The trace of a check from a file
//! carries the transactions themselves (`--transactions old:0:2:5,…` on its model
//! line), not the file's path and digest, so it replays where the file is gone or
//! has changed since.

use std::path::Path;

use model::config::Transfer;
use model::CheckConfig;
use serde::Deserialize;

use crate::config::{read, FileError};

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    blocks: Option<u64>,
    records_per_block: Option<u64>,
    #[serde(default)]
    transaction: Vec<Transfer>,
}

/// `cfg` with the volume and the transactions of the model file at `path`.
pub fn apply(path: &Path, cfg: &mut CheckConfig) -> Result<(), FileError> {
    let src = read(path)?;
    let file: ModelFile = toml::from_str(&src).map_err(|e| FileError::toml(path, &src, &e))?;
    let key = |k: &str, msg: String| FileError::key(path, &src, k, msg);
    if let Some(b) = file.blocks {
        cfg.blocks = b;
    }
    if let Some(r) = file.records_per_block {
        cfg.records_per_block = r;
    }
    if file.transaction.is_empty() {
        return Err(FileError::whole(
            path,
            "no [[transaction]]: give at least one old and one new",
        ));
    }
    for role in [model::program::Role::Old, model::program::Role::New] {
        if !file.transaction.iter().any(|t| t.role == role) {
            return Err(FileError::whole(
                path,
                format!(
                    "no {} [[transaction]]: the split needs at least one of each role",
                    role.as_str()
                ),
            ));
        }
    }
    let mut geometry = cfg.clone();
    geometry.transactions = None;
    geometry.old = 1;
    geometry.new = 1;
    if let Err(e) = geometry.validate() {
        let rpb_ok = (1..=model::config::RECORDS_PER_BLOCK_MAX).contains(&cfg.records_per_block);
        let k = if file.records_per_block.is_some() && (!rpb_ok || file.blocks.is_none()) {
            "records_per_block"
        } else {
            "blocks"
        };
        return Err(key(k, e.to_string()));
    }
    let records = cfg.blocks * cfg.records_per_block;
    for (i, t) in file.transaction.iter().enumerate() {
        if let Some(msg) = t.problem(records) {
            let field = if t.from >= records {
                "from"
            } else if t.to >= records || t.from == t.to {
                "to"
            } else {
                "amount"
            };
            return Err(key(&format!("transaction.{i}.{field}"), msg));
        }
    }
    cfg.set_transactions(file.transaction);
    cfg.validate()
        .map_err(|e| FileError::whole(path, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(src: &str) -> Result<CheckConfig, String> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("m.toml");
        std::fs::write(&path, src).expect("write");
        let mut cfg = CheckConfig::default();
        apply(&path, &mut cfg).map_err(|e| {
            let s = e.to_string();
            s.replace(&path.display().to_string(), "m.toml")
        })?;
        Ok(cfg)
    }

    const TWO: &str = "[[transaction]]\nrole = \"new\"\nfrom = 1\nto = 0\namount = 3\n\n\
                       [[transaction]]\nrole = \"old\"\nfrom = 0\nto = 1\namount = 5\n";

    #[test]
    fn a_file_sets_the_volume_and_the_transactions_old_first() {
        let cfg = load(&format!("blocks = 3\n{TWO}")).expect("valid");
        assert_eq!((cfg.blocks, cfg.old, cfg.new), (3, 1, 1));
        let ts = cfg.transactions.as_ref().expect("transactions");
        assert_eq!(ts[0].to_string(), "old:0:1:5");
        assert_eq!(ts[1].to_string(), "new:1:0:3");
        let flags = cfg.model_flags();
        assert!(
            flags.ends_with("--blocks 3 --transactions old:0:1:5,new:1:0:3"),
            "{flags}"
        );
        assert_eq!(CheckConfig::from_model_flags(&flags).expect("flags"), cfg);
    }

    #[test]
    fn errors_name_the_line_and_the_key() {
        for (src, want) in [
            (
                TWO.replace("to = 0", "to = 9"),
                "m.toml:4: key `transaction.0.to`",
            ),
            (
                TWO.replace("amount = 5", "amount = 0"),
                "m.toml:11: key `transaction.1.amount`",
            ),
            (
                TWO.replace("to = 0", "to = 1"),
                "m.toml:4: key `transaction.0.to`",
            ),
            (TWO.replace("role = \"old\"", "role = \"odd\""), "m.toml:8"),
            (TWO.replace("amount = 3", "amont = 3"), "m.toml:5"),
            (format!("blocks = 1\n{TWO}"), "m.toml:1: key `blocks`"),
            (
                TWO.replace("role = \"old\"", "role = \"new\""),
                "m.toml: no old [[transaction]]",
            ),
            ("blocks = 2\n".into(), "m.toml: no [[transaction]]"),
        ] {
            let e = load(&src).expect_err(&src);
            assert!(e.starts_with(want), "{src}\n{e}");
        }
    }
}
