//! The live volume checked at the end block by block, without its image and without
//! a list of its blocks.

use super::*;

impl World<'_> {
    /// Judges the live volume `live` at the end as the [`Event::End`] carrying its
    /// image would, reading each block that may differ from its initial content once
    /// (those [`World::read_image`] reads) and handing it to the judge, with no image
    /// of the volume nor list of its blocks built ([`walk_touched`]: each block once,
    /// in no particular order, which the judge's check accepts). True: judged, every
    /// verdict as the event's. False: not decided here (no oracle, the record is kept,
    /// the stores cannot tell their written blocks, a block could not be read, or the
    /// judge found a difference): the caller logs the event with the whole image,
    /// which names the first difference exactly. Reads are outside the cost
    /// accounting; faults are disarmed meanwhile.
    pub(super) fn end_streamed(&mut self, live: Vlun) -> bool {
        let armed = self.set_faults_armed(false);
        let (dev, layout) = (&self.dev, self.layout);
        let judged = match self.oracle.as_mut() {
            Some(o) if o.kept.is_none() => {
                let mut check = o.judge.end_check();
                let mut buf = Vec::with_capacity(layout.block_size);
                let judge = &o.judge;
                let walked = walk_touched(dev, layout.volume_blocks, |block| {
                    if dev.read_prefix(live, block, &mut buf).is_err() {
                        return ControlFlow::Break(());
                    }
                    judge.end_block(&mut check, block, &buf);
                    ControlFlow::Continue(())
                });
                walked == Some(ControlFlow::Continue(())) && o.judge.end_streamed(check)
            }
            _ => false,
        };
        self.set_faults_armed(armed);
        judged
    }
}
