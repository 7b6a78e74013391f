//! An [`Image`] packed into one byte string, for an image held long and only walked
//! in block order: VLUN A as declared consistent, which the judge keeps from the
//! declaration until the archive has been compared with it (backup-faithful).
//!
//! An [`Image`] spends 32 bytes on each held block (an 8-byte block number and a
//! 24-byte content slot), whatever the content's length; the simulator's one-record
//! blocks hold 9-11 bytes (an 8-byte value and the non-zero bytes of a stamp). Packed,
//! each held block, ascending, is its gap from the block after the previous one
//! (LEB128: one byte for a gap below 128, which a load writing one block in 27 of a
//! 1 TiB volume mostly has), its content's length (LEB128) and the content's bytes:
//! 11-13 bytes for such a block. Exact: [`PackedImage::unpack`] gives back the image
//! packed, so an image compared with it and a first difference named from it are the
//! same as with the image. Only sequential access: a walk from the first held block
//! ([`PackedImage::held`], [`Cursor`]).

use crate::image::Image;

/// Held blocks [`PackedImage::pack_owned`] takes from an image between two
/// givings back of its memory (2 MiB of an image's entries).
const CONSUMED_BLOCKS_BATCH: usize = 1 << 16;

/// An image packed (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedImage {
    len_bytes: u64,
    held_blocks: usize,
    bytes: Box<[u8]>,
}

/// A position in a [`PackedImage`]'s walk: before its `index`-th held block.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    /// Held blocks passed.
    pub index: usize,
    /// Byte offset of the next held block's record.
    at: usize,
    /// The block after the last one passed (0 at the start).
    next_block: u64,
}

fn put_leb(out: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        out.push((x as u8) | 0x80);
        x >>= 7;
    }
    out.push(x as u8);
}

/// Bytes of `x` in LEB128.
/// Bytes a packed image of `held` blocks of a volume of `volume_blocks` blocks holds,
/// each content `content_bytes` long: per block its gap (LEB128 of the mean gap,
/// `volume_blocks / held`: a gap's length grows with its logarithm, so the gaps'
/// lengths average about the mean's), its length and its bytes.
pub fn bytes_for(held: u64, volume_blocks: u64, content_bytes: u64) -> u64 {
    if held == 0 {
        return 0;
    }
    let per_block = leb_len(volume_blocks / held) + leb_len(content_bytes) + content_bytes as usize;
    held.saturating_mul(per_block as u64)
}

fn leb_len(x: u64) -> usize {
    (64 - (x | 1).leading_zeros() as usize).div_ceil(7)
}

fn get_leb(bytes: &[u8], at: &mut usize) -> u64 {
    let mut x = 0u64;
    let mut shift = 0;
    loop {
        let b = bytes[*at];
        *at += 1;
        x |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return x;
        }
        shift += 7;
    }
}

impl PackedImage {
    /// `image` packed.
    pub fn pack(image: &Image) -> Self {
        // Measured first, so that the bytes are allocated once, at their size (no
        // growth's spare room, no copy when boxed).
        let mut len = 0;
        let mut next_block = 0u64;
        for (block, data) in image.held() {
            len += leb_len(block - next_block) + leb_len(data.len() as u64) + data.len();
            next_block = block + 1;
        }
        let mut bytes = Vec::with_capacity(len);
        let mut next_block = 0u64;
        for (block, data) in image.held() {
            put_leb(&mut bytes, block - next_block);
            put_leb(&mut bytes, data.len() as u64);
            bytes.extend_from_slice(data);
            next_block = block + 1;
        }
        PackedImage {
            len_bytes: image.len_bytes(),
            held_blocks: image.held_blocks(),
            bytes: bytes.into_boxed_slice(),
        }
    }

    /// `image` packed, as [`PackedImage::pack`] packs it, the image's memory given
    /// back as the packed bytes are written (`Image::consume_rev`: the bytes of the
    /// blocks from the last down, each block's reversed, then the whole reversed in
    /// place), so the two are not held whole at once.
    pub fn pack_owned(image: Image) -> Self {
        let len: usize = image
            .held()
            .scan(0u64, |next_block, (block, data)| {
                let n = leb_len(block - *next_block) + leb_len(data.len() as u64) + data.len();
                *next_block = block + 1;
                Some(n)
            })
            .sum();
        let (len_bytes, held_blocks) = (image.len_bytes(), image.held_blocks());
        let mut bytes = Vec::with_capacity(len);
        let mut record = Vec::new();
        image.consume_rev(CONSUMED_BLOCKS_BATCH, |block, data, prev| {
            record.clear();
            put_leb(&mut record, block - prev.map_or(0, |p| p + 1));
            put_leb(&mut record, data.len() as u64);
            record.extend_from_slice(data);
            bytes.extend(record.iter().rev());
        });
        bytes.reverse();
        PackedImage {
            len_bytes,
            held_blocks,
            bytes: bytes.into_boxed_slice(),
        }
    }

    /// The image's length in bytes.
    pub fn len_bytes(&self) -> u64 {
        self.len_bytes
    }

    /// Blocks held (differing from the initial image).
    pub fn held_blocks(&self) -> usize {
        self.held_blocks
    }

    /// Bytes of the packed form (its one allocation).
    pub fn packed_bytes(&self) -> usize {
        self.bytes.len()
    }

    /// The held block at `cursor` (its number and content up to its last non-zero
    /// byte) and the cursor past it; `None` past the last held block.
    pub fn next(&self, cursor: Cursor) -> Option<(u64, &[u8], Cursor)> {
        if cursor.at >= self.bytes.len() {
            return None;
        }
        let mut at = cursor.at;
        let block = cursor.next_block + get_leb(&self.bytes, &mut at);
        let len = get_leb(&self.bytes, &mut at) as usize;
        let data = &self.bytes[at..at + len];
        let past = Cursor {
            index: cursor.index + 1,
            at: at + len,
            next_block: block + 1,
        };
        Some((block, data, past))
    }

