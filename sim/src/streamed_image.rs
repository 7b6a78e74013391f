//! An image received block by block and compared, as it comes, with the image it is
//! expected to equal: held only from the first difference on.
//!
//! The archive copy hands the oracle VLUN A block by block in ascending order, and
//! VLUN A as declared consistent is what the archive must equal (backup-faithful).
//! Building the archive as an [`Image`] holds a second copy of every block VLUN A
//! wrote (32 bytes each, and the vector's growth: hundreds of MB on a large volume);
//! [`StreamedImage`] instead walks the expected image's held blocks (packed,
//! [`PackedImage`]) beside the blocks received. While every block agrees nothing is held; at the first disagreement (a
//! block of different content, a held block skipped, a block out of order) the image
//! so far is exactly the expected image's held blocks passed, so it is built from
//! them and every later block is set on it. [`StreamedImage::finish`] then gives
//! either the expected image itself (the two are equal, [`Image`]'s `==`) or the
//! image built, so whoever judges it sees the same image either way.

use std::sync::Arc;

use crate::history::{Initial, Layout};
use crate::image::{held_of, is_initial, Image};
use crate::packed_image::{Cursor, PackedImage};

/// An image being received (see the module doc).
#[derive(Debug)]
pub struct StreamedImage {
    len_bytes: u64,
    /// The image it is expected to equal (same length), while it still may.
    expected: Option<Arc<PackedImage>>,
    /// Past the expected image's held blocks received so far, equal (its first
    /// `matched.index`).
    matched: Cursor,
    /// The last block received while compared.
    last: Option<u64>,
    /// The image itself, once it differs (or when nothing is expected).
    built: Option<Image>,
}

/// What a [`StreamedImage`] turned out to be.
#[derive(Debug)]
pub enum Received {
    /// Equal to the expected image (that image, shared).
    Expected(Arc<PackedImage>),
    /// Another image (or nothing was expected).
    Built(Image),
}

impl StreamedImage {
    /// An image of `len_bytes` bytes, equal to the initial one until blocks are set,
    /// compared with `expected` as it comes (built whole when `expected` is `None` or
    /// of another length).
    pub fn new(len_bytes: u64, expected: Option<Arc<PackedImage>>) -> Self {
        let expected = expected.filter(|e| e.len_bytes() == len_bytes);
        StreamedImage {
            len_bytes,
            built: expected.is_none().then(|| Image::unchanged(len_bytes)),
            expected,
            matched: Cursor::default(),
            last: None,
        }
    }

    /// Sets block `block` to `data` (one block, or a short last block), as
    /// [`Image::set_block`] does.
    pub fn set_block(&mut self, layout: &Layout, initial: &Initial, block: u64, data: &[u8]) {
        if self.built.is_none() {
            let unchanged = Image::is_unchanged(layout, initial, block, data);
            self.receive(block, held_of(data), unchanged);
        }
        if let Some(image) = self.built.as_mut() {
            image.set_block(layout, initial, block, data);
        }
    }

    /// Sets block `block` to `prefix`, its leading bytes with zeros after them up to
    /// the block size, as [`Image::set_block_prefix`] does: no whole block filled or
    /// scanned.
    pub fn set_block_prefix(
        &mut self,
        layout: &Layout,
        initial: &Initial,
        block: u64,
        prefix: &[u8],
    ) {
        let held = held_of(prefix);
        if self.built.is_none() {
            let unchanged = is_initial(layout, initial, block, held);
            self.receive(block, held, unchanged);
        }
        if let Some(image) = self.built.as_mut() {
            image.set_block_held(layout, initial, block, held);
        }
    }

    /// Block `block`, whose content up to its last non-zero byte is `held` (its
    /// initial content when `unchanged`), received while compared: built from here
    /// on when it may not keep the image received equal to the expected one.
    fn receive(&mut self, block: u64, held: &[u8], unchanged: bool) {
        if !self.agrees(block, held, unchanged) {
            let expected = self.expected.take().expect("compared until built");
            self.built = Some(expected.unpack_prefix(self.matched.index));
        }
    }

    /// Block `block` holding `held` (see [`StreamedImage::receive`]) keeps the image
    /// received equal to the expected image's first held blocks (and is taken as
    /// received); false when it may not.
    fn agrees(&mut self, block: u64, held: &[u8], unchanged: bool) -> bool {
        let expected = self.expected.as_ref().expect("compared until built");
        if self.last.is_some_and(|l| block <= l) {
            return false; // out of order: built from here on
        }
        let next = expected.next(self.matched);
        if next.is_some_and(|(b, ..)| b < block) {
            return false; // an expected held block was skipped
        }
        let agrees = match next {
            Some((b, expected_held, past)) if b == block => {
                let agrees = !unchanged && expected_held == held;
                if agrees {
                    self.matched = past;
                }
                agrees
            }
            _ => unchanged,
        };
        if agrees {
            self.last = Some(block);
        }
        agrees
    }

