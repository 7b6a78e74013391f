//! The copy of VLUN B to a new volume B' once VLUN A is gone (`[detach]`, \[0048\]:
//! "After time 451, VLUN B may be copied to another volume, VLUN B', to eliminate any
//! dependencies on physical storage common to VLUN A and VLUN B").
//!
//! When VLUN A's retire has completed (or an abandoned backup's drop of VLUN A: the
//! copy is of B, and the storage it shares with A is the same either way), the copy
//! reads VLUN B through the engine, one
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
//! ends, logs it with VLUN B as it is then ([`crate::history::Event::BPrime`]); the
//! oracle compares them (**b-prime-faithful**, [`crate::oracle::b_prime_faithful`]):
//! a difference is a violation naming the first differing record, judged and reported
//! as every other invariant's. A run that made no copy does not claim it
//! ([`crate::RunResult::claims`]).
//!
//! Not modelled: the device moving onto B'. After the copy the simulated device keeps
//! serving VLUN B on its own images; B' exists only as the simulator's image of it
//! (with a history). A device over B' ([`engine::Device::detach_b_to`]) starts in the
//! single-volume phase, with only VLUN A, while the run's attempts are bound to VLUN B
//! and the oracle judges a new attempt's write through VLUN A after a split as an
//! A-isolated violation (scenarios/README.md, `[detach]`).
//!
//! Test mutants (under `[detach]` only), which b-prime-faithful must catch:
//! `skip_block_for_mutant_test = N` makes the copy never send block N to B' (B' holds
//! zeros there); `drop_mirrored_writes_for_mutant_test = true` loses every user's write
//! mirrored to B' during the copy (B' keeps the block as the copy read it).

#[cfg(test)]
mod tests {
    use crate::history::{Event, History, Layout};
    use crate::image::{Image, Initial};
    use crate::oracle::{b_prime_faithful, Invariant};
    use crate::workload::InitialValues;

    fn layout() -> Layout {
        Layout {
            block_size: 64,
            record_size: 16,
            volume_blocks: 16,
        }
    }

    /// A copy that skips one written block, or misses a mirrored write, is caught at
    /// its `BPrime` event; the faithful copy holds written blocks (not vacuous).
    #[test]
    fn a_copy_that_skips_a_written_block_is_caught() {
        let l = layout();
        let initial = Initial::Pattern(InitialValues {
            value: 100,
            records: 64,
        });
        let image = || Image::unchanged(l.image_bytes() as u64);
        let (mut live, mut faithful, mut skipping) = (image(), image(), image());
        for b in [2u64, 5, 9] {
            let data = vec![b as u8 + 1; 64];
            live.set_block(&l, &initial, b, &data);
            faithful.set_block(&l, &initial, b, &data);
            if b != 5 {
                skipping.set_block(&l, &initial, b, &data);
            }
        }
        assert_eq!(live.held_blocks(), 3);
        // A stale block (copied, then written again without the mirrored write).
        let mut stale = faithful.clone();
        stale.set_block(&l, &initial, 9, &[7u8; 64]);
        let judged = |b_prime: &Image| {
            let mut h = History::over(l, initial.clone());
            h.push(0, Event::Split);
            h.push(
                1,
                Event::BPrime {
                    b_prime: b_prime.clone(),
                    live: live.clone(),
                },
            );
            b_prime_faithful(&h)
        };
        assert_eq!(judged(&faithful), Ok(()));
        for (copy, block) in [(&skipping, 5), (&stale, 9)] {
            let v = judged(copy).unwrap_err();
            assert_eq!(v.invariant, Invariant::BPrimeFaithful);
            assert_eq!(v.event_index, 1);
            assert!(
                v.detail.contains(&format!("(block {block})")),
                "{}",
                v.detail
            );
        }
    }
}