    /// The held blocks, ascending, each with its content up to its last non-zero byte
    /// (as [`Image::held`]).
    pub fn held(&self) -> impl Iterator<Item = (u64, &[u8])> + '_ {
        let mut cursor = Cursor::default();
        std::iter::from_fn(move || {
            let (block, data, next) = self.next(cursor)?;
            cursor = next;
            Some((block, data))
        })
    }

    /// The image of the same length holding only the first `k` held blocks.
    pub fn unpack_prefix(&self, k: usize) -> Image {
        Image::from_held(self.len_bytes, self.held().take(k))
    }

    /// The image packed.
    pub fn unpack(&self) -> Image {
        self.unpack_prefix(self.held_blocks)
    }

    /// True when `image` is the image packed ([`Image`]'s `==`).
    pub fn equals(&self, image: &Image) -> bool {
        self.len_bytes == image.len_bytes()
            && self.held_blocks == image.held_blocks()
            && self.held().eq(image.held())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Initial, Layout};
    use crate::workload::InitialValues;

    /// Images of short and long contents and of small and large gaps (one-byte and
    /// several-byte LEB128) pack and unpack to themselves, compare equal to themselves
    /// only, and their prefixes are the image's.
    #[test]
    fn an_image_packs_and_unpacks_to_itself() {
        let l = Layout {
            block_size: 64,
            volume_blocks: 1 << 20,
            record_size: 64,
        };
        let initial = Initial::Pattern(InitialValues {
            value: 0,
            records: 1 << 20,
        });
        let mut image = Image::unchanged(l.image_bytes() as u64);
        let mut block = vec![0u8; l.block_size];
        for (b, len) in [
            (0u64, 1usize),
            (1, 11),
            (200, 64),
            (70_000, 3),
            ((1 << 20) - 1, 40),
        ] {
            block.fill(0);
            block[..len].iter_mut().for_each(|x| *x = 0xA5);
            image.set_block(&l, &initial, b, &block);
        }
        assert_eq!(image.held_blocks(), 5);
        let packed = PackedImage::pack(&image);
        assert_eq!(packed.unpack(), image);
        assert!(packed.equals(&image));
        assert!(packed.held().eq(image.held()));
        assert_eq!(packed.unpack_prefix(2), image.prefix(2));
        assert_eq!(packed.unpack_prefix(9), image);
        // 5 blocks: gaps of 1, 1, 2, 3, 3 bytes, lengths of 1 byte, contents 119.
        assert_eq!(packed.packed_bytes(), 10 + 5 + 119);
        let mut other = image.clone();
        block.fill(0);
        block[0] = 1;
        other.set_block(&l, &initial, 200, &block);
        assert!(!packed.equals(&other));
        assert!(!packed.equals(&image.prefix(4)));
        for x in [0u64, 1, 127, 128, 16_383, 16_384, u64::MAX] {
            let mut v = Vec::new();
            put_leb(&mut v, x);
            assert_eq!(leb_len(x), v.len(), "{x}");
        }
        let empty = PackedImage::pack(&Image::unchanged(l.image_bytes() as u64));
        assert_eq!((empty.held_blocks(), empty.packed_bytes()), (0, 0));
        assert!(empty.next(Cursor::default()).is_none());
        assert_eq!(
            PackedImage::pack_owned(Image::unchanged(l.image_bytes() as u64)),
            empty
        );
        assert_eq!(PackedImage::pack_owned(image.clone()), packed);
    }

    /// Taken apart as it is packed, an image packs to the same bytes as when read:
    /// random images of more held blocks than a batch (short and long contents, gaps
    /// from 0 to several LEB128 bytes, block 0 held or not), and the image's walk from
    /// its last block down names each block's predecessor.
    #[test]
    fn an_image_taken_apart_packs_as_when_read() {
        use rand::{Rng, SeedableRng};
        let l = Layout {
            block_size: 64,
            volume_blocks: 1 << 40,
            record_size: 64,
        };
        let initial = Initial::Pattern(InitialValues {
            value: 0,
            records: 0,
        });
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for n in [
            1usize,
            2,
            CONSUMED_BLOCKS_BATCH - 1,
            CONSUMED_BLOCKS_BATCH + 3,
        ] {
            let mut image = Image::unchanged(l.image_bytes() as u64);
            let mut b = u64::from(r.random_bool(0.5));
            let mut block = vec![0u8; l.block_size];
            let mut blocks = Vec::new();
            for _ in 0..n {
                block.fill(0);
                let len = r.random_range(1..=l.block_size);
                block[..len]
                    .iter_mut()
                    .for_each(|x| *x = r.random_range(1..=255));
                image.set_block(&l, &initial, b, &block);
                blocks.push(b);
                b += 1 + [0, 1, 200, 1 << 20][r.random_range(0..4)];
            }
            assert_eq!(image.held_blocks(), n);
            let packed = PackedImage::pack(&image);
            let mut walked = Vec::new();
            image
                .clone()
                .consume_rev(7, |b, _, prev| walked.push((b, prev)));
            walked.reverse();
            let want: Vec<(u64, Option<u64>)> = blocks
                .iter()
                .enumerate()
                .map(|(i, &b)| (b, i.checked_sub(1).map(|j| blocks[j])))
                .collect();
            assert_eq!(walked, want);
            assert_eq!(PackedImage::pack_owned(image), packed, "{n} blocks");
        }
    }
}
