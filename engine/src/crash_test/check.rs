//! The checker: what a recovered device must still read and do.

use super::*;

/// The checker: see the module doc.
pub(super) fn check<S: BlockStore>(d: &Device<S>, m: &Model, ctx: &str) -> Vec<String> {
    let mut out = Vec::new();
    let phase = d.phase();
    if phase != m.phase && Some(phase) != m.phase_maybe {
        out.push(format!(
            "{ctx}: phase: recovered {phase}, expected {}",
            m.phase
        ));
        return out;
    }
    let mut views: [Vec<Option<Vec<u8>>>; 2] = [Vec::new(), Vec::new()];
    for (vi, vlun) in [A, B].into_iter().enumerate() {
        for b in 0..N {
            if !readable(phase, vlun) {
                views[vi].push(None);
                continue;
            }
            let mut buf = vec![0u8; m.bs];
            if let Err(e) = d.read(vlun, b, &mut buf) {
                out.push(format!("{ctx}: live: reading {vlun} block {b}: {e}"));
                views[vi].push(None);
                continue;
            }
            let allowed = m.allowed(vi, b);
            if vlun == A && m.b_values.contains(&buf) {
                out.push(format!(
                    "{ctx}: A-isolated: VLUN A block {b} reads a VLUN B write"
                ));
            } else {
                let torn = m.torn_block == Some(b) && sector_mix(&buf, &allowed, d);
                if !allowed.contains(&buf) && !torn {
                    out.push(format!(
                        "{ctx}: durable: {vlun} block {b} reads neither its durable value nor a write since"
                    ));
                }
            }
            views[vi].push(Some(buf));
        }
    }
    for (b, (x, y)) in views[0].iter().zip(&views[1]).enumerate() {
        if let (Some(x), Some(y)) = (x, y) {
            if !m.written_via_b[b] && x != y {
                out.push(format!(
                    "{ctx}: mirror: block {b} reads differently through A and B"
                ));
            }
        }
    }
    match d.table_contents() {
        Ok(entries) => {
            for e in entries {
                let mut via = vec![0u8; d.block_size()];
                if d.read(e.vlun, e.block, &mut via).is_err() || via != e.data {
                    out.push(format!(
                        "{ctx}: entries: {} -> {} is not what {} reads",
                        e.block, e.slot, e.vlun
                    ));
                }
            }
        }
        Err(e) => out.push(format!("{ctx}: entries: {e}")),
    }
    out.extend(keeps_working(d, ctx));
    out
}

/// Whether every sector of `got` is the same sector of some allowed value: a torn
/// write in flight.
pub(super) fn sector_mix<S: BlockStore>(
    got: &[u8],
    allowed: &BTreeSet<Vec<u8>>,
    d: &Device<S>,
) -> bool {
    let sector = if d.block_size() >= SECTOR_BYTES {
        SECTOR_BYTES
    } else {
        WORD_BYTES
    };
    got.chunks(sector).enumerate().all(|(i, s)| {
        allowed
            .iter()
            .any(|v| &v[i * sector..(i * sector + s.len())] == s)
    })
}

/// New writes read back; the life cycle runs to retire and frees the extra space.
pub(super) fn keeps_working<S: BlockStore>(d: &Device<S>, ctx: &str) -> Vec<String> {
    let bs = d.block_size();
    let go = || -> crate::Result<Option<String>> {
        if d.phase() == Phase::Single {
            d.split()?;
        }
        if d.phase() == Phase::Split {
            d.write(A, 0, &value(bs, 0, 101))?;
        }
        for b in 0..N {
            d.write(B, b, &value(bs, b, 100))?;
        }
        if d.phase() == Phase::Split || !d.archive_complete() {
            d.backup_a(&mut std::io::sink())?;
        }
        if d.phase() == Phase::BackedUp {
            d.retire_a()?;
        }
        d.flush()?;
        for b in 0..N {
            let mut buf = vec![0u8; bs];
            d.read(B, b, &mut buf)?;
            if buf != value(bs, b, 100) {
                return Ok(Some(format!("block {b} does not read back")));
            }
        }
        if d.extra_space_blocks() != 0 {
            return Ok(Some("extra space not freed".into()));
        }
        Ok(None)
    };
    match go() {
        Ok(None) => Vec::new(),
        Ok(Some(e)) => vec![format!("{ctx}: live: {e}")],
        Err(e) => vec![format!("{ctx}: live: {e}")],
    }
}
