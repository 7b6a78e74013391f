//! Where a record lives: its block and its byte offset in the block, as
//! [`Layout::block_of`] and [`Layout::offset_in_block`] give them, without their
//! divisions on every call (a transaction places each of its records three times:
//! its lock, its read, its write).

use crate::history::Layout;

/// A record's place, from the layout's records per block, computed once.
#[derive(Debug, Clone, Copy)]
pub(super) struct RecordPlace {
    /// Records per block (at least 1).
    per_block: u64,
    /// log2 of `per_block` when it is a power of two (1, 2, 4, …): a shift and a mask
    /// instead of a division.
    shift: Option<u32>,
    /// Bytes per record.
    record_size: usize,
}

impl RecordPlace {
    pub(super) fn of(layout: &Layout) -> Self {
        let per_block = layout.records_per_block().max(1);
        Self {
            per_block,
            shift: per_block
                .is_power_of_two()
                .then(|| per_block.trailing_zeros()),
            record_size: layout.record_size,
        }
    }

    /// The block holding record `r` (= [`Layout::block_of`]).
    #[inline]
    pub(super) fn block_of(&self, r: u64) -> u64 {
        match self.shift {
            Some(s) => r >> s,
            None => r / self.per_block,
        }
    }

    /// Byte offset of record `r` inside its block (= [`Layout::offset_in_block`]).
    #[inline]
    pub(super) fn offset_in_block(&self, r: u64) -> usize {
        let i = match self.shift {
            Some(s) => r & ((1 << s) - 1),
            None => r % self.per_block,
        };
        i as usize * self.record_size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same block and offset as the layout's own, for every record of layouts with
    /// 1, 2, 3, 4, 5 and 8 records per block.
    #[test]
    fn places_records_as_the_layout_does() {
        let mut shifted = false;
        for (block_size, record_size) in
            [(64, 64), (64, 32), (48, 16), (64, 16), (80, 16), (128, 16)]
        {
            let layout = Layout {
                block_size,
                volume_blocks: 37,
                record_size,
            };
            assert!(layout.is_valid());
            let place = RecordPlace::of(&layout);
            shifted |= place.shift.is_some_and(|s| s > 0);
            for r in 0..layout.records() {
                assert_eq!(
                    place.block_of(r),
                    layout.block_of(r),
                    "{layout:?} record {r}"
                );
                assert_eq!(
                    place.offset_in_block(r),
                    layout.offset_in_block(r),
                    "{layout:?} record {r}"
                );
            }
        }
        assert!(shifted, "no layout took the shift");
    }
}
