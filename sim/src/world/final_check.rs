//! The live volume checked at the end block by block, without its image and without
//! a list of its blocks.

use engine::store::WALK_BLOCKS_MAX;

use super::*;

/// Where the blocks that may differ from their initial content are walked from, in
/// this order; a block is read from the first of them that has it.
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
    /// Judges the live volume `live` at the end as the [`Event::End`] carrying its
    /// image would, reading each block that may differ from its initial content once
    /// (those [`World::read_image`] reads) and handing it to the judge, with no image
    /// of the volume nor list of its blocks built: the stores' tables are walked in
    /// place a step of at most [`WALK_BLOCKS_MAX`] blocks at a time (image B's
    /// written blocks, then image A's that B does not hold, then the lookup table's
    /// that neither holds: each block once, in no particular order, which the judge's
    /// check accepts), so reading a block right after finds its slot in the cache.
    /// `Ok(true)`: judged, every verdict as the event's. `Ok(false)`: not decided here
    /// (the record is kept, the stores cannot tell their written blocks, a block could
    /// not be read, or the judge found a difference): the caller logs the event with
    /// the whole image, which names the first difference exactly. Reads are outside
    /// the cost accounting; faults are disarmed meanwhile.
    pub(super) fn end_streamed(&mut self, live: Vlun) -> Result<bool, SimError> {
        let kept = self.oracle.as_ref().is_none_or(|o| o.kept.is_some());
        if kept || self.dev.config().integrity {
            return Ok(false);
        }
        let (a, b) = self.dev.images();
        if !a.knows_written() || !b.knows_written() {
            return Ok(false);
        }
        let armed = self.set_faults_armed(false);
        let volume_blocks = self.layout.volume_blocks;
        let (dev, oracle) = (&self.dev, self.oracle.as_mut());
        let Some(o) = oracle else {
            self.set_faults_armed(armed);
            return Ok(false);
        };
        let (a, b) = dev.images();
        let mut check = o.judge.end_check();
        let mut buf = Vec::with_capacity(self.layout.block_size);
        let mut blocks = Vec::with_capacity(WALK_BLOCKS_MAX);
        let mut read_all = true;
        'walk: for source in [Source::B, Source::A, Source::Table] {
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
                        Source::Table => {
                            b.holds(block) == Some(true) || a.holds(block) == Some(true)
                        }
                    };
                    if block >= volume_blocks || elsewhere {
                        continue;
                    }
                    if dev.read_prefix(live, block, &mut buf).is_err() {
                        read_all = false;
                        break 'walk;
                    }
                    o.judge.end_block(&mut check, block, &buf);
                }
            }
        }
        let judged = read_all && o.judge.end_streamed(check);
        self.set_faults_armed(armed);
        Ok(judged)
    }
}
