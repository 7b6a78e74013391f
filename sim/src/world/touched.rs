//! The blocks of the volume either VLUN may read as something other than their
//! initial content: those written in either image or mapped by the lookup table.

use std::ops::ControlFlow;

use engine::store::WALK_BLOCKS_MAX;

use super::*;

/// Where the blocks that may differ from their initial content are walked from, in
/// this order; a block is given by the first of them that has it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    /// Image B's written blocks.
    B,
    /// Image A's written blocks that image B does not hold.
    A,
    /// The lookup table's blocks that neither image holds.
    Table,
}

impl World<'_> {
    /// The volume blocks either VLUN may read as something other than their initial
    /// content, ascending: those written in either image or mapped by the lookup
    /// table. Every block of the volume when the stores cannot tell (faults on) or
    /// integrity mode is on (a checksum block read with a data block may refuse it).
    pub(super) fn touched_blocks(&self) -> Vec<u64> {
        let volume = self.layout.volume_blocks;
        let (a, b) = self.dev.images();
        let known = match (a.written_blocks(), b.written_blocks()) {
            (Some(a), Some(b)) if !self.dev.config().integrity => Some((a, b)),
            _ => None,
        };
        let Some((a, b)) = known else {
            return (0..volume).collect();
        };
        let mut blocks: Vec<u64> = a
            .into_iter()
            .chain(b)
            .chain(self.dev.table_blocks())
            .filter(|&x| x < volume)
            .collect();
        blocks.sort_unstable();
        blocks.dedup();
        blocks
    }
}

/// Calls `visit` once with each of the blocks [`World::touched_blocks`] lists (below
/// `volume_blocks`), in no particular order, with no list of them built: the stores'
/// tables are walked in place a step of at most [`WALK_BLOCKS_MAX`] blocks at a time
/// (image B's written blocks, then image A's that B does not hold, then the lookup
/// table's that neither holds), so reading a block right after finds its slot in the
/// cache. No block may be written meanwhile. Stops at the first `Break` and returns
/// it. `None`, with nothing visited, when [`World::touched_blocks`] would list every
/// block of the volume (the stores cannot tell their written blocks, or integrity
/// mode is on).
pub(super) fn walk_touched<T>(
    dev: &Device<SimStore>,
    volume_blocks: u64,
    mut visit: impl FnMut(u64) -> ControlFlow<T>,
) -> Option<ControlFlow<T>> {
    let (a, b) = dev.images();
    if dev.config().integrity || !a.knows_written() || !b.knows_written() {
        return None;
    }
    let mut blocks = Vec::with_capacity(WALK_BLOCKS_MAX);
    for source in [Source::B, Source::A, Source::Table] {
        let mut at = 0u64;
        loop {
            match source {
                Source::B => b.written_blocks_walk(&mut at, &mut blocks),
                Source::A => a.written_blocks_walk(&mut at, &mut blocks),
                Source::Table => {
                    dev.table_blocks_walk(at, WALK_BLOCKS_MAX, &mut blocks);
                    at = blocks.last().map_or(at, |&l| l + 1);
                    Some(())
                }
            };
            if blocks.is_empty() {
                break;
            }
            for &block in &blocks {
                let elsewhere = match source {
                    Source::B => false,
                    Source::A => b.holds(block) == Some(true),
                    Source::Table => b.holds(block) == Some(true) || a.holds(block) == Some(true),
                };
                if block >= volume_blocks || elsewhere {
                    continue;
                }
                if let ControlFlow::Break(t) = visit(block) {
                    return Some(ControlFlow::Break(t));
                }
            }
        }
    }
    Some(ControlFlow::Continue(()))
}
