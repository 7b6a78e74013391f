//! The sparse store against the dense one: from the same initial content, any sequence
//! of reads, writes and flushes gives the same bytes and the same errors.

use std::sync::Arc;

use engine::{BlockStore, InitialContent, MemStore, SparseStore};
use proptest::prelude::*;

/// The initial content used here: every byte a function of the block and its offset.
fn initial() -> InitialContent {
    Arc::new(|block: u64, buf: &mut [u8]| {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (block as u8).wrapping_mul(31) ^ (i as u8);
        }
    })
}

#[derive(Debug, Clone)]
enum Op {
    Read(u64),
    /// Block, content seed, bytes before the zero tail (clamped to the block).
    Write(u64, u8, usize),
    /// A buffer one word too short or too long.
    BadLength(u64, bool),
    Flush,
}

fn op(blocks: u64) -> impl Strategy<Value = Op> {
    // Blocks up to two past the end, so out-of-range calls are drawn too.
    prop_oneof![
        4 => (0..blocks + 2).prop_map(Op::Read),
        4 => (0..blocks + 2, any::<u8>(), 0usize..48).prop_map(|(b, x, n)| Op::Write(b, x, n)),
        1 => (0..blocks, any::<bool>()).prop_map(|(b, long)| Op::BadLength(b, long)),
        1 => Just(Op::Flush),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn sparse_store_matches_the_dense_store(
        words in 1usize..5,
        blocks in 1u64..24,
        ops in prop::collection::vec(op(24), 0..80),
    ) {
        let bs = words * 8;
        let fill = initial();
        let mut image = vec![0u8; bs * blocks as usize];
        for (b, chunk) in image.chunks_mut(bs).enumerate() {
            fill(b as u64, chunk);
        }
        let dense = MemStore::from_bytes(bs, &image).unwrap();
        let sparse = SparseStore::with_initial(bs, blocks, fill).unwrap();
        let mut written = std::collections::BTreeSet::new();
        for op in ops {
            match op {
                Op::Read(b) => {
                    let (mut x, mut y) = (vec![0u8; bs], vec![1u8; bs]);
                    let (rx, ry) = (dense.read_block(b, &mut x), sparse.read_block(b, &mut y));
                    prop_assert_eq!(rx.map_err(|e| e.to_string()), ry.map_err(|e| e.to_string()));
                    if b < blocks {
                        prop_assert_eq!(x, y);
                    }
                }
                Op::Write(b, v, n) => {
                    // Random bytes (some zero) up to `n`, zeros after: inline, on the
                    // heap, whole, or all zero, rewritten longer or shorter.
                    let data: Vec<u8> = (0..bs)
                        .map(|i| if i < n { (v ^ i as u8).wrapping_mul(v | 1) } else { 0 })
                        .collect();
                    let (rx, ry) = (dense.write_block(b, &data), sparse.write_block(b, &data));
                    prop_assert_eq!(rx.map_err(|e| e.to_string()), ry.map_err(|e| e.to_string()));
                    if b < blocks {
                        written.insert(b);
                    }
                }
                Op::BadLength(b, long) => {
                    let len = if long { bs + 8 } else { bs - 8 };
                    let mut x = vec![0u8; len];
                    let rx = dense.read_block(b, &mut x).map_err(|e| e.to_string());
                    let ry = sparse.read_block(b, &mut x).map_err(|e| e.to_string());
                    prop_assert!(rx.is_err());
                    prop_assert_eq!(rx, ry);
                    let wx = dense.write_block(b, &x).map_err(|e| e.to_string());
                    let wy = sparse.write_block(b, &x).map_err(|e| e.to_string());
                    prop_assert!(wx.is_err());
                    prop_assert_eq!(wx, wy);
                }
                Op::Flush => {
                    dense.flush().unwrap();
                    sparse.flush().unwrap();
                }
            }
        }
        // Whole images agree, and the sparse store holds exactly the blocks written.
        let mut all = vec![0u8; bs * blocks as usize];
        for (b, chunk) in all.chunks_mut(bs).enumerate() {
            sparse.read_block(b as u64, chunk).unwrap();
        }
        prop_assert_eq!(all, dense.to_bytes());
        prop_assert_eq!(sparse.blocks_held(), written.len() as u64);
        prop_assert_eq!(sparse.block_count(), dense.block_count());
        prop_assert_eq!(sparse.block_size(), dense.block_size());
    }
}

#[test]
fn a_record_block_costs_its_table_entry_not_its_four_kib() {
    let blocks = (1u64 << 40) / 4096;
    let s = SparseStore::new(4096, blocks).unwrap();
    // A record as the simulator writes it: an 8-byte value and a stamp whose high
    // bytes are zero.
    let mut record = vec![0u8; 4096];
    record[..11].copy_from_slice(&[0xa5; 11]);
    let n = 100_000u64;
    for b in (0..blocks).step_by((blocks / n) as usize).take(n as usize) {
        s.write_block(b, &record).unwrap();
    }
    assert_eq!(s.blocks_held(), n);
    let per_block = s.bytes_held() / n;
    assert!(
        (16..=engine::store::HELD_BLOCK_OVERHEAD_BYTES).contains(&per_block),
        "{per_block} bytes per record block"
    );
    let mut buf = vec![1u8; 4096];
    s.read_block(0, &mut buf).unwrap();
    assert_eq!(buf, record);
}

#[test]
fn a_terabyte_volume_holds_only_what_is_written() {
    let blocks = (1u64 << 40) / 4096;
    let s = SparseStore::new(4096, blocks).unwrap();
    let data = vec![7u8; 4096];
    let spread = (0..blocks).step_by(blocks as usize / 1000);
    let n = spread.clone().count() as u64;
    for b in spread {
        s.write_block(b, &data).unwrap();
    }
    assert_eq!(s.blocks_held(), n);
    assert!(s.bytes_held() < 5 << 20);
    let mut buf = vec![1u8; 4096];
    s.read_block(blocks - 1, &mut buf).unwrap();
    assert!(
        buf.iter().all(|&b| b == 0),
        "unwritten blocks of `new` read as zeros"
    );
    assert!(
        SparseStore::new(12, 4).is_err(),
        "the one block-size rule holds"
    );
    assert!(SparseStore::new(512, engine::store::SPARSE_BLOCKS_MAX).is_ok());
    assert!(
        SparseStore::new(512, engine::store::SPARSE_BLOCKS_MAX + 1).is_err(),
        "a store past the table's keys is refused"
    );
}
