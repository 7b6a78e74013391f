//! Symmetry reduction (`owm check --symmetry on`): transactions with the same program
//! (role, records, amount, hence the same steps and locks) are interchangeable, so two
//! states that differ only by a renaming of such transactions have the same futures up
//! to that renaming, and the same verdicts (the oracle uses a transaction's number
//! only as a name). stateright's depth-first search then keeps one fingerprint per
//! class of states: that of [`State`]'s [`Representative`].
//!
//! The representative sorts each class of interchangeable transactions by what the
//! state says of them without naming anyone (program counter, status, records
//! written, values read and whether from the initial image, place in the commit
//! order, locks held, a held block buffer) and renames them in that order — in their
//! slots, the lock table, the commit order, the held buffers, and in every record
//! stamp (a stamp names its writer): the device's images, the declared A image and
//! the block contents written through each VLUN (kept by digest: their bytes are
//! remembered here, [`Symmetry::remember`]). Transactions the sort cannot tell apart
//! keep their order; the result is then still a renaming of the state (sound), only
//! not always the same one for every member of the class (less reduction).
//!
//! The search goes on from the state itself, not its representative (stateright
//! fingerprints the representative only), so every path is a real one and its trace
//! replays as it is.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use engine::Vlun;
use sim::history::{block_digest, read_record, write_record};
use stateright::Representative;

use super::{State, BLOCK_BYTES_MAX};
use crate::config::TXNS_MAX;
use crate::program::{Program, RECORD_BYTES};

/// Which transactions are interchangeable, and the contents behind the digests of
/// written blocks; shared by every state of one check.
pub struct Symmetry {
    /// Groups of interchangeable transactions: ascending numbers, two or more each.
    classes: Vec<Vec<u8>>,
    /// Every block content written through a VLUN, by digest.
    contents: RwLock<HashMap<u64, Box<[u8]>>>,
}

impl std::fmt::Debug for Symmetry {
    /// The classes (the remembered contents would drown a state's dump).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Symmetry {:?}", self.classes)
    }
}

/// A renaming of transactions: `t` becomes `perm[t]`.
type Perm = [u8; TXNS_MAX];

impl Symmetry {
    /// The classes of `programs` (transaction `i` runs `programs[i]`); `None` when no
    /// two are interchangeable.
    pub fn of(programs: &[Program]) -> Option<Symmetry> {
        let mut classes: Vec<Vec<u8>> = Vec::new();
        for (t, p) in programs.iter().enumerate() {
            match classes
                .iter_mut()
                .find(|c| programs[usize::from(c[0])] == *p)
            {
                Some(c) => c.push(t as u8),
                None => classes.push(vec![t as u8]),
            }
        }
        classes.retain(|c| c.len() > 1);
        (!classes.is_empty()).then(|| Symmetry {
            classes,
            contents: RwLock::default(),
        })
    }

    /// Notes the content `bytes` of digest `digest` (a block written through a VLUN).
    pub fn remember(&self, digest: u64, bytes: &[u8]) {
        let known = self
            .contents
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(&digest);
        if !known {
            self.contents
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(digest)
                .or_insert_with(|| bytes.into());
        }
    }

    /// The digest of the content of `digest` with its stamps renamed.
    fn renamed_digest(&self, digest: u64, perm: &Perm) -> u64 {
        let contents = self.contents.read().unwrap_or_else(PoisonError::into_inner);
        let bytes = contents
            .get(&digest)
            .expect("every written content is remembered before its digest is kept");
        let mut bytes = bytes.to_vec();
        rename_stamps(&mut bytes, perm);
        block_digest(&bytes)
    }
}

/// Renames the writer stamp of every record of `bytes` (whole records, as the model's
/// blocks and images hold them): stamp `t + 1` becomes `perm[t] + 1`; 0 (the initial
/// image) and anything else stay.
fn rename_stamps(bytes: &mut [u8], perm: &Perm) {
    for rec in bytes.chunks_exact_mut(RECORD_BYTES) {
        let (value, stamp) = read_record(rec);
        if (1..=TXNS_MAX as u64).contains(&stamp) {
            let to = u64::from(perm[stamp as usize - 1]) + 1;
            if to != stamp {
                write_record(rec, value, to);
            }
        }
    }
}

