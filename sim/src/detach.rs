//! The copy of VLUN B to a new volume B' after the retire (`[detach]`, \[0048\]:
//! "After time 451, VLUN B may be copied to another volume, VLUN B', to eliminate any
//! dependencies on physical storage common to VLUN A and VLUN B").
//!
//! When VLUN A's retire has completed, the copy reads VLUN B through the engine, one
//! extent of `extent_blocks` blocks at a time, every block of the volume, on the
//! device's channels (competing with the users' I/O), and sends each extent to the B'
//! target (`[detach]`, the same keys and pricing as `[archive]`:
//! [`crate::archive::ArchiveConfig`]). Users keep working on VLUN B meanwhile: a write
//! to a block not yet copied reaches B' with the copy (which reads it later); a write
//! to a block already copied is also sent to B' (the one-way mirror again, B → B'),
//! queued on the target and counted (`detach_mirrored_writes`). The user's write
//! completes on B; the copy is complete when the last extent and every mirrored write
//! have landed. The cycle (and its window) ends then, so the next scheduled backup
//! waits for it.
//!
//! With a history, the simulator builds B' as the copy writes it and, when the copy
//! ends, compares it with VLUN B (**b-prime-faithful**): a difference fails the run
//! as unsafe, naming the first differing block ([`first_difference`]).

use crate::image::Image;

/// The first block where `b_prime` and `live` differ, or `None` when they are equal.
/// Both are canonical sparse images over the same initial image (a block equal to its
/// initial content is never held), so they differ exactly where their held blocks do.
pub fn first_difference(b_prime: &Image, live: &Image) -> Option<u64> {
    b_prime
        .touched_with(live)
        .find(|&b| b_prime.get(b) != live.get(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Layout;
    use crate::image::Initial;
    use crate::workload::InitialValues;

    fn layout() -> Layout {
        Layout {
            block_size: 64,
            record_size: 16,
            volume_blocks: 16,
        }
    }

    /// A copy that skips one written block is caught, at that block; the faithful
    /// copy holds written blocks (the check is not vacuous).
    #[test]
    fn a_copy_that_skips_a_written_block_is_caught() {
        let l = layout();
        let initial = Initial::Pattern(InitialValues {
            value: 100,
            records: 64,
        });
        let mut live = Image::unchanged(l.image_bytes() as u64);
        let mut faithful = Image::unchanged(l.image_bytes() as u64);
        let mut skipping = Image::unchanged(l.image_bytes() as u64);
        for b in [2u64, 5, 9] {
            let data = vec![b as u8 + 1; 64];
            live.set_block(&l, &initial, b, &data);
            faithful.set_block(&l, &initial, b, &data);
            if b != 5 {
                skipping.set_block(&l, &initial, b, &data);
            }
        }
        assert_eq!(live.held_blocks(), 3);
        assert_eq!(first_difference(&faithful, &live), None);
        assert_eq!(first_difference(&skipping, &live), Some(5));
        // A stale block (copied, then written again without the mirrored write).
        let mut stale = faithful.clone();
        stale.set_block(&l, &initial, 9, &[7u8; 64]);
        assert_eq!(first_difference(&stale, &live), Some(9));
    }
}
