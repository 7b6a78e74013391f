//! Narration: what an action did, in the patent's terms, for traces.
//!
//! The checker narrates nothing; a replay asks for every step (see [`Notes`]).

use engine::{Device, MemStore, Vlun};
use sim::history::read_record;

use crate::config::Locks;
use crate::program::RECORD_BYTES;
use crate::protocol::OwmModel;

/// Where [`OwmModel::apply`] tells what happened, in patent terms, when a trace asks
/// for it. The checker asks for nothing, and then nothing is formatted: each note is a
/// closure, called only when there is somewhere to put its text.
pub(crate) struct Notes<'a>(pub(crate) Option<&'a mut Vec<String>>);

impl Notes<'_> {
    pub(crate) fn on(&self) -> bool {
        self.0.is_some()
    }
    pub(crate) fn add(&mut self, text: impl FnOnce() -> String) {
        if let Some(v) = self.0.as_deref_mut() {
            v.push(text());
        }
    }
}

pub(crate) fn bits(mask: u8) -> Vec<u8> {
    (0..8).filter(|b| mask & (1 << b) != 0).collect()
}

pub(crate) fn writer(stamp: u64) -> String {
    if stamp == 0 {
        "initial".into()
    } else {
        format!("written by T{}", stamp - 1)
    }
}

pub(crate) fn short_writer(stamp: u64) -> String {
    if stamp == 0 {
        "initial".into()
    } else {
        format!("T{}", stamp - 1)
    }
}

impl OwmModel {
    /// The records of one block as `vlun` shows it (for traces only: it reads the device).
    pub(crate) fn describe_block(&self, dev: &Device<MemStore>, vlun: Vlun, block: u64) -> String {
        let mut buf = vec![0u8; self.layout.block_size];
        dev.read(vlun, block, &mut buf)
            .expect("reading a block to describe it");
        self.describe_bytes(block, &buf)
    }

    /// The records of `block` as `bytes` holds them (a transaction's buffer).
    pub(crate) fn describe_bytes(&self, block: u64, bytes: &[u8]) -> String {
        let rpb = self.layout.records_per_block();
        (0..rpb)
            .map(|i| {
                let (v, s) = read_record(&bytes[i as usize * RECORD_BYTES..]);
                format!("r{}={v} ({})", block * rpb + i, short_writer(s))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// "r0=99 (T0), r1=100 (initial), …": the records of an image.
    pub fn describe_image(&self, image: &[u8]) -> String {
        (0..self.layout.records())
            .map(|r| {
                let (v, s) = read_record(&image[self.layout.offset_in_image(r)..]);
                format!("r{r}={v} ({})", short_writer(s))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub(crate) fn items_str(&self, items: &[u8]) -> String {
        let kind = match self.cfg.locks {
            Locks::Record => "record",
            Locks::Block => "block",
        };
        items
            .iter()
            .map(|i| format!("{kind} {i}"))
            .collect::<Vec<_>>()
            .join(" and ")
    }
}