fn rename_stamp_byte(stamp: u8, perm: &Perm) -> u8 {
    if (1..=TXNS_MAX as u8).contains(&stamp) {
        perm[usize::from(stamp) - 1] + 1
    } else {
        stamp
    }
}

impl State {
    /// The renaming that sorts each class by what the state says of its members.
    fn canonical_perm(&self, sym: &Symmetry) -> Perm {
        let mut perm: Perm = std::array::from_fn(|i| i as u8);
        let commits = self.commits.as_slice();
        for class in &sym.classes {
            let mut order = class.clone();
            order.sort_by_key(|&t| {
                let ts = &self.txns[usize::from(t)];
                let owned = self
                    .locks
                    .iter()
                    .enumerate()
                    .filter(|(_, o)| **o == Some(t))
                    .fold(0u32, |m, (i, _)| m | 1 << i);
                (
                    ts.pc,
                    ts.status,
                    ts.written,
                    [ts.read(0), ts.read(1)].map(|r| r.map(|(v, s)| (v, s == 0))),
                    commits.iter().position(|&c| c == t),
                    owned,
                    (self.held_mask >> t) & 1,
                )
            });
            for (slot, &t) in class.iter().zip(&order) {
                perm[usize::from(t)] = *slot;
            }
        }
        perm
    }

    /// This state with every transaction `t` renamed `perm[t]`.
    fn renamed(&self, perm: &Perm, sym: &Symmetry) -> State {
        let mut n = self.clone();
        for t in 0..usize::from(self.txn_count) {
            let mut ts = self.txns[t];
            for pos in 0..2 {
                if let Some((value, stamp)) = ts.read(pos) {
                    ts.set_read(pos, value, rename_stamp_byte(stamp, perm));
                }
            }
            n.txns[usize::from(perm[t])] = ts;
        }
        for l in n.locks.iter_mut().flatten() {
            *l = perm[usize::from(*l)];
        }
        let len = usize::from(n.commits.len);
        for c in &mut n.commits.order[..len] {
            *c = perm[usize::from(*c)];
        }
        if let Some(held) = &self.held {
            let mut out = [[0u8; BLOCK_BYTES_MAX]; TXNS_MAX];
            let mut mask = 0u8;
            for t in 0..TXNS_MAX {
                if self.held_mask & (1 << t) != 0 {
                    let to = usize::from(perm[t]);
                    out[to] = held[t];
                    rename_stamps(&mut out[to], perm);
                    mask |= 1 << to;
                }
            }
            n.held = Some(Arc::new(out));
            n.held_mask = mask;
        }
        n.device_mut()
            .rewrite_contents(|block| rename_stamps(block, perm))
            .expect("the model's devices keep no checksums");
        n.rekey_device();
        if let Some(image) = &self.declared {
            let mut image = image.to_vec();
            rename_stamps(&mut image, perm);
            n.declared = Some(Arc::new(image));
        }
        n.written = Arc::default();
        n.via_keys = [0; 2];
        for vlun in [Vlun::A, Vlun::B] {
            for (block, digest) in self.written_through(vlun) {
                n.wrote(vlun, block, sym.renamed_digest(digest, perm));
            }
        }
        n
    }
}

impl Representative for State {
    /// This state with each class of interchangeable transactions renamed in a
    /// canonical order (module doc); the state itself without `--symmetry on`.
    fn representative(&self) -> Self {
        let Some(sym) = &self.symmetry else {
            return self.clone();
        };
        let perm = self.canonical_perm(sym);
        if perm.iter().enumerate().all(|(i, &p)| usize::from(p) == i) {
            return self.clone();
        }
        self.renamed(&perm, sym)
    }
}