    /// The image received: the expected one when equal to it, else the image built.
    pub fn finish(self) -> Received {
        match (self.built, self.expected) {
            (Some(image), _) => Received::Built(image),
            (None, Some(expected)) if expected.held_blocks() == self.matched.index => {
                Received::Expected(expected)
            }
            (None, Some(expected)) => Received::Built(expected.unpack_prefix(self.matched.index)),
            (None, None) => Received::Built(Image::unchanged(self.len_bytes)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::InitialValues;

    /// Two records of 16 bytes a block.
    const L: Layout = Layout {
        block_size: 32,
        volume_blocks: 8,
        record_size: 16,
    };

    fn block(value: u8) -> Vec<u8> {
        let mut b = vec![0u8; L.block_size];
        b[0] = value;
        b[20] = value;
        b
    }

    /// Blocks given in sequences that agree with the expected image or differ from it
    /// in each way (a content, a skipped block, an extra block, the order, a block
    /// set back to its initial content): the image received is always what
    /// [`Image::set_block`] builds from the same sequence, and the expected image
    /// itself exactly when the two are equal.
    #[test]
    fn it_receives_what_set_block_builds() {
        let initials = [
            Initial::Pattern(InitialValues {
                value: 7,
                records: 16,
            }),
            Initial::Bytes((0..L.image_bytes()).map(|i| (i % 3) as u8).collect()),
        ];
        for initial in &initials {
            let initial_block = |b: u64| {
                let mut d = vec![0u8; L.block_size];
                initial.block(&L, b, &mut d);
                d
            };
            let mut expected = Image::unchanged(L.image_bytes() as u64);
            for (b, v) in [(1, 9), (3, 4), (6, 5)] {
                expected.set_block(&L, initial, b, &block(v));
            }
            let packed = Arc::new(PackedImage::pack(&expected));
            let agreeing: Vec<(u64, Vec<u8>)> = (0..L.volume_blocks)
                .map(|b| {
                    (
                        b,
                        expected.get(b).map_or(initial_block(b), |_| {
                            let mut d = vec![0u8; L.block_size];
                            expected.block_into(&L, initial, b, &mut d);
                            d
                        }),
                    )
                })
                .collect();
            let sparse: Vec<(u64, Vec<u8>)> = agreeing
                .iter()
                .filter(|(b, _)| expected.get(*b).is_some())
                .cloned()
                .collect();
            let mut cases = vec![(agreeing.clone(), true), (sparse.clone(), true)];
            let mut other = agreeing.clone();
            other[3].1 = block(8);
            cases.push((other, false));
            cases.push((sparse[1..].to_vec(), false));
            cases.push((sparse[..2].to_vec(), false));
            let mut other = sparse.clone();
            other.push((7, block(2)));
            cases.push((other, false));
            let mut other = sparse.clone();
            other.swap(0, 1);
            cases.push((other, true)); // out of order, same blocks: equal, built
            let mut other = sparse.clone();
            other.push((3, initial_block(3)));
            cases.push((other, false));
            let mut reached = [false; 2];
            for (seq, equal) in cases {
                let mut want = Image::unchanged(L.image_bytes() as u64);
                let mut got = StreamedImage::new(L.image_bytes() as u64, Some(packed.clone()));
                // The same blocks as leading bytes: trimmed, or with a zero after.
                let mut by_prefix =
                    StreamedImage::new(L.image_bytes() as u64, Some(packed.clone()));
                for (b, d) in &seq {
                    want.set_block(&L, initial, *b, d);
                    got.set_block(&L, initial, *b, d);
                    let n = engine::store::content_len(d) + (*b as usize % 2);
                    by_prefix.set_block_prefix(&L, initial, *b, &d[..n.min(d.len())]);
                }
                assert_eq!(want == expected, equal);
                let mut shared = Vec::new();
                for got in [got, by_prefix] {
                    match got.finish() {
                        Received::Expected(e) => {
                            assert!(Arc::ptr_eq(&e, &packed) && equal);
                            reached[0] = true;
                            shared.push(true);
                        }
                        Received::Built(image) => {
                            assert_eq!(image, want);
                            reached[1] = true;
                            shared.push(false);
                        }
                    }
                }
                assert_eq!(shared[0], shared[1], "the same outcome by prefix");
            }
            assert_eq!(reached, [true, true], "both outcomes reached");
            // Nothing expected, or another length: built whole.
            for e in [
                None,
                Some(Arc::new(PackedImage::pack(&Image::unchanged(1)))),
            ] {
                let mut got = StreamedImage::new(L.image_bytes() as u64, e);
                got.set_block(&L, initial, 1, &block(9));
                let Received::Built(image) = got.finish() else {
                    panic!("nothing to share");
                };
                assert_eq!(image.held_blocks(), 1);
            }
        }
    }
}
