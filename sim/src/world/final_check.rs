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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::{BankConfig, WorkloadConfig};
    use crate::Invariant;

    /// A history-on run without faults or a kept record (the stores can tell their
    /// written blocks) is judged at the end block by block, with no image of the live
    /// volume, and holds; the same run with one block of the live volume changed
    /// behind the oracle's back is declined there and judged from the whole image:
    /// a violation.
    #[test]
    fn a_history_on_run_ends_streamed_and_a_wrong_live_volume_is_a_violation() {
        let mut s = Scenario::with_workload(WorkloadConfig::Bank(BankConfig {
            accounts: 32,
            transactions: 120,
            ..BankConfig::default()
        }));
        s.keep_history = true;
        for variant in [
            engine::Variant::CopyOnWrite,
            engine::Variant::WriteLogging,
            engine::Variant::WriteMirroring,
        ] {
            for corrupt in [false, true] {
                let mut w = World::new(&s, Policy::Owm(variant), 1, false, None).unwrap();
                w.fire_all(None).unwrap();
                assert!(w.split_done && w.a_retired, "{variant:?}: a whole cycle");
                let live = Vlun::B;
                let touched = w.touched_blocks();
                assert!(touched.len() > 1, "{variant:?}");
                if corrupt {
                    let mut bytes = Vec::new();
                    w.dev.read_prefix(live, touched[0], &mut bytes).unwrap();
                    bytes.resize(bytes.len().max(1), 0);
                    bytes[0] ^= 1;
                    w.dev.write_prefix(live, touched[0], &bytes).unwrap();
                    // Declined, the judge unchanged: the run's end logs the image.
                    assert!(!w.end_streamed(live), "{variant:?}");
                    w.finish_run().unwrap();
                } else {
                    // What the run's end does first: judged here.
                    assert!(w.end_streamed(live), "{variant:?}");
                }
                let violations = w.oracle.take().unwrap().judge.finish();
                let broken = violations
                    .iter()
                    .any(|v| v.invariant == Invariant::BComplete);
                assert_eq!(broken, corrupt, "{variant:?}: {violations:?}");
                assert_eq!(violations.is_empty(), !corrupt, "{variant:?}");
            }
        }
    }
}
