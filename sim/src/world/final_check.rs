//! The live volume checked at the end block by block, without its image.

use super::*;

/// The blocks of three ascending lists, ascending, each once.
fn merged<'a>(lists: [&'a [u64]; 3]) -> impl Iterator<Item = u64> + 'a {
    let mut at = [0usize; 3];
    std::iter::from_fn(move || {
        let next = (0..3).filter_map(|k| lists[k].get(at[k]).copied()).min()?;
        for k in 0..3 {
            if lists[k].get(at[k]) == Some(&next) {
                at[k] += 1;
            }
        }
        Some(next)
    })
}

impl World<'_> {
    /// Judges the live volume `live` at the end as the [`Event::End`] carrying its
    /// image would, reading each block that may differ from its initial content once
    /// (as [`World::read_image`] does) and handing it to the judge, with no image nor
    /// list of the blocks built. `Ok(true)`: judged, every verdict as the event's.
    /// `Ok(false)`: not decided here (the record is kept, the stores cannot tell their
    /// written blocks, a block could not be read, or the judge found a difference):
    /// the caller logs the event with the whole image, which names the first
    /// difference exactly. Reads are outside the cost accounting; faults are disarmed
    /// meanwhile.
    pub(super) fn end_streamed(&mut self, live: Vlun) -> Result<bool, SimError> {
        let kept = self.oracle.as_ref().is_none_or(|o| o.kept.is_some());
        if kept || self.dev.config().integrity {
            return Ok(false);
        }
        let (a, b) = self.dev.images();
        let (Some(a), Some(b)) = (a.written_blocks(), b.written_blocks()) else {
            return Ok(false);
        };
        let table = self.dev.table_blocks();
        let armed = self.set_faults_armed(false);
        let Some(o) = self.oracle.as_mut() else {
            return Ok(false);
        };
        let mut check = o.judge.end_check();
        let mut buf = Vec::with_capacity(self.layout.block_size);
        let mut read_all = true;
        for block in merged([&a, &b, &table]) {
            if block >= self.layout.volume_blocks {
                continue;
            }
            if self.dev.read_prefix(live, block, &mut buf).is_err() {
                read_all = false;
                break;
            }
            o.judge.end_block(&mut check, block, &buf);
        }
        drop((a, b, table));
        let judged = read_all && o.judge.end_streamed(check);
        self.set_faults_armed(armed);
        Ok(judged)
    }
}

#[cfg(test)]
mod tests {
    use super::merged;

    #[test]
    fn merged_lists_are_ascending_and_each_block_once() {
        let got: Vec<u64> = merged([&[1, 4, 9], &[0, 4, 5, 9, 12], &[]]).collect();
        assert_eq!(got, vec![0, 1, 4, 5, 9, 12]);
        assert_eq!(merged([&[], &[], &[]]).count(), 0);
    }
}
