//! A written block held compactly: its bytes up to the last non-zero byte, the rest
//! known to be zero. A block whose content fits [`INLINE_BYTES`] bytes (the
//! simulator's records: a value and a stamp, 16 bytes of a 4 KiB block) is kept inside
//! the entry itself, with no allocation of its own; a longer one is one exact-length
//! allocation, up to the whole block. Reading it back gives the exact block.

/// Longest content (bytes up to the last non-zero byte) kept inside the entry.
pub const INLINE_BYTES: usize = 22;

/// Bytes the allocator adds to each allocation of a longer block (its header and
/// rounding, on glibc's malloc: an estimate).
pub const ALLOCATION_OVERHEAD_BYTES: u64 = 16;

/// One block's content: its non-zero prefix, inline or on the heap.
pub(crate) enum CompactBlock {
    /// Content of `len` ≤ [`INLINE_BYTES`] bytes, then zeros.
    Inline { len: u8, bytes: [u8; INLINE_BYTES] },
    /// Content longer than [`INLINE_BYTES`] bytes, its last byte non-zero, then zeros.
    Heap(Box<[u8]>),
}

// The entry the store's table holds per block is this plus its 8-byte key.
const _: () = assert!(std::mem::size_of::<CompactBlock>() == 24);

/// Bytes of `data` up to and including its last non-zero byte (0 if all are zero).
pub(crate) fn content_len(data: &[u8]) -> usize {
    let words = data.len() / 8 * 8;
    if let Some(i) = data[words..].iter().rposition(|&b| b != 0) {
        return words + i + 1;
    }
    // Whole words from the end: a record block is mostly zero words.
    match data[..words]
        .chunks_exact(8)
        .rposition(|w| u64::from_ne_bytes(w.try_into().expect("8 bytes")) != 0)
    {
        None => 0,
        Some(w) => {
            let word = &data[w * 8..w * 8 + 8];
            w * 8 + word.iter().rposition(|&b| b != 0).expect("a non-zero byte") + 1
        }
    }
}

impl CompactBlock {
    /// `data` (one block) held compactly.
    pub(crate) fn new(data: &[u8]) -> Self {
        let len = content_len(data);
        if len <= INLINE_BYTES {
            let mut bytes = [0u8; INLINE_BYTES];
            bytes[..len].copy_from_slice(&data[..len]);
            CompactBlock::Inline {
                len: len as u8,
                bytes,
            }
        } else {
            CompactBlock::Heap(data[..len].into())
        }
    }

    /// Replaces the content with `data` (one block), reusing the allocation when the
    /// content's length is unchanged (a full block rewritten whole).
    pub(crate) fn set(&mut self, data: &[u8]) {
        if let CompactBlock::Heap(held) = self {
            let len = held.len();
            if data[len - 1] != 0 && data[len..].iter().all(|&b| b == 0) {
                held.copy_from_slice(&data[..len]);
                return;
            }
        }
        *self = CompactBlock::new(data);
    }

    /// Fills `buf` (one block) with the block.
    pub(crate) fn read(&self, buf: &mut [u8]) {
        let content = self.content();
        buf[..content.len()].copy_from_slice(content);
        buf[content.len()..].fill(0);
    }

    /// The block's bytes up to its last non-zero byte.
    pub(crate) fn content(&self) -> &[u8] {
        match self {
            CompactBlock::Inline { len, bytes } => &bytes[..usize::from(*len)],
            CompactBlock::Heap(held) => held,
        }
    }

    /// Bytes allocated for this block beyond its entry (0 inline).
    pub(crate) fn heap_bytes(&self) -> u64 {
        match self {
            CompactBlock::Inline { .. } => 0,
            CompactBlock::Heap(held) => held.len() as u64 + ALLOCATION_OVERHEAD_BYTES,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_len_finds_the_last_non_zero_byte() {
        assert_eq!(content_len(&[0; 64]), 0);
        let mut b = [0u8; 64];
        b[0] = 1;
        assert_eq!(content_len(&b), 1);
        b[15] = 1;
        assert_eq!(content_len(&b), 16);
        b[63] = 1;
        assert_eq!(content_len(&b), 64);
        assert_eq!(content_len(&[0, 0, 3, 0, 0]), 3);
        assert_eq!(content_len(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 9]), 10);
    }

    #[test]
    fn blocks_round_trip_inline_and_on_the_heap() {
        let mut record = vec![0u8; 4096];
        record[..16].copy_from_slice(&[7; 16]);
        let mut c = CompactBlock::new(&record);
        assert!(matches!(c, CompactBlock::Inline { len: 16, .. }));
        assert_eq!(c.heap_bytes(), 0);
        let mut buf = vec![1u8; 4096];
        c.read(&mut buf);
        assert_eq!(buf, record);
        let full = vec![5u8; 4096];
        c.set(&full);
        assert_eq!(c.heap_bytes(), 4096 + ALLOCATION_OVERHEAD_BYTES);
        c.read(&mut buf);
        assert_eq!(buf, full);
        // Same length: rewritten in place; shorter: back inline.
        let mut other = vec![6u8; 4096];
        c.set(&other);
        c.read(&mut buf);
        assert_eq!(buf, other);
        other[100..].fill(0);
        c.set(&other);
        assert_eq!(c.content().len(), 100);
        c.read(&mut buf);
        assert_eq!(buf, other);
        c.set(&record);
        assert!(matches!(c, CompactBlock::Inline { len: 16, .. }));
        c.read(&mut buf);
        assert_eq!(buf, record);
    }
}
